// Runs the test suite (`npm test -- [vitest args]`) with a real Secret Service:
// a private D-Bus session (dbus-run-session) and a gnome-keyring-daemon whose
// `login` collection is created, unlocked and made the default, all inside a
// temporary folder. Tests that need it see AWS_VAULT_TEST_SECRET_SERVICE=1.
// Without dbus-run-session or gnome-keyring-daemon this fails loudly, unless
// AWS_VAULT_TEST_NO_SECRET_SERVICE=1 says to run without the Secret Service.
import { spawn, spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const TEST_PASSWORD = 'aws-vault-test-keyring';

function onPath(cmd) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function vitestCommand() {
  const local = join(root, 'node_modules', '.bin', 'vitest');
  return existsSync(local) ? local : 'vitest';
}

/**
 * Runs vitest with the given env; resolves with its exit code. Vitest's JSON
 * report is read afterwards to print one plain closing line
 * (`Tests: N passed, N failed, N skipped`). Under CI a run that executed no
 * test, or skipped any, fails: a skipped suite is a failed suite.
 */
async function runVitest(env) {
  const reportDir = mkdtempSync(join(tmpdir(), 'aws-vault-test-report-'));
  const report = join(reportDir, 'report.json');
  const reporters = ['--reporter=default', '--reporter=json', `--outputFile.json=${report}`];
  const code = await new Promise((resolve) => {
    const child = spawn(vitestCommand(), ['run', ...reporters, ...args], {
      stdio: 'inherit',
      env,
      cwd: root,
    });
    const forward = (signal) => child.kill(signal);
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, forward);
    child.on('exit', (code, signal) => {
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.off(s, forward);
      resolve(code ?? (signal ? 128 + 1 : 1));
    });
  });
  let summary;
  try {
    summary = JSON.parse(readFileSync(report, 'utf8'));
  } catch {
    console.error('test: FAILED: vitest wrote no report');
    return code === 0 ? 1 : code;
  } finally {
    rmSync(reportDir, { recursive: true, force: true });
  }
  const passed = summary.numPassedTests ?? 0;
  // A file that fails to load has no test results of its own: count it once.
  const brokenFiles = (summary.testResults ?? []).filter(
    (file) => file.status === 'failed' && (file.assertionResults ?? []).length === 0,
  ).length;
  const failed = (summary.numFailedTests ?? 0) + brokenFiles;
  const skipped = (summary.numPendingTests ?? 0) + (summary.numTodoTests ?? 0);
  console.log(`\nTests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  if (code !== 0) return code;
  if (passed === 0) {
    console.error('test: FAILED: no test ran');
    return 1;
  }
  if (skipped > 0 && process.env.CI === 'true') {
    console.error('test: FAILED: tests were skipped under CI (a skipped suite is a failed suite)');
    return 1;
  }
  return 0;
}

function dbusSend(env, dest, path, method, ...params) {
  const r = spawnSync(
    'dbus-send',
    ['--session', '--print-reply', `--dest=${dest}`, path, method, ...params],
    { env, encoding: 'utf8', timeout: 5000 },
  );
  return r.status === 0 ? r.stdout : undefined;
}

async function outer() {
  if (process.env.AWS_VAULT_TEST_NO_SECRET_SERVICE === '1') {
    console.error(
      'test: AWS_VAULT_TEST_NO_SECRET_SERVICE=1: running WITHOUT the Secret Service tests',
    );
    const env = { ...process.env };
    delete env.AWS_VAULT_TEST_SECRET_SERVICE;
    process.exit(await runVitest(env));
  }
  const missing = ['dbus-run-session', 'dbus-send', 'gnome-keyring-daemon'].filter(
    (c) => !onPath(c),
  );
  if (missing.length > 0) {
    console.error(
      `\ntest: FAILED: ${missing.join(', ')} not found. The Secret Service tests need them:\n` +
        '  apt-get install gnome-keyring dbus dbus-x11 libsecret-tools\n' +
        'or set AWS_VAULT_TEST_NO_SECRET_SERVICE=1 to run the suite without them (not for CI).\n',
    );
    process.exit(1);
  }
  // Everything the daemon (and any service D-Bus activates) writes goes here,
  // never into the developer's real home.
  const base = mkdtempSync(join(tmpdir(), 'aws-vault-test-keyring-'));
  const dirs = { data: join(base, 'data'), cache: join(base, 'cache'), run: join(base, 'run') };
  for (const d of Object.values(dirs)) mkdirSync(d, { mode: 0o700 });
  const env = {
    ...process.env,
    AWS_VAULT_TEST_INNER: '1',
    AWS_VAULT_TEST_KEYRING_HOME: base,
    XDG_DATA_HOME: dirs.data,
    XDG_CACHE_HOME: dirs.cache,
    XDG_RUNTIME_DIR: dirs.run,
  };
  delete env.DBUS_SESSION_BUS_ADDRESS;
  const code = await new Promise((resolve) => {
    const child = spawn(
      'dbus-run-session',
      ['--', process.execPath, fileURLToPath(import.meta.url), ...args],
      {
        stdio: 'inherit',
        env,
      },
    );
    const forward = (signal) => child.kill(signal);
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, forward);
    child.on('exit', (c) => resolve(c ?? 1));
  });
  rmSync(base, { recursive: true, force: true });
  process.exit(code);
}

async function inner() {
  const base = process.env.AWS_VAULT_TEST_KEYRING_HOME;
  const daemonEnv = { ...process.env, HOME: join(base, 'home') };
  mkdirSync(daemonEnv.HOME, { recursive: true, mode: 0o700 });
  const daemon = spawn(
    'gnome-keyring-daemon',
    ['--foreground', '--unlock', '--components=secrets'],
    {
      env: daemonEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let daemonOut = '';
  daemon.stdout.setEncoding('utf8').on('data', (d) => (daemonOut += d));
  daemon.stderr.setEncoding('utf8').on('data', (d) => (daemonOut += d));
  // The password creates (and unlocks) the `login` collection.
  daemon.stdin.end(TEST_PASSWORD);
  let daemonExited = false;
  daemon.on('exit', () => (daemonExited = true));

  const env = { ...process.env };
  const login = '/org/freedesktop/secrets/collection/login';
  const deadline = Date.now() + 15_000;
  let ready = false;
  while (Date.now() < deadline && !daemonExited) {
    const owner = dbusSend(
      env,
      'org.freedesktop.DBus',
      '/org/freedesktop/DBus',
      'org.freedesktop.DBus.NameHasOwner',
      'string:org.freedesktop.secrets',
    );
    if (owner?.includes('boolean true')) {
      const alias = dbusSend(
        env,
        'org.freedesktop.secrets',
        '/org/freedesktop/secrets',
        'org.freedesktop.Secret.Service.ReadAlias',
        'string:default',
      );
      if (alias?.includes(`"${login}"`)) {
        ready = true;
        break;
      }
      if (alias?.includes('object path "/"')) {
        dbusSend(
          env,
          'org.freedesktop.secrets',
          '/org/freedesktop/secrets',
          'org.freedesktop.Secret.Service.SetAlias',
          'string:default',
          `objpath:${login}`,
        );
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!ready) {
    console.error(
      `test: FAILED: gnome-keyring-daemon did not provide an unlocked default collection.\n${daemonOut}`,
    );
    daemon.kill('SIGTERM');
    process.exit(1);
  }
  // Export what the daemon printed (GNOME_KEYRING_CONTROL=...).
  for (const line of daemonOut.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2];
  }
  delete env.AWS_VAULT_TEST_INNER;
  env.AWS_VAULT_TEST_SECRET_SERVICE = '1';
  const code = await runVitest(env);
  daemon.kill('SIGTERM');
  await new Promise((r) => (daemonExited ? r() : daemon.once('exit', r)));
  process.exit(code);
}

if (process.env.AWS_VAULT_TEST_INNER === '1') await inner();
else await outer();

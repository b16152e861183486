// Runs the test suite (`npm test -- [vitest args]`) with a real Secret Service:
// a private D-Bus session (dbus-run-session) and a gnome-keyring-daemon whose
// `login` collection is created, unlocked and made the default, all inside a
// temporary folder (scripts/secretService.mjs). Tests that need it see
// AWS_VAULT_TEST_SECRET_SERVICE=1.
// Without dbus-run-session or gnome-keyring-daemon this fails loudly, unless
// AWS_VAULT_TEST_NO_SECRET_SERVICE=1 says to run without the Secret Service.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  inPrivateSession,
  missingSecretServiceTools,
  runForwardingSignals,
  runInPrivateSession,
  startGnomeKeyring,
} from './secretService.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);

function vitestCommand() {
  const local = join(root, 'node_modules', '.bin', 'vitest');
  return existsSync(local) ? local : 'vitest';
}

/**
 * Runs vitest with the given env (and `files` instead of the command line's
 * arguments, when given); resolves with its exit code and the test files
 * that failed. Vitest's JSON
 * report is read afterwards to print one plain closing line
 * (`Tests: N passed, N failed, N skipped`). Under CI a run that executed no
 * test, or skipped any, fails: a skipped suite is a failed suite.
 */
async function runVitest(env, files) {
  const reportDir = mkdtempSync(join(tmpdir(), 'aws-vault-test-report-'));
  const report = join(reportDir, 'report.json');
  const reporters = ['--reporter=default', '--reporter=json', `--outputFile.json=${report}`];
  const { code: exitCode, signal } = await runForwardingSignals(
    vitestCommand(),
    ['run', ...reporters, ...(files ?? args)],
    { env, cwd: root },
  );
  const code = exitCode ?? (signal ? 128 + 1 : 1);
  let summary;
  try {
    summary = JSON.parse(readFileSync(report, 'utf8'));
  } catch {
    console.error('test: FAILED: vitest wrote no report');
    return { code: code === 0 ? 1 : code, failedFiles: undefined };
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
  const failedFiles = (summary.testResults ?? [])
    .filter((file) => file.status === 'failed')
    .map((file) => file.name);
  console.log(`\nTests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  const result = (c) => ({ code: c, failedFiles });
  if (code !== 0) return result(code);
  if (passed === 0) {
    console.error('test: FAILED: no test ran');
    return result(1);
  }
  if (skipped > 0 && process.env.CI === 'true') {
    console.error('test: FAILED: tests were skipped under CI (a skipped suite is a failed suite)');
    return result(1);
  }
  return result(0);
}

async function outer() {
  if (process.env.AWS_VAULT_TEST_NO_SECRET_SERVICE === '1') {
    console.error(
      'test: AWS_VAULT_TEST_NO_SECRET_SERVICE=1: running WITHOUT the Secret Service tests',
    );
    const env = { ...process.env };
    delete env.AWS_VAULT_TEST_SECRET_SERVICE;
    process.exit((await runVitest(env)).code);
  }
  const missing = missingSecretServiceTools();
  if (missing.length > 0) {
    console.error(
      `\ntest: FAILED: ${missing.join(', ')} not found. The Secret Service tests need them:\n` +
        '  apt-get install gnome-keyring dbus dbus-x11 libsecret-tools\n' +
        'or set AWS_VAULT_TEST_NO_SECRET_SERVICE=1 to run the suite without them (not for CI).\n',
    );
    process.exit(1);
  }
  process.exit(
    await runInPrivateSession(fileURLToPath(import.meta.url), args, 'aws-vault-test-keyring-'),
  );
}

async function inner() {
  let keyring;
  try {
    keyring = await startGnomeKeyring();
  } catch (error) {
    console.error(`test: FAILED: ${error.message}`);
    process.exit(1);
  }
  const env = { ...keyring.env, AWS_VAULT_TEST_SECRET_SERVICE: '1' };
  let { code, failedFiles } = await runVitest(env);
  // On a failed run, what gnome-keyring said (warnings, a refused prompt) may explain it.
  const said = keyring.output().trim();
  if (code !== 0 && said !== '') console.error(`\ntest: gnome-keyring-daemon said:\n${said}`);
  // gnome-keyring-daemon (42 to 50.0 at least) can abort on a race of its own
  // when a client leaves mid-call (a test's process killed at its timeout, a
  // busy machine): every test that used it afterwards failed for that alone.
  // Once, on a new daemon, the files that failed run again; anything that
  // fails again fails the run.
  if (code !== 0 && keyring.crashed() && failedFiles !== undefined && failedFiles.length > 0) {
    console.error(
      `\ntest: gnome-keyring-daemon crashed during the run (above); running the ${failedFiles.length} test file(s) that failed again, once, on a new daemon:\n  ${failedFiles.join('\n  ')}\n`,
    );
    try {
      keyring = await startGnomeKeyring();
    } catch (error) {
      console.error(`test: FAILED: ${error.message}`);
      process.exit(1);
    }
    ({ code } = await runVitest(
      { ...keyring.env, AWS_VAULT_TEST_SECRET_SERVICE: '1' },
      failedFiles,
    ));
    const again = keyring.output().trim();
    if (code !== 0 && again !== '') console.error(`\ntest: gnome-keyring-daemon said:\n${again}`);
  }
  await keyring.stop();
  process.exit(code);
}

if (inPrivateSession()) await inner();
else await outer();

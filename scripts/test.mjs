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
 * Runs vitest with the given env; resolves with its exit code. Vitest's JSON
 * report is read afterwards to print one plain closing line
 * (`Tests: N passed, N failed, N skipped`). Under CI a run that executed no
 * test, or skipped any, fails: a skipped suite is a failed suite.
 */
async function runVitest(env) {
  const reportDir = mkdtempSync(join(tmpdir(), 'aws-vault-test-report-'));
  const report = join(reportDir, 'report.json');
  const reporters = ['--reporter=default', '--reporter=json', `--outputFile.json=${report}`];
  const { code: exitCode, signal } = await runForwardingSignals(
    vitestCommand(),
    ['run', ...reporters, ...args],
    { env, cwd: root },
  );
  const code = exitCode ?? (signal ? 128 + 1 : 1);
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

async function outer() {
  if (process.env.AWS_VAULT_TEST_NO_SECRET_SERVICE === '1') {
    console.error(
      'test: AWS_VAULT_TEST_NO_SECRET_SERVICE=1: running WITHOUT the Secret Service tests',
    );
    const env = { ...process.env };
    delete env.AWS_VAULT_TEST_SECRET_SERVICE;
    process.exit(await runVitest(env));
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
  const code = await runVitest(env);
  // On a failed run, what gnome-keyring said (warnings, a refused prompt) may explain it.
  const said = keyring.output().trim();
  if (code !== 0 && said !== '') console.error(`\ntest: gnome-keyring-daemon said:\n${said}`);
  await keyring.stop();
  process.exit(code);
}

if (inPrivateSession()) await inner();
else await outer();

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writePrivateBusConfig } from '../../scripts/secretService.mjs';

/**
 * Whether the real Secret Service (started by scripts/test.mjs) is there.
 * Run through `npm test`, it always is; a test that needs it and finds it
 * missing fails, unless AWS_VAULT_TEST_NO_SECRET_SERVICE=1 says to skip.
 */
export function secretServiceAvailable(): boolean {
  if (process.env.AWS_VAULT_TEST_SECRET_SERVICE === '1') return true;
  if (process.env.AWS_VAULT_TEST_NO_SECRET_SERVICE === '1') return false;
  throw new Error(
    'no Secret Service for the tests: run them with `npm test -- <paths>` (scripts/test.mjs starts gnome-keyring), or set AWS_VAULT_TEST_NO_SECRET_SERVICE=1 to skip these tests',
  );
}

/** A key prefix no other test uses: the Secret Service is shared by the whole run. */
export function uniquePrefix(label: string): string {
  return `test-${label}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * A shell script for `dbus-run-session -- sh -c`: starts a private
 * gnome-keyring whose unlocked `login` collection is the default (waiting
 * for it to own its bus name, and setting the alias when the daemon is slow
 * to, as scripts/secretService.mjs does),
 * then runs `body`. For tests that lock a collection: the keyring of the
 * test run is shared and must stay unlocked.
 */
export function privateKeyringScript(body: string): string {
  return `
    set -e
    printf pw | gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>&1 &
    GK=$!
    trap 'kill $GK' EXIT
    for i in $(seq 1 200); do
      # Ask the bus first: a call to org.freedesktop.secrets before our
      # daemon owns the name would have D-Bus start another one (without
      # the password, so without an unlocked login collection).
      owner=$(dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null || true)
      case "$owner" in *'boolean true'*) ;; *) sleep 0.05; continue ;; esac
      alias=$(dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets org.freedesktop.Secret.Service.ReadAlias string:default 2>/dev/null || true)
      case "$alias" in
        *collection/login*) break ;;
        *'object path "/"'*) dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets org.freedesktop.Secret.Service.SetAlias string:default objpath:/org/freedesktop/secrets/collection/login >/dev/null 2>&1 || true ;;
      esac
      sleep 0.05
    done
    ${body}
  `;
}

/**
 * The arguments of `dbus-run-session` that run `script` (from
 * privateKeyringScript) on a private bus in `dir`, one that starts no
 * service on demand: nothing but the script's own daemon can answer.
 */
export function privateSessionArgs(dir: string, script: string): string[] {
  return [`--config-file=${writePrivateBusConfig(dir)}`, '--', 'sh', '-c', script];
}

/** The shell line that locks the private keyring's `login` collection. */
export const LOCK_LOGIN_COLLECTION =
  'dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets org.freedesktop.Secret.Service.Lock array:objpath:/org/freedesktop/secrets/collection/login >/dev/null';

/**
 * The environment for a private keyring session under `dir` (see
 * privateKeyringScript): its own HOME and XDG folders (created, 0700), and
 * none of the test run's bus.
 */
export function privateKeyringEnv(dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: dir,
    XDG_DATA_HOME: join(dir, 'data'),
    XDG_RUNTIME_DIR: join(dir, 'run'),
  };
  delete env.DBUS_SESSION_BUS_ADDRESS;
  delete env.GNOME_KEYRING_CONTROL;
  mkdirSync(env.XDG_RUNTIME_DIR as string, { recursive: true, mode: 0o700 });
  mkdirSync(env.XDG_DATA_HOME as string, { recursive: true, mode: 0o700 });
  return env;
}

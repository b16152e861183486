// A private, real Secret Service for the tests (scripts/test.mjs) and the
// benchmark (bench/): a script re-runs itself under dbus-run-session with
// XDG_DATA_HOME / XDG_CACHE_HOME / XDG_RUNTIME_DIR in a temporary folder, and
// inside that session starts gnome-keyring-daemon with an unlocked `login`
// collection as the default. Nothing reaches the developer's own keyring: the
// bus, the daemon and everything it writes live and die with the folder.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** The commands a private Secret Service needs. */
export const SECRET_SERVICE_TOOLS = ['dbus-run-session', 'dbus-send', 'gnome-keyring-daemon'];

// Set in the re-run script's environment: the private session's folder.
const SESSION_DIR = 'AWS_VAULT_SECRET_SERVICE_SESSION_DIR';
// The keyring is thrown away with the folder: any password will do.
const KEYRING_PASSWORD = 'aws-vault-test-keyring';
const LOGIN = '/org/freedesktop/secrets/collection/login';
const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];

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

/** The SECRET_SERVICE_TOOLS that are not on PATH (empty when all are). */
export function missingSecretServiceTools() {
  return SECRET_SERVICE_TOOLS.filter((cmd) => !onPath(cmd));
}

/** True in a script that runInPrivateSession re-ran under dbus-run-session. */
export function inPrivateSession() {
  return process.env[SESSION_DIR] !== undefined;
}

/**
 * Spawns a command with inherited stdio, forwarding SIGINT, SIGTERM and
 * SIGHUP to it while it runs; resolves to its exit `{ code, signal }`.
 */
export function runForwardingSignals(file, args, options) {
  return new Promise((resolve) => {
    const child = spawn(file, args, { ...options, stdio: 'inherit' });
    const forward = (signal) => child.kill(signal);
    for (const s of FORWARDED_SIGNALS) process.on(s, forward);
    child.on('exit', (code, signal) => {
      for (const s of FORWARDED_SIGNALS) process.off(s, forward);
      resolve({ code, signal });
    });
  });
}

/**
 * Writes, in the folder `dir`, the configuration of a private session bus
 * that listens in `dir` and starts no service on demand, and returns its
 * path (for `dbus-run-session --config-file=`). The standard session bus
 * would start a second gnome-keyring-daemon, without the password, whenever
 * ours is not (or no longer) on the bus, and that one's locked collection
 * would have every call wait for a desktop prompt that never comes: here
 * such a call fails at once with ServiceUnknown instead.
 */
export function writePrivateBusConfig(dir) {
  const path = join(dir, 'session-bus.conf');
  writeFileSync(
    path,
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:dir=${dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`,
    { mode: 0o600 },
  );
  return path;
}

/**
 * Re-runs the Node script `script` with `args` under dbus-run-session, in a
 * fresh temporary folder (named `prefix`...) holding its XDG data, cache and
 * runtime folders; removes the folder afterwards. Resolves to the script's
 * exit code. Check missingSecretServiceTools() first.
 */
export async function runInPrivateSession(script, args, prefix) {
  const base = mkdtempSync(join(tmpdir(), prefix));
  const dirs = { data: join(base, 'data'), cache: join(base, 'cache'), run: join(base, 'run') };
  for (const d of Object.values(dirs)) mkdirSync(d, { mode: 0o700 });
  const env = {
    ...process.env,
    [SESSION_DIR]: base,
    XDG_DATA_HOME: dirs.data,
    XDG_CACHE_HOME: dirs.cache,
    XDG_RUNTIME_DIR: dirs.run,
  };
  delete env.DBUS_SESSION_BUS_ADDRESS;
  try {
    const { code } = await runForwardingSignals(
      'dbus-run-session',
      [`--config-file=${writePrivateBusConfig(base)}`, '--', process.execPath, script, ...args],
      { env },
    );
    return code ?? 1;
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

function dbusSend(env, dest, path, method, ...params) {
  const r = spawnSync(
    'dbus-send',
    ['--session', '--print-reply', `--dest=${dest}`, path, method, ...params],
    { env, encoding: 'utf8', timeout: 5000 },
  );
  return r.status === 0 ? r.stdout : undefined;
}

/**
 * Inside a private session: starts gnome-keyring-daemon (secrets only) and
 * waits, up to 15 s, until its `login` collection exists unlocked and is the
 * `default` alias (setting the alias when the daemon left it empty). Resolves
 * to `{ env, stop, output, crashed }`: the environment for the processes that use it
 * (this one's, with what the daemon printed, such as GNOME_KEYRING_CONTROL,
 * and without the session marker), a function that stops the daemon, and one
 * that returns everything the daemon printed so far. Rejects with the
 * daemon's output when it is not ready in time. A daemon that exits while in
 * use is reported on stderr at once, with its output, and crashed() says so
 * afterwards. Called again in the same session, it starts a daemon on the
 * same keyring files (unlocked with the same password).
 */
export async function startGnomeKeyring() {
  const base = process.env[SESSION_DIR];
  if (base === undefined) throw new Error('startGnomeKeyring: not inside runInPrivateSession');
  const daemonEnv = { ...process.env, HOME: join(base, 'home') };
  mkdirSync(daemonEnv.HOME, { recursive: true, mode: 0o700 });
  const daemon = spawn(
    'gnome-keyring-daemon',
    ['--foreground', '--unlock', '--components=secrets'],
    { env: daemonEnv, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let daemonOut = '';
  daemon.stdout.setEncoding('utf8').on('data', (d) => (daemonOut += d));
  daemon.stderr.setEncoding('utf8').on('data', (d) => (daemonOut += d));
  // The password creates (and unlocks) the `login` collection.
  daemon.stdin.end(KEYRING_PASSWORD);
  let daemonExited = false;
  let stopping = false;
  daemon.on('exit', (code, signal) => {
    daemonExited = true;
    if (!stopping) {
      console.error(
        `\nsecret service: gnome-keyring-daemon (pid ${daemon.pid}) exited with ${signal ?? `code ${code}`} while in use; its output:\n${daemonOut}`,
      );
    }
  });
  const stop = async () => {
    stopping = true;
    if (!daemonExited) daemon.kill('SIGTERM');
    await new Promise((r) => (daemonExited ? r() : daemon.once('exit', r)));
  };

  const env = { ...process.env };
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
      if (alias?.includes(`"${LOGIN}"`)) {
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
          `objpath:${LOGIN}`,
        );
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!ready) {
    await stop();
    throw new Error(
      `gnome-keyring-daemon did not provide an unlocked default collection.\n${daemonOut}`,
    );
  }
  // Export what the daemon printed (GNOME_KEYRING_CONTROL=...).
  for (const line of daemonOut.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2];
  }
  delete env[SESSION_DIR];
  return { env, stop, output: () => daemonOut, crashed: () => daemonExited && !stopping };
}

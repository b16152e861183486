import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writePrivateBusConfig } from '../../../scripts/secretService.mjs';
import { openBackend } from '../../../src/keyring/openBackend.ts';
import {
  LOCK_LOGIN_COLLECTION,
  privateKeyringEnv,
  privateKeyringScript,
  privateSessionArgs,
  secretServiceAvailable,
} from '../../helpers/secretService.ts';

const probe = new URL('./fixtures/openBackendProbe.ts', import.meta.url).pathname;
let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'aws-vault-open-'));
});
afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function baseEnv(): NodeJS.ProcessEnv {
  return privateKeyringEnv(tmp);
}

function runProbe(env: NodeJS.ProcessEnv, ...args: string[]): Record<string, string> {
  const r = spawnSync(process.execPath, [probe, ...args], {
    env,
    encoding: 'utf8',
    timeout: 20_000,
  });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as Record<string, string>;
}

describe('openBackend', () => {
  it('rejects an unknown backend name', async () => {
    await expect(
      openBackend({ backend: 'vault9' as never, fileDir: tmp, debug: () => undefined }),
    ).rejects.toThrow(
      /unknown backend "vault9"; choose one of: keychain, wincred, secret-service, file, pass/,
    );
  });

  it("refuses the other platforms' keychains with a hint", async () => {
    await expect(
      openBackend({ backend: 'keychain', fileDir: tmp, debug: () => undefined }),
    ).rejects.toThrow(/macOS only; use --backend=file/);
    await expect(
      openBackend({ backend: 'wincred', fileDir: tmp, debug: () => undefined }),
    ).rejects.toThrow(/Windows only; use --backend=file/);
  });

  it('without a session bus (SSH, servers) defaults to file, and secret-service says what to do', () => {
    expect(runProbe(baseEnv())).toEqual({ name: 'file' });
    expect(runProbe(baseEnv(), 'secret-service').open).toMatch(
      /^error UserError: secret-service backend: no D-Bus session bus .*use --backend=file$/,
    );
  });

  it('with a session bus but no Secret Service, defaults to file, and secret-service says what to do', async () => {
    const conf = writePrivateBusConfig(tmp);
    const daemon = spawn(
      'dbus-daemon',
      [`--config-file=${conf}`, '--nofork', '--print-address=1'],
      {
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    try {
      const address = await new Promise<string>((resolve) => {
        let out = '';
        daemon.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) resolve(out.trim());
        });
      });
      const env = { ...baseEnv(), DBUS_SESSION_BUS_ADDRESS: address };
      expect(runProbe(env)).toEqual({ name: 'file' });
      expect(runProbe(env, 'secret-service').open).toBe(
        'error UserError: secret-service backend: no Secret Service on the session bus (is gnome-keyring or KWallet running?); use --backend=file',
      );
    } finally {
      daemon.kill('SIGTERM');
    }
  });
});

describe.skipIf(!secretServiceAvailable())('openBackend with a locked collection', () => {
  it('says the collection is locked instead of showing an empty vault', () => {
    // A private session bus and keyring daemon, so the shared one stays unlocked.
    const env = baseEnv();
    const script = privateKeyringScript(`
      PROBE_OPS=1 "$NODE" "$PROBE" secret-service
      echo
      ${LOCK_LOGIN_COLLECTION}
      PROBE_OPS=1 "$NODE" "$PROBE" secret-service
      echo
      PROBE_OPS=1 PROBE_ONESHOT=1 "$NODE" "$PROBE" secret-service
      echo
      PROBE_OPS=1 PROBE_ONESHOT=1 "$NODE" "$PROBE" default
      echo
      PROBE_OPS=1 PROBE_COLLECTION=login "$NODE" "$PROBE" secret-service
      echo
      PROBE_OPS=1 PROBE_ONESHOT=1 PROBE_COLLECTION=Login "$NODE" "$PROBE" secret-service
    `);
    const r = spawnSync('dbus-run-session', privateSessionArgs(tmp, script), {
      env: { ...env, NODE: process.execPath, PROBE: probe },
      encoding: 'utf8',
      timeout: 30_000,
    });
    const [unlocked, locked, oneShot, oneShotDefault, byGoName, byLabel] = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string>);
    expect(unlocked).toEqual({
      name: 'secret-service',
      set: 'ok undefined',
      get: 'ok "v"',
      keys: 'ok ["probe-key"]',
    });
    const lockedMessage =
      /^error UserError: secret-service backend: the keyring collection "Login" is locked; unlock it/;
    expect(locked?.get).toMatch(lockedMessage);
    expect(locked?.keys).toMatch(lockedMessage);
    expect(locked?.set).toMatch(lockedMessage);
    // As the fast path opens it: the same error, and the default backend
    // does not fall back to the file store (where the keys are not).
    // Named, by the Go aws-vault's name (its path) or by its label: the same.
    for (const report of [oneShot, oneShotDefault, byGoName, byLabel]) {
      expect(report?.name).toBe('secret-service');
      expect(report?.get).toMatch(lockedMessage);
      expect(report?.keys).toMatch(lockedMessage);
    }
  }, 40_000);
});

describe.skipIf(!secretServiceAvailable())('openBackend with no default collection', () => {
  it('says the Secret Service has no default collection instead of showing an empty vault', () => {
    // A keyring daemon that was never given a login password has no login
    // collection and no default alias (only its in-memory `session` one).
    const script = `
      set -e
      gnome-keyring-daemon --foreground --components=secrets >/dev/null 2>&1 &
      GK=$!
      trap 'kill $GK' EXIT
      for i in $(seq 1 200); do
        owner=$(dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null || true)
        case "$owner" in *'boolean true'*) break ;; esac
        sleep 0.05
      done
      PROBE_OPS=1 "$NODE" "$PROBE" secret-service
      echo
      PROBE_OPS=1 PROBE_ONESHOT=1 "$NODE" "$PROBE" default
    `;
    const r = spawnSync('dbus-run-session', privateSessionArgs(tmp, script), {
      env: { ...baseEnv(), NODE: process.execPath, PROBE: probe },
      encoding: 'utf8',
      timeout: 30_000,
    });
    const reports = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string>);
    expect(reports).toHaveLength(2);
    const message =
      'error UserError: secret-service backend: the Secret Service has no default collection (keyring); create one in your desktop session, name one with --secret-service-collection, or use --backend=file';
    for (const report of reports) {
      expect(report.name).toBe('secret-service');
      expect(report.get).toBe(message);
      expect(report.keys).toBe(message);
    }
  }, 40_000);
});

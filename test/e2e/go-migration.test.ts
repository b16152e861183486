import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  privateKeyringEnv,
  privateKeyringScript,
  privateSessionArgs,
  secretServiceAvailable,
} from '../helpers/secretService.ts';
import { goKeychainFile } from '../../src/keyring/osKeyringBackend.ts';
import { BIN } from './_runCli.ts';

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'aws-vault-go-move-'));
});
afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

const HINT =
  'the Go aws-vault keeps its keys in the Secret Service collection "awsvault", which this aws-vault does not read: copy them across once (README: "Moving from the Go aws-vault")';

/**
 * Runs the commands (one per line of output) on a private keyring, with the
 * Go aws-vault's `awsvault` collection there when `goCollection`: a keyring
 * file gnome-keyring loads at start (its plain, password-less form).
 */
function runOnPrivateKeyring(goCollection: boolean, commands: string[][]): string[] {
  const env = privateKeyringEnv(tmp);
  const keyrings = join(env.XDG_DATA_HOME as string, 'keyrings');
  mkdirSync(keyrings, { recursive: true, mode: 0o700 });
  if (goCollection) {
    writeFileSync(
      join(keyrings, 'awsvault.keyring'),
      '[keyring]\ndisplay-name=awsvault\nctime=1700000000\nmtime=0\nlock-on-idle=false\nlock-after=false\n',
      { mode: 0o600 },
    );
  }
  mkdirSync(join(tmp, '.aws'), { recursive: true });
  writeFileSync(join(tmp, '.aws', 'config'), '[profile prod]\nregion = eu-west-1\n');
  const lines = commands.map(
    (args) =>
      `"$NODE" "$BIN" ${args.map((a) => `'${a}'`).join(' ')} 2>&1 </dev/null | tr '\\n' ' '; echo`,
  );
  const r = spawnSync(
    'dbus-run-session',
    privateSessionArgs(tmp, privateKeyringScript(lines.join('\n'))),
    {
      env: {
        ...env,
        NODE: process.execPath,
        BIN,
        AWS_CONFIG_FILE: join(tmp, '.aws', 'config'),
        AWS_VAULT_BACKEND: 'secret-service',
        AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      },
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  expect(r.status).toBe(0);
  return r.stdout.trimEnd().split('\n');
}

const COMMANDS = [
  ['exec', 'prod', '--', 'true'],
  ['export', '--format=json', 'prod'],
  ['login', '--stdout', 'prod'],
  ['remove', '--force', 'prod'],
  ['exec', 'nope', '--', 'true'],
];

describe.runIf(secretServiceAvailable())('moving from the Go aws-vault (secret-service)', () => {
  it("a missing key's error says where the Go aws-vault's keys are, when its collection is there", () => {
    const out = runOnPrivateKeyring(true, COMMANDS);
    expect(out).toHaveLength(COMMANDS.length);
    for (const [index, line] of out.entries()) {
      const command = COMMANDS[index]?.[0] as string;
      expect(line).toMatch(new RegExp(`^aws-vault: error: ${command}: `));
      expect(line).toMatch(/no credentials/);
      expect(line.trimEnd().endsWith(`; ${HINT}`)).toBe(true);
    }
  }, 60_000);

  it('list with no keys notes where the Go aws-vault keeps its keys, when it is there', () => {
    const lists = [['list'], ['list', '--credentials']];
    for (const line of runOnPrivateKeyring(true, lists)) {
      expect(line).toContain(`aws-vault: note: ${HINT}`);
    }
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    for (const line of runOnPrivateKeyring(false, lists))
      expect(line).not.toContain('Go aws-vault');
  }, 60_000);

  it('says nothing of it without that collection', () => {
    const out = runOnPrivateKeyring(false, COMMANDS);
    expect(out).toHaveLength(COMMANDS.length);
    for (const line of out) {
      expect(line).toMatch(/no credentials/);
      expect(line).not.toContain('Go aws-vault');
    }
  }, 60_000);
});

describe('moving from the Go aws-vault (macOS keychain)', () => {
  it("finds the Go aws-vault's own keychain file", () => {
    expect(goKeychainFile(tmp)).toBeUndefined();
    expect(goKeychainFile(undefined)).toBeUndefined();
    const keychains = join(tmp, 'Library', 'Keychains');
    mkdirSync(keychains, { recursive: true });
    writeFileSync(join(keychains, 'login.keychain-db'), '');
    expect(goKeychainFile(tmp)).toBeUndefined();
    writeFileSync(join(keychains, 'aws-vault.keychain-db'), '');
    expect(goKeychainFile(tmp)).toBe(join(keychains, 'aws-vault.keychain-db'));
  });
});

// The Go aws-vault's file store opens unchanged.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  copyGoFixture,
  GO_FIXTURE,
  GO_FIXTURE_PASSPHRASE,
  makeTempHome,
  runCli,
  type TempHome,
} from './_runCli.ts';

const homes: TempHome[] = [];
afterEach(() => {
  for (const h of homes.splice(0)) h.cleanup();
});

function fixtureHome(): TempHome {
  const home = makeTempHome({ passphrase: GO_FIXTURE_PASSPHRASE });
  homes.push(home);
  copyGoFixture(home.fileDir);
  return home;
}

describe('the Go aws-vault file store', () => {
  it('list shows both profiles', async () => {
    const home = fixtureHome();
    const creds = await runCli(['list', '--credentials'], { env: home.env() });
    expect(creds).toMatchObject({ exitCode: 0, stderr: '' });
    expect(creds.stdout.split('\n').filter(Boolean).sort()).toEqual(['interop', 'team/dev prod']);
    const table = await runCli(['list'], { env: home.env() });
    expect(table.stdout).toMatch(/^- {24}interop {18}- +$/m);
    expect(table.stdout).toMatch(/^- {24}team\/dev prod {12}- +$/m);
  });

  it('list needs no passphrase, as in the Go aws-vault; --json (key ages) does', async () => {
    const home = fixtureHome();
    const env = home.env({ AWS_VAULT_FILE_PASSPHRASE: undefined });
    const table = await runCli(['list'], { env });
    expect(table).toMatchObject({ exitCode: 0, stderr: '' });
    expect(table.stdout).toContain('team/dev prod');
    const json = await runCli(['list', '--json'], { env, timeout: 10_000 });
    expect(json.exitCode).toBe(1);
    expect(json.stderr).toMatch(/^aws-vault: error: list: .*AWS_VAULT_FILE_PASSPHRASE/);
  });

  it('export --no-session --format=json prints the second key', async () => {
    const home = fixtureHome();
    const r = await runCli(['export', '--no-session', '--format=json', 'team/dev prod'], {
      env: home.env(),
    });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({
      Version: 1,
      AccessKeyId: 'AKIAINTEROPEXAMPLE02',
      SecretAccessKey: 'interopSecretKey/With+Symbols=0002',
    });
  });

  it('a wrong passphrase is a clear error and changes nothing', async () => {
    const home = fixtureHome();
    const before = snapshot(home.fileDir);
    const wrong = home.env({ AWS_VAULT_FILE_PASSPHRASE: 'wrong' });
    // The table needs no secret (as in the Go aws-vault): it is printed
    // without key ages, and stderr says why. --json, which has them, fails.
    const table = await runCli(['list'], { env: wrong });
    const right = await runCli(['list'], { env: home.env() });
    expect(table.exitCode).toBe(0);
    expect(table.stdout).toBe(right.stdout);
    expect(table.stderr).toMatch(
      /^aws-vault: note: key ages not shown: wrong passphrase for the file backend in .* \(nothing was changed\); check AWS_VAULT_FILE_PASSPHRASE\n$/,
    );
    const r = await runCli(['list', '--json'], { env: wrong });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^aws-vault: error: list: .*passphrase/i);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const rm = await runCli(['remove', '-f', 'interop'], {
      env: home.env({ AWS_VAULT_FILE_PASSPHRASE: 'wrong' }),
    });
    expect(rm.exitCode).toBe(1);
    const add = await runCli(['add', '--env', 'interop'], {
      env: home.env({
        AWS_VAULT_FILE_PASSPHRASE: 'wrong',
        AWS_ACCESS_KEY_ID: 'AKIAOTHER',
        AWS_SECRET_ACCESS_KEY: 'other',
      }),
    });
    expect(add.exitCode).toBe(1);
    expect(snapshot(home.fileDir)).toEqual(before);
    expect(readdirSync(home.fileDir).sort()).toEqual(readdirSync(join(GO_FIXTURE, 'keys')).sort());
  });
});

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    out[name] = `${statSync(path).mode.toString(8)} ${readFileSync(path, 'base64')}`;
  }
  return out;
}

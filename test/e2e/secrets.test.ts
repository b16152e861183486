// No secret ever lands in plaintext under HOME or the file store, nor in --debug output.
import { readFileSync, statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTempHome, runCli, type TempHome } from './_runCli.ts';
import { fakeKeys } from './_vault.ts';

const homes: TempHome[] = [];
afterEach(() => {
  for (const h of homes.splice(0)) h.cleanup();
});

describe('secrets', () => {
  it('are not in any file or in --debug output after add, list, remove', async () => {
    const passphrase = 'pass phrase 7f3a';
    const home = makeTempHome({ passphrase, config: '[profile existing]\nregion = eu-west-1\n' });
    homes.push(home);
    const keys = fakeKeys();
    const env = home.env({
      AWS_ACCESS_KEY_ID: keys.accessKeyId,
      AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
    });
    const outputs: string[] = [];
    const run = async (args: string[]) => {
      const r = await runCli(['--debug', ...args], { env });
      outputs.push(r.stdout, r.stderr);
      expect(r.exitCode, r.stderr).toBe(0);
      return r;
    };
    await run(['add', '--env', 'p1']);
    await run(['add', '--env', 'existing']);
    await run(['list']);
    await run(['list', '--json']);

    const files = home.allFiles();
    expect(files.length).toBeGreaterThan(2);
    const needles = [keys.secretAccessKey, keys.accessKeyId, passphrase];
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const needle of needles) {
        for (const form of [needle, Buffer.from(needle).toString('base64')]) {
          expect(bytes.includes(form), `${needle} in ${file}`).toBe(false);
        }
      }
      if (file.startsWith(home.fileDir)) expect(statSync(file).mode & 0o777).toBe(0o600);
    }
    expect(statSync(home.fileDir).mode & 0o777).toBe(0o700);

    await run(['remove', '-f', 'p1']);
    const all = outputs.join('\n');
    expect(all).toContain('[debug]');
    for (const needle of [keys.secretAccessKey, passphrase]) expect(all).not.toContain(needle);
    // The key id is not secret, but --debug has no reason to print it either.
    expect(all).not.toContain(keys.accessKeyId);
  });
});

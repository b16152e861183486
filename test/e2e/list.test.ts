import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, makeTempHome, runCli } from './_runCli.ts';
import {
  BACKEND_CASES,
  homesCleanedAfterEach,
  fakeKeys,
  seedSession,
  uniqueProfile,
} from './_vault.ts';

const homes = homesCleanedAfterEach();

const pad = (s: string, w = 25) => s + ' '.repeat(Math.max(w - [...s].length, 2));

for (const backend of BACKEND_CASES) {
  describe.runIf(backend.enabled)(`list (${backend.name})`, () => {
    it('shows profiles, credentials and sessions like the Go aws-vault', async () => {
      const withKeys = uniqueProfile('keys');
      const orphan = uniqueProfile('orphan');
      const role = uniqueProfile('role');
      const home = makeTempHome({
        backend: backend.name,
        config: `[default]\nregion = us-east-1\n\n[profile ${withKeys}]\n\n[profile ${role}]\nsource_profile = ${withKeys}\nrole_arn = arn:aws:iam::111111111111:role/r\n`,
      });
      homes.push({ home, backend: backend.name, profiles: [withKeys, orphan, role] });
      for (const p of [withKeys, orphan]) {
        const k = fakeKeys();
        const r = await runCli(['add', '--env', '--no-add-config', p], {
          env: home.env({
            AWS_ACCESS_KEY_ID: k.accessKeyId,
            AWS_SECRET_ACCESS_KEY: k.secretAccessKey,
          }),
        });
        expect(r.exitCode, r.stderr).toBe(0);
      }
      await seedSession(home, backend.name, withKeys, { seconds: 3600 });
      await seedSession(home, backend.name, role, { type: 'sts.AssumeRole', seconds: 1800 });

      const r = await runCli(['list'], { env: home.env() });
      expect(r.exitCode, r.stderr).toBe(0);
      const lines = r.stdout.split('\n');
      expect(lines.pop()).toBe('');
      // tabwriter: every line padded to the same width, columns at least 25 wide.
      expect(new Set(lines.map((l) => l.length)).size).toBe(1);
      const trimmed = lines.map((l) => l.trimEnd());
      expect(trimmed[0]).toBe(pad('Profile') + pad('Credentials') + 'Sessions');
      expect(trimmed[1]).toBe(pad('=======') + pad('===========') + '========');
      expect(trimmed[2]).toBe(pad('default') + pad('-') + '-');
      expect(trimmed[3]).toMatch(
        new RegExp(`^${pad(withKeys)}${pad(withKeys)}sts\\.GetSessionToken:(59m5\\ds|1h0m0s)$`),
      );
      expect(trimmed[4]).toMatch(
        new RegExp(`^${pad(role)}${pad('-')}sts\\.AssumeRole:(29m5\\ds|30m0s)$`),
      );
      // Credentials without a config profile get their own row.
      expect(trimmed).toContain(`${pad('-')}${pad(orphan)}-`);

      const profiles = await runCli(['ls', '--profiles'], { env: home.env() });
      expect(profiles.stdout).toBe(`default\n${withKeys}\n${role}\n`);
      const creds = await runCli(['list', '--credentials'], { env: home.env() });
      expect(creds.stdout.split('\n')).toEqual(expect.arrayContaining([withKeys, orphan]));
      const sessions = await runCli(['list', '--sessions'], { env: home.env() });
      expect(sessions.stdout).toMatch(/^sts\.GetSessionToken:\S+$/m);
      expect(sessions.stdout).toMatch(/^sts\.AssumeRole:\S+$/m);

      const json = await runCli(['list', '--json'], { env: home.env() });
      const doc = JSON.parse(json.stdout);
      const entry = doc.credentials.find((c: { profile: string }) => c.profile === withKeys);
      expect(entry).toMatchObject({ ageDays: 0, rotationDue: false });
      expect(Date.now() - Date.parse(entry.addedAt)).toBeLessThan(120_000);
      expect(doc.profiles.map((p: { name: string }) => p.name)).toEqual([
        'default',
        withKeys,
        role,
      ]);
    });
  });
}

for (const backend of BACKEND_CASES) {
  describe.runIf(backend.enabled)(
    `list (${backend.name}) with an entry that is not credentials`,
    () => {
      it('lists it without an age instead of failing (table and --json)', async () => {
        const good = uniqueProfile('good');
        const odd = uniqueProfile('odd');
        const home = makeTempHome({ backend: backend.name, config: `[profile ${good}]\n` });
        homes.push({ home, backend: backend.name, profiles: [good, odd] });
        const k = fakeKeys();
        const add = await runCli(['add', '--env', good], {
          env: home.env({
            AWS_ACCESS_KEY_ID: k.accessKeyId,
            AWS_SECRET_ACCESS_KEY: k.secretAccessKey,
          }),
        });
        expect(add.exitCode, add.stderr).toBe(0);
        // Another program's item under the same service (or a damaged one).
        const { openBackend } = await import('../../src/keyring/openBackend.ts');
        const env = home.env();
        const raw = await openBackend({
          backend: backend.name,
          fileDir: home.fileDir,
          filePassphrase: env.AWS_VAULT_FILE_PASSPHRASE,
          debug: () => {},
        });
        await raw.set(odd, 'not json');

        const table = await runCli(['--debug', 'list'], { env });
        expect(table.exitCode, table.stderr).toBe(0);
        expect(table.stdout).toMatch(new RegExp(`^-\\s+${odd}\\s+-\\s*$`, 'm'));
        expect(table.stderr).toContain(`list: no key age for ${odd}: `);
        const json = await runCli(['list', '--json'], { env });
        expect(json.exitCode, json.stderr).toBe(0);
        const doc = JSON.parse(json.stdout) as {
          credentials: { profile: string; addedAt?: string }[];
        };
        const byName = new Map(doc.credentials.map((c) => [c.profile, c]));
        expect(byName.get(good)?.addedAt).toEqual(expect.any(String));
        expect(byName.has(odd)).toBe(true);
        expect(byName.get(odd)?.addedAt ?? null).toBeNull();
      });
    },
  );
}

describe('list and [default]', () => {
  it('lists keys stored for default, whose [default] section add wrote empty', async () => {
    const home = makeTempHome({ config: '[profile other]\nregion = eu-west-1\n' });
    homes.push({ home, backend: 'file', profiles: [] });
    const k = fakeKeys();
    const env = home.env({
      AWS_ACCESS_KEY_ID: k.accessKeyId,
      AWS_SECRET_ACCESS_KEY: k.secretAccessKey,
    });
    expect((await runCli(['add', '--env', 'default'], { env })).exitCode).toBe(0);
    const table = await runCli(['list'], { env: home.env() });
    expect(table.exitCode, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^default\s+default\s+-\s*$/m);
    expect(table.stdout).toMatch(/^other\s+-\s+-\s*$/m);
    const json = JSON.parse((await runCli(['list', '--json'], { env: home.env() })).stdout) as {
      profiles: { name: string; credentials: unknown }[];
    };
    expect(json.profiles.find((p) => p.name === 'default')?.credentials).not.toBeNull();
  });
});

describe('a damaged file in the file store', () => {
  it('is listed without an age, and the other keys and remove still work', async () => {
    const good = uniqueProfile('good');
    const broken = uniqueProfile('broken');
    const home = makeTempHome({ config: `[profile ${good}]\n[profile ${broken}]\n` });
    homes.push({ home, backend: 'file', profiles: [] });
    for (const p of [broken, good]) {
      const k = fakeKeys();
      const env = home.env({
        AWS_ACCESS_KEY_ID: k.accessKeyId,
        AWS_SECRET_ACCESS_KEY: k.secretAccessKey,
      });
      expect((await runCli(['add', '--env', p], { env })).exitCode).toBe(0);
    }
    // What a crash leaves from a writer that does not write atomically.
    writeFileSync(join(home.fileDir, broken), '');
    const env = home.env();

    const table = await runCli(['list'], { env });
    expect(table.exitCode, table.stderr).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^${broken}\\s+${broken}\\s+-\\s*$`, 'm'));
    expect(table.stdout).toMatch(new RegExp(`^${good}\\s+${good}\\s+-\\s*$`, 'm'));
    const json = await runCli(['list', '--json'], { env });
    expect(json.exitCode, json.stderr).toBe(0);

    const k = fakeKeys();
    const other = uniqueProfile('other');
    const add = await runCli(['add', '--env', '--no-add-config', other], {
      env: home.env({ AWS_ACCESS_KEY_ID: k.accessKeyId, AWS_SECRET_ACCESS_KEY: k.secretAccessKey }),
    });
    expect(add.exitCode, add.stderr).toBe(0);
    const read = await runCli(['export', '--no-session', broken], { env });
    expect(read.exitCode).toBe(1);
    expect(read.stderr).toContain(
      `aws-vault: error: export: file backend: the file for "${broken}" in ${home.fileDir} is damaged or not an aws-vault file; remove it with aws-vault remove --force ${broken} and add the key again`,
    );
    const removed = await runCli(['remove', '--force', broken], { env });
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect(readdirSync(home.fileDir).sort()).toEqual([good, other].sort());
  });
});

describe('list', () => {
  it('--profiles works without opening the vault', async () => {
    const home = makeTempHome({ config: '[profile a]\n[profile b]\n' });
    homes.push({ home, backend: 'file', profiles: [] });
    const r = await runCli(['list', '--profiles'], {
      env: home.env({ AWS_VAULT_FILE_PASSPHRASE: undefined }),
    });
    expect(r).toMatchObject({ exitCode: 0, stdout: 'a\nb\n', stderr: '' });
  });

  it("on a terminal, adds each stored key's age (ext); piped, the Go table", async () => {
    const home = makeTempHome({ config: '[profile a]\n' });
    homes.push({ home, backend: 'file', profiles: [] });
    const env = home.env({
      AWS_ACCESS_KEY_ID: 'AKIAAGECOLUMN0000001',
      AWS_SECRET_ACCESS_KEY: 'x'.repeat(40),
    });
    expect((await runCli(['add', '--env', 'a'], { env })).exitCode).toBe(0);
    const onTerminal = spawnSync(
      'script',
      ['-qec', `"${process.execPath}" "${BIN}" list`, '/dev/null'],
      { env: home.env(), encoding: 'utf8', timeout: 20_000 },
    );
    expect(onTerminal.stdout).toMatch(/^Profile\s+Credentials\s+Sessions\s+Key age\s*\r?$/m);
    expect(onTerminal.stdout).toMatch(/^a\s+a\s+-\s+0 days\s*\r?$/m);
    const piped = await runCli(['list'], { env: home.env() });
    expect(piped.stdout).not.toContain('Key age');
    expect(piped.stdout).toMatch(/^a {24}a {24}- {24}$/m);
  });

  it('an empty vault and config print the header only', async () => {
    const home = makeTempHome();
    homes.push({ home, backend: 'file', profiles: [] });
    const r = await runCli(['list'], { env: home.env() });
    expect(r.stdout).toBe(
      `${pad('Profile')}${pad('Credentials')}${pad('Sessions')}\n${pad('=======')}${pad('===========')}${pad('========')}\n`,
    );
  });
});

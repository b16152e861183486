import { describe, expect, it } from 'vitest';
import { BIN, makeTempHome, runCli } from './_runCli.ts';
import { hasTmux, startTmux, waitFor } from '../helpers/tmux.ts';
import {
  BACKEND_CASES,
  homesCleanedAfterEach,
  fakeKeys,
  seedSession,
  uniqueProfile,
  vaultKeys,
} from './_vault.ts';

const homes = homesCleanedAfterEach();

async function withProfile(backend: string) {
  const profile = uniqueProfile('rm');
  const home = makeTempHome({ backend, config: `[profile ${profile}]\n` });
  homes.push({ home, backend, profiles: [profile] });
  const k = fakeKeys();
  const r = await runCli(['add', '--env', profile], {
    env: home.env({ AWS_ACCESS_KEY_ID: k.accessKeyId, AWS_SECRET_ACCESS_KEY: k.secretAccessKey }),
  });
  expect(r.exitCode, r.stderr).toBe(0);
  await seedSession(home, backend, profile);
  return { home, profile };
}

for (const backend of BACKEND_CASES) {
  describe.runIf(backend.enabled)(`remove (${backend.name})`, () => {
    it('--force removes the credentials and the sessions', async () => {
      const { home, profile } = await withProfile(backend.name);
      const r = await runCli(['remove', '-f', profile], { env: home.env() });
      expect(r).toMatchObject({
        exitCode: 0,
        stdout: 'Deleted credentials.\nDeleted 1 sessions.\n',
        stderr: '',
      });
      const keys = await vaultKeys(home, backend.name);
      expect(
        keys.filter((k) => k === profile || k.includes(Buffer.from(profile).toString('base64url'))),
      ).toEqual([]);
      const again = await runCli(['rm', '-f', profile], { env: home.env() });
      expect(again.exitCode).toBe(1);
      expect(again.stderr).toBe(
        `aws-vault: error: remove: profile ${profile}: no credentials stored in the vault (see: aws-vault list --credentials)\n`,
      );
    });

    it('--sessions-only keeps the credentials', async () => {
      const { home, profile } = await withProfile(backend.name);
      const r = await runCli(['rm', '--sessions-only', profile], { env: home.env() });
      expect(r.stdout).toBe('Deleted 1 sessions.\n');
      const creds = await runCli(['list', '--credentials'], { env: home.env() });
      expect(creds.stdout.split('\n')).toContain(profile);
    });
  });
}

describe('remove without a terminal', () => {
  it('fails at once without --force and keeps the keys', async () => {
    const { home, profile } = await withProfile('file');
    const r = await runCli(['remove', profile], { env: home.env(), timeout: 10_000 });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(
      'aws-vault: error: remove: cannot prompt for input: no terminal (TTY) available; use --force',
    );
    const creds = await runCli(['list', '--credentials'], { env: home.env() });
    expect(creds.stdout).toBe(`${profile}\n`);
  });

  it('an unknown profile is a clear error', async () => {
    const home = makeTempHome();
    homes.push({ home, backend: 'file', profiles: [] });
    const r = await runCli(['remove', '-f', 'nobody'], { env: home.env() });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(
      /^aws-vault: error: remove: profile "nobody" not found in \S+ and no credentials stored for it; .*aws-vault add nobody/,
    );
  });

  it('a profile in the config without stored keys says so', async () => {
    const home = makeTempHome({ config: '[profile nokeys]\n' });
    homes.push({ home, backend: 'file', profiles: [] });
    const r = await runCli(['remove', '-f', 'nokeys'], { env: home.env() });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^aws-vault: error: remove: profile nokeys: no credentials stored/);
  });
});

describe.runIf(hasTmux)('remove on a real terminal (tmux)', () => {
  it('asks (y|N): anything but y keeps the keys, y deletes them and the sessions', async () => {
    const { home, profile } = await withProfile('file');
    const rm = `${process.execPath} ${BIN} remove ${profile}`;
    const term = startTmux(
      home.home,
      home.env(),
      `${rm}; echo "EXIT1=$?"; ${rm}; echo "EXIT2=$?"; sleep 30`,
      { width: 200, height: 50 },
    );
    try {
      const question = `Delete credentials for profile "${profile}"? (y|N)`;
      await waitFor(() => term.screen().includes(question));
      term.sendKeys('n', 'Enter');
      await waitFor(() => term.screen().includes('EXIT1='));
      const kept = await runCli(['list', '--credentials'], { env: home.env() });
      expect(kept.stdout).toBe(`${profile}\n`);
      term.sendKeys('y', 'Enter');
      const text = await waitFor(() => term.screen().includes('EXIT2=') && term.screen());
      expect(text).toContain('EXIT1=0');
      expect(text.split(question)).toHaveLength(3);
      expect(text).toMatch(/EXIT1=0[\s\S]*Deleted credentials\.\nDeleted 1 sessions\.\nEXIT2=0/);
      const gone = await runCli(['list', '--credentials'], { env: home.env() });
      expect(gone.stdout).toBe('');
    } finally {
      term.kill();
    }
  });
});

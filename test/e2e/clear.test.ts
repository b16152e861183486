import { describe, expect, it } from 'vitest';
import { makeTempHome, runCli } from './_runCli.ts';
import {
  BACKEND_CASES,
  homesCleanedAfterEach,
  fakeKeys,
  seedSession,
  uniqueProfile,
  vaultKeys,
} from './_vault.ts';

const homes = homesCleanedAfterEach();

for (const backend of BACKEND_CASES) {
  describe.runIf(backend.enabled)(`clear (${backend.name})`, () => {
    it('clears one profile, then the rest, and keeps the credentials', async () => {
      const a = uniqueProfile('ca');
      const b = uniqueProfile('cb');
      const home = makeTempHome({
        backend: backend.name,
        config: `[profile ${a}]\n[profile ${b}]\n`,
      });
      homes.push({ home, backend: backend.name, profiles: [a, b] });
      const k = fakeKeys();
      await runCli(['add', '--env', a], {
        env: home.env({
          AWS_ACCESS_KEY_ID: k.accessKeyId,
          AWS_SECRET_ACCESS_KEY: k.secretAccessKey,
        }),
      });
      await seedSession(home, backend.name, a);
      await seedSession(home, backend.name, a, { type: 'sts.AssumeRole', seconds: 900 });
      await seedSession(home, backend.name, b);

      const one = await runCli(['clear', a], { env: home.env() });
      expect(one).toMatchObject({ exitCode: 0, stdout: 'Cleared 2 sessions.\n', stderr: '' });
      const list = await runCli(['list'], { env: home.env() });
      expect(list.stdout).toMatch(new RegExp(`^${a} +${a} +- +$`, 'm'));
      expect(list.stdout).toMatch(new RegExp(`^${b} +- +sts\\.GetSessionToken:`, 'm'));

      if (backend.name === 'file') {
        // The Secret Service is shared with parallel tests: "clear all" only in a private store.
        const all = await runCli(['clear'], { env: home.env() });
        expect(all.stdout).toBe('Cleared 1 sessions.\n');
        expect(await vaultKeys(home, backend.name)).toEqual([a]);
      } else {
        const rest = await runCli(['clear', b], { env: home.env() });
        expect(rest.stdout).toBe('Cleared 1 sessions.\n');
      }
      const none = await runCli(['clear', b], { env: home.env() });
      expect(none.stdout).toBe('Cleared 0 sessions.\n');
    });
  });
}

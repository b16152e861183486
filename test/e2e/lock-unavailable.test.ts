// A HOME where the lock folder (~/.awsvault/locks) cannot be made, with the
// vault elsewhere: exec still gets and uses a session, and says it ran
// without the lock.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnvLines, startExecWorld, type ExecWorld } from './_exec.ts';

describe('exec when no lock can be made', () => {
  let w: ExecWorld;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    w = await startExecWorld('[profile p]\nregion = eu-west-1\n');
    const elsewhere = join(w.home.home, 'vault', 'keys');
    mkdirSync(elsewhere, { recursive: true, mode: 0o700 });
    env = w.env({ AWS_VAULT_FILE_DIR: elsewhere });
    const keys = w.fake.createUser('u');
    const added = await w.run(['add', '--env', '--no-add-config', 'p'], {
      env: {
        ...env,
        AWS_ACCESS_KEY_ID: keys.accessKeyId,
        AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
      },
    });
    expect(added).toMatchObject({ exitCode: 0, stderr: '' });
    rmSync(join(w.home.home, '.awsvault'), { recursive: true, force: true });
    writeFileSync(join(w.home.home, '.awsvault'), ''); // a file: no folder can be made in it
  });
  afterAll(() => w.close());

  it('gets the session without the lock, says so, and caches it', async () => {
    const r = await w.run(['exec', 'p', '--', 'env'], { env });
    expect(r.exitCode).toBe(0);
    expect(parseEnvLines(r.stdout).AWS_SESSION_TOKEN).toBeTruthy();
    expect(r.stderr).toBe(
      `aws-vault: warning: cannot make the lock folder ${join(w.home.home, '.awsvault', 'locks')}: ENOTDIR (not a directory); getting the sts.GetSessionToken session for profile p without the lock (parallel runs may each ask STS, and for an MFA code)\n`,
    );
    const again = await w.run(['exec', 'p', '--', 'true'], { env });
    expect(again).toMatchObject({ exitCode: 0, stderr: '' });
    expect(w.fake.count('GetSessionToken')).toBe(1);
  });
});

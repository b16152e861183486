// Files and folders the commands create are private even under a umask of
// 000: ~/.aws (0700) and a new ~/.aws/config (0600) written by `add`, the
// vault folder and its files, and the lock folder. Modes must come from the
// code, not from the user's umask.
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTool, startExecWorld, type ExecWorld } from './_exec.ts';
import { BIN } from './_runCli.ts';

describe('security: modes of created files under umask 000', () => {
  let w: ExecWorld;
  beforeAll(async () => {
    w = await startExecWorld();
    rmSync(join(w.home.home, '.aws'), { recursive: true, force: true });
  });
  afterAll(() => w?.close());

  /** Runs aws-vault with umask 000 (a shell sets it, then becomes node). */
  const run = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
    runTool('/bin/sh', ['-c', 'umask 000; exec "$@"', 'sh', process.execPath, BIN, ...args], {
      // The default config path (~/.aws/config): `add` creates it.
      env: w.env({ AWS_CONFIG_FILE: undefined, ...extra }),
    });

  it('add creates ~/.aws 0700 and ~/.aws/config 0600; the vault and locks are 0700/0600', async () => {
    const user = w.fake.createUser('modes');
    const added = await run(['add', '--env', 'modes'], {
      AWS_ACCESS_KEY_ID: user.accessKeyId,
      AWS_SECRET_ACCESS_KEY: user.secretAccessKey,
    });
    expect(added.status, added.stderr).toBe(0);
    const exec = await run(['exec', 'modes', '--', 'true']);
    expect(exec.status, exec.stderr).toBe(0);

    const mode = (p: string) => statSync(join(w.home.home, p)).mode & 0o777;
    expect(mode('.aws')).toBe(0o700);
    expect(mode('.aws/config')).toBe(0o600);
    expect(mode('.awsvault')).toBe(0o700);
    expect(mode('.awsvault/keys')).toBe(0o700);
    expect(mode('.awsvault/keys/modes')).toBe(0o600);
    expect(mode('.awsvault/locks')).toBe(0o700);
    const sessions = w.home.allFiles().filter((f) => f.includes('sts.GetSessionToken'));
    expect(sessions.length).toBe(1);
    for (const f of sessions) expect(statSync(f).mode & 0o777).toBe(0o600);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startExecWorld, type ExecWorld } from './_exec.ts';

describe('parallel exec', () => {
  let w: ExecWorld;

  beforeAll(async () => {
    w = await startExecWorld();
  });
  afterAll(async () => {
    await w?.close();
  });

  it('10 processes at once ask for one MFA code and make one GetSessionToken call', async () => {
    const user = await w.addUser('par', { mfa: true });
    const codeFile = join(w.home.home, 'code');
    const counter = join(w.home.home, 'prompts');
    writeFileSync(counter, '');
    writeFileSync(codeFile, `${w.fake.mfaCode(user.userName)}\n`);
    w.home.writeConfig(`[profile par]
mfa_serial = ${user.mfaSerial}
mfa_process = sh -c 'echo prompt >> ${counter}; cat ${codeFile}'
`);
    const before = w.fake.count('GetSessionToken');
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        w.run(['exec', 'par', '--', 'sh', '-c', 'test -n "$AWS_SESSION_TOKEN"'], {
          timeout: 60_000,
        }),
      ),
    );
    for (const result of results) {
      // A waiter on a slow machine may say, once, what it waits for.
      expect(result.stderr.replace(/^aws-vault: waiting for another aws-vault .*\n/, '')).toBe('');
      expect(result.exitCode).toBe(0);
    }
    expect(readFileSync(counter, 'utf8')).toBe('prompt\n');
    expect(w.fake.count('GetSessionToken') - before).toBe(1);
  }, 90_000);
});

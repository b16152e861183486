// Many processes at once for one profile: one MFA prompt and one STS call.
// Then the cached path: a process served from the cache loads no AWS SDK.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FileBackend } from '../../../src/keyring/fileBackend.ts';
import { CredentialStore } from '../../../src/keyring/credentialStore.ts';
import { startFakeAws, type FakeAws } from '../../fakes/fakeAws.ts';

const WORKER = new URL('./_worker.ts', import.meta.url).pathname;
const PASSPHRASE = 'parallel-test-passphrase';

let fake: FakeAws;
let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  fake = await startFakeAws();
  const alice = fake.createUser('alice', { mfa: true });
  const role = fake.createRole('admin', { requireMfa: true });
  dir = mkdtempSync(join(tmpdir(), 'aws-vault-parallel-'));
  writeFileSync(join(dir, 'code'), `${fake.mfaCode('alice')}\n`);
  writeFileSync(
    join(dir, 'config'),
    `[profile alice]
mfa_serial = ${alice.mfaSerial}
mfa_process = echo asked >> ${join(dir, 'prompts.log')}; cat ${join(dir, 'code')}

[profile admin]
source_profile = alice
role_arn = ${role.arn}
mfa_serial = ${alice.mfaSerial}
mfa_process = echo asked >> ${join(dir, 'prompts.log')}; cat ${join(dir, 'code')}
`,
  );
  await new CredentialStore(
    new FileBackend({ dir: join(dir, 'keys'), passphrase: PASSPHRASE }),
  ).set('alice', alice);
  env = {
    PATH: process.env.PATH,
    HOME: dir,
    USER: 'tester',
    WORK_DIR: dir,
    PROFILE: 'admin',
    AWS_CONFIG_FILE: join(dir, 'config'),
    AWS_ENDPOINT_URL: fake.url,
    AWS_VAULT_FILE_PASSPHRASE: PASSPHRASE,
  };
});

afterAll(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

function runWorker(): Promise<{ accessKeyId: string; sdkLoaded: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`worker exited with ${code}: ${err}`));
      else resolve(JSON.parse(out) as { accessKeyId: string; sdkLoaded: boolean });
    });
  });
}

it('10 processes at once: 1 MFA prompt, 1 GetSessionToken, 1 AssumeRole, same credentials', async () => {
  const results = await Promise.all(Array.from({ length: 10 }, () => runWorker()));
  expect(new Set(results.map((r) => r.accessKeyId)).size).toBe(1);
  expect(readFileSync(join(dir, 'prompts.log'), 'utf8').trim().split('\n')).toHaveLength(1);
  expect(fake.count('GetSessionToken')).toBe(1);
  expect(fake.count('AssumeRole')).toBe(1);
  expect(fake.describeCredentials(results[0]!.accessKeyId)?.mfaAuthenticated).toBe(true);
  // Exactly one process loaded the SDK to make the calls.
  expect(results.filter((r) => r.sdkLoaded)).toHaveLength(1);
}, 60_000);

it('the cached path loads no AWS SDK module and calls nothing', async () => {
  const before = fake.calls.length;
  const result = await runWorker();
  expect(result.sdkLoaded).toBe(false);
  expect(fake.calls.length).toBe(before);
}, 30_000);

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { installShim, runTool, startExecWorld, type ExecWorld } from './_exec.ts';

const AWS = '/usr/bin/aws';

describe.skipIf(!existsSync(AWS))('credential_process with the real AWS CLI', () => {
  let w: ExecWorld;
  let userArn: string;
  let shim: string;

  beforeAll(async () => {
    w = await startExecWorld();
    const user = await w.addUser('vaulted');
    userArn = user.arn;
    shim = installShim(w.home.home).command;
    w.home.writeConfig(`[profile vaulted]
region = us-east-1

[profile via-vault]
region = us-east-1
credential_process = ${shim} export --format=json vaulted

[profile via-vault-debug]
region = us-east-1
credential_process = ${shim} --debug export --format=json vaulted

[profile via-vault-broken]
region = us-east-1
credential_process = ${shim} export --format=json no-such-profile
`);
  });
  afterAll(async () => {
    await w?.close();
  });

  function aws(profile: string) {
    // This AWS CLI predates AWS_ENDPOINT_URL: give it the endpoint as a flag.
    // aws-vault, its credential_process, gets AWS_ENDPOINT_URL from the env.
    return runTool(
      AWS,
      [
        'sts',
        'get-caller-identity',
        '--profile',
        profile,
        '--endpoint-url',
        w.fake.url,
        '--output',
        'json',
      ],
      { env: w.env({ AWS_PAGER: '' }) },
    );
  }

  it('gets session credentials from aws-vault export --format=json', async () => {
    const before = w.fake.count('GetSessionToken');
    const result = await aws('via-vault');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const identity = JSON.parse(result.stdout) as { Arn: string; Account: string };
    expect(identity.Arn).toBe(userArn);
    expect(w.fake.count('GetSessionToken') - before).toBe(1);
    // The caller-identity call was signed with a session key, not the stored one.
    const call = w.fake.calls.filter((c) => c.action === 'GetCallerIdentity').at(-1);
    expect(call?.accessKeyId).toMatch(/^ASIA/);
  });

  it('keeps stdout clean with --debug (debug lines go to stderr)', async () => {
    const result = await aws('via-vault-debug');
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout).Arn).toBe(userArn);
  });

  it('passes aws-vault errors on to the AWS CLI user', async () => {
    const result = await aws('via-vault-broken');
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('no-such-profile');
  });
});

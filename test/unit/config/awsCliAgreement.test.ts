import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { configFrom } from './helpers.ts';

const AWS = '/usr/bin/aws';
const run = promisify(execFile);

// The real AWS CLI v2 reads what we read, and what addProfile writes.
describe.skipIf(!existsSync(AWS))('config files agree with the real AWS CLI', () => {
  it('lists the same profiles, including one added by addProfile', async () => {
    const { file, path, home } = configFrom(`# team config
[default]
region = eu-west-1

[profile dev]
s3 =
  max_concurrent_requests = 10
services = local
sso_session = corp
; a comment
[profile  spaced]
role_arn = arn:aws:iam::111111111111:role/x

[not-a-profile]
region = x

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start#/

[services local]
sts =
  endpoint_url = http://127.0.0.1:4566
`);
    file.addProfile('added', { region: 'us-east-2' });
    const env = {
      PATH: '/usr/bin:/bin',
      HOME: home,
      AWS_CONFIG_FILE: path,
      AWS_SHARED_CREDENTIALS_FILE: `${home}/no-credentials`,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_PAGER: '',
    };
    const { stdout } = await run(AWS, ['configure', 'list-profiles'], { env, timeout: 60_000 });
    expect(stdout.trim().split('\n')).toEqual(file.profileNames());
    expect(file.profileNames()).toEqual(['default', 'dev', 'spaced', 'added']);
  }, 60_000);

  it('reads quoted profile names as the AWS CLI does, and writes names it reads back', async () => {
    const { file, path, home } = configFrom(`[profile "team dev"]
region = eu-west-1
[profile 'x y']
region = eu-west-2
[profile "a\\"b"]
region = eu-west-3
[profile "unbalanced]
region = nowhere
[profile "two" "words"]
region = nowhere
`);
    file.addProfile('added with space', { region: 'us-east-2' });
    const env = {
      PATH: '/usr/bin:/bin',
      HOME: home,
      AWS_CONFIG_FILE: path,
      AWS_SHARED_CREDENTIALS_FILE: `${home}/no-credentials`,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_PAGER: '',
    };
    const { stdout } = await run(AWS, ['configure', 'list-profiles'], { env, timeout: 60_000 });
    expect(stdout.trim().split('\n')).toEqual(file.profileNames());
    expect(file.profileNames()).toEqual(['team dev', 'x y', 'a"b', 'added with space']);
    const region = await run(AWS, ['configure', 'get', 'region', '--profile', 'added with space'], {
      env,
      timeout: 60_000,
    });
    expect(region.stdout.trim()).toBe(file.profileSection('added with space')?.region);
  }, 60_000);
});

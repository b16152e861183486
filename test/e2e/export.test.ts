import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseIni } from 'ini';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  credentialProcessDoc,
  parseEnvLines,
  RFC3339,
  startExecWorld,
  type ExecWorld,
} from './_exec.ts';

const CONFIG = `[profile ex]
region = eu-west-2

[profile bare]
`;

describe('export', () => {
  let w: ExecWorld;
  let key: { accessKeyId: string; secretAccessKey: string };

  beforeAll(async () => {
    w = await startExecWorld(CONFIG);
    key = await w.addUser('ex');
    await w.addUser('bare');
  });
  afterAll(async () => {
    await w?.close();
  });

  it('prints KEY=VALUE lines by default', async () => {
    const result = await w.run(['export', 'ex']);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines.map((l) => l.slice(0, l.indexOf('=')))).toEqual([
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
      'AWS_CREDENTIAL_EXPIRATION',
      'AWS_REGION',
      'AWS_DEFAULT_REGION',
    ]);
    const env = parseEnvLines(result.stdout);
    expect(env.AWS_ACCESS_KEY_ID).toMatch(/^ASIA/);
    expect(env.AWS_CREDENTIAL_EXPIRATION).toMatch(RFC3339);
    expect(env.AWS_REGION).toBe('eu-west-2');
  });

  it('prefixes export with --format=export-env, and a shell can eval it', async () => {
    const result = await w.run(['export', '--format=export-env', 'ex']);
    expect(result.exitCode).toBe(0);
    for (const line of result.stdout.trimEnd().split('\n'))
      expect(line).toMatch(/^export AWS_[A-Z_]+=\S+$/);
    const shell = spawnSync('sh', ['-c', 'eval "$(cat)"; env'], {
      input: result.stdout,
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });
    const env = parseEnvLines(shell.stdout);
    expect(env.AWS_SESSION_TOKEN).toBeTruthy();
    expect(env.AWS_REGION).toBe('eu-west-2');
  });

  it('export-env quotes a value the shell would act on; eval keeps it a value', async () => {
    const region = "eu-west-2;touch pwned;'$(id)'";
    const result = await w.run(['export', '--format=export-env', '--region', region, 'ex']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain(`export AWS_REGION='eu-west-2;touch pwned;'\\''$(id)'\\'''\n`);
    const dir = w.home.home;
    const shell = spawnSync('sh', ['-c', 'eval "$(cat)"; env'], {
      input: result.stdout,
      encoding: 'utf8',
      cwd: dir,
      env: { PATH: process.env.PATH },
    });
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
    expect(parseEnvLines(shell.stdout).AWS_REGION).toBe(region);
  });

  it('prints exactly the credential_process document with --format=json', async () => {
    const result = await w.run(['export', '--format', 'json', 'ex']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.endsWith('}\n')).toBe(true);
    const doc = credentialProcessDoc(result.stdout);
    expect(result.stdout).toBe(`${JSON.stringify(doc, null, 2)}\n`);
  });

  it('leaves SessionToken and Expiration out for long-term keys (--no-session)', async () => {
    const result = await w.run(['export', '--format=json', '--no-session', 'ex']);
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      Version: 1,
      AccessKeyId: key.accessKeyId,
      SecretAccessKey: key.secretAccessKey,
    });
    const env = await w.run(['export', '-n', 'ex']);
    expect(env.stdout).toBe(
      `AWS_ACCESS_KEY_ID=${key.accessKeyId}\nAWS_SECRET_ACCESS_KEY=${key.secretAccessKey}\n` +
        'AWS_REGION=eu-west-2\nAWS_DEFAULT_REGION=eu-west-2\n',
    );
  });

  it('exec -j prints the same document', async () => {
    const result = await w.run(['exec', '-j', 'ex']);
    expect(result.exitCode).toBe(0);
    const doc = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(doc.Version).toBe(1);
    expect(doc.SessionToken).toBeTruthy();
    expect(result.stdout).toBe(`${JSON.stringify(doc, null, 2)}\n`);
  });

  it('prints a credentials-file section with --format=ini', async () => {
    const result = await w.run(['export', '--format=ini', 'ex']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.startsWith('[ex]\n')).toBe(true);
    // As the Go aws-vault's go-ini writer: no blank line after the last section.
    expect(result.stdout).toMatch(/\nregion {20}= eu-west-2\n$/);
    const parsed = parseIni(result.stdout) as Record<string, Record<string, string>>;
    const section = parsed.ex as Record<string, string>;
    expect(section.aws_access_key_id).toMatch(/^ASIA/);
    expect(section.aws_session_token).toBeTruthy();
    expect(section.aws_credential_expiration).toMatch(RFC3339);
    expect(section.region).toBe('eu-west-2');
    const bare = await w.run(['export', '--format=ini', 'bare']);
    expect(bare.stdout).not.toContain('region');
  });

  it('rejects an unknown format with the usage line', async () => {
    const result = await w.run(['export', '--format=yaml', 'ex']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('yaml');
    expect(result.stderr).toContain('usage:');
  });

  it('refuses to run inside an aws-vault subshell, as the Go aws-vault does', async () => {
    const result = await w.run(['export', 'ex'], { env: w.env({ AWS_VAULT: 'x' }) });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('existing aws-vault subshell');
  });
});

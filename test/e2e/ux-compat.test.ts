// UX review: command lines that work with the Go aws-vault (kingpin parses
// global flags after the subcommand, and a subcommand's own flags anywhere
// before `--`) and appear in its USAGE.md. These pin real incompatibilities
// found while trying the product as a user; they fail until they are fixed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnvLines, startExecWorld, type ExecWorld } from './_exec.ts';

const CONFIG = `[profile p]
region = eu-west-1
`;

describe('ux: Go aws-vault command lines', () => {
  let w: ExecWorld;
  let key: { accessKeyId: string };

  beforeAll(async () => {
    w = await startExecWorld(CONFIG);
    key = await w.addUser('p');
  });
  afterAll(async () => {
    await w?.close();
  });

  // Go USAGE.md: `aws-vault exec <iam_user_profile> --no-session -- env | grep AWS`
  it('exec PROFILE --no-session -- CMD treats --no-session as aws-vault flag', async () => {
    const result = await w.run(['exec', 'p', '--no-session', '--', 'env']);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(parseEnvLines(result.stdout).AWS_ACCESS_KEY_ID).toBe(key.accessKeyId);
  });

  it('exec PROFILE -d 2h -- CMD parses the duration (flags before `--` are aws-vault flags)', async () => {
    const result = await w.run(['exec', 'p', '-d', '2h', '--', 'true']);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
  });

  // export already accepts flags after the profile; exec should behave alike.
  it('export PROFILE --no-session works (consistency check, passes today)', async () => {
    const result = await w.run(['export', 'p', '--no-session']);
    expect(result.exitCode).toBe(0);
    expect(parseEnvLines(result.stdout).AWS_ACCESS_KEY_ID).toBe(key.accessKeyId);
  });

  // Go USAGE.md: `aws-vault exec --prompt ykman ${PROFILE} -- aws s3 ls`;
  // kingpin accepts every global flag after the subcommand.
  it.each([
    [['exec', '--prompt', 'terminal', 'p', '--', 'true']],
    [['exec', '--backend', 'file', 'p', '--', 'true']],
    [['list', '--debug']],
    [['list', '--backend', 'file']],
    [['export', '--backend', 'file', 'p']],
  ])('accepts global flags after the subcommand: %j', async (args) => {
    const result = await w.run(args);
    expect(result.stderr).not.toMatch(/unknown option/);
    expect(result.exitCode).toBe(0);
  });
});

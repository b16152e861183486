// UX review: command lines that work with the Go aws-vault (kingpin parses
// global flags after the subcommand, and a subcommand's own flags anywhere
// before `--`) and appear in its USAGE.md. These pin real incompatibilities
// found while trying the product as a user; they fail until they are fixed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './_runCli.ts';
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

  it('exec PROFILE --region R -- CMD and exec PROFILE --debug -- CMD', async () => {
    const region = await w.run([
      'exec',
      'p',
      '--region',
      'eu-north-1',
      '--',
      'printenv',
      'AWS_REGION',
    ]);
    expect(region.stderr).toBe('');
    expect(region.stdout).toBe('eu-north-1\n');
    const debug = await w.run(['exec', 'p', '--debug', '--', 'true']);
    expect(debug.exitCode).toBe(0);
    expect(debug.stderr).toMatch(/^\[debug\] /m);
    // Without `--`, the first word starts the command; what follows is the command's.
    const verbatim = await w.run(['exec', 'p', '-n', 'sh', '-c', 'echo "$1"', 'sh', '--region']);
    expect(verbatim.stdout).toBe('--region\n');
    expect(parseEnvLines((await w.run(['exec', 'p', '-n', 'env'])).stdout).AWS_SESSION_TOKEN).toBe(
      undefined,
    );
  });

  it('add --backend file PROFILE --env (global flag after the subcommand)', async () => {
    const keys = w.fake.createUser('ux-add');
    const result = await w.run(['add', '--backend', 'file', 'q', '--env', '--no-add-config'], {
      env: w.env({
        AWS_ACCESS_KEY_ID: keys.accessKeyId,
        AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
      }),
    });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    const list = await w.run([
      'list',
      '--credentials',
      '--file-dir',
      w.env().AWS_VAULT_FILE_DIR as string,
    ]);
    expect(list.stdout.split('\n')).toContain('q');
  });

  // kingpin gives every boolean flag a `--no-` form; a wrapper's flag can be turned off.
  it('accepts --no-FLAG for boolean flags, the last of the two winning, and not for others', async () => {
    const quiet = await w.run(['--debug', 'list', '--no-debug']);
    expect(quiet).toMatchObject({ exitCode: 0, stderr: '' });
    const loud = await w.run(['--no-debug', 'list', '--debug']);
    expect(loud.stderr).toMatch(/^\[debug\] /m);
    const plain = await w.run(['--no-debug', 'exec', 'p', '--no-debug', '--', 'true']);
    expect(plain).toMatchObject({ exitCode: 0, stderr: '' });
    // No server after --no-server: the credentials are in the environment.
    const served = await w.run(['exec', '--server', 'p', '--no-server', '--', 'env']);
    expect(served.exitCode).toBe(0);
    const env = parseEnvLines(served.stdout);
    expect(env.AWS_CONTAINER_CREDENTIALS_FULL_URI).toBeUndefined();
    expect(env.AWS_SECRET_ACCESS_KEY).toBeDefined();
    // --server is --ecs-server by another name: one flag, the last of the four forms wins.
    const aliased = await w.run(['exec', '--server', 'p', '--no-ecs-server', '--', 'env']);
    expect(parseEnvLines(aliased.stdout).AWS_CONTAINER_CREDENTIALS_FULL_URI).toBeUndefined();
    const back = await w.run(['exec', '--no-server', '--ecs-server', 'p', '--', 'env']);
    expect(parseEnvLines(back.stdout).AWS_CONTAINER_CREDENTIALS_FULL_URI).toMatch(
      /^http:\/\/127\.0\.0\.1:/,
    );
    const json = await w.run(['exec', '-j', '--no-json', 'p', '--', 'printenv', 'AWS_VAULT']);
    expect(json).toMatchObject({ exitCode: 0, stdout: 'p\n' });
    // A flag that takes a value has no negation (kingpin: unknown long flag).
    const region = await w.run(['exec', '--no-region', 'p', '--', 'true']);
    expect(region.exitCode).toBe(1);
    expect(region.stderr).toMatch(/unknown option '--no-region'/);
    // The negations are accepted, not advertised.
    const help = await w.run(['exec', '--help']);
    expect(help.stdout).toMatch(/--lazy/);
    expect(help.stdout).not.toMatch(/--no-lazy|--no-debug/);
    const completion = await w.run(['completion', 'bash']);
    expect(completion.stdout).not.toMatch(/--no-lazy|--no-debug/);
  });

  it('a global flag after the subcommand wins over the same flag before it', async () => {
    // memory (hidden, empty) before, file after: the file store's keys are listed.
    const after = await w.run([
      '--backend',
      'memory',
      'list',
      '--credentials',
      '--backend',
      'file',
    ]);
    expect(after.stdout.split('\n')).toContain('p');
    const before = await w.run([
      '--backend',
      'file',
      'list',
      '--credentials',
      '--backend',
      'memory',
    ]);
    expect(before.exitCode).toBe(0);
    expect(before.stdout).toBe('');
  });

  it('--version after a subcommand prints the version (kingpin), but not in the command', async () => {
    const version = (await w.run(['--version'])).stdout;
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    for (const args of [
      ['list', '--version'],
      ['exec', '--version'],
      ['exec', 'p', '--version'],
      ['rotate', '--version', 'p'],
    ]) {
      const r = await w.run(args);
      expect(r).toMatchObject({ exitCode: 0, stdout: version, stderr: '' });
    }
    // The command's own --version (after --, or once the command has started).
    for (const args of [
      ['exec', 'p', '--', 'sh', '-c', 'echo "cmd:$1"', 'sh', '--version'],
      ['exec', 'p', 'sh', '-c', 'echo "cmd:$1"', 'sh', '--version'],
    ]) {
      const r = await w.run(args);
      expect(r).toMatchObject({ exitCode: 0, stdout: 'cmd:--version\n' });
    }
  });

  it('exec PROFILE -d (no value) says the value is missing, not that the profile is no duration', async () => {
    for (const args of [
      ['exec', 'p', '-d'],
      ['exec', 'p', '-d', '--', 'true'],
      ['exec', 'p', '--duration'],
    ]) {
      const r = await w.run(args);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toBe(
        "aws-vault: error: exec: option '-d, --duration <duration>' argument missing\nusage: aws-vault exec [options] <profile> [cmd...]\n",
      );
    }
  });

  it('takes a profile that starts with - after --, and shows it after -- in hints', async () => {
    const keys = w.fake.createUser('dash-user');
    const env = w.env({
      AWS_ACCESS_KEY_ID: keys.accessKeyId,
      AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
    });
    const add = await w.run(['add', '--env', '--no-add-config', '--', '-dev'], { env });
    expect(add).toMatchObject({ exitCode: 0, stderr: '' });
    for (const args of [
      ['exec', '--', '-dev', '--', 'env'],
      ['exec', '--', '-dev', 'env'],
      ['exec', '--no-session', '--', '-dev', '--', 'env'],
      // --debug and -d take the full CLI, with commander.
      ['exec', '-d', '2h', '--', '-dev', '--', 'env'],
      ['--debug', 'exec', '--', '-dev', '--', 'env'],
    ]) {
      const r = await w.run(args);
      expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      const vars = parseEnvLines(r.stdout);
      expect(vars.AWS_VAULT).toBe('-dev');
      expect(vars.AWS_ACCESS_KEY_ID).toBeTruthy();
    }
    const missing = await w.run(['exec', '--', '-nokeys', '--', 'true']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('aws-vault add -- -nokeys');
  });

  it('help [COMMAND] works like COMMAND --help (kingpin)', async () => {
    const help = await w.run(['help', 'exec']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toBe((await w.run(['exec', '--help'])).stdout);
    expect(help.stdout).toMatch(/^Usage: aws-vault exec \[options\] <profile> \[cmd\.\.\.\]/);
    expect((await w.run(['help'])).stdout).toBe((await w.run(['--help'])).stdout);
    const unknown = await w.run(['help', 'nope']);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toBe("aws-vault: error: help: unknown command 'nope'\n");
  });

  it('help and completion hide the test-only memory backend and the removed pass prompt', async () => {
    const help = await w.run(['--help']);
    expect(help.stdout).toContain('"secret-service"');
    expect(help.stdout).not.toContain('memory');
    expect(help.stdout).not.toMatch(/"kdialog", "pass"/);
    const bash = await w.run(['completion', 'bash']);
    expect(bash.stdout).toContain('compgen -W "keychain wincred secret-service file pass"');
    expect(bash.stdout).toContain('compgen -W "terminal ykman osascript zenity kdialog"');
    // Still accepted: tests use memory; pass gets the Go removal message when MFA is asked for.
    expect((await w.run(['--backend', 'memory', 'list'])).exitCode).toBe(0);
    const bad = await w.run(['list', '--backend', 'nope']);
    expect(bad.stderr).toMatch(
      /argument 'nope' is invalid\. Allowed choices are keychain, wincred, secret-service, file, pass\.\n/,
    );
  });

  it('--version is answered by the fast path, without loading the full CLI', () => {
    // dist/fast.cjs is one function expression, the module in Node's
    // CommonJS wrapper, which bin/ compiles and calls as this does.
    const script = `const file = ${JSON.stringify(join(ROOT, 'dist', 'fast.cjs'))};
      const module = { exports: {} };
      require('node:vm').runInThisContext(require('node:fs').readFileSync(file, 'utf8'))(
        module.exports, require, module, file, require('node:path').dirname(file));
      module.exports.fastMain(['--version']).then((code) => process.stdout.write('code=' + code));`;
    const out = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(out.stdout).toMatch(/^\d+\.\d+\.\d+.*\ncode=0$/);
  });
});

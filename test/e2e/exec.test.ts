import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, hasSecretService, runCli } from './_runCli.ts';
import { parseEnvLines, RFC3339, startExecWorld, type ExecWorld } from './_exec.ts';

const CONFIG = `[profile plain]
region = eu-west-1

[profile noregion]

[profile two]
region = us-east-2
`;

describe('exec', () => {
  let w: ExecWorld;
  let plainKey: { accessKeyId: string; secretAccessKey: string };

  beforeAll(async () => {
    w = await startExecWorld(CONFIG);
    plainKey = await w.addUser('plain');
    await w.addUser('noregion');
    await w.addUser('two');
  });
  afterAll(async () => {
    await w?.close();
  });

  it('hands the command its standard streams in blocking mode, as it got them, on every path', async () => {
    // Node opens pipes and terminals non-blocking, and execve passes the mode
    // on: a command would then get EAGAIN from its stdin or a full stdout.
    const flags = "grep -h '^flags' /proc/self/fdinfo/0 /proc/self/fdinfo/1 /proc/self/fdinfo/2";
    const O_NONBLOCK = 0o4000;
    for (const args of [
      ['clear', 'two'], // no session: the full CLI asks STS
      ['--debug'], // the full CLI, session cached
      [], // the fast path
    ]) {
      const global = args[0] === 'clear' ? [] : args;
      if (args[0] === 'clear') expect((await w.run(args)).exitCode).toBe(0);
      const result = await w.run([...global, 'exec', 'two', '--', 'sh', '-c', flags], {
        input: 'some input\n',
      });
      expect(result.exitCode).toBe(0);
      const modes = result.stdout.trim().split('\n');
      expect(modes).toHaveLength(3);
      for (const line of modes) {
        expect(Number.parseInt(line.replace(/^flags:\s*/, ''), 8) & O_NONBLOCK).toBe(0);
      }
    }
  });

  it('runs the command with a session in its environment and the listed variables replaced', async () => {
    const result = await w.run(['exec', 'plain', '--', 'env'], {
      env: w.env({
        AWS_PROFILE: 'elsewhere',
        AWS_DEFAULT_PROFILE: 'elsewhere',
        AWS_SDK_LOAD_CONFIG: '1',
        AWS_CREDENTIAL_FILE: '/nope',
        AWS_SECURITY_TOKEN: 'stale',
        KEEP_ME: 'yes',
      }),
    });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    const env = parseEnvLines(result.stdout);
    expect(env.AWS_VAULT).toBe('plain');
    expect(env.AWS_REGION).toBe('eu-west-1');
    expect(env.AWS_DEFAULT_REGION).toBe('eu-west-1');
    expect(env.AWS_ACCESS_KEY_ID).toMatch(/^ASIA/);
    expect(env.AWS_ACCESS_KEY_ID).not.toBe(plainKey.accessKeyId);
    expect(env.AWS_SECRET_ACCESS_KEY).toBeTruthy();
    expect(env.AWS_SESSION_TOKEN).toBeTruthy();
    expect(env.AWS_SECURITY_TOKEN).toBe(env.AWS_SESSION_TOKEN);
    expect(env.AWS_CREDENTIAL_EXPIRATION).toMatch(RFC3339);
    expect(env.AWS_SESSION_EXPIRATION).toBe(env.AWS_CREDENTIAL_EXPIRATION);
    const left = Date.parse(env.AWS_CREDENTIAL_EXPIRATION as string) - Date.now();
    expect(left).toBeGreaterThan(55 * 60_000);
    expect(left).toBeLessThanOrEqual(60 * 60_000);
    expect(env.KEEP_ME).toBe('yes');
    for (const gone of [
      'AWS_PROFILE',
      'AWS_DEFAULT_PROFILE',
      'AWS_SDK_LOAD_CONFIG',
      'AWS_CREDENTIAL_FILE',
    ]) {
      expect(env[gone]).toBeUndefined();
    }
  });

  it('reuses the cached session: a second exec makes no STS call', async () => {
    await w.run(['exec', 'two', '--', 'true']);
    const before = w.fake.count('GetSessionToken');
    const result = await w.run(['exec', 'two', '--', 'env']);
    expect(result.exitCode).toBe(0);
    expect(parseEnvLines(result.stdout).AWS_REGION).toBe('us-east-2');
    expect(w.fake.count('GetSessionToken')).toBe(before);
  });

  it('sets no region variables when no region is known', async () => {
    const result = await w.run(['exec', 'noregion', '--', 'env']);
    expect(result.exitCode).toBe(0);
    const env = parseEnvLines(result.stdout);
    expect(env.AWS_REGION).toBeUndefined();
    expect(env.AWS_DEFAULT_REGION).toBeUndefined();
    const withFlag = await w.run(['exec', '--region', 'ap-south-1', 'noregion', '--', 'env']);
    expect(parseEnvLines(withFlag.stdout).AWS_REGION).toBe('ap-south-1');
  });

  it('--no-session gives the stored long-term key and no session variables', async () => {
    // Not even those of the shell's earlier session (an `export` or direnv's
    // leaves them, without AWS_VAULT): an SDK would take the key as expired.
    const result = await w.run(['exec', '--no-session', 'plain', '--', 'env'], {
      env: w.env({
        AWS_SESSION_TOKEN: 'stale',
        AWS_CREDENTIAL_EXPIRATION: '2020-01-01T00:00:00Z',
        AWS_SESSION_EXPIRATION: '2020-01-01T00:00:00Z',
      }),
    });
    expect(result.exitCode).toBe(0);
    const env = parseEnvLines(result.stdout);
    expect(env.AWS_ACCESS_KEY_ID).toBe(plainKey.accessKeyId);
    expect(env.AWS_SECRET_ACCESS_KEY).toBe(plainKey.secretAccessKey);
    for (const name of [
      'AWS_SESSION_TOKEN',
      'AWS_SECURITY_TOKEN',
      'AWS_CREDENTIAL_EXPIRATION',
      'AWS_SESSION_EXPIRATION',
    ]) {
      expect(env[name]).toBeUndefined();
    }
  });

  it('--duration sets the session length (Go duration forms)', async () => {
    const fresh = await startExecWorld('[profile d]\n');
    try {
      await fresh.addUser('d');
      const two = await fresh.run(['exec', '--duration=90m', 'd', '--', 'env']);
      expect(two.stderr).toBe('');
      const left =
        Date.parse(parseEnvLines(two.stdout).AWS_CREDENTIAL_EXPIRATION as string) - Date.now();
      expect(left).toBeGreaterThan(85 * 60_000);
      expect(left).toBeLessThanOrEqual(90 * 60_000);
      const bad = await fresh.run(['exec', '--duration=soon', 'd', '--', 'true']);
      expect(bad.exitCode).toBe(1);
      expect(bad.stderr).toContain('soon');
    } finally {
      await fresh.close();
    }
  });

  it('passes flags after the profile to the command', async () => {
    const result = await w.run(['exec', 'plain', 'sh', '-c', 'echo "$0 $1"', '--region', 'x']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('--region x\n');
  });

  it('starts $SHELL without a command', async () => {
    const result = await w.run(['exec', 'plain'], {
      env: w.env({ SHELL: '/bin/sh' }),
      input: 'echo "vault=$AWS_VAULT"\n',
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('vault=plain\n');
  });

  it('starts /bin/sh without a command when SHELL is unset or empty', async () => {
    for (const shell of [undefined, '']) {
      const result = await w.run(['exec', 'plain'], {
        env: w.env({ SHELL: shell }),
        input: 'echo "$0 vault=$AWS_VAULT"\n',
      });
      expect(result).toMatchObject({ exitCode: 0, stdout: '/bin/sh vault=plain\n', stderr: '' });
    }
  });

  // Go: an empty command word is no command (`exec P -- "$CMD" ARGS` with CMD unset).
  it('starts $SHELL with the rest as its arguments when the command word is empty', async () => {
    const env = w.env({ SHELL: '/bin/echo' });
    const args = await w.run(['exec', 'plain', '--', '', 'hello', '--region'], { env });
    expect(args).toMatchObject({ exitCode: 0, stdout: 'hello --region\n', stderr: '' });
    const bare = await w.run(['exec', 'plain', ''], { env });
    expect(bare).toMatchObject({ exitCode: 0, stdout: '\n', stderr: '' });
  });

  it('replaces itself with the command (no aws-vault process stays resident)', async () => {
    // The child's pid is the aws-vault pid and its parent is the test runner.
    const result = await w.run(['exec', 'plain', '--', 'sh', '-c', 'echo "$PPID"']);
    expect(result.exitCode).toBe(0);
    expect(Number(result.stdout.trim())).toBe(process.pid);
  });

  it('leaves SIGPIPE at its default in the command (regression: Node ignores it and execve kept that)', async () => {
    const result = await w.run([
      'exec',
      'plain',
      '--',
      'sh',
      '-c',
      'grep SigIgn /proc/self/status',
    ]);
    expect(result.stdout.trim()).toBe('SigIgn:\t0000000000000000');
  });

  it('exits with the command exit code, 128+N for a signal, 127 for a missing command', async () => {
    const three = await w.run(['exec', 'plain', '--', 'sh', '-c', 'exit 3']);
    expect(three.exitCode).toBe(3);
    // execve: the process itself dies of the signal, as the command did.
    const killed = await w.run(['exec', 'plain', '--', 'sh', '-c', 'kill -TERM $$']);
    expect(killed.signal === 'SIGTERM' || killed.exitCode === 143).toBe(true);
    const missing = await w.run(['exec', 'plain', '--', 'no-such-command-xyz']);
    expect(missing.exitCode).toBe(127);
    expect(missing.stderr).toBe('aws-vault: error: exec: no-such-command-xyz: command not found\n');
    // Without a command: the shell $SHELL names, and the error says where the name came from.
    const noShell = await w.run(['exec', 'plain'], { env: w.env({ SHELL: '/bin/nosuchsh' }) });
    expect(noShell.exitCode).toBe(127);
    expect(noShell.stderr).toBe(
      'aws-vault: error: exec: /bin/nosuchsh: command not found (the shell named by $SHELL; set SHELL or give a command after --)\n',
    );
  });

  it('says so when AWS_CONFIG_FILE names a folder', async () => {
    const result = await w.run(['exec', 'plain', '--', 'true'], {
      env: w.env({ AWS_CONFIG_FILE: w.home.home }),
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      `aws-vault: error: exec: ${w.home.home}: the config file is a folder; point AWS_CONFIG_FILE at the config file itself (the default is ~/.aws/config)\n`,
    );
  });

  it('exits 128+N with a server, where aws-vault stays as the parent', async () => {
    const killed = await w.run([
      'exec',
      '--ecs-server',
      'plain',
      '--',
      'sh',
      '-c',
      'kill -TERM $$',
    ]);
    expect(killed.exitCode).toBe(143);
    const port = await closedPort();
    const three = await w.run([
      'exec',
      '--ec2-server-address',
      `127.0.0.1:${port}`,
      'plain',
      '--',
      'sh',
      '-c',
      'exit 3',
    ]);
    expect(three.exitCode).toBe(3);
  });

  it('a directory or a non-executable file is exit 126 with the shell wording, a missing command 127', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aws-vault-exec-'));
    try {
      const plainFile = join(dir, 'notes.txt');
      writeFileSync(plainFile, 'echo hi\n');
      chmodSync(plainFile, 0o644);
      const directory = await w.run(['exec', 'plain', '--', dir]);
      expect(directory.exitCode).toBe(126);
      expect(directory.stderr).toBe(`aws-vault: error: exec: ${dir}: is a directory\n`);
      const file = await w.run(['exec', 'plain', '--', plainFile]);
      expect(file.exitCode).toBe(126);
      expect(file.stderr).toBe(`aws-vault: error: exec: ${plainFile}: permission denied\n`);
      // PATH lookup skips directories, as bash does: `tmp` is not found even with / on PATH.
      const inPath = await w.run(['exec', 'plain', '--', 'tmp'], {
        env: w.env({ PATH: `/:${w.env().PATH ?? ''}` }),
      });
      expect(inPath.exitCode).toBe(127);
      expect(inPath.stderr).toBe('aws-vault: error: exec: tmp: command not found\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a command the kernel would refuse is a clear error (no Node abort), exec or spawned', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aws-vault-exec-'));
    try {
      const script = (name: string, text: string) => {
        writeFileSync(join(dir, name), text);
        chmodSync(join(dir, name), 0o755);
        return join(dir, name);
      };
      const crlf = script('crlf.sh', '#!/bin/sh\r\necho hi\r\n');
      const noInterpreter = script('bad.sh', '#!/nonexistent/interp\necho hi\n');
      // A program whose dynamic loader is missing (as an Alpine build on glibc).
      const binary = readFileSync('/bin/true');
      const at = binary.indexOf('ld-linux');
      expect(at).toBeGreaterThan(0);
      binary.write('ld-nolin', at, 'latin1');
      const loader = binary.toString(
        'latin1',
        binary.lastIndexOf(0, at) + 1,
        binary.indexOf(0, at),
      );
      writeFileSync(join(dir, 'foreign'), binary, { mode: 0o755 });
      const cases = [
        [crlf, 'its #! line ends in a carriage return (Windows line ends)'],
        [noInterpreter, 'its interpreter /nonexistent/interp does not exist'],
        [join(dir, 'foreign'), `its program interpreter ${loader} does not exist`],
      ];
      for (const server of [[], ['--ecs-server']]) {
        for (const [command, why] of cases) {
          const r = await w.run(['exec', ...server, 'plain', '--', command as string]);
          expect(r.stderr).toBe(
            `aws-vault: error: exec: ${command}: cannot execute: required file not found: ${why}\n`,
          );
          expect(r.exitCode).toBe(127);
        }
      }
      // A script whose interpreter is itself a script runs (the kernel allows it).
      const inner = script('inner', '#!/bin/sh\nexec /bin/sh "$@"\n');
      const outer = script('outer.sh', `#!${inner}\necho "pid $$"\n`);
      const ok = await w.run(['exec', 'plain', '--', outer]);
      expect(ok).toMatchObject({ exitCode: 0, stderr: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does not pass AWS_VAULT_FILE_PASSPHRASE to the command (with or without a server)', async () => {
    const env = w.env();
    expect(env.AWS_VAULT_FILE_PASSPHRASE).toBeTruthy();
    for (const args of [
      ['exec', 'plain', '--', 'env'],
      ['exec', '--ecs-server', 'plain', '--', 'env'],
    ]) {
      const result = await w.run(args);
      expect(result.exitCode).toBe(0);
      const childEnv = parseEnvLines(result.stdout);
      expect(childEnv.AWS_VAULT).toBe('plain');
      expect(childEnv).not.toHaveProperty('AWS_VAULT_FILE_PASSPHRASE');
      expect(result.stdout).not.toContain(env.AWS_VAULT_FILE_PASSPHRASE);
    }
  });

  it('keeps AWS_VAULT_FILE_PASSPHRASE from mfa_process, and gives it to credential_process (a nested aws-vault)', async () => {
    const dir = w.home.home;
    const user = await w.addUser('withmfa', { mfa: true });
    const source = w.fake.createUser('cp-source');
    writeFileSync(join(dir, 'mfa-code'), `${w.fake.mfaCode(user.userName)}\n`);
    const doc = JSON.stringify({
      Version: 1,
      AccessKeyId: source.accessKeyId,
      SecretAccessKey: source.secretAccessKey,
    });
    writeFileSync(join(dir, 'cp-doc'), doc, { mode: 0o600 });
    w.home.writeConfig(
      `${CONFIG}\n[profile withmfa]\nmfa_serial = ${user.mfaSerial}\n` +
        `mfa_process = sh -c 'env > ${dir}/mfa-env; cat ${dir}/mfa-code'\n` +
        `[profile fromcp]\ncredential_process = sh -c 'env > ${dir}/cp-env; cat ${dir}/cp-doc'\n`,
    );
    try {
      for (const profile of ['withmfa', 'fromcp']) {
        const result = await w.run(['exec', profile, '--', 'true']);
        expect(result.exitCode, result.stderr).toBe(0);
      }
      const passphrase = w.env().AWS_VAULT_FILE_PASSPHRASE as string;
      expect(passphrase).toBeTruthy();
      expect(readFileSync(join(dir, 'mfa-env'), 'utf8')).not.toContain('AWS_VAULT_FILE_PASSPHRASE');
      expect(
        parseEnvLines(readFileSync(join(dir, 'cp-env'), 'utf8')).AWS_VAULT_FILE_PASSPHRASE,
      ).toBe(passphrase);
    } finally {
      w.home.writeConfig(CONFIG);
    }
  });

  it("prints Go's subshell hint on a terminal, unless AWS_VAULT_DISABLE_HELP_MESSAGE is set", async () => {
    // `script` gives aws-vault a terminal; the "shell" is /bin/true, which exits at once.
    const onTty = (extra: NodeJS.ProcessEnv, args = 'exec plain') =>
      new Promise<{ code: number | null; out: string }>((resolvePromise) => {
        // script runs its command with $SHELL, so aws-vault's SHELL is set inside.
        const child = spawn(
          'script',
          ['-qec', `SHELL=/bin/true "${process.execPath}" "${BIN}" ${args}`, '/dev/null'],
          { env: w.env({ SHELL: '/bin/sh', ...extra }), stdio: ['ignore', 'pipe', 'inherit'] },
        );
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolvePromise({ code, out });
        });
      });
    const hint = 'Starting subshell /bin/true, use `exit` to exit the subshell\r\n';
    expect(await onTty({})).toEqual({ code: 0, out: hint });
    expect(await onTty({ AWS_VAULT_DISABLE_HELP_MESSAGE: '1' })).toEqual({ code: 0, out: '' });
    // A command given: no hint.
    expect(await onTty({}, 'exec plain -- true')).toEqual({ code: 0, out: '' });
    expect((await onTty({}, 'exec --ecs-server plain')).out).toBe(
      "Starting a local ECS credential server; your app's AWS sdk must support AWS_CONTAINER_CREDENTIALS_FULL_URI.\r\n" +
        hint,
    );
  });

  it('prints no subshell hint without a terminal', async () => {
    const result = await w.run(['exec', 'plain'], { env: w.env({ SHELL: '/bin/true' }) });
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe('');
  });

  it('refuses to run inside an aws-vault subshell', async () => {
    const result = await w.run(['exec', 'plain', '--', 'true'], {
      env: w.env({ AWS_VAULT: 'other' }),
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      "aws-vault: error: exec: running in an existing aws-vault subshell; 'exit' from the subshell or unset AWS_VAULT to force\n",
    );
  });

  it('refuses conflicting server flags', async () => {
    const result = await w.run(['exec', '--ecs-server', '--ec2-server', 'plain', '--', 'true']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("Can't use --ec2-server with --ecs-server");
  });

  it('retries a throttled STS call', async () => {
    const fresh = await startExecWorld('[profile t]\n');
    try {
      await fresh.addUser('t');
      fresh.fake.failNext('GetSessionToken', { status: 400, code: 'Throttling', count: 2 });
      const result = await fresh.run(['exec', 't', '--', 'true']);
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(0);
      expect(fresh.fake.count('GetSessionToken')).toBe(3);
    } finally {
      await fresh.close();
    }
  });

  it('fails with a clear error within seconds when the endpoint is down', async () => {
    const fresh = await startExecWorld('[profile down]\n');
    try {
      await fresh.addUser('down');
      const port = await closedPort();
      const started = Date.now();
      const result = await fresh.run(['exec', 'down', '--', 'true'], {
        env: fresh.env({ AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` }),
      });
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(/^aws-vault: error: exec: /);
      expect(result.stderr).toContain(`127.0.0.1:${port}`);
      expect(result.stderr).not.toContain('    at ');
    } finally {
      await fresh.close();
    }
  });

  it('fails with a clear error, not a hang, when the endpoint connects but never answers', async () => {
    const fresh = await startExecWorld('[profile silent]\n');
    const sockets: import('node:net').Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done));
    const { port } = silent.address() as import('node:net').AddressInfo;
    try {
      await fresh.addUser('silent');
      const started = Date.now();
      const result = await fresh.run(['exec', 'silent', '--', 'true'], {
        env: fresh.env({ AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` }),
      });
      const took = Date.now() - started;
      expect(took).toBeGreaterThan(9_000);
      expect(took).toBeLessThan(20_000);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toBe(
        `aws-vault: error: exec: profile silent: cannot reach STS at http://127.0.0.1:${port}: connected, but no answer within 10s; check your network, proxy and endpoint settings (AWS_ENDPOINT_URL*, endpoint_url)\n`,
      );
      expect(sockets).toHaveLength(1); // not retried: one more wait would help no one
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
      await fresh.close();
    }
  }, 30_000);

  it.skipIf(!hasSecretService())('works with the real Secret Service backend', async () => {
    const ss = await startExecWorld('[profile ss]\nregion = eu-central-1\n', {
      backend: 'secret-service',
    });
    try {
      await ss.addUser('ss');
      const result = await ss.run(['exec', 'ss', '--', 'env']);
      expect(result.stderr).toBe('');
      const env = parseEnvLines(result.stdout);
      expect(env.AWS_SESSION_TOKEN).toBeTruthy();
      expect(env.AWS_REGION).toBe('eu-central-1');
      await runCli(['remove', '-f', 'ss'], { env: ss.env() });
    } finally {
      await ss.close();
    }
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 1;
      server.close(() => resolve(port));
    });
  });
}

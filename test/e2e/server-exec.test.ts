// `aws-vault exec` with a credential server, through the built binary,
// against the local AWS endpoint: the real AWS CLI v2 as the child.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from './_runCli.ts';
import { hasTmux, startTmux, waitFor } from '../helpers/tmux.ts';
import { parseEnvLines, startExecWorld, type ExecWorld, type SeededUser } from './_exec.ts';

const AWS = '/usr/bin/aws';
let w: ExecWorld;
let user: SeededUser;
let mfaUser: SeededUser;

function get(url: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { headers: token ? { Authorization: token } : {}, agent: false },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  w = await startExecWorld('');
  user = await w.addUser('srv');
  mfaUser = await w.addUser('srvmfa', { mfa: true });
  w.home.writeConfig(
    [
      '[profile srv]',
      'region = eu-central-1',
      '[profile srvmfa]',
      `mfa_serial = ${mfaUser.mfaSerial}`,
      '',
    ].join('\n'),
  );
});
afterAll(async () => {
  await w?.close();
});

/** The AWS CLI as the child, with no credentials but the server's. */
const cliArgs = () => [
  '--',
  AWS,
  'sts',
  'get-caller-identity',
  '--endpoint-url',
  w.fake.url,
  '--output',
  'json',
];

describe('exec with a credential server', { timeout: 90_000 }, () => {
  it('--server: the AWS CLI gets credentials from the ECS server, no keys in its environment', async () => {
    const calls = w.fake.count('GetSessionToken');
    const result = await w.run(['exec', '--server', 'srv', ...cliArgs()], {
      env: w.env({ AWS_EC2_METADATA_DISABLED: 'true' }),
    });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout).Arn).toBe(user.arn);
    expect(w.fake.count('GetSessionToken') - calls).toBeLessThanOrEqual(1);

    // Inherited from a container (ECS task, CodeBuild, EKS): the SDKs would try them first.
    const inherited = {
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials/task',
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: '/var/run/secrets/token',
      AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/secrets/eks/token',
    };
    const env = parseEnvLines(
      (await w.run(['exec', '-s', 'srv', '--', 'env'], { env: w.env(inherited) })).stdout,
    );
    for (const name of Object.keys(inherited)) expect(env[name]).toBeUndefined();
    expect(env.AWS_CONTAINER_CREDENTIALS_FULL_URI).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(env.AWS_CONTAINER_AUTHORIZATION_TOKEN?.length).toBeGreaterThanOrEqual(40);
    expect(env.AWS_VAULT).toBe('srv');
    expect(env.AWS_REGION).toBe('eu-central-1');
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
      expect(env[name]).toBeUndefined();
    }
  });

  it('--ec2-server-address: the AWS CLI gets credentials from the metadata server', async () => {
    const result = await w.run([
      'exec',
      '--ec2-server-address',
      '127.0.0.1:0',
      'srv',
      ...cliArgs(),
    ]);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout).Arn).toBe(user.arn);
    const env = parseEnvLines(
      (
        await w.run(['exec', '--ec2-server-address', '127.0.0.1:0', 'srv', '--', 'env'], {
          env: w.env({ AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.170.2/creds' }),
        })
      ).stdout,
    );
    expect(env.AWS_EC2_METADATA_SERVICE_ENDPOINT).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(env.AWS_CONTAINER_CREDENTIALS_FULL_URI).toBeUndefined();
    expect(env.AWS_ACCESS_KEY_ID).toBeUndefined();
  });

  it('exits with the child’s code and stops the server when the child exits', async () => {
    const dir = join(w.home.home, 'exit');
    mkdirSync(dir, { recursive: true });
    const script = `echo "$AWS_CONTAINER_CREDENTIALS_FULL_URI" > ${dir}/uri; exit 3`;
    const result = await w.run(['exec', '-s', 'srv', '--', 'sh', '-c', script]);
    expect(result.exitCode).toBe(3);
    const uri = readFileSync(join(dir, 'uri'), 'utf8').trim();
    await expect(get(uri)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('exits with the child when a fetch for it is still waiting (an mfa_process), stops that mfa_process, and makes no late STS call', async () => {
    const dir = join(w.home.home, 'late');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'code'), `${w.fake.mfaCode(mfaUser.userName)}\n`);
    const config = readFileSync(w.home.configFile, 'utf8');
    w.home.writeConfig(
      `${config}\n[profile slowmfa]\nsource_profile = srvmfa\nmfa_serial = ${mfaUser.mfaSerial}\nmfa_process = echo $$ > ${dir}/pid; sleep 4.321; cat ${dir}/code\n`,
    );
    try {
      expect((await w.run(['clear'])).exitCode).toBe(0);
      const before = w.fake.count('GetSessionToken');
      // The child asks for credentials, does not wait for them, and exits.
      const child = `fetch(process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI, { headers: { Authorization: process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN } }).catch(() => {}); setTimeout(() => process.exit(5), 500);`;
      // Timed to aws-vault's exit, not to its pipes' end: the mfa_process left
      // running holds the stderr it shares with aws-vault until it ends.
      const started = Date.now();
      const vault = spawn(
        process.execPath,
        [BIN, 'exec', '--lazy', '-s', 'slowmfa', '--', process.execPath, '-e', child],
        { env: w.env(), stdio: 'ignore' },
      );
      const exitCode = await new Promise((resolve) => vault.once('exit', resolve));
      expect(exitCode).toBe(5);
      expect(Date.now() - started).toBeLessThan(3500);
      // The mfa_process's shell, and the sleep it started, are stopped with it.
      const shell = Number(readFileSync(join(dir, 'pid'), 'utf8'));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(running(shell)).toBe(false);
      expect(processesRunning('sleep\u00004.321\u0000')).toEqual([]);
      // Past the mfa_process's end: nothing asked STS for the command that is gone.
      await new Promise((resolve) => setTimeout(resolve, 4000));
      expect(w.fake.count('GetSessionToken')).toBe(before);
    } finally {
      w.home.writeConfig(config);
    }
  });

  it.runIf(hasTmux)(
    'a credential_process run for the command gets no terminal: a nested prompt fails at once',
    async () => {
      const dir = join(w.home.home, 'cp-tty');
      mkdirSync(dir, { recursive: true });
      const config = readFileSync(w.home.configFile, 'utf8');
      // A nested aws-vault that needs an MFA code (no session cached).
      w.home.writeConfig(
        `${config}\n[profile cpmfa]\ncredential_process = '${process.execPath}' '${BIN}' export --format=json srvmfa\n`,
      );
      try {
        expect((await w.run(['clear'])).exitCode).toBe(0);
        const child = `fetch(process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI, { headers: { Authorization: process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN } }).then(async (r) => require('fs').writeFileSync('${dir}/answer', r.status + ' ' + (await r.text())))`;
        const term = startTmux(
          w.home.home,
          w.env(),
          `'${process.execPath}' '${BIN}' exec --lazy -s cpmfa -- '${process.execPath}' -e "${child}"\necho "exit=$?"\nsleep 30`,
          { width: 250, height: 50 },
        );
        try {
          const screen = await waitFor(() => term.screen().includes('exit=') && term.screen());
          expect(screen).toContain('exit=0');
          expect(screen).not.toMatch(/Enter MFA code/);
          const answer = readFileSync(join(dir, 'answer'), 'utf8');
          expect(answer).toMatch(/^500 /);
          expect(answer).toMatch(
            /credential_process .* exited with code 1; its messages are above/,
          );
          // Its messages: the nested aws-vault found no terminal to ask on.
          expect(screen.replace(/\s+/g, ' ')).toMatch(
            /is needed but there is no terminal to ask on/,
          );
        } finally {
          term.kill();
        }
      } finally {
        w.home.writeConfig(config);
      }
    },
  );

  it('--debug logs each request, never the token or a credential', async () => {
    const dir = join(w.home.home, 'debug');
    mkdirSync(dir, { recursive: true });
    // The child fetches its credentials and keeps them to compare with the log.
    const fetcher = `
      const r = await fetch(process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI, { headers: { Authorization: process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN } });
      const fs = await import('node:fs');
      fs.writeFileSync('${dir}/creds', JSON.stringify({ token: process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN, status: r.status, doc: await r.json() }));
    `;
    const result = await w.run([
      '--debug',
      'exec',
      '-s',
      'srv',
      '--',
      process.execPath,
      '--input-type=module',
      '-e',
      fetcher,
    ]);
    expect(result.exitCode).toBe(0);
    const seen = JSON.parse(readFileSync(join(dir, 'creds'), 'utf8'));
    expect(seen.status).toBe(200);
    expect(result.stderr).toContain('ecs server: GET / 200');
    for (const secret of [seen.token, seen.doc.SecretAccessKey, seen.doc.Token]) {
      expect(secret.length).toBeGreaterThan(10);
      expect(result.stderr).not.toContain(secret);
    }
  });

  it('--lazy makes no STS call until the first request', async () => {
    expect((await w.run(['clear'])).exitCode).toBe(0);
    const before = w.fake.count('GetSessionToken');
    const result = await w.run(['exec', '--lazy', '-s', 'srv', '--', 'true']);
    expect(result.exitCode).toBe(0);
    expect(w.fake.count('GetSessionToken')).toBe(before);
  });

  it('fails before starting the child when the credentials cannot be fetched', async () => {
    expect((await w.run(['clear'])).exitCode).toBe(0);
    const marker = join(w.home.home, 'should-not-exist');
    w.fake.failNext('GetSessionToken', { status: 403, code: 'AccessDenied', message: 'nope' });
    const result = await w.run(['exec', '-s', 'srv', '--', 'touch', marker]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^aws-vault: error: exec: /);
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses --prompt=terminal for an MFA profile with a server', async () => {
    const result = await w.run(['--prompt', 'terminal', 'exec', '-s', 'srvmfa', '--', 'true']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/--prompt=terminal.*server/);
  });

  it('refuses a non-loopback --ec2-server-address', async () => {
    const result = await w.run([
      'exec',
      '--ec2-server-address',
      '0.0.0.0:9099',
      'srv',
      '--',
      'true',
    ]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('must be a loopback address');
  });

  it('the internal proxy command refuses a target that is not on loopback', async () => {
    const result = await w.run(['proxy', '--target', '10.0.0.1:80']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('--target must be a loopback HOST:PORT');
  });

  it('the internal proxy command listens nowhere but 169.254.169.254:80 (it runs as root)', async () => {
    for (const flag of ['--listen-address=8.8.8.8', '--listen-port=53']) {
      const result = await w.run(['proxy', '--target', '127.0.0.1:9099', flag]);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(`unknown option '${flag}'`);
    }
  });
});

/** Whether `pid` is a live process (a zombie waiting for its parent is not). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The live processes whose command line is `cmdline` (NUL-separated, as /proc has it). */
function processesRunning(cmdline: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        return readFileSync(`/proc/${name}/cmdline`, 'utf8') === cmdline;
      } catch {
        return false;
      }
    })
    .map(Number)
    .filter(running);
}

// Security review, end to end: many commands run with --debug against the
// local AWS endpoint, while every process's argv is sampled from /proc. Then
// no secret the endpoint ever issued (long-term keys, session credentials),
// nor any MFA code, file passphrase, ECS server token, web identity token,
// credential_process secret or console sign-in token, may appear:
// - in stderr (or in stdout, except where printing credentials is the
//   command's job: export, exec -j, login --stdout),
// - in the argv of any process (pass, mfa_process, credential_process, the
//   child, the browser opener...),
// - in any file under HOME or TMPDIR, in any encoding we might write.
// And every file and folder the commands create under ~/.awsvault is
// 0600/0700, lock files included.
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnvLines, startExecWorld, type ExecWorld } from './_exec.ts';
import { BIN, runCli, type RunResult } from './_runCli.ts';
import { FAKE_PASS } from '../helpers/fakePass.ts';

const PASSPHRASE = `passphrase ${Date.now().toString(36)} of the security test`;

/** A loopback port nobody listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The forms a secret could take in a file or a line we write. */
function encodings(secret: string): string[] {
  const forms = new Set([
    secret,
    Buffer.from(secret).toString('base64'),
    Buffer.from(secret).toString('base64url'),
    encodeURIComponent(secret),
    JSON.stringify(secret).slice(1, -1),
  ]);
  return [...forms].filter((f) => f.length >= 6);
}

interface Sample {
  cmdlines: Set<string>;
  /** Files seen in the lock folder while commands ran, with their modes. */
  lockFiles: Map<string, number>;
}

/** The parent pid of `pid`, from /proc/PID/stat. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is ours: a descendant of this test process, or a process
 * that runs with our temp HOME. Other tests run on the machine meanwhile
 * and their processes are theirs to check.
 */
function isOurs(pid: number, home: string): boolean {
  for (let p: number | undefined = pid, depth = 0; p && p > 1 && depth < 50; depth++) {
    if (p === process.pid) return true;
    p = parentOf(p);
  }
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`HOME=${home}`);
  } catch {
    return false;
  }
}

/** Samples /proc/<pid>/cmdline of our processes, and the lock folder, until stopped. */
function startSampler(lockDir: string, home: string): { stop(): Promise<Sample> } {
  const sample: Sample = { cmdlines: new Set(), lockFiles: new Map() };
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const pid of readdirSync('/proc')) {
        if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
        try {
          if (!isOurs(Number(pid), home)) continue;
          sample.cmdlines.add(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '));
        } catch {
          // It ended while we looked.
        }
      }
      try {
        for (const name of readdirSync(lockDir)) {
          try {
            sample.lockFiles.set(name, statSync(join(lockDir, name)).mode & 0o777);
          } catch {
            // Released while we looked.
          }
        }
      } catch {
        // Not created yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return sample;
    },
  };
}

function listTree(dir: string): { files: string[]; dirs: string[] } {
  const files: string[] = [];
  const dirs: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        dirs.push(p);
        walk(p);
      } else if (e.isFile()) files.push(p);
    }
  };
  walk(dir);
  return { files, dirs };
}

describe('security: no secret leaks through output, argv or files', () => {
  let w: ExecWorld;
  /** Test fixtures that hold secrets on purpose (MFA code, token files); outside HOME. */
  let fixtures: string;
  let tmp: string;
  const secrets = new Set<string>();
  /** Outputs that must hold no secret. */
  const quiet: { what: string; text: string }[] = [];
  let sampler: { stop(): Promise<Sample> };
  const wiToken = { value: '' };
  /** The command lines we typed: `--mfa-token CODE` is the user's own choice of argv. */
  const typed = new Set<string>();

  const env = (extra: NodeJS.ProcessEnv = {}) =>
    w.env({
      TMPDIR: tmp,
      AWS_ENDPOINT_URL_SIGNIN: w.fake.url,
      AWS_VAULT_FILE_PASSPHRASE: PASSPHRASE,
      ...extra,
    });

  /** Runs aws-vault --debug ARGS; its stderr (and stdout unless `printsSecrets`) is scanned. */
  async function run(
    args: string[],
    options: { extra?: NodeJS.ProcessEnv; printsSecrets?: boolean; ok?: boolean } = {},
  ): Promise<RunResult> {
    typed.add(`${[process.execPath, BIN, '--debug', ...args].join(' ')} `);
    const r = await runCli(['--debug', ...args], { env: env(options.extra), timeout: 30_000 });
    quiet.push({ what: `stderr of ${args.join(' ')}`, text: r.stderr });
    if (!options.printsSecrets) quiet.push({ what: `stdout of ${args.join(' ')}`, text: r.stdout });
    if (options.ok !== false) expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r;
  }

  beforeAll(async () => {
    w = await startExecWorld();
    fixtures = mkdtempSync(join(tmpdir(), 'aws-vault-security-'));
    tmp = join(w.home.home, 'tmp');
    mkdirSync(tmp, { mode: 0o700 });
    sampler = startSampler(join(w.home.home, '.awsvault', 'locks'), w.home.home);
  });

  afterAll(async () => {
    await sampler?.stop();
    await w?.close();
    rmSync(fixtures, { recursive: true, force: true });
  });

  it('runs add, list, exec (plain, chained MFA role, ECS and EC2 servers), export, login, rotate, clear, remove and error paths', async () => {
    const fake = w.fake;
    const plain = fake.createUser('plain');
    const mfaUser = fake.createUser('mfa-user', { mfa: true });
    const role = fake.createRole('admin', { requireMfa: true });
    const wiRole = fake.createRole('wi-role', { principals: ['web-identity:dev'] });
    wiToken.value = fake.webIdentityToken('dev');
    const codeFile = join(fixtures, 'mfa-code');
    const wiFile = join(fixtures, 'wi-token');
    writeFileSync(wiFile, wiToken.value);
    const processSecret = `ProcSecret/${Date.now().toString(36)}+xyz`;
    const processDoc = join(fixtures, 'process.json');
    writeFileSync(
      processDoc,
      JSON.stringify({
        Version: 1,
        AccessKeyId: 'AKIAPROCESS0001',
        SecretAccessKey: processSecret,
      }),
    );
    secrets.add(PASSPHRASE).add(wiToken.value).add(processSecret);

    w.home.writeConfig(`[profile plain]
region = eu-west-1

[profile mfa]
mfa_serial = ${mfaUser.mfaSerial}
mfa_process = cat '${codeFile}'

[profile mfa-role]
source_profile = mfa
role_arn = ${role.arn}
mfa_serial = ${mfaUser.mfaSerial}
mfa_process = cat '${codeFile}'
region = eu-west-1

[profile wi]
role_arn = ${wiRole.arn}
web_identity_token_file = ${wiFile}

[profile cp]
credential_process = cat '${processDoc}'
`);

    // add: both users, through --env (the secret is in the environment, never argv).
    for (const [profile, user] of [
      ['plain', plain],
      ['mfa', mfaUser],
    ] as const) {
      await run(['add', '--env', '--no-add-config', profile], {
        extra: { AWS_ACCESS_KEY_ID: user.accessKeyId, AWS_SECRET_ACCESS_KEY: user.secretAccessKey },
      });
    }
    await run(['list']);
    await run(['list', '--json']);

    // exec through the chained MFA role: the child replaces aws-vault (execve).
    let code = fake.mfaCode('mfa-user');
    secrets.add(code);
    writeFileSync(codeFile, `${code}\n`);
    const envFile = join(fixtures, 'role-env');
    await run(['exec', 'mfa-role', '--', 'sh', '-c', `env > '${envFile}'; sleep 0.3`]);
    const roleEnv = parseEnvLines(readFileSync(envFile, 'utf8'));
    expect(roleEnv.AWS_SESSION_TOKEN).toBeTruthy();
    secrets.add(roleEnv.AWS_SECRET_ACCESS_KEY as string).add(roleEnv.AWS_SESSION_TOKEN as string);

    // The ECS server with mfa_process: the child reads the server with its token.
    await run(['clear']);
    code = fake.mfaCode('mfa-user', 1);
    secrets.add(code);
    writeFileSync(codeFile, `${code}\n`);
    const serverOut = join(fixtures, 'ecs');
    const fetchScript = join(fixtures, 'fetch.mjs');
    writeFileSync(
      fetchScript,
      `import { writeFileSync } from 'node:fs';
const [out, url, header] = process.argv.slice(2);
const r = await fetch(process.env[url] ?? url, header ? { headers: { authorization: process.env[header] } } : {});
writeFileSync(out, JSON.stringify({ status: r.status, token: process.env[header] ?? '', doc: await r.json() }));
await new Promise((res) => setTimeout(res, 300));
`,
    );
    await run([
      'exec',
      '--ecs-server',
      'mfa-role',
      '--',
      process.execPath,
      fetchScript,
      serverOut,
      'AWS_CONTAINER_CREDENTIALS_FULL_URI',
      'AWS_CONTAINER_AUTHORIZATION_TOKEN',
    ]);
    const ecs = JSON.parse(readFileSync(serverOut, 'utf8'));
    expect(ecs.status).toBe(200);
    expect(ecs.token.length).toBeGreaterThanOrEqual(40);
    secrets.add(ecs.token).add(ecs.doc.SecretAccessKey).add(ecs.doc.Token);

    // The EC2 server on a loopback address.
    const imdsOut = join(fixtures, 'imds');
    await run([
      'exec',
      '--ec2-server-address',
      `127.0.0.1:${await freePort()}`,
      'plain',
      '--',
      'sh',
      '-c',
      `'${process.execPath}' '${fetchScript}' '${imdsOut}' "\${AWS_EC2_METADATA_SERVICE_ENDPOINT}latest/meta-data/iam/security-credentials/local-credentials"`,
    ]);
    const imds = JSON.parse(readFileSync(imdsOut, 'utf8'));
    expect(imds.doc.Code).toBe('Success');
    secrets.add(imds.doc.SecretAccessKey).add(imds.doc.Token);

    // export in every format and exec -j: their stdout carries credentials by design.
    for (const format of ['env', 'export-env', 'json', 'ini']) {
      const r = await run(['export', '--format', format, 'plain'], { printsSecrets: true });
      expect(r.stdout.length).toBeGreaterThan(40);
    }
    const j = await run(['exec', '-j', 'mfa-role'], { printsSecrets: true });
    secrets.add(JSON.parse(j.stdout).SessionToken);

    // web identity and credential_process sources.
    const wiEnv = join(fixtures, 'wi-env');
    await run(['exec', 'wi', '--', 'sh', '-c', `env > '${wiEnv}'`]);
    secrets.add(parseEnvLines(readFileSync(wiEnv, 'utf8')).AWS_SESSION_TOKEN as string);
    await run(['exec', 'cp', '--', 'true']);
    await run(['export', '--format', 'json', 'cp'], { printsSecrets: true });

    // login --stdout: the URL (with its SigninToken) is the command's output, never its log.
    for (const profile of ['plain', 'mfa-role']) {
      const r = await run(['login', profile, '--stdout'], { printsSecrets: true });
      const token = new URL(r.stdout.trim()).searchParams.get('SigninToken');
      expect(token).toBeTruthy();
      secrets.add(token as string);
    }

    // rotate: the new secret comes from IAM and goes into the vault only.
    await run(['rotate', 'plain']);

    // Error paths, with --debug (stack traces and causes printed).
    const wrongCode = fake.mfaCode('mfa-user', 5); // outside the ±1 step window
    secrets.add(wrongCode);
    await run(['clear']);
    const wrong = await run(['exec', '--mfa-token', wrongCode, 'mfa-role', '--', 'true'], {
      ok: false,
    });
    expect(wrong.exitCode).toBe(1);
    expect(wrong.stderr).toMatch(/MFA code rejected/);
    const badSecret = `BadSecret/${Date.now().toString(36)}+abcdef`;
    secrets.add(badSecret);
    await run(['add', '--env', '--no-add-config', 'bogus'], {
      extra: { AWS_ACCESS_KEY_ID: plain.accessKeyId, AWS_SECRET_ACCESS_KEY: badSecret },
    });
    const bogus = await run(['exec', 'bogus', '--', 'true'], { ok: false });
    expect(bogus.stderr).toMatch(/rejected|SignatureDoesNotMatch|InvalidClientTokenId/);
    const down = await run(['exec', 'mfa-role', '--', 'true'], {
      extra: { AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
      ok: false,
    });
    expect(down.stderr).toMatch(/cannot reach STS/);
    const badSignin = await run(['login', 'plain', '--stdout'], {
      extra: { AWS_ENDPOINT_URL_SIGNIN: 'not a url' },
      ok: false,
    });
    expect(badSignin.exitCode).toBe(1);
    await run(['remove', '-f', 'bogus']);
    await run(['remove', '--sessions-only', '-f', 'plain']);

    // The pass backend with a stand-in `pass`: secrets go on stdin, never argv.
    const passDir = join(fixtures, 'pass-store');
    const passCmd = join(fixtures, 'fake-pass');
    const passLog = join(fixtures, 'pass-argv.log');
    writeFileSync(passCmd, FAKE_PASS);
    chmodSync(passCmd, 0o755);
    const passEnv = { AWS_VAULT_BACKEND: 'pass', PASS_ARGV_LOG: passLog };
    const passArgs = ['--pass-cmd', passCmd, '--pass-dir', passDir, '--pass-prefix', 'aws-vault'];
    await run([...passArgs, 'add', '--env', '--no-add-config', 'plain'], {
      extra: {
        ...passEnv,
        AWS_ACCESS_KEY_ID: mfaUser.accessKeyId,
        AWS_SECRET_ACCESS_KEY: mfaUser.secretAccessKey,
      },
    });
    // The same store named by the Go aws-vault's variables instead of flags.
    await run(['exec', 'plain', '--', 'true'], {
      extra: {
        ...passEnv,
        AWS_VAULT_PASS_CMD: passCmd,
        AWS_VAULT_PASS_PASSWORD_STORE_DIR: passDir,
        AWS_VAULT_PASS_PREFIX: 'aws-vault',
      },
    });
    const passArgv = readFileSync(passLog, 'utf8');
    expect(passArgv).toContain('insert -m -f aws-vault/plain');

    // Every secret the endpoint ever issued.
    for (const key of fake.world.keys.values()) secrets.add(key.secretAccessKey);
    for (const session of fake.world.sessions.values()) {
      secrets.add(session.secretAccessKey).add(session.sessionToken);
    }
    const sample = await sampler.stop();
    sampler = { stop: async () => sample };

    const list = [...secrets].filter((s) => s !== undefined && s !== '');
    expect(list.length).toBeGreaterThan(20);
    for (const secret of list) expect(secret.length).toBeGreaterThanOrEqual(6);

    // 1. Output.
    for (const { what, text } of quiet) {
      for (const secret of list) {
        // A 6-digit MFA code can occur inside a pid or a timestamp: match it as a word.
        const pattern = /^\d{6}$/.test(secret)
          ? new RegExp(`(^|[^0-9])${secret}($|[^0-9])`)
          : undefined;
        const found = pattern ? pattern.test(text) : text.includes(secret);
        expect(found, `a secret in the ${what}:\n${text}`).toBe(false);
      }
    }
    expect(quiet.map((q) => q.text).join('\n')).toContain('[debug]');

    // 2. argv of every process seen.
    expect(sample.cmdlines.size).toBeGreaterThan(10);
    for (const secret of list) {
      const pattern = new RegExp(`(^|[^0-9A-Za-z+/])${escapeRegExp(secret)}($|[^0-9A-Za-z+/=])`);
      for (const cmdline of sample.cmdlines) {
        if (typed.has(cmdline)) continue;
        expect(pattern.test(cmdline), `a secret in argv: ${cmdline}`).toBe(false);
      }
      expect(passArgv.includes(secret), 'a secret in the argv of pass').toBe(false);
    }

    // 3. Files under HOME and TMPDIR, in every encoding.
    const { files, dirs } = listTree(w.home.home);
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const secret of list) {
        for (const form of encodings(secret)) {
          expect(bytes.includes(form), `a secret in ${file}`).toBe(false);
        }
      }
    }

    // 4. Modes: the vault folder, its files, the lock folder and lock files.
    const vaultRoot = join(w.home.home, '.awsvault');
    for (const dir of dirs.filter((d) => d.startsWith(vaultRoot))) {
      expect(statSync(dir).mode & 0o777, dir).toBe(0o700);
    }
    expect(statSync(vaultRoot).mode & 0o777).toBe(0o700);
    for (const file of files.filter((f) => f.startsWith(vaultRoot))) {
      expect(statSync(file).mode & 0o777, file).toBe(0o600);
    }
    expect(statSync(join(vaultRoot, 'locks')).mode & 0o777).toBe(0o700);
    expect(sample.lockFiles.size, 'no lock file was seen while commands ran').toBeGreaterThan(0);
    for (const [name, mode] of sample.lockFiles) expect(mode, name).toBe(0o600);
  }, 180_000);
});

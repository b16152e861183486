// `npm run demo`: the whole aws-vault flow, offline. Starts the local
// AWS-compatible endpoint (test/fakes), seeds an IAM user with an MFA device
// and two roles, and in a throwaway HOME (file backend, demo passphrase) runs
// add, exec, a role chain with MFA, list and clear, printing each command and
// its output. Secrets in the output are masked.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeAws } from '../test/fakes/fakeAws.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'aws-vault.js');
const AWS_CLI = existsSync('/usr/bin/aws') ? '/usr/bin/aws' : undefined;
const ENV_GREP =
  'env | grep -E "^AWS_(VAULT=|REGION|DEFAULT_REGION|ACCESS|SECRET|SESSION|SECURITY|CREDENTIAL)" | sort';
const bold = (s) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);

const fake = await startFakeAws();
const home = mkdtempSync(join(tmpdir(), 'aws-vault-demo-'));
// Even fake secrets are not printed whole: the demo shows the shape only.
const mask = (text) =>
  text.replace(
    /((?:SECRET_ACCESS_KEY|SESSION_TOKEN|SECURITY_TOKEN)=|"(?:SecretAccessKey|SessionToken)": ")([^"\s]{4})[^"\s]*/g,
    '$1$2…',
  );

function run(args, { env = {}, shown } = {}) {
  const line = shown ?? `aws-vault ${args.join(' ')}`;
  console.log(`\n${bold(`$ ${line}`)}`);
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...baseEnv, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.on('close', (code) => {
      process.stdout.write(mask(out));
      if (code !== 0) console.log(dim(`(exit code ${code})`));
      done(code);
    });
  });
}

let baseEnv;
try {
  mkdirSync(join(home, '.aws'));
  const config = join(home, '.aws', 'config');
  const user = fake.createUser('jane', { mfa: true });
  const admin = fake.createRole('admin', { requireMfa: true });
  const audit = fake.createRole('audit');
  writeFileSync(
    config,
    `[profile jane]
region = eu-west-1
mfa_serial = ${user.mfaSerial}

[profile admin]
source_profile = jane
role_arn = ${admin.arn}
region = eu-west-1
mfa_serial = ${user.mfaSerial}

[profile audit]
source_profile = admin
role_arn = ${audit.arn}
region = eu-west-1
`,
  );
  baseEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    AWS_CONFIG_FILE: config,
    AWS_VAULT_BACKEND: 'file',
    AWS_VAULT_FILE_PASSPHRASE: 'demo passphrase',
    AWS_ENDPOINT_URL: fake.url,
    AWS_PAGER: '',
  };
  console.log(bold('aws-vault demo') + dim(` (local AWS endpoint ${fake.url}, HOME=${home})`));
  console.log(dim(`~/.aws/config:\n${readFileSync(config, 'utf8')}`));

  await run(['add', '--env', 'jane'], {
    env: { AWS_ACCESS_KEY_ID: user.accessKeyId, AWS_SECRET_ACCESS_KEY: user.secretAccessKey },
    shown: 'AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... aws-vault add --env jane',
  });

  const code1 = fake.mfaCode(user.userName);
  // This AWS CLI may predate AWS_ENDPOINT_URL, so the child gets the flag too.
  const identity = AWS_CLI
    ? [AWS_CLI, 'sts', 'get-caller-identity', '--endpoint-url', fake.url, '--output', 'json']
    : ['sh', '-c', ENV_GREP];
  const first = await run(['exec', '--mfa-token', code1, 'jane', '--', ...identity]);
  if (first !== 0) throw new Error('exec failed');
  await run(['exec', 'jane', '--', 'sh', '-c', ENV_GREP], {
    shown: `aws-vault exec jane -- sh -c '${ENV_GREP}'   # cached session: no MFA code`,
  });
  await run(['exec', 'audit', '--', ...identity], {
    shown: `aws-vault exec audit -- ${identity.join(' ')}   # jane -> admin (MFA, reused) -> audit`,
  });
  await run(['export', '--format=json', 'audit']);
  await run(['list']);
  await run(['clear']);
  await run(['list']);
  const calls = fake.calls.filter((c) => c.service === 'sts').map((c) => c.action);
  console.log(`\n${dim(`STS calls the endpoint answered: ${calls.join(', ')}`)}`);
} finally {
  await fake.close();
  rmSync(home, { recursive: true, force: true });
}

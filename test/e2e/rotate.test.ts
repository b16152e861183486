import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnvLines, startExecWorld, type ExecWorld } from './_exec.ts';
import { spawn } from 'node:child_process';
import { BIN, runCli } from './_runCli.ts';

describe('rotate', () => {
  let w: ExecWorld;
  let roleArn: string;
  let users = 0;

  beforeAll(async () => {
    w = await startExecWorld();
    roleArn = w.fake.createRole('deployer').arn;
  });
  afterAll(() => w.close());

  const run = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
    runCli(args, { env: w.env(extra) });

  /** A fresh IAM user stored as `profile`, plus a role profile `profile-role` sourcing it. */
  async function setup(options: { mfa?: boolean } = {}) {
    const profile = `u${++users}`;
    const user = w.fake.createUser(profile, { mfa: options.mfa });
    const added = await run(['add', '--env', '--no-add-config', profile], {
      AWS_ACCESS_KEY_ID: user.accessKeyId,
      AWS_SECRET_ACCESS_KEY: user.secretAccessKey,
    });
    expect(added.exitCode, added.stderr).toBe(0);
    const codeFile = join(w.home.home, `${profile}.code`);
    const mfa = options.mfa
      ? `mfa_serial = ${user.mfaSerial}\nmfa_process = cat '${codeFile}'\n`
      : '';
    const config = `[profile ${profile}]\nregion = eu-west-1\n${mfa}\n[profile ${profile}-role]\nsource_profile = ${profile}\nrole_arn = ${roleArn}\n\n`;
    writeFileSync(w.home.configFile, config, { flag: 'a' });
    const keysInIam = () =>
      [...w.fake.world.keys.values()]
        .filter((k) => k.userName === profile)
        .map((k) => k.accessKeyId)
        .sort();
    const storedKey = async () => {
      const r = await run(['export', '--no-session', profile]);
      expect(r.exitCode, r.stderr).toBe(0);
      return parseEnvLines(r.stdout).AWS_ACCESS_KEY_ID;
    };
    const writeCode = () => writeFileSync(codeFile, `${w.fake.mfaCode(user.userName)}\n`);
    return { profile, user, keysInIam, storedKey, writeCode };
  }

  it('Ctrl-C while STS does not accept the new key yet deletes it: the old key stays, exit 130', async () => {
    const u = await setup();
    w.fake.world.newKeyDelayMs = 20_000;
    try {
      const child = spawn(process.execPath, [BIN, 'rotate', u.profile], {
        env: w.env(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const created = new Promise<void>((resolve) =>
        child.stdout.on('data', (c: Buffer) => {
          stdout += c.toString();
          if (stdout.includes('Created new access key')) resolve();
        }),
      );
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      await created;
      expect(u.keysInIam()).toHaveLength(2);
      // In the middle of the backoff (its sleeps grow to 8s): the wait must not outlive the signal.
      await new Promise((resolve) => setTimeout(resolve, 4000));
      const signalled = Date.now();
      child.kill('SIGINT');
      const code = await exited;
      expect(Date.now() - signalled).toBeLessThan(1500);
      expect(stderr).toMatch(
        /^aws-vault: error: rotate: the new access key AKIA\w+ was created but rotate was stopped \(SIGINT\); it has been deleted\. Nothing else changed: AKIA\w+ is still active and stored in the vault\n$/,
      );
      expect(code).toBe(130);
      expect(u.keysInIam()).toEqual([u.user.accessKeyId]);
      expect(await u.storedKey()).toBe(u.user.accessKeyId);
    } finally {
      w.fake.world.newKeyDelayMs = 0;
    }
  });

  it('replaces the key, waits for STS, clears sessions and deletes the old key', async () => {
    const u = await setup();
    // A cached role session made with the old key.
    expect((await run(['export', `${u.profile}-role`])).exitCode).toBe(0);
    const assumesBefore = w.fake.count('AssumeRole');
    w.fake.world.newKeyDelayMs = 1200;
    try {
      const r = await run(['rotate', u.profile]);
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      const newKeys = u.keysInIam();
      expect(newKeys).toHaveLength(1);
      expect(newKeys[0]).not.toBe(u.user.accessKeyId);
      expect(r.stdout).toContain(`Created new access key ${newKeys[0]}`);
      expect(r.stdout).toContain(`Deleted old access key ${u.user.accessKeyId}`);
      expect(r.stdout).toMatch(new RegExp(`Deleted 1 session for ${u.profile}-role`));
      expect(await u.storedKey()).toBe(newKeys[0]);
      // Deleted with the new key.
      const del = w.fake.calls.filter((c) => c.action === 'DeleteAccessKey').at(-1);
      expect(del?.accessKeyId).toBe(newKeys[0]);
      // Polled STS until the key worked.
      expect(w.fake.count('GetCallerIdentity', { ok: true })).toBeGreaterThanOrEqual(1);
    } finally {
      w.fake.world.newKeyDelayMs = 0;
    }
    // The role's session was cleared: a new AssumeRole with the new key.
    expect((await run(['export', `${u.profile}-role`])).exitCode).toBe(0);
    expect(w.fake.count('AssumeRole')).toBe(assumesBefore + 1);
  });

  it('rotates the source key when given a role profile', async () => {
    const u = await setup();
    const r = await run(['--debug', 'rotate', `${u.profile}-role`]);
    expect(r.exitCode, r.stderr).toBe(0);
    // Neither the old nor the new secret shows up in output or --debug.
    const secrets = [...w.fake.world.keys.values()]
      .filter((k) => k.userName === u.profile)
      .map((k) => k.secretAccessKey);
    expect(secrets).toHaveLength(1);
    for (const secret of [...secrets, u.user.secretAccessKey]) {
      expect(r.stdout + r.stderr).not.toContain(secret);
    }
    expect(r.stdout).toContain(`Rotating credentials stored for profile '${u.profile}'`);
    expect(u.keysInIam()).toEqual([await u.storedKey()]);
  });

  it('refuses before any change when the user already has two keys', async () => {
    const u = await setup();
    const other = w.fake.createAccessKey(u.user.userName);
    w.fake.reset();
    const r = await run(['rotate', u.profile]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/already has two access keys/);
    expect(r.stderr).toContain(`aws iam delete-access-key --access-key-id ${other.accessKeyId}`);
    expect(w.fake.count('CreateAccessKey')).toBe(0);
    expect(w.fake.count('DeleteAccessKey')).toBe(0);
    expect(await u.storedKey()).toBe(u.user.accessKeyId);
  });

  it('changes nothing when CreateAccessKey fails', async () => {
    const u = await setup();
    w.fake.failNext('CreateAccessKey', {
      status: 403,
      code: 'AccessDenied',
      message: 'not allowed',
    });
    const r = await run(['rotate', u.profile]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(
      /creating a new access key failed: AccessDenied: not allowed\. Nothing was changed/,
    );
    expect(u.keysInIam()).toEqual([u.user.accessKeyId]);
    expect(await u.storedKey()).toBe(u.user.accessKeyId);
  });

  it('deletes the new key and keeps the old one when STS never accepts it', async () => {
    const u = await setup();
    w.fake.world.newKeyDelayMs = 120_000;
    try {
      const r = await run(['rotate', u.profile], { AWS_VAULT_ROTATE_TIMEOUT: '2s' });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(
        /was created but STS did not accept it within 2s .*it has been deleted/,
      );
      // The last error as AWS put it, not our own error class's name.
      expect(r.stderr).toMatch(/\(last error: (?!UserError)/);
      expect(r.stderr).not.toContain('UserError');
      // AWS's words only: advice meant for exec ("aws-vault clear") would mislead here.
      expect(r.stderr).toMatch(/\(last error: InvalidClientTokenId: [^;]*\); it has been deleted/);
      expect(r.stderr).not.toContain('aws-vault clear');
      expect(u.keysInIam()).toEqual([u.user.accessKeyId]);
      expect(await u.storedKey()).toBe(u.user.accessKeyId);
    } finally {
      w.fake.world.newKeyDelayMs = 0;
    }
  });

  it('keeps the new key stored and names the old one when deleting it fails', async () => {
    const u = await setup();
    w.fake.failNext('DeleteAccessKey', {
      status: 403,
      code: 'AccessDenied',
      message: 'denied',
      count: 50,
    });
    const r = await run(['rotate', u.profile], { AWS_VAULT_ROTATE_TIMEOUT: '3s' });
    w.fake.reset();
    expect(r.exitCode).toBe(1);
    const stored = await u.storedKey();
    expect(stored).not.toBe(u.user.accessKeyId);
    expect(u.keysInIam()).toEqual([stored, u.user.accessKeyId].sort());
    expect(r.stderr).toContain(
      `${u.user.accessKeyId} is still active in IAM; delete it with: aws iam delete-access-key --access-key-id ${u.user.accessKeyId}`,
    );
    expect(r.stderr).toContain(`new access key ${stored} is stored in the vault and works`);
  });

  it('calls IAM with an MFA session when mfa_serial is set', async () => {
    const u = await setup({ mfa: true });
    u.writeCode();
    w.fake.reset();
    const r = await run(['rotate', u.profile]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('using an MFA session');
    const gst = w.fake.calls.filter((c) => c.action === 'GetSessionToken');
    expect(gst).toHaveLength(1);
    expect(gst[0]?.params.SerialNumber).toBe(u.user.mfaSerial);
    const create = w.fake.calls.find((c) => c.action === 'CreateAccessKey');
    expect(create?.accessKeyId).toMatch(/^ASIA/);
    expect(u.keysInIam()).toEqual([await u.storedKey()]);
  });

  it('takes the MFA code from -t/--mfa-token, and says so when there is no terminal', async () => {
    const profile = `u${++users}`;
    const user = w.fake.createUser(profile, { mfa: true });
    const added = await run(['add', '--env', '--no-add-config', profile], {
      AWS_ACCESS_KEY_ID: user.accessKeyId,
      AWS_SECRET_ACCESS_KEY: user.secretAccessKey,
    });
    expect(added.exitCode, added.stderr).toBe(0);
    writeFileSync(
      w.home.configFile,
      `[profile ${profile}]\nregion = eu-west-1\nmfa_serial = ${user.mfaSerial}\n\n`,
      { flag: 'a' },
    );
    const noTty = await run(['rotate', profile]);
    expect(noTty.exitCode).toBe(1);
    expect(noTty.stderr).toContain('no terminal to ask on; pass the code with -t/--mfa-token');
    const r = await run(['rotate', '-t', w.fake.mfaCode(user.userName), profile]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('using an MFA session');
    const keys = [...w.fake.world.keys.values()].filter((k) => k.userName === profile);
    expect(keys).toHaveLength(1);
    expect(keys[0]?.accessKeyId).not.toBe(user.accessKeyId);
  });

  it('updates every profile that stores the same key, and clears their sessions', async () => {
    const u = await setup();
    const twin = `${u.profile}-twin`;
    const added = await run(['add', '--env', '--no-add-config', twin], {
      AWS_ACCESS_KEY_ID: u.user.accessKeyId,
      AWS_SECRET_ACCESS_KEY: u.user.secretAccessKey,
    });
    expect(added.exitCode, added.stderr).toBe(0);
    writeFileSync(w.home.configFile, `[profile ${twin}]\nregion = eu-west-1\n\n`, {
      flag: 'a',
    });
    expect((await run(['export', twin])).exitCode).toBe(0); // a cached session of the twin
    const r = await run(['rotate', u.profile]);
    expect(r.exitCode, r.stderr).toBe(0);
    const [newKey] = u.keysInIam();
    expect(newKey).not.toBe(u.user.accessKeyId);
    expect(r.stdout).toContain(
      `Stored new access key ${newKey} as "${twin}" too (it held the same old key ${u.user.accessKeyId})`,
    );
    expect(r.stdout).toContain(`Deleted 1 session for ${twin}`);
    const twinKey = await run(['export', '--no-session', twin]);
    expect(parseEnvLines(twinKey.stdout).AWS_ACCESS_KEY_ID).toBe(newKey);
    expect((await run(['exec', twin, '--', 'true'])).exitCode).toBe(0);
  });

  it('explains a profile with nothing to rotate', async () => {
    writeFileSync(w.home.configFile, '[profile nokeys]\nregion = eu-west-1\n\n', { flag: 'a' });
    const r = await run(['rotate', 'nokeys']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/profile nokeys: no access key is stored in the vault/);
    const unknown = await run(['rotate', 'nobody']);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toMatch(/profile "nobody" not found in .* no credentials stored for it/);
  });
});

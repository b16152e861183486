import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN } from './_runCli.ts';
import { parseEnvLines, startExecWorld, totpNow, type ExecWorld } from './_exec.ts';

describe('exec with MFA', () => {
  let w: ExecWorld;
  let config = '';

  beforeAll(async () => {
    w = await startExecWorld();
  });
  afterAll(async () => {
    await w?.close();
  });

  /** A new user with an MFA device, stored as `profile`, whose config names its mfa_serial. */
  async function mfaProfile(profile: string, extra = '') {
    const user = await w.addUser(profile, { mfa: true });
    config += `[profile ${profile}]\nmfa_serial = ${user.mfaSerial}\n${extra}\n`;
    w.home.writeConfig(config);
    return user;
  }

  it('takes the code from --mfa-token', async () => {
    const user = await mfaProfile('flag');
    const code = w.fake.mfaCode(user.userName);
    const result = await w.run(['exec', '-t', code, 'flag', '--', 'env']);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    const env = parseEnvLines(result.stdout);
    expect(w.fake.describeCredentials(env.AWS_ACCESS_KEY_ID as string)?.mfaAuthenticated).toBe(
      true,
    );
    // The session is cached: no code needed now.
    const again = await w.run(['exec', 'flag', '--', 'true']);
    expect(again.stderr).toBe('');
    expect(again.exitCode).toBe(0);
  });

  it('takes the code from mfa_process', async () => {
    const codeFile = join(w.home.home, 'code-process');
    const counter = join(w.home.home, 'process-count');
    const user = await mfaProfile(
      'proc',
      `mfa_process = sh -c 'echo x >> ${counter}; cat ${codeFile}'`,
    );
    writeFileSync(codeFile, `${w.fake.mfaCode(user.userName)}\n`);
    const result = await w.run(['exec', 'proc', '--', 'env']);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(readFileSync(counter, 'utf8')).toBe('x\n');
    const env = parseEnvLines(result.stdout);
    expect(w.fake.describeCredentials(env.AWS_ACCESS_KEY_ID as string)?.mfaAuthenticated).toBe(
      true,
    );
  });

  it('a wrong code is a clear error, does not echo the code, and caches nothing', async () => {
    const user = await mfaProfile('wrong');
    const good = w.fake.mfaCode(user.userName);
    const bad = good === '123456' ? '654321' : '123456';
    const result = await w.run(['exec', '-t', bad, 'wrong', '--', 'true']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^aws-vault: error: exec: .*MFA/i);
    expect(result.stderr).not.toContain(bad);
    const before = w.fake.count('GetSessionToken');
    const retry = await w.run(['exec', '-t', good, 'wrong', '--', 'true']);
    expect(retry.stderr).toBe('');
    expect(retry.exitCode).toBe(0);
    expect(w.fake.count('GetSessionToken')).toBe(before + 1);
  });

  it('fails at once without a terminal to prompt on', async () => {
    await mfaProfile('notty');
    const started = Date.now();
    const result = await w.run(['exec', 'notty', '--', 'true'], { timeout: 10_000 });
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^aws-vault: error: exec: /);
  });

  it('prompts on the terminal (tmux) without echoing the code', async () => {
    const user = await mfaProfile('tty');
    const out = join(w.home.home, 'tty-env');
    const script = join(w.home.home, 'tty.sh');
    const env = w.env();
    const exports = Object.entries(env)
      .map(([k, v]) => `export ${k}='${String(v).replaceAll("'", "'\\''")}'`)
      .join('\n');
    writeFileSync(
      script,
      `${exports}\n'${process.execPath}' '${BIN}' exec tty -- sh -c 'env > ${out}'\necho "exit=$?"\nsleep 30\n`,
    );
    const socket = `aws-vault-test-${process.pid}-${Date.now()}`;
    const tmux = (...args: string[]) =>
      spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
    try {
      expect(
        tmux('new-session', '-d', '-s', 'mfa', '-x', '160', '-y', '40', `sh ${script}`).status,
      ).toBe(0);
      const screen = await waitFor(() => {
        const text = tmux('capture-pane', '-p', '-t', 'mfa').stdout;
        return /mfa/i.test(text) ? text : undefined;
      });
      expect(screen).toContain(user.mfaSerial);
      const code = totpNow(user.totpSecret as string);
      tmux('send-keys', '-t', 'mfa', code, 'Enter');
      await waitFor(() =>
        existsSync(out) && readFileSync(out, 'utf8').includes('AWS_VAULT=') ? true : undefined,
      );
      const after = await waitFor(() => {
        const text = tmux('capture-pane', '-p', '-t', 'mfa').stdout;
        return text.includes('exit=') ? text : undefined;
      });
      expect(after).toContain('exit=0');
      expect(after).not.toContain(code);
      const childEnv = parseEnvLines(readFileSync(out, 'utf8'));
      expect(
        w.fake.describeCredentials(childEnv.AWS_ACCESS_KEY_ID as string)?.mfaAuthenticated,
      ).toBe(true);
    } finally {
      tmux('kill-server');
    }
  });

  it('terminal prompt: works with stdout redirected, Backspace edits, Ctrl-C cancels', async () => {
    const user = await mfaProfile('ttypipe');
    const out = join(w.home.home, 'ttypipe.json');
    const script = join(w.home.home, 'ttypipe.sh');
    const exports = Object.entries(w.env())
      .map(([k, v]) => `export ${k}='${String(v).replaceAll("'", "'\\''")}'`)
      .join('\n');
    writeFileSync(
      script,
      `${exports}\n'${process.execPath}' '${BIN}' export --format=json ttypipe > '${out}'\necho "first=$?"\n` +
        `'${process.execPath}' '${BIN}' clear ttypipe >/dev/null\n` +
        `'${process.execPath}' '${BIN}' exec ttypipe -- true\necho "second=$?"\n` +
        `'${process.execPath}' '${BIN}' clear ttypipe >/dev/null\n` +
        `'${process.execPath}' '${BIN}' exec ttypipe -- true\necho "third=$?"\nsleep 30\n`,
    );
    const socket = `aws-vault-test-${process.pid}-${Date.now()}-pipe`;
    const tmux = (...args: string[]) =>
      spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
    const screen = () => tmux('capture-pane', '-p', '-t', 'mfa').stdout;
    try {
      expect(
        tmux('new-session', '-d', '-s', 'mfa', '-x', '160', '-y', '40', `sh ${script}`).status,
      ).toBe(0);
      await waitFor(() => (/Enter MFA code/.test(screen()) ? true : undefined));
      // A wrong digit, erased with Backspace, then the code.
      const code = totpNow(user.totpSecret as string);
      tmux('send-keys', '-t', 'mfa', '9', 'BSpace');
      tmux('send-keys', '-t', 'mfa', code, 'Enter');
      const first = await waitFor(() => (screen().includes('first=') ? screen() : undefined));
      expect(first).toContain('first=0');
      expect(first).not.toContain(code);
      const doc = JSON.parse(readFileSync(out, 'utf8')) as { AccessKeyId: string };
      expect(w.fake.describeCredentials(doc.AccessKeyId)?.mfaAuthenticated).toBe(true);
      // Ctrl-C at the prompt: a clear "cancelled" error, exit 130, nothing cached.
      await waitFor(() =>
        (screen().match(/Enter MFA code/g) ?? []).length >= 2 ? true : undefined,
      );
      tmux('send-keys', '-t', 'mfa', '12', 'C-c');
      const second = await waitFor(() => (screen().includes('second=') ? screen() : undefined));
      expect(second).toMatch(/aws-vault: error: exec: profile ttypipe: MFA prompt cancelled/);
      expect(second).toContain('second=130');
      // Ctrl-D on an empty line ends the input.
      await waitFor(() =>
        (screen().match(/Enter MFA code/g) ?? []).length >= 3 ? true : undefined,
      );
      tmux('send-keys', '-t', 'mfa', 'C-d');
      const third = await waitFor(() => (screen().includes('third=') ? screen() : undefined));
      expect(third).toMatch(/no MFA code entered/);
      expect(third).toContain('third=1');
    } finally {
      tmux('kill-server');
    }
  });
});

async function waitFor<T>(check: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

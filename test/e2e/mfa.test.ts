import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN } from './_runCli.ts';
import { parseEnvLines, startExecWorld, totpNow, type ExecWorld } from './_exec.ts';
import { startTmux, waitFor } from '../helpers/tmux.ts';

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
    const term = startTmux(
      w.home.home,
      w.env(),
      `'${process.execPath}' '${BIN}' exec tty -- sh -c 'env > ${out}'\necho "exit=$?"\nsleep 30`,
    );
    try {
      const screen = await waitFor(() => {
        const text = term.screen();
        return /mfa/i.test(text) && text;
      });
      expect(screen).toContain(user.mfaSerial);
      const code = totpNow(user.totpSecret as string);
      term.sendKeys(code, 'Enter');
      await waitFor(() => existsSync(out) && readFileSync(out, 'utf8').includes('AWS_VAULT='));
      const after = await waitFor(() => {
        const text = term.screen();
        return text.includes('exit=') && text;
      });
      expect(after).toContain('exit=0');
      expect(after).not.toContain(code);
      const childEnv = parseEnvLines(readFileSync(out, 'utf8'));
      expect(
        w.fake.describeCredentials(childEnv.AWS_ACCESS_KEY_ID as string)?.mfaAuthenticated,
      ).toBe(true);
    } finally {
      term.kill();
    }
  });

  it('after the terminal prompt, the command reads the terminal as usual', async () => {
    // Was: the prompt left the terminal non-blocking, the command's `read`
    // failed at once, and what the user typed next went to their shell.
    const user = await mfaProfile('ttyread');
    const out = join(w.home.home, 'ttyread-out');
    const term = startTmux(
      w.home.home,
      w.env(),
      `'${process.execPath}' '${BIN}' exec ttyread -- sh -c 'echo ready > ${out}; read -r answer; echo "answer=$answer" >> ${out}'\nsleep 30`,
    );
    try {
      await waitFor(() => /mfa/i.test(term.screen()));
      term.sendKeys(totpNow(user.totpSecret as string), 'Enter');
      await waitFor(() => existsSync(out) && readFileSync(out, 'utf8').includes('ready'));
      term.sendKeys('-l', 'yes');
      term.sendKeys('Enter');
      await waitFor(() => readFileSync(out, 'utf8').includes('answer='));
      expect(readFileSync(out, 'utf8')).toBe('ready\nanswer=yes\n');
    } finally {
      term.kill();
    }
  });

  it('terminal prompt: works with stdout redirected, Backspace edits, Ctrl-C cancels', async () => {
    const user = await mfaProfile('ttypipe');
    const out = join(w.home.home, 'ttypipe.json');
    const term = startTmux(
      w.home.home,
      w.env(),
      `'${process.execPath}' '${BIN}' export --format=json ttypipe > '${out}'\necho "first=$?"\n` +
        `'${process.execPath}' '${BIN}' clear ttypipe >/dev/null\n` +
        `'${process.execPath}' '${BIN}' exec ttypipe -- true\necho "second=$?"\n` +
        `'${process.execPath}' '${BIN}' clear ttypipe >/dev/null\n` +
        `'${process.execPath}' '${BIN}' exec ttypipe -- true\necho "third=$?"\nsleep 30`,
    );
    const screenWith = (text: string) =>
      waitFor(() => term.screen().includes(text) && term.screen());
    const prompts = () => (term.screen().match(/Enter MFA code/g) ?? []).length;
    try {
      await waitFor(() => prompts() >= 1);
      // A wrong digit, erased with Backspace, then the code.
      const code = totpNow(user.totpSecret as string);
      term.sendKeys('9', 'BSpace');
      term.sendKeys(code, 'Enter');
      const first = await screenWith('first=');
      expect(first).toContain('first=0');
      expect(first).not.toContain(code);
      const doc = JSON.parse(readFileSync(out, 'utf8')) as { AccessKeyId: string };
      expect(w.fake.describeCredentials(doc.AccessKeyId)?.mfaAuthenticated).toBe(true);
      // Ctrl-C at the prompt: a clear "cancelled" error, exit 130, nothing cached.
      await waitFor(() => prompts() >= 2);
      term.sendKeys('12', 'C-c');
      const second = await screenWith('second=');
      expect(second).toMatch(/aws-vault: error: exec: profile ttypipe: MFA prompt cancelled/);
      expect(second).toContain('second=130');
      // Ctrl-D on an empty line ends the input.
      await waitFor(() => prompts() >= 3);
      term.sendKeys('C-d');
      const third = await screenWith('third=');
      expect(third).toMatch(/no MFA code entered/);
      expect(third).toContain('third=1');
    } finally {
      term.kill();
    }
  });

  it('with a server: asks on the terminal before the command starts, never once it runs', async () => {
    const user = await mfaProfile('ttyserver');
    const out = join(w.home.home, 'ttyserver-out');
    const fetchCreds =
      `curl -s -m 20 -H "Authorization: $AWS_CONTAINER_AUTHORIZATION_TOKEN" "$AWS_CONTAINER_CREDENTIALS_FULL_URI" > ${out}.$1; ` +
      'echo "curl=$?"';
    const term = startTmux(
      w.home.home,
      w.env(),
      // --lazy: the first code is needed only once the command runs.
      `'${process.execPath}' '${BIN}' exec --lazy --ecs-server ttyserver -- sh -c '${fetchCreds}' sh lazy\n` +
        'echo "lazy=$?"\n' +
        `'${process.execPath}' '${BIN}' exec --ecs-server ttyserver -- sh -c '${fetchCreds}' sh eager\n` +
        'echo "eager=$?"\nsleep 30',
    );
    try {
      const lazy = await waitFor(() => {
        const text = term.screen();
        return text.includes('lazy=') && text;
      });
      expect(lazy).not.toMatch(/Enter MFA code/);
      expect(lazy).toContain('lazy=0');
      expect(readFileSync(`${out}.lazy`, 'utf8')).toMatch(
        /profile ttyserver: a new MFA code is needed, but the command aws-vault runs owns the terminal, so the credential server cannot ask on it; set mfa_process/,
      );
      // Before the command starts, the terminal is still aws-vault's.
      await waitFor(() => /Enter MFA code/.test(term.screen()));
      term.sendKeys(totpNow(user.totpSecret as string), 'Enter');
      const eager = await waitFor(() => {
        const text = term.screen();
        return text.includes('eager=') && text;
      });
      expect(eager).toContain('eager=0');
      const doc = JSON.parse(readFileSync(`${out}.eager`, 'utf8')) as { AccessKeyId: string };
      expect(w.fake.describeCredentials(doc.AccessKeyId)?.mfaAuthenticated).toBe(true);
    } finally {
      term.kill();
    }
  });
});

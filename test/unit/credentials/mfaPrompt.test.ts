// The MFA prompt drivers, with stand-in programs for ykman/zenity/kdialog and
// the real terminal (tmux) for the terminal driver.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mfaPromptFor, type MfaPromptOptions } from '../../../src/prompt/mfa.ts';
import { startTmux, waitFor } from '../../helpers/tmux.ts';

const SERIAL = 'arn:aws:iam::123456789012:mfa/jane';
const WORKER = new URL('./_promptWorker.ts', import.meta.url).pathname;
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'aws-vault-mfa-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function options(extra: Partial<MfaPromptOptions> = {}): MfaPromptOptions {
  return {
    io: { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
    env: { PATH: `${dir}:${process.env.PATH}` },
    debug: () => {},
    ...extra,
  };
}

/** A stand-in for a prompt program: records its argv and prints `output`. */
function fakeProgram(name: string, output: string, exitCode = 0): void {
  const path = join(dir, name);
  writeFileSync(
    path,
    `#!/bin/sh\nprintf '%s\\n' "$@" > ${join(dir, `${name}.args`)}\nprintf '${output}\\n'\nexit ${exitCode}\n`,
  );
  chmodSync(path, 0o755);
}

const ask = (o: MfaPromptOptions) => mfaPromptFor(o)({ profileName: 'p', mfaSerial: SERIAL });

describe('mfaPromptFor', () => {
  it('uses --mfa-token once, then the driver', async () => {
    fakeProgram('ykman', '222222');
    const prompt = mfaPromptFor(options({ mfaToken: '111111', driver: 'ykman' }));
    expect(await prompt({ profileName: 'p', mfaSerial: SERIAL })).toBe('111111');
    expect(await prompt({ profileName: 'p', mfaSerial: SERIAL })).toBe('222222');
  });

  it('runs mfa_process through the shell and trims its output', async () => {
    expect(await ask(options({ mfaProcess: "printf ' 123456 \\n'" }))).toBe('123456');
    await expect(ask(options({ mfaProcess: 'exit 4' }))).rejects.toThrow(
      'profile p: mfa_process exited with code 4',
    );
  });

  it('ykman: oath accounts code --single SERIAL, with the device and version knobs', async () => {
    fakeProgram('ykman', '654321');
    expect(await ask(options({ driver: 'ykman' }))).toBe('654321');
    expect(readFileSync(join(dir, 'ykman.args'), 'utf8').trim().split('\n')).toEqual([
      'oath',
      'accounts',
      'code',
      '--single',
      SERIAL,
    ]);
    const env = {
      PATH: `${dir}:${process.env.PATH}`,
      YKMAN_OATH_DEVICE_SERIAL: '42',
      YKMAN_OATH_CREDENTIAL_NAME: 'aws-jane',
      AWS_VAULT_YKMAN_VERSION: '3',
    };
    await ask(options({ driver: 'ykman', env }));
    expect(readFileSync(join(dir, 'ykman.args'), 'utf8').trim().split('\n')).toEqual([
      '--device',
      '42',
      'oath',
      'code',
      '--single',
      'aws-jane',
    ]);
  });

  it('zenity and kdialog show the prompt message', async () => {
    fakeProgram('zenity', '111222');
    fakeProgram('kdialog', '333444');
    expect(await ask(options({ driver: 'zenity' }))).toBe('111222');
    expect(readFileSync(join(dir, 'zenity.args'), 'utf8')).toContain(
      `Enter MFA code for ${SERIAL}: `,
    );
    expect(await ask(options({ driver: 'kdialog' }))).toBe('333444');
    expect(readFileSync(join(dir, 'kdialog.args'), 'utf8').split('\n')[0]).toBe('--inputbox');
  });

  it('osascript: one AppleScript, as the Go aws-vault runs it, whose answer is the code', async () => {
    fakeProgram('osascript', '555666');
    expect(await ask(options({ driver: 'osascript' }))).toBe('555666');
    expect(readFileSync(join(dir, 'osascript.args'), 'utf8')).toBe(
      '-e\n' +
        `display dialog "Enter MFA code for ${SERIAL}: " default answer "" buttons {"OK", "Cancel"} default button 1\n` +
        'text returned of the result\n' +
        'return result\n',
    );
  });

  it('a cancelled dialog or a missing program is a clear error', async () => {
    fakeProgram('zenity', '', 1);
    await expect(ask(options({ driver: 'zenity' }))).rejects.toThrow(
      /zenity did not give an MFA code/,
    );
    await expect(ask(options({ driver: 'kdialog', env: { PATH: dir } }))).rejects.toThrow(
      /needs `kdialog`, which is not on PATH/,
    );
  });

  it('refuses pass, unknown drivers, and terminal with a server', async () => {
    await expect(ask(options({ driver: 'pass' }))).rejects.toThrow(/mfa_process = pass otp/);
    await expect(ask(options({ driver: 'wincredui' }))).rejects.toThrow(
      /--prompt=wincredui .* is not available in this aws-vault; use --prompt=terminal/,
    );
    await expect(ask(options({ driver: 'carrier-pigeon' }))).rejects.toThrow(
      /unknown prompt driver "carrier-pigeon"/,
    );
    await expect(ask(options({ driver: 'terminal', avoidTerminal: true }))).rejects.toThrow(
      /cannot be used with a credential server/,
    );
  });

  it('with a server, picks a dialog once the command owns the terminal, or says what to set', async () => {
    let taken = false;
    const noDialogs = options({ env: { PATH: dir }, avoidTerminal: () => taken });
    taken = true;
    await expect(ask(noDialogs)).rejects.toThrow(
      /^profile p: a new MFA code is needed, but the command aws-vault runs owns the terminal/,
    );
    fakeProgram('zenity', '123456');
    expect(await ask(options({ env: { PATH: dir }, avoidTerminal: () => taken }))).toBe('123456');
  });
});

describe('terminal driver', () => {
  it('fails at once without a controlling terminal', () => {
    const out = join(dir, 'out');
    const started = Date.now();
    const result = spawnSync('setsid', ['-w', process.execPath, WORKER], {
      env: { ...process.env, DRIVER: 'terminal', OUT_FILE: out },
      stdio: 'ignore',
      timeout: 20_000,
    });
    expect(result.status).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(
      /^error:profile p: an MFA code for .* no terminal to ask on/,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('asks on the TTY even when stdout is a pipe (tmux)', async () => {
    const out = join(dir, 'out');
    const stdout = join(dir, 'stdout');
    const term = startTmux(
      dir,
      { DRIVER: 'terminal', OUT_FILE: out },
      `${process.execPath} ${WORKER} | cat > ${stdout}`,
      { width: 200, height: 20 },
    );
    try {
      await waitFor(() => term.screen().includes('Enter MFA code for'));
      expect(term.screen()).toContain(`Enter MFA code for ${SERIAL}:`);
      term.sendKeys('987654', 'Enter');
      // The worker writes its file in one call: wait for what it wrote, not for the file.
      await waitFor(() => existsSync(out) && readFileSync(out, 'utf8') !== '');
      expect(readFileSync(out, 'utf8')).toBe('code:987654');
      // Nothing went to stdout: the prompt is on the terminal.
      await waitFor(() => existsSync(stdout));
      expect(readFileSync(stdout, 'utf8')).toBe('');
    } finally {
      term.kill();
    }
  }, 30_000);
});

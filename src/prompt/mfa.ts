/**
 * MFA prompt drivers, as the Go aws-vault's `prompt/` package has them:
 * `terminal`, `ykman`, `osascript`, `zenity`, `kdialog`. A driver only asks;
 * the credentials engine checks the code. No code is ever logged.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Io } from '../cli/context.ts';
import { withoutOwnSecrets } from '../credentials/redact.ts';
import type { MfaPrompt } from '../credentials/types.ts';
import { describeExit, runShellCommand } from '../credentials/runShellCommand.ts';
import { UserError } from '../errors.ts';
import { hasControllingTerminal } from './controllingTerminal.ts';
import { terminalPrompter } from './interactive.ts';

/** Every driver name `--prompt` / `AWS_VAULT_PROMPT` accepts. */
export const MFA_PROMPT_DRIVERS = ['terminal', 'ykman', 'osascript', 'zenity', 'kdialog'] as const;

export interface MfaPromptOptions {
  /** `--prompt` / `AWS_VAULT_PROMPT`; undefined picks `terminal`, or a dialog when there is no terminal. */
  driver?: string;
  io: Io;
  env: NodeJS.ProcessEnv;
  debug: (line: string) => void;
  /** `--mfa-token`: answers the first request only (AWS rejects a code used twice). */
  mfaToken?: string;
  /** `mfa_process`: a shell command whose trimmed stdout is the code. */
  mfaProcess?: string;
  /**
   * Credential servers: true once the command runs, which then owns the
   * terminal; `terminal` is refused from then on (a dialog, ykman or
   * mfa_process can still answer). Asked at each request: the first code,
   * fetched before the command starts, may still come from the terminal.
   */
  avoidTerminal?: boolean | (() => boolean);
  /**
   * What to suggest when a code is needed and there is no terminal; the
   * default names `--mfa-token`, which not every command has.
   */
  noTerminalHint?: string;
}

/** `Enter MFA code for arn:aws:iam::123456789012:mfa/jane: ` */
export function mfaPromptMessage(mfaSerial: string): string {
  return `Enter MFA code for ${mfaSerial}: `;
}

/**
 * The MFA prompt for a command: `--mfa-token` once, then `mfa_process`,
 * else the driver. An unknown driver, or `terminal` without a terminal, is a
 * clear error when a code is first needed (a profile without MFA never asks).
 */
export function mfaPromptFor(options: MfaPromptOptions): MfaPrompt {
  let tokenUsed = false;
  return async (request) => {
    if (options.mfaToken !== undefined && options.mfaToken !== '' && !tokenUsed) {
      tokenUsed = true;
      return options.mfaToken;
    }
    if (options.mfaProcess !== undefined && options.mfaProcess !== '') {
      options.debug(`profile ${request.profileName}: running mfa_process`);
      const result = await runShellCommand(options.mfaProcess, { env: options.env });
      if (result.code !== 0) {
        throw new UserError(
          `profile ${request.profileName}: mfa_process ${describeExit(result)}; run it by hand to see why`,
        );
      }
      return result.stdout.trim();
    }
    const driver = chooseDriver(options, request.profileName);
    options.debug(
      `profile ${request.profileName}: asking for the MFA code with the ${driver} prompt`,
    );
    return DRIVERS[driver](request.mfaSerial, options, request.profileName);
  };
}

type Driver = (
  mfaSerial: string,
  options: MfaPromptOptions,
  profileName: string,
) => Promise<string>;

const DRIVERS: Record<(typeof MFA_PROMPT_DRIVERS)[number], Driver> = {
  terminal: terminalPrompt,
  ykman: ykmanPrompt,
  osascript: (serial, options) =>
    runDriver(
      'osascript',
      [
        '-e',
        `display dialog ${JSON.stringify(mfaPromptMessage(serial))} default answer "" buttons {"OK", "Cancel"} default button 1\ntext returned of the result\nreturn result`,
      ],
      options,
    ),
  zenity: (serial, options) =>
    runDriver(
      'zenity',
      ['--entry', '--title', 'aws-vault', '--text', mfaPromptMessage(serial)],
      options,
    ),
  kdialog: (serial, options) =>
    runDriver('kdialog', ['--inputbox', mfaPromptMessage(serial), '--title', 'aws-vault'], options),
};

function chooseDriver(options: MfaPromptOptions, profileName: string): keyof typeof DRIVERS {
  const name = options.driver;
  const avoidTerminal =
    typeof options.avoidTerminal === 'function' ? options.avoidTerminal() : options.avoidTerminal;
  if (name === 'pass') {
    throw new UserError(
      '--prompt=pass (AWS_VAULT_PROMPT=pass) was removed from aws-vault: a TOTP kept beside the password is not a second factor. To keep using pass, add `mfa_process = pass otp <your mfa_serial>` to the profile in ~/.aws/config',
    );
  }
  if (name === 'wincredui') {
    throw new UserError(
      '--prompt=wincredui (the Windows credentials dialog) is not available in this aws-vault; use --prompt=terminal, or set mfa_process in the profile',
    );
  }
  if (name !== undefined && name !== '') {
    if (!(MFA_PROMPT_DRIVERS as readonly string[]).includes(name)) {
      throw new UserError(
        `unknown prompt driver "${name}"; use one of: ${MFA_PROMPT_DRIVERS.join(', ')}`,
      );
    }
    if (name === 'terminal' && avoidTerminal) {
      throw new UserError(
        'the terminal MFA prompt cannot be used with a credential server (the command run owns the terminal); use --prompt=ykman, zenity, kdialog or osascript, or set mfa_process in the profile',
      );
    }
    return name as keyof typeof DRIVERS;
  }
  if (!avoidTerminal && hasControllingTerminal()) return 'terminal';
  for (const candidate of ['kdialog', 'osascript', 'ykman', 'zenity'] as const) {
    if (onPath(candidate, options.env)) return candidate;
  }
  if (avoidTerminal) {
    // Reading the terminal now would take the command's keystrokes, and
    // a pending read would keep aws-vault alive after the command ends.
    throw new UserError(
      `profile ${profileName}: a new MFA code is needed, but the command aws-vault runs owns the terminal, so the credential server cannot ask on it; set mfa_process in the profile, install a dialog (zenity, kdialog) or ykman and use --prompt, or run exec without a server`,
    );
  }
  return 'terminal';
}

function onPath(command: string, env: NodeJS.ProcessEnv): boolean {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

/**
 * Asks on the controlling terminal (`/dev/tty`), never on stdin/stdout, so
 * it works when stdout is a pipe (`credential_process`, `$(...)`). The code
 * is read in raw mode and not echoed (the hidden reader of
 * `prompt/interactive.ts`: Enter ends, Backspace edits, Ctrl-C cancels,
 * Ctrl-D on an empty line ends the input). The read is asynchronous so a
 * lock held meanwhile stays fresh.
 */
async function terminalPrompt(
  mfaSerial: string,
  options: MfaPromptOptions,
  profileName: string,
): Promise<string> {
  if (!hasControllingTerminal() && options.io.stdin.isTTY !== true) {
    throw new UserError(
      `profile ${profileName}: an MFA code for ${mfaSerial} is needed but there is no terminal to ask on; ${options.noTerminalHint ?? 'pass --mfa-token, set mfa_process in the profile, or choose another --prompt (ykman, zenity, kdialog, osascript)'}`,
    );
  }
  const prompter = terminalPrompter({ stdin: options.io.stdin, stderr: options.io.stderr });
  try {
    return await prompter.secret(mfaPromptMessage(mfaSerial));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (message === 'interrupted') {
      throw new UserError(`profile ${profileName}: MFA prompt cancelled`, { exitCode: 130 });
    }
    if (/end of file/.test(message)) {
      throw new UserError(`profile ${profileName}: no MFA code entered (end of input)`);
    }
    throw new UserError(`profile ${profileName}: cannot read the MFA code: ${message}`, {
      cause: error,
    });
  }
}

/** `ykman oath accounts code --single NAME`, NAME being the MFA serial unless overridden. */
function ykmanPrompt(mfaSerial: string, options: MfaPromptOptions): Promise<string> {
  const env = options.env;
  const name = env.YKMAN_OATH_CREDENTIAL_NAME || mfaSerial;
  const args: string[] = [];
  if (env.YKMAN_OATH_DEVICE_SERIAL) args.push('--device', env.YKMAN_OATH_DEVICE_SERIAL);
  if (['1', '2', '3'].includes(env.AWS_VAULT_YKMAN_VERSION ?? '')) {
    args.push('oath', 'code', '--single', name);
  } else {
    args.push('oath', 'accounts', 'code', '--single', name);
  }
  options.debug(`fetching the MFA code with \`ykman ${args.join(' ')}\``);
  return runDriver('ykman', args, options);
}

/** Runs a prompt program (no shell) and returns its trimmed stdout. */
function runDriver(command: string, args: string[], options: MfaPromptOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: withoutOwnSecrets(options.env),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(
        new UserError(
          error.code === 'ENOENT'
            ? `the ${command} MFA prompt needs \`${command}\`, which is not on PATH; install it or choose another --prompt`
            : `cannot run ${command} for the MFA code: ${error.message}`,
        ),
      );
    });
    child.on('close', (code, signal) => {
      if (code === 0) {
        resolve(Buffer.concat(chunks).toString('utf8').trim());
        return;
      }
      reject(
        new UserError(
          `${command} did not give an MFA code (${signal ? `killed by ${signal}` : `exit code ${code}`}); was the dialog cancelled?`,
        ),
      );
    });
  });
}

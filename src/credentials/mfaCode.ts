import type { ProfileConfig } from '../config/types.ts';
import { UserError } from '../errors.ts';
import type { EngineDeps } from './engineDeps.ts';
import { describeExit, runShellCommand } from './runShellCommand.ts';

/** Asks for the code of `mfaSerial` on behalf of `profile`. */
export type MfaCodeSource = (profile: ProfileConfig, mfaSerial: string) => Promise<string>;

/**
 * Where MFA codes come from for one credentials request, in the Go
 * aws-vault's order: `--mfa-token` (once: AWS rejects a code used twice),
 * the profile's `mfa_process`, else the prompt driver. Every code is checked
 * to be 6 digits before it goes anywhere near STS.
 */
export function mfaCodeSource(deps: EngineDeps): MfaCodeSource {
  let tokenUsed = false;
  return async (profile, mfaSerial) => {
    if (profile.mfaToken !== undefined && profile.mfaToken !== '' && !tokenUsed) {
      tokenUsed = true;
      deps.debug(`profile ${profile.name}: using the MFA code from --mfa-token`);
      return validateMfaCode(profile.mfaToken, profile.name, '--mfa-token');
    }
    if (profile.mfaProcess !== undefined && profile.mfaProcess !== '') {
      deps.debug(`profile ${profile.name}: running mfa_process for ${mfaSerial}`);
      return validateMfaCode(await runMfaProcess(profile, deps.env), profile.name, 'mfa_process');
    }
    deps.debug(`profile ${profile.name}: asking for the MFA code of ${mfaSerial}`);
    const code = await deps.mfaPrompt({ profileName: profile.name, mfaSerial });
    return validateMfaCode(code, profile.name);
  };
}

async function runMfaProcess(profile: ProfileConfig, env: NodeJS.ProcessEnv): Promise<string> {
  const command = profile.mfaProcess as string;
  let result;
  try {
    result = await runShellCommand(command, { env });
  } catch (error) {
    throw new UserError(`profile ${profile.name}: cannot run mfa_process: ${String(error)}`, {
      cause: error,
    });
  }
  if (result.code !== 0) {
    throw new UserError(
      `profile ${profile.name}: mfa_process ${describeExit(result)}; run it by hand to see why`,
    );
  }
  return result.stdout.trim();
}

/**
 * Trims and checks an MFA code (spaces inside, as some apps show `123 456`,
 * are dropped); the error never repeats it, and says what to fix where the
 * code came `from`.
 */
export function validateMfaCode(
  code: string,
  profileName: string,
  from: 'prompt' | '--mfa-token' | 'mfa_process' = 'prompt',
): string {
  const digits = code.replace(/\s+/g, '');
  const what = from === 'mfa_process' ? 'mfa_process printed' : 'the code given is';
  if (digits === '') {
    throw new UserError(
      from === 'mfa_process'
        ? `profile ${profileName}: mfa_process printed no MFA code; it must print the current 6-digit code`
        : `profile ${profileName}: no MFA code was given`,
    );
  }
  if (!/^\d{6}$/.test(digits)) {
    const size = code.trim().length;
    const fix =
      from === 'mfa_process'
        ? 'it must print only the current 6-digit code; run it by hand to see what it prints'
        : from === '--mfa-token'
          ? 'give the current code from your MFA device with --mfa-token'
          : 'enter the current code from your MFA device';
    throw new UserError(
      `profile ${profileName}: an MFA code is 6 digits (${what} ${size} character${size === 1 ? '' : 's'}${/\D/.test(digits) ? ', not all digits' : ''}); ${fix}`,
    );
  }
  return digits;
}

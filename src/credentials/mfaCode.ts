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
    let code: string;
    if (profile.mfaToken !== undefined && profile.mfaToken !== '' && !tokenUsed) {
      tokenUsed = true;
      deps.debug(`profile ${profile.name}: using the MFA code from --mfa-token`);
      code = profile.mfaToken;
    } else if (profile.mfaProcess !== undefined && profile.mfaProcess !== '') {
      deps.debug(`profile ${profile.name}: running mfa_process for ${mfaSerial}`);
      code = await runMfaProcess(profile, deps.env);
    } else {
      deps.debug(`profile ${profile.name}: asking for the MFA code of ${mfaSerial}`);
      code = await deps.mfaPrompt({ profileName: profile.name, mfaSerial });
    }
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

/** Trims and checks an MFA code; the error never repeats it. */
export function validateMfaCode(code: string, profileName: string): string {
  const trimmed = code.replace(/\s+/g, '');
  if (trimmed === '') {
    throw new UserError(`profile ${profileName}: no MFA code was given`);
  }
  if (!/^\d{6}$/.test(trimmed)) {
    throw new UserError(
      `profile ${profileName}: an MFA code is 6 digits (the code given is ${trimmed.length} characters${/\D/.test(trimmed) ? ' and not all digits' : ''}); enter the current code from your MFA device`,
    );
  }
  return trimmed;
}

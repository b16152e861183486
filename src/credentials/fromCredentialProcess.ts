import type { ProfileConfig } from '../config/types.ts';
import { UserError } from '../errors.ts';
import type { EngineDeps } from './engineDeps.ts';
import { describeExit, runShellCommand, shownCommand } from './runShellCommand.ts';
import { redactCredentials } from './redact.ts';
import { rfc3339 } from './rfc3339.ts';
import type { Credentials, CredentialsProvider } from './types.ts';

/**
 * Credentials from the profile's `credential_process`: run through the
 * shell, its stderr and stdin are the user's (not the terminal while a
 * credential server's command owns it), its stdout must be the JSON
 * document of the AWS CLI (`Version: 1`). The output holds secrets, so no
 * error message ever quotes it.
 */
export function fromCredentialProcess(
  profile: ProfileConfig,
  deps: EngineDeps,
): CredentialsProvider {
  return async () => {
    const command = profile.credentialProcess as string;
    const p = `profile ${profile.name}: credential_process "${shownCommand(command)}"`;
    deps.debug(`profile ${profile.name}: running credential_process`);
    let result;
    try {
      const terminalTaken = deps.terminalTaken?.() === true;
      if (terminalTaken)
        deps.debug(
          `profile ${profile.name}: credential_process runs without the terminal, which the command owns`,
        );
      result = await runShellCommand(command, {
        env: deps.env,
        inheritStdin: !terminalTaken,
        keepOwnSecrets: true,
        withoutTerminal: terminalTaken,
      });
    } catch (error) {
      throw new UserError(`${p} could not be started: ${String(error)}`, { cause: error });
    }
    if (result.code !== 0) {
      throw new UserError(`${p} ${describeExit(result)}; its messages are above`);
    }
    return parseCredentialProcessOutput(result.stdout, p);
  };
}

/** Parses and checks the credential_process JSON document (Version 1). */
export function parseCredentialProcessOutput(stdout: string, context: string): Credentials {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    throw new UserError(
      `${context} did not print a JSON document (${stdout.trim() === '' ? 'its output was empty' : 'its output is not valid JSON'})`,
    );
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new UserError(`${context} printed JSON that is not an object`);
  }
  const fields = doc as Record<string, unknown>;
  if (fields.Version !== 1) {
    throw new UserError(
      `${context} printed a document with Version ${JSON.stringify(fields.Version ?? null)}; only Version 1 is supported`,
    );
  }
  const missing = ['AccessKeyId', 'SecretAccessKey'].filter(
    (name) => typeof fields[name] !== 'string' || fields[name] === '',
  );
  if (missing.length > 0) {
    throw new UserError(`${context} printed a document without ${missing.join(' and ')}`);
  }
  const creds: Credentials = {
    accessKeyId: fields.AccessKeyId as string,
    secretAccessKey: fields.SecretAccessKey as string,
  };
  if (typeof fields.SessionToken === 'string' && fields.SessionToken !== '') {
    creds.sessionToken = fields.SessionToken;
  }
  if (fields.Expiration !== undefined && fields.Expiration !== null) {
    const expiration = new Date(String(fields.Expiration));
    if (typeof fields.Expiration !== 'string' || Number.isNaN(expiration.getTime())) {
      throw new UserError(
        `${context} printed an Expiration that is not an ISO 8601 time: ${JSON.stringify(fields.Expiration)}`,
      );
    }
    // As the AWS CLI: credentials that have already expired are refused,
    // not handed out (or cached) to fail at the first AWS call.
    if (expiration.getTime() <= Date.now()) {
      throw new UserError(
        `${context} printed credentials that have already expired (Expiration ${rfc3339(expiration)}); check the command`,
      );
    }
    creds.expiration = expiration;
  }
  return redactCredentials(creds);
}

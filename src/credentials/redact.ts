/**
 * Guards objects that carry secrets against accidental logging: once
 * guarded, `util.inspect` (console.log, Node's report of an unhandled
 * rejection, a debugger's preview) and `JSON.stringify` show the secret
 * fields as `[redacted]`. The fields themselves are untouched, and the guard
 * is not enumerable, so spreading or copying the object gives a plain one.
 */

/**
 * aws-vault's own secrets in its environment (the file store's passphrase),
 * which no program it starts needs but a nested aws-vault: not the command
 * `exec` runs (an `env` or a crash dump there ends up in CI logs), nor a
 * browser, `mfa_process`, a prompt program or `web_identity_token_process`.
 * `credential_process` keeps them: it is most often `aws-vault export`.
 */
export const WITHHELD_VARIABLES = ['AWS_VAULT_FILE_PASSPHRASE'];

/** `env` without {@link WITHHELD_VARIABLES} (a copy; `env` is untouched). */
export function withoutOwnSecrets(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  for (const name of WITHHELD_VARIABLES) delete copy[name];
  return copy;
}

/** What guarded objects show instead of a secret. */
export const REDACTED = '[redacted]';

/** The secret fields of `Credentials`, stored keys and SSO tokens. */
const SECRET_FIELDS = [
  'secretAccessKey',
  'sessionToken',
  'accessToken',
  'refreshToken',
  'idToken',
  'clientSecret',
] as const;

// The symbol `util.inspect.custom` is registered under; no import of node:util needed.
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

type InspectFn = (value: unknown, options?: unknown) => string;

function redactedCopy(value: object): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...value };
  for (const field of SECRET_FIELDS) {
    if (typeof copy[field] === 'string' && copy[field] !== '') copy[field] = REDACTED;
  }
  return copy;
}

/**
 * Makes `value` print its secret fields as `[redacted]`; returns it. Safe to
 * call twice; frozen objects are returned as they are.
 */
export function redactCredentials<T extends object>(value: T): T {
  if (!Object.isExtensible(value) || Object.prototype.hasOwnProperty.call(value, INSPECT)) {
    return value;
  }
  Object.defineProperty(value, INSPECT, {
    value(this: object, _depth: number, options: unknown, inspect?: InspectFn) {
      const copy = redactedCopy(this);
      return inspect ? inspect(copy, options) : copy;
    },
    enumerable: false,
    configurable: true,
    writable: false,
  });
  Object.defineProperty(value, 'toJSON', {
    value(this: object) {
      return redactedCopy(this);
    },
    enumerable: false,
    configurable: true,
    writable: false,
  });
  return value;
}

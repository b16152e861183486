import { UserError } from '../errors.ts';

/** Where in the config a problem is: any of file, line and profile may be unknown. */
export interface ConfigErrorLocation {
  /** The config file's path. */
  file?: string;
  /** 1-based line number in `file`. */
  line?: number;
  /** The profile being read (`prod`, `default`). */
  profile?: string;
  /** Another section being read, as written in its header (`sso-session corp`); used when `profile` is not. */
  section?: string;
  cause?: unknown;
}

/**
 * A mistake in the user's config: a malformed line, a value of the wrong form,
 * a missing or cyclic profile. The message names the file, the line where it
 * is known and the profile, e.g.
 * `/home/u/.aws/config:12: profile prod: duration_seconds: "soon" is not a duration (use e.g. 3600 or 1h)`.
 * Printed without a stack trace by the top-level catch.
 */
export class ConfigError extends UserError {
  override name = 'ConfigError';
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly profile: string | undefined;
  /** The message without the location prefix. */
  readonly detail: string;

  constructor(detail: string, location: ConfigErrorLocation = {}) {
    super(formatLocation(location) + detail, { cause: location.cause });
    this.detail = detail;
    this.file = location.file;
    this.line = location.line;
    this.profile = location.profile;
  }
}

function formatLocation({ file, line, profile, section }: ConfigErrorLocation): string {
  let prefix = '';
  if (file !== undefined) prefix += line !== undefined ? `${file}:${line}: ` : `${file}: `;
  if (profile !== undefined) prefix += `profile ${profile}: `;
  else if (section !== undefined) prefix += `${section}: `;
  return prefix;
}

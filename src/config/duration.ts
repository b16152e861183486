import { ConfigError, type ConfigErrorLocation } from './errors.ts';

/** Seconds per unit, as Go's time.ParseDuration spells them. */
const UNIT_SECONDS: Record<string, number> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  μs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

// µs and μs (micro sign, Greek mu) escaped: esbuild leaves a regular
// expression's characters as written, and dist/fast.cjs must stay ASCII
// (scripts/build.mjs).
const COMPONENT = /(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/y;

export interface ParseDurationOptions {
  /** Also accept a bare number of seconds (`3600`), as `duration_seconds` does. */
  bareSeconds?: boolean;
  /** Where the text came from, for the error. */
  location?: ConfigErrorLocation;
}

/**
 * Parses a duration the way Go's `time.ParseDuration` does (`12h`, `43200s`,
 * `90m`, `1h30m`, `1.5h`; units required, `0` allowed) and returns whole
 * seconds (fractions are dropped). `what` names the setting for the error:
 * `AWS_SESSION_TOKEN_TTL: "soon" is not a duration (use e.g. 1h, 90m or 3600s)`.
 * Negative durations are refused.
 */
export function parseDuration(
  text: string,
  what: string,
  options: ParseDurationOptions = {},
): number {
  const trimmed = text.trim();
  const seconds = options.bareSeconds ? parseBareSeconds(trimmed) : undefined;
  const parsed = seconds ?? parseGoDuration(trimmed);
  if (parsed === undefined) {
    const hint = options.bareSeconds ? 'use e.g. 3600 or 1h' : 'use e.g. 1h, 90m or 3600s';
    throw new ConfigError(
      `${what}: ${JSON.stringify(text)} is not a duration (${hint})`,
      options.location,
    );
  }
  return Math.floor(parsed);
}

function parseBareSeconds(text: string): number | undefined {
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

function parseGoDuration(text: string): number | undefined {
  let rest = text;
  if (rest.startsWith('+')) rest = rest.slice(1);
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let total = 0;
  COMPONENT.lastIndex = 0;
  while (COMPONENT.lastIndex < rest.length) {
    const match = COMPONENT.exec(rest);
    if (!match) return undefined;
    const [, amount, unit] = match;
    total += Number(amount) * (UNIT_SECONDS[unit as string] as number);
  }
  return Number.isFinite(total) ? total : undefined;
}

/** Formats seconds the way Go prints a time.Duration (`1h0m0s`, `57m3s`, `0s`), for messages. */
export function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.floor(seconds));
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** AWS's limits on session durations, in seconds. */
export const DURATION_LIMITS = {
  min: 900,
  /** GetSessionToken and GetFederationToken. */
  session: 129_600,
  /** AssumeRole from an IAM user's keys or session. */
  role: 43_200,
  /** AssumeRole with the credentials of another role (role chaining). */
  chainedRole: 3_600,
} as const;

/** `1h`, `90m` -> `1h30m`, `48h`, `5m`, `45s`: seconds as a short duration, for messages. */
export function shortDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const text = `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}`;
  return text === '' ? '0s' : text;
}

/**
 * Refuses, before any prompt or call, a session length STS would refuse
 * (its ValidationError names only `durationSeconds`): the error says which
 * settings give it, `from` (`--duration or AWS_SESSION_TOKEN_TTL`).
 */
export function checkSessionLength(
  profileName: string,
  action: 'GetSessionToken' | 'AssumeRole',
  seconds: number,
  from: string,
  writtenAt?: { file: string; line: number | undefined },
): void {
  const max = action === 'AssumeRole' ? DURATION_LIMITS.role : DURATION_LIMITS.session;
  if (seconds >= DURATION_LIMITS.min && seconds <= max) return;
  throw new ConfigError(
    `a ${shortDuration(seconds)} ${action} session is outside AWS's limits (${shortDuration(DURATION_LIMITS.min)} to ${shortDuration(max)}); check ${from}`,
    { ...writtenAt, profile: profileName },
  );
}

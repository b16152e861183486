import { quoteName, type ConfigFile, type SectionValues } from './configFile.ts';
import { parseDuration } from './duration.ts';
import { profileOperand } from '../errors.ts';
import { ConfigError, type ConfigErrorLocation } from './errors.ts';
import type { ProfileConfig, ProfileOverrides } from './types.ts';

export interface ResolveProfileOptions {
  env: NodeJS.ProcessEnv;
  /** Command-line flags: they beat the environment and the file (`duration: 0` means unset). */
  overrides?: ProfileOverrides;
  /** `--debug` output: which sections and variables each profile was read from (names only). */
  debug?: (line: string) => void;
}

const HOUR = 3600;
const DEFAULT_SESSION_DURATION = HOUR;
const DEFAULT_CHAINED_SESSION_DURATION = 8 * HOUR;
const DEFAULT_MIN_TTL = 5 * 60;
/** Longer chains are mistakes (AWS limits role chaining to a 1-hour session anyway). */
export const MAX_SOURCE_CHAIN = 50;

/**
 * Keys whose values can never hold quotes (ARNs, regions, URLs, IAM names,
 * numbers, profile and section names). The Go aws-vault drops the quotes
 * around a value; aws-vault, like the AWS CLI, keeps them, so a quoted value
 * of one of these would reach STS as `"arn:..."`: it is refused, naming the
 * line. Commands (`credential_process`, `mfa_process`) and paths may quote.
 */
const UNQUOTABLE_KEYS = new Set([
  'region',
  'mfa_serial',
  'role_arn',
  'role_session_name',
  'source_identity',
  'external_id',
  'duration_seconds',
  'sts_regional_endpoints',
  'session_tags',
  'transitive_session_tags',
  'source_profile',
  'include_profile',
  'parent_profile',
  'sso_session',
  'sso_start_url',
  'sso_region',
  'sso_account_id',
  'sso_role_name',
  'sso_registration_scopes',
  'endpoint_url',
  'services',
  'ignore_configured_endpoint_urls',
]);

/**
 * Throws when `value` of `key` is wrapped in quotes and `key` cannot hold
 * them (see {@link UNQUOTABLE_KEYS}). The value itself is not repeated: the
 * line names it.
 */
export function checkUnquoted(key: string, value: string, location: ConfigErrorLocation): void {
  if (!UNQUOTABLE_KEYS.has(key) || value.length < 2) return;
  const first = value[0];
  if ((first !== '"' && first !== "'") || value.at(-1) !== first) return;
  throw new ConfigError(
    `${key} is written in quotes, and the quotes would be part of the value (the AWS CLI reads it so too; the Go aws-vault dropped them): remove them`,
    location,
  );
}

/**
 * Resolves profile `name` into one `ProfileConfig`, following the Go
 * aws-vault v7: for every key the first of these that sets it wins —
 * flags (`overrides`), the environment, the profile's own section, the
 * profiles it includes (`include_profile`, old name `parent_profile`,
 * followed transitively), else `[default]` — then the built-in defaults.
 * `source_profile` is resolved the same way, to any depth; a profile that
 * names itself is its own source (its stored keys). Errors are
 * `ConfigError`s naming the file, line and profile: a missing
 * `source_profile`/`include_profile`/`sso_session` target, a cycle, a chain
 * deeper than {@link MAX_SOURCE_CHAIN}, or a value of the wrong form.
 */
export function resolveProfileConfig(
  file: ConfigFile,
  name: string,
  options: ResolveProfileOptions,
): ProfileConfig {
  return resolveChain(file, name, options, [name]);
}

/** A profile's `source_profile` and the section that sets it. */
export interface SourceProfileSetting {
  /** The source profile's name, as written. */
  name: string;
  /** The profile whose section holds the key: the profile itself, one it includes, or `default`. */
  from: string;
  /** Line of the `source_profile` key. */
  line?: number;
}

/**
 * Where profile `name` gets its `source_profile` from, read exactly as
 * `resolveProfileConfig` reads it (the profile's section, its
 * `include_profile` chain, then `[default]`), without resolving the rest.
 * Undefined when it has none. Include errors (missing target, cycle) throw.
 */
export function sourceProfileSetting(
  file: ConfigFile,
  name: string,
): SourceProfileSetting | undefined {
  for (const layer of collectLayers(file, name)) {
    const value = layer.values.source_profile;
    if (value === undefined || value === '') continue;
    const setting: SourceProfileSetting = { name: value, from: layer.profile };
    const line = file.lineOf(layer.profile, 'source_profile');
    if (line !== undefined) setting.line = line;
    return setting;
  }
  return undefined;
}

/** A key's value and where it came from. */
interface Found {
  value: string;
  /** The profile whose section holds it. */
  profile: string;
  line: number | undefined;
}

function resolveChain(
  file: ConfigFile,
  name: string,
  options: ResolveProfileOptions,
  sourceChain: string[],
): ProfileConfig {
  const { env } = options;
  const overrides = options.overrides ?? {};
  const isTopLevel = sourceChain.length === 1;
  const layers = collectLayers(file, name);
  const at = (found: Found): ConfigErrorLocation => ({
    file: file.path,
    line: found.line,
    profile: found.profile,
  });
  const get = (key: string): Found | undefined => {
    for (const layer of layers) {
      const value = layer.values[key];
      if (value !== undefined && value !== '') {
        const found = { value, profile: layer.profile, line: file.lineOf(layer.profile, key) };
        checkUnquoted(key, value, at(found));
        return found;
      }
    }
    return undefined;
  };
  const usedEnv: string[] = [];
  const fromEnv = (key: string): string | undefined => {
    const value = env[key];
    if (value === undefined || value === '') return undefined;
    usedEnv.push(key);
    return value;
  };
  // A TTL of 0 means the default, as in the Go aws-vault (and as
  // `--duration 0` and `duration_seconds = 0` do); only AWS_MIN_TTL keeps it.
  const envDuration = (key: string): number | undefined => {
    const value = fromEnv(key);
    return value === undefined ? undefined : parseDuration(value, key) || undefined;
  };

  const config: ProfileConfig = {
    name,
    file: file.path,
    serviceEndpoints: {},
    sessionTags: {},
    transitiveSessionTags: [],
    noSession: overrides.noSession ?? false,
    assumeRoleDuration: DEFAULT_SESSION_DURATION,
    sessionTokenDuration: DEFAULT_SESSION_DURATION,
    chainedSessionTokenDuration: DEFAULT_CHAINED_SESSION_DURATION,
    federationTokenDuration: DEFAULT_SESSION_DURATION,
    minTtl: DEFAULT_MIN_TTL,
    inFile: file.hasProfile(name),
  };
  const line = file.lineOf(name);
  if (line !== undefined) config.line = line;

  const set = <K extends keyof ProfileConfig>(
    key: K,
    value: ProfileConfig[K] | undefined,
  ): void => {
    if (value !== undefined) config[key] = value;
  };
  const str = (key: string): string | undefined => get(key)?.value;

  // Region: --region, AWS_REGION, AWS_DEFAULT_REGION, the file.
  set(
    'region',
    overrides.region || fromEnv('AWS_REGION') || fromEnv('AWS_DEFAULT_REGION') || str('region'),
  );

  const stsEnv = fromEnv('AWS_STS_REGIONAL_ENDPOINTS');
  const stsFile = get('sts_regional_endpoints');
  if (stsEnv !== undefined) {
    config.stsRegionalEndpoints = stsMode(stsEnv, 'AWS_STS_REGIONAL_ENDPOINTS', {});
  } else if (stsFile) {
    config.stsRegionalEndpoints = stsMode(stsFile.value, 'sts_regional_endpoints', at(stsFile));
  }

  set('mfaSerial', fromEnv('AWS_MFA_SERIAL') ?? str('mfa_serial'));
  set('mfaProcess', str('mfa_process'));
  set('mfaToken', overrides.mfaToken || undefined);
  set('externalId', str('external_id'));
  set('credentialProcess', str('credential_process'));
  set('webIdentityTokenFile', str('web_identity_token_file'));
  set('webIdentityTokenProcess', str('web_identity_token_process'));
  const endpoint = get('endpoint_url');
  if (endpoint) {
    checkEndpointUrl(endpoint.value, at(endpoint));
    config.endpointUrl = endpoint.value;
  }

  // AWS_ROLE_ARN and friends describe the role being asked for, not its sources.
  const topEnv = (key: string): string | undefined => (isTopLevel ? fromEnv(key) : undefined);
  set('roleArn', topEnv('AWS_ROLE_ARN') ?? str('role_arn'));
  set('roleSessionName', topEnv('AWS_ROLE_SESSION_NAME') ?? str('role_session_name'));
  set('sourceIdentity', topEnv('AWS_SOURCE_IDENTITY') ?? str('source_identity'));

  const tagsEnv = topEnv('AWS_SESSION_TAGS');
  const tagsFile = get('session_tags');
  if (tagsEnv !== undefined) config.sessionTags = parseSessionTags(tagsEnv, 'AWS_SESSION_TAGS', {});
  else if (tagsFile)
    config.sessionTags = parseSessionTags(tagsFile.value, 'session_tags', at(tagsFile));
  const transitive = topEnv('AWS_TRANSITIVE_TAGS') ?? str('transitive_session_tags');
  if (transitive !== undefined) config.transitiveSessionTags = commaList(transitive);

  // Durations: --duration, the TTL variables, duration_seconds, the defaults.
  const durationSeconds = get('duration_seconds');
  const fileRoleDuration = durationSeconds
    ? parseDuration(durationSeconds.value, 'duration_seconds', {
        bareSeconds: true,
        location: at(durationSeconds),
      })
    : undefined;
  const roleDurationOverride =
    (overrides.duration || undefined) ?? envDuration('AWS_ASSUME_ROLE_TTL');
  config.assumeRoleDuration =
    roleDurationOverride ?? (fileRoleDuration || undefined) ?? DEFAULT_SESSION_DURATION;
  if (roleDurationOverride === undefined && fileRoleDuration && durationSeconds) {
    config.assumeRoleDurationAt = { file: file.path, line: durationSeconds.line };
  }
  config.sessionTokenDuration =
    (overrides.duration || undefined) ??
    envDuration('AWS_SESSION_TOKEN_TTL') ??
    DEFAULT_SESSION_DURATION;
  config.chainedSessionTokenDuration =
    envDuration('AWS_CHAINED_SESSION_TOKEN_TTL') ?? DEFAULT_CHAINED_SESSION_DURATION;
  config.federationTokenDuration =
    (overrides.duration || undefined) ??
    envDuration('AWS_FEDERATION_TOKEN_TTL') ??
    DEFAULT_SESSION_DURATION;
  const minTtl = fromEnv('AWS_MIN_TTL');
  config.minTtl = minTtl === undefined ? DEFAULT_MIN_TTL : parseDuration(minTtl, 'AWS_MIN_TTL');

  resolveSso(file, config, get, at);
  resolveEndpointsConfig(file, config, get, at);

  options.debug?.(
    `profile ${name}: read from ${layers.map((l) => sectionLabel(file, l.profile)).join(' -> ')}` +
      (usedEnv.length > 0 ? `; environment: ${[...new Set(usedEnv)].join(', ')}` : ''),
  );

  const source = get('source_profile');
  if (source) {
    config.sourceProfileName = source.value;
    if (source.value !== name) {
      const index = sourceChain.indexOf(source.value);
      if (index >= 0) {
        const cycle = [...sourceChain.slice(index), source.value].join(' -> ');
        throw new ConfigError(`source_profile cycle ${cycle}`, at(source));
      }
      if (sourceChain.length >= MAX_SOURCE_CHAIN) {
        throw new ConfigError(
          `source_profile chain longer than ${MAX_SOURCE_CHAIN} profiles (${sourceChain.slice(0, 3).join(' -> ')} -> ...): no role chain is that deep; check the source_profile settings`,
          at(source),
        );
      }
      // A source without a section is resolved like a profile that exists
      // only in the vault; the engine refuses it unless its keys are stored.
      config.sourceProfileAt = at(source);
      config.sourceProfile = resolveChain(file, source.value, options, [
        ...sourceChain,
        source.value,
      ]);
    }
  }
  return config;
}

/**
 * The error for `profile`'s `source_profile` that names a profile with
 * neither a section in the config nor keys in the vault (a typo, most
 * often), naming the file, the line and the section that sets it.
 */
export function missingSourceProfileError(profile: ProfileConfig): ConfigError {
  const name = profile.sourceProfileName ?? '';
  return new ConfigError(
    `source_profile "${name}" not found in ${profile.file} (no [${sectionHeader(name)}] section), and the vault holds no access key for it (add one with \`aws-vault add ${profileOperand(name)}\`)`,
    profile.sourceProfileAt ?? { file: profile.file, profile: profile.name },
  );
}

/**
 * The profile in `profile`'s source chain whose `source_profile` names a
 * profile with no section, if any: with no keys stored for that source,
 * {@link missingSourceProfileError} of it is the error to show.
 */
export function sectionlessSourceOf(profile: ProfileConfig): ProfileConfig | undefined {
  for (const p of sourceChain(profile)) {
    if (p.sourceProfile?.inFile === false) return p;
  }
  return undefined;
}

/** `profile`, then its source profile, and so on, each profile once. */
export function* sourceChain(profile: ProfileConfig): Generator<ProfileConfig> {
  const seen = new Set<string>();
  for (let p: ProfileConfig | undefined = profile; p && !seen.has(p.name); p = p.sourceProfile) {
    seen.add(p.name);
    yield p;
  }
}

/** One section's keys, in the order they are consulted. */
interface Layer {
  profile: string;
  values: SectionValues;
}

/**
 * The profile's section, then its `include_profile` chain, then `[default]`
 * (the Go aws-vault falls back to `[default]` from the last profile that
 * includes nothing). A missing `include_profile` target or an include cycle
 * is an error; reaching `[default]` again through the fallback is not.
 */
function collectLayers(file: ConfigFile, name: string): Layer[] {
  const layers: Layer[] = [];
  const visited: string[] = [];
  let current: string | undefined = name;
  while (current !== undefined) {
    visited.push(current);
    const values: SectionValues = file.profileSection(current) ?? {};
    layers.push({ profile: current, values });
    const includeKey = values.include_profile ? 'include_profile' : 'parent_profile';
    const include: string | undefined = values[includeKey];
    if (include) {
      const location = {
        file: file.path,
        line: file.lineOf(current, includeKey),
        profile: current,
      };
      checkUnquoted(includeKey, include, location);
      if (visited.includes(include)) {
        const cycle = [...visited.slice(visited.indexOf(include)), include].join(' -> ');
        throw new ConfigError(`${includeKey} cycle ${cycle}`, location);
      }
      if (!file.hasProfile(include)) {
        throw new ConfigError(
          `${includeKey} "${include}" not found in ${file.path} (no [${sectionHeader(include)}] section)`,
          location,
        );
      }
      current = include;
    } else if (current !== 'default' && !visited.includes('default')) {
      current = 'default';
    } else {
      current = undefined;
    }
  }
  return layers;
}

type Get = (key: string) => Found | undefined;
type At = (found: Found) => ConfigErrorLocation;

/**
 * SSO settings: an `sso_session` brings `sso_start_url`, `sso_region` and
 * `sso_registration_scopes` from its `[sso-session NAME]` section (they win
 * over the same keys in the profile, as in the Go aws-vault); the legacy
 * keys in the profile fill whatever the session section leaves unset.
 */
function resolveSso(file: ConfigFile, config: ProfileConfig, get: Get, at: At): void {
  const session = get('sso_session');
  let fromSession: SectionValues = {};
  if (session) {
    config.ssoSession = session.value;
    const section = file.ssoSessionSection(session.value);
    if (!section) {
      throw new ConfigError(
        `sso_session "${session.value}" not found in ${file.path} (no [sso-session ${session.value}] section)`,
        at(session),
      );
    }
    fromSession = section;
    const location = {
      file: file.path,
      line: file.sectionLine('sso-session', session.value),
      section: `sso-session ${session.value}`,
    };
    for (const [key, value] of Object.entries(section)) checkUnquoted(key, value, location);
  }
  const pick = (key: string): string | undefined => fromSession[key] || get(key)?.value;
  const startUrl = pick('sso_start_url');
  if (startUrl !== undefined) config.ssoStartUrl = startUrl;
  const region = pick('sso_region');
  if (region !== undefined) config.ssoRegion = region;
  const scopes = pick('sso_registration_scopes');
  if (scopes !== undefined) config.ssoRegistrationScopes = commaList(scopes);
  const accountId = get('sso_account_id')?.value;
  if (accountId !== undefined) config.ssoAccountId = accountId;
  const roleName = get('sso_role_name')?.value;
  if (roleName !== undefined) config.ssoRoleName = roleName;
}

/**
 * An `endpoint_url` is an http:// or https:// URL, as the AWS CLI and SDKs
 * require; anything else is named where it is written, not reported later as
 * a failed STS call.
 */
function checkEndpointUrl(value: string, location: ConfigErrorLocation): void {
  let protocol: string | undefined;
  try {
    protocol = new URL(value).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol === 'http:' || protocol === 'https:') return;
  throw new ConfigError(
    `endpoint_url "${value}" is not an http:// or https:// URL (e.g. https://sts.eu-west-1.amazonaws.com or http://localhost:4566)`,
    location,
  );
}

/** `services = NAME` -> the `[services NAME]` section's per-service `endpoint_url`s. */
function resolveEndpointsConfig(file: ConfigFile, config: ProfileConfig, get: Get, at: At): void {
  const ignore = get('ignore_configured_endpoint_urls');
  if (ignore) config.ignoreConfiguredEndpointUrls = ignore.value.toLowerCase() === 'true';
  const services = get('services');
  if (!services) return;
  config.services = services.value;
  const section = file.servicesSection(services.value);
  if (!section) {
    throw new ConfigError(
      `services "${services.value}" not found in ${file.path} (no [services ${services.value}] section)`,
      at(services),
    );
  }
  const location = {
    file: file.path,
    line: file.sectionLine('services', services.value),
    section: `services ${services.value}`,
  };
  for (const [service, values] of Object.entries(section)) {
    const url = values.endpoint_url;
    if (!url) continue;
    checkUnquoted('endpoint_url', url, location);
    checkEndpointUrl(url, location);
    config.serviceEndpoints[service] = url;
  }
}

function stsMode(
  value: string,
  what: string,
  location: ConfigErrorLocation,
): 'legacy' | 'regional' {
  const mode = value.trim().toLowerCase();
  if (mode === 'legacy' || mode === 'regional') return mode;
  throw new ConfigError(
    `${what}: ${JSON.stringify(value)} must be "regional" or "legacy"`,
    location,
  );
}

/** `k1=v1,k2=v2` -> `{k1: 'v1', k2: 'v2'}` (spaces around keys and values trimmed). */
export function parseSessionTags(
  text: string,
  what: string,
  location: ConfigErrorLocation,
): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const pair of text.split(',')) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    const key = eq < 0 ? '' : pair.slice(0, eq).trim();
    if (key === '') {
      throw new ConfigError(`${what}: must be key1=value1,key2=value2`, location);
    }
    tags[key] = pair.slice(eq + 1).trim();
  }
  return tags;
}

function commaList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function sectionLabel(file: ConfigFile, name: string): string {
  const header = `[${sectionHeader(name)}]`;
  return file.hasProfile(name) ? header : `${header} (not in file)`;
}

function sectionHeader(name: string): string {
  return name === 'default' ? 'default' : `profile ${quoteName(name)}`;
}

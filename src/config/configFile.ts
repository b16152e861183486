import {
  closeSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readlinkSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from './errors.ts';
import { parseConfigText, type ParsedSection } from './parseConfigText.ts';

/**
 * The path of the AWS config file: `AWS_CONFIG_FILE` (with `~` expanded, as
 * the AWS CLI does), else `HOME/.aws/config`.
 */
export function configFilePath(env: NodeJS.ProcessEnv, home: string = osHome()): string {
  const fromEnv = env.AWS_CONFIG_FILE;
  if (fromEnv === undefined || fromEnv === '') return join(home, '.aws', 'config');
  if (fromEnv === '~') return home;
  if (fromEnv.startsWith('~/')) return join(home, fromEnv.slice(2));
  return isAbsolute(fromEnv) ? fromEnv : resolve(fromEnv);
}

/**
 * Reads and parses the AWS config file (see `configFilePath`). A missing file
 * is an empty config; an unreadable or malformed one throws a `ConfigError`
 * naming `FILE:LINE`.
 */
export function loadConfigFile(env: NodeJS.ProcessEnv, home: string = osHome()): ConfigFile {
  const path = configFilePath(env, home);
  const bytes = readIfExists(path);
  return new ConfigFile(path, bytes?.toString('utf8') ?? '');
}

/** A section's keys (lower-cased) and values as written (inline comments removed). */
export type SectionValues = Record<string, string>;

/**
 * `~/.aws/config` (or `AWS_CONFIG_FILE`) as read from disk. A missing file
 * reads as an empty config. Lookups are by profile name as the user writes it
 * on the command line (`prod`, `default`).
 */
export class ConfigFile {
  /** The file's path (it may not exist yet). */
  readonly path: string;
  #sections: ParsedSection[] = [];
  #byHeader = new Map<string, ParsedSection>();

  constructor(path: string, text: string) {
    this.path = path;
    this.#setSections(parseConfigText(text, path).sections);
  }

  #setSections(sections: ParsedSection[]): void {
    this.#sections = sections;
    // The parser merges repeated headers, so each header appears once.
    this.#byHeader = new Map(sections.map((section) => [section.header, section]));
  }

  /**
   * Profile names in file order: `default` (when `[default]` has any key, as
   * the Go aws-vault lists it) and every `[profile NAME]`. Sections such as
   * `[foo]` without the `profile ` prefix are not profiles in the config file.
   */
  profileNames(): string[] {
    const names = new Set<string>();
    for (const section of this.#sections) {
      if (section.kind !== 'profile') continue;
      if (section.header === 'default' && Object.keys(section.values).length === 0) continue;
      names.add(section.name);
    }
    return [...names];
  }

  /** True when the file has a section for the profile (`[default]` or `[profile NAME]`). */
  hasProfile(name: string): boolean {
    return this.#profile(name) !== undefined;
  }

  /** The profile's own keys (no `include_profile` or `[default]` applied), or undefined. */
  profileSection(name: string): SectionValues | undefined {
    return copy(this.#profile(name)?.values);
  }

  /** The `[sso-session NAME]` section's keys, or undefined. */
  ssoSessionSection(name: string): SectionValues | undefined {
    return copy(this.#find('sso-session', name)?.values);
  }

  /**
   * The `[services NAME]` section: service id (`sts`, `iam`, `sso`,
   * `sso_oidc`, lower-case) -> its nested keys (`endpoint_url`), or undefined.
   */
  servicesSection(name: string): Record<string, SectionValues> | undefined {
    const section = this.#find('services', name);
    if (!section) return undefined;
    const result: Record<string, SectionValues> = Object.create(null);
    for (const [service, values] of Object.entries(section.nested)) {
      result[service] = { ...values };
    }
    return result;
  }

  /** Line of the profile's header, or of one of its keys, for error messages. */
  lineOf(name: string, key?: string): number | undefined {
    const section = this.#profile(name);
    if (!section) return undefined;
    return key === undefined ? section.line : (section.lines[key] ?? section.line);
  }

  /** Line of an `[sso-session]` or `[services]` section's header. */
  sectionLine(kind: 'sso-session' | 'services', name: string): number | undefined {
    return this.#find(kind, name)?.line;
  }

  /** Throws the error {@link addProfile} would for `name`, without writing. */
  checkAddable(name: string): void {
    checkAddable(name, {}, this.path);
  }

  /**
   * Appends `[profile NAME]` (`[default]` for `default`; NAME in quotes when it
   * has spaces or quotes, see `quoteName`) with `values` to the
   * file unless the profile is already there; returns whether it wrote. The
   * existing bytes are kept as they are; the file is rewritten atomically
   * (temporary file, fsync, rename), keeps its mode (0600 when new), and its
   * folder is created 0700 when missing. A symlinked config is written
   * through to its target, so dotfile managers keep their link.
   */
  addProfile(name: string, values: Record<string, string> = {}): boolean {
    checkAddable(name, values, this.path);
    // Re-read: another process may have changed the file since it was loaded.
    const existing = readIfExists(this.path);
    const fresh = new ConfigFile(this.path, existing?.toString('utf8') ?? '');
    if (fresh.hasProfile(name)) {
      this.#setSections(fresh.#sections);
      return false;
    }
    const before = existing ?? Buffer.alloc(0);
    const eol = before.includes('\r\n') ? '\r\n' : '\n';
    let addition = '';
    if (before.length > 0 && !/[\r\n]$/.test(before.toString('utf8'))) addition += eol;
    if (before.length > 0) addition += eol;
    addition += `[${name === 'default' ? 'default' : `profile ${quoteName(name)}`}]${eol}`;
    for (const [key, value] of Object.entries(values)) addition += `${key} = ${value}${eol}`;
    const after = Buffer.concat([before, Buffer.from(addition, 'utf8')]);
    writeFileAtomic(this.path, after);
    this.#setSections(new ConfigFile(this.path, after.toString('utf8')).#sections);
    return true;
  }

  #profile(name: string): ParsedSection | undefined {
    if (name === 'default')
      return this.#findHeader('default') ?? this.#findHeader('profile default');
    return this.#findHeader(`profile ${name}`);
  }

  #find(kind: 'sso-session' | 'services', name: string): ParsedSection | undefined {
    return this.#findHeader(`${kind} ${name}`);
  }

  #findHeader(header: string): ParsedSection | undefined {
    return this.#byHeader.get(header);
  }
}

/**
 * A profile name as a section header writes it: as is when it is one plain
 * word, else in double quotes (`"team dev"`), which the AWS CLI and
 * `parseConfigText` read back as the same name.
 */
export function quoteName(name: string): string {
  return /[\s"'\\]/.test(name) ? `"${name.replace(/["\\]/g, '\\$&')}"` : name;
}

function copy(values: SectionValues | undefined): SectionValues | undefined {
  return values === undefined ? undefined : { ...values };
}

function checkAddable(name: string, values: Record<string, string>, file: string): void {
  if (name.trim() === '' || name !== name.trim() || /[[\]\r\n]/.test(name)) {
    throw new ConfigError(
      `cannot add profile ${JSON.stringify(name)}: not a valid profile name in a config file (no [, ], line breaks, or spaces at either end)`,
      { file },
    );
  }
  for (const [key, value] of Object.entries(values)) {
    if (!/^[a-z0-9_]+$/.test(key) || /[\r\n]/.test(value)) {
      throw new ConfigError(`cannot add ${key}: keys are a-z, 0-9 and _, values one line`, {
        file,
        profile: name,
      });
    }
  }
  assertWritableKind(file);
}

/** Far more than any AWS config file; what is larger (`/dev/zero`, a log) is refused. */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

/**
 * The file's bytes, or undefined when it does not exist. Any readable file
 * is read (`/dev/null` and a process substitution `<(...)` too), up to
 * {@link MAX_CONFIG_BYTES}.
 */
export function readIfExists(path: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(64 * 1024);
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      total += n;
      if (total > MAX_CONFIG_BYTES) {
        throw new ConfigError(
          `the config file is larger than ${MAX_CONFIG_BYTES / 1024 / 1024} MiB: not an AWS config file (check AWS_CONFIG_FILE)`,
          { file: path },
        );
      }
      chunks.push(chunk.subarray(0, n));
    }
    return Buffer.concat(chunks, total);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if ((error as NodeJS.ErrnoException).code === 'EISDIR') {
      throw new ConfigError(
        'the config file is a folder; point AWS_CONFIG_FILE at the config file itself (the default is ~/.aws/config)',
        { file: path, cause: error },
      );
    }
    throw new ConfigError(`cannot read the config file: ${(error as Error).message}`, {
      file: path,
      cause: error,
    });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Refuses to write a config that exists and is not a regular file. */
function assertWritableKind(path: string): void {
  let stats;
  try {
    stats = statSync(resolveSymlink(path));
  } catch {
    return; // missing: it is created
  }
  if (!stats.isFile()) throw notRegular(path);
}

function notRegular(path: string): ConfigError {
  // Renaming over /dev/null (AWS_CONFIG_FILE=/dev/null) would replace the device.
  return new ConfigError(
    'the config file is not a regular file (a device, a pipe or a folder), so aws-vault does not write to it',
    { file: path },
  );
}

/**
 * Replaces `path` with `data` so that a crash leaves either the old or the new
 * file, never a torn one: write a temporary file beside it, fsync, rename,
 * fsync the folder.
 */
function writeFileAtomic(path: string, data: Buffer): void {
  const target = resolveSymlink(path);
  const dir = dirname(target);
  try {
    let mode = 0o600;
    let stats;
    try {
      stats = statSync(target);
    } catch {
      // A new file: 0600.
    }
    if (stats !== undefined && !stats.isFile()) throw notRegular(path);
    if (stats !== undefined) mode = stats.mode & 0o777;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const temp = join(dir, `.${basename(target)}.${process.pid}.${randomSuffix()}.tmp`);
    const fd = openSync(temp, 'wx', mode);
    try {
      writeAll(fd, data);
      fsyncSync(fd);
    } catch (error) {
      closeSync(fd);
      rmSync(temp, { force: true });
      throw error;
    }
    closeSync(fd);
    try {
      renameSync(temp, target);
    } catch (error) {
      rmSync(temp, { force: true });
      throw error;
    }
    syncDir(dir);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`cannot write the config file: ${(error as Error).message}`, {
      file: path,
      cause: error,
    });
  }
}

/** The OS's home folder; node:os loads here, as the callers pass HOME. */
function osHome(): string {
  return process.getBuiltinModule('node:os').homedir();
}

/**
 * Six random bytes in hex for a temporary file name. node:crypto loads here,
 * not with the module: reading the config (every command) needs none of it.
 */
function randomSuffix(): string {
  return process.getBuiltinModule('node:crypto').randomBytes(6).toString('hex');
}

function writeAll(fd: number, data: Buffer): void {
  let offset = 0;
  while (offset < data.length) offset += writeSync(fd, data, offset, data.length - offset);
}

/**
 * The file a symlinked config points to, also when it does not exist yet (a
 * dotfile manager's link to a file still to be made): the write creates the
 * target and keeps the link.
 */
function resolveSymlink(path: string): string {
  let current = path;
  for (let hops = 0; hops < 40; hops++) {
    try {
      if (!lstatSync(current).isSymbolicLink()) return current;
    } catch {
      return current; // missing: the write creates it here
    }
    try {
      return realpathSync(current);
    } catch {
      // Dangling: follow one link by hand, from the link's real folder (as the
      // kernel does, so `..` in it climbs out of a symlinked ~/.aws correctly).
      let from = dirname(current);
      try {
        from = realpathSync(from);
      } catch {
        // The folder itself is unreachable: the text form is all there is.
      }
      current = resolve(from, readlinkSync(current));
    }
  }
  return current;
}

function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Not every platform can fsync a folder (Windows); the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

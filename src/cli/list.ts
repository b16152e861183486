import type { Writable } from 'node:stream';
import { rfc3339 } from '../credentials/rfc3339.ts';
import type { ConfigFile } from '../config/loadConfigFile.ts';
import { profileOperand } from '../errors.ts';
import { AmbiguousItemError, DamagedItemError } from '../keyring/backend.ts';
import type { Context } from './context.ts';
import { loadConfig, openVault, ssoStartUrlOf } from './deps.ts';
import type { RegisterCommand } from './host.ts';

/** `list` flags, bound from argv. */
export interface ListInput {
  onlyProfiles: boolean;
  onlyCredentials: boolean;
  onlySessions: boolean;
  json: boolean;
}

/** A cached session as `list` shows it. */
export interface ListedSession {
  type: string;
  profileName: string;
  expiration: Date;
}

/** What `list` reads; the real config file and vault stores satisfy it. */
export interface ListDeps {
  /** Profile names in config-file order. */
  profileNames(): string[];
  hasProfile(name: string): boolean;
  /** The SSO start URL of a profile (its own or its sso-session's), if any. */
  ssoStartUrl(profile: string): string | undefined;
  /** Profile names with stored long-term credentials, in the vault's order. */
  credentialProfiles(): Promise<string[]>;
  /** When the stored credentials of `profile` were added, when known. */
  credentialsAddedAt(profile: string): Promise<Date | undefined>;
  sessions(): Promise<ListedSession[]>;
  /** SSO start URLs with a cached OIDC token. */
  oidcStartUrls(): Promise<string[]>;
  stdout: Writable;
  /** Where advice goes (stderr), so stdout stays the Go table byte for byte. */
  stderr: Writable;
  /**
   * **(ext)** Adds a `Key age` column to the table. Set when stdout is a
   * terminal: people see ages, while scripts reading a pipe keep getting the
   * Go table byte for byte.
   */
  showKeyAge?: boolean;
  now?: () => Date;
}

/** Keys older than this are flagged: the age AWS Security Hub reports (IAM.3). */
export const KEY_ROTATION_DAYS = 90;

const DAY_MS = 24 * 60 * 60 * 1000;

/** Whole days since `added`, or undefined when the time a key was added is unknown. */
function daysSince(added: Date | undefined, now: Date): number | undefined {
  // A key added by a computer whose clock was ahead is new, not -N days old.
  return added ? Math.max(0, Math.floor((now.getTime() - added.getTime()) / DAY_MS)) : undefined;
}

/**
 * Prints the profiles, stored credentials and sessions, as the Go aws-vault
 * does: a table (`Profile  Credentials  Sessions`), or bare lists with
 * `--profiles` / `--credentials` / `--sessions`, or **(ext)** `--json` with
 * each stored key's age.
 */
export async function listCommand(input: ListInput, deps: ListDeps): Promise<void> {
  const now = deps.now?.() ?? new Date();
  const out = (line: string) => deps.stdout.write(`${line}\n`);

  // With more than one of these, the first of --credentials, --profiles,
  // --sessions wins, as in the Go aws-vault.
  if (input.onlyProfiles && !input.onlyCredentials && !input.json) {
    for (const name of deps.profileNames()) out(name);
    return;
  }
  const credentialNames = await deps.credentialProfiles();
  if (input.onlyCredentials && !input.json) {
    for (const name of credentialNames) out(name);
    return;
  }
  const sessions = await deps.sessions();
  const tokens = await deps.oidcStartUrls();
  const allSessionLabels = [
    ...tokens.map((url) => `oidc:${url}`),
    ...sessions.map((s) => sessionLabel(s, now)),
  ];
  if (input.onlySessions && !input.json) {
    for (const label of allSessionLabels) out(label);
    return;
  }

  const profileNames = deps.profileNames();
  const credentialSet = new Set(credentialNames);
  // An empty [default] is not listed as a profile, but keys or sessions
  // for it (`aws-vault add default` writes just that section) are.
  const usesDefault =
    credentialSet.has('default') || sessions.some((s) => s.profileName === 'default');
  if (!profileNames.includes('default') && deps.hasProfile('default') && usesDefault) {
    profileNames.unshift('default');
  }
  const addedAt = new Map<string, Date | undefined>();
  for (const name of credentialNames) addedAt.set(name, await deps.credentialsAddedAt(name));

  if (input.json) {
    const doc = listJson(profileNames, credentialNames, sessions, tokens, addedAt, deps, now);
    if (input.onlyCredentials) out(JSON.stringify(doc.credentials, null, 2));
    else if (input.onlyProfiles) out(JSON.stringify(doc.profiles.map((p) => p.name)));
    else if (input.onlySessions) out(JSON.stringify(doc.sessions, null, 2));
    else out(JSON.stringify(doc, null, 2));
    return;
  }

  const ageDays = (name: string) => daysSince(addedAt.get(name), now);
  const showAge = deps.showKeyAge === true && credentialNames.some((n) => addedAt.get(n));
  const ageCell = (credentials: string): string[] => {
    if (!showAge) return [];
    const days = credentials === '-' ? undefined : ageDays(credentials);
    if (days === undefined) return ['-'];
    return [`${days} day${days === 1 ? '' : 's'}${days >= KEY_ROTATION_DAYS ? ' (rotate)' : ''}`];
  };
  const rows: string[][] = [
    ['Profile', 'Credentials', 'Sessions', ...(showAge ? ['Key age'] : [])],
    ['=======', '===========', '========', ...(showAge ? ['======='] : [])],
  ];
  const displayed = new Set<string>();
  for (const name of profileNames) {
    const labels: string[] = [];
    const startUrl = deps.ssoStartUrl(name);
    if (startUrl !== undefined && tokens.includes(startUrl)) labels.push(`oidc:${startUrl}`);
    for (const s of sessions) if (s.profileName === name) labels.push(sessionLabel(s, now));
    for (const l of labels) displayed.add(l);
    const credentials = credentialSet.has(name) ? name : '-';
    rows.push([
      name,
      credentials,
      labels.length > 0 ? labels.join(', ') : '-',
      ...ageCell(credentials),
    ]);
  }
  for (const name of credentialNames) {
    if (!deps.hasProfile(name)) rows.push(['-', name, '-', ...ageCell(name)]);
  }
  for (const label of allSessionLabels) {
    if (!displayed.has(label)) rows.push(['-', '-', label, ...ageCell('-')]);
  }
  deps.stdout.write(tabwrite(rows));

  for (const name of credentialNames) {
    const days = ageDays(name);
    if (days !== undefined && days >= KEY_ROTATION_DAYS) {
      deps.stderr.write(
        `aws-vault: note: the access key stored for "${name}" is ${days} days old; ` +
          `rotate it with: aws-vault rotate ${profileOperand(name)}\n`,
      );
    }
  }
}

function listJson(
  profileNames: string[],
  credentialNames: string[],
  sessions: ListedSession[],
  tokens: string[],
  addedAt: Map<string, Date | undefined>,
  deps: ListDeps,
  now: Date,
) {
  const credentialSet = new Set(credentialNames);
  const sessionJson = (s: ListedSession) => ({
    type: s.type,
    profile: s.profileName,
    expiration: rfc3339(s.expiration),
    timeLeft: goDuration(s.expiration.getTime() - now.getTime()),
  });
  const credentialJson = (name: string) => {
    const added = addedAt.get(name);
    const ageDays = daysSince(added, now) ?? null;
    return {
      profile: name,
      addedAt: added ? rfc3339(added) : null,
      ageDays,
      rotationDue: ageDays !== null && ageDays >= KEY_ROTATION_DAYS,
    };
  };
  return {
    profiles: profileNames.map((name) => {
      const startUrl = deps.ssoStartUrl(name);
      return {
        name,
        credentials: credentialSet.has(name) ? credentialJson(name) : null,
        sessions: sessions.filter((s) => s.profileName === name).map(sessionJson),
        oidcToken: startUrl !== undefined && tokens.includes(startUrl) ? startUrl : null,
      };
    }),
    credentials: credentialNames.map(credentialJson),
    sessions: sessions.map(sessionJson),
    oidcTokens: tokens,
  };
}

/** `TYPE:TIME-LEFT`, TIME-LEFT as Go prints a duration truncated to seconds. */
export function sessionLabel(session: ListedSession, now: Date): string {
  return `${session.type}:${goDuration(session.expiration.getTime() - now.getTime())}`;
}

/** A duration (ms) as Go's `time.Duration.String()` after `Truncate(time.Second)`: `57m3s`, `1h0m0s`, `0s`. */
export function goDuration(ms: number): string {
  const total = Math.trunc(ms / 1000);
  if (total === 0) return '0s';
  const sign = total < 0 ? '-' : '';
  const s = Math.abs(total);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${sign}${h}h${m}m${sec}s`;
  if (m > 0) return `${sign}${m}m${sec}s`;
  return `${sign}${sec}s`;
}

/**
 * Lays out rows like Go's `tabwriter.NewWriter(w, 25, 4, 2, ' ', 0)` with
 * every cell tab-terminated: each column is as wide as its widest cell plus
 * 2, and at least 25; cells are padded with spaces (trailing ones included).
 */
export function tabwrite(rows: string[][], minWidth = 25, padding = 2): string {
  const len = (s: string) => [...s].length;
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? minWidth, len(cell) + padding);
    });
  }
  return rows
    .map((row) => row.map((cell, i) => cell + ' '.repeat((widths[i] ?? 0) - len(cell))).join(''))
    .map((line) => `${line}\n`)
    .join('');
}

export const registerList: RegisterCommand = (program, host) => {
  program
    .command('list')
    .alias('ls')
    .description('List profiles, along with their credentials and sessions.')
    .option('--profiles', 'Show only the profile names')
    .option('--sessions', 'Show only the session names')
    .option('--credentials', 'Show only the profiles with stored credential')
    .option('--json', 'Print JSON, with the age of each stored key (ext)')
    .addHelpText(
      'after',
      `
Examples:
  $ aws-vault list
  $ aws-vault list --profiles
  $ aws-vault list --json | jq '.credentials[] | select(.rotationDue)'`,
    )
    .action(async (opts: Record<string, boolean | undefined>, cmd) => {
      await host.run(cmd, async (ctx) => {
        const input: ListInput = {
          onlyProfiles: opts.profiles === true,
          onlyCredentials: opts.credentials === true,
          onlySessions: opts.sessions === true,
          json: opts.json === true,
        };
        const config = await loadConfig(ctx);
        // --profiles needs no vault (shell completion calls it on every TAB).
        if (input.onlyProfiles && !input.onlyCredentials && !input.json) {
          await listCommand(input, { ...configPart(config), ...emptyVaultPart(), ...io(ctx) });
          return;
        }
        const vault = await openVault(ctx);
        // Like the Go aws-vault, the table needs no secret: key ages (which
        // need decrypting) are read for it only when that asks nobody for a
        // passphrase. A wrong passphrase is never ignored: --json fails, the
        // table is printed without ages and says why on stderr.
        const quiet =
          vault.backend.name !== 'file' || ctx.env.AWS_VAULT_FILE_PASSPHRASE !== undefined;
        let wrongPassphrase: Error | undefined;
        const ambiguous: Error[] = [];
        const addedAt = async (name: string): Promise<Date | undefined> => {
          if ((!input.json && !quiet) || wrongPassphrase !== undefined) return undefined;
          try {
            return (await vault.credentials.get(name))?.addedAt;
          } catch (error) {
            // Stored twice: listed (it is there), and what to do is said below.
            if (error instanceof AmbiguousItemError) {
              ambiguous.push(error);
              return undefined;
            }
            if (error instanceof Error && error.name === 'WrongPassphraseError') {
              if (input.json) throw error;
              wrongPassphrase = error;
              return undefined;
            }
            // The age is an extra: an entry whose content is not aws-vault
            // credentials (another program's item under the same service, or
            // one removed meanwhile) is still listed, without one, as the Go
            // aws-vault lists it without reading it; so is a damaged file.
            // When the store itself cannot be read (no passphrase, locked
            // keyring), that is the error.
            if (!(error instanceof DamagedItemError)) {
              try {
                await vault.backend.get(name);
              } catch {
                throw error;
              }
            }
            ctx.debug(`list: no key age for ${name}: ${errorText(error)}`);
            return undefined;
          }
        };
        let stored: string[] | undefined;
        await listCommand(input, {
          ...configPart(config),
          credentialProfiles: async () => (stored = await vault.credentials.profiles()),
          credentialsAddedAt: addedAt,
          sessions: () => vault.sessions.list(),
          oidcStartUrls: () => vault.oidcTokens.list(),
          ...io(ctx),
        });
        for (const error of ambiguous) ctx.io.stderr.write(`aws-vault: note: ${error.message}\n`);
        if (wrongPassphrase !== undefined) {
          ctx.io.stderr.write(`aws-vault: note: key ages not shown: ${wrongPassphrase.message}\n`);
        }
        // No keys here at all, but the Go aws-vault's own store is there: say where they are.
        if (stored?.length === 0 && !input.json) {
          const elsewhere = await vault.credentials.elsewhere();
          if (elsewhere !== undefined) ctx.io.stderr.write(`aws-vault: note: ${elsewhere}\n`);
        }
      });
    });
};

function configPart(config: ConfigFile) {
  return {
    profileNames: () => config.profileNames(),
    hasProfile: (name: string) => config.hasProfile(name),
    ssoStartUrl: (name: string) => ssoStartUrlOf(config, name),
  };
}

function emptyVaultPart() {
  return {
    credentialProfiles: async () => [],
    credentialsAddedAt: async () => undefined,
    sessions: async () => [],
    oidcStartUrls: async () => [],
  };
}

function io(ctx: Context) {
  return {
    stdout: ctx.io.stdout,
    stderr: ctx.io.stderr,
    showKeyAge: ctx.io.stdout.isTTY === true,
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

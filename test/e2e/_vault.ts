// Shared e2e helpers: the backends to run against, and direct access to the
// vault (the project's own stores, in the test process) for seeding sessions.
import { randomBytes } from 'node:crypto';
import { afterEach } from 'vitest';
import { hasSecretService, type TempHome } from './_runCli.ts';

export interface BackendCase {
  name: 'file' | 'secret-service';
  /** False when the Secret Service is not running (outside `npm test`); CI always runs it. */
  enabled: boolean;
}

export const BACKEND_CASES: BackendCase[] = [
  { name: 'file', enabled: true },
  { name: 'secret-service', enabled: hasSecretService() },
];

/** A profile name no other test (or parallel worker) uses: the Secret Service is shared. */
export function uniqueProfile(prefix = 'p'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Fake keys that look like AWS's and are unique per call, so scans find only what a test wrote. */
export function fakeKeys(): { accessKeyId: string; secretAccessKey: string } {
  const id = randomBytes(8).toString('hex').toUpperCase();
  return {
    accessKeyId: `AKIA${id}`,
    secretAccessKey: `Secret/${randomBytes(15).toString('base64')}+Key${id}`,
  };
}

async function stores(home: TempHome, backend: string) {
  const { openBackend } = await import('../../src/keyring/openBackend.ts');
  const { SessionStore, CredentialStore } = await import('../../src/keyring/stores.ts');
  const env = home.env();
  const b = await openBackend({
    backend: backend as 'file',
    fileDir: home.fileDir,
    filePassphrase: env.AWS_VAULT_FILE_PASSPHRASE,
    debug: () => {},
  });
  return { backend: b, sessions: new SessionStore(b), credentials: new CredentialStore(b) };
}

/** Caches a fake session for `profile` in the vault, as `exec` would. */
export async function seedSession(
  home: TempHome,
  backend: string,
  profile: string,
  options: { type?: string; seconds?: number; mfaSerial?: string } = {},
): Promise<void> {
  const { sessions } = await stores(home, backend);
  const keys = fakeKeys();
  await sessions.set(
    {
      type: options.type ?? 'sts.GetSessionToken',
      profileName: profile,
      mfaSerial: options.mfaSerial,
    },
    {
      accessKeyId: keys.accessKeyId.replace('AKIA', 'ASIA'),
      secretAccessKey: keys.secretAccessKey,
      sessionToken: `token-${keys.accessKeyId}`,
      expiration: new Date(Date.now() + (options.seconds ?? 3600) * 1000),
    },
  );
}

/** Every session key and credential name in the vault (to check what a command left). */
export async function vaultKeys(home: TempHome, backend: string): Promise<string[]> {
  const { backend: b } = await stores(home, backend);
  return b.keys();
}

/** Removes what a test stored under `profiles` (the Secret Service outlives the test). */
export async function cleanupProfiles(
  home: TempHome,
  backend: string,
  profiles: string[],
): Promise<void> {
  if (backend === 'file') return;
  const { credentials, sessions } = await stores(home, backend);
  for (const p of profiles) {
    await credentials.remove(p).catch(() => {});
    await sessions.removeForProfile(p).catch(() => {});
  }
}

/** A temp home a test made, with the profiles it stored (some backends are shared). */
export interface TrackedHome {
  home: TempHome;
  backend: string;
  profiles: string[];
}

/**
 * The temp homes of a test file: push each one made; after each test their
 * profiles are removed from the backend and the folders deleted.
 */
export function homesCleanedAfterEach(): TrackedHome[] {
  const homes: TrackedHome[] = [];
  afterEach(async () => {
    for (const h of homes.splice(0)) {
      await cleanupProfiles(h.home, h.backend, h.profiles);
      h.home.cleanup();
    }
  });
  return homes;
}

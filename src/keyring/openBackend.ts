import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.ts';
import type { Backend, BackendName, BackendOptions } from './backend.ts';

/** Every name `--backend` accepts. */
export const BACKEND_NAMES: readonly BackendName[] = [
  'keychain',
  'wincred',
  'secret-service',
  'file',
  'pass',
  'memory',
];

/** Backends of the Go aws-vault that this one does not have, and what to use. */
const OTHER_BACKENDS: Partial<Record<string, string>> = {
  kwallet:
    'the kwallet backend is not available in this aws-vault; KWallet (KDE Plasma 5.97 and later) also serves the Secret Service API: use --backend=secret-service (AWS_VAULT_BACKEND=secret-service), or --backend=file',
  keyctl:
    'the keyctl backend (the kernel keyring, emptied at every reboot) is not available in this aws-vault; use --backend=secret-service or --backend=file',
};

/**
 * Opens the backend the options name, or the platform default: the OS
 * keychain when it is reachable, else the encrypted `file` store. A backend
 * that was asked for by name and cannot be opened is a UserError saying
 * what to do. Native modules load only for the backend that needs them.
 */
export async function openBackend(options: BackendOptions): Promise<Backend> {
  const env = options.env ?? process.env;
  const chosen = options.backend;
  const instead = chosen === undefined ? undefined : OTHER_BACKENDS[chosen];
  if (instead !== undefined) throw new UserError(instead);
  if (chosen !== undefined && !BACKEND_NAMES.includes(chosen)) {
    throw new UserError(
      `unknown backend "${String(chosen)}"; choose one of: ${BACKEND_NAMES.filter((n) => n !== 'memory').join(', ')}`,
    );
  }
  if (chosen === undefined) {
    const platformDefault = await openDefault(options, env);
    if (platformDefault !== undefined) return platformDefault;
  }
  const name = chosen ?? 'file';
  options.debug(`keyring: using the ${name} backend${chosen === undefined ? ' (default)' : ''}`);
  switch (name) {
    case 'memory': {
      const { MemoryBackend } = await import('./memoryBackend.ts');
      return new MemoryBackend();
    }
    case 'file': {
      const { FileBackend } = await import('./fileBackend.ts');
      return new FileBackend({
        dir: options.fileDir,
        ...(options.filePassphrase !== undefined ? { passphrase: options.filePassphrase } : {}),
        ...(options.promptPassphrase !== undefined
          ? { promptPassphrase: options.promptPassphrase }
          : {}),
        debug: options.debug,
      });
    }
    case 'pass': {
      const { PassBackend } = await import('./passBackend.ts');
      return PassBackend.open({ ...options, env });
    }
    case 'secret-service':
      return openSecretService(options, env);
    case 'keychain':
    case 'wincred':
      return openOsKeychain(name, options, env);
  }
}

/** The platform keychain when it is reachable; undefined means "use the file backend". */
async function openDefault(
  options: BackendOptions,
  env: NodeJS.ProcessEnv,
): Promise<Backend | undefined> {
  if (process.platform === 'darwin' || process.platform === 'win32') {
    const name = process.platform === 'darwin' ? 'keychain' : 'wincred';
    options.debug(`keyring: using the ${name} backend (default)`);
    return openOsKeychain(name, options, env);
  }
  if (process.platform !== 'linux' && process.platform !== 'freebsd') return undefined;
  if (!hasSessionBus(env)) {
    options.debug('keyring: no D-Bus session bus, so no Secret Service: using the file backend');
    return undefined;
  }
  try {
    const backend = await openSecretService(options, env);
    options.debug('keyring: using the secret-service backend (default)');
    return backend;
  } catch (error) {
    options.debug(
      `keyring: Secret Service not usable (${(error as Error).message}): using the file backend`,
    );
    return undefined;
  }
}

function hasSessionBus(env: NodeJS.ProcessEnv): boolean {
  if (env.DBUS_SESSION_BUS_ADDRESS !== undefined && env.DBUS_SESSION_BUS_ADDRESS !== '')
    return true;
  const runtime = env.XDG_RUNTIME_DIR;
  return runtime !== undefined && runtime !== '' && existsSync(join(runtime, 'bus'));
}

/** The Secret Service collection to pin entries to; undefined = the default collection. */
function collectionTarget(name: string | undefined): string | undefined {
  if (name === undefined || name === '' || name === 'default') return undefined;
  return name;
}

type KeyringModule = typeof import('@napi-rs/keyring');

async function loadKeyring(backend: string): Promise<KeyringModule> {
  try {
    // The package is CommonJS: require() (the fast path's bundle is CommonJS,
    // and the ES bundle defines one) loads it without the ES loader's
    // resolution and format detection, several ms on every run.
    if (typeof require === 'function') {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return require('@napi-rs/keyring') as KeyringModule;
    }
    return await import('@napi-rs/keyring');
  } catch (error) {
    throw new UserError(
      `${backend} backend: the native keyring module (@napi-rs/keyring) cannot be loaded on this platform; use --backend=file`,
      { cause: error },
    );
  }
}

async function openSecretService(
  options: BackendOptions,
  env: NodeJS.ProcessEnv,
): Promise<Backend> {
  if (process.platform !== 'linux' && process.platform !== 'freebsd') {
    throw new UserError('the secret-service backend exists on Linux only; use --backend=file');
  }
  if (!hasSessionBus(env)) {
    throw new UserError(
      'secret-service backend: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set, as on a server or over SSH); use --backend=file',
    );
  }
  let collection = collectionTarget(options.secretServiceCollection);
  if (options.oneShot === true) {
    // Straight over the bus, without the native module, when that answers.
    const [{ readSecretServiceStore }, { KEYRING_SERVICE, OsKeyringBackend }] = await Promise.all([
      import('./secretServiceReader.ts'),
      import('./osKeyringBackend.ts'),
    ]);
    const read = await readSecretServiceStore(env, KEYRING_SERVICE, collection);
    if (read !== undefined) {
      const label = read.label;
      if (label !== undefined && label !== collection) {
        options.debug(`secret-service: collection "${collection}" is the one labelled "${label}"`);
      }
      const { SnapshotBackend } = await import('./snapshotBackend.ts');
      return new SnapshotBackend('secret-service', read.items, async () => {
        const mod = await loadKeyring('secret-service');
        return new OsKeyringBackend(mod, {
          name: 'secret-service',
          ...(label !== undefined ? { collection: label } : {}),
          env,
          debug: options.debug,
        });
      });
    }
  }
  if (collection !== undefined) {
    // The library names a collection by its label; the Go aws-vault by its
    // object path (AWS_VAULT_SECRET_SERVICE_COLLECTION_NAME=login means the
    // collection labelled Login), so both are accepted.
    const { collectionLabel } = await import('./secretServiceReader.ts');
    const label = await collectionLabel(env, collection);
    if (label !== undefined && label !== collection) {
      options.debug(`secret-service: collection "${collection}" is the one labelled "${label}"`);
      collection = label;
    }
  }
  const mod = await loadKeyring('secret-service');
  if (options.oneShot === true) {
    const { OsKeyringBackend } = await import('./osKeyringBackend.ts');
    const backend = new OsKeyringBackend(mod, {
      name: 'secret-service',
      ...(collection !== undefined ? { collection } : {}),
      env,
      debug: options.debug,
      oneShot: true,
    });
    // The one search it answers from is the probe too: a failure here is
    // the probe's failure (and the platform default then uses the file store),
    // unless a Secret Service answers and only its collection is unusable
    // (locked, missing): then, as without oneShot, the reads say so.
    const failure = await backend.load().then(
      () => undefined,
      (error: unknown) => error,
    );
    if (failure !== undefined) {
      const { secretServiceStatus } = await import('./secretServiceStatus.ts');
      const status = await secretServiceStatus(env, collection);
      options.debug(`secret-service: the search failed; collection status ${status.state}`);
      if (status.state === 'no-service' || status.state === 'ok' || status.state === 'unknown') {
        throw probeFailure(failure);
      }
    }
    return backend;
  }
  try {
    // Pinned to the Secret Service: the constructor fails when none answers
    // (instead of silently using the kernel keyring, which reboots forget).
    new mod.AsyncEntry('aws-vault', 'aws-vault-probe', { linux: { store: 'secret-service' } });
  } catch (error) {
    throw probeFailure(error);
  }
  const { OsKeyringBackend } = await import('./osKeyringBackend.ts');
  return new OsKeyringBackend(mod, {
    name: 'secret-service',
    ...(collection !== undefined ? { collection } : {}),
    env,
    debug: options.debug,
  });
}

/** Why no Secret Service answered, as a user reads it. */
function probeFailure(error: unknown): UserError {
  const message = error instanceof Error ? error.message : String(error);
  const detail = /ServiceUnknown|not provided by any|NameHasNoOwner/i.test(message)
    ? 'no Secret Service on the session bus (is gnome-keyring or KWallet running?)'
    : `the session bus does not answer (${message})`;
  return new UserError(`secret-service backend: ${detail}; use --backend=file`, { cause: error });
}

async function openOsKeychain(
  name: 'keychain' | 'wincred',
  options: BackendOptions,
  env: NodeJS.ProcessEnv,
): Promise<Backend> {
  const platform = name === 'keychain' ? 'darwin' : 'win32';
  if (process.platform !== platform) {
    throw new UserError(
      `the ${name} backend exists on ${name === 'keychain' ? 'macOS' : 'Windows'} only; use --backend=file`,
    );
  }
  if (
    name === 'keychain' &&
    options.keychainName !== undefined &&
    options.keychainName !== 'aws-vault'
  ) {
    options.debug(
      `keyring: entries go to the login keychain (named keychains such as ${options.keychainName} are not supported)`,
    );
  }
  const mod = await loadKeyring(name);
  const { OsKeyringBackend } = await import('./osKeyringBackend.ts');
  return new OsKeyringBackend(mod, { name, env, debug: options.debug });
}

/** What the Secret Service says about the collection we use. */
export type SecretServiceStatus =
  | { state: 'ok'; collectionPath: string }
  | { state: 'locked'; collectionPath: string; label: string }
  | { state: 'no-default-collection' }
  | { state: 'no-collection'; name: string }
  | { state: 'no-service' }
  | { state: 'unknown'; why: string };

const DEST = 'org.freedesktop.secrets';
const ROOT = '/org/freedesktop/secrets';

/**
 * Asks the Secret Service (through `dbus-send`, part of every D-Bus install)
 * whether the collection exists and is unlocked. The keyring library cannot
 * tell a locked collection from an empty one, so this runs only when a
 * result looks empty or an operation failed. No secret is ever passed.
 */
export async function secretServiceStatus(
  env: NodeJS.ProcessEnv,
  collection?: string,
): Promise<SecretServiceStatus> {
  try {
    const owner = await dbusSend(env, [
      '--dest=org.freedesktop.DBus',
      '/org/freedesktop/DBus',
      'org.freedesktop.DBus.NameHasOwner',
      `string:${DEST}`,
    ]);
    if (!/boolean true/.test(owner)) return { state: 'no-service' };
    let path: string | undefined;
    if (collection === undefined) {
      path = objectPath(
        await dbusSend(env, [
          `--dest=${DEST}`,
          ROOT,
          'org.freedesktop.Secret.Service.ReadAlias',
          'string:default',
        ]),
      );
      if (path === undefined || path === '/') return { state: 'no-default-collection' };
    } else {
      for (const p of await collectionPaths(env)) {
        if ((await collectionLabel(env, p)) === collection) path = p;
      }
      if (path === undefined) return { state: 'no-collection', name: collection };
    }
    const locked = await getProperty(env, path, 'Collection', 'Locked');
    if (/boolean true/.test(locked)) {
      return {
        state: 'locked',
        collectionPath: path,
        label: (await collectionLabel(env, path)) ?? path,
      };
    }
    return { state: 'ok', collectionPath: path };
  } catch (error) {
    return { state: 'unknown', why: (error as Error).message };
  }
}

/** The object path of the Go aws-vault's own collection (its default name, `awsvault`). */
export const GO_COLLECTION_PATH = `${ROOT}/collection/awsvault`;

/**
 * Whether the Secret Service has the Go aws-vault's collection; false when
 * it cannot tell. Asked only when a profile has no stored key.
 */
export async function hasGoCollection(env: NodeJS.ProcessEnv): Promise<boolean> {
  try {
    return (await collectionPaths(env)).includes(GO_COLLECTION_PATH);
  } catch {
    return false;
  }
}

/** The object paths of every collection (the Service's Collections property). */
async function collectionPaths(env: NodeJS.ProcessEnv): Promise<string[]> {
  const all = await getProperty(env, ROOT, 'Service', 'Collections');
  return (all.match(/object path "[^"]+"/g) ?? []).map((c) => c.slice('object path "'.length, -1));
}

async function collectionLabel(env: NodeJS.ProcessEnv, path: string): Promise<string | undefined> {
  const out = await getProperty(env, path, 'Collection', 'Label');
  return /string "(.*)"/.exec(out)?.[1];
}

function objectPath(out: string): string | undefined {
  return /object path "([^"]+)"/.exec(out)?.[1];
}

/** `dbus-send`'s printed reply to Properties.Get of `org.freedesktop.Secret.IFACE.NAME` on `path`. */
function getProperty(
  env: NodeJS.ProcessEnv,
  path: string,
  iface: 'Service' | 'Collection',
  name: string,
): Promise<string> {
  return dbusSend(env, [
    `--dest=${DEST}`,
    path,
    'org.freedesktop.DBus.Properties.Get',
    `string:org.freedesktop.Secret.${iface}`,
    `string:${name}`,
  ]);
}

async function dbusSend(env: NodeJS.ProcessEnv, args: string[]): Promise<string> {
  // Loaded here, not at the top: the cached path opens this backend and
  // asks for the status only when something looks wrong (getBuiltinModule:
  // see runShellCommand.ts).
  const { execFile } = process.getBuiltinModule('node:child_process');
  return new Promise((resolve, reject) => {
    execFile(
      'dbus-send',
      ['--session', '--print-reply', '--reply-timeout=2000', ...args],
      { env, timeout: 3000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) reject(new Error(stderr.trim() || error.message));
        else resolve(stdout);
      },
    );
  });
}

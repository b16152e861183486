import type { DbusCall } from './dbusWire.ts';
import {
  COLLECTIONS_CALL,
  type FoundCollection,
  SERVICE_PATH,
  collectionCalls,
  overTheBus,
  pickCollection,
  propertyValue,
  secretCall,
} from './secretServiceReader.ts';

/** What the Secret Service says about the collection we use. */
export type SecretServiceStatus =
  | { state: 'ok'; collectionPath: string }
  | { state: 'locked'; collectionPath: string; label: string }
  | { state: 'no-default-collection' }
  | { state: 'no-collection'; name: string }
  | { state: 'no-service' }
  | { state: 'unknown'; why: string };

const TIMEOUT_MS = 2000;

/** Asked of the bus itself first: a call to the Secret Service's name would start one. */
const HAS_SECRET_SERVICE: DbusCall = {
  destination: 'org.freedesktop.DBus',
  path: '/org/freedesktop/DBus',
  interface: 'org.freedesktop.DBus',
  member: 'NameHasOwner',
  signature: 's',
  body: ['org.freedesktop.secrets'],
};

const READ_DEFAULT_ALIAS = secretCall(
  SERVICE_PATH,
  'org.freedesktop.Secret.Service',
  'ReadAlias',
  's',
  ['default'],
);

/**
 * Asks the Secret Service, over the session bus, whether the collection
 * (a label, or the last part of an object path: pickCollection) exists and is
 * unlocked; the default collection when none is named. The keyring library
 * cannot tell a locked collection from an empty one, so this runs only when
 * a result looks empty or an operation failed. No secret is asked for.
 */
export async function secretServiceStatus(
  env: NodeJS.ProcessEnv,
  collection?: string,
): Promise<SecretServiceStatus> {
  const status = await overTheBus<SecretServiceStatus>(
    env,
    TIMEOUT_MS,
    [HAS_SECRET_SERVICE],
    async (bus, [owner]) => {
      if (owner?.[0] !== true) return { state: 'no-service' };
      let found: FoundCollection | undefined;
      if (collection === undefined) {
        const alias = (await bus.callAll([READ_DEFAULT_ALIAS]))[0]?.[0];
        if (typeof alias !== 'string' || alias === '/') return { state: 'no-default-collection' };
        const [label, locked] = (await bus.callAll(collectionCalls([alias]))).map(propertyValue);
        found = {
          path: alias,
          label: typeof label === 'string' ? label : alias,
          locked: locked === true,
        };
      } else {
        const paths = propertyValue((await bus.callAll([COLLECTIONS_CALL]))[0]) as string[];
        found = pickCollection(collection, paths, await bus.callAll(collectionCalls(paths)));
        if (found === undefined) return { state: 'no-collection', name: collection };
      }
      if (found.locked !== true) return { state: 'ok', collectionPath: found.path };
      return { state: 'locked', collectionPath: found.path, label: found.label };
    },
  );
  return status ?? { state: 'unknown', why: 'the session bus did not answer' };
}

/** The object path of the Go aws-vault's own collection (its default name, `awsvault`). */
export const GO_COLLECTION_PATH = `${SERVICE_PATH}/collection/awsvault`;

/**
 * Whether the Secret Service has the Go aws-vault's collection; false when
 * it cannot tell. Asked only when a profile has no stored key.
 */
export async function hasGoCollection(env: NodeJS.ProcessEnv): Promise<boolean> {
  const found = await overTheBus(env, TIMEOUT_MS, [HAS_SECRET_SERVICE], async (bus, [owner]) => {
    if (owner?.[0] !== true) return false;
    const paths = propertyValue((await bus.callAll([COLLECTIONS_CALL]))[0]) as string[];
    return paths.includes(GO_COLLECTION_PATH);
  });
  return found === true;
}

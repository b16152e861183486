// Reads aws-vault's items from the Secret Service straight over the D-Bus
// session bus, for the start-up fast path. @napi-rs/keyring opens a new bus
// connection and a Diffie-Hellman session for every call and costs a native
// module load: about 20 ms of a cached `exec`. Here one connection, a
// `plain` session (every Secret Service implements it; the bus is the
// user's own) and four calls read every item, in a few ms.
//
// It only reads, and only answers the simple case: every aws-vault item in
// an unlocked collection, each key once. Anything else (no bus, a locked
// item, a duplicate, an error, a slow reply) gives undefined and the
// caller uses the library, which unlocks, explains and writes.
import {
  decodeMessage,
  encodeCalls,
  MESSAGE_TYPE,
  type DbusCall,
  type DbusMessage,
  type DbusValue,
  type DbusVariant,
} from './dbusWire.ts';
import { connectUnixSocket, type UnixSocket } from './unixSocket.ts';

const SECRETS = 'org.freedesktop.secrets';
export const SERVICE_PATH = '/org/freedesktop/secrets';
/** How long a connection let go with calls unanswered waits for them (see BusConnection.close). */
const ANSWER_GRACE_MS = 10_000;
/** How often, and after how long (then twice, three times that), a call is sent again (notYetRegistered). */
const UNREGISTERED_RETRIES = 3;
const UNREGISTERED_RETRY_MS = 20;

/**
 * Whether `reply`, an error, says the Secret Service does not implement
 * `call`: how gnome-keyring-daemon (42 at least) answers a method it did
 * handle when it had not yet registered the connection as a client (its
 * handler finds no client, logs `gkd_secret_service_get_pkcs11_session:
 * assertion 'client' failed` and declines the call, and GDBus then says the
 * method is not implemented). Seen on a new connection's first calls while
 * the machine's disk was busy; the same call a few ms later succeeds. An
 * item that is gone gets another error (no such interface), not retried.
 */
function notYetRegistered(call: DbusCall, reply: DbusMessage): boolean {
  return (
    call.destination === SECRETS &&
    reply.errorName === 'org.freedesktop.DBus.Error.UnknownMethod' &&
    reply.body[0] === `Method ${call.member} is not implemented on interface ${call.interface}`
  );
}

/**
 * The socket path of the session bus (`unix:path=` or, with a leading NUL,
 * `unix:abstract=`); undefined for transports this reader does not speak.
 */
export function sessionBusSocket(env: NodeJS.ProcessEnv): string | undefined {
  const address = env.DBUS_SESSION_BUS_ADDRESS;
  if (address === undefined || address === '') {
    const runtime = env.XDG_RUNTIME_DIR;
    return runtime ? `${runtime}/bus` : undefined;
  }
  for (const candidate of address.split(';')) {
    const colon = candidate.indexOf(':');
    if (candidate.slice(0, colon) !== 'unix') continue;
    const params = new Map<string, string>();
    for (const pair of candidate.slice(colon + 1).split(',')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      try {
        params.set(pair.slice(0, eq), decodeURIComponent(pair.slice(eq + 1)));
      } catch {
        return undefined;
      }
    }
    const path = params.get('path');
    if (path) return path;
    const abstract = params.get('abstract');
    if (abstract) return `\0${abstract}`;
  }
  return undefined;
}

/** One connection to the bus: authenticated, with calls matched to their replies. */
export class BusConnection {
  readonly #socket: UnixSocket;
  #buffer: Buffer = Buffer.alloc(0);
  #authenticated = false;
  #serial = 0;
  readonly #pending = new Map<number, (message: DbusMessage) => void>();
  #failed: ((error: Error) => void)[] = [];
  #error: Error | undefined;
  #onAuth: ((ok: boolean) => void) | undefined;
  #closing = false;

  constructor(path: string) {
    // Without node:net where Node allows (unixSocket.ts): a cached run on
    // the Secret Service would spend a tenth of its time loading it.
    this.#socket = connectUnixSocket(path, {
      data: (chunk) => this.#receive(chunk),
      error: (error) => this.#fail(error),
      close: () => this.#fail(new Error('the session bus closed the connection')),
    });
  }

  #fail(error: Error): void {
    this.#error ??= error;
    this.#onAuth?.(false);
    for (const reject of this.#failed.splice(0)) reject(error);
  }

  #receive(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    if (!this.#authenticated) {
      const end = this.#buffer.indexOf('\r\n');
      if (end < 0) return;
      const line = this.#buffer.toString('ascii', 0, end);
      this.#buffer = this.#buffer.subarray(end + 2);
      this.#authenticated = line.startsWith('OK ');
      this.#onAuth?.(this.#authenticated);
      if (!this.#authenticated) return;
    }
    try {
      for (;;) {
        const decoded = decodeMessage(this.#buffer);
        if (decoded === undefined) return;
        this.#buffer = this.#buffer.subarray(decoded.length);
        const { message } = decoded;
        if (message.replySerial === undefined) continue; // signals (NameAcquired)
        this.#pending.get(message.replySerial)?.(message);
        this.#pending.delete(message.replySerial);
        if (this.#pending.size === 0 && this.#closing) this.#socket.destroy();
      }
    } catch (error) {
      this.#fail(error as Error);
      this.#socket.destroy();
    }
  }

  /**
   * SASL EXTERNAL as this process's uid, and BEGIN at once: calls may follow
   * without waiting for the server's OK (pipelined, as sd-bus does); if it
   * refuses, they fail with the connection. Resolves to whether it said OK.
   */
  authenticate(): Promise<boolean> {
    const ok = new Promise<boolean>((resolve) => {
      this.#onAuth = (accepted) => {
        this.#onAuth = undefined;
        resolve(accepted);
      };
    });
    const uid = Buffer.from(String(process.getuid?.() ?? 0), 'ascii').toString('hex');
    this.#socket.write(Buffer.from(`\0AUTH EXTERNAL ${uid}\r\nBEGIN\r\n`, 'latin1'));
    return ok;
  }

  /**
   * Sends `calls` in one write; resolves to each reply's body, in order,
   * and rejects on the first error reply. A Secret Service call refused as
   * not implemented is sent again, up to {@link UNREGISTERED_RETRIES}
   * times (see {@link notYetRegistered}).
   */
  callAll(calls: DbusCall[]): Promise<DbusValue[][]> {
    if (this.#error) return Promise.reject(this.#error);
    const first = this.#serial + 1;
    this.#serial += calls.length;
    const replies = calls.map((call, index) =>
      this.#reply(call, first + index, UNREGISTERED_RETRIES),
    );
    this.#socket.write(encodeCalls(calls, first));
    return Promise.all(replies);
  }

  /** The body of the reply to `call`, sent as `serial`; an error reply rejects. */
  #reply(call: DbusCall, serial: number, retries: number): Promise<DbusValue[]> {
    return new Promise<DbusValue[]>((resolve, reject) => {
      this.#failed.push(reject);
      this.#pending.set(serial, (message) => {
        if (message.type !== MESSAGE_TYPE.error) {
          resolve(message.body);
          return;
        }
        if (retries > 0 && notYetRegistered(call, message) && !this.#closing) {
          const wait = UNREGISTERED_RETRY_MS * (UNREGISTERED_RETRIES - retries + 1);
          setTimeout(() => {
            if (this.#error !== undefined) {
              reject(this.#error);
              return;
            }
            const again = ++this.#serial;
            this.#reply(call, again, retries - 1).then(resolve, reject);
            this.#socket.write(encodeCalls([call], again));
          }, wait);
          return;
        }
        reject(new Error(`${message.errorName ?? 'D-Bus error'}: ${String(message.body[0])}`));
      });
    });
  }

  /**
   * Lets the connection go, on the next turn of the event loop: destroying
   * a node:net socket (the fallback transport) costs a cached run 0.5-0.8
   * ms, as node:net compares it with process.stderr, which creates that
   * stream. The fast path exits or
   * becomes its command first (the socket is close-on-exec), so it never
   * pays; a process that goes on (the full CLI) closes it at once.
   *
   * With calls still unanswered on a bus that let us in (a timeout), it
   * waits for their replies first, up to ANSWER_GRACE_MS, without keeping the process alive:
   * gnome-keyring-daemon (up to 50.0 at least) can abort, and come back
   * locked, when a client leaves while its OpenSession is being handled.
   */
  close(): void {
    this.#socket.unref();
    if (!this.#authenticated || this.#pending.size === 0 || this.#error !== undefined) {
      setTimeout(() => this.#socket.destroy(), 0).unref();
      return;
    }
    this.#closing = true;
    setTimeout(() => this.#socket.destroy(), ANSWER_GRACE_MS).unref();
  }
}

export function secretCall(
  path: string,
  iface: string,
  member: string,
  signature?: string,
  body?: DbusValue[],
): DbusCall {
  return {
    destination: SECRETS,
    path,
    interface: iface,
    member,
    ...(signature !== undefined ? { signature, body: body ?? [] } : {}),
  };
}

/** The bus's Hello, which every connection sends first. */
const HELLO: DbusCall = {
  destination: 'org.freedesktop.DBus',
  path: '/org/freedesktop/DBus',
  interface: 'org.freedesktop.DBus',
  member: 'Hello',
};

/**
 * One conversation on a new bus connection: Hello and `first` go out with
 * the authentication (pipelined), then `then` gets their replies (Hello's
 * left out) and may call more. Undefined when the bus is not there, refuses
 * us, errs, or `timeoutMs` passes; the connection is let go either way.
 */
export async function overTheBus<T>(
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  first: DbusCall[],
  then: (bus: BusConnection, replies: DbusValue[][]) => Promise<T | undefined>,
): Promise<T | undefined> {
  const path = sessionBusSocket(env);
  if (path === undefined) return undefined;
  const bus = new BusConnection(path);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  const talk = async (): Promise<T | undefined> => {
    const authenticated = bus.authenticate();
    const calls = bus.callAll([HELLO, ...first]);
    if (!(await authenticated)) {
      calls.catch(() => undefined);
      return undefined;
    }
    return then(bus, (await calls).slice(1));
  };
  try {
    return await Promise.race([talk(), timeout]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
    bus.close();
  }
}

/**
 * Every item whose `service` attribute is `service`, as username -> secret
 * (UTF-8), from unlocked collections; undefined when it cannot answer simply
 * (see the top of this file). Gives up after `timeoutMs`.
 */
export async function readSecretServiceItems(
  env: NodeJS.ProcessEnv,
  service: string,
  timeoutMs = 2000,
): Promise<Map<string, string> | undefined> {
  return (await readSecretServiceStore(env, service, undefined, timeoutMs))?.items;
}

/** What {@link readSecretServiceStore} read. */
export interface SecretServiceRead {
  items: Map<string, string>;
  /** The label of the collection that was asked for by name or label, if one was. */
  label?: string;
}

/**
 * The items {@link readSecretServiceItems} reads, and, when `collection` is
 * given, the label it means ({@link collectionLabel}'s rule), which is where
 * writes go. Without a collection, every aws-vault item (as
 * `@napi-rs/keyring`'s lookups without a target find them, in every
 * collection); with one, only those stored with it (their `target`
 * attribute is its label, as the library's lookups with a target match
 * them). Undefined also when that collection is missing or locked: the
 * library's path explains both. Still two round trips: the collections'
 * paths come with the search, their labels with the secrets.
 */
export async function readSecretServiceStore(
  env: NodeJS.ProcessEnv,
  service: string,
  collection: string | undefined,
  timeoutMs = 2000,
): Promise<SecretServiceRead | undefined> {
  // Two round trips: everything that needs no answer is sent at once.
  return overTheBus(
    env,
    timeoutMs,
    [
      secretCall(SERVICE_PATH, 'org.freedesktop.Secret.Service', 'OpenSession', 'sv', [
        'plain',
        { signature: 's', value: '' },
      ]),
      searchItemsCall(new Map([['service', service]])),
      ...(collection === undefined ? [] : [COLLECTIONS_CALL]),
    ],
    (bus, replies) => read(bus, service, collection, replies),
  );
}

async function read(
  bus: BusConnection,
  service: string,
  collection: string | undefined,
  replies: DbusValue[][],
): Promise<SecretServiceRead | undefined> {
  const [[, session], [unlocked, locked], collections] = replies as [
    [unknown, string],
    [string[], string[]],
    DbusValue[] | undefined,
  ];
  // Locked items need an unlock (a prompt), and none found may mean a locked
  // or missing collection: the library's path explains those.
  if (locked.length > 0 || unlocked.length === 0) return undefined;
  const paths = collection === undefined ? [] : (propertyValue(collections) as string[]);
  const [secrets, ...rest] = (await bus.callAll([
    secretCall(SERVICE_PATH, 'org.freedesktop.Secret.Service', 'GetSecrets', 'aoo', [
      unlocked,
      session as string,
    ]),
    ...unlocked.map(attributesCall),
    ...collectionCalls(paths),
  ])) as [DbusValue[], ...DbusValue[][]];
  const attributes = rest.slice(0, unlocked.length);
  let label: string | undefined;
  if (collection !== undefined) {
    const found = pickCollection(collection, paths, rest.slice(unlocked.length));
    if (found === undefined || found.locked !== false) return undefined;
    label = found.label;
  }
  const byItem = secrets[0] as Map<DbusValue, DbusValue>;
  const items = new Map<string, string>();
  for (const [index, item] of unlocked.entries()) {
    const attrs = propertyValue(attributes[index]);
    if (!(attrs instanceof Map) || attrs.get('service') !== service) return undefined;
    // A named collection holds what was stored with it: the library's lookups
    // with a target match its `target` attribute, and so do these reads.
    if (label !== undefined && attrs.get('target') !== label) continue;
    const username = attrs.get('username');
    // [session, parameters, value, content type]; plain: the value as is.
    const secret = byItem.get(item) as [string, Buffer, Buffer, string] | undefined;
    if (typeof username !== 'string' || secret === undefined || items.has(username)) {
      return undefined;
    }
    items.set(username, secret[2].toString('utf8'));
  }
  return label === undefined ? { items } : { items, label };
}

export const COLLECTIONS_CALL = secretCall(
  SERVICE_PATH,
  'org.freedesktop.DBus.Properties',
  'Get',
  'ss',
  ['org.freedesktop.Secret.Service', 'Collections'],
);

/** Service.SearchItems for the items that have all of `attributes`. */
function searchItemsCall(attributes: Map<string, string>): DbusCall {
  return secretCall(SERVICE_PATH, 'org.freedesktop.Secret.Service', 'SearchItems', 'a{ss}', [
    attributes,
  ]);
}

/** The value in a reply to Properties.Get (one variant); undefined for none. */
export function propertyValue(reply: DbusValue[] | undefined): DbusValue | undefined {
  return (reply?.[0] as DbusVariant | undefined)?.value;
}

/** Properties.Get of an item's attributes (a{ss}). */
function attributesCall(item: string): DbusCall {
  return secretCall(item, 'org.freedesktop.DBus.Properties', 'Get', 'ss', [
    'org.freedesktop.Secret.Item',
    'Attributes',
  ]);
}

function collectionProperty(path: string, name: 'Label' | 'Locked'): DbusCall {
  return secretCall(path, 'org.freedesktop.DBus.Properties', 'Get', 'ss', [
    'org.freedesktop.Secret.Collection',
    name,
  ]);
}

/** The Label and Locked of each collection at `paths`: what {@link pickCollection} reads. */
export function collectionCalls(paths: string[]): DbusCall[] {
  return paths.flatMap((path) => [
    collectionProperty(path, 'Label'),
    collectionProperty(path, 'Locked'),
  ]);
}

/** A collection as {@link pickCollection} finds it. */
export interface FoundCollection {
  path: string;
  label: string;
  /** The Locked property: true, false, or undefined when it did not read as a boolean. */
  locked: boolean | undefined;
}

/**
 * Which of the collections at `paths` `name` means, from the replies to
 * {@link collectionCalls}`(paths)`: the one labelled `name`, else the one
 * whose path ends in `/collection/NAME` (how the Go aws-vault names
 * collections: `login` is the collection labelled `Login`); undefined for
 * none.
 */
export function pickCollection(
  name: string,
  paths: string[],
  replies: (DbusValue[] | undefined)[],
): FoundCollection | undefined {
  const labels = paths.map((_, index) => propertyValue(replies[2 * index]));
  let at = labels.indexOf(name);
  if (at < 0) at = paths.indexOf(`${SERVICE_PATH}/collection/${name}`);
  const label = labels[at];
  if (at < 0 || typeof label !== 'string') return undefined;
  const locked = propertyValue(replies[2 * at + 1]);
  return {
    path: paths[at] as string,
    label,
    locked: typeof locked === 'boolean' ? locked : undefined,
  };
}

/**
 * The attributes of every item that has all of `attributes`, locked or not,
 * without their secrets; undefined when the bus does not answer in
 * `timeoutMs`.
 */
export async function secretServiceAttributes(
  env: NodeJS.ProcessEnv,
  attributes: Map<string, string>,
  timeoutMs = 2000,
): Promise<Map<string, string>[] | undefined> {
  return overTheBus(env, timeoutMs, [searchItemsCall(attributes)], async (bus, replies) => {
    const [unlocked, locked] = replies[0] as [string[], string[]];
    const found = await bus.callAll([...unlocked, ...locked].map(attributesCall));
    return found.flatMap((reply) => {
      const attrs = propertyValue(reply);
      return attrs instanceof Map ? [attrs as Map<string, string>] : [];
    });
  });
}

/**
 * The label of the collection `name` means ({@link pickCollection}), which
 * is how `@napi-rs/keyring` names it. Undefined when there is none or the
 * bus does not answer in `timeoutMs`.
 */
export async function collectionLabel(
  env: NodeJS.ProcessEnv,
  name: string,
  timeoutMs = 2000,
): Promise<string | undefined> {
  return overTheBus(env, timeoutMs, [COLLECTIONS_CALL], async (bus, replies) => {
    const paths = propertyValue(replies[0]) as string[];
    return pickCollection(name, paths, await bus.callAll(collectionCalls(paths)))?.label;
  });
}

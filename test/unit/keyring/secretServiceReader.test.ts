// The fast path's Secret Service reader against the real gnome-keyring of the
// test run (scripts/test.mjs): it must read back exactly what
// @napi-rs/keyring wrote, and give up (undefined, quickly) whenever it cannot
// answer simply, so that the library takes over.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DbusWriter,
  decodeMessage,
  splitSignature,
  type DbusValue,
} from '../../../src/keyring/dbusWire.ts';
import {
  readSecretServiceItems,
  readSecretServiceStore,
  secretServiceAttributes,
  sessionBusSocket,
} from '../../../src/keyring/secretServiceReader.ts';
import { useNodeNet } from '../../../src/keyring/unixSocket.ts';
import {
  LOCK_LOGIN_COLLECTION,
  privateKeyringEnv,
  privateKeyringScript,
  privateSessionArgs,
  secretServiceAvailable,
  uniquePrefix,
} from '../../helpers/secretService.ts';

const readerUrl = new URL('../../../src/keyring/secretServiceReader.ts', import.meta.url).href;
// Well above what any answer takes, so "fast" below means it did not wait for it.
const TIMEOUT_MS = 5000;
const FAST_MS = 1500;

/** Runs the reader; returns its answer and how long it took. */
async function timedRead(
  env: NodeJS.ProcessEnv,
  service: string,
): Promise<{ items: Map<string, string> | undefined; ms: number }> {
  const start = performance.now();
  const items = await readSecretServiceItems(env, service, TIMEOUT_MS);
  return { items, ms: performance.now() - start };
}

/** `secret-tool ARGS`, the secret (if any) on stdin; its stdout. Fails the test if it fails. */
function secretTool(args: string[], input?: string): string {
  const r = spawnSync('secret-tool', args, {
    input: input ?? '',
    encoding: 'utf8',
    timeout: 10_000,
  });
  expect(r.error).toBeUndefined();
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe('sessionBusSocket', () => {
  it('reads a unix:path address, with its other keys', () => {
    expect(sessionBusSocket({ DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1000/bus' })).toBe(
      '/run/user/1000/bus',
    );
    expect(
      sessionBusSocket({ DBUS_SESSION_BUS_ADDRESS: 'unix:guid=0123abcd,path=/tmp/b,x=y' }),
    ).toBe('/tmp/b');
  });

  it('reads a unix:abstract address as a leading NUL', () => {
    expect(
      sessionBusSocket({ DBUS_SESSION_BUS_ADDRESS: 'unix:abstract=/tmp/dbus-XYZ,guid=0123abcd' }),
    ).toBe('\0/tmp/dbus-XYZ');
  });

  it('unescapes a percent-escaped path', () => {
    expect(
      sessionBusSocket({ DBUS_SESSION_BUS_ADDRESS: 'unix:path=/tmp/with%20space%2cand%3d/%c3%bc' }),
    ).toBe('/tmp/with space,and=/ü');
  });

  it('takes the first unix address of several', () => {
    expect(
      sessionBusSocket({
        DBUS_SESSION_BUS_ADDRESS: 'tcp:host=127.0.0.1,port=1;unix:path=/tmp/second;unix:path=/x',
      }),
    ).toBe('/tmp/second');
  });

  it('has no socket for transports it does not speak', () => {
    expect(sessionBusSocket({ DBUS_SESSION_BUS_ADDRESS: 'tcp:host=127.0.0.1,port=1' })).toBe(
      undefined,
    );
    expect(
      sessionBusSocket({ DBUS_SESSION_BUS_ADDRESS: 'tcp:host=h,port=1;launchd:env=X' }),
    ).toBeUndefined();
  });

  it('falls back to $XDG_RUNTIME_DIR/bus without an address, else has none', () => {
    expect(sessionBusSocket({ XDG_RUNTIME_DIR: '/run/user/1000' })).toBe('/run/user/1000/bus');
    expect(sessionBusSocket({ DBUS_SESSION_BUS_ADDRESS: '', XDG_RUNTIME_DIR: '/run/user/7' })).toBe(
      '/run/user/7/bus',
    );
    expect(sessionBusSocket({})).toBeUndefined();
    expect(sessionBusSocket({ XDG_RUNTIME_DIR: '' })).toBeUndefined();
  });
});

describe('readSecretServiceItems without a usable bus', () => {
  it('gives undefined, fast, when the socket does not exist', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aws-vault-nobus-'));
    try {
      const { items, ms } = await timedRead(
        { DBUS_SESSION_BUS_ADDRESS: `unix:path=${dir}/no-such-socket` },
        'aws-vault',
      );
      expect(items).toBeUndefined();
      expect(ms).toBeLessThan(FAST_MS);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives undefined, fast, for an unsupported transport', async () => {
    const { items, ms } = await timedRead(
      { DBUS_SESSION_BUS_ADDRESS: 'tcp:host=127.0.0.1,port=1' },
      'aws-vault',
    );
    expect(items).toBeUndefined();
    expect(ms).toBeLessThan(FAST_MS);
  });
});

/**
 * A reply of `type` (2 a method return, 3 an error) to the call with
 * `serial`, little-endian, with the header `fields` given besides the reply
 * serial and the signature, and `values` of `signature`: built field by
 * field (encodeCall writes only calls).
 */
function replyMessage(
  type: 2 | 3,
  serial: number,
  fields: [number, { signature: string; value: DbusValue }][],
  signature: string,
  values: DbusValue[],
): Buffer {
  const body = new DbusWriter();
  splitSignature(signature).forEach((t, index) => body.write(t, values[index] as DbusValue));
  const header = new DbusWriter();
  for (const byte of ['l'.charCodeAt(0), type, 0, 1]) header.write('y', byte);
  header.write('u', body.length);
  header.write('u', 1000 + serial);
  header.write('a(yv)', [
    ...fields,
    [5, { signature: 'u', value: serial }],
    [8, { signature: 'g', value: signature }],
  ]);
  header.align(8);
  return Buffer.concat([header.toBuffer(), body.toBuffer()]);
}

/** A method return to the call with `serial`, with `values` of `signature`. */
function methodReply(serial: number, signature: string, values: DbusValue[]): Buffer {
  return replyMessage(2, serial, [], signature, values);
}

/** An error reply `name` with `text` to the call with `serial`. */
function errorReply(serial: number, name: string, text: string): Buffer {
  return replyMessage(3, serial, [[4, { signature: 's', value: name }]], 's', [text]);
}

type FakeBehaviour =
  'silent' | 'reject' | 'close' | 'error' | 'garbage' | 'slow' | 'unregistered' | 'unimplemented';

/** How long the 'slow' fake bus takes to answer each call. */
const SLOW_REPLY_MS = 800;

/**
 * A stand-in session bus on a unix socket that misbehaves as told once the
 * client connects: never answers, refuses the authentication, hangs up,
 * answers every call with an error, or answers with bytes that are no message.
 * `unregistered` answers as gnome-keyring does a client it has not yet
 * registered: Hello, then the next call "not implemented", then every call
 * as a search that found nothing; `unimplemented` says "not implemented" to
 * every call but Hello.
 */
async function fakeBus(
  dir: string,
  behaviour: FakeBehaviour,
): Promise<{
  address: string;
  calls: string[];
  /** Resolves once every client that connected has hung up. */
  clientsGone: () => Promise<void>;
  close: () => Promise<void>;
}> {
  const path = join(dir, 'bus');
  const calls: string[] = [];
  const sockets = new Set<Socket>();
  const gone: Promise<void>[] = [];
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    gone.push(new Promise((resolve) => socket.on('close', () => resolve())));
    socket.on('error', () => undefined);
    if (behaviour === 'close') {
      socket.destroy();
      return;
    }
    let buffer = Buffer.alloc(0);
    let authenticated = false;
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (behaviour === 'silent') return;
      if (!authenticated) {
        const begin = buffer.indexOf('BEGIN\r\n');
        if (!buffer.includes('AUTH EXTERNAL ')) return;
        if (behaviour === 'reject') {
          socket.write('REJECTED EXTERNAL\r\n');
          return;
        }
        if (begin < 0) return;
        socket.write('OK 0123456789abcdef0123456789abcdef\r\n');
        buffer = buffer.subarray(begin + 'BEGIN\r\n'.length);
        authenticated = true;
      }
      for (;;) {
        const decoded = decodeMessage(buffer);
        if (decoded === undefined) return;
        const serial = buffer.readUInt32LE(8);
        buffer = buffer.subarray(decoded.length);
        calls.push(String(serial));
        const refused =
          (behaviour === 'unregistered' && serial === 2) ||
          (behaviour === 'unimplemented' && serial > 1);
        const reply =
          behaviour === 'error' || behaviour === 'slow'
            ? errorReply(serial, 'org.freedesktop.DBus.Error.ServiceUnknown', 'no such name')
            : refused
              ? errorReply(
                  serial,
                  'org.freedesktop.DBus.Error.UnknownMethod',
                  'Method SearchItems is not implemented on interface org.freedesktop.Secret.Service',
                )
              : behaviour === 'unregistered' || behaviour === 'unimplemented'
                ? serial === 1
                  ? methodReply(serial, 's', [':1.42'])
                  : methodReply(serial, 'aoao', [[], []])
                : Buffer.from('X'.repeat(64));
        if (behaviour === 'slow') {
          setTimeout(() => socket.writable && socket.write(reply), SLOW_REPLY_MS);
        } else socket.write(reply);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    address: `unix:path=${path}`,
    calls,
    clientsGone: async () => {
      await Promise.all(gone);
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * The reader lets its connection go once it has its answer (on the next turn
 * of the event loop, see BusConnection.close): a process that goes on, like
 * this one, must not keep it open.
 */
async function expectHungUp(bus: { calls: string[]; clientsGone: () => Promise<void> }) {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('still connected'), FAST_MS);
  });
  try {
    expect(await Promise.race([bus.clientsGone().then(() => 'gone'), late])).toBe('gone');
  } finally {
    clearTimeout(timer);
  }
}

// Over libuv's pipe handle (the default) and over node:net (where Node does
// not give the handle quietly): the same answers (see unixSocket.ts).
describe.each([
  ['pipe handle', false],
  ['node:net', true],
])('the reader against a misbehaving bus, over the %s', (_, net) => {
  let tmp: string;
  beforeEach(() => {
    useNodeNet(net);
    tmp = mkdtempSync(join(tmpdir(), 'aws-vault-fakebus-'));
  });
  afterEach(() => {
    useNodeNet(false);
    rmSync(tmp, { recursive: true, force: true });
  });

  it.each<FakeBehaviour>(['reject', 'close', 'error', 'garbage'])(
    'gives undefined, fast, when the bus does %s',
    async (behaviour) => {
      const bus = await fakeBus(tmp, behaviour);
      try {
        const { items, ms } = await timedRead({ DBUS_SESSION_BUS_ADDRESS: bus.address }, 'svc');
        expect(items).toBeUndefined();
        expect(ms).toBeLessThan(FAST_MS);
        // Error replies: all three first-round calls were sent, pipelined.
        if (behaviour === 'error') expect(bus.calls).toEqual(['1', '2', '3']);
        await expectHungUp(bus);
      } finally {
        await bus.close();
      }
    },
  );

  it('after a timeout, stays connected until its calls are answered (gnome-keyring can abort when a client leaves mid-OpenSession)', async () => {
    const bus = await fakeBus(tmp, 'slow');
    try {
      const start = performance.now();
      const items = await readSecretServiceItems(
        { DBUS_SESSION_BUS_ADDRESS: bus.address },
        'svc',
        200,
      );
      expect(items).toBeUndefined();
      expect(performance.now() - start).toBeLessThan(SLOW_REPLY_MS - 200);
      await bus.clientsGone();
      // It hung up only once every call it sent had its answer.
      expect(performance.now() - start).toBeGreaterThanOrEqual(SLOW_REPLY_MS - 10);
      expect(bus.calls).toEqual(['1', '2', '3']);
    } finally {
      await bus.close();
    }
  });

  it('gives undefined after the timeout when the bus never answers', async () => {
    const bus = await fakeBus(tmp, 'silent');
    try {
      const start = performance.now();
      const items = await readSecretServiceItems(
        { DBUS_SESSION_BUS_ADDRESS: bus.address },
        'svc',
        300,
      );
      const ms = performance.now() - start;
      expect(items).toBeUndefined();
      expect(ms).toBeGreaterThanOrEqual(290);
      expect(ms).toBeLessThan(FAST_MS);
      await expectHungUp(bus);
    } finally {
      await bus.close();
    }
  });

  // A search, against gnome-keyring's answer to a connection it has not yet
  // registered (notYetRegistered) and others.
  const search = (address: string) =>
    secretServiceAttributes(
      { DBUS_SESSION_BUS_ADDRESS: address },
      new Map([['service', 'aws-vault']]),
      TIMEOUT_MS,
    );

  it('sends a call it said was not implemented again, and gets its answer', async () => {
    const bus = await fakeBus(tmp, 'unregistered');
    try {
      expect(await search(bus.address)).toEqual([]);
      // Hello, the refused SearchItems, and the same SearchItems again.
      expect(bus.calls).toEqual(['1', '2', '3']);
    } finally {
      await bus.close();
    }
  });

  it('gives up after three more tries, quickly, when it keeps saying so', async () => {
    const bus = await fakeBus(tmp, 'unimplemented');
    try {
      const start = performance.now();
      expect(await search(bus.address)).toBeUndefined();
      expect(performance.now() - start).toBeLessThan(FAST_MS);
      expect(bus.calls).toEqual(['1', '2', '3', '4', '5']);
    } finally {
      await bus.close();
    }
  });

  it('does not send a call again for another error', async () => {
    const bus = await fakeBus(tmp, 'error');
    try {
      expect(await search(bus.address)).toBeUndefined();
      expect(bus.calls).toEqual(['1', '2']);
    } finally {
      await bus.close();
    }
  });
});

describe.skipIf(!secretServiceAvailable())('readSecretServiceItems (real gnome-keyring)', () => {
  let service: string;
  let written: string[];

  beforeEach(() => {
    service = uniquePrefix('reader');
    written = [];
  });

  afterEach(async () => {
    const { AsyncEntry } = await import('@napi-rs/keyring');
    for (const username of written) {
      await new AsyncEntry(service, username, { linux: { store: 'secret-service' } })
        .deleteCredential()
        .catch(() => undefined); // an ambiguous entry: secret-tool clears it below
    }
    // Whatever secret-tool added, and what the library could not delete.
    spawnSync('secret-tool', ['clear', 'service', service], { timeout: 10_000 });
  });

  /** Writes `username` -> `value` under this test's service, as the CLI does. */
  /** Stores with the library, as aws-vault does: with `target`, as --secret-service-collection=TARGET does. */
  async function write(username: string, value: string, target?: string): Promise<void> {
    const { AsyncEntry } = await import('@napi-rs/keyring');
    written.push(username);
    const options = { linux: { store: 'secret-service' as const } };
    const entry =
      target === undefined
        ? new AsyncEntry(service, username, options)
        : AsyncEntry.withTarget(target, service, username, options);
    await entry.setPassword(value);
  }

  it('reads back exactly what the library wrote, keyed by username', async () => {
    const json = JSON.stringify({
      Version: 1,
      AccessKeyID: 'AKIAIOSFODNN7EXAMPLE',
      SecretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      SessionToken: 'x'.repeat(3800),
      Expiration: '2030-01-01T00:00:00Z',
    });
    expect(json.length).toBeGreaterThan(3900);
    const expected = new Map([
      ['dev', 'plain-secret'],
      ['prod/admin', 'pässwörd ☃ 鍵 🔑'],
      ['sts.GetSessionToken,ZGV2,,1999999999', json],
      ['ünïcødé user', ''],
    ]);
    for (const [username, value] of expected) await write(username, value);
    const { items, ms } = await timedRead(process.env, service);
    expect(items).toEqual(expected);
    expect(ms).toBeLessThan(FAST_MS);
    // The same over node:net, the transport where Node keeps the pipe handle to itself.
    useNodeNet(true);
    try {
      expect((await timedRead(process.env, service)).items).toEqual(expected);
    } finally {
      useNodeNet(false);
    }
  });

  it('reads a reply larger than one socket read: 24 items of 4 KB', async () => {
    const expected = new Map<string, string>();
    for (let i = 0; i < 24; i++) {
      expected.set(`profile-${i}`, `${i}:${'ü'.repeat(2000)}`);
    }
    // One after another: many clients connecting, writing and hanging up at
    // once can abort gnome-keyring-daemon itself (an upstream race, "assertion
    // 'client' failed" in gkd_secret_service_get_pkcs11_session), which the
    // library's writes, each on its own connection, trigger here.
    for (const [username, value] of expected) await write(username, value);
    const { items, ms } = await timedRead(process.env, service);
    expect(items).toEqual(expected);
    expect(ms).toBeLessThan(FAST_MS);
  });

  it('sees an overwritten value, and only its own service', async () => {
    await write('dev', 'first');
    await write('dev', 'second');
    const other = uniquePrefix('reader-other');
    secretTool(['store', '--label', 'other', 'service', other, 'username', 'dev'], 'elsewhere');
    try {
      expect((await timedRead(process.env, service)).items).toEqual(new Map([['dev', 'second']]));
      expect((await timedRead(process.env, other)).items).toEqual(new Map([['dev', 'elsewhere']]));
    } finally {
      secretTool(['clear', 'service', other]);
    }
  });

  it('gives undefined, fast, for a service with no items', async () => {
    const { items, ms } = await timedRead(process.env, service);
    expect(items).toBeUndefined();
    expect(ms).toBeLessThan(FAST_MS);
    // The same call does answer once an item is there.
    await write('dev', 'v');
    expect((await timedRead(process.env, service)).items).toEqual(new Map([['dev', 'v']]));
  });

  it('gives undefined, fast, when two items have the same username', async () => {
    await write('dev', 'from the library');
    await write('prod', 'p');
    expect((await timedRead(process.env, service)).items?.get('dev')).toBe('from the library');
    // The library writes exactly {service, username}, and gnome-keyring's
    // CreateItem(replace) would overwrite that item: one more attribute
    // makes secret-tool add a second item for the same username instead.
    secretTool(
      ['store', '--label', 'dup', 'service', service, 'username', 'dev', 'origin', 'secret-tool'],
      'from secret-tool',
    );
    const found = secretTool(['search', '--all', 'service', service, 'username', 'dev']);
    expect(found.match(/^\[\/.*\]$/gm)).toHaveLength(2);
    const { items, ms } = await timedRead(process.env, service);
    expect(items).toBeUndefined();
    expect(ms).toBeLessThan(FAST_MS);
  });

  it('with a collection named by its label or its Go name, reads what was stored with it and says which label it means', async () => {
    await write('dev', 'v');
    await write('prod', 'p', 'Login');
    // gnome-keyring's default collection: labelled Login, path .../collection/login.
    // Both items are in it; only one was stored with it (as the library's lookups with a target see it).
    for (const name of ['Login', 'login']) {
      const read = await readSecretServiceStore(process.env, service, name, TIMEOUT_MS);
      expect(read).toEqual({ items: new Map([['prod', 'p']]), label: 'Login' });
    }
    expect(await readSecretServiceStore(process.env, service, undefined, TIMEOUT_MS)).toEqual({
      items: new Map([
        ['dev', 'v'],
        ['prod', 'p'],
      ]),
    });
    // A collection that is not there: the library's path says so.
    const start = performance.now();
    expect(
      await readSecretServiceStore(process.env, service, 'NoSuch', TIMEOUT_MS),
    ).toBeUndefined();
    expect(performance.now() - start).toBeLessThan(FAST_MS);
  });

  it('gives undefined when an item of the service has no username', async () => {
    await write('dev', 'v');
    secretTool(['store', '--label', 'nameless', 'service', service, 'user', 'dev'], 'x');
    const { items, ms } = await timedRead(process.env, service);
    expect(items).toBeUndefined();
    expect(ms).toBeLessThan(FAST_MS);
  });
});

/**
 * Runs `body` in a private keyring session under `tmp` (privateKeyringScript)
 * with $PROBE a module of `source`; each line it prints, parsed.
 */
function probeOnPrivateKeyring<T>(tmp: string, source: string, body: string): T[] {
  const env = privateKeyringEnv(tmp);
  const probe = join(tmp, 'probe.mjs');
  writeFileSync(probe, source);
  const r = spawnSync('dbus-run-session', privateSessionArgs(tmp, privateKeyringScript(body)), {
    env: { ...env, NODE: process.execPath, PROBE: probe },
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as T);
}

describe.skipIf(!secretServiceAvailable())(
  'readSecretServiceItems with a locked collection',
  () => {
    let tmp: string;
    beforeEach(() => {
      tmp = mkdtempSync(join(tmpdir(), 'aws-vault-reader-locked-'));
    });
    afterEach(() => {
      rmSync(tmp, { recursive: true, force: true });
    });

    it('reads the item while unlocked, and gives undefined, fast, once locked', () => {
      // A private session bus and keyring daemon, so the shared one stays unlocked.
      const [unlocked, locked] = probeOnPrivateKeyring<{
        items: Record<string, string> | null;
        ms: number;
      }>(
        tmp,
        `import { readSecretServiceItems } from ${JSON.stringify(readerUrl)};
const start = performance.now();
const items = await readSecretServiceItems(process.env, process.argv[2], ${TIMEOUT_MS});
const ms = performance.now() - start;
process.stdout.write(JSON.stringify({ items: items ? Object.fromEntries(items) : null, ms }) + '\\n');
`,
        `
        printf 'the secret' | secret-tool store --label probe service probe-svc username probe-user
        "$NODE" "$PROBE" probe-svc
        ${LOCK_LOGIN_COLLECTION}
        "$NODE" "$PROBE" probe-svc
      `,
      );
      expect(unlocked?.items).toEqual({ 'probe-user': 'the secret' });
      expect(locked?.items).toBeNull();
      expect(locked?.ms).toBeLessThan(FAST_MS);
    }, 40_000);

    it('gives undefined, fast, when the collection asked for is locked', () => {
      // A second collection, labelled Work: a keyring file gnome-keyring loads at start.
      const keyrings = join(tmp, 'data', 'keyrings');
      mkdirSync(keyrings, { recursive: true, mode: 0o700 });
      writeFileSync(
        join(keyrings, 'work.keyring'),
        '[keyring]\ndisplay-name=Work\nctime=1700000000\nmtime=0\nlock-on-idle=false\nlock-after=false\n',
        { mode: 0o600 },
      );
      const [open, locked, other] = probeOnPrivateKeyring<{
        items: Record<string, string> | null;
        label?: string;
        ms: number;
      }>(
        tmp,
        `import { readSecretServiceStore } from ${JSON.stringify(readerUrl)};
const start = performance.now();
const read = await readSecretServiceStore(process.env, 'probe-svc', process.argv[2], ${TIMEOUT_MS});
const ms = performance.now() - start;
process.stdout.write(JSON.stringify({ items: read ? Object.fromEntries(read.items) : null, label: read?.label, ms }) + '\\n');
`,
        `
        printf 'the secret' | secret-tool store --label probe service probe-svc username probe-user
        printf 'for work' | secret-tool store --label probe service probe-svc username work-user target Work
        printf 'for login' | secret-tool store --label probe service probe-svc username login-user target Login
        # A password-less keyring loads locked; unlocking it needs no prompt.
        dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets org.freedesktop.Secret.Service.Unlock array:objpath:/org/freedesktop/secrets/collection/work >/dev/null
        "$NODE" "$PROBE" work
        dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets org.freedesktop.Secret.Service.Lock array:objpath:/org/freedesktop/secrets/collection/work >/dev/null
        "$NODE" "$PROBE" work
        "$NODE" "$PROBE" Login
      `,
      );
      // What was stored with the collection named (the `target` attribute, as
      // the library's lookups with a target see it), with the label writes go to.
      expect(open).toMatchObject({ items: { 'work-user': 'for work' }, label: 'Work' });
      expect(locked?.items).toBeNull();
      expect(locked?.ms).toBeLessThan(FAST_MS);
      expect(other).toMatchObject({ items: { 'login-user': 'for login' }, label: 'Login' });
    }, 40_000);
  },
);

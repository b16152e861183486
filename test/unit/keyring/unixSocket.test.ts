// The Secret Service reader's unix socket: libuv's pipe handle where Node
// gives it quietly, node:net otherwise, with the same events either way.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectUnixSocket, useNodeNet, type UnixSocket } from '../../../src/keyring/unixSocket.ts';

const worker = new URL('./fixtures/unixSocketWorker.ts', import.meta.url).pathname;

let tmp: string;
let server: Server | undefined;
const clients = new Set<Socket>();

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'aws-vault-socket-'));
});
afterEach(async () => {
  useNodeNet(false);
  for (const client of clients) client.destroy();
  clients.clear();
  if (server) await new Promise((resolve) => server?.close(resolve));
  server = undefined;
  rmSync(tmp, { recursive: true, force: true });
});

/**
 * A server at `tmp/sock` that answers each chunk with `reply(chunk)`
 * (undefined: hang up); resolves to its path.
 */
async function listen(reply: (chunk: Buffer) => Buffer | undefined): Promise<string> {
  const path = join(tmp, 'sock');
  server = createServer((client) => {
    clients.add(client);
    client.on('error', () => undefined);
    client.on('data', (chunk) => {
      const answer = reply(chunk);
      if (answer === undefined) client.end();
      else client.write(answer);
    });
  });
  await new Promise<void>((resolve) => server?.listen(path, resolve));
  return path;
}

type Event = ['data', string] | ['error', string] | ['close'];

/** Connects to `path`; the events so far, and a promise of the last one. */
function open(path: string): { socket: UnixSocket; events: Event[]; ended: Promise<void> } {
  const events: Event[] = [];
  let end: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => {
    end = resolve;
  });
  const socket = connectUnixSocket(path, {
    data: (chunk) => events.push(['data', chunk.toString('latin1')]),
    error: (error) => {
      events.push(['error', error.message]);
      end();
    },
    close: () => {
      events.push(['close']);
      end();
    },
  });
  return { socket, events, ended };
}

/** The data events joined, and the events with those taken out. */
function summary(events: Event[]): { data: string; rest: Event[] } {
  return {
    data: events.flatMap((e) => (e[0] === 'data' ? [e[1]] : [])).join(''),
    rest: events.filter((e) => e[0] !== 'data'),
  };
}

it('uses the pipe handle on this Node', async () => {
  const path = await listen(() => undefined);
  const { socket, ended } = open(path);
  socket.write(Buffer.from('x'));
  await ended;
  expect(socket.kind).toBe('pipe');
});

it('uses node:net when told to', async () => {
  const path = await listen(() => undefined);
  useNodeNet(true);
  const { socket, ended } = open(path);
  socket.write(Buffer.from('x'));
  await ended;
  expect(socket.kind).toBe('net');
});

describe.each([
  ['pipe handle', false],
  ['node:net', true],
])('over the %s', (_, net) => {
  beforeEach(() => useNodeNet(net));

  it('sends what was written before it connected, in order, and reads the answers, then the end', async () => {
    const path = await listen((chunk) =>
      chunk.includes('quit') ? undefined : Buffer.from(chunk.toString().toUpperCase()),
    );
    const { socket, events, ended } = open(path);
    socket.write(Buffer.from('one '));
    socket.write(Buffer.from('two '));
    setTimeout(() => socket.write(Buffer.from('quit')), 50);
    await ended;
    const { data, rest } = summary(events);
    expect(data).toBe('ONE TWO ');
    expect(rest).toEqual([['close']]);
  });

  // Linux's abstract namespace (`unix:abstract=` bus addresses): a leading NUL.
  if (process.platform === 'linux') {
    it('connects to an abstract socket', async () => {
      const name = `\0aws-vault-test-${process.pid}-${String(net)}`;
      server = createServer((client) => {
        clients.add(client);
        client.on('data', (chunk) => client.end(`pong:${chunk.toString()}`));
      });
      await new Promise<void>((resolve) => server?.listen(name, resolve));
      const { socket, events, ended } = open(name);
      socket.write(Buffer.from('ping'));
      await ended;
      expect(summary(events)).toEqual({ data: 'pong:ping', rest: [['close']] });
    });
  }

  it('carries a large write and a large answer whole', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 'a');
    let seen = 0;
    const path = await listen((chunk) => {
      seen += chunk.length;
      return seen === big.length ? Buffer.alloc(200 * 1024, 'b') : Buffer.alloc(0);
    });
    const { socket, events } = open(path);
    socket.write(big);
    await expect.poll(() => summary(events).data.length, { timeout: 10_000 }).toBe(200 * 1024);
    expect(seen).toBe(big.length);
    socket.destroy();
  });

  it('reports a socket that does not exist as one error, after connect returns', async () => {
    const { events, ended } = open(join(tmp, 'no-such-socket'));
    expect(events).toEqual([]);
    await ended;
    expect(events).toHaveLength(1);
    expect(events[0]?.[0]).toBe('error');
    expect(events[0]?.[1]).toContain('no-such-socket');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(events).toHaveLength(1);
  });

  it('runs no handler once destroyed, and writes after that go nowhere', async () => {
    const path = await listen((chunk) => chunk);
    const { socket, events } = open(path);
    socket.destroy();
    socket.write(Buffer.from('late'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(events).toEqual([]);
  });

  it('does not keep the process alive once unref’d', async () => {
    const path = await listen((chunk) => chunk);
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { connectUnixSocket, useNodeNet } from ${JSON.stringify(new URL('../../../src/keyring/unixSocket.ts', import.meta.url).href)};
         useNodeNet(${net});
         const s = connectUnixSocket(${JSON.stringify(path)}, { data() {}, error() {}, close() {} });
         s.write(Buffer.from('hi'));
         s.unref();`,
      ],
      { stdio: 'ignore' },
    );
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
  });
});

/** Runs the worker under `flags`; its output. */
async function runWorker(
  flags: string[],
  path: string,
  ...args: string[]
): Promise<{ stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...flags, worker, path, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise((resolve) => child.on('close', resolve));
  return { stdout, stderr };
}

describe('where Node would warn about process.binding', () => {
  it.each([
    ['--pending-deprecation'],
    ['--throw-deprecation', '--pending-deprecation'],
    // The permission model refuses process.binding (ERR_ACCESS_DENIED).
    ['--permission', '--allow-fs-read=*'],
  ])('under %s it uses node:net and prints no warning', async (...flags) => {
    const path = await listen(() => Buffer.from('pong'));
    server?.on('connection', (client) => client.on('data', () => client.end()));
    const { stdout, stderr } = await runWorker(flags, path);
    expect(stdout).toBe('net pong\n');
    expect(stderr).not.toMatch(/DEP0111|process\.binding|Warning/);
  });

  it('where process.binding itself warns (a Node that deprecates it at run time), uses node:net and the warning is held back', async () => {
    const path = await listen(() => Buffer.from('pong'));
    server?.on('connection', (client) => client.on('data', () => client.end()));
    const { stdout, stderr } = await runWorker(['--throw-deprecation'], path, 'warns');
    expect(stdout).toBe('net pong\n');
    expect(stderr).toBe('');
  });

  it('without such flags uses the pipe handle, silently', async () => {
    const path = await listen(() => Buffer.from('pong'));
    server?.on('connection', (client) => client.on('data', () => client.end()));
    const { stdout, stderr } = await runWorker([], path);
    expect(stdout).toBe('pipe pong\n');
    expect(stderr).toBe('');
  });
});

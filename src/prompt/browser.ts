import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WITHHELD_VARIABLES, withoutOwnSecrets } from '../credentials/redact.ts';

export interface OpenBrowserOptions {
  env: NodeJS.ProcessEnv;
  debug?: (line: string) => void;
}

/**
 * Opens `url` in the user's browser. `BROWSER` (a `:`-separated list of
 * commands, `%s` standing for the URL, as xdg-open reads it) wins; otherwise
 * the `open` package picks the platform's opener. Resolves false when no
 * browser could be started, so the caller can print the URL instead.
 */
export async function openBrowser(url: string, options: OpenBrowserOptions): Promise<boolean> {
  const debug = options.debug ?? (() => {});
  const fromEnv = options.env.BROWSER;
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    for (const entry of fromEnv.split(':')) {
      const command = entry.trim();
      if (command === '') continue;
      if (await runBrowserCommand(command, url, options.env)) {
        debug(`opened the browser with $BROWSER entry "${command.split(/\s+/)[0]}"`);
        return true;
      }
    }
    debug('no $BROWSER entry could be started');
    return false;
  }
  try {
    const { default: open } = await import('open');
    // open starts the opener with process.env, and takes no other: our own
    // secrets are out of it until the opener has been spawned.
    const withheld = WITHHELD_VARIABLES.flatMap((name) => {
      const value = process.env[name];
      delete process.env[name];
      return value === undefined ? [] : [[name, value] as const];
    });
    let child;
    try {
      child = await open(url, { wait: false });
    } finally {
      for (const [name, value] of withheld) process.env[name] = value;
    }
    // open resolves once the opener is spawned; an opener that is missing
    // (no xdg-open on a server) reports through 'error'.
    return await new Promise<boolean>((resolve) => {
      let settled = false;
      const done = (ok: boolean) => {
        if (!settled) {
          settled = true;
          resolve(ok);
        }
      };
      child.once('error', () => done(false));
      child.once('exit', (code) => done(code === 0 || code === null));
      setTimeout(() => done(true), 1_500).unref();
    });
  } catch (error) {
    debug(`could not open a browser: ${error instanceof Error ? error.message : String(error)}`);
    return false;
  }
}

/** Runs one `$BROWSER` entry with the URL, detached; true when it started and did not fail at once. */
function runBrowserCommand(command: string, url: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  const words = command.split(/\s+/).filter((w) => w !== '');
  const hasPlaceholder = words.some((w) => w.includes('%s'));
  const args = hasPlaceholder
    ? words.slice(1).map((w) => w.replaceAll('%s', url))
    : [...words.slice(1), url];
  const file = words[0];
  if (file === undefined) return Promise.resolve(false);
  return new Promise((resolve) => {
    let settled = false;
    const child = spawn(file, args, {
      env: withoutOwnSecrets(env),
      stdio: 'ignore',
      detached: true,
    });
    // A graphical browser keeps running: after a moment, consider it started.
    // The timer stays referenced so the process waits for the verdict.
    const timer = setTimeout(() => done(true), 1_500);
    const done = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Never wait for the browser itself to exit.
      child.unref();
      resolve(ok);
    };
    child.once('error', () => done(false));
    child.once('exit', (code) => done(code === 0));
  });
}

/** A one-time loopback address that redirects to a secret URL. */
export interface LoopbackRedirect {
  /** `http://127.0.0.1:PORT/<random>`: safe to pass on a command line. */
  url: string;
  /** Resolves true once the browser followed it, false after `timeoutMs`. */
  followed: Promise<boolean>;
  close(): void;
}

/**
 * Serves `target` once, as a redirect from a random loopback path, so a URL
 * that carries a bearer token (the console `SigninToken`) is handed to the
 * browser over HTTP instead of in the browser's argv. The random path is in
 * the browser's argv, where any local user can read it; so, on Linux, only a
 * connection from a socket of this user's is answered ({@link loopbackPeerUid}):
 * another user's gets 403 and the path stays good for the browser. The
 * server answers only the one path, once, then closes.
 */
export async function loopbackRedirect(
  target: string,
  timeoutMs: number,
  options: { peerUid?: (peerPort: number, ourPort: number) => number | undefined } = {},
): Promise<LoopbackRedirect> {
  const secretPath = `/${randomBytes(32).toString('base64url')}`;
  const peerUid = options.peerUid ?? loopbackPeerUid;
  const ownUid = process.getuid?.();
  let resolveFollowed: (value: boolean) => void = () => {};
  const followed = new Promise<boolean>((resolve) => {
    resolveFollowed = resolve;
  });
  const server = createServer((req, res) => {
    const hostOk = /^(127\.0\.0\.1|localhost):\d+$/.test(req.headers.host ?? '');
    if (req.method !== 'GET' || req.url !== secretPath || !hostOk) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (ownUid !== undefined && process.platform === 'linux') {
      const uid = peerUid(req.socket.remotePort ?? 0, req.socket.localPort ?? 0);
      if (uid !== ownUid) {
        res
          .writeHead(403, { 'content-type': 'text/plain' })
          .end('this sign-in link is for another user\n');
        return;
      }
    }
    res
      .writeHead(302, {
        location: target,
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
      })
      .end();
    finish(true);
  });
  const timer = setTimeout(() => finish(false), timeoutMs);
  const finish = (ok: boolean) => {
    clearTimeout(timer);
    server.close();
    server.closeAllConnections?.();
    resolveFollowed(ok);
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}${secretPath}`, followed, close: () => finish(false) };
}

/**
 * On Linux, the uid that owns the client end of a loopback TCP connection
 * to our `ourPort` from its `peerPort`, as the kernel lists sockets in
 * /proc/net/tcp and /proc/net/tcp6; undefined when no such socket is listed
 * (or /proc cannot be read), which the caller refuses like another user.
 */
export function loopbackPeerUid(
  peerPort: number,
  ourPort: number,
  read: (path: string) => string = (path) => readFileSync(path, 'latin1'),
): number | undefined {
  const hex = (port: number) => port.toString(16).toUpperCase().padStart(4, '0');
  const [peer, ours] = [hex(peerPort), hex(ourPort)];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = read(table);
    } catch {
      continue;
    }
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid ...
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 8) continue;
      const [, from, to, , , , , uid] = fields as [string, string, string, ...string[]];
      const [, fromPort] = from.split(':');
      const [toAddress = '', toPort] = to.split(':');
      if (fromPort === peer && toPort === ours && LISTEN_ADDRESSES.has(toAddress)) {
        return Number(uid);
      }
    }
  }
  return undefined;
}

/**
 * 127.0.0.1, where the server listens, as /proc/net/tcp and tcp6 print it
 * (32-bit words in hex, host byte order): plain and IPv4-mapped, on little-
 * and big-endian machines.
 */
const LISTEN_ADDRESSES = new Set([
  '0100007F',
  '7F000001',
  '0000000000000000FFFF00000100007F',
  '00000000000000000000FFFF7F000001',
]);

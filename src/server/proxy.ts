import { spawnSync } from 'node:child_process';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Readable } from 'node:stream';
import { UserError } from '../errors.ts';
import { isLoopbackHost, listen } from './http.ts';

export interface ProxyOptions {
  /** `HOST:PORT` of the unprivileged EC2 server, on loopback. */
  target: string;
  /** Address to alias on the loopback interface and listen on. */
  listenAddress: string;
  listenPort: number;
  /** Exit when this process is gone (the aws-vault that started us). */
  parentPid?: number;
  /** Closing it (our parent ended or died) stops the proxy. */
  stdin: Readable;
  /** Told `ready` once listening; nothing else is written there. */
  ready: () => void;
  debug: (line: string) => void;
}

function run(command: string, args: string[]): { ok: boolean; output: string; missing: boolean } {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  const missing = (result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
  return {
    ok: result.status === 0,
    missing,
    output: `${result.stderr ?? ''}${result.stdout ?? ''}`.trim() || (result.error?.message ?? ''),
  };
}

/** Adds `address` to the loopback interface unless it is there; returns whether we added it. */
function addAlias(address: string): boolean {
  if (process.platform === 'linux') {
    const show = run('ip', ['-o', 'addr', 'show', 'dev', 'lo']);
    if (show.missing) throw new UserError('the `ip` command (iproute2) is not installed');
    if (show.output.includes(` ${address}/`)) return false;
    const add = run('ip', ['addr', 'add', `${address}/32`, 'dev', 'lo']);
    if (!add.ok)
      throw new UserError(`cannot add ${address} to the loopback interface: ${add.output}`);
    return true;
  }
  if (process.platform === 'darwin') {
    const show = run('ifconfig', ['lo0']);
    if (show.output.includes(`inet ${address} `)) return false;
    const add = run('ifconfig', ['lo0', 'alias', address]);
    if (!add.ok) throw new UserError(`cannot alias ${address} on lo0: ${add.output}`);
    return true;
  }
  throw new UserError(`aliasing ${address} is not supported on ${process.platform}`);
}

function removeAlias(address: string): void {
  if (process.platform === 'linux') run('ip', ['addr', 'del', `${address}/32`, 'dev', 'lo']);
  else if (process.platform === 'darwin') run('ifconfig', ['lo0', '-alias', address]);
}

/**
 * True when a connection comes from this machine: a loopback source
 * (127.0.0.0/8, ::1, also IPv4-mapped), the listen address itself (the
 * source the kernel picks when a local process connects to an address
 * aliased on loopback), or another address of this machine's interfaces.
 * A neighbour or a container has an address of its own and is refused.
 */
export function isLocalPeer(
  remoteAddress: string | undefined,
  listenAddress: string,
  localAddresses: () => string[] = interfaceAddresses,
): boolean {
  if (remoteAddress === undefined) return false;
  const address = normalise(remoteAddress);
  if (address === normalise(listenAddress)) return true;
  // A peer address is never the name `localhost`; isLoopbackHost accepts it for Host headers.
  if (address !== 'localhost' && isLoopbackHost(address)) return true;
  return localAddresses().some((a) => normalise(a) === address);
}

function normalise(address: string): string {
  return address.toLowerCase().replace(/^::ffff:(?=\d+\.)/, '');
}

/** Every address of this machine's interfaces, loopback aliases included. */
export function interfaceAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
}

function parseTarget(target: string): { host: string; port: number } {
  const match = /^([\d.]+|localhost):(\d{1,5})$/.exec(target);
  const port = Number(match?.[2]);
  if (match?.[1] === undefined || !isLoopbackHost(match[1]) || port < 1 || port > 65_535) {
    throw new UserError(`--target must be a loopback HOST:PORT, got "${target}"`);
  }
  return { host: match[1], port };
}

/**
 * The privileged half of `exec --ec2-server` (`aws-vault proxy`): aliases
 * the metadata address on loopback, listens on it and forwards each TCP
 * connection to the unprivileged server. Runs until stdin closes, a
 * SIGTERM/SIGINT/SIGHUP, or the parent is gone; then removes the alias it
 * added. Resolves when everything is cleaned up.
 */
export async function runProxy(options: ProxyOptions): Promise<void> {
  const target = parseTarget(options.target);
  // Our parent may die before us: writing to its closed pipes must not kill
  // us before the alias is gone.
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});
  const debug = (line: string) => {
    try {
      options.debug(line);
    } catch {
      // A log line is never worth leaving the alias behind.
    }
  };
  const added = addAlias(options.listenAddress);
  let removed = !added;
  const cleanUp = () => {
    if (removed) return;
    removed = true;
    removeAlias(options.listenAddress);
  };
  // Last resort for an unexpected exit: spawnSync still works in 'exit'.
  process.once('exit', cleanUp);
  debug(`proxy: ${added ? 'added' : 'found'} ${options.listenAddress} on loopback`);
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    // The alias answers on every interface (Linux and macOS accept packets for
    // any local address): a neighbour on the network, or a container routed
    // through this host, could reach 169.254.169.254:80 and read IMDSv1
    // credentials. Only processes of this machine get through.
    if (!isLocalPeer(client.remoteAddress, options.listenAddress)) {
      debug(`proxy: refused a connection from ${client.remoteAddress ?? 'an unknown address'}`);
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  try {
    await listen(server, options.listenAddress, options.listenPort);
  } catch (error) {
    cleanUp();
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(
      code === 'EADDRINUSE'
        ? `${options.listenAddress}:${options.listenPort} is already in use (another aws-vault --ec2-server?)`
        : `cannot listen on ${options.listenAddress}:${options.listenPort}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  debug(`proxy: forwarding ${options.listenAddress}:${options.listenPort} -> ${options.target}`);
  options.ready();

  await new Promise<void>((resolve) => {
    let done = false;
    const stop = (why: string) => {
      if (done) return;
      done = true;
      debug(`proxy: stopping (${why})`);
      clearInterval(watch);
      for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.off(signal, onSignal);
      resolve();
    };
    const onSignal = (signal: NodeJS.Signals) => stop(signal);
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, onSignal);
    options.stdin.on('end', () => stop('stdin closed'));
    options.stdin.on('close', () => stop('stdin closed'));
    options.stdin.on('error', () => stop('stdin error'));
    options.stdin.resume();
    const watch = setInterval(() => {
      if (options.parentPid === undefined) return;
      try {
        process.kill(options.parentPid, 0);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ESRCH') stop('parent exited');
      }
    }, 1000);
  });

  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    for (const socket of sockets) socket.destroy();
  });
  cleanUp();
  process.off('exit', cleanUp);
  debug('proxy: stopped');
}

import { request } from 'node:http';
import { connect } from 'node:net';
import { UserError } from '../errors.ts';
import { interfaceAddresses } from './proxy.ts';

export interface StopProxyOptions {
  address: string;
  port: number;
  /** How long each step (the request, then the port closing) may take. */
  timeoutMs?: number;
  debug: (line: string) => void;
  /** This machine's addresses (os.networkInterfaces); for tests. */
  localAddresses?: () => string[];
}

/** What `proxy --stop` found: a proxy that stopped, or none listening. */
export type StopProxyResult = 'stopped' | 'none';

/**
 * `aws-vault proxy --stop`, as in the Go aws-vault: asks the proxy on
 * ADDRESS:PORT to stop with `GET /stop`. Only the Go aws-vault's proxy,
 * started with `sudo -b` and running until stopped, answers it; ours ends
 * with the `exec` that started it and forwards the request to that exec's
 * server, which does not know the path. Needs no privileges. Resolves once
 * nothing listens there any more. Where the address is not one of this
 * machine's (no proxy has aliased it), nothing is sent: on an EC2 instance
 * it is the real metadata service.
 */
export async function stopProxy(options: StopProxyOptions): Promise<StopProxyResult> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const where = `${options.address}:${options.port}`;
  const local = (options.localAddresses ?? interfaceAddresses)();
  if (!local.includes(options.address)) {
    options.debug(`proxy --stop: ${options.address} is not an address of this machine`);
    return 'none';
  }
  let status: number;
  try {
    status = await get(options.address, options.port, '/stop', timeoutMs);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    options.debug(`proxy --stop: GET http://${where}/stop: ${code ?? (error as Error).message}`);
    if (code === 'ECONNREFUSED') return 'none';
    if (code === 'ETIMEDOUT') {
      throw new UserError(
        `something on ${where} took more than ${timeoutMs / 1000} s to answer GET /stop; ` +
          'find it with `sudo ss -ltnp` (Linux) or `sudo lsof -i :80` (macOS)',
        { cause: error },
      );
    }
    // The proxy exits as it answers, and may close the connection first.
    if (code !== 'ECONNRESET')
      throw new UserError(`cannot reach ${where}: ${(error as Error).message}`);
    status = 200;
  }
  options.debug(`proxy --stop: GET http://${where}/stop answered ${status}`);
  if (status !== 200) {
    throw new UserError(
      `the server on ${where} answered GET /stop with HTTP ${status}: it is not the Go aws-vault's ` +
        'proxy. The proxy of an `aws-vault exec --ec2-server` stops when its command ends',
    );
  }
  const deadline = Date.now() + timeoutMs;
  while (await listening(options.address, options.port)) {
    if (Date.now() > deadline) {
      throw new UserError(
        `the proxy on ${where} answered GET /stop but still listens after ${timeoutMs / 1000} s`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return 'stopped';
}

function get(host: string, port: number, path: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () =>
      req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })),
    );
    req.on('error', reject);
    req.end();
  });
}

function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 500 });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.on('connect', () => done(true));
    socket.on('timeout', () => done(false));
    socket.on('error', () => done(false));
  });
}

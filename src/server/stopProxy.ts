import { request } from 'node:http';
import { connect } from 'node:net';
import { UserError } from '../errors.ts';
import { METADATA_ADDRESS } from './privilegedProxy.ts';
import { interfaceAddresses } from './proxy.ts';

const PORT = 80;
/** Where the Go aws-vault's proxy listens, as `proxy --stop` names it. */
export const PROXY_WHERE = `${METADATA_ADDRESS}:${PORT}`;

/** How long each step (the answer to GET /stop, then the port closing) may take. */
const TIMEOUT_MS = 2000;

export interface StopProxyOptions {
  debug: (line: string) => void;
}

/** What `proxy --stop` found: a proxy that stopped, or none listening. */
export type StopProxyResult = 'stopped' | 'none';

/**
 * `aws-vault proxy --stop`, as in the Go aws-vault: asks the proxy on
 * 169.254.169.254:80 to stop with `GET /stop`. Only the Go aws-vault's
 * proxy, started with `sudo -b` and running until stopped, answers it; ours
 * ends with the `exec` that started it and forwards the request to that
 * exec's server, which does not know the path. Needs no privileges. Resolves
 * once nothing listens there any more. Where the address is not one of this
 * machine's (no proxy has aliased it), nothing is sent: on an EC2 instance
 * it is the real metadata service.
 */
export async function stopProxy(options: StopProxyOptions): Promise<StopProxyResult> {
  if (!interfaceAddresses().includes(METADATA_ADDRESS)) {
    options.debug(`proxy --stop: ${METADATA_ADDRESS} is not an address of this machine`);
    return 'none';
  }
  // Undefined when the proxy closed the connection without an answer.
  let status: number | undefined;
  try {
    status = await get(METADATA_ADDRESS, PORT, '/stop', TIMEOUT_MS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    options.debug(
      `proxy --stop: GET http://${PROXY_WHERE}/stop: ${code ?? (error as Error).message}`,
    );
    if (code === 'ECONNREFUSED') return 'none';
    if (code === 'ETIMEDOUT') {
      throw new UserError(
        `something on ${PROXY_WHERE} took more than ${TIMEOUT_MS / 1000} s to answer GET /stop; ` +
          'find it with `sudo ss -ltnp` (Linux) or `sudo lsof -i :80` (macOS)',
        { cause: error },
      );
    }
    // The Go proxy exits as it answers, and may close the connection first:
    // whether it stopped is told by the port below.
    if (code !== 'ECONNRESET')
      throw new UserError(`cannot reach ${PROXY_WHERE}: ${(error as Error).message}`);
  }
  if (status !== undefined) {
    options.debug(`proxy --stop: GET http://${PROXY_WHERE}/stop answered ${status}`);
  }
  if (status !== undefined && status !== 200) {
    throw new UserError(
      `the server on ${PROXY_WHERE} answered GET /stop with HTTP ${status}: it is not the Go aws-vault's ` +
        'proxy. The proxy of an `aws-vault exec --ec2-server` stops when its command ends',
    );
  }
  const deadline = Date.now() + TIMEOUT_MS;
  while (await listening(METADATA_ADDRESS, PORT)) {
    if (Date.now() > deadline) {
      throw new UserError(
        `the proxy on ${PROXY_WHERE} answered GET /stop but still listens after ${TIMEOUT_MS / 1000} s`,
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

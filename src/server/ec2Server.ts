import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { UserError } from '../errors.ts';
import { rfc3339 } from '../credentials/rfc3339.ts';
import type { Credentials } from '../credentials/types.ts';
import { CredentialCache } from './credentialCache.ts';
import {
  closeServer,
  createCredentialServer,
  credentialFields,
  hostAllowed,
  hostHeader,
  isLoopbackHost,
  listen,
  pathOf,
  publicMessage,
  send,
} from './http.ts';
import { METADATA_ADDRESS, startPrivilegedProxy } from './privilegedProxy.ts';
import type { Ec2ServerOptions, RunningServer } from './types.ts';

/** The role name the metadata service reports, as in the Go aws-vault. */
export const ROLE_NAME = 'local-credentials';
const CREDS_LIST = '/latest/meta-data/iam/security-credentials/';
const CREDS_PATH = `${CREDS_LIST}${ROLE_NAME}`;
const TOKEN_PATH = '/latest/api/token';
const TOKEN_HEADER = 'x-aws-ec2-metadata-token';
const TTL_HEADER = 'x-aws-ec2-metadata-token-ttl-seconds';
const MAX_TOKEN_TTL = 21_600;
/** Bounds the IMDSv2 tokens we remember. */
const MAX_TOKENS = 10_000;
const JSON_TYPE = 'application/json';
const TEXT_TYPE = 'text/plain';

/** The instance-metadata credentials document (`.../security-credentials/local-credentials`). */
function renderImdsBody(credentials: Credentials, fetchedAt: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      Code: 'Success',
      LastUpdated: rfc3339(new Date(fetchedAt)),
      Type: 'AWS-HMAC',
      ...credentialFields(credentials, fetchedAt),
    }),
  );
}

/**
 * Parses `--ec2-server-address HOST:PORT` and insists on a loopback host:
 * the EC2 server has no secret of its own for IMDSv1 clients, so it must
 * never be reachable from another machine.
 */
export function parseLoopbackAddress(address: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(address.trim());
  const rawHost = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (rawHost === undefined || !Number.isInteger(port) || port > 65_535) {
    throw new UserError(
      `--ec2-server-address must be HOST:PORT, e.g. 127.0.0.1:9099; got "${address}"`,
    );
  }
  if (!isLoopbackHost(rawHost)) {
    throw new UserError(
      `--ec2-server-address must be a loopback address (127.0.0.1, another 127.x.x.x, ::1 or localhost) ` +
        `so no other machine can read your credentials; got "${address}"`,
    );
  }
  return { host: rawHost === 'localhost' ? '127.0.0.1' : rawHost, port };
}

/**
 * Starts the EC2 instance metadata server (`exec --ec2-server`): IMDSv1 and
 * v2, role `local-credentials`, placement from `region`. With `address` it
 * listens there (loopback only) and the child gets
 * `AWS_EC2_METADATA_SERVICE_ENDPOINT`; without, it listens on a random
 * loopback port and starts the privileged `aws-vault proxy` that serves
 * 169.254.169.254:80, the address every SDK tries by default.
 */
export async function startEc2Server(opts: Ec2ServerOptions): Promise<RunningServer> {
  const { debug } = opts;
  const now = opts.now ?? Date.now;
  const bind = opts.address === undefined ? undefined : parseLoopbackAddress(opts.address);
  const cache = new CredentialCache({
    provider: opts.provider,
    minTtl: opts.minTtl,
    render: renderImdsBody,
    now: opts.now,
  });

  const tokens = new Map<string, number>();
  let allowedHosts: Set<string> = new Set();
  const region = opts.region;

  const reply = (
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    status: number,
    type: string,
    body: Buffer | string,
    extra?: Record<string, string>,
  ) => {
    send(res, status, type, body, extra);
    debug(`ec2 server: ${req.method} ${path} ${status}`);
  };

  const issueToken = (ttlSeconds: number): string => {
    const at = now();
    if (tokens.size >= MAX_TOKENS) {
      for (const [t, expires] of tokens) if (expires <= at) tokens.delete(t);
      if (tokens.size >= MAX_TOKENS) {
        const oldest = tokens.keys().next().value;
        if (oldest !== undefined) tokens.delete(oldest);
      }
    }
    const token = randomBytes(32).toString('base64url');
    tokens.set(token, at + ttlSeconds * 1000);
    return token;
  };

  const server = createCredentialServer((req, res) => {
    const path = pathOf(req);
    if (!hostAllowed(allowedHosts, req.headers.host)) {
      reply(req, res, path, 403, TEXT_TYPE, 'Forbidden: invalid Host header');
      return;
    }
    if (path === TOKEN_PATH) {
      if (req.method !== 'PUT') {
        reply(req, res, path, 405, TEXT_TYPE, 'Method Not Allowed', { Allow: 'PUT' });
        return;
      }
      // As the real IMDS: a token request that went through a proxy is refused (SSRF defence).
      if (req.headers['x-forwarded-for'] !== undefined) {
        reply(req, res, path, 403, TEXT_TYPE, 'Forbidden');
        return;
      }
      const ttl = Number(req.headers[TTL_HEADER]);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TOKEN_TTL) {
        reply(req, res, path, 400, TEXT_TYPE, 'Bad Request: missing or invalid TTL header');
        return;
      }
      reply(req, res, path, 200, TEXT_TYPE, issueToken(ttl), {
        'X-aws-ec2-metadata-token-ttl-seconds': String(ttl),
      });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      reply(req, res, path, 405, TEXT_TYPE, 'Method Not Allowed', { Allow: 'GET' });
      return;
    }
    // IMDSv1 clients send no token; a client that sends one must send a live one.
    const token = req.headers[TOKEN_HEADER];
    if (token !== undefined) {
      const expires = typeof token === 'string' ? tokens.get(token) : undefined;
      if (expires === undefined || expires <= now()) {
        if (expires !== undefined && typeof token === 'string') tokens.delete(token);
        reply(req, res, path, 401, TEXT_TYPE, 'Unauthorized');
        return;
      }
    }
    switch (path) {
      case CREDS_LIST:
      case CREDS_LIST.slice(0, -1):
        reply(req, res, path, 200, TEXT_TYPE, ROLE_NAME);
        return;
      case CREDS_PATH:
      case `${CREDS_PATH}/`: {
        cache.serve(
          (rendered) => reply(req, res, path, 200, JSON_TYPE, rendered),
          (error: unknown) => {
            const message = publicMessage(error);
            debug(`ec2 server: refreshing credentials failed: ${message}`);
            reply(
              req,
              res,
              path,
              500,
              JSON_TYPE,
              JSON.stringify({ Code: 'Failure', Message: message }),
            );
          },
        );
        return;
      }
      case '/latest/meta-data/placement/region':
        if (region !== undefined) reply(req, res, path, 200, TEXT_TYPE, region);
        else reply(req, res, path, 404, TEXT_TYPE, 'Not Found: no region set for this profile');
        return;
      case '/latest/meta-data/placement/availability-zone':
        if (region !== undefined) reply(req, res, path, 200, TEXT_TYPE, `${region}a`);
        else reply(req, res, path, 404, TEXT_TYPE, 'Not Found: no region set for this profile');
        return;
      case '/latest/dynamic/instance-identity/document':
        if (region !== undefined) {
          reply(
            req,
            res,
            path,
            200,
            JSON_TYPE,
            JSON.stringify({ region, availabilityZone: `${region}a` }),
          );
        } else reply(req, res, path, 404, TEXT_TYPE, 'Not Found: no region set for this profile');
        return;
      default:
        reply(req, res, path, 404, TEXT_TYPE, 'Not Found');
    }
  });

  const listenHost = bind?.host ?? '127.0.0.1';
  let port: number;
  try {
    port = await listen(server, listenHost, bind?.port ?? 0);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const where = hostHeader(listenHost, bind?.port ?? 0);
    throw new UserError(
      code === 'EADDRINUSE'
        ? `cannot start the EC2 server on ${where}: the address is already in use; pick another port with --ec2-server-address`
        : `cannot start the EC2 server on ${where}: ${publicMessage(error)}`,
      { cause: error },
    );
  }
  const own = hostHeader(listenHost, port);
  allowedHosts = new Set([own, `localhost:${port}`]);
  if (port === 80) allowedHosts.add(listenHost.includes(':') ? `[${listenHost}]` : listenHost);
  debug(`ec2 server: listening on ${own}`);

  // Credentials come once the address is known to be free (and the proxy
  // runs): a port in use or a sudo that needs a password costs no MFA code.
  const prefetch = async (stop: () => Promise<void>): Promise<void> => {
    if (opts.lazy) return;
    debug('ec2 server: fetching credentials before starting');
    try {
      await cache.get();
    } catch (error) {
      await stop();
      throw error;
    }
  };

  if (bind !== undefined) {
    await prefetch(() => closeServer(server));
    return {
      env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://${own}/` },
      async close() {
        await closeServer(server);
        debug('ec2 server: stopped');
      },
    };
  }

  // Requests forwarded by the proxy keep the Host the client used.
  allowedHosts.add(METADATA_ADDRESS);
  allowedHosts.add(`${METADATA_ADDRESS}:80`);
  let proxy: Awaited<ReturnType<typeof startPrivilegedProxy>>;
  try {
    proxy = await startPrivilegedProxy({
      target: own,
      selfCommand: opts.selfCommand,
      debug,
    });
  } catch (error) {
    await closeServer(server);
    throw error;
  }
  await prefetch(async () => {
    await proxy.stop();
    await closeServer(server);
  });
  return {
    env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://${METADATA_ADDRESS}/` },
    async close() {
      await proxy.stop();
      await closeServer(server);
      debug('ec2 server: stopped');
    },
  };
}

import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Credentials } from '../credentials/types.ts';
import { CredentialCache } from './credentialCache.ts';
import {
  closeServer,
  createCredentialServer,
  credentialFields,
  hostAllowed,
  jsonMessage,
  listen,
  pathOf,
  publicMessage,
  send,
} from './http.ts';
import type { RunningServer, ServerOptions } from './types.ts';

const JSON_TYPE = 'application/json';
const ROLE_PREFIX = '/role-arn/';
/** Bounds the per-role caches a token holder can make us keep. */
const MAX_ROLES = 100;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** A credentials response rendered once: body and headers reused for every request. */
interface Rendered {
  body: Buffer;
  headers: Record<string, string | number>;
}

/** The ECS container-credentials document the SDKs and the AWS CLI read. */
function renderEcsBody(credentials: Credentials, fetchedAt: number): Rendered {
  const body = Buffer.from(JSON.stringify(credentialFields(credentials, fetchedAt)));
  return {
    body,
    headers: {
      'Content-Type': JSON_TYPE,
      'Content-Length': body.length,
      'Cache-Control': 'no-store',
    },
  };
}

/**
 * Starts the ECS credential server (`exec --ecs-server`) on 127.0.0.1 on a
 * random port. Only requests carrying the random token (compared in
 * constant time) and addressed to the server's own loopback Host get
 * credentials. Unless `lazy`, the credentials are fetched before this
 * resolves, so a failure is reported before the child starts.
 */
export async function startEcsServer(opts: ServerOptions): Promise<RunningServer> {
  const { debug } = opts;
  const token = randomBytes(32).toString('base64url');
  const expectedToken = Buffer.from(token);
  const cache = new CredentialCache({
    provider: opts.provider,
    minTtl: opts.minTtl,
    render: renderEcsBody,
    now: opts.now,
  });
  const roleCaches = new Map<string, CredentialCache<Rendered>>();

  if (!opts.lazy) {
    debug('ecs server: fetching credentials before starting');
    await cache.get();
  }

  let allowedHosts: Set<string> = new Set();

  const reply = (
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    status: number,
    body: Buffer | string,
    extra?: Record<string, string>,
  ) => {
    send(res, status, JSON_TYPE, body, extra);
    debug(`ecs server: ${req.method} ${path} ${status}`);
  };

  // The hot path: headers and body were rendered once for these credentials.
  const ok = (req: IncomingMessage, res: ServerResponse, path: string, rendered: Rendered) => {
    res.writeHead(200, rendered.headers);
    res.end(rendered.body);
    debug(`ecs server: ${req.method} ${path} 200`);
  };

  const tokenMatches = (header: string | undefined): boolean => {
    if (header === undefined || header.length !== token.length) return false;
    const given = Buffer.from(header);
    return given.length === expectedToken.length && timingSafeEqual(given, expectedToken);
  };

  const serve = (
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    cacheFor: CredentialCache<Rendered>,
  ) => {
    cacheFor.serve(
      (rendered) => ok(req, res, path, rendered),
      (error: unknown) => {
        debug(`ecs server: refreshing credentials failed: ${publicMessage(error)}`);
        reply(req, res, path, 500, jsonMessage(publicMessage(error)));
      },
    );
  };

  const roleCache = (roleArn: string): CredentialCache<Rendered> => {
    let found = roleCaches.get(roleArn);
    if (found === undefined) {
      if (roleCaches.size >= MAX_ROLES) {
        const oldest = roleCaches.keys().next().value;
        if (oldest !== undefined) roleCaches.delete(oldest);
      }
      found = new CredentialCache({
        provider: () => opts.assumeRole(roleArn),
        minTtl: opts.minTtl,
        render: renderEcsBody,
        now: opts.now,
      });
      roleCaches.set(roleArn, found);
    }
    return found;
  };

  const server = createCredentialServer((req, res) => {
    const path = pathOf(req);
    if (!hostAllowed(allowedHosts, req.headers.host)) {
      reply(req, res, path, 403, jsonMessage('invalid Host header'));
      return;
    }
    const auth = req.headers.authorization;
    if (!tokenMatches(auth)) {
      reply(req, res, path, 403, jsonMessage('invalid Authorization token'));
      return;
    }
    if (req.method !== 'GET') {
      reply(req, res, path, 405, jsonMessage('method not allowed'), { Allow: 'GET' });
      return;
    }
    if (path === '/') {
      serve(req, res, path, cache);
      return;
    }
    if (path.startsWith(ROLE_PREFIX)) {
      let roleArn: string;
      try {
        roleArn = decodeURIComponent(path.slice(ROLE_PREFIX.length));
      } catch {
        roleArn = '';
      }
      if (!ROLE_ARN.test(roleArn)) {
        reply(req, res, path, 400, jsonMessage('not a role ARN after /role-arn/'));
        return;
      }
      serve(req, res, path, roleCache(roleArn));
      return;
    }
    reply(req, res, path, 404, jsonMessage('not found; use / or /role-arn/ARN'));
  });

  const port = await listen(server, '127.0.0.1', 0);
  allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  debug(`ecs server: listening on 127.0.0.1:${port}`);

  return {
    env: {
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:${port}`,
      AWS_CONTAINER_AUTHORIZATION_TOKEN: token,
    },
    async close() {
      await closeServer(server);
      debug('ecs server: stopped');
    },
  };
}

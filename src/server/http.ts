import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Server as NetServer } from 'node:net';
import { rfc3339 } from '../credentials/rfc3339.ts';
import type { Credentials } from '../credentials/types.ts';

/** Credentials without an expiry (long-term keys) are served as valid for this long. */
export const NO_EXPIRY_SERVE_MS = 15 * 60 * 1000;

/** The expiry a server announces for `credentials` fetched at `fetchedAt`. */
export function servedExpiration(credentials: Credentials, fetchedAt: number): Date {
  return credentials.expiration ?? new Date(fetchedAt + NO_EXPIRY_SERVE_MS);
}

/**
 * The credential fields both servers' documents carry, as the SDKs read them
 * (`Token` empty for long-term keys).
 */
export function credentialFields(
  credentials: Credentials,
  fetchedAt: number,
): { AccessKeyId: string; SecretAccessKey: string; Token: string; Expiration: string } {
  return {
    AccessKeyId: credentials.accessKeyId,
    SecretAccessKey: credentials.secretAccessKey,
    Token: credentials.sessionToken ?? '',
    Expiration: rfc3339(servedExpiration(credentials, fetchedAt)),
  };
}

/**
 * An HTTP server for a credential endpoint. Clients such as the SDKs reuse
 * connections: idle ones are kept a while, slow requests are cut off.
 */
export function createCredentialServer(handler: RequestListener): Server {
  const server = createServer(handler);
  server.keepAliveTimeout = 30_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return server;
}

/** Whether a request's Host header names the server as allowed (DNS rebinding defence). */
export function hostAllowed(allowed: ReadonlySet<string>, host: string | undefined): boolean {
  return host !== undefined && (allowed.has(host) || allowed.has(host.toLowerCase()));
}

/** Writes a whole response in one go; keep-alive friendly (always a Content-Length). */
export function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: Buffer | string,
  extraHeaders?: Record<string, string>,
): void {
  const length = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': length,
    'Cache-Control': 'no-store',
    ...extraHeaders,
  });
  res.end(body);
}

/** A JSON error body as the ECS credential endpoint and aws-vault write it. */
export function jsonMessage(message: string): string {
  return JSON.stringify({ Message: message });
}

/**
 * An error as a message a client may see: the first line only, bounded, no
 * stack. Provider errors name profiles and AWS error codes, never secrets.
 */
export function publicMessage(error: unknown): string {
  const raw = error instanceof Error ? error.message : String(error);
  const line = raw.split('\n', 1)[0] ?? '';
  return line.length > 500 ? `${line.slice(0, 500)}...` : line;
}

/** The path part of a request URL (no query string), for routing and logging. */
export function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** Listens and resolves with the bound port; rejects on EADDRINUSE, EACCES and the like. */
export function listen(server: NetServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', onError);
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('server has no TCP address'));
        return;
      }
      resolve(address.port);
    });
  });
}

/** Stops accepting, drops idle keep-alive connections and waits until the port is released. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** `host:port` as it appears in a Host header (IPv6 in brackets). */
export function hostHeader(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Whether `host` is a loopback address (127.0.0.0/8, ::1) or `localhost`. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  const parts = host.split('.');
  return (
    parts.length === 4 &&
    parts[0] === '127' &&
    parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)
  );
}

import { request as httpRequest } from 'node:http';
import type { Credentials } from '../../../src/credentials/types.ts';
import type { ServerOptions } from '../../../src/server/index.ts';

export interface Reply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** One HTTP request with full control of the headers (Host included); a fresh connection each time. */
export function request(
  url: string,
  options: { method?: string; path?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const base = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: base.hostname.replace(/^\[|\]$/g, ''),
        port: base.port,
        method: options.method ?? 'GET',
        path: options.path ?? '/',
        headers: options.headers,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Resolves true when nothing accepts connections on `url` any more. */
export async function refusesConnections(url: string): Promise<boolean> {
  try {
    await request(url);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ECONNREFUSED';
  }
}

/** A controllable clock in milliseconds. */
export function fakeClock(start = Date.UTC(2030, 0, 1)) {
  let t = start;
  return {
    now: () => t,
    advance: (seconds: number) => {
      t += seconds * 1000;
    },
  };
}

let serial = 0;

/**
 * A provider counting its calls: credentials valid for `lifetime` seconds
 * from the clock's now, numbered so a refresh is visible; `failNext` makes
 * the next call throw.
 */
export function countingProvider(now: () => number, lifetime = 3600) {
  const state = {
    calls: 0,
    failNext: false,
    gate: undefined as Promise<void> | undefined,
    provider: async (): Promise<Credentials> => {
      state.calls += 1;
      if (state.gate) await state.gate;
      if (state.failNext) {
        state.failNext = false;
        throw new Error(
          'profile p: sts.GetSessionToken failed: ThrottlingException: Rate exceeded',
        );
      }
      serial += 1;
      return {
        accessKeyId: `ASIATEST${String(serial).padStart(8, '0')}`,
        secretAccessKey: `secret-${serial}-${'s'.repeat(30)}`,
        sessionToken: `token-${serial}-${'t'.repeat(60)}`,
        expiration: new Date(now() + lifetime * 1000),
      };
    },
  };
  return state;
}

/** Server options with a counting provider and assume-role function, collecting debug lines. */
export function serverOptions(overrides: Partial<ServerOptions> = {}) {
  const clock = fakeClock();
  const base = countingProvider(clock.now);
  const roles: string[] = [];
  const debugLines: string[] = [];
  const opts: ServerOptions = {
    provider: base.provider,
    assumeRole: async (roleArn) => {
      roles.push(roleArn);
      const creds = await countingProvider(clock.now).provider();
      return { ...creds, accessKeyId: `ASIAROLE${roles.length}` };
    },
    region: 'eu-west-1',
    minTtl: 300,
    lazy: false,
    debug: (line) => debugLines.push(line),
    now: clock.now,
    ...overrides,
  };
  return { opts, clock, base, roles, debugLines };
}

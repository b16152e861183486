import { afterEach, describe, expect, it } from 'vitest';
import { startEcsServer, type RunningServer } from '../../../src/server/index.ts';
import {
  countingProvider,
  refusesConnections,
  request,
  serverOptions,
  type Reply,
} from './_helpers.ts';

const running: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function start(setup = serverOptions()) {
  const server = await startEcsServer(setup.opts);
  running.push(server);
  const url = server.env.AWS_CONTAINER_CREDENTIALS_FULL_URI ?? '';
  const token = server.env.AWS_CONTAINER_AUTHORIZATION_TOKEN ?? '';
  const port = new URL(url).port;
  const get = (path = '/', headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> =>
    request(url, { path, method, headers: { Authorization: token, ...headers } });
  return { ...setup, server, url, token, port, get };
}

describe('ECS credential server', () => {
  it('listens on 127.0.0.1 with a random token of at least 30 bytes', async () => {
    const { url, token, server } = await start();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(token, 'base64url').length).toBeGreaterThanOrEqual(30);
    expect(Object.keys(server.env).sort()).toEqual([
      'AWS_CONTAINER_AUTHORIZATION_TOKEN',
      'AWS_CONTAINER_CREDENTIALS_FULL_URI',
    ]);
    const other = await start();
    expect(other.token).not.toBe(token);
  });

  it('serves the credentials document with the token', async () => {
    const { get, base } = await start();
    expect(base.calls).toBe(1);
    const reply = await get();
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/json');
    const doc = JSON.parse(reply.body);
    expect(Object.keys(doc)).toEqual(['AccessKeyId', 'SecretAccessKey', 'Token', 'Expiration']);
    expect(doc.AccessKeyId).toMatch(/^ASIATEST/);
    expect(doc.Expiration).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    await get();
    expect(base.calls).toBe(1);
  });

  it('fetches at start unless lazy, and fails fast', async () => {
    const eager = serverOptions();
    eager.base.failNext = true;
    await expect(startEcsServer(eager.opts)).rejects.toThrow(/ThrottlingException/);

    const lazy = serverOptions({ lazy: true });
    const { get } = await start(lazy);
    expect(lazy.base.calls).toBe(0);
    expect((await get()).status).toBe(200);
    expect(lazy.base.calls).toBe(1);
  });

  describe('refuses with 403 JSON', () => {
    it.each([
      ['no token', (_t: string, _p: string) => ({ Authorization: '' })],
      [
        'a wrong token of the same length',
        (t: string) => ({ Authorization: 'x'.repeat(t.length) }),
      ],
      ['a shorter token', (t: string) => ({ Authorization: t.slice(1) })],
      ['a longer token', (t: string) => ({ Authorization: `${t}x` })],
      ['the token in another case', (t: string) => ({ Authorization: t.toUpperCase() })],
      ['a Bearer-prefixed token', (t: string) => ({ Authorization: `Bearer ${t}` })],
      ['a rebinding Host', (_t: string, p: string) => ({ Host: `evil.com:${p}` })],
      [
        'a Host on another port',
        (_t: string, p: string) => ({ Host: `127.0.0.1:${Number(p) + 1}` }),
      ],
      ['a Host without port', () => ({ Host: '127.0.0.1' })],
      ['a LAN Host', (_t: string, p: string) => ({ Host: `192.168.1.10:${p}` })],
    ])('%s', async (_name, headers) => {
      const { get, token, port, base, debugLines } = await start();
      const h: Record<string, string> = headers(token, port);
      const reply =
        h.Authorization === ''
          ? await request(`http://127.0.0.1:${port}`, { headers: {} })
          : await get('/', h);
      expect(reply.status).toBe(403);
      expect(JSON.parse(reply.body)).toEqual({ Message: expect.any(String) });
      expect(reply.body).not.toContain('ASIA');
      expect(reply.body).not.toContain(token);
      expect(base.calls).toBe(1);
      expect(debugLines.join('\n')).not.toContain(token);
    });
  });

  it('accepts Host localhost:PORT', async () => {
    const { get, port } = await start();
    expect((await get('/', { Host: `localhost:${port}` })).status).toBe(200);
  });

  it('allows only GET', async () => {
    const { get } = await start();
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const reply = await get('/', {}, method);
      expect(reply.status).toBe(405);
      expect(reply.headers.allow).toBe('GET');
      expect(JSON.parse(reply.body).Message).toBeTypeOf('string');
    }
  });

  it('assumes a role under /role-arn/ARN, cached per role', async () => {
    const { get, roles } = await start();
    const arn = 'arn:aws:iam::123456789012:role/Deploy';
    const first = await get(`/role-arn/${encodeURIComponent(arn)}`);
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body).AccessKeyId).toMatch(/^ASIAROLE/);
    expect((await get(`/role-arn/${arn}`)).body).toBe(first.body);
    expect(roles).toEqual([arn]);
    const other = 'arn:aws:iam::123456789012:role/path/ReadOnly';
    expect((await get(`/role-arn/${encodeURIComponent(other)}`)).status).toBe(200);
    expect(roles).toEqual([arn, other]);
    expect((await get('/role-arn/not-an-arn')).status).toBe(400);
    expect((await get('/role-arn/%E0%A4%A')).status).toBe(400);
    expect((await get('/elsewhere')).status).toBe(404);
  });

  it('refreshes before less than minTtl is left', async () => {
    const setup = serverOptions({ minTtl: 300 });
    const { get, base, clock } = await start(setup);
    const first = JSON.parse((await get()).body);
    clock.advance(3600 - 301);
    expect(JSON.parse((await get()).body).AccessKeyId).toBe(first.AccessKeyId);
    expect(base.calls).toBe(1);
    clock.advance(2);
    const second = JSON.parse((await get()).body);
    expect(second.AccessKeyId).not.toBe(first.AccessKeyId);
    expect(Date.parse(second.Expiration) - clock.now()).toBeGreaterThan(300_000);
    expect(base.calls).toBe(2);
  });

  it('shares one refresh between concurrent requests', async () => {
    const setup = serverOptions({ lazy: true });
    let open!: () => void;
    setup.base.gate = new Promise((resolve) => (open = resolve));
    const { get, base } = await start(setup);
    const replies = Array.from({ length: 25 }, () => get());
    await new Promise((resolve) => setTimeout(resolve, 100));
    open();
    const done = await Promise.all(replies);
    expect(done.map((r) => r.status)).toEqual(Array(25).fill(200));
    expect(new Set(done.map((r) => r.body)).size).toBe(1);
    expect(base.calls).toBe(1);
  });

  it('answers 500 JSON on a provider error and retries on the next request', async () => {
    const setup = serverOptions({ lazy: true });
    setup.base.failNext = true;
    const { get, base, debugLines } = await start(setup);
    const failed = await get();
    expect(failed.status).toBe(500);
    const doc = JSON.parse(failed.body);
    expect(Object.keys(doc)).toEqual(['Message']);
    expect(doc.Message).toContain('ThrottlingException');
    expect(doc.Message).not.toMatch(/\n|\bat /);
    expect((await get()).status).toBe(200);
    expect(base.calls).toBe(2);
    expect(debugLines.some((l) => l.includes('GET / 500'))).toBe(true);
  });

  it('logs method, path and status, never a credential or the token', async () => {
    const { get, token, debugLines } = await start();
    const doc = JSON.parse((await get()).body);
    await get('/', { Authorization: 'nope' });
    const log = debugLines.join('\n');
    expect(log).toContain('GET / 200');
    expect(log).toContain('GET / 403');
    for (const secret of [token, doc.AccessKeyId, doc.SecretAccessKey, doc.Token]) {
      expect(log).not.toContain(secret);
    }
  });

  it('stops accepting connections once closed', async () => {
    const { server, url, get } = await start();
    expect((await get()).status).toBe(200);
    await server.close();
    expect(await refusesConnections(url)).toBe(true);
  });

  it('serves long-term keys with an announced expiry and an empty token', async () => {
    const setup = serverOptions({
      provider: async () => ({ accessKeyId: 'AKIALONGTERM', secretAccessKey: 'x'.repeat(40) }),
    });
    const { get, clock } = await start(setup);
    const doc = JSON.parse((await get()).body);
    expect(doc.Token).toBe('');
    expect(Date.parse(doc.Expiration)).toBeGreaterThan(clock.now());
  });

  it('never calls the provider more than once a second for short-lived credentials', async () => {
    const setup = serverOptions({ minTtl: 300 });
    const short = countingProvider(setup.clock.now, 60);
    setup.opts.provider = short.provider;
    const { get } = await start(setup);
    await get();
    await get();
    expect(short.calls).toBe(1);
    setup.clock.advance(1.5);
    await get();
    expect(short.calls).toBe(2);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.ts';
import {
  parseLoopbackAddress,
  startEc2Server,
  type RunningServer,
} from '../../../src/server/index.ts';
import { refusesConnections, request, serverOptions, type Reply } from './_helpers.ts';

const CREDS = '/latest/meta-data/iam/security-credentials/';
const running: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function start(setup = serverOptions(), address = '127.0.0.1:0') {
  const server = await startEc2Server({ ...setup.opts, address });
  running.push(server);
  const url = server.env.AWS_EC2_METADATA_SERVICE_ENDPOINT ?? '';
  const port = new URL(url).port;
  const call = (
    path: string,
    headers: Record<string, string> = {},
    method = 'GET',
  ): Promise<Reply> => request(url, { path, method, headers });
  const newToken = async (ttl = '21600') =>
    (await call('/latest/api/token', { 'X-aws-ec2-metadata-token-ttl-seconds': ttl }, 'PUT')).body;
  return { ...setup, server, url, port, call, newToken };
}

describe('parseLoopbackAddress', () => {
  it('accepts loopback HOST:PORT', () => {
    expect(parseLoopbackAddress('127.0.0.1:9099')).toEqual({ host: '127.0.0.1', port: 9099 });
    expect(parseLoopbackAddress('127.1.2.3:80')).toEqual({ host: '127.1.2.3', port: 80 });
    expect(parseLoopbackAddress('localhost:9099')).toEqual({ host: '127.0.0.1', port: 9099 });
    expect(parseLoopbackAddress('[::1]:9099')).toEqual({ host: '::1', port: 9099 });
  });
  it.each(['0.0.0.0:9099', '10.0.0.5:9099', '169.254.169.254:80', 'example.com:80', '[::]:80'])(
    'refuses the non-loopback %s',
    (address) => {
      expect(() => parseLoopbackAddress(address)).toThrow(/must be a loopback address/);
    },
  );
  it.each(['127.0.0.1', '127.0.0.1:', ':9099', '127.0.0.1:99999', '127.0.0.1:http'])(
    'refuses the malformed %s',
    (address) => {
      expect(() => parseLoopbackAddress(address)).toThrow(UserError);
    },
  );
});

describe('EC2 metadata server', () => {
  it('gives the child AWS_EC2_METADATA_SERVICE_ENDPOINT for the bound address', async () => {
    const { server } = await start();
    expect(Object.keys(server.env)).toEqual(['AWS_EC2_METADATA_SERVICE_ENDPOINT']);
    expect(server.env.AWS_EC2_METADATA_SERVICE_ENDPOINT).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('serves IMDSv1: the role name and the credentials document', async () => {
    const { call, base } = await start();
    const list = await call(CREDS);
    expect(list.status).toBe(200);
    expect(list.body).toBe('local-credentials');
    const reply = await call(`${CREDS}local-credentials`);
    expect(reply.status).toBe(200);
    const doc = JSON.parse(reply.body);
    expect(Object.keys(doc)).toEqual([
      'Code',
      'LastUpdated',
      'Type',
      'AccessKeyId',
      'SecretAccessKey',
      'Token',
      'Expiration',
    ]);
    expect(doc.Code).toBe('Success');
    expect(doc.Type).toBe('AWS-HMAC');
    expect(doc.Expiration).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(base.calls).toBe(1);
  });

  it('serves IMDSv2 tokens and refuses invalid or expired ones', async () => {
    const { call, newToken, clock } = await start();
    const token = await newToken('60');
    expect(token.length).toBeGreaterThanOrEqual(40);
    expect((await call(CREDS, { 'X-aws-ec2-metadata-token': token })).status).toBe(200);
    expect((await call(CREDS, { 'X-aws-ec2-metadata-token': 'forged' })).status).toBe(401);
    expect((await call(CREDS, { 'X-aws-ec2-metadata-token': '' })).status).toBe(401);
    clock.advance(61);
    expect((await call(CREDS, { 'X-aws-ec2-metadata-token': token })).status).toBe(401);
    const fresh = await newToken();
    expect(fresh).not.toBe(token);
    expect((await call(CREDS, { 'x-aws-ec2-metadata-token': fresh })).status).toBe(200);
  });

  it('checks the token request', async () => {
    const { call } = await start();
    const put = (headers: Record<string, string>) => call('/latest/api/token', headers, 'PUT');
    expect((await put({})).status).toBe(400);
    expect((await put({ 'X-aws-ec2-metadata-token-ttl-seconds': '0' })).status).toBe(400);
    expect((await put({ 'X-aws-ec2-metadata-token-ttl-seconds': '21601' })).status).toBe(400);
    expect((await put({ 'X-aws-ec2-metadata-token-ttl-seconds': 'abc' })).status).toBe(400);
    const ok = await put({ 'X-aws-ec2-metadata-token-ttl-seconds': '21600' });
    expect(ok.status).toBe(200);
    expect(ok.headers['x-aws-ec2-metadata-token-ttl-seconds']).toBe('21600');
    const proxied = await put({
      'X-aws-ec2-metadata-token-ttl-seconds': '60',
      'X-Forwarded-For': '10.0.0.1',
    });
    expect(proxied.status).toBe(403);
    expect((await call('/latest/api/token')).status).toBe(405);
    expect((await call(`${CREDS}local-credentials`, {}, 'POST')).status).toBe(405);
  });

  it.each([
    ['a rebinding Host', (p: string) => `evil.com:${p}`],
    ['a Host on another port', (p: string) => `127.0.0.1:${Number(p) + 1}`],
    ['the metadata address (not behind the proxy)', () => '169.254.169.254'],
  ])('refuses %s with 403', async (_name, host) => {
    const { call, port } = await start();
    const reply = await call(`${CREDS}local-credentials`, { Host: host(port) });
    expect(reply.status).toBe(403);
    expect(reply.body).not.toContain('ASIA');
  });

  it('answers the placement and identity document from the region', async () => {
    const { call } = await start();
    expect((await call('/latest/meta-data/placement/region')).body).toBe('eu-west-1');
    expect((await call('/latest/meta-data/placement/availability-zone')).body).toBe('eu-west-1a');
    const doc = JSON.parse((await call('/latest/dynamic/instance-identity/document')).body);
    expect(doc).toEqual({ region: 'eu-west-1', availabilityZone: 'eu-west-1a' });
    expect((await call('/latest/meta-data/nothing-here')).status).toBe(404);

    const noRegion = await start(serverOptions({ region: undefined }));
    expect((await noRegion.call('/latest/meta-data/placement/region')).status).toBe(404);
  });

  it('refreshes before minTtl, shares failures as 500 and retries', async () => {
    const setup = serverOptions({ lazy: true, minTtl: 300 });
    setup.base.failNext = true;
    const { call, base, clock, debugLines } = await start(setup);
    const failed = await call(`${CREDS}local-credentials`);
    expect(failed.status).toBe(500);
    expect(JSON.parse(failed.body).Code).toBe('Failure');
    const first = JSON.parse((await call(`${CREDS}local-credentials`)).body);
    clock.advance(3600 - 299);
    const second = JSON.parse((await call(`${CREDS}local-credentials`)).body);
    expect(second.AccessKeyId).not.toBe(first.AccessKeyId);
    expect(base.calls).toBe(3);
    const log = debugLines.join('\n');
    expect(log).toContain(`GET ${CREDS}local-credentials 200`);
    expect(log).not.toContain(first.SecretAccessKey);
    expect(log).not.toContain(second.Token);
  });

  it('reports an address in use clearly, before fetching credentials (no MFA code spent)', async () => {
    const { port } = await start();
    const second = serverOptions();
    await expect(start(second, `127.0.0.1:${port}`)).rejects.toThrow(
      /already in use.*--ec2-server-address/,
    );
    expect(second.base.calls).toBe(0);
  });

  it('stops accepting connections once closed', async () => {
    const { server, url } = await start();
    await server.close();
    expect(await refusesConnections(url)).toBe(true);
  });

  it('explains why the privileged proxy cannot start and leaves no port open', async () => {
    const setup = serverOptions();
    const lines = setup.debugLines;
    const failing = [
      process.execPath,
      '-e',
      'process.stderr.write("aws-vault: error: proxy: cannot add 169.254.169.254 to the loopback interface: Operation not permitted\\n"); process.exit(1)',
      '--',
    ];
    await expect(startEc2Server({ ...setup.opts, selfCommand: failing })).rejects.toThrow(
      /needs root.*Operation not permitted.*--ec2-server-address 127\.0\.0\.1:9099.*--ecs-server/,
    );
    const listening = lines.find((l) => l.includes('listening on'));
    const port = /:(\d+)$/.exec(listening ?? '')?.[1];
    expect(port).toBeDefined();
    expect(await refusesConnections(`http://127.0.0.1:${port}`)).toBe(true);
  });
});

// Runs inside a fresh network namespace (`unshare -n`), as root: starts the EC2
// server in its 169.254.169.254:80 mode, which launches the built CLI's
// privileged `proxy`, fetches credentials the way an SDK on EC2 would, then
// stops it. Prints one JSON line of observations. Mode "hold" instead prints
// "up" and waits to be killed, so the caller can check the cleanup after a
// SIGKILL.
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { fromInstanceMetadata } from '@aws-sdk/credential-providers';
import { startEc2Server } from '../../src/server/index.ts';

const [bin, mode] = process.argv.slice(2);
const sh = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' }).stdout;
const aliased = () => sh('ip', ['-o', 'addr', 'show', 'dev', 'lo']).includes(' 169.254.169.254/');

function get(path: string, host = '169.254.169.254'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '169.254.169.254',
        port: 80,
        path,
        headers: { Host: host },
        agent: false,
        timeout: 2000,
      },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

if (mode !== 'nonroot') spawnSync('ip', ['link', 'set', 'lo', 'up']);
const debug: string[] = [];
let calls = 0;
const starting = startEc2Server({
  provider: async () => {
    calls += 1;
    return {
      accessKeyId: 'ASIANETNS0000001',
      secretAccessKey: 'netns-secret-'.padEnd(40, 'x'),
      sessionToken: 'netns-token-'.padEnd(80, 'y'),
      expiration: new Date(Date.now() + 3600_000),
    };
  },
  assumeRole: () => Promise.reject(new Error('unused')),
  region: 'us-east-2',
  minTtl: 300,
  lazy: false,
  debug: (line) => debug.push(line),
  selfCommand: [process.execPath, bin ?? 'bin/aws-vault.js'],
});
if (mode === 'nonroot') {
  // Run as an unprivileged user: starting must fail with a clear message.
  const error = await starting.then(
    () => 'started',
    (e: Error) => `${e.name}: ${e.message}`,
  );
  process.stdout.write(`${JSON.stringify({ error, aliased: aliased() })}\n`);
  process.exit(0);
}
const server = await starting;

if (mode === 'hold') {
  process.stdout.write(`up ${aliased()}\n`);
  setInterval(() => {}, 1000);
} else {
  const aliasWhileRunning = aliased();
  const creds = await fromInstanceMetadata({ timeout: 2000, maxRetries: 0 })();
  const region = await get('/latest/meta-data/placement/region');
  const rebinding = await get('/latest/meta-data/iam/security-credentials/', 'evil.com');
  await server.close();
  let afterClose = 'connected';
  try {
    await get('/latest/meta-data/iam/security-credentials/');
  } catch (error) {
    afterClose = (error as NodeJS.ErrnoException).code ?? String(error);
  }
  process.stdout.write(
    `${JSON.stringify({
      env: server.env,
      aliasWhileRunning,
      accessKeyId: creds.accessKeyId,
      region: region.body,
      rebindingStatus: rebinding.status,
      calls,
      aliasAfterClose: aliased(),
      afterClose,
      debug,
    })}\n`,
  );
}

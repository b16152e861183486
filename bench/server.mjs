// Load test of the ECS credential server as users run it: the built
// aws-vault runs `exec --ecs-server p -- node CLIENT` against the local test
// endpoint (test/fakes), with the key in a `file` vault in a temporary HOME,
// and its command, a second Node process, hammers the server over
// keep-alive connections with the token it was given, a bounded number of
// requests at a fixed concurrency, and reports its measurements. The
// endpoint counts the STS calls behind them all.
// Used by bench/run.mjs; also runnable alone: `node bench/server.mjs`.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startFakeAws } from '../test/fakes/fakeAws.ts';
import { benchHome } from './home.mjs';

const BIN = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'bin', 'aws-vault.js');

// The load generator, run by aws-vault as `node --input-type=module -e CLIENT`.
// The URL and token come in the environment aws-vault gives it, never in argv.
const CLIENT = `
import http from 'node:http';
const url = new URL(process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI);
const token = process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN;
const total = Number(process.env.BENCH_REQUESTS);
const concurrency = Number(process.env.BENCH_CONCURRENCY);
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const latencies = new Float64Array(total);
let issued = 0, done = 0, errors = 0;
const options = { host: url.hostname, port: url.port, path: '/', agent, headers: { Authorization: token } };
function one() {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const req = http.get(options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        if (res.statusCode !== 200 || !body.includes('"AccessKeyId"')) errors++;
        latencies[done++] = Number(process.hrtime.bigint() - start) / 1e6;
        resolve();
      });
    });
    req.on('error', () => { errors++; latencies[done++] = Number(process.hrtime.bigint() - start) / 1e6; resolve(); });
  });
}
async function worker() {
  while (issued < total) { issued++; await one(); }
}
// Warm the connections first, outside the measurement.
await Promise.all(Array.from({ length: concurrency }, one));
done = 0; errors = 0;
const t0 = process.hrtime.bigint();
await Promise.all(Array.from({ length: concurrency }, worker));
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const sorted = Array.from(latencies.subarray(0, done)).sort((a, b) => a - b);
const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
agent.destroy();
process.stdout.write(JSON.stringify({ requests: done, seconds, rps: done / seconds, p50ms: pct(50), p99ms: pct(99), errors }));
`;

/** Runs `aws-vault ARGS` with `env`; resolves to its exit code and output. */
function vault(args, env, timeoutMs = 30_000) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/**
 * Runs the ECS server load test and returns its numbers: requests per
 * second, p50/p99 latency in ms, errors and the STS calls the local
 * endpoint saw. Throws unless there were no errors and one STS call (the
 * GetSessionToken when the server starts; every request is then served
 * from aws-vault's memory).
 */
export async function benchEcsServer({
  requests = 20_000,
  concurrency = 50,
  log = (line) => console.log(line),
} = {}) {
  const fake = await startFakeAws();
  const { home, fileEnv: env } = benchHome('aws-vault-bench-server-', fake.url);
  try {
    const user = fake.createUser('bench');
    const add = await vault(['add', '--env', 'p'], {
      ...env,
      AWS_ACCESS_KEY_ID: user.accessKeyId,
      AWS_SECRET_ACCESS_KEY: user.secretAccessKey,
    });
    if (add.code !== 0) throw new Error(`add failed: ${add.stderr.trim()}`);
    const stsCount = () => fake.calls.filter((call) => call.service === 'sts').length;
    const stsBefore = stsCount();
    const run = await vault(
      ['exec', '--ecs-server', 'p', '--', process.execPath, '--input-type=module', '-e', CLIENT],
      {
        ...env,
        BENCH_REQUESTS: String(requests),
        BENCH_CONCURRENCY: String(concurrency),
      },
      120_000,
    );
    if (run.code !== 0) {
      throw new Error(`exec --ecs-server exited with code ${run.code}: ${run.stderr.trim()}`);
    }
    const stsCalls = stsCount() - stsBefore;
    const result = { ...JSON.parse(run.stdout), concurrency, stsCalls };
    log(
      `ecs server (exec --ecs-server, file backend): ${result.requests} requests at concurrency ${concurrency}: ` +
        `${Math.round(result.rps)} req/s, p50 ${result.p50ms.toFixed(2)} ms, ` +
        `p99 ${result.p99ms.toFixed(2)} ms, errors ${result.errors}, STS calls ${stsCalls}` +
        ` (target >= 5000 req/s, 0 errors, 1 call)`,
    );
    if (result.errors !== 0 || stsCalls !== 1) {
      throw new Error(
        `the ECS server bench expected 0 errors and 1 STS call, got ${result.errors} and ${stsCalls}`,
      );
    }
    return result;
  } finally {
    await fake.close();
    rmSync(home, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await benchEcsServer();

// Load test of the ECS credential server (`exec --ecs-server`): the server runs
// in this process with a static provider that counts its calls; a second Node
// process hammers it over keep-alive connections with the token, a bounded
// number of requests at a fixed concurrency, and reports its measurements.
// Used by bench/run.mjs; also runnable alone: `node bench/server.mjs`.
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { startEcsServer } from '../src/server/index.ts';

// The load generator, run as `node --input-type=module -e CLIENT`. The URL and
// token come in the environment, never in argv.
const CLIENT = `
import http from 'node:http';
const url = new URL(process.env.BENCH_URL);
const token = process.env.BENCH_TOKEN;
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
      if (res.statusCode !== 200) errors++;
      res.on('data', () => {});
      res.on('end', () => { latencies[done++] = Number(process.hrtime.bigint() - start) / 1e6; resolve(); });
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

/**
 * Runs the ECS server load test and returns its numbers: requests per
 * second, p50/p99 latency in ms, errors (must be 0) and provider calls
 * (must be 1: every request is served from the in-memory cache).
 */
export async function benchEcsServer({
  requests = 20_000,
  concurrency = 50,
  log = (line) => console.log(line),
} = {}) {
  let providerCalls = 0;
  const server = await startEcsServer({
    provider: async () => {
      providerCalls += 1;
      return {
        accessKeyId: 'ASIABENCH000000000001',
        secretAccessKey: 'bench-secret-'.padEnd(40, 'x'),
        sessionToken: 'bench-token-'.padEnd(400, 'y'),
        expiration: new Date(Date.now() + 3600_000),
      };
    },
    assumeRole: () => Promise.reject(new Error('not used')),
    minTtl: 300,
    lazy: false,
    debug: () => {},
  });
  try {
    const output = await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', CLIENT], {
        env: {
          ...process.env,
          BENCH_URL: server.env.AWS_CONTAINER_CREDENTIALS_FULL_URI,
          BENCH_TOKEN: server.env.AWS_CONTAINER_AUTHORIZATION_TOKEN,
          BENCH_REQUESTS: String(requests),
          BENCH_CONCURRENCY: String(concurrency),
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (c) => (out += c));
      const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(out);
        else reject(new Error(`load generator exited with code ${code}`));
      });
    });
    const result = { ...JSON.parse(output), concurrency, providerCalls };
    log(
      `ecs server: ${result.requests} requests at concurrency ${concurrency}: ` +
        `${Math.round(result.rps)} req/s, p50 ${result.p50ms.toFixed(2)} ms, ` +
        `p99 ${result.p99ms.toFixed(2)} ms, errors ${result.errors}, provider calls ${providerCalls}` +
        ` (target >= 5000 req/s, 0 errors, 1 call)`,
    );
    return result;
  } finally {
    await server.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await benchEcsServer();
  if (result.errors !== 0 || result.providerCalls !== 1) process.exitCode = 1;
}

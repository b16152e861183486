// Start-up benchmark of the cached path: `aws-vault exec p -- true` and
// `aws-vault export --format=json p` with a session already in the vault,
// against `node -e 0` on the same Node, for the `file` backend and for the
// Secret Service (the default on Linux desktops) on a private gnome-keyring;
// and the cold path of export (one STS call to the local endpoint, the
// session cleared before each run; file backend). Beside them, each
// backend's floor (bench/floor-*.cjs): a script that only does what any
// cached run there must do in Node, so the distance to 1.3x shows what is
// aws-vault's own.
// Used by bench/run.mjs; also runnable alone: `node bench/exec.mjs`.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  inPrivateSession,
  missingSecretServiceTools,
  runInPrivateSession,
  startGnomeKeyring,
} from '../scripts/secretService.mjs';
import { startFakeAws } from '../test/fakes/fakeAws.ts';
import { benchHome } from './home.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'aws-vault.js');
/** What bench/floor-BACKEND.cjs does: the least a cached run there must. */
const FLOOR_LABELS = {
  file: 'node:crypto + 1 file decrypt',
  'secret-service': 'pipe handle + 1 bus reply',
};

/** Runs a command to completion; resolves to [wall ms, exit code, stderr]. */
function timed(file, args, env) {
  return new Promise((resolvePromise, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(file, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) =>
      resolvePromise([Number(process.hrtime.bigint() - start) / 1e6, code, stderr]),
    );
  });
}

/**
 * Times each case `runs` times after `warmup` rounds, interleaved (one run of
 * every case per round), so a machine whose load changes during the bench
 * skews every case alike and the ratios stay meaningful.
 */
async function measureInterleaved(cases, runs, warmup) {
  const times = cases.map(() => []);
  for (let round = 0; round < warmup + runs; round++) {
    for (const [index, c] of cases.entries()) {
      if (c.before) await c.before();
      const [ms, code, stderr] = await timed(c.file, c.args, c.env);
      if (code !== 0) throw new Error(`${c.label}: exit code ${code}: ${stderr.trim()}`);
      if (round >= warmup) times[index].push(ms);
    }
  }
  return cases.map((c, index) => {
    const sorted = times[index].sort((a, b) => a - b);
    return {
      label: c.label,
      runs,
      median: sorted[Math.floor(sorted.length / 2)],
      min: sorted[0],
      p90: sorted[Math.floor(sorted.length * 0.9)],
    };
  });
}

/**
 * The Secret Service the bench measures. Outside a private D-Bus session and
 * with its tools on PATH, re-runs `script` (with this process's arguments)
 * inside one and exits with its code: the call never returns there. Inside,
 * starts a private gnome-keyring and resolves to `{ env, stop }`. Without the
 * tools, or when the daemon does not come up, resolves to `{ skipped: why }`
 * so the bench still measures the file backend.
 */
export async function benchSecretService(script) {
  if (!inPrivateSession()) {
    const missing = missingSecretServiceTools();
    if (missing.length > 0) {
      return {
        skipped: `${missing.join(', ')} not found (apt-get install gnome-keyring dbus dbus-x11)`,
      };
    }
    process.exit(
      await runInPrivateSession(script, process.argv.slice(2), 'aws-vault-bench-keyring-'),
    );
  }
  try {
    return await startGnomeKeyring();
  } catch (error) {
    return { skipped: error.message.replace(/\s+/g, ' ').trim() };
  }
}

/**
 * Measures the cached path for each backend (file, and secret-service when
 * `secretService.env` is given) and the cold path (file), interleaved with
 * `node -e 0` in the same rounds; returns the medians (ms) and the ratios of
 * cached exec to `node -e 0` (target <= 1.3).
 */
export async function benchExec({
  runs = 30,
  coldRuns = 10,
  secretService = { skipped: 'no Secret Service was started (see benchSecretService)' },
  log = (line) => console.log(line),
} = {}) {
  const fake = await startFakeAws();
  const { home, env, fileEnv } = benchHome('aws-vault-bench-', fake.url);
  try {
    const backends = [{ name: 'file', env: fileEnv }];
    if (secretService.env) {
      backends.push({
        name: 'secret-service',
        env: {
          ...env,
          AWS_VAULT_BACKEND: 'secret-service',
          DBUS_SESSION_BUS_ADDRESS: secretService.env.DBUS_SESSION_BUS_ADDRESS,
        },
      });
    }
    const user = fake.createUser('bench');
    const vault = (backend, ...args) => timed(process.execPath, [BIN, ...args], backend.env);
    for (const backend of backends) {
      const add = await timed(process.execPath, [BIN, 'add', '--env', 'p'], {
        ...backend.env,
        AWS_ACCESS_KEY_ID: user.accessKeyId,
        AWS_SECRET_ACCESS_KEY: user.secretAccessKey,
      });
      if (add[1] !== 0) throw new Error(`${backend.name}: add failed: ${add[2]}`);
      const first = await vault(backend, 'exec', 'p', '--', 'true'); // caches the session
      if (first[1] !== 0) throw new Error(`${backend.name}: first exec failed: ${first[2]}`);
    }

    const cachedCases = backends.flatMap((backend) => [
      {
        label: `exec p -- true (cached, ${backend.name})`,
        file: process.execPath,
        args: [BIN, 'exec', 'p', '--', 'true'],
        env: backend.env,
      },
      {
        label: `export --format=json (cached, ${backend.name})`,
        file: process.execPath,
        args: [BIN, 'export', '--format=json', 'p'],
        env: backend.env,
      },
      // What any cached run on this backend must do in Node (bench/floor-*.cjs).
      {
        label: `floor: ${FLOOR_LABELS[backend.name]}`,
        file: process.execPath,
        args: [join(ROOT, 'bench', `floor-${backend.name}.cjs`)],
        env: backend.env,
      },
    ]);
    const stsAfterSetup = fake.count('GetSessionToken');
    const [node, ...cached] = await measureInterleaved(
      [{ label: 'node -e 0', file: process.execPath, args: ['-e', '0'], env }, ...cachedCases],
      runs,
      3,
    );
    // A cached run that reached STS would measure the wrong path.
    const stsBefore = fake.count('GetSessionToken');
    if (stsBefore !== stsAfterSetup) {
      throw new Error(`the cached runs made ${stsBefore - stsAfterSetup} STS calls (expected 0)`);
    }
    const file = backends[0];
    const [exportCold] = await measureInterleaved(
      [
        {
          label: 'export --format=json (cold, file, 1 STS call)',
          file: process.execPath,
          args: [BIN, 'export', '--format=json', 'p'],
          env: file.env,
          before: async () => {
            const cleared = await vault(file, 'clear', 'p');
            if (cleared[1] !== 0) throw new Error(`clear failed: ${cleared[2]}`);
          },
        },
      ],
      coldRuns,
      1,
    );
    const stsCalls = fake.count('GetSessionToken') - stsBefore;
    const results = backends.map((backend, index) => {
      const [exec, exportCached, floor] = cached.slice(3 * index, 3 * index + 3);
      return {
        backend: backend.name,
        exec,
        exportCached,
        floor,
        ratio: exec.median / node.median,
        minRatio: exec.min / node.min,
        floorRatio: floor.median / node.median,
      };
    });
    const each = (key) => results.map((r) => `${r.backend} ${r[key].toFixed(2)}`).join(', ');
    log(
      `startup (Node ${process.version}, median of ${runs} interleaved runs after warm-up, load ${loadavg()[0].toFixed(1)}):`,
    );
    for (const r of [node, ...cached, exportCold]) {
      log(
        `  ${r.label.padEnd(46)} median ${r.median.toFixed(1).padStart(7)} ms` +
          `  (min ${r.min.toFixed(1)}, p90 ${r.p90.toFixed(1)}, n=${r.runs})`,
      );
    }
    log(`  ratio exec cached / node -e 0: ${each('ratio')} (target <= 1.3)`);
    // On a shared, busy machine the minimum is the least disturbed run of each.
    log(`  ratio of the minimums (least load-sensitive): ${each('minRatio')}`);
    log(`  ratio floor / node -e 0 (no aws-vault code at all): ${each('floorRatio')}`);
    if (secretService.skipped) {
      log(`  secret-service: NOT measured: ${secretService.skipped}`);
    }
    log(
      `  STS GetSessionToken calls on the cold runs: ${stsCalls} for ${coldRuns + 1} runs (1 per run)`,
    );
    return {
      node,
      exec: results[0].exec,
      exportCached: results[0].exportCached,
      exportCold,
      ratio: results[0].ratio,
      backends: results,
      secretServiceSkipped: secretService.skipped,
      stsCalls,
    };
  } finally {
    await fake.close();
    rmSync(home, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // `node bench/exec.mjs [ROUNDS]`: more rounds steady the medians on a busy machine.
  const runs = Number(process.argv[2] ?? 30);
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`bench/exec.mjs: bad ROUNDS ${process.argv[2]}`);
  const secretService = await benchSecretService(fileURLToPath(import.meta.url));
  try {
    await benchExec({ secretService, runs });
  } finally {
    await secretService.stop?.();
  }
}

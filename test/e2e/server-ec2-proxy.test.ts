// The root path of `exec --ec2-server`: the built CLI's privileged `proxy`
// aliasing 169.254.169.254 on loopback and serving port 80. Run inside a
// fresh network namespace (`unshare -n`) so the machine's own loopback is
// never touched; skipped when not root or namespaces are unavailable.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const bin = process.env.TEST_PROXY_BIN ?? join(root, 'bin/aws-vault.js');
const child = join(root, 'test/e2e/server-netns-child.ts');
const canUnshare = process.getuid?.() === 0 && spawnSync('unshare', ['-n', 'true']).status === 0;

describe.skipIf(!canUnshare)('EC2 server on 169.254.169.254:80 (network namespace)', () => {
  it('serves the SDK through the privileged proxy and leaves no alias or port behind', () => {
    const run = spawnSync('unshare', ['-n', process.execPath, child, bin], {
      cwd: root,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.stderr).toBe('');
    const result = JSON.parse(run.stdout);
    expect(result.env).toEqual({ AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://169.254.169.254/' });
    expect(result.aliasWhileRunning).toBe(true);
    expect(result.accessKeyId).toBe('ASIANETNS0000001');
    expect(result.region).toBe('us-east-2');
    expect(result.rebindingStatus).toBe(403);
    expect(result.calls).toBe(1);
    expect(result.aliasAfterClose).toBe(false);
    expect(result.afterClose).not.toBe('connected');
    const log = result.debug.join('\n');
    expect(log).toContain('privileged proxy stopped');
    expect(log).not.toContain('netns-secret');
    expect(log).not.toContain('netns-token');
  });

  it('cleans up when aws-vault is killed with SIGKILL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'awsvault-netns-'));
    try {
      const out = join(dir, 'out');
      const script = `
        "$NODE" "$CHILD" "$BIN" hold > "$OUT" &
        pid=$!
        i=0; until grep -q '^up' "$OUT" 2>/dev/null || [ $i -ge 150 ]; do sleep 0.1; i=$((i+1)); done
        echo "started: $(cat "$OUT")"
        kill -9 $pid
        i=0; while pgrep -f "parent-pid $pid" >/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
        if pgrep -f "parent-pid $pid" >/dev/null; then echo proxy=alive; else echo proxy=gone; fi
        ip -o addr show dev lo
      `;
      const run = spawnSync('unshare', ['-n', 'sh', '-c', script], {
        cwd: root,
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, NODE: process.execPath, CHILD: child, BIN: bin, OUT: out },
      });
      expect(run.stdout).toContain('started: up true');
      expect(run.stdout).toContain('proxy=gone');
      expect(run.stdout).toContain('127.0.0.1/8');
      expect(run.stdout).not.toContain('169.254.169.254');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('as an unprivileged user without sudo rights: a clear error, nothing started', async () => {
    // The checkout may sit where user 65534 cannot read (a clone under /root,
    // a 0700 temp folder), so it gets its own readable copy: the child script
    // bundled into one file, and this Node.
    const dir = mkdtempSync(join(tmpdir(), 'awsvault-nonroot-'));
    try {
      chmodSync(dir, 0o755);
      await build({
        entryPoints: [child],
        outfile: join(dir, 'child.mjs'),
        bundle: true,
        format: 'esm',
        platform: 'node',
        target: 'node22',
        logLevel: 'error',
        banner: {
          js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
        },
      });
      copyFileSync(process.execPath, join(dir, 'node'));
      chmodSync(join(dir, 'node'), 0o755);
      const run = spawnSync(
        'setpriv',
        [
          '--reuid=65534',
          '--regid=65534',
          '--clear-groups',
          join(dir, 'node'),
          join(dir, 'child.mjs'),
          bin,
          'nonroot',
        ],
        { cwd: dir, encoding: 'utf8', timeout: 30_000, env: { PATH: '/usr/bin:/bin:/usr/sbin' } },
      );
      expect(run.stderr).toBe('');
      const result = JSON.parse(run.stdout);
      expect(result.error).toMatch(
        /^UserError: the EC2 server needs root to serve 169\.254\.169\.254:80/,
      );
      expect(result.error).toMatch(/you are not root and cannot run sudo/);
      expect(result.error).toContain('--ec2-server-address 127.0.0.1:9099');
      expect(result.aliased).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

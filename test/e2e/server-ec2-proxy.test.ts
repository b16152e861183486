// The root path of `exec --ec2-server`: the built CLI's privileged `proxy`
// aliasing 169.254.169.254 on loopback and serving port 80. Run inside a
// fresh network namespace (`unshare -n`) so the machine's own loopback is
// never touched; skipped when not root or namespaces are unavailable.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const bin = process.env.TEST_PROXY_BIN ?? join(root, 'bin/aws-vault.js');
const child = join(root, 'test/e2e/server-netns-child.ts');
const canUnshare = process.getuid?.() === 0 && spawnSync('unshare', ['-n', 'true']).status === 0;
const canSudo =
  canUnshare && spawnSync('sudo', ['-V']).status === 0 && existsSync('/etc/sudoers.d');

/** The full path of `cmd` on PATH. */
function onPath(cmd: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();
  if (found === '') throw new Error(`${cmd} is not on PATH`);
  return found;
}

/** What user 65534 runs: copies nobody else can write (see unprivilegedCopy). */
interface UnprivilegedCopy {
  dir: string;
  node: string;
  child: string;
  bin: string;
  remove(): void;
}

/**
 * This Node, the child script bundled into one file, and the built CLI
 * (bin/, dist/), copied where user 65534 can read them, which the checkout
 * may not be (a clone under /root, a 0700 temporary folder): a folder under
 * /opt, which only root can write, so a sudoers rule naming these paths
 * (one left behind by a killed run included) can never run what another
 * user put there. Rules whose folder is gone are removed first, and copies
 * an hour old.
 */
async function unprivilegedCopy(): Promise<UnprivilegedCopy> {
  // A killed run's copy (a Node binary, about 100 MB), once surely not in use.
  for (const name of readdirSync('/opt')) {
    const left = join('/opt', name);
    if (name.startsWith('awsvault-sudo-') && statSync(left).mtimeMs < Date.now() - 3_600_000) {
      rmSync(left, { recursive: true, force: true });
    }
  }
  for (const name of readdirSync('/etc/sudoers.d')) {
    const left = /^aws-vault-test-(awsvault-sudo-\w+)$/.exec(name);
    if (left && !existsSync(join('/opt', left[1] ?? ''))) {
      rmSync(join('/etc/sudoers.d', name), { force: true });
    }
  }
  const dir = mkdtempSync('/opt/awsvault-sudo-');
  chmodSync(dir, 0o755);
  const app = join(dir, 'app');
  mkdirSync(app);
  for (const part of ['bin', 'dist', 'package.json']) {
    cpSync(join(root, part), join(app, part), { recursive: true });
  }
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
  return {
    dir,
    node: join(dir, 'node'),
    child: join(dir, 'child.mjs'),
    bin: join(app, 'bin', 'aws-vault.js'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Runs the child script (`mode`) as user 65534 in a new network namespace
 * whose loopback root brought up, with `path` as PATH; its JSON line.
 */
function runAsNobody(
  copy: UnprivilegedCopy,
  mode: string | undefined,
  path = '/usr/bin:/bin:/usr/sbin:/sbin',
) {
  const run = spawnSync(
    'unshare',
    [
      '-n',
      'sh',
      '-c',
      'ip link set lo up && exec setpriv --reuid=65534 --regid=65534 --clear-groups env -i PATH="$CHILD_PATH" "$@"',
      'sh',
      copy.node,
      copy.child,
      copy.bin,
      ...(mode === undefined ? [] : [mode]),
    ],
    {
      cwd: copy.dir,
      encoding: 'utf8',
      timeout: 30_000,
      env: { PATH: '/usr/bin:/bin:/usr/sbin:/sbin', CHILD_PATH: path },
    },
  );
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return JSON.parse(run.stdout);
}

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

  it('as an unprivileged user without sudo: a clear error, nothing started', async () => {
    const copy = await unprivilegedCopy();
    try {
      // A PATH with `ip` and no sudo, as on a machine without it.
      const path = join(copy.dir, 'path');
      mkdirSync(path);
      symlinkSync(onPath('ip'), join(path, 'ip'));
      const result = runAsNobody(copy, 'nonroot', path);
      expect(result.error).toMatch(
        /^UserError: the EC2 server needs root to serve 169\.254\.169\.254:80/,
      );
      expect(result.error).toMatch(/you are not root and cannot run sudo \(not installed\)/);
      expect(result.error).toContain('--ec2-server-address 127.0.0.1:9099');
      expect(result.aliased).toBe(false);
    } finally {
      copy.remove();
    }
  });

  describe.skipIf(!canSudo)('through sudo -n', () => {
    it('without a sudoers rule: sudo needs a password, said clearly, nothing started', async () => {
      const copy = await unprivilegedCopy();
      try {
        const result = runAsNobody(copy, 'nonroot');
        expect(result.error).toMatch(
          /^UserError: the EC2 server needs root to serve 169\.254\.169\.254:80 and could not start its privileged proxy: sudo needs a password; run `sudo -v` first, or allow it without one; use --ec2-server-address 127\.0\.0\.1:9099/,
        );
        expect(result.aliased).toBe(false);
      } finally {
        copy.remove();
      }
    });

    it("with the README's sudoers rule: an unprivileged user's SDK gets 169.254.169.254:80", async () => {
      // The rule as the README shows it, for user 65534 and this copy's paths.
      const readme = readFileSync(join(root, 'README.md'), 'utf8');
      const documented = /^alice ALL=\(root\) NOPASSWD: (\S+) (\S+) proxy \*$/m.exec(readme);
      expect(documented, 'the README shows a sudoers rule for aws-vault proxy').not.toBeNull();
      const copy = await unprivilegedCopy();
      const rule = (documented?.[0] ?? '')
        .replace(/^alice /, 'nobody ')
        .replace(documented?.[1] ?? '', copy.node)
        .replace(documented?.[2] ?? '', copy.bin);
      const sudoers = join('/etc/sudoers.d', `aws-vault-test-${basename(copy.dir)}`);
      try {
        writeFileSync(sudoers, `${rule}\n`, { mode: 0o440 });
        expect(spawnSync('visudo', ['-cf', sudoers], { encoding: 'utf8' }).status).toBe(0);
        const result = runAsNobody(copy, undefined);
        expect(result.env).toEqual({
          AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://169.254.169.254/',
        });
        expect(result.aliasWhileRunning).toBe(true);
        expect(result.accessKeyId).toBe('ASIANETNS0000001');
        expect(result.rebindingStatus).toBe(403);
        expect(result.calls).toBe(1);
        expect(result.aliasAfterClose).toBe(false);
        const log = result.debug.join('\n');
        // The command the README tells users to copy into their rule.
        expect(log).toContain(`: sudo -n ${copy.node} ${copy.bin} proxy --target 127.0.0.1:`);
        expect(log).toContain('privileged proxy stopped');
        expect(log).not.toContain('netns-secret');
      } finally {
        rmSync(sudoers, { force: true });
        copy.remove();
      }
    });
  });

  it('proxy --stop stops a Go aws-vault proxy left running, and says when there is none', () => {
    // The Go aws-vault's proxy (`sudo -b aws-vault proxy`) runs until it gets
    // GET /stop; these stand in for it (one answering, one closing the
    // connection unanswered) and log what they were asked. The other answers
    // as an EC2 server behind our own proxy would: 404.
    const fake = `
      const fs = require('node:fs');
      const server = require('node:http').createServer((req, res) => {
        fs.appendFileSync(process.env.LOG, process.argv[1] + ' ' + req.method + ' ' + req.url + '\\n');
        if (process.argv[1] === 'go' && req.url === '/stop') {
          res.end();
          server.close();
          server.closeAllConnections();
        } else if (process.argv[1] === 'go-abrupt' && req.url === '/stop') {
          // As the Go proxy may: exit before its answer is out.
          server.close();
          req.socket.destroy();
        } else {
          res.statusCode = 404;
          res.end();
        }
      });
      server.listen(80, '169.254.169.254', () => console.log('listening'));
    `;
    const dir = mkdtempSync(join(tmpdir(), 'awsvault-stop-'));
    try {
      const script = `
        ip link set lo up
        "$NODE" "$BIN" proxy --stop; echo "not-aliased=$?"
        ip addr add 169.254.169.254/32 dev lo
        "$NODE" "$BIN" server --stop; echo "nothing-listening=$?"
        for kind in go go-abrupt other; do
          "$NODE" -e "$FAKE" $kind > "$DIR/$kind.out" &
          i=0; until grep -q listening "$DIR/$kind.out" 2>/dev/null || [ $i -ge 100 ]; do sleep 0.05; i=$((i+1)); done
          "$NODE" "$BIN" proxy --stop; echo "$kind=$?"
          sleep 0.1
          if kill $! 2>/dev/null; then echo "$kind-alive"; else echo "$kind-gone"; fi
        done
        "$NODE" "$BIN" proxy --stop --target 127.0.0.1:1; echo "with-target=$?"
        "$NODE" "$BIN" proxy; echo "no-target=$?"
      `;
      const run = spawnSync('unshare', ['-n', 'sh', '-c', script], {
        cwd: root,
        encoding: 'utf8',
        timeout: 30_000,
        env: {
          ...process.env,
          NODE: process.execPath,
          BIN: bin,
          FAKE: fake,
          DIR: dir,
          LOG: join(dir, 'log'),
        },
      });
      const none = 'No proxy is running on 169.254.169.254:80; nothing to stop.\n';
      expect(run.stderr).toBe(
        none +
          none +
          'Stopped the proxy on 169.254.169.254:80.\n' +
          'Stopped the proxy on 169.254.169.254:80.\n' +
          'aws-vault: error: proxy: the server on 169.254.169.254:80 answered GET /stop with HTTP 404: ' +
          "it is not the Go aws-vault's proxy. The proxy of an `aws-vault exec --ec2-server` stops when its command ends\n" +
          'aws-vault: error: proxy: --stop takes no --target or --parent-pid\n' +
          'usage: aws-vault proxy [options]\n' +
          'aws-vault: error: proxy: needs --target: `aws-vault exec --ec2-server` starts this proxy ' +
          'itself (as root, with sudo -n if needed), so there is no need to run it; ' +
          "to stop a Go aws-vault's proxy, run `aws-vault proxy --stop`\n" +
          'usage: aws-vault proxy [options]\n',
      );
      expect(run.stdout).toBe(
        'not-aliased=0\nnothing-listening=0\ngo=0\ngo-gone\ngo-abrupt=0\ngo-abrupt-gone\nother=1\nother-alive\nwith-target=1\nno-target=1\n',
      );
      expect(readFileSync(join(dir, 'log'), 'utf8')).toBe(
        'go GET /stop\ngo-abrupt GET /stop\nother GET /stop\n',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loopbackPeerUid, loopbackRedirect, openBrowser } from '../../../src/prompt/browser.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'browser-test-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function waitFor(path: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    if (existsSync(path)) return readFileSync(path, 'utf8');
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${path} never appeared`);
}

describe('openBrowser', () => {
  it('runs $BROWSER with the URL as its last argument', async () => {
    const out = join(dir, 'url');
    const script = join(dir, 'browser.sh');
    writeFileSync(script, `#!/bin/sh\nprintf '%s' "$1" > '${out}'\n`, { mode: 0o755 });
    const ok = await openBrowser('https://example.com/a?b=c', { env: { BROWSER: script } });
    expect(ok).toBe(true);
    expect(await waitFor(out)).toBe('https://example.com/a?b=c');
  });

  it('substitutes %s and tries the next entry when one fails', async () => {
    const out = join(dir, 'url');
    const script = join(dir, 'browser.sh');
    writeFileSync(script, `#!/bin/sh\nprintf '%s %s' "$1" "$2" > '${out}'\n`, { mode: 0o755 });
    const ok = await openBrowser('https://example.com/', {
      env: { BROWSER: `${join(dir, 'missing')}:${script} --new %s` },
    });
    expect(ok).toBe(true);
    expect(await waitFor(out)).toBe('--new https://example.com/');
  });

  it('resolves false when no $BROWSER entry starts', async () => {
    const script = join(dir, 'fails.sh');
    writeFileSync(script, '#!/bin/sh\nexit 3\n', { mode: 0o755 });
    expect(await openBrowser('https://example.com/', { env: { BROWSER: script } })).toBe(false);
  });
});

describe('loopbackRedirect', () => {
  it('redirects once to the target and then closes', async () => {
    const redirect = await loopbackRedirect('https://signin.example/?SigninToken=secret', 5_000);
    expect(redirect.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{43}$/);
    expect(redirect.url).not.toContain('secret');
    const wrong = await fetch(new URL('/nope', redirect.url), { redirect: 'manual' });
    expect(wrong.status).toBe(404);
    const res = await fetch(redirect.url, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('https://signin.example/?SigninToken=secret');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await redirect.followed).toBe(true);
    await expect(fetch(redirect.url, { redirect: 'manual' })).rejects.toThrow();
  });

  it('gives up after the timeout', async () => {
    const redirect = await loopbackRedirect('https://x/', 50);
    expect(await redirect.followed).toBe(false);
  });
});

describe('loopbackRedirect and other users', () => {
  it('answers another user with 403 and keeps the link for the browser (Linux)', async () => {
    const redirect = await loopbackRedirect('https://signin.example/?SigninToken=secret', 5_000, {
      peerUid: () => (process.getuid?.() ?? 0) + 1,
    });
    const res = await fetch(redirect.url, { redirect: 'manual' });
    expect(res.status).toBe(403);
    expect(await res.text()).not.toContain('secret');
    redirect.close();
    expect(await redirect.followed).toBe(false);
  });

  // A real other user (nobody) where this user can become one: root, or sudo without a password.
  const asNobody =
    process.getuid?.() === 0
      ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']
      : spawnSync('sudo', ['-n', '-u', 'nobody', 'true']).status === 0
        ? ['sudo', '-n', '-u', 'nobody']
        : undefined;
  it.runIf(asNobody !== undefined && spawnSync('curl', ['--version']).status === 0)(
    "refuses a real connection from another user's process, then serves this user's",
    async () => {
      const redirect = await loopbackRedirect('https://signin.example/?SigninToken=secret', 5_000);
      const [cmd, ...args] = asNobody as string[];
      const curl = spawn(
        cmd as string,
        [
          ...args,
          'curl',
          '-s',
          '-o',
          '/dev/null',
          '-w',
          '%{http_code} %{redirect_url}',
          redirect.url,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let out = '';
      curl.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      await new Promise((resolve) => curl.on('close', resolve));
      expect(out).toBe('403 ');
      const res = await fetch(redirect.url, { redirect: 'manual' });
      expect(res.status).toBe(302);
      expect(await redirect.followed).toBe(true);
    },
  );
});

describe('loopbackPeerUid', () => {
  const HEADER =
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
  const line = (local: string, remote: string, uid: number) =>
    `   1: ${local} ${remote} 01 00000000:00000000 00:00000000 00000000  ${uid}        0 4242 1 0 20 4 30 10 -1\n`;
  const tables =
    (tcp: string, tcp6 = HEADER) =>
    (path: string) => {
      if (path === '/proc/net/tcp') return tcp;
      if (path === '/proc/net/tcp6') return tcp6;
      throw new Error('ENOENT');
    };

  it('finds the uid of the client end of 127.0.0.1:PEER -> 127.0.0.1:OURS, IPv4 or IPv4-mapped', () => {
    // 0xC350 = 50000 (the client's port), 0x1F90 = 8080 (ours).
    const v4 =
      HEADER +
      line('0100007F:1F90', '0100007F:C350', 0) + // our end of it
      line('0A00020F:C350', '5DB8D822:1F90', 7) + // same ports, to another host
      line('0100007F:C350', '0100007F:1F90', 1001);
    expect(loopbackPeerUid(50000, 8080, tables(v4))).toBe(1001);
    const v6 =
      HEADER +
      line('0000000000000000FFFF00000100007F:C350', '0000000000000000FFFF00000100007F:1F90', 1002);
    expect(loopbackPeerUid(50000, 8080, tables(HEADER, v6))).toBe(1002);
  });

  it('is undefined when no such socket is listed or /proc cannot be read', () => {
    const v4 = HEADER + line('0A00020F:C350', '5DB8D822:1F90', 7);
    expect(loopbackPeerUid(50000, 8080, tables(v4))).toBeUndefined();
    expect(
      loopbackPeerUid(50000, 8080, () => {
        throw new Error('ENOENT');
      }),
    ).toBeUndefined();
  });
});

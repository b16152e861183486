import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loopbackRedirect, openBrowser } from '../../../src/prompt/browser.ts';

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

import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { goDuration, listCommand, tabwrite, type ListDeps } from '../../../src/cli/list.ts';

function sink() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  return { stream, text: () => text };
}

const now = new Date('2024-05-01T12:00:00Z');

function deps(overrides: Partial<ListDeps> = {}) {
  const out = sink();
  const err = sink();
  const d: ListDeps = {
    profileNames: () => ['default', 'prod', 'role'],
    hasProfile: (n) => ['default', 'prod', 'role'].includes(n),
    ssoStartUrl: () => undefined,
    credentialProfiles: async () => ['prod', 'orphan'],
    credentialsAddedAt: async (n) =>
      n === 'orphan' ? new Date('2024-01-01T00:00:00Z') : new Date('2024-04-30T00:00:00Z'),
    sessions: async () => [
      {
        type: 'sts.GetSessionToken',
        profileName: 'prod',
        expiration: new Date(now.getTime() + (57 * 60 + 3) * 1000 + 400),
      },
      {
        type: 'sts.AssumeRole',
        profileName: 'gone',
        expiration: new Date(now.getTime() + 3600 * 1000),
      },
    ],
    oidcStartUrls: async () => [],
    stdout: out.stream,
    stderr: err.stream,
    now: () => now,
    ...overrides,
  };
  return { d, out, err };
}

const input = { onlyProfiles: false, onlyCredentials: false, onlySessions: false, json: false };

describe('list', () => {
  it('adds a Key age column for a terminal, flagging keys due for rotation (ext)', async () => {
    const { d, out } = deps({ showKeyAge: true });
    await listCommand(input, d);
    const lines = out.text().split('\n');
    expect(lines[0]).toMatch(/^Profile {18}Credentials {14}Sessions +Key age +$/);
    expect(lines[1]).toMatch(/^={7} {18}={11} {14}={8} +={7} +$/);
    expect(lines.find((l) => l.startsWith('prod '))).toMatch(
      /sts\.GetSessionToken:57m3s\s+1 day\s*$/,
    );
    expect(lines.find((l) => l.startsWith('default '))).toMatch(/-\s+-\s+-\s*$/);
    expect(lines.find((l) => l.includes('orphan'))).toMatch(/121 days \(rotate\)\s*$/);
  });

  it('keeps the Go table when no key age is known, even on a terminal', async () => {
    const plain = deps();
    await listCommand(input, plain.d);
    const tty = deps({ showKeyAge: true, credentialsAddedAt: async () => undefined });
    await listCommand(input, tty.d);
    expect(tty.out.text()).toBe(plain.out.text());
  });

  it('prints the Go table byte for byte, with orphan rows', async () => {
    const { d, out, err } = deps();
    await listCommand(input, d);
    const pad = (s: string, w = 25) => s + ' '.repeat(w - s.length);
    const expected = [
      ['Profile', 'Credentials', 'Sessions'],
      ['=======', '===========', '========'],
      ['default', '-', '-'],
      ['prod', 'prod', 'sts.GetSessionToken:57m3s'],
      ['role', '-', '-'],
      ['-', 'orphan', '-'],
      ['-', '-', 'sts.AssumeRole:1h0m0s'],
    ]
      .map(([a, b, c]) => `${pad(a!)}${pad(b!)}${pad(c!, 27)}\n`)
      .join('');
    expect(out.text()).toBe(expected);
    // The 121-day-old key is flagged on stderr, stdout stays the Go table.
    expect(err.text()).toContain('"orphan" is 121 days old');
    expect(err.text()).toContain('aws-vault rotate orphan');
  });

  it('prints bare lists', async () => {
    let { d, out } = deps();
    await listCommand({ ...input, onlyProfiles: true }, d);
    expect(out.text()).toBe('default\nprod\nrole\n');
    ({ d, out } = deps());
    await listCommand({ ...input, onlyCredentials: true }, d);
    expect(out.text()).toBe('prod\norphan\n');
    // More than one: --credentials, then --profiles, then --sessions wins, as in Go.
    for (const json of [false, true]) {
      ({ d, out } = deps());
      await listCommand({ ...input, json, onlyProfiles: true, onlyCredentials: true }, d);
      expect(out.text()).toContain('orphan');
      ({ d, out } = deps());
      await listCommand({ ...input, json, onlyProfiles: true, onlySessions: true }, d);
      expect(out.text()).toMatch(
        json ? /^\["default","prod","role"\]\n$/ : /^default\nprod\nrole\n$/,
      );
    }
    ({ d, out } = deps({ oidcStartUrls: async () => ['https://x.awsapps.com/start'] }));
    await listCommand({ ...input, onlySessions: true }, d);
    expect(out.text()).toBe(
      'oidc:https://x.awsapps.com/start\nsts.GetSessionToken:57m3s\nsts.AssumeRole:1h0m0s\n',
    );
  });

  it('prints JSON with key ages', async () => {
    const { d, out } = deps();
    await listCommand({ ...input, json: true }, d);
    const doc = JSON.parse(out.text());
    expect(doc.credentials).toEqual([
      { profile: 'prod', addedAt: '2024-04-30T00:00:00Z', ageDays: 1, rotationDue: false },
      { profile: 'orphan', addedAt: '2024-01-01T00:00:00Z', ageDays: 121, rotationDue: true },
    ]);
    expect(doc.profiles[1].sessions[0]).toMatchObject({
      type: 'sts.GetSessionToken',
      timeLeft: '57m3s',
    });
    expect(out.text()).not.toContain('SecretAccessKey');
  });

  it('shows a key added by a clock that was ahead as 0 days old, not a negative age', async () => {
    const future = async () => new Date('2030-01-01T00:00:00Z');
    let { d, out } = deps({ credentialsAddedAt: future });
    await listCommand({ ...input, json: true }, d);
    expect(JSON.parse(out.text()).credentials[0]).toMatchObject({ ageDays: 0, rotationDue: false });
    ({ d, out } = deps({ credentialsAddedAt: future, showKeyAge: true }));
    await listCommand(input, d);
    expect(
      out
        .text()
        .split('\n')
        .find((l) => l.startsWith('prod ')),
    ).toMatch(/\s0 days\s*$/);
  });

  it('shows the oidc token on the profile with that start URL', async () => {
    const url = 'https://x.awsapps.com/start';
    const { d, out } = deps({
      ssoStartUrl: (n) => (n === 'role' ? url : undefined),
      oidcStartUrls: async () => [url],
      sessions: async () => [],
    });
    await listCommand(input, d);
    expect(out.text()).toMatch(/^role {21}- {24}oidc:https:\/\/x\.awsapps\.com\/start {2}\n/m);
    expect(out.text().match(/oidc:/g)).toHaveLength(1);
  });
});

describe('goDuration', () => {
  it('formats like Go time.Duration', () => {
    expect(goDuration(0)).toBe('0s');
    expect(goDuration(999)).toBe('0s');
    expect(goDuration(59_000)).toBe('59s');
    expect(goDuration(3_423_500)).toBe('57m3s');
    expect(goDuration(3_600_000)).toBe('1h0m0s');
    expect(goDuration(8 * 3_600_000 + 61_000)).toBe('8h1m1s');
    expect(goDuration(-5_000)).toBe('-5s');
  });
});

describe('tabwrite', () => {
  it('widens a column to its widest cell plus two', () => {
    const long = 'a'.repeat(30);
    expect(
      tabwrite([
        ['x', long],
        ['yy', 'z'],
      ]),
    ).toBe(`x${' '.repeat(24)}${long}  \nyy${' '.repeat(23)}z${' '.repeat(31)}\n`);
  });
});

// What the engine does when a new session cannot be cached, or comes back
// already expired (a clock that is off): against the local endpoint.
import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.ts';
import { startFakeAws, type FakeAws } from '../../fakes/fakeAws.ts';
import { harness, type Harness } from './_harness.ts';

let fake: FakeAws | undefined;
let h: Harness | undefined;
afterEach(async () => {
  h?.cleanup();
  await fake?.close();
  fake = undefined;
  h = undefined;
});

async function setup(now?: () => number, env: NodeJS.ProcessEnv = {}): Promise<Harness> {
  fake = await startFakeAws(now === undefined ? {} : { now });
  const alice = fake.createUser('alice', { mfa: true });
  h = harness(fake, `[profile alice]\nregion = eu-west-1\nmfa_serial = ${alice.mfaSerial}\n`, env);
  await h.credentials.set('alice', alice);
  const f = fake;
  h.answer = () => f.mfaCode('alice');
  return h;
}

describe('a new session that cannot be cached', () => {
  it('is used (the MFA code is spent on it), with a warning; the next run asks again', async () => {
    const t = await setup();
    const warnings: string[] = [];
    t.deps.warn = (line) => warnings.push(line);
    const set = t.sessions.set.bind(t.sessions);
    t.sessions.set = () =>
      Promise.reject(
        new UserError('file backend: cannot write to /vault/keys: ENOSPC: no space left on device'),
      );
    const creds = await t.credentialsFor('alice');
    expect(creds.sessionToken).toBeTruthy();
    expect(fake?.count('GetSessionToken')).toBe(1);
    expect(t.prompts).toHaveLength(1);
    expect(warnings).toEqual([
      'aws-vault: warning: profile alice: the new session could not be cached, so the next run asks STS again: file backend: cannot write to /vault/keys: ENOSPC: no space left on device',
    ]);
    expect(await t.sessions.list()).toEqual([]);
    t.sessions.set = set;
    fake?.clock.advance(60); // the next TOTP step
    await t.credentialsFor('alice');
    expect(fake?.count('GetSessionToken')).toBe(2);
    expect(await t.sessions.list()).toHaveLength(1);
  });
});

describe('a new session that has already expired here', () => {
  it('is refused with the clock named, and not cached', async () => {
    // STS's clock 3 hours behind ours: its 1-hour session ended 2 hours ago.
    const t = await setup(() => Date.now() - 3 * 3600_000);
    const error = await t.credentialsFor('alice').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(
      /^profile alice: the new sts\.GetSessionToken session expired at \S+Z, before this computer's time \(\S+Z\): check the system clock \(and its time zone\)$/,
    );
    expect(await t.backend.keys()).toEqual(['alice']);
  });
});

describe('a new session no longer than AWS_MIN_TTL', () => {
  it('is used and cached with a warning that no run can reuse it', async () => {
    const t = await setup(undefined, { AWS_MIN_TTL: '1h' });
    const warnings: string[] = [];
    t.deps.warn = (line) => warnings.push(line);
    await t.credentialsFor('alice');
    expect(warnings).toEqual([
      expect.stringMatching(
        /^aws-vault: warning: profile alice: the new sts\.GetSessionToken session lasts (59m|1h0m), no longer than AWS_MIN_TTL \(1h\), so no later run can reuse it and each asks STS \(and for any MFA code\) again: lower AWS_MIN_TTL, or ask for a longer session \(--duration, AWS_SESSION_TOKEN_TTL, AWS_ASSUME_ROLE_TTL, duration_seconds\)$/,
      ),
    ]);
    fake?.clock.advance(60);
    await t.credentialsFor('alice');
    expect(fake?.count('GetSessionToken')).toBe(2);
    expect(t.prompts).toHaveLength(2);
  });

  it('says nothing when the session outlasts it', async () => {
    const t = await setup(undefined, { AWS_MIN_TTL: '50m' });
    const warnings: string[] = [];
    t.deps.warn = (line) => warnings.push(line);
    await t.credentialsFor('alice');
    await t.credentialsFor('alice');
    expect(warnings).toEqual([]);
    expect(fake?.count('GetSessionToken')).toBe(1);
  });
});

// GetFederationToken for `login` of IAM users, and the ECS server's role route.
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import {
  assumeRoleFrom,
  federationName,
  getCredentialsProvider,
  getFederationCredentials,
  usesIamUserKeysOnly,
} from '../../../src/credentials/index.ts';
import { startFakeAws, type FakeAws, type SeededUser } from '../../fakes/fakeAws.ts';
import { harness, type Harness } from './_harness.ts';

let fake: FakeAws;
let carol: SeededUser;
let h: Harness;

beforeAll(async () => {
  fake = await startFakeAws();
  carol = fake.createUser('carol');
  fake.createRole('docker');
});
afterAll(async () => {
  await fake.close();
});
afterEach(() => h?.cleanup());

it('gets a federation token named after the IAM user, for AWS_FEDERATION_TOKEN_TTL', async () => {
  h = harness(fake, '[profile carol]\nregion = eu-west-1\n', { AWS_FEDERATION_TOKEN_TTL: '2h' });
  await h.credentials.set('carol', carol);
  const profile = h.profile('carol');
  expect(usesIamUserKeysOnly(profile)).toBe(true);
  const creds = await getFederationCredentials(profile, h.deps);
  const issued = fake.describeCredentials(creds.accessKeyId);
  expect(issued?.kind).toBe('federation');
  expect(issued?.federatedName).toBe('carol');
  expect(Math.round((creds.expiration!.getTime() - fake.clock.now()) / 1000)).toBeGreaterThan(7190);
});

it('federationName keeps the user name within STS limits', () => {
  expect(federationName('arn:aws:iam::123456789012:user/team/alice')).toBe('alice');
  expect(federationName(`arn:aws:iam::1:user/${'x'.repeat(40)}`)).toHaveLength(32);
});

it('assumeRoleFrom assumes another role from the profile credentials, once per lifetime', async () => {
  h = harness(fake, '[profile carol]\nregion = eu-west-1\n');
  await h.credentials.set('carol', carol);
  const profile = h.profile('carol');
  const base = getCredentialsProvider(profile, h.deps);
  const roleArn = `arn:aws:iam::${fake.accountId}:role/docker`;
  const before = fake.count('AssumeRole');
  const [a, b] = await Promise.all([
    assumeRoleFrom(base, roleArn, profile, h.deps),
    assumeRoleFrom(base, roleArn, profile, h.deps),
  ]);
  expect(a.accessKeyId).toBe(b.accessKeyId);
  expect(fake.describeCredentials(a.accessKeyId)?.roleArn).toBe(roleArn);
  expect(fake.count('AssumeRole') - before).toBe(1);
});

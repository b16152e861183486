// IAM access-key actions (query protocol, version 2010-05-08), enough for
// `aws-vault rotate`. https://docs.aws.amazon.com/IAM/latest/APIReference/
import { AwsError, isoSeconds, type XmlValue } from './wire.ts';
import { actionMatches, invalidToken, type FakeUser } from './world.ts';
import type { QueryCall } from './sts.ts';

export const IAM_ACTIONS = new Set([
  'GetUser',
  'ListAccessKeys',
  'CreateAccessKey',
  'DeleteAccessKey',
  'UpdateAccessKey',
]);

/**
 * The user an IAM call acts on: `UserName`, else the caller. IAM refuses
 * session credentials obtained without MFA, with the same error as an
 * unknown key; that is why aws-vault rotates with long-term or MFA'd keys.
 */
function targetUser(call: QueryCall): FakeUser {
  const { world, params } = call;
  const p = call.principal!;
  if (p.kind === 'session') {
    const s = p.session;
    if (s.kind === 'session-token' && !s.mfaAuthenticated) throw invalidToken();
    if (s.kind === 'federation') {
      throw new AwsError(
        403,
        'AccessDenied',
        `User: ${s.federatedName} is not authorized to perform: iam:${call.action}`,
      );
    }
  }
  const callerUser =
    p.kind === 'user'
      ? p.user
      : p.session.kind === 'role'
        ? undefined
        : world.users.get(p.session.userName!);
  if (callerUser?.policy.deny?.some((d) => actionMatches(d, `iam:${call.action}`))) {
    throw new AwsError(
      403,
      'AccessDenied',
      `User: ${callerUser.arn} is not authorized to perform: iam:${call.action} on resource: ${callerUser.arn} with an explicit deny in an identity-based policy`,
    );
  }
  const name = params.get('UserName');
  if (name) {
    const user = world.users.get(name);
    if (!user)
      throw new AwsError(404, 'NoSuchEntity', `The user with name ${name} cannot be found.`);
    return user;
  }
  if (!callerUser)
    throw new AwsError(
      400,
      'ValidationError',
      'Must specify userName when calling with non-User credentials',
    );
  return callerUser;
}

export function getUser(call: QueryCall): XmlValue {
  const user = targetUser(call);
  return {
    User: {
      Path: '/',
      UserName: user.name,
      UserId: user.userId,
      Arn: user.arn,
      CreateDate: isoSeconds(user.createdAt),
    },
  };
}

export function listAccessKeys(call: QueryCall): XmlValue {
  const user = targetUser(call);
  return {
    AccessKeyMetadata: call.world.keysOf(user.name).map((k) => ({
      UserName: k.userName,
      AccessKeyId: k.accessKeyId,
      Status: k.status,
      CreateDate: isoSeconds(k.createdAt),
    })),
    IsTruncated: false,
  };
}

export function createAccessKey(call: QueryCall): XmlValue {
  const user = targetUser(call);
  if (call.world.keysOf(user.name).length >= 2) {
    throw new AwsError(409, 'LimitExceeded', 'Cannot exceed quota for AccessKeysPerUser: 2');
  }
  const key = call.world.createAccessKey(user.name, Date.now() + call.world.newKeyDelayMs);
  return {
    AccessKey: {
      UserName: key.userName,
      AccessKeyId: key.accessKeyId,
      Status: key.status,
      SecretAccessKey: key.secretAccessKey,
      CreateDate: isoSeconds(key.createdAt),
    },
  };
}

function ownedKey(call: QueryCall, user: FakeUser) {
  const id = call.params.get('AccessKeyId') ?? '';
  const key = call.world.keys.get(id);
  if (!key || key.userName !== user.name) {
    throw new AwsError(404, 'NoSuchEntity', `The Access Key with id ${id} cannot be found.`);
  }
  return key;
}

export function deleteAccessKey(call: QueryCall): undefined {
  const user = targetUser(call);
  call.world.keys.delete(ownedKey(call, user).accessKeyId);
  return undefined;
}

export function updateAccessKey(call: QueryCall): undefined {
  const user = targetUser(call);
  const key = ownedKey(call, user);
  const status = call.params.get('Status');
  if (status !== 'Active' && status !== 'Inactive') {
    throw new AwsError(
      400,
      'ValidationError',
      `Value '${status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]`,
    );
  }
  key.status = status;
  return undefined;
}

// The only importer of @aws-sdk/client-iam. Import this module with a dynamic
// `await import()` only when an IAM call is about to be made.
import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetUserCommand,
  IAMClient,
  ListAccessKeysCommand,
} from '@aws-sdk/client-iam';
import type { Credentials } from '../credentials/types.ts';
import { watchRequests } from './clientConfig.ts';

/** An access key of the calling IAM user, as ListAccessKeys reports it. */
export interface AccessKeyInfo {
  accessKeyId: string;
  status: string;
  createDate?: Date;
}

/** The IAM calls `rotate` makes, acting as the user whose credentials signed them. */
export interface IamApi {
  /** The calling user's name (GetUser without a name). */
  getUserName(): Promise<string>;
  listAccessKeys(userName?: string): Promise<AccessKeyInfo[]>;
  createAccessKey(userName?: string): Promise<{ accessKeyId: string; secretAccessKey: string }>;
  deleteAccessKey(accessKeyId: string, userName?: string): Promise<void>;
}

export interface IamApiOptions {
  credentials: Credentials;
  /** The profile's region; IAM is global, so it only picks the partition's signing region. */
  region?: string;
  /** `AWS_ENDPOINT_URL_IAM` / `endpoint_url`; undefined = AWS's. */
  endpoint?: string;
  maxAttempts?: number;
  /** Shared SDK options (`clientConfigFor(..., 'iam')`: endpoint, retries, timeouts); its credentials are replaced. */
  clientOptions?: { endpoint?: string; region?: string; credentials?: unknown };
}

/** IAM's signing region in the partition of `region`. */
export function iamSigningRegion(region?: string): string {
  if (region?.startsWith('cn-')) return 'cn-north-1';
  if (region?.startsWith('us-gov-')) return 'us-gov-west-1';
  return 'us-east-1';
}

/** IAM through the AWS SDK v3, signed with `options.credentials`. */
export function createIamApi(options: IamApiOptions): IamApi {
  let instance: IAMClient | undefined;
  const client = () =>
    (instance ??= watchRequests(
      new IAMClient({
        maxAttempts: options.maxAttempts ?? 3,
        ...options.clientOptions,
        region: iamSigningRegion(options.region),
        endpoint: options.endpoint ?? options.clientOptions?.endpoint,
        credentials: {
          accessKeyId: options.credentials.accessKeyId,
          secretAccessKey: options.credentials.secretAccessKey,
          sessionToken: options.credentials.sessionToken,
        },
      }),
    ));

  return {
    async getUserName() {
      const c = client();
      const out = await c.send(new GetUserCommand({}));
      const name = out.User?.UserName;
      if (!name) throw new Error('IAM GetUser returned no user name');
      return name;
    },
    async listAccessKeys(userName) {
      const c = client();
      const out = await c.send(new ListAccessKeysCommand({ UserName: userName }));
      return (out.AccessKeyMetadata ?? []).flatMap((k) =>
        k.AccessKeyId
          ? [{ accessKeyId: k.AccessKeyId, status: k.Status ?? 'Active', createDate: k.CreateDate }]
          : [],
      );
    },
    async createAccessKey(userName) {
      const c = client();
      const out = await c.send(new CreateAccessKeyCommand({ UserName: userName }));
      const key = out.AccessKey;
      if (!key?.AccessKeyId || !key.SecretAccessKey) {
        throw new Error('IAM CreateAccessKey returned no key');
      }
      return { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey };
    },
    async deleteAccessKey(accessKeyId, userName) {
      const c = client();
      await c.send(new DeleteAccessKeyCommand({ AccessKeyId: accessKeyId, UserName: userName }));
    },
  };
}

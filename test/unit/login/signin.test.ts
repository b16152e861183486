import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  consoleDestination,
  describeFetchFailure,
  errorDetail,
  federationUrl,
  loginUrl,
  partitionFor,
  requestSigninToken,
  SigninTokenError,
} from '../../../src/aws/signin.ts';
import { signinFailure } from '../../../src/cli/login.ts';

describe('partitionFor', () => {
  it.each([
    ['us-east-1', 'aws', 'signin.aws.amazon.com', 'console.aws.amazon.com'],
    ['eu-west-2', 'aws', 'signin.aws.amazon.com', 'console.aws.amazon.com'],
    ['cn-north-1', 'aws-cn', 'signin.amazonaws.cn', 'console.amazonaws.cn'],
    ['cn-northwest-1', 'aws-cn', 'signin.amazonaws.cn', 'console.amazonaws.cn'],
    ['us-gov-west-1', 'aws-us-gov', 'signin.amazonaws-us-gov.com', 'console.amazonaws-us-gov.com'],
  ])('maps region %s to %s', (region, id, signin, consoleDomain) => {
    const p = partitionFor(region);
    expect(p.id).toBe(id);
    expect(p.signinHost).toBe(signin);
    expect(p.consoleDomain).toBe(consoleDomain);
  });

  it('falls back to the ARN partition when no region is known', () => {
    expect(partitionFor(undefined, 'arn:aws-cn:iam::123456789012:role/x').id).toBe('aws-cn');
    expect(partitionFor('', 'arn:aws-us-gov:iam::123456789012:role/x').id).toBe('aws-us-gov');
    expect(partitionFor(undefined, 'arn:aws:iam::123456789012:role/x').id).toBe('aws');
    expect(partitionFor(undefined).id).toBe('aws');
  });
});

describe('federationUrl', () => {
  it('uses the partition sign-in host', () => {
    expect(federationUrl(partitionFor('us-east-1'))).toBe(
      'https://signin.aws.amazon.com/federation',
    );
    expect(federationUrl(partitionFor('cn-north-1'))).toBe(
      'https://signin.amazonaws.cn/federation',
    );
    expect(federationUrl(partitionFor('us-gov-east-1'))).toBe(
      'https://signin.amazonaws-us-gov.com/federation',
    );
  });
  it('lets AWS_ENDPOINT_URL_SIGNIN replace scheme and host', () => {
    expect(federationUrl(partitionFor('cn-north-1'), 'http://127.0.0.1:4566/')).toBe(
      'http://127.0.0.1:4566/federation',
    );
  });
});

describe('consoleDestination', () => {
  const aws = partitionFor('eu-west-1');
  it('lands on the regional console home', () => {
    expect(consoleDestination(aws, 'eu-west-1')).toBe(
      'https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1',
    );
  });
  it('appends --path', () => {
    expect(consoleDestination(aws, 'eu-west-1', '/s3/home')).toBe(
      'https://eu-west-1.console.aws.amazon.com/s3/home?region=eu-west-1',
    );
    expect(consoleDestination(aws, 'eu-west-1', 'ec2/home?x=1')).toBe(
      'https://eu-west-1.console.aws.amazon.com/ec2/home?x=1&region=eu-west-1',
    );
    // The query before a fragment, which the browser never sends.
    expect(consoleDestination(aws, 'eu-west-1', 'ec2/home#Instances')).toBe(
      'https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#Instances',
    );
    expect(consoleDestination(aws, 'eu-west-1', 'ec2/home?x=1#Instances:sort=name')).toBe(
      'https://eu-west-1.console.aws.amazon.com/ec2/home?x=1&region=eu-west-1#Instances:sort=name',
    );
  });
  it('uses the partition console domain', () => {
    expect(consoleDestination(partitionFor('cn-north-1'), 'cn-north-1')).toBe(
      'https://cn-north-1.console.amazonaws.cn/console/home?region=cn-north-1',
    );
    expect(consoleDestination(partitionFor('us-gov-west-1'), 'us-gov-west-1', 'iam')).toBe(
      'https://us-gov-west-1.console.amazonaws-us-gov.com/iam?region=us-gov-west-1',
    );
  });
  it('uses the global console without a region', () => {
    expect(consoleDestination(aws)).toBe('https://console.aws.amazon.com/');
  });
});

describe('loginUrl', () => {
  it('has Action, Issuer, Destination and SigninToken, encoded', () => {
    const url = new URL(
      loginUrl('https://signin.aws.amazon.com/federation', 'https://x/?region=a&b=c', 'tok+/='),
    );
    expect(url.origin + url.pathname).toBe('https://signin.aws.amazon.com/federation');
    expect(url.searchParams.get('Action')).toBe('login');
    expect(url.searchParams.get('Issuer')).toBe('aws-vault');
    expect(url.searchParams.get('Destination')).toBe('https://x/?region=a&b=c');
    expect(url.searchParams.get('SigninToken')).toBe('tok+/=');
  });
});

describe('requestSigninToken', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  async function serve(
    handler: (url: URL) => { status: number; body: string },
  ): Promise<{ base: string; seen: URL[] }> {
    const seen: URL[] = [];
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      seen.push(url);
      const { status, body } = handler(url);
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    return { base: `http://127.0.0.1:${port}`, seen };
  }

  const creds = { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'sekrit', sessionToken: 'tok' };

  it('sends the session and returns the token', async () => {
    const { base, seen } = await serve(() => ({ status: 200, body: '{"SigninToken":"abc"}' }));
    const token = await requestSigninToken({
      federationUrl: `${base}/federation`,
      credentials: creds,
      sessionDuration: 3600,
    });
    expect(token).toBe('abc');
    const q = seen[0]?.searchParams;
    expect(seen[0]?.pathname).toBe('/federation');
    expect(q?.get('Action')).toBe('getSigninToken');
    expect(q?.get('SessionDuration')).toBe('3600');
    expect(JSON.parse(q?.get('Session') ?? '{}')).toEqual({
      sessionId: 'ASIAEXAMPLE',
      sessionKey: 'sekrit',
      sessionToken: 'tok',
    });
  });

  it('omits SessionDuration when not given', async () => {
    const { base, seen } = await serve(() => ({ status: 200, body: '{"SigninToken":"abc"}' }));
    await requestSigninToken({ federationUrl: `${base}/federation`, credentials: creds });
    expect(seen[0]?.searchParams.has('SessionDuration')).toBe(false);
  });

  it('refuses long-term keys without calling the endpoint', async () => {
    const { base, seen } = await serve(() => ({ status: 200, body: '{"SigninToken":"abc"}' }));
    await expect(
      requestSigninToken({
        federationUrl: `${base}/federation`,
        credentials: { accessKeyId: 'AKIA', secretAccessKey: 'sekrit' },
      }),
    ).rejects.toThrow(/GetFederationToken/);
    expect(seen).toHaveLength(0);
  });

  it('reports an HTTP error without echoing the secret', async () => {
    const { base } = await serve(() => ({ status: 400, body: 'Bad session' }));
    const error = await requestSigninToken({
      federationUrl: `${base}/federation`,
      credentials: creds,
    }).then(
      () => new Error('no error'),
      (e: unknown) => e as Error,
    );
    expect(error.message).toMatch(/HTTP 400: Bad session/);
    expect(error.message).not.toContain('sekrit');
  });

  it('reports a missing token', async () => {
    const { base } = await serve(() => ({ status: 200, body: '{}' }));
    await expect(
      requestSigninToken({ federationUrl: `${base}/federation`, credentials: creds }),
    ).rejects.toThrow(/without a SigninToken/);
  });

  it('reports an unreachable endpoint', async () => {
    const { base } = await serve(() => ({ status: 200, body: '{}' }));
    server?.close();
    server = undefined;
    await expect(
      requestSigninToken({ federationUrl: `${base}/federation`, credentials: creds }),
    ).rejects.toThrow(
      /^cannot reach the AWS sign-in federation endpoint at http:\/\/127\.0\.0\.1:\d+\/federation: connection refused; check your network, proxy and endpoint settings \(AWS_ENDPOINT_URL_SIGNIN\)$/,
    );
  });
});

describe('sign-in errors that say what to do', () => {
  const creds = { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'sekrit', sessionToken: 'tok' };
  it('keeps only the message of a JSON or HTML error body', () => {
    expect(
      errorDetail('{"error":"InvalidRequest","message":"Credentials from X cannot sign in"}'),
    ).toBe('Credentials from X cannot sign in');
    expect(errorDetail('<html><body><h1>Bad\n request</h1></body></html>')).toBe('Bad request');
    expect(errorDetail('   ')).toBeUndefined();
  });

  it('never quotes the request URL (its query holds the session)', async () => {
    await expect(
      requestSigninToken({ federationUrl: 'not a url', credentials: creds }),
    ).rejects.toThrow(/"not a url" is not a URL; check AWS_ENDPOINT_URL_SIGNIN$/);
    expect(describeFetchFailure(new TypeError('Failed to parse http://h/f?Session=sekrit'))).toBe(
      'Failed to parse http://h/f',
    );
  });

  it('mentions AWS_ENDPOINT_URL_SIGNIN when only AWS_ENDPOINT_URL is set', () => {
    const unreachable = new SigninTokenError('cannot reach it', undefined, { unreachable: true });
    const c = { who: 'profile p', fromEnvironment: false, isRole: true };
    expect(
      signinFailure(unreachable, { ...c, env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' } })
        .message,
    ).toBe(
      'profile p: cannot reach it; AWS_ENDPOINT_URL is set but does not apply to the console sign-in endpoint: set AWS_ENDPOINT_URL_SIGNIN too (e.g. AWS_ENDPOINT_URL_SIGNIN=http://127.0.0.1:4566)',
    );
    expect(
      signinFailure(unreachable, {
        ...c,
        env: { AWS_ENDPOINT_URL: 'http://a', AWS_ENDPOINT_URL_SIGNIN: 'http://b' },
      }).message,
    ).toBe('profile p: cannot reach it');
  });

  it('explains a refusal of session credentials from the environment', () => {
    const refused = new SigninTokenError('refused (HTTP 400: {"x":1})', 400);
    const message = signinFailure(refused, {
      who: 'credentials from the environment',
      fromEnvironment: true,
      isRole: true,
      env: {},
    }).message;
    expect(message).toMatch(/^the AWS console refused the credentials from the environment/);
    expect(message).toContain('`aws-vault login PROFILE`');
    expect(message).not.toContain('{');
  });
});

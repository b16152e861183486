// Error messages that say what to do: unknown (misspelt) profiles, --duration
// checked before any STS call, login from GetSessionToken credentials.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnvLines, startExecWorld, type ExecWorld } from './_exec.ts';

describe('error messages', () => {
  let w: ExecWorld;
  let roleArn: string;

  beforeAll(async () => {
    w = await startExecWorld();
    await w.addUser('prod');
    await w.addUser('vaultonly');
    roleArn = w.fake.createRole('ops').arn;
    w.home.writeConfig(`[profile prod]
region = eu-west-1

[profile ops]
source_profile = prod
role_arn = ${roleArn}

[profile chained]
source_profile = ops
role_arn = ${roleArn}
`);
  });
  afterAll(() => w?.close());

  /** The environment with the config file at its default place, ~/.aws/config. */
  const defaultConfigEnv = () => {
    const env = w.env();
    delete env.AWS_CONFIG_FILE;
    return env;
  };

  /** A loopback port nothing listens on. */
  async function closedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  describe('a profile in neither the config nor the vault', () => {
    const typo =
      'profile "prdo" not found in ~/.aws/config and no credentials stored for it; did you mean "prod"?';

    it.each([
      ['exec', ['exec', 'prdo', '--', 'true']],
      ['export', ['export', 'prdo']],
      ['login', ['login', 'prdo', '--stdout']],
      ['rotate', ['rotate', 'prdo']],
      ['remove', ['remove', '-f', 'prdo']],
      ['clear', ['clear', 'prdo']],
    ])('%s says so once, with the closest name', async (command, args) => {
      w.fake.reset();
      const r = await w.run(args, { env: defaultConfigEnv() });
      expect(r.stderr).toBe(`aws-vault: error: ${command}: ${typo}\n`);
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toBe('');
      expect(w.fake.calls).toHaveLength(0);
    });

    it('suggests adding it when no name is close, and names AWS_CONFIG_FILE as given', async () => {
      const r = await w.run(['exec', 'staging', '--', 'true'], { env: defaultConfigEnv() });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toBe(
        'aws-vault: error: exec: profile "staging" not found in ~/.aws/config and no credentials stored for it; ' +
          'to use it, store its access key with `aws-vault add staging` or add a [profile staging] section to ~/.aws/config (see: aws-vault list --profiles)\n',
      );
      const given = await w.run(['export', 'vaultonIy'], {
        env: w.env({ AWS_CONFIG_FILE: w.home.configFile }),
      });
      expect(given.stderr).toBe(
        `aws-vault: error: export: profile "vaultonIy" not found in ${w.home.configFile} and no credentials stored for it; did you mean "vaultonly"?\n`,
      );
    });

    it('remove --sessions-only and clear of an unknown name fail; known names still work', async () => {
      const r = await w.run(['remove', '--sessions-only', 'prdo']);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain('did you mean "prod"?');
      // A profile only in the vault, or only in the config, is known.
      const vaultOnly = await w.run(['clear', 'vaultonly']);
      expect(vaultOnly.stderr).toBe('');
      expect(vaultOnly.stdout).toBe('Cleared 0 sessions.\n');
      const configOnly = await w.run(['clear', 'chained']);
      expect(configOnly.exitCode, configOnly.stderr).toBe(0);
      expect((await w.run(['export', 'vaultonly'])).exitCode).toBe(0);
    });
  });

  describe('--duration', () => {
    it('a value that is not a duration is one clear message', async () => {
      const r = await w.run(['exec', '-d', 'soon', 'prod', '--', 'true']);
      expect(r.exitCode).toBe(1);
      const first = r.stderr.split('\n')[0] ?? '';
      expect(first).toBe(
        "aws-vault: error: exec: option '-d, --duration <duration>' argument 'soon' is invalid. Use a duration with a unit, e.g. 1h, 90m or 3600s.",
      );
      expect(r.stderr.match(/soon/g)).toHaveLength(1);
    });

    it.each([
      ['5m', 'prod', '--duration must be between 15m and 36h for profile prod', 'GetSessionToken'],
      ['48h', 'prod', '--duration must be between 15m and 36h for profile prod', 'GetSessionToken'],
      ['13h', 'ops', '--duration must be between 15m and 12h for profile ops', 'AssumeRole'],
      ['2h', 'chained', '--duration must be between 15m and 1h for profile chained', 'chaining'],
    ])('-d %s for %s is refused before any STS call', async (d, profile, message, why) => {
      w.fake.reset();
      const r = await w.run(['export', '-d', d, profile]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain(`aws-vault: error: export: ${message}`);
      expect(r.stderr).toContain(why);
      expect(r.stderr).toContain(`not ${d}`);
      expect(r.stderr).not.toMatch(/ValidationError/);
      expect(w.fake.calls).toHaveLength(0);
    });

    it('is checked even when a session is cached', async () => {
      expect((await w.run(['export', 'prod'])).exitCode).toBe(0);
      w.fake.reset();
      const r = await w.run(['exec', '-d', '48h', 'prod', '--', 'true']);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain('--duration must be between 15m and 36h');
      const ok = await w.run(['exec', '-d', '36h', 'prod', '--', 'true']);
      expect(ok.exitCode, ok.stderr).toBe(0);
    });
  });

  describe('login', () => {
    it('explains that GetSessionToken credentials from the environment cannot sign in', async () => {
      const exported = await w.run(['export', 'prod']);
      expect(exported.exitCode, exported.stderr).toBe(0);
      const vars = parseEnvLines(exported.stdout);
      const r = await w.run(['login', '--stdout'], {
        env: w.env({
          AWS_ENDPOINT_URL_SIGNIN: w.fake.url,
          AWS_ACCESS_KEY_ID: vars.AWS_ACCESS_KEY_ID,
          AWS_SECRET_ACCESS_KEY: vars.AWS_SECRET_ACCESS_KEY,
          AWS_SESSION_TOKEN: vars.AWS_SESSION_TOKEN,
        }),
      });
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(
        /^aws-vault: error: login: the AWS console refused the credentials from the environment \(HTTP 400\)/,
      );
      expect(r.stderr).toContain('GetSessionToken');
      expect(r.stderr).toContain('aws-vault login PROFILE');
      expect(r.stderr).not.toContain('{');
      expect(r.stderr).not.toContain('profile environment');
    });

    it('names the sign-in endpoint it cannot reach, in the words STS uses', async () => {
      const url = `http://127.0.0.1:${await closedPort()}`;
      const r = await w.run(['login', 'ops', '--stdout'], {
        env: w.env({ AWS_ENDPOINT_URL_SIGNIN: url }),
      });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toBe(
        `aws-vault: error: login: profile ops: cannot reach the AWS sign-in federation endpoint at ${url}/federation: connection refused; check your network, proxy and endpoint settings (AWS_ENDPOINT_URL_SIGNIN)\n`,
      );
    });
  });

  describe('an endpoint that is not STS', () => {
    const answers: Record<string, [number, string, string]> = {
      'truncated XML': [
        200,
        'text/xml',
        '<GetSessionTokenResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetSessionTokenResult><Credentials><AccessKeyId>ASIA',
      ],
      'an HTML error page': [500, 'text/html', '<html><body>Bad gateway</body></html>'],
      'an HTML page with 200': [200, 'text/html', '<html><body>Log in to the proxy</body></html>'],
    };
    let server: import('node:http').Server;
    let url = '';
    let answer: [number, string, string] = [200, 'text/plain', ''];
    beforeAll(async () => {
      const { createServer: createHttpServer } = await import('node:http');
      server = createHttpServer((req, res) => {
        req.resume();
        req.on('end', () => {
          res.writeHead(answer[0], { 'content-type': answer[1] });
          res.end(answer[2]);
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });
    afterAll(() => new Promise((resolve) => server.close(resolve)));

    const hint =
      'check that AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_STS or endpoint_url (if set) name an STS endpoint, and that no proxy answers in its place';
    it.each([
      [
        'truncated XML',
        (u: string) =>
          `aws-vault: error: export: profile prod: STS at ${u} answered sts.GetSessionToken with something that is not STS's XML (HTTP 200); ${hint}\n`,
      ],
      [
        'an HTML error page',
        (u: string) =>
          `aws-vault: error: export: profile prod: STS at ${u} failed sts.GetSessionToken after 5 attempts (HTTP 500 with no AWS error in the body); try again later\n`,
      ],
      [
        'an HTML page with 200',
        () =>
          `aws-vault: error: export: profile prod: sts.GetSessionToken was answered without credentials, not as STS answers; ${hint}\n`,
      ],
    ])('%s is named as such', async (name, expected) => {
      answer = answers[name] as [number, string, string];
      expect((await w.run(['clear', 'prod'])).exitCode).toBe(0); // no cached session to answer
      const r = await w.run(['export', 'prod'], { env: w.env({ AWS_ENDPOINT_URL: url }) });
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(expected(url));
    });
  });
});

import type { Writable } from 'node:stream';
import type { DeviceAuthorization, OidcClient, OidcTokenResult, SsoApi } from '../aws/sso.ts';
import { ssoErrorName } from './ssoErrors.ts';
import { UserError } from '../errors.ts';

/** The registration scopes that let IAM Identity Center issue refresh tokens. */
export const REFRESH_SCOPE = 'sso:account:access';

export interface DeviceFlowOptions {
  api: SsoApi;
  startUrl: string;
  /** `sso_registration_scopes`; with `sso:account:access` the token comes with a refresh token. */
  scopes?: string[];
  /** A client registered earlier and still valid (registrations last ~90 days); else a new one is registered. */
  client?: OidcClient;
  /** Opens the verification page; undefined prints it instead (`--stdout`). Resolves false when no browser started. */
  openBrowser?: (url: string) => Promise<boolean>;
  /** Where instructions and the spinner go (never stdout: it may be a credential_process pipe). */
  stderr: Writable & { isTTY?: boolean };
  debug: (line: string) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** A token from the device flow with the client that obtained it (needed to refresh it). */
export interface DeviceFlowResult {
  token: OidcTokenResult;
  client: OidcClient;
}

const SLOW_DOWN_SECONDS = 5;
const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Signs in to IAM Identity Center with the OAuth device authorization grant:
 * registers a public client, starts a device authorization, sends the user
 * to the verification page (browser, or printed with the code), then polls
 * CreateToken at the server's interval until the user approves, denies, or
 * the code expires.
 */
export async function runDeviceFlow(options: DeviceFlowOptions): Promise<DeviceFlowResult> {
  const { api, startUrl, stderr, debug } = options;
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const now = options.now ?? Date.now;

  let client = options.client;
  if (client === undefined) {
    client = await api.registerClient({ clientName: 'aws-vault', scopes: options.scopes });
    debug(`sso: registered OIDC client (expires ${client.expiresAt.toISOString()})`);
  } else {
    debug(
      `sso: reusing the OIDC client registered earlier (expires ${client.expiresAt.toISOString()})`,
    );
  }
  const auth = await api.startDeviceAuthorization({ client, startUrl });
  debug(`sso: started device authorization for ${startUrl} (expires in ${auth.expiresIn}s)`);

  await presentVerification(auth, options);

  const deadline = now() + auth.expiresIn * 1000;
  let interval = auth.interval;
  const spinner = startSpinner(stderr, auth.userCode);
  try {
    for (;;) {
      await sleep(interval * 1000);
      if (now() >= deadline) throw expiredError(startUrl, auth);
      try {
        const token = await api.createTokenFromDeviceCode({ client, deviceCode: auth.deviceCode });
        debug(`sso: device authorization approved; token expires ${token.expiresAt.toISOString()}`);
        return { token, client };
      } catch (error) {
        const name = ssoErrorName(error);
        if (name === 'AuthorizationPendingException') continue;
        if (name === 'SlowDownException') {
          interval += SLOW_DOWN_SECONDS;
          debug(`sso: server asked to slow down; polling every ${interval}s`);
          continue;
        }
        if (name === 'ExpiredTokenException') throw expiredError(startUrl, auth, error);
        if (name === 'AccessDeniedException') {
          throw new UserError(
            `the sign-in to ${startUrl} was denied in the browser (code ${auth.userCode}); run the command again to retry`,
            { cause: error },
          );
        }
        throw new UserError(
          `the sign-in to ${startUrl} failed while waiting for approval: ${describe(error)}`,
          { cause: error },
        );
      }
    }
  } finally {
    spinner.stop();
  }
}

async function presentVerification(
  auth: DeviceAuthorization,
  options: DeviceFlowOptions,
): Promise<void> {
  const { stderr } = options;
  if (options.openBrowser) {
    stderr.write(
      'Opening the SSO authorization page in your default browser (use Ctrl-C to abort)\n' +
        `${auth.verificationUriComplete}\n` +
        `Confirm that the page shows the code: ${auth.userCode}\n`,
    );
    const opened = await options.openBrowser(auth.verificationUriComplete);
    if (!opened) {
      stderr.write(
        `Could not open a browser: open ${auth.verificationUri} and enter the code ${auth.userCode}\n`,
      );
    }
    return;
  }
  stderr.write(
    'Open the SSO authorization page in a browser (use Ctrl-C to abort)\n' +
      `${auth.verificationUriComplete}\n` +
      `or open ${auth.verificationUri} and enter the code: ${auth.userCode}\n`,
  );
}

function startSpinner(stderr: Writable & { isTTY?: boolean }, userCode: string): { stop(): void } {
  if (!stderr.isTTY) return { stop() {} };
  let frame = 0;
  const draw = () => {
    stderr.write(
      `\r${SPINNER[frame % SPINNER.length]} Waiting for approval in the browser (code ${userCode})`,
    );
    frame += 1;
  };
  draw();
  const timer = setInterval(draw, 120);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      stderr.write('\r\u001b[2K');
    },
  };
}

function expiredError(startUrl: string, auth: DeviceAuthorization, cause?: unknown): UserError {
  const minutes = Math.max(1, Math.round(auth.expiresIn / 60));
  return new UserError(
    `the sign-in code ${auth.userCode} for ${startUrl} expired before it was approved; run the command again and approve it within ${minutes} minute${minutes === 1 ? '' : 's'}`,
    { cause },
  );
}

function describe(error: unknown): string {
  const name = ssoErrorName(error);
  const message = error instanceof Error ? error.message : String(error);
  return name && !message.includes(name) ? `${name}: ${message}` : message;
}

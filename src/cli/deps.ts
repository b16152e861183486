// The lazy helpers every command uses. Kept light on purpose: the cached
// `exec`/`export` path loads this module, so nothing heavy is imported at the
// top (no commander, no prompts, no node:fs/promises); each helper loads
// what it needs when it runs.
import { join } from 'node:path';
import type { ConfigFile } from '../config/loadConfigFile.ts';
import { resolveProfileConfig } from '../config/resolveProfileConfig.ts';
import type { EngineDeps } from '../credentials/engineDeps.ts';
import { needFullCli } from '../errors.ts';
import type { MfaPrompt } from '../credentials/types.ts';
import type { Backend, BackendOptions } from '../keyring/backend.ts';
import { openBackend } from '../keyring/openBackend.ts';
import { CredentialStore, OidcTokenStore, SessionStore } from '../keyring/stores.ts';
import { hasControllingTerminal } from '../prompt/controllingTerminal.ts';
import type { Prompter } from '../prompt/interactive.ts';
import type { Context } from './context.ts';

/** The vault opened for a command: the backend and the typed stores over it. */
export interface Vault {
  backend: Backend;
  credentials: CredentialStore;
  sessions: SessionStore;
  oidcTokens: OidcTokenStore;
}

const configs = new WeakMap<Context, ConfigFile>();
const vaults = new WeakMap<Context, Promise<Vault>>();
/** The vault this process opened last (a process runs one command). */
let lastVault: Promise<Vault> | undefined;

/**
 * Where else keys may be (Backend.elsewhere) for the vault this command
 * opened; undefined when it opened none or there is no such place.
 */
export async function keysElsewhere(): Promise<string | undefined> {
  try {
    return await (await lastVault)?.credentials.elsewhere();
  } catch {
    return undefined;
  }
}

/**
 * The config file (`AWS_CONFIG_FILE`, else `~/.aws/config`), parsed once per
 * command run. A malformed file throws the config engine's error (file:line).
 */
export async function loadConfig(ctx: Context): Promise<ConfigFile> {
  const cached = configs.get(ctx);
  if (cached) return cached;
  const { loadConfigFile } = await import('../config/loadConfigFile.ts');
  const file = loadConfigFile(ctx.env, ctx.homedir);
  configs.set(ctx, file);
  return file;
}

/** BackendOptions from the global flags and environment of `ctx`. */
export function backendOptions(ctx: Context): BackendOptions {
  const { globals, env } = ctx;
  const passphrase = env.AWS_VAULT_FILE_PASSPHRASE;
  // Asking whether a terminal exists creates the stdin stream: only when a
  // file passphrase may have to be asked for.
  const mayPrompt =
    passphrase === undefined && (globals.backend === undefined || globals.backend === 'file');
  let promptPassphrase: BackendOptions['promptPassphrase'];
  if (mayPrompt && ctx.cachedOnly === true) {
    // The fast path asks nothing (and creates no stdin stream to find out
    // whether it could): the full CLI will.
    promptPassphrase = () => needFullCli('a passphrase prompt');
  } else if (mayPrompt && hasTerminal(ctx)) {
    promptPassphrase = (message) => promptFor(ctx).secret(message);
  }
  return {
    backend: globals.backend,
    keychainName: globals.keychainName,
    secretServiceCollection: globals.secretServiceCollection,
    fileDir: globals.fileDir,
    // An empty passphrase in the environment is a choice the Go aws-vault honours too.
    filePassphrase: passphrase,
    promptPassphrase,
    passDir: globals.passDir,
    passCmd: globals.passCmd,
    passPrefix: globals.passPrefix,
    ...(ctx.cachedOnly === true ? { oneShot: true } : {}),
    debug: ctx.debug,
  };
}

/**
 * Opens the vault once per command run: the backend chosen by `--backend` /
 * `AWS_VAULT_BACKEND` (else the platform default) and its typed stores.
 */
export function openVault(ctx: Context): Promise<Vault> {
  let vault = vaults.get(ctx);
  if (!vault) {
    vault = (async () => {
      const backend = await openBackend(backendOptions(ctx));
      ctx.debug(`vault: using backend ${backend.name}`);
      return {
        backend,
        credentials: new CredentialStore(backend),
        sessions: new SessionStore(backend),
        oidcTokens: new OidcTokenStore(backend),
      };
    })();
    vaults.set(ctx, vault);
  }
  lastVault = vault;
  return vault;
}

/**
 * The credentials engine's dependencies for a command: the vault's stores,
 * the lock folder, the environment and debug log of `ctx`, and `mfaPrompt`
 * to ask for MFA codes.
 */
export function engineDeps(
  ctx: Context,
  vault: Vault,
  lockDir: string,
  mfaPrompt: MfaPrompt,
): EngineDeps {
  return {
    credentials: vault.credentials,
    sessions: vault.sessions,
    oidcTokens: vault.oidcTokens,
    lockDir,
    env: ctx.env,
    debug: ctx.debug,
    mfaPrompt,
    ...(ctx.cachedOnly === true ? { cachedOnly: true } : {}),
  };
}

/**
 * The folder of the cross-process locks, `~/.awsvault/locks`. Locks live
 * beside the store so every aws-vault process of the user agrees on them,
 * whatever the backend. The lock creates it (0700) when one is first taken
 * (src/keyring/lock.ts), so a run the cache answers writes nothing there.
 */
export function lockDir(ctx: Context): string {
  return join(ctx.homedir, '.awsvault', 'locks');
}

/** True when a prompt can reach a person: stdin is a TTY or a controlling terminal exists. */
export function hasTerminal(ctx: Context): boolean {
  return ctx.io.stdin.isTTY === true || hasControllingTerminal();
}

/**
 * The interactive prompter for `ctx` (prompts on the terminal, never on
 * stdout). The prompt module and the streams load at the first question.
 */
export function promptFor(ctx: Context, noTtyHint?: string): Prompter {
  let prompter: Promise<Prompter> | undefined;
  const load = () => {
    if (ctx.cachedOnly === true) needFullCli('a prompt');
    return (prompter ??= import('../prompt/interactive.ts').then(({ terminalPrompter }) =>
      terminalPrompter({ stdin: ctx.io.stdin, stderr: ctx.io.stderr, noTtyHint }),
    ));
  };
  return {
    text: async (message) => (await load()).text(message),
    secret: async (message) => (await load()).secret(message),
    confirm: async (message) => (await load()).confirm(message),
  };
}

/**
 * Validates a PROFILE argument: the name of a profile as written in the
 * config (`prod`, `team/dev prod`); empty names are usage errors.
 */
export function profileNameArg(value: string): string {
  if (value.trim() === '') {
    // Commander's InvalidArgumentError, by its code: commander is not imported here.
    throw Object.assign(new Error('profile name must not be empty'), {
      code: 'commander.invalidArgument',
      exitCode: 1,
    });
  }
  return value;
}

/**
 * The SSO start URL a profile signs in to, resolved as its credentials are
 * (its `[sso-session]`, `include_profile`, `[default]`), so `list` and
 * `clear` name the token it really uses; undefined for none or a profile
 * that does not resolve.
 */
export function ssoStartUrlOf(config: ConfigFile, profile: string): string | undefined {
  if (!config.hasProfile(profile)) return undefined;
  try {
    return resolveProfileConfig(config, profile, { env: {} }).ssoStartUrl || undefined;
  } catch {
    return undefined;
  }
}

import { InvalidArgumentError } from 'commander';
import { closeSync, openSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigFile } from '../config/loadConfigFile.ts';
import type { Backend, BackendOptions } from '../keyring/backend.ts';
import type { CredentialStore, OidcTokenStore, SessionStore } from '../keyring/stores.ts';
import { terminalPrompter, type Prompter } from '../prompt/interactive.ts';
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
  const prompter = promptFor(ctx);
  return {
    backend: globals.backend,
    keychainName: globals.keychainName,
    secretServiceCollection: globals.secretServiceCollection,
    fileDir: globals.fileDir,
    // An empty passphrase in the environment is a choice the Go aws-vault honours too.
    filePassphrase: passphrase,
    promptPassphrase: hasTerminal(ctx) ? (message) => prompter.secret(message) : undefined,
    passDir: globals.passDir,
    passCmd: globals.passCmd,
    passPrefix: globals.passPrefix,
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
      const [{ openBackend }, { CredentialStore, SessionStore, OidcTokenStore }] =
        await Promise.all([import('../keyring/openBackend.ts'), import('../keyring/stores.ts')]);
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
  return vault;
}

/**
 * A 0700 folder for cross-process locks (`~/.awsvault/locks`), created on
 * first use. Locks live beside the store so every aws-vault process of the
 * user agrees on them, whatever the backend.
 */
export async function lockDir(ctx: Context): Promise<string> {
  const dir = join(ctx.homedir, '.awsvault', 'locks');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  return dir;
}

/** True when a prompt can reach a person: stdin is a TTY or a controlling terminal exists. */
export function hasTerminal(ctx: Context): boolean {
  if (ctx.io.stdin.isTTY) return true;
  if (process.platform === 'win32') return false;
  try {
    // Opening and closing /dev/tty is the only portable test for a controlling terminal.
    closeSync(openSync('/dev/tty', 'r'));
    return true;
  } catch {
    return false;
  }
}

/** The interactive prompter for `ctx` (prompts on the terminal, never on stdout). */
export function promptFor(ctx: Context, noTtyHint?: string): Prompter {
  return terminalPrompter({ stdin: ctx.io.stdin, stderr: ctx.io.stderr, noTtyHint });
}

/**
 * Validates a PROFILE argument: the name of a profile as written in the
 * config (`prod`, `team/dev prod`); empty names are usage errors.
 */
export function profileNameArg(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('profile name must not be empty');
  return value;
}

/** The SSO start URL of a profile: its `sso_start_url`, or its `[sso-session]`'s. */
export function ssoStartUrlOf(config: ConfigFile, profile: string): string | undefined {
  const section = config.profileSection(profile);
  if (!section) return undefined;
  if (section.sso_start_url) return section.sso_start_url;
  if (section.sso_session) return config.ssoSessionSection?.(section.sso_session)?.sso_start_url;
  return undefined;
}

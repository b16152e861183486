// Runs the credentials engine in-process against the local AWS-compatible
// endpoint with the real SDK over HTTP, the real config engine and a memory
// vault. Each test gets its own temp folder for locks and files.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigFile } from '../../../src/config/configFile.ts';
import { resolveProfileConfig } from '../../../src/config/resolveProfileConfig.ts';
import type { ProfileConfig, ProfileOverrides } from '../../../src/config/types.ts';
import { getCredentialsProvider, type EngineDeps } from '../../../src/credentials/index.ts';
import { CredentialStore } from '../../../src/keyring/credentialStore.ts';
import { MemoryBackend } from '../../../src/keyring/memoryBackend.ts';
import { OidcTokenStore } from '../../../src/keyring/oidcTokenStore.ts';
import { SessionStore } from '../../../src/keyring/sessionStore.ts';
import type { FakeAws } from '../../fakes/fakeAws.ts';

export interface Harness {
  dir: string;
  backend: MemoryBackend;
  credentials: CredentialStore;
  sessions: SessionStore;
  env: NodeJS.ProcessEnv;
  debugLines: string[];
  /** Serials the prompt was asked for, in order. */
  prompts: string[];
  /** What the prompt answers (default: the fake's current code for the serial's user). */
  answer: (serial: string) => string;
  deps: EngineDeps;
  profile(name: string, overrides?: ProfileOverrides): ProfileConfig;
  credentialsFor(
    name: string,
    overrides?: ProfileOverrides,
  ): ReturnType<ReturnType<typeof getCredentialsProvider>>;
  cleanup(): void;
}

/** A harness whose config is `configText` and whose STS is `fake`. */
export function harness(
  fake: FakeAws,
  configText: string | ((dir: string) => string),
  extraEnv: NodeJS.ProcessEnv = {},
): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'aws-vault-engine-'));
  const backend = new MemoryBackend();
  const credentials = new CredentialStore(backend);
  // The session cache judges expiry on the fake's clock, so clock.advance ages sessions.
  const sessions = new SessionStore(backend, { now: () => fake.clock.now() });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    USER: 'tester',
    AWS_ENDPOINT_URL: fake.url,
    AWS_CONFIG_FILE: join(dir, 'config'),
    ...extraEnv,
  };
  const file = new ConfigFile(
    join(dir, 'config'),
    typeof configText === 'string' ? configText : configText(dir),
  );
  const h: Harness = {
    dir,
    backend,
    credentials,
    sessions,
    env,
    debugLines: [],
    prompts: [],
    answer: () => '000000',
    deps: undefined as unknown as EngineDeps,
    profile: (name, overrides) => resolveProfileConfig(file, name, { env, overrides }),
    credentialsFor: (name, overrides) =>
      getCredentialsProvider(h.profile(name, overrides), h.deps)(),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
  h.deps = {
    credentials,
    sessions,
    oidcTokens: new OidcTokenStore(backend),
    lockDir: join(dir, 'locks'),
    env,
    debug: (line) => h.debugLines.push(line),
    mfaPrompt: async ({ mfaSerial }) => {
      h.prompts.push(mfaSerial);
      return h.answer(mfaSerial);
    },
  };
  return h;
}

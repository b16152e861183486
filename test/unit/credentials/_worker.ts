// One aws-vault-like process for the parallel and cached-path tests: opens the
// file vault in WORK_DIR, resolves PROFILE from AWS_CONFIG_FILE and prints the
// access key id it got (never a secret) and whether any AWS SDK module loaded.
import { registerHooks } from 'node:module';
import { join } from 'node:path';

const loaded: string[] = [];
registerHooks({
  load(url, context, next) {
    loaded.push(url);
    return next(url, context);
  },
});

const dir = process.env.WORK_DIR as string;
const profileName = process.env.PROFILE as string;
const [{ loadConfigFile }, { resolveProfileConfig }, engine, { FileBackend }, stores] =
  await Promise.all([
    import('../../../src/config/loadConfigFile.ts'),
    import('../../../src/config/resolveProfileConfig.ts'),
    import('../../../src/credentials/index.ts'),
    import('../../../src/keyring/fileBackend.ts'),
    import('../../../src/keyring/stores.ts'),
  ]);
const backend = new FileBackend({
  dir: join(dir, 'keys'),
  passphrase: process.env.AWS_VAULT_FILE_PASSPHRASE as string,
});
const profile = resolveProfileConfig(loadConfigFile(process.env, dir), profileName, {
  env: process.env,
});
const provider = engine.getCredentialsProvider(profile, {
  credentials: new stores.CredentialStore(backend),
  sessions: new stores.SessionStore(backend),
  oidcTokens: new stores.OidcTokenStore(backend),
  lockDir: join(dir, 'locks'),
  env: process.env,
  debug: () => {},
  mfaPrompt: async () => {
    throw new Error('the prompt driver must not be used: mfa_process is set');
  },
});
const creds = await provider();
process.stdout.write(
  `${JSON.stringify({
    accessKeyId: creds.accessKeyId,
    sdkLoaded: loaded.some((url) => url.includes('/@aws-sdk/') || url.includes('/@smithy/')),
  })}\n`,
);

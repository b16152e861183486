// The temporary HOME the benchmarks run aws-vault in: an AWS config with one
// profile `p`, and the environment that points aws-vault at it and at the
// local test endpoint, with nothing of the developer's own.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A new HOME (`prefix` in the temporary folder) for `endpoint`; the caller removes `home`. */
export function benchHome(prefix, endpoint) {
  const home = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(home, '.aws'));
  const config = join(home, '.aws', 'config');
  writeFileSync(config, '[profile p]\nregion = us-east-1\n');
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    AWS_CONFIG_FILE: config,
    AWS_ENDPOINT_URL: endpoint,
  };
  /** The same, with the `file` backend in HOME (its passphrase in the environment). */
  const fileEnv = {
    ...env,
    AWS_VAULT_BACKEND: 'file',
    AWS_VAULT_FILE_DIR: join(home, '.awsvault', 'keys'),
    AWS_VAULT_FILE_PASSPHRASE: 'bench passphrase',
  };
  return { home, env, fileEnv };
}

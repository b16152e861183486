import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigFile, readIfExists } from './configFile.ts';

export { ConfigFile } from './configFile.ts';
export type { SectionValues } from './configFile.ts';

/**
 * The path of the AWS config file: `AWS_CONFIG_FILE` (with `~` expanded, as
 * the AWS CLI does), else `HOME/.aws/config`.
 */
export function configFilePath(env: NodeJS.ProcessEnv, home: string = homedir()): string {
  const fromEnv = env.AWS_CONFIG_FILE;
  if (fromEnv === undefined || fromEnv === '') return join(home, '.aws', 'config');
  if (fromEnv === '~') return home;
  if (fromEnv.startsWith('~/')) return join(home, fromEnv.slice(2));
  return isAbsolute(fromEnv) ? fromEnv : resolve(fromEnv);
}

/**
 * Reads and parses the AWS config file (see `configFilePath`). A missing file
 * is an empty config; an unreadable or malformed one throws a `ConfigError`
 * naming `FILE:LINE`.
 */
export function loadConfigFile(env: NodeJS.ProcessEnv, home: string = homedir()): ConfigFile {
  const path = configFilePath(env, home);
  const bytes = readIfExists(path);
  return new ConfigFile(path, bytes?.toString('utf8') ?? '');
}

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { ConfigError } from '../../../src/config/errors.ts';
import { loadConfigFile, type ConfigFile } from '../../../src/config/loadConfigFile.ts';

const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary HOME, removed after the test. */
export function tempHome(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aws-vault-config-'));
  dirs.push(dir);
  return dir;
}

/** Writes `text` as the config file of a fresh HOME and loads it. */
export function configFrom(text: string): { file: ConfigFile; home: string; path: string } {
  const home = tempHome();
  const path = join(home, 'config');
  writeFileSync(path, text, { mode: 0o600 });
  return { file: loadConfigFile({ AWS_CONFIG_FILE: path }, home), home, path };
}

/** Runs `fn`, expects a ConfigError, and returns it. */
export function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError, got none');
}

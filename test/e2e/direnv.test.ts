import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installShim, parseEnvLines, runTool, startExecWorld, type ExecWorld } from './_exec.ts';

const DIRENV = '/usr/bin/direnv';

describe.skipIf(!existsSync(DIRENV))('direnv', async () => {
  let w: ExecWorld;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    w = await startExecWorld('[profile dv]\nregion = eu-north-1\n');
    await w.addUser('dv');
    const { binDir } = installShim(w.home.home);
    const configHome = join(w.home.home, '.config');
    env = w.env({
      PATH: `${binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      XDG_CONFIG_HOME: configHome,
      XDG_DATA_HOME: join(w.home.home, '.local', 'share'),
      XDG_CACHE_HOME: join(w.home.home, '.cache'),
    });
    // Install the helper the way the docs say: aws-vault direnvrc >> direnvrc.
    const helper = await w.run(['direnvrc'], { env });
    expect(helper.exitCode).toBe(0);
    expect(helper.stdout).toContain('use_aws_vault()');
    mkdirSync(join(configHome, 'direnv'), { recursive: true });
    writeFileSync(join(configHome, 'direnv', 'direnvrc'), helper.stdout);
  });
  afterAll(async () => {
    await w?.close();
  });

  function project(name: string, envrc: string): string {
    const dir = join(w.home.home, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '.envrc'), envrc);
    const allow = spawnSync(DIRENV, ['allow', dir], { env, encoding: 'utf8' });
    expect(allow.status).toBe(0);
    return dir;
  }

  function direnvExec(dir: string) {
    return runTool(DIRENV, ['exec', dir, 'env'], { env, cwd: dir });
  }

  it('loads credentials with "use aws_vault PROFILE"', async () => {
    const dir = project('helper', 'use aws_vault dv\n');
    const result = await direnvExec(dir);
    expect(result.status).toBe(0);
    const vars = parseEnvLines(result.stdout);
    expect(vars.AWS_ACCESS_KEY_ID).toMatch(/^ASIA/);
    expect(vars.AWS_SECRET_ACCESS_KEY).toBeTruthy();
    expect(vars.AWS_SESSION_TOKEN).toBeTruthy();
    expect(vars.AWS_REGION).toBe('eu-north-1');
    expect(result.stderr).toContain('aws-vault: loaded credentials for profile dv');
  });

  it('reports a failure and loads nothing', async () => {
    const dir = project('broken', 'use aws_vault no-such-profile\n');
    const result = await direnvExec(dir);
    const vars = parseEnvLines(result.stdout);
    expect(vars.AWS_ACCESS_KEY_ID).toBeUndefined();
    expect(result.stderr).toContain('no-such-profile');
    expect(result.stderr).toContain('use aws_vault: aws-vault export no-such-profile failed');
  });

  it('still supports the old export $(aws-vault exec ...) form', async () => {
    const dir = project('old', 'export $(aws-vault exec dv -- env | grep AWS_ | xargs)\n');
    const result = await direnvExec(dir);
    expect(result.status).toBe(0);
    const vars = parseEnvLines(result.stdout);
    expect(vars.AWS_ACCESS_KEY_ID).toMatch(/^ASIA/);
    expect(vars.AWS_SESSION_TOKEN).toBeTruthy();
    expect(vars.AWS_VAULT).toBe('dv');
  });
});

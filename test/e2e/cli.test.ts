// The CLI's surface: error format, usage errors, config errors, version,
// help, and shell completion that really completes.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, makeTempHome, ROOT, runCli, type TempHome } from './_runCli.ts';

const homes: TempHome[] = [];
afterEach(() => {
  for (const h of homes.splice(0)) h.cleanup();
});
function home(config = ''): TempHome {
  const h = makeTempHome({ config });
  homes.push(h);
  return h;
}

describe('cli', () => {
  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    const r = await runCli(['--version'], { env: home().env() });
    expect(r.exitCode).toBe(0);
    if (process.env.AWS_VAULT_TEST_BIN) expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\S*\n$/);
    else expect(r.stdout).toBe(`${version}\n`);
  });

  it('--help lists the vault commands and examples', async () => {
    const r = await runCli(['--help'], { env: home().env() });
    expect(r.exitCode).toBe(0);
    for (const word of ['add', 'list|ls', 'remove|rm', 'clear', 'completion', 'Examples:']) {
      expect(r.stdout).toContain(word);
    }
    const add = await runCli(['add', '--help'], { env: home().env() });
    expect(add.stdout).toContain('--no-add-config');
    expect(add.stdout).toContain('aws-vault add jonsmith');
  });

  it('usage errors: one error line plus the usage line, exit 1', async () => {
    const r = await runCli(['list', '--bogus'], { env: home().env() });
    expect(r).toMatchObject({
      exitCode: 1,
      stdout: '',
      stderr: "aws-vault: error: list: unknown option '--bogus'\nusage: aws-vault list [options]\n",
    });
    const missing = await runCli(['remove'], { env: home().env() });
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(
      /^aws-vault: error: remove: missing required argument 'profile'\n/,
    );
  });

  it('a bad AWS_VAULT_PROMPT is refused at once by every command, as a bad --prompt is', async () => {
    const h = home('[profile p]\n');
    const added = await runCli(['add', '--env', 'p'], {
      env: h.env({
        AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'x'.repeat(40),
      }),
    });
    expect(added.exitCode, added.stderr).toBe(0);
    const bogus = h.env({ AWS_VAULT_PROMPT: 'zenit' });
    // exec -n is answered from the stored key alone (the fast path): no prompt is needed.
    for (const args of [['list'], ['exec', '-n', 'p', '--', 'true'], ['export', '-n', 'p']]) {
      const r = await runCli(args, { env: bogus });
      expect(r.exitCode, args.join(' ')).toBe(1);
      expect(r.stderr).toBe(
        `aws-vault: error: ${args[0]}: AWS_VAULT_PROMPT="zenit" is not a prompt driver; use one of: terminal, ykman, osascript, zenity, kdialog\n`,
      );
    }
    // The flag wins over the variable; an empty variable is unset.
    const flag = await runCli(['--prompt', 'terminal', 'exec', '-n', 'p', '--', 'true'], {
      env: bogus,
    });
    expect(flag).toMatchObject({ exitCode: 0, stderr: '' });
    const empty = await runCli(['exec', '-n', 'p', '--', 'true'], {
      env: h.env({ AWS_VAULT_PROMPT: '' }),
    });
    expect(empty).toMatchObject({ exitCode: 0, stderr: '' });
  });

  it('a value flag followed by another flag is a usage error, not that flag taken for its value', async () => {
    const h = home('[profile p]\n');
    const added = await runCli(['add', '--env', 'p'], {
      env: h.env({
        AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'x'.repeat(40),
      }),
    });
    expect(added.exitCode, added.stderr).toBe(0);
    // An empty $REGION in `--region $REGION --format=json`; -n eaten by --region or -t.
    for (const [args, flag, value] of [
      [['export', '-n', 'p', '--region', '--format=json'], '--region <region>', '--format=json'],
      [['exec', 'p', '--region', '-n', '--', 'true'], '--region <region>', '-n'],
      [['exec', 'p', '-t', '-n', '--', 'true'], '-t, --mfa-token <code>', '-n'],
      [['--file-dir', '--debug', 'list'], '--file-dir <dir>', '--debug'],
    ] as const) {
      const r = await runCli([...args], { env: h.env() });
      expect(r.exitCode, args.join(' ')).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(
        `option '${flag}' argument '${value}' is invalid. a value was expected, not a flag\nusage: aws-vault `,
      );
    }
    const ok = await runCli(['exec', '-n', 'p', '--region', 'eu-west-1', '--', 'env'], {
      env: h.env(),
    });
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('AWS_REGION=eu-west-1\n');
  });

  it('a malformed config names the file and line, without a stack trace', async () => {
    const h = home('[profile a]\nregion = eu-west-1\nthis is not ini\n');
    const r = await runCli(['list'], { env: h.env() });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^aws-vault: error: list: ${h.configFile}:3: .+\\n$`));
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--debug adds detail but never a stack for a user error', async () => {
    const r = await runCli(['--debug', 'remove', '-f', 'nobody'], { env: home().env() });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('aws-vault: error: remove: profile "nobody" not found in');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

/**
 * Runs the binary with its stdout or stderr pipe closed by the reader before
 * anything is written (as `aws-vault list | head -0` or a reader that quit).
 */
function runWithClosed(
  which: 'stdout' | 'stderr',
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ exitCode: number | null; signal: NodeJS.Signals | null; other: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const closed = which === 'stdout' ? child.stdout : child.stderr;
    const open = which === 'stdout' ? child.stderr : child.stdout;
    closed.destroy();
    let other = '';
    open.setEncoding('utf8').on('data', (d: string) => (other += d));
    child.on('error', reject);
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ exitCode, signal, other });
    });
  });
}

describe('a reader that closes the pipe', () => {
  const config = '[profile a]\nregion = eu-west-1\n[profile b]\nregion = eu-west-1\n';

  it('closed stdout: --help and list exit quietly with their own code, no EPIPE stack', async () => {
    const h = home(config);
    for (const args of [['--help'], ['list'], ['add', '--help']]) {
      const r = await runWithClosed('stdout', args, h.env());
      expect(r.other, args.join(' ')).toBe('');
      expect(r).toMatchObject({ exitCode: 0, signal: null });
    }
  });

  it('closed stderr: --debug output is dropped and the command still succeeds', async () => {
    const h = home(config);
    const r = await runWithClosed('stderr', ['--debug', 'list'], h.env());
    expect(r).toMatchObject({ exitCode: 0, signal: null });
    expect(r.other).toMatch(/^Profile +Credentials +Sessions *\n/);
    expect(r.other).toMatch(/\nb +- +- *\n$/);
  });

  it('a real `| head -1` pipeline prints one line and exits 0', () => {
    const r = spawnSync(
      'bash',
      ['-c', 'set -o pipefail; "$NODE" "$BIN" --help | head -1; echo "status=$?" >&2'],
      { env: { ...home().env(), NODE: process.execPath, BIN }, encoding: 'utf8' },
    );
    expect(r.stdout).toBe('Usage: aws-vault [options] [command]\n');
    expect(r.stderr).toBe('status=0\n');
  });
});

describe("the Go aws-vault's other names", () => {
  it('kwallet, keyctl and wincredui fail saying what to use; --help-long is --help', async () => {
    const h = home('[profile p]\n');
    const kwallet = await runCli(['--backend', 'kwallet', 'list'], { env: h.env() });
    expect(kwallet.exitCode).toBe(1);
    expect(kwallet.stderr).toMatch(
      /^aws-vault: error: list: the kwallet backend is not available in this aws-vault; .*use --backend=secret-service/,
    );
    const keyctl = await runCli(['exec', 'p', '--', 'true'], {
      env: h.env({ AWS_VAULT_BACKEND: 'keyctl' }),
    });
    expect(keyctl.exitCode).toBe(1);
    expect(keyctl.stderr).toMatch(
      /^aws-vault: error: exec: the keyctl backend .*--backend=file\n$/,
    );
    const help = await runCli(['--help-long'], { env: h.env() });
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toBe((await runCli(['--help'], { env: h.env() })).stdout);
  });
});

describe('completion', () => {
  it('bash completes subcommands, flags and profile names', async () => {
    const h = home('[profile prod]\n[profile team dev]\n[profile staging]\n');
    const binDir = join(h.home, 'bin');
    mkdirSync(binDir);
    // `aws-vault` on PATH, as installed: the script calls it for profile names.
    writeFileSync(
      join(binDir, 'aws-vault'),
      `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`,
    );
    chmodSync(join(binDir, 'aws-vault'), 0o755);
    const script = await runCli(['completion', 'bash'], { env: h.env() });
    expect(script.exitCode).toBe(0);
    const scriptFile = join(h.home, 'completion.bash');
    writeFileSync(scriptFile, script.stdout);

    const complete = (...words: string[]) => {
      const r = spawnSync(
        'bash',
        [
          '-c',
          `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _aws_vault; printf '%s\\n' "\${COMPREPLY[@]}"`,
          'bash',
          scriptFile,
          ...words,
        ],
        {
          env: h.env({ PATH: `${binDir}:${process.env.PATH}` }),
          encoding: 'utf8',
          timeout: 20_000,
        },
      );
      expect(r.stderr).toBe('');
      return r.stdout.split('\n').filter(Boolean).sort();
    };

    expect(complete('aws-vault', 'l')).toEqual(['list', 'login', 'ls']);
    expect(complete('aws-vault', 'rem')).toEqual(['remove']);
    expect(complete('aws-vault', '--deb')).toEqual(['--debug']);
    expect(complete('aws-vault', '--backend', 'fi')).toEqual(['file']);
    expect(complete('aws-vault', '--backend', 'file', 'cl')).toEqual(['clear']);
    expect(complete('aws-vault', 'list', '--pro')).toEqual(['--profiles']);
    expect(complete('aws-vault', 'remove', '--f')).toEqual(['--force']);
    expect(complete('aws-vault', 'remove', '')).toEqual(['prod', 'staging', 'team\\ dev']);
    expect(complete('aws-vault', 'rm', 'st')).toEqual(['staging']);
    expect(complete('aws-vault', 'list', '')).toEqual([]);
    // After --, the command's first word is a command name, then file names.
    expect(complete('aws-vault', 'exec', 'prod', '--', 'ech')).toContain('echo');
    writeFileSync(join(h.home, 'deploy-notes.txt'), '');
    const inHome = (...words: string[]) =>
      spawnSync(
        'bash',
        [
          '-c',
          `cd "$2"; source "$1"; shift 2; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _aws_vault; printf '%s\\n' "\${COMPREPLY[@]}"`,
          'bash',
          scriptFile,
          h.home,
          ...words,
        ],
        { env: h.env({ PATH: `${binDir}:${process.env.PATH}` }), encoding: 'utf8' },
      ).stdout.trim();
    expect(inHome('aws-vault', 'exec', 'prod', '--', 'cat', 'deploy-')).toBe('deploy-notes.txt');
  });

  it("answers the Go aws-vault's completion calls (--completion-bash), which its scripts make", async () => {
    const h = home('[profile prod]\n[profile staging]\n');
    const words = async (...args: string[]) => {
      const r = await runCli(['--completion-bash', ...args], { env: h.env() });
      expect(r).toMatchObject({ exitCode: 0, stderr: '' });
      return r.stdout.split('\n').filter(Boolean);
    };
    expect(await words('')).toEqual(expect.arrayContaining(['add', 'exec', 'list', 'rotate']));
    expect(await words('exec', '')).toEqual(['prod', 'staging']);
    expect(await words('--debug', 'remove', 'st')).toEqual(['prod', 'staging']);
    expect(await words('exec', 'prod', '')).toEqual([]);
    expect(await words('--backend', '')).toEqual(expect.arrayContaining(['file', 'pass']));
    expect(await words('exec', '--duration', '')).toEqual([]);
    expect(await words('exec', '--du')).toEqual(expect.arrayContaining(['--duration', '--debug']));
    expect(await words('exec', 'prod', '--', '')).toEqual([]);
    // The same protocol from a bash completion function, as those scripts use it.
    const r = spawnSync(
      'bash',
      [
        '-c',
        '_f() { COMPREPLY=($(compgen -W "$("$NODE" "$BIN" --completion-bash "${COMP_WORDS[@]:1:$COMP_CWORD}")" -- "${COMP_WORDS[COMP_CWORD]}")); }; ' +
          'COMP_WORDS=(aws-vault exec s); COMP_CWORD=2; _f; echo "${COMPREPLY[@]}"',
      ],
      { env: h.env({ NODE: process.execPath, BIN }), encoding: 'utf8' },
    );
    expect(r.stdout).toBe('staging\n');
    // And its script-printing flags print ours.
    for (const shell of ['bash', 'zsh']) {
      const legacy = await runCli([`--completion-script-${shell}`], { env: h.env() });
      const ours = await runCli(['completion', shell], { env: h.env() });
      expect(legacy.exitCode).toBe(0);
      expect(legacy.stdout).toBe(ours.stdout);
    }
  });

  it('zsh and fish scripts name every command', async () => {
    const h = home();
    for (const shell of ['zsh', 'fish']) {
      const r = await runCli(['completion', shell], { env: h.env() });
      expect(r.exitCode).toBe(0);
      for (const cmd of ['add', 'list', 'remove', 'clear']) expect(r.stdout).toContain(cmd);
    }
    const fish = await runCli(['completion', 'fish'], { env: h.env() });
    expect(fish.stdout).toContain("-a '(aws-vault list --profiles 2>/dev/null)'");
    const bad = await runCli(['completion', 'tcsh'], { env: h.env() });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/^aws-vault: error: completion: unknown shell "tcsh"/);
  });
});

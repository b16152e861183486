import { Command } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import {
  EXEC_VALUE_OPTIONS,
  findSubcommand,
  GLOBAL_VALUE_OPTIONS,
  normalizeArgv,
  splitExecArgs,
} from '../../../src/cli/argv.ts';
import { registerExec } from '../../../src/cli/exec.ts';
import { registerExport } from '../../../src/cli/export.ts';
import type { Host } from '../../../src/cli/host.ts';
import { main } from '../../../src/main.ts';

describe('splitExecArgs', () => {
  it('reads options between the profile and `--` as aws-vault flags (Go USAGE.md)', () => {
    expect(splitExecArgs(['p', '--no-session', '--', 'env'])).toEqual({
      options: ['--no-session'],
      profile: 'p',
      command: ['env'],
    });
    expect(splitExecArgs(['-d', '2h', 'p', '--region', 'r', '-t', '123456', '--', 'true'])).toEqual(
      { options: ['-d', '2h', '--region', 'r', '-t', '123456'], profile: 'p', command: ['true'] },
    );
  });

  it('starts the command at the first word after the profile and keeps the rest verbatim', () => {
    expect(splitExecArgs(['p', '-n', 'aws', 's3', 'ls', '--recursive', '--', 'x'])).toEqual({
      options: ['-n'],
      profile: 'p',
      command: ['aws', 's3', 'ls', '--recursive', '--', 'x'],
    });
    expect(splitExecArgs(['p', '--', '--', '-n'])).toEqual({
      options: [],
      profile: 'p',
      command: ['--', '-n'],
    });
  });

  it('knows which flags take a value in every form', () => {
    expect(splitExecArgs(['p', '--duration=2h', '-nd', '90m', '-t123', 'cmd'])).toEqual({
      options: ['--duration=2h', '-nd', '90m', '-t123'],
      profile: 'p',
      command: ['cmd'],
    });
    // A value that looks like a profile or a command is still the flag's value.
    expect(splitExecArgs(['--prompt', 'ykman', 'p', '--backend', 'file', '--', 'aws'])).toEqual({
      options: ['--prompt', 'ykman', '--backend', 'file'],
      profile: 'p',
      command: ['aws'],
    });
    expect(splitExecArgs(['p'])).toEqual({ options: [], profile: 'p', command: [] });
    expect(splitExecArgs(['--help'])).toEqual({
      options: ['--help'],
      profile: undefined,
      command: [],
    });
  });
});

describe('normalizeArgv', () => {
  it('rewrites exec lines to `exec OPTIONS PROFILE -- CMD`', () => {
    expect(normalizeArgv(['--backend', 'file', 'exec', 'p', '--debug', '--', 'env'])).toEqual([
      '--backend',
      'file',
      'exec',
      '--debug',
      'p',
      '--',
      'env',
    ]);
    expect(normalizeArgv(['exec', 'p', '-n'])).toEqual(['exec', '-n', 'p', '--']);
  });

  it('puts a value option given without its value last, so its value is reported missing', () => {
    expect(splitExecArgs(['p', '-d'])).toEqual({
      options: [],
      profile: 'p',
      command: [],
      missingValue: '-d',
    });
    expect(normalizeArgv(['exec', 'p', '-d'])).toEqual(['exec', '-d']);
    expect(normalizeArgv(['exec', 'p', '-n', '--duration', '--', 'true'])).toEqual([
      'exec',
      '-n',
      '--duration',
    ]);
    expect(normalizeArgv(['exec', 'p', '-nd'])).toEqual(['exec', '-nd']);
    // A value that looks like anything but `--` is still the value.
    expect(normalizeArgv(['exec', 'p', '-d', '1h', '--', 'true'])).toEqual([
      'exec',
      '-d',
      '1h',
      'p',
      '--',
      'true',
    ]);
  });

  it('puts a profile that starts with - after a -- of its own', () => {
    for (const argv of [
      ['exec', '--', '-dev', '--', 'env'],
      ['exec', '--', '-dev', 'env'],
    ]) {
      expect(normalizeArgv(argv)).toEqual(['exec', '--', '-dev', '--', 'env']);
    }
    expect(normalizeArgv(['exec', '-n', '--', '-dev'])).toEqual(['exec', '-n', '--', '-dev', '--']);
    expect(splitExecArgs(['--', 'p', '--', '--', 'x'])).toEqual({
      options: [],
      profile: 'p',
      command: ['--', 'x'],
    });
  });

  it('leaves other commands alone', () => {
    for (const argv of [['list', '--debug'], ['export', 'p', '-n'], ['--backend', 'exec'], []]) {
      expect(normalizeArgv(argv)).toEqual(argv);
    }
    expect(findSubcommand(['--backend', 'exec', 'list'])).toBe(2);
  });
});

describe('the option tables match the commander definitions', () => {
  const valueFlags = (cmd: Command) =>
    cmd.options
      .filter((o) => o.required || o.optional)
      .flatMap((o) => [o.short, o.long].filter((f): f is string => f !== undefined));
  const host: Host = { run: async () => {} };

  it('exec and export value flags', () => {
    const program = new Command().enablePositionalOptions();
    registerExec(program, host);
    registerExport(program, host);
    const [exec, exp] = program.commands as [Command, Command];
    expect(valueFlags(exec).sort()).toEqual([...EXEC_VALUE_OPTIONS].sort());
    expect(valueFlags(exp).sort()).toEqual(
      [...EXEC_VALUE_OPTIONS, '--format'].filter((f) => f !== '--ec2-server-address').sort(),
    );
  });

  it('global value flags', async () => {
    vi.stubGlobal('__AWS_VAULT_VERSION__', '0.0.0-test');
    let out = '';
    const sink = { write: (s: string) => ((out += s), true) };
    const io = { stdin: process.stdin, stdout: sink, stderr: sink } as never;
    expect(await main(['--help'], { io, env: { HOME: '/nonexistent' } })).toBe(0);
    const shown = [...out.matchAll(/^ {2}(?:-\w, )?(--[\w-]+) </gm)].map((m) => m[1]);
    expect(shown.sort()).toEqual([...GLOBAL_VALUE_OPTIONS].sort());
  });
});

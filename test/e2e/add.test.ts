import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, makeTempHome, runCli } from './_runCli.ts';
import { hasTmux, startTmux, waitFor } from '../helpers/tmux.ts';
import {
  BACKEND_CASES,
  homesCleanedAfterEach,
  fakeKeys,
  seedSession,
  uniqueProfile,
  vaultKeys,
} from './_vault.ts';

const homes = homesCleanedAfterEach();

for (const backend of BACKEND_CASES) {
  describe.runIf(backend.enabled)(`add (${backend.name})`, () => {
    it('--env stores the keys, adds [profile P] to the config and drops old sessions', async () => {
      const home = makeTempHome({
        backend: backend.name,
        config: '[default]\nregion = eu-west-1\n',
      });
      const profile = uniqueProfile('add');
      homes.push({ home, backend: backend.name, profiles: [profile] });
      await seedSession(home, backend.name, profile);
      const keys = fakeKeys();
      const r = await runCli(['add', '--env', profile], {
        env: home.env({
          AWS_ACCESS_KEY_ID: keys.accessKeyId,
          AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
        }),
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(
        `Added credentials to profile "${profile}" in vault\nDeleted 1 existing sessions.\n`,
      );
      expect(r.exitCode).toBe(0);
      expect(readFileSync(home.configFile, 'utf8')).toBe(
        `[default]\nregion = eu-west-1\n\n[profile ${profile}]\n`,
      );
      const list = await runCli(['list', '--credentials'], { env: home.env() });
      expect(list.stdout.split('\n')).toContain(profile);
      expect((await vaultKeys(home, backend.name)).filter((k) => k.includes(','))).toEqual(
        backend.name === 'file' ? [] : expect.any(Array),
      );
    });

    it('--no-add-config leaves the config alone', async () => {
      const home = makeTempHome({ backend: backend.name });
      const profile = uniqueProfile('noconf');
      homes.push({ home, backend: backend.name, profiles: [profile] });
      const keys = fakeKeys();
      const r = await runCli(['add', '--env', '--no-add-config', profile], {
        env: home.env({
          AWS_ACCESS_KEY_ID: keys.accessKeyId,
          AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
        }),
      });
      expect(r.exitCode).toBe(0);
      expect(readFileSync(home.configFile, 'utf8')).toBe('');
    });
  });
}

describe('add errors', () => {
  it('with no TTY and no --env fails at once with a clear message', async () => {
    const home = makeTempHome();
    homes.push({ home, backend: 'file', profiles: [] });
    const started = Date.now();
    const r = await runCli(['add', 'p'], { env: home.env(), timeout: 10_000 });
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(
      /^aws-vault: error: add: cannot prompt for input: no terminal \(TTY\) available; use --env/,
    );
    expect(r.stdout).toBe('');
  });

  it('--env with a missing variable names it', async () => {
    const home = makeTempHome();
    homes.push({ home, backend: 'file', profiles: [] });
    const r = await runCli(['add', '--env', 'p'], {
      env: home.env({ AWS_ACCESS_KEY_ID: 'AKIAX' }),
    });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe('aws-vault: error: add: Missing value for AWS_SECRET_ACCESS_KEY\n');
  });

  it('refuses temporary credentials (a session token, an ASIA key id) before storing anything', async () => {
    const home = makeTempHome({ config: '[profile ok]\n' });
    homes.push({ home, backend: 'file', profiles: [] });
    const keys = fakeKeys();
    const temporary = `ASIA${keys.accessKeyId.slice(4)}`;
    const cases: [NodeJS.ProcessEnv, string][] = [
      [
        { ...keys, AWS_SESSION_TOKEN: 'session-token-value' },
        'AWS_SESSION_TOKEN is set: these are temporary credentials',
      ],
      [{ ...keys, AWS_SECURITY_TOKEN: 'session-token-value' }, 'AWS_SECURITY_TOKEN is set'],
      [{ ...keys, accessKeyId: temporary }, 'ASIA... is a temporary access key id'],
    ];
    for (const [vars, why] of cases) {
      const r = await runCli(['add', '--env', 'ok'], {
        env: home.env({
          AWS_ACCESS_KEY_ID: vars.accessKeyId,
          AWS_SECRET_ACCESS_KEY: vars.secretAccessKey,
          AWS_SESSION_TOKEN: vars.AWS_SESSION_TOKEN,
          AWS_SECURITY_TOKEN: vars.AWS_SECURITY_TOKEN,
        }),
      });
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`aws-vault: error: add: ${why}`);
      expect(r.stderr).toContain(
        "which expire; add stores an IAM user's long-term access key (AKIA...): nothing was stored\n",
      );
      expect(r.stderr).not.toContain('session-token-value');
      expect(r.stderr).not.toContain(keys.secretAccessKey);
    }
    expect(existsSync(home.fileDir)).toBe(false);
  });

  it("stores the keys another aws-vault's exec --no-session hands over (AWS_VAULT set, no token)", async () => {
    // How keys move from the Go aws-vault's keychain: README "Moving from the Go aws-vault".
    const home = makeTempHome({ config: '[profile ok]\n' });
    homes.push({ home, backend: 'file', profiles: [] });
    const keys = fakeKeys();
    const r = await runCli(['add', '--env', 'ok'], {
      env: home.env({
        AWS_VAULT: 'ok',
        AWS_ACCESS_KEY_ID: keys.accessKeyId,
        AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
        AWS_REGION: 'eu-west-1',
      }),
    });
    expect(r).toMatchObject({ exitCode: 0, stderr: '' });
    const out = await runCli(['export', '--no-session', '--format=json', 'ok'], {
      env: home.env(),
    });
    expect(JSON.parse(out.stdout)).toMatchObject({
      AccessKeyId: keys.accessKeyId,
      SecretAccessKey: keys.secretAccessKey,
    });
  });

  it('with AWS_CONFIG_FILE=/dev/null stores nothing and leaves the device alone', async () => {
    const home = makeTempHome();
    homes.push({ home, backend: 'file', profiles: [] });
    const keys = fakeKeys();
    const env = home.env({
      AWS_CONFIG_FILE: '/dev/null',
      AWS_ACCESS_KEY_ID: keys.accessKeyId,
      AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
    });
    const r = await runCli(['add', '--env', 'devnull'], { env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe(
      'aws-vault: error: add: /dev/null: the config file is not a regular file (a device, a pipe or a folder), so aws-vault does not write to it; nothing was stored (--no-add-config stores the keys without adding the profile)\n',
    );
    expect(existsSync(home.fileDir)).toBe(false);
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
    const stored = await runCli(['add', '--env', '--no-add-config', 'devnull'], { env });
    expect(stored).toMatchObject({ exitCode: 0, stderr: '' });
  });

  it('refuses a profile whose source_profile is another profile', async () => {
    const home = makeTempHome({
      config:
        '[profile base]\n\n[profile role]\nsource_profile = base\nrole_arn = arn:aws:iam::111111111111:role/r\n',
    });
    homes.push({ home, backend: 'file', profiles: [] });
    const keys = fakeKeys();
    const r = await runCli(['add', '--env', 'role'], {
      env: home.env({
        AWS_ACCESS_KEY_ID: keys.accessKeyId,
        AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
      }),
    });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('aws-vault: error: add: Your profile has a source_profile of base');
    const list = await runCli(['list', '--credentials'], { env: home.env() });
    expect(list.stdout).toBe('');
  });

  it('refuses a source_profile inherited through include_profile, before asking for a passphrase', async () => {
    const home = makeTempHome({
      config:
        '[profile base]\n\n[profile common]\nsource_profile = base\n\n' +
        '[profile role]\ninclude_profile = common\nrole_arn = arn:aws:iam::111111111111:role/r\n',
    });
    homes.push({ home, backend: 'file', profiles: [] });
    const keys = fakeKeys();
    const r = await runCli(['add', '--env', 'role'], {
      // No passphrase: opening the file store first would fail differently.
      env: home.env({
        AWS_VAULT_FILE_PASSPHRASE: undefined,
        AWS_ACCESS_KEY_ID: keys.accessKeyId,
        AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
      }),
    });
    expect(r.stderr).toBe(
      'aws-vault: error: add: Your profile has a source_profile of base (through include_profile, ' +
        "from [profile common]), adding credentials to role won't have any effect; " +
        'add them to "base" instead: aws-vault add base\n',
    );
    expect(r.exitCode).toBe(1);
    expect(existsSync(home.fileDir)).toBe(false);
  });

  it('adds keys to a profile that names itself, and despite a source_profile in [default]', async () => {
    const config =
      '[default]\nregion = eu-west-1\nsource_profile = base\n\n' +
      '[profile base]\n\n[profile self]\nsource_profile = self\n\n[profile plain]\nregion = us-east-1\n';
    const home = makeTempHome({ config });
    homes.push({ home, backend: 'file', profiles: [] });
    const keys = fakeKeys();
    const env = home.env({
      AWS_ACCESS_KEY_ID: keys.accessKeyId,
      AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
    });
    for (const profile of ['base', 'self']) {
      const r = await runCli(['add', '--env', profile], { env });
      expect(r).toMatchObject({
        exitCode: 0,
        stderr: '',
        stdout: `Added credentials to profile "${profile}" in vault\n`,
      });
    }
    const plain = await runCli(['add', '--env', 'plain'], { env });
    expect(plain).toMatchObject({
      exitCode: 0,
      stderr: '',
      stdout: 'Added credentials to profile "plain" in vault\n',
    });
    // Its own keys come before the source_profile it inherits from [default].
    const used = await runCli(['--debug', 'export', '--no-session', 'plain'], { env: home.env() });
    expect(used.exitCode, used.stderr).toBe(0);
    expect(used.stderr).toContain('profile plain: using stored credentials');
    expect(used.stdout).toContain(`AWS_ACCESS_KEY_ID=${keys.accessKeyId}`);
    // A profile absent from the config is added, and then inherits [default] too.
    const fresh = await runCli(['add', '--env', 'fresh'], { env });
    expect(fresh).toMatchObject({ exitCode: 0, stderr: '' });
    const list = await runCli(['list', '--credentials'], { env: home.env() });
    expect(list.stdout.split('\n').filter(Boolean).sort()).toEqual([
      'base',
      'fresh',
      'plain',
      'self',
    ]);
    expect(readFileSync(home.configFile, 'utf8')).toBe(`${config}\n[profile fresh]\n`);
  });
});

describe('add: profile names with spaces', () => {
  it('writes [profile "team dev"], which the AWS CLI and list read as team dev', async () => {
    const home = makeTempHome({ config: '[profile "team ops"]\nregion = eu-west-1\n' });
    homes.push({ home, backend: 'file', profiles: [] });
    const keys = fakeKeys();
    const env = home.env({
      AWS_ACCESS_KEY_ID: keys.accessKeyId,
      AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
    });
    for (const profile of ['team ops', 'team dev']) {
      const r = await runCli(['add', '--env', profile], { env });
      expect(r).toMatchObject({ exitCode: 0, stderr: '' });
    }
    expect(readFileSync(home.configFile, 'utf8')).toBe(
      '[profile "team ops"]\nregion = eu-west-1\n\n[profile "team dev"]\n',
    );
    const list = await runCli(['list', '--profiles'], { env: home.env() });
    expect(list.stdout).toBe('team ops\nteam dev\n');
    const creds = await runCli(['list', '--credentials'], { env: home.env() });
    expect(creds.stdout.split('\n').filter(Boolean).sort()).toEqual(['team dev', 'team ops']);
  });

  it('refuses a name no config section can hold before storing anything', async () => {
    const home = makeTempHome({ config: '[profile ok]\n' });
    homes.push({ home, backend: 'file', profiles: [] });
    const keys = fakeKeys();
    const env = home.env({
      AWS_ACCESS_KEY_ID: keys.accessKeyId,
      AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
    });
    for (const name of ['a]b', ' lead']) {
      const r = await runCli(['add', '--env', name], { env });
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        `aws-vault: error: add: ${home.configFile}: cannot add profile ${JSON.stringify(name)}: ` +
          'not a valid profile name in a config file (no [, ], line breaks, or spaces at either end); ' +
          'nothing was stored (--no-add-config stores the keys without adding the profile)\n',
      );
    }
    expect(existsSync(home.fileDir)).toBe(false);
    expect(readFileSync(home.configFile, 'utf8')).toBe('[profile ok]\n');
    const without = await runCli(['add', '--env', '--no-add-config', 'a]b'], { env });
    expect(without).toMatchObject({ exitCode: 0, stderr: '' });
  });
});

describe.runIf(hasTmux)('add on a real terminal (tmux)', () => {
  it('prompts for the key id and a hidden secret', async () => {
    const home = makeTempHome();
    homes.push({ home, backend: 'file', profiles: [] });
    const keys = fakeKeys();
    // stdout captured to a file: the prompts must still reach the terminal.
    const out = `${home.home}/out.txt`;
    const term = startTmux(
      home.home,
      home.env(),
      `${process.execPath} ${BIN} add tty-profile > ${out}; echo EXIT=$?; sleep 30`,
      { width: 200, height: 50 },
    );
    try {
      // capture-pane drops trailing spaces, so the prompts are matched without theirs.
      await waitFor(() => term.screen().includes('Enter Access Key ID:'));
      term.sendKeys(keys.accessKeyId, 'Enter');
      await waitFor(() => term.screen().includes('Enter Secret Access Key:'));
      term.sendKeys('-l', keys.secretAccessKey);
      term.sendKeys('Enter');
      const text = await waitFor(() => term.screen().includes('EXIT=') && term.screen());
      expect(text).toContain('EXIT=0');
      expect(text).toContain(keys.accessKeyId); // the id is echoed
      expect(text).not.toContain(keys.secretAccessKey); // the secret is not
      expect(text).not.toContain(keys.secretAccessKey.slice(0, 12));
      expect(readFileSync(out, 'utf8')).toBe(
        'Added credentials to profile "tty-profile" in vault\n',
      );
      const r = await runCli(['export', '--no-session', '--format=json', 'tty-profile'], {
        env: home.env(),
      });
      if (r.exitCode === 0) expect(JSON.parse(r.stdout).SecretAccessKey).toBe(keys.secretAccessKey);
    } finally {
      term.kill();
    }
  });

  it('Ctrl-C at any prompt exits 130 and stores nothing', async () => {
    const home = makeTempHome();
    homes.push({ home, backend: 'file', profiles: [] });
    const keys = fakeKeys();
    const { AWS_VAULT_FILE_PASSPHRASE: _typed, ...env } = home.env();
    // A shell would die of the terminal's SIGINT with its child; this parent
    // ignores it (its child gets the default again) and prints how it ended.
    const parent = join(home.home, 'parent.cjs');
    writeFileSync(
      parent,
      `process.on('SIGINT', () => {});
const r = require('node:child_process').spawnSync(process.execPath, process.argv.slice(2), { stdio: 'inherit' });
console.log('EXIT=' + (r.status ?? 128 + require('node:os').constants.signals[r.signal]));
setTimeout(() => {}, 30000);
`,
    );
    // The key id is read in cooked mode (the terminal sends SIGINT), the
    // secret and the passphrase in raw mode (Ctrl-C is read as a character).
    for (const [stop, before] of [
      ['Enter Access Key ID:', []],
      ['Enter Secret Access Key:', [keys.accessKeyId]],
      ['Enter passphrase', [keys.accessKeyId, keys.secretAccessKey]],
    ] as const) {
      const term = startTmux(
        home.home,
        env,
        `${process.execPath} ${parent} ${BIN} add tty-profile`,
        { width: 200, height: 50 },
      );
      try {
        const prompts = ['Enter Access Key ID:', 'Enter Secret Access Key:'];
        for (const [i, answer] of before.entries()) {
          await waitFor(() => term.screen().includes(prompts[i] as string));
          term.sendKeys('-l', answer);
          term.sendKeys('Enter');
        }
        await waitFor(() => term.screen().includes(stop));
        term.sendKeys('C-c');
        const text = await waitFor(() => term.screen().includes('EXIT=') && term.screen());
        expect(text, stop).toContain('EXIT=130');
        expect(existsSync(home.fileDir), stop).toBe(false);
      } finally {
        term.kill();
      }
    }
  });

  it('refuses a temporary (ASIA) key id typed at the prompt, before asking for the secret', async () => {
    const home = makeTempHome();
    homes.push({ home, backend: 'file', profiles: [] });
    const term = startTmux(
      home.home,
      home.env(),
      `${process.execPath} ${BIN} add tty-profile; echo EXIT=$?; sleep 30`,
      { width: 200, height: 50 },
    );
    try {
      await waitFor(() => term.screen().includes('Enter Access Key ID:'));
      term.sendKeys('ASIAEXAMPLEEXAMPLE12', 'Enter');
      const text = await waitFor(() => term.screen().includes('EXIT=') && term.screen());
      expect(text).toContain('EXIT=1');
      expect(text).toContain('add: ASIA... is a temporary access key id');
      expect(text).not.toContain('Enter Secret Access Key');
      expect(existsSync(home.fileDir)).toBe(false);
    } finally {
      term.kill();
    }
  });
});

import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.ts';
import { configFilePath, loadConfigFile } from '../../../src/config/loadConfigFile.ts';
import { shellWords } from '../../../src/config/parseConfigText.ts';
import { configErrorOf, configFrom, tempHome } from './helpers.ts';

const EXAMPLE = `# an example config
[default]
region=us-west-2
output=json

[profile user2]
REGION=us-east-1

[profile withMFA]
source_profile=user2
Role_Arn=arn:aws:iam::111111111111:role/admin
mfa_serial = arn:aws:iam::222222222222:mfa/me   # my phone
duration_seconds=1200

[not-a-profile]
region=xx-1

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start#/
sso_region = eu-west-1 ; where the portal is
sso_registration_scopes = sso:account:access

[services local]
sts =
  endpoint_url = http://127.0.0.1:4566
iam =
  endpoint_url = http://127.0.0.1:4567 # comment
`;

describe('loadConfigFile', () => {
  it('reads AWS_CONFIG_FILE, else HOME/.aws/config, expanding ~', () => {
    expect(configFilePath({}, '/home/u')).toBe('/home/u/.aws/config');
    expect(configFilePath({ AWS_CONFIG_FILE: '' }, '/home/u')).toBe('/home/u/.aws/config');
    expect(configFilePath({ AWS_CONFIG_FILE: '~/cfg/aws' }, '/home/u')).toBe('/home/u/cfg/aws');
    expect(configFilePath({ AWS_CONFIG_FILE: '/etc/aws' }, '/home/u')).toBe('/etc/aws');
  });

  it('reads ~/.aws/config under HOME when AWS_CONFIG_FILE is unset', () => {
    const home = tempHome();
    mkdirSync(join(home, '.aws'));
    writeFileSync(join(home, '.aws', 'config'), '[profile home]\nregion=eu-north-1\n');
    const file = loadConfigFile({}, home);
    expect(file.path).toBe(join(home, '.aws', 'config'));
    expect(file.profileNames()).toEqual(['home']);
  });

  it('treats a missing file as an empty config', () => {
    const home = tempHome();
    const file = loadConfigFile({}, home);
    expect(file.profileNames()).toEqual([]);
    expect(file.hasProfile('default')).toBe(false);
    expect(file.profileSection('x')).toBeUndefined();
  });

  it('reports a folder, or a file that cannot be read, as a ConfigError naming it', () => {
    const home = tempHome();
    const folder = configErrorOf(() => loadConfigFile({ AWS_CONFIG_FILE: home }, home));
    expect(folder).toBeInstanceOf(UserError);
    expect(folder.message).toBe(
      `${home}: the config file is a folder; point AWS_CONFIG_FILE at the config file itself (the default is ~/.aws/config)`,
    );
    // A path through a file (ENOTDIR): no permission bits, which root ignores, needed.
    mkdirSync(join(home, 'x'), { recursive: true });
    writeFileSync(join(home, 'x', 'file'), '');
    const through = join(home, 'x', 'file', 'config');
    const err = configErrorOf(() => loadConfigFile({ AWS_CONFIG_FILE: through }, home));
    expect(err.message).toContain(through);
    expect(err.message).toContain('cannot read the config file');
  });
});

describe('ConfigFile sections', () => {
  it('lists profiles in file order with default, skipping non-profile sections', () => {
    const { file } = configFrom(EXAMPLE);
    expect(file.profileNames()).toEqual(['default', 'user2', 'withMFA']);
    expect(file.hasProfile('default')).toBe(true);
    expect(file.hasProfile('withMFA')).toBe(true);
    expect(file.hasProfile('withmfa')).toBe(false); // section names are case-sensitive
    expect(file.hasProfile('not-a-profile')).toBe(false);
    expect(file.hasProfile('corp')).toBe(false);
  });

  it('lower-cases keys and strips inline comments', () => {
    const { file } = configFrom(EXAMPLE);
    expect(file.profileSection('user2')).toEqual({ region: 'us-east-1' });
    expect(file.profileSection('withMFA')).toEqual({
      source_profile: 'user2',
      role_arn: 'arn:aws:iam::111111111111:role/admin',
      mfa_serial: 'arn:aws:iam::222222222222:mfa/me',
      duration_seconds: '1200',
    });
  });

  it('keeps a # that is not preceded by whitespace (SSO start URLs)', () => {
    const { file } = configFrom(EXAMPLE);
    expect(file.ssoSessionSection('corp')).toEqual({
      sso_start_url: 'https://corp.awsapps.com/start#/',
      sso_region: 'eu-west-1',
      sso_registration_scopes: 'sso:account:access',
    });
    expect(file.ssoSessionSection('nope')).toBeUndefined();
  });

  it('reads nested [services] sub-sections', () => {
    const { file } = configFrom(EXAMPLE);
    expect(file.servicesSection('local')).toEqual({
      sts: { endpoint_url: 'http://127.0.0.1:4566' },
      iam: { endpoint_url: 'http://127.0.0.1:4567' },
    });
    expect(file.servicesSection('other')).toBeUndefined();
  });

  it('keeps quoted values as written, # inside quotes included', () => {
    const { file } = configFrom(
      '[profile q]\nrole_session_name = "a # b" # comment\nexternal_id = \'x;y\'\n',
    );
    expect(file.profileSection('q')).toEqual({
      role_session_name: '"a # b"',
      external_id: "'x;y'",
    });
  });

  it('accepts comments after headers, indented comments, key: value and CRLF', () => {
    const { file } = configFrom(
      '[profile a]   # first\r\n  ; indented comment\r\nregion: eu-west-3\r\n\tmfa_serial=x\r\n',
    );
    // An indented key = value under a key with a value is a key of its own (Go aws-vault).
    expect(file.profileSection('a')).toEqual({ region: 'eu-west-3', mfa_serial: 'x' });
  });

  it('appends indented text without = to the value above (configparser continuation)', () => {
    const { file } = configFrom(
      '[profile a]\ncredential_process = /bin/creds\n    --json # c\nregion=r\n',
    );
    expect(file.profileSection('a')).toEqual({
      credential_process: '/bin/creds\n--json',
      region: 'r',
    });
  });

  it('treats equally indented keys as keys', () => {
    const { file } = configFrom('[profile a]\n  region = r\n  role_arn = arn\n');
    expect(file.profileSection('a')).toEqual({ region: 'r', role_arn: 'arn' });
  });

  it('reads nested values in profiles (s3 =) without mixing them into the profile', () => {
    const { file } = configFrom(
      '[profile t]\nregion=us-west-2\ns3=\n  max_concurrent_requests=10\n  max_queue_size=1000\nrole_arn=arn\n',
    );
    expect(file.profileSection('t')).toEqual({ region: 'us-west-2', s3: '', role_arn: 'arn' });
  });

  it('normalises extra spaces in headers and reads [profile default]', () => {
    const { file } = configFrom('[profile   spaced  ]\nregion=a\n[profile default]\nregion=b\n');
    expect(file.profileNames()).toEqual(['spaced', 'default']);
    expect(file.profileSection('default')).toEqual({ region: 'b' });
  });

  it('reads [default] when [profile default] is there too, in either order (the Go aws-vault)', () => {
    for (const text of [
      '[default]\nregion=a\n[profile default]\nregion=b\noutput=json\n',
      '[profile default]\nregion=b\noutput=json\n[default]\nregion=a\n',
    ]) {
      const { file } = configFrom(text);
      expect(file.profileSection('default')).toEqual({ region: 'a' });
      expect(file.profileNames()).toEqual(['default']);
    }
  });

  it('does not list an empty [default] but knows it exists', () => {
    const { file } = configFrom('[default]\n\n[profile a]\n');
    expect(file.profileNames()).toEqual(['a']);
    expect(file.hasProfile('default')).toBe(true);
  });

  it('merges a repeated section, the later key winning', () => {
    const { file } = configFrom('[profile a]\nregion=x\n[profile b]\n[profile a]\nregion=y\nk=v\n');
    expect(file.profileNames()).toEqual(['a', 'b']);
    expect(file.profileSection('a')).toEqual({ region: 'y', k: 'v' });
  });

  it('gives line numbers of headers and keys', () => {
    const { file } = configFrom(EXAMPLE);
    expect(file.lineOf('withMFA')).toBe(9);
    expect(file.lineOf('withMFA', 'duration_seconds')).toBe(13);
    expect(file.lineOf('withMFA', 'missing_key')).toBe(9);
    expect(file.sectionLine('sso-session', 'corp')).toBe(18);
    expect(file.sectionLine('services', 'local')).toBe(23);
  });

  it('returns copies, so callers cannot change the parsed file', () => {
    const { file } = configFrom(EXAMPLE);
    const section = file.profileSection('user2');
    if (section) section.region = 'changed';
    expect(file.profileSection('user2')).toEqual({ region: 'us-east-1' });
  });

  it('ignores a UTF-8 byte order mark', () => {
    const { file } = configFrom('\uFEFF[profile bom]\nregion=x\n');
    expect(file.profileNames()).toEqual(['bom']);
  });
});

describe('malformed config files', () => {
  const cases: Array<[string, string, number, string]> = [
    ['a line that is not key = value', '[profile a]\nregion=x\nbogus line\n', 3, 'malformed line'],
    ['a key before any section', 'region=x\n[profile a]\n', 1, 'outside of any [section]'],
    ['a header without ]', '[profile a]\nregion=x\n[profile b\n', 3, 'without "]"'],
    ['text after a header', '[profile a] extra\n', 1, 'after section header'],
    ['an empty header', '[]\n', 1, 'empty section header'],
    ['a key without a name', '[profile a]\n= value\n', 2, 'malformed line'],
    ['a bad nested line', '[services s]\nsts =\n  not a pair\n', 3, 'inside "sts ="'],
  ];
  for (const [what, text, line, message] of cases) {
    it(`reports ${what} as FILE:LINE`, () => {
      const home = tempHome();
      const path = join(home, 'config');
      writeFileSync(path, text);
      const err = configErrorOf(() => loadConfigFile({ AWS_CONFIG_FILE: path }, home));
      expect(err.message).toMatch(new RegExp(`^${path}:${line}: `));
      expect(err.message).toContain(message);
      expect(err.line).toBe(line);
      expect(err.stack).toBeDefined(); // printed without it by main; the message stands alone
    });
  }

  it('never quotes the malformed line (it could be a pasted secret)', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const home = tempHome();
    const path = join(home, 'config');
    writeFileSync(path, `[profile a]\n${secret}\n`);
    const err = configErrorOf(() => loadConfigFile({ AWS_CONFIG_FILE: path }, home));
    expect(err.message).not.toContain(secret);
    expect(err.message).toContain(`${path}:2:`);
  });
});

describe('quoted section names (read as the AWS CLI reads them)', () => {
  const QUOTED = `[profile "team dev"]
region = r1
[profile team ops]
region = r2
[profile 'x y']
region = r3
[profile "a\\"b"]
region = r4
[profile "unbalanced]
region = r5
[profile "two" "words"]
region = r6
[profile   "plain"  ]
region = r7
[profile "default"]
output = json
[sso-session "my corp"]
sso_start_url = https://corp.awsapps.com/start
[profile sso]
sso_session = my corp
[services "local stack"]
sts =
  endpoint_url = http://127.0.0.1:4566
`;

  it('unquotes a quoted name; an unquoted name is taken as written; others are no profile', () => {
    const { file } = configFrom(QUOTED);
    expect(file.profileNames()).toEqual([
      'team dev',
      'team ops',
      'x y',
      'a"b',
      'plain',
      'default',
      'sso',
    ]);
    expect(file.profileSection('team dev')).toEqual({ region: 'r1' });
    expect(file.profileSection('"team dev"')).toBeUndefined();
    expect(file.profileSection('plain')).toEqual({ region: 'r7' });
    expect(file.profileSection('default')).toEqual({ output: 'json' });
    expect(file.lineOf('a"b', 'region')).toBe(8);
    expect(file.ssoSessionSection('my corp')).toEqual({
      sso_start_url: 'https://corp.awsapps.com/start',
    });
    expect(file.servicesSection('local stack')).toEqual({
      sts: { endpoint_url: 'http://127.0.0.1:4566' },
    });
  });

  it('addProfile quotes a name with spaces or quotes, and reads it back', () => {
    const { file, path } = configFrom('');
    expect(file.addProfile('team qa', { region: 'eu-west-1' })).toBe(true);
    expect(file.addProfile('it\'s "x"')).toBe(true);
    expect(file.addProfile('plain')).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe(
      '[profile "team qa"]\nregion = eu-west-1\n\n[profile "it\'s \\"x\\""]\n\n[profile plain]\n',
    );
    const again = loadConfigFile({ AWS_CONFIG_FILE: path });
    expect(again.profileNames()).toEqual(['team qa', 'it\'s "x"', 'plain']);
    expect(again.addProfile('team qa')).toBe(false);
  });

  it('shellWords splits like shlex.split', () => {
    expect(shellWords('"team dev"')).toEqual(['team dev']);
    expect(shellWords(`'a "b"' c`)).toEqual(['a "b"', 'c']);
    expect(shellWords('"a\\"b\\\\c\\d"')).toEqual(['a"b\\c\\d']);
    expect(shellWords('x\\ y  z')).toEqual(['x y', 'z']);
    expect(shellWords('pre"fix"ed')).toEqual(['prefixed']);
    expect(shellWords('""')).toEqual(['']);
    expect(shellWords('"open')).toBeUndefined();
    expect(shellWords("'open")).toBeUndefined();
    expect(shellWords('trailing\\')).toBeUndefined();
  });
});

describe('ConfigFile.addProfile', () => {
  it('appends [profile NAME] keeping the existing bytes, and is idempotent', () => {
    const original =
      '# keep me\n[default]\nregion = us-west-2 # note\n\n[profile x]\ns3 =\n  a = 1';
    const { file, path } = configFrom(original);
    expect(file.addProfile('llamas', { region: 'us-east-1', mfa_serial: 'serial' })).toBe(true);
    const after = readFileSync(path, 'utf8');
    expect(after).toBe(
      original + '\n\n[profile llamas]\nregion = us-east-1\nmfa_serial = serial\n',
    );
    expect(file.hasProfile('llamas')).toBe(true);
    expect(file.profileNames()).toEqual(['default', 'x', 'llamas']);
    expect(file.addProfile('llamas')).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe(after);
  });

  it('writes [default] for default and keeps CRLF files CRLF', () => {
    const { file, path } = configFrom('[profile a]\r\nregion=x\r\n');
    file.addProfile('default');
    expect(readFileSync(path, 'utf8')).toBe('[profile a]\r\nregion=x\r\n\r\n[default]\r\n');
  });

  it('creates the folder 0700 and the file 0600 when missing', () => {
    const home = tempHome();
    const file = loadConfigFile({}, home);
    expect(file.addProfile('new')).toBe(true);
    const dir = join(home, '.aws');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'config')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'config'), 'utf8')).toBe('[profile new]\n');
  });

  it('keeps the mode of an existing file and leaves no temporary file behind', () => {
    const { file, path, home } = configFrom('[profile a]\n');
    chmodSync(path, 0o640);
    file.addProfile('b');
    expect(statSync(path).mode & 0o777).toBe(0o640);
    expect(readdirSync(home)).toEqual(['config']);
  });

  it('replaces the file by rename (atomic), never rewriting it in place', () => {
    const { file, path } = configFrom('[profile a]\n');
    const inodeBefore = statSync(path).ino;
    file.addProfile('b');
    expect(statSync(path).ino).not.toBe(inodeBefore);
  });

  it('writes through a symlinked config to its target', () => {
    const home = tempHome();
    const target = join(home, 'dotfiles-config');
    writeFileSync(target, '[profile a]\n');
    const link = join(home, 'config');
    symlinkSync(target, link);
    const file = loadConfigFile({ AWS_CONFIG_FILE: link }, home);
    file.addProfile('b');
    expect(readFileSync(target, 'utf8')).toBe('[profile a]\n\n[profile b]\n');
    expect(readdirSync(home).sort()).toEqual(['config', 'dotfiles-config']);
  });

  it('creates the target of a dangling symlink (a dotfile manager link) and keeps the link', () => {
    const home = tempHome();
    const target = join(home, 'dotfiles', 'aws', 'config');
    const link = join(home, 'config');
    symlinkSync(target, link); // dotfiles/aws/ does not exist yet
    const file = loadConfigFile({ AWS_CONFIG_FILE: link }, home);
    expect(file.addProfile('b')).toBe(true);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('[profile b]\n');
    expect(statSync(target).mode & 0o777).toBe(0o600);
  });

  it('follows a dangling relative link from its real folder (a GNU stow layout)', () => {
    const home = tempHome();
    mkdirSync(join(home, 'dotfiles', 'aws'), { recursive: true });
    mkdirSync(join(home, 'store'));
    symlinkSync(join('dotfiles', 'aws'), join(home, '.aws')); // ~/.aws -> dotfiles/aws
    symlinkSync(join('..', 'store', 'config'), join(home, 'dotfiles', 'aws', 'config'));
    const path = join(home, '.aws', 'config');
    expect(loadConfigFile({ AWS_CONFIG_FILE: path }, home).addProfile('p1')).toBe(true);
    // The kernel reads ~/.aws/config as dotfiles/aws/../store/config = dotfiles/store/config.
    const target = join(home, 'dotfiles', 'store', 'config');
    expect(readFileSync(target, 'utf8')).toBe('[profile p1]\n');
    expect(loadConfigFile({ AWS_CONFIG_FILE: path }, home).profileNames()).toEqual(['p1']);
  });

  it('reads /dev/null as an empty config and never writes to a device', () => {
    const file = loadConfigFile({ AWS_CONFIG_FILE: '/dev/null' }, tempHome());
    expect(file.profileNames()).toEqual([]);
    expect(() => file.addProfile('b')).toThrow(
      /^\/dev\/null: the config file is not a regular file \(a device, a pipe or a folder\), so aws-vault does not write to it$/,
    );
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
  });

  it('refuses an endless config (a link to /dev/zero) instead of reading forever', () => {
    const home = tempHome();
    const link = join(home, 'config');
    symlinkSync('/dev/zero', link);
    const err = configErrorOf(() => loadConfigFile({ AWS_CONFIG_FILE: link }, home));
    expect(err.message).toBe(
      `${link}: the config file is larger than 16 MiB: not an AWS config file (check AWS_CONFIG_FILE)`,
    );
  });

  it('sees a profile added by another process since loading', () => {
    const { file, path } = configFrom('[profile a]\n');
    writeFileSync(path, '[profile a]\n[profile b]\n');
    expect(file.addProfile('b')).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe('[profile a]\n[profile b]\n');
  });

  it('refuses names and values that would corrupt the file', () => {
    const { file, path } = configFrom('[profile a]\n');
    expect(() => file.addProfile('bad]name')).toThrow(/not a valid profile name/);
    expect(() => file.addProfile('two\nlines')).toThrow(/not a valid profile name/);
    expect(() => file.addProfile('ok', { region: 'x\n[profile evil]' })).toThrow(/one line/);
    expect(readFileSync(path, 'utf8')).toBe('[profile a]\n');
  });
});

// The start-up fast path (dist/fast.cjs, src/cli/fastPath.ts) answers plain
// `exec` and `export` runs from stored keys and cached sessions alone; a run
// that needs STS, an MFA code or a passphrase is handed to the full CLI
// (dist/main.js) before anything is asked or printed. What a run loaded is
// read from inside the real process: a preload registers module hooks
// (Node >= 22.15) that see every require() and import, built-ins included.
import { afterEach, describe, expect, it } from 'vitest';
import {
  chmodSync,
  existsSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { spawnSync } from 'node:child_process';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BIN } from './_runCli.ts';
import { BACKEND_CASES, homesCleanedAfterEach, uniqueProfile } from './_vault.ts';
import { credentialProcessDoc, runTool, startExecWorld, type ExecWorld } from './_exec.ts';

const homes = homesCleanedAfterEach();
const worlds: ExecWorld[] = [];
afterEach(async () => {
  // The homes are removed by homesCleanedAfterEach (after the Secret Service is cleaned).
  for (const w of worlds.splice(0)) await w.fake.close();
});

const DIST = resolve(dirname(realpathSync(BIN)), '..', 'dist');
const FAST_CJS = pathToFileURL(resolve(DIST, 'fast.cjs')).href;
const MAIN_JS = pathToFileURL(resolve(DIST, 'main.js')).href;

// Written at 'exit', and before execve too: an exec that becomes its command
// never reaches 'exit'.
const PRELOAD = `const { registerHooks } = require('node:module');
const { writeFileSync } = require('node:fs');
const loaded = [];
registerHooks({
  load(url, context, nextLoad) {
    loaded.push(url);
    return nextLoad(url, context);
  },
});
let saved = false;
function save() {
  if (saved) return;
  saved = true;
  // Node's own record too, as internal:NAME: it also sees process.getBuiltinModule().
  const internal = process.moduleLoadList
    .filter((m) => m.startsWith('NativeModule '))
    .map((m) => 'internal:' + m.slice('NativeModule '.length));
  writeFileSync(process.env.AWS_VAULT_TEST_LOADED, [...loaded, ...internal].join('\\n') + '\\n');
}
process.on('exit', save);
const execve = process.execve;
if (typeof execve === 'function') {
  process.execve = function (...args) {
    save();
    return execve.apply(process, args);
  };
}
`;

/** A fake AWS endpoint and a temp HOME on `backend`, both removed after the test. */
async function world(backend: string, profiles: string[], config: string): Promise<ExecWorld> {
  const w = await startExecWorld(config, { backend });
  worlds.push(w);
  homes.push({ home: w.home, backend, profiles });
  return w;
}

/**
 * The environment extras that make the next run record the modules it
 * loads, and a reader of that record. Each call gets its own record file, so
 * a stale one from an earlier run can never be read.
 */
function traceModules(w: ExecWorld, name: string) {
  const preload = join(w.home.home, 'trace-modules.cjs');
  writeFileSync(preload, PRELOAD);
  const out = join(w.home.home, `loaded-${name}.txt`);
  return {
    env: { NODE_OPTIONS: `--require ${preload}`, AWS_VAULT_TEST_LOADED: out },
    loaded(): string[] {
      expect(existsSync(out), 'the preload wrote no module list').toBe(true);
      return readFileSync(out, 'utf8').split('\n').filter(Boolean);
    },
  };
}

// Node's own record of the built-ins a run loaded after this preload (which
// loads none), at 'exit' and before execve: unlike PRELOAD it leaves
// node:module unloaded, so the launcher's own loads show.
const BUILTINS_PRELOAD = `const before = new Set(process.moduleLoadList);
const { writeFileSync } = require('node:fs');
function save() {
  const loaded = process.moduleLoadList.filter((m) => !before.has(m) && m.startsWith('NativeModule '));
  writeFileSync(process.env.AWS_VAULT_TEST_BUILTINS, loaded.map((m) => m.slice(13)).join('\\n') + '\\n');
}
process.on('exit', save);
const execve = process.execve;
process.execve = function (...args) {
  save();
  return execve.apply(process, args);
};
`;

/** Runs `args` with BUILTINS_PRELOAD; resolves to the run and the built-ins it loaded. */
async function runTracingBuiltins(w: ExecWorld, args: string[]) {
  const preload = join(w.home.home, 'trace-builtins.cjs');
  writeFileSync(preload, BUILTINS_PRELOAD);
  const out = join(w.home.home, `builtins-${args[0]}.txt`);
  rmSync(out, { force: true });
  const result = await w.run(args, {
    env: w.env({ NODE_OPTIONS: `--require ${preload}`, AWS_VAULT_TEST_BUILTINS: out }),
  });
  expect(existsSync(out), 'the preload wrote no list').toBe(true);
  return { result, builtins: readFileSync(out, 'utf8').split('\n').filter(Boolean) };
}

/**
 * The loaded modules that are (or carry) a package: its folder in the URL,
 * or, as the build bundles packages into dist/ chunks, `marker` in the text.
 */
function loadedPackage(loaded: string[], folder: string, marker: string): string[] {
  return loaded.filter(
    (url) =>
      url.includes(folder) ||
      (url.startsWith('file:') && readFileSync(fileURLToPath(url), 'utf8').includes(marker)),
  );
}

/** The AWS SDK's modules among `loaded`: its package names survive minification. */
const sdkModules = (loaded: string[]) => loadedPackage(loaded, '/@aws-sdk/', '@aws-sdk/');
/** commander's modules among `loaded` (its error codes survive minification). */
const commanderModules = (loaded: string[]) =>
  loadedPackage(loaded, '/commander/', 'commander.unknownOption');

/**
 * Asserts that `loaded` is a fast-path run: nothing of dist/ but fast.cjs
 * (which bin/ compiles itself, with its code cache, so the module loader may
 * not see it), no SDK, no commander. Only the fast path or the full CLI
 * (main.js) can answer, so a right answer without main.js is the fast path's.
 */
function expectFastPathOnly(loaded: string[]) {
  expect(loaded).not.toContain(MAIN_JS);
  const distUrl = pathToFileURL(DIST).href + '/';
  expect(loaded.filter((url) => url.startsWith(distUrl) && url !== FAST_CJS)).toEqual([]);
  expect(sdkModules(loaded)).toEqual([]);
  expect(commanderModules(loaded)).toEqual([]);
}

function stsCalls(w: ExecWorld): number {
  return w.fake.calls.filter((c) => c.service === 'sts').length;
}

/** A credential_process document of session credentials (see credentialProcessDoc). */
function sessionDoc(stdout: string) {
  const doc = credentialProcessDoc(stdout);
  expect(doc.AccessKeyId).toMatch(/^ASIA/);
  return doc;
}

for (const backend of BACKEND_CASES) {
  describe.runIf(backend.enabled)(`fast path (${backend.name})`, () => {
    it('a cached export loads neither the full CLI nor the AWS SDK', async () => {
      const p = uniqueProfile('fast');
      const w = await world(backend.name, [p], `[profile ${p}]\n`);
      await w.addUser(p);
      const first = await w.run(['export', '--format=json', p]);
      expect(first.stderr).toBe('');
      expect(first.exitCode).toBe(0);
      const calls = w.fake.count('GetSessionToken');

      const trace = traceModules(w, 'cached');
      const result = await w.run(['export', '--format=json', p], { env: w.env(trace.env) });
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(0);
      const doc = sessionDoc(result.stdout);
      expect(doc.AccessKeyId).toBe(sessionDoc(first.stdout).AccessKeyId);
      expect(w.fake.count('GetSessionToken')).toBe(calls);
      const loaded = trace.loaded();
      expectFastPathOnly(loaded);
      // The execve/spawn machinery is exec's; an export must not pay for it.
      expect(loaded).not.toContain('node:child_process');
      // The Secret Service is read over the bus directly (secretServiceReader.ts),
      // without the native keyring module, and over libuv's pipe handle, without
      // node:net (unixSocket.ts); the file store never needs the bus.
      expect(loaded.filter((url) => url.includes('@napi-rs/keyring'))).toEqual([]);
      expect(loaded).not.toContain('node:net');
    });

    it('a cached export exits at once, not through a drained event loop', async () => {
      const p = uniqueProfile('exit');
      const w = await world(backend.name, [p], `[profile ${p}]\n`);
      await w.addUser(p);
      expect((await w.run(['export', '--format=json', p])).exitCode).toBe(0);
      // --trace-exit reports process.exit(): the launcher exits as soon as
      // the answer is out, whatever streams exist with nothing queued (a
      // socket's destroy() creates process.stderr: node:net compares each
      // socket it closes with it).
      const result = await w.run(['export', '--format=json', p], {
        env: w.env({ NODE_OPTIONS: '--trace-exit' }),
      });
      expect(result.exitCode).toBe(0);
      sessionDoc(result.stdout);
      expect(result.stderr).toMatch(/WARNING: Exited the environment with code 0\n/);
      expect(result.stderr).toContain('bin/aws-vault.js');
    });

    it('a cached exec or export loads only the built-ins it uses', async () => {
      const p = uniqueProfile('builtins');
      const w = await world(backend.name, [p], `[profile ${p}]\n`);
      await w.addUser(p);
      expect((await w.run(['exec', p, '--', 'true'])).exitCode).toBe(0);
      for (const args of [
        ['exec', p, '--', 'true'],
        ['export', '--format=json', p],
      ]) {
        const { result, builtins } = await runTracingBuiltins(w, args);
        expect(result.stderr).toBe('');
        expect(result.exitCode).toBe(0);
        // node:vm runs dist/fast.cjs with its code cache.
        expect(builtins).toContain('vm');
        // Each of these costs 0.15-3 ms to load, and a cached run needs none:
        // node:module is for the full CLI's compile cache, node:os for a
        // missing HOME, node:child_process for a command exec cannot become.
        for (const unused of ['module', 'os', 'child_process', 'internal/source_map/source_map']) {
          expect(builtins, args[0]).not.toContain(unused);
        }
        // The bus is reached over libuv's pipe handle (unixSocket.ts): node:net
        // and node:stream cost a cached run on the Secret Service 2.5 ms
        // (node:crypto, which the file store needs, loads node:stream itself).
        expect(builtins, args[0]).not.toContain('net');
        if (backend.name === 'secret-service') expect(builtins, args[0]).not.toContain('stream');
        expect(builtins.includes('crypto'), args[0]).toBe(backend.name === 'file');
      }
    });

    it('a cached exec leaves its command no descriptor of its own (bus, vault, code cache)', async () => {
      const p = uniqueProfile('fds');
      const w = await world(backend.name, [p], `[profile ${p}]\n`);
      await w.addUser(p);
      expect((await w.run(['exec', p, '--', 'true'])).exitCode).toBe(0);
      // The shell's own descriptors, listed by ls from outside, against the
      // same shell started without aws-vault (which sees what this test
      // process inherited): no bus connection, vault file or code cache of
      // aws-vault's may be left open in the command.
      const script = 'ls /proc/$$/fd; ls -l /proc/$$/fd';
      const split = (stdout: string) => {
        const [names, long] = stdout.split(/^total \d+$/m) as [string, string];
        return { names: names.trim().split(/\s+/), long };
      };
      const baseline = split((await runTool('sh', ['-c', script], { env: w.env() })).stdout);
      expect(baseline.names).toEqual(expect.arrayContaining(['0', '1', '2']));
      const result = await w.run(['exec', p, '--', 'sh', '-c', script]);
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(0);
      const listed = split(result.stdout);
      expect(listed.names).toEqual(baseline.names);
      expect(listed.long).not.toContain(w.home.home);
    });

    it('a cached exec or export takes no lock and creates no lock folder', async () => {
      const p = uniqueProfile('nolock');
      const w = await world(backend.name, [p], `[profile ${p}]\n`);
      await w.addUser(p);
      const locks = join(w.home.home, '.awsvault', 'locks');
      expect((await w.run(['exec', p, '--', 'true'])).exitCode).toBe(0);
      // The cold run locked its refresh (and released the lock).
      expect(readdirSync(locks)).toEqual([]);
      rmSync(locks, { recursive: true });
      for (const args of [
        ['exec', p, '--', 'true'],
        ['export', '--format=json', p],
      ]) {
        const result = await w.run(args);
        expect(result.stderr).toBe('');
        expect(result.exitCode).toBe(0);
        expect(existsSync(locks), args[0]).toBe(false);
      }
      // A refresh creates it again, 0700.
      expect((await w.run(['clear', p])).exitCode).toBe(0);
      expect((await w.run(['export', '--format=json', p])).exitCode).toBe(0);
      expect(statSync(locks).mode & 0o777).toBe(0o700);
      expect(readdirSync(locks)).toEqual([]);
    });

    it('a cold export falls back to the full CLI once', async () => {
      const p = uniqueProfile('cold');
      const w = await world(backend.name, [p], `[profile ${p}]\n`);
      await w.addUser(p);
      const trace = traceModules(w, 'cold');
      const result = await w.run(['export', '--format=json', p], { env: w.env(trace.env) });
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(0);
      const doc = sessionDoc(result.stdout);
      expect(w.fake.describeCredentials(doc.AccessKeyId)?.sessionToken).toBe(doc.SessionToken);
      // One call: the fast path gave up before asking STS, and the full CLI asked once.
      expect(w.fake.count('GetSessionToken')).toBe(1);
      const loaded = trace.loaded();
      expect(loaded).toContain(MAIN_JS);
      expect(sdkModules(loaded)).not.toEqual([]);
      expect(commanderModules(loaded)).not.toEqual([]);
    });
  });
}

describe('fast path', () => {
  it('with mfa_process, a cold exec runs mfa_process exactly once', async () => {
    const p = uniqueProfile('mfa');
    const w = await world('file', [p], '');
    const user = await w.addUser(p, { mfa: true });
    const counter = join(w.home.home, 'mfa-process-runs');
    w.home.writeConfig(
      `[profile ${p}]\nmfa_serial = ${user.mfaSerial}\n` +
        `mfa_process = sh -c 'echo x >> ${counter}; oathtool --totp -b ${user.totpSecret}'\n`,
    );
    const cold = await w.run(['exec', p, '--', 'true']);
    expect(cold.stderr).toBe('');
    expect(cold.exitCode).toBe(0);
    // Twice would mean the fast path ran it before handing over (and burned the code).
    expect(readFileSync(counter, 'utf8')).toBe('x\n');
    expect(w.fake.count('GetSessionToken')).toBe(1);

    const cached = await w.run(['exec', p, '--', 'true']);
    expect(cached.stderr).toBe('');
    expect(cached.exitCode).toBe(0);
    expect(readFileSync(counter, 'utf8')).toBe('x\n');
    expect(w.fake.count('GetSessionToken')).toBe(1);
  });

  it('cached exec for a role chain answers from the cache', async () => {
    const base = uniqueProfile('base');
    const role = uniqueProfile('role');
    const w = await world('file', [base, role], '');
    await w.addUser(base);
    const arn = w.fake.createRole('fast-path-role').arn;
    w.home.writeConfig(
      `[profile ${base}]\n\n[profile ${role}]\nsource_profile = ${base}\nrole_arn = ${arn}\n`,
    );
    const printKey = ['exec', role, '--', 'sh', '-c', 'echo "$AWS_ACCESS_KEY_ID"'];
    const first = await w.run(printKey);
    expect(first.stderr).toBe('');
    expect(first.exitCode).toBe(0);
    expect(w.fake.describeCredentials(first.stdout.trim())?.roleArn).toBe(arn);
    const calls = stsCalls(w);
    expect(calls).toBeGreaterThan(0);

    const trace = traceModules(w, 'role');
    const again = await w.run(printKey, { env: w.env(trace.env) });
    expect(again.stderr).toBe('');
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toBe(first.stdout);
    expect(stsCalls(w)).toBe(calls);
    const loaded = trace.loaded();
    expectFastPathOnly(loaded);
    // The command replaces aws-vault (execve): spawning, and child_process, is the fallback.
    expect(loaded).not.toContain('node:child_process');
  });

  it('a cached exec of a file the kernel cannot run (no #!) spawns it, and says nothing', async () => {
    const p = uniqueProfile('noshebang');
    const w = await world('file', [p], `[profile ${p}]\n`);
    await w.addUser(p);
    expect((await w.run(['exec', p, '--', 'true'])).exitCode).toBe(0);
    const script = join(w.home.home, 'no-shebang');
    writeFileSync(script, 'case $AWS_ACCESS_KEY_ID in ASIA*) echo session;; esac\nexit 3\n', {
      mode: 0o755,
    });
    const trace = traceModules(w, 'noshebang');
    const result = await w.run(['exec', p, '--', script], { env: w.env(trace.env) });
    // Not even Node's ExperimentalWarning for an import() in dist/fast.cjs.
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('session\n');
    expect(result.exitCode).toBe(3);
    const loaded = trace.loaded();
    expectFastPathOnly(loaded);
    expect(loaded).toContain('internal:child_process');
  });

  it('export into a reader that has gone away exits 0 and prints nothing', async () => {
    const p = uniqueProfile('pipe');
    const w = await world('file', [p], `[profile ${p}]\n`);
    await w.addUser(p);
    const warm = await w.run(['export', '--format=json', p]);
    expect(warm.exitCode).toBe(0);

    const trace = traceModules(w, 'pipe');
    const exportCmd = `'${process.execPath}' '${BIN}' export --format=json ${p}`;
    // `true` leaves before the export writes (it starts 0.3 s later), so
    // the write surely fails with EPIPE; `head -c 1` is the everyday case.
    const script =
      'set -o pipefail\n' +
      `{ sleep 0.3; ${exportCmd}; } | true\necho "gone=$?"\n` +
      `${exportCmd} | head -c 1 >/dev/null\necho "head=$?"\n`;
    const result = await runTool('bash', ['-c', script], { env: w.env(trace.env) });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('gone=0\nhead=0\n');
    // The full CLI's stream handler would hide EPIPE too: this must be the fast path's write.
    expectFastPathOnly(trace.loaded());
  });

  it('no passphrase in the environment: the full CLI asks for it', async () => {
    const p = uniqueProfile('nopass');
    const w = await world('file', [p], `[profile ${p}]\n`);
    await w.addUser(p);
    const warm = await w.run(['export', '--format=json', p]);
    expect(warm.exitCode).toBe(0);

    const trace = traceModules(w, 'nopass');
    // runCli closes stdin and gives no controlling terminal: nowhere to ask.
    const result = await w.run(['export', '--format=json', p], {
      env: w.env({ ...trace.env, AWS_VAULT_FILE_PASSPHRASE: undefined }),
    });
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `aws-vault: error: export: file backend: a passphrase is needed to unlock ${w.home.fileDir}: ` +
        'set AWS_VAULT_FILE_PASSPHRASE or run in a terminal\n',
    );
    expect(trace.loaded()).toContain(MAIN_JS);
  });

  it('a session bus without a Secret Service: the default backend is the file store, still on the fast path', async () => {
    // As over SSH with a stale DBUS_SESSION_BUS_ADDRESS: the one search that
    // serves as the probe fails, and the platform default falls back to the
    // file store without handing the run to the full CLI.
    const p = uniqueProfile('nobus');
    const w = await world('file', [p], `[profile ${p}]\n`);
    await w.addUser(p);
    const warm = await w.run(['export', '--format=json', p]);
    expect(warm.exitCode).toBe(0);

    const trace = traceModules(w, 'nobus');
    const bus = `unix:path=${join(w.home.home, 'no-such-bus')}`;
    const result = await w.run(['export', '--format=json', p], {
      env: w.env({ ...trace.env, AWS_VAULT_BACKEND: undefined, DBUS_SESSION_BUS_ADDRESS: bus }),
    });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(sessionDoc(result.stdout).AccessKeyId).toBe(sessionDoc(warm.stdout).AccessKeyId);
    expectFastPathOnly(trace.loaded());

    // Asked for by name, the same bus is a clear error, not the file store.
    const named = await w.run(['export', '--format=json', p], {
      env: w.env({ AWS_VAULT_BACKEND: 'secret-service', DBUS_SESSION_BUS_ADDRESS: bus }),
    });
    expect(named.exitCode).toBe(1);
    expect(named.stdout).toBe('');
    expect(named.stderr).toMatch(
      /^aws-vault: error: export: secret-service backend: the session bus does not answer \(.+\); use --backend=file\n$/,
    );
  });
});

describe.runIf(BACKEND_CASES[1]?.enabled)('fast path (secret-service, a named collection)', () => {
  it('reads a collection named by its label or its Go name over the bus, and its session is written there', async () => {
    const p = uniqueProfile('named');
    const w = await world('secret-service', [p], `[profile ${p}]\n`);
    // gnome-keyring's default collection: labelled Login, path .../collection/login.
    const named = (name: string, extra: NodeJS.ProcessEnv = {}) =>
      w.env({ AWS_VAULT_SECRET_SERVICE_COLLECTION_NAME: name, ...extra });
    const keys = w.fake.createUser(`named-${p}`);
    const add = await w.run(['add', '--env', '--no-add-config', p], {
      env: named('login', {
        AWS_ACCESS_KEY_ID: keys.accessKeyId,
        AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
      }),
    });
    expect(add.exitCode, add.stderr).toBe(0);
    const first = await w.run(['export', '--format=json', p], { env: named('login') });
    expect(first.stderr).toBe('');
    expect(first.exitCode).toBe(0);
    const calls = stsCalls(w);
    for (const name of ['login', 'Login']) {
      const trace = traceModules(w, `named-${name}`);
      const result = await w.run(['export', '--format=json', p], { env: named(name, trace.env) });
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(0);
      expect(sessionDoc(result.stdout).AccessKeyId).toBe(sessionDoc(first.stdout).AccessKeyId);
      const loaded = trace.loaded();
      expectFastPathOnly(loaded);
      expect(loaded.filter((url) => url.includes('@napi-rs/keyring'))).toEqual([]);
    }
    expect(stsCalls(w)).toBe(calls);
    // The session went where writes to that collection go: the library's
    // entry for its label (the `target` attribute).
    const found = spawnSync(
      'secret-tool',
      ['search', '--all', 'service', 'aws-vault', 'target', 'Login'],
      { encoding: 'utf8', timeout: 10_000 },
    );
    expect(found.stdout).toContain(`sts.GetSessionToken,${Buffer.from(p).toString('base64url')},`);
    // A collection that is not there: the library's path, which says so for a listing.
    const missing = await w.run(['list'], { env: named('NoSuchCollection') });
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(
      /no keyring collection labelled \(or named\) "NoSuchCollection"/,
    );
  });

  it('sees only what was stored with the collection named, in exec, export, list and remove alike', async () => {
    const [inLogin, unnamed] = [uniqueProfile('scoped'), uniqueProfile('unscoped')];
    const w = await world(
      'secret-service',
      [inLogin, unnamed],
      `[profile ${inLogin}]\n[profile ${unnamed}]\n`,
    );
    const login = (extra: NodeJS.ProcessEnv = {}) =>
      w.env({ AWS_VAULT_SECRET_SERVICE_COLLECTION_NAME: 'Login', ...extra });
    for (const [p, env] of [
      [inLogin, login],
      [unnamed, w.env.bind(w)],
    ] as const) {
      const keys = w.fake.createUser(`scope-${p}`);
      const add = await w.run(['add', '--env', '--no-add-config', p], {
        env: env({
          AWS_ACCESS_KEY_ID: keys.accessKeyId,
          AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
        }),
      });
      expect(add.exitCode, add.stderr).toBe(0);
    }
    // Both are in the Login collection, but only one was stored with it.
    const listed = async (env: NodeJS.ProcessEnv) =>
      (await w.run(['list', '--credentials'], { env })).stdout.split('\n');
    expect(await listed(login())).toContain(inLogin);
    expect(await listed(login())).not.toContain(unnamed);
    expect(await listed(w.env())).toEqual(expect.arrayContaining([inLogin, unnamed]));
    // Without a collection named, every aws-vault item is seen; this caches
    // a session, which the fast path then does not take with one named.
    const plain = await w.run(['exec', unnamed, '--', 'true']);
    expect(plain.exitCode, plain.stderr).toBe(0);
    const hint =
      /aws-vault items? in the Secret Service (was|were) stored with another --secret-service-collection or none, and (is|are) not read with collection "Login" \(see every item with `aws-vault --secret-service-collection=default list`\)/;
    for (const args of [
      ['exec', unnamed, '--', 'true'],
      ['export', '--format=json', unnamed],
      ['remove', '-f', unnamed],
    ]) {
      const result = await w.run(args, { env: login() });
      expect(result.exitCode, args.join(' ')).toBe(1);
      expect(result.stderr).toMatch(/no credentials/);
      expect(result.stderr).toMatch(hint);
    }
    const scoped = await w.run(['exec', inLogin, '--', 'true'], { env: login() });
    expect(scoped.exitCode, scoped.stderr).toBe(0);
  });
});

describe.runIf(BACKEND_CASES[1]?.enabled)('secret-service, a key stored twice', () => {
  it('with and without a collection: refused by name, with which ones hold it, until one is removed', async () => {
    const p = uniqueProfile('twice');
    const w = await world('secret-service', [p], `[profile ${p}]\n`);
    const login = (extra: NodeJS.ProcessEnv = {}) =>
      w.env({ AWS_VAULT_SECRET_SERVICE_COLLECTION_NAME: 'Login', ...extra });
    const [first, second, third] = [1, 2, 3].map((n) => w.fake.createUser(`twice-${n}-${p}`));
    const add = (keys: typeof first, env: (extra?: NodeJS.ProcessEnv) => NodeJS.ProcessEnv) =>
      w.run(['add', '--env', '--no-add-config', p], {
        env: env({
          AWS_ACCESS_KEY_ID: keys?.accessKeyId,
          AWS_SECRET_ACCESS_KEY: keys?.secretAccessKey,
        }),
      });
    const unnamed = w.env.bind(w);
    expect((await add(first, unnamed)).exitCode).toBe(0);
    expect((await add(second, login)).exitCode).toBe(0);
    const refusal = new RegExp(
      `more than one item in the Secret Service holds "${p}" \\((one stored with --secret-service-collection=Login|one stored without --secret-service-collection)(, |\\))`,
    );
    const keyId = (env: NodeJS.ProcessEnv) =>
      w.run(['exec', '--no-session', p, '--', 'printenv', 'AWS_ACCESS_KEY_ID'], { env });
    for (const result of [
      await keyId(unnamed()),
      await w.run(['export', '--no-session', p]),
      await w.run(['remove', '-f', p]),
      await add(third, unnamed),
    ]) {
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(refusal);
      expect(result.stderr).toMatch(/one stored with --secret-service-collection=Login/);
      expect(result.stderr).toMatch(/one stored without --secret-service-collection/);
    }
    // list still lists it (it is there), and says what to do about it.
    const listed = await w.run(['list', '--credentials']);
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect(listed.stdout.split('\n')).toContain(p);
    const table = await w.run(['list']);
    expect(table.exitCode, table.stderr).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^${p}\\s`, 'm'));
    expect(table.stderr).toMatch(new RegExp(`aws-vault: note: .*${refusal.source}`));
    // With the collection named, its own item is used, and can be removed.
    expect((await keyId(login())).stdout.trim()).toBe(second?.accessKeyId);
    expect((await w.run(['remove', '-f', p], { env: login() })).exitCode).toBe(0);
    // The refused add changed nothing: the first key is the one left.
    expect((await keyId(unnamed())).stdout.trim()).toBe(first?.accessKeyId);
  });
});

describe('the launcher code cache', () => {
  /**
   * A cached profile on the file store, and one cached exec, which writes the
   * code cache (the first, cold run is the full CLI's and writes none).
   */
  async function cachedWorld(name: string) {
    const p = uniqueProfile(name);
    const w = await world('file', [p], `[profile ${p}]\n`);
    await w.addUser(p);
    const dir = join(w.home.home, '.cache', 'aws-vault');
    const run = (env: NodeJS.ProcessEnv = {}) =>
      w.run(['exec', p, '--', 'true'], { env: w.env(env) });
    const cold = await run();
    expect(cold.exitCode, cold.stderr).toBe(0);
    expect(readdirSync(dir).filter((n) => n.startsWith('fast-'))).toEqual([]);
    const cached = await run();
    expect(cached.exitCode, cached.stderr).toBe(0);
    return { w, p, dir, run };
  }

  /** The one code cache file in `dir`, with its inode, mode and bytes. */
  function cacheFile(dir: string) {
    const names = readdirSync(dir).filter((n) => n.startsWith('fast-'));
    expect(names).toHaveLength(1);
    const path = join(dir, names[0] as string);
    const stats = statSync(path);
    return { path, ino: stats.ino, mode: stats.mode & 0o777, bytes: readFileSync(path) };
  }

  it('is written before exec becomes its command, 0600 in a 0700 folder, then used as it is', async () => {
    const { dir, run } = await cachedWorld('cc');
    rmSync(dir, { recursive: true });
    const first = await run();
    expect(first.exitCode, first.stderr).toBe(0);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const written = cacheFile(dir);
    expect(written.mode).toBe(0o600);
    expect(written.bytes.length).toBeGreaterThan(10_000);
    const again = await run();
    expect(again.exitCode, again.stderr).toBe(0);
    // Accepted by V8: not written again.
    expect(cacheFile(dir).ino).toBe(written.ino);
  });

  it('is taken from a cached export or exec only, never from --version (it would hold next to nothing)', async () => {
    const p = uniqueProfile('ccver');
    const w = await world('file', [p], `[profile ${p}]\n`);
    await w.addUser(p);
    const dir = join(w.home.home, '.cache', 'aws-vault');
    const fastCaches = () => readdirSync(dir).filter((n) => n.startsWith('fast-'));
    expect((await w.run(['--version'])).exitCode).toBe(0);
    expect(fastCaches()).toEqual([]);
    expect((await w.run(['export', '--format=json', p])).exitCode).toBe(0); // cold: full CLI
    expect(fastCaches()).toEqual([]);
    expect((await w.run(['export', '--format=json', 'no-such-profile'])).exitCode).toBe(1);
    expect(fastCaches()).toEqual([]);
    expect((await w.run(['export', '--format=json', p])).exitCode).toBe(0); // cached
    expect(fastCaches()).toHaveLength(1);
  });

  it('one per command and backend: an export after an exec takes its own, and each stays', async () => {
    const { w, p, dir, run } = await cachedWorld('cckind');
    const exec = cacheFile(dir);
    expect(basename(exec.path)).toMatch(/^fast-v[\d.]+-\w+-\d+-\d+-exec-file\.cache$/);
    // An older build's cache, and a temporary file a crashed writer left.
    const stale = exec.path.replace(/-\d+-\d+-exec-file\.cache$/, '-1-1-exec-file.cache');
    writeFileSync(stale, 'old', { mode: 0o600 });
    writeFileSync(`${exec.path}.99999.tmp`, 'partial', { mode: 0o600 });
    const exported = await w.run(['export', '--format=json', p]);
    expect(exported.exitCode, exported.stderr).toBe(0);
    const names = readdirSync(dir).filter((n) => n.startsWith('fast-'));
    expect(names.sort()).toEqual(
      [basename(exec.path), basename(exec.path).replace('-exec-file.', '-export-file.')].sort(),
    );
    expect(statSync(exec.path).ino).toBe(exec.ino);
    const again = await run();
    expect(again.exitCode, again.stderr).toBe(0);
    expect(statSync(exec.path).ino).toBe(exec.ino);
    expect(readdirSync(dir).filter((n) => n.startsWith('fast-'))).toHaveLength(2);
  });

  it('a damaged cache is refused by V8 and written anew; the command runs', async () => {
    const { dir, run } = await cachedWorld('ccbad');
    const { path } = cacheFile(dir);
    writeFileSync(path, Buffer.alloc(4096, 0x5a), { mode: 0o600 });
    const result = await run();
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    const rewritten = cacheFile(dir);
    expect(rewritten.bytes.equals(Buffer.alloc(4096, 0x5a))).toBe(false);
    expect(rewritten.mode).toBe(0o600);
  });

  it('a cache file others may write is not read (it is replaced by one of our own)', async () => {
    const { dir, run } = await cachedWorld('ccmode');
    const planted = cacheFile(dir);
    chmodSync(planted.path, 0o666); // a valid cache, which V8 would accept
    const result = await run();
    expect(result.exitCode, result.stderr).toBe(0);
    const after = cacheFile(dir);
    expect(after.ino).not.toBe(planted.ino);
    expect(after.mode).toBe(0o600);
  });

  it('a cache folder others may write is neither read nor written', async () => {
    const { dir, run } = await cachedWorld('ccdir');
    const { path } = cacheFile(dir);
    chmodSync(dir, 0o777);
    const garbage = Buffer.alloc(4096, 0x5a);
    writeFileSync(path, garbage, { mode: 0o600 });
    const result = await run();
    expect(result.exitCode, result.stderr).toBe(0);
    // Read, V8 would have refused it and the launcher written a new one.
    expect(readFileSync(path).equals(garbage)).toBe(true);
    expect(statSync(dir).mode & 0o777).toBe(0o777);
  });

  it("keeps Node's compile cache of the full CLI in a 0700 folder whatever the umask", async () => {
    const { w, dir } = await cachedWorld('ccnode');
    const node = join(dir, 'node');
    rmSync(node, { recursive: true, force: true });
    // Node makes its cache folders 0777 minus the umask: under umask 000, writable by all.
    const list = () =>
      spawnSync('sh', ['-c', `umask 000; exec "$0" "$1" list`, process.execPath, BIN], {
        env: w.env(),
        encoding: 'utf8',
      });
    const first = list();
    expect(first.status, first.stderr).toBe(0);
    expect(statSync(node).mode & 0o777).toBe(0o700);
    expect(readdirSync(node).length).toBeGreaterThan(0);
    // One left loose (by an older aws-vault, or by hand) is made 0700.
    chmodSync(node, 0o777);
    expect(list().status).toBe(0);
    expect(statSync(node).mode & 0o777).toBe(0o700);
  });

  it('lives under $XDG_CACHE_HOME when it is set', async () => {
    const { w, run } = await cachedWorld('ccxdg');
    const xdg = join(w.home.home, 'xdg-cache');
    const result = await run({ XDG_CACHE_HOME: xdg });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(cacheFile(join(xdg, 'aws-vault')).mode).toBe(0o600);
  });
});

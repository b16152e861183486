#!/usr/bin/env node
// The whole CLI lives in dist/; this file checks that the Node.js running it
// is new enough, so an old Node gets one clear line, not a stack, and starts
// the fast path or the full CLI. It is CommonJS (bin/package.json): Node
// starts a CommonJS main file a little faster than an ES module.
'use strict';
const fs = require('node:fs');
const { dirname, join } = require('node:path');

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 15)) {
  process.stderr.write(
    `aws-vault: error: Node.js >= 22.15 is required, but this is Node.js ${process.version}; ` +
      'install a newer Node.js (https://nodejs.org) and run aws-vault again\n',
  );
  process.exit(1);
}

// Compiled code is cached in a folder of the user's own (0700, checked to be
// theirs and writable by nobody else): a code cache is code this process
// runs, so it must never come from a shared folder such as Node's default
// for its compile cache, os.tmpdir(), where another user could plant one.
const cacheDir = privateCacheDir();

// A reader that goes away (`aws-vault list | head -1`) closes our stdout or
// stderr: later writes fail with EPIPE. Nothing is left to tell, so drop the
// output quietly and let the command finish its work (it may be storing a
// key) rather than die with a stack trace. The handler is attached when a
// stream is first used: creating one costs start-up time that a plain
// `exec`, which prints nothing, should not pay.
function onOutputError(error) {
  if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') return;
  // Any other output error: one line where possible, a failed exit, no stack.
  process.exitCode = 1;
  if (this !== process.stderr) process.stderr.write(`aws-vault: error: ${error.message}\n`);
}
const streams = [];
for (const name of ['stdout', 'stderr']) {
  const original = Object.getOwnPropertyDescriptor(process, name);
  if (typeof original?.get !== 'function' || !original.configurable) {
    streams.push(process[name].on('error', onOutputError));
    continue;
  }
  let stream;
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: original.enumerable,
    get() {
      if (stream === undefined) {
        stream = original.get.call(process);
        streams.push(stream.on('error', onOutputError));
      }
      return stream;
    },
  });
}

/**
 * `$XDG_CACHE_HOME/aws-vault` (`~/.cache/aws-vault`; `~/Library/Caches/aws-vault`
 * on macOS), created 0700; undefined when it is not this user's alone (or on
 * Windows, where the fast path does not run), and then nothing is cached.
 */
function privateCacheDir() {
  if (typeof process.getuid !== 'function') return undefined;
  const env = process.env;
  const home = env.HOME || require('node:os').homedir();
  const xdg = env.XDG_CACHE_HOME;
  const base =
    process.platform === 'darwin'
      ? join(home, 'Library', 'Caches')
      : xdg?.startsWith('/')
        ? xdg
        : join(home, '.cache');
  const dir = join(base, 'aws-vault');
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return ownedAlone(fs.statSync(dir)) ? dir : undefined;
  } catch {
    return undefined; // a read-only or odd HOME: run without a cache
  }
}

/**
 * `dir`, created 0700 if missing, made 0700 if it is ours and looser; undefined
 * when it is not this user's, so nothing is cached there.
 */
function privateFolder(dir) {
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if (error.code !== 'EEXIST') return undefined;
  }
  try {
    const stats = fs.lstatSync(dir);
    if (!stats.isDirectory() || stats.uid !== process.getuid()) return undefined;
    if ((stats.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700);
    return dir;
  } catch {
    return undefined;
  }
}

/** Owned by this user and writable by nobody else. */
function ownedAlone(stats) {
  return stats.uid === process.getuid() && (stats.mode & 0o022) === 0;
}

/**
 * Loads dist/fast.cjs with V8's code cache of a previous run of the kind of
 * `args` (see runKind). Node's own compile cache holds only what V8 compiled
 * before the module ran; this one is taken after a whole fast-path run, so it
 * also holds every function that run called, which otherwise V8 compiles
 * anew each time (several ms). Returns the module's exports and `save`, which
 * writes the cache when there was none or V8 refused it (another Node, other
 * V8 flags): atomically, 0600.
 */
function loadFast(args) {
  const file = join(__dirname, '..', 'dist', 'fast.cjs');
  const vm = require('node:vm');
  const fd = fs.openSync(file, 'r');
  const { size, mtimeMs } = fs.fstatSync(fd);
  // The module inside Node's CommonJS wrapper (scripts/build.mjs): compiled
  // as read, with no copy of its 90 KB.
  const source = fs.readFileSync(fd, 'utf8');
  fs.closeSync(fd);
  // V8 checks the cache against the source's length only: the name holds
  // what changes with every build and every Node, then the kind of run.
  const build = `fast-${process.version}-${process.arch}-${size}-${Math.trunc(mtimeMs)}-`;
  const cacheFile =
    cacheDir === undefined
      ? undefined
      : join(cacheDir, `${build}${runKind(args, process.env)}.cache`);
  const cachedData = cacheFile === undefined ? undefined : readOwnFile(cacheFile);
  const script = new vm.Script(source, {
    filename: file,
    cachedData,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const module = { exports: {} };
  // This file's own require: fast.cjs requires only Node built-ins and
  // @napi-rs/keyring, found from bin/ as from dist/ (node:module's
  // createRequire would cost the fast path 0.15 ms to load).
  script.runInThisContext()(module.exports, require, module, file, dirname(file));
  if (cacheFile === undefined) return { fast: module.exports, save() {} };
  let saved = cachedData !== undefined && !script.cachedDataRejected;
  const save = () => {
    if (saved) return;
    saved = true;
    try {
      const temporary = `${cacheFile}.${process.pid}.tmp`;
      fs.writeFileSync(temporary, script.createCachedData(), { mode: 0o600, flag: 'wx' });
      fs.renameSync(temporary, cacheFile);
      // Other builds' caches go, and temporary files (left by a crash, or
      // another run's that then keeps no cache this time); the other kinds
      // of run of this build keep theirs.
      for (const old of fs.readdirSync(cacheDir)) {
        if (old.startsWith('fast-') && (!old.startsWith(build) || old.endsWith('.tmp')))
          fs.rmSync(join(cacheDir, old), { force: true });
      }
    } catch {
      // No cache this time; the next run tries again.
    }
  };
  return { fast: module.exports, save };
}

/**
 * `COMMAND-BACKEND` of this run (`exec-default`, `export-file`), guessed from
 * argv and AWS_VAULT_BACKEND before anything is parsed, so that each kind of
 * run has a code cache of its own. A cache holds what the run that took it
 * compiled: with an `exec` on the file store's, an `export` on the Secret
 * Service runs about 3 ms slower. A wrong guess costs only that.
 */
function runKind(args, env) {
  let command = 'other';
  let backend = env.AWS_VAULT_BACKEND || 'default';
  for (let i = 0; i < args.length && args[i] !== '--'; i++) {
    const arg = args[i];
    if (command === 'other' && (arg === 'exec' || arg === 'export')) command = arg;
    else if (arg === '--backend') backend = args[i + 1] ?? backend;
    else if (arg.startsWith('--backend=')) backend = arg.slice('--backend='.length);
  }
  return `${command}-${/^[a-z-]{1,20}$/.test(backend) ? backend : 'other'}`;
}

/** The bytes of `path` if it is this user's alone; undefined otherwise. */
function readOwnFile(path) {
  let fd;
  try {
    fd = fs.openSync(path, 'r');
    return ownedAlone(fs.fstatSync(fd)) ? fs.readFileSync(fd) : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

const argv = process.argv.slice(2);
// Plain `exec`/`export` runs with a cached session skip loading the full CLI
// (src/cli/fastPath.ts, built as one CommonJS file).
const { fast, save } = loadFast(argv);
fast.fastMain(argv, process.env, { answered: save }).then(async (code) => {
  // Done on the fast path, with all output written (a stream may exist without
  // having been written to: node:net's socket.destroy() looks at
  // process.stderr, which creates it): exit now. Returning to the event loop
  // would first run the garbage collection V8 scheduled during start-up and
  // tear down Node's threads: several ms of CPU for nothing.
  if (code !== undefined) {
    exitOnceWritten(code);
    return;
  }
  // The full CLI: its modules, with Node's compile cache in the same folder,
  // in a 0700 folder of its own: Node makes its folders with the umask's mode.
  const compileCache = cacheDir === undefined ? undefined : privateFolder(join(cacheDir, 'node'));
  if (compileCache !== undefined) require('node:module').enableCompileCache?.(compileCache);
  // The command is done when main returns: work it no longer needs must not
  // keep aws-vault running (a credential server's fetch still waiting for an
  // mfa_process or an SSO sign-in when the command it served has ended).
  exitOnceWritten(await (await import('../dist/main.js')).main(argv));
});

/**
 * Exits with `code` once no created stream still holds output: at once when
 * all is written; otherwise (a pipe on macOS is written asynchronously)
 * after it drains. A reader that never reads leaves the exit to Node.
 */
function exitOnceWritten(code) {
  process.exitCode = code;
  const pending = streams.find((stream) => stream.writableLength > 0);
  if (pending === undefined) process.exit(code);
  pending.once('drain', () => exitOnceWritten(code));
}

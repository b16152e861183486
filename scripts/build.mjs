// Bundles the CLI into dist/ so it starts from one file. The AWS SDK lands in
// separate chunks that load only when a network call is needed (see src/aws/).
import { build } from 'esbuild';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

const common = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  sourcemap: false,
  minify: false,
  legalComments: 'none',
  // Native addon: resolved from node_modules at run time.
  external: ['@napi-rs/keyring'],
  define: { __AWS_VAULT_VERSION__: JSON.stringify(pkg.version) },
  logLevel: 'warning',
};

// The full CLI: ES modules, the AWS SDK and other heavy parts in chunks that
// load when used.
const result = await build({
  ...common,
  metafile: true,
  entryPoints: { main: 'src/main.ts' },
  outdir: 'dist',
  splitting: true,
  format: 'esm',
  // Bundled CommonJS dependencies call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
});

// What the start-up fast path (src/cli/fastPath.ts) leaves to the full CLI:
// a dynamic import of one of these means new credentials, a prompt or a
// server. In dist/fast.cjs such an import throws FullCliNeeded (the engine
// already does so before it would get there) instead of carrying the SDK.
const FULL_CLI_ONLY = /[/\\]src[/\\](aws|prompt|server)[/\\]/;
const errorsModule = fileURLToPath(new URL('../src/errors.ts', import.meta.url));
const fullCliOnly = {
  name: 'full-cli-only',
  setup(b) {
    b.onResolve({ filter: /^\./ }, (args) => {
      if (args.kind !== 'dynamic-import') return undefined;
      const path = resolve(args.resolveDir, args.path);
      if (!FULL_CLI_ONLY.test(path)) return undefined;
      return { path, namespace: 'full-cli-only' };
    });
    b.onLoad({ filter: /.*/, namespace: 'full-cli-only' }, (args) => ({
      contents: `import { needFullCli } from ${JSON.stringify(errorsModule)};\nneedFullCli(${JSON.stringify(`loads ${relative(process.cwd(), args.path)}`)});\n`,
      loader: 'js',
      resolveDir: dirname(errorsModule),
    }));
  },
};

// The fast path: one CommonJS file (one file to read, and built-ins through
// require(), which loads less of node:fs and node:crypto than an ES import),
// minified: a third less to read and compile on every run. Its errors are
// messages, never stacks; `--debug` runs take the full CLI.
//
// The file is the module already inside Node's CommonJS wrapper, a function
// expression that bin/aws-vault.js compiles as it is read (with its code
// cache) and calls. Wrapping it at run time would make V8 copy all 90 KB
// into one new string before compiling: enough garbage that a cached `exec`
// ran a scavenge (about 1 ms) just before execve.
const FAST_WRAPPER = '(function (exports, require, module, __filename, __dirname) {';
const fast = await build({
  ...common,
  metafile: true,
  entryPoints: { fast: 'src/cli/fastPath.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  minify: process.env.FAST_MINIFY !== '0',
  banner: { js: FAST_WRAPPER },
  footer: { js: '})' },
  plugins: [fullCliOnly],
});

// bin/aws-vault.js reads dist/fast.cjs as UTF-8 on every run: ASCII text
// becomes a one-byte string at once, while one other character makes V8
// convert and hold all of it as UTF-16 (about 0.1 ms more per run, twice the
// memory). esbuild escapes strings but not regular expressions.
const fastText = readFileSync('dist/fast.cjs', 'utf8');
if (!fastText.startsWith(`${FAST_WRAPPER}\n"use strict";`) || !fastText.trimEnd().endsWith('})')) {
  throw new Error(
    `dist/fast.cjs must be one function expression, ${FAST_WRAPPER} "use strict"; ... }), as bin/aws-vault.js compiles it`,
  );
}
const nonAscii = fastText.search(/[^\t\n\r\x20-\x7e]/);
if (nonAscii >= 0) {
  throw new Error(
    `dist/fast.cjs is not ASCII at offset ${nonAscii}: ...${fastText.slice(Math.max(0, nonAscii - 40), nonAscii + 10)}... (escape the character in the source, e.g. \\u00b5)`,
  );
}

// bin/aws-vault.js runs dist/fast.cjs through node:vm, where an import() of
// a built-in works but prints an ExperimentalWarning
// (USE_MAIN_CONTEXT_DEFAULT_LOADER) to the user: built-ins load with
// process.getBuiltinModule() or require() there.
const dynamicBuiltin = /\bimport\(\s*["']node:[^"']*["']\s*\)/.exec(fastText);
if (dynamicBuiltin) {
  throw new Error(
    `dist/fast.cjs has ${dynamicBuiltin[0]}: use process.getBuiltinModule() for a built-in on the fast path`,
  );
}

// Chunk names change with their content, so old ones would pile up in dist/.
// Remove what this build did not write, once it is a few minutes old: a test
// process started from the previous build may still load its lazy chunks.
const written = new Set(
  [result, fast].flatMap((r) => Object.keys(r.metafile.outputs)).map((file) => basename(file)),
);
const cutoff = Date.now() - 5 * 60_000;
for (const name of readdirSync('dist')) {
  const path = join('dist', name);
  if (!written.has(name) && statSync(path).mtimeMs < cutoff) rmSync(path, { force: true });
}

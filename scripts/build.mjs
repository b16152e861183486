// Bundles the CLI into dist/ so it starts from one file. The AWS SDK lands in
// separate chunks that load only when a network call is needed (see src/aws/).
import { build } from 'esbuild';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

const result = await build({
  metafile: true,
  entryPoints: { main: 'src/main.ts', fast: 'src/cli/fastPath.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  sourcemap: false,
  minify: false,
  legalComments: 'none',
  // Native addon: resolved from node_modules at run time.
  external: ['@napi-rs/keyring'],
  define: { __AWS_VAULT_VERSION__: JSON.stringify(pkg.version) },
  // Bundled CommonJS dependencies call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  logLevel: 'warning',
});

// Chunk names change with their content, so old ones would pile up in dist/.
// Remove what this build did not write, once it is a few minutes old: a test
// process started from the previous build may still load its lazy chunks.
const written = new Set(Object.keys(result.metafile.outputs).map((file) => basename(file)));
const cutoff = Date.now() - 5 * 60_000;
for (const name of readdirSync('dist')) {
  const path = join('dist', name);
  if (!written.has(name) && statSync(path).mtimeMs < cutoff) rmSync(path, { force: true });
}

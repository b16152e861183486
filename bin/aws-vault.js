#!/usr/bin/env node
// The whole CLI lives in dist/main.js; this file only checks that the Node.js
// running it is new enough, so an old Node gets one clear line, not a stack.
import module from 'node:module';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 15)) {
  process.stderr.write(
    `aws-vault: error: Node.js >= 22.15 is required, but this is Node.js ${process.version}; ` +
      'install a newer Node.js (https://nodejs.org) and run aws-vault again\n',
  );
  process.exit(1);
}
module.enableCompileCache?.();
const argv = process.argv.slice(2);
// Plain `exec`/`export` runs skip loading the full CLI (src/cli/fastPath.ts).
const { fastMain } = await import('../dist/fast.js');
const fast = await fastMain(argv);
process.exitCode = fast ?? (await (await import('../dist/main.js')).main(argv));

#!/usr/bin/env node
// The whole CLI lives in dist/; this file checks that the Node.js running it
// is new enough, so an old Node gets one clear line, not a stack, and starts
// the fast path or the full CLI. It is CommonJS (bin/package.json): Node
// starts a CommonJS main file a little faster than an ES module.
'use strict';
const { enableCompileCache } = require('node:module');

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 15)) {
  process.stderr.write(
    `aws-vault: error: Node.js >= 22.15 is required, but this is Node.js ${process.version}; ` +
      'install a newer Node.js (https://nodejs.org) and run aws-vault again\n',
  );
  process.exit(1);
}
enableCompileCache?.();
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
let streamsUsed = false;
for (const name of ['stdout', 'stderr']) {
  const original = Object.getOwnPropertyDescriptor(process, name);
  if (typeof original?.get !== 'function' || !original.configurable) {
    process[name].on('error', onOutputError);
    streamsUsed = true;
    continue;
  }
  let stream;
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: original.enumerable,
    get() {
      if (stream === undefined) {
        stream = original.get.call(process);
        stream.on('error', onOutputError);
        streamsUsed = true;
      }
      return stream;
    },
  });
}
const argv = process.argv.slice(2);
// Plain `exec`/`export` runs with a cached session skip loading the full CLI
// (src/cli/fastPath.ts, built as one CommonJS file).
const { fastMain } = require('../dist/fast.cjs');
fastMain(argv).then(async (fast) => {
  // Done on the fast path, with everything written synchronously (no stream
  // was created): exit now. Returning to the event loop would first run the
  // garbage collection V8 scheduled during start-up, a few ms for nothing.
  if (fast !== undefined && !streamsUsed) process.exit(fast);
  process.exitCode = fast ?? (await (await import('../dist/main.js')).main(argv));
});

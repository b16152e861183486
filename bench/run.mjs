// `npm run bench`: every benchmark, one after the other, on this machine.
// Each section lives in its own module (bench/exec.mjs, bench/server.mjs) and
// can also run alone.
import { benchExec } from './exec.mjs';
import { benchEcsServer } from './server.mjs';

const sections = [
  ['exec/export start-up', () => benchExec()],
  ['ECS credential server load', () => benchEcsServer()],
];

for (const [title, run] of sections) {
  console.log(`\n== ${title}`);
  await run();
}

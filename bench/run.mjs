// `npm run bench`: every benchmark, one after the other, on this machine.
// Each section lives in its own module (bench/exec.mjs, bench/server.mjs) and
// can also run alone. The whole run happens inside a private D-Bus session
// with its own gnome-keyring (scripts/secretService.mjs), so start-up is
// measured on the Secret Service too, never on the developer's own keyring.
import { fileURLToPath } from 'node:url';
import { benchExec, benchSecretService } from './exec.mjs';
import { benchEcsServer } from './server.mjs';

const secretService = await benchSecretService(fileURLToPath(import.meta.url));
const sections = [
  ['exec/export start-up', () => benchExec({ secretService })],
  ['ECS credential server load', () => benchEcsServer()],
];

try {
  for (const [title, run] of sections) {
    console.log(`\n== ${title}`);
    await run();
  }
} finally {
  await secretService.stop?.();
}

// Runs the whole test suite with vitest.
import { spawnSync } from 'node:child_process';

const result = spawnSync('vitest', ['run', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(result.status ?? 1);

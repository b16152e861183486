import { registerProxy } from './proxy.ts';
import type { RegisterCommand } from './host.ts';

/** Every subcommand, in the order `--help` lists them. */
export const commands: RegisterCommand[] = [registerProxy];

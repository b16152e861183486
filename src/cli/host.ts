import type { Command } from 'commander';
import type { Context } from './context.ts';

/**
 * What a command file gets to wire itself in: `host.run(cmd, fn)` builds the
 * context from the global flags and runs the command's work; whatever `fn`
 * throws is printed by the one catch in `main`. `fn` returns the exit code
 * (undefined = 0) and never calls `process.exit`.
 */
export interface Host {
  run(command: Command, fn: (ctx: Context) => Promise<number | void>): Promise<void>;
}

/** A command file's export: adds its subcommand to the program. */
export type RegisterCommand = (program: Command, host: Host) => void;

import { registerAdd } from './add.ts';
import { registerClear } from './clear.ts';
import { registerCompletion } from './completion.ts';
import { registerDirenv } from './direnv.ts';
import { registerExec } from './exec.ts';
import { registerExport } from './export.ts';
import { registerList } from './list.ts';
import { registerLogin } from './login.ts';
import { registerProxy } from './proxy.ts';
import { registerRemove } from './remove.ts';
import { registerRotate } from './rotate.ts';
import type { RegisterCommand } from './host.ts';

/** Every subcommand, in the order `--help` lists them. */
export const commands: RegisterCommand[] = [
  registerAdd,
  registerList,
  registerRemove,
  registerClear,
  registerExec,
  registerExport,
  registerLogin,
  registerRotate,
  registerDirenv,
  registerCompletion,
  registerProxy,
];

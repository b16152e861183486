import { closeSync, openSync } from 'node:fs';

/**
 * True when the process has a controlling terminal a prompt can open
 * (`/dev/tty`), whatever its stdin and stdout are. Kept apart from the
 * prompters so the light command helpers can ask without loading them.
 */
export function hasControllingTerminal(): boolean {
  if (process.platform === 'win32') return false;
  try {
    // Opening and closing /dev/tty is the only portable test for a controlling terminal.
    closeSync(openSync('/dev/tty', 'r'));
    return true;
  } catch {
    return false;
  }
}

// Asks for an MFA code with the driver named by DRIVER and writes what it got
// (or the error) to OUT_FILE: used to run the terminal prompt inside tmux and
// without any controlling terminal.
import { writeFileSync } from 'node:fs';
import { mfaPromptFor } from '../../../src/prompt/mfa.ts';

const prompt = mfaPromptFor({
  driver: process.env.DRIVER,
  io: { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
  env: process.env,
  debug: () => {},
});
try {
  const code = await prompt({ profileName: 'p', mfaSerial: 'arn:aws:iam::123456789012:mfa/jane' });
  writeFileSync(process.env.OUT_FILE as string, `code:${code}`);
} catch (error) {
  writeFileSync(process.env.OUT_FILE as string, `error:${(error as Error).message}`);
}

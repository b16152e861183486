import { closeSync, openSync } from 'node:fs';
import { ReadStream, WriteStream } from 'node:tty';
import type { Readable, Writable } from 'node:stream';
import { UserError } from '../errors.ts';

/**
 * Asks the person at the terminal. Commands take a Prompter as a dependency
 * so unit tests can answer without a terminal.
 */
export interface Prompter {
  /** Visible input, trimmed (`Enter Access Key ID: `). */
  text(message: string): Promise<string>;
  /** Hidden input, trimmed: nothing typed is echoed (`Enter Secret Access Key: `). */
  secret(message: string): Promise<string>;
  /** A `(y|N)` question: true only for `y` or `yes`, any case. */
  confirm(message: string): Promise<boolean>;
}

/** The streams of the terminal: /dev/tty when there is one, else stdin/stderr when stdin is a TTY. */
interface Terminal {
  input: Readable & { setRawMode?: (raw: boolean) => unknown; isTTY?: boolean };
  output: Writable;
  close(): void;
}

/** What the terminal prompter needs from the command's context. */
export interface TerminalPrompterOptions {
  stdin: Readable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  /** Said in the error when there is no terminal, e.g. "use --env to read them from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY". */
  noTtyHint?: string;
}

/**
 * A Prompter on the controlling terminal. Prompts are written to the
 * terminal itself (never stdout), so they work while stdout is captured, as
 * under `credential_process` or `$(...)`. With no terminal it fails at once.
 *
 * A small raw-mode reader rather than @inquirer/prompts: the prompts must be
 * the Go aws-vault's exact text on the TTY, with no styling or redraws that
 * would break scripts driving the terminal (expect, tmux).
 */
export function terminalPrompter(options: TerminalPrompterOptions): Prompter {
  const ask = async (message: string, hidden: boolean): Promise<string> => {
    const terminal = openTerminal(options);
    if (!terminal) {
      const hint = options.noTtyHint ? `; ${options.noTtyHint}` : '';
      throw new UserError(`cannot prompt for input: no terminal (TTY) available${hint}`);
    }
    try {
      terminal.output.write(message);
      const answer = await readLine(terminal, hidden);
      return answer.trim();
    } finally {
      terminal.close();
    }
  };
  return {
    text: (message) => ask(message, false),
    secret: (message) => ask(message, true),
    async confirm(message) {
      const answer = (await ask(message, false)).toLowerCase();
      return answer === 'y' || answer === 'yes';
    },
  };
}

/** A Prompter that gives fixed answers in order (tests, scripted use). */
export function scriptedPrompter(answers: string[]): Prompter & { asked: string[] } {
  const queue = [...answers];
  const asked: string[] = [];
  const next = async (message: string) => {
    asked.push(message);
    const answer = queue.shift();
    if (answer === undefined)
      throw new UserError('cannot prompt for input: no terminal (TTY) available');
    return answer.trim();
  };
  return {
    asked,
    text: next,
    secret: next,
    async confirm(message) {
      const answer = (await next(message)).toLowerCase();
      return answer === 'y' || answer === 'yes';
    },
  };
}

function openTerminal(options: TerminalPrompterOptions): Terminal | undefined {
  if (process.platform !== 'win32') {
    let readFd: number | undefined;
    try {
      readFd = openSync('/dev/tty', 'r');
      const writeFd = openSync('/dev/tty', 'w');
      const input = new ReadStream(readFd);
      const output = new WriteStream(writeFd);
      return {
        input,
        output,
        close() {
          input.setRawMode(false);
          input.destroy();
          output.destroy();
        },
      };
    } catch {
      // ENXIO: no controlling terminal. Fall through to stdin.
      if (readFd !== undefined) closeSync(readFd);
    }
  }
  if (options.stdin.isTTY) {
    return {
      input: options.stdin,
      output: options.stderr,
      close() {
        (options.stdin as { setRawMode?: (raw: boolean) => unknown }).setRawMode?.(false);
        options.stdin.pause();
      },
    };
  }
  return undefined;
}

/**
 * Reads one line. Hidden input uses raw mode so nothing is echoed; the
 * characters are collected here (backspace edits, Ctrl-C / Ctrl-D abort).
 */
function readLine(terminal: Terminal, hidden: boolean): Promise<string> {
  const { input, output } = terminal;
  return new Promise((resolve, reject) => {
    let line = '';
    const finish = (error?: Error) => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onError);
      input.pause();
      if (hidden) output.write('\n');
      if (error) reject(error);
      else resolve(line);
    };
    const onData = (chunk: Buffer | string) => {
      const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      for (const ch of text) {
        if (ch === '\r' || ch === '\n') return finish();
        // Raw mode turns Ctrl-C into a character: exit as the signal would (130).
        if (hidden && ch === '\u0003') {
          return finish(new UserError('interrupted', { exitCode: 130 }));
        }
        if (hidden && ch === '\u0004') {
          if (line === '') return finish(new UserError('no input (end of file)'));
          continue;
        }
        if (hidden && (ch === '\u007f' || ch === '\b')) {
          line = [...line].slice(0, -1).join('');
          continue;
        }
        if (hidden && ch === '\u0015') {
          line = '';
          continue;
        }
        line += ch;
      }
    };
    const onEnd = () => finish(line === '' ? new UserError('no input (end of file)') : undefined);
    const onError = (error: Error) =>
      finish(new UserError('cannot read from the terminal', { cause: error }));
    if (hidden) input.setRawMode?.(true);
    input.on('data', onData);
    input.on('end', onEnd);
    input.on('error', onError);
    input.resume();
  });
}

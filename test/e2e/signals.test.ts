import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { BIN, ROOT } from './_runCli.ts';
import { startExecWorld, type ExecWorld } from './_exec.ts';
import { startTmux, waitFor } from '../helpers/tmux.ts';

/** A child that logs each signal it gets and exits 7 on TERM. */
const TRAPPER = (dir: string) => `
trap 'echo USR1 >> ${dir}/got' USR1
trap 'echo HUP >> ${dir}/got' HUP
trap 'echo INT >> ${dir}/got' INT
trap 'echo QUIT >> ${dir}/got' QUIT
trap 'echo USR2 >> ${dir}/got' USR2
trap 'echo WINCH >> ${dir}/got' WINCH
trap 'echo TERM >> ${dir}/got; exit 7' TERM
echo "$AWS_CONTAINER_CREDENTIALS_FULL_URI" > ${dir}/uri
echo $$ > ${dir}/ready
while :; do sleep 0.1; done
`;

describe('signals', () => {
  let w: ExecWorld;

  beforeAll(async () => {
    w = await startExecWorld('[profile sig]\n');
    await w.addUser('sig');
  });
  afterAll(async () => {
    await w?.close();
  });

  function start(args: string[]) {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: w.env(),
      cwd: ROOT,
      stdio: 'ignore',
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    return { child, exited };
  }

  async function waitForLines(file: string, lines: number) {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (
        existsSync(file) &&
        readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).length >= lines
      )
        return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`timed out waiting for ${lines} lines in ${file}`);
  }

  it('forwards signals to the child with a server, exits with its code and stops the server', async () => {
    const dir = join(w.home.home, 'server');
    mkdirSync(dir, { recursive: true });
    const { child, exited } = start([
      'exec',
      '--ecs-server',
      'sig',
      '--',
      'sh',
      '-c',
      TRAPPER(dir),
    ]);
    try {
      await waitForLines(join(dir, 'ready'), 1);
      // aws-vault stays the parent here: the child is another process.
      expect(Number(readFileSync(join(dir, 'ready'), 'utf8'))).not.toBe(child.pid);
      for (const [signal, n] of [
        ['SIGUSR1', 1],
        ['SIGHUP', 2],
        ['SIGINT', 3],
        ['SIGQUIT', 4],
        ['SIGUSR2', 5],
        ['SIGWINCH', 6],
      ] as const) {
        child.kill(signal);
        await waitForLines(join(dir, 'got'), n);
      }
      child.kill('SIGTERM');
      const { code } = await exited;
      expect(code).toBe(7);
      expect(readFileSync(join(dir, 'got'), 'utf8')).toBe(
        'USR1\nHUP\nINT\nQUIT\nUSR2\nWINCH\nTERM\n',
      );
      const uri = new URL(readFileSync(join(dir, 'uri'), 'utf8').trim());
      expect(uri.hostname).toBe('127.0.0.1');
      expect(await canConnect(Number(uri.port))).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('with a server, one Ctrl-C on the terminal reaches the command once (terraform: two mean "exit now")', async () => {
    const dir = join(w.home.home, 'ctrl-c');
    mkdirSync(dir, { recursive: true });
    const script = join(dir, 'child.sh');
    writeFileSync(
      script,
      `trap 'echo INT >> ${dir}/got' INT\necho $$ > ${dir}/ready\nwhile [ ! -s ${dir}/got ]; do sleep 0.1; done\nsleep 1\nexit 5\n`,
    );
    const term = startTmux(
      dir,
      w.env(),
      // The shell running this script is in the foreground group too: it
      // traps INT (a handler, which its children do not inherit) to go on.
      `trap : INT\ncd '${ROOT}'\n'${process.execPath}' '${BIN}' exec --ecs-server sig -- sh ${script}\necho "exit=$?"\nsleep 30`,
    );
    try {
      await waitForLines(join(dir, 'ready'), 1);
      term.sendKeys('C-c');
      await waitFor(() => term.screen().includes('exit='));
      expect(term.screen()).toContain('exit=5');
      expect(readFileSync(join(dir, 'got'), 'utf8')).toBe('INT\n');
    } finally {
      term.kill();
    }
  });

  it('without a server the command is the process: signals reach it directly', async () => {
    const dir = join(w.home.home, 'direct');
    mkdirSync(dir, { recursive: true });
    const { child, exited } = start(['exec', 'sig', '--', 'sh', '-c', TRAPPER(dir)]);
    try {
      await waitForLines(join(dir, 'ready'), 1);
      expect(Number(readFileSync(join(dir, 'ready'), 'utf8'))).toBe(child.pid);
      child.kill('SIGTERM');
      expect((await exited).code).toBe(7);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

import { spawn } from 'node:child_process';
import { UserError } from '../errors.ts';

/** The instance metadata address every AWS SDK tries by default. */
export const METADATA_ADDRESS = '169.254.169.254';
/** How long the helper may take to alias the address and bind port 80 (sudo included). */
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;

export interface PrivilegedProxy {
  /** Closes the helper's stdin (its signal to remove the alias and exit) and waits for it. */
  stop(): Promise<void>;
}

const ALTERNATIVES =
  'use --ec2-server-address 127.0.0.1:9099 (no privileges; the child gets AWS_EC2_METADATA_SERVICE_ENDPOINT) or --ecs-server';

/**
 * Starts `aws-vault proxy --target HOST:PORT` as root (directly when we are
 * root, else through `sudo -n`, which never prompts) and waits until it
 * says it is listening on 169.254.169.254:80. It stops when its stdin
 * closes, which also happens when this process dies.
 */
export function startPrivilegedProxy(options: {
  target: string;
  selfCommand?: string[];
  debug: (line: string) => void;
}): Promise<PrivilegedProxy> {
  if (process.platform === 'win32') {
    return Promise.reject(
      new UserError(
        `the EC2 server on ${METADATA_ADDRESS} is not supported on Windows; ${ALTERNATIVES}`,
      ),
    );
  }
  const self = options.selfCommand ?? [process.execPath, process.argv[1] ?? ''];
  const [node, ...script] = self;
  if (node === undefined) return Promise.reject(new Error('selfCommand is empty'));
  const args = [
    ...script,
    'proxy',
    '--target',
    options.target,
    '--parent-pid',
    String(process.pid),
  ];
  const isRoot = process.getuid?.() === 0;
  const command = isRoot ? node : 'sudo';
  const argv = isRoot ? args : ['-n', node, ...args];
  // Paths only (no secret): users need them to write a sudoers rule.
  options.debug(
    `ec2 server: starting the privileged proxy for ${METADATA_ADDRESS}:80 -> ${options.target}: ${[command, ...argv].join(' ')}`,
  );

  return new Promise((resolve, reject) => {
    // Its own process group: a Ctrl-C meant for the command must not stop the
    // proxy while the command (which may handle it) still runs.
    const child = spawn(command, argv, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let settled = false;
    const exited = new Promise<void>((done) => child.once('close', () => done()));

    const fail = (why: string, cause?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGTERM');
      reject(
        new UserError(
          `the EC2 server needs root to serve ${METADATA_ADDRESS}:80 and could not start its privileged proxy: ${why}; ${ALTERNATIVES}`,
          cause === undefined ? undefined : { cause },
        ),
      );
    };
    const timer = setTimeout(() => fail('it did not start within 15s'), START_TIMEOUT_MS);

    child.once('error', (error: NodeJS.ErrnoException) => {
      fail(
        (error.code === 'ENOENT' || error.code === 'EACCES') && !isRoot
          ? `you are not root and cannot run sudo (${error.code === 'ENOENT' ? 'not installed' : 'permission denied'})`
          : `cannot run ${command}: ${error.message}`,
        error,
      );
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < 4096) stderr += chunk;
      if (settled) options.debug(`ec2 proxy: ${chunk.trimEnd()}`);
    });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (!settled && stdout.includes('ready\n')) {
        settled = true;
        clearTimeout(timer);
        options.debug(`ec2 server: privileged proxy listening on ${METADATA_ADDRESS}:80`);
        resolve({
          async stop() {
            child.stdin.end();
            const timeout = setTimeout(() => child.kill('SIGTERM'), STOP_TIMEOUT_MS);
            await exited;
            clearTimeout(timeout);
            options.debug('ec2 server: privileged proxy stopped');
          },
        });
      }
    });
    child.once('close', (code, signal) => {
      const said = stderr.trim().replace(/^aws-vault: error: (proxy: )?/, '');
      if (!isRoot && /password is required|a terminal is required/i.test(said)) {
        fail('sudo needs a password; run `sudo -v` first, or allow it without one');
      } else {
        fail(said !== '' ? said : `it exited with ${signal ?? `code ${code}`}`);
      }
    });
    // The helper only reads stdin to notice our end; a broken pipe after it exits is expected.
    child.stdin.on('error', () => {});
  });
}

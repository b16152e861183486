// Helper of proxyPeer.test.ts, run inside a private network namespace.
// `serve`: a target HTTP server on 127.0.0.1 plus the privileged proxy on
// 169.254.169.254:80 in front of it; prints `ready`, runs until stdin closes.
// `get`: one request to http://169.254.169.254/, prints the status or `refused`.
import { createServer } from 'node:http';
import { request } from 'node:http';
import { runProxy } from '../../../src/server/proxy.ts';

const mode = process.argv[2];

if (mode === 'serve') {
  const target = createServer((_req, res) => res.end('credentials'));
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', () => resolve()));
  const { port } = target.address() as { port: number };
  await runProxy({
    target: `127.0.0.1:${port}`,
    listenAddress: '169.254.169.254',
    listenPort: 80,
    stdin: process.stdin,
    ready: () => process.stdout.write('ready\n'),
    debug: (line) => process.stderr.write(`${line}\n`),
  });
  target.close();
} else {
  const localAddress = process.argv[3];
  const status = await new Promise<string>((resolve) => {
    const req = request(
      {
        host: '169.254.169.254',
        port: 80,
        path: '/',
        headers: { host: '169.254.169.254' },
        ...(localAddress ? { localAddress } : {}),
        timeout: 3000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(String(res.statusCode)));
      },
    );
    req.on('error', () => resolve('refused'));
    req.on('timeout', () => {
      req.destroy();
      resolve('timeout');
    });
    req.end();
  });
  process.stdout.write(`${status}\n`);
}

// The privileged EC2 proxy listens on 169.254.169.254:80, an address aliased
// on loopback. Linux accepts packets for a local address on any interface,
// so without a check a neighbour (or a container routed through this host)
// could read IMDSv1 credentials. Regression test: the proxy must refuse
// peers that are not this machine.
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isLocalPeer } from '../../../src/server/proxy.ts';

const root = resolve(import.meta.dirname, '../../..');
const helper = join(root, 'test/unit/security/_proxyNetns.ts');
const canUnshare =
  process.getuid?.() === 0 &&
  spawnSync('unshare', ['-n', 'true']).status === 0 &&
  spawnSync('ip', ['-V']).status === 0;

describe('isLocalPeer', () => {
  const none = () => [];
  it('accepts loopback sources and the listen address', () => {
    expect(isLocalPeer('127.0.0.1', '169.254.169.254', none)).toBe(true);
    expect(isLocalPeer('127.3.4.5', '169.254.169.254', none)).toBe(true);
    expect(isLocalPeer('::1', '169.254.169.254', none)).toBe(true);
    expect(isLocalPeer('::ffff:127.0.0.1', '169.254.169.254', none)).toBe(true);
    expect(isLocalPeer('169.254.169.254', '169.254.169.254', none)).toBe(true);
    expect(isLocalPeer('::ffff:169.254.169.254', '169.254.169.254', none)).toBe(true);
  });
  it("accepts this machine's own interface addresses", () => {
    expect(isLocalPeer('192.168.1.5', '169.254.169.254', () => ['192.168.1.5'])).toBe(true);
  });
  it('refuses neighbours, containers and unknown peers', () => {
    expect(isLocalPeer('192.168.1.6', '169.254.169.254', () => ['192.168.1.5'])).toBe(false);
    expect(isLocalPeer('172.17.0.2', '169.254.169.254', none)).toBe(false);
    expect(isLocalPeer('169.254.1.1', '169.254.169.254', none)).toBe(false);
    expect(isLocalPeer('localhost', '169.254.169.254', none)).toBe(false);
    expect(isLocalPeer(undefined, '169.254.169.254', none)).toBe(false);
  });
});

describe.skipIf(!canUnshare)('EC2 proxy on 169.254.169.254:80 (network namespaces)', () => {
  it('serves local processes and refuses a neighbour on a veth link', () => {
    // Namespace A runs the proxy; namespace B is a "neighbour" at 10.9.9.2
    // routing 169.254.169.254 through A (10.9.9.1), as a LAN peer or a
    // container would.
    const script = `
      set -e
      ip link set lo up
      unshare -n sleep 30 & PEER=$!
      sleep 0.2
      ip link add v0 type veth peer name v1
      ip link set v1 netns $PEER
      ip addr add 10.9.9.1/24 dev v0
      ip link set v0 up
      nsenter -t $PEER -n sh -c 'ip link set lo up; ip addr add 10.9.9.2/24 dev v1; ip link set v1 up; ip route add 169.254.169.254/32 via 10.9.9.1'
      mkfifo "$DIR/in"
      "$NODE" "$HELPER" serve < "$DIR/in" > "$DIR/out" 2> "$DIR/err" &
      SERVER=$!
      exec 3> "$DIR/in"
      i=0; until grep -q ready "$DIR/out" 2>/dev/null || [ $i -ge 100 ]; do sleep 0.1; i=$((i+1)); done
      echo "local=$("$NODE" "$HELPER" get)"
      echo "loopback-source=$("$NODE" "$HELPER" get 127.0.0.1)"
      echo "neighbour=$(nsenter -t $PEER -n "$NODE" "$HELPER" get)"
      exec 3>&-
      wait $SERVER || true
      kill $PEER 2>/dev/null || true
      echo "--- proxy log"; cat "$DIR/err"
    `;
    const dir = spawnSync('mktemp', ['-d'], { encoding: 'utf8' }).stdout.trim();
    try {
      const run = spawnSync('unshare', ['-n', 'sh', '-c', script], {
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, NODE: process.execPath, HELPER: helper, DIR: dir },
      });
      const out = run.stdout;
      expect(out, run.stderr).toContain('local=200');
      expect(out, run.stderr).toContain('loopback-source=200');
      expect(out, run.stderr).toMatch(/neighbour=(refused|timeout)/);
      expect(out).toMatch(/proxy: refused a connection from 10\.9\.9\.2/);
    } finally {
      spawnSync('rm', ['-rf', dir]);
    }
  });
});

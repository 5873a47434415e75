/**
 * sockets.ts on the loopback device, without privileges: `transparent: false`
 * leaves out IP_TRANSPARENT (CAP_NET_ADMIN), everything else is the real
 * thing (recvmmsg, IP_ORIGDSTADDR, reply sockets bound to another loopback
 * address, fds handed to node:net). The transparent path through the
 * datapath is test/privileged/proxy-udp.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { SocketError } from '../../common/errors.js';
import {
  TransparentUdpSocket,
  closeSocketFd,
  decodeSockaddrIn,
  encodeSockaddrIn,
  netnsCookie,
  origDstFromControl,
  transparentTcpListenFd,
  transparentTcpSocketFd,
  type SocketAddress,
} from './sockets.js';

const SOCKETS_URL = new URL('./sockets.js', import.meta.url).href;

function isSocketError(code: string, errno: number, message: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof SocketError, `a SocketError: ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.errno, errno);
    assert.match(err.message, message);
    return true;
  };
}

/** A dgram client on 127.0.0.1 that collects what it receives. */
async function client(): Promise<{ sock: dgram.Socket; port: number; got: Array<{ msg: string; from: SocketAddress }>; wait(n: number): Promise<void> }> {
  const sock = dgram.createSocket('udp4');
  const got: Array<{ msg: string; from: SocketAddress }> = [];
  let waiter: (() => void) | undefined;
  let want = 0;
  sock.on('message', (m, r) => {
    got.push({ msg: m.toString(), from: { address: r.address, port: r.port } });
    if (waiter && got.length >= want) waiter();
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  return {
    sock,
    port: sock.address().port,
    got,
    wait: (n) =>
      new Promise<void>((resolve, reject) => {
        if (got.length >= n) return resolve();
        want = n;
        const t = setTimeout(() => reject(new Error(`client: ${got.length} of ${n} datagrams`)), 3000);
        waiter = () => {
          clearTimeout(t);
          resolve();
        };
      }),
  };
}

test('sockaddr_in round trip and refusals', () => {
  const b = encodeSockaddrIn({ address: '10.0.1.5', port: 53 });
  assert.deepEqual([...b], [2, 0, 0, 53, 10, 0, 1, 5, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(decodeSockaddrIn(b), { address: '10.0.1.5', port: 53 });
  assert.equal(decodeSockaddrIn(Buffer.alloc(16)), undefined, 'family 0 is not AF_INET');
  assert.equal(decodeSockaddrIn(Buffer.alloc(8)), undefined, 'too short');
  assert.throws(() => encodeSockaddrIn({ address: '::1', port: 53 }), isSocketError('BL_ERR_SOCKET', 22, /"::1" is not an IPv4 address/));
  assert.throws(() => encodeSockaddrIn({ address: '10.0.0.1', port: 70000 }), isSocketError('BL_ERR_SOCKET', 22, /port 70000 is not a port number/));
});

test('IP_ORIGDSTADDR is found among the control messages, malformed ones yield nothing', () => {
  const control = Buffer.alloc(64);
  // First a cmsg of another type (SOL_SOCKET/SO_TIMESTAMP-ish, 4 bytes of data: 20, padded to 24).
  control.writeBigUInt64LE(20n, 0);
  control.writeInt32LE(1, 8);
  control.writeInt32LE(29, 12);
  // Then IP_ORIGDSTADDR (SOL_IP 0, type 20) with a sockaddr_in.
  control.writeBigUInt64LE(32n, 24);
  control.writeInt32LE(0, 32);
  control.writeInt32LE(20, 36);
  encodeSockaddrIn({ address: '10.96.0.10', port: 53 }).copy(control, 40);
  assert.deepEqual(origDstFromControl(control, 56), { address: '10.96.0.10', port: 53 });
  assert.equal(origDstFromControl(control, 24), undefined, 'only the first cmsg in the length given');
  const bad = Buffer.alloc(32);
  bad.writeBigUInt64LE(1000n, 0);
  assert.equal(origDstFromControl(bad, 32), undefined, 'a cmsg_len past the end');
  bad.writeBigUInt64LE(0n, 0);
  assert.equal(origDstFromControl(bad, 32), undefined, 'a zero cmsg_len does not loop');
});

test('TransparentUdpSocket: datagrams with source and original destination; answers from another address', async () => {
  const s = TransparentUdpSocket.open({ port: 0, address: '127.0.0.1', transparent: false, batch: 4 });
  const c = await client();
  try {
    assert.equal(s.local.address, '127.0.0.1');
    assert.ok(s.local.port > 0);
    const seen: Array<{ msg: string; from: SocketAddress; origDst: SocketAddress }> = [];
    s.onError((err) => assert.fail(err));
    s.onMessage((msg, from, origDst) => {
      seen.push({ msg: msg.toString(), from, origDst });
      // Answer from the address the client sent to, and once from another loopback address.
      s.send(origDst, from, Buffer.from(`re:${msg}`));
      if (msg.toString() === 'q0') s.send({ address: '127.0.0.2', port: 5353 }, from, Buffer.from('other'));
    });
    // More than one recvmmsg batch, sent at once.
    for (let i = 0; i < 25; i++) c.sock.send(`q${i}`, s.local.port, '127.0.0.1');
    await c.wait(26);
    assert.deepEqual(seen.map((m) => m.msg), Array.from({ length: 25 }, (_, i) => `q${i}`), 'every datagram, in order, payloads copied');
    for (const m of seen) {
      assert.deepEqual(m.from, { address: '127.0.0.1', port: c.port });
      assert.deepEqual(m.origDst, s.local);
    }
    const answers = c.got.filter((g) => g.msg.startsWith('re:'));
    assert.equal(answers.length, 25);
    for (const a of answers) assert.deepEqual(a.from, s.local, 'the answer comes from the address asked');
    assert.deepEqual(c.got.find((g) => g.msg === 'other')?.from, { address: '127.0.0.2', port: 5353 });
    assert.equal(s.replySockets, 2, 'one reply socket per (from, to), reused');
  } finally {
    s.close();
    c.sock.close();
  }
});

test('TransparentUdpSocket: idle reply sockets are closed, then reopened on demand', async () => {
  const s = TransparentUdpSocket.open({ port: 0, address: '127.0.0.1', transparent: false, replyIdleMs: 100, maxReplySockets: 2 });
  const c = await client();
  try {
    const to = { address: '127.0.0.1', port: c.port };
    s.send({ address: '127.0.0.2', port: 1001 }, to, Buffer.from('a'));
    s.send({ address: '127.0.0.2', port: 1002 }, to, Buffer.from('b'));
    s.send({ address: '127.0.0.2', port: 1003 }, to, Buffer.from('c'));
    assert.equal(s.replySockets, 2, 'the least recently used one went at the limit');
    await c.wait(3);
    assert.deepEqual(c.got.map((g) => `${g.msg}@${g.from.port}`), ['a@1001', 'b@1002', 'c@1003']);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(s.replySockets, 0, 'idle ones closed');
    s.send({ address: '127.0.0.2', port: 1001 }, to, Buffer.from('d'));
    await c.wait(4);
    assert.equal(c.got[3]?.msg, 'd');
  } finally {
    s.close();
    c.sock.close();
  }
});

test('TransparentUdpSocket: errors name the operation', async () => {
  // Not an address of this namespace, without IP_TRANSPARENT.
  assert.throws(
    () => TransparentUdpSocket.open({ port: 0, address: '192.0.2.1', transparent: false }),
    isSocketError('BL_ERR_SOCKET', 99, /^open UDP proxy socket 192\.0\.2\.1:0: bind 192\.0\.2\.1:0: EADDRNOTAVAIL$/),
  );
  const taken = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => taken.bind(0, '127.0.0.1', resolve));
  const s = TransparentUdpSocket.open({ port: 0, address: '127.0.0.1', transparent: false });
  try {
    // node:dgram binds without SO_REUSEADDR: its address cannot be shared.
    assert.throws(
      () => s.send({ address: '127.0.0.1', port: taken.address().port }, { address: '127.0.0.1', port: 9 }, Buffer.from('x')),
      (err: unknown) => err instanceof SocketError && err.errno === 98 && /^open UDP reply socket .*: bind .*: EADDRINUSE$/.test(err.message) && /SO_REUSEADDR/.test(err.hint ?? ''),
    );
    assert.throws(() => s.send({ address: 'nope', port: 1 }, { address: '127.0.0.1', port: 9 }, Buffer.from('x')), isSocketError('BL_ERR_SOCKET', 22, /^send UDP nope:1 → 127\.0\.0\.1:9: "nope" is not an IPv4 address$/));
  } finally {
    s.close();
    taken.close();
  }
  s.close(); // idempotent
  assert.equal(s.closed, true);
  assert.throws(() => s.send({ address: '127.0.0.1', port: 1 }, { address: '127.0.0.1', port: 2 }, Buffer.from('x')), isSocketError('BL_ERR_SOCKET', 9, /the socket is closed/));
  assert.throws(() => s.onMessage(() => {}), isSocketError('BL_ERR_SOCKET', 9, /the socket is closed/));
});

test('TransparentUdpSocket: unref() lets the process exit, ref() holds it', () => {
  // A socket waiting for datagrams that never come, in a process of its own.
  const child = (unref: boolean) =>
    spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { TransparentUdpSocket } from ${JSON.stringify(SOCKETS_URL)};
         const s = TransparentUdpSocket.open({ port: 0, address: '127.0.0.1', transparent: false });
         s.onMessage(() => {});
         ${unref ? 's.unref();' : 's.unref(); s.ref();'}`,
      ],
      { timeout: 3000, encoding: 'utf8' },
    );
  const unrefd = child(true);
  assert.equal(unrefd.status, 0, unrefd.stderr);
  const held = child(false);
  assert.equal(held.signal, 'SIGTERM', `still running after 3 s: the socket holds the event loop (${held.stderr})`);
});

test('transparentTcpListenFd: a listener node:net serves; accepted sockets have the address the client connected to', async () => {
  const fd = transparentTcpListenFd({ port: 0, address: '127.0.0.1', transparent: false, backlog: 16 });
  const locals: string[] = [];
  const server = net.createServer((sock) => {
    locals.push(`${sock.localAddress}:${sock.localPort}`);
    sock.end('hi');
  });
  await new Promise<void>((resolve) => server.listen({ fd }, resolve));
  try {
    const { port } = server.address() as net.AddressInfo;
    const got = await new Promise<string>((resolve, reject) => {
      const c = net.connect(port, '127.0.0.1');
      let data = '';
      c.on('data', (d) => (data += d));
      c.on('end', () => resolve(data));
      c.on('error', reject);
    });
    assert.equal(got, 'hi');
    assert.deepEqual(locals, [`127.0.0.1:${port}`]);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test('transparentTcpSocketFd: new net.Socket({ fd }).connect() connects from the bound address', async () => {
  const remotes: string[] = [];
  const server = net.createServer((sock) => {
    remotes.push(sock.remoteAddress!);
    sock.end('hello');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as net.AddressInfo;
    for (let i = 0; i < 3; i++) {
      const fd = transparentTcpSocketFd('127.0.0.3', { transparent: false });
      const got = await new Promise<{ data: string; local: string }>((resolve, reject) => {
        const c = new net.Socket({ fd });
        let data = '';
        let local = '';
        c.connect(port, '127.0.0.1', () => (local = c.localAddress!));
        c.on('data', (d) => (data += d));
        c.on('end', () => resolve({ data, local }));
        c.on('error', reject);
      });
      assert.deepEqual(got, { data: 'hello', local: '127.0.0.3' });
    }
    assert.deepEqual(remotes, ['127.0.0.3', '127.0.0.3', '127.0.0.3'], 'the server sees the bound address, on every connection');
    const unused = transparentTcpSocketFd('127.0.0.3', { transparent: false });
    closeSocketFd(unused);
    assert.throws(() => closeSocketFd(-1), isSocketError('BL_ERR_SOCKET', 9, /not a file descriptor/));
    assert.throws(() => transparentTcpSocketFd('10.0.0.300'), isSocketError('BL_ERR_SOCKET', 22, /^open transparent TCP socket from 10\.0\.0\.300: "10\.0\.0\.300" is not an IPv4 address$/));
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test('netnsCookie: this namespace\'s cookie, non-zero and the same on every call', () => {
  const c = netnsCookie();
  assert.equal(typeof c, 'bigint');
  assert.ok(c > 0n);
  assert.equal(netnsCookie(), c);
});

/**
 * The native boundary's second file: the node proxies' transparent sockets,
 * what HAProxy gets from `bind … transparent` and `source … usesrc clientip`,
 * for the proxies that run in the agent (DNS, Kafka). Node's dgram and net
 * cannot set IP_TRANSPARENT or read a datagram's original destination, so
 * these are koffi calls into libc, like libbpf.ts (the first file); nothing
 * else in beeline calls socket(2) on these fds.
 *
 * The datapath hands a pod's connection or datagram to the proxy's socket
 * with bpf_sk_assign() and BL_PROXY_MARK (bpf/include/lib/proxy.h): the
 * packet keeps its addresses, so
 *   - a UDP socket learns the original destination from IP_ORIGDSTADDR
 *     (TransparentUdpSocket), and answers from that address: a datagram
 *     whose source is not the node's, sent from a socket bound to it with
 *     IP_TRANSPARENT (TransparentUdpSocket.send);
 *   - a TCP listener's accepted sockets have the original destination as
 *     their local address (transparentTcpListenFd: an fd for
 *     net.Server.listen({ fd }));
 *   - an upstream connection can keep the client's address as its source
 *     (transparentTcpSocketFd: an fd for new net.Socket({ fd }).connect()).
 * Everything here runs in the node's network namespace (the agent's) and
 * needs CAP_NET_ADMIN for IP_TRANSPARENT; `transparent: false` leaves it out
 * (loopback tests without privileges).
 *
 * Bindings are declared on first use, so importing this file needs no root.
 * Layouts (sockaddr_in, msghdr, mmsghdr, iovec, cmsghdr) are Linux LP64
 * (x86-64, arm64), little-endian, as the rest of the native boundary assumes.
 * Failures are SocketError naming the operation and the addresses.
 */
import koffi from 'koffi';
import type { LibraryHandle, node as koffiNode } from 'koffi';
import { isIPv4 } from 'node:net';
import { endianness } from 'node:os';
import { SocketError } from '../../common/errors.js';
import { EAGAIN, EBADF, EINVAL, ENOENT, EPERM, errnoName } from './errno.js';

/** koffi functions are untyped at the FFI edge; the wrappers below are typed. */
type Fn = (...args: any[]) => any;

interface Libc {
  socket: Fn;
  setsockopt: Fn;
  getsockopt: Fn;
  bind: Fn;
  listen: Fn;
  connect: Fn;
  getsockname: Fn;
  recvmmsg: Fn;
  send: Fn;
  close: Fn;
  malloc: Fn;
  free: Fn;
}

let libc: Libc | undefined;

function lib(): Libc {
  if (libc) return libc;
  if (endianness() !== 'LE') throw new SocketError('load libc.so.6: sockets.ts assumes a little-endian machine', EINVAL);
  let l: LibraryHandle;
  try {
    l = koffi.load('libc.so.6');
  } catch (err) {
    throw new SocketError(`load libc.so.6: ${(err as Error).message}`, ENOENT);
  }
  const f = (decl: string): Fn => l.func(decl) as Fn;
  libc = {
    socket: f('int socket(int domain, int type, int protocol)'),
    setsockopt: f('int setsockopt(int fd, int level, int optname, const void *optval, uint32_t optlen)'),
    getsockopt: f('int getsockopt(int fd, int level, int optname, _Out_ void *optval, _Inout_ uint32_t *optlen)'),
    bind: f('int bind(int fd, const void *addr, uint32_t addrlen)'),
    listen: f('int listen(int fd, int backlog)'),
    connect: f('int connect(int fd, const void *addr, uint32_t addrlen)'),
    getsockname: f('int getsockname(int fd, void *addr, _Inout_ uint32_t *addrlen)'),
    recvmmsg: f('int recvmmsg(int fd, void *msgvec, unsigned int vlen, int flags, void *timeout)'),
    send: f('intptr_t send(int fd, const void *buf, size_t len, int flags)'),
    close: f('int close(int fd)'),
    malloc: f('void *malloc(size_t size)'),
    free: f('void free(void *ptr)'),
  };
  return libc;
}

// ---------------------------------------------------------------------------
// Constants (Linux UAPI)

const AF_INET = 2;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
/** Linux 5.14+: the network namespace's cookie, bpf_get_netns_cookie()'s value for it. */
const SO_NETNS_COOKIE = 71;
const SOL_IP = 0;
const IP_TRANSPARENT = 19;
/** Setting: IP_RECVORIGDSTADDR; the cmsg type it produces: IP_ORIGDSTADDR (same number). */
const IP_RECVORIGDSTADDR = 20;
const IP_ORIGDSTADDR = 20;
const IP_BIND_ADDRESS_NO_PORT = 24;
const MSG_DONTWAIT = 0x40;
const MSG_TRUNC = 0x20;
const MSG_CTRUNC = 0x08;
const EINTR = 4;
const ECONNREFUSED = 111;
const EADDRINUSE = 98;
const EADDRNOTAVAIL = 99;

const SOCKADDR_IN_LEN = 16;
/** struct msghdr (56) + msg_len (4) + padding: struct mmsghdr. */
const MMSGHDR_LEN = 64;
const IOVEC_LEN = 16;
/** Room for the IP_ORIGDSTADDR cmsg (CMSG_SPACE(16) = 32) and one more. */
const CONTROL_LEN = 64;
/** The largest UDP payload over IPv4 (65,535 − 20 − 8) fits: no datagram is ever truncated. */
const SLOT_LEN = 65536;
/** recvmmsg calls per readiness callback at most; the poll calls back again while data is waiting. */
const MAX_ROUNDS = 16;

// ---------------------------------------------------------------------------
// Addresses

/** An IPv4 address and port (host byte order), as Node's net reports them. */
export interface SocketAddress {
  address: string;
  port: number;
}

function addrText(a: SocketAddress): string {
  return `${a.address}:${a.port}`;
}

function checkAddress(what: string, a: SocketAddress): void {
  if (typeof a?.address !== 'string' || !isIPv4(a.address)) {
    throw new SocketError(`${what}: ${JSON.stringify(a?.address)} is not an IPv4 address`, EINVAL);
  }
  if (!Number.isInteger(a.port) || a.port < 0 || a.port > 0xffff) {
    throw new SocketError(`${what}: port ${String(a.port)} is not a port number (0-65535)`, EINVAL);
  }
}

/** struct sockaddr_in of an IPv4 address and port. */
export function encodeSockaddrIn(a: SocketAddress): Buffer {
  checkAddress('encode sockaddr_in', a);
  const b = Buffer.alloc(SOCKADDR_IN_LEN);
  b.writeUInt16LE(AF_INET, 0); // sa_family: host byte order
  b.writeUInt16BE(a.port, 2); // sin_port: network byte order
  const octets = a.address.split('.').map(Number);
  for (let i = 0; i < 4; i++) b[4 + i] = octets[i]!;
  return b;
}

/** The address and port of a struct sockaddr_in at offset off; undefined for another family. */
export function decodeSockaddrIn(b: Uint8Array, off = 0): SocketAddress | undefined {
  if (b.length < off + SOCKADDR_IN_LEN) return undefined;
  if ((b[off]! | (b[off + 1]! << 8)) !== AF_INET) return undefined;
  return { address: `${b[off + 4]}.${b[off + 5]}.${b[off + 6]}.${b[off + 7]}`, port: (b[off + 2]! << 8) | b[off + 3]! };
}

/**
 * The original destination in a datagram's control messages (the cmsg
 * IP_ORIGDSTADDR that IP_RECVORIGDSTADDR asks for), read from `len` bytes of
 * cmsghdr records (cmsg_len: size_t, cmsg_level, cmsg_type: int, then the
 * data, each record padded to 8 bytes); undefined when it is not there.
 */
export function origDstFromControl(control: Uint8Array, len: number): SocketAddress | undefined {
  const view = new DataView(control.buffer, control.byteOffset, Math.min(len, control.length));
  let off = 0;
  while (off + 16 <= view.byteLength) {
    const cmsgLen = Number(view.getBigUint64(off, true));
    if (cmsgLen < 16 || off + cmsgLen > view.byteLength) return undefined;
    if (view.getInt32(off + 8, true) === SOL_IP && view.getInt32(off + 12, true) === IP_ORIGDSTADDR) {
      return decodeSockaddrIn(control.subarray(off + 16, off + cmsgLen));
    }
    off += (cmsgLen + 7) & ~7;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// System call helpers

function hintFor(errno: number, op: string): string | undefined {
  switch (errno) {
    case EPERM:
      return op.includes('IP_TRANSPARENT') ? 'IP_TRANSPARENT needs CAP_NET_ADMIN: is this root?' : undefined;
    case EADDRINUSE:
      return 'another socket in this network namespace has the address and port without SO_REUSEADDR';
    case EADDRNOTAVAIL:
      return 'not an address of this network namespace: a foreign address needs IP_TRANSPARENT';
    default:
      return undefined;
  }
}

function fail(what: string, op: string, errno: number): SocketError {
  const e = errno || EINVAL;
  return new SocketError(`${what}: ${op}: ${errnoName(e)}`, e, hintFor(e, op));
}

function closeQuietly(fd: number): void {
  if (fd >= 0) lib().close(fd);
}

/** socket(2), then the options and bind(2) (and connect(2)/listen(2)) as given; closes the fd on any failure. */
function openSocket(
  what: string,
  type: number,
  opts: {
    options: Array<[level: number, name: number, label: string]>;
    bind: SocketAddress;
    connect?: SocketAddress;
    listen?: number;
  },
): number {
  const n = lib();
  const fd = n.socket(AF_INET, type | SOCK_CLOEXEC, 0) as number;
  if (fd < 0) throw fail(what, 'socket', koffi.errno());
  try {
    const one = Buffer.alloc(4);
    one.writeInt32LE(1);
    for (const [level, name, label] of opts.options) {
      if ((n.setsockopt(fd, level, name, one, 4) as number) < 0) throw fail(what, `setsockopt ${label}`, koffi.errno());
    }
    if ((n.bind(fd, encodeSockaddrIn(opts.bind), SOCKADDR_IN_LEN) as number) < 0) throw fail(what, `bind ${addrText(opts.bind)}`, koffi.errno());
    if (opts.connect && (n.connect(fd, encodeSockaddrIn(opts.connect), SOCKADDR_IN_LEN) as number) < 0) {
      throw fail(what, `connect ${addrText(opts.connect)}`, koffi.errno());
    }
    if (opts.listen !== undefined && (n.listen(fd, opts.listen) as number) < 0) throw fail(what, 'listen', koffi.errno());
    return fd;
  } catch (err) {
    closeQuietly(fd);
    throw err;
  }
}

function localAddress(what: string, fd: number): SocketAddress {
  const sa = Buffer.alloc(SOCKADDR_IN_LEN);
  const len = [SOCKADDR_IN_LEN];
  if ((lib().getsockname(fd, sa, len) as number) < 0) throw fail(what, 'getsockname', koffi.errno());
  const a = decodeSockaddrIn(sa);
  if (!a) throw new SocketError(`${what}: getsockname: not an IPv4 socket`, EINVAL);
  return a;
}

// ---------------------------------------------------------------------------
// UDP

/** Options of TransparentUdpSocket.open. */
export interface TransparentUdpOptions {
  /** The proxy port (bl_policy_entry.proxy_port); 0 picks a free one (tests). */
  port: number;
  /** Default 0.0.0.0: any destination the datapath hands over. */
  address?: string;
  /** IP_TRANSPARENT on the socket and the reply sockets (default true; false: local addresses only, no privileges needed). */
  transparent?: boolean;
  /** Datagrams read per recvmmsg(2) call (default 8; each has a 64 KiB buffer). */
  batch?: number;
  /** A reply socket unused this long is closed (default 5,000 ms). */
  replyIdleMs?: number;
  /** Reply sockets kept open at most; the least recently used one goes first (default 4,096). */
  maxReplySockets?: number;
}

/** What TransparentUdpSocket hands to onMessage for each datagram. */
export type UdpMessageHandler = (msg: Buffer, from: SocketAddress, origDst: SocketAddress) => void;

interface ReplySocket {
  fd: number;
  used: number;
}

/**
 * The DNS proxy's UDP socket: bound to the proxy port on the wildcard
 * address with IP_TRANSPARENT, so that the datagrams the datapath assigns to
 * it (bpf_sk_assign, destination not a local address) are received, with
 * IP_RECVORIGDSTADDR telling each one's original destination (the DNS
 * server the pod asked, e.g. 10.0.1.5:53). Datagrams are read with
 * recvmmsg(2) when libuv says the fd is readable, until EAGAIN.
 *
 * Answers leave through send(from = the original destination, to = the
 * pod): the datagram must carry the address and port the pod sent to, or
 * the pod's resolver drops it. It goes out through a reply socket bound to
 * `from` (IP_TRANSPARENT, SO_REUSEADDR) and connected to `to`. Connected, it
 * can only ever receive datagrams of that one flow (which the datapath hands
 * to the proxy anyway), so it never takes datagrams meant for a socket of
 * the node's own on the same address (a node-local DNS server). Reply
 * sockets are kept per (from, to) for the resolver's A + AAAA and retries on
 * one source port, and closed when idle (replyIdleMs). The reply reaches the
 * pod through the node's stack as the reply of the pod's own flow
 * (conntrack reply direction; the socket-LB recvmsg hook or the reverse NAT
 * then shows the pod the Service address it asked).
 */
export class TransparentUdpSocket {
  /** The address and port the socket is bound to. */
  readonly local: SocketAddress;
  readonly #what: string;
  readonly #transparent: boolean;
  readonly #batch: number;
  readonly #replyIdleMs: number;
  readonly #maxReplySockets: number;
  #fd: number;
  /** Native memory: mmsghdrs, iovecs, names, controls, data slots. */
  #mem: bigint;
  #view: DataView;
  #bytes: Uint8Array;
  readonly #offs: { iov: number; name: number; control: number; data: number };
  #poll: koffiNode.PollHandle | null = null;
  #refed = true;
  #onMessage: UdpMessageHandler | undefined;
  #onError: ((err: Error) => void) | undefined;
  readonly #replies = new Map<string, ReplySocket>();
  #sweep: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(fd: number, local: SocketAddress, o: Required<Omit<TransparentUdpOptions, 'port' | 'address'>>) {
    this.#fd = fd;
    this.local = local;
    this.#what = `UDP proxy socket ${addrText(local)}`;
    this.#transparent = o.transparent;
    this.#batch = o.batch;
    this.#replyIdleMs = o.replyIdleMs;
    this.#maxReplySockets = o.maxReplySockets;
    const b = o.batch;
    this.#offs = { iov: b * MMSGHDR_LEN, name: b * (MMSGHDR_LEN + IOVEC_LEN), control: b * (MMSGHDR_LEN + IOVEC_LEN + SOCKADDR_IN_LEN), data: 0 };
    this.#offs.data = this.#offs.control + b * CONTROL_LEN;
    const size = this.#offs.data + b * SLOT_LEN;
    const mem = lib().malloc(size) as bigint;
    if (!mem) {
      closeQuietly(fd);
      throw new SocketError(`open ${this.#what}: malloc ${size} bytes failed`, 12 /* ENOMEM */);
    }
    this.#mem = mem;
    const ab = koffi.view(mem, size);
    this.#view = new DataView(ab);
    this.#bytes = new Uint8Array(ab);
    // The pointers never change; the lengths the kernel overwrites are reset before each call.
    for (let i = 0; i < b; i++) {
      const h = i * MMSGHDR_LEN;
      const iov = this.#offs.iov + i * IOVEC_LEN;
      this.#view.setBigUint64(h, mem + BigInt(this.#offs.name + i * SOCKADDR_IN_LEN), true); // msg_name
      this.#view.setBigUint64(h + 16, mem + BigInt(iov), true); // msg_iov
      this.#view.setBigUint64(h + 24, 1n, true); // msg_iovlen
      this.#view.setBigUint64(h + 32, mem + BigInt(this.#offs.control + i * CONTROL_LEN), true); // msg_control
      this.#view.setBigUint64(iov, mem + BigInt(this.#offs.data + i * SLOT_LEN), true); // iov_base
      this.#view.setBigUint64(iov + 8, BigInt(SLOT_LEN), true); // iov_len
    }
  }

  /**
   * Opens the socket: AF_INET/SOCK_DGRAM, non-blocking, close-on-exec,
   * SO_REUSEADDR, IP_TRANSPARENT (unless `transparent: false`),
   * IP_RECVORIGDSTADDR, bound to address (default 0.0.0.0) and port. Nothing
   * is read until onMessage() is called.
   */
  static open(opts: TransparentUdpOptions): TransparentUdpSocket {
    const bind = { address: opts.address ?? '0.0.0.0', port: opts.port };
    const what = `open UDP proxy socket ${addrText(bind)}`;
    checkAddress(what, bind);
    const batch = opts.batch ?? 8;
    if (!Number.isInteger(batch) || batch < 1 || batch > 64) throw new SocketError(`${what}: batch ${batch} must be 1-64`, EINVAL);
    const transparent = opts.transparent ?? true;
    const options: Array<[number, number, string]> = [[SOL_SOCKET, SO_REUSEADDR, 'SO_REUSEADDR']];
    if (transparent) options.push([SOL_IP, IP_TRANSPARENT, 'IP_TRANSPARENT']);
    options.push([SOL_IP, IP_RECVORIGDSTADDR, 'IP_RECVORIGDSTADDR']);
    const fd = openSocket(what, SOCK_DGRAM | SOCK_NONBLOCK, { options, bind });
    let local: SocketAddress;
    try {
      local = localAddress(what, fd);
    } catch (err) {
      closeQuietly(fd);
      throw err;
    }
    return new TransparentUdpSocket(fd, local, {
      transparent,
      batch,
      replyIdleMs: opts.replyIdleMs ?? 5000,
      maxReplySockets: opts.maxReplySockets ?? 4096,
    });
  }

  /**
   * Calls cb for every datagram received, with its payload (a copy: cb may
   * keep it), its source (the pod) and its original destination. Starts
   * reading; one handler (a second call replaces it).
   */
  onMessage(cb: UdpMessageHandler): this {
    this.#check('watch');
    this.#onMessage = cb;
    if (!this.#poll) {
      // koffi 3.3 calls back with (status, events) although its .d.ts says (events): take both (as libbpf.ts).
      const handle = koffi.node.poll(this.#fd, { readable: true }, ((status: unknown) => {
        if (typeof status === 'number' && status < 0) this.#report(new SocketError(`read ${this.#what}: poll failed: ${errnoName(-status)}`, -status));
        else this.#drain();
      }) as never);
      if (!handle) throw new SocketError(`watch ${this.#what}: libuv poll failed`, EINVAL);
      this.#poll = handle;
      if (!this.#refed) handle.unref();
    }
    return this;
  }

  /**
   * Where errors of the reading side go (a failed recvmmsg, a datagram
   * without its original destination, a handler that threw). Without one
   * they are thrown from the event loop, as an EventEmitter's 'error' is.
   */
  onError(cb: (err: Error) => void): this {
    this.#onError = cb;
    return this;
  }

  /**
   * Sends payload as one datagram from `from` (the original destination the
   * pod asked, a foreign address) to `to` (the pod), through the reply
   * socket of that pair (opened, bound and connected on first use). Throws a
   * SocketError when the datagram cannot be sent (the reply socket is then
   * closed; the next send opens a new one).
   */
  send(from: SocketAddress, to: SocketAddress, payload: Buffer): void {
    this.#check('send');
    const what = `send UDP ${addrText(from)} → ${addrText(to)}`;
    checkAddress(what, from);
    checkAddress(what, to);
    const key = `${addrText(from)}>${addrText(to)}`;
    for (let attempt = 0; ; attempt++) {
      const r = this.#reply(key, from, to);
      const sent = Number(lib().send(r.fd, payload, payload.length, MSG_DONTWAIT));
      if (sent >= 0) return;
      const errno = koffi.errno();
      this.#dropReply(key);
      // A connected UDP socket reports an ICMP error of an earlier datagram on the next send: a fresh socket has none.
      if (errno === ECONNREFUSED && attempt === 0) continue;
      throw fail(what, 'send', errno);
    }
  }

  /** Reply sockets open now (tests, metrics). */
  get replySockets(): number {
    return this.#replies.size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Lets the process exit while this socket is all that is left in the event loop. */
  unref(): this {
    this.#refed = false;
    this.#poll?.unref();
    return this;
  }

  ref(): this {
    this.#refed = true;
    this.#poll?.ref();
    return this;
  }

  /** Stops reading, closes the socket and every reply socket, frees the buffers. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#poll?.close();
    this.#poll = null;
    if (this.#sweep) clearInterval(this.#sweep);
    this.#sweep = undefined;
    for (const key of [...this.#replies.keys()]) this.#dropReply(key);
    closeQuietly(this.#fd);
    this.#fd = -1;
    lib().free(this.#mem);
    this.#mem = 0n;
    this.#view = new DataView(new ArrayBuffer(0));
    this.#bytes = new Uint8Array(0);
  }

  #check(op: string): void {
    if (this.#closed) throw new SocketError(`${op} ${this.#what}: the socket is closed`, EBADF);
  }

  #report(err: Error): void {
    if (this.#onError) this.#onError(err);
    else throw err;
  }

  /** Reads until EAGAIN (or MAX_ROUNDS calls: the poll calls back again), handing each datagram to the handler. */
  #drain(): void {
    const n = lib();
    const errors: Error[] = [];
    for (let round = 0; round < MAX_ROUNDS && !this.#closed; round++) {
      for (let i = 0; i < this.#batch; i++) {
        const h = i * MMSGHDR_LEN;
        this.#view.setUint32(h + 8, SOCKADDR_IN_LEN, true); // msg_namelen
        this.#view.setBigUint64(h + 40, BigInt(CONTROL_LEN), true); // msg_controllen
        this.#view.setInt32(h + 48, 0, true); // msg_flags
      }
      const got = n.recvmmsg(this.#fd, this.#mem, this.#batch, MSG_DONTWAIT, null) as number;
      if (got < 0) {
        const errno = koffi.errno();
        if (errno === EINTR) continue;
        if (errno !== EAGAIN) errors.push(fail(`read ${this.#what}`, 'recvmmsg', errno));
        break;
      }
      for (let i = 0; i < got && !this.#closed; i++) {
        try {
          this.#deliver(i);
        } catch (err) {
          errors.push(err instanceof Error ? err : new Error(String(err)));
        }
      }
      if (got < this.#batch) break;
    }
    for (const err of errors) this.#report(err);
  }

  #deliver(i: number): void {
    const h = i * MMSGHDR_LEN;
    const len = this.#view.getUint32(h + 56, true);
    const flags = this.#view.getInt32(h + 48, true);
    const from = decodeSockaddrIn(this.#bytes, this.#offs.name + i * SOCKADDR_IN_LEN);
    const controlLen = Number(this.#view.getBigUint64(h + 40, true));
    const control = this.#bytes.subarray(this.#offs.control + i * CONTROL_LEN, this.#offs.control + (i + 1) * CONTROL_LEN);
    const origDst = origDstFromControl(control, controlLen);
    const who = `read ${this.#what}: datagram from ${from ? addrText(from) : '?'}`;
    if (flags & (MSG_TRUNC | MSG_CTRUNC)) throw new SocketError(`${who}: truncated (flags 0x${flags.toString(16)}), dropped`, EINVAL);
    if (!from || !origDst) throw new SocketError(`${who}: no ${from ? 'original destination (IP_ORIGDSTADDR)' : 'IPv4 source'}, dropped`, EINVAL);
    const start = this.#offs.data + i * SLOT_LEN;
    const msg = Buffer.from(this.#bytes.subarray(start, start + len)); // a copy: the slot is reused
    this.#onMessage?.(msg, from, origDst);
  }

  /** The reply socket of (from, to), most recently used last; opens it (evicting the least recently used) if needed. */
  #reply(key: string, from: SocketAddress, to: SocketAddress): ReplySocket {
    const now = Date.now();
    let r = this.#replies.get(key);
    if (r) {
      this.#replies.delete(key);
    } else {
      while (this.#replies.size >= this.#maxReplySockets) this.#dropReply(this.#replies.keys().next().value as string);
      const options: Array<[number, number, string]> = [[SOL_SOCKET, SO_REUSEADDR, 'SO_REUSEADDR']];
      if (this.#transparent) options.push([SOL_IP, IP_TRANSPARENT, 'IP_TRANSPARENT']);
      const fd = openSocket(`open UDP reply socket ${addrText(from)} → ${addrText(to)}`, SOCK_DGRAM | SOCK_NONBLOCK, { options, bind: from, connect: to });
      r = { fd, used: now };
    }
    r.used = now;
    this.#replies.set(key, r);
    if (!this.#sweep) {
      this.#sweep = setInterval(() => this.#sweepIdle(), Math.max(50, this.#replyIdleMs / 2));
      this.#sweep.unref();
    }
    return r;
  }

  #dropReply(key: string): void {
    const r = this.#replies.get(key);
    if (!r) return;
    this.#replies.delete(key);
    closeQuietly(r.fd);
  }

  #sweepIdle(): void {
    const cutoff = Date.now() - this.#replyIdleMs;
    // Insertion order is least recently used first.
    for (const [key, r] of this.#replies) {
      if (r.used > cutoff) break;
      this.#dropReply(key);
    }
    if (this.#replies.size === 0 && this.#sweep) {
      clearInterval(this.#sweep);
      this.#sweep = undefined;
    }
  }
}

// ---------------------------------------------------------------------------
// TCP

/** Options of transparentTcpListenFd. */
export interface TransparentTcpListenOptions {
  /** The proxy port (bl_policy_entry.proxy_port); 0 picks a free one (tests). */
  port: number;
  /** Default 0.0.0.0: any destination the datapath hands over. */
  address?: string;
  /** listen(2) backlog (default 511, Node's). */
  backlog?: number;
  /** IP_TRANSPARENT (default true; false: an ordinary listener, no privileges needed). */
  transparent?: boolean;
}

/**
 * A listening TCP socket for a node proxy (DNS over TCP, Kafka):
 * SO_REUSEADDR, IP_TRANSPARENT, bound to address (default 0.0.0.0) and the
 * proxy port, listening. The datapath gives it the SYNs of the connections
 * policy hands over (bpf_skc_lookup_tcp on the proxy port); an accepted
 * socket's localAddress/localPort are the connection's original destination.
 * Returns the fd, for `net.createServer(...).listen({ fd })`: from then on
 * the server owns it (server.close() closes it); an fd never handed over is
 * the caller's to close.
 */
export function transparentTcpListenFd(opts: TransparentTcpListenOptions): number {
  const bind = { address: opts.address ?? '0.0.0.0', port: opts.port };
  const what = `open transparent TCP listener ${addrText(bind)}`;
  checkAddress(what, bind);
  const backlog = opts.backlog ?? 511;
  if (!Number.isInteger(backlog) || backlog < 1) throw new SocketError(`${what}: backlog ${backlog} must be a positive integer`, EINVAL);
  const options: Array<[number, number, string]> = [[SOL_SOCKET, SO_REUSEADDR, 'SO_REUSEADDR']];
  if (opts.transparent ?? true) options.push([SOL_IP, IP_TRANSPARENT, 'IP_TRANSPARENT']);
  return openSocket(what, SOCK_STREAM, { options, bind, listen: backlog });
}

/**
 * An unconnected TCP socket bound to localAddress (a foreign address: the
 * client's), port chosen at connect time (IP_BIND_ADDRESS_NO_PORT, so one
 * client address serves many upstream connections), IP_TRANSPARENT and
 * SO_REUSEADDR: an upstream connection that keeps the client's address, as
 * HAProxy's `source 0.0.0.0 usesrc clientip`. Use it as
 *   new net.Socket({ fd }).connect(port, host)
 * (checked on Node 20: net opens the fd as a TCP handle and connects it
 * from the bound address). The datapath sees its packets leave the node with
 * the client's address (proxy_sent(), bpf/include/lib/proxy.h) and hands the
 * server's replies back to it. Returns the fd; once given to net.Socket the
 * socket owns it, before that the caller must close it.
 */
export function transparentTcpSocketFd(localAddress: string, opts: { transparent?: boolean } = {}): number {
  const bind = { address: localAddress, port: 0 };
  const what = `open transparent TCP socket from ${localAddress}`;
  checkAddress(what, bind);
  const options: Array<[number, number, string]> = [
    [SOL_SOCKET, SO_REUSEADDR, 'SO_REUSEADDR'],
    [SOL_IP, IP_BIND_ADDRESS_NO_PORT, 'IP_BIND_ADDRESS_NO_PORT'],
  ];
  if (opts.transparent ?? true) options.push([SOL_IP, IP_TRANSPARENT, 'IP_TRANSPARENT']);
  return openSocket(what, SOCK_STREAM, { options, bind });
}

/** Closes an fd from transparentTcpListenFd/transparentTcpSocketFd that was never handed to net. */
export function closeSocketFd(fd: number): void {
  if (!Number.isInteger(fd) || fd < 0) throw new SocketError(`close socket fd ${fd}: not a file descriptor`, EBADF);
  if ((lib().close(fd) as number) < 0) throw fail(`close socket fd ${fd}`, 'close', koffi.errno());
}

/**
 * The cookie of this process's network namespace (getsockopt SO_NETNS_COOKIE
 * on a fresh socket: Linux 5.14+), the value bpf_get_netns_cookie() gives
 * the BPF programs for a socket of it. The datapath's socket hooks tell the
 * node's own sockets from pods' by it (bpf/sock.bpf.c, bl_sock_node_netns).
 */
export function netnsCookie(): bigint {
  const n = lib();
  const what = 'read network namespace cookie';
  const fd = n.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) as number;
  if (fd < 0) throw fail(what, 'socket', koffi.errno());
  try {
    const v = Buffer.alloc(8);
    const len = [8];
    if ((n.getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, v, len) as number) < 0) throw fail(what, 'getsockopt SO_NETNS_COOKIE', koffi.errno());
    if (len[0] !== 8) throw new SocketError(`${what}: getsockopt SO_NETNS_COOKIE: ${len[0]} bytes, not 8`, EINVAL);
    return v.readBigUInt64LE(0);
  } finally {
    closeQuietly(fd);
  }
}

/**
 * Shared pieces of the privileged datapath suites: where the compiled object
 * is, packet fixtures (katran style: a described packet as bytes), a private
 * bpffs mount, and throw-away network namespaces.
 *
 * Host safety: nothing here touches the root network namespace. Namespaces
 * are named bl-test-<random>, veths are created inside them (`ip -n`), and
 * every helper returns a cleanup that the caller runs in t.after/finally.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/common/exec.js';

/** Repository root (this file runs from dist/test/privileged/). */
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** The host datapath object built by `make bpf`. */
export const HOST_OBJECT = join(REPO, 'build/bpf/host.bpf.o');

/** The pod-side objects: the pods' veths and the VXLAN device. */
export const LXC_OBJECT = join(REPO, 'build/bpf/lxc.bpf.o');
export const OVERLAY_OBJECT = join(REPO, 'build/bpf/overlay.bpf.o');

/** Fails early with the fix when the object is not built. */
export function requireObject(path: string): string {
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`make bpf\` first`);
  return path;
}

export function requireHostObject(): string {
  return requireObject(HOST_OBJECT);
}

// ---------------------------------------------------------------------------
// Packets

/** Internet checksum (RFC 1071) over `buf`. */
export function inetChecksum(buf: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (buf.length % 2) sum += buf[buf.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

const ip4 = (a: string) => Buffer.from(a.split('.').map(Number));
const mac = (m: string) => Buffer.from(m.split(':').map((x) => parseInt(x, 16)));

/** '10.0.0.1' → 0x0a000001: how the generated codecs take a __be32 (they write it big-endian). */
export function ip4Num(a: string): number {
  return ip4(a).readUInt32BE(0);
}

/** 0x0a000001 → '10.0.0.1'. */
export function ip4Str(n: number): string {
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
}

/** '02:00:00:00:00:01' → its 6 bytes. */
export function macBytes(m: string): Buffer {
  return mac(m);
}

/** 6 bytes → '02:00:00:00:00:01'. */
export function macStr(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export interface Ipv4Spec {
  src?: string;
  dst?: string;
  proto?: number;
  ttl?: number;
  /** Header length in 32-bit words (5 = no options). */
  ihl?: number;
  /** Overrides the total-length field. */
  totLen?: number;
  payload?: Buffer;
  /** Bytes of IP header actually present (truncate the header to this). */
  headerBytes?: number;
  /** Ethernet source and destination MACs. */
  ethSrc?: string;
  ethDst?: string;
}

/** Ethernet header: dst, src, ethertype. */
export function ethernet(ethertype: number, src = '02:00:00:00:00:01', dst = '02:00:00:00:00:02'): Buffer {
  const b = Buffer.alloc(14);
  mac(dst).copy(b, 0);
  mac(src).copy(b, 6);
  b.writeUInt16BE(ethertype, 12);
  return b;
}

/** An Ethernet/IPv4 frame with a correct header checksum (unless truncated). */
export function ipv4Frame(spec: Ipv4Spec = {}): Buffer {
  const ihl = spec.ihl ?? 5;
  const payload = spec.payload ?? Buffer.alloc(0);
  const hdr = Buffer.alloc(ihl * 4);
  hdr[0] = 0x40 | (ihl & 0x0f);
  hdr.writeUInt16BE(spec.totLen ?? hdr.length + payload.length, 2);
  hdr.writeUInt16BE(1, 4); // id
  hdr.writeUInt16BE(0x4000, 6); // DF
  hdr[8] = spec.ttl ?? 64;
  hdr[9] = spec.proto ?? 6;
  ip4(spec.src ?? '10.0.0.1').copy(hdr, 12);
  ip4(spec.dst ?? '10.0.0.2').copy(hdr, 16);
  hdr.writeUInt16BE(inetChecksum(hdr), 10);
  const ipPart = spec.headerBytes !== undefined ? hdr.subarray(0, spec.headerBytes) : Buffer.concat([hdr, payload]);
  return Buffer.concat([ethernet(0x0800, spec.ethSrc, spec.ethDst), ipPart]);
}

/** A TCP header with the given flags (0x02 = SYN), no options, checksum over the IPv4 pseudo-header. */
export function tcp(flags: number, sport = 12345, dport = 80, src = '10.0.0.1', dst = '10.0.0.2'): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt32BE(1000, 4); // seq
  h[12] = 5 << 4; // data offset
  h[13] = flags;
  h.writeUInt16BE(64240, 14); // window
  const pseudo = Buffer.concat([ip4(src), ip4(dst), Buffer.from([0, 6, 0, h.length])]);
  h.writeUInt16BE(inetChecksum(Buffer.concat([pseudo, h])), 16);
  return h;
}

/** A UDP header and payload, checksum over the IPv4 pseudo-header. */
export function udp(sport: number, dport: number, src: string, dst: string, payload: Buffer = Buffer.from('ping')): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  const seg = Buffer.concat([h, payload]);
  const pseudo = Buffer.concat([ip4(src), ip4(dst), Buffer.from([0, 17]), Buffer.from([seg.length >> 8, seg.length & 0xff])]);
  seg.writeUInt16BE(inetChecksum(Buffer.concat([pseudo, seg])) || 0xffff, 6);
  return seg;
}

/** An ICMP echo request (type 8) or reply (type 0) with identifier and sequence number. */
export function icmpEcho(type: 0 | 8, id: number, seq = 1): Buffer {
  const h = Buffer.alloc(16);
  h[0] = type;
  h.writeUInt16BE(id, 4);
  h.writeUInt16BE(seq, 6);
  h.write('beeline!', 8);
  h.writeUInt16BE(inetChecksum(h), 2);
  return h;
}

/** What a test needs to know of an Ethernet/IPv4 frame's header. */
export interface Ipv4View {
  ethDst: string;
  ethSrc: string;
  ttl: number;
  proto: number;
  src: string;
  dst: string;
  /** The header checksum verifies (the sum over the header is 0xffff). */
  checksumOk: boolean;
}

export function parseIpv4Frame(frame: Uint8Array): Ipv4View {
  const b = Buffer.from(frame);
  const ihl = (b[14]! & 0x0f) * 4;
  return {
    ethDst: macStr(b.subarray(0, 6)),
    ethSrc: macStr(b.subarray(6, 12)),
    ttl: b[14 + 8]!,
    proto: b[14 + 9]!,
    src: ip4Str(b.readUInt32BE(14 + 12)),
    dst: ip4Str(b.readUInt32BE(14 + 16)),
    checksumOk: inetChecksum(b.subarray(14, 14 + ihl)) === 0,
  };
}

/** Ethernet/IPv4/TCP SYN 10.0.0.1:12345 → 10.0.0.2:80: 54 bytes. */
export function tcpSynPacket(): Buffer {
  return ipv4Frame({ proto: 6, payload: tcp(0x02) });
}

export interface ArpSpec {
  /** 1 request, 2 reply. */
  op?: number;
  senderMac?: string;
  senderIp?: string;
  targetMac?: string;
  targetIp?: string;
  ethDst?: string;
}

/** An ARP frame for IPv4 over Ethernet, padded to the 60-byte Ethernet minimum. Default: who-has 10.0.0.2 tell 10.0.0.1. */
export function arpPacket(spec: ArpSpec = {}): Buffer {
  const sha = spec.senderMac ?? '02:00:00:00:00:01';
  const arp = Buffer.alloc(28);
  arp.writeUInt16BE(1, 0); // htype Ethernet
  arp.writeUInt16BE(0x0800, 2); // ptype IPv4
  arp[4] = 6;
  arp[5] = 4;
  arp.writeUInt16BE(spec.op ?? 1, 6);
  mac(sha).copy(arp, 8);
  ip4(spec.senderIp ?? '10.0.0.1').copy(arp, 14);
  mac(spec.targetMac ?? '00:00:00:00:00:00').copy(arp, 18);
  ip4(spec.targetIp ?? '10.0.0.2').copy(arp, 24);
  const frame = Buffer.concat([ethernet(0x0806, sha, spec.ethDst ?? 'ff:ff:ff:ff:ff:ff'), arp]);
  return Buffer.concat([frame, Buffer.alloc(60 - frame.length)]);
}

/** An ARP request (who-has 10.0.0.2 tell 10.0.0.1), padded to the 60-byte Ethernet minimum. */
export function arpRequest(): Buffer {
  return arpPacket();
}

/** The fields of an ARP frame (Ethernet header included). */
export interface ArpView {
  ethDst: string;
  ethSrc: string;
  ethertype: number;
  htype: number;
  ptype: number;
  hlen: number;
  plen: number;
  op: number;
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
}

export function parseArpFrame(frame: Uint8Array): ArpView {
  const b = Buffer.from(frame);
  return {
    ethDst: macStr(b.subarray(0, 6)),
    ethSrc: macStr(b.subarray(6, 12)),
    ethertype: b.readUInt16BE(12),
    htype: b.readUInt16BE(14),
    ptype: b.readUInt16BE(16),
    hlen: b[18]!,
    plen: b[19]!,
    op: b.readUInt16BE(20),
    senderMac: macStr(b.subarray(22, 28)),
    senderIp: ip4Str(b.readUInt32BE(28)),
    targetMac: macStr(b.subarray(32, 38)),
    targetIp: ip4Str(b.readUInt32BE(38)),
  };
}

// ---------------------------------------------------------------------------
// bpffs

/** Mounts a private bpffs under a fresh temp dir; cleanup unmounts and removes it. */
export function privateBpffs(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'bl-test-bpffs-'));
  try {
    run('mount', ['-t', 'bpf', 'bpffs', dir], { operation: `mount bpffs at ${dir}` });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let done = false;
  return {
    dir,
    cleanup: () => {
      if (done) return;
      done = true;
      // Lazy unmount: a still-open fd must not leave the mount behind.
      run('umount', ['-l', dir], { allowFailure: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------
// Network namespaces

/** A unique test namespace name: bl-test-<8 hex>. */
export function testNetnsName(): string {
  return `bl-test-${randomBytes(4).toString('hex')}`;
}

export interface VethPair {
  /** Namespace of the datapath side (the one the program is attached in). */
  ns: string;
  /** Namespace of the other end, from which traffic is sent. */
  peerNs: string;
  /** Interface in `ns`, address 10.200.0.2/24. */
  dev: string;
  /** Interface in `peerNs`, address 10.200.0.1/24. */
  peerDev: string;
  devAddr: string;
  peerAddr: string;
  cleanup: () => void;
}

/**
 * Two throw-away namespaces joined by a veth pair, created from inside them
 * (ip -n), never in the root namespace. Two namespaces, not one: with both
 * ends in one namespace, the kernel routes 10.200.0.1 → 10.200.0.2 through
 * loopback (both addresses are local), and nothing would cross the veth.
 */
export function vethPair(): VethPair {
  const ns = testNetnsName();
  const peerNs = `${ns}-peer`;
  const cleanup = () => {
    for (const n of [ns, peerNs]) run('ip', ['netns', 'delete', n], { allowFailure: true });
  };
  try {
    run('ip', ['netns', 'add', ns]);
    run('ip', ['netns', 'add', peerNs]);
    run('ip', ['-n', peerNs, 'link', 'add', 'bl-veth-b', 'type', 'veth', 'peer', 'name', 'bl-veth-a', 'netns', ns]);
    run('ip', ['-n', peerNs, 'addr', 'add', '10.200.0.1/24', 'dev', 'bl-veth-b']);
    run('ip', ['-n', ns, 'addr', 'add', '10.200.0.2/24', 'dev', 'bl-veth-a']);
    for (const [n, dev] of [[peerNs, 'bl-veth-b'], [ns, 'bl-veth-a']] as const) {
      run('ip', ['-n', n, 'link', 'set', 'lo', 'up']);
      run('ip', ['-n', n, 'link', 'set', dev, 'up']);
    }
  } catch (err) {
    cleanup();
    throw err;
  }
  return { ns, peerNs, dev: 'bl-veth-a', peerDev: 'bl-veth-b', devAddr: '10.200.0.2', peerAddr: '10.200.0.1', cleanup };
}

/**
 * A pod namespace `ns` plugged into `nodeNs` as the CNI plugin does: eth0
 * (address/32, a link route to the gateway `router`, default via it) and its
 * veth peer `hostIf` in nodeNs, both up; created from inside the namespaces
 * (ip -n). Returns eth0's MAC.
 */
export function plumbPod(nodeNs: string, ns: string, ip: string, hostIf: string, router: string): string {
  run('ip', ['netns', 'add', ns]);
  run('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', hostIf, 'netns', nodeNs]);
  run('ip', ['-n', ns, 'addr', 'add', `${ip}/32`, 'dev', 'eth0']);
  run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  run('ip', ['-n', ns, 'route', 'add', router, 'dev', 'eth0', 'scope', 'link']);
  run('ip', ['-n', ns, 'route', 'add', 'default', 'via', router, 'dev', 'eth0']);
  run('ip', ['-n', nodeNs, 'link', 'set', hostIf, 'up']);
  const [l] = JSON.parse(run('ip', ['-n', ns, '-j', 'link', 'show', 'dev', 'eth0']).stdout) as Array<{ address: string }>;
  return l!.address;
}

/** Test namespaces left behind (there should be none after a suite). */
export function leftoverTestNamespaces(): string[] {
  const out = run('ip', ['netns', 'list'], { allowFailure: true }).stdout;
  return out
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith('bl-test-'));
}


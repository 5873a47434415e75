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

/** Fails early with the fix when the object is not built. */
export function requireHostObject(): string {
  if (!existsSync(HOST_OBJECT)) throw new Error(`${HOST_OBJECT} is missing: run \`make bpf\` first`);
  return HOST_OBJECT;
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
  return Buffer.concat([ethernet(0x0800), ipPart]);
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

/** Ethernet/IPv4/TCP SYN 10.0.0.1:12345 → 10.0.0.2:80: 54 bytes. */
export function tcpSynPacket(): Buffer {
  return ipv4Frame({ proto: 6, payload: tcp(0x02) });
}

/** An ARP request (who-has 10.0.0.2 tell 10.0.0.1), padded to the 60-byte Ethernet minimum. */
export function arpRequest(): Buffer {
  const arp = Buffer.alloc(28);
  arp.writeUInt16BE(1, 0); // htype Ethernet
  arp.writeUInt16BE(0x0800, 2); // ptype IPv4
  arp[4] = 6;
  arp[5] = 4;
  arp.writeUInt16BE(1, 6); // request
  mac('02:00:00:00:00:01').copy(arp, 8);
  ip4('10.0.0.1').copy(arp, 14);
  ip4('10.0.0.2').copy(arp, 24);
  const frame = Buffer.concat([ethernet(0x0806, '02:00:00:00:00:01', 'ff:ff:ff:ff:ff:ff'), arp]);
  return Buffer.concat([frame, Buffer.alloc(60 - frame.length)]);
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

/** Test namespaces left behind (there should be none after a suite). */
export function leftoverTestNamespaces(): string[] {
  const out = run('ip', ['netns', 'list'], { allowFailure: true }).stdout;
  return out
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith('bl-test-'));
}


/**
 * Packet and datapath event builders for tests: real header bytes (IPv4
 * header checksums included), and bl_events records made with the generated
 * encoders, as the datapath would write them.
 */
import {
  BlEventType,
  BlNotifyVersion,
  encodeBlDropNotify,
  encodeBlPolicyVerdictNotify,
  encodeBlTraceNotify,
  type BlDropNotify,
  type BlNotifyHdr,
  type BlPolicyVerdictNotify,
  type BlTraceNotify,
} from '../../src/datapath/generated/abi.js';

export function macBytes(s: string): Buffer {
  return Buffer.from(s.split(':').map((x) => parseInt(x, 16)));
}

export function ip4Bytes(s: string): Buffer {
  return Buffer.from(s.split('.').map(Number));
}

/** Network-order number of an IPv4 address, as __be32 fields are held. */
export function ip4Number(s: string): number {
  return ip4Bytes(s).readUInt32BE(0);
}

export function ip6Bytes(s: string): Buffer {
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

export const ETH_IPV4 = 0x0800;
export const ETH_ARP = 0x0806;
export const ETH_IPV6 = 0x86dd;

export function ethernet(o: { src?: string; dst?: string; type: number; vlan?: number }, payload: Uint8Array): Buffer {
  const tag = o.vlan === undefined ? Buffer.alloc(0) : Buffer.from([0x81, 0x00, (o.vlan >> 8) & 0x0f, o.vlan & 0xff]);
  const type = Buffer.alloc(2);
  type.writeUInt16BE(o.type);
  return Buffer.concat([macBytes(o.dst ?? '02:00:00:00:00:02'), macBytes(o.src ?? '02:00:00:00:00:01'), tag, type, payload]);
}

function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) | (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function ipv4(o: { src: string; dst: string; protocol: number; ttl?: number; id?: number; df?: boolean; fragOffset?: number; options?: number[]; totalLength?: number }, payload: Uint8Array): Buffer {
  const opts = Buffer.from(o.options ?? []);
  const ihl = 20 + opts.length;
  const h = Buffer.alloc(ihl);
  h[0] = 0x40 | (ihl / 4);
  h.writeUInt16BE(o.totalLength ?? ihl + payload.length, 2);
  h.writeUInt16BE(o.id ?? 1, 4);
  h.writeUInt16BE((o.df ? 0x4000 : 0) | ((o.fragOffset ?? 0) / 8), 6);
  h[8] = o.ttl ?? 64;
  h[9] = o.protocol;
  ip4Bytes(o.src).copy(h, 12);
  ip4Bytes(o.dst).copy(h, 16);
  opts.copy(h, 20);
  h.writeUInt16BE(checksum(h), 10);
  return Buffer.concat([h, payload]);
}

export function ipv6(o: { src: string; dst: string; nextHeader: number; hopLimit?: number }, payload: Uint8Array): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(payload.length, 4);
  h[6] = o.nextHeader;
  h[7] = o.hopLimit ?? 64;
  ip6Bytes(o.src).copy(h, 8);
  ip6Bytes(o.dst).copy(h, 24);
  return Buffer.concat([h, payload]);
}

/** TCP flags as letters: F S R P A U E C. */
export function tcp(o: { sport: number; dport: number; flags: string; seq?: number; ack?: number; window?: number; options?: number[] }, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  const opts = Buffer.from(o.options ?? []);
  const h = Buffer.alloc(20 + opts.length);
  h.writeUInt16BE(o.sport, 0);
  h.writeUInt16BE(o.dport, 2);
  h.writeUInt32BE(o.seq ?? 1000, 4);
  h.writeUInt32BE(o.ack ?? 0, 8);
  h[12] = (h.length / 4) << 4;
  h[13] = [...'FSRPAUEC'].reduce((f, l, i) => (o.flags.includes(l) ? f | (1 << i) : f), 0);
  h.writeUInt16BE(o.window ?? 64240, 14);
  opts.copy(h, 20);
  return Buffer.concat([h, payload]);
}

export function udp(o: { sport: number; dport: number }, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(o.sport, 0);
  h.writeUInt16BE(o.dport, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}

export function icmpEcho(o: { type: number; code?: number; id: number; seq: number }, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(8);
  h[0] = o.type;
  h[1] = o.code ?? 0;
  h.writeUInt16BE(o.id, 4);
  h.writeUInt16BE(o.seq, 6);
  const m = Buffer.concat([h, payload]);
  m.writeUInt16BE(checksum(m), 2);
  return m;
}

export function arp(o: { op: number; senderMac: string; senderIp: string; targetMac: string; targetIp: string }): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(1, 0);
  h.writeUInt16BE(0x0800, 2);
  h[4] = 6;
  h[5] = 4;
  h.writeUInt16BE(o.op, 6);
  return Buffer.concat([h, macBytes(o.senderMac), ip4Bytes(o.senderIp), macBytes(o.targetMac), ip4Bytes(o.targetIp)]);
}

export function vxlan(vni: number, inner: Uint8Array): Buffer {
  const h = Buffer.alloc(8);
  h[0] = 0x08;
  h.writeUInt32BE(vni << 8, 4);
  return Buffer.concat([h, inner]);
}

// ---- events

/** Bytes at most a datapath event carries. */
export const CAPTURE_LEN = 128;

export function notifyHdr(type: number, o: Partial<BlNotifyHdr> & { packet: Uint8Array }): BlNotifyHdr {
  return {
    type,
    subtype: 0,
    source: 0,
    hash: 0,
    len_orig: o.packet.length,
    len_cap: Math.min(o.packet.length, CAPTURE_LEN),
    version: BlNotifyVersion.BL_NOTIFY_VERSION,
    ktime_ns: 1_000_000_000n,
    ifindex: 0,
    src_identity: 0,
    dst_identity: 0,
    proto: ETH_IPV4,
    ...o,
  };
}

/** A bl_trace_notify record carrying (the first 128 bytes of) a packet. */
export function traceRecord(packet: Uint8Array, hdr: Partial<BlNotifyHdr> = {}, fields: Partial<Omit<BlTraceNotify, 'hdr' | 'data'>> = {}): Buffer {
  return encodeBlTraceNotify({
    hdr: notifyHdr(BlEventType.BL_EVENT_TRACE, { ...hdr, packet }),
    dst_id: 0,
    reason: 0,
    orig_ip4: 0,
    ...fields,
    data: packet.subarray(0, CAPTURE_LEN),
  } as BlTraceNotify);
}

/** A bl_drop_notify record carrying (the first 128 bytes of) a packet. */
export function dropRecord(packet: Uint8Array, hdr: Partial<BlNotifyHdr> = {}, fields: Partial<Omit<BlDropNotify, 'hdr' | 'data'>> = {}): Buffer {
  return encodeBlDropNotify({
    hdr: notifyHdr(BlEventType.BL_EVENT_DROP, { ...hdr, packet }),
    line: 0,
    file: 0,
    ext_error: 0,
    cookie: 0,
    ...fields,
    data: packet.subarray(0, CAPTURE_LEN),
  } as BlDropNotify);
}

/** A bl_policy_verdict_notify record carrying (the first 128 bytes of) a packet. */
export function policyVerdictRecord(
  packet: Uint8Array,
  hdr: Partial<BlNotifyHdr> = {},
  fields: Partial<Omit<BlPolicyVerdictNotify, 'hdr' | 'data'>> = {},
): Buffer {
  return encodeBlPolicyVerdictNotify({
    hdr: notifyHdr(BlEventType.BL_EVENT_POLICY_VERDICT, { ...hdr, packet }),
    remote_identity: 0,
    verdict: 0,
    cookie: 0,
    dport: 0,
    proto: 0,
    dir: 0,
    action: 0,
    match_type: 0,
    dst_id: 0,
    ...fields,
    data: packet.subarray(0, CAPTURE_LEN),
  } as BlPolicyVerdictNotify);
}

// ---- common packets

/** pod 10.0.1.5:41234 → 10.0.2.8:80, a TCP SYN. */
export function tcpSyn(): Buffer {
  return ethernet({ type: ETH_IPV4 }, ipv4({ src: '10.0.1.5', dst: '10.0.2.8', protocol: 6, df: true }, tcp({ sport: 41234, dport: 80, flags: 'S', seq: 1 })));
}

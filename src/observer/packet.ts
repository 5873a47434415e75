/**
 * Decoding the packet bytes a datapath event carries (the first
 * `hdr.len_cap` bytes of the packet, at most BL_TRACE_CAPTURE_LEN). Pure and
 * total: the input is untrusted and usually cut short, so every read is
 * bounds-checked and the decoder never throws. It returns every layer it could
 * decode, `truncated` when the capture ended inside a header, and `error` when
 * a header is malformed (decoding stops there).
 *
 * Layers: Ethernet (+ one 802.1Q/802.1ad tag), ARP, IPv4 (with options), IPv6
 * (fixed header, then the common extension headers), TCP, UDP, SCTP, ICMPv4,
 * ICMPv6, and VXLAN inside UDP 8472/4789 with its inner Ethernet frame.
 */

/** UDP ports decoded as VXLAN: Linux's (and Cilium's) default, and IANA's. */
export const VXLAN_PORTS: readonly number[] = [8472, 4789];

/** Each layer holds its header fields, decoded to numbers and address strings. */
export interface EthernetLayer {
  src: string;
  dst: string;
  /** The ethertype after any VLAN tag: what the payload is. */
  ethertype: number;
  /** gopacket's name of the ethertype: IPv4, ARP, IPv6, …, UnknownEthernetType. */
  ethertypeName: string;
  /** The 802.1Q / 802.1ad tag, when there is one. */
  vlan?: { tpid: number; id: number; priority: number; dropEligible: boolean };
}

export interface ArpLayer {
  hardwareType: number;
  protocolType: number;
  /** 1 request, 2 reply. */
  operation: number;
  operationName: string;
  /** Addresses, formatted when they are Ethernet/IPv4 (else hex). */
  senderHardware: string;
  senderProtocol: string;
  targetHardware: string;
  targetProtocol: string;
}

export interface Ipv4Option {
  type: number;
  name: string;
  /** Bytes the option takes, type and length octets included. */
  length: number;
}

export interface Ipv4Layer {
  headerLength: number;
  tos: number;
  totalLength: number;
  id: number;
  dontFragment: boolean;
  moreFragments: boolean;
  /** In bytes (the header field times 8). */
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  protocolName: string;
  checksum: number;
  src: string;
  dst: string;
  options: Ipv4Option[];
}

export interface Ipv6Layer {
  trafficClass: number;
  flowLabel: number;
  payloadLength: number;
  /** Next header of the fixed header. */
  nextHeader: number;
  hopLimit: number;
  src: string;
  dst: string;
  /** Extension headers walked, in order (protocol numbers: 0, 43, 44, 60, 51). */
  extensions: number[];
  /** The upper-layer protocol after the extension headers. */
  protocol: number;
  protocolName: string;
  /** Set when a fragment header says this is not the first fragment. */
  fragmentOffset?: number;
}

export interface TcpFlags {
  fin: boolean;
  syn: boolean;
  rst: boolean;
  psh: boolean;
  ack: boolean;
  urg: boolean;
  ece: boolean;
  cwr: boolean;
  ns: boolean;
}

export interface TcpLayer {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** Header length in bytes, options included. */
  headerLength: number;
  flags: TcpFlags;
  window: number;
  checksum: number;
  urgent: number;
}

export interface UdpLayer {
  srcPort: number;
  dstPort: number;
  length: number;
  checksum: number;
}

export interface SctpLayer {
  srcPort: number;
  dstPort: number;
  verificationTag: number;
  checksum: number;
}

export interface IcmpLayer {
  /** 4: ICMP, 6: ICMPv6. */
  version: 4 | 6;
  type: number;
  code: number;
  /** gopacket's TypeCode string, which Cilium prints: EchoRequest, DestinationUnreachable(Port), 3(9)… */
  typeCode: string;
  checksum: number;
  /** Echo (and timestamp/info/mask) identifier and sequence number. */
  id?: number;
  seq?: number;
  /** ICMPv4 fragmentation-needed / ICMPv6 packet-too-big: the next-hop MTU. */
  mtu?: number;
  /** ICMPv6 neighbor solicitation/advertisement: the target address. */
  target?: string;
}

export interface VxlanLayer {
  /** The I flag: the VNI is valid. */
  validVni: boolean;
  vni: number;
  /** The encapsulated frame, when the I flag is set. */
  inner?: DecodedPacket;
}

/** Names of the layers the decoder knows, as DecodedPacket.layers lists them. */
export type LayerName = 'ethernet' | 'arp' | 'ipv4' | 'ipv6' | 'tcp' | 'udp' | 'sctp' | 'icmpv4' | 'icmpv6' | 'vxlan';

/** Every LayerName. */
export const LAYER_NAMES: readonly LayerName[] = ['ethernet', 'arp', 'ipv4', 'ipv6', 'tcp', 'udp', 'sctp', 'icmpv4', 'icmpv6', 'vxlan'];

/** What could be decoded of one captured packet. */
export interface DecodedPacket {
  /** Layers decoded, outermost first (a VXLAN packet's inner layers are in vxlan.inner). */
  layers: LayerName[];
  ethernet?: EthernetLayer;
  arp?: ArpLayer;
  ipv4?: Ipv4Layer;
  ipv6?: Ipv6Layer;
  tcp?: TcpLayer;
  udp?: UdpLayer;
  sctp?: SctpLayer;
  icmp?: IcmpLayer;
  vxlan?: VxlanLayer;
  /** Bytes given to the decoder. */
  captured: number;
  /** Header bytes decoded; what follows is payload (or undecoded). */
  headerBytes: number;
  /** The capture ended inside a header: the last layer is partial or missing. */
  truncated: boolean;
  /** Why decoding stopped early: a truncated or malformed header, e.g. `tcp: header needs 20 bytes, 12 captured`. */
  error?: string;
}

export interface DecodeOptions {
  /** Where the bytes start: an Ethernet frame (default, tc on an Ethernet device) or a bare IP packet (L3 devices). */
  first?: 'ethernet' | 'ipv4' | 'ipv6';
}

// ---- names (gopacket's, because Cilium prints them)

const ETHERTYPE_NAMES: Readonly<Record<number, string>> = {
  0x0800: 'IPv4',
  0x0806: 'ARP',
  0x86dd: 'IPv6',
  0x8100: 'Dot1Q',
  0x88a8: 'QinQ',
  0x8847: 'MPLSUnicast',
  0x8848: 'MPLSMulticast',
  0x888e: 'EAPOL',
  0x88cc: 'LinkLayerDiscovery',
  0x6558: 'TransparentEthernetBridging',
  0x8863: 'PPPoEDiscovery',
  0x8864: 'PPPoESession',
};

/** gopacket's EthernetType names (what Cilium prints for frames without IP). */
export function ethertypeName(t: number): string {
  if (t < 0x0600) return 'LLC';
  return ETHERTYPE_NAMES[t] ?? 'UnknownEthernetType';
}

const IP_PROTOCOL_NAMES: Readonly<Record<number, string>> = {
  0: 'IPv6HopByHop',
  1: 'ICMPv4',
  2: 'IGMP',
  4: 'IPv4',
  6: 'TCP',
  17: 'UDP',
  41: 'IPv6',
  43: 'IPv6Routing',
  44: 'IPv6Fragment',
  47: 'GRE',
  50: 'ESP',
  51: 'AH',
  58: 'ICMPv6',
  59: 'NoNextHeader',
  60: 'IPv6Destination',
  112: 'VRRP',
  132: 'SCTP',
};

/** gopacket's IPProtocol names; the number for others. */
export function ipProtocolName(p: number): string {
  return IP_PROTOCOL_NAMES[p] ?? String(p);
}

const IPV4_OPTION_NAMES: Readonly<Record<number, string>> = {
  0: 'EOL',
  1: 'NOP',
  7: 'RR',
  68: 'TS',
  130: 'SEC',
  131: 'LSRR',
  136: 'SID',
  137: 'SSRR',
  148: 'RA',
};

interface IcmpTypeInfo {
  name: string;
  codes?: Readonly<Record<number, string>>;
}

/** gopacket's ICMPv4 type/code names (layers/icmp4.go). */
const ICMP4_TYPES: Readonly<Record<number, IcmpTypeInfo>> = {
  0: { name: 'EchoReply' },
  3: {
    name: 'DestinationUnreachable',
    codes: {
      0: 'Net',
      1: 'Host',
      2: 'Protocol',
      3: 'Port',
      4: 'FragmentationNeeded',
      5: 'SourceRoutingFailed',
      6: 'NetUnknown',
      7: 'HostUnknown',
      8: 'SourceIsolated',
      9: 'NetAdminProhibited',
      10: 'HostAdminProhibited',
      11: 'NetTOS',
      12: 'HostTOS',
      13: 'CommAdminProhibited',
      14: 'HostPrecedence',
      15: 'PrecedenceCutoff',
    },
  },
  4: { name: 'SourceQuench' },
  5: { name: 'Redirect', codes: { 0: 'Net', 1: 'Host', 2: 'TOS+Net', 3: 'TOS+Host' } },
  8: { name: 'EchoRequest' },
  9: { name: 'RouterAdvertisement' },
  10: { name: 'RouterSolicitation' },
  11: { name: 'TimeExceeded', codes: { 0: 'TTLExceeded', 1: 'FragmentReassemblyTimeExceeded' } },
  12: { name: 'ParameterProblem', codes: { 0: 'PointerIndicatesError', 1: 'MissingOption', 2: 'BadLength' } },
  13: { name: 'TimestampRequest' },
  14: { name: 'TimestampReply' },
  15: { name: 'InfoRequest' },
  16: { name: 'InfoReply' },
  17: { name: 'AddressMaskRequest' },
  18: { name: 'AddressMaskReply' },
};

/** gopacket's ICMPv6 type/code names (layers/icmp6.go). */
const ICMP6_TYPES: Readonly<Record<number, IcmpTypeInfo>> = {
  1: {
    name: 'DestinationUnreachable',
    codes: { 0: 'NoRouteToDst', 1: 'AdminProhibited', 2: 'BeyondScopeOfSrc', 3: 'AddressUnreachable', 4: 'PortUnreachable', 5: 'SrcAddressFailedPolicy', 6: 'RejectRouteToDst' },
  },
  2: { name: 'PacketTooBig' },
  3: { name: 'TimeExceeded', codes: { 0: 'HopLimitExceeded', 1: 'FragmentReassemblyTimeExceeded' } },
  4: { name: 'ParameterProblem', codes: { 0: 'ErroneousHeaderField', 1: 'UnrecognizedNextHeader', 2: 'UnrecognizedNextHeader' } },
  128: { name: 'EchoRequest' },
  129: { name: 'EchoReply' },
  133: { name: 'RouterSolicitation' },
  134: { name: 'RouterAdvertisement' },
  135: { name: 'NeighborSolicitation' },
  136: { name: 'NeighborAdvertisement' },
  137: { name: 'Redirect' },
};

/** The string gopacket's ICMPv4TypeCode/ICMPv6TypeCode.String() gives, which Cilium prints. */
export function icmpTypeCode(version: 4 | 6, type: number, code: number): string {
  const info = (version === 4 ? ICMP4_TYPES : ICMP6_TYPES)[type];
  if (!info) return `${type}(${code})`;
  if (!info.codes) return code === 0 ? info.name : `${info.name}(Code: ${code})`;
  const c = info.codes[code];
  return c === undefined ? `${info.name}(Code: ${code})` : `${info.name}(${c})`;
}

// ---- address formatting

/** Two lower-case hex digits of each byte value (formatting runs once per event: no per-byte toString). */
const HEX2: readonly string[] = Array.from({ length: 256 }, (_, n) => n.toString(16).padStart(2, '0'));
const hex2 = (n: number) => HEX2[n]!;

/** `aa:bb:cc:dd:ee:ff`, as Go's net.HardwareAddr prints. */
export function formatMac(b: Uint8Array, off = 0): string {
  const key = (b[off]! * 2 ** 40) + (b[off + 1]! * 2 ** 32) + ((b[off + 2]! << 24) >>> 0) + (b[off + 3]! << 16) + (b[off + 4]! << 8) + b[off + 5]!;
  let text = MAC_TEXT.get(key);
  if (text === undefined) {
    text = `${HEX2[b[off]!]}:${HEX2[b[off + 1]!]}:${HEX2[b[off + 2]!]}:${HEX2[b[off + 3]!]}:${HEX2[b[off + 4]!]}:${HEX2[b[off + 5]!]}`;
    remember(MAC_TEXT, key, text);
  }
  return text;
}

/** Dotted quad of the four bytes at off. */
export function formatIpv4(b: Uint8Array, off = 0): string {
  return formatIpv4Number(((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0);
}

/** An IPv4 address held in a number in network order (as __be32 fields are decoded). */
export function formatIpv4Number(n: number): string {
  let text = IPV4_TEXT.get(n);
  if (text === undefined) {
    text = `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
    remember(IPV4_TEXT, n, text);
  }
  return text;
}

/**
 * The text of addresses seen lately, by value: every packet of a flow names
 * the same few addresses, and sharing one string each keeps the flows a node
 * holds smaller (and the garbage collector's work with them). Bounded.
 */
const IPV4_TEXT = new Map<number, string>();
const MAC_TEXT = new Map<number, string>();
const TEXT_CACHE_MAX = 65536;

function remember(cache: Map<number, string>, key: number, text: string): void {
  if (cache.size >= TEXT_CACHE_MAX) cache.clear();
  cache.set(key, text);
}

/** RFC 5952 text form: lower-case, leading zeros dropped, the longest run of two or more zero groups as `::`. */
export function formatIpv6(b: Uint8Array, off = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) => g.slice(from, to).map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

function hexBytes(b: Uint8Array, off: number, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += hex2(b[off + i]!);
  return s;
}

// ---- the decoder

/** Decoding state of one packet; every reader checks bounds against `end`. */
class Cursor {
  readonly out: DecodedPacket;
  constructor(
    readonly b: Uint8Array,
    readonly end: number,
    out?: DecodedPacket,
  ) {
    this.out = out ?? { layers: [], captured: b.length, headerBytes: 0, truncated: false };
  }
  has(off: number, n: number): boolean {
    return off >= 0 && n >= 0 && off + n <= this.end;
  }
  u8(off: number): number {
    return this.b[off]!;
  }
  u16(off: number): number {
    return (this.b[off]! << 8) | this.b[off + 1]!;
  }
  u32(off: number): number {
    return ((this.b[off]! << 24) | (this.b[off + 1]! << 16) | (this.b[off + 2]! << 8) | this.b[off + 3]!) >>> 0;
  }
  /** The capture ended inside a header. Returns false so callers can `return c.cut(…)`. */
  cut(layer: string, what: string, need: number, off: number): false {
    // Ended by an IP length field rather than by the capture: the packet itself is short.
    if (this.end < this.b.length) return this.bad(layer, `${what} needs ${need} bytes, the IP length leaves ${Math.max(0, this.end - off)}`);
    this.out.truncated = true;
    this.out.error = `${layer}: ${what} needs ${need} bytes, ${Math.max(0, this.end - off)} captured`;
    return false;
  }
  bad(layer: string, why: string): false {
    this.out.error = `${layer}: ${why}`;
    return false;
  }
  done(off: number): void {
    this.out.headerBytes = Math.max(this.out.headerBytes, Math.min(off, this.end));
  }
}

/**
 * Decodes captured packet bytes. Never throws; see DecodedPacket for what
 * comes back. `bytes` is read, never kept.
 */
export function decodePacket(bytes: Uint8Array, opts: DecodeOptions = {}): DecodedPacket {
  return decodeAt(bytes, 0, bytes.length, opts.first ?? 'ethernet', 0);
}

function decodeAt(bytes: Uint8Array, off: number, end: number, first: 'ethernet' | 'ipv4' | 'ipv6', depth: number): DecodedPacket {
  const c = new Cursor(bytes, end);
  c.out.captured = Math.max(0, end - off);
  try {
    if (first === 'ethernet') ethernet(c, off, depth);
    else if (first === 'ipv4') ipv4(c, off, depth);
    else ipv6(c, off, depth);
  } catch (err) {
    // Unreachable by construction (every read is checked); kept so a bug shows as a note, never as a crash of the monitor.
    c.out.error = `internal: ${err instanceof Error ? err.message : String(err)}`;
  }
  c.out.headerBytes = Math.max(0, c.out.headerBytes - off);
  return c.out;
}

function ethernet(c: Cursor, off: number, depth: number): boolean {
  if (!c.has(off, 14)) return c.cut('ethernet', 'header', 14, off);
  let type = c.u16(off + 12);
  const eth: EthernetLayer = { dst: formatMac(c.b, off), src: formatMac(c.b, off + 6), ethertype: type, ethertypeName: ethertypeName(type) };
  c.out.ethernet = eth;
  c.out.layers.push('ethernet');
  let p = off + 14;
  if (type === 0x8100 || type === 0x88a8) {
    if (!c.has(p, 4)) {
      c.done(p);
      return c.cut('ethernet', 'VLAN tag', 4, p);
    }
    const tci = c.u16(p);
    eth.vlan = { tpid: type, id: tci & 0x0fff, priority: tci >> 13, dropEligible: (tci & 0x1000) !== 0 };
    type = c.u16(p + 2);
    eth.ethertype = type;
    eth.ethertypeName = ethertypeName(type);
    p += 4;
    if (type === 0x8100 || type === 0x88a8) {
      c.done(p);
      return c.bad('ethernet', 'stacked VLAN tags are not decoded');
    }
  }
  c.done(p);
  switch (type) {
    case 0x0800:
      return ipv4(c, p, depth);
    case 0x86dd:
      return ipv6(c, p, depth);
    case 0x0806:
      return arp(c, p);
    default:
      return true;
  }
}

function arp(c: Cursor, off: number): boolean {
  if (!c.has(off, 8)) return c.cut('arp', 'header', 8, off);
  const htype = c.u16(off);
  const ptype = c.u16(off + 2);
  const hlen = c.u8(off + 4);
  const plen = c.u8(off + 5);
  const op = c.u16(off + 6);
  const total = 8 + 2 * (hlen + plen);
  if (!c.has(off, total)) {
    c.done(off + 8);
    return c.cut('arp', 'addresses', total, off);
  }
  const addr = (at: number, len: number, kind: 'hw' | 'proto') => {
    if (kind === 'hw' && len === 6) return formatMac(c.b, at);
    if (kind === 'proto' && len === 4 && ptype === 0x0800) return formatIpv4(c.b, at);
    return hexBytes(c.b, at, len);
  };
  let p = off + 8;
  const senderHardware = addr(p, hlen, 'hw');
  p += hlen;
  const senderProtocol = addr(p, plen, 'proto');
  p += plen;
  const targetHardware = addr(p, hlen, 'hw');
  p += hlen;
  const targetProtocol = addr(p, plen, 'proto');
  p += plen;
  c.out.arp = {
    hardwareType: htype,
    protocolType: ptype,
    operation: op,
    operationName: op === 1 ? 'request' : op === 2 ? 'reply' : String(op),
    senderHardware,
    senderProtocol,
    targetHardware,
    targetProtocol,
  };
  c.out.layers.push('arp');
  c.done(p);
  return true;
}

function ipv4(c: Cursor, off: number, depth: number): boolean {
  if (!c.has(off, 1)) return c.cut('ipv4', 'header', 20, off);
  const version = c.u8(off) >> 4;
  if (version !== 4) return c.bad('ipv4', `version ${version}, not 4`);
  if (!c.has(off, 20)) return c.cut('ipv4', 'header', 20, off);
  const ihl = (c.u8(off) & 0x0f) * 4;
  if (ihl < 20) return c.bad('ipv4', `header length ${ihl} is less than 20`);
  const totalLength = c.u16(off + 2);
  const fl = c.u16(off + 6);
  const protocol = c.u8(off + 9);
  const ip: Ipv4Layer = {
    headerLength: ihl,
    tos: c.u8(off + 1),
    totalLength,
    id: c.u16(off + 4),
    dontFragment: (fl & 0x4000) !== 0,
    moreFragments: (fl & 0x2000) !== 0,
    fragmentOffset: (fl & 0x1fff) * 8,
    ttl: c.u8(off + 8),
    protocol,
    protocolName: ipProtocolName(protocol),
    checksum: c.u16(off + 10),
    src: formatIpv4(c.b, off + 12),
    dst: formatIpv4(c.b, off + 16),
    options: [],
  };
  c.out.ipv4 = ip;
  c.out.layers.push('ipv4');
  c.done(off + 20);
  if (!c.has(off, ihl)) return c.cut('ipv4', 'options', ihl, off);
  if (!ipv4Options(c, off + 20, off + ihl, ip.options)) return false;
  c.done(off + ihl);
  if (totalLength < ihl) return c.bad('ipv4', `total length ${totalLength} is less than the header length ${ihl}`);
  if (ip.fragmentOffset > 0) return true; // a later fragment: no transport header here
  // Ethernet pads short frames: the IP total length, not the capture, ends the packet.
  const sub = new Cursor(c.b, Math.min(c.end, off + totalLength), c.out);
  return transport(sub, off + ihl, protocol, depth);
}

function ipv4Options(c: Cursor, p: number, end: number, out: Ipv4Option[]): boolean {
  while (p < end) {
    const type = c.u8(p);
    if (type === 0) {
      out.push({ type, name: 'EOL', length: 1 });
      return true;
    }
    if (type === 1) {
      out.push({ type, name: 'NOP', length: 1 });
      p++;
      continue;
    }
    if (p + 1 >= end) return c.bad('ipv4', `option ${type} has no length`);
    const len = c.u8(p + 1);
    if (len < 2 || p + len > end) return c.bad('ipv4', `option ${type} has a bad length ${len}`);
    out.push({ type, name: IPV4_OPTION_NAMES[type] ?? String(type), length: len });
    p += len;
  }
  return true;
}

function ipv6(c: Cursor, off: number, depth: number): boolean {
  if (!c.has(off, 1)) return c.cut('ipv6', 'header', 40, off);
  const version = c.u8(off) >> 4;
  if (version !== 6) return c.bad('ipv6', `version ${version}, not 6`);
  if (!c.has(off, 40)) return c.cut('ipv6', 'header', 40, off);
  const w = c.u32(off);
  const nextHeader = c.u8(off + 6);
  const payloadLength = c.u16(off + 4);
  const ip: Ipv6Layer = {
    trafficClass: (w >>> 20) & 0xff,
    flowLabel: w & 0xfffff,
    payloadLength,
    nextHeader,
    hopLimit: c.u8(off + 7),
    src: formatIpv6(c.b, off + 8),
    dst: formatIpv6(c.b, off + 24),
    extensions: [],
    protocol: nextHeader,
    protocolName: ipProtocolName(nextHeader),
  };
  c.out.ipv6 = ip;
  c.out.layers.push('ipv6');
  let p = off + 40;
  c.done(p);
  // A jumbogram says 0 here; else the payload length ends the packet (Ethernet padding follows).
  const sub = new Cursor(c.b, payloadLength === 0 ? c.end : Math.min(c.end, p + payloadLength), c.out);
  let proto = nextHeader;
  for (let n = 0; ; n++) {
    if (proto !== 0 && proto !== 43 && proto !== 44 && proto !== 60 && proto !== 51) break;
    if (n === 8) return c.bad('ipv6', 'more than 8 extension headers');
    if (!sub.has(p, 8)) return sub.cut('ipv6', `extension header ${proto}`, 8, p);
    const len = proto === 44 ? 8 : proto === 51 ? (sub.u8(p + 1) + 2) * 4 : (sub.u8(p + 1) + 1) * 8;
    if (!sub.has(p, len)) return sub.cut('ipv6', `extension header ${proto}`, len, p);
    ip.extensions.push(proto);
    if (proto === 44) {
      const fo = sub.u16(p + 2) & 0xfff8;
      if (fo > 0) ip.fragmentOffset = fo;
    }
    proto = sub.u8(p);
    p += len;
    ip.protocol = proto;
    ip.protocolName = ipProtocolName(proto);
    sub.done(p);
  }
  if (ip.fragmentOffset !== undefined || proto === 59) return true;
  return transport(sub, p, proto, depth);
}

function transport(c: Cursor, off: number, protocol: number, depth: number): boolean {
  switch (protocol) {
    case 6:
      return tcp(c, off);
    case 17:
      return udp(c, off, depth);
    case 132:
      return sctp(c, off);
    case 1:
      return icmp(c, off, 4);
    case 58:
      return icmp(c, off, 6);
    default:
      return true;
  }
}

function tcp(c: Cursor, off: number): boolean {
  if (!c.has(off, 20)) return c.cut('tcp', 'header', 20, off);
  const hl = (c.u8(off + 12) >> 4) * 4;
  const f = c.u8(off + 13);
  c.out.tcp = {
    srcPort: c.u16(off),
    dstPort: c.u16(off + 2),
    seq: c.u32(off + 4),
    ack: c.u32(off + 8),
    headerLength: hl,
    flags: {
      fin: (f & 0x01) !== 0,
      syn: (f & 0x02) !== 0,
      rst: (f & 0x04) !== 0,
      psh: (f & 0x08) !== 0,
      ack: (f & 0x10) !== 0,
      urg: (f & 0x20) !== 0,
      ece: (f & 0x40) !== 0,
      cwr: (f & 0x80) !== 0,
      ns: (c.u8(off + 12) & 0x01) !== 0,
    },
    window: c.u16(off + 14),
    checksum: c.u16(off + 16),
    urgent: c.u16(off + 18),
  };
  c.out.layers.push('tcp');
  c.done(off + 20);
  if (hl < 20) return c.bad('tcp', `data offset ${hl} is less than 20`);
  if (!c.has(off, hl)) return c.cut('tcp', 'options', hl, off);
  c.done(off + hl);
  return true;
}

function udp(c: Cursor, off: number, depth: number): boolean {
  if (!c.has(off, 8)) return c.cut('udp', 'header', 8, off);
  const u: UdpLayer = { srcPort: c.u16(off), dstPort: c.u16(off + 2), length: c.u16(off + 4), checksum: c.u16(off + 6) };
  c.out.udp = u;
  c.out.layers.push('udp');
  c.done(off + 8);
  // One level of encapsulation: a VXLAN frame inside a VXLAN frame is left as payload.
  if (depth === 0 && VXLAN_PORTS.includes(u.dstPort)) return vxlan(c, off + 8, depth);
  return true;
}

function vxlan(c: Cursor, off: number, depth: number): boolean {
  if (!c.has(off, 8)) return c.cut('vxlan', 'header', 8, off);
  const validVni = (c.u8(off) & 0x08) !== 0;
  const v: VxlanLayer = { validVni, vni: c.u32(off + 4) >>> 8 };
  c.out.vxlan = v;
  c.out.layers.push('vxlan');
  c.done(off + 8);
  if (!validVni) return true;
  const inner = decodeAt(c.b, off + 8, c.end, 'ethernet', depth + 1);
  v.inner = inner;
  c.done(off + 8 + inner.headerBytes);
  if (inner.truncated) c.out.truncated = true;
  if (inner.error !== undefined) c.out.error = `vxlan inner: ${inner.error}`;
  return inner.error === undefined;
}

function sctp(c: Cursor, off: number): boolean {
  if (!c.has(off, 12)) return c.cut('sctp', 'header', 12, off);
  c.out.sctp = { srcPort: c.u16(off), dstPort: c.u16(off + 2), verificationTag: c.u32(off + 4), checksum: c.u32(off + 8) };
  c.out.layers.push('sctp');
  c.done(off + 12);
  return true;
}

/** ICMPv4 types whose second word is an identifier and a sequence number. */
const ICMP4_ID_SEQ = new Set([0, 8, 13, 14, 15, 16, 17, 18]);

function icmp(c: Cursor, off: number, version: 4 | 6): boolean {
  const layer = version === 4 ? 'icmpv4' : 'icmpv6';
  if (!c.has(off, 4)) return c.cut(layer, 'header', 8, off);
  const type = c.u8(off);
  const code = c.u8(off + 1);
  const m: IcmpLayer = { version, type, code, typeCode: icmpTypeCode(version, type, code), checksum: c.u16(off + 2) };
  c.out.icmp = m;
  c.out.layers.push(layer);
  c.done(off + 4);
  if (!c.has(off, 8)) return c.cut(layer, 'header', 8, off);
  if (version === 4 ? ICMP4_ID_SEQ.has(type) : type === 128 || type === 129) {
    m.id = c.u16(off + 4);
    m.seq = c.u16(off + 6);
  } else if ((version === 4 && type === 3 && code === 4) || (version === 6 && type === 2)) {
    m.mtu = version === 4 ? c.u16(off + 6) : c.u32(off + 4);
  }
  c.done(off + 8);
  if (version === 6 && (type === 135 || type === 136)) {
    if (!c.has(off + 8, 16)) return c.cut(layer, 'target address', 24, off);
    m.target = formatIpv6(c.b, off + 8);
    c.done(off + 24);
  }
  return true;
}

/** The connection a packet belongs to, innermost for VXLAN: what flows and filters key on. */
export interface PacketTuple {
  src: string;
  dst: string;
  /** tcp, udp, sctp, icmp, or the IP protocol number. */
  protocol: string;
  srcPort?: number;
  dstPort?: number;
}

/** The IP 5-tuple of a decoded packet (the inner one of a VXLAN packet), if it has IP. */
export function packetTuple(p: DecodedPacket): PacketTuple | undefined {
  if (p.vxlan?.inner) {
    const inner = packetTuple(p.vxlan.inner);
    if (inner) return inner;
  }
  const ip = p.ipv4 ?? p.ipv6;
  if (!ip) return undefined;
  const l4 = p.tcp ?? p.udp ?? p.sctp;
  const protocol = p.tcp ? 'tcp' : p.udp ? 'udp' : p.sctp ? 'sctp' : p.icmp ? 'icmp' : String(p.ipv4 ? p.ipv4.protocol : p.ipv6!.protocol);
  return l4 ? { src: ip.src, dst: ip.dst, protocol, srcPort: l4.srcPort, dstPort: l4.dstPort } : { src: ip.src, dst: ip.dst, protocol };
}

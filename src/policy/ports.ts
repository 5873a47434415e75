/**
 * Ports as the policy map keys them: a 16-bit destination port with a prefix
 * length, so a range becomes the minimal set of aligned prefixes; plus
 * protocol numbers and ICMP type names (Cilium's pkg/policy/api/icmp.go).
 */
import { Proto } from './types.js';

/** One port prefix: `port` with its first `len` bits significant. */
export interface PortPrefix {
  port: number;
  len: number;
}

/**
 * The minimal list of prefixes covering exactly [from, to] (0 ≤ from ≤ to ≤ 65535),
 * e.g. 8000-8010 → 8000/13 (8000-8007), 8008/15 (8008-8009), 8010/16.
 */
export function portRangePrefixes(from: number, to: number): PortPrefix[] {
  const out: PortPrefix[] = [];
  let p = from;
  while (p <= to) {
    // Largest aligned block starting at p that stays within `to`.
    let size = 1;
    while (size < 65536 && p % (size * 2) === 0 && p + size * 2 - 1 <= to) size *= 2;
    out.push({ port: p, len: 16 - Math.log2(size) });
    p += size;
  }
  return out;
}

/** The protocol numbers a Cilium/Kubernetes protocol name stands for; ANY = TCP, UDP, SCTP. */
export function protocolNumbers(protocol: string | undefined): number[] {
  switch (protocol ?? 'ANY') {
    case 'TCP': return [Proto.tcp];
    case 'UDP': return [Proto.udp];
    case 'SCTP': return [Proto.sctp];
    case 'ANY': return [Proto.tcp, Proto.udp, Proto.sctp];
    default: return [];
  }
}

/** The protocol's name for a number (for printing). */
export function protocolName(n: number): string {
  switch (n) {
    case Proto.any: return 'ANY';
    case Proto.icmp: return 'ICMP';
    case Proto.tcp: return 'TCP';
    case Proto.udp: return 'UDP';
    case Proto.sctp: return 'SCTP';
    default: return String(n);
  }
}

/** ICMPv4 type names Cilium accepts. */
export const ICMP4_TYPES: Readonly<Record<string, number>> = {
  EchoReply: 0, DestinationUnreachable: 3, Redirect: 5, Echo: 8, EchoRequest: 8, RouterAdvertisement: 9,
  RouterSelection: 10, TimeExceeded: 11, ParameterProblem: 12, Timestamp: 13, TimestampReply: 14,
  Photuris: 40, ExtendedEchoRequest: 42, ExtendedEchoReply: 43,
};

/** ICMPv6 type names Cilium accepts. */
export const ICMP6_TYPES: Readonly<Record<string, number>> = {
  DestinationUnreachable: 1, PacketTooBig: 2, TimeExceeded: 3, ParameterProblem: 4, EchoRequest: 128, EchoReply: 129,
  MulticastListenerQuery: 130, MulticastListenerReport: 131, MulticastListenerDone: 132, RouterSolicitation: 133,
  RouterAdvertisement: 134, NeighborSolicitation: 135, NeighborAdvertisement: 136, RedirectMessage: 137,
  RouterRenumbering: 138, ICMPNodeInformationQuery: 139, ICMPNodeInformationResponse: 140,
  InverseNeighborDiscoverySolicitation: 141, InverseNeighborDiscoveryAdvertisement: 142,
  HomeAgentAddressDiscoveryRequest: 144, HomeAgentAddressDiscoveryReply: 145, MobilePrefixSolicitation: 146,
  MobilePrefixAdvertisement: 147, DuplicateAddressRequestCodeSuffix: 157, DuplicateAddressConfirmationCodeSuffix: 158,
  ExtendedEchoRequest: 160, ExtendedEchoReply: 161,
};

/** The ICMP type a field names (number 0-255, numeric string, or name), or an error message. */
export function icmpType(type: unknown, family: string | undefined): { type: number } | { error: string } {
  const fam = family ?? 'IPv4';
  const names = fam === 'IPv6' ? ICMP6_TYPES : ICMP4_TYPES;
  if (typeof type === 'number' || (typeof type === 'string' && /^\d+$/.test(type))) {
    const n = Number(type);
    if (!Number.isInteger(n) || n < 0 || n > 255) return { error: `Invalid value: ${JSON.stringify(type)}: must be between 0 and 255, inclusive` };
    return { type: n };
  }
  if (typeof type === 'string' && Object.prototype.hasOwnProperty.call(names, type)) return { type: names[type]! };
  return { error: `Invalid value: ${JSON.stringify(type)}: must be an ICMP type number (0-255) or an ${fam === 'IPv6' ? 'ICMPv6' : 'ICMPv4'} type name (e.g. ${fam === 'IPv6' ? 'EchoRequest' : 'EchoRequest, DestinationUnreachable'})` };
}

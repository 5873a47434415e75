/**
 * IPv4 addresses and CIDRs as unsigned 32-bit numbers: the arithmetic under
 * the node pool and the cluster pool. Pure; strict about what it accepts
 * (no leading zeros, no host bits set in a CIDR), since its input comes from
 * configuration and from the CNI plugin.
 */
import { IpamInvalidError } from '../common/errors.js';

/** A parsed IPv4 CIDR. `base` is the network address as an unsigned number. */
export interface Cidr4 {
  /** Canonical text, e.g. `10.0.1.0/24`. */
  readonly text: string;
  readonly base: number;
  readonly prefix: number;
  /** Number of addresses, 2^(32-prefix). */
  readonly size: number;
}

/**
 * `10.0.1.5` → 167772421; undefined when the text is not a dotted-quad IPv4
 * address (four octets, each `0` or 1-3 digits without a leading zero, ≤ 255).
 * One scan of the characters, no split or regex: a full Service pass parses
 * every cluster IP and backend address (hundreds of thousands at 50k Services).
 */
export function tryParseIPv4(text: string): number | undefined {
  const len = text.length;
  if (len < 7 || len > 15) return undefined;
  let n = 0;
  let octets = 0;
  let i = 0;
  while (i <= len) {
    // One octet: digits up to a '.' or the end.
    const start = i;
    let v = 0;
    while (i < len) {
      const c = text.charCodeAt(i);
      if (c === 46) break; // '.'
      if (c < 48 || c > 57) return undefined;
      v = v * 10 + (c - 48);
      i++;
    }
    const digits = i - start;
    if (digits === 0 || digits > 3 || v > 255) return undefined;
    if (digits > 1 && text.charCodeAt(start) === 48) return undefined; // leading zero
    n = n * 256 + v;
    octets++;
    if (i === len) break;
    i++; // past the '.'
    if (octets === 4) return undefined;
  }
  return octets === 4 ? n : undefined;
}

export function parseIPv4(text: string, what = 'address'): number {
  const n = tryParseIPv4(text);
  if (n === undefined) throw new IpamInvalidError(`${what} '${text}' is not an IPv4 address`);
  return n;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parses `a.b.c.d/len`; refuses host bits, naming the network the caller probably meant. */
export function parseCidr(text: string, what = 'CIDR'): Cidr4 {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text);
  const addr = m ? tryParseIPv4(m[1]!) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (!m || addr === undefined || prefix > 32) {
    throw new IpamInvalidError(`${what} '${text}' is not an IPv4 CIDR`, 'write it as a.b.c.d/len, e.g. 10.0.1.0/24');
  }
  const size = 2 ** (32 - prefix);
  const base = addr - (addr % size);
  if (base !== addr) {
    throw new IpamInvalidError(`${what} '${text}' has host bits set`, `did you mean ${formatIPv4(base)}/${prefix}?`);
  }
  return { text: `${formatIPv4(base)}/${prefix}`, base, prefix, size };
}

/** True when address `n` lies inside `c`. */
export function cidrContains(c: Cidr4, n: number): boolean {
  return n >= c.base && n < c.base + c.size;
}

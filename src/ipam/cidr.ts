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

/**
 * `a.b.c.d/len` → the address and the length as written (host bits kept);
 * with `allowBare`, `a.b.c.d` too, as /32. Undefined when not IPv4. The one
 * IPv4 prefix parser: parseCidr (strict) and tryParseMaskedCidr (Cilium's
 * policy form) are built on it, and src/k8s/names.ts checks IPv4 with it.
 */
export function tryParsePrefix4(text: string, allowBare = false): { addr: number; prefix: number } | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) {
    if (!allowBare) return undefined;
    const addr = tryParseIPv4(text);
    return addr === undefined ? undefined : { addr, prefix: 32 };
  }
  const addr = tryParseIPv4(text.slice(0, slash));
  const l = text.slice(slash + 1);
  if (addr === undefined || !/^\d{1,2}$/.test(l) || Number(l) > 32) return undefined;
  return { addr, prefix: Number(l) };
}

/** The CIDR of the first `prefix` bits of `addr` (host bits cleared): the one place a Cidr4 is made. */
export function cidrOf(addr: number, prefix: number): Cidr4 {
  const size = 2 ** (32 - prefix);
  const base = addr - (addr % size);
  return { text: `${formatIPv4(base)}/${prefix}`, base, prefix, size };
}

/** Parses `a.b.c.d/len`; refuses host bits, naming the network the caller probably meant. */
export function parseCidr(text: string, what = 'CIDR'): Cidr4 {
  const p = tryParsePrefix4(text);
  if (!p) throw new IpamInvalidError(`${what} '${text}' is not an IPv4 CIDR`, 'write it as a.b.c.d/len, e.g. 10.0.1.0/24');
  const c = cidrOf(p.addr, p.prefix);
  if (c.base !== p.addr) throw new IpamInvalidError(`${what} '${text}' has host bits set`, `did you mean ${c.text}?`);
  return c;
}

/** `10.0.0.5` as /32, `10.0.0.0/8` as is; host bits refused, as parseCidr does (ipcache entries, CIDR identities). */
export function parseHostOrCidr(text: string, what = 'CIDR'): Cidr4 {
  return parseCidr(text.includes('/') ? text : `${text}/32`, what);
}

/**
 * As Cilium reads a policy's CIDRs (toCIDR, fromCIDRSet, ipBlock): `10.0.0.0/8`,
 * or `10.0.0.1` as /32; host bits are cleared, not refused. Undefined when not IPv4.
 */
export function tryParseMaskedCidr(text: string): Cidr4 | undefined {
  const p = tryParsePrefix4(text, true);
  return p && cidrOf(p.addr, p.prefix);
}

/** True when address `n` lies inside `c`. */
export function cidrContains(c: Cidr4, n: number): boolean {
  return n >= c.base && n < c.base + c.size;
}

/** True when all of `inner` lies inside `outer` (equal counts). */
export function cidrInside(inner: Cidr4, outer: Cidr4): boolean {
  return inner.prefix >= outer.prefix && cidrContains(outer, inner.base);
}

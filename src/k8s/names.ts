/**
 * Syntax checks Kubernetes applies to names, label keys and values, port
 * names and CIDRs. Each returns the apiserver's message, or undefined when
 * the value is fine.
 */
import { isIP } from 'node:net';
import { tryParsePrefix4 } from '../ipam/cidr.js';

const LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_RE = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** RFC 1123 label: namespaces, container names, port names. */
export function dns1123LabelError(v: string): string | undefined {
  if (v.length > 63) return 'must be no more than 63 characters';
  if (!LABEL_RE.test(v)) return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
  return undefined;
}

/** RFC 1123 subdomain: most object names. */
export function dns1123SubdomainError(v: string): string | undefined {
  if (v.length > 253) return 'must be no more than 253 characters';
  if (!SUBDOMAIN_RE.test(v)) return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
  return undefined;
}

/** RFC 1035 label: Service names (they become DNS labels). */
export function dns1035LabelError(v: string): string | undefined {
  if (v.length > 63) return 'must be no more than 63 characters';
  if (!DNS1035_RE.test(v)) return "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
  return undefined;
}

/**
 * A label key: `[prefix/]name`, prefix a DNS subdomain, name ≤ 63 of
 * alphanumerics, `-`, `_`, `.`. With `cilium`, a Cilium source prefix
 * (`k8s:`, `any:`, `reserved:`, …) is allowed in front, as in
 * `k8s:io.kubernetes.pod.namespace`.
 */
export function labelKeyError(key: string, cilium = false): string | undefined {
  let k = key;
  if (cilium) {
    const m = /^(k8s|any|reserved|cidr|container|unspec|fqdn|cilium-generated|k8s-node):/.exec(k);
    if (m) k = k.slice(m[0].length);
    if (m && m[1] === 'reserved' && k !== '') return /^[a-z0-9-]+$/.test(k) ? undefined : 'reserved label must be a reserved entity name';
  }
  const parts = k.split('/');
  if (parts.length > 2) return "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, with an optional DNS subdomain prefix and '/'";
  const name = parts[parts.length - 1]!;
  if (parts.length === 2) {
    if (parts[0] === '') return 'prefix part must be non-empty';
    const e = dns1123SubdomainError(parts[0]!);
    if (e) return `prefix part ${e}`;
  }
  if (name === '') return 'name part must be non-empty';
  if (name.length > 63) return 'name part must be no more than 63 characters';
  if (!QUALIFIED_NAME_RE.test(name)) return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  return undefined;
}

/** A label value: empty, or ≤ 63 alphanumerics, `-`, `_`, `.`, starting and ending alphanumeric. */
export function labelValueError(v: string): string | undefined {
  if (v === '') return undefined;
  if (v.length > 63) return 'must be no more than 63 characters';
  if (!QUALIFIED_NAME_RE.test(v)) return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  return undefined;
}

/** A port name (IANA_SVC_NAME): ≤ 15 lower-case alphanumerics and `-`, at least one letter, no `--`. */
export function portNameError(v: string): string | undefined {
  if (v.length > 15) return 'must be no more than 15 characters';
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v)) return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-), and must start and end with an alpha-numeric character";
  if (v.includes('--')) return 'must not contain consecutive hyphens';
  if (!/[a-z]/.test(v)) return 'must contain at least one letter (a-z)';
  return undefined;
}

/** A parsed prefix: family, address bytes (4 or 16) and length. */
export interface Prefix {
  family: 4 | 6;
  bytes: Uint8Array;
  bits: number;
}

/** The 16 bytes of an IPv6 address (`::` and an embedded IPv4 tail expanded); undefined when not IPv6. */
function ipv6Bytes(a: string): Uint8Array | undefined {
  if (isIP(a) !== 6) return undefined;
  // Expand `::` and an embedded IPv4 tail into eight groups.
  let s = a;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const b = v4[1]!.split('.').map(Number);
    s = s.slice(0, v4.index) + `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') as [string, string] : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => { const n = parseInt(g, 16); out[2 * i] = n >> 8; out[2 * i + 1] = n & 0xff; });
  return out;
}

/**
 * Parses `addr/len` (IPv4 or IPv6). With `allowBare`, an address without a
 * length is a host prefix (Cilium accepts `10.0.0.1` in fromCIDR). IPv4 goes
 * through the one IPv4 prefix parser (src/ipam/cidr.ts), so what passes here
 * is what the policy engine and IPAM accept.
 */
export function parseCIDR(s: string, allowBare = false): Prefix | undefined {
  const v4 = tryParsePrefix4(s, allowBare);
  if (v4) return { family: 4, bytes: Uint8Array.of(v4.addr >>> 24, (v4.addr >>> 16) & 255, (v4.addr >>> 8) & 255, v4.addr & 255), bits: v4.prefix };
  const slash = s.indexOf('/');
  const bytes = ipv6Bytes(slash < 0 ? s : s.slice(0, slash));
  if (!bytes) return undefined;
  let bits = 128;
  if (slash >= 0) {
    const l = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(l)) return undefined;
    bits = Number(l);
    if (bits > 128) return undefined;
  } else if (!allowBare) return undefined;
  return { family: 6, bytes, bits };
}

/** True when `inner` lies inside `outer` (same family, longer or equal prefix, same leading bits). */
export function prefixContains(outer: Prefix, inner: Prefix): boolean {
  if (outer.family !== inner.family || inner.bits < outer.bits) return false;
  for (let i = 0; i < outer.bits; i++) {
    const byte = i >> 3, mask = 0x80 >> (i & 7);
    if ((outer.bytes[byte]! & mask) !== (inner.bytes[byte]! & mask)) return false;
  }
  return true;
}

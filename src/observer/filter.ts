/**
 * Flow filters with Hubble's semantics: a FlowFilter matches a flow when
 * every field it sets matches (AND), a field matches when any of its values
 * does (OR); a request's whitelist lets a flow through when any entry
 * matches (or there is none) and its blacklist when no entry matches.
 *
 * Everything is parsed and checked once, at compile time (CIDR masks, port
 * and id sets, RE2 programs, label requirements); matching a flow allocates
 * nothing on the common fields.
 */
import { RE2JS } from 're2js';
import { FlowFilterError } from '../common/errors.js';
import { protoRoot } from '../api/proto.js';
import { parseSelectorString } from '../k8s/selector.js';
import { labelKeyError } from '../k8s/names.js';
import type { LabelSelectorRequirement } from '../k8s/types.js';
import type { Flow, FlowFilter, FlowPredicate } from './types.js';

/** One compiled check of one FlowFilter field. */
type Check = (f: Flow) => boolean;

/** Hubble's event type of L7 records (monitor MessageTypeAccessLog). */
const MESSAGE_TYPE_ACCESS_LOG = 129;

/**
 * Compiles a request's whitelist and blacklist into one predicate. Throws
 * FlowFilterError naming the list, the entry and the field of the first
 * value that does not parse.
 */
export function compileFlowFilters(whitelist: readonly FlowFilter[] = [], blacklist: readonly FlowFilter[] = []): FlowPredicate {
  const white = whitelist.map((ff, i) => compileFlowFilter(ff, `whitelist[${i}]`));
  const black = blacklist.map((ff, i) => compileFlowFilter(ff, `blacklist[${i}]`));
  if (white.length === 0 && black.length === 0) return () => true;
  const anyOf = (fs: Check[], f: Flow) => {
    for (let i = 0; i < fs.length; i++) if (fs[i]!(f)) return true;
    return false;
  };
  if (black.length === 0) return white.length === 1 ? white[0]! : (f) => anyOf(white, f);
  if (white.length === 0) return (f) => !anyOf(black, f);
  return (f) => anyOf(white, f) && !anyOf(black, f);
}

/**
 * One FlowFilter as a predicate; `where` prefixes error messages
 * (`whitelist[0]`). A filter that sets no field matches every flow.
 */
export function compileFlowFilter(ff: FlowFilter, where = 'filter'): FlowPredicate {
  const checks: Check[] = [];
  const field = (name: string) => `${where}.${name}`;
  const set = <T>(v: T[] | undefined | null): v is T[] => Array.isArray(v) && v.length > 0;

  if (set(ff.uuid)) checks.push(stringIn(ff.uuid, (f) => f.uuid));
  if (set(ff.source_ip)) checks.push(ipCheck(ff.source_ip, field('source_ip'), (f) => f.IP?.source));
  if (set(ff.destination_ip)) checks.push(ipCheck(ff.destination_ip, field('destination_ip'), (f) => f.IP?.destination));
  if (set(ff.source_pod)) checks.push(namespacedCheck(ff.source_pod, field('source_pod'), (f) => f.source?.namespace, (f) => f.source?.pod_name));
  if (set(ff.destination_pod)) checks.push(namespacedCheck(ff.destination_pod, field('destination_pod'), (f) => f.destination?.namespace, (f) => f.destination?.pod_name));
  if (set(ff.source_service)) checks.push(namespacedCheck(ff.source_service, field('source_service'), (f) => f.source_service?.namespace, (f) => f.source_service?.name));
  if (set(ff.destination_service)) checks.push(namespacedCheck(ff.destination_service, field('destination_service'), (f) => f.destination_service?.namespace, (f) => f.destination_service?.name));
  if (set(ff.source_fqdn)) checks.push(fqdnCheck(ff.source_fqdn, field('source_fqdn'), (f) => f.source_names));
  if (set(ff.destination_fqdn)) checks.push(fqdnCheck(ff.destination_fqdn, field('destination_fqdn'), (f) => f.destination_names));
  if (set(ff.source_label)) checks.push(labelCheck(ff.source_label, field('source_label'), (f) => f.source?.labels));
  if (set(ff.destination_label)) checks.push(labelCheck(ff.destination_label, field('destination_label'), (f) => f.destination?.labels));
  if (set(ff.source_workload)) checks.push(workloadCheck(ff.source_workload, (f) => f.source?.workloads));
  if (set(ff.destination_workload)) checks.push(workloadCheck(ff.destination_workload, (f) => f.destination?.workloads));
  if (set(ff.traffic_direction)) checks.push(enumCheck('flow.TrafficDirection', ff.traffic_direction, field('traffic_direction'), (f) => f.traffic_direction));
  if (set(ff.verdict)) checks.push(enumCheck('flow.Verdict', ff.verdict, field('verdict'), (f) => f.verdict));
  if (set(ff.drop_reason_desc)) checks.push(enumCheck('flow.DropReason', ff.drop_reason_desc, field('drop_reason_desc'), (f) => f.drop_reason_desc));
  if (set(ff.ip_version)) checks.push(enumCheck('flow.IPVersion', ff.ip_version, field('ip_version'), (f) => f.IP?.ipVersion));
  if (set(ff.event_type)) checks.push(eventTypeCheck(ff.event_type));
  const l7Compatible = !set(ff.event_type) || ff.event_type.some((t) => Number(t.type ?? 0) === MESSAGE_TYPE_ACCESS_LOG);
  if (set(ff.http_status_code)) {
    if (!l7Compatible) throw new FlowFilterError(`${field('http_status_code')}: filtering by HTTP status code requires the event type filter to match L7 events (type ${MESSAGE_TYPE_ACCESS_LOG})`);
    checks.push(httpStatusCheck(ff.http_status_code, field('http_status_code')));
  }
  if (set(ff.http_method)) {
    if (!l7Compatible) throw new FlowFilterError(`${field('http_method')}: filtering by HTTP method requires the event type filter to match L7 events (type ${MESSAGE_TYPE_ACCESS_LOG})`);
    checks.push(httpMethodCheck(ff.http_method));
  }
  if (set(ff.http_path)) {
    if (!l7Compatible) throw new FlowFilterError(`${field('http_path')}: filtering by HTTP path requires the event type filter to match L7 events (type ${MESSAGE_TYPE_ACCESS_LOG})`);
    checks.push(httpPathCheck(ff.http_path, field('http_path')));
  }
  if (set(ff.http_url)) {
    if (!l7Compatible) throw new FlowFilterError(`${field('http_url')}: filtering by HTTP URL requires the event type filter to match L7 events (type ${MESSAGE_TYPE_ACCESS_LOG})`);
    checks.push(httpUrlCheck(ff.http_url, field('http_url')));
  }
  if (set(ff.protocol)) checks.push(protocolCheck(ff.protocol, field('protocol')));
  if (set(ff.source_port)) checks.push(portCheck(ff.source_port, field('source_port'), sourcePort));
  if (set(ff.destination_port)) checks.push(portCheck(ff.destination_port, field('destination_port'), destinationPort));
  if (set(ff.reply)) checks.push(replyCheck(ff.reply));
  if (set(ff.dns_query)) checks.push(dnsQueryCheck(ff.dns_query, field('dns_query')));
  if (set(ff.source_identity)) checks.push(identityCheck(ff.source_identity, field('source_identity'), (f) => f.source?.identity));
  if (set(ff.destination_identity)) checks.push(identityCheck(ff.destination_identity, field('destination_identity'), (f) => f.destination?.identity));
  if (set(ff.tcp_flags)) checks.push(tcpFlagsCheck(ff.tcp_flags));
  if (set(ff.node_name)) checks.push(nodeNameCheck(ff.node_name, field('node_name')));
  if (set(ff.trace_id)) checks.push(stringIn(ff.trace_id, (f) => f.trace_context?.parent?.trace_id));

  switch (checks.length) {
    case 0: return () => true;
    case 1: return checks[0]!;
    case 2: { const [a, b] = checks as [Check, Check]; return (f) => a(f) && b(f); }
    default: return (f) => {
      for (let i = 0; i < checks.length; i++) if (!checks[i]!(f)) return false;
      return true;
    };
  }
}

// ---- exact values ----------------------------------------------------------

function stringIn(values: string[], get: (f: Flow) => string | undefined | null): Check {
  const s = new Set(values);
  return (f) => {
    const v = get(f);
    return v !== undefined && v !== null && v !== '' && s.has(v);
  };
}

function identityCheck(values: (number | string)[], where: string, get: (f: Flow) => number | undefined | null): Check {
  const s = new Set<number>();
  for (const v of values) {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new FlowFilterError(`${where}: ${JSON.stringify(v)} is not a security identity (0-4294967295)`);
    s.add(n);
  }
  return (f) => s.has(get(f) ?? 0);
}

/** An enum's numbers by name, from the loaded contract (filters and flows may carry either form). */
function enumValues(typeName: string): Record<string, number> {
  return protoRoot().lookupEnum(typeName).values;
}

function enumNumber(values: Record<string, number>, v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return values[v];
  return undefined;
}

function enumCheck(typeName: string, wanted: unknown[], where: string, get: (f: Flow) => unknown): Check {
  const values = enumValues(typeName);
  const known = new Set(Object.values(values));
  const s = new Set<number>();
  for (const w of wanted) {
    const n = enumNumber(values, w);
    if (n === undefined || !known.has(n)) throw new FlowFilterError(`${where}: ${JSON.stringify(w)} is not a ${typeName} (${Object.keys(values).join(', ')})`);
    s.add(n);
  }
  return (f) => {
    const v = get(f);
    // An unset enum is its zero value.
    return s.has(v === undefined || v === null ? 0 : (enumNumber(values, v) ?? -1));
  };
}

function eventTypeCheck(filters: { type?: number; match_sub_type?: boolean; sub_type?: number }[]): Check {
  const types = filters.map((t) => Number(t.type ?? 0));
  const matchSub = filters.map((t) => t.match_sub_type === true);
  const subs = filters.map((t) => Number(t.sub_type ?? 0));
  return (f) => {
    const ev = f.event_type;
    if (!ev) return false;
    const type = ev.type ?? 0, sub = ev.sub_type ?? 0;
    for (let i = 0; i < types.length; i++) {
      if (types[i] !== 0 && types[i] !== type) continue;
      if (matchSub[i] && subs[i] !== sub) continue;
      return true;
    }
    return false;
  };
}

function replyCheck(values: boolean[]): Check {
  const wantTrue = values.includes(true), wantFalse = values.includes(false);
  const dropped = enumValues('flow.Verdict').DROPPED;
  return (f) => {
    const r = f.is_reply;
    // Like Hubble: a dropped flow of unknown direction counts as not a reply
    // (older clients filtered on the deprecated `reply`, false for drops).
    if ((r === undefined || r === null) && f.verdict !== 'DROPPED' && f.verdict !== dropped) return false;
    return r?.value === true ? wantTrue : wantFalse;
  };
}

const TCP_FLAG_NAMES = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR', 'NS'] as const;

function tcpFlagsCheck(entries: Partial<Record<(typeof TCP_FLAG_NAMES)[number], boolean>>[]): Check {
  const masks = entries.map((e) => TCP_FLAG_NAMES.reduce((m, n, i) => (e[n] ? m | (1 << i) : m), 0));
  return (f) => {
    const fl = f.l4?.TCP?.flags;
    if (!fl) return false;
    const have = (fl.FIN ? 1 : 0) | (fl.SYN ? 2 : 0) | (fl.RST ? 4 : 0) | (fl.PSH ? 8 : 0) | (fl.ACK ? 16 : 0) | (fl.URG ? 32 : 0) | (fl.ECE ? 64 : 0) | (fl.CWR ? 128 : 0) | (fl.NS ? 256 : 0);
    for (let i = 0; i < masks.length; i++) if ((have & masks[i]!) === masks[i]) return true;
    return false;
  };
}

function workloadCheck(wanted: { name?: string; kind?: string }[], get: (f: Flow) => { name?: string; kind?: string }[] | undefined): Check {
  const names = wanted.map((w) => w.name ?? ''), kinds = wanted.map((w) => w.kind ?? '');
  return (f) => {
    const ws = get(f);
    if (!ws) return false;
    for (const w of ws) {
      for (let i = 0; i < names.length; i++) {
        if ((names[i] === '' || names[i] === (w.name ?? '')) && (kinds[i] === '' || kinds[i] === (w.kind ?? ''))) return true;
      }
    }
    return false;
  };
}

// ---- L4 ---------------------------------------------------------------------

function sourcePort(f: Flow): number {
  const l4 = f.l4;
  if (!l4) return -1;
  const p = l4.TCP ?? l4.UDP ?? l4.SCTP;
  return p ? (p.source_port ?? 0) : -1;
}

function destinationPort(f: Flow): number {
  const l4 = f.l4;
  if (!l4) return -1;
  const p = l4.TCP ?? l4.UDP ?? l4.SCTP;
  return p ? (p.destination_port ?? 0) : -1;
}

function portCheck(values: string[], where: string, get: (f: Flow) => number): Check {
  const s = new Set<number>();
  for (const v of values) {
    const t = String(v);
    if (!/^[0-9]{1,5}$/.test(t) || Number(t) > 65535) throw new FlowFilterError(`${where}: ${JSON.stringify(v)} is not a port number (0-65535)`);
    s.add(Number(t));
  }
  return (f) => s.has(get(f));
}

const L4_PROTOCOLS = ['icmp', 'icmpv4', 'icmpv6', 'tcp', 'udp', 'sctp'];
const L7_PROTOCOLS = ['dns', 'http', 'kafka'];

function protocolCheck(values: string[], where: string): Check {
  let mask = 0;
  for (const v of values) {
    switch (String(v).toLowerCase()) {
      case 'icmp': mask |= 1 | 2; break;
      case 'icmpv4': mask |= 1; break;
      case 'icmpv6': mask |= 2; break;
      case 'tcp': mask |= 4; break;
      case 'udp': mask |= 8; break;
      case 'sctp': mask |= 16; break;
      case 'dns': mask |= 32; break;
      case 'http': mask |= 64; break;
      case 'kafka': mask |= 128; break;
      default: throw new FlowFilterError(`${where}: unknown protocol ${JSON.stringify(v)} (one of ${[...L4_PROTOCOLS, ...L7_PROTOCOLS].join(', ')})`);
    }
  }
  return (f) => {
    const l4 = f.l4, l7 = f.l7;
    let have = 0;
    if (l4) have |= (l4.ICMPv4 ? 1 : 0) | (l4.ICMPv6 ? 2 : 0) | (l4.TCP ? 4 : 0) | (l4.UDP ? 8 : 0) | (l4.SCTP ? 16 : 0);
    if (l7) have |= (l7.dns ? 32 : 0) | (l7.http ? 64 : 0) | (l7.kafka ? 128 : 0);
    return (have & mask) !== 0;
  };
}

// ---- addresses --------------------------------------------------------------

/** A parsed prefix: the address as four 32-bit words (IPv4 in word 0), its length and family. */
interface Prefix { v6: boolean; w: Uint32Array; bits: number }

const scratch = new Uint32Array(4);
const groups = new Uint16Array(8);

/** IPv4 dotted quad into out[0]; false when `s[from, to)` is not one. */
function parseV4Into(s: string, from: number, to: number, out: Uint32Array, word: number): boolean {
  let n = 0, parts = 0, val = -1, digits = 0;
  for (let i = from; i <= to; i++) {
    const c = i === to ? 46 : s.charCodeAt(i);
    if (c === 46) {
      if (val < 0 || parts === 4) return false;
      n = n * 256 + val;
      parts++;
      val = -1;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      // No leading zeros (Go's netip refuses them too: they read as octal elsewhere).
      if (digits > 0 && val === 0) return false;
      val = (val < 0 ? 0 : val) * 10 + (c - 48);
      if (val > 255) return false;
      digits++;
    } else return false;
  }
  if (parts !== 4) return false;
  out[word] = n >>> 0;
  return true;
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** IPv6 text (with `::` and a dotted IPv4 tail) into four words; no zone. */
function parseV6Into(s: string, from: number, to: number, out: Uint32Array): boolean {
  let g = 0, gap = -1, i = from;
  if (to - from < 2) return false;
  if (s.charCodeAt(i) === 58) {
    if (s.charCodeAt(i + 1) !== 58) return false;
    gap = 0;
    i += 2;
    if (i === to) { out.fill(0); return true; }
  }
  while (i < to) {
    if (g === 8) return false;
    let v = 0, d = 0, j = i;
    for (; j < to && d < 5; j++) {
      const h = hexVal(s.charCodeAt(j));
      if (h < 0) break;
      v = v * 16 + h;
      d++;
    }
    if (j < to && s.charCodeAt(j) === 46) {
      // Dotted IPv4 in the last 32 bits.
      if (g > 6 || !parseV4Into(s, i, to, scratchV4, 0)) return false;
      groups[g++] = scratchV4[0]! >>> 16;
      groups[g++] = scratchV4[0]! & 0xffff;
      i = to;
      break;
    }
    if (d === 0 || d > 4) return false;
    groups[g++] = v;
    i = j;
    if (i === to) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i < to && s.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = g;
      i++;
      if (i === to) break;
    } else if (i === to) return false;
  }
  if (gap < 0 && g !== 8) return false;
  if (gap >= 0 && g > 7) return false;
  const fill = 8 - g;
  for (let k = 0; k < 4; k++) {
    const hi = groupAt(2 * k, gap, fill), lo = groupAt(2 * k + 1, gap, fill);
    out[k] = ((hi << 16) | lo) >>> 0;
  }
  return true;
}
const scratchV4 = new Uint32Array(1);

function groupAt(idx: number, gap: number, fill: number): number {
  if (gap < 0) return groups[idx]!;
  if (idx < gap) return groups[idx]!;
  if (idx < gap + fill) return 0;
  return groups[idx - fill]!;
}

function parsePrefix(text: string): Prefix | undefined {
  const t = text.trim();
  const slash = t.indexOf('/');
  const addrEnd = slash < 0 ? t.length : slash;
  const w = new Uint32Array(4);
  let v6: boolean;
  if (t.indexOf(':') >= 0 && t.indexOf(':') < addrEnd) {
    if (!parseV6Into(t, 0, addrEnd, w)) return undefined;
    v6 = true;
  } else {
    if (!parseV4Into(t, 0, addrEnd, w, 0)) return undefined;
    v6 = false;
  }
  const max = v6 ? 128 : 32;
  let bits = max;
  if (slash >= 0) {
    const b = t.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(b) || Number(b) > max) return undefined;
    bits = Number(b);
  }
  // Keep only the network bits: 10.1.2.3/8 means 10.0.0.0/8 (Go's Prefix.Contains ignores host bits too).
  for (let k = 0; k < 4; k++) w[k] = (w[k]! & wordMask(bits, k)) >>> 0;
  return { v6, w, bits };
}

/** The mask of word k of a prefix of `bits` bits. */
function wordMask(bits: number, k: number): number {
  const b = bits - 32 * k;
  if (b >= 32) return 0xffffffff;
  if (b <= 0) return 0;
  return (0xffffffff << (32 - b)) >>> 0;
}

function ipCheck(values: string[], where: string, get: (f: Flow) => string | undefined | null): Check {
  const v4: Prefix[] = [], v6: Prefix[] = [];
  for (const v of values) {
    const p = parsePrefix(String(v));
    if (!p) throw new FlowFilterError(`${where}: ${JSON.stringify(v)} is not an IP address or CIDR`);
    (p.v6 ? v6 : v4).push(p);
  }
  const v4w = new Uint32Array(v4.map((p) => p.w[0]!)), v4m = new Uint32Array(v4.map((p) => wordMask(p.bits, 0)));
  return (f) => {
    const ip = get(f);
    if (!ip) return false;
    if (ip.indexOf(':') < 0) {
      if (v4w.length === 0 || !parseV4Into(ip, 0, ip.length, scratch, 0)) return false;
      const a = scratch[0]!;
      for (let i = 0; i < v4w.length; i++) if (((a & v4m[i]!) >>> 0) === v4w[i]) return true;
      return false;
    }
    if (v6.length === 0 || !parseV6Into(ip, 0, ip.length, scratch)) return false;
    for (const p of v6) {
      let ok = true;
      for (let k = 0; k < 4 && ok; k++) ok = ((scratch[k]! & wordMask(p.bits, k)) >>> 0) === p.w[k];
      if (ok) return true;
    }
    return false;
  };
}

// ---- Kubernetes names -------------------------------------------------------

/**
 * `namespace/prefix`, `namespace/` (the whole namespace), or a bare prefix,
 * which Hubble reads as in namespace "default".
 */
function namespacedCheck(values: string[], where: string, getNs: (f: Flow) => string | undefined, getName: (f: Flow) => string | undefined): Check {
  const nss: string[] = [], prefixes: string[] = [];
  for (const v of values) {
    const parts = String(v).split('/');
    let ns: string, prefix: string;
    if (parts.length > 1) { ns = parts[0]!; prefix = parts[1]!; }
    else if (parts[0] === '') { ns = ''; prefix = ''; }
    else { ns = 'default'; prefix = parts[0]!; }
    if (ns === '' && prefix === '') throw new FlowFilterError(`${where}: ${JSON.stringify(v)} is not [namespace/][name prefix]`);
    nss.push(ns);
    prefixes.push(prefix);
  }
  return (f) => {
    const ns = getNs(f) ?? '', name = getName(f) ?? '';
    if (ns === '' && name === '') return false;
    for (let i = 0; i < nss.length; i++) {
      if (nss[i] === ns && (prefixes[i] === '' || name.startsWith(prefixes[i]!))) return true;
    }
    return false;
  };
}

/** An anchored RE2 program; a syntax error names the field and the pattern. */
function re2(pattern: string, where: string, shown: string): RE2JS {
  try {
    return RE2JS.compile(pattern);
  } catch (e) {
    throw new FlowFilterError(`${where}: ${JSON.stringify(shown)} is not a valid RE2 regular expression: ${(e as Error).message}`);
  }
}

const FQDN_ELEMENT = '(?:[-0-9_a-z]+(?:\\.[-0-9_a-z]+)*)';

/** One FQDN pattern (`*.example.com`) as regex text, or an error message. */
function fqdnPatternRegex(raw: string): string | { error: string } {
  let p = raw.trim();
  if (p.endsWith('.')) p = p.slice(0, -1);
  p = p.toLowerCase();
  if (p === '') return { error: 'empty pattern' };
  if (p.endsWith('.')) return { error: 'more than one trailing dot' };
  let out = '';
  for (const ch of p) {
    if (ch === '.') out += '\\.';
    else if (ch === '*') out += '[-.0-9a-z]*';
    else if (ch === '-' || ch === '_' || (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z')) out += ch;
    else return { error: `${JSON.stringify(ch)} is not allowed (letters, digits, "-", "_", "." and "*")` };
  }
  return out;
}

function fqdnCheck(values: string[], where: string, get: (f: Flow) => string[] | undefined): Check {
  const alts = values.map((v) => {
    const r = fqdnPatternRegex(String(v));
    if (typeof r !== 'string') throw new FlowFilterError(`${where}: ${JSON.stringify(v)} is not an FQDN pattern: ${r.error}`);
    return r;
  });
  const re = re2(`^(?:${alts.join('|')})$`, where, values.join(', '));
  return (f) => {
    const names = get(f);
    if (!names) return false;
    for (let i = 0; i < names.length; i++) if (re.test(names[i]!)) return true;
    return false;
  };
}

/**
 * Node name patterns: `cluster/node` or `node` (any cluster), each element an
 * FQDN pattern, empty = anything. A flow's node name without a cluster is in
 * cluster "default", as in Hubble; that case gets its own program so matching
 * does not build a string.
 */
function nodeNameCheck(values: string[], where: string): Check {
  const full: string[] = [], bare: string[] = [];
  const elem = (e: string, v: string) => {
    if (e === '') return FQDN_ELEMENT;
    const r = fqdnPatternRegex(e);
    if (typeof r !== 'string') throw new FlowFilterError(`${where}: ${JSON.stringify(v)} is not a node name pattern: ${r.error}`);
    return r;
  };
  for (const v of values) {
    const s = String(v);
    if (s === '') throw new FlowFilterError(`${where}: empty node name pattern`);
    const parts = s.split('/');
    if (parts.length > 2) throw new FlowFilterError(`${where}: ${JSON.stringify(v)} is not a node name pattern: more than one "/"`);
    const cluster = parts.length === 2 ? elem(parts[0]!, s) : FQDN_ELEMENT;
    const node = elem(parts[parts.length - 1]!, s);
    full.push(`${cluster}/${node}`);
    if (RE2JS.compile(`^(?:${cluster})$`).test('default')) bare.push(node);
  }
  const fullRe = re2(`^(?:${full.join('|')})$`, where, values.join(', '));
  const bareRe = bare.length ? re2(`^(?:${bare.join('|')})$`, where, values.join(', ')) : undefined;
  return (f) => {
    const n = f.node_name;
    if (!n) return false;
    if (n.indexOf('/') >= 0) return fullRe.test(n);
    return bareRe !== undefined && bareRe.test(n);
  };
}

// ---- labels -----------------------------------------------------------------

/** One requirement on flow labels `source:key=value`; source '' = any source. */
interface LabelReq { source: string; key: string; op: LabelSelectorRequirement['operator']; values: string[] }

const SOURCE_PREFIX = /([A-Za-z0-9][-A-Za-z0-9_]*):([^\s=!(),:]+)/g;

/**
 * A Kubernetes label selector string whose keys may carry a Cilium source
 * (`k8s:app=web`, `reserved:host`, `any:app`); a key without one matches
 * labels of any source. kubectl's grammar is parsed by parseSelectorString,
 * with each sourced key swapped for a placeholder key first.
 */
function parseLabelSelector(sel: string, where: string): LabelReq[] {
  const sourced: { source: string; key: string }[] = [];
  const translated = sel.replace(SOURCE_PREFIX, (_m, source: string, key: string) => {
    sourced.push({ source, key });
    return `bl-sourced-${sourced.length - 1}`;
  });
  const parsed = parseSelectorString(translated);
  if ('error' in parsed) throw new FlowFilterError(`${where}: ${JSON.stringify(sel)} is not a label selector: ${parsed.error.replace(/bl-sourced-(\d+)/g, (_m, i: string) => `${sourced[Number(i)]!.source}:${sourced[Number(i)]!.key}`)}`);
  const reqs: LabelReq[] = [];
  const add = (k: string, op: LabelSelectorRequirement['operator'], values: string[]) => {
    const m = /^bl-sourced-(\d+)$/.exec(k);
    let source = '', key = k;
    if (m) {
      ({ source, key } = sourced[Number(m[1])]!);
      const ke = labelKeyError(`${source}:${key}`, true) ?? (source === 'reserved' ? undefined : labelKeyError(key));
      if (ke) throw new FlowFilterError(`${where}: ${JSON.stringify(sel)} is not a label selector: invalid label key ${JSON.stringify(`${source}:${key}`)}: ${ke}`);
      if (source === 'any') source = '';
    }
    reqs.push({ source, key, op, values });
  };
  for (const [k, v] of Object.entries(parsed.selector.matchLabels ?? {})) add(k, 'In', [v]);
  for (const r of parsed.selector.matchExpressions ?? []) add(r.key, r.operator, r.values ?? []);
  return reqs;
}

/**
 * Whether a label `source:key[=value]` has the requirement's source and key;
 * returns the index where its value starts (its length when it has none) or -1.
 */
function labelValueStart(label: string, source: string, key: string): number {
  const colon = label.indexOf(':');
  if (colon < 0) return -1;
  if (source !== '' && (colon !== source.length || !label.startsWith(source))) return -1;
  const k = colon + 1;
  if (!label.startsWith(key, k)) return -1;
  const end = k + key.length;
  if (end === label.length) return end;
  return label.charCodeAt(end) === 61 /* = */ ? end + 1 : -1;
}

function labelValueIn(label: string, start: number, values: string[]): boolean {
  const len = label.length - start;
  for (const v of values) if (v.length === len && label.startsWith(v, start)) return true;
  return false;
}

function requirementHolds(r: LabelReq, labels: string[]): boolean {
  let found = false, valueMatch = false;
  for (let i = 0; i < labels.length; i++) {
    const s = labelValueStart(labels[i]!, r.source, r.key);
    if (s < 0) continue;
    found = true;
    if ((r.op === 'In' || r.op === 'NotIn') && labelValueIn(labels[i]!, s, r.values)) { valueMatch = true; break; }
    if (r.op === 'Exists' || r.op === 'DoesNotExist') break;
  }
  switch (r.op) {
    case 'In': return valueMatch;
    case 'NotIn': return !valueMatch;
    case 'Exists': return found;
    case 'DoesNotExist': return !found;
    default: return false;
  }
}

const NO_LABELS: string[] = [];

function labelCheck(values: string[], where: string, get: (f: Flow) => string[] | undefined): Check {
  const selectors = values.map((v) => parseLabelSelector(String(v), where));
  return (f) => {
    const labels = get(f) ?? NO_LABELS;
    for (const reqs of selectors) {
      let ok = true;
      for (let i = 0; i < reqs.length && ok; i++) ok = requirementHolds(reqs[i]!, labels);
      if (ok) return true;
    }
    return false;
  };
}

// ---- L7 ---------------------------------------------------------------------

function httpStatusCheck(values: string[], where: string): Check {
  const full = new Set<number>();
  const prefixes: { lo: number; hi: number }[] = [];
  for (const v of values) {
    const s = String(v);
    if (/^[1-5][0-9]{2}$/.test(s)) full.add(Number(s));
    else if (/^[1-5][0-9]?\+$/.test(s)) {
      // `4+` is 400-499, `40+` is 400-409.
      const p = s.slice(0, -1);
      const scale = 10 ** (3 - p.length);
      prefixes.push({ lo: Number(p) * scale, hi: (Number(p) + 1) * scale - 1 });
    } else throw new FlowFilterError(`${where}: ${JSON.stringify(v)} is not an HTTP status code or class prefix (200, 4+, 50+)`);
  }
  return (f) => {
    const code = f.l7?.http?.code ?? 0;
    if (code === 0) return false;
    if (full.has(code)) return true;
    for (const p of prefixes) if (code >= p.lo && code <= p.hi) return true;
    return false;
  };
}

function httpMethodCheck(values: string[]): Check {
  const s = new Set(values.map((v) => String(v).toUpperCase()));
  return (f) => {
    const m = f.l7?.http?.method;
    if (!m) return false;
    return s.has(m) || s.has(m.toUpperCase());
  };
}

/** The path of a request URI (absolute URL or absolute path), percent-decoded; undefined when it is neither. */
function requestPath(url: string): string | undefined {
  let start: number;
  if (url.startsWith('/')) start = 0;
  else {
    const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(url);
    if (!m) return undefined;
    start = m[0].length;
  }
  let end = url.indexOf('?', start);
  if (end < 0) end = url.length;
  const raw = url.slice(start, end);
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

function httpPathCheck(values: string[], where: string): Check {
  const res = values.map((v) => re2(String(v), where, String(v)));
  return (f) => {
    const url = f.l7?.http?.url;
    if (!url) return false;
    const path = requestPath(url);
    if (path === undefined) return false;
    for (const re of res) if (re.test(path)) return true;
    return false;
  };
}

function httpUrlCheck(values: string[], where: string): Check {
  const res = values.map((v) => re2(String(v), where, String(v)));
  return (f) => {
    const url = f.l7?.http?.url;
    if (!url) return false;
    for (const re of res) if (re.test(url)) return true;
    return false;
  };
}

function dnsQueryCheck(values: string[], where: string): Check {
  const res = values.map((v) => re2(String(v), where, String(v)));
  return (f) => {
    const dns = f.l7?.dns;
    if (!dns) return false;
    const q = dns.query ?? '';
    for (const re of res) if (re.test(q)) return true;
    return false;
  };
}

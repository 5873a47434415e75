/**
 * Datapath events as `cilium monitor` prints them. The one-line forms follow
 * Cilium's DumpInfo (pkg/monitor/datapath_trace.go, datapath_drop.go,
 * datapath_policy.go), the
 * verbose forms its DumpVerbose plus a gopacket-style dissection, the packet
 * summary its GetConnectionSummary (pkg/monitor/dissect.go). Where Cilium
 * prints a CPU (`CPU 01:`), we print the node, since events come from
 * several node agents. Identities print as numbers (cilium monitor -n).
 */
import { BlDirection, BlDropReason, BlPolicyAction, BlPolicyMatch } from '../datapath/generated/abi.js';
import { eventTypeText, dropDstId, type DropEvent, type MonitorEvent, type PolicyVerdictEvent, type TraceEvent, type TraceSockEvent } from '../observer/event.js';
import { formatIpv4Number, ipProtocolName, type DecodedPacket, type IcmpLayer, type TcpFlags } from '../observer/packet.js';
import { dropReasonExtText, sourceFileText, tracePointText, traceReasonText, traceSummaryText } from '../observer/reasons.js';

/** info: Cilium's one-line forms; verbose: `-v`, several lines per event; json: one object per line. */
export type FormatMode = 'info' | 'verbose' | 'json';

export interface FormatContext {
  /** The node the event came from. */
  node: string;
  /** Prefix event lines with `[node] ` (events from several nodes). */
  showNode: boolean;
  /** When the event was received (JSON `time`); default now. */
  time?: Date;
  /** Interface names by ifindex, when the caller knows them; else the index prints. */
  ifname?: (ifindex: number) => string | undefined;
  /** Verbose mode: a hex dump of the capture instead of the dissection (cilium monitor --hex). */
  hex?: boolean;
  /**
   * The policies behind a policy cookie (the agent's cookie → names table),
   * printed after `policy-cookie N`; undefined or empty: the number alone.
   */
  policyNames?: (cookie: number) => string[] | undefined;
}

/** Cilium's message separator before each verbose event. */
export const MSG_SEPARATOR = '------------------------------------------------------------------------------';

/** Go's `%#x`: `0x5c1b2f4`, and `0x0` for zero. */
export function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`;
}

const prefixOf = (ctx: FormatContext) => (ctx.showNode ? `[${ctx.node}] ` : '');

const ifnameOf = (ctx: FormatContext, ifindex: number) => ctx.ifname?.(ifindex) ?? String(ifindex);

/** net.JoinHostPort: IPv6 addresses in brackets. */
function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Cilium's getTCPInfo: SYN, ACK, RST, FIN in that order, comma separated. */
export function tcpFlagsText(f: TcpFlags): string {
  const out: string[] = [];
  if (f.syn) out.push('SYN');
  if (f.ack) out.push('ACK');
  if (f.rst) out.push('RST');
  if (f.fin) out.push('FIN');
  return out.join(', ');
}

function l3l4Summary(p: DecodedPacket): string {
  const ip = p.ipv4 ?? p.ipv6;
  if (ip && p.icmp) return `${ip.src} -> ${ip.dst} icmp ${p.icmp.typeCode}`;
  const l4 = p.tcp ?? p.udp ?? p.sctp;
  if (ip && l4) {
    const proto = p.tcp ? 'tcp' : p.udp ? 'udp' : 'sctp';
    const s = `${hostPort(ip.src, l4.srcPort)} -> ${hostPort(ip.dst, l4.dstPort)} ${proto}`;
    // Cilium appends the flags after a space even when there are none; we leave no trailing blank.
    const flags = p.tcp ? tcpFlagsText(p.tcp.flags) : '';
    return flags ? `${s} ${flags}` : s;
  }
  if (ip) return `${ip.src} -> ${ip.dst}`;
  if (p.ethernet) return `${p.ethernet.src} -> ${p.ethernet.dst} ${p.ethernet.ethertypeName}`;
  return '[unknown]';
}

/**
 * Cilium's GetConnectionSummary: `10.0.1.5:41234 -> 10.0.2.8:80 tcp SYN`,
 * `10.0.1.5 -> 10.0.2.8 icmp EchoRequest`, `<mac> -> <mac> ARP`, and for
 * VXLAN `<inner> [tunnel 172.18.0.11:41000 -> 172.18.0.12:8472 vxlan]`.
 * Unlike Cilium (`[error]`), a packet cut short still shows what was decoded.
 */
export function connectionSummary(p: DecodedPacket): string {
  if (p.vxlan?.inner && p.udp) {
    const ip = p.ipv4 ?? p.ipv6;
    const outer = ip ? `${hostPort(ip.src, p.udp.srcPort)} -> ${hostPort(ip.dst, p.udp.dstPort)} vxlan` : 'vxlan';
    return `${l3l4Summary(p.vxlan.inner)} [tunnel ${outer}]`;
  }
  return l3l4Summary(p);
}

// ---- one-line forms

/** Cilium's TraceNotify.DumpInfo, without the trailing newline. */
export function traceLine(ev: TraceEvent, ctx: FormatContext): string {
  const { hdr, trace } = ev;
  return (
    `${traceSummaryText(hdr.subtype, hdr.source, trace.dst_id)} flow ${hex(hdr.hash)} ` +
    `, identity ${hdr.src_identity}->${hdr.dst_identity} state ${traceReasonText(trace.reason)} ` +
    `ifindex ${ifnameOf(ctx, hdr.ifindex)} orig-ip ${formatIpv4Number(trace.orig_ip4)}: ${connectionSummary(ev.packet)}`
  );
}

/** ` policy-cookie 7 (ns/a, ns/b)`: a policy cookie with the names the resolver knows; '' for cookie 0. */
export function policyCookieText(cookie: number, ctx?: Pick<FormatContext, 'policyNames'>): string {
  if (!cookie) return '';
  const names = ctx?.policyNames?.(cookie);
  return ` policy-cookie ${cookie}${names?.length ? ` (${names.join(', ')})` : ''}`;
}

const isPolicyDrop = (reason: number) =>
  reason === BlDropReason.BL_DROP_POLICY || reason === BlDropReason.BL_DROP_POLICY_DENY || reason === BlDropReason.BL_DROP_POLICY_AUTH_REQUIRED;

/** The policy cookie of a drop event: only policy drops carry one. */
export function dropCookie(ev: DropEvent): number {
  return isPolicyDrop(ev.hdr.subtype) ? ev.drop.cookie : 0;
}

/** Cilium's DropNotify.DumpInfo, without the trailing newline; a policy drop adds its policy cookie. */
export function dropLine(ev: DropEvent, ctx?: Pick<FormatContext, 'policyNames'>): string {
  const { hdr, drop } = ev;
  return (
    `xx drop (${dropReasonExtText(hdr.subtype, drop.ext_error)}) flow ${hex(hdr.hash)} to endpoint ${dropDstId(ev)}, ` +
    `ifindex ${hdr.ifindex}, file ${sourceFileText(drop.file)}:${drop.line}, ` +
    `, identity ${hdr.src_identity}->${hdr.dst_identity}${policyCookieText(dropCookie(ev), ctx)}: ${connectionSummary(ev.packet)}`
  );
}

/** Cilium's PolicyMatchType names. */
export function policyMatchText(match: number): string {
  switch (match) {
    case BlPolicyMatch.BL_POLICY_MATCH_NONE:
      return 'none';
    case BlPolicyMatch.BL_POLICY_MATCH_L3_ONLY:
      return 'L3-Only';
    case BlPolicyMatch.BL_POLICY_MATCH_L3_L4:
      return 'L3-L4';
    case BlPolicyMatch.BL_POLICY_MATCH_L4_ONLY:
      return 'L4-Only';
    case BlPolicyMatch.BL_POLICY_MATCH_ALL:
      return 'all';
    default:
      return String(match);
  }
}

/** allow, deny or audit (Cilium prints audit for what audit mode let through). */
export function policyActionText(action: number): string {
  if (action === BlPolicyAction.BL_POLICY_ACTION_ALLOW) return 'allow';
  if (action === BlPolicyAction.BL_POLICY_ACTION_DENY) return 'deny';
  if (action === BlPolicyAction.BL_POLICY_ACTION_AUDIT) return 'audit';
  return String(action);
}

const policyDirText = (dir: number) => (dir === BlDirection.BL_DIR_INGRESS ? 'ingress' : dir === BlDirection.BL_DIR_EGRESS ? 'egress' : 'unknown');

/**
 * Cilium's PolicyVerdictNotify.DumpInfo (numeric identities, no auth type),
 * without the trailing newline; a cookie adds `policy-cookie N` before the packet.
 */
export function policyVerdictLine(ev: PolicyVerdictEvent, ctx?: Pick<FormatContext, 'policyNames'>): string {
  const { hdr, verdict: v } = ev;
  const cookie = policyCookieText(v.cookie, ctx);
  return (
    `Policy verdict log: flow ${hex(hdr.hash)} local EP ID ${hdr.source}, remote ID ${v.remote_identity}, proto ${v.proto}, ` +
    `${policyDirText(v.dir)}, action ${policyActionText(v.action)}, match ${policyMatchText(v.match_type)},${cookie ? `${cookie},` : ''} ${connectionSummary(ev.packet)}`
  );
}

const XLATE_POINTS = ['unknown', 'pre-xlate-fwd', 'post-xlate-fwd', 'pre-xlate-rev', 'post-xlate-rev'];

/** Cilium's trace-sock line: `[post-xlate-fwd] cgroup_id: …, sock_cookie: …, dst [ip]:port tcp`. */
function sockLine(ev: TraceSockEvent): string {
  const x = ev.sock;
  const point = XLATE_POINTS[ev.hdr.subtype] ?? String(ev.hdr.subtype);
  const from = x.orig_ip4 ? ` (service [${formatIpv4Number(x.orig_ip4)}]:${x.orig_port})` : '';
  return `-> [${point}] cgroup_id: ${x.cgroup_id}, sock_cookie: ${x.sock_cookie}, dst [${formatIpv4Number(x.dst_ip4)}]:${x.dst_port} ${ipProtocolName(x.l4_proto).toLowerCase()}${from}`;
}

function otherLine(ev: MonitorEvent & { kind: 'other' }): string {
  if (ev.type < 0) return 'Unknown event: empty record';
  return `Unknown event: type ${ev.type} (${eventTypeText(ev.type)}), ${ev.length} bytes${ev.error ? ` (${ev.error})` : ''}`;
}

// ---- verbose forms

function icmpFields(m: IcmpLayer): string {
  let s = `TypeCode=${m.typeCode} Checksum=${m.checksum}`;
  if (m.id !== undefined) s += ` Id=${m.id} Seq=${m.seq}`;
  if (m.mtu !== undefined) s += ` MTU=${m.mtu}`;
  if (m.target !== undefined) s += ` TargetAddress=${m.target}`;
  return s;
}

/**
 * One line per decoded layer in the shape of gopacket's LayerString, which
 * Cilium's verbose mode prints (`IPv4\t{Version=4 … SrcIP=… DstIP=…}`), with
 * the header fields (not gopacket's Contents/Payload byte dumps); then
 * gopacket's notes on truncation and decoding errors.
 */
export function dissect(p: DecodedPacket): string[] {
  const out: string[] = [];
  for (const layer of p.layers) {
    switch (layer) {
      case 'ethernet': {
        const e = p.ethernet!;
        out.push(`Ethernet\t{SrcMAC=${e.src} DstMAC=${e.dst} EthernetType=${e.vlan ? 'Dot1Q' : e.ethertypeName}}`);
        if (e.vlan) out.push(`Dot1Q\t{Priority=${e.vlan.priority} DropEligible=${e.vlan.dropEligible} VLANIdentifier=${e.vlan.id} Type=${e.ethertypeName}}`);
        break;
      }
      case 'arp': {
        const a = p.arp!;
        out.push(
          `ARP\t{AddrType=${a.hardwareType} Protocol=${hex(a.protocolType)} Operation=${a.operation} ` +
            `SourceHwAddress=${a.senderHardware} SourceProtAddress=${a.senderProtocol} DstHwAddress=${a.targetHardware} DstProtAddress=${a.targetProtocol}}`,
        );
        break;
      }
      case 'ipv4': {
        const ip = p.ipv4!;
        const flags = [ip.dontFragment ? 'DF' : '', ip.moreFragments ? 'MF' : ''].filter(Boolean).join('|');
        const opts = ip.options.map((o) => (o.length > 1 ? `${o.name}(${o.length})` : o.name)).join(' ');
        out.push(
          `IPv4\t{Version=4 IHL=${ip.headerLength / 4} TOS=${ip.tos} Length=${ip.totalLength} Id=${ip.id} Flags=${flags} ` +
            `FragOffset=${ip.fragmentOffset / 8} TTL=${ip.ttl} Protocol=${ip.protocolName} Checksum=${ip.checksum} ` +
            `SrcIP=${ip.src} DstIP=${ip.dst} Options=[${opts}]}`,
        );
        break;
      }
      case 'ipv6': {
        const ip = p.ipv6!;
        const ext = ip.extensions.length ? ` Extensions=[${ip.extensions.map(ipProtocolName).join(' ')}]` : '';
        out.push(
          `IPv6\t{Version=6 TrafficClass=${ip.trafficClass} FlowLabel=${ip.flowLabel} Length=${ip.payloadLength} ` +
            `NextHeader=${ipProtocolName(ip.nextHeader)} HopLimit=${ip.hopLimit} SrcIP=${ip.src} DstIP=${ip.dst}${ext}}`,
        );
        break;
      }
      case 'tcp': {
        const t = p.tcp!;
        const f = t.flags;
        out.push(
          `TCP\t{SrcPort=${t.srcPort} DstPort=${t.dstPort} Seq=${t.seq} Ack=${t.ack} DataOffset=${t.headerLength / 4} ` +
            `FIN=${f.fin} SYN=${f.syn} RST=${f.rst} PSH=${f.psh} ACK=${f.ack} URG=${f.urg} ECE=${f.ece} CWR=${f.cwr} NS=${f.ns} ` +
            `Window=${t.window} Checksum=${t.checksum} Urgent=${t.urgent}}`,
        );
        break;
      }
      case 'udp': {
        const u = p.udp!;
        out.push(`UDP\t{SrcPort=${u.srcPort} DstPort=${u.dstPort} Length=${u.length} Checksum=${u.checksum}}`);
        break;
      }
      case 'sctp': {
        const s = p.sctp!;
        out.push(`SCTP\t{SrcPort=${s.srcPort} DstPort=${s.dstPort} VerificationTag=${s.verificationTag} Checksum=${s.checksum}}`);
        break;
      }
      case 'icmpv4':
      case 'icmpv6':
        out.push(`${layer === 'icmpv4' ? 'ICMPv4' : 'ICMPv6'}\t{${icmpFields(p.icmp!)}}`);
        break;
      case 'vxlan': {
        const v = p.vxlan!;
        out.push(`VXLAN\t{ValidIDFlag=${v.validVni} VNI=${v.vni}}`);
        // The inner frame's layers follow; truncation and errors are reported once, for the whole packet, below.
        if (v.inner) out.push(...dissect(v.inner).filter((l) => !l.startsWith('  ')));
        break;
      }
    }
  }
  if (p.truncated) out.push('  Packet has been truncated');
  else if (p.error !== undefined) out.push(`  Failed to decode layer: ${p.error}`);
  return out;
}

/** Go's encoding/hex Dump: offset, 16 bytes in two groups of 8, the printable characters. */
export function hexDump(bytes: Uint8Array): string {
  let s = '';
  for (let off = 0; off < bytes.length; off += 16) {
    const row = bytes.subarray(off, off + 16);
    let hexCols = '';
    let chars = '';
    for (let i = 0; i < 16; i++) {
      hexCols += (i < row.length ? row[i]!.toString(16).padStart(2, '0') : '  ') + ' ' + (i === 7 ? ' ' : '');
      if (i < row.length) chars += row[i]! >= 32 && row[i]! <= 126 ? String.fromCharCode(row[i]!) : '.';
    }
    s += `${off.toString(16).padStart(8, '0')}  ${hexCols} |${chars}|\n`;
  }
  return s;
}

function packetDetail(ev: TraceEvent | DropEvent | PolicyVerdictEvent, ctx: FormatContext): string {
  if (ev.hdr.len_cap === 0 || ev.packet.captured === 0) return '';
  if (ctx.hex) return hexDump(ev.capture);
  const lines = dissect(ev.packet);
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** Cilium's TraceNotify.DumpVerbose (after the separator). */
function traceVerbose(ev: TraceEvent, ctx: FormatContext): string {
  const { hdr, trace } = ev;
  let s = `${prefixOf(ctx)}MARK ${hex(hdr.hash)} FROM ${hdr.source} ${tracePointText(hdr.subtype)}: ${hdr.len_orig} bytes (${hdr.len_cap} captured), state ${traceReasonText(trace.reason)}`;
  if (hdr.ifindex !== 0) s += `, interface ${ifnameOf(ctx, hdr.ifindex)}`;
  // Cilium writes ", " and then ", identity …": the doubled comma is theirs.
  if (hdr.src_identity !== 0 || hdr.dst_identity !== 0) s += `, , identity ${hdr.src_identity}->${hdr.dst_identity}`;
  s += `, orig-ip ${formatIpv4Number(trace.orig_ip4)}`;
  if (trace.dst_id !== 0) s += `, to ${tracePointText(hdr.subtype) === 'to-proxy' ? 'proxy-port' : 'endpoint'} ${trace.dst_id}`;
  return `${s}\n${packetDetail(ev, ctx)}`;
}

/** Cilium's DropNotify.DumpVerbose (after the separator). */
function dropVerbose(ev: DropEvent, ctx: FormatContext): string {
  const { hdr, drop } = ev;
  let s = `${prefixOf(ctx)}MARK ${hex(hdr.hash)} FROM ${hdr.source} DROP: ${hdr.len_orig} bytes, reason ${dropReasonExtText(hdr.subtype, drop.ext_error)}`;
  if (hdr.src_identity !== 0 || hdr.dst_identity !== 0) s += `, identity ${hdr.src_identity}->${hdr.dst_identity}`;
  const dst = dropDstId(ev);
  if (dst !== 0) s += `, to endpoint ${dst}`;
  s += policyCookieText(dropCookie(ev), ctx);
  return `${s}\n${packetDetail(ev, ctx)}`;
}

/** Cilium has no verbose form of its own for policy verdicts: the one-line form, then the packet. */
function policyVerdictVerbose(ev: PolicyVerdictEvent, ctx: FormatContext): string {
  return `${prefixOf(ctx)}${policyVerdictLine(ev, ctx)}\n${packetDetail(ev, ctx)}`;
}

// ---- JSON

interface Flow {
  src: string;
  dst: string;
}

/** Cilium's DissectSummary flows (l2/l3/l4 endpoints), the one-line summary, and the innermost tuple. */
function summaryJson(p: DecodedPacket): { connection: string; l2?: Flow; l3?: Flow; l4?: Flow } {
  const s: { connection: string; l2?: Flow; l3?: Flow; l4?: Flow } = { connection: connectionSummary(p) };
  if (p.ethernet) s.l2 = { src: p.ethernet.src, dst: p.ethernet.dst };
  const ip = p.ipv4 ?? p.ipv6;
  if (ip) s.l3 = { src: ip.src, dst: ip.dst };
  const l4 = p.tcp ?? p.udp ?? p.sctp;
  if (l4) s.l4 = { src: String(l4.srcPort), dst: String(l4.dstPort) };
  return s;
}

function base(ctx: FormatContext) {
  return { node: ctx.node, time: (ctx.time ?? new Date()).toISOString() };
}

/** The JSON object of an event: Cilium's TraceNotifyVerbose/DropNotifyVerbose fields, plus node, time and the decoded packet. */
export function eventJson(ev: MonitorEvent, ctx: FormatContext): Record<string, unknown> {
  if (ev.kind === 'trace') {
    const { hdr, trace } = ev;
    return {
      ...base(ctx),
      type: 'trace',
      mark: hex(hdr.hash),
      ifindex: ifnameOf(ctx, hdr.ifindex),
      state: traceReasonText(trace.reason),
      observationPoint: tracePointText(hdr.subtype),
      traceSummary: traceSummaryText(hdr.subtype, hdr.source, trace.dst_id),
      source: hdr.source,
      bytes: hdr.len_orig,
      captured: hdr.len_cap,
      srcLabel: hdr.src_identity,
      dstLabel: hdr.dst_identity,
      dstID: trace.dst_id,
      origIP: formatIpv4Number(trace.orig_ip4),
      ktimeNs: hdr.ktime_ns.toString(),
      ...(ev.error ? { error: ev.error } : {}),
      summary: summaryJson(ev.packet),
      packet: ev.packet,
    };
  }
  if (ev.kind === 'drop') {
    const { hdr, drop } = ev;
    return {
      ...base(ctx),
      type: 'drop',
      mark: hex(hdr.hash),
      reason: dropReasonExtText(hdr.subtype, drop.ext_error),
      source: hdr.source,
      bytes: hdr.len_orig,
      captured: hdr.len_cap,
      srcLabel: hdr.src_identity,
      dstLabel: hdr.dst_identity,
      dstID: dropDstId(ev),
      Line: drop.line,
      File: drop.file,
      ExtError: drop.ext_error,
      Ifindex: hdr.ifindex,
      reasonCode: hdr.subtype,
      fileName: sourceFileText(drop.file),
      ...(dropCookie(ev) ? { policyCookie: dropCookie(ev), ...policyNamesJson(dropCookie(ev), ctx) } : {}),
      ktimeNs: hdr.ktime_ns.toString(),
      ...(ev.error ? { error: ev.error } : {}),
      summary: summaryJson(ev.packet),
      packet: ev.packet,
    };
  }
  if (ev.kind === 'policy-verdict') {
    const { hdr, verdict: v } = ev;
    // Cilium's PolicyVerdictNotify fields, with direction, action and match spelled out.
    return {
      ...base(ctx),
      type: 'policy-verdict',
      mark: hex(hdr.hash),
      source: hdr.source,
      bytes: hdr.len_orig,
      captured: hdr.len_cap,
      srcLabel: hdr.src_identity,
      dstLabel: hdr.dst_identity,
      dstID: v.dst_id,
      remoteLabel: v.remote_identity,
      verdict: v.verdict,
      direction: policyDirText(v.dir),
      action: policyActionText(v.action),
      match: policyMatchText(v.match_type),
      proto: v.proto,
      dport: v.dport,
      Ifindex: hdr.ifindex,
      ...(v.cookie ? { policyCookie: v.cookie, ...policyNamesJson(v.cookie, ctx) } : {}),
      ktimeNs: hdr.ktime_ns.toString(),
      ...(ev.error ? { error: ev.error } : {}),
      summary: summaryJson(ev.packet),
      packet: ev.packet,
    };
  }
  if (ev.kind === 'trace-sock') {
    const x = ev.sock;
    return {
      ...base(ctx),
      type: 'trace-sock',
      xlatePoint: XLATE_POINTS[ev.hdr.subtype] ?? String(ev.hdr.subtype),
      cgroupId: x.cgroup_id.toString(),
      sockCookie: x.sock_cookie.toString(),
      dst: `${formatIpv4Number(x.dst_ip4)}:${x.dst_port}`,
      proto: x.l4_proto,
      ...(x.orig_ip4 ? { service: `${formatIpv4Number(x.orig_ip4)}:${x.orig_port}` } : {}),
      ktimeNs: ev.hdr.ktime_ns.toString(),
      ...(ev.error ? { error: ev.error } : {}),
    };
  }
  return { ...base(ctx), type: ev.type < 0 ? 'unknown' : eventTypeText(ev.type), eventType: ev.type, bytes: ev.length, ...(ev.error ? { error: ev.error } : {}) };
}

function policyNamesJson(cookie: number, ctx: FormatContext): { policies?: string[] } {
  const names = ctx.policyNames?.(cookie);
  return names?.length ? { policies: names } : {};
}

/** An event as the monitor prints it in the given mode, newline(s) included. */
export function formatEvent(ev: MonitorEvent, mode: FormatMode, ctx: FormatContext): string {
  if (mode === 'json') return JSON.stringify(eventJson(ev, ctx)) + '\n';
  if (mode === 'verbose') {
    const body =
      ev.kind === 'trace'
        ? traceVerbose(ev, ctx)
        : ev.kind === 'drop'
          ? dropVerbose(ev, ctx)
          : ev.kind === 'policy-verdict'
            ? policyVerdictVerbose(ev, ctx)
            : ev.kind === 'trace-sock'
              ? `${prefixOf(ctx)}${sockLine(ev)}\n`
              : `${prefixOf(ctx)}${otherLine(ev)}\n`;
    return `${MSG_SEPARATOR}\n${body}`;
  }
  const line = ev.kind === 'trace' ? traceLine(ev, ctx) : ev.kind === 'drop' ? dropLine(ev, ctx) : ev.kind === 'policy-verdict' ? policyVerdictLine(ev, ctx) : ev.kind === 'trace-sock' ? sockLine(ev) : otherLine(ev);
  return `${prefixOf(ctx)}${line}\n`;
}

/**
 * Events the kernel could not queue. Cilium prints `CPU 01: Lost 123 events`;
 * we always name the node, since that is where they were lost.
 */
export function formatLost(lost: number, mode: FormatMode, ctx: FormatContext): string {
  if (mode === 'json') return JSON.stringify({ ...base(ctx), type: 'lost', lost }) + '\n';
  return `[${ctx.node}] Lost ${lost} events\n`;
}

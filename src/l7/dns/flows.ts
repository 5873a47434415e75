/**
 * The DNS proxy's records (./proxy.ts DnsProxyRecord) → Hubble L7 flows,
 * filled the way Hubble's L7 parser (pkg/hubble/parser/seven, dns.go) fills
 * them from Cilium's DNS proxy log records, beside the HTTP ones
 * (../http/flows.ts, whose conventions these follow):
 *
 *   REQUEST   client → server, is_reply false, time = the query's arrival,
 *             latency_ns 0, dns { query, qtypes, observation_source "proxy" };
 *             Summary `DNS Query api.example.test. A`.
 *   RESPONSE  server → client, is_reply true, time = the answer's release,
 *             latency_ns = query to answer, dns { query, ips, ttl, cnames,
 *             observation_source, rcode, qtypes, rrtypes }; Summary
 *             `DNS Answer "10.0.0.1,10.0.0.2" CNAMEs: "edge.cdn.test." TTL: 30 (Proxy api.example.test. A)`,
 *             or `DNS Answer RCode: Non-Existent Domain TTL: 0 (Proxy … A)`
 *             for an RCODE other than NOERROR (Hubble's dnsSummary).
 *
 * `query` is lower case and fully qualified, as Cilium records it
 * (ExtractMsgDetails); types and RCODEs are named by gopacket, as Hubble
 * names them (`A`, `AAAA`, `CNAME`, `Unknown` for a type it has no name for;
 * `Non-Existent Domain`). `ips` holds A then AAAA addresses of the query name's
 * chain, `ttl` the least TTL of the records used (what the proxy learned).
 *
 * Verdicts (Hubble's decodeVerdict of Cilium's): a query the DNS rules
 * denied is one REQUEST flow DROPPED (Cilium's proxy logs the denied request
 * and sends REFUSED without a response record; Hubble's dns metric counts it
 * as rcode "Policy denied"); a response the proxy made itself (SERVFAIL
 * after an upstream timeout, a malformed answer, a failed learn) is ERROR;
 * everything else is FORWARDED. drop_reason stays 0 on L7 flows, as Hubble
 * leaves it (and as ../http/flows.ts does).
 *
 * Policies: an allowed query's REQUEST flow names the policies whose DNS
 * rules allowed it in egress_allowed_by (DNS rules are egress rules), with
 * the labels Cilium gives a policy (decidingPolicy), as HTTP L7 flows do; a
 * denied query names none (no policy denied it: none allowed it).
 *
 * Endpoints: the agent's caches by address (resolveEndpoint), the
 * identities the proxy was given winning; DNS names of the peers from the
 * enricher (the FQDN cache).
 */
import type { Flow } from '../../api/generated/flow/Flow.js';
import type { Policy } from '../../api/generated/flow/Policy.js';
import type { Verdict } from '../../api/generated/flow/Verdict.js';
import { decidingPolicy } from '../../agent/flows.js';
import { flowUuid, resolveEndpoint } from '../../observer/flow.js';
import type { FlowEnricher } from '../../observer/types.js';
import { MESSAGE_TYPE_ACCESS_LOG } from '../http/flows.js';
import { normaliseDnsName } from './pattern.js';
import type { DnsProxyRecord } from './proxy.js';

/** What the converter asks of the agent (as ../http/flows.ts HttpFlowContext). */
export interface DnsFlowContext {
  /** The agent's caches (endpoints, identities, Services, names); nodeName names the node. */
  enricher: FlowEnricher;
  /** The flows' node_name (default enricher.nodeName). */
  nodeName?: string;
  /** The flows' uuid (default flowUuid, as datapath flows). */
  uuid?: () => string;
}

/** Hubble's observation_source of answers the proxy saw (Cilium's accesslog.DNSSourceProxy). */
export const DNS_OBSERVATION_SOURCE_PROXY = 'proxy';

/**
 * gopacket's DNSType.String(), which Hubble's L7 parser names types with
 * (layers.DNSType(t).String()): the types it knows, `Unknown` for the others.
 */
const TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'A', 2: 'NS', 3: 'MD', 4: 'MF', 5: 'CNAME', 6: 'SOA', 7: 'MB', 8: 'MG', 9: 'MR', 10: 'NULL', 11: 'WKS', 12: 'PTR', 13: 'HINFO',
  14: 'MINFO', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 35: 'NAPTR', 41: 'OPT', 46: 'RRSIG', 48: 'DNSKEY', 64: 'SVCB', 65: 'HTTPS', 256: 'URI',
};

/** gopacket's DNSResponseCode.String(), which Hubble's summary names an RCODE with. */
const RCODE_NAMES: Readonly<Record<number, string>> = {
  0: 'No Error', 1: 'Format Error', 2: 'Server Failure', 3: 'Non-Existent Domain', 4: 'Not Implemented', 5: 'Query Refused',
  6: 'Name Exists when it should not', 7: 'RR Set Exists when it should not', 8: 'RR Set that should exist does not',
  9: 'Server Not Authoritative for zone', 10: 'Name not contained in zone', 16: 'Bad OPT Version', 17: 'Key not recognized',
  18: 'Signature out of time window', 19: 'Bad TKEY Mode', 20: 'Duplicate key name', 21: 'Algorithm not supported', 22: 'Bad Truncation',
  23: 'Bad/missing Server Cookie',
};

/** A DNS type's name as Hubble shows it in qtypes and rrtypes. */
export function dnsTypeName(type: number): string {
  return TYPE_NAMES[type] ?? 'Unknown';
}

/** An RCODE's name as Hubble's summary shows it. */
export function dnsRcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? 'Unknown';
}

const EVENT_TYPE = Object.freeze({ type: MESSAGE_TYPE_ACCESS_LOG, sub_type: 0 });
const IS_REPLY_TRUE = Object.freeze({ value: true });
const IS_REPLY_FALSE = Object.freeze({ value: false });

function timeOfMs(ms: number): { seconds: number; nanos: number } {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

/** The flow of one proxy record (see the file comment for every field). */
export function dnsFlowFromRecord(rec: DnsProxyRecord, ctx: DnsFlowContext): Flow {
  const enricher = ctx.enricher;
  const uuid = ctx.uuid ?? flowUuid;
  const response = rec.type === 'response';
  const client = resolveEndpoint(enricher, rec.client.address, rec.sourceIdentity);
  const server = resolveEndpoint(enricher, rec.server.address, rec.destinationIdentity);
  const proto = rec.protocol === 'tcp' ? 'TCP' : 'UDP';
  const clientService = enricher.serviceByFrontend(rec.client.address, rec.client.port, rec.protocol);
  const serverService = enricher.serviceByFrontend(rec.server.address, rec.server.port, rec.protocol);
  const clientNames = enricher.namesForIP(rec.client.address);
  const serverNames = enricher.namesForIP(rec.server.address);
  const [src, dst, srcEp, dstEp, srcNames, dstNames, srcSvc, dstSvc] = response
    ? [rec.server, rec.client, server, client, serverNames, clientNames, serverService, clientService]
    : [rec.client, rec.server, client, server, clientNames, serverNames, clientService, serverService];
  const query = normaliseDnsName(rec.query);
  const qtypes = rec.qtypes.map(dnsTypeName);
  const qtypeText = qtypes.join(',');
  const verdict: Verdict = rec.verdict === 'denied' ? 'DROPPED' : rec.verdict === 'error' ? 'ERROR' : 'FORWARDED';
  const ttl = rec.ttl ?? 0;
  const rcode = rec.rcode ?? 0;
  const ips = rec.ips ?? [];
  const cnames = (rec.cnames ?? []).map(normaliseDnsName);
  const dns = response
    ? { query, ips, ttl, cnames, observation_source: DNS_OBSERVATION_SOURCE_PROXY, rcode, qtypes, rrtypes: (rec.rrtypes ?? []).map(dnsTypeName) }
    : { query, qtypes, observation_source: DNS_OBSERVATION_SOURCE_PROXY };
  const allowedBy: Policy[] | undefined = !response && rec.verdict === 'forwarded' && rec.allowedBy.length
    ? rec.allowedBy.map((o) => {
      const p = decidingPolicy(o);
      return { name: p.name, namespace: p.namespace, kind: p.kind, labels: p.labels };
    })
    : undefined;
  // Hubble's dnsSummary: the addresses quoted, then `CNAMEs: "a,b"`, each only when present.
  const answer = rcode === 0
    ? [...(ips.length ? [JSON.stringify(ips.join(','))] : []), ...(cnames.length ? [`CNAMEs: ${JSON.stringify(cnames.join(','))}`] : [])].join(' ')
    : `RCode: ${dnsRcodeName(rcode)}`;
  return {
    time: timeOfMs(rec.timeMs),
    uuid: uuid(),
    verdict,
    drop_reason: 0,
    IP: { source: src.address, destination: dst.address, ipVersion: src.address.includes(':') ? 'IPv6' : 'IPv4' },
    l4: proto === 'TCP'
      ? { TCP: { source_port: src.port, destination_port: dst.port }, protocol: 'TCP' }
      : { UDP: { source_port: src.port, destination_port: dst.port }, protocol: 'UDP' },
    source: srcEp,
    destination: dstEp,
    Type: 'L7',
    node_name: ctx.nodeName ?? enricher.nodeName,
    ...(srcNames.length ? { source_names: srcNames } : {}),
    ...(dstNames.length ? { destination_names: dstNames } : {}),
    l7: { type: response ? 'RESPONSE' : 'REQUEST', latency_ns: response ? Math.round((rec.latencyMs ?? 0) * 1e6) : 0, dns, record: 'dns' },
    reply: response,
    event_type: EVENT_TYPE,
    ...(srcSvc ? { source_service: srcSvc } : {}),
    ...(dstSvc ? { destination_service: dstSvc } : {}),
    traffic_direction: 'EGRESS',
    policy_match_type: 0,
    is_reply: response ? IS_REPLY_TRUE : IS_REPLY_FALSE,
    ...(allowedBy ? { egress_allowed_by: allowedBy } : {}),
    Summary: response ? `DNS Answer ${answer} TTL: ${ttl} (Proxy ${query} ${qtypeText})` : `DNS Query ${query} ${qtypeText}`,
  };
}

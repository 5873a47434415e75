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
import type { Verdict } from '../../api/generated/flow/Verdict.js';
import { allowingPolicy, l7Exchange, l7Flow, timeOfMs, type L7FlowContext } from '../flows.js';
import { normaliseDnsName } from './pattern.js';
import type { DnsProxyRecord } from './proxy.js';

/** What the converter asks of the agent (as ../http/flows.ts HttpFlowContext). */
export type DnsFlowContext = L7FlowContext;

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

/** The flow of one proxy record (see the file comment for every field). */
export function dnsFlowFromRecord(rec: DnsProxyRecord, ctx: DnsFlowContext): Flow {
  const response = rec.type === 'response';
  const ex = l7Exchange(ctx,
    { ip: rec.client.address, port: rec.client.port, identity: rec.sourceIdentity },
    { ip: rec.server.address, port: rec.server.port, identity: rec.destinationIdentity },
    rec.protocol, 'egress');
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
  const allowedBy = !response && rec.verdict === 'forwarded' ? rec.allowedBy.map(allowingPolicy) : undefined;
  // Hubble's dnsSummary: the addresses quoted, then `CNAMEs: "a,b"`, each only when present.
  const answer = rcode === 0
    ? [...(ips.length ? [JSON.stringify(ips.join(','))] : []), ...(cnames.length ? [`CNAMEs: ${JSON.stringify(cnames.join(','))}`] : [])].join(' ')
    : `RCode: ${dnsRcodeName(rcode)}`;
  return l7Flow(ex, response, {
    time: timeOfMs(rec.timeMs),
    verdict,
    l7: { type: response ? 'RESPONSE' : 'REQUEST', latency_ns: response ? Math.round((rec.latencyMs ?? 0) * 1e6) : 0, dns, record: 'dns' },
    allowedBy,
    Summary: response ? `DNS Answer ${answer} TTL: ${ttl} (Proxy ${query} ${qtypeText})` : `DNS Query ${query} ${qtypeText}`,
  });
}

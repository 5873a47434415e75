/**
 * The DNS proxy's records → L7 flows: every field of the request and
 * response flows of an allowed query, a denied one, an error the proxy
 * answered itself; the proto JSON round trip; what `observe` prints; the
 * `observe --protocol dns` / `--fqdn` filters; Hubble's dns metrics counted
 * from them in a real prom-client registry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromProtoJson, toProtoJson } from '../../api/proto.js';
import { FlowFilterBuilder, type FilterFlag } from '../../cli/observe-filter.js';
import { compileFlowFilters } from '../../observer/filter.js';
import { FlowMetrics } from '../../observer/metrics.js';
import { FlowPrinter } from '../../observer/printer.js';
import type { EndpointInfo, Flow, FlowEnricher } from '../../observer/types.js';
import { MESSAGE_TYPE_ACCESS_LOG } from '../http/flows.js';
import { dnsFlowFromRecord, dnsRcodeName, dnsTypeName } from './flows.js';
import type { DnsProxyRecord } from './proxy.js';
import { l7TestEnricher } from '../../../test/lib/l7-enricher.js';

const WEB: EndpointInfo = {
  id: 301, identity: 31486, namespace: 'default', podName: 'web-0',
  labels: ['k8s:app=web', 'k8s:io.kubernetes.pod.namespace=default'], workloads: [{ name: 'web', kind: 'StatefulSet' }],
};
const KUBE_DNS: EndpointInfo = {
  identity: 50003, namespace: 'kube-system', podName: 'kube-dns-0',
  labels: ['k8s:io.kubernetes.pod.namespace=kube-system', 'k8s:k8s-app=kube-dns'], workloads: [{ name: 'kube-dns', kind: 'Deployment' }],
};

function enricher(): FlowEnricher {
  return l7TestEnricher({
    endpoints: [['10.0.1.10', WEB], ['10.0.2.53', KUBE_DNS]],
    names: [['10.0.2.53', ['kube-dns.kube-system.svc.cluster.local']]],
  });
}

/** 2026-12-06T14:05:22.123Z */
const T_MS = 1796565922123;
const POLICY = { kind: 'CiliumNetworkPolicy' as const, namespace: 'default', name: 'fqdn' };

function rec(over: Partial<DnsProxyRecord<number>> = {}): DnsProxyRecord<number> {
  return {
    type: 'request', timeMs: T_MS, protocol: 'udp',
    client: { address: '10.0.1.10', port: 40000 }, server: { address: '10.0.2.53', port: 53 },
    endpoint: 301, sourceIdentity: 0, destinationIdentity: 0, id: 0x1234,
    query: 'API.example.test.', qtypes: [1], verdict: 'forwarded', allowedBy: [POLICY],
    ...over,
  };
}
const answer = (over: Partial<DnsProxyRecord<number>> = {}) => rec({
  type: 'response', timeMs: T_MS + 3, rcode: 0, ips: ['10.10.0.1', '10.10.0.2'], ttl: 30, cnames: ['Edge.cdn.test.'], rrtypes: [5, 1, 1], latencyMs: 3, ...over,
});

let n = 0;
const convert = (r: DnsProxyRecord<number>) => dnsFlowFromRecord(r, { enricher: enricher(), uuid: () => `uuid-${++n}` });

test('an allowed query: the REQUEST flow client → server with the allowing policy, the RESPONSE flow back with answers, TTL, CNAMEs, latency', () => {
  const req = convert(rec());
  assert.equal(req.verdict, 'FORWARDED');
  assert.deepEqual(req.IP, { source: '10.0.1.10', destination: '10.0.2.53', ipVersion: 'IPv4' });
  assert.deepEqual(req.l4, { UDP: { source_port: 40000, destination_port: 53 }, protocol: 'UDP' });
  assert.deepEqual([req.source?.pod_name, req.source?.identity, req.source?.ID, req.destination?.pod_name], ['web-0', 31486, 301, 'kube-dns-0']);
  assert.deepEqual(req.destination_names, ['kube-dns.kube-system.svc.cluster.local']);
  assert.deepEqual(req.l7, { type: 'REQUEST', latency_ns: 0, dns: { query: 'api.example.test.', qtypes: ['A'], observation_source: 'proxy' }, record: 'dns' });
  assert.deepEqual(req.event_type, { type: MESSAGE_TYPE_ACCESS_LOG, sub_type: 0 });
  assert.deepEqual([req.Type, req.traffic_direction, req.is_reply, req.reply, req.drop_reason, req.node_name], ['L7', 'EGRESS', { value: false }, false, 0, 'kind-worker']);
  assert.deepEqual(req.egress_allowed_by, [{
    name: 'fqdn', namespace: 'default', kind: 'CiliumNetworkPolicy',
    labels: ['k8s:io.cilium.k8s.policy.derived-from=CiliumNetworkPolicy', 'k8s:io.cilium.k8s.policy.name=fqdn', 'k8s:io.cilium.k8s.policy.namespace=default'],
  }]);
  assert.deepEqual(req.time, { seconds: 1796565922, nanos: 123_000_000 });
  assert.equal(req.Summary, 'DNS Query api.example.test. A');

  const res = convert(answer());
  assert.equal(res.verdict, 'FORWARDED');
  assert.deepEqual(res.IP, { source: '10.0.2.53', destination: '10.0.1.10', ipVersion: 'IPv4' });
  assert.deepEqual(res.l4, { UDP: { source_port: 53, destination_port: 40000 }, protocol: 'UDP' });
  assert.deepEqual([res.source?.pod_name, res.destination?.pod_name], ['kube-dns-0', 'web-0']);
  assert.deepEqual(res.source_names, ['kube-dns.kube-system.svc.cluster.local']);
  assert.deepEqual(res.l7, {
    type: 'RESPONSE', latency_ns: 3_000_000, record: 'dns',
    dns: { query: 'api.example.test.', ips: ['10.10.0.1', '10.10.0.2'], ttl: 30, cnames: ['edge.cdn.test.'], observation_source: 'proxy', rcode: 0, qtypes: ['A'], rrtypes: ['CNAME', 'A', 'A'] },
  });
  assert.deepEqual([res.is_reply, res.reply, res.egress_allowed_by], [{ value: true }, true, undefined]);
  assert.deepEqual(res.time, { seconds: 1796565922, nanos: 126_000_000 });
  assert.equal(res.Summary, 'DNS Answer "10.10.0.1,10.10.0.2" CNAMEs: "edge.cdn.test." TTL: 30 (Proxy api.example.test. A)');
  assert.equal(convert(answer({ cnames: [] })).Summary, 'DNS Answer "10.10.0.1,10.10.0.2" TTL: 30 (Proxy api.example.test. A)');
  assert.equal(convert(answer({ cnames: [], ips: [], rcode: 0 })).Summary, 'DNS Answer  TTL: 30 (Proxy api.example.test. A)', "Hubble's empty answer");
  // Over TCP: TCP ports.
  assert.deepEqual(convert(rec({ protocol: 'tcp' })).l4, { TCP: { source_port: 40000, destination_port: 53 }, protocol: 'TCP' });
  // The proxy's identities win over the caches'.
  assert.equal(convert(rec({ sourceIdentity: 777 })).source?.identity, 777);
});

test('a denied query is one REQUEST flow DROPPED naming no policy; an error the proxy answered is ERROR with its RCODE', () => {
  const denied = convert(rec({ query: 'evil.test.', verdict: 'denied', allowedBy: [] }));
  assert.equal(denied.verdict, 'DROPPED');
  assert.equal(denied.drop_reason, 0);
  assert.equal(denied.egress_allowed_by, undefined);
  assert.equal(denied.Summary, 'DNS Query evil.test. A');
  const err = convert(answer({ verdict: 'error', rcode: 2, ips: undefined, ttl: undefined, cnames: undefined, rrtypes: undefined, latencyMs: 10_000, reason: 'upstream timeout' }));
  assert.equal(err.verdict, 'ERROR');
  assert.deepEqual(err.l7?.dns, { query: 'api.example.test.', ips: [], ttl: 0, cnames: [], observation_source: 'proxy', rcode: 2, qtypes: ['A'], rrtypes: [] });
  assert.equal(err.Summary, 'DNS Answer RCode: Server Failure TTL: 0 (Proxy api.example.test. A)');
  const nx = convert(answer({ rcode: 3, ips: [], cnames: [], rrtypes: [], ttl: 0 }));
  assert.equal(nx.Summary, 'DNS Answer RCode: Non-Existent Domain TTL: 0 (Proxy api.example.test. A)');
  assert.deepEqual([dnsTypeName(28), dnsTypeName(65), dnsTypeName(4242), dnsRcodeName(5), dnsRcodeName(99)], ['AAAA', 'HTTPS', 'Unknown', 'Query Refused', 'Unknown']);
});

test('the flows survive the proto JSON round trip', () => {
  const res = convert(answer({ qtypes: [28], ips: ['fd00::1'], rrtypes: [28] }));
  const j = toProtoJson('flow.Flow', res) as Record<string, any>;
  assert.deepEqual(j.l7.dns, { query: 'api.example.test.', ips: ['fd00::1'], ttl: 30, cnames: ['edge.cdn.test.'], observation_source: 'proxy', qtypes: ['AAAA'], rrtypes: ['AAAA'] });
  const back = fromProtoJson('flow.Flow', j) as Flow;
  assert.equal(back.l7?.dns?.query, 'api.example.test.');
  assert.equal(back.l7?.type, 'RESPONSE');
});

test("observe prints Hubble's compact lines for DNS flows", () => {
  const out: string[] = [];
  const p = new FlowPrinter({ output: 'compact', out: (s) => out.push(s), err: () => undefined });
  for (const f of [convert(rec()), convert(answer()), convert(rec({ query: 'evil.test.', verdict: 'denied', allowedBy: [] }))]) p.write({ flow: f, node_name: 'kind-worker', time: f.time });
  assert.equal(out.length, 3);
  assert.match(out[0]!, /default\/web-0:40000 \(ID:31486\) -> kube-system\/kube-dns-0:53 \(ID:50003\) dns-request proxy FORWARDED \(DNS Query api\.example\.test\. A\)\n$/);
  assert.match(out[1]!, /default\/web-0:40000 \(ID:31486\) <- kube-system\/kube-dns-0:53 \(ID:50003\) dns-response proxy FORWARDED \(DNS Answer "10\.10\.0\.1,10\.10\.0\.2" CNAMEs: "edge\.cdn\.test\." TTL: 30 \(Proxy api\.example\.test\. A\)\)\n$/);
  assert.match(out[2]!, /dns-request proxy DROPPED \(DNS Query evil\.test\. A\)\n$/);
});

function observed(flags: [FilterFlag | 'not', string?][], flows: Flow[]): string[] {
  const b = new FlowFilterBuilder();
  for (const [name, value] of flags) b.set(name, value);
  const { whitelist, blacklist } = b.build();
  const match = compileFlowFilters(whitelist, blacklist);
  return flows.filter(match).map((f) => f.Summary ?? '');
}

test('observe --protocol dns and --fqdn select the DNS flows', () => {
  const flows = [convert(rec()), convert(answer()), convert(rec({ query: 'evil.test.', verdict: 'denied', allowedBy: [] }))];
  const udp: Flow = { Type: 'L3_L4', l4: { UDP: { source_port: 40000, destination_port: 53 } }, event_type: { type: 4, sub_type: 0 }, verdict: 'FORWARDED', Summary: 'UDP' };
  assert.equal(observed([['protocol', 'dns']], [...flows, udp]).length, 3);
  assert.equal(observed([['protocol', 'udp']], [...flows, udp]).length, 4, 'DNS flows over UDP are UDP flows too');
  assert.deepEqual(observed([['fqdn', 'kube-dns.kube-system.svc.cluster.local']], flows).length, 3);
  assert.deepEqual(observed([['verdict', 'DROPPED']], flows), ['DNS Query evil.test. A']);
});

test("Hubble's dns metrics from converted flows: queries, responses, response types, a denied query as rcode \"Policy denied\"", async () => {
  const m = new FlowMetrics(['dns:query', 'flow', 'policy']);
  for (const f of [
    convert(rec()), convert(answer()),
    convert(rec({ qtypes: [28] })), convert(answer({ qtypes: [28], ips: ['fd00::1'], cnames: [], rrtypes: [28] })),
    convert(rec({ query: 'evil.test.', verdict: 'denied', allowedBy: [] })),
    convert(answer({ query: 'gone.example.test.', verdict: 'error', rcode: 2, ips: [], cnames: [], rrtypes: [], ttl: 0 })),
  ]) m.process(f);
  const text = await m.metrics();
  const line = (prefix: string) => text.split('\n').find((l) => l.startsWith(prefix))?.split(' ').pop();
  assert.equal(line('hubble_dns_queries_total{rcode="",qtypes="A",ips_returned="0",query="api.example.test."}'), '1');
  assert.equal(line('hubble_dns_queries_total{rcode="",qtypes="AAAA",ips_returned="0",query="api.example.test."}'), '1');
  assert.equal(line('hubble_dns_queries_total{rcode="Policy denied",qtypes="A",ips_returned="0",query="evil.test."}'), '1');
  assert.equal(line('hubble_dns_responses_total{rcode="No Error",qtypes="A",ips_returned="2",query="api.example.test."}'), '1');
  assert.equal(line('hubble_dns_responses_total{rcode="No Error",qtypes="AAAA",ips_returned="1",query="api.example.test."}'), '1');
  assert.equal(line('hubble_dns_responses_total{rcode="Server Failure",qtypes="A",ips_returned="0",query="gone.example.test."}'), '1');
  assert.equal(line('hubble_dns_response_types_total{type="A",qtypes="A",query="api.example.test."}'), '2');
  assert.equal(line('hubble_dns_response_types_total{type="CNAME",qtypes="A",query="api.example.test."}'), '1');
  assert.equal(line('hubble_dns_response_types_total{type="AAAA",qtypes="AAAA",query="api.example.test."}'), '1');
  assert.equal(line('hubble_flows_processed_total{protocol="DNS",type="L7",subtype="DNS",verdict="FORWARDED"}'), '4');
  assert.equal(line('hubble_policy_verdicts_total{direction="egress",match="l7/dns",action="dropped"}'), '1');
});

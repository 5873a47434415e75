/**
 * The node proxy's records → L7 flows: every field of the request and
 * response flows of an allowed and a denied exchange, what `observe` prints
 * for them (Hubble's compact lines), the `observe` HTTP filters from the
 * command-line flags to the compiled predicate, and Hubble's httpV2 metrics
 * counted from them in a real prom-client registry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromProtoJson, toProtoJson, toProtoJsonString } from '../../api/proto.js';
import { FlowFilterBuilder, type FilterFlag } from '../../cli/observe-filter.js';
import { compileFlowFilters } from '../../observer/filter.js';
import { FlowMetrics } from '../../observer/metrics.js';
import { FlowPrinter } from '../../observer/printer.js';
import type { EndpointInfo, Flow, FlowEnricher } from '../../observer/types.js';
import { parseHttpAccessRecord, parseMtlsRefusal, type HttpAccessRecord } from './accesslog.js';
import { httpFlowUrl, httpFlowsFromRecord, mtlsRefusalFlow, parseOriginText, MESSAGE_TYPE_ACCESS_LOG, REDACTED_VALUE } from './flows.js';
import { l7TestEnricher } from '../../../test/lib/l7-enricher.js';

// ---- the agent's caches, as a small cluster answers them

const TIEFIGHTER: EndpointInfo = {
  id: 301,
  identity: 31486,
  namespace: 'default',
  podName: 'tiefighter',
  labels: ['k8s:class=tiefighter', 'k8s:io.kubernetes.pod.namespace=default', 'k8s:org=empire'],
  workloads: [{ name: 'tiefighter', kind: 'Pod' }],
};
const DEATHSTAR: EndpointInfo = {
  id: 302,
  identity: 15266,
  namespace: 'default',
  podName: 'deathstar-c74d84667-cx5kp',
  labels: ['k8s:class=deathstar', 'k8s:io.kubernetes.pod.namespace=default', 'k8s:org=empire'],
  workloads: [{ name: 'deathstar', kind: 'Deployment' }],
};
/** Known to the caches by a stale identity: the proxy's identity must win. */
const XWING: EndpointInfo = { identity: 4000, namespace: 'default', podName: 'xwing', labels: ['k8s:class=xwing', 'k8s:org=alliance'] };

function enricher(): FlowEnricher {
  return l7TestEnricher({
    endpoints: [
      ['10.0.1.10', TIEFIGHTER],
      ['10.0.2.20', DEATHSTAR],
      ['10.0.1.11', XWING],
      ['fd00::10', TIEFIGHTER],
      ['fd00::20', DEATHSTAR],
    ],
    identities: [
      [31486, TIEFIGHTER.labels],
      [15266, DEATHSTAR.labels],
      [30862, ['k8s:class=xwing', 'k8s:io.kubernetes.pod.namespace=default', 'k8s:org=alliance']],
    ],
    services: [{ ip: '10.96.0.80', port: 80, protocol: 'tcp', service: { name: 'deathstar', namespace: 'default' } }],
    names: [['10.0.2.20', ['deathstar.default.svc.cluster.local']]],
  });
}

/** 2026-12-06T14:05:22.123456Z */
const T_US = 1796565922123456;

function record(over: Partial<HttpAccessRecord> = {}): HttpAccessRecord {
  return {
    timeUs: T_US,
    direction: 'ingress',
    srcIp: '10.0.1.10',
    srcPort: 42690,
    dstIp: '10.0.2.20',
    dstPort: 80,
    srcIdentity: 31486,
    dstIdentity: 15266,
    method: 'POST',
    url: '/v1/request-landing',
    protocol: 'HTTP/1.1',
    host: 'deathstar.default.svc.cluster.local',
    status: 200,
    denied: false,
    allowedBy: 'CiliumNetworkPolicy/default/rule1',
    responseMs: 3,
    totalMs: 4,
    termination: '----',
    ...over,
  };
}

let n = 0;
const convert = (r: HttpAccessRecord) => httpFlowsFromRecord(r, { enricher: enricher(), uuid: () => `uuid-${n++}` });

const URL_LANDING = 'http://deathstar.default.svc.cluster.local/v1/request-landing';
const URL_EXHAUST = 'http://deathstar.default.svc.cluster.local/v1/exhaust-port';

const RULE1 = {
  name: 'rule1',
  namespace: 'default',
  kind: 'CiliumNetworkPolicy',
  labels: ['k8s:io.cilium.k8s.policy.derived-from=CiliumNetworkPolicy', 'k8s:io.cilium.k8s.policy.name=rule1', 'k8s:io.cilium.k8s.policy.namespace=default'],
};

const tie = { ID: 301, identity: 31486, namespace: 'default', labels: TIEFIGHTER.labels, pod_name: 'tiefighter', workloads: TIEFIGHTER.workloads };
const ds = { ID: 302, identity: 15266, namespace: 'default', labels: DEATHSTAR.labels, pod_name: 'deathstar-c74d84667-cx5kp', workloads: DEATHSTAR.workloads };

test('an allowed exchange: a REQUEST flow client → server and a RESPONSE flow server → client, every field', () => {
  n = 0;
  const [req, res, ...rest] = convert(record());
  assert.equal(rest.length, 0);
  assert.deepEqual({ ...req, source: { ...req!.source }, destination: { ...req!.destination } }, {
    time: { seconds: 1796565922, nanos: 123456000 },
    uuid: 'uuid-0',
    verdict: 'FORWARDED',
    drop_reason: 0,
    IP: { source: '10.0.1.10', destination: '10.0.2.20', ipVersion: 'IPv4' },
    l4: { TCP: { source_port: 42690, destination_port: 80 }, protocol: 'TCP' },
    source: tie,
    destination: ds,
    Type: 'L7',
    node_name: 'kind-worker',
    destination_names: ['deathstar.default.svc.cluster.local'],
    l7: { type: 'REQUEST', latency_ns: 0, http: { method: 'POST', url: URL_LANDING, protocol: 'HTTP/1.1' }, record: 'http' },
    reply: false,
    event_type: { type: MESSAGE_TYPE_ACCESS_LOG, sub_type: 0 },
    traffic_direction: 'INGRESS',
    policy_match_type: 0,
    is_reply: { value: false },
    ingress_allowed_by: [RULE1],
    Summary: `HTTP/1.1 POST ${URL_LANDING}`,
  });
  assert.deepEqual({ ...res, source: { ...res!.source }, destination: { ...res!.destination } }, {
    time: { seconds: 1796565922, nanos: 126456000 },
    uuid: 'uuid-1',
    verdict: 'FORWARDED',
    drop_reason: 0,
    IP: { source: '10.0.2.20', destination: '10.0.1.10', ipVersion: 'IPv4' },
    l4: { TCP: { source_port: 80, destination_port: 42690 }, protocol: 'TCP' },
    source: ds,
    destination: tie,
    Type: 'L7',
    node_name: 'kind-worker',
    source_names: ['deathstar.default.svc.cluster.local'],
    l7: { type: 'RESPONSE', latency_ns: 3_000_000, http: { code: 200, method: 'POST', url: URL_LANDING, protocol: 'HTTP/1.1' }, record: 'http' },
    reply: true,
    event_type: { type: MESSAGE_TYPE_ACCESS_LOG, sub_type: 0 },
    traffic_direction: 'INGRESS',
    policy_match_type: 0,
    is_reply: { value: true },
    Summary: `HTTP/1.1 200 3ms (POST ${URL_LANDING})`,
  });
});

test('a denied exchange: http-request DROPPED (no drop reason, as Hubble), then the 403 http-response FORWARDED; both name the policies whose rules it failed', () => {
  const [req, res] = convert(record({ method: 'PUT', url: '/v1/exhaust-port', status: 403, denied: true, allowedBy: '', rulesOf: 'CiliumNetworkPolicy/default/rule1', responseMs: 0, totalMs: 0, termination: 'PR--' }));
  assert.equal(req!.verdict, 'DROPPED');
  assert.equal(req!.drop_reason, 0);
  assert.equal(req!.drop_reason_desc, undefined, 'Hubble leaves DROP_REASON_UNKNOWN on L7 flows');
  assert.equal(req!.ingress_allowed_by, undefined);
  const rule1 = [{ name: 'rule1', namespace: 'default', kind: 'CiliumNetworkPolicy', labels: ['k8s:io.cilium.k8s.policy.derived-from=CiliumNetworkPolicy', 'k8s:io.cilium.k8s.policy.name=rule1', 'k8s:io.cilium.k8s.policy.namespace=default'] }];
  assert.deepEqual(req!.ingress_denied_by, rule1);
  assert.deepEqual(res!.ingress_denied_by, rule1);
  // A record of an older configuration (no rulesOf) names none.
  assert.equal(convert(record({ denied: true, status: 403 }))[0]!.ingress_denied_by, undefined);
  // An allowed exchange names no denying policy, whatever rulesOf says.
  assert.equal(convert(record({ rulesOf: 'CiliumNetworkPolicy/default/rule1' }))[0]!.ingress_denied_by, undefined);
  assert.deepEqual(req!.l7, { type: 'REQUEST', latency_ns: 0, http: { method: 'PUT', url: URL_EXHAUST, protocol: 'HTTP/1.1' }, record: 'http' });
  assert.equal(res!.verdict, 'FORWARDED');
  assert.deepEqual(res!.l7!.http, { code: 403, method: 'PUT', url: URL_EXHAUST, protocol: 'HTTP/1.1' });
  assert.equal(res!.Summary, `HTTP/1.1 403 0ms (PUT ${URL_EXHAUST})`);
  // Even with allowedBy filled by mistake, a denied request names no allowing policy.
  assert.equal(convert(record({ denied: true, status: 403 }))[0]!.ingress_allowed_by, undefined);
});

test('egress records: EGRESS flows naming the policy in egress_allowed_by; a Service frontend as destination_service', () => {
  const [req, res] = convert(record({ direction: 'egress', dstIp: '10.96.0.80', allowedBy: 'CiliumClusterwideNetworkPolicy/empire-egress' }));
  assert.equal(req!.traffic_direction, 'EGRESS');
  assert.equal(res!.traffic_direction, 'EGRESS');
  assert.equal(req!.ingress_allowed_by, undefined);
  assert.deepEqual(req!.egress_allowed_by, [
    { name: 'empire-egress', namespace: '', kind: 'CiliumClusterwideNetworkPolicy', labels: ['k8s:io.cilium.k8s.policy.derived-from=CiliumClusterwideNetworkPolicy', 'k8s:io.cilium.k8s.policy.name=empire-egress'] },
  ]);
  assert.deepEqual(req!.destination_service, { name: 'deathstar', namespace: 'default' });
  assert.deepEqual(res!.source_service, { name: 'deathstar', namespace: 'default' });
  assert.equal(res!.destination_service, undefined);
});

test('no response sent (status -1): the request flow only; a proxy-refused request is ERROR; latency falls back to the total', () => {
  const only = convert(record({ status: -1, responseMs: -1, totalMs: 5000, termination: 'CD--' }));
  assert.equal(only.length, 1);
  assert.equal(only[0]!.verdict, 'FORWARDED');
  const [bad, badRes] = convert(record({ method: '', url: '', status: 400, allowedBy: '', responseMs: -1, totalMs: 2, termination: 'PR--' }));
  assert.equal(bad!.verdict, 'ERROR');
  assert.equal(badRes!.verdict, 'FORWARDED');
  assert.equal(badRes!.l7!.latency_ns, 2_000_000);
  assert.equal(badRes!.Summary, 'HTTP/1.1 400 2ms ( )');
  assert.equal(convert(record({ termination: 'IR--', status: 500 }))[0]!.verdict, 'ERROR');
  assert.equal(convert(record({ termination: 'SH--', status: 502 }))[0]!.verdict, 'FORWARDED', 'a server failure was still forwarded');
  // The client timed out (slowloris, 408) or went away before its request was complete: never forwarded.
  assert.equal(convert(record({ method: '', url: '', termination: 'cR--', status: 408, timeUs: 1 }))[0]!.verdict, 'ERROR');
  assert.equal(convert(record({ method: '', url: '', termination: 'CR--', status: 400 }))[0]!.verdict, 'ERROR');
  assert.equal(convert(record({ termination: 'CD--', status: -1 }))[0]!.verdict, 'FORWARDED', 'the client went away while the server answered: it was forwarded');
});

test("identities: the proxy's win over the caches'; 0 keeps the caches'; an unknown address is its identity alone", () => {
  const [req] = convert(record({ srcIp: '10.0.1.11', srcIdentity: 30862 }));
  assert.equal(req!.source!.identity, 30862);
  assert.equal(req!.source!.pod_name, 'xwing');
  assert.deepEqual(req!.source!.labels, ['k8s:class=xwing', 'k8s:io.kubernetes.pod.namespace=default', 'k8s:org=alliance'], "the proxy's identity's labels");
  const [cached] = convert(record({ srcIp: '10.0.1.11', srcIdentity: 0 }));
  assert.equal(cached!.source!.identity, 4000);
  const [world] = convert(record({ srcIp: '203.0.113.9', srcIdentity: 2 }));
  assert.deepEqual({ ...world!.source }, { ID: 0, identity: 2, namespace: '', labels: ['reserved:world'], pod_name: '', workloads: undefined });
});

test('IPv6 records', () => {
  const [req, res] = convert(record({ srcIp: 'fd00::10', dstIp: 'fd00::20' }));
  assert.deepEqual(req!.IP, { source: 'fd00::10', destination: 'fd00::20', ipVersion: 'IPv6' });
  assert.deepEqual(res!.IP, { source: 'fd00::20', destination: 'fd00::10', ipVersion: 'IPv6' });
  assert.equal(req!.source!.pod_name, 'tiefighter');
});

test('URLs as Cilium records them; policy origin text read back', () => {
  assert.equal(httpFlowUrl('web', '/a?b=1'), 'http://web/a?b=1');
  assert.equal(httpFlowUrl('', '/a'), 'http:///a', "Go's url.URL.String() with an empty host");
  assert.equal(httpFlowUrl('web', 'http://other/x'), 'http://other/x', 'absolute form kept');
  assert.equal(httpFlowUrl('web', '*'), '*');
  assert.deepEqual(parseOriginText('CiliumNetworkPolicy/default/rule1'), { kind: 'CiliumNetworkPolicy', namespace: 'default', name: 'rule1' });
  assert.deepEqual(parseOriginText('NetworkPolicy/shop/web'), { kind: 'NetworkPolicy', namespace: 'shop', name: 'web' });
  assert.deepEqual(parseOriginText('CiliumClusterwideNetworkPolicy/all'), { kind: 'CiliumClusterwideNetworkPolicy', name: 'all' });
  assert.deepEqual(parseOriginText('default-allow'), { kind: 'Builtin', name: 'default-allow' });
  assert.equal(parseOriginText('CiliumNetworkPolicy/onlyname'), undefined);
  assert.equal(parseOriginText('Foo/a/b'), undefined);
  assert.equal(parseOriginText(''), undefined);
  // Several origins; text of no known shape is kept as a name without a kind.
  const [req] = convert(record({ allowedBy: 'CiliumNetworkPolicy/default/rule1, Foo/x' }));
  assert.deepEqual(req!.ingress_allowed_by, [RULE1, { name: 'Foo/x', namespace: '', kind: '', labels: [] }]);
});

test('the flows survive the wire: protobuf JSON (export, jsonpb) and back', () => {
  const [req, res] = convert(record());
  const j = toProtoJson('flow.Flow', res!) as Record<string, any>;
  assert.equal(j.Type, 'L7');
  assert.deepEqual(j.event_type, { type: 129 });
  assert.deepEqual(j.l7, { type: 'RESPONSE', latency_ns: '3000000', http: { code: 200, method: 'POST', url: URL_LANDING, protocol: 'HTTP/1.1' } });
  assert.deepEqual(j.is_reply, true);
  const back = fromProtoJson('flow.Flow', toProtoJson('flow.Flow', req!)) as Flow;
  assert.equal(back.l7?.http?.url, URL_LANDING);
  assert.equal(back.ingress_allowed_by?.[0]?.name, 'rule1');
});

test("observe prints Hubble's compact lines: the request ->, the response <- with its status and latency", () => {
  const out: string[] = [];
  const p = new FlowPrinter({ output: 'compact', out: (s) => out.push(s), err: () => undefined });
  for (const f of [...convert(record()), ...convert(record({ method: 'PUT', url: '/v1/exhaust-port', status: 403, denied: true, allowedBy: '', responseMs: 0, termination: 'PR--' }))]) {
    p.write({ flow: f, node_name: 'kind-worker', time: f.time });
  }
  assert.deepEqual(out, [
    `Dec  6 14:05:22.123: default/tiefighter:42690 (ID:31486) -> default/deathstar-c74d84667-cx5kp:80 (ID:15266) http-request FORWARDED (HTTP/1.1 POST ${URL_LANDING})\n`,
    `Dec  6 14:05:22.126: default/tiefighter:42690 (ID:31486) <- default/deathstar-c74d84667-cx5kp:80 (ID:15266) http-response FORWARDED (HTTP/1.1 200 3ms (POST ${URL_LANDING}))\n`,
    `Dec  6 14:05:22.123: default/tiefighter:42690 (ID:31486) -> default/deathstar-c74d84667-cx5kp:80 (ID:15266) http-request DROPPED (HTTP/1.1 PUT ${URL_EXHAUST})\n`,
    `Dec  6 14:05:22.123: default/tiefighter:42690 (ID:31486) <- default/deathstar-c74d84667-cx5kp:80 (ID:15266) http-response FORWARDED (HTTP/1.1 403 0ms (PUT ${URL_EXHAUST}))\n`,
  ]);
});

/** The flows `beeline observe <flags>` lets through, by their Summary. */
function observed(flags: [FilterFlag | 'not', string?][], flows: Flow[]): string[] {
  const b = new FlowFilterBuilder();
  for (const [name, value] of flags) b.set(name, value);
  const { whitelist, blacklist } = b.build();
  const match = compileFlowFilters(whitelist, blacklist);
  return flows.filter(match).map((f) => `${f.l7?.type} ${f.Summary}`);
}

test('observe --protocol http, --http-status, --http-method, --http-path, --http-url on converted flows', () => {
  const flows = [
    ...convert(record()),
    ...convert(record({ method: 'PUT', url: '/v1/exhaust-port', status: 403, denied: true, allowedBy: '', responseMs: 0 })),
    ...convert(record({ method: 'GET', url: '/v1/health?verbose=1', status: 503, responseMs: 12 })),
  ];
  // A datapath flow of the same connection: TCP, not HTTP.
  const tcpFlow: Flow = { Type: 'L3_L4', l4: { TCP: { source_port: 42690, destination_port: 80 } }, event_type: { type: 4, sub_type: 0 }, verdict: 'FORWARDED', Summary: 'TCP Flags: SYN' };
  const all = [...flows, tcpFlow];
  assert.equal(observed([['protocol', 'http']], all).length, 6, 'every L7 HTTP flow, no TCP flow');
  assert.equal(observed([['protocol', 'tcp']], all).length, 7, "Hubble's protocol filter: HTTP flows are TCP too");
  assert.deepEqual(observed([['http-status', '200']], all), [`RESPONSE HTTP/1.1 200 3ms (POST ${URL_LANDING})`]);
  assert.deepEqual(observed([['http-status', '4+']], all), [`RESPONSE HTTP/1.1 403 0ms (PUT ${URL_EXHAUST})`]);
  assert.deepEqual(observed([['http-status', '5+'], ['http-status', '403']], all), [
    `RESPONSE HTTP/1.1 403 0ms (PUT ${URL_EXHAUST})`,
    'RESPONSE HTTP/1.1 503 12ms (GET http://deathstar.default.svc.cluster.local/v1/health?verbose=1)',
  ]);
  assert.deepEqual(observed([['http-status', '50+']], all).length, 1);
  assert.deepEqual(observed([['http-method', 'put']], all), [`REQUEST HTTP/1.1 PUT ${URL_EXHAUST}`, `RESPONSE HTTP/1.1 403 0ms (PUT ${URL_EXHAUST})`]);
  assert.deepEqual(observed([['http-path', '^/v1/(request|health)']], all).length, 4);
  assert.deepEqual(observed([['http-path', 'verbose']], all), [], 'the query is not the path');
  assert.deepEqual(observed([['http-path', '^/v1/exhaust-port$'], ['verdict', 'DROPPED']], all), [`REQUEST HTTP/1.1 PUT ${URL_EXHAUST}`]);
  assert.deepEqual(observed([['http-url', 'verbose=1$']], all).length, 2);
  assert.deepEqual(observed([['protocol', 'http'], ['not'], ['http-method', 'GET']], all).length, 4);
  // --type l7 is Hubble's event type 129.
  assert.equal(observed([['type', 'l7']], all).length, 6);
});

test("Hubble's httpV2 metrics count the response flows: method, protocol, status, reporter and the latency histogram", async () => {
  const m = new FlowMetrics(['httpV2:labelsContext=source_namespace,source_workload,destination_workload,traffic_direction', 'flow', 'policy', 'drop']);
  const flows = [
    ...convert(record()),
    ...convert(record({ responseMs: 40 })),
    ...convert(record({ method: 'PUT', url: '/v1/exhaust-port', status: 403, denied: true, allowedBy: '', responseMs: 0 })),
    ...convert(record({ direction: 'egress', responseMs: 700 })),
    ...convert(record({ status: -1, responseMs: -1 })),
  ];
  for (const f of flows) m.process(f);
  const text = await m.metrics();
  const line = (prefix: string) => text.split('\n').find((l) => l.startsWith(prefix))?.split(' ').pop();
  const ctx = 'source_namespace="default",source_workload="tiefighter",destination_workload="deathstar",traffic_direction';
  assert.equal(line(`hubble_http_requests_total{${ctx}="ingress",method="POST",protocol="HTTP/1.1",status="200",reporter="server"}`), '2');
  assert.equal(line(`hubble_http_requests_total{${ctx}="ingress",method="PUT",protocol="HTTP/1.1",status="403",reporter="server"}`), '1');
  assert.equal(line(`hubble_http_requests_total{${ctx}="egress",method="POST",protocol="HTTP/1.1",status="200",reporter="client"}`), '1');
  assert.equal(text.split('\n').filter((l) => l.startsWith('hubble_http_requests_total{')).length, 3, 'the request without a response is not counted (httpV2 counts responses)');
  assert.equal(line(`hubble_http_request_duration_seconds_bucket{le="0.005",${ctx}="ingress",method="POST",reporter="server"}`), '1');
  assert.equal(line(`hubble_http_request_duration_seconds_bucket{le="0.05",${ctx}="ingress",method="POST",reporter="server"}`), '2');
  assert.ok(Math.abs(Number(line(`hubble_http_request_duration_seconds_sum{${ctx}="ingress",method="POST",reporter="server"}`)) - 0.043) < 1e-9);
  assert.equal(line(`hubble_http_request_duration_seconds_count{${ctx}="egress",method="POST",reporter="client"}`), '1');
  assert.equal(line(`hubble_http_request_duration_seconds_bucket{le="0.5",${ctx}="egress",method="POST",reporter="client"}`), '0');
  assert.equal(line(`hubble_http_request_duration_seconds_bucket{le="1",${ctx}="egress",method="POST",reporter="client"}`), '1');
  // The other families see them as Hubble's L7 flows.
  assert.equal(line('hubble_flows_processed_total{protocol="HTTP",type="L7",subtype="HTTP",verdict="FORWARDED"}'), '8');
  assert.equal(line('hubble_flows_processed_total{protocol="HTTP",type="L7",subtype="HTTP",verdict="DROPPED"}'), '1');
  assert.equal(line('hubble_policy_verdicts_total{direction="ingress",match="l7/http",action="dropped"}'), '1');
  assert.equal(line('hubble_drop_total{reason="DROP_REASON_UNKNOWN",protocol="HTTP"}'), '1');
});

test('headers: the recorded request headers on the request flow (absent ones left out), credentials present as [redacted], none on the response', () => {
  const [req, res] = convert(record({
    headers: [['user-agent', 'curl/7.88.1'], ['content-type', ''], ['x-request-id', 'abc-1'], ['x-has', '"quoted" \\ value']],
    redactedHeaders: [['authorization', '1'], ['cookie', ''], ['x-token', '2']],
  }));
  assert.deepEqual(req!.l7!.http!.headers, [
    { key: 'user-agent', value: 'curl/7.88.1' },
    { key: 'x-request-id', value: 'abc-1' },
    { key: 'x-has', value: '"quoted" \\ value' },
    { key: 'authorization', value: REDACTED_VALUE },
    { key: 'x-token', value: REDACTED_VALUE },
  ]);
  assert.equal(res!.l7!.http!.headers, undefined);
  // Records of an older configuration (no header fields), and records with none present: no list at all.
  assert.equal(convert(record())[0]!.l7!.http!.headers, undefined);
  assert.equal(convert(record({ headers: [['user-agent', '']], redactedHeaders: [['authorization', '']] }))[0]!.l7!.http!.headers, undefined);
  // On the wire (export, jsonpb) as Hubble's HTTPHeader list.
  const json = JSON.parse(toProtoJsonString('flow.Flow', req!)) as { l7: { http: { headers: { key: string; value: string }[] } } };
  assert.deepEqual(json.l7.http.headers[3], { key: 'authorization', value: '[redacted]' });
});

test('parseHttpAccessRecord: header lists must be [name, value] string pairs', () => {
  const base = record();
  assert.deepEqual(parseHttpAccessRecord(JSON.stringify({ ...base, headers: [['a', 'b']], redactedHeaders: [] })).headers, [['a', 'b']]);
  for (const bad of [{ headers: 'x' }, { headers: [['a']] }, { headers: [['a', 1]] }, { redactedHeaders: [['a', 'b', 'c']] }, { redactedHeaders: {} }]) {
    assert.throws(() => parseHttpAccessRecord(JSON.stringify({ ...base, ...bad })), /http access record: (headers|redactedHeaders): /, JSON.stringify(bad));
  }
});

test('mesh records: both flows carry mesh_route (route, rule, backend Service, server, retries); observe prints it; `+` retries and no server read', () => {
  const line = JSON.stringify({ ...record({ direction: 'egress', srcIdentity: 0, dstIdentity: 0, method: 'GET' }), route: 'default/split', ruleIndex: '1', grp: 'bl_mesh_g1', backend: 'default/v2', srv: 's0', srvAddr: '10.0.2.20:8080', rc: 7, st: 200 }).replace('"rc":7', '"rc":+1');
  const rec = parseHttpAccessRecord(line);
  assert.equal(rec.rc, 1, 'a redispatched request prints %rc with +');
  const flows = convert(rec);
  assert.equal(flows.length, 2);
  for (const f of flows) assert.deepEqual(f.mesh_route, { route: 'default/split', rule: 1, backend: 'default/v2', server: '10.0.2.20:8080', retries: 1 });
  // Through the wire format and back: the field survives (beeline's number, 210001).
  assert.deepEqual((fromProtoJson('flow.Flow', toProtoJson('flow.Flow', flows[1])) as Flow).mesh_route, flows[1]!.mesh_route);
  const out: string[] = [];
  const p = new FlowPrinter({ output: 'compact', out: (s) => out.push(s), err: () => undefined });
  for (const f of flows) p.write({ flow: f, node_name: 'n', time: f.time });
  assert.match(out[1]!, / route=default\/split rule=1 backend=v2 server=10\.0\.2\.20:8080 retries=1\n$/);
  // The proxy answered itself (no rule matched): no route, no mesh_route; no server reached: no server.
  assert.equal(convert(parseHttpAccessRecord(JSON.stringify({ ...record(), route: '', ruleIndex: '', backend: '', srvAddr: '-:-', rc: 0 })))[0]!.mesh_route, undefined);
  assert.equal(convert(parseHttpAccessRecord(JSON.stringify({ ...record(), route: 'default/split', ruleIndex: '0', backend: '', srvAddr: '-:-', rc: 0 })))[0]!.mesh_route!.server, '');
  // Policy listeners' records: none.
  assert.equal(convert(record())[0]!.mesh_route, undefined);
});

test('mesh metrics: per route requests by status class, retries and latency from the response flows', async () => {
  const m = new FlowMetrics([]);
  const mesh = { route: 'default/split', ruleIndex: '0', backend: 'default/v2', srvAddr: '10.0.2.20:8080' };
  for (const f of [...convert(record({ ...mesh, rc: 1, status: 200 })), ...convert(record({ ...mesh, rc: 0, status: 503 })), ...convert(record())]) m.process(f);
  const text = await m.metrics();
  assert.match(text, /^beeline_mesh_requests_total\{route="default\/split",rule="0",backend="default\/v2",code_class="2xx"\} 1$/m);
  assert.match(text, /^beeline_mesh_requests_total\{route="default\/split",rule="0",backend="default\/v2",code_class="5xx"\} 1$/m);
  assert.match(text, /^beeline_mesh_retries_total\{route="default\/split",rule="0",backend="default\/v2"\} 1$/m);
  assert.match(text, /^beeline_mesh_request_duration_seconds_count\{route="default\/split",rule="0"\} 2$/m);
});

test('mTLS records: the peer SPIFFE ID on both flows as mesh_tls, through protobuf JSON; a handshake refusal is a DROPPED flow with its reason', () => {
  const peer = 'spiffe://cluster.local/ns/default/sa/tiefighter';
  const [req, res] = convert(record({ mtlsPeer: peer, tlsError: '' }));
  assert.deepEqual(req!.mesh_tls, { peer_spiffe_id: peer, refusal: '' });
  assert.deepEqual(res!.mesh_tls, { peer_spiffe_id: peer, refusal: '' });
  const back = fromProtoJson('flow.Flow', toProtoJson('flow.Flow', req!)) as Flow;
  assert.equal(back.mesh_tls?.peer_spiffe_id, peer);
  // Without a peer (the policy listeners' records) there is no mesh_tls.
  assert.equal(convert(record())[0]!.mesh_tls, undefined);

  const line = '10.0.1.10:40000 [07/Dec/2026:11:38:53.159] bl_mtls_in/1: SSL client certificate not trusted';
  const ref = parseMtlsRefusal(line);
  assert.deepEqual(ref, { srcIp: '10.0.1.10', srcPort: 40000, frontend: 'bl_mtls_in', reason: 'SSL client certificate not trusted' });
  for (const other of ['Proxy bl_mtls_in started.', '10.0.1.10:40000 [x] bl_ingress_15001/1: SSL handshake failure', '{"timeUs":1}', '10.0.1.10:70000 [x] bl_mtls_in/1: x']) assert.equal(parseMtlsRefusal(other), undefined, other);
  const f = mtlsRefusalFlow(ref!, { enricher: enricher(), uuid: () => 'u' }, '192.168.0.2', 15008, T_US);
  assert.equal(f.verdict, 'DROPPED');
  assert.equal(f.traffic_direction, 'INGRESS');
  assert.equal(f.source?.pod_name, 'tiefighter');
  assert.equal(f.IP?.destination, '192.168.0.2');
  assert.deepEqual(f.mesh_tls, { peer_spiffe_id: '', refusal: 'SSL client certificate not trusted' });
  assert.equal(f.Summary, 'mTLS refused: SSL client certificate not trusted');
  assert.throws(() => parseHttpAccessRecord(JSON.stringify({ ...record(), mtlsPeer: 3 })), /mtlsPeer: not a string/);
  const out: string[] = [];
  const p = new FlowPrinter({ output: 'compact', out: (s) => out.push(s), err: () => undefined });
  p.write({ flow: req!, node_name: 'n', time: req!.time });
  assert.match(out.join(''), /http-request FORWARDED \(HTTP\/1\.1 POST .*\) mtls-peer=spiffe:\/\/cluster\.local\/ns\/default\/sa\/tiefighter\n$/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BeelineError, MetricsConfigError, MetricsListenError } from '../common/errors.js';
import { DEFAULT_METRICS, FlowMetrics, icmpTypeName, parseMetricsConfig, startMetricsServer } from './metrics.js';
import type { Flow } from './types.js';

// ---------------------------------------------------------------------------
// Exposition text, parsed
// ---------------------------------------------------------------------------

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** The exemplar text after ` # ` (OpenMetrics). */
  exemplar?: string;
}

function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*?)\})? (\S+)(?: # (.*))?$/.exec(line);
    assert.ok(m, `exposition line does not parse: ${line}`);
    const labels: Record<string, string> = {};
    if (m[3]) {
      for (const l of m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
    }
    out.push({ name: m[1], labels, value: Number(m[4]), exemplar: m[5] });
  }
  return out;
}

/** The samples of one metric, as `{label=value,…} → value` with labels in the order served. */
function series(samples: Sample[], name: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of samples) if (s.name === name) m.set(Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(','), s.value);
  return m;
}

function families(text: string): string[] {
  return [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
}

function httpGet(target: { port: number; host: string } | { socketPath: string }, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ ...target, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

// ---------------------------------------------------------------------------
// Hand-made flows, as the converter makes them (keepCase, enums as names)
// ---------------------------------------------------------------------------

const web = { ID: 101, identity: 50001, namespace: 'shop', pod_name: 'web-7d9f8b6c5-x2x4q', labels: ['k8s:app=web', 'k8s:io.kubernetes.pod.namespace=shop'], workloads: [{ name: 'web', kind: 'Deployment' }] };
const db = { ID: 102, identity: 50002, namespace: 'shop', pod_name: 'db-0', labels: ['k8s:app.kubernetes.io/name=postgres', 'k8s:io.kubernetes.pod.namespace=shop'], workloads: [{ name: 'db', kind: 'StatefulSet' }] };
const world = { identity: 2, labels: ['reserved:world'] };
const host = { identity: 1, labels: ['reserved:host'] };
const ip4 = (source: string, destination: string) => ({ source, destination, ipVersion: 'IPv4' as const });

const tcpSyn: Flow = {
  verdict: 'FORWARDED',
  event_type: { type: 4, sub_type: 0 },
  trace_observation_point: 'TO_ENDPOINT',
  IP: ip4('10.0.1.5', '10.0.1.6'),
  l4: { TCP: { source_port: 40000, destination_port: 5432, flags: { SYN: true } } },
  source: web,
  destination: db,
  is_reply: { value: false },
  traffic_direction: 'INGRESS',
  Type: 'L3_L4',
};
const tcpSynAck: Flow = { ...tcpSyn, IP: ip4('10.0.1.6', '10.0.1.5'), l4: { TCP: { source_port: 5432, destination_port: 40000, flags: { SYN: true, ACK: true } } }, source: db, destination: web, is_reply: { value: true }, traffic_direction: 'EGRESS', event_type: { type: 4, sub_type: 5 } };
const policyDrop: Flow = {
  verdict: 'DROPPED',
  drop_reason: 133,
  drop_reason_desc: 'POLICY_DENIED',
  event_type: { type: 1, sub_type: 133 },
  IP: ip4('10.0.1.5', '10.0.1.6'),
  l4: { TCP: { source_port: 40001, destination_port: 22, flags: { SYN: true } } },
  source: web,
  destination: db,
  is_reply: { value: false },
  traffic_direction: 'INGRESS',
  Type: 'L3_L4',
};
const icmpEcho: Flow = { verdict: 'FORWARDED', event_type: { type: 4, sub_type: 5 }, IP: ip4('10.0.1.5', '10.0.1.6'), l4: { ICMPv4: { type: 8, code: 0 } }, source: web, destination: db, is_reply: { value: false }, traffic_direction: 'EGRESS', Type: 'L3_L4' };
const policyAllow: Flow = { verdict: 'FORWARDED', event_type: { type: 5, sub_type: 0 }, policy_match_type: 2, IP: ip4('10.0.1.5', '10.0.1.6'), l4: { TCP: { source_port: 40000, destination_port: 5432, flags: { SYN: true } } }, source: web, destination: db, is_reply: { value: false }, traffic_direction: 'INGRESS', Type: 'L3_L4' };
const policyFromHost: Flow = { ...policyAllow, source: host, IP: ip4('10.0.1.1', '10.0.1.6') };
const udpDns: Flow = { verdict: 'FORWARDED', event_type: { type: 4, sub_type: 3 }, IP: ip4('10.0.1.5', '10.96.0.10'), l4: { UDP: { source_port: 53000, destination_port: 53 } }, source: web, destination: { identity: 50003, namespace: 'kube-system', pod_name: 'coredns-5d78c9869d-abcde', labels: ['k8s:k8s-app=kube-dns'], workloads: [{ name: 'coredns', kind: 'Deployment' }] }, is_reply: { value: false }, traffic_direction: 'EGRESS', Type: 'L3_L4' };
const dnsQuery: Flow = { verdict: 'FORWARDED', event_type: { type: 129, sub_type: 0 }, Type: 'L7', IP: ip4('10.0.1.5', '10.96.0.10'), l4: { UDP: { source_port: 53000, destination_port: 53 } }, source: web, destination: udpDns.destination, is_reply: { value: false }, traffic_direction: 'EGRESS', l7: { type: 'REQUEST', dns: { query: 'db.shop.svc.cluster.local.', qtypes: ['A'] } } };
const dnsAnswer: Flow = { ...dnsQuery, IP: ip4('10.96.0.10', '10.0.1.5'), source: udpDns.destination, destination: web, is_reply: { value: true }, l7: { type: 'RESPONSE', latency_ns: '1500000', dns: { query: 'db.shop.svc.cluster.local.', qtypes: ['A'], ips: ['10.0.1.6'], rcode: 0, rrtypes: ['A'] } } };
const httpResponse: Flow = {
  verdict: 'FORWARDED',
  event_type: { type: 129, sub_type: 0 },
  Type: 'L7',
  IP: ip4('10.0.1.6', '10.0.1.5'),
  l4: { TCP: { source_port: 8080, destination_port: 40002 } },
  source: db,
  destination: web,
  is_reply: { value: true },
  traffic_direction: 'EGRESS',
  l7: { type: 'RESPONSE', latency_ns: '250000000', http: { code: 200, method: 'GET', url: 'http://db:8080/health', protocol: 'HTTP/1.1' } },
  trace_context: { parent: { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' } },
};
const toWorld: Flow = { verdict: 'FORWARDED', event_type: { type: 4, sub_type: 11 }, IP: ip4('10.0.1.5', '93.184.216.34'), l4: { TCP: { source_port: 41000, destination_port: 443, flags: { SYN: true } } }, source: web, destination: world, is_reply: { value: false }, traffic_direction: 'EGRESS', Type: 'L3_L4' };
const fromWorldReply: Flow = { ...toWorld, IP: ip4('93.184.216.34', '10.0.1.5'), l4: { TCP: { source_port: 443, destination_port: 41000, flags: { SYN: true, ACK: true } } }, source: world, destination: web, is_reply: { value: true } };
const toWorldReply: Flow = { ...toWorld, is_reply: { value: true }, l4: { TCP: { source_port: 41000, destination_port: 443, flags: { ACK: true } } } };
const toWorldNoRoute: Flow = { ...toWorld, verdict: 'DROPPED', drop_reason_desc: 'STALE_OR_UNROUTABLE_IP', event_type: { type: 1, sub_type: 0 } };

const BRIEF_CONFIG = ['dns', 'drop', 'tcp', 'flow', 'port-distribution', 'icmp', 'policy', 'httpV2:exemplars=true;labelsContext=source_ip,source_namespace,source_workload,destination_ip,destination_namespace,destination_workload,traffic_direction', 'flows-to-world'];

test('every family counts hand-made flows with Hubble names, labels and values, served over TCP and a unix socket', async () => {
  const m = new FlowMetrics(BRIEF_CONFIG);
  for (const f of [tcpSyn, tcpSyn, tcpSynAck, policyDrop, icmpEcho, policyAllow, policyFromHost, udpDns, dnsQuery, dnsAnswer, httpResponse, toWorld, fromWorldReply, toWorldReply, toWorldNoRoute]) m.process(f);
  m.observeLost('perf_event_ring_buffer', 7);

  const dir = mkdtempSync(join(tmpdir(), 'bl-metrics-'));
  const server = await startMetricsServer(m, { tcp: { host: '127.0.0.1', port: 0 }, unix: join(dir, 'metrics.sock') });
  try {
    assert.ok(server.tcp && server.tcp.port > 0);
    const viaTcp = await httpGet({ host: '127.0.0.1', port: server.tcp.port }, '/metrics');
    assert.equal(viaTcp.status, 200);
    assert.equal(viaTcp.type, 'text/plain; version=0.0.4; charset=utf-8');
    const s = parseExposition(viaTcp.body);

    assert.deepEqual(
      families(viaTcp.body).filter((f) => f.startsWith('hubble_')),
      [
        'hubble_dns_queries_total counter',
        'hubble_dns_responses_total counter',
        'hubble_dns_response_types_total counter',
        'hubble_drop_total counter',
        'hubble_tcp_flags_total counter',
        'hubble_flows_processed_total counter',
        'hubble_port_distribution_total counter',
        'hubble_icmp_total counter',
        'hubble_policy_verdicts_total counter',
        'hubble_http_requests_total counter',
        'hubble_http_request_duration_seconds histogram',
        'hubble_flows_to_world_total counter',
        'hubble_lost_events_total counter',
      ],
    );

    assert.deepEqual(
      series(s, 'hubble_flows_processed_total'),
      new Map([
        ['protocol=TCP,type=Trace,subtype=to-endpoint,verdict=FORWARDED', 2],
        ['protocol=TCP,type=Trace,subtype=from-endpoint,verdict=FORWARDED', 1],
        ['protocol=TCP,type=Drop,subtype=,verdict=DROPPED', 2],
        ['protocol=ICMPv4,type=Trace,subtype=from-endpoint,verdict=FORWARDED', 1],
        ['protocol=TCP,type=PolicyVerdict,subtype=,verdict=FORWARDED', 2],
        ['protocol=UDP,type=Trace,subtype=to-stack,verdict=FORWARDED', 1],
        ['protocol=DNS,type=L7,subtype=DNS,verdict=FORWARDED', 2],
        ['protocol=HTTP,type=L7,subtype=HTTP,verdict=FORWARDED', 1],
        ['protocol=TCP,type=Trace,subtype=to-network,verdict=FORWARDED', 3],
      ]),
    );
    assert.deepEqual(
      series(s, 'hubble_drop_total'),
      new Map([
        ['reason=POLICY_DENIED,protocol=TCP', 1],
        ['reason=STALE_OR_UNROUTABLE_IP,protocol=TCP', 1],
      ]),
    );
    // Only forwarded flows (traces and policy verdicts alike); SYN+ACK is its
    // own flag; the dropped SYNs are not counted.
    assert.deepEqual(
      series(s, 'hubble_tcp_flags_total'),
      new Map([
        ['flag=SYN,family=IPv4', 5],
        ['flag=SYN-ACK,family=IPv4', 2],
      ]),
    );
    assert.deepEqual(series(s, 'hubble_icmp_total'), new Map([['family=IPv4,type=EchoRequest', 1]]));
    // Requests only (is_reply false), forwarded only.
    assert.deepEqual(
      series(s, 'hubble_port_distribution_total'),
      new Map([
        ['protocol=TCP,port=5432', 4],
        ['protocol=ICMPv4,port=0', 1],
        ['protocol=UDP,port=53', 2],
        ['protocol=TCP,port=443', 1],
      ]),
    );
    // The host's verdict is not counted; the L7 records count as l7/<proto>.
    assert.deepEqual(
      series(s, 'hubble_policy_verdicts_total'),
      new Map([
        ['direction=ingress,match=l3-l4,action=forwarded', 1],
        ['direction=egress,match=l7/dns,action=forwarded', 2],
        ['direction=egress,match=l7/http,action=forwarded', 1],
      ]),
    );
    assert.deepEqual(series(s, 'hubble_dns_queries_total'), new Map([['rcode=,qtypes=A,ips_returned=0', 1]]));
    assert.deepEqual(series(s, 'hubble_dns_responses_total'), new Map([['rcode=No Error,qtypes=A,ips_returned=1', 1]]));
    assert.deepEqual(series(s, 'hubble_dns_response_types_total'), new Map([['type=A,qtypes=A', 1]]));
    // httpV2 counts the response flow from the request's side: web asked db.
    const httpLabels = 'source_ip=10.0.1.5,source_namespace=shop,source_workload=web,destination_ip=10.0.1.6,destination_namespace=shop,destination_workload=db,traffic_direction=egress';
    assert.deepEqual(series(s, 'hubble_http_requests_total'), new Map([[`${httpLabels},method=GET,protocol=HTTP/1.1,status=200,reporter=client`, 1]]));
    assert.equal(series(s, 'hubble_http_request_duration_seconds_count').get(`${httpLabels},method=GET,reporter=client`), 1);
    assert.equal(series(s, 'hubble_http_request_duration_seconds_sum').get(`${httpLabels},method=GET,reporter=client`), 0.25);
    assert.equal(series(s, 'hubble_http_request_duration_seconds_bucket').get(`le=0.1,${httpLabels},method=GET,reporter=client`), 0);
    assert.equal(series(s, 'hubble_http_request_duration_seconds_bucket').get(`le=0.25,${httpLabels},method=GET,reporter=client`), 1);
    // Replies from or to the world and non-policy drops are not counted.
    assert.deepEqual(series(s, 'hubble_flows_to_world_total'), new Map([['protocol=TCP,verdict=FORWARDED', 1]]));
    assert.deepEqual(series(s, 'hubble_lost_events_total'), new Map([['source=perf_event_ring_buffer', 7]]));
    assert.deepEqual(series(s, 'beeline_flows_seen_total'), new Map([['', 15]]));

    // The unix socket serves the same registry; counters stay put between scrapes.
    const viaUnix = await httpGet({ socketPath: join(dir, 'metrics.sock') }, '/metrics');
    assert.equal(viaUnix.status, 200);
    assert.equal(viaUnix.body, viaTcp.body);

    // More flows after a scrape add to the served counters.
    m.process(tcpSyn);
    const again = parseExposition((await httpGet({ socketPath: join(dir, 'metrics.sock') }, '/metrics')).body);
    assert.equal(series(again, 'hubble_flows_processed_total').get('protocol=TCP,type=Trace,subtype=to-endpoint,verdict=FORWARDED'), 3);
    assert.equal(series(again, 'beeline_flows_seen_total').get(''), 16);

    assert.equal((await httpGet({ host: '127.0.0.1', port: server.tcp.port }, '/')).status, 404);
    assert.equal((await httpGet({ host: '127.0.0.1', port: server.tcp.port }, '/metricsx')).status, 404);
    assert.equal((await httpGet({ host: '127.0.0.1', port: server.tcp.port }, '/metrics?x=1')).status, 200);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sourceContext / destinationContext identifiers and their | fallbacks', async () => {
  const label = async (option: string, f: Flow) => {
    const m = new FlowMetrics([`flow:${option}`]);
    m.process(f);
    const [sample, ...rest] = parseExposition(await m.metrics()).filter((x) => x.name === 'hubble_flows_processed_total');
    assert.equal(rest.length, 0);
    return sample.labels;
  };
  const withNames: Flow = { ...toWorld, destination_names: ['example.com', 'www.example.com'] };
  assert.deepEqual(await label('sourceContext=namespace;destinationContext=namespace', tcpSyn), { protocol: 'TCP', type: 'Trace', subtype: 'to-endpoint', verdict: 'FORWARDED', source: 'shop', destination: 'shop' });
  assert.equal((await label('sourceContext=pod', tcpSyn)).source, 'shop/web-7d9f8b6c5-x2x4q');
  assert.equal((await label('sourceContext=pod-name', tcpSyn)).source, 'web-7d9f8b6c5-x2x4q');
  assert.equal((await label('sourceContext=pod-short', tcpSyn)).source, 'shop/web');
  assert.equal((await label('sourceContext=workload', tcpSyn)).source, 'shop/web');
  assert.equal((await label('sourceContext=workload-name', tcpSyn)).source, 'web');
  assert.equal((await label('sourceContext=app', tcpSyn)).source, 'web');
  assert.equal((await label('destinationContext=app', tcpSyn)).destination, 'postgres');
  assert.equal((await label('sourceContext=identity', tcpSyn)).source, 'k8s:app=web,k8s:io.kubernetes.pod.namespace=shop');
  assert.equal((await label('sourceContext=ip', tcpSyn)).source, '10.0.1.5');
  assert.equal((await label('destinationContext=dns', withNames)).destination, 'example.com,www.example.com');
  // Only destination asked: no source label at all.
  assert.deepEqual(Object.keys(await label('destinationContext=ip', tcpSyn)), ['protocol', 'type', 'subtype', 'verdict', 'destination']);

  // Fallbacks: the first non-empty identifier wins.
  assert.equal((await label('destinationContext=workload-name|reserved-identity', tcpSyn)).destination, 'db');
  assert.equal((await label('destinationContext=workload-name|reserved-identity', toWorld)).destination, 'reserved:world');
  assert.equal((await label('destinationContext=pod|reserved-identity', toWorld)).destination, 'reserved:world');
  assert.equal((await label('destinationContext=dns|ip', toWorld)).destination, '93.184.216.34');
  assert.equal((await label('destinationContext=dns|ip', withNames)).destination, 'example.com,www.example.com');
  assert.equal((await label('destinationContext=pod', toWorld)).destination, '');
  // reserved:kube-apiserver wins over the other reserved labels.
  assert.equal((await label('destinationContext=reserved-identity', { ...toWorld, destination: { identity: 7, labels: ['reserved:world', 'reserved:kube-apiserver'] } })).destination, 'reserved:kube-apiserver');

  // Per-direction contexts override the plain one for their direction.
  const dirOpt = 'sourceContext=namespace;sourceIngressContext=pod-name';
  assert.equal((await label(dirOpt, tcpSyn)).source, 'web-7d9f8b6c5-x2x4q'); // INGRESS
  assert.equal((await label(dirOpt, icmpEcho)).source, 'shop'); // EGRESS

  // labelsContext puts each value in its own label, in Hubble's order, even when empty.
  assert.deepEqual(await label('labelsContext=traffic_direction,source_app,destination_pod,source_workload_kind', toWorld), { protocol: 'TCP', type: 'Trace', subtype: 'to-network', verdict: 'FORWARDED', source_workload_kind: 'Deployment', source_app: 'web', destination_pod: '', traffic_direction: 'egress' });
});

test('context labels go before the drop and dns labels, as Hubble orders them', async () => {
  const m = new FlowMetrics(['drop:sourceContext=workload-name|reserved-identity;destinationContext=workload-name|reserved-identity', 'dns:query;ignoreAAAA;destinationContext=namespace']);
  m.process(policyDrop);
  m.process({ ...policyDrop, source: host });
  m.process(dnsQuery);
  m.process({ ...dnsQuery, l7: { type: 'REQUEST', dns: { query: 'db.shop.svc.cluster.local.', qtypes: ['AAAA'] } } });
  m.process({ ...dnsQuery, verdict: 'DROPPED', drop_reason_desc: 'POLICY_DENIED' });
  const s = parseExposition(await m.metrics());
  assert.deepEqual(
    series(s, 'hubble_drop_total'),
    new Map([
      ['source=web,destination=db,reason=POLICY_DENIED,protocol=TCP', 1],
      ['source=reserved:host,destination=db,reason=POLICY_DENIED,protocol=TCP', 1],
      ['source=web,destination=coredns,reason=POLICY_DENIED,protocol=DNS', 1],
    ]),
  );
  assert.deepEqual(
    series(s, 'hubble_dns_queries_total'),
    new Map([
      ['destination=kube-system,rcode=,qtypes=A,ips_returned=0,query=db.shop.svc.cluster.local.', 1],
      ['destination=kube-system,rcode=Policy denied,qtypes=A,ips_returned=0,query=db.shop.svc.cluster.local.', 1],
    ]),
  );
});

test('flows-to-world options: port, syn-only, any-drop', async () => {
  const m = new FlowMetrics(['flows-to-world:port;syn-only;any-drop;destinationContext=reserved-identity']);
  m.process(toWorld);
  m.process({ ...toWorld, l4: { TCP: { source_port: 41000, destination_port: 443, flags: { ACK: true } } } }); // not a SYN
  m.process({ ...toWorld, l4: { UDP: { source_port: 41000, destination_port: 53 } } }); // syn-only drops non-TCP too
  m.process(toWorldNoRoute); // any-drop: counted
  assert.deepEqual(
    series(parseExposition(await m.metrics()), 'hubble_flows_to_world_total'),
    new Map([
      ['protocol=TCP,verdict=FORWARDED,port=443,destination=reserved:world', 1],
      ['protocol=TCP,verdict=DROPPED,port=443,destination=reserved:world', 1],
    ]),
  );
});

test('http (v1) counts requests and responses without inverting the context', async () => {
  const m = new FlowMetrics(['http:sourceContext=workload-name;destinationContext=workload-name']);
  const req: Flow = { ...httpResponse, IP: ip4('10.0.1.5', '10.0.1.6'), source: web, destination: db, is_reply: { value: false }, l7: { type: 'REQUEST', http: { method: 'POST', url: 'http://db:8080/q', protocol: 'HTTP/2' } } };
  m.process(req);
  m.process(httpResponse);
  const s = parseExposition(await m.metrics());
  assert.deepEqual(series(s, 'hubble_http_requests_total'), new Map([['source=web,destination=db,method=POST,protocol=HTTP/2,reporter=client', 1]]));
  assert.deepEqual(series(s, 'hubble_http_responses_total'), new Map([['source=db,destination=web,method=GET,protocol=HTTP/1.1,status=200,reporter=client', 1]]));
});

test('httpV2 exemplars carry the trace id when served as OpenMetrics', async () => {
  const m = new FlowMetrics(['httpV2:exemplars=true;sourceContext=workload-name'], { openMetrics: true });
  m.process(httpResponse);
  m.process(httpResponse);
  const dir = mkdtempSync(join(tmpdir(), 'bl-metrics-'));
  const server = await startMetricsServer(m, { unix: join(dir, 'm.sock') });
  try {
    const r = await httpGet({ socketPath: join(dir, 'm.sock') }, '/metrics');
    assert.equal(r.type, 'application/openmetrics-text; version=1.0.0; charset=utf-8');
    assert.ok(r.body.endsWith('# EOF\n'));
    const s = parseExposition(r.body).filter((x) => x.name === 'hubble_http_requests_total');
    assert.equal(s.length, 1);
    assert.deepEqual(s[0].labels, { source: 'web', method: 'GET', protocol: 'HTTP/1.1', status: '200', reporter: 'client' });
    assert.equal(s[0].value, 2);
    assert.match(s[0].exemplar ?? '', /^\{traceID="4bf92f3577b34da6a3ce929d0e0e4736"\} 1 \d/);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('deletePodSeries forgets the series that name a deleted pod, and only those', async () => {
  const m = new FlowMetrics(['flow:sourceContext=pod;destinationContext=namespace', 'httpV2:labelsContext=source_namespace,source_pod,destination_namespace,destination_pod', 'tcp']);
  m.process(tcpSyn); // web -> db
  m.process(tcpSynAck); // db -> web
  m.process(httpResponse); // request web -> db
  await m.metrics(); // some counts already handed to prom-client, some not
  m.process(tcpSynAck);
  assert.equal(m.deletePodSeries('shop', 'web-7d9f8b6c5-x2x4q'), 3);
  const s = parseExposition(await m.metrics());
  assert.deepEqual(
    series(s, 'hubble_flows_processed_total'),
    new Map([
      ['protocol=TCP,type=Trace,subtype=from-endpoint,verdict=FORWARDED,source=shop/db-0,destination=shop', 2],
      ['protocol=HTTP,type=L7,subtype=HTTP,verdict=FORWARDED,source=shop/db-0,destination=shop', 1],
    ]),
  );
  assert.equal(series(s, 'hubble_http_requests_total').size, 0);
  assert.equal(series(s, 'hubble_http_request_duration_seconds_count').size, 0);
  // No context that names pods: tcp keeps its series.
  assert.equal(series(s, 'hubble_tcp_flags_total').size, 2);
  // The remaining series keep counting; the pod's come back if it sends again.
  m.process(tcpSynAck);
  m.process(tcpSyn);
  const t = series(parseExposition(await m.metrics()), 'hubble_flows_processed_total');
  assert.equal(t.get('protocol=TCP,type=Trace,subtype=from-endpoint,verdict=FORWARDED,source=shop/db-0,destination=shop'), 3);
  assert.equal(t.get('protocol=TCP,type=Trace,subtype=to-endpoint,verdict=FORWARDED,source=shop/web-7d9f8b6c5-x2x4q,destination=shop'), 1);
  assert.equal(m.deletePodSeries('other', 'db-0'), 0);
});

test('ICMP type names are gopacket\'s, as Hubble prints them', () => {
  assert.equal(icmpTypeName(false, 8, 0), 'EchoRequest');
  assert.equal(icmpTypeName(false, 0, 0), 'EchoReply');
  assert.equal(icmpTypeName(false, 3, 3), 'DestinationUnreachable(Port)');
  assert.equal(icmpTypeName(false, 3, 99), 'DestinationUnreachable(Code: 99)');
  assert.equal(icmpTypeName(false, 8, 1), 'EchoRequest(Code: 1)');
  assert.equal(icmpTypeName(false, 200, 4), '200(4)');
  assert.equal(icmpTypeName(true, 128, 0), 'EchoRequest');
  assert.equal(icmpTypeName(true, 1, 4), 'DestinationUnreachable(PortUnreachable)');
  assert.equal(icmpTypeName(true, 135, 0), 'NeighborSolicitation');
});

test('enums given as numbers read like their names', async () => {
  const m = new FlowMetrics(['flow', 'drop', 'tcp']);
  m.process({ ...policyDrop, verdict: 2, drop_reason_desc: 133, traffic_direction: 1 });
  m.process({ ...tcpSyn, verdict: 1, IP: { source: '10.0.1.5', destination: '10.0.1.6', ipVersion: 1 } });
  const s = parseExposition(await m.metrics());
  assert.deepEqual(series(s, 'hubble_drop_total'), new Map([['reason=POLICY_DENIED,protocol=TCP', 1]]));
  assert.deepEqual(series(s, 'hubble_tcp_flags_total'), new Map([['flag=SYN,family=IPv4', 1]]));
});

test('agent health: read at scrape from the agent, or pushed with setters', async () => {
  let maps = [
    { name: 'bl_ct4_global', entries: 512, maxEntries: 2048 },
    { name: 'bl_policy_00101', entries: 3, maxEntries: 16384 },
  ];
  let up = true;
  let endpoints = 4;
  let mapReads = 0;
  const m = new FlowMetrics(['flow'], {
    health: {
      maps: () => {
        mapReads++;
        return maps;
      },
      kvstoreUp: () => up,
      endpoints: () => endpoints,
    },
  });
  m.observePolicyRegeneration(0.004);
  m.observePolicyRegeneration(0.02);
  m.observeFqdnDatapathUpdate(0.0014);
  m.observeFqdnDatapathUpdate(0.0049);
  m.observeFqdnDatapathUpdate(0.006);
  m.observeLost('observer_events_queue', 2);
  m.observeLost('observer_events_queue', 3);
  m.observeLost('hubble_ring_buffer', 0);
  let s = parseExposition(await m.metrics());
  assert.deepEqual(
    series(s, 'beeline_bpf_map_pressure'),
    new Map([
      ['map_name=bl_ct4_global', 0.25],
      ['map_name=bl_policy_00101', 3 / 16384],
    ]),
  );
  assert.equal(series(s, 'beeline_bpf_map_entries').get('map_name=bl_ct4_global'), 512);
  assert.equal(series(s, 'beeline_bpf_map_capacity').get('map_name=bl_ct4_global'), 2048);
  assert.equal(series(s, 'beeline_kvstore_up').get(''), 1);
  assert.equal(series(s, 'beeline_endpoints').get(''), 4);
  assert.equal(series(s, 'beeline_policy_regeneration_seconds_count').get(''), 2);
  assert.equal(series(s, 'beeline_policy_regeneration_seconds_bucket').get('le=0.005'), 1);
  // The DNS proxy's answer → datapath times, in buckets fine enough to judge a 5 ms goal.
  assert.equal(series(s, 'beeline_fqdn_datapath_update_seconds_count').get(''), 3);
  assert.equal(series(s, 'beeline_fqdn_datapath_update_seconds_bucket').get('le=0.001'), 0);
  assert.equal(series(s, 'beeline_fqdn_datapath_update_seconds_bucket').get('le=0.002'), 1);
  assert.equal(series(s, 'beeline_fqdn_datapath_update_seconds_bucket').get('le=0.005'), 2);
  assert.equal(series(s, 'beeline_fqdn_datapath_update_seconds_bucket').get('le=0.0075'), 3);
  assert.deepEqual(series(s, 'hubble_lost_events_total'), new Map([['source=observer_events_queue', 5]]));
  assert.equal(mapReads, 1, 'the agent is asked for its maps once per scrape');

  // The agent's state changes; the next scrape sees it, with no timer in between.
  maps = [{ name: 'bl_ct4_global', entries: 2048, maxEntries: 2048 }];
  up = false;
  endpoints = 3;
  s = parseExposition(await m.metrics());
  assert.deepEqual(series(s, 'beeline_bpf_map_pressure'), new Map([['map_name=bl_ct4_global', 1]]));
  assert.equal(series(s, 'beeline_bpf_map_entries').size, 1);
  assert.equal(mapReads, 2);
  assert.equal(series(s, 'beeline_kvstore_up').get(''), 0);
  assert.equal(series(s, 'beeline_endpoints').get(''), 3);

  const pushed = new FlowMetrics(['flow']);
  pushed.setMaps([{ name: 'bl_lb4_services', entries: 10, maxEntries: 40 }]);
  pushed.setKvstoreUp(true);
  pushed.setEndpoints(9);
  s = parseExposition(await pushed.metrics());
  assert.deepEqual(series(s, 'beeline_bpf_map_pressure'), new Map([['map_name=bl_lb4_services', 0.25]]));
  assert.equal(series(s, 'beeline_kvstore_up').get(''), 1);
  assert.equal(series(s, 'beeline_endpoints').get(''), 9);
});

test('map entry counts are cached: the maps are walked at most once per mapsMaxAgeMs, however many scrapes', async () => {
  // A datapath whose info({ countEntries: true }) is the expensive walk: every call counted.
  const datapath = {
    walks: 0,
    ct: 100,
    info(opts: { countEntries?: boolean } = {}) {
      if (opts.countEntries) this.walks++;
      return { maps: [{ name: 'bl_ct4_global', maxEntries: 1000, ...(opts.countEntries ? { entries: this.ct } : {}) }] };
    },
  };
  let clock = 1_000_000;
  const m = new FlowMetrics(['flow'], {
    mapsMaxAgeMs: 10_000,
    now: () => clock,
    health: { maps: () => datapath.info({ countEntries: true }).maps.map((x) => ({ name: x.name, entries: x.entries ?? 0, maxEntries: x.maxEntries })) },
  });
  const entries = async () => series(parseExposition(await m.metrics()), 'beeline_bpf_map_entries').get('map_name=bl_ct4_global');

  assert.equal(await entries(), 100);
  assert.equal(datapath.walks, 1, 'one scrape, three map gauges: one walk');
  datapath.ct = 200;
  clock += 9_999;
  assert.equal(await entries(), 100, 'within the interval a scrape reads the cached counts');
  // Two scrapers at once, still within the interval.
  const [a, b] = await Promise.all([m.metrics(), m.metrics()]);
  assert.equal(series(parseExposition(a), 'beeline_bpf_map_entries').get('map_name=bl_ct4_global'), 100);
  assert.equal(series(parseExposition(b), 'beeline_bpf_map_entries').get('map_name=bl_ct4_global'), 100);
  assert.equal(datapath.walks, 1, 'four scrapes within 10 s: one walk');

  clock += 1;
  assert.equal(await entries(), 200, 'once the counts are mapsMaxAgeMs old the next scrape walks again');
  assert.equal(datapath.walks, 2);
  assert.equal(await entries(), 200);
  assert.equal(datapath.walks, 2);
});

test('bad metrics options: MetricsConfigError with a stable code and the option quoted', () => {
  const bad: [string[] | string, RegExp][] = [
    [['flow', 'flws'], /hubble metrics "flws": metric 'flws' does not exist/],
    [['kafka'], /metric 'kafka' is Hubble's but beeline does not serve it yet/],
    [['flow:sourceContext=podd'], /"flow:sourceContext=podd": sourceContext: unknown context 'podd'/],
    [['flow:sourceContext=pod|'], /unknown context ''/],
    [['drop:labelsContext=source_pod,source_node'], /invalid labelsContext value 'source_node'/],
    [['tcp:port'], /metric 'tcp' has no option 'port'/],
    [['httpV2:exemplars=yes'], /option exemplars must be true or false, not 'yes'/],
    [['http', 'httpV2'], /plugin httpV2 conflicts with plugin http/],
    [['flow', 'flow:sourceContext=pod'], /metric 'flow' is given twice/],
    ['dns drop  flow:sourceContext=bogus', /"flow:sourceContext=bogus"/],
  ];
  for (const [config, message] of bad) {
    assert.throws(
      () => new FlowMetrics(config),
      (e: unknown) => {
        assert.ok(e instanceof MetricsConfigError, `${String(config)}: ${String(e)}`);
        assert.ok(e instanceof BeelineError);
        assert.equal(e.code, 'BL_ERR_METRICS_CONFIG');
        assert.match(e.message, message);
        return true;
      },
    );
  }
  // The hint lists what is allowed.
  assert.throws(() => parseMetricsConfig(['flow:sourceContext=podd']), (e: MetricsConfigError) => /workload-name/.test(e.hint ?? ''));
  // Hubble's syntax: space-separated string, case-insensitive keys and identifiers.
  const specs = parseMetricsConfig('dns:query;ignoreAAAA  flow:SourceContext=Pod|IP');
  assert.deepEqual(
    specs.map((x) => x.name),
    ['dns', 'flow'],
  );
  assert.deepEqual(specs[1].context.source, ['pod', 'ip']);
  assert.deepEqual([...specs[0].flags], ['query', 'ignoreaaaa']);
  assert.equal(parseMetricsConfig(DEFAULT_METRICS).length, DEFAULT_METRICS.length);
});

test('a failing agent hook answers 500 with the reason; other methods 405', async () => {
  const m = new FlowMetrics(['flow'], {
    health: {
      endpoints: () => {
        throw new Error('endpoint manager not started');
      },
    },
  });
  const server = await startMetricsServer(m, { tcp: { host: '127.0.0.1', port: 0 } });
  try {
    const r = await httpGet({ host: '127.0.0.1', port: server.tcp!.port }, '/metrics');
    assert.equal(r.status, 500);
    assert.match(r.body, /endpoint manager not started/);
    const post = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.tcp!.port, path: '/metrics', method: 'POST' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(post, 405);
  } finally {
    await server.close();
  }
});

test('a taken port: MetricsListenError naming the address', async () => {
  const m = new FlowMetrics(['flow']);
  const a = await startMetricsServer(m, { tcp: { host: '127.0.0.1', port: 0 } });
  try {
    await assert.rejects(startMetricsServer(m, { tcp: { host: '127.0.0.1', port: a.tcp!.port } }), (e: unknown) => e instanceof MetricsListenError && e.code === 'BL_ERR_METRICS_LISTEN' && e.message.includes(`127.0.0.1:${a.tcp!.port}`));
  } finally {
    await a.close();
  }
});

test('throughput of process() with the default families (reported, loosely bounded)', async (t) => {
  const m = new FlowMetrics(DEFAULT_METRICS);
  const mix = [tcpSyn, tcpSynAck, policyDrop, icmpEcho, policyAllow, udpDns, dnsQuery, dnsAnswer, httpResponse, toWorld];
  // Distinct pods so series lookups are not all one path.
  const flows: Flow[] = [];
  for (let i = 0; i < 2000; i++) {
    const base = mix[i % mix.length];
    flows.push({ ...base, source: base.source && { ...base.source, namespace: `ns${i % 20}`, pod_name: `pod-${i % 100}` } });
  }
  for (const f of flows) m.process(f); // warm up
  const rounds = 100;
  const start = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) for (const f of flows) m.process(f);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const rate = (rounds * flows.length) / seconds;
  t.diagnostic(`process(): ${Math.round(rate).toLocaleString('en-US')} flows/s with the default families (${flows.length * rounds} flows in ${seconds.toFixed(2)} s)`);
  // The counts reach the scrape intact.
  const s = parseExposition(await m.metrics());
  assert.equal(series(s, 'beeline_flows_seen_total').get(''), flows.length * (rounds + 1));
  assert.ok(rate > 20_000, `process() handles only ${Math.round(rate)} flows/s`);
});

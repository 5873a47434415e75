import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Flow } from '../api/generated/flow/Flow.js';
import type { Endpoint } from '../api/generated/flow/Endpoint.js';
import type { MapEdge } from '../api/generated/servicemap/MapEdge.js';
import { buildServiceMap, percentile, ServiceMapBuilder } from './servicemap.js';

const S = 1_000_000_000n;
const T0 = 1_800_000_000n * S;

function at(ns: bigint) {
  return { seconds: String(ns / S), nanos: Number(ns % S) };
}

const pod = (ns: string, name: string, workload?: string, identity = 1000, labels: string[] = []): Endpoint => ({
  namespace: ns,
  pod_name: name,
  identity,
  labels: [`k8s:io.kubernetes.pod.namespace=${ns}`, ...labels],
  workloads: workload ? [{ name: workload, kind: 'Deployment' }] : [],
});
const reserved = (name: string, identity: number, extra: string[] = []): Endpoint => ({ identity, labels: [`reserved:${name}`, ...extra] });

const web1 = pod('shop', 'web-6d9f-abcde', 'web', 1001, ['k8s:app=web']);
const web2 = pod('shop', 'web-6d9f-fghij', 'web', 1001, ['k8s:app=web']);
const api = pod('shop', 'api-7c4b-xyz12', 'api', 1002, ['k8s:app=api']);
const lonely = pod('tools', 'debug', undefined, 1003);

let sport = 30000;
/** A TCP packet from src to dst (a SYN unless flags say otherwise). */
function tcp(src: Endpoint, dst: Endpoint, dport: number, o: Partial<Flow> & { flags?: Record<string, boolean>; t?: bigint; sport?: number } = {}): Flow {
  const { flags, t, sport: sp, ...rest } = o;
  return {
    time: at(t ?? T0),
    verdict: 'FORWARDED',
    source: src,
    destination: dst,
    IP: { source: `10.0.0.${src.identity! % 250}`, destination: `10.0.1.${dst.identity! % 250}` },
    l4: { TCP: { source_port: sp ?? sport++, destination_port: dport, flags: flags ?? { SYN: true } } },
    trace_reason: 'NEW',
    is_reply: { value: false },
    ...rest,
  };
}

function edge(edges: MapEdge[], id: string): MapEdge {
  const e = edges.find((x) => x.id === id);
  assert.ok(e, `no edge ${id}; edges: ${edges.map((x) => x.id).join(', ')}`);
  return e;
}

test('pods are grouped by workload, else by pod; ids are kind/namespace/name', () => {
  const m = buildServiceMap([tcp(web1, api, 8080), tcp(web2, api, 8080), tcp(lonely, api, 8080)]);
  assert.deepEqual(m.nodes!.map((n) => [n.id, n.kind, n.name, n.namespace]), [
    ['workload/shop/api', 'WORKLOAD', 'api', 'shop'],
    ['workload/shop/web', 'WORKLOAD', 'web', 'shop'],
    ['workload/tools/debug', 'WORKLOAD', 'debug', 'tools'],
  ]);
  assert.deepEqual(m.nodes!.find((n) => n.id === 'workload/shop/web')!.identities, [1001]);
  assert.deepEqual(m.nodes!.find((n) => n.id === 'workload/shop/web')!.labels, ['k8s:app=web']);
  const e = edge(m.edges!, 'workload/shop/web>workload/shop/api:tcp/8080');
  assert.equal(e.flows, '2');
  assert.equal(e.forwarded, '2');
  assert.equal(m.flows, '3');
});

test('a Service in the path: client → Service → backend', () => {
  const m = buildServiceMap([tcp(web1, api, 8080, { destination_service: { name: 'api', namespace: 'shop' } })]);
  assert.ok(m.nodes!.some((n) => n.id === 'service/shop/api' && n.kind === 'SERVICE'));
  assert.equal(edge(m.edges!, 'workload/shop/web>service/shop/api:tcp/8080').flows, '1');
  assert.equal(edge(m.edges!, 'service/shop/api>workload/shop/api:tcp/8080').flows, '1');
});

test('reserved identities, FQDNs and bare addresses', () => {
  const world = reserved('world', 2);
  const flows: Flow[] = [
    tcp(web1, world, 443),
    tcp(web1, world, 443, { destination_names: ['api.example.com'] }),
    tcp(reserved('host', 1), api, 8080),
    tcp(web1, reserved('kube-apiserver', 7, ['reserved:host']), 6443),
    tcp(web1, { identity: 16777217, labels: ['cidr:192.0.2.0/24'] }, 80, { IP: { source: '10.0.0.1', destination: '192.0.2.9' } }),
  ];
  const m = buildServiceMap(flows);
  const kinds = Object.fromEntries(m.nodes!.map((n) => [n.id, n.kind]));
  assert.equal(kinds['reserved//world'], 'RESERVED');
  assert.equal(kinds['fqdn//api.example.com'], 'FQDN');
  assert.equal(kinds['reserved//host'], 'RESERVED');
  assert.equal(kinds['reserved//kube-apiserver'], 'RESERVED', 'kube-apiserver wins over host');
  assert.equal(kinds['ip//192.0.2.9'], 'IP');
  assert.equal(edge(m.edges!, 'workload/shop/web>reserved//world:tcp/443').flows, '1');
  assert.equal(edge(m.edges!, 'workload/shop/web>fqdn//api.example.com:tcp/443').flows, '1');
  assert.equal(edge(m.edges!, 'reserved//host>workload/shop/api:tcp/8080').flows, '1');
});

test('connections, not packets: one SYN seen twice, replies and established packets count nothing; drops always count', () => {
  const syn = tcp(web1, api, 8080, { sport: 40000 });
  const flows: Flow[] = [
    syn,
    { ...syn, trace_observation_point: 'TO_ENDPOINT' }, // the same SYN on the destination node
    { ...syn, event_type: { type: 5 } }, // its policy verdict
    tcp(api, web1, 40000, { sport: 8080, flags: { SYN: true, ACK: true }, is_reply: { value: true }, trace_reason: 'REPLY', t: T0 + 1000n }),
    tcp(web1, api, 8080, { sport: 40000, flags: { ACK: true }, trace_reason: 'ESTABLISHED', t: T0 + 2000n }),
    tcp(web1, api, 8080, { sport: 40000, t: T0 + 11n * S }), // the same 5-tuple, a new connection 11 s later
    tcp(web1, api, 8080, { verdict: 'DROPPED', drop_reason_desc: 'POLICY_DENIED', t: T0 + 12n * S }),
    tcp(web1, api, 8080, { verdict: 'DROPPED', drop_reason_desc: 'POLICY_DENIED', t: T0 + 13n * S }),
    tcp(web1, api, 8080, { verdict: 'AUDIT', t: T0 + 14n * S }),
    // UDP: the first packet counts, the rest of the flow does not.
    { ...tcp(web1, api, 53), l4: { UDP: { source_port: 5353, destination_port: 53 } }, trace_reason: 'NEW' },
    { ...tcp(web1, api, 53), l4: { UDP: { source_port: 5353, destination_port: 53 } }, trace_reason: 'ESTABLISHED' },
  ];
  const m = buildServiceMap(flows);
  const e = edge(m.edges!, 'workload/shop/web>workload/shop/api:tcp/8080');
  assert.deepEqual([e.flows, e.forwarded, e.dropped, e.audit], ['5', '2', '2', '1']);
  assert.deepEqual(e.drop_reasons, ['POLICY_DENIED']);
  assert.deepEqual(e.last_seen, at(T0 + 14n * S));
  assert.equal(edge(m.edges!, 'workload/shop/web>workload/shop/api:udp/53').flows, '1');
  // The reply made no edge of its own the other way.
  assert.ok(!m.edges!.some((x) => x.source_id === 'workload/shop/api'));
});

test('HTTP: requests, status classes and latency percentiles on the client → server edge', () => {
  const flows: Flow[] = [];
  const codes = [200, 201, 204, 301, 404, 503];
  for (let i = 1; i <= 100; i++) {
    const sp = 50000 + i;
    flows.push(tcp(web1, api, 8080, { sport: sp, Type: 'L7', l7: { type: 'REQUEST', http: { method: 'GET', url: '/x' } } }));
    flows.push(
      tcp(api, web1, sp, {
        sport: 8080,
        Type: 'L7',
        is_reply: { value: true },
        l7: { type: 'RESPONSE', latency_ns: String(i * 1_000_000), http: { code: codes[i % codes.length]!, method: 'GET', url: '/x' } },
      }),
    );
  }
  const m = buildServiceMap(flows);
  assert.equal(m.edges!.length, 1);
  const e = edge(m.edges!, 'workload/shop/web>workload/shop/api:http/8080');
  assert.equal(e.requests, '100');
  const status = e.status as Record<string, string>;
  assert.deepEqual(status, { '2xx': '50', '3xx': '17', '4xx': '17', '5xx': '16' });
  assert.equal(e.latency_p50_ms, 50);
  assert.equal(e.latency_p95_ms, 95);
  assert.equal(e.latency_p99_ms, 99);
  assert.equal(e.flows, '100');
});

test('namespace filter keeps flows with either end in the namespaces', () => {
  const other = pod('billing', 'pay-1', 'pay', 1010);
  const flows = [tcp(web1, api, 8080), tcp(other, other, 9000), tcp(lonely, other, 9000)];
  const m = buildServiceMap(flows, { namespaces: ['tools'] });
  assert.equal(m.flows, '1');
  assert.deepEqual(m.edges!.map((e) => e.id), ['workload/tools/debug>workload/billing/pay:tcp/9000']);
  assert.equal(buildServiceMap(flows, { namespaces: ['billing'] }).flows, '2');
  assert.equal(buildServiceMap(flows).flows, '3');
});

test('the builder grows incrementally and reports its window', () => {
  const b = new ServiceMapBuilder();
  b.add(tcp(web1, api, 8080));
  assert.equal(b.build().edges![0]!.flows, '1');
  b.add(tcp(web1, api, 8080));
  const g = b.build({ sinceNs: T0, untilNs: T0 + S });
  assert.equal(g.edges![0]!.flows, '2');
  assert.deepEqual(g.since, at(T0));
  assert.deepEqual(g.until, at(T0 + S));
});

test('percentile is nearest-rank', () => {
  assert.equal(percentile([], 50), 0);
  assert.equal(percentile([7], 99), 7);
  assert.equal(percentile([1, 2, 3, 4], 50), 2);
  assert.equal(percentile([1, 2, 3, 4], 95), 4);
});

test('a socket-level translation (SOCK, TRANSLATED) counts as a connection through its Service', async () => {
  const { buildServiceMap } = await import('./servicemap.js');
  const sockFlow = (cookie: string) => ({
    time: { seconds: 100, nanos: 0 },
    verdict: 'TRANSLATED',
    Type: 'SOCK',
    IP: { source: '10.0.0.4', destination: '10.0.1.2', ipVersion: 'IPv4' },
    l4: { TCP: { destination_port: 80 } },
    source: { identity: 300, namespace: 'obs', pod_name: 'client', labels: ['k8s:app=client'] },
    destination: { identity: 301, namespace: 'obs', pod_name: 'server', labels: ['k8s:app=server'] },
    destination_service: { name: 'server', namespace: 'obs' },
    socket_cookie: cookie,
    event_type: { type: 7, sub_type: 2 },
  }) as never;
  const g = buildServiceMap([sockFlow('1'), sockFlow('2'), sockFlow('2')]);
  const toSvc = g.edges!.find((e) => e.source_id === 'workload/obs/client' && e.destination_id === 'service/obs/server');
  assert.equal(Number(toSvc?.flows), 2, 'two sockets, the second reported twice: two connections');
  assert.equal(Number(toSvc?.forwarded), 2);
});

test("a connection let out by the source's node and dropped at the destination's is one drop, in either order: an all-refused edge shows only drops", () => {
  const drop = { verdict: 'DROPPED', drop_reason_desc: 'POLICY_DENIED' } as const;
  // node1 lets the SYN out (egress trace), node2 drops it; the retransmission is dropped again.
  let m = buildServiceMap([tcp(lonely, api, 80, { sport: 41000 }), tcp(lonely, api, 80, { sport: 41000, ...drop, t: T0 + 1000n }), tcp(lonely, api, 80, { sport: 41000, ...drop, t: T0 + S })]);
  let e = edge(m.edges!, 'workload/tools/debug>workload/shop/api:tcp/80');
  assert.deepEqual([e.flows, e.forwarded, e.dropped, e.drop_reasons], ['2', '0', '2', ['POLICY_DENIED']]);
  // The drop merged first (another node's clock), the forwarded trace after it: still no forwarded connection.
  m = buildServiceMap([tcp(lonely, api, 80, { sport: 41001, ...drop, t: T0 }), tcp(lonely, api, 80, { sport: 41001, t: T0 + 1000n })]);
  e = edge(m.edges!, 'workload/tools/debug>workload/shop/api:tcp/80');
  assert.deepEqual([e.flows, e.forwarded, e.dropped], ['1', '0', '1']);
  // A connection that went through stays forwarded next to one that did not.
  m = buildServiceMap([tcp(lonely, api, 80, { sport: 41002 }), tcp(lonely, api, 80, { sport: 41003 }), tcp(lonely, api, 80, { sport: 41003, ...drop })]);
  e = edge(m.edges!, 'workload/tools/debug>workload/shop/api:tcp/80');
  assert.deepEqual([e.flows, e.forwarded, e.dropped], ['2', '1', '1']);
});

test("recorded Star Wars flows: connections the socket layer translated go through their Service; the X-wing's all dropped, the TIE fighter's HTTP half refused; no edge from mid-connection packets", async () => {
  const { recordedFlows } = await import('../../test/lib/recorded-flows.js');
  const flows = recordedFlows();
  const m = buildServiceMap(flows);
  const empire = m.edges!.filter((e) => e.id!.includes('empire')).map((e) => `${e.id} ${e.forwarded}/${e.dropped}`);
  assert.deepEqual(empire, [
    'service/empire/deathstar>workload/empire/deathstar:http/80 3/3',
    'service/empire/deathstar>workload/empire/deathstar:tcp/80 9/6',
    'workload/empire/tiefighter>service/empire/deathstar:http/80 3/3',
    'workload/empire/tiefighter>service/empire/deathstar:tcp/80 9/0',
    'workload/empire/tiefighter>service/kube-system/kube-dns:udp/53 24/0',
    'workload/empire/xwing>service/empire/deathstar:tcp/80 0/6',
    'workload/empire/xwing>service/kube-system/kube-dns:udp/53 12/0',
  ]);
  const http = edge(m.edges!, 'workload/empire/tiefighter>service/empire/deathstar:http/80');
  assert.deepEqual(http.status, { '2xx': '3', '4xx': '3' });
  assert.deepEqual(edge(m.edges!, 'workload/empire/xwing>service/empire/deathstar:tcp/80').drop_reasons, ['POLICY_DENIED']);
});

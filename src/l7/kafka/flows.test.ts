/**
 * The Kafka proxy's records → L7 flows: every field of an allowed and a
 * denied request's flows, one flow pair per topic, the request types without
 * topics, a request the proxy could not check, what `observe` prints and
 * selects (`--protocol kafka`), and the protobuf JSON round trip.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromProtoJson, toProtoJson } from '../../api/proto.js';
import { FlowFilterBuilder } from '../../cli/observe-filter.js';
import { compileFlowFilters } from '../../observer/filter.js';
import { FlowPrinter } from '../../observer/printer.js';
import type { EndpointInfo, Flow, FlowEnricher } from '../../observer/types.js';
import { MESSAGE_TYPE_ACCESS_LOG } from '../http/flows.js';
import { kafkaFlowApiKey, kafkaFlowSummary, kafkaFlowsFromRecord } from './flows.js';
import type { KafkaRecord } from './proxy.js';
import { l7TestEnricher } from '../../../test/lib/l7-enricher.js';

const TIEFIGHTER: EndpointInfo = {
  id: 301, identity: 31486, namespace: 'default', podName: 'tiefighter',
  labels: ['k8s:app=empire-hq', 'k8s:io.kubernetes.pod.namespace=default'], workloads: [{ name: 'empire-hq', kind: 'Pod' }],
};
const KAFKA: EndpointInfo = {
  id: 302, identity: 15266, namespace: 'default', podName: 'kafka-broker-0',
  labels: ['k8s:app=kafka', 'k8s:io.kubernetes.pod.namespace=default'], workloads: [{ name: 'kafka-broker', kind: 'StatefulSet' }],
};

function enricher(): FlowEnricher {
  return l7TestEnricher({
    endpoints: [['10.0.1.10', TIEFIGHTER], ['10.0.2.20', KAFKA]],
    identities: [[31486, TIEFIGHTER.labels], [15266, KAFKA.labels]],
    services: [{ ip: '10.0.2.20', port: 9092, protocol: 'tcp', service: { name: 'kafka', namespace: 'default' } }],
    names: [['10.0.2.20', ['kafka.default.svc.cluster.local']]],
  });
}

/** 2026-12-06T14:05:22.123456Z */
const T_US = 1796565922123456;
const ORIGIN = { kind: 'CiliumNetworkPolicy' as const, namespace: 'default', name: 'rule1' };
const RULE1 = {
  name: 'rule1', namespace: 'default', kind: 'CiliumNetworkPolicy',
  labels: ['k8s:io.cilium.k8s.policy.derived-from=CiliumNetworkPolicy', 'k8s:io.cilium.k8s.policy.name=rule1', 'k8s:io.cilium.k8s.policy.namespace=default'],
};

function record(over: Partial<KafkaRecord> = {}): KafkaRecord {
  return {
    timeUs: T_US, direction: 'ingress',
    srcIp: '10.0.1.10', srcPort: 42690, dstIp: '10.0.2.20', dstPort: 9092, srcIdentity: 31486, dstIdentity: 15266,
    apiKey: 0, apiVersion: 7, correlationId: 3, clientId: 'empire-hq', topics: ['empire-announce'], allTopics: false,
    verdict: 'forwarded', errorCode: 0, allowedBy: [ORIGIN], deniedTopics: [], responded: true, latencyMs: 2.5,
    ...over,
  };
}

let n = 0;
const convert = (r: KafkaRecord) => kafkaFlowsFromRecord(r, { enricher: enricher(), uuid: () => `uuid-${n++}` });
const strip = (f: Flow) => ({ ...f, source: { ...f.source }, destination: { ...f.destination } });
const tie = { ID: 301, identity: 31486, namespace: 'default', labels: TIEFIGHTER.labels, pod_name: 'tiefighter', workloads: TIEFIGHTER.workloads };
const broker = { ID: 302, identity: 15266, namespace: 'default', labels: KAFKA.labels, pod_name: 'kafka-broker-0', workloads: KAFKA.workloads };

test('an allowed produce: a REQUEST flow client → server and a RESPONSE flow server → client, every field', () => {
  n = 0;
  const [req, res, ...rest] = convert(record());
  assert.equal(rest.length, 0);
  const k = { error_code: 0, api_version: 7, api_key: 'produce', correlation_id: 3, topic: 'empire-announce' };
  assert.deepEqual(strip(req!), {
    time: { seconds: 1796565922, nanos: 123456000 },
    uuid: 'uuid-0',
    verdict: 'FORWARDED',
    drop_reason: 0,
    IP: { source: '10.0.1.10', destination: '10.0.2.20', ipVersion: 'IPv4' },
    l4: { TCP: { source_port: 42690, destination_port: 9092 }, protocol: 'TCP' },
    source: tie,
    destination: broker,
    Type: 'L7',
    node_name: 'kind-worker',
    destination_names: ['kafka.default.svc.cluster.local'],
    l7: { type: 'REQUEST', latency_ns: 0, kafka: k, record: 'kafka' },
    reply: false,
    event_type: { type: MESSAGE_TYPE_ACCESS_LOG, sub_type: 0 },
    destination_service: { name: 'kafka', namespace: 'default' },
    traffic_direction: 'INGRESS',
    policy_match_type: 0,
    is_reply: { value: false },
    ingress_allowed_by: [RULE1],
    Summary: "Kafka request produce correlation id 3 topic 'empire-announce'",
  });
  assert.deepEqual(strip(res!), {
    time: { seconds: 1796565922, nanos: 125956000 },
    uuid: 'uuid-1',
    verdict: 'FORWARDED',
    drop_reason: 0,
    IP: { source: '10.0.2.20', destination: '10.0.1.10', ipVersion: 'IPv4' },
    l4: { TCP: { source_port: 9092, destination_port: 42690 }, protocol: 'TCP' },
    source: broker,
    destination: tie,
    Type: 'L7',
    node_name: 'kind-worker',
    source_names: ['kafka.default.svc.cluster.local'],
    l7: { type: 'RESPONSE', latency_ns: 2_500_000, kafka: k, record: 'kafka' },
    reply: true,
    event_type: { type: MESSAGE_TYPE_ACCESS_LOG, sub_type: 0 },
    source_service: { name: 'kafka', namespace: 'default' },
    traffic_direction: 'INGRESS',
    policy_match_type: 0,
    is_reply: { value: true },
    Summary: "Kafka response produce correlation id 3 topic 'empire-announce' return code 0",
  });
});

test('a denied request: the request DROPPED naming no policy, the proxy\'s answer FORWARDED with its error code', () => {
  const flows = convert(record({ verdict: 'denied', topics: ['deathstar-plans'], deniedTopics: ['deathstar-plans'], errorCode: 29, allowedBy: [], latencyMs: 0.1 }));
  assert.equal(flows.length, 2);
  assert.equal(flows[0]!.verdict, 'DROPPED');
  assert.equal(flows[0]!.drop_reason, 0);
  assert.equal(flows[0]!.ingress_allowed_by, undefined);
  assert.equal(flows[0]!.l7!.kafka!.error_code, 0, 'Hubble leaves the error code 0 on requests');
  assert.equal(flows[1]!.verdict, 'FORWARDED');
  assert.equal(flows[1]!.l7!.kafka!.error_code, 29);
  assert.equal(flows[1]!.Summary, "Kafka response produce correlation id 3 topic 'deathstar-plans' return code 29");
});

test('one flow pair per topic; a request without topics has topic \'\'; egress names egress_allowed_by', () => {
  const two = convert(record({ apiKey: 3, apiVersion: 6, topics: ['empire-announce', 'empire-news'], direction: 'egress' }));
  assert.deepEqual(two.map((f) => `${f.l7!.type} ${f.l7!.kafka!.topic}`), ['REQUEST empire-announce', 'REQUEST empire-news', 'RESPONSE empire-announce', 'RESPONSE empire-news']);
  assert.equal(two[0]!.traffic_direction, 'EGRESS');
  assert.deepEqual(two[0]!.egress_allowed_by, [RULE1]);
  assert.equal(two[0]!.ingress_allowed_by, undefined);
  const none = convert(record({ apiKey: 18, apiVersion: 3, topics: [] }));
  assert.deepEqual(none.map((f) => f.Summary), ["Kafka request apiversions correlation id 3 topic ''", "Kafka response apiversions correlation id 3 topic '' return code 0"]);
});

test('without an answer (closed, acks=0): the request flow only; a request the proxy could not check is ERROR', () => {
  const acks0 = convert(record({ responded: false, latencyMs: -1 }));
  assert.deepEqual(acks0.map((f) => f.l7!.type), ['REQUEST']);
  const err = convert(record({ verdict: 'error', apiKey: -1, apiVersion: -1, correlationId: -1, topics: [], responded: false, latencyMs: -1, errorCode: -1, allowedBy: [], reason: 'malformed' }));
  assert.equal(err.length, 1);
  assert.equal(err[0]!.verdict, 'ERROR');
  assert.equal(err[0]!.l7!.kafka!.api_key, 'unknown');
});

test("api_key names are Cilium's (offsets for ListOffsets, the number for keys it does not name)", () => {
  assert.deepEqual([0, 1, 2, 3, 10, 18, 22, 60, -1].map(kafkaFlowApiKey), ['produce', 'fetch', 'offsets', 'metadata', 'findcoordinator', 'apiversions', 'initproducerid', '60', 'unknown']);
  assert.equal(kafkaFlowSummary('REQUEST', { api_key: 'fetch', correlation_id: 9, topic: 't', error_code: 0 }), "Kafka request fetch correlation id 9 topic 't'");
});

test('IPv6 records; the proxy\'s identities win over the caches\'', () => {
  const [f] = convert(record({ srcIp: 'fd00::10', dstIp: 'fd00::20', srcIdentity: 777 }));
  assert.equal(f!.IP!.ipVersion, 'IPv6');
  assert.equal(f!.source!.identity, 777);
});

test('observe prints the compact lines and --protocol kafka selects the flows; protobuf JSON round trip', () => {
  const flows = [...convert(record()), ...convert(record({ verdict: 'denied', topics: ['deathstar-plans'], errorCode: 29, allowedBy: [], latencyMs: 0 }))];
  const out: string[] = [];
  const p = new FlowPrinter({ output: 'compact', out: (s) => out.push(s), err: () => undefined });
  for (const f of flows) p.write({ flow: f, node_name: 'kind-worker', time: f.time });
  assert.equal(out.length, 4);
  assert.match(out[0]!, /-> default\/kafka-broker-0:9092 \(ID:15266\) kafka-request FORWARDED \(Kafka request produce correlation id 3 topic 'empire-announce'\)/);
  assert.match(out[3]!, /<- default\/kafka-broker-0:9092 \(ID:15266\) kafka-response FORWARDED \(Kafka response produce correlation id 3 topic 'deathstar-plans' return code 29\)/);
  assert.match(out[2]!, /kafka-request DROPPED/);

  const select = (proto: string) => {
    const b = new FlowFilterBuilder();
    b.set('protocol', proto);
    const { whitelist, blacklist } = b.build();
    return flows.filter(compileFlowFilters(whitelist, blacklist)).length;
  };
  assert.equal(select('kafka'), 4);
  assert.equal(select('http'), 0);

  const j = toProtoJson('flow.Flow', flows[3]!) as Record<string, any>;
  assert.deepEqual(j.l7, { type: 'RESPONSE', kafka: { error_code: 29, api_version: 7, api_key: 'produce', correlation_id: 3, topic: 'deathstar-plans' } });
  const back = fromProtoJson('flow.Flow', toProtoJson('flow.Flow', flows[0]!)) as Flow;
  assert.equal(back.l7?.kafka?.topic, 'empire-announce');
  assert.equal(back.ingress_allowed_by?.[0]?.name, 'rule1');
});

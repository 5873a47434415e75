import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_DIR, api, fromProtoJson, parseTimestampJson, timestampJson, toProtoJson } from './proto.js';
import type { Flow } from '../observer/types.js';

const GEN = join(API_DIR, '../scripts/gen-api.mjs');

test('the committed generated TypeScript matches api/*.proto', () => {
  const r = spawnSync(process.execPath, [GEN, '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test('a .proto change without regenerating is caught, naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'beeline-api-drift-'));
  try {
    cpSync(API_DIR, dir, { recursive: true });
    const p = join(dir, 'flow/flow.proto');
    writeFileSync(p, readFileSync(p, 'utf8').replace('string pod_name = 5;', 'string pod_name = 5;\n    string pod_uid = 7;'));
    const r = spawnSync(process.execPath, [GEN, '--check', '--api', dir], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /differs: flow\/Endpoint\.ts/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('field numbers are Hubble\'s: a Flow encodes to the bytes Hubble\'s numbering gives', () => {
  const type = api().def['flow.Flow'] as unknown as { serialize(v: unknown): Buffer; deserialize(b: Buffer): Record<string, unknown> };
  const bytes = type.serialize({ uuid: 'u', node_name: 'n', verdict: 'DROPPED' });
  // node_name = 11 (tag 0x5a), verdict = 2 (0x10, DROPPED = 2), uuid = 34 (0x92 0x02).
  assert.deepEqual([...bytes], [0x10, 0x02, 0x5a, 0x01, 0x6e, 0x92, 0x02, 0x01, 0x75]);
  const back = type.deserialize(bytes);
  assert.equal(back.verdict, 'DROPPED');
  assert.equal(back.node_name, 'n');
});

test('protobuf JSON mapping as Hubble prints it: proto names, no defaults, RFC 3339, wrappers bare', () => {
  const flow: Flow = {
    time: { seconds: 1700000000, nanos: 123456000 },
    verdict: 'FORWARDED',
    IP: { source: '10.0.0.1', destination: '10.0.0.2', ipVersion: 'IPv4' },
    l4: { TCP: { source_port: 1234, destination_port: 80, flags: { SYN: true } } },
    source: { ID: 7, identity: 1234, namespace: 'default', pod_name: 'a', labels: ['k8s:app=a'] },
    is_reply: { value: false },
    event_type: { type: 4, sub_type: 0 },
    Summary: 'TCP Flags: SYN',
    socket_cookie: '0',
  };
  const json = toProtoJson('observer.GetFlowsResponse', { flow, node_name: 'node-1', time: flow.time }) as Record<string, unknown>;
  assert.deepEqual(json, {
    flow: {
      time: '2023-11-14T22:13:20.123456Z',
      verdict: 'FORWARDED',
      IP: { source: '10.0.0.1', destination: '10.0.0.2', ipVersion: 'IPv4' },
      l4: { TCP: { source_port: 1234, destination_port: 80, flags: { SYN: true } } },
      source: { ID: 7, identity: 1234, namespace: 'default', labels: ['k8s:app=a'], pod_name: 'a' },
      event_type: { type: 4 },
      is_reply: false,
      Summary: 'TCP Flags: SYN',
    },
    node_name: 'node-1',
    time: '2023-11-14T22:13:20.123456Z',
  });
  const back = fromProtoJson('observer.GetFlowsResponse', json);
  const f = back.flow as Record<string, any>;
  assert.equal(f.verdict, 'FORWARDED');
  assert.equal(f.l4.TCP.destination_port, 80);
  assert.equal(f.is_reply.value, false);
  assert.equal(String(f.time.seconds), '1700000000');
  assert.equal(f.time.nanos, 123456000);
});

test('timestamps: whole seconds, millis, micros, nanos; offsets; junk refused', () => {
  assert.equal(timestampJson(0, 0), '1970-01-01T00:00:00Z');
  assert.equal(timestampJson(1, 5_000_000), '1970-01-01T00:00:01.005Z');
  assert.equal(timestampJson(1, 1), '1970-01-01T00:00:01.000000001Z');
  assert.deepEqual(parseTimestampJson('1970-01-01T01:00:01.5+01:00'), { seconds: 1, nanos: 500_000_000 });
  assert.equal(parseTimestampJson('yesterday'), undefined);
});

test('the compiled JSON text encoder writes what JSON.stringify(toProtoJson(...)) writes', async () => {
  const { toProtoJsonString } = await import('./proto.js');
  const msgs: [string, object][] = [
    ['observer.GetFlowsResponse', { flow: { time: { seconds: '1700000000', nanos: 5 }, uuid: 'x"y', verdict: 'DROPPED', drop_reason_desc: 'POLICY_DENIED', l4: { UDP: { source_port: 0, destination_port: 53 } }, source: { labels: ['a', 'b\\n'], workloads: [{ name: 'w', kind: 'Deployment' }] }, is_reply: { value: true }, ingress_denied_by: [{ name: 'p', namespace: 'n', kind: 'CiliumNetworkPolicy', labels: [], revision: '0' }], socket_cookie: '12', Type: 'L3_L4', event_type: { type: 1, sub_type: 133 } }, node_name: 'n1', time: { seconds: 1, nanos: 0 } }],
    ['observer.GetFlowsResponse', { lost_events: { source: 'HUBBLE_RING_BUFFER', num_events_lost: '3', cpu: null }, node_name: 'n' }],
    ['observer.ServerStatusResponse', { num_flows: '0', max_flows: '4095', num_connected_nodes: { value: 0 }, unavailable_nodes: [] }],
    ['servicemap.MapEdge', { id: 'e', status: { '2xx': '4' }, latency_p50_ms: 1.5 }],
  ];
  for (const [type, m] of msgs) assert.equal(toProtoJsonString(type, m), JSON.stringify(toProtoJson(type, m)), type);
});

test('the text encoder remembers frozen values only: a shared frozen endpoint is written once, a changed unfrozen one as it is now', async () => {
  const { toProtoJsonString } = await import('./proto.js');
  const shared = Object.freeze({ ID: 3, identity: 1000, namespace: 'ns', labels: Object.freeze(['k8s:app=x', 'k8s:io.kubernetes.pod.namespace=ns']), pod_name: 'x-1' });
  const a = { flow: { uuid: 'a', verdict: 'FORWARDED', source: shared, destination: shared }, node_name: 'n1' };
  const b = { flow: { uuid: 'b', verdict: 'DROPPED', source: shared }, node_name: 'n2' };
  for (const m of [a, b, a]) assert.equal(toProtoJsonString('observer.GetFlowsResponse', m), JSON.stringify(toProtoJson('observer.GetFlowsResponse', m)));
  const open = { ID: 4, identity: 1001, namespace: 'ns', labels: ['k8s:app=y'], pod_name: 'y-1' };
  const c = { flow: { uuid: 'c', source: open }, node_name: 'n1' };
  const before = toProtoJsonString('observer.GetFlowsResponse', c);
  open.pod_name = 'y-2';
  open.labels.push('k8s:tier=z');
  const after = toProtoJsonString('observer.GetFlowsResponse', c);
  assert.notEqual(after, before);
  assert.equal(after, JSON.stringify(toProtoJson('observer.GetFlowsResponse', c)));
});

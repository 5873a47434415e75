import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MethodDefinition } from '@grpc/grpc-js';
import { api } from './proto.js';
import { lazyFlowsResponse, passThroughObserverDefinition, wireBytes } from './passthrough.js';
import { recordedFlows } from '../../test/lib/recorded-flows.js';

const generated = api().grpc.observer.Observer.service.GetFlows as unknown as MethodDefinition<object, object>;
const passThrough = passThroughObserverDefinition().GetFlows as unknown as MethodDefinition<object, object>;

const flow = recordedFlows().find((f) => f.l7?.http)!;
const responses: Record<string, object> = {
  flow: { flow, node_name: 'node1', time: { seconds: '1796611805', nanos: 110836142 } },
  'flow without a response time': { flow, node_name: 'node2' },
  node_status: { node_name: 'relay', time: { seconds: '12', nanos: 0 }, node_status: { state_change: 'NODE_CONNECTED', node_names: ['node1'], message: '' } },
  lost_events: { node_name: 'node1', time: { seconds: '-5', nanos: 7 }, lost_events: { source: 'PERF_EVENT_RING_BUFFER', num_events_lost: '3' } },
  'nothing set': {},
};

for (const [name, r] of Object.entries(responses)) {
  test(`lazyFlowsResponse reads what a full decode reads: ${name}`, () => {
    const bytes = generated.responseSerialize(r);
    const full = generated.responseDeserialize(bytes) as Record<string, unknown>;
    const lazy = lazyFlowsResponse(bytes) as unknown as Record<string, unknown>;
    // The header without decoding the rest.
    assert.equal(lazy.node_name, full.node_name);
    assert.deepEqual(lazy.time, full.time);
    assert.equal(lazy.response_types, full.response_types);
    for (const k of ['flow', 'node_status', 'lost_events']) assert.equal(k in lazy, k in full, k);
    // The rest on demand, exactly as grpc-js gives it.
    assert.deepEqual({ ...lazy }, full);
  });
}

test('a lazily read response is written as its own bytes; any other is encoded', () => {
  const bytes = generated.responseSerialize(responses.flow!);
  const lazy = lazyFlowsResponse(bytes);
  assert.equal(wireBytes(lazy), bytes);
  assert.equal(passThrough.responseSerialize(lazy), bytes);
  // Its flow read (the service map does) changes nothing on the wire.
  assert.equal(lazy.flow?.l7?.http?.url, flow.l7!.http!.url);
  assert.equal(passThrough.responseSerialize(lazy), bytes);
  const own = responses.node_status!;
  assert.equal(wireBytes(own), undefined);
  assert.deepEqual(passThrough.responseSerialize(own), generated.responseSerialize(own));
  // The client side of the same definition reads lazily.
  assert.equal(wireBytes(passThrough.responseDeserialize(bytes)), bytes);
});

test('lazyFlowsResponse rejects bytes that are not a message', () => {
  assert.throws(() => lazyFlowsResponse(Buffer.from([0x0a, 0x7f, 0x01])));
});

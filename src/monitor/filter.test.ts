import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlDropReason, BlEventType, BlTracePoint } from '../datapath/generated/abi.js';
import { UsageError } from '../common/errors.js';
import { decodeMonitorEvent } from '../observer/event.js';
import { MATCH_ALL, buildFilter, eventTypeNames, matchFields, matches, parseCount, parseDuration, parseEndpointIds, parseTypes } from './filter.js';
import { dropRecord, tcpSyn, traceRecord } from '../../test/lib/packets.js';

const TRACE = BlEventType.BL_EVENT_TRACE;
const DROP = BlEventType.BL_EVENT_DROP;

test("--type takes Cilium's names, repeated or comma-separated", () => {
  assert.deepEqual([...eventTypeNames().keys()], ['drop', 'debug', 'capture', 'trace', 'policy-verdict', 'record-capture', 'trace-sock']);
  assert.deepEqual([...parseTypes(['drop'])], [DROP]);
  assert.deepEqual([...parseTypes(['drop', 'trace'])].sort(), [DROP, TRACE].sort());
  assert.deepEqual([...parseTypes(['Drop,trace'])].sort(), [DROP, TRACE].sort());
  assert.deepEqual([...parseTypes(['policy-verdict'])], [BlEventType.BL_EVENT_POLICY_VERDICT]);
  assert.throws(
    () => parseTypes(['l7']),
    (e: unknown) => e instanceof UsageError && /--type l7: unknown event type/.test(e.message) && /drop, debug, capture, trace, policy-verdict, record-capture, trace-sock/.test(e.hint ?? ''),
  );
});

test('endpoint ids are 0..65535', () => {
  assert.deepEqual([...parseEndpointIds('--from', ['1', '2,3'])], [1, 2, 3]);
  assert.throws(() => parseEndpointIds('--to', ['65536']), /--to 65536: not an endpoint id/);
  assert.throws(() => parseEndpointIds('--to', ['lxc1']), UsageError);
  assert.throws(() => parseEndpointIds('--related-to', ['-1']), UsageError);
});

test("matching is Cilium's: type, then from the source, to the destination, related to either", () => {
  assert.equal(matchFields(MATCH_ALL, TRACE, 1, 2), true);
  const f = buildFilter({ type: ['trace'], from: ['1'] });
  assert.equal(matchFields(f, TRACE, 1, 2), true);
  assert.equal(matchFields(f, DROP, 1, 2), false);
  assert.equal(matchFields(f, TRACE, 2, 1), false);
  const to = buildFilter({ to: ['2'] });
  assert.equal(matchFields(to, TRACE, 1, 2), true);
  assert.equal(matchFields(to, TRACE, 2, 1), false);
  const rel = buildFilter({ relatedTo: ['7'] });
  assert.equal(matchFields(rel, TRACE, 7, 0), true);
  assert.equal(matchFields(rel, TRACE, 0, 7), true);
  assert.equal(matchFields(rel, TRACE, 1, 2), false);
  const both = buildFilter({ from: ['1'], to: ['2'] });
  assert.equal(matchFields(both, TRACE, 1, 2), true);
  assert.equal(matchFields(both, TRACE, 1, 3), false);
});

test('events: a trace goes from its source to dst_id; a drop has no destination yet', () => {
  const toLxc = decodeMonitorEvent(traceRecord(tcpSyn(), { subtype: BlTracePoint.BL_TRACE_TO_LXC, source: 0 }, { dst_id: 1234 }));
  const fromLxc = decodeMonitorEvent(traceRecord(tcpSyn(), { subtype: BlTracePoint.BL_TRACE_FROM_LXC, source: 1234 }));
  const drop = decodeMonitorEvent(dropRecord(tcpSyn(), { subtype: BlDropReason.BL_DROP_POLICY, source: 1234 }));
  const f = buildFilter({ to: ['1234'] });
  assert.deepEqual([toLxc, fromLxc, drop].map((e) => matches(f, e)), [true, false, false]);
  const r = buildFilter({ relatedTo: ['1234'] });
  assert.deepEqual([toLxc, fromLxc, drop].map((e) => matches(r, e)), [true, true, true]);
  const d = buildFilter({ type: ['drop'] });
  assert.deepEqual([toLxc, fromLxc, drop].map((e) => matches(d, e)), [false, false, true]);
  assert.equal(matches(d, decodeMonitorEvent(new Uint8Array(0))), false);
  assert.equal(matches(MATCH_ALL, decodeMonitorEvent(new Uint8Array(0))), true);
});

test('--count is a whole number of at least 1', () => {
  assert.equal(parseCount('1'), 1);
  assert.equal(parseCount('250'), 250);
  for (const bad of ['0', '-1', '1.5', 'ten', '', '1e3']) assert.throws(() => parseCount(bad), UsageError, bad);
});

test('--timeout is a Go duration', () => {
  assert.equal(parseDuration('5s'), 5000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration('2m'), 120_000);
  assert.equal(parseDuration('0'), 0);
  assert.equal(parseDuration('250us'), 0.25);
  for (const bad of ['5', 's', '5x', '5s3', '-5s', '', '1 s']) assert.throws(() => parseDuration(bad), /--timeout .*: not a duration/, bad);
});

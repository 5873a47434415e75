import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlDropReason, BlSourceFile, BlTracePoint, BlTraceReason } from '../datapath/generated/abi.js';
import { dropReasonExtText, dropReasonText, isKnownDropReason, sourceFileText, tracePointText, traceReasonText, traceSummaryText } from './reasons.js';

test("drop reasons are Cilium's words (pkg/monitor/api/drop.go)", () => {
  assert.equal(dropReasonText(133), 'Policy denied');
  assert.equal(dropReasonText(134), 'Invalid packet');
  assert.equal(dropReasonText(BlDropReason.BL_DROP_POLICY), 'Policy denied');
  assert.equal(dropReasonText(BlDropReason.BL_DROP_INVALID), 'Invalid packet');
  assert.equal(dropReasonText(BlDropReason.BL_DROP_CT_INVALID_HDR), 'CT: Truncated or invalid header');
  assert.equal(dropReasonText(BlDropReason.BL_DROP_UNROUTABLE), 'Stale or unroutable IP');
  assert.equal(dropReasonText(BlDropReason.BL_DROP_NO_FIB), 'FIB lookup failed');
  assert.equal(dropReasonText(BlDropReason.BL_DROP_POLICY_DENY), 'Policy denied by denylist');
  assert.equal(dropReasonText(BlDropReason.BL_DROP_TTL_EXCEEDED), 'TTL exceeded');
  assert.equal(dropReasonText(BlDropReason.BL_DROP_POLICY_AUTH_REQUIRED), 'Authentication required');
  assert.equal(dropReasonText(BlDropReason.BL_DROP_NO_SERVICE), 'Service backend not found');
  assert.equal(dropReasonText(BlDropReason.BL_DROP_SUCCESS), 'Success');
  // Reasons our datapath does not have yet still read as Cilium reads them.
  assert.equal(dropReasonText(205), 'Punt to proxy');
  assert.equal(dropReasonText(250), '250');
});

test('every drop reason of our enum has words, not a number', () => {
  for (const [name, value] of Object.entries(BlDropReason)) {
    assert.ok(isKnownDropReason(value), `${name} (${value}) has no text`);
    assert.notEqual(dropReasonText(value), String(value), name);
  }
});

test("the extended form is Cilium's DropReasonExt", () => {
  assert.equal(dropReasonExtText(133, 0), 'Policy denied');
  assert.equal(dropReasonExtText(141, -22), 'Error writing to packet, -22');
  assert.equal(dropReasonExtText(250, 0), '250, 0');
  assert.equal(dropReasonExtText(250, 3), '250, 3');
});

test('every trace reason, observation point and source file of our enums has words', () => {
  for (const [name, value] of Object.entries(BlTraceReason)) assert.notEqual(traceReasonText(value), String(value), name);
  for (const [name, value] of Object.entries(BlTracePoint)) {
    assert.notEqual(tracePointText(value), String(value), name);
    assert.notEqual(traceSummaryText(value, 1, 2), 'unknown trace', name);
  }
  for (const [name, value] of Object.entries(BlSourceFile)) {
    if (name === 'BL_FILE_UNKNOWN') continue;
    assert.match(sourceFileText(value), /^[a-z0-9_]+\.bpf\.c$/, name);
  }
});

test("trace words are Cilium's", () => {
  assert.equal(traceReasonText(BlTraceReason.BL_TRACE_REASON_POLICY), 'new');
  assert.equal(traceReasonText(BlTraceReason.BL_TRACE_REASON_CT_ESTABLISHED), 'established');
  assert.equal(traceReasonText(BlTraceReason.BL_TRACE_REASON_CT_REPLY), 'reply');
  assert.equal(traceReasonText(BlTraceReason.BL_TRACE_REASON_CT_RELATED), 'related');
  assert.equal(traceReasonText(BlTraceReason.BL_TRACE_REASON_UNKNOWN), 'unknown');
  assert.equal(traceReasonText(99), '99');
  assert.equal(tracePointText(BlTracePoint.BL_TRACE_TO_LXC), 'to-endpoint');
  assert.equal(tracePointText(BlTracePoint.BL_TRACE_FROM_NETWORK), 'from-network');
  assert.equal(tracePointText(BlTracePoint.BL_TRACE_TO_CRYPTO), 'to-crypto');
  assert.equal(tracePointText(99), '99');
  assert.equal(traceSummaryText(BlTracePoint.BL_TRACE_TO_LXC, 5, 1234), '-> endpoint 1234');
  assert.equal(traceSummaryText(BlTracePoint.BL_TRACE_FROM_LXC, 5, 1234), '<- endpoint 5');
  assert.equal(traceSummaryText(BlTracePoint.BL_TRACE_TO_PROXY, 5, 0), '-> proxy');
  assert.equal(traceSummaryText(BlTracePoint.BL_TRACE_TO_PROXY, 5, 15001), '-> proxy port 15001');
  assert.equal(traceSummaryText(BlTracePoint.BL_TRACE_TO_HOST, 5, 0), '-> host from');
  assert.equal(traceSummaryText(99, 0, 0), 'unknown trace');
});

test('source files: ours by enum name, unknown ids as Cilium prints them', () => {
  assert.equal(sourceFileText(BlSourceFile.BL_FILE_HOST), 'host.bpf.c');
  const byName = BlSourceFile as Readonly<Record<string, number>>;
  if (byName.BL_FILE_LXC !== undefined) assert.equal(sourceFileText(byName.BL_FILE_LXC), 'lxc.bpf.c');
  if (byName.BL_FILE_OVERLAY !== undefined) assert.equal(sourceFileText(byName.BL_FILE_OVERLAY), 'overlay.bpf.c');
  assert.equal(sourceFileText(BlSourceFile.BL_FILE_UNKNOWN), '<unknown-id-0>');
  assert.equal(sourceFileText(200), '<unknown-id-200>');
});

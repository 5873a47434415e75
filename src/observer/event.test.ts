import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlDropReason, BlTracePoint } from '../datapath/generated/abi.js';
import { decodeMonitorEvent } from './event.js';
import { dropRecord, policyVerdictRecord, tcpSyn, traceRecord } from '../../test/lib/packets.js';

test('a whole trace record: header, fields, the capture and its packet', () => {
  const rec = traceRecord(tcpSyn(), { subtype: BlTracePoint.BL_TRACE_FROM_LXC, source: 12, src_identity: 5001 }, { dst_id: 34, reason: 2 });
  const ev = decodeMonitorEvent(rec);
  assert.equal(ev.kind, 'trace');
  if (ev.kind !== 'trace') return;
  assert.equal(ev.error, undefined);
  assert.deepEqual({ type: ev.hdr.type, subtype: ev.hdr.subtype, source: ev.hdr.source, src: ev.hdr.src_identity }, { type: 4, subtype: 5, source: 12, src: 5001 });
  assert.deepEqual(ev.trace.hdr, ev.hdr);
  assert.deepEqual({ dst: ev.trace.dst_id, reason: ev.trace.reason }, { dst: 34, reason: 2 });
  assert.equal(ev.capture.length, tcpSyn().length);
  assert.deepEqual(Buffer.from(ev.capture), tcpSyn());
  assert.equal(ev.trace.data.length, 128);
  assert.equal(ev.packet.tcp?.dstPort, 80);
});

test('a plain Uint8Array and a record longer than the struct decode like a Buffer', () => {
  const rec = dropRecord(tcpSyn(), { subtype: BlDropReason.BL_DROP_POLICY, source: 7 }, { cookie: 99 });
  const asBuffer = decodeMonitorEvent(rec);
  const copy = new Uint8Array(rec.length + 16);
  copy.set(rec);
  const longer = decodeMonitorEvent(copy);
  assert.equal(longer.kind, 'drop');
  if (longer.kind !== 'drop' || asBuffer.kind !== 'drop') return;
  assert.equal(longer.error, undefined);
  assert.deepEqual(longer.hdr, asBuffer.hdr);
  assert.equal(longer.drop.cookie, 99);
  assert.deepEqual(Buffer.from(longer.capture), Buffer.from(asBuffer.capture));
  // Decoding never changed the record.
  assert.deepEqual(Buffer.from(copy.subarray(0, rec.length)), rec);
});

test('a record cut inside its fields is padded, and says so; the capture never reads past the record', () => {
  const rec = policyVerdictRecord(tcpSyn(), { source: 3 }, { cookie: 5, dir: 1 });
  const cut = rec.subarray(0, 50);
  const ev = decodeMonitorEvent(cut);
  assert.equal(ev.kind, 'policy-verdict');
  if (ev.kind !== 'policy-verdict') return;
  assert.equal(ev.error, 'policy verdict record of 50 bytes is shorter than its 64-byte header');
  assert.equal(ev.verdict.cookie, 5);
  assert.equal(ev.verdict.dir, 0, 'a field past the cut reads as zero');
  assert.equal(ev.capture.length, 0);
  const inData = decodeMonitorEvent(rec.subarray(0, 64 + 20));
  assert.equal(inData.error, undefined);
  assert.equal(inData.kind === 'policy-verdict' && inData.capture.length, 20);
});

test('an unknown version is noted before a short record', () => {
  const rec = traceRecord(tcpSyn(), { version: 9 });
  assert.equal(decodeMonitorEvent(rec).error, 'event version 9, this CLI knows 1');
  assert.equal(decodeMonitorEvent(rec.subarray(0, 44)).error, 'event version 9, this CLI knows 1; trace record of 44 bytes is shorter than its 48-byte header');
  const other = Buffer.from(rec);
  other[0] = 3;
  const ev = decodeMonitorEvent(other);
  assert.deepEqual({ kind: ev.kind, type: ev.kind === 'other' && ev.type, error: ev.error }, { kind: 'other', type: 3, error: 'event version 9, this CLI knows 1' });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KafkaProtocolError } from '../../common/errors.js';
import { mulberry32 } from '../../../test/lib/rng.js';
import {
  ApiKey, KAFKA_SUPPORTED_APIS, KafkaError, KafkaFrameDecoder, buildDeniedResponse, decodeKafkaRequest,
  encodeKafkaRequest, topicIdName, type KafkaRequest,
} from './wire.js';

// ---- hand-written bytes (field by field from the protocol's message schemas, not through KafkaWriter) ----
const i8 = (v: number) => { const b = Buffer.alloc(1); b.writeInt8(v); return b; };
const i16 = (v: number) => { const b = Buffer.alloc(2); b.writeInt16BE(v); return b; };
const i32 = (v: number) => { const b = Buffer.alloc(4); b.writeInt32BE(v); return b; };
const i64 = (v: number) => { const b = Buffer.alloc(8); b.writeBigInt64BE(BigInt(v)); return b; };
const u8 = (...v: number[]) => Buffer.from(v);
const str = (s: string) => Buffer.concat([i16(Buffer.byteLength(s)), Buffer.from(s)]);
const cstr = (s: string) => Buffer.concat([u8(Buffer.byteLength(s) + 1), Buffer.from(s)]); // lengths < 127: one varint byte
const frame = (...parts: Buffer[]) => { const body = Buffer.concat(parts); return Buffer.concat([i32(body.length), body]); };
const header = (key: number, v: number, corr: number, client: string | null, flexible: boolean) =>
  Buffer.concat([i16(key), i16(v), i32(corr), client === null ? i16(-1) : str(client), flexible ? u8(0) : Buffer.alloc(0)]);

const isProtocolError = (reason: KafkaProtocolError['reason']) => (e: unknown) => {
  assert.ok(e instanceof KafkaProtocolError, `a KafkaProtocolError, got ${String(e)}`);
  assert.equal(e.code, 'BL_ERR_KAFKA_PROTOCOL');
  assert.equal(e.reason, reason, e.message);
  return true;
};

// A valid Produce v7 (non-flexible) with two topics.
const produceV7 = frame(header(0, 7, 11, 'kcat', false), i16(-1) /* transactional_id null */, i16(1), i32(1500),
  i32(2), str('empire-announce'), i32(1), i32(0), i32(3), Buffer.from('abc'), str('deathstar-plans'), i32(1), i32(2), i32(-1));

test('frame decoder: frames split at every byte, several per segment, returned whole with their size', () => {
  const two = Buffer.concat([produceV7, produceV7]);
  for (let cut = 0; cut <= two.length; cut++) {
    const d = new KafkaFrameDecoder();
    const got = [...d.push(two.subarray(0, cut)), ...d.push(two.subarray(cut))];
    assert.deepEqual(got, [produceV7, produceV7], `cut at ${cut}`);
    d.end();
  }
  const d = new KafkaFrameDecoder();
  const out: Buffer[] = [];
  for (const b of two) out.push(...d.push(Buffer.from([b])));
  assert.equal(out.length, 2);
  assert.equal(d.pending, 0);
});

test('frame decoder: a size above the maximum (or negative) is refused from its four bytes alone; a stream ending inside a frame is truncated', () => {
  assert.throws(() => new KafkaFrameDecoder(1000).push(i32(1001)), isProtocolError('oversized'));
  assert.throws(() => new KafkaFrameDecoder().push(i32(104_857_601)), isProtocolError('oversized'));
  assert.throws(() => new KafkaFrameDecoder().push(i32(-5)), isProtocolError('oversized'));
  assert.deepEqual(new KafkaFrameDecoder(1000).push(Buffer.concat([i32(1000), Buffer.alloc(10)])), []);
  const d = new KafkaFrameDecoder();
  d.push(produceV7.subarray(0, 20));
  assert.throws(() => d.end(), isProtocolError('truncated'));
  const d2 = new KafkaFrameDecoder();
  d2.push(produceV7.subarray(0, 2));
  assert.throws(() => d2.end(), isProtocolError('truncated'));
});

test('request header v1: key, version, correlation id, client id (null too); Produce topics, partitions, acks', () => {
  const r = decodeKafkaRequest(produceV7);
  assert.deepEqual([r.apiKey, r.apiVersion, r.correlationId, r.clientId, r.flexible, r.acks], [0, 7, 11, 'kcat', false, 1]);
  assert.deepEqual(r.topics, ['empire-announce', 'deathstar-plans']);
  assert.deepEqual(r.topicData.map((t) => t.partitions.map((p) => [p.partition, p.records === null ? null : String(p.records)])), [[[0, 'abc']], [[2, null]]]);
  const nullClient = decodeKafkaRequest(frame(header(18, 0, 1, null, false)));
  assert.equal(nullClient.clientId, null);
  assert.deepEqual(nullClient.topics, []);
});

test('request header v2 (flexible): tagged fields after the client id are skipped; the client id stays a non-compact string', () => {
  // Header v2 with two tagged fields (tag 0 size 3, tag 5 size 1), then ApiVersions v3's body.
  const f = frame(i16(18), i16(3), i32(99), str('rdkafka'), u8(2, 0, 3, 1, 2, 3, 5, 1, 9), cstr('librdkafka'), cstr('2.0.2'), u8(0));
  const r = decodeKafkaRequest(f);
  assert.deepEqual([r.apiKey, r.apiVersion, r.correlationId, r.clientId, r.flexible], [18, 3, 99, 'rdkafka', true]);
  // A tagged field whose size runs past the frame is malformed.
  assert.throws(() => decodeKafkaRequest(frame(i16(18), i16(3), i32(99), str('x'), u8(1, 0, 50, 1))), isProtocolError('malformed'));
});

test('Produce v9 (flexible): compact strings and arrays, tagged fields; the denied response is byte-exact', () => {
  const req = frame(header(0, 9, 7, 'c', true), u8(0) /* transactional_id null */, i16(-1), i32(30000),
    u8(2), cstr('deathstar-plans'), u8(3), i32(0), u8(1) /* empty records */, u8(0), i32(4), u8(0) /* null records */, u8(0), u8(0), u8(0));
  const r = decodeKafkaRequest(req);
  assert.deepEqual([r.flexible, r.acks, r.transactionalId, r.topics], [true, -1, null, ['deathstar-plans']]);
  assert.deepEqual(r.topicData[0]!.partitions.map((p) => p.partition), [0, 4]);
  const partition = (i: number) => Buffer.concat([i32(i), i16(29), i64(-1), i64(-1), i64(-1), u8(1) /* record_errors [] */, u8(0) /* error_message null */, u8(0)]);
  const expected = frame(i32(7), u8(0) /* response header v1 tags */, u8(2), cstr('deathstar-plans'), u8(3), partition(0), partition(4), u8(0), i32(0) /* throttle */, u8(0));
  assert.deepEqual(buildDeniedResponse(r), expected);
});

test('Produce with acks=0 has no denied response (the proxy closes the connection, as Kafka does on an acks=0 error)', () => {
  const req = frame(header(0, 3, 1, 'c', false), i16(-1), i16(0), i32(1000), i32(1), str('deathstar-plans'), i32(1), i32(0), i32(-1));
  const r = decodeKafkaRequest(req);
  assert.equal(r.acks, 0);
  assert.equal(buildDeniedResponse(r), null);
});

test('Metadata: v0 [] and v1+ null ask for every topic; v1+ [] for none; v10+ topic ids with a null name', () => {
  assert.equal(decodeKafkaRequest(frame(header(3, 0, 1, 'c', false), i32(0))).allTopics, true);
  assert.equal(decodeKafkaRequest(frame(header(3, 1, 1, 'c', false), i32(-1))).allTopics, true);
  const none = decodeKafkaRequest(frame(header(3, 4, 1, 'c', false), i32(0), i8(1)));
  assert.deepEqual([none.allTopics, none.topics, none.allowAutoTopicCreation], [false, [], true]);
  assert.equal(decodeKafkaRequest(frame(header(3, 9, 1, 'c', true), u8(0), i8(0), i8(0), i8(0), u8(0))).allTopics, true);
  const id = Buffer.alloc(16, 0xab);
  const v12 = frame(header(3, 12, 5, 'c', true), u8(3), id, u8(0) /* name null */, u8(0), Buffer.alloc(16), cstr('empire-announce'), u8(0), i8(1), i8(0), u8(0));
  const r = decodeKafkaRequest(v12);
  assert.deepEqual(r.topics, [topicIdName(id), 'empire-announce']);
  assert.deepEqual(decodeKafkaRequest(v12, { topicName: (x) => (x.equals(id) ? 'deathstar-plans' : undefined) }).topics, ['deathstar-plans', 'empire-announce']);
  // The denied v12 response: throttle, no brokers, null cluster id, controller -1, the topics with 29 (the id-only one by id, name null).
  const denied = buildDeniedResponse(r)!;
  const topic = (name: Buffer, tid: Buffer) => Buffer.concat([i16(29), name, tid, i8(0), u8(1) /* partitions [] */, i32(-2147483648), u8(0)]);
  assert.deepEqual(denied, frame(i32(5), u8(0), i32(0), u8(1), u8(0), i32(-1), u8(3), topic(u8(0), id), topic(cstr('empire-announce'), Buffer.alloc(16)), u8(0)));
});

test('Fetch v13 names topics by id: unresolved ids are <topic-id:…>; a resolver names them; the denied response answers by id', () => {
  const id = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
  const part = Buffer.concat([i32(0), i32(-1), i64(5), i32(-1), i64(-1), i32(1 << 20), u8(0)]);
  const req = frame(header(1, 13, 3, 'c', true), i32(-1), i32(500), i32(1), i32(1 << 20), i8(0), i32(0), i32(-1),
    u8(2), id, u8(2), part, u8(0), u8(1) /* forgotten [] */, cstr('') /* rack */, u8(0));
  const r = decodeKafkaRequest(req);
  assert.deepEqual(r.topics, ['<topic-id:00112233445566778899aabbccddeeff>']);
  assert.equal(r.topicData[0]!.partitions[0]!.offset, 5n);
  assert.deepEqual(decodeKafkaRequest(req, { topicName: () => 'deathstar-plans' }).topics, ['deathstar-plans']);
  const denied = buildDeniedResponse(r)!;
  const p = Buffer.concat([i32(0), i16(29), i64(-1), i64(-1), i64(0), u8(0) /* aborted null */, i32(-1), u8(1) /* records empty */, u8(0)]);
  assert.deepEqual(denied, frame(i32(3), u8(0), i32(0), i16(0), i32(0), u8(2), id, u8(2), p, u8(0), u8(0)));
});

test('OffsetFetch v8 (groups) and v2+ null topics; FindCoordinator v4 keys and the transactional authorization error', () => {
  const of8 = frame(header(9, 8, 1, 'c', true), u8(3), cstr('g1'), u8(2), cstr('t1'), u8(2), i32(0), u8(0), u8(0), cstr('g2'), u8(0) /* all topics */, u8(0), i8(0), u8(0));
  const r = decodeKafkaRequest(of8);
  assert.deepEqual([r.groupIds, r.topics, r.allTopics], [['g1', 'g2'], ['t1'], true]);
  assert.equal(decodeKafkaRequest(frame(header(9, 2, 1, 'c', false), str('g'), i32(-1))).allTopics, true);
  assert.throws(() => decodeKafkaRequest(frame(header(9, 1, 1, 'c', false), str('g'), i32(-1))), isProtocolError('malformed'));
  const fc4 = frame(header(10, 4, 8, 'c', true), i8(1), u8(3), cstr('tx-a'), cstr('tx-b'), u8(0));
  const f = decodeKafkaRequest(fc4);
  assert.deepEqual(f.coordinator, { keyType: 1, keys: ['tx-a', 'tx-b'] });
  const entry = (k: string) => Buffer.concat([cstr(k), i32(-1), cstr(''), i32(-1), i16(KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED), u8(0), u8(0)]);
  assert.deepEqual(buildDeniedResponse(f), frame(i32(8), u8(0), i32(0), u8(3), entry('tx-a'), entry('tx-b'), u8(0)));
});

test('ApiVersions v3 denied: response header v0 (no tagged fields after the correlation id), CLUSTER_AUTHORIZATION_FAILED', () => {
  const r = decodeKafkaRequest(frame(header(18, 3, 42, 'c', true), cstr('x'), cstr('1'), u8(0)));
  assert.deepEqual(buildDeniedResponse(r), frame(i32(42), i16(31), u8(1), i32(0), u8(0)));
});

test('CreateTopics v5 / DeleteTopics v6 (flexible): topics found; denied per topic', () => {
  const ct = frame(header(19, 5, 2, 'c', true), u8(2), cstr('deathstar-plans'), i32(3), i16(1), u8(1), u8(2), cstr('retention.ms'), cstr('1'), u8(0), u8(0), i32(1000), i8(0), u8(0));
  assert.deepEqual(decodeKafkaRequest(ct).topics, ['deathstar-plans']);
  const id = Buffer.alloc(16, 1);
  const dt = frame(header(20, 6, 2, 'c', true), u8(3), cstr('a'), Buffer.alloc(16), u8(0), u8(0), id, u8(0), i32(1000), u8(0));
  const r = decodeKafkaRequest(dt);
  assert.deepEqual(r.topics, ['a', topicIdName(id)]);
  const d = buildDeniedResponse(r)!;
  assert.equal(d.readInt32BE(4), 2);
});

test('every supported key and version decodes a request the encoder wrote, and gets a denied response with its correlation id', () => {
  for (const [key, s] of KAFKA_SUPPORTED_APIS) {
    for (let v = s.minVersion; v <= s.maxVersion; v++) {
      const f = encodeKafkaRequest(key, v, 1000 + v, 'enc', (w, flex) => BODIES[key]!(w, v, flex));
      const r = decodeKafkaRequest(f);
      assert.equal(r.correlationId, 1000 + v);
      const expect = EXPECT_TOPICS[key] ?? [];
      assert.deepEqual(r.topics, key === ApiKey.Fetch && v >= 13 ? [topicIdName(Buffer.alloc(16, 7))] : expect, `${s.name} v${v}`);
      const d = buildDeniedResponse(r)!;
      assert.equal(d.readInt32BE(0), d.length - 4);
      assert.equal(d.readInt32BE(4), 1000 + v, `${s.name} v${v} correlation id`);
    }
  }
});

test('unknown API keys and versions are typed errors; so are frames too short or whose size disagrees', () => {
  assert.throws(() => decodeKafkaRequest(frame(header(7, 0, 1, 'c', false))), isProtocolError('unsupported-key'));
  assert.throws(() => decodeKafkaRequest(frame(header(99, 0, 1, 'c', false))), isProtocolError('unsupported-key'));
  assert.throws(() => decodeKafkaRequest(frame(header(-1, 0, 1, 'c', false))), isProtocolError('unsupported-key'));
  assert.throws(() => decodeKafkaRequest(frame(header(0, 10, 1, 'c', true))), isProtocolError('unsupported-version'));
  assert.throws(() => decodeKafkaRequest(frame(header(1, 14, 1, 'c', true))), isProtocolError('unsupported-version'));
  assert.throws(() => decodeKafkaRequest(frame(header(3, 13, 1, 'c', true))), isProtocolError('unsupported-version'));
  assert.throws(() => decodeKafkaRequest(frame(header(0, -1, 1, 'c', false))), isProtocolError('unsupported-version'));
  assert.throws(() => decodeKafkaRequest(Buffer.alloc(3)), isProtocolError('truncated'));
  assert.throws(() => decodeKafkaRequest(frame(i16(0), i16(0))), isProtocolError('truncated'));
  assert.throws(() => decodeKafkaRequest(Buffer.concat([produceV7, u8(0)])), isProtocolError('truncated'));
  assert.throws(() => decodeKafkaRequest(produceV7.subarray(0, produceV7.length - 1)), isProtocolError('truncated'));
});

test('malformed bodies are typed errors: truncated fields, negative lengths, counts that cannot fit, over-long varints', () => {
  // A Produce v7 cut inside its topics (size prefix fixed up to match).
  for (let cut = 12; cut < produceV7.length; cut++) {
    const body = produceV7.subarray(4, cut);
    assert.throws(() => decodeKafkaRequest(frame(body)), isProtocolError(cut - 4 < 8 ? 'truncated' : 'malformed'), `cut at ${cut}`);
  }
  assert.throws(() => decodeKafkaRequest(frame(header(3, 1, 1, 'c', false), i32(2_000_000_000))), isProtocolError('malformed'));
  assert.throws(() => decodeKafkaRequest(frame(header(3, 1, 1, 'c', false), i32(-7))), isProtocolError('malformed'));
  assert.throws(() => decodeKafkaRequest(frame(header(3, 1, 1, 'c', false), i32(1), i16(-3))), isProtocolError('malformed'));
  assert.throws(() => decodeKafkaRequest(frame(header(3, 9, 1, 'c', true), u8(0xff, 0xff, 0xff, 0xff, 0x0f))), isProtocolError('malformed'));
  assert.throws(() => decodeKafkaRequest(frame(header(3, 9, 1, 'c', true), u8(0x80, 0x80, 0x80, 0x80, 0x80, 0x01))), isProtocolError('malformed'));
  assert.throws(() => decodeKafkaRequest(frame(i16(0), i16(7), i32(1), i16(50), Buffer.from('short'))), isProtocolError('malformed'));
});

test('fuzz (seeded): random and mutated frames through the stream decoder give requests or KafkaProtocolErrors, never another error or a hang', () => {
  const seed = 0x6b61666b; // "kafk"
  const rnd = mulberry32(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const seeds: Buffer[] = [produceV7];
  for (const [key, s] of KAFKA_SUPPORTED_APIS) for (let v = s.minVersion; v <= s.maxVersion; v++) seeds.push(encodeKafkaRequest(key, v, v, 'fz', (w, flex) => BODIES[key]!(w, v, flex)));
  const keys = [...KAFKA_SUPPORTED_APIS.keys()];
  let decoded = 0;
  let refused = 0;
  const started = Date.now();
  for (let iter = 0; iter < 20_000; iter++) {
    let f: Buffer;
    if (iter % 3 === 0) {
      // Random body behind a valid header prefix of a supported key.
      const key = keys[int(keys.length)]!;
      const s = KAFKA_SUPPORTED_APIS.get(key)!;
      const body = Buffer.from(Array.from({ length: int(64) }, () => int(256)));
      f = frame(i16(key), i16(s.minVersion + int(s.maxVersion - s.minVersion + 2)), i32(iter), body);
    } else {
      // A valid request with bytes flipped, inserted or removed, size prefix kept consistent or not.
      const b = Buffer.from(seeds[int(seeds.length)]!);
      const body = Array.from(b.subarray(4));
      for (let m = 1 + int(4); m > 0; m--) {
        const at = int(body.length + 1);
        const op = int(3);
        if (op === 0 && body.length > 0) body[Math.min(at, body.length - 1)] = int(256);
        else if (op === 1) body.splice(at, 0, int(256));
        else body.splice(at, 1);
      }
      const nb = Buffer.from(body);
      f = rnd() < 0.9 ? Buffer.concat([i32(nb.length), nb]) : Buffer.concat([i32(nb.length + int(9) - 4), nb]);
    }
    const d = new KafkaFrameDecoder(1 << 16);
    try {
      const frames: Buffer[] = [];
      for (let pos = 0; pos < f.length;) { const n = 1 + int(17); frames.push(...d.push(f.subarray(pos, pos + n))); pos += n; }
      d.end();
      for (const fr of frames) {
        const r: KafkaRequest = decodeKafkaRequest(fr);
        assert.ok(Array.isArray(r.topics));
        buildDeniedResponse(r);
        decoded++;
      }
    } catch (e) {
      if (!(e instanceof KafkaProtocolError)) throw new Error(`seed ${seed} iteration ${iter}: ${String(e)} for ${f.toString('hex')}`);
      refused++;
    }
  }
  assert.ok(decoded > 100 && refused > 100, `decoded ${decoded}, refused ${refused}`);
  assert.ok(Date.now() - started < 20_000);
});

// ---- request bodies for every supported key and version, written with KafkaWriter ----
type W = Parameters<Parameters<typeof encodeKafkaRequest>[4]>[0];
const EXPECT_TOPICS: Record<number, string[]> = {
  [ApiKey.Produce]: ['a', 'b'], [ApiKey.Fetch]: ['a'], [ApiKey.ListOffsets]: ['a'], [ApiKey.Metadata]: ['a', 'b'],
  [ApiKey.OffsetCommit]: ['a'], [ApiKey.OffsetFetch]: ['a'], [ApiKey.CreateTopics]: ['a'], [ApiKey.DeleteTopics]: ['a', 'b'],
};
const BODIES: Record<number, (w: W, v: number, flex: boolean) => void> = {
  [ApiKey.Produce]: (w, v, flex) => {
    if (v >= 3) w.nstr(null, flex);
    w.i16(-1).i32(1000).arr(['a', 'b'], flex, (w, t) => { w.str(t, flex).arr([0, 1], flex, (w, p) => { w.i32(p).nbytes(Buffer.from('r'), flex).tags(flex); }).tags(flex); }).tags(flex);
  },
  [ApiKey.Fetch]: (w, v, flex) => {
    w.i32(-1).i32(100).i32(1);
    if (v >= 3) w.i32(1 << 20);
    if (v >= 4) w.i8(0);
    if (v >= 7) w.i32(0).i32(-1);
    w.arr(['a'], flex, (w, t) => {
      if (v >= 13) w.uuid(Buffer.alloc(16, 7)); else w.str(t, flex);
      w.arr([0], flex, (w, p) => { w.i32(p); if (v >= 9) w.i32(-1); w.i64(0); if (v >= 12) w.i32(-1); if (v >= 5) w.i64(-1); w.i32(1000).tags(flex); }).tags(flex);
    });
    if (v >= 7) w.arr([], flex, () => undefined);
    if (v >= 11) w.str('', flex);
    w.tags(flex);
  },
  [ApiKey.ListOffsets]: (w, v, flex) => {
    w.i32(-1);
    if (v >= 2) w.i8(0);
    w.arr(['a'], flex, (w, t) => { w.str(t, flex).arr([0], flex, (w, p) => { w.i32(p); if (v >= 4) w.i32(-1); w.i64(-1); if (v === 0) w.i32(1); w.tags(flex); }).tags(flex); }).tags(flex);
  },
  [ApiKey.Metadata]: (w, v, flex) => {
    w.arr(['a', 'b'], flex, (w, t) => { if (v >= 10) w.uuid(undefined); w.str(t, flex).tags(flex); });
    if (v >= 4) w.bool(true);
    if (v >= 8 && v <= 10) w.bool(false);
    if (v >= 8) w.bool(false);
    w.tags(flex);
  },
  [ApiKey.OffsetCommit]: (w, v, flex) => {
    w.str('g', flex);
    if (v >= 1) w.i32(1).str('m', flex);
    if (v >= 7) w.nstr(null, flex);
    if (v >= 2 && v <= 4) w.i64(-1);
    w.arr(['a'], flex, (w, t) => { w.str(t, flex).arr([0], flex, (w, p) => { w.i32(p).i64(5); if (v >= 6) w.i32(-1); if (v === 1) w.i64(-1); w.nstr(null, flex).tags(flex); }).tags(flex); }).tags(flex);
  },
  [ApiKey.OffsetFetch]: (w, v, flex) => {
    const topics = (w: W) => w.arr(['a'], flex, (w, t) => { w.str(t, flex).arr([0], flex, (w, p) => { w.i32(p); }).tags(flex); });
    if (v <= 7) { w.str('g', flex); topics(w); } else w.arr(['g'], flex, (w, g) => { w.str(g, flex); topics(w); w.tags(flex); });
    if (v >= 7) w.bool(false);
    w.tags(flex);
  },
  [ApiKey.FindCoordinator]: (w, v, flex) => {
    if (v <= 3) { w.str('g', flex); if (v >= 1) w.i8(0); } else w.i8(0).arr(['g'], flex, (w, k) => { w.str(k, flex); });
    w.tags(flex);
  },
  [ApiKey.JoinGroup]: (w, _v, flex) => { w.str('g', flex).i32(30000); },
  [ApiKey.Heartbeat]: (w, _v, flex) => { w.str('g', flex).i32(1).str('m', flex); },
  [ApiKey.LeaveGroup]: (w, _v, flex) => { w.str('g', flex); },
  [ApiKey.SyncGroup]: (w, _v, flex) => { w.str('g', flex).i32(1); },
  [ApiKey.ApiVersions]: (w, v, flex) => { if (v >= 3) w.str('x', flex).str('1', flex); w.tags(flex); },
  [ApiKey.CreateTopics]: (w, v, flex) => {
    w.arr(['a'], flex, (w, t) => { w.str(t, flex).i32(1).i16(1).arr([], flex, () => undefined).arr([['k', 'v']], flex, (w, [k, val]) => { w.str(k!, flex).nstr(val!, flex).tags(flex); }).tags(flex); });
    w.i32(1000);
    if (v >= 1) w.bool(false);
    w.tags(flex);
  },
  [ApiKey.DeleteTopics]: (w, v, flex) => {
    if (v <= 5) w.arr(['a', 'b'], flex, (w, t) => { w.str(t, flex); });
    else w.arr(['a', 'b'], flex, (w, t) => { w.str(t, flex).uuid(undefined).tags(flex); });
    w.i32(1000).tags(flex);
  },
  [ApiKey.InitProducerId]: (w, v, flex) => { w.nstr('tx', flex).i32(1000); if (v >= 3) w.i64(-1).i16(-1); w.tags(flex); },
};

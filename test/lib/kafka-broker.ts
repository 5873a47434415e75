/**
 * A minimal Kafka broker for tests: one node, TCP on 127.0.0.1, no root.
 * No Kafka broker can be installed on this machine, so the Kafka tests run
 * against this one; it speaks the wire protocol exactly (src/l7/kafka/wire.ts
 * for the framing, headers and response shapes) for the request types and
 * versions it advertises in ApiVersions, enough that the real clients
 * (kafkajs, and kcat = librdkafka) produce to it and consume from it:
 *
 * - ApiVersions, Metadata (itself as the only broker and controller; topics
 *   it was told about, or auto-created with `partitions` partitions when a
 *   request allows it), Produce (acks 0, 1 and -1; record batches stored as
 *   sent, base offsets assigned), Fetch (the stored batches from the asked
 *   offset, long-polling up to max_wait_ms), ListOffsets (earliest/latest),
 *   InitProducerId (idempotent producers);
 * - a single-broker group coordinator for kafkajs consumers: FindCoordinator,
 *   JoinGroup (every join starts a new generation; the first member leads),
 *   SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch.
 *
 * It keeps every request frame it received (`frames`), so tests can check
 * what real clients send. Requests of one connection are answered in order.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import {
  ApiKey, KafkaError, KafkaFrameDecoder, KafkaReader, KafkaWriter, decodeKafkaRequest,
  encodeApiVersionsResponse, encodeFetchResponse, encodeFindCoordinatorResponse, encodeHeartbeatResponse,
  encodeInitProducerIdResponse, encodeJoinGroupResponse, encodeLeaveGroupResponse, encodeListOffsetsResponse,
  encodeMetadataResponse, encodeOffsetCommitResponse, encodeOffsetFetchResponse, encodeProduceResponse,
  encodeSyncGroupResponse, type KafkaRequest,
} from '../../src/l7/kafka/wire.js';

/** The versions this broker answers (what it advertises in ApiVersions). */
export const TEST_BROKER_APIS: readonly { apiKey: number; minVersion: number; maxVersion: number }[] = [
  { apiKey: ApiKey.Produce, minVersion: 3, maxVersion: 9 },
  { apiKey: ApiKey.Fetch, minVersion: 4, maxVersion: 12 },
  { apiKey: ApiKey.ListOffsets, minVersion: 1, maxVersion: 7 },
  { apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 12 },
  { apiKey: ApiKey.OffsetCommit, minVersion: 2, maxVersion: 8 },
  { apiKey: ApiKey.OffsetFetch, minVersion: 1, maxVersion: 8 },
  { apiKey: ApiKey.FindCoordinator, minVersion: 0, maxVersion: 4 },
  { apiKey: ApiKey.JoinGroup, minVersion: 0, maxVersion: 9 },
  { apiKey: ApiKey.Heartbeat, minVersion: 0, maxVersion: 4 },
  { apiKey: ApiKey.LeaveGroup, minVersion: 0, maxVersion: 5 },
  { apiKey: ApiKey.SyncGroup, minVersion: 0, maxVersion: 5 },
  { apiKey: ApiKey.ApiVersions, minVersion: 0, maxVersion: 3 },
  { apiKey: ApiKey.InitProducerId, minVersion: 0, maxVersion: 4 },
];

interface Batch { base: bigint; count: number; bytes: Buffer }
interface Partition { batches: Batch[]; next: bigint }
interface Topic { id: Buffer; partitions: Partition[] }
interface Group { generation: number; protocolType: string; protocol: string; members: Map<string, Buffer>; leader: string; assignments: Map<string, Buffer>; offsets: Map<string, bigint> }

/** Options of {@link startKafkaBroker}. */
export interface KafkaBrokerOptions {
  /** Topics that exist from the start (name → partition count). */
  topics?: Record<string, number>;
  /** Create unknown topics when a Metadata or Produce request allows it (default true), with this many partitions (default 1). */
  autoCreate?: boolean;
  partitions?: number;
  /**
   * The address the broker gives for itself in Metadata and FindCoordinator
   * (default its own). A test that puts a proxy in front of the broker
   * advertises the proxy's, so that clients come back through it, as
   * transparent redirection would make them.
   */
  advertise?: () => { host: string; port: number };
  /** Where to listen (default 127.0.0.1 on a free port); a lab pod's broker listens on its own address. */
  listen?: { host: string; port: number };
  /** Called for each batch stored by a Produce request (a broker in a pod logs them for the test to read). */
  onProduce?: (topic: string, partition: number, values: Buffer[]) => void;
}

/** A running test broker. */
export interface KafkaTestBroker {
  host: string;
  port: number;
  /** `127.0.0.1:port`, for clients' bootstrap lists. */
  address: string;
  /** Every request frame received, in order, with its size prefix. */
  frames: Buffer[];
  /** Problems answered with a closed connection (undecodable frames), for tests to assert there were none. */
  errors: Error[];
  /** Creates a topic (no-op if it exists). */
  createTopic(name: string, partitions?: number): void;
  /** The values of the records stored in a topic's partition, in offset order (uncompressed batches only). */
  values(topic: string, partition?: number): Buffer[];
  close(): Promise<void>;
}

/** Starts a broker on 127.0.0.1 on a free port. */
export async function startKafkaBroker(options: KafkaBrokerOptions = {}): Promise<KafkaTestBroker> {
  const topics = new Map<string, Topic>();
  const groups = new Map<string, Group>();
  const produced = new EventEmitter();
  produced.setMaxListeners(0);
  const frames: Buffer[] = [];
  const errors: Error[] = [];
  const sockets = new Set<net.Socket>();
  const autoCreate = options.autoCreate ?? true;
  const defaultPartitions = options.partitions ?? 1;
  let nextProducerId = 1000n;
  const clusterId = 'beeline-test-cluster';
  const createTopic = (name: string, n = defaultPartitions) => {
    if (!topics.has(name)) topics.set(name, { id: randomBytes(16), partitions: Array.from({ length: n }, () => ({ batches: [], next: 0n })) });
  };
  for (const [name, n] of Object.entries(options.topics ?? {})) createTopic(name, n);

  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    const decoder = new KafkaFrameDecoder();
    let chain = Promise.resolve();
    sock.on('data', (chunk) => {
      let got: Buffer[];
      try { got = decoder.push(chunk); } catch (e) { errors.push(e as Error); sock.destroy(); return; }
      for (const frame of got) {
        frames.push(frame);
        chain = chain.then(async () => {
          if (sock.destroyed) return;
          const out = await handle(frame);
          if (out && !sock.destroyed) sock.write(out);
        }).catch((e) => { errors.push(e as Error); sock.destroy(); });
      }
    });
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(options.listen?.port ?? 0, options.listen?.host ?? '127.0.0.1', resolve); });
  const port = (server.address() as net.AddressInfo).port;
  const host = options.listen?.host ?? '127.0.0.1';

  const self = () => options.advertise?.() ?? { host, port };
  const supported = (key: number, v: number) => TEST_BROKER_APIS.some((a) => a.apiKey === key && v >= a.minVersion && v <= a.maxVersion);

  async function handle(frame: Buffer): Promise<Buffer | null> {
    const key = frame.readInt16BE(4);
    const version = frame.readInt16BE(6);
    if (key === ApiKey.ApiVersions && !supported(key, version)) {
      // KIP-511: a version the broker does not know is answered in v0 with
      // UNSUPPORTED_VERSION and the broker's ranges, so the client can retry.
      const w = new KafkaWriter().i32(frame.readInt32BE(8)).i16(KafkaError.UNSUPPORTED_VERSION);
      w.arr(TEST_BROKER_APIS, false, (w, a) => { w.i16(a.apiKey).i16(a.minVersion).i16(a.maxVersion); });
      return w.toFrame();
    }
    const req = decodeKafkaRequest(frame);
    if (!supported(req.apiKey, req.apiVersion)) throw new Error(`test broker: ${req.apiKey} v${req.apiVersion} is not advertised`);
    switch (req.apiKey) {
      case ApiKey.ApiVersions: return encodeApiVersionsResponse(req, 0, TEST_BROKER_APIS);
      case ApiKey.Metadata: return metadata(req);
      case ApiKey.Produce: return produce(req);
      case ApiKey.Fetch: return fetch(req);
      case ApiKey.ListOffsets: return listOffsets(req);
      case ApiKey.InitProducerId: return encodeInitProducerIdResponse(req, { errorCode: 0, producerId: nextProducerId++, producerEpoch: 0 });
      case ApiKey.FindCoordinator: return encodeFindCoordinatorResponse(req, { errorCode: 0, nodeId: 0, ...self() });
      case ApiKey.JoinGroup: return joinGroup(req);
      case ApiKey.SyncGroup: return syncGroup(req);
      case ApiKey.Heartbeat: return heartbeat(req);
      case ApiKey.LeaveGroup: return leaveGroup(req);
      case ApiKey.OffsetCommit: return offsetCommit(req);
      case ApiKey.OffsetFetch: return offsetFetch(req);
    }
    throw new Error(`test broker: no handler for API key ${req.apiKey}`);
  }

  function metadata(req: KafkaRequest): Buffer {
    const allow = req.allowAutoTopicCreation ?? true;
    const names = req.allTopics ? [...topics.keys()] : req.topics;
    return encodeMetadataResponse(req, {
      brokers: [{ nodeId: 0, ...self(), rack: null }],
      clusterId,
      controllerId: 0,
      topics: names.map((name) => {
        if (!topics.has(name) && autoCreate && allow && /^[a-zA-Z0-9._-]{1,249}$/.test(name)) createTopic(name);
        const t = topics.get(name);
        if (!t) return { errorCode: KafkaError.UNKNOWN_TOPIC_OR_PARTITION, name, partitions: [] };
        return { errorCode: 0, name, topicId: t.id, partitions: t.partitions.map((_, i) => ({ errorCode: 0, partition: i, leader: 0, replicas: [0], isr: [0] })) };
      }),
    });
  }

  function produce(req: KafkaRequest): Buffer | null {
    const result = req.topicData.map((t) => {
      if (!topics.has(t.name) && autoCreate) createTopic(t.name);
      const topic = topics.get(t.name);
      return {
        name: t.name,
        partitions: t.partitions.map((p) => {
          const part = topic?.partitions[p.partition];
          if (!part) return { partition: p.partition, errorCode: KafkaError.UNKNOWN_TOPIC_OR_PARTITION, baseOffset: -1 };
          const base = part.next;
          for (const b of splitBatches(p.records ?? Buffer.alloc(0))) {
            const bytes = Buffer.from(b);
            bytes.writeBigInt64BE(part.next, 0); // the broker assigns offsets; not covered by the batch CRC
            const count = bytes.readInt32BE(23) + 1; // lastOffsetDelta + 1
            part.batches.push({ base: part.next, count, bytes });
            part.next += BigInt(count);
            options.onProduce?.(t.name, p.partition, recordValues(bytes));
          }
          return { partition: p.partition, errorCode: 0, baseOffset: base };
        }),
      };
    });
    produced.emit('data');
    return req.acks === 0 ? null : encodeProduceResponse(req, result);
  }

  function collect(req: KafkaRequest): { any: boolean; topics: Parameters<typeof encodeFetchResponse>[1] } {
    let any = false;
    let budget = req.fetch?.maxBytes ?? 0x7fffffff;
    const out = req.topicData.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        const part = topics.get(t.name)?.partitions[p.partition];
        if (!part) return { partition: p.partition, errorCode: KafkaError.UNKNOWN_TOPIC_OR_PARTITION, highWatermark: -1, records: null };
        const from = p.offset ?? 0n;
        if (from > part.next || from < 0n) return { partition: p.partition, errorCode: KafkaError.OFFSET_OUT_OF_RANGE, highWatermark: part.next, records: null };
        const chosen: Buffer[] = [];
        let size = 0;
        for (const b of part.batches) {
          if (b.base + BigInt(b.count) <= from) continue;
          // At least one batch even if larger than the limits (KIP-74).
          if (chosen.length > 0 && (size + b.bytes.length > (p.maxBytes ?? 0x7fffffff) || size + b.bytes.length > budget)) break;
          chosen.push(b.bytes);
          size += b.bytes.length;
        }
        budget -= size;
        if (chosen.length > 0) any = true;
        return { partition: p.partition, errorCode: 0, highWatermark: part.next, records: Buffer.concat(chosen) };
      }),
    }));
    return { any, topics: out };
  }

  async function fetch(req: KafkaRequest): Promise<Buffer> {
    let got = collect(req);
    const wait = Math.min(req.fetch?.maxWaitMs ?? 0, 30_000);
    if (!got.any && wait > 0) {
      await new Promise<void>((resolve) => {
        const done = () => { clearTimeout(timer); produced.off('data', done); resolve(); };
        const timer = setTimeout(done, wait);
        produced.on('data', done);
      });
      got = collect(req);
    }
    return encodeFetchResponse(req, got.topics);
  }

  function listOffsets(req: KafkaRequest): Buffer {
    return encodeListOffsetsResponse(req, req.topicData.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        const part = topics.get(t.name)?.partitions[p.partition];
        if (!part) return { partition: p.partition, errorCode: KafkaError.UNKNOWN_TOPIC_OR_PARTITION, offset: -1 };
        // -1: latest (the next offset); -2: earliest; a timestamp: the log start (no time index here).
        return { partition: p.partition, errorCode: 0, offset: p.offset === -1n ? part.next : 0n, timestamp: -1 };
      }),
    })));
  }

  const group = (id: string): Group => {
    let g = groups.get(id);
    if (!g) { g = { generation: 0, protocolType: '', protocol: '', members: new Map(), leader: '', assignments: new Map(), offsets: new Map() }; groups.set(id, g); }
    return g;
  };

  function joinGroup(req: KafkaRequest): Buffer {
    const v = req.apiVersion;
    const r = new KafkaReader(req.body, 'JoinGroup');
    const flex = req.flexible;
    const g = group(r.str(flex, 'group_id'));
    r.i32('session_timeout_ms');
    if (v >= 1) r.i32('rebalance_timeout_ms');
    let memberId = r.str(flex, 'member_id');
    if (v >= 5) r.nstr(flex, 'group_instance_id');
    const protocolType = r.str(flex, 'protocol_type');
    const protocols = r.arr(flex, () => { const name = r.str(flex); const meta = r.nbytes(flex) ?? Buffer.alloc(0); r.tags(flex); return { name, meta }; });
    if (memberId === '') memberId = `member-${randomBytes(6).toString('hex')}`;
    g.members.set(memberId, Buffer.from(protocols[0]?.meta ?? Buffer.alloc(0)));
    if (!g.members.has(g.leader)) g.leader = memberId;
    g.generation++;
    g.protocolType = protocolType;
    g.protocol = protocols[0]?.name ?? '';
    g.assignments.clear();
    const members = g.leader === memberId ? [...g.members].map(([id, metadata]) => ({ memberId: id, metadata })) : [];
    return encodeJoinGroupResponse(req, { errorCode: 0, generationId: g.generation, protocolType, protocolName: g.protocol, leader: g.leader, memberId, members });
  }

  function syncGroup(req: KafkaRequest): Buffer {
    const v = req.apiVersion;
    const r = new KafkaReader(req.body, 'SyncGroup');
    const flex = req.flexible;
    const g = group(r.str(flex, 'group_id'));
    const generation = r.i32('generation_id');
    const memberId = r.str(flex, 'member_id');
    if (v >= 3) r.nstr(flex, 'group_instance_id');
    if (v >= 5) { r.nstr(flex); r.nstr(flex); }
    const assignments = r.arr(flex, () => { const id = r.str(flex); const a = r.nbytes(flex) ?? Buffer.alloc(0); r.tags(flex); return { id, a }; });
    const fail = (errorCode: number) => encodeSyncGroupResponse(req, { errorCode, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) });
    if (!g.members.has(memberId)) return fail(KafkaError.UNKNOWN_MEMBER_ID);
    if (generation !== g.generation) return fail(KafkaError.ILLEGAL_GENERATION);
    for (const { id, a } of assignments) g.assignments.set(id, Buffer.from(a));
    return encodeSyncGroupResponse(req, { errorCode: 0, protocolType: g.protocolType, protocolName: g.protocol, assignment: g.assignments.get(memberId) ?? Buffer.alloc(0) });
  }

  function heartbeat(req: KafkaRequest): Buffer {
    const r = new KafkaReader(req.body, 'Heartbeat');
    const g = group(r.str(req.flexible, 'group_id'));
    const generation = r.i32('generation_id');
    const memberId = r.str(req.flexible, 'member_id');
    if (!g.members.has(memberId)) return encodeHeartbeatResponse(req, KafkaError.UNKNOWN_MEMBER_ID);
    return encodeHeartbeatResponse(req, generation === g.generation ? 0 : KafkaError.REBALANCE_IN_PROGRESS);
  }

  function leaveGroup(req: KafkaRequest): Buffer {
    const v = req.apiVersion;
    const r = new KafkaReader(req.body, 'LeaveGroup');
    const flex = req.flexible;
    const g = group(r.str(flex, 'group_id'));
    if (v <= 2) g.members.delete(r.str(flex, 'member_id'));
    else r.arr(flex, () => { g.members.delete(r.str(flex)); r.nstr(flex); if (v >= 5) r.nstr(flex); r.tags(flex); });
    if (!g.members.has(g.leader)) g.leader = g.members.keys().next().value ?? '';
    return encodeLeaveGroupResponse(req, 0);
  }

  function offsetCommit(req: KafkaRequest): Buffer {
    const g = group(req.groupIds![0]!);
    return encodeOffsetCommitResponse(req, req.topicData.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => { g.offsets.set(`${t.name}/${p.partition}`, p.offset ?? -1n); return { partition: p.partition, errorCode: 0 }; }),
    })));
  }

  function offsetFetch(req: KafkaRequest): Buffer {
    const g = group(req.groupIds![0] ?? '');
    const wanted = req.allTopics
      ? [...new Set([...g.offsets.keys()].map((k) => k.slice(0, k.lastIndexOf('/'))))].map((name) => ({ name, partitions: [...g.offsets.keys()].filter((k) => k.startsWith(`${name}/`)).map((k) => ({ partition: Number(k.slice(name.length + 1)) })) }))
      : req.topicData;
    return encodeOffsetFetchResponse(req, wanted.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ partition: p.partition, offset: g.offsets.get(`${t.name}/${p.partition}`) ?? -1n, metadata: '', errorCode: 0 })),
    })), 0);
  }

  return {
    host, port, address: `${host}:${port}`, frames, errors,
    createTopic,
    values(topic, partition = 0) {
      const part = topics.get(topic)?.partitions[partition];
      return part ? part.batches.flatMap((b) => recordValues(b.bytes)) : [];
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Splits a records field into its record batches (magic 2): baseOffset int64, batchLength int32, then batchLength bytes. */
export function splitBatches(records: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos + 12 <= records.length) {
    const len = records.readInt32BE(pos + 8);
    if (len < 49 || pos + 12 + len > records.length) throw new Error(`test broker: record batch at ${pos} with length ${len} does not fit`);
    if (records[pos + 16] !== 2) throw new Error(`test broker: record batch magic ${records[pos + 16]} (only v2 batches)`);
    out.push(records.subarray(pos, pos + 12 + len));
    pos += 12 + len;
  }
  if (pos !== records.length) throw new Error('test broker: trailing bytes after the record batches');
  return out;
}

/** The record values of an uncompressed v2 batch (compressed batches: none listed). */
export function recordValues(batch: Buffer): Buffer[] {
  const attributes = batch.readInt16BE(21);
  if ((attributes & 0x7) !== 0) return [];
  const count = batch.readInt32BE(57);
  const r = new KafkaReader(batch.subarray(61), 'record batch');
  const varint = () => { const u = r.uvarint(); return (u >>> 1) ^ -(u & 1); }; // zigzag
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    varint(); // length
    r.i8(); // attributes
    varint(); varint(); // timestamp delta, offset delta
    const kl = varint(); if (kl > 0) r.pos += kl;
    const vl = varint();
    out.push(vl < 0 ? Buffer.alloc(0) : Buffer.from(r.buf.subarray(r.pos, r.pos + vl)));
    if (vl > 0) r.pos += vl;
    const headers = varint();
    for (let h = 0; h < headers; h++) { const hk = varint(); r.pos += hk; const hv = varint(); if (hv > 0) r.pos += hv; }
  }
  return out;
}

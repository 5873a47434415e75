/**
 * The Kafka wire protocol as the node proxy needs it (https://kafka.apache.org/protocol,
 * the message schemas in Kafka's clients/src/main/resources/common/message/*.json):
 * size-prefixed frames from a byte stream, request headers v0/v1/v2, the
 * topics of the request types clients send, and the responses a proxy (or
 * the test broker) writes. Pure: buffers in, buffers and objects out.
 *
 * Every request beeline cannot check is a {@link KafkaProtocolError}: an
 * oversized or truncated frame, an API key or version outside
 * {@link KAFKA_SUPPORTED_APIS}, a body that does not match its schema. The
 * proxy then closes that one connection; nothing it could not check is
 * forwarded.
 *
 * Flexible versions (KIP-482) use compact strings/arrays/bytes (unsigned
 * varint length + 1, 0 for null) and tagged fields; their request header is
 * v2 (header v1 plus tagged fields, the client id still a non-compact
 * nullable string) and their response header v1 (correlation id plus tagged
 * fields), except ApiVersions, whose response header is always v0 so that a
 * client can read it whatever version the broker speaks.
 */
import { KafkaProtocolError } from '../../common/errors.js';

/** Kafka's error codes the proxy and the test broker write. */
export const KafkaError = Object.freeze({
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  NOT_COORDINATOR: 16,
  ILLEGAL_GENERATION: 22,
  UNKNOWN_MEMBER_ID: 25,
  REBALANCE_IN_PROGRESS: 27,
  TOPIC_AUTHORIZATION_FAILED: 29,
  GROUP_AUTHORIZATION_FAILED: 30,
  CLUSTER_AUTHORIZATION_FAILED: 31,
  UNSUPPORTED_VERSION: 35,
  INVALID_REQUEST: 42,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 53,
} as const);

/** The API keys beeline parses. */
export const ApiKey = Object.freeze({
  Produce: 0, Fetch: 1, ListOffsets: 2, Metadata: 3, OffsetCommit: 8, OffsetFetch: 9,
  FindCoordinator: 10, JoinGroup: 11, Heartbeat: 12, LeaveGroup: 13, SyncGroup: 14,
  ApiVersions: 18, CreateTopics: 19, DeleteTopics: 20, InitProducerId: 22,
} as const);

/** One supported request type: the versions beeline parses and the first flexible one. */
export interface KafkaApiSupport {
  name: string;
  minVersion: number;
  maxVersion: number;
  /** The first flexible version (compact encodings, tagged fields, request header v2). */
  flexibleFrom: number;
}

/**
 * The request types and versions beeline parses (and for which it can build
 * a denied response): what current clients send (kafkajs 2.2, librdkafka 2.x,
 * the Java client 3.x up to the versions below). docs/kafka.md has the table.
 */
export const KAFKA_SUPPORTED_APIS: ReadonlyMap<number, KafkaApiSupport> = new Map<number, KafkaApiSupport>([
  [0, { name: 'Produce', minVersion: 0, maxVersion: 9, flexibleFrom: 9 }],
  [1, { name: 'Fetch', minVersion: 0, maxVersion: 13, flexibleFrom: 12 }],
  [2, { name: 'ListOffsets', minVersion: 0, maxVersion: 7, flexibleFrom: 6 }],
  [3, { name: 'Metadata', minVersion: 0, maxVersion: 12, flexibleFrom: 9 }],
  [8, { name: 'OffsetCommit', minVersion: 0, maxVersion: 8, flexibleFrom: 8 }],
  [9, { name: 'OffsetFetch', minVersion: 0, maxVersion: 8, flexibleFrom: 6 }],
  [10, { name: 'FindCoordinator', minVersion: 0, maxVersion: 4, flexibleFrom: 3 }],
  [11, { name: 'JoinGroup', minVersion: 0, maxVersion: 9, flexibleFrom: 6 }],
  [12, { name: 'Heartbeat', minVersion: 0, maxVersion: 4, flexibleFrom: 4 }],
  [13, { name: 'LeaveGroup', minVersion: 0, maxVersion: 5, flexibleFrom: 4 }],
  [14, { name: 'SyncGroup', minVersion: 0, maxVersion: 5, flexibleFrom: 4 }],
  [18, { name: 'ApiVersions', minVersion: 0, maxVersion: 3, flexibleFrom: 3 }],
  [19, { name: 'CreateTopics', minVersion: 0, maxVersion: 7, flexibleFrom: 5 }],
  [20, { name: 'DeleteTopics', minVersion: 0, maxVersion: 6, flexibleFrom: 4 }],
  [22, { name: 'InitProducerId', minVersion: 0, maxVersion: 4, flexibleFrom: 2 }],
]);

/** Kafka's default `socket.request.max.bytes` (100 MiB): the largest request a broker accepts. */
export const KAFKA_DEFAULT_MAX_FRAME_BYTES = 104_857_600;

/** True when `version` of `apiKey` uses the flexible encodings. */
export function isFlexible(apiKey: number, version: number): boolean {
  const s = KAFKA_SUPPORTED_APIS.get(apiKey);
  return s !== undefined && version >= s.flexibleFrom;
}

// ---- frames ----

/**
 * Cuts a TCP byte stream into Kafka frames (int32 size, then that many
 * bytes). Frames may arrive split across segments or several per segment.
 * A size above `maxFrameBytes` (or negative) is refused as soon as its four
 * bytes are seen, before any of the frame is buffered.
 */
export class KafkaFrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxFrameBytes = KAFKA_DEFAULT_MAX_FRAME_BYTES) {}

  /** Bytes received and not yet returned in a frame. */
  get pending(): number { return this.buffered; }

  /** Adds bytes; returns the frames now complete, each WITH its 4-byte size prefix (forwardable as is). Throws KafkaProtocolError `oversized`. */
  push(chunk: Buffer): Buffer[] {
    if (chunk.length > 0) { this.chunks.push(chunk); this.buffered += chunk.length; }
    const out: Buffer[] = [];
    for (;;) {
      if (this.buffered < 4) break;
      const head = this.peek(4);
      const size = head.readInt32BE(0);
      if (size < 0 || size > this.maxFrameBytes) {
        throw new KafkaProtocolError('oversized', `kafka frame: size ${size} is ${size < 0 ? 'negative' : `larger than the maximum ${this.maxFrameBytes}`}`);
      }
      if (this.buffered < 4 + size) break;
      out.push(this.take(4 + size));
    }
    return out;
  }

  /** The stream ended: throws KafkaProtocolError `truncated` when part of a frame is left. */
  end(): void {
    if (this.buffered > 0) throw new KafkaProtocolError('truncated', `kafka frame: the stream ended inside a frame (${this.buffered} bytes left)`);
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!.subarray(0, n);
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all.subarray(0, n);
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const frame = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return frame;
  }
}

// ---- primitive reader / writer ----

/** Reads Kafka's primitive types from one frame; every read past the end is a KafkaProtocolError `malformed`. */
export class KafkaReader {
  pos = 0;
  constructor(readonly buf: Buffer, private readonly what = 'kafka request') {}

  get remaining(): number { return this.buf.length - this.pos; }

  private need(n: number, field: string): void {
    if (n < 0 || this.pos + n > this.buf.length) {
      throw new KafkaProtocolError('malformed', `${this.what}: ${field}: needs ${n} bytes at offset ${this.pos}, ${this.buf.length - this.pos} left`);
    }
  }
  fail(field: string, msg: string): never {
    throw new KafkaProtocolError('malformed', `${this.what}: ${field}: ${msg}`);
  }
  i8(f = 'int8'): number { this.need(1, f); return this.buf.readInt8(this.pos++); }
  bool(f = 'boolean'): boolean { return this.i8(f) !== 0; }
  i16(f = 'int16'): number { this.need(2, f); const v = this.buf.readInt16BE(this.pos); this.pos += 2; return v; }
  i32(f = 'int32'): number { this.need(4, f); const v = this.buf.readInt32BE(this.pos); this.pos += 4; return v; }
  i64(f = 'int64'): bigint { this.need(8, f); const v = this.buf.readBigInt64BE(this.pos); this.pos += 8; return v; }
  uuid(f = 'uuid'): Buffer { this.need(16, f); const v = this.buf.subarray(this.pos, this.pos + 16); this.pos += 16; return v; }
  /** Unsigned varint (at most 5 bytes: a 32-bit value). */
  uvarint(f = 'varint'): number {
    let v = 0;
    for (let i = 0; i < 5; i++) {
      this.need(1, f);
      const b = this.buf[this.pos++]!;
      v += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) return v;
    }
    return this.fail(f, 'unsigned varint longer than 5 bytes');
  }
  private strBytes(n: number, f: string): string {
    this.need(n, f);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  /** STRING / COMPACT_STRING (flexible). */
  str(flex: boolean, f = 'string'): string {
    const s = this.nstr(flex, f);
    if (s === null) this.fail(f, 'null where a string is required');
    return s;
  }
  /** NULLABLE_STRING / COMPACT_NULLABLE_STRING. */
  nstr(flex: boolean, f = 'string'): string | null {
    if (flex) {
      const n = this.uvarint(f);
      return n === 0 ? null : this.strBytes(n - 1, f);
    }
    const n = this.i16(f);
    if (n < -1) this.fail(f, `negative length ${n}`);
    return n === -1 ? null : this.strBytes(n, f);
  }
  /** BYTES / NULLABLE_BYTES (and their compact forms). */
  nbytes(flex: boolean, f = 'bytes'): Buffer | null {
    let n: number;
    if (flex) { const u = this.uvarint(f); if (u === 0) return null; n = u - 1; } else {
      n = this.i32(f);
      if (n < -1) this.fail(f, `negative length ${n}`);
      if (n === -1) return null;
    }
    this.need(n, f);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  /** ARRAY / COMPACT_ARRAY length; null for a null array. Each element needs at least `minElem` bytes, so a huge count in a short frame is refused at once. */
  arrLen(flex: boolean, f = 'array', minElem = 1): number | null {
    let n: number;
    if (flex) { const u = this.uvarint(f); if (u === 0) return null; n = u - 1; } else {
      n = this.i32(f);
      if (n < -1) this.fail(f, `negative length ${n}`);
      if (n === -1) return null;
    }
    if (n * minElem > this.remaining) this.fail(f, `${n} elements cannot fit in the ${this.remaining} bytes left`);
    return n;
  }
  /** A non-null array of elements read by `fn`. */
  arr<T>(flex: boolean, fn: (i: number) => T, f = 'array', minElem = 1): T[] {
    const n = this.arrLen(flex, f, minElem);
    if (n === null) this.fail(f, 'null where an array is required');
    return this.items(n, fn);
  }
  /** A nullable array. */
  narr<T>(flex: boolean, fn: (i: number) => T, f = 'array', minElem = 1): T[] | null {
    const n = this.arrLen(flex, f, minElem);
    return n === null ? null : this.items(n, fn);
  }
  private items<T>(n: number, fn: (i: number) => T): T[] {
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(fn(i));
    return out;
  }
  /** A tagged-field section (flexible versions only): skipped, checked for size. Returns how many fields it had. */
  tags(flex: boolean, f = 'tagged fields'): number {
    if (!flex) return 0;
    const n = this.uvarint(f);
    if (n > this.remaining) this.fail(f, `${n} tagged fields cannot fit in the ${this.remaining} bytes left`);
    for (let i = 0; i < n; i++) {
      this.uvarint(`${f}[${i}].tag`);
      const size = this.uvarint(`${f}[${i}].size`);
      this.need(size, `${f}[${i}]`);
      this.pos += size;
    }
    return n;
  }
}

/** Writes Kafka's primitive types; `toFrame` prefixes the size. */
export class KafkaWriter {
  private parts: Buffer[] = [];
  private len = 0;
  private push(b: Buffer): this { this.parts.push(b); this.len += b.length; return this; }
  private fixed(n: number, fn: (b: Buffer) => void): this { const b = Buffer.alloc(n); fn(b); return this.push(b); }
  i8(v: number): this { return this.fixed(1, (b) => b.writeInt8(v)); }
  bool(v: boolean): this { return this.i8(v ? 1 : 0); }
  i16(v: number): this { return this.fixed(2, (b) => b.writeInt16BE(v)); }
  i32(v: number): this { return this.fixed(4, (b) => b.writeInt32BE(v)); }
  i64(v: bigint | number): this { return this.fixed(8, (b) => b.writeBigInt64BE(BigInt(v))); }
  uuid(v: Buffer | undefined): this { const b = Buffer.alloc(16); if (v) v.copy(b, 0, 0, 16); return this.push(b); }
  uvarint(v: number): this {
    const out: number[] = [];
    let x = v >>> 0;
    while (x >= 0x80) { out.push((x & 0x7f) | 0x80); x >>>= 7; }
    out.push(x);
    return this.push(Buffer.from(out));
  }
  raw(b: Buffer): this { return this.push(b); }
  nstr(s: string | null, flex: boolean): this {
    if (s === null) return flex ? this.uvarint(0) : this.i16(-1);
    const b = Buffer.from(s, 'utf8');
    if (flex) this.uvarint(b.length + 1); else this.i16(b.length);
    return this.push(b);
  }
  str(s: string, flex: boolean): this { return this.nstr(s, flex); }
  nbytes(b: Buffer | null, flex: boolean): this {
    if (b === null) return flex ? this.uvarint(0) : this.i32(-1);
    if (flex) this.uvarint(b.length + 1); else this.i32(b.length);
    return this.push(b);
  }
  /** An array (null writes a null array). */
  arr<T>(items: readonly T[] | null, flex: boolean, fn: (w: this, item: T) => void): this {
    if (items === null) return flex ? this.uvarint(0) : this.i32(-1);
    if (flex) this.uvarint(items.length + 1); else this.i32(items.length);
    for (const it of items) fn(this, it);
    return this;
  }
  /** An empty tagged-field section (flexible versions only). */
  tags(flex: boolean): this { return flex ? this.uvarint(0) : this; }
  /** The bytes written. */
  toBuffer(): Buffer { return Buffer.concat(this.parts, this.len); }
  /** The bytes written with the int32 size prefix: one frame. */
  toFrame(): Buffer { const h = Buffer.alloc(4); h.writeInt32BE(this.len); return Buffer.concat([h, ...this.parts], 4 + this.len); }
}

// ---- requests ----

/** A partition of a request, with what the broker (and flows) may use of it. */
export interface KafkaRequestPartition {
  partition: number;
  /** Produce: the record batch bytes as sent. */
  records?: Buffer | null;
  /** Fetch: the offset to fetch from; ListOffsets: the timestamp; OffsetCommit: the committed offset. */
  offset?: bigint;
  /** Fetch: partition_max_bytes. */
  maxBytes?: number;
  /** OffsetCommit: committed_metadata. */
  metadata?: string | null;
}

/** A topic of a request: its name (or, for Fetch v13 / Metadata v10+ by id, `<topic-id:…>` unless resolved) and partitions. */
export interface KafkaRequestTopic {
  name: string;
  /** The topic id as sent (Fetch v13, DeleteTopics v6, Metadata v10+), 16 bytes. */
  topicId?: Buffer;
  partitions: KafkaRequestPartition[];
}

/** A decoded request: header, topics, and the fields a proxy or the test broker needs. */
export interface KafkaRequest {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  /** null for a null client id (header v1+ may send one). */
  clientId: string | null;
  /** True for flexible versions (header v2, response header v1). */
  flexible: boolean;
  /** Topic names in request order (with `<topic-id:…>` for unresolved ids): what rules match. */
  topics: string[];
  /** True when the request asks about every topic (Metadata v0 `[]`, v1+ null; OffsetFetch v2+ null). */
  allTopics: boolean;
  /** Per-topic details for the types that carry them. */
  topicData: KafkaRequestTopic[];
  /** Produce: acks (0: the client expects no response). */
  acks?: number;
  /** Produce v3+: transactional_id. */
  transactionalId?: string | null;
  /** Fetch: max_wait_ms, min_bytes, max_bytes. */
  fetch?: { maxWaitMs: number; minBytes: number; maxBytes: number; sessionId: number; sessionEpoch: number };
  /** OffsetCommit / OffsetFetch / JoinGroup / SyncGroup / Heartbeat / LeaveGroup: the group id; OffsetFetch v8 may name several. */
  groupIds?: string[];
  /** FindCoordinator: key type (0 group, 1 transaction) and keys. */
  coordinator?: { keyType: number; keys: string[] };
  /** Metadata v4+: allow_auto_topic_creation. */
  allowAutoTopicCreation?: boolean;
  /** The body after the header (the reader positioned at it), for callers that parse further. */
  body: Buffer;
}

/** The name used for a topic given only by id, which no valid rule topic equals. */
export function topicIdName(id: Buffer): string {
  return `<topic-id:${id.toString('hex')}>`;
}

/** Options of {@link decodeKafkaRequest}. */
export interface DecodeOptions {
  /** Resolves a topic id to its name (learned from Metadata responses); unresolved ids become `<topic-id:…>`. */
  topicName?: (id: Buffer) => string | undefined;
}

/**
 * Decodes one request frame (with its 4-byte size prefix, as
 * {@link KafkaFrameDecoder} returns it). Throws KafkaProtocolError:
 * `truncated` when the size disagrees with the bytes, `unsupported-key` /
 * `unsupported-version` outside {@link KAFKA_SUPPORTED_APIS}, `malformed`
 * when the body does not match its schema.
 */
export function decodeKafkaRequest(frame: Buffer, options: DecodeOptions = {}): KafkaRequest {
  if (frame.length < 4) throw new KafkaProtocolError('truncated', `kafka request: ${frame.length} bytes, not even a size`);
  const size = frame.readInt32BE(0);
  if (size !== frame.length - 4) throw new KafkaProtocolError('truncated', `kafka request: size says ${size} bytes, the frame has ${frame.length - 4}`);
  if (size < 8) throw new KafkaProtocolError('truncated', `kafka request: ${size} bytes is shorter than a request header`);
  const r = new KafkaReader(frame.subarray(4));
  const apiKey = r.i16('api_key');
  const apiVersion = r.i16('api_version');
  const correlationId = r.i32('correlation_id');
  const support = KAFKA_SUPPORTED_APIS.get(apiKey);
  if (!support) throw new KafkaProtocolError('unsupported-key', `kafka request: API key ${apiKey} is not one beeline parses (correlation id ${correlationId})`);
  if (apiVersion < support.minVersion || apiVersion > support.maxVersion) {
    throw new KafkaProtocolError('unsupported-version', `kafka request: ${support.name} v${apiVersion} is not a version beeline parses (v${support.minVersion}–v${support.maxVersion}; correlation id ${correlationId})`);
  }
  const flex = apiVersion >= support.flexibleFrom;
  // Header v1+: client_id is a non-compact NULLABLE_STRING even in header v2.
  const clientId = r.nstr(false, 'client_id');
  r.tags(flex, 'header tagged fields');
  const req: KafkaRequest = {
    apiKey, apiVersion, correlationId, clientId, flexible: flex,
    topics: [], allTopics: false, topicData: [], body: r.buf.subarray(r.pos),
  };
  const name = (id: Buffer) => options.topicName?.(id) ?? topicIdName(id);
  BODY[apiKey]?.(r, apiVersion, flex, req, name);
  req.topics = req.topicData.map((t) => t.name);
  return req;
}

type BodyParser = (r: KafkaReader, v: number, flex: boolean, req: KafkaRequest, name: (id: Buffer) => string) => void;

const BODY: Record<number, BodyParser> = {
  [ApiKey.Produce]: (r, v, flex, req) => {
    if (v >= 3) req.transactionalId = r.nstr(flex, 'transactional_id');
    req.acks = r.i16('acks');
    r.i32('timeout_ms');
    req.topicData = r.arr(flex, (i) => {
      const t: KafkaRequestTopic = { name: r.str(flex, `topic_data[${i}].name`), partitions: [] };
      t.partitions = r.arr(flex, (j) => {
        const p: KafkaRequestPartition = { partition: r.i32(`topic_data[${i}].partition_data[${j}].index`) };
        p.records = r.nbytes(flex, `topic_data[${i}].partition_data[${j}].records`);
        r.tags(flex);
        return p;
      }, `topic_data[${i}].partition_data`, 4);
      r.tags(flex);
      return t;
    }, 'topic_data', 2);
    r.tags(flex);
  },
  [ApiKey.Fetch]: (r, v, flex, req, name) => {
    r.i32('replica_id');
    const maxWaitMs = r.i32('max_wait_ms');
    const minBytes = r.i32('min_bytes');
    const maxBytes = v >= 3 ? r.i32('max_bytes') : 0x7fffffff;
    if (v >= 4) r.i8('isolation_level');
    const sessionId = v >= 7 ? r.i32('session_id') : 0;
    const sessionEpoch = v >= 7 ? r.i32('session_epoch') : -1;
    req.fetch = { maxWaitMs, minBytes, maxBytes, sessionId, sessionEpoch };
    req.topicData = r.arr(flex, (i) => {
      const t: KafkaRequestTopic = v >= 13 ? (() => { const id = Buffer.from(r.uuid(`topics[${i}].topic_id`)); return { name: name(id), topicId: id, partitions: [] }; })()
        : { name: r.str(flex, `topics[${i}].topic`), partitions: [] };
      t.partitions = r.arr(flex, (j) => {
        const f = `topics[${i}].partitions[${j}]`;
        const p: KafkaRequestPartition = { partition: r.i32(`${f}.partition`) };
        if (v >= 9) r.i32(`${f}.current_leader_epoch`);
        p.offset = r.i64(`${f}.fetch_offset`);
        if (v >= 12) r.i32(`${f}.last_fetched_epoch`);
        if (v >= 5) r.i64(`${f}.log_start_offset`);
        p.maxBytes = r.i32(`${f}.partition_max_bytes`);
        r.tags(flex);
        return p;
      }, `topics[${i}].partitions`, 16);
      r.tags(flex);
      return t;
    }, 'topics', 2);
    // forgotten_topics_data (v7+) names topics the client stops fetching in
    // its session: no data moves for them, so they are not the request's topics.
    if (v >= 7) r.arr(flex, (i) => { if (v >= 13) r.uuid(); else r.str(flex, `forgotten_topics_data[${i}].topic`); r.arr(flex, () => r.i32(), 'partitions', 4); r.tags(flex); }, 'forgotten_topics_data', 2);
    if (v >= 11) r.str(flex, 'rack_id');
    r.tags(flex);
  },
  [ApiKey.ListOffsets]: (r, v, flex, req) => {
    r.i32('replica_id');
    if (v >= 2) r.i8('isolation_level');
    req.topicData = r.arr(flex, (i) => {
      const t: KafkaRequestTopic = { name: r.str(flex, `topics[${i}].name`), partitions: [] };
      t.partitions = r.arr(flex, (j) => {
        const f = `topics[${i}].partitions[${j}]`;
        const p: KafkaRequestPartition = { partition: r.i32(`${f}.partition_index`) };
        if (v >= 4) r.i32(`${f}.current_leader_epoch`);
        p.offset = r.i64(`${f}.timestamp`);
        if (v === 0) r.i32(`${f}.max_num_offsets`);
        r.tags(flex);
        return p;
      }, `topics[${i}].partitions`, 4);
      r.tags(flex);
      return t;
    }, 'topics', 2);
    r.tags(flex);
  },
  [ApiKey.Metadata]: (r, v, flex, req, name) => {
    const topics = v === 0
      ? r.arr(false, (i) => ({ name: r.str(false, `topics[${i}].name`), partitions: [] }), 'topics', 2)
      : r.narr(flex, (i): KafkaRequestTopic => {
        if (v >= 10) {
          const id = Buffer.from(r.uuid(`topics[${i}].topic_id`));
          const n = r.nstr(flex, `topics[${i}].name`);
          r.tags(flex);
          return n === null ? { name: name(id), topicId: id, partitions: [] } : { name: n, partitions: [] };
        }
        const n = r.str(flex, `topics[${i}].name`);
        r.tags(flex);
        return { name: n, partitions: [] };
      }, 'topics', 1);
    // v0: an empty list asks for every topic; v1+: null does, [] asks for none (brokers only).
    if (topics === null || (v === 0 && topics.length === 0)) req.allTopics = true;
    req.topicData = topics ?? [];
    if (v >= 4) req.allowAutoTopicCreation = r.bool('allow_auto_topic_creation');
    if (v >= 8 && v <= 10) r.bool('include_cluster_authorized_operations');
    if (v >= 8) r.bool('include_topic_authorized_operations');
    r.tags(flex);
  },
  [ApiKey.OffsetCommit]: (r, v, flex, req) => {
    req.groupIds = [r.str(flex, 'group_id')];
    if (v >= 1) { r.i32('generation_id_or_member_epoch'); r.str(flex, 'member_id'); }
    if (v >= 7) r.nstr(flex, 'group_instance_id');
    if (v >= 2 && v <= 4) r.i64('retention_time_ms');
    req.topicData = r.arr(flex, (i) => {
      const t: KafkaRequestTopic = { name: r.str(flex, `topics[${i}].name`), partitions: [] };
      t.partitions = r.arr(flex, (j) => {
        const f = `topics[${i}].partitions[${j}]`;
        const p: KafkaRequestPartition = { partition: r.i32(`${f}.partition_index`) };
        p.offset = r.i64(`${f}.committed_offset`);
        if (v >= 6) r.i32(`${f}.committed_leader_epoch`);
        if (v === 1) r.i64(`${f}.commit_timestamp`);
        p.metadata = r.nstr(flex, `${f}.committed_metadata`);
        r.tags(flex);
        return p;
      }, `topics[${i}].partitions`, 4);
      r.tags(flex);
      return t;
    }, 'topics', 2);
    r.tags(flex);
  },
  [ApiKey.OffsetFetch]: (r, v, flex, req) => {
    const topicList = (f: string): KafkaRequestTopic[] | null => r.narr(flex, (i) => {
      const t: KafkaRequestTopic = { name: r.str(flex, `${f}[${i}].name`), partitions: [] };
      t.partitions = r.arr(flex, (j) => ({ partition: r.i32(`${f}[${i}].partition_indexes[${j}]`) }), `${f}[${i}].partition_indexes`, 4);
      r.tags(flex);
      return t;
    }, f, 2);
    if (v <= 7) {
      req.groupIds = [r.str(flex, 'group_id')];
      const topics = topicList('topics');
      if (topics === null && v < 2) r.fail('topics', `null topics need v2+ (this is v${v})`);
      if (topics === null) req.allTopics = true;
      req.topicData = topics ?? [];
    } else {
      req.groupIds = [];
      r.arr(flex, (g) => {
        req.groupIds!.push(r.str(flex, `groups[${g}].group_id`));
        const topics = topicList(`groups[${g}].topics`);
        if (topics === null) req.allTopics = true; else req.topicData.push(...topics);
        r.tags(flex);
      }, 'groups', 2);
    }
    if (v >= 7) r.bool('require_stable');
    r.tags(flex);
  },
  [ApiKey.FindCoordinator]: (r, v, flex, req) => {
    if (v <= 3) {
      const key = r.str(flex, 'key');
      const keyType = v >= 1 ? r.i8('key_type') : 0;
      req.coordinator = { keyType, keys: [key] };
    } else {
      const keyType = r.i8('key_type');
      req.coordinator = { keyType, keys: r.arr(flex, (i) => r.str(flex, `coordinator_keys[${i}]`), 'coordinator_keys', 1) };
    }
    r.tags(flex);
  },
  [ApiKey.JoinGroup]: (r, _v, flex, req) => { req.groupIds = [r.str(flex, 'group_id')]; },
  [ApiKey.Heartbeat]: (r, _v, flex, req) => { req.groupIds = [r.str(flex, 'group_id')]; },
  [ApiKey.LeaveGroup]: (r, _v, flex, req) => { req.groupIds = [r.str(flex, 'group_id')]; },
  [ApiKey.SyncGroup]: (r, _v, flex, req) => { req.groupIds = [r.str(flex, 'group_id')]; },
  [ApiKey.CreateTopics]: (r, v, flex, req) => {
    req.topicData = r.arr(flex, (i) => {
      const f = `topics[${i}]`;
      const t: KafkaRequestTopic = { name: r.str(flex, `${f}.name`), partitions: [] };
      r.i32(`${f}.num_partitions`);
      r.i16(`${f}.replication_factor`);
      r.arr(flex, (j) => { r.i32(`${f}.assignments[${j}].partition_index`); r.arr(flex, () => r.i32(), `${f}.assignments[${j}].broker_ids`, 4); r.tags(flex); }, `${f}.assignments`, 8);
      r.arr(flex, (j) => { r.str(flex, `${f}.configs[${j}].name`); r.nstr(flex, `${f}.configs[${j}].value`); r.tags(flex); }, `${f}.configs`, 2);
      r.tags(flex);
      return t;
    }, 'topics', 2);
    r.i32('timeout_ms');
    if (v >= 1) r.bool('validate_only');
    r.tags(flex);
  },
  [ApiKey.DeleteTopics]: (r, v, flex, req, name) => {
    if (v <= 5) {
      req.topicData = r.arr(flex, (i) => ({ name: r.str(flex, `topic_names[${i}]`), partitions: [] }), 'topic_names', 1);
    } else {
      req.topicData = r.arr(flex, (i) => {
        const n = r.nstr(flex, `topics[${i}].name`);
        const id = Buffer.from(r.uuid(`topics[${i}].topic_id`));
        r.tags(flex);
        return n === null ? { name: name(id), topicId: id, partitions: [] } : { name: n, topicId: id, partitions: [] };
      }, 'topics', 17);
    }
    r.i32('timeout_ms');
    r.tags(flex);
  },
  [ApiKey.InitProducerId]: (r, _v, flex, req) => {
    req.transactionalId = r.nstr(flex, 'transactional_id');
  },
};

/** Encodes a request header (v1, or v2 for flexible versions) and body into a frame: for tests and the test broker's clients. */
export function encodeKafkaRequest(apiKey: number, apiVersion: number, correlationId: number, clientId: string | null, body: (w: KafkaWriter, flex: boolean) => void): Buffer {
  const flex = isFlexible(apiKey, apiVersion);
  const w = new KafkaWriter().i16(apiKey).i16(apiVersion).i32(correlationId).nstr(clientId, false).tags(flex);
  body(w, flex);
  return w.toFrame();
}

// ---- responses ----

/** Starts a response frame for `req`: the correlation id, and tagged fields for flexible versions except ApiVersions (always response header v0). */
export function responseWriter(req: Pick<KafkaRequest, 'apiKey' | 'correlationId' | 'flexible'>): KafkaWriter {
  const w = new KafkaWriter().i32(req.correlationId);
  if (req.flexible && req.apiKey !== ApiKey.ApiVersions) w.tags(true);
  return w;
}

/** A broker in a Metadata response. */
export interface MetadataBroker { nodeId: number; host: string; port: number; rack?: string | null }
/** A partition in a Metadata response. */
export interface MetadataPartition { errorCode: number; partition: number; leader: number; replicas: number[]; isr: number[] }
/** A topic in a Metadata response. */
export interface MetadataTopic { errorCode: number; name: string | null; topicId?: Buffer; isInternal?: boolean; partitions: MetadataPartition[] }

/** A Metadata response body of the request's version. */
export function encodeMetadataResponse(req: KafkaRequest, data: { brokers: MetadataBroker[]; clusterId: string | null; controllerId: number; topics: MetadataTopic[] }): Buffer {
  const v = req.apiVersion;
  const flex = req.flexible;
  const w = responseWriter(req);
  if (v >= 3) w.i32(0);
  w.arr(data.brokers, flex, (w, b) => {
    w.i32(b.nodeId).str(b.host, flex).i32(b.port);
    if (v >= 1) w.nstr(b.rack ?? null, flex);
    w.tags(flex);
  });
  if (v >= 2) w.nstr(data.clusterId, flex);
  if (v >= 1) w.i32(data.controllerId);
  w.arr(data.topics, flex, (w, t) => {
    w.i16(t.errorCode).nstr(v >= 12 ? t.name : (t.name ?? ''), flex);
    if (v >= 10) w.uuid(t.topicId);
    if (v >= 1) w.bool(t.isInternal ?? false);
    w.arr(t.partitions, flex, (w, p) => {
      w.i16(p.errorCode).i32(p.partition).i32(p.leader);
      if (v >= 7) w.i32(-1);
      const ints = (xs: number[]) => w.arr(xs, flex, (w, x) => { w.i32(x); });
      ints(p.replicas); ints(p.isr);
      if (v >= 5) ints([]);
      w.tags(flex);
    });
    if (v >= 8) w.i32(-2147483648);
    w.tags(flex);
  });
  if (v >= 8 && v <= 10) w.i32(-2147483648);
  w.tags(flex);
  return w.toFrame();
}

/** A partition result of a Produce response. */
export interface ProducePartitionResult { partition: number; errorCode: number; baseOffset: bigint | number }

/** A Produce response body of the request's version. */
export function encodeProduceResponse(req: KafkaRequest, topics: { name: string; partitions: ProducePartitionResult[] }[]): Buffer {
  const v = req.apiVersion;
  const flex = req.flexible;
  const w = responseWriter(req);
  w.arr(topics, flex, (w, t) => {
    w.str(t.name, flex);
    w.arr(t.partitions, flex, (w, p) => {
      w.i32(p.partition).i16(p.errorCode).i64(p.baseOffset);
      if (v >= 2) w.i64(-1);
      if (v >= 5) w.i64(p.errorCode === 0 ? 0 : -1);
      if (v >= 8) { w.arr([], flex, () => undefined); w.nstr(null, flex); }
      w.tags(flex);
    });
    w.tags(flex);
  });
  if (v >= 1) w.i32(0);
  w.tags(flex);
  return w.toFrame();
}

/** A partition result of a Fetch response. */
export interface FetchPartitionResult { partition: number; errorCode: number; highWatermark: bigint | number; records: Buffer | null }

/** A Fetch response body of the request's version (v13: topics by id, as the request gave them). */
export function encodeFetchResponse(req: KafkaRequest, topics: { name: string; topicId?: Buffer; partitions: FetchPartitionResult[] }[], errorCode = 0): Buffer {
  const v = req.apiVersion;
  const flex = req.flexible;
  const w = responseWriter(req);
  if (v >= 1) w.i32(0);
  if (v >= 7) w.i16(errorCode).i32(req.fetch?.sessionId ?? 0);
  w.arr(topics, flex, (w, t) => {
    if (v >= 13) w.uuid(t.topicId); else w.str(t.name, flex);
    w.arr(t.partitions, flex, (w, p) => {
      w.i32(p.partition).i16(p.errorCode).i64(p.highWatermark);
      if (v >= 4) w.i64(p.highWatermark);
      if (v >= 5) w.i64(0);
      if (v >= 4) w.arr(null, flex, () => undefined);
      if (v >= 11) w.i32(-1);
      w.nbytes(p.records, flex);
      w.tags(flex);
    });
    w.tags(flex);
  });
  w.tags(flex);
  return w.toFrame();
}

/** A ListOffsets response body of the request's version. */
export function encodeListOffsetsResponse(req: KafkaRequest, topics: { name: string; partitions: { partition: number; errorCode: number; offset: bigint | number; timestamp?: bigint | number }[] }[]): Buffer {
  const v = req.apiVersion;
  const flex = req.flexible;
  const w = responseWriter(req);
  if (v >= 2) w.i32(0);
  w.arr(topics, flex, (w, t) => {
    w.str(t.name, flex);
    w.arr(t.partitions, flex, (w, p) => {
      w.i32(p.partition).i16(p.errorCode);
      if (v === 0) w.arr(p.errorCode === 0 ? [p.offset] : [], false, (w, o) => { w.i64(o); });
      else { w.i64(p.timestamp ?? -1).i64(p.offset); if (v >= 4) w.i32(-1); }
      w.tags(flex);
    });
    w.tags(flex);
  });
  w.tags(flex);
  return w.toFrame();
}

/** An OffsetCommit response body of the request's version. */
export function encodeOffsetCommitResponse(req: KafkaRequest, topics: { name: string; partitions: { partition: number; errorCode: number }[] }[]): Buffer {
  const flex = req.flexible;
  const w = responseWriter(req);
  if (req.apiVersion >= 3) w.i32(0);
  w.arr(topics, flex, (w, t) => {
    w.str(t.name, flex);
    w.arr(t.partitions, flex, (w, p) => { w.i32(p.partition).i16(p.errorCode).tags(flex); });
    w.tags(flex);
  });
  w.tags(flex);
  return w.toFrame();
}

/** A topic of an OffsetFetch response. */
export interface OffsetFetchTopicResult { name: string; partitions: { partition: number; offset: bigint | number; metadata: string | null; errorCode: number }[] }

/** An OffsetFetch response body of the request's version; v8 answers per group (`groups`, each with the same topics and error). */
export function encodeOffsetFetchResponse(req: KafkaRequest, topics: OffsetFetchTopicResult[], errorCode: number): Buffer {
  const v = req.apiVersion;
  const flex = req.flexible;
  const w = responseWriter(req);
  if (v >= 3) w.i32(0);
  const topicArr = (w: KafkaWriter) => w.arr(topics, flex, (w, t) => {
    w.str(t.name, flex);
    w.arr(t.partitions, flex, (w, p) => {
      w.i32(p.partition).i64(p.offset);
      if (v >= 5) w.i32(-1);
      w.nstr(p.metadata, flex).i16(p.errorCode).tags(flex);
    });
    w.tags(flex);
  });
  if (v <= 7) {
    topicArr(w);
    if (v >= 2) w.i16(errorCode);
  } else {
    w.arr(req.groupIds ?? [], flex, (w, g) => { w.str(g, flex); topicArr(w); w.i16(errorCode).tags(flex); });
  }
  w.tags(flex);
  return w.toFrame();
}

/** A FindCoordinator response body of the request's version (v4: one entry per key). */
export function encodeFindCoordinatorResponse(req: KafkaRequest, c: { errorCode: number; nodeId: number; host: string; port: number }): Buffer {
  const v = req.apiVersion;
  const flex = req.flexible;
  const w = responseWriter(req);
  if (v >= 1) w.i32(0);
  if (v <= 3) {
    w.i16(c.errorCode);
    if (v >= 1) w.nstr(null, flex);
    w.i32(c.nodeId).str(c.host, flex).i32(c.port);
  } else {
    w.arr(req.coordinator?.keys ?? [], flex, (w, k) => { w.str(k, flex).i32(c.nodeId).str(c.host, flex).i32(c.port).i16(c.errorCode).nstr(null, flex).tags(flex); });
  }
  w.tags(flex);
  return w.toFrame();
}

/** A JoinGroup response body of the request's version. */
export function encodeJoinGroupResponse(req: KafkaRequest, j: { errorCode: number; generationId: number; protocolType: string | null; protocolName: string | null; leader: string; memberId: string; members: { memberId: string; metadata: Buffer }[] }): Buffer {
  const v = req.apiVersion;
  const flex = req.flexible;
  const w = responseWriter(req);
  if (v >= 2) w.i32(0);
  w.i16(j.errorCode).i32(j.generationId);
  if (v >= 7) w.nstr(j.protocolType, flex);
  w.nstr(v >= 7 ? j.protocolName : (j.protocolName ?? ''), flex);
  w.str(j.leader, flex);
  if (v >= 9) w.bool(false);
  w.str(j.memberId, flex);
  w.arr(j.members, flex, (w, m) => {
    w.str(m.memberId, flex);
    if (v >= 5) w.nstr(null, flex);
    w.nbytes(m.metadata, flex).tags(flex);
  });
  w.tags(flex);
  return w.toFrame();
}

/** A SyncGroup response body of the request's version. */
export function encodeSyncGroupResponse(req: KafkaRequest, s: { errorCode: number; protocolType: string | null; protocolName: string | null; assignment: Buffer }): Buffer {
  const v = req.apiVersion;
  const flex = req.flexible;
  const w = responseWriter(req);
  if (v >= 1) w.i32(0);
  w.i16(s.errorCode);
  if (v >= 5) w.nstr(s.protocolType, flex).nstr(s.protocolName, flex);
  w.nbytes(s.assignment, flex).tags(flex);
  return w.toFrame();
}

/** A Heartbeat response body of the request's version. */
export function encodeHeartbeatResponse(req: KafkaRequest, errorCode: number): Buffer {
  const w = responseWriter(req);
  if (req.apiVersion >= 1) w.i32(0);
  return w.i16(errorCode).tags(req.flexible).toFrame();
}

/** A LeaveGroup response body of the request's version (v3+: the members' results, none here). */
export function encodeLeaveGroupResponse(req: KafkaRequest, errorCode: number): Buffer {
  const w = responseWriter(req);
  if (req.apiVersion >= 1) w.i32(0);
  w.i16(errorCode);
  if (req.apiVersion >= 3) w.arr([], req.flexible, () => undefined);
  return w.tags(req.flexible).toFrame();
}

/** An ApiVersions response body of the request's version (response header v0 whatever the version). */
export function encodeApiVersionsResponse(req: KafkaRequest, errorCode: number, apis: readonly { apiKey: number; minVersion: number; maxVersion: number }[]): Buffer {
  const v = req.apiVersion;
  const flex = req.flexible;
  const w = responseWriter(req);
  w.i16(errorCode);
  w.arr(apis, flex, (w, a) => { w.i16(a.apiKey).i16(a.minVersion).i16(a.maxVersion).tags(flex); });
  if (v >= 1) w.i32(0);
  w.tags(flex);
  return w.toFrame();
}

/** A CreateTopics response body of the request's version. */
export function encodeCreateTopicsResponse(req: KafkaRequest, topics: { name: string; errorCode: number; numPartitions?: number }[]): Buffer {
  const v = req.apiVersion;
  const flex = req.flexible;
  const w = responseWriter(req);
  if (v >= 2) w.i32(0);
  w.arr(topics, flex, (w, t) => {
    w.str(t.name, flex);
    if (v >= 7) w.uuid(undefined);
    w.i16(t.errorCode);
    if (v >= 1) w.nstr(null, flex);
    if (v >= 5) { w.i32(t.numPartitions ?? -1).i16(-1); w.arr(null, flex, () => undefined); }
    w.tags(flex);
  });
  w.tags(flex);
  return w.toFrame();
}

/** A DeleteTopics response body of the request's version. */
export function encodeDeleteTopicsResponse(req: KafkaRequest, topics: { name: string; topicId?: Buffer; errorCode: number }[]): Buffer {
  const v = req.apiVersion;
  const flex = req.flexible;
  const w = responseWriter(req);
  if (v >= 1) w.i32(0);
  w.arr(topics, flex, (w, t) => {
    w.nstr(t.name, flex);
    if (v >= 6) w.uuid(t.topicId);
    w.i16(t.errorCode);
    if (v >= 5) w.nstr(null, flex);
    w.tags(flex);
  });
  w.tags(flex);
  return w.toFrame();
}

/** An InitProducerId response body of the request's version. */
export function encodeInitProducerIdResponse(req: KafkaRequest, r: { errorCode: number; producerId: bigint | number; producerEpoch: number }): Buffer {
  const w = responseWriter(req);
  w.i32(0).i16(r.errorCode).i64(r.producerId).i16(r.producerEpoch);
  return w.tags(req.flexible).toFrame();
}

/**
 * The response the proxy sends for a denied request, in the request type's
 * shape for its version, with the request's correlation id:
 * TOPIC_AUTHORIZATION_FAILED (29) on every topic and partition the request
 * named (the request is refused whole, as in Cilium: a topic that was allowed
 * was not acted on either, so it cannot be answered with success); where the
 * type has no topics, its own authorization error: GROUP_AUTHORIZATION_FAILED
 * for the group APIs and FindCoordinator of a group, TRANSACTIONAL_ID_AUTHORIZATION_FAILED
 * for FindCoordinator of a transaction and InitProducerId,
 * CLUSTER_AUTHORIZATION_FAILED for ApiVersions. A request for all topics
 * (Metadata, OffsetFetch) gets an empty topic list (and OffsetFetch the topic
 * error at its top level).
 *
 * Returns null for Produce with acks=0: the client expects no response, and
 * the proxy must close the connection to tell it, as Kafka's broker does on
 * any error of an acks=0 produce.
 */
export function buildDeniedResponse(req: KafkaRequest): Buffer | null {
  const TOPIC = KafkaError.TOPIC_AUTHORIZATION_FAILED;
  const GROUP = KafkaError.GROUP_AUTHORIZATION_FAILED;
  const parts = (t: KafkaRequestTopic) => t.partitions;
  // Fetch records: empty, not null, as Kafka's broker answers a partition in error.
  switch (req.apiKey) {
    case ApiKey.Produce:
      if (req.acks === 0) return null;
      return encodeProduceResponse(req, req.topicData.map((t) => ({ name: t.name, partitions: parts(t).map((p) => ({ partition: p.partition, errorCode: TOPIC, baseOffset: -1 })) })));
    case ApiKey.Fetch:
      return encodeFetchResponse(req, req.topicData.map((t) => ({ name: t.name, ...(t.topicId ? { topicId: t.topicId } : {}), partitions: parts(t).map((p) => ({ partition: p.partition, errorCode: TOPIC, highWatermark: -1, records: Buffer.alloc(0) })) })));
    case ApiKey.ListOffsets:
      return encodeListOffsetsResponse(req, req.topicData.map((t) => ({ name: t.name, partitions: parts(t).map((p) => ({ partition: p.partition, errorCode: TOPIC, offset: -1 })) })));
    case ApiKey.Metadata:
      return encodeMetadataResponse(req, { brokers: [], clusterId: null, controllerId: -1, topics: req.topicData.map((t) => ({ errorCode: TOPIC, name: t.topicId && t.name.startsWith('<topic-id:') ? null : t.name, ...(t.topicId ? { topicId: t.topicId } : {}), partitions: [] })) });
    case ApiKey.OffsetCommit:
      return encodeOffsetCommitResponse(req, req.topicData.map((t) => ({ name: t.name, partitions: parts(t).map((p) => ({ partition: p.partition, errorCode: TOPIC })) })));
    case ApiKey.OffsetFetch:
      return encodeOffsetFetchResponse(req, req.topicData.map((t) => ({ name: t.name, partitions: parts(t).map((p) => ({ partition: p.partition, offset: -1, metadata: null, errorCode: TOPIC })) })), req.allTopics || req.topicData.length === 0 ? TOPIC : KafkaError.NONE);
    case ApiKey.FindCoordinator:
      return encodeFindCoordinatorResponse(req, { errorCode: req.coordinator?.keyType === 1 ? KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED : GROUP, nodeId: -1, host: '', port: -1 });
    case ApiKey.JoinGroup:
      return encodeJoinGroupResponse(req, { errorCode: GROUP, generationId: -1, protocolType: null, protocolName: null, leader: '', memberId: '', members: [] });
    case ApiKey.Heartbeat: return encodeHeartbeatResponse(req, GROUP);
    case ApiKey.LeaveGroup: return encodeLeaveGroupResponse(req, GROUP);
    case ApiKey.SyncGroup:
      return encodeSyncGroupResponse(req, { errorCode: GROUP, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) });
    case ApiKey.ApiVersions: return encodeApiVersionsResponse(req, KafkaError.CLUSTER_AUTHORIZATION_FAILED, []);
    case ApiKey.CreateTopics: return encodeCreateTopicsResponse(req, req.topicData.map((t) => ({ name: t.name, errorCode: TOPIC })));
    case ApiKey.DeleteTopics:
      return encodeDeleteTopicsResponse(req, req.topicData.map((t) => ({ name: t.name, ...(t.topicId ? { topicId: t.topicId } : {}), errorCode: TOPIC })));
    case ApiKey.InitProducerId:
      return encodeInitProducerIdResponse(req, { errorCode: KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1, producerEpoch: -1 });
    default:
      throw new KafkaProtocolError('unsupported-key', `kafka request: no denied response for API key ${req.apiKey}`);
  }
}

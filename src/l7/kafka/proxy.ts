/**
 * The node proxy's Kafka connection logic: one client connection that the
 * datapath redirected to the proxy (a transparent listener in the agent;
 * here anything that hands over a socket), its connection to the broker the
 * client meant (origDst), and the policy applied to every request between
 * them. Transport-independent: the caller accepts the client socket and
 * opens the upstream one (an IP_TRANSPARENT socket bound to the client's
 * address in the node, a plain net.connect in the tests).
 *
 * Per request (frames cut by ./wire.ts's KafkaFrameDecoder, decoded by
 * decodeKafkaRequest, judged by the port's ./rules.ts matcher, asked of
 * `rulesFor` at each request so that a policy change applies to open
 * connections):
 *
 * - allowed: the frame is written upstream unchanged, byte for byte;
 * - denied: buildDeniedResponse's answer (TOPIC_AUTHORIZATION_FAILED on each
 *   topic, or the type's own authorization error) is written to the client
 *   on the same connection and nothing reaches the broker;
 * - denied and unanswerable (Produce acks=0, which has no response; a
 *   request of a type or version wire.ts does not parse, whose response
 *   it cannot build): the connection is closed once the answers to earlier
 *   requests have been relayed, as Kafka's broker closes on an acks=0 error;
 * - uncheckable (an oversized or truncated frame, an unparsable header, a
 *   body that does not match its schema): the connection is closed at once,
 *   logged; nothing of that frame or after it is forwarded.
 *
 * A request of an API key or version wire.ts does not parse is judged as
 * Cilium's kafkalib judged the types it did not parse: by its header (key,
 * version, client id) with its topics unknown, i.e. as naming every topic
 * (`allTopics`), so a rule with a `topic` never allows one of the request
 * types that carry topics; Cilium's `isTopicAPIKey` types without topics
 * follow the rule semantics of rules.ts. Allowed, it is forwarded unchanged.
 *
 * Ordering: Kafka answers the requests of one connection in order, and
 * clients match answers by correlation id in that order. Every request that
 * expects an answer gets a slot in a FIFO: an upstream slot (the broker's
 * answer, relayed as it streams in) or a local one (the proxy's denied
 * answer, or a close). A local slot is written only when every slot before
 * it is done, so a denied answer never overtakes the answer of an earlier
 * forwarded request. Produce with acks=0 gets no slot (no answer). An
 * upstream answer whose correlation id is not the head slot's closes the
 * connection (the broker stream is not what was forwarded).
 *
 * Topic ids: a request that names topics only by id (Fetch v13, Metadata
 * v10+ and DeleteTopics v6 without a name) is matched by the names the
 * broker gave those ids in the Metadata v10+ answers the proxy relayed
 * (./metadata.ts), remembered per broker identity (or address); an id not
 * learned stays `<topic-id:…>`, which only a rule without `topic` allows.
 *
 * Memory: a request frame is buffered whole (its topics decide it; Produce
 * interleaves topic names and record batches), up to `maxFrameBytes`; a
 * larger size closes the connection when its four size bytes arrive.
 * Answers from the broker are relayed as they arrive, never buffered whole
 * (only their 8-byte size+correlation head), except a Metadata v10+ answer
 * (up to `maxFrameBytes`), read for its topic ids before it is relayed. Both directions follow TCP
 * backpressure (a full socket pauses the other side), and a client with
 * more than `maxInFlight` answers outstanding is not read until some are
 * written.
 */
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { KafkaProtocolError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { Origin } from '../../policy/types.js';
import type { L7ConnectionEnds } from '../flows.js';
import { topicIdsFromMetadataResponse } from './metadata.js';
import type { KafkaRequestFacts, KafkaRuleMatcher, KafkaVerdict } from './rules.js';
import {
  ApiKey, KAFKA_DEFAULT_MAX_FRAME_BYTES, KafkaError, KafkaFrameDecoder, buildDeniedResponse, decodeKafkaRequest,
  type KafkaRequest,
} from './wire.js';

/** Which side of the endpoint the redirect is on (the policy direction that chose the rules). */
export type KafkaDirection = 'ingress' | 'egress';

/** What the proxy asks for the rules of a connection's port. */
export interface KafkaRulesQuery {
  /** The client's address (the connection's source). */
  client: string;
  /** The broker's address the client connected to (origDst). */
  server: string;
  /** The broker's port. */
  port: number;
  direction: KafkaDirection;
}

/** The rules of one redirect, as `rulesFor` returns them. */
export interface KafkaPortRules {
  matcher: KafkaRuleMatcher;
  /** The client's and server's security identities as the policy engine saw them (for flows; 0 or absent: unknown). */
  srcIdentity?: number;
  dstIdentity?: number;
}

/** The proxy's verdict on one request. */
export type KafkaRecordVerdict = 'forwarded' | 'denied' | 'error';

/**
 * One request the proxy handled, emitted once it is done: when its answer was
 * relayed or written, when it was forwarded with acks=0, or when the
 * connection closed first (`latencyMs` -1, `responded` false).
 */
export interface KafkaRecord extends L7ConnectionEnds {
  /** When the request's frame was complete, microseconds since the epoch. */
  timeUs: number;
  direction: KafkaDirection;
  /** -1 when the header could not be read. */
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  /** null: a null client id, or none could be read. */
  clientId: string | null;
  /** The topics the request names, de-duplicated in order (empty for types without topics, or when unparsed). */
  topics: string[];
  /** The request asked for every topic, or was not parsed (its topics unknown). */
  allTopics: boolean;
  verdict: KafkaRecordVerdict;
  /** The error code the client was answered with: 0 when forwarded (the broker's own per-partition codes are not read), the authorization error when denied, -1 when the connection was closed instead. */
  errorCode: number;
  /** The policies that allowed it (empty when denied). */
  allowedBy: Origin[];
  /** Denied: the topics no rule allowed. */
  deniedTopics: string[];
  /** An answer reached the client (relayed from the broker or written by the proxy). */
  responded: boolean;
  /** Frame complete → answer's last byte written, in milliseconds; -1 without an answer. */
  latencyMs: number;
  /** Why the request was not forwarded or the connection closed (a KafkaProtocolError's reason, `no-policy`, `acks-0`, `unparsed-denied`). */
  reason?: string;
}

/** Dependencies and limits of a {@link KafkaProxy}. */
export interface KafkaProxyOptions {
  /** The rules for a connection's port; undefined: no policy, every request denied (and logged). */
  rulesFor: (q: KafkaRulesQuery) => KafkaPortRules | undefined;
  /** Receives every request's record (flows: ./flows.ts). */
  record: (r: KafkaRecord) => void;
  log: Pick<Logger, 'debug' | 'info' | 'warn'>;
  /** Default direction of the connections (default 'egress'); handleConnection may override it. */
  direction?: KafkaDirection;
  /** The largest request frame accepted (default Kafka's socket.request.max.bytes, 100 MiB). */
  maxFrameBytes?: number;
  /** Outstanding answers per connection above which the client is not read (default 1024). */
  maxInFlight?: number;
  /** Topic ids remembered per broker scope (default 100,000). */
  maxTopicIds?: number;
  /** Clock in milliseconds (tests). */
  now?: () => number;
}

/** Counters over the proxy's life. */
export interface KafkaProxyStats {
  connections: number;
  active: number;
  forwarded: number;
  denied: number;
  /** Connections closed because a request could not be checked or answered (protocol errors, denied acks=0, denied unparsed). */
  closedByProxy: number;
}

/** What a request slot of the answer FIFO holds. */
interface Slot {
  kind: 'upstream' | 'local' | 'close';
  correlationId: number;
  /** local: the answer to write. */
  bytes?: Buffer;
  /** upstream: the request may have no answer (Produce of a version wire.ts does not parse: acks unknown). */
  optional?: boolean;
  /** upstream: a Metadata v10+ request, whose answer teaches topic ids (in this scope). */
  learn?: { apiVersion: number; scope: string };
  rec: KafkaRecord;
  t0: number;
}

/** The header of a request wire.ts does not parse (header v1: key, version, correlation id, client id). */
function readHeader(frame: Buffer): { apiKey: number; apiVersion: number; correlationId: number; clientId: string | null } | undefined {
  if (frame.length < 4 + 10) return undefined;
  const apiKey = frame.readInt16BE(4);
  const apiVersion = frame.readInt16BE(6);
  const correlationId = frame.readInt32BE(8);
  const n = frame.readInt16BE(12);
  if (n < -1 || 14 + Math.max(n, 0) > frame.length) return undefined;
  if (apiKey < 0 || apiVersion < 0) return undefined;
  return { apiKey, apiVersion, correlationId, clientId: n === -1 ? null : frame.toString('utf8', 14, 14 + n) };
}

/** The error code of a denied answer to `req` (what buildDeniedResponse writes). */
export function deniedErrorCode(req: Pick<KafkaRequest, 'apiKey' | 'coordinator'>): number {
  switch (req.apiKey) {
    case ApiKey.FindCoordinator:
      return req.coordinator?.keyType === 1 ? KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED : KafkaError.GROUP_AUTHORIZATION_FAILED;
    case ApiKey.JoinGroup: case ApiKey.Heartbeat: case ApiKey.LeaveGroup: case ApiKey.SyncGroup:
      return KafkaError.GROUP_AUTHORIZATION_FAILED;
    case ApiKey.ApiVersions: return KafkaError.CLUSTER_AUTHORIZATION_FAILED;
    case ApiKey.InitProducerId: return KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    default: return KafkaError.TOPIC_AUTHORIZATION_FAILED;
  }
}

/** An IPv4-mapped IPv6 address (a dual-stack listener's) as its IPv4 text. */
function plainAddress(a: string | undefined): string {
  if (!a) return '';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

const NO_POLICY: KafkaVerdict = Object.freeze({ allowed: false, allowedBy: [], deniedTopics: [] }) as KafkaVerdict;

/**
 * The Kafka proxy: `handleConnection` for each redirected connection. See the
 * file comment for what it does with each request.
 */
export class KafkaProxy {
  readonly stats: KafkaProxyStats = { connections: 0, active: 0, forwarded: 0, denied: 0, closedByProxy: 0 };
  private readonly conns = new Set<KafkaConnection>();
  /**
   * Topic id (hex) → name, learned from relayed Metadata answers, per scope:
   * the broker's security identity (the brokers of one cluster share it),
   * or its address when the identity is unknown. A scope per broker
   * identity keeps a server the client may reach (another "broker") from
   * naming the ids of a cluster it does not serve.
   */
  private readonly topicIds = new Map<string, Map<string, string>>();

  constructor(readonly opts: KafkaProxyOptions) {}

  /**
   * Proxies one client connection to `origDst` (the broker it connected
   * to). `connectUpstream` opens the broker connection (called once, at
   * once; writes before it is connected are queued by the socket).
   */
  handleConnection(client: net.Socket, origDst: { address: string; port: number }, connectUpstream: () => net.Socket | Duplex, direction: KafkaDirection = this.opts.direction ?? 'egress'): void {
    let c: KafkaConnection;
    try {
      c = new KafkaConnection(this, client, origDst, connectUpstream, direction, () => { this.conns.delete(c); this.stats.active--; });
    } catch (e) {
      this.opts.log.warn('kafka proxy: could not open the broker connection', { broker: `${origDst.address}:${origDst.port}`, error: (e as Error).message });
      client.destroy();
      return;
    }
    this.conns.add(c);
    this.stats.connections++;
    this.stats.active++;
  }

  /** The name of topic id `id` learned in `scope`, if any. */
  topicName(scope: string, id: Buffer): string | undefined {
    return this.topicIds.get(scope)?.get(id.toString('hex'));
  }

  /** Remembers the ids of a Metadata answer (at most `maxTopicIds` per scope; the oldest go first). */
  learnTopicIds(scope: string, pairs: readonly { id: string; name: string }[]): void {
    if (pairs.length === 0) return;
    let m = this.topicIds.get(scope);
    if (!m) { m = new Map(); this.topicIds.set(scope, m); }
    const max = this.opts.maxTopicIds ?? 100_000;
    for (const { id, name } of pairs) {
      m.delete(id);
      m.set(id, name);
      if (m.size > max) m.delete(m.keys().next().value!);
    }
  }

  /** Closes every connection (their open requests are recorded without an answer). */
  closeAll(): void {
    for (const c of [...this.conns]) c.close('proxy shutting down');
  }
}

/** One client connection and its broker connection. */
class KafkaConnection {
  private readonly frames: KafkaFrameDecoder;
  private readonly slots: Slot[] = [];
  /** Upstream answer relay: bytes of the current answer frame still to relay, and a partial 8-byte head. */
  private respRemaining = 0;
  private respHead: Buffer = Buffer.alloc(0);
  /** The current answer is buffered whole (a Metadata v10+ answer to learn topic ids from), not streamed. */
  private respBuf: Buffer[] | undefined;
  private closed = false;
  /** No more requests are read (a close slot is queued). */
  private draining = false;
  private readonly upstream: net.Socket | Duplex;
  private readonly src: { ip: string; port: number };
  private readonly now: () => number;
  private readonly maxInFlight: number;
  private readonly maxFrameBytes: number;
  private clientPausedForSlots = false;

  constructor(
    private readonly proxy: KafkaProxy,
    private readonly client: net.Socket,
    private readonly origDst: { address: string; port: number },
    connectUpstream: () => net.Socket | Duplex,
    private readonly direction: KafkaDirection,
    private readonly onClosed: () => void,
  ) {
    const o = proxy.opts;
    this.maxFrameBytes = o.maxFrameBytes ?? KAFKA_DEFAULT_MAX_FRAME_BYTES;
    this.frames = new KafkaFrameDecoder(this.maxFrameBytes);
    this.now = o.now ?? (() => performance.timeOrigin + performance.now());
    this.maxInFlight = o.maxInFlight ?? 1024;
    this.src = { ip: plainAddress(client.remoteAddress), port: client.remotePort ?? 0 };
    this.upstream = connectUpstream();
    const up = this.upstream;
    client.on('data', (d: Buffer) => this.onClientData(d));
    up.on('data', (d: Buffer) => this.onUpstreamData(d));
    // Backpressure both ways.
    client.on('drain', () => up.resume());
    up.on('drain', () => { if (!this.clientPausedForSlots) client.resume(); });
    client.on('end', () => {
      // A half-close: nothing more will come; a partial frame left is truncated.
      if (this.frames.pending > 0) this.protocolError(new KafkaProtocolError('truncated', `kafka frame: the client ended the stream inside a frame (${this.frames.pending} bytes left)`));
      else if (this.slots.length === 0) this.close('client closed');
      else up.end();
    });
    up.on('end', () => this.close('broker closed'));
    client.on('close', () => this.close('client closed'));
    up.on('close', () => this.close('broker closed'));
    client.on('error', (e) => { o.log.debug('kafka proxy: client connection error', { client: this.clientText(), error: e.message }); this.close('client error'); });
    up.on('error', (e: Error) => { o.log.warn('kafka proxy: broker connection error', { client: this.clientText(), broker: `${origDst.address}:${origDst.port}`, error: e.message }); this.close('broker error'); });
  }

  private clientText(): string { return `${this.src.ip}:${this.src.port}`; }

  private baseRecord(timeMs: number): KafkaRecord {
    return {
      timeUs: Math.round(timeMs * 1000), direction: this.direction,
      srcIp: this.src.ip, srcPort: this.src.port, dstIp: this.origDst.address, dstPort: this.origDst.port,
      srcIdentity: 0, dstIdentity: 0,
      apiKey: -1, apiVersion: -1, correlationId: -1, clientId: null, topics: [], allTopics: false,
      verdict: 'error', errorCode: -1, allowedBy: [], deniedTopics: [], responded: false, latencyMs: -1,
    };
  }

  private emit(rec: KafkaRecord): void {
    try { this.proxy.opts.record(rec); } catch (e) {
      this.proxy.opts.log.warn('kafka proxy: record sink failed', { error: (e as Error).message });
    }
  }

  private onClientData(chunk: Buffer): void {
    if (this.closed || this.draining) return;
    let frames: Buffer[];
    try { frames = this.frames.push(chunk); } catch (e) { this.protocolError(e); return; }
    for (const frame of frames) {
      if (this.closed || this.draining) return;
      this.handleRequest(frame);
    }
    if (!this.closed && this.slots.length >= this.maxInFlight && !this.clientPausedForSlots) {
      this.clientPausedForSlots = true;
      this.client.pause();
    }
  }

  private handleRequest(frame: Buffer): void {
    const t0 = this.now();
    const rec = this.baseRecord(t0);
    const o = this.proxy.opts;
    let rules: KafkaPortRules | undefined;
    try {
      rules = o.rulesFor({ client: this.src.ip, server: this.origDst.address, port: this.origDst.port, direction: this.direction });
    } catch (e) {
      // A lookup failure denies (below, as no policy); it must not take the agent down.
      o.log.warn('kafka proxy: rule lookup failed, request denied', { client: this.clientText(), error: (e as Error).message });
    }
    const scope = rules?.dstIdentity ? `identity:${rules.dstIdentity}` : `address:${this.origDst.address}`;
    let req: KafkaRequest | undefined;
    let facts: KafkaRequestFacts & { correlationId: number };
    try {
      req = decodeKafkaRequest(frame, { topicName: (id) => this.proxy.topicName(scope, id) });
      facts = req;
    } catch (e) {
      const reason = e instanceof KafkaProtocolError ? e.reason : 'malformed';
      const header = reason === 'unsupported-key' || reason === 'unsupported-version' ? readHeader(frame) : undefined;
      if (!header) {
        // Nothing to judge by: close, having forwarded nothing of it.
        const h = readHeader(frame);
        if (h) Object.assign(rec, h);
        this.protocolError(e, rec);
        return;
      }
      // Topics unknown: judged as naming every topic (see the file comment).
      facts = { ...header, topics: [], allTopics: true };
    }
    Object.assign(rec, {
      apiKey: facts.apiKey, apiVersion: facts.apiVersion, correlationId: facts.correlationId, clientId: facts.clientId,
      topics: [...new Set(facts.topics)], allTopics: facts.allTopics,
    });
    if (!req) rec.reason = 'unparsed';
    if (rules) { rec.srcIdentity = rules.srcIdentity ?? 0; rec.dstIdentity = rules.dstIdentity ?? 0; }
    let verdict: KafkaVerdict;
    try { verdict = rules ? rules.matcher.match(facts) : NO_POLICY; } catch (e) {
      // A matcher failure must not let the request through.
      o.log.warn('kafka proxy: rule evaluation failed, request denied', { error: (e as Error).message });
      verdict = NO_POLICY;
    }
    if (!rules) {
      rec.reason = 'no-policy';
      o.log.warn('kafka proxy: no Kafka rules for this connection, request denied', { client: this.clientText(), broker: `${this.origDst.address}:${this.origDst.port}`, direction: this.direction, apiKey: facts.apiKey });
    }
    if (verdict.allowed) {
      this.proxy.stats.forwarded++;
      rec.verdict = 'forwarded';
      rec.errorCode = 0;
      rec.allowedBy = verdict.allowedBy;
      if (!this.upstream.write(frame)) this.client.pause();
      if (req && req.apiKey === ApiKey.Produce && req.acks === 0) {
        // No answer will come: done when forwarded.
        this.emit(rec);
        return;
      }
      this.slots.push({
        kind: 'upstream', correlationId: facts.correlationId, optional: !req && facts.apiKey === ApiKey.Produce, rec, t0,
        ...(req && req.apiKey === ApiKey.Metadata && req.apiVersion >= 10 ? { learn: { apiVersion: req.apiVersion, scope } } : {}),
      });
      return;
    }
    this.proxy.stats.denied++;
    rec.verdict = 'denied';
    rec.deniedTopics = verdict.deniedTopics;
    const answer = req ? buildDeniedResponse(req) : null;
    if (answer) {
      rec.errorCode = deniedErrorCode(req!);
      this.slots.push({ kind: 'local', correlationId: facts.correlationId, bytes: answer, rec, t0 });
      this.flushLocal();
      return;
    }
    // No answer the client would read: close after the earlier answers, as a broker does.
    rec.reason = req ? 'acks-0' : 'unparsed-denied';
    o.log.info('kafka proxy: denied request has no answer, closing the connection', { client: this.clientText(), apiKey: facts.apiKey, apiVersion: facts.apiVersion, correlationId: facts.correlationId, reason: rec.reason });
    this.draining = true;
    this.slots.push({ kind: 'close', correlationId: facts.correlationId, rec, t0 });
    this.flushLocal();
  }

  /** Writes the local slots at the head of the FIFO (their turn has come). */
  private flushLocal(): void {
    while (!this.closed && this.slots.length > 0 && this.slots[0]!.kind !== 'upstream') {
      const s = this.slots.shift()!;
      if (s.kind === 'close') {
        this.emit(s.rec);
        this.proxy.stats.closedByProxy++;
        this.close(`denied request without an answer (${s.rec.reason})`, true);
        return;
      }
      const ok = this.client.write(s.bytes!);
      s.rec.responded = true;
      s.rec.latencyMs = this.now() - s.t0;
      this.emit(s.rec);
      if (!ok) this.upstream.pause();
    }
    if (this.clientPausedForSlots && this.slots.length < this.maxInFlight / 2) {
      this.clientPausedForSlots = false;
      this.client.resume();
    }
  }

  /** Relays the broker's answers as they stream in, checking each against the head slot. */
  private onUpstreamData(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length && !this.closed) {
      if (this.respRemaining > 0) {
        const n = Math.min(this.respRemaining, chunk.length - off);
        if (this.respBuf) this.respBuf.push(chunk.subarray(off, off + n));
        else if (!this.client.write(chunk.subarray(off, off + n))) this.upstream.pause();
        off += n;
        this.respRemaining -= n;
        if (this.respRemaining === 0) this.answerDone();
        continue;
      }
      const need = 8 - this.respHead.length;
      const take = chunk.subarray(off, off + need);
      this.respHead = this.respHead.length === 0 ? Buffer.from(take) : Buffer.concat([this.respHead, take]);
      off += take.length;
      if (this.respHead.length < 8) break;
      const size = this.respHead.readInt32BE(0);
      const correlationId = this.respHead.readInt32BE(4);
      // Produce of an unparsed version may have been acks=0: no answer for it.
      while (this.slots[0]?.kind === 'upstream' && this.slots[0].optional && this.slots[0].correlationId !== correlationId) {
        const s = this.slots.shift()!;
        this.emit(s.rec);
      }
      const head = this.slots[0];
      if (size < 4 || !head || head.kind !== 'upstream' || head.correlationId !== correlationId) {
        this.proxy.opts.log.warn('kafka proxy: the broker sent an answer the proxy did not expect, closing the connection', {
          client: this.clientText(), correlationId, expected: head?.kind === 'upstream' ? head.correlationId : null, size,
        });
        this.proxy.stats.closedByProxy++;
        this.close('unexpected answer from the broker', false);
        return;
      }
      if (head.learn && size <= this.maxFrameBytes) this.respBuf = [this.respHead];
      else if (!this.client.write(this.respHead)) this.upstream.pause();
      this.respHead = Buffer.alloc(0);
      this.respRemaining = size - 4;
      if (this.respRemaining === 0) this.answerDone();
    }
  }

  private answerDone(): void {
    const s = this.slots.shift()!;
    if (this.respBuf) {
      const frame = Buffer.concat(this.respBuf);
      this.respBuf = undefined;
      try {
        this.proxy.learnTopicIds(s.learn!.scope, topicIdsFromMetadataResponse(frame, s.learn!.apiVersion));
      } catch (e) {
        // Relayed all the same: the client judges the broker's answer; only the ids stay unknown (fail closed).
        this.proxy.opts.log.debug('kafka proxy: could not read topic ids from a Metadata answer', { error: (e as Error).message });
      }
      if (!this.client.write(frame)) this.upstream.pause();
    }
    s.rec.responded = true;
    s.rec.latencyMs = this.now() - s.t0;
    this.emit(s.rec);
    this.flushLocal();
    if (this.slots.length === 0 && this.client.readableEnded) this.close('client closed');
  }

  /** A frame that cannot be checked: log, record, close at once. */
  private protocolError(e: unknown, rec?: KafkaRecord): void {
    const err = e instanceof KafkaProtocolError ? e : new KafkaProtocolError('malformed', `kafka request: ${(e as Error)?.message ?? String(e)}`);
    this.proxy.opts.log.warn('kafka proxy: request cannot be checked, closing the connection', { client: this.clientText(), reason: err.reason, error: err.message });
    const r = rec ?? this.baseRecord(this.now());
    r.verdict = 'error';
    r.reason = err.reason;
    this.emit(r);
    this.proxy.stats.closedByProxy++;
    this.close(`protocol error: ${err.reason}`, false);
  }

  /**
   * Ends both connections; `graceful` lets what was written reach the client
   * (end) instead of resetting it. Open slots are recorded without an answer.
   */
  close(why: string, graceful = false): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.slots.splice(0)) if (s.kind !== 'close') this.emit(s.rec);
    if (graceful) { this.client.end(); this.upstream.destroy(); } else { this.client.destroy(); this.upstream.destroy(); }
    this.proxy.opts.log.debug('kafka proxy: connection closed', { client: this.clientText(), why });
    this.onClosed();
  }
}

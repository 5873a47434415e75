/**
 * The agent's end of the node proxy's access log: a UDP socket on the
 * node's loopback where HAProxy sends one JSON HttpAccessRecord per request
 * (`log-format`, `format raw`, one record per datagram). Each datagram is
 * parsed, checked, turned into its L7 flows (httpFlowsFromRecord) and handed
 * to `ingest` (the flow pipeline's ingestFlow: enqueue only), all in the
 * socket's message callback: no await, nothing that waits for I/O, so the
 * datapath's ring-buffer reader is never held up by it and no datagram
 * waits on another.
 *
 * Bad input never throws and never stops the receiver: a datagram that is
 * not a record (not JSON, a field missing or of the wrong type, an address
 * that is not an IP, a port out of range) is counted as malformed and
 * dropped, and the last such problem is kept for the status. Flows the
 * pipeline's full queue refused are counted as lost (the pipeline counts
 * them too, as OBSERVER_EVENTS_QUEUE losses).
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { Logger } from '../../common/log.js';
import { HttpAccessLogListenError } from '../../common/errors.js';
import type { Flow, FlowEnricher } from '../../observer/types.js';
import { parseHttpAccessRecord, type HttpAccessRecord } from './accesslog.js';
import { httpFlowsFromRecord } from './flows.js';

/** How much the socket may queue in the kernel while the agent is busy (asked for; the kernel caps it at net.core.rmem_max). */
export const HTTP_ACCESSLOG_RECV_BUFFER_BYTES = 4 * 1024 * 1024;

export interface HttpAccessReceiverOptions {
  /** The address to bind (the node's loopback, e.g. 127.0.0.1); IPv6 text binds a udp6 socket. */
  address: string;
  /** The UDP port (0: any free one; `port` of the receiver says which). */
  port: number;
  /** The agent's caches, for the flows' endpoints, Services and names. */
  enricher: FlowEnricher;
  /** Takes each flow without waiting (FlowPipeline.ingestFlow); false: it was dropped (counted as lost). */
  ingest: (flow: Flow) => boolean | void;
  /** The flows' node_name (default enricher.nodeName). */
  nodeName?: string;
  log: Pick<Logger, 'debug' | 'info' | 'warn'>;
}

/** What the receiver has done, for the observer's status. */
export interface HttpAccessReceiverStats {
  /** `address:port` bound. */
  listen: string;
  /** Datagrams received. */
  datagrams: number;
  /** Datagrams that were records. */
  records: number;
  /** Datagrams dropped because they were not records. */
  malformed: number;
  /** Datagrams that are HAProxy's own messages to the same log target (`Proxy … started.` at start and reload), not records. */
  notices: number;
  /** L7 flows handed to the pipeline (two per record with a response, one without). */
  flows: number;
  /** Flows the pipeline refused (its queue was full). */
  lost: number;
  /** Why the last malformed datagram was dropped. */
  lastMalformed?: string;
}

export interface HttpAccessReceiver {
  readonly address: string;
  readonly port: number;
  stats(): HttpAccessReceiverStats;
  /** Stops receiving; datagrams already read are processed. */
  close(): Promise<void>;
}

/** Checks what parseHttpAccessRecord leaves to the reader: addresses and ports that can be a flow's. Throws TypeError. */
export function checkHttpAccessRecord(rec: HttpAccessRecord): HttpAccessRecord {
  if (!isIP(rec.srcIp)) throw new TypeError(`http access record: srcIp: ${JSON.stringify(rec.srcIp)} is not an IP address`);
  if (!isIP(rec.dstIp)) throw new TypeError(`http access record: dstIp: ${JSON.stringify(rec.dstIp)} is not an IP address`);
  if (isIP(rec.srcIp) !== isIP(rec.dstIp)) throw new TypeError('http access record: srcIp and dstIp are of different IP versions');
  for (const k of ['srcPort', 'dstPort'] as const) {
    const p = rec[k];
    if (!Number.isInteger(p) || p < 0 || p > 65535) throw new TypeError(`http access record: ${k}: ${p} is not a port`);
  }
  for (const k of ['srcIdentity', 'dstIdentity'] as const) {
    const id = rec[k];
    if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw new TypeError(`http access record: ${k}: ${id} is not a security identity`);
  }
  if (!Number.isFinite(rec.timeUs) || rec.timeUs < 0) throw new TypeError(`http access record: timeUs: ${rec.timeUs} is not a time`);
  // 0: a request HAProxy refused before its rules ran (a 400 for a bad request, a connection closed
  // without one): no time of its own in the record; it happened just now.
  if (rec.timeUs === 0) rec.timeUs = Date.now() * 1000;
  if (!Number.isInteger(rec.status) || rec.status < -1 || rec.status > 999) throw new TypeError(`http access record: status: ${rec.status} is not an HTTP status`);
  return rec;
}

/**
 * Binds the receiver and starts turning datagrams into flows.
 * @throws HttpAccessLogListenError when the address cannot be bound.
 */
export async function startHttpAccessReceiver(opts: HttpAccessReceiverOptions): Promise<HttpAccessReceiver> {
  const family = isIP(opts.address);
  if (family === 0) throw new HttpAccessLogListenError(`http access log: listen on ${opts.address}:${opts.port}: not an IP address`);
  const s = { datagrams: 0, records: 0, malformed: 0, notices: 0, flows: 0, lost: 0 };
  let lastMalformed: string | undefined;
  const ctx = { enricher: opts.enricher, ...(opts.nodeName !== undefined ? { nodeName: opts.nodeName } : {}) };
  const socket: Socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', recvBufferSize: HTTP_ACCESSLOG_RECV_BUFFER_BYTES });
  socket.on('message', (msg) => {
    s.datagrams++;
    // Records are JSON objects; HAProxy also tells each frontend's log target when the proxy starts or stops.
    if (msg[0] !== 0x7b && /^Proxy \S+ (started|stopped)/.test(msg.toString('latin1', 0, 200))) {
      s.notices++;
      return;
    }
    let rec: HttpAccessRecord;
    try {
      rec = checkHttpAccessRecord(parseHttpAccessRecord(msg.toString('utf8')));
    } catch (e) {
      s.malformed++;
      lastMalformed = (e as Error).message;
      // Once per power of two: a sender gone wrong is visible without a line per datagram.
      if ((s.malformed & (s.malformed - 1)) === 0) opts.log.warn('http access log: dropped a datagram that is not a record', { malformed: s.malformed, error: lastMalformed, bytes: msg.length });
      return;
    }
    s.records++;
    let flows: Flow[];
    try {
      flows = httpFlowsFromRecord(rec, ctx);
    } catch (e) {
      // The enricher failing is a bug, not bad input; counted with the malformed so the record is not lost silently.
      s.malformed++;
      lastMalformed = `convert: ${(e as Error).message}`;
      opts.log.warn('http access log: could not convert a record', { error: lastMalformed });
      return;
    }
    for (const f of flows) {
      if (opts.ingest(f) === false) s.lost++;
      else s.flows++;
    }
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => {
      socket.close();
      reject(new HttpAccessLogListenError(`http access log: listen on ${opts.address}:${opts.port}: ${err.message}`, { cause: err }));
    };
    socket.once('error', onError);
    socket.bind({ address: opts.address, port: opts.port, exclusive: true }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
  // After binding, a socket error (none expected for a receiving UDP socket) is logged, not fatal.
  socket.on('error', (err) => opts.log.warn('http access log: socket error', { error: err.message }));
  const bound = socket.address();
  const listen = family === 6 ? `[${bound.address}]:${bound.port}` : `${bound.address}:${bound.port}`;
  opts.log.info('http access log receiving', { listen });
  let closed: Promise<void> | undefined;
  return {
    address: bound.address,
    port: bound.port,
    stats: () => ({ listen, ...s, ...(lastMalformed !== undefined ? { lastMalformed } : {}) }),
    close: () => (closed ??= new Promise<void>((resolve) => socket.close(() => resolve()))),
  };
}

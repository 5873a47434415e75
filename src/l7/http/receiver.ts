/**
 * The agent's end of the node proxy's access log: a TCP listener on the
 * node's loopback. HAProxy logs one JSON HttpAccessRecord per request to a
 * ring (`log ring@…`, `format raw`) and forwards the ring over one TCP
 * connection per worker process, a line per record, as many lines per write
 * as are waiting (src/l7/http/haproxy.ts): no system call per request on
 * either side, and while the agent restarts the ring keeps the records and
 * sends them when it is back. Each line is parsed, checked, turned into its
 * L7 flows (httpFlowsFromRecord) and handed to `ingest` (the flow pipeline's
 * ingestFlow: enqueue only), all in the socket's data callback: no await,
 * nothing that waits for I/O, so the datapath's ring-buffer reader is never
 * held up by it.
 *
 * Bad input never throws and never stops the receiver: a line that is not a
 * record (not JSON, a field missing or of the wrong type, an address that is
 * not an IP, a port out of range) is counted as malformed and dropped, and
 * the last such problem is kept for the status; a line longer than any
 * record can be is dropped the same way, up to its newline, without being
 * held. Flows the pipeline's full queue refused are counted as lost (the
 * pipeline counts them too, as OBSERVER_EVENTS_QUEUE losses).
 */
import { createServer, isIP, type Server, type Socket } from 'node:net';
import type { Logger } from '../../common/log.js';
import { HttpAccessLogListenError } from '../../common/errors.js';
import type { Flow, FlowEnricher } from '../../observer/types.js';
import { parseHttpAccessRecord, parseMtlsRefusal, type HttpAccessRecord } from './accesslog.js';
import { httpFlowsFromRecord, mtlsRefusalFlow } from './flows.js';
import { RECORD_MAX_BYTES } from './haproxy.js';

/** A line longer than this is not a record (HAProxy cuts records at RECORD_MAX_BYTES); it is dropped, not buffered. */
export const HTTP_ACCESSLOG_MAX_LINE_BYTES = RECORD_MAX_BYTES + 1024;

export interface HttpAccessReceiverOptions {
  /** The address to listen on (the node's loopback, e.g. 127.0.0.1). */
  address: string;
  /** The TCP port (0: any free one; `port` of the receiver says which). */
  port: number;
  /** The agent's caches, for the flows' endpoints, Services and names. */
  enricher: FlowEnricher;
  /** Takes each flow without waiting (FlowPipeline.ingestFlow); false: it was dropped (counted as lost). */
  ingest: (flow: Flow) => boolean | void;
  /** The flows' node_name (default enricher.nodeName). */
  nodeName?: string;
  log: Pick<Logger, 'debug' | 'info' | 'warn'>;
  /** The node proxy's mTLS listener (address, port): the destination of its refusals' flows (default 0.0.0.0:0). */
  mtlsListener?: { ip: string; port: number };
}

/** What the receiver has done, for the observer's status. */
export interface HttpAccessReceiverStats {
  /** `address:port` listened on. */
  listen: string;
  /** Connections accepted (one per HAProxy worker; a reload starts a new worker) and open now. */
  connections: number;
  connected: number;
  /** Lines received. */
  lines: number;
  /** Lines that were records. */
  records: number;
  /** Lines dropped because they were not records. */
  malformed: number;
  /** Lines that are HAProxy's own messages to the same log target (`Proxy … started.` at start and reload), not records. */
  notices: number;
  /** L7 flows handed to the pipeline (two per record with a response, one without). */
  flows: number;
  /** Flows the pipeline refused (its queue was full). */
  lost: number;
  /** Why the last malformed line was dropped. */
  lastMalformed?: string;
}

export interface HttpAccessReceiver {
  readonly address: string;
  readonly port: number;
  stats(): HttpAccessReceiverStats;
  /** Stops listening and closes the connections; lines already read are processed. */
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
  if (!Number.isFinite(rec.timeUs) || rec.timeUs <= 0) throw new TypeError(`http access record: timeUs: ${rec.timeUs} is not a time`);
  if (!Number.isInteger(rec.status) || rec.status < -1 || rec.status > 999) throw new TypeError(`http access record: status: ${rec.status} is not an HTTP status`);
  return rec;
}

/**
 * Listens and starts turning record lines into flows.
 * @throws HttpAccessLogListenError when the address cannot be listened on.
 */
export async function startHttpAccessReceiver(opts: HttpAccessReceiverOptions): Promise<HttpAccessReceiver> {
  const family = isIP(opts.address);
  if (family === 0) throw new HttpAccessLogListenError(`http access log: listen on ${opts.address}:${opts.port}: not an IP address`);
  const s = { connections: 0, connected: 0, lines: 0, records: 0, malformed: 0, notices: 0, flows: 0, lost: 0 };
  let lastMalformed: string | undefined;
  const ctx = { enricher: opts.enricher, ...(opts.nodeName !== undefined ? { nodeName: opts.nodeName } : {}) };
  const malformed = (why: string, bytes: number) => {
    s.malformed++;
    lastMalformed = why;
    // Once per power of two: a sender gone wrong is visible without a line per record.
    if ((s.malformed & (s.malformed - 1)) === 0) opts.log.warn('http access log: dropped a line that is not a record', { malformed: s.malformed, error: why, bytes });
  };

  /** One line, bytes [start, end) of buf (without the newline). */
  const line = (buf: Buffer, start: number, end: number) => {
    s.lines++;
    // Records are JSON objects; HAProxy also tells each frontend's log target when the proxy starts or stops.
    if (buf[start] !== 0x7b && /^Proxy \S+ (started|stopped)/.test(buf.toString('latin1', start, Math.min(end, start + 200)))) {
      s.notices++;
      return;
    }
    // The mTLS listener's handshake refusals come in HAProxy's fixed format (src/l7/http/accesslog.ts).
    const refusal = buf[start] !== 0x7b && end - start < 1024 ? parseMtlsRefusal(buf.toString('utf8', start, end)) : undefined;
    if (refusal) {
      s.records++;
      const f = mtlsRefusalFlow(refusal, ctx, opts.mtlsListener?.ip ?? '0.0.0.0', opts.mtlsListener?.port ?? 0);
      if (opts.ingest(f) === false) s.lost++;
      else s.flows++;
      return;
    }
    let rec: HttpAccessRecord;
    try {
      rec = parseHttpAccessRecord(buf.toString('utf8', start, end));
      // A request HAProxy refused before its rules (400 from its parser, 408) has no transaction and
      // is recorded with timeUs 0 (src/l7/http/haproxy.ts): it gets the receive time less the
      // exchange's duration, so the refusal is a flow and not dropped as malformed.
      if (rec.timeUs === 0 && typeof rec.totalMs === 'number') rec.timeUs = Date.now() * 1000 - Math.max(0, rec.totalMs) * 1000;
      rec = checkHttpAccessRecord(rec);
    } catch (e) {
      malformed((e as Error).message, end - start);
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
  };

  const sockets = new Set<Socket>();
  const server: Server = createServer({ noDelay: true }, (sock) => {
    s.connections++;
    s.connected++;
    sockets.add(sock);
    /** The start of a line the last chunk did not finish. */
    let rest: Buffer | undefined;
    /** Inside a line too long to be a record: everything up to its newline is dropped. */
    let skipping = false;
    sock.on('data', (chunk: Buffer) => {
      let buf = chunk;
      if (rest) {
        buf = Buffer.concat([rest, chunk]);
        rest = undefined;
      }
      let start = 0;
      for (;;) {
        const nl = buf.indexOf(0x0a, start);
        if (nl < 0) break;
        if (skipping) skipping = false;
        else if (nl > start) line(buf, start, nl);
        start = nl + 1;
      }
      if (start < buf.length && !skipping) {
        if (buf.length - start > HTTP_ACCESSLOG_MAX_LINE_BYTES) {
          malformed(`a line longer than ${HTTP_ACCESSLOG_MAX_LINE_BYTES} bytes`, buf.length - start);
          skipping = true;
        } else {
          // Copied: the chunk's memory is not kept alive for a few bytes of it.
          rest = Buffer.from(buf.subarray(start));
        }
      }
    });
    sock.on('error', (err) => opts.log.debug('http access log: connection error', { error: err.message }));
    sock.on('close', () => {
      s.connected--;
      sockets.delete(sock);
      if (rest && !skipping) malformed('a record cut short by the end of its connection', rest.length);
      rest = undefined;
    });
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => {
      server.close();
      reject(new HttpAccessLogListenError(`http access log: listen on ${opts.address}:${opts.port}: ${err.message}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen({ host: opts.address, port: opts.port, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => opts.log.warn('http access log: listener error', { error: err.message }));
  const bound = server.address() as { address: string; port: number };
  const listen = family === 6 ? `[${bound.address}]:${bound.port}` : `${bound.address}:${bound.port}`;
  opts.log.info('http access log receiving', { listen });
  let closed: Promise<void> | undefined;
  return {
    address: bound.address,
    port: bound.port,
    stats: () => ({ listen, ...s, ...(lastMalformed !== undefined ? { lastMalformed } : {}) }),
    close: () => (closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const sock of sockets) sock.destroy();
    })),
  };
}

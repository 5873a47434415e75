/**
 * The agent's end of the node proxy's access records, for tests that run
 * HAProxy with a generated configuration without an agent: a TCP listener on
 * 127.0.0.1 that takes HAProxy's ring forwarding (a line per record, as
 * src/l7/http/receiver.ts does) and keeps the parsed records, and the lines
 * that were not records, in arrival order.
 */
import { createServer, type Socket } from 'node:net';
import { parseHttpAccessRecord, type HttpAccessRecord } from '../../src/l7/http/accesslog.js';

export interface RecordSink {
  /** The port to give renderHaproxy as `logTarget` (127.0.0.1:port). */
  port: number;
  records: HttpAccessRecord[];
  /** Lines that did not parse as records (HAProxy's own `Proxy … started.` notices excluded). */
  badLines: string[];
  close(): Promise<void>;
}

/** Starts the sink; `into`: the list to keep the records in (default a new one). */
export async function startRecordSink(into: HttpAccessRecord[] = []): Promise<RecordSink> {
  const records = into;
  const badLines: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    let rest = '';
    sock.setEncoding('utf8').on('data', (d: string) => {
      const lines = (rest + d).split('\n');
      rest = lines.pop()!;
      for (const text of lines) {
        if (!text || /^Proxy \S+ (started|stopped)/.test(text)) continue;
        try {
          records.push(parseHttpAccessRecord(text));
        } catch {
          badLines.push(text);
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as { port: number }).port,
    records,
    badLines,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

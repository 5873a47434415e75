/**
 * The test broker (./kafka-broker.ts) as a program, for a lab pod:
 *   node dist/test/lib/kafka-broker-main.js --host <pod IP or 0.0.0.0> [--port 9092] [--advertise <host>] [--topics a,b] [--log values|counts]
 * It advertises --advertise, else the address it listens on, else the pod's
 * own address. Prints one JSON line when listening, then what it stored:
 * - `--log values` (the default): one line per stored produce batch
 *   (`{"produced":topic,"partition":n,"values":[...]}`), so that a test reads
 *   what the broker received from the pod's log.
 * - `--log counts` (the Kafka produce benchmark, bench/dns-kafka.ts): at most
 *   one line every 200 ms with the records stored so far per topic
 *   (`{"stored":{topic:n}}`), which the benchmark reads to check that every
 *   message a run sent was stored. It also forgets the request frames the
 *   broker keeps for tests (`frames`), so memory grows only by the stored batches.
 * Runs until SIGTERM.
 */
import { networkInterfaces } from 'node:os';
import { parseArgs } from 'node:util';
import { startKafkaBroker } from './kafka-broker.js';

/** The pod's own address: $POD_IP (a fieldRef to status.podIP), else its first non-loopback IPv4. */
function ownAddress(): string | undefined {
  if (process.env.POD_IP) return process.env.POD_IP;
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

const { values: o } = parseArgs({ options: { host: { type: 'string', default: '0.0.0.0' }, port: { type: 'string', default: '9092' }, advertise: { type: 'string' }, topics: { type: 'string', default: '' }, log: { type: 'string', default: 'values' } } });
if (o.log !== 'values' && o.log !== 'counts') throw new Error(`kafka-broker-main: --log must be values or counts, not ${JSON.stringify(o.log)}`);
const counts = o.log === 'counts';
const port = Number(o.port);
const advertiseHost = o.advertise ?? (o.host === '0.0.0.0' ? ownAddress() : o.host);
const out = (obj: unknown) => process.stdout.write(`${JSON.stringify(obj)}\n`);
const stored = new Map<string, number>();
let changed = false;
const broker = await startKafkaBroker({
  listen: { host: o.host!, port },
  // Topics that exist from the start (one partition each), as an operator creates them.
  topics: Object.fromEntries(o.topics!.split(',').filter(Boolean).map((t) => [t, 1])),
  ...(advertiseHost ? { advertise: () => ({ host: advertiseHost, port }) } : {}),
  onProduce: (topic, partition, values) => {
    if (counts) {
      stored.set(topic, (stored.get(topic) ?? 0) + values.length);
      changed = true;
    } else {
      out({ produced: topic, partition, values: values.map((v) => v.toString()) });
    }
  },
});
out({ listening: `${broker.host}:${broker.port}` });
if (counts) {
  setInterval(() => {
    broker.frames.length = 0;
    if (!changed) return;
    changed = false;
    out({ stored: Object.fromEntries(stored) });
  }, 200);
}
process.on('SIGTERM', () => void broker.close().finally(() => process.exit(0)));

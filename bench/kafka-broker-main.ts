/**
 * The test broker (test/lib/kafka-broker.ts) as a pod program for the Kafka
 * produce benchmark (bench/dns-kafka.ts):
 *   node dist/bench/kafka-broker-main.js [--port 9092]
 * The same broker as test/lib/kafka-broker-main.ts, listening on every
 * address and advertising the pod's own, but it logs counts instead of every
 * record's value: one JSON line when listening, then at most one line every
 * 200 ms with the records stored so far per topic (`{"stored":{topic:n}}`),
 * which the benchmark reads from the pod's log to check that every message
 * a run sent was stored. It also forgets the request frames it keeps for
 * tests (`frames`), so memory grows only by the stored batches.
 */
import { networkInterfaces } from 'node:os';
import { parseArgs } from 'node:util';
import { startKafkaBroker } from '../test/lib/kafka-broker.js';

/** The pod's own address: $POD_IP, else its first non-loopback IPv4. */
function ownAddress(): string | undefined {
  if (process.env.POD_IP) return process.env.POD_IP;
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

const { values: o } = parseArgs({ options: { port: { type: 'string', default: '9092' } } });
const port = Number(o.port);
const self = ownAddress();
const stored = new Map<string, number>();
let changed = false;
const broker = await startKafkaBroker({
  listen: { host: '0.0.0.0', port },
  ...(self ? { advertise: () => ({ host: self, port }) } : {}),
  onProduce: (topic, _partition, values) => {
    stored.set(topic, (stored.get(topic) ?? 0) + values.length);
    changed = true;
  },
});
const out = (obj: unknown) => process.stdout.write(`${JSON.stringify(obj)}\n`);
out({ listening: `${self ?? '0.0.0.0'}:${broker.port}` });
setInterval(() => {
  broker.frames.length = 0;
  if (!changed) return;
  changed = false;
  out({ stored: Object.fromEntries(stored) });
}, 200);
process.on('SIGTERM', () => void broker.close().finally(() => process.exit(0)));

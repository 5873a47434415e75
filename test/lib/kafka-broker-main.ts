/**
 * The test broker (./kafka-broker.ts) as a program, for a lab pod:
 *   node dist/test/lib/kafka-broker-main.js --host <pod IP or 0.0.0.0> [--port 9092] [--advertise <host>] [--topics a,b]
 * It advertises --advertise, else the address it listens on, else the pod's
 * own address. Prints one JSON line when listening and one per stored produce batch
 * (`{"produced":topic,"partition":n,"values":[...]}`), so that a test reads
 * what the broker received from the pod's log. Runs until SIGTERM.
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

const { values: o } = parseArgs({ options: { host: { type: 'string', default: '0.0.0.0' }, port: { type: 'string', default: '9092' }, advertise: { type: 'string' }, topics: { type: 'string', default: '' } } });
const port = Number(o.port);
const advertiseHost = o.advertise ?? (o.host === '0.0.0.0' ? ownAddress() : o.host);
const out = (obj: unknown) => process.stdout.write(`${JSON.stringify(obj)}\n`);
const broker = await startKafkaBroker({
  listen: { host: o.host!, port },
  // Topics that exist from the start (one partition each), as an operator creates them.
  topics: Object.fromEntries(o.topics!.split(',').filter(Boolean).map((t) => [t, 1])),
  ...(advertiseHost ? { advertise: () => ({ host: advertiseHost, port }) } : {}),
  onProduce: (topic, partition, values) => out({ produced: topic, partition, values: values.map((v) => v.toString()) }),
});
out({ listening: `${broker.host}:${broker.port}` });
process.on('SIGTERM', () => void broker.close().finally(() => process.exit(0)));

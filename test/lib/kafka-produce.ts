/**
 * kafkajs as a program, for a lab pod: one producer (one connection to the
 * broker) sends one message to each topic given, in order, and prints one
 * JSON line per topic: `{"topic":…,"ok":true}` or `{"topic":…,"ok":false,"error":<Kafka error type>}`.
 *   node dist/test/lib/kafka-produce.js --broker host:port [--client-id id] topic…
 */
import { parseArgs } from 'node:util';
import { kafkajsClient, kafkajsErrorType } from './kafka-clients.js';

const { values: o, positionals: topics } = parseArgs({ allowPositionals: true, options: { broker: { type: 'string' }, 'client-id': { type: 'string', default: 'kafkajs-pod' } } });
if (!o.broker || topics.length === 0) {
  process.stderr.write('usage: kafka-produce --broker host:port [--client-id id] topic…\n');
  process.exit(2);
}
const kafka = kafkajsClient(o.broker, o['client-id']!, { connectionTimeout: 3000, requestTimeout: 5000 });
const producer = kafka.producer({ allowAutoTopicCreation: false });
await producer.connect();
let failed = false;
for (const topic of topics) {
  try {
    await producer.send({ topic, messages: [{ value: `hello from kafkajs to ${topic}` }] });
    process.stdout.write(`${JSON.stringify({ topic, ok: true })}\n`);
  } catch (e) {
    failed = true;
    process.stdout.write(`${JSON.stringify({ topic, ok: false, error: kafkajsErrorType(e as Error) ?? (e as Error).name })}\n`);
  }
}
await producer.disconnect();
process.exit(failed ? 1 : 0);

/**
 * kafkajs as a program, for a lab pod: one producer (one connection to the
 * broker) sends one message to each topic given, in order, and prints one
 * JSON line per topic: `{"topic":…,"ok":true}` or `{"topic":…,"ok":false,"error":<Kafka error type>}`.
 *   node dist/test/lib/kafka-produce.js --broker host:port [--client-id id] topic…
 */
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';

const { Kafka, logLevel } = kafkajs;
// kafkajs's own table of Kafka error codes: its retrier re-wraps a protocol error, keeping the message.
const errorTable = createRequire(import.meta.url)('kafkajs/src/protocol/error.js').errorCodes as { type: string; message: string }[];
function errorType(e: Error & { type?: string; cause?: unknown }): string {
  for (let x: (Error & { type?: string; cause?: unknown }) | undefined = e; x; x = x.cause as typeof x) {
    if (x.type) return x.type;
    const byMessage = errorTable.find((k) => k.message === x!.message);
    if (byMessage) return byMessage.type;
  }
  return e.name;
}

const { values: o, positionals: topics } = parseArgs({ allowPositionals: true, options: { broker: { type: 'string' }, 'client-id': { type: 'string', default: 'kafkajs-pod' } } });
if (!o.broker || topics.length === 0) {
  process.stderr.write('usage: kafka-produce --broker host:port [--client-id id] topic…\n');
  process.exit(2);
}
const kafka = new Kafka({ clientId: o['client-id']!, brokers: [o.broker], logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 3000, requestTimeout: 5000 });
const producer = kafka.producer({ allowAutoTopicCreation: false });
await producer.connect();
let failed = false;
for (const topic of topics) {
  try {
    await producer.send({ topic, messages: [{ value: `hello from kafkajs to ${topic}` }] });
    process.stdout.write(`${JSON.stringify({ topic, ok: true })}\n`);
  } catch (e) {
    failed = true;
    process.stdout.write(`${JSON.stringify({ topic, ok: false, error: errorType(e as Error) })}\n`);
  }
}
await producer.disconnect();
process.exit(failed ? 1 : 0);

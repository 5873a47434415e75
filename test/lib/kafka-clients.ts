/**
 * Real Kafka clients for tests: kafkajs (npm) and kcat (librdkafka, the
 * Debian package), as the Kafka proxy's unit tests (src/l7/kafka/*.test.ts)
 * and the lab's producer (./kafka-produce.ts) drive them.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';

const { Kafka, logLevel } = kafkajs;
// kafkajs's own table of Kafka error codes (its retrier re-wraps a protocol
// error and keeps only the message, so the type is found by that message).
const kafkajsErrors = createRequire(import.meta.url)('kafkajs/src/protocol/error.js').errorCodes as { type: string; code: number; message: string }[];

/** The Kafka error type kafkajs reports: its protocol error's `type`, or the type whose kafkajs message it carries (up the cause chain). */
export function kafkajsErrorType(e: Error & { type?: string; cause?: unknown }): string | undefined {
  for (let x: (Error & { type?: string; cause?: unknown }) | undefined = e; x; x = x.cause as typeof x) {
    if (x.type) return x.type;
    const byMessage = kafkajsErrors.find((k) => k.message === x!.message);
    if (byMessage) return byMessage.type;
  }
  return undefined;
}

/** A quiet kafkajs client of one broker that does not retry (a refusal shows at once). */
export function kafkajsClient(broker: string, clientId: string, extra: { connectionTimeout?: number; requestTimeout?: number } = {}): kafkajs.Kafka {
  return new Kafka({ clientId, brokers: [broker], logLevel: logLevel.NOTHING, retry: { retries: 0 }, ...extra });
}

/** kcat's path, undefined when it is not installed. */
export const kcatPath: string | undefined = (() => { const r = spawnSync('sh', ['-c', 'command -v kcat'], { encoding: 'utf8' }); return r.status === 0 ? r.stdout.trim() : undefined; })();

/** A test's `skip` when kcat is missing (false when it is installed). */
export const NO_KCAT: string | false = kcatPath ? false : 'kcat is not installed (Debian package kcat; `make setup` installs it)';

/** Runs kcat with a deadline (SIGKILL after timeoutMs); resolves with its exit status and output. */
export function kcat(args: string[], input?: string, timeoutMs = 15_000): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(kcatPath!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
    p.stdin.end(input ?? '');
  });
}

/**
 * Cilium's Kafka example on one kafkajs producer (one connection): `first`
 * to empire-announce succeeds, deathstar-plans is refused with
 * TOPIC_AUTHORIZATION_FAILED, then `second` to empire-announce succeeds on
 * the same connection; disconnects.
 */
export async function produceAllowedDeniedAllowed(kafka: kafkajs.Kafka, first: string, second: string): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  const ok = await producer.send({ topic: 'empire-announce', messages: [{ value: first }] });
  assert.equal(ok[0]!.errorCode, 0);
  await assert.rejects(producer.send({ topic: 'deathstar-plans', messages: [{ value: 'exhaust port' }] }),
    (e: Error) => { assert.equal(kafkajsErrorType(e), 'TOPIC_AUTHORIZATION_FAILED', `${e.name}: ${e.message}`); return true; });
  // The connection still serves allowed requests after the denial.
  const again = await producer.send({ topic: 'empire-announce', messages: [{ value: second }] });
  assert.equal(again[0]!.errorCode, 0);
  await producer.disconnect();
}

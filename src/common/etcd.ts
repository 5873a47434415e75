/**
 * The etcd client every long-running beeline process uses, with fault
 * handling tuned for a store that may go away and come back (the lab's
 * outage drills, an etcd restart): the client's defaults keep a host's
 * circuit open for 5 s and back watches off for up to 30 s, so a node would
 * learn what changed during an outage up to half a minute late.
 */
import { ConsecutiveBreaker, ExponentialBackoff, circuitBreaker, handleWhen, retry, type IBackoff } from 'cockatiel';
import { Etcd3, isRecoverableError } from 'etcd3';

/**
 * The largest gRPC message a beeline etcd client takes in (gRPC's default is
 * 4 MiB). A whole `apply -f` file is one etcd revision, and a watch delivers a
 * revision in one response unless etcd fragments it: watches ask for
 * fragments, which etcd cuts at its `--max-request-bytes`, so this must be at
 * least that (the lab's is 32 MiB, src/lab/etcd.ts) plus one event; list pages
 * and batched reads stay far below it. See docs/store.md, "Big files".
 */
export const ETCD_CLIENT_MAX_MESSAGE_BYTES = 128 * 1024 * 1024;

/**
 * A gRPC message over a size limit (the server's `--max-request-bytes` +
 * 512 KiB on a request, or a receive limit): gRPC calls it RESOURCE_EXHAUSTED,
 * which the etcd client counts as transient, but sending the same message
 * again cannot succeed.
 */
export function isMessageTooLarge(e: unknown): boolean {
  return /message larger than max|request is too large/i.test(String((e as Error)?.message ?? e));
}

/** Worth retrying, and counting against the host's circuit breaker: transient, and not a message too large. */
export function isTransientEtcdError(e: Error): boolean {
  return isRecoverableError(e) && !isMessageTooLarge(e);
}

export function etcdClient(endpoint: string, dialTimeoutMs = 2000): Etcd3 {
  return new Etcd3({
    hosts: endpoint,
    dialTimeout: dialTimeoutMs,
    grpcOptions: {
      'grpc.max_receive_message_length': ETCD_CLIENT_MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': ETCD_CLIENT_MAX_MESSAGE_BYTES,
    },
    faultHandling: {
      host: () => circuitBreaker(handleWhen(isTransientEtcdError), { halfOpenAfter: 1000, breaker: new ConsecutiveBreaker(3) }),
      global: retry(handleWhen(isTransientEtcdError), { maxAttempts: 3 }),
      // etcd3 declares an IBackoff but does what its own default does with this
      // factory: calls next() for the first backoff state (lib/watch.js).
      watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 2000 }) as unknown as IBackoff<unknown>,
    },
  });
}

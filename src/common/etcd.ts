/**
 * The etcd client every long-running beeline process uses, with fault
 * handling tuned for a store that may go away and come back (the lab's
 * outage drills, an etcd restart): the client's defaults keep a host's
 * circuit open for 5 s and back watches off for up to 30 s, so a node would
 * learn what changed during an outage up to half a minute late.
 */
import { ConsecutiveBreaker, ExponentialBackoff, circuitBreaker, handleWhen, retry, type IBackoff } from 'cockatiel';
import { Etcd3, isRecoverableError } from 'etcd3';

export function etcdClient(endpoint: string, dialTimeoutMs = 2000): Etcd3 {
  return new Etcd3({
    hosts: endpoint,
    dialTimeout: dialTimeoutMs,
    faultHandling: {
      host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 1000, breaker: new ConsecutiveBreaker(3) }),
      global: retry(handleWhen(isRecoverableError), { maxAttempts: 3 }),
      // etcd3 declares an IBackoff but does what its own default does with this
      // factory: calls next() for the first backoff state (lib/watch.js).
      watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 2000 }) as unknown as IBackoff<unknown>,
    },
  });
}

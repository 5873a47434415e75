import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GRPCInvalidArgumentError, GRPCResourceExhastedError, GRPCUnavailableError } from 'etcd3';
import { isMessageTooLarge, isTransientEtcdError } from './etcd.js';

test('a message over a gRPC or etcd size limit is not transient: no retry, no breaker', () => {
  // What etcd's gRPC server answers for a request over --max-request-bytes + 512 KiB.
  const tooBig = new GRPCResourceExhastedError('8 RESOURCE_EXHAUSTED: grpc: received message larger than max (7075780 vs. 2097152)');
  assert.equal(isMessageTooLarge(tooBig), true);
  assert.equal(isTransientEtcdError(tooBig), false);
  // etcd's own check, between --max-request-bytes and the gRPC limit.
  assert.equal(isMessageTooLarge(new GRPCInvalidArgumentError('etcdserver: request is too large')), true);
  // Other resource exhaustion (a quota) and an unreachable server stay transient.
  assert.equal(isTransientEtcdError(new GRPCResourceExhastedError('8 RESOURCE_EXHAUSTED: etcdserver: mvcc: database space exceeded')), true);
  assert.equal(isTransientEtcdError(new GRPCUnavailableError('14 UNAVAILABLE: No connection established')), true);
  assert.equal(isMessageTooLarge(new GRPCUnavailableError('14 UNAVAILABLE: No connection established')), false);
});

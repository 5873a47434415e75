import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GRPCInvalidArgumentError, GRPCResourceExhastedError, GRPCUnavailableError } from 'etcd3';
import { StoreTxnLimitError } from '../common/errors.js';
import { txnLimitError, txnSize } from './etcd.js';

test('txnSize: keys twice (compare and put), the value, framing', () => {
  const s = txnSize([
    { key: '/k/a', value: 'x'.repeat(100) },
    { key: '/k/bb', value: '' },
  ]);
  assert.deepEqual(s, { objects: 2, bytes: 4 * 2 + 100 + 24 + 5 * 2 + 24 });
});

test('txnLimitError: etcd refusing a batch for its size becomes BL_ERR_STORE_TXN_LIMIT naming the flag and what the batch needs', () => {
  const size = { objects: 10_000, bytes: 7_075_000 };
  const ops = txnLimitError(new GRPCInvalidArgumentError('etcdserver: too many operations in txn request'), size);
  assert.ok(ops instanceof StoreTxnLimitError);
  assert.equal(ops.code, 'BL_ERR_STORE_TXN_LIMIT');
  assert.match(ops.message, /10000 objects, about 6\.7 MiB.*--max-txn-ops; nothing was applied/);
  assert.match(ops.hint!, /--max-txn-ops >= 10000 and --max-request-bytes >= 9437184/);

  const grpc = txnLimitError(new GRPCResourceExhastedError('8 RESOURCE_EXHAUSTED: grpc: received message larger than max (7075780 vs. 2097152)'), size);
  assert.match(grpc!.message, /larger than its --max-request-bytes; nothing was applied/);
  const etcd = txnLimitError(new GRPCInvalidArgumentError('etcdserver: request is too large'), size);
  assert.match(etcd!.message, /--max-request-bytes/);

  // A small batch never gets advice below etcd's default request size.
  assert.match(txnLimitError(new GRPCInvalidArgumentError('etcdserver: too many operations in txn request'), { objects: 200, bytes: 50_000 })!.hint!, /--max-request-bytes >= 1572864/);
  // Anything else is not a size problem.
  assert.equal(txnLimitError(new GRPCUnavailableError('14 UNAVAILABLE: No connection established'), size), undefined);
  assert.equal(txnLimitError(new Error('etcdserver: mvcc: database space exceeded'), size), undefined);
});

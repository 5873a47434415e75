/** Topic ids read back from Metadata answers of every version that has them (wire.ts's encoder as the other side). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KafkaProtocolError } from '../../common/errors.js';
import { topicIdsFromMetadataResponse } from './metadata.js';
import { ApiKey, decodeKafkaRequest, encodeKafkaRequest, encodeMetadataResponse } from './wire.js';

const ID_A = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const ID_B = Buffer.from('ffeeddccbbaa99887766554433221100', 'hex');

function answer(v: number) {
  const req = decodeKafkaRequest(encodeKafkaRequest(ApiKey.Metadata, v, 5, 'c', (w, flex) => {
    w.arr(['a'], flex, (w, t) => { if (v >= 10) w.uuid(undefined); w.nstr(t, flex).tags(flex); });
    if (v >= 4) w.bool(false);
    if (v >= 8 && v <= 10) w.bool(false);
    if (v >= 8) w.bool(false);
    w.tags(flex);
  }));
  return encodeMetadataResponse(req, {
    brokers: [{ nodeId: 0, host: '127.0.0.1', port: 9092, rack: 'r1' }], clusterId: 'c1', controllerId: 0,
    topics: [
      { errorCode: 0, name: 'empire-announce', topicId: ID_A, partitions: [{ errorCode: 0, partition: 0, leader: 0, replicas: [0, 1], isr: [0] }] },
      { errorCode: 3, name: 'missing', topicId: ID_B, partitions: [] },
      { errorCode: 0, name: 'no-id', partitions: [] },
    ],
  });
}

test('Metadata v10–v12 answers: the ids of the topics answered without error, with a name and a non-zero id', () => {
  for (const v of [10, 11, 12]) assert.deepEqual(topicIdsFromMetadataResponse(answer(v), v), [{ id: ID_A.toString('hex'), name: 'empire-announce' }], `v${v}`);
});

test('versions without ids give none; a truncated answer is a KafkaProtocolError', () => {
  for (const v of [0, 1, 9]) assert.deepEqual(topicIdsFromMetadataResponse(answer(v), v), []);
  const a = answer(12);
  assert.throws(() => topicIdsFromMetadataResponse(a.subarray(0, a.length - 30), 12), (e) => e instanceof KafkaProtocolError && e.reason === 'malformed');
});

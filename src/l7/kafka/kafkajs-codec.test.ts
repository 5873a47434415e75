/**
 * wire.ts against an independent implementation of the protocol: kafkajs's
 * own request encoders and response decoders (node_modules/kafkajs/src/protocol/requests),
 * for every request type and version that both kafkajs and beeline know.
 * Each request kafkajs encodes must decode with the right header and topics;
 * each denied response wire.ts builds for it must decode with kafkajs's
 * decoder of that version and carry the authorization error.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { ApiKey, KAFKA_SUPPORTED_APIS, KafkaError, buildDeniedResponse, decodeKafkaRequest } from './wire.js';

const require = createRequire(import.meta.url);
const Request = require('kafkajs/src/protocol/request.js') as (a: { correlationId: number; clientId: string; request: unknown }) => Promise<{ buffer: Buffer }>;

const KAFKAJS_ERRORS = require('kafkajs/src/protocol/error.js').errorCodes as { type: string; code: number }[];

interface Case { dir: string; key: number; args: Record<string, unknown>; topics: string[]; error: number }
const parts = (n: number, extra: Record<string, unknown>) => Array.from({ length: n }, (_, i) => ({ partition: i, ...extra }));
const CASES: Case[] = [
  { dir: 'produce', key: ApiKey.Produce, topics: ['empire-announce', 'deathstar-plans'], error: KafkaError.TOPIC_AUTHORIZATION_FAILED,
    args: { acks: -1, timeout: 1000, compression: 0, topicData: [{ topic: 'empire-announce', partitions: parts(2, { messages: [{ value: 'x' }] }) }, { topic: 'deathstar-plans', partitions: parts(1, { messages: [{ key: 'k', value: 'y' }] }) }] } },
  { dir: 'fetch', key: ApiKey.Fetch, topics: ['empire-announce', 'deathstar-plans'], error: KafkaError.TOPIC_AUTHORIZATION_FAILED,
    args: { maxWaitTime: 100, minBytes: 1, maxBytes: 10000, topics: ['empire-announce', 'deathstar-plans'].map((topic) => ({ topic, partitions: parts(2, { fetchOffset: '7', maxBytes: 100, currentLeaderEpoch: -1, logStartOffset: '-1' }) })) } },
  { dir: 'listOffsets', key: ApiKey.ListOffsets, topics: ['deathstar-plans'], error: KafkaError.TOPIC_AUTHORIZATION_FAILED,
    args: { topics: [{ topic: 'deathstar-plans', partitions: parts(3, { timestamp: -1 }) }] } },
  { dir: 'metadata', key: ApiKey.Metadata, topics: ['empire-announce', 'deathstar-plans'], error: KafkaError.TOPIC_AUTHORIZATION_FAILED,
    args: { topics: ['empire-announce', 'deathstar-plans'] } },
  { dir: 'offsetCommit', key: ApiKey.OffsetCommit, topics: ['deathstar-plans'], error: KafkaError.TOPIC_AUTHORIZATION_FAILED,
    args: { groupId: 'g', groupGenerationId: 1, memberId: 'm', topics: [{ topic: 'deathstar-plans', partitions: parts(1, { offset: '5' }) }] } },
  { dir: 'offsetFetch', key: ApiKey.OffsetFetch, topics: ['deathstar-plans'], error: KafkaError.TOPIC_AUTHORIZATION_FAILED,
    args: { groupId: 'g', topics: [{ topic: 'deathstar-plans', partitions: parts(2, {}) }] } },
  { dir: 'findCoordinator', key: ApiKey.FindCoordinator, topics: [], error: KafkaError.GROUP_AUTHORIZATION_FAILED, args: { groupId: 'g' } },
  { dir: 'joinGroup', key: ApiKey.JoinGroup, topics: [], error: KafkaError.GROUP_AUTHORIZATION_FAILED,
    args: { groupId: 'g', sessionTimeout: 30000, rebalanceTimeout: 60000, memberId: '', protocolType: 'consumer', groupProtocols: [{ name: 'RoundRobinAssigner', metadata: Buffer.from('m') }] } },
  { dir: 'heartbeat', key: ApiKey.Heartbeat, topics: [], error: KafkaError.GROUP_AUTHORIZATION_FAILED, args: { groupId: 'g', groupGenerationId: 1, memberId: 'm' } },
  { dir: 'leaveGroup', key: ApiKey.LeaveGroup, topics: [], error: KafkaError.GROUP_AUTHORIZATION_FAILED, args: { groupId: 'g', memberId: 'm' } },
  { dir: 'syncGroup', key: ApiKey.SyncGroup, topics: [], error: KafkaError.GROUP_AUTHORIZATION_FAILED, args: { groupId: 'g', generationId: 1, memberId: 'm', groupAssignment: [] } },
  { dir: 'apiVersions', key: ApiKey.ApiVersions, topics: [], error: KafkaError.CLUSTER_AUTHORIZATION_FAILED, args: {} },
  { dir: 'createTopics', key: ApiKey.CreateTopics, topics: ['deathstar-plans', 'x'], error: KafkaError.TOPIC_AUTHORIZATION_FAILED,
    args: { topics: [{ topic: 'deathstar-plans', numPartitions: 3, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '1' }] }, { topic: 'x', numPartitions: 1, replicationFactor: 1 }], timeout: 1000, validateOnly: false } },
  { dir: 'deleteTopics', key: ApiKey.DeleteTopics, topics: ['deathstar-plans', 'x'], error: KafkaError.TOPIC_AUTHORIZATION_FAILED, args: { topics: ['deathstar-plans', 'x'], timeout: 1000 } },
  { dir: 'initProducerId', key: ApiKey.InitProducerId, topics: [], error: KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, args: { transactionalId: 'tx' } },
];

/** Every errorCode-like number in a decoded kafkajs response. */
function errorCodes(x: unknown, out: number[] = []): number[] {
  if (Array.isArray(x)) x.forEach((e) => errorCodes(e, out));
  else if (x && typeof x === 'object') for (const [k, v] of Object.entries(x)) { if (/errorCode$/i.test(k) && typeof v === 'number') out.push(v); else errorCodes(v, out); }
  return out;
}

for (const c of CASES) {
  const versions = require(`kafkajs/src/protocol/requests/${c.dir}/index.js`) as { versions: string[]; protocol: (a: { version: number }) => (args: unknown) => { request: { apiKey: number; apiVersion: number }; response: { decode(b: Buffer): Promise<unknown>; parse(d: unknown): Promise<unknown> } } };
  const support = KAFKA_SUPPORTED_APIS.get(c.key)!;
  const both = versions.versions.map(Number).filter((v) => v >= support.minVersion && v <= support.maxVersion).sort((a, b) => a - b);
  test(`${support.name} v${both.join(',')}: kafkajs's request decodes; the denied response decodes with kafkajs's decoder and carries error ${c.error}`, async () => {
    assert.ok(both.length > 0);
    for (const v of both) {
      const { request, response } = versions.protocol({ version: v })(c.args);
      assert.equal(request.apiVersion, v);
      const frame = (await Request({ correlationId: 4242 + v, clientId: 'kafkajs-codec', request })).buffer;
      const req = decodeKafkaRequest(frame);
      assert.equal(req.apiKey, c.key);
      assert.equal(req.apiVersion, v);
      assert.equal(req.correlationId, 4242 + v);
      assert.equal(req.clientId, 'kafkajs-codec');
      assert.deepEqual(req.topics, c.topics, `${support.name} v${v} topics`);
      const resp = buildDeniedResponse(req)!;
      assert.equal(resp.readInt32BE(0), resp.length - 4, 'size prefix');
      assert.equal(resp.readInt32BE(4), 4242 + v, 'correlation id');
      const decoded = await response.decode(resp.subarray(8));
      const codes = errorCodes(decoded);
      assert.ok(codes.includes(c.error), `${support.name} v${v}: error ${c.error} in ${JSON.stringify(decoded)}`);
      assert.ok(codes.every((e) => e === c.error || e === 0), `${support.name} v${v}: only ${c.error} (or none) in ${JSON.stringify(decoded)}`);
      if (c.topics.length > 0) {
        // Every partition of every topic the request named is answered.
        const json = JSON.stringify(decoded);
        for (const t of c.topics) assert.ok(json.includes(`"${t}"`), `${support.name} v${v}: topic ${t} in ${json}`);
      }
      // What kafkajs's caller sees: a protocol error of that type (CreateTopics: an aggregate of them).
      const type = KAFKAJS_ERRORS.find((e) => e.code === c.error)!.type;
      await assert.rejects(Promise.resolve().then(() => response.parse(decoded)), (e: { type?: string; errors?: { type?: string }[] }) => {
        assert.equal(e.type ?? e.errors?.[0]?.type, type, `${support.name} v${v}: kafkajs reports ${type}`);
        return true;
      });
    }
  });
}

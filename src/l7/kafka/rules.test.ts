import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KafkaRuleError } from '../../common/errors.js';
import type { Origin } from '../../policy/types.js';
import { KAFKA_ROLE_KEYS, compileKafkaRules, kafkaApiKeyName, type KafkaRequestFacts, type KafkaRuleSpec } from './rules.js';

const P1: Origin = { kind: 'CiliumNetworkPolicy', namespace: 'default', name: 'produce-announce' };
const P2: Origin = { kind: 'CiliumNetworkPolicy', namespace: 'default', name: 'produce-plans' };
const one = (rules: KafkaRuleSpec[]) => compileKafkaRules([{ rules, origin: P1 }]);
const req = (apiKey: number, topics: string[] = [], more: Partial<KafkaRequestFacts> = {}): KafkaRequestFacts =>
  ({ apiKey, apiVersion: 7, clientId: 'c1', topics, allTopics: false, ...more });

test('role produce expands to Produce, Metadata, ApiVersions; consume to the eleven keys of a consumer (Cilium GetAPIKeys)', () => {
  assert.deepEqual([...KAFKA_ROLE_KEYS.produce], [0, 3, 18]);
  assert.deepEqual([...KAFKA_ROLE_KEYS.consume], [1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 18]);
  const produce = one([{ role: 'produce' }]);
  for (let k = 0; k <= 40; k++) assert.equal(produce.match(req(k, ['t'])).allowed, [0, 3, 18].includes(k), `key ${k}`);
  const consume = one([{ role: 'CONSUME' as 'consume' }]); // case-insensitive
  for (let k = 0; k <= 40; k++) assert.equal(consume.match(req(k, ['t'])).allowed, KAFKA_ROLE_KEYS.consume.includes(k), `key ${k}`);
});

test('apiKey names one key (case-insensitive, Cilium\'s names); apiVersion and clientID must be equal', () => {
  const m = one([{ apiKey: 'OffsetCommit' }]);
  assert.equal(m.match(req(8, ['t'])).allowed, true);
  assert.equal(m.match(req(9, ['t'])).allowed, false);
  assert.equal(one([{ apiKey: 'offsets' }]).match(req(2, ['t'])).allowed, true); // ListOffsets is "offsets" in Cilium
  assert.equal(kafkaApiKeyName(2), 'offsets');
  assert.equal(kafkaApiKeyName(60), '60');
  const v = one([{ apiKey: 'produce', apiVersion: '7' }]);
  assert.equal(v.match(req(0, ['t'])).allowed, true);
  assert.equal(v.match(req(0, ['t'], { apiVersion: 8 })).allowed, false);
  const c = one([{ clientID: 'empire-hq' }]);
  assert.equal(c.match(req(0, ['t'], { clientId: 'empire-hq' })).allowed, true);
  assert.equal(c.match(req(0, ['t'], { clientId: 'Empire-hq' })).allowed, false);
  assert.equal(c.match(req(0, ['t'], { clientId: null })).allowed, false);
  assert.equal(one([{ clientID: '' }]).match(req(0, ['t'], { clientId: null })).allowed, true);
});

test('topic: every topic of a request must be allowed; topics are covered across rules and policies', () => {
  const m = compileKafkaRules([
    { rules: [{ role: 'produce', topic: 'empire-announce' }], origin: P1 },
    { rules: [{ apiKey: 'produce', topic: 'deathstar-plans' }], origin: P2 },
  ]);
  const a = m.match(req(0, ['empire-announce']));
  assert.deepEqual(a, { allowed: true, allowedBy: [P1], deniedTopics: [] });
  const both = m.match(req(0, ['empire-announce', 'deathstar-plans', 'empire-announce']));
  assert.deepEqual(both, { allowed: true, allowedBy: [P1, P2], deniedTopics: [] });
  const mixed = m.match(req(0, ['empire-announce', 'rebel-base', 'x']));
  assert.deepEqual(mixed, { allowed: false, allowedBy: [], deniedTopics: ['rebel-base', 'x'] });
  // Metadata is in produce's keys but P2's rule is Produce only: deathstar-plans' Metadata is denied.
  assert.deepEqual(m.match(req(3, ['deathstar-plans'])).deniedTopics, ['deathstar-plans']);
  // Topic names are exact: no case folding, no prefix.
  assert.equal(m.match(req(0, ['Empire-announce'])).allowed, false);
  assert.equal(m.match(req(0, ['empire-announce-2'])).allowed, false);
});

test('a rule\'s topic does not constrain request types without topics (Heartbeat, FindCoordinator, ApiVersions…)', () => {
  const m = one([{ role: 'consume', topic: 'empire-announce' }]);
  for (const k of [10, 11, 12, 13, 14, 18]) assert.equal(m.match(req(k)).allowed, true, `key ${k}`);
  assert.equal(m.match(req(1, ['deathstar-plans'])).allowed, false);
  assert.equal(m.match(req(1, ['empire-announce'])).allowed, true);
});

test('a request naming no topic passes a topic rule (brokers-only Metadata); one asking for all topics needs a rule without topic', () => {
  const m = one([{ role: 'produce', topic: 'empire-announce' }]);
  assert.equal(m.match(req(3, [])).allowed, true);
  assert.deepEqual(m.match(req(3, [], { allTopics: true })), { allowed: false, allowedBy: [], deniedTopics: [] });
  assert.equal(one([{ role: 'produce' }]).match(req(3, [], { allTopics: true })).allowed, true);
  // A topic only known by id (Fetch v13 unresolved) is no rule topic.
  const c = one([{ role: 'consume', topic: 'empire-announce' }]);
  assert.equal(c.match(req(1, ['<topic-id:00112233445566778899aabbccddeeff>'])).allowed, false);
  assert.equal(one([{ role: 'consume' }]).match(req(1, ['<topic-id:00112233445566778899aabbccddeeff>'])).allowed, true);
});

test('an empty rule list allows everything (L4-only allow); no source denies everything; rules without topic report their policy', () => {
  const any = compileKafkaRules([{ rules: [], origin: P1 }]);
  assert.equal(any.ruleCount, 1);
  assert.deepEqual(any.match(req(33, ['x'])), { allowed: true, allowedBy: [P1], deniedTopics: [] });
  const none = compileKafkaRules([]);
  assert.deepEqual(none.match(req(18)), { allowed: false, allowedBy: [], deniedTopics: [] });
  assert.deepEqual(none.match(req(0, ['a'])).deniedTopics, ['a']);
  const two = compileKafkaRules([{ rules: [{ apiKey: 'apiversions' }], origin: P2 }, { rules: [{ role: 'produce' }], origin: P1 }]);
  assert.deepEqual(two.match(req(18)).allowedBy, [P1, P2]);
});

test('invalid rules are refused with the policy and field named (Cilium Sanitize)', () => {
  const bad: [KafkaRuleSpec, RegExp][] = [
    [{ role: 'produce', apiKey: 'fetch' }, /rules\.kafka\[1\]\.apiKey: cannot be set together with role "produce"/],
    [{ role: 'publish' } as unknown as KafkaRuleSpec, /rules\.kafka\[1\]\.role: "publish": not a Kafka role/],
    [{ apiKey: 'produc' }, /rules\.kafka\[1\]\.apiKey: "produc": not a Kafka API key/],
    [{ apiKey: 'constructor' }, /apiKey: "constructor": not a Kafka API key/],
    [{ apiKey: 'sasl-authenticate' }, /not a Kafka API key/],
    [{ apiVersion: '-1' }, /rules\.kafka\[1\]\.apiVersion: "-1": not an API version/],
    [{ apiVersion: '32768' }, /apiVersion: "32768"/],
    [{ apiVersion: '1.5' }, /apiVersion: "1.5"/],
    [{ apiVersion: 'x' }, /apiVersion: "x"/],
    [{ topic: 'a'.repeat(256) }, /rules\.kafka\[1\]\.topic: longer than 255 characters \(256\)/],
    [{ topic: 'deathstar plans' }, /topic: "deathstar plans": not a Kafka topic name/],
    [{ topic: 'a\\b' }, /not a Kafka topic name/],
  ];
  for (const [spec, re] of bad) {
    assert.throws(() => one([{}, spec]), (e: unknown) => {
      assert.ok(e instanceof KafkaRuleError);
      assert.equal(e.code, 'BL_ERR_KAFKA_RULE');
      assert.match(e.message, /^CiliumNetworkPolicy\/default\/produce-announce: /);
      assert.match(e.message, re);
      return true;
    }, JSON.stringify(spec).slice(0, 60));
  }
  // Accepted edge cases: Go's ParseInt takes a sign and leading zeros; 255 characters; every allowed character.
  assert.equal(one([{ apiKey: 'produce', apiVersion: '+007' }]).match(req(0, ['t'])).allowed, true);
  assert.equal(one([{ topic: 'a'.repeat(255) }]).ruleCount, 1);
  assert.equal(one([{ topic: 'Az09._-' }]).match(req(0, ['Az09._-'])).allowed, true);
});

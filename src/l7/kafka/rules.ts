/**
 * Cilium's Kafka rules (`toPorts[].rules.kafka` of a CiliumNetworkPolicy, the
 * schema Cilium had up to 1.19) for one port of one endpoint, compiled into a
 * matcher the node proxy asks once per request. Pure: a request's facts in
 * (API key, version, client id, topics; see ./wire.ts), a verdict out.
 *
 * Semantics, as Cilium validated a rule (pkg/policy/api/kafka `PortRule.Sanitize`,
 * `GetAPIKeys`) and as its proxy matched one (cilium/proxy
 * proxylib/kafka/kafkalib `Rule.Matches`, `isTopicAPIKey`):
 *
 * - `role` (case-insensitive) expands to API keys: `produce` → Produce,
 *   Metadata, ApiVersions; `consume` → Fetch, ListOffsets, Metadata,
 *   OffsetCommit, OffsetFetch, FindCoordinator, JoinGroup, Heartbeat,
 *   LeaveGroup, SyncGroup, ApiVersions. `apiKey` (case-insensitive, a name of
 *   {@link KAFKA_API_KEYS}) allows that one key. Both in one rule is refused;
 *   neither allows every key.
 * - `apiVersion`: a decimal integer 0…32767; the request's version must equal
 *   it. Omitted or empty: every version.
 * - `clientID`: the request header's client id must equal it exactly (a null
 *   client id is the empty string). Omitted or empty: every client.
 * - `topic`: at most 255 characters of `a-z A-Z 0-9 . _ -`. It constrains only
 *   request types that carry topics ({@link KAFKA_TOPIC_API_KEYS}); a rule with
 *   a topic allows other request types (ApiVersions, Heartbeat…) outright.
 *   Every topic of a request must be allowed, by this rule or another whose
 *   key, version and client id also match: topics are covered one by one
 *   across all rules of all policies (Cilium deletes each matched topic from
 *   the request's set and allows when the set is empty).
 * - Rules are ORed, across rules and across policies; a policy whose list is
 *   empty allows every request on the port (an L4-only allow wildcards L7),
 *   as `[{}]` does. No policy at all: everything is denied.
 *
 * Three places where we decide what Cilium's code left open, both documented in
 * docs/kafka.md:
 *
 * - A request of a topic type that names NO topic (Metadata v1+ with an empty
 *   list: "brokers only", which kafkajs and librdkafka send when they
 *   connect) touches no topic, so the topic constraint holds vacuously and a
 *   rule whose other fields match allows it. Cilium's last proxy
 *   (kafkalib) denied it under a topic rule, which makes current clients
 *   unable to connect; its earlier pkg/kafka `MatchesRule` allowed it.
 * - A request for ALL topics (Metadata v0 with an empty list, v1+ with a null
 *   list) names every topic: only a rule without `topic` allows it.
 * - A topic the request names only by id (Fetch v13) and that the proxy could
 *   not resolve to a name is given as `<topic-id:…>`, which no valid rule
 *   topic equals: only a rule without `topic` allows it.
 */
import { KafkaRuleError } from '../../common/errors.js';
import type { PortRuleKafka } from '../../k8s/types.js';
import { normaliseOrigins, originText } from '../../policy/cookies.js';
import type { Origin } from '../../policy/types.js';

/** One entry of `rules.kafka` as written in the policy (Cilium's kafka.PortRule). */
export type KafkaRuleSpec = PortRuleKafka;

/** The Kafka rules of one policy for this port; several of these are ORed. */
export interface KafkaRuleSource {
  /** The policy's `rules.kafka` for the port; empty allows every request (as `[{}]`). */
  rules: readonly KafkaRuleSpec[];
  /** The policy the rules come from; reported in `allowedBy`. */
  origin: Origin;
}

/** What the matcher needs of a request (./wire.ts `KafkaRequest` has these fields). */
export interface KafkaRequestFacts {
  apiKey: number;
  apiVersion: number;
  /** The header's client id; null when the header has none (v0) or sent null. */
  clientId: string | null;
  /** The topics the request names, in order (may repeat). */
  topics: readonly string[];
  /** True when the request asks about every topic (Metadata v0 `[]`, v1+ null). */
  allTopics: boolean;
}

/** The matcher's answer for one request. */
export interface KafkaVerdict {
  allowed: boolean;
  /** The policies with a rule that allowed the request (or covered one of its topics), sorted and de-duplicated; empty when denied. */
  allowedBy: Origin[];
  /** Topics of the request no matching rule allows, de-duplicated in request order; empty when allowed. A denied request of a type without topics, or for all topics, has none. */
  deniedTopics: string[];
}

/** One port's compiled Kafka rules. */
export interface KafkaRuleMatcher {
  match(request: KafkaRequestFacts): KafkaVerdict;
  /** How many rules were compiled (after an empty source became `{}`). */
  readonly ruleCount: number;
}

/**
 * Cilium's API key names (pkg/policy/api/kafka `APIKeyMap`): the names
 * `apiKey` accepts, lower case. Keys above 33 cannot be named in a rule.
 */
export const KAFKA_API_KEYS: Readonly<Record<string, number>> = Object.freeze({
  produce: 0, fetch: 1, offsets: 2, metadata: 3, leaderandisr: 4, stopreplica: 5,
  updatemetadata: 6, controlledshutdown: 7, offsetcommit: 8, offsetfetch: 9,
  findcoordinator: 10, joingroup: 11, heartbeat: 12, leavegroup: 13, syncgroup: 14,
  describegroups: 15, listgroups: 16, saslhandshake: 17, apiversions: 18,
  createtopics: 19, deletetopics: 20, deleterecords: 21, initproducerid: 22,
  offsetforleaderepoch: 23, addpartitionstotxn: 24, addoffsetstotxn: 25, endtxn: 26,
  writetxnmarkers: 27, txnoffsetcommit: 28, describeacls: 29, createacls: 30,
  deleteacls: 31, describeconfigs: 32, alterconfigs: 33,
});

/** The API keys each role expands to (Cilium's `GetAPIKeys`). */
export const KAFKA_ROLE_KEYS: Readonly<Record<'produce' | 'consume', readonly number[]>> = Object.freeze({
  produce: Object.freeze([0, 3, 18]),
  consume: Object.freeze([1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 18]),
});

/** Request types that carry topics (Cilium's `isTopicAPIKey`): a rule's `topic` constrains only these. */
export const KAFKA_TOPIC_API_KEYS: ReadonlySet<number> = new Set([0, 1, 2, 3, 4, 5, 6, 8, 9, 19, 20, 21, 23, 24, 27, 28, 34, 35, 37]);

/** Cilium's topic length limit (255: older Kafka's, kept for compatibility; Kafka 0.10+ allows 249). */
export const KAFKA_MAX_TOPIC_LEN = 255;
/** The characters of a rule's topic (Cilium's TopicValidChar, without the backslash its escaping lets through). */
export const KAFKA_TOPIC_CHARS = /^[a-zA-Z0-9._-]+$/;

interface CompiledRule {
  origin: Origin;
  /** Allowed keys; undefined: every key. */
  keys?: ReadonlySet<number>;
  version?: number;
  clientId?: string;
  topic?: string;
}

/** The name of an API key for messages (`produce`, or the number when Cilium has no name). */
export function kafkaApiKeyName(key: number): string {
  for (const [name, k] of Object.entries(KAFKA_API_KEYS)) if (k === key) return name;
  return String(key);
}

/**
 * Compiles one port's Kafka rules, ORed across `sources` (one per policy).
 * Throws KafkaRuleError naming the policy and field for a rule Cilium's
 * Sanitize refuses.
 */
export function compileKafkaRules(sources: readonly KafkaRuleSource[]): KafkaRuleMatcher {
  const rules: CompiledRule[] = [];
  for (const src of sources) {
    const specs = src.rules.length === 0 ? [{}] : src.rules;
    specs.forEach((spec, i) => rules.push(compileRule(spec, src.origin, `rules.kafka[${i}]`)));
  }
  return { ruleCount: rules.length, match: (req) => matchRules(rules, req) };
}

function compileRule(spec: KafkaRuleSpec, origin: Origin, where: string): CompiledRule {
  const fail = (field: string, msg: string): never => {
    throw new KafkaRuleError(`${originText(origin)}: ${where}.${field}: ${msg}`);
  };
  const rule: CompiledRule = { origin };
  const role = spec.role ?? '';
  const apiKey = spec.apiKey ?? '';
  if (role !== '' && apiKey !== '') fail('apiKey', `cannot be set together with role ${JSON.stringify(role)} (a role already names its API keys)`);
  if (role !== '') {
    const r = role.toLowerCase();
    if (r !== 'produce' && r !== 'consume') fail('role', `${JSON.stringify(role)}: not a Kafka role (produce or consume)`);
    rule.keys = new Set(KAFKA_ROLE_KEYS[r as 'produce' | 'consume']);
  }
  if (apiKey !== '') {
    const k = KAFKA_API_KEYS[apiKey.toLowerCase()];
    if (k === undefined || !Object.hasOwn(KAFKA_API_KEYS, apiKey.toLowerCase())) {
      fail('apiKey', `${JSON.stringify(apiKey)}: not a Kafka API key (one of ${Object.keys(KAFKA_API_KEYS).join(', ')})`);
    }
    rule.keys = new Set([k!]);
  }
  const version = spec.apiVersion ?? '';
  if (version !== '') {
    // Go's strconv.ParseInt(s, 10, 16): optional sign, decimal digits.
    const n = /^[+-]?[0-9]+$/.test(version) ? Number(version) : NaN;
    if (!Number.isInteger(n) || n < 0 || n > 32767) fail('apiVersion', `${JSON.stringify(version)}: not an API version (an integer 0…32767)`);
    rule.version = n;
  }
  if (spec.clientID !== undefined && spec.clientID !== '') rule.clientId = spec.clientID;
  const topic = spec.topic ?? '';
  if (topic !== '') {
    if (topic.length > KAFKA_MAX_TOPIC_LEN) fail('topic', `longer than ${KAFKA_MAX_TOPIC_LEN} characters (${topic.length})`);
    if (!KAFKA_TOPIC_CHARS.test(topic)) fail('topic', `${JSON.stringify(topic)}: not a Kafka topic name (letters, digits, . _ -)`);
    rule.topic = topic;
  }
  return rule;
}

function matchRules(rules: readonly CompiledRule[], req: KafkaRequestFacts): KafkaVerdict {
  const clientId = req.clientId ?? '';
  const candidates = rules.filter((r) =>
    (r.keys === undefined || r.keys.has(req.apiKey))
    && (r.version === undefined || r.version === req.apiVersion)
    && (r.clientId === undefined || r.clientId === clientId));
  const topicKind = KAFKA_TOPIC_API_KEYS.has(req.apiKey);
  const namesNone = !req.allTopics && req.topics.length === 0;
  // A rule allows the whole request when its topic does not apply to it.
  const whole = candidates.filter((r) => r.topic === undefined || !topicKind || namesNone);
  if (whole.length > 0) return { allowed: true, allowedBy: normaliseOrigins(whole.map((r) => r.origin)), deniedTopics: [] };
  // Below, a rule can allow only by covering topics: with no topics named (or
  // all of them asked for), nothing is covered and the request is denied.
  if (req.allTopics || req.topics.length === 0) return { allowed: false, allowedBy: [], deniedTopics: [] };
  const by: Origin[] = [];
  const denied: string[] = [];
  for (const t of new Set(req.topics)) {
    const covering = candidates.filter((r) => r.topic === t);
    if (covering.length === 0) denied.push(t);
    else for (const r of covering) by.push(r.origin);
  }
  if (denied.length > 0) return { allowed: false, allowedBy: [], deniedTopics: denied };
  return { allowed: true, allowedBy: normaliseOrigins(by), deniedTopics: [] };
}

/**
 * The Kafka proxy's records (./proxy.ts) → Hubble L7 flows, filled as
 * Cilium's Kafka proxy logged them (pkg/proxy/kafka.go: a request record and,
 * when the answer came back, a response record; one record per topic of the
 * request, "multiple entries for multiple Kafka topics in a single request")
 * and as Hubble's L7 parser turns them into flows (pkg/hubble/parser/seven:
 * `kafka { error_code, api_version, api_key, correlation_id, topic }`, the
 * error code left 0 on requests, Summary `Kafka request produce correlation
 * id 3 topic 'empire-announce'` and `Kafka response produce correlation id 3
 * topic 'empire-announce' return code 29`).
 *
 * Per topic of a record (one flow pair with topic '' for a request without
 * topics):
 *
 *   REQUEST   client → server, is_reply false, time = the request's frame
 *             complete, latency_ns 0, verdict FORWARDED or DROPPED (denied),
 *             or ERROR (a request the proxy could not check: it closed the
 *             connection); error_code 0.
 *   RESPONSE  server → client, is_reply true, time = request + latency,
 *             latency_ns, error_code: the proxy's authorization error for a
 *             denied request (its answer, FORWARDED to the client as Hubble
 *             shows an L7 denial's answer), 0 for a relayed broker answer
 *             (the broker's per-partition codes are not read, as Cilium's
 *             proxy logged ErrNone for them). Only when an answer reached
 *             the client.
 *
 * Policies, endpoints, Services and names as ../http/flows.ts does:
 * decidingPolicy labels, ingress_allowed_by / egress_allowed_by on the
 * request flow by the record's direction, resolveEndpoint with the proxy's
 * identities winning, serviceByFrontend, namesForIP.
 */
import type { Flow } from '../../api/generated/flow/Flow.js';
import type { Verdict } from '../../api/generated/flow/Verdict.js';
import { allowingPolicy, l7ConnectionExchange, l7Flow, timeOfMicros, type L7FlowContext } from '../flows.js';
import type { KafkaRecord } from './proxy.js';
import { kafkaApiKeyName } from './rules.js';

/** What the converter asks of the agent (as ../http/flows.ts's HttpFlowContext). */
export type KafkaFlowContext = L7FlowContext;

/**
 * Cilium's name of an API key as the flow's api_key (`produce`, `fetch`,
 * `offsets`, `metadata`, …; the number as text for keys Cilium has no name
 * for, `unknown` when the header could not be read).
 */
export function kafkaFlowApiKey(key: number): string {
  return key < 0 ? 'unknown' : kafkaApiKeyName(key);
}

/** Hubble's Summary of a Kafka flow (pkg/hubble/parser/seven kafkaSummary). */
export function kafkaFlowSummary(type: 'REQUEST' | 'RESPONSE', k: { api_key: string; correlation_id: number; topic: string; error_code: number }): string {
  return type === 'REQUEST'
    ? `Kafka request ${k.api_key} correlation id ${k.correlation_id} topic '${k.topic}'`
    : `Kafka response ${k.api_key} correlation id ${k.correlation_id} topic '${k.topic}' return code ${k.error_code}`;
}

/** The flows of one record: a request flow per topic, and a response flow per topic when an answer reached the client. */
export function kafkaFlowsFromRecord(rec: KafkaRecord, ctx: KafkaFlowContext): Flow[] {
  const ex = l7ConnectionExchange(ctx, rec);
  const verdict: Verdict = rec.verdict === 'forwarded' ? 'FORWARDED' : rec.verdict === 'denied' ? 'DROPPED' : 'ERROR';
  const allowedBy = rec.verdict === 'forwarded' ? rec.allowedBy.map(allowingPolicy) : undefined;
  const apiKey = kafkaFlowApiKey(rec.apiKey);
  const topics = rec.topics.length > 0 ? rec.topics : [''];
  const latencyMs = Math.max(rec.latencyMs, 0);

  const flows: Flow[] = [];
  for (const topic of topics) {
    const k = { error_code: 0, api_version: rec.apiVersion, api_key: apiKey, correlation_id: rec.correlationId, topic };
    flows.push(l7Flow(ex, false, {
      time: timeOfMicros(rec.timeUs),
      verdict,
      l7: { type: 'REQUEST', latency_ns: 0, kafka: k, record: 'kafka' },
      allowedBy,
      Summary: kafkaFlowSummary('REQUEST', k),
    }));
  }
  if (!rec.responded) return flows;
  for (const topic of topics) {
    const k = { error_code: rec.errorCode < 0 ? 0 : rec.errorCode, api_version: rec.apiVersion, api_key: apiKey, correlation_id: rec.correlationId, topic };
    flows.push(l7Flow(ex, true, {
      time: timeOfMicros(rec.timeUs + latencyMs * 1000),
      verdict: 'FORWARDED',
      l7: { type: 'RESPONSE', latency_ns: Math.round(latencyMs * 1e6), kafka: k, record: 'kafka' },
      Summary: kafkaFlowSummary('RESPONSE', k),
    }));
  }
  return flows;
}

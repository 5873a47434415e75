/**
 * Topic ids from Metadata responses (v10+), so that the proxy can match a
 * request that names topics only by id (Fetch v13, Metadata v10+ and
 * DeleteTopics v6 with a null name) against topic rules by name. The broker
 * is the authority for its topics' ids; the proxy learns them from the
 * Metadata answers it relays (Kafka's own clients learn them the same way).
 */
import { KafkaReader, isFlexible } from './wire.js';

/** A topic id (16 bytes, as hex) and the name the broker gave it. */
export interface LearnedTopicId { id: string; name: string }

/**
 * The (topic id, name) pairs of a Metadata response frame (with its 4-byte
 * size prefix) of `apiVersion`: the topics the broker answered without error,
 * with a name and a non-zero id. Empty below v10 (no ids). Throws
 * KafkaProtocolError `malformed` when the frame does not match the schema.
 */
export function topicIdsFromMetadataResponse(frame: Buffer, apiVersion: number): LearnedTopicId[] {
  const v = apiVersion;
  if (v < 10) return [];
  const flex = isFlexible(3, v);
  const r = new KafkaReader(frame.subarray(4), 'kafka metadata response');
  r.i32('correlation_id');
  r.tags(flex, 'response header tagged fields');
  if (v >= 3) r.i32('throttle_time_ms');
  r.arr(flex, () => {
    r.i32('brokers.node_id'); r.str(flex, 'brokers.host'); r.i32('brokers.port');
    if (v >= 1) r.nstr(flex, 'brokers.rack');
    r.tags(flex);
  }, 'brokers', 10);
  if (v >= 2) r.nstr(flex, 'cluster_id');
  if (v >= 1) r.i32('controller_id');
  const out: LearnedTopicId[] = [];
  r.arr(flex, () => {
    const errorCode = r.i16('topics.error_code');
    const name = r.nstr(flex, 'topics.name');
    const id = r.uuid('topics.topic_id');
    if (v >= 1) r.bool('topics.is_internal');
    r.arr(flex, () => {
      r.i16('partitions.error_code'); r.i32('partitions.partition_index'); r.i32('partitions.leader_id');
      if (v >= 7) r.i32('partitions.leader_epoch');
      const ints = (f: string) => r.arr(flex, () => r.i32(f), f, 4);
      ints('partitions.replica_nodes'); ints('partitions.isr_nodes');
      if (v >= 5) ints('partitions.offline_replicas');
      r.tags(flex);
    }, 'topics.partitions', 12);
    if (v >= 8) r.i32('topics.topic_authorized_operations');
    r.tags(flex);
    if (errorCode === 0 && name && !id.every((b) => b === 0)) out.push({ id: id.toString('hex'), name });
  }, 'topics', 20);
  return out;
}

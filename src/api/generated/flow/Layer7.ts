// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto

import type { L7FlowType as _flow_L7FlowType, L7FlowType__Output as _flow_L7FlowType__Output } from '../flow/L7FlowType.js';
import type { DNS as _flow_DNS, DNS__Output as _flow_DNS__Output } from '../flow/DNS.js';
import type { HTTP as _flow_HTTP, HTTP__Output as _flow_HTTP__Output } from '../flow/HTTP.js';
import type { Kafka as _flow_Kafka, Kafka__Output as _flow_Kafka__Output } from '../flow/Kafka.js';
import type { Long } from '@grpc/proto-loader';

/**
 * An L7 record from the per-node proxy (HTTP, DNS, Kafka).
 */
export interface Layer7 {
  'type'?: (_flow_L7FlowType);
  /**
   * Request to response, for RESPONSE records.
   */
  'latency_ns'?: (number | string | Long);
  'dns'?: (_flow_DNS | null);
  'http'?: (_flow_HTTP | null);
  'kafka'?: (_flow_Kafka | null);
  'record'?: "dns"|"http"|"kafka";
}

/**
 * An L7 record from the per-node proxy (HTTP, DNS, Kafka).
 */
export interface Layer7__Output {
  'type': (_flow_L7FlowType__Output);
  /**
   * Request to response, for RESPONSE records.
   */
  'latency_ns': (string);
  'dns'?: (_flow_DNS__Output | null);
  'http'?: (_flow_HTTP__Output | null);
  'kafka'?: (_flow_Kafka__Output | null);
  'record'?: "dns"|"http"|"kafka";
}

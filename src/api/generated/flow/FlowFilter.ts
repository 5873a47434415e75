// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto

import type { Verdict as _flow_Verdict, Verdict__Output as _flow_Verdict__Output } from '../flow/Verdict.js';
import type { EventTypeFilter as _flow_EventTypeFilter, EventTypeFilter__Output as _flow_EventTypeFilter__Output } from '../flow/EventTypeFilter.js';
import type { TCPFlags as _flow_TCPFlags, TCPFlags__Output as _flow_TCPFlags__Output } from '../flow/TCPFlags.js';
import type { IPVersion as _flow_IPVersion, IPVersion__Output as _flow_IPVersion__Output } from '../flow/IPVersion.js';
import type { Workload as _flow_Workload, Workload__Output as _flow_Workload__Output } from '../flow/Workload.js';
import type { TrafficDirection as _flow_TrafficDirection, TrafficDirection__Output as _flow_TrafficDirection__Output } from '../flow/TrafficDirection.js';
import type { DropReason as _flow_DropReason, DropReason__Output as _flow_DropReason__Output } from '../flow/DropReason.js';

/**
 * One flow filter: every field that is set must match (AND); within a
 * repeated field any value may match (OR).
 */
export interface FlowFilter {
  /**
   * Exact addresses or CIDRs.
   */
  'source_ip'?: (string)[];
  /**
   * Pod name prefixes, optionally `namespace/`-qualified; `namespace/` alone matches the namespace.
   */
  'source_pod'?: (string)[];
  'destination_ip'?: (string)[];
  'destination_pod'?: (string)[];
  'verdict'?: (_flow_Verdict)[];
  'event_type'?: (_flow_EventTypeFilter)[];
  'source_fqdn'?: (string)[];
  'destination_fqdn'?: (string)[];
  /**
   * Exact codes or `4+`-style class prefixes.
   */
  'http_status_code'?: (string)[];
  /**
   * Kubernetes label selectors.
   */
  'source_label'?: (string)[];
  'destination_label'?: (string)[];
  /**
   * tcp, udp, icmp, icmpv4, icmpv6, sctp, http, dns, kafka.
   */
  'protocol'?: (string)[];
  'source_port'?: (string)[];
  'destination_port'?: (string)[];
  'reply'?: (boolean)[];
  /**
   * `namespace/name` prefixes, like source_pod.
   */
  'source_service'?: (string)[];
  'destination_service'?: (string)[];
  /**
   * RE2 patterns on the DNS query.
   */
  'dns_query'?: (string)[];
  'source_identity'?: (number)[];
  'destination_identity'?: (number)[];
  'http_method'?: (string)[];
  /**
   * RE2 patterns on the HTTP path.
   */
  'http_path'?: (string)[];
  /**
   * A filter entry matches when every flag it sets is set on the flow.
   */
  'tcp_flags'?: (_flow_TCPFlags)[];
  /**
   * Glob patterns on the node name (`node-*`).
   */
  'node_name'?: (string)[];
  'ip_version'?: (_flow_IPVersion)[];
  'source_workload'?: (_flow_Workload)[];
  'destination_workload'?: (_flow_Workload)[];
  'trace_id'?: (string)[];
  'uuid'?: (string)[];
  'traffic_direction'?: (_flow_TrafficDirection)[];
  /**
   * RE2 patterns on the whole HTTP URL.
   */
  'http_url'?: (string)[];
  /**
   * Drop reasons (Verdict DROPPED).
   */
  'drop_reason_desc'?: (_flow_DropReason)[];
}

/**
 * One flow filter: every field that is set must match (AND); within a
 * repeated field any value may match (OR).
 */
export interface FlowFilter__Output {
  /**
   * Exact addresses or CIDRs.
   */
  'source_ip': (string)[];
  /**
   * Pod name prefixes, optionally `namespace/`-qualified; `namespace/` alone matches the namespace.
   */
  'source_pod': (string)[];
  'destination_ip': (string)[];
  'destination_pod': (string)[];
  'verdict': (_flow_Verdict__Output)[];
  'event_type': (_flow_EventTypeFilter__Output)[];
  'source_fqdn': (string)[];
  'destination_fqdn': (string)[];
  /**
   * Exact codes or `4+`-style class prefixes.
   */
  'http_status_code': (string)[];
  /**
   * Kubernetes label selectors.
   */
  'source_label': (string)[];
  'destination_label': (string)[];
  /**
   * tcp, udp, icmp, icmpv4, icmpv6, sctp, http, dns, kafka.
   */
  'protocol': (string)[];
  'source_port': (string)[];
  'destination_port': (string)[];
  'reply': (boolean)[];
  /**
   * `namespace/name` prefixes, like source_pod.
   */
  'source_service': (string)[];
  'destination_service': (string)[];
  /**
   * RE2 patterns on the DNS query.
   */
  'dns_query': (string)[];
  'source_identity': (number)[];
  'destination_identity': (number)[];
  'http_method': (string)[];
  /**
   * RE2 patterns on the HTTP path.
   */
  'http_path': (string)[];
  /**
   * A filter entry matches when every flag it sets is set on the flow.
   */
  'tcp_flags': (_flow_TCPFlags__Output)[];
  /**
   * Glob patterns on the node name (`node-*`).
   */
  'node_name': (string)[];
  'ip_version': (_flow_IPVersion__Output)[];
  'source_workload': (_flow_Workload__Output)[];
  'destination_workload': (_flow_Workload__Output)[];
  'trace_id': (string)[];
  'uuid': (string)[];
  'traffic_direction': (_flow_TrafficDirection__Output)[];
  /**
   * RE2 patterns on the whole HTTP URL.
   */
  'http_url': (string)[];
  /**
   * Drop reasons (Verdict DROPPED).
   */
  'drop_reason_desc': (_flow_DropReason__Output)[];
}

// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../google/protobuf/Timestamp.js';
import type { Verdict as _flow_Verdict, Verdict__Output as _flow_Verdict__Output } from '../flow/Verdict.js';
import type { Ethernet as _flow_Ethernet, Ethernet__Output as _flow_Ethernet__Output } from '../flow/Ethernet.js';
import type { IP as _flow_IP, IP__Output as _flow_IP__Output } from '../flow/IP.js';
import type { Layer4 as _flow_Layer4, Layer4__Output as _flow_Layer4__Output } from '../flow/Layer4.js';
import type { Endpoint as _flow_Endpoint, Endpoint__Output as _flow_Endpoint__Output } from '../flow/Endpoint.js';
import type { FlowType as _flow_FlowType, FlowType__Output as _flow_FlowType__Output } from '../flow/FlowType.js';
import type { Layer7 as _flow_Layer7, Layer7__Output as _flow_Layer7__Output } from '../flow/Layer7.js';
import type { CiliumEventType as _flow_CiliumEventType, CiliumEventType__Output as _flow_CiliumEventType__Output } from '../flow/CiliumEventType.js';
import type { Service as _flow_Service, Service__Output as _flow_Service__Output } from '../flow/Service.js';
import type { TrafficDirection as _flow_TrafficDirection, TrafficDirection__Output as _flow_TrafficDirection__Output } from '../flow/TrafficDirection.js';
import type { TraceObservationPoint as _flow_TraceObservationPoint, TraceObservationPoint__Output as _flow_TraceObservationPoint__Output } from '../flow/TraceObservationPoint.js';
import type { DropReason as _flow_DropReason, DropReason__Output as _flow_DropReason__Output } from '../flow/DropReason.js';
import type { BoolValue as _google_protobuf_BoolValue, BoolValue__Output as _google_protobuf_BoolValue__Output } from '../google/protobuf/BoolValue.js';
import type { DebugCapturePoint as _flow_DebugCapturePoint, DebugCapturePoint__Output as _flow_DebugCapturePoint__Output } from '../flow/DebugCapturePoint.js';
import type { NetworkInterface as _flow_NetworkInterface, NetworkInterface__Output as _flow_NetworkInterface__Output } from '../flow/NetworkInterface.js';
import type { TraceContext as _flow_TraceContext, TraceContext__Output as _flow_TraceContext__Output } from '../flow/TraceContext.js';
import type { SocketTranslationPoint as _flow_SocketTranslationPoint, SocketTranslationPoint__Output as _flow_SocketTranslationPoint__Output } from '../flow/SocketTranslationPoint.js';
import type { AuthType as _flow_AuthType, AuthType__Output as _flow_AuthType__Output } from '../flow/AuthType.js';
import type { TraceReason as _flow_TraceReason, TraceReason__Output as _flow_TraceReason__Output } from '../flow/TraceReason.js';
import type { Policy as _flow_Policy, Policy__Output as _flow_Policy__Output } from '../flow/Policy.js';
import type { MeshTls as _flow_MeshTls, MeshTls__Output as _flow_MeshTls__Output } from '../flow/MeshTls.js';
import type { MeshRoute as _flow_MeshRoute, MeshRoute__Output as _flow_MeshRoute__Output } from '../flow/MeshRoute.js';
import type { Long } from '@grpc/proto-loader';

export interface Flow {
  'time'?: (_google_protobuf_Timestamp | null);
  'verdict'?: (_flow_Verdict);
  /**
   * Deprecated by Hubble in favour of drop_reason_desc; still filled.
   * @deprecated
   */
  'drop_reason'?: (number);
  'ethernet'?: (_flow_Ethernet | null);
  'IP'?: (_flow_IP | null);
  'l4'?: (_flow_Layer4 | null);
  'source'?: (_flow_Endpoint | null);
  'destination'?: (_flow_Endpoint | null);
  'Type'?: (_flow_FlowType);
  /**
   * The node whose datapath (or proxy) observed the flow.
   */
  'node_name'?: (string);
  /**
   * DNS names known for the source / destination address.
   */
  'source_names'?: (string)[];
  'destination_names'?: (string)[];
  /**
   * Set when Type is L7.
   */
  'l7'?: (_flow_Layer7 | null);
  /**
   * @deprecated
   */
  'reply'?: (boolean);
  'event_type'?: (_flow_CiliumEventType | null);
  'source_service'?: (_flow_Service | null);
  'destination_service'?: (_flow_Service | null);
  'traffic_direction'?: (_flow_TrafficDirection);
  /**
   * Policy verdict events: Cilium's PolicyMatchType (L3_ONLY = 1, L3_L4 = 2, L4_ONLY = 3, ALL = 4).
   */
  'policy_match_type'?: (number);
  'trace_observation_point'?: (_flow_TraceObservationPoint);
  'drop_reason_desc'?: (_flow_DropReason);
  /**
   * Absent when the datapath does not know (no connection tracking at the point).
   */
  'is_reply'?: (_google_protobuf_BoolValue | null);
  'debug_capture_point'?: (_flow_DebugCapturePoint);
  'interface'?: (_flow_NetworkInterface | null);
  'proxy_port'?: (number);
  'trace_context'?: (_flow_TraceContext | null);
  'sock_xlate_point'?: (_flow_SocketTranslationPoint);
  'socket_cookie'?: (number | string | Long);
  'cgroup_id'?: (number | string | Long);
  /**
   * A random (version 4) UUID per flow.
   */
  'uuid'?: (string);
  'auth_type'?: (_flow_AuthType);
  'trace_reason'?: (_flow_TraceReason);
  /**
   * The policies that allowed or denied the flow, per direction. A default
   * deny names the policies that made the endpoint default-deny.
   */
  'egress_allowed_by'?: (_flow_Policy)[];
  'ingress_allowed_by'?: (_flow_Policy)[];
  'egress_denied_by'?: (_flow_Policy)[];
  'ingress_denied_by'?: (_flow_Policy)[];
  /**
   * Mutual TLS between the node proxies (issue 15): on the flows the
   * server side's proxy records. Field range 21100-21109 is the mesh TLS's.
   */
  'mesh_tls'?: (_flow_MeshTls | null);
  /**
   * Hubble's one-line summary ("TCP Flags: SYN", "ICMPv4 EchoRequest").
   * @deprecated
   */
  'Summary'?: (string);
  /**
   * beeline's own (not Hubble's; a number far from Hubble's ranges, 1-99,
   * 21001-21099, 100000, 150000): the mesh route that took an L7 HTTP flow.
   */
  'mesh_route'?: (_flow_MeshRoute | null);
}

export interface Flow__Output {
  'time': (_google_protobuf_Timestamp__Output | null);
  'verdict': (_flow_Verdict__Output);
  /**
   * Deprecated by Hubble in favour of drop_reason_desc; still filled.
   * @deprecated
   */
  'drop_reason': (number);
  'ethernet': (_flow_Ethernet__Output | null);
  'IP': (_flow_IP__Output | null);
  'l4': (_flow_Layer4__Output | null);
  'source': (_flow_Endpoint__Output | null);
  'destination': (_flow_Endpoint__Output | null);
  'Type': (_flow_FlowType__Output);
  /**
   * The node whose datapath (or proxy) observed the flow.
   */
  'node_name': (string);
  /**
   * DNS names known for the source / destination address.
   */
  'source_names': (string)[];
  'destination_names': (string)[];
  /**
   * Set when Type is L7.
   */
  'l7': (_flow_Layer7__Output | null);
  /**
   * @deprecated
   */
  'reply': (boolean);
  'event_type': (_flow_CiliumEventType__Output | null);
  'source_service': (_flow_Service__Output | null);
  'destination_service': (_flow_Service__Output | null);
  'traffic_direction': (_flow_TrafficDirection__Output);
  /**
   * Policy verdict events: Cilium's PolicyMatchType (L3_ONLY = 1, L3_L4 = 2, L4_ONLY = 3, ALL = 4).
   */
  'policy_match_type': (number);
  'trace_observation_point': (_flow_TraceObservationPoint__Output);
  'drop_reason_desc': (_flow_DropReason__Output);
  /**
   * Absent when the datapath does not know (no connection tracking at the point).
   */
  'is_reply': (_google_protobuf_BoolValue__Output | null);
  'debug_capture_point': (_flow_DebugCapturePoint__Output);
  'interface': (_flow_NetworkInterface__Output | null);
  'proxy_port': (number);
  'trace_context': (_flow_TraceContext__Output | null);
  'sock_xlate_point': (_flow_SocketTranslationPoint__Output);
  'socket_cookie': (string);
  'cgroup_id': (string);
  /**
   * A random (version 4) UUID per flow.
   */
  'uuid': (string);
  'auth_type': (_flow_AuthType__Output);
  'trace_reason': (_flow_TraceReason__Output);
  /**
   * The policies that allowed or denied the flow, per direction. A default
   * deny names the policies that made the endpoint default-deny.
   */
  'egress_allowed_by': (_flow_Policy__Output)[];
  'ingress_allowed_by': (_flow_Policy__Output)[];
  'egress_denied_by': (_flow_Policy__Output)[];
  'ingress_denied_by': (_flow_Policy__Output)[];
  /**
   * Mutual TLS between the node proxies (issue 15): on the flows the
   * server side's proxy records. Field range 21100-21109 is the mesh TLS's.
   */
  'mesh_tls': (_flow_MeshTls__Output | null);
  /**
   * Hubble's one-line summary ("TCP Flags: SYN", "ICMPv4 EchoRequest").
   * @deprecated
   */
  'Summary': (string);
  /**
   * beeline's own (not Hubble's; a number far from Hubble's ranges, 1-99,
   * 21001-21099, 100000, 150000): the mesh route that took an L7 HTTP flow.
   */
  'mesh_route': (_flow_MeshRoute__Output | null);
}

// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { CiliumEventType as _flow_CiliumEventType, CiliumEventType__Output as _flow_CiliumEventType__Output } from './flow/CiliumEventType.js';
import type { DNS as _flow_DNS, DNS__Output as _flow_DNS__Output } from './flow/DNS.js';
import type { Endpoint as _flow_Endpoint, Endpoint__Output as _flow_Endpoint__Output } from './flow/Endpoint.js';
import type { Ethernet as _flow_Ethernet, Ethernet__Output as _flow_Ethernet__Output } from './flow/Ethernet.js';
import type { EventTypeFilter as _flow_EventTypeFilter, EventTypeFilter__Output as _flow_EventTypeFilter__Output } from './flow/EventTypeFilter.js';
import type { Flow as _flow_Flow, Flow__Output as _flow_Flow__Output } from './flow/Flow.js';
import type { FlowFilter as _flow_FlowFilter, FlowFilter__Output as _flow_FlowFilter__Output } from './flow/FlowFilter.js';
import type { HTTP as _flow_HTTP, HTTP__Output as _flow_HTTP__Output } from './flow/HTTP.js';
import type { HTTPHeader as _flow_HTTPHeader, HTTPHeader__Output as _flow_HTTPHeader__Output } from './flow/HTTPHeader.js';
import type { ICMPv4 as _flow_ICMPv4, ICMPv4__Output as _flow_ICMPv4__Output } from './flow/ICMPv4.js';
import type { ICMPv6 as _flow_ICMPv6, ICMPv6__Output as _flow_ICMPv6__Output } from './flow/ICMPv6.js';
import type { IP as _flow_IP, IP__Output as _flow_IP__Output } from './flow/IP.js';
import type { Kafka as _flow_Kafka, Kafka__Output as _flow_Kafka__Output } from './flow/Kafka.js';
import type { Layer4 as _flow_Layer4, Layer4__Output as _flow_Layer4__Output } from './flow/Layer4.js';
import type { Layer7 as _flow_Layer7, Layer7__Output as _flow_Layer7__Output } from './flow/Layer7.js';
import type { LostEvent as _flow_LostEvent, LostEvent__Output as _flow_LostEvent__Output } from './flow/LostEvent.js';
import type { MeshRoute as _flow_MeshRoute, MeshRoute__Output as _flow_MeshRoute__Output } from './flow/MeshRoute.js';
import type { MeshTls as _flow_MeshTls, MeshTls__Output as _flow_MeshTls__Output } from './flow/MeshTls.js';
import type { NetworkInterface as _flow_NetworkInterface, NetworkInterface__Output as _flow_NetworkInterface__Output } from './flow/NetworkInterface.js';
import type { Policy as _flow_Policy, Policy__Output as _flow_Policy__Output } from './flow/Policy.js';
import type { SCTP as _flow_SCTP, SCTP__Output as _flow_SCTP__Output } from './flow/SCTP.js';
import type { Service as _flow_Service, Service__Output as _flow_Service__Output } from './flow/Service.js';
import type { TCP as _flow_TCP, TCP__Output as _flow_TCP__Output } from './flow/TCP.js';
import type { TCPFlags as _flow_TCPFlags, TCPFlags__Output as _flow_TCPFlags__Output } from './flow/TCPFlags.js';
import type { TraceContext as _flow_TraceContext, TraceContext__Output as _flow_TraceContext__Output } from './flow/TraceContext.js';
import type { TraceParent as _flow_TraceParent, TraceParent__Output as _flow_TraceParent__Output } from './flow/TraceParent.js';
import type { UDP as _flow_UDP, UDP__Output as _flow_UDP__Output } from './flow/UDP.js';
import type { Workload as _flow_Workload, Workload__Output as _flow_Workload__Output } from './flow/Workload.js';
import type { BoolValue as _google_protobuf_BoolValue, BoolValue__Output as _google_protobuf_BoolValue__Output } from './google/protobuf/BoolValue.js';
import type { BytesValue as _google_protobuf_BytesValue, BytesValue__Output as _google_protobuf_BytesValue__Output } from './google/protobuf/BytesValue.js';
import type { DoubleValue as _google_protobuf_DoubleValue, DoubleValue__Output as _google_protobuf_DoubleValue__Output } from './google/protobuf/DoubleValue.js';
import type { FloatValue as _google_protobuf_FloatValue, FloatValue__Output as _google_protobuf_FloatValue__Output } from './google/protobuf/FloatValue.js';
import type { Int32Value as _google_protobuf_Int32Value, Int32Value__Output as _google_protobuf_Int32Value__Output } from './google/protobuf/Int32Value.js';
import type { Int64Value as _google_protobuf_Int64Value, Int64Value__Output as _google_protobuf_Int64Value__Output } from './google/protobuf/Int64Value.js';
import type { StringValue as _google_protobuf_StringValue, StringValue__Output as _google_protobuf_StringValue__Output } from './google/protobuf/StringValue.js';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp.js';
import type { UInt32Value as _google_protobuf_UInt32Value, UInt32Value__Output as _google_protobuf_UInt32Value__Output } from './google/protobuf/UInt32Value.js';
import type { UInt64Value as _google_protobuf_UInt64Value, UInt64Value__Output as _google_protobuf_UInt64Value__Output } from './google/protobuf/UInt64Value.js';


export interface ProtoGrpcType {
  flow: {
    AuthType: EnumTypeDefinition
    CiliumEventType: MessageTypeDefinition<_flow_CiliumEventType, _flow_CiliumEventType__Output>
    DNS: MessageTypeDefinition<_flow_DNS, _flow_DNS__Output>
    DebugCapturePoint: EnumTypeDefinition
    DropReason: EnumTypeDefinition
    Endpoint: MessageTypeDefinition<_flow_Endpoint, _flow_Endpoint__Output>
    Ethernet: MessageTypeDefinition<_flow_Ethernet, _flow_Ethernet__Output>
    EventType: EnumTypeDefinition
    EventTypeFilter: MessageTypeDefinition<_flow_EventTypeFilter, _flow_EventTypeFilter__Output>
    Flow: MessageTypeDefinition<_flow_Flow, _flow_Flow__Output>
    FlowFilter: MessageTypeDefinition<_flow_FlowFilter, _flow_FlowFilter__Output>
    FlowType: EnumTypeDefinition
    HTTP: MessageTypeDefinition<_flow_HTTP, _flow_HTTP__Output>
    HTTPHeader: MessageTypeDefinition<_flow_HTTPHeader, _flow_HTTPHeader__Output>
    ICMPv4: MessageTypeDefinition<_flow_ICMPv4, _flow_ICMPv4__Output>
    ICMPv6: MessageTypeDefinition<_flow_ICMPv6, _flow_ICMPv6__Output>
    IP: MessageTypeDefinition<_flow_IP, _flow_IP__Output>
    IPVersion: EnumTypeDefinition
    Kafka: MessageTypeDefinition<_flow_Kafka, _flow_Kafka__Output>
    L7FlowType: EnumTypeDefinition
    Layer4: MessageTypeDefinition<_flow_Layer4, _flow_Layer4__Output>
    Layer7: MessageTypeDefinition<_flow_Layer7, _flow_Layer7__Output>
    LostEvent: MessageTypeDefinition<_flow_LostEvent, _flow_LostEvent__Output>
    LostEventSource: EnumTypeDefinition
    MeshRoute: MessageTypeDefinition<_flow_MeshRoute, _flow_MeshRoute__Output>
    MeshTls: MessageTypeDefinition<_flow_MeshTls, _flow_MeshTls__Output>
    NetworkInterface: MessageTypeDefinition<_flow_NetworkInterface, _flow_NetworkInterface__Output>
    Policy: MessageTypeDefinition<_flow_Policy, _flow_Policy__Output>
    SCTP: MessageTypeDefinition<_flow_SCTP, _flow_SCTP__Output>
    Service: MessageTypeDefinition<_flow_Service, _flow_Service__Output>
    SocketTranslationPoint: EnumTypeDefinition
    TCP: MessageTypeDefinition<_flow_TCP, _flow_TCP__Output>
    TCPFlags: MessageTypeDefinition<_flow_TCPFlags, _flow_TCPFlags__Output>
    TraceContext: MessageTypeDefinition<_flow_TraceContext, _flow_TraceContext__Output>
    TraceObservationPoint: EnumTypeDefinition
    TraceParent: MessageTypeDefinition<_flow_TraceParent, _flow_TraceParent__Output>
    TraceReason: EnumTypeDefinition
    TrafficDirection: EnumTypeDefinition
    UDP: MessageTypeDefinition<_flow_UDP, _flow_UDP__Output>
    Verdict: EnumTypeDefinition
    Workload: MessageTypeDefinition<_flow_Workload, _flow_Workload__Output>
  }
  google: {
    protobuf: {
      BoolValue: MessageTypeDefinition<_google_protobuf_BoolValue, _google_protobuf_BoolValue__Output>
      BytesValue: MessageTypeDefinition<_google_protobuf_BytesValue, _google_protobuf_BytesValue__Output>
      DoubleValue: MessageTypeDefinition<_google_protobuf_DoubleValue, _google_protobuf_DoubleValue__Output>
      FloatValue: MessageTypeDefinition<_google_protobuf_FloatValue, _google_protobuf_FloatValue__Output>
      Int32Value: MessageTypeDefinition<_google_protobuf_Int32Value, _google_protobuf_Int32Value__Output>
      Int64Value: MessageTypeDefinition<_google_protobuf_Int64Value, _google_protobuf_Int64Value__Output>
      StringValue: MessageTypeDefinition<_google_protobuf_StringValue, _google_protobuf_StringValue__Output>
      Timestamp: MessageTypeDefinition<_google_protobuf_Timestamp, _google_protobuf_Timestamp__Output>
      UInt32Value: MessageTypeDefinition<_google_protobuf_UInt32Value, _google_protobuf_UInt32Value__Output>
      UInt64Value: MessageTypeDefinition<_google_protobuf_UInt64Value, _google_protobuf_UInt64Value__Output>
    }
  }
}


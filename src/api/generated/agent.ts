// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AgentClient as _agent_AgentClient, AgentDefinition as _agent_AgentDefinition } from './agent/Agent.js';
import type { AgentStatus as _agent_AgentStatus, AgentStatus__Output as _agent_AgentStatus__Output } from './agent/AgentStatus.js';
import type { AttachmentStatus as _agent_AttachmentStatus, AttachmentStatus__Output as _agent_AttachmentStatus__Output } from './agent/AttachmentStatus.js';
import type { BpfLbReply as _agent_BpfLbReply, BpfLbReply__Output as _agent_BpfLbReply__Output } from './agent/BpfLbReply.js';
import type { ConntrackGcReply as _agent_ConntrackGcReply, ConntrackGcReply__Output as _agent_ConntrackGcReply__Output } from './agent/ConntrackGcReply.js';
import type { CtRow as _agent_CtRow, CtRow__Output as _agent_CtRow__Output } from './agent/CtRow.js';
import type { CtRows as _agent_CtRows, CtRows__Output as _agent_CtRows__Output } from './agent/CtRows.js';
import type { DatapathResync as _agent_DatapathResync, DatapathResync__Output as _agent_DatapathResync__Output } from './agent/DatapathResync.js';
import type { DnsProxyStatus as _agent_DnsProxyStatus, DnsProxyStatus__Output as _agent_DnsProxyStatus__Output } from './agent/DnsProxyStatus.js';
import type { Empty as _agent_Empty, Empty__Output as _agent_Empty__Output } from './agent/Empty.js';
import type { Endpoint as _agent_Endpoint, Endpoint__Output as _agent_Endpoint__Output } from './agent/Endpoint.js';
import type { EndpointCreateRequest as _agent_EndpointCreateRequest, EndpointCreateRequest__Output as _agent_EndpointCreateRequest__Output } from './agent/EndpointCreateRequest.js';
import type { EndpointDeleteRequest as _agent_EndpointDeleteRequest, EndpointDeleteRequest__Output as _agent_EndpointDeleteRequest__Output } from './agent/EndpointDeleteRequest.js';
import type { EndpointDeleteResult as _agent_EndpointDeleteResult, EndpointDeleteResult__Output as _agent_EndpointDeleteResult__Output } from './agent/EndpointDeleteResult.js';
import type { EndpointList as _agent_EndpointList, EndpointList__Output as _agent_EndpointList__Output } from './agent/EndpointList.js';
import type { EndpointListItem as _agent_EndpointListItem, EndpointListItem__Output as _agent_EndpointListItem__Output } from './agent/EndpointListItem.js';
import type { EndpointMapRow as _agent_EndpointMapRow, EndpointMapRow__Output as _agent_EndpointMapRow__Output } from './agent/EndpointMapRow.js';
import type { EndpointMapRows as _agent_EndpointMapRows, EndpointMapRows__Output as _agent_EndpointMapRows__Output } from './agent/EndpointMapRows.js';
import type { EndpointPolicyRow as _agent_EndpointPolicyRow, EndpointPolicyRow__Output as _agent_EndpointPolicyRow__Output } from './agent/EndpointPolicyRow.js';
import type { FqdnCacheRow as _agent_FqdnCacheRow, FqdnCacheRow__Output as _agent_FqdnCacheRow__Output } from './agent/FqdnCacheRow.js';
import type { FqdnCacheRows as _agent_FqdnCacheRows, FqdnCacheRows__Output as _agent_FqdnCacheRows__Output } from './agent/FqdnCacheRows.js';
import type { GetHealthRequest as _agent_GetHealthRequest, GetHealthRequest__Output as _agent_GetHealthRequest__Output } from './agent/GetHealthRequest.js';
import type { GetIdentityRequest as _agent_GetIdentityRequest, GetIdentityRequest__Output as _agent_GetIdentityRequest__Output } from './agent/GetIdentityRequest.js';
import type { GetPolicyCookiesRequest as _agent_GetPolicyCookiesRequest, GetPolicyCookiesRequest__Output as _agent_GetPolicyCookiesRequest__Output } from './agent/GetPolicyCookiesRequest.js';
import type { GetStatusRequest as _agent_GetStatusRequest, GetStatusRequest__Output as _agent_GetStatusRequest__Output } from './agent/GetStatusRequest.js';
import type { HealthReply as _agent_HealthReply, HealthReply__Output as _agent_HealthReply__Output } from './agent/HealthReply.js';
import type { HttpRule as _agent_HttpRule, HttpRule__Output as _agent_HttpRule__Output } from './agent/HttpRule.js';
import type { Identity as _agent_Identity, Identity__Output as _agent_Identity__Output } from './agent/Identity.js';
import type { IdentityList as _agent_IdentityList, IdentityList__Output as _agent_IdentityList__Output } from './agent/IdentityList.js';
import type { IdentityReference as _agent_IdentityReference, IdentityReference__Output as _agent_IdentityReference__Output } from './agent/IdentityReference.js';
import type { IdentityReferenceList as _agent_IdentityReferenceList, IdentityReferenceList__Output as _agent_IdentityReferenceList__Output } from './agent/IdentityReferenceList.js';
import type { IpamAllocateRequest as _agent_IpamAllocateRequest, IpamAllocateRequest__Output as _agent_IpamAllocateRequest__Output } from './agent/IpamAllocateRequest.js';
import type { IpamAllocation as _agent_IpamAllocation, IpamAllocation__Output as _agent_IpamAllocation__Output } from './agent/IpamAllocation.js';
import type { IpamReleaseReply as _agent_IpamReleaseReply, IpamReleaseReply__Output as _agent_IpamReleaseReply__Output } from './agent/IpamReleaseReply.js';
import type { IpamReleaseRequest as _agent_IpamReleaseRequest, IpamReleaseRequest__Output as _agent_IpamReleaseRequest__Output } from './agent/IpamReleaseRequest.js';
import type { IpcacheRow as _agent_IpcacheRow, IpcacheRow__Output as _agent_IpcacheRow__Output } from './agent/IpcacheRow.js';
import type { IpcacheRows as _agent_IpcacheRows, IpcacheRows__Output as _agent_IpcacheRows__Output } from './agent/IpcacheRows.js';
import type { LbBackendRow as _agent_LbBackendRow, LbBackendRow__Output as _agent_LbBackendRow__Output } from './agent/LbBackendRow.js';
import type { LbFirstSync as _agent_LbFirstSync, LbFirstSync__Output as _agent_LbFirstSync__Output } from './agent/LbFirstSync.js';
import type { LbFrontendRow as _agent_LbFrontendRow, LbFrontendRow__Output as _agent_LbFrontendRow__Output } from './agent/LbFrontendRow.js';
import type { LbProblem as _agent_LbProblem, LbProblem__Output as _agent_LbProblem__Output } from './agent/LbProblem.js';
import type { LbSync as _agent_LbSync, LbSync__Output as _agent_LbSync__Output } from './agent/LbSync.js';
import type { LbSyncStages as _agent_LbSyncStages, LbSyncStages__Output as _agent_LbSyncStages__Output } from './agent/LbSyncStages.js';
import type { ListBpfPolicyRequest as _agent_ListBpfPolicyRequest, ListBpfPolicyRequest__Output as _agent_ListBpfPolicyRequest__Output } from './agent/ListBpfPolicyRequest.js';
import type { MapStatus as _agent_MapStatus, MapStatus__Output as _agent_MapStatus__Output } from './agent/MapStatus.js';
import type { MetricRow as _agent_MetricRow, MetricRow__Output as _agent_MetricRow__Output } from './agent/MetricRow.js';
import type { MetricRows as _agent_MetricRows, MetricRows__Output as _agent_MetricRows__Output } from './agent/MetricRows.js';
import type { MonitorLine as _agent_MonitorLine, MonitorLine__Output as _agent_MonitorLine__Output } from './agent/MonitorLine.js';
import type { ObserverStatusReply as _agent_ObserverStatusReply, ObserverStatusReply__Output as _agent_ObserverStatusReply__Output } from './agent/ObserverStatusReply.js';
import type { PodRef as _agent_PodRef, PodRef__Output as _agent_PodRef__Output } from './agent/PodRef.js';
import type { PolicyCookiesReply as _agent_PolicyCookiesReply, PolicyCookiesReply__Output as _agent_PolicyCookiesReply__Output } from './agent/PolicyCookiesReply.js';
import type { PolicyEnforcement as _agent_PolicyEnforcement, PolicyEnforcement__Output as _agent_PolicyEnforcement__Output } from './agent/PolicyEnforcement.js';
import type { PolicyEntry as _agent_PolicyEntry, PolicyEntry__Output as _agent_PolicyEntry__Output } from './agent/PolicyEntry.js';
import type { PolicyFlush as _agent_PolicyFlush, PolicyFlush__Output as _agent_PolicyFlush__Output } from './agent/PolicyFlush.js';
import type { PolicyMapRow as _agent_PolicyMapRow, PolicyMapRow__Output as _agent_PolicyMapRow__Output } from './agent/PolicyMapRow.js';
import type { PolicyMapRows as _agent_PolicyMapRows, PolicyMapRows__Output as _agent_PolicyMapRows__Output } from './agent/PolicyMapRows.js';
import type { PolicyOrigin as _agent_PolicyOrigin, PolicyOrigin__Output as _agent_PolicyOrigin__Output } from './agent/PolicyOrigin.js';
import type { PolicyProblem as _agent_PolicyProblem, PolicyProblem__Output as _agent_PolicyProblem__Output } from './agent/PolicyProblem.js';
import type { PolicyReply as _agent_PolicyReply, PolicyReply__Output as _agent_PolicyReply__Output } from './agent/PolicyReply.js';
import type { PolicyRow as _agent_PolicyRow, PolicyRow__Output as _agent_PolicyRow__Output } from './agent/PolicyRow.js';
import type { PolicyStatus as _agent_PolicyStatus, PolicyStatus__Output as _agent_PolicyStatus__Output } from './agent/PolicyStatus.js';
import type { RemoteNode as _agent_RemoteNode, RemoteNode__Output as _agent_RemoteNode__Output } from './agent/RemoteNode.js';
import type { RemoteNodeList as _agent_RemoteNodeList, RemoteNodeList__Output as _agent_RemoteNodeList__Output } from './agent/RemoteNodeList.js';
import type { ServiceRow as _agent_ServiceRow, ServiceRow__Output as _agent_ServiceRow__Output } from './agent/ServiceRow.js';
import type { ServicesReply as _agent_ServicesReply, ServicesReply__Output as _agent_ServicesReply__Output } from './agent/ServicesReply.js';
import type { ServicesStatus as _agent_ServicesStatus, ServicesStatus__Output as _agent_ServicesStatus__Output } from './agent/ServicesStatus.js';
import type { ServicesStatusReply as _agent_ServicesStatusReply, ServicesStatusReply__Output as _agent_ServicesStatusReply__Output } from './agent/ServicesStatusReply.js';
import type { TraceAnswer as _agent_TraceAnswer, TraceAnswer__Output as _agent_TraceAnswer__Output } from './agent/TraceAnswer.js';
import type { TraceParty as _agent_TraceParty, TraceParty__Output as _agent_TraceParty__Output } from './agent/TraceParty.js';
import type { TracePolicyReply as _agent_TracePolicyReply, TracePolicyReply__Output as _agent_TracePolicyReply__Output } from './agent/TracePolicyReply.js';
import type { TracePolicyRequest as _agent_TracePolicyRequest, TracePolicyRequest__Output as _agent_TracePolicyRequest__Output } from './agent/TracePolicyRequest.js';
import type { TraceRedirect as _agent_TraceRedirect, TraceRedirect__Output as _agent_TraceRedirect__Output } from './agent/TraceRedirect.js';
import type { TraceStep as _agent_TraceStep, TraceStep__Output as _agent_TraceStep__Output } from './agent/TraceStep.js';
import type { DescriptorProto as _google_protobuf_DescriptorProto, DescriptorProto__Output as _google_protobuf_DescriptorProto__Output } from './google/protobuf/DescriptorProto.js';
import type { EnumDescriptorProto as _google_protobuf_EnumDescriptorProto, EnumDescriptorProto__Output as _google_protobuf_EnumDescriptorProto__Output } from './google/protobuf/EnumDescriptorProto.js';
import type { EnumOptions as _google_protobuf_EnumOptions, EnumOptions__Output as _google_protobuf_EnumOptions__Output } from './google/protobuf/EnumOptions.js';
import type { EnumValueDescriptorProto as _google_protobuf_EnumValueDescriptorProto, EnumValueDescriptorProto__Output as _google_protobuf_EnumValueDescriptorProto__Output } from './google/protobuf/EnumValueDescriptorProto.js';
import type { EnumValueOptions as _google_protobuf_EnumValueOptions, EnumValueOptions__Output as _google_protobuf_EnumValueOptions__Output } from './google/protobuf/EnumValueOptions.js';
import type { ExtensionRangeOptions as _google_protobuf_ExtensionRangeOptions, ExtensionRangeOptions__Output as _google_protobuf_ExtensionRangeOptions__Output } from './google/protobuf/ExtensionRangeOptions.js';
import type { FeatureSet as _google_protobuf_FeatureSet, FeatureSet__Output as _google_protobuf_FeatureSet__Output } from './google/protobuf/FeatureSet.js';
import type { FeatureSetDefaults as _google_protobuf_FeatureSetDefaults, FeatureSetDefaults__Output as _google_protobuf_FeatureSetDefaults__Output } from './google/protobuf/FeatureSetDefaults.js';
import type { FieldDescriptorProto as _google_protobuf_FieldDescriptorProto, FieldDescriptorProto__Output as _google_protobuf_FieldDescriptorProto__Output } from './google/protobuf/FieldDescriptorProto.js';
import type { FieldOptions as _google_protobuf_FieldOptions, FieldOptions__Output as _google_protobuf_FieldOptions__Output } from './google/protobuf/FieldOptions.js';
import type { FileDescriptorProto as _google_protobuf_FileDescriptorProto, FileDescriptorProto__Output as _google_protobuf_FileDescriptorProto__Output } from './google/protobuf/FileDescriptorProto.js';
import type { FileDescriptorSet as _google_protobuf_FileDescriptorSet, FileDescriptorSet__Output as _google_protobuf_FileDescriptorSet__Output } from './google/protobuf/FileDescriptorSet.js';
import type { FileOptions as _google_protobuf_FileOptions, FileOptions__Output as _google_protobuf_FileOptions__Output } from './google/protobuf/FileOptions.js';
import type { GeneratedCodeInfo as _google_protobuf_GeneratedCodeInfo, GeneratedCodeInfo__Output as _google_protobuf_GeneratedCodeInfo__Output } from './google/protobuf/GeneratedCodeInfo.js';
import type { ListValue as _google_protobuf_ListValue, ListValue__Output as _google_protobuf_ListValue__Output } from './google/protobuf/ListValue.js';
import type { MessageOptions as _google_protobuf_MessageOptions, MessageOptions__Output as _google_protobuf_MessageOptions__Output } from './google/protobuf/MessageOptions.js';
import type { MethodDescriptorProto as _google_protobuf_MethodDescriptorProto, MethodDescriptorProto__Output as _google_protobuf_MethodDescriptorProto__Output } from './google/protobuf/MethodDescriptorProto.js';
import type { MethodOptions as _google_protobuf_MethodOptions, MethodOptions__Output as _google_protobuf_MethodOptions__Output } from './google/protobuf/MethodOptions.js';
import type { OneofDescriptorProto as _google_protobuf_OneofDescriptorProto, OneofDescriptorProto__Output as _google_protobuf_OneofDescriptorProto__Output } from './google/protobuf/OneofDescriptorProto.js';
import type { OneofOptions as _google_protobuf_OneofOptions, OneofOptions__Output as _google_protobuf_OneofOptions__Output } from './google/protobuf/OneofOptions.js';
import type { ServiceDescriptorProto as _google_protobuf_ServiceDescriptorProto, ServiceDescriptorProto__Output as _google_protobuf_ServiceDescriptorProto__Output } from './google/protobuf/ServiceDescriptorProto.js';
import type { ServiceOptions as _google_protobuf_ServiceOptions, ServiceOptions__Output as _google_protobuf_ServiceOptions__Output } from './google/protobuf/ServiceOptions.js';
import type { SourceCodeInfo as _google_protobuf_SourceCodeInfo, SourceCodeInfo__Output as _google_protobuf_SourceCodeInfo__Output } from './google/protobuf/SourceCodeInfo.js';
import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from './google/protobuf/Struct.js';
import type { UninterpretedOption as _google_protobuf_UninterpretedOption, UninterpretedOption__Output as _google_protobuf_UninterpretedOption__Output } from './google/protobuf/UninterpretedOption.js';
import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from './google/protobuf/Value.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  agent: {
    Agent: SubtypeConstructor<typeof grpc.Client, _agent_AgentClient> & { service: _agent_AgentDefinition }
    AgentStatus: MessageTypeDefinition<_agent_AgentStatus, _agent_AgentStatus__Output>
    AttachmentStatus: MessageTypeDefinition<_agent_AttachmentStatus, _agent_AttachmentStatus__Output>
    BpfLbReply: MessageTypeDefinition<_agent_BpfLbReply, _agent_BpfLbReply__Output>
    ConntrackGcReply: MessageTypeDefinition<_agent_ConntrackGcReply, _agent_ConntrackGcReply__Output>
    CtRow: MessageTypeDefinition<_agent_CtRow, _agent_CtRow__Output>
    CtRows: MessageTypeDefinition<_agent_CtRows, _agent_CtRows__Output>
    DatapathResync: MessageTypeDefinition<_agent_DatapathResync, _agent_DatapathResync__Output>
    DnsProxyStatus: MessageTypeDefinition<_agent_DnsProxyStatus, _agent_DnsProxyStatus__Output>
    Empty: MessageTypeDefinition<_agent_Empty, _agent_Empty__Output>
    Endpoint: MessageTypeDefinition<_agent_Endpoint, _agent_Endpoint__Output>
    EndpointCreateRequest: MessageTypeDefinition<_agent_EndpointCreateRequest, _agent_EndpointCreateRequest__Output>
    EndpointDeleteRequest: MessageTypeDefinition<_agent_EndpointDeleteRequest, _agent_EndpointDeleteRequest__Output>
    EndpointDeleteResult: MessageTypeDefinition<_agent_EndpointDeleteResult, _agent_EndpointDeleteResult__Output>
    EndpointList: MessageTypeDefinition<_agent_EndpointList, _agent_EndpointList__Output>
    EndpointListItem: MessageTypeDefinition<_agent_EndpointListItem, _agent_EndpointListItem__Output>
    EndpointMapRow: MessageTypeDefinition<_agent_EndpointMapRow, _agent_EndpointMapRow__Output>
    EndpointMapRows: MessageTypeDefinition<_agent_EndpointMapRows, _agent_EndpointMapRows__Output>
    EndpointPolicyRow: MessageTypeDefinition<_agent_EndpointPolicyRow, _agent_EndpointPolicyRow__Output>
    FqdnCacheRow: MessageTypeDefinition<_agent_FqdnCacheRow, _agent_FqdnCacheRow__Output>
    FqdnCacheRows: MessageTypeDefinition<_agent_FqdnCacheRows, _agent_FqdnCacheRows__Output>
    GetHealthRequest: MessageTypeDefinition<_agent_GetHealthRequest, _agent_GetHealthRequest__Output>
    GetIdentityRequest: MessageTypeDefinition<_agent_GetIdentityRequest, _agent_GetIdentityRequest__Output>
    GetPolicyCookiesRequest: MessageTypeDefinition<_agent_GetPolicyCookiesRequest, _agent_GetPolicyCookiesRequest__Output>
    GetStatusRequest: MessageTypeDefinition<_agent_GetStatusRequest, _agent_GetStatusRequest__Output>
    Health: EnumTypeDefinition
    HealthReply: MessageTypeDefinition<_agent_HealthReply, _agent_HealthReply__Output>
    HttpRule: MessageTypeDefinition<_agent_HttpRule, _agent_HttpRule__Output>
    Identity: MessageTypeDefinition<_agent_Identity, _agent_Identity__Output>
    IdentityList: MessageTypeDefinition<_agent_IdentityList, _agent_IdentityList__Output>
    IdentityReference: MessageTypeDefinition<_agent_IdentityReference, _agent_IdentityReference__Output>
    IdentityReferenceList: MessageTypeDefinition<_agent_IdentityReferenceList, _agent_IdentityReferenceList__Output>
    IpamAllocateRequest: MessageTypeDefinition<_agent_IpamAllocateRequest, _agent_IpamAllocateRequest__Output>
    IpamAllocation: MessageTypeDefinition<_agent_IpamAllocation, _agent_IpamAllocation__Output>
    IpamReleaseReply: MessageTypeDefinition<_agent_IpamReleaseReply, _agent_IpamReleaseReply__Output>
    IpamReleaseRequest: MessageTypeDefinition<_agent_IpamReleaseRequest, _agent_IpamReleaseRequest__Output>
    IpcacheRow: MessageTypeDefinition<_agent_IpcacheRow, _agent_IpcacheRow__Output>
    IpcacheRows: MessageTypeDefinition<_agent_IpcacheRows, _agent_IpcacheRows__Output>
    LbBackendRow: MessageTypeDefinition<_agent_LbBackendRow, _agent_LbBackendRow__Output>
    LbFirstSync: MessageTypeDefinition<_agent_LbFirstSync, _agent_LbFirstSync__Output>
    LbFrontendRow: MessageTypeDefinition<_agent_LbFrontendRow, _agent_LbFrontendRow__Output>
    LbProblem: MessageTypeDefinition<_agent_LbProblem, _agent_LbProblem__Output>
    LbSync: MessageTypeDefinition<_agent_LbSync, _agent_LbSync__Output>
    LbSyncStages: MessageTypeDefinition<_agent_LbSyncStages, _agent_LbSyncStages__Output>
    ListBpfPolicyRequest: MessageTypeDefinition<_agent_ListBpfPolicyRequest, _agent_ListBpfPolicyRequest__Output>
    MapStatus: MessageTypeDefinition<_agent_MapStatus, _agent_MapStatus__Output>
    MetricRow: MessageTypeDefinition<_agent_MetricRow, _agent_MetricRow__Output>
    MetricRows: MessageTypeDefinition<_agent_MetricRows, _agent_MetricRows__Output>
    MonitorLine: MessageTypeDefinition<_agent_MonitorLine, _agent_MonitorLine__Output>
    ObserverStatusReply: MessageTypeDefinition<_agent_ObserverStatusReply, _agent_ObserverStatusReply__Output>
    PodRef: MessageTypeDefinition<_agent_PodRef, _agent_PodRef__Output>
    PolicyCookiesReply: MessageTypeDefinition<_agent_PolicyCookiesReply, _agent_PolicyCookiesReply__Output>
    PolicyEnforcement: MessageTypeDefinition<_agent_PolicyEnforcement, _agent_PolicyEnforcement__Output>
    PolicyEntry: MessageTypeDefinition<_agent_PolicyEntry, _agent_PolicyEntry__Output>
    PolicyFlush: MessageTypeDefinition<_agent_PolicyFlush, _agent_PolicyFlush__Output>
    PolicyMapRow: MessageTypeDefinition<_agent_PolicyMapRow, _agent_PolicyMapRow__Output>
    PolicyMapRows: MessageTypeDefinition<_agent_PolicyMapRows, _agent_PolicyMapRows__Output>
    PolicyOrigin: MessageTypeDefinition<_agent_PolicyOrigin, _agent_PolicyOrigin__Output>
    PolicyProblem: MessageTypeDefinition<_agent_PolicyProblem, _agent_PolicyProblem__Output>
    PolicyReply: MessageTypeDefinition<_agent_PolicyReply, _agent_PolicyReply__Output>
    PolicyRow: MessageTypeDefinition<_agent_PolicyRow, _agent_PolicyRow__Output>
    PolicyStatus: MessageTypeDefinition<_agent_PolicyStatus, _agent_PolicyStatus__Output>
    RemoteNode: MessageTypeDefinition<_agent_RemoteNode, _agent_RemoteNode__Output>
    RemoteNodeList: MessageTypeDefinition<_agent_RemoteNodeList, _agent_RemoteNodeList__Output>
    ServiceRow: MessageTypeDefinition<_agent_ServiceRow, _agent_ServiceRow__Output>
    ServicesReply: MessageTypeDefinition<_agent_ServicesReply, _agent_ServicesReply__Output>
    ServicesStatus: MessageTypeDefinition<_agent_ServicesStatus, _agent_ServicesStatus__Output>
    ServicesStatusReply: MessageTypeDefinition<_agent_ServicesStatusReply, _agent_ServicesStatusReply__Output>
    TraceAnswer: MessageTypeDefinition<_agent_TraceAnswer, _agent_TraceAnswer__Output>
    TraceParty: MessageTypeDefinition<_agent_TraceParty, _agent_TraceParty__Output>
    TracePolicyReply: MessageTypeDefinition<_agent_TracePolicyReply, _agent_TracePolicyReply__Output>
    TracePolicyRequest: MessageTypeDefinition<_agent_TracePolicyRequest, _agent_TracePolicyRequest__Output>
    TraceRedirect: MessageTypeDefinition<_agent_TraceRedirect, _agent_TraceRedirect__Output>
    TraceStep: MessageTypeDefinition<_agent_TraceStep, _agent_TraceStep__Output>
  }
  google: {
    protobuf: {
      DescriptorProto: MessageTypeDefinition<_google_protobuf_DescriptorProto, _google_protobuf_DescriptorProto__Output>
      Edition: EnumTypeDefinition
      EnumDescriptorProto: MessageTypeDefinition<_google_protobuf_EnumDescriptorProto, _google_protobuf_EnumDescriptorProto__Output>
      EnumOptions: MessageTypeDefinition<_google_protobuf_EnumOptions, _google_protobuf_EnumOptions__Output>
      EnumValueDescriptorProto: MessageTypeDefinition<_google_protobuf_EnumValueDescriptorProto, _google_protobuf_EnumValueDescriptorProto__Output>
      EnumValueOptions: MessageTypeDefinition<_google_protobuf_EnumValueOptions, _google_protobuf_EnumValueOptions__Output>
      ExtensionRangeOptions: MessageTypeDefinition<_google_protobuf_ExtensionRangeOptions, _google_protobuf_ExtensionRangeOptions__Output>
      FeatureSet: MessageTypeDefinition<_google_protobuf_FeatureSet, _google_protobuf_FeatureSet__Output>
      FeatureSetDefaults: MessageTypeDefinition<_google_protobuf_FeatureSetDefaults, _google_protobuf_FeatureSetDefaults__Output>
      FieldDescriptorProto: MessageTypeDefinition<_google_protobuf_FieldDescriptorProto, _google_protobuf_FieldDescriptorProto__Output>
      FieldOptions: MessageTypeDefinition<_google_protobuf_FieldOptions, _google_protobuf_FieldOptions__Output>
      FileDescriptorProto: MessageTypeDefinition<_google_protobuf_FileDescriptorProto, _google_protobuf_FileDescriptorProto__Output>
      FileDescriptorSet: MessageTypeDefinition<_google_protobuf_FileDescriptorSet, _google_protobuf_FileDescriptorSet__Output>
      FileOptions: MessageTypeDefinition<_google_protobuf_FileOptions, _google_protobuf_FileOptions__Output>
      GeneratedCodeInfo: MessageTypeDefinition<_google_protobuf_GeneratedCodeInfo, _google_protobuf_GeneratedCodeInfo__Output>
      ListValue: MessageTypeDefinition<_google_protobuf_ListValue, _google_protobuf_ListValue__Output>
      MessageOptions: MessageTypeDefinition<_google_protobuf_MessageOptions, _google_protobuf_MessageOptions__Output>
      MethodDescriptorProto: MessageTypeDefinition<_google_protobuf_MethodDescriptorProto, _google_protobuf_MethodDescriptorProto__Output>
      MethodOptions: MessageTypeDefinition<_google_protobuf_MethodOptions, _google_protobuf_MethodOptions__Output>
      NullValue: EnumTypeDefinition
      OneofDescriptorProto: MessageTypeDefinition<_google_protobuf_OneofDescriptorProto, _google_protobuf_OneofDescriptorProto__Output>
      OneofOptions: MessageTypeDefinition<_google_protobuf_OneofOptions, _google_protobuf_OneofOptions__Output>
      ServiceDescriptorProto: MessageTypeDefinition<_google_protobuf_ServiceDescriptorProto, _google_protobuf_ServiceDescriptorProto__Output>
      ServiceOptions: MessageTypeDefinition<_google_protobuf_ServiceOptions, _google_protobuf_ServiceOptions__Output>
      SourceCodeInfo: MessageTypeDefinition<_google_protobuf_SourceCodeInfo, _google_protobuf_SourceCodeInfo__Output>
      Struct: MessageTypeDefinition<_google_protobuf_Struct, _google_protobuf_Struct__Output>
      SymbolVisibility: EnumTypeDefinition
      UninterpretedOption: MessageTypeDefinition<_google_protobuf_UninterpretedOption, _google_protobuf_UninterpretedOption__Output>
      Value: MessageTypeDefinition<_google_protobuf_Value, _google_protobuf_Value__Output>
    }
  }
}


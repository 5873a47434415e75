// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AgentStatus as _agent_AgentStatus, AgentStatus__Output as _agent_AgentStatus__Output } from '../agent/AgentStatus.js';
import type { BpfLbReply as _agent_BpfLbReply, BpfLbReply__Output as _agent_BpfLbReply__Output } from '../agent/BpfLbReply.js';
import type { ConntrackGcReply as _agent_ConntrackGcReply, ConntrackGcReply__Output as _agent_ConntrackGcReply__Output } from '../agent/ConntrackGcReply.js';
import type { CtRows as _agent_CtRows, CtRows__Output as _agent_CtRows__Output } from '../agent/CtRows.js';
import type { Empty as _agent_Empty, Empty__Output as _agent_Empty__Output } from '../agent/Empty.js';
import type { Endpoint as _agent_Endpoint, Endpoint__Output as _agent_Endpoint__Output } from '../agent/Endpoint.js';
import type { EndpointCreateRequest as _agent_EndpointCreateRequest, EndpointCreateRequest__Output as _agent_EndpointCreateRequest__Output } from '../agent/EndpointCreateRequest.js';
import type { EndpointDeleteRequest as _agent_EndpointDeleteRequest, EndpointDeleteRequest__Output as _agent_EndpointDeleteRequest__Output } from '../agent/EndpointDeleteRequest.js';
import type { EndpointDeleteResult as _agent_EndpointDeleteResult, EndpointDeleteResult__Output as _agent_EndpointDeleteResult__Output } from '../agent/EndpointDeleteResult.js';
import type { EndpointList as _agent_EndpointList, EndpointList__Output as _agent_EndpointList__Output } from '../agent/EndpointList.js';
import type { EndpointMapRows as _agent_EndpointMapRows, EndpointMapRows__Output as _agent_EndpointMapRows__Output } from '../agent/EndpointMapRows.js';
import type { FqdnCacheRows as _agent_FqdnCacheRows, FqdnCacheRows__Output as _agent_FqdnCacheRows__Output } from '../agent/FqdnCacheRows.js';
import type { GetHealthRequest as _agent_GetHealthRequest, GetHealthRequest__Output as _agent_GetHealthRequest__Output } from '../agent/GetHealthRequest.js';
import type { GetIdentityRequest as _agent_GetIdentityRequest, GetIdentityRequest__Output as _agent_GetIdentityRequest__Output } from '../agent/GetIdentityRequest.js';
import type { GetPolicyCookiesRequest as _agent_GetPolicyCookiesRequest, GetPolicyCookiesRequest__Output as _agent_GetPolicyCookiesRequest__Output } from '../agent/GetPolicyCookiesRequest.js';
import type { GetStatusRequest as _agent_GetStatusRequest, GetStatusRequest__Output as _agent_GetStatusRequest__Output } from '../agent/GetStatusRequest.js';
import type { HealthReply as _agent_HealthReply, HealthReply__Output as _agent_HealthReply__Output } from '../agent/HealthReply.js';
import type { Identity as _agent_Identity, Identity__Output as _agent_Identity__Output } from '../agent/Identity.js';
import type { IdentityList as _agent_IdentityList, IdentityList__Output as _agent_IdentityList__Output } from '../agent/IdentityList.js';
import type { IdentityReferenceList as _agent_IdentityReferenceList, IdentityReferenceList__Output as _agent_IdentityReferenceList__Output } from '../agent/IdentityReferenceList.js';
import type { IpamAllocateRequest as _agent_IpamAllocateRequest, IpamAllocateRequest__Output as _agent_IpamAllocateRequest__Output } from '../agent/IpamAllocateRequest.js';
import type { IpamAllocation as _agent_IpamAllocation, IpamAllocation__Output as _agent_IpamAllocation__Output } from '../agent/IpamAllocation.js';
import type { IpamReleaseReply as _agent_IpamReleaseReply, IpamReleaseReply__Output as _agent_IpamReleaseReply__Output } from '../agent/IpamReleaseReply.js';
import type { IpamReleaseRequest as _agent_IpamReleaseRequest, IpamReleaseRequest__Output as _agent_IpamReleaseRequest__Output } from '../agent/IpamReleaseRequest.js';
import type { IpcacheRows as _agent_IpcacheRows, IpcacheRows__Output as _agent_IpcacheRows__Output } from '../agent/IpcacheRows.js';
import type { ListBpfPolicyRequest as _agent_ListBpfPolicyRequest, ListBpfPolicyRequest__Output as _agent_ListBpfPolicyRequest__Output } from '../agent/ListBpfPolicyRequest.js';
import type { MetricRows as _agent_MetricRows, MetricRows__Output as _agent_MetricRows__Output } from '../agent/MetricRows.js';
import type { ObserverStatusReply as _agent_ObserverStatusReply, ObserverStatusReply__Output as _agent_ObserverStatusReply__Output } from '../agent/ObserverStatusReply.js';
import type { PolicyCookiesReply as _agent_PolicyCookiesReply, PolicyCookiesReply__Output as _agent_PolicyCookiesReply__Output } from '../agent/PolicyCookiesReply.js';
import type { PolicyMapRows as _agent_PolicyMapRows, PolicyMapRows__Output as _agent_PolicyMapRows__Output } from '../agent/PolicyMapRows.js';
import type { PolicyReply as _agent_PolicyReply, PolicyReply__Output as _agent_PolicyReply__Output } from '../agent/PolicyReply.js';
import type { PolicyStatus as _agent_PolicyStatus, PolicyStatus__Output as _agent_PolicyStatus__Output } from '../agent/PolicyStatus.js';
import type { RemoteNodeList as _agent_RemoteNodeList, RemoteNodeList__Output as _agent_RemoteNodeList__Output } from '../agent/RemoteNodeList.js';
import type { ServicesReply as _agent_ServicesReply, ServicesReply__Output as _agent_ServicesReply__Output } from '../agent/ServicesReply.js';
import type { ServicesStatusReply as _agent_ServicesStatusReply, ServicesStatusReply__Output as _agent_ServicesStatusReply__Output } from '../agent/ServicesStatusReply.js';
import type { TracePolicyReply as _agent_TracePolicyReply, TracePolicyReply__Output as _agent_TracePolicyReply__Output } from '../agent/TracePolicyReply.js';
import type { TracePolicyRequest as _agent_TracePolicyRequest, TracePolicyRequest__Output as _agent_TracePolicyRequest__Output } from '../agent/TracePolicyRequest.js';

export interface AgentClient extends grpc.Client {
  /**
   * Collects expired conntrack entries now.
   */
  ConntrackGc(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_ConntrackGcReply__Output>): grpc.ClientUnaryCall;
  ConntrackGc(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_ConntrackGcReply__Output>): grpc.ClientUnaryCall;
  ConntrackGc(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_ConntrackGcReply__Output>): grpc.ClientUnaryCall;
  ConntrackGc(argument: _agent_Empty, callback: grpc.requestCallback<_agent_ConntrackGcReply__Output>): grpc.ClientUnaryCall;
  /**
   * Collects expired conntrack entries now.
   */
  conntrackGc(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_ConntrackGcReply__Output>): grpc.ClientUnaryCall;
  conntrackGc(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_ConntrackGcReply__Output>): grpc.ClientUnaryCall;
  conntrackGc(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_ConntrackGcReply__Output>): grpc.ClientUnaryCall;
  conntrackGc(argument: _agent_Empty, callback: grpc.requestCallback<_agent_ConntrackGcReply__Output>): grpc.ClientUnaryCall;
  
  /**
   * Idempotent.
   */
  DeleteEndpoint(argument: _agent_EndpointDeleteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_EndpointDeleteResult__Output>): grpc.ClientUnaryCall;
  DeleteEndpoint(argument: _agent_EndpointDeleteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_EndpointDeleteResult__Output>): grpc.ClientUnaryCall;
  DeleteEndpoint(argument: _agent_EndpointDeleteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_EndpointDeleteResult__Output>): grpc.ClientUnaryCall;
  DeleteEndpoint(argument: _agent_EndpointDeleteRequest, callback: grpc.requestCallback<_agent_EndpointDeleteResult__Output>): grpc.ClientUnaryCall;
  /**
   * Idempotent.
   */
  deleteEndpoint(argument: _agent_EndpointDeleteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_EndpointDeleteResult__Output>): grpc.ClientUnaryCall;
  deleteEndpoint(argument: _agent_EndpointDeleteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_EndpointDeleteResult__Output>): grpc.ClientUnaryCall;
  deleteEndpoint(argument: _agent_EndpointDeleteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_EndpointDeleteResult__Output>): grpc.ClientUnaryCall;
  deleteEndpoint(argument: _agent_EndpointDeleteRequest, callback: grpc.requestCallback<_agent_EndpointDeleteResult__Output>): grpc.ClientUnaryCall;
  
  /**
   * `beeline bpf metrics list`: verdict counters per reason and direction.
   */
  GetDatapathMetrics(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_MetricRows__Output>): grpc.ClientUnaryCall;
  GetDatapathMetrics(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_MetricRows__Output>): grpc.ClientUnaryCall;
  GetDatapathMetrics(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_MetricRows__Output>): grpc.ClientUnaryCall;
  GetDatapathMetrics(argument: _agent_Empty, callback: grpc.requestCallback<_agent_MetricRows__Output>): grpc.ClientUnaryCall;
  /**
   * `beeline bpf metrics list`: verdict counters per reason and direction.
   */
  getDatapathMetrics(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_MetricRows__Output>): grpc.ClientUnaryCall;
  getDatapathMetrics(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_MetricRows__Output>): grpc.ClientUnaryCall;
  getDatapathMetrics(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_MetricRows__Output>): grpc.ClientUnaryCall;
  getDatapathMetrics(argument: _agent_Empty, callback: grpc.requestCallback<_agent_MetricRows__Output>): grpc.ClientUnaryCall;
  
  /**
   * Liveness, for the kubelet and `beeline lab status`.
   */
  GetHealth(argument: _agent_GetHealthRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_HealthReply__Output>): grpc.ClientUnaryCall;
  GetHealth(argument: _agent_GetHealthRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_HealthReply__Output>): grpc.ClientUnaryCall;
  GetHealth(argument: _agent_GetHealthRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_HealthReply__Output>): grpc.ClientUnaryCall;
  GetHealth(argument: _agent_GetHealthRequest, callback: grpc.requestCallback<_agent_HealthReply__Output>): grpc.ClientUnaryCall;
  /**
   * Liveness, for the kubelet and `beeline lab status`.
   */
  getHealth(argument: _agent_GetHealthRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_HealthReply__Output>): grpc.ClientUnaryCall;
  getHealth(argument: _agent_GetHealthRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_HealthReply__Output>): grpc.ClientUnaryCall;
  getHealth(argument: _agent_GetHealthRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_HealthReply__Output>): grpc.ClientUnaryCall;
  getHealth(argument: _agent_GetHealthRequest, callback: grpc.requestCallback<_agent_HealthReply__Output>): grpc.ClientUnaryCall;
  
  /**
   * `beeline identity get <id>`.
   */
  GetIdentity(argument: _agent_GetIdentityRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_Identity__Output>): grpc.ClientUnaryCall;
  GetIdentity(argument: _agent_GetIdentityRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_Identity__Output>): grpc.ClientUnaryCall;
  GetIdentity(argument: _agent_GetIdentityRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_Identity__Output>): grpc.ClientUnaryCall;
  GetIdentity(argument: _agent_GetIdentityRequest, callback: grpc.requestCallback<_agent_Identity__Output>): grpc.ClientUnaryCall;
  /**
   * `beeline identity get <id>`.
   */
  getIdentity(argument: _agent_GetIdentityRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_Identity__Output>): grpc.ClientUnaryCall;
  getIdentity(argument: _agent_GetIdentityRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_Identity__Output>): grpc.ClientUnaryCall;
  getIdentity(argument: _agent_GetIdentityRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_Identity__Output>): grpc.ClientUnaryCall;
  getIdentity(argument: _agent_GetIdentityRequest, callback: grpc.requestCallback<_agent_Identity__Output>): grpc.ClientUnaryCall;
  
  /**
   * The flow observer: sockets, ring, pipeline, flow history.
   */
  GetObserverStatus(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_ObserverStatusReply__Output>): grpc.ClientUnaryCall;
  GetObserverStatus(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_ObserverStatusReply__Output>): grpc.ClientUnaryCall;
  GetObserverStatus(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_ObserverStatusReply__Output>): grpc.ClientUnaryCall;
  GetObserverStatus(argument: _agent_Empty, callback: grpc.requestCallback<_agent_ObserverStatusReply__Output>): grpc.ClientUnaryCall;
  /**
   * The flow observer: sockets, ring, pipeline, flow history.
   */
  getObserverStatus(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_ObserverStatusReply__Output>): grpc.ClientUnaryCall;
  getObserverStatus(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_ObserverStatusReply__Output>): grpc.ClientUnaryCall;
  getObserverStatus(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_ObserverStatusReply__Output>): grpc.ClientUnaryCall;
  getObserverStatus(argument: _agent_Empty, callback: grpc.requestCallback<_agent_ObserverStatusReply__Output>): grpc.ClientUnaryCall;
  
  /**
   * `beeline policy get`: the policies in force and the endpoints each selects.
   */
  GetPolicy(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_PolicyReply__Output>): grpc.ClientUnaryCall;
  GetPolicy(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_PolicyReply__Output>): grpc.ClientUnaryCall;
  GetPolicy(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_PolicyReply__Output>): grpc.ClientUnaryCall;
  GetPolicy(argument: _agent_Empty, callback: grpc.requestCallback<_agent_PolicyReply__Output>): grpc.ClientUnaryCall;
  /**
   * `beeline policy get`: the policies in force and the endpoints each selects.
   */
  getPolicy(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_PolicyReply__Output>): grpc.ClientUnaryCall;
  getPolicy(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_PolicyReply__Output>): grpc.ClientUnaryCall;
  getPolicy(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_PolicyReply__Output>): grpc.ClientUnaryCall;
  getPolicy(argument: _agent_Empty, callback: grpc.requestCallback<_agent_PolicyReply__Output>): grpc.ClientUnaryCall;
  
  /**
   * The policies behind policy map cookies (`beeline monitor` names them).
   */
  GetPolicyCookies(argument: _agent_GetPolicyCookiesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_PolicyCookiesReply__Output>): grpc.ClientUnaryCall;
  GetPolicyCookies(argument: _agent_GetPolicyCookiesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_PolicyCookiesReply__Output>): grpc.ClientUnaryCall;
  GetPolicyCookies(argument: _agent_GetPolicyCookiesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_PolicyCookiesReply__Output>): grpc.ClientUnaryCall;
  GetPolicyCookies(argument: _agent_GetPolicyCookiesRequest, callback: grpc.requestCallback<_agent_PolicyCookiesReply__Output>): grpc.ClientUnaryCall;
  /**
   * The policies behind policy map cookies (`beeline monitor` names them).
   */
  getPolicyCookies(argument: _agent_GetPolicyCookiesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_PolicyCookiesReply__Output>): grpc.ClientUnaryCall;
  getPolicyCookies(argument: _agent_GetPolicyCookiesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_PolicyCookiesReply__Output>): grpc.ClientUnaryCall;
  getPolicyCookies(argument: _agent_GetPolicyCookiesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_PolicyCookiesReply__Output>): grpc.ClientUnaryCall;
  getPolicyCookies(argument: _agent_GetPolicyCookiesRequest, callback: grpc.requestCallback<_agent_PolicyCookiesReply__Output>): grpc.ClientUnaryCall;
  
  /**
   * Policy enforcement's state: policies accepted and rejected, last flush.
   */
  GetPolicyStatus(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_PolicyStatus__Output>): grpc.ClientUnaryCall;
  GetPolicyStatus(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_PolicyStatus__Output>): grpc.ClientUnaryCall;
  GetPolicyStatus(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_PolicyStatus__Output>): grpc.ClientUnaryCall;
  GetPolicyStatus(argument: _agent_Empty, callback: grpc.requestCallback<_agent_PolicyStatus__Output>): grpc.ClientUnaryCall;
  /**
   * Policy enforcement's state: policies accepted and rejected, last flush.
   */
  getPolicyStatus(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_PolicyStatus__Output>): grpc.ClientUnaryCall;
  getPolicyStatus(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_PolicyStatus__Output>): grpc.ClientUnaryCall;
  getPolicyStatus(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_PolicyStatus__Output>): grpc.ClientUnaryCall;
  getPolicyStatus(argument: _agent_Empty, callback: grpc.requestCallback<_agent_PolicyStatus__Output>): grpc.ClientUnaryCall;
  
  /**
   * Service load-balancing's own state (null before it started).
   */
  GetServicesStatus(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_ServicesStatusReply__Output>): grpc.ClientUnaryCall;
  GetServicesStatus(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_ServicesStatusReply__Output>): grpc.ClientUnaryCall;
  GetServicesStatus(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_ServicesStatusReply__Output>): grpc.ClientUnaryCall;
  GetServicesStatus(argument: _agent_Empty, callback: grpc.requestCallback<_agent_ServicesStatusReply__Output>): grpc.ClientUnaryCall;
  /**
   * Service load-balancing's own state (null before it started).
   */
  getServicesStatus(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_ServicesStatusReply__Output>): grpc.ClientUnaryCall;
  getServicesStatus(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_ServicesStatusReply__Output>): grpc.ClientUnaryCall;
  getServicesStatus(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_ServicesStatusReply__Output>): grpc.ClientUnaryCall;
  getServicesStatus(argument: _agent_Empty, callback: grpc.requestCallback<_agent_ServicesStatusReply__Output>): grpc.ClientUnaryCall;
  
  /**
   * `beeline status`: the node, its pool, kvstore, datapath.
   */
  GetStatus(argument: _agent_GetStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_AgentStatus__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _agent_GetStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_AgentStatus__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _agent_GetStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_AgentStatus__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _agent_GetStatusRequest, callback: grpc.requestCallback<_agent_AgentStatus__Output>): grpc.ClientUnaryCall;
  /**
   * `beeline status`: the node, its pool, kvstore, datapath.
   */
  getStatus(argument: _agent_GetStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_AgentStatus__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _agent_GetStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_AgentStatus__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _agent_GetStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_AgentStatus__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _agent_GetStatusRequest, callback: grpc.requestCallback<_agent_AgentStatus__Output>): grpc.ClientUnaryCall;
  
  /**
   * An address for a pod (the CNI plugin; Cilium's POST /ipam).
   */
  IpamAllocate(argument: _agent_IpamAllocateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_IpamAllocation__Output>): grpc.ClientUnaryCall;
  IpamAllocate(argument: _agent_IpamAllocateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_IpamAllocation__Output>): grpc.ClientUnaryCall;
  IpamAllocate(argument: _agent_IpamAllocateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_IpamAllocation__Output>): grpc.ClientUnaryCall;
  IpamAllocate(argument: _agent_IpamAllocateRequest, callback: grpc.requestCallback<_agent_IpamAllocation__Output>): grpc.ClientUnaryCall;
  /**
   * An address for a pod (the CNI plugin; Cilium's POST /ipam).
   */
  ipamAllocate(argument: _agent_IpamAllocateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_IpamAllocation__Output>): grpc.ClientUnaryCall;
  ipamAllocate(argument: _agent_IpamAllocateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_IpamAllocation__Output>): grpc.ClientUnaryCall;
  ipamAllocate(argument: _agent_IpamAllocateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_IpamAllocation__Output>): grpc.ClientUnaryCall;
  ipamAllocate(argument: _agent_IpamAllocateRequest, callback: grpc.requestCallback<_agent_IpamAllocation__Output>): grpc.ClientUnaryCall;
  
  /**
   * Gives an owner's address back; idempotent.
   */
  IpamRelease(argument: _agent_IpamReleaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_IpamReleaseReply__Output>): grpc.ClientUnaryCall;
  IpamRelease(argument: _agent_IpamReleaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_IpamReleaseReply__Output>): grpc.ClientUnaryCall;
  IpamRelease(argument: _agent_IpamReleaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_IpamReleaseReply__Output>): grpc.ClientUnaryCall;
  IpamRelease(argument: _agent_IpamReleaseRequest, callback: grpc.requestCallback<_agent_IpamReleaseReply__Output>): grpc.ClientUnaryCall;
  /**
   * Gives an owner's address back; idempotent.
   */
  ipamRelease(argument: _agent_IpamReleaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_IpamReleaseReply__Output>): grpc.ClientUnaryCall;
  ipamRelease(argument: _agent_IpamReleaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_IpamReleaseReply__Output>): grpc.ClientUnaryCall;
  ipamRelease(argument: _agent_IpamReleaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_IpamReleaseReply__Output>): grpc.ClientUnaryCall;
  ipamRelease(argument: _agent_IpamReleaseRequest, callback: grpc.requestCallback<_agent_IpamReleaseReply__Output>): grpc.ClientUnaryCall;
  
  /**
   * `beeline bpf ct list`.
   */
  ListBpfConntrack(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_CtRows__Output>): grpc.ClientUnaryCall;
  ListBpfConntrack(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_CtRows__Output>): grpc.ClientUnaryCall;
  ListBpfConntrack(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_CtRows__Output>): grpc.ClientUnaryCall;
  ListBpfConntrack(argument: _agent_Empty, callback: grpc.requestCallback<_agent_CtRows__Output>): grpc.ClientUnaryCall;
  /**
   * `beeline bpf ct list`.
   */
  listBpfConntrack(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_CtRows__Output>): grpc.ClientUnaryCall;
  listBpfConntrack(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_CtRows__Output>): grpc.ClientUnaryCall;
  listBpfConntrack(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_CtRows__Output>): grpc.ClientUnaryCall;
  listBpfConntrack(argument: _agent_Empty, callback: grpc.requestCallback<_agent_CtRows__Output>): grpc.ClientUnaryCall;
  
  /**
   * `beeline bpf endpoint list`: the kernel's endpoint map.
   */
  ListBpfEndpoints(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_EndpointMapRows__Output>): grpc.ClientUnaryCall;
  ListBpfEndpoints(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_EndpointMapRows__Output>): grpc.ClientUnaryCall;
  ListBpfEndpoints(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_EndpointMapRows__Output>): grpc.ClientUnaryCall;
  ListBpfEndpoints(argument: _agent_Empty, callback: grpc.requestCallback<_agent_EndpointMapRows__Output>): grpc.ClientUnaryCall;
  /**
   * `beeline bpf endpoint list`: the kernel's endpoint map.
   */
  listBpfEndpoints(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_EndpointMapRows__Output>): grpc.ClientUnaryCall;
  listBpfEndpoints(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_EndpointMapRows__Output>): grpc.ClientUnaryCall;
  listBpfEndpoints(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_EndpointMapRows__Output>): grpc.ClientUnaryCall;
  listBpfEndpoints(argument: _agent_Empty, callback: grpc.requestCallback<_agent_EndpointMapRows__Output>): grpc.ClientUnaryCall;
  
  /**
   * `beeline bpf ipcache list`.
   */
  ListBpfIpcache(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_IpcacheRows__Output>): grpc.ClientUnaryCall;
  ListBpfIpcache(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_IpcacheRows__Output>): grpc.ClientUnaryCall;
  ListBpfIpcache(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_IpcacheRows__Output>): grpc.ClientUnaryCall;
  ListBpfIpcache(argument: _agent_Empty, callback: grpc.requestCallback<_agent_IpcacheRows__Output>): grpc.ClientUnaryCall;
  /**
   * `beeline bpf ipcache list`.
   */
  listBpfIpcache(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_IpcacheRows__Output>): grpc.ClientUnaryCall;
  listBpfIpcache(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_IpcacheRows__Output>): grpc.ClientUnaryCall;
  listBpfIpcache(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_IpcacheRows__Output>): grpc.ClientUnaryCall;
  listBpfIpcache(argument: _agent_Empty, callback: grpc.requestCallback<_agent_IpcacheRows__Output>): grpc.ClientUnaryCall;
  
  /**
   * `beeline bpf lb list`: the service maps.
   */
  ListBpfLb(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_BpfLbReply__Output>): grpc.ClientUnaryCall;
  ListBpfLb(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_BpfLbReply__Output>): grpc.ClientUnaryCall;
  ListBpfLb(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_BpfLbReply__Output>): grpc.ClientUnaryCall;
  ListBpfLb(argument: _agent_Empty, callback: grpc.requestCallback<_agent_BpfLbReply__Output>): grpc.ClientUnaryCall;
  /**
   * `beeline bpf lb list`: the service maps.
   */
  listBpfLb(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_BpfLbReply__Output>): grpc.ClientUnaryCall;
  listBpfLb(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_BpfLbReply__Output>): grpc.ClientUnaryCall;
  listBpfLb(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_BpfLbReply__Output>): grpc.ClientUnaryCall;
  listBpfLb(argument: _agent_Empty, callback: grpc.requestCallback<_agent_BpfLbReply__Output>): grpc.ClientUnaryCall;
  
  /**
   * `beeline bpf policy get`: the policy map, with the policies behind each entry.
   */
  ListBpfPolicy(argument: _agent_ListBpfPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_PolicyMapRows__Output>): grpc.ClientUnaryCall;
  ListBpfPolicy(argument: _agent_ListBpfPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_PolicyMapRows__Output>): grpc.ClientUnaryCall;
  ListBpfPolicy(argument: _agent_ListBpfPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_PolicyMapRows__Output>): grpc.ClientUnaryCall;
  ListBpfPolicy(argument: _agent_ListBpfPolicyRequest, callback: grpc.requestCallback<_agent_PolicyMapRows__Output>): grpc.ClientUnaryCall;
  /**
   * `beeline bpf policy get`: the policy map, with the policies behind each entry.
   */
  listBpfPolicy(argument: _agent_ListBpfPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_PolicyMapRows__Output>): grpc.ClientUnaryCall;
  listBpfPolicy(argument: _agent_ListBpfPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_PolicyMapRows__Output>): grpc.ClientUnaryCall;
  listBpfPolicy(argument: _agent_ListBpfPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_PolicyMapRows__Output>): grpc.ClientUnaryCall;
  listBpfPolicy(argument: _agent_ListBpfPolicyRequest, callback: grpc.requestCallback<_agent_PolicyMapRows__Output>): grpc.ClientUnaryCall;
  
  /**
   * `beeline endpoint list`.
   */
  ListEndpoints(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_EndpointList__Output>): grpc.ClientUnaryCall;
  ListEndpoints(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_EndpointList__Output>): grpc.ClientUnaryCall;
  ListEndpoints(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_EndpointList__Output>): grpc.ClientUnaryCall;
  ListEndpoints(argument: _agent_Empty, callback: grpc.requestCallback<_agent_EndpointList__Output>): grpc.ClientUnaryCall;
  /**
   * `beeline endpoint list`.
   */
  listEndpoints(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_EndpointList__Output>): grpc.ClientUnaryCall;
  listEndpoints(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_EndpointList__Output>): grpc.ClientUnaryCall;
  listEndpoints(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_EndpointList__Output>): grpc.ClientUnaryCall;
  listEndpoints(argument: _agent_Empty, callback: grpc.requestCallback<_agent_EndpointList__Output>): grpc.ClientUnaryCall;
  
  /**
   * `beeline fqdn cache list`: the names the DNS proxy learned (like `cilium fqdn cache list`).
   */
  ListFqdnCache(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_FqdnCacheRows__Output>): grpc.ClientUnaryCall;
  ListFqdnCache(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_FqdnCacheRows__Output>): grpc.ClientUnaryCall;
  ListFqdnCache(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_FqdnCacheRows__Output>): grpc.ClientUnaryCall;
  ListFqdnCache(argument: _agent_Empty, callback: grpc.requestCallback<_agent_FqdnCacheRows__Output>): grpc.ClientUnaryCall;
  /**
   * `beeline fqdn cache list`: the names the DNS proxy learned (like `cilium fqdn cache list`).
   */
  listFqdnCache(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_FqdnCacheRows__Output>): grpc.ClientUnaryCall;
  listFqdnCache(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_FqdnCacheRows__Output>): grpc.ClientUnaryCall;
  listFqdnCache(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_FqdnCacheRows__Output>): grpc.ClientUnaryCall;
  listFqdnCache(argument: _agent_Empty, callback: grpc.requestCallback<_agent_FqdnCacheRows__Output>): grpc.ClientUnaryCall;
  
  /**
   * `beeline identity list`: every identity of the cluster, reserved ones included.
   */
  ListIdentities(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_IdentityList__Output>): grpc.ClientUnaryCall;
  ListIdentities(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_IdentityList__Output>): grpc.ClientUnaryCall;
  ListIdentities(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_IdentityList__Output>): grpc.ClientUnaryCall;
  ListIdentities(argument: _agent_Empty, callback: grpc.requestCallback<_agent_IdentityList__Output>): grpc.ClientUnaryCall;
  /**
   * `beeline identity list`: every identity of the cluster, reserved ones included.
   */
  listIdentities(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_IdentityList__Output>): grpc.ClientUnaryCall;
  listIdentities(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_IdentityList__Output>): grpc.ClientUnaryCall;
  listIdentities(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_IdentityList__Output>): grpc.ClientUnaryCall;
  listIdentities(argument: _agent_Empty, callback: grpc.requestCallback<_agent_IdentityList__Output>): grpc.ClientUnaryCall;
  
  /**
   * This node's references to identities.
   */
  ListIdentityReferences(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_IdentityReferenceList__Output>): grpc.ClientUnaryCall;
  ListIdentityReferences(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_IdentityReferenceList__Output>): grpc.ClientUnaryCall;
  ListIdentityReferences(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_IdentityReferenceList__Output>): grpc.ClientUnaryCall;
  ListIdentityReferences(argument: _agent_Empty, callback: grpc.requestCallback<_agent_IdentityReferenceList__Output>): grpc.ClientUnaryCall;
  /**
   * This node's references to identities.
   */
  listIdentityReferences(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_IdentityReferenceList__Output>): grpc.ClientUnaryCall;
  listIdentityReferences(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_IdentityReferenceList__Output>): grpc.ClientUnaryCall;
  listIdentityReferences(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_IdentityReferenceList__Output>): grpc.ClientUnaryCall;
  listIdentityReferences(argument: _agent_Empty, callback: grpc.requestCallback<_agent_IdentityReferenceList__Output>): grpc.ClientUnaryCall;
  
  /**
   * The other nodes this agent has programmed.
   */
  ListNodes(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_RemoteNodeList__Output>): grpc.ClientUnaryCall;
  ListNodes(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_RemoteNodeList__Output>): grpc.ClientUnaryCall;
  ListNodes(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_RemoteNodeList__Output>): grpc.ClientUnaryCall;
  ListNodes(argument: _agent_Empty, callback: grpc.requestCallback<_agent_RemoteNodeList__Output>): grpc.ClientUnaryCall;
  /**
   * The other nodes this agent has programmed.
   */
  listNodes(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_RemoteNodeList__Output>): grpc.ClientUnaryCall;
  listNodes(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_RemoteNodeList__Output>): grpc.ClientUnaryCall;
  listNodes(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_RemoteNodeList__Output>): grpc.ClientUnaryCall;
  listNodes(argument: _agent_Empty, callback: grpc.requestCallback<_agent_RemoteNodeList__Output>): grpc.ClientUnaryCall;
  
  /**
   * `beeline service list`.
   */
  ListServices(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_ServicesReply__Output>): grpc.ClientUnaryCall;
  ListServices(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_ServicesReply__Output>): grpc.ClientUnaryCall;
  ListServices(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_ServicesReply__Output>): grpc.ClientUnaryCall;
  ListServices(argument: _agent_Empty, callback: grpc.requestCallback<_agent_ServicesReply__Output>): grpc.ClientUnaryCall;
  /**
   * `beeline service list`.
   */
  listServices(argument: _agent_Empty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_ServicesReply__Output>): grpc.ClientUnaryCall;
  listServices(argument: _agent_Empty, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_ServicesReply__Output>): grpc.ClientUnaryCall;
  listServices(argument: _agent_Empty, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_ServicesReply__Output>): grpc.ClientUnaryCall;
  listServices(argument: _agent_Empty, callback: grpc.requestCallback<_agent_ServicesReply__Output>): grpc.ClientUnaryCall;
  
  /**
   * The CNI plugin registers the pod interface it made; the agent programs the datapath.
   */
  PutEndpoint(argument: _agent_EndpointCreateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_Endpoint__Output>): grpc.ClientUnaryCall;
  PutEndpoint(argument: _agent_EndpointCreateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_Endpoint__Output>): grpc.ClientUnaryCall;
  PutEndpoint(argument: _agent_EndpointCreateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_Endpoint__Output>): grpc.ClientUnaryCall;
  PutEndpoint(argument: _agent_EndpointCreateRequest, callback: grpc.requestCallback<_agent_Endpoint__Output>): grpc.ClientUnaryCall;
  /**
   * The CNI plugin registers the pod interface it made; the agent programs the datapath.
   */
  putEndpoint(argument: _agent_EndpointCreateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_Endpoint__Output>): grpc.ClientUnaryCall;
  putEndpoint(argument: _agent_EndpointCreateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_Endpoint__Output>): grpc.ClientUnaryCall;
  putEndpoint(argument: _agent_EndpointCreateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_Endpoint__Output>): grpc.ClientUnaryCall;
  putEndpoint(argument: _agent_EndpointCreateRequest, callback: grpc.requestCallback<_agent_Endpoint__Output>): grpc.ClientUnaryCall;
  
  /**
   * `beeline policy trace`: would this traffic be allowed, and by what.
   */
  TracePolicy(argument: _agent_TracePolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_TracePolicyReply__Output>): grpc.ClientUnaryCall;
  TracePolicy(argument: _agent_TracePolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_TracePolicyReply__Output>): grpc.ClientUnaryCall;
  TracePolicy(argument: _agent_TracePolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_TracePolicyReply__Output>): grpc.ClientUnaryCall;
  TracePolicy(argument: _agent_TracePolicyRequest, callback: grpc.requestCallback<_agent_TracePolicyReply__Output>): grpc.ClientUnaryCall;
  /**
   * `beeline policy trace`: would this traffic be allowed, and by what.
   */
  tracePolicy(argument: _agent_TracePolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_TracePolicyReply__Output>): grpc.ClientUnaryCall;
  tracePolicy(argument: _agent_TracePolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_agent_TracePolicyReply__Output>): grpc.ClientUnaryCall;
  tracePolicy(argument: _agent_TracePolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_agent_TracePolicyReply__Output>): grpc.ClientUnaryCall;
  tracePolicy(argument: _agent_TracePolicyRequest, callback: grpc.requestCallback<_agent_TracePolicyReply__Output>): grpc.ClientUnaryCall;
  
}

export interface AgentHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Collects expired conntrack entries now.
   */
  ConntrackGc: grpc.handleUnaryCall<_agent_Empty__Output, _agent_ConntrackGcReply>;
  
  /**
   * Idempotent.
   */
  DeleteEndpoint: grpc.handleUnaryCall<_agent_EndpointDeleteRequest__Output, _agent_EndpointDeleteResult>;
  
  /**
   * `beeline bpf metrics list`: verdict counters per reason and direction.
   */
  GetDatapathMetrics: grpc.handleUnaryCall<_agent_Empty__Output, _agent_MetricRows>;
  
  /**
   * Liveness, for the kubelet and `beeline lab status`.
   */
  GetHealth: grpc.handleUnaryCall<_agent_GetHealthRequest__Output, _agent_HealthReply>;
  
  /**
   * `beeline identity get <id>`.
   */
  GetIdentity: grpc.handleUnaryCall<_agent_GetIdentityRequest__Output, _agent_Identity>;
  
  /**
   * The flow observer: sockets, ring, pipeline, flow history.
   */
  GetObserverStatus: grpc.handleUnaryCall<_agent_Empty__Output, _agent_ObserverStatusReply>;
  
  /**
   * `beeline policy get`: the policies in force and the endpoints each selects.
   */
  GetPolicy: grpc.handleUnaryCall<_agent_Empty__Output, _agent_PolicyReply>;
  
  /**
   * The policies behind policy map cookies (`beeline monitor` names them).
   */
  GetPolicyCookies: grpc.handleUnaryCall<_agent_GetPolicyCookiesRequest__Output, _agent_PolicyCookiesReply>;
  
  /**
   * Policy enforcement's state: policies accepted and rejected, last flush.
   */
  GetPolicyStatus: grpc.handleUnaryCall<_agent_Empty__Output, _agent_PolicyStatus>;
  
  /**
   * Service load-balancing's own state (null before it started).
   */
  GetServicesStatus: grpc.handleUnaryCall<_agent_Empty__Output, _agent_ServicesStatusReply>;
  
  /**
   * `beeline status`: the node, its pool, kvstore, datapath.
   */
  GetStatus: grpc.handleUnaryCall<_agent_GetStatusRequest__Output, _agent_AgentStatus>;
  
  /**
   * An address for a pod (the CNI plugin; Cilium's POST /ipam).
   */
  IpamAllocate: grpc.handleUnaryCall<_agent_IpamAllocateRequest__Output, _agent_IpamAllocation>;
  
  /**
   * Gives an owner's address back; idempotent.
   */
  IpamRelease: grpc.handleUnaryCall<_agent_IpamReleaseRequest__Output, _agent_IpamReleaseReply>;
  
  /**
   * `beeline bpf ct list`.
   */
  ListBpfConntrack: grpc.handleUnaryCall<_agent_Empty__Output, _agent_CtRows>;
  
  /**
   * `beeline bpf endpoint list`: the kernel's endpoint map.
   */
  ListBpfEndpoints: grpc.handleUnaryCall<_agent_Empty__Output, _agent_EndpointMapRows>;
  
  /**
   * `beeline bpf ipcache list`.
   */
  ListBpfIpcache: grpc.handleUnaryCall<_agent_Empty__Output, _agent_IpcacheRows>;
  
  /**
   * `beeline bpf lb list`: the service maps.
   */
  ListBpfLb: grpc.handleUnaryCall<_agent_Empty__Output, _agent_BpfLbReply>;
  
  /**
   * `beeline bpf policy get`: the policy map, with the policies behind each entry.
   */
  ListBpfPolicy: grpc.handleUnaryCall<_agent_ListBpfPolicyRequest__Output, _agent_PolicyMapRows>;
  
  /**
   * `beeline endpoint list`.
   */
  ListEndpoints: grpc.handleUnaryCall<_agent_Empty__Output, _agent_EndpointList>;
  
  /**
   * `beeline fqdn cache list`: the names the DNS proxy learned (like `cilium fqdn cache list`).
   */
  ListFqdnCache: grpc.handleUnaryCall<_agent_Empty__Output, _agent_FqdnCacheRows>;
  
  /**
   * `beeline identity list`: every identity of the cluster, reserved ones included.
   */
  ListIdentities: grpc.handleUnaryCall<_agent_Empty__Output, _agent_IdentityList>;
  
  /**
   * This node's references to identities.
   */
  ListIdentityReferences: grpc.handleUnaryCall<_agent_Empty__Output, _agent_IdentityReferenceList>;
  
  /**
   * The other nodes this agent has programmed.
   */
  ListNodes: grpc.handleUnaryCall<_agent_Empty__Output, _agent_RemoteNodeList>;
  
  /**
   * `beeline service list`.
   */
  ListServices: grpc.handleUnaryCall<_agent_Empty__Output, _agent_ServicesReply>;
  
  /**
   * The CNI plugin registers the pod interface it made; the agent programs the datapath.
   */
  PutEndpoint: grpc.handleUnaryCall<_agent_EndpointCreateRequest__Output, _agent_Endpoint>;
  
  /**
   * `beeline policy trace`: would this traffic be allowed, and by what.
   */
  TracePolicy: grpc.handleUnaryCall<_agent_TracePolicyRequest__Output, _agent_TracePolicyReply>;
  
}

export interface AgentDefinition extends grpc.ServiceDefinition {
  ConntrackGc: MethodDefinition<_agent_Empty, _agent_ConntrackGcReply, _agent_Empty__Output, _agent_ConntrackGcReply__Output>
  DeleteEndpoint: MethodDefinition<_agent_EndpointDeleteRequest, _agent_EndpointDeleteResult, _agent_EndpointDeleteRequest__Output, _agent_EndpointDeleteResult__Output>
  GetDatapathMetrics: MethodDefinition<_agent_Empty, _agent_MetricRows, _agent_Empty__Output, _agent_MetricRows__Output>
  GetHealth: MethodDefinition<_agent_GetHealthRequest, _agent_HealthReply, _agent_GetHealthRequest__Output, _agent_HealthReply__Output>
  GetIdentity: MethodDefinition<_agent_GetIdentityRequest, _agent_Identity, _agent_GetIdentityRequest__Output, _agent_Identity__Output>
  GetObserverStatus: MethodDefinition<_agent_Empty, _agent_ObserverStatusReply, _agent_Empty__Output, _agent_ObserverStatusReply__Output>
  GetPolicy: MethodDefinition<_agent_Empty, _agent_PolicyReply, _agent_Empty__Output, _agent_PolicyReply__Output>
  GetPolicyCookies: MethodDefinition<_agent_GetPolicyCookiesRequest, _agent_PolicyCookiesReply, _agent_GetPolicyCookiesRequest__Output, _agent_PolicyCookiesReply__Output>
  GetPolicyStatus: MethodDefinition<_agent_Empty, _agent_PolicyStatus, _agent_Empty__Output, _agent_PolicyStatus__Output>
  GetServicesStatus: MethodDefinition<_agent_Empty, _agent_ServicesStatusReply, _agent_Empty__Output, _agent_ServicesStatusReply__Output>
  GetStatus: MethodDefinition<_agent_GetStatusRequest, _agent_AgentStatus, _agent_GetStatusRequest__Output, _agent_AgentStatus__Output>
  IpamAllocate: MethodDefinition<_agent_IpamAllocateRequest, _agent_IpamAllocation, _agent_IpamAllocateRequest__Output, _agent_IpamAllocation__Output>
  IpamRelease: MethodDefinition<_agent_IpamReleaseRequest, _agent_IpamReleaseReply, _agent_IpamReleaseRequest__Output, _agent_IpamReleaseReply__Output>
  ListBpfConntrack: MethodDefinition<_agent_Empty, _agent_CtRows, _agent_Empty__Output, _agent_CtRows__Output>
  ListBpfEndpoints: MethodDefinition<_agent_Empty, _agent_EndpointMapRows, _agent_Empty__Output, _agent_EndpointMapRows__Output>
  ListBpfIpcache: MethodDefinition<_agent_Empty, _agent_IpcacheRows, _agent_Empty__Output, _agent_IpcacheRows__Output>
  ListBpfLb: MethodDefinition<_agent_Empty, _agent_BpfLbReply, _agent_Empty__Output, _agent_BpfLbReply__Output>
  ListBpfPolicy: MethodDefinition<_agent_ListBpfPolicyRequest, _agent_PolicyMapRows, _agent_ListBpfPolicyRequest__Output, _agent_PolicyMapRows__Output>
  ListEndpoints: MethodDefinition<_agent_Empty, _agent_EndpointList, _agent_Empty__Output, _agent_EndpointList__Output>
  ListFqdnCache: MethodDefinition<_agent_Empty, _agent_FqdnCacheRows, _agent_Empty__Output, _agent_FqdnCacheRows__Output>
  ListIdentities: MethodDefinition<_agent_Empty, _agent_IdentityList, _agent_Empty__Output, _agent_IdentityList__Output>
  ListIdentityReferences: MethodDefinition<_agent_Empty, _agent_IdentityReferenceList, _agent_Empty__Output, _agent_IdentityReferenceList__Output>
  ListNodes: MethodDefinition<_agent_Empty, _agent_RemoteNodeList, _agent_Empty__Output, _agent_RemoteNodeList__Output>
  ListServices: MethodDefinition<_agent_Empty, _agent_ServicesReply, _agent_Empty__Output, _agent_ServicesReply__Output>
  PutEndpoint: MethodDefinition<_agent_EndpointCreateRequest, _agent_Endpoint, _agent_EndpointCreateRequest__Output, _agent_Endpoint__Output>
  TracePolicy: MethodDefinition<_agent_TracePolicyRequest, _agent_TracePolicyReply, _agent_TracePolicyRequest__Output, _agent_TracePolicyReply__Output>
}

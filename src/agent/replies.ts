/**
 * The replies of the agent's API by rpc name (api/agent/agent.proto), as the
 * agent writes them and its clients (the CLI, the lab, the relay, tests)
 * read them: `agentGet<AgentReplies['ListEndpoints']>(socket, path)`.
 *
 * A reply the generated message says in full is that message as the agent
 * writes it (`Reply<X__Output>`: AgentStatus, IpamAllocation,
 * EndpointDeleteResult, MonitorLine in ./types.ts; HealthReply and the
 * conntrack GC's reply here), never re-declared by hand. The others are the
 * types of the code that produces them, kept because they say more than the
 * generator can (bigint counters that go on the wire as strings, an endpoint's
 * state as a union, fields the contract models as google.protobuf.Value), and
 * checked at compile time against the generated message (src/api/conform.ts):
 * a field added to, removed from or retyped in either fails `tsc`. For a bare
 * response message (`option (agent.bare) = true`) the reply is its one
 * field's value.
 */
import type { Conforms, Json, Mirrors, Reply } from '../api/conform.js';
import type { AgentDefinition } from '../api/generated/agent/Agent.js';
import type { AgentStatus__Output } from '../api/generated/agent/AgentStatus.js';
import type { BpfLbReply__Output } from '../api/generated/agent/BpfLbReply.js';
import type { CtRows__Output } from '../api/generated/agent/CtRows.js';
import type { FqdnCacheRows__Output } from '../api/generated/agent/FqdnCacheRows.js';
import type { EndpointMapRows__Output } from '../api/generated/agent/EndpointMapRows.js';
import type { IpcacheRows__Output } from '../api/generated/agent/IpcacheRows.js';
import type { MetricRows__Output } from '../api/generated/agent/MetricRows.js';
import type { PolicyMapRows__Output } from '../api/generated/agent/PolicyMapRows.js';
import type { ConntrackGcReply__Output } from '../api/generated/agent/ConntrackGcReply.js';
import type { Endpoint__Output } from '../api/generated/agent/Endpoint.js';
import type { EndpointCreateRequest__Output } from '../api/generated/agent/EndpointCreateRequest.js';
import type { EndpointDeleteResult__Output } from '../api/generated/agent/EndpointDeleteResult.js';
import type { EndpointList__Output } from '../api/generated/agent/EndpointList.js';
import type { HealthReply__Output } from '../api/generated/agent/HealthReply.js';
import type { Identity__Output } from '../api/generated/agent/Identity.js';
import type { IdentityList__Output } from '../api/generated/agent/IdentityList.js';
import type { IdentityReference__Output } from '../api/generated/agent/IdentityReference.js';
import type { IdentityReferenceList__Output } from '../api/generated/agent/IdentityReferenceList.js';
import type { IpamAllocateRequest__Output } from '../api/generated/agent/IpamAllocateRequest.js';
import type { IpamAllocation__Output } from '../api/generated/agent/IpamAllocation.js';
import type { IpamReleaseReply__Output } from '../api/generated/agent/IpamReleaseReply.js';
import type { MonitorLine__Output } from '../api/generated/agent/MonitorLine.js';
import type { PolicyReply__Output } from '../api/generated/agent/PolicyReply.js';
import type { PolicyStatus__Output } from '../api/generated/agent/PolicyStatus.js';
import type { TracePolicyReply__Output } from '../api/generated/agent/TracePolicyReply.js';
import type { RemoteNodeList__Output } from '../api/generated/agent/RemoteNodeList.js';
import type { ServicesReply__Output } from '../api/generated/agent/ServicesReply.js';
import type { ServicesStatusReply__Output } from '../api/generated/agent/ServicesStatusReply.js';
import type { LbProblem } from '../service/translate.js';
import type { CtRow, EndpointMapRow, IpcacheRow, LbBackendRow, LbFrontendRow, MetricRow, RemoteNode } from './datapath.js';
import type { PolicyMapRow } from '../datapath/policy.js';
import type { ObserverStatus } from './observer.js';
import type { EndpointPolicyRow, PolicyEnforcement, PolicyManager, PolicyRow, TraceAnswer } from './policy.js';
import type { ServiceManager, ServiceRow } from './services.js';
import type { AgentStatus, EndpointCreateRequest, EndpointDeleteResult, EndpointModel, IpamAllocateRequest, IpamAllocation, MonitorLine } from './types.js';

/** GET /healthz (contract: agent.HealthReply). */
export type HealthReply = Reply<HealthReply__Output>;

/** An item of GET /v1/endpoints: the endpoint and whether policy is enforced on it. */
export type EndpointListItem = EndpointModel & { policyEnforcement: PolicyEnforcement };

/** An identity as GET /v1/identities and GET /v1/identity give it: the contract's agent.Identity. */
export type IdentityJson = Identity__Output;

/** An item of GET /v1/identities/references (this node's references to an identity): the contract's agent.IdentityReference. */
export type IdentityReference = IdentityReference__Output;

/** GET /v1/services */
export interface ServicesReply {
  services: ServiceRow[];
  problems: LbProblem[];
  /** null before the first flush. */
  lastSync: ServiceManager['lastSync'] | null;
}

/** GET /v1/policy/status (the same shape, with lastError set, before enforcement started). */
export type PolicyStatusReply = ReturnType<PolicyManager['status']>;

/** GET /v1/policy */
export interface PolicyReply {
  policies: PolicyRow[];
  endpoints: EndpointPolicyRow[];
}

/** A row of GET /v1/bpf/policy: a policy map entry and the policies behind its cookie. */
export type PolicyMapRowJson = PolicyMapRow & { policies: string[] };

/** Every rpc of `service Agent` and its reply on the wire. */
export interface AgentReplies {
  GetHealth: HealthReply;
  GetStatus: AgentStatus;
  GetDatapathMetrics: MetricRow[];
  IpamAllocate: IpamAllocation;
  IpamRelease: { released: string | null };
  ListEndpoints: EndpointListItem[];
  PutEndpoint: EndpointModel;
  DeleteEndpoint: EndpointDeleteResult;
  ListNodes: RemoteNode[];
  ListIdentities: IdentityJson[];
  ListIdentityReferences: IdentityReference[];
  GetIdentity: IdentityJson;
  ListBpfEndpoints: EndpointMapRow[];
  ListBpfIpcache: IpcacheRow[];
  ListBpfConntrack: CtRow[];
  ListServices: ServicesReply;
  GetServicesStatus: ReturnType<ServiceManager['status']> | null;
  ListBpfLb: { frontends: LbFrontendRow[]; backends: LbBackendRow[] };
  ConntrackGc: Reply<ConntrackGcReply__Output>;
  GetPolicyStatus: PolicyStatusReply;
  GetPolicy: PolicyReply;
  TracePolicy: TraceAnswer[];
  GetPolicyCookies: Record<number, string[]>;
  ListBpfPolicy: PolicyMapRowJson[];
  GetObserverStatus: ObserverStatus | { enabled: false; ring: { flows: number; capacity: number } };
  ListFqdnCache: FqdnCacheRows__Output['rows'];
}

/** The rpc names of `service Agent`. */
export type AgentRpc = keyof AgentReplies;

/** An rpc's reply as a client reads it from the JSON (`agentGet<AgentReply<'ListEndpoints'>>(…)`): bigints as strings. */
export type AgentReply<K extends AgentRpc> = Json<AgentReplies[K]>;

/** The rpc names as the generated service definition has them (its index signature left out). */
type ContractRpc = keyof { [K in keyof AgentDefinition as string extends K ? never : K]: 0 };

/**
 * The replies against the contract: the hand types, and the derived ones
 * (which keeps Reply honest). The rest of AgentReplies answers a message
 * whose fields are google.protobuf.Value (not modelled yet: see the end of
 * api/agent/agent.proto).
 */
export type ContractChecks = [
  // One reply per rpc of the contract, and no other.
  Conforms<Mirrors<{ [K in AgentRpc]: 0 }, { [K in ContractRpc]: 0 }>>,
  Conforms<Mirrors<HealthReply, HealthReply__Output>>,
  Conforms<Mirrors<AgentStatus, AgentStatus__Output>>,
  Conforms<Mirrors<IpamAllocateRequest, IpamAllocateRequest__Output>>,
  Conforms<Mirrors<IpamAllocation, IpamAllocation__Output>>,
  Conforms<Mirrors<AgentReplies['IpamRelease'], IpamReleaseReply__Output>>,
  Conforms<Mirrors<EndpointListItem[], EndpointList__Output['endpoints']>>,
  Conforms<Mirrors<EndpointCreateRequest, EndpointCreateRequest__Output>>,
  Conforms<Mirrors<EndpointModel, Endpoint__Output>>,
  Conforms<Mirrors<EndpointDeleteResult, EndpointDeleteResult__Output>>,
  Conforms<Mirrors<RemoteNode[], RemoteNodeList__Output['nodes']>>,
  Conforms<Mirrors<IdentityJson, Identity__Output>>,
  Conforms<Mirrors<IdentityJson[], IdentityList__Output['identities']>>,
  Conforms<Mirrors<IdentityReference, IdentityReference__Output>>,
  Conforms<Mirrors<IdentityReference[], IdentityReferenceList__Output['references']>>,
  Conforms<Mirrors<ServicesReply, ServicesReply__Output>>,
  Conforms<Mirrors<AgentReplies['ConntrackGc'], ConntrackGcReply__Output>>,
  Conforms<Mirrors<PolicyStatusReply, PolicyStatus__Output>>,
  Conforms<Mirrors<MonitorLine, MonitorLine__Output>>,
  Conforms<Mirrors<AgentReplies['GetDatapathMetrics'], MetricRows__Output['rows']>>,
  Conforms<Mirrors<AgentReplies['ListBpfEndpoints'], EndpointMapRows__Output['rows']>>,
  Conforms<Mirrors<AgentReplies['ListBpfIpcache'], IpcacheRows__Output['rows']>>,
  Conforms<Mirrors<AgentReplies['ListBpfConntrack'], CtRows__Output['rows']>>,
  Conforms<Mirrors<AgentReplies['ListBpfLb'], BpfLbReply__Output>>,
  Conforms<Mirrors<AgentReplies['ListBpfPolicy'], PolicyMapRows__Output['rows']>>,
  Conforms<Mirrors<PolicyReply, PolicyReply__Output>>,
  Conforms<Mirrors<AgentReplies['GetServicesStatus'], ServicesStatusReply__Output['status']>>,
  Conforms<Mirrors<AgentReplies['TracePolicy'], TracePolicyReply__Output['answers']>>,
];

// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { Health as _agent_Health, Health__Output as _agent_Health__Output } from '../agent/Health.js';
import type { DnsProxyStatus as _agent_DnsProxyStatus, DnsProxyStatus__Output as _agent_DnsProxyStatus__Output } from '../agent/DnsProxyStatus.js';
import type { DatapathResync as _agent_DatapathResync, DatapathResync__Output as _agent_DatapathResync__Output } from '../agent/DatapathResync.js';
import type { AttachmentStatus as _agent_AttachmentStatus, AttachmentStatus__Output as _agent_AttachmentStatus__Output } from '../agent/AttachmentStatus.js';
import type { MapStatus as _agent_MapStatus, MapStatus__Output as _agent_MapStatus__Output } from '../agent/MapStatus.js';

export interface _agent_AgentStatus_Count {
  'count'?: (number);
}

export interface _agent_AgentStatus_Count__Output {
  'count': (number);
}

export interface _agent_AgentStatus_Datapath {
  'state'?: (_agent_AgentStatus_Datapath_State);
  'mode'?: (string);
  'routing'?: (string);
  'message'?: (string);
  'attachments'?: (_agent_AttachmentStatus)[];
  'maps'?: (_agent_MapStatus)[];
  'events'?: (_agent_AgentStatus_Datapath_Events | null);
  '_message'?: "message";
}

export interface _agent_AgentStatus_Datapath__Output {
  'state': (_agent_AgentStatus_Datapath_State__Output);
  'mode': (string);
  'routing': (string);
  'message'?: (string);
  'attachments': (_agent_AttachmentStatus__Output)[];
  'maps': (_agent_MapStatus__Output)[];
  'events': (_agent_AgentStatus_Datapath_Events__Output | null);
  '_message'?: "message";
}

export interface _agent_AgentStatus_Datapath_Events {
  'read'?: (number | string);
  'lost'?: (number | string);
}

export interface _agent_AgentStatus_Datapath_Events__Output {
  'read': (number);
  'lost': (number);
}

export interface _agent_AgentStatus_Ipam {
  'used'?: (number);
  'capacity'?: (number);
}

export interface _agent_AgentStatus_Ipam__Output {
  'used': (number);
  'capacity': (number);
}

export interface _agent_AgentStatus_Kubernetes {
  'state'?: (_agent_AgentStatus_Kubernetes_State);
  /**
   * The API server's URL, from the kubeconfig.
   */
  'server'?: (string);
  'message'?: (string);
  '_message'?: "message";
}

export interface _agent_AgentStatus_Kubernetes__Output {
  'state': (_agent_AgentStatus_Kubernetes_State__Output);
  /**
   * The API server's URL, from the kubeconfig.
   */
  'server': (string);
  'message'?: (string);
  '_message'?: "message";
}

export interface _agent_AgentStatus_Kvstore {
  'state'?: (_agent_AgentStatus_Kvstore_State);
  'endpoint'?: (string);
  'message'?: (string);
  '_message'?: "message";
}

export interface _agent_AgentStatus_Kvstore__Output {
  'state': (_agent_AgentStatus_Kvstore_State__Output);
  'endpoint': (string);
  'message'?: (string);
  '_message'?: "message";
}

/**
 * The node's L7 proxy (HAProxy, its own process), as this agent drives it.
 */
export interface _agent_AgentStatus_Proxy {
  'state'?: (_agent_AgentStatus_Proxy_State);
  'ingressPort'?: (number);
  'egressPort'?: (number);
  /**
   * L7 redirects (endpoint, port, peer identity) in the proxy's rules.
   */
  'redirects'?: (number);
  /**
   * Configurations rendered and reloads asked of the proxy since the agent started.
   */
  'renders'?: (number);
  'reloads'?: (number);
  'lastReload'?: (string);
  /**
   * Why the last update failed (it is retried every second).
   */
  'message'?: (string);
  '_egressPort'?: "egressPort";
  '_lastReload'?: "lastReload";
  '_message'?: "message";
}

/**
 * The node's L7 proxy (HAProxy, its own process), as this agent drives it.
 */
export interface _agent_AgentStatus_Proxy__Output {
  'state': (_agent_AgentStatus_Proxy_State__Output);
  'ingressPort': (number);
  'egressPort'?: (number);
  /**
   * L7 redirects (endpoint, port, peer identity) in the proxy's rules.
   */
  'redirects': (number);
  /**
   * Configurations rendered and reloads asked of the proxy since the agent started.
   */
  'renders': (number);
  'reloads': (number);
  'lastReload'?: (string);
  /**
   * Why the last update failed (it is retried every second).
   */
  'message'?: (string);
  '_egressPort'?: "egressPort";
  '_lastReload'?: "lastReload";
  '_message'?: "message";
}

// Original file: api/agent/agent.proto

export const _agent_AgentStatus_Kvstore_State = {
  ok: 'ok',
  unreachable: 'unreachable',
  disabled: 'disabled',
} as const;

export type _agent_AgentStatus_Kvstore_State =
  | 'ok'
  | 0
  | 'unreachable'
  | 1
  | 'disabled'
  | 2

export type _agent_AgentStatus_Kvstore_State__Output = typeof _agent_AgentStatus_Kvstore_State[keyof typeof _agent_AgentStatus_Kvstore_State]

// Original file: api/agent/agent.proto

export const _agent_AgentStatus_Kubernetes_State = {
  ok: 'ok',
  unreachable: 'unreachable',
  disabled: 'disabled',
} as const;

export type _agent_AgentStatus_Kubernetes_State =
  | 'ok'
  | 0
  | 'unreachable'
  | 1
  | 'disabled'
  | 2

export type _agent_AgentStatus_Kubernetes_State__Output = typeof _agent_AgentStatus_Kubernetes_State[keyof typeof _agent_AgentStatus_Kubernetes_State]

// Original file: api/agent/agent.proto

export const _agent_AgentStatus_Datapath_State = {
  ok: 'ok',
  failed: 'failed',
  /**
   * A program the agent attached is gone or replaced, or a pinned map cannot be opened or
   * has another size than the agent made it; message says which.
   */
  degraded: 'degraded',
} as const;

export type _agent_AgentStatus_Datapath_State =
  | 'ok'
  | 0
  | 'failed'
  | 1
  /**
   * A program the agent attached is gone or replaced, or a pinned map cannot be opened or
   * has another size than the agent made it; message says which.
   */
  | 'degraded'
  | 2

export type _agent_AgentStatus_Datapath_State__Output = typeof _agent_AgentStatus_Datapath_State[keyof typeof _agent_AgentStatus_Datapath_State]

// Original file: api/agent/agent.proto

export const _agent_AgentStatus_Proxy_State = {
  ok: 'ok',
  failing: 'failing',
} as const;

export type _agent_AgentStatus_Proxy_State =
  | 'ok'
  | 0
  | 'failing'
  | 1

export type _agent_AgentStatus_Proxy_State__Output = typeof _agent_AgentStatus_Proxy_State[keyof typeof _agent_AgentStatus_Proxy_State]

export interface AgentStatus {
  'node'?: (string);
  'lab'?: (string);
  'version'?: (string);
  'health'?: (_agent_Health);
  'uptimeSeconds'?: (number | string);
  'pid'?: (number);
  'nodeIP'?: (string);
  /**
   * The node's pod CIDR, claimed from the cluster pool.
   */
  'podCIDR'?: (string);
  /**
   * Name of the CNI network this agent serves (the conflist's `name`).
   */
  'cniNetwork'?: (string);
  'ipam'?: (_agent_AgentStatus_Ipam | null);
  'kvstore'?: (_agent_AgentStatus_Kvstore | null);
  'datapath'?: (_agent_AgentStatus_Datapath | null);
  'endpoints'?: (_agent_AgentStatus_Count | null);
  /**
   * Other nodes this agent has programmed.
   */
  'nodes'?: (_agent_AgentStatus_Count | null);
  /**
   * Absent: the agent has no L7 proxy configured.
   */
  'proxy'?: (_agent_AgentStatus_Proxy | null);
  /**
   * The DNS proxy in this agent (DNS rules, toFQDNs); absent: not configured.
   */
  'dnsProxy'?: (_agent_DnsProxyStatus | null);
  /**
   * The periodic comparison of the datapath maps with the model; absent: no datapath maps to compare.
   */
  'resync'?: (_agent_DatapathResync | null);
  /**
   * Host-netns mode (`beeline agent --host-netns`): the agent runs in, and may change, the
   * machine's root network namespace, as on a real node. False in the lab (node namespaces).
   */
  'hostNetns'?: (boolean);
  /**
   * The agent's network namespace as `net:[inode]` (readlink /proc/self/ns/net): the CNI plugin
   * runs in the root namespace only beside a host-netns agent in this very namespace.
   */
  'netns'?: (string);
  /**
   * Kubernetes mode (the agent watches the API server, not the kvstore): whether the API server
   * answers, and where it is; absent in kvstore mode (kvstore is then `disabled` instead).
   */
  'kubernetes'?: (_agent_AgentStatus_Kubernetes | null);
  '_proxy'?: "proxy";
  '_dnsProxy'?: "dnsProxy";
  '_resync'?: "resync";
  '_kubernetes'?: "kubernetes";
}

export interface AgentStatus__Output {
  'node': (string);
  'lab': (string);
  'version': (string);
  'health': (_agent_Health__Output);
  'uptimeSeconds': (number);
  'pid': (number);
  'nodeIP': (string);
  /**
   * The node's pod CIDR, claimed from the cluster pool.
   */
  'podCIDR': (string);
  /**
   * Name of the CNI network this agent serves (the conflist's `name`).
   */
  'cniNetwork': (string);
  'ipam': (_agent_AgentStatus_Ipam__Output | null);
  'kvstore': (_agent_AgentStatus_Kvstore__Output | null);
  'datapath': (_agent_AgentStatus_Datapath__Output | null);
  'endpoints': (_agent_AgentStatus_Count__Output | null);
  /**
   * Other nodes this agent has programmed.
   */
  'nodes': (_agent_AgentStatus_Count__Output | null);
  /**
   * Absent: the agent has no L7 proxy configured.
   */
  'proxy'?: (_agent_AgentStatus_Proxy__Output | null);
  /**
   * The DNS proxy in this agent (DNS rules, toFQDNs); absent: not configured.
   */
  'dnsProxy'?: (_agent_DnsProxyStatus__Output | null);
  /**
   * The periodic comparison of the datapath maps with the model; absent: no datapath maps to compare.
   */
  'resync'?: (_agent_DatapathResync__Output | null);
  /**
   * Host-netns mode (`beeline agent --host-netns`): the agent runs in, and may change, the
   * machine's root network namespace, as on a real node. False in the lab (node namespaces).
   */
  'hostNetns': (boolean);
  /**
   * The agent's network namespace as `net:[inode]` (readlink /proc/self/ns/net): the CNI plugin
   * runs in the root namespace only beside a host-netns agent in this very namespace.
   */
  'netns': (string);
  /**
   * Kubernetes mode (the agent watches the API server, not the kvstore): whether the API server
   * answers, and where it is; absent in kvstore mode (kvstore is then `disabled` instead).
   */
  'kubernetes'?: (_agent_AgentStatus_Kubernetes__Output | null);
  '_proxy'?: "proxy";
  '_dnsProxy'?: "dnsProxy";
  '_resync'?: "resync";
  '_kubernetes'?: "kubernetes";
}

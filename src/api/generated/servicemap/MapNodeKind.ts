// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/servicemap/servicemap.proto

export const MapNodeKind = {
  MAP_NODE_UNKNOWN: 'MAP_NODE_UNKNOWN',
  /**
   * Pods grouped by their workload (Deployment, ...) or by pod when they have none.
   */
  WORKLOAD: 'WORKLOAD',
  SERVICE: 'SERVICE',
  /**
   * world, host, remote-node, kube-apiserver, health: reserved identities.
   */
  RESERVED: 'RESERVED',
  /**
   * An outside peer known by a DNS name.
   */
  FQDN: 'FQDN',
  /**
   * An outside peer known only by its address.
   */
  IP: 'IP',
} as const;

export type MapNodeKind =
  | 'MAP_NODE_UNKNOWN'
  | 0
  /**
   * Pods grouped by their workload (Deployment, ...) or by pod when they have none.
   */
  | 'WORKLOAD'
  | 1
  | 'SERVICE'
  | 2
  /**
   * world, host, remote-node, kube-apiserver, health: reserved identities.
   */
  | 'RESERVED'
  | 3
  /**
   * An outside peer known by a DNS name.
   */
  | 'FQDN'
  | 4
  /**
   * An outside peer known only by its address.
   */
  | 'IP'
  | 5

export type MapNodeKind__Output = typeof MapNodeKind[keyof typeof MapNodeKind]

// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A policy that decided a flow.
 */
export interface Policy {
  'name'?: (string);
  'namespace'?: (string);
  /**
   * The policy's derived-from labels (io.cilium.k8s.policy.name=..., ...).
   */
  'labels'?: (string)[];
  'revision'?: (number | string | Long);
  /**
   * NetworkPolicy, CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy.
   */
  'kind'?: (string);
}

/**
 * A policy that decided a flow.
 */
export interface Policy__Output {
  'name': (string);
  'namespace': (string);
  /**
   * The policy's derived-from labels (io.cilium.k8s.policy.name=..., ...).
   */
  'labels': (string)[];
  'revision': (string);
  /**
   * NetworkPolicy, CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy.
   */
  'kind': (string);
}

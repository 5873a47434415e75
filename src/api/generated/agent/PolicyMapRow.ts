// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { Long } from '@grpc/proto-loader';

/**
 * An entry of the policy map, with the policies behind its cookie.
 */
export interface PolicyMapRow {
  /**
   * ingress or egress.
   */
  'direction'?: (string);
  /**
   * The peer's security identity; 0: any.
   */
  'identity'?: (number);
  /**
   * IPPROTO_*; 0: any.
   */
  'protocol'?: (number);
  'port'?: (number);
  'portPrefixLen'?: (number);
  /**
   * allow, deny or default-deny.
   */
  'verdict'?: (string);
  'cookie'?: (number);
  /**
   * The endpoint the entry belongs to.
   */
  'endpoint'?: (number);
  'proxyPort'?: (number);
  'packets'?: (number | string | Long);
  'bytes'?: (number | string | Long);
  'policies'?: (string)[];
  /**
   * BL_POLICY_F_AUTH_REQUIRED: allowed only mutually authenticated; absent: false.
   */
  'authRequired'?: (boolean);
  '_authRequired'?: "authRequired";
}

/**
 * An entry of the policy map, with the policies behind its cookie.
 */
export interface PolicyMapRow__Output {
  /**
   * ingress or egress.
   */
  'direction': (string);
  /**
   * The peer's security identity; 0: any.
   */
  'identity': (number);
  /**
   * IPPROTO_*; 0: any.
   */
  'protocol': (number);
  'port': (number);
  'portPrefixLen': (number);
  /**
   * allow, deny or default-deny.
   */
  'verdict': (string);
  'cookie': (number);
  /**
   * The endpoint the entry belongs to.
   */
  'endpoint': (number);
  'proxyPort': (number);
  'packets': (string);
  'bytes': (string);
  'policies': (string)[];
  /**
   * BL_POLICY_F_AUTH_REQUIRED: allowed only mutually authenticated; absent: false.
   */
  'authRequired'?: (boolean);
  '_authRequired'?: "authRequired";
}

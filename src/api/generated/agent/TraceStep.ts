// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { PolicyEntry as _agent_PolicyEntry, PolicyEntry__Output as _agent_PolicyEntry__Output } from '../agent/PolicyEntry.js';
import type { PolicyOrigin as _agent_PolicyOrigin, PolicyOrigin__Output as _agent_PolicyOrigin__Output } from '../agent/PolicyOrigin.js';
import type { TraceRedirect as _agent_TraceRedirect, TraceRedirect__Output as _agent_TraceRedirect__Output } from '../agent/TraceRedirect.js';

/**
 * One direction of a trace: the lookup in an endpoint's policy.
 */
export interface TraceStep {
  /**
   * ingress or egress.
   */
  'direction'?: (string);
  'endpointId'?: (number);
  'peerIdentity'?: (number);
  'enforced'?: (boolean);
  'defaultDeny'?: (boolean);
  /**
   * allowed or denied.
   */
  'verdict'?: (string);
  /**
   * 181 policy deny, 133 default deny; absent when allowed.
   */
  'dropReason'?: (number);
  'match'?: (string);
  /**
   * The deciding map entry, if any.
   */
  'entry'?: (_agent_PolicyEntry | null);
  'origins'?: (_agent_PolicyOrigin)[];
  /**
   * Printable forms of origins.
   */
  'by'?: (string)[];
  /**
   * The deciding entry redirects to the node proxy (absent: it does not).
   */
  'redirect'?: (_agent_TraceRedirect | null);
  /**
   * Allowed only mutually authenticated (authentication.mode required; else dropped with 189); absent: false.
   */
  'authRequired'?: (boolean);
  '_dropReason'?: "dropReason";
  '_authRequired'?: "authRequired";
}

/**
 * One direction of a trace: the lookup in an endpoint's policy.
 */
export interface TraceStep__Output {
  /**
   * ingress or egress.
   */
  'direction': (string);
  'endpointId': (number);
  'peerIdentity': (number);
  'enforced': (boolean);
  'defaultDeny': (boolean);
  /**
   * allowed or denied.
   */
  'verdict': (string);
  /**
   * 181 policy deny, 133 default deny; absent when allowed.
   */
  'dropReason'?: (number);
  'match': (string);
  /**
   * The deciding map entry, if any.
   */
  'entry': (_agent_PolicyEntry__Output | null);
  'origins': (_agent_PolicyOrigin__Output)[];
  /**
   * Printable forms of origins.
   */
  'by': (string)[];
  /**
   * The deciding entry redirects to the node proxy (absent: it does not).
   */
  'redirect': (_agent_TraceRedirect__Output | null);
  /**
   * Allowed only mutually authenticated (authentication.mode required; else dropped with 189); absent: false.
   */
  'authRequired'?: (boolean);
  '_dropReason'?: "dropReason";
  '_authRequired'?: "authRequired";
}

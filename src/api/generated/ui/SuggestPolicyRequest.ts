// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/ui/ui.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../google/protobuf/Timestamp.js';

export interface SuggestPolicyRequest {
  'namespace'?: (string);
  /**
   * Pods by name, or a label selector (`app=web`): one of the two.
   */
  'pods'?: (string)[];
  'labels'?: ({[key: string]: string});
  /**
   * cnp (default) or knp.
   */
  'kind'?: (string);
  'l7'?: (boolean);
  /**
   * The window of observed flows (default: the last hour).
   */
  'since'?: (_google_protobuf_Timestamp | null);
}

export interface SuggestPolicyRequest__Output {
  'namespace': (string);
  /**
   * Pods by name, or a label selector (`app=web`): one of the two.
   */
  'pods': (string)[];
  'labels': ({[key: string]: string});
  /**
   * cnp (default) or knp.
   */
  'kind': (string);
  'l7': (boolean);
  /**
   * The window of observed flows (default: the last hour).
   */
  'since': (_google_protobuf_Timestamp__Output | null);
}

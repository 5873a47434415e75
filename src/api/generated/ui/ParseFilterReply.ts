// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/ui/ui.proto

import type { FlowFilter as _flow_FlowFilter, FlowFilter__Output as _flow_FlowFilter__Output } from '../flow/FlowFilter.js';

export interface ParseFilterReply {
  'whitelist'?: (_flow_FlowFilter)[];
  'blacklist'?: (_flow_FlowFilter)[];
  /**
   * The filter as `observe` flags (what the shorthands meant).
   */
  'flags'?: (string);
}

export interface ParseFilterReply__Output {
  'whitelist': (_flow_FlowFilter__Output)[];
  'blacklist': (_flow_FlowFilter__Output)[];
  /**
   * The filter as `observe` flags (what the shorthands meant).
   */
  'flags': (string);
}

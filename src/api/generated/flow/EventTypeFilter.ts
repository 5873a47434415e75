// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto


/**
 * Matches a flow's event_type; sub_type only when match_sub_type is set (0 is a valid sub-type).
 */
export interface EventTypeFilter {
  'type'?: (number);
  'match_sub_type'?: (boolean);
  'sub_type'?: (number);
}

/**
 * Matches a flow's event_type; sub_type only when match_sub_type is set (0 is a valid sub-type).
 */
export interface EventTypeFilter__Output {
  'type': (number);
  'match_sub_type': (boolean);
  'sub_type': (number);
}

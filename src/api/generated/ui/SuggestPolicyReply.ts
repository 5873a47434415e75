// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/ui/ui.proto

import type { SuggestedRule as _ui_SuggestedRule, SuggestedRule__Output as _ui_SuggestedRule__Output } from '../ui/SuggestedRule.js';

export interface SuggestPolicyReply {
  /**
   * The policies as YAML documents, each rule preceded by the comment that explains it.
   */
  'yaml'?: (string);
  'rules'?: (_ui_SuggestedRule)[];
  'warnings'?: (string)[];
  /**
   * Flows read from the relay for the suggestion.
   */
  'flows'?: (number);
}

export interface SuggestPolicyReply__Output {
  /**
   * The policies as YAML documents, each rule preceded by the comment that explains it.
   */
  'yaml': (string);
  'rules': (_ui_SuggestedRule__Output)[];
  'warnings': (string)[];
  /**
   * Flows read from the relay for the suggestion.
   */
  'flows': (number);
}

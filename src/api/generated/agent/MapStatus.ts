// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


export interface MapStatus {
  'name'?: (string);
  'type'?: (string);
  'maxEntries'?: (number);
  /**
   * Absent when the caller asked for none (?maps=0).
   */
  'entries'?: (number | string);
  '_entries'?: "entries";
}

export interface MapStatus__Output {
  'name': (string);
  'type': (string);
  'maxEntries': (number);
  /**
   * Absent when the caller asked for none (?maps=0).
   */
  'entries'?: (number);
  '_entries'?: "entries";
}

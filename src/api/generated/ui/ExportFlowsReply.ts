// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/ui/ui.proto


export interface ExportFlowsReply {
  /**
   * One JSON object per line.
   */
  'jsonl'?: (string);
}

export interface ExportFlowsReply__Output {
  /**
   * One JSON object per line.
   */
  'jsonl': (string);
}

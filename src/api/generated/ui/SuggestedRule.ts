// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/ui/ui.proto


export interface SuggestedRule {
  'policy'?: (string);
  'direction'?: (string);
  'index'?: (number);
  'peer'?: (string);
  'ports'?: (string)[];
  'flows'?: (number);
  'example'?: (string);
}

export interface SuggestedRule__Output {
  'policy': (string);
  'direction': (string);
  'index': (number);
  'peer': (string);
  'ports': (string)[];
  'flows': (number);
  'example': (string);
}

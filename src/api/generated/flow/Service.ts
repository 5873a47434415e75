// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto


/**
 * A Service a flow was translated for.
 */
export interface Service {
  'name'?: (string);
  'namespace'?: (string);
}

/**
 * A Service a flow was translated for.
 */
export interface Service__Output {
  'name': (string);
  'namespace': (string);
}

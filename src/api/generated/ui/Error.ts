// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/ui/ui.proto


export interface Error {
  /**
   * A stable code (docs/errors.md): BL_ERR_….
   */
  'code'?: (string);
  'message'?: (string);
  'hint'?: (string);
}

export interface Error__Output {
  /**
   * A stable code (docs/errors.md): BL_ERR_….
   */
  'code': (string);
  'message': (string);
  'hint': (string);
}

// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/ui/ui.proto

import type { Error as _ui_Error, Error__Output as _ui_Error__Output } from '../ui/Error.js';

/**
 * The last line of a stream that failed after it started.
 */
export interface StreamTrailer {
  'error'?: (_ui_Error | null);
}

/**
 * The last line of a stream that failed after it started.
 */
export interface StreamTrailer__Output {
  'error': (_ui_Error__Output | null);
}

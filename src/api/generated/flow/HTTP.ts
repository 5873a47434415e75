// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto

import type { HTTPHeader as _flow_HTTPHeader, HTTPHeader__Output as _flow_HTTPHeader__Output } from '../flow/HTTPHeader.js';

export interface HTTP {
  'code'?: (number);
  'method'?: (string);
  'url'?: (string);
  'protocol'?: (string);
  'headers'?: (_flow_HTTPHeader)[];
}

export interface HTTP__Output {
  'code': (number);
  'method': (string);
  'url': (string);
  'protocol': (string);
  'headers': (_flow_HTTPHeader__Output)[];
}

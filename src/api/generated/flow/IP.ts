// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto

import type { IPVersion as _flow_IPVersion, IPVersion__Output as _flow_IPVersion__Output } from '../flow/IPVersion.js';

export interface IP {
  'source'?: (string);
  'destination'?: (string);
  'ipVersion'?: (_flow_IPVersion);
  'encrypted'?: (boolean);
}

export interface IP__Output {
  'source': (string);
  'destination': (string);
  'ipVersion': (_flow_IPVersion__Output);
  'encrypted': (boolean);
}

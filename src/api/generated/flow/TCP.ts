// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto

import type { TCPFlags as _flow_TCPFlags, TCPFlags__Output as _flow_TCPFlags__Output } from '../flow/TCPFlags.js';

export interface TCP {
  'source_port'?: (number);
  'destination_port'?: (number);
  'flags'?: (_flow_TCPFlags | null);
}

export interface TCP__Output {
  'source_port': (number);
  'destination_port': (number);
  'flags': (_flow_TCPFlags__Output | null);
}

// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto

import type { TCP as _flow_TCP, TCP__Output as _flow_TCP__Output } from '../flow/TCP.js';
import type { UDP as _flow_UDP, UDP__Output as _flow_UDP__Output } from '../flow/UDP.js';
import type { ICMPv4 as _flow_ICMPv4, ICMPv4__Output as _flow_ICMPv4__Output } from '../flow/ICMPv4.js';
import type { ICMPv6 as _flow_ICMPv6, ICMPv6__Output as _flow_ICMPv6__Output } from '../flow/ICMPv6.js';
import type { SCTP as _flow_SCTP, SCTP__Output as _flow_SCTP__Output } from '../flow/SCTP.js';

export interface Layer4 {
  'TCP'?: (_flow_TCP | null);
  'UDP'?: (_flow_UDP | null);
  'ICMPv4'?: (_flow_ICMPv4 | null);
  'ICMPv6'?: (_flow_ICMPv6 | null);
  'SCTP'?: (_flow_SCTP | null);
  'protocol'?: "TCP"|"UDP"|"ICMPv4"|"ICMPv6"|"SCTP";
}

export interface Layer4__Output {
  'TCP'?: (_flow_TCP__Output | null);
  'UDP'?: (_flow_UDP__Output | null);
  'ICMPv4'?: (_flow_ICMPv4__Output | null);
  'ICMPv6'?: (_flow_ICMPv6__Output | null);
  'SCTP'?: (_flow_SCTP__Output | null);
  'protocol'?: "TCP"|"UDP"|"ICMPv4"|"ICMPv6"|"SCTP";
}

// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto


/**
 * The datapath event a flow came from: type 1 drop, 4 trace, 5 policy verdict,
 * 129 L7 record (Cilium's MessageType numbers); sub_type the drop reason or
 * trace observation point.
 */
export interface CiliumEventType {
  'type'?: (number);
  'sub_type'?: (number);
}

/**
 * The datapath event a flow came from: type 1 drop, 4 trace, 5 policy verdict,
 * 129 L7 record (Cilium's MessageType numbers); sub_type the drop reason or
 * trace observation point.
 */
export interface CiliumEventType__Output {
  'type': (number);
  'sub_type': (number);
}

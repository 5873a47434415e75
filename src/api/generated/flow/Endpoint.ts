// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto

import type { Workload as _flow_Workload, Workload__Output as _flow_Workload__Output } from '../flow/Workload.js';

export interface Endpoint {
  /**
   * The endpoint id on its node (0: not a local endpoint of the observing node).
   */
  'ID'?: (number);
  /**
   * The security identity.
   */
  'identity'?: (number);
  'namespace'?: (string);
  /**
   * Labels as `source:key=value` (k8s:app=web, reserved:world).
   */
  'labels'?: (string)[];
  'pod_name'?: (string);
  'workloads'?: (_flow_Workload)[];
}

export interface Endpoint__Output {
  /**
   * The endpoint id on its node (0: not a local endpoint of the observing node).
   */
  'ID': (number);
  /**
   * The security identity.
   */
  'identity': (number);
  'namespace': (string);
  /**
   * Labels as `source:key=value` (k8s:app=web, reserved:world).
   */
  'labels': (string)[];
  'pod_name': (string);
  'workloads': (_flow_Workload__Output)[];
}

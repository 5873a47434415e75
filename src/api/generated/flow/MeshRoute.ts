// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto


/**
 * An HTTP request the node proxy routed by an HTTPRoute with a Service
 * parent (GAMMA; docs/mesh.md "Routes").
 */
export interface MeshRoute {
  /**
   * The HTTPRoute, namespace/name.
   */
  'route'?: (string);
  /**
   * The index of the rule in spec.rules that matched.
   */
  'rule'?: (number);
  /**
   * The backend Service the request was sent to, namespace/name; empty when
   * the proxy answered itself (no rule matched, an invalid backendRef).
   */
  'backend'?: (string);
  /**
   * The server (backend endpoint) that answered, address:port.
   */
  'server'?: (string);
  /**
   * Times the proxy retried the request (HAProxy %rc).
   */
  'retries'?: (number);
}

/**
 * An HTTP request the node proxy routed by an HTTPRoute with a Service
 * parent (GAMMA; docs/mesh.md "Routes").
 */
export interface MeshRoute__Output {
  /**
   * The HTTPRoute, namespace/name.
   */
  'route': (string);
  /**
   * The index of the rule in spec.rules that matched.
   */
  'rule': (number);
  /**
   * The backend Service the request was sent to, namespace/name; empty when
   * the proxy answered itself (no rule matched, an invalid backendRef).
   */
  'backend': (string);
  /**
   * The server (backend endpoint) that answered, address:port.
   */
  'server': (string);
  /**
   * Times the proxy retried the request (HAProxy %rc).
   */
  'retries': (number);
}

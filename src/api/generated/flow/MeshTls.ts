// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto


/**
 * The mutual-TLS transport a flow came over (beeline extension).
 */
export interface MeshTls {
  /**
   * The client's SPIFFE ID (spiffe://<trust-domain>/ns/<ns>/sa/<sa>), from
   * the certificate its node proxy presented and the server's verified.
   */
  'peer_spiffe_id'?: (string);
  /**
   * On the flow of a connection refused at the handshake: why (the proxy's
   * reason, e.g. "SSL client certificate not trusted").
   */
  'refusal'?: (string);
}

/**
 * The mutual-TLS transport a flow came over (beeline extension).
 */
export interface MeshTls__Output {
  /**
   * The client's SPIFFE ID (spiffe://<trust-domain>/ns/<ns>/sa/<sa>), from
   * the certificate its node proxy presented and the server's verified.
   */
  'peer_spiffe_id': (string);
  /**
   * On the flow of a connection refused at the handshake: why (the proxy's
   * reason, e.g. "SSL client certificate not trusted").
   */
  'refusal': (string);
}

// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


/**
 * An entry of the ipcache map (bl_ipcache).
 */
export interface IpcacheRow {
  'prefix'?: (string);
  'identity'?: (number);
  'tunnelEndpoint'?: (string);
  'nodeId'?: (number);
  /**
   * BL_IPCACHE_F_AUTH_REQUIRED: the endpoint requires mutual authentication; absent: false.
   */
  'authRequired'?: (boolean);
  '_authRequired'?: "authRequired";
}

/**
 * An entry of the ipcache map (bl_ipcache).
 */
export interface IpcacheRow__Output {
  'prefix': (string);
  'identity': (number);
  'tunnelEndpoint': (string);
  'nodeId': (number);
  /**
   * BL_IPCACHE_F_AUTH_REQUIRED: the endpoint requires mutual authentication; absent: false.
   */
  'authRequired'?: (boolean);
  '_authRequired'?: "authRequired";
}

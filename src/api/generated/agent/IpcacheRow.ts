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
}

/**
 * An entry of the ipcache map (bl_ipcache).
 */
export interface IpcacheRow__Output {
  'prefix': (string);
  'identity': (number);
  'tunnelEndpoint': (string);
  'nodeId': (number);
}

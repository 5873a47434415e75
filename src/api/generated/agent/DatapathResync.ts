// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


export interface _agent_DatapathResync_Repair {
  'at'?: (string);
  'repaired'?: ({[key: string]: number});
}

export interface _agent_DatapathResync_Repair__Output {
  'at': (string);
  'repaired': ({[key: string]: number});
}

/**
 * The agent's periodic datapath resync (src/agent/resync.ts): drift found and repaired per map.
 */
export interface DatapathResync {
  'intervalMs'?: (number);
  'runs'?: (number);
  'lastRun'?: (string);
  /**
   * Entries repaired since the agent started, per map (ipcache, lb, policy).
   */
  'repaired'?: ({[key: string]: number});
  /**
   * The last run that repaired something.
   */
  'lastRepair'?: (_agent_DatapathResync_Repair | null);
  'lastError'?: (string);
  '_lastRun'?: "lastRun";
  '_lastRepair'?: "lastRepair";
  '_lastError'?: "lastError";
}

/**
 * The agent's periodic datapath resync (src/agent/resync.ts): drift found and repaired per map.
 */
export interface DatapathResync__Output {
  'intervalMs': (number);
  'runs': (number);
  'lastRun'?: (string);
  /**
   * Entries repaired since the agent started, per map (ipcache, lb, policy).
   */
  'repaired': ({[key: string]: number});
  /**
   * The last run that repaired something.
   */
  'lastRepair'?: (_agent_DatapathResync_Repair__Output | null);
  'lastError'?: (string);
  '_lastRun'?: "lastRun";
  '_lastRepair'?: "lastRepair";
  '_lastError'?: "lastError";
}

// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


/**
 * Milliseconds of a flush's stages.
 */
export interface LbSyncStages {
  /**
   * Translation of Services and EndpointSlices into frontends and backends.
   */
  'translateMs'?: (number | string);
  /**
   * The full pass's reconciliation with the maps and the rows.
   */
  'reconcileMs'?: (number | string);
  /**
   * The map writes.
   */
  'writeMs'?: (number | string);
}

/**
 * Milliseconds of a flush's stages.
 */
export interface LbSyncStages__Output {
  /**
   * Translation of Services and EndpointSlices into frontends and backends.
   */
  'translateMs': (number);
  /**
   * The full pass's reconciliation with the maps and the rows.
   */
  'reconcileMs': (number);
  /**
   * The map writes.
   */
  'writeMs': (number);
}

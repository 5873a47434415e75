// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


/**
 * A line of GET /v1/monitor (NDJSON; outside the rpc table, see the top).
 */
export interface MonitorLine {
  'node'?: (string);
  /**
   * base64 of the event record as read from bl_events.
   */
  'data'?: (string);
  /**
   * Events the kernel could not queue since the last line.
   */
  'lost'?: (number | string);
  '_data'?: "data";
  '_lost'?: "lost";
}

/**
 * A line of GET /v1/monitor (NDJSON; outside the rpc table, see the top).
 */
export interface MonitorLine__Output {
  'node': (string);
  /**
   * base64 of the event record as read from bl_events.
   */
  'data'?: (string);
  /**
   * Events the kernel could not queue since the last line.
   */
  'lost'?: (number);
  '_data'?: "data";
  '_lost'?: "lost";
}

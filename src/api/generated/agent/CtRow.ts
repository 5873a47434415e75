// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A connection-tracking entry.
 */
export interface CtRow {
  'proto'?: (string);
  /**
   * OUT, IN, SERVICE or UNKNOWN.
   */
  'direction'?: (string);
  'src'?: (string);
  'dst'?: (string);
  /**
   * Seconds until it expires (negative: expired, waiting for GC).
   */
  'expiresIn'?: (number | string);
  'txPackets'?: (number | string | Long);
  'txBytes'?: (number | string | Long);
  'rxPackets'?: (number | string | Long);
  'rxBytes'?: (number | string | Long);
  'txFlagsSeen'?: (number);
  'rxFlagsSeen'?: (number);
  'flags'?: (string)[];
  /**
   * The service a translated connection was sent through (0: none).
   */
  'revNat'?: (number);
  'backendId'?: (number);
}

/**
 * A connection-tracking entry.
 */
export interface CtRow__Output {
  'proto': (string);
  /**
   * OUT, IN, SERVICE or UNKNOWN.
   */
  'direction': (string);
  'src': (string);
  'dst': (string);
  /**
   * Seconds until it expires (negative: expired, waiting for GC).
   */
  'expiresIn': (number);
  'txPackets': (string);
  'txBytes': (string);
  'rxPackets': (string);
  'rxBytes': (string);
  'txFlagsSeen': (number);
  'rxFlagsSeen': (number);
  'flags': (string)[];
  /**
   * The service a translated connection was sent through (0: none).
   */
  'revNat': (number);
  'backendId': (number);
}

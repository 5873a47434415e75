// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/ui/ui.proto

import type { GetFlowsResponse as _observer_GetFlowsResponse, GetFlowsResponse__Output as _observer_GetFlowsResponse__Output } from '../observer/GetFlowsResponse.js';

export interface ExportFlowsRequest {
  'flows'?: (_observer_GetFlowsResponse)[];
}

export interface ExportFlowsRequest__Output {
  'flows': (_observer_GetFlowsResponse__Output)[];
}

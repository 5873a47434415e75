// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/ui/ui.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ExportFlowsReply as _ui_ExportFlowsReply, ExportFlowsReply__Output as _ui_ExportFlowsReply__Output } from '../ui/ExportFlowsReply.js';
import type { ExportFlowsRequest as _ui_ExportFlowsRequest, ExportFlowsRequest__Output as _ui_ExportFlowsRequest__Output } from '../ui/ExportFlowsRequest.js';
import type { GetConfigRequest as _ui_GetConfigRequest, GetConfigRequest__Output as _ui_GetConfigRequest__Output } from '../ui/GetConfigRequest.js';
import type { ParseFilterReply as _ui_ParseFilterReply, ParseFilterReply__Output as _ui_ParseFilterReply__Output } from '../ui/ParseFilterReply.js';
import type { ParseFilterRequest as _ui_ParseFilterRequest, ParseFilterRequest__Output as _ui_ParseFilterRequest__Output } from '../ui/ParseFilterRequest.js';
import type { SuggestPolicyReply as _ui_SuggestPolicyReply, SuggestPolicyReply__Output as _ui_SuggestPolicyReply__Output } from '../ui/SuggestPolicyReply.js';
import type { SuggestPolicyRequest as _ui_SuggestPolicyRequest, SuggestPolicyRequest__Output as _ui_SuggestPolicyRequest__Output } from '../ui/SuggestPolicyRequest.js';
import type { UiConfig as _ui_UiConfig, UiConfig__Output as _ui_UiConfig__Output } from '../ui/UiConfig.js';

export interface UiClient extends grpc.Client {
  /**
   * Flows the app holds, as Hubble's JSON lines (`hubble observe -o json`).
   */
  ExportFlows(argument: _ui_ExportFlowsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_ui_ExportFlowsReply__Output>): grpc.ClientUnaryCall;
  ExportFlows(argument: _ui_ExportFlowsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_ui_ExportFlowsReply__Output>): grpc.ClientUnaryCall;
  ExportFlows(argument: _ui_ExportFlowsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_ui_ExportFlowsReply__Output>): grpc.ClientUnaryCall;
  ExportFlows(argument: _ui_ExportFlowsRequest, callback: grpc.requestCallback<_ui_ExportFlowsReply__Output>): grpc.ClientUnaryCall;
  /**
   * Flows the app holds, as Hubble's JSON lines (`hubble observe -o json`).
   */
  exportFlows(argument: _ui_ExportFlowsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_ui_ExportFlowsReply__Output>): grpc.ClientUnaryCall;
  exportFlows(argument: _ui_ExportFlowsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_ui_ExportFlowsReply__Output>): grpc.ClientUnaryCall;
  exportFlows(argument: _ui_ExportFlowsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_ui_ExportFlowsReply__Output>): grpc.ClientUnaryCall;
  exportFlows(argument: _ui_ExportFlowsRequest, callback: grpc.requestCallback<_ui_ExportFlowsReply__Output>): grpc.ClientUnaryCall;
  
  /**
   * Where the server gets its data, for the app's header and error states.
   */
  GetConfig(argument: _ui_GetConfigRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_ui_UiConfig__Output>): grpc.ClientUnaryCall;
  GetConfig(argument: _ui_GetConfigRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_ui_UiConfig__Output>): grpc.ClientUnaryCall;
  GetConfig(argument: _ui_GetConfigRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_ui_UiConfig__Output>): grpc.ClientUnaryCall;
  GetConfig(argument: _ui_GetConfigRequest, callback: grpc.requestCallback<_ui_UiConfig__Output>): grpc.ClientUnaryCall;
  /**
   * Where the server gets its data, for the app's header and error states.
   */
  getConfig(argument: _ui_GetConfigRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_ui_UiConfig__Output>): grpc.ClientUnaryCall;
  getConfig(argument: _ui_GetConfigRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_ui_UiConfig__Output>): grpc.ClientUnaryCall;
  getConfig(argument: _ui_GetConfigRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_ui_UiConfig__Output>): grpc.ClientUnaryCall;
  getConfig(argument: _ui_GetConfigRequest, callback: grpc.requestCallback<_ui_UiConfig__Output>): grpc.ClientUnaryCall;
  
  /**
   * A filter in `observe`'s language (its filter flags, or `from:pod=x`
   * shorthands) into the FlowFilter lists a GetFlows or GetServiceMap
   * request takes; bad input is a 400 naming the flag.
   */
  ParseFilter(argument: _ui_ParseFilterRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_ui_ParseFilterReply__Output>): grpc.ClientUnaryCall;
  ParseFilter(argument: _ui_ParseFilterRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_ui_ParseFilterReply__Output>): grpc.ClientUnaryCall;
  ParseFilter(argument: _ui_ParseFilterRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_ui_ParseFilterReply__Output>): grpc.ClientUnaryCall;
  ParseFilter(argument: _ui_ParseFilterRequest, callback: grpc.requestCallback<_ui_ParseFilterReply__Output>): grpc.ClientUnaryCall;
  /**
   * A filter in `observe`'s language (its filter flags, or `from:pod=x`
   * shorthands) into the FlowFilter lists a GetFlows or GetServiceMap
   * request takes; bad input is a 400 naming the flag.
   */
  parseFilter(argument: _ui_ParseFilterRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_ui_ParseFilterReply__Output>): grpc.ClientUnaryCall;
  parseFilter(argument: _ui_ParseFilterRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_ui_ParseFilterReply__Output>): grpc.ClientUnaryCall;
  parseFilter(argument: _ui_ParseFilterRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_ui_ParseFilterReply__Output>): grpc.ClientUnaryCall;
  parseFilter(argument: _ui_ParseFilterRequest, callback: grpc.requestCallback<_ui_ParseFilterReply__Output>): grpc.ClientUnaryCall;
  
  /**
   * `beeline policy suggest` for one workload, over the relay's flows.
   */
  SuggestPolicy(argument: _ui_SuggestPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_ui_SuggestPolicyReply__Output>): grpc.ClientUnaryCall;
  SuggestPolicy(argument: _ui_SuggestPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_ui_SuggestPolicyReply__Output>): grpc.ClientUnaryCall;
  SuggestPolicy(argument: _ui_SuggestPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_ui_SuggestPolicyReply__Output>): grpc.ClientUnaryCall;
  SuggestPolicy(argument: _ui_SuggestPolicyRequest, callback: grpc.requestCallback<_ui_SuggestPolicyReply__Output>): grpc.ClientUnaryCall;
  /**
   * `beeline policy suggest` for one workload, over the relay's flows.
   */
  suggestPolicy(argument: _ui_SuggestPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_ui_SuggestPolicyReply__Output>): grpc.ClientUnaryCall;
  suggestPolicy(argument: _ui_SuggestPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_ui_SuggestPolicyReply__Output>): grpc.ClientUnaryCall;
  suggestPolicy(argument: _ui_SuggestPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_ui_SuggestPolicyReply__Output>): grpc.ClientUnaryCall;
  suggestPolicy(argument: _ui_SuggestPolicyRequest, callback: grpc.requestCallback<_ui_SuggestPolicyReply__Output>): grpc.ClientUnaryCall;
  
}

export interface UiHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Flows the app holds, as Hubble's JSON lines (`hubble observe -o json`).
   */
  ExportFlows: grpc.handleUnaryCall<_ui_ExportFlowsRequest__Output, _ui_ExportFlowsReply>;
  
  /**
   * Where the server gets its data, for the app's header and error states.
   */
  GetConfig: grpc.handleUnaryCall<_ui_GetConfigRequest__Output, _ui_UiConfig>;
  
  /**
   * A filter in `observe`'s language (its filter flags, or `from:pod=x`
   * shorthands) into the FlowFilter lists a GetFlows or GetServiceMap
   * request takes; bad input is a 400 naming the flag.
   */
  ParseFilter: grpc.handleUnaryCall<_ui_ParseFilterRequest__Output, _ui_ParseFilterReply>;
  
  /**
   * `beeline policy suggest` for one workload, over the relay's flows.
   */
  SuggestPolicy: grpc.handleUnaryCall<_ui_SuggestPolicyRequest__Output, _ui_SuggestPolicyReply>;
  
}

export interface UiDefinition extends grpc.ServiceDefinition {
  ExportFlows: MethodDefinition<_ui_ExportFlowsRequest, _ui_ExportFlowsReply, _ui_ExportFlowsRequest__Output, _ui_ExportFlowsReply__Output>
  GetConfig: MethodDefinition<_ui_GetConfigRequest, _ui_UiConfig, _ui_GetConfigRequest__Output, _ui_UiConfig__Output>
  ParseFilter: MethodDefinition<_ui_ParseFilterRequest, _ui_ParseFilterReply, _ui_ParseFilterRequest__Output, _ui_ParseFilterReply__Output>
  SuggestPolicy: MethodDefinition<_ui_SuggestPolicyRequest, _ui_SuggestPolicyReply, _ui_SuggestPolicyRequest__Output, _ui_SuggestPolicyReply__Output>
}

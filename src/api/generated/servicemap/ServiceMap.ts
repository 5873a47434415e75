// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/servicemap/servicemap.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { GetServiceMapRequest as _servicemap_GetServiceMapRequest, GetServiceMapRequest__Output as _servicemap_GetServiceMapRequest__Output } from '../servicemap/GetServiceMapRequest.js';
import type { GetServiceMapResponse as _servicemap_GetServiceMapResponse, GetServiceMapResponse__Output as _servicemap_GetServiceMapResponse__Output } from '../servicemap/GetServiceMapResponse.js';

export interface ServiceMapClient extends grpc.Client {
  /**
   * The graph of the flows in [since, until) (default: the last 5 minutes).
   */
  GetServiceMap(argument: _servicemap_GetServiceMapRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_servicemap_GetServiceMapResponse__Output>): grpc.ClientUnaryCall;
  GetServiceMap(argument: _servicemap_GetServiceMapRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_servicemap_GetServiceMapResponse__Output>): grpc.ClientUnaryCall;
  GetServiceMap(argument: _servicemap_GetServiceMapRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_servicemap_GetServiceMapResponse__Output>): grpc.ClientUnaryCall;
  GetServiceMap(argument: _servicemap_GetServiceMapRequest, callback: grpc.requestCallback<_servicemap_GetServiceMapResponse__Output>): grpc.ClientUnaryCall;
  /**
   * The graph of the flows in [since, until) (default: the last 5 minutes).
   */
  getServiceMap(argument: _servicemap_GetServiceMapRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_servicemap_GetServiceMapResponse__Output>): grpc.ClientUnaryCall;
  getServiceMap(argument: _servicemap_GetServiceMapRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_servicemap_GetServiceMapResponse__Output>): grpc.ClientUnaryCall;
  getServiceMap(argument: _servicemap_GetServiceMapRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_servicemap_GetServiceMapResponse__Output>): grpc.ClientUnaryCall;
  getServiceMap(argument: _servicemap_GetServiceMapRequest, callback: grpc.requestCallback<_servicemap_GetServiceMapResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The graph now, then again every `interval_ms` (default 2000) as flows arrive.
   */
  WatchServiceMap(argument: _servicemap_GetServiceMapRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_servicemap_GetServiceMapResponse__Output>;
  WatchServiceMap(argument: _servicemap_GetServiceMapRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_servicemap_GetServiceMapResponse__Output>;
  /**
   * The graph now, then again every `interval_ms` (default 2000) as flows arrive.
   */
  watchServiceMap(argument: _servicemap_GetServiceMapRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_servicemap_GetServiceMapResponse__Output>;
  watchServiceMap(argument: _servicemap_GetServiceMapRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_servicemap_GetServiceMapResponse__Output>;
  
}

export interface ServiceMapHandlers extends grpc.UntypedServiceImplementation {
  /**
   * The graph of the flows in [since, until) (default: the last 5 minutes).
   */
  GetServiceMap: grpc.handleUnaryCall<_servicemap_GetServiceMapRequest__Output, _servicemap_GetServiceMapResponse>;
  
  /**
   * The graph now, then again every `interval_ms` (default 2000) as flows arrive.
   */
  WatchServiceMap: grpc.handleServerStreamingCall<_servicemap_GetServiceMapRequest__Output, _servicemap_GetServiceMapResponse>;
  
}

export interface ServiceMapDefinition extends grpc.ServiceDefinition {
  GetServiceMap: MethodDefinition<_servicemap_GetServiceMapRequest, _servicemap_GetServiceMapResponse, _servicemap_GetServiceMapRequest__Output, _servicemap_GetServiceMapResponse__Output>
  WatchServiceMap: MethodDefinition<_servicemap_GetServiceMapRequest, _servicemap_GetServiceMapResponse, _servicemap_GetServiceMapRequest__Output, _servicemap_GetServiceMapResponse__Output>
}

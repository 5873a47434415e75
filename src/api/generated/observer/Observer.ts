// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/observer/observer.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { GetFlowsRequest as _observer_GetFlowsRequest, GetFlowsRequest__Output as _observer_GetFlowsRequest__Output } from '../observer/GetFlowsRequest.js';
import type { GetFlowsResponse as _observer_GetFlowsResponse, GetFlowsResponse__Output as _observer_GetFlowsResponse__Output } from '../observer/GetFlowsResponse.js';
import type { GetNodesRequest as _observer_GetNodesRequest, GetNodesRequest__Output as _observer_GetNodesRequest__Output } from '../observer/GetNodesRequest.js';
import type { GetNodesResponse as _observer_GetNodesResponse, GetNodesResponse__Output as _observer_GetNodesResponse__Output } from '../observer/GetNodesResponse.js';
import type { ServerStatusRequest as _observer_ServerStatusRequest, ServerStatusRequest__Output as _observer_ServerStatusRequest__Output } from '../observer/ServerStatusRequest.js';
import type { ServerStatusResponse as _observer_ServerStatusResponse, ServerStatusResponse__Output as _observer_ServerStatusResponse__Output } from '../observer/ServerStatusResponse.js';

export interface ObserverClient extends grpc.Client {
  /**
   * Recent flows (the ring, then the flow history on disk when the ring
   * no longer holds the range), then, with follow, new ones as they come.
   */
  GetFlows(argument: _observer_GetFlowsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_observer_GetFlowsResponse__Output>;
  GetFlows(argument: _observer_GetFlowsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_observer_GetFlowsResponse__Output>;
  /**
   * Recent flows (the ring, then the flow history on disk when the ring
   * no longer holds the range), then, with follow, new ones as they come.
   */
  getFlows(argument: _observer_GetFlowsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_observer_GetFlowsResponse__Output>;
  getFlows(argument: _observer_GetFlowsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_observer_GetFlowsResponse__Output>;
  
  GetNodes(argument: _observer_GetNodesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_observer_GetNodesResponse__Output>): grpc.ClientUnaryCall;
  GetNodes(argument: _observer_GetNodesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_observer_GetNodesResponse__Output>): grpc.ClientUnaryCall;
  GetNodes(argument: _observer_GetNodesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_observer_GetNodesResponse__Output>): grpc.ClientUnaryCall;
  GetNodes(argument: _observer_GetNodesRequest, callback: grpc.requestCallback<_observer_GetNodesResponse__Output>): grpc.ClientUnaryCall;
  getNodes(argument: _observer_GetNodesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_observer_GetNodesResponse__Output>): grpc.ClientUnaryCall;
  getNodes(argument: _observer_GetNodesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_observer_GetNodesResponse__Output>): grpc.ClientUnaryCall;
  getNodes(argument: _observer_GetNodesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_observer_GetNodesResponse__Output>): grpc.ClientUnaryCall;
  getNodes(argument: _observer_GetNodesRequest, callback: grpc.requestCallback<_observer_GetNodesResponse__Output>): grpc.ClientUnaryCall;
  
  ServerStatus(argument: _observer_ServerStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_observer_ServerStatusResponse__Output>): grpc.ClientUnaryCall;
  ServerStatus(argument: _observer_ServerStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_observer_ServerStatusResponse__Output>): grpc.ClientUnaryCall;
  ServerStatus(argument: _observer_ServerStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_observer_ServerStatusResponse__Output>): grpc.ClientUnaryCall;
  ServerStatus(argument: _observer_ServerStatusRequest, callback: grpc.requestCallback<_observer_ServerStatusResponse__Output>): grpc.ClientUnaryCall;
  serverStatus(argument: _observer_ServerStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_observer_ServerStatusResponse__Output>): grpc.ClientUnaryCall;
  serverStatus(argument: _observer_ServerStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_observer_ServerStatusResponse__Output>): grpc.ClientUnaryCall;
  serverStatus(argument: _observer_ServerStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_observer_ServerStatusResponse__Output>): grpc.ClientUnaryCall;
  serverStatus(argument: _observer_ServerStatusRequest, callback: grpc.requestCallback<_observer_ServerStatusResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface ObserverHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Recent flows (the ring, then the flow history on disk when the ring
   * no longer holds the range), then, with follow, new ones as they come.
   */
  GetFlows: grpc.handleServerStreamingCall<_observer_GetFlowsRequest__Output, _observer_GetFlowsResponse>;
  
  GetNodes: grpc.handleUnaryCall<_observer_GetNodesRequest__Output, _observer_GetNodesResponse>;
  
  ServerStatus: grpc.handleUnaryCall<_observer_ServerStatusRequest__Output, _observer_ServerStatusResponse>;
  
}

export interface ObserverDefinition extends grpc.ServiceDefinition {
  GetFlows: MethodDefinition<_observer_GetFlowsRequest, _observer_GetFlowsResponse, _observer_GetFlowsRequest__Output, _observer_GetFlowsResponse__Output>
  GetNodes: MethodDefinition<_observer_GetNodesRequest, _observer_GetNodesResponse, _observer_GetNodesRequest__Output, _observer_GetNodesResponse__Output>
  ServerStatus: MethodDefinition<_observer_ServerStatusRequest, _observer_ServerStatusResponse, _observer_ServerStatusRequest__Output, _observer_ServerStatusResponse__Output>
}

// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { NodeStatusEvent as _relay_NodeStatusEvent, NodeStatusEvent__Output as _relay_NodeStatusEvent__Output } from './relay/NodeStatusEvent.js';


export interface ProtoGrpcType {
  relay: {
    NodeState: EnumTypeDefinition
    NodeStatusEvent: MessageTypeDefinition<_relay_NodeStatusEvent, _relay_NodeStatusEvent__Output>
  }
}


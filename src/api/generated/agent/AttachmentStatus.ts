// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


// Original file: api/agent/agent.proto

export const _agent_AttachmentStatus_Direction = {
  ingress: 'ingress',
  egress: 'egress',
} as const;

export type _agent_AttachmentStatus_Direction =
  | 'ingress'
  | 0
  | 'egress'
  | 1

export type _agent_AttachmentStatus_Direction__Output = typeof _agent_AttachmentStatus_Direction[keyof typeof _agent_AttachmentStatus_Direction]

export interface AttachmentStatus {
  'iface'?: (string);
  'direction'?: (_agent_AttachmentStatus_Direction);
  'program'?: (string);
}

export interface AttachmentStatus__Output {
  'iface': (string);
  'direction': (_agent_AttachmentStatus_Direction__Output);
  'program': (string);
}

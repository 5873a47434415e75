// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


export interface _agent_ServiceRow_Backend {
  'address'?: (string);
  'port'?: (number);
  'state'?: (string);
}

export interface _agent_ServiceRow_Backend__Output {
  'address': (string);
  'port': (number);
  'state': (string);
}

export interface _agent_ServiceRow_TrafficPolicy {
  'external'?: (string);
  'internal'?: (string);
}

export interface _agent_ServiceRow_TrafficPolicy__Output {
  'external': (string);
  'internal': (string);
}

export interface ServiceRow {
  'id'?: (number);
  'frontend'?: (string);
  'type'?: (string);
  'service'?: (string);
  'backends'?: (_agent_ServiceRow_Backend)[];
  'affinityTimeout'?: (number);
  'trafficPolicy'?: (_agent_ServiceRow_TrafficPolicy | null);
  '_affinityTimeout'?: "affinityTimeout";
}

export interface ServiceRow__Output {
  'id': (number);
  'frontend': (string);
  'type': (string);
  'service': (string);
  'backends': (_agent_ServiceRow_Backend__Output)[];
  'affinityTimeout'?: (number);
  'trafficPolicy': (_agent_ServiceRow_TrafficPolicy__Output | null);
  '_affinityTimeout'?: "affinityTimeout";
}

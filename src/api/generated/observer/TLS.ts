// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/observer/observer.proto


export interface TLS {
  'enabled'?: (boolean);
  'server_name'?: (string);
}

export interface TLS__Output {
  'enabled': (boolean);
  'server_name': (string);
}

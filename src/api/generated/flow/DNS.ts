// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto


export interface DNS {
  'query'?: (string);
  'ips'?: (string)[];
  'ttl'?: (number);
  'cnames'?: (string)[];
  'observation_source'?: (string);
  'rcode'?: (number);
  'qtypes'?: (string)[];
  'rrtypes'?: (string)[];
}

export interface DNS__Output {
  'query': (string);
  'ips': (string)[];
  'ttl': (number);
  'cnames': (string)[];
  'observation_source': (string);
  'rcode': (number);
  'qtypes': (string)[];
  'rrtypes': (string)[];
}

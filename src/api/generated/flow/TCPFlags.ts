// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto


export interface TCPFlags {
  'FIN'?: (boolean);
  'SYN'?: (boolean);
  'RST'?: (boolean);
  'PSH'?: (boolean);
  'ACK'?: (boolean);
  'URG'?: (boolean);
  'ECE'?: (boolean);
  'CWR'?: (boolean);
  'NS'?: (boolean);
}

export interface TCPFlags__Output {
  'FIN': (boolean);
  'SYN': (boolean);
  'RST': (boolean);
  'PSH': (boolean);
  'ACK': (boolean);
  'URG': (boolean);
  'ECE': (boolean);
  'CWR': (boolean);
  'NS': (boolean);
}

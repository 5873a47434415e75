import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UnknownKindError, ValidationError, formatValidationIssue, warningLines } from '../common/errors.js';
import { parseManifest } from './parse.js';
import { validateBatch, validateObject, requireKind } from './validate.js';
import { applyDefaults } from './defaults.js';
import type { Deployment, Service } from './types.js';

/** Errors of one object as `path: message` lines. */
const errs = (yaml: string) => validateObject(parseManifest(yaml, 't.yaml')[0]!.object).errors.map((e) => `${e.path}: ${e.message}`);
const ok = (yaml: string) => {
  const v = validateObject(parseManifest(yaml, 't.yaml')[0]!.object);
  assert.deepEqual(v.errors, [], JSON.stringify(v.errors));
  assert.deepEqual(v.unknownFields, []);
};

const STARWARS_RULE1 = `
apiVersion: "cilium.io/v2"
kind: CiliumNetworkPolicy
metadata:
  name: "rule1"
spec:
  description: "L7 policy to restrict access to specific HTTP call"
  endpointSelector:
    matchLabels:
      org: empire
      class: deathstar
  ingress:
  - fromEndpoints:
    - matchLabels:
        org: empire
    toPorts:
    - ports:
      - port: "80"
        protocol: TCP
      rules:
        http:
        - method: "POST"
          path: "/v1/request-landing"
`;

const VALID: Record<string, string> = {
  Namespace: `apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {team: a}}`,
  Node: `apiVersion: v1\nkind: Node\nmetadata: {name: node1}\nspec: {podCIDR: 10.0.1.0/24}\nstatus: {addresses: [{type: InternalIP, address: 192.168.0.1}]}`,
  Pod: `
apiVersion: v1
kind: Pod
metadata: {name: web-0, namespace: shop, labels: {app: web}}
spec:
  nodeSelector: {kubernetes.io/hostname: node1}
  containers:
  - name: web
    image: docker.io/cilium/starwars
    command: [/bin/server]
    args: [--port, "80"]
    env: [{name: MODE, value: prod}]
    workingDir: /srv
    ports: [{name: http, containerPort: 80, protocol: TCP}]
    readinessProbe: {httpGet: {path: /healthz, port: http}, initialDelaySeconds: 1, periodSeconds: 2}
    livenessProbe: {tcpSocket: {port: 80}, failureThreshold: 3, successThreshold: 1}
  restartPolicy: OnFailure
`,
  Deployment: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: deathstar}
spec:
  replicas: 2
  selector: {matchLabels: {org: empire, class: deathstar}}
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 25%}}
  template:
    metadata: {labels: {org: empire, class: deathstar}}
    spec:
      containers:
      - name: deathstar
        image: quay.io/cilium/starwars:v2.1
        readinessProbe: {exec: {command: ["true"]}}
`,
  Service: `
apiVersion: v1
kind: Service
metadata: {name: deathstar}
spec:
  type: NodePort
  selector: {org: empire, class: deathstar}
  ports: [{name: http, port: 80, targetPort: http, nodePort: 30080}, {name: alt, port: 8080, targetPort: 80, protocol: UDP}]
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 600}}
  externalTrafficPolicy: Local
  internalTrafficPolicy: Cluster
  externalIPs: [203.0.113.7]
  trafficDistribution: PreferClose
`,
  HeadlessService: `apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec: {clusterIP: None, selector: {app: db}}`,
  EndpointSlice: `
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: deathstar-abc, labels: {kubernetes.io/service-name: deathstar}}
addressType: IPv4
endpoints:
- addresses: [10.0.1.5]
  conditions: {ready: true, serving: true, terminating: false}
  nodeName: node1
  targetRef: {kind: Pod, namespace: default, name: deathstar-0}
ports: [{name: http, port: 80, protocol: TCP}]
`,
  NetworkPolicy: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-frontend, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {team: web}}
      podSelector: {matchExpressions: [{key: tier, operator: In, values: [frontend]}]}
    - ipBlock: {cidr: 172.17.0.0/16, except: [172.17.1.0/24]}
    ports: [{protocol: TCP, port: 8080}, {port: metrics}, {port: 32000, endPort: 32768}]
  egress:
  - to: [{ipBlock: {cidr: "2001:db8::/32", except: ["2001:db8:1::/48"]}}]
`,
  CiliumNetworkPolicy: STARWARS_RULE1,
  CiliumNetworkPolicySpecs: `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: multi}
specs:
- endpointSelector: {matchLabels: {"k8s:io.kubernetes.pod.namespace": default, app: client}}
  egress:
  - toFQDNs: [{matchName: api.github.com}, {matchPattern: "*.cilium.io"}]
    toPorts: [{ports: [{port: "443", protocol: TCP}]}]
  - toEndpoints: [{matchLabels: {"k8s:io.kubernetes.pod.namespace": kube-system, "k8s:k8s-app": kube-dns}}]
    toPorts: [{ports: [{port: "53", protocol: ANY}], rules: {dns: [{matchPattern: "*"}]}}]
  - toCIDRSet: [{cidr: 10.0.0.0/8, except: [10.96.0.0/12]}]
  - toEntities: [world, kube-apiserver]
  - toServices: [{k8sService: {serviceName: db, namespace: default}}]
  egressDeny:
  - toCIDR: [192.0.2.1]
    toPorts: [{ports: [{port: "22"}]}]
- endpointSelector: {}
  enableDefaultDeny: {ingress: false, egress: false}
  ingress:
  - fromEntities: [cluster, host, remote-node, health]
    icmps: [{fields: [{type: 8, family: IPv4}, {type: EchoRequest, family: IPv6}]}]
  - fromCIDR: [198.51.100.0/24]
    toPorts: [{ports: [{port: "9092", protocol: TCP}], rules: {kafka: [{role: produce, topic: empire-announce}]}}]
  ingressDeny:
  - fromEntities: [world]
`,
  CiliumClusterwideNetworkPolicy: `
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: host-fw}
spec:
  nodeSelector: {matchLabels: {role: worker}}
  ingress: [{fromEntities: [cluster], toPorts: [{ports: [{port: "6443", protocol: TCP}, {port: "30000", endPort: 32767, protocol: TCP}]}]}]
`,
  HTTPRoute: `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: reviews}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  hostnames: [bookinfo.example.com, "*.example.org"]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /reviews}
      method: GET
      headers: [{name: x-canary, value: "yes"}]
    filters: [{type: RequestHeaderModifier, requestHeaderModifier: {add: [{name: x-via, value: beeline}]}}]
    backendRefs:
    - {name: reviews-v1, port: 9080, weight: 90}
    - {name: reviews-v2, port: 9080, weight: 10}
    timeouts: {request: 10s, backendRequest: 2s}
`,
};

for (const [name, yaml] of Object.entries(VALID)) {
  test(`valid: ${name}`, () => ok(yaml));
}

test('valid: the whole set as one batch, defaulted', () => {
  const docs = Object.values(VALID).flatMap((y, i) => parseManifest(y, `f${i}.yaml`));
  const { objects, warnings } = validateBatch(docs);
  assert.equal(objects.length, docs.length);
  // No unknown field anywhere; the one warning is the HTTPRoute's (its parent is a Gateway: not routed).
  assert.deepEqual(warnings.map((w) => `${w.kind} ${w.path}`), ['HTTPRoute spec.parentRefs[0]']);
  const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'deathstar') as Service;
  assert.equal(svc.metadata.namespace, 'default');
  assert.equal(svc.spec.ports![1]!.protocol, 'UDP');
  assert.equal(svc.spec.ports![0]!.protocol, 'TCP');
  assert.equal(objects.find((o) => o.kind === 'Namespace')!.metadata.namespace, undefined);
});

test('defaults: the apiserver defaults, input untouched', () => {
  const d = parseManifest(`apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}]}`)[0]!.object as unknown as Service;
  const out = applyDefaults(d);
  assert.deepEqual(out.spec, { ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }], type: 'ClusterIP', sessionAffinity: 'None', internalTrafficPolicy: 'Cluster' });
  assert.equal(out.metadata.namespace, 'default');
  assert.equal(d.spec.type, undefined);
  const dep = applyDefaults(parseManifest(VALID.Deployment!)[0]!.object as unknown as Deployment);
  assert.equal(dep.spec.replicas, 2);
  assert.equal(dep.spec.template.spec.restartPolicy, 'Always');
  const dep1 = applyDefaults({ ...dep, spec: { ...dep.spec, replicas: undefined } } as Deployment);
  assert.equal(dep1.spec.replicas, 1);
  const np = applyDefaults(parseManifest(`apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n}\nspec: {podSelector: {}, egress: [{ports: [{port: 53}]}]}`)[0]!.object as never);
  assert.deepEqual((np as { spec: { policyTypes: string[] } }).spec.policyTypes, ['Ingress', 'Egress']);
});

// ---- one test per class of error, exact path and message ----

const CNP = (toPorts: string) => `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: p}
spec:
  endpointSelector: {matchLabels: {app: a}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: b}}]
    toPorts: ${toPorts}
`;

test('error: port out of range, at the Cilium field path', () => {
  assert.deepEqual(errs(CNP('[{ports: [{port: "70000", protocol: TCP}]}]')), ['spec.ingress[0].toPorts[0].ports[0].port: Invalid value: "70000": must be between 1 and 65535, inclusive']);
  assert.deepEqual(errs(CNP('[{ports: [{port: "80", endPort: 70000, protocol: TCP}]}]')), ['spec.ingress[0].toPorts[0].ports[0].endPort: Invalid value: 70000: must be between 1 and 65535, inclusive']);
  assert.deepEqual(errs(CNP('[{ports: [{port: "0", endPort: 80, protocol: TCP}]}]')), ['spec.ingress[0].toPorts[0].ports[0].endPort: Forbidden: may not be specified when `port` is 0 (every port)']);
  ok(CNP('[{ports: [{port: "80", endPort: 0, protocol: TCP}]}]'));
});

test('error: NetworkPolicy ports out of range, in the apiserver\'s words', () => {
  const NP = (ports: string) => `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec:\n  podSelector: {}\n  ingress: [{ports: ${ports}}]\n`;
  assert.deepEqual(errs(NP('[{port: 0}]')), ['spec.ingress[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive']);
  assert.deepEqual(errs(NP('[{port: 80, endPort: 70000}]')), ['spec.ingress[0].ports[0].endPort: Invalid value: 70000: must be between 1 and 65535, inclusive']);
});

test('error: ICMP types must be 0-255 or a name of their family', () => {
  const ICMP = (fields: string) => `apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p}\nspec:\n  endpointSelector: {}\n  ingress: [{icmps: [{fields: ${fields}}]}]\n`;
  ok(ICMP('[{type: 8}, {type: EchoRequest}, {type: "0"}, {type: PacketTooBig, family: IPv6}]'));
  assert.deepEqual(errs(ICMP('[{type: 256}]')), ['spec.ingress[0].icmps[0].fields[0].type: Invalid value: 256: must be between 0 and 255, inclusive']);
  assert.deepEqual(errs(ICMP('[{type: Ping}]')), ['spec.ingress[0].icmps[0].fields[0].type: Invalid value: "Ping": must be an ICMP type number (0-255) or an ICMPv4 type name (e.g. EchoRequest, DestinationUnreachable)']);
  assert.deepEqual(errs(ICMP('[{type: PacketTooBig, family: IPv4}]')).length, 1, 'an ICMPv6 name under IPv4');
});

test('error: L7 rules on a port without a protocol', () => {
  assert.deepEqual(errs(CNP('[{ports: [{port: "80"}], rules: {http: [{method: GET}]}}]')), [
    'spec.ingress[0].toPorts[0].ports[0].protocol: Required value: L7 rules on a port without a protocol (set TCP, or UDP/ANY for dns rules)',
  ]);
  assert.deepEqual(errs(CNP('[{ports: [{port: "80", protocol: UDP}], rules: {http: [{method: GET}]}}]')), [
    'spec.ingress[0].toPorts[0].ports[0].protocol: Unsupported value: "UDP": http rules need protocol TCP',
  ]);
});

/** An ingress rule on port 80/TCP with one `rules.http` entry (a YAML flow mapping). */
const HTTP = (rule: string) => CNP(`[{ports: [{port: "80", protocol: TCP}], rules: {http: [${rule}]}}]`);
const HTTP_AT = 'spec.ingress[0].toPorts[0].rules.http[0]';

test('error: http method/path/host must be RE2 (Go regexp), as Cilium compiles them', () => {
  // What RE2 refuses, with the field path and Go's reason.
  assert.deepEqual(errs(HTTP(String.raw`{path: '/(a)\1'}`)), [
    `${HTTP_AT}.path: Invalid value: "/(a)\\\\1": not a valid RE2 regular expression (Go regexp syntax): error parsing regexp: invalid escape sequence: \`\\1\``,
  ]);
  assert.deepEqual(errs(HTTP(`{path: '/v1/(?=x)'}`)), [
    `${HTTP_AT}.path: Invalid value: "/v1/(?=x)": not a valid RE2 regular expression (Go regexp syntax): error parsing regexp: invalid or unsupported Perl syntax: \`(?=\``,
  ]);
  assert.deepEqual(errs(HTTP(`{method: 'GET++'}`)), [
    `${HTTP_AT}.method: Invalid value: "GET++": not a valid RE2 regular expression (Go regexp syntax): error parsing regexp: invalid nested repetition operator: \`++\``,
  ]);
  assert.deepEqual(errs(HTTP(`{host: '(?<=www\\.)example\\.com'}`)).length, 1, 'lookbehind');
  assert.match(errs(HTTP(`{host: 'a{1001}'}`))[0]!, /^spec\.ingress\[0\]\.toPorts\[0\]\.rules\.http\[0\]\.host: Invalid value: "a\{1001\}": .*invalid repeat count/);
  // RE2-only syntax that Go accepts and JavaScript's RegExp refused or read differently.
  ok(HTTP(`{path: '/v1/(?P<ship>[a-z]+)', method: '(?i)post', host: '\\pL+\\.empire'}`));
  ok(HTTP(`{path: '/[[:alpha:]]+\\Q.json\\E'}`));
  // Cilium's Star Wars rule, unchanged.
  ok(STARWARS_RULE1);
});

test('error: http headers and headerMatches names are HTTP field names', () => {
  ok(HTTP(`{headers: ['X-Has-Force', 'X-Rank: Admiral', 'X-Rank Admiral', ':authority deathstar']}`));
  assert.deepEqual(errs(HTTP(`{headers: ['X-Rank:Admiral']}`)), [
    `${HTTP_AT}.headers[0]: Invalid value: "X-Rank:Admiral": header "X-Rank:Admiral" must be an HTTP header name (letters, digits and !#$%&'*+-.^_\`|~); write \`Name\` or \`Name: value\``,
  ]);
  assert.equal(errs(HTTP(`{headers: ['']}`)).length, 1);
  assert.deepEqual(errs(HTTP(`{headerMatches: [{name: 'x token', value: v}]}`)), [
    `${HTTP_AT}.headerMatches[0].name: Invalid value: "x token": must be an HTTP header name (letters, digits and !#$%&'*+-.^_\`|~)`,
  ]);
  ok(HTTP(`{headerMatches: [{name: ':path', value: /bar, mismatch: LOG}, {name: X-Token, secret: {name: tok}}]}`));
});

test('error: DNS rules and toFQDNs as Cilium validates them (characters, empty labels, 255 characters, one field per toFQDNs entry)', () => {
  const EGRESS = (egress: string) => `apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: d}\nspec:\n  endpointSelector: {}\n  egress:\n  - ${egress}`;
  const DNS = (rule: string) => EGRESS(`toEndpoints: [{}]\n    toPorts: [{ports: [{port: "53", protocol: ANY}], rules: {dns: [${rule}]}}]`);
  ok(DNS(`{matchName: cilium.io, matchPattern: "*.cilium.io"}`));
  ok(DNS(`{matchPattern: "**.cilium.io."}`));
  ok(EGRESS(`toFQDNs: [{matchName: "_srv._tcp.cilium.io"}, {matchPattern: "*"}]`));
  assert.deepEqual(errs(DNS(`{matchPattern: "a..cilium.io"}`)), [
    'spec.egress[0].toPorts[0].rules.dns[0].matchPattern: Invalid value: "a..cilium.io": empty label: a name may not start with "." or have ".." (the root "." alone is not allowed either)',
  ]);
  assert.deepEqual(errs(DNS(`{matchName: "*.cilium.io"}`)), [
    'spec.egress[0].toPorts[0].rules.dns[0].matchName: Invalid value: "*.cilium.io": only letters, digits, "-", "_", "." are allowed',
  ]);
  assert.deepEqual(errs(EGRESS(`toFQDNs: [{matchName: a.io, matchPattern: "*.a.io"}]`)), [
    'spec.egress[0].toFQDNs[0]: Invalid value: only one of matchName, matchPattern is allowed in a toFQDNs entry; write two entries',
  ]);
  assert.match(errs(EGRESS(`toFQDNs: [{matchName: "${'a'.repeat(256)}"}]`))[0]!, /toFQDNs\[0\]\.matchName: Invalid value: .*must be at most 255 characters/);
  assert.deepEqual(errs(EGRESS(`toFQDNs: [{}]`)), ['spec.egress[0].toFQDNs[0]: Required value: one of matchName, matchPattern']);
});

/** An ingress rule on port 9092/TCP with one `rules.kafka` entry. */
const KAFKA = (rule: string) => CNP(`[{ports: [{port: "9092", protocol: TCP}], rules: {kafka: [${rule}]}}]`);
const KAFKA_AT = 'spec.ingress[0].toPorts[0].rules.kafka[0]';

test('error: kafka rules as Cilium sanitizes them (role xor apiKey, API key names, int16 versions, topic names)', () => {
  ok(KAFKA(`{role: produce, topic: empire-announce}`));
  ok(KAFKA(`{apiKey: OffsetCommit, apiVersion: "+7", clientID: anything goes, topic: A.b_c-9}`));
  assert.deepEqual(errs(KAFKA(`{role: produce, apiKey: fetch}`)), [`${KAFKA_AT}.apiKey: Forbidden: cannot be set together with role "produce"`]);
  assert.match(errs(KAFKA(`{apiKey: produc}`))[0]!, /^spec\.ingress\[0\]\.toPorts\[0\]\.rules\.kafka\[0\]\.apiKey: Invalid value: "produc": not a Kafka API key \(produce, fetch, offsets, /);
  assert.deepEqual(errs(KAFKA(`{apiVersion: "-1"}`)), [`${KAFKA_AT}.apiVersion: Invalid value: "-1": must be an API version (an integer 0-32767)`]);
  assert.equal(errs(KAFKA(`{apiVersion: "32768"}`)).length, 1);
  assert.deepEqual(errs(KAFKA(`{topic: "deathstar plans"}`)), [`${KAFKA_AT}.topic: Invalid value: "deathstar plans": must be a Kafka topic name (letters, digits, . _ -)`]);
  assert.deepEqual(errs(KAFKA(`{topic: ${'a'.repeat(256)}}`)), [`${KAFKA_AT}.topic: Invalid value: a topic of 256 characters: must be no more than 255 characters`]);
  ok(KAFKA(`{topic: ${'a'.repeat(255)}}`));
});

test('error: required field', () => {
  assert.deepEqual(errs(`apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c}]}`), ['spec.containers[0].image: Required value']);
  assert.deepEqual(errs(`apiVersion: v1\nkind: Pod\nmetadata: {}\nspec: {containers: []}`), ['metadata.name: Required value', 'spec.containers: Required value: must have at least one item']);
});

test('error: wrong type (a string where a number belongs)', () => {
  assert.deepEqual(errs(VALID.Deployment!.replace('replicas: 2', 'replicas: two')), ['spec.replicas: must be an integer (got string "two")']);
  assert.deepEqual(errs(`apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: "80"}]}`), ['spec.ports[0].port: must be an integer (got string "80")']);
});

test('error: enums', () => {
  assert.deepEqual(errs(`apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: ExternalName, ports: [{port: 80, protocol: ICMP}]}`), [
    'spec.type: Unsupported value: "ExternalName": supported values: "ClusterIP", "NodePort", "LoadBalancer"',
    'spec.ports[0].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"',
  ]);
  assert.deepEqual(errs(VALID.Pod!.replace('restartPolicy: OnFailure', 'restartPolicy: Sometimes')), [
    'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
  ]);
  assert.deepEqual(errs(CNP('[]').replace('fromEndpoints: [{matchLabels: {app: b}}]', 'fromEntities: [galaxy]')), [
    'spec.ingress[0].fromEntities[0]: Unsupported value: "galaxy": supported values: "all", "world", "world-ipv4", "world-ipv6", "cluster", "host", "remote-node", "kube-apiserver", "init", "health", "unmanaged", "ingress", "none"',
  ]);
  assert.deepEqual(errs(CNP('[{ports: [{port: "80", protocol: ICMP}]}]')), [
    'spec.ingress[0].toPorts[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP", "ANY"',
  ]);
});

test('error: ranges (nodePort, endPort, affinity timeout, replicas)', () => {
  assert.deepEqual(errs(`apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: NodePort, ports: [{port: 80, nodePort: 8080}], sessionAffinity: ClientIP, sessionAffinityConfig: {clientIP: {timeoutSeconds: 90000}}}`), [
    'spec.ports[0].nodePort: must be 30000-32767',
    'spec.sessionAffinityConfig.clientIP.timeoutSeconds: must be 1-86400',
  ]);
  assert.deepEqual(errs(CNP('[{ports: [{port: "9000", endPort: 8000, protocol: TCP}]}]')), [
    'spec.ingress[0].toPorts[0].ports[0].endPort: Invalid value: 8000: must be greater than or equal to `port` (9000)',
  ]);
  assert.deepEqual(errs(VALID.Deployment!.replace('replicas: 2', 'replicas: -1')), ['spec.replicas: must be >= 0']);
});

test('error: CIDRs that do not parse, except outside its cidr', () => {
  assert.deepEqual(errs(VALID.NetworkPolicy!.replace('172.17.0.0/16, except: [172.17.1.0/24]', '172.17.0.0/33, except: [10.0.0.0/8]')), [
    'spec.ingress[0].from[1].ipBlock.cidr: Invalid value: "172.17.0.0/33": must be a valid CIDR (e.g. 10.9.8.0/24 or 2001:db8::/64)',
  ]);
  assert.deepEqual(errs(VALID.NetworkPolicy!.replace('except: [172.17.1.0/24]', 'except: [10.0.0.0/8]')), [
    'spec.ingress[0].from[1].ipBlock.except[0]: Invalid value: "10.0.0.0/8": must be a strict subset of `cidr` "172.17.0.0/16"',
  ]);
  assert.deepEqual(errs(VALID.NetworkPolicy!.replace('"2001:db8:1::/48"', '"2001:db9::/48"')), [
    'spec.egress[0].to[0].ipBlock.except[0]: Invalid value: "2001:db9::/48": must be a strict subset of `cidr` "2001:db8::/32"',
  ]);
});

test('error: names and labels', () => {
  assert.deepEqual(errs(`apiVersion: v1\nkind: Namespace\nmetadata: {name: Shop_1, labels: {"bad key!": x, ok: "-bad"}}`), [
    'metadata.name: Invalid value: "Shop_1": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \'-\', and must start and end with an alphanumeric character',
    'metadata.labels: Invalid value: "bad key!": name part must consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character',
    'metadata.labels.ok: Invalid value: "-bad": a valid label must be an empty string or consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character',
  ]);
});

test('error: a selector that cannot parse', () => {
  assert.deepEqual(errs(`apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n}\nspec: {podSelector: {matchExpressions: [{key: app, operator: Like, values: [a]}, {key: tier, operator: In}, {key: x, operator: Exists, values: [y]}]}}`), [
    'spec.podSelector.matchExpressions[0].operator: Unsupported value: "Like": supported values: "In", "NotIn", "Exists", "DoesNotExist"',
    "spec.podSelector.matchExpressions[1].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
    "spec.podSelector.matchExpressions[2].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
  ]);
});

test('error: Service and Deployment cross-field rules', () => {
  assert.deepEqual(errs(`apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80, nodePort: 30001}, {port: 81}]}`), [
    'spec.ports[0].name: Required value',
    'spec.ports[0].nodePort: Forbidden: may not be used when `type` is \'ClusterIP\'',
    'spec.ports[1].name: Required value',
  ]);
  assert.deepEqual(errs(VALID.Deployment!.replace('labels: {org: empire, class: deathstar}', 'labels: {org: rebels}')), [
    'spec.template.metadata.labels: Invalid value: {"org":"rebels"}: `selector` does not match template `labels`',
  ]);
});

test('error: HTTPRoute Service backend without a port, bad weight', () => {
  assert.deepEqual(errs(VALID.HTTPRoute!.replace('{name: reviews-v2, port: 9080, weight: 10}', '{name: reviews-v2, weight: -1}')), [
    'spec.rules[0].backendRefs[1].weight: must be 0-1000000',
    'spec.rules[0].backendRefs[1].port: Required value: must be specified for a Service backend',
  ]);
});

test('error: Cilium rule needs exactly one selector; spec or specs', () => {
  assert.deepEqual(errs(`apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p}\nspec: {ingress: []}`), ['spec: Required value: one of endpointSelector or nodeSelector']);
  assert.deepEqual(errs(`apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p}`), ['spec: Required value: spec or specs must be set']);
});

test('unknown fields are warnings, not errors', () => {
  const docs = parseManifest(`apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  foo: 1\n  containers: [{name: c, image: i, imagePullSecret: x}]\n`, 'p.yaml');
  const { objects, warnings } = validateBatch(docs);
  assert.equal(objects.length, 1);
  assert.deepEqual(warnings.map(formatValidationIssue), [
    'p.yaml#1: Pod/default/p: unknown field "spec.foo"',
    'p.yaml#1: Pod/default/p: unknown field "spec.containers[0].imagePullSecret"',
  ]);
});

test('accepted but not implemented: hostPort is applied with a warning naming its field path (Pod and Deployment)', () => {
  const docs = parseManifest(
    `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: i, ports: [{containerPort: 80}, {containerPort: 8080, hostPort: 8080}]}]\n` +
      `---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {app: d}}\n  template:\n    metadata: {labels: {app: d}}\n    spec:\n      containers: [{name: c, image: i, ports: [{containerPort: 53, protocol: UDP, hostPort: 5353}]}]\n`,
    'h.yaml',
  );
  const { objects, warnings } = validateBatch(docs);
  assert.equal(objects.length, 2, 'applied');
  assert.deepEqual(warnings.map(formatValidationIssue), [
    'h.yaml#1: Pod/default/p: spec.containers[0].ports[1].hostPort: hostPort 8080 is not implemented: the node does not forward its port to the pod (use a NodePort Service)',
    'h.yaml#2: Deployment/default/d: spec.template.spec.containers[0].ports[0].hostPort: hostPort 5353 is not implemented: the node does not forward its port to the pod (use a NodePort Service)',
  ]);
  assert.deepEqual(validateBatch(parseManifest(`apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: i, ports: [{containerPort: 80}]}]\n`, 'n.yaml')).warnings, [], 'no hostPort, no warning');
});

test('accepted but not implemented: a Service\'s trafficDistribution, IPv6 family and dual-stack policy are warned about with their paths', () => {
  const docs = parseManifest(`apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: [{port: 80}]\n  trafficDistribution: PreferSameNode\n  ipFamilies: [IPv4, IPv6]\n  ipFamilyPolicy: PreferDualStack\n`, 's.yaml');
  const { objects, warnings } = validateBatch(docs);
  assert.equal(objects.length, 1);
  assert.deepEqual(warnings.map((w) => w.path), ['spec.trafficDistribution', 'spec.ipFamilies[1]', 'spec.ipFamilyPolicy']);
  assert.deepEqual(validateBatch(parseManifest(`apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: [{port: 80}]\n  ipFamilies: [IPv4]\n  ipFamilyPolicy: SingleStack\n`, 's.yaml')).warnings, []);
});

test('HTTPRoute: a route with Service parents is routed (no warning); what the mesh does not route by is warned about with its path', () => {
  const { objects, warnings } = validateBatch(parseManifest(`apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  parentRefs: [{group: '', kind: Service, name: web, port: 80}]\n  rules: [{backendRefs: [{name: web-v1, port: 80, weight: 90}, {name: web-v2, port: 80, weight: 10}], retry: {attempts: 1, codes: [503]}}]\n`, 'r.yaml'));
  assert.equal(objects.length, 1, 'applied');
  assert.deepEqual(warnings, []);
  const bad = validateBatch(parseManifest(`apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  parentRefs: [{name: gw}, {group: '', kind: Service, name: web, namespace: other}]\n  hostnames: [a.example]\n  rules:\n  - filters: [{type: RequestMirror, requestMirror: {backendRef: {name: m, port: 80}}}]\n    backendRefs: [{name: v1, port: 80, filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: x, value: y}]}}]}]\n    retry: {attempts: 1, codes: [503, 418], backoff: 1s}\n    sessionPersistence: {type: Cookie}\n`, 'r.yaml'));
  assert.equal(bad.objects.length, 1, 'applied all the same');
  assert.deepEqual(bad.warnings.map((w) => w.path), ['spec.parentRefs[0]', 'spec.parentRefs[1].namespace', 'spec.rules[0].filters[0]', 'spec.rules[0].backendRefs[0].filters', 'spec.rules[0].retry.backoff', 'spec.rules[0].retry.codes[1]', 'spec.rules[0].sessionPersistence']);
  assert.match(formatValidationIssue(bad.warnings[0]!), /Gateway parents are not implemented/);
});

test('apply warnings: the same warning on many objects of a kind is shown for the first three, then summed up', () => {
  const docs = parseManifest(Array.from({ length: 10 }, (_, i) => `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r${i}}\nspec: {parentRefs: [{name: gw}]}\n`).join('---\n') + `---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: i, ports: [{containerPort: 80, hostPort: 80}]}]\n`, 'm.yaml');
  const lines = warningLines(validateBatch(docs).warnings);
  assert.equal(lines.length, 5);
  assert.match(lines[0]!, /^Warning: m\.yaml#1: HTTPRoute\/default\/r0: spec\.parentRefs\[0\]: Gateway parents are not implemented/);
  assert.match(lines[2]!, /^Warning: m\.yaml#3: HTTPRoute\/default\/r2: /);
  assert.equal(lines[3], 'Warning: … and 7 more HTTPRoutes with the same warning: spec.parentRefs[0]: Gateway parents are not implemented: only Service parents (group "", kind Service) are routed (by the node proxies)');
  assert.match(lines[4]!, /^Warning: m\.yaml#11: Pod\/default\/p: spec\.containers\[0\]\.ports\[0\]\.hostPort: /);
});

test('unknown kind: UnknownKindError naming apiVersion/kind and the known kinds', () => {
  const docs = parseManifest(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: d}\n`, 'u.yaml');
  assert.throws(() => validateBatch(docs), (e: unknown) => {
    assert.ok(e instanceof UnknownKindError);
    assert.equal(e.code, 'BL_ERR_UNKNOWN_KIND');
    const [a, b] = e.message.split('\n');
    assert.match(a!, /^u\.yaml#1: unknown kind "ConfigMap" in version "v1" \(known: v1\/Namespace, v1\/Node, v1\/Pod, apps\/v1\/Deployment, /);
    assert.equal(b, 'u.yaml#2: no matches for kind "Deployment" in version "extensions/v1beta1" (beeline reads Deployment as apps/v1)');
    return true;
  });
  assert.throws(() => requireKind('configmaps'), (e: unknown) => e instanceof UnknownKindError && /resource type "configmaps"/.test(e.message));
});

test('batch: every error of every object, with source and object; duplicates; nothing returned', () => {
  const docs = parseManifest(`
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {ports: [{port: 0}]}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 99999}]}]}
`, 'app.yaml');
  assert.throws(() => validateBatch(docs), (e: unknown) => {
    assert.ok(e instanceof ValidationError);
    assert.equal(e.code, 'BL_ERR_INVALID');
    assert.deepEqual(e.message.split('\n'), [
      'app.yaml#1: Service/shop/web: spec.ports[0].port: must be 1-65535',
      'app.yaml#3: Namespace/shop: metadata.name: Duplicate value: "shop": also defined at app.yaml#2',
      'app.yaml#4: Pod/default/p: spec.containers[0].ports[0].containerPort: must be 1-65535',
    ]);
    assert.equal(e.issues.length, 3);
    assert.deepEqual(e.issues[0], { source: 'app.yaml#1', kind: 'Service', namespace: 'shop', name: 'web', path: 'spec.ports[0].port', message: 'must be 1-65535' });
    return true;
  });
});

test('CiliumCIDRGroup: cilium.io/v2 and v2alpha1 accepted, stored as v2; externalCIDRs required and checked', () => {
  const group = (apiVersion: string, spec: string) => `apiVersion: ${apiVersion}\nkind: CiliumCIDRGroup\nmetadata: {name: external, labels: {destination: external}}\nspec:\n${spec}`;
  ok(group('cilium.io/v2', '  externalCIDRs: ["1.0.0.0/8", "2606:4700:4700::/96"]\n'));
  ok(group('cilium.io/v2alpha1', '  externalCIDRs: ["1.0.0.0/8"]\n'));
  const parsed = parseManifest(group('cilium.io/v2alpha1', '  externalCIDRs: ["1.0.0.0/8"]\n'), 't.yaml')[0]!.object as { apiVersion: string; kind: string; metadata: { name: string } };
  assert.equal(applyDefaults(parsed as never as Service).apiVersion, 'cilium.io/v2', 'stored at the kind\'s own version');
  assert.deepEqual(errs(group('cilium.io/v2', '  externalCIDRs: ["1.0.0.0/33"]\n')).map((e) => e.split(':')[0]), ['spec.externalCIDRs[0]']);
  assert.deepEqual(errs(group('cilium.io/v2', '  {}\n')), ['spec.externalCIDRs: Required value']);
  assert.match(errs(group('cilium.io/v1', '  externalCIDRs: []\n'))[0]!, /cilium\.io\/v1/);
});

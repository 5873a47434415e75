/**
 * Validation of the objects beeline reads, the way the apiserver (and for
 * cilium.io/v2, Cilium's policy sanitizer) checks them: every error of an
 * object with its field path (`spec.ingress[0].toPorts[0].ports[0].port: must
 * be 1-65535`), unknown fields as warnings (kubectl's `unknown field
 * "spec.foo"`). Pure: objects in, problems out.
 */
import { MESH_RETRY_CODES } from '../l7/http/mesh.js';
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { RE2JS } from 're2js';
import { HTTP_FIELD_NAME, splitHeaderRule } from '../l7/http/rules.js';
import { dnsNameProblem } from '../l7/dns/pattern.js';
import { KAFKA_API_KEYS, KAFKA_MAX_TOPIC_LEN, KAFKA_TOPIC_CHARS } from '../l7/kafka/rules.js';
import { UnknownKindError, ValidationError, type ValidationIssue } from '../common/errors.js';
import { applyDefaults } from './defaults.js';
import { kindOf, KINDS, knownKindsList, resolveKind, type KindInfo } from './kinds.js';
import {
  dns1035LabelError, dns1123LabelError, dns1123SubdomainError, labelKeyError, labelValueError,
  parseCIDR, portNameError, prefixContains,
} from './names.js';
import { sourceLabel, type ManifestDoc } from './parse.js';
import { any, arr, at, bool, int, intstr, map, obj, str, walk, type Check, type Reporter, type Schema } from './schema.js';
import { checkSelector, SELECTOR_OPERATORS, selectorMatches } from './selector.js';
import { CILIUM_ENTITIES, type Resource } from './types.js';
import { icmpType } from '../policy/ports.js';
import { isRecord } from '../common/json.js';

// ---- shared pieces ----

const q = JSON.stringify;
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;
const PORT_RANGE = 'must be 1-65535';

const nameCheck = (fn: (v: string) => string | undefined): Check => (v, p, r) => {
  const e = fn(v);
  if (e) r.err(p, `Invalid value: ${q(v)}: ${e}`);
};

const labelsCheck = (cilium = false): Check => (v, p, r) => {
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const ke = labelKeyError(k, cilium);
    if (ke) r.err(p, `Invalid value: ${q(k)}: ${ke}`);
    if (typeof x === 'string') { const ve = labelValueError(x); if (ve) r.err(`${p}.${k}`, `Invalid value: ${q(x)}: ${ve}`); }
  }
};
const labelMap = (cilium = false) => map(str(), labelsCheck(cilium));

const port = () => int({ min: 1, max: 65535, range: PORT_RANGE });

/** Policy ports speak the apiserver's words: `Invalid value: 70000: must be between 1 and 65535, inclusive`. */
const policyPortRange = (v: unknown) => `Invalid value: ${q(v)}: must be between 1 and 65535, inclusive`;
const policyPort = () => int({ check: (v, p, r) => { if (v < 1 || v > 65535) r.err(p, policyPortRange(v)); } });
const policyPortOrName: Check = (v, p, r) => {
  if (typeof v === 'number') { if (v < 1 || v > 65535) r.err(p, policyPortRange(v)); return; }
  if (typeof v === 'string') { const e = portNameError(v); if (e) r.err(p, `Invalid value: ${q(v)}: ${e}`); }
};

/** A port number 1-65535 or a port name (IntOrString). */
const portOrName: Check = (v, p, r) => {
  if (typeof v === 'number') { if (v < 1 || v > 65535) r.err(p, PORT_RANGE); return; }
  if (typeof v === 'string') { const e = portNameError(v); if (e) r.err(p, `Invalid value: ${q(v)}: ${e}`); }
};

const selectorCheck = (cilium: boolean): Check => (v, p, r) => {
  for (const e of checkSelector(v, cilium)) r.err(at(p, e.path), e.message);
};
const selector = (cilium = false) =>
  obj({
    matchLabels: map(str()),
    matchExpressions: arr(obj({ key: str(), operator: str({ enum: SELECTOR_OPERATORS }), values: arr(str()) }, ['key', 'operator'])),
  }, [], selectorCheck(cilium));

const ipCheck: Check = (v, p, r) => { if (!isIP(v)) r.err(p, `Invalid value: ${q(v)}: must be a valid IP address`); };

const cidrCheck = (allowBare: boolean): Check => (v, p, r) => {
  if (!parseCIDR(v, allowBare)) r.err(p, `Invalid value: ${q(v)}: must be a valid CIDR${allowBare ? ' or IP address' : ''} (e.g. 10.9.8.0/24 or 2001:db8::/64)`);
};

/** `except` entries must lie strictly inside `cidr`. */
function exceptInside(cidr: unknown, except: unknown, p: string, r: Reporter, allowBare: boolean): void {
  if (typeof cidr !== 'string' || !Array.isArray(except)) return;
  const outer = parseCIDR(cidr, allowBare);
  if (!outer) return;
  except.forEach((e, i) => {
    if (typeof e !== 'string') return;
    const inner = parseCIDR(e, allowBare);
    if (inner && (!prefixContains(outer, inner) || inner.bits === outer.bits)) r.err(`${p}.except[${i}]`, `Invalid value: ${q(e)}: must be a strict subset of \`cidr\` ${q(cidr)}`);
  });
}

const metaFields = {
  name: str(),
  namespace: str({ check: nameCheck(dns1123LabelError) }),
  generateName: str(),
  labels: labelMap(),
  annotations: map(str(), (v, p, r) => {
    for (const k of Object.keys(v)) { const e = labelKeyError(k); if (e) r.err(p, `Invalid value: ${q(k)}: ${e}`); }
  }),
  uid: str(), resourceVersion: str(), generation: int(), creationTimestamp: str(), deletionTimestamp: str(),
  deletionGracePeriodSeconds: int(),
  ownerReferences: arr(obj({ apiVersion: str(), kind: str(), name: str(), uid: str(), controller: bool, blockOwnerDeletion: bool }, ['apiVersion', 'kind', 'name', 'uid'])),
  finalizers: arr(str()),
  managedFields: any,
};

const metadata = (nameErr: (v: string) => string | undefined) =>
  obj({ ...metaFields, name: str({ check: nameCheck(nameErr) }) }, ['name']);

// ---- core/v1 ----

const probe = (liveness: boolean) => obj({
  httpGet: obj({
    path: str(), port: intstr(portOrName), host: str(), scheme: str({ enum: ['HTTP', 'HTTPS'] }),
    httpHeaders: arr(obj({ name: str(), value: str() }, ['name', 'value'])),
  }, ['port']),
  tcpSocket: obj({ port: intstr(portOrName), host: str() }, ['port']),
  exec: obj({ command: arr(str()) }),
  initialDelaySeconds: int({ min: 0 }),
  periodSeconds: int({ min: 1 }),
  timeoutSeconds: int({ min: 1 }),
  failureThreshold: int({ min: 1 }),
  successThreshold: int({ min: 1 }),
  terminationGracePeriodSeconds: int({ min: 1 }),
}, [], (v, p, r) => {
  const n = ['httpGet', 'tcpSocket', 'exec'].filter((h) => v[h] !== undefined && v[h] !== null).length;
  if (n === 0) r.err(p, 'Required value: must specify a handler type (httpGet, tcpSocket or exec)');
  if (n > 1) r.err(p, 'Forbidden: may not specify more than 1 handler type');
  if (liveness && typeof v.successThreshold === 'number' && v.successThreshold !== 1) r.err(at(p, 'successThreshold'), `Invalid value: ${v.successThreshold}: must be 1`);
});

/** Reports a second item with the same value of `key` as a duplicate. */
const uniqueBy = (key: string): Check => (v: unknown[], p, r) => {
  const seen = new Set<unknown>();
  v.forEach((x, i) => {
    if (!isRecord(x) || x[key] === undefined) return;
    if (seen.has(x[key])) r.err(`${p}[${i}].${key}`, `Duplicate value: ${q(x[key])}`);
    seen.add(x[key]);
  });
};

const container = obj({
  name: str({ check: nameCheck(dns1123LabelError) }),
  image: str(),
  imagePullPolicy: str({ enum: ['Always', 'IfNotPresent', 'Never'] }),
  command: arr(str()),
  args: arr(str()),
  env: arr(obj({ name: str(), value: str(), valueFrom: any }, ['name'])),
  workingDir: str(),
  ports: arr(obj({
    name: str({ check: nameCheck(portNameError) }),
    containerPort: port(),
    protocol: str({ enum: PROTOCOLS }),
    hostPort: port(),
    hostIP: str({ check: ipCheck }),
  }, ['containerPort']), { check: uniqueBy('name') }),
  readinessProbe: probe(false),
  livenessProbe: probe(true),
  resources: any,
  // Accepted and not acted on by the lab's kubelet (docs/workloads.md).
  startupProbe: any,
  securityContext: any,
  volumeMounts: any,
  envFrom: any,
  lifecycle: any,
  stdin: bool,
  tty: bool,
  terminationMessagePath: str(),
  terminationMessagePolicy: str(),
}, ['name', 'image']);

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'] as const;
const podSpec = obj({
  containers: arr(container, { min: 1, check: uniqueBy('name') }),
  restartPolicy: str({ enum: RESTART_POLICIES }),
  nodeName: str({ check: nameCheck(dns1123SubdomainError) }),
  nodeSelector: labelMap(),
  hostname: str({ check: nameCheck(dns1123LabelError) }),
  subdomain: str({ check: nameCheck(dns1123LabelError) }),
  terminationGracePeriodSeconds: int({ min: 0 }),
  affinity: any,
  tolerations: any,
  serviceAccountName: str({ check: nameCheck(dns1123SubdomainError) }),
  serviceAccount: str(),
  dnsPolicy: str({ enum: ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'] }),
  // Accepted and not acted on by the lab's kubelet (docs/workloads.md).
  securityContext: any,
  volumes: any,
  enableServiceLinks: bool,
  automountServiceAccountToken: bool,
  priorityClassName: str(),
}, ['containers']);

const namespaceSchema = obj({ spec: obj({ finalizers: arr(str()) }), status: any });

const nodeSchema = obj({
  spec: obj({
    podCIDR: str({ check: cidrCheck(false) }),
    podCIDRs: arr(str({ check: cidrCheck(false) })),
    providerID: str(),
    unschedulable: bool,
    taints: arr(obj({ key: str(), value: str(), effect: str({ enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] }), timeAdded: str() }, ['key', 'effect'])),
  }),
  status: any,
});

const podSchema = obj({ spec: podSpec, status: any }, ['spec']);

/** maxSurge / maxUnavailable: a non-negative integer or a percentage. */
const intOrPercent: Check = (v, p, r) => {
  if (typeof v === 'number' && v < 0) r.err(p, `Invalid value: ${v}: must be >= 0`);
  if (typeof v === 'string' && !/^\d+%$/.test(v)) r.err(p, `Invalid value: ${q(v)}: must be an integer or percentage (e.g '5%')`);
};
const isZero = (v: unknown) => v === 0 || v === '0%';

const deploymentSchema = obj({
  spec: obj({
    replicas: int({ min: 0 }),
    selector: selector(),
    template: obj({
      metadata: obj({ ...metaFields, labels: labelMap() }),
      spec: podSpec,
    }, ['spec']),
    strategy: obj({
      type: str({ enum: ['RollingUpdate', 'Recreate'] }),
      rollingUpdate: obj({ maxSurge: intstr(intOrPercent), maxUnavailable: intstr(intOrPercent) }),
    }),
    minReadySeconds: int({ min: 0 }),
    revisionHistoryLimit: int({ min: 0 }),
    progressDeadlineSeconds: int({ min: 1 }),
    paused: bool,
  }, ['selector', 'template'], (s, p, r) => {
    const sel = s.selector, tmpl = s.template;
    if (isRecord(sel) && !sel.matchLabels && !(Array.isArray(sel.matchExpressions) && sel.matchExpressions.length)) {
      r.err(at(p, 'selector'), 'Invalid value: {}: empty selector is invalid for deployment');
    } else if (isRecord(sel) && isRecord(tmpl) && checkSelector(sel).length === 0) {
      const labels = isRecord(tmpl.metadata) && isRecord(tmpl.metadata.labels) ? tmpl.metadata.labels as Record<string, string> : {};
      if (!selectorMatches(sel, labels)) r.err(at(p, 'template.metadata.labels'), `Invalid value: ${q(labels)}: \`selector\` does not match template \`labels\``);
    }
    if (isRecord(tmpl) && isRecord(tmpl.spec) && tmpl.spec.restartPolicy !== undefined && tmpl.spec.restartPolicy !== 'Always') {
      r.err(at(p, 'template.spec.restartPolicy'), `Unsupported value: ${q(tmpl.spec.restartPolicy)}: supported values: "Always"`);
    }
    const st = s.strategy;
    if (isRecord(st) && isRecord(st.rollingUpdate)) {
      if (st.type === 'Recreate') r.err(at(p, 'strategy.rollingUpdate'), "Forbidden: may not be specified when strategy `type` is 'Recreate'");
      else if (isZero(st.rollingUpdate.maxSurge) && isZero(st.rollingUpdate.maxUnavailable)) {
        r.err(at(p, 'strategy.rollingUpdate.maxUnavailable'), 'Invalid value: 0: may not be 0 when `maxSurge` is 0');
      }
    }
  }),
  status: any,
}, ['spec']);

const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer'] as const;
const TRAFFIC_POLICIES = ['Cluster', 'Local'] as const;

const serviceSchema = obj({
  spec: obj({
    type: str({ enum: SERVICE_TYPES }),
    clusterIP: str({ check: (v, p, r) => { if (v !== 'None' && v !== '' && !isIP(v)) r.err(p, `Invalid value: ${q(v)}: must be a valid IP address, "None" or empty`); } }),
    clusterIPs: arr(str({ check: (v, p, r) => { if (v !== 'None' && !isIP(v)) r.err(p, `Invalid value: ${q(v)}: must be a valid IP address or "None"`); } })),
    ports: arr(obj({
      name: str({ check: nameCheck(dns1123LabelError) }),
      port: port(),
      targetPort: intstr(portOrName),
      protocol: str({ enum: PROTOCOLS }),
      nodePort: int({ min: 30000, max: 32767 }),
      appProtocol: str(),
    }, ['port'])),
    selector: labelMap(),
    sessionAffinity: str({ enum: ['None', 'ClientIP'] }),
    sessionAffinityConfig: obj({ clientIP: obj({ timeoutSeconds: int({ min: 1, max: 86400 }) }) }),
    externalTrafficPolicy: str({ enum: TRAFFIC_POLICIES }),
    internalTrafficPolicy: str({ enum: TRAFFIC_POLICIES }),
    externalIPs: arr(str({ check: ipCheck })),
    trafficDistribution: str({ enum: ['PreferClose', 'PreferSameZone', 'PreferSameNode'] }),
    ipFamilies: arr(str({ enum: ['IPv4', 'IPv6'] })),
    ipFamilyPolicy: str({ enum: ['SingleStack', 'PreferDualStack', 'RequireDualStack'] }),
    publishNotReadyAddresses: bool,
    loadBalancerIP: str({ check: ipCheck }),
  }, [], (s, p, r) => {
    const type = typeof s.type === 'string' ? s.type : 'ClusterIP';
    const headless = s.clusterIP === 'None';
    const ports: Record<string, unknown>[] = Array.isArray(s.ports) ? s.ports.filter(isRecord) : [];
    if (!headless && (!Array.isArray(s.ports) || s.ports.length === 0)) r.err(at(p, 'ports'), 'Required value');
    if (headless && type !== 'ClusterIP') r.err(at(p, 'clusterIP'), `Invalid value: "None": may not be set to 'None' for ${type} services`);
    const names = new Set<unknown>(), pp = new Set<string>();
    ports.forEach((sp: Record<string, unknown>, i: number) => {
      const ip = `${at(p, 'ports')}[${i}]`;
      if (ports.length > 1 && (sp.name === undefined || sp.name === '')) r.err(`${ip}.name`, 'Required value');
      else if (sp.name !== undefined && names.has(sp.name)) r.err(`${ip}.name`, `Duplicate value: ${q(sp.name)}`);
      names.add(sp.name);
      const key = `${sp.port}/${sp.protocol ?? 'TCP'}`;
      if (pp.has(key)) r.err(ip, `Duplicate value: ${q({ port: sp.port, protocol: sp.protocol ?? 'TCP' })}`);
      pp.add(key);
      if (sp.nodePort !== undefined && type === 'ClusterIP') r.err(`${ip}.nodePort`, "Forbidden: may not be used when `type` is 'ClusterIP'");
    });
    if (s.sessionAffinityConfig !== undefined && s.sessionAffinity !== 'ClientIP') {
      r.err(at(p, 'sessionAffinityConfig'), `Forbidden: must not be set when \`sessionAffinity\` is ${s.sessionAffinity ?? 'None'}`);
    }
    if (s.externalTrafficPolicy !== undefined && type === 'ClusterIP') {
      r.err(at(p, 'externalTrafficPolicy'), `Invalid value: ${q(s.externalTrafficPolicy)}: may only be set when \`type\` is 'NodePort' or 'LoadBalancer'`);
    }
  }),
  status: any,
}, ['spec']);

const endpointSliceSchema = obj({
  addressType: str({ enum: ['IPv4', 'IPv6', 'FQDN'] }),
  endpoints: arr(obj({
    addresses: arr(str(), { min: 1, max: 100 }),
    conditions: obj({ ready: bool, serving: bool, terminating: bool }),
    hostname: str({ check: nameCheck(dns1123LabelError) }),
    nodeName: str({ check: nameCheck(dns1123SubdomainError) }),
    zone: str(),
    targetRef: obj({ kind: str(), namespace: str(), name: str(), uid: str(), apiVersion: str(), resourceVersion: str(), fieldPath: str() }),
    hints: any,
    deprecatedTopology: any,
  }, ['addresses'])),
  ports: arr(obj({
    name: str(),
    port: port(),
    protocol: str({ enum: PROTOCOLS }),
    appProtocol: str(),
  }), { max: 20000 }),
}, ['addressType', 'endpoints'], (s, p, r) => {
  const fam = s.addressType;
  if (!Array.isArray(s.endpoints)) return;
  s.endpoints.forEach((e: unknown, i: number) => {
    if (!isRecord(e) || !Array.isArray(e.addresses)) return;
    e.addresses.forEach((a, j) => {
      if (typeof a !== 'string') return;
      const ap = at(p, `endpoints[${i}].addresses[${j}]`);
      if (fam === 'IPv4' && !isIPv4(a)) r.err(ap, `Invalid value: ${q(a)}: must be a valid IPv4 address`);
      if (fam === 'IPv6' && !isIPv6(a)) r.err(ap, `Invalid value: ${q(a)}: must be a valid IPv6 address`);
      if (fam === 'FQDN') { const er = dns1123SubdomainError(a); if (er) r.err(ap, `Invalid value: ${q(a)}: ${er}`); }
    });
  });
});

// ---- networking.k8s.io/v1 NetworkPolicy ----

const ipBlock = obj({ cidr: str({ check: cidrCheck(false) }), except: arr(str({ check: cidrCheck(false) })) }, ['cidr'],
  (v, p, r) => exceptInside(v.cidr, v.except, p, r, false));

const npPeer = obj({ podSelector: selector(), namespaceSelector: selector(), ipBlock }, [], (v, p, r) => {
  const sel = v.podSelector !== undefined || v.namespaceSelector !== undefined;
  if (!sel && v.ipBlock === undefined) r.err(p, 'Required value: must specify a peer');
  if (sel && v.ipBlock !== undefined) r.err(p, 'Forbidden: may not specify both ipBlock and another peer');
});

const npPort = obj({ protocol: str({ enum: PROTOCOLS }), port: intstr(policyPortOrName), endPort: policyPort() }, [], (v, p, r) => {
  if (v.endPort === undefined) return;
  if (v.port === undefined) r.err(at(p, 'endPort'), 'Forbidden: may not be specified when `port` is not specified');
  else if (typeof v.port === 'string') r.err(at(p, 'endPort'), 'Forbidden: may not be specified when `port` is non-numeric');
  else if (typeof v.endPort === 'number' && typeof v.port === 'number' && v.endPort < v.port) r.err(at(p, 'endPort'), `Invalid value: ${v.endPort}: must be greater than or equal to \`port\` (${v.port})`);
});

const networkPolicySchema = obj({
  spec: obj({
    podSelector: selector(),
    policyTypes: arr(str({ enum: ['Ingress', 'Egress'] })),
    ingress: arr(obj({ from: arr(npPeer), ports: arr(npPort) })),
    egress: arr(obj({ to: arr(npPeer), ports: arr(npPort) })),
  }, ['podSelector']),
}, ['spec']);

// ---- cilium.io/v2 ----

const ciliumCIDR = str({ check: cidrCheck(true) });
const cidrRule = obj({ cidr: ciliumCIDR, cidrGroupRef: str(), cidrGroupSelector: selector(true), except: arr(ciliumCIDR) }, [], (v, p, r) => {
  const n = ['cidr', 'cidrGroupRef', 'cidrGroupSelector'].filter((k) => v[k] !== undefined).length;
  if (n !== 1) r.err(p, n === 0 ? 'Required value: one of cidr, cidrGroupRef, cidrGroupSelector' : 'Forbidden: only one of cidr, cidrGroupRef, cidrGroupSelector may be set');
  exceptInside(v.cidr, v.except, p, r, true);
});

/** Cilium's port: a number or numeric string (0 = every port), or a port name. */
const ciliumPort: Check = (v, p, r) => {
  const s = String(v);
  if (/^\d+$/.test(s)) { if (Number(s) > 65535) r.err(p, policyPortRange(v)); return; }
  if (typeof v === 'number') { r.err(p, policyPortRange(v)); return; }
  const e = portNameError(s.toLowerCase());
  if (e) r.err(p, `Invalid value: ${q(s)}: must be a port number (1-65535) or a port name: ${e}`);
};
const portNumber = (v: unknown): number | undefined => (typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined);

/**
 * `rules.http[].method|path|host`: Cilium's sanitizer compiles them with Go's
 * regexp (RE2 syntax; pkg/policy/api/http.go, PortRuleHTTP.Sanitize) and its
 * Envoy with google_re2, so RE2 decides, not JavaScript: a backreference,
 * lookaround or possessive quantifier is refused here, `(?P<name>…)`, `\pL`
 * and `(?i)` pass. re2js is a port of Go's regexp; its messages are Go's
 * (`error parsing regexp: invalid escape sequence: `\1``).
 */
const regexCheck: Check = (v, p, r) => {
  try { RE2JS.compile(v); } catch (e) { r.err(p, `Invalid value: ${q(v)}: not a valid RE2 regular expression (Go regexp syntax): ${(e as Error).message}`); }
};
const fieldNameError = (name: string): string | undefined =>
  HTTP_FIELD_NAME.test(name) ? undefined : 'must be an HTTP header name (letters, digits and !#$%&\'*+-.^_`|~)';
/** `rules.http[].headers[]`: `Name` or `Name: value` (splitHeaderRule); Envoy refuses a HeaderMatcher whose name is not a header name and with it the whole policy update, so a bad name is refused here. */
const httpHeaderCheck: Check = (v, p, r) => {
  const { name } = splitHeaderRule(v);
  const e = fieldNameError(name);
  if (e) r.err(p, `Invalid value: ${q(v)}: header ${q(name)} ${e}; write \`Name\` or \`Name: value\``);
};
const headerNameCheck: Check = (v, p, r) => {
  const e = fieldNameError(v);
  if (e) r.err(p, `Invalid value: ${q(v)}: ${e}`);
};
const dnsNameCheck = (pattern: boolean): Check => (v, p, r) => {
  const e = dnsNameProblem(v, pattern);
  if (e) r.err(p, `Invalid value: ${q(v)}: ${e}`);
};
const dnsNameFields = { matchName: str({ check: dnsNameCheck(false) }), matchPattern: str({ check: dnsNameCheck(true) }) };
/** `rules.dns[]` (PortRuleDNS): matchName and matchPattern may both be given (either allows). */
const dnsRule = obj(dnsNameFields, [], (v, p, r) => {
  if (v.matchName === undefined && v.matchPattern === undefined) r.err(p, 'Required value: one of matchName, matchPattern');
});
/** `toFQDNs[]` (FQDNSelector): exactly one of the two (Cilium's FQDNSelector.sanitize). */
const fqdnSelector = obj(dnsNameFields, [], (v, p, r) => {
  if (v.matchName === undefined && v.matchPattern === undefined) r.err(p, 'Required value: one of matchName, matchPattern');
  if (v.matchName !== undefined && v.matchPattern !== undefined) r.err(p, 'Invalid value: only one of matchName, matchPattern is allowed in a toFQDNs entry; write two entries');
});

// Cilium's kafka PortRule.Sanitize, field by field (src/l7/kafka/rules.ts compiles the same).
const kafkaApiKeyCheck: Check = (v, p, r) => {
  if (v !== '' && !Object.hasOwn(KAFKA_API_KEYS, v.toLowerCase())) r.err(p, `Invalid value: ${q(v)}: not a Kafka API key (${Object.keys(KAFKA_API_KEYS).join(', ')})`);
};
const kafkaApiVersionCheck: Check = (v, p, r) => {
  const n = /^[+-]?[0-9]+$/.test(v) ? Number(v) : NaN;
  if (v !== '' && !(Number.isInteger(n) && n >= 0 && n <= 32767)) r.err(p, `Invalid value: ${q(v)}: must be an API version (an integer 0-32767)`);
};
const kafkaTopicCheck: Check = (v, p, r) => {
  if (v === '') return;
  if (v.length > KAFKA_MAX_TOPIC_LEN) r.err(p, `Invalid value: a topic of ${v.length} characters: must be no more than ${KAFKA_MAX_TOPIC_LEN} characters`);
  else if (!KAFKA_TOPIC_CHARS.test(v)) r.err(p, `Invalid value: ${q(v)}: must be a Kafka topic name (letters, digits, . _ -)`);
};

const l7Rules = obj({
  http: arr(obj({
    method: str({ check: regexCheck }),
    path: str({ check: regexCheck }),
    host: str({ check: regexCheck }),
    headers: arr(str({ check: httpHeaderCheck })),
    headerMatches: arr(obj({
      name: str({ check: headerNameCheck }), value: str(), mismatch: str({ enum: ['LOG', 'ADD', 'DELETE', 'REPLACE'] }),
      secret: obj({ namespace: str(), name: str() }, ['name']),
    }, ['name'])),
  })),
  kafka: arr(obj({
    role: str({ enum: ['produce', 'consume'] }),
    apiKey: str({ check: kafkaApiKeyCheck }),
    apiVersion: str({ check: kafkaApiVersionCheck }),
    clientID: str(),
    topic: str({ check: kafkaTopicCheck }),
  }, [], (v, p, r) => {
    // Cilium's Sanitize: a role already names its API keys.
    if (v.role && v.apiKey) r.err(at(p, 'apiKey'), `Forbidden: cannot be set together with role ${q(v.role)}`);
  })),
  dns: arr(dnsRule),
  l7proto: str(),
  l7: arr(map(str())),
});

const L7_KINDS = ['http', 'kafka', 'dns', 'l7proto'] as const;

/** Cilium's sanitize() for one toPorts entry: what L7 rules need of their ports. */
const portRuleCheck = (ingress: boolean): Check => (v, p, r) => {
  const rules = isRecord(v.rules) ? v.rules : undefined;
  const kinds = rules ? L7_KINDS.filter((k) => rules[k] !== undefined && !(Array.isArray(rules[k]) && (rules[k] as unknown[]).length === 0)) : [];
  if (kinds.length > 1) r.err(at(p, 'rules'), `Forbidden: multiple L7 protocol rule types specified in a single rule (${kinds.join(', ')})`);
  if (ingress && kinds.includes('dns')) r.err(at(p, 'rules.dns'), 'Forbidden: DNS rules are only allowed on egress');
  const ports = Array.isArray(v.ports) ? v.ports : [];
  ports.forEach((pp: unknown, i: number) => {
    if (!isRecord(pp)) return;
    const ip = `${at(p, 'ports')}[${i}]`;
    const n = portNumber(pp.port);
    if (pp.endPort !== undefined && typeof pp.endPort === 'number' && pp.endPort !== 0) {
      if (n === undefined) r.err(`${ip}.endPort`, 'Forbidden: may not be specified when `port` is not a number');
      else if (n === 0) r.err(`${ip}.endPort`, 'Forbidden: may not be specified when `port` is 0 (every port)');
      else if (pp.endPort < n) r.err(`${ip}.endPort`, `Invalid value: ${pp.endPort}: must be greater than or equal to \`port\` (${n})`);
    }
    if (kinds.length === 0) return;
    if (pp.protocol === undefined) r.err(`${ip}.protocol`, 'Required value: L7 rules on a port without a protocol (set TCP, or UDP/ANY for dns rules)');
    else if (kinds[0] !== 'dns' && pp.protocol !== 'TCP') r.err(`${ip}.protocol`, `Unsupported value: ${q(pp.protocol)}: ${kinds[0]} rules need protocol TCP`);
    if (n === 0) r.err(`${ip}.port`, 'Forbidden: L7 rules can not be used when a port is 0');
  });
  if (kinds.length && ports.length === 0) r.err(at(p, 'ports'), 'Required value: L7 rules need at least one port');
};

const portProtocol = obj({
  port: intstr(ciliumPort),
  // 0 is Cilium's "no endPort".
  endPort: int({ check: (v, p, r) => { if (v !== 0 && (v < 1 || v > 65535)) r.err(p, policyPortRange(v)); } }),
  protocol: str({ enum: [...PROTOCOLS, 'ANY'] }),
});

const portRule = (ingress: boolean) => obj({
  ports: arr(portProtocol, { max: 40 }),
  rules: l7Rules,
  serverNames: arr(str()),
  terminatingTLS: any,
  originatingTLS: any,
  listener: any,
}, [], portRuleCheck(ingress));
const portDenyRule = obj({ ports: arr(portProtocol, { max: 40 }) });

/** Cilium's ICMP field: a type number 0-255 or a type name of its family (pkg/policy/api/icmp.go). */
const icmpField = obj({ type: intstr(), family: str({ enum: ['IPv4', 'IPv6'] }) }, ['type'], (v, p, r) => {
  if (v.type === undefined || (v.family !== undefined && v.family !== 'IPv4' && v.family !== 'IPv6')) return;
  const t = icmpType(v.type, typeof v.family === 'string' ? v.family : undefined);
  if ('error' in t) r.err(at(p, 'type'), t.error);
});
const icmpRule = obj({ fields: arr(icmpField, { max: 40 }) }, ['fields']);
const entities = arr(str({ enum: CILIUM_ENTITIES }));
const authentication = obj({ mode: str({ enum: ['disabled', 'required', 'test-always-fail'] }) }, ['mode']);
const ciliumService = obj({
  k8sService: obj({ serviceName: str(), namespace: str() }),
  k8sServiceSelector: obj({ selector: selector(true), namespace: str() }, ['selector']),
});

/** Cilium rejects rules that combine L3 peer kinds. */
const l3Exclusive = (members: string[]): Check => (v, p, r) => {
  const set = members.filter((m) => Array.isArray(v[m]) && v[m].length > 0);
  if (set.length > 1) r.err(p, `Forbidden: combining ${set[0]} and ${set[1]} is not supported yet`);
};

const ingressPeers = {
  fromEndpoints: arr(selector(true)),
  fromRequires: arr(selector(true)),
  fromCIDR: arr(ciliumCIDR),
  fromCIDRSet: arr(cidrRule),
  fromEntities: entities,
  fromNodes: arr(selector(true)),
  fromGroups: arr(any),
  icmps: arr(icmpRule),
};
const egressPeers = {
  toEndpoints: arr(selector(true)),
  toRequires: arr(selector(true)),
  toCIDR: arr(ciliumCIDR),
  toCIDRSet: arr(cidrRule),
  toEntities: entities,
  toNodes: arr(selector(true)),
  toServices: arr(ciliumService),
  toFQDNs: arr(fqdnSelector),
  toGroups: arr(any),
  icmps: arr(icmpRule),
};
const IN_L3 = ['fromEndpoints', 'fromCIDR', 'fromCIDRSet', 'fromEntities', 'fromNodes', 'fromGroups'];
const OUT_L3 = ['toEndpoints', 'toCIDR', 'toCIDRSet', 'toEntities', 'toNodes', 'toServices', 'toFQDNs', 'toGroups'];

const ciliumRule = obj({
  endpointSelector: selector(true),
  nodeSelector: selector(true),
  ingress: arr(obj({ ...ingressPeers, toPorts: arr(portRule(true)), authentication }, [], l3Exclusive(IN_L3))),
  ingressDeny: arr(obj({ ...ingressPeers, toPorts: arr(portDenyRule) }, [], l3Exclusive(IN_L3))),
  egress: arr(obj({ ...egressPeers, toPorts: arr(portRule(false)), authentication }, [], l3Exclusive(OUT_L3))),
  egressDeny: arr(obj({ ...egressPeers, toPorts: arr(portDenyRule) }, [], l3Exclusive(OUT_L3))),
  description: str(),
  labels: arr(obj({ key: str(), value: str(), source: str() }, ['key'])),
  enableDefaultDeny: obj({ ingress: bool, egress: bool }),
  log: any,
}, [], (v, p, r) => {
  const es = v.endpointSelector !== undefined, ns = v.nodeSelector !== undefined;
  if (!es && !ns) r.err(p, 'Required value: one of endpointSelector or nodeSelector');
  if (es && ns) r.err(p, 'Forbidden: endpointSelector and nodeSelector may not both be set');
});

const ciliumPolicySchema = obj({ spec: ciliumRule, specs: arr(ciliumRule), status: any }, [], (v, p, r) => {
  if (v.spec === undefined && (!Array.isArray(v.specs) || v.specs.length === 0)) r.err(at(p, 'spec'), 'Required value: spec or specs must be set');
});

const ciliumCIDRGroupSchema = obj({ spec: obj({ externalCIDRs: arr(ciliumCIDR) }, ['externalCIDRs']), status: any }, ['spec']);

// ---- gateway.networking.k8s.io/v1 HTTPRoute ----

const hostnameCheck: Check = (v, p, r) => {
  if (!/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(v) || v.length > 253 || isIP(v)) {
    r.err(p, `Invalid value: ${q(v)}: must be a hostname, optionally starting with a wildcard label (*.example.com)`);
  }
};
const durationCheck: Check = (v, p, r) => {
  if (!/^([0-9]{1,5}(h|m|s|ms)){1,4}$/.test(v)) r.err(p, `Invalid value: ${q(v)}: must be a duration like 10s, 500ms or 1m30s`);
};
const headerName = str({ check: (v, p, r) => { if (!/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/.test(v)) r.err(p, `Invalid value: ${q(v)}: must be an HTTP header name`); } });
const headerFilter = obj({ set: arr(obj({ name: headerName, value: str() }, ['name', 'value'])), add: arr(obj({ name: headerName, value: str() }, ['name', 'value'])), remove: arr(str()) });
const pathModifier = obj({ type: str({ enum: ['ReplaceFullPath', 'ReplacePrefixMatch'] }), replaceFullPath: str(), replacePrefixMatch: str() }, ['type']);
const backendObjectRef = (extra: Record<string, Schema> = {}) => obj({
  group: str(), kind: str(), name: str(), namespace: str(), port: port(), ...extra,
}, ['name'], (v, p, r) => {
  const isService = (v.group === undefined || v.group === '') && (v.kind === undefined || v.kind === 'Service');
  if (isService && v.port === undefined) r.err(at(p, 'port'), 'Required value: must be specified for a Service backend');
});
const FILTER_FIELDS: Record<string, string> = {
  RequestHeaderModifier: 'requestHeaderModifier', ResponseHeaderModifier: 'responseHeaderModifier',
  RequestMirror: 'requestMirror', RequestRedirect: 'requestRedirect', URLRewrite: 'urlRewrite', ExtensionRef: 'extensionRef',
};
const routeFilter = obj({
  type: str({ enum: Object.keys(FILTER_FIELDS) }),
  requestHeaderModifier: headerFilter,
  responseHeaderModifier: headerFilter,
  requestMirror: obj({ backendRef: backendObjectRef(), percent: int({ min: 0, max: 100 }), fraction: any }, ['backendRef']),
  requestRedirect: obj({
    scheme: str({ enum: ['http', 'https'] }), hostname: str({ check: hostnameCheck }), path: pathModifier,
    port: port(), statusCode: int({ check: (v, p, r) => { if (![301, 302, 303, 307, 308].includes(v)) r.err(p, `Unsupported value: ${v}: supported values: 301, 302, 303, 307, 308`); } }),
  }),
  urlRewrite: obj({ hostname: str({ check: hostnameCheck }), path: pathModifier }),
  extensionRef: obj({ group: str(), kind: str(), name: str() }, ['group', 'kind', 'name']),
}, ['type'], (v, p, r) => {
  const want = typeof v.type === 'string' ? FILTER_FIELDS[v.type] : undefined;
  if (!want) return;
  if (v[want] === undefined) r.err(at(p, want), `Required value: must be specified for type ${v.type}`);
  for (const f of Object.values(FILTER_FIELDS)) if (f !== want && v[f] !== undefined) r.err(at(p, f), `Forbidden: must not be set for type ${v.type}`);
});
const headerMatch = obj({ type: str({ enum: ['Exact', 'RegularExpression'] }), name: headerName, value: str() }, ['name', 'value']);
const routeMatch = obj({
  path: obj({ type: str({ enum: ['Exact', 'PathPrefix', 'RegularExpression'] }), value: str() }, [], (v, p, r) => {
    if (typeof v.value === 'string' && v.type !== 'RegularExpression' && !v.value.startsWith('/')) r.err(at(p, 'value'), `Invalid value: ${q(v.value)}: must be an absolute path (start with '/')`);
  }),
  headers: arr(headerMatch, { max: 16 }),
  queryParams: arr(obj({ type: str({ enum: ['Exact', 'RegularExpression'] }), name: str(), value: str() }, ['name', 'value']), { max: 16 }),
  method: str({ enum: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] }),
});
const httpRouteSchema = obj({
  spec: obj({
    parentRefs: arr(obj({ group: str(), kind: str(), namespace: str(), name: str(), sectionName: str(), port: port() }, ['name']), { max: 32 }),
    hostnames: arr(str({ check: hostnameCheck }), { max: 16 }),
    rules: arr(obj({
      name: str(),
      matches: arr(routeMatch, { max: 64 }),
      filters: arr(routeFilter, { max: 16 }),
      backendRefs: arr(backendObjectRef({ weight: int({ min: 0, max: 1000000 }), filters: arr(routeFilter) }), { max: 16 }),
      timeouts: obj({ request: str({ check: durationCheck }), backendRequest: str({ check: durationCheck }) }),
      retry: any,
      sessionPersistence: any,
    }), { max: 16 }),
  }),
  status: any,
}, ['spec']);

// ---- per kind ----

/** The kind-specific top-level fields (besides apiVersion, kind, metadata) and the object name's syntax. */
const BY_KIND: Record<string, { schema: Schema; nameErr: (v: string) => string | undefined }> = {
  Namespace: { schema: namespaceSchema, nameErr: dns1123LabelError },
  Node: { schema: nodeSchema, nameErr: dns1123SubdomainError },
  Pod: { schema: podSchema, nameErr: dns1123SubdomainError },
  Deployment: { schema: deploymentSchema, nameErr: dns1123SubdomainError },
  Service: { schema: serviceSchema, nameErr: dns1035LabelError },
  EndpointSlice: { schema: endpointSliceSchema, nameErr: dns1123SubdomainError },
  NetworkPolicy: { schema: networkPolicySchema, nameErr: dns1123SubdomainError },
  CiliumNetworkPolicy: { schema: ciliumPolicySchema, nameErr: dns1123SubdomainError },
  CiliumClusterwideNetworkPolicy: { schema: ciliumPolicySchema, nameErr: dns1123SubdomainError },
  CiliumCIDRGroup: { schema: ciliumCIDRGroupSchema, nameErr: dns1123SubdomainError },
  HTTPRoute: { schema: httpRouteSchema, nameErr: dns1123SubdomainError },
};

/** One problem at a field path of one object. */
export interface FieldProblem {
  path: string;
  message: string;
}

/** What validating one object found. `unknownKind` is set when the apiVersion/kind is not one beeline knows. */
export interface ObjectValidation {
  kind: KindInfo | undefined;
  errors: FieldProblem[];
  /** Field paths present in the object that its schema does not know. */
  unknownFields: string[];
  unknownKind: boolean;
}

/** The message for an apiVersion/kind beeline does not know. */
export function unknownKindMessage(apiVersion: string, kind: string): string {
  const sameKind = KINDS.find((k) => k.kind === kind);
  if (sameKind) return `no matches for kind ${q(kind)} in version ${q(apiVersion)} (beeline reads ${kind} as ${sameKind.apiVersion})`;
  return `unknown kind ${q(kind)} in version ${q(apiVersion)} (known: ${knownKindsList()})`;
}

/**
 * Validates one object against its kind's schema; collects every error.
 * Does not default: validate what the user wrote, then applyDefaults.
 */
export function validateObject(o: unknown): ObjectValidation {
  const errors: FieldProblem[] = [];
  const unknownFields: string[] = [];
  const r: Reporter = { err: (path, message) => errors.push({ path, message }) };
  if (!isRecord(o)) return { kind: undefined, errors: [{ path: '', message: 'must be an object' }], unknownFields, unknownKind: false };
  const { apiVersion, kind } = o;
  if (typeof apiVersion !== 'string' || apiVersion === '') r.err('apiVersion', apiVersion === undefined ? 'Required value' : `must be a non-empty string`);
  if (typeof kind !== 'string' || kind === '') r.err('kind', kind === undefined ? 'Required value' : `must be a non-empty string`);
  if (errors.length) return { kind: undefined, errors, unknownFields, unknownKind: false };
  const info = kindOf(apiVersion as string, kind as string);
  if (!info) return { kind: undefined, errors: [{ path: '', message: unknownKindMessage(apiVersion as string, kind as string) }], unknownFields, unknownKind: true };
  const spec = BY_KIND[info.kind]!;
  if (spec.schema.t !== 'obj') throw new Error('validate: kind schema must be an object schema');
  const full = obj({ apiVersion: str(), kind: str(), metadata: metadata(spec.nameErr), ...spec.schema.f }, ['metadata', ...(spec.schema.req ?? [])], spec.schema.check);
  walk(o, full, '', r, unknownFields);
  return { kind: info, errors, unknownFields, unknownKind: false };
}

/** What a valid batch gives: its objects, defaulted, in file order, and the warnings to print. */
export interface BatchResult {
  objects: Resource[];
  /** Where each object came from (`file#doc`), parallel to `objects`. */
  sources: string[];
  /**
   * Unknown fields, kubectl-style: message `unknown field "spec.foo"`; and
   * fields beeline accepts but does not implement (ignoredFields), with their path.
   */
  warnings: ValidationIssue[];
}

/**
 * Fields an object may carry that beeline accepts (a manifest written for a
 * real cluster applies) but does not implement: `apply` warns about each with
 * its path, so nothing is silently left out. hostPort: the lab's nodes do not
 * forward a node port to the pod (a NodePort Service does); a Service's
 * trafficDistribution PreferSameNode, IPv6 family and dual-stack policy: Services are IPv4
 * and spread over every ready endpoint. An HTTPRoute: its Service parents
 * (GAMMA) are routed by the node proxies (src/l7/http/mesh.ts); Gateway parents,
 * consumer routes, hostnames, RequestMirror and ExtensionRef filters,
 * per-backend filters, retry backoff, retry codes HAProxy cannot retry on and
 * sessionPersistence are not (the route's status says what was refused).
 */
export function ignoredFields(o: Record<string, unknown>): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  const kind = o.kind;
  const spec = isRecord(o.spec) ? o.spec : undefined;
  if (kind === 'HTTPRoute' && spec) {
    httpRouteIgnored(o, spec, out);
    return out;
  }
  if (kind === 'Service' && spec) {
    // PreferClose and PreferSameZone: the lab's nodes have no zones, so every endpoint is as close as any.
    if (spec.trafficDistribution === 'PreferSameNode') out.push({ path: 'spec.trafficDistribution', message: 'trafficDistribution "PreferSameNode" is not implemented: every ready endpoint gets traffic, wherever it runs' });
    if (Array.isArray(spec.ipFamilies)) spec.ipFamilies.forEach((f: unknown, i: number) => { if (f === 'IPv6') out.push({ path: `spec.ipFamilies[${i}]`, message: 'IPv6 is not implemented: the Service gets an IPv4 address only' }); });
    if (spec.ipFamilyPolicy === 'RequireDualStack' || spec.ipFamilyPolicy === 'PreferDualStack') out.push({ path: 'spec.ipFamilyPolicy', message: `${spec.ipFamilyPolicy} is not implemented: the Service is IPv4 single-stack` });
    return out;
  }
  const podSpec = kind === 'Pod' ? spec : kind === 'Deployment' && isRecord(spec?.template) && isRecord(spec.template.spec) ? spec.template.spec : undefined;
  const base = kind === 'Pod' ? 'spec' : 'spec.template.spec';
  if (!podSpec || !Array.isArray(podSpec.containers)) return out;
  podSpec.containers.forEach((c: unknown, i: number) => {
    if (!isRecord(c) || !Array.isArray(c.ports)) return;
    c.ports.forEach((port: unknown, j: number) => {
      if (isRecord(port) && port.hostPort !== undefined) {
        out.push({ path: `${base}.containers[${i}].ports[${j}].hostPort`, message: `hostPort ${q(port.hostPort)} is not implemented: the node does not forward its port to the pod (use a NodePort Service)` });
      }
    });
  });
  return out;
}

/** A parentRef the mesh routes: a Service must be named so (a parentRef's defaults are a Gateway's). */
const isServiceParent = (p: Record<string, unknown>) => p.group === '' && p.kind === 'Service';

/** What of an HTTPRoute the mesh (src/l7/http/mesh.ts) does not route by. */
function httpRouteIgnored(o: Record<string, unknown>, spec: Record<string, unknown>, out: { path: string; message: string }[]): void {
  const ns = isRecord(o.metadata) && typeof o.metadata.namespace === 'string' ? o.metadata.namespace : 'default';
  const parents = Array.isArray(spec.parentRefs) ? spec.parentRefs.filter(isRecord) : [];
  parents.forEach((p, i) => {
    if (!isServiceParent(p)) out.push({ path: `spec.parentRefs[${i}]`, message: 'Gateway parents are not implemented: only Service parents (group "", kind Service) are routed (by the node proxies)' });
    else if (p.namespace !== undefined && p.namespace !== ns) out.push({ path: `spec.parentRefs[${i}].namespace`, message: 'consumer routes (a parent Service in another namespace) are not implemented: this parent is not routed' });
  });
  if (Array.isArray(spec.hostnames) && spec.hostnames.length && parents.length && parents.every(isServiceParent)) out.push({ path: 'spec.hostnames', message: 'ignored for Service parents (GAMMA): every request to the Service is matched' });
  const rules = Array.isArray(spec.rules) ? spec.rules : [];
  rules.forEach((r: unknown, ri: number) => {
    if (!isRecord(r)) return;
    const at = `spec.rules[${ri}]`;
    (Array.isArray(r.filters) ? r.filters : []).forEach((f: unknown, fi: number) => {
      if (isRecord(f) && (f.type === 'RequestMirror' || f.type === 'ExtensionRef')) out.push({ path: `${at}.filters[${fi}]`, message: `${f.type} is not implemented: the route is not accepted (see its status)` });
    });
    (Array.isArray(r.backendRefs) ? r.backendRefs : []).forEach((b: unknown, bi: number) => {
      if (isRecord(b) && Array.isArray(b.filters) && b.filters.length) out.push({ path: `${at}.backendRefs[${bi}].filters`, message: 'per-backend filters are not implemented: the route is not accepted (see its status)' });
    });
    if (isRecord(r.retry)) {
      if (r.retry.backoff !== undefined) out.push({ path: `${at}.retry.backoff`, message: 'not applied: the proxy retries at once' });
      (Array.isArray(r.retry.codes) ? r.retry.codes : []).forEach((c: unknown, ci: number) => {
        if (!MESH_RETRY_CODES.includes(c as number)) out.push({ path: `${at}.retry.codes[${ci}]`, message: `${String(c)} cannot be retried on (${MESH_RETRY_CODES.join(', ')}): the route is not accepted (see its status)` });
      });
    }
    if (r.sessionPersistence !== undefined) out.push({ path: `${at}.sessionPersistence`, message: 'not implemented: requests are spread by weight' });
  });
}

/**
 * Validates every document of one file and defaults them. Throws
 * ValidationError listing every error of every object (UnknownKindError when
 * unknown kinds are the only errors); a (kind, namespace, name) that appears
 * twice is an error. Nothing is returned unless everything is valid, which is
 * what makes apply atomic per file.
 */
export function validateBatch(docs: ManifestDoc[]): BatchResult {
  const errors: ValidationIssue[] = [];
  const warnings: ValidationIssue[] = [];
  const objects: Resource[] = [];
  const sources: string[] = [];
  const seen = new Map<string, string>();
  let unknownKinds = 0;
  for (const d of docs) {
    const source = sourceLabel(d.source);
    const o = d.object;
    const meta = isRecord(o.metadata) ? o.metadata : {};
    const v = validateObject(o);
    const ident = {
      source,
      kind: v.kind?.kind ?? (typeof o.kind === 'string' ? o.kind : ''),
      namespace: typeof meta.namespace === 'string' && v.kind?.namespaced !== false ? meta.namespace : v.kind?.namespaced ? 'default' : '',
      name: typeof meta.name === 'string' ? meta.name : '',
    };
    for (const e of v.errors) errors.push({ ...ident, ...e });
    if (v.unknownKind) unknownKinds++;
    for (const f of v.unknownFields) warnings.push({ ...ident, path: '', message: `unknown field ${q(f)}` });
    if (v.kind && v.errors.length === 0) for (const w of ignoredFields(o)) warnings.push({ ...ident, ...w });
    if (v.kind && v.errors.length === 0) {
      const key = `${ident.kind}/${ident.namespace}/${ident.name}`;
      const prev = seen.get(key);
      if (prev) errors.push({ ...ident, path: 'metadata.name', message: `Duplicate value: ${q(ident.name)}: also defined at ${prev}` });
      else seen.set(key, source);
      objects.push(applyDefaults(o as unknown as Resource));
      sources.push(source);
    }
  }
  if (errors.length) {
    if (unknownKinds === errors.length) throw new UnknownKindError(errors.map((e) => `${e.source}: ${e.message}`).join('\n'), { issues: errors });
    throw new ValidationError(errors);
  }
  return { objects, sources, warnings };
}

/** For `get KIND`: the kind a name stands for, or UnknownKindError listing the known names. */
export function requireKind(name: string): KindInfo {
  const k = resolveKind(name);
  if (!k) throw new UnknownKindError(`the server doesn't have a resource type ${q(name)}`, { hint: `known: ${KINDS.map((x) => [x.plural, ...x.shortNames].join('/')).join(', ')}` });
  return k;
}

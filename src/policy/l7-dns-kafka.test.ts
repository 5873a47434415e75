/**
 * DNS rules, Kafka rules and toFQDNs in the engine (issue 13): with the
 * parser's proxy port, the allowed traffic of a port with `rules.dns` or
 * `rules.kafka` redirects to that listener and EndpointPolicy.l7 carries the
 * rule sources the proxy compiles (compileDnsRules, compileKafkaRules);
 * without it the rules stay L4 with a note. toFQDNs selects the /32 CIDR
 * identities of the addresses learned for its names (setFqdnNames). Every
 * verdict is read through the emitted entries (lookupPolicy), and the
 * incremental path must equal the from-scratch one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cidrLabels, RESERVED_IDENTITIES } from '../identity/reserved.js';
import type { LabelSet } from '../identity/labels.js';
import { compileDnsRules } from '../l7/dns/rules.js';
import { compileKafkaRules, KAFKA_API_KEYS } from '../l7/kafka/rules.js';
import { entryKey, lookupPolicy } from './lookup.js';
import { PolicyRepository } from './repository.js';
import { cnp, podLabels, SCTP, TCP, UDP } from './testing.js';
import { tracePolicy } from './trace.js';
import type { EndpointInfo, EndpointPolicy, PolicyMapEntry, PolicyOptions } from './types.js';

const PROXY = { ingress: 15001, egress: 15002, dns: 15053, kafka: { ingress: 15090, egress: 15091 } };
const ID = { kubeDns: 3001, mediabot: 3002, kafka: 3003, hq: 3004, outpost: 3005 } as const;
/** CIDR identities: the learned address's /32, a /24 around it, and another /32. */
const CIDR = { api: (1 << 24) | 10, net: (1 << 24) | 11, other: (1 << 24) | 12 } as const;
const CIDRS: [string, number][] = [['192.0.2.10/32', CIDR.api], ['192.0.2.0/24', CIDR.net], ['198.51.100.7/32', CIDR.other]];
const IDENTITIES: [number, LabelSet][] = [
  ...RESERVED_IDENTITIES.map((i): [number, LabelSet] => [i.id, i.labels]),
  [ID.kubeDns, podLabels('kube-system', { 'k8s-app': 'kube-dns' })],
  [ID.mediabot, podLabels('default', { org: 'alliance', class: 'mediabot' })],
  [ID.kafka, podLabels('default', { app: 'kafka' })],
  [ID.hq, podLabels('default', { app: 'empire-hq' })],
  [ID.outpost, podLabels('default', { app: 'empire-outpost' })],
  ...CIDRS.map(([p, id]): [number, LabelSet] => [id, cidrLabels(p)]),
];
const ep = (id: number, identity: number): EndpointInfo => ({ id, identity, labels: IDENTITIES.find(([i]) => i === identity)![1], namespace: 'default' });
const MEDIABOT = ep(31, ID.mediabot);
const KAFKA = ep(32, ID.kafka);
const origin = (name: string) => ({ kind: 'CiliumNetworkPolicy', namespace: 'default', name }) as const;

/** Cilium's DNS policy example (docs "DNS-based" policy): DNS to kube-dns through the proxy, HTTPS to one name. */
const FQDN_POLICY = cnp('default', 'fqdn', {
  endpointSelector: { matchLabels: { org: 'alliance', class: 'mediabot' } },
  egress: [
    {
      toEndpoints: [{ matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'kube-system', 'k8s:k8s-app': 'kube-dns' } }],
      toPorts: [{ ports: [{ port: '53', protocol: 'ANY' }], rules: { dns: [{ matchPattern: '*' }] } }],
    },
    { toFQDNs: [{ matchName: 'api.example.test' }], toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }] },
  ],
});

/** Cilium's Kafka example (the empire's broker): producing to empire-announce from empire-hq. */
const KAFKA_POLICY = cnp('default', 'kafka', {
  endpointSelector: { matchLabels: { app: 'kafka' } },
  ingress: [{
    fromEndpoints: [{ matchLabels: { app: 'empire-hq' } }],
    toPorts: [{ ports: [{ port: '9092', protocol: 'TCP' }], rules: { kafka: [{ role: 'produce', topic: 'empire-announce' }] } }],
  }],
});

function repo(policies: unknown[], options: PolicyOptions = { proxyPorts: PROXY }): { r: PolicyRepository; problems: string[] } {
  const r = new PolicyRepository({ options });
  r.setIdentities(IDENTITIES);
  r.setCidrIdentities(CIDRS);
  const problems: string[] = [];
  for (const p of policies) {
    const probs = r.upsertPolicy(p);
    assert.deepEqual(probs.filter((x) => x.severity === 'error'), [], 'fixture policy accepted');
    problems.push(...probs.map((x) => `${x.severity} ${x.path}: ${x.message}`));
  }
  return { r, problems };
}

const find = (pol: EndpointPolicy, dir: string, identity: number, protocol: number, port: number): PolicyMapEntry | undefined =>
  pol.entries.find((e) => e.direction === dir && e.identity === identity && e.protocol === protocol && e.port === port && e.portPrefixLen === 16);

/** updateEndpoint equals computeEndpoint, and its writes rebuild the entries. */
function sameIncremental(r: PolicyRepository, e: EndpointInfo, mirror: Map<string, PolicyMapEntry>): EndpointPolicy {
  const u = r.updateEndpoint(e);
  for (const x of u.upserts) mirror.set(entryKey(x), x);
  for (const x of u.deletes) assert.ok(mirror.delete(entryKey(x)), `a delete of an entry not held: ${entryKey(x)}`);
  const want = r.computeEndpoint(e);
  assert.deepEqual({ ...u.policy, entries: u.policy.entries, entryCount: undefined }, { ...want, entryCount: undefined });
  assert.deepEqual([...mirror.keys()].sort(), want.entries.map(entryKey).sort());
  return want;
}

test('DNS policy: UDP and TCP 53 to kube-dns redirect to the DNS proxy with the policy\'s DNS rules; SCTP is not allowed', () => {
  const { r, problems } = repo([FQDN_POLICY]);
  assert.deepEqual(problems, ['note spec.egress[0].toPorts[0].ports[0].protocol: ANY with DNS rules means UDP and TCP through the DNS proxy; SCTP is not allowed on this port']);
  const pol = r.computeEndpoint(MEDIABOT);
  for (const proto of [UDP, TCP]) {
    assert.equal(find(pol, 'egress', ID.kubeDns, proto, 53)?.proxyPort, PROXY.dns, `${proto}/53 redirected`);
    const d = lookupPolicy(pol.entries, 'egress', ID.kubeDns, proto, 53, true);
    assert.equal(d.allowed, true);
    assert.equal(d.entry?.proxyPort, PROXY.dns);
  }
  assert.equal(lookupPolicy(pol.entries, 'egress', ID.kubeDns, SCTP, 53, true).allowed, false);
  assert.equal(lookupPolicy(pol.entries, 'egress', ID.mediabot, UDP, 53, true).allowed, false, 'only kube-dns');
  const sources = [{ origin: origin('fqdn'), rules: [{ matchPattern: '*' }] }];
  assert.deepEqual(pol.l7, [
    { direction: 'egress', port: 53, portPrefixLen: 16, identity: ID.kubeDns, protocol: TCP, parser: 'dns', proxyPort: PROXY.dns, http: [], dns: sources },
    { direction: 'egress', port: 53, portPrefixLen: 16, identity: ID.kubeDns, protocol: UDP, parser: 'dns', proxyPort: PROXY.dns, http: [], dns: sources },
  ]);
  // What the DNS proxy compiles from it: every name.
  const m = compileDnsRules(pol.l7[0]!.dns!);
  assert.deepEqual(m.match('api.example.test'), { allowed: true, allowedBy: [origin('fqdn')] });
  // The trace names the parser and the rule's policy.
  const t = tracePolicy(r, { source: { endpoint: MEDIABOT }, destination: { identity: ID.kubeDns }, protocol: UDP, port: 53 });
  assert.equal(t.allowed, true);
  assert.deepEqual(t.egress?.redirect, { proxyPort: PROXY.dns, parser: 'dns', by: ['CiliumNetworkPolicy/default/fqdn'] });
});

test('DNS rules per protocol: UDP only redirects UDP, TCP only TCP; a matchName rule reaches the proxy as written', () => {
  for (const [protocol, proto] of [['UDP', UDP], ['TCP', TCP]] as const) {
    const { r } = repo([cnp('default', 'dns', {
      endpointSelector: { matchLabels: { class: 'mediabot' } },
      egress: [{ toEndpoints: [{ matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'kube-system' } }], toPorts: [{ ports: [{ port: '53', protocol }], rules: { dns: [{ matchName: 'api.example.test' }] } }] }],
    })]);
    const pol = r.computeEndpoint(MEDIABOT);
    assert.deepEqual(pol.l7.map((x) => [x.protocol, x.parser, x.proxyPort]), [[proto, 'dns', PROXY.dns]]);
    const other = proto === UDP ? TCP : UDP;
    assert.equal(lookupPolicy(pol.entries, 'egress', ID.kubeDns, other, 53, true).allowed, false);
    const m = compileDnsRules(pol.l7[0]!.dns!);
    assert.equal(m.match('API.example.test.').allowed, true);
    assert.equal(m.match('evil.test').allowed, false);
  }
});

test('a peer reaching the DNS port through a broader allow gets its own redirect; a deny wins', () => {
  const { r } = repo([
    FQDN_POLICY,
    cnp('default', 'all-to-dns', { endpointSelector: { matchLabels: { class: 'mediabot' } }, egress: [{ toEndpoints: [{ matchLabels: { 'k8s:k8s-app': 'kube-dns', 'k8s:io.kubernetes.pod.namespace': 'kube-system' } }] }] }),
    cnp('default', 'deny-outpost', { endpointSelector: { matchLabels: { class: 'mediabot' } }, egress: [{ toEndpoints: [{ matchLabels: { app: 'empire-outpost' } }] }], egressDeny: [{ toEndpoints: [{ matchLabels: { app: 'empire-outpost' } }], toPorts: [{ ports: [{ port: '53', protocol: 'UDP' }] }] }] }),
  ]);
  const pol = r.computeEndpoint(MEDIABOT);
  // kube-dns is also allowed L3-only: port 53 still goes through the proxy, with the L3 policy's source allowing every name.
  const udp = pol.l7.find((x) => x.identity === ID.kubeDns && x.protocol === UDP)!;
  assert.deepEqual(udp.dns, [{ origin: origin('all-to-dns'), rules: [] }, { origin: origin('fqdn'), rules: [{ matchPattern: '*' }] }]);
  assert.equal(lookupPolicy(pol.entries, 'egress', ID.kubeDns, TCP, 80, true).entry?.proxyPort, 0, 'other ports are not redirected');
  // The outpost (allowed L3-only) is denied UDP/53 and gets no redirect there; its TCP/53 goes through the proxy.
  assert.equal(lookupPolicy(pol.entries, 'egress', ID.outpost, UDP, 53, true).allowed, false);
  assert.deepEqual(pol.l7.filter((x) => x.identity === ID.outpost).map((x) => [x.protocol, x.dns]), [[TCP, [{ origin: origin('deny-outpost'), rules: [] }]]]);
  assert.equal(lookupPolicy(pol.entries, 'egress', ID.outpost, TCP, 53, true).entry?.proxyPort, PROXY.dns);
});

test('toFQDNs: selects the /32 CIDR identities of the learned names, incrementally; requiredPrefixes and fqdnSelected follow', () => {
  const { r } = repo([FQDN_POLICY]);
  const mirror = new Map<string, PolicyMapEntry>();
  const allowed443 = (pol: EndpointPolicy, id: number) => lookupPolicy(pol.entries, 'egress', id, TCP, 443, true).allowed;
  let pol = sameIncremental(r, MEDIABOT, mirror);
  assert.equal(allowed443(pol, CIDR.api), false, 'nothing learned yet');
  assert.deepEqual(r.requiredPrefixes(), []);
  assert.equal(r.fqdnSelected('API.Example.Test'), true);
  assert.equal(r.fqdnSelected('api.example.test.'), true);
  assert.equal(r.fqdnSelected('www.example.test'), false);

  // A name the policy does not select: its rules are not recomputed, no map write.
  assert.deepEqual(r.setFqdnNames(new Map([['other.test.', ['198.51.100.7']]])), ['other.test.']);
  const u = r.updateEndpoint(MEDIABOT);
  assert.deepEqual([u.upserts, u.deletes], [[], []]);
  pol = sameIncremental(r, MEDIABOT, mirror);
  assert.equal(allowed443(pol, CIDR.other), false);
  assert.deepEqual(r.requiredPrefixes(), []);

  // The selected name learned: its /32 on 443 (kept ports), not the /24 around it, nor other ports.
  assert.deepEqual(r.setFqdnNames(new Map([['other.test.', ['198.51.100.7']], ['API.example.test', ['192.0.2.10']]])), ['api.example.test.']);
  assert.deepEqual(r.requiredPrefixes(), ['192.0.2.10/32']);
  pol = sameIncremental(r, MEDIABOT, mirror);
  assert.equal(allowed443(pol, CIDR.api), true);
  assert.equal(find(pol, 'egress', CIDR.api, TCP, 443)?.proxyPort, 0, 'toFQDNs without L7 rules is not redirected');
  assert.equal(allowed443(pol, CIDR.net), false, 'the broader CIDR identity is not selected');
  assert.equal(allowed443(pol, CIDR.other), false);
  assert.equal(lookupPolicy(pol.entries, 'egress', CIDR.api, TCP, 80, true).allowed, false);
  const t = tracePolicy(r, { source: { endpoint: MEDIABOT }, destination: { identity: CIDR.api }, protocol: TCP, port: 443 });
  assert.deepEqual([t.allowed, t.egress?.by, t.egress?.redirect], [true, ['CiliumNetworkPolicy/default/fqdn'], undefined]);

  // The name moves to an address without a CIDR identity yet: nothing selected until the agent allocates it.
  r.setFqdnNames(new Map([['api.example.test.', ['198.51.100.99']]]));
  assert.deepEqual(r.requiredPrefixes(), ['198.51.100.99/32']);
  pol = sameIncremental(r, MEDIABOT, mirror);
  assert.equal(allowed443(pol, CIDR.api), false);
  r.setCidrIdentities([...CIDRS, ['198.51.100.99/32', (1 << 24) | 13]]);
  pol = sameIncremental(r, MEDIABOT, mirror);
  assert.equal(allowed443(pol, (1 << 24) | 13), true);

  // Forgotten (TTL ran out): nothing selected again.
  r.setFqdnNames(new Map());
  assert.deepEqual(r.requiredPrefixes(), []);
  pol = sameIncremental(r, MEDIABOT, mirror);
  assert.equal(allowed443(pol, (1 << 24) | 13), false);
});

test('toFQDNs matchPattern, bad selectors and deny rules', () => {
  const { r } = repo([cnp('default', 'pat', { endpointSelector: { matchLabels: { class: 'mediabot' } }, egress: [{ toFQDNs: [{ matchPattern: '*.example.test' }] }] })]);
  r.setFqdnNames(new Map([['a.example.test.', ['192.0.2.10']], ['example.test.', ['198.51.100.7']]]));
  assert.deepEqual(r.requiredPrefixes(), ['192.0.2.10/32']);
  const pol = r.computeEndpoint(MEDIABOT);
  assert.equal(lookupPolicy(pol.entries, 'egress', CIDR.api, UDP, 1234, true).allowed, true, 'no toPorts: every port');
  assert.equal(lookupPolicy(pol.entries, 'egress', CIDR.other, TCP, 443, true).allowed, false, '*.example.test does not select example.test');
  const bad = (spec: unknown) => new PolicyRepository().upsertPolicy(cnp('default', 'bad', spec as never)).filter((p) => p.severity === 'error').map((p) => `${p.path}: ${p.message}`);
  assert.deepEqual(bad({ endpointSelector: {}, egress: [{ toFQDNs: [{ matchName: 'a.test', matchPattern: '*.a.test' }] }] }), [
    'spec.egress[0].toFQDNs: Invalid value: spec.egress[0].toFQDNs[0]: only one of matchName, matchPattern is allowed in a toFQDNs entry',
  ]);
  assert.deepEqual(bad({ endpointSelector: {}, egressDeny: [{ toFQDNs: [{ matchName: 'a.test' }] }] }), ['spec.egressDeny[0].toFQDNs: Forbidden: toFQDNs is not supported in deny rules']);
});

test('Kafka policy: empire-hq reaches the broker on 9092 through the Kafka proxy with its produce rule', () => {
  const { r, problems } = repo([KAFKA_POLICY]);
  assert.deepEqual(problems, []);
  const pol = r.computeEndpoint(KAFKA);
  assert.equal(find(pol, 'ingress', ID.hq, TCP, 9092)?.proxyPort, PROXY.kafka.ingress);
  assert.equal(lookupPolicy(pol.entries, 'ingress', ID.outpost, TCP, 9092, true).allowed, false);
  const hq = pol.l7.find((x) => x.identity === ID.hq)!;
  assert.deepEqual(hq, {
    direction: 'ingress', port: 9092, portPrefixLen: 16, identity: ID.hq, protocol: TCP, parser: 'kafka', proxyPort: PROXY.kafka.ingress,
    http: [], kafka: [{ origin: origin('kafka'), rules: [{ role: 'produce', topic: 'empire-announce' }] }],
  });
  const m = compileKafkaRules(hq.kafka!);
  const produce = (topic: string) => m.match({ apiKey: KAFKA_API_KEYS.produce!, apiVersion: 7, clientId: 'hq', topics: [topic], allTopics: false }).allowed;
  assert.equal(produce('empire-announce'), true);
  assert.equal(produce('deathstar-plans'), false);
  assert.equal(m.match({ apiKey: KAFKA_API_KEYS.fetch!, apiVersion: 11, clientId: 'hq', topics: ['empire-announce'], allTopics: false }).allowed, false);
  const t = tracePolicy(r, { source: { identity: ID.hq }, destination: { endpoint: KAFKA }, protocol: TCP, port: 9092 });
  assert.deepEqual(t.ingress?.redirect, { proxyPort: PROXY.kafka.ingress, parser: 'kafka', by: ['CiliumNetworkPolicy/default/kafka'] });
  // Egress Kafka rules go to the egress Kafka listener.
  const { r: r2 } = repo([cnp('default', 'kout', { endpointSelector: { matchLabels: { app: 'empire-hq' } }, egress: [{ toEndpoints: [{ matchLabels: { app: 'kafka' } }], toPorts: [{ ports: [{ port: '9092', protocol: 'TCP' }], rules: { kafka: [{ role: 'consume', topic: 'empire-announce' }] } }] }] })]);
  assert.deepEqual(r2.computeEndpoint(ep(33, ID.hq)).l7.map((x) => [x.direction, x.identity, x.parser, x.proxyPort]), [['egress', ID.kafka, 'kafka', PROXY.kafka.egress]]);
});

test('without the parser\'s proxy port: DNS and Kafka rules stay L4 with a note, no redirects', () => {
  for (const options of [{}, { proxyPorts: { ingress: 15001, egress: 15002 } }] as PolicyOptions[]) {
    const { r, problems } = repo([FQDN_POLICY, KAFKA_POLICY], options);
    const why = options.proxyPorts ? { dns: "this node's proxy has no DNS listener", kafka: "this node's proxy has no Kafka listener for ingress" } : { dns: 'this node has no L7 proxy', kafka: 'this node has no L7 proxy' };
    assert.deepEqual(problems, [
      `note spec.egress[0].toPorts[0].rules: L7 dns rules are enforced as their L4 part (${why.dns})`,
      `note spec.ingress[0].toPorts[0].rules: L7 kafka rules are enforced as their L4 part (${why.kafka})`,
    ]);
    const bot = r.computeEndpoint(MEDIABOT);
    const broker = r.computeEndpoint(KAFKA);
    assert.deepEqual([bot.l7, broker.l7], [[], []]);
    for (const proto of [UDP, TCP, SCTP]) assert.equal(find(bot, 'egress', ID.kubeDns, proto, 53)?.proxyPort, 0, 'ANY without the DNS proxy: TCP, UDP and SCTP as L4');
    assert.equal(find(broker, 'ingress', ID.hq, TCP, 9092)?.proxyPort, 0);
  }
  // DNS port given, Kafka not: DNS redirects, Kafka stays L4.
  const { r, problems } = repo([FQDN_POLICY, KAFKA_POLICY], { proxyPorts: { dns: 15053 } });
  assert.ok(problems.includes("note spec.ingress[0].toPorts[0].rules: L7 kafka rules are enforced as their L4 part (this node's proxy has no Kafka listener for ingress)"));
  assert.equal(r.computeEndpoint(MEDIABOT).l7.length, 2);
  assert.deepEqual(r.computeEndpoint(KAFKA).l7, []);
});

test('two parsers on one port of an endpoint: an error of the endpoint, the port denied to every peer (never widened); one port rule with two kinds is refused', () => {
  const httpToo = cnp('default', 'http9092', {
    endpointSelector: { matchLabels: { app: 'kafka' } },
    ingress: [{ toPorts: [{ ports: [{ port: '9092', protocol: 'TCP' }], rules: { http: [{ method: 'GET' }] } }] }],
  });
  const { r } = repo([KAFKA_POLICY, httpToo]);
  const mirror = new Map<string, PolicyMapEntry>();
  const pol = sameIncremental(r, KAFKA, mirror);
  assert.deepEqual(pol.errors.map((e) => [e.severity, e.policy, e.path]), [
    ['error', 'CiliumNetworkPolicy/default/http9092', 'spec.ingress[0].toPorts[0].rules.http'],
    ['error', 'CiliumNetworkPolicy/default/kafka', 'spec.ingress[0].toPorts[0].rules.kafka'],
  ]);
  assert.match(pol.errors[1]!.message, /^Forbidden: ingress TCP\/9092 has Kafka rules here and HTTP rules of CiliumNetworkPolicy\/default\/http9092 .*one port takes one L7 parser/);
  assert.deepEqual(pol.l7.filter((x) => x.port === 9092), []);
  for (const peer of [ID.hq, ID.outpost, 0]) {
    const d = lookupPolicy(pol.entries, 'ingress', peer, TCP, 9092, true);
    assert.equal(d.allowed, false, `peer ${peer} denied on 9092`);
    assert.equal(d.entry?.proxyPort ?? 0, 0);
  }
  // The HTTP policy goes: Kafka alone again, redirected; the error is gone (incrementally too).
  r.deletePolicy('CiliumNetworkPolicy/default/http9092');
  const after = sameIncremental(r, KAFKA, mirror);
  assert.deepEqual(after.errors, []);
  assert.equal(find(after, 'ingress', ID.hq, TCP, 9092)?.proxyPort, PROXY.kafka.ingress);
  // Both kinds in one port rule: the policy is refused, as Cilium's L7Rules.sanitize does.
  const probs = new PolicyRepository({ options: { proxyPorts: PROXY } }).upsertPolicy(cnp('default', 'two', {
    endpointSelector: {}, ingress: [{ toPorts: [{ ports: [{ port: '9092', protocol: 'TCP' }], rules: { http: [{}], kafka: [{ topic: 'x' }] } }] }],
  }));
  assert.deepEqual(probs.filter((p) => p.severity === 'error').map((p) => `${p.path}: ${p.message}`), ['spec.ingress[0].toPorts[0].rules: Forbidden: multiple L7 protocol rule types (http, kafka) in one port rule']);
});

test('DNS rules on a port range are refused; proxyPorts are checked', () => {
  const probs = new PolicyRepository({ options: { proxyPorts: PROXY } }).upsertPolicy(cnp('default', 'range', {
    endpointSelector: {}, egress: [{ toPorts: [{ ports: [{ port: '53', endPort: 54, protocol: 'UDP' }], rules: { dns: [{ matchPattern: '*' }] } }] }],
  }));
  assert.deepEqual(probs.filter((p) => p.severity === 'error').map((p) => p.path), ['spec.egress[0].toPorts[0].ports[0].endPort']);
  assert.throws(() => new PolicyRepository({ options: { proxyPorts: { dns: 0 } } }), /proxyPorts\.dns 0/);
  assert.throws(() => new PolicyRepository({ options: { proxyPorts: { kafka: { egress: 70000 } } } }), /proxyPorts\.kafka\.egress 70000/);
});

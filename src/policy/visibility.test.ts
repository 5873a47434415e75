/**
 * L7 visibility without enforcement: the proxy-visibility annotation in
 * Cilium's syntax (parseProxyVisibility), and what the engine makes of it
 * (EndpointInfo.visibility): records for every request, no verdict changed.
 * Verdicts are read through the emitted entries (lookupPolicy).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RESERVED_IDENTITIES } from '../identity/reserved.js';
import type { LabelSet } from '../identity/labels.js';
import { entryKey, lookupPolicy } from './lookup.js';
import { PolicyRepository } from './repository.js';
import { cnp, podLabels, TCP, UDP } from './testing.js';
import { tracePolicy } from './trace.js';
import { parseProxyVisibility, podProxyVisibility, PROXY_VISIBILITY_ANNOTATION } from './visibility.js';
import type { EndpointInfo, EndpointPolicy, PolicyOptions } from './types.js';

const PROXY = { ingress: 15001 };
const ID = { deathstar: 2001, tiefighter: 2002, xwing: 2003 } as const;
const IDENTITIES: [number, LabelSet][] = [
  ...RESERVED_IDENTITIES.map((i): [number, LabelSet] => [i.id, i.labels]),
  [ID.deathstar, podLabels('empire', { org: 'empire', class: 'deathstar' })],
  [ID.tiefighter, podLabels('empire', { org: 'empire', class: 'tiefighter' })],
  [ID.xwing, podLabels('empire', { org: 'alliance', class: 'xwing' })],
];
const VIS = { kind: 'Builtin', name: 'visibility-annotation' } as const;
const LOCALHOST = { kind: 'Builtin', name: 'allow-localhost' } as const;
const SOURCE = 'Pod/empire/deathstar';
const PATH = `metadata.annotations[${PROXY_VISIBILITY_ANNOTATION}]`;

function deathstar(annotation?: string): EndpointInfo {
  return {
    id: 21, identity: ID.deathstar, labels: IDENTITIES.find(([i]) => i === ID.deathstar)![1], namespace: 'empire',
    ...(annotation !== undefined ? { visibility: parseProxyVisibility(annotation, SOURCE) } : {}),
  };
}

function repo(policies: unknown[] = [], options: PolicyOptions = { proxyPorts: PROXY }): PolicyRepository {
  const r = new PolicyRepository({ options });
  r.setIdentities(IDENTITIES);
  for (const p of policies) assert.deepEqual(r.upsertPolicy(p).filter((x) => x.severity === 'error'), []);
  return r;
}

const decide = (pol: EndpointPolicy, peer: number, protocol: number, port: number) => lookupPolicy(pol.entries, 'ingress', peer, protocol, port, pol.ingressEnforced);
const cookieNames = (r: PolicyRepository, c: number) => r.cookies.describe(c);

/** The Star Wars L3/L4 policy: org=empire may reach the deathstar on TCP/80. */
const L4 = cnp('empire', 'rule1', { endpointSelector: { matchLabels: { org: 'empire', class: 'deathstar' } }, ingress: [{ fromEndpoints: [{ matchLabels: { org: 'empire' } }], toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }] }] });
/** Its L7 version. */
const L7 = cnp('empire', 'rule1', { endpointSelector: { matchLabels: { org: 'empire', class: 'deathstar' } }, ingress: [{ fromEndpoints: [{ matchLabels: { org: 'empire' } }], toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }], rules: { http: [{ method: 'POST', path: '/v1/request-landing' }] } }] }] });

// ---- the annotation ----

test("Cilium's syntax: one or more <Direction/port/L4/L7>, HTTP on ingress TCP honoured, the rest warned about", () => {
  assert.deepEqual(parseProxyVisibility('<Ingress/80/TCP/HTTP>', SOURCE), { source: SOURCE, annotation: PROXY_VISIBILITY_ANNOTATION, ingressHttp: [80], egressHttp: [], problems: [] });
  // Case-insensitive L7 protocol, as Cilium lowercases it; duplicates collapse.
  assert.deepEqual(parseProxyVisibility('<Ingress/8080/TCP/http>,<Ingress/80/TCP/Http>,<Ingress/80/TCP/HTTP>', SOURCE).ingressHttp, [80, 8080]);
  const v = parseProxyVisibility('<Ingress/80/TCP/HTTP>,<Egress/53/UDP/DNS>,<Egress/80/TCP/HTTP>,<Ingress/9092/TCP/Kafka>,<Ingress/81/UDP/HTTP>,<Ingress/82/ANY/HTTP>', SOURCE);
  assert.deepEqual([v.ingressHttp, v.egressHttp], [[80, 82], [80]]);
  assert.deepEqual(v.problems.map((p) => [p.severity, p.policy, p.path]), Array(4).fill(['warning', SOURCE, PATH]));
  assert.deepEqual(v.problems.map((p) => p.message), [
    "<Egress/53/UDP/DNS>: not honoured: beeline's node proxy has no DNS parser yet; this traffic is not redirected and gives no L7 records",
    "<Ingress/9092/TCP/Kafka>: not honoured: beeline's node proxy has no Kafka parser yet; this traffic is not redirected and gives no L7 records",
    '<Ingress/81/UDP/HTTP>: not honoured: HTTP is redirected on TCP only',
    '<Ingress/82/ANY/HTTP>: only its TCP part is honoured: HTTP is redirected on TCP only, UDP 82 is not redirected',
  ]);
});

test('an invalid annotation is ignored whole (as Cilium ignores it), with a warning naming the object and field', () => {
  for (const [text, why] of [
    ['<Ingress/80/TCP/HTTP>, <Egress/53/UDP/DNS>', /does not match the proxy-visibility format/],
    ['Ingress/80/TCP/HTTP', /does not match/],
    ['<Ingress/8/TCP/HTTP>', /does not match/], // Cilium's pattern wants two digits at least
    ['<ingress/80/TCP/HTTP>', /does not match/],
    ['<Ingress/80/ICMP/HTTP>', /does not match/],
    ['', /does not match/],
    ['<Ingress/70000/TCP/HTTP>', /port 70000 must be between 1 and 65535/],
    ['<Ingress/80/TCP/HTTP>,<Ingress/53/UDP/DNS>', /<Ingress\/53\/UDP\/DNS>: DNS is allowed on Egress only/],
    ['<Egress/9092/TCP/Kafka>', /Kafka is allowed on Ingress only/],
    ['<Ingress/80/TCP/GRPC>', /unsupported L7 protocol GRPC/],
    ['<Ingress/80/TCP/HTTP>,<Ingress/80/ANY/Kafka>', /duplicate annotations with different L7 protocols http and kafka for 80\/TCP \(Ingress\)/],
  ] as const) {
    const v = parseProxyVisibility(text, SOURCE);
    assert.deepEqual([v.ingressHttp, v.egressHttp], [[], []], text);
    assert.equal(v.problems.length, 1, text);
    assert.equal(v.problems[0]!.path, PATH);
    assert.match(v.problems[0]!.message, why, text);
    assert.match(v.problems[0]!.message, /the annotation is ignored \(expected <Ingress\|Egress\/port/);
  }
});

test("a pod's own annotation (or Cilium's alias) wins over its namespace's; the namespace's applies to pods without one", () => {
  const pod = (annotations?: Record<string, string>) => ({ metadata: { name: 'web', namespace: 'shop', ...(annotations ? { annotations } : {}) } });
  const ns = { metadata: { name: 'shop', annotations: { [PROXY_VISIBILITY_ANNOTATION]: '<Ingress/8080/TCP/HTTP>' } } };
  assert.deepEqual(podProxyVisibility(pod(), ns), { source: 'Namespace/shop', annotation: PROXY_VISIBILITY_ANNOTATION, ingressHttp: [8080], egressHttp: [], problems: [] });
  assert.deepEqual(podProxyVisibility(pod({ [PROXY_VISIBILITY_ANNOTATION]: '<Ingress/80/TCP/HTTP>' }), ns), { source: 'Pod/shop/web', annotation: PROXY_VISIBILITY_ANNOTATION, ingressHttp: [80], egressHttp: [], problems: [] });
  const alias = podProxyVisibility(pod({ 'io.cilium.proxy-visibility': '<Egress/53/UDP/DNS>' }), ns)!;
  assert.deepEqual([alias.source, alias.ingressHttp, alias.problems[0]!.path], ['Pod/shop/web', [], 'metadata.annotations[io.cilium.proxy-visibility]']);
  assert.equal(podProxyVisibility(pod({ other: 'x' }), { metadata: { name: 'shop' } }), undefined);
  assert.equal(podProxyVisibility(pod(), undefined), undefined);
});

// ---- the engine ----

test('no policy: ingress becomes enforced with default allow (visibility-annotation) and port 80 is redirected with an allow-all L7 source', () => {
  const r = repo();
  const pol = r.computeEndpoint(deathstar('<Ingress/80/TCP/HTTP>'));
  assert.deepEqual([pol.ingressEnforced, pol.ingressDefaultDeny, pol.egressEnforced], [true, false, false]);
  assert.deepEqual(pol.selectedBy, { ingress: [], egress: [] }, 'no policy selects it');
  assert.deepEqual(pol.errors, []);
  const any = pol.entries.find((e) => e.identity === 0 && e.protocol === 0)!;
  assert.deepEqual([any.verdict, any.proxyPort, cookieNames(r, any.cookie)], ['allow', 0, ['visibility-annotation']]);
  const e80 = pol.entries.find((e) => e.identity === 0 && e.protocol === TCP && e.port === 80)!;
  assert.deepEqual([e80.verdict, e80.portPrefixLen, e80.proxyPort, cookieNames(r, e80.cookie)], ['allow', 16, PROXY.ingress, ['visibility-annotation']]);
  assert.deepEqual(pol.l7.find((x) => x.identity === 0), { direction: 'ingress', port: 80, portPrefixLen: 16, identity: 0, protocol: 6, parser: 'http', proxyPort: PROXY.ingress, http: [{ origin: VIS, rules: [] }] });
  // The host (allow-localhost) is redirected on 80 too, every request allowed.
  assert.deepEqual(pol.l7.find((x) => x.identity === 1)!.http, [{ origin: LOCALHOST, rules: [] }, { origin: VIS, rules: [] }]);
  // Every peer passes, on every port; on TCP/80 through the proxy.
  for (const peer of [ID.tiefighter, ID.xwing, 2, 1]) {
    for (const [proto, port] of [[TCP, 80], [TCP, 443], [UDP, 80], [UDP, 53]] as const) {
      const d = decide(pol, peer, proto, port);
      assert.equal(d.allowed, true, `${peer} ${proto}/${port}`);
      assert.equal(d.entry!.proxyPort, proto === TCP && port === 80 ? PROXY.ingress : 0, `${peer} ${proto}/${port} proxy port`);
    }
  }
  // Egress is not touched.
  assert.ok(pol.entries.every((e) => e.direction === 'ingress'));
  // Without the annotation: nothing at all.
  const plain = r.computeEndpoint(deathstar());
  assert.deepEqual([plain.ingressEnforced, plain.entries.length, plain.l7.length], [false, 0, 0]);
});

test('with an L3/L4 policy: allowed peers are redirected with an allow-all source of that policy, denied peers stay denied, nothing is widened', () => {
  const r = repo([L4]);
  const without = r.computeEndpoint(deathstar());
  const pol = r.computeEndpoint(deathstar('<Ingress/80/TCP/HTTP>,<Ingress/8080/TCP/HTTP>'));
  assert.deepEqual([pol.ingressEnforced, pol.ingressDefaultDeny], [true, true]);
  const t = decide(pol, ID.tiefighter, TCP, 80);
  assert.deepEqual([t.allowed, t.entry!.proxyPort], [true, PROXY.ingress]);
  assert.deepEqual(pol.l7.find((x) => x.identity === ID.tiefighter)!.http, [{ origin: { kind: 'CiliumNetworkPolicy', namespace: 'empire', name: 'rule1' }, rules: [] }]);
  // The X-wing and the world: still dropped by default deny, no redirect.
  for (const peer of [ID.xwing, 2]) {
    assert.deepEqual([decide(pol, peer, TCP, 80).allowed, decide(pol, peer, TCP, 80).dropReason], [false, 133]);
    assert.equal(pol.l7.find((x) => x.identity === peer), undefined);
  }
  // 8080 is allowed to nobody but the host: the annotation does not open it.
  assert.equal(decide(pol, ID.tiefighter, TCP, 8080).allowed, false);
  assert.equal(pol.l7.filter((x) => x.port === 8080).map((x) => x.identity).join(), '1', 'only the host (allow-localhost) reaches 8080');
  // Every verdict equals the one without the annotation.
  for (const peer of [0, 1, 2, ID.tiefighter, ID.xwing, ID.deathstar]) {
    for (const [proto, port] of [[TCP, 80], [TCP, 8080], [TCP, 443], [UDP, 80]] as const) {
      const a = decide(pol, peer, proto, port), b = decide(without, peer, proto, port);
      assert.deepEqual([a.allowed, a.dropReason], [b.allowed, b.dropReason], `${peer} ${proto}/${port}`);
    }
  }
});

test('with an L7 policy on the port: the annotation changes nothing (the policy\'s HTTP rules stay, never widened to allow-all)', () => {
  const r = repo([L7]);
  const strip = (p: EndpointPolicy) => ({ ...p, entries: p.entries.map((e) => ({ ...e })) });
  assert.deepEqual(strip(r.computeEndpoint(deathstar('<Ingress/80/TCP/HTTP>'))), strip(r.computeEndpoint(deathstar())));
});

test('a deny beats the redirect; a policy with enableDefaultDeny off keeps its default-allow origin', () => {
  const deny = cnp('empire', 'deny-xwing', { endpointSelector: { matchLabels: { class: 'deathstar' } }, ingressDeny: [{ fromEndpoints: [{ matchLabels: { org: 'alliance' } }] }], enableDefaultDeny: { ingress: false } });
  const r = repo([deny]);
  const pol = r.computeEndpoint(deathstar('<Ingress/80/TCP/HTTP>'));
  assert.deepEqual([pol.ingressEnforced, pol.ingressDefaultDeny], [true, false]);
  assert.deepEqual([decide(pol, ID.xwing, TCP, 80).allowed, decide(pol, ID.xwing, TCP, 80).dropReason], [false, 181]);
  assert.equal(pol.l7.find((x) => x.identity === ID.xwing), undefined);
  const any80 = pol.entries.find((e) => e.identity === 0 && e.protocol === TCP && e.port === 80)!;
  assert.deepEqual([any80.proxyPort, cookieNames(r, any80.cookie)], [PROXY.ingress, ['default-allow']]);
  assert.deepEqual(decide(pol, ID.tiefighter, TCP, 80).entry, any80);
});

test('not honoured without the proxy listener of the direction or with enforcement never: nothing enforced, a warning says why', () => {
  for (const [options, why] of [[{}, 'this node has no L7 proxy for ingress'], [{ proxyPorts: PROXY, enforcement: 'never' }, 'policy enforcement is never']] as const) {
    const r = repo([], options);
    const pol = r.computeEndpoint(deathstar('<Ingress/80/TCP/HTTP>,<Egress/53/UDP/DNS>'));
    assert.deepEqual([pol.ingressEnforced, pol.entries.length, pol.l7.length], [false, 0, 0]);
    assert.deepEqual(pol.errors.map((p) => [p.policy, p.path]), [[SOURCE, PATH], [SOURCE, PATH]]);
    assert.match(pol.errors[0]!.message, /^<Egress\/53\/UDP\/DNS>: not honoured/);
    assert.equal(pol.errors[1]!.message, `not honoured: ${why}; ingress TCP 80 is not redirected and gives no L7 records`);
  }
  // An ingress proxy only: the egress part is not honoured, the ingress part is.
  const pol = repo().computeEndpoint(deathstar('<Ingress/80/TCP/HTTP>,<Egress/8080/TCP/HTTP>'));
  assert.deepEqual([pol.ingressEnforced, pol.egressEnforced], [true, false]);
  assert.deepEqual(pol.errors.map((p) => p.message), ['not honoured: this node has no L7 proxy for egress; egress TCP 8080 is not redirected and gives no L7 records']);
});

test('egress with the egress listener: the pod\'s own HTTP requests to the port are redirected and recorded, nothing denied', () => {
  const r = repo([], { proxyPorts: { ingress: 15001, egress: 15002 } });
  const pol = r.computeEndpoint(deathstar('<Egress/80/TCP/HTTP>'));
  assert.deepEqual([pol.ingressEnforced, pol.egressEnforced, pol.egressDefaultDeny], [false, true, false]);
  assert.deepEqual(pol.l7, [{ direction: 'egress', port: 80, portPrefixLen: 16, identity: 0, protocol: 6, parser: 'http', proxyPort: 15002, http: [{ origin: VIS, rules: [] }] }]);
  for (const peer of [ID.xwing, 2]) for (const [proto, port] of [[TCP, 80], [TCP, 443], [UDP, 53]] as const) {
    const d = lookupPolicy(pol.entries, 'egress', peer, proto, port, true);
    assert.deepEqual([d.allowed, d.entry!.proxyPort], [true, proto === TCP && port === 80 ? 15002 : 0], `${peer} ${proto}/${port}`);
  }
});

test("the annotation's warnings are the endpoint's problems; updateEndpoint follows the annotation coming, changing and going", () => {
  const r = repo([L4]);
  const seq = [undefined, '<Ingress/80/TCP/HTTP>', '<Ingress/80/TCP/HTTP>,<Egress/53/UDP/DNS>', 'bad', undefined, '<Ingress/443/TCP/HTTP>'];
  const mirror = new Map<string, unknown>();
  for (const a of seq) {
    const ep = deathstar(a);
    const u = r.updateEndpoint(ep);
    for (const e of u.upserts) mirror.set(entryKey(e), e);
    for (const e of u.deletes) assert.ok(mirror.delete(entryKey(e)));
    const want = r.computeEndpoint(ep);
    assert.deepEqual({ ...u.policy, entries: u.policy.entries, entryCount: undefined }, { ...want, entryCount: undefined }, String(a));
    assert.deepEqual([...mirror.entries()].sort((x, y) => (x[0] < y[0] ? -1 : 1)), want.entries.map((e) => [entryKey(e), e]).sort((x, y) => (x[0] < y[0] ? -1 : 1)), String(a));
    assert.deepEqual(want.errors, ep.visibility?.problems ?? []);
    assert.equal(want.l7.some((x) => x.port === 80 && x.identity === ID.tiefighter), a?.startsWith('<Ingress/80') ?? false, String(a));
  }
});

test('trace: a request to an annotated port is allowed and redirected, naming visibility-annotation', () => {
  const r = repo();
  const res = tracePolicy(r, { source: { identity: ID.xwing }, destination: { endpoint: deathstar('<Ingress/80/TCP/HTTP>') }, protocol: TCP, port: 80 });
  assert.equal(res.allowed, true);
  assert.deepEqual(res.ingress?.by, ['visibility-annotation']);
  assert.deepEqual(res.ingress?.redirect, { proxyPort: PROXY.ingress, parser: 'http', by: ['visibility-annotation'] });
});

/**
 * L7 redirects: with proxyPorts, allow entries on a port with `rules.http`
 * redirect to the node proxy and EndpointPolicy.l7 says which HTTP rules it
 * enforces there, per peer identity (Cilium's semantics; see l7.ts). Every
 * verdict is still read through the emitted entries (lookupPolicy).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseManifest } from '../k8s/parse.js';
import { RESERVED_IDENTITIES } from '../identity/reserved.js';
import type { LabelSet } from '../identity/labels.js';
import { entryKey, lookupPolicy } from './lookup.js';
import { PolicyRepository } from './repository.js';
import { cnp, podLabels, TCP, UDP } from './testing.js';
import { tracePolicy } from './trace.js';
import type { EndpointInfo, EndpointPolicy, L7Redirect, PolicyMapEntry, PolicyOptions } from './types.js';

const PROXY = { ingress: 15001, egress: 15002 };
const ID = { deathstar: 2001, tiefighter: 2002, xwing: 2003 } as const;
const IDENTITIES: [number, LabelSet][] = [
  ...RESERVED_IDENTITIES.map((i): [number, LabelSet] => [i.id, i.labels]),
  [ID.deathstar, podLabels('empire', { org: 'empire', class: 'deathstar', 'app.kubernetes.io/name': 'deathstar' })],
  [ID.tiefighter, podLabels('empire', { org: 'empire', class: 'tiefighter', 'app.kubernetes.io/name': 'tiefighter' })],
  [ID.xwing, podLabels('empire', { org: 'alliance', class: 'xwing', 'app.kubernetes.io/name': 'xwing' })],
];
const ep = (id: number, identity: number): EndpointInfo => ({ id, identity, labels: IDENTITIES.find(([i]) => i === identity)![1], namespace: 'empire' });
const DEATHSTAR = ep(21, ID.deathstar);
const TIEFIGHTER = ep(22, ID.tiefighter);

/** The Star Wars demo's L7 policy (rule1), as examples/starwars.yaml applies it. */
function rule1(): unknown {
  const text = readFileSync(new URL('../../../examples/starwars.yaml', import.meta.url), 'utf8');
  const p = parseManifest(text, 'starwars.yaml').map((d) => d.object as Record<string, unknown>).find((o) => o.kind === 'CiliumNetworkPolicy' && (o.metadata as { name: string }).name === 'rule1');
  assert.ok(p, 'examples/starwars.yaml has rule1');
  return p;
}
const LANDING = { method: 'POST', path: '/v1/request-landing' };
const RULE1 = { kind: 'CiliumNetworkPolicy', namespace: 'empire', name: 'rule1' } as const;
const origin = (name: string) => ({ kind: 'CiliumNetworkPolicy', namespace: 'empire', name }) as const;
const ALLOW_LOCALHOST = { kind: 'Builtin', name: 'allow-localhost' } as const;

function repo(policies: unknown[], options: PolicyOptions = { proxyPorts: PROXY }): PolicyRepository {
  const r = new PolicyRepository({ options });
  r.setIdentities(IDENTITIES);
  for (const p of policies) {
    const errs = r.upsertPolicy(p).filter((x) => x.severity === 'error');
    assert.deepEqual(errs, [], 'fixture policy accepted');
  }
  return r;
}

const find = (pol: EndpointPolicy, dir: string, identity: number, protocol: number, port: number, len = 16): PolicyMapEntry | undefined =>
  pol.entries.find((e) => e.direction === dir && e.identity === identity && e.protocol === protocol && e.port === port && e.portPrefixLen === len);
const redirect = (pol: EndpointPolicy, dir: string, identity: number, port: number): L7Redirect | undefined =>
  pol.l7.find((x) => x.direction === dir && x.identity === identity && x.port === port);
const decide = (pol: EndpointPolicy, dir: 'ingress' | 'egress', peer: number, protocol: number, port: number) => lookupPolicy(pol.entries, dir, peer, protocol, port);

/** Every L7 redirect has its entry with that proxy port, and every entry with a proxy port has its redirect. */
function assertConsistent(pol: EndpointPolicy): void {
  const redirected = pol.entries.filter((e) => e.proxyPort !== 0);
  assert.deepEqual(
    redirected.map((e) => `${entryKey(e)}@${e.proxyPort}`).sort(),
    pol.l7.map((x) => `${entryKey({ direction: x.direction, identity: x.identity, protocol: TCP, port: x.port, portPrefixLen: x.portPrefixLen })}@${x.proxyPort}`).sort(),
  );
  for (const e of redirected) assert.equal(e.verdict, 'allow');
}

test('Star Wars rule1: the empire peers reach the deathstar on TCP/80 through the proxy with POST /v1/request-landing', () => {
  const r = repo([]);
  const problems = r.upsertPolicy(rule1());
  assert.deepEqual(problems, [], 'HTTP rules are enforced: no note');
  const pol = r.computeEndpoint(DEATHSTAR);
  for (const id of [ID.tiefighter, ID.deathstar]) {
    const e = find(pol, 'ingress', id, TCP, 80);
    assert.deepEqual([e?.verdict, e?.proxyPort], ['allow', PROXY.ingress], `identity ${id}`);
    assert.equal(decide(pol, 'ingress', id, TCP, 80).entry, e, 'the datapath decides with the redirecting entry');
    assert.deepEqual(redirect(pol, 'ingress', id, 80), { direction: 'ingress', port: 80, portPrefixLen: 16, identity: id, protocol: 6, parser: 'http', proxyPort: PROXY.ingress, http: [{ origin: RULE1, rules: [LANDING] }] });
  }
  // The xwing is not allowed at all: default deny, no redirect.
  assert.equal(decide(pol, 'ingress', ID.xwing, TCP, 80).allowed, false);
  assert.equal(redirect(pol, 'ingress', ID.xwing, 80), undefined);
  // allow-localhost (an L3-only allow of the host) meets the redirect: the host gets its own redirect entry, every request allowed.
  const host = find(pol, 'ingress', 1, TCP, 80);
  assert.deepEqual([host?.verdict, host?.proxyPort, host?.cookie], ['allow', PROXY.ingress, find(pol, 'ingress', 1, 0, 0, 0)!.cookie]);
  assert.deepEqual(redirect(pol, 'ingress', 1, 80)!.http, [{ origin: ALLOW_LOCALHOST, rules: [] }]);
  // Other ports of the host stay plain allows.
  assert.equal(decide(pol, 'ingress', 1, TCP, 443).entry!.proxyPort, 0);
  assertConsistent(pol);
});

test('without proxyPorts nothing changes: no redirects, the note stays', () => {
  const r = repo([], {});
  const problems = r.upsertPolicy(rule1());
  assert.deepEqual(problems.map((p) => [p.severity, p.path, p.message]), [['note', 'spec.ingress[0].toPorts[0].rules', 'L7 http rules are enforced as their L4 part (this node has no L7 proxy)']]);
  const pol = r.computeEndpoint(DEATHSTAR);
  assert.deepEqual(pol.l7, []);
  assert.ok(pol.entries.every((e) => e.proxyPort === 0));
  assert.equal(find(pol, 'ingress', ID.tiefighter, TCP, 80)?.verdict, 'allow');
  assert.equal(find(pol, 'ingress', 1, TCP, 80), undefined, 'no materialised entries');
});

test('an L4-only allow of another policy on the same port is ORed in as rules: []', () => {
  const l4 = cnp('empire', 'port80', { endpointSelector: { matchLabels: { class: 'deathstar' } }, ingress: [{ toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }] }] });
  const pol = repo([rule1(), l4]).computeEndpoint(DEATHSTAR);
  // Any identity on 80: redirected, every request allowed (by port80).
  assert.equal(find(pol, 'ingress', 0, TCP, 80)?.proxyPort, PROXY.ingress);
  assert.deepEqual(redirect(pol, 'ingress', 0, 80)!.http, [{ origin: origin('port80'), rules: [] }]);
  // The tiefighter has its own redirect: its own rules and the any-identity ones, one source per policy.
  assert.deepEqual(redirect(pol, 'ingress', ID.tiefighter, 80)!.http, [{ origin: origin('port80'), rules: [] }, { origin: RULE1, rules: [LANDING] }]);
  // The xwing now reaches 80 through the identity-0 entry: redirected too.
  assert.equal(decide(pol, 'ingress', ID.xwing, TCP, 80).entry!.proxyPort, PROXY.ingress);
  assertConsistent(pol);
});

test('an L3-only allow of a peer gets its own redirect entry on the port; its other ports stay plain', () => {
  const l3 = cnp('empire', 'alliance', { endpointSelector: { matchLabels: { class: 'deathstar' } }, ingress: [{ fromEndpoints: [{ matchLabels: { org: 'alliance' } }] }] });
  const pol = repo([rule1(), l3]).computeEndpoint(DEATHSTAR);
  const e = find(pol, 'ingress', ID.xwing, TCP, 80);
  assert.deepEqual([e?.verdict, e?.proxyPort, e?.cookie], ['allow', PROXY.ingress, find(pol, 'ingress', ID.xwing, 0, 0, 0)!.cookie]);
  assert.equal(decide(pol, 'ingress', ID.xwing, TCP, 80).entry, e);
  assert.deepEqual(redirect(pol, 'ingress', ID.xwing, 80)!.http, [{ origin: origin('alliance'), rules: [] }]);
  assert.deepEqual([decide(pol, 'ingress', ID.xwing, TCP, 443).allowed, decide(pol, 'ingress', ID.xwing, TCP, 443).entry!.proxyPort], [true, 0]);
  assert.equal(decide(pol, 'ingress', ID.xwing, UDP, 80).entry!.proxyPort, 0, 'UDP is not redirected');
  assertConsistent(pol);
});

test('an allow of any identity on all TCP ports is redirected on the L7 port for every peer', () => {
  const allTcp = cnp('empire', 'all-tcp', { endpointSelector: { matchLabels: { class: 'deathstar' } }, ingress: [{ toPorts: [{ ports: [{ port: '0', protocol: 'TCP' }] }] }] });
  const pol = repo([rule1(), allTcp]).computeEndpoint(DEATHSTAR);
  assert.equal(find(pol, 'ingress', 0, TCP, 80)?.proxyPort, PROXY.ingress, 'materialised for identity 0');
  assert.deepEqual(redirect(pol, 'ingress', 0, 80)!.http, [{ origin: origin('all-tcp'), rules: [] }]);
  assert.deepEqual(redirect(pol, 'ingress', ID.tiefighter, 80)!.http, [{ origin: origin('all-tcp'), rules: [] }, { origin: RULE1, rules: [LANDING] }]);
  assert.equal(decide(pol, 'ingress', ID.xwing, TCP, 80).entry!.proxyPort, PROXY.ingress);
  assert.equal(decide(pol, 'ingress', ID.xwing, TCP, 81).entry!.proxyPort, 0);
  assertConsistent(pol);
});

test('denies win: a denied peer gets no redirect; a deny of every peer on the port leaves none', () => {
  const denyTie = cnp('empire', 'no-tie', { endpointSelector: { matchLabels: { class: 'deathstar' } }, ingressDeny: [{ fromEndpoints: [{ matchLabels: { class: 'tiefighter' } }], toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }] }] });
  const pol = repo([rule1(), denyTie]).computeEndpoint(DEATHSTAR);
  assert.deepEqual([find(pol, 'ingress', ID.tiefighter, TCP, 80)?.verdict, find(pol, 'ingress', ID.tiefighter, TCP, 80)?.proxyPort], ['deny', 0]);
  assert.equal(redirect(pol, 'ingress', ID.tiefighter, 80), undefined);
  assert.equal(find(pol, 'ingress', ID.deathstar, TCP, 80)?.proxyPort, PROXY.ingress, 'the other empire peer still redirects');
  assertConsistent(pol);
  const denyAll = cnp('empire', 'no-80', { endpointSelector: { matchLabels: { class: 'deathstar' } }, ingressDeny: [{ toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }] }] });
  const none = repo([rule1(), denyAll]).computeEndpoint(DEATHSTAR);
  assert.deepEqual(none.l7, []);
  assert.ok(none.entries.every((e) => e.proxyPort === 0));
  assert.equal(decide(none, 'ingress', ID.tiefighter, TCP, 80).dropReason, 181);
});

test('egress http rules give egress redirects to the egress listener', () => {
  const out = cnp('empire', 'tie-out', {
    endpointSelector: { matchLabels: { class: 'tiefighter' } },
    egress: [{ toEndpoints: [{ matchLabels: { class: 'deathstar' } }], toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }], rules: { http: [{ method: 'GET', path: '/v1/.*' }] } }] }],
  });
  const pol = repo([out]).computeEndpoint(TIEFIGHTER);
  assert.equal(pol.ingressEnforced, false);
  assert.deepEqual(pol.l7, [{ direction: 'egress', port: 80, portPrefixLen: 16, identity: ID.deathstar, protocol: 6, parser: 'http', proxyPort: PROXY.egress, http: [{ origin: origin('tie-out'), rules: [{ method: 'GET', path: '/v1/.*' }] }] }]);
  assert.equal(decide(pol, 'egress', ID.deathstar, TCP, 80).entry!.proxyPort, PROXY.egress);
  assertConsistent(pol);
});

test('an endPort range with http rules redirects the range (as its aligned prefixes)', () => {
  const ranged = cnp('empire', 'ranged', {
    endpointSelector: { matchLabels: { class: 'deathstar' } },
    ingress: [{ fromEndpoints: [{ matchLabels: { class: 'tiefighter' } }], toPorts: [{ ports: [{ port: '8000', endPort: 8003, protocol: 'TCP' }], rules: { http: [{ method: 'GET' }] } }] }],
  });
  const single = cnp('empire', 'single', { endpointSelector: { matchLabels: { class: 'deathstar' } }, ingress: [{ fromEndpoints: [{ matchLabels: { class: 'tiefighter' } }], toPorts: [{ ports: [{ port: '8001', protocol: 'TCP' }] }] }] });
  const r = repo([ranged, single]);
  assert.deepEqual(r.listPolicies().flatMap((p) => p.problems), []);
  const pol = r.computeEndpoint(DEATHSTAR);
  assert.deepEqual(pol.l7.filter((x) => x.identity === ID.tiefighter).map((x) => [x.port, x.portPrefixLen, x.http.map((h) => [h.origin.name, h.rules.length])]), [
    [8000, 14, [['ranged', 1]]],
    // A plain allow inside the range is more specific: it redirects too, ORed with the range's rules.
    [8001, 16, [['ranged', 1], ['single', 0]]],
  ]);
  for (const port of [8000, 8001, 8002, 8003]) assert.equal(decide(pol, 'ingress', ID.tiefighter, TCP, port).entry!.proxyPort, PROXY.ingress, `port ${port}`);
  assert.equal(decide(pol, 'ingress', ID.tiefighter, TCP, 8004).allowed, false);
  assertConsistent(pol);
});

test('kafka without a listener keeps the note; TLS settings and generic l7proto rules are refused with their field paths (never widened to L4)', () => {
  const r = repo([]);
  const kafka = r.upsertPolicy(cnp('empire', 'kafka', { endpointSelector: {}, ingress: [{ toPorts: [{ ports: [{ port: '9092', protocol: 'TCP' }], rules: { kafka: [{ topic: 'x' }] } }] }] }));
  assert.deepEqual(kafka.map((p) => p.message), ["L7 kafka rules are enforced as their L4 part (this node's proxy has no Kafka listener for ingress)"]);
  const tls = r.upsertPolicy(cnp('empire', 'tls', {
    endpointSelector: { matchLabels: { class: 'deathstar' } },
    ingress: [{ toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }], serverNames: ['deathstar.empire'], terminatingTLS: { secret: { name: 's' } }, rules: { http: [{ method: 'GET' }] } }] }],
  }));
  assert.deepEqual(tls.map((p) => [p.severity, p.path]), [
    ['error', 'spec.ingress[0].toPorts[0].serverNames'],
    ['error', 'spec.ingress[0].toPorts[0].terminatingTLS'],
  ]);
  assert.match(tls[0]!.message, /^Forbidden: serverNames is not supported: .* cannot be enforced as written$/);
  const sni = r.upsertPolicy(cnp('empire', 'sni', { endpointSelector: {}, egress: [{ toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }], serverNames: ['x.example'] }] }] }));
  assert.deepEqual(sni.map((p) => [p.severity, p.path]), [['error', 'spec.egress[0].toPorts[0].serverNames']], 'SNI matching alone is refused too');
  const generic = r.upsertPolicy(cnp('empire', 'gen', { endpointSelector: {}, ingress: [{ toPorts: [{ ports: [{ port: '6379', protocol: 'TCP' }], rules: { l7proto: 'r2d2', l7: [{ cmd: 'READ' }] } }] }] }));
  assert.deepEqual(generic.map((p) => [p.severity, p.path]), [['error', 'spec.ingress[0].toPorts[0].rules.l7proto']]);
  assert.match(generic[0]!.message, /generic L7 rules \(l7proto "r2d2"\): .*HTTP, DNS and Kafka parsers only/);
  const pol = r.computeEndpoint(DEATHSTAR);
  assert.deepEqual(pol.l7, []);
  // headerMatches with mismatch actions and secrets are kept as written for the proxy to judge.
  const hm = { method: 'GET', headerMatches: [{ name: 'X-Token', secret: { name: 'tok' }, mismatch: 'REPLACE' as const }] };
  assert.deepEqual(r.upsertPolicy(cnp('empire', 'hm', { endpointSelector: { matchLabels: { class: 'deathstar' } }, ingress: [{ toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }], rules: { http: [hm] } }] }] })), []);
  assert.deepEqual(redirect(r.computeEndpoint(DEATHSTAR), 'ingress', 0, 80)!.http, [{ origin: origin('hm'), rules: [hm] }]);
});

test('deterministic: the same policies in another order give the same redirects and entries', () => {
  const l4 = cnp('empire', 'port80', { endpointSelector: { matchLabels: { class: 'deathstar' } }, ingress: [{ toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }], rules: { http: [{ path: '/b' }, { path: '/a' }] } }] }] });
  const l3 = cnp('empire', 'alliance', { endpointSelector: { matchLabels: { class: 'deathstar' } }, ingress: [{ fromEndpoints: [{ matchLabels: { org: 'alliance' } }] }] });
  const a = repo([rule1(), l4, l3]).computeEndpoint(DEATHSTAR);
  const b = repo([l3, l4, rule1()]).computeEndpoint(DEATHSTAR);
  assert.deepEqual(a.l7, b.l7);
  const shape = (p: EndpointPolicy) => p.entries.map((e) => `${entryKey(e)}:${e.verdict}:${e.proxyPort}`);
  assert.deepEqual(shape(a), shape(b));
  assert.deepEqual(redirect(a, 'ingress', 0, 80)!.http[0]!.rules, [{ path: '/a' }, { path: '/b' }], 'rules in a stable order');
  const keys = a.l7.map((x) => [x.direction, x.port, x.portPrefixLen, x.identity]);
  assert.deepEqual(keys, [...keys].sort((x, y) => (x[0]! < y[0]! ? -1 : x[0]! > y[0]! ? 1 : (x[1] as number) - (y[1] as number) || (x[2] as number) - (y[2] as number) || (x[3] as number) - (y[3] as number))));
  assert.deepEqual(repo([rule1(), l4, l3]).computeEndpoint(DEATHSTAR), a, 'twice the same');
});

test('updateEndpoint writes proxy-port changes: redirects come, change port and go', () => {
  const r = repo([]);
  const first = r.updateEndpoint(DEATHSTAR);
  assert.deepEqual(first.policy.l7, []);
  r.upsertPolicy(rule1());
  const on = r.updateEndpoint(DEATHSTAR);
  assert.deepEqual(on.policy.l7, r.computeEndpoint(DEATHSTAR).l7);
  assert.ok(on.upserts.some((e) => e.identity === ID.tiefighter && e.port === 80 && e.proxyPort === PROXY.ingress));
  assert.ok(on.upserts.some((e) => e.identity === 1 && e.protocol === TCP && e.port === 80 && e.proxyPort === PROXY.ingress), 'the materialised host entry is written');
  r.setOptions({ proxyPorts: { ingress: 16001, egress: 16002 } });
  const moved = r.updateEndpoint(DEATHSTAR);
  assert.deepEqual(moved.deletes, []);
  assert.deepEqual(moved.upserts.map((e) => [e.identity, e.port, e.proxyPort]), [[1, 80, 16001], [ID.deathstar, 80, 16001], [ID.tiefighter, 80, 16001]]);
  r.upsertPolicy(cnp('empire', 'rule1', { endpointSelector: { matchLabels: { class: 'deathstar' } }, ingress: [{ fromEndpoints: [{ matchLabels: { org: 'empire' } }], toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }] }] }));
  const off = r.updateEndpoint(DEATHSTAR);
  assert.deepEqual(off.policy.l7, []);
  assert.deepEqual(off.upserts.map((e) => [e.identity, e.port, e.proxyPort]), [[ID.deathstar, 80, 0], [ID.tiefighter, 80, 0]]);
  assert.deepEqual(off.deletes.map((e) => [e.identity, e.protocol, e.port]), [[1, TCP, 80]], 'the materialised entry goes');
  assert.equal(off.policy.entryCount, r.computeEndpoint(DEATHSTAR).entries.length);
});

test('trace says when the deciding entry redirects, and to whom the rules belong', () => {
  const l4 = cnp('empire', 'port80', { endpointSelector: { matchLabels: { class: 'deathstar' } }, ingress: [{ toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }] }] });
  const r = repo([rule1(), l4]);
  const t = tracePolicy(r, { source: { endpoint: TIEFIGHTER }, destination: { endpoint: DEATHSTAR }, protocol: TCP, port: 80 });
  assert.deepEqual(t.ingress!.redirect, { proxyPort: PROXY.ingress, parser: 'http', by: ['CiliumNetworkPolicy/empire/port80', 'CiliumNetworkPolicy/empire/rule1'] });
  assert.deepEqual([t.egress!.enforced, t.egress!.redirect], [false, undefined], 'the tiefighter has no egress policy');
  const xw = tracePolicy(r, { source: { identity: ID.xwing }, destination: { endpoint: DEATHSTAR }, protocol: TCP, port: 80 });
  assert.deepEqual(xw.ingress!.redirect, { proxyPort: PROXY.ingress, parser: 'http', by: ['CiliumNetworkPolicy/empire/port80'] });
  const other = tracePolicy(r, { source: { identity: ID.tiefighter }, destination: { endpoint: DEATHSTAR }, protocol: TCP, port: 81 });
  assert.equal(other.ingress!.redirect, undefined);
});

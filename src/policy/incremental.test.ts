/**
 * Property test of the incremental path: over random sequences of policy
 * upserts and deletes (CNP, CCNP, NetworkPolicy; selectors, entities, CIDR
 * sets, CIDR groups, toServices, named ports both ways, deny sections,
 * enableDefaultDeny off, ICMP), identity adds, relabels and deletes,
 * endpoint changes, CIDR identities, Services, CIDR groups, peers' named
 * ports and options, updateEndpoint must always give what computeEndpoint
 * computes from scratch on the same repository: every field of the policy,
 * and diffs that, applied one after another to a mirror of the map, leave
 * exactly the from-scratch entries. Endpoints are updated at random moments
 * (some only after several changes), so replaying many changes at once is
 * covered too. The same again with the node proxy's ports and HTTP rules:
 * the L7 redirects (EndpointPolicy.l7, entries' proxyPort) must be equal
 * too, redirects never change a verdict (a twin repository without proxy
 * ports fed the same changes decides every packet the same), and no allowed
 * TCP packet to a redirected port bypasses the proxy; there some endpoints
 * carry a proxy-visibility annotation (EndpointInfo.visibility), which must
 * not change a verdict either.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cidrLabels, RESERVED_IDENTITIES } from '../identity/reserved.js';
import type { LabelSet } from '../identity/labels.js';
import { entryKey, lookupPolicy } from './lookup.js';
import { keyCovers } from './l7.js';
import { PolicyRepository } from './repository.js';
import { parseProxyVisibility } from './visibility.js';
import { podLabels } from './testing.js';
import { mulberry32 } from '../../test/lib/rng.js';
import type { EndpointInfo, EndpointPolicy, NamedPort, PolicyMapEntry } from './types.js';

const NAMESPACES = ['ns1', 'ns2'];
const APPS = ['a', 'b', 'c'];
const PREFIXES = ['10.0.0.0/24', '10.0.0.5/32', '10.1.0.0/16', '192.168.1.0/24', '8.8.8.8/32'];
const CIDR_ID = (i: number) => (1 << 24) | (i + 1);

type R = () => number;
const pick = <T>(r: R, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const some = <T>(r: R, xs: readonly T[]): T[] => xs.filter(() => r() < 0.5);

function podLabelSet(r: R): { ns: string; labels: Record<string, string>; set: LabelSet } {
  const ns = pick(r, NAMESPACES);
  const labels: Record<string, string> = { app: pick(r, APPS) };
  if (r() < 0.5) labels.tier = pick(r, ['x', 'y']);
  const set = podLabels(ns, labels, { team: ns === 'ns1' ? 'red' : 'blue' });
  return { ns, labels, set };
}

/** Whether the generator writes HTTP rules (the L7 run). */
let withHttp = false;
const HTTP_RULES = [{}, { method: 'GET' }, { method: 'POST', path: '/v1/.*' }, { headers: ['X-Ok'] }];

const KAFKA_RULES = [{ role: 'produce', topic: 't1' }, { apiKey: 'fetch' }, { topic: 't2' }];
const DNS_RULES = [{ matchPattern: '*' }, { matchName: 'a.test' }, { matchPattern: '*.b.test' }];

function ciliumPorts(r: R, deny = false, dir: 'ingress' | 'egress' = 'ingress'): unknown[] {
  if (withHttp && !deny && r() < 0.12) {
    // Kafka rules on a TCP port where HTTP rules may be too (a parser conflict), or DNS rules on 53 (egress).
    if (dir === 'egress' && r() < 0.5) return [{ ports: [{ port: '53', protocol: pick(r, ['UDP', 'TCP', 'ANY']) }], rules: { dns: some(r, DNS_RULES).concat([pick(r, DNS_RULES)]) } }];
    return [{ ports: [{ port: String(8000 + Math.floor(r() * 8)), protocol: 'TCP' }], rules: { kafka: some(r, KAFKA_RULES).concat([pick(r, KAFKA_RULES)]) } }];
  }
  if (withHttp && !deny && r() < 0.35) {
    // A TCP port (or range) with HTTP rules; sometimes a second plain port rule beside it.
    const p = 8000 + Math.floor(r() * 8);
    const port = r() < 0.25 ? { port: String(p), endPort: p + Math.floor(r() * 6), protocol: 'TCP' } : r() < 0.15 ? { port: 'web', protocol: 'TCP' } : { port: String(p), protocol: 'TCP' };
    const out: unknown[] = [{ ports: [port], rules: { http: some(r, HTTP_RULES).concat(r() < 0.5 ? [pick(r, HTTP_RULES)] : []) } }];
    if (r() < 0.3) out.push({ ports: [{ port: String(8000 + Math.floor(r() * 8)), protocol: 'TCP' }] });
    return out;
  }
  const n = Math.floor(r() * 3);
  const ports = Array.from({ length: n }, () => {
    const k = r();
    if (k < 0.2) return { port: 'web', protocol: pick(r, ['TCP', 'ANY']) };
    if (k < 0.3) return { port: '0', protocol: pick(r, ['TCP', 'UDP', 'ANY']) };
    const p = 8000 + Math.floor(r() * 8);
    return r() < 0.3 ? { port: String(p), endPort: p + Math.floor(r() * 6), protocol: pick(r, ['TCP', 'UDP', 'ANY']) } : { port: String(p), protocol: pick(r, ['TCP', 'UDP']) };
  });
  return ports.length ? [{ ports }] : [];
}

function ciliumItem(r: R, dir: 'ingress' | 'egress', deny: boolean): Record<string, unknown> {
  const pre = dir === 'ingress' ? 'from' : 'to';
  const it: Record<string, unknown> = {};
  const k = r();
  if (k < 0.35) it[`${pre}Endpoints`] = [pick(r, [{}, { matchLabels: { app: pick(r, APPS) } }, { matchLabels: { app: pick(r, APPS), 'k8s:io.kubernetes.pod.namespace': pick(r, NAMESPACES) } }, ((op: string) => ({ matchExpressions: [{ key: 'tier', operator: op, ...(op === 'In' || op === 'NotIn' ? { values: ['x'] } : {}) }] }))(pick(r, ['In', 'NotIn', 'Exists', 'DoesNotExist']))])];
  else if (k < 0.5) it[`${pre}Entities`] = [pick(r, ['world', 'cluster', 'all', 'host', 'remote-node'])];
  else if (k < 0.6) it[`${pre}CIDRSet`] = [pick(r, [{ cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] }, { cidr: '0.0.0.0/0' }, { cidrGroupRef: 'grp1' }])];
  else if (k < 0.65) it[`${pre}CIDR`] = [pick(r, ['8.8.8.8/32', '192.168.0.0/16'])];
  else if (k < 0.72 && dir === 'egress' && !deny) it.toServices = [pick(r, [{ k8sService: { serviceName: 'svc1', namespace: 'ns1' } }, { k8sService: { serviceName: 'ext' } }, { k8sServiceSelector: { selector: { matchLabels: { kind: 'db' } } } }])];
  else if (k < 0.8 && dir === 'egress' && !deny) it.toFQDNs = [pick(r, [{ matchName: 'a.test' }, { matchPattern: '*.b.test' }, { matchPattern: '*' }])];
  if (dir === 'ingress' && !deny && r() < 0.1) it.icmps = [{ fields: [{ type: pick(r, [0, 8]) }] }];
  const ports = ciliumPorts(r, deny, dir).map((p) => (deny ? { ports: (p as { ports: { port: string }[] }).ports.filter((x) => x.port !== 'web') } : p));
  if (ports.length) it.toPorts = ports;
  // Mutual authentication on some allows: the engine spreads it to covered keys, which both computations must agree on.
  if (!deny && r() < 0.15) it.authentication = { mode: 'required' };
  return it;
}

function ciliumSpec(r: R): Record<string, unknown> {
  const spec: Record<string, unknown> = { endpointSelector: pick(r, [{}, { matchLabels: { app: pick(r, APPS) } }, { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }]) };
  for (const dir of ['ingress', 'egress'] as const) {
    if (r() < 0.5) spec[dir] = Array.from({ length: Math.floor(r() * 3) }, () => ciliumItem(r, dir, false));
    if (r() < 0.3) spec[`${dir}Deny`] = Array.from({ length: 1 + Math.floor(r() * 2) }, () => ciliumItem(r, dir, true));
  }
  if (r() < 0.15) spec.enableDefaultDeny = { ingress: r() < 0.5, egress: r() < 0.5 };
  return spec;
}

function networkPolicySpec(r: R): Record<string, unknown> {
  const peer = () => pick(r, [
    { podSelector: { matchLabels: { app: pick(r, APPS) } } },
    { namespaceSelector: { matchLabels: { team: pick(r, ['red', 'blue']) } } },
    { ipBlock: { cidr: '10.0.0.0/8', except: ['10.0.0.0/24'] } },
  ]);
  const ports = () => some(r, [{ port: 8001 }, { port: 'web' }, { port: 8000, endPort: 8003, protocol: 'UDP' }]);
  const types = pick(r, [['Ingress'], ['Egress'], ['Ingress', 'Egress']]);
  const spec: Record<string, unknown> = { podSelector: pick(r, [{}, { matchLabels: { app: pick(r, APPS) } }]), policyTypes: types };
  if (types.includes('Ingress')) spec.ingress = Array.from({ length: Math.floor(r() * 3) }, () => ({ from: r() < 0.3 ? [] : [peer()], ports: ports() }));
  if (types.includes('Egress')) spec.egress = Array.from({ length: Math.floor(r() * 3) }, () => ({ to: r() < 0.3 ? [] : [peer()], ports: ports() }));
  return spec;
}

function policy(r: R, i: number): unknown {
  const k = r();
  if (k < 0.55) {
    const specs = Array.from({ length: 1 + Math.floor(r() * 2) }, () => ciliumSpec(r));
    return { apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name: `p${i}`, namespace: pick(r, NAMESPACES) }, specs };
  }
  if (k < 0.75) return { apiVersion: 'cilium.io/v2', kind: 'CiliumClusterwideNetworkPolicy', metadata: { name: `c${i}` }, spec: ciliumSpec(r) };
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: `n${i}`, namespace: pick(r, NAMESPACES) }, spec: networkPolicySpec(r) };
}

const namedPorts = (r: R): NamedPort[] => some(r, [{ name: 'web', port: 8004, protocol: 'TCP' as const }, { name: 'web', port: 8006, protocol: 'UDP' as const }, { name: 'dns', port: 53, protocol: 'UDP' as const }]);

const PROXY_PORTS = [{ ingress: 15001, egress: 15002, dns: 15053, kafka: { ingress: 15090, egress: 15091 } }, { ingress: 16001, egress: 16002 }];
/** Learned names: addresses with CIDR identities (10.0.0.5/32, 8.8.8.8/32), one inside a broader one only (10.1.2.3), one without. */
const FQDN_NAMES: [string, string[]][] = [['a.test.', ['10.0.0.5']], ['x.b.test.', ['8.8.8.8', '10.1.2.3']], ['c.test.', ['192.168.1.7']], ['y.b.test.', ['10.0.0.5', '172.16.0.1']]];

/** What the L7 run saw besides HTTP: redirects per parser, endpoints with a parser conflict, toFQDNs peers that selected a learned /32. */
const seen = { dns: 0, kafka: 0, conflicts: 0, fqdn: 0, auth: 0 };

function randomSequences(http: boolean): { steps: number; entriesSeen: number; diffsApplied: number; redirects: number } {
  const r = mulberry32(http ? 0x17a7e : 0x1ec5e1);
  withHttp = http;
  let steps = 0;
  let entriesSeen = 0;
  let diffsApplied = 0;
  let redirects = 0;
  for (let run = 0; run < 40; run++) {
    const repo = new PolicyRepository(http ? { options: { proxyPorts: PROXY_PORTS[0] } } : {});
    // The twin: the same changes without the proxy (L7 as L4), to compare verdicts with.
    const twin = http ? new PolicyRepository() : undefined;
    const each = (f: (x: PolicyRepository) => void) => { f(repo); if (twin) f(twin); };
    const ids = new Map<number, LabelSet>(RESERVED_IDENTITIES.map((i) => [i.id, i.labels]));
    for (let i = 0; i < 8; i++) ids.set(300 + i, podLabelSet(r).set);
    PREFIXES.forEach((p, i) => ids.set(CIDR_ID(i), cidrLabels(p)));
    each((x) => x.setIdentities(ids));
    each((x) => x.setCidrIdentities(PREFIXES.map((p, i): [string, number] => [p, CIDR_ID(i)])));
    const eps = new Map<number, EndpointInfo>();
    const newEndpoint = (id: number): EndpointInfo => {
      const pods = [...ids.keys()].filter((x) => x >= 300 && x < 1000);
      const identity = pick(r, pods);
      const labels = ids.get(identity)!;
      const ep: EndpointInfo = { id, identity, labels, namespace: labels.find((l) => l.key === 'io.kubernetes.pod.namespace')!.value, namedPorts: namedPorts(r) };
      // The L7 run: some endpoints carry a proxy-visibility annotation (ports with and without HTTP rules, one not honoured).
      if (http && r() < 0.4) {
        const entries = some(r, ['<Ingress/80/TCP/HTTP>', '<Ingress/8001/TCP/HTTP>', '<Ingress/8004/ANY/HTTP>', '<Egress/53/UDP/DNS>', '<Egress/8002/TCP/HTTP>']);
        if (entries.length) ep.visibility = parseProxyVisibility(entries.join(','), `Pod/${ep.namespace}/p${id}`);
      }
      return ep;
    };
    for (let e = 1; e <= 3; e++) eps.set(e, newEndpoint(e));
    const mirrors = new Map<number, Map<string, PolicyMapEntry>>();
    const check = (ep: EndpointInfo, where: string) => {
      const u = repo.updateEndpoint(ep);
      let m = mirrors.get(ep.id);
      if (!m) mirrors.set(ep.id, (m = new Map()));
      for (const e of u.upserts) m.set(entryKey(e), e);
      for (const e of u.deletes) assert.ok(m.delete(entryKey(e)), `${where}: endpoint ${ep.id}: a delete of an entry it does not hold: ${entryKey(e)}`);
      diffsApplied += u.upserts.length + u.deletes.length;
      const want = repo.computeEndpoint(ep);
      const got = u.policy;
      assert.deepEqual(
        { ...got, entries: got.entries, entryCount: undefined },
        { ...want, entryCount: undefined },
        `${where}: endpoint ${ep.id} (identity ${ep.identity}): incremental and from-scratch differ`,
      );
      assert.equal(got.entryCount, want.entries.length, `${where}: entryCount`);
      assert.deepEqual([...m.values()].sort((a, b) => (entryKey(a) < entryKey(b) ? -1 : 1)), [...want.entries].sort((a, b) => (entryKey(a) < entryKey(b) ? -1 : 1)), `${where}: endpoint ${ep.id}: the diffs applied do not give the entries`);
      entriesSeen += want.entries.length;
      if (twin) checkRedirects(want, twin.computeEndpoint(ep), [0, ...ids.keys()], `${where}: endpoint ${ep.id}`);
      redirects += want.l7.length;
      for (const x of want.l7) if (x.parser !== 'http') seen[x.parser]++;
      if (want.errors.some((e) => e.message.includes('one L7 parser'))) seen.conflicts++;
      if (want.entries.some((e) => e.authRequired)) seen.auth++;
      if (want.entries.some((e) => e.direction === 'egress' && (e.identity === CIDR_ID(1) || e.identity === CIDR_ID(4)) && e.protocol !== 0 && e.verdict === 'allow')) seen.fqdn++;
    };
    for (let step = 0; step < 60; step++) {
      const k = r();
      let what: string;
      if (k < 0.35) {
        const i = Math.floor(r() * 6);
        what = `upsert policy ${i}`;
        const obj = policy(r, i);
        each((x) => assert.deepEqual(x.upsertPolicy(obj).filter((p) => p.severity === 'error'), [], 'generated policies are valid'));
      } else if (k < 0.42) {
        const keys = repo.listPolicies().map((p) => p.key);
        what = 'delete policy';
        if (keys.length) { const key = pick(r, keys); each((x) => x.deletePolicy(key)); }
      } else if (k < 0.55) {
        const id = 300 + Math.floor(r() * 14);
        what = `upsert identity ${id}`;
        const l = podLabelSet(r).set;
        ids.set(id, l);
        each((x) => x.upsertIdentity(id, l));
      } else if (k < 0.6) {
        const used = new Set([...eps.values()].map((e) => e.identity));
        const free = [...ids.keys()].filter((x) => x >= 300 && x < 1000 && !used.has(x));
        what = 'delete identity';
        if (free.length) {
          const id = pick(r, free);
          ids.delete(id);
          each((x) => x.deleteIdentity(id));
        }
      } else if (k < 0.68) {
        const id = 1 + Math.floor(r() * 4);
        what = `endpoint ${id} changed`;
        eps.set(id, newEndpoint(id));
      } else if (k < 0.71) {
        const id = pick(r, [...eps.keys()]);
        what = `endpoint ${id} gone`;
        eps.delete(id);
        repo.forgetEndpoint(id);
        mirrors.delete(id);
      } else if (k < 0.75) {
        what = 'CIDR identities';
        const chosen = PREFIXES.map((p, i): [string, number] => [p, CIDR_ID(i)]).filter(() => r() < 0.7);
        each((x) => x.setCidrIdentities(chosen));
      } else if (k < 0.8) {
        what = 'Services';
        const svcs = some(r, [
          { namespace: 'ns1', name: 'svc1', selector: { app: pick(r, APPS) } },
          { namespace: 'ns1', name: 'ext', addresses: ['8.8.8.8'] },
          { namespace: 'ns2', name: 'db', labels: { kind: 'db' }, selector: { app: pick(r, APPS) } },
        ]);
        each((x) => x.setServices(svcs));
      } else if (k < 0.84) {
        what = 'CIDR groups';
        const groups = some(r, [{ name: 'grp1', cidrs: some(r, ['10.0.0.0/24', '192.168.1.0/24', '10.1.0.0/16']) }]);
        each((x) => x.setCidrGroups(groups));
      } else if (k < 0.9) {
        what = 'peer named ports';
        const ports = [...ids.keys()].filter((x) => x >= 300 && x < 1000 && r() < 0.4).map((x): [number, NamedPort[]] => [x, namedPorts(r)]);
        each((x) => x.setPeerNamedPorts(ports));
      } else if (k < 0.92) {
        what = 'FQDN names';
        const names = new Map(some(r, FQDN_NAMES));
        each((x) => x.setFqdnNames(names));
      } else if (k < 0.94) {
        what = 'options';
        const o = { enforcement: pick(r, ['default', 'default', 'always', 'never'] as const), allowLocalhost: r() < 0.7 };
        each((x) => x.setOptions(o));
        if (http && r() < 0.5) repo.setOptions({ proxyPorts: pick(r, PROXY_PORTS) });
      } else what = 'nothing';
      steps++;
      // Some endpoints now, some later: an update may have one change or several to replay.
      for (const ep of eps.values()) if (r() < 0.6) check(ep, `run ${run} step ${step} (${what})`);
    }
    for (const ep of eps.values()) check(ep, `run ${run} end`);
  }
  withHttp = false;
  return { steps, entriesSeen, diffsApplied, redirects };
}

/**
 * Redirects keep every verdict of the twin (no proxy) but where two parsers
 * meet on a port of the direction (then only narrower: denied, with the
 * endpoint's error), and every allowed TCP or UDP packet to a redirected port
 * meets an entry with its proxy port.
 */
function checkRedirects(pol: EndpointPolicy, plain: EndpointPolicy, peers: number[], where: string): void {
  const ports = [53, 80, ...Array.from({ length: 16 }, (_, i) => 7998 + i)];
  for (const dir of ['ingress', 'egress'] as const) {
    const enforced = dir === 'ingress' ? pol.ingressEnforced : pol.egressEnforced;
    const conflict = pol.errors.some((e) => e.severity === 'error' && e.message.startsWith(`Forbidden: ${dir} `) && e.message.includes('one L7 parser'));
    for (const peer of peers) for (const port of ports) for (const proto of [6, 17]) {
      const a = lookupPolicy(pol.entries, dir, peer, proto, port, enforced);
      // The twin has no proxy: a visibility annotation leaves its ingress unenforced (enforced with default allow here).
      const b = lookupPolicy(plain.entries, dir, peer, proto, port, dir === 'ingress' ? plain.ingressEnforced : plain.egressEnforced);
      if (conflict && !a.allowed && b.allowed) assert.equal(a.dropReason, 181, `${where}: ${dir} ${peer} ${proto}/${port}: a parser conflict denies`);
      else assert.deepEqual([a.allowed, a.dropReason], [b.allowed, b.dropReason], `${where}: ${dir} ${peer} ${proto}/${port}: a redirect changed the verdict`);
      const redirected = pol.l7.some((x) => x.direction === dir && keyCovers({ protocol: x.protocol, port: x.port, portPrefixLen: x.portPrefixLen }, { protocol: proto, port, portPrefixLen: 16 }));
      if (a.allowed && a.entry) assert.equal(a.entry.proxyPort !== 0, redirected, `${where}: ${dir} ${peer} ${proto}/${port}: ${redirected ? 'bypasses the proxy' : 'redirected without L7 rules'}`);
    }
  }
  // One redirect per entry with a proxy port, and the other way round.
  assert.deepEqual(
    pol.entries.filter((e) => e.proxyPort).map((e) => `${entryKey(e)}@${e.proxyPort}`).sort(),
    pol.l7.map((x) => `${entryKey({ direction: x.direction, identity: x.identity, protocol: x.protocol, port: x.port, portPrefixLen: x.portPrefixLen })}@${x.proxyPort}`).sort(),
    `${where}: entries with a proxy port and redirects`,
  );
  for (const x of pol.l7) {
    const sources = x.parser === 'http' ? x.http : x.parser === 'dns' ? x.dns : x.kafka;
    assert.ok(sources && sources.length > 0, `${where}: a redirect without sources`);
    if (x.parser !== 'http') assert.deepEqual(x.http, [], `${where}: a ${x.parser} redirect with HTTP sources`);
    assert.ok(x.protocol === 6 || (x.parser === 'dns' && x.protocol === 17), `${where}: a ${x.parser} redirect on protocol ${x.protocol}`);
  }
}

test('updateEndpoint equals computeEndpoint from scratch over random sequences of changes, and its diffs rebuild the map', () => {
  const { steps, entriesSeen, diffsApplied } = randomSequences(false);
  assert.ok(steps >= 2400 && entriesSeen > 20000 && diffsApplied > 5000, `coverage: ${steps} steps, ${entriesSeen} entries compared, ${diffsApplied} diff entries`);
  assert.ok(seen.auth > 100, `coverage: ${seen.auth} endpoint computations with authRequired entries`);
});

test('with proxy ports and HTTP rules: updateEndpoint equals computeEndpoint (l7 included), redirects keep verdicts and nothing bypasses the proxy', () => {
  const { steps, entriesSeen, diffsApplied, redirects } = randomSequences(true);
  assert.ok(steps >= 2400 && entriesSeen > 20000 && diffsApplied > 5000 && redirects > 2000, `coverage: ${steps} steps, ${entriesSeen} entries compared, ${diffsApplied} diff entries, ${redirects} redirects`);
  assert.ok(seen.dns > 50 && seen.kafka > 50 && seen.conflicts > 10 && seen.fqdn > 10, `coverage: ${JSON.stringify(seen)}`);
});

test('updateEndpoint: one policy change over a big policy writes only what differs', () => {
  const repo = new PolicyRepository();
  const ids: [number, LabelSet][] = RESERVED_IDENTITIES.map((i) => [i.id, i.labels]);
  for (let i = 0; i < 500; i++) ids.push([1000 + i, podLabels('ns1', { grp: `g${i % 10}`, n: `i${i}` })]);
  repo.setIdentities(ids);
  const pol = (j: number, g: number) => ({
    apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name: `p${j}`, namespace: 'ns1' },
    spec: { endpointSelector: { matchLabels: { app: 'tgt' } }, ingress: [{ fromEndpoints: [{ matchLabels: { grp: `g${g}` } }], toPorts: [{ ports: [{ port: String(10000 + j), protocol: 'TCP' }] }] }] },
  });
  for (let j = 0; j < 40; j++) repo.upsertPolicy(pol(j, j % 10));
  const labels = podLabels('ns1', { app: 'tgt' });
  const ep: EndpointInfo = { id: 5, identity: 2000, labels, namespace: 'ns1' };
  const first = repo.updateEndpoint(ep);
  assert.equal(first.upserts.length, 40 * 50 + 2);
  assert.equal(first.deletes.length, 0);
  const second = repo.updateEndpoint(ep);
  assert.deepEqual([second.upserts.length, second.deletes.length], [0, 0], 'nothing changed, nothing to write');
  repo.upsertPolicy(pol(0, 4));
  const change = repo.updateEndpoint(ep);
  assert.deepEqual([change.upserts.length, change.deletes.length], [50, 50]);
  assert.ok(change.upserts.every((e) => e.port === 10000) && change.deletes.every((e) => e.port === 10000));
  // A new identity in group 4: one entry on each of its 4 policies' ports (p0 now, p4, p14, p24, p34 → 5).
  repo.upsertIdentity(1500, podLabels('ns1', { grp: 'g4', n: 'new' }));
  const added = repo.updateEndpoint(ep);
  assert.deepEqual(added.upserts.map((e) => [e.identity, e.port]), [0, 4, 14, 24, 34].map((j) => [1500, 10000 + j]));
  assert.equal(added.deletes.length, 0);
  repo.deleteIdentity(1500);
  const removed = repo.updateEndpoint(ep);
  assert.deepEqual([removed.upserts.length, removed.deletes.length], [0, 5]);
});

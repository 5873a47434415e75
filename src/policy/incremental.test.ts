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
 * covered too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cidrLabels, RESERVED_IDENTITIES } from '../identity/reserved.js';
import type { LabelSet } from '../identity/labels.js';
import { entryKey } from './lookup.js';
import { PolicyRepository } from './repository.js';
import { podLabels } from './testing.js';
import { mulberry32 } from '../../test/lib/rng.js';
import type { EndpointInfo, NamedPort, PolicyMapEntry } from './types.js';

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

function ciliumPorts(r: R): unknown[] {
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
  if (dir === 'ingress' && !deny && r() < 0.1) it.icmps = [{ fields: [{ type: pick(r, [0, 8]) }] }];
  const ports = ciliumPorts(r).map((p) => (deny ? { ports: (p as { ports: { port: string }[] }).ports.filter((x) => x.port !== 'web') } : p));
  if (ports.length) it.toPorts = ports;
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

test('updateEndpoint equals computeEndpoint from scratch over random sequences of changes, and its diffs rebuild the map', () => {
  const r = mulberry32(0x1ec5e1);
  let steps = 0;
  let entriesSeen = 0;
  let diffsApplied = 0;
  for (let run = 0; run < 40; run++) {
    const repo = new PolicyRepository();
    const ids = new Map<number, LabelSet>(RESERVED_IDENTITIES.map((i) => [i.id, i.labels]));
    for (let i = 0; i < 8; i++) ids.set(300 + i, podLabelSet(r).set);
    PREFIXES.forEach((p, i) => ids.set(CIDR_ID(i), cidrLabels(p)));
    repo.setIdentities(ids);
    repo.setCidrIdentities(PREFIXES.map((p, i): [string, number] => [p, CIDR_ID(i)]));
    const eps = new Map<number, EndpointInfo>();
    const newEndpoint = (id: number): EndpointInfo => {
      const pods = [...ids.keys()].filter((x) => x >= 300 && x < 1000);
      const identity = pick(r, pods);
      const labels = ids.get(identity)!;
      return { id, identity, labels, namespace: labels.find((l) => l.key === 'io.kubernetes.pod.namespace')!.value, namedPorts: namedPorts(r) };
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
    };
    for (let step = 0; step < 60; step++) {
      const k = r();
      let what: string;
      if (k < 0.35) {
        const i = Math.floor(r() * 6);
        what = `upsert policy ${i}`;
        const errs = repo.upsertPolicy(policy(r, i)).filter((p) => p.severity === 'error');
        assert.deepEqual(errs, [], 'generated policies are valid');
      } else if (k < 0.42) {
        const keys = repo.listPolicies().map((p) => p.key);
        what = 'delete policy';
        if (keys.length) repo.deletePolicy(pick(r, keys));
      } else if (k < 0.55) {
        const id = 300 + Math.floor(r() * 14);
        what = `upsert identity ${id}`;
        const l = podLabelSet(r).set;
        ids.set(id, l);
        repo.upsertIdentity(id, l);
      } else if (k < 0.6) {
        const used = new Set([...eps.values()].map((e) => e.identity));
        const free = [...ids.keys()].filter((x) => x >= 300 && x < 1000 && !used.has(x));
        what = 'delete identity';
        if (free.length) {
          const id = pick(r, free);
          ids.delete(id);
          repo.deleteIdentity(id);
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
        repo.setCidrIdentities(chosen);
      } else if (k < 0.8) {
        what = 'Services';
        repo.setServices(some(r, [
          { namespace: 'ns1', name: 'svc1', selector: { app: pick(r, APPS) } },
          { namespace: 'ns1', name: 'ext', addresses: ['8.8.8.8'] },
          { namespace: 'ns2', name: 'db', labels: { kind: 'db' }, selector: { app: pick(r, APPS) } },
        ]));
      } else if (k < 0.84) {
        what = 'CIDR groups';
        repo.setCidrGroups(some(r, [{ name: 'grp1', cidrs: some(r, ['10.0.0.0/24', '192.168.1.0/24', '10.1.0.0/16']) }]));
      } else if (k < 0.9) {
        what = 'peer named ports';
        repo.setPeerNamedPorts([...ids.keys()].filter((x) => x >= 300 && x < 1000 && r() < 0.4).map((x): [number, NamedPort[]] => [x, namedPorts(r)]));
      } else if (k < 0.93) {
        what = 'options';
        repo.setOptions({ enforcement: pick(r, ['default', 'default', 'always', 'never'] as const), allowLocalhost: r() < 0.7 });
      } else what = 'nothing';
      steps++;
      // Some endpoints now, some later: an update may have one change or several to replay.
      for (const ep of eps.values()) if (r() < 0.6) check(ep, `run ${run} step ${step} (${what})`);
    }
    for (const ep of eps.values()) check(ep, `run ${run} end`);
  }
  assert.ok(steps >= 2400 && entriesSeen > 20000 && diffsApplied > 5000, `coverage: ${steps} steps, ${entriesSeen} entries compared, ${diffsApplied} diff entries`);
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

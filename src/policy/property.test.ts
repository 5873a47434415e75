/**
 * Property test: over random small policies, identities and packets, the
 * datapath lookup over the emitted entries (lookupPolicy) must agree with a
 * straightforward reference evaluator that reads the policy objects directly
 * (no map entries, no engine code). Deny-vs-allow overlaps across identities
 * and port prefixes are generated on purpose, so dropping deny
 * materialisation (or getting prefixes wrong) makes this fail. Egress
 * items may have a toFQDNs peer, which selects exactly the /32 CIDR identity
 * of the learned name it matches (not the /16 around it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cidrLabels, RESERVED_IDENTITIES } from '../identity/reserved.js';
import type { LabelSet } from '../identity/labels.js';
import { lookupPolicy } from './lookup.js';
import { PolicyRepository } from './repository.js';
import { podLabels } from './testing.js';
import { mulberry32 } from '../../test/lib/rng.js';
import type { Direction, EndpointInfo } from './types.js';

const rng = mulberry32;

interface Pod { id: number; ns: string; labels: Record<string, string> }
const PODS: Pod[] = [
  { id: 300, ns: 'ns1', labels: { app: 'a', tier: 'x' } },
  { id: 301, ns: 'ns1', labels: { app: 'b', tier: 'x' } },
  { id: 302, ns: 'ns1', labels: { app: 'c' } },
  { id: 303, ns: 'ns2', labels: { app: 'a', tier: 'y' } },
];
const CIDR_IDS: { prefix: string; id: number; inRule: boolean }[] = [
  // The rules' CIDR set is 10.0.0.0/8 except 10.1.0.0/16.
  { prefix: '10.2.0.0/16', id: (1 << 24) | 1, inRule: true },
  { prefix: '10.1.2.0/24', id: (1 << 24) | 2, inRule: false },
  { prefix: '192.168.0.0/16', id: (1 << 24) | 3, inRule: false },
  // The /32s of the learned names below (toFQDNs selects these, not the /16 around the first).
  { prefix: '10.2.3.4/32', id: (1 << 24) | 4, inRule: true },
  { prefix: '192.168.7.7/32', id: (1 << 24) | 5, inRule: false },
];
/** Learned DNS names (setFqdnNames): toFQDNs `*.a.test` selects the first only. */
const FQDN_NAMES = new Map([['x.a.test.', ['10.2.3.4']], ['y.b.test.', ['192.168.7.7']]]);
const FQDN_ID = (1 << 24) | 4;
const RESERVED = RESERVED_IDENTITIES.map((i) => i.id);
const ALL_IDS = [...RESERVED, ...PODS.map((p) => p.id), ...CIDR_IDS.map((c) => c.id)];
const IDENTITIES: [number, LabelSet][] = [
  ...RESERVED_IDENTITIES.map((i): [number, LabelSet] => [i.id, i.labels]),
  ...PODS.map((p): [number, LabelSet] => [p.id, podLabels(p.ns, p.labels)]),
  ...CIDR_IDS.map((c): [number, LabelSet] => [c.id, cidrLabels(c.prefix)]),
];
const EP_POD = PODS[0]!;
/** Peers' named ports (egress named ports resolve against these, per identity). */
const PEER_PORTS: [number, { name: string; port: number; protocol: 'TCP' }[]][] = [[301, [{ name: 'web', port: 8009, protocol: 'TCP' }]], [303, [{ name: 'web', port: 8001, protocol: 'TCP' }]]];
const EP: EndpointInfo = { id: 7, identity: EP_POD.id, labels: IDENTITIES.find(([i]) => i === EP_POD.id)![1], namespace: 'ns1', namedPorts: [{ name: 'web', port: 8004, protocol: 'TCP' }] };

// ---- the generator: a small language the reference below understands ----

type Sel = Record<string, never> | { matchLabels: { app: string } } | { matchExpressions: [{ key: 'tier'; operator: 'NotIn'; values: string[] }] };
type PortSpec = { port?: string; endPort?: number; protocol?: 'TCP' | 'UDP' | 'ANY' };
interface Item { endpoints?: Sel[]; entities?: string[]; cidrSet?: boolean; fqdn?: boolean; ports?: PortSpec[] }
interface Rule { subject: Sel; edd?: boolean; sections: Partial<Record<'ingress' | 'ingressDeny' | 'egress' | 'egressDeny', Item[]>> }

function gen(r: () => number): Rule[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const sel = (): Sel => pick<Sel>([{}, { matchLabels: { app: 'a' } }, { matchLabels: { app: 'b' } }, { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['x'] }] }]);
  const port = (): PortSpec => {
    const kind = r();
    const protocol = pick([undefined, 'TCP', 'TCP', 'UDP', 'ANY'] as const);
    if (kind < 0.15) return { port: '0', protocol };
    if (kind < 0.25) return { port: 'web', protocol: protocol === 'UDP' ? 'TCP' : protocol };
    const p = 7998 + Math.floor(r() * 20);
    return kind < 0.6 ? { port: String(p), protocol } : { port: String(p), endPort: p + Math.floor(r() * 12), protocol };
  };
  const item = (section: string): Item => {
    const it: Item = {};
    const peers = r();
    if (peers < 0.3) it.endpoints = [sel()];
    else if (peers < 0.5) it.entities = [pick(['world', 'cluster', 'all', 'host'])];
    else if (peers < 0.6) it.cidrSet = true;
    else if (peers < 0.68 && section === 'egress') it.fqdn = true;
    if (r() < 0.6) it.ports = Array.from({ length: 1 + Math.floor(r() * 2) }, port);
    return it;
  };
  return Array.from({ length: 1 + Math.floor(r() * 3) }, () => {
    const sections: Rule['sections'] = {};
    for (const s of ['ingress', 'ingressDeny', 'egress', 'egressDeny'] as const) if (r() < 0.45) sections[s] = Array.from({ length: Math.floor(r() * 3) }, () => item(s));
    return { subject: pick<Sel>([{}, { matchLabels: { app: 'a' } }, { matchLabels: { app: 'b' } }]), edd: r() < 0.15 ? false : undefined, sections };
  });
}

function toObject(rules: Rule[], i: number): unknown {
  return {
    apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name: `p${i}`, namespace: 'ns1' },
    specs: rules.map((rule) => {
      const spec: Record<string, unknown> = { endpointSelector: rule.subject };
      if (rule.edd === false) spec.enableDefaultDeny = { ingress: false, egress: false };
      for (const [name, items] of Object.entries(rule.sections)) {
        const pre = name.startsWith('ingress') ? 'from' : 'to';
        spec[name] = items.map((it) => ({
          ...(it.endpoints ? { [`${pre}Endpoints`]: it.endpoints } : {}),
          ...(it.entities ? { [`${pre}Entities`]: it.entities } : {}),
          ...(it.cidrSet ? { [`${pre}CIDRSet`]: [{ cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] }] } : {}),
          ...(it.fqdn ? { toFQDNs: [{ matchPattern: '*.a.test' }] } : {}),
          ...(it.ports ? { toPorts: [{ ports: it.ports.map((p) => ({ ...p })) }] } : {}),
        }));
      }
      return spec;
    }),
  };
}

// ---- the reference evaluator: reads the rules, no entries ----

const podOf = (id: number) => PODS.find((p) => p.id === id);

function selMatchesPod(sel: Sel, pod: Pod | undefined): boolean {
  if (!pod || pod.ns !== 'ns1') return false;
  if ('matchLabels' in sel) return pod.labels.app === sel.matchLabels.app;
  if ('matchExpressions' in sel) return !sel.matchExpressions[0].values.includes(pod.labels.tier ?? '\u0000');
  return true;
}

function peerMatches(it: Item, peer: number): boolean {
  if (it.endpoints?.some((s) => selMatchesPod(s, podOf(peer)))) return true;
  for (const e of it.entities ?? []) {
    if (e === 'all') return true;
    if (e === 'host' && peer === 1) return true;
    if (e === 'world' && (peer === 2 || peer === 9 || CIDR_IDS.some((c) => c.id === peer))) return true;
    if (e === 'cluster' && (podOf(peer) !== undefined || [1, 3, 4, 5, 6, 7, 8].includes(peer))) return true;
  }
  if (it.cidrSet && CIDR_IDS.some((c) => c.id === peer && c.inRule)) return true;
  if (it.fqdn && peer === FQDN_ID) return true;
  return false;
}

function portMatches(p: PortSpec, dir: Direction, peer: number, proto: number, port: number): boolean {
  const protos = p.protocol === 'TCP' ? [6] : p.protocol === 'UDP' ? [17] : [6, 17, 132];
  if (p.port === '0') return p.protocol === undefined || p.protocol === 'ANY' ? true : protos.includes(proto);
  if (!protos.includes(proto)) return false;
  if (p.port === 'web') {
    const own = dir === 'ingress' ? 8004 : PEER_PORTS.find(([id]) => id === peer)?.[1][0]?.port;
    return proto === 6 && port === own;
  }
  const from = Number(p.port);
  return port >= from && port <= (p.endPort ?? from);
}

function itemMatches(it: Item, dir: Direction, peer: number, proto: number, port: number): boolean {
  const hasPeers = !!(it.endpoints || it.entities || it.cidrSet || it.fqdn);
  const hasPorts = !!it.ports;
  if (!hasPeers && !hasPorts) return false;
  return (!hasPeers || peerMatches(it, peer)) && (!hasPorts || it.ports!.some((p) => portMatches(p, dir, peer, proto, port)));
}

function reference(policies: Rule[][], dir: Direction, peer: number, proto: number, port: number): string {
  const rules = policies.flat().filter((r) => selMatchesPod(r.subject, EP_POD));
  const deny = `${dir}Deny` as const;
  const withDir = rules.filter((r) => r.sections[dir] !== undefined || r.sections[deny] !== undefined);
  // No rule in this direction: not enforced. Rules that all turn default deny off: enforced, default allow.
  if (withDir.length === 0) return 'allow';
  if (withDir.some((r) => (r.sections[deny] ?? []).some((it) => itemMatches(it, dir, peer, proto, port)))) return 'deny';
  if (!withDir.some((r) => r.edd !== false)) return 'allow';
  if (dir === 'ingress' && peer === 1) return 'allow';
  if (withDir.some((r) => (r.sections[dir] ?? []).some((it) => itemMatches(it, dir, peer, proto, port)))) return 'allow';
  return 'default-deny';
}

// ----

test('lookupPolicy over the emitted entries agrees with a reference evaluator of the rules', () => {
  const r = rng(0xbee11e);
  const PORTS = [0, 7997, 7998, 7999, 8000, 8001, 8003, 8004, 8005, 8007, 8008, 8009, 8012, 8015, 8016, 8020, 8023, 8024, 8031, 8032];
  let checked = 0;
  let denies = 0;
  for (let round = 0; round < 300; round++) {
    const policies = Array.from({ length: 1 + Math.floor(r() * 3) }, () => gen(r));
    const repo = new PolicyRepository();
    repo.setIdentities(IDENTITIES);
    repo.setCidrIdentities(CIDR_IDS.map((c): [string, number] => [c.prefix, c.id]));
    repo.setPeerNamedPorts(PEER_PORTS);
    repo.setFqdnNames(FQDN_NAMES);
    policies.forEach((p, i) => {
      const errs = repo.upsertPolicy(toObject(p, i)).filter((x) => x.severity === 'error');
      assert.deepEqual(errs, [], 'generated policies are valid');
    });
    const pol = repo.computeEndpoint(EP);
    for (const dir of ['ingress', 'egress'] as const) {
      const enforced = dir === 'ingress' ? pol.ingressEnforced : pol.egressEnforced;
      for (const peer of ALL_IDS) for (const proto of [6, 17, 1]) for (const port of PORTS) {
        const got = lookupPolicy(pol.entries, dir, peer, proto, port, enforced);
        const actual = got.allowed ? 'allow' : got.dropReason === 181 ? 'deny' : 'default-deny';
        const want = reference(policies, dir, peer, proto, port);
        if (actual !== want) {
          assert.fail(`round ${round}: ${dir} peer ${peer} proto ${proto} port ${port}: lookup says ${actual}, reference ${want}\n` +
            `policies: ${JSON.stringify(policies.map((p, i) => toObject(p, i)))}\nentries: ${JSON.stringify(pol.entries)}`);
        }
        if (want === 'deny') denies++;
        checked++;
      }
    }
  }
  assert.ok(checked > 100000 && denies > 1000, `coverage: ${checked} packets, ${denies} denies`);
});

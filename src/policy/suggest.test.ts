/** The policy suggested from observed flows: which flows make rules, how peers are written, and that the engine accepts and enforces the result. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Flow } from '../observer/types.js';
import { formatLabelSet } from '../identity/labels.js';
import { exactPathRegex, stableLabels, suggestPolicy, type SuggestOptions } from './suggest.js';
import { CLIENT2, ID, TCP, UDP, WEB, podLabels, repository, verdict } from './testing.js';

const lbl = (ns: string, labels: Record<string, string>, nsLabels: Record<string, string> = {}) => formatLabelSet(podLabels(ns, labels, nsLabels));
const EP = {
  web: { ID: 11, identity: ID.web, namespace: 'ns1', pod_name: 'web-7d9f-abcde', labels: [...lbl('ns1', { app: 'web' }, { team: 'red' })] },
  db: { ID: 12, identity: ID.db, namespace: 'ns1', pod_name: 'db-0', labels: lbl('ns1', { app: 'db' }, { team: 'red' }) },
  client2: { ID: 13, identity: ID.client2, namespace: 'ns2', pod_name: 'client', labels: lbl('ns2', { app: 'client' }, { team: 'blue' }) },
  dns: { ID: 0, identity: 1500, namespace: 'kube-system', pod_name: 'coredns-1', labels: lbl('kube-system', { 'k8s-app': 'kube-dns' }) },
  world: { ID: 0, identity: 2, namespace: '', pod_name: '', labels: ['reserved:world'] },
  cidr: (p: string) => ({ ID: 0, identity: 16777300, namespace: '', pod_name: '', labels: [`cidr:${p}`, 'reserved:world'] }),
  host: { ID: 0, identity: 1, namespace: '', pod_name: '', labels: ['reserved:host'] },
};
const IPS: Record<string, string> = { web: '10.1.0.10', db: '10.1.0.11', client2: '10.1.1.12', dns: '10.1.0.53', host: '10.1.0.1' };

interface F { src: keyof typeof IPS | { ep: Flow['source']; ip: string }; dst: keyof typeof IPS | { ep: Flow['destination']; ip: string }; port: number; proto?: 'TCP' | 'UDP'; verdict?: string; type?: string; reply?: boolean; names?: string[]; http?: { method: string; url: string } }
function flow(f: F): Flow {
  const side = (s: F['src']) => (typeof s === 'string' ? { ep: (EP as Record<string, unknown>)[s] as Flow['source'], ip: IPS[s]! } : s);
  const src = side(f.src);
  const dst = side(f.dst);
  const proto = f.proto ?? 'TCP';
  return {
    verdict: (f.verdict ?? 'FORWARDED') as Flow['verdict'],
    Type: (f.type ?? (f.http ? 'L7' : 'L3_L4')) as Flow['Type'],
    IP: { source: src.ip, destination: dst.ip },
    l4: proto === 'TCP' ? { TCP: { source_port: 40000, destination_port: f.port, flags: { SYN: true } } } : { UDP: { source_port: 40000, destination_port: f.port } },
    source: src.ep,
    destination: dst.ep,
    destination_names: f.names ?? [],
    is_reply: { value: !!f.reply },
    ...(f.http ? { l7: { type: 'REQUEST', http: { method: f.http.method, url: f.http.url } } } : {}),
  } as Flow;
}

const worldIp = (ip: string, names?: string[]): { ep: Flow['destination']; ip: string } => ({ ep: names ? EP.world : EP.cidr(`${ip}/32`), ip });

const OBSERVED: Flow[] = [
  flow({ src: 'client2', dst: 'web', port: 80 }),
  flow({ src: 'client2', dst: 'web', port: 80 }),
  flow({ src: 'client2', dst: 'web', port: 80, http: { method: 'GET', url: 'http://10.1.0.10/api/v1.0?x=1' } }),
  flow({ src: 'host', dst: 'web', port: 8080 }),
  flow({ src: 'web', dst: 'db', port: 5432 }),
  flow({ src: 'web', dst: 'dns', port: 53, proto: 'UDP' }),
  flow({ src: 'web', dst: worldIp('8.8.4.4', ['dns.google.']), port: 443, names: ['dns.google.'] }),
  flow({ src: 'web', dst: worldIp('10.0.0.5'), port: 443 }),
  // Never rules: a reply, a socket translation, a drop.
  flow({ src: 'db', dst: 'web', port: 9999, reply: true }),
  flow({ src: 'db', dst: 'web', port: 7777, type: 'SOCK' }),
  flow({ src: 'db', dst: 'web', port: 22, verdict: 'DROPPED' }),
  // A TCP packet of unknown direction that is no SYN (possibly a reply: web:80 answering, seen at the client's node).
  { ...flow({ src: 'db', dst: 'web', port: 6666 }), is_reply: null, l4: { TCP: { source_port: 80, destination_port: 6666, flags: { ACK: true } } } } as Flow,
];

const web: SuggestOptions = { namespace: 'ns1', pods: ['web-7d9f-abcde'], kind: 'cnp' };
type Rule = Record<string, unknown>;
const specOf = (p: Record<string, unknown>) => p.spec as { endpointSelector?: unknown; podSelector?: unknown; ingress: Rule[]; egress: Rule[] };

test('stable labels: the pod\'s own labels, without the per-pod ones, the namespace, its labels and the cluster', () => {
  const labels = ['k8s:app=web', 'k8s:pod-template-hash=7d9f', 'k8s:statefulset.kubernetes.io/pod-name=web-0', 'k8s:controller-revision-hash=abc', 'k8s:io.kubernetes.pod.namespace=ns1', 'k8s:io.cilium.k8s.namespace.labels.team=red', 'k8s:io.cilium.k8s.policy.cluster=default', 'k8s:io.cilium.k8s.policy.serviceaccount=web', 'reserved:x'];
  assert.deepEqual(stableLabels(labels), { app: 'web' });
  assert.deepEqual(stableLabels(['k8s:io.kubernetes.pod.namespace=ns1', 'k8s:io.cilium.k8s.policy.serviceaccount=sa1']), { 'io.cilium.k8s.policy.serviceaccount': 'sa1' }, 'only the service account is left: it is used');
});

test('CNP: ingress and egress from the observed flows, peers by stable labels, cross-namespace, entities, CIDR, toFQDNs with the DNS rule', () => {
  const r = suggestPolicy(OBSERVED, web);
  assert.equal(r.policies.length, 1);
  const p = r.policies[0]!;
  assert.deepEqual(p.metadata, { name: 'suggested-web', namespace: 'ns1' });
  const s = specOf(p);
  assert.deepEqual(s.endpointSelector, { matchLabels: { app: 'web' } });
  assert.deepEqual(s.ingress, [
    { fromEntities: ['host'], toPorts: [{ ports: [{ port: '8080', protocol: 'TCP' }] }] },
    { fromEndpoints: [{ matchLabels: { app: 'client', 'k8s:io.kubernetes.pod.namespace': 'ns2' } }], toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }] },
  ]);
  assert.deepEqual(s.egress, [
    { toCIDR: ['10.0.0.5/32'], toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }] },
    { toFQDNs: [{ matchName: 'dns.google' }], toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }] },
    { toEndpoints: [{ matchLabels: { app: 'db' } }], toPorts: [{ ports: [{ port: '5432', protocol: 'TCP' }] }] },
    { toEndpoints: [{ matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'kube-system', 'k8s:k8s-app': 'kube-dns' } }], toPorts: [{ ports: [{ port: '53', protocol: 'ANY' }], rules: { dns: [{ matchPattern: '*' }] } }] },
  ], 'the observed kube-dns 53/UDP flow is folded into the DNS rule');
  const ex = r.explanations.find((e) => e.direction === 'ingress' && e.index === 1)!;
  assert.equal(ex.flows, 3);
  assert.equal(ex.example, 'ns2/client → ns1/web-7d9f-abcde:80/TCP');
  assert.equal(r.explanations.find((e) => e.direction === 'egress' && e.index === 3)!.flows, 1, 'the DNS rule explained by the DNS flow');
  assert.deepEqual(r.warnings, []);
});

test('replies, socket translations and drops make no rule', () => {
  const r = suggestPolicy(OBSERVED.slice(8), web);
  assert.equal(r.policies.length, 0);
  assert.match(r.warnings.join('\n'), /no allowed flow .* was observed/);
  const json = JSON.stringify(suggestPolicy(OBSERVED, web).policies);
  for (const port of ['9999', '7777', '"22"', '6666']) assert.ok(!json.includes(port), port);
});

test('a connection dropped at its destination makes no rule, though its source\'s node forwarded it', () => {
  const sent = { ...flow({ src: 'db', dst: 'web', port: 80 }) };
  const denied = { ...flow({ src: 'db', dst: 'web', port: 80, verdict: 'DROPPED' }) };
  const other = { ...flow({ src: 'db', dst: 'web', port: 80 }), l4: { TCP: { source_port: 40001, destination_port: 80, flags: { SYN: true } } } } as Flow;
  assert.equal(suggestPolicy([sent, denied], web).policies.length, 0);
  const r = suggestPolicy([sent, denied, other], web);
  assert.equal(r.explanations[0]!.flows, 1, 'another connection of the same peer and port, not dropped, still counts');
});

test('the engine accepts the suggestion and it allows exactly what was observed', () => {
  const { policies } = suggestPolicy(OBSERVED, web);
  const repo = repository(policies); // throws on any error problem
  assert.equal(verdict(repo, WEB, 'ingress', ID.client2, TCP, 80), 'allow');
  assert.equal(verdict(repo, WEB, 'ingress', ID.client2, TCP, 81), 'default-deny', 'a port never observed');
  assert.equal(verdict(repo, WEB, 'ingress', ID.db, TCP, 80), 'default-deny', 'a peer never observed');
  assert.equal(verdict(repo, WEB, 'ingress', ID.web2, TCP, 80), 'default-deny', 'same labels in another namespace');
  assert.equal(verdict(repo, WEB, 'egress', ID.db, TCP, 5432), 'allow');
  assert.equal(verdict(repo, WEB, 'egress', ID.db, UDP, 5432), 'default-deny');
  assert.equal(verdict(repo, WEB, 'egress', ID.cidr10a, TCP, 443), 'allow');
  assert.equal(verdict(repo, WEB, 'egress', ID.cidr10, TCP, 443), 'default-deny', 'the /24 around the observed /32');
  assert.equal(verdict(repo, WEB, 'egress', 2, TCP, 443), 'default-deny', 'the rest of the world');
  // The client's egress policy, from the same flows.
  const c = suggestPolicy(OBSERVED, { namespace: 'ns2', labels: { app: 'client' }, kind: 'cnp' });
  const crepo = repository(c.policies);
  assert.equal(verdict(crepo, CLIENT2, 'egress', ID.web, TCP, 80), 'allow');
  assert.equal(verdict(crepo, CLIENT2, 'egress', ID.db, TCP, 80), 'default-deny');
  assert.equal(verdict(crepo, CLIENT2, 'ingress', ID.web, TCP, 80), 'default-deny', 'nothing observed in: nothing allowed');
  assert.match(c.warnings.join('\n'), /no ingress was observed/);
});

test('--l7: observed HTTP requests become rules.http with the exact path, anchored and escaped', () => {
  assert.equal(exactPathRegex('/api/v1.0'), '^/api/v1\\.0$');
  const r = suggestPolicy(OBSERVED, { ...web, l7: true });
  const rule = specOf(r.policies[0]!).ingress[1]!;
  assert.deepEqual(rule.toPorts, [{ ports: [{ port: '80', protocol: 'TCP' }], rules: { http: [{ method: 'GET', path: '^/api/v1\\.0$' }] } }]);
  assert.match(r.warnings.join('\n'), /on 8080\/TCP: no HTTP request was observed/);
  assert.ok(new RegExp(exactPathRegex('/api/v1.0')).test('/api/v1.0'));
  assert.ok(!new RegExp(exactPathRegex('/api/v1.0')).test('/api/v1x0'));
  repository(r.policies);
});

test('KNP: podSelector, namespaceSelector for another namespace, ipBlock; DNS names and entities warned about', () => {
  const r = suggestPolicy(OBSERVED, { ...web, kind: 'knp' });
  const p = r.policies[0]!;
  assert.equal(p.kind, 'NetworkPolicy');
  const s = specOf(p);
  assert.deepEqual(s.podSelector, { matchLabels: { app: 'web' } });
  assert.deepEqual(s.ingress, [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ns2' } }, podSelector: { matchLabels: { app: 'client' } } }], ports: [{ port: 80, protocol: 'TCP' }] }]);
  assert.deepEqual(s.egress, [
    { to: [{ ipBlock: { cidr: '10.0.0.5/32' } }], ports: [{ port: 443, protocol: 'TCP' }] },
    { to: [{ ipBlock: { cidr: '8.8.4.4/32' } }], ports: [{ port: 443, protocol: 'TCP' }] },
    { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }], ports: [{ port: 53, protocol: 'UDP' }] },
    { to: [{ podSelector: { matchLabels: { app: 'db' } } }], ports: [{ port: 5432, protocol: 'TCP' }] },
  ]);
  const w = r.warnings.join('\n');
  assert.match(w, /cannot name DNS names: egress to dns\.google is allowed as ipBlock 8\.8\.4\.4\/32/);
  assert.match(w, /cannot select the host entity/);
  const repo = repository(r.policies);
  assert.equal(verdict(repo, WEB, 'ingress', ID.client2, TCP, 80), 'allow');
  assert.equal(verdict(repo, WEB, 'ingress', ID.web2, TCP, 80), 'default-deny');
  assert.equal(verdict(repo, WEB, 'egress', ID.cidr10a, TCP, 443), 'allow');
});

test('selection by label, one policy per stable label set; a selector that takes in unchosen pods is warned about', () => {
  const web2 = { ...EP.web, pod_name: 'web-7d9f-zzzzz' };
  const flows = [...OBSERVED, flow({ src: 'client2', dst: { ep: web2, ip: '10.1.0.20' }, port: 80 })];
  const byLabel = suggestPolicy(flows, { namespace: 'ns1', labels: { app: 'web' }, kind: 'cnp' });
  assert.equal(byLabel.policies.length, 1, 'both web pods: one workload');
  assert.ok(!byLabel.warnings.some((w) => w.includes('also selects')));
  const byPod = suggestPolicy(flows, web);
  assert.match(byPod.warnings.join('\n'), /also selects ns1\/web-7d9f-zzzzz/);
  const both = suggestPolicy(flows, { namespace: 'ns1', pods: ['web-7d9f-abcde', 'db-0'], kind: 'cnp' });
  assert.deepEqual(both.policies.map((p) => (p.metadata as { name: string }).name), ['suggested-db', 'suggested-web']);
});

test('an address of a node-local CIDR identity is the world side even without labels: toFQDNs for its DNS names, else its /32', () => {
  const local = (ip: string): { ep: Flow['destination']; ip: string } => ({ ep: { ID: 0, identity: 16777217, namespace: '', pod_name: '', labels: [] } as unknown as Flow['destination'], ip });
  const r = suggestPolicy([
    flow({ src: 'web', dst: local('172.18.0.203'), port: 80, names: ['api.example.test.'] }),
    flow({ src: 'web', dst: local('172.18.0.204'), port: 80 }),
  ], web);
  assert.deepEqual(r.warnings.filter((w) => /unknown identity/.test(w)), [], r.warnings.join('\n'));
  const egress = (r.policies[0]!.spec as { egress: Rule[] }).egress;
  assert.ok(egress.some((e) => JSON.stringify(e.toFQDNs) === JSON.stringify([{ matchName: 'api.example.test' }])), JSON.stringify(egress));
  assert.ok(egress.some((e) => JSON.stringify(e.toCIDR) === JSON.stringify(['172.18.0.204/32'])), JSON.stringify(egress));
});

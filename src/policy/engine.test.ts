/**
 * Cilium semantics of the engine, asserted through computeEndpoint +
 * lookupPolicy (the datapath's lookup), not through entry shapes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RESERVED_IDENTITIES } from '../identity/reserved.js';
import { diffEntries, lookupPolicy } from './lookup.js';
import { CLIENT2, DB, ID, WEB, ccnp, cnp, endpoint, np, podLabels, repository, verdict, TCP, UDP, SCTP, ICMP } from './testing.js';
import type { CiliumRule } from '../k8s/types.js';

const webIn = (r: Partial<CiliumRule>): CiliumRule => ({ endpointSelector: { matchLabels: { app: 'web' } }, ...r });
const fromDb = { fromEndpoints: [{ matchLabels: { app: 'db' } }] };

test('default deny per direction: ingress section enforces ingress only', () => {
  const r = repository([cnp('ns1', 'p', webIn({ ingress: [fromDb] }))]);
  assert.equal(verdict(r, WEB, 'ingress', ID.db, TCP, 80), 'allow');
  assert.equal(verdict(r, WEB, 'ingress', ID.db, UDP, 53), 'allow');
  assert.equal(verdict(r, WEB, 'ingress', ID.web2, TCP, 80), 'default-deny');
  assert.equal(verdict(r, WEB, 'ingress', 2, TCP, 80), 'default-deny');
  assert.equal(verdict(r, WEB, 'egress', ID.web2, TCP, 80), 'allow');
  assert.equal(verdict(r, DB, 'ingress', ID.web2, TCP, 80), 'allow', 'DB is not selected');
  const pol = r.computeEndpoint(WEB);
  assert.deepEqual([pol.ingressEnforced, pol.egressEnforced], [true, false]);
  assert.ok(pol.entries.every((e) => e.direction === 'ingress'));
});

test('the empty rule enforces and allows nothing; a deny section alone enforces', () => {
  const r = repository([cnp('ns1', 'p', webIn({ ingress: [{}], egressDeny: [{ toEntities: ['world'] }] }))], { allowLocalhost: false });
  assert.equal(verdict(r, WEB, 'ingress', ID.db, TCP, 80), 'default-deny');
  assert.equal(verdict(r, WEB, 'egress', ID.db, TCP, 80), 'default-deny');
  assert.equal(verdict(r, WEB, 'egress', 2, TCP, 80), 'deny');
});

test('namespace scoping: subject and peers are limited to the policy namespace unless the peer names it', () => {
  const r = repository([
    cnp('ns1', 'all-ns1', { endpointSelector: {}, ingress: [{ fromEndpoints: [{ matchLabels: { app: 'client' } }] }] }),
  ]);
  assert.equal(r.computeEndpoint(CLIENT2).ingressEnforced, false, 'ns1 policy does not select ns2 pods');
  assert.equal(verdict(r, WEB, 'ingress', ID.client2, TCP, 80), 'default-deny', 'app=client is looked up in ns1 only');
  const r2 = repository([
    cnp('ns1', 'p', webIn({ ingress: [{ fromEndpoints: [{ matchLabels: { app: 'client', 'k8s:io.kubernetes.pod.namespace': 'ns2' } }] }] })),
  ]);
  assert.equal(verdict(r2, WEB, 'ingress', ID.client2, TCP, 80), 'allow');
  const r3 = repository([
    cnp('ns1', 'p', webIn({ ingress: [{ fromEndpoints: [{ matchExpressions: [{ key: 'io.kubernetes.pod.namespace', operator: 'Exists' }] }] }] })),
  ]);
  assert.equal(verdict(r3, WEB, 'ingress', ID.client2, TCP, 80), 'allow');
  assert.equal(verdict(r3, WEB, 'ingress', ID.db, TCP, 80), 'allow');
  assert.equal(verdict(r3, WEB, 'ingress', 2, TCP, 80), 'default-deny');
});

test('{} peers: the namespace (CNP) or every pod of the cluster (CCNP), never reserved or world', () => {
  const r = repository([cnp('ns1', 'p', webIn({ ingress: [{ fromEndpoints: [{}] }] }))], { allowLocalhost: false });
  assert.equal(verdict(r, WEB, 'ingress', ID.db, TCP, 80), 'allow');
  assert.equal(verdict(r, WEB, 'ingress', ID.client2, TCP, 80), 'default-deny');
  assert.equal(verdict(r, WEB, 'ingress', 1, TCP, 80), 'default-deny');
  const c = repository([ccnp('c', { endpointSelector: {}, ingress: [{ fromEndpoints: [{}] }] })], { allowLocalhost: false });
  assert.equal(verdict(c, CLIENT2, 'ingress', ID.db, TCP, 80), 'allow', 'CCNP {} selects endpoints of every namespace');
  assert.equal(verdict(c, WEB, 'ingress', ID.client2, TCP, 80), 'allow');
  for (const id of [1, 2, 6, 9, ID.cidr8]) assert.equal(verdict(c, WEB, 'ingress', id, TCP, 80), 'default-deny', `identity ${id}`);
});

test('selector keys with sources: k8s:, any:, none, reserved:', () => {
  const r = repository([cnp('ns1', 'p', webIn({ ingress: [
    { fromEndpoints: [{ matchLabels: { 'k8s:app': 'db' } }], toPorts: [{ ports: [{ port: '1', protocol: 'TCP' }] }] },
    { fromEndpoints: [{ matchLabels: { 'any:app': 'db' } }], toPorts: [{ ports: [{ port: '2', protocol: 'TCP' }] }] },
    { fromEndpoints: [{ matchLabels: { 'reserved:app': 'db' } }], toPorts: [{ ports: [{ port: '3', protocol: 'TCP' }] }] },
  ] }))]);
  assert.equal(verdict(r, WEB, 'ingress', ID.db, TCP, 1), 'allow');
  assert.equal(verdict(r, WEB, 'ingress', ID.db, TCP, 2), 'allow');
  assert.equal(verdict(r, WEB, 'ingress', ID.db, TCP, 3), 'default-deny');
  const c = repository([ccnp('c', webIn({ ingress: [{ fromEndpoints: [{ matchLabels: { 'reserved:remote-node': '' } }] }] }))]);
  assert.equal(verdict(c, WEB, 'ingress', 6, TCP, 1), 'allow');
  assert.equal(verdict(c, WEB, 'ingress', 7, TCP, 1), 'allow', 'kube-apiserver carries reserved:remote-node');
  assert.equal(verdict(c, WEB, 'ingress', 2, TCP, 1), 'default-deny');
});

test('matchExpressions: In, NotIn, Exists, DoesNotExist', () => {
  const r = repository([cnp('ns1', 'p', webIn({ ingress: [
    { fromEndpoints: [{ matchExpressions: [{ key: 'app', operator: 'In', values: ['db', 'x'] }] }], toPorts: [{ ports: [{ port: '1', protocol: 'TCP' }] }] },
    { fromEndpoints: [{ matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['db'] }] }], toPorts: [{ ports: [{ port: '2', protocol: 'TCP' }] }] },
    { fromEndpoints: [{ matchExpressions: [{ key: 'app', operator: 'Exists' }] }], toPorts: [{ ports: [{ port: '3', protocol: 'TCP' }] }] },
    { fromEndpoints: [{ matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }], toPorts: [{ ports: [{ port: '4', protocol: 'TCP' }] }] },
  ] }))]);
  assert.deepEqual([1, 2, 3, 4].map((p) => verdict(r, WEB, 'ingress', ID.db, TCP, p)), ['allow', 'default-deny', 'allow', 'default-deny']);
  assert.deepEqual([1, 2, 3, 4].map((p) => verdict(r, WEB, 'ingress', ID.web, TCP, p)), ['default-deny', 'allow', 'allow', 'default-deny']);
});

test('entities', () => {
  const ent = (e: string) => repository([cnp('ns1', 'p', webIn({ egress: [{ toEntities: [e as never] }] }))]);
  const allows = (e: string) => [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, ID.db, ID.client2, ID.cidr10, ID.cidr8].filter((id) => verdict(ent(e), WEB, 'egress', id, TCP, 80) === 'allow');
  assert.deepEqual(allows('world'), [2, 9, ID.cidr10, ID.cidr8]);
  assert.deepEqual(allows('world-ipv4'), [9, ID.cidr10, ID.cidr8]);
  assert.deepEqual(allows('world-ipv6'), [10]);
  assert.deepEqual(allows('cluster'), [1, 3, 4, 5, 6, 7, 8, ID.db, ID.client2]);
  assert.deepEqual(allows('host'), [1]);
  assert.deepEqual(allows('remote-node'), [6, 7]);
  assert.deepEqual(allows('kube-apiserver'), [7]);
  assert.deepEqual(allows('init'), [5]);
  assert.deepEqual(allows('health'), [4]);
  assert.deepEqual(allows('unmanaged'), [3]);
  assert.deepEqual(allows('ingress'), [8]);
  assert.deepEqual(allows('none'), []);
  assert.equal(allows('all').length, 14);
  assert.equal(lookupPolicy(ent('all').computeEndpoint(WEB).entries, 'egress', 12345, TCP, 1).match, 'all');
});

test('CIDR rules: except prefixes are not allowed; pods never; /0 adds world', () => {
  const r = repository([cnp('ns1', 'p', webIn({ egress: [{ toCIDRSet: [{ cidr: '10.0.0.0/8', except: ['10.0.0.5/32'] }] }, { toCIDR: ['8.8.8.8'] }] }))]);
  assert.equal(verdict(r, WEB, 'egress', ID.cidr10, TCP, 80), 'allow');
  assert.equal(verdict(r, WEB, 'egress', ID.cidr10a, TCP, 80), 'default-deny', 'inside the except');
  assert.equal(verdict(r, WEB, 'egress', ID.cidr8, TCP, 80), 'allow');
  assert.equal(verdict(r, WEB, 'egress', 2, TCP, 80), 'default-deny');
  assert.equal(verdict(r, WEB, 'egress', ID.db, TCP, 80), 'default-deny');
  assert.deepEqual(r.requiredPrefixes(), ['10.0.0.0/8', '10.0.0.5/32', '8.8.8.8/32']);
  const w = repository([cnp('ns1', 'p', webIn({ egress: [{ toCIDRSet: [{ cidr: '0.0.0.0/0', except: ['10.0.0.0/24'] }] }] }))]);
  assert.deepEqual([2, 9, ID.cidr8, ID.cidr10, ID.cidr10a, ID.db].map((id) => verdict(w, WEB, 'egress', id, TCP, 1)), ['allow', 'allow', 'allow', 'default-deny', 'default-deny', 'default-deny']);
  // A prefix without an identity yet selects nothing; once it has one it is selected.
  const late = repository([cnp('ns1', 'p', webIn({ egress: [{ toCIDR: ['192.168.1.0/24'] }] }))]);
  assert.deepEqual(late.requiredPrefixes(), ['192.168.1.0/24']);
  const id = (1 << 24) | 99;
  assert.equal(verdict(late, WEB, 'egress', id, TCP, 1), 'default-deny');
  late.setCidrIdentities({ '192.168.1.0/24': id });
  assert.equal(verdict(late, WEB, 'egress', id, TCP, 1), 'allow');
});

test('CiliumCIDRGroup: cidrGroupRef and cidrGroupSelector select the groups\' CIDRs minus except; a group that is not there yet selects nothing', () => {
  const r = repository([
    cnp('ns1', 'by-ref', webIn({ egress: [{ toCIDRSet: [{ cidrGroupRef: 'external', except: ['10.0.0.5/32'] }] }] })),
    cnp('ns1', 'by-label', { endpointSelector: { matchLabels: { app: 'db' } }, egressDeny: [{ toCIDRSet: [{ cidrGroupSelector: { matchLabels: { destination: 'dns' } } }] }] }),
  ]);
  // No group yet: the ref selects nothing (default deny), the prefixes it needs are only the except.
  assert.equal(verdict(r, WEB, 'egress', ID.cidr10, TCP, 80), 'default-deny');
  assert.deepEqual(r.requiredPrefixes(), ['10.0.0.5/32']);
  assert.equal(r.setCidrGroups([
    { name: 'external', labels: { destination: 'external' }, cidrs: ['10.0.0.0/24', '2606:4700:4700::/96'] },
    { name: 'resolvers', labels: { destination: 'dns' }, cidrs: ['8.8.8.8/32'] },
  ]), true);
  assert.equal(r.setCidrGroups([
    { name: 'resolvers', labels: { destination: 'dns' }, cidrs: ['8.8.8.8/32'] },
    { name: 'external', labels: { destination: 'external' }, cidrs: ['10.0.0.0/24', '2606:4700:4700::/96'] },
  ]), false, 'same groups in another order: no change');
  assert.deepEqual(r.requiredPrefixes(), ['10.0.0.0/24', '10.0.0.5/32', '8.8.8.8/32']);
  assert.equal(verdict(r, WEB, 'egress', ID.cidr10, TCP, 80), 'allow');
  assert.equal(verdict(r, WEB, 'egress', ID.cidr10a, TCP, 80), 'default-deny', 'inside the except');
  assert.equal(verdict(r, WEB, 'egress', ID.cidr8, TCP, 80), 'default-deny', 'another group');
  assert.equal(verdict(r, DB, 'egress', ID.cidr8, UDP, 53), 'deny', 'selected by label');
  assert.equal(verdict(r, DB, 'egress', ID.cidr10, UDP, 53), 'default-deny');
  // The group changes: the policy follows.
  r.setCidrGroups([{ name: 'external', cidrs: ['8.8.8.8/32'] }]);
  assert.equal(verdict(r, WEB, 'egress', ID.cidr8, TCP, 80), 'allow');
  assert.equal(verdict(r, WEB, 'egress', ID.cidr10, TCP, 80), 'default-deny');
  assert.equal(verdict(r, DB, 'egress', ID.cidr8, UDP, 53), 'default-deny', 'no group has the label any more');
});

test('ports: ranges as prefixes, ANY, port 0, protocol-only', () => {
  const r = repository([cnp('ns1', 'p', webIn({ ingress: [{ toPorts: [{ ports: [
    { port: '8000', endPort: 8010, protocol: 'TCP' }, { port: '53', protocol: 'ANY' }, { port: 0, protocol: 'SCTP' },
  ] }] }] }))]);
  for (let p = 8000; p <= 8010; p++) assert.equal(verdict(r, WEB, 'ingress', ID.db, TCP, p), 'allow', `${p}`);
  assert.equal(verdict(r, WEB, 'ingress', ID.db, TCP, 8011), 'default-deny');
  assert.equal(verdict(r, WEB, 'ingress', ID.db, TCP, 7999), 'default-deny');
  assert.equal(verdict(r, WEB, 'ingress', ID.db, UDP, 8005), 'default-deny');
  for (const proto of [TCP, UDP, SCTP]) assert.equal(verdict(r, WEB, 'ingress', ID.client2, proto, 53), 'allow');
  assert.equal(verdict(r, WEB, 'ingress', ID.db, ICMP, 8), 'default-deny');
  assert.equal(verdict(r, WEB, 'ingress', ID.db, SCTP, 9999), 'allow');
  assert.equal(lookupPolicy(r.computeEndpoint(WEB).entries, 'ingress', ID.db, TCP, 8005).match, 'L4-Only');
  const prefixes = r.computeEndpoint(WEB).entries.filter((e) => e.protocol === TCP).map((e) => `${e.port}/${e.portPrefixLen}`);
  assert.deepEqual(prefixes, ['53/16', '8000/13', '8008/15', '8010/16']);
  const any0 = repository([cnp('ns1', 'p', webIn({ ingress: [{ ...fromDb, toPorts: [{ ports: [{ port: '0', protocol: 'ANY' }] }] }] }))]);
  assert.equal(verdict(any0, WEB, 'ingress', ID.db, ICMP, 8), 'allow', 'ANY/0 is every protocol');
});

test('ICMP: icmps fields as protocol 1, type as port', () => {
  const r = repository([cnp('ns1', 'p', webIn({ ingress: [{ ...fromDb, icmps: [{ fields: [{ type: 'EchoRequest', family: 'IPv4' }, { type: 3 }] }] }] }))]);
  assert.equal(verdict(r, WEB, 'ingress', ID.db, ICMP, 8), 'allow');
  assert.equal(verdict(r, WEB, 'ingress', ID.db, ICMP, 3), 'allow');
  assert.equal(verdict(r, WEB, 'ingress', ID.db, ICMP, 0), 'default-deny');
  assert.equal(verdict(r, WEB, 'ingress', ID.db, TCP, 8), 'default-deny');
});

test('named ports: ingress against the endpoint, egress against each peer identity', () => {
  const r = repository([cnp('ns1', 'p', { endpointSelector: {}, ingress: [{ ...fromDb, toPorts: [{ ports: [{ port: 'http', protocol: 'TCP' }] }] }] })]);
  assert.equal(verdict(r, WEB, 'ingress', ID.db, TCP, 8080), 'allow');
  assert.equal(verdict(r, WEB, 'ingress', ID.db, TCP, 80), 'default-deny');
  assert.equal(verdict(r, WEB, 'ingress', ID.db, UDP, 8080), 'default-deny');
  const dbPol = r.computeEndpoint(DB);
  assert.equal(dbPol.ingressEnforced, true);
  assert.equal(dbPol.errors.length, 1);
  assert.match(dbPol.errors[0]!.message, /named port "http" is not defined by endpoint 12/);
  assert.equal(dbPol.errors[0]!.path, 'spec.ingress[0].toPorts[0].ports[0].port');

  const e = repository([cnp('ns1', 'p', webIn({ egress: [{ toEndpoints: [{ matchExpressions: [{ key: 'app', operator: 'Exists' }] }], toPorts: [{ ports: [{ port: 'pg' }] }] }] }))]);
  e.setPeerNamedPorts([[ID.db, [{ name: 'pg', port: 5432, protocol: 'TCP' }]], [ID.web, [{ name: 'pg', port: 6432, protocol: 'TCP' }]]]);
  assert.equal(verdict(e, WEB, 'egress', ID.db, TCP, 5432), 'allow');
  assert.equal(verdict(e, WEB, 'egress', ID.db, TCP, 6432), 'default-deny', 'per identity, not the union');
  assert.equal(verdict(e, WEB, 'egress', ID.web, TCP, 6432), 'allow');
  assert.equal(verdict(e, WEB, 'egress', ID.client2, TCP, 5432), 'default-deny');
});

test('deny beats allow: same identity across port prefixes, both ways', () => {
  const deny = (ports: object[]) => ({ ingressDeny: [{ ...fromDb, toPorts: [{ ports }] }] });
  const allow = (ports: object[]) => ({ ingress: [{ ...fromDb, toPorts: [{ ports }] }] });
  // Deny a range, allow a single port inside it.
  const a = repository([cnp('ns1', 'p', webIn({ ...allow([{ port: '8005', protocol: 'TCP' }]), ...deny([{ port: '8000', endPort: 8010, protocol: 'TCP' }]) }))]);
  assert.equal(verdict(a, WEB, 'ingress', ID.db, TCP, 8005), 'deny');
  // The reverse: allow a range, deny one port of it.
  const b = repository([cnp('ns1', 'p', webIn({ ...allow([{ port: '8000', endPort: 8010, protocol: 'TCP' }]), ...deny([{ port: '8005', protocol: 'TCP' }]) }))]);
  assert.deepEqual([8004, 8005, 8006].map((p) => verdict(b, WEB, 'ingress', ID.db, TCP, p)), ['allow', 'deny', 'allow']);
  // L3 deny vs L4 allow of the same identity.
  const c = repository([cnp('ns1', 'p', webIn({ ...allow([{ port: '80', protocol: 'TCP' }]), ingressDeny: [fromDb] }))]);
  assert.equal(verdict(c, WEB, 'ingress', ID.db, TCP, 80), 'deny');
  // Protocol-wide deny (TCP/0) vs port allow.
  const d = repository([cnp('ns1', 'p', webIn({ ...allow([{ port: '80', protocol: 'ANY' }]), ...deny([{ port: '0', protocol: 'TCP' }]) }))]);
  assert.deepEqual([TCP, UDP].map((p) => verdict(d, WEB, 'ingress', ID.db, p, 80)), ['deny', 'allow']);
});

test('deny beats allow across identity 0 and a specific identity, across policies', () => {
  // Allow db everything; deny anyone on 8000-8010 (identity 0).
  const a = repository([
    cnp('ns1', 'allow', webIn({ ingress: [fromDb] })),
    cnp('ns1', 'deny', webIn({ ingressDeny: [{ toPorts: [{ ports: [{ port: '8000', endPort: 8010, protocol: 'TCP' }] }] }] })),
  ]);
  assert.deepEqual([7999, 8000, 8010, 8011].map((p) => verdict(a, WEB, 'ingress', ID.db, TCP, p)), ['allow', 'deny', 'deny', 'allow']);
  // Allow everyone on 80 (identity 0); deny db (identity-specific).
  const b = repository([
    cnp('ns1', 'allow', webIn({ ingress: [{ toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }] }] })),
    ccnp('deny', webIn({ ingressDeny: [fromDb] })),
  ]);
  assert.equal(verdict(b, WEB, 'ingress', ID.db, TCP, 80), 'deny');
  assert.equal(verdict(b, WEB, 'ingress', ID.web, TCP, 80), 'allow');
  // Entity deny on world vs CIDR allow.
  const c = repository([cnp('ns1', 'p', webIn({ egress: [{ toCIDR: ['8.8.8.8/32'] }], egressDeny: [{ toEntities: ['world'], toPorts: [{ ports: [{ port: '53', protocol: 'UDP' }] }] }] }))]);
  assert.equal(verdict(c, WEB, 'egress', ID.cidr8, UDP, 53), 'deny');
  assert.equal(verdict(c, WEB, 'egress', ID.cidr8, TCP, 53), 'allow');
});

test('enableDefaultDeny false: enforced with default allow, so its denies drop (Cilium inserts an allow-all)', () => {
  const soft = cnp('ns1', 'soft', webIn({ enableDefaultDeny: { ingress: false }, ingress: [fromDb], ingressDeny: [{ fromEndpoints: [{ matchLabels: { app: 'web' } }] }] }));
  const r = repository([soft]);
  const pol = r.computeEndpoint(WEB);
  assert.deepEqual([pol.ingressEnforced, pol.ingressDefaultDeny, pol.egressEnforced, pol.egressDefaultDeny], [true, false, false, false]);
  assert.equal(verdict(r, WEB, 'ingress', ID.client2, TCP, 80), 'allow', 'default allow');
  assert.equal(verdict(r, WEB, 'ingress', 2, UDP, 53), 'allow', 'default allow: the world too');
  assert.equal(verdict(r, WEB, 'ingress', ID.web, TCP, 80), 'deny', 'its deny applies');
  const all = pol.entries.find((e) => e.direction === 'ingress' && e.identity === 0 && e.protocol === 0)!;
  assert.deepEqual([all.verdict, r.cookies.describe(all.cookie)], ['allow', ['default-allow']]);
  const allowed = lookupPolicy(pol.entries, 'ingress', ID.client2, TCP, 80);
  assert.equal(allowed.match, 'all');
  assert.deepEqual(r.computeEndpoint(WEB).selectedBy.ingress.map((o) => o.name), ['soft']);
  // A rule that keeps default deny on makes the direction default deny; the soft rule's allows and denies still count.
  r.upsertPolicy(cnp('ns1', 'hard', webIn({ ingress: [{ fromEndpoints: [{ matchLabels: { app: 'client', 'io.kubernetes.pod.namespace': 'ns2' } }] }] })));
  assert.equal(r.computeEndpoint(WEB).ingressDefaultDeny, true);
  assert.equal(verdict(r, WEB, 'ingress', ID.db, TCP, 80), 'allow');
  assert.equal(verdict(r, WEB, 'ingress', ID.client2, TCP, 80), 'allow');
  assert.equal(verdict(r, WEB, 'ingress', ID.web, TCP, 80), 'deny');
  assert.equal(verdict(r, WEB, 'ingress', ID.web2, TCP, 80), 'default-deny');
  const dd = r.computeEndpoint(WEB).entries.find((e) => e.verdict === 'default-deny')!;
  assert.deepEqual(r.cookies.describe(dd.cookie), ['CiliumNetworkPolicy/ns1/hard'], 'only the enforcing policy is named');
  assert.ok(!r.computeEndpoint(WEB).entries.some((e) => r.cookies.describe(e.cookie).includes('default-allow')), 'no allow-all under default deny');
});

test('enableDefaultDeny false with a deny of a namespace (the documented use): the namespace drops 181, everyone else passes', () => {
  // The case: deny ingress from ns2, without making the endpoint default deny; and the same through a CCNP and a port deny.
  const fromNs2 = { fromEndpoints: [{ matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'ns2' } }] };
  for (const pol of [
    cnp('ns1', 'deny-ns2', { endpointSelector: {}, enableDefaultDeny: { ingress: false, egress: false }, ingressDeny: [fromNs2] }),
    ccnp('deny-ns2', { endpointSelector: { matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'ns1' } }, enableDefaultDeny: { ingress: false, egress: false }, ingressDeny: [fromNs2] }),
  ]) {
    const r = repository([pol]);
    for (const ep of [WEB, DB]) {
      const p = r.computeEndpoint(ep);
      assert.deepEqual([p.ingressEnforced, p.ingressDefaultDeny, p.egressEnforced], [true, false, false]);
      assert.equal(verdict(r, ep, 'ingress', ID.client2, TCP, 80), 'deny');
      assert.equal(verdict(r, ep, 'ingress', ID.client2, UDP, 53), 'deny');
    }
    assert.equal(verdict(r, WEB, 'ingress', ID.db, TCP, 80), 'allow');
    assert.equal(verdict(r, WEB, 'ingress', 2, TCP, 80), 'allow');
    assert.equal(verdict(r, WEB, 'ingress', 1, TCP, 80), 'allow');
    assert.equal(r.computeEndpoint(CLIENT2).ingressEnforced, false);
  }
  // A port-only deny: identity 0 on TCP/81.
  const ports = repository([cnp('ns1', 'no-81', webIn({ enableDefaultDeny: { egress: false }, egressDeny: [{ toPorts: [{ ports: [{ port: '81', protocol: 'TCP' }] }] }] }))]);
  assert.equal(verdict(ports, WEB, 'egress', ID.db, TCP, 81), 'deny');
  assert.equal(verdict(ports, WEB, 'egress', ID.db, TCP, 80), 'allow');
  assert.equal(verdict(ports, WEB, 'egress', 2, UDP, 81), 'allow');
  assert.equal(ports.computeEndpoint(WEB).ingressEnforced, false);
});

test('NetworkPolicy + a soft CiliumNetworkPolicy deny: the NetworkPolicy makes ingress default deny, the deny still wins', () => {
  const r = repository([
    np('ns1', 'allow-db', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'db' } } }, { namespaceSelector: {} }] }] }),
    cnp('ns1', 'deny-ns2', webIn({ enableDefaultDeny: { ingress: false }, ingressDeny: [{ fromEndpoints: [{ matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'ns2' } }] }] })),
  ]);
  const p = r.computeEndpoint(WEB);
  assert.deepEqual([p.ingressEnforced, p.ingressDefaultDeny], [true, true]);
  assert.equal(verdict(r, WEB, 'ingress', ID.db, TCP, 80), 'allow');
  assert.equal(verdict(r, WEB, 'ingress', ID.client2, TCP, 80), 'deny', 'allowed by the NetworkPolicy, denied by the CNP');
  assert.equal(verdict(r, WEB, 'ingress', 2, TCP, 80), 'default-deny');
});

test('enforcement always / never', () => {
  const always = repository([], { enforcement: 'always' });
  const pol = always.computeEndpoint(DB);
  assert.deepEqual([pol.ingressEnforced, pol.egressEnforced], [true, true]);
  assert.equal(verdict(always, DB, 'egress', ID.web, TCP, 80), 'default-deny');
  assert.equal(verdict(always, DB, 'ingress', 1, TCP, 80), 'allow', 'allow-localhost');
  const dd = pol.entries.find((e) => e.verdict === 'default-deny' && e.direction === 'egress')!;
  assert.deepEqual(always.cookies.describe(dd.cookie), ['enforcement-always']);
  const never = repository([cnp('ns1', 'p', webIn({ ingress: [fromDb] }))], { enforcement: 'never' });
  const n = never.computeEndpoint(WEB);
  assert.deepEqual([n.ingressEnforced, n.egressEnforced, n.entries.length], [false, false, 0]);
  assert.equal(verdict(never, WEB, 'ingress', ID.client2, TCP, 80), 'allow');
});

test('allow-localhost: host allowed on enforced ingress, named in the cookie; off when disabled', () => {
  const on = repository([cnp('ns1', 'p', webIn({ ingress: [fromDb] }))]);
  const pol = on.computeEndpoint(WEB);
  const r = lookupPolicy(pol.entries, 'ingress', 1, TCP, 22);
  assert.deepEqual([r.allowed, r.match], [true, 'L3-Only']);
  assert.deepEqual(on.cookies.describe(r.entry!.cookie), ['allow-localhost']);
  assert.equal(verdict(on, WEB, 'egress', 1, TCP, 22), 'allow', 'egress is not enforced');
  const off = repository([cnp('ns1', 'p', webIn({ ingress: [fromDb] }))], { allowLocalhost: false });
  assert.equal(verdict(off, WEB, 'ingress', 1, TCP, 22), 'default-deny');
  // A deny of the host beats allow-localhost.
  const denied = repository([cnp('ns1', 'p', webIn({ ingressDeny: [{ fromEntities: ['host'] }] }))]);
  assert.equal(verdict(denied, WEB, 'ingress', 1, TCP, 22), 'deny');
});

test('cookies name the policies that decided; same-key allows merge', () => {
  const r = repository([
    cnp('ns1', 'a', webIn({ ingress: [fromDb] })),
    np('ns1', 'b'),
    ccnp('c', webIn({ ingressDeny: [{ fromEntities: ['world'] }] })),
  ]);
  const pol = r.computeEndpoint(WEB);
  const by = (peer: number) => r.cookies.describe(lookupPolicy(pol.entries, 'ingress', peer, TCP, 80).entry!.cookie);
  assert.deepEqual(by(ID.db), ['CiliumNetworkPolicy/ns1/a', 'NetworkPolicy/ns1/b']);
  assert.deepEqual(by(2), ['CiliumClusterwideNetworkPolicy/c']);
  assert.deepEqual(by(ID.client2), ['CiliumClusterwideNetworkPolicy/c', 'CiliumNetworkPolicy/ns1/a', 'NetworkPolicy/ns1/b']);
  assert.deepEqual(pol.selectedBy.ingress.map((o) => o.name), ['c', 'a', 'b']);
  assert.deepEqual(pol.selectedBy.egress, []);
  // Keys are unique and sorted.
  const keys = pol.entries.map((e) => `${e.direction}/${e.identity}/${e.protocol}/${e.port}/${e.portPrefixLen}`);
  assert.equal(new Set(keys).size, keys.length);
  // Cookie numbers are stable across computations.
  assert.deepEqual(r.computeEndpoint(WEB).entries, pol.entries);

  function np(ns: string, name: string): unknown {
    return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'db' } } }] }] } };
  }
});

test('multiple specs are separate rules of one policy', () => {
  const r = repository([cnp('ns1', 'p', [webIn({ ingress: [fromDb] }), { endpointSelector: { matchLabels: { app: 'db' } }, egress: [{ toEntities: ['world'] }] }])]);
  assert.equal(verdict(r, WEB, 'ingress', ID.db, TCP, 1), 'allow');
  assert.equal(r.computeEndpoint(WEB).egressEnforced, false);
  assert.equal(r.computeEndpoint(DB).ingressEnforced, false);
  assert.equal(verdict(r, DB, 'egress', 2, TCP, 1), 'allow');
  assert.equal(verdict(r, DB, 'egress', ID.web, TCP, 1), 'default-deny');
});

test('toServices: selector Services by their pods, selector-less ones by their addresses', () => {
  const r = repository([cnp('ns1', 'p', webIn({ egress: [{ toServices: [{ k8sService: { serviceName: 'db' } }, { k8sService: { serviceName: 'ext', namespace: 'ns1' } }] }] }))]);
  r.setServices([
    { namespace: 'ns1', name: 'db', selector: { app: 'db' } },
    { namespace: 'ns1', name: 'ext', addresses: ['10.0.0.5'] },
    { namespace: 'ns2', name: 'db', selector: { app: 'client' } },
  ]);
  assert.equal(verdict(r, WEB, 'egress', ID.db, TCP, 5432), 'allow');
  assert.equal(verdict(r, WEB, 'egress', ID.cidr10a, TCP, 443), 'allow');
  assert.equal(verdict(r, WEB, 'egress', ID.client2, TCP, 5432), 'default-deny');
  assert.equal(verdict(r, WEB, 'egress', ID.cidr10, TCP, 443), 'default-deny');
  assert.deepEqual(r.requiredPrefixes(), ['10.0.0.5/32']);
  const s = repository([cnp('ns1', 'p', webIn({ egress: [{ toServices: [{ k8sServiceSelector: { selector: { matchLabels: { tier: 'data' } } } }] }] }))]);
  s.setServices([{ namespace: 'ns1', name: 'db', labels: { tier: 'data' }, selector: { app: 'db' } }]);
  assert.equal(verdict(s, WEB, 'egress', ID.db, TCP, 1), 'allow');
});

test('L7 rules are enforced as their L4 part, with a note', () => {
  const r = repository();
  const probs = r.upsertPolicy(cnp('ns1', 'l7', webIn({ ingress: [{ ...fromDb, toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }], rules: { http: [{ method: 'GET' }] } }] }] })));
  assert.deepEqual(probs.map((p) => [p.severity, p.path]), [['note', 'spec.ingress[0].toPorts[0].rules']]);
  assert.equal(verdict(r, WEB, 'ingress', ID.db, TCP, 80), 'allow');
  assert.equal(verdict(r, WEB, 'ingress', ID.db, TCP, 81), 'default-deny');
});

test('toFQDNs without learned names and IPv6 CIDRs select nothing (the latter with a warning); DNS rules on ANY are fine', () => {
  const r = repository();
  const probs = r.upsertPolicy(cnp('ns1', 'fqdn', webIn({ egress: [
    { toFQDNs: [{ matchName: 'example.com' }] },
    { toEndpoints: [{}], toPorts: [{ ports: [{ port: '53', protocol: 'ANY' }], rules: { dns: [{ matchPattern: '*' }] } }] },
    { toCIDR: ['2001:db8::/64'] },
  ] })));
  assert.deepEqual(probs.map((p) => [p.severity, p.path]), [['note', 'spec.egress[1].toPorts[0].rules'], ['warning', 'spec.egress[2].toCIDR[0]']]);
  assert.equal(verdict(r, WEB, 'egress', 2, TCP, 443), 'default-deny');
  assert.equal(verdict(r, WEB, 'egress', ID.db, UDP, 53), 'allow');
});

test('nodeSelector rules are ignored with a warning', () => {
  const r = repository();
  const probs = r.upsertPolicy(ccnp('host', { nodeSelector: {}, ingress: [fromDb] }));
  assert.deepEqual(probs.map((p) => [p.severity, p.path]), [['warning', 'spec.nodeSelector']]);
  assert.equal(r.computeEndpoint(WEB).ingressEnforced, false);
});

test('bad input is rejected with field paths; the previous version stays in force; others unaffected', () => {
  const r = repository([cnp('ns1', 'p', webIn({ ingress: [fromDb] })), cnp('ns1', 'other', webIn({ egress: [{ toEntities: ['world'] }] }))]);
  const bad = (rule: Partial<CiliumRule>) => r.upsertPolicy(cnp('ns1', 'p', webIn(rule))).filter((p) => p.severity === 'error').map((p) => `${p.path}: ${p.message}`);
  assert.deepEqual(bad({ ingress: [{ toPorts: [{ ports: [{ port: '80', endPort: 70000, protocol: 'TCP' }] }] }] }),
    ['spec.ingress[0].toPorts[0].ports[0].endPort: Invalid value: 70000: must be between 1 and 65535, inclusive']);
  assert.deepEqual(bad({ ingress: [{ toPorts: [{ ports: [{ port: '70000' }] }] }] }),
    ['spec.ingress[0].toPorts[0].ports[0].port: Invalid value: "70000": must be between 1 and 65535, inclusive']);
  assert.deepEqual(bad({ ingress: [{ toPorts: [{ ports: [{ port: '90', endPort: 80, protocol: 'TCP' }] }] }] }),
    ['spec.ingress[0].toPorts[0].ports[0].endPort: Invalid value: 80: must be greater than or equal to `port` (90)']);
  assert.deepEqual(bad({ egress: [{ toCIDR: ['10.0.0.0/33'] }] }),
    ['spec.egress[0].toCIDR[0]: Invalid value: "10.0.0.0/33": must be a valid CIDR or IP address (e.g. 10.9.8.0/24)']);
  assert.deepEqual(bad({ egress: [{ toEntities: ['galaxy' as never] }] }).map((m) => m.split(':')[0]), ['spec.egress[0].toEntities[0]']);
  assert.deepEqual(bad({ ingress: [{ fromEndpoints: [{ matchExpressions: [{ key: 'app', operator: 'Near' as never, values: ['x'] }] }] }] }).map((m) => m.split(': ').slice(0, 2).join(': ')),
    ['spec.ingress[0].fromEndpoints[0].matchExpressions[0].operator: Unsupported value']);
  assert.deepEqual(bad({ ingress: [{ toPorts: [{ ports: [{ port: '80', protocol: 'ANY' }], rules: { http: [{}] } }] }] }).map((m) => m.split(':')[0]),
    ['spec.ingress[0].toPorts[0].ports[0].protocol']);
  assert.deepEqual(bad({ ingress: [{ toPorts: [{ ports: [{ port: '80' }], rules: { http: [{}] } }] }] }).map((m) => m.split(':')[0]),
    ['spec.ingress[0].toPorts[0].ports[0].protocol']);
  assert.deepEqual(bad({ ingress: [{ icmps: [{ fields: [{ type: 'Ping' }] }] }] }).map((m) => m.split(':')[0]), ['spec.ingress[0].icmps[0].fields[0].type']);
  assert.deepEqual(r.upsertPolicy({ apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name: 'p', namespace: 'ns1' }, specs: [webIn({}), { ingress: [] }] }).filter((p) => p.severity === 'error').map((p) => p.path), ['specs[1]']);
  assert.deepEqual(bad({ ingress: [{ fromRequires: [{ matchLabels: { env: 'prod' } }] }] }).map((m) => m.split(':')[0]), ['spec.ingress[0].fromRequires']);
  assert.deepEqual(bad({ ingress: [{ ...fromDb, authentication: { mode: 'test-always-fail' } }] }),
    ['spec.ingress[0].authentication.mode: Unsupported value: "test-always-fail": supported values: "disabled", "required"']);
  assert.deepEqual(bad({ ingressDeny: [{ ...fromDb, authentication: { mode: 'required' } }] as never }),
    ['spec.ingressDeny[0].authentication.mode: Forbidden: authentication is not supported in deny rules']);
  assert.deepEqual(bad({ egressDeny: [{ toFQDNs: [{ matchName: 'example.com' }] }] as never }).map((m) => m.split(':')[0]), ['spec.egressDeny[0].toFQDNs']);
  // Through all of that, version 1 of p and the other policy still decide.
  assert.equal(verdict(r, WEB, 'ingress', ID.db, TCP, 80), 'allow');
  assert.equal(verdict(r, WEB, 'ingress', ID.client2, TCP, 80), 'default-deny');
  assert.equal(verdict(r, WEB, 'egress', 2, TCP, 80), 'allow');
  assert.equal(verdict(r, WEB, 'egress', ID.db, TCP, 80), 'default-deny');
});

test('delete and endpointsAffectedBy (old or new version selects)', () => {
  const r = repository([cnp('ns1', 'p', webIn({ ingress: [fromDb] }))]);
  const eps = [WEB, DB, CLIENT2];
  assert.deepEqual(r.endpointsAffectedBy('CiliumNetworkPolicy/ns1/p', eps).map((e) => e.id), [11]);
  r.upsertPolicy(cnp('ns1', 'p', { endpointSelector: { matchLabels: { app: 'db' } }, ingress: [fromDb] }));
  assert.deepEqual(r.endpointsAffectedBy('CiliumNetworkPolicy/ns1/p', eps).map((e) => e.id), [11, 12]);
  assert.equal(r.computeEndpoint(WEB).ingressEnforced, false);
  assert.equal(r.deletePolicy('CiliumNetworkPolicy/ns1/p'), true);
  assert.deepEqual(r.endpointsAffectedBy('CiliumNetworkPolicy/ns1/p', eps).map((e) => e.id), [12]);
  assert.equal(r.computeEndpoint(DB).ingressEnforced, false);
  assert.equal(r.deletePolicy('CiliumNetworkPolicy/ns1/p'), false);
  assert.deepEqual(r.endpointsAffectedBy('CiliumNetworkPolicy/ns1/nope', eps), []);
});

test('selector cache follows identity changes without a rescan', () => {
  const r = repository([cnp('ns1', 'p', webIn({ ingress: [fromDb] }))]);
  const fresh = 2000;
  assert.equal(verdict(r, WEB, 'ingress', fresh, TCP, 80), 'default-deny');
  const cached = r.cachedSelectors;
  r.upsertIdentity(fresh, podLabels('ns1', { app: 'db', v: '2' }));
  assert.equal(verdict(r, WEB, 'ingress', fresh, TCP, 80), 'allow');
  r.upsertIdentity(fresh, podLabels('ns1', { app: 'other' }));
  assert.equal(verdict(r, WEB, 'ingress', fresh, TCP, 80), 'default-deny');
  r.upsertIdentity(fresh, podLabels('ns1', { app: 'db' }));
  r.deleteIdentity(fresh);
  assert.equal(verdict(r, WEB, 'ingress', fresh, TCP, 80), 'default-deny');
  assert.equal(r.cachedSelectors, cached);
  // Equal selectors from different policies share one slot.
  r.upsertPolicy(cnp('ns1', 'q', { endpointSelector: { matchLabels: { app: 'db' } }, ingress: [fromDb] }));
  r.computeEndpoint(DB);
  assert.equal(r.cachedSelectors, cached);
});

test('egress toPorts without peers: any identity', () => {
  const r = repository([cnp('ns1', 'p', webIn({ egress: [{ toPorts: [{ ports: [{ port: '53', protocol: 'UDP' }] }] }] }))]);
  for (const id of [ID.db, 2, ID.cidr8, 1]) assert.equal(verdict(r, WEB, 'egress', id, UDP, 53), 'allow');
  assert.equal(verdict(r, WEB, 'egress', 2, TCP, 53), 'default-deny');
});

test('diffEntries over two computations writes only what changed', () => {
  const r = repository([cnp('ns1', 'p', webIn({ ingress: [fromDb] }))]);
  const before = r.computeEndpoint(WEB).entries;
  r.upsertPolicy(cnp('ns1', 'q', webIn({ ingress: [{ toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }] }] })));
  const after = r.computeEndpoint(WEB).entries;
  const d = diffEntries(before, after);
  // The new L4 allow, and the default-deny entry whose cookie now names both policies.
  assert.deepEqual(d.upserts.map((e) => [e.identity, e.protocol, e.port, e.portPrefixLen, e.verdict]), [[0, 0, 0, 0, 'default-deny'], [0, TCP, 443, 16, 'allow']]);
  assert.deepEqual(d.deletes, []);
  r.deletePolicy('CiliumNetworkPolicy/ns1/p');
  const d2 = diffEntries(after, r.computeEndpoint(WEB).entries);
  assert.deepEqual(d2.deletes.map((e) => [e.identity, e.protocol]), [[ID.db, 0]]);
});

test('reserved identities in the fixture are the real ones', () => {
  assert.equal(RESERVED_IDENTITIES.length, 10);
  assert.equal(endpoint(1, ID.client2).namespace, 'ns2');
});

test('authentication.mode required: its allows carry authRequired, covered keys of the same identity inherit it; disabled changes nothing', () => {
  const r = repository([
    cnp('ns1', 'auth', webIn({ ingress: [{ ...fromDb, authentication: { mode: 'required' } }] })),
    cnp('ns1', 'plain', webIn({ ingress: [{ ...fromDb, toPorts: [{ ports: [{ port: '8080', protocol: 'TCP' }] }] }, { fromEntities: ['world'], authentication: { mode: 'disabled' } }] })),
  ]);
  const pol = r.computeEndpoint(WEB);
  assert.deepEqual(pol.errors, []);
  const auth = pol.entries.filter((e) => e.authRequired).map((e) => `${e.direction}/${e.identity}/${e.protocol}/${e.port}`);
  // The db allow on every port, and db's TCP 8080 (a more specific key another policy allows without
  // authentication: the trie returns it for db's 8080, so it inherits the requirement).
  assert.deepEqual(auth, [`ingress/${ID.db}/0/0`, `ingress/${ID.db}/6/8080`]);
  assert.equal(lookupPolicy(pol.entries, 'ingress', ID.db, TCP, 8080).authRequired, true);
  assert.equal(lookupPolicy(pol.entries, 'ingress', ID.db, UDP, 53).authRequired, true);
  assert.equal(lookupPolicy(pol.entries, 'ingress', 2, TCP, 80).allowed, true);
  assert.equal(lookupPolicy(pol.entries, 'ingress', 2, TCP, 80).authRequired, undefined, 'world: mode disabled');
  // Removing the policy removes the flag: an update (a value change on the same key), not a delete.
  // (An update's policy reads its entries live: copied before the next change.)
  const before = [...r.updateEndpoint(WEB).policy.entries];
  assert.ok(before.some((e) => e.authRequired));
  r.deletePolicy('CiliumNetworkPolicy/ns1/auth');
  const u2 = r.updateEndpoint(WEB);
  assert.ok(u2.upserts.some((e) => e.identity === ID.db && e.protocol === TCP && e.port === 8080 && !e.authRequired));
  assert.ok(!u2.policy.entries.some((e) => e.authRequired));
  assert.deepEqual(diffEntries(before.filter((e) => e.port === 8080), u2.policy.entries.filter((e) => e.port === 8080)).upserts.map((e) => e.authRequired), [undefined]);
});

test('authentication: an any-peer allow that requires it asks every peer but the host; egress allows carry it too; a deny wins', () => {
  const r = repository([
    cnp('ns1', 'p', webIn({
      ingress: [{ toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }], authentication: { mode: 'required' } }, fromDb],
      egress: [{ toEndpoints: [{ matchLabels: { app: 'db' } }], authentication: { mode: 'required' } }],
      egressDeny: [{ toEndpoints: [{ matchLabels: { app: 'db' } }], toPorts: [{ ports: [{ port: '5432', protocol: 'TCP' }] }] }],
    })),
  ]);
  const pol = r.computeEndpoint(WEB);
  // db has its own allow without authentication; the any-identity TCP 80 allow requires it, so db's port 80 does too (the datapath looks both up).
  assert.equal(lookupPolicy(pol.entries, 'ingress', ID.db, TCP, 80).authRequired, true);
  assert.equal(lookupPolicy(pol.entries, 'ingress', ID.db, TCP, 81).authRequired, undefined);
  assert.equal(lookupPolicy(pol.entries, 'ingress', ID.client2, TCP, 80).authRequired, true);
  // The node itself (kubelet probes) is allowed by allow-localhost and never asked to authenticate.
  const host = lookupPolicy(pol.entries, 'ingress', 1, TCP, 80);
  assert.equal(host.allowed, true);
  assert.equal(host.authRequired, undefined);
  assert.equal(lookupPolicy(pol.entries, 'egress', ID.db, TCP, 80).authRequired, true);
  const denied = lookupPolicy(pol.entries, 'egress', ID.db, TCP, 5432);
  assert.equal(denied.allowed, false);
  assert.equal(denied.entry?.authRequired, undefined);
});

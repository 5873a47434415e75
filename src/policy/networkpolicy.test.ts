/** Kubernetes NetworkPolicy semantics, through computeEndpoint + lookupPolicy. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults } from '../k8s/defaults.js';
import type { NetworkPolicy } from '../k8s/types.js';
import { CLIENT2, DB, ID, WEB, np, repository, verdict, TCP, UDP, SCTP, ICMP } from './testing.js';

const web = { matchLabels: { app: 'web' } };

test('empty rule {} allows everything from anywhere', () => {
  const r = repository([np('ns1', 'p', { podSelector: web, ingress: [{}] })], { allowLocalhost: false });
  for (const id of [ID.db, ID.client2, 2, ID.cidr8, 1]) assert.equal(verdict(r, WEB, 'ingress', id, UDP, 9), 'allow');
  assert.equal(verdict(r, WEB, 'ingress', ID.db, ICMP, 8), 'allow');
  assert.equal(r.computeEndpoint(WEB).egressEnforced, false);
});

test('ingress omitted or [] with the type: enforced, nothing allowed', () => {
  for (const spec of [{ podSelector: web }, { podSelector: web, ingress: [] }, { podSelector: web, policyTypes: ['Ingress' as const] }]) {
    const r = repository([np('ns1', 'p', spec)], { allowLocalhost: false });
    assert.equal(verdict(r, WEB, 'ingress', ID.db, TCP, 80), 'default-deny', JSON.stringify(spec));
    assert.equal(verdict(r, WEB, 'egress', ID.db, TCP, 80), 'allow', JSON.stringify(spec));
  }
});

test('policyTypes: Egress only; egress rules imply Egress (and Ingress) by default', () => {
  const e = repository([np('ns1', 'p', { podSelector: web, policyTypes: ['Egress'] })]);
  assert.equal(verdict(e, WEB, 'ingress', ID.db, TCP, 80), 'allow');
  assert.equal(verdict(e, WEB, 'egress', ID.db, TCP, 80), 'default-deny');
  const d = repository([np('ns1', 'p', { podSelector: web, egress: [{ to: [{ podSelector: { matchLabels: { app: 'db' } } }] }] })], { allowLocalhost: false });
  assert.equal(verdict(d, WEB, 'egress', ID.db, TCP, 80), 'allow');
  assert.equal(verdict(d, WEB, 'egress', ID.web2, TCP, 80), 'default-deny');
  assert.equal(verdict(d, WEB, 'ingress', ID.db, TCP, 80), 'default-deny', 'Ingress is always a type unless given');
  // Same after the apiserver's defaulting.
  const defaulted = applyDefaults(np('ns1', 'p', { podSelector: web, egress: [{}] }) as NetworkPolicy);
  assert.deepEqual(defaulted.spec.policyTypes, ['Ingress', 'Egress']);
  assert.equal(verdict(repository([defaulted]), WEB, 'egress', 2, TCP, 1), 'allow');
});

test('podSelector {} selects every pod of the namespace only', () => {
  const r = repository([np('ns1', 'p', { podSelector: {}, ingress: [] })]);
  assert.equal(r.computeEndpoint(WEB).ingressEnforced, true);
  assert.equal(r.computeEndpoint(DB).ingressEnforced, true);
  assert.equal(r.computeEndpoint(CLIENT2).ingressEnforced, false);
});

test('peers: podSelector alone, namespaceSelector alone, both, ipBlock', () => {
  const ports = (port: number) => [{ port }];
  const r = repository([np('ns1', 'p', { podSelector: web, ingress: [
    { from: [{ podSelector: { matchLabels: { app: 'client' } } }], ports: ports(1) },
    { from: [{ namespaceSelector: { matchLabels: { team: 'blue' } } }], ports: ports(2) },
    { from: [{ namespaceSelector: { matchLabels: { team: 'blue' } }, podSelector: { matchLabels: { app: 'web' } } }], ports: ports(3) },
    { from: [{ namespaceSelector: {} }], ports: ports(4) },
    { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ns2' } } }], ports: ports(5) },
    { from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.0.0.5/32'] } }], ports: ports(6) },
    { from: [{ podSelector: {} }], ports: ports(7) },
  ] })]);
  const row = (id: number) => [1, 2, 3, 4, 5, 6, 7].map((p) => (verdict(r, WEB, 'ingress', id, TCP, p) === 'allow' ? p : '-')).join('');
  assert.equal(row(ID.client2), '-2-45--', 'app=client in ns1 only; ns2 by label and by metadata.name');
  assert.equal(row(ID.web2), '-2345--');
  assert.equal(row(ID.db), '---4--7');
  assert.equal(row(ID.cidr10), '-----6-');
  assert.equal(row(ID.cidr10a), '-------', 'inside the except');
  assert.equal(row(2), '-------', 'namespaceSelector {} is pods only');
  assert.equal(row(1), '1234567', 'allow-localhost');
});

test('ports: protocol defaults to TCP, named ports, endPort ranges; from omitted = any peer', () => {
  const r = repository([np('ns1', 'p', { podSelector: web, ingress: [
    { ports: [{ port: 53, protocol: 'UDP' }, { port: 'http' }, { port: 9000, endPort: 9003 }, { protocol: 'SCTP' }] },
  ] })]);
  assert.equal(verdict(r, WEB, 'ingress', ID.client2, UDP, 53), 'allow');
  assert.equal(verdict(r, WEB, 'ingress', ID.client2, TCP, 53), 'default-deny');
  assert.equal(verdict(r, WEB, 'ingress', ID.cidr8, TCP, 8080), 'allow', 'named port http of the endpoint');
  assert.deepEqual([8999, 9000, 9003, 9004].map((p) => verdict(r, WEB, 'ingress', ID.db, TCP, p)), ['default-deny', 'allow', 'allow', 'default-deny']);
  assert.equal(verdict(r, WEB, 'ingress', ID.db, SCTP, 1234), 'allow', 'protocol without port = all its ports');
  assert.equal(verdict(r, WEB, 'ingress', ID.db, UDP, 9000), 'default-deny');
});

test('policies add up: two NetworkPolicies and a CNP on one pod', () => {
  const r = repository([
    np('ns1', 'a', { podSelector: web, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'db' } } }], ports: [{ port: 80 }] }] }),
    np('ns1', 'b', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '8.8.8.8/32' } }] }] }),
  ]);
  assert.equal(verdict(r, WEB, 'ingress', ID.db, TCP, 80), 'allow');
  assert.equal(verdict(r, WEB, 'ingress', ID.db, TCP, 81), 'default-deny');
  assert.equal(verdict(r, WEB, 'ingress', ID.cidr8, TCP, 81), 'allow');
  assert.equal(verdict(r, DB, 'ingress', ID.db, TCP, 80), 'default-deny');
});

test('bad NetworkPolicy input: endPort below port, named port with endPort, bad ipBlock', () => {
  const r = repository();
  const errs = (spec: unknown) => r.upsertPolicy(np('ns1', 'bad', spec as never)).filter((p) => p.severity === 'error').map((p) => `${p.path}: ${p.message}`);
  assert.deepEqual(errs({ podSelector: {}, ingress: [{ ports: [{ port: 90, endPort: 80 }] }] }), ['spec.ingress[0].ports[0].endPort: Invalid value: 80: must be greater than or equal to `port` (90)']);
  assert.deepEqual(errs({ podSelector: {}, ingress: [{ ports: [{ port: 'http', endPort: 80 }] }] }), ['spec.ingress[0].ports[0].endPort: Forbidden: may not be specified when `port` is non-numeric']);
  assert.deepEqual(errs({ podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: 'nope' } }] }] }), ['spec.egress[0].to[0].ipBlock.cidr: Invalid value: "nope": must be a valid CIDR or IP address (e.g. 10.9.8.0/24)']);
  assert.deepEqual(errs({ podSelector: {}, ingress: [{ ports: [{ port: 0 }] }] }), ['spec.ingress[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive']);
  assert.equal(r.listPolicies().length, 0);
});

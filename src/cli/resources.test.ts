import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireKind } from '../k8s/index.js';
import type { StoreObject } from '../store/store.js';
import { describeObject, renderTable, resourceName } from './resources.js';

const meta = (name: string, namespace?: string) => ({ name, namespace, uid: 'u', resourceVersion: '7', creationTimestamp: new Date(Date.now() - 90_000).toISOString() });

test('resource names are kubectl’s: singular plus group', () => {
  assert.equal(resourceName(requireKind('svc')), 'service');
  assert.equal(resourceName(requireKind('deploy')), 'deployment.apps');
  assert.equal(resourceName(requireKind('cnp')), 'ciliumnetworkpolicy.cilium.io');
});

test('tables have each kind’s columns, NAMESPACE first with -A, wide columns last', () => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: meta('web-1', 'shop'), spec: { containers: [{}, {}], nodeName: 'node1' }, status: { phase: 'Running', podIP: '10.0.1.5', containerStatuses: [{ ready: true, restartCount: 2 }, { ready: false, restartCount: 1 }] } } as StoreObject;
  const out = renderTable(requireKind('po'), [pod], { wide: true, allNamespaces: true }).split('\n');
  assert.match(out[0]!, /^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE$/);
  assert.match(out[1]!, /^shop\s+web-1\s+1\/2\s+Running\s+3\s+90s\s+10\.0\.1\.5\s+node1$/);
  const np = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta('deny', 'shop'), spec: { podSelector: { matchLabels: { app: 'web' } } } } as StoreObject;
  assert.match(renderTable(requireKind('netpol'), [np], { wide: false, allNamespaces: false }), /^NAME\s+POD-SELECTOR\s+AGE\ndeny\s+app=web\s+90s\n$/);
  const ccnp = { apiVersion: 'cilium.io/v2', kind: 'CiliumClusterwideNetworkPolicy', metadata: meta('x'), spec: {} } as StoreObject;
  assert.match(renderTable(requireKind('ccnp'), [ccnp], { wide: false, allNamespaces: true }), /^NAME\s+AGE\nx\s+90s\n$/);
});

test('describe prints metadata then flattened spec', () => {
  const svc = { apiVersion: 'v1', kind: 'Service', metadata: { ...meta('web', 'shop'), labels: { a: '1', b: '2' } }, spec: { ports: [{ port: 80 }] } } as StoreObject;
  const d = describeObject(svc);
  assert.match(d, /^Name:\s+web\nNamespace:\s+shop\n/);
  assert.match(d, /^Labels:\s+a=1\n\s+b=2$/m);
  assert.match(d, /^Spec:\n\s+ports\[0\]\.port:\s+80$/m);
});

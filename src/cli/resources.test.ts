import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireKind } from '../k8s/index.js';
import type { StoreObject } from '../store/store.js';
import { describeObject, policyIssues, renderTable, resourceName } from './resources.js';

const meta = (name: string, namespace?: string) => ({ name, namespace, uid: 'u', resourceVersion: '7', creationTimestamp: new Date(Date.now() - 90_000).toISOString() });

test('resource names are kubectl’s: singular plus group', () => {
  assert.equal(resourceName(requireKind('svc')), 'service');
  assert.equal(resourceName(requireKind('deploy')), 'deployment.apps');
  assert.equal(resourceName(requireKind('cnp')), 'ciliumnetworkpolicy.cilium.io');
});

test('tables have each kind’s columns, NAMESPACE first with -A, wide columns last', () => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: meta('web-1', 'shop'), spec: { containers: [{}, {}], nodeName: 'node1' }, status: { phase: 'Running', podIP: '10.0.1.5', containerStatuses: [{ ready: true, restartCount: 2 }, { ready: false, restartCount: 1 }] } } as StoreObject;
  const out = renderTable(requireKind('po'), [pod], { wide: true, allNamespaces: true }).split('\n');
  assert.match(out[0]!, /^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/);
  assert.match(out[1]!, /^shop\s+web-1\s+1\/2\s+Running\s+3\s+90s\s+10\.0\.1\.5\s+node1\s+<none>\s+<none>$/);
  // A waiting reason (CrashLoopBackOff) is what STATUS shows, as kubectl does.
  const crashing = { ...pod, status: { phase: 'Running', containerStatuses: [{ ready: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } } }] } } as StoreObject;
  assert.match(renderTable(requireKind('po'), [crashing], { wide: false, allNamespaces: false }), /\nweb-1\s+0\/2\s+CrashLoopBackOff\s+4\s/);
  const node = { apiVersion: 'v1', kind: 'Node', metadata: meta('node1'), spec: {}, status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: 'v1.31.0' }, addresses: [{ type: 'InternalIP', address: '172.18.0.11' }] } } as StoreObject;
  const nodes = renderTable(requireKind('no'), [node], { wide: true, allNamespaces: false }).split('\n');
  assert.match(nodes[0]!, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE/);
  assert.match(nodes[1]!, /^node1\s+Ready\s+<none>\s+90s\s+v1\.31\.0\s+172\.18\.0\.11\s+<none>/);
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

test('describe httproute: each parent with its controller and conditions as a table', () => {
  const status = { parents: [{ parentRef: { group: '', kind: 'Service', name: 'web', port: 80 }, controllerName: 'beeline.io/mesh', conditions: [
    { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Accepted', observedGeneration: 1, lastTransitionTime: '2026-01-01T00:00:00Z' },
    { type: 'ResolvedRefs', status: 'False', reason: 'BackendNotFound', message: 'Service default/v3 not found', observedGeneration: 1, lastTransitionTime: '2026-01-01T00:00:00Z' },
  ] }] };
  const d = describeObject({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: meta('split', 'default'), spec: {}, status } as StoreObject);
  assert.match(d, /^Status:\n  Parents:\n    Service web:80  \(controller beeline\.io\/mesh\)\n      TYPE\s+STATUS\s+REASON\s+SINCE\s+MESSAGE\n      Accepted\s+True\s+Accepted\s+2026-01-01T00:00:00Z\s+Accepted\n      ResolvedRefs\s+False\s+BackendNotFound\s+\S+\s+Service default\/v3 not found\nEvents:/m);
});

test('apply checks policies with the agents\' engine: what no agent would accept is an error, what cannot be enforced as written a warning', () => {
  const cnp = (name: string, spec: unknown) => ({ apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { namespace: 'shop', name }, spec });
  const objects = [
    // HTTP rules go to the node proxy, Kafka rules to the agent's Kafka proxy: no warning.
    cnp('l7', {
      endpointSelector: {},
      ingress: [{ toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }], rules: { http: [{ method: 'GET', path: '/public' }] } }] }],
      egress: [{ toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }], rules: { http: [{ method: 'GET' }] } }, { ports: [{ port: '9092', protocol: 'TCP' }], rules: { kafka: [{ topic: 'orders' }] } }] }],
    }),
    cnp('requires', { endpointSelector: {}, ingress: [{ fromRequires: [{ matchLabels: { env: 'prod' } }] }] }),
    // toFQDNs selects the addresses learned for its names: no warning.
    cnp('fqdn', { endpointSelector: {}, egress: [{ toFQDNs: [{ matchName: 'example.com' }] }] }),
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
    // What the node proxy refuses (its access record has no place for a LOG note): an error, with the field path.
    cnp('log', { endpointSelector: {}, ingress: [{ toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }], rules: { http: [{ headerMatches: [{ name: 'X-Token', value: 'a', mismatch: 'LOG' }] }] } }] }] }),    // HTTP rules for the host entity: its connections to local pods pass at L3/L4 (tc egress cannot hand them over): a warning.
    cnp('host', { endpointSelector: {}, ingress: [{ fromEntities: ['host'], toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }], rules: { http: [{ method: 'GET' }] } }] }] }),
  ];
  const { errors, warnings } = policyIssues(objects, ['f.yaml#1', 'f.yaml#2', 'f.yaml#3', 'f.yaml#4', 'f.yaml#5', 'f.yaml#6']);
  assert.deepEqual(errors.map((e) => [e.source, e.name, e.path]), [['f.yaml#2', 'requires', 'spec.ingress[0].fromRequires'], ['f.yaml#5', 'log', 'spec.ingress[0].toPorts[0].rules.http']]);
  assert.match(errors[1]!.message, /node proxy cannot enforce it: rules\.http\[0\]\.headerMatches\[0\]\.mismatch: LOG/);
  assert.deepEqual(warnings.map((w) => [w.source, w.name, w.path]), [['f.yaml#6', 'host', 'spec.ingress[0].fromEntities']]);
  assert.match(warnings[0]!.message, /not handed to the node proxy/);
});

test('apply refuses a port rule no beeline proxy can enforce (TLS settings, generic l7proto), naming the field', () => {
  const cnp = (name: string, spec: unknown) => ({ apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { namespace: 'default', name }, spec });
  const objects = [
    cnp('tls', { endpointSelector: {}, ingress: [{ toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }], terminatingTLS: { secret: { name: 's' } }, rules: { http: [{ method: 'GET' }] } }] }] }),
    cnp('orig', { endpointSelector: {}, egress: [{ toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }], originatingTLS: { secret: { name: 's' } } }] }] }),
    cnp('listener', { endpointSelector: {}, egress: [{ toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }], listener: { envoyConfig: { kind: 'CiliumEnvoyConfig', name: 'x' }, name: 'l' } }] }] }),
    cnp('gen', { endpointSelector: {}, ingress: [{ toPorts: [{ ports: [{ port: '6379', protocol: 'TCP' }], rules: { l7proto: 'redis', l7: [{ cmd: 'GET' }] } }] }] }),
  ];
  const { errors, warnings } = policyIssues(objects, ['f.yaml#1', 'f.yaml#2', 'f.yaml#3', 'f.yaml#4']);
  assert.deepEqual(errors.map((e) => [e.source, e.name, e.path]), [
    ['f.yaml#1', 'tls', 'spec.ingress[0].toPorts[0].terminatingTLS'],
    ['f.yaml#2', 'orig', 'spec.egress[0].toPorts[0].originatingTLS'],
    ['f.yaml#3', 'listener', 'spec.egress[0].toPorts[0].listener'],
    ['f.yaml#4', 'gen', 'spec.ingress[0].toPorts[0].rules.l7proto'],
  ]);
  assert.deepEqual(warnings, [], 'refused, not merely warned about');
});

test('apply warns of a proxy-visibility annotation the node proxy cannot honour as written (Pod, Deployment template, Namespace); the object is still applied', () => {
  const A = 'policy.cilium.io/proxy-visibility';
  const objects = [
    { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'empire', name: 'deathstar', annotations: { [A]: '<Ingress/80/TCP/HTTP>,<Egress/53/UDP/DNS>' } } },
    { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'empire', name: 'ok', annotations: { [A]: '<Ingress/80/TCP/HTTP>' } } },
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { namespace: 'empire', name: 'web' }, spec: { template: { metadata: { annotations: { 'io.cilium.proxy-visibility': '<Ingress/80/TCP/HTTP> ' } } } } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'empire', annotations: { [A]: '<Ingress/8080/UDP/HTTP>' } } },
  ];
  const { errors, warnings } = policyIssues(objects, ['f.yaml#1', 'f.yaml#2', 'f.yaml#3', 'f.yaml#4']);
  assert.deepEqual(errors, []);
  assert.deepEqual(warnings.map((w) => [w.source, w.kind, w.name, w.path]), [
    ['f.yaml#1', 'Pod', 'deathstar', `metadata.annotations[${A}]`],
    ['f.yaml#3', 'Deployment', 'web', 'spec.template.metadata.annotations[io.cilium.proxy-visibility]'],
    ['f.yaml#4', 'Namespace', 'empire', `metadata.annotations[${A}]`],
  ]);
  assert.match(warnings[0]!.message, /^<Egress\/53\/UDP\/DNS>: not honoured: .*no DNS parser/);
  assert.match(warnings[1]!.message, /does not match the proxy-visibility format; the annotation is ignored/);
  assert.match(warnings[2]!.message, /HTTP is redirected on TCP only/);
});

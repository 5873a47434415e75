import { test } from 'node:test';
import assert from 'node:assert/strict';
import { admit, type ClusterView } from './admission.js';

const view = (over: Partial<ClusterView> = {}): ClusterView => ({ namespaces: ['default'], nodes: ['node1', 'node2'], services: [], serviceCIDR: '10.96.0.0/28', ...over });
const svc = (name: string, spec: Record<string, unknown> = {}, namespace = 'default') => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports: [{ port: 80 }], ...spec } });
const pod = (name: string, spec: Record<string, unknown> = {}, namespace = 'default') => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec: { containers: [{ name: 'c', image: 'x' }], ...spec } });

test('services get free cluster IPs from the range, never the first ten, and keep them across re-applies', () => {
  const objs = [svc('a'), svc('b'), svc('c')];
  assert.deepEqual(admit(objs, ['f#1', 'f#2', 'f#3'], view({ services: [{ namespace: 'default', name: 'x', clusterIP: '10.96.0.11' }] })), []);
  const ips = objs.map((o) => (o.spec as any).clusterIP as string);
  assert.equal(new Set(ips).size, 3);
  for (const ip of ips) assert.ok(['10.96.0.12', '10.96.0.13', '10.96.0.14'].includes(ip), ip);
  const again = [svc('a')];
  assert.deepEqual(admit(again, ['g#1'], view({ services: [{ namespace: 'default', name: 'a', clusterIP: '10.96.0.13' }] })), []);
  assert.equal((again[0]!.spec as any).clusterIP, '10.96.0.13');
  const full = admit([svc('d')], ['h#1'], view({ services: ['11', '12', '13', '14'].map((n) => ({ namespace: 'default', name: `s${n}`, clusterIP: `10.96.0.${n}` })) }));
  assert.match(full[0]!.message, /range is full/);
});

test('requested cluster IPs: in range, free, immutable; headless stays headless', () => {
  const issues = admit(
    [svc('out', { clusterIP: '10.1.0.1' }), svc('dup', { clusterIP: '10.96.0.12' }), svc('moved', { clusterIP: '10.96.0.13' }), svc('h', { clusterIP: 'None' })],
    ['f#1', 'f#2', 'f#3', 'f#4'],
    view({ services: [{ namespace: 'default', name: 'other', clusterIP: '10.96.0.12' }, { namespace: 'default', name: 'moved', clusterIP: '10.96.0.14' }] }),
  );
  assert.deepEqual(issues.map((i) => [i.name, i.path, i.message.split(':')[0]]), [
    ['out', 'spec.clusterIP', 'Invalid value'],
    ['dup', 'spec.clusterIP', 'Invalid value'],
    ['moved', 'spec.clusterIP', 'Invalid value'],
  ]);
  assert.match(issues[0]!.message, /not in the valid range/);
  assert.match(issues[1]!.message, /already allocated/);
  assert.match(issues[2]!.message, /immutable/);
});

test('namespaces must exist or come in the same file; pods name existing nodes', () => {
  const issues = admit([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }, pod('a', {}, 'shop'), pod('b', {}, 'nowhere'), pod('c', { nodeName: 'node9' })], ['f#1', 'f#2', 'f#3', 'f#4'], view());
  assert.deepEqual(issues.map((i) => `${i.source} ${i.name} ${i.path}`), ['f#3 b metadata.namespace', 'f#4 c spec.nodeName']);
  assert.match(issues[1]!.message, /"node9": node not found \(nodes: node1, node2\)/);
});

test('an existing pod keeps its binding when the manifest leaves it out, and its spec cannot change', () => {
  const same = pod('a');
  assert.deepEqual(admit([same], ['f#1'], view(), [{ spec: { ...pod('a').spec, nodeName: 'node2' } }]), []);
  assert.equal((same.spec as any).nodeName, 'node2');
  const changed = pod('a', { containers: [{ name: 'c', image: 'y' }] });
  const issues = admit([changed], ['f#1'], view(), [{ spec: { ...pod('a').spec, nodeName: 'node2' } }]);
  assert.equal(issues[0]!.path, 'spec');
  assert.match(issues[0]!.message, /^Forbidden: pod updates may not change/);
});

test('NodePort services get node ports from 30000-32767, keep them, and requested ones must be in range and free', () => {
  const a = svc('np', { type: 'NodePort', ports: [{ port: 80 }, { port: 443, nodePort: 30443 }] });
  assert.deepEqual(admit([a], ['f#1'], view()), []);
  const ports = (a.spec as any).ports as { nodePort: number }[];
  assert.ok(ports[0]!.nodePort >= 30000 && ports[0]!.nodePort <= 32767 && ports[0]!.nodePort !== 30443);
  assert.equal(ports[1]!.nodePort, 30443);
  // Re-applied without nodePort: kept from the stored object.
  const again = svc('np', { type: 'NodePort', ports: [{ port: 80 }, { port: 443 }] });
  assert.deepEqual(admit([again], ['g#1'], view({ services: [{ namespace: 'default', name: 'np', nodePorts: [31000, 30443] }] }), [{ spec: { ports: [{ port: 80, nodePort: 31000 }, { port: 443, nodePort: 30443 }] } }]), []);
  assert.deepEqual(((again.spec as any).ports as { nodePort: number }[]).map((p) => p.nodePort), [31000, 30443]);
  const bad = admit([svc('x', { type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] }), svc('y', { type: 'LoadBalancer', ports: [{ port: 80, nodePort: 30443 }] })], ['h#1', 'h#2'], view({ services: [{ namespace: 'default', name: 'np', nodePorts: [30443] }] }));
  assert.deepEqual(bad.map((i) => [i.name, i.path]), [['x', 'spec.ports[0].nodePort'], ['y', 'spec.ports[0].nodePort']]);
  assert.match(bad[0]!.message, /not in the valid range/);
  assert.match(bad[1]!.message, /already allocated/);
});

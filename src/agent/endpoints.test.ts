import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logger } from '../common/log.js';
import type { NodeDatapath } from './datapath.js';
import { EndpointManager, IDENTITY_INIT, endpointIdentityLabels, initialPolicyFlags, type IdentityBackend } from './endpoints.js';
import type { EndpointCreateRequest, EndpointModel } from './types.js';

function fakeDatapath() {
  const programmed = new Map<string, number>();
  const dp = {
    upsertEndpoint: async (ep: EndpointModel) => void programmed.set(ep.ipv4, ep.identity),
    removeEndpoint: async (ep: EndpointModel) => void programmed.delete(ep.ipv4),
  } as unknown as NodeDatapath;
  return { dp, programmed };
}

function fakeBackend() {
  const ids = new Map<string, number>();
  const refs = new Map<number, number>();
  const published = new Map<string, number>();
  const backend: IdentityBackend = {
    acquire: async (labels) => {
      const k = labels.join(';');
      if (!ids.has(k)) ids.set(k, 256 + ids.size);
      const id = ids.get(k)!;
      refs.set(id, (refs.get(id) ?? 0) + 1);
      return { id };
    },
    release: async (labels) => {
      const id = ids.get(labels.join(';'))!;
      const n = (refs.get(id) ?? 0) - 1;
      if (n > 0) refs.set(id, n);
      else refs.delete(id);
      return n <= 0;
    },
    publish: async (ip, identity) => void published.set(ip, identity),
    unpublish: async (ip) => published.delete(ip),
  };
  return { backend, refs, published };
}

let n = 0;
const req = (name: string, labels: Record<string, string>): EndpointCreateRequest => {
  n++;
  return {
    containerID: `c${name}`,
    ifname: 'eth0',
    netns: `/run/netns/${name}`,
    hostIfname: `lxc${name}`,
    ipv4: `10.0.1.${n + 10}`,
    mac: '02:00:00:00:00:01',
    hostMac: '02:00:00:00:00:02',
    pod: { namespace: 'default', name },
    labels,
  };
};

const manager = (dp: NodeDatapath) => new EndpointManager(join(mkdtempSync(join(tmpdir(), 'bl-ep-')), 'endpoints.json'), dp, logger('test'));

test('endpoint identity labels: pod labels plus the namespace, filtered as Cilium does', () => {
  const l = endpointIdentityLabels({ pod: { namespace: 'shop', name: 'x' }, labels: { app: 'web', 'pod-template-hash': 'abc' } })!;
  assert.ok(l.includes('k8s:app=web'));
  assert.ok(l.includes('k8s:io.kubernetes.pod.namespace=shop'));
  assert.ok(!l.some((x) => x.includes('pod-template-hash')));
  assert.equal(endpointIdentityLabels({ labels: { app: 'web' } }), undefined);
});

test('endpoints keep reserved:init until the allocator is up, then get and publish their identity', async () => {
  const { dp, programmed } = fakeDatapath();
  const m = manager(dp);
  const a = await m.create(req('a', { app: 'web' }));
  assert.equal(a.identity, IDENTITY_INIT);
  assert.equal(programmed.get(a.ipv4), IDENTITY_INIT);
  const { backend, refs, published } = fakeBackend();
  m.setIdentityBackend(backend);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(a.identity, 256);
  assert.equal(programmed.get(a.ipv4), 256, 'bl_lxc rewritten with the identity');
  assert.equal(published.get(a.ipv4), 256);
  const b = await m.create(req('b', { app: 'web' }));
  const c = await m.create(req('c', { app: 'db' }));
  assert.equal(b.identity, 256, 'equal labels, equal identity, resolved before create answers');
  assert.equal(c.identity, 257);
  assert.deepEqual([...m.identityUsers()], [[256, 2], [257, 1]]);
  await m.delete(c.containerID, 'eth0');
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(refs.has(257), false, 'the last user released the identity');
  assert.equal(published.has(c.ipv4), false);
  await m.delete(a.containerID, 'eth0');
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(refs.get(256), 1);
});

test('an allocator that does not answer never holds up networking', async () => {
  const { dp, programmed } = fakeDatapath();
  const m = manager(dp);
  const hung: IdentityBackend = { acquire: () => new Promise(() => undefined), release: async () => true, publish: async () => undefined, unpublish: async () => true };
  m.setIdentityBackend(hung);
  const t0 = Date.now();
  const a = await m.create(req('h', { app: 'web' }));
  assert.ok(Date.now() - t0 < 3000);
  assert.equal(a.identity, IDENTITY_INIT);
  assert.equal(programmed.get(a.ipv4), IDENTITY_INIT);
  // Deleting it must not wait either.
  assert.deepEqual(await m.delete(a.containerID, 'eth0'), { deleted: true, id: a.id });
});

test('a new endpoint is written fail closed: enforced both ways before its first bl_lxc write; never mode and audit as configured', async () => {
  const order: string[] = [];
  const dp = {
    upsertEndpoint: async (ep: EndpointModel) => void order.push(`upsert ${ep.id} identity ${ep.identity}`),
    removeEndpoint: async () => undefined,
    policy: { setEndpointFlags: (ep: { id: number }, flags: number) => (order.push(`flags ${ep.id} ${flags}`), 1) },
  } as unknown as NodeDatapath;
  const m = manager(dp);
  const a = await m.create(req('fc', { app: 'web' }));
  assert.deepEqual(order, [`flags ${a.id} 3`, `upsert ${a.id} identity ${IDENTITY_INIT}`], 'ingress | egress enforced, then the endpoint');
  assert.equal(initialPolicyFlags({ enforcement: 'never' }), 0, 'never: nothing enforced');
  assert.equal(initialPolicyFlags({ enforcement: 'always', audit: true }), 7, 'audit: drops reported, let through');
  order.length = 0;
  m.setInitialPolicyFlags(initialPolicyFlags({ enforcement: 'never' }));
  const b = await m.create(req('fc2', { app: 'web' }));
  assert.deepEqual(order, [`flags ${b.id} 0`, `upsert ${b.id} identity ${IDENTITY_INIT}`]);
});

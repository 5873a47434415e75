import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logger } from '../common/log.js';
import type { NodeDatapath } from './datapath.js';
import { EndpointManager, IDENTITY_INIT, admitEndpoint, endpointIdentityLabels, initialPolicyFlags, validateEndpointRequest, type EndpointAdmission, type IdentityBackend } from './endpoints.js';
import { EndpointInvalidError } from '../common/errors.js';
import { hostIfname } from '../cni/config.js';
import { FakeLinks } from '../../test/lib/fake-links.js';
import { FakeDatapath } from '../../test/lib/fake-datapath.js';
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

/** A node with one container's veth made as CNI makes it, IPAM holding its address. */
function admittedNode() {
  const links = new FakeLinks();
  const netns = '/run/netns/p1';
  links.addPod(netns);
  const host = hostIfname('p1', 'eth0');
  links.createVeth(netns, 'eth0', host);
  // The node's own links, which no endpoint request may name.
  links.host.set('eth0', { name: 'eth0', ifindex: 2, mac: '02:42:ac:12:00:0b', mtu: 1500, up: true });
  links.host.set('bl_vxlan', { name: 'bl_vxlan', ifindex: 3, mac: '02:00:00:00:aa:aa', mtu: 1450, up: true, kind: 'vxlan' });
  const owners = new Map([['p1/eth0', '10.0.1.5']]);
  const admission: EndpointAdmission = {
    allocated: (owner) => owners.get(owner),
    reserved: new Map([['eth0', 'uplink'], ['bl_vxlan', 'tunnel device']]),
    links,
  };
  const good: EndpointCreateRequest = {
    containerID: 'p1',
    ifname: 'eth0',
    netns,
    hostIfname: host,
    ipv4: '10.0.1.5',
    mac: links.podLink(netns, 'eth0')!.mac,
    hostMac: links.hostLink(host)!.mac,
    pod: { namespace: 'default', name: 'p1' },
    labels: { app: 'web', 'app.kubernetes.io/name': 'shop' },
  };
  return { links, owners, admission, good, host, netns };
}

test('endpoint requests are validated field by field, naming the field', () => {
  const { good } = admittedNode();
  const cases: [unknown, string, RegExp][] = [
    [[], '', /must be a JSON object/],
    [{ ...good, extra: 1 }, 'extra', /unknown field/],
    [{ ...good, containerID: '-x' }, 'containerID', /letter or digit/],
    [{ ...good, containerID: 'a'.repeat(300) }, 'containerID', /at most 256/],
    [{ ...good, netns: 'relative/path' }, 'netns', /absolute path/],
    [{ ...good, pod: 'default/p1' }, 'pod', /must be an object/],
    [{ ...good, pod: { namespace: 'Default', name: 'p1' } }, 'pod.namespace', /RFC 1123 label/],
    [{ ...good, pod: { namespace: 'default', name: 'P_1' } }, 'pod.name', /RFC 1123 subdomain/],
    [{ ...good, pod: { namespace: 'default' } }, 'pod.name', /required/],
    [{ ...good, pod: { namespace: 'default', name: 'p1', uid: 'x' } }, 'pod.uid', /unknown field/],
    [{ ...good, labels: ['app=web'] }, 'labels', /must map strings to strings/],
    [{ ...good, labels: { 'bad key!': 'x' } }, 'labels["bad key!"]', /invalid key/],
    [{ ...good, labels: { app: 'has space' } }, 'labels.app', /valid label/],
    [{ ...good, labels: { app: 7 } }, 'labels.app', /must be a string/],
    [{ ...good, labels: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, 'v'])) }, 'labels', /at most 256 labels/],
  ];
  for (const [body, field, re] of cases) {
    assert.throws(
      () => validateEndpointRequest(body as EndpointCreateRequest),
      (e: unknown) => e instanceof EndpointInvalidError && e.code === 'BL_ERR_ENDPOINT_INVALID' && e.field === field && re.test(e.message),
      `${field}: ${JSON.stringify(body).slice(0, 80)}`,
    );
  }
  assert.equal(validateEndpointRequest(good), good);
});

test('endpoint admission: only the veth CNI made for that container, only the address IPAM gave it', async () => {
  const { links, admission, good, host, netns } = admittedNode();
  const refused = (r: EndpointCreateRequest, code: string, field: string, re: RegExp) =>
    assert.throws(() => admitEndpoint(r, admission, []), (e: unknown) => e instanceof EndpointInvalidError && e.code === code && e.field === field && re.test(e.message), `${field} ${re}`);
  admitEndpoint(good, admission, []);
  refused({ ...good, hostIfname: 'eth0' }, 'BL_ERR_ENDPOINT_INTERFACE', 'hostIfname', /eth0 is the node's uplink/);
  refused({ ...good, hostIfname: 'bl_vxlan' }, 'BL_ERR_ENDPOINT_INTERFACE', 'hostIfname', /tunnel device/);
  refused({ ...good, hostIfname: 'lxcdeadbeef00' }, 'BL_ERR_ENDPOINT_INTERFACE', 'hostIfname', /not the veth CNI makes for p1\/eth0/);
  refused({ ...good, ipv4: '10.0.1.6' }, 'BL_ERR_ENDPOINT_ADDRESS', 'ipv4', /not the address IPAM allocated to p1\/eth0 \(10\.0\.1\.5\)/);
  refused({ ...good, containerID: 'p2', hostIfname: hostIfname('p2', 'eth0') }, 'BL_ERR_ENDPOINT_ADDRESS', 'ipv4', /IPAM has no address for p2\/eth0/);
  refused({ ...good, netns: '/proc/1/ns/net' }, 'BL_ERR_ENDPOINT_INVALID', 'netns', /not a pod network namespace \(root\)/);
  refused({ ...good, mac: '02:00:00:00:00:99' }, 'BL_ERR_ENDPOINT_INVALID', 'mac', /is not eth0's/);
  refused({ ...good, hostMac: '02:00:00:00:00:99' }, 'BL_ERR_ENDPOINT_INVALID', 'hostMac', /is not lxc/);
  // Another endpoint's interface.
  const other = { id: 7, containerID: 'p0', ifname: 'eth0', hostIfname: host } as EndpointModel;
  assert.throws(() => admitEndpoint(good, admission, [other]), (e: unknown) => e instanceof EndpointInvalidError && e.code === 'BL_ERR_ENDPOINT_INTERFACE' && /is endpoint 7's/.test(e.message));
  // A link by the right name that is not a veth, or whose peer is not the pod's interface.
  links.host.get(host)!.kind = 'dummy';
  refused(good, 'BL_ERR_ENDPOINT_INTERFACE', 'hostIfname', /a dummy link, not a veth/);
  links.host.get(host)!.kind = 'veth';
  links.pods.get(netns)!.get('eth0')!.peerIfindex = 999;
  refused(good, 'BL_ERR_ENDPOINT_INTERFACE', 'hostIfname', /is not the peer of eth0 in \/run\/netns\/p1/);
  // The in-process CNI ADD made the pair itself: the kernel is not asked again, IPAM still is.
  admitEndpoint(good, admission, [], { linksMadeHere: true });
  refused({ ...good, ipv4: '10.0.1.6' }, 'BL_ERR_ENDPOINT_ADDRESS', 'ipv4', /not the address IPAM allocated/);
  links.deleteHostLink(host);
  refused(good, 'BL_ERR_ENDPOINT_INTERFACE', 'hostIfname', /does not exist in the node's namespace/);
});

test('a refused endpoint request programs nothing and leaves other endpoints as they were', async () => {
  const { admission, good } = admittedNode();
  const { dp, programmed } = fakeDatapath();
  const m = new EndpointManager(join(mkdtempSync(join(tmpdir(), 'bl-ep-')), 'endpoints.json'), dp, logger('test'), admission);
  const ep = await m.create(good);
  assert.equal(programmed.get('10.0.1.5'), IDENTITY_INIT);
  // The same container asking for the uplink: refused before its endpoint is replaced.
  await assert.rejects(m.create({ ...good, hostIfname: 'eth0' }), (e: unknown) => e instanceof EndpointInvalidError && e.field === 'hostIfname');
  assert.deepEqual(m.list(), [ep]);
  assert.deepEqual([...programmed.keys()], ['10.0.1.5']);
});

test('restore checks the state file as requests are checked: a refused endpoint is not programmed, logged, and cleaned without touching an interface not its own', async () => {
  const { links, owners, admission, good, host } = admittedNode();
  const reserved = new Map([...admission.reserved, ['lo', 'loopback']]);
  // A second pod whose veth is its own but whose address IPAM no longer holds (a stale file).
  const netns2 = '/run/netns/p2';
  links.addPod(netns2);
  const host2 = hostIfname('p2', 'eth0');
  links.createVeth(netns2, 'eth0', host2);
  owners.set('p9/eth0', '10.0.1.9');
  const model = (id: number, r: EndpointCreateRequest): EndpointModel => ({ ...r, id, hostIfindex: 0, labels: r.labels ?? {}, identity: IDENTITY_INIT, state: 'ready', createdAt: '2025-01-01T00:00:00.000Z' });
  const ok = model(1, good);
  const saved: unknown[] = [
    ok,
    // Edited onto the node's own interfaces (with addresses IPAM holds for the container named).
    model(2, { ...good, containerID: 'p9', hostIfname: 'eth0', ipv4: '10.0.1.9' }),
    model(3, { ...good, containerID: 'p9', hostIfname: 'lo', ipv4: '10.0.1.9' }),
    model(4, { ...good, containerID: 'p9', hostIfname: 'bl_vxlan', ipv4: '10.0.1.9' }),
    // Its own veth, an address IPAM does not hold for it.
    model(5, { ...good, containerID: 'p2', netns: netns2, hostIfname: host2, ipv4: '10.0.1.7', mac: links.podLink(netns2, 'eth0')!.mac, hostMac: links.hostLink(host2)!.mac }),
    // Another endpoint's address and veth: nothing of it is its own to clean.
    model(6, { ...good, containerID: 'p3', hostIfname: host }),
    // Not an endpoint at all.
    { id: 'x', hostIfname: 'eth0' },
    model(4096, { ...good, containerID: 'p4', hostIfname: hostIfname('p4', 'eth0'), ipv4: '10.0.1.10' }),
  ];
  const dir = mkdtempSync(join(tmpdir(), 'bl-ep-'));
  const statePath = join(dir, 'endpoints.json');
  writeFileSync(statePath, JSON.stringify(saved));
  const dp = new FakeDatapath();
  const warnings: { msg: string; fields: Record<string, unknown> }[] = [];
  const log = { debug: () => undefined, info: () => undefined, error: () => undefined, warn: (msg: string, fields: Record<string, unknown>) => warnings.push({ msg, fields }) } as never;
  const m = new EndpointManager(statePath, dp, log, { ...admission, reserved });
  await m.restore();

  assert.deepEqual(dp.calls, ['remove 2 (interface kept)', 'remove 3 (interface kept)', 'remove 4 (interface kept)', 'remove 5', 'upsert 1 10.0.1.5']);
  assert.deepEqual(m.list().map((e) => e.id), [1]);
  assert.deepEqual([...dp.lxc.keys()], ['10.0.1.5'], 'only the admitted endpoint is in the endpoint map');
  assert.deepEqual((JSON.parse(readFileSync(statePath, 'utf8')) as EndpointModel[]).map((e) => e.id), [1], 'the state file keeps only what was restored');
  const why = new Map(warnings.filter((w) => w.msg.startsWith('endpoint refused at restore')).map((w) => [String(w.fields.id), `${String(w.fields.code)} ${String(w.fields.error)}`]));
  assert.match(why.get('2')!, /^BL_ERR_ENDPOINT_INTERFACE .*hostIfname: eth0 is the node's uplink/);
  assert.match(why.get('3')!, /^BL_ERR_ENDPOINT_INTERFACE .*hostIfname: lo is the node's loopback/);
  assert.match(why.get('4')!, /^BL_ERR_ENDPOINT_INTERFACE .*bl_vxlan is the node's tunnel device/);
  assert.match(why.get('5')!, /^BL_ERR_ENDPOINT_ADDRESS .*IPAM has no address for p2\/eth0/);
  assert.match(why.get('6')!, /^BL_ERR_ENDPOINT_INTERFACE .*is endpoint 1's/);
  assert.match(why.get('x')!, /^BL_ERR_ENDPOINT_INVALID .*id: x is not an endpoint id/);
  assert.match(why.get('4096')!, /^BL_ERR_ENDPOINT_INVALID .*id: 4096 is not an endpoint id/);
  assert.equal(why.size, 7);
});

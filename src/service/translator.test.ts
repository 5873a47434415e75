import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoreObject } from '../store/store.js';
import { frontendKeyString, type Backend, type Frontend, type LbModel } from './translate.js';
import { LbTranslator, servicesToLb, type LbChange } from './translator.js';

const OPTS = { nodeName: 'node1', nodeIPs: ['192.168.1.10'] };

function service(name: string, spec: Record<string, unknown>, created: string): StoreObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', uid: `u-${name}`, resourceVersion: '1', creationTimestamp: created }, spec };
}

function slice(svc: string, name: string, ips: string[], ready = true): StoreObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: 'default', uid: `u-${name}`, resourceVersion: '1', creationTimestamp: 'x', labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    ports: [{ name: '', port: 8080, protocol: 'TCP' }],
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready, serving: true, terminating: !ready }, nodeName: 'node1' })),
  };
}

/** The datapath's view: what the emitted changes build up, applied in LbDiff's order. */
class FakeMaps {
  frontends = new Map<string, Frontend>();
  backends = new Map<number, Backend>();
  apply(c: LbChange): void {
    for (const b of c.upsertBackends) this.backends.set(b.id, b);
    for (const f of c.upsertFrontends) {
      for (const id of f.backends) assert.ok(this.backends.has(id), `frontend ${frontendKeyString(f.key)} names backend ${id} before it is written`);
      this.frontends.set(frontendKeyString(f.key), f);
    }
    for (const f of c.deleteFrontends) this.frontends.delete(frontendKeyString(f.key));
    for (const b of c.deleteBackends) this.backends.delete(b.id);
    for (const f of this.frontends.values()) for (const id of f.backends) assert.ok(this.backends.has(id), `backend ${id} deleted while ${frontendKeyString(f.key)} names it`);
  }
}

/** A model without ids: what must not depend on the order things arrived in. */
function shape(m: LbModel) {
  const addr = new Map(m.backends.map((b) => [b.id, `${b.address}:${b.port}/${b.state}`]));
  return {
    frontends: m.frontends.map((f) => `${f.service} ${f.type} ${frontendKeyString(f.key)} → ${f.backends.map((id) => addr.get(id)).sort().join(',')}`).sort(),
    backends: [...addr.values()].sort(),
    problems: m.problems.map((p) => `${p.service} ${p.field} ${p.severity}`).sort(),
  };
}

/** A deterministic pseudo-random sequence (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('translator: event by event, the model and the emitted changes match translating everything at once', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const r = rng(seed);
    const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
    const t = new LbTranslator(OPTS);
    const maps = new FakeMaps();
    const services = new Map<string, StoreObject>();
    const slices = new Map<string, StoreObject>();
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    // Few node ports and addresses, shared backend IPs: collisions and sharing happen often.
    const nodePorts = [30001, 30002, 30003];
    const ips = ['10.0.1.1', '10.0.1.2', '10.0.1.3', '10.0.1.4'];
    for (let step = 0; step < 300; step++) {
      const name = pick(names);
      const what = r();
      if (what < 0.4) {
        const type = pick(['ClusterIP', 'NodePort', 'NodePort']);
        const spec: Record<string, unknown> = { type, clusterIP: `10.96.0.${pick([1, 2, 3, 4, 5, 6])}`, ports: [{ port: 80, ...(type === 'NodePort' ? { nodePort: pick(nodePorts) } : {}) }] };
        const created = services.get(name)?.metadata.creationTimestamp ?? `2024-01-01T00:00:${String(step % 60).padStart(2, '0')}Z`;
        const o = service(name, spec, created);
        services.set(name, o);
        t.upsertService(o);
      } else if (what < 0.55) {
        if (services.delete(name)) t.deleteService(`default/${name}`);
      } else if (what < 0.9) {
        const sname = `${name}-${pick(['x', 'y'])}`;
        const o = slice(name, sname, ips.filter(() => r() < 0.5), r() < 0.8);
        slices.set(sname, o);
        t.upsertSlice(o);
      } else {
        const sname = pick([...slices.keys(), 'none']);
        const o = slices.get(sname);
        if (o) {
          slices.delete(sname);
          t.deleteSlice(o);
        }
      }
      // Flush after some steps only: several events in one flush must work as well.
      if (r() < 0.6 || step === 299) {
        maps.apply(t.flush());
        const m = t.model();
        assert.deepEqual(shape(m), shape(servicesToLb([...services.values()], [...slices.values()], OPTS)), `seed ${seed} step ${step}`);
        assert.deepEqual([...maps.frontends.values()].sort((x, y) => x.id - y.id), [...m.frontends].sort((x, y) => x.id - y.id), `seed ${seed} step ${step}: maps`);
        assert.deepEqual([...maps.backends.values()].sort((x, y) => x.id - y.id), m.backends, `seed ${seed} step ${step}: backend map`);
        // Ids are unique.
        assert.equal(new Set(m.frontends.map((f) => f.id)).size, m.frontends.length);
      }
    }
  }
});

test('translator: a change touches only its own service', () => {
  const t = new LbTranslator(OPTS);
  for (let i = 0; i < 200; i++) {
    t.upsertService(service(`s${i}`, { clusterIP: `10.96.1.${i}`, ports: [{ port: 80 }] }, '2024-01-01T00:00:00Z'));
    t.upsertSlice(slice(`s${i}`, `s${i}-x`, ['10.0.0.1', `10.0.2.${i}`]));
  }
  const all = t.flush();
  assert.equal(all.upsertFrontends.length, 200);
  assert.equal(all.upsertBackends.length, 201);
  t.upsertSlice(slice('s7', 's7-x', ['10.0.0.1', '10.0.2.7', '10.0.3.1']));
  const one = t.flush();
  assert.deepEqual(one.upsertFrontends.map((f) => f.service), ['default/s7']);
  assert.deepEqual(one.upsertBackends.map((b) => b.address), ['10.0.3.1']);
  assert.deepEqual([one.deleteFrontends.length, one.deleteBackends.length], [0, 0]);
  // The shared backend stays while another service names it.
  t.deleteService('default/s7');
  const gone = t.flush();
  assert.deepEqual(gone.deleteFrontends.map((f) => f.service), ['default/s7']);
  assert.deepEqual(gone.deleteBackends.map((b) => b.address).sort(), ['10.0.2.7', '10.0.3.1']);
  assert.equal(t.flush().upsertFrontends.length, 0, 'nothing pending, nothing written');
});

test('translator: a newer service waiting on a node port gets it when the owner goes', () => {
  const t = new LbTranslator(OPTS);
  t.upsertService(service('old', { type: 'NodePort', clusterIP: '10.96.0.1', ports: [{ port: 80, nodePort: 30080 }] }, '2024-01-01T00:00:00Z'));
  t.upsertService(service('new', { type: 'NodePort', clusterIP: '10.96.0.2', ports: [{ port: 80, nodePort: 30080 }] }, '2024-01-02T00:00:00Z'));
  const c1 = t.flush();
  assert.deepEqual([...new Set(c1.upsertFrontends.map((f) => f.service))], ['default/old']);
  assert.deepEqual(c1.problems.get('default/new')?.map((p) => p.field), ['spec.ports[0].nodePort']);
  t.deleteService('default/old');
  const c2 = t.flush();
  // The node-port frontends change hands: upserts (new service), never deletions of keys that live on.
  assert.deepEqual([...new Set(c2.upsertFrontends.map((f) => f.service))], ['default/new']);
  assert.deepEqual(c2.deleteFrontends.map((f) => frontendKeyString(f.key)), ['10.96.0.1:80/TCP']);
  assert.deepEqual(c2.problems.get('default/new'), []);
});

test('translator: a service that does not fit the maps is not programmed; the others keep working; it comes in when room frees', () => {
  // 2 frontends × (1 master + 4 slots) = 10 entries.
  const t = new LbTranslator({ ...OPTS, capacity: { serviceEntries: 10, backendEntries: 100 } });
  const ips = (i: number) => [1, 2, 3, 4].map((j) => `10.0.${i}.${j}`);
  for (const i of [1, 2, 3]) {
    t.upsertService(service(`s${i}`, { clusterIP: `10.96.0.${i}`, ports: [{ port: 80 }] }, `2024-01-0${i}T00:00:00Z`));
    t.upsertSlice(slice(`s${i}`, `s${i}-x`, ips(i)));
    t.flush();
  }
  const m = t.model();
  assert.deepEqual(m.frontends.map((f) => f.service), ['default/s1', 'default/s2']);
  const full = m.problems.filter((p) => p.service === 'default/s3');
  assert.equal(full.length, 1);
  assert.match(full[0]!.message, /service map full: needs 5 entries, 0 of 10 free \(--bpf-lb-map-max\); not programmed/);
  assert.equal(full[0]!.code, 'BL_ERR_LB_MAP_FULL');
  assert.equal(m.backends.length, 8, 'nothing of s3 is written');
  assert.equal(t.serviceEntries, 10);
  t.deleteService('default/s1');
  const c = t.flush();
  assert.deepEqual(c.upsertFrontends.map((f) => f.service), ['default/s3']);
  assert.deepEqual(c.deleteFrontends.map((f) => f.service), ['default/s1']);
  assert.deepEqual(t.model().problems, []);
  // Backend room is accounted too.
  const b = new LbTranslator({ ...OPTS, capacity: { serviceEntries: 100, backendEntries: 5 } });
  b.upsertService(service('s1', { clusterIP: '10.96.0.1', ports: [{ port: 80 }] }, '2024-01-01T00:00:00Z'));
  b.upsertSlice(slice('s1', 's1-x', ips(1)));
  b.upsertService(service('s2', { clusterIP: '10.96.0.2', ports: [{ port: 80 }] }, '2024-01-02T00:00:00Z'));
  b.upsertSlice(slice('s2', 's2-x', ips(2)));
  b.flush();
  assert.deepEqual(b.model().frontends.map((f) => f.service), ['default/s1']);
  assert.match(b.model().problems[0]!.message, /backend map full: needs 4 new entries, 1 of 5 free/);
});

test('translator: a slice relabelled to another service moves its backends', () => {
  const t = new LbTranslator(OPTS);
  t.upsertService(service('a', { clusterIP: '10.96.0.1', ports: [{ port: 80 }] }, '2024-01-01T00:00:00Z'));
  t.upsertService(service('b', { clusterIP: '10.96.0.2', ports: [{ port: 80 }] }, '2024-01-01T00:00:00Z'));
  t.upsertSlice(slice('a', 'x', ['10.0.0.1']));
  t.flush();
  t.upsertSlice(slice('b', 'x', ['10.0.0.1']));
  t.flush();
  const byService = Object.fromEntries(t.model().frontends.map((f) => [f.service, f.backends.length]));
  assert.deepEqual(byService, { 'default/a': 0, 'default/b': 1 });
});

test('translator: Maglev tables are accounted: a Maglev service that does not fit is not programmed', () => {
  // Room for two tables of 251.
  const t = new LbTranslator({ ...OPTS, capacity: { serviceEntries: 1000, backendEntries: 1000, maglevEntries: 600, maglevTableSize: 251 } });
  const maglev = (name: string, ip: string, created: string) => {
    const o = service(name, { clusterIP: ip, ports: [{ port: 80 }] }, created);
    o.metadata.annotations = { 'service.cilium.io/lb-algorithm': 'maglev' };
    return o;
  };
  t.upsertService(maglev('m1', '10.96.0.1', '2024-01-01T00:00:00Z'));
  t.upsertService(maglev('m2', '10.96.0.2', '2024-01-02T00:00:00Z'));
  t.flush();
  t.upsertService(maglev('m3', '10.96.0.3', '2024-01-03T00:00:00Z'));
  t.upsertService(service('r', { clusterIP: '10.96.0.4', ports: [{ port: 80 }] }, '2024-01-04T00:00:00Z'));
  t.flush();
  const m = t.model();
  assert.deepEqual(m.frontends.map((f) => f.service).sort(), ['default/m1', 'default/m2', 'default/r'], 'a random-selection service needs no table');
  assert.match(m.problems.find((p) => p.service === 'default/m3')!.message, /Maglev map full: needs 251 entries \(1 frontends × table size 251\), 98 of 600 free/);
  t.deleteService('default/m1');
  t.flush();
  assert.ok(t.model().frontends.some((f) => f.service === 'default/m3'), 'programmed once room freed');
});

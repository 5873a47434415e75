import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KernelLb } from './lb.js';
import { TypedMap, type Codec } from './maps.js';
import type { Datapath } from './loader.js';
import type { RawMap } from './native/libbpf.js';
import type { LbBackendRow, LbFrontendRow, LbUpdate } from '../agent/datapath.js';
import { BpfError } from '../common/errors.js';

/** An in-memory hash map that counts the entries written to it; `failNext` makes the next batch update fail half-way. */
class CountingMap implements RawMap {
  readonly entries = new Map<string, Buffer>();
  readonly type = 1;
  readonly perCpu = false;
  readonly valueSlots = 1;
  readonly valueBufferSize: number;
  writes = 0;
  failNext = false;
  constructor(
    readonly name: string,
    readonly keySize: number,
    readonly valueSize: number,
    readonly maxEntries = 1 << 16,
  ) {
    this.valueBufferSize = valueSize;
  }
  #k = (key: Uint8Array) => Buffer.from(key).toString('hex');
  lookup(key: Uint8Array): Buffer | undefined {
    const v = this.entries.get(this.#k(key));
    return v && Buffer.from(v);
  }
  update(key: Uint8Array, value: Uint8Array): void {
    this.writes++;
    this.entries.set(this.#k(key), Buffer.from(value));
  }
  delete(key: Uint8Array): boolean {
    return this.entries.delete(this.#k(key));
  }
  nextKey(key: Uint8Array | null): Buffer | undefined {
    const keys = [...this.entries.keys()];
    const i = key ? keys.indexOf(this.#k(key)) + 1 : 0;
    return keys[i] === undefined ? undefined : Buffer.from(keys[i]!, 'hex');
  }
  updateBatchPacked(keys: Buffer, values: Buffer, count: number): number {
    for (let i = 0; i < count; i++) {
      if (this.failNext && i === Math.floor(count / 2)) {
        this.failNext = false;
        throw new BpfError(`batch update map ${this.name}: ENOMEM`, 12);
      }
      this.update(keys.subarray(i * this.keySize, (i + 1) * this.keySize), values.subarray(i * this.valueSize, (i + 1) * this.valueSize));
    }
    return count;
  }
}

/** The four LB maps, shared by every KernelLb built over them (as pinned maps outlive an agent). */
function maps() {
  const raw = new Map<string, CountingMap>();
  const dp = {
    map: (name: string, k: Codec<unknown>, v: Codec<unknown>) => {
      let m = raw.get(name);
      if (!m) raw.set(name, (m = new CountingMap(name, k.size, v.size)));
      return new TypedMap(m, k, v);
    },
  } as unknown as Datapath;
  const writes = () => Object.fromEntries([...raw].map(([n, m]) => [n, m.writes]));
  return { raw, dp, writes };
}

const fe = (i: number, backends: number[], over: Partial<LbFrontendRow> = {}): LbFrontendRow => ({
  id: i,
  address: `10.96.0.${i}`,
  port: 80,
  protocol: 'TCP',
  flags: 0,
  affinityTimeout: 0,
  backends,
  ...over,
});
const be = (id: number): LbBackendRow => ({ id, address: `10.0.0.${id}`, port: 8080, protocol: 'TCP', state: 'active' });
const update = (frontends: LbFrontendRow[], backends = [1, 2, 3].map(be)): LbUpdate => ({ upsertBackends: backends, upsertFrontends: frontends, deleteFrontends: [], deleteBackends: [] });

test('KernelLb: a restarted writer over the same maps writes nothing that is already there', () => {
  const m = maps();
  const first = new KernelLb(m.dp);
  first.apply(update([fe(1, [1, 2]), fe(2, [2, 3], { flags: 1, affinityTimeout: 30 })]));
  const after = m.writes();
  // 2 masters + 4 slots, 2 reverse NAT entries, 3 backends.
  assert.deepEqual(after, { bl_lb4_services: 6, bl_lb4_backends: 3, bl_lb4_reverse_nat: 2, bl_lb4_maglev: 0 });

  const again = new KernelLb(m.dp);
  again.apply(update([fe(1, [1, 2]), fe(2, [2, 3], { flags: 1, affinityTimeout: 30 })]));
  assert.deepEqual(m.writes(), after, 'identical upserts are skipped');
  assert.deepEqual(again.skipped, { frontends: 2, backends: 3 });
  assert.deepEqual(again.frontends(), first.frontends());

  // What differs is written, and only that: frontend 2 loses a backend (its master, its slot 1; slot 2 is deleted).
  again.apply(update([fe(1, [1, 2]), fe(2, [3], { flags: 1, affinityTimeout: 30 })]));
  assert.equal(m.writes().bl_lb4_services, after.bl_lb4_services! + 2);
  assert.deepEqual(again.frontends().map((f) => f.backends), [[1, 2], [3]]);
  // A changed flag, affinity, id or backend state is a change.
  const w = m.writes();
  again.apply(update([fe(1, [1, 2], { flags: 16 }), fe(2, [3], { flags: 1, affinityTimeout: 60 })], [be(1), be(2), { ...be(3), state: 'terminating' }]));
  assert.equal(m.writes().bl_lb4_services, w.bl_lb4_services! + 3 + 2);
  assert.equal(m.writes().bl_lb4_backends, w.bl_lb4_backends! + 1);
});

test('KernelLb: a slot missing from the maps (an earlier writer died half-way) is written again', () => {
  const m = maps();
  new KernelLb(m.dp).apply(update([fe(1, [1, 2])]));
  const svc = m.raw.get('bl_lb4_services')!;
  // Drop slot 2 of frontend 1 behind the writer's back.
  const slot2 = [...svc.entries.keys()].find((k) => Buffer.from(k, 'hex').readUInt16LE(6) === 2)!;
  svc.entries.delete(slot2);
  const again = new KernelLb(m.dp);
  again.apply(update([fe(1, [1, 2])]));
  assert.equal(again.skipped.frontends, 0);
  assert.deepEqual(again.frontends()[0]!.backends, [1, 2]);
});

test('KernelLb: after a failed write nothing is skipped until a write succeeds', () => {
  const m = maps();
  const lb = new KernelLb(m.dp);
  const u = update([fe(1, [1, 2]), fe(2, [2, 3]), fe(3, [1, 3])]);
  m.raw.get('bl_lb4_services')!.failNext = true;
  assert.throws(() => lb.apply(u), /ENOMEM/);
  // The repair rewrites everything: the mirror claimed entries the failed batch never wrote.
  lb.apply(u);
  assert.equal(lb.skipped.frontends, 0);
  assert.deepEqual(lb.frontends().map((f) => f.backends), [[1, 2], [2, 3], [1, 3]]);
  // Trusted again: the same update writes nothing.
  const w = m.writes();
  lb.apply(u);
  assert.deepEqual(m.writes(), w);
  assert.equal(lb.skipped.frontends, 3);
});

test('KernelLb: a routed (mesh) frontend\'s master holds the proxy port; a changed port is a change, read back from the master', () => {
  const m = maps();
  const lb = new KernelLb(m.dp);
  const L7 = 1 << 6;
  lb.apply(update([fe(1, [1, 2], { flags: L7, proxyPort: 15003 }), fe(2, [3])]));
  const svc = m.raw.get('bl_lb4_services')!;
  const masters = [...svc.entries].filter(([k]) => Buffer.from(k, 'hex').readUInt16LE(6) === 0);
  // struct bl_lb4_service: backend_id (u32) first.
  assert.deepEqual(masters.map(([, v]) => v.readUInt32LE(0)).sort((a, b) => a - b), [0, 15003]);
  assert.deepEqual(lb.frontends().map((f) => f.proxyPort), [15003, undefined]);
  assert.deepEqual(lb.frontends()[0]!.backends, [1, 2], 'the backends stay, for the node\'s own sockets');
  const w = m.writes().bl_lb4_services!;
  lb.apply(update([fe(1, [1, 2], { flags: L7, proxyPort: 15003 }), fe(2, [3])]));
  assert.equal(m.writes().bl_lb4_services, w, 'nothing changed, nothing written');
  lb.apply(update([fe(1, [1, 2], { flags: L7, proxyPort: 15005 }), fe(2, [3])]));
  assert.equal(m.writes().bl_lb4_services, w + 3, 'a new port: the master and its slots again');
  assert.equal(new KernelLb(m.dp).frontends()[0]!.proxyPort, 15005);
});

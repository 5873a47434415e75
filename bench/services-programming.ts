/**
 * Service programming at full scale (issue 16, item 6), without a lab: the
 * agent's own code (ServiceManager → LbTranslator → frontendRow → KernelLb)
 * writing real kernel maps, fed by an in-memory store, so what is measured is
 * translation plus map writes and nothing of etcd.
 *
 * Maps: the service maps of abi/lb.h created standalone (BPF_MAP_TYPE_HASH,
 * the loader's sizes: --bpf-lb-map-max entries each, the Maglev map smaller:
 * no Maglev Service here), closed at the end. Nothing is attached, no
 * namespace is touched; root (or CAP_BPF) is needed to create maps.
 *
 * Per N (Services × 4 backends, ClusterIP, one EndpointSlice each, the shape
 * of bench/services.ts), each round runs every arm in turn (order rotated):
 *   raw-write   the floor: the same entries (N masters, 4N slots, N reverse
 *               NAT, 4 backends), encoded beforehand, written into empty maps
 *               with BPF_MAP_UPDATE_BATCH in 64k-entry chunks
 *   cold        a new agent over empty maps: its first flush translates and
 *               writes everything
 *   restart     a new agent over the maps the previous one left (the pinned
 *               maps survive a restart): KernelLb reads them back (`readMs`),
 *               then the first flush (`ms`, the issue's "all at once") diffs
 *               against them and writes only what differs (nothing, here);
 *               detail: its stages (translate, reconcile + rows, map writes)
 *   change      with N present, one EndpointSlice update (service N-1: 4 → 3
 *               → 4 backends) delivered by the informer → end of the flush
 *               that wrote it; `flushMs` the flush alone
 * Reported per arm: median, min-max over rounds, and the ratio to raw-write
 * of the same N and run.
 *
 *   node dist/bench/services-programming.js [--sizes 100,50000] [--rounds 5]
 *        [--map-max 262144] [--out bench/results/services-programming.json]
 */
import { EventEmitter } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot } from '../src/common/version.js';
import { BpfMap, type RawMap } from '../src/datapath/native/libbpf.js';
import { TypedMap, type Codec } from '../src/datapath/maps.js';
import { KernelLb } from '../src/datapath/lb.js';
import type { Datapath } from '../src/datapath/loader.js';
import {
  BL_LB4_BACKEND_CODEC,
  BL_LB4_KEY_CODEC,
  BL_LB4_MAGLEV_KEY_CODEC,
  BL_LB4_REVERSE_NAT_CODEC,
  BL_LB4_SERVICE_CODEC,
  U16_CODEC,
  U32_CODEC,
} from '../src/datapath/generated/abi.js';
import { ServiceManager } from '../src/agent/services.js';
import type { Informer, Store, StoreObject } from '../src/store/store.js';
import type { Logger } from '../src/common/log.js';
import { parseIPv4 } from '../src/ipam/cidr.js';
import { arg } from './report.js';

const SIZES = arg('--sizes', '100,50000').split(',').map(Number);
const ROUNDS = Number(arg('--rounds', '5'));
const MAP_MAX = Number(arg('--map-max', '262144'));
const OUT = arg('--out', join(repoRoot, 'bench', 'results', 'services-programming.json'));
const BACKENDS = ['10.244.1.10', '10.244.1.11', '10.244.2.10', '10.244.2.11'];
const NS = 'svcbench';
const HASH = 1;

const progress = (msg: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${msg}\n`);

// ---------------------------------------------------------------------------
// Maps and a store without I/O

const SPECS: [string, Codec<unknown>, Codec<unknown>, number][] = [
  ['bl_lb4_services', BL_LB4_KEY_CODEC as Codec<unknown>, BL_LB4_SERVICE_CODEC as Codec<unknown>, MAP_MAX],
  ['bl_lb4_backends', U32_CODEC as Codec<unknown>, BL_LB4_BACKEND_CODEC as Codec<unknown>, MAP_MAX],
  ['bl_lb4_reverse_nat', U16_CODEC as Codec<unknown>, BL_LB4_REVERSE_NAT_CODEC as Codec<unknown>, 65536],
  ['bl_lb4_maglev', BL_LB4_MAGLEV_KEY_CODEC as Codec<unknown>, U32_CODEC as Codec<unknown>, 16381 * 4],
];

class Maps {
  readonly raw = new Map<string, RawMap>();
  constructor() {
    for (const [name, k, v, max] of SPECS) this.raw.set(name, BpfMap.create({ name, type: HASH, keySize: k.size, valueSize: v.size, maxEntries: max }));
  }
  /** The slice of Datapath that KernelLb uses. */
  datapath(): Datapath {
    return { map: (name: string, k: Codec<unknown>, v: Codec<unknown>) => new TypedMap(this.raw.get(name)!, k, v) } as unknown as Datapath;
  }
  clear(): void {
    for (const [name, k, v] of SPECS) new TypedMap(this.raw.get(name)!, k, v).clear();
  }
  close(): void {
    for (const m of this.raw.values()) m.close?.();
  }
}

class FakeInformer extends EventEmitter {
  constructor(private readonly items: StoreObject[]) {
    super();
  }
  async start(): Promise<void> {
    for (const o of this.items) this.emit('add', o);
  }
  async stop(): Promise<void> {}
  async waitForSync(): Promise<void> {}
}

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;

function vip(i: number): string {
  const n = 0x0a640000 + 1 + i;
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function objects(n: number): { services: StoreObject[]; slices: StoreObject[] } {
  const services: StoreObject[] = [];
  const slices: StoreObject[] = [];
  for (let i = 0; i < n; i++) {
    services.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `svcb-${i}`, namespace: NS, uid: `u${i}`, resourceVersion: '1', creationTimestamp: '2026-12-06T00:00:00Z' },
      spec: { clusterIP: vip(i), ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
    } as unknown as StoreObject);
    slices.push(sliceOf(i, BACKENDS, '1'));
  }
  return { services, slices };
}

function sliceOf(i: number, backends: string[], rv: string): StoreObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `svcb-${i}-bench`, namespace: NS, uid: `s${i}`, resourceVersion: rv, labels: { 'kubernetes.io/service-name': `svcb-${i}` } },
    addressType: 'IPv4',
    endpoints: backends.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  } as unknown as StoreObject;
}

/** A running agent's service manager over the maps, with the informers it reads. */
async function startAgent(maps: Maps, objs: { services: StoreObject[]; slices: StoreObject[] }) {
  const informers = { Service: new FakeInformer(objs.services), EndpointSlice: new FakeInformer(objs.slices) };
  const store = { informer: (kind: 'Service' | 'EndpointSlice') => informers[kind] as unknown as Informer } as unknown as Store;
  const t0 = performance.now();
  const lb = new KernelLb(maps.datapath());
  const readMs = performance.now() - t0;
  const sm = new ServiceManager(store, lb, { nodeName: 'node2', nodeIPs: ['192.168.10.2'] }, quiet);
  await sm.start();
  const st = sm.status();
  if (st.frontends !== objs.services.length) throw new Error(`agent holds ${st.frontends} frontends, want ${objs.services.length}`);
  return { sm, lb, informers, readMs, firstMs: sm.firstSync!.ms, stages: sm.firstSync!.stages };
}

// ---------------------------------------------------------------------------
// Arms

/** The floor: the same entries, encoded beforehand, batch-written into empty maps. */
function rawWrite(maps: Maps, n: number): number {
  const svcKey = BL_LB4_KEY_CODEC.size, svcVal = BL_LB4_SERVICE_CODEC.size;
  const entries = n * (1 + BACKENDS.length);
  const keys = Buffer.alloc(entries * svcKey), vals = Buffer.alloc(entries * svcVal);
  let j = 0;
  for (let i = 0; i < n; i++) {
    const address = parseIPv4(vip(i));
    for (let slot = 0; slot <= BACKENDS.length; slot++, j++) {
      BL_LB4_KEY_CODEC.encode({ address, dport: 80, backend_slot: slot, proto: 6 }, keys, j * svcKey);
      BL_LB4_SERVICE_CODEC.encode({ backend_id: slot === 0 ? 0 : slot, count: slot === 0 ? BACKENDS.length : 0, qcount: 0, rev_nat_index: i + 1, flags: 0, affinity_timeout: 0 }, vals, j * svcVal);
    }
  }
  const rnKeys = Buffer.alloc(n * U16_CODEC.size), rnVals = Buffer.alloc(n * BL_LB4_REVERSE_NAT_CODEC.size);
  for (let i = 0; i < n; i++) {
    U16_CODEC.encode(i + 1, rnKeys, i * U16_CODEC.size);
    BL_LB4_REVERSE_NAT_CODEC.encode({ address: parseIPv4(vip(i)), port: 80 }, rnVals, i * BL_LB4_REVERSE_NAT_CODEC.size);
  }
  const bKeys = Buffer.alloc(BACKENDS.length * 4), bVals = Buffer.alloc(BACKENDS.length * BL_LB4_BACKEND_CODEC.size);
  BACKENDS.forEach((ip, i) => {
    U32_CODEC.encode(i + 1, bKeys, i * 4);
    BL_LB4_BACKEND_CODEC.encode({ address: parseIPv4(ip), port: 8080, proto: 6, flags: 0 }, bVals, i * BL_LB4_BACKEND_CODEC.size);
  });
  const write = (name: string, k: Buffer, v: Buffer, ks: number, vs: number, count: number) => {
    const raw = maps.raw.get(name)!;
    for (let i = 0; i < count; i += 65536) {
      const c = Math.min(65536, count - i);
      raw.updateBatchPacked!(k.subarray(i * ks, (i + c) * ks), v.subarray(i * vs, (i + c) * vs), c, 0);
    }
  };
  const t0 = performance.now();
  write('bl_lb4_backends', bKeys, bVals, 4, BL_LB4_BACKEND_CODEC.size, BACKENDS.length);
  write('bl_lb4_services', keys, vals, svcKey, svcVal, entries);
  write('bl_lb4_reverse_nat', rnKeys, rnVals, U16_CODEC.size, BL_LB4_REVERSE_NAT_CODEC.size, n);
  return performance.now() - t0;
}

/** One EndpointSlice update delivered by the informer → the end of the flush that wrote it. */
async function change(agent: Awaited<ReturnType<typeof startAgent>>, n: number, count: number, rv: number): Promise<{ ms: number; flushMs: number }> {
  const before = agent.sm.lastSync;
  const t0 = performance.timeOrigin + performance.now();
  const slice = sliceOf(n - 1, BACKENDS.slice(0, count), String(rv));
  agent.informers.EndpointSlice.emit('update', slice, slice);
  for (let i = 0; agent.sm.lastSync === before; i++) {
    if (i > 10_000) throw new Error('change not flushed');
    await new Promise((r) => setImmediate(r));
  }
  const s = agent.sm.lastSync!;
  if (s.frontendsWritten !== 1) throw new Error(`change flush wrote ${s.frontendsWritten} frontends, want 1`);
  return { ms: s.endAtMs - t0, flushMs: s.ms };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '');

interface Sample {
  n: number;
  arm: string;
  round: number;
  ms: number;
  detail?: Record<string, number>;
}

async function main(): Promise<void> {
  const samples: Sample[] = [];
  const maps = new Maps();
  try {
    for (const n of SIZES) {
      const objs = objects(n);
      let rv = 2;
      for (let round = 0; round < ROUNDS; round++) {
        // Rotated order; "restart" and "change" need the maps a cold pass (or the previous restart) left.
        const arms = ['raw-write', 'cold', 'restart'];
        const order = arms.slice(round % arms.length).concat(arms.slice(0, round % arms.length));
        for (const arm of order) {
          if (arm === 'raw-write') {
            maps.clear();
            samples.push({ n, arm, round, ms: rawWrite(maps, n) });
            maps.clear();
          } else if (arm === 'cold') {
            maps.clear();
            const a = await startAgent(maps, objs);
            samples.push({ n, arm, round, ms: a.firstMs, detail: { ...a.stages, readMs: a.readMs } });
            await a.sm.stop();
          } else {
            // The previous arm may have cleared the maps: fill them with an agent first, untimed.
            if (maps.raw.get('bl_lb4_services')!.nextKey(null) === undefined) await (await startAgent(maps, objs)).sm.stop();
            const a = await startAgent(maps, objs);
            if (a.lb.skipped.frontends !== n) throw new Error(`restart rewrote ${n - a.lb.skipped.frontends} unchanged frontends`);
            samples.push({ n, arm, round, ms: a.firstMs, detail: { ...a.stages, readMs: a.readMs, totalMs: a.readMs + a.firstMs } });
            for (const count of [3, 4]) {
              // A lone change, as an operator's edit is: the last flush is past the coalescing window.
              await new Promise((r) => setTimeout(r, 50));
              const c = await change(a, n, count, rv++);
              samples.push({ n, arm: 'change', round, ms: c.ms, detail: { flushMs: c.flushMs } });
            }
            await a.sm.stop();
          }
        }
        progress(`N=${n} round ${round + 1}/${ROUNDS}: ${samples.filter((s) => s.n === n && s.round === round).map((s) => `${s.arm} ${fmt(s.ms)}`).join(', ')} ms`);
      }
    }
  } finally {
    maps.close();
  }

  const rows: string[] = [];
  rows.push('| N | arm | ms (median) | min–max | vs raw-write | detail (median) |');
  rows.push('|---|---|---|---|---|---|');
  const summary: Record<string, unknown>[] = [];
  for (const n of SIZES) {
    const floor = median(samples.filter((s) => s.n === n && s.arm === 'raw-write').map((s) => s.ms));
    for (const arm of ['raw-write', 'cold', 'restart', 'change']) {
      const xs = samples.filter((s) => s.n === n && s.arm === arm);
      const ms = xs.map((s) => s.ms);
      const detail: Record<string, number> = {};
      for (const k of Object.keys(xs[0]?.detail ?? {})) detail[k] = median(xs.map((s) => s.detail![k]!));
      const m = median(ms);
      summary.push({ n, arm, medianMs: m, minMs: Math.min(...ms), maxMs: Math.max(...ms), vsRawWrite: m / floor, detail });
      rows.push(`| ${n} | ${arm} | ${fmt(m, arm === 'change' ? 2 : 1)} | ${fmt(Math.min(...ms), 2)}–${fmt(Math.max(...ms), 2)} | ${fmt(m / floor, 2)} | ${Object.entries(detail).map(([k, v]) => `${k} ${fmt(v, 2)}`).join(', ')} |`);
    }
  }
  const table = rows.join('\n');
  process.stdout.write(`${table}\n`);
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(
    OUT,
    JSON.stringify({ date: new Date().toISOString(), node: process.version, sizes: SIZES, rounds: ROUNDS, mapMax: MAP_MAX, backends: BACKENDS.length, summary, samples, table }, null, 1) + '\n',
  );
  progress(`wrote ${OUT}`);
}

main().catch((e) => {
  process.stderr.write(`services-programming: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});

/**
 * The agent's kube-proxy replacement: Services and EndpointSlices from the
 * store in, this node's service maps out. Every informer event goes to an
 * incremental translator (src/service/translator.ts); a flush writes only
 * what changed, in batches: a lone event is flushed as soon as the events
 * delivered with it are in (same turn of the event loop), events arriving
 * within COALESCE_MS of the last flush (a burst) wait COALESCE_MS. Ids
 * stay stable across restarts (restored from the maps), the maps' room is
 * accounted so a Service that does not fit is reported, not half-written,
 * and the first flush after a start removes what an earlier agent left that
 * no Service wants any more.
 */
import type { Logger } from '../common/log.js';
import type { Informer, Store, StoreObject } from '../store/store.js';
import {
  BACKEND_ID_RANGE,
  FRONTEND_ID_RANGE,
  IdAllocator,
  backendKeyString,
  frontendKeyString,
  type Backend,
  type Frontend,
  type LbAlgorithm,
  type LbProblem,
} from '../service/translate.js';
import { LbTranslator } from '../service/translator.js';
import { encodeFrontendFlags } from '../datapath/lb.js';
import type { LbBackendRow, LbDatapath, LbFrontendRow } from './datapath.js';

/**
 * The map row of a frontend: its flags say its type, affinity, Local policy
 * and Maglev selection. A Maglev frontend's row carries its backends' keys
 * (address:port/protocol, the backend id allocator's keys: `keyOf`), which
 * its table is hashed on.
 */
export function frontendRow(f: Frontend, keyOf?: (id: number) => string | undefined): LbFrontendRow {
  const local = f.type === 'ClusterIP' ? f.trafficPolicy.internal === 'Local' : f.trafficPolicy.external === 'Local';
  const l7 = f.l7ProxyPort !== undefined && f.type === 'ClusterIP' && f.key.protocol === 'TCP';
  const flags = encodeFrontendFlags({ type: f.type, affinity: !!f.affinity, local, maglev: f.algorithm === 'maglev', l7 });
  // The frontend's own backend array, not a copy: the translator makes a new one per flush and neither it nor KernelLb changes one afterwards.
  const row: LbFrontendRow = { id: f.id, address: f.key.address, port: f.key.port, protocol: f.key.protocol, flags, affinityTimeout: f.affinity?.timeoutSeconds ?? 0, backends: f.backends };
  if (l7) row.proxyPort = f.l7ProxyPort!;
  if (f.algorithm === 'maglev') {
    row.maglevKeys = f.backends.map((id) => {
      const key = keyOf?.(id);
      if (key === undefined) throw new Error(`frontend ${frontendKeyString(f.key)}: backend ${id} unknown, no Maglev key`);
      return key;
    });
  }
  return row;
}

/** What `beeline service list` shows for one frontend. */
export interface ServiceRow {
  id: number;
  frontend: string;
  type: string;
  service: string;
  backends: { address: string; port: number; state: string }[];
  affinityTimeout?: number;
  trafficPolicy: { external: string; internal: string };
}

/** A change arriving this soon after the last flush is part of a burst: it waits this long, so a burst costs a few flushes, not one per event. */
export const COALESCE_MS = 5;

/** Epoch milliseconds with sub-millisecond precision (the stages of one change are a few ms apart). */
const epochMs = () => performance.timeOrigin + performance.now();

export class ServiceManager {
  private svcInformer: Informer | undefined;
  private sliceInformer: Informer | undefined;
  private readonly translator: LbTranslator;
  /** Backend id → address:port/protocol: what Maglev tables are hashed on. */
  private readonly backendIds: IdAllocator;
  private synced = false;
  private timer: { cancel(): void } | undefined;
  /** When the last flush ended (performance.now()). */
  private lastFlushEnd = -Infinity;
  /** When the first event not yet flushed arrived (epoch ms). */
  private eventAt: number | undefined;
  /**
   * Last flush, for status and benchmarks: how long it took, when it ended, what it wrote;
   * eventAtMs / startAtMs / endAtMs (epoch ms, fractional): the first event it covers
   * arrived, the flush began, it ended.
   */
  lastSync:
    | {
        at: string;
        ms: number;
        services: number;
        /** Frontends the translation changed; of them, frontendsUnchanged were already in the maps as wanted (a restart) and not written. */
        frontendsWritten: number;
        frontendsUnchanged: number;
        backendsWritten: number;
        deleted: number;
        eventAtMs?: number;
        startAtMs: number;
        endAtMs: number;
        /** Translation (LbTranslator.flush), the full pass's reconciliation with the maps and the rows, the map writes. */
        stages: { translateMs: number; reconcileMs: number; writeMs: number };
      }
    | undefined;
  /** Milliseconds spent translating and writing, since start. */
  private busyMs = 0;
  /** The last failed write, and whether the next sync rewrites everything from the model. */
  private lastError: string | undefined;
  private repair = false;
  private retry: NodeJS.Timeout | undefined;
  /** The first flush after start: every Service at once (an agent restart reprograms everything). */
  firstSync: { at: string; ms: number; frontendsWritten: number; frontendsUnchanged: number; backendsWritten: number; stages: { translateMs: number; reconcileMs: number; writeMs: number } } | undefined;

  constructor(
    private readonly store: Store,
    private readonly lb: LbDatapath,
    opts: { nodeName: string; nodeIPs: string[]; lbPool?: string[]; defaultAlgorithm?: LbAlgorithm },
    private readonly log: Logger,
  ) {
    // Ids as the maps have them, so a restarted agent keeps every frontend's and backend's number.
    const frontendIds = new IdAllocator(FRONTEND_ID_RANGE, lb.knownFrontends().map((f) => [frontendKeyString(f), f.id] as const));
    const backendIds = (this.backendIds = new IdAllocator(BACKEND_ID_RANGE, lb.backends().map((b) => [backendKeyString(b), b.id] as const)));
    this.translator = new LbTranslator({
      nodeName: opts.nodeName,
      nodeIPs: opts.nodeIPs,
      ...(opts.lbPool ? { lbPool: opts.lbPool } : {}),
      ...(opts.defaultAlgorithm ? { defaultAlgorithm: opts.defaultAlgorithm } : {}),
      frontendIds,
      backendIds,
      capacity: lb.capacity(),
    });
  }

  async start(): Promise<void> {
    const t = this.translator;
    this.svcInformer = this.store.informer('Service');
    this.sliceInformer = this.store.informer('EndpointSlice');
    const on = (inf: Informer, up: (o: StoreObject) => void, del: (o: StoreObject) => void) => {
      inf.on('add', (o) => (up(o), this.schedule()));
      inf.on('update', (o) => (up(o), this.schedule()));
      inf.on('delete', (o) => (del(o), this.schedule()));
      inf.on('error', (e) => this.log.warn('service watch', { error: e.message }));
    };
    on(this.svcInformer, (o) => t.upsertService(o), (o) => t.deleteService(o));
    on(this.sliceInformer, (o) => t.upsertSlice(o), (o) => t.deleteSlice(o));
    await Promise.all([this.svcInformer.start(), this.sliceInformer.start()]);
    await Promise.all([this.svcInformer.waitForSync(), this.sliceInformer.waitForSync()]);
    this.synced = true;
    this.sync();
  }

  private schedule(): void {
    if (this.eventAt === undefined && this.synced) this.eventAt = epochMs();
    if (this.timer || !this.synced) return;
    const run = () => {
      this.timer = undefined;
      this.sync();
    };
    if (performance.now() - this.lastFlushEnd >= COALESCE_MS) {
      // Quiet before: flush once the events delivered with this one (one watch response) are in.
      const h = setImmediate(run);
      this.timer = { cancel: () => clearImmediate(h) };
    } else {
      // A burst: coalesce, so it costs a flush per COALESCE_MS, not one per event.
      const h = setTimeout(run, COALESCE_MS);
      this.timer = { cancel: () => clearTimeout(h) };
    }
  }

  /** Translates what changed since the last sync and writes it. */
  sync(): void {
    try {
      this.syncOnce();
    } catch (e) {
      // A map write failed half-way (a map resized under us, the kernel out of memory): the
      // maps no longer match what was translated. Rewrite everything from the model shortly.
      this.lastError = (e as Error).message;
      this.repair = true;
      this.log.error('service programming failed; rewriting every Service in 1 s', { error: this.lastError });
      clearTimeout(this.retry);
      this.retry = setTimeout(() => this.sync(), 1000);
    }
  }

  private syncOnce(): void {
    const t0 = performance.now();
    const startAtMs = epochMs();
    const eventAtMs = this.eventAt;
    this.eventAt = undefined;
    const first = this.lastSync === undefined;
    const full = first || this.repair;
    const services = this.translator.pending;
    const change = this.translator.flush();
    for (const [service, problems] of change.problems) {
      for (const p of problems) {
        this.log.warn(`service ${p.severity === 'error' ? 'not programmed' : 'partly programmed'}`, { service, field: p.field, message: p.message, ...(p.code ? { code: p.code } : {}) });
      }
    }
    const deleteFrontends: Pick<Frontend['key'], 'address' | 'port' | 'protocol'>[] = change.deleteFrontends.map((f) => f.key);
    const deleteBackends = change.deleteBackends.map((b) => b.id);
    let upsertBackends = change.upsertBackends;
    let upsertFrontends = change.upsertFrontends;
    const t1 = performance.now();
    if (full) {
      // The maps may hold what an earlier agent wrote (or a failed write left) that no Service wants.
      if (this.repair) {
        const model = this.translator.model();
        upsertBackends = model.backends;
        upsertFrontends = model.frontends;
      }
      // Unsorted sets, not the sorted model: this is every Service of a restarted agent's first pass.
      const wantF = this.translator.programmedFrontendKeys();
      const wantB = this.translator.programmedBackendIds();
      // After a failed write only the maps themselves say what they hold.
      for (const f of this.repair ? this.lb.frontends() : this.lb.knownFrontends()) if (!wantF.has(frontendKeyString(f))) deleteFrontends.push(f);
      for (const b of this.lb.backends()) if (!wantB.has(b.id)) deleteBackends.push(b.id);
    }
    const keyOf = (id: number) => this.backendIds.keyOf(id);
    const update = {
      upsertBackends: upsertBackends.map(backendRow),
      upsertFrontends: upsertFrontends.map((f) => frontendRow(f, keyOf)),
      deleteFrontends,
      deleteBackends,
    };
    const t2 = performance.now();
    const skipped0 = this.lb.skipped ? { ...this.lb.skipped } : undefined;
    this.lb.apply(update);
    this.repair = false;
    const end = performance.now();
    const skipped = skipped0 && this.lb.skipped ? this.lb.skipped.frontends - skipped0.frontends : 0;
    this.lastFlushEnd = end;
    const ms = end - t0;
    this.busyMs += ms;
    this.lastSync = {
      ...(eventAtMs === undefined ? {} : { eventAtMs }),
      startAtMs,
      endAtMs: performance.timeOrigin + end,
      at: new Date().toISOString(),
      ms: Math.round(ms * 100) / 100,
      services,
      frontendsWritten: change.upsertFrontends.length,
      frontendsUnchanged: skipped,
      backendsWritten: change.upsertBackends.length,
      deleted: deleteFrontends.length + deleteBackends.length,
      stages: { translateMs: round2(t1 - t0), reconcileMs: round2(t2 - t1), writeMs: round2(end - t2) },
    };
    if (first) {
      const l = this.lastSync;
      this.firstSync = { at: l.at, ms: l.ms, frontendsWritten: l.frontendsWritten, frontendsUnchanged: l.frontendsUnchanged, backendsWritten: l.backendsWritten, stages: l.stages };
    }
  }

  /**
   * The resync (src/agent/resync.ts): reads the service and backend maps
   * and compares them with the model (programmed frontends: id, flags,
   * affinity, backends in slot order; backends: address, port, protocol,
   * state). Anything that differs, is missing or is extra is drift: the
   * mirror of the maps is read again and everything is rewritten from the
   * model now. Answers how many entries differed. Maglev tables are not
   * compared (not read back: M entries per frontend). Skipped (0) while a
   * change waits to be written.
   */
  resync(): number {
    if (!this.synced || this.timer || this.repair || this.translator.pending > 0) return 0;
    const keyOf = (id: number) => this.backendIds.keyOf(id);
    const programmed = this.translator.programmedFrontendKeys();
    const model = this.translator.model();
    const want = new Map<string, LbFrontendRow>();
    for (const f of model.frontends) {
      const k = frontendKeyString(f.key);
      if (programmed.has(k)) want.set(k, frontendRow(f, keyOf));
    }
    let drift = 0;
    const seen = new Set<string>();
    for (const row of this.lb.frontends()) {
      const k = frontendKeyString(row);
      seen.add(k);
      const w = want.get(k);
      if (!w || w.id !== row.id || w.flags !== row.flags || w.affinityTimeout !== row.affinityTimeout || (w.proxyPort ?? 0) !== (row.proxyPort ?? 0) || w.backends.join() !== row.backends.join()) drift++;
    }
    for (const k of want.keys()) if (!seen.has(k)) drift++;
    const programmedB = this.translator.programmedBackendIds();
    const wantB = new Map(model.backends.filter((b) => programmedB.has(b.id)).map((b) => [b.id, backendRow(b)]));
    const seenB = new Set<number>();
    for (const b of this.lb.backends()) {
      seenB.add(b.id);
      const w = wantB.get(b.id);
      if (!w || w.address !== b.address || w.port !== b.port || w.protocol !== b.protocol || w.state !== b.state) drift++;
    }
    for (const id of wantB.keys()) if (!seenB.has(id)) drift++;
    if (drift > 0) {
      this.lb.reload?.();
      this.repair = true;
      this.sync();
    }
    return drift;
  }

  /** Counts only (cheap at any scale): for status and benchmarks. */
  status(): { frontends: number; backends: number; serviceEntries: number; capacity: ReturnType<LbDatapath['capacity']>; busyMs: number; lastSync: ServiceManager['lastSync']; firstSync: ServiceManager['firstSync']; lastError?: string } {
    return {
      frontends: this.translator.frontendCount,
      backends: this.translator.backendCount,
      serviceEntries: this.translator.serviceEntries,
      capacity: this.lb.capacity(),
      busyMs: Math.round(this.busyMs * 100) / 100,
      lastSync: this.lastSync,
      firstSync: this.firstSync,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  /** `beeline service list`: every frontend with its backends, as programmed. */
  rows(): ServiceRow[] {
    const m = this.translator.model();
    const byId = new Map(m.backends.map((b) => [b.id, b]));
    return m.frontends.map((f) => ({
      id: f.id,
      frontend: `${f.key.address}:${f.key.port}/${f.key.protocol}`,
      type: f.type,
      service: f.service,
      backends: f.backends.map((id) => byId.get(id)).filter((b) => b !== undefined).map((b) => ({ address: b.address, port: b.port, state: b.state })),
      ...(f.affinity ? { affinityTimeout: f.affinity.timeoutSeconds } : {}),
      trafficPolicy: f.trafficPolicy,
    }));
  }

  /**
   * The routed (mesh) Service ports, `namespace/name:port` (the Service
   * port's number, as compileMesh's frontends name them), and the node
   * proxy's mesh listener port (NodeProxyConfig.meshPort; undefined: none is
   * listening, nothing flagged). Exactly those ports' ClusterIP TCP frontends
   * are flagged BL_LB_F_L7 with the port in their master entry: pods'
   * connections to them go to the proxy (bpf/lxc.bpf.c), the node's own keep
   * the backends. Only frontends whose flag changes are written, on the next
   * flush (scheduled here). A UDP port, or a Service that is not a ClusterIP
   * one, is never flagged.
   */
  setMeshFrontends(frontends: ReadonlySet<string>, proxyPort: number | undefined): void {
    this.translator.setMeshFrontends(frontends, proxyPort);
    if (this.translator.pending > 0) this.schedule();
  }

  problems(): LbProblem[] {
    return this.translator.model().problems;
  }

  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = undefined;
    clearTimeout(this.retry);
    await Promise.all([this.svcInformer?.stop(), this.sliceInformer?.stop()]);
  }
}

const round2 = (ms: number) => Math.round(ms * 100) / 100;

function backendRow(b: Backend): LbBackendRow {
  return { id: b.id, address: b.address, port: b.port, protocol: b.protocol, state: b.state === 'terminating' ? 'terminating' : 'active' };
}

/**
 * The agent's kube-proxy replacement: Services and EndpointSlices from the
 * store in, this node's service maps out. Translation is pure
 * (src/service/translate.ts); this class keeps the ids stable (restored from
 * the maps after a restart), writes only what changed (diffLb), and after a
 * restart removes what the maps hold that no Service wants any more.
 */
import type { Logger } from '../common/log.js';
import type { Informer, Store } from '../store/store.js';
import {
  BACKEND_ID_RANGE,
  FRONTEND_ID_RANGE,
  IdAllocator,
  backendKeyString,
  diffLb,
  frontendKeyString,
  servicesToLb,
  type Frontend,
  type LbModel,
  type LbProblem,
  type PlanCache,
} from '../service/translate.js';
import { BlLbFlags } from '../datapath/generated/abi.js';
import type { LbBackendRow, LbDatapath, LbFrontendRow } from './datapath.js';

/** The map row of a frontend: its flags say its type, affinity and Local policy. */
export function frontendRow(f: Frontend): LbFrontendRow {
  const local = f.type === 'ClusterIP' ? f.trafficPolicy.internal === 'Local' : f.trafficPolicy.external === 'Local';
  const flags =
    (f.affinity ? BlLbFlags.BL_LB_F_AFFINITY : 0) |
    (f.type === 'NodePort' ? BlLbFlags.BL_LB_F_NODEPORT : 0) |
    (f.type === 'LoadBalancer' ? BlLbFlags.BL_LB_F_LOADBALANCER : 0) |
    (f.type === 'ExternalIP' ? BlLbFlags.BL_LB_F_EXTERNAL_IP : 0) |
    (local ? BlLbFlags.BL_LB_F_LOCAL : 0);
  return { id: f.id, address: f.key.address, port: f.key.port, protocol: f.key.protocol, flags, affinityTimeout: f.affinity?.timeoutSeconds ?? 0, backends: [...f.backends] };
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

export class ServiceManager {
  private svcInformer: Informer | undefined;
  private sliceInformer: Informer | undefined;
  private frontendIds: IdAllocator;
  private backendIds: IdAllocator;
  private model: LbModel | undefined;
  /** Plans of unchanged services, reused from sync to sync. */
  private readonly planCache: PlanCache = new Map();
  private timer: NodeJS.Timeout | undefined;
  /** Last sync, for status: how long it took and when. */
  lastSync: { at: string; ms: number; frontends: number; backends: number } | undefined;

  constructor(
    private readonly store: Store,
    private readonly lb: LbDatapath,
    private readonly opts: { nodeName: string; nodeIPs: string[]; lbPool?: string[] },
    private readonly log: Logger,
  ) {
    // Ids as the maps have them, so a restarted agent keeps every frontend's and backend's number.
    this.frontendIds = new IdAllocator(FRONTEND_ID_RANGE, lb.frontends().map((f) => [frontendKeyString(f), f.id] as const));
    this.backendIds = new IdAllocator(BACKEND_ID_RANGE, lb.backends().map((b) => [backendKeyString(b), b.id] as const));
  }

  async start(): Promise<void> {
    this.svcInformer = this.store.informer('Service');
    this.sliceInformer = this.store.informer('EndpointSlice');
    for (const inf of [this.svcInformer, this.sliceInformer]) {
      for (const ev of ['add', 'update', 'delete'] as const) inf.on(ev as 'add', () => this.schedule());
      inf.on('error', (e) => this.log.warn('service watch', { error: e.message }));
    }
    await Promise.all([this.svcInformer.start(), this.sliceInformer.start()]);
    await Promise.all([this.svcInformer.waitForSync(), this.sliceInformer.waitForSync()]);
    this.sync();
  }

  private schedule(): void {
    if (this.timer || !this.svcInformer?.hasSynced() || !this.sliceInformer?.hasSynced()) return;
    // Coalesce a burst (a Service and its slices arrive together); short enough to stay well under a second.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sync();
    }, 10);
  }

  /** Translates everything and writes the difference to the maps. */
  sync(): void {
    const t0 = performance.now();
    const next = servicesToLb(this.svcInformer!.list(), this.sliceInformer!.list(), {
      nodeName: this.opts.nodeName,
      nodeIPs: this.opts.nodeIPs,
      ...(this.opts.lbPool ? { lbPool: this.opts.lbPool } : {}),
      frontendIds: this.frontendIds,
      backendIds: this.backendIds,
      planCache: this.planCache,
    });
    for (const p of next.problems) {
      if (!this.model?.problems.some((q) => q.service === p.service && q.field === p.field && q.message === p.message)) {
        this.log.warn(`service ${p.severity === 'error' ? 'not programmed' : 'partly programmed'}`, { service: p.service, field: p.field, message: p.message });
      }
    }
    if (!this.model) {
      // First sync after a start: the maps may hold what an earlier agent wrote.
      const wantF = new Set(next.frontends.map((f) => frontendKeyString(f.key)));
      const wantB = new Set(next.backends.map((b) => b.id));
      for (const b of next.backends) this.lb.upsertBackend(backendRow(b));
      for (const f of next.frontends) this.lb.upsertFrontend(frontendRow(f));
      for (const f of this.lb.frontends()) if (!wantF.has(frontendKeyString(f))) this.lb.deleteFrontend(f);
      for (const b of this.lb.backends()) if (!wantB.has(b.id)) this.lb.deleteBackend(b.id);
    } else {
      const d = diffLb(this.model, next);
      // Backends before the frontends that name them; frontends gone before their backends go.
      for (const b of d.upsertBackends) this.lb.upsertBackend(backendRow(b));
      for (const f of d.upsertFrontends) this.lb.upsertFrontend(frontendRow(f));
      for (const f of d.deleteFrontends) this.lb.deleteFrontend(frontendRow(f));
      for (const b of d.deleteBackends) this.lb.deleteBackend(b.id);
    }
    this.model = next;
    this.lastSync = { at: new Date().toISOString(), ms: Math.round((performance.now() - t0) * 100) / 100, frontends: next.frontends.length, backends: next.backends.length };
  }

  /** `beeline service list`: every frontend with its backends, as programmed. */
  rows(): ServiceRow[] {
    const m = this.model;
    if (!m) return [];
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

  problems(): LbProblem[] {
    return this.model?.problems ?? [];
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await Promise.all([this.svcInformer?.stop(), this.sliceInformer?.stop()]);
  }
}

function backendRow(b: { id: number; address: string; port: number; protocol: 'TCP' | 'UDP'; state: string }): LbBackendRow {
  return { id: b.id, address: b.address, port: b.port, protocol: b.protocol, state: b.state === 'terminating' ? 'terminating' : 'active' };
}

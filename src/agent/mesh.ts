/**
 * The agent's mesh routes (issue 15): HTTPRoutes whose parents are Services,
 * with the Services and EndpointSlices they name, compiled by compileMesh
 * (src/l7/http/mesh.ts) into the node proxy's `mesh` section
 * (NodeProxy.setSection): a transparent HTTP listener at the mesh port whose
 * servers connect from the client pod's address (`usesrc clientip`), its
 * records going to the agent's access-log receiver like the policy proxy's.
 * The routed Service ports are handed to the service load-balancer
 * (setMeshFrontends), whose datapath then sends those frontends' TCP
 * connections from pods to the listener instead of balancing them itself.
 *
 * A change that moves weights only (same frontends, rules and backends: the
 * configuration text and every file but the two schedule maps unchanged) is
 * applied by swapping those maps on the runtime API (meshMapSwapPlan), with
 * no reload; anything else reloads. Route status is the operator's to write
 * (src/operator/routes.ts), not each agent's.
 */
import type { Logger } from '../common/log.js';
import type { Informer, Store, StoreObject } from '../store/store.js';
import { HAPROXY_RECORDS_RING, RECORD_MAX_BYTES } from '../l7/http/haproxy.js';
import { compileMesh, meshMapSwapPlan, type CompiledMesh, type MeshMaps } from '../l7/http/mesh.js';
import { proxyStatsSocket, replaceProxyMap, type NodeProxy, type NodeProxyConfig } from './proxy.js';

/** The proxy section the mesh owns. */
export const MESH_SECTION = 'mesh';

/** Kinds the mesh reads. */
export const MESH_KINDS = ['HTTPRoute', 'Service', 'EndpointSlice'] as const;

/** What the service load-balancer offers the mesh (ServiceManager.setMeshFrontends, piece A). */
export interface MeshFrontendSink {
  /** Flags exactly these Service ports (`namespace/name:port`) as routed by the proxy at proxyPort (undefined: none). */
  setMeshFrontends(frontends: ReadonlySet<string>, proxyPort: number | undefined): void;
}

/** The Service ports (`namespace/name:port`) a compilation routes. */
export function meshFrontendNames(c: Pick<CompiledMesh, 'frontends'>): Set<string> {
  return new Set(c.frontends.map((f) => `${f.service.namespace}/${f.service.name}:${f.service.port}`));
}

/** The compile options of the node proxy's mesh section. */
export function meshCompileOptions(cfg: NodeProxyConfig & { meshPort: number }): Parameters<typeof compileMesh>[1] {
  return {
    stateDir: cfg.stateDir,
    bind: [`0.0.0.0:${cfg.meshPort} transparent`],
    log: `ring@${HAPROXY_RECORDS_RING} len ${RECORD_MAX_BYTES} format raw local0`,
    serverSource: '0.0.0.0 usesrc clientip',
  };
}

export interface MeshRoutesOptions {
  store: Store;
  proxy: NodeProxy;
  /** The service load-balancer, once it runs (it may start later: it is handed the frontends then). */
  services: () => MeshFrontendSink | undefined;
  log: Logger;
  /** Coalescing of store events (ms). */
  debounceMs?: number;
  /** Tests (no root): the listener's bind and the servers' source instead of the transparent ones. */
  render?: { bind: string[]; serverSource?: string };
}

export class MeshRoutes {
  private informers: Informer[] = [];
  private timer: NodeJS.Timeout | undefined;
  private compiled: CompiledMesh | undefined;
  /** The schedule maps the running worker holds (after a reload or a swap with them). */
  private running: MeshMaps | undefined;
  /** The Service ports the service load-balancer was last handed. */
  private pushed = new Set<string>();
  private readonly meshPort: number;
  readonly stats = { compiles: 0, swaps: 0, lastError: undefined as string | undefined };

  constructor(private readonly o: MeshRoutesOptions) {
    if (o.proxy.config.meshPort === undefined) throw new Error('mesh routes: the node proxy has no meshPort');
    this.meshPort = o.proxy.config.meshPort;
  }

  async start(): Promise<void> {
    for (const kind of MESH_KINDS) {
      const inf = this.o.store.informer(kind);
      inf.on('add', () => this.schedule());
      inf.on('update', () => this.schedule());
      inf.on('delete', () => this.schedule());
      // Before the first sync the caller reports the failed start (once); after it, trouble is news.
      inf.on('error', (e: Error) => {
        if (inf.hasSynced()) this.o.log.warn('mesh watch', { kind, error: e.message });
        else this.o.log.debug('mesh watch', { kind, error: e.message });
      });
      this.informers.push(inf);
    }
    await Promise.all(this.informers.map((i) => i.start()));
    await Promise.all(this.informers.map((i) => i.waitForSync()));
    this.sync();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  /** What `beeline status` shows of the mesh. */
  status(): { frontends: number; routes: number; compiles: number; swaps: number; lastError?: string } {
    const c = this.compiled;
    return { frontends: c?.frontends.length ?? 0, routes: c?.statuses.length ?? 0, compiles: this.stats.compiles, swaps: this.stats.swaps, ...(this.stats.lastError ? { lastError: this.stats.lastError } : {}) };
  }

  /** The routed Service ports the service load-balancer is handed. */
  frontends(): ReadonlySet<string> {
    return this.pushed;
  }

  /**
   * Hands routed Service ports to the service load-balancer: a port is added
   * once the proxy listens for it (the section applied), removed at once.
   */
  pushFrontends(set: ReadonlySet<string> = this.pushed): void {
    this.pushed = new Set(set);
    this.o.services()?.setMeshFrontends(this.pushed, this.pushed.size ? this.meshPort : undefined);
  }

  private schedule(): void {
    if (this.timer || !this.informers.every((i) => i.hasSynced())) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sync();
    }, this.o.debounceMs ?? 20);
  }

  private list(kind: string): StoreObject[] {
    return this.informers[MESH_KINDS.indexOf(kind as (typeof MESH_KINDS)[number])]!.list();
  }

  private compileOptions(): Parameters<typeof compileMesh>[1] {
    const o = meshCompileOptions({ ...this.o.proxy.config, meshPort: this.meshPort });
    if (!this.o.render) return o;
    const { serverSource: _, ...rest } = o;
    return { ...rest, bind: this.o.render.bind, ...(this.o.render.serverSource ? { serverSource: this.o.render.serverSource } : {}) };
  }

  /** Compiles the routes and hands the section to the proxy. */
  sync(): void {
    let c: CompiledMesh;
    try {
      c = compileMesh({ routes: this.list('HTTPRoute'), services: this.list('Service'), endpointSlices: this.list('EndpointSlice') }, this.compileOptions());
    } catch (e) {
      this.stats.lastError = (e as Error).message;
      this.o.log.warn('mesh routes not compiled', { error: this.stats.lastError });
      return;
    }
    this.stats.compiles++;
    this.stats.lastError = undefined;
    this.compiled = c;
    const now = meshFrontendNames(c);
    // Ports no longer routed go back to the datapath's own balancing now; new ones once the proxy has them.
    const kept = new Set([...this.pushed].filter((k) => now.has(k)));
    if (kept.size !== this.pushed.size) this.pushFrontends(kept);
    if (c.frontends.length === 0) this.o.proxy.setSection(MESH_SECTION, undefined);
    else {
      const maps = c.maps;
      const paths = c.mapPaths;
      this.o.proxy.setSection(MESH_SECTION, {
        config: c.config,
        files: c.files,
        runtime: {
          files: [paths.windows, paths.schedule],
          apply: async () => {
            // Only the schedule maps changed (the configuration text did not): swap them.
            if (!this.running) throw new Error('mesh: the running schedule is not known');
            const socket = proxyStatsSocket(this.o.proxy.config.stateDir);
            for (const step of meshMapSwapPlan(this.running, maps)) {
              await replaceProxyMap(socket, step.map === 'schedule' ? paths.schedule : paths.windows, step.content.split('\n').filter((l) => l !== ''));
            }
            this.stats.swaps++;
            this.o.log.info('mesh weights swapped in place', { frontends: c.frontends.length });
          },
        },
        applied: () => {
          this.running = maps;
          if (now.size !== this.pushed.size || [...now].some((k) => !this.pushed.has(k))) this.pushFrontends(now);
        },
      });
    }
  }
}

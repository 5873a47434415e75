/**
 * The operator's route status (issue 15): every HTTPRoute with a Service
 * parent gets, in `status.parents`, the mesh's verdict per parent as the
 * Gateway API has it (parentRef, controllerName beeline.io/mesh, conditions
 * Accepted and ResolvedRefs with reasons, each with observedGeneration and a
 * lastTransitionTime kept while its status does not change). The verdicts are
 * compileMesh's (src/l7/http/mesh.ts), over the same HTTPRoutes and Services
 * every agent compiles, so `beeline get httproute -o yaml` says what the node
 * proxies do: a route shadowed by an older one says so in its Accepted
 * message. Entries of other controllers are kept.
 *
 * A pass over the informers' caches runs after every change (never two at
 * once) and writes a route's status only when it differs (timestamps aside),
 * through the status subresource at the resourceVersion read; a conflict is
 * left for the update event it implies. In both cluster backends (kvstore
 * mode: the lab's etcd; Kubernetes mode).
 */
import { StoreConflictError, StoreNotFoundError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import type { Condition } from '../k8s/types.js';
import { compileMesh, MESH_CONTROLLER, type MeshParentStatus } from '../l7/http/mesh.js';
import type { Informer, Store, StoreObject } from '../store/store.js';

/** One entry of `status.parents` (Gateway API RouteParentStatus). */
export interface RouteParentStatus {
  parentRef: MeshParentStatus['parentRef'];
  controllerName: string;
  conditions: (Condition & { observedGeneration?: number; lastTransitionTime?: string })[];
}

const STATE_DIR = '/nonexistent'; // compileMesh names files under it; the operator writes none.

/**
 * The status a route should have: the entries of other controllers as they
 * are, then the mesh's; undefined when it already has that (lastTransitionTime
 * kept for a condition whose status did not change).
 */
export function routeStatus(route: StoreObject, mesh: MeshParentStatus[], now: string): { parents: RouteParentStatus[] } | undefined {
  const had = ((route.status as { parents?: RouteParentStatus[] } | undefined)?.parents ?? []);
  const others = had.filter((p) => p.controllerName !== MESH_CONTROLLER);
  const mine = had.filter((p) => p.controllerName === MESH_CONTROLLER);
  const generation = route.metadata.generation ?? 1;
  const sameRef = (a: object, b: object) => JSON.stringify(a) === JSON.stringify(b);
  const want: RouteParentStatus[] = mesh.map((p) => {
    const before = mine.find((m) => sameRef(m.parentRef, p.parentRef));
    return {
      parentRef: p.parentRef,
      controllerName: MESH_CONTROLLER,
      conditions: p.conditions.map((c) => {
        const old = before?.conditions.find((o) => o.type === c.type);
        return { type: c.type, status: c.status, reason: c.reason, message: c.message, observedGeneration: generation, lastTransitionTime: old && old.status === c.status && old.lastTransitionTime ? old.lastTransitionTime : now };
      }),
    };
  });
  const strip = (l: RouteParentStatus[]) => JSON.stringify(l.map((p) => ({ ...p, conditions: p.conditions.map(({ lastTransitionTime: _, ...c }) => c) })));
  if (strip(mine) === strip(want) && mine.length === had.length - others.length) return undefined;
  return { parents: [...others, ...want] };
}

export class RouteStatusController {
  private routes: Informer | undefined;
  private services: Informer | undefined;
  private running = false;
  private again = false;
  private stopped = false;
  /** Status writes done (tests, logs). */
  writes = 0;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.routes = this.store.informer('HTTPRoute');
    this.services = this.store.informer('Service');
    for (const inf of [this.routes, this.services]) {
      inf.on('add', () => this.kick());
      inf.on('update', () => this.kick());
      inf.on('delete', () => this.kick());
      inf.on('error', (e: Error) => this.log.warn('route status watch', { error: e.message }));
    }
    await Promise.all([this.routes.start(), this.services.start()]);
    await Promise.all([this.routes.waitForSync(), this.services.waitForSync()]);
    await this.pass();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([this.routes?.stop(), this.services?.stop()]);
  }

  private kick(): void {
    if (!this.routes?.hasSynced() || !this.services?.hasSynced()) return;
    void this.pass();
  }

  /** One pass: every route's status as compileMesh says; a pass asked for meanwhile runs after. */
  async pass(): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        await this.passOnce();
      } while (this.again && !this.stopped);
    } finally {
      this.running = false;
    }
  }

  private async passOnce(): Promise<void> {
    const routes = this.routes!.list();
    // EndpointSlices do not change a route's status: none are read.
    const { statuses } = compileMesh({ routes, services: this.services!.list(), endpointSlices: [] }, { stateDir: STATE_DIR, bind: [] });
    const byName = new Map(statuses.map((s) => [`${s.route.namespace}/${s.route.name}`, s.parents]));
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    for (const r of routes) {
      if (this.stopped) return;
      const next = routeStatus(r, byName.get(`${r.metadata.namespace ?? 'default'}/${r.metadata.name}`) ?? [], now);
      if (!next) continue;
      try {
        await this.store.updateStatus({ apiVersion: r.apiVersion, kind: r.kind, metadata: { name: r.metadata.name, namespace: r.metadata.namespace ?? 'default', resourceVersion: r.metadata.resourceVersion }, status: { ...(r.status as object | undefined), ...next } });
        this.writes++;
      } catch (e) {
        // Changed or gone meanwhile: its update or delete event runs another pass.
        if (e instanceof StoreConflictError || e instanceof StoreNotFoundError) continue;
        this.log.warn('route status not written', { route: `${r.metadata.namespace}/${r.metadata.name}`, error: (e as Error).message });
      }
    }
  }
}

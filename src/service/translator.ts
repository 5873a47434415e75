/**
 * Incremental Service translation: the agent feeds Services and EndpointSlices
 * in as the store reports them; `flush()` answers what changed in the node's
 * LB model. Work is proportional to what changed, not to the cluster: a
 * changed Service is planned again on its own (planService), and only the
 * Services it competes with for a node port or frontend address (there are
 * none in a healthy cluster) are judged again with it.
 *
 * Semantics are those of translating everything at once (servicesToLb, which
 * is this class fed everything and flushed once):
 *   - oldest Service first (creationTimestamp, then namespace/name) keeps a
 *     contested node port or frontend address; the newer one gets an error and
 *     no frontends (never half-programmed);
 *   - a backend shared by several Services is one backend (one id), active
 *     when any of them sees it ready;
 *   - ids are stable while their key exists; freed ids are reused last.
 *
 * Capacity (the BPF maps' max_entries) is accounted here, so a Service that
 * does not fit is reported "not programmed" and nothing of it is written; the
 * others keep working. Refused Services are tried again when room frees up.
 */
import { UsageError } from '../common/errors.js';
import { parseCidr, tryParseIPv4, type Cidr4 } from '../ipam/cidr.js';
import type { EndpointSlice, Service } from '../k8s/types.js';
import type { StoreObject } from '../store/store.js';
import {
  BACKEND_ID_RANGE,
  FRONTEND_ID_RANGE,
  IdAllocator,
  SERVICE_NAME_LABEL,
  compareFrontends,
  planService,
  sameBackend,
  sameFrontend,
  type Backend,
  type Frontend,
  type LbAlgorithm,
  type LbDiff,
  type LbModel,
  type LbOptions,
  type LbProblem,
  type PlannedBackend,
  type ServicePlan,
} from './translate.js';
import { namespaceOf as nsOf } from '../k8s/types.js';

/** How many entries the node's LB maps hold (their max_entries). */
export interface LbCapacity {
  /** bl_lb4_services: one master entry per frontend plus one slot per backend of it. */
  serviceEntries: number;
  /** bl_lb4_backends. */
  backendEntries: number;
  /** bl_lb4_maglev: maglevTableSize entries per Maglev frontend. Unset: not accounted. */
  maglevEntries?: number;
  maglevTableSize?: number;
}

export interface TranslatorOptions extends LbOptions {
  /** Unset: unlimited (pure translation, tests). */
  capacity?: LbCapacity;
}

/** What flush() changed, plus the services whose problems changed (for logging). */
export interface LbChange extends LbDiff {
  /** Services (namespace/name) whose problem list is different after this flush, with the new list. */
  problems: Map<string, LbProblem[]>;
}

interface ServiceState {
  key: string;
  svc: Service | undefined;
  /** Slices by namespace/name. */
  slices: Map<string, EndpointSlice>;
  /** Age order: creationTimestamp then key. */
  order: string;
  plan: ServicePlan | undefined;
  /** From planning (this service alone). */
  planProblems: LbProblem[];
  /** Everything reported for the service after admission. */
  problems: LbProblem[];
  /** Keys contested between services: a node port (number), a frontend's key text (string). Empty without a plan. */
  claims: Claim[];
  /** This flush: it shares a claim with another service, so admission must judge it against the others (most services share none and skip that). */
  contested: boolean;
  /** Programmed frontends, by key text. */
  frontends: Map<string, Frontend>;
  /** Backends this service holds a reference on. */
  backends: Map<string, PlannedBackend>;
  /** Refused for lack of map room; tried again when room frees up. */
  refusedForRoom: boolean;
  /** During a flush: the problems admission found, and the frontends held before it (fields, not per-flush maps keyed by name: 50k lookups are most of a full pass). */
  admitted: LbProblem[] | undefined;
  held: Map<string, Frontend> | undefined;
}

interface BackendRef {
  id: number;
  /** How many services reference it (counts, not a list: one backend may serve thousands of services). */
  refs: number;
  /** How many of them see it active. */
  active: number;
  /** What the latest reference saw (address, node, zone). */
  info: PlannedBackend;
  /** The row as last reported. */
  row: Backend | undefined;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const NO_SLICES: EndpointSlice[] = [];
// Shared empties, frozen so a stray write throws: a full pass keeps 50k Services' state alive, and
// every empty array or map one holds is an object the garbage collector copies and promotes.
const NO_CLAIMS: Claim[] = Object.freeze([]) as unknown as Claim[];
const NO_PROBLEMS: LbProblem[] = Object.freeze([]) as unknown as LbProblem[];
const NO_FRONTENDS: Map<string, Frontend> = new Map();
const NO_BACKENDS: Map<string, PlannedBackend> = new Map();
const ONE: readonly number[] = [0];
const NONE: readonly number[] = [];

export class LbTranslator {
  private readonly planOpts: { nodeName: string; nodeIPs: string[]; pools: Cidr4[] | undefined; defaultAlgorithm: LbAlgorithm; algorithmAnnotation: boolean };
  private readonly frontendIds: IdAllocator;
  private readonly backendIds: IdAllocator;
  private readonly capacity: LbCapacity | undefined;
  private readonly services = new Map<string, ServiceState>();
  /** Slice (namespace/name) → the service it belongs to. */
  private readonly sliceOwner = new Map<string, string>();
  /** Claim → the service (or services, when contested) whose plan claims it. One string in the usual case: no Set per key. */
  private readonly claimants = new Map<Claim, string | Set<string>>();
  /** Services refused for lack of room. */
  private readonly refused = new Set<string>();
  private readonly backendRefs = new Map<string, BackendRef>();
  private readonly dirty = new Set<ServiceState>();
  private usedServiceEntries = 0;
  private usedMaglevEntries = 0;
  private programmedFrontends = 0;
  private flushed = false;
  /** Routed (mesh) Service ports, `namespace/name:port`, and the node proxy's mesh listener port (setMeshFrontends). */
  private mesh: { ports: ReadonlySet<string>; proxyPort: number | undefined } = { ports: new Set(), proxyPort: undefined };

  constructor(opts: TranslatorOptions) {
    for (const ip of opts.nodeIPs) if (tryParseIPv4(ip) === undefined) throw new UsageError(`node IP '${ip}' is not an IPv4 address`);
    this.planOpts = {
      nodeName: opts.nodeName,
      nodeIPs: [...new Set(opts.nodeIPs)].sort((a, b) => tryParseIPv4(a)! - tryParseIPv4(b)!),
      pools: opts.lbPool?.map((c) => parseCidr(c, 'load-balancer pool')),
      defaultAlgorithm: opts.defaultAlgorithm ?? 'random',
      algorithmAnnotation: opts.algorithmAnnotation ?? true,
    };
    this.frontendIds = opts.frontendIds ?? new IdAllocator(FRONTEND_ID_RANGE);
    this.backendIds = opts.backendIds ?? new IdAllocator(BACKEND_ID_RANGE);
    this.capacity = opts.capacity;
  }

  private state(key: string): ServiceState {
    let s = this.services.get(key);
    if (!s) {
      s = { key, svc: undefined, slices: new Map(), order: `~${key}`, plan: undefined, planProblems: NO_PROBLEMS, problems: NO_PROBLEMS, claims: NO_CLAIMS, frontends: NO_FRONTENDS, backends: NO_BACKENDS, refusedForRoom: false, contested: false, admitted: undefined, held: undefined };
      this.services.set(key, s);
    }
    return s;
  }

  /** A Service was added or changed. */
  upsertService(o: StoreObject): void {
    const svc = o as unknown as Service;
    const key = `${nsOf(svc)}/${svc.metadata.name}`;
    const s = this.state(key);
    s.svc = svc;
    // NUL sorts before any timestamp character: no timestamp is oldest, then the key decides.
    s.order = `${svc.metadata.creationTimestamp ?? ''}\u0000${key}`;
    this.dirty.add(s);
  }

  /** A Service was deleted. */
  deleteService(o: StoreObject | string): void {
    const key = typeof o === 'string' ? o : `${nsOf(o)}/${o.metadata.name}`;
    const s = this.services.get(key);
    if (!s) return;
    s.svc = undefined;
    this.dirty.add(s);
  }

  /** An EndpointSlice was added or changed (its service label may have changed too). */
  upsertSlice(o: StoreObject): void {
    const slice = o as unknown as EndpointSlice;
    const sk = `${nsOf(slice)}/${slice.metadata.name}`;
    const name = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    const owner = name ? `${nsOf(slice)}/${name}` : undefined;
    const before = this.sliceOwner.get(sk);
    if (before !== undefined && before !== owner) this.removeSlice(sk, before);
    if (owner === undefined) return;
    this.sliceOwner.set(sk, owner);
    const s = this.state(owner);
    s.slices.set(sk, slice);
    this.dirty.add(s);
  }

  /** An EndpointSlice was deleted. */
  deleteSlice(o: StoreObject): void {
    const sk = `${nsOf(o)}/${o.metadata.name}`;
    const owner = this.sliceOwner.get(sk);
    if (owner !== undefined) this.removeSlice(sk, owner);
  }

  private removeSlice(sk: string, owner: string): void {
    this.sliceOwner.delete(sk);
    const s = this.services.get(owner);
    if (!s) return;
    s.slices.delete(sk);
    this.dirty.add(s);
  }

  /**
   * The routed (mesh) Service ports, `namespace/name:port` (the Service
   * port's number), and the node proxy's mesh listener port: each such
   * port's ClusterIP TCP frontend gets l7ProxyPort (BL_LB_F_L7) from the next
   * flush on; undefined proxyPort flags none. Only the Services whose flags
   * change are translated again, so the flush answers exactly their
   * frontends. Ports of Services not (yet) known take effect when they come.
   */
  setMeshFrontends(ports: ReadonlySet<string>, proxyPort: number | undefined): void {
    if (proxyPort !== undefined && (!Number.isInteger(proxyPort) || proxyPort < 1 || proxyPort > 65535)) {
      throw new UsageError(`mesh proxy port ${String(proxyPort)} is not a port number (1-65535)`);
    }
    for (const k of ports) if (!/^[^/:]+\/[^/:]+:\d+$/.test(k)) throw new UsageError(`mesh frontend '${k}' is not namespace/name:port`);
    const before = this.mesh;
    const after = { ports: new Set(ports), proxyPort };
    const changed = new Set<string>();
    const portChanged = before.proxyPort !== proxyPort;
    for (const k of before.ports) if (portChanged || !after.ports.has(k)) changed.add(k);
    for (const k of after.ports) if (portChanged || !before.ports.has(k)) changed.add(k);
    this.mesh = after;
    for (const k of changed) {
      const s = this.services.get(k.slice(0, k.lastIndexOf(':')));
      if (s) this.dirty.add(s);
    }
  }

  /** The mesh listener port for a frontend of service, when it is a routed port's ClusterIP TCP frontend. */
  private meshPort(service: string, f: { type: string; key: { port: number; protocol: string } }): number | undefined {
    const m = this.mesh;
    if (m.proxyPort === undefined || m.ports.size === 0 || f.type !== 'ClusterIP' || f.key.protocol !== 'TCP') return undefined;
    return m.ports.has(`${service}:${f.key.port}`) ? m.proxyPort : undefined;
  }

  /** Services waiting for a flush. */
  get pending(): number {
    return this.dirty.size;
  }

  /**
   * Translates what changed since the last flush. Apply the result in
   * LbDiff's order (backends, frontends, frontend deletions, backend deletions).
   */
  flush(): LbChange {
    const change: LbChange = { upsertFrontends: [], deleteFrontends: [], upsertBackends: [], deleteBackends: [], problems: new Map() };
    const first = !this.flushed;
    this.flushed = true;
    // Up to two rounds: the second retries services refused for room that the first freed.
    for (let round = 0; round < 2 && this.dirty.size > 0; round++) {
      const freed = this.flushRound(change, first && round === 0);
      if (!freed || this.refused.size === 0) break;
      for (const key of this.refused) {
        const s = this.services.get(key);
        if (s) this.dirty.add(s);
      }
    }
    return finish(change);
  }

  private flushRound(change: LbChange, first: boolean): boolean {
    const dirty = [...this.dirty];
    this.dirty.clear();

    // 1. Plan the changed services again (each on its own) and re-index their claims.
    const oldClaims = new Map<ServiceState, Claim[]>();
    // One reporter for the pass, pointed at the Service being planned: not a closure per Service.
    let planning: ServiceState | undefined;
    const report = (field: string, message: string, severity: 'error' | 'warning') => {
      if (planning!.planProblems === NO_PROBLEMS) planning!.planProblems = [];
      planning!.planProblems.push({ service: planning!.key, field, message, severity });
    };
    for (const s of dirty) {
      const key = s.key;
      if (s.claims.length > 0) oldClaims.set(s, s.claims);
      this.unclaim(s);
      s.planProblems = NO_PROBLEMS;
      s.plan = undefined;
      if (s.svc) {
        planning = s;
        s.plan = planService(s.svc, s.slices.size === 0 ? NO_SLICES : s.slices.size === 1 ? [s.slices.values().next().value!] : [...s.slices.values()], this.planOpts, report);
        if (s.plan && s.planProblems.length > 0 && s.planProblems.some((p) => p.severity === 'error')) s.plan = undefined;
      }
      s.claims = s.plan ? claimsOf(s.plan) : NO_CLAIMS;
      for (const c of s.claims) {
        const had = this.claimants.get(c);
        if (had === undefined) this.claimants.set(c, key);
        else if (typeof had === 'string') {
          if (had !== key) {
            this.claimants.set(c, new Set([had, key]));
            s.contested = true;
            this.services.get(had)!.contested = true;
          }
        } else {
          had.add(key);
          for (const k of had) this.services.get(k)!.contested = true;
        }
      }
    }

    // 2. Everything that competes with them, transitively, is judged again with them.
    const affected = new Set<ServiceState>(dirty);
    const queue = [...dirty];
    const seenClaim = new Set<Claim>();
    const visit = (c: Claim) => {
      const who = this.claimants.get(c);
      // Unclaimed, or claimed by this service alone (the usual case): no one to add, no bookkeeping.
      if (who === undefined || (typeof who === 'string' && who === owner.key)) return;
      if (seenClaim.has(c)) return;
      seenClaim.add(c);
      owner.contested = true;
      for (const key of typeof who === 'string' ? [who] : who) {
        const other = this.services.get(key)!;
        other.contested = true;
        if (!affected.has(other)) {
          affected.add(other);
          queue.push(other);
        }
      }
    };
    let owner: ServiceState;
    while (queue.length > 0) {
      owner = queue.pop()!;
      // Not contested after step 1: every claim it holds is its alone, so visiting them finds no one (a full pass: all of them).
      if (owner.contested) for (const c of owner.claims) visit(c);
      for (const c of oldClaims.get(owner) ?? NO_CLAIMS) visit(c);
    }
    const ordered = [...affected].sort((a, b) => cmp(a.order, b.order));

    // 3. Admission, oldest first, among the affected only (no one else claims their keys).
    const nodePortOwner = new Map<number, string>();
    const frontendOwner = new Map<string, string>();
    for (const s of ordered) {
      const problems = s.planProblems.length === 0 ? [] : [...s.planProblems];
      const plan = s.plan;
      // Uncontested: no one else claims its node ports or frontends, so no one can own them first.
      if (plan && s.contested) {
        const report = (field: string, message: string) => problems.push({ service: s.key, field, message, severity: 'error' });
        for (const [np, field] of plan.nodePorts) {
          const owner = nodePortOwner.get(np);
          if (owner !== undefined && owner !== s.key) report(field, `Invalid value: ${np}: provided port is already allocated`);
        }
        for (const f of plan.frontends) {
          // A node port already refused above needs no second report per node IP.
          if (f.type === 'NodePort' && (nodePortOwner.get(f.key.port) ?? s.key) !== s.key) continue;
          const owner = frontendOwner.get(f.keyText);
          if (owner !== undefined && owner !== s.key) {
            report(f.field, `Invalid value: ${JSON.stringify(f.type === 'NodePort' ? f.key.port : f.key.address)}: ${f.keyText} is already a frontend of service ${owner}`);
          }
        }
        if (!problems.some((p) => p.severity === 'error')) {
          for (const np of plan.nodePorts.keys()) nodePortOwner.set(np, s.key);
          for (const f of plan.frontends) frontendOwner.set(f.keyText, s.key);
        }
      }
      s.admitted = problems;
      s.contested = false;
    }

    // 4. Release first (so a key moving between services, or freed room, is there for the next), then take.
    const touchedBackends = new Set<string>();
    let freed = false;
    for (const s of ordered) {
      s.held = s.frontends;
      if (s.frontends.size > 0) {
        const keep = s.plan && !s.admitted!.some((p) => p.severity === 'error') ? new Set(s.plan.frontends.map((f) => f.keyText)) : new Set<string>();
        for (const [k, f] of s.frontends) {
          this.usedServiceEntries -= 1 + f.backends.length;
          if (f.algorithm === 'maglev') this.usedMaglevEntries -= this.capacity?.maglevTableSize ?? 0;
          this.programmedFrontends--;
          if (!keep.has(k)) this.frontendIds.release(k);
        }
        freed = true;
        s.frontends = NO_FRONTENDS;
      }
      if (s.backends.size > 0) {
        for (const [bk, b] of s.backends) {
          this.unref(bk, b);
          touchedBackends.add(bk);
        }
        s.backends = NO_BACKENDS;
      }
    }
    if (first && this.frontendIds.size + this.backendIds.size > 0) {
      // Ids restored from the maps that nothing wants any more are free again (none restored: nothing to free).
      // Admitted plans never share a frontend key (admission refuses the newer of two), so when as
      // many wanted keys hold an id as the allocator holds, every restored id is wanted and none is
      // freed: counted with one lookup per frontend instead of a 50k-key set and a filter over it.
      let wantedHeld = 0;
      for (const s of ordered) {
        if (!s.plan || s.admitted!.some((p) => p.severity === 'error')) continue;
        for (const f of s.plan.frontends) if (this.frontendIds.get(f.keyText) !== undefined) wantedHeld++;
      }
      if (wantedHeld !== this.frontendIds.size) {
        const wantF = new Set<string>();
        for (const s of ordered) {
          if (!s.plan || s.admitted!.some((p) => p.severity === 'error')) continue;
          for (const f of s.plan.frontends) wantF.add(f.keyText);
        }
        this.frontendIds.retainOnly(wantF);
      }
    }
    // Restored backend ids nothing wants are freed after the Services take theirs (below): backends are
    // shared, so the wanted set is what the Services hold references on, not 4 keys × 50k Services added
    // to a set. Freed ids are reused only once all 2^32 are handed out, so freeing them after changes nothing.
    const retainBackends = first && this.backendIds.size > 0;
    for (const s of ordered) {
      const problems = s.admitted!;
      s.admitted = undefined;
      s.refusedForRoom = false;
      if (this.refused.size > 0) this.refused.delete(s.key);
      if (s.plan && !problems.some((p) => p.severity === 'error')) this.take(s, s.plan, problems, touchedBackends);
      if (s.refusedForRoom) this.refused.add(s.key);
      const before = s.problems;
      s.problems = problems.length === 0 ? NO_PROBLEMS : problems;
      if (!sameProblems(before, problems)) change.problems.set(s.key, s.problems);
    }
    if (retainBackends) {
      // Admitted but refused for room: what they name keeps its restored id for when room frees up.
      const refusedWant = new Set<string>();
      for (const s of ordered) if (s.refusedForRoom && s.plan) for (const b of s.plan.backends.keys()) refusedWant.add(b);
      this.backendIds.retainOnly({ has: (k) => this.backendRefs.has(k) || refusedWant.has(k) });
    }

    // 5. Report what differs from before.
    for (const s of ordered) {
      const old = s.held!;
      s.held = undefined;
      for (const [k, f] of s.frontends) {
        const p = old.get(k);
        if (!p || !sameFrontend(p, f)) change.upsertFrontends.push(f);
      }
      for (const [k, f] of old) if (!s.frontends.has(k)) change.deleteFrontends.push(f);
      if (!s.svc && s.slices.size === 0) this.services.delete(s.key);
    }
    for (const bk of touchedBackends) {
      const ref = this.backendRefs.get(bk);
      if (!ref) continue;
      if (ref.refs === 0) {
        if (ref.row) change.deleteBackends.push(ref.row);
        this.backendIds.release(bk);
        this.backendRefs.delete(bk);
        continue;
      }
      const row = mergedRow(ref);
      if (!ref.row || !sameBackend(ref.row, row)) change.upsertBackends.push(row);
      ref.row = row;
    }
    return freed;
  }

  /** Gives service s its ids, backend references and room; on failure, an error and nothing. */
  private take(s: ServiceState, plan: ServicePlan, problems: LbProblem[], touched: Set<string>): void {
    const refuse = (message: string, room: boolean, code: NonNullable<LbProblem['code']> = 'BL_ERR_LB_MAP_FULL') => {
      problems.push({ service: s.key, field: 'spec.ports', message, severity: 'error', code });
      s.refusedForRoom = room;
    };
    // Room first: nothing is taken for a service that does not fit.
    const entries = plan.frontends.reduce((n, f) => n + 1 + f.backends.length, 0);
    const cap = this.capacity;
    if (cap && this.usedServiceEntries + entries > cap.serviceEntries) {
      return refuse(`Internal error: service map full: needs ${entries} entries, ${cap.serviceEntries - this.usedServiceEntries} of ${cap.serviceEntries} free (--bpf-lb-map-max); not programmed`, true);
    }
    const maglevNeed = plan.algorithm === 'maglev' ? plan.frontends.length * (cap?.maglevTableSize ?? 0) : 0;
    if (cap?.maglevEntries !== undefined && this.usedMaglevEntries + maglevNeed > cap.maglevEntries) {
      return refuse(
        `Internal error: Maglev map full: needs ${maglevNeed} entries (${plan.frontends.length} frontends × table size ${cap.maglevTableSize}), ${cap.maglevEntries - this.usedMaglevEntries} of ${cap.maglevEntries} free; not programmed`,
        true,
      );
    }
    let newBackends = 0;
    for (const k of plan.backends.keys()) if (!this.backendRefs.has(k)) newBackends++;
    if (cap && this.backendRefs.size + newBackends > cap.backendEntries) {
      return refuse(`Internal error: backend map full: needs ${newBackends} new entries, ${cap.backendEntries - this.backendRefs.size} of ${cap.backendEntries} free (--bpf-lb-map-max); not programmed`, true);
    }
    const newF: string[] = [];
    // Ids by the frontend's index in the plan; handed out in key order (new ids count up in it).
    const fids: number[] = new Array(plan.frontends.length);
    const byKey: readonly number[] = plan.frontends.length > 1 ? plan.frontends.map((_, i) => i).sort((a, b) => cmp(plan.frontends[a]!.keyText, plan.frontends[b]!.keyText)) : plan.frontends.length === 1 ? ONE : NONE;
    for (const i of byKey) {
      const f = plan.frontends[i]!;
      const had = this.frontendIds.get(f.keyText);
      const id = had ?? this.frontendIds.acquire(f.keyText);
      if (id === undefined) {
        newF.forEach((k) => this.frontendIds.release(k));
        return refuse(
          `Internal error: no free frontend id (${this.frontendIds.min}-${this.frontendIds.max} all in use: a frontend's id is the datapath's 16-bit rev_nat_index, so a node programs at most ${this.frontendIds.max - this.frontendIds.min + 1} frontends, one per cluster IP, external IP and load-balancer IP per port, node IPs + 1 per node port); needs ${plan.frontends.length}; not programmed`,
          true,
          'BL_ERR_LB_FRONTEND_IDS',
        );
      }
      if (had === undefined) newF.push(f.keyText);
      fids[i] = id;
    }
    const bids = new Map<string, number>();
    const newB: string[] = [];
    // Every backend already referenced (all but the first Services of a pass that share them): their ids are known, no order to keep.
    if (newBackends > 0) for (const key of plan.backends.size > 1 ? [...plan.backends.keys()].sort() : plan.backends.keys()) {
      const had = this.backendRefs.get(key)?.id ?? this.backendIds.get(key);
      const id = had ?? this.backendIds.acquire(key);
      if (id === undefined) {
        newF.forEach((k) => this.frontendIds.release(k));
        newB.forEach((k) => this.backendIds.release(k));
        return refuse(`Internal error: no free backend id (${this.backendIds.min}-${this.backendIds.max} all in use)`, true);
      }
      if (had === undefined) newB.push(key);
      bids.set(key, id);
    }
    for (const [key, b] of plan.backends) {
      let ref = this.backendRefs.get(key);
      if (!ref) this.backendRefs.set(key, (ref = { id: bids.get(key)!, refs: 0, active: 0, info: b, row: undefined }));
      else if (newBackends === 0) bids.set(key, ref.id);
      ref.refs++;
      if (b.state === 'active') ref.active++;
      ref.info = b;
      touched.add(key);
    }
    // The plan is the service's own and never changed after planning: its map is kept, not copied.
    s.backends = plan.backends;
    // A new map: the one the service had is the flush's record of what it held before.
    s.frontends = new Map();
    for (let i = 0; i < plan.frontends.length; i++) {
      const f = plan.frontends[i]!;
      const out: Frontend = {
        id: fids[i]!,
        key: f.key,
        type: f.type,
        service: plan.service,
        portName: f.portName,
        backends: f.backends.map((k) => bids.get(k)!).sort((a, b) => a - b),
        // Shared by the plan's frontends, never changed: a copy each is 50k objects in a full pass.
        trafficPolicy: plan.trafficPolicy,
        algorithm: plan.algorithm,
        noBackends: f.backends.length === 0,
      };
      if (plan.affinity) out.affinity = { ...plan.affinity };
      const l7 = this.meshPort(plan.service, f);
      if (l7 !== undefined) out.l7ProxyPort = l7;
      s.frontends.set(f.keyText, out);
      this.usedServiceEntries += 1 + out.backends.length;
      if (out.algorithm === 'maglev') this.usedMaglevEntries += cap?.maglevTableSize ?? 0;
      this.programmedFrontends++;
    }
  }

  private unclaim(s: ServiceState): void {
    for (const c of s.claims) {
      const who = this.claimants.get(c);
      if (who === s.key) this.claimants.delete(c);
      else if (typeof who === 'object') {
        who.delete(s.key);
        if (who.size === 1) this.claimants.set(c, who.values().next().value!);
      }
    }
    s.claims = NO_CLAIMS;
  }

  private unref(bk: string, b: PlannedBackend): void {
    const ref = this.backendRefs.get(bk);
    if (!ref) return;
    ref.refs--;
    if (b.state === 'active') ref.active--;
  }

  /** The whole model, sorted (O(services): for listings and tests, not per change). */
  model(): LbModel {
    const ordered = [...this.services.values()].sort((a, b) => cmp(a.order, b.order));
    const frontends = ordered.flatMap((s) => [...s.frontends.values()]).sort(compareFrontends);
    const backends = [...this.backendRefs.values()].map((r) => r.row ?? mergedRow(r)).sort((a, b) => a.id - b.id);
    return { frontends, backends, problems: ordered.flatMap((s) => s.problems) };
  }

  /** The key text of every programmed frontend (unsorted: for membership, O(frontends)). */
  programmedFrontendKeys(): Set<string> {
    const out = new Set<string>();
    for (const s of this.services.values()) for (const k of s.frontends.keys()) out.add(k);
    return out;
  }

  /** The id of every programmed backend. */
  programmedBackendIds(): Set<number> {
    const out = new Set<number>();
    for (const r of this.backendRefs.values()) out.add(r.id);
    return out;
  }

  /** Frontends programmed (cheap: counted, not listed). */
  get frontendCount(): number {
    return this.programmedFrontends;
  }

  /** Backends programmed. */
  get backendCount(): number {
    return this.backendRefs.size;
  }

  /** Entries the programmed frontends take in the service map. */
  get serviceEntries(): number {
    return this.usedServiceEntries;
  }
}

/** What services compete for: a node port (on every node address at once) or one frontend key. */
type Claim = number | string;

function claimsOf(plan: ServicePlan): Claim[] {
  const out: Claim[] = [...plan.nodePorts.keys()];
  for (const f of plan.frontends) out.push(f.keyText);
  return out;
}

/** One row for a backend several services may name: active when any of them sees it ready. */
function mergedRow(ref: BackendRef): Backend {
  const b = ref.info;
  const out: Backend = { id: ref.id, address: b.address, port: b.port, protocol: b.protocol, state: ref.active > 0 ? 'active' : 'terminating' };
  if (b.nodeName !== undefined) out.nodeName = b.nodeName;
  if (b.zone !== undefined) out.zone = b.zone;
  return out;
}

function sameProblems(a: LbProblem[], b: LbProblem[]): boolean {
  return a.length === b.length && a.every((p, i) => p.field === b[i]!.field && p.message === b[i]!.message && p.severity === b[i]!.severity && p.code === b[i]!.code);
}

/**
 * A frontend key can leave one service and join another in one flush (the
 * older owner was deleted): it is an upsert, not a deletion. A backend that
 * went and came back in one flush likewise.
 */
function finish(change: LbChange): LbChange {
  if (change.deleteFrontends.length === 0 && change.deleteBackends.length === 0) return change;
  const up = new Set(change.upsertFrontends.map((f) => f.key.address + ':' + f.key.port + '/' + f.key.protocol));
  change.deleteFrontends = change.deleteFrontends.filter((f) => !up.has(f.key.address + ':' + f.key.port + '/' + f.key.protocol));
  const upB = new Set(change.upsertBackends.map((b) => b.id));
  change.deleteBackends = change.deleteBackends.filter((b) => !upB.has(b.id));
  return change;
}

/**
 * Translates every Service and EndpointSlice at once (the reference the
 * incremental path must agree with). Ids come from the given allocators, so
 * calls that share them keep ids stable; keys no longer wanted are released.
 * Throws UsageError only for bad options (a node IP or pool that is not IPv4).
 */
export function servicesToLb(services: StoreObject[], slices: StoreObject[], opts: LbOptions): LbModel {
  const t = new LbTranslator(opts);
  for (const s of services) t.upsertService(s);
  for (const s of slices) t.upsertSlice(s);
  t.flush();
  return t.model();
}

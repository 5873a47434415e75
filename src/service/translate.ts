/**
 * The pure core of the kube-proxy replacement: Services and EndpointSlices in,
 * the load-balancer model a node programs into its eBPF maps out, in the
 * shape of Cilium's LB maps (bpf/lib/lb.h):
 *
 *   frontend (address, port, protocol)  → service entry: backend ids, rev-NAT id,
 *                                          flags (affinity, traffic policy, algorithm)
 *   frontend id (u16)                    → reverse NAT: the frontend's address and port
 *   backend id (u32)                     → backend: address, port, protocol, state
 *
 * One Frontend per address a service is reachable at, per service port:
 * its ClusterIP; with type NodePort or LoadBalancer every node IP at the node
 * port plus the 0.0.0.0 "any address" surrogate (Cilium's, for node addresses
 * not listed); each status.loadBalancer.ingress[].ip; each spec.externalIPs.
 *
 * EndpointSlices labelled kubernetes.io/service-name are the only source of
 * backends, for services with and without a selector alike. A slice port
 * belongs to the service port of the same name and protocol; slices already
 * carry resolved target ports.
 *
 * Bad input does not throw: each problem is reported with the field the
 * apiserver would name. A service with an error gets no frontends at all
 * (never half-programmed); warnings skip only the piece they name.
 *
 * This module holds the per-service plan (planService), the model's types,
 * ids and the diff; src/service/translator.ts judges services against each
 * other (port and address collisions, ids, map room), incrementally.
 *
 * IPv4 only: IPv6 addresses are skipped (with a warning where a user wrote them).
 */
import { UsageError } from '../common/errors.js';
import { cidrContains, tryParseIPv4, type Cidr4 } from '../ipam/cidr.js';
import type { EndpointSlice, Service } from '../k8s/types.js';
import { namespaceOf as nsOf } from '../k8s/types.js';

export type LbProtocol = 'TCP' | 'UDP';
export type FrontendType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalIP';
export type LbAlgorithm = 'random' | 'maglev';
export type LbTrafficPolicy = 'Cluster' | 'Local';
export type BackendState = 'active' | 'terminating';

/** Cilium's per-service algorithm annotation (honoured when --bpf-lb-algorithm-annotation is on). */
export const LB_ALGORITHM_ANNOTATION = 'service.cilium.io/lb-algorithm';
/** The label tying an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Kubernetes' default sessionAffinityConfig.clientIP.timeoutSeconds (3 hours). */
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10800;
/** Kubernetes' upper bound for the affinity timeout (1 day). */
export const MAX_AFFINITY_TIMEOUT_SECONDS = 86400;
/** Kubernetes' default --service-node-port-range. */
export const NODE_PORT_MIN = 30000;
export const NODE_PORT_MAX = 32767;
/** The NodePort "any address" surrogate frontend. */
export const ANY_ADDRESS = '0.0.0.0';
/**
 * Frontend (service / rev-NAT) ids are u16, 0 meaning none: the datapath's
 * rev_nat_index (abi/lb.h, and conntrack entries in abi/ct.h) is 16 bits, so a
 * node programs at most 65,535 frontends. Past that a Service is refused with
 * BL_ERR_LB_FRONTEND_IDS, nothing of it written; the others keep working.
 */
export const FRONTEND_ID_RANGE = { min: 1, max: 0xffff } as const;
/** Backend ids are u32, 0 meaning none. */
export const BACKEND_ID_RANGE = { min: 1, max: 0xffffffff } as const;

export interface FrontendKey {
  address: string;
  port: number;
  protocol: LbProtocol;
}

export interface Frontend {
  /** Service / rev-NAT id (u16), stable while this key exists. */
  id: number;
  key: FrontendKey;
  type: FrontendType;
  /** `namespace/name`. */
  service: string;
  /** The service port's name ('' when unnamed). */
  portName: string;
  /**
   * The backend ids this frontend picks from, ascending: the ready ones its
   * traffic policy allows; when none is ready, the serving and terminating
   * ones (Kubernetes' and Cilium's fallback).
   */
  backends: number[];
  /** Present with sessionAffinity ClientIP. */
  affinity?: { timeoutSeconds: number };
  trafficPolicy: { external: LbTrafficPolicy; internal: LbTrafficPolicy };
  algorithm: LbAlgorithm;
  /** No backend to pick: the datapath rejects (drop / ICMP unreachable) instead of forwarding. */
  noBackends: boolean;
  /**
   * A routed (mesh) Service port's ClusterIP TCP frontend: the node proxy's
   * mesh listener port. Pods' connections to it go to the proxy as they are
   * (BL_LB_F_L7, the port in the master entry); the node's own keep the
   * backends. Absent: load-balanced as usual.
   */
  l7ProxyPort?: number;
}

export interface Backend {
  /** u32, stable while this address:port/protocol exists. */
  id: number;
  address: string;
  port: number;
  protocol: LbProtocol;
  /** `active` when ready; `terminating` when serving but terminating (kept for existing connections and as the fallback). */
  state: BackendState;
  nodeName?: string;
  zone?: string;
}

export interface LbProblem {
  /** `namespace/name` of the service. */
  service: string;
  /** The field as the apiserver names it, e.g. `spec.ports[0].nodePort`; slice fields as `EndpointSlice <name>: ports[1]`. */
  field: string;
  message: string;
  /** `error`: the service gets no frontends. `warning`: only the named piece is skipped. */
  severity: 'error' | 'warning';
  /**
   * For refusals of a node's capacity (docs/errors.md, "Service problems"):
   * BL_ERR_LB_MAP_FULL (a service, backend or Maglev map has no room) or
   * BL_ERR_LB_FRONTEND_IDS (all 65,535 frontend ids in use). Absent for
   * problems of the Service itself.
   */
  code?: 'BL_ERR_LB_MAP_FULL' | 'BL_ERR_LB_FRONTEND_IDS';
}

export interface LbModel {
  /** Sorted by service, port name, type, address, port, protocol. */
  frontends: Frontend[];
  /** Every backend of a programmed service port, active or terminating; sorted by id. */
  backends: Backend[];
  problems: LbProblem[];
}

export interface LbOptions {
  /** This node: Local traffic policies keep the backends whose endpoint nodeName is this. */
  nodeName: string;
  /** This node's IPv4 addresses, where NodePorts listen (besides 0.0.0.0). */
  nodeIPs: string[];
  /**
   * CIDRs LoadBalancer ingress IPs must fall in (LB-IPAM pools). When set, an
   * ingress IP outside them is not programmed (warning), so whoever can write
   * a Service's status cannot take over arbitrary addresses. Unset: any.
   */
  lbPool?: string[];
  /** Frontend ids; keep one across calls for stable ids. Default: a fresh one. */
  frontendIds?: IdAllocator;
  /** Backend ids; keep one across calls for stable ids. Default: a fresh one. */
  backendIds?: IdAllocator;
  /** The cluster's --bpf-lb-algorithm; default `random`. */
  defaultAlgorithm?: LbAlgorithm;
  /** Honour LB_ALGORITHM_ANNOTATION (Cilium's --bpf-lb-algorithm-annotation); default true. */
  algorithmAnnotation?: boolean;
}


// ---------------------------------------------------------------------------
// Ids

/**
 * Stable small-integer ids for string keys, in [min, max]. New keys get
 * never-used ids first (counting up); released ids are reused only when those
 * run out, oldest-released first, so an id a conntrack entry may still name is
 * reused as late as possible. Pure and deterministic.
 */
export class IdAllocator {
  readonly min: number;
  readonly max: number;
  private readonly byKey = new Map<string, number>();
  private readonly byId = new Map<number, string>();
  private readonly free: number[] = [];
  private next: number;

  /** `existing`: ids already in use (e.g. read back from the BPF maps after a restart). */
  constructor(range: { min: number; max: number }, existing?: Iterable<readonly [string, number]>) {
    if (!Number.isSafeInteger(range.min) || !Number.isSafeInteger(range.max) || range.min < 0 || range.max < range.min) {
      throw new UsageError(`id range ${range.min}-${range.max} is not a range of non-negative integers`);
    }
    this.min = range.min;
    this.max = range.max;
    this.next = range.min;
    for (const [key, id] of existing ?? []) {
      if (!Number.isSafeInteger(id) || id < this.min || id > this.max) throw new UsageError(`id ${id} of '${key}' is outside ${this.min}-${this.max}`);
      if (this.byKey.has(key)) throw new UsageError(`key '${key}' given twice`);
      if (this.byId.has(id)) throw new UsageError(`id ${id} given to both '${this.byId.get(id)}' and '${key}'`);
      this.byKey.set(key, id);
      this.byId.set(id, key);
      if (id >= this.next) this.next = id + 1;
    }
    // Gaps below the highest restored id are free, lowest first.
    for (let id = this.min; id < this.next; id++) if (!this.byId.has(id)) this.free.push(id);
  }

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): number | undefined {
    return this.byKey.get(key);
  }

  keyOf(id: number): string | undefined {
    return this.byId.get(id);
  }

  /** The key's id, allocating one if it has none; undefined when every id is taken. */
  acquire(key: string): number | undefined {
    const had = this.byKey.get(key);
    if (had !== undefined) return had;
    let id: number | undefined;
    if (this.next <= this.max) id = this.next++;
    else id = this.free.shift();
    if (id === undefined) return undefined;
    this.byKey.set(key, id);
    this.byId.set(id, key);
    return id;
  }

  /** Frees the key's id; answers it, or undefined when the key had none. */
  release(key: string): number | undefined {
    const id = this.byKey.get(key);
    if (id === undefined) return undefined;
    this.byKey.delete(key);
    this.byId.delete(id);
    this.free.push(id);
    return id;
  }

  /** Releases every key not in `keep` (in key order); answers what was released. */
  retainOnly(keep: { has(key: string): boolean }): [string, number][] {
    const gone = [...this.byKey.keys()].filter((k) => !keep.has(k)).sort();
    return gone.map((k) => [k, this.release(k)!]);
  }

  /** Every [key, id], by key. */
  entries(): [string, number][] {
    return [...this.byKey.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }
}

/** `10.96.0.10:80/TCP`: the frontend id allocator's key. */
export function frontendKeyString(k: FrontendKey): string {
  return `${k.address}:${k.port}/${k.protocol}`;
}

/** `10.0.1.5:8080/TCP`: the backend id allocator's key. */
export function backendKeyString(b: { address: string; port: number; protocol: LbProtocol }): string {
  return `${b.address}:${b.port}/${b.protocol}`;
}

// ---------------------------------------------------------------------------
// Translation

const TYPE_ORDER: Record<FrontendType, number> = { ClusterIP: 0, ExternalIP: 1, LoadBalancer: 2, NodePort: 3 };

/** A backend before it has an id: `key` names its address:port/protocol. */
export interface PlannedBackend extends Omit<Backend, 'id'> {
  key: string;
}

export interface PlannedFrontend {
  key: FrontendKey;
  keyText: string;
  type: FrontendType;
  portName: string;
  /** The field that asked for this frontend, for collision reports. */
  field: string;
  /** Backend keys, in the order of the slices (the translator sorts the ids they map to). */
  backends: string[];
}

export interface ServicePlan {
  service: string;
  frontends: PlannedFrontend[];
  backends: Map<string, PlannedBackend>;
  /** nodePort → field, for collision checks. */
  nodePorts: Map<number, string>;
  affinity?: { timeoutSeconds: number };
  trafficPolicy: { external: LbTrafficPolicy; internal: LbTrafficPolicy };
  algorithm: LbAlgorithm;
}

/** One scan of the characters (tryParseIPv4): cheaper than a cache keyed by the text, which hashes 50k fresh strings per full pass. */
const isIPv4 = (s: unknown): s is string => typeof s === 'string' && tryParseIPv4(s) !== undefined;
const TRAFFIC_POLICIES: readonly ServicePlan['trafficPolicy'][] = [
  Object.freeze({ external: 'Cluster', internal: 'Cluster' } as const),
  Object.freeze({ external: 'Cluster', internal: 'Local' } as const),
  Object.freeze({ external: 'Local', internal: 'Cluster' } as const),
  Object.freeze({ external: 'Local', internal: 'Local' } as const),
];
const NO_NODE_PORTS: Map<number, string> = new Map();
const isPort = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 65535;
const q = (v: unknown) => JSON.stringify(v);

function compareAddr(a: string, b: string): number {
  return (tryParseIPv4(a) ?? 0) - (tryParseIPv4(b) ?? 0);
}

export function compareFrontends(a: Frontend, b: Frontend): number {
  return (
    (a.service < b.service ? -1 : a.service > b.service ? 1 : 0) ||
    (a.portName < b.portName ? -1 : a.portName > b.portName ? 1 : 0) ||
    TYPE_ORDER[a.type] - TYPE_ORDER[b.type] ||
    compareAddr(a.key.address, b.key.address) ||
    a.key.port - b.key.port ||
    (a.key.protocol < b.key.protocol ? -1 : a.key.protocol > b.key.protocol ? 1 : 0)
  );
}

/** Endpoint conditions as Kubernetes defines them: ready nil → true, serving nil → ready, terminating nil → false. */
function endpointState(c: { ready?: boolean; serving?: boolean; terminating?: boolean } | undefined): BackendState | undefined {
  const ready = c?.ready ?? true;
  const serving = c?.serving ?? ready;
  const terminating = c?.terminating ?? false;
  if (ready) return 'active';
  if (serving && terminating) return 'terminating';
  return undefined;
}

/**
 * Everything one service asks for, or its errors. Pure; touches no ids and
 * no cross-service state (collisions are checked by the caller).
 */
export function planService(
  svc: Service,
  slices: EndpointSlice[],
  opts: { nodeName: string; nodeIPs: string[]; pools: Cidr4[] | undefined; defaultAlgorithm: LbAlgorithm; algorithmAnnotation: boolean },
  report: (field: string, message: string, severity: 'error' | 'warning') => void,
): ServicePlan | undefined {
  const service = `${nsOf(svc)}/${svc.metadata.name}`;
  const spec = (svc.spec ?? {}) as Service['spec'];
  const type = spec.type ?? 'ClusterIP';
  // ExternalName (or anything else) is DNS only; headless services are DNS only.
  if (type !== 'ClusterIP' && type !== 'NodePort' && type !== 'LoadBalancer') return undefined;
  if (spec.clusterIP === 'None') return undefined;
  let ok = true;
  const error = (field: string, message: string) => {
    ok = false;
    report(field, message, 'error');
  };
  const warn = (field: string, message: string) => report(field, message, 'warning');

  // Affinity.
  let affinity: { timeoutSeconds: number } | undefined;
  if (spec.sessionAffinity === 'ClientIP') {
    const t = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_TIMEOUT_SECONDS;
    if (!Number.isInteger(t) || t < 1 || t > MAX_AFFINITY_TIMEOUT_SECONDS) {
      error('spec.sessionAffinityConfig.clientIP.timeoutSeconds', `Invalid value: ${q(t)}: must be greater than 0 and less than ${MAX_AFFINITY_TIMEOUT_SECONDS}`);
    } else {
      affinity = { timeoutSeconds: t };
    }
  }
  // One of four shared, frozen objects: every frontend of every Service points at one (never changed).
  const trafficPolicy = TRAFFIC_POLICIES[(spec.externalTrafficPolicy === 'Local' ? 2 : 0) + (spec.internalTrafficPolicy === 'Local' ? 1 : 0)]!;

  // Algorithm.
  let algorithm = opts.defaultAlgorithm;
  const ann = svc.metadata.annotations?.[LB_ALGORITHM_ANNOTATION];
  if (ann !== undefined && opts.algorithmAnnotation) {
    if (ann === 'random' || ann === 'maglev') algorithm = ann;
    else warn(`metadata.annotations[${LB_ALGORITHM_ANNOTATION}]`, `Unsupported value: ${q(ann)}: supported values: "maglev", "random"; using ${q(algorithm)}`);
  }

  // Addresses.
  const clusterIP = spec.clusterIP;
  let clusterAddr: string | undefined;
  if (clusterIP !== undefined && clusterIP !== '') {
    if (isIPv4(clusterIP)) clusterAddr = clusterIP;
    else warn('spec.clusterIP', `Invalid value: ${q(clusterIP)}: not an IPv4 address; not load-balanced (IPv4 only)`);
  }
  const externalIPs: { ip: string; field: string }[] = [];
  (spec.externalIPs ?? []).forEach((ip, i) => {
    if (isIPv4(ip)) externalIPs.push({ ip, field: `spec.externalIPs[${i}]` });
    else warn(`spec.externalIPs[${i}]`, `Invalid value: ${q(ip)}: not an IPv4 address; skipped`);
  });
  const lbIPs: { ip: string; field: string }[] = [];
  if (type === 'LoadBalancer') {
    const ingress = (svc.status as Service['status'])?.loadBalancer?.ingress ?? [];
    ingress.forEach((ing, i) => {
      const field = `status.loadBalancer.ingress[${i}].ip`;
      if (ing.ip === undefined) return; // hostname-only ingress: nothing to program
      if (!isIPv4(ing.ip)) return warn(field, `Invalid value: ${q(ing.ip)}: not an IPv4 address; skipped`);
      if (opts.pools && !opts.pools.some((p) => cidrContains(p, tryParseIPv4(ing.ip!)!))) {
        return warn(field, `Invalid value: ${q(ing.ip)}: not in any load-balancer pool (${opts.pools.map((p) => p.text).join(', ')}); skipped`);
      }
      lbIPs.push({ ip: ing.ip, field });
    });
  }
  const withNodePorts = type === 'NodePort' || type === 'LoadBalancer';

  // Ports.
  const ports = spec.ports ?? [];
  // Duplicates need two ports: a Service with one (most) allocates no sets for them.
  const seenPort = ports.length > 1 ? new Set<string>() : undefined;
  // Only NodePort and LoadBalancer Services have node ports: the others share one empty map.
  const nodePorts = withNodePorts ? new Map<number, string>() : NO_NODE_PORTS;
  const seenNodePort = ports.length > 1 ? new Set<string>() : undefined;
  const usable: { index: number; name: string; port: number; protocol: LbProtocol; nodePort?: number }[] = [];
  ports.forEach((sp, i) => {
    const at = `spec.ports[${i}]`;
    const protocol = sp.protocol ?? 'TCP';
    if (protocol !== 'TCP' && protocol !== 'UDP') {
      return warn(`${at}.protocol`, `Unsupported value: ${q(protocol)}: only TCP and UDP are load-balanced; port skipped`);
    }
    if (!isPort(sp.port)) return error(`${at}.port`, `Invalid value: ${q(sp.port)}: must be between 1 and 65535, inclusive`);
    if (seenPort) {
      const pk = `${sp.port}/${protocol}`;
      if (seenPort.has(pk)) return error(at, `Duplicate value: ${q({ port: sp.port, protocol })}`);
      seenPort.add(pk);
    }
    let nodePort: number | undefined;
    if (sp.nodePort !== undefined && sp.nodePort !== 0) {
      if (!withNodePorts) {
        warn(`${at}.nodePort`, "Forbidden: may not be used when `type` is 'ClusterIP'; ignored");
      } else if (!Number.isInteger(sp.nodePort) || sp.nodePort < NODE_PORT_MIN || sp.nodePort > NODE_PORT_MAX) {
        return error(`${at}.nodePort`, `Invalid value: ${q(sp.nodePort)}: provided port is not in the valid range. The range of valid ports is ${NODE_PORT_MIN}-${NODE_PORT_MAX}`);
      } else {
        if (seenNodePort) {
          const nk = `${sp.nodePort}/${protocol}`;
          if (seenNodePort.has(nk)) return error(`${at}.nodePort`, `Duplicate value: ${sp.nodePort}`);
          seenNodePort.add(nk);
        }
        if (!nodePorts.has(sp.nodePort)) nodePorts.set(sp.nodePort, `${at}.nodePort`);
        nodePort = sp.nodePort;
      }
    }
    const u: (typeof usable)[number] = { index: i, name: sp.name ?? '', port: sp.port, protocol };
    if (nodePort !== undefined) u.nodePort = nodePort;
    usable.push(u);
  });
  if (!ok) return undefined;

  // Backends per service port, from the slices.
  const byPort = new Map<string, Map<string, PlannedBackend>>(); // `${name}/${protocol}` → backends
  for (const u of usable) byPort.set(`${u.name}/${u.protocol}`, new Map());
  // With one service port (most Services) the union over ports is that port's map: one map, not two.
  const single = usable.length === 1 ? byPort.values().next().value! : undefined;
  const all = single ?? new Map<string, PlannedBackend>();
  const sortedSlices = slices.length < 2 ? slices : [...slices].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  for (const slice of sortedSlices) {
    if (slice.addressType !== 'IPv4') continue; // IPv6 and FQDN slices are not ours to program
    (slice.ports ?? []).forEach((ep, j) => {
      const name = ep.name ?? '';
      const protocol = (ep.protocol ?? 'TCP') as LbProtocol; // checked by the lookup below
      if (protocol !== 'TCP' && protocol !== 'UDP') return; // reported on the service port already
      const target = byPort.get(`${name}/${protocol}`);
      if (!target) return warn(`EndpointSlice ${slice.metadata.name}: ports[${j}]`, `no service port named ${q(name)} with protocol ${protocol}; ignored`);
      if (!isPort(ep.port)) return warn(`EndpointSlice ${slice.metadata.name}: ports[${j}].port`, `Invalid value: ${q(ep.port ?? null)}: must be between 1 and 65535; ignored`);
      for (const e of slice.endpoints ?? []) {
        const address = e.addresses?.[0]; // kube-proxy, too, uses the first address only
        if (!isIPv4(address)) continue;
        const state = endpointState(e.conditions);
        if (!state) continue;
        const b: PlannedBackend = { key: backendKeyString({ address, port: ep.port, protocol }), address, port: ep.port, protocol, state };
        if (e.nodeName !== undefined) b.nodeName = e.nodeName;
        if (e.zone !== undefined) b.zone = e.zone;
        // The same endpoint in two slices (a move in progress): ready wins.
        const had = target.get(b.key);
        if (!had || (had.state !== 'active' && state === 'active')) target.set(b.key, b);
        if (single) continue;
        const hadAll = all.get(b.key);
        if (!hadAll || (hadAll.state !== 'active' && state === 'active')) all.set(b.key, b);
      }
    });
  }

  // One pass, two arrays at most: this runs for every frontend of every Service in a full pass.
  const pick = (backends: Map<string, PlannedBackend>, policy: LbTrafficPolicy): string[] => {
    const ready: string[] = [];
    let terminating: string[] | undefined;
    for (const b of backends.values()) {
      if (policy !== 'Cluster' && b.nodeName !== opts.nodeName) continue;
      if (b.state === 'active') ready.push(b.key);
      else if (ready.length === 0 && b.state === 'terminating') (terminating ??= []).push(b.key);
    }
    // Not sorted: the translator maps keys to ids and sorts those.
    return ready.length > 0 ? ready : (terminating ?? ready);
  };

  const frontends: PlannedFrontend[] = [];
  let seenKey: Set<string> | undefined;
  const add = (type: FrontendType, address: string, port: number, u: (typeof usable)[number], field: string) => {
    const key: FrontendKey = { address, port, protocol: u.protocol };
    const keyText = frontendKeyString(key);
    // The same address twice in one service (e.g. an external IP that is also its LB IP): once is enough.
    // A scan while there are a handful of frontends (almost always), a set past that.
    if (seenKey) {
      if (seenKey.has(keyText)) return;
      seenKey.add(keyText);
    } else {
      for (const f of frontends) if (f.keyText === keyText) return;
      if (frontends.length >= 16) seenKey = new Set([...frontends.map((f) => f.keyText), keyText]);
    }
    const policy = type === 'ClusterIP' ? trafficPolicy.internal : trafficPolicy.external;
    frontends.push({ key, keyText, type, portName: u.name, field, backends: pick(byPort.get(`${u.name}/${u.protocol}`)!, policy) });
  };
  for (const u of usable) {
    const at = `spec.ports[${u.index}]`;
    if (clusterAddr !== undefined) add('ClusterIP', clusterAddr, u.port, u, 'spec.clusterIP');
    for (const e of externalIPs) add('ExternalIP', e.ip, u.port, u, e.field);
    for (const l of lbIPs) add('LoadBalancer', l.ip, u.port, u, l.field);
    if (u.nodePort !== undefined) {
      for (const ip of [...opts.nodeIPs, ANY_ADDRESS]) add('NodePort', ip, u.nodePort, u, `${at}.nodePort`);
    }
  }
  const plan: ServicePlan = { service, frontends, backends: all, nodePorts, trafficPolicy, algorithm };
  if (affinity) plan.affinity = affinity;
  return plan;
}

// ---------------------------------------------------------------------------
// Diff

export interface LbDiff {
  /** New or changed frontends (a changed backend list, policy, affinity, algorithm or id). */
  upsertFrontends: Frontend[];
  /** Frontends whose key is gone; their ids (rev-NAT entries) go with them. */
  deleteFrontends: Frontend[];
  /** New or changed backends, by id. */
  upsertBackends: Backend[];
  /** Backends whose id is gone. */
  deleteBackends: Backend[];
}

/**
 * What turns `prev` into `next`. Frontends are matched by key (address,
 * port, protocol: the service map's key), backends by id (the backend map's
 * key). Apply in this order so no frontend ever names a missing backend:
 * upsertBackends, upsertFrontends, deleteFrontends, deleteBackends.
 */
export function diffLb(prev: LbModel, next: LbModel): LbDiff {
  const pf = new Map(prev.frontends.map((f) => [frontendKeyString(f.key), f]));
  const nf = new Map(next.frontends.map((f) => [frontendKeyString(f.key), f]));
  const pb = new Map(prev.backends.map((b) => [b.id, b]));
  const nb = new Map(next.backends.map((b) => [b.id, b]));
  return {
    upsertFrontends: next.frontends.filter((f) => {
      const p = pf.get(frontendKeyString(f.key));
      return !p || !sameFrontend(p, f);
    }),
    deleteFrontends: prev.frontends.filter((f) => !nf.has(frontendKeyString(f.key))),
    upsertBackends: next.backends.filter((b) => {
      const p = pb.get(b.id);
      return !p || !sameBackend(p, b);
    }),
    deleteBackends: prev.backends.filter((b) => !nb.has(b.id)),
  };
}

/** Field-by-field equality of two frontends (what diffLb compares; cheaper than serialising). */
export function sameFrontend(a: Frontend, b: Frontend): boolean {
  return (
    a.id === b.id &&
    a.key.address === b.key.address &&
    a.key.port === b.key.port &&
    a.key.protocol === b.key.protocol &&
    a.type === b.type &&
    a.service === b.service &&
    a.portName === b.portName &&
    a.algorithm === b.algorithm &&
    a.noBackends === b.noBackends &&
    a.l7ProxyPort === b.l7ProxyPort &&
    a.trafficPolicy.external === b.trafficPolicy.external &&
    a.trafficPolicy.internal === b.trafficPolicy.internal &&
    a.affinity?.timeoutSeconds === b.affinity?.timeoutSeconds &&
    a.backends.length === b.backends.length &&
    a.backends.every((id, i) => id === b.backends[i])
  );
}

/** Field-by-field equality of two backends. */
export function sameBackend(a: Backend, b: Backend): boolean {
  return a.id === b.id && a.address === b.address && a.port === b.port && a.protocol === b.protocol && a.state === b.state && a.nodeName === b.nodeName && a.zone === b.zone;
}

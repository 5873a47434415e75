/**
 * The agent's policy enforcement: NetworkPolicy, CiliumNetworkPolicy and
 * CiliumClusterwideNetworkPolicy from the store, identities from the
 * allocator, this node's endpoints in; the policy map entries and each
 * endpoint's enforcement flags out, through the pure engine (src/policy).
 *
 * A change marks what it touches: a policy the endpoints it selects (before
 * or after), an endpoint itself, identities, pods (named ports), Services and
 * CIDR identities every endpoint. A flush a few milliseconds later brings the
 * marked endpoints up to date through the engine's incremental path
 * (updateEndpoint: only the rules and selectors a change touches are
 * recomputed) and writes the entries it reports changed; against a map that
 * holds something else (an earlier agent's entries, a policy that did not
 * fit, a failed write) the whole entry lists are compared instead. An endpoint
 * whose policy would not fit its share of the map (--bpf-policy-map-max)
 * keeps the last policy it could enforce whole and reports why.
 *
 * L7 visibility without enforcement: a pod's proxy-visibility annotation
 * (else its namespace's; src/policy/visibility.ts) goes to the engine as
 * EndpointInfo.visibility; a change of it recomputes that endpoint, and what
 * of it cannot be honoured is logged once per change and reported as the
 * endpoint's problems (`policy get`).
 *
 * L7 redirects and the node proxy (docs/l7.md, "Reloads and the order of
 * writes"): an endpoint's policy whose L7 redirects the node proxy has not
 * yet acknowledged (a configuration with exactly those rule sets loaded by a
 * running worker) waits, as Cilium's endpoint regeneration waits for Envoy's
 * ACK: an endpoint with map state keeps all of it (entries and enforcement),
 * a new one gets its policy with the unacknowledged redirect entries as
 * denies (it had nothing allowed before). The proxy is handed the redirects
 * the map holds plus those waiting; once it acknowledges them, the waiting
 * endpoints are written. A redirect that goes is written out of the map
 * first and out of the proxy's configuration after (the next publish).
 *
 * Prefixes the policies name get node-local CIDR identities (Cilium's
 * local identity cache) which go into the ipcache, so the datapath sees the
 * world by prefix.
 */
import type { EndpointRedirects } from './proxy.js';
import type { PolicyEnforcement__Output } from '../api/generated/agent/PolicyEnforcement.js';
import type { Logger } from '../common/log.js';
import type { PolicyStatusWriter } from './policy-status.js';
import type { Informer, Store, StoreObject } from '../store/store.js';
import {
  PolicyRepository,
  diffEntries,
  originText,
  policyKeyOf,
  originOf,
  tracePolicy,
  protocolNumbers,
  podProxyVisibility,
  type EndpointInfo,
  type EndpointPolicy,
  type NamedPort,
  type PolicyMapEntry,
  type PolicyProblem,
  type CidrGroupInfo,
  type ServiceInfo,
  type TraceParty,
  type TraceResult,
  type EnforcementMode,
  type Origin,
  type L7Redirect,
  compareRedirects,
  toNodeProxy,
} from '../policy/index.js';
import { LocalIdentityAllocator, ReservedIdentity, type Identity } from '../identity/reserved.js';
import type { IdentityEvent } from '../identity/allocator.js';
import { canonicalLabels, labelSetKey, K8sLabel, type LabelSet } from '../identity/labels.js';
import { IDENTITY_INIT, initialPolicyFlags, type EndpointManager } from './endpoints.js';
import type { EndpointModel } from './types.js';
import { decodeEndpointPolicyFlags, endpointPolicyFlags, type PolicyDatapath, type PolicyMapRow } from '../datapath/policy.js';
import type { PodRef } from './flows.js';

export interface PolicyManagerOptions {
  enforcement: EnforcementMode;
  /** Cilium's --policy-audit-mode: what policy would drop is let through and reported as audit. */
  audit: boolean;
  allowLocalhost: boolean;
  /** Entries one endpoint may hold (Cilium's --bpf-policy-map-max). */
  policyMapMax: number;
  /** The node proxy's listener ports: HTTP rules of a direction with a port are redirected to it (PolicyOptions.proxyPorts). */
  proxyPorts?: { ingress?: number; egress?: number };
}

export interface PolicyManagerDeps {
  store: Store;
  /** Kubernetes mode: where this node's view of each Cilium policy is written (status.nodes.<node>). */
  policyStatus?: Pick<PolicyStatusWriter, 'report' | 'forget'>;
  datapath: PolicyDatapath;
  endpoints: EndpointManager;
  /** Every identity the cluster has (the allocator's cache), and a way to hear of changes. */
  identities: () => Identity[];
  onIdentityChange: (cb: (e?: IdentityEvent) => void) => () => void;
  /** The identity the ipcache gives an address (pod, node, CIDR identity, world). */
  identityOfIP: (ip: string) => number;
  /** Called when the CIDR identities change: the ipcache must follow. */
  cidrIdentitiesChanged: () => void;
  /**
   * Called after a flush that changed what the node proxy must hold: every
   * local endpoint's L7 redirects that the map holds or that wait to be
   * written, and a generation number. The proxy answers with
   * PolicyManager.proxyApplied(generation) once a configuration with them
   * runs; redirect entries wait for that. Absent: no proxy, no waiting.
   */
  redirectsChanged?: (endpoints: EndpointRedirects[], generation: number) => void;
  /**
   * Called after a flush that changed which local endpoints' ingress (as the
   * map now holds it) has an allow requiring mutual authentication
   * (ingressAuthRequired): their ipcache entries are published again with
   * the flag (issue 15).
   */
  authRequiredChanged?: (endpointIds: number[]) => void;
  log: Logger;
}

/** A policy as the node enforces it. */
export interface PolicyRow {
  key: string;
  resourceVersion: string;
  /** The rules in force: the accepted version's spec (specs for a CiliumNetworkPolicy with several). */
  spec: unknown;
  problems: PolicyProblem[];
  /** Local endpoints it selects, per direction. */
  selects: { id: number; pod: string; ingress: boolean; egress: boolean }[];
}

/** An endpoint's enforcement as `endpoint list` shows it: the contract's agent.PolicyEnforcement. */
export type PolicyEnforcement = PolicyEnforcement__Output;

/** One endpoint's enforcement. */
export interface EndpointPolicyRow {
  id: number;
  pod: string;
  identity: number;
  ingressEnforced: boolean;
  egressEnforced: boolean;
  /** An enforced direction without default deny drops only what a deny matches (enableDefaultDeny false). */
  ingressDefaultDeny: boolean;
  egressDefaultDeny: boolean;
  audit: boolean;
  entries: number;
  selectedBy: { ingress: string[]; egress: string[] };
  /** Why the policy in force is not the newest (did not fit), and problems applying it. */
  error?: string;
  problems: PolicyProblem[];
}

/** A party of a trace query: a pod (namespace/name), an address, or an identity. */
/**
 * A party of a trace query: a pod (namespace/name), an address, an identity,
 * or a set of labels (`k8s:app=web`; no source means k8s; the namespace label
 * `k8s:io.kubernetes.pod.namespace` defaults to `default`) as a pod with them
 * would carry.
 */
export type TraceQueryParty = { pod: string } | { ip: string } | { identity: number } | { labels: string[] };

export interface TraceQuery {
  src: TraceQueryParty;
  dst: TraceQueryParty;
  port: number;
  /** TCP, UDP, SCTP, ICMP. */
  protocol: string;
}

export interface TraceAnswer extends TraceResult {
  src: { identity: number; endpoint?: number; pod?: string };
  dst: { identity: number; endpoint?: number; pod?: string };
}

const NAMESPACE_LABEL = K8sLabel.podNamespace;
/** The labels of an endpoint with the init identity: reserved:init alone. */
const INIT_LABELS = canonicalLabels(['reserved:init']);
/** The stand-in identities of label sets a trace names: counted down from here, far from every real range. */
const TRACE_STAND_IN_IDENTITY = 0xfffffff0;

const POLICY_KINDS = ['NetworkPolicy', 'CiliumNetworkPolicy', 'CiliumClusterwideNetworkPolicy'] as const;

interface Written {
  /** The endpoint this was written for (undefined: an earlier agent's entries, not known yet). */
  model?: EndpointModel;
  /**
   * What the map holds for the endpoint when that is not the engine's last
   * update of it (an earlier agent's entries, a policy that did not fit, a
   * failed write); undefined when it is, and the engine's diffs apply as they come.
   */
  entries?: PolicyMapEntry[];
  /** How many entries the map holds for it. */
  count: number;
  flags: number;
  policy: EndpointPolicy;
  error?: string;
  /** The newer policy that waits for the node proxy to acknowledge its L7 redirects (`policy` is what the map holds). */
  waiting?: EndpointPolicy;
}

/** Why an endpoint's policy is not the newest while the node proxy has not acknowledged its L7 redirects. */
export const WAITING_FOR_PROXY = 'its HTTP rules wait for the node proxy to load them: the previous policy stays in force (beeline status: proxy)';

export class PolicyManager {
  readonly repo: PolicyRepository;
  private readonly informers = new Map<string, Informer>();
  /** The accepted version of each policy, for `policy get`. */
  private readonly accepted = new Map<string, StoreObject>();
  private readonly rejected = new Map<string, { resourceVersion: string; problems: PolicyProblem[] }>();
  private readonly written = new Map<number, Written>();
  private readonly dirty = new Set<number>();
  private allDirty = true;
  private synced = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly cidr = new LocalIdentityAllocator();
  private readonly cidrIds = new Map<string, number>();
  private unsub: (() => void)[] = [];
  /** whenProgrammed() callers, released at the end of the first flush that leaves their endpoint not waiting for the proxy. */
  private waiters: { id: number; resolve: () => void }[] = [];
  /** The redirects last handed to the proxy, with their generation. */
  private redirectsGen = 0;
  /** Local endpoints whose ingress entries in the map have an allow requiring mutual authentication. */
  private readonly authRequired = new Set<number>();
  /** Redirect keys (redirectKey) of each generation handed to the proxy and not yet acknowledged, oldest first. */
  private readonly unacked: { gen: number; keys: Set<string> }[] = [];
  /** Redirect keys of the configuration the proxy last acknowledged. */
  private acked = new Set<string>();
  /** Pods or Services changed since the last flush; what the engine last got of them, as text. */
  private podsStale = true;
  /** Pods by address and by uid, for flows; rebuilt on the first lookup after a pod change. */
  private podIndex: Map<string, PodRef> | undefined;
  private podNameIndex: Map<string, PodRef> | undefined;
  /** Counts pod changes, for readers that cache what podByIP answered (the flow enricher). */
  podsVersion = 0;
  private podUidIndex: Map<string, PodRef> | undefined;
  private servicesStale = true;
  private cidrGroupsStale = true;
  private peerPortsText = '';
  private servicesText = '';
  private redirectsText = '';
  /** Each endpoint's proxy-visibility annotation as last given to the engine (JSON), to notice a change of it. */
  private readonly visibilityText = new Map<number, string>();
  lastError: string | undefined;
  /**
   * The last flush: when, how long (wall clock, and the process's CPU time in it, which other load on the
   * machine does not inflate), how many endpoints computed, entries written.
   */
  lastFlush: { at: string; ms: number; cpuMs: number; endpoints: number; upserts: number; deletes: number } | undefined;
  private busyMs = 0;

  constructor(
    private readonly deps: PolicyManagerDeps,
    private readonly opts: PolicyManagerOptions,
  ) {
    this.repo = new PolicyRepository({ options: { enforcement: opts.enforcement, allowLocalhost: opts.allowLocalhost, ...(opts.proxyPorts ? { proxyPorts: opts.proxyPorts } : {}) } });
  }

  async start(): Promise<void> {
    const d = this.deps;
    this.repo.setIdentities(d.identities().map((i) => [i.id, i.labels] as [number, LabelSet]));
    this.unsub.push(
      d.onIdentityChange((e) => {
        // One identity at a time: re-reading all of them per event made N new identities cost N² (19 s of CPU for 5,000).
        if (e?.type === 'upsert') this.repo.upsertIdentity(e.identity.id, e.identity.labels);
        else if (e?.type === 'delete') this.repo.deleteIdentity(e.identity.id);
        else this.repo.setIdentities(d.identities().map((i) => [i.id, i.labels] as [number, LabelSet]));
        this.markAll();
      }),
    );
    this.unsub.push(d.endpoints.onChange((ep) => this.mark(ep.id)));
    // What the map holds from an earlier agent: the base of the first diff, so stale entries go.
    for (const [id, entries] of groupByEndpoint(d.datapath.entries())) this.written.set(id, { entries, count: entries.length, flags: -1, policy: emptyPolicy() });
    for (const kind of POLICY_KINDS) {
      const inf = d.store.informer(kind);
      this.informers.set(kind, inf);
      inf.on('add', (o) => this.upsertPolicy(o));
      inf.on('update', (o) => this.upsertPolicy(o));
      inf.on('delete', (o) => this.deletePolicy(o));
      inf.on('error', (e) => d.log.warn('policy watch', { kind, error: e.message }));
    }
    // Namespaces: their proxy-visibility annotation applies to their pods without one.
    for (const kind of ['Pod', 'Namespace', 'Service', 'EndpointSlice', 'CiliumCIDRGroup'] as const) {
      const inf = d.store.informer(kind);
      this.informers.set(kind, inf);
      const changed = kind === 'Pod' || kind === 'Namespace' ? () => this.podsChanged() : kind === 'CiliumCIDRGroup' ? () => this.cidrGroupsChanged() : () => this.servicesChanged();
      inf.on('add', changed);
      inf.on('update', changed);
      inf.on('delete', changed);
      inf.on('error', (e) => d.log.warn('policy watch', { kind, error: e.message }));
    }
    await Promise.all([...this.informers.values()].map((i) => i.start()));
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync()));
    this.synced = true;
    this.flush();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    for (const u of this.unsub) u();
    await Promise.all([...this.informers.values()].map((i) => i.stop().catch(() => undefined)));
  }

  // ---- events ----

  private upsertPolicy(o: StoreObject): void {
    const origin = originOf(o);
    if (!origin) return;
    const key = policyKeyOf(origin);
    const problems = this.repo.upsertPolicy(o);
    const errors = problems.filter((p) => p.severity === 'error');
    if (errors.length) {
      // Admission rejects most of this; what still arrives keeps its previous version in force.
      this.rejected.set(key, { resourceVersion: o.metadata.resourceVersion ?? '', problems });
      const error = errors.map((e) => `${e.path}: ${e.message}`).join('; ');
      this.deps.log.warn('policy rejected; the previous version stays in force', { policy: key, error });
      this.deps.policyStatus?.report(o, { ok: false, enforcing: false, error });
      return;
    }
    this.rejected.delete(key);
    this.accepted.set(key, o);
    this.markAffected(key);
    this.deps.policyStatus?.report(o, { ok: true, enforcing: this.opts.enforcement !== 'never' && !this.opts.audit });
  }

  private deletePolicy(o: StoreObject): void {
    const origin = originOf(o);
    if (!origin) return;
    const key = policyKeyOf(origin);
    this.deps.policyStatus?.forget(o);
    this.rejected.delete(key);
    this.accepted.delete(key);
    if (this.repo.deletePolicy(key)) this.markAffected(key);
  }

  private markAffected(key: string): void {
    for (const ep of this.repo.endpointsAffectedBy(key, this.endpointInfos())) this.dirty.add(ep.id);
    // New prefixes need identities first; a flush sorts out which endpoints they touch.
    this.schedule();
  }

  // Pods and Services change all the time and most changes matter to no
  // policy: an event only marks its input stale; the flush rebuilds it once
  // and recomputes endpoints only when what the engine sees has changed.
  private podsChanged(): void {
    this.podsStale = true;
    this.podsVersion++;
    this.podIndex = undefined;
    this.podUidIndex = undefined;
    this.podNameIndex = undefined;
    this.schedule();
  }

  private servicesChanged(): void {
    this.servicesStale = true;
    this.schedule();
  }

  private cidrGroupsChanged(): void {
    this.cidrGroupsStale = true;
    this.schedule();
  }

  /** CiliumCIDRGroups for cidrGroupRef/cidrGroupSelector peers; true when they changed in a way some policy sees. */
  private syncCidrGroups(): boolean {
    const groups: CidrGroupInfo[] = (this.informers.get('CiliumCIDRGroup')?.list() ?? []).map((g) => ({
      name: g.metadata.name,
      labels: g.metadata.labels ?? {},
      cidrs: ((g.spec as { externalCIDRs?: string[] } | undefined)?.externalCIDRs ?? []).filter((c) => typeof c === 'string'),
    }));
    return this.repo.setCidrGroups(groups) && this.repo.usesCidrGroups();
  }

  /** Peers' named ports (egress named ports resolve per peer identity); true when they changed. */
  private syncPeerNamedPorts(): boolean {
    const ports = new Map<number, NamedPort[]>();
    for (const pod of this.informers.get('Pod')?.list() ?? []) {
      const ip = (pod.status as { podIP?: string } | undefined)?.podIP;
      const named = namedPortsOf(pod);
      if (!ip || named.length === 0) continue;
      const id = this.deps.identityOfIP(ip);
      const list = ports.get(id) ?? [];
      for (const n of named) if (!list.some((x) => x.name === n.name && x.port === n.port && x.protocol === n.protocol)) list.push(n);
      ports.set(id, list);
    }
    const text = JSON.stringify([...ports].sort((a, b) => a[0] - b[0]).map(([id, l]) => [id, l.map((n) => `${n.name}:${n.port}/${n.protocol}`).sort()]));
    if (text === this.peerPortsText) return false;
    this.peerPortsText = text;
    this.repo.setPeerNamedPorts(ports);
    return true;
  }

  /** Services with their ready addresses, for toServices; true when they changed (and some policy uses them). */
  private syncServices(): boolean {
    if (!this.repo.usesServices()) {
      // Rebuilt from scratch once a policy needs them.
      this.servicesText = '';
      return false;
    }
    const bySvc = new Map<string, string[]>();
    for (const sl of this.informers.get('EndpointSlice')?.list() ?? []) {
      const svc = sl.metadata.labels?.['kubernetes.io/service-name'];
      if (!svc) continue;
      const key = `${sl.metadata.namespace ?? ''}/${svc}`;
      const ready = ((sl as unknown as { endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[] }).endpoints ?? []).filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses);
      bySvc.set(key, (bySvc.get(key) ?? []).concat(ready));
    }
    const services: ServiceInfo[] = (this.informers.get('Service')?.list() ?? []).map((s) => {
      const spec = (s.spec ?? {}) as { selector?: Record<string, string> };
      const addresses = (bySvc.get(`${s.metadata.namespace ?? ''}/${s.metadata.name}`) ?? []).sort();
      return { namespace: s.metadata.namespace ?? '', name: s.metadata.name, labels: s.metadata.labels ?? {}, ...(spec.selector && Object.keys(spec.selector).length ? { selector: spec.selector } : {}), addresses };
    });
    const text = JSON.stringify(services);
    if (text === this.servicesText) return false;
    this.servicesText = text;
    this.repo.setServices(services);
    return true;
  }

  private mark(id: number): void {
    this.dirty.add(id);
    this.schedule();
  }

  /**
   * The names the DNS proxy learned, with their addresses (toFQDNs): the
   * engine selects the addresses' CIDR identities for the policies whose
   * toFQDNs match the names. Computed in the next flush (the caller may flush now).
   * Returns whether any name's addresses changed (the engine compares).
   */
  setFqdnNames(names: ReadonlyMap<string, readonly string[]>): boolean {
    if (this.repo.setFqdnNames(names).length === 0) return false;
    this.markAll();
    return true;
  }

  private markAll(): void {
    this.allDirty = true;
    this.schedule();
  }

  private schedule(): void {
    if (!this.synced || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, 5);
  }

  // ---- computing and writing ----

  /**
   * This node's endpoints as the engine sees them. One whose identity is not
   * resolved yet is reserved:init with only that label (Cilium's init
   * identity): the rules selecting reserved:init apply to it, and
   * flushOnce() enforces both of its directions whatever they say.
   */
  private endpointInfos(): (EndpointInfo & { model: EndpointModel })[] {
    const pods = this.informers.get('Pod');
    const namespaces = this.informers.get('Namespace');
    return this.deps.endpoints
      .list()
      .filter((ep) => ep.identity !== 0)
      .map((ep) => {
        if (ep.identity === IDENTITY_INIT) return { id: ep.id, identity: IDENTITY_INIT, labels: INIT_LABELS, namespace: '', namedPorts: [], model: ep };
        const pod = ep.pod ? pods?.get(ep.pod.namespace, ep.pod.name) : undefined;
        const visibility = ep.pod ? podProxyVisibility(pod, namespaces?.get(undefined, ep.pod.namespace)) : undefined;
        return { id: ep.id, identity: ep.identity, labels: labelsOf(ep.identityLabels ?? []), namespace: ep.pod?.namespace ?? '', namedPorts: pod ? namedPortsOf(pod) : [], ...(visibility ? { visibility } : {}), model: ep };
      });
  }

  /** CIDR identities for every prefix the policies name; true when the set changed. */
  private syncCidrIdentities(): boolean {
    const want = new Set(this.repo.requiredPrefixes().filter((p) => !p.endsWith('/0')));
    let changed = false;
    for (const [prefix] of this.cidrIds) {
      if (want.has(prefix)) continue;
      this.cidr.releaseCidr(prefix);
      this.cidrIds.delete(prefix);
      changed = true;
    }
    for (const prefix of want) {
      if (this.cidrIds.has(prefix)) continue;
      this.cidrIds.set(prefix, this.cidr.allocateCidr(prefix).id);
      changed = true;
    }
    if (changed) this.repo.setCidrIdentities(this.cidrIds);
    return changed;
  }

  /** A node-local (CIDR) identity this node allocated, with its labels. */
  localIdentity(id: number): Identity | undefined {
    return this.cidr.lookup(id);
  }

  /** Prefix → node-local identity, for the ipcache. */
  cidrIdentities(): ReadonlyMap<string, number> {
    return this.cidrIds;
  }

  /**
   * Computes and writes what is dirty now. `measureCpu: false` leaves out
   * the two getrusage(2) calls of lastFlush.cpuMs (-1 then): the DNS proxy
   * flushes on an answer's path, where they cost more than the flush itself
   * on a busy machine.
   */
  flush(opts: { measureCpu?: boolean } = {}): void {
    if (!this.synced) return;
    // This flush does what a scheduled one would.
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    try {
      this.flushOnce(opts.measureCpu ?? true);
    } finally {
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) {
        if (this.written.get(w.id)?.waiting) this.waiters.push(w);
        else w.resolve();
      }
    }
  }

  private flushOnce(measureCpu: boolean): void {
    const t0 = performance.now();
    const cpu0 = measureCpu ? process.cpuUsage() : undefined;
    let upserts = 0;
    let deletes = 0;
    try {
      if (this.podsStale) {
        this.podsStale = false;
        if (this.syncPeerNamedPorts()) this.allDirty = true;
      }
      // A policy change can start or stop the need for Services: looked at every flush (cheap when unchanged).
      if (this.servicesStale || this.repo.usesServices() !== (this.servicesText !== '')) {
        this.servicesStale = false;
        if (this.syncServices()) this.allDirty = true;
      }
      if (this.cidrGroupsStale) {
        this.cidrGroupsStale = false;
        if (this.syncCidrGroups()) this.allDirty = true;
      }
      if (this.syncCidrIdentities()) {
        this.allDirty = true;
        this.deps.cidrIdentitiesChanged();
      }
      const infos = this.endpointInfos();
      this.markVisibilityChanges(infos);
      const todo = this.allDirty ? infos : infos.filter((e) => this.dirty.has(e.id));
      this.allDirty = false;
      this.dirty.clear();
      const dp = this.deps.datapath;
      for (const ep of todo) {
        // An endpoint id deleted and given again before a flush (a CNI ADD that replaces the
        // container's endpoint): the datapath dropped the old one's entries and flags with it, and
        // the new one starts fail closed; start it from nothing rather than from the old one's state.
        if (this.written.get(ep.id)?.model && this.written.get(ep.id)!.model !== ep.model) {
          this.written.delete(ep.id);
          this.repo.forgetEndpoint(ep.id);
        }
        // Incremental: the engine recomputes only what changed for this endpoint and says which entries differ.
        const update = this.repo.updateEndpoint(ep);
        const policy = update.policy;
        const prev = this.written.get(ep.id);
        // An endpoint with the init identity stays enforced both ways (fail closed): only what a rule
        // selecting reserved:init allows passes until it has its own identity and policy.
        const flags =
          endpointPolicyFlags({ ingress: policy.ingressEnforced, egress: policy.egressEnforced, audit: this.opts.audit }) |
          (ep.identity === IDENTITY_INIT ? initialPolicyFlags(this.opts) : 0);
        if (policy.entryCount > this.opts.policyMapMax) {
          const error = `policy needs ${policy.entryCount} map entries, more than --bpf-policy-map-max ${this.opts.policyMapMax}: the last policy that fitted stays in force`;
          if (prev?.error !== error) this.deps.log.warn('endpoint policy not applied', { endpoint: ep.id, error });
          // The engine has moved past what the map holds: remember that, so the next write diffs against the map.
          const held = prev?.entries ?? (prev ? (groupByEndpoint(dp.entries(ep.id)).get(ep.id) ?? []) : []);
          // (An older policy that waited for the proxy is superseded: it is no longer handed to the proxy.)
          const { waiting: _superseded, ...kept } = prev ?? { flags: 0, policy: emptyPolicy() };
          this.written.set(ep.id, { ...kept, entries: held, count: held.length, error, model: ep.model });
          continue;
        }
        let target = policy;
        if (!this.redirectsReady(ep.model.ipv4, policy.l7)) {
          if (!prev?.waiting) this.deps.log.info('endpoint policy waits for the node proxy to load its HTTP rules', { endpoint: ep.id, pod: podName(ep.model), redirects: policy.l7.length });
          if (prev) {
            // What the map holds stays, entries and enforcement: nothing allowed before is dropped meanwhile.
            // (The engine's policy reads its entries live: what the map holds is read back from it.)
            const held = prev.entries ?? groupByEndpoint(dp.entries(ep.id)).get(ep.id) ?? [];
            this.written.set(ep.id, { ...prev, entries: held, count: held.length, waiting: policy });
            continue;
          }
          // A new endpoint had nothing allowed: its policy now, the redirects as denies until the proxy has them.
          target = { ...policy, entries: policy.entries.map((e) => (e.proxyPort > 0 ? { ...e, verdict: 'deny' as const, proxyPort: 0 } : e)), l7: [] };
        }
        const diff = prev?.entries ? diffEntries(prev.entries, target.entries) : target === policy ? update : diffEntries([], target.entries);
        // -1: an earlier agent's, or a new endpoint's (it starts enforced, initialPolicyFlags), not
        // known here; it may enforce anything, and gets its flags written whatever they are.
        const prevFlags = prev ? prev.flags : -1;
        const losing = prevFlags === -1 || (prevFlags & ~flags) !== 0;
        // Enforcement is switched off before the entries it relied on go, and on after they are there.
        if (losing) dp.setEndpointFlags(ep.model, flags);
        if (diff.upserts.length || diff.deletes.length) dp.apply(ep.id, diff);
        if (!losing && prevFlags !== flags) dp.setEndpointFlags(ep.model, flags);
        upserts += diff.upserts.length;
        deletes += diff.deletes.length;
        if (target === policy) this.written.set(ep.id, { count: policy.entryCount, flags, policy, model: ep.model });
        else this.written.set(ep.id, { entries: target.entries, count: target.entries.length, flags, policy: target, waiting: policy, model: ep.model });
      }
      this.noteAuthRequired(todo.map((ep) => ep.id));
      // Endpoints that are gone: their entries go with them.
      const live = new Set(this.deps.endpoints.list().map((e) => e.id));
      for (const id of [...this.written.keys()]) {
        if (live.has(id)) continue;
        this.authRequired.delete(id);
        dp.deleteEndpoint(id);
        this.written.delete(id);
        this.visibilityText.delete(id);
        this.repo.forgetEndpoint(id);
      }
      this.publishRedirects();
      this.lastError = undefined;
      const ms = performance.now() - t0;
      this.busyMs += ms;
      const cpu = cpu0 ? process.cpuUsage(cpu0) : undefined;
      this.lastFlush = { at: new Date().toISOString(), ms: Math.round(ms * 1000) / 1000, cpuMs: cpu ? Math.round(cpu.user + cpu.system) / 1000 : -1, endpoints: todo.length, upserts, deletes };
    } catch (e) {
      this.lastError = (e as Error).message;
      this.deps.log.warn('policy map write failed; recomputing every endpoint in 1 s', { error: this.lastError });
      // The map may hold part of a diff: forget what was written and rewrite from the model.
      const held = groupByEndpoint(this.deps.datapath.entries());
      for (const id of new Set([...held.keys(), ...this.written.keys()])) {
        const w = held.get(id) ?? [];
        this.written.set(id, { ...(this.written.get(id) ?? { flags: -1, policy: emptyPolicy() }), entries: w, count: w.length });
      }
      setTimeout(() => this.markAll(), 1000).unref();
    }
  }

  /**
   * Which of the endpoints just written have an ingress allow requiring
   * mutual authentication in the map now; tells authRequiredChanged about
   * those that changed. Entries are looked at only while some policy asks
   * for authentication.
   */
  private noteAuthRequired(ids: readonly number[]): void {
    const any = this.repo.usesAuth();
    const changed: number[] = [];
    for (const id of ids) {
      const w = this.written.get(id);
      const now = any && w !== undefined && (w.entries ?? w.policy.entries).some((e) => e.direction === 'ingress' && e.verdict === 'allow' && e.authRequired === true);
      if (now === this.authRequired.has(id)) continue;
      if (now) this.authRequired.add(id);
      else this.authRequired.delete(id);
      changed.push(id);
    }
    if (changed.length) this.deps.authRequiredChanged?.(changed);
  }

  /** Whether local endpoint `id`'s ingress, as the map holds it, requires mutual authentication somewhere (its ipcache flag). */
  ingressAuthRequired(id: number): boolean {
    return this.authRequired.has(id);
  }

  /**
   * Endpoints whose proxy-visibility annotation (their pod's or namespace's)
   * changed since it was last given to the engine: marked dirty, and what of
   * it cannot be honoured logged (once per change; `policy get` shows it as
   * the endpoint's problems for as long as it stands).
   */
  private markVisibilityChanges(infos: readonly (EndpointInfo & { model: EndpointModel })[]): void {
    for (const ep of infos) {
      const text = ep.visibility ? JSON.stringify(ep.visibility) : '';
      if ((this.visibilityText.get(ep.id) ?? '') === text) continue;
      this.visibilityText.set(ep.id, text);
      this.dirty.add(ep.id);
      const v = ep.visibility;
      if (!v) continue;
      if (v.ingressHttp.length) this.deps.log.info('proxy visibility', { endpoint: ep.id, pod: podName(ep.model), source: v.source, ingressHttpPorts: v.ingressHttp.join(',') });
      for (const p of v.problems) this.deps.log.warn('proxy visibility annotation not honoured as written', { endpoint: ep.id, pod: podName(ep.model), source: p.policy, field: p.path, message: p.message });
    }
  }

  /**
   * Whether the node proxy runs rule sets for all of an endpoint's HTTP
   * redirects: in the configuration it last acknowledged and in every one
   * handed to it since (a newer one without them may still be loaded after).
   * Always without a proxy to wait for. DNS and Kafka redirects never wait:
   * their proxies run in the agent and have them when this flush hands them
   * on (publishRedirects, before the agent reads another datagram or
   * connection); waiting for the node proxy's reload would hold back the
   * entries of a learned address (a toFQDNs peer allowed on all ports gets
   * port 53 redirects of its own) past the release of its answer.
   */
  private redirectsReady(ipv4: string, l7: readonly L7Redirect[]): boolean {
    if (!this.deps.redirectsChanged || l7.length === 0 || !ipv4) return true;
    return l7.every((r) => {
      if (!toNodeProxy(r)) return true;
      const k = redirectKey(ipv4, r);
      return this.acked.has(k) && this.unacked.every((u) => u.keys.has(k));
    });
  }

  /**
   * What the node proxy must hold: per local endpoint, the L7 redirects the
   * map holds and those waiting to be written (a waiting one replaces a held
   * one on the same ports and peer: the same port, new rules). Handed on with
   * a new generation when it changed since the last call.
   */
  private publishRedirects(): void {
    if (!this.deps.redirectsChanged) return;
    const eps: EndpointRedirects[] = [];
    for (const ep of this.deps.endpoints.list()) {
      const w = this.written.get(ep.id);
      if (!w || !ep.ipv4) continue;
      const waiting = w.waiting?.l7 ?? [];
      const held = w.policy.l7.filter((h) => !waiting.some((r) => overlaps(h, r)));
      const l7 = [...held, ...waiting].sort(compareRedirects);
      if (l7.length) eps.push({ ipv4: ep.ipv4, l7 });
    }
    eps.sort((a, b) => (a.ipv4 < b.ipv4 ? -1 : a.ipv4 > b.ipv4 ? 1 : 0));
    const text = JSON.stringify(eps);
    if (text === this.redirectsText) return;
    this.redirectsText = text;
    const gen = ++this.redirectsGen;
    this.unacked.push({ gen, keys: new Set(eps.flatMap((e) => e.l7.filter(toNodeProxy).map((r) => redirectKey(e.ipv4, r)))) });
    this.deps.redirectsChanged(eps, gen);
  }

  /**
   * The node proxy runs a configuration with the redirects of generation
   * `gen` (its reload answered and its new worker up, or nothing to reload):
   * endpoints waiting for them are written in a flush right after.
   */
  proxyApplied(gen: number): void {
    const i = this.unacked.findIndex((u) => u.gen === gen);
    if (i < 0) return; // an older generation, or acknowledged before
    this.acked = this.unacked[i]!.keys;
    this.unacked.splice(0, i + 1);
    let any = false;
    for (const [id, w] of this.written) if (w.waiting) (this.dirty.add(id), (any = true));
    if (any) this.schedule();
  }

  /** Endpoints whose newest policy waits for the node proxy. */
  waitingForProxy(): number[] {
    return [...this.written].filter(([, w]) => w.waiting).map(([id]) => id);
  }

  // ---- reading ----

  /**
   * Resolves once endpoint id's policy is in the maps: after the next flush
   * that leaves it clean (at once when nothing about it is pending).
   */
  whenProgrammed(id: number): Promise<void> {
    if (this.synced && !this.timer && !this.allDirty && !this.dirty.has(id) && !this.written.get(id)?.waiting) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ id, resolve }));
  }

  /**
   * The datapath resync (src/agent/resync.ts): reads the policy map back and
   * compares each endpoint's entries with what this manager wrote (missing,
   * changed or extra entries are drift: a failed write, a change from
   * outside). An endpoint that differs has what the map holds remembered as
   * the base of its next diff and is written again now. Answers how many
   * entries differed; 0 (not looked at) while a computation is pending.
   */
  resync(): number {
    if (!this.synced || this.hasPendingWork()) return 0;
    const held = groupByEndpoint(this.deps.datapath.entries());
    let drift = 0;
    for (const [id, w] of this.written) {
      const have = held.get(id) ?? [];
      const d = diffEntries(have, w.entries ?? w.policy.entries);
      const n = d.upserts.length + d.deletes.length;
      if (n === 0) continue;
      drift += n;
      this.written.set(id, { ...w, entries: have, count: have.length });
      this.dirty.add(id);
    }
    if (drift > 0) {
      // The map's writer skips what it believes is there: it must believe the map.
      this.deps.datapath.reload?.();
      this.flush({ measureCpu: false });
    }
    return drift;
  }

  /** Whether a computation is scheduled or due (events not yet computed); waiting for the node proxy is not work. */
  hasPendingWork(): boolean {
    return !!this.timer || this.allDirty || this.dirty.size > 0;
  }

  /** Whether every event seen has been computed and written (none waits for the node proxy). */
  isSynced(): boolean {
    return this.synced && !this.timer && !this.allDirty && this.dirty.size === 0 && this.lastError === undefined && this.waitingForProxy().length === 0;
  }

  status(): { synced: boolean; policies: string[]; cidrGroups: string[]; rejected: { policy: string; resourceVersion: string; problems: PolicyProblem[] }[]; endpoints: number; lastFlush: PolicyManager['lastFlush'] | null; busyMs: number; lastError: string | null; cidrIdentities: number } {
    return {
      synced: this.isSynced(),
      policies: [...this.accepted].map(([k, o]) => `${k}@${o.metadata.resourceVersion ?? ''}`).sort(),
      // The CiliumCIDRGroups seen; with synced, the policies that refer to them are programmed with them.
      cidrGroups: (this.informers.get('CiliumCIDRGroup')?.list() ?? []).map((g) => `CiliumCIDRGroup/${g.metadata.name}@${g.metadata.resourceVersion ?? ''}`).sort(),
      rejected: [...this.rejected].map(([policy, r]) => ({ policy, ...r })),
      endpoints: this.written.size,
      lastFlush: this.lastFlush ?? null,
      busyMs: Math.round(this.busyMs),
      lastError: this.lastError ?? null,
      cidrIdentities: this.cidrIds.size,
    };
  }

  /** The policies in force and the local endpoints each selects. */
  policies(): PolicyRow[] {
    const eps = [...this.written].map(([id, w]) => ({ id, w, model: this.deps.endpoints.get(id) }));
    return this.repo.listPolicies().map((p) => {
      const text = originText(p.origin);
      return {
        key: p.key,
        resourceVersion: this.accepted.get(p.key)?.metadata.resourceVersion ?? '',
        spec: ((o) => (o ? (o.specs ?? o.spec) : null))(this.accepted.get(p.key)),
        problems: p.problems,
        selects: eps
          .map(({ id, w, model }) => ({ id, pod: podName(model), ingress: w.policy.selectedBy.ingress.some((o) => originText(o) === text), egress: w.policy.selectedBy.egress.some((o) => originText(o) === text) }))
          .filter((s) => s.ingress || s.egress),
      };
    });
  }

  /** Which directions an endpoint enforces now (what its bl_lxc flags say), and with which default (its entries). */
  enforcementOf(id: number): PolicyEnforcement {
    const w = this.written.get(id);
    const f = Math.max(0, w?.flags ?? 0);
    const { ingress, egress, audit } = decodeEndpointPolicyFlags(f);
    return {
      ingress, egress, audit,
      // Enforced where its policy is not (the init identity): nothing allows, a default deny.
      ingressDefaultDeny: ingress && (w?.policy.ingressDefaultDeny || !w?.policy.ingressEnforced),
      egressDefaultDeny: egress && (w?.policy.egressDefaultDeny || !w?.policy.egressEnforced),
    };
  }

  endpointRows(): EndpointPolicyRow[] {
    return [...this.written].map(([id, w]) => {
      const model = this.deps.endpoints.get(id);
      return {
        id,
        pod: podName(model),
        identity: model?.identity ?? 0,
        ingressEnforced: w.policy.ingressEnforced,
        egressEnforced: w.policy.egressEnforced,
        ingressDefaultDeny: w.policy.ingressDefaultDeny,
        egressDefaultDeny: w.policy.egressDefaultDeny,
        audit: this.opts.audit,
        entries: w.count,
        selectedBy: { ingress: w.policy.selectedBy.ingress.map(originText), egress: w.policy.selectedBy.egress.map(originText) },
        ...(w.error ? { error: w.error } : w.waiting ? { error: WAITING_FOR_PROXY } : {}),
        problems: w.policy.errors,
      };
    });
  }

  /** A pod of any node by its address (status.podIP), with its controlling workload. */
  podByIP(ip: string): PodRef | undefined {
    this.indexPods();
    return this.podIndex!.get(ip);
  }

  /** A pod of any node by namespace and name (known before the kubelet writes its address). */
  podByName(namespace: string, name: string): PodRef | undefined {
    this.indexPods();
    return this.podNameIndex!.get(`${namespace}/${name}`);
  }

  /** A pod of any node by its metadata.uid. */
  podByUID(uid: string): PodRef | undefined {
    this.indexPods();
    return this.podUidIndex!.get(uid);
  }

  private indexPods(): void {
    if (this.podIndex && this.podUidIndex && this.podNameIndex) return;
    const byIP = new Map<string, PodRef>();
    const byUid = new Map<string, PodRef>();
    const byName = new Map<string, PodRef>();
    for (const pod of this.informers.get('Pod')?.list() ?? []) {
      const podIP = (pod.status as { podIP?: string } | undefined)?.podIP;
      const owner = ((pod.metadata as { ownerReferences?: { kind: string; name: string; controller?: boolean }[] }).ownerReferences ?? []).find((o) => o.controller);
      const sa = (pod.spec as { serviceAccountName?: string } | undefined)?.serviceAccountName;
      const ref: PodRef = { namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name, ...(owner ? { workload: { name: owner.name, kind: owner.kind } } : {}), ...(sa ? { serviceAccount: sa } : {}) };
      if (podIP) byIP.set(podIP, ref);
      if (pod.metadata.uid) byUid.set(pod.metadata.uid, ref);
      byName.set(`${ref.namespace}/${ref.name}`, ref);
    }
    this.podIndex = byIP;
    this.podUidIndex = byUid;
    this.podNameIndex = byName;
  }

  /** The policies a policy-map cookie stands for. */
  cookieOrigins(cookie: number): Origin[] {
    return this.repo.cookies.origins(cookie);
  }

  /** The policies that made an endpoint default-deny in a direction ([] when it is not). */
  defaultDenyOrigins(endpointId: number, direction: 'ingress' | 'egress'): Origin[] {
    const w = this.written.get(endpointId);
    if (!w) return [];
    const dd = direction === 'ingress' ? w.policy.ingressDefaultDeny : w.policy.egressDefaultDeny;
    return dd ? w.policy.selectedBy[direction] : [];
  }

  /** Cookie → the policies it names, for every cookie the map may hold. */
  cookieNames(cookies: Iterable<number>): Record<number, string[]> {
    const out: Record<number, string[]> = {};
    for (const c of cookies) out[c] = this.repo.cookies.describe(c);
    return out;
  }

  /** `policy trace`: each query through the same computation that fills the maps. */
  trace(queries: TraceQuery[]): TraceAnswer[] {
    const local = new Map(this.endpointInfos().map((e) => [e.model.ipv4, e]));
    // Label sets no identity has yet get a stand-in number for the query, outside every real range.
    const standIns: number[] = [];
    const byLabels = (texts: string[]): { party: TraceParty; info: TraceAnswer['src'] } => {
      const withSource = texts.map((t) => (/^[a-z0-9-]+:/.test(t) ? t : `k8s:${t}`));
      if (!withSource.some((t) => t.startsWith(`k8s:${NAMESPACE_LABEL}=`))) withSource.push(`k8s:${NAMESPACE_LABEL}=default`);
      let labels: LabelSet;
      try {
        labels = canonicalLabels(withSource);
      } catch (e) {
        throw new TraceError(`labels ${texts.join(',')}: ${(e as Error).message}`);
      }
      const key = labelSetKey(labels);
      let identity = this.deps.identities().find((i) => labelSetKey(i.labels) === key)?.id;
      if (identity === undefined) {
        identity = TRACE_STAND_IN_IDENTITY - standIns.length;
        standIns.push(identity);
        this.repo.upsertIdentity(identity, labels);
      }
      const namespace = labels.find((l) => l.key === NAMESPACE_LABEL)?.value ?? 'default';
      return { party: { endpoint: { id: 0, identity, labels, namespace, namedPorts: [] } }, info: { identity } };
    };
    /** A party, with the address it was given by and, for a pod, the address of its node (status.hostIP). */
    type Resolved = { party: TraceParty; info: TraceAnswer['src']; ip?: string; hostIP?: string };
    const party = (q: TraceQueryParty): Resolved => {
      if ('identity' in q) return { party: { identity: q.identity }, info: { identity: q.identity } };
      if ('labels' in q) return byLabels(q.labels);
      let ip: string | undefined;
      let pod: StoreObject | undefined;
      if ('pod' in q) {
        const [ns, name] = q.pod.includes('/') ? q.pod.split('/', 2) : ['default', q.pod];
        pod = this.informers.get('Pod')?.get(ns, name!);
        ip = (pod?.status as { podIP?: string } | undefined)?.podIP;
        if (!pod || !ip) throw new TraceError(`pod ${ns}/${name}: not found, or it has no address yet`);
      } else {
        ip = q.ip;
        pod = this.informers.get('Pod')?.list().find((p) => (p.status as { podIP?: string } | undefined)?.podIP === ip);
      }
      const hostIP = (pod?.status as { hostIP?: string } | undefined)?.hostIP;
      const ep = local.get(ip);
      if (ep) return { party: { endpoint: ep }, info: { identity: ep.identity, endpoint: ep.id, pod: podName(ep.model) }, ip, ...(hostIP ? { hostIP } : {}) };
      const identity = this.deps.identityOfIP(ip);
      if (pod) {
        // A pod of another node: its policy is computed here from the same inputs its node uses.
        const labels = this.deps.identities().find((i) => i.id === identity)?.labels;
        if (labels) {
          const visibility = podProxyVisibility(pod, this.informers.get('Namespace')?.get(undefined, pod.metadata.namespace ?? ''));
          const info: EndpointInfo = { id: 0, identity, labels, namespace: pod.metadata.namespace ?? '', namedPorts: namedPortsOf(pod), ...(visibility ? { visibility } : {}) };
          return { party: { endpoint: info }, info: { identity, pod: `${pod.metadata.namespace}/${pod.metadata.name}` }, ip, ...(hostIP ? { hostIP } : {}) };
        }
      }
      return { party: { identity }, info: { identity }, ip };
    };
    // A node's address is host to that node and remote-node to every other: judge it as the pod on the
    // other side of the trace sees it (its node), not as the answering agent's node does.
    const seenBy = (p: Resolved, other: Resolved): Resolved => {
      if (!('identity' in p.party) || !p.ip || !other.hostIP) return p;
      if (p.party.identity !== ReservedIdentity.host && p.party.identity !== ReservedIdentity['remote-node']) return p;
      const identity = p.ip === other.hostIP ? ReservedIdentity.host : ReservedIdentity['remote-node'];
      return { ...p, party: { identity }, info: { ...p.info, identity } };
    };
    try {
      return queries.map((q) => {
        const protocol = protocolNumbers(q.protocol.toUpperCase())[0] ?? (q.protocol.toUpperCase() === 'ICMP' ? 1 : NaN);
        if (!Number.isInteger(protocol)) throw new TraceError(`protocol ${JSON.stringify(q.protocol)}: expected TCP, UDP, SCTP or ICMP`);
        const [s, d] = [party(q.src), party(q.dst)];
        const src = seenBy(s, d);
        const dst = seenBy(d, s);
        return { ...tracePolicy(this.repo, { source: src.party, destination: dst.party, protocol, port: q.port }), src: src.info, dst: dst.info };
      });
    } finally {
      for (const id of standIns) this.repo.deleteIdentity(id);
    }
  }
}

/** A trace query names something that does not exist. */
export class TraceError extends Error {
  readonly code = 'BL_ERR_POLICY_TRACE';
}

/** One redirect of one endpoint as the proxy must hold it: the address, the key and the rules. */
function redirectKey(ipv4: string, r: L7Redirect): string {
  return `${ipv4} ${JSON.stringify(r)}`;
}

/** Same direction, peer and protocol, and port ranges that share a port: the proxy cannot hold both. */
function overlaps(a: L7Redirect, b: L7Redirect): boolean {
  if (a.direction !== b.direction || a.identity !== b.identity || a.protocol !== b.protocol) return false;
  const end = (r: L7Redirect) => r.port + (1 << (16 - r.portPrefixLen));
  return a.port < end(b) && b.port < end(a);
}


function emptyPolicy(): EndpointPolicy {
  return { ingressEnforced: false, egressEnforced: false, ingressDefaultDeny: false, egressDefaultDeny: false, entries: [], selectedBy: { ingress: [], egress: [] }, errors: [], l7: [] };
}

function groupByEndpoint(rows: readonly PolicyMapRow[]): Map<number, PolicyMapEntry[]> {
  const out = new Map<number, PolicyMapEntry[]>();
  for (const r of rows) {
    const list = out.get(r.endpoint) ?? [];
    list.push({ direction: r.direction, identity: r.identity, protocol: r.protocol, port: r.port, portPrefixLen: r.portPrefixLen, verdict: r.verdict, cookie: r.cookie, proxyPort: r.proxyPort });
    out.set(r.endpoint, list);
  }
  return out;
}

function podName(ep: EndpointModel | undefined): string {
  return ep?.pod ? `${ep.pod.namespace}/${ep.pod.name}` : '';
}

/** Parsed label sets by their text: endpointInfos() runs on every policy event (1,000 policies = 1,000 runs). */
const parsedLabels = new Map<string, LabelSet>();

function labelsOf(texts: string[]): LabelSet {
  const key = texts.join('\n');
  let l = parsedLabels.get(key);
  if (!l) {
    if (parsedLabels.size >= 4096) parsedLabels.clear();
    parsedLabels.set(key, (l = canonicalLabels(texts)));
  }
  return l;
}

/** Named container ports of a pod (`containerPort` with a `name`). */
export function namedPortsOf(pod: StoreObject): NamedPort[] {
  const containers = ((pod.spec as { containers?: { ports?: { name?: string; containerPort: number; protocol?: string }[] }[] } | undefined)?.containers ?? []);
  return containers.flatMap((c) => (c.ports ?? []).filter((p) => p.name).map((p) => ({ name: p.name!, port: p.containerPort, protocol: (p.protocol ?? 'TCP') as NamedPort['protocol'] })));
}

/**
 * The node agent: one per node, running in that node's network namespace. It
 * owns the node's datapath (through the NodeDatapath interface), its
 * endpoints and address pool, learns the other nodes from the cluster store,
 * and serves the local API the CLI and the CNI plugin use.
 */
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { logger, type Logger } from '../common/log.js';
import { version } from '../common/version.js';
import type { DatapathHealth, NodeDatapath, RemoteNode } from './datapath.js';
import { EndpointManager, initialPolicyFlags } from './endpoints.js';
import type { NodeIpam } from './ipam.js';
import { ApiServer } from './server.js';
import { AgentLock } from './lock.js';
import { mountAgentRoutes } from './routes.js';
import type {
  AgentConfig,
  AgentStatus,
  EndpointCreateRequest,
  Health,
  IpamAllocateRequest,
  IpamReleaseRequest,
  MonitorLine,
} from './types.js';
import { UsageError } from '../common/errors.js';
import { BoundedLineWriter } from '../monitor/subscriber.js';
import { TUNNEL_DEVICE } from '../datapath/devices.js';
import type { IdentitySource } from '../identity/allocator.js';
import { lpmLookup, type IpcacheSource, toMapEntries, type IpcacheMapEntry, type IpcacheNode } from '../identity/ipcache.js';
import { openClusterBackend, type ClusterBackend, type NodeWatch } from './cluster.js';
import { ServiceManager } from './services.js';
import { PolicyManager, TraceError, type TraceQuery } from './policy.js';
import { PolicyStatusWriter } from './policy-status.js';
import { toNodeProxy } from '../policy/index.js';
import type { PodIdentitySource } from '../identity/labels.js';
import { formatLabel, formatLabelSet } from '../identity/labels.js';
import { RESERVED_IDENTITIES, ReservedIdentity, type Identity } from '../identity/reserved.js';
import { etcdClient } from '../common/etcd.js';
import { withTimeout } from '../common/timeout.js';
import { ownNetns } from '../common/netns.js';
import { formatIPv4, tryParseIPv4 } from '../ipam/cidr.js';
import { NodeProxy, type EndpointRedirects } from './proxy.js';
import { MeshRoutes } from './mesh.js';
import { AgentMeshTls } from './mesh-tls.js';
import type { AgentApi } from '../cni/agentapi.js';
import { IpLinks, type PodLinks } from '../cni/link.js';
import { CNI_ROUTE, cniRoute, localAgentApi } from '../cni/service.js';
import { AgentFlowEnricher } from './flows.js';
import { AgentObserver } from './observer.js';
import { AgentDns } from './dns.js';
import { AgentKafka } from './kafka.js';
import { RedirectIndex } from './redirects.js';
import { DEFAULT_RESYNC_INTERVAL_MS, DatapathResync, type ResyncTarget } from './resync.js';

export { agentKey, nodeKey, NODES_PREFIX } from './cluster.js';

/** How often expired conntrack entries are collected (Cilium adapts 30s..12h; ours is fixed). */
const CT_GC_INTERVAL_MS = 30_000;

export interface AgentDeps {
  datapath: NodeDatapath;
  /** Built once the pod CIDR is known (it may come from the store). */
  ipam: (podCIDR: string) => NodeIpam;
  /** Finds this node's pod CIDR: configured, remembered, or claimed through the cluster backend (none: no kvstore or Kubernetes API configured). */
  podCIDR: (cluster: ClusterBackend | undefined) => Promise<string>;
  /** MTU for pod interfaces (default 1500). */
  podMTU?: () => number;
  log?: Logger;
  /** The links the CNI route makes (default: real `ip` runs in the agent's network namespace). */
  podLinks?: PodLinks;
  /** Makes the kvstore client (default: etcdClient); tests wrap it to act between the agent's calls. */
  etcdClient?: (endpoint: string) => Etcd3;
}

export class Agent {
  private readonly log: Logger;
  private readonly api = new ApiServer();
  /** The node's lock (src/agent/lock.ts), held from start() until stop() has finished. */
  private lock: AgentLock | undefined;
  private readonly started = Date.now();
  /** Whether the cluster backend (kvstore or Kubernetes API) answers. */
  private kv: { state: 'ok' | 'unreachable' | 'disabled'; message?: string } = { state: 'disabled' };
  private cluster: ClusterBackend | undefined;
  private nodeWatch: NodeWatch | undefined;
  private resync: DatapathResync | undefined;
  /** Endpoints whose bl_lxc entry differed at the last resync, with how (see resyncEndpoints). */
  private lxcSuspects = new Map<number, string>();
  private timers: NodeJS.Timeout[] = [];
  private ipam: NodeIpam | undefined;
  readonly endpoints: EndpointManager;
  /** The node's and pods' links: the CNI route makes them, endpoint requests are checked against them. */
  private readonly podLinks: PodLinks;
  private readonly remoteNodes = new Map<string, RemoteNode>();
  private readonly datapath: NodeDatapath;
  private podMTU = 1500;
  /** Service load-balancing, once the kvstore has been reachable. */
  private services: ServiceManager | undefined;
  private servicesStarting: Promise<void> | undefined;
  /** Identities and the ipcache, once the kvstore has been reachable (started once, kept across outages). */
  private identity: { allocator: IdentitySource; ipcache: IpcacheSource } | undefined;
  private identityStarting: Promise<void> | undefined;
  /** Network policy enforcement, once identities are known. */
  private policy: PolicyManager | undefined;
  private policyStarting: Promise<void> | undefined;
  /** Kubernetes mode: this node's entries in the Cilium policies' status. */
  private policyStatus: PolicyStatusWriter | undefined;
  /** What bl_ipcache was last synced to: the identity of an address, for policy. */
  private ipcacheDesired: IpcacheMapEntry[] = [];
  /** The node's L7 proxy (config.proxy), and the redirects it was last given. */
  private proxy: NodeProxy | undefined;
  /** Mesh routes (HTTPRoutes with Service parents) in the node proxy, once the store answers (proxy.meshPort). */
  private mesh: MeshRoutes | undefined;
  private meshStarting: Promise<void> | undefined;
  private meshStartFailures = 0;
  /** The mesh's mTLS between node proxies (certificates and the proxy's mtls section), with a proxy that has the mTLS ports. */
  private meshTls: AgentMeshTls | undefined;
  private redirects: EndpointRedirects[] = [];
  /** Their generation (PolicyManager.proxyApplied hears it back once the proxy runs them). */
  private redirectsGen = 0;
  /** ipcacheDesired has been computed from the store at least once (the proxy's identities come from it). */
  private ipcacheComputed = false;
  /** Its /32 entries by address (pods, nodes): most lookups, without the LPM walk. */
  private ipcacheHosts = new Map<number, number>();
  /** The node list has been read from the store at least once: until then the ipcache map is not synced. */
  private nodesLoaded = false;
  private ipcacheSyncTimer: NodeJS.Timeout | undefined;
  /** Flows: the Observer API, metrics, flow history. */
  private observer: AgentObserver | undefined;
  /** The node's DNS proxy (config.dnsProxy) and Kafka proxy (config.kafkaProxy), in this process. */
  private dns: AgentDns | undefined;
  private kafka: AgentKafka | undefined;
  /** The redirects by endpoint address, for the in-agent proxies. */
  private readonly redirectIndex = new RedirectIndex();
  /** Bumped when an endpoint or an identity changes: the flow enricher rebuilds its indexes then. */
  private endpointsVersion = 0;
  private identitiesVersion = 0;

  constructor(
    readonly config: AgentConfig,
    private readonly deps: AgentDeps,
  ) {
    this.datapath = deps.datapath;
    this.log = deps.log ?? logger(`agent[${config.node}]`);
    this.podLinks = deps.podLinks ?? new IpLinks();
    // Every endpoint request is checked against IPAM and the node's links: the datapath
    // attaches the endpoint's programs to its host interface, which must be a container's veth.
    this.endpoints = new EndpointManager(join(config.stateDir, 'endpoints.json'), this.datapath, this.log, {
      allocated: (owner) => this.ipam?.lookup(owner),
      reserved: new Map([
        [config.uplink, 'uplink'],
        [TUNNEL_DEVICE, 'tunnel device'],
        ['lo', 'loopback'],
      ]),
      links: this.podLinks,
    });
    this.endpoints.setInitialPolicyFlags(initialPolicyFlags({ enforcement: config.policyEnforcement ?? 'default', audit: config.policyAuditMode ?? false }));
    // Every JSON route is an rpc of api/agent/agent.proto, mounted at the method and path the
    // contract gives it; a missing or extra handler stops the agent here (AgentContractError).
    mountAgentRoutes(this.api, {
      GetHealth: () => ({ health: this.health() }),
      // ?maps=0: no map entry counts (a walk of every conntrack key), for callers that want
      // the network or health on every call: the CNI plugin's ADD and DEL, the kubelet's heartbeat.
      GetStatus: ({ query }) => this.status({ countEntries: query.get('maps') !== '0' }),
      GetDatapathMetrics: () => this.datapath.metrics(),
      IpamAllocate: ({ body }) => {
        const owner = ownerOf(body as IpamAllocateRequest);
        const ip = requestedIpOf(body as IpamAllocateRequest);
        // A requested address (CNI_ARGS IP=): exactly it, or the pool's refusal naming it and why.
        return { ...(ip === undefined ? this.requireIpam().allocate(owner) : this.requireIpam().allocateSpecific(ip, owner)), mtu: this.podMTU };
      },
      IpamRelease: ({ body }) => ({ released: this.requireIpam().release(ownerOf(body as IpamReleaseRequest)) ?? null }),
      ListEndpoints: () => this.endpoints.list().map((ep) => ({ ...ep, policyEnforcement: this.policy?.enforcementOf(ep.id) ?? { ingress: false, egress: false, audit: false, ingressDefaultDeny: false, egressDefaultDeny: false } })),
      PutEndpoint: ({ body }) => this.endpoints.create(body as EndpointCreateRequest),
      DeleteEndpoint: ({ query }) => this.endpoints.delete(requireParam(query, 'containerID'), query.get('ifname') ?? 'eth0'),
      ListNodes: () => [...this.remoteNodes.values()],
      ListIdentities: () => this.identities().map(identityJson),
      ListIdentityReferences: () => this.identityReferences(),
      GetIdentity: ({ query }) => {
        const id = Number(requireParam(query, 'id'));
        const found = this.identities().find((i) => i.id === id);
        if (!found) throw new UsageError(`identity ${query.get('id')}: not found`, 'see beeline identity list');
        return identityJson(found);
      },
      ListBpfEndpoints: () => this.datapath.endpointMap(),
      ListBpfIpcache: () => this.datapath.ipcache(),
      ListBpfConntrack: () => this.datapath.ctEntries(),
      ListServices: () => ({ services: this.services?.rows() ?? [], problems: this.services?.problems() ?? [], lastSync: this.services?.lastSync ?? null }),
      GetServicesStatus: () => this.services?.status() ?? null,
      ListBpfLb: () => ({ frontends: this.datapath.lb?.frontends() ?? [], backends: this.datapath.lb?.backends() ?? [] }),
      ConntrackGc: () => ({ deleted: this.datapath.ctGarbageCollect() }),
      GetPolicyStatus: () => this.policy?.status() ?? { synced: false, policies: [], cidrGroups: [], rejected: [], endpoints: 0, lastFlush: null, busyMs: 0, lastError: 'policy enforcement has not started', cidrIdentities: 0 },
      GetPolicy: () => ({ policies: this.requirePolicy().policies(), endpoints: this.requirePolicy().endpointRows() }),
      TracePolicy: ({ body }) => {
        const q = (body as { queries?: TraceQuery[] } | undefined)?.queries;
        if (!Array.isArray(q)) throw new UsageError('policy trace: queries: required (a list of {src, dst, port, protocol})');
        try {
          return this.requirePolicy().trace(q);
        } catch (e) {
          if (e instanceof TraceError) throw new UsageError(`policy trace: ${e.message}`);
          throw e;
        }
      },
      GetPolicyCookies: ({ query }) => this.requirePolicy().cookieNames((query.get('cookies') ?? '').split(',').filter(Boolean).map(Number)),
      ListBpfPolicy: ({ query }) => {
        const id = query.get('endpoint');
        const rows = this.datapath.policy?.entries(id ? Number(id) : undefined) ?? [];
        const names = this.policy?.cookieNames(new Set(rows.map((r) => r.cookie))) ?? {};
        return rows.map((r) => ({ ...r, policies: names[r.cookie] ?? [] }));
      },
      GetObserverStatus: () => this.observer?.status() ?? { enabled: false, ring: { flows: 0, capacity: 0 } },
      ListFqdnCache: () => this.dns?.rows() ?? [],
    });
    // Outside the contract's rpc table (api/agent/agent.proto says why): the CNI plugin's
    // request, whose body and answer are the CNI spec's, and the monitor's NDJSON stream.
    this.api
      // bin/beeline-cni's one request: the whole CNI operation runs here (src/cni/service.ts).
      .raw('POST', CNI_ROUTE, cniRoute(this.cniAgent(), this.podLinks, (l) => this.log.info(`cni: ${l}`)))
      .stream('/v1/monitor', (req, res) => {
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        // Send the headers now: a quiet node may have no event to write for a long time.
        res.flushHeaders();
        const line = (l: MonitorLine) => JSON.stringify(l) + '\n';
        // A subscriber that reads slower than events come is told what it missed, never buffered without bound.
        const out = new BoundedLineWriter(res, (lost) => line({ node: this.config.node, lost }));
        // Only the counters: info() walks every map, too much for a per-second tick per subscriber.
        let lostSeen = this.datapath.eventCounters().lost;
        // A client of the observer's reader (the ring buffer has one), or of the datapath before the observer starts.
        const listener = (rec: Buffer) => out.push(line({ node: this.config.node, data: rec.toString('base64') }));
        const unsubscribe = this.observer ? this.observer.subscribeRaw(listener) : this.datapath.subscribe(listener);
        const lostTimer = setInterval(() => {
          const lost = this.datapath.eventCounters().lost;
          if (lost > lostSeen) out.lost(lost - lostSeen);
          lostSeen = lost;
        }, 1000);
        req.on('close', () => {
          clearInterval(lostTimer);
          unsubscribe();
          out.close();
        });
      });
  }

  health(): Health {
    if (this.kv.state === 'unreachable') return 'degraded';
    if (this.datapath.health?.().state === 'degraded') return 'degraded';
    return 'ok';
  }

  status(opts: { countEntries?: boolean } = {}): AgentStatus {
    const dp = this.datapath.info(opts);
    return {
      node: this.config.node,
      lab: this.config.lab,
      version,
      health: this.health(),
      uptimeSeconds: Math.round((Date.now() - this.started) / 1000),
      pid: process.pid,
      nodeIP: this.config.nodeIP,
      podCIDR: this.ipam?.podCIDR ?? '',
      cniNetwork: this.config.cniNetwork,
      hostNetns: this.config.hostNetns === true,
      netns: ownNetns(),
      ipam: this.ipam ? this.ipam.stats() : { used: 0, capacity: 0 },
      kvstore: this.cluster?.mode === 'kubernetes' ? { state: 'disabled', endpoint: '' } : { state: this.kv.state, endpoint: this.config.kvstore, ...(this.kv.message ? { message: this.kv.message } : {}) },
      ...(this.cluster?.mode === 'kubernetes' ? { kubernetes: { state: this.kv.state, server: this.cluster.endpoint, ...(this.kv.message ? { message: this.kv.message } : {}) } } : {}),
      datapath: { ...datapathState(this.datapath.health?.()), mode: dp.mode, routing: this.config.routing, attachments: dp.attachments, maps: dp.maps, events: dp.events },
      endpoints: { count: this.endpoints.list().length },
      nodes: { count: this.remoteNodes.size },
      ...(this.proxy ? { proxy: this.proxyStatus(this.proxy) } : {}),
      ...(this.dns ? { dnsProxy: this.dns.status() } : {}),
      ...(this.resync ? { resync: this.resync.status() } : {}),
    };
  }

  private proxyStatus(p: NodeProxy): NonNullable<AgentStatus['proxy']> {
    const s = p.stats;
    return {
      state: s.lastError ? 'failing' : 'ok',
      ingressPort: p.config.ingressPort,
      ...(p.config.egressPort !== undefined ? { egressPort: p.config.egressPort } : {}),
      redirects: this.redirects.reduce((n, e) => n + e.l7.length, 0),
      renders: s.renders,
      reloads: s.reloads,
      ...(s.lastReload ? { lastReload: s.lastReload } : {}),
      ...(s.lastError ? { message: s.lastError } : {}),
    };
  }

  /**
   * Store, pod CIDR, datapath, endpoints, other nodes, then the API. A
   * datapath that cannot load is fatal (the caller exits non-zero).
   */
  async start(): Promise<void> {
    this.log.info('starting', { version, node: this.config.node, nodeIP: this.config.nodeIP, routing: this.config.routing });
    // Before anything is touched: a node's datapath belongs to the one agent that holds its lock
    // (two agents started at the same instant would both find the socket free), and that answers on its socket.
    this.lock = AgentLock.acquire(this.config.stateDir);
    await ApiServer.checkFree(this.config.socket);
    this.cluster = openClusterBackend(this.config, this.log, this.deps.etcdClient ?? etcdClient);
    if (this.cluster) this.cluster.onHeartbeatLost = () => (this.kv = { state: 'unreachable', message: 'lease lost' });
    const podCIDR = await this.deps.podCIDR(this.cluster);
    this.ipam = this.deps.ipam(podCIDR);
    this.log.info('pod CIDR', { podCIDR, gateway: this.ipam.gateway });
    await this.datapath.start(podCIDR);
    this.podMTU = this.deps.podMTU?.() ?? 1500;
    this.log.info('datapath ready', { mode: this.datapath.info().mode });
    await this.endpoints.restore();
    if (this.config.proxy) this.proxy = new NodeProxy(this.config.proxy, this.log);
    await this.startObserver();
    await this.startL7Proxies();
    if (this.cluster) this.startCluster(podCIDR);
    this.startMeshTls();
    this.timers.push(setInterval(() => this.ctGc(), CT_GC_INTERVAL_MS));
    this.startResync();
    await this.api.listen(this.config.socket);
    this.log.info('api listening', { socket: this.config.socket });
  }

  /**
   * With a store and a node proxy that has the mTLS ports: per-ServiceAccount
   * leaves for this node's pods and the proxy's mtls section, whose
   * destinations are the ipcache's entries flagged authRequired.
   */
  private startMeshTls(): void {
    const c = this.config;
    if (!this.cluster || !this.proxy || c.proxy?.mtlsInPort === undefined || c.proxy.mtlsOutPort === undefined) return;
    const mesh = new AgentMeshTls({
      store: this.cluster.store,
      nodeName: c.node,
      nodeIp: c.nodeIP,
      proxy: this.proxy,
      log: this.log,
      localPods: () => this.endpoints.list().flatMap((ep) => {
        if (!ep.pod) return [];
        const ref = this.policy?.podByName(ep.pod.namespace, ep.pod.name);
        return [{ ip: ep.ipv4, namespace: ep.pod.namespace, serviceAccount: ref?.serviceAccount ?? 'default' }];
      }),
      // Pods whose ingress requires mutual authentication (the ipcache's flag, piece E1), with their nodes.
      targets: () => (this.identity?.ipcache.entries() ?? []).flatMap((e) => {
        if (!e.authRequired || !e.hostIP) return [];
        const ip = e.prefix.replace(/\/32$/, '');
        if (ip.includes('/')) return [];
        const ref = this.policy?.podByIP(ip);
        return ref ? [{ ip, nodeIp: e.hostIP, namespace: ref.namespace, serviceAccount: ref.serviceAccount ?? 'default' }] : [];
      }),
    });
    this.meshTls = mesh;
    // Not awaited: the store's first list of the requests must not hold the agent's start.
    mesh.start().catch((e: Error) => this.log.warn('mesh tls: not started', { error: e.message }));
    this.endpoints.onChange(() => mesh.refresh());
    // ServiceAccounts come with the pods' objects, which may arrive after the endpoint.
    this.timers.push(setInterval(() => mesh.refresh(), 10_000));
  }

  /** The flow observer over this agent's caches; a socket or port it cannot bind is fatal. */
  private async startObserver(): Promise<void> {
    if (this.config.observer?.enabled === false) return;
    this.endpoints.onChange(() => this.endpointsVersion++);
    const enricher = new AgentFlowEnricher({
      nodeName: this.config.node,
      endpoints: () => this.endpoints.list(),
      endpointsVersion: () => this.endpointsVersion,
      identities: () => this.identities(),
      identitiesVersion: () => this.identitiesVersion,
      identityOfIP: (ip) => this.identityOfIP(ip),
      podByIP: (ip) => this.policy?.podByIP(ip),
      podsVersion: () => this.policy?.podsVersion ?? 0,
      podByName: (ns, name) => this.policy?.podByName(ns, name),
      podByUID: (uid) => this.policy?.podByUID(uid),
      ...(this.config.socketLB ? { podCgroupRoot: this.config.socketLB.cgroup } : {}),
      frontends: () => this.services?.rows() ?? [],
      frontendsVersion: () => this.services?.lastSync?.endAtMs ?? 0,
      cookieOrigins: (c) => this.policy?.cookieOrigins(c) ?? [],
      namesForIP: (ip) => this.dns?.namesForIP(ip) ?? [],
      localIdentityLabels: (id) => this.policy?.localIdentity(id)?.labels.map(formatLabel),
      defaultDenyOrigins: (id, dir) => this.policy?.defaultDenyOrigins(id, dir) ?? [],
    });
    this.observer = new AgentObserver(this.config.observer ?? {}, {
      nodeName: this.config.node,
      version,
      agentSocket: this.config.socket,
      datapath: this.datapath,
      enricher,
      log: this.log,
      health: {
        maps: () => this.datapath.info({ countEntries: true }).maps.map((m) => ({ name: m.name, entries: m.entries ?? 0, maxEntries: m.maxEntries })),
        kvstoreUp: () => this.kv.state === 'ok',
        endpoints: () => this.endpoints.list().length,
        datapathDrift: () => this.resync?.counts() ?? {},
      },
      policyFlush: () => this.policy?.lastFlush,
    });
    await this.observer.start(this.started);
    // The node proxy's access records become L7 flows.
    if (this.config.proxy) {
      const p = this.config.proxy;
      await this.observer.startHttpAccessReceiver({ address: '127.0.0.1', port: p.accessLogPort, ...(p.mtlsInPort !== undefined ? { mtlsListener: { ip: this.config.nodeIP, port: p.mtlsInPort } } : {}) });
    }
  }

  /**
   * The DNS and Kafka proxies in this process; a port they cannot bind is
   * fatal, as the observer's. Their rules come with the policy engine's
   * redirects (redirectIndex), so they start before policy does.
   */
  private async startL7Proxies(): Promise<void> {
    const c = this.config;
    const flows = this.observer?.flowSink();
    if (c.dnsProxy) {
      const dns = new AgentDns(c.dnsProxy, {
        log: this.log,
        redirects: this.redirectIndex,
        identityOfIP: (ip) => this.identityOfIP(ip),
        endpointByIP: (ip) => this.endpoints.findByIP(ip),
        namesChanged: (names) => this.fqdnNamesChanged(names),
        connectionDestinations: () => this.connectionDestinations(),
        liveEndpoints: () => new Set(this.endpoints.list().map((e) => e.id)),
        stateFile: join(c.stateDir, 'fqdn-cache.json'),
        ...(flows ? { ingest: flows.ingest, enricher: flows.enricher } : {}),
        nodeName: c.node,
        observeLearn: (ms) => this.observer?.metrics?.observeFqdnDatapathUpdate(ms / 1000),
      });
      await dns.start();
      this.dns = dns;
    }
    if (c.kafkaProxy) {
      const kafka = new AgentKafka(c.kafkaProxy, {
        log: this.log,
        redirects: this.redirectIndex,
        identityOfIP: (ip) => this.identityOfIP(ip),
        ...(flows ? { ingest: flows.ingest, enricher: flows.enricher } : {}),
        nodeName: c.node,
      });
      await kafka.start();
      this.kafka = kafka;
    }
  }

  /**
   * The DNS proxy learned or forgot names: the policy engine selects their
   * addresses for toFQDNs (CIDR identities of their /32s), and the policy
   * maps and the ipcache are written now, not on their timers: the answer
   * waits for this before it is released to the pod.
   */
  private fqdnNamesChanged(names: ReadonlyMap<string, readonly string[]>): void {
    const policy = this.policy;
    if (!policy || !policy.setFqdnNames(names)) return;
    policy.flush({ measureCpu: false });
    if (this.ipcacheSyncTimer) {
      clearTimeout(this.ipcacheSyncTimer);
      this.ipcacheSyncTimer = undefined;
    }
    this.syncIpcache();
  }

  /** Destination addresses of the conntrack table's live entries (what the FQDN garbage collector must keep). */
  private connectionDestinations(): Set<string> {
    const out = new Set<string>();
    for (const r of this.datapath.ctEntries()) {
      // Expired entries wait for the conntrack GC: their connections are over.
      if (r.expiresIn <= 0) continue;
      const i = r.dst.lastIndexOf(':');
      out.add(i > 0 ? r.dst.slice(0, i) : r.dst);
    }
    return out;
  }

  private ctGc(): void {
    try {
      const n = this.datapath.ctGarbageCollect();
      if (n) this.log.debug('conntrack gc', { deleted: n });
    } catch (e) {
      this.log.warn('conntrack gc failed', { error: (e as Error).message });
    }
  }

  /** The agent as the in-process CNI plugin sees it: direct calls, no HTTP. */
  private cniAgent(): AgentApi {
    return localAgentApi(this.config.socket, {
      network: () => this.config.cniNetwork || undefined,
      allocate: (owner) => ({ ...this.requireIpam().allocate(owner), mtu: this.podMTU }),
      allocateSpecific: (owner, ip) => ({ ...this.requireIpam().allocateSpecific(ip, owner), mtu: this.podMTU }),
      hostNetns: () => ({ hostNetns: this.config.hostNetns === true, netns: ownNetns() }),
      allocations: () => this.requireIpam().entries(),
      readiness: () => {
        const dp = datapathState(this.datapath.health?.());
        return { ...(this.ipam ? { ipam: this.ipam.stats() } : {}), ...(dp.state === 'degraded' ? { datapathProblem: dp.message ?? 'datapath degraded' } : {}) };
      },
      release: (owner) => void this.requireIpam().release(owner),
      // The plugin made this veth pair in this very request, under the name derived from the container.
      createEndpoint: (req) => this.endpoints.create(req, { linksMadeHere: true }),
      deleteEndpoint: (c, i) => this.endpoints.delete(c, i),
      listEndpoints: () => this.endpoints.list(),
    });
  }

  private requireIpam(): NodeIpam {
    if (!this.ipam) throw new UsageError('ipam: the agent is still starting');
    return this.ipam;
  }

  private startCluster(podCIDR: string): void {
    const cluster = this.cluster!;
    this.kv = { state: 'unreachable', message: 'connecting' };
    const check = async () => {
      try {
        await cluster.check();
        if (this.kv.state !== 'ok') {
          this.log.info(`${cluster.mode} reachable`, { endpoint: cluster.endpoint });
          this.kv = { state: 'ok' };
          await this.announce(podCIDR);
        }
        if (!this.identity) await (this.identityStarting ??= this.startIdentity().finally(() => (this.identityStarting = undefined)));
        else this.endpoints.regenerate();
        if (!this.services && this.datapath.lb) await (this.servicesStarting ??= this.startServices().finally(() => (this.servicesStarting = undefined)));
        if (!this.policy && this.identity && this.datapath.policy) await (this.policyStarting ??= this.startPolicy().finally(() => (this.policyStarting = undefined)));
        if (!this.mesh && this.proxy?.config.meshPort !== undefined) await (this.meshStarting ??= this.startMesh().finally(() => (this.meshStarting = undefined)));
      } catch (e) {
        if (this.kv.state === 'ok') this.log.warn(`${cluster.mode} unreachable; keeping the datapath as it is`, { error: (e as Error).message });
        this.kv = { state: 'unreachable', message: (e as Error).message };
      }
    };
    void check();
    this.timers.push(setInterval(() => void check(), 2000));
    void this.watchNodes();
  }

  /** Services into the datapath's service maps, once the kvstore answers (the maps keep their entries meanwhile). */
  private async startServices(): Promise<void> {
    const mgr = new ServiceManager(this.cluster!.store, this.datapath.lb!, { nodeName: this.config.node, nodeIPs: [this.config.nodeIP], ...(this.config.lbPoolCIDR ? { lbPool: [this.config.lbPoolCIDR] } : {}), ...(this.config.lbAlgorithm ? { defaultAlgorithm: this.config.lbAlgorithm } : {}) }, this.log);
    try {
      await withTimeout(mgr.start(), 10_000);
    } catch (e) {
      this.log.warn('service load-balancing not started; retrying', { error: (e as Error).message });
      await mgr.stop().catch(() => undefined);
      return;
    }
    this.services = mgr;
    // Routed Service ports compiled before the load-balancer started.
    this.mesh?.pushFrontends();
    this.log.info('service load-balancing started', { ...mgr.lastSync, socketLB: this.config.socketLB?.cgroup ?? 'off' });
  }

  /** Mesh routes into the node proxy; a failed start is tried again on the next kvstore check. */
  private async startMesh(): Promise<void> {
    const mesh = new MeshRoutes({
      store: this.cluster!.store,
      proxy: this.proxy!,
      services: () => this.services,
      log: this.log,
    });
    try {
      await withTimeout(mesh.start(), 10_000);
    } catch (e) {
      // Said once: a Kubernetes cluster without the Gateway API's HTTPRoute CRD fails this on every check.
      if (this.meshStartFailures++ === 0) this.log.warn('mesh routes not started; retrying (is the Gateway API HTTPRoute CRD installed?)', { error: (e as Error).message });
      else this.log.debug('mesh routes not started; retrying', { error: (e as Error).message });
      await mesh.stop().catch(() => undefined);
      return;
    }
    this.mesh = mesh;
    this.log.info('mesh routes started', { ...mesh.status(), port: this.proxy!.config.meshPort });
  }

  /**
   * Policy enforcement: policies and pods from the store, identities from the
   * allocator, into the policy map. Started once identities are; a failed
   * start is tried again on the next kvstore check.
   */
  private async startPolicy(): Promise<void> {
    const { allocator } = this.identity!;
    const c = this.config;
    const mgr = new PolicyManager(
      {
        store: this.cluster!.store,
        ...(this.cluster!.mode === 'kubernetes' ? { policyStatus: (this.policyStatus = new PolicyStatusWriter(this.cluster!.store, c.node, this.log)) } : {}),
        datapath: this.datapath.policy!,
        endpoints: this.endpoints,
        identities: () => allocator.list(),
        onIdentityChange: (cb) => allocator.onChange(cb),
        identityOfIP: (ip) => this.identityOfIP(ip),
        cidrIdentitiesChanged: () => this.scheduleIpcacheSync(),
        authRequiredChanged: (ids) => { for (const id of ids) this.endpoints.republish(id); },
        // With a proxy only: its redirect entries wait for it to acknowledge them. The in-agent
        // proxies (DNS, Kafka) have them as soon as they are handed on; HAProxy after its reload.
        ...(this.proxy || this.dns || this.kafka
          ? {
              redirectsChanged: (eps: EndpointRedirects[], gen: number) => {
                this.redirects = eps;
                this.redirectsGen = gen;
                this.redirectIndex.set(eps);
                if (this.proxy) this.updateProxy();
                else queueMicrotask(() => this.policy?.proxyApplied(gen));
              },
            }
          : {}),
        log: this.log,
      },
      {
        enforcement: c.policyEnforcement ?? 'default', audit: c.policyAuditMode ?? false, allowLocalhost: true, policyMapMax: c.policyMapMax ?? 16384,
        // The datapath hands connections to the proxy at the destination's node (ingress) and the source's (egress).
        ...(c.proxy || this.dns || this.kafka
          ? {
              proxyPorts: {
                ...(c.proxy ? { ingress: c.proxy.ingressPort, ...(c.proxy.egressPort !== undefined ? { egress: c.proxy.egressPort } : {}) } : {}),
                ...(this.dns ? { dns: this.dns.port } : {}),
                ...(this.kafka ? { kafka: this.kafka.ports } : {}),
              },
            }
          : {}),
      },
    );
    try {
      await withTimeout(mgr.start(), 10_000);
    } catch (e) {
      this.log.warn('policy enforcement not started; retrying', { error: (e as Error).message });
      await mgr.stop().catch(() => undefined);
      return;
    }
    this.policy = mgr;
    if (this.proxy) this.proxy.onApplied = (gen) => mgr.proxyApplied(gen);
    // Names the DNS proxy learned before policy (re)started.
    if (this.dns) this.fqdnNamesChanged(this.dns.cache.names());
    this.endpoints.setPolicyGate((ep) => mgr.whenProgrammed(ep.id));
    this.log.info('policy enforcement started', { mode: c.policyEnforcement ?? 'default', audit: c.policyAuditMode ?? false, policies: mgr.status().policies.length });
  }

  /** The identity bl_ipcache gives an address (world when nothing more specific). */
  private identityOfIP(ip: string): number {
    const n = tryParseIPv4(ip);
    // Not IPv4 (an IPv6 packet a pod sent, dropped by the datapath): the ipcache holds none; the world.
    if (n === undefined) return ReservedIdentity.world;
    const host = this.ipcacheHosts.get(n);
    if (host !== undefined) return host;
    return lpmLookup(this.ipcacheDesired, n)?.value.sec_identity ?? ReservedIdentity.world;
  }

  private requirePolicy(): PolicyManager {
    if (!this.policy) throw new UsageError('policy: enforcement has not started yet (it needs the kvstore and identities)', 'see beeline status');
    return this.policy;
  }

  /**
   * The identity allocator and the ipcache store: started once the kvstore
   * answers, then endpoints get their identities and bl_ipcache follows the
   * store. A failed start is tried again on the next kvstore check.
   */
  private async startIdentity(): Promise<void> {
    const { allocator, ipcache } = this.cluster!.identity();
    try {
      await withTimeout(allocator.start(), 5000);
      await withTimeout(ipcache.start(), 5000);
    } catch (e) {
      this.log.warn('identity allocator not started; retrying', { error: (e as Error).message });
      await allocator.stop().catch(() => undefined);
      await ipcache.stop().catch(() => undefined);
      return;
    }
    this.identity = { allocator, ipcache };
    this.identitiesVersion++;
    allocator.onChange(() => this.identitiesVersion++);
    ipcache.onChange(() => this.scheduleIpcacheSync());
    this.log.info('identity allocator started', { identities: allocator.list().length, ipcache: ipcache.entries().length });
    this.endpoints.setIdentityBackend({
      acquire: (labels) => allocator.acquire(labels),
      release: (labels) => allocator.release(labels),
      publish: (ip, identity, ep) =>
        ipcache.upsert({
          prefix: ip, identity, hostIP: this.config.nodeIP, ...(ep?.pod ? { pod: ep.pod } : {}), ...(ep ? { endpointID: ep.id } : {}),
          // Issue 15: its ingress requires mutual authentication; other nodes' pods then go through their proxy's mTLS-out listener.
          ...(ep && this.policy?.ingressAuthRequired(ep.id) ? { authRequired: true } : {}),
        }),
      unpublish: (ip) => ipcache.delete(ip),
      podSource: (namespace, name) => this.podSource(namespace, name),
    });
    this.scheduleIpcacheSync();
  }

  /** A pod's security-relevant facts from the store: its labels, its namespace's labels, its service account. */
  private async podSource(namespace: string, name: string): Promise<PodIdentitySource | undefined> {
    const store = this.cluster!.store;
    const [pod, ns] = await Promise.all([store.get('Pod', namespace, name), store.get('Namespace', undefined, namespace)]);
    if (!pod) return undefined;
    return { namespace, labels: pod.metadata.labels ?? {}, namespaceLabels: ns?.metadata.labels ?? {}, serviceAccount: (pod.spec as { serviceAccountName?: string } | undefined)?.serviceAccountName };
  }

  private identities(): Identity[] {
    return this.identity?.allocator.list() ?? [...RESERVED_IDENTITIES];
  }

  /** This node's references, as the allocator holds them and as the endpoints count them. */
  private identityReferences(): { node: string; id: number; references: number; endpoints: number }[] {
    const refs = this.identity?.allocator.references() ?? new Map<number, number>();
    const users = this.endpoints.identityUsers();
    const ids = [...new Set([...refs.keys(), ...users.keys()])].sort((a, b) => a - b);
    return ids.map((id) => ({ node: this.config.node, id, references: refs.get(id) ?? 0, endpoints: users.get(id) ?? 0 }));
  }

  private scheduleIpcacheSync(): void {
    if (this.ipcacheSyncTimer) return;
    this.ipcacheSyncTimer = setTimeout(() => {
      this.ipcacheSyncTimer = undefined;
      this.syncIpcache();
    }, 20);
  }

  /**
   * bl_ipcache := toMapEntries(store entries, nodes), writing only what
   * differs. Only once both the node list and the ipcache store have been
   * read: while the store is unreachable the caches keep their last state,
   * so nothing is deleted for want of seeing it.
   */
  private syncIpcache(opts: { reread?: boolean } = {}): number {
    const ipcache = this.identity?.ipcache;
    if (!ipcache || !this.nodesLoaded || !this.datapath.syncIpcache) return 0;
    const c = this.config;
    const nodes: IpcacheNode[] = [
      { name: c.node, nodeIP: c.nodeIP, ...(this.ipam ? { podCIDR: this.ipam.podCIDR } : {}), nodeId: nodeIdOf(c.node) },
      ...[...this.remoteNodes.values()].map((n) => ({ name: n.name, nodeIP: n.nodeIP, podCIDR: n.podCIDR, nodeId: nodeIdOf(n.name) })),
    ];
    try {
      this.ipcacheDesired = toMapEntries({ entries: ipcache.entries(), nodes, localNode: c.node, ...(this.policy ? { cidrIdentities: this.policy.cidrIdentities() } : {}) });
      this.ipcacheHosts = new Map(this.ipcacheDesired.filter((e) => e.key.prefixlen === 32).map((e) => [e.key.ip4 >>> 0, e.value.sec_identity]));
      this.ipcacheComputed = true;
      // The proxy renders only when its text changes (after an agent restart the map is already current).
      this.updateProxy();
      this.meshTls?.refresh();
      const { upserts, deletes } = this.datapath.syncIpcache(this.ipcacheDesired, opts);
      if (upserts.length || deletes.length) this.log.debug('ipcache synced', { upserts: upserts.length, deletes: deletes.length });
      return upserts.length + deletes.length;
    } catch (e) {
      this.log.warn('ipcache sync failed', { error: (e as Error).message });
      return 0;
    }
  }

  /**
   * The periodic comparison of the maps with the model (src/agent/resync.ts):
   * bl_ipcache against the entries the store and the nodes give now, the
   * service maps against the Services' model, the policy map against what
   * the policy engine wrote; what differs is repaired and
   * counted. Started with the datapath; `resyncIntervalMs` 0 turns it off.
   */
  private startResync(): void {
    const targets: ResyncTarget[] = [];
    if (this.datapath.syncIpcache) {
      // Not while a sync of a change is scheduled: that difference is not drift.
      targets.push({ name: 'ipcache', repair: () => (this.ipcacheSyncTimer || !this.ipcacheComputed ? 0 : this.syncIpcache({ reread: true })) });
    }
    if (this.datapath.lb) targets.push({ name: 'lb', repair: () => this.services?.resync() ?? 0 });
    if (this.datapath.policy) targets.push({ name: 'policy', repair: () => this.policy?.resync() ?? 0 });
    // The endpoint map: only a BPF datapath has one (plain routing answers no rows).
    if (this.datapath.syncIpcache) targets.push({ name: 'endpoints', repair: () => this.resyncEndpoints() });
    if (targets.length === 0) return;
    this.resync = new DatapathResync(targets, this.config.resyncIntervalMs ?? DEFAULT_RESYNC_INTERVAL_MS, this.log);
    this.resync.start();
  }

  /**
   * bl_lxc against the endpoints: an endpoint whose entry is missing or
   * carries another id or identity is programmed again (upsertEndpoint is
   * idempotent). Only when the same difference is seen at two resyncs in a
   * row: an endpoint being created, or changing identity, is in the model
   * a moment before its entry is written, and that is not drift.
   */
  private resyncEndpoints(): number {
    const rows = new Map(this.datapath.endpointMap().map((r) => [r.ip, r]));
    const suspects = new Map<number, string>();
    let repaired = 0;
    for (const ep of this.endpoints.list()) {
      const r = rows.get(ep.ipv4);
      const want = `${ep.id}/${ep.identity}`;
      const have = r ? `${r.id}/${r.identity}` : 'missing';
      if (have === want) continue;
      const seen = `${want} ${have}`;
      if (this.lxcSuspects.get(ep.id) !== seen) {
        suspects.set(ep.id, seen);
        continue;
      }
      repaired++;
      this.datapath.upsertEndpoint(ep).catch((e: Error) => this.log.warn('endpoint resync failed', { endpoint: ep.id, error: e.message }));
    }
    this.lxcSuspects = suspects;
    return repaired;
  }

  /** Runs the datapath resync now (tests, and `beeline` when asked); answers what it repaired per map. */
  resyncNow(): Record<string, number> {
    return this.resync?.run() ?? {};
  }

  /** Hands the node proxy the current redirects and the ipcache's identities (it renders and reloads if they changed). */
  private updateProxy(): void {
    if (!this.proxy) return;
    // The node proxy serves the HTTP redirects only (DNS and Kafka are the agent's own proxies).
    const http = this.redirects.some((e) => e.l7.some(toNodeProxy));
    // Rule sets without the ipcache would see every peer as world (after an agent restart: denials
    // the running proxy does not make now); the first ipcache sync hands them on.
    if (http && !this.ipcacheComputed) return;
    // Nothing before the policy engine's first answer: an empty configuration would be a reload
    // (closing idle proxied connections) of a proxy that already runs the right one.
    if (this.redirectsGen === 0) return;
    // Only what the proxy's rules can ask about: with no HTTP redirect, no identity is looked up (and
    // a learned DNS address does not swap the proxy's identity map).
    const identities = http ? this.ipcacheDesired.map((e) => ({ prefix: `${formatIPv4(e.key.ip4)}/${e.key.prefixlen}`, identity: e.value.sec_identity })) : [];
    this.proxy.update(this.redirects, identities, this.redirectsGen);
  }

  /** Writes this node's record and heartbeat. */
  private async announce(podCIDR: string): Promise<void> {
    const c = this.config;
    await this.cluster!.announce({ name: c.node, nodeIP: c.nodeIP, podCIDR });
  }

  /**
   * Lists, then watches, the node records; every other node is programmed
   * into the datapath. Changes are applied one at a time in the order they
   * came (a node's records must not be programmed out of order); a watch
   * whose history was compacted lists again and applies the difference
   * (store/kv.ts), so a node that went meanwhile is removed.
   */
  private async watchNodes(): Promise<void> {
    let queue = Promise.resolve();
    const apply = (name: string, node: RemoteNode | undefined) => {
      queue = queue.then(() => this.applyNode(name, node));
    };
    const cluster = this.cluster!;
    const inf = cluster.watchNodes(apply, this.log);
    this.nodeWatch = inf;
    for (;;) {
      try {
        // The watch starts right after the revision listed: a node announced between the list and the
        // watch is not missed (without it, such a node was never routed to).
        await withTimeout(inf.start(), 3000);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 1000));
        if (this.cluster !== cluster) return;
      }
    }
    await queue;
    this.nodesLoaded = true;
    this.scheduleIpcacheSync();
  }

  /**
   * Programs one node record (undefined: the node is gone). A changed record
   * is one change: the new state is written before the old is removed, so
   * the node is never unreachable (a new pod CIDR is routed before the old
   * one goes; a new address replaces the old in place).
   */
  private async applyNode(name: string, n: RemoteNode | undefined): Promise<void> {
    if (name === this.config.node) return;
    try {
      const old = this.remoteNodes.get(name);
      if (n === undefined) {
        if (old) {
          await this.datapath.removeRemoteNode(old);
          this.remoteNodes.delete(name);
          this.log.info('node removed', { node: name });
          this.scheduleIpcacheSync();
        }
        return;
      }
      if (old && old.nodeIP === n.nodeIP && old.podCIDR === n.podCIDR) return;
      await this.datapath.upsertRemoteNode(n);
      // Same pod CIDR: the upsert replaced its entries in place; removing the old would remove them.
      if (old && old.podCIDR !== n.podCIDR) await this.datapath.removeRemoteNode(old);
      this.remoteNodes.set(name, n);
      this.log.info('node learned', { node: name, nodeIP: n.nodeIP, podCIDR: n.podCIDR });
      this.scheduleIpcacheSync();
    } catch (e) {
      this.log.warn('node not programmed', { node: name, error: (e as Error).message });
    }
  }

  async stop(): Promise<void> {
    this.log.info('stopping');
    for (const t of this.timers) clearInterval(t);
    this.resync?.stop();
    if (this.ipcacheSyncTimer) clearTimeout(this.ipcacheSyncTimer);
    await this.api.close();
    await this.observer?.stop().catch(() => undefined);
    this.endpoints.setIdentityBackend(undefined);
    await this.mesh?.stop().catch(() => undefined);
    await this.services?.stop().catch(() => undefined);
    this.endpoints.setPolicyGate(undefined);
    await this.policy?.stop().catch(() => undefined);
    this.policyStatus?.stop();
    await this.meshTls?.stop().catch(() => undefined);
    this.proxy?.stop();
    this.dns?.stop();
    this.kafka?.stop();
    this.policy = undefined;
    // Not revoked: a stopped (restarting) agent's references and entries live out their lease, as its pods do.
    await this.identity?.ipcache.stop({ revoke: false });
    await this.identity?.allocator.stop({ revoke: false });
    this.identity = undefined;
    this.nodeWatch?.stop();
    const cluster = this.cluster;
    this.cluster = undefined;
    await cluster?.close();
    try {
      await this.datapath.close();
    } finally {
      // Last: a successor starts only once this agent has let go of the node.
      this.lock?.release();
      this.lock = undefined;
    }
  }
}

/** bl_datapath_config.node_id of a node, as the datapath derives it (the digits of its name). */
const nodeIdOf = (name: string) => Number(name.replace(/\D/g, '')) || 0;

const identityJson = (i: Identity) => ({ id: i.id, labels: formatLabelSet(i.labels) });

function ownerOf(b: { owner?: unknown } | undefined): string {
  if (!b || typeof b.owner !== 'string' || !b.owner) throw new UsageError('ipam: owner: required (containerID/ifname)');
  return b.owner;
}

function requestedIpOf(b: { ip?: unknown } | undefined): string | undefined {
  if (b?.ip === undefined || b.ip === null || b.ip === '') return undefined;
  if (typeof b.ip !== 'string') throw new UsageError('ipam: ip: must be an IPv4 address string');
  return b.ip;
}

function requireParam(q: URLSearchParams, name: string): string {
  const v = q.get(name);
  if (!v) throw new UsageError(`query parameter ${name}: required`);
  return v;
}


/** How many of the datapath's problems `status` names in its message (the rest are counted). */
const HEALTH_PROBLEMS_SHOWN = 3;

/** status.datapath's state and message from the datapath's health checks (none: nothing to check, ok). */
export function datapathState(h: DatapathHealth | undefined): { state: 'ok' | 'degraded'; message?: string } {
  if (!h || h.state === 'ok') return { state: 'ok' };
  const shown = h.problems.slice(0, HEALTH_PROBLEMS_SHOWN).join('; ');
  const more = h.problems.length - HEALTH_PROBLEMS_SHOWN;
  return { state: 'degraded', message: more > 0 ? `${shown}; and ${more} more` : shown };
}

/**
 * Where the agent keeps and learns the cluster's state: one interface, two
 * modes, as Cilium has its kvstore and CRD modes.
 *
 * - kvstore (the lab; `kvstore` in AgentConfig): the resources in etcd
 *   (src/store/etcd.ts), and beside them raw keys for what the agents share:
 *   node records and heartbeats, identities, the ipcache, pod-CIDR claims.
 * - kubernetes (`k8sKubeconfig`, `beeline agent --k8s-kubeconfig`): the
 *   resources from the API server (src/store/kubernetes.ts, the client's
 *   informers), the shared state in beeline's own custom resources
 *   (deploy/kubernetes/crds/): BeelineIdentity, BeelineEndpoint (the
 *   ipcache), BeelineNode (addresses, pod CIDR). No etcd is needed.
 *
 * The agent does not know which it has: it checks the backend, reads its pod
 * CIDR, takes an identity allocator and an ipcache from it, announces its
 * node and watches the others through it.
 */
import { Etcd3, type Lease } from 'etcd3';
import type { Logger } from '../common/log.js';
import { version } from '../common/version.js';
import { withTimeout } from '../common/timeout.js';
import { BeelineError, StoreAlreadyExistsError, StoreConflictError, UsageError } from '../common/errors.js';
import { IdentityAllocator, type IdentitySource } from '../identity/allocator.js';
import { IpcacheStore, type IpcacheSource } from '../identity/ipcache.js';
import { CrdIdentityAllocator, CrdIpcache } from '../identity/crd.js';
import { EtcdStore } from '../store/etcd.js';
import { KvInformer, type KvEntry } from '../store/kv.js';
import { openKubernetesStore } from '../store/kubernetes.js';
import type { Store, StoreObject } from '../store/store.js';
import { tryParseIPv4 } from '../ipam/cidr.js';
import { claimNodeCIDR } from '../ipam/clusterpool.js';
import type { RemoteNode } from './datapath.js';
import type { AgentConfig } from './types.js';

/** Heartbeat of a running agent, held by a lease so it disappears when the agent does. */
export const agentKey = (node: string) => `/beeline/v1/agents/${node}`;
/** A node's record (address, pod CIDR): persistent, so a dead agent does not take its pods' routes with it. */
export const nodeKey = (node: string) => `/beeline/v1/nodes/${node}`;
export const NODES_PREFIX = '/beeline/v1/nodes/';

/** A running watch of the other nodes. */
export interface NodeWatch {
  /** Lists, then watches from the list's version; resolves once the list has been applied. */
  start(): Promise<void>;
  stop(): void;
}

export interface ClusterBackend {
  readonly mode: 'kvstore' | 'kubernetes';
  /** Where: the etcd endpoint or the API server's URL (status). */
  readonly endpoint: string;
  /** The resources (Pods, Services, policies, …). */
  readonly store: Store;
  /** Throws when the backend does not answer (checked every 2 s; the agent is degraded meanwhile). */
  check(): Promise<void>;
  /** This node's pod CIDR as the backend assigns it (waits as long as it takes: without one no pod starts). */
  claimPodCIDR(): Promise<string>;
  /** A new identity allocator and ipcache (started by the caller; made again after a failed start). */
  identity(): { allocator: IdentitySource; ipcache: IpcacheSource };
  /** Writes this node's record (address, pod CIDR) and, where the backend has one, its heartbeat. */
  announce(node: RemoteNode): Promise<void>;
  /** Calls `apply` for every other node's record, in order (undefined: the node is gone). */
  watchNodes(apply: (name: string, node: RemoteNode | undefined) => void, log: Logger): NodeWatch;
  /** Told when the heartbeat is lost (the agent re-announces once the backend is back). */
  onHeartbeatLost?: () => void;
  close(): Promise<void>;
}

/** The backend the configuration names: Kubernetes with `k8sKubeconfig`, etcd with `kvstore`, none without either. */
export function openClusterBackend(config: AgentConfig, log: Logger, etcdFactory: (endpoint: string) => Etcd3): ClusterBackend | undefined {
  if (config.k8sKubeconfig && config.kvstore) {
    throw new UsageError(`agent ${config.node}: kvstore and k8sKubeconfig are both set`, 'choose one: the kvstore (etcd) or the Kubernetes API');
  }
  if (config.k8sKubeconfig) {
    const store = openKubernetesStore({ kubeconfig: config.k8sKubeconfig });
    return new KubernetesCluster(config, store, store.kubeConfig.getCurrentCluster()?.server ?? '', log);
  }
  if (config.kvstore) return new KvstoreCluster(config, etcdFactory(config.kvstore), log);
  return undefined;
}

// ---------------------------------------------------------------------------
// kvstore mode

export class KvstoreCluster implements ClusterBackend {
  readonly mode = 'kvstore' as const;
  readonly endpoint: string;
  readonly store: Store;
  private lease: Lease | undefined;
  onHeartbeatLost?: () => void;

  constructor(
    private readonly config: AgentConfig,
    readonly etcd: Etcd3,
    private readonly log: Logger,
  ) {
    this.endpoint = config.kvstore;
    // The store reads through the agent's own etcd client (closed by close(), not through the store).
    this.store = new EtcdStore(etcd);
  }

  async check(): Promise<void> {
    await withTimeout(this.etcd.maintenance.status(), 2000);
  }

  async claimPodCIDR(): Promise<string> {
    return claimNodeCIDR(this.etcd, this.config.node, this.config.clusterPoolCIDR, this.config.clusterPoolMaskSize);
  }

  identity(): { allocator: IdentitySource; ipcache: IpcacheSource } {
    return {
      allocator: new IdentityAllocator(this.etcd, { node: this.config.node, log: this.log }),
      ipcache: new IpcacheStore(this.etcd, { node: this.config.node, log: this.log }),
    };
  }

  async announce(node: RemoteNode): Promise<void> {
    await this.etcd.put(nodeKey(node.name)).value(JSON.stringify(node));
    if (this.lease) return;
    const lease = this.etcd.lease(15, { autoKeepAlive: true });
    lease.on('lost', () => {
      this.log.warn('kvstore lease lost; re-announcing when the store is back');
      this.lease = undefined;
      this.onHeartbeatLost?.();
    });
    this.lease = lease;
    await lease.put(agentKey(node.name)).value(JSON.stringify({ node: node.name, version, pid: process.pid }));
  }

  watchNodes(apply: (name: string, node: RemoteNode | undefined) => void, log: Logger): NodeWatch {
    const inf = new KvInformer(this.etcd, NODES_PREFIX);
    const name = (e: KvEntry) => e.key.slice(NODES_PREFIX.length);
    inf.on('put', (e: KvEntry) => {
      let n: RemoteNode;
      try {
        n = JSON.parse(e.value) as RemoteNode;
      } catch (err) {
        log.warn('ignoring malformed node record', { key: e.key, error: (err as Error).message });
        return;
      }
      apply(name(e), n);
    });
    inf.on('delete', (e: KvEntry) => apply(name(e), undefined));
    inf.on('error', (e: Error) => log.warn('node watch error', { error: e.message }));
    inf.on('relisted', (n: { puts: number; deletes: number }) => log.info('node records relisted', n));
    return { start: () => inf.start(), stop: () => inf.stop() };
  }

  async close(): Promise<void> {
    if (this.lease) await this.lease.revoke().catch(() => undefined);
    this.lease = undefined;
    this.etcd.close();
  }
}

// ---------------------------------------------------------------------------
// Kubernetes mode

/** The node's pod CIDR as a BeelineNode carries it (spec.ipam.podCIDRs[0], IPv4). */
export function beelineNodePodCIDR(o: StoreObject | undefined): string | undefined {
  const cidrs = (o?.spec as { ipam?: { podCIDRs?: unknown } } | undefined)?.ipam?.podCIDRs;
  return Array.isArray(cidrs) ? cidrs.find((c): c is string => typeof c === 'string' && tryParseIPv4(c.split('/')[0] ?? '') !== undefined) : undefined;
}

/** A BeelineNode as the datapath's remote node; undefined while it has no InternalIP or pod CIDR yet. */
export function remoteNodeOf(o: StoreObject): RemoteNode | undefined {
  const addrs = (o.spec as { addresses?: unknown } | undefined)?.addresses;
  const ip = Array.isArray(addrs) ? (addrs as { type?: unknown; ip?: unknown }[]).find((a) => a?.type === 'InternalIP' && typeof a.ip === 'string' && tryParseIPv4(a.ip) !== undefined)?.ip : undefined;
  const podCIDR = beelineNodePodCIDR(o);
  return typeof ip === 'string' && podCIDR ? { name: o.metadata.name, nodeIP: ip, podCIDR } : undefined;
}

/** The IPv4 pod CIDR a Node object was given (spec.podCIDRs, else spec.podCIDR): kube-controller-manager's --allocate-node-cidrs. */
export function nodeObjectPodCIDR(o: StoreObject | undefined): string | undefined {
  const spec = (o?.spec ?? {}) as { podCIDR?: unknown; podCIDRs?: unknown };
  const all = [...(Array.isArray(spec.podCIDRs) ? spec.podCIDRs : []), spec.podCIDR];
  return all.find((c): c is string => typeof c === 'string' && tryParseIPv4(c.split('/')[0] ?? '') !== undefined);
}

const BEELINE_NODE = { apiVersion: 'beeline.io/v1alpha1', kind: 'BeelineNode' } as const;

export class KubernetesCluster implements ClusterBackend {
  readonly mode = 'kubernetes' as const;

  constructor(
    private readonly config: AgentConfig,
    readonly store: Store,
    /** The API server's URL (status). */
    readonly endpoint: string,
    private readonly log: Logger,
  ) {}

  /** The API answers for this node's Node object (which the kubelet registers). */
  async check(): Promise<void> {
    const node = await withTimeout(this.store.get('Node', undefined, this.config.node), 2000);
    if (!node) throw new UsageError(`kubernetes: Node ${this.config.node} does not exist`, 'the kubelet registers it; check --node / BEELINE_NODE_NAME');
  }

  /**
   * `ipam: kubernetes` (default): the Node's spec.podCIDR, which
   * kube-controller-manager allocates. `ipam: cluster-pool`: the
   * BeelineNode's spec.ipam.podCIDRs, which the operator hands out from
   * the cluster pool. Waits (polling every second) until there is one.
   */
  async claimPodCIDR(): Promise<string> {
    const mode = this.config.ipam ?? 'kubernetes';
    for (let attempt = 1; ; attempt++) {
      try {
        if (mode === 'kubernetes') {
          const cidr = nodeObjectPodCIDR(await this.store.get('Node', undefined, this.config.node));
          if (cidr) return cidr;
          if (attempt % 10 === 1) this.log.warn('waiting for the Node to be given a pod CIDR (spec.podCIDR)', { node: this.config.node });
        } else {
          const own = await this.ensureOwnNode();
          const cidr = beelineNodePodCIDR(own);
          if (cidr) return cidr;
          if (attempt % 10 === 1) this.log.warn('waiting for the operator to hand out a pod CIDR (BeelineNode spec.ipam.podCIDRs)', { node: this.config.node });
        }
      } catch (e) {
        if (e instanceof BeelineError && e.code === 'BL_ERR_STORE_INVALID') throw e;
        if (attempt % 10 === 1) this.log.warn('waiting for the Kubernetes API to read the pod CIDR', { error: (e as Error).message });
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  /** This node's BeelineNode, created (with its address) when it does not exist. */
  private async ensureOwnNode(): Promise<StoreObject> {
    const had = await this.store.get('BeelineNode', undefined, this.config.node);
    if (had) return had;
    try {
      return await this.store.create({ ...BEELINE_NODE, metadata: { name: this.config.node }, spec: { addresses: [{ type: 'InternalIP', ip: this.config.nodeIP }] } });
    } catch (e) {
      const again = await this.store.get('BeelineNode', undefined, this.config.node);
      if (again) return again;
      throw e;
    }
  }

  identity(): { allocator: IdentitySource; ipcache: IpcacheSource } {
    return {
      allocator: new CrdIdentityAllocator(this.store, { node: this.config.node, log: this.log }),
      ipcache: new CrdIpcache(this.store, { node: this.config.node, log: this.log }),
    };
  }

  /**
   * Creates or updates this node's BeelineNode: its InternalIP and pod CIDR
   * (in cluster-pool mode the one the operator wrote). Created whole, so the
   * operator never sees it without its pod CIDR and hands it another.
   */
  async announce(node: RemoteNode): Promise<void> {
    const want = (spec: Record<string, unknown>) => ({ ...spec, addresses: [{ type: 'InternalIP', ip: node.nodeIP }], ipam: { ...((spec.ipam as object | undefined) ?? {}), podCIDRs: [node.podCIDR] } });
    for (let attempt = 0; ; attempt++) {
      const own = await this.store.get('BeelineNode', undefined, node.name);
      try {
        if (!own) {
          await this.store.create({ ...BEELINE_NODE, metadata: { name: node.name }, spec: want({}) });
          return;
        }
        const spec = (own.spec ?? {}) as Record<string, unknown>;
        const next = want(spec);
        if (JSON.stringify(spec) === JSON.stringify(next)) return;
        await this.store.update({ ...own, spec: next });
        return;
      } catch (e) {
        // Another writer (the operator) got there between the read and the write: read again.
        if (!(e instanceof StoreConflictError || e instanceof StoreAlreadyExistsError) || attempt >= 5) throw e;
      }
    }
  }

  watchNodes(apply: (name: string, node: RemoteNode | undefined) => void, log: Logger): NodeWatch {
    const inf = this.store.informer('BeelineNode');
    const put = (o: StoreObject) => {
      const n = remoteNodeOf(o);
      // Not ready yet (no address or pod CIDR): nothing to route to; a node that had one and lost it is removed.
      apply(o.metadata.name, n);
    };
    inf.on('add', put);
    inf.on('update', put);
    inf.on('delete', (o: StoreObject) => apply(o.metadata.name, undefined));
    inf.on('error', (e: Error) => log.warn('node watch error', { error: e.message }));
    return {
      start: async () => {
        await inf.start();
        await inf.waitForSync();
      },
      stop: () => void inf.stop().catch(() => undefined),
    };
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}

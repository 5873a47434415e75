/**
 * The cluster-wide operator (Cilium's cilium-operator): work that belongs to
 * no single node. One per cluster, in either cluster backend:
 *   kvstore mode (--kvstore, the lab): garbage-collects security identities
 *     no node references (etcd ref keys, src/identity/allocator.ts);
 *   Kubernetes mode (--k8s-kubeconfig): garbage-collects BeelineIdentities no
 *     BeelineEndpoint names (src/identity/crd.ts), hands out pod CIDRs of the
 *     cluster pool to BeelineNodes and deletes BeelineNodes (and their
 *     BeelineEndpoints) whose Node is gone (src/operator/nodes.ts).
 * In both, with a mesh CA key file: runs the mesh certificate authority
 * (src/mesh/ca.ts) and signs the agents' BeelineCertificateRequests
 * (src/mesh/certs.ts).
 */
import type { Etcd3 } from 'etcd3';
import { IdentityGarbageCollector } from '../identity/allocator.js';
import { CrdIdentityGarbageCollector } from '../identity/crd.js';
import { UsageError } from '../common/errors.js';
import { logger, type Logger } from '../common/log.js';
import { etcdClient } from '../common/etcd.js';
import { openKubernetesStore } from '../store/kubernetes.js';
import type { Store } from '../store/store.js';
import { BeelineNodeController } from './nodes.js';
import { RouteStatusController } from './routes.js';
import { openEtcdStore } from '../store/etcd.js';
import { MeshCa } from '../mesh/ca.js';
import { CertificateSigner } from '../mesh/certs.js';

export interface OperatorConfig {
  /** etcd client endpoint (kvstore mode); exactly one of kvstore and k8sKubeconfig. */
  kvstore?: string;
  /** Kubernetes mode: a kubeconfig path, or `in-cluster` (the pod's service account). */
  k8sKubeconfig?: string;
  /** How long an identity stays unreferenced before it is deleted (Cilium: identity-gc-interval/heartbeat). */
  identityGcGraceMs: number;
  /** How often a GC pass runs. */
  identityGcIntervalMs: number;
  /** Kubernetes mode: the cluster pool BeelineNodes get their pod CIDRs from; without it none are handed out. */
  clusterPoolCIDR?: string;
  /** Kubernetes mode: the size of each node's block (24). */
  clusterPoolMaskSize?: number;
  /** The mesh CA's at-rest key (32 bytes, mode 0600): with it the operator runs the CA and signs certificate requests. */
  meshCaKeyFile?: string;
  /** The mesh's SPIFFE trust domain (cluster.local). */
  meshTrustDomain?: string;
}

/** Checks that exactly one backend is named. */
export function checkOperatorConfig(c: OperatorConfig): void {
  if (!!c.kvstore === !!c.k8sKubeconfig) {
    throw new UsageError('operator: give exactly one of --kvstore (etcd) and --k8s-kubeconfig (Kubernetes)', 'the lab uses --kvstore; a cluster --k8s-kubeconfig=in-cluster');
  }
  if (c.clusterPoolCIDR !== undefined && !c.k8sKubeconfig) {
    throw new UsageError('operator: --cluster-pool-cidr needs --k8s-kubeconfig', 'in kvstore mode each agent claims its pod CIDR itself');
  }
}

export class Operator {
  private readonly log: Logger = logger('operator');
  private etcd: Etcd3 | undefined;
  private store: Store | undefined;
  private gc: IdentityGarbageCollector | undefined;
  private crdGc: CrdIdentityGarbageCollector | undefined;
  private nodes: BeelineNodeController | undefined;
  private routes: RouteStatusController | undefined;
  private signer: CertificateSigner | undefined;

  /** `store`: Kubernetes mode over this store instead of opening `k8sKubeconfig` (tests). */
  constructor(
    private readonly config: OperatorConfig,
    private readonly deps: { store?: Store; log?: Logger } = {},
  ) {
    checkOperatorConfig(config);
    if (deps.log) this.log = deps.log;
  }

  async start(): Promise<void> {
    const c = this.config;
    if (c.kvstore) {
      this.etcd = etcdClient(c.kvstore);
      this.gc = new IdentityGarbageCollector(this.etcd, { graceMs: c.identityGcGraceMs, log: this.log });
      this.gc.start(c.identityGcIntervalMs);
      this.store = this.deps.store ?? openEtcdStore({ endpoint: c.kvstore });
    } else {
      this.store = this.deps.store ?? openKubernetesStore({ kubeconfig: c.k8sKubeconfig! });
      this.crdGc = new CrdIdentityGarbageCollector(this.store, { graceMs: c.identityGcGraceMs, log: this.log });
      this.crdGc.start(c.identityGcIntervalMs);
      this.nodes = new BeelineNodeController(this.store, { clusterPoolCIDR: c.clusterPoolCIDR, clusterPoolMaskSize: c.clusterPoolMaskSize, log: this.log });
      await this.nodes.start();
    }
    // Not awaited: a cluster without the Gateway API's HTTPRoute CRD keeps the rest of the operator going.
    const routes = (this.routes = new RouteStatusController(this.store, this.log));
    routes.start().catch((e: Error) => this.log.warn('route status not started', { error: e.message }));
    if (c.meshCaKeyFile) {
      const store = this.store;
      const ca = await MeshCa.open({ store, keyFile: c.meshCaKeyFile, ...(c.meshTrustDomain ? { trustDomain: c.meshTrustDomain } : {}) });
      this.signer = new CertificateSigner(store, ca, this.log);
      await this.signer.start();
      this.log.info('mesh CA ready', { trustDomain: ca.trustDomain });
    }
    this.log.info('started', {
      mode: c.kvstore ? 'kvstore' : 'kubernetes',
      identityGcGraceMs: c.identityGcGraceMs,
      identityGcIntervalMs: c.identityGcIntervalMs,
      ...(c.clusterPoolCIDR ? { clusterPoolCIDR: c.clusterPoolCIDR, clusterPoolMaskSize: c.clusterPoolMaskSize ?? 24 } : {}),
    });
  }

  async stop(): Promise<void> {
    await this.gc?.stop();
    await this.crdGc?.stop();
    await this.nodes?.stop();
    await this.routes?.stop();
    await this.signer?.stop();
    this.etcd?.close();
    if (this.store && !this.deps.store) await this.store.close();
  }
}

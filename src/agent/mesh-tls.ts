/**
 * The agent's side of the mesh's mutual TLS (issue 15, piece E2): keeps the
 * node proxy's `mtls` section (src/l7/http/mtls.ts) equal to what the node
 * knows: the certificates of its pods' ServiceAccounts (MeshCertificates,
 * asked of the operator's CA through the store), its pods by address and
 * ServiceAccount, and the destinations that require authentication with the
 * node each lives on. Renewed leaves go into the running proxy through its
 * runtime API (setProxySslCert), without a reload; a new ServiceAccount, one
 * gone or a new CA bundle re-renders the section (a reload).
 */
import { join } from 'node:path';
import type { Logger } from '../common/log.js';
import { renderMtlsSection, MTLS_SECTION, type MtlsTarget, type MtlsWorkload } from '../l7/http/mtls.js';
import { MeshCertificates } from '../mesh/certs.js';
import type { Store } from '../store/store.js';
import { proxyIdentitiesFile, proxyStatsSocket, setProxySslCert, type NodeProxy } from './proxy.js';

export interface AgentMeshTlsOptions {
  store: Store;
  nodeName: string;
  nodeIp: string;
  proxy: NodeProxy;
  log: Pick<Logger, 'info' | 'warn'>;
  /** This node's pods with their ServiceAccounts. */
  localPods: () => MtlsWorkload[];
  /** Destinations (any node) whose ingress requires authentication. Until the datapath marks them (piece E1): none. */
  targets: () => MtlsTarget[];
  /** Leaf lifetime to ask for (the CA's default, 1 h). */
  ttlSeconds?: number;
}

export class AgentMeshTls {
  readonly certs: MeshCertificates;
  private timer: NodeJS.Timeout | undefined;
  private lastError: string | undefined;

  constructor(private readonly o: AgentMeshTlsOptions) {
    const stateDir = o.proxy.config.stateDir;
    this.certs = new MeshCertificates({
      store: o.store,
      nodeName: o.nodeName,
      dir: join(stateDir, 'certs'),
      log: o.log,
      ...(o.ttlSeconds ? { ttlSeconds: o.ttlSeconds } : {}),
      install: (file, pem) => setProxySslCert(proxyStatsSocket(stateDir), file, pem),
      changed: (_certs, _bundle, reload) => {
        this.render();
        if (reload) o.proxy.requestReload();
      },
    });
  }

  async start(): Promise<void> {
    await this.certs.start();
    this.refresh();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await this.certs.stop();
  }

  /** Pods or destinations changed: ask for new ServiceAccounts' leaves, render again (debounced). */
  refresh(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const accounts = new Set(this.o.localPods().map((p) => `${p.namespace}/${p.serviceAccount}`));
      this.certs.setServiceAccounts(accounts).catch((e: Error) => this.o.log.warn('mesh tls: certificate requests not updated', { error: e.message }));
      this.render();
    }, 50);
  }

  /** The section from what is known now; none before the first leaf. */
  private render(): void {
    const cfg = this.o.proxy.config;
    const bundlePem = this.certs.bundlePem;
    if (cfg.mtlsOutPort === undefined || cfg.mtlsInPort === undefined || !bundlePem) return;
    try {
      const section = renderMtlsSection({
        stateDir: cfg.stateDir,
        nodeIp: this.o.nodeIp,
        outPort: cfg.mtlsOutPort,
        inPort: cfg.mtlsInPort,
        bundlePem,
        certificates: this.certs.certificates(),
        local: this.o.localPods(),
        targets: this.o.targets(),
        identitiesFile: proxyIdentitiesFile(cfg.stateDir),
      });
      this.o.proxy.setSection(MTLS_SECTION, section);
      this.lastError = undefined;
    } catch (e) {
      if (this.lastError !== (e as Error).message) this.o.log.warn('mesh tls: section not rendered', { error: (e as Error).message });
      this.lastError = (e as Error).message;
    }
  }
}

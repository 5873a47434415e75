/**
 * The lab's control-plane controllers, one process per lab (the parts of
 * kube-scheduler, kube-controller-manager and the DNS add-on the lab plays):
 *
 *   scheduler            binds pods without spec.nodeName to a node (src/lab/scheduler.ts)
 *   deployments          keeps each Deployment's pods at its template and replicas (src/lab/deployments.ts)
 *   endpointslices       EndpointSlices from Services and Pods (src/lab/endpointslices.ts)
 *   garbage collector    deletes pods whose owning Deployment is gone
 *   cluster DNS records  the hosts file the cluster DNS pods' dnsmasq serves (src/lab/dns.ts)
 *   LB-IPAM              LoadBalancer Services get an address from the lab's pool
 *
 * Each is level-triggered: any change to a kind it reads schedules one pass
 * over the informers' caches, so a missed or coalesced event costs nothing.
 */
import { randomBytes } from 'node:crypto';
import { formatIPv4, parseCidr, tryParseIPv4 } from '../ipam/cidr.js';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logger } from '../common/log.js';
import { openEtcdStore } from '../store/etcd.js';
import { deleteObject } from '../store/graceful.js';
import type { Informer, Store, StoreObject } from '../store/store.js';
import { SAFE_ALPHABET, podsOwnedBy, reconcileDeployment } from './deployments.js';
import { dnsRecords, hostsFileText, hostsRewriteGapMs } from './dns.js';
import { desiredEndpointSlices, reconcileEndpointSlices, SERVICE_NAME_LABEL } from './endpointslices.js';
import { schedNodeOf, schedulePod } from './scheduler.js';
import { namespaceOf as nsOf } from '../k8s/types.js';

export interface ControllersConfig {
  kvstore: string;
  /** Directory of the hosts files the cluster DNS pods read (dnsmasq --hostsdir). */
  dnsHostsDir: string;
  /** LB-IPAM: where LoadBalancer Services get their ingress addresses. */
  lbPool?: string;
}

const KINDS = ['Pod', 'Node', 'Deployment', 'Service', 'EndpointSlice', 'Namespace'] as const;
type Kind = (typeof KINDS)[number];

/** Five characters of Kubernetes' safe alphabet, for generated names. */
export function randSuffix(): string {
  const b = randomBytes(5);
  return [...b].map((x) => SAFE_ALPHABET[x % SAFE_ALPHABET.length]).join('');
}


export class Controllers {
  private readonly log = logger('controllers');
  readonly store: Store;
  private readonly inf = new Map<Kind, Informer>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private lastHosts = '';
  private lastHostsAt = 0;
  private lastHostsLines = 0;
  private dnsTimer: NodeJS.Timeout | undefined;

  constructor(private readonly config: ControllersConfig) {
    this.store = openEtcdStore({ endpoint: config.kvstore });
  }

  async start(): Promise<void> {
    for (const k of KINDS) {
      const i = this.store.informer(k);
      for (const ev of ['add', 'update', 'delete'] as const) i.on(ev as 'add', () => this.kick());
      i.on('error', (e) => this.log.warn('watch', { kind: k, error: e.message }));
      this.inf.set(k, i);
    }
    await Promise.all([...this.inf.values()].map((i) => i.start()));
    await Promise.all([...this.inf.values()].map((i) => i.waitForSync()));
    // A pass now and then even without events: retries what failed, and node readiness ages.
    setInterval(() => this.kick(), 5000).unref();
    this.kick();
    this.log.info('started');
  }

  private list(k: Kind): StoreObject[] {
    return this.inf.get(k)!.list();
  }

  /** Schedules one pass (coalescing bursts of events). */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.pass()
        .catch((e) => this.log.warn('pass failed', { error: (e as Error).message }))
        .finally(() => {
          this.running = undefined;
          if (this.again) {
            this.again = false;
            this.kick();
          }
        });
    }, 30);
  }

  private async pass(): Promise<void> {
    await this.step('deployments', () => this.deployments());
    await this.step('garbage collector', () => this.garbageCollect());
    await this.step('scheduler', () => this.schedule());
    await this.step('endpointslices', () => this.endpointSlices());
    await this.step('LB-IPAM', () => this.lbIpam());
    await this.step('cluster DNS', () => this.dns());
  }

  private async step(name: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      this.log.warn(`${name} failed; retrying`, { error: (e as Error).message });
      this.again = true;
    }
  }

  private async schedule(): Promise<void> {
    const nodes = this.list('Node').map(schedNodeOf);
    const pods = this.list('Pod');
    const perNode = new Map<string, number>();
    for (const p of pods) {
      const n = (p.spec as any)?.nodeName as string | undefined;
      if (n) perNode.set(n, (perNode.get(n) ?? 0) + 1);
    }
    for (const p of pods) {
      const spec = p.spec as any;
      if (spec?.nodeName || p.metadata.deletionTimestamp) continue;
      const r = schedulePod(p, nodes, perNode);
      if ('node' in r) {
        await this.store.update({ apiVersion: 'v1', kind: 'Pod', metadata: { ...p.metadata }, spec: { ...spec, nodeName: r.node } });
        perNode.set(r.node, (perNode.get(r.node) ?? 0) + 1);
        this.log.info('scheduled', { pod: `${nsOf(p)}/${p.metadata.name}`, node: r.node });
      } else {
        const cond = ((p.status as any)?.conditions as any[] | undefined)?.find((c) => c.type === 'PodScheduled');
        if (cond?.message === r.error) continue;
        await this.store.updateStatus({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: p.metadata.name, namespace: nsOf(p) },
          status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: r.reason, message: r.error, lastTransitionTime: new Date().toISOString(), lastProbeTime: null }] },
        });
        this.log.info('unschedulable', { pod: `${nsOf(p)}/${p.metadata.name}`, why: r.error });
      }
    }
  }

  private async deployments(): Promise<void> {
    const pods = this.list('Pod');
    for (const d of this.list('Deployment')) {
      const owned = podsOwnedBy(d, pods.filter((p) => nsOf(p) === nsOf(d)));
      const r = reconcileDeployment(d, owned, randSuffix);
      for (const name of r.delete) await deleteObject(this.store, 'Pod', nsOf(d), name, { ignoreNotFound: true });
      for (const p of r.create) await this.store.create(p);
      if (JSON.stringify(stripTimes(d.status)) !== JSON.stringify(stripTimes(r.status))) {
        await this.store.updateStatus({ apiVersion: d.apiVersion, kind: d.kind, metadata: { name: d.metadata.name, namespace: nsOf(d) }, status: r.status });
      }
      if (r.create.length || r.delete.length) this.log.info('deployment', { deployment: `${nsOf(d)}/${d.metadata.name}`, created: r.create.length, deleted: r.delete.length });
    }
  }

  /** Pods owned by a Deployment that no longer exists (kube-controller-manager's garbage collector). */
  private async garbageCollect(): Promise<void> {
    const live = new Set(this.list('Deployment').map((d) => d.metadata.uid));
    for (const p of this.list('Pod')) {
      const owner = ((p.metadata as any).ownerReferences as any[] | undefined)?.find((o) => o.controller && o.kind === 'Deployment');
      if (owner && !live.has(owner.uid) && !p.metadata.deletionTimestamp) await deleteObject(this.store, 'Pod', nsOf(p), p.metadata.name, { ignoreNotFound: true });
    }
    const services = new Set(this.list('Service').map((s) => s.metadata.uid));
    for (const s of this.list('EndpointSlice')) {
      const owner = ((s.metadata as any).ownerReferences as any[] | undefined)?.find((o) => o.controller && o.kind === 'Service');
      if (owner && !services.has(owner.uid)) await this.store.delete('EndpointSlice', nsOf(s), s.metadata.name, { ignoreNotFound: true });
    }
  }

  private async endpointSlices(): Promise<void> {
    const pods = this.list('Pod');
    const slices = this.list('EndpointSlice');
    for (const svc of this.list('Service')) {
      const desired = desiredEndpointSlices(svc, pods);
      if (!desired) continue;
      const existing = slices.filter((s) => nsOf(s) === nsOf(svc) && s.metadata.labels?.[SERVICE_NAME_LABEL] === svc.metadata.name);
      const r = reconcileEndpointSlices(desired, existing);
      for (const d of r.delete) await this.store.delete('EndpointSlice', d.namespace, d.name, { ignoreNotFound: true });
      if (r.upsert.length) await this.store.applyBatch(r.upsert);
    }
  }

  /**
   * Cilium's LB-IPAM: a LoadBalancer Service without an ingress address gets
   * one from the pool (spec.loadBalancerIP when it asks for a free one); a
   * Service no longer of that type gives its address back by losing it.
   */
  private async lbIpam(): Promise<void> {
    if (!this.config.lbPool) return;
    const pool = parseCidr(this.config.lbPool, 'LB pool');
    const ingressOf = (s: StoreObject) => (((s.status as any)?.loadBalancer?.ingress ?? []) as { ip?: string }[]).map((i) => i.ip).filter(Boolean) as string[];
    const services = this.list('Service');
    const used = new Set(services.filter((s) => (s.spec as any)?.type === 'LoadBalancer').flatMap(ingressOf));
    for (const s of services) {
      const type = (s.spec as any)?.type;
      const have = ingressOf(s);
      if (type !== 'LoadBalancer') {
        if (have.length) await this.store.updateStatus({ apiVersion: 'v1', kind: 'Service', metadata: { name: s.metadata.name, namespace: nsOf(s) }, status: { loadBalancer: {} } });
        continue;
      }
      if (have.length) continue;
      const asked = (s.spec as any)?.loadBalancerIP as string | undefined;
      let ip: string | undefined;
      const askedN = asked ? tryParseIPv4(asked) : undefined;
      if (askedN !== undefined && askedN > pool.base && askedN < pool.base + pool.size - 1 && !used.has(asked!)) ip = asked;
      for (let n = pool.base + 1; !ip && n < pool.base + pool.size - 1; n++) if (!used.has(formatIPv4(n))) ip = formatIPv4(n);
      if (!ip) {
        this.log.warn('LB-IPAM: pool exhausted', { service: `${nsOf(s)}/${s.metadata.name}`, pool: pool.text });
        continue;
      }
      used.add(ip);
      await this.store.updateStatus({ apiVersion: 'v1', kind: 'Service', metadata: { name: s.metadata.name, namespace: nsOf(s) }, status: { loadBalancer: { ingress: [{ ip, ipMode: 'VIP' }] } } });
      this.log.info('LB-IPAM: address assigned', { service: `${nsOf(s)}/${s.metadata.name}`, ip });
    }
  }

  private async dns(): Promise<void> {
    const records = dnsRecords(this.list('Service'), this.list('EndpointSlice'));
    const text = hostsFileText(records);
    if (text === this.lastHosts) return;
    // A burst of changes to a big cluster is written at most once per gap (see hostsRewriteGapMs);
    // the pass the timer kicks writes what is current then.
    const wait = this.lastHostsAt + hostsRewriteGapMs(Math.max(records.length, this.lastHostsLines)) - Date.now();
    if (wait > 0) {
      this.dnsTimer ??= setTimeout(() => {
        this.dnsTimer = undefined;
        this.kick();
      }, wait);
      return;
    }
    mkdirSync(this.config.dnsHostsDir, { recursive: true });
    const f = join(this.config.dnsHostsDir, 'cluster.hosts');
    // Written aside and renamed in: dnsmasq's inotify sees one complete file.
    writeFileSync(`${this.config.dnsHostsDir}/.cluster.hosts.tmp`, text);
    renameSync(`${this.config.dnsHostsDir}/.cluster.hosts.tmp`, f);
    this.lastHosts = text;
    this.lastHostsAt = Date.now();
    this.lastHostsLines = records.length;
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    clearTimeout(this.dnsTimer);
    await Promise.all([...this.inf.values()].map((i) => i.stop()));
    await this.store.close();
  }
}

function stripTimes(status: unknown): unknown {
  const s = { ...((status as Record<string, unknown>) ?? {}) };
  s.conditions = ((s.conditions as any[]) ?? []).map(({ lastUpdateTime: _u, lastTransitionTime: _t, ...c }) => c);
  return s;
}

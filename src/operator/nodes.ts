/**
 * The operator's BeelineNode controller (Kubernetes mode): cluster-pool IPAM
 * and the garbage of deleted nodes (Cilium's operator: ipam cluster-pool and
 * the CiliumNode GC).
 *
 *   - every BeelineNode without spec.ipam.podCIDRs gets the next free
 *     /maskSize block of the cluster pool (src/ipam/clusterpool.ts), written
 *     with an update at the resourceVersion read; a conflict leaves it for the
 *     update event it implies. A block is free when it overlaps no CIDR any
 *     BeelineNode holds nor one this operator has written and its cache does
 *     not show yet. CIDRs already held are never changed.
 *   - a BeelineNode whose Node is gone is deleted, with the BeelineEndpoints
 *     naming its node; each delete carries the resourceVersion read.
 *
 * The work is one pass over the informers' caches, run after every change and
 * never two at once. One operator replica (no leader election yet).
 */
import { ClusterPoolExhaustedError, StoreConflictError, StoreNotFoundError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { tryParseMaskedCidr, type Cidr4 } from '../ipam/cidr.js';
import { clusterPool, type ClusterPool } from '../ipam/clusterpool.js';
import { ENDPOINT_KIND } from '../identity/crd.js';
import type { Informer, Store, StoreObject } from '../store/store.js';

export const NODE_KIND = 'BeelineNode';

export interface NodeControllerOptions {
  /** The cluster pool, e.g. 10.0.0.0/16; without it no pod CIDRs are handed out. */
  clusterPoolCIDR?: string;
  /** Each node's block, e.g. 24. */
  clusterPoolMaskSize?: number;
  log?: Logger;
}

export interface NodePassResult {
  /** BeelineNode → pod CIDR written by this pass. */
  assigned: Record<string, string>;
  /** BeelineNodes deleted (their Node is gone). */
  deletedNodes: string[];
  /** BeelineEndpoints deleted (`namespace/name`), their node being gone. */
  deletedEndpoints: string[];
}

/** spec.ipam.podCIDRs of a BeelineNode, [] when it has none. */
export function podCIDRsOf(o: StoreObject): unknown[] {
  const p = (o.spec as { ipam?: { podCIDRs?: unknown } } | undefined)?.ipam?.podCIDRs;
  return Array.isArray(p) ? p : [];
}

const overlaps = (a: Cidr4, b: Cidr4) => a.base < b.base + b.size && b.base < a.base + a.size;

export class BeelineNodeController {
  private readonly pool: ClusterPool | undefined;
  private nodes: Informer | undefined;
  private beelineNodes: Informer | undefined;
  private endpoints: Informer | undefined;
  /** CIDRs written by this operator that its cache does not show yet: node → CIDR. */
  private readonly pending = new Map<string, string>();
  /** Nodes already reported (malformed CIDRs, an exhausted pool), so a pass after every change does not repeat it. */
  private readonly reported = new Set<string>();
  private running: Promise<NodePassResult> | undefined;
  private again = false;
  private started = false;

  constructor(
    private readonly store: Store,
    private readonly opts: NodeControllerOptions = {},
  ) {
    if (opts.clusterPoolCIDR !== undefined) this.pool = clusterPool(opts.clusterPoolCIDR, opts.clusterPoolMaskSize ?? 24);
  }

  /** Starts the informers (Node, BeelineNode, BeelineEndpoint), runs a pass when they are synced and after every change. */
  async start(): Promise<void> {
    this.nodes = this.store.informer('Node');
    this.beelineNodes = this.store.informer(NODE_KIND);
    this.endpoints = this.store.informer(ENDPOINT_KIND);
    for (const inf of [this.nodes, this.beelineNodes, this.endpoints]) {
      inf.on('error', (e) => this.opts.log?.warn('node controller watch error', { error: e.message }));
      for (const ev of ['add', 'update', 'delete'] as const) inf.on(ev as 'add', () => this.kick());
    }
    await Promise.all([this.nodes.start(), this.beelineNodes.start(), this.endpoints.start()]);
    await Promise.all([this.nodes.waitForSync(), this.beelineNodes.waitForSync(), this.endpoints.waitForSync()]);
    this.started = true;
    await this.run();
  }

  async stop(): Promise<void> {
    this.started = false;
    await this.running?.catch(() => undefined);
    await Promise.all([this.nodes?.stop(), this.beelineNodes?.stop(), this.endpoints?.stop()]);
  }

  private kick(): void {
    if (!this.started) return;
    this.run().catch((e) => this.opts.log?.warn('node controller pass failed', { error: (e as Error).message }));
  }

  /** One pass; a call during a pass runs one more after it. */
  async run(): Promise<NodePassResult> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      let r: NodePassResult;
      do {
        this.again = false;
        r = await this.pass();
      } while (this.again && this.started);
      return r;
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<NodePassResult> {
    const result: NodePassResult = { assigned: {}, deletedNodes: [], deletedEndpoints: [] };
    if (!this.nodes || !this.beelineNodes || !this.endpoints) return result;
    const nodeNames = new Set(this.nodes.list().map((n) => n.metadata.name));
    await this.collectGarbage(nodeNames, result);
    if (this.pool) await this.assign(this.pool, nodeNames, result);
    return result;
  }

  private async collectGarbage(nodeNames: Set<string>, result: NodePassResult): Promise<void> {
    for (const bn of this.beelineNodes!.list()) {
      if (nodeNames.has(bn.metadata.name)) continue;
      if (await this.deleteAt(NODE_KIND, undefined, bn)) {
        result.deletedNodes.push(bn.metadata.name);
        this.opts.log?.info('BeelineNode of a deleted Node deleted', { node: bn.metadata.name });
      }
    }
    for (const ep of this.endpoints!.list()) {
      const node = (ep.spec as { node?: unknown } | undefined)?.node;
      if (typeof node !== 'string' || nodeNames.has(node)) continue;
      if (await this.deleteAt(ENDPOINT_KIND, ep.metadata.namespace, ep)) result.deletedEndpoints.push(`${ep.metadata.namespace}/${ep.metadata.name}`);
    }
  }

  /** Deletes the object at the version read; false when it changed or went meanwhile (the next pass sees it as it is). */
  private async deleteAt(kind: string, namespace: string | undefined, o: StoreObject): Promise<boolean> {
    try {
      await this.store.delete(kind, namespace, o.metadata.name, { resourceVersion: o.metadata.resourceVersion });
      return true;
    } catch (e) {
      if (e instanceof StoreConflictError || e instanceof StoreNotFoundError) return false;
      throw e;
    }
  }

  private async assign(pool: ClusterPool, nodeNames: Set<string>, result: NodePassResult): Promise<void> {
    // Every BeelineNode's CIDRs are held, a deleted Node's too until its BeelineNode is gone.
    const bns = this.beelineNodes!.list();
    const held: Cidr4[] = [];
    const present = new Set<string>();
    const want: StoreObject[] = [];
    for (const bn of bns) {
      const name = bn.metadata.name;
      present.add(name);
      const cidrs = podCIDRsOf(bn);
      if (cidrs.length === 0) {
        const p = this.pending.get(name);
        if (p) held.push(tryParseMaskedCidr(p)!);
        else if (nodeNames.has(name)) want.push(bn);
        continue;
      }
      this.pending.delete(name);
      for (const c of cidrs) {
        const parsed = typeof c === 'string' ? tryParseMaskedCidr(c) : undefined;
        if (parsed && typeof c === 'string' && c.includes('/')) held.push(parsed);
        else this.reportOnce(`cidr ${name} ${String(c)}`, 'BeelineNode has a malformed pod CIDR; ignoring it', { node: name, podCIDR: c });
      }
    }
    for (const n of [...this.pending.keys()]) if (!present.has(n)) this.pending.delete(n);
    want.sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
    let next = 0;
    for (const bn of want) {
      const name = bn.metadata.name;
      while (next < pool.count && held.some((h) => overlaps(h, tryParseMaskedCidr(pool.at(next))!))) next++;
      if (next >= pool.count) {
        const err = new ClusterPoolExhaustedError(`assign pod CIDR to ${name}: cluster pool ${pool.cluster.text} is exhausted (${pool.count} /${pool.maskSize} blocks)`);
        this.reportOnce(`exhausted ${name}`, err.message, { hint: err.hint, code: err.code });
        continue;
      }
      const cidr = pool.at(next);
      const spec = (bn.spec ?? {}) as { ipam?: Record<string, unknown> };
      try {
        await this.store.update({ ...bn, spec: { ...spec, ipam: { ...(spec.ipam ?? {}), podCIDRs: [cidr] } } });
      } catch (e) {
        // Changed since the cache read it: its update event brings another pass.
        if (e instanceof StoreConflictError || e instanceof StoreNotFoundError) continue;
        throw e;
      }
      this.pending.set(name, cidr);
      held.push(tryParseMaskedCidr(cidr)!);
      result.assigned[name] = cidr;
      this.opts.log?.info('pod CIDR assigned', { node: name, podCIDR: cidr });
    }
  }

  private reportOnce(key: string, msg: string, fields: Record<string, unknown>): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.opts.log?.warn(msg, fields);
  }
}

/**
 * The cluster-wide operator (Cilium's cilium-operator): work that belongs to
 * no single node. Today: garbage-collecting security identities that no node
 * references any more. The lab runs one per cluster.
 */
import { Etcd3 } from 'etcd3';
import { IdentityGarbageCollector } from '../identity/allocator.js';
import { logger } from '../common/log.js';
import { etcdClient } from '../common/etcd.js';

export interface OperatorConfig {
  /** etcd client endpoint. */
  kvstore: string;
  /** How long an identity stays unreferenced before it is deleted (Cilium: identity-gc-interval/heartbeat). */
  identityGcGraceMs: number;
  /** How often a GC pass runs. */
  identityGcIntervalMs: number;
}

export class Operator {
  private readonly log = logger('operator');
  private etcd: Etcd3 | undefined;
  private gc: IdentityGarbageCollector | undefined;

  constructor(private readonly config: OperatorConfig) {}

  start(): void {
    this.etcd = etcdClient(this.config.kvstore);
    this.gc = new IdentityGarbageCollector(this.etcd, { graceMs: this.config.identityGcGraceMs, log: this.log });
    this.gc.start(this.config.identityGcIntervalMs);
    this.log.info('started', { identityGcGraceMs: this.config.identityGcGraceMs, identityGcIntervalMs: this.config.identityGcIntervalMs });
  }

  stop(): void {
    this.gc?.stop();
    this.etcd?.close();
  }
}

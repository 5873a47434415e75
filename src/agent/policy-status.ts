/**
 * Kubernetes mode: each agent writes how it took a Cilium policy into the
 * policy's status, under its node's name, where Cilium writes it
 * (`status.nodes.<node>`: ok, enforcing, error, lastUpdated,
 * localPolicyRevision), so `kubectl get cnp -o yaml` shows every node's view.
 * Only CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy have one
 * (NetworkPolicy's status is not Cilium's to write).
 *
 * Writes go through the status subresource at the resourceVersion read, so
 * agents writing their own entries at once never lose each other's (a
 * conflict reads the object again); an entry that is already what it would
 * write is left alone (no write, no event, no loop with the agent's own
 * informer). Writes are serialised per policy and coalesced: only the latest
 * outcome is written.
 */
import type { Logger } from '../common/log.js';
import { StoreConflictError } from '../common/errors.js';
import type { Store, StoreObject } from '../store/store.js';

/** One node's entry, as Cilium's CiliumNetworkPolicyNodeStatus. */
export interface PolicyNodeStatus {
  ok: boolean;
  enforcing: boolean;
  error?: string;
  localPolicyRevision: number;
  lastUpdated: string;
}

export const POLICY_STATUS_KINDS: ReadonlySet<string> = new Set(['CiliumNetworkPolicy', 'CiliumClusterwideNetworkPolicy']);

/** The node's entry written into `obj`'s status; undefined when it already says that (lastUpdated aside). */
export function withNodeStatus(obj: StoreObject, node: string, entry: PolicyNodeStatus): StoreObject | undefined {
  const status = (obj.status ?? {}) as { nodes?: Record<string, PolicyNodeStatus> };
  const had = status.nodes?.[node];
  if (had && had.ok === entry.ok && had.enforcing === entry.enforcing && (had.error ?? '') === (entry.error ?? '') && had.localPolicyRevision === entry.localPolicyRevision) return undefined;
  const clean: PolicyNodeStatus = { ok: entry.ok, enforcing: entry.enforcing, localPolicyRevision: entry.localPolicyRevision, lastUpdated: entry.lastUpdated, ...(entry.error ? { error: entry.error } : {}) };
  return { ...obj, status: { ...status, nodes: { ...(status.nodes ?? {}), [node]: clean } } };
}

export class PolicyStatusWriter {
  private readonly pending = new Map<string, { obj: StoreObject; entry: Omit<PolicyNodeStatus, 'lastUpdated'> }>();
  private readonly running = new Set<string>();
  /** The agent's policy revision: bumped when a policy's spec (generation) changes, not by status writes. */
  private revision = 0;
  private readonly revisions = new Map<string, { generation: number; revision: number }>();
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly node: string,
    private readonly log: Logger,
  ) {}

  /** How this node took the policy `obj` (as the informer gave it). */
  report(obj: StoreObject, outcome: { ok: boolean; enforcing: boolean; error?: string }): void {
    if (this.stopped || !POLICY_STATUS_KINDS.has(obj.kind)) return;
    const key = `${obj.kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
    const generation = obj.metadata.generation ?? 0;
    let rev = this.revisions.get(key);
    if (!rev || rev.generation !== generation) this.revisions.set(key, (rev = { generation, revision: ++this.revision }));
    this.pending.set(key, { obj, entry: { ...outcome, localPolicyRevision: rev.revision } });
    if (!this.running.has(key)) void this.drain(key);
  }

  /** The policy is gone: nothing more to write for it. */
  forget(obj: StoreObject): void {
    const key = `${obj.kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
    this.pending.delete(key);
    this.revisions.delete(key);
  }

  stop(): void {
    this.stopped = true;
    this.pending.clear();
  }

  private async drain(key: string): Promise<void> {
    this.running.add(key);
    try {
      for (let next = this.pending.get(key); next && !this.stopped; next = this.pending.get(key)) {
        this.pending.delete(key);
        await this.write(next.obj, next.entry).catch((e) => this.log.warn('policy status not written', { policy: key, error: (e as Error).message }));
      }
    } finally {
      this.running.delete(key);
    }
  }

  private async write(obj: StoreObject, entry: Omit<PolicyNodeStatus, 'lastUpdated'>): Promise<void> {
    let cur: StoreObject | undefined = obj;
    for (let attempt = 0; cur && attempt < 5; attempt++) {
      const next = withNodeStatus(cur, this.node, { ...entry, lastUpdated: new Date().toISOString() });
      if (!next) return;
      try {
        await this.store.updateStatus(next);
        return;
      } catch (e) {
        if (!(e instanceof StoreConflictError)) throw e;
        // Another node wrote its entry (or the policy changed) since: read it again.
        cur = await this.store.get(obj.kind, obj.metadata.namespace, obj.metadata.name);
      }
    }
  }
}

/**
 * Deletion as the API server does it for pods: a pod a kubelet runs is not
 * removed at once but marked (`deletionTimestamp`, `deletionGracePeriodSeconds`);
 * its kubelet stops the containers within the grace period and then deletes
 * the object. Meanwhile `get` shows it Terminating and its endpoints turn
 * `terminating`. Everything else, and a grace period of 0 (`--force`), is
 * deleted outright.
 */
import type { Store, StoreObject } from './store.js';

/** Kubernetes' default (terminationGracePeriodSeconds). */
export const DEFAULT_GRACE_SECONDS = 30;

export interface GracefulDeleteOptions {
  /** Overrides the pod's terminationGracePeriodSeconds; 0 deletes at once. */
  gracePeriodSeconds?: number;
  ignoreNotFound?: boolean;
}

/** Starts (or performs) the deletion; resolves the object as it now is, or undefined when it was not there. */
export async function deleteObject(store: Store, kind: string, namespace: string | undefined, name: string, opts: GracefulDeleteOptions = {}): Promise<StoreObject | undefined> {
  if (kind === 'Pod') {
    const pod = await store.get(kind, namespace, name);
    if (!pod) return opts.ignoreNotFound ? undefined : store.delete(kind, namespace, name);
    const spec = (pod.spec ?? {}) as { nodeName?: string; terminationGracePeriodSeconds?: number };
    const grace = opts.gracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
    if (spec.nodeName && grace > 0) {
      if (pod.metadata.deletionTimestamp) return pod; // already terminating
      // No resourceVersion: the kubelet writes status meanwhile, and the spec cannot change.
      const { resourceVersion: _rv, ...meta } = pod.metadata;
      return store.update({
        ...pod,
        metadata: {
          ...meta,
          deletionTimestamp: new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
          deletionGracePeriodSeconds: grace,
        },
      });
    }
  }
  return store.delete(kind, namespace, name, { ignoreNotFound: opts.ignoreNotFound });
}

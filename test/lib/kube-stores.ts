/**
 * Tests of Kubernetes-mode consumers: the API test double with one store per
 * simulated process (each agent or operator has its own client), and a logger
 * that keeps the warnings.
 */
import type { Logger } from '../../src/common/log.js';
import { openKubernetesStore, type KubernetesStore } from '../../src/store/kubernetes.js';
import { startKubeApi, type KubeApi } from './kube-api.js';

type T = { after: (fn: () => Promise<void> | void) => void };

/** Starts the double; `open()` gives a new store on it. Both end with the test. */
export async function kubeStores(t: T): Promise<{ api: KubeApi; open: () => KubernetesStore }> {
  const api = await startKubeApi({ bookmarkMs: 100 });
  const stores: KubernetesStore[] = [];
  t.after(async () => {
    for (const s of stores) await s.close();
    await api.close();
  });
  const open = () => {
    const s = openKubernetesStore({ kubeconfig: api.kubeconfig, backoff: { initialMs: 20, maxMs: 100 } });
    stores.push(s);
    return s;
  };
  return { api, open };
}

/** A logger that keeps each warning as `message {fields as JSON}`. */
export function captureLog(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const log = { debug() {}, info() {}, warn: (m: string, f?: Record<string, unknown>) => void warnings.push(`${m} ${JSON.stringify(f ?? {})}`), error() {}, warnings };
  return log as unknown as Logger & { warnings: string[] };
}

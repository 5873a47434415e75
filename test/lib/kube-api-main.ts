/**
 * The Kubernetes API test double (kube-api.ts) as its own process, so it can
 * listen inside a network namespace (`ip netns exec NS node kube-api-main.js`):
 * an agent in a namespace that plays a node's host namespace reaches it on
 * that namespace's loopback, as a node reaches its API server. Prints one
 * JSON line `{url, kubeconfig}` once it listens; stops on SIGTERM.
 */
import { startKubeApi } from './kube-api.js';

const api = await startKubeApi({ bookmarkMs: Number(process.env.KUBE_API_BOOKMARK_MS ?? 1000) });
process.stdout.write(`${JSON.stringify({ url: api.url, kubeconfig: api.kubeconfig })}\n`);
const stop = () => void api.close().finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

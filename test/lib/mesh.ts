/**
 * What the mesh mTLS tests share: a throwaway CA (MeshCa over a one-object
 * in-memory store), leaves as the node proxies load them (leaf then key,
 * with the proxy server name), and for the lab tests the two pods (web on
 * node1 with ServiceAccount web, client on node2 with ServiceAccount client),
 * starting them, and reading flows back.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MeshCa, meshServerName } from '../../src/mesh/ca.js';
import type { Store, StoreObject } from '../../src/store/store.js';
import { beeline, beelineBin, beelineOk } from './cli.js';
import { until } from './wait.js';

/** The store MeshCa needs: one object, kept in memory. */
export function memoryStore(): Store {
  let obj: StoreObject | undefined;
  return { get: async () => obj, create: async (o: StoreObject) => (obj = o) } as unknown as Store;
}

/**
 * A CA of its own (its at-rest key `dir/ca.key`, made once); the same store
 * again opens the same CA, and `now` moves its clock (for an expired leaf).
 */
export async function throwawayCa(dir: string, store: Store = memoryStore(), now?: () => Date): Promise<MeshCa> {
  const keyFile = join(dir, 'ca.key');
  if (!existsSync(keyFile)) writeFileSync(keyFile, randomBytes(32), { mode: 0o600 });
  return MeshCa.open({ store, keyFile, ...(now ? { now } : {}) });
}

/** A leaf for namespace/sa with its proxy server name, as a proxy loads it: the certificate, then the key (PEM). */
export async function proxyLeafPem(ca: MeshCa, namespace: string, serviceAccount: string, ttlSeconds?: number): Promise<string> {
  const k = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const l = await ca.issue({ namespace, serviceAccount, publicKey: k.publicKey, dnsNames: [meshServerName(namespace, serviceAccount)], ...(ttlSeconds ? { ttlSeconds } : {}) });
  return l.certificatePem + k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** The lab tests' pods: web (node1, ServiceAccount web, an HTTP server on 80) and client (node2, ServiceAccount client), namespace mt. */
export const MESH_PODS = `apiVersion: v1
kind: Namespace
metadata: {name: mt}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: mt, labels: {app: web}}
spec:
  nodeName: node1
  serviceAccountName: web
  containers: [{name: web, image: docker.io/cilium/starwars}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: mt, labels: {app: client}}
spec:
  nodeName: node2
  serviceAccountName: client
  containers: [{name: c, image: busybox, command: ["sleep", "infinity"]}]
`;

/** A fresh 2-node lab with `manifests` applied; resolves with the pods' addresses once both run. */
export async function meshLab(lab: string, manifests: string): Promise<{ webIp: string; clientIp: string }> {
  const env = { BEELINE_LAB: lab };
  beeline(['lab', 'down', '--name', lab, '-q']);
  beelineOk(['lab', 'up', '--name', lab, '--nodes', '2', '-q']);
  const r = spawnSync(beelineBin, ['apply', '-f', '-'], { input: manifests, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return until('both pods running', () => {
    const pods = (JSON.parse(beelineOk(['get', 'pods', '-n', 'mt', '-o', 'json'], env).stdout) as { items: { metadata: { name: string }; status?: { phase?: string; podIP?: string } }[] }).items;
    const ip = (n: string) => pods.find((p) => p.metadata.name === n && p.status?.phase === 'Running')?.status?.podIP;
    const webIp = ip('web');
    const clientIp = ip('client');
    return webIp && clientIp ? { webIp, clientIp } : undefined;
  }, 120_000, 500);
}

/** The lab's flows (`observe ARGS --all -o json`), as objects. */
export function labFlows(lab: string, args: string[] = []): Record<string, any>[] { // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = beeline(['observe', ...args, '--all', '-o', 'json'], { BEELINE_LAB: lab });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l.trim()).map((l) => (JSON.parse(l) as { flow?: Record<string, unknown> }).flow).filter((f): f is Record<string, any> => !!f); // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * Certificates from the operator's CA to the node agents through the store,
 * in both modes (the Kubernetes API double; a real etcd): an agent asks for
 * its ServiceAccounts' leaves with public keys only, the signer answers in
 * status, the agent writes the proxy's file (leaf + its own key, mode 0600),
 * renews at half-life with a new key and hands the new leaf to `install`
 * (the proxy's runtime API), and drops what no local pod uses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../store/store.js';
import { kubeStores } from '../../test/lib/kube-stores.js';
import { withEtcdStore } from '../../test/lib/etcd.js';
import { until } from '../../test/lib/wait.js';
import { MeshCa } from './ca.js';
import { CERT_REQUEST_KIND, CertificateSigner, MeshCertificates, certificateRequestName, type InstalledCertificate } from './certs.js';

type T = { after: (fn: () => Promise<void> | void) => void };
const quiet = { info() {}, warn() {} };

async function flow(t: T, operatorStore: Store, agentStore: Store): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bl-mesh-certs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'ca.key'), randomBytes(32), { mode: 0o600 });
  const ca = await MeshCa.open({ store: operatorStore, keyFile: join(dir, 'ca.key') });
  const signer = new CertificateSigner(operatorStore, ca, quiet, 1000);
  await signer.start();
  t.after(() => signer.stop());

  const changes: InstalledCertificate[][] = [];
  const installs: { file: string; pem: string }[] = [];
  const agent = new MeshCertificates({
    store: agentStore,
    nodeName: 'node-a',
    dir: join(dir, 'certs'),
    ttlSeconds: 4,
    log: quiet,
    install: async (file, pem) => void installs.push({ file, pem }),
    changed: (certs) => void changes.push(certs),
  });
  await agent.start();
  t.after(() => agent.stop());
  await agent.setServiceAccounts(['shop/web', 'default/client']);
  await until('both leaves', () => agent.certificates().length === 2, 10_000, 20);
  assert.equal(agent.bundlePem, ca.bundlePem);

  const web = agent.certificates().find((c) => c.serviceAccount === 'web')!;
  assert.equal(web.file, join(dir, 'certs', 'shop_web.pem'));
  assert.equal(statSync(web.file).mode & 0o777, 0o600);
  const pem = readFileSync(web.file, 'utf8');
  const x = new X509Certificate(pem);
  assert.equal(x.subjectAltName, 'URI:spiffe://cluster.local/ns/shop/sa/web, DNS:web.shop.sa.beeline.mesh');
  assert.ok(x.verify(new X509Certificate(ca.certificatePem).publicKey));
  assert.ok(x.checkPrivateKey(createPrivateKey(pem)), 'the file holds the leaf and its own key');
  // The private key never left the node: the store holds the public key only.
  const obj = await agentStore.get(CERT_REQUEST_KIND, undefined, certificateRequestName('node-a', 'shop', 'web'));
  assert.ok(obj);
  assert.doesNotMatch(JSON.stringify(obj), /PRIVATE KEY/);
  assert.match(JSON.stringify(obj.spec), /BEGIN PUBLIC KEY/);
  assert.equal(obj.metadata.labels?.['beeline.io/node'], 'node-a');

  // Half-life (2 s): a new key, a new leaf, installed in place (no `changed`).
  const before = x.serialNumber;
  const changesBefore = changes.length;
  await until('the renewal', () => installs.some((i) => i.file === web.file), 10_000, 50);
  const renewed = installs.find((i) => i.file === web.file)!;
  const y = new X509Certificate(renewed.pem);
  assert.notEqual(y.serialNumber, before);
  assert.ok(!y.publicKey.equals(x.publicKey), 'renewed with a new key');
  assert.equal(readFileSync(web.file, 'utf8'), renewed.pem, 'the file follows (a later reload loads it)');
  assert.ok(agent.stats.rotated >= 1);
  assert.equal(changes.length, changesBefore, 'a renewal does not re-render');

  // A ServiceAccount without local pods: its request and file go.
  await agent.setServiceAccounts(['default/client']);
  assert.deepEqual(changes.at(-1)!.map((c) => c.serviceAccount), ['client']);
  assert.equal(existsSync(web.file), false);
  await until('the request deleted', async () => (await agentStore.get(CERT_REQUEST_KIND, undefined, certificateRequestName('node-a', 'shop', 'web'))) === undefined, 5000, 20);
  assert.ok(signer.stats.issued >= 3);

  // An agent restarted under a running proxy: new keys; the first leaf replaces the file the proxy
  // holds in place, and the section is rendered (its first render in this process).
  await agent.stop();
  const client = join(dir, 'certs', 'default_client.pem');
  const old = readFileSync(client, 'utf8');
  const installs2: string[] = [];
  const changes2: boolean[] = [];
  const again = new MeshCertificates({ store: agentStore, nodeName: 'node-a', dir: join(dir, 'certs'), ttlSeconds: 4, log: quiet, install: async (file) => void installs2.push(file), changed: (_c, _b, reload) => void changes2.push(reload) });
  await again.start();
  t.after(() => again.stop());
  await again.setServiceAccounts(['default/client']);
  await until('the leaf after the restart', () => again.certificates().length === 1, 10_000, 20);
  assert.notEqual(readFileSync(client, 'utf8'), old, 'a new key and leaf');
  assert.deepEqual(installs2, [client]);
  assert.deepEqual(changes2, [false]);
}

test('Kubernetes mode: agent and operator exchange leaves through BeelineCertificateRequests; renewal in place; cleanup', async (t) => {
  const { open } = await kubeStores(t);
  await flow(t, open(), open());
});

test('kvstore mode (etcd): the same exchange', async (t) => {
  const { open } = await withEtcdStore(t);
  await flow(t, open(), open());
});

test('a request the CA refuses gets status.error, and the agent installs nothing', async (t) => {
  const { open } = await kubeStores(t);
  const dir = mkdtempSync(join(tmpdir(), 'bl-mesh-certs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'ca.key'), randomBytes(32), { mode: 0o600 });
  const store = open();
  const ca = await MeshCa.open({ store, keyFile: join(dir, 'ca.key'), maxLeafTtlSeconds: 60 });
  const signer = new CertificateSigner(store, ca, quiet, 1000);
  await signer.start();
  t.after(() => signer.stop());
  const agent = new MeshCertificates({ store: open(), nodeName: 'n', dir: join(dir, 'c'), ttlSeconds: 3600, log: quiet, install: async () => {}, changed: () => {} });
  await agent.start();
  t.after(() => agent.stop());
  await agent.setServiceAccounts(['shop/web']);
  await until('the refusal', () => agent.stats.lastError !== undefined, 5000, 20);
  assert.match(agent.stats.lastError!, /lifetime 3600 s/);
  assert.deepEqual(agent.certificates(), []);
  assert.equal(signer.stats.refused, 1);
});

test('a renewal the running proxy cannot take in place asks for a reload', async (t) => {
  const { open } = await kubeStores(t);
  const dir = mkdtempSync(join(tmpdir(), 'bl-mesh-certs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'ca.key'), randomBytes(32), { mode: 0o600 });
  const store = open();
  const signer = new CertificateSigner(store, await MeshCa.open({ store, keyFile: join(dir, 'ca.key') }), quiet, 1000);
  await signer.start();
  t.after(() => signer.stop());
  const changes: boolean[] = [];
  const agent = new MeshCertificates({ store: open(), nodeName: 'n', dir: join(dir, 'c'), ttlSeconds: 2, log: quiet, install: async () => { throw new Error('unknown certificate'); }, changed: (_c, _b, reload) => void changes.push(reload) });
  await agent.start();
  t.after(() => agent.stop());
  await agent.setServiceAccounts(['shop/web']);
  await until('the first leaf, then a renewal', () => changes.length >= 2, 10_000, 20);
  assert.deepEqual(changes.slice(0, 2), [false, true]);
  assert.equal(agent.stats.rotated, 0);
});

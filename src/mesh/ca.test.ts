import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tls from 'node:tls';
import { MeshCaError } from '../common/errors.js';
import type { Store } from '../store/store.js';
import { withEtcdStore } from '../../test/lib/etcd.js';
import { kubeStores } from '../../test/lib/kube-stores.js';
import { MESH_CA_NAME, MESH_CA_NAMESPACE, MeshCa, meshServerName, readCaKeyFile, spiffeId } from './ca.js';

type T = { after: (fn: () => Promise<void> | void) => void };

function tempDir(t: T): string {
  const d = mkdtempSync(join(tmpdir(), 'bl-mesh-ca-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function keyFile(dir: string, name = 'ca.key', bytes = randomBytes(32), mode = 0o600): string {
  const p = join(dir, name);
  writeFileSync(p, bytes, { mode });
  chmodSync(p, mode);
  return p;
}

function p256(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

function pem(k: KeyObject): string {
  return k.export({ type: k.type === 'private' ? 'pkcs8' : 'spki', format: 'pem' }).toString();
}

/** A CSR made by the openssl CLI, so the CA is checked against a parser that is not its own. */
function opensslCsr(dir: string, key: KeyObject): string {
  const kp = join(dir, `csr-${randomBytes(4).toString('hex')}.key`);
  writeFileSync(kp, pem(key), { mode: 0o600 });
  return execFileSync('openssl', ['req', '-new', '-key', kp, '-subj', '/CN=ignored', '-outform', 'PEM']).toString();
}

/** `openssl verify` of a leaf against a bundle for both TLS purposes; its output, or the error's. */
function opensslVerify(dir: string, bundle: string, leaf: string): { ok: boolean; out: string } {
  const b = join(dir, 'bundle.pem');
  const l = join(dir, 'leaf.pem');
  writeFileSync(b, bundle);
  writeFileSync(l, leaf);
  try {
    let out = '';
    for (const purpose of ['sslserver', 'sslclient']) out += execFileSync('openssl', ['verify', '-purpose', purpose, '-CAfile', b, l], { stdio: 'pipe' }).toString();
    return { ok: true, out };
  } catch (e) {
    return { ok: false, out: String((e as { stderr?: Buffer }).stderr ?? e) };
  }
}

async function freshCa(t: T, opts: { now?: () => Date; trustDomain?: string } = {}): Promise<{ ca: MeshCa; store: Store; dir: string; key: string; open: () => Store }> {
  const { open } = await kubeStores(t);
  const dir = tempDir(t);
  const key = keyFile(dir);
  const store = open();
  const ca = await MeshCa.open({ store, keyFile: key, ...opts });
  return { ca, store, dir, key, open };
}

interface Peer {
  key: KeyObject;
  cert: string;
  bundle: string;
}

/**
 * A TLS 1.3 handshake on 127.0.0.1, each side presenting its leaf and
 * requiring the other's. The client checks the server's SPIFFE ID in place of
 * a host name. Resolves with what the server saw. Node's server drops a
 * refused client without saying why (its tlsClientError is a hang-up), so
 * `rejectUnauthorized = false` lets a test read the verification error.
 */
async function handshake(server: Peer, client: Peer, serverId: string, rejectUnauthorized = true): Promise<{ ok: boolean; peerSan?: string; serverError?: string; clientError?: string; authorizationError?: string; protocol: string | null }> {
  const serverErrors: string[] = [];
  let peerSan: string | undefined;
  let authorizationError: string | undefined;
  let protocol: string | null = null;
  const srv = tls.createServer({ key: pem(server.key), cert: server.cert, ca: server.bundle, requestCert: true, rejectUnauthorized, minVersion: 'TLSv1.3' }, (s) => {
    peerSan = s.getPeerCertificate().subjectaltname;
    authorizationError = s.authorizationError?.toString();
    protocol = s.getProtocol();
    s.end('hi');
  });
  srv.on('tlsClientError', (e) => serverErrors.push(`${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}`));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  try {
    const clientResult = await new Promise<{ data?: string; clientError?: string }>((resolve) => {
      const c = tls.connect({
        host: '127.0.0.1',
        port,
        key: pem(client.key),
        cert: client.cert,
        ca: client.bundle,
        minVersion: 'TLSv1.3',
        rejectUnauthorized: true,
        checkServerIdentity: (_host: string, cert: tls.PeerCertificate) => (cert.subjectaltname === `URI:${serverId}` ? undefined : new Error(`server is ${cert.subjectaltname}`)),
      });
      let data = '';
      c.on('data', (d) => (data += d));
      c.on('end', () => resolve({ data }));
      c.on('error', (e) => resolve({ clientError: e.message }));
      c.setTimeout(5000, () => {
        c.destroy();
        resolve({ clientError: 'timeout' });
      });
    });
    const ok = clientResult.data === 'hi' && peerSan !== undefined;
    return { ok, peerSan, serverError: serverErrors.join('; '), clientError: clientResult.clientError, authorizationError, protocol };
  } finally {
    await new Promise<void>((r) => srv.close(() => r()));
  }
}

test('spiffeId: parts are Kubernetes names, the trust domain SPIFFE-shaped', () => {
  assert.equal(spiffeId('cluster.local', 'default', 'web'), 'spiffe://cluster.local/ns/default/sa/web');
  assert.throws(() => spiffeId('cluster.local', 'Default', 'web'), { code: 'BL_ERR_MESH_CA' });
  assert.throws(() => spiffeId('cluster.local', 'default', 'we/b'), { code: 'BL_ERR_MESH_CA' });
  assert.throws(() => spiffeId('cluster.local', 'a/sa/b', 'web'), { code: 'BL_ERR_MESH_CA' });
  assert.throws(() => spiffeId('Cluster.Local', 'default', 'web'), { code: 'BL_ERR_MESH_CA' });
  assert.throws(() => spiffeId('', 'default', 'web'), { code: 'BL_ERR_MESH_CA' });
});

test('readCaKeyFile: 32 bytes at mode 0600; wider modes and other sizes refused', async (t) => {
  const dir = tempDir(t);
  const bytes = randomBytes(32);
  assert.deepEqual(await readCaKeyFile(keyFile(dir, 'good', bytes)), bytes);
  await assert.rejects(readCaKeyFile(keyFile(dir, 'world', bytes, 0o644)), (e: MeshCaError) => e.code === 'BL_ERR_MESH_CA' && /mode 0644/.test(e.message));
  await assert.rejects(readCaKeyFile(keyFile(dir, 'group', bytes, 0o640)), { code: 'BL_ERR_MESH_CA' });
  await assert.rejects(readCaKeyFile(keyFile(dir, 'short', randomBytes(31))), (e: MeshCaError) => e.code === 'BL_ERR_MESH_CA' && /31 bytes/.test(e.message));
  await assert.rejects(readCaKeyFile(keyFile(dir, 'long', randomBytes(33))), { code: 'BL_ERR_MESH_CA' });
  await assert.rejects(readCaKeyFile(join(dir, 'missing')), { code: 'BL_ERR_MESH_CA' });
});

test('a leaf from a CSR verifies against the CA (openssl and Node), carries exactly the SPIFFE URI SAN and the validity asked', async (t) => {
  const { ca, dir } = await freshCa(t, { trustDomain: 'example.org' });
  const k = p256();
  const before = Math.floor(Date.now() / 1000) * 1000;
  const leaf = await ca.issue({ namespace: 'shop', serviceAccount: 'cart', csrPem: opensslCsr(dir, k.privateKey), ttlSeconds: 600 });
  assert.equal(leaf.spiffeId, 'spiffe://example.org/ns/shop/sa/cart');

  const v = opensslVerify(dir, leaf.bundlePem, leaf.certificatePem);
  assert.ok(v.ok, v.out);

  const x = new X509Certificate(leaf.certificatePem);
  const caX = new X509Certificate(ca.certificatePem);
  assert.ok(x.checkIssued(caX));
  assert.ok(x.verify(caX.publicKey));
  assert.equal(x.subjectAltName, 'URI:spiffe://example.org/ns/shop/sa/cart');
  assert.ok(x.publicKey.equals(k.publicKey), 'the leaf carries the CSR key');
  assert.equal(x.ca, false);
  assert.deepEqual([...(x.keyUsage ?? [])].sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  const nb = new Date(x.validFrom).getTime();
  const na = new Date(x.validTo).getTime();
  assert.equal(na - nb, 600_000);
  assert.ok(nb >= before && nb <= Date.now());
  assert.equal(leaf.notBefore.getTime(), nb);
  assert.equal(leaf.notAfter.getTime(), na);
  assert.equal(leaf.renewAt.getTime(), nb + 300_000);

  // The default lifetime is an hour.
  const d = await ca.issue({ namespace: 'shop', serviceAccount: 'cart', publicKey: p256().publicKey });
  assert.equal(d.notAfter.getTime() - d.notBefore.getTime(), 3_600_000);
  assert.equal(d.renewAt.getTime() - d.notBefore.getTime(), 1_800_000);
});

test('a leaf with the proxy server name: the SPIFFE URI SAN first, then the DNS name; openssl checks the host name; bad names refused', async (t) => {
  const { ca, dir } = await freshCa(t);
  const name = meshServerName('shop', 'cart.v2');
  assert.equal(name, 'cart.v2.shop.sa.beeline.mesh');
  assert.throws(() => meshServerName('Shop', 'cart'), { code: 'BL_ERR_MESH_CA' });
  assert.throws(() => meshServerName('shop', 'x'.repeat(240)), { code: 'BL_ERR_MESH_CA' });
  const leaf = await ca.issue({ namespace: 'shop', serviceAccount: 'cart.v2', publicKey: p256().publicKey, dnsNames: [name] });
  const x = new X509Certificate(leaf.certificatePem);
  assert.equal(x.subjectAltName, `URI:spiffe://cluster.local/ns/shop/sa/cart.v2, DNS:${name}`);
  assert.equal(x.checkHost(name), name);
  assert.equal(x.checkHost('web.shop.sa.beeline.mesh'), undefined);
  writeFileSync(join(dir, 'b.pem'), leaf.bundlePem);
  writeFileSync(join(dir, 'l.pem'), leaf.certificatePem);
  execFileSync('openssl', ['verify', '-verify_hostname', name, '-CAfile', join(dir, 'b.pem'), join(dir, 'l.pem')], { stdio: 'pipe' });
  assert.throws(() => execFileSync('openssl', ['verify', '-verify_hostname', 'web.shop.sa.beeline.mesh', '-CAfile', join(dir, 'b.pem'), join(dir, 'l.pem')], { stdio: 'pipe' }));
  for (const bad of ['Upper.example', 'a..b', 'a b', '-a.b', 'x'.repeat(254)]) {
    await assert.rejects(ca.issue({ namespace: 'shop', serviceAccount: 'cart', publicKey: p256().publicKey, dnsNames: [bad] }), { code: 'BL_ERR_MESH_CA' }, bad);
  }
});

test('issue refuses bad requests with the code', async (t) => {
  const { ca, dir } = await freshCa(t);
  const k = p256();
  await assert.rejects(ca.issue({ namespace: 'shop', serviceAccount: 'cart' }), { code: 'BL_ERR_MESH_CA' });
  await assert.rejects(ca.issue({ namespace: 'shop', serviceAccount: 'cart', publicKey: k.publicKey, csrPem: opensslCsr(dir, k.privateKey) }), { code: 'BL_ERR_MESH_CA' });
  await assert.rejects(ca.issue({ namespace: 'Shop', serviceAccount: 'cart', publicKey: k.publicKey }), { code: 'BL_ERR_MESH_CA' });
  await assert.rejects(ca.issue({ namespace: 'shop', serviceAccount: 'cart', publicKey: k.publicKey, ttlSeconds: 0 }), { code: 'BL_ERR_MESH_CA' });
  await assert.rejects(ca.issue({ namespace: 'shop', serviceAccount: 'cart', publicKey: k.publicKey, ttlSeconds: 7 * 24 * 3600 }), { code: 'BL_ERR_MESH_CA' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await assert.rejects(ca.issue({ namespace: 'shop', serviceAccount: 'cart', publicKey: rsa.publicKey }), (e: MeshCaError) => e.code === 'BL_ERR_MESH_CA' && /P-256/.test(e.message));
  // A CSR whose signature does not match its key (one byte of the signature flipped).
  const csr = opensslCsr(dir, k.privateKey);
  const der = Buffer.from(csr.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  der[der.length - 3]! ^= 0x01;
  const bad = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
  await assert.rejects(ca.issue({ namespace: 'shop', serviceAccount: 'cart', csrPem: bad }), { code: 'BL_ERR_MESH_CA' });
});

test('mutual TLS 1.3 on 127.0.0.1 with two leaves: the server reads the client SPIFFE ID; another CA and an expired leaf are refused', async (t) => {
  const { ca, dir } = await freshCa(t);
  const sk = p256();
  const ck = p256();
  const s = await ca.issue({ namespace: 'shop', serviceAccount: 'cart', publicKey: pem(sk.publicKey) });
  const c = await ca.issue({ namespace: 'front', serviceAccount: 'web', csrPem: opensslCsr(dir, ck.privateKey) });
  const server: Peer = { key: sk.privateKey, cert: s.certificatePem, bundle: s.bundlePem };
  const good = await handshake(server, { key: ck.privateKey, cert: c.certificatePem, bundle: c.bundlePem }, s.spiffeId);
  assert.ok(good.ok, JSON.stringify(good));
  assert.equal(good.peerSan, 'URI:spiffe://cluster.local/ns/front/sa/web');
  assert.equal(good.protocol, 'TLSv1.3');

  // A client leaf from another CA (same SPIFFE ID): the server refuses it.
  const other = (await freshCa(t)).ca;
  const ok2 = p256();
  const foreign = await other.issue({ namespace: 'front', serviceAccount: 'web', publicKey: ok2.publicKey });
  assert.equal(opensslVerify(dir, ca.bundlePem, foreign.certificatePem).ok, false);
  assert.equal(new X509Certificate(foreign.certificatePem).verify(new X509Certificate(ca.certificatePem).publicKey), false);
  const r1 = await handshake(server, { key: ok2.privateKey, cert: foreign.certificatePem, bundle: c.bundlePem }, s.spiffeId);
  assert.equal(r1.ok, false);
  assert.equal(r1.peerSan, undefined);
  assert.ok(r1.serverError, 'the server dropped the client');
  const why1 = await handshake(server, { key: ok2.privateKey, cert: foreign.certificatePem, bundle: c.bundlePem }, s.spiffeId, false);
  assert.match(why1.authorizationError ?? '', /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/);

  // An expired client leaf from the right CA: issued an hour ago for a minute.
  const past = (await freshCa(t, { now: () => new Date(Date.now() - 3600_000) })).ca;
  const ek = p256();
  const expired = await past.issue({ namespace: 'front', serviceAccount: 'web', publicKey: ek.publicKey, ttlSeconds: 60 });
  const v = opensslVerify(dir, past.bundlePem, expired.certificatePem);
  assert.equal(v.ok, false);
  assert.match(v.out, /expired/);
  const pastServerLeaf = await past.issue({ namespace: 'shop', serviceAccount: 'cart', publicKey: sk.publicKey, ttlSeconds: 7200 });
  const r2 = await handshake({ key: sk.privateKey, cert: pastServerLeaf.certificatePem, bundle: past.bundlePem }, { key: ek.privateKey, cert: expired.certificatePem, bundle: past.bundlePem }, s.spiffeId);
  assert.equal(r2.ok, false);
  assert.ok(r2.serverError, 'the server dropped the client');
  const why2 = await handshake({ key: sk.privateKey, cert: pastServerLeaf.certificatePem, bundle: past.bundlePem }, { key: ek.privateKey, cert: expired.certificatePem, bundle: past.bundlePem }, s.spiffeId, false);
  assert.equal(why2.authorizationError, 'CERT_HAS_EXPIRED');
});

test('persistence: a later start loads the same CA; key stored encrypted, certificate in clear', async (t) => {
  const { ca, store, key, open } = await freshCa(t);
  const obj = (await store.get('ConfigMap', MESH_CA_NAMESPACE, MESH_CA_NAME)) as { data: Record<string, string> } | undefined;
  assert.ok(obj);
  assert.equal(obj.data['ca.crt'], ca.certificatePem);
  assert.doesNotMatch(obj.data['ca.key.enc']!, /PRIVATE KEY/);
  assert.match(obj.data['ca.key.enc']!, /^v1:/);

  const again = await MeshCa.open({ store: open(), keyFile: key });
  assert.equal(again.certificatePem, ca.certificatePem);
  // The reloaded CA signs: its leaf verifies against the first one's certificate.
  const leaf = await again.issue({ namespace: 'a', serviceAccount: 'b', publicKey: p256().publicKey });
  assert.ok(new X509Certificate(leaf.certificatePem).verify(new X509Certificate(ca.certificatePem).publicKey));
});

test('a wrong key file, a world-readable key file and tampered ciphertext are refused with the code; no new CA is made', async (t) => {
  const { ca, store, dir, open } = await freshCa(t);
  const before = await store.get('ConfigMap', MESH_CA_NAMESPACE, MESH_CA_NAME);
  await assert.rejects(MeshCa.open({ store: open(), keyFile: keyFile(dir, 'wrong') }), (e: MeshCaError) => e.code === 'BL_ERR_MESH_CA' && /does not decrypt/.test(e.message));
  await assert.rejects(MeshCa.open({ store: open(), keyFile: keyFile(dir, 'open', randomBytes(32), 0o604) }), (e: MeshCaError) => e.code === 'BL_ERR_MESH_CA' && /mode 0604/.test(e.message));

  const right = join(dir, 'ca.key');
  const obj = before as unknown as { data: Record<string, string> };
  const enc = obj.data['ca.key.enc']!;
  const raw = Buffer.from(enc.slice(3), 'base64');
  raw[raw.length - 1]! ^= 0x80;
  await store.update({ ...(before as object), data: { ...obj.data, 'ca.key.enc': `v1:${raw.toString('base64')}` } } as never);
  await assert.rejects(MeshCa.open({ store: open(), keyFile: right }), (e: MeshCaError) => e.code === 'BL_ERR_MESH_CA' && /does not decrypt/.test(e.message));

  // Swapping the certificate with the key left as it was is caught too (the certificate is bound into the tag).
  const otherCert = (await freshCa(t)).ca.certificatePem;
  await store.update({ ...(before as object), metadata: { ...(before!.metadata), resourceVersion: undefined }, data: { ...obj.data, 'ca.crt': otherCert } } as never);
  await assert.rejects(MeshCa.open({ store: open(), keyFile: right }), { code: 'BL_ERR_MESH_CA' });

  const after = (await store.get('ConfigMap', MESH_CA_NAMESPACE, MESH_CA_NAME)) as unknown as { data: Record<string, string> };
  assert.equal(after.data['ca.crt'], otherCert, 'the refused opens wrote nothing');
  assert.notEqual(after.data['ca.crt'], ca.certificatePem);
});

test('two operators initialising at once end with one CA', async (t) => {
  const { api, open } = await kubeStores(t);
  const dir = tempDir(t);
  const key = keyFile(dir);
  const [a, b] = await Promise.all([MeshCa.open({ store: open(), keyFile: key }), MeshCa.open({ store: open(), keyFile: key })]);
  assert.equal(a.certificatePem, b.certificatePem);
  // Both tried to create (neither saw the other's before): one met AlreadyExists and loaded the winner's.
  assert.equal(api.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/configmaps')).length, 2);
  const list = await open().list('ConfigMap', { namespace: MESH_CA_NAMESPACE });
  assert.equal(list.items.length, 1);
  // Both sign leaves that verify against that one CA.
  for (const ca of [a, b]) {
    const leaf = await ca.issue({ namespace: 'a', serviceAccount: 'b', publicKey: p256().publicKey });
    assert.ok(new X509Certificate(leaf.certificatePem).verify(new X509Certificate(a.certificatePem).publicKey));
  }
});

test('rollover: the bundle holds the old CA until its last leaf expires; old and new leaves both verify meanwhile', async (t) => {
  let now = Date.now();
  const { ca, dir, key, open } = await freshCa(t, { now: () => new Date(now) });
  const oldPem = ca.certificatePem;
  const k = p256();
  const oldLeaf = await ca.issue({ namespace: 'a', serviceAccount: 'b', publicKey: k.publicKey });
  await ca.rollover();
  assert.notEqual(ca.certificatePem, oldPem);
  const newLeaf = await ca.issue({ namespace: 'a', serviceAccount: 'b', publicKey: k.publicKey });
  assert.ok(new X509Certificate(newLeaf.certificatePem).checkIssued(new X509Certificate(ca.certificatePem)));
  assert.equal(newLeaf.bundlePem, ca.certificatePem + oldPem);
  assert.ok(opensslVerify(dir, newLeaf.bundlePem, oldLeaf.certificatePem).ok);
  assert.ok(opensslVerify(dir, newLeaf.bundlePem, newLeaf.certificatePem).ok);

  // Another operator starting now loads the rolled-over CA with its bundle.
  const reloaded = await MeshCa.open({ store: open(), keyFile: key, now: () => new Date(now) });
  assert.equal(reloaded.bundlePem, ca.certificatePem + oldPem);

  // No second rollover while the first one's old CA is still trusted.
  await assert.rejects(ca.rollover(), (e: MeshCaError) => e.code === 'BL_ERR_MESH_CA' && /still in progress/.test(e.message));

  // Past the longest leaf lifetime (24 h) the old CA leaves the bundle.
  now += 24 * 3600_000 + 1000;
  assert.equal(ca.bundlePem, ca.certificatePem);
  assert.equal(reloaded.bundlePem, ca.certificatePem);
});

test('rollover by an operator holding a stale CA is refused: it would drop the CA the other one just made', async (t) => {
  const { ca, key, open } = await freshCa(t);
  const other = await MeshCa.open({ store: open(), keyFile: key });
  await ca.rollover();
  const rolled = ca.certificatePem;
  await assert.rejects(other.rollover(), (e: MeshCaError) => e.code === 'BL_ERR_MESH_CA' && /another CA/.test(e.message));
  const reopened = await MeshCa.open({ store: open(), keyFile: key });
  assert.equal(reopened.certificatePem, rolled);
});

test('kvstore mode (etcd): two operators at once end with one CA, which a later start loads and rolls over', async (t) => {
  const { open } = await withEtcdStore(t);
  const key = keyFile(tempDir(t));
  const [a, b] = await Promise.all([MeshCa.open({ store: open(), keyFile: key }), MeshCa.open({ store: open(), keyFile: key })]);
  assert.equal(a.certificatePem, b.certificatePem);
  const later = await MeshCa.open({ store: open(), keyFile: key });
  assert.equal(later.certificatePem, a.certificatePem);
  await later.rollover();
  const after = await MeshCa.open({ store: open(), keyFile: key });
  assert.equal(after.certificatePem, later.certificatePem);
  assert.equal(after.bundlePem, later.certificatePem + a.certificatePem);
});

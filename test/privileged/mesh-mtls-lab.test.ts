/**
 * The mesh's certificates and the node proxies' mTLS listener in a 2-node
 * lab (issue 15, piece E2), before the datapath hands pods' connections to
 * the client side (piece E1): the operator runs the CA (its key file, mode
 * 0600, made by the lab) and signs each node's requests for the
 * ServiceAccounts of its pods; the private keys stay on the nodes; each
 * node's proxy runs the mtls section with its leaves (the running worker
 * holds them). A client speaking as node2's proxy does (PROXY v2, TLS 1.3,
 * node2's leaf for the client pod's ServiceAccount, SNI of the server's) gets
 * through node1's listener to the web pod (upstream from the client pod's address),
 * and node1's flow names the client's SPIFFE ID; without a certificate, or
 * with one of another CA, the handshake is refused and node1 has a DROPPED
 * flow saying why. Root; `flock /tmp/beeline-heavy.lock node --test
 * dist/test/privileged/mesh-mtls-lab.test.js`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beeline } from '../lib/cli.js';
import { labFlows, meshLab, MESH_PODS, proxyLeafPem, throwawayCa } from '../lib/mesh.js';
import { until } from '../lib/wait.js';
import { haproxyCommand } from '../../src/agent/proxy.js';
import { meshServerName } from '../../src/mesh/ca.js';
import { CERT_REQUEST_KIND } from '../../src/mesh/certs.js';
import { openEtcdStore } from '../../src/store/etcd.js';
import type { Store, StoreObject } from '../../src/store/store.js';

const LAB = 'mtlslab';
const LAB_DIR = `/run/beeline/labs/${LAB}`;
const NODE1_IP = '172.18.0.11';
const helper = fileURLToPath(new URL('./mesh-mtls-helper.js', import.meta.url));
const proxyDir = (node: string) => join(LAB_DIR, 'nodes', node, 'proxy');

let webIp = '';
let clientIp = '';

before(async () => {
  ({ webIp, clientIp } = await meshLab(LAB, MESH_PODS));
});

after(() => {
  // BEELINE_KEEP_LAB=1 leaves the lab up to look at after a failure.
  if (!process.env.BEELINE_KEEP_LAB) beeline(['lab', 'down', '--name', LAB, '-q']);
});

const flows = () => labFlows(LAB);

function handshake(cert: string, path: string): { ok: boolean; protocol?: string; error?: string; body?: string } {
  const r = spawnSync('ip', ['netns', 'exec', `bl-${LAB}-node2`, process.execPath, helper, 'tls', NODE1_IP, '15008', cert, join(proxyDir('node2'), 'mtls', 'bundle.pem'), `${clientIp}:41000`, `${webIp}:80`, meshServerName('mt', 'web'), path], { encoding: 'utf8', timeout: 20_000 });
  return JSON.parse(r.stdout) as { ok: boolean; protocol?: string; error?: string; body?: string };
}

test("the operator's CA (key file 0600) signs each node's ServiceAccounts; private keys only on the nodes; each proxy holds its leaves", async () => {
  assert.equal(statSync(join(LAB_DIR, 'mesh-ca.key')).mode & 0o777, 0o600);
  const web = join(proxyDir('node1'), 'certs', 'mt_web.pem');
  const client = join(proxyDir('node2'), 'certs', 'mt_client.pem');
  await until('both leaves on their nodes', () => {
    try {
      return statSync(web).size > 0 && statSync(client).size > 0;
    } catch {
      return false;
    }
  }, 60_000, 500);
  assert.equal(statSync(web).mode & 0o777, 0o600);
  const x = new X509Certificate(readFileSync(web));
  assert.equal(x.subjectAltName, 'URI:spiffe://cluster.local/ns/mt/sa/web, DNS:web.mt.sa.beeline.mesh');
  // The requests in the store carry public keys only.
  const state = JSON.parse(readFileSync(join(LAB_DIR, 'lab.json'), 'utf8')) as { etcd: { socket: string } };
  const store: Store = openEtcdStore({ endpoint: `unix://${state.etcd.socket}` });
  try {
    const reqs = (await store.list(CERT_REQUEST_KIND)).items as StoreObject[];
    const names = reqs.map((o) => o.metadata.name).sort();
    assert.ok(names.includes('node1.mt.web') && names.includes('node2.mt.client'), names.join(' '));
    assert.doesNotMatch(JSON.stringify(reqs), /PRIVATE KEY/);
    const signed = reqs.find((o) => o.metadata.name === 'node1.mt.web')!;
    assert.equal((signed.status as { certificate: string }).certificate.trim(), readFileSync(web, 'utf8').split('-----END CERTIFICATE-----')[0]!.trim() + '\n-----END CERTIFICATE-----');
  } finally {
    await store.close();
  }
  // The running worker loaded them (the section took: crt-list and the client side's crt).
  await until('node1 proxy holds the leaf', async () => (await haproxyCommand(join(proxyDir('node1'), 'haproxy.sock'), 'show ssl cert')).includes(web), 30_000, 500);
  assert.ok((await haproxyCommand(join(proxyDir('node2'), 'haproxy.sock'), 'show ssl cert')).includes(client));
});

test("node2's leaf through node1's listener: TLS 1.3, the web pod answers, node1's flow (source: the client pod) names the client's SPIFFE ID", async () => {
  const r = await until('an answer through node1', () => {
    const h = handshake(join(proxyDir('node2'), 'certs', 'mt_client.pem'), '/v1/?mtls-ok');
    return h.ok ? h : undefined;
  }, 30_000, 1000);
  assert.equal(r.protocol, 'TLSv1.3');
  assert.match(r.body ?? '', /Death Star/);
  const f = await until('the flow', () => flows().find((x) => x.l7?.type === 'REQUEST' && x.l7?.http?.url?.includes('mtls-ok')), 20_000, 500);
  assert.equal(f.mesh_tls?.peer_spiffe_id, 'spiffe://cluster.local/ns/mt/sa/client');
  assert.equal(f.source?.pod_name, 'client');
  assert.equal(f.destination?.pod_name, 'web');
  assert.equal(f.node_name, 'node1');
  assert.equal(f.verdict, 'FORWARDED');
});

test('no certificate, or a leaf of another CA: refused at the handshake; node1 has a DROPPED flow with the reason', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bl-mtls-lab-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'rogue.pem'), await proxyLeafPem(await throwawayCa(dir), 'mt', 'client'), { mode: 0o600 });
  for (const [what, cert, reason] of [['none', '-', /handshake failure/], ['another CA', join(dir, 'rogue.pem'), /not trusted/]] as const) {
    const before = flows().filter((f) => f.mesh_tls?.refusal).length;
    const h = handshake(cert, '/refused');
    assert.equal(h.ok, false, `${what}: ${JSON.stringify(h)}`);
    const refusals = await until(`the refusal flow (${what})`, () => {
      const all = flows().filter((f) => f.mesh_tls?.refusal);
      return all.length > before ? all : undefined;
    }, 20_000, 500);
    const f = refusals.at(-1)!;
    assert.match(f.mesh_tls.refusal, reason, what);
    assert.equal(f.verdict, 'DROPPED');
    assert.equal(f.node_name, 'node1');
    assert.match(f.Summary, /^mTLS refused: /);
  }
  assert.ok(!flows().some((f) => f.l7?.http?.url?.includes('/refused')), 'no refused request reached the pod');
});

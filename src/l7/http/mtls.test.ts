/**
 * The mTLS section renderer: its text and files for a node with pods of two
 * ServiceAccounts and targets on two nodes, what it refuses, and that
 * HAProxy 2.6 accepts what it writes (`haproxy -c`, when installed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { proxyLeafPem, throwawayCa } from '../../../test/lib/mesh.js';
import { renderHaproxy } from './haproxy.js';
import { MTLS_FILES, renderMtlsSection, type MtlsSectionInput } from './mtls.js';

const hasHaproxy = spawnSync('sh', ['-c', 'command -v haproxy']).status === 0;
const BUNDLE = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

function input(over: Partial<MtlsSectionInput> = {}): MtlsSectionInput {
  return {
    stateDir: '/run/bl/proxy',
    nodeIp: '192.168.50.1',
    outPort: 15004,
    inPort: 15008,
    bundlePem: BUNDLE,
    certificates: [
      { namespace: 'shop', serviceAccount: 'web', file: '/run/bl/proxy/certs/shop_web.pem' },
      { namespace: 'default', serviceAccount: 'client', file: '/run/bl/proxy/certs/default_client.pem' },
    ],
    local: [
      { ip: '10.0.1.5', namespace: 'default', serviceAccount: 'client' },
      { ip: '10.0.1.6', namespace: 'shop', serviceAccount: 'web' },
      { ip: '10.0.1.7', namespace: 'shop', serviceAccount: 'nocert' },
    ],
    targets: [
      { ip: '10.0.2.9', namespace: 'shop', serviceAccount: 'cart', nodeIp: '192.168.50.2' },
      { ip: '10.0.3.9', namespace: 'shop', serviceAccount: 'cart', nodeIp: '192.168.50.3' },
      { ip: '10.0.1.6', namespace: 'shop', serviceAccount: 'web', nodeIp: '192.168.50.1' },
    ],
    identitiesFile: '/run/bl/proxy/identities.map',
    ...over,
  };
}

const file = (s: { files: { path: string; content: string }[] }, name: string) => s.files.find((f) => f.path === `/run/bl/proxy/${name}`)?.content;

test('the client side: a transparent TCP listener picking a backend per client ServiceAccount and target node, TLS 1.3 with verify, SNI and PROXY v2', () => {
  const s = renderMtlsSection(input())!;
  assert.match(s.config, /^frontend bl_mtls_out\n  mode tcp\n  bind 0\.0\.0\.0:15004 transparent$/m);
  // ServiceAccounts sorted: s0 = default/client, s1 = shop/web; nodes sorted: n0 .1, n1 .2, n2 .3.
  assert.equal(file(s, MTLS_FILES.srcSa), '10.0.1.5 s0\n10.0.1.6 s1\n', 'a pod without a certificate is no client');
  assert.equal(file(s, MTLS_FILES.dstNode), '10.0.1.6 n0\n10.0.2.9 n1\n10.0.3.9 n2\n');
  assert.equal(file(s, MTLS_FILES.dstName), '10.0.1.6 web.shop.sa.beeline.mesh\n10.0.2.9 cart.shop.sa.beeline.mesh\n10.0.3.9 cart.shop.sa.beeline.mesh\n');
  assert.match(s.config, /tcp-request content reject unless \{ var\(sess.mtls_sa\) -m found \} \{ var\(sess.mtls_node\) -m found \} \{ var\(sess.mtls_name\) -m found \}/);
  assert.match(s.config, /use_backend bl_mtls_%\[var\(sess.mtls_sa\)\]_%\[var\(sess.mtls_node\)\]/);
  const servers = s.config.split('\n').filter((l) => l.trim().startsWith('server n'));
  assert.equal(servers.length, 6, 'two ServiceAccounts × three nodes');
  assert.ok(servers.includes('  server n1 192.168.50.2:15008 ssl verify required ca-file /run/bl/proxy/mtls/bundle.pem ssl-min-ver TLSv1.3 crt /run/bl/proxy/certs/default_client.pem sni var(sess.mtls_name) send-proxy-v2'), servers.join('\n'));
  assert.match(s.config, /^backend bl_mtls_s1_n2\n  # shop\/web to 192\.168\.50\.3\n/m);
});

test('the server side: TLS 1.3 only, verify required, crt-list by server name, PROXY, HTTP, the peer SPIFFE ID, the destination checked against the SNI, usesrc clientip', () => {
  const s = renderMtlsSection(input())!;
  assert.match(s.config, /bind 192\.168\.50\.1:15008 ssl crt-list \/run\/bl\/proxy\/mtls\/in\.crtlist verify required ca-file \/run\/bl\/proxy\/mtls\/bundle\.pem ssl-min-ver TLSv1\.3 accept-proxy$/m);
  assert.equal(file(s, MTLS_FILES.crtList), '/run/bl/proxy/certs/default_client.pem client.default.sa.beeline.mesh\n/run/bl/proxy/certs/shop_web.pem web.shop.sa.beeline.mesh\n');
  assert.equal(file(s, MTLS_FILES.localName), '10.0.1.5 client.default.sa.beeline.mesh\n10.0.1.6 web.shop.sa.beeline.mesh\n');
  assert.match(s.config, /^global\n  lua-load \/run\/bl\/proxy\/mtls\/spiffe\.lua$/m);
  assert.match(file(s, MTLS_FILES.lua)!, /core\.register_fetches\("spiffe_id"/);
  assert.match(s.config, /http-request set-var\(sess.mtls_peer\) lua.spiffe_id unless \{ var\(sess.mtls_peer\) -m found \}/);
  assert.match(s.config, /\\"mtlsPeer\\":%\{\+Q\}\[var\(sess.mtls_peer\),json\(utf8s\)\]/);
  assert.match(s.config, /ssl_fc_sni,strcmp\(txn.mtls_want\) eq 0/);
  assert.match(s.config, /backend bl_mtls_pod\n  mode http\n.*\n  server pod 0\.0\.0\.0\n  source 0\.0\.0\.0 usesrc clientip/);
  assert.match(s.config, /backend bl_mtls_pod_h2\n  mode http\n.*\n  server pod 0\.0\.0\.0 proto h2\n/);
  assert.equal(file(s, MTLS_FILES.bundle), BUNDLE);
  // Not transparent (tests): loopback listener, no usesrc.
  const nt = renderMtlsSection(input({ transparent: false }))!;
  assert.match(nt.config, /bind 127\.0\.0\.1:15004$/m);
  assert.doesNotMatch(nt.config, /usesrc/);
});

test('nothing to serve without a certificate; bad input refused with BL_ERR_HTTP_RULE', () => {
  assert.equal(renderMtlsSection(input({ certificates: [] })), undefined);
  const bad: [string, Partial<MtlsSectionInput>][] = [
    ['stateDir', { stateDir: 'rel/dir' }],
    ['nodeIp', { nodeIp: '192.168.50' }],
    ['port', { inPort: 70000 }],
    ['same ports', { inPort: 15004 }],
    ['bundle', { bundlePem: 'nothing' }],
    ['cert path', { certificates: [{ namespace: 'a', serviceAccount: 'b', file: '/x y' }] }],
    ['two certs', { certificates: [{ namespace: 'a', serviceAccount: 'b', file: '/x' }, { namespace: 'a', serviceAccount: 'b', file: '/y' }] }],
    ['ip twice', { local: [{ ip: '10.0.0.1', namespace: 'a', serviceAccount: 'b' }, { ip: '10.0.0.1', namespace: 'a', serviceAccount: 'c' }] }],
    ['target node', { targets: [{ ip: '10.0.0.1', namespace: 'a', serviceAccount: 'b', nodeIp: 'x' }] }],
  ];
  for (const [what, over] of bad) assert.throws(() => renderMtlsSection(input(over)), { code: 'BL_ERR_HTTP_RULE' }, what);
  assert.throws(() => renderMtlsSection(input({ certificates: [{ namespace: 'A', serviceAccount: 'b', file: '/x' }] })), { code: 'BL_ERR_MESH_CA' });
});

test('HAProxy 2.6 accepts the configuration with the policy one (haproxy -c), with real leaves', { skip: !hasHaproxy && 'haproxy is not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bl-mtls-render-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ca = await throwawayCa(dir);
  const certificates = [];
  for (const [ns, sa] of [['default', 'client'], ['shop', 'web']] as const) {
    const f = join(dir, `${ns}_${sa}.pem`);
    writeFileSync(f, await proxyLeafPem(ca, ns, sa), { mode: 0o600 });
    certificates.push({ namespace: ns, serviceAccount: sa, file: f });
  }
  const main = renderHaproxy({ listeners: [{ direction: 'ingress', port: 15001 }], redirects: [], identities: [], logTarget: '127.0.0.1:15009', stateDir: dir });
  const sec = renderMtlsSection(input({ stateDir: dir, bundlePem: ca.bundlePem, certificates, identitiesFile: join(dir, 'identities.map'), nodeIp: '127.0.0.1' }))!;
  for (const f of [...main.files, ...sec.files]) {
    mkdirSync(dirname(f.path), { recursive: true });
    writeFileSync(f.path, f.content);
  }
  writeFileSync(join(dir, 'haproxy.cfg'), `${main.config}\n${sec.config}`);
  const r = spawnSync('haproxy', ['-c', '-f', join(dir, 'haproxy.cfg')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr + r.stdout);
});

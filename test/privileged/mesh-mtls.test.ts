/**
 * Mutual authentication end to end on a 2-node lab (issue 15, pieces E1 and
 * E2): a CiliumNetworkPolicy with `authentication: {mode: required}` on the
 * web pod (node1, ServiceAccount web) lets the client pod (node2,
 * ServiceAccount client) in. The client's plain HTTP request is handed by
 * node2's datapath to its proxy's mtls-out listener, crosses the fabric as
 * TLS 1.3 to node1's mtls-in listener (tshark on the fabric's bridge: TLS 1.3
 * on 15008, no HTTP, not even inside the tunnel), and node1's flow names the
 * client's SPIFFE ID. When node2's proxy presents a leaf of another CA for the
 * client (put in with `set ssl cert`), node1 refuses the handshake, the
 * request fails and node1 has a DROPPED flow saying why. Traffic the
 * datapath does not hand to the proxy (UDP to a port the same allow covers)
 * arrives without mTLS and is dropped at the web pod with 189,
 * "Authentication required". Root;
 * `flock /tmp/beeline-heavy.lock node --test dist/test/privileged/mesh-mtls.test.js`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beeline } from '../lib/cli.js';
import { labFlows, meshLab, MESH_PODS, proxyLeafPem, throwawayCa } from '../lib/mesh.js';
import { until } from '../lib/wait.js';
import { proxyStatsSocket, setProxySslCert } from '../../src/agent/proxy.js';
import { TUNNEL_PORT } from '../../src/datapath/devices.js';

const LAB = 'mtlse2e';
const env = { BEELINE_LAB: LAB };
const LAB_DIR = `/run/beeline/labs/${LAB}`;
const proxyDir = (node: string) => join(LAB_DIR, 'nodes', node, 'proxy');
const hasTshark = spawnSync('sh', ['-c', 'command -v tshark']).status === 0;

const MANIFESTS = `${MESH_PODS}---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: web-auth, namespace: mt}
spec:
  endpointSelector: {matchLabels: {app: web}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: client}}]
    authentication: {mode: required}
    toPorts: [{ports: [{port: "80", protocol: TCP}, {port: "9000", protocol: UDP}]}]
`;

let webIp = '';

before(async () => {
  ({ webIp } = await meshLab(LAB, MANIFESTS));
});

after(() => {
  // BEELINE_KEEP_LAB=1 leaves the lab up to look at after a failure.
  if (!process.env.BEELINE_KEEP_LAB) beeline(['lab', 'down', '--name', LAB, '-q']);
});

/** A GET from the client pod: the body, or undefined when it failed. */
function get(path: string): string | undefined {
  const r = beeline(['exec', '-n', 'mt', 'client', '--', 'wget', '-q', '-t', '1', '-O', '-', '-T', '5', `http://${webIp}${path}`], env);
  return r.code === 0 ? r.stdout : undefined;
}

const flows = (args: string[]) => labFlows(LAB, args);

test("the client's request reaches the web pod over mTLS: TLS 1.3 on the fabric, no HTTP; node1's flow names the client's SPIFFE ID", { skip: hasTshark ? false : 'needs tshark' }, async (t) => {
  // Until the client's node proxy has its leaf and the web pod's destination, the first requests may fail.
  await until('a first answer through the mesh', () => get('/v1/?warmup')?.includes('Death Star'), 60_000, 1000);
  const dir = mkdtempSync(join(tmpdir(), 'bl-mtls-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pcap = join(dir, 'fabric.pcap');
  const cap = spawn('ip', ['netns', 'exec', `bl-${LAB}-fabric`, 'tshark', '-i', 'br0', '-w', pcap], { stdio: ['ignore', 'ignore', 'pipe'] });
  let capErr = '';
  cap.stderr.setEncoding('utf8').on('data', (d: string) => (capErr += d));
  try {
    await until('tshark to capture', () => capErr.includes('Capturing on'), 20_000, 100);
    const body = get('/v1/?mtls-e2e');
    assert.match(body ?? '', /Death Star/);
    await new Promise((r) => setTimeout(r, 1000));
  } finally {
    cap.kill('SIGINT');
    await new Promise((r) => cap.once('exit', r));
  }
  const decode = ['-d', 'tcp.port==15008,tls', '-d', `udp.port==${TUNNEL_PORT},vxlan`];
  const hellos = spawnSync('tshark', ['-r', pcap, ...decode, '-Y', 'tls.handshake.type == 2', '-T', 'fields', '-e', 'ip.src', '-e', 'tcp.srcport', '-e', 'tls.handshake.extensions.supported_version'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
  assert.ok(hellos.length >= 1, 'a ServerHello on the fabric');
  for (const h of hellos) assert.match(h, /^172\.18\.0\.11\t15008\t0x0304$/, `node1's listener selects TLS 1.3: ${h}`);
  const http = spawnSync('tshark', ['-r', pcap, ...decode, '-Y', 'http', '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' }).stdout.trim();
  assert.equal(http, '', 'no HTTP on the fabric, in the tunnel or not');
  assert.ok(!readFileSync(pcap).toString('latin1').includes('mtls-e2e'), 'the request line is nowhere in the capture');

  const f = await until('the flow at node1', () => flows(['--protocol', 'http', '--pod', 'mt/web']).find((x) => x.l7?.type === 'REQUEST' && x.l7?.http?.url?.includes('mtls-e2e')), 20_000, 500);
  assert.equal(f.mesh_tls?.peer_spiffe_id, 'spiffe://cluster.local/ns/mt/sa/client');
  assert.equal(f.source?.pod_name, 'client');
  assert.equal(f.destination?.pod_name, 'web');
  assert.equal(f.node_name, 'node1');
  assert.equal(f.verdict, 'FORWARDED');
  const compact = beeline(['observe', '--protocol', 'http', '--pod', 'mt/web', '--all'], env).stdout;
  assert.match(compact, /mt\/client:\d+ \(ID:\d+\) -> mt\/web:80 \(ID:\d+\) http-request FORWARDED \(HTTP\/1\.1 GET .*mtls-e2e\) mtls-peer=spiffe:\/\/cluster\.local\/ns\/mt\/sa\/client/);
});

test("a client proxy presenting another CA's leaf is refused at node1's handshake: the request fails, node1 has a DROPPED flow with the reason", async (t) => {
  await until('the mesh answers', () => get('/v1/?warm')?.includes('Death Star'), 60_000, 1000);
  const dir = mkdtempSync(join(tmpdir(), 'bl-mtls-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // Only in the running worker (the file stays the agent's): node2's proxy now speaks for the client with a foreign leaf.
  await setProxySslCert(proxyStatsSocket(proxyDir('node2')), join(proxyDir('node2'), 'certs', 'mt_client.pem'), await proxyLeafPem(await throwawayCa(dir), 'mt', 'client'));
  assert.equal(get('/v1/?foreign-leaf'), undefined, 'the request fails');
  const f = await until('the refusal flow', () => flows(['--verdict', 'DROPPED']).find((x) => x.mesh_tls?.refusal && x.source?.pod_name === 'client'), 20_000, 500);
  assert.match(f.mesh_tls.refusal, /not trusted/);
  assert.equal(f.node_name, 'node1');
  assert.match(f.Summary, /^mTLS refused: SSL client certificate not trusted$/);
  assert.ok(!flows(['--protocol', 'http', '--pod', 'mt/web']).some((x) => x.l7?.http?.url?.includes('foreign-leaf')), 'nothing reached the web pod');
});

test('plaintext the client side does not take (UDP under the same allow) is dropped at the web pod: 189 Authentication required', async () => {
  const dropped = () => flows(['--verdict', 'DROPPED', '--pod', 'mt/web']).filter((x) => x.drop_reason_desc === 'AUTH_REQUIRED' || x.drop_reason === 189);
  const before = dropped().length;
  await until('the 189 drop', () => {
    beeline(['exec', '-n', 'mt', 'client', '--', 'bash', '-c', `echo plaintext > /dev/udp/${webIp}/9000`], env);
    return dropped().length > before;
  }, 30_000, 1000);
  const f = dropped().at(-1)!;
  assert.equal(f.source?.pod_name, 'client');
  assert.equal(f.destination?.pod_name, 'web');
  const compact = beeline(['observe', '--verdict', 'DROPPED', '--pod', 'mt/web', '--all'], env).stdout;
  assert.match(compact, /mt\/client:\d+ \(ID:\d+\) <> mt\/web:9000 \(ID:\d+\) Authentication required DROPPED \(UDP\)/);
});

/**
 * The mTLS transport between node proxies (src/l7/http/mtls.ts) in two real
 * HAProxy 2.6 processes: four namespaces made for the test and deleted after
 * it (`bl-mt{a,b,c,s}-<pid>`): node A (client side) and node B (server side)
 * joined by a veth (the fabric), client pod C behind A, server pod S behind B.
 * A's netfilter (TPROXY, in A's namespace only) stands in for the datapath's
 * hand-over of C's connections to A's mtls-out listener. Certificates come
 * from a MeshCa. Checks: a request from C reaches S with C's address, the
 * fabric carries TLS 1.3 on 15008 and no HTTP (tshark), B's record names C's
 * SPIFFE ID; a client with another CA's leaf, an expired leaf or none is
 * refused at the handshake and the refusal recorded with its reason; the
 * certificates rotated with `set ssl cert` / `commit ssl cert` under load
 * without one failed request and without a reload. Root; run it with
 * `flock /tmp/beeline-heavy.lock node --test dist/test/privileged/mesh-mtls-haproxy.test.js`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { meshServerName, type MeshCa } from '../../src/mesh/ca.js';
import { memoryStore, proxyLeafPem, throwawayCa } from '../lib/mesh.js';
import { MTLS_FILES, renderMtlsSection } from '../../src/l7/http/mtls.js';
import { renderHaproxy } from '../../src/l7/http/haproxy.js';
import { haproxyCommand, proxyStatsSocket, setProxySslCert } from '../../src/agent/proxy.js';
import { parseHttpAccessRecord, parseMtlsRefusal } from '../../src/l7/http/accesslog.js';
import { addNetns, delNetns, ipIn, netnsExists } from '../../src/lab/netns.js';

const ready = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v haproxy && command -v tshark']).status === 0;
const helper = fileURLToPath(new URL('./mesh-mtls-helper.js', import.meta.url));

const A_FAB = '10.77.0.1';
const B_FAB = '10.77.0.2';
const C_IP = '10.77.1.5';
const S_IP = '10.77.2.7';
const IN_PORT = 15008;
const OUT_PORT = 15004;
const LOG_PORT = 15009;

function sh(ns: string, cmd: string[]): string {
  const r = spawnSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${ns}: ${cmd.join(' ')}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

function bg(ns: string, cmd: string[], procs: ChildProcess[], out?: { text: string }): ChildProcess {
  const p = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
  p.stdout!.setEncoding('utf8').on('data', (d: string) => out && (out.text += d));
  p.stderr!.setEncoding('utf8').on('data', (d: string) => out && (out.text += d));
  procs.push(p);
  return p;
}

function run(ns: string, cmd: string[]): Promise<string> {
  return new Promise((resolve) => {
    const p = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.on('exit', () => resolve(out));
  });
}

async function waitFor(what: string, ok: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const leaf = (ca: MeshCa, sa: string, ttlSeconds?: number) => proxyLeafPem(ca, 'default', sa, ttlSeconds);

function writeAll(files: { path: string; content: string }[]): void {
  for (const f of files) {
    mkdirSync(dirname(f.path), { recursive: true });
    writeFileSync(f.path, f.content, { mode: 0o600 });
  }
}

test('mTLS between two node proxies: TLS 1.3 on the wire, peer SPIFFE ID recorded, bad peers refused, rotation without a failed request', { timeout: 180_000, skip: ready ? false : 'needs root, haproxy and tshark' }, async (t) => {
  const tag = process.pid;
  const [nsA, nsB, nsC, nsS] = ['a', 'b', 'c', 's'].map((x) => `bl-mt${x}-${tag}`) as [string, string, string, string];
  const dir = mkdtempSync(join(tmpdir(), 'bl-mtls-'));
  const procs: ChildProcess[] = [];
  t.after(() => {
    for (const p of procs) if (p.exitCode === null && p.pid) try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
    for (const ns of [nsA, nsB, nsC, nsS]) {
      if (!netnsExists(ns)) continue;
      const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
      for (const pid of r.stdout.split('\n').map(Number).filter((n) => n > 0)) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      delNetns(ns);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  // ---- the namespaces ----
  for (const ns of [nsA, nsB, nsC, nsS]) addNetns(ns);
  const veth = (a: string, an: string, b: string, bn: string) => ipIn(a, ['link', 'add', an, 'type', 'veth', 'peer', 'name', bn, 'netns', b], `veth ${an}`);
  veth(nsA, 'fab', nsB, 'fab');
  veth(nsA, 'cp', nsC, 'eth0');
  veth(nsB, 'sp', nsS, 'eth0');
  const addr = (ns: string, dev: string, cidr: string) => {
    ipIn(ns, ['addr', 'add', cidr, 'dev', dev], `addr ${cidr}`);
    ipIn(ns, ['link', 'set', dev, 'up'], `up ${dev}`);
  };
  addr(nsA, 'fab', `${A_FAB}/24`);
  addr(nsB, 'fab', `${B_FAB}/24`);
  addr(nsA, 'cp', '10.77.1.1/24');
  addr(nsC, 'eth0', `${C_IP}/24`);
  addr(nsB, 'sp', '10.77.2.1/24');
  addr(nsS, 'eth0', `${S_IP}/24`);
  ipIn(nsC, ['route', 'add', 'default', 'via', '10.77.1.1'], 'C default route');
  ipIn(nsS, ['route', 'add', 'default', 'via', '10.77.2.1'], 'S default route');
  // A: C's connections to the pod network go to the mtls-out listener, addresses kept (the datapath's proxy_assign4).
  sh(nsA, ['iptables', '-t', 'mangle', '-A', 'PREROUTING', '-i', 'cp', '-p', 'tcp', '-d', '10.77.2.0/24', '-j', 'TPROXY', '--on-port', String(OUT_PORT), '--on-ip', '0.0.0.0', '--tproxy-mark', '0x1/0x1']);
  ipIn(nsA, ['rule', 'add', 'fwmark', '1', 'lookup', '100'], 'A tproxy rule');
  ipIn(nsA, ['route', 'add', 'local', '0.0.0.0/0', 'dev', 'lo', 'table', '100'], 'A tproxy route');
  // B: S's answers to C's address (the proxy's usesrc clientip) are the proxy's own (FROM_PROXY ct in the datapath).
  ipIn(nsB, ['rule', 'add', 'iif', 'sp', 'lookup', '100'], 'B usesrc rule');
  ipIn(nsB, ['route', 'add', 'local', '0.0.0.0/0', 'dev', 'lo', 'table', '100'], 'B usesrc route');
  for (const ns of [nsA, nsB]) for (const k of ['net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0']) sh(ns, ['sysctl', '-qw', k]);

  // ---- certificates ----
  const store = memoryStore();
  const ca = await throwawayCa(dir, store);
  // The same CA with its clock an hour back: its leaves have expired.
  const pastCa = await throwawayCa(dir, store, () => new Date(Date.now() - 3600_000));
  const rogueCa = await throwawayCa(dir);
  const stA = join(dir, 'a');
  const stB = join(dir, 'b');
  const clientPem = join(stA, 'certs', 'default_client.pem');
  const serverPem = join(stB, 'certs', 'default_server.pem');
  writeAll([{ path: clientPem, content: await leaf(ca, 'client') }, { path: serverPem, content: await leaf(ca, 'server') }]);
  const roguePem = join(dir, 'rogue.pem');
  const expiredPem = join(dir, 'expired.pem');
  const caPem = join(dir, 'ca.pem');
  writeFileSync(roguePem, await leaf(rogueCa, 'client'), { mode: 0o600 });
  writeFileSync(expiredPem, await leaf(pastCa, 'client', 60), { mode: 0o600 });
  writeFileSync(caPem, ca.bundlePem);
  assert.ok(new Date(new X509Certificate(readFileSync(expiredPem)).validTo) < new Date(), 'the expired leaf is expired');

  // ---- the two proxies ----
  const client = { ip: C_IP, namespace: 'default', serviceAccount: 'client' };
  const server = { ip: S_IP, namespace: 'default', serviceAccount: 'server' };
  const target = { ...server, nodeIp: B_FAB };
  const proxies = [
    { ns: nsA, st: stA, nodeIp: A_FAB, certs: [{ namespace: 'default', serviceAccount: 'client', file: clientPem }], local: [client] },
    { ns: nsB, st: stB, nodeIp: B_FAB, certs: [{ namespace: 'default', serviceAccount: 'server', file: serverPem }], local: [server] },
  ];
  const haproxyOut = { text: '' };
  for (const p of proxies) {
    const main = renderHaproxy({ listeners: [], redirects: [], identities: [{ prefix: `${C_IP}/32`, identity: 1001 }, { prefix: `${S_IP}/32`, identity: 1002 }], logTarget: `127.0.0.1:${LOG_PORT}`, stateDir: p.st });
    const sec = renderMtlsSection({ stateDir: p.st, nodeIp: p.nodeIp, outPort: OUT_PORT, inPort: IN_PORT, bundlePem: ca.bundlePem, certificates: p.certs, local: p.local, targets: [target], identitiesFile: join(p.st, 'identities.map') });
    assert.ok(sec);
    writeAll([...main.files, ...sec.files, { path: join(p.st, 'haproxy.cfg'), content: `${main.config}\n${sec.config}` }]);
    bg(p.ns, ['haproxy', '-W', '-S', join(p.st, 'master.sock'), '-f', join(p.st, 'haproxy.cfg')], procs, haproxyOut);
  }
  const records = join(dir, 'records.jsonl');
  writeFileSync(records, '');
  bg(nsB, [process.execPath, helper, 'collect', String(LOG_PORT), records], procs);
  bg(nsS, [process.execPath, helper, 'http', '8080'], procs);
  for (const p of proxies) await waitFor(`${p.ns} stats socket`, () => existsSync(proxyStatsSocket(p.st)));
  await waitFor('the target pod', async () => (await run(nsB, ['curl', '-s', '-m', '1', `http://${S_IP}:8080/`])).includes('/'));

  // ---- capture on the fabric ----
  const pcap = join(dir, 'fabric.pcap');
  const tsOut = { text: '' };
  const tshark = bg(nsB, ['tshark', '-i', 'fab', '-f', `tcp port ${IN_PORT}`, '-w', pcap], procs, tsOut);
  await waitFor('tshark to capture', () => tsOut.text.includes('Capturing on'), 20_000);

  const lines = () => readFileSync(records, 'utf8').split('\n').filter(Boolean);
  const recordsNow = () => lines().filter((l) => l.startsWith('{')).map((l) => parseHttpAccessRecord(l));

  await t.test('a request from the client pod reaches the server pod from the client address, over mTLS', async () => {
    const body = await run(nsC, ['curl', '-s', '-m', '5', `http://${S_IP}:8080/hello`]);
    assert.equal(body.trim(), `${C_IP} /hello`, `${body}\n${haproxyOut.text}`);
    await waitFor('the record', () => recordsNow().some((r) => r.url === '/hello'));
    const r = recordsNow().find((x) => x.url === '/hello')!;
    assert.equal(r.mtlsPeer, 'spiffe://cluster.local/ns/default/sa/client');
    assert.equal(r.srcIp, C_IP);
    assert.equal(r.dstIp, S_IP);
    assert.equal(r.dstPort, 8080);
    assert.equal(r.srcIdentity, 1001);
    assert.equal(r.status, 200);
  });

  await t.test('a peer with a leaf of another CA, an expired leaf or none is refused at the handshake, the reason recorded', async () => {
    const reasons = new Map<string, string>();
    for (const [what, cert] of [['another CA', roguePem], ['expired', expiredPem], ['no certificate', '-']] as const) {
      const before = lines().length;
      const out = JSON.parse(await run(nsA, [process.execPath, helper, 'tls', B_FAB, String(IN_PORT), cert, caPem])) as { ok: boolean; error?: string };
      assert.equal(out.ok, false, `${what}: ${JSON.stringify(out)}`);
      await waitFor(`the refusal record (${what})`, () => lines().length > before);
      const fresh = lines().slice(before);
      const refusals = fresh.map(parseMtlsRefusal);
      assert.ok(refusals.length === 1 && refusals[0], `${what}: one refusal line: ${fresh.join('\n')}`);
      assert.equal(refusals[0].srcIp, '10.77.1.5', 'the client pod of the PROXY header');
      reasons.set(what, refusals[0].reason);
      t.diagnostic(`${what}: client: ${out.error}; server: ${refusals[0].reason}`);
    }
    assert.match(reasons.get('another CA')!, /not trusted|unknown ca|verif/i);
    assert.match(reasons.get('expired')!, /expired|not trusted|verif/i);
    assert.match(reasons.get('no certificate')!, /certificate|handshake/i);
  });

  await t.test('the client proxy verifies the server name: a server without the target service account\'s certificate is refused', async () => {
    const map = join(stA, MTLS_FILES.dstName);
    const sock = proxyStatsSocket(stA);
    assert.equal(await haproxyCommand(sock, `set map ${map} ${S_IP} other.default.sa.beeline.mesh`), '');
    try {
      const out = await run(nsC, ['curl', '-s', '-m', '5', '-o', '/dev/null', '-w', '%{http_code}', `http://${S_IP}:8080/misnamed`]);
      assert.equal(out.trim(), '000', 'the connection fails (B presents default/server, not default/other)');
      assert.ok(!recordsNow().some((r) => r.url === '/misnamed'), 'nothing reached the server side as a request');
    } finally {
      assert.equal(await haproxyCommand(sock, `set map ${map} ${S_IP} ${meshServerName('default', 'server')}`), '');
    }
    const body = await run(nsC, ['curl', '-s', '-m', '5', `http://${S_IP}:8080/again`]);
    assert.equal(body.trim(), `${C_IP} /again`);
  });

  await t.test('the fabric carries TLS 1.3 on 15008 and no HTTP', async () => {
    await run(nsC, ['curl', '-s', '-m', '5', `http://${S_IP}:8080/wire`]);
    await new Promise((r) => setTimeout(r, 1000));
    process.kill(tshark.pid!, 'SIGINT');
    await new Promise((r) => tshark.once('exit', r));
    const tlsFields = sh(nsB, ['tshark', '-r', pcap, '-d', `tcp.port==${IN_PORT},tls`, '-Y', 'tls.handshake.type == 2', '-T', 'fields', '-e', 'tls.handshake.extensions.supported_version']);
    const versions = tlsFields.split('\n').filter(Boolean);
    assert.ok(versions.length >= 2, `server hellos: ${tlsFields}`);
    assert.ok(versions.every((v) => v === '0x0304'), `every ServerHello selects TLS 1.3: ${versions.join(' ')}`);
    const http = sh(nsB, ['tshark', '-r', pcap, '-d', `tcp.port==${IN_PORT},tls`, '-Y', 'http', '-T', 'fields', '-e', 'frame.number']);
    assert.equal(http.trim(), '', 'no HTTP on the fabric');
    const strings = readFileSync(pcap).toString('latin1');
    assert.ok(!strings.includes('GET /wire'), 'the request line is not in the capture');
  });

  await t.test('certificates rotated with set ssl cert under load: no failed request, no reload, the new leaves served', async () => {
    const load = run(nsC, [process.execPath, helper, 'load', `http://${S_IP}:8080/load`, '6000']);
    await new Promise((r) => setTimeout(r, 1500));
    for (const [p, file, sa] of [[proxies[1]!, serverPem, 'server'], [proxies[0]!, clientPem, 'client']] as const) {
      const pem = await leaf(ca, sa);
      const sock = proxyStatsSocket(p.st);
      await setProxySslCert(sock, file, pem);
      writeFileSync(file, pem, { mode: 0o600 }); // what a later reload loads
      const show = await haproxyCommand(sock, `show ssl cert ${file}`);
      const serial = new X509Certificate(pem).serialNumber;
      assert.ok(show.toUpperCase().includes(serial.toUpperCase()), `${sa}: the running proxy serves serial ${serial}:\n${show}`);
      await new Promise((r) => setTimeout(r, 1500));
    }
    const r = JSON.parse(await load) as { ok: number; failed: number; errors: string[] };
    assert.equal(r.failed, 0, JSON.stringify(r));
    assert.ok(r.ok > 50, JSON.stringify(r));
    // Still the first worker of each proxy: nothing reloaded.
    for (const p of proxies) {
      const proc = await haproxyCommand(join(p.st, 'master.sock'), 'show proc');
      assert.match(proc, /^\d+\s+master\s+0\b/m, proc);
    }
  });
});

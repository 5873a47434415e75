import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreObject } from '../store/store.js';
import {
  CLUSTER_DNS_HOSTS_MOUNT, CLUSTER_DNS_IMAGE, CLUSTER_DOMAIN, WORLD_DNS_TTL_S, clusterDnsArgs, clusterDnsDeployment, dnsRecords, hostsFileText, hostsRewriteGapMs, kubeDnsIP,
  resolvConf, worldDnsArgs, worldHosts, worldHostsFileName, writeWorldHosts,
} from './dns.js';
import { UsageError } from '../common/errors.js';
import { resolveContainerCommand } from './images.js';
import { containerEnv, expandVars, volumeBinds } from './kubelet.js';
import { freeUdpPort, spawnDnsmasq } from '../../test/lib/dnsmasq.js';

const meta = (name: string, namespace = 'default', labels?: Record<string, string>) => ({
  name, namespace, uid: `u-${name}`, resourceVersion: '1', creationTimestamp: 't', ...(labels ? { labels } : {}),
});
const svc = (name: string, spec: Record<string, unknown>, namespace = 'default'): StoreObject =>
  ({ apiVersion: 'v1', kind: 'Service', metadata: meta(name, namespace), spec });
const slice = (name: string, service: string, endpoints: unknown[], namespace = 'default', addressType = 'IPv4'): StoreObject =>
  ({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: meta(name, namespace, { 'kubernetes.io/service-name': service }), addressType, endpoints });

test('kubeDnsIP is the 10th address of the service CIDR, as kubeadm picks it', () => {
  assert.equal(kubeDnsIP('10.96.0.0/12'), '10.96.0.10');
  assert.equal(kubeDnsIP('10.100.0.0/16'), '10.100.0.10');
  assert.throws(() => kubeDnsIP('10.96.0.0/29'), /too small/);
  assert.throws(() => kubeDnsIP('nonsense'));
  assert.equal(CLUSTER_DOMAIN, 'cluster.local');
});

test('dnsRecords: cluster IPs, headless endpoints, ExternalName skipped, sorted and deduplicated', () => {
  const services = [
    svc('web', { clusterIP: '10.96.0.20' }),
    svc('web', { clusterIP: '10.96.0.30' }, 'prod'),
    svc('db', { clusterIP: 'None' }),
    svc('ext', { type: 'ExternalName', externalName: 'example.com' }),
    svc('pending', {}),
  ];
  const slices = [
    slice('db-1', 'db', [
      { addresses: ['10.0.1.10'], conditions: { ready: true }, hostname: 'db-0' },
      { addresses: ['10.0.1.9'] }, // no conditions: ready is unknown, counted as ready
      { addresses: ['10.0.2.1'], conditions: { ready: false } },
    ]),
    slice('db-2', 'db', [{ addresses: ['10.0.1.9'], conditions: { ready: true } }]), // same address twice: one record
    slice('db-x', 'db', [{ addresses: ['10.0.3.3'] }], 'prod'), // another namespace's db
    slice('db-6', 'db', [{ addresses: ['fd00::1'] }], 'default', 'IPv6'),
    slice('web-1', 'web', [{ addresses: ['10.0.1.1'] }]), // not headless: the slice does not matter
  ];
  assert.deepEqual(dnsRecords(services, slices), [
    { name: 'db-0.db.default.svc.cluster.local', ip: '10.0.1.10' },
    { name: 'db.default.svc.cluster.local', ip: '10.0.1.9' },
    { name: 'db.default.svc.cluster.local', ip: '10.0.1.10' },
    { name: 'web.default.svc.cluster.local', ip: '10.96.0.20' },
    { name: 'web.prod.svc.cluster.local', ip: '10.96.0.30' },
  ]);
  assert.deepEqual(dnsRecords([...services].reverse(), [...slices].reverse()), dnsRecords(services, slices));
});

test('hostsFileText and resolvConf', () => {
  assert.equal(hostsFileText([{ name: 'a.b', ip: '10.0.0.1' }, { name: 'c.d', ip: '10.0.0.2' }]), '10.0.0.1 a.b\n10.0.0.2 c.d\n');
  assert.equal(hostsFileText([]), '');
  assert.equal(resolvConf('demo', '10.96.0.10'),
    'search demo.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n');
});

test('clusterDnsArgs never reads the machine\'s resolver configuration', () => {
  const args = clusterDnsArgs({ listen: '172.18.0.11', hostsDir: '/run/x/dns', upstream: '172.18.0.100' });
  for (const a of ['--keep-in-foreground', '--log-facility=-', '--no-resolv', '--no-hosts', '--no-poll', '--bind-interfaces',
    '--listen-address=172.18.0.11', '--port=53', '--hostsdir=/run/x/dns', '--local=/cluster.local/', '--server=172.18.0.100',
    '--user=root', '--pid-file=', '--cache-size=0', '--domain-needed']) {
    assert.ok(args.includes(a), `missing ${a} in ${args.join(' ')}`);
  }
  assert.ok(clusterDnsArgs({ listen: 'l', hostsDir: 'h', upstream: 'u', pidFile: '/p', port: 5353 }).includes('--pid-file=/p'));
  assert.ok(clusterDnsArgs({ listen: 'l', hostsDir: 'h', upstream: 'u', port: 5353 }).includes('--port=5353'));
  // Exactly one upstream: the lab's world DNS.
  assert.equal(args.filter((a) => a.startsWith('--server')).length, 1);
});

const WORLD = { ip: '172.18.0.100', extraIPs: ['172.18.0.200', '172.18.0.201', '172.18.0.202', '172.18.0.203'] };

test('worldDnsArgs answers from its hosts dir only with the short TTL; worldHosts: the old names at the world, the FQDN test names at extra addresses', () => {
  const args = worldDnsArgs({ listen: '172.18.0.100', hostsDir: '/run/x/world-hosts' });
  for (const a of ['--no-resolv', '--no-hosts', '--hostsdir=/run/x/world-hosts', '--address=/#/', '--listen-address=172.18.0.100', `--local-ttl=${WORLD_DNS_TTL_S}`]) {
    assert.ok(args.includes(a), `missing ${a}`);
  }
  assert.equal(WORLD_DNS_TTL_S, 2);
  assert.ok(!args.some((a) => a.startsWith('--server')));
  const hosts = worldHosts(WORLD);
  assert.deepEqual(hosts.map((h) => h.name).sort(), ['api.example.com', 'api.example.test', 'evil.test', 'example.com', 'world.lab', 'www.example.com', 'www.example.test']);
  assert.ok(hosts.filter((h) => h.name.endsWith('.com') || h.name === 'world.lab').every((h) => h.ip === '172.18.0.100'));
  assert.deepEqual(hosts.filter((h) => h.name.endsWith('.test')).map((h) => `${h.name} ${h.ip}`),
    ['api.example.test 172.18.0.200', 'www.example.test 172.18.0.201', 'evil.test 172.18.0.202']);
});

test('worldHostsFileName: one file per name, lower-case, trailing dot dropped; bad names are usage errors', () => {
  assert.equal(worldHostsFileName('API.Example.test.'), 'api.example.test.hosts');
  for (const bad of ['', 'a..b', '-x.test', 'a b', '../etc', 'x/y']) assert.throws(() => worldHostsFileName(bad), (e: unknown) => e instanceof UsageError && e.message.includes(JSON.stringify(bad)));
});

test('clusterDnsDeployment: kube-system/coredns, k8s-app=kube-dns, dnsmasq on the pod address with the cluster DNS arguments', () => {
  const d = clusterDnsDeployment({ replicas: 2, hostsDir: '/run/l/dns/hosts', upstream: '172.18.0.100' }) as any;
  assert.equal(d.kind, 'Deployment');
  assert.deepEqual([d.metadata.namespace, d.metadata.name, d.spec.replicas], ['kube-system', 'coredns', 2]);
  assert.deepEqual(d.spec.selector.matchLabels, { 'k8s-app': 'kube-dns' });
  assert.deepEqual(d.spec.template.metadata.labels, { 'k8s-app': 'kube-dns' });
  const c = d.spec.template.spec.containers[0];
  assert.equal(c.image, CLUSTER_DNS_IMAGE);
  assert.deepEqual(c.readinessProbe.tcpSocket, { port: 53 });
  // What the kubelet runs: its env (POD_IP from the downward API), $(POD_IP) expanded, the catalogue's entrypoint.
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'coredns-x', namespace: 'kube-system', uid: 'u', resourceVersion: '1', creationTimestamp: 't' }, spec: d.spec.template.spec };
  const env = containerEnv(pod, c, '10.0.1.7', 'node1');
  const { argv } = resolveContainerCommand({ image: c.image, args: c.args.map((a: string) => expandVars(a, env)) });
  assert.deepEqual(argv, ['dnsmasq', ...clusterDnsArgs({ listen: '10.0.1.7', hostsDir: CLUSTER_DNS_HOSTS_MOUNT, upstream: '172.18.0.100' })]);
  // The hosts files reach the container as a read-only bind, nothing else of the lab.
  assert.deepEqual(volumeBinds(pod, c, '/x'), [{ source: '/run/l/dns/hosts', destination: CLUSTER_DNS_HOSTS_MOUNT, readOnly: true }]);
});

// ---- a real dnsmasq, loopback only (never an address change in the root netns) ----

const haveDnsmasq = spawnSync('dnsmasq', ['--version']).status === 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The answer for `name`: addresses, 'NXDOMAIN', or the error code. */
async function lookup(port: number, name: string): Promise<string[] | string> {
  const r = new Resolver({ timeout: 500, tries: 1 });
  r.setServers([`127.0.0.1:${port}`]);
  try {
    return (await r.resolve4(name)).sort();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    return code === 'ENOTFOUND' ? 'NXDOMAIN' : code;
  }
}

async function until(port: number, name: string, want: string[] | string): Promise<string[] | string> {
  let got: string[] | string = '';
  for (let i = 0; i < 40; i++) {
    got = await lookup(port, name);
    if (JSON.stringify(got) === JSON.stringify(want)) break;
    await sleep(50);
  }
  return got;
}

test('real dnsmasq on loopback: hostsdir changes show without restart, cluster.local is local, the rest goes upstream only',
  { skip: haveDnsmasq ? false : 'dnsmasq not installed' }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bl-dns-'));
    const hostsDir = join(dir, 'hosts');
    mkdirSync(hostsDir);
    // A fake upstream that only records what reaches it (it never answers).
    const upstream = createSocket('udp4');
    const forwarded: string[] = [];
    upstream.on('message', (m) => {
      const labels: string[] = [];
      for (let i = 12; i < m.length && m[i]! > 0; i += m[i]! + 1) labels.push(m.subarray(i + 1, i + 1 + m[i]!).toString());
      forwarded.push(labels.join('.'));
    });
    await new Promise<void>((r) => upstream.bind(0, '127.0.0.1', () => r()));
    const port = await freeUdpPort();
    writeFileSync(join(hostsDir, 'services'), hostsFileText([{ name: 'web.default.svc.cluster.local', ip: '10.96.0.20' }]));
    const dnsmasq = spawnDnsmasq(clusterDnsArgs({ listen: '127.0.0.1', port, hostsDir, upstream: `127.0.0.1#${upstream.address().port}` }));
    try {
      assert.deepEqual(await until(port, 'web.default.svc.cluster.local', ['10.96.0.20']), ['10.96.0.20'], dnsmasq.log);
      // Changed in place.
      writeFileSync(join(hostsDir, 'services'), hostsFileText([{ name: 'web.default.svc.cluster.local', ip: '10.96.0.21' }]));
      assert.deepEqual(await until(port, 'web.default.svc.cluster.local', ['10.96.0.21']), ['10.96.0.21'], dnsmasq.log);
      // Replaced by rename from a dotfile (ignored by dnsmasq until it gets its final name).
      writeFileSync(join(hostsDir, '.services.tmp'), hostsFileText([
        { name: 'db.default.svc.cluster.local', ip: '10.0.1.1' }, { name: 'db.default.svc.cluster.local', ip: '10.0.1.2' },
      ]));
      renameSync(join(hostsDir, '.services.tmp'), join(hostsDir, 'services'));
      assert.deepEqual(await until(port, 'db.default.svc.cluster.local', ['10.0.1.1', '10.0.1.2']), ['10.0.1.1', '10.0.1.2'], dnsmasq.log);
      // The record the new file no longer has is gone.
      assert.equal(await until(port, 'web.default.svc.cluster.local', 'NXDOMAIN'), 'NXDOMAIN', dnsmasq.log);
      // A new file, then its removal.
      writeFileSync(join(hostsDir, 'more'), hostsFileText([{ name: 'new.default.svc.cluster.local', ip: '10.96.0.40' }]));
      assert.deepEqual(await until(port, 'new.default.svc.cluster.local', ['10.96.0.40']), ['10.96.0.40'], dnsmasq.log);
      unlinkSync(join(hostsDir, 'more'));
      assert.equal(await until(port, 'new.default.svc.cluster.local', 'NXDOMAIN'), 'NXDOMAIN', dnsmasq.log);
      // Unknown cluster names and single labels never leave dnsmasq; other names go to the upstream.
      assert.equal(await lookup(port, 'x.cluster.local'), 'NXDOMAIN');
      assert.equal(await lookup(port, 'nodots'), 'NXDOMAIN');
      assert.notDeepEqual(await lookup(port, 'outside.example.org'), ['10.96.0.20']); // the fake upstream never answers
      assert.deepEqual(forwarded.filter((n) => n !== 'outside.example.org'), []);
      assert.ok(forwarded.includes('outside.example.org'), `forwarded: ${forwarded.join(', ')}`);
    } finally {
      await dnsmasq.stop();
      upstream.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

test('real world dnsmasq on loopback: its hosts win over --address=/#/, every other name is NXDOMAIN, answers carry the short TTL, a rewritten name changes',
  { skip: haveDnsmasq ? false : 'dnsmasq not installed' }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bl-wdns-'));
    const hostsDir = join(dir, 'world-hosts');
    writeWorldHosts(hostsDir, worldHosts(WORLD));
    const port = await freeUdpPort();
    const dnsmasq = spawnDnsmasq(worldDnsArgs({ listen: '127.0.0.1', port, hostsDir }));
    try {
      assert.deepEqual(await until(port, 'example.com', ['172.18.0.100']), ['172.18.0.100'], dnsmasq.log);
      assert.deepEqual(await lookup(port, 'world.lab'), ['172.18.0.100']);
      assert.deepEqual(await lookup(port, 'api.example.test'), ['172.18.0.200']);
      assert.deepEqual(await lookup(port, 'evil.test'), ['172.18.0.202']);
      assert.equal(await lookup(port, 'nope.example.com'), 'NXDOMAIN');
      assert.equal(await lookup(port, 'google.com'), 'NXDOMAIN');
      const r = new Resolver({ timeout: 500, tries: 1 });
      r.setServers([`127.0.0.1:${port}`]);
      assert.deepEqual(await r.resolve4('api.example.test', { ttl: true }), [{ address: '172.18.0.200', ttl: WORLD_DNS_TTL_S }]);
      // A name's file rewritten (as setWorldRecords does): the new addresses, the old one gone, other names untouched.
      writeWorldHosts(hostsDir, [{ name: 'api.example.test', ip: '172.18.0.203' }, { name: 'api.example.test', ip: '172.18.0.201' }]);
      assert.deepEqual(await until(port, 'api.example.test', ['172.18.0.201', '172.18.0.203']), ['172.18.0.201', '172.18.0.203'], dnsmasq.log);
      assert.deepEqual(await lookup(port, 'www.example.test'), ['172.18.0.201']);
      // A name whose file is removed no longer exists.
      unlinkSync(join(hostsDir, 'evil.test.hosts'));
      assert.equal(await until(port, 'evil.test', 'NXDOMAIN'), 'NXDOMAIN', dnsmasq.log);
    } finally {
      await dnsmasq.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

test('hostsRewriteGapMs: a small cluster rewrites at once, a big one at most every 2 s', () => {
  assert.equal(hostsRewriteGapMs(0), 0);
  assert.ok(hostsRewriteGapMs(50) <= 2, 'a lone change to a demo-sized cluster is not held back');
  assert.equal(hostsRewriteGapMs(5_000), 200);
  assert.equal(hostsRewriteGapMs(50_000), 2000);
  assert.equal(hostsRewriteGapMs(500_000), 2000, 'capped: a new Service never waits more than 2 s for its name');
});

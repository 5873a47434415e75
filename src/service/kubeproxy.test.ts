import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  base32,
  iptablesEndpointChain,
  iptablesOneChange,
  iptablesRestore,
  iptablesServiceChain,
  nftEndpointChain,
  nftOneChange,
  nftRuleset,
  nftServiceChain,
  nftStaleChainCleanup,
  portProtoHash,
  probabilities,
  servicePortName,
  syntheticServices,
  type KpService,
} from './kubeproxy.js';

const svc1: KpService = {
  ns: 'ns1',
  name: 'svc1',
  portName: 'p80',
  clusterIP: '172.30.0.41',
  port: 80,
  protocol: 'TCP',
  backends: [
    { ip: '10.180.0.1', port: 80 },
    { ip: '10.180.0.2', port: 80 },
    { ip: '10.180.0.3', port: 80 },
  ],
};

test('base32 is RFC 4648 (standard alphabet)', () => {
  // RFC 4648 §10 test vectors, padding stripped.
  assert.equal(base32(Buffer.from('')), '');
  assert.equal(base32(Buffer.from('f')), 'MY');
  assert.equal(base32(Buffer.from('fo')), 'MZXQ');
  assert.equal(base32(Buffer.from('foobar')), 'MZXW6YTBOI');
});

test('chain names follow kube-proxy hashing', () => {
  // Computed independently: base32(sha256("ns1/svc1:p80" + "tcp"))[:16] (python hashlib +
  // base64.b32encode); the same literals appear in kube-proxy's own proxier tests.
  assert.equal(servicePortName(svc1), 'ns1/svc1:p80');
  assert.equal(portProtoHash('ns1/svc1:p80', 'tcp'), 'XPGD46QRK7WJZT7O');
  assert.equal(iptablesServiceChain(svc1), 'KUBE-SVC-XPGD46QRK7WJZT7O');
  assert.equal(iptablesEndpointChain(svc1, svc1.backends[0]!), 'KUBE-SEP-SXIVWICOYRO3J4NJ');
  assert.equal(nftServiceChain(svc1), 'service-ULMVA6XW-ns1/svc1/tcp/p80');
  assert.equal(nftEndpointChain(svc1, svc1.backends[0]!), 'endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80');
  // iptables chain names must fit 28 characters.
  assert.ok(iptablesServiceChain(svc1).length <= 28);
  // Protocol is part of the hash and is lower-cased.
  assert.equal(iptablesServiceChain({ ...svc1, protocol: 'tcp' }), iptablesServiceChain(svc1));
  assert.notEqual(iptablesServiceChain({ ...svc1, protocol: 'UDP' }), iptablesServiceChain(svc1));
  // An unnamed port: "ns/name" without a colon.
  assert.equal(servicePortName({ ...svc1, portName: '' }), 'ns1/svc1');
});

test('statistic probabilities are 1/n, 1/(n-1), … and pick each endpoint with 1/n', () => {
  assert.deepEqual(probabilities(1), []);
  assert.deepEqual(probabilities(4), ['0.2500000000', '0.3333333333', '0.5000000000']);
  for (const n of [2, 3, 4, 7, 10]) {
    const ps = probabilities(n).map(Number);
    assert.equal(ps.length, n - 1);
    // P(endpoint i) = p_i · Π_{j<i}(1-p_j); the last rule takes the remainder.
    let reach = 1;
    const pick: number[] = [];
    for (const p of ps) {
      pick.push(reach * p);
      reach *= 1 - p;
    }
    pick.push(reach);
    for (const x of pick) assert.ok(Math.abs(x - 1 / n) < 1e-9, `n=${n}: ${pick}`);
  }
});

test('iptablesRestore: kube-proxy layout', () => {
  const text = iptablesRestore([svc1, { ...svc1, name: 'empty', clusterIP: '172.30.0.42', backends: [] }], { clusterCIDR: '10.0.0.0/8' });
  const lines = text.trim().split('\n');
  assert.equal(lines[0], '*nat');
  assert.equal(lines.at(-1), 'COMMIT');
  for (const c of ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ', 'KUBE-SVC-XPGD46QRK7WJZT7O', 'KUBE-SEP-SXIVWICOYRO3J4NJ']) {
    assert.ok(lines.includes(`:${c} - [0:0]`), c);
  }
  assert.ok(lines.includes('-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'));
  assert.ok(lines.includes('-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'));
  assert.ok(lines.includes('-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000'));
  const services = lines.filter((l) => l.startsWith('-A KUBE-SERVICES '));
  // One rule per service port with endpoints, plus the nodeports tail rule (last).
  assert.deepEqual(services, [
    '-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O',
    '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
  ]);
  const svc = lines.filter((l) => l.startsWith('-A KUBE-SVC-XPGD46QRK7WJZT7O '));
  assert.equal(svc.length, 4);
  assert.match(svc[0]!, /! -s 10\.0\.0\.0\/8 -j KUBE-MARK-MASQ$/);
  assert.equal(svc[1], '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-SXIVWICOYRO3J4NJ');
  assert.match(svc[2]!, /--probability 0\.5000000000 -j KUBE-SEP-/);
  assert.doesNotMatch(svc[3]!, /statistic/);
  assert.deepEqual(
    lines.filter((l) => l.startsWith('-A KUBE-SEP-SXIVWICOYRO3J4NJ ')),
    [
      '-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ',
      '-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80',
    ],
  );
  // Every jump target is declared.
  const declared = new Set(lines.filter((l) => l.startsWith(':')).map((l) => l.slice(1).split(' ')[0]));
  for (const l of lines) {
    const m = / -j (KUBE-[A-Z0-9-]+)/.exec(l);
    if (m) assert.ok(declared.has(m[1]), m[1]);
  }
});

test('iptablesRestore: counts and large-cluster mode', () => {
  const svcs = syntheticServices(300, 4); // 1200 endpoints > 1000: no per-endpoint comments
  const text = iptablesRestore(svcs);
  const lines = text.split('\n');
  assert.equal(lines.filter((l) => l.startsWith(':KUBE-SVC-')).length, 300);
  assert.equal(lines.filter((l) => l.startsWith(':KUBE-SEP-')).length, 1200);
  assert.equal(lines.filter((l) => l.startsWith('-A KUBE-SERVICES ')).length, 301);
  assert.equal(lines.filter((l) => l.startsWith('-A KUBE-SVC-')).length, 1200);
  assert.equal(lines.filter((l) => l.includes('statistic')).length, 900);
  assert.equal(lines.filter((l) => l.includes('-j DNAT')).length, 1200);
  assert.ok(!lines.some((l) => l.startsWith('-A KUBE-SEP-') && l.includes('comment')));
  assert.equal(new Set(svcs.map((s) => s.clusterIP)).size, 300);
  const small = iptablesRestore(syntheticServices(10, 4)).split('\n');
  assert.ok(small.filter((l) => l.startsWith('-A KUBE-SEP-')).every((l) => l.includes('--comment')));
});

test('iptablesOneChange: rewrites the top-level chains and only the changed service', () => {
  const svcs = syntheticServices(50, 4);
  const before = svcs[7]!;
  const after: KpService = { ...before, backends: [...before.backends.slice(1), { ip: '10.244.99.1', port: 8080 }] };
  const all = svcs.map((s) => (s === before ? after : s));
  const text = iptablesOneChange(all, { before, after });
  const lines = text.split('\n');
  assert.equal(lines.filter((l) => l.startsWith('-A KUBE-SERVICES ')).length, 51); // all services again
  assert.deepEqual(
    lines.filter((l) => l.startsWith(':KUBE-SVC-')),
    [`:${iptablesServiceChain(after)} - [0:0]`],
  );
  // 4 live endpoint chains + the removed one (flushed, then -X).
  assert.equal(lines.filter((l) => l.startsWith(':KUBE-SEP-')).length, 5);
  assert.deepEqual(lines.filter((l) => l.startsWith('-X ')), [`-X ${iptablesEndpointChain(before, before.backends[0]!)}`]);
  assert.ok(!lines.some((l) => l.startsWith(':PREROUTING')), 'a --noflush input must not touch built-in chains');
  // Deleting the service removes its chains.
  const del = iptablesOneChange(svcs.filter((s) => s !== before), { before }).split('\n');
  assert.equal(del.filter((l) => l.startsWith('-X ')).length, 5);
  assert.equal(del.filter((l) => l.startsWith('-A KUBE-SERVICES ')).length, 50);
});

test('nftRuleset: kube-proxy nftables layout', () => {
  const text = nftRuleset([svc1]);
  const lines = text.trim().split('\n');
  assert.equal(lines[0], 'add table ip kube-proxy { comment "rules for kube-proxy" ; }');
  assert.ok(lines.includes('add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; }'));
  assert.ok(lines.includes('add chain ip kube-proxy nat-output { type nat hook output priority -100 ; }'));
  assert.ok(lines.includes('add rule ip kube-proxy services ip daddr . meta l4proto . th dport vmap @service-ips'));
  assert.ok(lines.some((l) => l.startsWith('add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ;')));
  assert.ok(lines.includes('add element ip kube-proxy service-ips { 172.30.0.41 . tcp . 80 : goto service-ULMVA6XW-ns1/svc1/tcp/p80 }'));
  const numgen = lines.filter((l) => l.includes('numgen'));
  assert.equal(numgen.length, 1);
  assert.match(numgen[0]!, /^add rule ip kube-proxy service-ULMVA6XW-ns1\/svc1\/tcp\/p80 numgen random mod 3 vmap \{ 0 : goto endpoint-5OJB2KTY-ns1\/svc1\/tcp\/p80__10\.180\.0\.1\/80 , 1 : goto endpoint-\S+ , 2 : goto endpoint-\S+ \}$/);
  assert.ok(lines.includes('add rule ip kube-proxy endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80 meta l4proto tcp dnat to 10.180.0.1:80'));
  // Chains are declared before anything references them.
  const declaredAt = new Map<string, number>();
  lines.forEach((l, i) => {
    const m = /^add chain ip kube-proxy (\S+)/.exec(l);
    if (m && !declaredAt.has(m[1]!)) declaredAt.set(m[1]!, i);
  });
  lines.forEach((l, i) => {
    for (const m of l.matchAll(/goto (\S+)/g)) assert.ok((declaredAt.get(m[1]!) ?? Infinity) < i, m[1]);
  });
  const big = nftRuleset(syntheticServices(100, 4)).split('\n');
  assert.equal(big.filter((l) => l.startsWith('add element ip kube-proxy service-ips ')).length, 100);
  assert.equal(big.filter((l) => l.includes('dnat to')).length, 400);
});

test('nftOneChange: only the changed service, independent of N', () => {
  const svcs = syntheticServices(1000, 4);
  const before = svcs[3]!;
  const after: KpService = { ...before, backends: [...before.backends.slice(1), { ip: '10.244.99.1', port: 8080 }] };
  const lines = nftOneChange({ before, after }).trim().split('\n');
  assert.ok(!lines.some((l) => l.includes('service-ips')), 'same service chain: the map element stays');
  assert.equal(lines.filter((l) => l.includes('numgen')).length, 1);
  assert.deepEqual(lines.filter((l) => l.startsWith('flush chain') && !lines.includes(l.replace('flush', 'add'))), [
    `flush chain ip kube-proxy ${nftEndpointChain(before, before.backends[0]!)}`,
  ]);
  assert.equal(nftStaleChainCleanup({ before, after }), `delete chain ip kube-proxy ${nftEndpointChain(before, before.backends[0]!)}\n`);
  const added = nftOneChange({ after: { ...after, name: 'new', clusterIP: '10.97.0.1' } });
  assert.match(added, /add element ip kube-proxy service-ips \{ 10\.97\.0\.1 \. tcp \. 80 : goto service-\S+-bench\/new\/tcp\/p80 \}/);
  const removed = nftOneChange({ before });
  assert.match(removed, /delete element ip kube-proxy service-ips \{ 10\.96\.0\.13 \. tcp \. 80 \}/);
  assert.equal(removed.split('\n').filter((l) => l.startsWith('flush chain')).length, 5);
});

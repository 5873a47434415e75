import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePacket, formatIpv6, icmpTypeCode, LAYER_NAMES, packetTuple, type DecodedPacket } from './packet.js';
import { ETH_ARP, ETH_IPV4, ETH_IPV6, arp, ethernet, icmpEcho, ip6Bytes, ipv4, ipv6, tcp, tcpSyn, udp, vxlan } from '../../test/lib/packets.js';
import { mulberry32 as prng } from '../../test/lib/rng.js';

test('a TCP SYN: Ethernet, IPv4, TCP with ports, flags and sequence numbers', () => {
  const p = decodePacket(tcpSyn());
  assert.deepEqual(p.layers, ['ethernet', 'ipv4', 'tcp']);
  assert.equal(p.truncated, false);
  assert.equal(p.error, undefined);
  assert.equal(p.ethernet!.src, '02:00:00:00:00:01');
  assert.equal(p.ethernet!.dst, '02:00:00:00:00:02');
  assert.equal(p.ethernet!.ethertypeName, 'IPv4');
  assert.equal(p.ipv4!.src, '10.0.1.5');
  assert.equal(p.ipv4!.dst, '10.0.2.8');
  assert.equal(p.ipv4!.dontFragment, true);
  assert.equal(p.ipv4!.protocolName, 'TCP');
  assert.deepEqual(
    { sport: p.tcp!.srcPort, dport: p.tcp!.dstPort, seq: p.tcp!.seq, syn: p.tcp!.flags.syn, ack: p.tcp!.flags.ack },
    { sport: 41234, dport: 80, seq: 1, syn: true, ack: false },
  );
  assert.equal(p.headerBytes, 14 + 20 + 20);
  assert.deepEqual(packetTuple(p), { src: '10.0.1.5', dst: '10.0.2.8', protocol: 'tcp', srcPort: 41234, dstPort: 80 });
});

test('all TCP flags and a sequence number above 2^31', () => {
  const p = decodePacket(ethernet({ type: ETH_IPV4 }, ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: 6 }, tcp({ sport: 1, dport: 2, flags: 'FSRPAUEC', seq: 0xfffffff0, ack: 0x80000000 }))));
  assert.deepEqual(p.tcp!.flags, { fin: true, syn: true, rst: true, psh: true, ack: true, urg: true, ece: true, cwr: true, ns: false });
  assert.equal(p.tcp!.seq, 0xfffffff0);
  assert.equal(p.tcp!.ack, 0x80000000);
});

test('UDP, with Ethernet padding after a short IP packet', () => {
  const frame = Buffer.concat([ethernet({ type: ETH_IPV4 }, ipv4({ src: '10.0.1.5', dst: '10.96.0.10', protocol: 17 }, udp({ sport: 53000, dport: 53 }))), Buffer.alloc(18)]);
  const p = decodePacket(frame);
  assert.deepEqual(p.layers, ['ethernet', 'ipv4', 'udp']);
  assert.deepEqual({ s: p.udp!.srcPort, d: p.udp!.dstPort, l: p.udp!.length }, { s: 53000, d: 53, l: 8 });
  assert.equal(p.truncated, false);
});

test('ICMP echo: type, code, id and sequence', () => {
  const p = decodePacket(ethernet({ type: ETH_IPV4 }, ipv4({ src: '10.0.1.5', dst: '10.0.2.8', protocol: 1 }, icmpEcho({ type: 8, id: 0x1234, seq: 7 }, Buffer.alloc(56)))));
  assert.deepEqual(p.layers, ['ethernet', 'ipv4', 'icmpv4']);
  assert.equal(p.icmp!.typeCode, 'EchoRequest');
  assert.deepEqual({ id: p.icmp!.id, seq: p.icmp!.seq, v: p.icmp!.version }, { id: 0x1234, seq: 7, v: 4 });
});

test("ICMP type/code strings are gopacket's", () => {
  assert.equal(icmpTypeCode(4, 0, 0), 'EchoReply');
  assert.equal(icmpTypeCode(4, 3, 3), 'DestinationUnreachable(Port)');
  assert.equal(icmpTypeCode(4, 3, 99), 'DestinationUnreachable(Code: 99)');
  assert.equal(icmpTypeCode(4, 8, 1), 'EchoRequest(Code: 1)');
  assert.equal(icmpTypeCode(4, 11, 0), 'TimeExceeded(TTLExceeded)');
  assert.equal(icmpTypeCode(4, 42, 1), '42(1)');
  assert.equal(icmpTypeCode(6, 128, 0), 'EchoRequest');
  assert.equal(icmpTypeCode(6, 1, 4), 'DestinationUnreachable(PortUnreachable)');
});

test('ARP request and reply', () => {
  const p = decodePacket(
    ethernet({ type: ETH_ARP, dst: 'ff:ff:ff:ff:ff:ff' }, arp({ op: 1, senderMac: '02:00:00:00:00:01', senderIp: '10.0.1.5', targetMac: '00:00:00:00:00:00', targetIp: '10.0.1.1' })),
  );
  assert.deepEqual(p.layers, ['ethernet', 'arp']);
  assert.deepEqual(
    { op: p.arp!.operationName, sha: p.arp!.senderHardware, spa: p.arp!.senderProtocol, tpa: p.arp!.targetProtocol },
    { op: 'request', sha: '02:00:00:00:00:01', spa: '10.0.1.5', tpa: '10.0.1.1' },
  );
  assert.equal(packetTuple(p), undefined);
});

test('one 802.1Q tag is decoded through; stacked tags stop with an error', () => {
  const p = decodePacket(ethernet({ type: ETH_IPV4, vlan: 100 }, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17 }, udp({ sport: 1, dport: 2 }))));
  assert.deepEqual(p.layers, ['ethernet', 'ipv4', 'udp']);
  assert.equal(p.ethernet!.vlan!.id, 100);
  assert.equal(p.ethernet!.ethertypeName, 'IPv4');
  const qinq = decodePacket(ethernet({ type: 0x8100, vlan: 5 }, Buffer.from([0, 7, 0x08, 0])));
  assert.deepEqual(qinq.layers, ['ethernet']);
  assert.match(qinq.error!, /stacked VLAN/);
});

test('IPv4 options are listed and skipped', () => {
  // NOP, then Router Alert (148, length 4), then EOL padding.
  const p = decodePacket(ethernet({ type: ETH_IPV4 }, ipv4({ src: '10.0.0.1', dst: '224.0.0.22', protocol: 6, options: [1, 148, 4, 0, 0, 0, 0, 0] }, tcp({ sport: 5, dport: 6, flags: 'A' }))));
  assert.equal(p.ipv4!.headerLength, 28);
  assert.deepEqual(
    p.ipv4!.options.map((o) => o.name),
    ['NOP', 'RA', 'EOL'],
  );
  assert.equal(p.tcp!.srcPort, 5);
  const bad = decodePacket(ethernet({ type: ETH_IPV4 }, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 6, options: [7, 40, 0, 0] }, Buffer.alloc(0))));
  assert.match(bad.error!, /^ipv4: option 7 has a bad length 40/);
  assert.equal(bad.tcp, undefined);
});

test('IPv6 with a hop-by-hop header, then ICMPv6 echo; NDP carries its target', () => {
  const hbh = Buffer.from([58, 0, 5, 2, 0, 0, 1, 0]); // next: ICMPv6, length 0 (8 bytes), router alert option
  const p = decodePacket(ethernet({ type: ETH_IPV6 }, ipv6({ src: 'fd00::1', dst: 'fd00::2', nextHeader: 0 }, Buffer.concat([hbh, icmpEcho({ type: 128, id: 9, seq: 1 })]))));
  assert.deepEqual(p.layers, ['ethernet', 'ipv6', 'icmpv6']);
  assert.deepEqual(p.ipv6!.extensions, [0]);
  assert.equal(p.ipv6!.protocolName, 'ICMPv6');
  assert.equal(p.icmp!.typeCode, 'EchoRequest');
  assert.equal(p.icmp!.id, 9);
  const ns = Buffer.concat([Buffer.from([135, 0, 0, 0, 0, 0, 0, 0]), ip6Bytes('fe80::1')]);
  const n = decodePacket(ethernet({ type: ETH_IPV6 }, ipv6({ src: 'fe80::2', dst: 'ff02::1:ff00:1', nextHeader: 58 }, ns)));
  assert.equal(n.icmp!.typeCode, 'NeighborSolicitation');
  assert.equal(n.icmp!.target, 'fe80::1');
});

test('IPv6 TCP and UDP ports', () => {
  const p = decodePacket(ethernet({ type: ETH_IPV6 }, ipv6({ src: '2001:db8::5', dst: '2001:db8::8', nextHeader: 6 }, tcp({ sport: 4000, dport: 443, flags: 'SA' }))));
  assert.deepEqual(packetTuple(p), { src: '2001:db8::5', dst: '2001:db8::8', protocol: 'tcp', srcPort: 4000, dstPort: 443 });
});

test('IPv6 text form is RFC 5952', () => {
  const f = (s: string) => formatIpv6(ip6Bytes(s));
  assert.equal(f('2001:db8:0:0:0:0:0:1'), '2001:db8::1');
  assert.equal(f('0:0:0:0:0:0:0:0'), '::');
  assert.equal(f('0:0:0:0:0:0:0:1'), '::1');
  assert.equal(f('2001:db8:0:1:0:0:0:1'), '2001:db8:0:1::1');
  assert.equal(f('2001:0:0:1:0:0:0:1'), '2001:0:0:1::1');
  assert.equal(f('2001:db8:1:1:1:1:0:1'), '2001:db8:1:1:1:1:0:1');
  assert.equal(f('fe80:0:0:0:0:0:0:0'), 'fe80::');
});

test('VXLAN on UDP 8472: the inner frame is decoded; the tuple is the inner one', () => {
  const inner = ethernet({ type: ETH_IPV4 }, ipv4({ src: '10.0.1.5', dst: '10.0.2.8', protocol: 6 }, tcp({ sport: 41234, dport: 80, flags: 'S' })));
  const p = decodePacket(ethernet({ type: ETH_IPV4 }, ipv4({ src: '172.18.0.11', dst: '172.18.0.12', protocol: 17 }, udp({ sport: 51000, dport: 8472 }, vxlan(2, inner)))));
  assert.deepEqual(p.layers, ['ethernet', 'ipv4', 'udp', 'vxlan']);
  assert.equal(p.vxlan!.vni, 2);
  assert.deepEqual(p.vxlan!.inner!.layers, ['ethernet', 'ipv4', 'tcp']);
  assert.deepEqual(packetTuple(p), { src: '10.0.1.5', dst: '10.0.2.8', protocol: 'tcp', srcPort: 41234, dstPort: 80 });
  assert.equal(p.headerBytes, 14 + 20 + 8 + 8 + 14 + 20 + 20);
});

test('a later IPv4 fragment has no transport header', () => {
  const p = decodePacket(ethernet({ type: ETH_IPV4 }, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17, fragOffset: 1480 }, Buffer.alloc(40, 0xaa))));
  assert.deepEqual(p.layers, ['ethernet', 'ipv4']);
  assert.equal(p.ipv4!.fragmentOffset, 1480);
  assert.equal(p.error, undefined);
});

test('truncation at every byte of a TCP SYN: what fits is decoded, the rest is reported', () => {
  const full = tcpSyn();
  for (let n = 0; n <= full.length; n++) {
    const p = decodePacket(full.subarray(0, n));
    assertWellFormed(p, full.subarray(0, n));
    if (n < 14) assert.deepEqual(p.layers, [], `${n}`);
    else if (n < 34) assert.deepEqual(p.layers, ['ethernet'], `${n}`);
    else if (n < 54) assert.deepEqual(p.layers, ['ethernet', 'ipv4'], `${n}`);
    else assert.deepEqual(p.layers, ['ethernet', 'ipv4', 'tcp'], `${n}`);
    // The IP total length promises 40 more bytes than the Ethernet header: any cut before is a truncation.
    assert.equal(p.truncated, n < full.length, `${n} bytes`);
    if (n > 0 && n < full.length) assert.match(p.error!, /needs \d+ bytes, \d+ captured$/);
  }
  assert.equal(decodePacket(full.subarray(0, 40)).error, 'tcp: header needs 20 bytes, 6 captured');
});

test('malformed headers are errors, not truncation', () => {
  const ip = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 6 }, tcp({ sport: 1, dport: 2, flags: 'S' }));
  const v5 = Buffer.from(ip);
  v5[0] = 0x55;
  assert.equal(decodePacket(ethernet({ type: ETH_IPV4 }, v5)).error, 'ipv4: version 5, not 4');
  const ihl = Buffer.from(ip);
  ihl[0] = 0x43;
  assert.equal(decodePacket(ethernet({ type: ETH_IPV4 }, ihl)).error, 'ipv4: header length 12 is less than 20');
  const short = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 6, totalLength: 30 }, tcp({ sport: 1, dport: 2, flags: 'S' }));
  const p = decodePacket(ethernet({ type: ETH_IPV4 }, short));
  assert.equal(p.truncated, false);
  assert.match(p.error!, /^tcp: header needs 20 bytes, the IP length leaves 10/);
  const doff = Buffer.from(ip);
  doff[20 + 12] = 0x20;
  assert.equal(decodePacket(ethernet({ type: ETH_IPV4 }, doff)).error, 'tcp: data offset 8 is less than 20');
});

test('bare IP packets (L3 devices) decode with first: ipv4 / ipv6', () => {
  const p = decodePacket(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17 }, udp({ sport: 1, dport: 2 })), { first: 'ipv4' });
  assert.deepEqual(p.layers, ['ipv4', 'udp']);
  const q = decodePacket(ipv6({ src: '::1', dst: '::2', nextHeader: 17 }, udp({ sport: 1, dport: 2 })), { first: 'ipv6' });
  assert.deepEqual(q.layers, ['ipv6', 'udp']);
});

// ---- fuzzing


const LAYER_SET = new Set<string>(LAYER_NAMES);
const isU = (v: unknown, max: number) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
const IPV4_RE = /^(\d{1,3}\.){3}\d{1,3}$/;
const IPV6_RE = /^[0-9a-f:]+$/;
const MAC_RE = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;

/** What every decoder answer must look like, whatever the input. */
function assertWellFormed(p: DecodedPacket, input: Uint8Array, depth = 0): void {
  const where = `input ${Buffer.from(input).toString('hex')}`;
  assert.ok(Array.isArray(p.layers), where);
  assert.equal(new Set(p.layers).size, p.layers.length, `${where}: a layer twice`);
  for (const l of p.layers) assert.ok(LAYER_SET.has(l), `${where}: layer ${l}`);
  const has = (k: string) => p.layers.includes(k as never);
  assert.equal(!!p.ethernet, has('ethernet'), where);
  assert.equal(!!p.arp, has('arp'), where);
  assert.equal(!!p.ipv4, has('ipv4'), where);
  assert.equal(!!p.ipv6, has('ipv6'), where);
  assert.equal(!!p.tcp, has('tcp'), where);
  assert.equal(!!p.udp, has('udp'), where);
  assert.equal(!!p.icmp, has('icmpv4') || has('icmpv6'), where);
  assert.equal(!!p.vxlan, has('vxlan'), where);
  assert.equal(typeof p.truncated, 'boolean', where);
  assert.ok(p.error === undefined || (typeof p.error === 'string' && p.error.length > 0), where);
  assert.ok(!p.error?.startsWith('internal'), `${where}: ${p.error}`);
  if (p.truncated) assert.ok(p.error, `${where}: truncated without a note`);
  if (depth === 0) assert.equal(p.captured, input.length, where);
  assert.ok(isU(p.headerBytes, p.captured), `${where}: headerBytes ${p.headerBytes} of ${p.captured}`);
  if (p.ethernet) {
    assert.match(p.ethernet.src, MAC_RE, where);
    assert.match(p.ethernet.dst, MAC_RE, where);
    assert.ok(isU(p.ethernet.ethertype, 0xffff), where);
  }
  for (const ip of [p.ipv4, p.ipv6]) if (ip) assert.ok(isU(ip.protocol, 255), where);
  if (p.ipv4) {
    assert.match(p.ipv4.src, IPV4_RE, where);
    assert.match(p.ipv4.dst, IPV4_RE, where);
    assert.ok(p.ipv4.headerLength >= 20 && p.ipv4.headerLength <= 60, where);
  }
  if (p.ipv6) {
    assert.match(p.ipv6.src, IPV6_RE, where);
    assert.match(p.ipv6.dst, IPV6_RE, where);
    assert.ok(p.ipv6.extensions.length <= 8, where);
  }
  for (const l4 of [p.tcp, p.udp, p.sctp]) if (l4) assert.ok(isU(l4.srcPort, 0xffff) && isU(l4.dstPort, 0xffff), where);
  if (p.tcp) assert.ok(isU(p.tcp.seq, 0xffffffff) && isU(p.tcp.ack, 0xffffffff), where);
  if (p.icmp) {
    assert.ok(isU(p.icmp.type, 255) && isU(p.icmp.code, 255), where);
    assert.equal(typeof p.icmp.typeCode, 'string', where);
  }
  if (p.vxlan) {
    assert.ok(isU(p.vxlan.vni, 0xffffff), where);
    if (p.vxlan.inner) {
      assert.ok(depth === 0, `${where}: VXLAN nested deeper than once`);
      assertWellFormed(p.vxlan.inner, input, depth + 1);
    }
  }
  // Everything decoded must survive being printed as JSON.
  assert.doesNotThrow(() => JSON.stringify(p), where);
}

test('fuzz: random bytes and mutated real packets never throw and always decode to well-formed output', () => {
  const seed = Number(process.env.BEELINE_FUZZ_SEED ?? 0x5eed);
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const seeds: Buffer[] = [
    tcpSyn(),
    ethernet({ type: ETH_IPV4 }, ipv4({ src: '10.0.1.5', dst: '10.0.2.8', protocol: 1 }, icmpEcho({ type: 8, id: 1, seq: 1 }, Buffer.alloc(16)))),
    ethernet({ type: ETH_ARP }, arp({ op: 2, senderMac: '02:00:00:00:00:01', senderIp: '10.0.1.1', targetMac: '02:00:00:00:00:02', targetIp: '10.0.1.5' })),
    ethernet({ type: ETH_IPV6 }, ipv6({ src: 'fd00::1', dst: 'fd00::2', nextHeader: 0 }, Buffer.concat([Buffer.from([6, 0, 1, 4, 0, 0, 0, 0]), tcp({ sport: 1, dport: 2, flags: 'S' })]))),
    ethernet({ type: ETH_IPV4, vlan: 7 }, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 6, options: [1, 1, 7, 7, 4, 0, 0, 0] }, tcp({ sport: 1, dport: 2, flags: 'SA', options: [2, 4, 5, 0xb4] }))),
    ethernet(
      { type: ETH_IPV4 },
      ipv4({ src: '172.18.0.11', dst: '172.18.0.12', protocol: 17 }, udp({ sport: 4000, dport: 8472 }, vxlan(1, ethernet({ type: ETH_IPV4 }, ipv4({ src: '10.0.1.5', dst: '10.0.2.8', protocol: 17 }, udp({ sport: 5, dport: 8472 }, vxlan(2, tcpSyn()))))))),
    ),
  ];
  const started = Date.now();
  let iterations = 0;
  for (; iterations < 10_000 && Date.now() - started < 10_000; iterations++) {
    let input: Buffer;
    const how = int(4);
    if (how === 0) {
      input = Buffer.alloc(int(160));
      for (let i = 0; i < input.length; i++) input[i] = int(256);
    } else {
      input = Buffer.from(seeds[int(seeds.length)]!);
      const flips = 1 + int(how === 1 ? 2 : 12);
      for (let i = 0; i < flips && input.length; i++) {
        const at = int(input.length);
        // Bias towards bytes that steer the decoder: versions, lengths, types, zero and all-ones.
        input[at] = [0x00, 0xff, 0x45, 0x60, 0x08, 0x06, 0x86, 0x11, 0x81, int(256)][int(10)]!;
      }
      if (how === 3) input = input.subarray(0, int(input.length + 1));
    }
    let p: DecodedPacket;
    try {
      p = decodePacket(input, { first: (['ethernet', 'ethernet', 'ipv4', 'ipv6'] as const)[int(4)] });
    } catch (err) {
      assert.fail(`seed ${seed}, iteration ${iterations}: threw ${String(err)} on ${input.toString('hex')}`);
    }
    assertWellFormed(p, input);
  }
  assert.ok(iterations >= 1000, `only ${iterations} iterations in the time budget`);
});

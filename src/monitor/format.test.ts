import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlDirection, BlDropReason, BlPolicyAction, BlPolicyMatch, BlSourceFile, BlTracePoint, BlTraceReason } from '../datapath/generated/abi.js';
import { decodeMonitorEvent, eventEndpoints, type MonitorEvent } from '../observer/event.js';
import { connectionSummary, dissect, formatEvent, formatLost, hexDump, MSG_SEPARATOR, type FormatContext } from './format.js';
import { decodePacket } from '../observer/packet.js';
import {
  ETH_ARP,
  ETH_IPV4,
  ETH_IPV6,
  arp,
  dropRecord,
  ethernet,
  icmpEcho,
  ip4Number,
  ipv4,
  ipv6,
  policyVerdictRecord,
  tcp,
  tcpSyn,
  traceRecord,
  udp,
  vxlan,
} from '../../test/lib/packets.js';

const one: FormatContext = { node: 'node1', showNode: false, time: new Date('2024-05-01T12:00:00.000Z') };
const many: FormatContext = { ...one, showNode: true };
const info = (ev: MonitorEvent, ctx = one) => formatEvent(ev, 'info', ctx);

/** Cilium's example trace: a pod's SYN delivered to endpoint 1234. */
function toEndpointSyn(): MonitorEvent {
  return decodeMonitorEvent(
    traceRecord(
      tcpSyn(),
      { subtype: BlTracePoint.BL_TRACE_TO_LXC, hash: 0x5c1b2f4, ifindex: 29, src_identity: 1, dst_identity: 54321 },
      { dst_id: 1234, reason: BlTraceReason.BL_TRACE_REASON_POLICY, orig_ip4: ip4Number('10.0.1.5') },
    ),
  );
}

function policyDrop(): MonitorEvent {
  const syn = ethernet({ type: ETH_IPV4 }, ipv4({ src: '10.0.0.2', dst: '10.0.1.4', protocol: 6 }, tcp({ sport: 38024, dport: 80, flags: 'S' })));
  return decodeMonitorEvent(
    dropRecord(syn, { subtype: BlDropReason.BL_DROP_POLICY, hash: 0, ifindex: 29, src_identity: 2, dst_identity: 4 }, { file: BlSourceFile.BL_FILE_HOST, line: 1942 }),
  );
}

test("trace: Cilium's one-line form, with the interface name when known and the index when not", () => {
  const ev = toEndpointSyn();
  assert.equal(
    info(ev, { ...one, ifname: (i) => (i === 29 ? 'lxc1234abcd' : undefined) }),
    '-> endpoint 1234 flow 0x5c1b2f4 , identity 1->54321 state new ifindex lxc1234abcd orig-ip 10.0.1.5: 10.0.1.5:41234 -> 10.0.2.8:80 tcp SYN\n',
  );
  assert.equal(info(ev), '-> endpoint 1234 flow 0x5c1b2f4 , identity 1->54321 state new ifindex 29 orig-ip 10.0.1.5: 10.0.1.5:41234 -> 10.0.2.8:80 tcp SYN\n');
});

test('trace: observation points, connection states, no orig-ip', () => {
  const synAck = ethernet({ type: ETH_IPV4 }, ipv4({ src: '10.0.2.8', dst: '10.0.1.5', protocol: 6 }, tcp({ sport: 80, dport: 41234, flags: 'SA' })));
  const ev = decodeMonitorEvent(traceRecord(synAck, { subtype: BlTracePoint.BL_TRACE_FROM_LXC, source: 77, hash: 0xabc, ifindex: 3 }, { reason: BlTraceReason.BL_TRACE_REASON_CT_REPLY }));
  assert.equal(info(ev), '<- endpoint 77 flow 0xabc , identity 0->0 state reply ifindex 3 orig-ip 0.0.0.0: 10.0.2.8:80 -> 10.0.1.5:41234 tcp SYN, ACK\n');
  const fin = ethernet({ type: ETH_IPV4 }, ipv4({ src: '172.18.0.100', dst: '172.18.0.11', protocol: 6 }, tcp({ sport: 443, dport: 50000, flags: 'FA' })));
  const net = decodeMonitorEvent(traceRecord(fin, { subtype: BlTracePoint.BL_TRACE_FROM_NETWORK, hash: 1, ifindex: 2 }, { reason: BlTraceReason.BL_TRACE_REASON_UNKNOWN }));
  assert.equal(info(net), '<- network flow 0x1 , identity 0->0 state unknown ifindex 2 orig-ip 0.0.0.0: 172.18.0.100:443 -> 172.18.0.11:50000 tcp ACK, FIN\n');
  const out = decodeMonitorEvent(traceRecord(fin, { subtype: BlTracePoint.BL_TRACE_TO_NETWORK }, { reason: BlTraceReason.BL_TRACE_REASON_CT_ESTABLISHED }));
  assert.match(info(out), /^-> network flow 0x0 , identity 0->0 state established /);
  const weird = decodeMonitorEvent(traceRecord(fin, { subtype: 200 }, { reason: 77 }));
  assert.match(info(weird), /^unknown trace flow 0x0 , identity 0->0 state 77 /);
});

test('trace: UDP, ICMP echo, ARP and IPv6 packet summaries', () => {
  const dns = ethernet({ type: ETH_IPV4 }, ipv4({ src: '10.0.1.5', dst: '10.96.0.10', protocol: 17 }, udp({ sport: 53000, dport: 53 }, Buffer.alloc(30))));
  assert.match(info(decodeMonitorEvent(traceRecord(dns))), /: 10\.0\.1\.5:53000 -> 10\.96\.0\.10:53 udp\n$/);
  const ping = ethernet({ type: ETH_IPV4 }, ipv4({ src: '10.0.1.5', dst: '10.0.2.8', protocol: 1 }, icmpEcho({ type: 8, id: 1, seq: 2 }, Buffer.alloc(56))));
  assert.match(info(decodeMonitorEvent(traceRecord(ping))), /: 10\.0\.1\.5 -> 10\.0\.2\.8 icmp EchoRequest\n$/);
  const who = ethernet({ type: ETH_ARP, src: '02:00:00:00:00:01', dst: 'ff:ff:ff:ff:ff:ff' }, arp({ op: 1, senderMac: '02:00:00:00:00:01', senderIp: '10.0.1.5', targetMac: '00:00:00:00:00:00', targetIp: '10.0.1.1' }));
  assert.match(info(decodeMonitorEvent(traceRecord(who, { proto: ETH_ARP }))), /: 02:00:00:00:00:01 -> ff:ff:ff:ff:ff:ff ARP\n$/);
  const v6 = ethernet({ type: ETH_IPV6 }, ipv6({ src: 'fd00::5', dst: 'fd00::8', nextHeader: 6 }, tcp({ sport: 1000, dport: 80, flags: 'R' })));
  assert.match(info(decodeMonitorEvent(traceRecord(v6, { proto: ETH_IPV6 }))), /: \[fd00::5\]:1000 -> \[fd00::8\]:80 tcp RST\n$/);
});

test('a VXLAN packet shows the inner connection, then the tunnel', () => {
  const inner = ethernet({ type: ETH_IPV4 }, ipv4({ src: '10.0.1.5', dst: '10.0.2.8', protocol: 6 }, tcp({ sport: 41234, dport: 80, flags: 'S' })));
  const outer = ethernet({ type: ETH_IPV4 }, ipv4({ src: '172.18.0.11', dst: '172.18.0.12', protocol: 17 }, udp({ sport: 51000, dport: 8472 }, vxlan(2, inner))));
  assert.equal(connectionSummary(decodePacket(outer)), '10.0.1.5:41234 -> 10.0.2.8:80 tcp SYN [tunnel 172.18.0.11:51000 -> 172.18.0.12:8472 vxlan]');
});

test('a packet cut short still shows what was decoded', () => {
  assert.equal(connectionSummary(decodePacket(tcpSyn().subarray(0, 40))), '10.0.1.5 -> 10.0.2.8');
  assert.equal(connectionSummary(decodePacket(tcpSyn().subarray(0, 20))), '02:00:00:00:00:01 -> 02:00:00:00:00:02 IPv4');
  assert.equal(connectionSummary(decodePacket(new Uint8Array(0))), '[unknown]');
});

test("drop: Cilium's one-line form with our source file names", () => {
  assert.equal(
    info(policyDrop()),
    'xx drop (Policy denied) flow 0x0 to endpoint 0, ifindex 29, file host.bpf.c:1942, , identity 2->4: 10.0.0.2:38024 -> 10.0.1.4:80 tcp SYN\n',
  );
  const bad = ethernet({ type: ETH_IPV4 }, Buffer.from([0x45, 0, 0, 10]));
  const inval = decodeMonitorEvent(dropRecord(bad, { subtype: BlDropReason.BL_DROP_INVALID, hash: 0x10, ifindex: 2 }, { file: BlSourceFile.BL_FILE_HOST, line: 57, ext_error: -22 }));
  assert.equal(info(inval), 'xx drop (Invalid packet, -22) flow 0x10 to endpoint 0, ifindex 2, file host.bpf.c:57, , identity 0->0: 02:00:00:00:00:01 -> 02:00:00:00:00:02 IPv4\n');
  const unknown = decodeMonitorEvent(dropRecord(bad, { subtype: 250 }, { file: 99, line: 1 }));
  assert.match(info(unknown), /^xx drop \(250, 0\) flow 0x0 to endpoint 0, ifindex 0, file <unknown-id-99>:1, /);
});

test('events from several nodes carry the node; lost events always do', () => {
  assert.match(info(toEndpointSyn(), many), /^\[node1\] -> endpoint 1234 flow/);
  assert.match(info(policyDrop(), many), /^\[node1\] xx drop \(Policy denied\)/);
  assert.equal(formatLost(123, 'info', one), '[node1] Lost 123 events\n');
  assert.equal(formatLost(5, 'info', many), '[node1] Lost 5 events\n');
  assert.deepEqual(JSON.parse(formatLost(5, 'json', one)), { node: 'node1', time: '2024-05-01T12:00:00.000Z', type: 'lost', lost: 5 });
});

test("verbose: Cilium's MARK line after the separator, then one line per layer", () => {
  const lines = formatEvent(toEndpointSyn(), 'verbose', one).split('\n');
  assert.equal(lines[0], MSG_SEPARATOR);
  assert.equal(lines[1], 'MARK 0x5c1b2f4 FROM 0 to-endpoint: 54 bytes (54 captured), state new, interface 29, , identity 1->54321, orig-ip 10.0.1.5, to endpoint 1234');
  assert.equal(lines[2], 'Ethernet\t{SrcMAC=02:00:00:00:00:01 DstMAC=02:00:00:00:00:02 EthernetType=IPv4}');
  assert.match(lines[3]!, /^IPv4\t\{Version=4 IHL=5 TOS=0 Length=40 Id=1 Flags=DF FragOffset=0 TTL=64 Protocol=TCP Checksum=\d+ SrcIP=10\.0\.1\.5 DstIP=10\.0\.2\.8 Options=\[\]\}$/);
  assert.match(lines[4]!, /^TCP\t\{SrcPort=41234 DstPort=80 Seq=1 Ack=0 DataOffset=5 FIN=false SYN=true RST=false PSH=false ACK=false /);
  assert.equal(lines[5], '');
  assert.equal(lines.length, 6);

  const drop = formatEvent(policyDrop(), 'verbose', many).split('\n');
  assert.equal(drop[1], '[node1] MARK 0x0 FROM 0 DROP: 54 bytes, reason Policy denied, identity 2->4');
  assert.match(drop[2]!, /^Ethernet\t/);
});

test('verbose: a truncated capture says so; --hex dumps the bytes as Go does', () => {
  const big = ethernet({ type: ETH_IPV4 }, ipv4({ src: '10.0.1.5', dst: '10.0.2.8', protocol: 6 }, tcp({ sport: 1, dport: 2, flags: 'S', options: Array(40).fill(1) })));
  const cut = decodeMonitorEvent(traceRecord(big.subarray(0, 60), { len_orig: big.length }));
  const out = formatEvent(cut, 'verbose', one);
  assert.match(out, /: 94 bytes \(60 captured\)/);
  assert.match(out, /\n {2}Packet has been truncated\n$/);
  const dump = formatEvent(toEndpointSyn(), 'verbose', { ...one, hex: true }).split('\n');
  assert.equal(dump[2], '00000000  02 00 00 00 00 02 02 00  00 00 00 01 08 00 45 00  |..............E.|');
});

test("hexDump is Go's hex.Dump", () => {
  assert.equal(
    hexDump(Buffer.from('Go is an open source programming language.')),
    '00000000  47 6f 20 69 73 20 61 6e  20 6f 70 65 6e 20 73 6f  |Go is an open so|\n' +
      '00000010  75 72 63 65 20 70 72 6f  67 72 61 6d 6d 69 6e 67  |urce programming|\n' +
      '00000020  20 6c 61 6e 67 75 61 67  65 2e                    | language.|\n',
  );
  assert.equal(hexDump(new Uint8Array(0)), '');
});

test('dissect lists VXLAN inner layers and reports errors once', () => {
  const inner = ethernet({ type: ETH_IPV4 }, ipv4({ src: '10.0.1.5', dst: '10.0.2.8', protocol: 17 }, udp({ sport: 1, dport: 2 })));
  const p = decodePacket(ethernet({ type: ETH_IPV4 }, ipv4({ src: '172.18.0.11', dst: '172.18.0.12', protocol: 17 }, udp({ sport: 3, dport: 4789 }, vxlan(9, inner)))));
  assert.deepEqual(
    dissect(p).map((l) => l.split('\t')[0]),
    ['Ethernet', 'IPv4', 'UDP', 'VXLAN', 'Ethernet', 'IPv4', 'UDP'],
  );
  const bad = decodePacket(ethernet({ type: ETH_IPV4 }, Buffer.from([0x55, 0, 0, 0])));
  assert.deepEqual(dissect(bad).slice(-1), ['  Failed to decode layer: ipv4: version 5, not 4']);
});

test("JSON: Cilium's field names, plus node, time and the decoded packet", () => {
  const t = JSON.parse(formatEvent(toEndpointSyn(), 'json', one)) as Record<string, unknown>;
  assert.equal(t.node, 'node1');
  assert.equal(t.time, '2024-05-01T12:00:00.000Z');
  assert.equal(t.type, 'trace');
  assert.equal(t.mark, '0x5c1b2f4');
  assert.equal(t.state, 'new');
  assert.equal(t.observationPoint, 'to-endpoint');
  assert.equal(t.traceSummary, '-> endpoint 1234');
  assert.equal(t.ifindex, '29');
  assert.deepEqual([t.source, t.bytes, t.srcLabel, t.dstLabel, t.dstID, t.origIP], [0, 54, 1, 54321, 1234, '10.0.1.5']);
  assert.deepEqual(t.summary, {
    connection: '10.0.1.5:41234 -> 10.0.2.8:80 tcp SYN',
    l2: { src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' },
    l3: { src: '10.0.1.5', dst: '10.0.2.8' },
    l4: { src: '41234', dst: '80' },
  });
  assert.deepEqual((t.packet as { layers: string[] }).layers, ['ethernet', 'ipv4', 'tcp']);
  const d = JSON.parse(formatEvent(policyDrop(), 'json', one)) as Record<string, unknown>;
  assert.deepEqual([d.type, d.reason, d.reasonCode, d.Line, d.File, d.fileName, d.Ifindex], ['drop', 'Policy denied', 133, 1942, 1, 'host.bpf.c', 29]);
  assert.equal(formatEvent(policyDrop(), 'json', one).split('\n').length, 2, 'one line per event');
});

test('records that are short, empty or of other types print, never throw', () => {
  assert.equal(info(decodeMonitorEvent(new Uint8Array(0))), 'Unknown event: empty record\n');
  assert.equal(info(decodeMonitorEvent(Buffer.from([4, 0, 0]))), 'Unknown event: type 4 (trace), 3 bytes (record of 3 bytes is shorter than the 40-byte header)\n');
  const debug = Buffer.alloc(64);
  debug[0] = 2;
  debug[14] = 1;
  assert.equal(info(decodeMonitorEvent(debug)), 'Unknown event: type 2 (debug), 64 bytes\n');
  // A trace record cut after its header: the packet is whatever the record still holds.
  const short = decodeMonitorEvent(traceRecord(tcpSyn(), { subtype: BlTracePoint.BL_TRACE_TO_STACK }).subarray(0, 60));
  assert.equal(short.kind, 'trace');
  assert.equal(info(short), '-> stack flow 0x0 , identity 0->0 state new ifindex 0 orig-ip 0.0.0.0: [unknown]\n');
});

// ---- policy

/** The brief's example verdict: endpoint 1234's ingress allowed 5678's SYN by an L3-L4 rule. */
function verdictSyn(fields: Parameters<typeof policyVerdictRecord>[2] = {}): MonitorEvent {
  const syn = ethernet({ type: ETH_IPV4 }, ipv4({ src: '10.0.1.5', dst: '10.0.2.7', protocol: 6 }, tcp({ sport: 43210, dport: 80, flags: 'S' })));
  return decodeMonitorEvent(
    policyVerdictRecord(
      syn,
      { hash: 0xabc, source: 1234, ifindex: 29, src_identity: 5678, dst_identity: 4321 },
      { remote_identity: 5678, proto: 6, dport: 80, dir: BlDirection.BL_DIR_INGRESS, action: BlPolicyAction.BL_POLICY_ACTION_ALLOW, match_type: BlPolicyMatch.BL_POLICY_MATCH_L3_L4, ...fields },
    ),
  );
}

test('policy verdict: decoded with its fields and packet', () => {
  const ev = verdictSyn({ cookie: 7, dst_id: 55 });
  assert.equal(ev.kind, 'policy-verdict');
  if (ev.kind !== 'policy-verdict') return;
  assert.equal(ev.error, undefined);
  assert.equal(ev.hdr.source, 1234);
  assert.deepEqual(
    { remote: ev.verdict.remote_identity, dport: ev.verdict.dport, proto: ev.verdict.proto, cookie: ev.verdict.cookie, dst: ev.verdict.dst_id },
    { remote: 5678, dport: 80, proto: 6, cookie: 7, dst: 55 },
  );
  assert.equal(ev.packet.tcp?.dstPort, 80);
  assert.deepEqual(eventEndpoints(ev), { src: 1234, dst: 55 }, 'filters see the local endpoint and the peer endpoint');
});

test("policy verdict: Cilium's one-line form; audit, deny and every match type; the cookie with the policies behind it", () => {
  assert.equal(
    info(verdictSyn()),
    'Policy verdict log: flow 0xabc local EP ID 1234, remote ID 5678, proto 6, ingress, action allow, match L3-L4, 10.0.1.5:43210 -> 10.0.2.7:80 tcp SYN\n',
  );
  const deny = verdictSyn({
    dir: BlDirection.BL_DIR_EGRESS,
    action: BlPolicyAction.BL_POLICY_ACTION_DENY,
    verdict: -BlDropReason.BL_DROP_POLICY_DENY,
    match_type: BlPolicyMatch.BL_POLICY_MATCH_L4_ONLY,
    cookie: 9,
  });
  assert.equal(
    info(deny),
    'Policy verdict log: flow 0xabc local EP ID 1234, remote ID 5678, proto 6, egress, action deny, match L4-Only, policy-cookie 9, 10.0.1.5:43210 -> 10.0.2.7:80 tcp SYN\n',
  );
  assert.match(
    info(deny, { ...one, policyNames: (c) => (c === 9 ? ['default/deny-web', 'default/base'] : undefined) }),
    /match L4-Only, policy-cookie 9 \(default\/deny-web, default\/base\), 10\.0\.1\.5/,
  );
  assert.match(info(verdictSyn({ action: BlPolicyAction.BL_POLICY_ACTION_AUDIT, match_type: BlPolicyMatch.BL_POLICY_MATCH_NONE })), /, action audit, match none, /);
  assert.match(info(verdictSyn({ match_type: BlPolicyMatch.BL_POLICY_MATCH_L3_ONLY })), /match L3-Only,/);
  assert.match(info(verdictSyn({ match_type: BlPolicyMatch.BL_POLICY_MATCH_ALL })), /match all,/);
  assert.match(info(verdictSyn(), many), /^\[node1\] Policy verdict log: /);
});

test('policy verdict: verbose shows the line and the packet; JSON spells out direction, action and match', () => {
  const ev = verdictSyn({ cookie: 3 });
  const v = formatEvent(ev, 'verbose', one);
  assert.ok(v.startsWith(`${MSG_SEPARATOR}\nPolicy verdict log: flow 0xabc local EP ID 1234`));
  assert.match(v, /\nTCP\t\{SrcPort=43210 DstPort=80 /);
  const j = JSON.parse(formatEvent(ev, 'json', { ...one, policyNames: () => ['default/allow-web'] }));
  assert.deepEqual(
    { type: j.type, source: j.source, remoteLabel: j.remoteLabel, direction: j.direction, action: j.action, match: j.match, policyCookie: j.policyCookie, policies: j.policies, verdict: j.verdict },
    { type: 'policy-verdict', source: 1234, remoteLabel: 5678, direction: 'ingress', action: 'allow', match: 'L3-L4', policyCookie: 3, policies: ['default/allow-web'], verdict: 0 },
  );
});

test("policy drops: Cilium's reason texts, and the policy cookie when the event carries one", () => {
  const syn = ethernet({ type: ETH_IPV4 }, ipv4({ src: '10.0.0.2', dst: '10.0.1.4', protocol: 6 }, tcp({ sport: 38024, dport: 80, flags: 'S' })));
  const drop = (reason: number, cookie: number) =>
    decodeMonitorEvent(dropRecord(syn, { subtype: reason, hash: 0, ifindex: 29, src_identity: 2, dst_identity: 4 }, { file: BlSourceFile.BL_FILE_LXC, line: 10, cookie }));
  assert.equal(
    info(drop(BlDropReason.BL_DROP_POLICY, 12)),
    'xx drop (Policy denied) flow 0x0 to endpoint 0, ifindex 29, file lxc.bpf.c:10, , identity 2->4 policy-cookie 12: 10.0.0.2:38024 -> 10.0.1.4:80 tcp SYN\n',
  );
  assert.match(info(drop(BlDropReason.BL_DROP_POLICY_DENY, 13), { ...one, policyNames: () => ['prod/deny-db'] }), /^xx drop \(Policy denied by denylist\) .* identity 2->4 policy-cookie 13 \(prod\/deny-db\): /);
  assert.match(info(drop(BlDropReason.BL_DROP_POLICY, 0)), /identity 2->4: 10\.0\.0\.2/, 'no cookie, nothing printed');
  assert.match(info(drop(BlDropReason.BL_DROP_INVALID, 99)), /identity 2->4: /, 'only policy drops carry a cookie');
  assert.match(formatEvent(drop(BlDropReason.BL_DROP_POLICY, 12), 'verbose', one), /reason Policy denied, identity 2->4 policy-cookie 12\n/);
  assert.equal(JSON.parse(formatEvent(drop(BlDropReason.BL_DROP_POLICY_DENY, 13), 'json', one)).policyCookie, 13);
});

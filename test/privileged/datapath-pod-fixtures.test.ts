/**
 * Packet fixtures for the pod datapath (lxc.bpf.o, overlay.bpf.o, and the
 * uplink's local delivery in host.bpf.o), katran style: a described packet
 * and map state go through BPF_PROG_TEST_RUN; the test checks the verdict,
 * the output bytes, the events, the conntrack entries and the metrics. Each
 * test loads a fresh node (see datapath-pod-support.ts) on a private bpffs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BpfError } from '../../src/common/errors.js';
import {
  BlCtEntryFlags,
  BlCtTimeouts,
  BlCtTupleFlags,
  BlDirection,
  BlDropReason,
  BlForwardReason,
  BlRoutingMode,
  BlSourceFile,
  BlTraceAggregation,
  BlTracePoint,
  BlTraceReason,
} from '../../src/datapath/generated/abi.js';
import { Datapath } from '../../src/datapath/loader.js';
import { SK_BUFF_SIZE } from '../../src/datapath/native/structs.js';

/** Offset of ingress_ifindex in struct __sk_buff (uapi: len, pkt_type, mark, queue_mapping, protocol, vlan_present, vlan_tci, vlan_proto, priority, ingress_ifindex). */
const SKB_INGRESS_IFINDEX = 36;
import { HOST_OBJECT, arpPacket, ethernet, icmpEcho, ip4Num, ipv4Frame, macStr, parseArpFrame, parseIpv4Frame, requireObject, tcp, udp } from './datapath-support.js';
import {
  CT_MAX_ENTRIES,
  NODE,
  POD_A,
  POD_B,
  POD_C,
  PodNode,
  REMOTE,
  TCP_ACK,
  TCP_FIN_ACK,
  TCP_RST,
  TCP_SYN,
  TCP_SYN_ACK,
  TC_ACT_OK,
  TC_ACT_REDIRECT,
  TC_ACT_SHOT,
  fromPod,
  monotonicSeconds,
  tcpFromPod,
  traces,
  type CtRow,
  type PodNodeOptions,
} from './datapath-pod-support.js';

const { BL_TRACE_FROM_LXC: FROM_LXC, BL_TRACE_TO_LXC: TO_LXC, BL_TRACE_TO_STACK: TO_STACK, BL_TRACE_TO_OVERLAY: TO_OVERLAY } = BlTracePoint;
const { BL_TRACE_FROM_OVERLAY: FROM_OVERLAY, BL_TRACE_FROM_NETWORK: FROM_NETWORK } = BlTracePoint;
const NEW = BlTraceReason.BL_TRACE_REASON_POLICY;
const ESTABLISHED = BlTraceReason.BL_TRACE_REASON_CT_ESTABLISHED;
const REPLY = BlTraceReason.BL_TRACE_REASON_CT_REPLY;
const UNKNOWN = BlTraceReason.BL_TRACE_REASON_UNKNOWN;
const OUT = BlCtTupleFlags.BL_CT_TUPLE_F_OUT;
const IN = BlCtTupleFlags.BL_CT_TUPLE_F_IN;
const EGRESS = BlDirection.BL_DIR_EGRESS;
const INGRESS = BlDirection.BL_DIR_INGRESS;
const FORWARDED = BlForwardReason.BL_REASON_FORWARDED;
const UNROUTABLE = BlDropReason.BL_DROP_UNROUTABLE;

/** A fresh node for one test, closed after it. */
function node(t: { after: (fn: () => void) => void }, opts: PodNodeOptions = {}): PodNode {
  const n = PodNode.open(opts);
  t.after(() => n.close());
  return n;
}

/** The one entry matching (daddr, saddr, flags). */
function ctEntry(rows: readonly CtRow[], daddr: string, saddr: string, flags: number): CtRow {
  const found = rows.filter((r) => r.daddr === daddr && r.saddr === saddr && r.key.flags === flags);
  assert.equal(found.length, 1, `one CT entry ${saddr} → ${daddr} flags ${flags}: ${JSON.stringify(rows.map((r) => [r.saddr, r.daddr, r.key]))}`);
  return found[0]!;
}

/** Asserts lifetime ≈ now + timeout (a second of slack each way for the clock ticking over). */
function assertLifetime(row: CtRow, timeout: number, what: string): void {
  const now = monotonicSeconds();
  assert.ok(Math.abs(row.entry.lifetime - (now + timeout)) <= 1, `${what}: lifetime ${row.entry.lifetime}, expected ≈ ${now} + ${timeout}`);
}

/** Everything but the Ethernet header and the TTL/checksum bytes is unchanged. */
function assertOnlyHopRewritten(out: Buffer, input: Buffer): void {
  assert.equal(out.length, input.length);
  const mask = (b: Buffer) => {
    const c = Buffer.from(b);
    c.fill(0, 0, 12); // MACs
    c[14 + 8] = 0; // TTL
    c.fill(0, 14 + 10, 14 + 12); // header checksum
    return c;
  };
  assert.deepEqual(mask(out), mask(input));
}

// ---------------------------------------------------------------------------
// Loading

test('lxc, overlay and host loaded with one pin directory share bl_lxc, bl_ipcache and bl_ct4', (t) => {
  const n = node(t);
  for (const name of ['bl_lxc', 'bl_ipcache', 'bl_ct4', 'bl_metrics', 'bl_events']) {
    assert.equal(n.dps.overlay.isPinned(name), true, `overlay reused ${name} from the pin`);
    assert.equal(n.dps.host.isPinned(name), true, `host reused ${name} from the pin`);
  }
  // Written through lxc (PodNode.open), read through the others.
  const key = { ip4: ip4Num(POD_B.ip) };
  assert.equal(n.lxcMap('overlay').get(key)?.ep_id, POD_B.id);
  assert.equal(n.lxcMap('host').get(key)?.ep_id, POD_B.id);
  assert.equal(n.ipcacheMap('overlay').get({ prefixlen: REMOTE.prefixlen, ip4: ip4Num(REMOTE.podCidr) })?.node_id, REMOTE.nodeId);

  // A connection made by an lxc program is seen by overlay's map, and one made
  // by overlay's program by lxc's: one kernel map.
  assert.equal(n.run('bl_from_container', tcpFromPod(POD_A, '172.18.0.100', TCP_SYN, 40000, 80)).retval, TC_ACT_OK);
  assert.equal(n.run('bl_from_overlay', ipv4Frame({ src: '10.0.2.5', dst: POD_B.ip, payload: udp(5000, 53, '10.0.2.5', POD_B.ip), proto: 17 })).retval, TC_ACT_REDIRECT);
  assert.deepEqual(
    n.ct('overlay').map((r) => [r.saddr, r.daddr, r.key.flags]).sort(),
    [
      ['10.0.1.10', '172.18.0.100', OUT],
      ['10.0.2.5', '10.0.1.20', IN],
    ],
  );
  assert.deepEqual(n.ct('lxc').map((r) => r.key).sort(), n.ct('overlay').map((r) => r.key).sort());
  assert.deepEqual(n.ct('host').map((r) => r.key).sort(), n.ct('overlay').map((r) => r.key).sort());
});

test('every object must size bl_ct4 alike: a pinned map of another size is not reused', (t) => {
  const n = node(t);
  const dp = Datapath.open(requireObject(HOST_OBJECT), { pinDir: n.pinDir });
  t.after(() => dp.close());
  dp.setMaxEntries('bl_ct4', CT_MAX_ENTRIES * 2);
  assert.throws(() => dp.load(), (e: unknown) => e instanceof BpfError && /map bl_ct4/.test(e.message));
});

// ---------------------------------------------------------------------------
// ARP

test('ARP request for the gateway: answered in BPF with the node MAC, sent back to the pod', (t) => {
  const n = node(t);
  const req = arpPacket({ senderMac: POD_A.mac, senderIp: POD_A.ip, targetIp: NODE.router });
  const out = n.run('bl_from_container', req);
  assert.equal(out.retval, TC_ACT_REDIRECT);
  assert.equal(out.dataOut.length, req.length);
  assert.deepEqual(parseArpFrame(out.dataOut), {
    ethDst: POD_A.mac,
    ethSrc: POD_A.nodeMac,
    ethertype: 0x0806,
    htype: 1,
    ptype: 0x0800,
    hlen: 6,
    plen: 4,
    op: 2,
    senderMac: POD_A.nodeMac,
    senderIp: NODE.router,
    targetMac: POD_A.mac,
    targetIp: POD_A.ip,
  });
  assert.deepEqual(out.dataOut.subarray(42), req.subarray(42), 'the Ethernet padding is left alone');
  assert.deepEqual(traces(out.events), [[FROM_LXC, POD_A.id, 0, 0]]);
  assert.deepEqual([...n.metrics()], [[`${FORWARDED}/${EGRESS}`, { count: 1n, bytes: BigInt(req.length) }]]);
  assert.deepEqual(n.ct(), [], 'ARP is not conntracked');
});

test('ARP that is not a gateway request passes untouched', (t) => {
  const n = node(t);
  const cases: Array<[string, Buffer]> = [
    ['an announcement (target = sender)', arpPacket({ senderMac: POD_A.mac, senderIp: POD_A.ip, targetIp: POD_A.ip })],
    ['a probe (sender 0.0.0.0)', arpPacket({ senderMac: POD_A.mac, senderIp: '0.0.0.0', targetIp: POD_A.ip })],
    ['a reply', arpPacket({ op: 2, senderMac: POD_A.mac, senderIp: POD_A.ip, targetIp: NODE.router, targetMac: POD_A.nodeMac })],
    ['a request from an unknown address', arpPacket({ senderMac: POD_A.mac, senderIp: '10.0.1.77', targetIp: NODE.router })],
    ['a request from a pod on another veth', arpPacket({ senderMac: POD_C.mac, senderIp: POD_C.ip, targetIp: NODE.router })],
  ];
  for (const [what, pkt] of cases) {
    const out = n.run('bl_from_container', pkt);
    assert.equal(out.retval, TC_ACT_OK, what);
    assert.deepEqual(out.dataOut, pkt, what);
  }
});

// ---------------------------------------------------------------------------
// Pod to pod on the node

test('pod → local pod TCP SYN: redirected into the pod, MACs and TTL rewritten, a CT entry each way', (t) => {
  const n = node(t);
  const syn = tcpFromPod(POD_A, POD_B.ip, TCP_SYN, 40000, 8080);
  const out = n.run('bl_from_container', syn);

  assert.equal(out.retval, TC_ACT_REDIRECT);
  const ip = parseIpv4Frame(out.dataOut);
  assert.equal(ip.ethDst, POD_B.mac, 'to the pod');
  assert.equal(ip.ethSrc, POD_B.nodeMac, 'from its gateway');
  assert.equal(ip.ttl, 63);
  assert.equal(ip.checksumOk, true, 'the IPv4 header checksum still verifies');
  assertOnlyHopRewritten(out.dataOut, syn);

  const rows = n.ct();
  assert.equal(rows.length, 2);
  const egress = ctEntry(rows, POD_B.ip, POD_A.ip, OUT);
  const ingress = ctEntry(rows, POD_B.ip, POD_A.ip, IN);
  for (const [row, what] of [[egress, 'egress of A'], [ingress, 'ingress of B']] as const) {
    assert.deepEqual({ sport: row.key.sport, dport: row.key.dport, nexthdr: row.key.nexthdr }, { sport: 40000, dport: 8080, nexthdr: 6 }, what);
    assertLifetime(row, BlCtTimeouts.BL_CT_SYN_TIMEOUT, what);
    assert.equal(row.entry.tx_packets, 1n, what);
    assert.equal(row.entry.tx_bytes, BigInt(syn.length), what);
    assert.equal(row.entry.rx_packets, 0n, what);
    assert.equal(row.entry.tx_flags_seen, TCP_SYN, what);
    assert.ok(Math.abs(row.entry.created - monotonicSeconds()) <= 1, `${what}: created now`);
  }

  assert.deepEqual(traces(out.events), [
    [FROM_LXC, POD_A.id, POD_B.id, NEW],
    [TO_LXC, POD_B.id, POD_B.id, NEW],
  ]);
  const toLxc = out.events[1]!;
  assert.deepEqual(toLxc.data, out.dataOut.subarray(0, toLxc.data.length), 'TO_LXC captures the packet as delivered');
  assert.deepEqual([...n.metrics()], [[`${FORWARDED}/${EGRESS}`, { count: 1n, bytes: BigInt(syn.length) }]]);
});

test('TCP handshake and close: SYN-ACK is a reply, ACK establishes, FIN closes, a new SYN reopens', (t) => {
  const n = node(t);
  const aToB = (flags: number) => n.run('bl_from_container', tcpFromPod(POD_A, POD_B.ip, flags, 40000, 8080));
  const bToA = (flags: number) => n.run('bl_from_container', tcpFromPod(POD_B, POD_A.ip, flags, 8080, 40000));
  const entries = () => {
    const rows = n.ct();
    assert.equal(rows.length, 2, 'still the two entries of the connection');
    return { egress: ctEntry(rows, POD_B.ip, POD_A.ip, OUT), ingress: ctEntry(rows, POD_B.ip, POD_A.ip, IN) };
  };

  aToB(TCP_SYN);
  const synAck = bToA(TCP_SYN_ACK);
  assert.equal(synAck.retval, TC_ACT_REDIRECT);
  const ip = parseIpv4Frame(synAck.dataOut);
  assert.deepEqual([ip.ethDst, ip.ethSrc, ip.ttl], [POD_A.mac, POD_A.nodeMac, 63]);
  assert.deepEqual(
    traces(synAck.events),
    [
      [FROM_LXC, POD_B.id, POD_A.id, REPLY],
      [TO_LXC, POD_A.id, POD_A.id, REPLY],
    ],
    "leaving B it matches B's ingress entry, entering A it matches A's egress entry",
  );
  let e = entries();
  for (const row of [e.egress, e.ingress]) {
    assert.equal(row.entry.rx_packets, 1n);
    assert.equal(row.entry.rx_flags_seen, TCP_SYN_ACK);
    assertLifetime(row, BlCtTimeouts.BL_CT_SYN_TIMEOUT, 'SYN-ACK: still the handshake');
  }

  const ack = aToB(TCP_ACK);
  assert.deepEqual(traces(ack.events), [
    [FROM_LXC, POD_A.id, POD_B.id, ESTABLISHED],
    [TO_LXC, POD_B.id, POD_B.id, ESTABLISHED],
  ]);
  e = entries();
  for (const row of [e.egress, e.ingress]) {
    assertLifetime(row, BlCtTimeouts.BL_CT_LIFETIME_TCP, 'ACK: established');
    assert.equal(row.entry.flags & BlCtEntryFlags.BL_CT_F_SEEN_NON_SYN, BlCtEntryFlags.BL_CT_F_SEEN_NON_SYN);
    assert.equal(row.entry.tx_packets, 2n);
  }

  aToB(TCP_FIN_ACK);
  e = entries();
  for (const row of [e.egress, e.ingress]) {
    assertLifetime(row, BlCtTimeouts.BL_CT_CLOSE_TIMEOUT, 'FIN: closing');
    assert.equal(row.entry.flags & BlCtEntryFlags.BL_CT_F_TX_CLOSING, BlCtEntryFlags.BL_CT_F_TX_CLOSING);
  }
  bToA(TCP_ACK);
  assertLifetime(entries().egress, BlCtTimeouts.BL_CT_CLOSE_TIMEOUT, 'closing stays closing');

  // The same port pair again: a SYN starts a new handshake on the entry.
  const again = aToB(TCP_SYN);
  assert.equal(again.retval, TC_ACT_REDIRECT);
  e = entries();
  assertLifetime(e.egress, BlCtTimeouts.BL_CT_SYN_TIMEOUT, 'reopened');
  assert.equal(e.egress.entry.flags, 0, 'closing and non-SYN flags cleared');
});

test('RST in the reply direction closes both ways', (t) => {
  const n = node(t);
  n.run('bl_from_container', tcpFromPod(POD_A, POD_B.ip, TCP_SYN, 40001, 8080));
  n.run('bl_from_container', tcpFromPod(POD_B, POD_A.ip, TCP_RST | TCP_ACK, 8080, 40001));
  for (const row of n.ct()) {
    assert.equal(row.entry.flags & (BlCtEntryFlags.BL_CT_F_RX_CLOSING | BlCtEntryFlags.BL_CT_F_TX_CLOSING), 3);
    assertLifetime(row, BlCtTimeouts.BL_CT_CLOSE_TIMEOUT, 'RST');
  }
});

test('UDP and ICMP echo: non-TCP timeout; the echo reply matches its request by identifier', (t) => {
  const n = node(t);
  const q = n.run('bl_from_container', fromPod(POD_A, POD_B.ip, 17, udp(5353, 53, POD_A.ip, POD_B.ip)));
  assert.equal(q.retval, TC_ACT_REDIRECT);
  const a = n.run('bl_from_container', fromPod(POD_B, POD_A.ip, 17, udp(53, 5353, POD_B.ip, POD_A.ip)));
  assert.deepEqual(traces(a.events).map((x) => x[3]), [REPLY, REPLY]);
  const udpRows = n.ct().filter((r) => r.key.nexthdr === 17);
  assert.equal(udpRows.length, 2);
  for (const row of udpRows) {
    assertLifetime(row, BlCtTimeouts.BL_CT_LIFETIME_NONTCP, 'UDP');
    assert.deepEqual([row.key.sport, row.key.dport, row.entry.tx_packets, row.entry.rx_packets], [5353, 53, 1n, 1n]);
  }

  const ping = n.run('bl_from_container', fromPod(POD_A, POD_B.ip, 1, icmpEcho(8, 0x1234)));
  assert.equal(ping.retval, TC_ACT_REDIRECT);
  assert.deepEqual(traces(ping.events).map((x) => x[3]), [NEW, NEW]);
  const pong = n.run('bl_from_container', fromPod(POD_B, POD_A.ip, 1, icmpEcho(0, 0x1234)));
  assert.equal(pong.retval, TC_ACT_REDIRECT);
  assert.deepEqual(traces(pong.events).map((x) => x[3]), [REPLY, REPLY], 'the reply found its request');
  const other = n.run('bl_from_container', fromPod(POD_B, POD_A.ip, 1, icmpEcho(0, 0x9999)));
  assert.deepEqual(traces(other.events).map((x) => x[3]), [NEW, NEW], 'a reply with another identifier is not');

  const icmpRows = n.ct().filter((r) => r.key.nexthdr === 1 && r.saddr === POD_A.ip);
  assert.equal(icmpRows.length, 2);
  for (const row of icmpRows) {
    assertLifetime(row, BlCtTimeouts.BL_CT_LIFETIME_NONTCP, 'ICMP');
    assert.deepEqual([row.key.sport, row.key.dport, row.entry.rx_packets], [0x1234, 0, 1n], 'echo: sport = identifier');
  }
});

test('a packet that conntrack cannot read (truncated TCP header) is dropped with 135', (t) => {
  const n = node(t);
  const out = n.run('bl_from_container', fromPod(POD_A, POD_B.ip, 6, Buffer.from([0x9c, 0x40, 0x1f, 0x90])));
  assert.equal(out.retval, TC_ACT_SHOT);
  assert.deepEqual(
    out.events.map((e) => [e.type, e.type === 'drop' ? e.reason : 0]),
    [['drop', BlDropReason.BL_DROP_CT_INVALID_HDR]],
  );
  assert.equal(BlDropReason.BL_DROP_CT_INVALID_HDR, 135);
});

test('TTL 1 to a local pod: dropped with TTL exceeded (196)', (t) => {
  const n = node(t);
  const out = n.run('bl_from_container', fromPod(POD_A, POD_B.ip, 17, udp(1, 2, POD_A.ip, POD_B.ip), { ttl: 1 }));
  assert.equal(out.retval, TC_ACT_SHOT);
  assert.equal(n.metrics().get(`${BlDropReason.BL_DROP_TTL_EXCEEDED}/${EGRESS}`)?.count, 1n);
  assert.deepEqual(n.ct(), [], 'no conntrack entry for it');
  const fromTunnel = n.run('bl_from_overlay', ipv4Frame({ src: '10.0.2.5', dst: POD_B.ip, proto: 17, payload: udp(1, 2, '10.0.2.5', POD_B.ip), ttl: 1 }));
  assert.equal(fromTunnel.retval, TC_ACT_SHOT);
  assert.deepEqual(n.ct(), []);
});

// ---------------------------------------------------------------------------
// Drops

test('pod → an address of the local pod CIDR without endpoint: dropped as unroutable (151)', (t) => {
  const n = node(t);
  const pkt = tcpFromPod(POD_A, '10.0.1.99', TCP_SYN, 40000, 80);
  const out = n.run('bl_from_container', pkt);
  assert.equal(out.retval, TC_ACT_SHOT);
  assert.equal(UNROUTABLE, 151, "Cilium's DROP_UNROUTABLE, 'Stale or unroutable IP'");
  assert.equal(out.events.length, 1, 'a drop event, no trace');
  const ev = out.events[0]!;
  assert.ok(ev.type === 'drop');
  assert.deepEqual([ev.reason, ev.source, ev.file], [UNROUTABLE, POD_A.id, BlSourceFile.BL_FILE_LXC]);
  assert.ok(ev.line > 0);
  assert.deepEqual(ev.data, pkt.subarray(0, ev.data.length));
  assert.deepEqual([...n.metrics()], [[`${UNROUTABLE}/${EGRESS}`, { count: 1n, bytes: BigInt(pkt.length) }]]);
  assert.deepEqual(n.ct(), [], 'no conntrack entry for a dropped packet');
});

test('a pod speaking with an address that is not its own is dropped (132)', (t) => {
  const n = node(t);
  for (const [what, src] of [
    ['an unknown address', '10.0.1.77'],
    ['the address of a pod on another veth', POD_C.ip],
  ] as const) {
    const out = n.run('bl_from_container', fromPod({ ...POD_A, ip: src }, POD_B.ip, 17, udp(1, 2, src, POD_B.ip)));
    assert.equal(out.retval, TC_ACT_SHOT, what);
    assert.deepEqual(out.events.map((e) => (e.type === 'drop' ? e.reason : -1)), [BlDropReason.BL_DROP_INVALID_SIP], what);
  }
  assert.deepEqual(n.ct(), []);
});

// ---------------------------------------------------------------------------
// Other destinations

test('pod → remote pod CIDR in tunnel mode: redirected to the tunnel device, traced TO_OVERLAY', (t) => {
  const n = node(t);
  const pkt = tcpFromPod(POD_A, '10.0.2.5', TCP_SYN, 40000, 80);
  const out = n.run('bl_from_container', pkt);
  assert.equal(out.retval, TC_ACT_REDIRECT);
  assert.deepEqual(out.dataOut, pkt, 'the inner packet is not rewritten');
  assert.deepEqual(traces(out.events), [
    [FROM_LXC, POD_A.id, 0, NEW],
    [TO_OVERLAY, POD_A.id, 0, NEW],
  ]);
  assert.equal(ctEntry(n.ct(), '10.0.2.5', POD_A.ip, OUT).entry.tx_packets, 1n);
});

test('tunnel mode without a tunnel device: dropped (160), not sent to the stack', (t) => {
  const n = node(t, { config: { tunnel_ifindex: 0 } });
  const out = n.run('bl_from_container', tcpFromPod(POD_A, '10.0.2.5', TCP_SYN, 40000, 80));
  assert.equal(out.retval, TC_ACT_SHOT);
  assert.equal(n.metrics().get(`${BlDropReason.BL_DROP_NO_TUNNEL_ENDPOINT}/${EGRESS}`)?.count, 1n);
});

test('pod → remote pod CIDR in native mode: to the stack, traced TO_STACK', (t) => {
  const n = node(t, { config: { routing_mode: BlRoutingMode.BL_ROUTING_NATIVE, tunnel_ifindex: 0 } });
  const pkt = tcpFromPod(POD_A, '10.0.2.5', TCP_SYN, 40000, 80);
  const out = n.run('bl_from_container', pkt);
  assert.equal(out.retval, TC_ACT_OK);
  assert.deepEqual(out.dataOut, pkt);
  assert.deepEqual(traces(out.events), [
    [FROM_LXC, POD_A.id, 0, NEW],
    [TO_STACK, POD_A.id, 0, NEW],
  ]);
});

test('pod → the world and back: to the stack, the reply through bl_to_container is a CT reply', (t) => {
  const n = node(t);
  const pkt = tcpFromPod(POD_A, '172.18.0.100', TCP_SYN, 40000, 80);
  const out = n.run('bl_from_container', pkt);
  assert.equal(out.retval, TC_ACT_OK);
  assert.deepEqual(out.dataOut, pkt);
  assert.deepEqual(traces(out.events), [
    [FROM_LXC, POD_A.id, 0, NEW],
    [TO_STACK, POD_A.id, 0, NEW],
  ]);

  // The node's stack routes the reply into the pod's veth.
  const reply = ipv4Frame({ src: '172.18.0.100', dst: POD_A.ip, proto: 6, payload: tcp(TCP_SYN_ACK, 80, 40000, '172.18.0.100', POD_A.ip), ethDst: POD_A.mac, ethSrc: POD_A.nodeMac });
  const back = n.run('bl_to_container', reply);
  assert.equal(back.retval, TC_ACT_OK);
  assert.deepEqual(back.dataOut, reply);
  assert.deepEqual(traces(back.events), [[TO_LXC, POD_A.id, POD_A.id, REPLY]]);
  const row = ctEntry(n.ct(), '172.18.0.100', POD_A.ip, OUT);
  assert.equal(row.entry.rx_packets, 1n);
  assert.equal(n.ct().length, 1, 'the reply made no entry of its own');
  assert.equal(n.metrics().get(`${FORWARDED}/${INGRESS}`)?.count, 1n);
});

test('the gateway address itself goes to the stack', (t) => {
  const n = node(t);
  const gw = n.run('bl_from_container', fromPod(POD_A, NODE.router, 1, icmpEcho(8, 7)));
  assert.equal(gw.retval, TC_ACT_OK);
  assert.deepEqual(traces(gw.events).map((x) => x[0]), [FROM_LXC, TO_STACK]);
});

test('IPv6 and non-IP ethertypes from a pod are dropped as Unsupported L3 protocol (139), counted; ARP still answered', (t) => {
  const n = node(t);
  const v6 = Buffer.concat([ethernet(0x86dd, POD_A.mac, '33:33:00:00:00:16'), Buffer.alloc(40)]);
  v6[14] = 0x60;
  // A non-IP ethertype the stack would take: an LLDP frame, and a made-up one.
  const lldp = Buffer.concat([ethernet(0x88cc, POD_A.mac, '01:80:c2:00:00:0e'), Buffer.alloc(46)]);
  const other = Buffer.concat([ethernet(0x1234, POD_A.mac, POD_A.nodeMac), Buffer.alloc(46)]);
  for (const [what, frame] of [['IPv6', v6], ['LLDP', lldp], ['ethertype 0x1234', other]] as const) {
    const out = n.run('bl_from_container', frame);
    assert.equal(out.retval, TC_ACT_SHOT, `${what}: dropped`);
    assert.deepEqual(out.events.map((e) => (e.type === 'drop' ? e.reason : -1)), [BlDropReason.BL_DROP_UNKNOWN_L3], `${what}: one drop event, reason 139`);
  }
  assert.equal(n.metrics().get(`${BlDropReason.BL_DROP_UNKNOWN_L3}/${EGRESS}`)?.count, 3n, 'the three drops are counted in egress');
  assert.equal(n.metrics().get(`${FORWARDED}/${EGRESS}`), undefined, 'nothing forwarded');
  // ARP keeps working: the gateway request is still answered.
  const arp = n.run('bl_from_container', arpPacket({ senderMac: POD_A.mac, senderIp: POD_A.ip, targetIp: NODE.router }));
  assert.equal(arp.retval, TC_ACT_REDIRECT);
  assert.equal(parseArpFrame(arp.dataOut).op, 2);
});

test('node → pod through bl_to_container: conntracked as the pod ingress, TO_LXC', (t) => {
  const n = node(t);
  const ping = ipv4Frame({ src: NODE.ip, dst: POD_B.ip, proto: 1, payload: icmpEcho(8, 99), ethDst: POD_B.mac, ethSrc: POD_B.nodeMac });
  const out = n.run('bl_to_container', ping);
  assert.equal(out.retval, TC_ACT_OK);
  assert.deepEqual(traces(out.events), [[TO_LXC, POD_B.id, POD_B.id, NEW]]);
  const row = ctEntry(n.ct(), POD_B.ip, NODE.ip, IN);
  assertLifetime(row, BlCtTimeouts.BL_CT_LIFETIME_NONTCP, 'ICMP in');
  // The pod's answer leaves through bl_from_container and matches it as a reply.
  const pong = n.run('bl_from_container', fromPod(POD_B, NODE.ip, 1, icmpEcho(0, 99)));
  assert.equal(pong.retval, TC_ACT_OK);
  assert.deepEqual(traces(pong.events), [
    [FROM_LXC, POD_B.id, 0, REPLY],
    [TO_STACK, POD_B.id, 0, REPLY],
  ]);
});

// ---------------------------------------------------------------------------
// From the tunnel and the uplink

test('bl_from_overlay → a local pod: MACs rewritten, redirected; an unknown local address is dropped', (t) => {
  const n = node(t);
  // As decapsulated: the inner frame still carries the sending node's MACs.
  const pkt = ipv4Frame({ src: '10.0.2.5', dst: POD_B.ip, proto: 6, payload: tcp(TCP_SYN, 33000, 8080, '10.0.2.5', POD_B.ip), ethSrc: '02:cc:00:00:00:01', ethDst: '02:cc:00:00:00:02' });
  const out = n.run('bl_from_overlay', pkt);
  assert.equal(out.retval, TC_ACT_REDIRECT);
  const ip = parseIpv4Frame(out.dataOut);
  assert.deepEqual([ip.ethDst, ip.ethSrc, ip.ttl, ip.checksumOk], [POD_B.mac, POD_B.nodeMac, 63, true]);
  assertOnlyHopRewritten(out.dataOut, pkt);
  assert.deepEqual(traces(out.events), [
    [FROM_OVERLAY, NODE.hostEndpointId, POD_B.id, NEW],
    [TO_LXC, POD_B.id, POD_B.id, NEW],
  ]);
  assertLifetime(ctEntry(n.ct(), POD_B.ip, '10.0.2.5', IN), BlCtTimeouts.BL_CT_SYN_TIMEOUT, 'from the tunnel');
  assert.deepEqual([...n.metrics()], [[`${FORWARDED}/${INGRESS}`, { count: 1n, bytes: BigInt(pkt.length) }]]);

  // B answers: leaving B, the reply matches B's ingress entry and goes back through the tunnel.
  const reply = n.run('bl_from_container', tcpFromPod(POD_B, '10.0.2.5', TCP_SYN_ACK, 8080, 33000));
  assert.equal(reply.retval, TC_ACT_REDIRECT);
  assert.deepEqual(traces(reply.events), [
    [FROM_LXC, POD_B.id, 0, REPLY],
    [TO_OVERLAY, POD_B.id, 0, REPLY],
  ]);

  const stray = ipv4Frame({ src: '10.0.2.5', dst: '10.0.1.99', proto: 17, payload: udp(1, 2, '10.0.2.5', '10.0.1.99') });
  const dropped = n.run('bl_from_overlay', stray);
  assert.equal(dropped.retval, TC_ACT_SHOT);
  const ev = dropped.events[0]!;
  assert.ok(ev.type === 'drop');
  assert.deepEqual([ev.reason, ev.file, ev.source], [UNROUTABLE, BlSourceFile.BL_FILE_OVERLAY, NODE.hostEndpointId]);
  assert.equal(n.metrics().get(`${UNROUTABLE}/${INGRESS}`)?.count, 1n);
});

test('bl_to_overlay only counts: the TO_OVERLAY trace came from bl_from_container', (t) => {
  const n = node(t);
  const pkt = tcpFromPod(POD_A, '10.0.2.5', TCP_SYN, 40000, 80);
  const out = n.run('bl_to_overlay', pkt);
  assert.equal(out.retval, TC_ACT_OK);
  assert.deepEqual(out.dataOut, pkt);
  assert.deepEqual(traces(out.events), []);
  assert.deepEqual([...n.metrics()], [[`${FORWARDED}/${EGRESS}`, { count: 1n, bytes: BigInt(pkt.length) }]]);
});

test('bl_from_netdev in native mode delivers to a local pod; in tunnel mode it passes to the stack', (t) => {
  const pkt = ipv4Frame({ src: '10.0.2.5', dst: POD_A.ip, proto: 6, payload: tcp(TCP_SYN, 33000, 80, '10.0.2.5', POD_A.ip), ethSrc: '02:dd:00:00:00:12', ethDst: '02:dd:00:00:00:11' });

  const native = node(t, { config: { routing_mode: BlRoutingMode.BL_ROUTING_NATIVE, tunnel_ifindex: 0 } });
  const out = native.run('bl_from_netdev', pkt);
  assert.equal(out.retval, TC_ACT_REDIRECT);
  const ip = parseIpv4Frame(out.dataOut);
  assert.deepEqual([ip.ethDst, ip.ethSrc, ip.ttl, ip.checksumOk], [POD_A.mac, POD_A.nodeMac, 63, true]);
  assert.deepEqual(traces(out.events), [
    [FROM_NETWORK, NODE.hostEndpointId, POD_A.id, NEW],
    [TO_LXC, POD_A.id, POD_A.id, NEW],
  ]);
  ctEntry(native.ct(), POD_A.ip, '10.0.2.5', IN);
  assert.deepEqual([...native.metrics()], [[`${FORWARDED}/${INGRESS}`, { count: 1n, bytes: BigInt(pkt.length) }]]);
  // Not a local pod: the stack, as before.
  const other = ipv4Frame({ src: '10.0.2.5', dst: NODE.ip, proto: 6, payload: tcp(TCP_SYN) });
  const passed = native.run('bl_from_netdev', other);
  assert.equal(passed.retval, TC_ACT_OK);
  assert.deepEqual(traces(passed.events), [[FROM_NETWORK, NODE.hostEndpointId, 0, UNKNOWN]]);

  const tunnel = node(t);
  const viaStack = tunnel.run('bl_from_netdev', pkt);
  assert.equal(viaStack.retval, TC_ACT_OK);
  assert.deepEqual(viaStack.dataOut, pkt);
  assert.deepEqual(tunnel.ct(), []);
  // And the egress program never delivers.
  assert.equal(native.run('bl_to_netdev', pkt).retval, TC_ACT_OK);
});

test('bl_to_netdev in tunnel mode: the node\'s own packet to a remote pod goes into the tunnel (TO_OVERLAY); a forwarded one and one to a node pass', (t) => {
  const n = node(t);
  const own = ipv4Frame({ src: NODE.ip, dst: '10.0.2.5', proto: 6, payload: tcp(TCP_SYN, 41000, 8080, NODE.ip, '10.0.2.5') });
  const out = n.run('bl_to_netdev', own);
  assert.equal(out.retval, TC_ACT_REDIRECT, 'redirected to the tunnel device');
  assert.deepEqual(out.dataOut, own, 'the inner packet is not rewritten');
  assert.deepEqual(traces(out.events).map((e) => e[0]), [TO_OVERLAY]);
  assert.deepEqual([...n.metrics()], [[`${FORWARDED}/${EGRESS}`, { count: 1n, bytes: BigInt(own.length) }]]);
  // Forwarded by the node (it came in on an interface): its path is the route's, untouched.
  const skb = new Uint8Array(SK_BUFF_SIZE);
  new DataView(skb.buffer).setUint32(SKB_INGRESS_IFINDEX, POD_A.ifindex, true);
  const forwarded = n.run('bl_to_netdev', own, skb);
  assert.equal(forwarded.retval, TC_ACT_OK);
  // A node address has no tunnel endpoint: the tunnel's own outer packets and node-to-node traffic pass.
  const toNode = ipv4Frame({ src: NODE.ip, dst: '172.18.0.12', proto: 17, payload: udp(40000, 8472, NODE.ip, '172.18.0.12') });
  assert.equal(n.run('bl_to_netdev', toNode).retval, TC_ACT_OK);
  // Native routing never tunnels.
  const native = node(t, { config: { routing_mode: BlRoutingMode.BL_ROUTING_NATIVE, tunnel_ifindex: 0 } });
  assert.equal(native.run('bl_to_netdev', own).retval, TC_ACT_OK);
});

// ---------------------------------------------------------------------------
// Trace aggregation

/** The number of events each packet of a short pod-to-pod TCP exchange produced. */
function eventsPerPacket(aggregation: number): Record<string, number> {
  const n = PodNode.open({ config: { trace_aggregation: aggregation } });
  try {
    const aToB = (flags: number) => n.run('bl_from_container', tcpFromPod(POD_A, POD_B.ip, flags, 40000, 8080)).events.length;
    const bToA = (flags: number) => n.run('bl_from_container', tcpFromPod(POD_B, POD_A.ip, flags, 8080, 40000)).events.length;
    return {
      syn: aToB(TCP_SYN),
      synAck: bToA(TCP_SYN_ACK),
      ack: aToB(TCP_ACK),
      ack2: aToB(TCP_ACK),
      replyAck: bToA(TCP_ACK),
      replyAck2: bToA(TCP_ACK),
      fin: aToB(TCP_FIN_ACK),
    };
  } finally {
    n.close();
  }
}

test('trace aggregation: NONE traces every packet, LOW new TCP flags, MEDIUM only SYN/FIN/RST changes', () => {
  // Two events per packet when traced: FROM_LXC (A's or B's egress entry) and TO_LXC (the receiver's ingress entry).
  assert.deepEqual(eventsPerPacket(BlTraceAggregation.BL_TRACE_AGG_NONE), { syn: 2, synAck: 2, ack: 2, ack2: 2, replyAck: 2, replyAck2: 2, fin: 2 });
  assert.deepEqual(
    eventsPerPacket(BlTraceAggregation.BL_TRACE_AGG_LOW),
    { syn: 2, synAck: 2, ack: 2, ack2: 0, replyAck: 0, replyAck2: 0, fin: 2 },
    'LOW: the first ACK adds a flag; the reply direction already saw ACK in the SYN-ACK',
  );
  assert.deepEqual(
    eventsPerPacket(BlTraceAggregation.BL_TRACE_AGG_MEDIUM),
    { syn: 2, synAck: 2, ack: 0, ack2: 0, replyAck: 0, replyAck2: 0, fin: 2 },
    'MEDIUM: the second identical ACK of an established flow is not traced, nor the first',
  );
});

test('trace aggregation never hides a drop', (t) => {
  const n = node(t, { config: { trace_aggregation: BlTraceAggregation.BL_TRACE_AGG_MAXIMUM } });
  for (let i = 0; i < 3; i++) {
    const out = n.run('bl_from_container', tcpFromPod(POD_A, '10.0.1.99', TCP_ACK, 40000, 80));
    assert.deepEqual(out.events.map((e) => e.type), ['drop']);
  }
});

test('a pod with a security identity: it is reported as the source identity', (t) => {
  const n = node(t, { pods: [{ ...POD_A, identity: 4242 }, POD_B] });
  const out = n.run('bl_from_container', tcpFromPod(POD_A, '10.0.2.5', TCP_SYN, 40000, 80));
  assert.equal(out.retval, TC_ACT_REDIRECT);
  assert.deepEqual(out.events.map((e) => (e.type === 'trace' ? e.srcIdentity : -1)), [4242, 4242]);
  assert.equal(macStr(Buffer.from(n.lxcMap().get({ ip4: ip4Num(POD_A.ip) })!.mac)), POD_A.mac);
});

// ---------------------------------------------------------------------------
// Fuzz

test('fuzz: random IPv4 and ARP frames from a pod get a verdict, are counted once, and every drop is reported', (t) => {
  const n = node(t);
  // A seeded generator (xorshift32), so a failure can be replayed.
  let seed = 0x9e3779b9;
  const rnd = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  const RUNS = 400;
  let shot = 0;
  let drops = 0;
  for (let i = 0; i < RUNS; i++) {
    const arp = rnd() < 0.25;
    // The kernel's test run wants a whole IPv4 header behind an IPv4 ethertype.
    const len = (arp ? 14 : 34) + Math.floor(rnd() * 80);
    const pkt = Buffer.alloc(len);
    for (let j = 0; j < len; j++) pkt[j] = Math.floor(rnd() * 256);
    pkt.writeUInt16BE(arp ? 0x0806 : 0x0800, 12);
    if (!arp) {
      pkt[14] = rnd() < 0.8 ? 0x45 : pkt[14]!; // mostly well-formed, sometimes not
      if (rnd() < 0.7) pkt.writeUInt32BE(ip4Num(POD_A.ip), 26); // mostly from the pod itself
      if (rnd() < 0.5) pkt.writeUInt32BE(ip4Num(rnd() < 0.5 ? POD_B.ip : '10.0.1.99'), 30);
      if (rnd() < 0.5) pkt[23] = [1, 6, 17][Math.floor(rnd() * 3)]!;
    }
    const out = n.run('bl_from_container', pkt);
    assert.ok([TC_ACT_OK, TC_ACT_SHOT, TC_ACT_REDIRECT].includes(out.retval), `run ${i}: verdict ${out.retval}`);
    if (out.retval === TC_ACT_SHOT) shot++;
    drops += out.events.filter((e) => e.type === 'drop').length;
  }
  let counted = 0n;
  for (const v of n.metrics().values()) counted += v.count;
  assert.equal(counted, BigInt(RUNS), 'every packet counted exactly once');
  assert.equal(drops, shot, 'one drop event per dropped packet');
  t.diagnostic(`${shot} of ${RUNS} dropped`);
});

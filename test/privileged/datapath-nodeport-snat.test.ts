/**
 * Packet fixtures for NodePort SNAT (bpf/host.bpf.c nodeport_ingress,
 * bpf/include/lib/nodeport_snat.h), katran style: a NodePort frontend on the
 * node whose only backend lives on the other node (10.0.2.5, in the remote
 * pod CIDR, tunnel mode), SYNs from the world through bl_from_netdev, the
 * backend's replies back through it. The test checks the output bytes, the
 * two NAT maps and the drops. Each test loads a fresh node
 * (datapath-pod-support.ts) on a private bpffs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BL_LB4_BACKEND_CODEC,
  BL_LB4_KEY_CODEC,
  BL_LB4_NODEPORT_NAT_CODEC,
  BL_LB4_NODEPORT_NAT_KEY_CODEC,
  BL_LB4_NODEPORT_SNAT_CODEC,
  BL_LB4_NODEPORT_SNAT_KEY_CODEC,
  BL_LB4_REVERSE_NAT_CODEC,
  BL_LB4_SERVICE_CODEC,
  BlDirection,
  BlDropReason,
  BlLbBackendState,
  BlLbFlags,
  BlNodeportSnat,
  U16_CODEC,
  U32_CODEC,
} from '../../src/datapath/generated/abi.js';
import { inetChecksum, ip4Num, ip4Str, ipv4Frame, parseIpv4Frame, tcp, udp } from './datapath-support.js';
import { NODE, PodNode, TCP_ACK, TCP_SYN, TCP_SYN_ACK, TC_ACT_OK, TC_ACT_REDIRECT, TC_ACT_SHOT } from './datapath-pod-support.js';

const TCP = 6;
const UDP = 17;
const NODE_PORT = 30080;
const BACKEND = { id: 1, ip: '10.0.2.5', port: 8080 };
const REV_NAT = 5;
const CLIENT_A = '192.0.2.10';
const CLIENT_B = '192.0.2.20';
const CLIENT_PORT = 40000;
const { BL_NODEPORT_SNAT_PORT_MIN: PORT_MIN, BL_NODEPORT_SNAT_PORT_MAX: PORT_MAX } = BlNodeportSnat;

/** A node with the NodePort frontend NODE.ip:30080/proto → 10.0.2.5:8080, closed after the test. */
function nodeWithService(t: { after: (fn: () => void) => void }, protos: readonly number[] = [TCP]): PodNode {
  const n = PodNode.open();
  t.after(() => n.close());
  const host = n.dps.host;
  const services = host.map('bl_lb4_services', BL_LB4_KEY_CODEC, BL_LB4_SERVICE_CODEC);
  protos.forEach((proto, i) => {
    const id = BACKEND.id + i;
    host.map('bl_lb4_backends', U32_CODEC, BL_LB4_BACKEND_CODEC).set(id, { address: ip4Num(BACKEND.ip), port: BACKEND.port, proto, flags: BlLbBackendState.BL_LB_BACKEND_ACTIVE });
    const key = { address: ip4Num(NODE.ip), dport: NODE_PORT, proto };
    services.set({ ...key, backend_slot: 1 }, { backend_id: id, count: 0, qcount: 0, rev_nat_index: REV_NAT, flags: 0, affinity_timeout: 0 });
    services.set({ ...key, backend_slot: 0 }, { backend_id: 0, count: 1, qcount: 0, rev_nat_index: REV_NAT, flags: BlLbFlags.BL_LB_F_NODEPORT, affinity_timeout: 0 });
  });
  host.map('bl_lb4_reverse_nat', U16_CODEC, BL_LB4_REVERSE_NAT_CODEC).set(REV_NAT, { address: ip4Num(NODE.ip), port: NODE_PORT });
  return n;
}

function reverseMap(n: PodNode) {
  return n.dps.host.map('bl_lb4_nodeport_nat', BL_LB4_NODEPORT_NAT_KEY_CODEC, BL_LB4_NODEPORT_NAT_CODEC);
}

function forwardMap(n: PodNode) {
  return n.dps.host.map('bl_lb4_nodeport_snat', BL_LB4_NODEPORT_SNAT_KEY_CODEC, BL_LB4_NODEPORT_SNAT_CODEC);
}

/** A TCP segment between two addresses, as it arrives from the network. */
function segment(src: string, dst: string, flags: number, sport: number, dport: number): Buffer {
  return ipv4Frame({ src, dst, proto: TCP, payload: tcp(flags, sport, dport, src, dst), ethSrc: '02:dd:00:00:00:01', ethDst: '02:dd:00:00:00:11' });
}

interface L4View {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  /** IPv4 header checksum and the L4 checksum (over its pseudo-header) both verify. */
  checksumsOk: boolean;
}

/** Addresses, ports and checksum validity of a TCP or UDP frame. */
function l4(frame: Buffer): L4View {
  const ip = parseIpv4Frame(frame);
  const ihl = (frame[14]! & 0x0f) * 4;
  const seg = frame.subarray(14 + ihl, 14 + frame.readUInt16BE(16));
  const pseudo = Buffer.alloc(12);
  pseudo.writeUInt32BE(ip4Num(ip.src), 0);
  pseudo.writeUInt32BE(ip4Num(ip.dst), 4);
  pseudo[9] = ip.proto;
  pseudo.writeUInt16BE(seg.length, 10);
  const l4Ok = inetChecksum(Buffer.concat([pseudo, seg])) === 0;
  return { src: ip.src, dst: ip.dst, sport: seg.readUInt16BE(0), dport: seg.readUInt16BE(2), checksumsOk: ip.checksumOk && l4Ok };
}

/** A packet from the world to the NodePort: SNATed and sent through the tunnel to the backend's node. */
function forward(n: PodNode, client: string, flags: number, sport = CLIENT_PORT): L4View {
  const out = n.run('bl_from_netdev', segment(client, NODE.ip, flags, sport, NODE_PORT));
  assert.equal(out.retval, TC_ACT_REDIRECT, `${client}:${sport} → NodePort: redirected to the tunnel`);
  const v = l4(out.dataOut);
  assert.deepEqual([v.src, v.dst, v.dport, v.checksumsOk], [NODE.ip, BACKEND.ip, BACKEND.port, true], `${client}:${sport}: SNAT to the node, DNAT to the backend`);
  return v;
}

/** The backend's reply to the node's port natPort, translated back: returns what leaves. */
function reply(n: PodNode, natPort: number, flags = TCP_SYN_ACK): L4View {
  const out = n.run('bl_from_netdev', segment(BACKEND.ip, NODE.ip, flags, BACKEND.port, natPort));
  // The FIB of the test's network namespace decides between the stack and a redirect; the translation is the same.
  assert.ok(out.retval === TC_ACT_OK || out.retval === TC_ACT_REDIRECT, `reply verdict ${out.retval}`);
  const v = l4(out.dataOut);
  assert.equal(v.checksumsOk, true, 'checksums of the translated reply');
  return v;
}

test('two clients with the same source port to a remote backend get different SNAT ports; replies go back to each', (t) => {
  const n = nodeWithService(t);

  const a = forward(n, CLIENT_A, TCP_SYN);
  assert.equal(a.sport, CLIENT_PORT, 'the first connection keeps the client port');
  const b = forward(n, CLIENT_B, TCP_SYN);
  assert.notEqual(b.sport, CLIENT_PORT, 'the second client cannot have the same (backend, port)');
  assert.ok(b.sport >= PORT_MIN && b.sport <= PORT_MAX, `allocated port ${b.sport} in ${PORT_MIN}-${PORT_MAX}`);

  // The reverse map holds both connections, each with its own client.
  const rev = reverseMap(n)
    .snapshot()
    .map(([k, v]) => [ip4Str(k.backend), k.backend_port, k.nat_port, k.proto, ip4Str(v.client), v.client_port, v.rev_nat_index])
    .sort((x, y) => Number(x[2]) - Number(y[2]));
  assert.deepEqual(
    rev,
    [
      [BACKEND.ip, BACKEND.port, CLIENT_PORT, TCP, CLIENT_A, CLIENT_PORT, REV_NAT],
      [BACKEND.ip, BACKEND.port, b.sport, TCP, CLIENT_B, CLIENT_PORT, REV_NAT],
    ].sort((x, y) => Number(x[2]) - Number(y[2])),
  );
  const fwd = forwardMap(n)
    .snapshot()
    .map(([k, v]) => [ip4Str(k.client), k.client_port, ip4Str(k.backend), k.backend_port, k.proto, v.nat_port])
    .sort();
  assert.deepEqual(fwd, [
    [CLIENT_A, CLIENT_PORT, BACKEND.ip, BACKEND.port, TCP, CLIENT_PORT],
    [CLIENT_B, CLIENT_PORT, BACKEND.ip, BACKEND.port, TCP, b.sport],
  ]);

  // Later packets of each connection reuse its port.
  assert.equal(forward(n, CLIENT_A, TCP_ACK).sport, CLIENT_PORT);
  assert.equal(forward(n, CLIENT_B, TCP_ACK).sport, b.sport);
  assert.equal(forward(n, CLIENT_B, TCP_ACK).sport, b.sport);
  assert.equal(reverseMap(n).snapshot().length, 2, 'no entry added by later packets');

  // Replies: each back to its own client address and port, from the frontend.
  const ra = reply(n, CLIENT_PORT);
  assert.deepEqual([ra.src, ra.sport, ra.dst, ra.dport], [NODE.ip, NODE_PORT, CLIENT_A, CLIENT_PORT]);
  const rb = reply(n, b.sport);
  assert.deepEqual([rb.src, rb.sport, rb.dst, rb.dport], [NODE.ip, NODE_PORT, CLIENT_B, CLIENT_PORT]);
});

test('a third client on the same port gets yet another port; another client port is kept', (t) => {
  const n = nodeWithService(t);
  const ports = [CLIENT_A, CLIENT_B, '192.0.2.30'].map((c) => forward(n, c, TCP_SYN).sport);
  assert.equal(new Set(ports).size, 3, `three distinct ports: ${ports.join(', ')}`);
  assert.equal(forward(n, '192.0.2.40', TCP_SYN, 40001).sport, 40001, 'a free client port is kept');
  for (const [i, c] of [CLIENT_A, CLIENT_B, '192.0.2.30'].entries()) {
    const r = reply(n, ports[i]!);
    assert.deepEqual([r.dst, r.dport], [c, CLIENT_PORT]);
  }
});

test('UDP: the same allocation, keyed by protocol', (t) => {
  const n = nodeWithService(t, [TCP, UDP]);
  const dgram = (src: string) => ipv4Frame({ src, dst: NODE.ip, proto: UDP, payload: udp(CLIENT_PORT, NODE_PORT, src, NODE.ip) });
  // A TCP connection from A holds (backend, 40000, TCP); UDP from A still keeps its port.
  forward(n, CLIENT_A, TCP_SYN);
  const ua = l4(n.run('bl_from_netdev', dgram(CLIENT_A)).dataOut);
  const ub = l4(n.run('bl_from_netdev', dgram(CLIENT_B)).dataOut);
  assert.deepEqual([ua.src, ua.dst, ua.sport, ua.checksumsOk], [NODE.ip, BACKEND.ip, CLIENT_PORT, true]);
  assert.deepEqual([ub.src, ub.dst, ub.checksumsOk], [NODE.ip, BACKEND.ip, true]);
  assert.ok(ub.sport >= PORT_MIN && ub.sport <= PORT_MAX && ub.sport !== CLIENT_PORT, `UDP port ${ub.sport}`);
  const out = n.run('bl_from_netdev', ipv4Frame({ src: BACKEND.ip, dst: NODE.ip, proto: UDP, payload: udp(BACKEND.port, ub.sport, BACKEND.ip, NODE.ip) }));
  const r = l4(out.dataOut);
  assert.deepEqual([r.src, r.sport, r.dst, r.dport, r.checksumsOk], [NODE.ip, NODE_PORT, CLIENT_B, CLIENT_PORT, true]);
});

test('an evicted reverse entry is re-created by the next packet, with the same port', (t) => {
  const n = nodeWithService(t);
  forward(n, CLIENT_A, TCP_SYN);
  const b = forward(n, CLIENT_B, TCP_SYN);
  const key = { backend: ip4Num(BACKEND.ip), backend_port: BACKEND.port, nat_port: b.sport, proto: TCP };
  assert.equal(reverseMap(n).delete(key), true);
  assert.equal(forward(n, CLIENT_B, TCP_ACK).sport, b.sport);
  assert.deepEqual(reverseMap(n).get(key), { client: ip4Num(CLIENT_B), client_port: CLIENT_PORT, rev_nat_index: REV_NAT });
});

test('every port taken towards the backend: dropped with 167 (NAT no mapping), nothing recorded', (t) => {
  const n = nodeWithService(t);
  forward(n, CLIENT_A, TCP_SYN); // holds 40000 itself
  // Someone else holds every port of the SNAT range towards this backend.
  const rev = reverseMap(n);
  for (let p: number = PORT_MIN; p <= PORT_MAX; p++) {
    if (p === CLIENT_PORT) continue;
    rev.set({ backend: ip4Num(BACKEND.ip), backend_port: BACKEND.port, nat_port: p, proto: TCP }, { client: ip4Num('198.51.100.1'), client_port: p, rev_nat_index: REV_NAT });
  }
  const before = rev.snapshot().length;
  const pkt = segment(CLIENT_B, NODE.ip, TCP_SYN, CLIENT_PORT, NODE_PORT);
  const out = n.run('bl_from_netdev', pkt);
  assert.equal(out.retval, TC_ACT_SHOT);
  const drops = out.events.filter((e) => e.type === 'drop');
  assert.deepEqual(drops.map((e) => e.reason), [BlDropReason.BL_DROP_NAT_NO_MAPPING]);
  assert.equal(n.metrics().get(`${BlDropReason.BL_DROP_NAT_NO_MAPPING}/${BlDirection.BL_DIR_INGRESS}`)?.count, 1n);
  assert.equal(rev.snapshot().length, before, 'no reverse entry claimed');
  assert.equal(forwardMap(n).snapshot().length, 1, 'only the first connection has a forward entry');
  // The first connection is unaffected.
  assert.equal(forward(n, CLIENT_A, TCP_ACK).sport, CLIENT_PORT);
});

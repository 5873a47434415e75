/**
 * Packet fixtures for a Service frontend without backends at the packet-level
 * load balancer (lib/icmp.h): a pod's packet to such a ClusterIP
 * (bl_from_container) and a packet from the network to such a NodePort
 * (bl_from_netdev) are refused with an ICMP Destination Unreachable / Port
 * Unreachable sent back out of the device they came in on, so the client's
 * connect() fails at once with ECONNREFUSED. The packet still counts and is
 * reported as a BL_DROP_NO_SERVICE drop, with its original bytes. Packets the
 * datapath must not answer (IP options, fragments) stay plain drops. A
 * frontend with a backend is translated, and its Service conntrack entry lives
 * as long as the connection does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BL_LB4_BACKEND_CODEC,
  BL_LB4_KEY_CODEC,
  BL_LB4_SERVICE_CODEC,
  BlDirection,
  BlDropReason,
  BlForwardReason,
  BlCtTimeouts,
  BlCtTupleFlags,
  BlLbFlags,
  BlSourceFile,
  U32_CODEC,
} from '../../src/datapath/generated/abi.js';
import { inetChecksum, ip4Num, ip4Str, ipv4Frame, macStr, tcp, udp } from './datapath-support.js';
import { NODE, POD_A, PodNode, TCP_ACK, TCP_FIN_ACK, TCP_SYN, TC_ACT_REDIRECT, TC_ACT_SHOT, fromPod, monotonicSeconds, tcpFromPod, type RunOutcome } from './datapath-pod-support.js';

const NO_SERVICE = BlDropReason.BL_DROP_NO_SERVICE;
const EGRESS = BlDirection.BL_DIR_EGRESS;
const INGRESS = BlDirection.BL_DIR_INGRESS;
const FORWARDED = BlForwardReason.BL_REASON_FORWARDED;
const CLUSTER_IP = '10.96.0.10';
const NODE_PORT = 30080;
const WORLD = { ip: '172.18.0.100', mac: '02:cc:00:00:00:64' };
const UPLINK_MAC = '02:cc:00:00:00:0b';

/**
 * Writes a frontend's master entry and its backend slots into bl_lb4_services
 * (abi/lb.h), as the agent does: slots first, then the master.
 */
function frontend(n: PodNode, f: { id: number; address: string; port: number; proto: 6 | 17; flags?: number; backends?: number[] }): void {
  const services = n.dps.lxc.map('bl_lb4_services', BL_LB4_KEY_CODEC, BL_LB4_SERVICE_CODEC);
  const key = (slot: number) => ({ address: ip4Num(f.address), dport: f.port, backend_slot: slot, proto: f.proto });
  const backends = f.backends ?? [];
  backends.forEach((id, i) => services.set(key(i + 1), { backend_id: id, count: 0, qcount: 0, rev_nat_index: f.id, flags: 0, affinity_timeout: 0 }));
  services.set(key(0), { backend_id: 0, count: backends.length, qcount: 0, rev_nat_index: f.id, flags: f.flags ?? 0, affinity_timeout: 0 });
}

/** A fresh node with frontends that have no backend: a ClusterIP (TCP 80, UDP 53) and a NodePort on the node's address. */
function node(t: { after: (fn: () => void) => void }): PodNode {
  const n = PodNode.open();
  t.after(() => n.close());
  frontend(n, { id: 5, address: CLUSTER_IP, port: 80, proto: 6 });
  frontend(n, { id: 6, address: CLUSTER_IP, port: 53, proto: 17 });
  frontend(n, { id: 7, address: NODE.ip, port: NODE_PORT, proto: 6, flags: BlLbFlags.BL_LB_F_NODEPORT });
  return n;
}

/**
 * Asserts that `out` is an ICMP port unreachable answering `input`: Ethernet
 * addresses swapped, IPv4 from `from` to the input's source (TTL 64, ICMP,
 * valid checksum, no options), type 3 code 3 with a valid checksum, quoting
 * the input's IPv4 header and first 8 bytes of its L4 header verbatim.
 */
function assertPortUnreachable(out: Buffer, input: Buffer, from: string): void {
  assert.equal(out.length, 14 + 20 + 8 + 20 + 8, `Ethernet + IPv4 + ICMP + quoted header + 8 bytes: ${out.toString('hex')}`);
  assert.equal(macStr(out.subarray(0, 6)), macStr(input.subarray(6, 12)), 'to the MAC the packet came from');
  assert.equal(macStr(out.subarray(6, 12)), macStr(input.subarray(0, 6)), 'from the MAC it was sent to');
  assert.equal(out.readUInt16BE(12), 0x0800);

  const ip = out.subarray(14, 34);
  assert.equal(ip[0], 0x45, 'IPv4, no options');
  assert.equal(ip.readUInt16BE(2), 56, 'total length');
  assert.equal(ip.readUInt16BE(6) & 0x3fff, 0, 'not a fragment');
  assert.equal(ip[8], 64, 'TTL 64');
  assert.equal(ip[9], 1, 'ICMP');
  assert.equal(ip4Str(ip.readUInt32BE(12)), from, 'from the frontend the client asked for');
  assert.equal(ip4Str(ip.readUInt32BE(16)), ip4Str(input.readUInt32BE(14 + 12)), 'to the client');
  assert.equal(inetChecksum(ip), 0, `IPv4 header checksum verifies: ${ip.toString('hex')}`);

  const icmp = out.subarray(34);
  assert.equal(icmp[0], 3, 'Destination Unreachable');
  assert.equal(icmp[1], 3, 'Port Unreachable');
  assert.equal(icmp.readUInt32BE(4), 0, 'unused field is zero');
  assert.equal(inetChecksum(icmp), 0, `ICMP checksum verifies: ${icmp.toString('hex')}`);
  assert.deepEqual(icmp.subarray(8, 28), input.subarray(14, 34), "quotes the original IPv4 header");
  assert.deepEqual(icmp.subarray(28, 36), input.subarray(34, 42), 'and the first 8 bytes of its L4 header (ports)');
}

/** The run's one event: a NO_SERVICE drop from `file` on behalf of `source`, carrying the packet as it arrived. */
function assertNoServiceDrop(out: RunOutcome, input: Buffer, source: number, file: number): void {
  assert.equal(out.events.length, 1, `one event: ${JSON.stringify(out.events.map((e) => [e.type, e.type === 'drop' ? e.reason : e.type === 'trace' ? e.point : e.action]))}`);
  const ev = out.events[0]!;
  assert.equal(ev.type, 'drop');
  if (ev.type !== 'drop') return;
  assert.equal(ev.reason, NO_SERVICE);
  assert.equal(ev.source, source);
  assert.equal(ev.file, file);
  assert.ok(ev.line > 0);
  assert.deepEqual(ev.data, input, 'the drop event shows the refused packet, not the answer');
}

test('a pod\'s TCP SYN to a ClusterIP without backends: ICMP port unreachable back into the pod, reported as a NO_SERVICE drop', (t) => {
  const n = node(t);
  const syn = tcpFromPod(POD_A, CLUSTER_IP, TCP_SYN, 40000, 80);
  const out = n.run('bl_from_container', syn);

  assert.equal(out.retval, TC_ACT_REDIRECT, 'sent back out of the veth it came in on');
  assertPortUnreachable(out.dataOut, syn, CLUSTER_IP);
  assert.equal(macStr(out.dataOut.subarray(0, 6)), POD_A.mac);
  assert.equal(macStr(out.dataOut.subarray(6, 12)), POD_A.nodeMac);
  assert.equal(out.dataOut.readUInt16BE(34 + 28), 40000, 'quoted source port');
  assert.equal(out.dataOut.readUInt16BE(34 + 30), 80, 'quoted destination port');
  assertNoServiceDrop(out, syn, POD_A.id, BlSourceFile.BL_FILE_LXC);

  const m = n.metrics();
  assert.deepEqual(m.get(`${NO_SERVICE}/${EGRESS}`), { count: 1n, bytes: BigInt(syn.length) }, 'counted once, as the drop it is');
  assert.equal(m.get(`${FORWARDED}/${EGRESS}`), undefined, 'and not also as forwarded');
  assert.deepEqual(n.ct(), [], 'no conntrack entry for a refused connection');
});

test('a pod\'s UDP datagram to a ClusterIP without backends: ICMP port unreachable (the short packet grows to hold it)', (t) => {
  const n = node(t);
  const dgram = fromPod(POD_A, CLUSTER_IP, 17, udp(45000, 53, POD_A.ip, CLUSTER_IP, Buffer.from('q')));
  assert.ok(dgram.length < 70, 'shorter than the answer');
  const out = n.run('bl_from_container', dgram);

  assert.equal(out.retval, TC_ACT_REDIRECT);
  assertPortUnreachable(out.dataOut, dgram, CLUSTER_IP);
  assert.deepEqual(out.dataOut.subarray(34 + 28, 34 + 36), dgram.subarray(34, 42), 'the whole UDP header is quoted');
  assertNoServiceDrop(out, dgram, POD_A.id, BlSourceFile.BL_FILE_LXC);
  assert.deepEqual(n.metrics().get(`${NO_SERVICE}/${EGRESS}`), { count: 1n, bytes: BigInt(dgram.length) });
});

test('a longer UDP datagram is trimmed to the answer', (t) => {
  const n = node(t);
  const dgram = fromPod(POD_A, CLUSTER_IP, 17, udp(45001, 53, POD_A.ip, CLUSTER_IP, Buffer.alloc(400, 0x61)));
  const out = n.run('bl_from_container', dgram);
  assert.equal(out.retval, TC_ACT_REDIRECT);
  assertPortUnreachable(out.dataOut, dgram, CLUSTER_IP);
});

test('a SYN from the network to a NodePort without backends: ICMP port unreachable from the node back out of the uplink, never to the stack', (t) => {
  const n = node(t);
  const syn = ipv4Frame({ src: WORLD.ip, dst: NODE.ip, proto: 6, payload: tcp(TCP_SYN, 51000, NODE_PORT, WORLD.ip, NODE.ip), ethSrc: WORLD.mac, ethDst: UPLINK_MAC });
  const out = n.run('bl_from_netdev', syn);

  assert.equal(out.retval, TC_ACT_REDIRECT, 'redirected back out of the uplink (not TC_ACT_OK: the stack never sees it)');
  assertPortUnreachable(out.dataOut, syn, NODE.ip);
  assert.equal(macStr(out.dataOut.subarray(0, 6)), WORLD.mac);
  assertNoServiceDrop(out, syn, NODE.hostEndpointId, BlSourceFile.BL_FILE_HOST);
  const m = n.metrics();
  assert.deepEqual(m.get(`${NO_SERVICE}/${INGRESS}`), { count: 1n, bytes: BigInt(syn.length) });
  assert.equal(m.get(`${FORWARDED}/${INGRESS}`), undefined);
});

/** The packet with its IPv4 flags/fragment-offset field set to `fragOff`, header checksum recomputed. */
function withFragOff(frame: Buffer, fragOff: number): Buffer {
  const b = Buffer.from(frame);
  b.writeUInt16BE(fragOff, 14 + 6);
  b.writeUInt16BE(0, 14 + 10);
  b.writeUInt16BE(inetChecksum(b.subarray(14, 34)), 14 + 10);
  return b;
}

for (const [what, packet] of [
  ['with IP options (ihl 6)', fromPod(POD_A, CLUSTER_IP, 6, tcp(TCP_SYN, 40001, 80, POD_A.ip, CLUSTER_IP), { ihl: 6 })],
  ['the first fragment of a datagram (MF set)', withFragOff(fromPod(POD_A, CLUSTER_IP, 17, udp(45002, 53, POD_A.ip, CLUSTER_IP)), 0x2000)],
] as const) {
  test(`a packet to a frontend without backends ${what} gets no answer: a plain NO_SERVICE drop`, (t) => {
    const n = node(t);
    const out = n.run('bl_from_container', packet);
    assert.equal(out.retval, TC_ACT_SHOT);
    assert.deepEqual(out.dataOut, packet, 'left as it was');
    assertNoServiceDrop(out, packet, POD_A.id, BlSourceFile.BL_FILE_LXC);
  });
}

test('a frontend that has a backend is not refused', (t) => {
  const n = node(t);
  n.dps.lxc.map('bl_lb4_backends', U32_CODEC, BL_LB4_BACKEND_CODEC).set(1, { address: ip4Num('10.0.1.20'), port: 8080, proto: 6, flags: 0 });
  frontend(n, { id: 5, address: CLUSTER_IP, port: 80, proto: 6, backends: [1] });
  const out = n.run('bl_from_container', tcpFromPod(POD_A, CLUSTER_IP, TCP_SYN, 40002, 80));
  assert.equal(out.retval, TC_ACT_REDIRECT, 'delivered to the backend pod');
  assert.equal(ip4Str(out.dataOut.readUInt32BE(14 + 16)), '10.0.1.20');
  assert.equal(out.dataOut[14 + 9], 6, 'still the TCP segment, not an ICMP error');
  assert.equal(out.events.filter((e) => e.type === 'drop').length, 0);
});

test("a translated connection's Service entry: SYN timeout for the SYN, an established connection's lifetime once the client's ACK passes, the close timeout after its FIN", (t) => {
  const n = node(t);
  n.dps.lxc.map('bl_lb4_backends', U32_CODEC, BL_LB4_BACKEND_CODEC).set(1, { address: ip4Num('10.0.1.20'), port: 8080, proto: 6, flags: 0 });
  frontend(n, { id: 5, address: CLUSTER_IP, port: 80, proto: 6, backends: [1] });
  const serviceEntry = () => {
    const rows = n.ct().filter((r) => r.key.flags === BlCtTupleFlags.BL_CT_TUPLE_F_SERVICE && r.daddr === CLUSTER_IP);
    assert.equal(rows.length, 1, `one Service entry: ${JSON.stringify(rows.map((r) => r.key))}`);
    return rows[0]!;
  };
  const expectLifetime = (timeout: number, what: string) => {
    const e = serviceEntry().entry;
    const now = monotonicSeconds();
    assert.ok(Math.abs(e.lifetime - (now + timeout)) <= 1, `${what}: lifetime ${e.lifetime}, expected ≈ ${now} + ${timeout}`);
    assert.equal(e.backend_id, 1, `${what}: still the backend it picked`);
  };

  assert.equal(n.run('bl_from_container', tcpFromPod(POD_A, CLUSTER_IP, TCP_SYN, 40010, 80)).retval, TC_ACT_REDIRECT);
  expectLifetime(BlCtTimeouts.BL_CT_SYN_TIMEOUT, 'after the SYN');
  // The reply never looks the Service entry up (the connection's own entries reverse-NAT it):
  // the client's next segment alone must move it out of the SYN timeout.
  assert.equal(n.run('bl_from_container', tcpFromPod(POD_A, CLUSTER_IP, TCP_ACK, 40010, 80)).retval, TC_ACT_REDIRECT);
  expectLifetime(BlCtTimeouts.BL_CT_LIFETIME_TCP, 'after the ACK');
  assert.equal(n.run('bl_from_container', tcpFromPod(POD_A, CLUSTER_IP, TCP_FIN_ACK, 40010, 80)).retval, TC_ACT_REDIRECT);
  expectLifetime(BlCtTimeouts.BL_CT_CLOSE_TIMEOUT, 'after the FIN');
});

/**
 * Packet fixtures for Maglev backend selection (bpf/include/lib/lb.h
 * lb4_select_backend_id_hash, lib/hash.h), katran style: a NodePort frontend
 * with three backends on the other node, its table written by KernelLb (the
 * agent's writer, src/service/maglev.ts), M set at load to 251. Packets from
 * the world go through bl_from_netdev, pod packets to a ClusterIP through
 * bl_from_container; the backend chosen is read from the DNATed output.
 * Conntrack is emptied between runs, so every run is a fresh choice (a
 * SERVICE conntrack entry would otherwise keep any algorithm's first pick).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BL_LB4_MAGLEV_KEY_CODEC, BlLbFlags, BlLbHash, U32_CODEC } from '../../src/datapath/generated/abi.js';
import { KernelLb } from '../../src/datapath/lb.js';
import type { LbBackendRow, LbFrontendRow } from '../../src/agent/datapath.js';
import { ip4Num, ipv4Frame, parseIpv4Frame, tcp } from './datapath-support.js';
import { NODE, POD_A, PodNode, TCP_SYN, TC_ACT_REDIRECT, tcpFromPod } from './datapath-pod-support.js';

const M = 251;
const TCP = 6;
const NODE_PORT = 30080;
const CLUSTER_IP = '10.96.0.50';
const CLIENT = '192.0.2.10';
const BACKENDS: LbBackendRow[] = ['10.0.2.5', '10.0.2.6', '10.0.2.7'].map((address, i) => ({ id: 11 + i, address, port: 8080, protocol: 'TCP', state: 'active' }));
const maglevKeys = BACKENDS.map((b) => `${b.address}:${b.port}/${b.protocol}`);

function row(id: number, address: string, port: number, flags: number): LbFrontendRow {
  const r: LbFrontendRow = { id, address, port, protocol: 'TCP', flags, affinityTimeout: 0, backends: BACKENDS.map((b) => b.id) };
  if (flags & BlLbFlags.BL_LB_F_MAGLEV) r.maglevKeys = maglevKeys;
  return r;
}

const NODEPORT_MAGLEV = row(5, NODE.ip, NODE_PORT, BlLbFlags.BL_LB_F_NODEPORT | BlLbFlags.BL_LB_F_MAGLEV);
const CLUSTERIP_MAGLEV = row(6, CLUSTER_IP, 80, BlLbFlags.BL_LB_F_MAGLEV);

function node(t: { after: (fn: () => void) => void }, frontends: LbFrontendRow[]): { n: PodNode; lb: KernelLb } {
  const n = PodNode.open({ maglevTableSize: M });
  t.after(() => n.close());
  const lb = new KernelLb(n.dps.host, { maglevTableSize: M });
  lb.apply({ upsertBackends: BACKENDS, upsertFrontends: frontends, deleteFrontends: [], deleteBackends: [] });
  return { n, lb };
}

/** lib/hash.h's bl_jhash_3words, in TypeScript: the test's own model of the datapath's hash. */
function jhash3(a: number, b: number, c: number, seed: number): number {
  const rol = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;
  const iv = (0xdeadbeef + 12 + seed) >>> 0;
  a = (a + iv) >>> 0;
  b = (b + iv) >>> 0;
  c = (c + iv) >>> 0;
  c = ((c ^ b) - rol(b, 14)) >>> 0;
  a = ((a ^ c) - rol(c, 11)) >>> 0;
  b = ((b ^ a) - rol(a, 25)) >>> 0;
  c = ((c ^ b) - rol(b, 16)) >>> 0;
  a = ((a ^ c) - rol(c, 4)) >>> 0;
  b = ((b ^ a) - rol(a, 14)) >>> 0;
  c = ((c ^ b) - rol(b, 24)) >>> 0;
  return c;
}

/**
 * lb4_hash_tuple: the fields as the datapath loads them (network byte order
 * read as a little-endian host's u32/u16). The destination address is not
 * hashed (it is the frontend's); the parameter is there to say so.
 */
function tupleHash(saddr: string, _daddr: string, sport: number, dport: number, proto: number): number {
  const be32 = (ip: string) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(ip4Num(ip));
    return b.readUInt32LE(0);
  };
  const be16 = (p: number) => ((p & 0xff) << 8) | (p >>> 8);
  return jhash3(be32(saddr), ((be16(sport) << 16) | be16(dport)) >>> 0, proto, BlLbHash.BL_LB_HASH_SEED_TUPLE);
}

function clearCt(n: PodNode): void {
  const ct = n.ctMap('host');
  ct.deleteMany([...ct.keys()]);
}

/** A SYN from the world to the NodePort from sport: the backend address it was sent to. */
function viaNodePort(n: PodNode, sport: number): string {
  clearCt(n);
  const syn = ipv4Frame({ src: CLIENT, dst: NODE.ip, proto: TCP, payload: tcp(TCP_SYN, sport, NODE_PORT, CLIENT, NODE.ip), ethSrc: '02:dd:00:00:00:01', ethDst: '02:dd:00:00:00:11' });
  const out = n.run('bl_from_netdev', syn);
  assert.equal(out.retval, TC_ACT_REDIRECT, `sport ${sport}: sent on to the backend's node`);
  return parseIpv4Frame(out.dataOut).dst;
}

/** A SYN from pod A to the ClusterIP from sport: the backend address it was sent to. */
function viaClusterIP(n: PodNode, sport: number): string {
  clearCt(n);
  const out = n.run('bl_from_container', tcpFromPod(POD_A, CLUSTER_IP, TCP_SYN, sport, 80));
  assert.equal(out.retval, TC_ACT_REDIRECT, `sport ${sport}: sent on to the backend's node`);
  return parseIpv4Frame(out.dataOut).dst;
}

const addrOf = (id: number) => BACKENDS.find((b) => b.id === id)?.address;

test('KernelLb writes an M-slot table naming every backend, keyed by the frontend id', (t) => {
  const { lb } = node(t, [NODEPORT_MAGLEV]);
  const table = lb.maglevTable(NODEPORT_MAGLEV.id);
  assert.ok(table, 'a table');
  assert.equal(table.length, M);
  assert.ok(table.every((id) => BACKENDS.some((b) => b.id === id)), 'every slot holds one of the backends');
  assert.equal(new Set(table).size, 3);
});

test('NodePort, Maglev: the backend is table[hash(5-tuple) % M], the same for a tuple every time, and many ports reach all three', (t) => {
  const { n, lb } = node(t, [NODEPORT_MAGLEV]);
  const table = lb.maglevTable(NODEPORT_MAGLEV.id)!;
  const want = (sport: number) => addrOf(table[tupleHash(CLIENT, NODE.ip, sport, NODE_PORT, TCP) % M]!);

  const fixed = 40000;
  for (let i = 0; i < 20; i++) assert.equal(viaNodePort(n, fixed), want(fixed), `run ${i}`);

  const seen = new Set<string>();
  for (let sport = 41000; sport < 41060; sport++) {
    const got = viaNodePort(n, sport);
    assert.equal(got, want(sport), `sport ${sport}`);
    seen.add(got);
  }
  assert.deepEqual([...seen].sort(), BACKENDS.map((b) => b.address).sort(), 'every backend is reached');
});

test('ClusterIP from a pod (no socket LB), Maglev: the same hash and table on the pod path', (t) => {
  const { n, lb } = node(t, [CLUSTERIP_MAGLEV]);
  const table = lb.maglevTable(CLUSTERIP_MAGLEV.id)!;
  for (let sport = 42000; sport < 42030; sport++) {
    const want = addrOf(table[tupleHash(POD_A.ip, CLUSTER_IP, sport, 80, TCP) % M]!);
    assert.equal(viaClusterIP(n, sport), want, `sport ${sport}`);
    assert.equal(viaClusterIP(n, sport), want, `sport ${sport}, again`);
  }
});

test('the same frontend without the flag picks at random: one tuple reaches several backends; its table is deleted', (t) => {
  const { n, lb } = node(t, [NODEPORT_MAGLEV]);
  lb.apply({ upsertBackends: [], upsertFrontends: [row(5, NODE.ip, NODE_PORT, BlLbFlags.BL_LB_F_NODEPORT)], deleteFrontends: [], deleteBackends: [] });
  assert.equal(lb.maglevTable(5), undefined, 'no longer Maglev: the table is gone');
  const seen = new Set<string>();
  for (let i = 0; i < 20; i++) seen.add(viaNodePort(n, 40000));
  assert.ok(seen.size > 1, `20 fresh choices for one tuple reached ${[...seen].join(', ')}`);
});

test('a Maglev slot without an entry falls back to a random backend; deleting the frontend deletes its table', (t) => {
  const { n, lb } = node(t, [NODEPORT_MAGLEV]);
  const maglev = n.dps.host.map('bl_lb4_maglev', BL_LB4_MAGLEV_KEY_CODEC, U32_CODEC);
  const slot = tupleHash(CLIENT, NODE.ip, 40000, NODE_PORT, TCP) % M;
  assert.equal(maglev.delete({ rev_nat_index: NODEPORT_MAGLEV.id, slot }), true);
  const seen = new Set<string>();
  for (let i = 0; i < 20; i++) seen.add(viaNodePort(n, 40000));
  assert.ok(seen.size > 1, `fallback: ${[...seen].join(', ')}`);

  lb.apply({ upsertBackends: [], upsertFrontends: [], deleteFrontends: [NODEPORT_MAGLEV], deleteBackends: [] });
  assert.equal([...maglev.keys()].length, 0, 'no slot left');
});

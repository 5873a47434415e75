/**
 * Per-packet cost of the datapath, measured in the kernel (issue 16, item 1).
 *
 * No lab: the node's objects (lxc, overlay, host) are loaded the way the
 * agent loads them, over a private bpffs (the packet-fixture harness,
 * test/privileged/datapath-pod-support.ts), and every packet goes through
 * BPF_PROG_TEST_RUN once, freshly built, with repeat = 1: the kernel's own
 * `duration` of that one run is the sample. (With repeat > 1 the kernel runs
 * the same skb again after the program rewrote it: a Service SYN is DNATed
 * on the first run only, and every SYN after the first is a packet of an
 * existing connection.) Nothing is attached and no namespace is touched.
 *
 * Nodes, each its own set of maps (one pin directory):
 *   on     the agent's event settings: trace, drop and policy-verdict events,
 *          monitor aggregation medium; 100 ClusterIP Services and a NodePort
 *          Service; endpoints with 0, 3 and 10,003 ingress policy entries
 *   off    the same maps and endpoints with every event off (flags 0)
 *   n10k, n50k, n100k   the agent's event settings, 10,000 / 50,000 / 100,000
 *          ClusterIP Services
 *   small  100 Services again, with the load-balancing maps at the agent's
 *          default size (65,536) instead of room for the largest N
 *   probe  events off; 8 endpoints with the 3-entry policy and 4 with the
 *          10,003-entry one, each measured on its own
 * The load-balancing maps of every node but `small` have the same size (room
 * for the largest N, as --bpf-lb-map-max), conntrack the agent's 65,536.
 * Services: 4 backends each, distinct (address, port) per Service, on 16
 * local backend pods, so a Service's packet ends in local delivery like a pod's
 * packet to another pod, and N Services mean N × 4 backend entries.
 * Services and EndpointSlices go through the agent's translator (LbTranslator,
 * frontendRow) and map writer (KernelLb); past the translator's 65,535
 * frontend ids (rev_nat_index is 16 bits) the rest of N = 100k is written
 * with KernelLb directly, ids reused (nodes[].program.writtenDirectly in
 * the JSON).
 * Policy: entries written with KernelPolicy (the agent's writer): default
 * deny, allow host, allow the client's identity on TCP 8080; the 10k endpoint
 * also allows 10,000 other identities on TCP 8080.
 *
 * Arms (packets per arm per round, interleaved in blocks, order rotated):
 *   floor             bl_perf_empty (bpf/test/perf.bpf.c): the test run's
 *                     own cost; subtracted from every other arm
 *   SYN               a new connection: a new source port per packet, so
 *                     conntrack creates its entries (deleted between rounds)
 *   ACK               a packet of an established connection (a pool of
 *                     connections set up with SYN, SYN-ACK, ACK before the
 *                     rounds), one pool connection per packet in turn; once
 *                     also always the same connection (cache-hot)
 *   ClusterIP         pod → a random Service among N (SYN: a new random pick
 *                     per packet) or always one hot Service
 *   NodePort          world → node IP:30080 through bl_from_netdev
 *   policy            pod → an endpoint that enforces ingress with 3 or
 *                     10,003 entries; ACKs to 8 more endpoints with the 3
 *                     and 4 with the 10,003 entries, reported per endpoint;
 *                     and a micro-benchmark of LPM counter adds, reported
 *                     per entry (bpf/test/perf.bpf.c)
 * Reported per arm: median and p90 of all rounds' samples minus the floor's
 * median, the per-round medians' spread, events per packet, and the
 * difference and ratio against a reference arm of the same run.
 *
 *   node dist/bench/datapath.js [--rounds 5] [--packets 2000] [--block 200]
 *        [--pool 200] [--sizes 100,10000,50000,100000] [--seed 1]
 *        [--out bench/results/datapath.json]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cpus, loadavg, release } from 'node:os';
import { repoRoot } from '../src/common/version.js';
import { BlConfigFlags, BlReservedIdentity, BlTraceAggregation, type BlCt4Key } from '../src/datapath/generated/abi.js';
import { Datapath, type TestRunResult } from '../src/datapath/loader.js';
import { KernelLb } from '../src/datapath/lb.js';
import { KernelPolicy, type PolicyMapEntry } from '../src/datapath/policy.js';
import { codec, type TypedMap } from '../src/datapath/maps.js';
import { frontendRow } from '../src/agent/services.js';
import { DEFAULT_LB_MAP_SIZE } from '../src/datapath/node.js';
import type { LbBackendRow, LbFrontendRow } from '../src/agent/datapath.js';
import { LbTranslator } from '../src/service/translator.js';
import { SERVICE_NAME_LABEL, type Backend } from '../src/service/translate.js';
import { formatIPv4, parseIPv4 } from '../src/ipam/cidr.js';
import type { StoreObject } from '../src/store/store.js';
import { ipv4Frame, parseIpv4Frame, requireObject, tcp } from '../test/privileged/datapath-support.js';
import { mulberry32 } from '../test/lib/rng.js';
import {
  NODE,
  PodNode,
  TCP_ACK,
  TCP_SYN,
  TCP_SYN_ACK,
  TC_ACT_OK,
  TC_ACT_REDIRECT,
  tcpFromPod,
  type PodSpec,
} from '../test/privileged/datapath-pod-support.js';
import { arg } from './report.js';

const ROUNDS = Number(arg('--rounds', '5'));
const PACKETS = Number(arg('--packets', '2000'));
const BLOCK = Number(arg('--block', '200'));
const POOL = Number(arg('--pool', '200'));
const SIZES = arg('--sizes', '100,10000,50000,100000').split(',').map(Number);
const SEED = Number(arg('--seed', '1'));
const OUT = arg('--out', join(repoRoot, 'bench', 'results', 'datapath.json'));
const PERF_OBJECT = join(repoRoot, 'build/bpf/test/perf.bpf.o');

if (PACKETS % BLOCK !== 0) throw new Error(`--packets ${PACKETS} must be a multiple of --block ${BLOCK}`);
if (SIZES.length < 1 || SIZES.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--sizes ${SIZES.join(',')}: whole numbers ≥ 1`);

const progress = (msg: string) => process.stderr.write(`[datapath] ${msg}\n`);

// ---------------------------------------------------------------------------
// The node's cast

const hex2 = (n: number) => (n & 0xff).toString(16).padStart(2, '0');
function pod(ip: string, id: number, identity: number): PodSpec {
  return { ip, id, identity, ifindex: 1, mac: `02:aa:00:00:${hex2(id >> 8)}:${hex2(id)}`, nodeMac: `02:bb:00:00:${hex2(id >> 8)}:${hex2(id)}` };
}
/** Every packet's sender (and the identity policy allows). */
const CLIENT = pod('10.0.1.10', 101, 1000);
/** A pod without policy: the pod → pod arms. */
const SERVER = pod('10.0.1.20', 102, 2000);
/** Ingress enforced with 3 entries, and with 10,003. */
const POL3 = pod('10.0.1.30', 103, 3000);
const POL10K = pod('10.0.1.31', 104, 3001);
/** More endpoints with the same 3 entries: which slab slot each entry gets varies. */
const PROBES3 = Array.from({ length: 8 }, (_, k) => pod(`10.0.1.${40 + k}`, 110 + k, 3100 + k));
const PROBES10K = Array.from({ length: 4 }, (_, k) => pod(`10.0.1.${50 + k}`, 150 + k, 3200 + k));
/** The Services' backends: 4 groups of 4 local pods. */
const BACKEND_PODS = Array.from({ length: 16 }, (_, k) => pod(`10.0.1.${100 + k}`, 120 + k, 4000));
const BACKEND_BY_IP = new Map(BACKEND_PODS.map((p) => [p.ip, p]));
const PODS = [CLIENT, SERVER, POL3, POL10K, ...PROBES3, ...PROBES10K, ...BACKEND_PODS];

const SERVER_PORT = 8080;
const WORLD = { ip: '172.18.0.100', mac: '02:cc:00:00:00:64' };
const WORLD_DST = '198.51.100.10';
const UPLINK_MAC = '02:cc:00:00:00:0b';
const NODE_PORT = 30080;
const NODEPORT_BACKEND_PORT = 9090;
const CLUSTER_IP_BASE = parseIPv4('10.96.0.1');
const NODEPORT_CLUSTER_IP = '10.95.255.1';
/** The agent's conntrack size (lab default --bpf-ct-global-max). */
const CT_ENTRIES = 65536;
/** Room for the largest N: 1 master + 4 slots per Service, as the services benchmark sizes --bpf-lb-map-max. */
const LB_MAP_SIZE = Math.max(65536, 2 ** Math.ceil(Math.log2(Math.max(...SIZES) * 5 + 1024)));
const LB_SIZED_MAPS = ['bl_lb4_services', 'bl_lb4_backends', 'bl_lb4_affinity', 'bl_lb4_reverse_sk', 'bl_lb4_nodeport_nat'];
/** SYN source ports per node and round; ACK pool connections use ports from POOL_PORT up. */
const SYN_PORT_MIN = 1024;
const POOL_PORT = 60000;
const FRONTEND_IDS = 0xffff;

/** Ingress policy of the enforcing endpoints: what the policy benchmark's L3/L4 policy programs. */
const POLICY3: PolicyMapEntry[] = [
  { direction: 'ingress', identity: 0, protocol: 0, port: 0, portPrefixLen: 0, verdict: 'default-deny', cookie: 1, proxyPort: 0 },
  { direction: 'ingress', identity: BlReservedIdentity.BL_IDENTITY_HOST, protocol: 0, port: 0, portPrefixLen: 0, verdict: 'allow', cookie: 2, proxyPort: 0 },
  { direction: 'ingress', identity: CLIENT.identity!, protocol: 6, port: SERVER_PORT, portPrefixLen: 16, verdict: 'allow', cookie: 3, proxyPort: 0 },
];
const POLICY10K: PolicyMapEntry[] = [
  ...POLICY3,
  ...Array.from({ length: 10_000 }, (_, j): PolicyMapEntry => ({ direction: 'ingress', identity: 100_000 + j, protocol: 6, port: SERVER_PORT, portPrefixLen: 16, verdict: 'allow', cookie: 4, proxyPort: 0 })),
];

// Deterministic (mulberry32, test/lib/rng.ts): the same Services are picked in every run with one seed.
const random = mulberry32(SEED);

// ---------------------------------------------------------------------------
// Services

/** Service i: its cluster IP and its 4 backends (group i mod 4 of the backend pods, one port per Service). */
function serviceOf(i: number): { ip: string; backends: { address: string; port: number }[] } {
  const group = i % 4;
  const port = 1024 + Math.floor(i / 4);
  return { ip: formatIPv4(CLUSTER_IP_BASE + i), backends: [0, 1, 2, 3].map((k) => ({ address: BACKEND_PODS[group * 4 + k]!.ip, port })) };
}
const NODEPORT_SERVICE = { ip: NODEPORT_CLUSTER_IP, backends: [0, 1, 2, 3].map((k) => ({ address: BACKEND_PODS[k]!.ip, port: NODEPORT_BACKEND_PORT })) };

const CREATED = '2026-01-01T00:00:00Z';
function serviceObject(name: string, ip: string, nodePort?: number): StoreObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'bench', uid: `u-${name}`, resourceVersion: '1', creationTimestamp: CREATED },
    spec: { type: nodePort ? 'NodePort' : 'ClusterIP', clusterIP: ip, ports: [{ port: 80, protocol: 'TCP', ...(nodePort ? { nodePort } : {}) }] },
  };
}
function sliceObject(service: string, backends: { address: string; port: number }[]): StoreObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${service}-x`, namespace: 'bench', uid: `u-${service}-x`, resourceVersion: '1', creationTimestamp: CREATED, labels: { [SERVICE_NAME_LABEL]: service } },
    addressType: 'IPv4',
    ports: [{ name: '', port: backends[0]!.port, protocol: 'TCP' }],
    endpoints: backends.map((b) => ({ addresses: [b.address], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node1' })),
  };
}

const backendRow = (b: Backend): LbBackendRow => ({ id: b.id, address: b.address, port: b.port, protocol: b.protocol, state: b.state === 'terminating' ? 'terminating' : 'active' });

interface ProgramReport {
  services: number;
  translated: number;
  /** Services the translator refused for want of a frontend id, written directly. */
  writtenDirectly: number;
  frontends: number;
  backends: number;
  translateMs: number;
  writeMs: number;
}

/**
 * N ClusterIP Services (and the NodePort one) through the agent's translator
 * into the node's maps. Past the 16-bit frontend id space the translator
 * refuses the rest ("no free frontend id"); those are written with KernelLb
 * directly, their ids reused (their reverse-NAT entries then name another
 * frontend: replies are not measured at that size).
 */
function programServices(lb: KernelLb, count: number, withNodePort: boolean): ProgramReport {
  const t0 = performance.now();
  const tr = new LbTranslator({ nodeName: 'node1', nodeIPs: [NODE.ip], capacity: lb.capacity() });
  for (let i = 0; i < count; i++) {
    const s = serviceOf(i);
    tr.upsertService(serviceObject(`svc-${i}`, s.ip));
    tr.upsertSlice(sliceObject(`svc-${i}`, s.backends));
  }
  if (withNodePort) {
    tr.upsertService(serviceObject('np', NODEPORT_SERVICE.ip, NODE_PORT));
    tr.upsertSlice(sliceObject('np', NODEPORT_SERVICE.backends));
  }
  const change = tr.flush();
  const refused: number[] = [];
  for (const [service, problems] of change.problems) {
    for (const p of problems) {
      const m = /^bench\/svc-(\d+)$/.exec(service);
      if (m && /no free frontend id/.test(p.message)) refused.push(Number(m[1]));
      else throw new Error(`translating ${service}: ${p.severity}: ${p.field}: ${p.message}`);
    }
  }
  const t1 = performance.now();
  lb.apply({
    upsertBackends: change.upsertBackends.map(backendRow),
    upsertFrontends: change.upsertFrontends.map((f) => frontendRow(f)),
    deleteFrontends: [],
    deleteBackends: [],
  });
  let backendId = change.upsertBackends.reduce((m, b) => Math.max(m, b.id), 0);
  let frontends = change.upsertFrontends.length;
  let backends = change.upsertBackends.length;
  if (refused.length > 0) {
    refused.sort((a, b) => a - b);
    const rows: LbFrontendRow[] = [];
    const brows: LbBackendRow[] = [];
    refused.forEach((i, j) => {
      const s = serviceOf(i);
      const ids = s.backends.map((b) => {
        brows.push({ id: ++backendId, address: b.address, port: b.port, protocol: 'TCP', state: 'active' });
        return backendId;
      });
      rows.push({ id: 1 + (j % FRONTEND_IDS), address: s.ip, port: 80, protocol: 'TCP', flags: 0, affinityTimeout: 0, backends: ids });
    });
    lb.apply({ upsertBackends: brows, upsertFrontends: rows, deleteFrontends: [], deleteBackends: [] });
    frontends += rows.length;
    backends += brows.length;
  }
  const t2 = performance.now();
  return { services: count + (withNodePort ? 1 : 0), translated: count + (withNodePort ? 1 : 0) - refused.length, writtenDirectly: refused.length, frontends, backends, translateMs: t1 - t0, writeMs: t2 - t1 };
}

// ---------------------------------------------------------------------------
// Nodes

interface BenchNode {
  name: string;
  events: 'on' | 'off';
  n: PodNode;
  lb: KernelLb;
  policy: KernelPolicy;
  /** ClusterIP Services in the maps (index i: serviceOf(i)). */
  services: number;
  /** Conntrack keys to keep between rounds: the ACK pools' connections. */
  keep: Set<string>;
  /** Next SYN source port this round. */
  port: number;
  program?: ProgramReport;
}

const EVENTS_ON = {
  flags: BlConfigFlags.BL_CFG_TRACE_NOTIFY | BlConfigFlags.BL_CFG_DROP_NOTIFY | BlConfigFlags.BL_CFG_POLICY_VERDICT_NOTIFY,
  trace_aggregation: BlTraceAggregation.BL_TRACE_AGG_MEDIUM,
};
const EVENTS_OFF = { flags: 0, trace_aggregation: BlTraceAggregation.BL_TRACE_AGG_MEDIUM };

const opened: BenchNode[] = [];

/**
 * A node: its objects loaded with one configuration, N ClusterIP Services
 * (and the NodePort one), and ingress policy at the endpoints listed.
 * lbMapSize: the load-balancing maps' max_entries (default: room for the largest N).
 */
function openNode(name: string, events: 'on' | 'off', services: number, opts: { nodePort: boolean; policy: ReadonlyArray<[PodSpec, PolicyMapEntry[]]>; lbMapSize?: number }): BenchNode {
  const t0 = performance.now();
  const maxEntries: Record<string, number> = { bl_ct4: CT_ENTRIES };
  for (const m of LB_SIZED_MAPS) maxEntries[m] = opts.lbMapSize ?? LB_MAP_SIZE;
  const n = PodNode.open({ config: events === 'on' ? EVENTS_ON : EVENTS_OFF, pods: PODS, maxEntries });
  const bn: BenchNode = { name, events, n, lb: new KernelLb(n.dps.lxc), policy: new KernelPolicy(n.dps.lxc), services, keep: new Set(), port: SYN_PORT_MIN };
  opened.push(bn);
  const loadMs = performance.now() - t0;
  bn.program = programServices(bn.lb, services, opts.nodePort);
  for (const [p, entries] of opts.policy) {
    bn.policy.apply(p.id, { upserts: entries, deletes: [] });
    bn.policy.setEndpointPolicyFlags(p.id, { ingress: true, egress: false }, p.ip);
  }
  const p = bn.program;
  progress(
    `node ${name}: events ${events}, LB maps ${opts.lbMapSize ?? LB_MAP_SIZE} entries, loaded in ${loadMs.toFixed(0)} ms; ${p.services} Services (${p.frontends} frontends, ${p.backends} backends) translated in ${p.translateMs.toFixed(0)} ms, written in ${p.writeMs.toFixed(0)} ms` +
      (opts.policy.length ? `; ingress policy at ${opts.policy.length} endpoints (${opts.policy.reduce((n, [, e]) => n + e.length, 0)} entries)` : '') +
      (p.writtenDirectly ? `; ${p.writtenDirectly} past the 65,535 frontend ids written directly` : ''),
  );
  return bn;
}

const ctKey = (k: BlCt4Key) => `${k.saddr}:${k.sport}>${k.daddr}:${k.dport}/${k.nexthdr}/${k.flags}`;

function ctCount(bn: BenchNode): number {
  let c = 0;
  for (const _ of bn.n.ctMap().keys()) c++;
  return c;
}

/** Deletes every conntrack entry but the ACK pools' (between rounds: the SYN arms' entries). */
function ctReset(bn: BenchNode): number {
  const ct = bn.n.ctMap();
  const gone = ct.snapshot().filter(([k]) => !bn.keep.has(ctKey(k))).map(([k]) => k);
  ct.deleteMany(gone);
  bn.n.discardEvents();
  bn.port = SYN_PORT_MIN;
  return gone.length;
}

function nextPort(bn: BenchNode): number {
  if (bn.port >= POOL_PORT) throw new Error(`node ${bn.name}: more than ${POOL_PORT - SYN_PORT_MIN} SYNs in one round`);
  return bn.port++;
}

// ---------------------------------------------------------------------------
// Packets and connections

const worldTcp = (flags: number, sport: number) =>
  ipv4Frame({ src: WORLD.ip, dst: NODE.ip, proto: 6, payload: tcp(flags, sport, NODE_PORT, WORLD.ip, NODE.ip), ethSrc: WORLD.mac, ethDst: UPLINK_MAC });

function expectRun(bn: BenchNode, program: string, packet: Buffer, want: readonly number[], what: string): TestRunResult {
  const out = bn.n.timedRun(program, packet);
  if (!want.includes(out.retval)) throw new Error(`node ${bn.name}: ${what}: ${program} returned ${out.retval}, want ${want.join(' or ')}`);
  return out;
}

/** A pod → pod connection through the handshake: client SYN, server SYN-ACK, client ACK. */
function establishPod(bn: BenchNode, server: PodSpec, sport: number): void {
  expectRun(bn, 'bl_from_container', tcpFromPod(CLIENT, server.ip, TCP_SYN, sport, SERVER_PORT), [TC_ACT_REDIRECT], `pool SYN → ${server.ip}`);
  expectRun(bn, 'bl_from_container', tcpFromPod(server, CLIENT.ip, TCP_SYN_ACK, SERVER_PORT, sport), [TC_ACT_REDIRECT], `pool SYN-ACK ← ${server.ip}`);
  expectRun(bn, 'bl_from_container', tcpFromPod(CLIENT, server.ip, TCP_ACK, sport, SERVER_PORT), [TC_ACT_REDIRECT], `pool ACK → ${server.ip}`);
}

/** A pod → ClusterIP connection: SYN (DNAT to a backend), the backend's SYN-ACK, ACK. */
function establishService(bn: BenchNode, vip: string, sport: number): void {
  const syn = expectRun(bn, 'bl_from_container', tcpFromPod(CLIENT, vip, TCP_SYN, sport, 80), [TC_ACT_REDIRECT], `pool SYN → ${vip}`);
  const out = Buffer.from(syn.dataOut);
  const be = BACKEND_BY_IP.get(parseIpv4Frame(out).dst);
  if (!be) throw new Error(`node ${bn.name}: SYN to ${vip} went to ${parseIpv4Frame(out).dst}, not a backend pod`);
  const bport = out.readUInt16BE(14 + 20 + 2);
  expectRun(bn, 'bl_from_container', tcpFromPod(be, CLIENT.ip, TCP_SYN_ACK, bport, sport), [TC_ACT_REDIRECT], `pool SYN-ACK ← ${be.ip}`);
  expectRun(bn, 'bl_from_container', tcpFromPod(CLIENT, vip, TCP_ACK, sport, 80), [TC_ACT_REDIRECT], `pool ACK → ${vip}`);
}

/** A world → NodePort connection: SYN through the uplink (DNAT, local delivery), the backend's SYN-ACK, ACK. */
function establishNodePort(bn: BenchNode, sport: number): void {
  const syn = expectRun(bn, 'bl_from_netdev', worldTcp(TCP_SYN, sport), [TC_ACT_REDIRECT], 'pool NodePort SYN');
  const out = Buffer.from(syn.dataOut);
  const be = BACKEND_BY_IP.get(parseIpv4Frame(out).dst);
  if (!be) throw new Error(`node ${bn.name}: NodePort SYN went to ${parseIpv4Frame(out).dst}, not a backend pod`);
  // The reply leaves towards the world: to the stack or redirected after a FIB lookup (read-only).
  expectRun(bn, 'bl_from_container', tcpFromPod(be, WORLD.ip, TCP_SYN_ACK, NODEPORT_BACKEND_PORT, sport), [TC_ACT_OK, TC_ACT_REDIRECT], 'pool NodePort SYN-ACK');
  expectRun(bn, 'bl_from_netdev', worldTcp(TCP_ACK, sport), [TC_ACT_REDIRECT], 'pool NodePort ACK');
}

/** A pod → world connection (to the stack): SYN, the world's SYN-ACK arriving through bl_to_container, ACK. */
function establishWorld(bn: BenchNode, sport: number): void {
  expectRun(bn, 'bl_from_container', tcpFromPod(CLIENT, WORLD_DST, TCP_SYN, sport, 443), [TC_ACT_OK], 'pool SYN → world');
  const reply = ipv4Frame({ src: WORLD_DST, dst: CLIENT.ip, proto: 6, payload: tcp(TCP_SYN_ACK, 443, sport, WORLD_DST, CLIENT.ip), ethSrc: CLIENT.nodeMac, ethDst: CLIENT.mac });
  expectRun(bn, 'bl_to_container', reply, [TC_ACT_OK], 'pool SYN-ACK ← world');
  expectRun(bn, 'bl_from_container', tcpFromPod(CLIENT, WORLD_DST, TCP_ACK, sport, 443), [TC_ACT_OK], 'pool ACK → world');
}

// ---------------------------------------------------------------------------
// Arms

interface Arm {
  id: string;
  label: string;
  section: string;
  node: string;
  events: 'on' | 'off' | '';
  /** The arm this one is compared with (Δ and ratio columns). */
  ref?: string;
  /** Runs one fresh packet (i: its number in the round) and returns the kernel's result. */
  run: (i: number) => TestRunResult;
  /** Acceptable verdicts. */
  expect: readonly number[];
  /** Conntrack entries one packet creates (checked before the rounds). */
  ctPerPacket?: number;
  /** Extra check of one run's output (before the rounds): a message when wrong. */
  check?: (out: TestRunResult) => string | undefined;
  /** Per-entry results: packet i exercises entry i mod entries. */
  entries?: number;
  bn?: BenchNode;
  samples: number[];
  rounds: number[][];
  byEntry: number[][];
  /** Events the arm's packets produced (drained after each block). */
  eventCount: number;
}

const arms: Arm[] = [];
function arm(a: Omit<Arm, 'samples' | 'rounds' | 'byEntry' | 'eventCount'>): Arm {
  const full: Arm = { ...a, samples: [], rounds: Array.from({ length: ROUNDS }, () => []), byEntry: Array.from({ length: a.entries ?? 0 }, () => []), eventCount: 0 };
  arms.push(full);
  return full;
}

/** The backend (address:port) a run DNATed to, from its output. */
function dnatOf(out: TestRunResult): string {
  const b = Buffer.from(out.dataOut);
  return `${parseIpv4Frame(b).dst}:${b.readUInt16BE(14 + 20 + 2)}`;
}
const backendsText = (s: { backends: { address: string; port: number }[] }) => new Set(s.backends.map((b) => `${b.address}:${b.port}`));

/** A SYN or ACK arm on node bn's pod path: id `node:name:kind`, label "name KIND", delivered into a pod. */
function tcpArm(bn: BenchNode, section: string, name: string, kind: 'syn' | 'ack', ref: string | undefined, spec: Pick<Arm, 'run' | 'ctPerPacket' | 'check'>): Arm {
  return arm({ id: `${bn.name}:${name}:${kind}`, label: `${name} ${kind.toUpperCase()}`, section, node: bn.name, events: bn.events, ...(ref ? { ref } : {}), bn, expect: [TC_ACT_REDIRECT], ...spec });
}

/** Pod → pod (same node) SYN and ACK arms to `server` on node bn. */
function podArms(bn: BenchNode, server: PodSpec, section: string, name: string, refs: { syn?: string; ack?: string }, ackOnly = false): void {
  if (!ackOnly) tcpArm(bn, section, name, 'syn', refs.syn, {
    ctPerPacket: 2,
    run: () => bn.n.timedRun('bl_from_container', tcpFromPod(CLIENT, server.ip, TCP_SYN, nextPort(bn), SERVER_PORT)),
  });
  const pool = Array.from({ length: POOL }, (_, j) => POOL_PORT + j);
  for (const p of pool) establishPod(bn, server, p);
  tcpArm(bn, section, name, 'ack', refs.ack, {
    ctPerPacket: 0,
    run: (i) => bn.n.timedRun('bl_from_container', tcpFromPod(CLIENT, server.ip, TCP_ACK, pool[i % POOL]!, SERVER_PORT)),
  });
}

/** ClusterIP SYN and ACK arms: a random Service among the node's N, or always Service `hot`. */
function serviceArms(bn: BenchNode, section: string, name: string, refs: { syn?: string; ack?: string }, hot?: number): void {
  const pick = () => (hot !== undefined ? hot : Math.floor(random() * bn.services));
  let last = 0;
  tcpArm(bn, section, name, 'syn', refs.syn, {
    ctPerPacket: 3,
    run: () => {
      last = pick();
      return bn.n.timedRun('bl_from_container', tcpFromPod(CLIENT, serviceOf(last).ip, TCP_SYN, nextPort(bn), 80));
    },
    check: (out) => (backendsText(serviceOf(last)).has(dnatOf(out)) ? undefined : `service ${last} (${serviceOf(last).ip}) DNATed to ${dnatOf(out)}`),
  });
  const pool = Array.from({ length: POOL }, (_, j) => ({ sport: POOL_PORT + j, svc: pick() }));
  for (const c of pool) establishService(bn, serviceOf(c.svc).ip, c.sport);
  let lastAck = pool[0]!;
  tcpArm(bn, section, name, 'ack', refs.ack, {
    ctPerPacket: 0,
    run: (i) => {
      lastAck = pool[i % POOL]!;
      return bn.n.timedRun('bl_from_container', tcpFromPod(CLIENT, serviceOf(lastAck.svc).ip, TCP_ACK, lastAck.sport, 80));
    },
    check: (out) => (backendsText(serviceOf(lastAck.svc)).has(dnatOf(out)) ? undefined : `pool service ${lastAck.svc} ACK DNATed to ${dnatOf(out)}`),
  });
}

function nodePortArms(bn: BenchNode, section: string, refs: { syn: string; ack: string }): void {
  const ok = (out: TestRunResult) => (backendsText(NODEPORT_SERVICE).has(dnatOf(out)) ? undefined : `NodePort DNATed to ${dnatOf(out)}`);
  arm({
    id: `${bn.name}:nodeport:syn`,
    label: 'NodePort SYN (world → node IP, local backend)',
    section,
    node: bn.name,
    events: bn.events,
    ref: refs.syn,
    bn,
    expect: [TC_ACT_REDIRECT],
    ctPerPacket: 2,
    run: () => bn.n.timedRun('bl_from_netdev', worldTcp(TCP_SYN, nextPort(bn))),
    check: ok,
  });
  const pool = Array.from({ length: POOL }, (_, j) => POOL_PORT + j);
  for (const p of pool) establishNodePort(bn, p);
  arm({
    id: `${bn.name}:nodeport:ack`,
    label: 'NodePort ACK',
    section,
    node: bn.name,
    events: bn.events,
    ref: refs.ack,
    bn,
    expect: [TC_ACT_REDIRECT],
    ctPerPacket: 0,
    run: (i) => bn.n.timedRun('bl_from_netdev', worldTcp(TCP_ACK, pool[i % POOL]!)),
    check: ok,
  });
}

/**
 * One ACK arm over several endpoints with the same policy (packet i to
 * endpoint i mod their number): each endpoint's allow entry sits in its own
 * slab slot, so their costs show what the slot does.
 */
function probeArm(bn: BenchNode, targets: readonly PodSpec[], section: string, name: string): void {
  const per = Math.ceil(POOL / targets.length);
  const pools = targets.map(() => Array.from({ length: per }, (_, j) => POOL_PORT + j));
  targets.forEach((p, k) => pools[k]!.forEach((port) => establishPod(bn, p, port)));
  arm({
    id: `${bn.name}:${name}:each`,
    label: `${name}, ACK to each of ${targets.length} endpoints`,
    section,
    node: bn.name,
    events: bn.events,
    ref: `${bn.name}:pod → pod:ack`,
    bn,
    entries: targets.length,
    expect: [TC_ACT_REDIRECT],
    ctPerPacket: 0,
    run: (i) => {
      const k = i % targets.length;
      const ports = pools[k]!;
      return bn.n.timedRun('bl_from_container', tcpFromPod(CLIENT, targets[k]!.ip, TCP_ACK, ports[Math.floor(i / targets.length) % ports.length]!, SERVER_PORT));
    },
  });
}

/** Where a pod's packet spends its time: the least a packet through bl_from_container costs, and a packet to the stack. */
function breakdownArms(bn: BenchNode, section: string): void {
  // An IPv6 frame: Ethernet parse, the metrics update, nothing else (IPv6 passes to the stack for now).
  const v6 = Buffer.concat([Buffer.from([0x02, 0xbb, 0, 0, 0, 0x65, 0x02, 0xaa, 0, 0, 0, 0x65, 0x86, 0xdd]), Buffer.alloc(40)]);
  arm({ id: `${bn.name}:minimal`, label: 'pod → stack, non-IPv4 frame (parse + metrics only)', section, node: bn.name, events: bn.events, bn, expect: [TC_ACT_OK], ctPerPacket: 0, run: () => bn.n.timedRun('bl_from_container', Buffer.from(v6)) });
  arm({
    id: `${bn.name}:world:syn`,
    label: 'pod → world SYN (egress half: conntrack create, to the stack)',
    section,
    node: bn.name,
    events: bn.events,
    bn,
    expect: [TC_ACT_OK],
    ctPerPacket: 1,
    run: () => bn.n.timedRun('bl_from_container', tcpFromPod(CLIENT, WORLD_DST, TCP_SYN, nextPort(bn), 443)),
  });
  const pool = Array.from({ length: POOL }, (_, j) => POOL_PORT + j);
  for (const p of pool) establishWorld(bn, p);
  arm({
    id: `${bn.name}:world:ack`,
    label: 'pod → world ACK (egress half)',
    section,
    node: bn.name,
    events: bn.events,
    bn,
    expect: [TC_ACT_OK],
    ctPerPacket: 0,
    run: (i) => bn.n.timedRun('bl_from_container', tcpFromPod(CLIENT, WORLD_DST, TCP_ACK, pool[i % POOL]!, 443)),
  });
}

// ---------------------------------------------------------------------------
// The floor and the LPM micro-benchmark (bpf/test/perf.bpf.c)

const LPM_ENTRIES = 32;
const LPM_VALUE = codec<number>(
  24,
  (v) => {
    const b = Buffer.alloc(24);
    b[0] = v;
    return b;
  },
  (b) => b[0]!,
);
const lpmKey = (dataBytes: number, prefixlen: number) =>
  codec<number>(
    4 + dataBytes,
    (index) => {
      const b = Buffer.alloc(4 + dataBytes);
      b.writeUInt32LE(prefixlen, 0);
      b.writeUInt32LE(index, 4);
      return b;
    },
    (b) => b.readUInt32LE(4),
  );

/** The floor: what a test run of a program that does nothing reports, on the same packets. */
function floorArm(perf: Datapath): void {
  arm({ id: 'floor', label: 'floor: empty tc program (bl_perf_empty)', section: 'floor', node: 'perf', events: '', expect: [TC_ACT_OK], run: () => perf.testRun('bl_perf_empty', tcpFromPod(CLIENT, SERVER.ip, TCP_SYN, 40000, SERVER_PORT)) });
}

function lpmArms(perf: Datapath): void {
  const lpm12: TypedMap<number, number> = perf.map('perf_lpm12', lpmKey(12, 96), LPM_VALUE);
  const lpm16: TypedMap<number, number> = perf.map('perf_lpm16', lpmKey(16, 128), LPM_VALUE);
  for (let i = 0; i < LPM_ENTRIES; i++) {
    lpm12.set(i, 1);
    lpm16.set(i, 1);
  }
  // A frame the programs do not parse: Ethernet header, then the entry index.
  const frame = (index: number) => {
    const b = Buffer.alloc(64);
    b.writeUInt16BE(0x88b5, 12); // IEEE local experimental ethertype
    b.writeUInt32LE(index, 14);
    return b;
  };
  const section = 'LPM value counters, per entry (bpf/test/perf.bpf.c, 32 entries each)';
  arm({ id: 'lpm12:lookup', label: 'LPM, 12-byte key data (bl_policy\'s): lookup only', section, node: 'perf', events: '', entries: LPM_ENTRIES, expect: [TC_ACT_OK], run: (i) => perf.testRun('bl_perf_lpm12_lookup', frame(i % LPM_ENTRIES)) });
  arm({ id: 'lpm12:count', label: 'LPM, 12-byte key data: lookup + 2 atomic adds (as lib/policy.h)', section, node: 'perf', events: '', ref: 'lpm12:lookup', entries: LPM_ENTRIES, expect: [TC_ACT_OK], run: (i) => perf.testRun('bl_perf_lpm12_count', frame(i % LPM_ENTRIES)) });
  arm({ id: 'lpm16:count', label: 'LPM, 16-byte key data: lookup + 2 atomic adds', section, node: 'perf', events: '', ref: 'lpm12:lookup', entries: LPM_ENTRIES, expect: [TC_ACT_OK], run: (i) => perf.testRun('bl_perf_lpm16_count', frame(i % LPM_ENTRIES)) });
}

// ---------------------------------------------------------------------------
// Statistics

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
const sortNum = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: readonly number[]) => quantile(sortNum(xs), 0.5);

/** Splits values at their largest gap: [low group, high group]; one group when the gap is small. */
function twoGroups(values: readonly number[], minGapNs: number): { low: number[]; high: number[] } {
  const s = sortNum(values);
  let at = -1;
  let gap = 0;
  for (let i = 1; i < s.length; i++) if (s[i]! - s[i - 1]! > gap) (gap = s[i]! - s[i - 1]!), (at = i);
  if (at < 0 || gap < minGapNs) return { low: s, high: [] };
  return { low: s.slice(0, at), high: s.slice(at) };
}

// ---------------------------------------------------------------------------
// Main

async function main(): Promise<void> {
  const started = new Date().toISOString();
  const load0 = loadavg();
  const t0 = performance.now();
  progress(`${ROUNDS} rounds × ${PACKETS} packets per arm (blocks of ${BLOCK}), ACK pools of ${POOL} connections, N = ${SIZES.join(' / ')}, LB maps ${LB_MAP_SIZE} entries`);

  const perf = Datapath.open(requireObject(PERF_OBJECT)).load();
  try {
    floorArm(perf);

    const mainPolicy: [PodSpec, PolicyMapEntry[]][] = [
      [POL3, POLICY3],
      [POL10K, POLICY10K],
    ];
    const on = openNode('on', 'on', SIZES[0]!, { nodePort: true, policy: mainPolicy });
    const off = openNode('off', 'off', SIZES[0]!, { nodePort: true, policy: mainPolicy });
    const big = SIZES.slice(1).map((n) => openNode(`n${n >= 1000 ? `${n / 1000}k` : n}`, 'on', n, { nodePort: false, policy: [] }));
    // The first N again with the load-balancing maps at the agent's default size: what the maps' size costs.
    const small = openNode('small', 'on', SIZES[0]!, { nodePort: false, policy: [], lbMapSize: DEFAULT_LB_MAP_SIZE });
    const probe = openNode('probe', 'off', 0, {
      nodePort: false,
      policy: [...PROBES3.map((p): [PodSpec, PolicyMapEntry[]] => [p, POLICY3]), ...PROBES10K.map((p): [PodSpec, PolicyMapEntry[]] => [p, POLICY10K])],
    });

    const POD = 'pod → pod, same node';
    const SVC = 'ClusterIP (pod → Service, 4 local backends)';
    const NP = 'NodePort from outside';
    const POL = 'ingress policy at the receiving endpoint (pod → pod)';
    breakdownArms(on, 'where a pod\'s packet spends it');
    podArms(on, SERVER, POD, 'pod → pod', {});
    // The same ACK on one connection only: its conntrack entries stay in the caches between packets.
    arm({
      id: 'on:pod → pod:ack1',
      label: 'pod → pod ACK, always the same connection',
      section: POD,
      node: on.name,
      events: on.events,
      ref: 'on:pod → pod:ack',
      bn: on,
      expect: [TC_ACT_REDIRECT],
      ctPerPacket: 0,
      run: () => on.n.timedRun('bl_from_container', tcpFromPod(CLIENT, SERVER.ip, TCP_ACK, POOL_PORT, SERVER_PORT)),
    });
    podArms(off, SERVER, POD, 'pod → pod', { syn: 'on:pod → pod:syn', ack: 'on:pod → pod:ack' });
    serviceArms(on, SVC, `ClusterIP, random of N=${SIZES[0]}`, { syn: 'on:pod → pod:syn', ack: 'on:pod → pod:ack' });
    const svcRef = { syn: `on:ClusterIP, random of N=${SIZES[0]}:syn`, ack: `on:ClusterIP, random of N=${SIZES[0]}:ack` };
    big.forEach((bn) => serviceArms(bn, SVC, `ClusterIP, random of N=${bn.services}`, svcRef));
    const hotNode = big.find((b) => b.services === 50_000) ?? big[big.length - 1] ?? on;
    serviceArms(hotNode, SVC, `ClusterIP, one hot Service of N=${hotNode.services}`, svcRef, 0);
    serviceArms(small, SVC, `ClusterIP, random of N=${SIZES[0]}, LB maps at ${DEFAULT_LB_MAP_SIZE} entries`, svcRef);
    nodePortArms(on, NP, { syn: 'on:pod → pod:syn', ack: 'on:pod → pod:ack' });
    for (const bn of [on, off]) {
      podArms(bn, POL3, POL, 'policy, 3 entries', { syn: `${bn.name}:pod → pod:syn`, ack: `${bn.name}:pod → pod:ack` });
      podArms(bn, POL10K, POL, 'policy, 10,003 entries', { syn: `${bn.name}:pod → pod:syn`, ack: `${bn.name}:pod → pod:ack` });
    }
    // The same policies at more endpoints, on a node of their own (events off): ACK arms with results per endpoint.
    podArms(probe, SERVER, POL, 'pod → pod', {}, true);
    probeArm(probe, PROBES3, POL, 'policy, 3 entries');
    probeArm(probe, PROBES10K, POL, 'policy, 10,003 entries');
    lpmArms(perf);
    const nodes = [on, off, ...big, small, probe];
    for (const bn of nodes) {
      for (const [k] of bn.n.ctMap().snapshot()) bn.keep.add(ctKey(k));
      bn.n.discardEvents();
    }
    progress(`set up in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${arms.length} arms; conntrack kept per node: ${nodes.map((b) => `${b.name} ${b.keep.size}`).join(', ')}`);

    // Check every arm takes the path it claims, untimed: verdict, conntrack entries made, DNAT target.
    const checks: Record<string, unknown>[] = [];
    for (const a of arms) {
      const before = a.bn ? ctCount(a.bn) : 0;
      const K = 20;
      for (let i = 0; i < K; i++) {
        const out = a.run(i);
        if (!a.expect.includes(out.retval)) throw new Error(`arm ${a.id}: verdict ${out.retval}, want ${a.expect.join(' or ')}`);
        const msg = a.check?.(out);
        if (msg) throw new Error(`arm ${a.id}: ${msg}`);
      }
      const after = a.bn ? ctCount(a.bn) : 0;
      if (a.ctPerPacket !== undefined && after - before !== K * a.ctPerPacket) {
        throw new Error(`arm ${a.id}: ${K} packets made ${after - before} conntrack entries, want ${K * a.ctPerPacket}`);
      }
      const events = a.bn?.n.discardEvents() ?? 0;
      checks.push({ arm: a.id, packets: K, verdictOk: true, ctEntriesMade: after - before, events });
    }
    // Policy was consulted: the allow entry of the client's identity counted the packets.
    for (const bn of [on, off]) {
      for (const p of [POL3, POL10K]) {
        const allow = bn.policy.entries(p.id).find((e) => e.identity === CLIENT.identity && e.protocol === 6);
        checks.push({ node: bn.name, endpoint: p.id, policyEntries: bn.policy.entries(p.id).length, allowEntryPackets: Number(allow?.packets ?? 0n) });
        if (!allow || allow.packets === 0n) throw new Error(`node ${bn.name}: endpoint ${p.id}'s allow entry counted no packet`);
      }
    }
    progress(`checked: every arm's verdict, conntrack entries and DNAT target; policy entries counted`);

    // The rounds: blocks of BLOCK packets per arm, arms rotated block by block.
    const blocks = PACKETS / BLOCK;
    for (let r = 0; r < ROUNDS; r++) {
      const cleaned = nodes.map((bn) => ctReset(bn));
      const tr = performance.now();
      for (let b = 0; b < blocks; b++) {
        const shift = (r * blocks + b) % arms.length;
        const order = [...arms.slice(shift), ...arms.slice(0, shift)];
        for (const a of order) {
          for (let j = 0; j < BLOCK; j++) {
            const i = b * BLOCK + j;
            const out = a.run(i);
            if (!a.expect.includes(out.retval)) throw new Error(`round ${r + 1}, arm ${a.id}: verdict ${out.retval}, want ${a.expect.join(' or ')}`);
            a.samples.push(out.durationNs);
            a.rounds[r]!.push(out.durationNs);
            if (a.entries) a.byEntry[i % a.entries]!.push(out.durationNs);
          }
          if (a.bn) a.eventCount += a.bn.n.discardEvents();
        }
      }
      const floorMed = median(arms.find((a) => a.id === 'floor')!.rounds[r]!);
      progress(`round ${r + 1}/${ROUNDS}: ${((performance.now() - tr) / 1000).toFixed(1)} s, floor median ${floorMed.toFixed(0)} ns; conntrack entries cleared before it: ${cleaned.join('/')}`);
    }

    // Summaries.
    const floor = arms.find((a) => a.id === 'floor')!;
    const floorMedian = median(floor.samples);
    const floorRounds = floor.rounds.map((s) => median(s));
    interface Summary {
      id: string;
      label: string;
      section: string;
      node: string;
      events: string;
      packets: number;
      rawMedian: number;
      rawP90: number;
      median: number;
      p90: number;
      p99: number;
      roundMedians: number[];
      eventsPerPacket: number;
      ref?: string;
      deltaMedian?: number;
      ratioRef?: number;
      deltaRounds?: number[];
      vsBaseline?: number;
      perEntry?: number[];
    }
    const summaries = new Map<string, Summary>();
    for (const a of arms) {
      const s = sortNum(a.samples);
      const net = (x: number) => (a.id === 'floor' ? x : x - floorMedian);
      summaries.set(a.id, {
        id: a.id,
        label: a.label,
        section: a.section,
        node: a.node,
        events: a.events,
        packets: s.length,
        rawMedian: quantile(s, 0.5),
        rawP90: quantile(s, 0.9),
        median: net(quantile(s, 0.5)),
        p90: net(quantile(s, 0.9)),
        p99: net(quantile(s, 0.99)),
        // Each round's median minus that round's floor.
        roundMedians: a.rounds.map((rs, r) => (a.id === 'floor' ? median(rs) : median(rs) - floorRounds[r]!)),
        eventsPerPacket: a.eventCount / Math.max(1, s.length),
        ...(a.entries ? { perEntry: a.byEntry.map((e) => median(e) - floorMedian) } : {}),
      });
    }
    const baseline = summaries.get('on:pod → pod:ack')!;
    for (const s of summaries.values()) {
      s.vsBaseline = s.median / baseline.median;
      const a = arms.find((x) => x.id === s.id)!;
      if (a.ref) {
        const r = summaries.get(a.ref)!;
        s.ref = a.ref;
        s.deltaMedian = s.median - r.median;
        s.ratioRef = s.median / r.median;
        s.deltaRounds = s.roundMedians.map((m, i) => m - r.roundMedians[i]!);
      }
    }

    // The table (markdown, for docs/performance.md).
    const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '–');
    const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');
    const labelOf = (id: string) => {
      const s = summaries.get(id)!;
      return `${s.label}${s.events ? ` (events ${s.events})` : ''}`;
    };
    const lines: string[] = [];
    lines.push(`| arm | node | events | ns/packet median | p90 | per-round medians (min–max) | events/packet | vs pod→pod ACK | reference | Δ median vs ref (per round min–max) | × ref |`);
    lines.push('|---|---|---|---|---|---|---|---|---|---|---|');
    let section = '';
    for (const s of summaries.values()) {
      if (s.section !== section) {
        section = s.section;
        lines.push(`| **${section}** | | | | | | | | | | |`);
      }
      const rm = s.roundMedians;
      const perRound = `${f0(Math.min(...rm))}–${f0(Math.max(...rm))}`;
      const isFloor = s.id === 'floor';
      lines.push(
        `| ${s.label} | ${s.node} | ${s.events || '–'} | ${isFloor ? `${f0(s.median)} (raw; subtracted)` : f0(s.median)} | ${isFloor ? f0(s.rawP90) : f0(s.p90)} | ${perRound} | ${s.node === 'perf' ? '–' : f2(s.eventsPerPacket)} | ${isFloor || s.node === 'perf' ? '–' : f2(s.vsBaseline!)} | ${s.ref ? labelOf(s.ref) : '–'} | ${s.deltaMedian !== undefined ? `${s.deltaMedian >= 0 ? '+' : ''}${f0(s.deltaMedian)} (${f0(Math.min(...s.deltaRounds!))}–${f0(Math.max(...s.deltaRounds!))})` : '–'} | ${s.ratioRef !== undefined ? f2(s.ratioRef) : '–'} |`,
      );
    }
    // Per-entry results: the lottery of the slab slot.
    const entryLines: string[] = [];
    const entryReports: Record<string, unknown> = {};
    for (const s of summaries.values()) {
      if (!s.perEntry) continue;
      const g = twoGroups(s.perEntry, 150);
      const desc = g.high.length
        ? `${g.low.length} at ${f0(median(g.low))} ns (${f0(g.low[0]!)}–${f0(g.low[g.low.length - 1]!)}), ${g.high.length} at ${f0(median(g.high))} ns (${f0(g.high[0]!)}–${f0(g.high[g.high.length - 1]!)})`
        : `all ${g.low.length} at ${f0(median(g.low))} ns (${f0(g.low[0]!)}–${f0(g.low[g.low.length - 1]!)})`;
      entryLines.push(`| ${s.label} | ${s.perEntry.length} | ${desc} |`);
      entryReports[s.id] = { perEntryMedianNs: s.perEntry.map((x) => Math.round(x)), low: g.low.length, high: g.high.length };
    }

    // Issue 16's goals.
    const m = (id: string) => summaries.get(id)?.median ?? NaN;
    const first = SIZES[0]!;
    const n50 = SIZES.includes(50_000) ? 50_000 : SIZES[SIZES.length - 1]!;
    const bigId = (n: number, kind: 'syn' | 'ack') => (n === first ? `on:ClusterIP, random of N=${first}:${kind}` : `${big.find((b) => b.services === n)?.name}:ClusterIP, random of N=${n}:${kind}`);
    const probeAdds = (id: string) => twoGroups(summaries.get(id)!.perEntry!.map((x) => x - m('probe:pod → pod:ack')), 150);
    const probeGroups = probeAdds('probe:policy, 3 entries:each');
    const probe10kGroups = probeAdds('probe:policy, 10,003 entries:each');
    const groupText = (g: { low: number[]; high: number[] }) =>
      g.high.length ? `${g.low.length} add ${f0(median(g.low))} ns, ${g.high.length} add ${f0(median(g.high))} ns` : `all ${g.low.length} add ${f0(median(g.low))} ns`;
    const goals = [
      { goal: 'pod→pod established ACK ≤ 0.5 µs', value: `${f0(m('on:pod → pod:ack'))} ns (events off: ${f0(m('off:pod → pod:ack'))})`, met: m('on:pod → pod:ack') <= 500 },
      { goal: 'pod→pod SYN ≤ 1.0 µs', value: `${f0(m('on:pod → pod:syn'))} ns (events off: ${f0(m('off:pod → pod:syn'))})`, met: m('on:pod → pod:syn') <= 1000 },
      {
        goal: 'Service translation adds ≤ 0.2 µs',
        value:
          `SYN +${f0(m(`on:ClusterIP, random of N=${first}:syn`) - m('on:pod → pod:syn'))} ns, ACK +${f0(m(`on:ClusterIP, random of N=${first}:ack`) - m('on:pod → pod:ack'))} ns (random of N=${first} vs pod→pod); ` +
          `one hot Service: SYN +${f0(m(`${hotNode.name}:ClusterIP, one hot Service of N=${hotNode.services}:syn`) - m('on:pod → pod:syn'))} ns, ACK +${f0(m(`${hotNode.name}:ClusterIP, one hot Service of N=${hotNode.services}:ack`) - m('on:pod → pod:ack'))} ns`,
        met: m(`on:ClusterIP, random of N=${first}:syn`) - m('on:pod → pod:syn') <= 200 && m(`on:ClusterIP, random of N=${first}:ack`) - m('on:pod → pod:ack') <= 200,
      },
      {
        goal: `random-Service cost at ${n50} ≤ 1.05× at ${first}`,
        value: `SYN ${f2(m(bigId(n50, 'syn')) / m(bigId(first, 'syn')))}×, ACK ${f2(m(bigId(n50, 'ack')) / m(bigId(first, 'ack')))}×`,
        met: m(bigId(n50, 'syn')) / m(bigId(first, 'syn')) <= 1.05 && m(bigId(n50, 'ack')) / m(bigId(first, 'ack')) <= 1.05,
      },
      {
        goal: 'policy adds ≤ 0.15 µs, no bimodality',
        value:
          `3 entries: ACK +${f0(m('on:policy, 3 entries:ack') - m('on:pod → pod:ack'))} / +${f0(m('off:policy, 3 entries:ack') - m('off:pod → pod:ack'))} ns (events on / off), ` +
          `SYN +${f0(m('on:policy, 3 entries:syn') - m('on:pod → pod:syn'))} / +${f0(m('off:policy, 3 entries:syn') - m('off:pod → pod:syn'))}; ` +
          `10,003 entries: ACK +${f0(m('on:policy, 10,003 entries:ack') - m('on:pod → pod:ack'))} / +${f0(m('off:policy, 10,003 entries:ack') - m('off:pod → pod:ack'))}; ` +
          `ACK to ${PROBES3.length} more endpoints with 3 entries (events off): ${groupText(probeGroups)}; to ${PROBES10K.length} with 10,003: ${groupText(probe10kGroups)}`,
        met:
          Math.max(m('on:policy, 3 entries:ack') - m('on:pod → pod:ack'), m('off:policy, 3 entries:ack') - m('off:pod → pod:ack'), m('on:policy, 10,003 entries:ack') - m('on:pod → pod:ack'), m('off:policy, 10,003 entries:ack') - m('off:pod → pod:ack')) <= 150 &&
          probeGroups.high.length === 0 &&
          probe10kGroups.high.length === 0 &&
          Math.max(...probeGroups.low, ...probe10kGroups.low) <= 150,
      },
    ];

    const totalS = (performance.now() - t0) / 1000;
    const cpu = cpus()[0]?.model ?? 'unknown';
    process.stdout.write(
      `\nPer-packet cost, BPF_PROG_TEST_RUN with repeat 1, one fresh packet per run; ns with the floor's median (${f0(floorMedian)} ns) subtracted; ` +
        `${ROUNDS} rounds × ${PACKETS} packets per arm; kernel ${release()}, ${cpu}, ${cpus().length} CPUs; ${totalS.toFixed(0)} s\n\n` +
        lines.join('\n') +
        '\n\nPer entry (median of each entry\'s packets, floor subtracted; split at the largest gap when it exceeds 150 ns)\n\n| arm | entries | per-entry medians |\n|---|---|---|\n' +
        entryLines.join('\n') +
        '\n\nIssue 16 goals\n\n| goal | measured | met? |\n|---|---|---|\n' +
        goals.map((g) => `| ${g.goal} | ${g.value} | ${g.met ? 'met' : 'missed'} |`).join('\n') +
        '\n',
    );

    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(
      OUT,
      JSON.stringify(
        {
          benchmark: 'datapath',
          started,
          seconds: Math.round(totalS),
          machine: { kernel: release(), cpu, cpus: cpus().length, node: process.version, loadavgStart: load0, loadavgEnd: loadavg() },
          params: { rounds: ROUNDS, packetsPerArmPerRound: PACKETS, block: BLOCK, ackPool: POOL, sizes: SIZES, seed: SEED, lbMapSize: LB_MAP_SIZE, ctEntries: CT_ENTRIES },
          method:
            'BPF_PROG_TEST_RUN, repeat 1, one freshly built packet per run; sample = the kernel duration of that run; ns = sample minus the median of the empty program (floor) over the whole run; arms interleaved in blocks, order rotated per block',
          floor: { medianNs: floorMedian, p90Ns: quantile(sortNum(floor.samples), 0.9), perRoundMedianNs: floorRounds },
          nodes: nodes.map((b) => ({ name: b.name, events: b.events, services: b.services, program: b.program, conntrackKept: b.keep.size })),
          arms: [...summaries.values()],
          perEntry: entryReports,
          goals,
          checks,
        },
        null,
        2,
      ) + '\n',
    );
    progress(`wrote ${OUT}`);
  } finally {
    for (const bn of opened) bn.n.close();
    perf.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`[datapath] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

/**
 * Network policy at L3/L4 (issue 6): what enforcement costs per connection,
 * and how long the agents take to compute and program policies at scale.
 *
 * One 2-node lab (`bppol`, native routing), namespace `polbench`, pods run by
 * the lab's kubelets:
 *
 *   client    node1  busybox, `sleep infinity` (the load generator runs in it through `beeline exec`)
 *   server-1  node1  nginx-native (the host's nginx, C), HTTP 8080 (same-node path)
 *   server-2  node2  nginx-native, HTTP 8080 (cross-node path)
 *                    (`--server agnhost`: agnhost netexec, the Node.js built-in of earlier runs)
 *   tgt-0..3  node1, node2, node1, node2: pause; the endpoints the 1,000 policies of part 2 select
 *
 * Part 1, request rate under policy. Arms, each round in rotated order, --rounds times:
 *   none     no policy in the lab: the servers do not enforce ingress
 *   l3l4     CiliumNetworkPolicy allow-client: the servers (app=server) allow ingress
 *            from the client (fromEndpoints app=client) on TCP 8080, nothing else
 *   cidr10k  CiliumNetworkPolicy allow-client-cidr10k: the same rule plus a second one
 *            allowing TCP 8080 from --prefixes distinct /24s (fromCIDRSet, 100.64.0.0/24,
 *            100.64.1.0/24, …): that many CIDR identities in both nodes' ipcache and
 *            as many more entries in each server endpoint's policy map
 * An arm is set up by deleting the policies it does not have and applying the
 * one it has (apply → both agents report it synced at its resourceVersion →
 * both ipcaches hold the expected number of entries: timed, as "switch");
 * then, untimed, each arm is checked to hold what it claims (policy status,
 * CIDR identities, each server endpoint's entries in the BPF map, ipcache
 * entries; in round 1 also a connection from server-1 to server-2, which a
 * policy arm must deny), and the load runs in the client pod (bench/load.ts:
 * wrk by default, `--generator loadgen` for Node.js), one TCP connection per
 * HTTP GET, --concurrency in flight (wrk: one connection per thread, threads
 * alternating between the two servers) for --seconds; the generator pinned
 * to CPU 0 and the lab to the other CPUs (--pin no to leave the scheduler
 * alone), its own CPU and every CPU's busy share recorded.
 *
 * Part 2, programming at scale:
 *   --identities security identities with distinct label sets
 *     (k8s:io.kubernetes.pod.namespace=polbench, k8s:polbench-grp=g<i mod --groups>,
 *     k8s:polbench-id=i<i>) allocated in the lab's etcd by an IdentityAllocator
 *     (16 at a time; its lease keeps them referenced, so the identity GC leaves them);
 *   --policies CiliumNetworkPolicies bp-<j>: subject tgt-(j mod 4), ingress from the
 *     identities of group g<j mod --groups> on TCP 10000+j; so each target endpoint
 *     gets (policies/4) × (identities/groups) entries + default deny + allow-localhost.
 *     Written first as one store transaction (applyBatch); when etcd refuses that
 *     (its --max-txn-ops is 128), in transactions of 120 objects, back to back.
 *     Timed from the first write until both agents report synced with all of them;
 *     with each agent's own flush time (busyMs), its last flush, its CPU time and
 *     the entries found in the BPF map per target endpoint;
 *   --changes times, one policy changed (bp-0000's peer group g0 ↔ g4): time from the
 *     write to both agents synced with the new version, the flush on tgt-0's node
 *     (endpoints recomputed, entries written), and, untimed, the map checked to
 *     hold the new group's identities on port 10000;
 *   --changes times, one new identity in group g4 (whose policies all select tgt-0):
 *     from its allocation to both agents synced, the flush on tgt-0's node, and,
 *     untimed, tgt-0's map checked to hold it on the ports of g4's policies.
 *
 *   node dist/bench/policy.js [--rounds 8] [--seconds 4] [--concurrency 16] [--prefixes 10000]
 *        [--identities 5000] [--groups 100] [--policies 1000] [--changes 5]
 *        [--generator wrk|loadgen] [--server nginx|agnhost] [--pin yes|no] [--out bench/results/policy.json]
 *        [--only rate|programming]
 *
 * --only runs one part (the JSON then has only that part's results).
 *
 * Writes the table to stdout and the JSON to --out.
 */
import { writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { repoRoot } from '../src/common/version.js';
import { readState } from '../src/lab/state.js';
import { agentGet } from '../src/agent/client.js';
import { openEtcdStore } from '../src/store/etcd.js';
import { etcdClient } from '../src/common/etcd.js';
import type { ObjectInput, Store } from '../src/store/store.js';
import { parseManifest } from '../src/k8s/parse.js';
import { validateBatch } from '../src/k8s/validate.js';
import { IdentityAllocator } from '../src/identity/allocator.js';
import { applyObjects } from '../src/cli/resources.js';
import { describeLoad, loadConfigFromArgs, pinnedFor, runLoad, unpinLabs, type LoadResult } from './load.js';
import { arg } from './report.js';

const BIN = join(repoRoot, 'bin', 'beeline');
const LAB = 'bppol';
const NS = 'polbench';

const ROUNDS = Number(arg('--rounds', '8'));
const TMP = `/tmp/polbench-${process.pid}`;
const LOAD = loadConfigFromArgs(arg, TMP, { connections: 16, seconds: 4 });
const SECONDS = LOAD.seconds;
const CONCURRENCY = LOAD.connections;
/** The servers: the host's nginx (C) or agnhost netexec (the Node.js built-in). */
const SERVER = arg('--server', 'nginx');
if (SERVER !== 'nginx' && SERVER !== 'agnhost') throw new Error(`--server ${SERVER}: nginx or agnhost`);
const PREFIXES = Number(arg('--prefixes', '10000'));
const IDENTITIES = Number(arg('--identities', '5000'));
const GROUPS = Number(arg('--groups', '100'));
const POLICIES = Number(arg('--policies', '1000'));
const CHANGES = Number(arg('--changes', '5'));
const OUT = arg('--out', join(repoRoot, 'bench', 'results', 'policy.json'));
const ONLY = arg('--only', 'all');
if (!['all', 'rate', 'programming'].includes(ONLY)) throw new Error(`--only ${ONLY}: expected rate or programming`);
const RATE = ONLY !== 'programming';
const PROGRAMMING = ONLY !== 'rate';
/** Objects per store transaction when one transaction of all is refused: etcd's default --max-txn-ops is 128. */
const BATCH = 120;
const TARGETS = 4;

const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const progress = (msg: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${msg}\n`);

function sh(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string; allowFail?: boolean } = {}): { out: string; err: string; ms: number; status: number } {
  const t0 = now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: opts.timeoutMs ?? 300_000, input: opts.input, maxBuffer: 256 << 20 });
  const ms = now() - t0;
  if (r.status !== 0 && !opts.allowFail) {
    throw new Error(`${cmd} ${args.join(' ').slice(0, 200)} exited ${r.status}: ${(r.stderr || r.stdout || String(r.error ?? '')).trim().split('\n').slice(-3).join(' | ')}`);
  }
  return { out: r.stdout ?? '', err: r.stderr ?? '', ms, status: r.status ?? -1 };
}
/**
 * The CLI. Others rebuild dist/ on this machine (make build, make demo): a
 * CLI started meanwhile can die on a half-written module, which Node reports
 * with its version as the last line of stderr; such a run is tried again.
 */
function beeline(args: string[], o: { allowFail?: boolean; timeoutMs?: number } = {}): ReturnType<typeof sh> {
  for (let attempt = 1; ; attempt++) {
    const r = sh(BIN, args, { ...o, allowFail: true });
    const crashed = r.status !== 0 && /^Node\.js v\d+/.test(r.err.trim().split('\n').pop() ?? '');
    if (crashed && attempt < 4) {
      progress(`beeline ${args.slice(0, 3).join(' ')}: the CLI crashed (dist/ being rebuilt?); again`);
      spawnSync('sleep', ['3']);
      continue;
    }
    if (r.status !== 0 && !o.allowFail) throw new Error(`beeline ${args.join(' ').slice(0, 200)} exited ${r.status}: ${(r.err || r.out).trim().split('\n').slice(-3).join(' | ')}`);
    return r;
  }
}

// ---------------------------------------------------------------------------
// The lab and its pods

const targetNode = (i: number) => (i % 2 === 0 ? 'node1' : 'node2');

const WORKLOAD = `apiVersion: v1
kind: Namespace
metadata: {name: ${NS}}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: ${NS}, labels: {app: client}}
spec:
  nodeName: node1
  containers:
  - name: c
    image: busybox
    command: ["sleep", "infinity"]
${['node1', 'node2']
  .map(
    (node, i) => `---
apiVersion: v1
kind: Pod
metadata: {name: server-${i + 1}, namespace: ${NS}, labels: {app: server}}
spec:
  nodeName: ${node}
  containers:
  - name: ${SERVER === 'nginx' ? 'nginx' : 'netexec'}
    image: ${SERVER === 'nginx' ? 'beeline.dev/nginx-native' : 'registry.k8s.io/e2e-test-images/agnhost:2.47'}
    args: ${SERVER === 'nginx' ? '["--port", "8080"]' : '["netexec", "--http-port=8080", "--udp-port=-1"]'}
`,
  )
  .join('')}${Array.from(
  { length: TARGETS },
  (_, i) => `---
apiVersion: v1
kind: Pod
metadata: {name: tgt-${i}, namespace: ${NS}, labels: {role: target, tgt: t${i}}}
spec:
  nodeName: ${targetNode(i)}
  containers:
  - name: pause
    image: registry.k8s.io/pause:3.9
`,
).join('')}`;

interface Pod {
  name: string;
  node: string;
  ip: string;
  /** Endpoint id on its node, and its identity. */
  ep: number;
  identity: number;
}

interface Lab {
  store: Store;
  etcdEndpoint: string;
  agents: Record<string, string>;
  pods: Record<string, Pod>;
}

interface EndpointRow {
  id: number;
  ipv4: string;
  identity: number;
  pod?: { namespace: string; name: string };
}

async function labUp(): Promise<Lab> {
  beeline(['lab', 'down', '--name', LAB, '-q'], { allowFail: true });
  for (let attempt = 1; ; attempt++) {
    try {
      beeline(['lab', 'up', '--nodes', '2', '--name', LAB, '-q', '--routing', 'native']);
      break;
    } catch (e) {
      if (attempt >= 2) throw e;
      progress(`lab up ${LAB} failed (${(e as Error).message}); retrying`);
      beeline(['lab', 'down', '--name', LAB, '-q'], { allowFail: true });
      await sleep(3000);
    }
  }
  const s = readState(LAB)!;
  const etcdEndpoint = `unix://${s.etcd!.socket}`;
  const store = openEtcdStore({ endpoint: etcdEndpoint });
  const lab: Lab = { store, etcdEndpoint, agents: Object.fromEntries(Object.entries(s.agents).map(([n, a]) => [n, a.socket])), pods: {} };
  // The workload through admission, as `beeline apply` writes it.
  const wl = validateBatch(parseManifest(WORKLOAD, 'policy-bench.yaml'));
  await applyObjects(store, wl.objects as unknown as ObjectInput[], wl.sources, s.plan.serviceCIDR);
  const want = ['client', 'server-1', 'server-2', ...Array.from({ length: TARGETS }, (_, i) => `tgt-${i}`)];
  const t0 = now();
  for (;;) {
    const pods = (await store.list('Pod', { namespace: NS })).items as any[];
    const running = pods.filter((p) => p.status?.phase === 'Running' && p.status?.podIP);
    if (want.every((n) => running.some((p) => p.metadata.name === n))) {
      for (const p of running) lab.pods[p.metadata.name] = { name: p.metadata.name, node: p.spec.nodeName, ip: p.status.podIP, ep: 0, identity: 0 };
      break;
    }
    if (now() - t0 > 180_000) throw new Error(`pods not running after 180 s: ${pods.map((p) => `${p.metadata.name}=${p.status?.phase}`).join(' ')}`);
    await sleep(500);
  }
  // Every pod is an endpoint of its node with its security identity (not reserved:init).
  for (;;) {
    const missing: string[] = [];
    for (const pod of Object.values(lab.pods)) {
      const eps = await agentGet<EndpointRow[]>(lab.agents[pod.node]!, '/v1/endpoints');
      const ep = eps.find((e) => e.pod?.namespace === NS && e.pod.name === pod.name);
      if (ep && ep.identity >= 256) {
        pod.ep = ep.id;
        pod.identity = ep.identity;
      } else missing.push(pod.name);
    }
    if (missing.length === 0) break;
    if (now() - t0 > 240_000) throw new Error(`endpoints without identity after 240 s: ${missing.join(' ')}`);
    await sleep(500);
  }
  // Both servers answer the client.
  for (const s of ['server-1', 'server-2']) {
    const t1 = now();
    for (;;) {
      const r = beeline(['exec', '--lab', LAB, '-n', NS, 'client', '--', 'curl', '-s', '-m', '3', `http://${lab.pods[s]!.ip}:8080/`], { allowFail: true });
      if (r.status === 0 && (SERVER === 'nginx' ? r.out === 'ok\n' : r.out.startsWith('NOW:'))) break;
      if (now() - t1 > 60_000) throw new Error(`${s} does not answer the client: curl exit ${r.status}, ${JSON.stringify(r.out.slice(0, 80))}`);
      await sleep(1000);
    }
  }
  return lab;
}

/**
 * Policies: parsed and validated as `beeline apply` does, then written as one
 * store transaction (applyBatch) without admission, which has nothing to add
 * to a CiliumNetworkPolicy; answers the resourceVersions written.
 */
async function applyDocs(lab: Lab, docs: object[]): Promise<{ resourceVersions: Record<string, string> }> {
  const batch = validateBatch(parseManifest(JSON.stringify(docs), 'policy-bench.json'));
  const objects = batch.objects as unknown as ObjectInput[];
  const rvs: Record<string, string> = {};
  const written = await lab.store.applyBatch(objects);
  for (const o of written) rvs[o.metadata.name] = o.metadata.resourceVersion ?? '';
  return { resourceVersions: rvs };
}

// ---------------------------------------------------------------------------
// Agents

interface PolicyStatus {
  synced: boolean;
  policies: string[];
  endpoints: number;
  lastFlush: { at: string; ms: number; cpuMs?: number; endpoints: number; upserts: number; deletes: number } | null;
  busyMs: number;
  lastError: string | null;
  cidrIdentities: number;
}
const statusOf = (sock: string) => agentGet<PolicyStatus>(sock, '/v1/policy/status', 60_000);
const ipcacheCount = async (sock: string) => (await agentGet<unknown[]>(sock, '/v1/bpf/ipcache', 60_000)).length;
const mapEntries = (sock: string, ep: number) => agentGet<{ direction: string; identity: number; protocol: number; port: number; verdict: string }[]>(sock, `/v1/bpf/policy?endpoint=${ep}`, 60_000);
interface EpPolicyRow {
  id: number;
  pod: string;
  ingressEnforced: boolean;
  entries: number;
  error?: string;
}
const policyRows = async (sock: string) => (await agentGet<{ endpoints: EpPolicyRow[] }>(sock, '/v1/policy', 60_000)).endpoints;

/** The agent process's CPU time so far (user + system, ms), from /proc. */
const CLK_TCK = Number(sh('getconf', ['CLK_TCK']).out.trim()) || 100;
async function agentCpuMs(lab: Lab): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [node, sock] of Object.entries(lab.agents)) {
    const { pid } = await agentGet<{ pid: number }>(sock, '/v1/status', 60_000);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out[node] = ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  }
  return out;
}
const diff = (a: Record<string, number>, b: Record<string, number>) => Object.fromEntries(Object.entries(b).map(([k, v]) => [k, Math.round(v - (a[k] ?? 0))]));

/**
 * Polls every agent until `done(status)`; answers ms from t0 per node.
 * `everyMs` is the poll interval; the status call costs the agent a little.
 */
async function waitAgents(lab: Lab, what: string, t0: number, done: (st: PolicyStatus, node: string) => boolean | Promise<boolean>, everyMs: number, timeoutMs: number): Promise<Record<string, number>> {
  const at: Record<string, number> = {};
  for (;;) {
    for (const [node, sock] of Object.entries(lab.agents)) {
      if (at[node] !== undefined) continue;
      if (await done(await statusOf(sock), node)) at[node] = now() - t0;
    }
    if (Object.keys(at).length === Object.keys(lab.agents).length) return at;
    if (now() - t0 > timeoutMs) {
      const st = await Promise.all(Object.values(lab.agents).map((s) => statusOf(s)));
      throw new Error(`${what}: not done after ${timeoutMs / 1000} s: ${st.map((s) => `synced=${s.synced} policies=${s.policies.length} lastError=${s.lastError}`).join('; ')}`);
    }
    await sleep(everyMs);
  }
}

// ---------------------------------------------------------------------------
// Part 1: request rate under policy

type ArmName = 'none' | 'l3l4' | 'cidr10k';
const ARMS: ArmName[] = ['none', 'l3l4', 'cidr10k'];

const toPorts = [{ ports: [{ port: '8080', protocol: 'TCP' }] }];
const fromClient = { fromEndpoints: [{ matchLabels: { app: 'client' } }], toPorts };

/** /24 number i of 100.64.0.0/10 (16384 of them). */
function prefix(i: number): string {
  const n = 0x64400000 + i * 256;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.0/24`;
}

function armPolicies(arm: ArmName): object[] {
  const cnp = (name: string, ingress: object[]) => ({ apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name, namespace: NS }, spec: { endpointSelector: { matchLabels: { app: 'server' } }, ingress } });
  if (arm === 'l3l4') return [cnp('allow-client', [fromClient])];
  if (arm === 'cidr10k') return [cnp('allow-client-cidr10k', [fromClient, { fromCIDRSet: Array.from({ length: PREFIXES }, (_, i) => ({ cidr: prefix(i) })), toPorts }])];
  return [];
}
const ARM_POLICY_NAMES = ['allow-client', 'allow-client-cidr10k'];
/** Entries of a server endpoint's policy map per arm: none: not enforced; else default deny + allow-localhost + the client on 8080 (+ every prefix). */
const expectedServerEntries = (arm: ArmName) => (arm === 'none' ? 0 : arm === 'l3l4' ? 3 : 3 + PREFIXES);

interface SwitchSample {
  round: number;
  arm: ArmName;
  /** apply (and deletes) → both agents synced with exactly the arm's policies, per node. */
  syncedMs: Record<string, number>;
  /** → both ipcaches hold the arm's entry count. */
  ipcacheMs: Record<string, number>;
  flush: Record<string, PolicyStatus['lastFlush']>;
}

async function setArm(lab: Lab, arm: ArmName, round: number, ipcacheBase: Record<string, number>): Promise<SwitchSample> {
  const docs = armPolicies(arm);
  const keep = new Set(docs.map((d) => (d as { metadata: { name: string } }).metadata.name));
  const t0 = now();
  for (const name of ARM_POLICY_NAMES) if (!keep.has(name) && (await lab.store.get('CiliumNetworkPolicy', NS, name))) await lab.store.delete('CiliumNetworkPolicy', NS, name);
  const want = new Set<string>();
  for (const name of keep) {
    const cur = await lab.store.get('CiliumNetworkPolicy', NS, name);
    if (cur) want.add(`CiliumNetworkPolicy/${NS}/${name}@${cur.metadata.resourceVersion}`);
  }
  if (want.size < keep.size) {
    const { resourceVersions } = await applyDocs(lab, docs);
    for (const [name, rv] of Object.entries(resourceVersions)) want.add(`CiliumNetworkPolicy/${NS}/${name}@${rv}`);
  }
  const syncedMs = await waitAgents(lab, `arm ${arm}`, t0, (st) => st.synced && st.policies.length === want.size && st.policies.every((p) => want.has(p)), 50, 300_000);
  const ipcacheMs: Record<string, number> = {};
  const extra = arm === 'cidr10k' ? PREFIXES : 0;
  for (const [node, sock] of Object.entries(lab.agents)) {
    for (;;) {
      const n = await ipcacheCount(sock);
      if (n === ipcacheBase[node]! + extra) break;
      if (now() - t0 > 300_000) throw new Error(`arm ${arm}: ${node}'s ipcache holds ${n} entries, want ${ipcacheBase[node]! + extra}`);
      await sleep(50);
    }
    ipcacheMs[node] = now() - t0;
  }
  const flush: Record<string, PolicyStatus['lastFlush']> = {};
  for (const [node, sock] of Object.entries(lab.agents)) flush[node] = (await statusOf(sock)).lastFlush;
  return { round, arm, syncedMs, ipcacheMs, flush };
}

/** What the arm claims, checked on both nodes; throws when it does not hold. */
async function checkArm(lab: Lab, arm: ArmName, round: number, ipcacheBase: Record<string, number>): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { round, arm };
  for (const server of ['server-1', 'server-2']) {
    const pod = lab.pods[server]!;
    const sock = lab.agents[pod.node]!;
    const st = await statusOf(sock);
    const entries = await mapEntries(sock, pod.ep);
    const row = (await policyRows(sock)).find((r) => r.id === pod.ep);
    const ipc = await ipcacheCount(sock);
    const want = expectedServerEntries(arm);
    const cidrWant = arm === 'cidr10k' ? PREFIXES : 0;
    const clientEntry = entries.some((e) => e.direction === 'ingress' && e.identity === lab.pods['client']!.identity && e.protocol === 6 && e.port === 8080 && e.verdict === 'allow');
    out[server] = { node: pod.node, endpoint: pod.ep, mapEntries: entries.length, ingressEnforced: row?.ingressEnforced ?? false, cidrIdentities: st.cidrIdentities, ipcacheEntries: ipc, clientAllowed: clientEntry, ...(row?.error ? { error: row.error } : {}) };
    const bad: string[] = [];
    if (entries.length !== want) bad.push(`${entries.length} map entries, want ${want}`);
    if ((row?.ingressEnforced ?? false) !== (arm !== 'none')) bad.push(`ingress enforced ${row?.ingressEnforced}`);
    if (arm !== 'none' && !clientEntry) bad.push('no allow entry for the client on TCP 8080');
    if (st.cidrIdentities !== cidrWant) bad.push(`${st.cidrIdentities} CIDR identities, want ${cidrWant}`);
    if (ipc !== ipcacheBase[pod.node]! + cidrWant) bad.push(`ipcache ${ipc} entries, want ${ipcacheBase[pod.node]! + cidrWant}`);
    if (row?.error) bad.push(row.error);
    if (bad.length) throw new Error(`arm ${arm}, ${server} on ${pod.node}: ${bad.join('; ')}`);
  }
  if (round === 1) {
    // Enforcement is real: server-1 → server-2:8080 connects without policy, is dropped under either policy.
    const r = beeline(['exec', '--lab', LAB, '-n', NS, 'server-1', '--', BIN, 'probe', 'tcp', `${lab.pods['server-2']!.ip}:8080`, '--timeout', '1000'], { allowFail: true });
    out['server-1→server-2:8080'] = r.status === 0 ? 'connected' : 'not connected';
    if ((r.status === 0) !== (arm === 'none')) throw new Error(`arm ${arm}: server-1 → server-2:8080 ${r.status === 0 ? 'connected' : 'did not connect'}`);
  }
  return out;
}

function load(lab: Lab): LoadResult {
  return pinnedFor(LOAD, [LAB], () => runLoad(LOAD, { lab: LAB, namespace: NS, pod: 'client' }, ['server-1', 'server-2'].map((s) => `${lab.pods[s]!.ip}:8080`)));
}

interface Sample extends LoadResult {
  round: number;
  arm: ArmName;
  /** Each agent's CPU time during the load, % of one core. */
  agentCpuPct: Record<string, number>;
}

// ---------------------------------------------------------------------------
// Part 2: programming at scale

const identityLabels = (i: number) => [`k8s:io.kubernetes.pod.namespace=${NS}`, `k8s:polbench-grp=g${i % GROUPS}`, `k8s:polbench-id=i${i}`];
const policyName = (j: number) => `bp-${String(j).padStart(4, '0')}`;
function scalePolicy(j: number, group = j % GROUPS): object {
  return {
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumNetworkPolicy',
    metadata: { name: policyName(j), namespace: NS },
    spec: {
      endpointSelector: { matchLabels: { tgt: `t${j % TARGETS}` } },
      ingress: [{ fromEndpoints: [{ matchLabels: { 'polbench-grp': `g${group}` } }], toPorts: [{ ports: [{ port: String(10000 + j), protocol: 'TCP' }] }] }],
    },
  };
}

async function pool<T>(n: number, items: T[], fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

// ---------------------------------------------------------------------------
// Statistics

const median = (xs: number[]) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '–');
const maxOf = (r: Record<string, number>) => Math.max(...Object.values(r));

/** Part 2: identities, then the policies at scale, then single changes; the table rows and the JSON of it. */
async function programming(l: Lab, res: { alloc?: IdentityAllocator; etcd?: ReturnType<typeof etcdClient> }): Promise<{ prog: string[]; json: Record<string, unknown> }> {
  progress(`allocating ${IDENTITIES} identities (IdentityAllocator, 16 at a time)`);
  const etcd = (res.etcd = etcdClient(l.etcdEndpoint));
  const alloc = (res.alloc = new IdentityAllocator(etcd, { node: `${LAB}-bench` }));
  await alloc.start();
  const idsBefore = Object.fromEntries(await Promise.all(Object.entries(l.agents).map(async ([n, s]) => [n, (await agentGet<unknown[]>(s, '/v1/identities', 60_000)).length] as const)));
  const cpuI0 = await agentCpuMs(l);
  const ti = now();
  const idOf = new Map<number, number>();
  await pool(16, Array.from({ length: IDENTITIES }, (_, i) => i), async (i) => {
    idOf.set(i, (await alloc!.acquire(identityLabels(i))).id);
  });
  const allocMs = now() - ti;
  const idsKnownMs: Record<string, number> = {};
  for (const [node, sock] of Object.entries(l.agents)) {
    for (;;) {
      const n = (await agentGet<unknown[]>(sock, '/v1/identities', 60_000)).length;
      if (n >= idsBefore[node]! + IDENTITIES) break;
      if (now() - ti > 600_000) throw new Error(`${node} knows ${n - idsBefore[node]!} of the ${IDENTITIES} new identities after 600 s`);
      await sleep(200);
    }
    idsKnownMs[node] = now() - ti;
  }
  await waitAgents(l, 'synced after the identities', ti, (st) => st.synced, 100, 600_000);
  const identityPhase = { allocMs, perSec: IDENTITIES / (allocMs / 1000), knownByAgentsMs: idsKnownMs, agentCpuMs: diff(cpuI0, await agentCpuMs(l)) };
  progress(`identities: ${IDENTITIES} in ${fmt(allocMs / 1000, 1)} s (${fmt(identityPhase.perSec, 0)}/s); known by the agents after ${JSON.stringify(idsKnownMs)} ms; agents' CPU ${JSON.stringify(identityPhase.agentCpuMs)} ms`);
  const groupIds = (g: number) => [...idOf].filter(([i]) => i % GROUPS === g).map(([, id]) => id).sort((a, b) => a - b);

  progress(`applying ${POLICIES} policies`);
  const docs = Array.from({ length: POLICIES }, (_, j) => scalePolicy(j));
  const validated = validateBatch(parseManifest(JSON.stringify(docs), 'policy-bench.json')).objects as unknown as ObjectInput[];
  const busy0 = Object.fromEntries(await Promise.all(Object.entries(l.agents).map(async ([n, s]) => [n, (await statusOf(s)).busyMs] as const)));
  const cpuP0 = await agentCpuMs(l);
  let oneTxn: { ok: boolean; error?: string; ms: number };
  const rvOf = new Map<string, string>();
  const t1 = now();
  try {
    const written = await l.store.applyBatch(validated);
    for (const o of written) rvOf.set(o.metadata.name, o.metadata.resourceVersion ?? '');
    oneTxn = { ok: true, ms: now() - t1 };
  } catch (e) {
    oneTxn = { ok: false, error: (e as Error).message.slice(0, 300), ms: now() - t1 };
    progress(`one transaction of ${POLICIES} refused (${oneTxn.error}); writing transactions of ${BATCH}`);
  }
  const tp = oneTxn.ok ? t1 : now();
  const applying = (async () => {
    if (!oneTxn.ok) {
      for (let k = 0; k < validated.length; k += BATCH) {
        for (const o of await l.store.applyBatch(validated.slice(k, k + BATCH))) rvOf.set(o.metadata.name, o.metadata.resourceVersion ?? '');
      }
    }
    return now() - tp;
  })();
  const prefixKey = `CiliumNetworkPolicy/${NS}/bp-`;
  const waiting = waitAgents(l, `${POLICIES} policies`, tp, (st) => st.synced && st.policies.filter((p) => p.startsWith(prefixKey)).length === POLICIES, 50, 900_000);
  const [applyMs, syncedMs] = await Promise.all([applying, waiting]);
  const programMs = maxOf(syncedMs);
  const busyP = Object.fromEntries(await Promise.all(Object.entries(l.agents).map(async ([n, s]) => [n, (await statusOf(s)).busyMs - busy0[n]!] as const)));
  const cpuP = diff(cpuP0, await agentCpuMs(l));
  const lastFlushP: Record<string, PolicyStatus['lastFlush']> = {};
  for (const [node, sock] of Object.entries(l.agents)) {
    const st = await statusOf(sock);
    lastFlushP[node] = st.lastFlush;
    const want = new Set([...rvOf].map(([n, rv]) => `CiliumNetworkPolicy/${NS}/${n}@${rv}`));
    const have = st.policies.filter((p) => p.startsWith(prefixKey));
    if (have.length !== want.size || have.some((p) => !want.has(p))) throw new Error(`${node}: policies in force differ from the ones written (resourceVersions)`);
  }
  progress(`${POLICIES} policies: written in ${fmt(applyMs, 0)} ms, both agents synced after ${fmt(programMs, 0)} ms (${JSON.stringify(syncedMs)}); flush work ${JSON.stringify(busyP)} ms; agents' CPU ${JSON.stringify(cpuP)} ms`);
  // Entries really in the map, per target endpoint.
  const targetEntries: { pod: string; node: string; endpoint: number; entries: number; expected: number; ingressEnforced: boolean }[] = [];
  for (let t = 0; t < TARGETS; t++) {
    const pod = l.pods[`tgt-${t}`]!;
    const sock = l.agents[pod.node]!;
    const entries = (await mapEntries(sock, pod.ep)).length;
    const row = (await policyRows(sock)).find((r) => r.id === pod.ep);
    let expected = 2;
    for (let j = t; j < POLICIES; j += TARGETS) expected += groupIds(j % GROUPS).length;
    targetEntries.push({ pod: pod.name, node: pod.node, endpoint: pod.ep, entries, expected, ingressEnforced: row?.ingressEnforced ?? false });
    if (entries !== expected || row?.error) throw new Error(`tgt-${t}: ${entries} map entries, want ${expected}${row?.error ? `: ${row.error}` : ''}`);
  }
  const entriesWritten = targetEntries.reduce((a, x) => a + x.entries, 0);
  progress(`map entries per target endpoint: ${targetEntries.map((x) => `${x.pod}@${x.node} ${x.entries}`).join(', ')} (total ${entriesWritten})`);

  // One change, --changes times: bp-0000's peer group g0 ↔ g4.
  const changes: Record<string, unknown>[] = [];
  const t0pod = l.pods['tgt-0']!;
  for (let c = 1; c <= CHANGES; c++) {
    const group = c % 2 ? 4 : 0;
    const before: Record<string, string | undefined> = {};
    for (const [node, sock] of Object.entries(l.agents)) before[node] = (await statusOf(sock)).lastFlush?.at;
    const wall0 = Date.now();
    const tc = now();
    const { resourceVersions } = await applyDocs(l, [scalePolicy(0, group)]);
    const key = `${prefixKey}0000@${resourceVersions[policyName(0)]}`;
    const writeMs = now() - tc;
    const seenFlush: Record<string, PolicyStatus['lastFlush']> = {};
    const synced = await waitAgents(l, 'one change', tc, (st, node) => {
      if (st.lastFlush && st.lastFlush.at !== before[node] && Date.parse(st.lastFlush.at) >= wall0 && (seenFlush[node] === undefined || st.lastFlush.upserts > 0)) seenFlush[node] = st.lastFlush;
      return st.synced && st.policies.includes(key);
    }, 5, 120_000);
    const flush = seenFlush[t0pod.node] ?? null;
    // Untimed: the map holds the new group on port 10000.
    const rows = (await mapEntries(l.agents[t0pod.node]!, t0pod.ep)).filter((e) => e.direction === 'ingress' && e.protocol === 6 && e.port === 10000);
    const got = rows.map((e) => e.identity).sort((a, b) => a - b);
    const want = groupIds(group);
    const mapOk = got.length === want.length && got.every((x, i) => x === want[i]);
    if (!mapOk) throw new Error(`change ${c}: tgt-0's entries on port 10000 are ${got.length} identities, want the ${want.length} of group g${group}`);
    const sample = {
      change: c,
      group: `g${group}`,
      writeMs,
      syncedMs: synced,
      endToEndMs: maxOf(synced),
      /** End of the flush on tgt-0's node, by its clock, from the write's start. */
      flushEndMs: flush ? Date.parse(flush.at) - wall0 : null,
      flush,
      flushOther: Object.fromEntries(Object.entries(seenFlush).filter(([n]) => n !== t0pod.node)),
      mapChecked: mapOk,
    };
    changes.push(sample);
    progress(`change ${c}/${CHANGES} (bp-0000 → g${group}): synced on both in ${fmt(sample.endToEndMs, 0)} ms (write ${fmt(writeMs, 0)} ms); flush on ${t0pod.node}: ${flush ? `${fmt(flush.ms, 2)} ms (CPU ${fmt(flush.cpuMs ?? NaN, 2)} ms), ${flush.endpoints} endpoints, +${flush.upserts} -${flush.deletes}` : 'not seen'}`);
  }

  // One new identity, --changes times, in group g4: the policies naming g4 (bp-j, j mod 100 = 4, so j mod 4 = 0)
  // all select tgt-0, so one endpoint is affected; the agents mark every endpoint on an identity event.
  const newIdentities: Record<string, unknown>[] = [];
  const g4Policies = Math.ceil((POLICIES - 4) / GROUPS) + (CHANGES % 2 ? 1 : 0);
  for (let k = 1; k <= CHANGES; k++) {
    const before: Record<string, string | undefined> = {};
    for (const [node, sock] of Object.entries(l.agents)) before[node] = (await statusOf(sock)).lastFlush?.at;
    const wall0 = Date.now();
    const tk = now();
    const id = (await alloc.acquire(identityLabels(IDENTITIES + k * GROUPS + 4))).id;
    const acquireMs = now() - tk;
    const seenFlush: Record<string, PolicyStatus['lastFlush']> = {};
    const synced = await waitAgents(l, 'one new identity', tk, (st, node) => {
      if (st.lastFlush && st.lastFlush.at !== before[node] && Date.parse(st.lastFlush.at) >= wall0 && (seenFlush[node] === undefined || st.lastFlush.upserts > 0)) seenFlush[node] = st.lastFlush;
      return st.synced && seenFlush[node] !== undefined && (node !== t0pod.node || seenFlush[node]!.upserts > 0);
    }, 5, 120_000);
    const flush = seenFlush[t0pod.node] ?? null;
    // Untimed: tgt-0's map holds the new identity on the ports of g4's policies.
    const got = (await mapEntries(l.agents[t0pod.node]!, t0pod.ep)).filter((e) => e.direction === 'ingress' && e.identity === id).length;
    if (got !== g4Policies) throw new Error(`new identity ${k}: tgt-0 has ${got} entries for identity ${id}, want ${g4Policies}`);
    const sample = { k, identity: id, acquireMs, syncedMs: synced, endToEndMs: maxOf(synced), flushEndMs: flush ? Date.parse(flush.at) - wall0 : null, flush, flushOther: Object.fromEntries(Object.entries(seenFlush).filter(([n]) => n !== t0pod.node)), affectedEndpoints: 1, mapChecked: true };
    newIdentities.push(sample);
    progress(`new identity ${k}/${CHANGES} (${id}, g4): acquired in ${fmt(acquireMs, 0)} ms, both agents synced after ${fmt(sample.endToEndMs, 0)} ms; flush on ${t0pod.node}: ${flush ? `${fmt(flush.ms, 2)} ms (CPU ${fmt(flush.cpuMs ?? NaN, 2)} ms), ${flush.endpoints} endpoints, +${flush.upserts} -${flush.deletes}` : 'not seen'}`);
  }

  const ch = changes as { endToEndMs: number; writeMs: number; flushEndMs: number | null; flush: PolicyStatus['lastFlush'] }[];
  const chMs = ch.map((c) => c.endToEndMs);
  const chFlush = ch.filter((c) => c.flush).map((c) => c.flush!.ms);
  const chFlushCpu = ch.filter((c) => c.flush?.cpuMs !== undefined).map((c) => c.flush!.cpuMs!);
  const chFlushEnd = ch.filter((c) => c.flushEndMs !== null).map((c) => c.flushEndMs!);
  const f0 = ch.find((c) => c.flush)?.flush;
  const prog: string[] = [];
  prog.push('| step | result |');
  prog.push('|---|---|');
  prog.push(`| ${IDENTITIES} identities allocated (IdentityAllocator, 16 at a time) | ${fmt(allocMs / 1000, 1)} s (${fmt(identityPhase.perSec, 0)}/s); in both agents after ${fmt(maxOf(idsKnownMs) / 1000, 1)} s; agents' CPU meanwhile ${Object.entries(identityPhase.agentCpuMs).map(([n, v]) => `${n} ${fmt(v / 1000, 1)} s`).join(', ')} |`);
  prog.push(`| ${POLICIES} policies written | ${oneTxn.ok ? `one transaction, ${fmt(applyMs, 0)} ms` : `one transaction refused by etcd (${oneTxn.error?.split('\n')[0]}); ${Math.ceil(POLICIES / BATCH)} transactions of ≤ ${BATCH}: ${fmt(applyMs, 0)} ms`} |`);
  prog.push(`| first write → both agents synced with all ${POLICIES} | ${fmt(programMs, 0)} ms (${Object.entries(syncedMs).map(([n, v]) => `${n} ${fmt(v, 0)}`).join(', ')}) |`);
  prog.push(`| agents' own flush work in that time (busyMs) | ${Object.entries(busyP).map(([n, v]) => `${n} ${fmt(v, 0)} ms`).join(', ')} |`);
  prog.push(`| agents' CPU time in that time | ${Object.entries(cpuP).map(([n, v]) => `${n} ${fmt(v, 0)} ms`).join(', ')} |`);
  prog.push(`| last flush | ${Object.entries(lastFlushP).map(([n, f]) => (f ? `${n} ${fmt(f.ms, 1)} ms, ${f.endpoints} endpoints, +${f.upserts} −${f.deletes}` : `${n} –`)).join('; ')} |`);
  prog.push(`| map entries written (target endpoints) | ${targetEntries.map((x) => `${x.pod}@${x.node} ${x.entries}`).join(', ')}: ${entriesWritten} in all, as expected |`);
  prog.push(`| one policy changed (${CHANGES}×): write → both agents synced | ${fmt(median(chMs), 0)} ms (${fmt(Math.min(...chMs), 0)}–${fmt(Math.max(...chMs), 0)}); the write itself ${fmt(median(ch.map((c) => c.writeMs)), 0)} ms |`);
  prog.push(`| … → end of the flush on tgt-0's node (its clock) | ${fmt(median(chFlushEnd), 0)} ms (${fmt(Math.min(...chFlushEnd), 0)}–${fmt(Math.max(...chFlushEnd), 0)}) |`);
  prog.push(`| … that flush | ${fmt(median(chFlush), 2)} ms (${fmt(Math.min(...chFlush), 2)}–${fmt(Math.max(...chFlush), 2)}); ${f0 ? `${f0.endpoints} endpoint(s) recomputed, +${f0.upserts} −${f0.deletes} entries` : 'not seen'} |`);
  if (chFlushCpu.length) prog.push(`| … that flush's CPU time (agent process) | ${fmt(median(chFlushCpu), 2)} ms (${fmt(Math.min(...chFlushCpu), 2)}–${fmt(Math.max(...chFlushCpu), 2)}) |`);

  const ni = newIdentities as { endToEndMs: number; flush: PolicyStatus['lastFlush'] }[];
  const niMs = ni.map((x) => x.endToEndMs);
  const niFlush = ni.filter((x) => x.flush).map((x) => x.flush!.ms);
  const niCpu = ni.filter((x) => x.flush?.cpuMs !== undefined).map((x) => x.flush!.cpuMs!);
  const n0 = ni.find((x) => x.flush)?.flush;
  prog.push(`| one new identity in g4 (${CHANGES}×; 1 endpoint affected): acquire → both agents synced | ${fmt(median(niMs), 0)} ms (${fmt(Math.min(...niMs), 0)}–${fmt(Math.max(...niMs), 0)}) |`);
  prog.push(`| … the flush on tgt-0's node | ${fmt(median(niFlush), 2)} ms (${fmt(Math.min(...niFlush), 2)}–${fmt(Math.max(...niFlush), 2)}); ${n0 ? `${n0.endpoints} endpoint(s) brought up to date, +${n0.upserts} −${n0.deletes} entries` : 'not seen'} |`);
  if (niCpu.length) prog.push(`| … that flush's CPU time (agent process) | ${fmt(median(niCpu), 2)} ms (${fmt(Math.min(...niCpu), 2)}–${fmt(Math.max(...niCpu), 2)}) |`);
  return { prog, json: { newIdentities, identities: identityPhase, oneTransaction: oneTxn, applyMs, syncedMs, programMs, agentBusyMs: busyP, agentCpuMs: cpuP, lastFlush: lastFlushP, targetEntries, entriesWritten, changes } };
}

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  mkdirSync(TMP, { recursive: true });
  const t00 = now();
  let lab: Lab | undefined;
  const res: { alloc?: IdentityAllocator; etcd?: ReturnType<typeof etcdClient> } = {};
  const samples: Sample[] = [];
  const switches: SwitchSample[] = [];
  const checks: Record<string, unknown>[] = [];
  try {
    progress(`lab ${LAB}: up (2 nodes, native routing), pods in ${NS}`);
    lab = await labUp();
    const l = lab;
    if (LOAD.pin) progress(`${unpinLabs([LAB])} lab processes; pinned to the lab's CPUs during each measurement only`);
    progress(`load: ${describeLoad(LOAD)}; servers: ${SERVER}`);
    progress(`pods: ${Object.values(l.pods).map((p) => `${p.name}@${p.node} ${p.ip} ep ${p.ep} id ${p.identity}`).join(', ')}`);
    const ipcacheBase: Record<string, number> = {};
    for (const [node, sock] of Object.entries(l.agents)) ipcacheBase[node] = await ipcacheCount(sock);
    progress(`ipcache entries without CIDR policy: ${JSON.stringify(ipcacheBase)}`);

    // ------------------------------------------------------------ part 1
    for (let round = 1; RATE && round <= ROUNDS; round++) {
      const order = ARMS.map((_, j) => ARMS[(j + round - 1) % ARMS.length]!);
      for (const arm of order) {
        const sw = await setArm(l, arm, round, ipcacheBase);
        switches.push(sw);
        checks.push(await checkArm(l, arm, round, ipcacheBase));
        await sleep(500);
        const cpu0 = await agentCpuMs(l);
        const tl = now();
        const r = load(l);
        // The agents' CPU while the load ran (a new connection under policy is also a policy-verdict event the agent reads).
        const agentCpuPct = Object.fromEntries(Object.entries(diff(cpu0, await agentCpuMs(l))).map(([n, ms]) => [n, Math.round((ms / (now() - tl)) * 1000) / 10]));
        samples.push({ round, arm, ...r, agentCpuPct });
        progress(
          `round ${round}/${ROUNDS} ${arm.padEnd(7)} switch ${fmt(maxOf(sw.syncedMs), 0)} ms (ipcache ${fmt(maxOf(sw.ipcacheMs), 0)} ms) | ${fmt(r.rps, 0)} req/s connect p50 ${fmt(r.connectP50Ms * 1000, 0)} µs p99 ${fmt(r.connectP99Ms * 1000, 0)} µs errors ${r.errors} generator cpu ${r.cpuPercent}% cpus busy ${r.cpuBusy.join('/')}% agents cpu ${JSON.stringify(agentCpuPct)}`,
        );
      }
    }
    if (RATE) await setArm(l, 'none', ROUNDS + 1, ipcacheBase);

    // ------------------------------------------------------------ part 2
    const scale = PROGRAMMING ? await programming(l, res) : undefined;

    // ------------------------------------------------------------ summary
    const of = (arm: ArmName) => samples.filter((s) => s.arm === arm);
    const base = median(of('none').map((s) => s.rps));
    const summary = !RATE ? [] : ARMS.map((arm) => {
      const s = of(arm);
      const rps = s.map((x) => x.rps);
      const p99 = s.map((x) => x.connectP99Ms * 1000);
      // Paired: this arm against the no-policy arm of the same round.
      const paired = s.map((x) => x.rps / (samples.find((y) => y.round === x.round && y.arm === 'none')?.rps ?? NaN));
      const sw = switches.filter((x) => x.arm === arm && x.round <= ROUNDS).map((x) => maxOf(x.syncedMs));
      const swIpc = switches.filter((x) => x.arm === arm && x.round <= ROUNDS).map((x) => maxOf(x.ipcacheMs));
      return {
        arm,
        rps: median(rps),
        rpsMin: Math.min(...rps),
        rpsMax: Math.max(...rps),
        vsNone: median(rps) / base,
        pairedRatio: median(paired),
        pairedMin: Math.min(...paired),
        pairedMax: Math.max(...paired),
        connectP50us: median(s.map((x) => x.connectP50Ms * 1000)),
        connectP99us: median(p99),
        connectP99Min: Math.min(...p99),
        connectP99Max: Math.max(...p99),
        errors: s.reduce((a, x) => a + x.errors, 0),
        serverEntries: expectedServerEntries(arm),
        agentCpuPct: Object.fromEntries(Object.keys(s[0]?.agentCpuPct ?? {}).map((n) => [n, median(s.map((x) => x.agentCpuPct[n]!))])),
        loadgenCpuPct: median(s.map((x) => x.cpuPercent)),
        generatorCpuMaxPct: Math.max(...s.map((x) => x.cpuPercent)),
        cpuBusyPct: (s[0]?.cpuBusy ?? []).map((_, c) => median(s.map((x) => x.cpuBusy[c] ?? NaN))),
        switchMs: median(sw),
        switchIpcacheMs: median(swIpc),
      };
    });
    const rows: string[] = [];
    rows.push('| arm | policy in force | server map entries | req/s (median, min–max) | vs none (medians) | vs none, per round (median, min–max) | connect p50 µs | connect p99 µs (median, min–max) | errors | generator CPU % (median, max) | CPU busy % (median per CPU) | agents CPU during load, % of a core (node1 / node2) | switch to arm: agents synced / ipcache (ms, median) |');
    rows.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    const what: Record<ArmName, string> = { none: 'none', l3l4: 'allow client → servers TCP 8080', cidr10k: `same + fromCIDRSet of ${PREFIXES} /24s` };
    for (const r of summary) {
      rows.push(
        `| ${r.arm} | ${what[r.arm]} | ${r.serverEntries} | ${fmt(r.rps, 0)} (${fmt(r.rpsMin, 0)}–${fmt(r.rpsMax, 0)}) | ${fmt(r.vsNone, 3)} | ${fmt(r.pairedRatio, 3)} (${fmt(r.pairedMin, 3)}–${fmt(r.pairedMax, 3)}) | ${fmt(r.connectP50us, 0)} | ${fmt(r.connectP99us, 0)} (${fmt(r.connectP99Min, 0)}–${fmt(r.connectP99Max, 0)}) | ${r.errors} | ${fmt(r.loadgenCpuPct, 0)}, ${fmt(r.generatorCpuMaxPct, 0)} | ${r.cpuBusyPct.map((x) => fmt(x, 0)).join(' / ')} | ${fmt(r.agentCpuPct['node1'] ?? NaN, 0)} / ${fmt(r.agentCpuPct['node2'] ?? NaN, 0)} | ${fmt(r.switchMs, 0)} / ${fmt(r.switchIpcacheMs, 0)} |`,
      );
    }
    const get = (arm: ArmName) => summary.find((r) => r.arm === arm)!;
    const goals = !RATE ? {} : {
      l3l4VsNone: { value: get('l3l4').vsNone, paired: get('l3l4').pairedRatio, goal: '>= 0.97', met: get('l3l4').vsNone >= 0.97 },
      cidr10kVsNone: { value: get('cidr10k').vsNone, paired: get('cidr10k').pairedRatio, goal: '>= 0.90', met: get('cidr10k').vsNone >= 0.9 },
    };
    if (RATE) process.stdout.write(rows.join('\n') + '\n\n');
    if (scale) process.stdout.write(scale.prog.join('\n') + '\n\n');
    if (goals.l3l4VsNone && goals.cidr10kVsNone) {
      process.stdout.write(
        `l3l4 req/s / none: ${fmt(goals.l3l4VsNone.value, 3)} (per-round median ${fmt(goals.l3l4VsNone.paired, 3)}; goal >= 0.97: ${goals.l3l4VsNone.met ? 'met' : 'not met'})\n` +
          `cidr10k req/s / none: ${fmt(goals.cidr10kVsNone.value, 3)} (per-round median ${fmt(goals.cidr10kVsNone.paired, 3)}; goal >= 0.90: ${goals.cidr10kVsNone.met ? 'met' : 'not met'})\n`,
      );
    }
    const env = {
      kernel: sh('uname', ['-r']).out.trim(),
      cpus: Number(sh('nproc', []).out.trim()),
      node: process.version,
      loadavgAtEnd: readFileSync('/proc/loadavg', 'utf8').trim(),
    };
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(
      OUT,
      JSON.stringify(
        {
          date: startedAt,
          durationS: Math.round((now() - t00) / 1000),
          command: `node dist/bench/policy.js ${process.argv.slice(2).join(' ')}`.trim(),
          load: { ...LOAD, tmp: undefined, description: describeLoad(LOAD) },
          server: SERVER,
          params: { only: ONLY, rounds: ROUNDS, seconds: SECONDS, concurrency: CONCURRENCY, prefixes: PREFIXES, identities: IDENTITIES, groups: GROUPS, policies: POLICIES, changes: CHANGES, targets: TARGETS },
          env,
          goals,
          summary,
          scale: scale?.json ?? null,
          checks,
          switches,
          samples,
        },
        null,
        2,
      ) + '\n',
    );
    progress(`wrote ${OUT} (${fmt((now() - t00) / 60000, 1)} min)`);
  } finally {
    await res.alloc?.stop().catch(() => undefined);
    res.etcd?.close();
    await lab?.store.close().catch(() => undefined);
    for (let i = 0; i < 5 && readState(LAB); i++) {
      const r = spawnSync(BIN, ['lab', 'down', '--name', LAB, '-q'], { encoding: 'utf8' });
      if (r.status !== 0) progress(`lab down ${LAB}: ${(r.stderr || '').trim().split('\n').slice(-1)[0]}; retrying`);
      if (readState(LAB)) await sleep(3000);
    }
    if (readState(LAB)) progress(`lab ${LAB} is still up: beeline lab down --name ${LAB}`);
    spawnSync('rm', ['-rf', TMP]);
  }
}

await main();

/**
 * Control-plane performance, in one run on one 2-node lab (`cpbench`), each
 * arm against a baseline measured in the same run:
 *
 *   deployment  apply of a 50-replica Deployment → all 50 pods Running with an
 *               IP → every pod IP in the BPF ipcache of every node's agent.
 *               Baseline: a 1-replica Deployment, interleaved round by round;
 *               t50 / (50 × t1) says how much of the work runs in parallel.
 *               Also 50 replicas of a Node.js idle container (agnhost pause),
 *               interleaved: what each pod's Node.js start costs (--node-pause 0: not).
 *   identity    IdentityAllocator.acquire of N distinct label sets,
 *               sequentially and 16 at a time, with P identities already in
 *               the store (--present, default 0, 5000 and 50000), each P on
 *               its own etcd (no agents or GC reacting to the background
 *               identities). Baseline: N plain etcd puts from the same
 *               client, interleaved. Also the races lost per allocation.
 *   watch       fan-out of one object update from the store to K informers
 *               (each on its own store client in its own worker thread, as
 *               agents are separate processes), at 1k and 10k ConfigMaps of
 *               the watched kind; latency = update issued → delivered by every
 *               informer. Baseline: a raw etcd3 watch on the same prefix,
 *               watching the same updates at the same time. Also the
 *               informers' initial list+sync time at each size.
 *   cni         wall time of one CNI ADD and one DEL of a test sandbox on an
 *               idle node, exec'd as the kubelet execs it (ip netns exec
 *               <node> bin/beeline-cni, config on stdin), --cni-runs times;
 *               with the plugin's own step marks (BEELINE_CNI_TIMING=1).
 *               Baselines, interleaved: `ip netns exec <node> true` (the exec
 *               path), `node -e 0` (the Node.js start-up floor) and the same
 *               binary's VERSION (a no-op: the shim answers it alone).
 *
 * Apply goes through the code `beeline apply` runs (manifest parse, validation,
 * admission, one store batch) in this process, so no CLI start-up is timed.
 * Pod state comes from a Pod informer (event times); the agents' ipcache is
 * polled (GET /v1/bpf/ipcache) every --poll-ms.
 *
 *   node dist/bench/control-plane.js [--only identity,deployment,watch,cni] [--rounds 3] [--replicas 50]
 *        [--identities 500] [--present 0,5000,50000] [--updates 100] [--small 1000] [--large 10000]
 *        [--informers 8] [--poll-ms 50] [--cni-runs 50] [--cni-baseline DIR] [--node-pause 1] [--out bench/results/control-plane.json]
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { EventEmitter } from 'node:events';
import { repoRoot } from '../src/common/version.js';
import { etcdClient } from '../src/common/etcd.js';
import { readState } from '../src/lab/state.js';
import { agentGet } from '../src/agent/client.js';
import { openEtcdStore } from '../src/store/etcd.js';
import { resourcePrefix, type ObjectInput, type Store, type StoreObject } from '../src/store/store.js';
import { identityIdKey, identityValueKey, type IdentityAllocator } from '../src/identity/allocator.js';
import { canonicalLabels, labelSetKey } from '../src/identity/labels.js';
import { startTestEtcd } from '../test/lib/etcd.js';
import { randomBytes, randomUUID } from 'node:crypto';
import { runAsync } from '../src/common/exec.js';
import { pluginConfig } from '../src/cni/conflist.js';
import { cniEnv, installNodeConflist, invokeCni, podNetnsName } from '../src/lab/pods.js';
import { addNetns, delNetns, netnsExists } from '../src/lab/netns.js';
import { arg } from './report.js';

// The rest of the graph (the CLI's apply, the k8s validators) is loaded by the
// main thread only: the watch workers load this file too, and need only the store.
const main_ = isMainThread
  ? {
      ...(await import('../src/identity/allocator.js')),
      ...(await import('../src/k8s/parse.js')),
      ...(await import('../src/k8s/index.js')),
      ...(await import('../src/cli/resources.js')),
    }
  : undefined;

const BIN = join(repoRoot, 'bin', 'beeline');
const LAB = 'cpbench';
const NS = 'cpbench';
const PROBE = 'cpb-probe';

const ROUNDS = Number(arg('--rounds', '3'));
const REPLICAS = Number(arg('--replicas', '50'));
const IDENTITIES = Number(arg('--identities', '500'));
const PRESENT = arg('--present', '0,5000,50000').split(',').map(Number);
const CONCURRENCY = 16;
const UPDATES = Number(arg('--updates', '100'));
const SMALL = Number(arg('--small', '1000'));
const LARGE = Number(arg('--large', '10000'));
const INFORMERS = Number(arg('--informers', '8'));
const POLL_MS = Number(arg('--poll-ms', '50'));
const ARMS = new Set(arg('--only', 'identity,deployment,watch,cni').split(','));
const CNI_RUNS = Number(arg('--cni-runs', '50'));
/** Also run REPLICAS pods of a Node.js idle container (agnhost pause): what the pause image cost before it ran without Node.js. */
const NODE_PAUSE = arg('--node-pause', '1') !== '0';
/** Another build of beeline (a directory with bin/beeline-cni and dist/) whose plugin runs as an interleaved baseline of ADD/DEL. */
const CNI_BASELINE = arg('--cni-baseline', '');
/** Copy the lab's logs (kubelets, controllers, agents) here before `lab down`. */
const KEEP_LOGS = arg('--keep-logs', '');
const OUT = arg('--out', join(repoRoot, 'bench', 'results', 'control-plane.json'));

/** Monotonic ms, the same clock in every thread of the process. */
const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const progress = (msg: string) => process.stderr.write(`${msg}\n`);

// ---------------------------------------------------------------------------
// Watch workers: one informer (or one raw etcd watch) per thread, each with its own client.

interface WorkerInit {
  kind: 'informer' | 'raw';
  id: number;
  endpoint: string;
}
type WorkerMsg = { type: 'synced'; id: number; ms: number; items: number } | { type: 'seen'; id: number; seq: number; t: number } | { type: 'stopped'; id: number };

async function workerMain(): Promise<void> {
  const init = workerData as WorkerInit;
  const port = parentPort!;
  const seqOf = (data: unknown): number | undefined => {
    const s = (data as Record<string, string> | undefined)?.seq;
    return s === undefined ? undefined : Number(s);
  };
  if (init.kind === 'informer') {
    const store = openEtcdStore({ endpoint: init.endpoint });
    const inf = store.informer('ConfigMap', { namespace: NS });
    inf.on('update', (o: StoreObject) => {
      const t = now();
      if (o.metadata.name !== PROBE) return;
      const seq = seqOf(o.data);
      if (seq !== undefined) port.postMessage({ type: 'seen', id: init.id, seq, t } satisfies WorkerMsg);
    });
    const t0 = now();
    await inf.start();
    await inf.waitForSync();
    port.postMessage({ type: 'synced', id: init.id, ms: now() - t0, items: inf.list().length } satisfies WorkerMsg);
    port.on('message', async () => {
      await inf.stop();
      await store.close();
      port.postMessage({ type: 'stopped', id: init.id } satisfies WorkerMsg);
    });
  } else {
    const etcd = etcdClient(init.endpoint);
    const probeKey = `${resourcePrefix('ConfigMap', NS)}${PROBE}`;
    const t0 = now();
    const w = await etcd.watch().prefix(resourcePrefix('ConfigMap', NS)).create();
    w.on('put', (kv) => {
      const t = now();
      if (kv.key.toString() !== probeKey) return;
      const seq = seqOf((JSON.parse(kv.value.toString()) as { data?: unknown }).data);
      if (seq !== undefined) port.postMessage({ type: 'seen', id: init.id, seq, t } satisfies WorkerMsg);
    });
    port.postMessage({ type: 'synced', id: init.id, ms: now() - t0, items: 0 } satisfies WorkerMsg);
    port.on('message', async () => {
      await w.cancel().catch(() => undefined);
      etcd.close();
      port.postMessage({ type: 'stopped', id: init.id } satisfies WorkerMsg);
    });
  }
}

// ---------------------------------------------------------------------------
// Statistics

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => {
  const s = sorted(xs);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
/** Nearest-rank percentile. */
const pct = (xs: number[], p: number) => {
  const s = sorted(xs);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};
const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '–');
const spread = (xs: number[], d = 1) => `${fmt(median(xs), d)} (${fmt(Math.min(...xs), d)}–${fmt(Math.max(...xs), d)})`;

async function pool<T>(n: number, items: T[], fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function until(what: string, timeoutMs: number, cond: () => boolean | Promise<boolean>, everyMs = POLL_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await sleep(everyMs);
  }
}

// ---------------------------------------------------------------------------
// Lab

interface Lab {
  endpoint: string;
  serviceCIDR: string;
  agents: Record<string, string>;
}

function beeline(args: string[]): string {
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 180_000 });
  if (r.status !== 0) throw new Error(`beeline ${args.join(' ')} exited ${r.status}: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ')}`);
  return r.stdout;
}

function labUp(): Lab {
  for (let attempt = 1; ; attempt++) {
    spawnSync(BIN, ['lab', 'down', '--name', LAB, '-q']); // one left by an interrupted (or failed) run
    try {
      beeline(['lab', 'up', '--nodes', '2', '--name', LAB, '--routing', 'tunnel', '-q']);
      break;
    } catch (e) {
      // dist/ rebuilt by someone else meanwhile: a transient missing export.
      if (attempt >= 3) throw e;
      progress(`lab up ${LAB} failed (${(e as Error).message}); retrying`);
      spawnSync('sleep', ['3']);
    }
  }
  const s = readState(LAB)!;
  return {
    endpoint: `unix://${s.etcd!.socket}`,
    serviceCIDR: s.plan.serviceCIDR,
    agents: Object.fromEntries(Object.entries(s.agents).map(([n, a]) => [n, a.socket])),
  };
}

/** `beeline apply` of a YAML text, in-process (parse, validate, admit, one batch). */
async function apply(store: Store, lab: Lab, yaml: string): Promise<void> {
  const batch = main_!.validateBatch(main_!.parseManifest(yaml, 'control-plane-bench'));
  await main_!.applyObjects(store, batch.objects as unknown as ObjectInput[], batch.sources, lab.serviceCIDR);
}

// ---------------------------------------------------------------------------
// Arm 1: Deployment apply → Running → ipcache everywhere

/**
 * What a Deployment's pods run: registry.k8s.io/pause (host processes, no Node.js), or, as the
 * baseline of what a Node.js container start costs, agnhost's pause (the catalogue's built-in:
 * `node main.js agnhost pause`, which idles).
 */
type DeployImage = 'pause' | 'node';
const IMAGES: Record<DeployImage, string> = { pause: 'registry.k8s.io/pause:3.9', node: 'registry.k8s.io/e2e-test-images/agnhost:2.52' };

interface DeploySample {
  round: number;
  replicas: number;
  image: DeployImage;
  /** apply → all pods Running with an IP (s). */
  runningS: number;
  /** apply → every pod IP in every agent's ipcache (s). */
  ipcacheS: number;
  /** apply → first pod Running (s). */
  firstRunningS: number;
  /** Per pod, sorted: apply → Running (s). */
  podRunningS: number[];
  /** Per pod: Running → its IP in the last agent's ipcache (ms, polling resolution). */
  ipcacheLagMs: number[];
  /** delete → pods gone from the store, and their IPs from every ipcache (s). */
  deleteS: number;
  deleteIpcacheS: number;
}

function deploymentYaml(name: string, replicas: number, image: DeployImage): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${NS}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: pause
        image: ${IMAGES[image]}
`;
}

async function ipcacheSets(lab: Lab): Promise<Set<string>[]> {
  return Promise.all(
    Object.values(lab.agents).map(async (sock) => {
      const rows = await agentGet<{ prefix: string }[]>(sock, '/v1/bpf/ipcache');
      return new Set(rows.filter((r) => r.prefix.endsWith('/32')).map((r) => r.prefix.slice(0, -3)));
    }),
  );
}

async function deployRound(store: Store, lab: Lab, pods: ReturnType<Store['informer']>, round: number, replicas: number, image: DeployImage): Promise<DeploySample> {
  const name = `cpb-r${round}-x${replicas}-${image}`;
  const mine = () => pods.list(NS).filter((p) => p.metadata.labels?.app === name);
  const isRunning = (p: StoreObject) => !p.metadata.deletionTimestamp && (p.status as any)?.phase === 'Running' && !!(p.status as any)?.podIP;
  const runningAt = new Map<string, { t: number; ip: string }>();
  const onPod = (p: StoreObject) => {
    if (p.metadata.labels?.app !== name || runningAt.has(p.metadata.name) || !isRunning(p)) return;
    runningAt.set(p.metadata.name, { t: now(), ip: (p.status as any).podIP as string });
  };
  pods.on('add', onPod).on('update', onPod);
  try {
    const t0 = now();
    await apply(store, lab, deploymentYaml(name, replicas, image));
    let tRunning = 0;
    const seenAt = new Map<string, number>(); // ip → when the last agent had it
    await until(`${replicas} pods Running and in every ipcache`, 180_000, async () => {
      const running = mine().filter(isRunning);
      if (!tRunning && running.length >= replicas) tRunning = Math.max(...[...runningAt.values()].map((r) => r.t));
      const sets = await ipcacheSets(lab);
      const t = now();
      for (const { ip } of runningAt.values()) {
        const n = sets.filter((s) => s.has(ip)).length;
        if (n === sets.length && !seenAt.has(ip)) seenAt.set(ip, t);
      }
      return tRunning > 0 && running.every((p) => seenAt.has((p.status as any).podIP));
    });
    const tIpcache = Math.max(...[...runningAt.values()].map((r) => seenAt.get(r.ip) ?? Infinity));
    const ips = [...runningAt.values()].map((r) => r.ip);
    const sample: DeploySample = {
      round,
      replicas,
      image,
      runningS: (tRunning - t0) / 1000,
      ipcacheS: (tIpcache - t0) / 1000,
      firstRunningS: (Math.min(...[...runningAt.values()].map((r) => r.t)) - t0) / 1000,
      podRunningS: sorted([...runningAt.values()].map((r) => (r.t - t0) / 1000)),
      ipcacheLagMs: [...runningAt.values()].map((r) => seenAt.get(r.ip)! - r.t),
      deleteS: 0,
      deleteIpcacheS: 0,
    };
    // Delete, and wait until the pods and their ipcache entries are gone: the next round starts clean
    // (an IP may be handed out again, and a stale entry would count as present).
    const d0 = now();
    await store.delete('Deployment', NS, name);
    await until(`pods of ${name} gone`, 120_000, () => mine().length === 0);
    sample.deleteS = (now() - d0) / 1000;
    await until(`ipcache entries of ${name} gone`, 60_000, async () => (await ipcacheSets(lab)).every((s) => ips.every((ip) => !s.has(ip))));
    sample.deleteIpcacheS = (now() - d0) / 1000;
    return sample;
  } finally {
    // The informer is an EventEmitter (CacheInformer); its interface does not declare off().
    (pods as unknown as EventEmitter).off('add', onPod).off('update', onPod);
  }
}

// ---------------------------------------------------------------------------
// Arm 4: CNI ADD/DEL wall time on an idle node, against the exec and Node.js floors

type CniOp = 'exec' | 'node' | 'version' | 'add' | 'del' | 'add-baseline' | 'del-baseline';
interface CniSample {
  run: number;
  op: CniOp;
  /** Wall time of the exec, as the kubelet sees it (spawn → exit). */
  ms: number;
  /** The plugin's marks (ms since the agent got the shim's request), ADD and DEL only. */
  marks?: Record<string, number>;
}

function cniMarks(stderr: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of stderr.matchAll(/^beeline-cni: timing (\S+) ([\d.]+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

async function cniArm(): Promise<CniSample[]> {
  const state = readState(LAB)!;
  const node = state.plan.nodes[0]!;
  const conflist = installNodeConflist(state, node.name);
  const netns = podNetnsName(LAB, NS, 'cnibench');
  if (netnsExists(netns)) delNetns(netns);
  addNetns(netns);
  const timed = async (fn: () => Promise<{ code: number; stderr: string }>) => {
    const t0 = now();
    const r = await fn();
    const ms = now() - t0;
    if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr.trim().split('\n').pop()}`);
    return { ms, stderr: r.stderr };
  };
  const out: CniSample[] = [];
  const one: Record<string, (run: number) => Promise<void>> = {
    // The environment the plugin gets (invokeCni passes PATH and CNI_* only): e.g. a
    // NODE_EXTRA_CA_CERTS in ours would cost every Node.js start ~15 ms of reading certificates.
    exec: async (run) => void out.push({ run, op: 'exec', ms: (await timed(() => runAsync('ip', ['netns', 'exec', node.netns, 'true'], { allowFailure: true, env: { PATH: process.env.PATH } }))).ms }),
    node: async (run) =>
      void out.push({ run, op: 'node', ms: (await timed(() => runAsync('ip', ['netns', 'exec', node.netns, process.execPath, '-e', '0'], { allowFailure: true, env: { PATH: process.env.PATH } }))).ms }),
    version: async (run) =>
      void out.push({ run, op: 'version', ms: (await timed(() => invokeCni(node.netns, { CNI_COMMAND: 'VERSION', CNI_PATH: join(repoRoot, 'bin') }, {}).then((r) => ({ code: r.code, stderr: r.stderr })))).ms }),
    adddel: (run) => addDel(run, join(repoRoot, 'bin', 'beeline-cni'), ''),
    ...(CNI_BASELINE ? { baseline: (run: number) => addDel(run, join(CNI_BASELINE, 'bin', 'beeline-cni'), '-baseline') } : {}),
  };
  async function addDel(run: number, plugin: string, suffix: '' | '-baseline'): Promise<void> {
    const ref = { containerID: randomBytes(32).toString('hex'), netnsPath: `/run/netns/${netns}`, ifname: 'eth0', namespace: NS, name: 'cnibench', uid: randomUUID() };
    let result: unknown;
    const add = await timed(async () => {
      const r = await invokeCni(node.netns, { ...cniEnv('ADD', ref), BEELINE_CNI_TIMING: '1' }, pluginConfig(conflist, 0, { labels: { app: 'cnibench' } }), plugin);
      result = r.result;
      return { code: r.code, stderr: r.error ? `${r.error.msg} ${r.stderr}` : r.stderr };
    });
    out.push({ run, op: `add${suffix}`, ms: add.ms, marks: cniMarks(add.stderr) });
    const del = await timed(async () => {
      const r = await invokeCni(node.netns, { ...cniEnv('DEL', ref), BEELINE_CNI_TIMING: '1' }, pluginConfig(conflist, 0, { prevResult: result as never }), plugin);
      return { code: r.code, stderr: r.error ? `${r.error.msg} ${r.stderr}` : r.stderr };
    });
    out.push({ run, op: `del${suffix}`, ms: del.ms, marks: cniMarks(del.stderr) });
  }
  try {
    const order = ['exec', 'node', 'version', 'adddel', ...(CNI_BASELINE ? ['baseline'] : [])];
    for (let run = 1; run <= CNI_RUNS; run++) {
      // Rotate the order every run, so no arm always follows another.
      for (let k = 0; k < order.length; k++) await one[order[(run + k) % order.length]!]!(run);
      if (run % 10 === 0) progress(`cni ${run}/${CNI_RUNS}: ADD ${fmt(out.filter((s) => s.op === 'add').at(-1)!.ms, 1)} ms`);
    }
    return out;
  } finally {
    delNetns(netns);
  }
}

// ---------------------------------------------------------------------------
// Arm 2: identity allocation vs raw etcd puts

interface IdentitySample {
  /** Identities in the store besides the ones this sample allocates. */
  present: number;
  round: number;
  mode: 'sequential' | 'concurrent16';
  op: 'acquire' | 'put';
  n: number;
  seconds: number;
  perSec: number;
  /** Transactions the allocations lost to another allocation (number or label set taken meanwhile). */
  lostRaces?: number;
}

/** Writes `n` identities (256…) the way allocators store them, in transactions etcd's default --max-txn-ops takes. */
async function populateIdentities(etcd: ReturnType<typeof etcdClient>, n: number): Promise<void> {
  const batches = Array.from({ length: Math.ceil(n / 60) }, (_, b) => b);
  await pool(8, batches, async (b) => {
    const ops = [];
    for (let i = b * 60; i < Math.min(n, (b + 1) * 60); i++) {
      const labels = canonicalLabels([`k8s:app=background-${i}`, `k8s:io.kubernetes.pod.namespace=${NS}`]);
      ops.push(etcd.put(identityIdKey(256 + i)).value(main_!.storedValue(labels)), etcd.put(identityValueKey(labelSetKey(labels))).value(String(256 + i)));
    }
    await etcd.if(identityIdKey(256 + b * 60), 'Create', '==', 0).then(...ops).commit();
  });
}

/** The identity arm at one store size: its own etcd with `present` identities, a fresh allocator, ROUNDS rounds. */
async function identityArm(present: number): Promise<IdentitySample[]> {
  const server = await startTestEtcd();
  const etcd = etcdClient(server.endpoint);
  const alloc = new main_!.IdentityAllocator(etcd, { node: 'cpbench-bench' });
  try {
    const t0 = now();
    await populateIdentities(etcd, present);
    await alloc.start();
    progress(`identity: ${present} identities present (${fmt((now() - t0) / 1000, 1)} s to write and list)`);
    const out: IdentitySample[] = [];
    for (let round = 1; round <= ROUNDS; round++) out.push(...(await identityRound(alloc, etcd, round, present)));
    return out;
  } finally {
    await alloc.stop().catch(() => undefined);
    etcd.close();
    await server.stop();
  }
}

async function identityRound(alloc: IdentityAllocator, etcd: ReturnType<typeof etcdClient>, round: number, present: number): Promise<IdentitySample[]> {
  const out: IdentitySample[] = [];
  const modes = (round % 2 ? ['sequential', 'concurrent16'] : ['concurrent16', 'sequential']) as IdentitySample['mode'][];
  for (const mode of modes) {
    const conc = mode === 'sequential' ? 1 : CONCURRENCY;
    const ops = (round + (mode === 'sequential' ? 0 : 1)) % 2 ? (['acquire', 'put'] as const) : (['put', 'acquire'] as const);
    for (const op of ops) {
      const idx = Array.from({ length: IDENTITIES }, (_, i) => i);
      const tag = `r${round}-${mode}-${op}`;
      const labelsOf = (i: number) => [`k8s:app=cpb-${tag}-${i}`, `k8s:io.kubernetes.pod.namespace=${NS}`];
      // A value the size of an identity's id/<n> key.
      const value = JSON.stringify({ labels: labelsOf(0) });
      const acquired: { id: number; labels: string[] }[] = [];
      const lostBefore = alloc.stats.lostRaces;
      const t0 = now();
      if (op === 'acquire') {
        await pool(conc, idx, async (i) => {
          const id = await alloc.acquire(labelsOf(i));
          acquired.push({ id: id.id, labels: labelsOf(i) });
        });
      } else {
        await pool(conc, idx, async (i) => void (await etcd.put(`/cpbench-bench/put/${tag}/${i}`).value(value)));
      }
      const seconds = (now() - t0) / 1000;
      const lostRaces = op === 'acquire' ? alloc.stats.lostRaces - lostBefore : undefined;
      out.push({ present, round, mode, op, n: IDENTITIES, seconds, perSec: IDENTITIES / seconds, ...(lostRaces !== undefined ? { lostRaces } : {}) });
      progress(`identity present=${present} round ${round}/${ROUNDS} ${mode.padEnd(12)} ${op.padEnd(7)} ${fmt(IDENTITIES / seconds, 0)}/s${lostRaces !== undefined ? ` lost races ${lostRaces}` : ''}`);
      // Untimed: put the store back as it was, so every round allocates into the same number of identities.
      if (op === 'acquire') {
        await pool(CONCURRENCY, acquired, async (a) => void (await alloc.release(a.labels)));
        await pool(CONCURRENCY, acquired, async (a) => {
          await etcd.delete().key(identityIdKey(a.id)).exec();
          await etcd.delete().key(identityValueKey(labelSetKey(a.labels))).exec();
        });
      } else {
        await etcd.delete().prefix(`/cpbench-bench/put/${tag}/`).exec();
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Arm 3: watch fan-out

interface WatchResult {
  objects: number;
  /** Initial list+sync of each informer (ms). */
  syncMs: number[];
  /** Per update: issue → delivered, raw watch / first 2 informers (max) / all informers (max), ms. */
  raw: number[];
  /** Per update: issue → store.update() resolved (read + guarded transaction), ms. */
  write: number[];
  informers2: number[];
  informersAll: number[];
  /** Updates some informer never delivered within 5 s. */
  lost: number;
}

async function populate(store: Store, from: number, to: number): Promise<number> {
  const t0 = now();
  for (let i = from; i < to; i += 100) {
    const chunk: ObjectInput[] = [];
    for (let j = i; j < Math.min(to, i + 100); j++) {
      chunk.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cpb-obj-${j}`, namespace: NS, labels: { app: 'cpbench' } }, data: { n: String(j) } });
    }
    await store.applyBatch(chunk);
  }
  return (now() - t0) / 1000;
}

/** Workers load dist/ when they start; someone rebuilding it meanwhile gives a transient missing-export error: retry. */
async function watchArm(store: Store, lab: Lab, objects: number, seqBase: number): Promise<WatchResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await watchArmOnce(store, lab, objects, seqBase + (attempt - 1) * 10_000);
    } catch (e) {
      if (attempt >= 3 || !(e instanceof SyntaxError || /module|export/i.test(String(e)))) throw e;
      progress(`watch ${objects}: worker failed to load (${(e as Error).message}); retrying`);
      await sleep(3000);
    }
  }
}

async function watchArmOnce(store: Store, lab: Lab, objects: number, seqBase: number): Promise<WatchResult> {
  const file = fileURLToPath(import.meta.url);
  const workers: Worker[] = [];
  const seen = new Map<number, Map<number, number>>(); // seq → worker id → t
  const synced: WorkerMsg[] = [];
  const stopped = new Set<number>();
  const errors: Error[] = [];
  const start = (init: WorkerInit) => {
    const w = new Worker(file, { workerData: init });
    w.on('message', (m: WorkerMsg) => {
      if (m.type === 'synced') synced.push(m);
      else if (m.type === 'stopped') stopped.add(m.id);
      else {
        if (!seen.has(m.seq)) seen.set(m.seq, new Map());
        seen.get(m.seq)!.set(m.id, m.t);
      }
    });
    w.on('error', (e) => errors.push(e));
    workers.push(w);
  };
  const RAW = 0;
  try {
    start({ kind: 'raw', id: RAW, endpoint: lab.endpoint });
    for (let i = 1; i <= INFORMERS; i++) start({ kind: 'informer', id: i, endpoint: lab.endpoint });
    await until('watchers synced', 120_000, () => {
      if (errors.length) throw errors[0];
      return synced.length === workers.length;
    });
    const res: WatchResult = { objects, syncMs: synced.filter((m) => m.type === 'synced' && m.id !== RAW).map((m) => (m as { ms: number }).ms), raw: [], write: [], informers2: [], informersAll: [], lost: 0 };
    const items = synced.filter((m) => m.id !== RAW).map((m) => (m as { items: number }).items);
    if (items.some((n) => n !== objects)) throw new Error(`informers synced ${items.join(',')} objects, expected ${objects}`);
    await sleep(500); // let the initial ADDED storm settle
    for (let k = 0; k < UPDATES; k++) {
      const seq = seqBase + k;
      const t0 = now();
      await store.update({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: PROBE, namespace: NS }, data: { seq: String(seq), sent: String(t0) } });
      const written = now() - t0;
      try {
        await until(`update ${seq} delivered`, 5000, () => (seen.get(seq)?.size ?? 0) === workers.length, 1);
      } catch {
        res.lost++;
        continue;
      }
      const by = seen.get(seq)!;
      res.write.push(written);
      res.raw.push(by.get(RAW)! - t0);
      res.informers2.push(Math.max(by.get(1)!, by.get(2)!) - t0);
      res.informersAll.push(Math.max(...[...by.entries()].filter(([id]) => id !== RAW).map(([, t]) => t)) - t0);
      await sleep(20);
    }
    return res;
  } finally {
    for (const w of workers) w.postMessage('stop');
    await until('watchers stopped', 10_000, () => stopped.size === workers.length).catch(() => undefined);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = new Date().toISOString();
  let store: Store | undefined;
  try {
    progress(`lab ${LAB}: up (2 nodes, tunnel)`);
    const lab = labUp();
    store = openEtcdStore({ endpoint: lab.endpoint });
    await apply(store, lab, `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${NS}\n`);

    // --- identity allocation, each store size on its own etcd
    const identity: IdentitySample[] = [];
    if (ARMS.has('identity')) for (const present of PRESENT) identity.push(...(await identityArm(present)));

    // --- CNI ADD/DEL on the idle lab (before any Deployment)
    const cni = ARMS.has('cni') ? await cniArm() : [];

    // --- deployments
    const pods = store.informer('Pod', { namespace: NS });
    await pods.start();
    await pods.waitForSync();
    const deploy: DeploySample[] = [];
    const variants: [number, DeployImage][] = [[1, 'pause'], [REPLICAS, 'pause'], ...(NODE_PAUSE ? [[REPLICAS, 'node'] as [number, DeployImage]] : [])];
    for (let round = 1; round <= (ARMS.has('deployment') ? ROUNDS : 0); round++) {
      // Rotate the order every round, so no variant always follows another.
      for (let k = 0; k < variants.length; k++) {
        const [replicas, image] = variants[(round + k) % variants.length]!;
        const s = await deployRound(store, lab, pods, round, replicas, image);
        deploy.push(s);
        progress(
          `deploy round ${round}/${ROUNDS} replicas=${String(replicas).padEnd(3)} ${image.padEnd(5)} running=${fmt(s.runningS, 2)}s ipcache=${fmt(s.ipcacheS, 2)}s first=${fmt(s.firstRunningS, 2)}s delete=${fmt(s.deleteS, 2)}s`,
        );
      }
    }
    await pods.stop();

    // --- watch fan-out: 1k, then grow to 10k
    const populateS: Record<number, number> = {};
    const watch: WatchResult[] = [];
    if (ARMS.has('watch')) {
    await store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: PROBE, namespace: NS }, data: { seq: '-1' } });
    populateS[SMALL] = await populate(store, 0, SMALL - 1);
    progress(`watch: ${SMALL} ConfigMaps written in ${fmt(populateS[SMALL]!, 1)}s`);
    watch.push(await watchArm(store, lab, SMALL, 0));
    progress(`watch ${SMALL}: raw p50 ${fmt(median(watch[0]!.raw), 2)}ms informers(all) p50 ${fmt(median(watch[0]!.informersAll), 2)}ms`);
    populateS[LARGE] = await populate(store, SMALL - 1, LARGE - 1);
    progress(`watch: ${LARGE} ConfigMaps (+${LARGE - SMALL} in ${fmt(populateS[LARGE]!, 1)}s)`);
    watch.push(await watchArm(store, lab, LARGE, 100_000));
    progress(`watch ${LARGE}: raw p50 ${fmt(median(watch[1]!.raw), 2)}ms informers(all) p50 ${fmt(median(watch[1]!.informersAll), 2)}ms`);
    }

    // --- tables
    const lines: string[] = [];
    const groups = variants.map(([replicas, image]) => deploy.filter((s) => s.replicas === replicas && s.image === image)).filter((g) => g.length);
    const deploySummary = groups.map((s) => ({
      replicas: s[0]!.replicas,
      image: IMAGES[s[0]!.image],
      runningS: median(s.map((x) => x.runningS)),
      runningMinS: Math.min(...s.map((x) => x.runningS)),
      runningMaxS: Math.max(...s.map((x) => x.runningS)),
      ipcacheS: median(s.map((x) => x.ipcacheS)),
      ipcacheMinS: Math.min(...s.map((x) => x.ipcacheS)),
      ipcacheMaxS: Math.max(...s.map((x) => x.ipcacheS)),
      perPodMs: (median(s.map((x) => x.ipcacheS)) * 1000) / s[0]!.replicas,
      firstRunningS: median(s.map((x) => x.firstRunningS)),
      ipcacheLagP50Ms: median(s.flatMap((x) => x.ipcacheLagMs)),
      ipcacheLagMaxMs: Math.max(...s.flatMap((x) => x.ipcacheLagMs)),
      deleteS: median(s.map((x) => x.deleteS)),
    }));
    const parallelism = !deploy.length ? undefined : {
      running: deploySummary[1]!.runningS / (REPLICAS * deploySummary[0]!.runningS),
      ipcache: deploySummary[1]!.ipcacheS / (REPLICAS * deploySummary[0]!.ipcacheS),
    };
    if (deploy.length) {
    lines.push(`Deployment apply → pods (median of ${ROUNDS} rounds, min–max; ipcache polled every ${POLL_MS} ms)`, '');
    lines.push('| replicas | image | apply→all Running s | apply→all in every ipcache s | per pod ms | first pod Running s | Running→ipcache per pod ms (p50, max) | delete→pods gone s |');
    lines.push('|---|---|---|---|---|---|---|---|');
    for (const [i, s] of groups.entries()) {
      const m = deploySummary[i]!;
      lines.push(
        `| ${m.replicas} | ${s[0]!.image === 'node' ? 'agnhost pause (Node.js)' : 'pause'} | ${spread(s.map((x) => x.runningS), 2)} | ${spread(s.map((x) => x.ipcacheS), 2)} | ${fmt(m.perPodMs, 0)} | ${fmt(m.firstRunningS, 2)} | ${fmt(m.ipcacheLagP50Ms, 0)}, ${fmt(m.ipcacheLagMaxMs, 0)} | ${fmt(m.deleteS, 2)} |`,
      );
    }
    lines.push('', `t${REPLICAS} / (${REPLICAS} × t1): ${fmt(parallelism!.running, 3)} to Running, ${fmt(parallelism!.ipcache, 3)} to ipcache (1 = no parallelism, 1/${REPLICAS} = all at once)`);
    const nodeIdle = deploySummary.find((m) => m.image === IMAGES.node);
    if (nodeIdle) lines.push(`${REPLICAS} pause pods vs ${REPLICAS} Node.js idle pods: ${fmt(deploySummary[1]!.ipcacheS / nodeIdle.ipcacheS, 2)}× the time to every ipcache`);
    lines.push(`Goal ${REPLICAS} replicas in every ipcache ≤ 5 s: ${deploySummary[1]!.ipcacheS <= 5 ? 'met' : 'missed'} (${fmt(deploySummary[1]!.ipcacheS, 2)} s)`, '');
    }

    const identitySummary = !identity.length ? [] : PRESENT.flatMap((present) => (['sequential', 'concurrent16'] as const).map((mode) => {
      const acq = identity.filter((s) => s.present === present && s.mode === mode && s.op === 'acquire');
      const a = acq.map((s) => s.perSec);
      const p = identity.filter((s) => s.present === present && s.mode === mode && s.op === 'put').map((s) => s.perSec);
      const lostPerAllocation = acq.reduce((n, s) => n + (s.lostRaces ?? 0), 0) / acq.reduce((n, s) => n + s.n, 0);
      return { present, mode, acquirePerSec: median(a), acquireMin: Math.min(...a), acquireMax: Math.max(...a), putPerSec: median(p), putMin: Math.min(...p), putMax: Math.max(...p), ratio: median(a) / median(p), lostPerAllocation };
    }));
    if (identity.length) {
    lines.push(`Identity allocation (${IDENTITIES} distinct label sets per round, median of ${ROUNDS} rounds, min–max)`, '');
    lines.push('| identities present | mode | identities/s | etcd puts/s (baseline) | acquire vs put | lost races per allocation |');
    lines.push('|---|---|---|---|---|---|');
    for (const m of identitySummary) {
      lines.push(`| ${m.present} | ${m.mode === 'sequential' ? 'sequential' : `${CONCURRENCY} concurrent`} | ${fmt(m.acquirePerSec, 0)} (${fmt(m.acquireMin, 0)}–${fmt(m.acquireMax, 0)}) | ${fmt(m.putPerSec, 0)} (${fmt(m.putMin, 0)}–${fmt(m.putMax, 0)}) | ${fmt(m.ratio, 3)} | ${fmt(m.lostPerAllocation, 3)} |`);
    }
    lines.push('');
    }
    const watchSummary: Record<string, unknown>[] = [];
    if (watch.length) {
    lines.push(`Watch fan-out (${UPDATES} updates of one ConfigMap per size; update issued → delivered; ${INFORMERS} informers in worker threads, own clients)`, '');
    lines.push('| objects | watcher | initial list+sync ms (median, max) | p50 ms | p99 ms | max ms | p50 vs raw watch | lost |');
    lines.push('|---|---|---|---|---|---|---|---|');
    for (const w of watch) {
      const rawP50 = median(w.raw);
      for (const [label, xs, sync] of [
        ['(the write itself: update resolved)', w.write, undefined],
        ['raw etcd watch (baseline)', w.raw, undefined],
        ['all of 2 informers', w.informers2, w.syncMs.slice(0, 2)],
        [`all of ${INFORMERS} informers`, w.informersAll, w.syncMs],
      ] as const) {
        const row = { objects: w.objects, watcher: label, syncMedianMs: sync ? median([...sync]) : null, syncMaxMs: sync ? Math.max(...sync) : null, p50Ms: median([...xs]), p99Ms: pct([...xs], 99), maxMs: Math.max(...xs), ratioP50: median([...xs]) / rawP50, lost: w.lost };
        watchSummary.push(row);
        lines.push(`| ${w.objects} | ${label} | ${sync ? `${fmt(row.syncMedianMs!, 0)}, ${fmt(row.syncMaxMs!, 0)}` : '–'} | ${fmt(row.p50Ms, 2)} | ${fmt(row.p99Ms, 2)} | ${fmt(row.maxMs, 2)} | ${fmt(row.ratioP50, 2)} | ${w.lost} |`);
      }
    }
    }
    const cniOps: [CniOp, string][] = [
      ['exec', '`ip netns exec <node> true` (exec path floor)'],
      ['node', '`ip netns exec <node> node -e 0` (Node.js floor)'],
      ['version', 'beeline-cni VERSION (the shell shim alone, no-op)'],
      ['add', 'beeline-cni ADD'],
      ['del', 'beeline-cni DEL'],
      ...(CNI_BASELINE ? ([['add-baseline', `ADD of the plugin in ${CNI_BASELINE}`], ['del-baseline', `DEL of the plugin in ${CNI_BASELINE}`]] as [CniOp, string][]) : []),
    ];
    const cniSummary = cni.length ? cniOps.map(([op, label]) => {
      const xs = cni.filter((s) => s.op === op).map((s) => s.ms);
      return { op, label, n: xs.length, p50Ms: median(xs), p90Ms: pct(xs, 90), minMs: Math.min(...xs), maxMs: Math.max(...xs) };
    }) : [];
    // Median time between consecutive marks of the plugin in the agent (the first from the request's arrival).
    const cniSteps = (op: 'add' | 'del') => {
      const samples = cni.filter((s) => s.op === op && s.marks);
      const names = Object.keys(samples[0]?.marks ?? {});
      return names.map((name, i) => ({ step: name, ms: median(samples.map((s) => s.marks![name]! - (i ? s.marks![names[i - 1]!]! : 0))) }));
    };
    if (cni.length) {
      const base = cniSummary.find((s) => s.op === 'node')!.p50Ms;
      lines.push(`CNI on an idle node (${CNI_RUNS} runs, interleaved; wall time of the exec as the kubelet runs it)`, '');
      lines.push('| exec | p50 ms | p90 ms | min ms | max ms | p50 vs node -e 0 |');
      lines.push('|---|---|---|---|---|---|');
      for (const m of cniSummary) lines.push(`| ${m.label} | ${fmt(m.p50Ms, 1)} | ${fmt(m.p90Ms, 1)} | ${fmt(m.minMs, 1)} | ${fmt(m.maxMs, 1)} | ${fmt(m.p50Ms / base, 2)} |`);
      for (const op of ['add', 'del'] as const) {
        lines.push('', `${op.toUpperCase()} inside the agent (median ms per step; the first from the request's arrival): ${cniSteps(op).map((s) => `${s.step} ${fmt(s.ms, 1)}`).join(', ')}`);
      }
      const add = cniSummary.find((s) => s.op === 'add')!.p50Ms;
      const add0 = cniSummary.find((s) => s.op === 'add-baseline')?.p50Ms;
      const del0 = cniSummary.find((s) => s.op === 'del-baseline')?.p50Ms;
      if (add0 && del0) lines.push('', `This build vs ${CNI_BASELINE} (p50): ADD ${fmt(add / add0, 2)}×, DEL ${fmt(cniSummary.find((s) => s.op === 'del')!.p50Ms / del0, 2)}×`);
      lines.push('', `Goal CNI ADD p50 ≤ 50 ms: ${add <= 50 ? 'met' : 'missed'} (${fmt(add, 1)} ms)`, '');
    }
    const table = lines.join('\n');
    process.stdout.write(table + '\n');
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(
      OUT,
      JSON.stringify(
        {
          date: started,
          params: { arms: [...ARMS], cniRuns: CNI_RUNS, rounds: ROUNDS, replicas: REPLICAS, identities: IDENTITIES, concurrency: CONCURRENCY, updates: UPDATES, small: SMALL, large: LARGE, informers: INFORMERS, pollMs: POLL_MS },
          summary: { deployment: deploySummary, parallelism, identity: identitySummary, watch: watchSummary, populateSeconds: populateS, cni: cniSummary, cniSteps: cni.length ? { add: cniSteps('add'), del: cniSteps('del') } : undefined },
          samples: { deployment: deploy, identity, watch, cni },
        },
        null,
        2,
      ) + '\n',
    );
    progress(`wrote ${OUT}`);
  } finally {
    // Bench objects: the Deployments are deleted round by round; the ConfigMaps and
    // identities go with the lab's etcd.
    await store?.close().catch(() => undefined);
    const st = readState(LAB);
    if (KEEP_LOGS && st) {
      mkdirSync(KEEP_LOGS, { recursive: true });
      spawnSync('bash', ['-c', `cd "$0" && find . -path ./bpf -prune -o -name '*.log' -print | xargs -r cp --parents -t "$1"`, st.dir, KEEP_LOGS]);
    }
    // `beeline` loads dist/ too: retry a down that failed while someone rebuilt it.
    for (let i = 0; i < 5 && readState(LAB); i++) {
      const r = spawnSync(BIN, ['lab', 'down', '--name', LAB, '-q'], { encoding: 'utf8' });
      if (r.status !== 0) progress(`lab down ${LAB}: ${(r.stderr || '').trim().split('\n').slice(-1)[0]}; retrying`);
      if (readState(LAB)) await sleep(3000);
    }
    if (readState(LAB)) progress(`lab ${LAB} is still up: beeline lab down --name ${LAB}`);
  }
}

if (isMainThread) await main();
else await workerMain();

/**
 * L7 HTTP policy through the node proxy (issue 12, its performance section):
 * HTTP requests/s and p50/p99 latency pod → server pod on another node,
 * keep-alive, small responses, with
 *   none            (a) no policy on the server
 *   l4              (b) an L4 policy: the server allows the client on TCP 8080
 *   l7              (c) the same plus an L7 method+path allow-list: every
 *                   connection handed to node2's HAProxy (the node proxy the
 *                   lab runs, transparent, the client's address kept, one
 *                   access record per request to the agent)
 *   l7-shared       (c) again, with the agents on the proxy's CPU (below)
 *   haproxy         (d) the same allow-list in HAProxy from Debian in node2's
 *                   network namespace as a plain reverse proxy: the client
 *                   sends to node2's address, port 18080; ACLs as in
 *                   bench/http-engine.ts (bench/haproxy-acl.ts), no access
 *                   log, server connections shared (`http-reuse always`)
 *   haproxy-gen     (d') HAProxy from Debian as a plain reverse proxy (node2's
 *                   address, port 18081) with the node proxy's own generated
 *                   configuration (src/l7/http/haproxy.ts, non-transparent:
 *                   path normalization in Lua, the identity map, the same
 *                   access record sent to node2's agent as in (c)): (c)
 *                   without the datapath's redirect and the transparency
 *   haproxy-gen-nolog        the same without the access records (18082)
 *   haproxy-gen-nolog-nolua  and without the path normalization (18083):
 *                   with haproxy, where (c)'s cost per request goes, measured
 * one worker each: nginx (the lab's nginx-native image: Debian's nginx, C,
 * one worker, `return 200 "ok\n"`) and HAProxy (`nbthread 1`).
 *
 * One 2-node lab (`bhl7`), namespace `l7bench`: `client` (busybox) on node1;
 * `srv-none`, `srv-l4`, `srv-l7` (nginx-native, port 8080) on node2, each
 * selected by its own policy (none, L4, L7), so no policy changes during the
 * run; (d) and the (d') variants forward to srv-none. Load: wrk (C, Debian) in the client
 * pod (`beeline exec`), `-t THREADS -c CONNECTIONS`, keep-alive, `GET
 * /v1/ships` (allowed by `GET /v1/.*`; 3-byte body). Before measuring, each
 * arm is checked to be what it claims: GET answered `ok`, and for every
 * proxy arm `PUT /v1/exhaust-port` answered 403 `Access denied`; for l4 and l7 a pod the policy does not allow (srv-none) cannot
 * connect.
 *
 * Two phases of ROUNDS rounds, the arms' order rotated every round: each arm
 * at its maximum (unpaced), then each paced at half of haproxy's median
 * maximum from the first phase (or --paced-rate; wrk's delay() hook hands out
 * send slots, src/lab/wrk.ts). With --pin yes (default) wrk runs on CPU 0 and
 * every process of the lab (servers, both HAProxies, etcd…) on CPU 1 during
 * each measurement (bench/load.ts); the agents, which turn the node proxy's
 * access records into flows, run on CPU 0 with wrk (a CPU the proxy does not
 * use, as the scheduler would choose one), except in the arm `l7-shared`:
 * (c) again with the agents on CPU 1 with the proxy, so that the records'
 * whole cost lands on the proxy's CPU. Per measurement: req/s,
 * wrk's p50/p99 (request written → response read), CPU per request of the
 * arm's proxy, its server and node2's agent (cgroup v2 cpu.stat deltas:
 * every process of the cgroup), each CPU's busy share, the access records
 * node2's agent received (and those it dropped as malformed). Proxy memory: VmRSS
 * of every HAProxy process of each node's proxy cgroup (master and worker)
 * and of the (d) HAProxies, after the load.
 *
 * Goals (issue 12): l7 ≥ 0.5 × l4 and ≥ 0.7 × haproxy in req/s; l7's p99 ≤
 * 1.5 × haproxy's at half haproxy's maximum.
 *
 *   node dist/bench/http-l7.js [--rounds 3] [--seconds 8] [--connections 32] [--threads 1]
 *        [--arms none,l4,l7,l7-shared,haproxy,haproxy-gen,haproxy-gen-nolog,haproxy-gen-nolog-nolua] [--paced-rate REQ_PER_S] [--pin yes|no]
 *        [--routing tunnel|native] [--keep-lab] [--out bench/results/http-l7.json]
 * Root (a lab). Wrap in `flock /tmp/beeline-heavy.lock` (make bench-http-l7 does).
 * Host safety: all traffic is between the lab's namespaces (the client pod,
 * node2's namespace and its pods); the (d) HAProxies run in node2's namespace
 * and in the lab's cgroup (the lab's removal ends them too).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { repoRoot } from '../src/common/version.js';
import { readState } from '../src/lab/state.js';
import { cgroupPath, ensureCgroup } from '../src/lab/cgroup.js';
import { openEtcdStore } from '../src/store/etcd.js';
import { agentGet } from '../src/agent/client.js';
import { HAPROXY_FILES, renderHaproxy } from '../src/l7/http/haproxy.js';
import { LAB_PROXY_ACCESSLOG_PORT, LAB_PROXY_INGRESS_PORT } from '../src/lab/lab.js';
import { CPUS, GEN_CPU, LAB_CPUS, cgroupCpuUs, pinnedFor, runLoad, type LoadConfig, type LoadResult } from './load.js';
import { beeline, cleanupOnSignal, labDown, labUp2, podCgroup, runningPods, until, type PodInfo } from './lab-cli.js';
import { arg, fmt, machine, median, progressOf, requireTools, writeResults } from './report.js';
import { haproxyMemory, procMemory } from './proc-memory.js';
import { haproxyAclConfig } from './haproxy-acl.js';
import { writeRenderedHaproxy } from '../test/lib/haproxy.js';
import type { HttpRule } from './proto/http-proxy.js';


const LAB = 'bhl7';
const NS = 'l7bench';
const ROUNDS = Number(arg('--rounds', '3'));
const SECONDS = Number(arg('--seconds', '8'));
const CONNECTIONS = Number(arg('--connections', '32'));
const THREADS = Number(arg('--threads', '1'));
const PACED = Number(arg('--paced-rate', '0'));
const PIN = arg('--pin', CPUS > 1 ? 'yes' : 'no') === 'yes' && CPUS > 1;
const ROUTING = arg('--routing', 'tunnel');
if (ROUTING !== 'tunnel' && ROUTING !== 'native') throw new Error(`--routing ${ROUTING}: tunnel or native`);
const KEEP = process.argv.includes('--keep-lab');
const OUT = arg('--out', join(repoRoot, 'bench', 'results', 'http-l7.json'));
const TMP = `/tmp/http-l7-bench-${process.pid}`;

type Arm = 'none' | 'l4' | 'l7' | 'l7-shared' | 'haproxy' | GenArm;
/** (d'): the node proxy's generated configuration, non-transparent; with its records, without, without records and path normalization. */
type GenArm = 'haproxy-gen' | 'haproxy-gen-nolog' | 'haproxy-gen-nolog-nolua';
const GEN_ARMS: GenArm[] = ['haproxy-gen', 'haproxy-gen-nolog', 'haproxy-gen-nolog-nolua'];
const ARMS_ALL: Arm[] = ['none', 'l4', 'l7', 'l7-shared', 'haproxy', ...GEN_ARMS];
/** The arms whose load goes to srv-l7 through node2's node proxy. */
const isL7 = (arm: Arm) => arm === 'l7' || arm === 'l7-shared';
const ARMS = arg('--arms', ARMS_ALL.join(',')).split(',') as Arm[];
for (const a of ARMS) if (!ARMS_ALL.includes(a)) throw new Error(`--arms: unknown arm ${a} (${ARMS_ALL.join(', ')})`);

/** The Star Wars demo's L7 rule (examples/) and a GET rule for the load: the same as bench/http-engine.ts. */
const RULES: HttpRule[] = [
  { method: 'POST', path: '/v1/request-landing' },
  { method: 'GET', path: '/v1/.*' },
];
const LOAD_PATH = '/v1/ships';
const DENIED_PATH = '/v1/exhaust-port';
const SERVER_PORT = 8080;
/** The (d) HAProxies' ports on node2's address. */
const PROXY_PORT: Record<'haproxy' | GenArm, number> = { haproxy: 18080, 'haproxy-gen': 18081, 'haproxy-gen-nolog': 18082, 'haproxy-gen-nolog-nolua': 18083 };

const now = () => performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const progress = progressOf('http-l7');

// ---------------------------------------------------------------------------
// The workload

const server = (name: string) => `---
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${NS}, labels: {app: ${name}}}
spec:
  nodeName: node2
  containers:
  - name: nginx
    image: beeline.dev/nginx-native
    args: ["--port", "${SERVER_PORT}"]
`;

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
${server('srv-none')}${server('srv-l4')}${server('srv-l7')}---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: l4, namespace: ${NS}}
spec:
  endpointSelector: {matchLabels: {app: srv-l4}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: client}}]
    toPorts:
    - ports: [{port: "${SERVER_PORT}", protocol: TCP}]
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: l7, namespace: ${NS}}
spec:
  endpointSelector: {matchLabels: {app: srv-l7}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: client}}]
    toPorts:
    - ports: [{port: "${SERVER_PORT}", protocol: TCP}]
      rules:
        http:
${RULES.map((r) => `        - method: "${r.method}"\n          path: "${r.path}"\n`).join('')}`;

interface Lab {
  node2: { ip: string; netns: string };
  agents: Record<string, string>;
  pods: Record<string, PodInfo>;
  /** Node proxy state directory of node2 (its identity map). */
  proxyDir2: string;
}

async function labUp(): Promise<Lab> {
  await labUp2(LAB, ['--routing', ROUTING], progress);
  const s = readState(LAB)!;
  const manifest = join(TMP, 'workload.yaml');
  writeFileSync(manifest, WORKLOAD);
  // Through the CLI, as a user applies it: admission and the node proxy's checks of the L7 rules.
  beeline(['apply', '--lab', LAB, '-f', manifest]);
  const store = openEtcdStore({ endpoint: `unix://${s.etcd!.socket}` });
  let pods: Record<string, PodInfo> = {};
  try {
    pods = await runningPods(store, NS, ['client', 'srv-none', 'srv-l4', 'srv-l7']);
  } finally {
    await store.close().catch(() => undefined);
  }
  const n2 = s.plan.nodes.find((n) => n.name === 'node2')!;
  return {
    node2: { ip: n2.ip, netns: n2.netns },
    agents: Object.fromEntries(Object.entries(s.agents).map(([n, a]) => [n, a.socket])),
    pods,
    proxyDir2: join(s.dir, 'nodes', 'node2', 'proxy'),
  };
}

/** An HTTP request from a pod (curl): status code and body; status 0 when it did not connect. */
function curl(from: string, method: string, url: string, timeoutS = 3): { status: number; body: string } {
  const r = beeline(['exec', '--lab', LAB, '-n', NS, from, '--', 'curl', '-s', '-m', String(timeoutS), '-X', method, '-w', '\n%{http_code}', url], { allowFail: true });
  const i = r.out.lastIndexOf('\n');
  return { status: Number(r.out.slice(i + 1)) || 0, body: r.out.slice(0, i) };
}


// ---------------------------------------------------------------------------
// The (d) HAProxies in node2's namespace

interface BenchProxy {
  name: string;
  child: ChildProcess;
  stderr: string;
  /** Its cgroup under the lab's node2 (CPU accounting; the lab's removal ends it). */
  cgroup: string;
}
const benchProxies: BenchProxy[] = [];

/** Starts `haproxy -db -f cfg` in node2's namespace, in cgroup beeline/<lab>/node2/<name>; its pid is HAProxy's (sh and ip exec it). */
function startBenchProxy(lab: Lab, name: string, cfg: string): BenchProxy {
  const cg = ensureCgroup(LAB, 'node2', name);
  const child = spawn('sh', ['-c', 'echo $$ > "$1/cgroup.procs" && exec ip netns exec "$2" haproxy -db -f "$3"', 'sh', cg, lab.node2.netns, cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  const p: BenchProxy = { name, child, stderr: '', cgroup: cg };
  child.stderr!.on('data', (d: Buffer) => (p.stderr = (p.stderr + d.toString()).slice(-2000)));
  benchProxies.push(p);
  return p;
}

function stopBenchProxies(): void {
  for (const p of benchProxies) {
    if (p.child.exitCode === null && p.child.pid) {
      try {
        process.kill(p.child.pid, 'SIGTERM');
      } catch {
        // gone
      }
    }
  }
}

/** (d): the allow-list as ACLs, no access log. */
function plainConfig(lab: Lab): string {
  return haproxyAclConfig({ bind: `${lab.node2.ip}:${PROXY_PORT.haproxy}`, upstream: `${lab.pods['srv-none']!.ip}:${SERVER_PORT}`, rules: RULES, writtenBy: 'bench/http-l7.ts (arm haproxy)' });
}

/**
 * (d'): the node proxy's generator (src/l7/http/haproxy.ts), non-transparent, forwarding to
 * srv-none; files under `dir`. haproxy-gen: as generated, its records to node2's agent;
 * -nolog: the frontend's `log` and `log-format` lines removed; -nolua: also `lua-load` and
 * the path normalization action (the lines are asserted to be there, so a change of the
 * generator cannot make two arms the same unnoticed).
 */
function generatedConfig(lab: Lab, arm: GenArm, dir: string): string {
  const port = PROXY_PORT[arm];
  const identities = readFileSync(join(lab.proxyDir2, HAPROXY_FILES.identities), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [prefix, id] = l.split(' ');
      return { prefix: prefix!, identity: Number(id) };
    });
  const out = renderHaproxy(
    {
      listeners: [{ direction: 'ingress', port }],
      redirects: [{ direction: 'ingress', endpointIp: lab.node2.ip, port, identity: 0, http: [{ origin: { kind: 'CiliumNetworkPolicy', namespace: NS, name: 'l7' }, rules: RULES }] }],
      identities,
      logTarget: `127.0.0.1:${LAB_PROXY_ACCESSLOG_PORT}`,
      stateDir: dir,
    },
    { transparent: false, bindAddress: lab.node2.ip, forwardTo: `${lab.pods['srv-none']!.ip}:${SERVER_PORT}` },
  );
  let text = out.config;
  const drop = (re: RegExp, what: string) => {
    const lines = text.split('\n');
    const kept = lines.filter((l) => !re.test(l));
    if (kept.length === lines.length) throw new Error(`arm ${arm}: the generated configuration has no ${what} line (src/l7/http/haproxy.ts changed?)`);
    text = kept.join('\n');
  };
  if (arm !== 'haproxy-gen') {
    drop(/^ {2}log \S+ len \d+ format raw /, '`log <target> … format raw`');
    drop(/^ {2}log-format /, '`log-format`');
  }
  if (arm === 'haproxy-gen-nolog-nolua') {
    drop(/^ {2}lua-load /, '`lua-load`');
    drop(/^ {2}http-request lua\.beeline_normalize_path(?: if .*)?$/, '`http-request lua.beeline_normalize_path`');
  }
  return writeRenderedHaproxy({ ...out, config: text }, join(dir, 'haproxy.cfg'));
}

// ---------------------------------------------------------------------------
// Measurement

/** The address wrk sends to, per arm. */
function target(lab: Lab, arm: Arm): string {
  switch (arm) {
    case 'none': return `${lab.pods['srv-none']!.ip}:${SERVER_PORT}`;
    case 'l4': return `${lab.pods['srv-l4']!.ip}:${SERVER_PORT}`;
    case 'l7': case 'l7-shared': return `${lab.pods['srv-l7']!.ip}:${SERVER_PORT}`;
    default: return `${lab.node2.ip}:${PROXY_PORT[arm]}`;
  }
}

const serverOf = (arm: Arm) => (arm === 'l4' ? 'srv-l4' : isL7(arm) ? 'srv-l7' : 'srv-none');
/** The cgroup (under beeline/<lab>/node2) of the arm's proxy: node2's node proxy for l7, each (d) HAProxy its own. */
const proxyCgroupOf = (arm: Arm) => (arm === 'none' || arm === 'l4' ? undefined : isL7(arm) ? 'proxy' : `bench-${arm}`);

interface Sample {
  arm: Arm;
  round: number;
  /** 'max': unpaced; else paced at this target req/s. */
  target: 'max' | number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  errorKinds: Record<string, number>;
  /** CPU µs per request (cgroup cpu.stat): the arm's proxy (node2's node proxy for l7), its nginx, node2's agent. */
  proxyCpuUsPerReq?: number;
  serverCpuUsPerReq: number;
  agentCpuUsPerReq: number;
  /** Busy share of each CPU over the run, %; wrk's own CPU, % of one. */
  cpuBusy: number[];
  wrkCpuPercent: number;
  /** Access records node2's agent received during the run, per request. */
  recordsPerReq: number;
  /** Lines the receiver dropped as not records during the run. */
  malformedRecords: number;
}


/** node2's access-log receiver: records it turned into flows, datagrams it dropped as not records. */
async function accessRecords(lab: Lab): Promise<{ records: number; malformed: number }> {
  const st = await agentGet<{ httpAccessLog?: { records: number; malformed: number } }>(lab.agents['node2']!, '/v1/observer', 10_000);
  return { records: st.httpAccessLog?.records ?? NaN, malformed: st.httpAccessLog?.malformed ?? NaN };
}

async function measure(lab: Lab, cfg: LoadConfig, arm: Arm, round: number, tgt: 'max' | number): Promise<Sample> {
  const proxyCg = proxyCgroupOf(arm);
  const srvCg = podCgroup(lab.pods[serverOf(arm)]!);
  const cpu = () => ({ proxy: proxyCg ? cgroupCpuUs(LAB, join('node2', proxyCg)) : NaN, server: cgroupCpuUs(LAB, srvCg), agent: cgroupCpuUs(LAB, join('node2', 'agent')) });
  const rec0 = await accessRecords(lab);
  const c0 = cpu();
  const r: LoadResult = pinnedFor(
    cfg, [LAB],
    () => runLoad(cfg, { lab: LAB, namespace: NS, pod: 'client' }, [target(lab, arm)], { path: LOAD_PATH, threads: THREADS, ...(tgt === 'max' ? {} : { ratePerThread: tgt / THREADS }) }),
    // The agents' record-to-flow work on the generator's CPU, except in l7-shared (on the proxy's CPU).
    arm === 'l7-shared' ? {} : { onGenCpu: ['node1', 'node2'].map((n) => ({ lab: LAB, sub: join(n, 'agent') })) },
  );
  const c1 = cpu();
  // The agent reads its socket in its event loop: records of the last milliseconds may still be queued.
  await sleep(300);
  const rec1 = await accessRecords(lab);
  const per = (a: number, b: number) => (b - a) / Math.max(1, r.requests);
  return {
    arm,
    round,
    target: tgt,
    rps: r.rps,
    p50Ms: r.requestP50Ms ?? NaN,
    p99Ms: r.requestP99Ms ?? NaN,
    errors: r.errors,
    errorKinds: r.errorKinds,
    ...(proxyCg ? { proxyCpuUsPerReq: per(c0.proxy, c1.proxy) } : {}),
    serverCpuUsPerReq: per(c0.server, c1.server),
    agentCpuUsPerReq: per(c0.agent, c1.agent),
    cpuBusy: r.cpuBusy,
    wrkCpuPercent: r.cpuPercent,
    recordsPerReq: per(rec0.records, rec1.records),
    malformedRecords: rec1.malformed - rec0.malformed,
  };
}

// ---------------------------------------------------------------------------
// Main

interface ArmSummary {
  arm: Arm;
  maxRps: number;
  maxP50Ms: number;
  maxP99Ms: number;
  pacedTargetRps: number;
  pacedRps: number;
  pacedP50Ms: number;
  pacedP99Ms: number;
  proxyCpuUsPerReq?: number;
  serverCpuUsPerReq: number;
  agentCpuUsPerReq: number;
  /** CPU 1's busy share at the maximum (median), %: the lab's CPU when pinned. */
  labCpuBusyPercent: number;
  wrkCpuPercent: number;
  recordsPerReq: number;
  malformedRecords: number;
  errors: number;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('needs root (a lab)');
  requireTools(['haproxy', 'nginx', 'wrk', 'taskset', 'curl']);
  const t00 = now();
  const started = new Date().toISOString();
  const load0 = loadavg();
  mkdirSync(TMP, { recursive: true });
  let lab: Lab | undefined;
  const cleanup = () => {
    stopBenchProxies();
    if (!KEEP) labDown(LAB);
    rmSync(TMP, { recursive: true, force: true });
  };
  cleanupOnSignal(cleanup);
  try {
    progress(`lab ${LAB} (2 nodes, ${ROUTING} routing)`);
    lab = await labUp();
    const L = lab;
    if (ARMS.includes('haproxy')) {
      writeFileSync(join(TMP, 'haproxy.cfg'), plainConfig(L));
      startBenchProxy(L, 'bench-haproxy', join(TMP, 'haproxy.cfg'));
    }
    for (const a of GEN_ARMS) if (ARMS.includes(a)) startBenchProxy(L, `bench-${a}`, generatedConfig(L, a, join(TMP, a)));

    // Every arm is what it claims before anything is measured.
    const ok = (r: { status: number; body: string }) => r.status === 200 && r.body === 'ok\n';
    const denied = (r: { status: number; body: string }) => r.status === 403 && r.body === 'Access denied\r\n';
    for (const a of ARMS) {
      const url = (p: string) => `http://${target(L, a)}${p}`;
      await until(`arm ${a}: GET ${LOAD_PATH} from the client`, () => {
        const r = curl('client', 'GET', url(LOAD_PATH));
        return ok(r) ? undefined : `answered ${r.status} ${JSON.stringify(r.body.slice(0, 80))}`;
      });
      if (proxyCgroupOf(a)) {
        await until(`arm ${a}: PUT ${DENIED_PATH} from the client must be denied`, () => {
          const r = curl('client', 'PUT', url(DENIED_PATH));
          return denied(r) ? undefined : `answered ${r.status} ${JSON.stringify(r.body.slice(0, 80))}`;
        });
      }
      if (a === 'l4' || isL7(a)) {
        await until(`arm ${a}: srv-none (not allowed by the policy) must not connect`, () => {
          const r = curl('srv-none', 'GET', url(LOAD_PATH), 2);
          return r.status === 0 ? undefined : `answered ${r.status}`;
        });
      }
      progress(`arm ${a}: checked (${target(L, a)})`);
    }

    const cfg: LoadConfig = { generator: 'wrk', connections: CONNECTIONS, seconds: SECONDS, close: false, pin: PIN, tmp: TMP };
    progress(`${ROUNDS} rounds × ${ARMS.length} arms × (max + paced) × ${SECONDS} s; wrk -t ${THREADS} -c ${CONNECTIONS} keep-alive GET ${LOAD_PATH}; ${PIN ? `wrk and the agents on CPU ${GEN_CPU}, the rest of the lab on CPU ${LAB_CPUS} (l7-shared: the agents too)` : 'not pinned'}`);
    // Warm-up (pools, caches, the agent's flow path): not reported.
    for (const a of ARMS) await measure(L, { ...cfg, seconds: Math.min(2, SECONDS) }, a, 0, 'max');
    const orderOf = (round: number) => {
      const shift = (round - 1) % ARMS.length;
      return [...ARMS.slice(shift), ...ARMS.slice(0, shift)];
    };
    const line = (s: Sample) =>
      `${fmt(s.rps)} req/s, p50 ${fmt(s.p50Ms, 3)} ms, p99 ${fmt(s.p99Ms, 3)} ms, errors ${s.errors}; CPU µs/req${s.proxyCpuUsPerReq !== undefined ? ` proxy ${fmt(s.proxyCpuUsPerReq, 1)}` : ''} nginx ${fmt(s.serverCpuUsPerReq, 1)} agent ${fmt(s.agentCpuUsPerReq, 1)}; CPUs ${s.cpuBusy.map((b) => fmt(b)).join('/')} % busy, wrk ${fmt(s.wrkCpuPercent)} %; records/req ${fmt(s.recordsPerReq, 3)} (malformed ${s.malformedRecords})`;
    const samples: Sample[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const a of orderOf(round)) {
        const s = await measure(L, cfg, a, round, 'max');
        samples.push(s);
        progress(`round ${round} ${a} max: ${line(s)}`);
      }
    }
    const base = ARMS.includes('haproxy') ? 'haproxy' : ARMS.includes('l7') ? 'l7' : ARMS[0]!;
    const paced = PACED > 0 ? PACED : Math.round(median(samples.filter((s) => s.arm === base).map((s) => s.rps)) / 2);
    for (let round = 1; round <= ROUNDS; round++) {
      for (const a of orderOf(round)) {
        const s = await measure(L, cfg, a, round, paced);
        samples.push(s);
        progress(`round ${round} ${a} paced @ ${fmt(paced)}: ${line(s)}`);
      }
    }

    // Memory after the load: the node proxies (master and workers) and the (d) HAProxies.
    const memory = {
      nodeProxy: Object.fromEntries(['node1', 'node2'].map((n) => [n, haproxyMemory(cgroupPath(LAB, n, 'proxy'))])),
      bench: Object.fromEntries(benchProxies.map((p) => [p.name.replace(/^bench-/, ''), p.child.pid ? procMemory(p.child.pid, 'single process') : undefined])),
    };
    const proxyStatus = Object.fromEntries(await Promise.all(['node1', 'node2'].map(async (n) => [n, await agentGet<unknown>(L.agents[n]!, '/v1/observer', 10_000).then((o) => (o as { httpAccessLog?: unknown }).httpAccessLog).catch((e: Error) => e.message)] as const)));
    const versions = {
      haproxy: spawnSync('haproxy', ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0],
      nginx: spawnSync('nginx', ['-v'], { encoding: 'utf8' }).stderr.trim(),
      wrk: spawnSync('wrk', ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0]?.trim(),
      node: process.version,
    };

    // ---- Summary
    const sum: ArmSummary[] = ARMS.map((a) => {
      const max = samples.filter((s) => s.arm === a && s.target === 'max');
      const pc = samples.filter((s) => s.arm === a && s.target !== 'max');
      return {
        arm: a,
        maxRps: median(max.map((s) => s.rps)),
        maxP50Ms: median(max.map((s) => s.p50Ms)),
        maxP99Ms: median(max.map((s) => s.p99Ms)),
        pacedTargetRps: median(pc.map((s) => s.target as number)),
        pacedRps: median(pc.map((s) => s.rps)),
        pacedP50Ms: median(pc.map((s) => s.p50Ms)),
        pacedP99Ms: median(pc.map((s) => s.p99Ms)),
        ...(proxyCgroupOf(a) ? { proxyCpuUsPerReq: median(max.map((s) => s.proxyCpuUsPerReq ?? NaN)) } : {}),
        serverCpuUsPerReq: median(max.map((s) => s.serverCpuUsPerReq)),
        agentCpuUsPerReq: median(max.map((s) => s.agentCpuUsPerReq)),
        labCpuBusyPercent: median(max.map((s) => s.cpuBusy[1] ?? NaN)),
        wrkCpuPercent: median(max.map((s) => s.wrkCpuPercent)),
        recordsPerReq: median(max.map((s) => s.recordsPerReq)),
        malformedRecords: [...max, ...pc].reduce((x, s) => x + s.malformedRecords, 0),
        errors: [...max, ...pc].reduce((x, s) => x + s.errors, 0),
      };
    });
    const get = (a: Arm) => sum.find((s) => s.arm === a);
    const ratio = (a: Arm, b: Arm, key: 'maxRps' | 'pacedP99Ms') => (get(a) && get(b) ? get(a)![key] / get(b)![key] : NaN);
    const perRound = (a: Arm, b: Arm, key: 'rps' | 'p99Ms', isPaced: boolean) =>
      ARMS.includes(a) && ARMS.includes(b)
        ? Array.from({ length: ROUNDS }, (_, i) => {
            const pick = (arm: Arm) => samples.find((s) => s.arm === arm && s.round === i + 1 && (s.target === 'max') !== isPaced);
            const x = pick(a);
            const y = pick(b);
            return x && y ? x[key] / y[key] : NaN;
          })
        : [];
    const ratios = {
      l7OverL4Rps: ratio('l7', 'l4', 'maxRps'),
      l7OverL4RpsPerRound: perRound('l7', 'l4', 'rps', false),
      l7OverHaproxyRps: ratio('l7', 'haproxy', 'maxRps'),
      l7OverHaproxyRpsPerRound: perRound('l7', 'haproxy', 'rps', false),
      l7OverHaproxyPacedP99: ratio('l7', 'haproxy', 'pacedP99Ms'),
      l7OverHaproxyPacedP99PerRound: perRound('l7', 'haproxy', 'p99Ms', true),
      l7SharedOverL4Rps: ratio('l7-shared', 'l4', 'maxRps'),
      l7SharedOverHaproxyRps: ratio('l7-shared', 'haproxy', 'maxRps'),
      l7SharedOverHaproxyPacedP99: ratio('l7-shared', 'haproxy', 'pacedP99Ms'),
      haproxyOverL4Rps: ratio('haproxy', 'l4', 'maxRps'),
      l7OverHaproxyGenRps: ratio('l7', 'haproxy-gen', 'maxRps'),
      l7OverHaproxyGenPacedP99: ratio('l7', 'haproxy-gen', 'pacedP99Ms'),
      haproxyGenOverHaproxyRps: ratio('haproxy-gen', 'haproxy', 'maxRps'),
      haproxyGenNologOverHaproxyRps: ratio('haproxy-gen-nolog', 'haproxy', 'maxRps'),
      haproxyGenNologNoluaOverHaproxyRps: ratio('haproxy-gen-nolog-nolua', 'haproxy', 'maxRps'),
      l4OverNoneRps: ratio('l4', 'none', 'maxRps'),
      haproxyOverNoneRps: ratio('haproxy', 'none', 'maxRps'),
    };
    const goals = { l7OverL4Rps: 0.5, l7OverHaproxyRps: 0.7, l7OverHaproxyPacedP99: 1.5 };
    const met = (v: number, goal: number, atMost = false) => (!Number.isFinite(v) ? 'not measured' : (atMost ? v <= goal : v >= goal) ? 'met' : 'MISSED');

    const lines: string[] = [];
    lines.push('## L7 HTTP policy: req/s and latency', '');
    lines.push(
      `${ROUNDS} rounds × ${SECONDS} s per arm and load, arms interleaved (order rotated per round); wrk -t ${THREADS} -c ${CONNECTIONS} keep-alive GET ${LOAD_PATH} (3-byte body) from the client pod on node1 to node2 (${ROUTING} routing); nginx (one worker) and HAProxy (nbthread 1) on node2; ${PIN ? `wrk on CPU ${GEN_CPU}, every lab process on CPU ${LAB_CPUS} but the agents (the access records' flow processing), on CPU ${GEN_CPU}; in l7-shared the agents too on CPU ${LAB_CPUS}` : 'not pinned'}. Medians over the rounds; paced: wrk's delay() hook sending at ${PACED > 0 ? `${fmt(PACED)} req/s (--paced-rate)` : `half of ${base}'s median maximum`}. CPU per request from cgroup cpu.stat at the maximum: the arm's proxy, its nginx, node2's agent.`,
      '',
    );
    lines.push('| arm | max req/s | p50 ms | p99 ms | paced target req/s | paced achieved req/s | paced p50 ms | paced p99 ms | proxy CPU µs/req | nginx CPU µs/req | agent CPU µs/req | CPU 1 busy % | wrk CPU % | records/req | malformed records | errors | max req/s per round | paced p99 ms per round |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|');
    for (const s of sum) {
      lines.push(
        `| ${s.arm} | ${fmt(s.maxRps)} | ${fmt(s.maxP50Ms, 3)} | ${fmt(s.maxP99Ms, 3)} | ${fmt(s.pacedTargetRps)} | ${fmt(s.pacedRps)} | ${fmt(s.pacedP50Ms, 3)} | ${fmt(s.pacedP99Ms, 3)} | ${fmt(s.proxyCpuUsPerReq, 1)} | ${fmt(s.serverCpuUsPerReq, 1)} | ${fmt(s.agentCpuUsPerReq, 1)} | ${fmt(s.labCpuBusyPercent)} | ${fmt(s.wrkCpuPercent)} | ${fmt(s.recordsPerReq, 3)} | ${s.malformedRecords} | ${s.errors} | ${samples.filter((x) => x.arm === s.arm && x.target === 'max').map((x) => fmt(x.rps)).join(', ')} | ${samples.filter((x) => x.arm === s.arm && x.target !== 'max').map((x) => fmt(x.p99Ms, 2)).join(', ')} |`,
      );
    }
    lines.push('');
    const pr = (xs: number[]) => xs.map((r) => fmt(r, 3)).join(', ');
    lines.push(`- l7 / l4, max req/s: ${fmt(ratios.l7OverL4Rps, 3)} (per round ${pr(ratios.l7OverL4RpsPerRound)}); goal ≥ 0.5: ${met(ratios.l7OverL4Rps, goals.l7OverL4Rps)}.`);
    lines.push(`- l7 / haproxy, max req/s: ${fmt(ratios.l7OverHaproxyRps, 3)} (per round ${pr(ratios.l7OverHaproxyRpsPerRound)}); goal ≥ 0.7: ${met(ratios.l7OverHaproxyRps, goals.l7OverHaproxyRps)}.`);
    lines.push(`- l7 / haproxy, p99 at ${fmt(paced)} req/s: ${fmt(ratios.l7OverHaproxyPacedP99, 3)} (per round ${pr(ratios.l7OverHaproxyPacedP99PerRound)}); goal ≤ 1.5${PACED > 0 || base !== 'haproxy' ? " (the goal's rate is half of haproxy's maximum; this one was set otherwise: for reference only)" : `: ${met(ratios.l7OverHaproxyPacedP99, goals.l7OverHaproxyPacedP99, true)}`}.`);
    lines.push(`- l7-shared (the agents on the proxy's CPU): / l4 max req/s ${fmt(ratios.l7SharedOverL4Rps, 3)}, / haproxy max req/s ${fmt(ratios.l7SharedOverHaproxyRps, 3)}, / haproxy paced p99 ${fmt(ratios.l7SharedOverHaproxyPacedP99, 3)}.`);
    lines.push(`- haproxy / l4, max req/s: ${fmt(ratios.haproxyOverL4Rps, 3)} (the l7 ≥ 0.5 × l4 goal asks more of the node proxy than a plain HAProxy gives here).`);
    lines.push(`- l7 / haproxy-gen (the same configuration and records, without the datapath's redirect): max req/s ${fmt(ratios.l7OverHaproxyGenRps, 3)}, paced p99 ${fmt(ratios.l7OverHaproxyGenPacedP99, 3)}.`);
    lines.push(`- over haproxy, max req/s: haproxy-gen ${fmt(ratios.haproxyGenOverHaproxyRps, 3)}, haproxy-gen-nolog ${fmt(ratios.haproxyGenNologOverHaproxyRps, 3)}, haproxy-gen-nolog-nolua ${fmt(ratios.haproxyGenNologNoluaOverHaproxyRps, 3)}.`);
    lines.push(`- l4 / none: ${fmt(ratios.l4OverNoneRps, 3)}; haproxy / none: ${fmt(ratios.haproxyOverNoneRps, 3)}.`, '');
    lines.push('Proxy memory after the load (VmRSS MiB, peak VmHWM in brackets):', '');
    lines.push('| proxy | process | pid | RSS MiB (peak) |', '|---|---|---:|---:|');
    for (const [node, procs] of Object.entries(memory.nodeProxy)) for (const m of procs) lines.push(`| node proxy ${node} | ${m.role} | ${m.pid} | ${fmt(m.rssMiB, 1)} (${fmt(m.hwmMiB, 1)}) |`);
    for (const [name, m] of Object.entries(memory.bench)) if (m) lines.push(`| ${name} (node2) | ${m.role} | ${m.pid} | ${fmt(m.rssMiB, 1)} (${fmt(m.hwmMiB, 1)}) |`);
    lines.push('');
    const out = lines.join('\n');
    process.stdout.write(out + '\n');
    writeResults(OUT, {
      benchmark: 'http-l7',
      started,
      minutes: (now() - t00) / 60000,
      machine: machine(load0),
      versions,
      lab: { name: LAB, nodes: 2, routing: ROUTING, proxyIngressPort: LAB_PROXY_INGRESS_PORT },
      load: { rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS, threads: THREADS, path: LOAD_PATH, pinned: PIN, genCpu: GEN_CPU, labCpus: LAB_CPUS, agentCpu: PIN ? { default: GEN_CPU, 'l7-shared': LAB_CPUS } : 'any', pacedRps: paced, pacedFrom: PACED > 0 ? '--paced-rate' : base },
      rules: RULES,
      summary: sum,
      ratios,
      goals,
      memory,
      accessLog: proxyStatus,
      samples,
      table: out,
    });
    progress(`wrote ${OUT} (${fmt((now() - t00) / 60000, 1)} min)`);
  } finally {
    for (const p of benchProxies) if (p.child.exitCode !== null && p.stderr.trim()) progress(`${p.name} exited ${p.child.exitCode}: ${p.stderr.trim().slice(-300)}`);
    cleanup();
  }
}

await main();

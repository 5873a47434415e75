/**
 * The mesh without sidecars (issue 15, its performance section): what the
 * routed path and the mutual-TLS path add over the kernel-only path, at
 * 1,000 requests/s of 1 KB responses, and the memory a sidecar design would
 * add against beeline's one proxy per node.
 *
 * Latency arms (one 2-node lab `bmesh`, namespace `meshbench`; the client pod
 * on node1, one server pod per arm on node2, each the lab's nginx-native image
 * answering every request with a 1,024-byte body):
 *   kernel  GET to the ClusterIP of Service srv-kernel, which no HTTPRoute
 *           names: socket LB in the client's connect() only, no proxy;
 *   routed  GET to the ClusterIP of Service srv-routed, which an HTTPRoute
 *           (GAMMA: parentRef the Service, one backendRef to it, weight 1, a
 *           ResponseHeaderModifier setting `x-bench-route: mesh`) routes:
 *           the datapath hands the connection to node1's node proxy (mesh
 *           listener 15003), which picks the backend pod;
 *   mtls    GET to the pod srv-mtls, whose ingress CiliumNetworkPolicy has
 *           `authentication: {mode: required}`: node1's proxy (15004) → TLS
 *           1.3 → node2's proxy (15008) → the pod.
 * Every arm is checked to be what it claims before anything is measured:
 * kernel answers the 1,024-byte body without the route's header; routed
 * answers it with the header; mtls answers it and node2's HTTP flow of it names the
 * client's SPIFFE id (mesh_tls.peer_spiffe_id). An arm whose feature is not there
 * (no mesh listener in node1's proxy configuration, the policy refused, no
 * mTLS listeners) is skipped with the reason, which the report names.
 *
 * Load: wrk (C) in the client pod, `-t THREADS -c CONNECTIONS`, keep-alive,
 * paced at RATE requests/s through src/lab/wrk.ts's delay() hook; ROUNDS
 * rounds, every arm once per round, the order rotated per round; added
 * latency = the arm's p50/p99 minus the kernel arm's of the same round
 * (median over rounds). With --pin yes wrk and the agents run on CPU 0, the
 * rest of the lab (servers, both node proxies, etcd…) on CPU 1
 * (bench/load.ts). Per measurement: wrk's p50/p99 (request written →
 * response read), each node proxy's CPU per request (cgroup v2 cpu.stat of
 * the lab's `proxy` cgroup of the node: HAProxy and its supervisor) and each
 * node proxy's RSS after it (master + worker, bench/proc-memory.ts).
 *
 * Memory contrast (--pods 10,50,100): for N pods per node
 *   beeline  one HAProxy (master-worker, as the lab's node proxy runs) with
 *            the node's configuration for N pods: the policy renderer
 *            (src/l7/http/haproxy.ts) with an L7 ingress allow-list for each
 *            of the N pods and an ipcache of 2N pods, the mesh compiler
 *            (src/l7/http/mesh.ts) over N Services each with its HTTPRoute,
 *            and the mTLS section (src/l7/http/mtls.ts) with a certificate
 *            for each of the N pods' ServiceAccounts (one per pod: the
 *            worst case) and the 2N pods as destinations requiring it;
 *   sidecar  N HAProxy processes, each with one pod's configuration: the
 *            same renderer with that pod's own allow-list (inbound) and the
 *            same ipcache, the mesh compiler over the one Service it calls
 *            (outbound), the mTLS section with its own certificate. Single processes (`-db`, no master): a real
 *            sidecar image (`haproxy -W`) adds a master each, so the sum is
 *            a lower bound of what sidecars take.
 * All started for real in node1's network namespace, on 127.0.0.1 ports
 * 40000-40604 (non-transparent binds so that they can coexist; no traffic),
 * each checked to answer `show info` on its stats socket, then VmRSS and PSS
 * read, then ended by pid (at most 100 at a time; they run in the lab's
 * cgroup, so `lab down` ends any left over).
 *
 * Goals (issue 15): mTLS adds ≤ 0.5 ms p99 over the kernel-only path;
 * memory per node constant in the number of pods (here: the node proxy's
 * RSS at the largest N ≤ 1.2 × at the smallest, where the sidecars' sum
 * grows with N).
 *
 *   node dist/bench/mesh.js [--rounds 3] [--seconds 6] [--rate 1000] [--connections 16] [--threads 1]
 *        [--arms kernel,routed,mtls] [--pods 10,50,100] [--memory yes|no] [--pin yes|no]
 *        [--routing tunnel|native] [--keep-lab] [--out bench/results/mesh.json]
 * Root (a lab). Wrap in `flock /tmp/beeline-heavy.lock` (make bench-mesh does).
 * Host safety: traffic only between the lab's namespaces; the memory
 * contrast's HAProxies bind on node1's loopback inside its namespace.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { repoRoot } from '../src/common/version.js';
import { readState } from '../src/lab/state.js';
import { cgroupPath, ensureCgroup } from '../src/lab/cgroup.js';
import { openEtcdStore } from '../src/store/etcd.js';
import { HAPROXY_FILES, renderHaproxy, type ProxyRuleSet } from '../src/l7/http/haproxy.js';
import { renderMtlsSection } from '../src/l7/http/mtls.js';
import { compileMesh } from '../src/l7/http/mesh.js';
import { haproxyCommand } from '../src/agent/proxy.js';
import { LAB_PROXY_MESH_PORT, LAB_PROXY_MTLS_IN_PORT, LAB_PROXY_MTLS_OUT_PORT } from '../src/lab/lab.js';
import type { ObjectInput } from '../src/store/store.js';
import { CPUS, GEN_CPU, LAB_CPUS, cgroupCpuUs, pinnedFor, runLoad, type LoadConfig, type LoadResult } from './load.js';
import { beeline, cleanupOnSignal, labDown, labUp2, runningPods, until, type PodInfo } from './lab-cli.js';
import { arg, fmt, machine, median, progressOf, requireTools, writeResults } from './report.js';
import { haproxyMemory, procMemory, type ProcMemory } from './proc-memory.js';
import { writeRenderedHaproxy } from '../test/lib/haproxy.js';
import { proxyLeafPem, throwawayCa } from '../test/lib/mesh.js';

const LAB = 'bmesh';
const NS = 'meshbench';
const ROUNDS = Number(arg('--rounds', '3'));
const SECONDS = Number(arg('--seconds', '6'));
const RATE = Number(arg('--rate', '1000'));
const CONNECTIONS = Number(arg('--connections', '16'));
const THREADS = Number(arg('--threads', '1'));
const PIN = arg('--pin', CPUS > 1 ? 'yes' : 'no') === 'yes' && CPUS > 1;
const ROUTING = arg('--routing', 'tunnel');
if (ROUTING !== 'tunnel' && ROUTING !== 'native') throw new Error(`--routing ${ROUTING}: tunnel or native`);
const MEMORY = arg('--memory', 'yes') === 'yes';
const PODS = arg('--pods', '10,50,100').split(',').map(Number);
for (const n of PODS) if (!(Number.isInteger(n) && n >= 1 && n <= 100)) throw new Error(`--pods: ${n}: want whole numbers 1..100 (at most 100 sidecar processes)`);
const KEEP = process.argv.includes('--keep-lab');
const OUT = arg('--out', join(repoRoot, 'bench', 'results', 'mesh.json'));
/** Under the repository: a pod sees it (its /tmp is its own tmpfs), wrk reads its script there. */
const TMP = join(repoRoot, 'dist', `mesh-bench-${process.pid}`);

type Arm = 'kernel' | 'routed' | 'mtls';
const ARMS_ALL: Arm[] = ['kernel', 'routed', 'mtls'];
const ARMS_ASKED = arg('--arms', ARMS_ALL.join(',')).split(',') as Arm[];
for (const a of ARMS_ASKED) if (!ARMS_ALL.includes(a)) throw new Error(`--arms: unknown arm ${a} (${ARMS_ALL.join(', ')})`);
if (!ARMS_ASKED.includes('kernel')) throw new Error('--arms: the kernel arm is the baseline; keep it');

/** The response body: 1,023 characters and nginx's newline (beeline-nginx --text). */
const BODY_BYTES = 1024;
const TEXT = 'x'.repeat(BODY_BYTES - 1);
const SERVER_PORT = 8080;
const SERVICE_PORT = 80;
const LOAD_PATH = '/';
/** The header the route's ResponseHeaderModifier sets: the routed arm's proof that node1's proxy routed it. */
const ROUTE_HEADER = 'x-bench-route';
const ROUTE_HEADER_VALUE = 'mesh';
/** The client's SPIFFE id (the default trust domain, docs/mesh.md; the pod's ServiceAccount: default). */
const CLIENT_SPIFFE = `spiffe://cluster.local/ns/${NS}/sa/default`;

const now = () => performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const progress = progressOf('mesh');

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
    args: ["--port", "${SERVER_PORT}", "--text", "${TEXT}"]
`;
const service = (name: string) => `---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${NS}}
spec:
  selector: {app: ${name}}
  ports: [{name: http, port: ${SERVICE_PORT}, targetPort: ${SERVER_PORT}, protocol: TCP}]
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
${server('srv-kernel')}${server('srv-routed')}${server('srv-mtls')}${service('srv-kernel')}${service('srv-routed')}`;

/** The routed arm's HTTPRoute (GAMMA): its own manifest, so the rest stands when the kind is refused. */
const ROUTE = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: srv-routed, namespace: ${NS}}
spec:
  parentRefs: [{group: "", kind: Service, name: srv-routed, port: ${SERVICE_PORT}}]
  rules:
  - backendRefs: [{name: srv-routed, port: ${SERVICE_PORT}, weight: 1}]
    filters:
    - type: ResponseHeaderModifier
      responseHeaderModifier: {set: [{name: ${ROUTE_HEADER}, value: ${ROUTE_HEADER_VALUE}}]}
`;

/** The mtls arm's policy: the client allowed on 8080, mutual authentication required. */
const MTLS_POLICY = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: srv-mtls, namespace: ${NS}}
spec:
  endpointSelector: {matchLabels: {app: srv-mtls}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: client}}]
    toPorts:
    - ports: [{port: "${SERVER_PORT}", protocol: TCP}]
    authentication: {mode: required}
`;

interface Lab {
  dir: string;
  netns: Record<string, string>;
  pods: Record<string, PodInfo>;
  clusterIps: Record<string, string>;
}

async function labUp(): Promise<Lab> {
  await labUp2(LAB, ['--routing', ROUTING], progress);
  const s = readState(LAB)!;
  const manifest = join(TMP, 'workload.yaml');
  writeFileSync(manifest, WORKLOAD);
  beeline(['apply', '--lab', LAB, '-f', manifest]);
  const store = openEtcdStore({ endpoint: `unix://${s.etcd!.socket}` });
  let pods: Record<string, PodInfo> = {};
  const clusterIps: Record<string, string> = {};
  try {
    pods = await runningPods(store, NS, ['client', 'srv-kernel', 'srv-routed', 'srv-mtls']);
    for (const svc of (await store.list('Service', { namespace: NS })).items as any[]) clusterIps[svc.metadata.name] = svc.spec.clusterIP;
  } finally {
    await store.close().catch(() => undefined);
  }
  for (const n of ['srv-kernel', 'srv-routed']) if (!clusterIps[n]) throw new Error(`Service ${NS}/${n} has no ClusterIP`);
  return { dir: s.dir, netns: Object.fromEntries(s.plan.nodes.map((n) => [n.name, n.netns])), pods, clusterIps };
}

/** An HTTP GET from a pod (curl -i): status (0: no connection), the response headers (lower-case names) and the body's length. */
function curlGet(from: string, url: string, timeoutS = 3): { status: number; headers: Record<string, string>; bodyBytes: number; error: string } {
  const r = beeline(['exec', '--lab', LAB, '-n', NS, from, '--', 'curl', '-s', '-S', '-i', '-m', String(timeoutS), url], { allowFail: true });
  const sep = r.out.indexOf('\r\n\r\n');
  if (sep < 0) return { status: 0, headers: {}, bodyBytes: 0, error: (r.err || r.out).trim().slice(0, 200) };
  const lines = r.out.slice(0, sep).split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: Number(lines[0]!.split(' ')[1]) || 0, headers, bodyBytes: Buffer.byteLength(r.out.slice(sep + 4)), error: '' };
}

const proxyConfig = (lab: Lab, node: string) => {
  try {
    return readFileSync(join(lab.dir, 'nodes', node, 'proxy', 'haproxy.cfg'), 'utf8');
  } catch {
    return '';
  }
};
/** Whether a node proxy's configuration binds `port` (any address). */
const binds = (cfg: string, port: number) => new RegExp(`^\\s*bind\\s+\\S*:${port}\\b`, 'm').test(cfg);

/** The address wrk sends to, per arm. */
function target(lab: Lab, arm: Arm): string {
  switch (arm) {
    case 'kernel': return `${lab.clusterIps['srv-kernel']}:${SERVICE_PORT}`;
    case 'routed': return `${lab.clusterIps['srv-routed']}:${SERVICE_PORT}`;
    case 'mtls': return `${lab.pods['srv-mtls']!.ip}:${SERVER_PORT}`;
  }
}

/**
 * Evidence that node2's side of the mTLS path saw the client's SPIFFE id: an HTTP flow observed
 * on node2 to srv-mtls whose mesh_tls.peer_spiffe_id is the client's (the server node proxy's
 * access record, `beeline observe -o json`). Undefined: none found.
 */
function mtlsEvidence(): string | undefined {
  const r = beeline(['observe', '--lab', LAB, '--all', '-o', 'json', '--protocol', 'http', '--to-pod', `${NS}/srv-mtls`], { allowFail: true });
  for (const line of r.out.split('\n')) {
    let f: any;
    try {
      f = (JSON.parse(line) as { flow?: unknown }).flow;
    } catch {
      continue;
    }
    if (f?.node_name === 'node2' && f.destination?.pod_name === 'srv-mtls' && f.mesh_tls?.peer_spiffe_id === CLIENT_SPIFFE) return `node2's flow of the request names the peer ${CLIENT_SPIFFE} (mesh_tls.peer_spiffe_id)`;
  }
  return undefined;
}

/** The last lines of a failed `beeline apply -f file`, without the file's (temporary) path. */
const applyError = (a: { out: string; err: string }, file: string) => (a.err || a.out).trim().split('\n').slice(-1).join(' ').split(`${file}#1: `).join('').split(file).join('(manifest)').trim();

/**
 * Applies the routed and mtls arms' objects and checks every asked arm; answers the arms to
 * measure and, for the others, why they are skipped. The kernel arm failing its check throws.
 */
async function checkArms(lab: Lab): Promise<{ arms: Arm[]; skipped: Partial<Record<Arm, string>>; checks: Partial<Record<Arm, string>> }> {
  const skipped: Partial<Record<Arm, string>> = {};
  const checks: Partial<Record<Arm, string>> = {};
  const ok = (r: ReturnType<typeof curlGet>) => r.status === 200 && r.bodyBytes === BODY_BYTES;
  const show = (r: ReturnType<typeof curlGet>) => `answered ${r.status}${r.error ? ` (${r.error})` : ''}, ${r.bodyBytes} body bytes, ${ROUTE_HEADER}: ${r.headers[ROUTE_HEADER] ?? '(none)'}`;

  if (ARMS_ASKED.includes('routed')) {
    const f = join(TMP, 'route.yaml');
    writeFileSync(f, ROUTE);
    const a = beeline(['apply', '--lab', LAB, '-f', f], { allowFail: true });
    if (a.status !== 0) skipped.routed = `arm routed: the HTTPRoute was refused: ${applyError(a, f)}`;
  }
  if (ARMS_ASKED.includes('mtls')) {
    const f = join(TMP, 'mtls-policy.yaml');
    writeFileSync(f, MTLS_POLICY);
    const a = beeline(['apply', '--lab', LAB, '-f', f], { allowFail: true });
    if (a.status !== 0) skipped.mtls = `arm mtls: the policy with authentication.mode required was refused: ${applyError(a, f)}`;
  }

  await until('arm kernel: GET from the client', () => {
    const r = curlGet('client', `http://${target(lab, 'kernel')}${LOAD_PATH}`);
    return ok(r) && r.headers[ROUTE_HEADER] === undefined ? undefined : show(r);
  });
  checks.kernel = `GET ${target(lab, 'kernel')} (ClusterIP of srv-kernel, no HTTPRoute): 200, ${BODY_BYTES} body bytes, no ${ROUTE_HEADER} header`;

  if (ARMS_ASKED.includes('routed') && !skipped.routed) {
    // The agent renders the route into node1's proxy: give it a moment to appear.
    await until('mesh listener', () => (binds(proxyConfig(lab, 'node1'), LAB_PROXY_MESH_PORT) ? undefined : 'no'), 20_000).catch(() => undefined);
    if (!binds(proxyConfig(lab, 'node1'), LAB_PROXY_MESH_PORT)) skipped.routed = `arm routed: the mesh listener is not configured (node1's proxy configuration binds nothing on ${LAB_PROXY_MESH_PORT})`;
    else {
      let last = '';
      const good = await until('routed', () => {
        const r = curlGet('client', `http://${target(lab, 'routed')}${LOAD_PATH}`);
        last = show(r);
        return ok(r) && r.headers[ROUTE_HEADER] === ROUTE_HEADER_VALUE ? undefined : last;
      }, 60_000).then(() => true, () => false);
      if (good) checks.routed = `GET ${target(lab, 'routed')} (ClusterIP of srv-routed): 200, ${BODY_BYTES} body bytes, ${ROUTE_HEADER}: ${ROUTE_HEADER_VALUE} (set by the route's ResponseHeaderModifier in node1's proxy)`;
      else skipped.routed = `arm routed: node1's proxy binds ${LAB_PROXY_MESH_PORT} but the route does not answer as it should: ${last}`;
    }
  }

  if (ARMS_ASKED.includes('mtls') && !skipped.mtls) {
    await until('mTLS listeners', () => (binds(proxyConfig(lab, 'node1'), LAB_PROXY_MTLS_OUT_PORT) && binds(proxyConfig(lab, 'node2'), LAB_PROXY_MTLS_IN_PORT) ? undefined : 'no'), 20_000).catch(() => undefined);
    if (!binds(proxyConfig(lab, 'node1'), LAB_PROXY_MTLS_OUT_PORT) || !binds(proxyConfig(lab, 'node2'), LAB_PROXY_MTLS_IN_PORT)) {
      skipped.mtls = `arm mtls: the mTLS listeners are not configured (node1's proxy on ${LAB_PROXY_MTLS_OUT_PORT}: ${binds(proxyConfig(lab, 'node1'), LAB_PROXY_MTLS_OUT_PORT) ? 'yes' : 'no'}, node2's on ${LAB_PROXY_MTLS_IN_PORT}: ${binds(proxyConfig(lab, 'node2'), LAB_PROXY_MTLS_IN_PORT) ? 'yes' : 'no'})`;
    } else {
      let last = '';
      const good = await until('mtls', () => {
        const r = curlGet('client', `http://${target(lab, 'mtls')}${LOAD_PATH}`);
        last = show(r);
        if (!ok(r)) return last;
        const ev = mtlsEvidence();
        if (!ev) return (last = `answered, but node2 shows no request with ${CLIENT_SPIFFE}`);
        checks.mtls = `GET ${target(lab, 'mtls')} (pod srv-mtls, authentication required): 200, ${BODY_BYTES} body bytes; ${ev}`;
        return undefined;
      }, 60_000).then(() => true, () => false);
      if (!good) skipped.mtls = `arm mtls: the mTLS listeners are configured but the path is not checked: ${last}`;
    }
  }
  for (const why of Object.values(skipped)) progress(`${why}: skipped`);
  for (const [a, what] of Object.entries(checks)) progress(`arm ${a}: checked: ${what}`);
  return { arms: ARMS_ASKED.filter((a) => !skipped[a]), skipped, checks };
}

// ---------------------------------------------------------------------------
// Latency measurement

interface Sample {
  arm: Arm;
  round: number;
  targetRps: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  errorKinds: Record<string, number>;
  /** CPU µs per request of each node's proxy cgroup (HAProxy master and workers, its supervisor). */
  proxyCpuUsPerReq: Record<string, number>;
  /** Each node proxy's RSS after the measurement, master + workers, MiB. */
  proxyRssMiB: Record<string, number>;
  cpuBusy: number[];
  wrkCpuPercent: number;
}

const NODES = ['node1', 'node2'];
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const proxyRss = (node: string) => sum(haproxyMemory(cgroupPath(LAB, node, 'proxy')).map((m) => m.rssMiB));

function measure(lab: Lab, cfg: LoadConfig, arm: Arm, round: number): Sample {
  const cpu = () => Object.fromEntries(NODES.map((n) => [n, cgroupCpuUs(LAB, join(n, 'proxy'))]));
  const c0 = cpu();
  const r: LoadResult = pinnedFor(
    cfg, [LAB],
    () => runLoad(cfg, { lab: LAB, namespace: NS, pod: 'client' }, [target(lab, arm)], { path: LOAD_PATH, threads: THREADS, ratePerThread: RATE / THREADS }),
    // The agents (the proxies' access records → flows) on the generator's CPU, as in bench/http-l7.ts.
    { onGenCpu: NODES.map((n) => ({ lab: LAB, sub: join(n, 'agent') })) },
  );
  const c1 = cpu();
  return {
    arm,
    round,
    targetRps: RATE,
    rps: r.rps,
    p50Ms: r.requestP50Ms ?? NaN,
    p99Ms: r.requestP99Ms ?? NaN,
    errors: r.errors,
    errorKinds: r.errorKinds,
    proxyCpuUsPerReq: Object.fromEntries(NODES.map((n) => [n, (c1[n]! - c0[n]!) / Math.max(1, r.requests)])),
    proxyRssMiB: Object.fromEntries(NODES.map((n) => [n, proxyRss(n)])),
    cpuBusy: r.cpuBusy,
    wrkCpuPercent: r.cpuPercent,
  };
}

// ---------------------------------------------------------------------------
// Memory contrast: one node proxy for N pods against N sidecars

interface MemProxy {
  child: ChildProcess;
  stderr: string;
  stats: string;
}

/** Starts `haproxy <flags> -f cfg` in node1's namespace, in cgroup `cg` (the lab's: its removal ends it); its pid is HAProxy's. */
function startMemProxy(lab: Lab, cg: string, cfg: string, stats: string, flags: string[]): MemProxy {
  const child = spawn('sh', ['-c', 'echo $$ > "$1/cgroup.procs" && ns=$2 && shift 2 && exec ip netns exec "$ns" haproxy "$@"', 'sh', cg, lab.netns['node1']!, ...flags, '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  const p: MemProxy = { child, stderr: '', stats };
  child.stderr!.on('data', (d: Buffer) => (p.stderr = (p.stderr + d.toString()).slice(-2000)));
  return p;
}

/** Waits until every proxy answers `show info` on its stats socket (its configuration loaded, its listeners bound); throws with the stderr of one that exited. */
async function allReady(ps: MemProxy[], timeoutMs = 60_000): Promise<void> {
  const t0 = now();
  const pending = new Set(ps);
  while (pending.size) {
    for (const p of [...pending]) {
      if (p.child.exitCode !== null) throw new Error(`haproxy exited ${p.child.exitCode}: ${p.stderr.trim().slice(-400)}`);
      const info = await haproxyCommand(p.stats, 'show info', 1000).catch(() => '');
      if (/^Pid: \d+/m.test(info)) pending.delete(p);
    }
    if (pending.size && now() - t0 > timeoutMs) throw new Error(`${pending.size} HAProxies not answering on their stats sockets after ${timeoutMs} ms`);
    if (pending.size) await sleep(200);
  }
}

/** Ends them by pid and waits for their exit. */
async function stopAll(ps: MemProxy[]): Promise<void> {
  const exits = ps.map((p) => (p.child.exitCode !== null ? Promise.resolve() : new Promise<void>((r) => p.child.once('exit', () => r()))));
  for (const p of ps) if (p.child.exitCode === null && p.child.pid) try { process.kill(p.child.pid, 'SIGTERM'); } catch { /* gone */ }
  await Promise.race([Promise.all(exits), sleep(10_000)]);
  for (const p of ps) if (p.child.exitCode === null && p.child.pid) try { process.kill(p.child.pid, 'SIGKILL'); } catch { /* gone */ }
}

const RULES = [{ method: 'POST', path: '/v1/request-landing' }, { method: 'GET', path: '/v1/.*' }];
/** Pod i of the node (10.244.1.x) and of the other node (10.244.2.x); Service i's ClusterIP. */
const podIp = (node: number, i: number) => `10.${244 + Math.floor(i / 250)}.${node}.${(i % 250) + 2}`;
const svcIp = (i: number) => `10.96.${100 + Math.floor(i / 250)}.${(i % 250) + 1}`;
const svcObj = (i: number): ObjectInput => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${i}`, namespace: NS }, spec: { clusterIP: svcIp(i), ports: [{ name: 'http', port: SERVICE_PORT, targetPort: SERVER_PORT }] } });
const sliceObj = (i: number): ObjectInput => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `svc-${i}-1`, namespace: NS, labels: { 'kubernetes.io/service-name': `svc-${i}` } },
  addressType: 'IPv4', endpoints: [{ addresses: [podIp(1, i), podIp(2, i)], conditions: { ready: true } }], ports: [{ name: 'http', port: SERVER_PORT }],
});
const routeObj = (i: number): ObjectInput => ({
  apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: `svc-${i}`, namespace: NS, creationTimestamp: '2026-12-07T00:00:00Z' },
  spec: {
    parentRefs: [{ group: '', kind: 'Service', name: `svc-${i}`, port: SERVICE_PORT }],
    rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: `svc-${i}`, port: SERVICE_PORT, weight: 1 }], retry: { codes: [503], attempts: 1 }, filters: [{ type: 'ResponseHeaderModifier', responseHeaderModifier: { set: [{ name: ROUTE_HEADER, value: ROUTE_HEADER_VALUE }] } }] }],
  },
});

/** A leaf (certificate, then key) for each of the pods' ServiceAccounts (`sa-<i>`), from a throwaway mesh CA, and the CA bundle. */
interface Leaves {
  bundlePem: string;
  files: string[];
}

async function meshLeaves(n: number): Promise<Leaves> {
  const dir = join(TMP, 'leaves');
  mkdirSync(dir, { recursive: true });
  const ca = await throwawayCa(dir);
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    const f = join(dir, `sa-${i}.pem`);
    writeFileSync(f, await proxyLeafPem(ca, NS, `sa-${i}`), { mode: 0o600 });
    files.push(f);
  }
  return { bundlePem: ca.bundlePem, files };
}

/**
 * One proxy's configuration (written under `dir`): the policy renderer with the L7 ingress
 * allow-lists of `pods` (indexes of node 1's pods) and the ipcache of `clusterPods` pods on each
 * of the two nodes; the mesh compiler over `services` (indexes); the mTLS section
 * (src/l7/http/mtls.ts) with the certificates of `pods`' ServiceAccounts (pod i: `sa-<i>`), those
 * pods as its local ones and every pod of the two nodes as a destination requiring
 * authentication. Ports base, base+1 (policy ingress/egress), base+2 (mesh), base+3 and base+4
 * (mTLS out and in), on 127.0.0.1 (node 2: 127.0.0.2). Answers the configuration's path and its
 * size in bytes (configuration and files, certificates included).
 */
function proxyConfigFor(dir: string, base: number, pods: number[], clusterPods: number, services: number[], leaves: Leaves): { cfg: string; bytes: number; stats: string } {
  const rs: ProxyRuleSet = {
    listeners: [{ direction: 'ingress', port: base }, { direction: 'egress', port: base + 1 }],
    redirects: pods.map((i) => ({ direction: 'ingress' as const, endpointIp: podIp(1, i), port: SERVER_PORT, identity: 0, http: [{ origin: { kind: 'CiliumNetworkPolicy' as const, namespace: NS, name: `l7-${i}` }, rules: RULES }] })),
    identities: Array.from({ length: clusterPods }, (_, i) => [{ prefix: podIp(1, i), identity: 10_000 + i }, { prefix: podIp(2, i), identity: 20_000 + i }]).flat(),
    logTarget: '127.0.0.1:9',
    stateDir: dir,
  };
  const policy = renderHaproxy(rs, { transparent: false, bindAddress: '127.0.0.1', forwardTo: '127.0.0.1:9' });
  const mesh = compileMesh(
    { routes: services.map(routeObj), services: services.map(svcObj), endpointSlices: services.map(sliceObj) },
    { stateDir: dir, bind: [`127.0.0.1:${base + 2}`], log: 'ring@bl_records len 65535 format raw local0' },
  );
  const workload = (node: number, i: number) => ({ ip: podIp(node, i), namespace: NS, serviceAccount: `sa-${i}` });
  const mtls = renderMtlsSection({
    stateDir: dir,
    nodeIp: '127.0.0.1',
    outPort: base + 3,
    inPort: base + 4,
    bundlePem: leaves.bundlePem,
    certificates: pods.map((i) => ({ namespace: NS, serviceAccount: `sa-${i}`, file: leaves.files[i]! })),
    local: pods.map((i) => workload(1, i)),
    targets: Array.from({ length: clusterPods }, (_, i) => [{ ...workload(1, i), nodeIp: '127.0.0.1' }, { ...workload(2, i), nodeIp: '127.0.0.2' }]).flat(),
    identitiesFile: join(dir, HAPROXY_FILES.identities),
    transparent: false,
  });
  if (!mtls) throw new Error('memory: the mTLS section rendered nothing');
  const rendered = { config: `${policy.config}\n${mesh.config}\n${mtls.config}`, files: [...policy.files, ...mesh.files, ...mtls.files] };
  const cfg = writeRenderedHaproxy(rendered, join(dir, 'haproxy.cfg'));
  const certBytes = sum(pods.map((i) => Buffer.byteLength(readFileSync(leaves.files[i]!))));
  const bytes = Buffer.byteLength(rendered.config) + sum(rendered.files.map((f) => Buffer.byteLength(f.content))) + certBytes;
  return { cfg, bytes, stats: join(dir, 'haproxy.sock') };
}

interface MemoryRow {
  pods: number;
  beeline: { processes: ProcMemory[]; rssMiB: number; pssMiB: number; configBytes: number };
  sidecars: { processes: number; rssMiB: number; pssMiB: number; rssPerSidecarMiB: number; configBytesEach: number };
  sidecarOverBeelineRss: number;
  sidecarOverBeelinePss: number;
}

async function memoryContrast(lab: Lab): Promise<MemoryRow[]> {
  const rows: MemoryRow[] = [];
  const leaves = await meshLeaves(Math.max(...PODS));
  for (const n of PODS) {
    const idx = Array.from({ length: n }, (_, i) => i);
    // (a) beeline: the one node proxy for n pods, master-worker as the lab runs it.
    const nodeDir = join(TMP, `mem-node-${n}`);
    const node = proxyConfigFor(nodeDir, 40_000, idx, n, idx, leaves);
    const cgNode = ensureCgroup(LAB, 'node1', `bench-mem-node-${n}`);
    const np = startMemProxy(lab, cgNode, node.cfg, node.stats, ['-W', '-db', '-S', `${join(nodeDir, 'master.sock')},mode,600`]);
    let bee: ProcMemory[] = [];
    try {
      await allReady([np]);
      await sleep(1000);
      bee = haproxyMemory(cgNode);
      if (!bee.some((m) => m.role === 'worker')) throw new Error(`memory (N=${n}): the node proxy has no worker`);
    } finally {
      await stopAll([np]);
    }
    // (b) sidecars: n HAProxies, one pod's inbound and outbound configuration each.
    const cgSide = ensureCgroup(LAB, 'node1', `bench-mem-sidecars-${n}`);
    const side: MemProxy[] = [];
    let each = 0;
    let mems: ProcMemory[] = [];
    try {
      for (const i of idx) {
        const c = proxyConfigFor(join(TMP, `mem-sidecar-${n}-${i}`), 40_100 + 5 * i, [i], n, [i], leaves);
        each = Math.max(each, c.bytes);
        side.push(startMemProxy(lab, cgSide, c.cfg, c.stats, ['-db']));
      }
      await allReady(side);
      await sleep(1000);
      mems = side.map((p, i) => procMemory(p.child.pid!, `sidecar ${i}`)).filter((m): m is ProcMemory => m !== undefined);
      if (mems.length !== n) throw new Error(`memory (N=${n}): ${mems.length} of ${n} sidecars measured`);
    } finally {
      await stopAll(side);
    }
    const row: MemoryRow = {
      pods: n,
      beeline: { processes: bee, rssMiB: sum(bee.map((m) => m.rssMiB)), pssMiB: sum(bee.map((m) => m.pssMiB)), configBytes: node.bytes },
      sidecars: { processes: mems.length, rssMiB: sum(mems.map((m) => m.rssMiB)), pssMiB: sum(mems.map((m) => m.pssMiB)), rssPerSidecarMiB: median(mems.map((m) => m.rssMiB)), configBytesEach: each },
      sidecarOverBeelineRss: NaN,
      sidecarOverBeelinePss: NaN,
    };
    row.sidecarOverBeelineRss = row.sidecars.rssMiB / row.beeline.rssMiB;
    row.sidecarOverBeelinePss = row.sidecars.pssMiB / row.beeline.pssMiB;
    progress(`memory N=${n}: beeline ${fmt(row.beeline.rssMiB, 1)} MiB RSS (${fmt(row.beeline.pssMiB, 1)} PSS, ${bee.length} processes); sidecars ${fmt(row.sidecars.rssMiB, 1)} MiB RSS (${fmt(row.sidecars.pssMiB, 1)} PSS, ${mems.length} processes); ×${fmt(row.sidecarOverBeelineRss, 1)}`);
    rows.push(row);
  }
  return rows;
}

// ---------------------------------------------------------------------------
// Main

interface ArmSummary {
  arm: Arm;
  targetRps: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Median over rounds of (this arm − kernel, same round), ms. */
  addedP50Ms: number;
  addedP99Ms: number;
  p99OverKernel: number;
  proxyCpuUsPerReq: Record<string, number>;
  proxyRssMiB: Record<string, number>;
  errors: number;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('needs root (a lab)');
  requireTools(['haproxy', 'nginx', 'wrk', 'taskset', 'curl']);
  const t00 = now();
  const started = new Date().toISOString();
  const load0 = loadavg();
  mkdirSync(TMP, { recursive: true });
  const cleanup = () => {
    if (!KEEP) labDown(LAB);
    rmSync(TMP, { recursive: true, force: true });
  };
  cleanupOnSignal(cleanup);
  try {
    progress(`lab ${LAB} (2 nodes, ${ROUTING} routing)`);
    const L = await labUp();
    const { arms: ARMS, skipped, checks } = await checkArms(L);

    const cfg: LoadConfig = { generator: 'wrk', connections: CONNECTIONS, seconds: SECONDS, close: false, pin: PIN, tmp: TMP };
    progress(`${ROUNDS} rounds × ${ARMS.length} arms (${ARMS.join(', ')}) × ${SECONDS} s at ${fmt(RATE)} req/s; wrk -t ${THREADS} -c ${CONNECTIONS} keep-alive GET ${LOAD_PATH} (${BODY_BYTES}-byte body); ${PIN ? `wrk and the agents on CPU ${GEN_CPU}, the rest of the lab on CPU ${LAB_CPUS}` : 'not pinned'}`);
    for (const a of ARMS) measure(L, { ...cfg, seconds: Math.min(2, SECONDS) }, a, 0); // warm-up, not reported
    const samples: Sample[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const shift = (round - 1) % ARMS.length;
      for (const a of [...ARMS.slice(shift), ...ARMS.slice(0, shift)]) {
        const s = measure(L, cfg, a, round);
        samples.push(s);
        progress(`round ${round} ${a}: ${fmt(s.rps)} req/s, p50 ${fmt(s.p50Ms, 3)} ms, p99 ${fmt(s.p99Ms, 3)} ms, errors ${s.errors}; proxy CPU µs/req ${NODES.map((n) => `${n} ${fmt(s.proxyCpuUsPerReq[n], 1)}`).join(', ')}; proxy RSS MiB ${NODES.map((n) => `${n} ${fmt(s.proxyRssMiB[n], 1)}`).join(', ')}; CPUs ${s.cpuBusy.map((b) => fmt(b)).join('/')} % busy, wrk ${fmt(s.wrkCpuPercent)} %`);
      }
    }

    const memory = MEMORY ? await memoryContrast(L) : [];
    const versions = {
      haproxy: spawnSync('haproxy', ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0],
      nginx: spawnSync('nginx', ['-v'], { encoding: 'utf8' }).stderr.trim(),
      wrk: spawnSync('wrk', ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0]?.trim(),
      node: process.version,
    };

    // ---- Summary
    const pick = (a: Arm, round: number) => samples.find((s) => s.arm === a && s.round === round);
    const added = (a: Arm, key: 'p50Ms' | 'p99Ms') => Array.from({ length: ROUNDS }, (_, i) => {
      const x = pick(a, i + 1);
      const k = pick('kernel', i + 1);
      return x && k ? x[key] - k[key] : NaN;
    });
    const summary: ArmSummary[] = ARMS.map((a) => {
      const xs = samples.filter((s) => s.arm === a);
      return {
        arm: a,
        targetRps: RATE,
        rps: median(xs.map((s) => s.rps)),
        p50Ms: median(xs.map((s) => s.p50Ms)),
        p99Ms: median(xs.map((s) => s.p99Ms)),
        addedP50Ms: median(added(a, 'p50Ms')),
        addedP99Ms: median(added(a, 'p99Ms')),
        p99OverKernel: median(Array.from({ length: ROUNDS }, (_, i) => (pick(a, i + 1)?.p99Ms ?? NaN) / (pick('kernel', i + 1)?.p99Ms ?? NaN))),
        proxyCpuUsPerReq: Object.fromEntries(NODES.map((n) => [n, median(xs.map((s) => s.proxyCpuUsPerReq[n]!))])),
        proxyRssMiB: Object.fromEntries(NODES.map((n) => [n, median(xs.map((s) => s.proxyRssMiB[n]!))])),
        errors: sum(xs.map((s) => s.errors)),
      };
    });
    const mtls = summary.find((s) => s.arm === 'mtls');
    const memFirst = memory[0];
    const memLast = memory[memory.length - 1];
    const memGrowth = memFirst && memLast && memLast !== memFirst ? memLast.beeline.rssMiB / memFirst.beeline.rssMiB : NaN;
    const slope = (f: (m: MemoryRow) => number) => (memFirst && memLast && memLast !== memFirst ? ((f(memLast) - f(memFirst)) * 1024) / (memLast.pods - memFirst.pods) : NaN);
    const perPod = { beelineKiB: slope((m) => m.beeline.rssMiB), sidecarKiB: slope((m) => m.sidecars.rssMiB), beelinePssKiB: slope((m) => m.beeline.pssMiB), sidecarPssKiB: slope((m) => m.sidecars.pssMiB) };
    const goals = { mtlsAddedP99Ms: 0.5, beelineRssGrowthMax: 1.2 };
    const met = (v: number | undefined, goal: number) => (v === undefined || !Number.isFinite(v) ? 'not measured' : v <= goal ? 'met' : 'MISSED');

    const lines: string[] = [];
    lines.push('## Mesh: added latency at 1,000 req/s, proxy CPU and memory', '');
    lines.push(
      `${ROUNDS} rounds × ${SECONDS} s per arm, arms interleaved (order rotated per round); wrk -t ${THREADS} -c ${CONNECTIONS} keep-alive GET ${LOAD_PATH} paced at ${fmt(RATE)} req/s, ${BODY_BYTES}-byte responses (nginx-native, one worker) from the client pod on node1 to node2 (${ROUTING} routing); ${PIN ? `wrk and the agents on CPU ${GEN_CPU}, every other lab process on CPU ${LAB_CPUS}` : 'not pinned'}. Medians over the rounds; added = the arm minus the kernel arm of the same round. Proxy CPU from each node's proxy cgroup (cpu.stat), RSS master + worker after each measurement. Load average before: ${load0.map((x) => x.toFixed(2)).join(', ')}.`,
      '',
    );
    lines.push('| arm | achieved req/s | p50 ms | p99 ms | added p50 ms | added p99 ms | p99 / kernel | proxy CPU µs/req node1 | node2 | proxy RSS MiB node1 | node2 | errors | p99 ms per round |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const s of summary) {
      const base = s.arm === 'kernel';
      lines.push(`| ${s.arm} | ${fmt(s.rps)} | ${fmt(s.p50Ms, 3)} | ${fmt(s.p99Ms, 3)} | ${base ? '(baseline)' : fmt(s.addedP50Ms, 3)} | ${base ? '(baseline)' : fmt(s.addedP99Ms, 3)} | ${base ? '1' : fmt(s.p99OverKernel, 2)} | ${fmt(s.proxyCpuUsPerReq['node1'], 1)} | ${fmt(s.proxyCpuUsPerReq['node2'], 1)} | ${fmt(s.proxyRssMiB['node1'], 1)} | ${fmt(s.proxyRssMiB['node2'], 1)} | ${s.errors} | ${samples.filter((x) => x.arm === s.arm).map((x) => fmt(x.p99Ms, 3)).join(', ')} |`);
    }
    lines.push('');
    for (const a of ARMS_ASKED) if (skipped[a]) lines.push(`- NOT MEASURED: ${skipped[a]}.`);
    for (const [a, what] of Object.entries(checks)) lines.push(`- arm ${a} checked: ${what}.`);
    lines.push('');
    if (memory.length) {
      lines.push('Memory, sidecar against per-node (idle, configuration loaded; RSS and PSS MiB):', '');
      lines.push('| pods per node | beeline: node proxy RSS (master + worker) | PSS | config bytes | sidecars: processes | RSS sum | PSS sum | RSS per sidecar | config bytes each | sidecars / beeline RSS | PSS |');
      lines.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
      for (const m of memory) lines.push(`| ${m.pods} | ${fmt(m.beeline.rssMiB, 1)} | ${fmt(m.beeline.pssMiB, 1)} | ${fmt(m.beeline.configBytes)} | ${m.sidecars.processes} | ${fmt(m.sidecars.rssMiB, 1)} | ${fmt(m.sidecars.pssMiB, 1)} | ${fmt(m.sidecars.rssPerSidecarMiB, 2)} | ${fmt(m.sidecars.configBytesEach)} | ${fmt(m.sidecarOverBeelineRss, 1)} | ${fmt(m.sidecarOverBeelinePss, 1)} |`);
      lines.push('');
    }
    lines.push(`- mTLS added p99: ${mtls ? `${fmt(mtls.addedP99Ms, 3)} ms` : `not measured (the arm was ${skipped.mtls ? 'skipped, above' : 'not asked'})`}; goal ≤ ${goals.mtlsAddedP99Ms} ms: ${met(mtls?.addedP99Ms, goals.mtlsAddedP99Ms)}.`);
    lines.push(`- beeline node proxy RSS at ${memLast?.pods ?? '–'} pods / at ${memFirst?.pods ?? '–'} pods: ${fmt(memGrowth, 3)}; goal (constant in pods) ≤ ${goals.beelineRssGrowthMax}: ${met(memGrowth, goals.beelineRssGrowthMax)}.`);
    lines.push(`- memory per added pod (RSS, from ${memFirst?.pods ?? '–'} to ${memLast?.pods ?? '–'} pods): beeline ${fmt(perPod.beelineKiB)} KiB (its configuration), sidecars ${fmt(perPod.sidecarKiB)} KiB (PSS: ${fmt(perPod.beelinePssKiB)} KiB against ${fmt(perPod.sidecarPssKiB)} KiB).`, '');
    const out = lines.join('\n');
    process.stdout.write(out + '\n');
    writeResults(OUT, {
      benchmark: 'mesh',
      started,
      minutes: (now() - t00) / 60000,
      machine: machine(load0),
      versions,
      lab: { name: LAB, nodes: 2, routing: ROUTING, meshPort: LAB_PROXY_MESH_PORT, mtlsOutPort: LAB_PROXY_MTLS_OUT_PORT, mtlsInPort: LAB_PROXY_MTLS_IN_PORT },
      load: { rounds: ROUNDS, seconds: SECONDS, rateRps: RATE, connections: CONNECTIONS, threads: THREADS, path: LOAD_PATH, bodyBytes: BODY_BYTES, pinned: PIN, genCpu: GEN_CPU, labCpus: LAB_CPUS },
      armsAsked: ARMS_ASKED,
      armsMeasured: ARMS,
      skipped,
      checks,
      summary,
      goals,
      memoryPerAddedPod: perPod,
      goalResults: { mtlsAddedP99: met(mtls?.addedP99Ms, goals.mtlsAddedP99Ms), beelineRssGrowth: memGrowth, beelineRssConstant: met(memGrowth, goals.beelineRssGrowthMax) },
      memory,
      samples,
      table: out,
    });
    progress(`wrote ${OUT} (${fmt((now() - t00) / 60000, 1)} min)`);
  } finally {
    cleanup();
  }
}

await main();

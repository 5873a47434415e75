/**
 * Which HTTP engine should beeline's per-node L7 proxy be (issue 12, its
 * first step)? HAProxy 2.6 from Debian driven by the agent, or a TypeScript
 * proxy on Node's HTTP parser? This benchmark measures both on the issue's
 * load, and probes how each treats the requests an L7 policy must survive.
 *
 * Everything runs in ONE private network namespace, `bl-http-bench-<pid>`,
 * made here (loopback only, all traffic on 127.0.0.1) and deleted at the end,
 * on an error or a signal too: this process re-runs itself inside it
 * (`ip netns exec`, flag --inside) and, when that child is gone, ends any
 * process still in the namespace by its pid and deletes the namespace.
 * Nothing listens in the machine's root namespace.
 *
 * Processes (one worker each), pinned on this 2-CPU machine: wrk (C, Debian)
 * and nginx (C, `return 200 "ok\n"`, one process) on CPU 0, the proxy under
 * test on CPU 1. Arms, every one keep-alive end to end:
 *   direct         wrk → nginx
 *   haproxy        wrk → HAProxy (nbthread 1, mode http, http-reuse always)
 *                  → nginx, the allow-list as ACLs (method and path regex,
 *                  anchored: full match) and `http-request return` 403
 *                  `Access denied\r\n` for the rest: the issue's arm (d)
 *   haproxy-plain  the same HAProxy without ACLs (what the ACLs cost)
 *   ts-proxy       wrk → bench/proto/http-proxy.ts (node:http + a keep-alive
 *                  http.Agent, RE2 via re2js, one process) → nginx: arm (c)
 *   ts-proxy-raw   the same with `--client raw`: node:http's server side,
 *                  the upstream side written by hand (bodyless requests,
 *                  Content-Length responses): what a TS proxy could reach
 *                  with its own upstream client (no goal)
 *   ts-no-upstream the same process type answering allowed requests itself
 *                  (200 "ok\n"): node:http's server half alone, a bound on
 *                  any proxy built on it (not a proxy; no goal)
 * The allow-list is the Star Wars demo's (examples/): `POST
 * /v1/request-landing`, plus `GET /v1/.*`; the load asks for GET
 * /v1/ships (allowed; 3 bytes of body from nginx).
 *
 * Two phases of ROUNDS rounds each (order of the arms rotated every round):
 * first each arm at its maximum (wrk -t THREADS -c CONNECTIONS, unpaced),
 * then each arm paced at half of haproxy's median maximum from the first
 * phase, or --paced-rate (wrk's delay() hook hands out send slots at the
 * target rate, src/lab/wrk.ts; the achieved rate is reported). Reported per
 * arm: req/s, wrk's p50/p99 latency (request written → response read), the proxy's CPU time
 * per request (/proc/PID/stat) and its memory (VmRSS, VmHWM from
 * /proc/PID/status) after the runs. Goals (issue 12): ts-proxy ≥ 0.7 ×
 * haproxy in req/s; ts-proxy's p99 ≤ 1.5 × haproxy's at half haproxy's max.
 *
 * Probes (raw requests over TCP to a second instance of each engine whose
 * upstream is an nginx server that logs every request line it gets, so that
 * what passed the proxy is seen, not guessed): a denied request between two
 * allowed ones on one keep-alive connection; request smuggling CL.TE, TE.CL,
 * TE.TE (obfuscated Transfer-Encoding) and duplicate Content-Length, each
 * hiding a `PUT /v1/exhaust-port` the policy denies; and a path that makes a
 * backtracking regex engine work exponentially (rules `GET /(a+)+b` and
 * `PATCH /(a+)+`, paths "/" + 30 × "a" + c…g), timed; the probes also run
 * against `haproxy-limited`, HAProxy with PCRE2's match limit lowered per
 * pattern (`(*LIMIT_MATCH=n)`), the bound a HAProxy engine would need.
 *
 *   node dist/bench/http-engine.js [--rounds 3] [--seconds 8] [--connections 32] [--threads 1]
 *        [--arms direct,haproxy,haproxy-plain,ts-proxy,ts-proxy-raw,ts-no-upstream] [--paced-rate REQ_PER_S]
 *        [--load yes|no] [--probes yes|no]
 *        [--out bench/results/http-engine.json]
 * Root (network namespace). Wrap in `flock /tmp/beeline-heavy.lock` (make bench-http-engine does).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { cpus, loadavg, tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '../src/common/version.js';
import { addNetns, delNetns, netnsExists } from '../src/lab/netns.js';
import { parseWrk, wrkArgv, wrkScript, type WrkResult } from '../src/lab/wrk.js';
import type { HttpRule } from './proto/http-proxy.js';
import { haproxyAclConfig } from './haproxy-acl.js';
import { ALLOWED_GET, PROBE_HOST as H, exchange, smugglingProbes, type ProbeSpec } from '../test/lib/http-probes.js';
import { arg, fmt, machine, median, progressOf, requireTools } from './report.js';


const now = () => performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const progress = progressOf('http-engine');

/** CPU 0: the load generator and the server; CPU 1: the proxy under test. */
const LOAD_CPU = 0;
const PROXY_CPU = 1;
const PROXY_SCRIPT = join(repoRoot, 'dist', 'bench', 'proto', 'http-proxy.js');
const THIS_SCRIPT = fileURLToPath(import.meta.url);

/** Ports on 127.0.0.1 inside the namespace. */
const PORT = { nginx: 8080, nginxLogged: 8090, haproxy: 8081, haproxyPlain: 8082, ts: 8083, tsNoUpstream: 8084, tsRaw: 8085, haproxyProbe: 8181, haproxyLimitedProbe: 8182, tsProbe: 8183 } as const;
/** PCRE2's match limit in the `haproxy-limited` probe engine (the library's default: 10,000,000). */
const MATCH_LIMIT = 100_000;

/** The Star Wars demo's L7 rule (examples/), and a GET rule for the load. */
const RULES: HttpRule[] = [
  { method: 'POST', path: '/v1/request-landing' },
  { method: 'GET', path: '/v1/.*' },
];
/** Added for the probes only: patterns a backtracking engine needs exponential time for (on the probe's path). */
const REDOS_RULES: HttpRule[] = [
  { method: 'GET', path: '/(a+)+b' },
  { method: 'PATCH', path: '/(a+)+' },
];
const LOAD_PATH = '/v1/ships';
const DENIED_BODY = 'Access denied\r\n';

type Arm = 'direct' | 'haproxy' | 'haproxy-plain' | 'ts-proxy' | 'ts-proxy-raw' | 'ts-no-upstream';
const ARMS_ALL: Arm[] = ['direct', 'haproxy', 'haproxy-plain', 'ts-proxy', 'ts-proxy-raw', 'ts-no-upstream'];
const ARM_PORT: Record<Arm, number> = { direct: PORT.nginx, haproxy: PORT.haproxy, 'haproxy-plain': PORT.haproxyPlain, 'ts-proxy': PORT.ts, 'ts-proxy-raw': PORT.tsRaw, 'ts-no-upstream': PORT.tsNoUpstream };

// ---------------------------------------------------------------------------
// Configurations

/** nginx: one process, two servers; the logged one writes every request line it parses (the probes' witness). */
function nginxConfig(dir: string): string {
  return `# Written by bench/http-engine.ts.
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log stderr error;
events { worker_connections 8192; }
http {
  access_log off;
  server_tokens off;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  client_body_temp_path ${dir}/body;
  log_format line '$request';
  server {
    listen 127.0.0.1:${PORT.nginx} backlog=4096;
    default_type text/plain;
    location / { return 200 "ok\\n"; }
  }
  server {
    listen 127.0.0.1:${PORT.nginxLogged};
    access_log ${dir}/upstream.log line;
    default_type text/plain;
    location / { return 200 "ok\\n"; }
  }
}
`;
}

/** HAProxy as a plain reverse proxy on 127.0.0.1:port, the rules as ACLs (bench/haproxy-acl.ts). */
const haproxyConfig = (port: number, upstream: number, rules: HttpRule[] | undefined, matchLimit?: number) =>
  haproxyAclConfig({ bind: `127.0.0.1:${port}`, upstream: `127.0.0.1:${upstream}`, rules, ...(matchLimit ? { matchLimit } : {}), writtenBy: 'bench/http-engine.ts' });

// ---------------------------------------------------------------------------
// Processes (inside the namespace)

interface Proc {
  name: string;
  child: ChildProcess;
  stderr: string;
}
const procs: Proc[] = [];

/** Starts argv pinned to `cpu`; its pid is the program's own (taskset execs it). */
function start(name: string, argv: string[], cpu: number): Proc {
  const child = spawn('taskset', ['-c', String(cpu), ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
  const p: Proc = { name, child, stderr: '' };
  child.stderr!.on('data', (d: Buffer) => (p.stderr = (p.stderr + d.toString()).slice(-2000)));
  procs.push(p);
  return p;
}

/** Ends every started process by its pid. */
function stopAll(): void {
  for (const p of procs) if (p.child.exitCode === null && p.child.pid) {
    try {
      process.kill(p.child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}

/** Waits until 127.0.0.1:port accepts a connection (or the process died). */
async function ready(p: Proc, port: number): Promise<void> {
  const t0 = now();
  for (;;) {
    if (p.child.exitCode !== null) throw new Error(`${p.name} exited (${p.child.exitCode}): ${p.stderr.trim()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (now() - t0 > 10_000) throw new Error(`${p.name}: 127.0.0.1:${port} not accepting after 10 s: ${p.stderr.trim()}`);
    await sleep(50);
  }
}

/** utime + stime of a process, ms. */
function cpuMs(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) / CLK_TCK) * 1000;
}
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** VmRSS and VmHWM of a process, MiB. */
function memory(pid: number): { rssMiB: number; hwmMiB: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
  return { rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024 };
}

// ---------------------------------------------------------------------------
// Load

interface LoadSample {
  arm: Arm;
  round: number;
  /** 'max': unpaced; else paced at this target req/s. */
  target: 'max' | number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  errorKinds: Record<string, number>;
  /** The proxy's CPU time per request, µs (none for direct). */
  proxyCpuUsPerReq?: number;
  /** The proxy's CPU time over the run, share of one CPU. */
  proxyCpuPercent?: number;
  wrkCpuPercent: number;
}

interface LoadCfg {
  connections: number;
  threads: number;
  seconds: number;
  tmp: string;
}

function runWrk(cfg: LoadCfg, arm: Arm, proxyPid: number | undefined, round: number, target: 'max' | number, seconds = cfg.seconds): LoadSample {
  const targets = [`127.0.0.1:${ARM_PORT[arm]}`];
  const ratePerThread = target === 'max' ? undefined : target / cfg.threads;
  const script = join(cfg.tmp, `wrk-${arm}-${target}.lua`);
  writeFileSync(script, wrkScript(targets, { path: LOAD_PATH, ratePerThread }));
  const argv = wrkArgv({ targets, connections: cfg.connections, threads: cfg.threads, seconds, close: false, script, cpu: LOAD_CPU });
  const cpu0 = proxyPid ? cpuMs(proxyPid) : 0;
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
  if (r.status !== 0) throw new Error(`wrk ${arm}: exit ${r.status}${r.signal ? ` (${r.signal})` : ''}: ${r.stderr.trim()} ${r.stdout.trim().slice(-500)}`);
  const w: WrkResult = parseWrk(r.stdout, 1);
  const proxyCpu = proxyPid ? cpuMs(proxyPid) - cpu0 : undefined;
  return {
    arm,
    round,
    target,
    rps: w.rps,
    p50Ms: w.requestP50Ms,
    p99Ms: w.requestP99Ms,
    errors: w.errors,
    errorKinds: w.errorKinds,
    ...(proxyCpu !== undefined ? { proxyCpuUsPerReq: (proxyCpu * 1000) / Math.max(1, w.requests), proxyCpuPercent: (proxyCpu / w.elapsedMs) * 100 } : {}),
    wrkCpuPercent: w.cpuPercent,
  };
}

// ---------------------------------------------------------------------------
// Probes

type ProbeEngine = 'haproxy' | 'haproxy-limited' | 'ts-proxy';
interface ProbeResult {
  engine: ProbeEngine;
  probe: string;
  statuses: number[];
  /** The engine closed the connection (within the wait). */
  closed: boolean;
  /** Each step's time from its write to its response (or the close), ms. */
  stepMs: number[];
  /** Request lines nginx (the upstream) parsed during the probe. */
  upstream: string[];
  /** A request the policy denies (exhaust-port) reached the server. */
  deniedReachedServer: boolean;
  /** Answers took longer than the probe's budget (median). */
  slow: boolean;
  verdict: 'pass' | 'FAIL';
}

/** "/" + 30 × "a" + one of c…g: a different path each time, so HAProxy's pattern cache (tune.pattern.cache-size) cannot answer from a previous match. */
const redosPaths = ['c', 'd', 'e', 'f', 'g'].map((x) => `/${'a'.repeat(30)}${x}`);

const PROBES: ProbeSpec[] = [
  // The keep-alive probe and the smuggling suite (test/lib/http-probes.ts), each hiding a PUT /v1/exhaust-port.
  ...smugglingProbes(ALLOWED_GET),
  // An allowed request with a long path: a match limit must not deny what the rule allows.
  { name: 'long allowed path', what: 'GET /v1/ + 4,000 × "x" (allowed by GET /v1/.*)', steps: [`GET /v1/${'x'.repeat(4000)} HTTP/1.1\r\n${H}\r\n`], expect: [200] },
  // Five requests on one connection, paths "/" + 30 × "a" + c, d, e, f, g.
  { name: 'ReDoS GET /(a+)+b', what: 'GET "/" + 30 × "a" + c…g (5 requests) against the rule path /(a+)+b', steps: redosPaths.map((p) => `GET ${p} HTTP/1.1\r\n${H}\r\n`), expect: [403, 403, 403, 403, 403], budgetMs: 5 },
  { name: 'ReDoS PATCH /(a+)+', what: 'PATCH "/" + 30 × "a" + c…g (5 requests) against the rule path /(a+)+', steps: redosPaths.map((p) => `PATCH ${p} HTTP/1.1\r\n${H}Content-Length: 0\r\n\r\n`), expect: [403, 403, 403, 403, 403], budgetMs: 5 },
];

async function runProbes(tmp: string): Promise<ProbeResult[]> {
  const log = join(tmp, 'upstream.log');
  const lines = () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []);
  const out: ProbeResult[] = [];
  const engines: [ProbeEngine, number][] = [['haproxy', PORT.haproxyProbe], ['haproxy-limited', PORT.haproxyLimitedProbe], ['ts-proxy', PORT.tsProbe]];
  for (const [engine, port] of engines) {
    for (const p of PROBES) {
      const before = lines().length;
      const r = await exchange('127.0.0.1', port, p.steps);
      await sleep(100); // nginx writes its log line when it finalises the request
      const upstream = lines().slice(before);
      const deniedReachedServer = upstream.some((l) => l.includes('exhaust-port'));
      const expected = !p.expect || (p.expect.length === r.statuses.length && p.expect.every((x, i) => x === r.statuses[i]));
      // Every 403 must carry Cilium's body.
      const denials = r.statuses.filter((x) => x === 403).length;
      const bodies = r.text.split(DENIED_BODY).length - 1;
      const slow = p.budgetMs !== undefined && median(r.stepMs) > p.budgetMs;
      const ok = !deniedReachedServer && expected && bodies >= denials && !slow;
      out.push({ engine, probe: p.name, statuses: r.statuses, closed: r.closed, stepMs: r.stepMs, upstream, deniedReachedServer, slow, verdict: ok ? 'pass' : 'FAIL' });
      progress(`probe ${engine} ${p.name}: ${r.statuses.join(',') || 'no response'}${r.closed ? ', closed' : ''}, answers after ${r.stepMs.map((x) => fmt(x, 2)).join(', ')} ms, upstream got ${JSON.stringify(upstream.map((l) => (l.length > 60 ? `${l.slice(0, 60)}…` : l)))}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// The run (inside the namespace)

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
  /** The proxy's busy share of its CPU in the paced runs, percent (near 100: saturated at that rate). */
  pacedProxyCpuPercent?: number;
  errors: number;
  memory?: { rssMiB: number; hwmMiB: number };
}

async function inside(): Promise<void> {
  const ROUNDS = Number(arg('--rounds', '3'));
  const SECONDS = Number(arg('--seconds', '8'));
  const CONNECTIONS = Number(arg('--connections', '32'));
  const THREADS = Number(arg('--threads', '1'));
  const ARMS = arg('--arms', ARMS_ALL.join(',')).split(',') as Arm[];
  const PROBES_ON = arg('--probes', 'yes') === 'yes';
  const LOAD_ON = arg('--load', 'yes') === 'yes';
  const PACED = Number(arg('--paced-rate', '0'));
  const OUT = arg('--out', join(repoRoot, 'bench', 'results', 'http-engine.json'));
  const NS = arg('--inside', '');
  if (ARMS.some((a) => !ARMS_ALL.includes(a))) throw new Error(`--arms ${ARMS.join(',')}: some of ${ARMS_ALL.join(',')}`);
  if (!ARMS.includes('haproxy') && !(PACED > 0)) throw new Error('--arms must include haproxy (the paced runs go at half its maximum), or give --paced-rate');
  if (!(ROUNDS >= 1) || !(SECONDS >= 1) || !(CONNECTIONS >= 1) || !(THREADS >= 1)) throw new Error('--rounds, --seconds, --connections and --threads must be at least 1');

  const started = new Date().toISOString();
  const load0 = loadavg();
  const t00 = now();
  const tmp = mkdtempSync(join(tmpdir(), 'bl-bench-http-engine-'));
  const onSignal = () => {
    stopAll();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    mkdirSync(join(tmp, 'body'));
    writeFileSync(join(tmp, 'nginx.conf'), nginxConfig(tmp));
    writeFileSync(join(tmp, 'haproxy.cfg'), haproxyConfig(PORT.haproxy, PORT.nginx, RULES));
    writeFileSync(join(tmp, 'haproxy-plain.cfg'), haproxyConfig(PORT.haproxyPlain, PORT.nginx, undefined));
    writeFileSync(join(tmp, 'haproxy-probe.cfg'), haproxyConfig(PORT.haproxyProbe, PORT.nginxLogged, [...RULES, ...REDOS_RULES]));
    writeFileSync(join(tmp, 'haproxy-limited-probe.cfg'), haproxyConfig(PORT.haproxyLimitedProbe, PORT.nginxLogged, [...RULES, ...REDOS_RULES], MATCH_LIMIT));
    const nginx = start('nginx', ['nginx', '-p', `${tmp}/`, '-c', join(tmp, 'nginx.conf'), '-e', 'stderr'], LOAD_CPU);
    const haproxy = start('haproxy', ['haproxy', '-db', '-f', join(tmp, 'haproxy.cfg')], PROXY_CPU);
    const haproxyPlain = start('haproxy-plain', ['haproxy', '-db', '-f', join(tmp, 'haproxy-plain.cfg')], PROXY_CPU);
    const tsProxy = start('ts-proxy', [process.execPath, PROXY_SCRIPT, '--listen', `127.0.0.1:${PORT.ts}`, '--upstream', `127.0.0.1:${PORT.nginx}`, '--rules', JSON.stringify(RULES)], PROXY_CPU);
    const tsNoUpstream = start('ts-no-upstream', [process.execPath, PROXY_SCRIPT, '--listen', `127.0.0.1:${PORT.tsNoUpstream}`, '--upstream', 'none', '--rules', JSON.stringify(RULES)], PROXY_CPU);
    const tsRaw = start('ts-proxy-raw', [process.execPath, PROXY_SCRIPT, '--listen', `127.0.0.1:${PORT.tsRaw}`, '--upstream', `127.0.0.1:${PORT.nginx}`, '--client', 'raw', '--rules', JSON.stringify(RULES)], PROXY_CPU);
    await ready(nginx, PORT.nginx);
    await ready(tsNoUpstream, PORT.tsNoUpstream);
    await ready(tsRaw, PORT.tsRaw);
    await ready(haproxy, PORT.haproxy);
    await ready(haproxyPlain, PORT.haproxyPlain);
    await ready(tsProxy, PORT.ts);
    const proxyOf: Record<Arm, Proc | undefined> = { direct: undefined, haproxy, 'haproxy-plain': haproxyPlain, 'ts-proxy': tsProxy, 'ts-proxy-raw': tsRaw, 'ts-no-upstream': tsNoUpstream };
    const versions = {
      haproxy: spawnSync('haproxy', ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0],
      nginx: spawnSync('nginx', ['-v'], { encoding: 'utf8' }).stderr.trim(),
      wrk: spawnSync('wrk', ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0]?.trim(),
      node: process.version,
    };

    const cfg: LoadCfg = { connections: CONNECTIONS, threads: THREADS, seconds: SECONDS, tmp };
    progress(`namespace ${NS}; ${ROUNDS} rounds × ${ARMS.length} arms × (max + paced) × ${SECONDS} s; wrk -t ${THREADS} -c ${CONNECTIONS} keep-alive and nginx on CPU ${LOAD_CPU}, proxies on CPU ${PROXY_CPU}`);
    // Warm-up (Node's JIT, HAProxy's and nginx's pools): not reported.
    if (LOAD_ON) for (const a of ARMS) runWrk(cfg, a, proxyOf[a]?.child.pid, 0, 'max', Math.min(2, SECONDS));
    const samples: LoadSample[] = [];
    const orderOf = (round: number) => {
      const shift = (round - 1) % ARMS.length;
      return [...ARMS.slice(shift), ...ARMS.slice(0, shift)];
    };
    // Phase 1: every arm at its maximum, round after round.
    for (let round = 1; LOAD_ON && round <= ROUNDS; round++) {
      for (const a of orderOf(round)) {
        const s = runWrk(cfg, a, proxyOf[a]?.child.pid, round, 'max');
        samples.push(s);
        progress(`round ${round} ${a} max: ${fmt(s.rps)} req/s, p50 ${fmt(s.p50Ms, 3)} ms, p99 ${fmt(s.p99Ms, 3)} ms, errors ${s.errors}${s.proxyCpuUsPerReq !== undefined ? `, proxy ${fmt(s.proxyCpuUsPerReq, 1)} µs CPU/req (${fmt(s.proxyCpuPercent!)} %)` : ''}, wrk ${fmt(s.wrkCpuPercent)} %`);
      }
    }
    // Phase 2: every arm paced at half of haproxy's maximum (the median of phase 1's rounds: one noisy round does not set it).
    const target = PACED > 0 ? PACED : Math.round(median(samples.filter((s) => s.arm === 'haproxy').map((s) => s.rps)) / 2);
    for (let round = 1; LOAD_ON && round <= ROUNDS; round++) {
      for (const a of orderOf(round)) {
        const s = runWrk(cfg, a, proxyOf[a]?.child.pid, round, target);
        samples.push(s);
        progress(`round ${round} ${a} paced @ ${fmt(target)}: ${fmt(s.rps)} req/s, p50 ${fmt(s.p50Ms, 3)} ms, p99 ${fmt(s.p99Ms, 3)} ms, errors ${s.errors}${s.proxyCpuUsPerReq !== undefined ? `, proxy ${fmt(s.proxyCpuPercent!)} % CPU` : ''}`);
      }
    }
    const mem = Object.fromEntries(ARMS.filter((a) => proxyOf[a]).map((a) => [a, memory(proxyOf[a]!.child.pid!)]));

    let probes: ProbeResult[] = [];
    if (PROBES_ON) {
      const hp = start('haproxy-probe', ['haproxy', '-db', '-f', join(tmp, 'haproxy-probe.cfg')], PROXY_CPU);
      const tp = start('ts-proxy-probe', [process.execPath, PROXY_SCRIPT, '--listen', `127.0.0.1:${PORT.tsProbe}`, '--upstream', `127.0.0.1:${PORT.nginxLogged}`, '--rules', JSON.stringify([...RULES, ...REDOS_RULES])], PROXY_CPU);
      await ready(nginx, PORT.nginxLogged);
      const hl = start('haproxy-limited-probe', ['haproxy', '-db', '-f', join(tmp, 'haproxy-limited-probe.cfg')], PROXY_CPU);
      await ready(hp, PORT.haproxyProbe);
      await ready(hl, PORT.haproxyLimitedProbe);
      await ready(tp, PORT.tsProbe);
      probes = await runProbes(tmp);
    }

    // ---- Summary
    const sum: ArmSummary[] = ARMS.map((a) => {
      const max = samples.filter((s) => s.arm === a && s.target === 'max');
      const paced = samples.filter((s) => s.arm === a && s.target !== 'max');
      const cpu = max.map((s) => s.proxyCpuUsPerReq ?? NaN);
      return {
        arm: a,
        maxRps: median(max.map((s) => s.rps)),
        maxP50Ms: median(max.map((s) => s.p50Ms)),
        maxP99Ms: median(max.map((s) => s.p99Ms)),
        pacedTargetRps: median(paced.map((s) => s.target as number)),
        pacedRps: median(paced.map((s) => s.rps)),
        pacedP50Ms: median(paced.map((s) => s.p50Ms)),
        pacedP99Ms: median(paced.map((s) => s.p99Ms)),
        ...(proxyOf[a] ? { proxyCpuUsPerReq: median(cpu), pacedProxyCpuPercent: median(paced.map((s) => s.proxyCpuPercent ?? NaN)), memory: mem[a] } : {}),
        errors: [...max, ...paced].reduce((x, s) => x + s.errors, 0),
      };
    });
    const get = (a: Arm) => sum.find((s) => s.arm === a);
    const perRound = (a: Arm, b: Arm, key: 'rps' | 'p99Ms', paced: boolean) =>
      Array.from({ length: ROUNDS }, (_, i) => {
        const pick = (arm: Arm) => samples.find((s) => s.arm === arm && s.round === i + 1 && (s.target === 'max') !== paced);
        const x = pick(a);
        const y = pick(b);
        return x && y ? x[key] / y[key] : NaN;
      });
    const ratios = {
      tsOverHaproxyRps: get('ts-proxy') && get('haproxy') ? get('ts-proxy')!.maxRps / get('haproxy')!.maxRps : NaN,
      tsOverHaproxyRpsPerRound: ARMS.includes('ts-proxy') ? perRound('ts-proxy', 'haproxy', 'rps', false) : [],
      tsOverHaproxyPacedP99: get('ts-proxy') && get('haproxy') ? get('ts-proxy')!.pacedP99Ms / get('haproxy')!.pacedP99Ms : NaN,
      tsOverHaproxyPacedP99PerRound: ARMS.includes('ts-proxy') ? perRound('ts-proxy', 'haproxy', 'p99Ms', true) : [],
      haproxyOverDirectRps: get('direct') && get('haproxy') ? get('haproxy')!.maxRps / get('direct')!.maxRps : NaN,
      haproxyPlainOverHaproxyRps: get('haproxy-plain') && get('haproxy') ? get('haproxy')!.maxRps / get('haproxy-plain')!.maxRps : NaN,
      tsRawOverHaproxyRps: get('ts-proxy-raw') && get('haproxy') ? get('ts-proxy-raw')!.maxRps / get('haproxy')!.maxRps : NaN,
      tsRawOverHaproxyPacedP99: get('ts-proxy-raw') && get('haproxy') ? get('ts-proxy-raw')!.pacedP99Ms / get('haproxy')!.pacedP99Ms : NaN,
      tsNoUpstreamOverHaproxyRps: get('ts-no-upstream') && get('haproxy') ? get('ts-no-upstream')!.maxRps / get('haproxy')!.maxRps : NaN,
      tsOverHaproxyCpuPerReq: get('ts-proxy') && get('haproxy') ? get('ts-proxy')!.proxyCpuUsPerReq! / get('haproxy')!.proxyCpuUsPerReq! : NaN,
    };

    const lines: string[] = [];
    lines.push('## HTTP engine: req/s and latency', '');
    lines.push(`${ROUNDS} rounds × ${SECONDS} s per arm and load, arms interleaved (order rotated per round); wrk -t ${THREADS} -c ${CONNECTIONS} keep-alive GET ${LOAD_PATH} (3-byte body), wrk and nginx on CPU ${LOAD_CPU}, the proxy on CPU ${PROXY_CPU}; one private network namespace, 127.0.0.1. Medians over the rounds; paced: wrk's delay() hook sending at ${PACED > 0 ? `${fmt(PACED)} req/s (--paced-rate)` : "half of haproxy's median maximum"} (send slots, src/lab/wrk.ts).`, '');
    lines.push('| arm | max req/s | p50 ms | p99 ms | paced target req/s | paced achieved req/s | paced p50 ms | paced p99 ms | proxy CPU µs/req (max) | proxy CPU % (paced) | proxy RSS MiB (peak) | errors | max req/s per round | paced p99 ms per round |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|');
    for (const s of sum) {
      lines.push(
        `| ${s.arm} | ${fmt(s.maxRps)} | ${fmt(s.maxP50Ms, 3)} | ${fmt(s.maxP99Ms, 3)} | ${fmt(s.pacedTargetRps)} | ${fmt(s.pacedRps)} | ${fmt(s.pacedP50Ms, 3)} | ${fmt(s.pacedP99Ms, 3)} | ${s.proxyCpuUsPerReq !== undefined ? fmt(s.proxyCpuUsPerReq, 1) : '–'} | ${s.pacedProxyCpuPercent !== undefined ? fmt(s.pacedProxyCpuPercent) : '–'} | ${s.memory ? `${fmt(s.memory.rssMiB, 1)} (${fmt(s.memory.hwmMiB, 1)})` : '–'} | ${s.errors} | ${samples.filter((x) => x.arm === s.arm && x.target === 'max').map((x) => fmt(x.rps)).join(', ')} | ${samples.filter((x) => x.arm === s.arm && x.target !== 'max').map((x) => fmt(x.p99Ms, 2)).join(', ')} |`,
      );
    }
    lines.push('');
    lines.push(`- ts-proxy / haproxy, max req/s: ${fmt(ratios.tsOverHaproxyRps, 3)} (per round ${ratios.tsOverHaproxyRpsPerRound.map((r) => fmt(r, 3)).join(', ')}); goal ≥ 0.7.`);
    lines.push(`- ts-proxy / haproxy, p99 at half haproxy's max: ${fmt(ratios.tsOverHaproxyPacedP99, 3)} (per round ${ratios.tsOverHaproxyPacedP99PerRound.map((r) => fmt(r, 3)).join(', ')}); goal ≤ 1.5.`);
    lines.push(`- ts-proxy-raw / haproxy (own upstream client): max req/s ${fmt(ratios.tsRawOverHaproxyRps, 3)}, p99 at half haproxy's max ${fmt(ratios.tsRawOverHaproxyPacedP99, 3)}.`);
    lines.push(`- ts-proxy / haproxy, proxy CPU per request: ${fmt(ratios.tsOverHaproxyCpuPerReq, 2)}; ts-no-upstream (node:http answering itself) / haproxy, max req/s: ${fmt(ratios.tsNoUpstreamOverHaproxyRps, 3)}.`);
    lines.push(`- haproxy / direct, max req/s: ${fmt(ratios.haproxyOverDirectRps, 3)}; haproxy (ACLs) / haproxy-plain: ${fmt(ratios.haproxyPlainOverHaproxyRps, 3)}.`, '');
    if (probes.length) {
      lines.push('## HTTP engine: probes', '');
      lines.push(`Raw requests over one TCP connection to each engine (allow-list above plus \`GET /(a+)+b\` and \`PATCH /(a+)+\`), upstream an nginx that logs every request line it parses. "reached nginx" lists them; a \`PUT /v1/exhaust-port\` there is a denied request that got through. haproxy-limited: HAProxy with every pattern prefixed \`(*LIMIT_MATCH=${MATCH_LIMIT})\` (PCRE2's default limit: 10,000,000).`, '');
      lines.push('| probe | what | engine | responses | closed | ms to each answer | reached nginx | verdict |');
      lines.push('|---|---|---|---|---|---:|---|---|');
      for (const p of PROBES) {
        for (const r of probes.filter((x) => x.probe === p.name)) {
          lines.push(`| ${p.name} | ${p.what} | ${r.engine} | ${r.statuses.join(', ') || 'none'} | ${r.closed ? 'yes' : 'no'} | ${r.stepMs.map((x) => fmt(x, 2)).join(', ')} | ${r.upstream.map((l) => `\`${l.length > 40 ? l.slice(0, 40) + '…' : l}\``).join(', ') || 'nothing'} | ${r.verdict}${r.deniedReachedServer ? ' (denied request reached the server)' : ''}${r.slow ? ` (median answer ${fmt(median(r.stepMs), 1)} ms > ${PROBES.find((x) => x.name === r.probe)?.budgetMs} ms)` : ''} |`);
        }
      }
      lines.push('');
      lines.push('Verdict: pass when no denied request reached nginx, and, for the keep-alive, long-path and ReDoS probes, the answers are exactly 200, 403, 200; 200; and five 403s; every 403 carries `Access denied\\r\\n`; in the ReDoS probes the median answer comes within 5 ms (one request costing the single worker of an engine more is a denial of service). For the smuggling probes either safe behaviour passes: refusing the request (400, close) or reading it one way only (the smuggled PUT then is a request of its own, answered 403, or body).', '');
    }
    const out = lines.join('\n');
    process.stdout.write(out + '\n');
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(
      OUT,
      JSON.stringify(
        {
          benchmark: 'http-engine',
          started,
          minutes: (now() - t00) / 60000,
          machine: machine(load0),
          versions,
          load: { rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS, threads: THREADS, path: LOAD_PATH, loadCpu: LOAD_CPU, proxyCpu: PROXY_CPU },
          rules: RULES,
          probeRules: [...RULES, ...REDOS_RULES],
          probeMatchLimit: MATCH_LIMIT,
          summary: sum,
          ratios,
          goals: { tsOverHaproxyRps: 0.7, tsOverHaproxyPacedP99: 1.5 },
          samples,
          probes,
          table: out,
        },
        null,
        2,
      ) + '\n',
    );
    progress(`wrote ${OUT} (${fmt((now() - t00) / 60000, 1)} min)`);
  } finally {
    stopAll();
    await sleep(200);
    rmSync(tmp, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// The outer process (root namespace): the namespace's life

/** Ends, by pid, every process still in the namespace (ours: nothing else runs there). */
function endPidsIn(ns: string): void {
  const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
  for (const pid of r.stdout.split('\n').filter(Boolean).map(Number)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

async function outer(): Promise<number> {
  if (process.getuid?.() !== 0) throw new Error('needs root (a network namespace)');
  if (cpus().length < 2) throw new Error('needs 2 CPUs: the load and the server on one, the proxy on the other');
  requireTools(['haproxy', 'nginx', 'wrk', 'taskset']);
  if (!existsSync(PROXY_SCRIPT)) throw new Error(`${PROXY_SCRIPT} is missing (make build)`);
  const ns = `bl-http-bench-${process.pid}`;
  addNetns(ns);
  let child: ChildProcess | undefined;
  const cleanup = () => {
    if (!netnsExists(ns)) return;
    endPidsIn(ns);
    delNetns(ns);
  };
  const forward = (sig: NodeJS.Signals) => () => {
    if (child?.pid && child.exitCode === null) child.kill(sig);
    else {
      cleanup();
      process.exit(130);
    }
  };
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  try {
    child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...process.execArgv, THIS_SCRIPT, ...process.argv.slice(2), '--inside', ns], { stdio: 'inherit' });
    return await new Promise<number>((resolve) => child!.on('exit', (code, sig) => resolve(code ?? (sig ? 128 : 1))));
  } finally {
    await sleep(200);
    cleanup();
  }
}

if (process.argv.includes('--inside')) {
  await inside().catch((e: Error) => {
    stopAll();
    process.stderr.write(`http-engine: ${e.message}\n`);
    process.exit(1);
  });
} else {
  process.exitCode = await outer();
}

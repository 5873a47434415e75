/**
 * The node's flow pipeline under load (issue 11, performance).
 *
 * Part 1, the pipeline (root, no lab). bl_perf_emit (bpf/test/perf.bpf.c)
 * writes `count` copies of a real bl_trace_notify record (a TCP packet from
 * one pod to another, 176 bytes, built with test/lib/packets.ts) into
 * perf_events, a ring buffer of bl_events' size (1 MiB), with reserve/submit
 * as the datapath does, and counts what does not fit in perf_events_lost as
 * the datapath counts bl_events_lost. The three maps are pinned on a private
 * bpffs so two processes share them:
 *   producer  a child process pinned to CPU 0 (taskset) that loads its own
 *             copy of perf.bpf.o over the pins and issues BPF_PROG_TEST_RUN
 *             at a paced rate (events/s; a run emits what the schedule owes,
 *             1 to 256 events) for --duration seconds; `max` is unpaced.
 *   consumer  this process, pinned to CPU 1: RingBufferReader (libuv poll) →
 *             FlowPipeline (decode queue 16384, decodeMonitorEvent +
 *             flowFromEvent with an AgentFlowEnricher over in-memory sources:
 *             300 local endpoints, 600 identities, 600 pods) → ring (4095) →
 *             one following in-process subscriber (pipeline.subscribe) with a
 *             compiled whitelist filter (source_pod + destination_port +
 *             verdict) that counts what it is delivered.
 * Arms: `pipeline` (the above) and `full` (also FlowMetrics with
 * DEFAULT_METRICS and a FlowExporter to a temp dir on the onFlow hook, as
 * the agent wires them), each at every rate, interleaved: every round runs
 * every (arm, rate) once, in an order rotated per round.
 * Accounting, per arm run: offered = events the producer asked the kernel
 * for = perf_events_lost (kernel ring buffer full) + records read; records
 * read = the pipeline's offered = seen + queue losses (OBSERVER_EVENTS_QUEUE)
 * (+ undecoded + decode errors, 0 here); seen = delivered + not matching the
 * filter (0: every record matches) + lapped (HUBBLE_RING_BUFFER). The kernel
 * losses are handed to the pipeline (addKernelLost, as the agent does every
 * second) so the subscriber is told about every loss, and `exact` checks
 * offered = delivered + the losses the subscriber was told about, by source.
 * Consumer CPU (process.cpuUsage, user + system) from the producer's start
 * until everything is delivered (and, in `full`, written to disk), per event
 * read. A rate is sustained when delivered/offered ≥ 0.99 in every round.
 *
 * Part 2, request rate (lab). Two 1-node labs up at once, one with flow
 * observation (the lab default: Observer API, metrics, flow history, relay)
 * and one with `lab up --no-hubble`; each has a busybox client pod and an
 * nginx-native server pod (the host's nginx, C) on the node. wrk (C) in the
 * client pod, pinned to CPU 0, both labs' processes pinned to CPU 1 while it
 * runs (bench/load.ts), a TCP connection per request; the load alternates
 * between the labs (on, off; then off, on; …), so both arms run with the same
 * processes up and the ratio on/off is of the same minutes. (Bringing one
 * lab up and down per arm would take a minute per switch, and two labs
 * loaded at once would fight for the two CPUs.) The 'on' lab's flows per
 * second during its load come from the agent's GET /v1/observer.
 *
 *   node dist/bench/observer.js [--rounds 3] [--duration 3]
 *        [--rates 10000,25000,50000,75000,100000,200000,400000,max] [--arms pipeline,full]
 *        [--pipeline yes|no] [--lab yes|no] [--lab-rounds 3] [--seconds 8] [--concurrency 16] [--mode close|keepalive]
 *        [--out bench/results/observer.json]
 * Wrap in `flock /tmp/beeline-heavy.lock` (make bench-observer does).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '../src/common/version.js';
import { BlTracePoint, BlTraceReason } from '../src/datapath/generated/abi.js';
import { Datapath } from '../src/datapath/loader.js';
import { codec, type TypedMap } from '../src/datapath/maps.js';
import type { RingBufferReader } from '../src/datapath/ringbuf.js';
import { decodeMonitorEvent } from '../src/observer/event.js';
import { flowFromEvent } from '../src/observer/flow.js';
import { FlowPipeline, type FlowPipelineStats } from '../src/observer/pipeline.js';
import { RingLoss, type LostSource } from '../src/observer/ring.js';
import { compileFlowFilters } from '../src/observer/filter.js';
import { DEFAULT_METRICS, FlowMetrics } from '../src/observer/metrics.js';
import { FlowExporter } from '../src/observer/history.js';
import type { FlowFilter } from '../src/observer/types.js';
import { AgentFlowEnricher, type FlowSources, type PodRef } from '../src/agent/flows.js';
import type { EndpointModel } from '../src/agent/types.js';
import { RESERVED_IDENTITIES, type Identity } from '../src/identity/reserved.js';
import { canonicalLabels, parseLabel } from '../src/identity/labels.js';
import { ETH_IPV4, ethernet, ipv4, tcp, traceRecord } from '../test/lib/packets.js';
import { privateBpffs, requireObject } from '../test/privileged/datapath-support.js';
import { readState } from '../src/lab/state.js';
import { agentGet } from '../src/agent/client.js';
import { openEtcdStore } from '../src/store/etcd.js';
import type { ObjectInput } from '../src/store/store.js';
import { parseManifest } from '../src/k8s/parse.js';
import { validateBatch } from '../src/k8s/validate.js';
import { applyObjects } from '../src/cli/resources.js';
import { describeLoad, loadConfigFromArgs, pinnedFor, runLoad, type LoadConfig, type LoadResult } from './load.js';
import type { ObserverStatus } from '../src/agent/observer.js';
import { arg, progressOf } from './report.js';


const PERF_OBJECT = join(repoRoot, 'build/bpf/test/perf.bpf.o');
const PINNED = ['perf_events', 'perf_event_tmpl', 'perf_events_lost'];
const EVENT_SIZE = 176;
const EMIT_MAX = 256;
const PRODUCER_CPU = 0;
const CONSUMER_CPU = 1;

const now = () => performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const progress = progressOf('observer');

/** A 64-byte frame whose 32-bit LE word at byte 14 is bl_perf_emit's count. */
function emitFrame(): Buffer {
  const b = Buffer.alloc(64);
  b.writeUInt16BE(ETH_IPV4, 12);
  return b;
}

// ---------------------------------------------------------------------------
// The producer (child process, CPU 0)

interface RunRequest {
  type: 'run';
  /** Events per second; 0: as fast as possible. */
  rate: number;
  ms: number;
}
interface RunReply {
  type: 'done';
  offered: number;
  runs: number;
  ms: number;
  cpuUs: number;
}

function producer(): void {
  const pinDir = arg('--pin-dir', '');
  const dp = Datapath.open(requireObject(PERF_OBJECT), { pinDir, pinMaps: PINNED }).load();
  const frame = emitFrame();
  process.on('message', (m: RunRequest | { type: 'exit' }) => {
    if (m.type === 'exit') {
      dp.close();
      process.exit(0);
    }
    const cpu0 = process.cpuUsage();
    const t0 = now();
    const end = t0 + m.ms;
    let offered = 0;
    let runs = 0;
    for (;;) {
      const t = now();
      if (t >= end) break;
      // What the schedule owes by now: emitting it in one run keeps the offered rate exact whatever a run costs.
      const owed = m.rate > 0 ? Math.floor(((t - t0) * m.rate) / 1000) - offered : EMIT_MAX;
      if (owed <= 0) continue;
      const n = Math.min(owed, EMIT_MAX);
      frame.writeUInt32LE(n, 14);
      const r = dp.testRun('bl_perf_emit', frame);
      if (r.retval !== 0) throw new Error(`bl_perf_emit returned ${r.retval}`);
      offered += n;
      runs++;
    }
    const cpu = process.cpuUsage(cpu0);
    const reply: RunReply = { type: 'done', offered, runs, ms: now() - t0, cpuUs: cpu.user + cpu.system };
    process.send!(reply);
  });
  process.send!({ type: 'ready' });
}

// ---------------------------------------------------------------------------
// The node's caches, in memory (as src/agent/flows.test.ts builds them)

const NS = 'bench';
const LOCAL_ENDPOINTS = 300;
const REMOTE_PODS = 300;
const CLIENT_EP = 100;
const SERVER_EP = 101;
const SERVER_PORT = 8080;

const epIP = (k: number) => `10.0.${1 + Math.floor(k / 250)}.${1 + (k % 250)}`;
const remoteIP = (k: number) => `10.1.${Math.floor(k / 250)}.${1 + (k % 250)}`;
const ident = (id: number, ...labels: string[]): Identity => ({ id, labels: canonicalLabels(labels.map((l) => parseLabel(l))) });

function nodeSources(): FlowSources {
  const endpoints: EndpointModel[] = [];
  const identities: Identity[] = [...RESERVED_IDENTITIES];
  const pods = new Map<string, PodRef>();
  const identityByIP = new Map<string, number>();
  for (let k = 0; k < LOCAL_ENDPOINTS; k++) {
    const id = CLIENT_EP + k;
    const app = k === 0 ? 'client' : k === 1 ? 'server' : `app-${k}`;
    const name = `${app}-${k.toString(16).padStart(4, '0')}`;
    const identity = 10_000 + k;
    const ip = epIP(k + 10);
    identities.push(ident(identity, `k8s:app=${app}`, `k8s:io.kubernetes.pod.namespace=${NS}`, `k8s:tier=t${k % 7}`));
    endpoints.push({ id, containerID: `c${k}`, ifname: 'eth0', netns: '', hostIfname: `lxc${k}`, hostIfindex: 100 + k, ipv4: ip, mac: '', hostMac: '', pod: { namespace: NS, name }, labels: {}, identity, state: 'ready', createdAt: '' } as EndpointModel);
    pods.set(ip, { namespace: NS, name, workload: { name: app, kind: 'Deployment' } });
    identityByIP.set(ip, identity);
  }
  for (let k = 0; k < REMOTE_PODS; k++) {
    const identity = 20_000 + k;
    const ip = remoteIP(k);
    identities.push(ident(identity, `k8s:app=remote-${k}`, `k8s:io.kubernetes.pod.namespace=other`));
    pods.set(ip, { namespace: 'other', name: `remote-${k}` });
    identityByIP.set(ip, identity);
  }
  return {
    nodeName: 'node1',
    endpoints: () => endpoints,
    endpointsVersion: () => 1,
    identities: () => identities,
    identitiesVersion: () => 1,
    identityOfIP: (ip) => identityByIP.get(ip) ?? 2,
    podByIP: (ip) => pods.get(ip),
    frontends: () => [{ frontend: '10.96.0.10:53/UDP', service: 'kube-system/kube-dns' }],
    frontendsVersion: () => 1,
    cookieOrigins: () => [],
    defaultDenyOrigins: () => [],
  };
}

/** The event every test run emits: the client's SYN to the server, delivered to the server's endpoint (to-endpoint). */
function templateRecord(src: FlowSources): Buffer {
  const eps = src.endpoints();
  const client = eps.find((e) => e.id === CLIENT_EP)!;
  const server = eps.find((e) => e.id === SERVER_EP)!;
  const packet = ethernet({ type: ETH_IPV4 }, ipv4({ src: client.ipv4, dst: server.ipv4, protocol: 6, df: true }, tcp({ sport: 41234, dport: SERVER_PORT, flags: 'S', seq: 1 })));
  const rec = traceRecord(
    packet,
    { subtype: BlTracePoint.BL_TRACE_TO_LXC, source: SERVER_EP, src_identity: client.identity, dst_identity: server.identity, ifindex: server.hostIfindex },
    { dst_id: SERVER_EP, reason: BlTraceReason.BL_TRACE_REASON_POLICY },
  );
  if (rec.length !== EVENT_SIZE) throw new Error(`trace record is ${rec.length} bytes, bl_perf_emit copies ${EVENT_SIZE}`);
  return rec;
}

/** The subscriber's filter: like `hubble observe --from-pod bench/client- --port 8080 --verdict FORWARDED`. */
const FILTER: FlowFilter[] = [{ source_pod: [`${NS}/client-`], destination_port: [String(SERVER_PORT)], verdict: ['FORWARDED'] } as FlowFilter];

// ---------------------------------------------------------------------------
// One pipeline arm run

type ArmKind = 'pipeline' | 'full';
type LossBySource = Record<LostSource, number>;

interface PipelineSample {
  arm: ArmKind;
  /** Target events/s; 0 = unpaced. */
  rate: number;
  round: number;
  offered: number;
  /** offered / producer wall time. */
  offeredPerSec: number;
  producerRuns: number;
  producerCpuUs: number;
  /** Records the reader handed to the pipeline. */
  read: number;
  delivered: number;
  /** Flows the filter left out (0 by design). */
  notMatching: number;
  /** Losses where they happened: kernel lost counter, pipeline stats. */
  lost: LossBySource;
  /** Losses as the subscriber was told about them (RingLoss items). */
  told: LossBySource;
  undecoded: number;
  decodeErrors: number;
  /** offered = delivered + notMatching + losses (+ undecoded + decode errors), and the subscriber was told every loss. */
  exact: boolean;
  ratio: number;
  consumerCpuUs: number;
  cpuUsPerEvent: number;
  /** Consumer wall time from the producer's start until everything was delivered. */
  wallMs: number;
  export?: { written: number; dropped: number; filtered: number };
}

const zeroLoss = (): LossBySource => ({ PERF_EVENT_RING_BUFFER: 0, OBSERVER_EVENTS_QUEUE: 0, HUBBLE_RING_BUFFER: 0 });

class Harness {
  sink: (rec: Buffer) => void = () => undefined;
  readonly enricher: AgentFlowEnricher;
  reader!: RingBufferReader;
  lostMap!: TypedMap<number, bigint>;
  #child!: ChildProcess;
  #replies: ((m: RunReply) => void)[] = [];
  #seq = 0;

  constructor(
    readonly perf: Datapath,
    readonly pinDir: string,
    readonly tmp: string,
  ) {
    this.enricher = new AgentFlowEnricher(nodeSources());
  }

  async start(): Promise<void> {
    const u32 = codec<number>(4, (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; }, (b) => b.readUInt32LE(0));
    const bytes = codec<Buffer>(EVENT_SIZE, (v) => v, (b) => Buffer.from(b));
    const u64 = codec<bigint>(8, (v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(v); return b; }, (b) => b.readBigUInt64LE(0));
    const tmpl = this.perf.map('perf_event_tmpl', u32, bytes);
    tmpl.set(0, templateRecord(nodeSources()));
    this.lostMap = this.perf.map('perf_events_lost', u32, u64);
    this.reader = this.perf.ringBuffer('perf_events', (rec) => this.sink(rec));
    const script = fileURLToPath(import.meta.url);
    this.#child = spawn('taskset', ['-c', String(PRODUCER_CPU), process.execPath, script, '--producer', '--pin-dir', this.pinDir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await new Promise<void>((resolve, reject) => {
      this.#child.once('error', reject);
      this.#child.once('exit', (code) => reject(new Error(`producer exited ${code} before it was ready`)));
      this.#child.on('message', (m: { type: string }) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'done') this.#replies.shift()?.(m as RunReply);
      });
    });
    this.#child.removeAllListeners('exit');
  }

  kernelLost(): number {
    return Number(this.lostMap.get(0) ?? 0n);
  }

  produce(rate: number, ms: number): Promise<RunReply> {
    return new Promise((resolve) => {
      this.#replies.push(resolve);
      this.#child.send({ type: 'run', rate, ms } satisfies RunRequest);
    });
  }

  async stop(): Promise<void> {
    if (!this.#child || this.#child.exitCode !== null) return;
    const exited = new Promise((r) => this.#child.once('exit', r));
    this.#child.send({ type: 'exit' });
    await Promise.race([exited, sleep(5000)]);
    if (this.#child.exitCode === null) this.#child.kill();
  }

  async run(arm: ArmKind, rate: number, ms: number, round: number): Promise<PipelineSample> {
    const enricher = this.enricher;
    // As the agent does: the reader stops while the decode queue is half full (the kernel drops and counts meanwhile).
    const reader = this.reader;
    const pipeline = new FlowPipeline({ decode: (rec) => flowFromEvent(decodeMonitorEvent(rec), enricher), onPressure: (paused) => (paused ? reader.stop() : reader.start()) });
    let exporter: FlowExporter | undefined;
    const exportDir = join(this.tmp, `export-${++this.#seq}`);
    if (arm === 'full') {
      const metrics = new FlowMetrics(DEFAULT_METRICS);
      exporter = new FlowExporter({ path: join(exportDir, 'flows.json'), nodeName: 'node1', maxSizeBytes: 10 << 20, maxBackups: 5 });
      const ex = exporter;
      pipeline.onFlow((flow) => {
        metrics.process(flow);
        ex.export(flow);
      });
    }
    const predicate = compileFlowFilters(FILTER, []);
    let notMatching = 0;
    let delivered = 0;
    const told = zeroLoss();
    const sub = pipeline.subscribe(
      {
        match: (f) => {
          if (predicate(f)) return true;
          notMatching++;
          return false;
        },
      },
      (item) => {
        if (item instanceof RingLoss) told[item.source] += item.count;
        else delivered++;
        return true;
      },
    );
    // Nothing left from the previous arm.
    this.sink = () => undefined;
    this.reader.drain();
    this.sink = (rec) => pipeline.push(rec);
    const lost0 = this.kernelLost();
    const read0 = this.reader.samples;
    const cpu0 = process.cpuUsage();
    const t0 = now();
    const reply = await this.produce(rate, ms);
    // Everything the kernel holds, decoded; then the kernel's losses into the stream, as the agent reports them.
    for (let i = 0; i < 100; i++) {
      this.reader.drain();
      await pipeline.idle();
      if (this.reader.drain() === 0) break;
    }
    reader.start(); // an arm may end while the reader is paused
    const kernelLost = this.kernelLost() - lost0;
    pipeline.addKernelLost(kernelLost);
    await pipeline.idle();
    const stats = (): FlowPipelineStats => pipeline.stats();
    // The subscriber catches up: every flow seen is delivered, filtered out or reported lapped, every loss told.
    const settled = () => {
      const s = stats();
      return delivered + notMatching + told.HUBBLE_RING_BUFFER === s.seen && told.PERF_EVENT_RING_BUFFER === s.lost.PERF_EVENT_RING_BUFFER && told.OBSERVER_EVENTS_QUEUE === s.lost.OBSERVER_EVENTS_QUEUE;
    };
    const tw = now();
    while (!settled() && now() - tw < 5000) await new Promise((r) => setImmediate(r));
    if (exporter) await exporter.flush();
    const cpu = process.cpuUsage(cpu0);
    const wallMs = now() - t0;
    this.sink = () => undefined;
    sub.close();
    const s = stats();
    const read = this.reader.samples - read0;
    const exp = exporter?.status();
    if (exporter) await exporter.close();
    rmSync(exportDir, { recursive: true, force: true });
    pipeline.close();
    const lost: LossBySource = { PERF_EVENT_RING_BUFFER: kernelLost, OBSERVER_EVENTS_QUEUE: s.lost.OBSERVER_EVENTS_QUEUE, HUBBLE_RING_BUFFER: s.lost.HUBBLE_RING_BUFFER };
    const accounted = delivered + notMatching + lost.PERF_EVENT_RING_BUFFER + lost.OBSERVER_EVENTS_QUEUE + lost.HUBBLE_RING_BUFFER + s.undecoded + s.decodeErrors;
    const exact =
      accounted === reply.offered &&
      read + kernelLost === reply.offered &&
      read === s.offered &&
      told.PERF_EVENT_RING_BUFFER === lost.PERF_EVENT_RING_BUFFER &&
      told.OBSERVER_EVENTS_QUEUE === lost.OBSERVER_EVENTS_QUEUE &&
      told.HUBBLE_RING_BUFFER === lost.HUBBLE_RING_BUFFER;
    const cpuUs = cpu.user + cpu.system;
    return {
      arm,
      rate,
      round,
      offered: reply.offered,
      offeredPerSec: reply.offered / (reply.ms / 1000),
      producerRuns: reply.runs,
      producerCpuUs: reply.cpuUs,
      read,
      delivered,
      notMatching,
      lost,
      told,
      undecoded: s.undecoded,
      decodeErrors: s.decodeErrors,
      exact,
      ratio: reply.offered ? delivered / reply.offered : 1,
      consumerCpuUs: cpuUs,
      cpuUsPerEvent: read ? cpuUs / read : 0,
      wallMs,
      ...(exp ? { export: { written: exp.written, dropped: exp.dropped, filtered: exp.filtered } } : {}),
    };
  }
}

/** Checks the template decodes into a flow the filter passes (else every arm would measure the filter's rejections). */
function checkTemplate(enricher: AgentFlowEnricher): Record<string, unknown> {
  const flow = flowFromEvent(decodeMonitorEvent(templateRecord(nodeSources())), enricher);
  if (!flow) throw new Error('the template record decodes into no flow');
  if (!compileFlowFilters(FILTER, [])(flow)) throw new Error(`the template's flow does not pass the filter: ${JSON.stringify({ source: flow.source, l4: flow.l4, verdict: flow.verdict })}`);
  return { source: `${flow.source?.namespace}/${flow.source?.pod_name}`, destination: `${flow.destination?.namespace}/${flow.destination?.pod_name}`, verdict: flow.verdict, event: flow.event_type, observationPoint: flow.trace_observation_point, l4: flow.l4 };
}

// ---------------------------------------------------------------------------
// Summaries

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (x: number, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : '–');
const rateLabel = (r: number) => (r === 0 ? 'max (unpaced)' : fmt(r));

interface PipelineSummary {
  arm: ArmKind;
  rate: number;
  rounds: number;
  offeredPerSecMedian: number;
  deliveredOverOfferedMin: number;
  deliveredOverOfferedMedian: number;
  offered: number;
  delivered: number;
  lost: LossBySource;
  exactAllRounds: boolean;
  sustained: boolean;
  cpuUsPerEventMedian: number;
  /** 1e6 / cpuUsPerEvent: events/s one core would do at this cost. */
  eventsPerCoreSecond: number;
  exportDropped?: number;
}

function summarise(samples: PipelineSample[], arms: ArmKind[], rates: number[]): PipelineSummary[] {
  const out: PipelineSummary[] = [];
  for (const arm of arms) {
    for (const rate of rates) {
      const ss = samples.filter((s) => s.arm === arm && s.rate === rate);
      if (ss.length === 0) continue;
      const lost = zeroLoss();
      for (const s of ss) for (const k of Object.keys(lost) as LostSource[]) lost[k] += s.lost[k];
      const ratios = ss.map((s) => s.ratio);
      const cpu = median(ss.map((s) => s.cpuUsPerEvent));
      out.push({
        arm,
        rate,
        rounds: ss.length,
        offeredPerSecMedian: median(ss.map((s) => s.offeredPerSec)),
        deliveredOverOfferedMin: Math.min(...ratios),
        deliveredOverOfferedMedian: median(ratios),
        offered: ss.reduce((a, s) => a + s.offered, 0),
        delivered: ss.reduce((a, s) => a + s.delivered, 0),
        lost,
        exactAllRounds: ss.every((s) => s.exact),
        sustained: ratios.every((r) => r >= 0.99),
        cpuUsPerEventMedian: cpu,
        eventsPerCoreSecond: cpu > 0 ? 1e6 / cpu : 0,
        ...(arm === 'full' ? { exportDropped: ss.reduce((a, s) => a + (s.export?.dropped ?? 0), 0) } : {}),
      });
    }
  }
  return out;
}

/** The highest paced rate sustained (≥ 0.99 in every round), and what was offered there. */
function maxSustained(sum: PipelineSummary[], arm: ArmKind): { rate: number; offeredPerSec: number } | undefined {
  const ok = sum.filter((s) => s.arm === arm && s.rate > 0 && s.sustained).sort((a, b) => b.rate - a.rate)[0];
  return ok ? { rate: ok.rate, offeredPerSec: ok.offeredPerSecMedian } : undefined;
}

// ---------------------------------------------------------------------------
// Part 2: request rate with observation on and off (labs)


const BIN = join(repoRoot, 'bin', 'beeline');
const LAB_ON = 'bhon';
const LAB_OFF = 'bhoff';
const LAB_NS = 'obsbench';

function beeline(args: string[], allowFail = false): { status: number; out: string; err: string } {
  for (let attempt = 1; ; attempt++) {
    const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 300_000, maxBuffer: 64 << 20 });
    const err = r.stderr ?? '';
    // Another session rebuilding dist/ can crash a CLI mid-start: Node prints its version last.
    if (r.status !== 0 && /^Node\.js v\d+/.test(err.trim().split('\n').pop() ?? '') && attempt < 4) {
      spawnSync('sleep', ['3']);
      continue;
    }
    if (r.status !== 0 && !allowFail) throw new Error(`beeline ${args.join(' ').slice(0, 160)} exited ${r.status}: ${(err || r.stdout || '').trim().split('\n').slice(-3).join(' | ')}`);
    return { status: r.status ?? -1, out: r.stdout ?? '', err };
  }
}

const LAB_WORKLOAD = `apiVersion: v1
kind: Namespace
metadata: {name: ${LAB_NS}}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: ${LAB_NS}, labels: {app: client}}
spec:
  nodeName: node1
  containers:
  - name: c
    image: busybox
    command: ["sleep", "infinity"]
---
apiVersion: v1
kind: Pod
metadata: {name: server, namespace: ${LAB_NS}, labels: {app: server}}
spec:
  nodeName: node1
  containers:
  - name: nginx
    image: beeline.dev/nginx-native
    args: ["--port", "8080"]
`;

interface LabHandle {
  name: string;
  hubble: boolean;
  agent: string;
  serverIP: string;
}

async function labUp(name: string, hubble: boolean): Promise<LabHandle> {
  beeline(['lab', 'down', '--name', name, '-q'], true);
  beeline(['lab', 'up', '--nodes', '1', '--name', name, '-q', ...(hubble ? [] : ['--no-hubble'])]);
  const s = readState(name)!;
  const store = openEtcdStore({ endpoint: `unix://${s.etcd!.socket}` });
  try {
    const wl = validateBatch(parseManifest(LAB_WORKLOAD, 'observer-bench.yaml'));
    await applyObjects(store, wl.objects as unknown as ObjectInput[], wl.sources, s.plan.serviceCIDR);
    const t0 = now();
    let serverIP = '';
    for (;;) {
      const pods = (await store.list('Pod', { namespace: LAB_NS })).items as any[];
      const running = pods.filter((p) => p.status?.phase === 'Running' && p.status?.podIP);
      if (running.length === 2) {
        serverIP = running.find((p) => p.metadata.name === 'server').status.podIP;
        break;
      }
      if (now() - t0 > 180_000) throw new Error(`lab ${name}: pods not running after 180 s`);
      await sleep(500);
    }
    const t1 = now();
    for (;;) {
      const r = beeline(['exec', '--lab', name, '-n', LAB_NS, 'client', '--', 'curl', '-s', '-m', '3', `http://${serverIP}:8080/`], true);
      if (r.status === 0 && r.out === 'ok\n') break;
      if (now() - t1 > 60_000) throw new Error(`lab ${name}: the server does not answer: curl exit ${r.status} ${JSON.stringify(r.out.slice(0, 80))}`);
      await sleep(1000);
    }
    return { name, hubble, agent: s.agents['node1']!.socket, serverIP };
  } finally {
    await store.close().catch(() => undefined);
  }
}

function labDown(name: string): void {
  for (let i = 0; i < 3 && readState(name); i++) {
    beeline(['lab', 'down', '--name', name, '-q'], true);
    if (readState(name)) spawnSync('sleep', ['3']);
  }
  if (readState(name)) progress(`lab ${name} is still up: beeline lab down --name ${name}`);
}

interface LoadSample extends LoadResult {
  arm: 'on' | 'off';
  round: number;
  /** Flows the node's pipeline decoded during the load, per second (on only). */
  flowsPerSec?: number;
  lost?: Record<LostSource, number>;
}

async function observerStats(lab: LabHandle): Promise<FlowPipelineStats | undefined> {
  if (!lab.hubble) return undefined;
  return (await agentGet<ObserverStatus>(lab.agent, '/v1/observer', 5000)).pipeline;
}

async function loadOnce(cfg: LoadConfig, lab: LabHandle, labs: string[], round: number): Promise<LoadSample> {
  const before = await observerStats(lab);
  const r = pinnedFor(cfg, labs, () => runLoad(cfg, { lab: lab.name, namespace: LAB_NS, pod: 'client' }, [`${lab.serverIP}:8080`]));
  const after = await observerStats(lab);
  const s: LoadSample = { ...r, arm: lab.hubble ? 'on' : 'off', round };
  if (before && after) {
    s.flowsPerSec = (after.seen - before.seen) / cfg.seconds;
    s.lost = { PERF_EVENT_RING_BUFFER: after.lost.PERF_EVENT_RING_BUFFER - before.lost.PERF_EVENT_RING_BUFFER, OBSERVER_EVENTS_QUEUE: after.lost.OBSERVER_EVENTS_QUEUE - before.lost.OBSERVER_EVENTS_QUEUE, HUBBLE_RING_BUFFER: after.lost.HUBBLE_RING_BUFFER - before.lost.HUBBLE_RING_BUFFER };
  }
  return s;
}

// ---------------------------------------------------------------------------
// Main

async function main(): Promise<void> {
  const ROUNDS = Number(arg('--rounds', '3'));
  const DURATION = Number(arg('--duration', '3'));
  const RATES = arg('--rates', '10000,25000,50000,75000,100000,200000,400000,max')
    .split(',')
    .map((r) => (r === 'max' ? 0 : Number(r)));
  const ARMS = arg('--arms', 'pipeline,full').split(',') as ArmKind[];
  const LAB = arg('--lab', 'yes') === 'yes';
  const PIPELINE = arg('--pipeline', 'yes') === 'yes';
  const LAB_ROUNDS = Number(arg('--lab-rounds', '3'));
  const OUT = arg('--out', join(repoRoot, 'bench', 'results', 'observer.json'));
  if (!(ROUNDS >= 1) || !(DURATION > 0)) throw new Error('--rounds and --duration must be positive');
  if (RATES.some((r) => !Number.isFinite(r) || r < 0)) throw new Error(`--rates ${arg('--rates', '')}: events per second, or max`);
  if (ARMS.some((a) => a !== 'pipeline' && a !== 'full')) throw new Error(`--arms ${ARMS.join(',')}: pipeline and/or full`);
  if (cpus().length < 2) throw new Error('needs 2 CPUs: the producer and the consumer each get one');
  if (process.getuid?.() !== 0) throw new Error('needs root (BPF, bpffs, labs)');

  const started = new Date().toISOString();
  const load0 = loadavg();
  const t00 = now();
  const tmp = mkdtempSync(join(tmpdir(), 'bl-bench-observer-'));
  const fs = privateBpffs();
  let perf: Datapath | undefined;
  let harness: Harness | undefined;
  const samples: PipelineSample[] = [];
  let templateFlow: Record<string, unknown> = {};
  const lines: string[] = [];
  let pipelineJson: Record<string, unknown> = {};
  let labJson: Record<string, unknown> | undefined;
  try {
    // ---- Part 1
    if (PIPELINE) {
      // The consumer (this process, every thread) on its own CPU; the producer gets the other.
      spawnSync('taskset', ['-a', '-p', '-c', String(CONSUMER_CPU), String(process.pid)]);
      perf = Datapath.open(requireObject(PERF_OBJECT), { pinDir: fs.dir, pinMaps: PINNED }).load();
      harness = new Harness(perf, fs.dir, tmp);
      templateFlow = checkTemplate(harness.enricher);
      await harness.start();
      progress(`pipeline: ${ROUNDS} rounds × ${ARMS.length} arms × ${RATES.length} rates × ${DURATION} s; producer on CPU ${PRODUCER_CPU}, consumer on CPU ${CONSUMER_CPU}`);
      // Warm-up (JIT, caches): not reported.
      await harness.run('full', 100_000, 1000, 0);
      const combos = ARMS.flatMap((a) => RATES.map((r) => [a, r] as const));
      for (let round = 1; round <= ROUNDS; round++) {
        const shift = ((round - 1) * 3) % combos.length;
        const order = [...combos.slice(shift), ...combos.slice(0, shift)];
        for (const [arm, rate] of order) {
          const s = await harness.run(arm, rate, DURATION * 1000, round);
          samples.push(s);
          progress(`round ${round} ${arm} @ ${rateLabel(rate)}: offered ${fmt(s.offeredPerSec)}/s, delivered ${fmt(s.ratio * 100, 2)} %, lost kernel ${s.lost.PERF_EVENT_RING_BUFFER} queue ${s.lost.OBSERVER_EVENTS_QUEUE} ring ${s.lost.HUBBLE_RING_BUFFER}, exact ${s.exact}, ${fmt(s.cpuUsPerEvent, 2)} µs CPU/event${s.export ? `, export dropped ${s.export.dropped}` : ''}`);
        }
      }
      await harness.stop();
      const sum = summarise(samples, ARMS, RATES);
      const best = Object.fromEntries(ARMS.map((a) => [a, maxSustained(sum, a) ?? null]));
      lines.push('## Flow pipeline: kernel ring buffer → decode + enrich → ring → one filtered subscriber', '');
      lines.push(`${ROUNDS} rounds × ${DURATION} s per arm and rate, interleaved; producer (BPF_PROG_TEST_RUN of bl_perf_emit) on CPU ${PRODUCER_CPU}, consumer on CPU ${CONSUMER_CPU}. Losses summed over the rounds; ratio delivered/offered: the worst round (median).`, '');
      lines.push('| arm | target events/s | offered/s (median) | delivered/offered | offered | delivered | lost: kernel ring buffer | lost: decode queue | lost: ring lapped | offered = delivered + losses | consumer CPU µs/event | events/s per core at that cost | export dropped |');
      lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|');
      for (const s of sum) {
        lines.push(
          `| ${s.arm === 'full' ? 'pipeline + metrics + export' : 'pipeline'} | ${rateLabel(s.rate)} | ${fmt(s.offeredPerSecMedian)} | ${fmt(s.deliveredOverOfferedMin, 4)} (${fmt(s.deliveredOverOfferedMedian, 4)})${s.sustained ? '' : ' ✗'} | ${fmt(s.offered)} | ${fmt(s.delivered)} | ${fmt(s.lost.PERF_EVENT_RING_BUFFER)} | ${fmt(s.lost.OBSERVER_EVENTS_QUEUE)} | ${fmt(s.lost.HUBBLE_RING_BUFFER)} | ${s.exactAllRounds ? 'exact' : 'NOT exact'} | ${fmt(s.cpuUsPerEventMedian, 2)} | ${fmt(s.eventsPerCoreSecond)} | ${s.exportDropped !== undefined ? fmt(s.exportDropped) : '–'} |`,
        );
      }
      lines.push('');
      for (const a of ARMS) lines.push(`Max sustained (delivered/offered ≥ 0.99 in every round), ${a === 'full' ? 'pipeline + metrics + export' : 'pipeline'}: ${best[a] ? `${fmt(best[a]!.rate)} events/s (offered ${fmt(best[a]!.offeredPerSec)}/s)` : 'none of the rates'}; goal ≥ 200,000.`);
      lines.push(`Every loss counted exactly in every run: ${samples.every((s) => s.exact) ? 'yes' : 'NO'} (${samples.length} runs).`, '');
      pipelineJson = { rounds: ROUNDS, durationS: DURATION, rates: RATES, arms: ARMS, producerCpu: PRODUCER_CPU, consumerCpu: CONSUMER_CPU, template: templateFlow, filter: FILTER, summary: sum, maxSustained: best, allExact: samples.every((s) => s.exact), samples };
      perf.close();
      perf = undefined;
    }
    fs.cleanup();

    // ---- Part 2
    if (LAB) {
      spawnSync('taskset', ['-a', '-p', '-c', `0-${cpus().length - 1}`, String(process.pid)]);
      const cfg = loadConfigFromArgs(arg, tmp, { connections: 16, seconds: 8 });
      progress(`request rate: labs ${LAB_ON} (observation on) and ${LAB_OFF} (--no-hubble), ${LAB_ROUNDS} rounds; ${describeLoad(cfg)}`);
      const loads: LoadSample[] = [];
      let labError: string | undefined;
      try {
        const tUp = now();
        const on = await labUp(LAB_ON, true);
        const off = await labUp(LAB_OFF, false);
        progress(`labs up in ${fmt((now() - tUp) / 1000)} s`);
        const st = await agentGet<ObserverStatus>(off.agent, '/v1/observer', 5000);
        if (st.enabled) throw new Error(`lab ${LAB_OFF}: the agent's observer is on despite --no-hubble`);
        const labs = [LAB_ON, LAB_OFF];
        // Warm-up: not reported.
        for (const l of [on, off]) await loadOnce({ ...cfg, seconds: 2 }, l, labs, 0);
        for (let round = 1; round <= LAB_ROUNDS; round++) {
          for (const l of round % 2 ? [on, off] : [off, on]) {
            const s = await loadOnce(cfg, l, labs, round);
            loads.push(s);
            progress(`round ${round} ${s.arm}: ${fmt(s.rps)} req/s, p99 ${fmt(s.requestP99Ms ?? s.totalP99Ms, 2)} ms, errors ${s.errors}${s.flowsPerSec !== undefined ? `, ${fmt(s.flowsPerSec)} flows/s, lost ${JSON.stringify(s.lost)}` : ''}, CPU busy ${s.cpuBusy.join('/')} %`);
          }
        }
      } catch (e) {
        // The pipeline's results are kept; the JSON says what went wrong here.
        labError = (e as Error).message;
        progress(`request rate: ${labError}`);
      } finally {
        labDown(LAB_ON);
        labDown(LAB_OFF);
      }
      const arm = (a: 'on' | 'off') => loads.filter((s) => s.arm === a);
      const ratios = Array.from({ length: LAB_ROUNDS }, (_, i) => {
        const on = loads.find((s) => s.arm === 'on' && s.round === i + 1);
        const off = loads.find((s) => s.arm === 'off' && s.round === i + 1);
        return on && off ? on.rps / off.rps : NaN;
      });
      const row = (a: 'on' | 'off') => {
        const ss = arm(a);
        return { rpsMedian: median(ss.map((s) => s.rps)), p99MsMedian: median(ss.map((s) => s.requestP99Ms ?? s.totalP99Ms)), errors: ss.reduce((x, s) => x + s.errors, 0), flowsPerSecMedian: a === 'on' ? median(ss.map((s) => s.flowsPerSec ?? 0)) : undefined };
      };
      const onRow = row('on');
      const offRow = row('off');
      const ratio = onRow.rpsMedian / offRow.rpsMedian;
      lines.push('## Request rate, flow observation on vs off', '');
      lines.push(`${LAB_ROUNDS} rounds, on/off alternating; ${describeLoad(cfg)}; client → nginx-native on the same node of a 1-node lab.`, '');
      lines.push('| observation | req/s (median) | p99 ms (median) | errors | flows/s decoded (median) | per round req/s |');
      lines.push('|---|---:|---:|---:|---:|---|');
      for (const [a, r] of [['on', onRow], ['off', offRow]] as const) lines.push(`| ${a} | ${fmt(r.rpsMedian)} | ${fmt(r.p99MsMedian, 2)} | ${r.errors} | ${r.flowsPerSecMedian !== undefined ? fmt(r.flowsPerSecMedian) : '–'} | ${arm(a).map((s) => fmt(s.rps)).join(', ')} |`);
      lines.push('');
      lines.push(`on/off: ${fmt(ratio, 3)} (per round ${ratios.map((r) => fmt(r, 3)).join(', ')}); goal ≥ 0.98.`, '');
      if (labError) lines.push(`Request-rate part failed: ${labError}`, '');
      labJson = { ...(labError ? { error: labError } : {}), rounds: LAB_ROUNDS, load: { generator: cfg.generator, connections: cfg.connections, seconds: cfg.seconds, close: cfg.close, pin: cfg.pin }, on: onRow, off: offRow, ratio, ratioPerRound: ratios, samples: loads };
    }

    const out = lines.join('\n');
    process.stdout.write(out + '\n');
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(
      OUT,
      JSON.stringify(
        {
          benchmark: 'observer',
          started,
          minutes: (now() - t00) / 60000,
          machine: { cpus: cpus().length, model: cpus()[0]?.model, kernel: release(), node: process.version, loadavgBefore: load0, loadavgAfter: loadavg() },
          pipeline: pipelineJson,
          ...(labJson ? { requestRate: labJson } : {}),
          table: out,
        },
        null,
        2,
      ) + '\n',
    );
    progress(`wrote ${OUT} (${fmt((now() - t00) / 60000, 1)} min)`);
  } finally {
    await harness?.stop().catch(() => undefined);
    perf?.close();
    fs.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv.includes('--producer')) producer();
else await main();

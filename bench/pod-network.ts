/**
 * Pod-to-pod performance of the datapath against the floor, in one run.
 *
 *   arms:  tunnel (eBPF, VXLAN)   native (eBPF, routed)   floor (same topology, no BPF, plain routing)
 *   paths: same-node (pod → pod on node1)   cross-node (node1 pod → node2 pod)
 *
 * Three labs are up at once; every round measures every (path, arm) in turn,
 * so the arms share whatever the machine is doing. Per measurement:
 * TCP request/response (sockperf ping-pong, 64-byte messages: rate and
 * latency p50/p99 — sockperf reports one-way latency, half the round trip)
 * and bulk TCP throughput (iperf3). The table gives medians with their spread
 * and ratios against the floor from the same run; raw numbers go to JSON.
 *
 *   node dist/bench/pod-network.js [--rounds 5] [--seconds 3] [--out bench/results/pod-network.json]
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../src/common/version.js';
import { CPUS, GEN_CPU, LAB_CPUS, pinLabs } from './load.js';
import { arg } from './report.js';

const BIN = join(repoRoot, 'bin', 'beeline');

interface Arm {
  name: 'tunnel' | 'native' | 'floor';
  lab: string;
  args: string[];
}
const ARMS: Arm[] = [
  { name: 'floor', lab: 'bnflr', args: ['--routing', 'native', '--datapath', 'none'] },
  { name: 'tunnel', lab: 'bntun', args: ['--routing', 'tunnel'] },
  { name: 'native', lab: 'bnnat', args: ['--routing', 'native'] },
];
const PATHS = [
  { name: 'same-node', server: 's1' },
  { name: 'cross-node', server: 's2' },
] as const;

const ROUNDS = Number(arg('--rounds', '5'));
const SECONDS = Number(arg('--seconds', '3'));
/**
 * --pin yes: the client tools on CPU 0 (GEN_CPU), the servers and every lab process on
 * the others (bench/load.ts), as the services and policy benchmarks do. Off by default:
 * sockperf and iperf3 are single-threaded C programs, never near saturation here.
 */
const PIN = arg('--pin', 'no') === 'yes' && CPUS > 1;
const clientPin = PIN ? ['taskset', '-c', String(GEN_CPU)] : [];
const serverPin = PIN ? ['taskset', '-c', LAB_CPUS] : [];
const OUT = arg('--out', join(repoRoot, 'bench', 'results', 'pod-network.json'));

function sh(cmd: string, args: string[], timeoutMs = 120_000): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ')}`);
  return r.stdout;
}
const beeline = (args: string[]) => sh(BIN, args);
const progress = (msg: string) => process.stderr.write(`${msg}\n`);

interface Pod {
  name: string;
  ip: string;
  netns: string;
}

function setUp(arm: Arm): Record<string, Pod> {
  spawnSync(BIN, ['lab', 'down', '--name', arm.lab, '-q']); // a lab left by an interrupted run
  beeline(['lab', 'up', '--nodes', '2', '--name', arm.lab, '-q', ...arm.args]);
  for (const [node, pod] of [['node1', 'c1'], ['node1', 's1'], ['node2', 's2']]) beeline(['lab', 'pod', 'add', '--lab', arm.lab, node!, pod!]);
  for (const s of ['s1', 's2']) {
    beeline(['lab', 'pod', 'exec', '--lab', arm.lab, '-d', s, '--', ...serverPin, 'sockperf', 'sr', '--tcp', '-i', '0.0.0.0', '-p', '11111']);
    beeline(['lab', 'pod', 'exec', '--lab', arm.lab, '-d', s, '--', ...serverPin, 'iperf3', '-s', '-p', '5201']);
  }
  if (PIN) pinLabs([arm.lab]);
  const pods = JSON.parse(beeline(['lab', 'pod', 'list', '--lab', arm.lab, '-o', 'json'])) as Pod[];
  spawnSync('sleep', ['1']);
  const byName = Object.fromEntries(pods.map((p) => [p.name, p]));
  // Measure nothing that does not work: every path must carry a ping first.
  for (const s of ['s1', 's2']) sh('ip', ['netns', 'exec', byName['c1']!.netns, 'ping', '-c', '1', '-W', '2', byName[s]!.ip]);
  return byName;
}

interface Sample {
  round: number;
  arm: string;
  path: string;
  rrPerSec: number;
  p50us: number;
  p99us: number;
  gbps: number;
}

function measure(client: Pod, server: Pod): Omit<Sample, 'round' | 'arm' | 'path'> {
  const pp = sh('ip', ['netns', 'exec', client.netns, ...clientPin, 'sockperf', 'pp', '--tcp', '-i', server.ip, '-p', '11111', '-t', String(SECONDS), '-m', '64']);
  // Strip the terminal colour codes sockperf prints even into a pipe.
  const text = pp.replace(/\x1b\[[0-9;]*m/g, '');
  const valid = /\[Valid Duration\] RunTime=([\d.]+) sec; SentMessages=\d+; ReceivedMessages=(\d+)/.exec(text);
  const pct = (p: string) => Number(new RegExp(`percentile ${p} =\\s*([\\d.]+)`).exec(text)?.[1]);
  if (!valid) throw new Error(`sockperf output not understood: ${text.slice(-400)}`);
  const iperf = JSON.parse(sh('ip', ['netns', 'exec', client.netns, ...clientPin, 'iperf3', '-c', server.ip, '-p', '5201', '-t', String(SECONDS), '-J'])) as {
    end: { sum_received: { bits_per_second: number } };
  };
  return {
    rrPerSec: Number(valid[2]) / Number(valid[1]),
    p50us: pct('50.000'),
    p99us: pct('99.000'),
    gbps: iperf.end.sum_received.bits_per_second / 1e9,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (n: number, d = 1) => n.toFixed(d);

async function main(): Promise<void> {
  const pods: Record<string, Record<string, Pod>> = {};
  try {
    for (const arm of ARMS) {
      progress(`setting up ${arm.name} (lab ${arm.lab})`);
      pods[arm.name] = setUp(arm);
    }
    const samples: Sample[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const path of PATHS) {
        for (const arm of ARMS) {
          const p = pods[arm.name]!;
          const m = measure(p['c1']!, p[path.server]!);
          samples.push({ round, arm: arm.name, path: path.name, ...m });
          progress(`round ${round}/${ROUNDS} ${path.name.padEnd(10)} ${arm.name.padEnd(6)} rr/s=${fmt(m.rrPerSec, 0)} p50=${m.p50us}us p99=${m.p99us}us ${fmt(m.gbps, 2)} Gbit/s`);
        }
      }
    }
    const rows: string[] = [];
    const summary: Record<string, unknown>[] = [];
    rows.push('| path | arm | RR/s (median, min–max) | p50 µs | p99 µs | Gbit/s (median, min–max) | RR vs floor | Gbit/s vs floor |');
    rows.push('|---|---|---|---|---|---|---|---|');
    for (const path of PATHS) {
      const of = (arm: string) => samples.filter((s) => s.path === path.name && s.arm === arm);
      const floorRR = median(of('floor').map((s) => s.rrPerSec));
      const floorBW = median(of('floor').map((s) => s.gbps));
      for (const arm of ARMS) {
        const s = of(arm.name);
        const rr = s.map((x) => x.rrPerSec);
        const bw = s.map((x) => x.gbps);
        const row = {
          path: path.name,
          arm: arm.name,
          rrPerSec: median(rr),
          rrMin: Math.min(...rr),
          rrMax: Math.max(...rr),
          p50us: median(s.map((x) => x.p50us)),
          p99us: median(s.map((x) => x.p99us)),
          gbps: median(bw),
          gbpsMin: Math.min(...bw),
          gbpsMax: Math.max(...bw),
          rrRatio: median(rr) / floorRR,
          gbpsRatio: median(bw) / floorBW,
        };
        summary.push(row);
        rows.push(
          `| ${path.name} | ${arm.name} | ${fmt(row.rrPerSec, 0)} (${fmt(row.rrMin, 0)}–${fmt(row.rrMax, 0)}) | ${fmt(row.p50us)} | ${fmt(row.p99us)} | ${fmt(row.gbps, 2)} (${fmt(row.gbpsMin, 2)}–${fmt(row.gbpsMax, 2)}) | ${fmt(row.rrRatio, 3)} | ${fmt(row.gbpsRatio, 3)} |`,
        );
      }
    }
    const table = rows.join('\n');
    process.stdout.write(table + '\n');
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(OUT, JSON.stringify({ date: new Date().toISOString(), rounds: ROUNDS, seconds: SECONDS, pinned: PIN, summary, samples }, null, 2) + '\n');
    progress(`wrote ${OUT}`);
  } finally {
    for (const arm of ARMS) spawnSync(BIN, ['lab', 'down', '--name', arm.lab, '-q']);
  }
}

await main();

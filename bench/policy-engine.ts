/**
 * The policy engine alone (issue 16 item 5, incremental policy): what the
 * agent's flush spends in the engine and in working out the map writes, from
 * scratch (computeEndpoint + diffEntries against the entries written before:
 * the agent before incremental updates) and incrementally (updateEndpoint:
 * only the rules and selectors a change touches, the writes since the last
 * update). Pure: no root, no lab, no map; the map writes themselves are not
 * in it (bench/policy.ts measures them in a lab).
 *
 * The input is bench/policy.ts's "programming at scale" part: --identities
 * pod identities (namespace polbench, polbench-grp=g<i mod --groups>,
 * polbench-id=i<i>) plus the reserved ones; --policies CNPs bp-<j>: subject
 * app=tgt-(j mod 4), ingress from group g<j mod --groups> on TCP 10000+j;
 * four target endpoints tgt-0..3, 12,502 entries each with the defaults.
 *
 * Arms, each round both, order alternated (scratch first in odd rounds):
 *   program   a repository with the identities gets the policies, in
 *             --batch-sized store transactions as the lab writes them (etcd
 *             takes at most 128 operations in one): after each, the flush
 *             brings the four endpoints up to date. CPU time of the whole
 *             (process.cpuUsage, user + system), and once all in one flush;
 *   change    bp-0000's peer group g0 ↔ g4 (50 entries out, 50 in on tgt-0),
 *             then tgt-0 brought up to date: ms per change (--changes per round);
 *   identity  one new identity in group g<k> (k cycling over the groups; the
 *             policies of that group select one target endpoint), then every
 *             endpoint brought up to date, as the agent does on an identity
 *             event: ms, per affected endpoint (1); the identity is deleted
 *             again untimed.
 * Reported: medians over all rounds' samples with min–max, and the ratio
 * scratch / incremental of the same run.
 *
 *   node dist/bench/policy-engine.js [--rounds 5] [--identities 5000] [--groups 100]
 *        [--policies 1000] [--batch 120] [--changes 20] [--new-identities 20]
 *        [--out bench/results/policy-engine.json]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot } from '../src/common/version.js';
import { podIdentityLabels, type LabelSet } from '../src/identity/labels.js';
import { RESERVED_IDENTITIES } from '../src/identity/reserved.js';
import { diffEntries, PolicyRepository, type EndpointInfo, type PolicyMapEntry } from '../src/policy/index.js';
import { arg } from './report.js';

const ROUNDS = Number(arg('--rounds', '5'));
const IDENTITIES = Number(arg('--identities', '5000'));
const GROUPS = Number(arg('--groups', '100'));
const POLICIES = Number(arg('--policies', '1000'));
const BATCH = Number(arg('--batch', '120'));
const CHANGES = Number(arg('--changes', '20'));
const NEW_IDS = Number(arg('--new-identities', '20'));
const OUT = arg('--out', join(repoRoot, 'bench', 'results', 'policy-engine.json'));
const NS = 'polbench';
const TARGETS = 4;

const progress = (msg: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${msg}\n`);
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const sorted = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: readonly number[]) => { const s = sorted(xs); return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };
const fmt = (x: number, d = 2) => x.toFixed(d);

const labelsOf = (i: number, group = i % GROUPS): LabelSet => podIdentityLabels({ namespace: NS, labels: { 'polbench-grp': `g${group}`, 'polbench-id': `i${i}` }, namespaceLabels: {} });
const IDS: [number, LabelSet][] = [...RESERVED_IDENTITIES.map((r): [number, LabelSet] => [r.id, r.labels])];
for (let i = 0; i < IDENTITIES; i++) IDS.push([20000 + i, labelsOf(i)]);

const scalePolicy = (j: number, group = j % GROUPS) => ({
  apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name: `bp-${String(j).padStart(4, '0')}`, namespace: NS },
  spec: {
    endpointSelector: { matchLabels: { app: `tgt-${j % TARGETS}` } },
    ingress: [{ fromEndpoints: [{ matchLabels: { 'polbench-grp': `g${group}` } }], toPorts: [{ ports: [{ port: String(10000 + j), protocol: 'TCP' }] }] }],
  },
});
const ENDPOINTS: EndpointInfo[] = Array.from({ length: TARGETS }, (_, t) => ({
  id: 100 + t, identity: 30000 + t, namespace: NS, namedPorts: [],
  labels: podIdentityLabels({ namespace: NS, labels: { app: `tgt-${t}` }, namespaceLabels: {} }),
}));

type Mode = 'scratch' | 'incremental';

/** One engine as the agent drives it: a repository, and what was written per endpoint. */
class Engine {
  readonly repo = new PolicyRepository();
  private readonly written = new Map<number, PolicyMapEntry[]>();
  writes = 0;
  constructor(readonly mode: Mode) {
    this.repo.setIdentities(IDS);
  }
  /** One flush of these endpoints: the policy computed and the writes worked out. */
  flush(eps: readonly EndpointInfo[]): void {
    for (const ep of eps) {
      if (this.mode === 'incremental') {
        const u = this.repo.updateEndpoint(ep);
        this.writes += u.upserts.length + u.deletes.length;
      } else {
        const p = this.repo.computeEndpoint(ep);
        const d = diffEntries(this.written.get(ep.id) ?? [], p.entries);
        this.written.set(ep.id, p.entries);
        this.writes += d.upserts.length + d.deletes.length;
      }
    }
  }
  count(ep: EndpointInfo): number {
    return this.mode === 'incremental' ? this.repo.updateEndpoint(ep).policy.entryCount : (this.written.get(ep.id)?.length ?? 0);
  }
}

interface RoundResult {
  round: number;
  mode: Mode;
  programBatchesCpuMs: number;
  programBatchesWallMs: number;
  programOneFlushCpuMs: number;
  entries: number[];
  changeMs: number[];
  identityMs: number[];
  identityAffected: number[];
}

function program(mode: Mode, batch: number): { engine: Engine; cpu: number; wall: number } {
  const engine = new Engine(mode);
  const c0 = cpuMs();
  const w0 = performance.now();
  for (let k = 0; k < POLICIES; k += batch) {
    for (let j = k; j < Math.min(POLICIES, k + batch); j++) engine.repo.upsertPolicy(scalePolicy(j));
    engine.flush(ENDPOINTS);
  }
  return { engine, cpu: cpuMs() - c0, wall: performance.now() - w0 };
}

function runArm(mode: Mode, round: number): RoundResult {
  // Once in one flush (all policies, then every endpoint), then as the lab delivers them.
  const oneCpu = program(mode, POLICIES).cpu;
  const { engine, cpu, wall } = program(mode, BATCH);
  const entries = ENDPOINTS.map((ep) => engine.count(ep));
  const tgt0 = ENDPOINTS[0]!;
  const changeMs: number[] = [];
  for (let c = 1; c <= CHANGES; c++) {
    const t0 = performance.now();
    engine.repo.upsertPolicy(scalePolicy(0, c % 2 ? 4 : 0));
    engine.flush([tgt0]);
    changeMs.push(performance.now() - t0);
  }
  const identityMs: number[] = [];
  const identityAffected: number[] = [];
  for (let k = 0; k < NEW_IDS; k++) {
    const id = 90000 + k;
    const group = (k * 7 + round) % GROUPS;
    // The endpoints whose policies name this group: bp-j with j mod GROUPS = group select tgt-(j mod 4).
    const affected = new Set<number>();
    for (let j = group; j < POLICIES; j += GROUPS) affected.add(j % TARGETS);
    const t0 = performance.now();
    engine.repo.upsertIdentity(id, labelsOf(IDENTITIES + k, group));
    // The agent marks every endpoint on an identity event.
    engine.flush(ENDPOINTS);
    identityMs.push((performance.now() - t0) / affected.size);
    identityAffected.push(affected.size);
    engine.repo.deleteIdentity(id);
    engine.flush(ENDPOINTS);
  }
  return { round, mode, programBatchesCpuMs: cpu, programBatchesWallMs: wall, programOneFlushCpuMs: oneCpu, entries, changeMs, identityMs, identityAffected };
}

function main(): void {
  const startedAt = new Date().toISOString();
  const results: RoundResult[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const order: Mode[] = round % 2 ? ['scratch', 'incremental'] : ['incremental', 'scratch'];
    for (const mode of order) {
      const r = runArm(mode, round);
      results.push(r);
      progress(`round ${round}/${ROUNDS} ${mode.padEnd(11)} program ${fmt(r.programBatchesCpuMs, 0)} ms CPU in ${Math.ceil(POLICIES / BATCH)} flushes (one flush ${fmt(r.programOneFlushCpuMs, 0)}), entries ${r.entries.join('/')}; change ${fmt(median(r.changeMs))} ms; new identity ${fmt(median(r.identityMs), 3)} ms per affected endpoint`);
    }
  }
  const of = (mode: Mode) => results.filter((r) => r.mode === mode);
  const stat = (xs: number[]) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
  const summary = Object.fromEntries((['scratch', 'incremental'] as const).map((m) => [m, {
    programBatchesCpuMs: stat(of(m).map((r) => r.programBatchesCpuMs)),
    programBatchesWallMs: stat(of(m).map((r) => r.programBatchesWallMs)),
    programOneFlushCpuMs: stat(of(m).map((r) => r.programOneFlushCpuMs)),
    changeMs: stat(of(m).flatMap((r) => r.changeMs)),
    identityMsPerAffected: stat(of(m).flatMap((r) => r.identityMs)),
    entries: of(m)[0]!.entries,
  }])) as Record<Mode, Record<'programBatchesCpuMs' | 'programBatchesWallMs' | 'programOneFlushCpuMs' | 'changeMs' | 'identityMsPerAffected', ReturnType<typeof stat>> & { entries: number[] }>;
  const s = summary.scratch, i = summary.incremental;
  const same = s.entries.every((n, k) => n === i.entries[k]);
  if (!same) throw new Error(`the arms disagree on the entries: ${s.entries.join('/')} vs ${i.entries.join('/')}`);
  const cell = (x: ReturnType<typeof stat>, d: number) => `${fmt(x.median, d)} (${fmt(x.min, d)}–${fmt(x.max, d)})`;
  const goals = {
    programCpuMs: { value: i.programBatchesCpuMs.median, goal: '<= 1000', met: i.programBatchesCpuMs.median <= 1000 },
    changeMs: { value: i.changeMs.median, goal: '<= 5', met: i.changeMs.median <= 5 },
    identityMsPerAffected: { value: i.identityMsPerAffected.median, goal: '<= 1', met: i.identityMsPerAffected.median <= 1 },
  };
  const rows = [
    '| step | from scratch (computeEndpoint + diffEntries) | incremental (updateEndpoint) | scratch / incremental | goal |',
    '|---|---|---|---|---|',
    `| ${POLICIES} policies × ${IDENTITIES} identities programmed, ${Math.ceil(POLICIES / BATCH)} flushes of ≤ ${BATCH} (CPU ms) | ${cell(s.programBatchesCpuMs, 0)} | ${cell(i.programBatchesCpuMs, 0)} | ${fmt(s.programBatchesCpuMs.median / i.programBatchesCpuMs.median, 1)} | ≤ 1000 ms: ${goals.programCpuMs.met ? 'met' : 'missed'} |`,
    `| … all in one flush (CPU ms) | ${cell(s.programOneFlushCpuMs, 0)} | ${cell(i.programOneFlushCpuMs, 0)} | ${fmt(s.programOneFlushCpuMs.median / i.programOneFlushCpuMs.median, 1)} | |`,
    `| one policy changed, tgt-0 (${i.entries[0]} entries) brought up to date (ms) | ${cell(s.changeMs, 2)} | ${cell(i.changeMs, 2)} | ${fmt(s.changeMs.median / i.changeMs.median, 0)} | ≤ 5 ms: ${goals.changeMs.met ? 'met' : 'missed'} |`,
    `| one new identity matching a selector, all ${TARGETS} endpoints brought up to date (ms per affected endpoint) | ${cell(s.identityMsPerAffected, 3)} | ${cell(i.identityMsPerAffected, 3)} | ${fmt(s.identityMsPerAffected.median / i.identityMsPerAffected.median, 0)} | ≤ 1 ms: ${goals.identityMsPerAffected.met ? 'met' : 'missed'} |`,
  ];
  process.stdout.write(rows.join('\n') + '\n');
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, JSON.stringify({
    date: startedAt,
    params: { rounds: ROUNDS, identities: IDENTITIES, groups: GROUPS, policies: POLICIES, batch: BATCH, changes: CHANGES, newIdentities: NEW_IDS, targets: TARGETS },
    env: { node: process.version, loadavgAtEnd: readFileSync('/proc/loadavg', 'utf8').trim() },
    goals, summary, results,
  }, null, 2) + '\n');
  progress(`wrote ${OUT}`);
}

main();

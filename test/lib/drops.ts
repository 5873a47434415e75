/**
 * The datapath's drops while a test makes traffic, from the real
 * `beeline monitor --type drop -o json` over every node of a lab: which
 * drop reasons (133 default deny, 181 explicit deny, …) each connection
 * got, so that a conformance suite can check the kind of drop, not only
 * that a probe failed.
 */
import { spawn } from 'node:child_process';
import { beelineBin } from './cli.js';
import { until } from './wait.js';

/** One drop as the monitor reported it. */
export interface SeenDrop {
  node: string;
  /** The endpoint whose policy or program dropped it (0: none, e.g. the uplink). */
  endpoint: number;
  src: string;
  dst: string;
  /** 'tcp', 'udp', 'icmp' or 'other'. */
  proto: string;
  /** Destination port (TCP/UDP); 0 otherwise. */
  dport: number;
  /** Cilium's drop reason code (133, 181, …). */
  reason: number;
  /** The policies the drop's cookie names, if any. */
  policies: string[];
}

/** The key drops are grouped by: `src>dst:dport/proto` (ICMP: port 0). */
export const dropKey = (src: string, dst: string, dport: number, proto: string) => `${src}>${dst}:${dport}/${proto}`;

interface DropJson {
  node: string;
  type: string;
  source: number;
  reasonCode: number;
  policies?: string[];
  packet?: { ipv4?: { src: string; dst: string }; tcp?: { dstPort: number }; udp?: { dstPort: number }; icmp?: unknown };
}

export interface DropWatch {
  /** Stops the monitor and returns every drop it saw. */
  stop(): Promise<SeenDrop[]>;
}

/** Starts the monitor for drops on every node of the lab and resolves once it listens on all of them. */
export async function watchDrops(env: Record<string, string>, nodes: number): Promise<DropWatch> {
  const child = spawn(beelineBin, ['monitor', '--type', 'drop', '-o', 'json'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const closed = new Promise<void>((r) => child.on('close', () => r()));
  await until(`beeline monitor listening on ${nodes} nodes`, () => {
    if (child.exitCode !== null) throw new Error(`monitor exited ${child.exitCode}: ${err}`);
    return err.includes(`Listening for events on ${nodes} node`);
  }, 20_000, 50);
  return {
    async stop() {
      child.kill('SIGINT');
      await closed;
      const drops: SeenDrop[] = [];
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        const j = JSON.parse(line) as DropJson;
        if (j.type !== 'drop' || !j.packet?.ipv4) continue;
        const p = j.packet;
        const proto = p.tcp ? 'tcp' : p.udp ? 'udp' : p.icmp ? 'icmp' : 'other';
        drops.push({ node: j.node, endpoint: j.source, src: p.ipv4!.src, dst: p.ipv4!.dst, proto, dport: p.tcp?.dstPort ?? p.udp?.dstPort ?? 0, reason: j.reasonCode, policies: j.policies ?? [] });
      }
      return drops;
    },
  };
}

/** Drop reasons per connection key (dropKey), sorted and de-duplicated. */
export function reasonsByKey(drops: readonly SeenDrop[]): Map<string, number[]> {
  const m = new Map<string, Set<number>>();
  for (const d of drops) {
    const k = dropKey(d.src, d.dst, d.dport, d.proto);
    let s = m.get(k);
    if (!s) m.set(k, (s = new Set()));
    s.add(d.reason);
  }
  return new Map([...m].map(([k, s]) => [k, [...s].sort((a, b) => a - b)]));
}

/** Runs fn with the monitor watching every node's drops; its result and the drops seen meanwhile. */
export async function dropsDuring<T>(env: Record<string, string>, nodes: number, fn: () => Promise<T>): Promise<{ result: T; drops: SeenDrop[] }> {
  const watch = await watchDrops(env, nodes);
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    await watch.stop();
    throw e;
  }
  return { result, drops: await watch.stop() };
}

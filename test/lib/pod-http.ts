/**
 * The test side of test/lib/pod-http-client.ts: runs the client inside a lab
 * pod (`beeline exec -i`, so it is in the pod's network namespace and cgroup)
 * and sends it commands, one promise per answer.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from '../../src/common/version.js';
import { beelineBin } from './cli.js';
import type { BatchCase, BatchResult, PodCommand, ResponseResult } from './pod-http-client.js';

export type { BatchCase, BatchResult, ResponseResult };
const CLIENT = join(repoRoot, 'dist', 'test', 'lib', 'pod-http-client.js');

type Without<T> = T extends unknown ? Omit<T, 'rid'> : never;

export class PodHttpClient {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting = new Map<number, (v: Record<string, unknown>) => void>();
  private rid = 0;
  private stderr = '';
  private exited = false;

  constructor(lab: string, namespace: string, pod: string) {
    const env = { ...process.env, BEELINE_LAB: lab };
    this.child = spawn(beelineBin, ['exec', '-i', '-n', namespace, pod, '--', process.execPath, CLIENT], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr = (this.stderr + d).slice(-4000)));
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      let m: Record<string, unknown>;
      try {
        m = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      const w = this.waiting.get(m.rid as number);
      this.waiting.delete(m.rid as number);
      w?.(m);
    });
    this.child.on('exit', (code) => {
      this.exited = true;
      for (const w of this.waiting.values()) w({ error: `pod client exited (${code}): ${this.stderr}` });
      this.waiting.clear();
    });
  }

  /** Sends one command; resolves with its answer (throws on an error answer). */
  async call<T = Record<string, unknown>>(cmd: Without<PodCommand>): Promise<T> {
    if (this.exited) throw new Error(`pod client exited: ${this.stderr}`);
    const rid = ++this.rid;
    const answer = await new Promise<Record<string, unknown>>((resolve) => {
      this.waiting.set(rid, resolve);
      this.child.stdin.write(`${JSON.stringify({ ...cmd, rid })}\n`);
    });
    if (typeof answer.error === 'string' && cmd.op !== 'open') throw new Error(`pod client ${cmd.op}: ${answer.error}`);
    return answer as T;
  }

  batch(host: string, port: number, cases: BatchCase[], concurrency = 1): Promise<BatchResult[]> {
    return this.call<{ results: BatchResult[] }>({ op: 'batch', host, port, cases, concurrency }).then((r) => r.results);
  }

  open(id: string, host: string, port: number): Promise<{ localPort?: number; error?: string }> {
    return this.call({ op: 'open', id, host, port });
  }

  request(id: string, data: string, timeoutMs = 10_000): Promise<ResponseResult> {
    return this.call<ResponseResult>({ op: 'request', id, data, timeoutMs });
  }

  state(id: string): Promise<{ closed: boolean }> {
    return this.call({ op: 'state', id });
  }

  poll(host: string, port: number, data: string, status: number, o: { everyMs: number; attemptMs: number; timeoutMs: number }): Promise<{ ok: boolean; at?: number; attempts: number; last?: string }> {
    return this.call({ op: 'poll', host, port, data, status, ...o });
  }

  /** Ends the client (its connections close) and waits for it. */
  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin.end();
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(t);
  }
}

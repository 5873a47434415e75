/**
 * A child process speaking one JSON object per line on stdout (the
 * privileged suites' "agent" children in a test namespace, servers in pods):
 * messages are kept until a test takes them.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

export type Msg = Record<string, unknown>;

/** A child speaking one JSON object per line; messages are kept until someone takes them. */
export class Child {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly #msgs: Msg[] = [];
  #wake: (() => void) | undefined;
  stderr = '';

  constructor(cmd: string, args: string[]) {
    this.proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      this.#msgs.push(JSON.parse(line) as Msg);
      this.#wake?.();
    });
    this.proc.on('exit', () => this.#wake?.());
  }

  /** Takes the first message matching pred (an {"event":"error"} rejects), waiting up to timeoutMs. */
  async take(pred: (m: Msg) => boolean, timeoutMs = 15_000): Promise<Msg> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const err = this.#msgs.findIndex((m) => m.event === 'error');
      if (err >= 0) throw new Error(`child: ${String(this.#msgs.splice(err, 1)[0]!.message)}`);
      const i = this.#msgs.findIndex(pred);
      if (i >= 0) return this.#msgs.splice(i, 1)[0]!;
      if (this.proc.exitCode !== null) throw new Error(`child exited (${this.proc.exitCode}): ${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`child: nothing matching in ${timeoutMs} ms; pending ${JSON.stringify(this.#msgs)}; stderr ${this.stderr}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** Messages of one event type waiting now (taken). */
  drain(event: string): Msg[] {
    const out = this.#msgs.filter((m) => m.event === event);
    for (const m of out) this.#msgs.splice(this.#msgs.indexOf(m), 1);
    return out;
  }

  async ask(cmd: Msg, reply: string): Promise<Msg> {
    this.proc.stdin.write(JSON.stringify(cmd) + '\n');
    return this.take((m) => m.event === reply);
  }

  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}

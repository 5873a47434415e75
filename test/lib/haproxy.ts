/**
 * Running HAProxy with a configuration from the node proxy's generator
 * (src/l7/http/haproxy.ts) outside the agent, for tests and benchmarks:
 * writing what renderHaproxy rendered, starting the process and waiting until
 * it listens, and a free port to give it. 127.0.0.1 or a private network
 * namespace only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { dirname } from 'node:path';
import type { RenderedHaproxy } from '../../src/l7/http/haproxy.js';

/** Writes the rendered files where the configuration names them, then the configuration at `configPath`; returns configPath. */
export function writeRenderedHaproxy(rendered: RenderedHaproxy, configPath: string): string {
  for (const f of rendered.files) {
    mkdirSync(dirname(f.path), { recursive: true });
    writeFileSync(f.path, f.content);
  }
  writeFileSync(configPath, rendered.config);
  return configPath;
}

/** A free TCP port on 127.0.0.1 (bound, then released for the caller to bind). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A started HAProxy and the tail of what it wrote to stderr. */
export interface RunningHaproxy {
  proc: ChildProcess;
  stderr(): string;
}

/**
 * Starts `haproxy <args>` and resolves once host:port accepts connections;
 * rejects, with HAProxy's stderr, when it exits first or nothing listens
 * within timeoutMs.
 */
export async function startHaproxy(args: string[], port: number, host = '127.0.0.1', timeoutMs = 10_000): Promise<RunningHaproxy> {
  const proc = spawn('haproxy', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => { err = (err + d).slice(-4000); });
  const t0 = Date.now();
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`haproxy exited ${proc.exitCode}: ${err}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, host);
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (up) return { proc, stderr: () => err };
    if (Date.now() - t0 > timeoutMs) throw new Error(`haproxy not accepting on ${host}:${port}: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Servers in a lab's outside world: `beeline serve` run in the world
 * namespace through `beeline lab exec`, each in its own process group so that
 * stopping it ends the server too (by pid, never by name).
 */
import { spawn } from 'node:child_process';
import { beelineBin } from './cli.js';

export class WorldServers {
  private readonly pids: number[] = [];

  constructor(private readonly env: Record<string, string>) {}

  /** Starts `beeline serve ARGS… --address ADDRESS` in the world namespace. */
  start(address: string, args: string[], name = 'world'): void {
    const child = spawn(beelineBin, ['lab', 'exec', 'world', '--', beelineBin, 'serve', ...args, '--address', address, '--name', name], {
      env: { ...process.env, ...this.env },
      stdio: 'ignore',
      detached: true,
    });
    this.pids.push(child.pid!);
    child.unref();
  }

  /** Ends every server started here (their process groups). */
  stop(): void {
    for (const pid of this.pids.splice(0)) {
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
  }
}

/**
 * One agent per node: the agent holds an exclusive flock on `agent.lock` in
 * its state directory from before it touches anything (the datapath, the
 * endpoints file, IPAM, its socket) until it has stopped. Checking the socket
 * alone is not enough: two agents started at the same instant both find no
 * one answering, and both go on to program the node.
 *
 * The kernel drops the lock when its holder dies, however it dies, so a
 * crashed agent never blocks the next one (no stale lock to clean up). The
 * file itself is never removed: an agent that unlinked it on its way out
 * would let the next two lock two different files. No child process of the
 * agent (ip, tc) inherits it (src/datapath/native/flock.ts).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AgentLockError, AgentRunningError } from '../common/errors.js';
import { tryLockFile, type FileLock } from '../datapath/native/flock.js';

/** The lock file's name in the agent's state directory. */
export const AGENT_LOCK_FILE = 'agent.lock';

export class AgentLock {
  private constructor(
    readonly path: string,
    private readonly lock: FileLock,
  ) {}

  /**
   * Takes the node's lock, or throws AgentRunningError naming the agent that
   * holds it (AgentLockError when the file cannot be opened or locked at all).
   * The holder's pid is written into the file, for people reading it.
   */
  static acquire(stateDir: string): AgentLock {
    const path = join(stateDir, AGENT_LOCK_FILE);
    let r: ReturnType<typeof tryLockFile>;
    try {
      mkdirSync(stateDir, { recursive: true, mode: 0o700 });
      r = tryLockFile(path, `${process.pid}\n`);
    } catch (e) {
      throw new AgentLockError(`agent lock ${path}: ${(e as Error).message}`);
    }
    if ('heldBy' in r) throw new AgentRunningError(`agent lock ${path}: held by ${r.heldBy ? `pid ${r.heldBy}` : 'another process'}: another agent runs for this node`);
    return new AgentLock(path, r.lock);
  }

  /** Drops the lock (the agent has stopped); idempotent. */
  release(): void {
    this.lock.release();
  }
}

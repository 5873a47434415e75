/** Which network namespace this process is in: the guard every traffic- or attach-making path consults. */
import { readlinkSync } from 'node:fs';

/** The network namespace of a process, as `net:[inode]`. */
export function netnsOf(pid: number | 'self'): string {
  return readlinkSync(`/proc/${pid}/ns/net`);
}

/**
 * The machine's root network namespace: that of kthreadd (pid 2), since kernel
 * threads always live in the initial namespace (pid 1's may be unreadable, as
 * under some sandboxes). Undefined when neither can be read.
 */
function rootNetns(): string | undefined {
  for (const pid of [2, 1]) {
    try {
      return netnsOf(pid);
    } catch {
      /* try the next */
    }
  }
  return undefined;
}

/** True when this process runs in the machine's root network namespace; when unsure, true (the safe answer). */
export function inRootNetns(): boolean {
  const root = rootNetns();
  try {
    return root === undefined || netnsOf('self') === root;
  } catch {
    return true;
  }
}

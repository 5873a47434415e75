/** Which network namespace this process is in: the guard every traffic- or attach-making path consults. */
import { readFileSync, readlinkSync } from 'node:fs';

/** The network namespace of a process, as `net:[inode]`. */
export function netnsOf(pid: number | 'self'): string {
  return readlinkSync(`/proc/${pid}/ns/net`);
}

/** init_net's inode number, fixed by the kernel (PROC_NET_INIT_INO, include/linux/proc_ns.h). */
export const INIT_NETNS = 'net:[4026531833]';

/**
 * The machine's root network namespace: that of kthreadd (pid 2), since kernel
 * threads always live in the initial namespace, when this process sees the
 * machine's PID namespace; else (a container's own PID namespace, where pid 2
 * is one of its processes, or a sandbox that hides it) init_net's fixed inode.
 */
function rootNetns(): string {
  try {
    const stat = readFileSync('/proc/2/stat', 'utf8');
    // comm (field 2) in parens, then state, then ppid: kthreadd's parent is 0.
    const kthreadd = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === 'kthreadd' && stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] === '0';
    if (kthreadd) return netnsOf(2);
  } catch {
    /* hidden */
  }
  return INIT_NETNS;
}

/** True when this process runs in the machine's root network namespace; when unsure, true (the safe answer). */
export function inRootNetns(): boolean {
  try {
    const self = netnsOf('self');
    return self === rootNetns() || self === INIT_NETNS;
  } catch {
    return true;
  }
}

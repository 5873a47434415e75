/**
 * Which network namespace this process is in, and the one decision every
 * path that changes a namespace (links, addresses, routes, tc attachments,
 * the CNI plugin's veths) takes about the machine's root one: refused, unless
 * the agent runs in host-netns mode (`beeline agent --host-netns`, a real
 * node's agent). Nothing in the lab, the tests or the demo sets that mode:
 * there a node namespace plays the host's, through the same code path.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { HostSafetyError } from './errors.js';

/** The network namespace of a process, as `net:[inode]`. */
export function netnsOf(pid: number | 'self'): string {
  return readlinkSync(`/proc/${pid}/ns/net`);
}

/** This process's network namespace as `net:[inode]`; empty when it cannot be read. */
export function ownNetns(): string {
  try {
    return netnsOf('self');
  } catch {
    return '';
  }
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

/** True when `id` (`net:[inode]`, as netnsOf gives it) is the machine's root network namespace. */
export function isRootNetns(id: string): boolean {
  return id === INIT_NETNS || id === rootNetns();
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

/** The two inputs of the root-namespace decision. */
export interface NetnsMode {
  /** The namespace about to be changed is the machine's root network namespace. */
  inRootNetns: boolean;
  /**
   * Host-netns mode: the agent was started with --host-netns (for the CNI plugin: the agent it
   * talks to says so and runs in the plugin's own namespace).
   */
  hostNetns: boolean;
}

/** A refusal: the message (after `what: `) and the hint naming the switch. */
export interface NetnsRefusal {
  message: string;
  hint: string;
}

/**
 * THE root-namespace decision: a namespace that is not the root one may be
 * changed; the root one only in host-netns mode. Undefined when allowed.
 */
export function rootNetnsRefusal(what: string, mode: NetnsMode): NetnsRefusal | undefined {
  if (!mode.inRootNetns || mode.hostNetns) return undefined;
  return {
    message: `${what}: refusing to change the machine's root network namespace`,
    hint: "run it inside a node's namespace, as the lab does; on a real node the agent runs there only when started with --host-netns",
  };
}

let hostNetnsMode = false;

/** Turns host-netns mode on for this process. Only `beeline agent --host-netns` (or its config's hostNetns) calls it. */
export function enableHostNetns(): void {
  hostNetnsMode = true;
}

/** Whether this process runs in host-netns mode. */
export function hostNetnsEnabled(): boolean {
  return hostNetnsMode;
}

/** This process's mode: its namespace and whether host-netns mode is on. */
export function currentNetnsMode(): NetnsMode {
  return { inRootNetns: inRootNetns(), hostNetns: hostNetnsMode };
}

/** Throws HostSafetyError when rootNetnsRefusal refuses (by default for this process, as it is). */
export function assertMayChangeNetns(what: string, mode: NetnsMode = currentNetnsMode()): void {
  const r = rootNetnsRefusal(what, mode);
  if (r) throw new HostSafetyError(r.message, r.hint);
}

/**
 * The links the plugin makes, behind one interface (PodLinks) so the plugin's
 * logic is tested without a kernel. IpLinks is the real one: `ip` in the
 * plugin's own namespace (the node's: a runtime runs CNI plugins there) and
 * `nsenter --net=CNI_NETNS ip …` inside the pod's, since CNI_NETNS is a path
 * and iproute2 6.1 takes only names or pids. The veth pair is created from
 * inside the pod namespace with its peer placed straight into the node's (by
 * the plugin's pid), so neither end ever exists anywhere else.
 *
 * Host safety: IpLinks refuses every change of the node's side while it
 * acts in the machine's root network namespace, unless this process runs in
 * host-netns mode (the agent's --host-netns: rootNetnsRefusal decides), and
 * any CNI_NETNS that is the root or the plugin's own namespace, always.
 */
import { statSync } from 'node:fs';
import { CniError } from '../common/errors.js';
import { run, type RunResult } from '../common/exec.js';
import { hostNetnsEnabled, inRootNetns, rootNetnsRefusal } from '../common/netns.js';
import { CniCode } from './types.js';

export interface LinkInfo {
  name: string;
  ifindex: number;
  /** ifindex of the veth peer (in the other namespace). */
  peerIfindex?: number;
  mac: string;
  mtu: number;
  /** Administratively up (IFF_UP). */
  up: boolean;
  /** The link's kind (`veth`, `vxlan`, …; undefined for a physical device), when it was read with details. */
  kind?: string;
}

/** What a CNI_NETNS path refers to. */
export type NetnsKind = 'pod' | 'missing' | 'unreadable' | 'not-a-netns' | 'root' | 'self';

export interface PodLinks {
  /** Classifies CNI_NETNS: only 'pod' may be changed. */
  classifyNetns(path: string): NetnsKind;
  /** True when the plugin itself runs in the machine's root network namespace. */
  inRootNetns(): boolean;
  /** A link in the plugin's (node's) namespace. */
  hostLink(name: string): LinkInfo | undefined;
  podLink(netns: string, name: string): LinkInfo | undefined;
  /** IPv4 addresses on a pod interface, as `a.b.c.d/len`. */
  podAddresses(netns: string, name: string): string[];
  /** Creates `podIf` in `netns` with its peer `hostIf` in the plugin's namespace. */
  createVeth(netns: string, podIf: string, hostIf: string): void;
  /**
   * Address /32, MTU, the MAC address when one is asked for, link and lo up, the gateway route on-link and the default route via it;
   * returns the pod interface as configured (read in the same `ip` run: one exec less per ADD).
   */
  configurePod(netns: string, podIf: string, ip: string, gateway: string, mtu?: number, mac?: string): LinkInfo;
  /**
   * createVeth and configurePod in one `ip` run (one exec less per ADD). Throws VethNotCreated
   * when the veth itself could not be made (nothing was made); any later failure leaves the veth.
   */
  addPodVeth?(netns: string, podIf: string, hostIf: string, ip: string, gateway: string, mtu?: number, mac?: string): LinkInfo;
  /** MTU and up; returns the host interface as configured (same `ip` run). */
  configureHost(hostIf: string, mtu?: number): LinkInfo;
  /** Deletes a link of the plugin's namespace (with it, its veth peer). False when it was not there. */
  deleteHostLink(name: string): boolean;
  deletePodLink(netns: string, name: string): boolean;
}

interface IpLinkJson {
  ifindex: number;
  link_index?: number;
  ifname: string;
  flags: string[];
  mtu: number;
  address: string;
  /** With `ip -d`. */
  linkinfo?: { info_kind?: string };
}

/** What iproute2 says when the named link does not exist. */
const NO_DEVICE = /Cannot find device|does not exist/;

/** The veth pair was not created (a name taken, …): nothing was made. */
export class VethNotCreated extends CniError {}

const ifaceError = (msg: string, details?: string) => new CniError(CniCode.Interface, msg, { details });

function nsId(path: string): { dev: number; ino: number } | 'missing' | 'unreadable' {
  try {
    const s = statSync(path);
    return { dev: s.dev, ino: s.ino };
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable';
  }
}

export class IpLinks implements PodLinks {
  /** The node's namespace: where the host ends live; `/proc/self/ns/net` unless told. */
  private readonly nodeNs: string;
  /** Where `ip link … netns X` puts the host end: this process's pid, or the node namespace's path. */
  private readonly peerTarget: string;
  /** Runs a host-side `ip` here, or entered into the node namespace. */
  private readonly hostCmd: (args: string[]) => string[];

  /**
   * `nodeNetns`: a namespace path to treat as the node's instead of this process's own (for a
   * test's fake agent, which serves from the test process while the links belong to a test node).
   */
  constructor(opts: { nodeNetns?: string } = {}) {
    const node = opts.nodeNetns;
    this.nodeNs = node ?? '/proc/self/ns/net';
    this.peerTarget = node ?? String(process.pid);
    this.hostCmd = node ? (args) => ['nsenter', `--net=${node}`, ...args] : (args) => args;
  }

  classifyNetns(path: string): NetnsKind {
    const target = nsId(path);
    if (typeof target === 'string') return target;
    const self = nsId(this.nodeNs);
    // Every network namespace file lives on nsfs; anything on another filesystem is not one.
    if (typeof self === 'string' || target.dev !== self.dev) return 'not-a-netns';
    if (target.ino === self.ino) return 'self';
    // The root namespace is that of kernel threads (pid 2; pid 1's may be unreadable under a sandbox).
    for (const pid of [2, 1]) {
      const root = nsId(`/proc/${pid}/ns/net`);
      if (typeof root !== 'string') return root.ino === target.ino ? 'root' : 'pod';
    }
    return 'root'; // cannot tell: the safe answer
  }

  inRootNetns(): boolean {
    if (this.nodeNs === '/proc/self/ns/net') return inRootNetns();
    const node = nsId(this.nodeNs);
    if (typeof node === 'string') return true; // cannot tell: the safe answer
    for (const pid of [2, 1]) {
      const root = nsId(`/proc/${pid}/ns/net`);
      if (typeof root !== 'string') return root.ino === node.ino;
    }
    return true;
  }

  hostLink(name: string): LinkInfo | undefined {
    return this.show(this.hostCmd(['ip', '-d', '-j', 'link', 'show', 'dev', name]));
  }

  podLink(netns: string, name: string): LinkInfo | undefined {
    this.guardPod(netns);
    return this.show(['nsenter', `--net=${netns}`, 'ip', '-d', '-j', 'link', 'show', 'dev', name]);
  }

  podAddresses(netns: string, name: string): string[] {
    this.guardPod(netns);
    const r = this.exec(['nsenter', `--net=${netns}`, 'ip', '-j', '-4', 'addr', 'show', 'dev', name], `list addresses of ${name} in ${netns}`, true);
    if (r.code !== 0) return [];
    const rows = JSON.parse(r.stdout || '[]') as { addr_info?: { family: string; local: string; prefixlen: number }[] }[];
    return rows.flatMap((row) => (row.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`));
  }

  createVeth(netns: string, podIf: string, hostIf: string): void {
    this.guardHost();
    this.guardPod(netns);
    this.exec(
      ['nsenter', `--net=${netns}`, 'ip', 'link', 'add', podIf, 'type', 'veth', 'peer', 'name', hostIf, 'netns', this.peerTarget],
      `create veth ${podIf} in ${netns} with peer ${hostIf}`,
    );
  }

  addPodVeth(netns: string, podIf: string, hostIf: string, ip: string, gateway: string, mtu?: number, mac?: string): LinkInfo {
    this.guardHost();
    this.guardPod(netns);
    const batch = [`link add ${podIf} type veth peer name ${hostIf} netns ${this.peerTarget}`, ...this.podBatch(podIf, ip, gateway, mtu, mac)];
    const op = `create veth ${podIf} in ${netns} with peer ${hostIf}, configure it (${ip}/32 via ${gateway})`;
    const r = this.exec(['nsenter', `--net=${netns}`, 'ip', '-j', '-batch', '-'], op, true, batch.join('\n') + '\n');
    if (r.code !== 0) {
      // ip -batch stops at the first failing line and names it: line 1 is the veth itself.
      const E = /Command failed -:1$/m.test(r.stderr) ? VethNotCreated : CniError;
      const lines = r.stderr.trim().split('\n').filter((l) => !/^Command failed/.test(l));
      throw new E(CniCode.Interface, `${op}: ${lines.pop() || `exit status ${r.code}`}`, { details: r.stderr.trim() });
    }
    return this.shown(r, op);
  }

  private podBatch(podIf: string, ip: string, gateway: string, mtu?: number, mac?: string): string[] {
    return [
      `addr add ${ip}/32 dev ${podIf}`,
      ...(mtu ? [`link set dev ${podIf} mtu ${mtu}`] : []),
      // Set while the link is still down; requestedMac() checked its form.
      ...(mac ? [`link set dev ${podIf} address ${mac}`] : []),
      `link set dev ${podIf} up`,
      'link set dev lo up',
      `route add ${gateway} dev ${podIf} scope link`,
      `route add default via ${gateway} dev ${podIf}`,
      `link show dev ${podIf}`,
    ];
  }

  configurePod(netns: string, podIf: string, ip: string, gateway: string, mtu?: number, mac?: string): LinkInfo {
    this.guardPod(netns);
    const batch = this.podBatch(podIf, ip, gateway, mtu, mac);
    const op = `configure ${podIf} in ${netns} (${ip}/32 via ${gateway})`;
    return this.shown(this.exec(['nsenter', `--net=${netns}`, 'ip', '-j', '-batch', '-'], op, false, batch.join('\n') + '\n'), op);
  }

  configureHost(hostIf: string, mtu?: number): LinkInfo {
    this.guardHost();
    const batch = [...(mtu ? [`link set dev ${hostIf} mtu ${mtu}`] : []), `link set dev ${hostIf} up`, `link show dev ${hostIf}`];
    const op = `bring up ${hostIf}`;
    return this.shown(this.exec(this.hostCmd(['ip', '-j', '-batch', '-']), op, false, batch.join('\n') + '\n'), op);
  }

  // Deletes straight away (one `ip` run per DEL, not two): a link that is not there is the
  // kernel's "Cannot find device", and only another failure is looked into.
  deleteHostLink(name: string): boolean {
    this.guardHost();
    const r = this.exec(this.hostCmd(['ip', 'link', 'del', 'dev', name]), `delete ${name}`, true);
    if (r.code === 0) return true;
    if (NO_DEVICE.test(r.stderr)) return false;
    if (this.hostLink(name)) throw ifaceError(`delete ${name}: ${lastLine(r)}`);
    return false;
  }

  deletePodLink(netns: string, name: string): boolean {
    this.guardPod(netns);
    const r = this.exec(['nsenter', `--net=${netns}`, 'ip', 'link', 'del', 'dev', name], `delete ${name} in ${netns}`, true);
    if (r.code === 0) return true;
    if (NO_DEVICE.test(r.stderr)) return false;
    if (this.podLink(netns, name)) throw ifaceError(`delete ${name} in ${netns}: ${lastLine(r)}`);
    return false;
  }

  private show(cmd: string[]): LinkInfo | undefined {
    const r = this.exec(cmd, cmd.join(' '), true);
    if (r.code !== 0) {
      if (/does not exist/.test(r.stderr)) return undefined;
      throw ifaceError(`${cmd.join(' ')}: ${lastLine(r)}`);
    }
    return linkInfo((JSON.parse(r.stdout || '[]') as IpLinkJson[])[0]);
  }

  /** The link a batch ending in `link show` printed (its last JSON line; the other commands print nothing). */
  private shown(r: RunResult, operation: string): LinkInfo {
    const last = r.stdout.trim().split('\n').pop() ?? '';
    let info: LinkInfo | undefined;
    try {
      info = linkInfo((JSON.parse(last || '[]') as IpLinkJson[])[0]);
    } catch {
      /* reported below */
    }
    if (!info) throw ifaceError(`${operation}: ip printed no link`, r.stdout.slice(0, 200));
    return info;
  }

  private exec(cmd: string[], operation: string, allowFailure = false, input?: string): RunResult {
    try {
      const r = run(cmd[0]!, cmd.slice(1), { operation, allowFailure: true, input, timeoutMs: 20_000 });
      if (r.code !== 0 && !allowFailure) throw ifaceError(`${operation}: ${lastLine(r)}`, r.stderr.trim());
      return r;
    } catch (e) {
      if (e instanceof CniError) throw e;
      throw ifaceError(`${operation}: ${(e as Error).message}`);
    }
  }

  private guardHost(): void {
    const r = rootNetnsRefusal('beeline-cni: change links', { inRootNetns: this.inRootNetns(), hostNetns: hostNetnsEnabled() });
    if (r) throw new CniError(CniCode.HostSafety, r.message, { hint: r.hint });
  }

  private guardPod(netns: string): void {
    const kind = this.classifyNetns(netns);
    if (kind === 'root' || kind === 'self') {
      throw new CniError(CniCode.HostSafety, `beeline-cni: refusing to work inside ${netns}: it is the ${kind === 'root' ? "machine's root" : "plugin's own"} network namespace`);
    }
  }
}

function linkInfo(j: IpLinkJson | undefined): LinkInfo | undefined {
  if (!j) return undefined;
  return {
    name: j.ifname,
    ifindex: j.ifindex,
    ...(j.link_index !== undefined ? { peerIfindex: j.link_index } : {}),
    mac: j.address,
    mtu: j.mtu,
    up: j.flags.includes('UP'),
    ...(j.linkinfo?.info_kind ? { kind: j.linkinfo.info_kind } : {}),
  };
}

function lastLine(r: RunResult): string {
  return r.stderr.trim().split('\n').pop() || `exit status ${r.code}`;
}

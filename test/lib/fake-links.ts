/** PodLinks in memory, for tests of the CNI plugin and the agent without a kernel. */
import { CniError } from '../../src/common/errors.js';
import type { LinkInfo, NetnsKind, PodLinks } from '../../src/cni/link.js';

/** Links in memory: the node namespace's links and each pod namespace's. */
export class FakeLinks implements PodLinks {
  host = new Map<string, LinkInfo>();
  pods = new Map<string, Map<string, LinkInfo & { addrs: string[] }>>();
  root = false;
  failOn: string | undefined;
  ops: string[] = [];
  private ifindex = 10;
  private macs = 0;

  addPod(netns: string) {
    this.pods.set(netns, new Map());
  }
  classifyNetns(path: string): NetnsKind {
    if (path === '/proc/1/ns/net') return 'root';
    if (path === '/proc/self/ns/net') return 'self';
    return this.pods.has(path) ? 'pod' : 'missing';
  }
  inRootNetns() {
    return this.root;
  }
  hostLink(name: string) {
    return this.host.get(name);
  }
  podLink(netns: string, name: string) {
    return this.pods.get(netns)?.get(name);
  }
  podAddresses(netns: string, name: string) {
    return this.pods.get(netns)?.get(name)?.addrs ?? [];
  }
  private step(op: string) {
    this.ops.push(op);
    if (this.failOn === op) throw new CniError(102, `${op}: injected failure`);
  }
  private mac() {
    return `02:00:00:00:00:${(++this.macs).toString(16).padStart(2, '0')}`;
  }
  createVeth(netns: string, podIf: string, hostIf: string) {
    this.step('createVeth');
    // As the kernel: a name taken on either side fails the whole request, and nothing is made.
    if (this.pods.get(netns)!.has(podIf) || this.host.has(hostIf)) throw new CniError(102, `create veth ${podIf} in ${netns} with peer ${hostIf}: RTNETLINK answers: File exists`);
    const p = this.ifindex++;
    const h = this.ifindex++;
    this.pods.get(netns)!.set(podIf, { name: podIf, ifindex: p, peerIfindex: h, mac: this.mac(), mtu: 1500, up: false, kind: 'veth', addrs: [] });
    this.host.set(hostIf, { name: hostIf, ifindex: h, peerIfindex: p, mac: this.mac(), mtu: 1500, up: false, kind: 'veth' });
  }
  configurePod(netns: string, podIf: string, ip: string, _gw: string, mtu?: number, mac?: string) {
    this.step('configurePod');
    const l = this.pods.get(netns)!.get(podIf)!;
    l.addrs.push(`${ip}/32`);
    l.up = true;
    if (mtu) l.mtu = mtu;
    if (mac) l.mac = mac;
    return l;
  }
  configureHost(hostIf: string, mtu?: number) {
    this.step('configureHost');
    const l = this.host.get(hostIf)!;
    l.up = true;
    if (mtu) l.mtu = mtu;
    return l;
  }
  deleteHostLink(name: string) {
    const l = this.host.get(name);
    if (!l) return false;
    this.host.delete(name);
    for (const links of this.pods.values()) for (const [n, p] of links) if (p.ifindex === l.peerIfindex) links.delete(n);
    return true;
  }
  deletePodLink(netns: string, name: string) {
    return this.pods.get(netns)?.delete(name) ?? false;
  }
}

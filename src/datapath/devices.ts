/**
 * The node's network configuration around the BPF programs: the VXLAN
 * device of tunnel mode, routes to local endpoints (for traffic the node's
 * own stack sends to pods), and routes to other nodes' pod CIDRs in native
 * routing mode. It runs inside the node's network namespace (the agent's),
 * and refuses the machine's root namespace unless the agent runs in
 * host-netns mode (assertMayChangeNetns).
 */
import { run } from '../common/exec.js';
import { DeviceError } from '../common/errors.js';
import { assertMayChangeNetns } from '../common/netns.js';
import { BlProxyConsts } from './generated/abi.js';

/** Name of the collect-metadata VXLAN device (Cilium's cilium_vxlan). */
export const TUNNEL_DEVICE = 'bl_vxlan';
/** VXLAN's UDP port as Cilium uses it (the IANA 4789 clashes with other overlays). */
export const TUNNEL_PORT = 8472;
/** Outer IPv4 + UDP + VXLAN + inner Ethernet headers: what a pod's MTU gives up in tunnel mode. */
export const TUNNEL_OVERHEAD = 50;

function ipHere(args: string[], operation: string, allowFailure = false) {
  assertMayChangeNetns(operation);
  return run('ip', args, { operation, allowFailure });
}

export function linkExists(name: string): boolean {
  return ipHere(['link', 'show', 'dev', name], `look up ${name}`, true).code === 0;
}

/** MTU of a device in this namespace. */
export function linkMtu(name: string): number {
  const out = ipHere(['-o', 'link', 'show', 'dev', name], `look up ${name}`).stdout;
  const m = / mtu (\d+)/.exec(out);
  return m ? Number(m[1]) : 1500;
}

/** Creates (or keeps) the VXLAN collect-metadata device and brings it up. */
export function ensureTunnelDevice(): void {
  if (!linkExists(TUNNEL_DEVICE)) {
    ipHere(['link', 'add', TUNNEL_DEVICE, 'type', 'vxlan', 'external', 'dstport', String(TUNNEL_PORT)], `create ${TUNNEL_DEVICE}`);
  }
  ipHere(['link', 'set', TUNNEL_DEVICE, 'up'], `bring up ${TUNNEL_DEVICE}`);
}

/** Route to one local endpoint through its host-side veth. */
export function routeEndpoint(ip: string, hostIfname: string): void {
  ipHere(['route', 'replace', `${ip}/32`, 'dev', hostIfname, 'scope', 'link'], `route ${ip} via ${hostIfname}`);
}

export function unrouteEndpoint(ip: string): void {
  ipHere(['route', 'del', `${ip}/32`], `remove route to ${ip}`, true);
}

/** Another node's pod CIDR via that node's address on the uplink (native routing: for everything; tunnel mode: the node's own packets, which bl_to_netdev encapsulates). */
export function routeNodeCIDR(podCIDR: string, nodeIP: string, uplink: string): void {
  ipHere(['route', 'replace', podCIDR, 'via', nodeIP, 'dev', uplink], `route ${podCIDR} via ${nodeIP}`);
}

export function unrouteNodeCIDR(podCIDR: string): void {
  ipHere(['route', 'del', podCIDR], `remove route to ${podCIDR}`, true);
}

/**
 * Local delivery of what the datapath hands to the node's L7 proxy (abi/proxy.h):
 * packets marked BL_PROXY_MARK are routed by a table whose default route is
 * local, so the proxy's transparent socket receives them although their
 * destination is a pod's address. Idempotent.
 */
export function ensureProxyRouting(): void {
  const mark = `0x${BlProxyConsts.BL_PROXY_MARK.toString(16)}/0x${BlProxyConsts.BL_PROXY_MARK_MASK.toString(16)}`;
  const table = String(BlProxyConsts.BL_PROXY_ROUTE_TABLE);
  const pref = String(BlProxyConsts.BL_PROXY_RULE_PREF);
  if (!ipHere(['rule', 'show', 'pref', pref], 'list the proxy routing rule').stdout.includes(`lookup ${table}`)) {
    ipHere(['rule', 'add', 'fwmark', mark, 'lookup', table, 'pref', pref], 'add the proxy routing rule');
  }
  ipHere(['route', 'replace', 'local', '0.0.0.0/0', 'dev', 'lo', 'table', table], 'add the proxy routing table\'s local route');
}

/** MAC address of a device in this namespace. */
export function linkMac(name: string): string {
  const out = ipHere(['-o', 'link', 'show', 'dev', name], `look up ${name}`).stdout;
  const m = /link\/ether ([0-9a-f:]{17})/.exec(out);
  if (!m) throw new DeviceError(`look up ${name}: no Ethernet address`);
  return m[1]!;
}

/**
 * Gives the node its router address, the pods' gateway, so that pods can
 * reach the node at their gateway (ping it, talk to node-local services) the
 * way they can on any router. Cilium puts it on cilium_host; a dummy device
 * needs a kernel module not every kernel has, so it goes on the node
 * namespace's loopback, which every namespace has.
 */
export function ensureRouterAddress(routerIP: string): void {
  ipHere(['addr', 'replace', `${routerIP}/32`, 'dev', 'lo'], `address ${routerIP} on lo`);
}

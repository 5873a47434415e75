/**
 * Shared pieces of the privileged suites' child processes that play the
 * agent inside a test's "node" namespace (datapath-pod-veth-child.ts,
 * proxy-udp-child.ts, datapath-tc-child.ts): one JSON line a message on
 * stdout, the host-side veth's ifindex and MAC, the pod datapath's node
 * configuration, the veth attachments, and the line-command loop.
 *
 * Host safety: these run only inside the test's namespaces (the children
 * refuse the root namespace before using any of them).
 */
import { createInterface, type Interface } from 'node:readline';
import { run } from '../../src/common/exec.js';
import {
  BL_CT4_KEY_CODEC,
  BL_CT_ENTRY_CODEC,
  BL_DATAPATH_CONFIG_CODEC,
  BL_ENDPOINT_INFO_CODEC,
  BL_ENDPOINT_KEY_CODEC,
  BlConfigFlags,
  BlRoutingMode,
  BlTraceAggregation,
} from '../../src/datapath/generated/abi.js';
import { routeEndpoint } from '../../src/datapath/devices.js';
import { endpointPolicyFlags } from '../../src/datapath/policy.js';
import { Datapath, type TcAttachment } from '../../src/datapath/loader.js';
import { ip4Num, ip4Str, macBytes } from './datapath-support.js';

/** Writes one message as a JSON line on stdout (what the test's Child reads). */
export const say = (msg: Record<string, unknown>): void => {
  process.stdout.write(JSON.stringify(msg) + '\n');
};

/** ifindex and MAC of a device in this (the node's) namespace. */
export function link(name: string): { ifindex: number; address: string } {
  const [l] = JSON.parse(run('ip', ['-j', 'link', 'show', 'dev', name]).stdout) as Array<{ ifindex: number; address: string }>;
  if (!l) throw new Error(`no device ${name}`);
  return l;
}

/** The node's pod CIDR and router as the children are given them. */
export interface PodNodeSpec {
  object: string;
  pinDir: string;
  podCidr: string;
  prefixlen: number;
  router: string;
}

/**
 * Opens the pod datapath with a pin directory and writes bl_config for a
 * node in native routing (trace and drop notifications, no aggregation),
 * bl_ct4 sized 4096 then the other maps' sizes given, and loads it.
 */
export function loadPodDatapath(spec: PodNodeSpec, maxEntries: Record<string, number> = {}): Datapath {
  const dp = Datapath.open(spec.object, { pinDir: spec.pinDir });
  dp.configure(
    'bl_config',
    BL_DATAPATH_CONFIG_CODEC.encode({
      node_id: 1,
      flags: BlConfigFlags.BL_CFG_TRACE_NOTIFY | BlConfigFlags.BL_CFG_DROP_NOTIFY,
      host_endpoint_id: 0,
      trace_capture_len: 128,
      trace_aggregation: BlTraceAggregation.BL_TRACE_AGG_NONE,
      routing_mode: BlRoutingMode.BL_ROUTING_NATIVE,
      pod_cidr4_prefixlen: spec.prefixlen,
      node_ip4: 0,
      router_ip4: ip4Num(spec.router),
      pod_cidr4: ip4Num(spec.podCidr),
      tunnel_ifindex: 0,
      tunnel_vni: 0,
      mtls_out_port: 0,
    }),
  );
  dp.setMaxEntries('bl_ct4', 4096);
  for (const [map, n] of Object.entries(maxEntries)) dp.setMaxEntries(map, n);
  dp.load();
  return dp;
}

/**
 * Writes bl_lxc for the pods (their host-side veth's ifindex and MAC, egress
 * policy enforced for `client` only) and routes each pod's address to its
 * veth, as the agent does for an endpoint.
 */
export function plugEndpoints(dp: Datapath, pods: ReadonlyArray<PodEndpoint>, client: PodEndpoint): void {
  const lxc = dp.map('bl_lxc', BL_ENDPOINT_KEY_CODEC, BL_ENDPOINT_INFO_CODEC);
  for (const pod of pods) {
    const host = link(pod.hostIf);
    lxc.set(
      { ip4: ip4Num(pod.ip) },
      {
        ifindex: host.ifindex,
        ep_id: pod.id,
        flags: pod === client ? endpointPolicyFlags({ ingress: false, egress: true }) : 0,
        mac: macBytes(pod.mac),
        node_mac: macBytes(host.address),
        sec_identity: pod.identity,
      },
    );
    routeEndpoint(pod.ip, pod.hostIf);
  }
}

/** A pod as the children are given it. */
export interface PodEndpoint {
  ip: string;
  mac: string;
  hostIf: string;
  id: number;
  identity: number;
}

/** bl_from_container on each pod's host-side veth ingress, bl_to_container on its egress. */
export function attachPodVeths(dp: Datapath, pods: ReadonlyArray<{ hostIf: string }>): TcAttachment[] {
  return pods.flatMap((pod) => [
    dp.attachTc(pod.hostIf, 'ingress', 'bl_from_container'),
    dp.attachTc(pod.hostIf, 'egress', 'bl_to_container'),
  ]);
}

/** bl_ct4 as the children report it ({"event":"ct","entries":[…]}): the tuple, the entry's flags, packet counts and lifetime. */
export function ct4Entries(dp: Datapath): Array<Record<string, unknown>> {
  return dp
    .map('bl_ct4', BL_CT4_KEY_CODEC, BL_CT_ENTRY_CODEC)
    .snapshot()
    .map(([k, v]) => ({
      proto: k.nexthdr,
      saddr: ip4Str(k.saddr),
      daddr: ip4Str(k.daddr),
      sport: k.sport,
      dport: k.dport,
      dir: k.flags,
      flags: v.flags,
      txPackets: Number(v.tx_packets),
      rxPackets: Number(v.rx_packets),
      lifetime: v.lifetime,
    }));
}

/**
 * Answers line commands on stdin: `handle` runs for each line; a command it
 * does not know (`handle` returns false) is an {"event":"error"} naming it,
 * and so is anything it throws.
 */
export function serveLines(handle: (line: string, rl: Interface) => boolean): Interface {
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    try {
      if (!handle(line, rl)) say({ event: 'error', message: `unknown command ${line}` });
    } catch (err) {
      say({ event: 'error', message: err instanceof Error ? err.message : String(err) });
    }
  });
  return rl;
}

/** Runs a child's main; what it throws is an {"event":"error"} (with the stack) and exit 1. */
export function runChild(main: () => void): void {
  try {
    main();
  } catch (err) {
    say({ event: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    process.exit(1);
  }
}

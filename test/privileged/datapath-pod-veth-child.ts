/**
 * Child process of datapath-pod-veth.test.ts, started inside the test's
 * "node" namespace with `ip netns exec`. It plays the agent for the pod
 * datapath: loads lxc.bpf.o with a pin directory, configures the node's pod
 * CIDR, writes bl_lxc for each pod (ifindex and MAC of the host-side veth
 * read here, in the node namespace), attaches bl_from_container to the
 * veth's ingress and bl_to_container to its egress, then answers line
 * commands on stdin with one JSON line each on stdout:
 *   (start)   → {"event":"attached","endpoints":[{ip,ifindex,nodeMac},…]}
 *   ct        → {"event":"ct","entries":[{proto,saddr,daddr,sport,dport,dir,flags,txPackets,rxPackets,lifetime},…]}
 *   metrics   → {"event":"metrics","rows":[{reason,dir,packets},…]}
 *   exit      → detaches, closes and exits 0
 * Usage: node datapath-pod-veth-child.js JSON
 *   JSON: {object, pinDir, podCidr, prefixlen, router, pods: [{ip, mac, hostIf, id}]}
 */
import {
  BL_ENDPOINT_INFO_CODEC,
  BL_ENDPOINT_KEY_CODEC,
  BL_METRICS_KEY_CODEC,
  BL_METRICS_VALUE_CODEC,
} from '../../src/datapath/generated/abi.js';
import { inRootNetns } from '../../src/datapath/loader.js';
import { attachPodVeths, ct4Entries, link, loadPodDatapath, runChild, say, serveLines } from './datapath-child-support.js';
import { ip4Num, macBytes } from './datapath-support.js';

interface ChildSpec {
  object: string;
  pinDir: string;
  podCidr: string;
  prefixlen: number;
  router: string;
  pods: Array<{ ip: string; mac: string; hostIf: string; id: number }>;
}

function main(): void {
  const spec = JSON.parse(process.argv[2] ?? '') as ChildSpec;
  // Belt and braces: the loader refuses to attach in the root namespace too.
  if (inRootNetns()) throw new Error('refusing to run in the root network namespace');

  const dp = loadPodDatapath(spec);

  const lxc = dp.map('bl_lxc', BL_ENDPOINT_KEY_CODEC, BL_ENDPOINT_INFO_CODEC);
  const endpoints = spec.pods.map((pod) => {
    const host = link(pod.hostIf);
    lxc.set(
      { ip4: ip4Num(pod.ip) },
      { ifindex: host.ifindex, ep_id: pod.id, flags: 0, mac: macBytes(pod.mac), node_mac: macBytes(host.address), sec_identity: 0 },
    );
    return { ip: pod.ip, ifindex: host.ifindex, nodeMac: host.address };
  });
  const attachments = attachPodVeths(dp, spec.pods);
  say({ event: 'attached', endpoints });

  serveLines((line, rl) => {
    switch (line.trim()) {
      case 'ct': {
        const entries = ct4Entries(dp);
        say({ event: 'ct', entries });
        break;
      }
      case 'metrics': {
        const rows = dp
          .perCpuMap('bl_metrics', BL_METRICS_KEY_CODEC, BL_METRICS_VALUE_CODEC)
          .snapshot()
          .map(([k, v]) => ({ reason: k.reason, dir: k.dir, packets: Number(v.count) }));
        say({ event: 'metrics', rows });
        break;
      }
      case 'exit':
        for (const a of attachments) a.detach();
        dp.close();
        rl.close();
        process.exit(0);
        break;
      default:
        return false;
    }
    return true;
  });
}

runChild(main);

/**
 * Child process of mesh-datapath.test.ts, started inside the test's "node"
 * namespace with `ip netns exec`. It plays the agent and the node proxy's
 * mesh listener: loads lxc.bpf.o (the test loads sock.bpf.o over the same
 * pin directory with this namespace's cookie, which the child reports, as
 * the agent's loader does for its own), writes bl_lxc for the pods (the
 * first one, the client, with egress policy: TCP 8080 to the second pod's
 * identity only), the proxy's routing, the router address, routes, the veth
 * attachments, a Service 10.96.0.20:80/TCP with the second and third pods'
 * port 8080 as backends (KernelLb, flagged BL_LB_F_L7 with the mesh port, or
 * not), and a transparent TCP listener on the mesh port (transparentTcpListenFd,
 * HAProxy's `bind 0.0.0.0:<meshPort> transparent`) that, for each
 * connection, opens an upstream with the client's address
 * (transparentTcpSocketFd, HAProxy's `usesrc clientip`) to the backend the
 * test names and answers `mesh <local> <remote> → <what the backend said>`.
 * Line commands on stdin, one JSON line each on stdout:
 *   {"cmd":"service","l7":bool,"backends":[ip…]} → {"event":"service"}
 *   {"cmd":"backend","ip":ip}                    → {"event":"backend"}: the upstream's destination
 *   {"cmd":"exit"}
 * Unprompted: {"event":"mesh",local,remote} per accepted connection,
 * {"event":"upstream-failed",message}, {"event":"drop",reason,source} per
 * drop the datapath reports.
 */
import net from 'node:net';
import {
  BL_POLICY_ENTRY_CODEC,
  BL_POLICY_KEY_CODEC,
  BlEventType,
  decodeBlNotifyHdr,
} from '../../src/datapath/generated/abi.js';
import { ensureProxyRouting, ensureRouterAddress } from '../../src/datapath/devices.js';
import { KernelLb, encodeFrontendFlags } from '../../src/datapath/lb.js';
import { inRootNetns } from '../../src/datapath/loader.js';
import { policyKey, policyValue } from '../../src/datapath/policy.js';
import { netnsCookie, transparentTcpListenFd, transparentTcpSocketFd } from '../../src/datapath/native/sockets.js';
import { attachPodVeths, loadPodDatapath, plugEndpoints, runChild, say, serveLines } from './datapath-child-support.js';

interface ChildSpec {
  object: string;
  pinDir: string;
  podCidr: string;
  prefixlen: number;
  router: string;
  meshPort: number;
  service: string;
  /** The first pod is the client; the others are the Service's backends. */
  pods: Array<{ ip: string; mac: string; hostIf: string; id: number; identity: number }>;
}

function main(): void {
  const spec = JSON.parse(process.argv[2] ?? '') as ChildSpec;
  if (inRootNetns()) throw new Error('refusing to run in the root network namespace');

  const dp = loadPodDatapath(spec, { bl_policy: 1024 });
  ensureProxyRouting();
  ensureRouterAddress(spec.router);
  const [client, allowed] = [spec.pods[0]!, spec.pods[1]!];
  plugEndpoints(dp, spec.pods, client);
  const attachments = attachPodVeths(dp, spec.pods);
  // The client's egress: TCP 8080 to the second pod's identity; nothing else (no entry: denied).
  const k = { direction: 'egress' as const, identity: allowed.identity, protocol: 6, port: 8080, portPrefixLen: 16 };
  dp.map('bl_policy', BL_POLICY_KEY_CODEC, BL_POLICY_ENTRY_CODEC).set(policyKey(client.id, k), policyValue({ ...k, verdict: 'allow', cookie: 7, proxyPort: 0 }));

  const backendIds = new Map(spec.pods.slice(1).map((p, i) => [p.ip, i + 1]));
  const lb = new KernelLb(dp);
  lb.apply({
    upsertBackends: [...backendIds].map(([address, id]) => ({ id, address, port: 8080, protocol: 'TCP' as const, state: 'active' as const })),
    upsertFrontends: [],
    deleteFrontends: [],
    deleteBackends: [],
  });
  const setService = (l7: boolean, backends: string[]) => {
    const flags = encodeFrontendFlags({ type: 'ClusterIP', affinity: false, local: false, maglev: false, l7 });
    const row = { id: 1, address: spec.service, port: 80, protocol: 'TCP' as const, flags, affinityTimeout: 0, backends: backends.map((ip) => backendIds.get(ip)!) };
    lb.apply({ upsertBackends: [], upsertFrontends: [l7 ? { ...row, proxyPort: spec.meshPort } : row], deleteFrontends: [], deleteBackends: [] });
  };

  const reader = dp.ringBuffer('bl_events', (rec) => {
    const hdr = decodeBlNotifyHdr(rec);
    if (hdr.type === BlEventType.BL_EVENT_DROP) say({ event: 'drop', reason: hdr.subtype, source: hdr.source });
  });

  // The mesh listener: every connection gets an upstream from the client's address to the chosen backend.
  let backend = allowed.ip;
  const mesh = net.createServer((down) => {
    const local = `${down.localAddress}:${down.localPort}`;
    const remote = String(down.remoteAddress);
    say({ event: 'mesh', local, remote });
    down.on('error', () => {});
    const up = new net.Socket({ fd: transparentTcpSocketFd(remote) });
    let data = '';
    const timer = setTimeout(() => up.destroy(new Error('no answer in 3 s')), 3000);
    up.connect(8080, backend);
    up.on('data', (d) => (data += d));
    up.on('end', () => {
      clearTimeout(timer);
      down.end(`mesh ${local} ${remote} → ${data}`);
    });
    up.on('error', (err) => {
      clearTimeout(timer);
      say({ event: 'upstream-failed', message: err.message });
      down.end('upstream failed');
    });
  });
  // The node's namespace cookie: the test loads the socket hooks with it (this namespace has its own /sys, without the cgroup tree).
  mesh.listen({ fd: transparentTcpListenFd({ port: spec.meshPort }) }, () => say({ event: 'attached', netnsCookie: netnsCookie().toString() }));

  serveLines((line, rl) => {
    const cmd = JSON.parse(line) as Record<string, unknown>;
    switch (cmd.cmd) {
      case 'service':
        setService(cmd.l7 === true, cmd.backends as string[]);
        say({ event: 'service' });
        break;
      case 'backend':
        backend = String(cmd.ip);
        say({ event: 'backend' });
        break;
      case 'exit':
        mesh.close();
        reader.close();
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

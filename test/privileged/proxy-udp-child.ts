/**
 * Child process of proxy-udp.test.ts, started inside the test's "node"
 * namespace with `ip netns exec`. It plays the agent and the node's DNS
 * proxy: loads lxc.bpf.o, writes bl_lxc for the pods (egress policy enforced
 * on the client pod), installs the proxy's routing (ensureProxyRouting: the
 * agent's own function) and routes to the pods, attaches bl_from_container /
 * bl_to_container to their host-side veths, and runs the proxy side with
 * sockets.ts on proxy port P: a TransparentUdpSocket that answers every
 * query itself (A 192.0.2.53, from the query's original destination), and a
 * net.Server on transparentTcpListenFd(P) that does the same for DNS over
 * TCP; and a Service in front of the second pod's port 53 (KernelLb). Line commands on stdin, one JSON line each on stdout:
 *   {"cmd":"policy","proxy":true|false}  → {"event":"policy"}: the client's egress: UDP and TCP 53 allowed
 *                                           (proxy port P, or none), TCP 8080 allowed
 *   {"cmd":"ct"}                        → {"event":"ct","entries":[…]}
 *   {"cmd":"upstream","from":ip,"host":ip,"port":n}
 *                                       → {"event":"upstream","data":…,"local":…}: a TCP connection from
 *                                           a foreign address (transparentTcpSocketFd) and what the server said
 *   {"cmd":"exit"}
 * Unprompted: {"event":"udp",from,origDst,id} per datagram, {"event":"tcp",local,remote,id} per TCP query.
 */
import net from 'node:net';
import {
  BL_POLICY_ENTRY_CODEC,
  BL_POLICY_KEY_CODEC,
} from '../../src/datapath/generated/abi.js';
import { ensureProxyRouting } from '../../src/datapath/devices.js';
import { KernelLb } from '../../src/datapath/lb.js';
import { inRootNetns } from '../../src/datapath/loader.js';
import { policyKey, policyValue } from '../../src/datapath/policy.js';
import { TransparentUdpSocket, transparentTcpListenFd, transparentTcpSocketFd } from '../../src/datapath/native/sockets.js';
import { attachPodVeths, ct4Entries, loadPodDatapath, plugEndpoints, runChild, say, serveLines } from './datapath-child-support.js';

interface ChildSpec {
  object: string;
  pinDir: string;
  podCidr: string;
  prefixlen: number;
  router: string;
  proxyPort: number;
  /** A Service (translated in BPF, lb4_egress) with the second pod's port 53 as its backend, UDP and TCP. */
  service: string;
  /** The first pod is the client: its egress is enforced. */
  pods: Array<{ ip: string; mac: string; hostIf: string; id: number; identity: number }>;
}

/** The proxy's own answer to a query: its header and question, one A record 192.0.2.53 (TTL 30), nothing else. */
export function answer(query: Buffer): Buffer {
  let off = 12;
  while (query[off]! !== 0) off += query[off]! + 1;
  const question = query.subarray(12, off + 5);
  const header = Buffer.from(query.subarray(0, 12));
  header[2] = 0x80 | (query[2]! & 0x01); // QR, RD copied
  header[3] = 0x80; // RA, NOERROR
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(1, 6);
  header.writeUInt16BE(0, 8);
  header.writeUInt16BE(0, 10);
  const rr = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 192, 0, 2, 53]);
  return Buffer.concat([header, question, rr]);
}

function main(): void {
  const spec = JSON.parse(process.argv[2] ?? '') as ChildSpec;
  if (inRootNetns()) throw new Error('refusing to run in the root network namespace');

  const dp = loadPodDatapath(spec, { bl_policy: 1024 });

  ensureProxyRouting();
  const client = spec.pods[0]!;
  plugEndpoints(dp, spec.pods, client);
  const attachments = attachPodVeths(dp, spec.pods);

  // The cluster DNS Service: its frontend on port 53, UDP and TCP, backed by the second pod's port 53.
  const dns = spec.pods[1]!.ip;
  new KernelLb(dp).apply({
    upsertBackends: [
      { id: 1, address: dns, port: 53, protocol: 'UDP', state: 'active' },
      { id: 2, address: dns, port: 53, protocol: 'TCP', state: 'active' },
    ],
    upsertFrontends: [
      { id: 1, address: spec.service, port: 53, protocol: 'UDP', flags: 0, affinityTimeout: 0, backends: [1] },
      { id: 2, address: spec.service, port: 53, protocol: 'TCP', flags: 0, affinityTimeout: 0, backends: [2] },
    ],
    deleteFrontends: [],
    deleteBackends: [],
  });

  const policy = dp.map('bl_policy', BL_POLICY_KEY_CODEC, BL_POLICY_ENTRY_CODEC);
  const setPolicy = (proxy: boolean) => {
    const allow = (protocol: number, port: number, proxyPort: number) => {
      const k = { direction: 'egress' as const, identity: 0, protocol, port, portPrefixLen: 16 };
      policy.set(policyKey(client.id, k), policyValue({ ...k, verdict: 'allow', cookie: 1, proxyPort }));
    };
    allow(17, 53, proxy ? spec.proxyPort : 0);
    allow(6, 53, proxy ? spec.proxyPort : 0);
    allow(6, 8080, 0);
  };

  // The proxy side: UDP and TCP on the proxy port, answering every query itself.
  const udp = TransparentUdpSocket.open({ port: spec.proxyPort });
  udp.onError((err) => say({ event: 'error', message: `udp: ${err.message}` }));
  udp.onMessage((msg, from, origDst) => {
    say({ event: 'udp', from, origDst, id: msg.readUInt16BE(0) });
    udp.send(origDst, from, answer(msg));
  });
  const tcp = net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const q = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + q.length);
        say({ event: 'tcp', local: { address: sock.localAddress, port: sock.localPort }, remote: { address: sock.remoteAddress, port: sock.remotePort }, id: q.readUInt16BE(0) });
        const a = answer(q);
        const len = Buffer.alloc(2);
        len.writeUInt16BE(a.length);
        sock.write(Buffer.concat([len, a]));
      }
    });
    sock.on('error', () => {});
  });
  tcp.listen({ fd: transparentTcpListenFd({ port: spec.proxyPort }) }, () => {
    say({ event: 'attached' });
  });

  serveLines((line, rl) => {
    const cmd = JSON.parse(line) as Record<string, unknown>;
    switch (cmd.cmd) {
      case 'policy':
        setPolicy(cmd.proxy === true);
        say({ event: 'policy' });
        break;
      case 'ct': {
        const entries = ct4Entries(dp);
        say({ event: 'ct', entries });
        break;
      }
      case 'upstream': {
        const fd = transparentTcpSocketFd(String(cmd.from));
        const s = new net.Socket({ fd });
        let data = '';
        let local = '';
        const timer = setTimeout(() => s.destroy(new Error('no answer in 5 s')), 5000);
        s.connect(Number(cmd.port), String(cmd.host), () => (local = `${s.localAddress}`));
        s.on('data', (d) => (data += d));
        s.on('end', () => {
          clearTimeout(timer);
          say({ event: 'upstream', data, local });
        });
        s.on('error', (err) => {
          clearTimeout(timer);
          say({ event: 'error', message: `upstream: ${err.message}` });
        });
        break;
      }
      case 'exit':
        udp.close();
        tcp.close();
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

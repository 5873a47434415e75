/**
 * The lab: a whole cluster on one machine, built from network namespaces.
 * `up` realises a LabPlan step by step (recording each resource as it goes),
 * `down` removes exactly what the state file says the lab made, `status`
 * reports it, `exec` runs a command in one of its namespaces.
 */
import { proxyAppliedFile, proxyRuleSet, writeProxyFiles, type NodeProxyConfig } from '../agent/proxy.js';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { CA_KEY_FILE_BYTES } from '../mesh/ca.js';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { LabExistsError, LabStepError, PermissionError, asBeelineError } from '../common/errors.js';
import { run } from '../common/exec.js';
import { progress } from '../common/log.js';
import { repoRoot } from '../common/version.js';
import { agentGet } from '../agent/client.js';
import type { AgentConfig, AgentStatus } from '../agent/types.js';
import { ensureCgroup, removeCgroup, removeCgroupBaseIfEmpty, removeCgroupV1 } from './cgroup.js';
import { deleteAllContainers, runcRoot } from './runc.js';
import { etcdStatus, startEtcd, waitEtcd } from './etcd.js';
import { addNetns, addVeth, delNetns, ipIn, listNetns, sysctlIn } from './netns.js';
import { isAlive, startDaemon, stopProcess, type OwnedProcess } from './process.js';
import { UI_DEFAULT_PORT } from '../ui/defaults.js';
import { labDir, labsDir, readState, runDir, writeState, type LabState } from './state.js';
import { planLab, resolveTarget, type DatapathKind, type RoutingMode } from './topology.js';
import { CLUSTER_DNS_LABELS, clusterDnsDeployment, kubeDnsIP, worldDnsArgs, worldHosts, worldHostsDir, writeWorldHosts } from './dns.js';
import type { KubeletConfig } from './kubelet.js';
import { openEtcdStore } from '../store/etcd.js';
import type { ObjectInput } from '../store/store.js';

export interface LabUpOptions {
  name: string;
  nodes: number;
  routing: RoutingMode;
  datapath?: DatapathKind;
  /** Entries of each node's conntrack map. */
  ctMapSize?: number;
  /** Entries of each node's load-balancing maps (Cilium: bpf-lb-map-max). */
  lbMapSize?: number;
  /** Slots of every Maglev table (Cilium: bpf-lb-maglev-table-size). */
  maglevTableSize?: number;
  /** The cluster-wide backend selection (Cilium: bpf-lb-algorithm). */
  lbAlgorithm?: 'random' | 'maglev';
  /** Policy map entries one endpoint may have (Cilium: bpf-policy-map-max). */
  policyMapMax?: number;
  /** Cilium's enable-policy: default, always, never. */
  policyEnforcement?: 'default' | 'always' | 'never';
  /** Cilium's policy-audit-mode. */
  policyAuditMode?: boolean;
  /** Seconds a learned DNS address is kept at least (Cilium: tofqdns-min-ttl); default the agent's, 0. */
  fqdnMinTtl?: number;
  /** How long an unused identity lives before the operator deletes it (a duration, e.g. 15s). */
  identityGcGrace?: string;
  /** How often each agent compares its datapath maps with the model (ms; default the agent's, 30 s; 0: never). */
  resyncIntervalMs?: number;
  monitorAggregation?: string;
  /** First crash-loop back-off of the kubelets, ms (Kubernetes: 10 s). */
  crashBackoff?: number;
  /** Socket-level load balancing on each node's cgroup (default on). */
  socketLB?: boolean;
  /** Flows each node's ring keeps (Hubble: hubble-event-buffer-capacity, 4095). */
  flowBufferCapacity?: number;
  /** The web UI's port (`beeline ui`): default 12000, or a free one when 12000 is taken; false: no UI. */
  uiPort?: number | false;
  /** Flow observation (Hubble) on the nodes: false turns every agent's observer off and starts no relay (the flow benchmark's "off" arm). Default true. */
  hubble?: boolean;
  quiet?: boolean;
}

/**
 * What a cluster has from its first moment: the system namespaces and the kube-dns Service. The
 * Service selects the cluster DNS pods (`k8s-app: kube-dns`), so its EndpointSlices come from
 * the lab's EndpointSlice controller like any Service's.
 */
async function bootstrapObjects(endpoint: string, clusterDNS: string): Promise<void> {
  const store = openEtcdStore({ endpoint });
  try {
    const ns = (name: string): ObjectInput => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
    await store.applyBatch([
      ...['default', 'kube-system', 'kube-public', 'kube-node-lease'].map(ns),
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'CoreDNS' } },
        spec: {
          type: 'ClusterIP',
          selector: { ...CLUSTER_DNS_LABELS },
          clusterIP: clusterDNS,
          clusterIPs: [clusterDNS],
          ports: [
            { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
            { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
          ],
        },
      },
    ]);
  } finally {
    await store.close();
  }
}

/**
 * Starts the cluster DNS pods (once the nodes are Ready, so that the scheduler spreads the
 * replicas) and waits until the kube-dns Service has a ready endpoint for every replica: pods
 * started after `lab up` resolve names at once.
 */
async function startClusterDns(endpoint: string, replicas: number, hostsDir: string, upstream: string, timeoutMs = 60_000): Promise<void> {
  const store = openEtcdStore({ endpoint });
  try {
    await store.applyBatch([clusterDnsDeployment({ replicas, hostsDir, upstream })]);
    const deadline = Date.now() + timeoutMs;
    let ready = 0;
    while (Date.now() < deadline) {
      const slices = (await store.list('EndpointSlice', { namespace: 'kube-system' })).items.filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === 'kube-dns');
      ready = new Set(slices.flatMap((s) => ((s['endpoints'] as any[] | undefined) ?? []).filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses as string[]))).size;
      if (ready >= replicas) return;
      await sleep(200);
    }
    throw new LabStepError(`start cluster DNS: kube-system/kube-dns has ${ready} of ${replicas} ready endpoint(s) after ${timeoutMs / 1000}s`, { hint: 'see `beeline kubectl get pods -n kube-system` and the kubelet logs' });
  } finally {
    await store.close();
  }
}

/** Waits until every node's kubelet has registered its Node as Ready. */
async function waitNodesReady(endpoint: string, nodes: string[], timeoutMs = 30_000): Promise<void> {
  const store = openEtcdStore({ endpoint });
  try {
    const deadline = Date.now() + timeoutMs;
    let missing = nodes;
    while (Date.now() < deadline) {
      const items = (await store.list('Node')).items;
      const ready = new Set(items.filter((n) => ((n.status as any)?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True')).map((n) => n.metadata.name));
      missing = nodes.filter((n) => !ready.has(n));
      if (missing.length === 0) return;
      await sleep(200);
    }
    throw new LabStepError(`start kubelets: node(s) ${missing.join(', ')} not Ready after ${timeoutMs / 1000}s`, { hint: 'see the kubelet.log of those nodes' });
  } finally {
    await store.close();
  }
}

function requireRoot(op: string): void {
  if (process.getuid && process.getuid() !== 0) throw new PermissionError(`${op}: needs root (network namespaces, bpffs, cgroups)`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The node proxy's transparent HTTP listener (ingress redirects), in each node's namespace. */
export const LAB_PROXY_INGRESS_PORT = 15001;
/** … and its listener for egress redirects (HTTP rules of a pod's egress, at the pod's node). */
export const LAB_PROXY_EGRESS_PORT = 15002;
/** … its transparent HTTP listener for routed Services (mesh HTTPRoutes, issue 15). */
export const LAB_PROXY_MESH_PORT = 15003;
/** … its transparent TCP listener for connections that need mutual authentication (client side). */
export const LAB_PROXY_MTLS_OUT_PORT = 15004;
/** … and its TLS 1.3 listener on the node's address for other nodes' authenticated connections (server side). */
export const LAB_PROXY_MTLS_IN_PORT = 15008;
/** The agent's DNS proxy (UDP and TCP), in each node's namespace (Cilium's tofqdns-proxy-port). */
export const LAB_DNS_PROXY_PORT = 15053;
/** The agent's Kafka proxy: its listener for ingress redirects, and the one for egress. */
export const LAB_KAFKA_PROXY_INGRESS_PORT = 15091;
export const LAB_KAFKA_PROXY_EGRESS_PORT = 15092;
/** Where each node's proxy sends its access records: UDP on the node's loopback, where the agent listens. */
export const LAB_PROXY_ACCESSLOG_PORT = 4250;

function isBpffs(dir: string): boolean {
  const r = run('stat', ['-f', '-c', '%T', dir], { allowFailure: true });
  return r.code === 0 && r.stdout.trim() === 'bpf_fs';
}

/** Records whether /run/netns was there before beeline, so the last `lab down` leaves it as found. */
function noteHostBaseline(): void {
  const p = join(runDir(), 'host.json');
  if (existsSync(p)) return;
  mkdirSync(runDir(), { recursive: true });
  writeFileSync(p, JSON.stringify({ runNetnsExisted: existsSync('/run/netns') }));
}

export async function labUp(opts: LabUpOptions): Promise<LabState> {
  requireRoot(`lab up ${opts.name}`);
  const plan = planLab(opts.name, opts.nodes, opts.routing, opts.datapath ?? 'bpf');
  if (readState(plan.name)) {
    throw new LabExistsError(`lab up ${plan.name}: a lab named ${plan.name} is already up`, `take it down first: beeline lab down --name ${plan.name}`);
  }
  const taken = [plan.fabric.netns, plan.world.netns, ...plan.nodes.map((n) => n.netns)].filter((n) => listNetns().includes(n));
  if (taken.length) {
    throw new LabExistsError(`lab up ${plan.name}: namespace ${taken[0]} already exists`, 'a lab of that name was left behind: remove it with beeline lab down --name ' + plan.name);
  }
  noteHostBaseline();
  const dir = labDir(plan.name);
  const state: LabState = {
    version: 1,
    plan,
    phase: 'creating',
    createdAt: new Date().toISOString(),
    dir,
    netns: [],
    agents: {},
  };
  writeState(state);
  const p = progress(9, opts.quiet);
  try {
    p.step(`lab ${plan.name}: cgroup subtree and bpffs`);
    state.cgroup = ensureCgroup(plan.name);
    writeState(state);
    const bpffs = join(dir, 'bpf');
    mkdirSync(bpffs, { recursive: true });
    run('mount', ['-t', 'bpf', 'bpffs', bpffs], { operation: `mount bpffs at ${bpffs}` });
    state.bpffs = bpffs;
    writeState(state);

    p.step(`lab ${plan.name}: fabric ${plan.fabric.netns} with bridge ${plan.fabric.bridge}`);
    const fab = plan.fabric.netns;
    addNetns(fab);
    state.netns.push(fab);
    writeState(state);
    ipIn(fab, ['link', 'add', plan.fabric.bridge, 'type', 'bridge'], 'create fabric bridge');
    ipIn(fab, ['link', 'set', plan.fabric.bridge, 'up'], 'bring up fabric bridge');

    p.step(`lab ${plan.name}: ${plan.nodes.length} node namespace(s) and the outside world`);
    const hosts = [
      ...plan.nodes.map((n) => ({ netns: n.netns, uplink: n.uplink, port: n.fabricPort, ip: n.ip, len: n.prefixLen, router: true })),
      { netns: plan.world.netns, uplink: plan.world.uplink, port: plan.world.fabricPort, ip: plan.world.ip, len: plan.world.prefixLen, router: false },
    ];
    for (const h of hosts) {
      addNetns(h.netns);
      state.netns.push(h.netns);
      writeState(state);
      addVeth(fab, h.port, h.netns, h.uplink);
      ipIn(fab, ['link', 'set', h.port, 'master', plan.fabric.bridge, 'up'], `attach ${h.port} to the fabric bridge`);
      ipIn(h.netns, ['addr', 'add', `${h.ip}/${h.len}`, 'dev', h.uplink], `address ${h.ip} on ${h.netns}/${h.uplink}`);
      ipIn(h.netns, ['link', 'set', h.uplink, 'up'], `bring up ${h.netns}/${h.uplink}`);
      if (h.router) sysctlIn(h.netns, 'net.ipv4.ip_forward', '1');
    }

    // LoadBalancer addresses: the outside world reaches them through the nodes (ECMP), as a router
    // fed by BGP or L2 announcements would.
    ipIn(plan.world.netns, ['route', 'add', plan.lbPoolCIDR, ...plan.nodes.flatMap((n) => ['nexthop', 'via', n.ip])], 'route the LoadBalancer pool to the nodes');

    // The world's extra addresses (FQDN tests' servers bind them): on-link for the nodes like its own.
    for (const ip of plan.world.extraIPs ?? []) ipIn(plan.world.netns, ['addr', 'add', `${ip}/${plan.world.prefixLen}`, 'dev', plan.world.uplink], `address ${ip} on ${plan.world.netns}/${plan.world.uplink}`);

    // The cluster DNS itself runs as pods (kube-system/coredns) once the nodes are up.
    p.step(`lab ${plan.name}: the outside world's DNS server`);
    const clusterDNS = kubeDnsIP(plan.serviceCIDR);
    state.clusterDNS = clusterDNS;
    state.dns = {};
    const dnsDir = join(dir, 'dns');
    mkdirSync(join(dnsDir, 'hosts'), { recursive: true });
    writeWorldHosts(worldHostsDir(dir), worldHosts(plan.world));
    ipIn(plan.world.netns, ['link', 'set', 'lo', 'up'], 'bring up lo in the world');
    state.dns.world = startDaemon({
      role: 'world DNS',
      netns: plan.world.netns,
      cgroupDir: ensureCgroup(plan.name, 'dns', 'world'),
      log: join(dnsDir, 'world.log'),
      cmd: ['dnsmasq', ...worldDnsArgs({ listen: plan.world.ip, hostsDir: worldHostsDir(dir) })],
    });
    writeState(state);
    for (const n of plan.nodes) ipIn(n.netns, ['link', 'set', 'lo', 'up'], `bring up lo on ${n.name}`);

    p.step(`lab ${plan.name}: etcd (unix sockets only)`);
    const cg = ensureCgroup(plan.name, 'etcd');
    const etcd = startEtcd(plan.name, join(dir, 'etcd'), fab, cg);
    state.etcd = { socket: etcd.socket, dataDir: etcd.dataDir, process: etcd.process };
    writeState(state);
    await waitEtcd(etcd);
    // The mesh CA's at-rest key, the operator's alone (mode 0600 in the lab's state directory).
    const meshCaKey = join(dir, 'mesh-ca.key');
    if (!existsSync(meshCaKey)) writeFileSync(meshCaKey, randomBytes(CA_KEY_FILE_BYTES), { mode: 0o600 });
    state.operator = startDaemon({
      role: 'operator',
      netns: fab,
      cgroupDir: ensureCgroup(plan.name, 'operator'),
      log: join(dir, 'operator.log'),
      cmd: [process.execPath, join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'operator', '--kvstore', etcd.endpoint, '--identity-gc-grace', opts.identityGcGrace ?? '15s', '--mesh-ca-key-file', meshCaKey],
    });
    writeState(state);
    await bootstrapObjects(etcd.endpoint, clusterDNS);
    state.controllers = startDaemon({
      role: 'controllers',
      netns: fab,
      cgroupDir: ensureCgroup(plan.name, 'controllers'),
      log: join(dir, 'controllers.log'),
      cmd: [process.execPath, '--enable-source-maps', join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'lab', 'controllers', '--kvstore', etcd.endpoint, '--dns-hosts-dir', join(dnsDir, 'hosts'), '--lb-pool', plan.lbPoolCIDR],
    });
    writeState(state);

    p.step(`lab ${plan.name}: node agents`);
    for (const n of plan.nodes) {
      const ndir = join(dir, 'nodes', n.name);
      mkdirSync(ndir, { recursive: true });
      const pinDir = join(bpffs, n.name);
      mkdirSync(pinDir, { recursive: true });
      // The node's L7 proxy: its own supervised process (like cilium-envoy), started before the agent
      // with the rules of no policy; the agent renders its configuration from then on and reloads it.
      const proxy: NodeProxyConfig = { stateDir: join(ndir, 'proxy'), masterSocket: join(ndir, 'proxy', 'master.sock'), ingressPort: LAB_PROXY_INGRESS_PORT, egressPort: LAB_PROXY_EGRESS_PORT, accessLogPort: LAB_PROXY_ACCESSLOG_PORT, meshPort: LAB_PROXY_MESH_PORT, mtlsOutPort: LAB_PROXY_MTLS_OUT_PORT, mtlsInPort: LAB_PROXY_MTLS_IN_PORT };
      // The proxy starts with these files: the agent need not reload it for the same ones.
      writeFileSync(proxyAppliedFile(proxy.stateDir), `${writeProxyFiles(proxy, proxyRuleSet(proxy, [], [])).digest}\n`);
      const proxyConfigPath = join(ndir, 'proxy.json');
      writeFileSync(proxyConfigPath, JSON.stringify({ node: n.name, ...proxy }, null, 2));
      (state.proxies ??= {})[n.name] = startDaemon({
        role: `proxy supervisor ${n.name}`,
        netns: n.netns,
        netOnly: true,
        cgroupDir: ensureCgroup(plan.name, n.name, 'proxy'),
        log: join(ndir, 'proxy-supervisor.log'),
        cmd: [process.execPath, join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'lab', 'supervise', '--proxy', '--config', proxyConfigPath],
      });
      const config: AgentConfig = {
        lab: plan.name,
        node: n.name,
        netns: n.netns,
        stateDir: ndir,
        nodeIP: n.ip,
        uplink: n.uplink,
        clusterPoolCIDR: plan.clusterPoolCIDR,
        clusterPoolMaskSize: plan.clusterPoolMaskSize,
        cniNetwork: 'beeline',
        routing: plan.routing,
        datapath: plan.datapath,
        socket: join(ndir, 'agent.sock'),
        pinDir,
        bpfObjectDir: join(repoRoot, 'build', 'bpf'),
        kvstore: etcd.endpoint,
        monitorAggregation: opts.monitorAggregation ?? 'medium',
        ctMapSize: opts.ctMapSize ?? 65536,
        ...(opts.resyncIntervalMs !== undefined ? { resyncIntervalMs: opts.resyncIntervalMs } : {}),
        ...(opts.lbMapSize ? { lbMapSize: opts.lbMapSize } : {}),
        ...(opts.maglevTableSize ? { maglevTableSize: opts.maglevTableSize } : {}),
        ...(opts.lbAlgorithm ? { lbAlgorithm: opts.lbAlgorithm } : {}),
        ...(opts.policyMapMax ? { policyMapMax: opts.policyMapMax } : {}),
        ...(opts.policyEnforcement ? { policyEnforcement: opts.policyEnforcement } : {}),
        ...(opts.policyAuditMode ? { policyAuditMode: true } : {}),
        ...(opts.socketLB === false ? {} : { socketLB: { cgroup: ensureCgroup(plan.name, n.name) } }),
        lbPoolCIDR: plan.lbPoolCIDR,
        proxy,
        // The DNS and Kafka proxies run in the agent (docs/dns.md, docs/kafka.md).
        dnsProxy: { port: LAB_DNS_PROXY_PORT, ...(opts.fqdnMinTtl !== undefined ? { minTtlSeconds: opts.fqdnMinTtl } : {}) },
        kafkaProxy: { ingressPort: LAB_KAFKA_PROXY_INGRESS_PORT, egressPort: LAB_KAFKA_PROXY_EGRESS_PORT },
        observer: opts.hubble === false ? { enabled: false } : {
          socket: join(ndir, 'observer.sock'),
          // Loopback of the node's namespace: reachable from the node, not from pods or the machine.
          listen: '127.0.0.1:4244',
          ...(opts.flowBufferCapacity ? { ringSize: opts.flowBufferCapacity } : {}),
          // Hubble's metrics port on the node's address, as a Prometheus in the cluster would scrape it.
          metrics: { listen: `${n.ip}:9965`, socket: join(ndir, 'metrics.sock') },
          export: { path: join(ndir, 'flows', 'flows.json'), maxSizeBytes: 10 << 20, maxBackups: 5 },
        },
      };
      const configPath = join(ndir, 'agent.json');
      writeFileSync(configPath, JSON.stringify(config, null, 2));
      const proc = startDaemon({
        role: `agent supervisor ${n.name}`,
        netns: n.netns,
        // The machine's mount namespace: `ip netns exec` would remount /sys and hide the cgroup
        // hierarchy the socket load-balancing hooks attach to.
        netOnly: true,
        cgroupDir: ensureCgroup(plan.name, n.name, 'agent'),
        log: join(ndir, 'supervisor.log'),
        cmd: [process.execPath, join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'lab', 'supervise', '--config', configPath],
      });
      state.agents[n.name] = { socket: config.socket, process: proc, config: configPath, log: join(ndir, 'agent.log') };
      writeState(state);
    }

    p.step(`lab ${plan.name}: waiting for agents to report healthy`);
    for (const n of plan.nodes) await waitAgent(state, n.name);
    // The network knows where each node's pods live, as native routing asks
    // of it (and a router in front of a cluster would): the outside world
    // reaches pods directly and their replies to it come back unmasqueraded.
    for (const n of plan.nodes) {
      const st = await agentGet<AgentStatus>(state.agents[n.name]!.socket, '/v1/status', 2000);
      if (st.podCIDR) ipIn(plan.world.netns, ['route', 'replace', st.podCIDR, 'via', n.ip], `route ${n.name}'s pod CIDR from the outside world`);
    }

    // The relay merges every node's flows (like hubble-relay); unix sockets only, in the fabric's namespace like the operator.
    // Without flow observation there is nothing to merge.
    if (opts.hubble !== false) state.relay = startDaemon({
      role: 'relay',
      netns: fab,
      cgroupDir: ensureCgroup(plan.name, 'relay'),
      log: join(dir, 'relay.log'),
      cmd: [process.execPath, join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'relay', '--lab', plan.name],
    });
    // The web UI listens on the machine's loopback (a TCP listener, nothing about the machine's network changes)
    // and reads the relay's unix socket, so a browser on this machine needs no route into the lab.
    const uiUrlFile = join(dir, 'ui.url');
    if (opts.hubble !== false && opts.uiPort !== false) {
      const port = opts.uiPort ?? ((await loopbackPortFree(UI_DEFAULT_PORT)) ? UI_DEFAULT_PORT : 0);
      state.ui = {
        url: '',
        process: startDaemon({
          role: 'ui',
          netns: null,
          cgroupDir: ensureCgroup(plan.name, 'ui'),
          log: join(dir, 'ui.log'),
          cmd: [process.execPath, join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'ui', '--lab', plan.name, '--port', String(port), '--url-file', uiUrlFile],
        }),
      };
    }
    writeState(state);

    p.step(`lab ${plan.name}: kubelets`);
    state.kubelets = {};
    for (const n of plan.nodes) {
      const ndir = join(dir, 'nodes', n.name);
      const config: KubeletConfig = {
        lab: plan.name,
        node: n.name,
        nodeIP: n.ip,
        kvstore: etcd.endpoint,
        agentSocket: state.agents[n.name]!.socket,
        clusterDNS,
        ...(opts.crashBackoff ? { backoffBaseMs: opts.crashBackoff } : {}),
      };
      const configPath = join(ndir, 'kubelet.json');
      writeFileSync(configPath, JSON.stringify(config, null, 2));
      state.kubelets[n.name] = startDaemon({
        role: `kubelet supervisor ${n.name}`,
        netns: n.netns,
        netOnly: true,
        cgroupDir: ensureCgroup(plan.name, n.name, 'kubelet'),
        log: join(ndir, 'kubelet-supervisor.log'),
        cmd: [process.execPath, join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'lab', 'supervise', '--kubelet', '--config', configPath],
      });
      writeState(state);
    }
    await waitNodesReady(etcd.endpoint, plan.nodes.map((n) => n.name));
    p.step(`lab ${plan.name}: cluster DNS pods (kube-system/coredns behind kube-dns)`);
    await startClusterDns(etcd.endpoint, Math.min(2, plan.nodes.length), join(dnsDir, 'hosts'), plan.world.ip);
    if (state.ui) state.ui.url = await waitUiUrl(state.ui.process, uiUrlFile);
    state.phase = 'up';
    writeState(state);
    p.done(`lab ${plan.name} is up: ${plan.nodes.length} node(s), routing ${plan.routing}`);
    return state;
  } catch (e) {
    const err = asBeelineError(e, `lab up ${plan.name}`);
    process.stderr.write(`lab up ${plan.name} failed; removing what it made\n`);
    await labDown(plan.name, { quiet: true }).catch(() => undefined);
    throw err;
  }
}

/** Whether 127.0.0.1:port can be bound now (the UI takes Hubble UI's port when it is free). */
function loopbackPortFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const srv = createNetServer();
    srv.once('error', () => done(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => done(true)));
  });
}

/** The URL `beeline ui` writes once it listens. */
async function waitUiUrl(p: OwnedProcess, file: string, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(file)) return readFileSync(file, 'utf8').trim();
    if (!isAlive(p)) throw new LabStepError(`start ui: exited: ${lastLogLine(p.log)}`);
    await sleep(100);
  }
  throw new LabStepError(`start ui: no URL after ${timeoutMs / 1000}s`, { hint: `see ${p.log}` });
}

async function waitAgent(state: LabState, node: string, timeoutMs = 30_000): Promise<void> {
  const a = state.agents[node]!;
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (!isAlive(a.process)) {
      // The lab is removed after a failed `up`, log included: carry its last words in the error.
      throw new LabStepError(`start agent ${node}: its supervisor exited: ${lastLogLine(a.process.log)}`);
    }
    try {
      const st = await agentGet<AgentStatus>(a.socket, '/v1/status', 1000);
      if (st.health === 'ok') return;
      last = `health ${st.health}: ${st.datapath.message ?? st.kvstore.message ?? ''}`;
    } catch (e) {
      last = (e as Error).message;
      // An agent that cannot start crash-loops under its supervisor: report why instead of waiting it out.
      const why = lastLogLine(a.log, / start failed /);
      if (why) throw new LabStepError(`start agent ${node}: ${why}`);
    }
    await sleep(200);
  }
  throw new LabStepError(`start agent ${node}: not healthy after ${timeoutMs / 1000}s (${last})`, { hint: `see ${a.process.log}` });
}

/**
 * The last line of a daemon's log that matches `pattern`, for error messages
 * ('' when none). Without a pattern: the last error-looking line, else the last line.
 */
function lastLogLine(path: string, pattern?: RegExp): string {
  let lines: string[];
  try {
    lines = readFileSync(path, 'utf8').trim().split('\n').reverse();
  } catch {
    return pattern ? '' : '(no log)';
  }
  if (pattern) return lines.find((l) => pattern.test(l))?.trim() ?? '';
  return (lines.find((l) => / (error|fatal)[ :]|^Error/.test(l)) ?? lines[0] ?? '').trim() || '(empty log)';
}

/**
 * Removes everything the lab recorded: processes (by pid), namespaces, the
 * bpffs, the cgroup subtree, its files. Idempotent, and works on a lab whose
 * `up` was interrupted.
 */
export async function labDown(name: string, opts: { quiet?: boolean } = {}): Promise<void> {
  requireRoot(`lab down ${name}`);
  const state = readState(name);
  if (!state) return;
  state.phase = 'deleting';
  writeState(state);
  const p = progress(4, opts.quiet);
  p.step(`lab ${name}: stopping kubelets, agents, controllers, DNS and etcd`);
  await Promise.all(Object.values(state.kubelets ?? {}).map((k) => stopProcess(k)));
  await Promise.all(Object.values(state.agents).map((a) => stopProcess(a.process)));
  await Promise.all(Object.values(state.proxies ?? {}).map((x) => stopProcess(x)));
  if (state.ui) await stopProcess(state.ui.process);
  if (state.relay) await stopProcess(state.relay);
  if (state.operator) await stopProcess(state.operator);
  if (state.controllers) await stopProcess(state.controllers);
  await Promise.all(Object.values(state.dns ?? {}).map((d) => stopProcess(d)));
  if (state.etcd) await stopProcess(state.etcd.process);
  // Containers (kubelet pods, `lab pod exec`): runc kills them and forgets them.
  deleteAllContainers(runcRoot(name));
  // Anything else the lab started sits in its cgroup subtree: end it by pid.
  if (state.cgroup) await removeCgroup(state.cgroup);
  // runc also made the containers' cgroups in the v1 hierarchies, and leaves their parents there.
  removeCgroupV1(name);

  p.step(`lab ${name}: deleting namespaces`);
  const errors: string[] = [];
  for (const ns of [...state.netns].reverse()) {
    try {
      delNetns(ns);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  // Pod namespaces (made by the CNI plugin) carry the lab's prefix too.
  for (const ns of listNetns().filter((n) => n.startsWith(`bl-${name}-`))) {
    try {
      delNetns(ns);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }

  p.step(`lab ${name}: unmounting bpffs`);
  if (state.bpffs && existsSync(state.bpffs) && isBpffs(state.bpffs)) {
    run('umount', [state.bpffs], { operation: `unmount bpffs ${state.bpffs}` });
  }

  p.step(`lab ${name}: removing files`);
  rmSync(state.dir, { recursive: true, force: true });
  removeCgroupBaseIfEmpty();
  restoreHostBaseline();
  if (errors.length) throw new LabStepError(`lab down ${name}: ${errors.join('; ')}`);
  p.done(`lab ${name} is down`);
}

/** After the last lab: remove /run/netns if beeline's first `ip netns add` made it, and /run/beeline. */
function restoreHostBaseline(): void {
  const labs = existsSync(labsDir()) ? readdirSync(labsDir()) : [];
  if (labs.length) return;
  const hostFile = join(runDir(), 'host.json');
  let runNetnsExisted = true;
  try {
    runNetnsExisted = (JSON.parse(readFileSync(hostFile, 'utf8')) as { runNetnsExisted: boolean }).runNetnsExisted;
  } catch {
    /* no baseline: leave /run/netns alone */
  }
  if (!runNetnsExisted && existsSync('/run/netns') && listNetns().length === 0) {
    run('umount', ['/run/netns'], { allowFailure: true });
    try {
      rmdirSync('/run/netns');
    } catch {
      /* still mounted or not empty: leave it */
    }
  }
  rmSync(runDir(), { recursive: true, force: true });
}

export interface NodeReport {
  name: string;
  netns: string;
  ip: string;
  podCIDR: string;
  /** pid: the agent's own (from its status); supervisorPid: the lab process that restarts it. */
  agent: { pid: number; supervisorPid: number; running: boolean; health: string; message?: string; status?: AgentStatus };
  /** The node's kubelet (its supervisor process). */
  kubelet: { supervisorPid: number; running: boolean };
}

export interface LabReport {
  name: string;
  phase: string;
  routing: string;
  createdAt: string;
  healthy: boolean;
  etcd: { endpoint: string; pid: number; running: boolean; healthy: boolean; version?: string; message?: string };
  operator: { pid: number; running: boolean };
  controllers: { pid: number; running: boolean };
  dns: { name: string; pid: number; running: boolean }[];
  clusterDNS: string;
  fabric: { netns: string; cidr: string };
  world: { netns: string; ip: string };
  nodes: NodeReport[];
  namespaces: { name: string; present: boolean }[];
  /** The web UI (`beeline ui`), when the lab started one. */
  ui?: { url: string; pid: number; running: boolean };
}

export async function labStatus(name: string): Promise<LabReport> {
  const state = readState(name);
  if (!state) throw new LabStepError(`lab ${name}: state file missing`);
  const { plan } = state;
  const present = new Set(listNetns());
  const etcdEndpoint = state.etcd ? `unix://${state.etcd.socket}` : '';
  const etcd: LabReport['etcd'] = {
    endpoint: etcdEndpoint,
    pid: state.etcd?.process.pid ?? 0,
    running: state.etcd ? isAlive(state.etcd.process) : false,
    healthy: false,
  };
  if (etcd.running) {
    try {
      etcd.version = (await etcdStatus(etcdEndpoint)).version;
      etcd.healthy = true;
    } catch (e) {
      etcd.message = (e as Error).message;
    }
  }
  const nodes: NodeReport[] = await Promise.all(
    plan.nodes.map(async (n) => {
      const a = state.agents[n.name];
      const r: NodeReport = {
        name: n.name,
        netns: n.netns,
        ip: n.ip,
        podCIDR: '',
        agent: { pid: 0, supervisorPid: a?.process.pid ?? 0, running: a ? isAlive(a.process) : false, health: 'unknown' },
        kubelet: { supervisorPid: state.kubelets?.[n.name]?.pid ?? 0, running: state.kubelets?.[n.name] ? isAlive(state.kubelets[n.name]!) : false },
      };
      if (!a) r.agent.message = 'never started';
      else if (!r.agent.running) {
        r.agent.health = 'down';
        r.agent.message = `its supervisor (pid ${a.process.pid}) is not running (see ${a.process.log})`;
      } else {
        try {
          const st = await agentGet<AgentStatus>(a.socket, '/v1/status', 2000);
          r.agent.health = st.health;
          r.agent.pid = st.pid;
          r.agent.status = st;
          r.podCIDR = st.podCIDR;
        } catch (e) {
          r.agent.health = 'unreachable';
          r.agent.message = (e as Error).message;
        }
      }
      return r;
    }),
  );
  const namespaces = state.netns.map((n) => ({ name: n, present: present.has(n) }));
  const operator = { pid: state.operator?.pid ?? 0, running: state.operator ? isAlive(state.operator) : false };
  const controllers = { pid: state.controllers?.pid ?? 0, running: state.controllers ? isAlive(state.controllers) : false };
  const dns = Object.entries(state.dns ?? {}).map(([name, p]) => ({ name, pid: p.pid, running: isAlive(p) }));
  return {
    name,
    phase: state.phase,
    routing: plan.routing,
    createdAt: state.createdAt,
    healthy:
      state.phase === 'up' &&
      etcd.healthy &&
      operator.running &&
      controllers.running &&
      dns.every((d) => d.running) &&
      nodes.every((n) => n.agent.health === 'ok' && n.kubelet.running) &&
      namespaces.every((n) => n.present),
    etcd,
    operator,
    controllers,
    dns,
    clusterDNS: state.clusterDNS ?? '',
    fabric: { netns: plan.fabric.netns, cidr: plan.fabric.cidr },
    world: { netns: plan.world.netns, ip: plan.world.ip },
    nodes,
    namespaces,
    ...(state.ui ? { ui: { url: state.ui.url, pid: state.ui.process.pid, running: isAlive(state.ui.process) } } : {}),
  };
}

/** Runs CMD inside a node's (or the world's, or the fabric's) namespace; resolves with its exit status. */
export function labExec(name: string, target: string, cmd: string[]): Promise<number> {
  const state = readState(name);
  if (!state) throw new LabStepError(`lab ${name}: state file missing`);
  const netns = resolveTarget(state.plan, target);
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', netns, ...cmd], { stdio: 'inherit' });
    child.on('error', (e) => reject(new LabStepError(`lab exec ${target}: ${e.message}`)));
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 + 9 : 1)));
  });
}

/**
 * Stops the lab's etcd (by its recorded pid), to exercise what agents do
 * while the store is away. The datapath must keep forwarding meanwhile.
 */
export async function labEtcdStop(name: string): Promise<void> {
  requireRoot(`lab etcd stop ${name}`);
  const state = readState(name);
  if (!state?.etcd) throw new LabStepError(`lab ${name}: has no etcd`);
  await stopProcess(state.etcd.process);
}

/** Starts the lab's etcd again on its data directory and sockets; waits until it answers. */
export async function labEtcdStart(name: string): Promise<void> {
  requireRoot(`lab etcd start ${name}`);
  const state = readState(name);
  if (!state?.etcd) throw new LabStepError(`lab ${name}: has no etcd`);
  if (isAlive(state.etcd.process)) return;
  const dir = join(state.dir, 'etcd');
  // A stopped etcd leaves its socket files behind, and will not listen over them.
  for (const f of ['etcd.sock:2379', 'peer.sock:2380']) rmSync(join(dir, f), { force: true });
  const etcd = startEtcd(state.plan.name, dir, state.plan.fabric.netns, ensureCgroup(state.plan.name, 'etcd'));
  state.etcd = { socket: etcd.socket, dataDir: etcd.dataDir, process: etcd.process };
  writeState(state);
  await waitEtcd(etcd);
}

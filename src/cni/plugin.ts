/**
 * beeline-cni's logic: it runs inside the node agent (src/cni/service.ts), which
 * bin/beeline-cni, a shell shim, hands every invocation to in one request. It
 * takes an address from the agent's IPAM, makes the veth pair and configures
 * both sides, and registers the endpoint; the agent programs the datapath.
 *
 *   ADD    validate → agent serves this network? → allocate → veth → pod and
 *          host config → register endpoint → result. Any failure undoes every
 *          step already done (endpoint, veth, address), so nothing half-made stays;
 *          an interface name already taken fails the veth step (code 102) and
 *          leaves that interface alone.
 *   DEL    idempotent, best effort: endpoint, host veth, address. Works without
 *          the netns, for containers never added, and twice.
 *   CHECK  host veth up and paired with the pod interface, the pod interface
 *          has prevResult's address, the agent has the endpoint.
 *   STATUS (1.1) the agent answers, serves this network, its datapath is
 *          healthy (else 51) and its pool has a free address (else 50).
 *   GC     (1.1) every attachment the agent holds (endpoint, host veth, IPAM
 *          allocation) that is not in cni.dev/valid-attachments is released.
 *   VERSION
 *
 * runPlugin() is the whole protocol over (environment, stdin) → (stdout, exit
 * code), with the agent and the links injected, so tests drive it in-process.
 */
import { CniError } from '../common/errors.js';
import { isRootNetns, rootNetnsRefusal, type NetnsRefusal } from '../common/netns.js';
import type { EndpointCreateRequest, IpamAllocation } from '../agent/types.js';
import { tryParseIPv4 } from '../ipam/cidr.js';
import type { AgentApi } from './agentapi.js';
import { attachmentOfOwner, hostIfname, ipamOwner, labelsOf, parseInvocation, parseNetConf, podOf, requestedAddress, requestedMac, resultAddressesFor } from './config.js';
import { VethNotCreated, type LinkInfo, type PodLinks } from './link.js';
import { errorObject, renderAddResult, versionResult } from './result.js';
import { CniCode, DEFAULT_NETWORK, type CniInvocation, type CniResult, type NetConf } from './types.js';

export interface PluginDeps {
  agent: (socket: string) => AgentApi;
  links: PodLinks;
  /** Unstructured log lines (stderr, which runtimes keep). */
  log: (line: string) => void;
  /**
   * The network namespace the plugin was run in (`net:[inode]`): the shim's (x-cni-plugin-netns),
   * or this process's. In the root namespace the plugin works only when the agent runs in
   * host-netns mode in this very namespace; unknown: never there.
   */
  pluginNetns?: string;
  /** Marks the end of one step of a command (BEELINE_CNI_TIMING=1: ms since the agent got the request; the shim prints them on stderr). */
  trace?: (step: string) => void;
}

export interface PluginOutput {
  exitCode: number;
  /** What goes to stdout: a result, a version result, an error object, or nothing. */
  stdout: string;
}

/** Runs one CNI invocation. Never throws: failures become the CNI error object and exit code 1. */
export async function runPlugin(env: NodeJS.ProcessEnv, readStdin: () => Promise<string>, deps: PluginDeps): Promise<PluginOutput> {
  let cniVersion: string | undefined;
  try {
    const inv = parseInvocation(env);
    if (inv.command === 'VERSION') return ok(versionResult());
    let text: string;
    try {
      text = await readStdin();
    } catch (e) {
      throw new CniError(CniCode.IoFailure, 'read network configuration from stdin', { details: (e as Error).message });
    }
    const conf = parseNetConf(text, inv.command);
    cniVersion = conf.cniVersion;
    switch (inv.command) {
      case 'ADD':
        return ok(await cmdAdd(inv, conf, deps));
      case 'DEL':
        await cmdDel(inv, conf, deps);
        return { exitCode: 0, stdout: '' };
      case 'CHECK':
        await cmdCheck(inv, conf, deps);
        return { exitCode: 0, stdout: '' };
      case 'STATUS':
        await cmdStatus(conf, deps);
        return { exitCode: 0, stdout: '' };
      case 'GC':
        await cmdGc(conf, deps);
        return { exitCode: 0, stdout: '' };
    }
  } catch (e) {
    const obj = errorObject(e, cniVersion);
    deps.log(`${env.CNI_COMMAND ?? '?'} ${env.CNI_CONTAINERID ?? ''}/${env.CNI_IFNAME ?? ''}: error ${obj.code}: ${obj.msg}${obj.details ? ` (${obj.details})` : ''}`);
    return { exitCode: 1, stdout: JSON.stringify(obj) + '\n' };
  }
}

const ok = (obj: unknown): PluginOutput => ({ exitCode: 0, stdout: JSON.stringify(obj) + '\n' });

/** CNI_NETNS must be a network namespace other than the root's and the plugin's own. */
function checkSandbox(inv: CniInvocation, links: PodLinks, missingCode: number): void {
  switch (links.classifyNetns(inv.netns)) {
    case 'pod':
      return;
    case 'missing':
      throw new CniError(missingCode, `CNI_NETNS ${inv.netns} does not exist`, { details: 'the container network namespace is gone or was never created' });
    case 'not-a-netns':
      throw new CniError(CniCode.InvalidEnvironment, `CNI_NETNS ${inv.netns} is not a network namespace`);
    case 'unreadable':
      throw new CniError(CniCode.InvalidEnvironment, `CNI_NETNS ${inv.netns} cannot be opened`, { hint: 'the plugin needs root' });
    case 'root':
      throw new CniError(CniCode.InvalidEnvironment, `CNI_NETNS ${inv.netns} is the machine's root network namespace`, { details: 'beeline never changes the root network namespace' });
    case 'self':
      throw new CniError(CniCode.InvalidEnvironment, `CNI_NETNS ${inv.netns} is the node's own network namespace, not a container's`);
  }
}

/** The agent must be up and serve the network the configuration names. */
async function checkNetwork(agent: AgentApi, conf: NetConf): Promise<void> {
  const served = (await agent.network()) ?? DEFAULT_NETWORK;
  if (served !== conf.name) {
    throw new CniError(CniCode.InvalidConfig, `network ${conf.name} is not served by the agent at ${agent.socket}`, {
      details: `the agent serves network ${served}; fix the conflist's name or agentSocket`,
    });
  }
}

/**
 * The plugin's root-namespace decision (rootNetnsRefusal, as the agent's own): in a node's
 * namespace, go on; when the links would be made in the machine's root one, or the plugin
 * was run there, only when the agent says it runs in host-netns mode in the plugin's own
 * namespace (a real node: both in the host's).
 */
export async function hostSafetyRefusal(deps: Pick<PluginDeps, 'links' | 'pluginNetns'>, agent: AgentApi): Promise<NetnsRefusal | undefined> {
  const inRoot = deps.links.inRootNetns() || (deps.pluginNetns !== undefined && isRootNetns(deps.pluginNetns));
  // Asked only in the root namespace: a node namespace needs no agent's word.
  const mode = inRoot ? await agent.hostNetns() : undefined;
  const hostNetns = mode !== undefined && mode.hostNetns && mode.netns !== '' && mode.netns === deps.pluginNetns;
  const r = rootNetnsRefusal('beeline-cni', { inRootNetns: inRoot, hostNetns });
  if (r && mode?.hostNetns) {
    // The agent is in host-netns mode, but not here (or the plugin's namespace is unknown).
    return { message: `${r.message}: the agent at ${agent.socket} runs in host-netns mode in ${mode.netns || 'a namespace it does not name'}, the plugin in ${deps.pluginNetns ?? 'a namespace it does not name'}`, hint: r.hint };
  }
  return r;
}

async function checkHostSafety(deps: PluginDeps, agent: AgentApi): Promise<void> {
  const r = await hostSafetyRefusal(deps, agent);
  if (r) throw new CniError(CniCode.HostSafety, r.message, { hint: r.hint });
}

function checkAllocation(a: IpamAllocation | undefined, owner: string): IpamAllocation {
  if (!a || tryParseIPv4(a.ip) === undefined || tryParseIPv4(a.gateway) === undefined) {
    throw new CniError(CniCode.Ipam, `agent POST /v1/ipam/allocate for ${owner}: answer has no valid ip and gateway`, { details: JSON.stringify(a) });
  }
  return a;
}

/** The error for an ADD whose interface names are taken (CNI_IFNAME in the pod, or the host end), if they are. */
function existingInterface(links: PodLinks, inv: CniInvocation, host: string, owner: string): CniError | undefined {
  if (links.podLink(inv.netns, inv.ifname)) {
    return new CniError(CniCode.Interface, `interface ${inv.ifname} already exists in ${inv.netns}`, { details: 'CNI_IFNAME must name a new interface' });
  }
  if (links.hostLink(host)) {
    return new CniError(CniCode.Interface, `host interface ${host} for ${owner} already exists`, {
      details: 'was this container added before without a DEL? run DEL first',
    });
  }
  return undefined;
}

/**
 * Owners (`<containerID>/<ifname>`) whose ADD runs in this process now: GC leaves
 * them alone, since the runtime may list an attachment only once its ADD is done.
 */
const addsInFlight = new Set<string>();

async function cmdAdd(inv: CniInvocation, conf: NetConf, deps: PluginDeps): Promise<CniResult> {
  const owner = ipamOwner(inv.containerID, inv.ifname);
  addsInFlight.add(owner);
  try {
    return await add(inv, conf, deps);
  } finally {
    addsInFlight.delete(owner);
  }
}

async function add(inv: CniInvocation, conf: NetConf, deps: PluginDeps): Promise<CniResult> {
  const { links } = deps;
  const wanted = requestedAddress(inv, conf);
  const mac = requestedMac(inv, conf);
  checkSandbox(inv, links, CniCode.UnknownContainer);
  const agent = deps.agent(conf.agentSocket);
  deps.trace?.('started');
  await checkNetwork(agent, conf);
  deps.trace?.('agent-status');
  await checkHostSafety(deps, agent);
  const host = hostIfname(inv.containerID, inv.ifname);
  const owner = ipamOwner(inv.containerID, inv.ifname);

  // Each undo is registered before its step runs: a step that fails half-way (or a
  // request that times out after the agent acted) is still undone. All are idempotent.
  const undo: { what: string; run: () => Promise<unknown> | unknown }[] = [];
  try {
    undo.push({ what: `release address of ${owner}`, run: () => agent.release(owner) });
    let alloc: IpamAllocation;
    if (wanted === undefined) {
      alloc = checkAllocation(await agent.allocate(owner), owner);
    } else {
      alloc = checkAllocation(await agent.allocateSpecific(owner, wanted), owner);
      // An agent from before IpamAllocateRequest.ip ignores it and gives any address.
      if (alloc.ip !== wanted) throw new CniError(CniCode.RequestedAddress, `requested address ${wanted}: the agent gave ${alloc.ip}`);
    }
    deps.trace?.('allocated');

    undo.push({ what: `delete veth ${host}`, run: () => links.deleteHostLink(host) || links.deletePodLink(inv.netns, inv.ifname) });
    // The kernel refuses a name already taken on either side and makes nothing. Asking only
    // now (not before every ADD) saves two `ip` runs per ADD; the links that are there are
    // someone else's, so the veth undo must not touch them.
    const notCreated = (e: unknown): never => {
      const taken = existingInterface(links, inv, host, owner);
      if (taken) {
        undo.pop();
        throw taken;
      }
      throw e;
    };
    // The network config's MTU wins; else the agent's (which knows the tunnel overhead).
    const mtu = conf.mtu ?? alloc.mtu;
    let pod: LinkInfo;
    if (links.addPodVeth) {
      try {
        pod = links.addPodVeth(inv.netns, inv.ifname, host, alloc.ip, alloc.gateway, mtu, mac);
      } catch (e) {
        if (e instanceof VethNotCreated) notCreated(e);
        throw e;
      }
    } else {
      try {
        links.createVeth(inv.netns, inv.ifname, host);
      } catch (e) {
        notCreated(e);
      }
      pod = links.configurePod(inv.netns, inv.ifname, alloc.ip, alloc.gateway, mtu, mac);
    }
    const hostSide = links.configureHost(host, mtu);
    deps.trace?.('veth');

    const req: EndpointCreateRequest = {
      containerID: inv.containerID,
      ifname: inv.ifname,
      netns: inv.netns,
      hostIfname: host,
      ipv4: alloc.ip,
      mac: pod.mac,
      hostMac: hostSide.mac,
    };
    // A container the runtime names no Kubernetes namespace for gets the configured default one.
    req.pod = podOf(inv, conf);
    const labels = labelsOf(conf);
    if (Object.keys(labels).length) req.labels = labels;
    undo.push({ what: `delete endpoint ${owner}`, run: () => agent.deleteEndpoint(inv.containerID, inv.ifname) });
    await agent.createEndpoint(req);
    deps.trace?.('endpoint');

    return renderAddResult({
      cniVersion: conf.cniVersion,
      netns: inv.netns,
      ifname: inv.ifname,
      mac: pod.mac,
      hostIfname: host,
      hostMac: hostSide.mac,
      ip: alloc.ip,
      gateway: alloc.gateway,
      ...(conf.dns ? { dns: conf.dns } : {}),
      ...(conf.prevResult ? { prevResult: conf.prevResult } : {}),
    });
  } catch (e) {
    const failed: string[] = [];
    for (const u of undo.reverse()) {
      try {
        await u.run();
      } catch (ue) {
        failed.push(`${u.what}: ${(ue as Error).message}`);
      }
    }
    if (failed.length) {
      deps.log(`ADD ${owner}: rollback incomplete: ${failed.join('; ')}`);
      if (e instanceof CniError) {
        throw new CniError(e.cniCode, e.message, { hint: e.hint, details: `${e.details ?? ''}; rollback incomplete (run DEL): ${failed.join('; ')}` });
      }
    }
    throw e;
  }
}

async function cmdDel(inv: CniInvocation, conf: NetConf, deps: PluginDeps): Promise<void> {
  const { links } = deps;
  // A netns that is gone is fine for DEL; one that is the root's or ours is never touched.
  if (inv.netns) {
    const kind = links.classifyNetns(inv.netns);
    if (kind !== 'pod' && kind !== 'missing') checkSandbox(inv, links, CniCode.UnknownContainer);
  }
  const agent = deps.agent(conf.agentSocket);
  const host = hostIfname(inv.containerID, inv.ifname);
  const owner = ipamOwner(inv.containerID, inv.ifname);
  deps.trace?.('started');
  try {
    await checkNetwork(agent, conf);
  } catch (e) {
    // Agent down: still take the veth away (the pod is going), then ask to be called again.
    // The agent cannot say whether it runs in host-netns mode: the root namespace stays untouched.
    if (e instanceof CniError && e.cniCode === CniCode.TryAgainLater && !rootNetnsRefusal('beeline-cni', { inRootNetns: links.inRootNetns(), hostNetns: false })) {
      try {
        links.deleteHostLink(host);
      } catch (le) {
        deps.log(`DEL ${owner}: delete ${host}: ${(le as Error).message}`);
      }
    }
    throw e;
  }
  deps.trace?.('agent-status');
  await checkHostSafety(deps, agent);
  await agent.deleteEndpoint(inv.containerID, inv.ifname);
  deps.trace?.('endpoint');
  links.deleteHostLink(host);
  deps.trace?.('veth');
  await agent.release(owner);
  deps.trace?.('released');
}

async function cmdCheck(inv: CniInvocation, conf: NetConf, deps: PluginDeps): Promise<void> {
  const { links } = deps;
  const failed = (msg: string, details?: string) => new CniError(CniCode.CheckFailed, msg, { details: details ?? 'container networking is not as ADD left it' });
  const expected = resultAddressesFor(conf.prevResult!, inv.ifname);
  if (expected.length === 0) throw new CniError(CniCode.InvalidConfig, `prevResult has no address for ${inv.ifname}`);
  checkSandbox(inv, links, CniCode.CheckFailed);
  const agent = deps.agent(conf.agentSocket);
  await checkNetwork(agent, conf);
  await checkHostSafety(deps, agent);
  const host = hostIfname(inv.containerID, inv.ifname);
  const owner = ipamOwner(inv.containerID, inv.ifname);

  const h = links.hostLink(host);
  if (!h) throw failed(`host interface ${host} of ${owner} does not exist`);
  if (!h.up) throw failed(`host interface ${host} of ${owner} is down`);
  const p = links.podLink(inv.netns, inv.ifname);
  if (!p) throw failed(`interface ${inv.ifname} does not exist in ${inv.netns}`);
  if (!p.up) throw failed(`interface ${inv.ifname} in ${inv.netns} is down`);
  if (h.peerIfindex !== undefined && p.peerIfindex !== undefined && (h.peerIfindex !== p.ifindex || p.peerIfindex !== h.ifindex)) {
    throw failed(`host interface ${host} is not the peer of ${inv.ifname} in ${inv.netns}`);
  }
  const have = links.podAddresses(inv.netns, inv.ifname);
  for (const ip of expected) {
    if (!have.includes(ip.address)) throw failed(`interface ${inv.ifname} in ${inv.netns} lacks address ${ip.address}`, `it has: ${have.join(', ') || 'none'}`);
  }
  const ep = (await agent.listEndpoints()).find((e) => e.containerID === inv.containerID && e.ifname === inv.ifname);
  if (!ep) throw failed(`the agent has no endpoint for ${owner}`);
  const want = expected[0]!.address.split('/')[0];
  if (ep.ipv4 !== want) throw failed(`the agent's endpoint for ${owner} has address ${ep.ipv4}, prevResult ${want}`);
  if (ep.hostIfname !== host) throw failed(`the agent's endpoint for ${owner} names host interface ${ep.hostIfname}, not ${host}`);
}

/** STATUS (spec 1.1): exit 0 when an ADD would be served now; else 50, or 51 when existing pods are affected too. */
async function cmdStatus(conf: NetConf, deps: PluginDeps): Promise<void> {
  const agent = deps.agent(conf.agentSocket);
  const notAvailable = (msg: string, details?: string) => new CniError(CniCode.PluginNotAvailable, msg, { details });
  try {
    await checkNetwork(agent, conf);
  } catch (e) {
    if (e instanceof CniError && e.cniCode === CniCode.TryAgainLater) throw notAvailable(e.describe(), e.details);
    throw e;
  }
  const refused = await hostSafetyRefusal(deps, agent);
  if (refused) throw notAvailable(`${refused.message}: ADD is refused here (code 105)`, refused.hint);
  const r = await agent.readiness();
  if (r.datapathProblem) {
    throw new CniError(CniCode.PluginNotAvailableLimitedConnectivity, `the datapath of the agent at ${agent.socket} is degraded`, { details: r.datapathProblem });
  }
  if (!r.ipam) throw notAvailable(`the agent at ${agent.socket} is still starting: it has no pod CIDR yet`);
  if (r.ipam.used >= r.ipam.capacity) {
    throw notAvailable(`no free pod address: ${r.ipam.used} of ${r.ipam.capacity} in use`, 'pods must be deleted (or the node given a larger pod CIDR) before another ADD');
  }
}

/**
 * GC (spec 1.1): releases every attachment of this network the agent holds
 * (endpoint, host veth, IPAM allocation) that is not among the valid ones.
 * Allocations whose owner is not `<containerID>/<ifname>` are not the
 * plugin's and stay, as do attachments whose ADD is under way. Goes on past a
 * failure and reports all of them (code 101) after doing what it could.
 */
async function cmdGc(conf: NetConf, deps: PluginDeps): Promise<void> {
  const { links } = deps;
  const agent = deps.agent(conf.agentSocket);
  await checkNetwork(agent, conf);
  await checkHostSafety(deps, agent);
  const keep = new Set((conf.validAttachments ?? []).map((a) => ipamOwner(a.containerID, a.ifname)));
  const stale = new Map<string, { containerID: string; ifname: string; host: string; endpoint: boolean }>();
  for (const ep of await agent.listEndpoints()) {
    const owner = ipamOwner(ep.containerID, ep.ifname);
    if (!keep.has(owner)) stale.set(owner, { containerID: ep.containerID, ifname: ep.ifname, host: ep.hostIfname, endpoint: true });
  }
  for (const a of (await agent.allocations?.()) ?? []) {
    const at = attachmentOfOwner(a.owner);
    if (at && !keep.has(a.owner) && !stale.has(a.owner)) stale.set(a.owner, { ...at, host: hostIfname(at.containerID, at.ifname), endpoint: false });
  }
  const failed: string[] = [];
  let released = 0;
  for (const [owner, at] of stale) {
    if (addsInFlight.has(owner)) continue;
    try {
      if (at.endpoint) await agent.deleteEndpoint(at.containerID, at.ifname);
      links.deleteHostLink(at.host);
      await agent.release(owner);
      released++;
      deps.log(`GC ${owner}: released (not a valid attachment)`);
    } catch (e) {
      failed.push(`${owner}: ${(e as Error).message}`);
    }
  }
  deps.trace?.('gc');
  if (failed.length) {
    throw new CniError(CniCode.Ipam, `GC: ${failed.length} of ${failed.length + released} stale attachments not released`, { details: failed.join('; ') });
  }
}

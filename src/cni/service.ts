/**
 * The agent's side of beeline-cni. bin/beeline-cni is a POSIX shell shim (no
 * Node.js start-up per pod: that alone was 28 ms of a 110 ms ADD) that hands
 * the whole invocation to the node agent in ONE request, as Kube-OVN's and
 * Antrea's CNI binaries do:
 *
 *   POST /v1/cni   headers x-cni-command, x-cni-containerid, x-cni-netns,
 *                  x-cni-ifname, x-cni-args, x-cni-path (the CNI_* environment;
 *                  a header left out is a variable not set), x-cni-timing: 1
 *                  (BEELINE_CNI_TIMING), x-cni-plugin-netns: the namespace the
 *                  shim runs in (`net:[inode]`: in the root namespace the plugin
 *                  works only beside a host-netns agent in that very namespace);
 *                  body: the network configuration, as the
 *                  plugin got it on stdin, unparsed.
 *   200            body: what the plugin prints on stdout (result, error object or
 *                  nothing); x-beeline-cni-exit: its exit status; x-beeline-cni-log:
 *                  its stderr lines (tab-separated), the timing marks among them.
 *
 * The agent runs runPlugin() (src/cni/plugin.ts: allocate, veth, both sides'
 * config, endpoint, rollback, DEL idempotence, CHECK) in its own process, in
 * the node's network namespace, with the agent's IPAM and endpoint manager
 * called directly: no HTTP round trips to itself.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { BeelineError, CniError } from '../common/errors.js';
import type { EndpointCreateRequest, EndpointDeleteResult, EndpointModel, IpamAllocation } from '../agent/types.js';
import type { RawHandler } from '../agent/server.js';
import type { AgentApi, AgentNetns, AgentReadiness } from './agentapi.js';
import type { PodLinks } from './link.js';
import { runPlugin, type PluginOutput } from './plugin.js';
import { CniCode, type CniCodeValue } from './types.js';

export const CNI_ROUTE = '/v1/cni';
export const EXIT_HEADER = 'x-beeline-cni-exit';
export const LOG_HEADER = 'x-beeline-cni-log';
/** The shim's network namespace (`net:[inode]`, readlink /proc/self/ns/net). */
export const PLUGIN_NETNS_HEADER = 'x-cni-plugin-netns';
const ENV = ['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_ARGS', 'CNI_PATH'] as const;

/** The CNI_* environment the shim sent as headers (x-cni-command for CNI_COMMAND, …). */
export function envFromHeaders(h: IncomingHttpHeaders): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ENV) {
    const v = h[`x-${name.toLowerCase().replace(/_/g, '-')}`];
    if (typeof v === 'string' && v !== '') env[name] = v;
  }
  return env;
}

/** The agent's own calls, as the plugin's logic sees them. */
export interface LocalAgent {
  network(): string | undefined;
  allocate(owner: string): IpamAllocation;
  allocateSpecific(owner: string, ip: string): IpamAllocation;
  allocations(): { ip: string; owner: string }[];
  hostNetns(): AgentNetns;
  readiness(): AgentReadiness;
  release(owner: string): void;
  createEndpoint(req: EndpointCreateRequest): Promise<EndpointModel>;
  deleteEndpoint(containerID: string, ifname: string): Promise<EndpointDeleteResult>;
  listEndpoints(): EndpointModel[];
}

/** An AgentApi over direct calls; failures get the CNI codes and messages the HTTP routes gave them. */
export function localAgentApi(socket: string, a: LocalAgent): AgentApi {
  const call = async <T>(code: CniCodeValue, what: string, fn: () => T | Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof CniError) throw e;
      const apiCode = e instanceof BeelineError ? e.code : 'BL_ERR_INTERNAL';
      throw new CniError(code, `agent ${what}: ${(e as Error).message}`, { details: `agent error ${apiCode}` });
    }
  };
  return {
    socket,
    network: () => call(CniCode.TryAgainLater, 'status', () => a.network()),
    allocate: (owner) => call(CniCode.Ipam, 'POST /v1/ipam/allocate', () => a.allocate(owner)),
    // The pool's refusal (not in the pod CIDR, reserved, held by another owner) names the address and why.
    allocateSpecific: (owner, ip) => call(CniCode.RequestedAddress, `allocate requested address ${ip}`, () => a.allocateSpecific(owner, ip)),
    allocations: () => call(CniCode.Ipam, 'IPAM allocations', () => a.allocations()),
    hostNetns: () => call(CniCode.TryAgainLater, 'status', () => a.hostNetns()),
    readiness: () => call(CniCode.PluginNotAvailable, 'status', () => a.readiness()),
    release: (owner) => call(CniCode.Ipam, 'POST /v1/ipam/release', () => a.release(owner)),
    createEndpoint: (req) => call(CniCode.Endpoint, 'PUT /v1/endpoints', () => a.createEndpoint(req)),
    deleteEndpoint: (c, i) => call(CniCode.Endpoint, 'DELETE /v1/endpoints', () => a.deleteEndpoint(c, i)),
    listEndpoints: () => call(CniCode.Endpoint, 'GET /v1/endpoints', () => a.listEndpoints()),
  };
}

export interface CniServed extends PluginOutput {
  /** The plugin's stderr lines (log lines; timing marks when asked for, ms since the request arrived). */
  log: string[];
}

/**
 * Runs one invocation in-process. Never throws (runPlugin turns every failure into an error object).
 * `pluginNetns`: the namespace the shim was run in (`net:[inode]`), when it said.
 */
export async function serveCni(env: NodeJS.ProcessEnv, stdin: string, agent: AgentApi, links: PodLinks, timing = false, pluginNetns?: string): Promise<CniServed> {
  const t0 = performance.now();
  const log: string[] = [];
  const out = await runPlugin(env, async () => stdin, {
    agent: () => agent,
    links,
    ...(pluginNetns ? { pluginNetns } : {}),
    log: (l) => void log.push(l),
    ...(timing ? { trace: (step: string) => void log.push(`timing ${step} ${(performance.now() - t0).toFixed(2)}`) } : {}),
  });
  return { ...out, log };
}

/** A header value carries one line of visible ASCII (Node refuses anything else there). */
const headerSafe = (l: string) => l.replace(/[^\x20-\x7e]/g, '?');

/** POST /v1/cni. `agentLog` gets the plugin's log lines (not the timing marks): the agent's log keeps them. */
export function cniRoute(agent: AgentApi, links: PodLinks, agentLog: (line: string) => void): RawHandler {
  return async (req, res, body) => {
    const netns = req.headers[PLUGIN_NETNS_HEADER];
    const r = await serveCni(envFromHeaders(req.headers), body, agent, links, req.headers['x-cni-timing'] === '1', typeof netns === 'string' ? netns : undefined);
    for (const l of r.log) if (!l.startsWith('timing ')) agentLog(l);
    const headers: Record<string, string> = { 'content-type': 'application/json', [EXIT_HEADER]: String(r.exitCode) };
    if (r.log.length) headers[LOG_HEADER] = r.log.map(headerSafe).join('\t');
    res.writeHead(200, headers).end(r.stdout);
  };
}

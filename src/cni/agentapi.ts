/**
 * The plugin's view of the node agent: the five routes it uses, typed, with
 * every failure turned into a CniError. An agent that does not answer is a
 * transient condition (code 11, "try again later"): the runtime retries.
 */
import { AgentUnreachableError, CniError } from '../common/errors.js';
import { agentRequest, type AgentResponse } from '../agent/client.js';
import type { AgentReply } from '../agent/replies.js';
import type { EndpointCreateRequest, EndpointDeleteResult, EndpointModel, IpamAllocateRequest, IpamAllocation } from '../agent/types.js';
import { CniCode, type CniCodeValue } from './types.js';

export interface AgentApi {
  readonly socket: string;
  /** The CNI network name the agent serves (GET /v1/status `cniNetwork`); undefined when it does not say. */
  network(): Promise<string | undefined>;
  allocate(owner: string): Promise<IpamAllocation>;
  /**
   * Exactly `ip` for `owner` (the runtime asked for it): free and inside the
   * pod CIDR, else a CniError with code 106 naming the address and why
   * (POST /v1/ipam/allocate with `ip`).
   */
  allocateSpecific(owner: string, ip: string): Promise<IpamAllocation>;
  /**
   * Whether the agent runs in host-netns mode, and its network namespace (`net:[inode]`,
   * GET /v1/status `hostNetns`, `netns`): the plugin works in the root namespace only beside
   * such an agent in its own namespace. An agent that does not say is not in host-netns mode.
   */
  hostNetns(): Promise<AgentNetns>;
  /** Every IPAM allocation, `owner` being `<containerID>/<ifname>` for the plugin's (GC). */
  allocations?(): Promise<{ ip: string; owner: string }[]>;
  /** Whether an ADD can be served now (STATUS). */
  readiness(): Promise<AgentReadiness>;
  release(owner: string): Promise<void>;
  createEndpoint(req: EndpointCreateRequest): Promise<EndpointModel>;
  deleteEndpoint(containerID: string, ifname: string): Promise<EndpointDeleteResult>;
  listEndpoints(): Promise<EndpointModel[]>;
}

/** The agent's namespace and mode, as the plugin's host-safety check asks for them. */
export interface AgentNetns {
  hostNetns: boolean;
  /** `net:[inode]`; empty when the agent does not say. */
  netns: string;
}

/** What STATUS asks the agent. */
export interface AgentReadiness {
  /** The node's pool; undefined while the agent is still starting (no pod CIDR yet). */
  ipam?: { used: number; capacity: number };
  /** Why the datapath cannot serve existing pods fully, when it cannot. */
  datapathProblem?: string;
}

type ApiError = { error?: { code?: string; message?: string } };

/** How long one call may take; a runtime's whole ADD budget is minutes, an agent answers in milliseconds. */
const TIMEOUT_MS = 10_000;

export function unreachable(socket: string, cause: string): CniError {
  return new CniError(CniCode.TryAgainLater, `agent not reachable at ${socket}`, { hint: 'is the agent running?', details: cause });
}

export function agentApi(socket: string): AgentApi {
  const call = async <T>(code: CniCodeValue, method: string, path: string, body?: unknown): Promise<T> => {
    let r: AgentResponse<T & ApiError>;
    try {
      r = await agentRequest<T & ApiError>(socket, method, path, body, TIMEOUT_MS);
    } catch (e) {
      if (e instanceof AgentUnreachableError) throw unreachable(socket, e.message);
      throw e;
    }
    if (r.status >= 200 && r.status <= 299) return r.body;
    const apiCode = r.body?.error?.code ?? `HTTP ${r.status}`;
    const message = r.body?.error?.message ?? `HTTP ${r.status}`;
    throw new CniError(code, `agent ${method} ${path.split('?')[0]}: ${message}`, { details: `agent error ${apiCode} (status ${r.status})` });
  };
  // maps=0: the agent need not count its maps' entries (an older agent ignores it). Partial:
  // an older agent, or a test's fake, leaves fields out.
  const status = () => call<Partial<AgentReply<'GetStatus'>>>(CniCode.TryAgainLater, 'GET', '/v1/status?maps=0');
  return {
    socket,
    async network() {
      const st = await status();
      return typeof st?.cniNetwork === 'string' && st.cniNetwork !== '' ? st.cniNetwork : undefined;
    },
    async hostNetns() {
      const st = await status();
      return { hostNetns: st?.hostNetns === true, netns: typeof st?.netns === 'string' ? st.netns : '' };
    },
    async readiness() {
      const st = await status();
      return {
        ...(st.podCIDR && st.ipam ? { ipam: st.ipam } : {}),
        ...(st.datapath?.state === 'degraded' ? { datapathProblem: st.datapath.message ?? 'datapath degraded' } : {}),
      };
    },
    allocate: (owner) => call<IpamAllocation>(CniCode.Ipam, 'POST', '/v1/ipam/allocate', { owner } satisfies IpamAllocateRequest),
    // The agent's refusal (not in the pod CIDR, reserved, held by another owner) names the address and why.
    allocateSpecific: (owner, ip) => call<IpamAllocation>(CniCode.RequestedAddress, 'POST', '/v1/ipam/allocate', { owner, ip } satisfies IpamAllocateRequest),
    release: async (owner) => {
      await call<unknown>(CniCode.Ipam, 'POST', '/v1/ipam/release', { owner });
    },
    createEndpoint: (req) => call<EndpointModel>(CniCode.Endpoint, 'PUT', '/v1/endpoints', req),
    deleteEndpoint: (containerID, ifname) =>
      call<EndpointDeleteResult>(CniCode.Endpoint, 'DELETE', `/v1/endpoints?containerID=${encodeURIComponent(containerID)}&ifname=${encodeURIComponent(ifname)}`),
    listEndpoints: () => call<EndpointModel[]>(CniCode.Endpoint, 'GET', '/v1/endpoints'),
  };
}

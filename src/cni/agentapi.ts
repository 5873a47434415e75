/**
 * The plugin's view of the node agent: the five routes it uses, typed, with
 * every failure turned into a CniError. An agent that does not answer is a
 * transient condition (code 11, "try again later"): the runtime retries.
 */
import { AgentUnreachableError, CniError } from '../common/errors.js';
import { agentRequest, type AgentResponse } from '../agent/client.js';
import type { EndpointCreateRequest, EndpointDeleteResult, EndpointModel, IpamAllocation } from '../agent/types.js';
import { CniCode, type CniCodeValue } from './types.js';

export interface AgentApi {
  readonly socket: string;
  /** The CNI network name the agent serves (GET /v1/status `cniNetwork`); undefined when it does not say. */
  network(): Promise<string | undefined>;
  allocate(owner: string): Promise<IpamAllocation>;
  /**
   * Exactly `ip` for `owner` (the runtime asked for it): free and inside the
   * pod CIDR, else a CniError with code 106 naming the address and why.
   * Only the agent's own plugin (service.ts) has it: the HTTP API has no route.
   */
  allocateSpecific?(owner: string, ip: string): Promise<IpamAllocation>;
  /** Every IPAM allocation, `owner` being `<containerID>/<ifname>` for the plugin's (GC). */
  allocations?(): Promise<{ ip: string; owner: string }[]>;
  /** Whether an ADD can be served now (STATUS). */
  readiness(): Promise<AgentReadiness>;
  release(owner: string): Promise<void>;
  createEndpoint(req: EndpointCreateRequest): Promise<EndpointModel>;
  deleteEndpoint(containerID: string, ifname: string): Promise<EndpointDeleteResult>;
  listEndpoints(): Promise<EndpointModel[]>;
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
  return {
    socket,
    async network() {
      // maps=0: the agent need not count its maps' entries (an older agent ignores it).
      const st = await call<{ cniNetwork?: string }>(CniCode.TryAgainLater, 'GET', '/v1/status?maps=0');
      return typeof st?.cniNetwork === 'string' && st.cniNetwork !== '' ? st.cniNetwork : undefined;
    },
    async readiness() {
      const st = await call<{ podCIDR?: string; ipam?: { used: number; capacity: number }; datapath?: { state?: string; message?: string } }>(CniCode.TryAgainLater, 'GET', '/v1/status?maps=0');
      return {
        ...(st.podCIDR && st.ipam ? { ipam: st.ipam } : {}),
        ...(st.datapath?.state === 'degraded' ? { datapathProblem: st.datapath.message ?? 'datapath degraded' } : {}),
      };
    },
    allocate: (owner) => call<IpamAllocation>(CniCode.Ipam, 'POST', '/v1/ipam/allocate', { owner }),
    release: async (owner) => {
      await call<unknown>(CniCode.Ipam, 'POST', '/v1/ipam/release', { owner });
    },
    createEndpoint: (req) => call<EndpointModel>(CniCode.Endpoint, 'PUT', '/v1/endpoints', req),
    deleteEndpoint: (containerID, ifname) =>
      call<EndpointDeleteResult>(CniCode.Endpoint, 'DELETE', `/v1/endpoints?containerID=${encodeURIComponent(containerID)}&ifname=${encodeURIComponent(ifname)}`),
    listEndpoints: () => call<EndpointModel[]>(CniCode.Endpoint, 'GET', '/v1/endpoints'),
  };
}

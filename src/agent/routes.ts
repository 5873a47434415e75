/**
 * The agent's routes, mounted from its contract (api/agent/agent.proto): each
 * rpc of `service Agent` names its HTTP method and path in an `(agent.http)`
 * option, and the agent gives one handler per rpc name. A route the contract
 * does not declare cannot be mounted, and an rpc without a handler stops the
 * agent at start, so the table the CLI reads (the .proto) and the routes the
 * agent serves are the same list.
 */
import type { IncomingMessage } from 'node:http';
import protobuf from 'protobufjs';
import { protoRoot } from '../api/proto.js';
import { AgentContractError, BeelineError } from '../common/errors.js';
import { agentRequest } from './client.js';
import type { ApiServer } from './server.js';
import type { AgentReplies, AgentReply, AgentRpc } from './replies.js';

/** The contract's service. */
export const AGENT_SERVICE = 'agent.Agent';

/** One rpc as the agent serves it over HTTP. */
export interface AgentRoute {
  rpc: string;
  method: string;
  path: string;
  /** Fully-qualified request and response message names. */
  request: string;
  response: string;
  /** The response is `(agent.bare)`: the body is the value of its one field. */
  bare: boolean;
}

/** What a handler gets: the parsed JSON body (POST, PUT) and the query (GET, DELETE), as today's routes did. */
export interface AgentCall {
  req: IncomingMessage;
  body: unknown;
  query: URLSearchParams;
}

/**
 * One handler per rpc of the contract, returning the reply as it goes on the
 * wire: for a bare response message, its one field's value (a list, or null).
 */
export type AgentHandlers = { [K in AgentRpc]: (call: AgentCall) => AgentReplies[K] | Promise<AgentReplies[K]> };

const METHODS = new Set(['GET', 'PUT', 'POST', 'DELETE']);

/** Reads an option protobufjs keeps as parsed `(name)` objects or flattened `(name).field` keys. */
function option(obj: protobuf.ReflectionObject, name: string): unknown {
  for (const o of (obj.parsedOptions ?? []) as Record<string, unknown>[]) if (name in o) return o[name];
  return undefined;
}

let table: AgentRoute[] | undefined;

/**
 * The route table of `service Agent`, in the contract's order. Throws
 * AgentContractError when an rpc has no `(agent.http)` option, a method
 * other than GET/PUT/POST/DELETE, a path not starting with `/`, a
 * method+path another rpc has, is streaming, or answers a bare message
 * without exactly one field.
 */
export function agentRoutes(root: protobuf.Root = protoRoot()): AgentRoute[] {
  if (root === protoRoot() && table) return table;
  const service = root.lookupService(AGENT_SERVICE);
  const seen = new Map<string, string>();
  const routes = service.methodsArray.map((m) => {
    m.resolve();
    const http = option(m, '(http)') as { method?: string; path?: string } | undefined;
    if (!http?.method || !http.path) throw new AgentContractError(`${AGENT_SERVICE}.${m.name}: no (agent.http) option with method and path`);
    if (!METHODS.has(http.method)) throw new AgentContractError(`${AGENT_SERVICE}.${m.name}: (agent.http).method ${http.method}: not GET, PUT, POST or DELETE`);
    if (!http.path.startsWith('/') || http.path.includes('?')) throw new AgentContractError(`${AGENT_SERVICE}.${m.name}: (agent.http).path ${http.path}: must start with / and have no query`);
    if (m.requestStream || m.responseStream) throw new AgentContractError(`${AGENT_SERVICE}.${m.name}: streaming rpcs are not served from the table`);
    const key = `${http.method} ${http.path}`;
    const other = seen.get(key);
    if (other) throw new AgentContractError(`${AGENT_SERVICE}.${m.name}: ${key} is ${other}'s route too`);
    seen.set(key, m.name);
    const res = m.resolvedResponseType!;
    const bare = option(res, '(bare)') === true;
    if (bare && res.fieldsArray.length !== 1) throw new AgentContractError(`${res.fullName.slice(1)}: (agent.bare) needs exactly one field, has ${res.fieldsArray.length}`);
    return { rpc: m.name, method: http.method, path: http.path, request: m.resolvedRequestType!.fullName.slice(1), response: res.fullName.slice(1), bare };
  });
  if (root === protoRoot()) table = routes;
  return routes;
}

/** The route of one rpc (for clients: `beeline` asks the agent by rpc name). */
export function agentRoute(rpc: AgentRpc): AgentRoute {
  const r = agentRoutes().find((x) => x.rpc === rpc);
  if (!r) throw new AgentContractError(`${AGENT_SERVICE}.${rpc}: not in the contract`);
  return r;
}

/**
 * Mounts one handler per rpc on the server, at the rpc's method and path.
 * Throws AgentContractError, naming them, when an rpc has no handler or a
 * handler has no rpc. The handler's result is the body as it was before the
 * contract (the server writes it as JSON): no field is renamed, added or
 * unwrapped here.
 */
export function mountAgentRoutes(api: ApiServer, handlers: AgentHandlers, routes: AgentRoute[] = agentRoutes()): AgentRoute[] {
  const byName = handlers as unknown as Record<string, ((call: AgentCall) => unknown) | undefined>;
  const missing = routes.filter((r) => typeof byName[r.rpc] !== 'function').map((r) => r.rpc);
  const names = new Set(routes.map((r) => r.rpc));
  const extra = Object.keys(byName).filter((k) => !names.has(k));
  if (missing.length || extra.length) {
    const parts = [missing.length ? `rpcs without a handler: ${missing.join(', ')}` : '', extra.length ? `handlers without an rpc: ${extra.join(', ')}` : ''].filter(Boolean);
    throw new AgentContractError(`agent routes do not match ${AGENT_SERVICE} (api/agent/agent.proto): ${parts.join('; ')}`);
  }
  for (const r of routes) {
    const h = byName[r.rpc]!;
    api.route(r.method, r.path, (req, body, query) => h({ req, body, query }));
  }
  return routes;
}

/**
 * Calls one rpc of the agent by name: its method and path come from the
 * contract, `query` goes into the URL (GET, DELETE) and `body` is the JSON
 * body (POST, PUT). Resolves with the reply as JSON gives it; a 4xx/5xx
 * answer rejects with a BeelineError carrying the agent's own code
 * (`BL_ERR_USAGE`, `BL_ERR_NOT_FOUND`, …), an unreachable agent with
 * AgentUnreachableError. (The CLI's commands still name their paths, to spare
 * every short command loading the contracts; the relay and the UI call by rpc.)
 */
export async function agentCall<K extends AgentRpc>(
  socketPath: string,
  rpc: K,
  opts: { query?: Record<string, string>; body?: unknown; timeoutMs?: number } = {},
): Promise<AgentReply<K>> {
  const route = agentRoute(rpc);
  const q = new URLSearchParams(opts.query ?? {}).toString();
  const path = q ? `${route.path}?${q}` : route.path;
  const r = await agentRequest<AgentReply<K> & { error?: { code?: string; message?: string } }>(socketPath, route.method, path, opts.body, opts.timeoutMs);
  if (r.status < 200 || r.status > 299) {
    const err = (r.body as { error?: { code?: string; message?: string } } | null)?.error;
    throw new BeelineError(err?.code ?? 'BL_ERR_INTERNAL', `agent ${socketPath}: ${rpc} (${route.method} ${path}): ${err?.message ?? `HTTP ${r.status}`}`);
  }
  return r.body;
}

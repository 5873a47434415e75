/**
 * The node proxy's HTTP records → Hubble L7 flows. One HttpAccessRecord (one
 * request and the answer the client got) becomes the two flows Cilium's
 * proxy produces for an exchange, filled the way Hubble's L7 parser
 * (pkg/hubble/parser/seven) fills them from Cilium's access log:
 *
 *   REQUEST   client → server, is_reply false, time = the request's first
 *             byte, latency_ns 0, http { method, url, protocol } (no code);
 *             Summary `HTTP/1.1 GET http://host/path`.
 *   RESPONSE  server → client (source and destination swapped, as Cilium's
 *             response record has them; `observe` prints it `client <- server`
 *             and httpV2 counts it from the request's side), is_reply true,
 *             time = request time + latency, latency_ns = the record's
 *             responseMs, http { code, method, url, protocol };
 *             Summary `HTTP/1.1 200 3ms (GET http://host/path)`.
 *
 * A record with status -1 (no response was sent: the client or the server
 * went away) gives the request flow only, as Cilium's proxy logs no response
 * it did not send.
 *
 * Verdicts (Hubble's decodeVerdict of Cilium's access-log verdicts): a
 * request the policy denied is DROPPED (Cilium's VerdictDenied), and the
 * proxy's `403 Access denied` to it is a RESPONSE flow FORWARDED with code
 * 403, as Hubble shows an L7 denial (`http-request DROPPED`, then
 * `http-response FORWARDED (HTTP/1.1 403 0ms …)`). Hubble leaves drop_reason
 * 0 on L7 flows (DROP_REASON_UNKNOWN); so do we, so that a filter or a
 * script written against Hubble selects the same flows. A request the proxy
 * itself refused or failed (HAProxy termination state P…, R…, I…: an
 * invalid request, a resource limit, an internal error), or that the client
 * abandoned before it was complete (CR, cR: an abort, a slowloris' 408),
 * never reached a policy decision nor the server: ERROR (Cilium's
 * VerdictError). Everything
 * else is FORWARDED.
 *
 * Policies: the record's allowedBy (origin text, `CiliumNetworkPolicy/ns/name`)
 * becomes ingress_allowed_by or egress_allowed_by (by the record's direction)
 * on the request flow, with the labels Cilium gives a policy
 * (decidingPolicy). Hubble's L7 flows name no policy; ours name the one that
 * allowed, and for a denied request the policies whose HTTP rules it failed
 * (the record's rulesOf), as ingress_denied_by or egress_denied_by on the
 * request and on the proxy's 403: every drop explained, down to the policy.
 *
 * Endpoints: the agent's caches by address (resolveEndpoint, as for
 * datapath flows), with the identities the proxy looked up winning over the
 * caches' (they decided the request); a 0 identity (the proxy did not know
 * the address) leaves the caches'. Services by frontend address and port as
 * Hubble's L7 parser does (serviceByFrontend), DNS names from the enricher.
 *
 * URL: `http://<Host><request-target>` as Cilium's Envoy records it (Go's
 * url.URL.String(): an empty Host gives `http:///path`); a request-target
 * already in absolute form is kept as sent; anything else (`*`, an
 * authority, what a malformed request left) as received. The query is kept,
 * as Hubble keeps it unless redaction is on.
 *
 * Mesh: a record of the mesh listener (a request routed by an HTTPRoute)
 * gives both flows `mesh_route` (beeline's field: route, rule, backend
 * Service, server, retries).
 *
 * Headers: the request flow's http.headers are the record's selected
 * request headers (src/l7/http/accesslog.ts, in its order), absent ones left
 * out, then the credentials present, each as `[redacted]`; Host is in the URL. The response flow carries none: the
 * proxy records no response headers.
 */
import type { Flow } from '../../api/generated/flow/Flow.js';
import type { MeshRoute } from '../../api/generated/flow/MeshRoute.js';
import type { Policy } from '../../api/generated/flow/Policy.js';
import type { Verdict } from '../../api/generated/flow/Verdict.js';
import type { Origin, OriginKind } from '../../policy/types.js';
import { allowingPolicy, l7ConnectionExchange, l7Flow, timeOfMicros, type L7FlowContext } from '../flows.js';
import type { HttpAccessRecord, MtlsRefusalRecord } from './accesslog.js';

export { MESSAGE_TYPE_ACCESS_LOG } from '../flows.js';

/** What the converter asks of the agent. */
export type HttpFlowContext = L7FlowContext;

const ORIGIN_KINDS: readonly OriginKind[] = ['CiliumNetworkPolicy', 'CiliumClusterwideNetworkPolicy', 'NetworkPolicy'];
/** Namespaced kinds print `Kind/ns/name`, cluster-wide ones `Kind/name`. */
const NAMESPACED: ReadonlySet<string> = new Set(['CiliumNetworkPolicy', 'NetworkPolicy']);

/**
 * An origin as `originText` prints it (src/policy/cookies.ts), read back:
 * `CiliumNetworkPolicy/ns/name`, `CiliumClusterwideNetworkPolicy/name`,
 * `NetworkPolicy/ns/name`, or a built-in's bare name. Undefined for text of
 * no such shape.
 */
export function parseOriginText(text: string): Origin | undefined {
  const parts = text.split('/');
  if (parts.length === 1) return parts[0] ? { kind: 'Builtin', name: parts[0] } : undefined;
  const kind = parts[0] as OriginKind;
  if (!ORIGIN_KINDS.includes(kind) || parts.some((p) => p === '')) return undefined;
  if (NAMESPACED.has(kind)) return parts.length === 3 ? { kind, namespace: parts[1]!, name: parts[2]! } : undefined;
  return parts.length === 2 ? { kind, name: parts[1]! } : undefined;
}

/** Policies of a record's allowedBy (one origin, or several separated by commas); text of no known shape is named as given, without a kind. */
function allowingPolicies(allowedBy: string): Policy[] | undefined {
  if (allowedBy === '') return undefined;
  const out: Policy[] = [];
  for (const raw of allowedBy.split(',')) {
    const text = raw.trim();
    if (text === '') continue;
    const o = parseOriginText(text);
    if (o) {
      out.push(allowingPolicy(o));
    } else {
      out.push({ name: text, namespace: '', kind: '', labels: [] });
    }
  }
  return out.length ? out : undefined;
}

/** `http://host/path?query` as Cilium's access log has it (see the file comment). */
export function httpFlowUrl(host: string, target: string): string {
  // Origin form gets the scheme and Host; absolute form (`http://h/p`) and anything else are kept as sent.
  return target.startsWith('/') ? `http://${host}${target}` : target;
}

/** What a flow shows for a header whose value the proxy did not record (a credential). */
export const REDACTED_VALUE = '[redacted]';

/**
 * The record's headers as Hubble's HTTPHeader list: the recorded ones with their value, then the
 * redacted ones present as `[redacted]`; absent ones (an empty value) left out.
 */
function recordHeaders(rec: HttpAccessRecord): { key: string; value: string }[] {
  const out: { key: string; value: string }[] = [];
  for (const [key, value] of rec.headers ?? []) if (value !== '') out.push({ key, value });
  for (const [key, count] of rec.redactedHeaders ?? []) if (count !== '' && count !== '0') out.push({ key, value: REDACTED_VALUE });
  return out;
}

/**
 * HAProxy's termination states that say the request never reached a policy
 * decision nor the server (%tsc): the proxy refused or failed it itself (first
 * character P, R, I), or the client aborted or timed out while the proxy was
 * still waiting for a complete request (C or c, then R: a slowloris' 408, a
 * head cut short).
 */
function proxyError(termination: string): boolean {
  const c = termination.charCodeAt(0);
  if (c === 0x50 /* P */ || c === 0x52 /* R */ || c === 0x49 /* I */) return true;
  return (c === 0x43 /* C */ || c === 0x63 /* c */) && termination.charCodeAt(1) === 0x52 /* R */;
}

/** The mesh route of a mesh listener's record (src/l7/http/mesh.ts); undefined for the policy listeners' and for a request no rule took. */
export function meshRouteOf(rec: HttpAccessRecord): MeshRoute | undefined {
  if (!rec.route) return undefined;
  const rule = Number(rec.ruleIndex);
  return {
    route: rec.route,
    rule: Number.isInteger(rule) && rule >= 0 ? rule : 0,
    backend: rec.backend ?? '',
    // `-:-` or `<NOSRV>`-like when no server was reached.
    server: rec.srvAddr && /^[0-9a-fA-F.:[\]]+:\d+$/.test(rec.srvAddr) ? rec.srvAddr : '',
    retries: Math.max(0, rec.rc ?? 0),
  };
}

/**
 * The request flow of a record, and its response flow unless no response
 * was sent (status -1). See the file comment for every field.
 */
export function httpFlowsFromRecord(rec: HttpAccessRecord, ctx: HttpFlowContext): Flow[] {
  const ex = l7ConnectionExchange(ctx, rec);
  const url = httpFlowUrl(rec.host, rec.url);
  const request = `${rec.method} ${url}`;
  const verdict: Verdict = rec.denied ? 'DROPPED' : proxyError(rec.termination) ? 'ERROR' : 'FORWARDED';
  const allowedBy = rec.denied ? undefined : allowingPolicies(rec.allowedBy);
  // A denial names the policies whose rules the request failed, on the request and on the proxy's 403.
  const deniedBy = rec.denied ? allowingPolicies(rec.rulesOf ?? '') : undefined;
  const headers = recordHeaders(rec);
  const mesh = meshRouteOf(rec);

  const flows: Flow[] = [
    l7Flow(ex, false, {
      time: timeOfMicros(rec.timeUs),
      verdict,
      l7: { type: 'REQUEST', latency_ns: 0, http: { method: rec.method, url, protocol: rec.protocol, ...(headers.length ? { headers } : {}) }, record: 'http' },
      allowedBy,
      deniedBy,
      Summary: `${rec.protocol} ${request}`,
    }),
  ];
  if (mesh) flows[0]!.mesh_route = mesh;
  if (rec.mtlsPeer) flows[0]!.mesh_tls = { peer_spiffe_id: rec.mtlsPeer, refusal: '' };
  if (rec.status < 0) return flows;
  const meshTls = flows[0]!.mesh_tls;

  // Latency: request's first byte to the response's headers (the record's
  // %Tr), or the whole exchange when that part is unknown.
  const latencyMs = rec.responseMs >= 0 ? rec.responseMs : Math.max(rec.totalMs, 0);
  flows.push(l7Flow(ex, true, {
    time: timeOfMicros(rec.timeUs + latencyMs * 1000),
    verdict: 'FORWARDED',
    l7: { type: 'RESPONSE', latency_ns: Math.round(latencyMs * 1e6), http: { code: rec.status, method: rec.method, url, protocol: rec.protocol }, record: 'http' },
    deniedBy,
    // Go's uint64(Duration(latency) / Millisecond): whole milliseconds, rounded down.
    Summary: `${rec.protocol} ${rec.status} ${Math.floor(latencyMs)}ms (${request})`,
  }));
  if (mesh) flows[1]!.mesh_route = mesh;
  if (meshTls) flows[1]!.mesh_tls = meshTls;
  return flows;
}

/**
 * The flow of a connection the mTLS listener refused at the handshake: a
 * dropped L7 flow from the client pod (the PROXY header's address) to this
 * node, its mesh_tls.refusal HAProxy's reason. The destination pod is not
 * known (the request never came).
 */
export function mtlsRefusalFlow(rec: MtlsRefusalRecord, ctx: HttpFlowContext, nodeIp: string, inPort: number, timeUs = Date.now() * 1000): Flow {
  const ex = l7ConnectionExchange(ctx, { direction: 'ingress', srcIp: rec.srcIp, srcPort: rec.srcPort, dstIp: nodeIp, dstPort: inPort, srcIdentity: 0, dstIdentity: 0 });
  const f = l7Flow(ex, false, {
    time: timeOfMicros(timeUs),
    verdict: 'DROPPED',
    l7: { type: 'REQUEST', latency_ns: 0, http: { method: '', url: '', protocol: '' }, record: 'http' },
    Summary: `mTLS refused: ${rec.reason}`,
  });
  f.mesh_tls = { peer_spiffe_id: '', refusal: rec.reason };
  return f;
}

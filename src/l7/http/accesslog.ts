/**
 * The node proxy's record of one HTTP request: the contract between the
 * HAProxy configuration the agent generates (its `log-format`: one JSON
 * object per line, `format raw`, logged to a ring that HAProxy forwards over
 * TCP to the agent at the node's loopback) and the agent, which turns each
 * record into an L7 flow. HAProxy fills every field from its own sample fetches and the
 * variables the generated rules set; nothing else writes these records.
 *
 * Numbers are JSON numbers, text is JSON-escaped by HAProxy's `json`
 * converter. A request HAProxy could not parse never reaches the rules and
 * is recorded with `method` and `url` as far as they were read (possibly
 * empty), `status` 400 (or what HAProxy answered), and `timeUs` and `denied`
 * printed as `-` (read as 0 and false).
 */

import type { L7ConnectionEnds } from '../flows.js';

/** Which of the node proxy's listeners took the connection. */
export type HttpProxyDirection = 'ingress' | 'egress';

/**
 * One request and its response (or the proxy's own answer), as the node proxy logs it. Its
 * connection's ends are L7ConnectionEnds'; an address the proxy's identity map does not hold
 * has identity world (2).
 */
export interface HttpAccessRecord extends L7ConnectionEnds {
  /**
   * When the proxy had the request's head (its rules ran): microseconds since the Unix epoch.
   * 0 for a request refused before its rules (HAProxy's own 400, a connection closed without a
   * request); the receiver uses the time the record arrived.
   */
  timeUs: number;
  /** ingress: the listener at the destination endpoint's node; egress: at the source endpoint's node. */
  direction: HttpProxyDirection;
  /** The request method as sent; empty for a request refused before its rules. */
  method: string;
  /** The request-target as received: path and query (HAProxy `pathq`, before normalization); empty for a request refused before its rules. */
  url: string;
  /** `HTTP/1.1`, `HTTP/1.0`, `HTTP/2.0`. */
  protocol: string;
  /** The Host header (`:authority` for HTTP/2); empty when absent. */
  host: string;
  /** The status the client got: the server's, or the proxy's own (403 for a request the policy denied, 4xx/5xx for errors); -1: none was sent (connection aborted). */
  status: number;
  /** True when the proxy answered 403 `Access denied` because no rule allowed the request. */
  denied: boolean;
  /** The policy whose rule allowed the request, as `originText` prints it (`CiliumNetworkPolicy/ns/name`); empty when denied or not decided by a rule. */
  allowedBy: string;
  /**
   * The policies whose HTTP rules the request was checked against (`originText`, comma-separated:
   * those of the rule set for its endpoint, port and peer; with an egress and the destination's
   * ingress both checking it, the set that refused it); empty when no rule set applied. Absent in
   * records of an older configuration.
   */
  rulesOf?: string;
  /** Milliseconds from the request's first byte to the response's headers sent to the client (HAProxy %Tr when the server answered, else %Ta's part); -1 if none. */
  responseMs: number;
  /** Milliseconds the whole exchange took (HAProxy %Ta). */
  totalMs: number;
  /** HAProxy's session termination state (%tsc, e.g. `----` normal, `LR--` the 403 of a denied request, `PR--` refused by HAProxy's parser, `CH--` client aborted). */
  termination: string;
  /**
   * Selected request headers as the proxy received them, `[name, value]` (names lower case; the
   * generator's RECORDED_HEADERS, then those the rules test), a value cut at 256 bytes; an empty
   * value: absent. Absent in records of an older configuration: none.
   */
  headers?: [string, string][];
  /**
   * Request headers that carry credentials (REDACTED_HEADERS, and those a rule compares with a
   * secret), `[name, count]`: how many fields of it the request had ("" when none), never a value.
   */
  redactedHeaders?: [string, string][];
  /**
   * Records of the mesh listener (src/l7/http/mesh.ts), absent in the policy
   * listeners': the HTTPRoute (`namespace/name`, empty when no rule matched),
   * the index of its rule (text, empty likewise), the backend Service
   * (`namespace/name`, empty when the proxy answered itself), the server
   * (`address:port`; `-`-ish when none) and the retries (HAProxy %rc).
   */
  route?: string;
  ruleIndex?: string;
  backend?: string;
  srvAddr?: string;
  rc?: number;
  /** Mutual TLS between node proxies (src/l7/http/mtls.ts): the client's SPIFFE ID; absent or empty elsewhere. */
  mtlsPeer?: string;
  /** The mTLS listener's connection error (HAProxy `fc_err_str`); empty when none. */
  tlsError?: string;
}

/**
 * A connection the mTLS listener refused at the handshake. HAProxy 2.6 logs
 * a connection that never became a request in its fixed format, not the
 * frontend's log-format: `<src>:<port> [<date>] <frontend>/<bind>: <reason>`
 * (src: the PROXY header's, the client pod's).
 */
export interface MtlsRefusalRecord {
  srcIp: string;
  srcPort: number;
  frontend: string;
  /** HAProxy's reason: "SSL client certificate not trusted", "SSL handshake failure", … */
  reason: string;
}

const MTLS_REFUSAL = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5}) \[[^\]]*\] (bl_mtls_in)\/\S+: (.+)$/;

/** The refusal in a log line of the mTLS listener's, or undefined for any other line. */
export function parseMtlsRefusal(text: string): MtlsRefusalRecord | undefined {
  const m = MTLS_REFUSAL.exec(text);
  if (!m) return undefined;
  const srcPort = Number(m[2]);
  if (srcPort > 65535) return undefined;
  return { srcIp: m[1]!, srcPort, frontend: m[3]!, reason: m[4]!.trim() };
}

/**
 * The two numbers HAProxy prints as `-` for a request refused before its rules (no transaction,
 * so no variables): `"timeUs":-` is 0 and `"denied":-` false. Inside a JSON string the sequence
 * cannot occur (its quotes would be escaped), so the fix-up never touches a value.
 */
const UNSET_VARIABLE = /"(timeUs|denied)":-(?=[,}])/g;

/** Parses one record (a line, without its newline); throws SyntaxError/TypeError for what is not a record (the caller counts and drops it). */
export function parseHttpAccessRecord(text: string): HttpAccessRecord {
  if (text.includes('":-')) text = text.replace(UNSET_VARIABLE, (_, k: string) => `"${k}":${k === 'denied' ? 'false' : '0'}`);
  // HAProxy prints %rc with a `+` when the request was redispatched to another server.
  if (text.includes('"rc":+')) text = text.replace('"rc":+', '"rc":');
  const v = JSON.parse(text) as Partial<HttpAccessRecord>;
  const num = (k: keyof HttpAccessRecord) => {
    if (typeof v[k] !== 'number') throw new TypeError(`http access record: ${k}: not a number`);
  };
  const str = (k: keyof HttpAccessRecord) => {
    if (typeof v[k] !== 'string') throw new TypeError(`http access record: ${k}: not a string`);
  };
  for (const k of ['timeUs', 'srcPort', 'dstPort', 'srcIdentity', 'dstIdentity', 'status', 'responseMs', 'totalMs'] as const) num(k);
  for (const k of ['srcIp', 'dstIp', 'method', 'url', 'protocol', 'host', 'allowedBy', 'termination'] as const) str(k);
  if (v.direction !== 'ingress' && v.direction !== 'egress') throw new TypeError('http access record: direction: not ingress or egress');
  if (typeof v.denied !== 'boolean') throw new TypeError('http access record: denied: not a boolean');
    for (const k of ['rulesOf', 'mtlsPeer', 'tlsError', 'route', 'ruleIndex', 'backend', 'srvAddr'] as const) if (v[k] !== undefined && typeof v[k] !== 'string') throw new TypeError(`http access record: ${k}: not a string`);
    if (v.rc !== undefined && typeof v.rc !== 'number') throw new TypeError('http access record: rc: not a number');
  for (const k of ['headers', 'redactedHeaders'] as const) {
    const list = v[k];
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw new TypeError(`http access record: ${k}: not a list`);
    for (const h of list as unknown[]) {
      if (!Array.isArray(h) || h.length !== 2 || typeof h[0] !== 'string' || typeof h[1] !== 'string') throw new TypeError(`http access record: ${k}: an entry is not [name, value]`);
    }
  }
  return v as HttpAccessRecord;
}

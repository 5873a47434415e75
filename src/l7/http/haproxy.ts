/**
 * The node proxy's HAProxy 2.6 configuration, generated from the L7 HTTP
 * rules the agent computed for the node's endpoints (issue 12; the plan is
 * docs/l7-engine.md, "What the choice means for building issue 12", and what
 * is generated is its "Generated configuration" section). Pure: rule sets in,
 * configuration text and the files it names out; the caller writes them
 * under `stateDir` and (re)starts `haproxy -W -S <master socket> -f <config>`.
 *
 * Semantics are those of the reference matcher, src/l7/http/rules.ts (full
 * match, sources ORed, `HEAD` is not `GET`, path with its query after
 * src/l7/http/path.ts normalization); what HAProxy cannot do the same way is
 * refused with HttpRuleError naming the policy and field, never widened.
 *
 * Per request, in each listener's frontend:
 * 1. the request's first moment, its target as received (for the record),
 *    and the peer's identity: `src` (ingress) or `dst` (egress) through
 *    `map_ip` on the identity map; an address the map does not hold is
 *    `world` (2), as the ipcache answers for it;
 * 2. Cilium's path normalization (Lua, `normalize-path.lua`: HAProxy 2.6's
 *    `normalize-uri` is experimental and has no `\`, `%2e` or escaped-slash
 *    handling): 400 on a fragment, 404 on a target that is not a path, 307
 *    to the unescaped path on `%2F`/`%5C`, else the path rewritten. Run
 *    only for a target that does not start with `/` or holds `%`, `\`, `#`,
 *    `/.` or `//`: any other is already normal (path.test.ts checks that
 *    claim), and most requests skip the Lua call, a third of the proxy's
 *    cost per request when it ran on all;
 * 3. the rule set: the (endpoint, port) entry for the peer's identity if
 *    there is one, else its identity-0 entry; none: denied;
 * 4. the rules in order: the first that matches sets `txn.allowed_by` (the
 *    policy, from `origins.map`);
 * 5. upgrades (UPGRADE_LINES): an h2c offer removed, any other `Upgrade`
 *    but a lone websocket unallows the request;
 * 6. no rule matched: 403 `Access denied\r\n`, the connection kept.
 * Allowed requests go to the original destination (`server orig 0.0.0.0:0`
 * with a transparent bind; `forwardTo` without), the client's address kept
 * (`source 0.0.0.0 usesrc clientip`), in HTTP/2 for an HTTP/2 client (HAProxy
 * takes HTTP/2 with prior knowledge on the same cleartext bind).
 */
import { isIP } from 'node:net';
import { HttpRuleError } from '../../common/errors.js';
import { originText } from '../../policy/cookies.js';
import { HTTP_DENIED_BODY, HTTP_DENIED_CONTENT_TYPE, HTTP_DENIED_STATUS, HTTP_FIELD_NAME, compileHttpRules, splitHeaderRule, type HttpRuleSource, type HttpSecretLookup, type HttpRuleSpec } from './rules.js';
import type { HttpProxyDirection } from './accesslog.js';
import type { Origin } from '../../policy/types.js';
import { DEFAULT_MATCH_LIMIT, PcreRewriteError, literalToPcre, re2ToPcre } from './haproxy-pcre.js';

export { DEFAULT_MATCH_LIMIT } from './haproxy-pcre.js';

/** What the agent hands the generator: the node's listeners, rules per endpoint/port/peer, the ipcache. */
export interface ProxyRuleSet {
  /** Transparent listeners in the node's network namespace. */
  listeners: { direction: HttpProxyDirection; port: number }[];
  /**
   * Per local endpoint, port and peer identity: the ORed HTTP rules (a source
   * with `rules: []` allows every request). identity 0 = any peer not listed
   * with its own entry for that endpoint/port/direction; a peer's own entry
   * already holds the identity-0 sources (ORed in by the caller).
   */
  redirects: { direction: HttpProxyDirection; endpointIp: string; port: number; identity: number; http: HttpRuleSource[] }[];
  /** ipcache: address or CIDR → security identity, for `map_ip`. */
  identities: { prefix: string; identity: number }[];
  /**
   * `host:port` (TCP, the node's loopback) where the access records go: HAProxy logs them to a
   * ring and forwards the ring over one TCP connection per worker, a line per record.
   */
  logTarget: string;
  /** Where the generated files live (absolute; the paths inside the config). */
  stateDir: string;
}

/** Options of {@link renderHaproxy}. */
export interface RenderOptions {
  /**
   * true (default): `bind :<port> transparent`, forward to the original
   * destination from the client's address. false (tests): bind
   * `bindAddress:<port>` normally and forward to `forwardTo`.
   */
  transparent?: boolean;
  /** Non-transparent only: the address to bind (default 127.0.0.1). */
  bindAddress?: string;
  /** Non-transparent only: `host:port` allowed requests go to. */
  forwardTo?: string;
  /** PCRE2 match limit per pattern ({@link DEFAULT_MATCH_LIMIT}). */
  matchLimit?: number;
  /** Resolves `headerMatches[].secret`; a secret it cannot resolve (without a `value` to fall back on) is refused. */
  secrets?: HttpSecretLookup;
}

/** The generated configuration and the files it names (absolute paths under stateDir). */
export interface RenderedHaproxy {
  config: string;
  files: { path: string; content: string }[];
}

/** The security identity of an address the ipcache does not hold (Cilium's reserved `world`). */
export const WORLD_IDENTITY = 2;

/** File names under stateDir. */
export const HAPROXY_FILES = {
  identities: 'identities.map',
  origins: 'origins.map',
  values: 'header-values.map',
  lua: 'normalize-path.lua',
  socket: 'haproxy.sock',
  patterns: 'patterns',
} as const;

/** The ring the frontends log their records to; HAProxy forwards it to the agent over TCP. */
export const HAPROXY_RECORDS_RING = 'bl_records';
/** A record longer than this is cut by HAProxy (and then not JSON: the agent counts it as malformed). */
export const RECORD_MAX_BYTES = 65535;
/** The records ring's size: what HAProxy holds while the agent does not read. */
export const RECORDS_RING_BYTES = 2 << 20;

/** Request headers every record carries (their value as forwarded; absent or empty: not in the record). */
export const RECORDED_HEADERS: readonly string[] = ['user-agent', 'content-type', 'content-length', 'x-request-id', 'traceparent'];
/** Request headers that carry credentials: recorded as present (`[redacted]`), never with their value. */
export const REDACTED_HEADERS: readonly string[] = ['authorization', 'proxy-authorization', 'cookie'];
/** At most this many more headers, those the listener's rules test, are recorded (the first in rule order). */
export const MAX_RULE_HEADERS = 8;
/** A recorded header value is cut to this many bytes. */
export const RECORDED_HEADER_MAX_BYTES = 256;

/** One recorded header of a listener: its variable; `redacted`: presence only. */
interface RecordedHeader { name: string; variable: string; redacted: boolean }

/**
 * The headers a listener records: the fixed ones, then the names its rules test (presence,
 * value or headerMatches; a headerMatches entry with a secret makes that header redacted) up to
 * MAX_RULE_HEADERS. The pseudo-headers and Host are the record's own fields.
 */
function recordedHeaders(specs: readonly { spec: HttpRuleSpec }[]): RecordedHeader[] {
  const redacted = new Set(REDACTED_HEADERS);
  const names = [...RECORDED_HEADERS, ...REDACTED_HEADERS];
  const fromRules: string[] = [];
  for (const { spec } of specs) {
    for (const h of spec.headers ?? []) fromRules.push(splitHeaderRule(h).name.toLowerCase());
    for (const m of spec.headerMatches ?? []) {
      const n = m.name.toLowerCase();
      fromRules.push(n);
      if (m.secret) redacted.add(n);
    }
  }
  let extra = 0;
  for (const n of fromRules) {
    // Only names that need no quoting in a log-format or a fetch argument (no %, #, $ or quote); others are not recorded.
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(n) || n === 'host' || names.includes(n)) continue;
    if (extra === MAX_RULE_HEADERS) break;
    names.push(n);
    extra++;
  }
  return names.map((name, i) => ({ name, variable: `txn.h${i}`, redacted: redacted.has(name) }));
}

/**
 * The record format: one JSON HttpAccessRecord (src/l7/http/accesslog.ts) per request, one line
 * each (the `json` converter escapes every control character, so a record never holds a newline).
 */
/**
 * The `log-format` of a frontend's HttpAccessRecord; `extra` adds fields
 * after the standard ones (name, HAProxy log-format value printing JSON).
 */
export function logFormat(direction: HttpProxyDirection, ids: string, headers: readonly RecordedHeader[], extra: readonly [string, string][] = [], unknownIdentity: number = WORLD_IDENTITY): string {
  // A request HAProxy refuses before its rules (400, 408) is logged without a transaction: every
  // txn variable fetch fails there and prints `-`. Strings use `%{+Q}` (a failed fetch prints "");
  // the two numbers that come from variables print `-` then, and the record's reader takes
  // `"timeUs":-` as 0 and `"denied":-` as false (parseHttpAccessRecord). Cheaper than making
  // HAProxy print a default: converters and regsubs on every request cost more than the rare fix-up.
  const js = (fetch: string) => `%{+Q}[${fetch},json(utf8s)]`;
  const fields: [string, string][] = [
    // The date the request's head was complete (its rules ran), µs: 2.6 has no request_date fetch
    // and no arithmetic on %Ts/%Ti.
    ['timeUs', '%[var(txn.t0)]'],
    ['direction', `\\"${direction}\\"`],
    ['srcIp', '%{+Q}[src]'],
    ['srcPort', '%[src_port]'],
    ['dstIp', '%{+Q}[dst]'],
    ['dstPort', '%[dst_port]'],
    ['srcIdentity', `%[src,map_ip(${ids},${unknownIdentity})]`],
    ['dstIdentity', `%[dst,map_ip(${ids},${unknownIdentity})]`],
    ['method', js('method')],
    ['url', js('var(txn.url)')],
    ['protocol', '%{+Q}HV'],
    ['host', js('var(txn.host)')],
    ['status', '%ST'],
    ['denied', '%[var(txn.denied),iif(true,false)]'],
    ['allowedBy', js('var(txn.allowed_by)')],
    ['rulesOf', js('var(txn.rules_of)')],
    ['responseMs', '%Tr'],
    ['totalMs', '%Ta'],
    ['termination', '\\"%tsc\\"'],
    // [name, value] pairs; a redacted header's is its count of fields ("1"…), never its text.
    ['headers', `[${headers.filter((h) => !h.redacted).map((h) => `[\\"${h.name}\\",${js(`var(${h.variable})`)}]`).join(',')}]`],
    ['redactedHeaders', `[${headers.filter((h) => h.redacted).map((h) => `[\\"${h.name}\\",%{+Q}[var(${h.variable})]]`).join(',')}]`],
    ...extra,
  ];
  return `"{${fields.map(([k, v]) => `\\"${k}\\":${v}`).join(',')}}"`;
}

/** Cilium's default path normalization (src/l7/http/path.ts) for HAProxy's Lua. */
export const NORMALIZE_PATH_LUA = `-- Written by beeline (src/l7/http/haproxy.ts): Cilium's default path
-- normalization, the same steps as src/l7/http/path.ts normalizeHttpPath.
-- Sets txn.bl_norm to continue | redirect | reject400 | reject404; on
-- redirect txn.bl_location is the Location; on continue the path is rewritten.
local function is_dot(s) s = string.lower(s) return s == "." or s == "%2e" end
local function is_dotdot(s)
  s = string.lower(s)
  return s == ".." or s == ".%2e" or s == "%2e." or s == "%2e%2e"
end
local function resolve_dots(path)
  local segs = {}
  for s in (path .. "/"):gmatch("([^/]*)/") do segs[#segs + 1] = s end
  local out = {}
  for i = 2, #segs do
    local s = segs[i]
    local last = (i == #segs)
    local semi = s:find(";", 1, true)
    if semi and is_dotdot(s:sub(1, semi - 1)) then s = s:sub(1, semi - 1) end
    if is_dot(s) then
      if last then out[#out + 1] = "" end
    elseif is_dotdot(s) then
      if #out > 0 then out[#out] = nil end
      if last then out[#out + 1] = "" end
    else
      out[#out + 1] = s
    end
  end
  return "/" .. table.concat(out, "/")
end
core.register_action("beeline_normalize_path", { "http-req" }, function(txn)
  local target = txn.f:pathq() or ""
  if target:sub(1, 1) ~= "/" then txn:set_var("txn.bl_norm", "reject404") return end
  if target:find("#", 1, true) then txn:set_var("txn.bl_norm", "reject400") return end
  local q = target:find("?", 1, true)
  local path = q and target:sub(1, q - 1) or target
  local query = q and target:sub(q) or ""
  local redirect = false
  local lp = string.lower(path)
  if lp:find("%2f", 1, true) or lp:find("%5c", 1, true) then
    path = path:gsub("%%2[fF]", "/"):gsub("%%5[cC]", "\\\\")
    redirect = true
  end
  local norm = resolve_dots((path:gsub("\\\\", "/"))):gsub("//+", "/")
  if redirect then
    txn:set_var("txn.bl_norm", "redirect")
    txn:set_var("txn.bl_location", norm .. query)
    return
  end
  txn:set_var("txn.bl_norm", "continue")
  if norm ~= path then txn.http:req_set_path(norm) end
end)
`;

/** A config string in double quotes: `\`, `"` and `$` escaped (HAProxy expands `$VAR` in double quotes), CR/LF as `\r`/`\n`. */
function cfgString(s: string): string {
  return `"${s.replace(/[\\"$]/g, (c) => `\\${c}`).replace(/\r/g, '\\r').replace(/\n/g, '\\n')}"`;
}

/**
 * Field-name characters (RFC 9110 tchar) that the configuration cannot carry in a sample fetch's
 * argument as they are (`#` starts a comment, `'` a quoted string, and their escapes are undone
 * once by the line parser and read again by the argument parser): a rule naming such a header is
 * refused, not enforced on another name.
 */
const UNSAFE_HEADER_NAME = /[#']/;

function checkAddress(what: string, ip: string): void {
  if (isIP(ip) === 0) throw new HttpRuleError(`haproxy config: ${what}: ${JSON.stringify(ip)} is not an IP address`);
}

/**
 * The configuration for a rule set. Throws HttpRuleError (naming the policy
 * and field path) for a rule that HAProxy cannot enforce as written.
 */
export function renderHaproxy(rs: ProxyRuleSet, options: RenderOptions = {}): RenderedHaproxy {
  const transparent = options.transparent ?? true;
  const limit = options.matchLimit ?? DEFAULT_MATCH_LIMIT;
  const dir = rs.stateDir.replace(/\/+$/, '');
  if (!dir.startsWith('/') || /[\s"'\\$#]/.test(dir)) throw new HttpRuleError(`haproxy config: stateDir ${JSON.stringify(rs.stateDir)}: must be an absolute path without spaces, quotes, backslashes, $ or #`);
  if (!/^[0-9a-fA-F.:[\]]+:\d+$/.test(rs.logTarget)) throw new HttpRuleError(`haproxy config: logTarget ${JSON.stringify(rs.logTarget)}: not host:port`);
  if (!transparent && (!options.forwardTo || !/^[0-9a-fA-F.:[\]]+:\d+$/.test(options.forwardTo))) throw new HttpRuleError('haproxy config: a non-transparent configuration needs forwardTo (host:port)');
  const path = (name: string) => `${dir}/${name}`;
  const files: { path: string; content: string }[] = [];

  // ---- identities (ipcache) ----
  const idsFile = path(HAPROXY_FILES.identities);
  const idLines = rs.identities.map(({ prefix, identity }) => {
    const [addr, len] = prefix.split('/');
    checkAddress(`identities ${prefix}`, addr!);
    if (len !== undefined && !/^\d{1,3}$/.test(len)) throw new HttpRuleError(`haproxy config: identities ${prefix}: bad prefix length`);
    if (!Number.isInteger(identity) || identity < 0) throw new HttpRuleError(`haproxy config: identities ${prefix}: identity ${identity} is not a non-negative integer`);
    return `${prefix} ${identity}\n`;
  });
  files.push({ path: idsFile, content: idLines.join('') });

  // ---- patterns, origins ----
  const patternFiles = new Map<string, string>(); // PCRE text → file path
  const patternFile = (pcre: string): string => {
    let f = patternFiles.get(pcre);
    if (!f) {
      f = path(`${HAPROXY_FILES.patterns}/p${patternFiles.size}.pat`);
      patternFiles.set(pcre, f);
      files.push({ path: f, content: `${pcre}\n` });
    }
    return f;
  };
  const originIds = new Map<string, number>();
  const originId = (text: string): number => {
    let n = originIds.get(text);
    if (n === undefined) { n = originIds.size + 1; originIds.set(text, n); }
    return n;
  };
  const originsFile = path(HAPROXY_FILES.origins);
  // Header values the edits write, by number (a map: no quoting of the value in the config).
  const valueIds = new Map<string, number>();
  const valueId = (v: string): number => {
    let n = valueIds.get(v);
    if (n === undefined) { n = valueIds.size + 1; valueIds.set(v, n); }
    return n;
  };
  const valuesFile = path(HAPROXY_FILES.values);
  let ruleSeq = 0;
  const luaFile = path(HAPROXY_FILES.lua);
  files.push({ path: luaFile, content: NORMALIZE_PATH_LUA });

  // ---- rule sets: one number per (direction, endpoint, port, identity) ----
  interface Compiled { id: number; direction: HttpProxyDirection; endpointIp: string; port: number; identity: number; lines: string[] }
  const sets: Compiled[] = [];
  const seen = new Set<string>();
  for (const r of rs.redirects) {
    checkAddress(`redirect ${r.direction} ${r.endpointIp}:${r.port}`, r.endpointIp);
    if (!Number.isInteger(r.port) || r.port < 1 || r.port > 65535) throw new HttpRuleError(`haproxy config: redirect ${r.endpointIp}: port ${r.port} out of range`);
    if (!Number.isInteger(r.identity) || r.identity < 0) throw new HttpRuleError(`haproxy config: redirect ${r.endpointIp}:${r.port}: identity ${r.identity} is not a non-negative integer`);
    const key = `${r.direction} ${r.endpointIp} ${r.port} ${r.identity}`;
    if (seen.has(key)) throw new HttpRuleError(`haproxy config: redirect ${key}: listed twice`);
    seen.add(key);
    // The reference matcher validates first: its errors name the policy and field as apply does.
    compileHttpRules(r.http, options.secrets ? { secrets: options.secrets } : {});
    const id = sets.length + 1;
    const lines: string[] = [];
    for (const src of r.http) {
      const text = originText(src.origin);
      const specs: readonly HttpRuleSpec[] = src.rules.length === 0 ? [{}] : src.rules;
      specs.forEach((spec, i) => {
        const { conds, actions } = ruleConditions(spec, src.origin, `rules.http[${i}]`, limit, patternFile, options.secrets);
        const allow = `http-request set-var(txn.allowed_by) int(${originId(text)}),map_int(${originsFile})`;
        if (actions.length === 0) {
          // Without actions a later rule cannot change anything once one allowed: the first wins.
          lines.push(`  ${allow} if { var(txn.rs) -m int eq ${id} } !{ var(txn.allowed_by) -m found }${conds.map((c) => ` ${c}`).join('')}`);
          return;
        }
        // With actions the rule runs whenever its plain checks pass (rules.ts matchRules), even after
        // another rule allowed: its checks once, then its edits in order, each seeing the ones before.
        const flag = `txn.r${++ruleSeq}`;
        lines.push(`  http-request set-var(${flag}) bool(true) if { var(txn.rs) -m int eq ${id} }${conds.map((c) => ` ${c}`).join('')}`);
        lines.push(`  ${allow} if { var(${flag}) -m bool } !{ var(txn.allowed_by) -m found }`);
        for (const a of actions) lines.push(...headerAction(a, flag, (v) => valueId(v), valuesFile, limit, patternFile));
      });
    }
    // Which policies' rules decide this request: named on a denied request's flows.
    const rulesOf = [...new Set(r.http.map((src) => originText(src.origin)))].sort().join(',');
    if (rulesOf) lines.push(`  http-request set-var(txn.rules_of) int(${originId(rulesOf)}),map_int(${originsFile}) if { var(txn.rs) -m int eq ${id} }`);
    sets.push({ id, direction: r.direction, endpointIp: r.endpointIp, port: r.port, identity: r.identity, lines });
  }
  files.push({ path: originsFile, content: [...originIds].map(([t, n]) => `${n} ${t}\n`).join('') });
  files.push({ path: valuesFile, content: [...valueIds].map(([v, n]) => `${n} ${v}\n`).join('') });
  for (const t of originIds.keys()) if (/[\r\n]/.test(t)) throw new HttpRuleError(`haproxy config: policy ${JSON.stringify(t)}: name holds a line break`);

  // ---- global, defaults ----
  const out: string[] = [];
  out.push(`# Written by beeline (src/l7/http/haproxy.ts). Do not edit: regenerated on every change.
global
  nbthread 1
  maxconn 8192
  # Errors and alerts: stderr, which the supervisor keeps (records go to ring ${HAPROXY_RECORDS_RING}, forwarded to ${rs.logTarget}).
  log stderr format short local0 warning
  stats socket ${path(HAPROXY_FILES.socket)} mode 600 level admin expose-fd listeners
  # A reload lets old workers finish their requests for this long, then ends them.
  hard-stop-after 30s
  # A request line and headers of up to 16 KiB and more must fit: 32 KiB buffers, 1 KiB of it kept for rewrites.
  tune.bufsize 32768
  tune.maxrewrite 1024
  tune.http.maxhdr 101
  lua-load ${luaFile}

# The access records: written to this ring (memory, no system call per request) and forwarded
# to the agent over TCP, as many lines per write as are waiting. While the agent is away (a
# restart) the ring keeps the newest ${RECORDS_RING_BYTES >> 20} MiB of them and sends them when it is back.
ring ${HAPROXY_RECORDS_RING}
  format raw
  maxlen ${RECORD_MAX_BYTES}
  size ${RECORDS_RING_BYTES}
  timeout connect 2s
  timeout server 30s
  server agent ${rs.logTarget}

defaults
  mode http
  # Keep-alive on both sides (no http-server-close); a server connection belongs to one client
  # connection (never shared: the server sees the client's own address).
  option http-keep-alive
  http-reuse never
  # slowloris: the whole request head within 10 s; idle keep-alive connections closed after 60 s.
  timeout http-request 10s
  timeout http-keep-alive 60s
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout client-fin 10s
  timeout server-fin 10s
  timeout tunnel 1h
`);

  // ---- frontends ----
  const seenPorts = new Set<number>();
  for (const l of rs.listeners) {
    if (!Number.isInteger(l.port) || l.port < 1 || l.port > 65535) throw new HttpRuleError(`haproxy config: listener port ${l.port} out of range`);
    if (seenPorts.has(l.port)) throw new HttpRuleError(`haproxy config: listener port ${l.port} listed twice`);
    seenPorts.add(l.port);
    // ingress: the endpoint is the original destination, the peer the source; egress: the other way round.
    const endpoint = l.direction === 'ingress' ? 'dst' : 'src';
    const peer = l.direction === 'ingress' ? 'src' : 'dst';
    const mine = sets.filter((s) => s.direction === l.direction);
    // Request headers are gone by log time: each recorded one is kept in a variable while the request is parsed.
    const headers = recordedHeaders(rs.redirects.filter((r) => r.direction === l.direction || l.direction === 'egress').flatMap((r) => r.http.flatMap((src) => src.rules.map((spec) => ({ spec })))));
    const bind = transparent ? `bind :${l.port} transparent` : `bind ${options.bindAddress ?? '127.0.0.1'}:${l.port}`;
    const fe: string[] = [
      `frontend bl_${l.direction}_${l.port}`,
      `  ${bind}`,
      `  log ring@${HAPROXY_RECORDS_RING} len ${RECORD_MAX_BYTES} format raw local0`,
      `  log-format ${logFormat(l.direction, idsFile, headers)}`,
      `  http-request set-var(txn.t0) date(0,us)`,
      `  http-request set-var(txn.url) pathq`,
      `  http-request set-var(txn.host) req.fhdr(host)`,
      ...headers.map((h) => h.redacted
        ? `  http-request set-var(${h.variable}) req.fhdr_cnt(${h.name}) if { req.fhdr_cnt(${h.name}) gt 0 }`
        : `  http-request set-var(${h.variable}) req.fhdr(${h.name}),bytes(0,${RECORDED_HEADER_MAX_BYTES})`),
      `  http-request set-var(txn.peer_id) ${peer},map_ip(${idsFile},${WORLD_IDENTITY})`,
      // Lua only for a target it may change or refuse (one of its characters or sequences in it): the rest is already normal.
      `  http-request lua.beeline_normalize_path if !{ pathq -m beg / } || { pathq -m sub % \\\\ \\# /. // }`,
      `  http-request return status 400 content-type text/plain string "Bad request: path\\r\\n" if { var(txn.bl_norm) -m str reject400 }`,
      `  http-request return status 404 content-type text/plain string "Not found\\r\\n" if { var(txn.bl_norm) -m str reject404 }`,
      `  http-request redirect code 307 location %[var(txn.bl_location)] if { var(txn.bl_norm) -m str redirect }`,
    ];
    // The identity-0 entry first, a peer's own entry after it (it wins: set-var overwrites).
    for (const s of [...mine].sort((a, b) => Number(a.identity !== 0) - Number(b.identity !== 0))) {
      const who = s.identity === 0 ? '' : ` { var(txn.peer_id) -m int eq ${s.identity} }`;
      fe.push(`  http-request set-var(txn.rs) int(${s.id}) if { ${endpoint} ${s.endpointIp} } { dst_port eq ${s.port} }${who}`);
    }
    for (const s of mine) fe.push(...s.lines);
    if (l.direction === 'egress') fe.push(...chainedIngress(sets.filter((s) => s.direction === 'ingress'), idsFile));
    fe.push(...UPGRADE_LINES);
    fe.push(
      `  http-request set-var(txn.denied) bool(true) if !{ var(txn.allowed_by) -m found }`,
      `  http-request return status ${HTTP_DENIED_STATUS} content-type ${HTTP_DENIED_CONTENT_TYPE} string ${cfgString(HTTP_DENIED_BODY)} if !{ var(txn.allowed_by) -m found }`,
      // The server is spoken to as the client spoke (HTTP/2 with prior knowledge, or HTTP/1.x), as the
      // client expected of it: a server that speaks only HTTP/2 (gRPC) is reached in HTTP/2.
      `  use_backend bl_orig_h2 if { req.ver 2.0 }`,
      `  default_backend bl_orig`,
      '',
    );
    out.push(fe.join('\n'));
  }

  // ---- the original destination (HTTP/1.1, and HTTP/2 for HTTP/2 clients) ----
  for (const [name, proto] of [['bl_orig', ''], ['bl_orig_h2', ' proto h2']] as const) {
    out.push(transparent
      ? `backend ${name}
  # 0.0.0.0: the address the client connected to (the transparent listener's original destination);
  # no port: that connection's port.
  server orig 0.0.0.0${proto}
  source 0.0.0.0 usesrc clientip
`
      : `backend ${name}
  server orig ${options.forwardTo}${proto}
`);
  }
  return { config: out.join('\n'), files };
}

/**
 * Connection upgrades (HTTP/1.1 `Upgrade`), after the rules and before the
 * 403: HAProxy 2.6 forwards any upgrade offer and, when the server answers
 * 101, tunnels the connection's remaining bytes unread, so no later request
 * on it would meet the rules (docs/l7.md, "HTTP/2 and upgrades").
 * - h2c (an offer naming it, alone or in a list): the offer is removed
 *   (`Upgrade`, `HTTP2-Settings` and `Connection`, as Envoy's HTTP/1 codec
 *   strips it), so the server answers in HTTP/1.1 and every later request on
 *   the connection is judged. HTTP/2 itself is served through prior knowledge.
 * - websocket (the only offer): passed as the rules say, as Cilium does (its
 *   Envoy enables the websocket upgrade): the upgrade request is judged like
 *   any other; after a 101 the frames are not HTTP and are not judged.
 * - any other offer: refused (403, `denied`, no policy named as allowing it),
 *   as Envoy refuses an upgrade type it is not configured for.
 */
const UPGRADE_LINES: readonly string[] = [
  `  acl bl_h2c_offer req.hdr(upgrade) -m str -i h2c`,
  `  http-request del-header http2-settings if bl_h2c_offer`,
  `  http-request del-header connection if bl_h2c_offer`,
  `  http-request del-header upgrade if bl_h2c_offer`,
  `  http-request unset-var(txn.allowed_by) if { req.fhdr_cnt(upgrade) gt 0 } !{ req.hdr_cnt(upgrade) eq 1 }`,
  `  http-request unset-var(txn.allowed_by) if { req.fhdr_cnt(upgrade) gt 0 } !{ req.hdr(upgrade) -m str -i websocket }`,
];

/**
 * In the egress frontend: a destination that is a local endpoint with ingress
 * rules gets them applied too. Such a connection was taken at the source's
 * egress and reaches the endpoint from the proxy's upstream side, which the
 * datapath cannot hand to the proxy a second time (tc egress): the two rule
 * sets are evaluated here, one after the other, and the request passes only
 * if both allow it. The ingress lines are the same, on their own variables
 * (`txn.irs`, `txn.iallowed_by`, `txn.ir<N>`), with the client as the peer.
 */
function chainedIngress(ingress: readonly { id: number; endpointIp: string; port: number; identity: number; lines: string[] }[], idsFile: string): string[] {
  if (ingress.length === 0) return [];
  const out = [`  http-request set-var(txn.src_id) src,map_ip(${idsFile},${WORLD_IDENTITY})`];
  for (const s of [...ingress].sort((a, b) => Number(a.identity !== 0) - Number(b.identity !== 0))) {
    const who = s.identity === 0 ? '' : ` { var(txn.src_id) -m int eq ${s.identity} }`;
    out.push(`  http-request set-var(txn.irs) int(${s.id}) if { var(txn.allowed_by) -m found } { dst ${s.endpointIp} } { dst_port eq ${s.port} }${who}`);
  }
  const rename = (line: string) => line.replace(/txn\.rs\)/g, 'txn.irs)').replace(/txn\.allowed_by\)/g, 'txn.iallowed_by)').replace(/txn\.rules_of\)/g, 'txn.irules_of)').replace(/\btxn\.r(\d+)\b/g, 'txn.ir$1');
  for (const s of ingress) out.push(...s.lines.map(rename));
  // Egress allowed, the destination's ingress did not: denied, by the ingress rules; no policy is named as allowing it.
  out.push(`  http-request set-var(txn.rules_of) var(txn.irules_of) if { var(txn.irs) -m found } !{ var(txn.iallowed_by) -m found } { var(txn.irules_of) -m found }`);
  out.push(`  http-request unset-var(txn.allowed_by) if { var(txn.irs) -m found } !{ var(txn.iallowed_by) -m found }`);
  return out;
}

/** The ACL conditions of one rule (all must hold). */
function ruleConditions(
  spec: HttpRuleSpec, origin: Origin, where: string, limit: number,
  patternFile: (pcre: string) => string, secrets: HttpSecretLookup | undefined,
): { conds: string[]; actions: HeaderAction[] } {
  const fail = (field: string, msg: string): never => {
    throw new HttpRuleError(`${originText(origin)}: ${where}.${field}: ${msg}`);
  };
  const conds: string[] = [];
  const actions: HeaderAction[] = [];
  const regex = (field: 'method' | 'path' | 'host', fetch: string) => {
    const p = spec[field];
    if (p === undefined || p === '') return;
    let pcre: string;
    try {
      pcre = re2ToPcre(p, limit);
    } catch (e) {
      if (e instanceof PcreRewriteError) return fail(field, `${JSON.stringify(p)}: ${e.message}`);
      throw e;
    }
    conds.push(`{ ${fetch} -m reg -f ${patternFile(pcre)} }`);
  };
  regex('method', 'method');
  regex('path', 'pathq');
  regex('host', 'req.fhdr(host)');
  /** A header's presence or exact value (several fields: their values joined with `,`, as Envoy). */
  const header = (field: string, rawName: string, value: string | undefined) => {
    if (!HTTP_FIELD_NAME.test(rawName)) fail(field, `${JSON.stringify(rawName)}: not an HTTP header name`);
    const name = rawName.toLowerCase();
    const exact = (fetch: string, v: string) => `{ ${fetch} -m reg -f ${patternFile(literalToPcre(v, limit))} }`;
    switch (name) {
      case ':method': if (value !== undefined) conds.push(exact('method', value)); return;
      case ':path': if (value !== undefined) conds.push(exact('pathq', value)); return;
      case ':authority': case 'host':
        conds.push(value === undefined ? '{ req.fhdr_cnt(host) gt 0 }' : exact('req.fhdr(host)', value));
        return;
    }
    if (name.startsWith(':')) fail(field, `${JSON.stringify(rawName)}: pseudo-header not supported by the node proxy`);
    if (UNSAFE_HEADER_NAME.test(name)) fail(field, `${JSON.stringify(rawName)}: a header name with # or ' is not supported by the node proxy`);
    if (value === undefined) { conds.push(`{ req.fhdr_cnt(${name}) gt 0 }`); return; }
    // A value without a comma can only be the joined value of exactly one field; with a comma,
    // HAProxy 2.6 cannot join a header's fields, so it is refused rather than matched differently.
    if (value.includes(',')) fail(field, `${JSON.stringify(value)}: an expected value with a comma is not supported by the node proxy (HAProxy cannot compare a header's fields joined)`);
    conds.push(`{ req.fhdr_cnt(${name}) eq 1 }`, exact(`req.fhdr(${name})`, value));
  };
  (spec.headers ?? []).forEach((h, i) => {
    const { name, value } = splitHeaderRule(h);
    header(`headers[${i}]`, name, value);
  });
  (spec.headerMatches ?? []).forEach((m, i) => {
    const field = `headerMatches[${i}]`;
    let expected = m.value ?? '';
    if (m.secret) {
      // The policy's namespace when the reference names none, as rules.ts (Cilium's certificate manager).
      const ns = m.secret.namespace || origin.namespace || '';
      const s = secrets?.({ namespace: ns, name: m.secret.name });
      if (s !== undefined && s !== '') expected = s;
      else if (expected === '') fail(`${field}.secret`, `secret ${ns}/${m.secret.name} could not be resolved`);
    }
    if (!m.mismatch) {
      header(`${field}.name`, m.name, expected === '' ? undefined : expected);
      return;
    }
    const name = m.name.toLowerCase();
    if (!HTTP_FIELD_NAME.test(m.name)) fail(`${field}.name`, `${JSON.stringify(m.name)}: not an HTTP header name`);
    if (name.startsWith(':') || name === 'host') fail(`${field}.name`, `${JSON.stringify(m.name)}: a mismatch action on the request line or Host is not supported by the node proxy`);
    if (UNSAFE_HEADER_NAME.test(name)) fail(`${field}.name`, `${JSON.stringify(m.name)}: a header name with # or ' is not supported by the node proxy`);
    switch (m.mismatch) {
      case 'LOG':
        // The verdict would be the same, but the access record has no place for the note: refused, not dropped.
        return fail(`${field}.mismatch`, 'LOG: the node proxy\'s access record cannot carry the missing-header note');
      case 'ADD': case 'REPLACE':
        if (expected === '') return fail(`${field}.value`, `${m.mismatch} with an empty value (presence only) is not supported by the node proxy`);
        break;
      case 'DELETE':
        if (expected === '') return; // presence only: DELETE never changes anything (rules.ts runHeaderMatch)
        break;
    }
    if (expected.includes(',')) fail(`${field}.value`, `${JSON.stringify(expected)}: an expected value with a comma is not supported by the node proxy (HAProxy cannot compare a header's fields joined)`);
    if (/^[ \t]|[ \t]$|[\r\n\0]/.test(expected)) fail(`${field}.value`, `${JSON.stringify(expected)}: leading or trailing white space, or a line break, cannot be sent in a header value`);
    actions.push({ action: m.mismatch, name, value: expected });
  });
  return { conds, actions };
}

/** A `headerMatches` entry with a mismatch action the node proxy runs (ADD, DELETE, REPLACE). */
interface HeaderAction {
  action: 'ADD' | 'DELETE' | 'REPLACE';
  /** Lower case, not a pseudo-header, not Host. */
  name: string;
  /** Non-empty, without a comma. */
  value: string;
}

/**
 * The `http-request` lines of one action, run when the rule's flag is set and the header does not
 * have the value (rules.ts runHeaderMatch). With a comma-free value, "has the value" is: exactly one
 * field, equal to it (several fields join to a value with a comma).
 */
function headerAction(
  a: HeaderAction, flag: string, valueId: (v: string) => number, valuesFile: string, limit: number,
  patternFile: (pcre: string) => string,
): string[] {
  const on = `{ var(${flag}) -m bool }`;
  const name = a.name;
  const equal = `{ req.fhdr(${name}) -m reg -f ${patternFile(literalToPcre(a.value, limit))} }`;
  const mismatch = `${on} !{ req.fhdr_cnt(${name}) eq 1 } || ${on} !${equal}`;
  const value = () => `%[int(${valueId(a.value)}),map_int(${valuesFile})]`;
  switch (a.action) {
    case 'ADD': return [`  http-request add-header ${name} ${value()} if ${mismatch}`];
    case 'REPLACE': return [`  http-request set-header ${name} ${value()} if ${mismatch}`];
    case 'DELETE': return [`  http-request del-header ${name} if ${on} { req.fhdr_cnt(${name}) gt 1 } || ${on} { req.fhdr_cnt(${name}) eq 1 } !${equal}`];
  }
}

/**
 * Mesh routes (issue 15, piece B): a pure compiler from Gateway API GAMMA
 * HTTPRoutes (parentRefs that are Services) to an HAProxy 2.6 configuration
 * fragment, plus the route status as data. The agent renders it into the
 * node proxy (src/agent/mesh.ts); docs/l7-engine.md "Mesh routes (GAMMA)".
 *
 * One HTTP frontend for every routed Service ClusterIP:port: the original
 * destination (`dst:dst_port`) picks the route set through a map, rules are
 * tried in Gateway API precedence, a rule's weighted backendRefs are chosen
 * by a per-rule counter (stick table gpc0) modulo the window W through a
 * smooth weighted-round-robin schedule map, so every W consecutive requests
 * of a rule land exactly by weight. Weights change by swapping the maps on
 * the runtime API (meshMapSwapPlan), with no reload.
 */
import { isIP } from 'node:net';
import type { ObjectInput, StoreObject } from '../../store/store.js';
import type { Condition, EndpointSlice, HTTPBackendRef, HTTPHeaderFilter, HTTPRoute, HTTPRouteFilter, HTTPRouteMatch, HTTPRouteRule, ParentReference, Service } from '../../k8s/types.js';
import { namespaceOf } from '../../k8s/types.js';
import { DEFAULT_MATCH_LIMIT, PcreRewriteError, literalToPcre, re2ToPcre } from './haproxy-pcre.js';

/** The controller named in route status. */
export const MESH_CONTROLLER = 'beeline.io/mesh';

/** Status codes HAProxy 2.6 `retry-on` accepts. */
export const MESH_RETRY_CODES: readonly number[] = [401, 403, 404, 408, 425, 500, 501, 502, 503, 504];

/** Methods that may be retried (idempotent by RFC 9110); others get `disable-l7-retry`. */
export const MESH_RETRY_METHODS: readonly string[] = ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'];

/** Retry budget: at most this percent of a rule's requests in 10 s are retried ... */
export const RETRY_BUDGET_PERCENT = 20;
/** ... plus this many per 10 s. */
export const RETRY_BUDGET_MIN = 10;

/** The map value of a schedule slot whose backendRef is invalid (Gateway API: answered 500). */
export const INVALID_GROUP = 'bl_mesh_invalid';

/** GEP-1731 retry (experimental channel; not in src/k8s/types.ts on purpose, validate.ts still warns). */
export interface MeshRetry {
  codes?: number[];
  attempts?: number;
  backoff?: string;
}
type MeshRule = HTTPRouteRule & { retry?: MeshRetry };

/** Objects as the store holds them (StoreObject) or as written (ObjectInput). */
export type MeshObject = StoreObject | ObjectInput;

export interface MeshCompileInput {
  routes: MeshObject[];
  services: MeshObject[];
  endpointSlices: MeshObject[];
}

export interface MeshCompileOptions {
  /** Absolute directory for the map and pattern files the configuration names. */
  stateDir: string;
  /** `bind` arguments of the frontend, e.g. `['0.0.0.0:15001 transparent']`. */
  bind: string[];
  /** A `log` line target, e.g. `127.0.0.1:5514 local0` or `stderr format raw local0`; none: no log line. */
  log?: string;
  /**
   * The `source` line of every server (the mesh's upstream), e.g.
   * `0.0.0.0 usesrc clientip` so the backend sees the client pod's address; none: the proxy's own.
   */
  serverSource?: string;
  matchLimit?: number;
}

/** One rule match attached to a frontend, in the order HAProxy tries them. */
export interface MeshRouteEntry {
  /** HAProxy id of the entry (`r<n>`), also the schedule key prefix. */
  id: string;
  route: { namespace: string; name: string };
  rule: number;
  match: number;
  /** The backend groups of the rule, in backendRefs order; INVALID_GROUP for a ref that does not resolve. */
  groups: { backend: string; weight: number }[];
}

export interface MeshFrontend {
  /** `clusterIP:port`, the key of the frontend map. */
  key: string;
  service: { namespace: string; name: string; port: number };
  entries: MeshRouteEntry[];
}

export interface MeshParentStatus {
  parentRef: ParentReference;
  controllerName: string;
  conditions: Condition[];
}

export interface MeshRouteStatus {
  route: { namespace: string; name: string };
  parents: MeshParentStatus[];
}

/** The schedule maps: `windows` (`<entry> <W>`), `schedule` (`<entry>/<W>/<slot> <backend>`). */
export interface MeshMaps {
  windows: string;
  schedule: string;
}

export interface CompiledMesh {
  frontends: MeshFrontend[];
  statuses: MeshRouteStatus[];
  config: string;
  /** Files the configuration names (absolute paths under stateDir), maps included. */
  files: { path: string; content: string }[];
  /** Paths of the two maps as the configuration loads them (the runtime API's names). */
  mapPaths: { frontends: string; windows: string; schedule: string };
  maps: MeshMaps;
}

/** A route that cannot be used as written (reported as Accepted=False, UnsupportedValue). */
class RouteProblem extends Error {}

const PATH_RE = /^\/[\x21-\x7e]*$/;
const HEADER_NAME = /^[A-Za-z0-9!$%&*+.^_`|~-]+$/;
const DURATION = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;

/** Gateway API duration (`1h2m3s4ms`) in milliseconds. */
export function parseGatewayDuration(d: string): number {
  if (!DURATION.test(d)) throw new RouteProblem(`duration ${JSON.stringify(d)} is not a Gateway API duration`);
  let ms = 0;
  for (const [, n, u] of d.matchAll(/([0-9]+)(ms|h|m|s)/g)) ms += Number(n) * ({ h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as Record<string, number>)[u!]!;
  return ms;
}

/** A config string in double quotes for a log-format argument: `%` doubled, `\ " $` escaped. */
function fmtString(s: string): string {
  return `"${s.replace(/[\\"$]/g, (c) => `\\${c}`).replace(/%/g, '%%')}"`;
}

function safeValue(what: string, v: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(v)) throw new RouteProblem(`${what}: control characters are not allowed`);
  return v;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * Smooth weighted round robin (nginx's): the group index of each of the W
 * slots, W = sum(weights)/gcd. Every window of W consecutive slots holds each
 * group exactly weight/gcd times, spread evenly. Empty when all weights are 0.
 */
export function smoothWrrSchedule(weights: number[]): number[] {
  const g = weights.reduce((a, w) => (w > 0 ? gcd(a, w) : a), 0);
  if (g === 0) return [];
  const w = weights.map((x) => (x > 0 ? x / g : 0));
  const total = w.reduce((a, b) => a + b, 0);
  const cur = w.map(() => 0);
  const out: number[] = [];
  for (let s = 0; s < total; s++) {
    let best = -1;
    for (let i = 0; i < w.length; i++) {
      cur[i]! += w[i]!;
      if (w[i]! > 0 && (best < 0 || cur[i]! > cur[best]!)) best = i;
    }
    cur[best]! -= total;
    out.push(best);
  }
  return out;
}

/** Gateway API precedence key of a match: smaller sorts first. */
function precedence(m: HTTPRouteMatch): number[] {
  const type = m.path?.type ?? 'PathPrefix';
  const value = m.path?.value ?? '/';
  const kind = type === 'Exact' ? 0 : type === 'PathPrefix' ? 1 : 2;
  return [kind, -(kind === 2 ? 0 : value.length), m.method ? 0 : 1, -(m.headers?.length ?? 0), -(m.queryParams?.length ?? 0)];
}

function matchSignature(m: HTTPRouteMatch): string {
  const kv = (l?: { type?: string; name: string; value: string }[], fold = false) =>
    (l ?? []).map((h) => `${h.type ?? 'Exact'}:${fold ? h.name.toLowerCase() : h.name}=${h.value}`).sort();
  return JSON.stringify([m.path?.type ?? 'PathPrefix', m.path?.value ?? '/', m.method ?? '', kv(m.headers, true), kv(m.queryParams)]);
}

function cond(type: string, ok: boolean, reason: string, message: string): Condition {
  return { type, status: ok ? 'True' : 'False', reason, message };
}

const isServiceRef = (r: { group?: string; kind?: string }) => (r.group ?? '') === '' && (r.kind ?? 'Service') === 'Service';

/** The endpoints (ip:port) of a Service port, from the EndpointSlices labelled with its name; ready ones only. */
export function serviceEndpoints(svc: Service, port: number, slices: EndpointSlice[]): string[] {
  const sp = svc.spec.ports?.find((p) => p.port === port);
  if (!sp) return [];
  const out = new Set<string>();
  for (const s of slices) {
    if (namespaceOf(s) !== namespaceOf(svc) || s.metadata.labels?.['kubernetes.io/service-name'] !== svc.metadata.name) continue;
    if (s.addressType === 'FQDN') continue;
    const ep = (s.ports ?? []).find((p) => (p.name ?? '') === (sp.name ?? ''));
    const target = ep?.port ?? (typeof sp.targetPort === 'number' ? sp.targetPort : sp.targetPort === undefined ? sp.port : undefined);
    if (target === undefined) continue;
    for (const e of s.endpoints ?? []) {
      if (e.conditions?.ready === false) continue;
      for (const a of e.addresses) if (isIP(a)) out.add(isIP(a) === 6 ? `[${a}]:${target}` : `${a}:${target}`);
    }
  }
  return [...out].sort();
}

interface CompiledRule {
  route: HTTPRoute;
  ruleIndex: number;
  rule: MeshRule;
  groups: { backend: string; weight: number; ref: HTTPBackendRef }[];
}

/** Compiles the routes; never throws for bad input in the objects (it becomes status). */
export function compileMesh(input: MeshCompileInput, options: MeshCompileOptions): CompiledMesh {
  const dir = options.stateDir.replace(/\/+$/, '');
  if (!dir.startsWith('/') || /[\s"'\\$#]/.test(dir)) throw new Error(`mesh config: stateDir ${JSON.stringify(options.stateDir)}: must be an absolute path without spaces, quotes, backslashes, $ or #`);
  const limit = options.matchLimit ?? DEFAULT_MATCH_LIMIT;
  const services = new Map<string, Service>();
  for (const s of input.services as unknown as Service[]) services.set(`${namespaceOf(s)}/${s.metadata.name}`, s);
  const slices = input.endpointSlices as unknown as EndpointSlice[];
  const routes = (input.routes as unknown as HTTPRoute[]).slice().sort((a, b) =>
    (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || `${namespaceOf(a)}/${a.metadata.name}`.localeCompare(`${namespaceOf(b)}/${b.metadata.name}`));

  const files: { path: string; content: string }[] = [];
  const patterns = new Map<string, string>();
  const patternFile = (pcre: string) => {
    let f = patterns.get(pcre);
    if (!f) {
      f = `${dir}/mesh-p${patterns.size}.pat`;
      patterns.set(pcre, f);
      files.push({ path: f, content: `${pcre}\n` });
    }
    return f;
  };

  const statuses: MeshRouteStatus[] = [];
  const backends: string[] = [];
  const backendByKey = new Map<string, string>();
  // frontend key → attached rule matches
  const attached = new Map<string, { svc: { namespace: string; name: string; port: number }; items: { cr: CompiledRule; match: HTTPRouteMatch; matchIndex: number; conds: string[] }[] }>();
  const ruleLines: string[] = [];
  const responseLines: string[] = [];
  let entryN = 0;
  const frontends: MeshFrontend[] = [];

  for (const route of routes) {
    const ns = namespaceOf(route);
    const st: MeshRouteStatus = { route: { namespace: ns, name: route.metadata.name }, parents: [] };
    // A parentRef's defaults are group gateway.networking.k8s.io, kind Gateway: a Service must be named so.
    const parents = (route.spec.parentRefs ?? []).filter((p) => p.group === '' && p.kind === 'Service');
    if (parents.length === 0) continue; // a Gateway's route: not ours
    statuses.push(st);
    // Whole-route checks and compiled matches.
    let problem: string | undefined;
    const resolved: string[] = [];
    const compiled: CompiledRule[] = [];
    const matchConds: string[][][] = [];
    try {
      (route.spec.rules ?? []).forEach((rule0, ri) => {
        const rule = rule0 as MeshRule;
        const at = `spec.rules[${ri}]`;
        for (const f of rule.filters ?? []) {
          checkFilter(`${at}.filters`, f);
          // Gateway API: ReplacePrefixMatch only with PathPrefix matches (the prefix is what is replaced).
          const pm = (f.urlRewrite ?? f.requestRedirect)?.path?.type === 'ReplacePrefixMatch';
          if (pm && !(rule.matches ?? [{}]).every((m) => (m.path?.type ?? 'PathPrefix') === 'PathPrefix')) throw new RouteProblem(`${at}.filters: ReplacePrefixMatch needs PathPrefix matches only`);
        }
        for (const [bi, b] of (rule.backendRefs ?? []).entries()) if (b.filters?.length) throw new RouteProblem(`${at}.backendRefs[${bi}].filters: per-backend filters are not supported`);
        if (rule.retry) {
          for (const c of rule.retry.codes ?? []) if (!MESH_RETRY_CODES.includes(c)) throw new RouteProblem(`${at}.retry.codes: ${c} is not one HAProxy can retry on (${MESH_RETRY_CODES.join(', ')})`);
          if (rule.retry.attempts !== undefined && (!Number.isInteger(rule.retry.attempts) || rule.retry.attempts < 0 || rule.retry.attempts > 10)) throw new RouteProblem(`${at}.retry.attempts: 0..10`);
          if (rule.retry.backoff !== undefined) parseGatewayDuration(rule.retry.backoff);
        }
        if (rule.timeouts?.request) parseGatewayDuration(rule.timeouts.request);
        if (rule.timeouts?.backendRequest) parseGatewayDuration(rule.timeouts.backendRequest);
        const ms = rule.matches?.length ? rule.matches : [{}];
        matchConds.push(ms.map((m, mi) => compileMatch(`${at}.matches[${mi}]`, m, patternFile, limit)));
        compiled.push({ route, ruleIndex: ri, rule, groups: [] });
      });
    } catch (e) {
      if (!(e instanceof RouteProblem || e instanceof PcreRewriteError)) throw e;
      problem = e.message;
    }
    // Backends (only for a usable route).
    if (problem === undefined) {
      for (const cr of compiled) {
        for (const [bi, ref] of (cr.rule.backendRefs ?? []).entries()) {
          const at = `spec.rules[${cr.ruleIndex}].backendRefs[${bi}]`;
          const weight = ref.weight ?? 1;
          let backend = INVALID_GROUP;
          const svc = services.get(`${ref.namespace ?? ns}/${ref.name}`);
          if (!isServiceRef(ref)) resolved.push(`InvalidKind:${at}: only core Services are supported`);
          else if ((ref.namespace ?? ns) !== ns) resolved.push(`RefNotPermitted:${at}: cross-namespace backendRefs are not supported`);
          else if (!svc) resolved.push(`BackendNotFound:${at}: Service ${ns}/${ref.name} not found`);
          else if (ref.port === undefined || !svc.spec.ports?.some((p) => p.port === ref.port)) resolved.push(`BackendNotFound:${at}: Service ${ns}/${ref.name} has no port ${ref.port ?? '(port is required)'}`);
          else {
            const key = `${entryKeyRule(cr)}|${bi}`;
            backend = `bl_mesh_g${backendByKey.size}`;
            backendByKey.set(key, backend);
            backends.push(renderBackend(backend, cr, `${ns}/${ref.name}`, serviceEndpoints(svc, ref.port, slices), options.serverSource));
          }
          cr.groups.push({ backend, weight, ref });
        }
      }
    }
    for (const pr of parents) {
      const ps: MeshParentStatus = { parentRef: pr, controllerName: MESH_CONTROLLER, conditions: [] };
      st.parents.push(ps);
      const svc = services.get(`${pr.namespace ?? ns}/${pr.name}`);
      if ((pr.namespace ?? ns) !== ns) { ps.conditions.push(cond('Accepted', false, 'UnsupportedValue', 'consumer routes (a parent Service in another namespace) are not supported yet')); continue; }
      if (!svc) { ps.conditions.push(cond('Accepted', false, 'NoMatchingParent', `Service ${ns}/${pr.name} not found`)); continue; }
      const ip = svc.spec.clusterIP;
      if (!ip || ip === 'None' || isIP(ip) === 0) { ps.conditions.push(cond('Accepted', false, 'UnsupportedValue', `Service ${ns}/${pr.name} has no ClusterIP`)); continue; }
      const ports = (svc.spec.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP' && (pr.port === undefined || p.port === pr.port));
      if (ports.length === 0) { ps.conditions.push(cond('Accepted', false, 'NoMatchingParent', `Service ${ns}/${pr.name} has no TCP port ${pr.port}`)); continue; }
      if (problem !== undefined) { ps.conditions.push(cond('Accepted', false, 'UnsupportedValue', problem)); continue; }
      ps.conditions.push(cond('Accepted', true, 'Accepted', 'Accepted'));
      for (const p of ports) {
        const key = isIP(ip) === 6 ? `[${ip}]:${p.port}` : `${ip}:${p.port}`;
        let fe = attached.get(key);
        if (!fe) attached.set(key, (fe = { svc: { namespace: ns, name: svc.metadata.name, port: p.port }, items: [] }));
        compiled.forEach((cr, i) => (cr.rule.matches?.length ? cr.rule.matches : [{}]).forEach((m, mi) => fe!.items.push({ cr, match: m, matchIndex: mi, conds: matchConds[i]![mi]! })));
      }
    }
    const first = resolved[0];
    const rcond = first ? cond('ResolvedRefs', false, first.slice(0, first.indexOf(':')), resolved.map((r) => r.slice(r.indexOf(':') + 1)).join('; ')) : cond('ResolvedRefs', true, 'ResolvedRefs', 'Resolved all the Object references for the Route');
    for (const ps of st.parents) if (ps.conditions[0]?.status === 'True') ps.conditions.push({ ...rcond });
  }

  // Order within each frontend; shadowed matches reported on the losing route.
  const shadowed = new Map<string, string[]>();
  const frontendMap: string[] = [];
  const windows: string[] = [];
  const schedule: string[] = [];
  let feN = 0;
  for (const [key, fe] of [...attached].sort(([a], [b]) => a.localeCompare(b))) {
    const fid = `f${feN++}`;
    frontendMap.push(`${key} ${fid}\n`);
    fe.items.sort((a, b) => cmpNum(precedence(a.match), precedence(b.match))); // stable: route order, rule, match
    const seen = new Map<string, (typeof fe.items)[number]>();
    const out: MeshFrontend = { key, service: fe.svc, entries: [] };
    frontends.push(out);
    for (const it of fe.items) {
      const sig = matchSignature(it.match);
      const winner = seen.get(sig);
      const rname = `${namespaceOf(it.cr.route)}/${it.cr.route.metadata.name}`;
      if (winner) {
        const wname = `${namespaceOf(winner.cr.route)}/${winner.cr.route.metadata.name}`;
        if (winner.cr.route !== it.cr.route) {
          const l = shadowed.get(rname) ?? [];
          l.push(`spec.rules[${it.cr.ruleIndex}].matches[${it.matchIndex}] on ${key} is shadowed by HTTPRoute ${wname} spec.rules[${winner.cr.ruleIndex}] (older, or same age and name first)`);
          shadowed.set(rname, l);
        }
        continue;
      }
      seen.set(sig, it);
      const id = `r${entryN++}`;
      out.entries.push({ id, route: { namespace: namespaceOf(it.cr.route), name: it.cr.route.metadata.name }, rule: it.cr.ruleIndex, match: it.matchIndex, groups: it.cr.groups.map((g) => ({ backend: g.backend, weight: g.weight })) });
      const sel = `!{ var(txn.rule) -m found } { var(txn.fe) -m str ${fid} }${it.conds.length ? ' ' + it.conds.join(' ') : ''}`;
      ruleLines.push(`  http-request set-var(txn.rule) str(${id}) if ${sel}`);
      ruleLines.push(`  http-request set-var(txn.route) str(${rname}) if { var(txn.rule) -m str ${id} }`);
      if (options.log) ruleLines.push(`  http-request set-var(txn.ruleidx) int(${it.cr.ruleIndex}) if { var(txn.rule) -m str ${id} }`);
      const on = `if { var(txn.rule) -m str ${id} }`;
      renderFilters(it.cr.rule, it.match, on, ruleLines, responseLines);
    }
  }
  const maps = scheduleMaps(frontends);
  windows.push(maps.windows);
  schedule.push(maps.schedule);
  for (const st of statuses) {
    const l = shadowed.get(`${st.route.namespace}/${st.route.name}`);
    if (!l) continue;
    for (const ps of st.parents) {
      const a = ps.conditions.find((c) => c.type === 'Accepted' && c.status === 'True');
      if (a) { a.reason = 'Accepted'; a.message = `Accepted; ${l.join('; ')}`; }
    }
  }

  const mapPaths = { frontends: `${dir}/mesh-frontends.map`, windows: `${dir}/mesh-windows.map`, schedule: `${dir}/mesh-schedule.map` };
  files.push({ path: mapPaths.frontends, content: frontendMap.join('') }, { path: mapPaths.windows, content: maps.windows }, { path: mapPaths.schedule, content: maps.schedule });

  const retryMethods = MESH_RETRY_METHODS.map((m) => `!{ method ${m} }`).join(' ');
  // The record: the node proxy's access record (src/l7/http/accesslog.ts: its flows; identities 0,
  // the agent's caches know them) and the mesh's own fields: route, rule, backend group and
  // Service, server, retries (%rc), status, method, why a retry was not allowed.
  const js = (fetch: string) => `%{+Q}[${fetch},json(utf8s)]`;
  const logFormat = '{' + [
    '"timeUs":%[var(txn.t0)]', '"direction":"egress"', '"srcIp":%{+Q}[src]', '"srcPort":%[src_port]', '"dstIp":%{+Q}[dst]', '"dstPort":%[dst_port]',
    '"srcIdentity":0', '"dstIdentity":0', `"method":${js('method')}`, `"url":${js('var(txn.url)')}`, '"protocol":%{+Q}HV', `"host":${js('var(txn.host)')}`,
    '"status":%ST', '"denied":false', '"allowedBy":""', '"responseMs":%Tr', '"totalMs":%Ta', '"termination":"%tsc"',
    '"route":"%[var(txn.route)]"', '"rule":"%[var(txn.rule)]"', '"ruleIndex":"%[var(txn.ruleidx)]"', '"grp":"%[var(txn.grp)]"', '"backend":"%[var(txn.bsvc)]"', '"srv":"%s"', '"srvAddr":"%si:%sp"',
    '"rc":%rc', '"st":%ST', '"m":"%HM"', '"noretry":"%[var(txn.noretry)]"',
  ].join(',') + '}';
  const config = [
    '# beeline mesh routes (src/l7/http/mesh.ts): generated, do not edit',
    'backend bl_mesh_rr',
    '  # per rule entry: gpc0 = WRR counter, gpc1 = retried responses (retry budget)',
    '  stick-table type string len 32 size 100k store gpc0,http_req_rate(10s),gpc1_rate(10s)',
    '',
    'frontend bl_mesh',
    '  mode http',
    ...options.bind.map((b) => `  bind ${b}`),
    ...(options.log ? [`  log ${options.log}`, `  log-format '${logFormat}'`] : ['  no log']),
    '  timeout client 60s',
    '  option http-buffer-request',
    ...(options.log ? ['  http-request set-var(txn.t0) date(0,us)', '  http-request set-var(txn.url) pathq', '  http-request set-var(txn.host) req.fhdr(host)'] : []),
    '  http-request set-var(txn.dport) dst_port',
    `  http-request set-var(txn.fe) dst,concat(:,txn.dport),map(${mapPaths.frontends})`,
    ...ruleLines,
    '  http-request return status 404 if !{ var(txn.rule) -m found }',
    '  http-request track-sc0 var(txn.rule) table bl_mesh_rr',
    `  http-request set-var(txn.w) var(txn.rule),map_str_int(${mapPaths.windows},0)`,
    '  http-request return status 500 if !{ var(txn.w) -m int gt 0 }',
    '  http-request set-var(txn.slot) sc0_inc_gpc0,sub(1),mod(txn.w)',
    '  http-request set-var-fmt(txn.key) "%[var(txn.rule)]/%[var(txn.w)]/%[var(txn.slot)]"',
    `  http-request set-var(txn.grp) var(txn.key),map(${mapPaths.schedule},${INVALID_GROUP})`,
    `  http-request return status 500 if { var(txn.grp) -m str ${INVALID_GROUP} }`,
    `  # retry budget: retried/10s*100 > requests/10s*${RETRY_BUDGET_PERCENT} + ${RETRY_BUDGET_MIN}*100`,
    '  http-request set-var(txn.rt) sc0_gpc1_rate,mul(100)',
    `  http-request set-var(txn.lim) sc0_http_req_rate,mul(${RETRY_BUDGET_PERCENT}),add(${RETRY_BUDGET_MIN * 100})`,
    '  http-request set-var(txn.noretry) str(budget) if { var(txn.rt),sub(txn.lim) gt 0 }',
    `  http-request set-var(txn.noretry) str(method) if ${retryMethods}`,
    '  http-request disable-l7-retry if { var(txn.noretry) -m found }',
    ...responseLines,
    '  http-response set-var-fmt(txn.rc) "%rc"',
    '  http-response sc-inc-gpc1(0) if { var(txn.rc) -m int gt 0 }',
    '  use_backend %[var(txn.grp)]',
    '',
    ...backends,
  ].join('\n') + '\n';
  return { frontends, statuses, config, files, mapPaths, maps };
}

function entryKeyRule(cr: CompiledRule): string {
  return `${namespaceOf(cr.route)}/${cr.route.metadata.name}/${cr.ruleIndex}`;
}

function cmpNum(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

function checkHeaderFilter(at: string, h: HTTPHeaderFilter | undefined): void {
  if (!h) throw new RouteProblem(`${at}: missing`);
  for (const x of [...(h.set ?? []), ...(h.add ?? [])]) {
    if (!HEADER_NAME.test(x.name)) throw new RouteProblem(`${at}: header name ${JSON.stringify(x.name)} is not allowed`);
    safeValue(`${at}: header ${x.name}`, x.value);
  }
  for (const n of h.remove ?? []) if (!HEADER_NAME.test(n)) throw new RouteProblem(`${at}: header name ${JSON.stringify(n)} is not allowed`);
}

function checkPathValue(at: string, v: string | undefined): void {
  if (v === undefined || !PATH_RE.test(v) || /[%"\\$#]/.test(v)) throw new RouteProblem(`${at}: ${JSON.stringify(v)} is not a path this proxy can write`);
}

function checkFilter(at: string, f: HTTPRouteFilter): void {
  switch (f.type) {
    case 'RequestHeaderModifier': return checkHeaderFilter(`${at}.requestHeaderModifier`, f.requestHeaderModifier);
    case 'ResponseHeaderModifier': return checkHeaderFilter(`${at}.responseHeaderModifier`, f.responseHeaderModifier);
    case 'RequestRedirect': {
      const r = f.requestRedirect ?? {};
      if (r.hostname !== undefined && !/^[A-Za-z0-9.-]+$/.test(r.hostname)) throw new RouteProblem(`${at}.requestRedirect.hostname: not a hostname`);
      if (r.path?.type === 'ReplaceFullPath') checkPathValue(`${at}.requestRedirect.path.replaceFullPath`, r.path.replaceFullPath);
      if (r.path?.type === 'ReplacePrefixMatch') checkPathValue(`${at}.requestRedirect.path.replacePrefixMatch`, r.path.replacePrefixMatch);
      return;
    }
    case 'URLRewrite': {
      const r = f.urlRewrite ?? {};
      if (r.hostname !== undefined && !/^[A-Za-z0-9.-]+$/.test(r.hostname)) throw new RouteProblem(`${at}.urlRewrite.hostname: not a hostname`);
      if (r.path?.type === 'ReplaceFullPath') checkPathValue(`${at}.urlRewrite.path.replaceFullPath`, r.path.replaceFullPath);
      if (r.path?.type === 'ReplacePrefixMatch') checkPathValue(`${at}.urlRewrite.path.replacePrefixMatch`, r.path.replacePrefixMatch);
      return;
    }
    default:
      throw new RouteProblem(`${at}: filter ${f.type} is not supported`);
  }
}

/** The ACL conditions of one match (all must hold). */
function compileMatch(at: string, m: HTTPRouteMatch, patternFile: (pcre: string) => string, limit: number): string[] {
  const out: string[] = [];
  const type = m.path?.type ?? 'PathPrefix';
  const value = m.path?.value ?? '/';
  if (type === 'Exact') {
    checkPathValue(`${at}.path.value`, value);
    out.push(`{ path -m reg -f ${patternFile(literalToPcre(value, limit))} }`);
  } else if (type === 'PathPrefix') {
    checkPathValue(`${at}.path.value`, value);
    const p = value.replace(/\/+$/, '');
    // Element-wise: /foo matches /foo, /foo/ and /foo/x, not /foobar.
    if (p !== '') out.push(`{ path -m reg -f ${patternFile(literalToPcre(p, limit).slice(0, -2) + '(?:/.*)?\\z')} }`);
  } else if (type === 'RegularExpression') {
    try {
      out.push(`{ path -m reg -f ${patternFile(re2ToPcre(value, limit))} }`);
    } catch (e) {
      throw new RouteProblem(`${at}.path.value: ${(e as Error).message}`);
    }
  } else throw new RouteProblem(`${at}.path.type: ${String(type)} is not supported`);
  if (m.method) {
    if (!/^[A-Z]+$/.test(m.method)) throw new RouteProblem(`${at}.method: not a method`);
    out.push(`{ method ${m.method} }`);
  }
  const kv = (what: string, fetch: (n: string) => string, l?: { type?: string; name: string; value: string }[]) => {
    for (const [i, h] of (l ?? []).entries()) {
      if (!HEADER_NAME.test(h.name) || /[#'$%]/.test(h.name)) throw new RouteProblem(`${at}.${what}[${i}].name: ${JSON.stringify(h.name)} is not allowed`);
      let pcre: string;
      try {
        pcre = (h.type ?? 'Exact') === 'Exact' ? literalToPcre(h.value, limit) : re2ToPcre(h.value, limit);
      } catch (e) {
        throw new RouteProblem(`${at}.${what}[${i}].value: ${(e as Error).message}`);
      }
      out.push(`{ ${fetch(h.name)} -m reg -f ${patternFile(pcre)} }`);
    }
  };
  kv('headers', (n) => `req.fhdr(${n})`, m.headers);
  kv('queryParams', (n) => `urlp(${n})`, m.queryParams);
  return out;
}

function renderFilters(rule: MeshRule, match: HTTPRouteMatch, on: string, req: string[], res: string[]): void {
  const prefixLen = (match.path?.type ?? 'PathPrefix') === 'PathPrefix' ? (match.path?.value ?? '/').replace(/\/+$/, '').length : 0;
  const newPath = (p: { type: string; replaceFullPath?: string; replacePrefixMatch?: string }) =>
    p.type === 'ReplaceFullPath' ? fmtString(p.replaceFullPath!).slice(1, -1) : `${fmtString(p.replacePrefixMatch!.replace(/\/+$/, '')).slice(1, -1)}%[path,bytes(${prefixLen})]`;
  for (const f of rule.filters ?? []) {
    if (f.type === 'RequestHeaderModifier' || f.type === 'ResponseHeaderModifier') {
      const h = (f.requestHeaderModifier ?? f.responseHeaderModifier)!;
      const into = f.type === 'RequestHeaderModifier' ? req : res;
      const kw = f.type === 'RequestHeaderModifier' ? 'http-request' : 'http-response';
      for (const x of h.set ?? []) into.push(`  ${kw} set-header ${x.name} ${fmtString(x.value)} ${on}`);
      for (const x of h.add ?? []) into.push(`  ${kw} add-header ${x.name} ${fmtString(x.value)} ${on}`);
      for (const n of h.remove ?? []) into.push(`  ${kw} del-header ${n} ${on}`);
    } else if (f.type === 'URLRewrite') {
      const r = f.urlRewrite!;
      if (r.hostname) req.push(`  http-request set-header host ${r.hostname} ${on}`);
      if (r.path) req.push(`  http-request set-path "${newPath(r.path)}" ${on}`);
    } else if (f.type === 'RequestRedirect') {
      const r = f.requestRedirect!;
      const host = r.hostname ?? '%[req.hdr(host),field(1,:)]';
      const port = r.port !== undefined ? `:${r.port}` : '';
      const path = r.path ? newPath(r.path) : '%[path]';
      req.push(`  http-request set-var-fmt(txn.loc) "${r.scheme ?? 'http'}://${host}${port}${path}" ${on}`);
      req.push(`  http-request redirect location "%[var(txn.loc)]?%[query]" code ${r.statusCode ?? 302} ${on} { query -m len gt 0 }`);
      req.push(`  http-request redirect location "%[var(txn.loc)]" code ${r.statusCode ?? 302} ${on}`);
    }
  }
}

function renderBackend(name: string, cr: CompiledRule, service: string, endpoints: string[], source: string | undefined): string {
  const r = cr.rule;
  const lines = [`backend ${name}`, '  mode http', `  # ${entryKeyRule(cr)}`, '  balance roundrobin', '  option redispatch 1', '  timeout connect 5s'];
  // The backend Service, for the log record (names are DNS labels: nothing to quote).
  lines.push(`  http-request set-var(txn.bsvc) str(${service})`);
  if (source) lines.push(`  source ${source}`);
  const req = r.timeouts?.request ? parseGatewayDuration(r.timeouts.request) : undefined;
  const back = r.timeouts?.backendRequest ? parseGatewayDuration(r.timeouts.backendRequest) : undefined;
  // HAProxy 2.6 has no whole-request deadline: `request` caps each attempt's server timeout (see docs).
  const server = Math.min(back ?? Infinity, req ?? Infinity);
  lines.push(`  timeout server ${server === Infinity ? '60s' : `${Math.max(1, server)}ms`}`);
  if (r.retry && (r.retry.attempts ?? 1) > 0) {
    lines.push(`  retry-on ${[...(r.retry.codes ?? []), 'conn-failure', 'empty-response'].join(' ')}`, `  retries ${r.retry.attempts ?? 1}`);
  } else lines.push('  retry-on conn-failure empty-response', '  retries 1');
  endpoints.forEach((ep, i) => lines.push(`  server s${i} ${ep}`));
  return lines.join('\n') + '\n';
}

/** The schedule map contents of compiled frontends (for a swap: meshMapSwapPlan). */
export function scheduleMaps(frontends: MeshFrontend[]): MeshMaps {
  const windows: string[] = [];
  const schedule: string[] = [];
  for (const fe of frontends) {
    for (const e of fe.entries) {
      const order = smoothWrrSchedule(e.groups.map((g) => g.weight));
      if (order.length === 0) continue; // no weight: 500
      windows.push(`${e.id} ${order.length}\n`);
      order.forEach((gi, slot) => schedule.push(`${e.id}/${order.length}/${slot} ${e.groups[gi]!.backend}\n`));
    }
  }
  return { windows: windows.join(''), schedule: schedule.join('') };
}

/**
 * The schedule maps after changing weights of compiled frontends (same
 * rules and backends; only weights differ): `weights` maps an entry id to
 * the new weights in its backendRefs order.
 */
export function reweightedMaps(frontends: MeshFrontend[], weights: Record<string, number[]>): MeshMaps {
  return scheduleMaps(frontends.map((fe) => ({
    ...fe,
    entries: fe.entries.map((e) => (weights[e.id] ? { ...e, groups: e.groups.map((g, i) => ({ ...g, weight: weights[e.id]![i] ?? 0 })) } : e)),
  })));
}

/**
 * The map replacements, in order, that move from `from` to `to` without a
 * request ever finding no slot: the schedule first as the union (keys carry
 * W, so old and new windows coexist), then the windows, then the schedule
 * alone. Each is one prepare/add/commit on the runtime API.
 */
export function meshMapSwapPlan(from: MeshMaps, to: MeshMaps): { map: 'schedule' | 'windows'; content: string }[] {
  // Same key in both (same W): the new value.
  const union = new Map<string, string>();
  for (const l of [...from.schedule.split('\n'), ...to.schedule.split('\n')]) if (l !== '') union.set(l.slice(0, l.indexOf(' ')), l);
  return [
    { map: 'schedule', content: [...union.values()].map((l) => `${l}\n`).join('') },
    { map: 'windows', content: to.windows },
    { map: 'schedule', content: to.schedule },
  ];
}

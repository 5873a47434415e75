/**
 * Cilium's HTTP rules (`toPorts[].rules.http` of a CiliumNetworkPolicy) for
 * one port of one endpoint, compiled into a matcher the L7 proxy asks once
 * per request. Pure and engine-neutral: a request in, a verdict out (allowed
 * or denied, which policies allowed it, the header edits and access-log
 * notes of `headerMatches`). No I/O; secrets come through a lookup function.
 *
 * The semantics are Cilium's, as its agent translates a rule for its Envoy
 * (cilium/cilium pkg/envoy/xds_server.go, `getHTTPRule`) and as Cilium's
 * Envoy filter evaluates it (cilium/proxy cilium/network_policy.cc,
 * `HttpNetworkPolicyRule`, `HeaderMatch::allowed`, `PortNetworkPolicyRule::getVerdict`):
 *
 * - `method`, `path`, `host` are RE2 regular expressions (Envoy's
 *   `safe_regex` with google_re2) matched against the pseudo-headers
 *   `:method`, `:path`, `:authority`, and must match the WHOLE value (Envoy's
 *   HeaderMatcher.safe_regex_match: "the entire request header value must
 *   match the regex", api/envoy/config/route/v3/route_components.proto).
 *   We compile `^(?:pattern)$` with re2js (a port of Go's regexp: RE2
 *   syntax, linear-time matching, no backtracking).
 * - Nothing is case-folded: `HEAD` is not `GET`, `get` is not `GET`, and
 *   `Deathstar` is not `deathstar` unless the pattern says `(?i)`.
 * - `:path` is the request-target with its query string: Envoy keeps the
 *   query in `:path` (only its route `path`/`prefix`/`regex` matchers strip
 *   it, "once the query string is removed"; a HeaderMatcher on `:path` does
 *   not). So `path: /v1/request-landing` does not allow
 *   `/v1/request-landing?x=1`; write `/v1/request-landing(\?.*)?`. Cilium
 *   normalizes the path first by default (dot segments, merged slashes,
 *   escaped slashes redirected; the query untouched): the proxy runs
 *   `normalizeHttpPath` (./path.ts) and matches and forwards its result.
 * - `:authority` is the Host header as sent, port included if the client sent
 *   one (Cilium sets no `strip_port_mode`).
 * - `headers`: `Name` (present) or `Name value` / `Name: value` (exact
 *   value), split at the first space, trailing colons trimmed from the name
 *   (getHTTPRule). Names are case-insensitive; a header sent several times is
 *   compared as its values joined with `,` (Envoy's getAllOfHeaderAsString).
 * - `headerMatches`: see {@link HttpMismatchAction}.
 * - Within a rule every given field must match; `{}` matches every request.
 *   Rules are ORed per request, across rules and across policies. When no
 *   rule has a header action, Cilium stops at the first allowing rule; we
 *   evaluate all of them so the verdict names every policy that allowed the
 *   request (for the flow's `*_allowed_by`). The outcome is the same.
 */
import { RE2JS } from 're2js';
import { HttpRuleError } from '../../common/errors.js';
import type { PortRuleHTTP } from '../../k8s/types.js';
import { normaliseOrigins, originText } from '../../policy/cookies.js';
import type { Origin } from '../../policy/types.js';

/** One entry of `rules.http` as written in the policy (Cilium's PortRuleHTTP). */
export type HttpRuleSpec = PortRuleHTTP;
/** One entry of `rules.http[].headerMatches` (Cilium's HeaderMatch). */
export type HttpHeaderMatchSpec = NonNullable<PortRuleHTTP['headerMatches']>[number];

/**
 * What a `headerMatches` entry does when the request's header does not have
 * the value (Cilium's MismatchAction, pkg/policy/api/http.go; what the proxy
 * does is cilium/proxy cilium/network_policy.cc `HeaderMatch::allowed`). The
 * value is `value`, or the secret's when `secret` is given; an empty value
 * asks only for presence. A match never changes anything. On a mismatch:
 *
 * - none (omitted): the rule does not match. (Cilium's agent turns such an
 *   entry into a plain header matcher: exact value, or presence if empty.)
 * - `LOG`: the rule still matches; the access log lists the header as missing
 *   with the expected value.
 * - `ADD`: the rule matches; the value is added as one more value of the
 *   header (Envoy `addCopy`: any existing values stay), logged as missing.
 * - `DELETE`: the rule matches; a header present with another value is
 *   removed whole and logged as rejected. A presence-only entry, or a header
 *   that is absent, changes nothing.
 * - `REPLACE`: the rule matches; the header is set to the value (Envoy
 *   `setCopy`: every existing value replaced, added if absent); a wrong value
 *   is logged as rejected and the expected one as missing.
 *
 * Logged values of an entry that names a secret are `[redacted]`.
 */
export type HttpMismatchAction = NonNullable<HttpHeaderMatchSpec['mismatch']>;

/** The HTTP rules of one policy for this port; several of these are ORed. */
export interface HttpRuleSource {
  /**
   * The policy's `rules.http` for the port. An empty list means the policy
   * allows the port without L7 rules, which in Cilium allows every request
   * (an L4-only allow for the same peer and port wildcards L7), as `[{}]` does.
   */
  rules: readonly HttpRuleSpec[];
  /** The policy the rules come from; reported in `allowedBy`. */
  origin: Origin;
}

/** A request as the proxy parsed it. */
export interface HttpRequest {
  /** The method token as sent (`GET`); Envoy's `:method`. */
  method: string;
  /** The request-target in origin form, query string included (`/v1/x?y=1`), after `normalizeHttpPath` (./path.ts); Envoy's `:path`. */
  path: string;
  /** The Host header (HTTP/1) or `:authority` (HTTP/2) as sent, case kept; absent if the request had none. */
  host?: string;
  /** Header fields in order as `[name, value]`; names compare case-insensitively. Need not include Host. */
  headers: readonly (readonly [string, string])[];
}

/** A secret reference with its namespace resolved (the policy's, when the reference names none, as Cilium's certificate manager does). */
export interface HttpSecretRef {
  namespace: string;
  name: string;
}

/**
 * Resolves a secret to its value: Cilium reads a Kubernetes Secret that
 * must hold exactly one entry (pkg/crypto/certificatemanager,
 * GetSecretString). `undefined` when it cannot be had (missing, more than one
 * entry, not readable from here).
 */
export type HttpSecretLookup = (ref: HttpSecretRef) => string | undefined;

/** A header edit a `headerMatches` action asks for, applied to the request before it is forwarded. */
export type HttpHeaderEdit =
  /** Add `value` as one more value of `name` (mismatch action ADD). */
  | { action: 'ADD'; name: string; value: string }
  /** Remove every value of `name` (mismatch action DELETE). */
  | { action: 'DELETE'; name: string }
  /** Set `name` to exactly `value`, replacing any values (mismatch action REPLACE). */
  | { action: 'REPLACE'; name: string; value: string };

/** An access-log note of `headerMatches` (Cilium's HttpLogEntry `missing_headers` / `rejected_headers`). */
export interface HttpHeaderLogEntry {
  /** `missing`: the expected value was not there; `rejected`: a value that was there and was wrong. */
  kind: 'missing' | 'rejected';
  /** The header name, lower case. */
  name: string;
  /** The value; `[redacted]` when the expected value is a secret's. */
  value: string;
  /** The policy whose rule logged it. */
  origin: Origin;
}

/** The matcher's answer for one request. */
export interface HttpVerdict {
  /** True when at least one rule matched; otherwise the proxy answers {@link HTTP_DENIED_STATUS}. */
  allowed: boolean;
  /** The policies with a rule that matched, sorted and de-duplicated (empty when denied). */
  allowedBy: Origin[];
  /** Header edits to apply, in order (see {@link applyHttpHeaderEdits}); empty when denied. */
  edits: HttpHeaderEdit[];
  /** Access-log notes of `headerMatches` actions, in evaluation order. A rule that runs its actions always matches, so a denied request has none. */
  log: HttpHeaderLogEntry[];
}

/** Options of {@link compileHttpRules}. */
export interface HttpRuleOptions {
  /** Resolves `headerMatches[].secret`; without it every secret is unresolvable. */
  secrets?: HttpSecretLookup;
}

/** One port's compiled HTTP rules. */
export interface HttpRuleMatcher {
  /** The verdict for one request. Linear in the request's size for every pattern (RE2). */
  match(request: HttpRequest): HttpVerdict;
  /** How many rules were compiled (after an empty source became `{}`). */
  readonly ruleCount: number;
}

/** The status Cilium's proxy answers a denied request with (cilium/proxy cilium/l7policy.cc: `sendLocalReply(Http::Code::Forbidden, …)`). */
export const HTTP_DENIED_STATUS = 403;
/**
 * The body of that answer: Cilium's default `denied_403_body` "Access denied",
 * to which the filter appends CRLF when missing (cilium/proxy
 * cilium/l7policy.cc, `Config::Config`); Cilium's `--http-403-msg` replaces it.
 * 15 bytes: curl shows `content-length: 15`.
 */
export const HTTP_DENIED_BODY = 'Access denied\r\n';
/** Its content type: Envoy's local replies with a body are `text/plain` (source/common/http/utility.cc `prepareLocalReply`, ContentTypeValues.Text). */
export const HTTP_DENIED_CONTENT_TYPE = 'text/plain';

// ---- compiled form ----

/** A header check every request must pass before any action runs (Envoy's HeaderMatcher list). */
interface HeaderCheck {
  name: string;
  /** Exact value; undefined asks only for presence. */
  value?: string;
}

/** A `headerMatches` entry: a plain check when it has no action, otherwise run by {@link runHeaderMatch}. */
interface HeaderMatch {
  name: string;
  value: string;
  secret?: HttpSecretRef;
  mismatch?: HttpMismatchAction;
}

interface CompiledRule {
  origin: Origin;
  method?: RE2JS;
  path?: RE2JS;
  host?: RE2JS;
  headers: HeaderCheck[];
  /** Entries without a mismatch action: part of the rule's plain checks. */
  required: HeaderMatch[];
  /** Entries with a mismatch action, run in order after the plain checks pass. */
  actions: HeaderMatch[];
}

/** The request as rules see it while they run: actions of one rule are seen by the next, as in Envoy (it edits the header map in place). */
interface WorkingRequest {
  method: string;
  path: string;
  host: string | undefined;
  headers: [string, string][];
}

/** An HTTP field name (RFC 9110 token); a leading `:` names an HTTP/2 pseudo-header (`:path`), as Envoy's HeaderMatcher allows. */
export const HTTP_FIELD_NAME = /^:?[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * A `rules.http[].headers[]` entry: `Name` (present) or `Name value` /
 * `Name: value` (exact value), split at the first space with trailing colons
 * trimmed from the name, as Cilium's pkg/envoy getHTTPRule does.
 */
export function splitHeaderRule(entry: string): { name: string; value?: string } {
  const sp = entry.indexOf(' ');
  return sp < 0 ? { name: entry } : { name: entry.slice(0, sp).replace(/:+$/, ''), value: entry.slice(sp + 1) };
}

const REDACTED = '[redacted]';

/**
 * Compiles one port's HTTP rules, ORed across `sources` (one per policy).
 * No source at all means nothing allows: every request is denied.
 * Throws HttpRuleError (naming the policy and field) for a pattern RE2 refuses
 * or a header name that is not one; validation at apply refuses both first.
 */
export function compileHttpRules(sources: readonly HttpRuleSource[], options: HttpRuleOptions = {}): HttpRuleMatcher {
  const rules: CompiledRule[] = [];
  for (const src of sources) {
    const specs = src.rules.length === 0 ? [{}] : src.rules;
    specs.forEach((spec, i) => rules.push(compileRule(spec, src.origin, `rules.http[${i}]`)));
  }
  const secrets = options.secrets ?? (() => undefined);
  return {
    ruleCount: rules.length,
    match: (request) => matchRules(rules, request, secrets),
  };
}

function compileRule(spec: HttpRuleSpec, origin: Origin, where: string): CompiledRule {
  const fail = (field: string, msg: string): never => {
    throw new HttpRuleError(`${originText(origin)}: ${where}.${field}: ${msg}`);
  };
  const regex = (field: 'method' | 'path' | 'host'): RE2JS | undefined => {
    const p = spec[field];
    if (p === undefined || p === '') return undefined; // omitted or empty: any value (Cilium's PortRuleHTTP doc)
    try {
      // The pattern alone first: wrapped, an unbalanced `a)|(b` would compile.
      RE2JS.compile(p);
      return RE2JS.compile(`^(?:${p})$`);
    } catch (e) {
      return fail(field, `${JSON.stringify(p)}: not a valid RE2 regular expression: ${(e as Error).message}`);
    }
  };
  const name = (field: string, n: string): string => {
    if (!HTTP_FIELD_NAME.test(n)) fail(field, `${JSON.stringify(n)}: not an HTTP header name`);
    return n.toLowerCase();
  };
  const headers = (spec.headers ?? []).map((h, i): HeaderCheck => {
    const { name: n, value } = splitHeaderRule(h);
    return value === undefined ? { name: name(`headers[${i}]`, n) } : { name: name(`headers[${i}]`, n), value };
  });
  const required: HeaderMatch[] = [];
  const actions: HeaderMatch[] = [];
  (spec.headerMatches ?? []).forEach((m, i) => {
    const hm: HeaderMatch = { name: name(`headerMatches[${i}].name`, m.name), value: m.value ?? '' };
    if (m.secret) hm.secret = { namespace: m.secret.namespace || origin.namespace || '', name: m.secret.name };
    if (m.mismatch) { hm.mismatch = m.mismatch; actions.push(hm); } else required.push(hm);
  });
  const rule: CompiledRule = { origin, headers, required, actions };
  const method = regex('method'); if (method) rule.method = method;
  const path = regex('path'); if (path) rule.path = path;
  const host = regex('host'); if (host) rule.host = host;
  return rule;
}

function matchRules(rules: readonly CompiledRule[], request: HttpRequest, secrets: HttpSecretLookup): HttpVerdict {
  // Copied only when an action edits it: most rule sets have no actions.
  let work: WorkingRequest = { method: request.method, path: request.path, host: request.host, headers: request.headers as [string, string][] };
  let copied = false;
  const edits: HttpHeaderEdit[] = [];
  const log: HttpHeaderLogEntry[] = [];
  const allowedBy: Origin[] = [];
  const edit = (e: HttpHeaderEdit) => {
    if (!copied) { work = { ...work, headers: request.headers.map(([n, v]) => [n, v]) }; copied = true; }
    applyEdit(work, e);
    edits.push(e);
  };
  for (const rule of rules) {
    if (!plainChecksPass(rule, work, secrets)) continue;
    // Every action runs even after one fails, as Cilium's headerMatches() does
    // (with a resolvable value, which plainChecksPass ensured, none fails).
    let ok = true;
    for (const hm of rule.actions) if (!runHeaderMatch(hm, rule.origin, work, secrets, edit, log)) ok = false;
    if (ok) allowedBy.push(rule.origin);
  }
  const allowed = allowedBy.length > 0;
  return { allowed, allowedBy: allowed ? normaliseOrigins(allowedBy) : [], edits: allowed ? edits : [], log };
}

/** method, path, host, headers and the action-less headerMatches: Envoy's HeaderMatcher list of the rule (HttpNetworkPolicyRule::allowed). */
function plainChecksPass(rule: CompiledRule, req: WorkingRequest, secrets: HttpSecretLookup): boolean {
  if (rule.method && !rule.method.test(req.method)) return false;
  if (rule.path && !rule.path.test(req.path)) return false;
  if (rule.host && (req.host === undefined || !rule.host.test(req.host))) return false;
  for (const h of rule.headers) {
    const v = headerValue(req, h.name);
    if (v === undefined || (h.value !== undefined && v !== h.value)) return false;
  }
  for (const hm of rule.required) {
    const expected = expectedValue(hm, secrets);
    if (expected === undefined) return false;
    const v = headerValue(req, hm.name);
    if (v === undefined || (expected !== '' && v !== expected)) return false;
  }
  // An action whose secret cannot be resolved makes the rule never match and
  // runs no action of it: Cilium's agent adds an always-failing matcher instead.
  for (const hm of rule.actions) if (expectedValue(hm, secrets) === undefined) return false;
  return true;
}

/**
 * The value a headerMatches entry expects: the secret's if it resolves to a
 * non-empty value, else `value`; undefined (the rule fails closed) when a
 * secret is named, cannot be had, and no `value` is given to fall back on
 * (Cilium's getSecretString). Cilium would take an existing but empty secret
 * as "presence only"; we fail closed on it instead.
 */
function expectedValue(hm: HeaderMatch, secrets: HttpSecretLookup): string | undefined {
  if (!hm.secret) return hm.value;
  const s = secrets(hm.secret);
  if (s !== undefined && s !== '') return s;
  return hm.value !== '' ? hm.value : undefined;
}

/** One headerMatches entry with a mismatch action (HeaderMatch::allowed, match action CONTINUE): true if the rule may still match. */
function runHeaderMatch(
  hm: HeaderMatch, origin: Origin, req: WorkingRequest, secrets: HttpSecretLookup,
  edit: (e: HttpHeaderEdit) => void, log: HttpHeaderLogEntry[],
): boolean {
  const expected = expectedValue(hm, secrets);
  if (expected === undefined) return false; // plainChecksPass already refused this rule
  // Cilium's proxy redacts every logged value of an entry that names a secret.
  const shown = (v: string) => (hm.secret ? REDACTED : v);
  const presenceOnly = expected === '';
  const actual = headerValue(req, hm.name);
  if (presenceOnly ? actual !== undefined : actual === expected) return true;
  switch (hm.mismatch) {
    case 'LOG':
      log.push({ kind: 'missing', name: hm.name, value: shown(expected), origin });
      return true;
    case 'ADD':
      edit({ action: 'ADD', name: hm.name, value: expected });
      log.push({ kind: 'missing', name: hm.name, value: shown(expected), origin });
      return true;
    case 'DELETE':
      if (presenceOnly || actual === undefined) return true;
      log.push({ kind: 'rejected', name: hm.name, value: shown(actual), origin });
      edit({ action: 'DELETE', name: hm.name });
      return true;
    case 'REPLACE':
      if (actual !== undefined) log.push({ kind: 'rejected', name: hm.name, value: shown(actual), origin });
      edit({ action: 'REPLACE', name: hm.name, value: expected });
      log.push({ kind: 'missing', name: hm.name, value: shown(expected), origin });
      return true;
    default:
      return false; // no action: such entries are plain checks, never run here
  }
}

/**
 * A header's value as Envoy's matchers see it: pseudo-headers `:method`,
 * `:path`, `:authority` (and `host`, which Envoy stores as `:authority`)
 * read the request line; any other name its fields, several joined with `,`.
 */
function headerValue(req: WorkingRequest, name: string): string | undefined {
  switch (name) {
    case ':method': return req.method;
    case ':path': return req.path;
    case ':authority': case 'host': return req.host;
  }
  let out: string | undefined;
  for (const [n, v] of req.headers) {
    if (n.length === name.length && n.toLowerCase() === name) out = out === undefined ? v : `${out},${v}`;
  }
  return out;
}

/** Applies one edit in place. Pseudo-headers are single-valued: ADD and REPLACE set them; DELETE clears only the host. */
function applyEdit(req: WorkingRequest, e: HttpHeaderEdit): void {
  switch (e.name) {
    case ':method': if (e.action !== 'DELETE') req.method = e.value; return;
    case ':path': if (e.action !== 'DELETE') req.path = e.value; return;
    case ':authority': case 'host': req.host = e.action === 'DELETE' ? undefined : e.value; return;
  }
  if (e.action !== 'ADD') req.headers = req.headers.filter(([n]) => n.toLowerCase() !== e.name);
  if (e.action !== 'DELETE') req.headers.push([e.name, e.value]);
}

/** The request with a verdict's edits applied, in order, as the proxy forwards it; the input is not changed. */
export function applyHttpHeaderEdits(request: HttpRequest, edits: readonly HttpHeaderEdit[]): HttpRequest {
  const work: WorkingRequest = { method: request.method, path: request.path, host: request.host, headers: request.headers.map(([n, v]) => [n, v]) };
  for (const e of edits) applyEdit(work, e);
  const out: HttpRequest = { method: work.method, path: work.path, headers: work.headers };
  if (work.host !== undefined) out.host = work.host;
  return out;
}

/**
 * The request path as Cilium's proxy sees it before any policy: Cilium turns
 * on Envoy's path normalization by default (`--http-normalize-path=true`:
 * `normalize_path`, `merge_slashes`, `path_with_escaped_slashes_action:
 * UNESCAPE_AND_REDIRECT`; cilium/cilium pkg/envoy/xds_server.go,
 * `getHttpFilterChainProto`), and Envoy's connection manager applies it to
 * `:path` before any HTTP filter runs, so Cilium's `path` rules match, and the
 * server receives, the normalized path (envoy source/common/http/
 * conn_manager_utility.cc `maybeNormalizePath`, path_utility.cc).
 *
 * In Envoy's order:
 * 1. a `#` anywhere: rejected (400; `http_reject_path_with_fragment`);
 * 2. `%2F` / `%5C` (any case) in the path part: unescaped to `/` and `\`,
 *    and the client redirected to the result (307 with Location);
 * 3. RFC 3986 normalization of the path part (Chromium's url::CanonicalizePath):
 *    `\` is a `/`; `.` and `..` segments, also written `%2e`, are resolved,
 *    never above the root; `;params` on a `..` segment are dropped first
 *    (`strip_dotdot_segments_with_parameters`);
 * 4. runs of `/` in the path part merged into one.
 * The query string is kept as it is.
 *
 * Not done here: Chromium's re-escaping of bytes a path may not carry (the
 * proxy's HTTP parser refuses a request-target with spaces or control bytes)
 * and, in older Envoy builds, decoding of `%XX` of unreserved characters
 * (`%41` → `A`): a pattern sees such escapes as sent.
 */

/** What to do with a request, by its path. */
export type HttpPathVerdict =
  /** Go on with `path` as the request's path (match the rules on it, forward it). */
  | { action: 'continue'; path: string }
  /** Answer 307 with `Location: path` (escaped slashes were unescaped), as Envoy's UNESCAPE_AND_REDIRECT does. */
  | { action: 'redirect'; path: string }
  /** Answer `status` (400 path normalization failed, 404 not a relative path) and do not forward. */
  | { action: 'reject'; status: 400 | 404; reason: string };

const ESCAPED_SLASH = /%2f|%5c/i;
const DOT = /^(?:\.|%2e)$/i;
const DOTDOT = /^(?:\.|%2e){2}$/i;

/** Normalizes a request-target (origin form, `/path?query`) as Cilium's Envoy does by default. */
export function normalizeHttpPath(target: string): HttpPathVerdict {
  // Envoy answers 404 to a non-relative path at the application layer (absolute-form is split by the codec first).
  if (!target.startsWith('/')) return { action: 'reject', status: 404, reason: `not a relative path: ${JSON.stringify(target)}` };
  if (target.includes('#')) return { action: 'reject', status: 400, reason: 'a fragment (#) in the request path' };
  const q = target.indexOf('?');
  let path = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? '' : target.slice(q);
  let redirect = false;
  if (ESCAPED_SLASH.test(path)) {
    path = path.replace(/%2f/gi, '/').replace(/%5c/gi, '\\');
    redirect = true;
  }
  path = resolveDots(path.replace(/\\/g, '/'));
  path = path.replace(/\/{2,}/g, '/');
  return { action: redirect ? 'redirect' : 'continue', path: path + query };
}

/** RFC 3986 §5.2.4 on a path that starts with `/`; an empty segment is a segment (`/a//../b` → `/a/b`), as Chromium's canonicalizer keeps it. */
function resolveDots(path: string): string {
  const segs = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < segs.length; i++) {
    let s = segs[i]!;
    const last = i === segs.length - 1;
    const semi = s.indexOf(';');
    if (semi >= 0 && DOTDOT.test(s.slice(0, semi))) s = s.slice(0, semi);
    if (DOT.test(s)) { if (last) out.push(''); continue; }
    if (DOTDOT.test(s)) { out.pop(); if (last) out.push(''); continue; }
    out.push(s);
  }
  return `/${out.join('/')}`;
}

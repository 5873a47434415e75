/**
 * HAProxy 2.6 (Debian) as a plain reverse proxy with an HTTP allow-list as
 * ACLs: the issue 12 benchmarks' arm (d), the yardstick the node proxy is
 * held to (bench/http-engine.ts on loopback, bench/http-l7.ts in a lab).
 * Not the node proxy's generated configuration (src/l7/http/haproxy.ts):
 * no path normalization, no identity map, no access records.
 */
import type { HttpRule } from './proto/http-proxy.js';

/** What {@link haproxyAclConfig} writes. */
export interface HaproxyAclOptions {
  /** `address:port` of the frontend. */
  bind: string;
  /** `address:port` of the one server. */
  upstream: string;
  /** The allow-list; undefined: no ACLs at all (every request passes). */
  rules: HttpRule[] | undefined;
  /** PCRE2 match limit per pattern (`(*LIMIT_MATCH=n)`); the library's default without. */
  matchLimit?: number;
  /** Named in the file's first line. */
  writtenBy: string;
}

/**
 * The configuration: one thread, keep-alive on both sides, server
 * connections shared between client connections (`http-reuse always`: what
 * a plain reverse proxy may do; the node proxy may not, its server sees each
 * client's own address). Each rule is two regex ACLs (method, path:
 * anchored, so a full match as Cilium's rules are), an allowed request
 * passes the first `allow`, the rest get 403 `Access denied\r\n` with the
 * connection kept. `path` is the request target without its query.
 */
export function haproxyAclConfig(o: HaproxyAclOptions): string {
  // (*LIMIT_MATCH=n) at a pattern's start lowers PCRE2's match limit for that pattern (JIT included);
  // HAProxy 2.6 has no setting for it and counts a match error as no match.
  const limit = o.matchLimit ? `(*LIMIT_MATCH=${o.matchLimit})` : '';
  const q = (re: string) => {
    if (re.includes("'")) throw new Error(`haproxy config: pattern ${re} holds a single quote`);
    return `'${limit}^(?:${re})$'`;
  };
  for (const [k, v] of [['bind', o.bind], ['upstream', o.upstream]] as const) {
    if (!/^[0-9a-fA-F.:[\]]+:\d+$/.test(v)) throw new Error(`haproxy config: ${k} ${JSON.stringify(v)}: not address:port`);
  }
  const acls = (o.rules ?? []).flatMap((r, i) => [
    ...(r.method ? [`  acl r${i}_method method -m reg ${q(r.method)}`] : []),
    ...(r.path ? [`  acl r${i}_path path -m reg ${q(r.path)}`] : []),
    `  http-request allow if ${[r.method ? `r${i}_method` : '', r.path ? `r${i}_path` : ''].filter(Boolean).join(' ') || 'TRUE'}`,
  ]);
  return `# Written by ${o.writtenBy}.
global
  nbthread 1
  maxconn 8192
defaults
  mode http
  timeout connect 5s
  timeout client 120s
  timeout server 120s
  timeout http-keep-alive 120s
  option http-keep-alive
  http-reuse always
frontend fe
  bind ${o.bind}
${o.rules ? [...acls, `  http-request return status 403 content-type text/plain string "Access denied\\r\\n"`].join('\n') + '\n' : ''}  default_backend be
backend be
  server s1 ${o.upstream}
`;
}

/**
 * Finding the L7 redirect that governs one proxied connection or datagram,
 * as the datapath found its policy entry: the endpoint's redirects (the
 * policy engine's EndpointPolicy.l7, handed on by the policy manager) for the
 * direction, parser, protocol and port, the peer identity's own redirect
 * first, else identity 0's (src/policy/types.ts L7Redirect: a peer's own
 * redirect already carries the identity-0 sources).
 */
import { portPrefix, type L7Redirect } from '../policy/index.js';
import type { EndpointRedirects } from './proxy.js';

/** A lookup key for one proxied flow. */
export interface RedirectQuery {
  /** The local endpoint whose policy redirected it (the client for egress, the server for ingress). */
  endpointIp: string;
  direction: 'ingress' | 'egress';
  parser: L7Redirect['parser'];
  /** 6 (TCP) or 17 (UDP). */
  protocol: number;
  /** The original destination port. */
  port: number;
  /** The peer's identity (the server's for egress, the client's for ingress). */
  peerIdentity: number;
}

/** The redirect's port prefix holds the port (as the policy map's trie matches it). */
const covers = (r: L7Redirect, port: number) => portPrefix(port, r.portPrefixLen) === portPrefix(r.port, r.portPrefixLen);

/**
 * A redirect's rules compiled once (a new rule set comes as new redirect
 * objects, so the old compilations go with them).
 */
export class CompiledRules<T> {
  readonly #cache = new WeakMap<L7Redirect, T>();

  constructor(private readonly compile: (r: L7Redirect) => T) {}

  of(r: L7Redirect): T {
    let c = this.#cache.get(r);
    if (c === undefined) {
      c = this.compile(r);
      this.#cache.set(r, c);
    }
    return c;
  }
}

/** The redirects of every local endpoint by address, rebuilt when the policy manager hands on a new set. */
export class RedirectIndex {
  #byIp = new Map<string, readonly L7Redirect[]>();

  /** Replaces the index (the policy manager's redirectsChanged). */
  set(endpoints: readonly EndpointRedirects[]): void {
    this.#byIp = new Map(endpoints.map((e) => [e.ipv4, e.l7]));
  }

  /** The redirect governing q, or undefined when the endpoint has none there (the proxy then denies). */
  find(q: RedirectQuery): L7Redirect | undefined {
    const l7 = this.#byIp.get(q.endpointIp);
    if (!l7) return undefined;
    // The most specific port prefix wins, as in the policy map's trie.
    let own: L7Redirect | undefined;
    let any: L7Redirect | undefined;
    for (const r of l7) {
      if (r.direction !== q.direction || r.parser !== q.parser || r.protocol !== q.protocol || !covers(r, q.port)) continue;
      if (r.identity === q.peerIdentity && (!own || r.portPrefixLen > own.portPrefixLen)) own = r;
      else if (r.identity === 0 && (!any || r.portPrefixLen > any.portPrefixLen)) any = r;
    }
    return own ?? any;
  }
}

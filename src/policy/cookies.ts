/**
 * Cookies: a policy map entry carries one number naming the set of rules
 * that decided it. The table interns sorted, de-duplicated origin lists to
 * stable positive numbers (0 = none) and lives across computations, so a
 * cookie written into the map keeps its meaning until the agent drops it.
 */
import type { Origin } from './types.js';

/** `CiliumNetworkPolicy/ns/name`, `CiliumClusterwideNetworkPolicy/name`, `NetworkPolicy/ns/name`, or a built-in's name. */
export function originText(o: Origin): string {
  if (o.kind === 'Builtin') return o.name;
  return o.namespace === undefined || o.namespace === '' ? `${o.kind}/${o.name}` : `${o.kind}/${o.namespace}/${o.name}`;
}

/** Ingress from the local host, allowed whenever ingress is enforced (Cilium's allow-localhost=policy default). */
export const ALLOW_LOCALHOST: Origin = { kind: 'Builtin', name: 'allow-localhost' };
/** Enforcement mode 'always' put the endpoint into default deny. */
export const ENFORCEMENT_ALWAYS: Origin = { kind: 'Builtin', name: 'enforcement-always' };
/**
 * The allow-all entry of a direction that is enforced without default deny:
 * every rule selecting the endpoint in that direction says
 * `enableDefaultDeny: false`, so only its denies (and any L7 rules) bite
 * (Cilium inserts the same allow-all rule).
 */
export const DEFAULT_ALLOW: Origin = { kind: 'Builtin', name: 'default-allow' };
/**
 * The proxy-visibility annotation (EndpointInfo.visibility): the allow-all
 * entry of a direction that no policy enforces but the annotation sends
 * through the node proxy, and the L7 source that allows every request there.
 */
export const VISIBILITY_ANNOTATION: Origin = { kind: 'Builtin', name: 'visibility-annotation' };

/** Sorted by printable form, duplicates removed. */
export function normaliseOrigins(origins: Iterable<Origin>): Origin[] {
  const byText = new Map<string, Origin>();
  for (const o of origins) byText.set(originText(o), o);
  return [...byText.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, o]) => o);
}

/** Interns origin sets to cookies. */
export class CookieTable {
  private readonly byKey = new Map<string, number>();
  private readonly byCookie = new Map<number, Origin[]>();
  private next = 1;

  /** The cookie of this set of origins (order and duplicates do not matter); 0 for an empty set. */
  intern(origins: Iterable<Origin>): number {
    const list = normaliseOrigins(origins);
    if (list.length === 0) return 0;
    const key = list.map(originText).join('\n');
    let c = this.byKey.get(key);
    if (c === undefined) {
      c = this.next++;
      this.byKey.set(key, c);
      this.byCookie.set(c, list.map((o) => ({ ...o })));
    }
    return c;
  }

  /** The origins a cookie names; [] for 0 or an unknown cookie. */
  origins(cookie: number): Origin[] {
    return (this.byCookie.get(cookie) ?? []).map((o) => ({ ...o }));
  }

  /** Printable forms of a cookie's origins. */
  describe(cookie: number): string[] {
    return this.origins(cookie).map(originText);
  }

  get size(): number {
    return this.byCookie.size;
  }
}

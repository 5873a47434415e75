/**
 * The reference matchers of DNS-aware policy, pure and engine-neutral:
 *
 * - {@link compileDnsRules}: Cilium's DNS rules (`toPorts[].rules.dns` of an
 *   egress rule to the DNS server) for one endpoint and port, ORed across
 *   policies like the HTTP rules (../http/rules.ts): a query name in, allowed
 *   (by which policies) or denied out. The DNS proxy asks it once per query
 *   and answers a denied one with REFUSED (./wire.ts buildRefusal).
 * - {@link compileFqdnSelectors}: a policy's `toFQDNs` entries: does the
 *   selector select a name seen in an allowed DNS answer (so that the
 *   answer's addresses become allowed destinations of the policy).
 *
 * Semantics (./pattern.ts for the patterns themselves): Cilium's DNS proxy
 * compiles a port's rules per peer selector into one regexp
 * (pkg/fqdn/dnsproxy `GeneratePattern`) and checks the lower-cased, fully
 * qualified query name against it (`CheckAllowed`). Only the name is
 * considered: not the query type or class (policy language docs, "DNS Policy
 * and IP Discovery"). In a `rules.dns` entry `matchName` and `matchPattern`
 * may both be given and either matching allows; a `toFQDNs` entry takes
 * exactly one (pkg/policy/api/fqdn.go `FQDNSelector.sanitize`). A policy that
 * allows the port without DNS rules allows every name (an empty rule list is
 * Cilium's MatchAllAnchoredPattern), as an L4-only allow does for HTTP.
 */
import { DnsRuleError } from '../../common/errors.js';
import type { FQDNSelector, PortRuleDNS } from '../../k8s/types.js';
import { normaliseOrigins, originText } from '../../policy/cookies.js';
import type { Origin } from '../../policy/types.js';
import { compileMatchName, compileMatchPattern, normaliseDnsName, type DnsMatchContext, type DnsNameMatcher } from './pattern.js';

/** One entry of `rules.dns` as written in the policy (Cilium's PortRuleDNS). */
export type DnsRuleSpec = PortRuleDNS;
/** One entry of `toFQDNs` as written in the policy (Cilium's FQDNSelector). */
export type FqdnSelectorSpec = FQDNSelector;

/**
 * The DNS rules of one policy for this endpoint, port and DNS server (the
 * caller keeps only rules whose peer, e.g. `toEndpoints` kube-dns, selects
 * the query's destination, as Cilium keys them per selector); several are ORed.
 */
export interface DnsRuleSource {
  /** The policy's `rules.dns` for the port. Empty: the policy allows the port without DNS rules, so every name. */
  rules: readonly DnsRuleSpec[];
  /** The policy the rules come from; reported in `allowedBy`. */
  origin: Origin;
}

/** The matcher's answer for one query name. */
export interface DnsVerdict {
  /** True when at least one rule matched; otherwise the proxy answers REFUSED. */
  allowed: boolean;
  /** The policies with a rule that matched, sorted and de-duplicated (empty when denied). */
  allowedBy: Origin[];
}

/** One port's compiled DNS rules. */
export interface DnsRuleMatcher {
  /** The verdict for one query name (presentation form, any case, trailing dot optional). */
  match(qname: string): DnsVerdict;
  /** How many name matchers were compiled (a matchName and a matchPattern in one entry are two; an empty source is one match-all). */
  readonly ruleCount: number;
}

interface CompiledDnsRule {
  origin: Origin;
  matcher: DnsNameMatcher;
}

/** Always matches: a policy allowing the port without DNS rules. */
const MATCH_ALL: DnsNameMatcher = { regexp: '', matchesAll: true, test: () => true };

/**
 * Compiles one port's DNS rules, ORed across `sources` (one per policy). No
 * source at all means nothing allows: every query is denied. Throws
 * DnsRuleError naming the policy and field (`rules.dns[1].matchPattern`) for
 * an entry Cilium refuses.
 */
export function compileDnsRules(sources: readonly DnsRuleSource[]): DnsRuleMatcher {
  const rules: CompiledDnsRule[] = [];
  for (const src of sources) {
    if (src.rules.length === 0) {
      rules.push({ origin: src.origin, matcher: MATCH_ALL });
      continue;
    }
    src.rules.forEach((spec, i) => {
      const where = `${originText(src.origin)}: rules.dns[${i}]`;
      for (const matcher of compileEntry(spec, where, 'dns', true)) rules.push({ origin: src.origin, matcher });
    });
  }
  return {
    ruleCount: rules.length,
    match(qname) {
      const name = normaliseDnsName(qname);
      const allowedBy: Origin[] = [];
      for (const r of rules) if (r.matcher.test(name)) allowedBy.push(r.origin);
      return allowedBy.length > 0 ? { allowed: true, allowedBy: normaliseOrigins(allowedBy) } : { allowed: false, allowedBy: [] };
    },
  };
}

/** A policy's compiled `toFQDNs` entries. */
export interface FqdnSelectorMatcher {
  /** True when some entry selects the name (presentation form, any case, trailing dot optional). */
  selects(name: string): boolean;
  /** The indexes of the entries that select the name, in order. */
  selecting(name: string): number[];
  /** The entries, as compiled, in order. */
  readonly selectors: readonly { spec: FqdnSelectorSpec; matcher: DnsNameMatcher }[];
}

/**
 * Compiles the `toFQDNs` entries of one egress rule of `origin`. Throws
 * DnsRuleError naming the policy and field (`toFQDNs[0].matchPattern`) for
 * an entry Cilium refuses, including one with both or neither field.
 * `where` is the field path of the list (`egress[2].toFQDNs`).
 */
export function compileFqdnSelectors(specs: readonly FqdnSelectorSpec[], origin: Origin, where = 'toFQDNs'): FqdnSelectorMatcher {
  const selectors = specs.map((spec, i) => {
    const [matcher] = compileEntry(spec, `${originText(origin)}: ${where}[${i}]`, 'toFQDNs', false);
    return { spec, matcher: matcher! };
  });
  const selecting = (name: string): number[] => {
    const n = normaliseDnsName(name);
    const out: number[] = [];
    selectors.forEach((s, i) => { if (s.matcher.test(n)) out.push(i); });
    return out;
  };
  // selects() is asked for every learned name on every change of the names (the engine's toFQDNs
  // selection, its required prefixes): remembered per name, as the answer never changes.
  const memo = new Map<string, boolean>();
  const selects = (name: string): boolean => {
    let v = memo.get(name);
    if (v === undefined) {
      if (memo.size >= SELECTS_MEMO_MAX) memo.clear();
      v = selecting(name).length > 0;
      memo.set(name, v);
    }
    return v;
  };
  return { selectors, selecting, selects };
}

/** Names whose selects() answer one toFQDNs matcher remembers at most (then it starts over). */
const SELECTS_MEMO_MAX = 65_536;

/** The matchers of one entry: its matchName, its matchPattern, or (DNS rules only) both. */
function compileEntry(spec: DnsRuleSpec | FqdnSelectorSpec, where: string, context: DnsMatchContext, bothAllowed: boolean): DnsNameMatcher[] {
  const name = spec.matchName;
  const pattern = spec.matchPattern;
  // Cilium's `len(x) > 0` tests: an empty string counts as absent.
  const hasName = name !== undefined && name !== '';
  const hasPattern = pattern !== undefined && pattern !== '';
  if (!hasName && !hasPattern) throw new DnsRuleError(`${where}: one of matchName, matchPattern is required`);
  if (hasName && hasPattern && !bothAllowed) {
    throw new DnsRuleError(`${where}: only one of matchName, matchPattern is allowed in a toFQDNs entry`, 'write two entries');
  }
  const out: DnsNameMatcher[] = [];
  if (hasName) out.push(compileMatchName(name, `${where}.matchName`));
  if (hasPattern) out.push(compileMatchPattern(pattern, context, `${where}.matchPattern`));
  return out;
}

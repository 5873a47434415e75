/**
 * Cilium's DNS name matching for `toPorts[].rules.dns[]` (which queries the
 * DNS proxy lets through) and `toFQDNs[]` (which names' addresses a policy
 * allows), compiled to linear-time matchers. Pure: a name in, a boolean out.
 *
 * The semantics are Cilium's (pkg/fqdn/matchpattern `Validate`,
 * `ToAnchoredRegexp`, `ToUnAnchoredRegexp`, `Sanitize`; pkg/fqdn/dns `FQDN`;
 * pkg/policy/api/fqdn.go; pkg/fqdn/dnsproxy `GeneratePattern`, `CheckAllowed`;
 * the policy language docs, "DNS based" and "DNS Policy and IP Discovery"):
 *
 * - Names and patterns are compared in lower case (ASCII) and fully
 *   qualified: a missing trailing `.` is added (`dns.FQDN`), so `cilium.io`
 *   and `CILIUM.io.` are the same name.
 * - `matchName` is one literal name.
 * - `matchPattern`: `*` matches zero or more characters of ONE label from
 *   `[-a-zA-Z0-9_]` and never a `.`; several `*` in a row are one `*`.
 *   `*.cilium.io` matches `sub.cilium.io`, not `cilium.io` nor
 *   `a.sub.cilium.io`; `*cilium.io` matches `cilium.io` and `subcilium.io`;
 *   `part*ial.com` matches `partial.com` and `part-extra-ial.com`.
 * - A leading `**.` (two or more `*`, then `.`, at the very start) matches one
 *   or more whole labels: `**.cilium.io` matches `app.cilium.io` and
 *   `test.app.cilium.io`, not `cilium.io` (Cilium 1.19; before 1.19 it meant
 *   one label, like `*.`). Anywhere else `**` is a plain `*`.
 * - A pattern of only `*` (optionally one trailing `.`: `*`, `**`, `*.`,
 *   `**.`) is the match-all pattern. In a DNS rule it allows every query
 *   name (Cilium compiles it to the empty regexp). In `toFQDNs` it selects
 *   the root `.` and every name whose labels are all `[-a-zA-Z0-9_]+`.
 * - Wire names carry other bytes in escaped presentation form (`\.`, `\032`,
 *   see ./wire.ts); `\` is in no pattern's alphabet, so such names are
 *   matched by no `matchName` and no wildcard, only by a DNS rule's match-all.
 *
 * Validation (what `Validate` and the CRD schema refuse, as DnsRuleError
 * naming the field): characters other than letters, digits, `-`, `_`, `.`
 * (and `*` in `matchPattern`); more than 255 characters (`MaxFQDNLength`);
 * empty labels: a leading `.`, `..`, or a lone `.` (the CRD's
 * `^([-a-zA-Z0-9_*]+[.]?)+$`); an empty value.
 */
import { RE2JS } from 're2js';
import { DnsRuleError } from '../../common/errors.js';

/** The longest `matchName` / `matchPattern` Cilium accepts (matchpattern.MaxFQDNLength). */
export const MAX_FQDN_LENGTH = 255;

/** The characters one label of a name may have for a wildcard to match them (Cilium's allowedDNSCharsREGroup). */
const LABEL_CLASS = '[-a-z0-9_]';
/** Characters Cilium's allowedMatchNameChars / allowedPatternChars accept. */
const MATCH_NAME_CHARS = /^[-a-zA-Z0-9_.]*$/;
const MATCH_PATTERN_CHARS = /^[-a-zA-Z0-9_.*]*$/;
/** Only stars, with one optional trailing dot: the match-all pattern (matchpattern.isDNSWildcard). */
const ALL_WILDCARD = /^\*+\.?$/;

/** Where a matcher is used: a DNS rule (query names) or a toFQDNs selector (names of learned addresses). */
export type DnsMatchContext = 'dns' | 'toFQDNs';

/** A compiled `matchName` or `matchPattern`. */
export interface DnsNameMatcher {
  /** True when the name matches; the name is normalised first ({@link normaliseDnsName}). Linear in the name's length. */
  test(name: string): boolean;
  /** The RE2 expression the matcher runs (for diagnostics), or `''` for a DNS rule's match-all. */
  readonly regexp: string;
  /** True for a DNS rule's match-all (`*`, `**`, `*.`): every name matches. */
  readonly matchesAll: boolean;
}

/** ASCII lower case; DNS compares names case-insensitively and only over ASCII (RFC 4343). */
export function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/**
 * A name as the matchers compare it: ASCII lower case, fully qualified (a
 * trailing `.` added unless the name already ends in an unescaped one), as
 * Cilium's dns.FQDN. `` is `.`.
 */
export function normaliseDnsName(name: string): string {
  const lower = asciiLower(name);
  return isFullyQualified(lower) ? lower : `${lower}.`;
}

/** Ends in a `.` that is not escaped: an even number of `\` before it (Cilium's isFQDN). */
function isFullyQualified(s: string): boolean {
  if (!s.endsWith('.')) return false;
  let backslashes = 0;
  for (let i = s.length - 2; i >= 0 && s[i] === '\\'; i--) backslashes++;
  return backslashes % 2 === 0;
}

/**
 * Throws DnsRuleError unless `value` is a `matchName` Cilium accepts.
 * `where` names the field (`CiliumNetworkPolicy/ns/p: toFQDNs[0].matchName`).
 */
export function validateMatchName(value: string, where: string): void {
  validate(value, where, false);
}

/** Throws DnsRuleError unless `value` is a `matchPattern` Cilium accepts. */
export function validateMatchPattern(value: string, where: string): void {
  validate(value, where, true);
}

function validate(value: string, where: string, pattern: boolean): void {
  const problem = dnsNameProblem(value, pattern);
  if (problem !== undefined) throw new DnsRuleError(`${where}: ${JSON.stringify(value)}: ${problem}`);
}

/**
 * Why `value` is not a `matchName` (`pattern` false) or `matchPattern`
 * (`pattern` true) Cilium accepts, or undefined when it is. For apply-time
 * validation (src/k8s/validate.ts), which reports it at the field's path.
 */
export function dnsNameProblem(value: string, pattern: boolean): string | undefined {
  if (value === '') return 'must not be empty';
  if (value.length > MAX_FQDN_LENGTH) return `must be at most ${MAX_FQDN_LENGTH} characters (it has ${value.length})`;
  if (!(pattern ? MATCH_PATTERN_CHARS : MATCH_NAME_CHARS).test(value)) {
    return `only letters, digits, "-", "_", "."${pattern ? ' and "*"' : ''} are allowed`;
  }
  // The CRD schema's `^([-a-zA-Z0-9_*]+[.]?)+$`: non-empty labels, one
  // optional trailing dot. Checked by splitting: that regexp backtracks
  // exponentially in a JavaScript engine.
  const labels = value.split('.');
  if (labels.at(-1) === '') labels.pop();
  if (labels.length === 0 || labels.some((l) => l === '')) {
    return 'empty label: a name may not start with "." or have ".." (the root "." alone is not allowed either)';
  }
  return undefined;
}

/** Compiles a validated `matchName`: the one name, case-insensitively, trailing dot optional. */
export function compileMatchName(value: string, where = 'matchName'): DnsNameMatcher {
  validateMatchName(value, where);
  return fromRegexp(`^${escapeLiteral(normaliseDnsName(value))}$`);
}

/**
 * Compiles a validated `matchPattern` for `context` (the lone-`*` case
 * differs, see the module comment).
 */
export function compileMatchPattern(value: string, context: DnsMatchContext, where = 'matchPattern'): DnsNameMatcher {
  validateMatchPattern(value, where);
  return fromRegexp(matchPatternRegexp(value, context));
}

/**
 * The RE2 expression of a (validated) `matchPattern`, anchored, over
 * normalised names; `''` for a DNS rule's match-all. Same language as
 * Cilium's ToAnchoredRegexp(Sanitize(pattern)).
 */
export function matchPatternRegexp(value: string, context: DnsMatchContext): string {
  const p = asciiLower(value);
  if (ALL_WILDCARD.test(p)) {
    // DNS rules: GeneratePattern returns MatchAllAnchoredPattern. toFQDNs:
    // ToAnchoredRegexp's `(^([chars]+[.])+$)|(^[.]$)`.
    return context === 'dns' ? '' : `^(?:(?:${LABEL_CLASS}+\\.)+|\\.)$`;
  }
  const fq = normaliseDnsName(p);
  let out = '';
  let i = 0;
  let stars = 0;
  while (stars < fq.length && fq[stars] === '*') stars++;
  if (stars >= 2 && fq[stars] === '.') {
    // One or more whole labels, each non-empty (dnsWildcardREGroup).
    out += `${LABEL_CLASS}+(?:\\.${LABEL_CLASS}+)*\\.`;
    i = stars + 1;
  }
  for (; i < fq.length; i++) {
    const c = fq[i]!;
    if (c === '*') {
      while (fq[i + 1] === '*') i++;
      out += `${LABEL_CLASS}*`;
    } else if (c === '.') {
      out += '\\.';
    } else {
      out += c; // [-a-z0-9_] after validation: literal in RE2 outside a class
    }
  }
  return `^${out}$`;
}

function escapeLiteral(name: string): string {
  return name.replace(/[.\\^$|?*+()[\]{}]/g, (c) => `\\${c}`);
}

function fromRegexp(source: string): DnsNameMatcher {
  if (source === '') return { regexp: '', matchesAll: true, test: () => true };
  const re = RE2JS.compile(source);
  return { regexp: source, matchesAll: false, test: (name) => re.test(normaliseDnsName(name)) };
}

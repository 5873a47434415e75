/**
 * Label selectors: checking them the way the apiserver does, matching them
 * against a set of labels, and parsing kubectl's `-l` string form.
 */
import type { LabelSelector, LabelSelectorRequirement, SelectorOperator } from './types.js';
import { labelKeyError, labelValueError } from './names.js';
import { isRecord } from '../common/json.js';

export const SELECTOR_OPERATORS: readonly SelectorOperator[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

/** One problem with a selector, at a path relative to the selector (`matchExpressions[0].values`). */
export interface SelectorProblem {
  path: string;
  message: string;
}

/**
 * Everything that keeps a selector from parsing: bad keys or values, an unknown
 * operator, values where none belong or none where some must be. Types of the
 * fields are the validator's business; non-conforming parts are skipped here.
 * `cilium` allows Cilium's label source prefixes in keys (`k8s:app`).
 */
export function checkSelector(sel: unknown, cilium = false): SelectorProblem[] {
  const out: SelectorProblem[] = [];
  if (!isRecord(sel)) return out;
  if (isRecord(sel.matchLabels)) {
    for (const [k, v] of Object.entries(sel.matchLabels)) {
      const ke = labelKeyError(k, cilium);
      if (ke) out.push({ path: `matchLabels`, message: `Invalid value: ${JSON.stringify(k)}: ${ke}` });
      if (typeof v === 'string') {
        const ve = labelValueError(v);
        if (ve) out.push({ path: `matchLabels`, message: `Invalid value: ${JSON.stringify(v)}: ${ve}` });
      }
    }
  }
  if (Array.isArray(sel.matchExpressions)) {
    sel.matchExpressions.forEach((r, i) => {
      if (!isRecord(r)) return;
      const p = `matchExpressions[${i}]`;
      if (typeof r.key === 'string') {
        const ke = labelKeyError(r.key, cilium);
        if (ke) out.push({ path: `${p}.key`, message: `Invalid value: ${JSON.stringify(r.key)}: ${ke}` });
      }
      const op = r.operator;
      const values = Array.isArray(r.values) ? r.values : undefined;
      if (op === 'In' || op === 'NotIn') {
        if (!values || values.length === 0) out.push({ path: `${p}.values`, message: "Required value: must be specified when `operator` is 'In' or 'NotIn'" });
      } else if (op === 'Exists' || op === 'DoesNotExist') {
        if (values && values.length > 0) out.push({ path: `${p}.values`, message: "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'" });
      }
      values?.forEach((v, j) => {
        if (typeof v !== 'string') return;
        const ve = labelValueError(v);
        if (ve) out.push({ path: `${p}.values[${j}]`, message: `Invalid value: ${JSON.stringify(v)}: ${ve}` });
      });
    });
  }
  return out;
}

/** matchLabels and matchExpressions as one list of requirements (matchLabels as `In [value]`). */
export function requirementsOf(sel: LabelSelector): LabelSelectorRequirement[] {
  const reqs: LabelSelectorRequirement[] = Object.entries(sel.matchLabels ?? {}).map(([key, v]) => ({ key, operator: 'In', values: [v] }));
  return reqs.concat(sel.matchExpressions ?? []);
}

/**
 * True when `labels` satisfy every requirement of `selector`. As in Kubernetes,
 * an empty selector (`{}`) matches everything and a missing one (undefined or
 * null) matches nothing. Keys compare exactly: Cilium's source prefixes are the
 * policy engine's business.
 */
export function selectorMatches(selector: LabelSelector | undefined | null, labels: Record<string, string> | undefined): boolean {
  if (!selector) return false;
  return requirementsMatch(requirementsOf(selector), labels);
}

/** True when `labels` satisfy every requirement (an empty list matches everything). */
export function requirementsMatch(reqs: readonly LabelSelectorRequirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  const has = (k: string) => Object.prototype.hasOwnProperty.call(l, k);
  return reqs.every((r) => {
    switch (r.operator) {
      case 'In': return has(r.key) && (r.values ?? []).includes(l[r.key]!);
      case 'NotIn': return !has(r.key) || !(r.values ?? []).includes(l[r.key]!);
      case 'Exists': return has(r.key);
      case 'DoesNotExist': return !has(r.key);
      default: return false;
    }
  });
}

/** One term of a selector string; `equality` when written `key=value` (kubectl's matchLabels form). */
interface SelectorTerm {
  req: LabelSelectorRequirement;
  equality: boolean;
}

/**
 * The one parser of the selector string form, shared by kubectl's `-l`
 * (parseSelectorString) and the store's `labelSelector` list/watch option
 * (src/store): `app=web,tier!=db,env in (a,b),env notin (c),release,!canary`
 * (also `==`). Keys and values are checked as the apiserver checks them.
 * Answers the terms in the order written, or a message naming the selector
 * and the part that does not parse.
 */
function parseTerms(s: string): { terms: SelectorTerm[] } | { error: string } {
  const fail = (what: string) => ({ error: `label selector ${JSON.stringify(s)}: ${what}` });
  const out: SelectorTerm[] = [];
  // Split on commas outside parentheses.
  const terms: string[] = [];
  let depth = 0, cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (depth < 0) return fail("unbalanced ')'");
    if (ch === ',' && depth === 0) { terms.push(cur); cur = ''; } else cur += ch;
  }
  if (depth !== 0) return fail("unbalanced '('");
  terms.push(cur);
  for (const raw of terms) {
    const t = raw.trim();
    if (t === '') { if (s.trim() === '') continue; return fail('empty term'); }
    let m: RegExpExecArray | null;
    let key: string;
    if ((m = /^([^\s=!(),]+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(t))) {
      key = m[1]!;
      const values = m[3]!.split(',').map((v) => v.trim());
      const bad = values.find((v) => labelValueError(v));
      if (bad !== undefined) return fail(`invalid value ${JSON.stringify(bad)} in ${JSON.stringify(t)}: ${labelValueError(bad)}`);
      out.push({ req: { key, operator: m[2] === 'in' ? 'In' : 'NotIn', values }, equality: false });
    } else if ((m = /^([^\s=!(),]+)\s*(==|=|!=)\s*([^\s=!(),]*)$/.exec(t))) {
      key = m[1]!;
      const ve = labelValueError(m[3]!);
      if (ve) return fail(`invalid value ${JSON.stringify(m[3]!)} in ${JSON.stringify(t)}: ${ve}`);
      out.push({ req: { key, operator: m[2] === '!=' ? 'NotIn' : 'In', values: [m[3]!] }, equality: m[2] !== '!=' });
    } else if ((m = /^!\s*([^\s=!(),]+)$/.exec(t))) {
      key = m[1]!;
      out.push({ req: { key, operator: 'DoesNotExist' }, equality: false });
    } else if ((m = /^([^\s=!(),]+)$/.exec(t))) {
      key = m[1]!;
      out.push({ req: { key, operator: 'Exists' }, equality: false });
    } else return fail(`cannot parse ${JSON.stringify(t)}`);
    const ke = labelKeyError(key);
    if (ke) return fail(`invalid label key ${JSON.stringify(key)}: ${ke}`);
  }
  return { terms: out };
}

/**
 * The requirements a selector string states, in the order written (`a=b` as
 * `In [b]`); none for an empty or missing string. See parseTerms for the form.
 */
export function parseSelectorRequirements(s: string | undefined): { requirements: LabelSelectorRequirement[] } | { error: string } {
  if (!s || !s.trim()) return { requirements: [] };
  const r = parseTerms(s);
  return 'error' in r ? r : { requirements: r.terms.map((t) => t.req) };
}

/**
 * Parses kubectl's `-l` form into a LabelSelector: `key=value` terms become
 * matchLabels, the others matchExpressions. Returns the selector, or a
 * message saying what does not parse.
 */
export function parseSelectorString(s: string): { selector: LabelSelector } | { error: string } {
  const r = parseTerms(s);
  if ('error' in r) return r;
  const selector: LabelSelector = {};
  const exprs: LabelSelectorRequirement[] = [];
  for (const { req, equality } of r.terms) {
    if (equality) (selector.matchLabels ??= {})[req.key] = req.values![0]!;
    else exprs.push(req);
  }
  if (exprs.length) selector.matchExpressions = exprs;
  return { selector };
}

/**
 * Label selectors: checking them the way the apiserver does, matching them
 * against a set of labels, and parsing kubectl's `-l` string form.
 */
import type { LabelSelector, LabelSelectorRequirement, SelectorOperator } from './types.js';
import { labelKeyError, labelValueError } from './names.js';

export const SELECTOR_OPERATORS: readonly SelectorOperator[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

/** One problem with a selector, at a path relative to the selector (`matchExpressions[0].values`). */
export interface SelectorProblem {
  path: string;
  message: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

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
  const l = labels ?? {};
  const has = (k: string) => Object.prototype.hasOwnProperty.call(l, k);
  return requirementsOf(selector).every((r) => {
    switch (r.operator) {
      case 'In': return has(r.key) && (r.values ?? []).includes(l[r.key]!);
      case 'NotIn': return !has(r.key) || !(r.values ?? []).includes(l[r.key]!);
      case 'Exists': return has(r.key);
      case 'DoesNotExist': return !has(r.key);
      default: return false;
    }
  });
}

/**
 * Parses kubectl's `-l` form: `app=web,tier!=db,env in (a,b),env notin (c),release,!canary`
 * (also `==`). Returns the selector, or a message saying what does not parse.
 */
export function parseSelectorString(s: string): { selector: LabelSelector } | { error: string } {
  const selector: LabelSelector = {};
  const exprs: LabelSelectorRequirement[] = [];
  // Split on commas outside parentheses.
  const terms: string[] = [];
  let depth = 0, cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (depth < 0) return { error: `unbalanced ')' in selector ${JSON.stringify(s)}` };
    if (ch === ',' && depth === 0) { terms.push(cur); cur = ''; } else cur += ch;
  }
  if (depth !== 0) return { error: `unbalanced '(' in selector ${JSON.stringify(s)}` };
  terms.push(cur);
  for (const raw of terms) {
    const t = raw.trim();
    if (t === '') { if (s.trim() === '') continue; return { error: `empty term in selector ${JSON.stringify(s)}` }; }
    let m: RegExpExecArray | null;
    let key: string;
    if ((m = /^([^\s=!(),]+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(t))) {
      key = m[1]!;
      const values = m[3]!.split(',').map((v) => v.trim());
      if (values.some((v) => labelValueError(v))) return { error: `invalid value in ${JSON.stringify(t)}` };
      exprs.push({ key, operator: m[2] === 'in' ? 'In' : 'NotIn', values });
    } else if ((m = /^([^\s=!(),]+)\s*(==|=|!=)\s*([^\s=!(),]*)$/.exec(t))) {
      key = m[1]!;
      if (labelValueError(m[3]!)) return { error: `invalid value in ${JSON.stringify(t)}` };
      if (m[2] === '!=') exprs.push({ key, operator: 'NotIn', values: [m[3]!] });
      else (selector.matchLabels ??= {})[key] = m[3]!;
    } else if ((m = /^!\s*([^\s=!(),]+)$/.exec(t))) {
      key = m[1]!;
      exprs.push({ key, operator: 'DoesNotExist' });
    } else if ((m = /^([^\s=!(),]+)$/.exec(t))) {
      key = m[1]!;
      exprs.push({ key, operator: 'Exists' });
    } else return { error: `cannot parse ${JSON.stringify(t)} in selector ${JSON.stringify(s)}` };
    const ke = labelKeyError(key);
    if (ke) return { error: `invalid label key ${JSON.stringify(key)}: ${ke}` };
  }
  if (exprs.length) selector.matchExpressions = exprs;
  return { selector };
}

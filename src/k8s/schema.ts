/**
 * A small schema language for the validator: field types, required fields,
 * enums, ranges and per-node checks. The walker (validate.ts) reports errors
 * with apiserver-style field paths and warns about fields a schema does not name.
 */
import { isRecord } from '../common/json.js';

/** Where a check reports: `err(path, message)`. */
export interface Reporter {
  err(path: string, message: string): void;
}

/** A check on a value that already has the right type. `v` is that value. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Check = (v: any, path: string, r: Reporter) => void;

export type Schema =
  | { t: 'str'; enum?: readonly string[]; check?: Check }
  | { t: 'int'; min?: number; max?: number; range?: string; check?: Check }
  | { t: 'bool' }
  /** A number or a string (Kubernetes' IntOrString); the check sees either. */
  | { t: 'intstr'; check?: Check }
  | { t: 'arr'; of: Schema; min?: number; max?: number; check?: Check }
  | { t: 'obj'; f: Record<string, Schema>; req?: readonly string[]; check?: Check }
  /** An object with arbitrary string keys, every value of schema `of`. */
  | { t: 'map'; of: Schema; check?: Check }
  /** Passed through unchecked (status, opaque extension points). */
  | { t: 'any' };

export const str = (o: { enum?: readonly string[]; check?: Check } = {}): Schema => ({ t: 'str', ...o });
export const int = (o: { min?: number; max?: number; range?: string; check?: Check } = {}): Schema => ({ t: 'int', ...o });
export const bool: Schema = { t: 'bool' };
export const any: Schema = { t: 'any' };
export const intstr = (check?: Check): Schema => ({ t: 'intstr', check });
export const arr = (of: Schema, o: { min?: number; max?: number; check?: Check } = {}): Schema => ({ t: 'arr', of, ...o });
export const obj = (f: Record<string, Schema>, req: readonly string[] = [], check?: Check): Schema => ({ t: 'obj', f, req, check });
export const map = (of: Schema, check?: Check): Schema => ({ t: 'map', of, check });

/** Joins a path and a field name: `spec` + `ports` → `spec.ports`. */
export const at = (path: string, field: string): string => (path ? `${path}.${field}` : field);

const describe = (v: unknown): string => {
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
};

/** Validates `v` against `s`; errors through `r`, unknown field paths into `unknown`. */
export function walk(v: unknown, s: Schema, path: string, r: Reporter, unknown: string[]): void {
  switch (s.t) {
    case 'any':
      return;
    case 'str':
      if (typeof v !== 'string') return r.err(path, `must be a string (got ${describe(v)})`);
      if (s.enum && !s.enum.includes(v)) return r.err(path, `Unsupported value: ${JSON.stringify(v)}: supported values: ${s.enum.map((e) => JSON.stringify(e)).join(', ')}`);
      break;
    case 'int':
      if (typeof v !== 'number' || !Number.isInteger(v)) return r.err(path, `must be an integer (got ${describe(v)})`);
      if ((s.min !== undefined && v < s.min) || (s.max !== undefined && v > s.max)) {
        return r.err(path, s.range ?? (s.max === undefined ? `must be >= ${s.min}` : s.min === undefined ? `must be <= ${s.max}` : `must be ${s.min}-${s.max}`));
      }
      break;
    case 'bool':
      if (typeof v !== 'boolean') r.err(path, `must be a boolean (got ${describe(v)})`);
      return;
    case 'intstr':
      if (!(typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v)))) return r.err(path, `must be an integer or a string (got ${describe(v)})`);
      break;
    case 'arr':
      if (!Array.isArray(v)) return r.err(path, `must be an array (got ${describe(v)})`);
      if (s.min !== undefined && v.length < s.min) return r.err(path, s.min === 1 ? 'Required value: must have at least one item' : `must have at least ${s.min} items`);
      if (s.max !== undefined && v.length > s.max) return r.err(path, `Too many: ${v.length}: must have at most ${s.max} items`);
      v.forEach((x, i) => {
        const p = `${path}[${i}]`;
        if (x === null || x === undefined) r.err(p, 'must not be null');
        else walk(x, s.of, p, r, unknown);
      });
      break;
    case 'map':
      if (!isRecord(v)) return r.err(path, `must be an object (got ${describe(v)})`);
      for (const [k, x] of Object.entries(v)) walk(x, s.of, `${path}.${k}`, r, unknown);
      break;
    case 'obj':
      if (!isRecord(v)) return r.err(path, `must be an object (got ${describe(v)})`);
      for (const req of s.req ?? []) if (v[req] === undefined || v[req] === null) r.err(at(path, req), 'Required value');
      for (const [k, x] of Object.entries(v)) {
        const fs = Object.prototype.hasOwnProperty.call(s.f, k) ? s.f[k] : undefined;
        if (!fs) { unknown.push(at(path, k)); continue; }
        if (x === null || x === undefined) continue; // null is "not set", as in Kubernetes
        walk(x, fs, at(path, k), r, unknown);
      }
      break;
  }
  if ('check' in s && s.check) s.check(v, path, r);
}

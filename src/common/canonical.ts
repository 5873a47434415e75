/**
 * JSON with object keys sorted at every level (undefined members dropped):
 * equal values give equal text whatever order their fields were written in.
 * For comparing objects and hashing them (pod-template-hash, slice names).
 */
export function canonicalJSON(v: unknown): string {
  return (
    JSON.stringify(v, (_k, val: unknown) => {
      if (val === null || typeof val !== 'object' || Array.isArray(val)) return val;
      const o = val as Record<string, unknown>;
      return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
    }) ?? 'null'
  );
}

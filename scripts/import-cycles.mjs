#!/usr/bin/env node
// Lists import cycles among the TypeScript modules under a folder (default src/;
// tests and generated .d.ts left out): runtime cycles (value imports, re-exports
// and side-effect imports) and, separately, cycles that also count `import type`.
// Exits 1 when there is a runtime cycle. Usage: node scripts/import-cycles.mjs [dir]
import fs from 'node:fs';
import path from 'node:path';

const root = process.argv[2] ?? 'src';
const files = [];
(function walk(d) {
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) walk(p);
    else if (p.endsWith('.ts') && !p.endsWith('.test.ts') && !p.endsWith('.d.ts')) files.push(p);
  }
})(root);
const known = new Set(files);

function resolve(from, spec) {
  const t = path.normalize(path.join(path.dirname(from), spec.replace(/\.js$/, '.ts')));
  for (const c of [t, `${t}.ts`, path.join(t, 'index.ts')]) if (known.has(c)) return c;
  return undefined;
}

/** Module → the modules it imports; `withTypes` counts type-only imports too. */
function graph(withTypes) {
  const g = new Map();
  for (const f of files) {
    const src = fs.readFileSync(f, 'utf8');
    const out = new Set();
    const re = /^\s*(import|export)\s+(type\s+)?([\s\S]*?)\s*from\s*['"](\.[^'"]+)['"]/gm;
    let m;
    while ((m = re.exec(src))) {
      let typeOnly = !!m[2];
      const clause = m[3].trim();
      // `import { type A, type B }` is erased as well.
      if (!typeOnly && /^\{[\s\S]*\}$/.test(clause)) {
        const names = clause.slice(1, -1).split(',').map((s) => s.trim()).filter(Boolean);
        typeOnly = names.length > 0 && names.every((n) => n.startsWith('type '));
      }
      if (typeOnly && !withTypes) continue;
      const t = resolve(f, m[4]);
      if (t) out.add(t);
    }
    const side = /^\s*import\s*['"](\.[^'"]+)['"]/gm;
    while ((m = side.exec(src))) {
      const t = resolve(f, m[1]);
      if (t) out.add(t);
    }
    const dyn = /import\(\s*['"](\.[^'"]+)['"]\s*\)/g;
    while ((m = dyn.exec(src))) {
      const t = resolve(f, m[1]);
      if (t) out.add(t);
    }
    g.set(f, out);
  }
  return g;
}

/** Strongly connected components with more than one module (Tarjan). */
function cycles(g) {
  let i = 0;
  const index = new Map(), low = new Map(), on = new Set(), stack = [], out = [];
  function visit(v) {
    index.set(v, i); low.set(v, i); i++; stack.push(v); on.add(v);
    for (const w of g.get(v)) {
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v), low.get(w))); }
      else if (on.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) === index.get(v)) {
      const c = [];
      let w;
      do { w = stack.pop(); on.delete(w); c.push(w); } while (w !== v);
      if (c.length > 1 || g.get(v).has(v)) out.push(c.sort());
    }
  }
  for (const v of g.keys()) if (!index.has(v)) visit(v);
  return out;
}

let runtime = 0;
for (const [label, withTypes] of [['runtime imports', false], ['all imports, type-only included', true]]) {
  const c = cycles(graph(withTypes));
  if (!withTypes) runtime = c.length;
  console.log(`${label}: ${c.length} cycle${c.length === 1 ? '' : 's'}`);
  for (const x of c) console.log(`  ${x.join(' <-> ')}`);
}
process.exitCode = runtime ? 1 : 0;

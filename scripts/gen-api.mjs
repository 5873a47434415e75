#!/usr/bin/env node
// The API contracts' TypeScript: generated from api/**/*.proto into
// src/api/generated/ by @grpc/proto-loader's own generator, with the same
// options src/api/proto.ts loads the files with (change them together).
//   node scripts/gen-api.mjs --write           regenerate (commit the result)
//   node scripts/gen-api.mjs --check [--api D] fail when the committed files differ
// from what the .proto files (in D, default api/) generate.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'src/api/generated');
const HEADER = '// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.\n';
/** The protos, in dependency order; src/api/proto.ts loads the same list. */
export const PROTOS = ['flow/flow.proto', 'relay/relay.proto', 'observer/observer.proto', 'servicemap/servicemap.proto', 'agent/agent.proto', 'ui/ui.proto'];
export const GEN_OPTIONS = ['--keepCase', '--longs=String', '--enums=String', '--defaults', '--oneofs', '--grpcLib=@grpc/grpc-js', '--includeComments', '--importFileExtension=.js'];

function walk(dir, base = dir, out = new Map()) {
  if (!existsSync(dir)) return out;
  for (const n of readdirSync(dir).sort()) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) walk(p, base, out);
    else out.set(relative(base, p), readFileSync(p, 'utf8'));
  }
  return out;
}

/**
 * Drops what the generator declares but a file does not use (the package
 * files of protos without services), so the strict build (noUnusedLocals)
 * compiles them as they are.
 */
function tidy(text) {
  let t = text;
  if (!/SubtypeConstructor</.test(t.replace(/type SubtypeConstructor<[^]*?\n};\n/, ''))) t = t.replace(/\ntype SubtypeConstructor<[^]*?\n};\n/, '\n');
  if (!/\bgrpc\./.test(t)) t = t.replace(/^import type \* as grpc from '@grpc\/grpc-js';\n/m, '');
  return t;
}

/** Generates into a fresh directory; returns relative path -> text (with the header). */
function generate(apiDir) {
  const tmp = mkdtempSync(join(tmpdir(), 'beeline-api-'));
  try {
    const bin = join(ROOT, 'node_modules/@grpc/proto-loader/build/bin/proto-loader-gen-types.js');
    const r = spawnSync(process.execPath, [bin, ...GEN_OPTIONS, '-I', apiDir, '-O', tmp, ...PROTOS], { encoding: 'utf8' });
    if (r.status !== 0) {
      process.stderr.write(`gen-api: proto-loader-gen-types failed:\n${r.stderr || r.stdout}`);
      process.exit(1);
    }
    const files = walk(tmp);
    // The generator names the absolute path of each .proto: keep it relative, so every clone generates the same text.
    for (const [k, v] of files) files.set(k, HEADER + tidy(v.split(`${apiDir}/`).join('api/')));
    return files;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const args = process.argv.slice(2);
const apiIdx = args.indexOf('--api');
const apiDir = apiIdx >= 0 ? resolve(args[apiIdx + 1]) : join(ROOT, 'api');
const want = generate(apiDir);
if (args.includes('--write')) {
  rmSync(OUT, { recursive: true, force: true });
  for (const [k, v] of want) {
    mkdirSync(dirname(join(OUT, k)), { recursive: true });
    writeFileSync(join(OUT, k), v);
  }
  console.log(`gen-api: wrote ${want.size} files to ${relative(ROOT, OUT)}`);
} else if (args.includes('--check')) {
  const have = walk(OUT);
  const problems = [];
  for (const [k, v] of want) if (have.get(k) !== v) problems.push(have.has(k) ? `differs: ${k}` : `missing: ${k}`);
  for (const k of have.keys()) if (!want.has(k)) problems.push(`not generated from any .proto: ${k}`);
  if (problems.length) {
    console.error(`gen-api: src/api/generated/ does not match ${relative(ROOT, apiDir) || apiDir}/*.proto (run make api and commit):\n  ${problems.slice(0, 20).join('\n  ')}`);
    process.exit(1);
  }
} else {
  console.error('usage: gen-api.mjs --write | --check [--api DIR]');
  process.exit(2);
}

/**
 * Generates src/datapath/generated/abi.ts from the BTF of compiled BPF
 * objects, or checks that the committed file still matches them.
 *
 *   node dist/scripts/gen-abi.js --write [--generated PATH] build/bpf/*.bpf.o
 *   node dist/scripts/gen-abi.js --check [--generated PATH] build/bpf/*.bpf.o
 *
 * --check prints one line per difference and exits 1:
 *   ABI drift: struct bl_metrics_key changed (size 8 → 12); run 'make gen' and commit src/datapath/generated/abi.ts
 * Exit codes: 0 ok, 1 drift or ABI rule broken, 2 usage error.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AbiMismatchError, BeelineError, UsageError, asBeelineError } from '../src/common/errors.js';
import { loadObjectBtf } from '../src/datapath/btf/btf.js';
import { checkGenerated, generateAbiSource } from '../src/datapath/btf/codegen.js';
import { readElfFile } from '../src/datapath/btf/elf.js';
import type { ParsedObject } from '../src/datapath/btf/model.js';

/** The repository root: this file runs as dist/scripts/gen-abi.js. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DEFAULT_GENERATED = 'src/datapath/generated/abi.ts';

interface Options {
  mode: 'write' | 'check';
  generated: string;
  objects: string[];
}

function parseArgs(argv: readonly string[]): Options {
  let mode: Options['mode'] | undefined;
  let generated = resolve(ROOT, DEFAULT_GENERATED);
  const objects: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--write' || a === '--check') {
      if (mode) throw new UsageError('give one of --write and --check');
      mode = a === '--write' ? 'write' : 'check';
    } else if (a === '--generated') {
      const v = argv[++i];
      if (!v) throw new UsageError('--generated needs a path');
      generated = resolve(v);
    } else if (a.startsWith('--generated=')) {
      generated = resolve(a.slice('--generated='.length));
    } else if (a.startsWith('-')) {
      throw new UsageError(`unknown option ${a}`, 'usage: gen-abi (--write|--check) [--generated PATH] OBJ...');
    } else objects.push(a);
  }
  if (!mode) throw new UsageError('give --write or --check', 'usage: gen-abi (--write|--check) [--generated PATH] OBJ...');
  if (objects.length === 0) throw new UsageError('no BPF objects given', "build them with 'make bpf'");
  for (const o of objects) if (!existsSync(o)) throw new UsageError(`${o}: no such file`, "build it with 'make bpf'");
  return { mode, generated, objects };
}

function loadObjects(paths: readonly string[]): ParsedObject[] {
  return paths.map((p) => ({ file: basename(p), btf: loadObjectBtf(p), elf: readElfFile(p) }));
}

/** Path for messages: relative to the repository when inside it. */
function shown(path: string): string {
  const r = relative(ROOT, path);
  return r.startsWith('..') ? path : r;
}

function main(argv: readonly string[]): number {
  const opts = parseArgs(argv);
  const fresh = generateAbiSource(loadObjects(opts.objects));
  const path = shown(opts.generated);
  if (opts.mode === 'write') {
    mkdirSync(dirname(opts.generated), { recursive: true });
    const old = existsSync(opts.generated) ? readFileSync(opts.generated, 'utf8') : undefined;
    if (old !== fresh) writeFileSync(opts.generated, fresh);
    process.stderr.write(`gen-abi: ${old === fresh ? 'unchanged' : 'wrote'} ${path}\n`);
    return 0;
  }
  const committed = existsSync(opts.generated) ? readFileSync(opts.generated, 'utf8') : undefined;
  const diffs = checkGenerated(committed, fresh, path);
  if (diffs.length === 0) {
    process.stderr.write(`gen-abi: ${path} matches the BTF of ${opts.objects.map((o) => basename(o)).join(', ')}\n`);
    return 0;
  }
  const hint = `run 'make gen' and commit ${path}`;
  for (const d of diffs) process.stderr.write(`ABI drift: ${d}; ${hint}\n`);
  throw new AbiMismatchError(`${diffs.length} ABI difference(s) between ${path} and ${opts.objects.map((o) => basename(o)).join(', ')}`, hint);
}

// Run only as a script, not when imported.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    const e: BeelineError = asBeelineError(err, 'gen-abi');
    process.stderr.write(`gen-abi: ${e.code}: ${e.describe()}\n`);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  }
}

// The acceptance test of the ABI contract: changing an ABI struct in C without
// regenerating the TypeScript side fails `make build` (gen-check). Builds a
// copy of bpf/ with the Makefile's own flags (make bpf BPF_DIR=… BPF_OUT=…)
// and runs the real gen-abi script against the committed generated file.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkGenerated } from './codegen.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const GEN_ABI = join(ROOT, 'dist/scripts/gen-abi.js');
const COMMITTED = join(ROOT, 'src/datapath/generated/abi.ts');

let tmp = '';

/** The objects `make bpf` builds from dir (every bpf/*.bpf.c), as gen-abi gets them. */
function objectsIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.bpf.o'))
    .sort()
    .map((f) => join(dir, f));
}

/** Copies bpf/ to dir/bpf, lets edit change it, builds it into dir/out; returns the objects. */
function buildCopy(name: string, edit?: (bpfDir: string) => void): string[] {
  const dir = join(tmp, name);
  cpSync(join(ROOT, 'bpf'), join(dir, 'bpf'), { recursive: true });
  edit?.(join(dir, 'bpf'));
  const r = spawnSync('make', ['-s', '-C', ROOT, 'bpf', `BPF_DIR=${join(dir, 'bpf')}`, `BPF_OUT=${join(dir, 'out')}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, `make bpf of the copy failed:\n${r.stderr}`);
  assert.ok(existsSync(join(dir, 'out', 'host.bpf.o')));
  return objectsIn(join(dir, 'out'));
}

function genAbi(...args: string[]) {
  return spawnSync(process.execPath, [GEN_ABI, ...args], { encoding: 'utf8' });
}

function replaceIn(file: string, from: string | RegExp, to: string): void {
  const text = readFileSync(file, 'utf8');
  const next = text.replace(from, to);
  assert.notEqual(next, text, `${file}: nothing to replace`);
  writeFileSync(file, next);
}

before(() => {
  assert.ok(existsSync(GEN_ABI), `${GEN_ABI} is missing: run 'npx tsc -p tsconfig.json' first`);
  tmp = mkdtempSync(join(tmpdir(), 'beeline-abi-drift-'));
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('the unmodified datapath matches the committed codecs', () => {
  const objs = buildCopy('same');
  const r = genAbi('--check', ...objs);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /abi\.ts matches the BTF of/);
  assert.doesNotMatch(r.stderr, /drift/i);
});

test('changing an ABI struct and an enum in C without regenerating fails the check, naming them', () => {
  const objs = buildCopy('drift', (bpf) => {
    replaceIn(join(bpf, 'include/abi/metrics.h'), /(\t__u32\tpad1;\n)(\};)/, '$1\t__u32\tmark;\n$2');
    replaceIn(join(bpf, 'include/abi/drop.h'), 'BL_DROP_INVALID = 134', 'BL_DROP_INVALID = 199');
  });
  const r = genAbi('--check', ...objs);
  assert.equal(r.status, 1);
  const lines = r.stderr.trim().split('\n');
  assert.ok(
    lines.includes(
      "ABI drift: struct bl_metrics_key changed (size 8 → 12; field mark added (__u32 at 8)); run 'make gen' and commit src/datapath/generated/abi.ts",
    ),
    r.stderr,
  );
  assert.ok(lines.some((l) => l.startsWith('ABI drift: enum bl_drop_reason changed (BL_DROP_INVALID: 134 → 199)')), r.stderr);
  assert.ok(lines.some((l) => l.startsWith('ABI drift: map host:bl_metrics changed (keySize 8 → 12)')), r.stderr);
  assert.match(lines[lines.length - 1]!, /BL_ERR_ABI_MISMATCH/);
});

test('widening a field so that a hole appears fails on the ABI rules, naming the struct', () => {
  const objs = buildCopy('hole', (bpf) => replaceIn(join(bpf, 'include/abi/metrics.h'), '__u8\treason;', '__u16\treason;'));
  const r = genAbi('--check', ...objs);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /BL_ERR_ABI_MISMATCH: ABI rule: struct bl_metrics_key has 1 byte\(s\) of implicit padding before field pad0/);
});

test('--write then --check with --generated elsewhere; a hand edit is caught', () => {
  const gen = join(tmp, 'abi.ts');
  assert.ok(existsSync(join(ROOT, 'build/bpf/host.bpf.o')), "run 'make bpf' first");
  const objs = objectsIn(join(ROOT, 'build/bpf'));
  assert.equal(genAbi('--write', '--generated', gen, ...objs).status, 0);
  assert.equal(readFileSync(gen, 'utf8'), readFileSync(COMMITTED, 'utf8'), 'regenerating gives the committed file');
  assert.equal(genAbi('--check', '--generated', gen, ...objs).status, 0);

  writeFileSync(gen, readFileSync(gen, 'utf8').replace('export const BL_METRICS_KEY_SIZE = 8;', 'export const BL_METRICS_KEY_SIZE = 9;'));
  const r = genAbi('--check', '--generated', gen, ...objs);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /ABI drift: .*abi\.ts differs from the generated text at line \d+/);

  rmSync(gen);
  const missing = genAbi('--check', '--generated', gen, ...objs);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /ABI drift: .*abi\.ts does not exist/);
});

test('usage errors exit 2', () => {
  assert.equal(genAbi().status, 2);
  assert.equal(genAbi('--check').status, 2);
  assert.equal(genAbi('--check', '/nonexistent.bpf.o').status, 2);
  assert.equal(genAbi('--bogus', 'x').status, 2);
});

test('checkGenerated: identical text, missing manifest', () => {
  assert.deepEqual(checkGenerated('x', 'x', 'p'), []);
  assert.deepEqual(checkGenerated(undefined, 'x', 'p'), ['p does not exist']);
  assert.match(checkGenerated('old text', readFileSync(COMMITTED, 'utf8'), 'p')[0]!, /no readable ABI manifest/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManifestParseError, ManifestReadError } from '../common/errors.js';
import { parseManifest, sourceLabel } from './parse.js';
import { loadManifests, manifestFiles } from './load.js';

test('parse: multi-document YAML keeps document numbers, skips empty ones', () => {
  const docs = parseManifest('---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n---\nkind: Pod\n', 'm.yaml');
  assert.deepEqual(docs.map((d) => sourceLabel(d.source)), ['m.yaml#1', 'm.yaml#3']);
  assert.equal(docs[1]!.object.kind, 'Pod');
});

test('parse: JSON object, List with items, JSON array', () => {
  assert.equal(parseManifest('{"kind":"Pod"}', 'p.json').length, 1);
  const l = parseManifest(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ kind: 'Pod' }, { kind: 'Service' }] }), 'l.json');
  assert.deepEqual(l.map((d) => sourceLabel(d.source)), ['l.json#1.items[0]', 'l.json#1.items[1]']);
  assert.equal(parseManifest('kind: PodList\nitems: [{kind: Pod}]\n', 'x.yaml')[0]!.object.kind, 'Pod');
  assert.equal(parseManifest('[{"kind":"Pod"},{"kind":"Service"}]').length, 2);
});

test('parse: errors carry a code, the file, document and line', () => {
  const code = (re: RegExp) => (e: unknown) => e instanceof ManifestParseError && e.code === 'BL_ERR_MANIFEST_PARSE' && re.test(e.message);
  assert.throws(() => parseManifest('kind: Pod\n---\nmetadata:\n  name: [a\n', 'b.yaml'), code(/^b\.yaml#2: invalid YAML at line \d+: /));
  assert.throws(() => parseManifest('a: 1\na: 2\n', 'd.yaml'), code(/^d\.yaml#1: invalid YAML/));
  assert.throws(() => parseManifest('{"kind": ', 'j.json'), code(/^j\.json: invalid JSON/));
  assert.throws(() => parseManifest('- a\n- b\n', 's.yaml'), code(/s\.yaml#1: a manifest document must be an object, not an array/));
  assert.throws(() => parseManifest('just a string', 's.yaml'), code(/must be an object, not string/));
});

test('load: a file, a directory (sorted, .yaml/.yml/.json, recursive only when asked), stdin', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bl-k8s-'));
  try {
    writeFileSync(join(dir, 'b.yaml'), 'kind: B\n');
    writeFileSync(join(dir, 'a.json'), '{"kind":"A"}');
    writeFileSync(join(dir, 'c.yml'), 'kind: C\n');
    writeFileSync(join(dir, 'notes.txt'), 'kind: X\n');
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'd.yaml'), 'kind: D\n');
    assert.deepEqual(manifestFiles(dir).map((f) => f.slice(dir.length + 1)), ['a.json', 'b.yaml', 'c.yml']);
    assert.deepEqual(manifestFiles(dir, { recursive: true }).map((f) => f.slice(dir.length + 1)), ['a.json', 'b.yaml', 'c.yml', 'sub/d.yaml']);
    const files = loadManifests(dir);
    assert.deepEqual(files.map((f) => f.docs[0]!.object.kind), ['A', 'B', 'C']);
    assert.equal(loadManifests(join(dir, 'b.yaml'))[0]!.docs[0]!.source.file, join(dir, 'b.yaml'));
    assert.deepEqual(loadManifests('-', { stdin: () => 'kind: S\n' })[0]!.docs[0]!.source, { file: '-', document: 1 });
    assert.throws(() => loadManifests(join(dir, 'nope.yaml')), (e: unknown) => e instanceof ManifestReadError && /no such file/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

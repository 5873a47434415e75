/**
 * Manifests from text: multi-document YAML, or JSON (one object or a `List`
 * with `items`), the way `kubectl apply -f` reads them. Every object keeps
 * where it came from, for messages.
 */
import { parseAllDocuments } from 'yaml';
import { ManifestParseError } from '../common/errors.js';
import { isRecord } from '../common/json.js';

/** Where an object came from: file (`-` for stdin), 1-based document number, index in a List. */
export interface DocSource {
  file: string;
  document: number;
  item?: number;
}

/** One object of a manifest, not yet validated. */
export interface ManifestDoc {
  object: Record<string, unknown>;
  source: DocSource;
}

/** `app.yaml#2`, `list.json#1.items[3]`. */
export function sourceLabel(s: DocSource): string {
  return `${s.file}#${s.document}${s.item === undefined ? '' : `.items[${s.item}]`}`;
}

/** Manifests nest shallowly; anything deeper than this is hostile or broken. */
const MAX_DEPTH = 64;

function depthOf(v: unknown, d = 0): number {
  if (d > MAX_DEPTH || typeof v !== 'object' || v === null) return d;
  let m = d;
  for (const x of Object.values(v)) { m = Math.max(m, depthOf(x, d + 1)); if (m > MAX_DEPTH) break; }
  return m;
}

function expand(obj: unknown, source: DocSource, out: ManifestDoc[]): void {
  const where = sourceLabel(source);
  if (obj === null || obj === undefined) return; // an empty document
  if (!isRecord(obj)) throw new ManifestParseError(`${where}: a manifest document must be an object, not ${Array.isArray(obj) ? 'an array' : typeof obj}`);
  if (depthOf(obj) > MAX_DEPTH) throw new ManifestParseError(`${where}: nested deeper than ${MAX_DEPTH} levels`);
  // `kind: List` (and `PodList`, `ServiceList`, … from `kubectl get -o yaml`) unpack into their items.
  if (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray(obj.items) && source.item === undefined) {
    obj.items.forEach((it, i) => {
      const s = { ...source, item: i };
      if (!isRecord(it)) throw new ManifestParseError(`${sourceLabel(s)}: a List item must be an object`);
      out.push({ object: it, source: s });
    });
    return;
  }
  out.push({ object: obj, source });
}

/**
 * Parses a manifest. JSON when `file` ends in `.json` or the text starts with
 * `{` or `[` (a JSON array is read as a list of objects); multi-document YAML
 * otherwise. Empty documents are skipped but still counted, so document numbers
 * match the file. Throws ManifestParseError with file, document and line.
 */
export function parseManifest(text: string, file = '-'): ManifestDoc[] {
  const out: ManifestDoc[] = [];
  const trimmed = text.trimStart();
  if (file.endsWith('.json') || trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      throw new ManifestParseError(`${file}: invalid JSON: ${(e as Error).message}`);
    }
    if (Array.isArray(v)) v.forEach((o, i) => expand(o, { file, document: i + 1 }, out));
    else expand(v, { file, document: 1 }, out);
    return out;
  }
  const docs = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: true, strict: true });
  const list = Array.isArray(docs) ? docs : [];
  list.forEach((doc, i) => {
    const source = { file, document: i + 1 };
    const err = doc.errors[0];
    if (err) {
      const line = err.linePos?.[0]?.line;
      const first = err.message.split('\n')[0];
      throw new ManifestParseError(`${sourceLabel(source)}: invalid YAML${line ? ` at line ${line}` : ''}: ${first}`);
    }
    let v: unknown;
    try {
      v = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      throw new ManifestParseError(`${sourceLabel(source)}: invalid YAML: ${(e as Error).message.split('\n')[0]}`);
    }
    expand(v, source, out);
  });
  return out;
}

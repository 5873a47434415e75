/**
 * `-f FILE|DIR|-` the way kubectl reads it: a file, every .yaml/.yml/.json
 * file of a directory in name order (subdirectories only when recursive), or
 * standard input.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ManifestReadError } from '../common/errors.js';
import { parseManifest, type ManifestDoc } from './parse.js';

const MANIFEST_EXT = /\.(ya?ml|json)$/;

/** The manifest files `-f path` stands for, sorted; `-` stays `-`. */
export function manifestFiles(path: string, opts: { recursive?: boolean } = {}): string[] {
  if (path === '-') return ['-'];
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new ManifestReadError(`read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`, { cause: e });
  }
  if (!st.isDirectory()) return [path];
  const out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(path).sort();
  } catch (e) {
    throw new ManifestReadError(`read ${path}: ${(e as Error).message}`, { cause: e });
  }
  for (const n of names) {
    const p = join(path, n);
    const s = statSync(p, { throwIfNoEntry: false });
    if (!s) continue;
    if (s.isDirectory()) { if (opts.recursive) out.push(...manifestFiles(p, opts)); }
    else if (MANIFEST_EXT.test(n)) out.push(p);
  }
  return out;
}

/** One file's objects: apply treats each file as one atomic batch. */
export interface ManifestFile {
  file: string;
  docs: ManifestDoc[];
}

/**
 * Reads and parses every file `-f path` stands for. `stdin` supplies the text
 * for `-` (default: read file descriptor 0). Throws ManifestReadError or
 * ManifestParseError.
 */
export function loadManifests(path: string, opts: { recursive?: boolean; stdin?: () => string } = {}): ManifestFile[] {
  return manifestFiles(path, opts).map((file) => {
    let text: string;
    try {
      text = file === '-' ? (opts.stdin ? opts.stdin() : readFileSync(0, 'utf8')) : readFileSync(file, 'utf8');
    } catch (e) {
      throw new ManifestReadError(`read ${file}: ${(e as Error).message}`, { cause: e });
    }
    return { file, docs: parseManifest(text, file) };
  });
}

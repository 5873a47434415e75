/**
 * The UI's filter box: `observe`'s filter flags as one line of text
 * (`--to-pod deathstar --http-status 403`), with Hubble UI style shorthands
 * that mean the same flags:
 *
 *   from:KEY=VALUE   --from-KEY VALUE   (from:pod=xwing, from:label=app=web)
 *   to:KEY=VALUE     --to-KEY VALUE
 *   KEY:VALUE        --KEY VALUE        (verdict:DROPPED, http-status:403, port:80)
 *   !TERM            --not TERM         (!to:namespace=kube-system)
 *
 * The flags go through the same FlowFilterBuilder as `observe`'s, so the
 * lists and the errors (naming the flag) are exactly the CLI's.
 */
import { UsageError } from '../common/errors.js';
import { FILTER_FLAGS, FlowFilterBuilder, type BuiltFlowFilter, type FilterFlag } from '../cli/observe-filter.js';
import { FILTER_HELP } from '../cli/observe.js';

export interface ParsedFilter {
  whitelist: BuiltFlowFilter[];
  blacklist: BuiltFlowFilter[];
  /** The filter as `observe` flags. */
  flags: string;
}

type Flag = FilterFlag | 'not';

/** Long and short names of the filter flags, and whether each takes a value (from observe's own option specs). */
const FLAGS: ReadonlyMap<string, { flag: Flag; value: boolean }> = (() => {
  const m = new Map<string, { flag: Flag; value: boolean }>();
  for (const flag of ['not', ...FILTER_FLAGS] as Flag[]) {
    const spec = FILTER_HELP[flag]?.[0] ?? `--${flag} <value>`;
    const value = spec.includes('<');
    m.set(`--${flag}`, { flag, value });
    const short = /^(-[A-Za-z0-9]),/.exec(spec);
    if (short) m.set(short[1]!, { flag, value });
  }
  return m;
})();

/** Splits like a shell: whitespace separates, '…' and "…" quote, \ escapes in "…" and bare words. */
export function splitWords(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let q: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (q) {
      if (c === q) q = undefined;
      else if (c === '\\' && q === '"' && i + 1 < text.length) cur += text[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      q = c;
      has = true;
    } else if (c === '\\' && i + 1 < text.length) {
      cur += text[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (q) throw new UsageError(`filter: unterminated ${q} quote`, 'close the quote, or leave it out');
  if (has) out.push(cur);
  return out;
}

/** One shorthand word as flags (`!from:pod=x` → `--not --from-pod x`), or undefined when it is none. */
function shorthand(word: string): string[] | undefined {
  const neg = word.startsWith('!');
  const w = neg ? word.slice(1) : word;
  let m = /^(from|to):([a-z-]+)=(.*)$/.exec(w);
  let flag: string | undefined;
  let value: string | undefined;
  if (m) {
    flag = `--${m[1]}-${m[2]}`;
    value = m[3];
  } else if ((m = /^([a-z][a-z0-9-]*):(.*)$/.exec(w))) {
    flag = `--${m[1]}`;
    value = m[2];
  } else if (neg && /^-/.test(w)) return ['--not', w];
  if (!flag) return undefined;
  const known = FLAGS.get(flag);
  if (!known || known.flag === 'not') throw new UsageError(`filter ${word}: unknown filter ${flag.slice(2)}`, 'e.g. from:pod=xwing, to:label=app=web, verdict:DROPPED, http-status:403, !to:namespace=kube-system');
  if (known.value && value === '') throw new UsageError(`filter ${word}: ${flag} needs a value`);
  return [...(neg ? ['--not'] : []), flag, ...(known.value ? [value!] : [])];
}

const quote = (w: string) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);

/** The box's text into the lists; a UsageError names the flag or word at fault. */
export function parseFilterText(text: string): ParsedFilter {
  const words = splitWords(text).flatMap((w) => shorthand(w) ?? [w]);
  const builder = new FlowFilterBuilder();
  const flags: string[] = [];
  for (let i = 0; i < words.length; i++) {
    let w = words[i]!;
    let inline: string | undefined;
    const eq = w.startsWith('--') ? w.indexOf('=') : -1;
    if (eq > 0) {
      inline = w.slice(eq + 1);
      w = w.slice(0, eq);
    }
    const known = FLAGS.get(w);
    if (!known) {
      if (w.startsWith('-')) throw new UsageError(`filter ${w}: not a filter flag of observe`, 'filter flags like --from-pod, --to-label, --verdict, --http-status, --not (see beeline observe --help)');
      throw new UsageError(`filter ${w}: expected a filter flag or a shorthand`, 'e.g. --to-pod deathstar, or to:pod=deathstar verdict:DROPPED');
    }
    let value = '';
    if (known.value) {
      value = inline ?? words[++i] ?? '';
      if (inline === undefined && i >= words.length) throw new UsageError(`filter ${w}: needs a value`);
    } else if (inline !== undefined) throw new UsageError(`filter ${w}: takes no value`);
    builder.set(known.flag, value);
    flags.push(`--${known.flag}`, ...(known.value ? [quote(value)] : []));
  }
  return { ...builder.build(), flags: flags.join(' ') };
}

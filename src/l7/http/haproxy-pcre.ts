/**
 * RE2 patterns (what Cilium's `rules.http` method/path/host hold) rewritten
 * for HAProxy 2.6's regex engine, PCRE2 (10.42 on Debian 12, JIT on).
 *
 * PCRE2 backtracks and reads a few RE2 constructs differently. Every pattern
 * is first compiled with re2js (RE2's language: what it refuses is refused);
 * the accepted text is then re-emitted token by token so that PCRE2 reads
 * the same language:
 *
 * - `(*UTF)`: runes, not bytes, for `.`, classes and `\p{…}` (as RE2); a
 *   subject that is not valid UTF-8 is a match error, i.e. no match (fails
 *   closed; RE2 would read the bad byte as U+FFFD).
 * - `(*LF)`: only `\n` is a newline (RE2's `.` and multi-line `^`/`$`).
 * - `(*LIMIT_MATCH=N)`: PCRE2's match limit for this pattern; a limit hit is
 *   a match error, which HAProxy counts as no match (fails closed, bounded).
 * - `^(?:p)\z`: the whole value must match (Envoy's safe_regex_match).
 * - `$` → `\z` (PCRE2's `$` also matches before a final newline) unless an
 *   `m` flag occurs in the pattern (multi-line `$` reads the same in both).
 * - `\s` → `[\t\n\f\r ]` (RE2's `\s` has no vertical tab, PCRE2's has);
 *   `\S` → its complement; `\S` inside a class is refused.
 * - `\v` → U+000B (PCRE2's `\v` is every vertical space).
 * - octal `\12`, `\0`, `\123` → `\x{…}` (PCRE2 reads `\12` as a back
 *   reference when that many groups exist).
 * - `(?P<name>…)`, `(?<name>…)` → `(…)`: names are not needed and PCRE2
 *   refuses some RE2 accepts (a leading digit).
 * - a `{` that is not a repetition (`a{`, `{,3}`) → `\{` (PCRE2 10.43 reads
 *   `{,3}` as a repetition, RE2 as text).
 * - `\C` (any byte) is refused.
 * - every character other than an ASCII letter, digit or `_` that stands for
 *   itself is written `\x{…}`: the pattern file line then holds no space,
 *   quote, `#`, `$`, backslash-literal or control byte HAProxy could read.
 *
 * Not rewritten, the same in both: `\d \w \b \B` (ASCII in RE2 and in PCRE2
 * without UCP), POSIX classes, `\pL`/`\p{Greek}`/`\PL`/`\p{^Greek}` (PCRE2's
 * Unicode tables may be a version apart from re2js's), flags `i m s U`,
 * lazy quantifiers, `\A`, `\z`, `\Q…\E` (re-emitted as escaped literals).
 */
import { RE2JS } from 're2js';

/** Why a pattern could not be rewritten (the caller names the policy and field). */
export class PcreRewriteError extends Error {}

/** The default per-pattern match limit; see docs/l7-engine.md "Generated configuration". */
export const DEFAULT_MATCH_LIMIT = 1_000_000;

const WORD = /^[A-Za-z0-9_]$/;
const OCTAL = /^[0-7]$/;

/** One code point as a PCRE2 literal. */
function lit(cp: number): string {
  const ch = String.fromCodePoint(cp);
  return WORD.test(ch) ? ch : `\\x{${cp.toString(16)}}`;
}

/**
 * The PCRE2 pattern HAProxy gets for an RE2 pattern `re2` that must match
 * a whole value. Throws PcreRewriteError (not valid RE2, or a construct
 * that is refused).
 */
export function re2ToPcre(re2: string, matchLimit = DEFAULT_MATCH_LIMIT): string {
  try {
    RE2JS.compile(re2);
    RE2JS.compile(`^(?:${re2})$`);
  } catch (e) {
    throw new PcreRewriteError(`not a valid RE2 regular expression: ${(e as Error).message}`);
  }
  return `(*UTF)(*LF)(*LIMIT_MATCH=${matchLimit})^(?:${rewriteBody(re2)})\\z`;
}

/** An exact string as a PCRE2 whole-value pattern (a header's expected value). */
export function literalToPcre(value: string, matchLimit = DEFAULT_MATCH_LIMIT): string {
  let out = '';
  for (const ch of value) out += lit(ch.codePointAt(0)!);
  return `(*UTF)(*LF)(*LIMIT_MATCH=${matchLimit})^${out}\\z`;
}

function rewriteBody(p: string): string {
  const cps = [...p].map((c) => c.codePointAt(0)!);
  const ch = (i: number) => (i < cps.length ? String.fromCodePoint(cps[i]!) : '');
  // An `m` flag turned on anywhere: keep `$` (multi-line `$` reads the same in both; HTTP values hold no newline).
  const multiline = /\(\?[imsU]*m/.test(p);
  let out = '';
  let i = 0;
  /** An escape at i (cps[i] === '\\'); returns [text, next index]. */
  const escape = (inClass: boolean): [string, number] => {
    const c = ch(i + 1);
    if (c === '') throw new PcreRewriteError('trailing backslash');
    if (OCTAL.test(c)) {
      // Go/RE2: \0 and \1..\7 followed by another octal digit start an octal escape of up to 3 digits.
      let j = i + 1;
      let digits = '';
      while (j < cps.length && digits.length < 3 && OCTAL.test(ch(j))) digits += ch(j++);
      return [`\\x{${parseInt(digits, 8).toString(16)}}`, j];
    }
    switch (c) {
      case 'x': {
        if (ch(i + 2) === '{') {
          const end = cps.indexOf(0x7d, i + 3);
          const hex = String.fromCodePoint(...cps.slice(i + 3, end));
          return [`\\x{${parseInt(hex, 16).toString(16)}}`, end + 1];
        }
        return [`\\x{${parseInt(ch(i + 2) + ch(i + 3), 16).toString(16)}}`, i + 4];
      }
      case 'p': case 'P': {
        if (ch(i + 2) === '{') {
          const end = cps.indexOf(0x7d, i + 3);
          return [String.fromCodePoint(...cps.slice(i, end + 1)), end + 1];
        }
        return [`\\${c}${ch(i + 2)}`, i + 3];
      }
      case 'v': return ['\\x{b}', i + 2];
      case 's': return [inClass ? '\\t\\n\\f\\r\\x{20}' : '[\\t\\n\\f\\r\\x{20}]', i + 2];
      case 'S':
        if (inClass) throw new PcreRewriteError('\\S inside a character class is not supported (PCRE2\'s \\S differs from RE2\'s)');
        return ['[^\\t\\n\\f\\r\\x{20}]', i + 2];
      case 'C': throw new PcreRewriteError('\\C (any byte) is not supported');
      case 'd': case 'D': case 'w': case 'W': case 'b': case 'B': case 'A': case 'z':
      case 'a': case 'f': case 't': case 'n': case 'r':
        return [`\\${c}`, i + 2];
      default:
        // An escaped punctuation character stands for itself.
        return [lit(cps[i + 1]!), i + 2];
    }
  };
  while (i < cps.length) {
    const c = ch(i);
    if (c === '\\') {
      if (ch(i + 1) === 'Q') {
        let j = i + 2;
        while (j < cps.length && !(ch(j) === '\\' && ch(j + 1) === 'E')) out += lit(cps[j++]!);
        i = j < cps.length ? j + 2 : j;
        continue;
      }
      const [t, n] = escape(false);
      out += t; i = n; continue;
    }
    if (c === '[') {
      // A character class: `[^`, a leading `]` is literal, POSIX `[:name:]` copied.
      out += '[';
      i++;
      if (ch(i) === '^') { out += '^'; i++; }
      let first = true;
      while (i < cps.length && !(ch(i) === ']' && !first)) {
        first = false;
        const d = ch(i);
        const posix = d === '[' ? /^\[:\^?[a-z]+:\]/.exec(String.fromCodePoint(...cps.slice(i, i + 12))) : null;
        if (posix) {
          out += posix[0];
          i += posix[0].length;
        } else if (d === '\\') {
          if (ch(i + 1) === 'Q' || ch(i + 1) === 'E') throw new PcreRewriteError('\\Q…\\E inside a character class is not supported');
          const [t, n] = escape(true);
          out += t; i = n;
        } else if (d === '-') {
          out += '-'; i++;
        } else {
          out += lit(cps[i]!); i++;
        }
      }
      out += ']';
      i++;
      continue;
    }
    if (c === '$') { out += multiline ? '$' : '\\z'; i++; continue; }
    if (c === '(') {
      if (ch(i + 1) === '?') {
        const named = ch(i + 2) === 'P' && ch(i + 3) === '<' ? i + 4 : ch(i + 2) === '<' ? i + 3 : -1;
        if (named >= 0) {
          i = findFrom(cps, named, '>') + 1;
          out += '(';
          continue;
        }
        // Flags: `(?flags)` or `(?flags:`; copied.
        let j = i + 2;
        while (j < cps.length && /[imsU-]/.test(ch(j))) j++;
        out += String.fromCodePoint(...cps.slice(i, j + 1));
        i = j + 1;
        continue;
      }
      out += '('; i++; continue;
    }
    if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(String.fromCodePoint(...cps.slice(i, i + 24)));
      if (m) { out += m[0]; i += m[0].length; continue; }
      out += '\\{'; i++; continue;
    }
    if (c === '}') { out += '\\}'; i++; continue; }
    if ('.|*+?^)'.includes(c)) { out += c; i++; continue; }
    out += lit(cps[i]!);
    i++;
  }
  return out;
}

function findFrom(cps: number[], from: number, s: string): number {
  const want = [...s].map((c) => c.codePointAt(0)!);
  for (let j = from; j + want.length <= cps.length; j++) {
    if (want.every((w, k) => cps[j + k] === w)) return j;
  }
  throw new PcreRewriteError(`expected ${s}`);
}

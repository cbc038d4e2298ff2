/**
 * Turns what a user typed after `/search` into an FTS5 MATCH expression that can never be a
 * syntax error or an injection: every token is emitted as a double-quoted FTS5 string, so
 * operators (`AND`, `NEAR`, `OR`, `NOT`), column filters, `^`, `+`, `(` and `"` are plain text.
 */

/** Characters the unicode61 tokenizer keeps inside a token (letters, digits, private use). */
const TOKEN = /[\p{L}\p{N}\p{Co}\p{M}]+/gu;

export interface QueryTerm {
  /** Lower-cased tokens that must appear next to each other, in order. */
  tokens: string[];
  /** The last token matches as a prefix (`git*`, or the implicit prefix on the last word). */
  prefix: boolean;
}

export interface ParsedQuery {
  terms: QueryTerm[];
  /** The FTS5 expression, or undefined when the pattern has no searchable token (`|`, `&&`). */
  match: string | undefined;
  /** The pattern stripped of quotes, for the substring fallback when there is no token. */
  literal: string;
}

/** Case and diacritics folded, as unicode61 (remove_diacritics) stores a token. */
function fold(token: string): string {
  return token
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
}

export function tokenize(text: string): string[] {
  return (text.match(TOKEN) ?? []).map(fold).filter((t) => t.length > 0);
}

/** Splits on whitespace outside double quotes; a quoted run is one phrase. */
function chunks(pattern: string): { text: string; quoted: boolean }[] {
  const out: { text: string; quoted: boolean }[] = [];
  const re = /"([^"]*)"?|(\S+?)(?=\s|"|$)/g;
  for (const m of pattern.matchAll(re)) {
    if (m[1] !== undefined) out.push({ text: m[1], quoted: true });
    else if (m[2] !== undefined) out.push({ text: m[2], quoted: false });
  }
  return out;
}

/**
 * `git*` and a bare last word are prefix terms (a one-letter implicit prefix is not, it would
 * match half the history); a `"quoted phrase"` is exact; `docker-compose` is the phrase
 * "docker compose", as the tokenizer stores it.
 */
export function parseQuery(pattern: string, options: { implicitPrefix?: boolean } = {}): ParsedQuery {
  const implicitPrefix = options.implicitPrefix ?? true;
  const parts = chunks(pattern.trim());
  const terms: QueryTerm[] = [];
  parts.forEach((part, index) => {
    const tokens = tokenize(part.text);
    if (tokens.length === 0) return;
    const explicit = !part.quoted && part.text.endsWith('*');
    const last = tokens[tokens.length - 1]!;
    const implicit = implicitPrefix && !part.quoted && index === parts.length - 1 && last.length >= 2;
    terms.push({ tokens, prefix: explicit || implicit });
  });
  const literal = pattern.replace(/"/g, '').trim();
  if (terms.length === 0) return { terms, match: undefined, literal };
  return { terms, match: ftsMatch(terms), literal };
}

/** The FTS5 expression for terms: each a quoted string (prefix: `"..."*`), all of them, in `command`. */
export function ftsMatch(terms: readonly QueryTerm[]): string {
  const body = terms
    .map((t) => `"${t.tokens.join(' ').replace(/"/g, '""')}"${t.prefix ? '*' : ''}`)
    .join(' ');
  return `command : (${body})`;
}

export interface TermMatch {
  /** Share of the command's words that the query matched, 0..1: higher is a closer match. */
  score: number;
  /** [start, end) character ranges that matched, merged and sorted. */
  spans: [number, number][];
}

/**
 * Matches like the FTS index does (every term, phrases in order, prefix on a term's last token)
 * and scores the match. The score is bm25's length normalisation without corpus statistics:
 * `git status` is a closer hit for "status" than `git commit -m "status of the build"`. Being
 * computed from the command alone, it ranks alike whichever plan found the row.
 */
export function matchTerms(command: string, terms: readonly QueryTerm[]): TermMatch | undefined {
  const words = wordsOf(command);
  const spans: [number, number][] = [];
  const matched = new Set<number>();
  for (const term of terms) {
    const n = term.tokens.length;
    let found = false;
    for (let i = 0; i + n <= words.length; i++) {
      let ok = true;
      for (let k = 0; k < n && ok; k++) {
        const want = term.tokens[k]!;
        const got = words[i + k]!.text;
        ok = k === n - 1 && term.prefix ? got.startsWith(want) : got === want;
      }
      if (!ok) continue;
      found = true;
      for (let k = 0; k < n; k++) {
        const w = words[i + k]!;
        matched.add(i + k);
        const end = k === n - 1 && term.prefix ? w.start + term.tokens[k]!.length : w.end;
        spans.push([w.start, Math.min(end, w.end)]);
      }
    }
    if (!found) return undefined;
  }
  spans.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const span of spans) {
    const prev = merged[merged.length - 1];
    if (prev && span[0] <= prev[1]) prev[1] = Math.max(prev[1], span[1]);
    else merged.push([span[0], span[1]]);
  }
  return { score: words.length === 0 ? 0 : matched.size / words.length, spans: merged };
}

/**
 * matchTerms' score alone (undefined: no match), without the spans: what ranking a window of
 * a thousand candidates needs. ASCII commands skip the Unicode tokenizer and word objects.
 */
export function termScore(command: string, terms: readonly QueryTerm[]): number | undefined {
  if (!ASCII.test(command)) return matchTerms(command, terms)?.score;
  const words = command.toLowerCase().split(ASCII_SEPARATORS);
  let first = 0;
  let end = words.length;
  if (words[0] === '') first = 1;
  if (end > first && words[end - 1] === '') end--;
  const count = end - first;
  const matched = new Uint8Array(count);
  let hits = 0;
  for (const term of terms) {
    const n = term.tokens.length;
    let found = false;
    for (let i = 0; i + n <= count; i++) {
      let ok = true;
      for (let k = 0; k < n && ok; k++) {
        const want = term.tokens[k]!;
        const got = words[first + i + k]!;
        ok = k === n - 1 && term.prefix ? got.startsWith(want) : got === want;
      }
      if (!ok) continue;
      found = true;
      for (let k = 0; k < n; k++) {
        if (matched[i + k] === 0) {
          matched[i + k] = 1;
          hits++;
        }
      }
    }
    if (!found) return undefined;
  }
  return count === 0 ? 0 : hits / count;
}

interface Word {
  start: number;
  end: number;
  text: string;
}

const ASCII = /^[\x00-\x7f]*$/;
const ASCII_TOKEN = /[a-z0-9]+/g;
const ASCII_SEPARATORS = /[^a-z0-9]+/;

/** The command's tokens as the index cuts and folds them (ASCII, the usual case, without Unicode tables). */
function wordsOf(command: string): Word[] {
  if (!ASCII.test(command)) {
    return [...command.matchAll(TOKEN)].map((m) => ({
      start: m.index,
      end: m.index + m[0].length,
      text: fold(m[0]),
    }));
  }
  const words: Word[] = [];
  const lower = command.toLowerCase();
  ASCII_TOKEN.lastIndex = 0;
  for (let m = ASCII_TOKEN.exec(lower); m !== null; m = ASCII_TOKEN.exec(lower)) {
    words.push({ start: m.index, end: m.index + m[0].length, text: m[0] });
  }
  return words;
}

/** Highlight ranges of the terms in `command` (empty when it does not match them all). */
export function matchSpans(command: string, terms: readonly QueryTerm[]): [number, number][] {
  return matchTerms(command, terms)?.spans ?? [];
}

/** Substring spans for the no-token fallback (case-sensitive, as instr() matched). */
export function literalSpans(command: string, literal: string): [number, number][] {
  const spans: [number, number][] = [];
  if (literal.length === 0) return spans;
  for (let i = command.indexOf(literal); i >= 0; i = command.indexOf(literal, i + literal.length)) {
    spans.push([i, i + literal.length]);
  }
  return spans;
}

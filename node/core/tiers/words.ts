import type { FunctionDef, Part, SimpleCommand, Word } from './syntax.ts';

/**
 * Word-level reading for the classification parser: quote removal ('r''m', "rm", \rm, $'\x72m'),
 * and recording of every expansion ($VAR, ${...}, $(...), backticks, $((...))) as a word part.
 * The statement-level Parser extends this and supplies how a nested command list is parsed.
 */

export const MAX_DEPTH = 64;
const SPECIAL_PARAMS = '@*#?$!-0123456789';

export interface Shared {
  out: SimpleCommand[];
  functions: FunctionDef[];
  incomplete: boolean;
  depth: number;
}

export function isMeta(c: string | undefined): boolean {
  return (
    c === ' ' ||
    c === '\t' ||
    c === '\n' ||
    c === ';' ||
    c === '&' ||
    c === '|' ||
    c === '<' ||
    c === '>' ||
    c === '(' ||
    c === ')' ||
    c === '\r'
  );
}

function isNameChar(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_]/.test(c);
}

export abstract class WordReader {
  protected i = 0;
  protected readonly n: number;

  constructor(
    protected readonly s: string,
    protected readonly shared: Shared,
    protected readonly topLevel: boolean,
  ) {
    this.n = s.length;
  }

  /** After `$(` or `<(`: parses to the matching `)` and returns the commands inside. */
  protected abstract substitution(): SimpleCommand[];

  /** Parses a backtick body (its own source text) into shared.out. */
  protected abstract parseBody(body: string): void;

  protected readWord(): Word {
    const s = this.s;
    const start = this.i;
    const b = new WordBuilder();
    if ((s[this.i] === '<' || s[this.i] === '>') && s[this.i + 1] === '(') {
      const from = this.i;
      this.i += 2;
      const inner = this.substitution();
      b.addPart({ kind: 'cmd', inner, text: s.slice(from, this.i) });
    }
    while (this.i < this.n) {
      const c = s[this.i]!;
      if (isMeta(c)) {
        // extglob: @(a|b) !(x) after a glob operator stays inside the word.
        if (c === '(' && this.i > start && '@?*+!'.includes(s[this.i - 1]!)) {
          const close = s.indexOf(')', this.i);
          const end = close < 0 ? this.n : close + 1;
          b.addLit(s.slice(this.i, end));
          b.glob = true;
          this.i = end;
          continue;
        }
        break;
      }
      if (c === '\\') {
        if (s[this.i + 1] === '\n') this.i += 2;
        else {
          if (this.i + 1 < this.n) b.quoted = true;
          b.addLit(s[this.i + 1] ?? '\\');
          this.i += 2;
        }
      } else if (c === "'") {
        b.quoted = true;
        const close = s.indexOf("'", this.i + 1);
        if (close < 0) {
          this.shared.incomplete = true;
          b.addLit(s.slice(this.i + 1));
          this.i = this.n;
        } else {
          b.addLit(s.slice(this.i + 1, close));
          this.i = close + 1;
        }
      } else if (c === '"') {
        b.quoted = true;
        this.i++;
        this.readDouble(b);
      } else if (c === '$') {
        if (s[this.i + 1] === "'") {
          b.quoted = true;
          b.addLit(this.readAnsiC());
        } else if (s[this.i + 1] === '"') {
          b.quoted = true;
          this.i += 2;
          this.readDouble(b);
        } else {
          const part = this.readDollar();
          if (part.kind === 'lit') b.addLit(part.text);
          else b.addPart(part);
        }
      } else if (c === '`') {
        b.addPart(this.readBacktick());
      } else {
        if (c === '*' || c === '?' || c === '[') b.glob = true;
        else if (c === '{') b.brace = true;
        b.addLit(c);
        this.i++;
      }
    }
    return b.finish(start, this.i);
  }

  private readDouble(b: WordBuilder): void {
    const s = this.s;
    while (this.i < this.n) {
      const c = s[this.i]!;
      if (c === '"') {
        this.i++;
        return;
      }
      if (c === '\\') {
        const next = s[this.i + 1];
        if (next === '\n') this.i += 2;
        else if (next === '$' || next === '`' || next === '"' || next === '\\') {
          b.addLit(next);
          this.i += 2;
        } else {
          b.addLit('\\');
          this.i++;
        }
      } else if (c === '$' && s[this.i + 1] !== "'" && s[this.i + 1] !== '"') {
        const part = this.readDollar();
        if (part.kind === 'lit') b.addLit(part.text);
        else b.addPart(part);
      } else if (c === '`') b.addPart(this.readBacktick());
      else {
        b.addLit(c);
        this.i++;
      }
    }
    this.shared.incomplete = true;
  }

  private readAnsiC(): string {
    const s = this.s;
    this.i += 2;
    let out = '';
    while (this.i < this.n && s[this.i] !== "'") {
      const c = s[this.i]!;
      if (c !== '\\') {
        out += c;
        this.i++;
        continue;
      }
      const e = s[this.i + 1] ?? '';
      this.i += 2;
      const simple: Record<string, string> = {
        n: '\n',
        t: '\t',
        r: '\r',
        a: '\x07',
        b: '\b',
        e: '\x1b',
        E: '\x1b',
      };
      if (simple[e] !== undefined) out += simple[e];
      else if (e === 'x') {
        const m = /^[0-9a-fA-F]{1,2}/.exec(s.slice(this.i, this.i + 2));
        if (m) {
          out += String.fromCharCode(Number.parseInt(m[0], 16));
          this.i += m[0].length;
        } else out += '\\x';
      } else if (e === 'u' || e === 'U') {
        const m = /^[0-9a-fA-F]{1,8}/.exec(s.slice(this.i, this.i + (e === 'u' ? 4 : 8)));
        if (m) {
          out += String.fromCodePoint(Math.min(0x10ffff, Number.parseInt(m[0], 16)));
          this.i += m[0].length;
        }
      } else if (e >= '0' && e <= '7') {
        const m = /^[0-7]{0,2}/.exec(s.slice(this.i, this.i + 2))!;
        out += String.fromCharCode(Number.parseInt(e + m[0], 8));
        this.i += m[0].length;
      } else out += e;
    }
    if (this.i >= this.n) this.shared.incomplete = true;
    else this.i++;
    return out;
  }

  private readDollar(): Part {
    const s = this.s;
    const from = this.i;
    const next = s[this.i + 1];
    if (next === '(') {
      if (s[this.i + 2] === '(') {
        this.i += 3;
        this.readArithmetic();
        return { kind: 'arith', text: s.slice(from, this.i) };
      }
      this.i += 2;
      const inner = this.substitution();
      return { kind: 'cmd', inner, text: s.slice(from, this.i) };
    }
    if (next === '[') {
      const close = s.indexOf(']', this.i);
      this.i = close < 0 ? this.n : close + 1;
      return { kind: 'arith', text: s.slice(from, this.i) };
    }
    if (next === '{') {
      this.i += 2;
      const nameMatch = /^[A-Za-z_][A-Za-z0-9_]*|^[@*#?$!0-9-]/.exec(s.slice(this.i, this.i + 64));
      const name = nameMatch ? nameMatch[0] : '';
      let depth = 1;
      let simple = true;
      if (nameMatch) this.i += name.length;
      while (this.i < this.n && depth > 0) {
        const c = s[this.i]!;
        if (c === '}') {
          depth--;
          this.i++;
          continue;
        }
        simple = false;
        if (c === '$' || c === '`') {
          const part = c === '$' ? this.readDollar() : this.readBacktick();
          if (part.kind === 'cmd') continue;
          continue;
        }
        if (c === '\\') this.i += 2;
        else if (c === "'") {
          const close = s.indexOf("'", this.i + 1);
          this.i = close < 0 ? this.n : close + 1;
        } else if (c === '{') {
          depth++;
          this.i++;
        } else this.i++;
      }
      if (depth > 0) this.shared.incomplete = true;
      return simple && name
        ? { kind: 'var', name, text: `$${name}` }
        : { kind: 'var', name: '', text: s.slice(from, this.i) };
    }
    if (next !== undefined && /[A-Za-z_]/.test(next)) {
      let j = this.i + 1;
      while (isNameChar(s[j])) j++;
      const name = s.slice(this.i + 1, j);
      this.i = j;
      return { kind: 'var', name, text: `$${name}` };
    }
    if (next !== undefined && SPECIAL_PARAMS.includes(next)) {
      this.i += 2;
      return { kind: 'var', name: next, text: `$${next}` };
    }
    this.i++;
    return { kind: 'lit', text: '$' };
  }

  /** After `$(` or `<(`: parses to the matching `)` and returns the commands inside. */
  protected readArithmetic(): void {
    const s = this.s;
    let depth = 0;
    while (this.i < this.n) {
      const c = s[this.i]!;
      if (c === '$' && s[this.i + 1] === '(' && s[this.i + 2] !== '(') {
        this.i += 2;
        this.substitution();
      } else if (c === '`') this.readBacktick();
      else if (c === '(') {
        depth++;
        this.i++;
      } else if (c === ')') {
        if (depth === 0 && s[this.i + 1] === ')') {
          this.i += 2;
          return;
        }
        depth = Math.max(0, depth - 1);
        this.i++;
      } else this.i++;
    }
    this.shared.incomplete = true;
  }

  protected readBacktick(): Part {
    const s = this.s;
    const from = this.i;
    let j = this.i + 1;
    let body = '';
    while (j < this.n && s[j] !== '`') {
      if (s[j] === '\\' && (s[j + 1] === '`' || s[j + 1] === '\\' || s[j + 1] === '$')) {
        body += s[j + 1];
        j += 2;
      } else body += s[j++];
    }
    if (j >= this.n) this.shared.incomplete = true;
    this.i = Math.min(this.n, j + 1);
    const before = this.shared.out.length;
    this.shared.depth++;
    if (this.shared.depth <= MAX_DEPTH) this.parseBody(body);
    this.shared.depth--;
    return { kind: 'cmd', inner: this.shared.out.slice(before), text: s.slice(from, this.i) };
  }
}

/** Accumulates one word's parts; a class so the hot path creates no closures. */
class WordBuilder {
  parts: Part[] = [];
  text = '';
  lit = '';
  quoted = false;
  dynamic = false;
  glob = false;
  brace = false;

  addLit(chunk: string): void {
    this.lit += chunk;
    this.text += chunk;
  }

  addPart(part: Part): void {
    this.flush();
    this.parts.push(part);
    this.text += part.text;
    if (part.kind !== 'lit') this.dynamic = true;
  }

  private flush(): void {
    if (this.lit) {
      this.parts.push({ kind: 'lit', text: this.lit });
      this.lit = '';
    }
  }

  finish(start: number, end: number): Word {
    this.flush();
    const { text, parts, quoted, dynamic, glob, brace } = this;
    return { text, parts, start, end, quoted, dynamic, glob, brace };
  }
}

import type { Redirect, Script, SimpleCommand, Word } from './syntax.ts';
import { isMeta, MAX_DEPTH, type Shared, WordReader } from './words.ts';

/**
 * A recursive-descent reader of bash syntax, built for classification rather than execution: it
 * never throws, keeps going past errors, and flattens a line into every simple command it would
 * run — including those inside $(...), backticks, <(...), subshells, groups, function bodies,
 * if/while/for/case bodies. Word values keep quoting removed so `'r''m'` reads as `rm`.
 */

const SKIP_KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'do', 'while', 'until', '!', 'coproc']);
const END_KEYWORDS = new Set(['fi', 'done', 'esac', '}']);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=/;

interface PendingHeredoc {
  redirect: Redirect;
  delimiter: string;
  stripTabs: boolean;
}

export function parseScript(source: string, topLevel = true): Script {
  const shared: Shared = { out: [], functions: [], incomplete: false, depth: 0 };
  new Parser(source, shared, topLevel).parseTop();
  return { commands: shared.out, functions: shared.functions, incomplete: shared.incomplete };
}

class Parser extends WordReader {
  private pending: PendingHeredoc[] = [];

  protected parseBody(body: string): void {
    new Parser(body, this.shared, false).parseTop();
  }

  parseTop(): void {
    while (this.i < this.n) {
      this.parseList('eof');
      // A stray closer at top level (`)` or `}` without opener): skip it and go on.
      if (this.i < this.n) this.i++;
    }
  }

  private skipBlanks(): void {
    const s = this.s;
    while (this.i < this.n) {
      const c = s[this.i];
      if (c === ' ' || c === '\t' || c === '\r') this.i++;
      else if (c === '\\' && s[this.i + 1] === '\n') this.i += 2;
      else if (c === '#' && (this.i === 0 || isMeta(s[this.i - 1]))) {
        while (this.i < this.n && s[this.i] !== '\n') this.i++;
      } else break;
    }
  }

  private atWord(word: string): boolean {
    return (
      this.s.startsWith(word, this.i) &&
      (this.i + word.length >= this.n || isMeta(this.s[this.i + word.length]))
    );
  }

  private newline(): void {
    this.i++;
    if (this.pending.length > 0) this.readHeredocs();
  }

  private readHeredocs(): void {
    const pending = this.pending;
    this.pending = [];
    for (const doc of pending) {
      const lines: string[] = [];
      let found = false;
      while (this.i < this.n) {
        let eol = this.s.indexOf('\n', this.i);
        if (eol < 0) eol = this.n;
        let line = this.s.slice(this.i, eol);
        this.i = Math.min(this.n, eol + 1);
        if (doc.stripTabs) line = line.replace(/^\t+/, '');
        if (line === doc.delimiter) {
          found = true;
          break;
        }
        lines.push(line);
      }
      if (!found) this.shared.incomplete = true;
      doc.redirect.body = lines.join('\n');
    }
  }

  /** Parses `a && b | c ; d &` ... until end or the closer for `until`. */
  private parseList(until: 'eof' | ')' | '}' | 'case'): void {
    const s = this.s;
    for (;;) {
      this.skipBlanks();
      if (this.i >= this.n) return;
      const c = s[this.i];
      if (c === '\n') {
        this.newline();
        continue;
      }
      if (c === ';') {
        if (s[this.i + 1] === ';' || (s[this.i + 1] === '&' && until === 'case')) {
          if (until === 'case') return;
          this.i += 2;
          continue;
        }
        this.i++;
        continue;
      }
      if (c === ')') {
        if (until === ')' || until === 'case') return;
        this.i++;
        continue;
      }
      if (until === '}' && this.atWord('}')) return;
      if (until === 'case' && this.atWord('esac')) return;
      if ((c === '&' && s[this.i + 1] !== '>') || c === '|') {
        this.i++;
        continue;
      }
      const before = this.shared.out.length;
      const at = this.i;
      this.parsePipeline();
      if (this.i === at) this.i++;
      this.skipBlanks();
      if (s[this.i] === '&' && s[this.i + 1] !== '&' && s[this.i + 1] !== '>') {
        for (let k = before; k < this.shared.out.length; k++) this.shared.out[k]!.background = true;
        this.i++;
      } else if (s[this.i] === '&' && s[this.i + 1] === '&') this.i += 2;
      else if (s[this.i] === '|' && s[this.i + 1] === '|') this.i += 2;
    }
  }

  private parsePipeline(): void {
    const stages: SimpleCommand[][] = [];
    for (;;) {
      const stage = this.parseCommand();
      stages.push(stage);
      this.skipBlanks();
      const s = this.s;
      if (s[this.i] === '|' && s[this.i + 1] !== '|') {
        this.i += s[this.i + 1] === '&' ? 2 : 1;
        this.skipBlanks();
        while (s[this.i] === '\n') {
          this.newline();
          this.skipBlanks();
        }
        continue;
      }
      break;
    }
    if (stages.length < 2) return;
    const pipeline: SimpleCommand[] = [];
    stages.forEach((stage, index) => {
      for (const cmd of stage) {
        cmd.piped = cmd.piped || index > 0;
        if (stage.length === 1) cmd.stage = index;
        if (stage.length === 1) cmd.pipeline = pipeline;
      }
      const last = stage[stage.length - 1];
      if (last) pipeline.push(last);
    });
  }

  /** One command of a pipeline; returns its own simple commands (not those nested in words). */
  private parseCommand(): SimpleCommand[] {
    this.skipBlanks();
    const s = this.s;
    if (this.shared.depth > MAX_DEPTH) {
      this.shared.incomplete = true;
      this.i = this.n;
      return [];
    }
    if (s[this.i] === '(') {
      if (s[this.i + 1] === '(') {
        this.i += 2;
        this.readArithmetic();
        return this.trailingRedirects();
      }
      this.i++;
      const before = this.shared.out.length;
      this.nested(() => this.parseList(')'));
      if (s[this.i] === ')') this.i++;
      else this.shared.incomplete = true;
      return [...this.shared.out.slice(before), ...this.trailingRedirects()];
    }
    const start = this.i;
    const words: Word[] = [];
    const assigns: Word[] = [];
    const redirects: Redirect[] = [];
    for (;;) {
      this.skipBlanks();
      if (this.i >= this.n) break;
      const c = s[this.i]!;
      if (this.tryRedirect(redirects)) continue;
      if (isMeta(c)) {
        if ((c === '<' || c === '>') && s[this.i + 1] === '(') {
          words.push(this.readWord());
          continue;
        }
        break;
      }
      if (words.length === 0 && redirects.length === 0 && assigns.length === 0) {
        const keyword = this.compoundStart();
        if (keyword !== undefined) return keyword;
      }
      const word = this.readWord();
      if (words.length === 0 && ASSIGNMENT.test(s.slice(word.start, word.end))) {
        assigns.push(word);
        continue;
      }
      words.push(word);
      if (words.length === 1 && assigns.length === 0 && this.atFunctionParens()) {
        return this.functionBody(word.text, word.start);
      }
    }
    const cmd: SimpleCommand = {
      words,
      assigns,
      redirects,
      source: s,
      start,
      end: this.i,
      topLevel: this.topLevel,
      piped: false,
      pipeline: [],
      background: false,
      stage: 0,
    };
    cmd.pipeline = [cmd];
    if (words.length === 0 && assigns.length === 0 && redirects.length === 0) return [];
    this.shared.out.push(cmd);
    return [cmd];
  }

  /** Handles reserved words at command position; undefined when the word is an ordinary one. */
  private compoundStart(): SimpleCommand[] | undefined {
    const s = this.s;
    for (const kw of SKIP_KEYWORDS) {
      if (this.atWord(kw)) {
        this.i += kw.length;
        return this.parseCommand();
      }
    }
    for (const kw of END_KEYWORDS) {
      if (this.atWord(kw)) {
        this.i += kw.length;
        return this.trailingRedirects();
      }
    }
    if (this.atWord('{')) {
      this.i++;
      const before = this.shared.out.length;
      this.nested(() => this.parseList('}'));
      if (this.atWord('}')) this.i++;
      else this.shared.incomplete = true;
      return [...this.shared.out.slice(before), ...this.trailingRedirects()];
    }
    if (s.startsWith('[[', this.i) && isMeta(s[this.i + 2])) {
      this.i += 2;
      // Words up to ]] are tests, not commands; substitutions inside still get parsed.
      while (this.i < this.n && !this.atWord(']]')) {
        this.skipBlanks();
        if (this.atWord(']]') || this.i >= this.n) break;
        if (isMeta(s[this.i])) this.i++;
        else this.readWord();
      }
      if (this.atWord(']]')) this.i += 2;
      return this.trailingRedirects();
    }
    if (this.atWord('function')) {
      const start = this.i;
      this.i += 8;
      this.skipBlanks();
      const name = this.readWord().text;
      this.atFunctionParens();
      return this.functionBody(name, start);
    }
    if (this.atWord('for') || this.atWord('select')) {
      this.i += s.startsWith('for', this.i) ? 3 : 6;
      this.skipBlanks();
      if (s.startsWith('((', this.i)) {
        this.i += 2;
        this.readArithmetic();
        return [];
      }
      while (this.i < this.n && s[this.i] !== ';' && s[this.i] !== '\n' && s[this.i] !== '&') {
        if (isMeta(s[this.i])) this.i++;
        else this.readWord();
        this.skipBlanks();
      }
      return [];
    }
    if (this.atWord('case')) {
      this.i += 4;
      this.parseCase();
      return this.trailingRedirects();
    }
    return undefined;
  }

  private parseCase(): void {
    const s = this.s;
    this.skipBlanks();
    this.readWord();
    this.skipBlanks();
    if (this.atWord('in')) this.i += 2;
    for (;;) {
      while (this.i < this.n && /[\s;]/.test(s[this.i]!)) {
        if (s[this.i] === '\n') this.newline();
        else this.i++;
      }
      if (this.i >= this.n) {
        this.shared.incomplete = true;
        return;
      }
      if (this.atWord('esac')) {
        this.i += 4;
        return;
      }
      if (s[this.i] === '(') this.i++;
      while (this.i < this.n && s[this.i] !== ')') {
        if (s[this.i] === '\n') this.newline();
        else if (isMeta(s[this.i])) this.i++;
        else this.readWord();
      }
      if (s[this.i] === ')') this.i++;
      this.nested(() => this.parseList('case'));
      if (s[this.i] === ';') this.i += s[this.i + 1] === ';' && s[this.i + 2] === '&' ? 3 : 2;
      else if (s[this.i] === ')') this.i++;
    }
  }

  private atFunctionParens(): boolean {
    let j = this.i;
    const s = this.s;
    while (s[j] === ' ' || s[j] === '\t') j++;
    if (s[j] !== '(') return false;
    j++;
    while (s[j] === ' ' || s[j] === '\t') j++;
    if (s[j] !== ')') return false;
    this.i = j + 1;
    return true;
  }

  private functionBody(name: string, start: number): SimpleCommand[] {
    this.skipBlanks();
    while (this.s[this.i] === '\n') {
      this.newline();
      this.skipBlanks();
    }
    const before = this.shared.out.length;
    const own = this.parseCommand();
    const body = this.shared.out.slice(before);
    for (const cmd of own) if (!body.includes(cmd)) body.push(cmd);
    this.shared.functions.push({ name, body, text: this.s.slice(start, this.i).trim() });
    return own;
  }

  /** Redirections after a compound command (`done > /dev/sda`) become a word-less command. */
  private trailingRedirects(): SimpleCommand[] {
    const redirects: Redirect[] = [];
    const start = this.i;
    for (;;) {
      this.skipBlanks();
      if (!this.tryRedirect(redirects)) break;
    }
    if (redirects.length === 0) return [];
    const cmd: SimpleCommand = {
      words: [],
      assigns: [],
      redirects,
      source: this.s,
      start,
      end: this.i,
      topLevel: this.topLevel,
      piped: false,
      pipeline: [],
      background: false,
      stage: 0,
    };
    cmd.pipeline = [cmd];
    this.shared.out.push(cmd);
    return [cmd];
  }

  private tryRedirect(into: Redirect[]): boolean {
    const s = this.s;
    let j = this.i;
    if (s[j] === '{') {
      const close = s.indexOf('}', j);
      if (close > j && /^\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(s.slice(j, close + 1))) j = close + 1;
    } else {
      while (j < this.n && s[j]! >= '0' && s[j]! <= '9') j++;
    }
    let op: string | undefined;
    const rest = s.slice(j, j + 3);
    if (s[j] === '&' && s[j + 1] === '>') op = s[j + 2] === '>' ? '&>>' : '&>';
    else if (s[j] === '<' || s[j] === '>') {
      if (s[j + 1] === '(') return false;
      for (const candidate of ['<<<', '<<-', '<<', '>>', '>|', '>&', '<&', '<>', '<', '>']) {
        if (rest.startsWith(candidate)) {
          op = candidate;
          break;
        }
      }
    }
    if (op === undefined) return false;
    this.i = j + op.length;
    this.skipBlanks();
    const redirect: Redirect = { op, target: undefined };
    const processSub = (s[this.i] === '<' || s[this.i] === '>') && s[this.i + 1] === '(';
    if (this.i < this.n && (!isMeta(s[this.i]) || processSub)) redirect.target = this.readWord();
    if (op === '<<<' && redirect.target) redirect.body = redirect.target.text;
    if ((op === '<<' || op === '<<-') && redirect.target) {
      this.pending.push({ redirect, delimiter: redirect.target.text, stripTabs: op === '<<-' });
    }
    into.push(redirect);
    return true;
  }

  private nested(fn: () => void): void {
    this.shared.depth++;
    try {
      fn();
    } finally {
      this.shared.depth--;
    }
  }

  /** Reads one word; quote removal and expansion recording happen here. */
  protected substitution(): SimpleCommand[] {
    const before = this.shared.out.length;
    this.nested(() => this.parseList(')'));
    if (this.s[this.i] === ')') this.i++;
    else this.shared.incomplete = true;
    return this.shared.out.slice(before);
  }
}

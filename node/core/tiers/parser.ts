import { ShellLexer } from './lexer.ts';
import type { Redirect, Script, SimpleCommand, Word } from './syntax.ts';
import { isMeta, MAX_DEPTH, type Shared } from './words.ts';

/**
 * A recursive-descent reader of bash syntax, built for classification rather than execution: it
 * never throws, keeps going past errors, and flattens a line into every simple command it would
 * run — including those inside $(...), backticks, <(...), subshells, groups, function bodies,
 * if/while/for/case bodies. Word values keep quoting removed so `'r''m'` reads as `rm`.
 */

const SKIP_KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'do', 'while', 'until', '!', 'coproc']);
const END_KEYWORDS = new Set(['fi', 'done', 'esac', '}']);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=/;

export function parseScript(source: string, topLevel = true): Script {
  const shared: Shared = { out: [], functions: [], incomplete: false, depth: 0 };
  new Parser(source, shared, topLevel).parseTop();
  return { commands: shared.out, functions: shared.functions, incomplete: shared.incomplete };
}

class Parser extends ShellLexer {
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
        if (s[this.i] === '(' && word.text.endsWith('=')) word.array = this.arrayElements();
        assigns.push(word);
        continue;
      }
      words.push(word);
      if (words.length === 1 && assigns.length === 0 && this.atFunctionParens()) {
        return this.functionBody(word.text, word.start);
      }
    }
    if (words.length === 0 && assigns.length === 0 && redirects.length === 0) return [];
    return this.emitCommand(start, words, assigns, redirects);
  }

  /** `name=(a b c)`: the elements, read as words (substitutions inside still get parsed). */
  private arrayElements(): Word[] {
    const s = this.s;
    const elements: Word[] = [];
    this.i++;
    for (;;) {
      this.skipBlanks();
      if (s[this.i] === '\n') {
        this.newline();
        continue;
      }
      if (this.i >= this.n) {
        this.shared.incomplete = true;
        return elements;
      }
      if (s[this.i] === ')') {
        this.i++;
        return elements;
      }
      if (isMeta(s[this.i])) this.i++;
      else elements.push(this.readWord());
    }
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
    return this.emitCommand(start, [], [], redirects);
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

import type { Redirect, SimpleCommand, Word } from './syntax.ts';
import { isMeta, WordReader } from './words.ts';

/**
 * The token level under the bash grammar in parser.ts: blanks and comments, reserved-word tests,
 * here-documents read at the next newline, redirections, and the simple-command record both the
 * plain and the compound-command paths produce.
 */

interface PendingHeredoc {
  redirect: Redirect;
  delimiter: string;
  stripTabs: boolean;
}

export abstract class ShellLexer extends WordReader {
  protected pending: PendingHeredoc[] = [];

  protected skipBlanks(): void {
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

  protected atWord(word: string): boolean {
    return (
      this.s.startsWith(word, this.i) &&
      (this.i + word.length >= this.n || isMeta(this.s[this.i + word.length]))
    );
  }

  protected newline(): void {
    this.i++;
    if (this.pending.length > 0) this.readHeredocs();
  }

  protected readHeredocs(): void {
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

  protected atFunctionParens(): boolean {
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

  protected tryRedirect(into: Redirect[]): boolean {
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

  protected nested(fn: () => void): void {
    this.shared.depth++;
    try {
      fn();
    } finally {
      this.shared.depth--;
    }
  }

  /** A simple command spanning start..here, registered in the flattened output. */
  protected emitCommand(
    start: number,
    words: Word[],
    assigns: Word[],
    redirects: Redirect[],
  ): SimpleCommand[] {
    const cmd: SimpleCommand = {
      words,
      assigns,
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
}

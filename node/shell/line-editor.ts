import { stripAnsi } from './bounded-text.ts';
import { type Key, parseKeys } from './keys.ts';

export interface Completion {
  /** Index in the line where the completed word starts. */
  from: number;
  candidates: string[];
}

export interface SearchHit {
  command: string;
  origin: string;
}

export interface LineEditorOptions {
  input: NodeJS.ReadStream;
  output: NodeJS.WriteStream;
  /** Previous lines, most recent first (Up/Down). */
  history(): string[];
  /** Ctrl-R: the `skip`-th most recent line containing `query`; `here` limits to this machine. */
  search(query: string, skip: number, here: boolean): SearchHit | undefined;
  complete(line: string, cursor: number): Completion;
}

interface SearchState {
  query: string;
  skip: number;
  here: boolean;
  hit: SearchHit | undefined;
}

/**
 * A small line editor for Isaac's prompt: cursor movement and editing keys, Up/Down through the
 * SQLite history, Ctrl-R reverse search across every machine's history (Ctrl-T toggles this
 * machine only), Tab completion, and messages printed above the prompt without losing the line.
 */
export class LineEditor {
  private line = '';
  private cursor = 0;
  private prompt = '';
  private renderedCursorRow = 0;
  private historyList: string[] = [];
  private historyIndex = -1;
  private savedLine = '';
  private searchState: SearchState | undefined;
  private finish: ((line: string | null) => void) | undefined;
  private readonly onData = (data: Buffer | string) => this.handle(String(data));

  constructor(private readonly options: LineEditorOptions) {}

  get reading(): boolean {
    return this.finish !== undefined;
  }

  /** Reads one line. Resolves null on Ctrl-D at an empty line. */
  read(prompt: string, initial = ''): Promise<string | null> {
    this.prompt = prompt;
    this.line = initial;
    this.cursor = initial.length;
    this.historyIndex = -1;
    this.historyList = this.options.history();
    this.searchState = undefined;
    this.renderedCursorRow = 0;
    this.options.input.on('data', this.onData);
    this.render();
    return new Promise((resolve) => {
      this.finish = (line) => {
        this.options.input.off('data', this.onData);
        this.finish = undefined;
        resolve(line);
      };
    });
  }

  /**
   * A question that cannot wait for the line being typed (a tier-3 remote command asking for a
   * yes): the line being edited is put aside, `header` printed, the keys typed in the next
   * `guardMs` thrown away (typed before the question could be read, they answer nothing), then
   * `prompt` is read; afterwards the line is back as it was. `cancel` ends the question without
   * an answer (resolves null).
   */
  interject(
    header: string,
    prompt: string,
    guardMs: number,
  ): { answer: Promise<string | null>; cancel(): void } {
    const saved = this.finish
      ? {
          prompt: this.prompt,
          line: this.line,
          cursor: this.cursor,
          historyIndex: this.historyIndex,
          historyList: this.historyList,
          savedLine: this.savedLine,
          finish: this.finish,
        }
      : undefined;
    if (saved) {
      this.options.input.off('data', this.onData);
      this.clearRendered();
      this.finish = undefined;
      this.searchState = undefined;
    }
    this.options.output.write(`${header.replace(/\n$/, '').replace(/\n/g, '\r\n')}\r\n`);
    this.renderedCursorRow = 0;
    const discard = () => {};
    this.options.input.on('data', discard);
    let cancel: () => void = () => {};
    const asked = new Promise<string | null>((resolve) => {
      const timer = setTimeout(() => {
        this.options.input.off('data', discard);
        let done = false;
        cancel = () => {
          if (!done) this.accept(null, true);
        };
        void this.read(prompt).then((value) => {
          done = true;
          resolve(value);
        });
      }, guardMs);
      cancel = () => {
        clearTimeout(timer);
        this.options.input.off('data', discard);
        resolve(null);
      };
    });
    const answer = asked.then((value) => {
      if (saved) {
        this.prompt = saved.prompt;
        this.line = saved.line;
        this.cursor = saved.cursor;
        this.historyIndex = saved.historyIndex;
        this.historyList = saved.historyList;
        this.savedLine = saved.savedLine;
        this.finish = saved.finish;
        this.renderedCursorRow = 0;
        this.options.input.on('data', this.onData);
        this.render();
      }
      return value;
    });
    return { answer, cancel: () => cancel() };
  }

  /** Prints text above the prompt (notifications), then redraws the line being edited. */
  printAbove(text: string): void {
    if (!this.reading) {
      this.options.output.write(text.endsWith('\n') ? text.replace(/\n/g, '\r\n') : `${text}\r\n`);
      return;
    }
    this.clearRendered();
    this.options.output.write(`${text.replace(/\n$/, '').replace(/\n/g, '\r\n')}\r\n`);
    this.renderedCursorRow = 0;
    this.render();
  }

  redraw(): void {
    if (this.reading) this.render();
  }

  private columns(): number {
    return Math.max(this.options.output.columns || 80, 10);
  }

  private handle(data: string): void {
    for (const key of parseKeys(data)) {
      if (!this.reading) return;
      if (this.searchState) this.handleSearchKey(key, this.searchState);
      else this.handleKey(key);
    }
    if (this.reading) this.render();
  }

  private handleKey(key: Key): void {
    switch (key.name) {
      case 'char':
      case 'paste':
        this.insert(key.name === 'paste' ? key.text.replace(/\n+$/, '').replace(/\n/g, ' ') : key.text);
        return;
      case 'enter':
        return this.accept(this.line);
      case 'ctrl-c':
        this.options.output.write('^C');
        return this.accept('', true);
      case 'ctrl-d':
        if (this.line === '') return this.accept(null);
        return this.deleteForward();
      case 'backspace':
        if (this.cursor > 0) {
          this.line = this.line.slice(0, this.cursor - 1) + this.line.slice(this.cursor);
          this.cursor--;
        }
        return;
      case 'delete':
        return this.deleteForward();
      case 'left':
      case 'ctrl-b':
        this.cursor = Math.max(0, this.cursor - 1);
        return;
      case 'right':
      case 'ctrl-f':
        this.cursor = Math.min(this.line.length, this.cursor + 1);
        return;
      case 'home':
      case 'ctrl-a':
        this.cursor = 0;
        return;
      case 'end':
      case 'ctrl-e':
        this.cursor = this.line.length;
        return;
      case 'word-left':
        this.cursor = this.line.slice(0, this.cursor).replace(/\S+\s*$/, '').length;
        return;
      case 'word-right': {
        const match = /^\s*\S+/.exec(this.line.slice(this.cursor));
        this.cursor += match ? match[0].length : this.line.length - this.cursor;
        return;
      }
      case 'ctrl-k':
        this.line = this.line.slice(0, this.cursor);
        return;
      case 'ctrl-u':
        this.line = this.line.slice(this.cursor);
        this.cursor = 0;
        return;
      case 'ctrl-w': {
        const before = this.line.slice(0, this.cursor).replace(/\S+\s*$/, '');
        this.line = before + this.line.slice(this.cursor);
        this.cursor = before.length;
        return;
      }
      case 'ctrl-l':
        this.options.output.write('\x1b[H\x1b[2J');
        this.renderedCursorRow = 0;
        return;
      case 'up':
        return this.moveHistory(1);
      case 'down':
        return this.moveHistory(-1);
      case 'tab':
        return this.completeWord();
      case 'ctrl-r':
        this.searchState = { query: '', skip: 0, here: false, hit: undefined };
        return;
      default:
        return;
    }
  }

  private handleSearchKey(key: Key, state: SearchState): void {
    const refresh = () => {
      state.hit = state.query === '' ? undefined : this.options.search(state.query, state.skip, state.here);
    };
    switch (key.name) {
      case 'char':
      case 'paste':
        state.query += key.text;
        state.skip = 0;
        return refresh();
      case 'backspace':
        state.query = state.query.slice(0, -1);
        state.skip = 0;
        return refresh();
      case 'ctrl-r':
        if (state.hit) state.skip++;
        refresh();
        if (!state.hit && state.skip > 0) {
          state.skip--;
          refresh();
        }
        return;
      case 'ctrl-t':
        state.here = !state.here;
        state.skip = 0;
        return refresh();
      case 'ctrl-c':
      case 'ctrl-g':
        this.searchState = undefined;
        return;
      case 'enter':
        this.searchState = undefined;
        return this.accept(state.hit?.command ?? this.line);
      default:
        this.searchState = undefined;
        if (state.hit) {
          this.line = state.hit.command;
          this.cursor = this.line.length;
        }
        if (key.name !== 'escape') this.handleKey(key);
    }
  }

  private insert(text: string): void {
    this.line = this.line.slice(0, this.cursor) + text + this.line.slice(this.cursor);
    this.cursor += text.length;
  }

  private deleteForward(): void {
    this.line = this.line.slice(0, this.cursor) + this.line.slice(this.cursor + 1);
  }

  private moveHistory(step: number): void {
    const next = this.historyIndex + step;
    if (next < -1 || next >= this.historyList.length) return;
    if (this.historyIndex === -1) this.savedLine = this.line;
    this.historyIndex = next;
    this.line = next === -1 ? this.savedLine : this.historyList[next]!;
    this.cursor = this.line.length;
  }

  private completeWord(): void {
    const { from, candidates } = this.options.complete(this.line, this.cursor);
    if (candidates.length === 0) return;
    const word = this.line.slice(from, this.cursor);
    const common = commonPrefix(candidates);
    if (candidates.length === 1) {
      const only = candidates[0]!;
      this.replaceWord(from, only.endsWith('/') ? only : `${only} `);
      return;
    }
    if (common.length > word.length) {
      this.replaceWord(from, common);
      return;
    }
    this.printAbove(candidates.slice(0, 100).join('  ') + (candidates.length > 100 ? '  …' : ''));
  }

  private replaceWord(from: number, text: string): void {
    this.line = this.line.slice(0, from) + text + this.line.slice(this.cursor);
    this.cursor = from + text.length;
  }

  private accept(line: string | null, cancelled = false): void {
    this.searchState = undefined;
    if (!cancelled) this.render();
    this.options.output.write('\r\n');
    this.renderedCursorRow = 0;
    this.finish?.(line);
  }

  private clearRendered(): void {
    const out = this.options.output;
    if (this.renderedCursorRow > 0) out.write(`\x1b[${this.renderedCursorRow}A`);
    out.write('\r\x1b[J');
  }

  private render(): void {
    const cols = this.columns();
    let prompt = this.prompt;
    let text = this.line;
    let cursorInText = this.cursor;
    const search = this.searchState;
    if (search) {
      prompt = `(reverse-i-search${search.here ? ', this machine' : ''})\`${search.query}': `;
      text = search.hit ? `${search.hit.command}${search.here ? '' : `  [${search.hit.origin}]`}` : '';
      cursorInText = 0;
    }
    this.clearRendered();
    const promptWidth = stripAnsi(prompt).length;
    const total = promptWidth + text.length;
    this.options.output.write(prompt + text + (total > 0 && total % cols === 0 ? '\r\n' : ''));
    const endRow = Math.floor(total / cols);
    const cursorAbs = search ? promptWidth : promptWidth + cursorInText;
    const cursorRow = Math.floor(cursorAbs / cols);
    const cursorCol = cursorAbs % cols;
    let move = '';
    if (endRow > cursorRow) move += `\x1b[${endRow - cursorRow}A`;
    move += '\r';
    if (cursorCol > 0) move += `\x1b[${cursorCol}C`;
    this.options.output.write(move);
    this.renderedCursorRow = cursorRow;
  }
}

export function commonPrefix(values: string[]): string {
  if (values.length === 0) return '';
  let prefix = values[0]!;
  for (const v of values) {
    while (!v.startsWith(prefix)) prefix = prefix.slice(0, -1);
  }
  return prefix;
}

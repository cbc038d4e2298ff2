import { SHELL_FENCES, visible } from './parse.ts';

/**
 * Echoes a reply's prose as it streams, never raw: every control character is shown as a
 * symbol (␛ ␍ …), so model text cannot move the cursor, erase a line or fake a prompt. Shell
 * blocks are held back: the command offered is printed by the caller from the parsed reply,
 * alone on its line, after the stream ends. Other code blocks are shown indented.
 */
export class StreamPrinter {
  printed = false;
  private holding: string | undefined;
  private atLineStart = true;
  private fence: 'shell' | 'other' | undefined;

  constructor(private readonly emit: (text: string) => void) {}

  write(token: string): void {
    let out = '';
    for (const ch of token) {
      if (this.holding !== undefined) {
        this.holding += ch;
        if (ch === '\n') {
          out += this.fenceLine(this.holding);
          this.holding = undefined;
        } else if (!'```'.startsWith(this.holding) && !this.holding.startsWith('```')) {
          const held = this.holding;
          this.holding = undefined;
          for (const c of held) out += this.char(c);
        }
        continue;
      }
      if (this.atLineStart && ch === '`') {
        this.holding = '`';
        continue;
      }
      out += this.char(ch);
    }
    this.flush(out);
  }

  end(): void {
    let out = '';
    const held = this.holding;
    this.holding = undefined;
    if (held !== undefined && !held.startsWith('```')) for (const c of held) out += this.char(c);
    if ((this.printed || out) && !this.atLineStart && this.fence !== 'shell') out += '\n';
    this.flush(out);
    this.atLineStart = true;
    this.fence = undefined;
  }

  private flush(out: string): void {
    if (!out) return;
    this.printed = true;
    this.emit(out);
  }

  /** A whole line that began with a backtick: a fence opens or closes, or it is ordinary text. */
  private fenceLine(line: string): string {
    if (!line.startsWith('```')) {
      let out = '';
      for (const c of line) out += this.char(c);
      return out;
    }
    if (this.fence === undefined) {
      const language = (line.slice(3).trim().split(/\s/)[0] ?? '').toLowerCase();
      this.fence = SHELL_FENCES.has(language) ? 'shell' : 'other';
    } else {
      this.fence = undefined;
    }
    this.atLineStart = true;
    return '';
  }

  private char(ch: string): string {
    const lineStart = this.atLineStart;
    this.atLineStart = ch === '\n';
    if (this.fence === 'shell') return '';
    const indent = lineStart && this.fence === 'other' && ch !== '\n' ? '    ' : '';
    return indent + visible(ch);
  }
}

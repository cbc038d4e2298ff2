import { MARKER_END, MARKER_PREFIX } from './bash-rc.ts';

/**
 * Splits the pty's output stream into text and Isaac's end-of-command markers
 * (`ESC ] 6973 ; <nonce> ; field ; ... BEL`), coping with markers split across chunks.
 */
export class MarkerParser {
  private buffer = '';
  private readonly start: string;

  constructor(
    nonce: string,
    private readonly sink: { text(text: string): void; marker(fields: string[]): void },
  ) {
    this.start = `${MARKER_PREFIX}${nonce};`;
  }

  push(data: string): void {
    this.buffer += data;
    for (;;) {
      const at = this.buffer.indexOf(this.start);
      if (at === -1) {
        const keep = this.partialPrefixLength();
        const emit = this.buffer.slice(0, this.buffer.length - keep);
        this.buffer = this.buffer.slice(this.buffer.length - keep);
        if (emit) this.sink.text(emit);
        return;
      }
      const end = this.buffer.indexOf(MARKER_END, at + this.start.length);
      if (end === -1) {
        if (at > 0) this.sink.text(this.buffer.slice(0, at));
        this.buffer = this.buffer.slice(at);
        return;
      }
      if (at > 0) this.sink.text(this.buffer.slice(0, at));
      const fields = this.buffer.slice(at + this.start.length, end).split(';');
      this.buffer = this.buffer.slice(end + MARKER_END.length);
      this.sink.marker(fields);
    }
  }

  /** Length of the buffer's tail that could still grow into a marker start. */
  private partialPrefixLength(): number {
    const max = Math.min(this.start.length - 1, this.buffer.length);
    for (let len = max; len > 0; len--) {
      if (this.start.startsWith(this.buffer.slice(this.buffer.length - len))) return len;
    }
    return 0;
  }
}

import { isUtf8 } from 'node:buffer';
import { closeSync, openSync, readSync } from 'node:fs';

/** A line of a history file: its text, or null when its bytes are not valid UTF-8. */
export type Line = string | null;

const EMPTY = Buffer.alloc(0);

/**
 * Splits a byte stream into lines as it arrives: at `\n`, one trailing `\r` removed, a line that
 * is not valid UTF-8 given as null, and a last line without its `\n` only when it has text.
 * Feeding a whole file in one push or in any number of pieces gives the same lines.
 */
export class LineSplitter {
  private carry: Buffer = EMPTY;

  constructor(private readonly onLine: (line: Line) => void) {}

  push(chunk: Buffer): void {
    const buf = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    const last = buf.lastIndexOf(0x0a);
    if (last === -1) {
      this.carry = Buffer.from(buf); // the caller may reuse `chunk`
      return;
    }
    this.lines(buf.subarray(0, last + 1));
    this.carry = last + 1 < buf.length ? Buffer.from(buf.subarray(last + 1)) : EMPTY;
  }

  end(): void {
    if (this.carry.length === 0) return;
    const rest = this.carry;
    this.carry = EMPTY;
    if (!isUtf8(rest)) {
      this.onLine(null);
      return;
    }
    const line = trimCr(rest.toString('utf8'));
    if (line !== '') this.onLine(line);
  }

  /** `part` ends with `\n`. The whole-part check keeps the common (valid) case to one decode. */
  private lines(part: Buffer): void {
    if (isUtf8(part)) {
      const lines = part.toString('utf8').split('\n');
      lines.pop(); // after the final \n
      for (const line of lines) this.onLine(trimCr(line));
      return;
    }
    for (let start = 0; start < part.length; ) {
      const end = part.indexOf(0x0a, start);
      const line = part.subarray(start, end);
      this.onLine(isUtf8(line) ? trimCr(line.toString('utf8')) : null);
      start = end + 1;
    }
  }
}

function trimCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/** Splits a whole file into lines (see LineSplitter). */
export function splitLines(buf: Buffer): Line[] {
  const lines: Line[] = [];
  const splitter = new LineSplitter((line) => lines.push(line));
  splitter.push(buf);
  splitter.end();
  return lines;
}

/**
 * zsh stores bytes 0x83..0x9f (and NUL) as 0x83 followed by the byte xor 32 ("metafied"). This
 * undoes it piece by piece: a 0x83 at the end of one piece pairs with the first byte of the next
 * (a 0x83 that ends the file is dropped).
 */
export class Unmetafier {
  private pendingMeta = false;

  push(buf: Buffer): Buffer {
    let i = 0;
    let prefix: number | undefined;
    if (this.pendingMeta && buf.length > 0) {
      prefix = buf[0]! ^ 32;
      this.pendingMeta = false;
      i = 1;
    }
    let meta = buf.indexOf(0x83, i);
    if (meta === -1 && prefix === undefined) return buf;
    const out = Buffer.allocUnsafe(buf.length + 1);
    let o = 0;
    if (prefix !== undefined) out[o++] = prefix;
    while (meta !== -1) {
      o += buf.copy(out, o, i, meta);
      if (meta + 1 < buf.length) out[o++] = buf[meta + 1]! ^ 32;
      else this.pendingMeta = true;
      i = meta + 2;
      meta = i < buf.length ? buf.indexOf(0x83, i) : -1;
    }
    if (i < buf.length) o += buf.copy(out, o, i);
    return out.subarray(0, o);
  }
}

/** Undoes zsh's metafication of a whole file (see Unmetafier). */
export function unmetafy(buf: Buffer): Buffer {
  return new Unmetafier().push(buf);
}

const CHUNK = 64 * 1024;

/**
 * The first `size` bytes of `file`, 64 KiB at a time (one buffer, reused: use each piece before
 * asking for the next), so a history of any length is never held in memory. Small pieces also
 * keep memory flat: a line is a slice of its piece's string, and a line that lives on (into a
 * batch) keeps its whole piece alive until the next full garbage collection.
 */
export function* fileChunks(file: string, size: number): Generator<Buffer, void, undefined> {
  const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(size, 1)));
  const fd = openSync(file, 'r');
  try {
    for (let done = 0; done < size; ) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, size - done), done);
      if (n === 0) return; // shorter than when it was measured
      done += n;
      yield buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

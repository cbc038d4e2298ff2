/** Keeps the last `limit` characters of a stream of text, ANSI escapes removed. */
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|\r(?=\n)/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

export class BoundedText {
  private chunks: string[] = [];
  private length = 0;

  constructor(private readonly limit: number) {}

  append(text: string): void {
    if (this.limit <= 0 || text.length === 0) return;
    this.chunks.push(text);
    this.length += text.length;
    while (this.length - (this.chunks[0]?.length ?? 0) >= this.limit && this.chunks.length > 1) {
      this.length -= this.chunks.shift()!.length;
    }
  }

  text(): string {
    const joined = stripAnsi(this.chunks.join(''));
    return joined.length > this.limit ? joined.slice(joined.length - this.limit) : joined;
  }
}

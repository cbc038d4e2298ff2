import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../../node/core/store/store.ts';
import { importHistory } from '../../../node/shell/history-import/import.ts';
import {
  type Line,
  LineSplitter,
  splitLines,
  Unmetafier,
  unmetafy,
} from '../../../node/shell/history-import/lines.ts';
import { parseBash, parseZsh } from '../../../node/shell/history-import/parsers.ts';
import { tempDir } from '../../helpers/tmp.ts';

/** Every way a file can be cut: invalid UTF-8, CRLF, multi-byte characters, metafied bytes, no final newline. */
const TRICKY = Buffer.concat([
  Buffer.from('echo Ä\r\nplain\n\n'),
  Buffer.from([0x65, 0xff, 0x0a]), // "e", an invalid byte
  Buffer.from([0xc3, 0x83, 0xa4, 0x0a]), // "Ä" metafied by zsh
  Buffer.from('\u{1F600} emoji\r\n'),
  Buffer.from([0x83]), // a 0x83 pairs with the next byte, even across a piece
  Buffer.from('xy\nlast without newline\r'),
]);

function piecewise(buf: Buffer, size: number, zsh: boolean): Line[] {
  const lines: Line[] = [];
  const splitter = new LineSplitter((line) => lines.push(line));
  const unmeta = new Unmetafier();
  for (let at = 0; at < buf.length; at += size) {
    const piece = buf.subarray(at, at + size);
    splitter.push(zsh ? unmeta.push(piece) : piece);
  }
  splitter.end();
  return lines;
}

test('lines cut into pieces of any size are the lines of the whole file', () => {
  const whole = splitLines(TRICKY);
  const wholeZsh = splitLines(unmetafy(TRICKY));
  assert.equal(whole[0], 'echo Ä', 'one \\r removed');
  assert.equal(whole[3], null, 'invalid UTF-8 is null');
  assert.equal(whole.at(-1), 'last without newline');
  for (let size = 1; size <= TRICKY.length; size++) {
    assert.deepEqual(piecewise(TRICKY, size, false), whole, `pieces of ${size}`);
    assert.deepEqual(piecewise(TRICKY, size, true), wholeZsh, `zsh, pieces of ${size}`);
  }
});

test('a history much larger than one read (64 KiB) imports as if it had been read whole', async (t) => {
  const dir = tempDir(t);
  const zshLines: Buffer[] = [];
  const bashLines: string[] = [];
  for (let i = 0; i < 12_000; i++) {
    const text = i % 7 === 0 ? `echo Ä-${i} \u{1F600}` : `make target-${i} --jobs ${i % 9}`;
    if (i % 500 === 0) zshLines.push(Buffer.from([0x65, 0xff, 0x0a])); // malformed
    zshLines.push(
      Buffer.from(`: ${1_700_000_000 + i}:${i % 3};${text}${i % 11 === 0 ? '\\\nsecond line' : ''}\n`),
    );
    bashLines.push(i % 13 === 0 ? `#${1_700_000_000 + i}\n${text}\ncontinued` : text);
  }
  // metafy what zsh would: every 0x83..0x9f byte (the UTF-8 tails of Ä and the emoji)
  const raw = Buffer.concat(zshLines);
  const meta: number[] = [];
  for (const b of raw) {
    if (b >= 0x83 && b <= 0x9f) meta.push(0x83, b ^ 32);
    else meta.push(b);
  }
  const zsh = Buffer.from(meta);
  const bash = Buffer.from(`${bashLines.join('\n')}\n`);
  assert.ok(zsh.length > 4 * 64 * 1024 && bash.length > 4 * 64 * 1024);
  for (const [shell, buf, parse] of [
    ['zsh', zsh, parseZsh],
    ['bash', bash, parseBash],
  ] as const) {
    const file = join(dir, `${shell}_history`);
    writeFileSync(file, buf);
    const store = openStore(join(dir, `home-${shell}`));
    t.after(() => store.close());
    const summary = await importHistory(store, { shell, file });
    const whole = parse(buf);
    assert.equal(summary.malformed, whole.malformed, shell);
    assert.equal(summary.imported, whole.entries.length, shell);
    const stored = store.history.recent(100_000).reverse();
    assert.deepEqual(
      stored.map((r) => r.command),
      whole.entries.map((e) => e.command),
      `${shell}: every command, in order`,
    );
    if (shell === 'zsh') {
      assert.deepEqual(
        stored.map((r) => [r.ts, r.duration_ms]),
        whole.entries.map((e) => [e.tsSec! * 1000, e.durationMs]),
      );
      assert.ok(stored.some((r) => r.command.startsWith('echo Ä-7 \u{1F600}')));
    }
  }
});

import type { CommandOption } from './types.ts';

/** What /help needs of a registered command (kept apart from the registry to keep this pure). */
export interface HelpEntry {
  readonly kind: '/' | '!' | 'isaac';
  readonly name: string;
  readonly aliases: readonly string[];
  readonly usage: string;
  readonly summary: string;
  readonly options: readonly CommandOption[];
}

/** Where the right-hand column (what a command or option does) starts. */
const LEFT = 26;

const SECTIONS: readonly { kind: HelpEntry['kind']; title: string }[] = [
  { kind: '/', title: 'On this machine' },
  { kind: '!', title: 'On other machines of the network' },
  { kind: 'isaac', title: 'isaac words' },
];

const INTRO =
  'Lines starting with / are Isaac commands, ! go to other machines, isaac WORDS asks the AI, ' +
  'anything else runs in your shell. /help COMMAND shows one command.';

/** The whole /help text: every command with its options, no line wider than `width`. */
export function renderHelp(entries: readonly HelpEntry[], width = 80): string {
  const lines = wrap(INTRO, width);
  for (const section of SECTIONS) {
    lines.push('', `${section.title}:`);
    for (const entry of entries.filter((e) => e.kind === section.kind)) lines.push(...block(entry, width));
    if (section.kind === 'isaac') {
      lines.push(
        ...columns('  isaac WORDS...', 'anything else: ask the AI for a command or an answer', width),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** One command's block, for `/help COMMAND`. */
export function renderCommandHelp(entry: HelpEntry, width = 80): string {
  return `${block(entry, width).join('\n')}\n`;
}

/** The usage line with every option, for error hints: `/show history [n] [--machine M] [--json]`. */
export function synopsis(command: { usage: string; options?: readonly CommandOption[] }): string {
  return [command.usage, ...(command.options ?? []).map((o) => `[${o.flag}]`)].join(' ');
}

function block(entry: HelpEntry, width: number): string[] {
  const prefix = entry.kind === 'isaac' ? 'isaac ' : entry.kind;
  const also = entry.aliases.length > 0 ? ` (also ${entry.aliases.map((a) => prefix + a).join(', ')})` : '';
  const lines = columns(`  ${entry.usage}`, entry.summary + also, width);
  for (const option of entry.options) lines.push(...columns(`      ${option.flag}`, option.help, width));
  return lines;
}

/** A left cell and right text; the right text wraps within its column, or starts below a long left cell. */
function columns(left: string, right: string, width: number): string[] {
  const rightWidth = Math.max(20, width - LEFT);
  const text = wrap(right, rightWidth);
  const pad = ' '.repeat(LEFT);
  const out: string[] = [];
  if (left.length <= LEFT - 2) {
    out.push(`${left.padEnd(LEFT)}${text[0] ?? ''}`.trimEnd());
    text.shift();
  } else {
    const indent = ' '.repeat(left.length - left.trimStart().length);
    const body = wrap(left.trimStart(), width - indent.length - 2);
    out.push(...body.map((l, i) => `${indent}${i === 0 ? '' : '  '}${l}`));
  }
  for (const line of text) out.push(`${pad}${line}`);
  return out;
}

/** Greedy word wrap; a word longer than the width is cut. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (let word of text.split(/\s+/).filter(Boolean)) {
    while (word.length > width) {
      if (line) lines.push(line);
      lines.push(word.slice(0, width));
      word = word.slice(width);
      line = '';
    }
    if (line === '') line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * What a model's reply means for the shell: one command to propose, alternatives to choose from,
 * or an answer to show. `refused` says why a reply that looked like a proposal proposes nothing.
 */
export type Proposal =
  | { kind: 'command'; command: string; explanation: string }
  | { kind: 'choice'; commands: string[]; explanation: string }
  | { kind: 'answer'; text: string; refused?: string };

export const SHELL_FENCES = new Set(['', 'sh', 'bash', 'shell', 'zsh', 'console', 'shell-session', 'fish']);
/** A whole fenced block: opening line with its language, body, closing line. */
const FENCE = /^[ \t]*```([A-Za-z-]*)[^\n]*\n([\s\S]*?)^[ \t]*```[ \t]*$/gm;
const FENCE_LINE = /^[ \t]*```/gm;
/** A comment in a block that starts another way of doing it, not the next step. */
const ALTERNATIVE_MARK =
  /^#+\s*(?:option|alternative(?:ly)?|or\b|either\b|another\b|method\b|approach\b|variant\b|instead\b|\d+[.)])/i;

/**
 * Characters that change what a terminal shows without being shown: C0/C1 controls (escape
 * sequences, carriage return), DEL, zero-width and bidirectional marks. A command containing
 * any of them is never proposed: its text on screen could differ from what would run.
 */
const HIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;
const HIDDEN_ALL = new RegExp(HIDDEN.source, 'g');

/** Text as it may be written to a terminal: tab and newline kept, every other hidden character shown. */
export function visible(text: string): string {
  return text.replace(HIDDEN_ALL, (ch) => {
    const code = ch.charCodeAt(0);
    if (code < 0x20) return String.fromCharCode(0x2400 + code); // ␛ ␍ ␇ ...
    if (code === 0x7f) return '␡';
    return `<U+${code.toString(16).toUpperCase().padStart(4, '0')}>`;
  });
}

/**
 * Reads a reply robustly: a JSON object ({command} / {commands} / {answer}), else the closed
 * fenced shell blocks (one block is the command; several blocks, or options inside one block,
 * are alternatives), else plain text as the answer. `cutOff` (the provider stopped early) and an
 * unclosed fence propose nothing; neither does a command with hidden characters.
 */
export function parseProposal(reply: string, cutOff?: string): Proposal {
  const text = reply.trim();
  if (cutOff) return { kind: 'answer', text, refused: `the reply was cut off: ${cutOff}; nothing proposed` };
  const json = parseJsonReply(text);
  if (json) return checked(json, text);
  const fences = [...text.matchAll(FENCE)];
  const fenceLines = text.match(FENCE_LINE)?.length ?? 0;
  if (fenceLines !== fences.length * 2) {
    return {
      kind: 'answer',
      text,
      refused: 'the reply ended inside a code block (cut off?); nothing proposed',
    };
  }
  const shellBlocks = fences.filter((f) => SHELL_FENCES.has((f[1] ?? '').toLowerCase()));
  if (shellBlocks.length === 0) return { kind: 'answer', text };
  let explanation = text;
  for (const block of shellBlocks) explanation = explanation.replace(block[0], '\n');
  explanation = explanation.replace(/\n{3,}/g, '\n\n').trim();
  const commands = shellBlocks.flatMap((block) => alternativesIn(block[2] ?? ''));
  return checked(proposalOf(commands, explanation), text);
}

function proposalOf(commands: string[], explanation: string): Proposal {
  const unique = [...new Set(commands.filter(Boolean))];
  if (unique.length === 0) return { kind: 'answer', text: explanation };
  if (unique.length === 1) return { kind: 'command', command: unique[0]!, explanation };
  return { kind: 'choice', commands: unique, explanation };
}

/** A proposal whose command shows differently from how it runs becomes a refusal. */
function checked(proposal: Proposal, text: string): Proposal {
  const commands =
    proposal.kind === 'command' ? [proposal.command] : proposal.kind === 'choice' ? proposal.commands : [];
  const hidden = commands.find((c) => HIDDEN.test(c));
  if (hidden === undefined) return proposal;
  return {
    kind: 'answer',
    text,
    refused: `refused: the proposed command contains control characters, so what it shows is not what would run: ${visible(hidden)}`,
  };
}

function parseJsonReply(text: string): Proposal | undefined {
  const unfenced = text.replace(/^```json\s*\n([\s\S]*?)```$/i, '$1').trim();
  if (!unfenced.startsWith('{')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(unfenced);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const record = parsed as Record<string, unknown>;
  const explanation = typeof record.explanation === 'string' ? record.explanation.trim() : '';
  const listed = Array.isArray(record.commands)
    ? record.commands.filter((c): c is string => typeof c === 'string')
    : [];
  if (typeof record.command === 'string') listed.unshift(record.command);
  const commands = listed.flatMap(alternativesIn);
  if (commands.length > 0) return proposalOf(commands, explanation);
  if (typeof record.answer === 'string') return { kind: 'answer', text: record.answer.trim() };
  return undefined;
}

/**
 * The commands of one block. Lines of one way of doing it are steps, joined with && so the tiers
 * see them whole (and the screen shows exactly that line); a comment such as "# Option 2" or
 * "# or" starts another way, offered separately and never joined to the first.
 */
function alternativesIn(block: string): string[] {
  const groups: string[][] = [[]];
  let carry = '';
  for (const raw of block.split('\n')) {
    let line = raw.trim().replace(/^\$\s+/, '');
    if (!carry && ALTERNATIVE_MARK.test(line)) {
      if (groups.at(-1)!.length > 0) groups.push([]);
      continue;
    }
    if (!carry && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      carry += `${line.slice(0, -1).trim()} `;
      continue;
    }
    line = carry + line;
    carry = '';
    if (line.trim()) groups.at(-1)!.push(line.trim());
  }
  if (carry.trim()) groups.at(-1)!.push(carry.trim());
  return groups.filter((g) => g.length > 0).map((g) => g.join(' && '));
}

/** "command not found" (exit 127) or a usage complaint: worth asking for a fix. */
export function looksLikeUsageError(exitCode: number, output: string): boolean {
  if (exitCode === 0) return false;
  if (exitCode === 127) return true;
  return /command not found|usage:|invalid option|unrecognized option|unknown option|illegal option|unknown command|is not a .* command|missing operand|no such option/i.test(
    output.slice(-4000),
  );
}

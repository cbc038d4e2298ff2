/** What a model's reply means for the shell: a command to propose, or an answer to show. */
export type Proposal =
  | { kind: 'command'; command: string; explanation: string }
  | { kind: 'answer'; text: string };

const SHELL_FENCES = new Set(['', 'sh', 'bash', 'shell', 'zsh', 'console', 'shell-session', 'fish']);
const FENCE = /```([A-Za-z-]*)[^\n]*\n([\s\S]*?)(?:```|$)/;

/**
 * Reads a reply robustly: a JSON object ({command, explanation} or {answer}), else the first
 * fenced shell block as the command and the rest as its explanation, else plain text as the answer.
 * A "command" with control characters or nothing runnable is shown as text, never proposed.
 */
export function parseProposal(reply: string): Proposal {
  const text = reply.trim();
  const json = parseJsonReply(text);
  if (json) return json;
  const fence = FENCE.exec(text);
  if (fence && SHELL_FENCES.has((fence[1] ?? '').toLowerCase())) {
    const command = joinLines(fence[2] ?? '');
    const explanation = (text.slice(0, fence.index) + text.slice(fence.index + fence[0].length)).trim();
    if (command && isRunnable(command)) return { kind: 'command', command, explanation };
  }
  return { kind: 'answer', text };
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
  if (typeof record.command === 'string' && record.command.trim() && isRunnable(record.command.trim())) {
    return { kind: 'command', command: joinLines(record.command), explanation };
  }
  if (typeof record.answer === 'string') return { kind: 'answer', text: record.answer.trim() };
  return undefined;
}

/** One line: prompts (`$ `) and comments dropped, `\` continuations joined, several lines chained with &&. */
function joinLines(block: string): string {
  const lines: string[] = [];
  let carry = '';
  for (const raw of block.split('\n')) {
    let line = raw.trim().replace(/^\$\s+/, '');
    if (!carry && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      carry += `${line.slice(0, -1).trim()} `;
      continue;
    }
    line = carry + line;
    carry = '';
    if (line.trim()) lines.push(line.trim());
  }
  if (carry.trim()) lines.push(carry.trim());
  return lines.join(' && ');
}

function isRunnable(command: string): boolean {
  return !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(command);
}

/** "command not found" (exit 127) or a usage complaint: worth asking for a fix. */
export function looksLikeUsageError(exitCode: number, output: string): boolean {
  if (exitCode === 0) return false;
  if (exitCode === 127) return true;
  return /command not found|usage:|invalid option|unrecognized option|unknown option|illegal option|unknown command|is not a .* command|missing operand|no such option/i.test(
    output.slice(-4000),
  );
}

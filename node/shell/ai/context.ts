import { readFileSync } from 'node:fs';
import { arch, release, type } from 'node:os';
import { redactOutput, redactSecrets } from '../../core/store/redact.ts';
import type { ConfigSource } from './providers/index.ts';
import type { AiRepo, ContextCommand } from './store.ts';

/** Upper bound of the context block, whatever ai.context.size says. */
export const CONTEXT_CHAR_CAP = 12_000;
const COMMAND_CHAR_CAP = 240;
const FAILURE_OUTPUT_CAP = 2000;

export interface ContextInput {
  repo: AiRepo;
  config: ConfigSource;
  machineName: string;
  cwd: string;
  shell: string;
  os?: string;
  now?: number;
}

let cachedOs: string | undefined;

/** "Linux 6.1.0-18-amd64 x64 (Debian GNU/Linux 12 (bookworm))", read once. */
export function describeOs(): string {
  if (cachedOs !== undefined) return cachedOs;
  let distro = '';
  try {
    const match = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (match?.[1]) distro = ` (${match[1]})`;
  } catch {
    // not Linux, or no os-release: type and release are enough
  }
  cachedOs = `${type()} ${release()} ${arch()}${distro}`;
  return cachedOs;
}

/**
 * The context block of every system prompt, exactly as sent (and as `/show context` prints it):
 * this machine, then the newest commands of the chosen machines, newest last, bounded by
 * ai.context.size and CONTEXT_CHAR_CAP, redacted as a whole once more.
 */
export function buildContext(input: ContextInput): string {
  const size = input.config.number('ai.context.size');
  const machinesSetting = input.config.string('ai.context.machines');
  const machines =
    machinesSetting === 'all' || machinesSetting === '' ? undefined : machinesSetting.split(',');
  const header = `This machine: ${input.machineName} — OS ${input.os ?? describeOs()}, shell ${input.shell}, cwd ${input.cwd}`;
  const rows = input.repo.recentCommands(size, machines);
  const lines: string[] = [];
  let budget = CONTEXT_CHAR_CAP - header.length - 200 - FAILURE_OUTPUT_CAP - 2 * COMMAND_CHAR_CAP;
  for (const row of rows) {
    const line = formatCommand(row);
    if (line.length + 1 > budget) break;
    budget -= line.length + 1;
    lines.push(line);
  }
  lines.reverse();
  const scope = machines ? machines.join(', ') : 'all machines';
  const body =
    lines.length > 0
      ? `Recent commands on ${scope} (machine: command [cwd, exit code]), newest last:\n${lines.join('\n')}`
      : `No recent commands recorded on ${scope}.`;
  return redactSecrets(`${header}\n${body}${lastFailure(input)}`);
}

/** The output tail of this machine's last command when it failed: what "why did it fail" needs. */
function lastFailure(input: ContextInput): string {
  const last = input.repo.lastCommand(input.machineName);
  if (!last || last.exit === null || last.exit === 0 || !last.output?.trim()) return '';
  const output = redactOutput(last.output).trimEnd();
  const tail = output.length > FAILURE_OUTPUT_CAP ? `…${output.slice(-FAILURE_OUTPUT_CAP)}` : output;
  return `\nThe last command here failed (exit ${last.exit}): ${formatCommand(last)}\nIts output (the end):\n${tail}`;
}

function formatCommand(row: ContextCommand): string {
  const flat = row.command.replace(/\s*\n\s*/g, ' ⏎ ');
  const command = flat.length > COMMAND_CHAR_CAP ? `${flat.slice(0, COMMAND_CHAR_CAP)}…` : flat;
  const details = [row.cwd ?? '?', row.exit === null ? 'exit ?' : `exit ${row.exit}`].join(', ');
  return `${row.origin}: ${command}  [${details}]`;
}

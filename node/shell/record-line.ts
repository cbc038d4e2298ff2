import { splitArgs } from '../core/args.ts';
import { commandKind } from '../core/store/command-kind.ts';
import type { ShellHost } from './host.ts';

/**
 * Records a `/`, `!` or `isaac` line in history with its kind, status and duration, as the
 * executor records shell lines, so `/search --type slash|bang|ai` finds them and Up recalls
 * them. A command may give the line to store instead (`/set config` of an API key).
 */
export async function recordIsaacLine(
  host: ShellHost,
  line: string,
  exit: number,
  started: number,
): Promise<void> {
  const kind = commandKind(line);
  if (kind === 'shell' || /^\/(exit|quit)$/.test(line)) return;
  const command = line.startsWith('/') ? storedLine(line, await import('./commands/registry.ts')) : line;
  if (command === undefined) return;
  host.recorder.record(
    {
      command,
      exit,
      durationMs: Date.now() - started,
      session: host.sessionId,
      ts: started,
      source: host.interactive ? 'shell' : 'script',
      kind,
    },
    (warning) => host.io.err(warning),
  );
}

function storedLine(line: string, registry: typeof import('./commands/registry.ts')): string | undefined {
  const { findSlashCommand } = registry;
  try {
    const found = findSlashCommand(splitArgs(line.slice(1)));
    return found?.command.historyLine ? found.command.historyLine(found.args) : line;
  } catch {
    return line; // an unterminated quote: stored as typed (redacted at the store's door)
  }
}

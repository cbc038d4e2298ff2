import { EXIT } from '../../schemas/cli.ts';
import type { ShellHost } from './host.ts';
import type { RunResult } from './pty-session.ts';
import { classifyWithSettings } from './tier-settings.ts';

/** Exit status of a line Isaac refused to run (tier 4, or a declined/unanswerable confirmation). */
export const EXIT_REFUSED = EXIT.refused;

/**
 * A shell line's whole path: tier validation (with correction and confirmation), then the
 * persistent shell, then history. `record` is false for a line typed with a leading space.
 */
export async function executeShellLine(line: string, host: ShellHost, record: boolean): Promise<number> {
  const { io } = host;
  let toRun = line;
  const names = host.sessionNames?.() ?? new Set<string>();
  const aliases = host.sessionAliases?.();
  let verdict = classifyWithSettings(line, host.store, names, aliases);

  if (verdict.correction !== undefined && verdict.tier <= 2.5) {
    const corrected = verdict.correction;
    if (verdict.tier === 2) {
      io.err(`isaac: corrected to: ${corrected}\n`);
      toRun = corrected;
    } else if (await io.confirm(`isaac: did you mean: ${corrected} ?`)) {
      toRun = corrected;
    }
    if (toRun !== line) verdict = classifyWithSettings(toRun, host.store, names, aliases);
  }

  if (verdict.tier === 4) {
    io.err(`isaac: refused (tier 4, never runs): ${verdict.reason}\n`);
    return EXIT_REFUSED;
  }
  if (verdict.tier === 3) {
    io.err(`isaac: tier 3: ${verdict.reason}\n`);
    const review = host.reviewRisk
      ? await host.reviewRisk(toRun, verdict.reason).catch(() => undefined)
      : undefined;
    if (review) io.err(`${review.trimEnd()}\n`);
    if (!io.isTTY && !host.assumeYes) {
      io.err('isaac: refused: tier 3 needs a confirmation; run with --yes to allow it without a terminal\n');
      return EXIT_REFUSED;
    }
    if (!(await io.confirm(`Run \`${toRun}\`?`))) {
      io.err('isaac: not run\n');
      return EXIT_REFUSED;
    }
  }
  const result = await runInShell(toRun, host, record);
  if (result.exit !== 0 && host.suggestFix) await offerFix(toRun, result.exit, result.output, host);
  return result.exit;
}

/** Shows the AI's fix for a failed line; it runs only if the user says so, through the tiers again. */
async function offerFix(line: string, exit: number, output: string, host: ShellHost): Promise<void> {
  const fix = await host.suggestFix?.(line, exit, output).catch(() => undefined);
  if (!fix || fix.trim() === line.trim()) return;
  host.io.err(`isaac: AI suggests: ${fix}\n`);
  if (host.interactive && (await host.io.confirm('Run it?'))) {
    await executeShellLine(fix, host, true);
  }
}

async function runInShell(line: string, host: ShellHost, record: boolean): Promise<RunResult> {
  const session = await host.shell();
  const cwdBefore = session.cwd;
  const started = Date.now();
  host.beforeCommand?.(session);
  let result: RunResult;
  try {
    result = await session.run(line, {
      stdinNull: !host.interactive,
      onOutput: (text) => host.io.out(text),
    });
  } finally {
    host.afterCommand?.(session);
  }
  if (record) {
    host.recorder.record(
      {
        command: line,
        output: result.output,
        cwd: cwdBefore,
        exit: result.exit,
        durationMs: result.durationMs,
        session: host.sessionId,
        ts: started,
        source: host.interactive ? 'shell' : 'script',
      },
      (warning) => host.io.err(warning),
    );
  }
  return result;
}

import { type Logger, pino } from 'pino';

/**
 * A real pino logger whose records land in `lines` as their message text (the readable line a
 * user would see), for tests that check what the daemon logged.
 */
export function captureLogger(level = 'debug'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino(
    { level },
    {
      write(record: string) {
        const parsed = JSON.parse(record) as { msg?: unknown };
        lines.push(String(parsed.msg ?? ''));
      },
    },
  );
  return { logger, lines };
}

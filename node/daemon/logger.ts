import { type Logger, pino } from 'pino';
import pretty from 'pino-pretty';
import { UsageError } from '../../schemas/errors.ts';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

/** The level: `--log-level` when given, else config `node.log_level`, else info. */
export function resolveLogLevel(flag: unknown, configured: string | undefined): LogLevel {
  if (flag !== undefined) {
    if (isLogLevel(flag)) return flag;
    throw new UsageError(`invalid --log-level ${JSON.stringify(flag)}`, {
      hint: `use one of: ${LOG_LEVELS.join(', ')}`,
    });
  }
  return isLogLevel(configured) ? configured : DEFAULT_LOG_LEVEL;
}

/** The components that log under their own name (`component` field; prefix in readable lines). */
export type Component = 'bus' | 'intake' | 'exec' | 'sync' | 'ipc' | 'ha' | 'rotation' | 'adoption';

/**
 * isaac-node's logger on stderr (systemd's journal, a terminal): readable lines when stderr is a
 * terminal, one JSON object per line otherwise (what journald and log shippers want). Writes are
 * synchronous: the daemon logs little, and a line must not be lost when it is killed.
 */
export function daemonLogger(
  level: LogLevel,
  output: { fd: number; isTTY: boolean } = { fd: 2, isTTY: process.stderr.isTTY === true },
): Logger {
  if (output.isTTY) {
    return pino(
      { level },
      pretty({
        destination: output.fd,
        sync: true,
        colorize: true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname,component',
        messageFormat: (log, key) =>
          typeof log.component === 'string' ? `${log.component}: ${String(log[key])}` : String(log[key]),
      }),
    );
  }
  return pino({ level, base: { pid: process.pid } }, pino.destination({ dest: output.fd, sync: true }));
}

export function componentLogger(root: Logger, component: Component): Logger {
  return root.child({ component });
}

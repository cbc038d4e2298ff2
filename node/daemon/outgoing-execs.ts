import { errorLine } from '../../schemas/errors.ts';
import type { ExecResult, MessageBodies } from '../../schemas/messages.ts';
import type { ExecEvent, QueuedWhy } from '../ipc/protocol.ts';
import { idHex, type Opened } from './bus/envelope-port.ts';
import { resolveTargets } from './bus/targets.ts';

export const DEFAULT_EXEC_TTL_MS = 10 * 60 * 1000;
const KEPT_OUTPUT = 16 * 1024;

interface OutgoingExec {
  target: string;
  cmd: string;
  /** set while a shell waits for this target live; unset, the result becomes a notification */
  emit?: (event: ExecEvent) => void;
  /** output kept for the notification when nobody waits live */
  output: string;
  /** the sender cancelled it (Ctrl-C): what still comes back is dropped */
  cancelled?: boolean;
}

export interface OutgoingExecsDeps {
  enqueueExec(target: string, body: MessageBodies['exec'], exp: number): Uint8Array;
  /** `exp` is the exec's: a cancel must outlive the exec it stops (a target that was offline). */
  enqueueCancel(target: string, corr: Uint8Array, exp: number): void;
  isOnline(target: string): boolean;
  /** why a request for `target` waits (offline target, broker unreachable, login refused) */
  queuedWhy?(target: string): { why: QueuedWhy; detail?: string } | undefined;
  members(): string[];
  defaultTimeoutMs(): number;
}

/** This machine's !exec requests in flight, matched to their chunks and results by `corr`. */
export class OutgoingExecs {
  private readonly execs = new Map<string, OutgoingExec>();

  constructor(private readonly d: OutgoingExecsDeps) {}

  /** Sends `cmd` to every target of `spec`; events stream to `emit`. Returns a cancel function. */
  start(
    spec: string,
    cmd: string,
    options: { timeoutMs?: number; ttlMs?: number },
    emit: (event: ExecEvent) => void,
  ): () => void {
    let targets: string[];
    try {
      targets = resolveTargets(spec, this.d.members());
    } catch (err) {
      emit({ event: 'error', message: errorLine(err) });
      emit({ event: 'done' });
      return () => {};
    }
    const timeoutMs = options.timeoutMs ?? this.d.defaultTimeoutMs();
    const exp = Date.now() + (options.ttlMs ?? DEFAULT_EXEC_TTL_MS);
    const waiting = new Set<string>();
    const sent: { target: string; corr: Uint8Array }[] = [];
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      emit({ event: 'done' });
    };
    for (const target of targets) {
      try {
        const id = this.d.enqueueExec(target, { cmd, timeoutMs, stream: true }, exp);
        const online = this.d.isOnline(target);
        sent.push({ target, corr: id });
        const entry: OutgoingExec = { target, cmd, output: '' };
        this.execs.set(idHex(id), entry);
        emit(
          online
            ? { event: 'sent', target, online }
            : { event: 'queued', target, ...this.d.queuedWhy?.(target) },
        );
        if (!online) continue; // the result arrives later, as a notification
        waiting.add(target);
        entry.emit = (event) => {
          emit(event);
          if (event.event !== 'result') return;
          entry.emit = undefined;
          waiting.delete(target);
          if (waiting.size === 0) finish();
        };
      } catch (err) {
        emit({ event: 'error', target, message: errorLine(err) });
      }
    }
    if (waiting.size === 0) finish();
    return () => {
      this.cancel(sent, exp, emit);
      finish();
    };
  }

  /**
   * Ctrl-C: every target that has not answered gets a cancel, the queued ones too (the cancel
   * travels behind the exec on the same inbox, or keeps it from running when it gets there first).
   */
  private cancel(
    sent: readonly { target: string; corr: Uint8Array }[],
    exp: number,
    emit: (e: ExecEvent) => void,
  ): void {
    for (const { target, corr } of sent) {
      const entry = this.execs.get(idHex(corr));
      if (!entry || entry.cancelled) continue;
      entry.cancelled = true;
      entry.emit = undefined;
      try {
        this.d.enqueueCancel(target, corr, exp);
      } catch (err) {
        emit({ event: 'error', target, message: `could not cancel: ${errorLine(err)}` });
      }
    }
  }

  /** A request sent without a waiting shell (queued while no daemon ran). */
  track(id: Uint8Array, target: string, cmd: string): void {
    this.execs.set(idHex(id), { target, cmd, output: '' });
  }

  private entryFor(env: Opened<'exec-chunk'> | Opened<'exec-result'>): OutgoingExec | undefined {
    const entry = env.corr ? this.execs.get(idHex(env.corr)) : undefined;
    return entry && entry.target === env.from ? entry : undefined;
  }

  /** Inside the seen-id transaction: the text to keep in `messages`, or undefined when a shell waits. */
  lateResultText(env: Opened<'exec-result'>): string | undefined {
    const entry = this.entryFor(env);
    if (entry?.emit || entry?.cancelled) return undefined;
    return resultText(entry, env.body);
  }

  onChunk(env: Opened<'exec-chunk'>): void {
    const entry = this.entryFor(env);
    if (!entry || entry.cancelled) return;
    const chunk = env.body;
    if (entry.emit) entry.emit({ event: 'chunk', target: env.from, stream: chunk.stream, data: chunk.data });
    else if (entry.output.length < KEPT_OUTPUT) entry.output += chunk.data;
  }

  /** After commit: streams the result to a waiting shell, else returns the notification text. */
  onResult(env: Opened<'exec-result'>): string | undefined {
    const entry = this.entryFor(env);
    const body = env.body;
    if (entry && env.corr) this.execs.delete(idHex(env.corr));
    if (entry?.cancelled) return undefined;
    if (!entry?.emit) return resultText(entry, body);
    entry.emit({
      event: 'result',
      target: env.from,
      exit: body.exit,
      durationMs: body.durationMs,
      ...(body.error ? { error: body.error } : {}),
      ...(body.refused ? { refused: body.refused } : {}),
    });
    return undefined;
  }
}

function resultText(entry: OutgoingExec | undefined, body: ExecResult): string {
  const what = entry ? `!exec ${entry.cmd}` : '!exec';
  if (body.refused) return `${what}: refused: ${body.refused.reason}`;
  const tail = entry?.output ? `\n${entry.output.trimEnd()}` : '';
  return `${what}: exit ${body.exit}${body.error ? ` (${body.error})` : ''}${tail}`;
}

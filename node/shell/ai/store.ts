import type { AiRecord } from '../../core/store/ai-history.ts';
import type { Db } from '../../core/store/db.ts';
import { redactSecrets } from '../../core/store/redact.ts';

export type PendingKind = 'ask' | 'explain' | 'fix' | 'review';

export interface PendingQuestion {
  id: number;
  kind: PendingKind;
  question: string;
  /** The context block as it was when the question was asked (null: queued before it was kept). */
  context: string | null;
  created_at: number;
  attempts: number;
  last_error: string | null;
}

/** One AI question and its outcome (node/core/store/ai-history.ts keeps them, every machine's). */
export type AiHistoryEntry = AiRecord;

export interface ContextCommand {
  origin: string;
  ts: number;
  command: string;
  cwd: string | null;
  exit: number | null;
}

/**
 * The AI's tables: `pending_ai` (offline queue), the `messages` rows that deliver queued answers, and the indexed read of recent commands.
 * Everything written here is redacted first.
 */
export class AiRepo {
  private readonly recentAll;
  private readonly recentOne;
  private readonly isSetStmt;

  constructor(private readonly db: Db) {
    // both walk an index backwards (commands_ts / commands_origin_ts; rowid breaks ties)
    this.recentAll = db.prepare<[number], ContextCommand>(
      'SELECT origin, ts, command, cwd, exit FROM commands ORDER BY ts DESC, id DESC LIMIT ?',
    );
    this.recentOne = db.prepare<[string, number], ContextCommand>(
      'SELECT origin, ts, command, cwd, exit FROM commands WHERE origin = ? ORDER BY ts DESC, id DESC LIMIT ?',
    );
    this.isSetStmt = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM config WHERE key = ?');
  }

  /** Newest first; `machines` limits the origins (each read through its own index). */
  recentCommands(limit: number, machines?: readonly string[]): ContextCommand[] {
    if (limit <= 0) return [];
    if (!machines) return this.recentAll.all(limit);
    const merged = machines.flatMap((m) => this.recentOne.all(m, limit));
    merged.sort((a, b) => b.ts - a.ts);
    return merged.slice(0, limit);
  }

  /** This machine's newest command with its (stored, redacted) output. */
  lastCommand(origin: string): (ContextCommand & { output: string | null }) | undefined {
    return this.db
      .prepare<[string], ContextCommand & { output: string | null }>(
        'SELECT origin, ts, command, cwd, exit, output FROM commands WHERE origin = ? ORDER BY ts DESC, id DESC LIMIT 1',
      )
      .get(origin);
  }

  isConfigSet(key: string): boolean {
    return this.isSetStmt.get(key) !== undefined;
  }

  enqueue(kind: PendingKind, question: string, context: string, now: number): number {
    return Number(
      this.db
        .prepare('INSERT INTO pending_ai(kind, question, context, created_at) VALUES (?, ?, ?, ?)')
        .run(kind, redactSecrets(question), redactSecrets(context), now).lastInsertRowid,
    );
  }

  pending(limit = 100): PendingQuestion[] {
    return this.db
      .prepare<[number], PendingQuestion>(
        'SELECT id, kind, question, context, created_at, attempts, last_error FROM pending_ai ORDER BY id LIMIT ?',
      )
      .all(limit);
  }

  pendingCount(): number {
    return this.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM pending_ai').get()!.n;
  }

  noteFailure(id: number, error: string): void {
    this.db
      .prepare('UPDATE pending_ai SET attempts = attempts + 1, last_error = ? WHERE id = ?')
      .run(redactSecrets(error).slice(0, 500), id);
  }

  /**
   * Removes the queued question and stores its answer as an incoming message, in one
   * transaction: only the caller whose delete took the row delivers, so an answer arrives once.
   */
  deliver(id: number, body: string, now: number): boolean {
    return this.db
      .transaction(() => {
        if (this.db.prepare('DELETE FROM pending_ai WHERE id = ?').run(id).changes !== 1) return false;
        this.db
          .prepare(
            "INSERT INTO messages(direction, peer, kind, body, ts, shown) VALUES ('in', 'ai', 'ai-answer', ?, ?, 0)",
          )
          .run(redactSecrets(body), now);
        return true;
      })
      .immediate();
  }

  /** Delivered AI answers (what `/show messages` lists for peer `ai`), oldest first. */
  answers(): { id: number; body: string; ts: number; shown: number }[] {
    return this.db
      .prepare<[], { id: number; body: string; ts: number; shown: number }>(
        "SELECT id, body, ts, shown FROM messages WHERE kind = 'ai-answer' ORDER BY id",
      )
      .all();
  }
}

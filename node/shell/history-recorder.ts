import { errorLine } from '../../schemas/errors.ts';
import { paths } from '../core/paths.ts';
import { isCorruption, markForCheck } from '../core/store/damaged.ts';
import type { NewCommand } from '../core/store/history.ts';
import { openStore, type Store } from '../core/store/store.ts';
import { isWriteFailure, writeFailureReason } from '../core/store/unwritable.ts';

/** Lines held in memory while the database cannot be written; the oldest go first beyond this. */
const HELD_LIMIT = 1000;

/**
 * Writes shell history without ever standing between the user and their command. When the store
 * cannot write (disk full, read-only, locked) the line is held in memory, one line says so, and
 * every later command tries again; the held lines are written as soon as the database takes them.
 */
export class HistoryRecorder {
  private readonly held: NewCommand[] = [];
  private failing = false;
  /** The store written to: the shell's own, or the real file re-opened after starting from a copy. */
  private target: Store | undefined;

  constructor(
    private readonly store: Store,
    /** The shell's store is only an in-memory copy: the real file is opened when it can be. */
    storeIsCopy = false,
  ) {
    if (!storeIsCopy) this.target = store;
  }

  /** Records `entry` (or holds it); `warn` shows the one line when recording stops or resumes. */
  record(entry: NewCommand, warn: (line: string) => void): void {
    if (this.recordingOff()) return;
    this.held.push(entry);
    if (this.held.length > HELD_LIMIT) this.held.shift();
    this.flush(warn);
  }

  /** Lines not yet written to the database. */
  get pending(): number {
    return this.held.length;
  }

  close(): void {
    if (this.target && this.target !== this.store) this.target.close();
  }

  private recordingOff(): boolean {
    try {
      return !this.store.config.bool('history.record');
    } catch {
      return false; // an unreadable setting must not stop the command; flush reports the store
    }
  }

  private flush(warn: (line: string) => void): void {
    try {
      this.target ??= openStore(this.store.home);
      const target = this.target;
      target.db.transaction(() => {
        for (const entry of this.held) target.history.record(entry);
      })();
    } catch (err) {
      const damaged = isCorruption(err);
      if (!damaged && !isWriteFailure(err)) throw err;
      if (damaged) markForCheck(paths.database(this.store.home));
      if (!this.failing) {
        const reason = damaged
          ? 'the database is damaged (it is repaired when isaac next starts)'
          : writeFailureReason(err, this.store.home);
        warn(
          `isaac: history is not being recorded: ${reason} (${paths.database(this.store.home)}: ${errorLine(err)}); ` +
            'commands still run, and recording resumes by itself when it can\n',
        );
      }
      this.failing = true;
      return;
    }
    const saved = this.held.length;
    this.held.length = 0;
    if (this.failing) {
      this.failing = false;
      warn(`isaac: history is being recorded again (${saved} held line${saved === 1 ? '' : 's'} saved)\n`);
    }
  }
}

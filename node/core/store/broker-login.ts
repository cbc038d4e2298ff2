import type { Db } from './db.ts';

/** How the broker last answered this machine's login, when it refused (migration 9). */
export type LoginRefusalState = 'revoked' | 'refused' | 'unavailable';

export interface BrokerLoginRow {
  state: LoginRefusalState;
  /** the CONNACK return code */
  code: number;
  broker: string | null;
  /** first refusal of this kind in a row, ms */
  since: number;
  /** latest refusal, ms */
  last_at: number;
}

/**
 * The `broker_login` row: written by isaac-node on every refused login, removed by the next
 * accepted one; read by `/show status`, `isaac-node status` and the `!` commands.
 */
export class BrokerLoginRepo {
  constructor(private readonly db: Db) {}

  get(): BrokerLoginRow | undefined {
    return this.db
      .prepare<[], BrokerLoginRow>(
        'SELECT state, code, broker, since, last_at FROM broker_login WHERE id = 1',
      )
      .get();
  }

  /** Records a refusal; `since` stays while the broker keeps answering the same way. */
  refused(state: LoginRefusalState, code: number, broker: string, nowMs = Date.now()): void {
    this.db
      .prepare(
        `INSERT INTO broker_login(id, state, code, broker, since, last_at) VALUES (1, @state, @code, @broker, @now, @now)
         ON CONFLICT(id) DO UPDATE SET
           since = CASE WHEN broker_login.state = excluded.state AND broker_login.code = excluded.code
                        THEN broker_login.since ELSE excluded.since END,
           state = excluded.state, code = excluded.code, broker = excluded.broker, last_at = excluded.last_at`,
      )
      .run({ state, code, broker, now: nowMs });
  }

  /** A login was accepted: nothing to report any more. */
  accepted(): void {
    this.db.prepare('DELETE FROM broker_login WHERE id = 1').run();
  }
}

/** Prepared statements of the SQLite persistence, in one place so the SQL can be read at once. */
import type Database from 'better-sqlite3';

export function prepareStatements(db: Database.Database) {
  const q = (sql: string) => db.prepare(sql);
  return {
    allRetained: q('SELECT topic, packet FROM retained'),
    putRetained: q('INSERT OR REPLACE INTO retained (topic, packet) VALUES (?, ?)'),
    deleteRetained: q('DELETE FROM retained WHERE topic = ?'),

    allSubscriptions: q('SELECT client_id, topic, record FROM subscriptions ORDER BY rowid'),
    putSubscription: q('INSERT OR REPLACE INTO subscriptions (client_id, topic, record) VALUES (?, ?, ?)'),
    deleteSubscription: q('DELETE FROM subscriptions WHERE client_id = ? AND topic = ?'),
    deleteSubscriptionsOf: q('DELETE FROM subscriptions WHERE client_id = ?'),

    queueDepths: q('SELECT client_id, COUNT(*) AS n FROM outgoing GROUP BY client_id'),
    maxCounter: q('SELECT MAX(broker_counter) AS m FROM outgoing WHERE broker_id = ?'),
    enqueue: q(
      'INSERT INTO outgoing (client_id, broker_id, broker_counter, message_id, packet) VALUES (?, ?, ?, ?, ?)',
    ),
    findByCounter: q(
      `SELECT seq, broker_id FROM outgoing
        WHERE client_id = ? AND broker_id IS ? AND broker_counter IS ? ORDER BY seq LIMIT 1`,
    ),
    replaceQueued: q(
      'UPDATE outgoing SET broker_id = ?, broker_counter = ?, message_id = ?, packet = ? WHERE seq = ?',
    ),
    getQueued: q('SELECT seq, message_id, packet FROM outgoing WHERE seq = ?'),
    storedMessageIds: q('SELECT seq, client_id, message_id FROM outgoing WHERE message_id IS NOT NULL'),
    deleteQueued: q('DELETE FROM outgoing WHERE seq = ?'),
    deleteQueueOf: q('DELETE FROM outgoing WHERE client_id = ?'),
    lastSeqOf: q('SELECT MAX(seq) AS m FROM outgoing WHERE client_id = ?'),
    queuePage: q(
      `SELECT seq, message_id, packet FROM outgoing
        WHERE client_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?`,
    ),

    putIncoming: q('INSERT OR REPLACE INTO incoming (client_id, message_id, packet) VALUES (?, ?, ?)'),
    getIncoming: q('SELECT packet FROM incoming WHERE client_id = ? AND message_id = ?'),
    deleteIncoming: q('DELETE FROM incoming WHERE client_id = ? AND message_id = ?'),
    deleteIncomingOf: q('DELETE FROM incoming WHERE client_id = ?'),

    putWill: q('INSERT OR REPLACE INTO wills (client_id, broker_id, packet) VALUES (?, ?, ?)'),
    getWill: q('SELECT packet FROM wills WHERE client_id = ?'),
    deleteWill: q('DELETE FROM wills WHERE client_id = ?'),
    allWills: q('SELECT broker_id, packet FROM wills'),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;

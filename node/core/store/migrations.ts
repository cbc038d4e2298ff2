/**
 * Numbered, append-only migrations. Never edit a shipped entry; add a new one at the end.
 * `PRAGMA user_version` records how many have run.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial tables of DESIGN.md',
    sql: `
      CREATE TABLE commands (
        id          INTEGER PRIMARY KEY,
        origin      TEXT    NOT NULL,          -- machine whose immutable series this record belongs to
        seq         INTEGER NOT NULL,          -- position in that series, from 1
        ts          INTEGER NOT NULL,          -- ms since epoch when the command started
        command     TEXT    NOT NULL,          -- already redacted
        output      TEXT,                      -- bounded, redacted copy of the output
        cwd         TEXT,
        exit        INTEGER,
        duration_ms INTEGER,
        session     TEXT,
        machine_id  TEXT,                      -- where it ran (= origin, kept for the seed schema)
        source      TEXT    NOT NULL DEFAULT 'shell', -- shell | import | remote:<sender> | script
        import_key  TEXT,                      -- dedupe key of imported history lines
        synced      INTEGER NOT NULL DEFAULT 0,
        UNIQUE (origin, seq)
      );
      CREATE UNIQUE INDEX commands_import_key ON commands(import_key) WHERE import_key IS NOT NULL;
      CREATE INDEX commands_ts ON commands(ts);
      CREATE INDEX commands_origin_ts ON commands(origin, ts);

      CREATE VIRTUAL TABLE commands_fts USING fts5(
        command, output, content='commands', content_rowid='id', prefix='2 3'
      );
      CREATE TRIGGER commands_ai AFTER INSERT ON commands BEGIN
        INSERT INTO commands_fts(rowid, command, output) VALUES (new.id, new.command, new.output);
      END;
      CREATE TRIGGER commands_ad AFTER DELETE ON commands BEGIN
        INSERT INTO commands_fts(commands_fts, rowid, command, output) VALUES ('delete', old.id, old.command, old.output);
      END;
      CREATE TRIGGER commands_au AFTER UPDATE OF command, output ON commands BEGIN
        INSERT INTO commands_fts(commands_fts, rowid, command, output) VALUES ('delete', old.id, old.command, old.output);
        INSERT INTO commands_fts(rowid, command, output) VALUES (new.id, new.command, new.output);
      END;

      CREATE TABLE config (
        key        TEXT PRIMARY KEY,
        value      TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      );

      CREATE TABLE machines (
        id         INTEGER PRIMARY KEY,
        name       TEXT NOT NULL UNIQUE,
        ip_address TEXT,
        last_seen  INTEGER,
        status     TEXT NOT NULL DEFAULT 'unknown',  -- online | offline | unknown | revoked
        sign_pk    BLOB,
        box_pk     BLOB,
        version    TEXT,
        hostname   TEXT,
        os         TEXT,
        added      INTEGER,
        revoked    INTEGER                           -- ms since epoch, NULL while a member
      );

      CREATE TABLE outbox (
        id         BLOB PRIMARY KEY,                 -- envelope id (16 bytes)
        topic      TEXT NOT NULL,
        payload    BLOB NOT NULL,                    -- sealed envelope, ready to publish
        kind       TEXT NOT NULL,                    -- exec | msg | history | reply | ...
        peer       TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        attempts   INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX outbox_created ON outbox(created_at);

      CREATE TABLE messages (
        id         INTEGER PRIMARY KEY,
        envelope_id BLOB UNIQUE,
        direction  TEXT NOT NULL,                    -- in | out
        peer       TEXT NOT NULL,
        kind       TEXT NOT NULL,                    -- msg | exec-result | ai-answer | notice
        body       TEXT NOT NULL,
        ts         INTEGER NOT NULL,
        shown      INTEGER NOT NULL DEFAULT 0        -- 1 once displayed at a prompt
      );

      CREATE TABLE pending_ai (
        id         INTEGER PRIMARY KEY,
        kind       TEXT NOT NULL,                    -- ask | explain | fix | review
        question   TEXT NOT NULL,                    -- redacted
        created_at INTEGER NOT NULL,
        attempts   INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
      );

      CREATE TABLE ai_history (
        id         INTEGER PRIMARY KEY,
        ts         INTEGER NOT NULL,
        kind       TEXT NOT NULL,
        provider   TEXT,
        model      TEXT,
        question   TEXT NOT NULL,
        answer     TEXT,
        command    TEXT,                             -- proposed command, if any
        error      TEXT
      );

      CREATE TABLE seen_ids (
        id         BLOB PRIMARY KEY,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX seen_ids_expires ON seen_ids(expires_at);

      CREATE TABLE sync_state (
        peer       TEXT NOT NULL,
        origin     TEXT NOT NULL,
        max_seq    INTEGER NOT NULL DEFAULT 0,       -- highest seq of origin acknowledged by peer
        last_sync  INTEGER,
        PRIMARY KEY (peer, origin)
      );

      CREATE TABLE tombstones (
        origin     TEXT NOT NULL,
        seq        INTEGER NOT NULL,
        deleted_at INTEGER NOT NULL,
        deleted_by TEXT NOT NULL,
        PRIMARY KEY (origin, seq)
      );
    `,
  },
  {
    version: 2,
    name: 'covering index for search filters',
    // /search filters each FTS match by origin/exit/ts; reading them from this narrow index
    // instead of the wide table rows halves the cost of a filtered search over a large history.
    sql: 'CREATE INDEX commands_search_filter ON commands(id, origin, exit, ts);',
  },
  {
    version: 3,
    name: 'pending requests get their own table (were unsealed "pending:" rows in the outbox)',
    // The outbox holds only sealed envelopes from here on; requests a shell queued while no
    // isaac-node ran move over with their JSON, target and times, oldest first.
    sql: `
      CREATE TABLE IF NOT EXISTS pending_requests (
        id         INTEGER PRIMARY KEY,
        op         TEXT    NOT NULL,                 -- exec | msg
        target     TEXT    NOT NULL,                 -- the target spec typed (exec) or the machine (msg)
        request    TEXT    NOT NULL,                 -- the request as JSON (node/core/store/pending.ts)
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      INSERT INTO pending_requests(op, target, request, created_at, expires_at)
        SELECT substr(kind, 9), peer, CAST(payload AS TEXT), created_at, expires_at
        FROM outbox WHERE kind LIKE 'pending:%' ORDER BY created_at, rowid;
      DELETE FROM outbox WHERE kind LIKE 'pending:%';
    `,
  },
  {
    version: 4,
    name: 'queued AI questions keep their context',
    // a queued question is answered with what the machines looked like when it was asked
    sql: 'ALTER TABLE pending_ai ADD COLUMN context TEXT;',
  },
  {
    version: 5,
    name: 'kind of each command record (shell, slash, bang, ai, remote) for /search --type',
    // isaac_command_kind() is commandKind() (command-kind.ts), registered by migrate(). Rows it
    // leaves alone are shell commands; peers derive the kind of what they receive the same way.
    sql: `
      ALTER TABLE commands ADD COLUMN kind TEXT NOT NULL DEFAULT 'shell';
      UPDATE commands SET kind = isaac_command_kind(command, source)
        WHERE source GLOB 'remote:*' OR ltrim(command) GLOB '[/!]*' OR ltrim(command) GLOB 'isaac*';
      `,
  },
  {
    version: 6,
    name: 'admin machines and the invites members have seen used',
    // admin: the roster entry says the machine holds the network key (it may invite, revoke,
    // rotate and delete others' history). roster_invites: one enrollment per invite, as members
    // see it (an invite nonce seen with one machine's keys is refused with any other keys).
    sql: `
      ALTER TABLE machines ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;
      CREATE TABLE roster_invites (
        nonce    BLOB PRIMARY KEY,
        name     TEXT NOT NULL,
        sign_pk  BLOB NOT NULL,
        seen_at  INTEGER NOT NULL
      );
    `,
  },
  {
    version: 7,
    name: 'AI history records are a series per origin machine, synced like commands',
    // isaac_machine_name() is machineNameFrom() (machine-name.ts), registered by migrate(): the
    // questions asked here so far are this machine's series, numbered in the order they were asked.
    sql: `
      ALTER TABLE ai_history ADD COLUMN origin TEXT NOT NULL DEFAULT '';
      ALTER TABLE ai_history ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
      UPDATE ai_history SET
        origin = isaac_machine_name((SELECT value FROM config WHERE key = 'machine.name')),
        seq = (SELECT COUNT(*) FROM ai_history h WHERE h.id <= ai_history.id);
      CREATE UNIQUE INDEX IF NOT EXISTS ai_history_series ON ai_history(origin, seq);
      CREATE INDEX IF NOT EXISTS ai_history_ts ON ai_history(ts);
      CREATE TABLE IF NOT EXISTS ai_tombstones (
        origin     TEXT NOT NULL,
        seq        INTEGER NOT NULL,
        deleted_at INTEGER NOT NULL,
        deleted_by TEXT NOT NULL,
        PRIMARY KEY (origin, seq)
      );
    `,
  },
  {
    version: 9,
    name: 'who revoked a machine, and how the broker last answered this machine',
    // revoked_by: the admin named in the signed revoked roster entry. broker_login: one row, the
    // broker's last refusal of this machine's login (CONNACK code, since when), kept until a
    // login succeeds, so `/show status`, `isaac-node status` and `!` commands can say why
    // nothing gets through, also while isaac-node is not running.
    sql: `
      ALTER TABLE machines ADD COLUMN revoked_by TEXT;
      CREATE TABLE broker_login (
        id       INTEGER PRIMARY KEY CHECK (id = 1),
        state    TEXT    NOT NULL,              -- revoked | refused | unavailable
        code     INTEGER NOT NULL,              -- the CONNACK return code
        broker   TEXT,                          -- the URL that answered
        since    INTEGER NOT NULL,              -- ms: first refusal of this kind in a row
        last_at  INTEGER NOT NULL               -- ms: the latest one
      );
    `,
  },
];

package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migration takes the schema from one version to the next. Its SQL runs in
// one transaction together with the new version number, so a database is
// always at exactly one version.
type migration struct {
	name string
	sql  string
}

// migrations[i] takes a database from version i to version i+1; the
// version is SQLite's user_version (0 for a new file). To change the
// schema, append a migration (never edit one that has shipped) and give
// the migration test a seed for the version it starts from.
var migrations = []migration{
	{name: "conversations, messages, turns with their timelines, full-text search, prompt history", sql: schemaV1},
	{name: "picks of comparisons, for the leaderboard", sql: schemaV2},
	{name: "comparisons grouping their columns' conversations", sql: schemaV3},
}

// SchemaVersion is the schema version this build writes.
var SchemaVersion = len(migrations)

// schemaV1 is the first schema. Times are Unix milliseconds (0 = unset);
// JSON columns are "" when empty.
const schemaV1 = `
CREATE TABLE writers (
	id          TEXT PRIMARY KEY,      -- one per Parley process that records
	host        TEXT NOT NULL,
	pid         INTEGER NOT NULL,
	started     INTEGER NOT NULL,
	alive_until INTEGER NOT NULL       -- heartbeat: the writer is gone once this has passed
);

CREATE TABLE conversations (
	id             TEXT PRIMARY KEY,
	title          TEXT NOT NULL DEFAULT '',
	created        INTEGER NOT NULL,
	updated        INTEGER NOT NULL,
	origin         TEXT NOT NULL DEFAULT '',   -- chat, print, import
	provider       TEXT NOT NULL DEFAULT '',   -- the profile name, or the gateway's host
	dialect        TEXT NOT NULL DEFAULT '',
	model          TEXT NOT NULL DEFAULT '',   -- the model of the latest request
	settings       TEXT NOT NULL DEFAULT '',   -- JSON: system prompt, sampling, reasoning, tools
	chat_id        TEXT NOT NULL DEFAULT '',   -- the gateway's continuation
	known_messages INTEGER NOT NULL DEFAULT 0,
	chat_system    TEXT NOT NULL DEFAULT '',
	writer         TEXT NOT NULL DEFAULT ''    -- the writer that records it
);
CREATE INDEX conversations_by_update ON conversations(updated DESC);

CREATE TABLE messages (
	id           INTEGER PRIMARY KEY,           -- the full-text index's rowid
	conversation TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
	seq          INTEGER NOT NULL,              -- position in the conversation
	role         TEXT NOT NULL,
	content      TEXT NOT NULL DEFAULT '',
	reasoning    TEXT NOT NULL DEFAULT '',
	tool_calls   TEXT NOT NULL DEFAULT '',      -- JSON array, opaque data included
	tool_call_id TEXT NOT NULL DEFAULT '',
	name         TEXT NOT NULL DEFAULT '',
	created      INTEGER NOT NULL,
	UNIQUE (conversation, seq)
);

CREATE VIRTUAL TABLE messages_fts USING fts5(
	content, content='messages', content_rowid='id',
	tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
	INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
	INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
	INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
	INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;

CREATE TABLE turns (
	id              INTEGER PRIMARY KEY,
	conversation    TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
	seq             INTEGER NOT NULL,           -- order of the answers, superseded ones included
	sent            INTEGER NOT NULL,           -- messages the request carried
	superseded      INTEGER NOT NULL DEFAULT 0,
	status          TEXT NOT NULL,              -- streaming, done, error, interrupted
	model           TEXT NOT NULL DEFAULT '',   -- asked for
	reported_model  TEXT NOT NULL DEFAULT '',   -- as the gateway named it
	started         INTEGER NOT NULL,
	first_token     INTEGER NOT NULL DEFAULT 0,
	first_text      INTEGER NOT NULL DEFAULT 0,
	reasoning_start INTEGER NOT NULL DEFAULT 0,
	reasoning_end   INTEGER NOT NULL DEFAULT 0,
	ended           INTEGER NOT NULL DEFAULT 0,
	text            TEXT NOT NULL DEFAULT '',
	reasoning       TEXT NOT NULL DEFAULT '',
	tool_calls      TEXT NOT NULL DEFAULT '',
	tool_results    TEXT NOT NULL DEFAULT '',
	sources         TEXT NOT NULL DEFAULT '',
	usage           TEXT NOT NULL DEFAULT '',
	finish_reason   TEXT NOT NULL DEFAULT '',
	error           TEXT NOT NULL DEFAULT '',   -- the error event, as provider.MarshalEvent writes it
	chat_id         TEXT NOT NULL DEFAULT '',
	UNIQUE (conversation, seq)
);
CREATE INDEX turns_streaming ON turns(status) WHERE status = 'streaming';
-- Rows hold long texts, so every table has a rowid and its lookups go
-- through small indexes.

-- A turn's timeline, written in chunks as it streams: each chunk is one
-- line per event, "OFFSET_MS<tab>EVENT_JSON", in emission order.
CREATE TABLE timeline_chunks (
	id           INTEGER PRIMARY KEY,
	conversation TEXT NOT NULL,
	turn         INTEGER NOT NULL,
	chunk        INTEGER NOT NULL,
	events       TEXT NOT NULL,
	UNIQUE (conversation, turn, chunk),
	FOREIGN KEY (conversation, turn) REFERENCES turns(conversation, seq) ON DELETE CASCADE
);

CREATE TABLE history (
	id       INTEGER PRIMARY KEY,
	provider TEXT NOT NULL,
	text     TEXT NOT NULL,
	created  INTEGER NOT NULL
);
CREATE INDEX history_by_provider ON history(provider, id);
`

// schemaV2 adds the verdicts on comparisons: a pick names its columns'
// models in screen order and the winner among them.
const schemaV2 = `
CREATE TABLE picks (
	id         INTEGER PRIMARY KEY,
	created    INTEGER NOT NULL,
	comparison TEXT NOT NULL DEFAULT '',   -- the comparison's ID
	blind      INTEGER NOT NULL DEFAULT 0, -- the names were hidden when the user chose
	winner     INTEGER NOT NULL            -- the winning column from 0; -1 for a tie
);
CREATE TABLE pick_columns (
	pick     INTEGER NOT NULL REFERENCES picks(id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	model    TEXT NOT NULL,
	PRIMARY KEY (pick, position)
);
`

// schemaV3 groups the columns of a comparison: each column is a
// conversation of its own (so it can be continued, searched and exported
// alone) that names its comparison and its place in it. A comparison row
// exists once its first column is saved; its title is "" until renamed
// (its first column's title stands in). Conversations saved before this
// version belong to no comparison.
const schemaV3 = `
CREATE TABLE comparisons (
	id      TEXT PRIMARY KEY,              -- the same ID space as conversations
	title   TEXT NOT NULL DEFAULT '',
	created INTEGER NOT NULL
);
ALTER TABLE conversations ADD COLUMN comparison TEXT NOT NULL DEFAULT '';  -- the comparison it is a column of
ALTER TABLE conversations ADD COLUMN position INTEGER NOT NULL DEFAULT 0;  -- its column, from 0
ALTER TABLE conversations ADD COLUMN label TEXT NOT NULL DEFAULT '';       -- the column's name when not its model
CREATE INDEX conversations_by_comparison ON conversations(comparison, position) WHERE comparison != '';
`

// migrate brings the database to SchemaVersion, one migration per
// transaction. Two processes opening a new file at once are safe: each
// transaction takes the write lock first (immediate) and checks the
// version again under it. A database from a newer Parley is refused.
func migrate(ctx context.Context, db *sql.DB) error {
	return migrateTo(ctx, db, migrations)
}

func migrateTo(ctx context.Context, db *sql.DB, ms []migration) error {
	for {
		done, err := migrateStep(ctx, db, ms)
		if err != nil || done {
			return err
		}
	}
}

// migrateStep applies the next migration, if any, and reports whether the
// database was already current.
func migrateStep(ctx context.Context, db *sql.DB, ms []migration) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("store: migrating: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return false, fmt.Errorf("store: reading the schema version: %w", err)
	}
	switch {
	case v > len(ms):
		return false, fmt.Errorf("store: the database has schema version %d, newer than this Parley knows (%d): upgrade Parley", v, len(ms))
	case v == len(ms):
		return true, tx.Commit()
	}
	if _, err := tx.ExecContext(ctx, ms[v].sql); err != nil {
		return false, fmt.Errorf("store: migrating to version %d (%s): %w", v+1, ms[v].name, err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
		return false, fmt.Errorf("store: migrating to version %d: %w", v+1, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("store: migrating to version %d: %w", v+1, err)
	}
	return false, nil
}

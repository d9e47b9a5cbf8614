package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/parley-chat/parley/session"
)

// seeds[v] fills a database at schema version v with data in that
// version's own tables (raw SQL, so it stays true to the version after
// the schema moves on); check verifies that data after migrating to the
// current version. A new migration needs a seed for the version it
// starts from.
var seeds = []struct {
	seed  func(db *sql.DB) error
	check func(t *testing.T, st *Store)
}{
	0: {},
	1: {seed: seedV1, check: checkV1},
	2: {seed: seedV2, check: checkV2},
	3: {seed: seedV3, check: checkV3},
}

// seedV3 is version 2's data plus a comparison of two columns.
func seedV3(db *sql.DB) error {
	if err := seedV2(db); err != nil {
		return err
	}
	_, err := db.Exec(`
INSERT INTO comparisons (id, title, created) VALUES ('cmp3', '', 1700000005000);
INSERT INTO conversations (id, title, created, updated, origin, provider, dialect, model, comparison, position, label)
	VALUES ('col0', 'explain SSE', 1700000005000, 1700000006000, 'compare', 'demo', 'openai', 'demo-fast', 'cmp3', 0, ''),
	       ('col1', 'explain SSE', 1700000005000, 1700000007000, 'compare', 'demo', 'openai', 'demo-think', 'cmp3', 1, 'thinker');
INSERT INTO messages (conversation, seq, role, content, created) VALUES ('col0', 0, 'user', 'explain SSE', 1700000005000),
	('col1', 0, 'user', 'explain SSE', 1700000005000);
`)
	return err
}

func checkV3(t *testing.T, st *Store) {
	checkV2(t, st)
	list, err := st.List(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != "cmp3" || len(list[0].Columns) != 2 || list[0].Model != "compare: demo-fast vs thinker" {
		t.Fatalf("listing after migrating: %+v", list)
	}
}

// seedV2 is version 1's data plus picks.
func seedV2(db *sql.DB) error {
	if err := seedV1(db); err != nil {
		return err
	}
	_, err := db.Exec(`
INSERT INTO picks (id, created, comparison, blind, winner) VALUES (1, 1700000000000, 'cmp1', 1, 1), (2, 1700000001000, 'cmp2', 0, -1);
INSERT INTO pick_columns (pick, position, model) VALUES (1, 0, 'alpha'), (1, 1, 'beta'), (2, 0, 'alpha'), (2, 1, 'gamma');
`)
	return err
}

func checkV2(t *testing.T, st *Store) {
	checkV1(t, st)
	picks, err := st.Picks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(picks) != 2 || !picks[0].Blind || picks[0].Winner != 1 || picks[0].Models[1] != "beta" ||
		picks[1].Blind || picks[1].Winner != -1 || picks[1].Models[1] != "gamma" {
		t.Fatalf("picks after migrating: %+v", picks)
	}
}

func seedV1(db *sql.DB) error {
	_, err := db.Exec(`
INSERT INTO writers (id, host, pid, started, alive_until) VALUES ('w-old', 'elsewhere', 1, 1, 2);
INSERT INTO conversations (id, title, created, updated, origin, provider, dialect, model, settings, chat_id, known_messages, chat_system, writer)
	VALUES ('v1conv', 'from version 1', 1700000000000, 1700000001000, 'chat', 'gw', 'cuadra', 'm', '{"model":"m","system":"sys"}', 'chat_1', 2, 'sys', 'w-old');
INSERT INTO messages (conversation, seq, role, content, created) VALUES ('v1conv', 0, 'user', 'an old naïve question', 1700000000000);
INSERT INTO messages (conversation, seq, role, content, reasoning, created) VALUES ('v1conv', 1, 'assistant', 'an old answer', 'why', 1700000001000);
INSERT INTO turns (conversation, seq, sent, status, model, reported_model, started, ended, text, reasoning, usage, finish_reason)
	VALUES ('v1conv', 0, 1, 'done', 'm', 'm-2024', 1700000000000, 1700000001000, 'an old answer', 'why', '{"input_tokens":3,"output_tokens":4,"total_tokens":7}', 'stop');
INSERT INTO timeline_chunks (conversation, turn, chunk, events) VALUES ('v1conv', 0, 0, '5	{"type":"text","text":"an old answer"}
9	{"type":"done","finish_reason":"stop"}
');
-- An answer whose process died mid-stream under version 1.
INSERT INTO turns (conversation, seq, sent, status, model, started) VALUES ('v1conv', 1, 2, 'streaming', 'm', 1700000002000);
INSERT INTO messages (conversation, seq, role, content, created) VALUES ('v1conv', 2, 'user', 'and then?', 1700000002000);
INSERT INTO turns (conversation, seq, sent, status, model, started) VALUES ('v1conv', 2, 3, 'streaming', 'm', 1700000002000);
INSERT INTO timeline_chunks (conversation, turn, chunk, events) VALUES ('v1conv', 2, 0, '7	{"type":"text","text":"half an ans"}
');
INSERT INTO history (provider, text, created) VALUES ('gw', 'an old prompt', 1700000000000);
`)
	return err
}

func checkV1(t *testing.T, st *Store) {
	ctx := context.Background()
	c, err := st.Load(ctx, "v1conv", LoadOptions{Timelines: true})
	if err != nil {
		t.Fatal(err)
	}
	if c.Title != "from version 1" || c.Settings.System != "sys" || c.ChatID != "chat_1" || len(c.Messages) != 4 {
		t.Fatalf("conversation after migrating: %+v, %d messages", c.Summary, len(c.Messages))
	}
	if tt := c.Turns[0]; tt.Text() != "an old answer" || tt.Usage.TotalTokens != 7 || len(tt.Events()) != 2 || tt.Turn.Model != "m-2024" {
		t.Fatalf("first answer after migrating: %+v", tt.Turn)
	}
	// The crashed answer was repaired on open: interrupted, and its text
	// is the conversation's last message.
	if tt := c.Turns[2]; tt.Status != StatusInterrupted || c.Messages[3].Content != "half an ans" {
		t.Fatalf("crashed answer: %q, last message %q", tt.Status, c.Messages[3].Content)
	}
	if hits, _ := st.Search(ctx, "naive", 5); len(hits) != 1 {
		t.Fatalf("search after migrating: %+v", hits)
	}
	if h, _ := st.History(ctx, "gw", 5); len(h) != 1 {
		t.Fatalf("history after migrating: %q", h)
	}
}

func TestMigrateFromEachVersion(t *testing.T) {
	if len(seeds) != SchemaVersion+1 {
		t.Fatalf("the migration test has seeds for versions 0 to %d; add one for version %d", len(seeds)-1, SchemaVersion)
	}
	for v := range seeds {
		t.Run("from version "+string(rune('0'+v)), func(t *testing.T) {
			dir := t.TempDir()
			db, err := sql.Open("sqlite", dsn(filepath.Join(dir, FileName)))
			if err != nil {
				t.Fatal(err)
			}
			if err := migrateTo(context.Background(), db, migrations[:v]); err != nil {
				t.Fatal(err)
			}
			if seeds[v].seed != nil {
				if err := seeds[v].seed(db); err != nil {
					t.Fatalf("seeding version %d: %v", v, err)
				}
			}
			db.Close()
			st, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			var got int
			st.db.QueryRow("PRAGMA user_version").Scan(&got)
			if got != SchemaVersion {
				t.Fatalf("version %d after migrating, want %d", got, SchemaVersion)
			}
			if seeds[v].check != nil {
				seeds[v].check(t, st)
			}
			// The migrated database works for new conversations too.
			r := newRig(t, st, &scripted{script: answering(func(int) string { return "new" })}, nil)
			r.ask("hello")
			if c := r.load(); len(c.Messages) != 2 {
				t.Fatalf("a new conversation after migrating: %d messages", len(c.Messages))
			}
			// Conversations saved before comparisons were grouped are
			// listed on their own, and comparisons can be saved.
			if want := min(v, 1) + 1; v < 3 {
				if l, err := st.List(context.Background(), 0); err != nil || len(l) != want {
					t.Fatalf("listing after migrating from version %d: %+v, %v", v, l, err)
				}
			}
			c := newRigWith(t, st, &scripted{script: answering(func(int) string { return "col" })},
				RecorderOptions{Origin: OriginCompare, Comparison: "newcmp", Position: 1})
			c.ask("compared")
			c.flush()
			if ok, err := st.IsComparison(context.Background(), "newcmp"); !ok || err != nil {
				t.Fatalf("a comparison after migrating: %v, %v", ok, err)
			}
			// And for picks: the version 1 database gained their tables.
			if err := st.AddPick(context.Background(), session.Pick{Blind: true, Models: []string{"m1", "m2"}, Winner: 0}); err != nil {
				t.Fatalf("a pick after migrating: %v", err)
			}
		})
	}
}

func TestMigrateRefusesANewerDatabase(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.db.Exec("PRAGMA user_version = 99")
	st.Close()
	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), "upgrade Parley") {
		t.Fatalf("opening a newer database: %v", err)
	}
}

func TestFailedMigrationRollsBack(t *testing.T) {
	db, err := sql.Open("sqlite", dsn(filepath.Join(t.TempDir(), FileName)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms := []migration{
		{name: "one", sql: "CREATE TABLE a (x)"},
		{name: "two", sql: "CREATE TABLE b (y); INSERT INTO nowhere VALUES (1)"},
	}
	if err := migrateTo(context.Background(), db, ms); err == nil || !strings.Contains(err.Error(), "version 2 (two)") {
		t.Fatalf("failing migration: %v", err)
	}
	var v, n int
	db.QueryRow("PRAGMA user_version").Scan(&v)
	db.QueryRow("SELECT count(*) FROM sqlite_master WHERE name = 'b'").Scan(&n)
	if v != 1 || n != 0 {
		t.Fatalf("after a failed migration: version %d, table b exists %v", v, n == 1)
	}
}

func TestOpenNewDatabaseTwiceAtOnce(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := Open(dir, Options{})
			if err == nil {
				err = st.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/parley-chat/parley/session"
)

// columnRigs are the columns of one comparison, each a chat recorded as
// column i with the given label.
func columnRigs(t *testing.T, st *Store, cmp string, labels ...string) []*rig {
	t.Helper()
	var out []*rig
	for i, l := range labels {
		p := &scripted{script: answering(func(int) string { return "answer of " + l })}
		out = append(out, newRigWith(t, st, p, RecorderOptions{Origin: OriginCompare, Comparison: cmp, Position: i, Label: l}))
	}
	return out
}

func TestComparisonIsListedOnceWithItsColumns(t *testing.T) {
	st, _ := openTemp(t, Options{})
	ctx := context.Background()
	alone := newRig(t, st, &scripted{script: answering(func(int) string { return "plain" })}, nil)
	alone.ask("a plain question")
	alone.flush()
	cmpID := session.NewID()
	cols := columnRigs(t, st, cmpID, "alpha", "beta")
	for _, c := range cols {
		c.ask("explain SSE")
		c.flush()
	}
	list, err := st.List(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("listing: %d entries, want the comparison and the plain conversation: %+v", len(list), list)
	}
	c := list[0]
	if c.ID != cmpID || !c.IsComparison() || len(c.Columns) != 2 || c.Title != "explain SSE" ||
		c.Model != "compare: alpha vs beta" || c.Messages != 4 || c.Answers != 2 || c.Status != StatusDone || c.Origin != OriginCompare {
		t.Fatalf("the comparison's entry: %+v", c)
	}
	for i, col := range c.Columns {
		if col.ID != cols[i].chat.Conversation().ID || col.Position != i || col.Comparison != cmpID || col.Messages != 2 {
			t.Fatalf("column %d: %+v", i, col)
		}
	}
	if list[1].ID != alone.chat.Conversation().ID || list[1].IsComparison() {
		t.Fatalf("the plain conversation: %+v", list[1])
	}
	if got, err := st.Latest(ctx); err != nil || got != cmpID {
		t.Fatalf("latest: %q, %v; want the comparison", got, err)
	}
	// A limit counts the comparison as one entry.
	if one, _ := st.List(ctx, 1); len(one) != 1 || one[0].ID != cmpID {
		t.Fatalf("listing one: %+v", one)
	}

	// Its ID resolves from a prefix; loading it as one conversation says
	// it is a comparison and names the columns.
	if id, err := st.Resolve(ctx, cmpID[:6]); err != nil || id != cmpID {
		t.Fatalf("resolving the comparison's prefix: %q, %v", id, err)
	}
	_, err = st.Load(ctx, cmpID, LoadOptions{})
	var ce *ComparisonError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), cols[1].chat.Conversation().ID) || !strings.Contains(err.Error(), "2 beta") {
		t.Fatalf("loading a comparison as a conversation: %v", err)
	}
	if _, err := st.Resume(ctx, cmpID); !errors.As(err, &ce) {
		t.Fatalf("resuming a comparison: %v", err)
	}
	full, err := st.LoadComparison(ctx, cmpID, LoadOptions{Timelines: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Columns) != 2 || full.Columns[1].Messages[1].Content != "answer of beta" || full.Columns[0].Turns[0].EventCount() == 0 {
		t.Fatalf("the loaded comparison: %+v", full.Summary)
	}
	if ok, err := st.IsComparison(ctx, cmpID); !ok || err != nil {
		t.Fatalf("IsComparison: %v, %v", ok, err)
	}
	if ok, _ := st.IsComparison(ctx, alone.chat.Conversation().ID); ok {
		t.Fatal("a plain conversation taken for a comparison")
	}
	// A column's hits in a search name their comparison.
	hits, err := st.Search(ctx, "beta", 10)
	if err != nil || len(hits) != 1 || hits[0].Conversation.Comparison != cmpID || hits[0].Conversation.Label != "beta" {
		t.Fatalf("searching a column: %+v, %v", hits, err)
	}

	// Renaming and removing take the whole comparison.
	if err := st.Rename(ctx, cmpID, "SSE, two ways"); err != nil {
		t.Fatal(err)
	}
	if l, _ := st.List(ctx, 1); l[0].Title != "SSE, two ways" {
		t.Fatalf("after renaming: %q", l[0].Title)
	}
	if err := st.Delete(ctx, cmpID); err != nil {
		t.Fatal(err)
	}
	list, _ = st.List(ctx, 0)
	if len(list) != 1 || list[0].ID != alone.chat.Conversation().ID {
		t.Fatalf("after removing the comparison: %+v", list)
	}
	if _, err := st.Load(ctx, cols[0].chat.Conversation().ID, LoadOptions{}); err == nil {
		t.Fatal("a column outlived its comparison")
	}
}

func TestChatJoinsTheComparisonOpenedBesideIt(t *testing.T) {
	st, _ := openTemp(t, Options{})
	ctx := context.Background()
	chat := newRig(t, st, &scripted{script: answering(func(int) string { return "first" })}, nil)
	chat.ask("explain SSE")
	chat.flush()
	// /compare in the chat: the conversation on screen becomes column 0,
	// the models named the next ones.
	cmpID := session.NewID()
	chat.rec.JoinComparison(cmpID, 0, "")
	beside := columnRigs(t, st, cmpID, "", "other")[1]
	beside.ask("explain SSE")
	beside.flush()
	chat.flush()
	list, err := st.List(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != cmpID || len(list[0].Columns) != 2 ||
		list[0].Columns[0].ID != chat.chat.Conversation().ID || list[0].Model != "compare: m-1 vs other" {
		t.Fatalf("after /compare: %+v", list)
	}
	// The chat goes on in its column (after /pick 1); /new leaves the
	// comparison.
	chat.ask("and then?")
	chat.chat.Reset()
	chat.ask("something else")
	chat.flush()
	list, _ = st.List(ctx, 0)
	if len(list) != 2 || list[0].IsComparison() || !list[1].IsComparison() || list[1].Columns[0].Messages != 4 {
		t.Fatalf("after /new: %+v", list)
	}

	// A chat with no conversation yet joins with its first.
	fresh := newRig(t, st, &scripted{script: answering(func(int) string { return "x" })}, nil)
	cmp2 := session.NewID()
	fresh.rec.JoinComparison(cmp2, 0, "mine")
	fresh.ask("q")
	fresh.flush()
	if ok, _ := st.IsComparison(ctx, cmp2); !ok {
		t.Fatal("a chat that joined before its first prompt is not in the comparison")
	}
}

func TestComparisonExportsAndImports(t *testing.T) {
	st, _ := openTemp(t, Options{})
	ctx := context.Background()
	cmpID := session.NewID()
	cols := columnRigs(t, st, cmpID, "alpha", "beta")
	for _, c := range cols {
		c.ask("explain SSE")
		c.flush()
	}
	var md strings.Builder
	if err := st.ExportMarkdown(ctx, cmpID, &md); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"id: \"" + cmpID + "\"", "# explain SSE", "## Column 1 · alpha", "## Column 2 · beta",
		"### You", "answer of alpha", "answer of beta", "models: [\"gw-model\"]"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("the comparison's markdown lacks %q:\n%s", want, md.String())
		}
	}
	if strings.Index(md.String(), "answer of alpha") > strings.Index(md.String(), "## Column 2") {
		t.Error("column 1's answer is not under its heading")
	}
	var js strings.Builder
	if err := st.ExportJSON(ctx, cmpID, &js); err != nil {
		t.Fatal(err)
	}
	// Importing it elsewhere gives back the same comparison, byte for byte.
	other, _ := openTemp(t, Options{})
	id, err := other.Import(ctx, strings.NewReader(js.String()))
	if err != nil || id != cmpID {
		t.Fatalf("importing the comparison: %q, %v", id, err)
	}
	var again strings.Builder
	if err := other.ExportJSON(ctx, cmpID, &again); err != nil {
		t.Fatal(err)
	}
	if again.String() != js.String() {
		t.Fatalf("the export after importing differs:\n%s\nwas\n%s", again.String(), js.String())
	}
	if l, _ := other.List(ctx, 0); len(l) != 1 || len(l[0].Columns) != 2 || l[0].Columns[1].Label != "beta" {
		t.Fatalf("the imported comparison: %+v", l)
	}
	// A second import is refused, and writes nothing.
	var exists *ImportExistsError
	if _, err := other.Import(ctx, strings.NewReader(js.String())); !errors.As(err, &exists) {
		t.Fatalf("importing it twice: %v", err)
	}
}

// BenchmarkListComparisons lists 200 comparisons of three columns beside
// 200 conversations: each comparison is read with its columns.
func BenchmarkListComparisons(b *testing.B) {
	st, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	err = st.write(ctx, func(tx *sql.Tx) error {
		at := int64(1700000000000)
		conv := func(id, cmp string, pos int) error {
			at++
			if _, err := tx.Exec(`INSERT INTO conversations (id, title, created, updated, origin, model, comparison, position)
				VALUES (?, 'a title', ?, ?, 'compare', 'm', ?, ?)`, id, at, at, cmp, pos); err != nil {
				return err
			}
			_, err := tx.Exec(`INSERT INTO messages (conversation, seq, role, content, created) VALUES (?, 0, 'user', 'q', ?), (?, 1, 'assistant', 'a', ?)`,
				id, at, id, at)
			return err
		}
		for i := range 200 {
			if err := conv(fmt.Sprintf("plain%d", i), "", 0); err != nil {
				return err
			}
			cmp := fmt.Sprintf("cmp%d", i)
			if _, err := tx.Exec(`INSERT INTO comparisons (id, created) VALUES (?, ?)`, cmp, at); err != nil {
				return err
			}
			for k := range 3 {
				if err := conv(fmt.Sprintf("col%d-%d", i, k), cmp, k); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if l, err := st.List(ctx, 0); err != nil || len(l) != 400 {
			b.Fatalf("%d entries, %v", len(l), err)
		}
	}
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
)

func TestFTS5WithDiacritics(t *testing.T) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE VIRTUAL TABLE f USING fts5(body, tokenize='unicode61 remove_diacritics 2');
		INSERT INTO f(body) VALUES ('a naïve approach'), ('nothing here')`); err != nil {
		t.Fatalf("FTS5 is not compiled in: %v", err)
	}
	var body string
	if err := db.QueryRow(`SELECT body FROM f WHERE f MATCH 'naive'`).Scan(&body); err != nil || body != "a naïve approach" {
		t.Fatalf("naive found %q, %v", body, err)
	}
}

func TestOpenMakesPrivateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	st, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, st, &scripted{script: answering(func(int) string { return "hello" })}, nil)
	r.ask("hi")
	r.flush()
	check := func(path string, want os.FileMode) {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s has mode %o, want %o", filepath.Base(path), got, want)
		}
	}
	check(dir, 0o700)
	db := filepath.Join(dir, FileName)
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		check(p, 0o600)
	}
	st.Close()
}

func TestRecordAndLoad(t *testing.T) {
	st, _ := openTemp(t, Options{})
	p := &scripted{script: answering(func(n int) string { return fmt.Sprintf("answer number %d", n) })}
	r := newRig(t, st, p, nil)
	first := r.ask("first question\nwith a second line")
	r.ask("second question")
	if _, err := r.chat.Retry(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.finish()
	r.chat.SetModel("m-2")
	c := r.load()

	if c.ID != r.chat.Conversation().ID || c.Title != "first question" || c.Origin != OriginChat ||
		c.Provider != "gw" || c.Dialect != "openai" || c.Model != "m-2" || c.Settings.System != "be brief" {
		t.Fatalf("conversation %+v", c.Summary)
	}
	if c.Summary.Messages != 4 || c.Answers != 3 || c.Status != StatusDone {
		t.Fatalf("counts: %d messages, %d answers, status %q", c.Summary.Messages, c.Answers, c.Status)
	}
	want := r.chat.Conversation().Messages
	if len(c.Messages) != len(want) {
		t.Fatalf("%d messages saved, want %d", len(c.Messages), len(want))
	}
	for i, m := range c.Messages {
		if !reflect.DeepEqual(m.Message, want[i]) {
			t.Errorf("message %d = %+v, want %+v", i, m.Message, want[i])
		}
	}
	live := r.chat.Turns()
	if len(c.Turns) != len(live) {
		t.Fatalf("%d turns saved, want %d", len(c.Turns), len(live))
	}
	for i, got := range c.Turns {
		w := live[i]
		if got.Seq != i || got.Sent != w.Sent || got.Superseded != w.Superseded || got.Text() != w.Text() ||
			got.Reasoning() != w.Reasoning() || got.Usage != w.Usage || got.Model != "m-1" ||
			got.Turn.Model != "gw-model" || got.FinishReason != "stop" || got.Status != StatusDone {
			t.Errorf("turn %d = %+v\nwant %+v", i, got.Turn, w)
		}
		if !got.Start.Equal(w.Start.Truncate(time.Millisecond)) || !got.End.Equal(w.End.Truncate(time.Millisecond)) {
			t.Errorf("turn %d times %v–%v, want %v–%v", i, got.Start, got.End, w.Start, w.End)
		}
		if len(got.Events()) != len(w.Events()) {
			t.Fatalf("turn %d: %d events saved, want %d", i, len(got.Events()), len(w.Events()))
		}
		for j, ev := range got.Events() {
			if !reflect.DeepEqual(ev.Event, w.Events()[j].Event) || ev.Offset != w.Events()[j].Offset.Truncate(time.Millisecond) {
				t.Errorf("turn %d event %d = %+v, want %+v", i, j, ev, w.Events()[j])
			}
		}
	}
	if !c.Turns[1].Superseded || c.Turns[2].Superseded || c.Turns[0].Superseded {
		t.Fatal("the retried answer is not marked superseded")
	}
	if got := c.AnswersTo(2); len(got) != 2 || got[0].Seq != 1 || got[1].Seq != 2 {
		t.Fatalf("answers to the second prompt: %v", got)
	}
	if first.Text() != "answer number 1" || c.Messages[1].Content != "answer number 1" {
		t.Fatalf("first answer %q", c.Messages[1].Content)
	}
	// Without timelines the events stay on disk.
	c2, err := st.Load(context.Background(), c.ID, LoadOptions{})
	if err != nil || len(c2.Turns[0].Events()) != 0 || c2.Turns[0].Text() != "answer number 1" {
		t.Fatalf("load without timelines: %v", err)
	}
	evs, err := st.Timeline(context.Background(), c.ID, 0)
	if err != nil || len(evs) != len(live[0].Events()) {
		t.Fatalf("timeline: %d events, %v", len(evs), err)
	}
}

func TestResumeCarriesOn(t *testing.T) {
	st, _ := openTemp(t, Options{})
	p := &scripted{script: answering(func(n int) string { return fmt.Sprintf("answer %d", n) })}
	r := newRig(t, st, p, nil)
	r.ask("one")
	r.ask("two")
	id := r.chat.Conversation().ID
	r.flush()

	c, err := st.Resume(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	p2 := &scripted{script: answering(func(n int) string { return "resumed answer" })}
	r2 := newRig(t, st, p2, c)
	if r2.chat.Conversation().ID != id {
		t.Fatalf("resumed chat has ID %q", r2.chat.Conversation().ID)
	}
	r2.ask("three")
	req := p2.reqs[0]
	var got []string
	for _, m := range req.Messages {
		got = append(got, m.Content)
	}
	if strings.Join(got, "|") != "be brief|one|answer 1|two|answer 2|three" {
		t.Fatalf("the resumed request carries %q", got)
	}
	c = r2.load()
	if len(c.Messages) != 6 || c.Messages[5].Content != "resumed answer" || len(c.Turns) != 3 || c.Turns[2].Sent != 5 {
		t.Fatalf("after resuming: %d messages, %d turns", len(c.Messages), len(c.Turns))
	}
	if ids, _ := st.List(context.Background(), 0); len(ids) != 1 {
		t.Fatalf("resuming made a second conversation: %+v", ids)
	}
}

func TestNewMidStreamKeepsTheOldConversation(t *testing.T) {
	st, _ := openTemp(t, Options{})
	release := make(chan struct{})
	p := &scripted{script: func(n int, ctx context.Context, emit func(provider.Event)) error {
		if n == 1 {
			emit(provider.TextDelta{Text: "partial answer"})
			<-ctx.Done()
			<-release
			return ctx.Err()
		}
		return answering(func(int) string { return "fresh" })(n, ctx, emit)
	}}
	r := newRig(t, st, p, nil)
	if _, err := r.chat.Send(context.Background(), "long question"); err != nil {
		t.Fatal(err)
	}
	r.next() // the partial text
	old := r.chat.Conversation().ID
	r.chat.Reset() // /new
	close(release)
	r.next() // the cancelled run's own end, recorded on its turn
	r.ask("new question")
	r.flush()
	c, err := st.Load(context.Background(), old, LoadOptions{Timelines: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Messages) != 2 || c.Messages[1].Content != "partial answer" || c.Turns[0].Status != StatusInterrupted {
		t.Fatalf("old conversation: %+v, status %q", c.Messages, c.Turns[0].Status)
	}
	if n := len(c.Turns[0].Events()); n != 2 {
		t.Fatalf("the interrupted answer's timeline has %d events, want the text and the late cancel", n)
	}
	list, _ := st.List(context.Background(), 0)
	if len(list) != 2 || list[0].ID == old || list[1].ID != old || list[1].Status != StatusInterrupted {
		t.Fatalf("listing %+v", list)
	}
	if r.rec.LastID() != list[0].ID {
		t.Fatalf("LastID %q, want the new conversation", r.rec.LastID())
	}
}

func TestToolCallsAndOpaqueDataRoundTrip(t *testing.T) {
	st, _ := openTemp(t, Options{})
	call := provider.ToolCall{ID: "call_1", Name: "weather", Arguments: `{"city":"Oslo"}`, Opaque: "c2lnbmF0dXJl"}
	p := &scripted{script: func(n int, _ context.Context, emit func(provider.Event)) error {
		if n == 1 {
			emit(provider.ToolCallEvent{ToolCall: call})
			emit(provider.Done{FinishReason: "tool_calls"})
			return nil
		}
		emit(provider.TextDelta{Text: "It is sunny."})
		emit(provider.Done{FinishReason: "stop"})
		return nil
	}}
	r := newRig(t, st, p, nil)
	r.ask("weather in Oslo?")
	if err := r.chat.AddToolResult("call_1", `{"sky":"clear"}`); err != nil {
		t.Fatal(err)
	}
	if _, err := r.chat.Continue(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.finish()
	c := r.load()
	if len(c.Messages) != 4 {
		t.Fatalf("%d messages", len(c.Messages))
	}
	if got := c.Messages[1].ToolCalls; len(got) != 1 || got[0] != call {
		t.Fatalf("tool call saved as %+v", got)
	}
	if m := c.Messages[2]; m.Role != provider.RoleTool || m.ToolCallID != "call_1" || m.Name != "weather" || m.Content != `{"sky":"clear"}` {
		t.Fatalf("tool result saved as %+v", m)
	}
	if got := c.Turns[0].ToolCalls; len(got) != 1 || got[0] != call {
		t.Fatalf("turn tool calls %+v", got)
	}
	if c.Turns[1].Sent != 3 || c.Messages[3].Content != "It is sunny." {
		t.Fatalf("continuation turn sent %d", c.Turns[1].Sent)
	}
}

func TestErrorAnswerSaved(t *testing.T) {
	st, _ := openTemp(t, Options{})
	p := &scripted{script: func(n int, _ context.Context, emit func(provider.Event)) error {
		emit(provider.TextDelta{Text: "half"})
		emit(provider.Error{Err: &provider.APIError{Kind: provider.KindHTTP, Status: 502, Title: "Bad Gateway",
			Message: "upstream died", Partial: true}})
		return nil
	}}
	r := newRig(t, st, p, nil)
	r.ask("q")
	c := r.load()
	tt := c.Turns[0]
	if tt.Status != StatusError || tt.Err == nil || tt.Err.Status != 502 || tt.Err.Message != "upstream died" || !tt.Err.Partial {
		t.Fatalf("error turn %+v err %+v", tt.Status, tt.Err)
	}
	if len(c.Messages) != 2 || c.Messages[1].Content != "half" {
		t.Fatalf("partial answer before the error: %+v", c.Messages)
	}
}

func TestSecretNeverReachesARow(t *testing.T) {
	const key = "sk-test-0123456789abcdef"
	st, dir := openTemp(t, Options{Secrets: []string{key}})
	p := &scripted{script: func(n int, _ context.Context, emit func(provider.Event)) error {
		// As if the transport's guard had failed: the key everywhere.
		emit(provider.TextDelta{Text: "your key is " + key})
		emit(provider.ReasoningDelta{Text: key})
		emit(provider.ToolCallEvent{ToolCall: provider.ToolCall{ID: key, Name: "f", Arguments: key, Opaque: key}})
		emit(provider.Retry{Attempt: 1, Message: key})
		emit(provider.Error{Err: &provider.APIError{Kind: provider.KindHTTP, Status: 401, Message: "bad key " + key}})
		return nil
	}}
	r := newRig(t, st, p, nil)
	r.ask("my key is " + key + " keep it")
	r.rec.Remember("prompt with " + key)
	id := r.chat.Conversation().ID
	if err := r.rec.Rename(id, "title "+key); err != nil {
		t.Fatal(err)
	}
	c := r.load()
	if !strings.Contains(c.Messages[0].Content, redacted) || strings.Contains(c.Messages[0].Content, key) {
		t.Fatalf("prompt saved as %q", c.Messages[0].Content)
	}
	if err := st.Rename(context.Background(), id, "again "+key); err != nil {
		t.Fatal(err)
	}
	st.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) == 0 {
		t.Fatal("no files")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), key) {
			t.Errorf("%s holds the key", filepath.Base(f))
		}
	}
}

func TestSearch(t *testing.T) {
	st, _ := openTemp(t, Options{})
	answers := []string{"A naïve approach to caching works here.", "Goroutines are cheap; use them.", "Nothing relevant."}
	var ids []string
	for i, a := range answers {
		p := &scripted{script: answering(func(int) string { return a })}
		r := newRig(t, st, p, nil)
		r.ask(fmt.Sprintf("question %d", i))
		r.flush()
		ids = append(ids, r.chat.Conversation().ID)
	}
	ctx := context.Background()
	hits, err := st.Search(ctx, "naive", 0)
	if err != nil || len(hits) != 1 || hits[0].Conversation.ID != ids[0] || hits[0].Message != 1 || hits[0].Role != provider.RoleAssistant {
		t.Fatalf("naive: %+v, %v", hits, err)
	}
	h := hits[0]
	if len(h.Marks) != 1 || h.Snippet[h.Marks[0][0]:h.Marks[0][1]] != "naïve" {
		t.Fatalf("snippet %q marks %v", h.Snippet, h.Marks)
	}
	if hits, _ := st.Search(ctx, "goroutine*", 0); len(hits) != 1 || hits[0].Conversation.ID != ids[1] {
		t.Fatalf("prefix: %+v", hits)
	}
	if hits, _ := st.Search(ctx, `"use them"`, 0); len(hits) != 1 {
		t.Fatalf("phrase: %+v", hits)
	}
	if hits, _ := st.Search(ctx, `"them use"`, 0); len(hits) != 0 {
		t.Fatalf("phrase out of order matched: %+v", hits)
	}
	if hits, _ := st.Search(ctx, "question", 0); len(hits) != 3 {
		t.Fatalf("prompts: %d hits", len(hits))
	}
	// What the query language would take for operators is plain text.
	for _, q := range []string{`AND`, `naive OR`, `"`, `content:naive`, `naive -x`, `(naive`, `NEAR(a b)`, `*`} {
		if _, err := st.Search(ctx, q, 0); err != nil && !strings.Contains(err.Error(), "nothing to search") {
			t.Errorf("query %q: %v", q, err)
		}
	}
	if _, err := st.Search(ctx, "   ", 0); err == nil {
		t.Error("an empty query is accepted")
	}
}

func TestResolvePrefixes(t *testing.T) {
	st, _ := openTemp(t, Options{})
	ctx := context.Background()
	for _, id := range []string{"abc111", "abc222", "abd333", "ab"} {
		if err := st.write(ctx, func(tx *sql.Tx) error {
			_, err := tx.Exec("INSERT INTO conversations (id, title, created, updated) VALUES (?, ?, 1, 1)", id, "t "+id)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct{ prefix, want, err string }{
		{"abc1", "abc111", ""},
		{"abd", "abd333", ""},
		{"ab", "ab", ""}, // an exact ID wins
		{"abc", "", "several"},
		{"zzz", "", "no saved conversation"},
		{"a%", "", "no saved conversation"},
		{"", "", "no saved conversation"},
	} {
		got, err := st.Resolve(ctx, tt.prefix)
		if tt.err == "" && (err != nil || got != tt.want) || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("Resolve(%q) = %q, %v", tt.prefix, got, err)
		}
	}
	_, err := st.Resolve(ctx, "abc")
	var amb *AmbiguousError
	if !errors.As(err, &amb) || len(amb.Candidates) != 2 || !strings.Contains(err.Error(), "abc111") || !strings.Contains(err.Error(), "abc222") {
		t.Fatalf("ambiguous: %v", err)
	}
}

func TestHistoryPerProvider(t *testing.T) {
	st, _ := openTemp(t, Options{})
	rec := st.Recorder(RecorderOptions{Provider: "a"})
	recB := st.Recorder(RecorderOptions{Provider: "b"})
	for _, p := range []string{"one", "two", "two", "three", "  ", strings.Repeat("x", maxHistoryPrompt+1)} {
		rec.Remember(p)
	}
	recB.Remember("other")
	if err := rec.Flush(); err != nil {
		t.Fatal(err)
	}
	got, err := st.History(context.Background(), "a", 10)
	if err != nil || strings.Join(got, "|") != "one|two|three" {
		t.Fatalf("history a: %q, %v", got, err)
	}
	if got, _ := st.History(context.Background(), "a", 2); strings.Join(got, "|") != "two|three" {
		t.Fatalf("last two: %q", got)
	}
	if got, _ := st.History(context.Background(), "b", 10); strings.Join(got, "|") != "other" {
		t.Fatalf("history b: %q", got)
	}
}

func TestDeleteAndRename(t *testing.T) {
	st, _ := openTemp(t, Options{})
	r := newRig(t, st, &scripted{script: answering(func(int) string { return "x" })}, nil)
	r.ask("q")
	r.flush()
	ctx := context.Background()
	id := r.chat.Conversation().ID
	if err := st.Rename(ctx, id, "  a\tnew\x1b[31m title "); err != nil {
		t.Fatal(err)
	}
	if c, _ := st.Load(ctx, id, LoadOptions{}); c.Title != "a new title" {
		t.Fatalf("title %q", c.Title)
	}
	if err := st.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	var n int
	for _, table := range []string{"conversations", "messages", "turns", "timeline_chunks", "messages_fts"} {
		st.db.QueryRow("SELECT count(*) FROM " + table).Scan(&n)
		if n != 0 {
			t.Errorf("%s keeps %d rows after the delete", table, n)
		}
	}
	var nf *NotFoundError
	if err := st.Delete(ctx, id); !errors.As(err, &nf) {
		t.Fatalf("deleting twice: %v", err)
	}
}

func TestWritingGoesOnAfterAFailedOp(t *testing.T) {
	st, _ := openTemp(t, Options{})
	var errs []error
	p := &scripted{script: answering(func(int) string { return "x" })}
	r := newRig(t, st, p, nil)
	r.rec.w.onErrors = []func(error){func(err error) { errs = append(errs, err) }}
	r.ask("q")
	r.flush()
	// The conversation disappears under the recorder (deleted by hand):
	// its next writes fail, are reported, and do not block the others.
	if _, err := st.db.Exec("DELETE FROM conversations"); err != nil {
		t.Fatal(err)
	}
	r.ask("again")
	r.rec.Remember("still saved")
	r.flush()
	if len(errs) == 0 {
		t.Fatal("no error reported")
	}
	if h, _ := st.History(context.Background(), "gw", 5); len(h) != 1 {
		t.Fatalf("history after the failure: %q", h)
	}
}

var _ = session.Stamped{}

package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/cputime"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
)

// The benchmarks record their databases the way Parley does, through a
// session.Chat observed by a Recorder, with answers of about 1.3 KB of
// prose and code streamed in deltas of about 4 bytes (a token each), so
// every answer has a timeline of a few hundred events.

// words is the vocabulary of the generated answers.
var words = func() []string {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]string, 3000)
	const letters = "abcdefghijklmnopqrstuvwxyz"
	for i := range out {
		n := 3 + r.IntN(8)
		var b strings.Builder
		for range n {
			b.WriteByte(letters[r.IntN(len(letters))])
		}
		out[i] = b.String()
	}
	return out
}()

// benchAnswer is answer k: two paragraphs and a code block, with the
// marker word "needle<k%100>" once.
func benchAnswer(r *rand.Rand, k int) string {
	var b strings.Builder
	para := func(n int) {
		for i := range n {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(words[r.IntN(len(words))])
		}
		b.WriteString(".\n\n")
	}
	para(80)
	fmt.Fprintf(&b, "The needle%d is here.\n\n```go\nfunc f%d(x int) int {\n\treturn x * %d\n}\n```\n\n", k%100, k, k)
	para(60)
	return b.String()
}

// record adds a conversation of n prompts and answers to st and returns
// its ID.
func record(tb testing.TB, st *Store, r *rand.Rand, n int) string {
	evs := make(chan session.Stamped, 4096)
	k := 0
	p := &scripted{script: func(_ int, _ context.Context, emit func(provider.Event)) error {
		k++
		emit(provider.Started{Status: 200, Model: "bench-model"})
		text := benchAnswer(r, k)
		for len(text) > 0 {
			m := min(4, len(text))
			emit(provider.TextDelta{Text: text[:m]})
			text = text[m:]
		}
		emit(provider.Usage{InputTokens: 100, OutputTokens: 330, TotalTokens: 430})
		emit(provider.Done{FinishReason: "stop"})
		return nil
	}}
	chat := session.NewChat(session.ChatOptions{Provider: p, Settings: session.Settings{Model: "bench-model"},
		Deliver: func(ev session.Stamped) { evs <- ev }})
	rec := st.Recorder(RecorderOptions{Provider: "bench", Origin: OriginChat, OnError: func(err error) { tb.Error(err) }})
	chat.Observe(rec)
	for i := range n {
		if _, err := chat.Send(context.Background(), fmt.Sprintf("question %d about %s and %s", i, words[r.IntN(len(words))], words[r.IntN(len(words))])); err != nil {
			tb.Fatal(err)
		}
		for !chat.Handle(<-evs).Finished {
		}
	}
	if err := rec.Flush(); err != nil {
		tb.Fatal(err)
	}
	return chat.Conversation().ID
}

// benchDB is a database of 10,000 messages (500 conversations of 10
// prompts and answers) and one conversation of 1,000 messages, recorded
// once per benchmark run.
var benchDB struct {
	once     sync.Once
	dir      string
	long     string
	building time.Duration
	err      error
}

func tenThousand(b *testing.B) (*Store, string) {
	benchDB.once.Do(func() {
		// Recording takes a while: the database is kept for the next
		// run, keyed by the schema version and the generator's version.
		dir := filepath.Join(os.TempDir(), fmt.Sprintf("parley-store-bench-s%d-g1", SchemaVersion))
		benchDB.dir = dir
		if id, err := os.ReadFile(filepath.Join(dir, "long")); err == nil {
			benchDB.long = string(id)
			return
		}
		os.RemoveAll(dir)
		st, err := Open(dir, Options{})
		if err != nil {
			benchDB.err = err
			return
		}
		start := time.Now()
		r := rand.New(rand.NewPCG(3, 4))
		for range 500 {
			record(b, st, r, 10)
		}
		benchDB.long = record(b, st, r, 500)
		benchDB.building = time.Since(start)
		if benchDB.err = st.Close(); benchDB.err == nil {
			benchDB.err = os.WriteFile(filepath.Join(dir, "long"), []byte(benchDB.long), 0o600)
		}
	})
	if benchDB.err != nil {
		b.Fatal(benchDB.err)
	}
	st, err := Open(benchDB.dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st, benchDB.long
}

// BenchmarkSearch10k searches 11,000 messages for a rare word (in 1% of
// the answers), a common one and a phrase; each op is one search with
// its snippets (at most 50 hits).
func BenchmarkSearch10k(b *testing.B) {
	st, _ := tenThousand(b)
	ctx := context.Background()
	for _, q := range []string{"needle42", "needle*", `"is here"`, "question"} {
		b.Run(q, func(b *testing.B) {
			cpu := cputime.Process()
			for b.Loop() {
				hits, err := st.Search(ctx, q, 50)
				if err != nil || len(hits) == 0 {
					b.Fatalf("%d hits, %v", len(hits), err)
				}
			}
			cputime.Report(b, cpu)
		})
	}
}

// BenchmarkLoad1000 loads the conversation of 1,000 messages (500
// answers) as resuming it does: messages and answers, no timelines.
func BenchmarkLoad1000(b *testing.B) {
	st, long := tenThousand(b)
	ctx := context.Background()
	cpu := cputime.Process()
	for b.Loop() {
		c, err := st.Load(ctx, long, LoadOptions{})
		if err != nil || len(c.Messages) != 1000 {
			b.Fatalf("%v", err)
		}
		c.Saved()
	}
	cputime.Report(b, cpu)
}

// BenchmarkList lists every conversation.
func BenchmarkList(b *testing.B) {
	st, _ := tenThousand(b)
	cpu := cputime.Process()
	for b.Loop() {
		if l, err := st.List(context.Background(), 0); err != nil || len(l) != 501 {
			b.Fatal(err)
		}
	}
	cputime.Report(b, cpu)
}

// BenchmarkDiskSize10k reports the size on disk of the database of 11,000
// messages (with every answer's timeline) and how long recording it took.
func BenchmarkDiskSize10k(b *testing.B) {
	st, _ := tenThousand(b)
	var msgs, events, chunks int
	st.db.QueryRow("SELECT count(*) FROM messages").Scan(&msgs)
	st.db.QueryRow("SELECT count(*) FROM timeline_chunks").Scan(&chunks)
	st.db.QueryRow("SELECT sum(length(events) - length(replace(events, char(10), ''))) FROM timeline_chunks").Scan(&events)
	st.db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	var size int64
	files, _ := filepath.Glob(filepath.Join(benchDB.dir, FileName+"*"))
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			size += fi.Size()
		}
	}
	for b.Loop() {
	}
	b.ReportMetric(float64(msgs), "messages")
	b.ReportMetric(float64(events), "events")
	b.ReportMetric(float64(chunks), "chunks")
	b.ReportMetric(float64(size)/(1<<20), "MB")
	if benchDB.building > 0 {
		b.ReportMetric(benchDB.building.Seconds(), "s-to-record")
	}
}

// BenchmarkRecordEvent is what recording costs per streamed delta:
// "chat-ns/op" is the chat goroutine's share (the recorder's TurnEvent,
// which queues the event), "cpu-ms/op" the whole process's, the writer
// goroutine's encoding and writing included.
func BenchmarkRecordEvent(b *testing.B) {
	st, _ := openTempB(b)
	chat := session.NewChat(session.ChatOptions{Provider: &scripted{script: func(_ int, ctx context.Context, _ func(provider.Event)) error {
		<-ctx.Done()
		return ctx.Err()
	}}, Settings: session.Settings{Model: "m"}})
	rec := st.Recorder(RecorderOptions{Provider: "bench"})
	chat.Observe(rec)
	turn, err := chat.Send(context.Background(), "go")
	if err != nil {
		b.Fatal(err)
	}
	defer chat.Cancel()
	ev := session.Stamped{Run: turn.ID, At: time.Now(), Event: provider.TextDelta{Text: "abcd"}}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu, thread := cputime.Process(), cputime.Thread()
	for b.Loop() {
		rec.TurnEvent(chat, turn, ev)
	}
	b.ReportMetric(float64(cputime.Thread()-thread)/float64(b.N), "chat-ns/op")
	if err := rec.Flush(); err != nil {
		b.Fatal(err)
	}
	cputime.Report(b, cpu)
}

func openTempB(b *testing.B) (*Store, string) {
	dir := b.TempDir()
	st, err := Open(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st, dir
}

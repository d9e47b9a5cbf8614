package session_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/provider/openai"
	"github.com/parley-chat/parley/session"
)

// byName is a loopback gateway that answers each model by name: "<model>
// says hi". A model in refuseFirst answers its first request with 429
// Retry-After: 2; a model in hold waits for the channel to close before
// its answer.
type byName struct {
	refuseFirst map[string]bool
	hold        map[string]chan struct{}
	mu          sync.Mutex
	seen        map[string]int
}

func (g *byName) start(t *testing.T) provider.Provider {
	t.Helper()
	g.seen = map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Model string `json:"model"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		g.mu.Lock()
		g.seen[req.Model]++
		n := g.seen[req.Model]
		g.mu.Unlock()
		w.Header().Set("X-RateLimit-Limit-Requests", "20")
		w.Header().Set("X-RateLimit-Remaining-Requests", fmt.Sprint(20-n))
		if g.refuseFirst[req.Model] && n == 1 {
			w.Header().Set("Retry-After", "2")
			http.Error(w, `{"error":{"message":"Request queued","type":"rate_limit_error"}}`, http.StatusTooManyRequests)
			return
		}
		if ch := g.hold[req.Model]; ch != nil {
			select {
			case <-ch:
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "text/event-stream")
		b, _ := json.Marshal(map[string]any{"model": req.Model, "choices": []any{map[string]any{"index": 0,
			"delta": map[string]any{"content": req.Model + " says hi"}, "finish_reason": "stop"}}})
		fmt.Fprintf(w, "data: %s\n\ndata: [DONE]\n\n", b)
	}))
	t.Cleanup(srv.Close)
	p, err := openai.New(provider.Options{Name: "gw", BaseURL: srv.URL + "/v1", APIKey: "sk-loopback-test", MaxRetries: 2})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type colEvent struct {
	col int
	ev  session.Stamped
}

func newCompare(t *testing.T, p provider.Provider, models ...string) (*session.Compare, chan colEvent) {
	t.Helper()
	events := make(chan colEvent, 256)
	c := session.NewCompare(session.CompareOptions{Deliver: func(col int, ev session.Stamped) { events <- colEvent{col, ev} }})
	for _, m := range models {
		if _, err := c.Add(session.ColumnSpec{Label: m, Provider: p, Settings: session.Settings{Model: m}}); err != nil {
			t.Fatal(err)
		}
	}
	return c, events
}

// drain hands events to the comparison until every column has finished,
// calling each for every event handled, and returns the order in which
// the columns finished.
func drain(t *testing.T, c *session.Compare, events chan colEvent, each func(colEvent)) []int {
	t.Helper()
	var order []int
	for !c.Done() {
		select {
		case e := <-events:
			up := c.Handle(e.col, e.ev)
			if each != nil {
				each(e)
			}
			if up.Finished {
				order = append(order, e.col)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the comparison never finished")
		}
	}
	return order
}

// TestCompareColumnQueuedWhileOtherFinishes: beta's first request is
// queued (429, Retry-After 2); alpha, held until beta is queued, streams
// and finishes meanwhile, then beta finishes too. Each column keeps its
// own answer and figures.
func TestCompareColumnQueuedWhileOtherFinishes(t *testing.T) {
	release := make(chan struct{})
	g := &byName{refuseFirst: map[string]bool{"beta": true}, hold: map[string]chan struct{}{"alpha": release}}
	c, events := newCompare(t, g.start(t), "alpha", "beta")
	if err := c.Send(context.Background(), "question"); err != nil {
		t.Fatal(err)
	}
	betaQueuedWhenAlphaDone := false
	order := drain(t, c, events, func(e colEvent) {
		if _, ok := e.ev.Event.(provider.Retry); ok && e.col == 1 {
			close(release)
		}
		if e.col == 0 && session.Terminal(e.ev.Event) {
			betaQueuedWhenAlphaDone = c.Columns()[1].Chat.State().Phase == session.PhaseQueued
		}
	})
	if len(order) != 2 || order[0] != 0 || !betaQueuedWhenAlphaDone {
		t.Fatalf("finish order %v, beta queued when alpha finished: %v", order, betaQueuedWhenAlphaDone)
	}
	for i, want := range []string{"alpha says hi", "beta says hi"} {
		msgs := c.Columns()[i].Chat.Conversation().Messages
		if len(msgs) != 2 || msgs[1].Content != want {
			t.Fatalf("column %d history %+v", i+1, msgs)
		}
	}
	rs := c.Results(time.Now())
	if rs[0].Waited != 0 || rs[1].Waited < 2*time.Second || rs[1].TTFT >= rs[1].Waited {
		t.Fatalf("results %+v", rs)
	}
	if rs[0].Outcome() != "stop" || rs[1].Outcome() != "stop" || c.Failed() {
		t.Fatalf("outcomes %q %q", rs[0].Outcome(), rs[1].Outcome())
	}
}

// TestCompareCancelOneColumn: cancelling one column leaves the other
// streaming to its end.
func TestCompareCancelOneColumn(t *testing.T) {
	hold := map[string]chan struct{}{"alpha": make(chan struct{}), "beta": make(chan struct{})}
	g := &byName{hold: hold}
	c, events := newCompare(t, g.start(t), "alpha", "beta", "gamma")
	if err := c.Send(context.Background(), "question"); err != nil {
		t.Fatal(err)
	}
	if !c.CancelColumn(0) || c.CancelColumn(0) {
		t.Fatal("CancelColumn should report only a streaming column")
	}
	if !c.Columns()[1].Chat.Streaming() {
		t.Fatal("cancelling column 1 stopped column 2")
	}
	close(hold["beta"])
	drain(t, c, events, nil)
	rs := c.Results(time.Now())
	if rs[0].Outcome() != "interrupted" || rs[1].Outcome() != "stop" || rs[2].Outcome() != "stop" {
		t.Fatalf("outcomes %q %q %q", rs[0].Outcome(), rs[1].Outcome(), rs[2].Outcome())
	}
	if got := c.Columns()[1].Chat.Turn().Text(); got != "beta says hi" {
		t.Fatalf("column 2 answered %q", got)
	}
	// A follow-up goes to every column; each keeps its own history.
	if err := c.Send(context.Background(), "again"); err != nil {
		t.Fatal(err)
	}
	close(hold["alpha"])
	drain(t, c, events, nil)
	for i, col := range c.Columns() {
		msgs := col.Chat.Conversation().Messages
		last := msgs[len(msgs)-1].Content
		if want := []string{"alpha", "beta", "gamma"}[i] + " says hi"; last != want {
			t.Fatalf("column %d last message %q, want %q", i+1, last, want)
		}
	}
	if n := len(c.Columns()[0].Chat.Conversation().Messages); n != 3 { // question, again, answer (the cancelled answer was empty)
		t.Fatalf("column 1 has %d messages", n)
	}
	// Pick keeps one column and its chat.
	keep, err := c.Pick(1)
	if err != nil || keep.Label != "beta" || len(c.Columns()) != 1 {
		t.Fatalf("pick: %v %+v", err, c.Columns())
	}
	if _, err := c.Pick(4); err == nil {
		t.Fatal("picking a missing column should fail")
	}
}

func TestCompareLimits(t *testing.T) {
	c := session.NewCompare(session.CompareOptions{})
	for i := 0; i < session.MaxColumns; i++ {
		if _, err := c.Add(session.ColumnSpec{Label: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Add(session.ColumnSpec{Label: "7"}); err != session.ErrTooManyColumns {
		t.Fatalf("a seventh column: %v", err)
	}
	if c.Done() {
		t.Fatal("a comparison never asked is not done")
	}
}

func TestSummaryTable(t *testing.T) {
	rows := [][]string{session.SummaryHeader()}
	rows = append(rows, session.Result{Column: 1, Label: "alpha", Asked: true, TTFT: 350 * time.Millisecond,
		TokensPerSecond: 51.6, OutputTokens: 312, Duration: 6800 * time.Millisecond, FinishReason: "stop", Phase: session.PhaseDone}.Cells())
	rows = append(rows, session.Result{Column: 2, Label: "béta", Asked: true, Waited: 2 * time.Second,
		Err: &provider.APIError{Kind: provider.KindHTTP, Status: 500}, Phase: session.PhaseError}.Cells())
	got := session.FormatTable(rows, ansi.StringWidth)
	want := strings.Join([]string{
		"#  model  TTFT   tok/s  out tok  duration  waited  finish",
		"1  alpha  0.35s  52     312      6.8s      —       stop",
		"2  béta   —      —      0        0.00s     2.0s    error 500",
		""}, "\n")
	if got != want {
		t.Fatalf("table\n%s\nwant\n%s", got, want)
	}
}

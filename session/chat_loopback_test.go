package session_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/provider/openai"
	"github.com/parley-chat/parley/session"
)

// gateway is a loopback OpenAI-compatible server that sends its own
// rate-limit headers and streams texts; before streaming the text at index
// holdAt it waits for hold to close.
func gateway(t *testing.T, limit, remaining int, texts []string, holdAt int, hold chan struct{}) provider.Provider {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("X-RateLimit-Limit-Requests", fmt.Sprint(limit))
		w.Header().Set("X-RateLimit-Remaining-Requests", fmt.Sprint(remaining))
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		chunk := func(delta map[string]any, finish any) {
			b, _ := json.Marshal(map[string]any{"id": "c", "object": "chat.completion.chunk",
				"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}})
			fmt.Fprintf(w, "data: %s\n\n", b)
			w.(http.Flusher).Flush()
		}
		for i, s := range texts {
			if i == holdAt && hold != nil {
				select {
				case <-hold:
				case <-r.Context().Done():
					return
				}
			}
			chunk(map[string]any{"content": s}, nil)
		}
		chunk(map[string]any{}, "stop")
		fmt.Fprint(w, "data: [DONE]\n\n")
	}))
	t.Cleanup(srv.Close)
	p, err := openai.New(provider.Options{Name: "gw", BaseURL: srv.URL + "/v1", APIKey: "sk-loopback-test"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTwoChatsAtOnce drives two chats against two loopback gateways at the
// same time, with no UI: one owner goroutine (this test) receives both
// chats' events, the way a compare screen would. The streams interleave:
// B starts its answer only after A's first delta arrived, and A goes on
// only after B has finished. The owner then
// handles all of A's events before any of B's, the reverse of the order
// they were emitted in. Each chat must end with its own answer, its own
// rate limits and its own timeline, and the timelines must show when each
// event was emitted, not when it was handled.
func TestTwoChatsAtOnce(t *testing.T) {
	holdA, holdB := make(chan struct{}), make(chan struct{})
	provA := gateway(t, 20, 7, []string{"alpha one", " alpha two"}, 1, holdA)
	provB := gateway(t, 15, 3, []string{"beta"}, 0, holdB)

	type delivered struct {
		chat string
		ev   session.Stamped
	}
	inbox := make(chan delivered, 64)
	newChat := func(name string, p provider.Provider) *session.Chat {
		return session.NewChat(session.ChatOptions{Provider: p, Settings: session.Settings{Model: "m-" + name},
			Deliver: func(ev session.Stamped) { inbox <- delivered{name, ev} }})
	}
	chats := map[string]*session.Chat{"A": newChat("A", provA), "B": newChat("B", provB)}
	for name, c := range chats {
		if _, err := c.Send(t.Context(), "question for "+name); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Cancel() })
	}

	// Collect without handling: B must finish while A is held.
	got := map[string][]session.Stamped{}
	doneB := time.Time{}
	deadline := time.After(10 * time.Second)
	for ended := 0; ended < 2; {
		select {
		case d := <-inbox:
			got[d.chat] = append(got[d.chat], d.ev)
			if _, ok := d.ev.Event.(provider.TextDelta); ok && d.chat == "A" {
				select {
				case <-holdB:
				default:
					close(holdB) // A has begun: now B may answer
				}
			}
			if !session.Terminal(d.ev.Event) {
				continue
			}
			ended++
			if d.chat == "B" {
				doneB = d.ev.At
				close(holdA) // B has ended: now A may go on
			}
		case <-deadline:
			t.Fatalf("streams did not end; got %d events of A, %d of B", len(got["A"]), len(got["B"]))
		}
	}
	if doneB.IsZero() {
		t.Fatal("A ended before B: the streams did not run at once")
	}
	// Handle A entirely, then B.
	for _, name := range []string{"A", "B"} {
		for _, ev := range got[name] {
			if up := chats[name].Handle(ev); up.Stale {
				t.Fatalf("%s: live event handled as stale: %+v", name, ev)
			}
		}
	}

	a, b := chats["A"], chats["B"]
	if a.Streaming() || b.Streaming() || a.State().Phase != session.PhaseDone || b.State().Phase != session.PhaseDone {
		t.Fatalf("phases %v %v", a.State().Phase, b.State().Phase)
	}
	if ta, tb := a.Turn().Text(), b.Turn().Text(); ta != "alpha one alpha two" || tb != "beta" {
		t.Fatalf("answers %q %q", ta, tb)
	}
	for name, want := range map[string][2]int{"A": {20, 7}, "B": {15, 3}} {
		s := chats[name].Limits().Snapshot()
		if len(s) != 1 || s[0].Scope != "requests" || s[0].Limit != want[0] || s[0].Remaining != want[1] {
			t.Errorf("%s: rate limits %+v, want %d/%d", name, s, want[1], want[0])
		}
	}
	// Each timeline holds its own run's events, at their emission times.
	for name, c := range chats {
		turn := c.Turn()
		if len(turn.Events()) != len(got[name]) {
			t.Fatalf("%s: %d events on the timeline, %d delivered", name, len(turn.Events()), len(got[name]))
		}
		for i, te := range turn.Events() {
			if ev := got[name][i]; ev.Run != turn.ID || te.Offset != ev.At.Sub(turn.Start) {
				t.Fatalf("%s: event %d at %v on the timeline, emitted at %v", name, i, te.Offset, ev.At.Sub(turn.Start))
			}
		}
	}
	// A's second delta was emitted after B's end, though A was handled
	// first: its place on the timeline comes from the stamp.
	var second time.Time
	for _, te := range a.Turn().Events() {
		if d, ok := te.Event.(provider.TextDelta); ok && d.Text == " alpha two" {
			second = a.Turn().Start.Add(te.Offset)
		}
	}
	if !second.After(doneB) || !a.Turn().End.After(b.Turn().End) {
		t.Fatalf("A's second delta at %v, B done at %v: the timeline follows handling, not emission", second, doneB)
	}
	if !a.Turn().FirstText.Before(b.Turn().FirstText) {
		t.Fatalf("A's first text at %v, after B's at %v", a.Turn().FirstText, b.Turn().FirstText)
	}
}

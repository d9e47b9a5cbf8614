package session_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/provider/openai"
	"github.com/parley-chat/parley/session"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func newGate() *session.Gate {
	return session.NewPacer(session.PacerOptions{}).Gate(session.PaceKey{Provider: "gw", Model: "m"})
}

func TestGateHoldsUntilTheReset(t *testing.T) {
	g := newGate()
	if d, _ := g.Reserve(t0); d != 0 {
		t.Fatalf("an unknown budget held a request for %s", d)
	}
	g.Observe(provider.RateLimit{Scope: "requests", Limit: 20, Remaining: 0, Reset: t0.Add(2 * time.Second)})
	d, scope := g.Reserve(t0)
	if d != 2*time.Second || scope != "requests" {
		t.Fatalf("Reserve = %s %q, want 2s requests", d, scope)
	}
	if d, _ := g.Reserve(t0.Add(1999 * time.Millisecond)); d != time.Millisecond {
		t.Fatalf("a millisecond before the reset: wait %s", d)
	}
	if d, _ := g.Reserve(t0.Add(2 * time.Second)); d != 0 {
		t.Fatalf("at the reset: wait %s", d)
	}
	// The window started again full: 19 more go out at once.
	for i := 0; i < 19; i++ {
		if d, _ := g.Reserve(t0.Add(2 * time.Second)); d != 0 {
			t.Fatalf("request %d of the new window held for %s", i+2, d)
		}
	}
}

// TestGateCountsWhatItSends: requests sent count against the budget
// before the gateway's answer says so, so two chats sharing the last
// request of a window do not both send.
func TestGateCountsWhatItSends(t *testing.T) {
	g := newGate()
	reset := t0.Add(30 * time.Second)
	g.Observe(provider.RateLimit{Scope: "requests", Limit: 20, Remaining: 2, Reset: reset})
	for i := 0; i < 2; i++ {
		if d, _ := g.Reserve(t0); d != 0 {
			t.Fatalf("request %d held for %s", i+1, d)
		}
	}
	if d, _ := g.Reserve(t0); d != 30*time.Second {
		t.Fatalf("third request: wait %s, want 30s", d)
	}
	// A late answer about the same window with more left does not undo
	// the count; an answer about an older window is ignored.
	g.Observe(provider.RateLimit{Scope: "requests", Limit: 20, Remaining: 1, Reset: reset.Add(500 * time.Millisecond)})
	g.Observe(provider.RateLimit{Scope: "requests", Limit: 20, Remaining: 9, Reset: reset.Add(-time.Minute)})
	if d, _ := g.Reserve(t0); d != 30*time.Second {
		t.Fatalf("after late answers: wait %s, want 30s", d)
	}
}

func TestGateScopesAndLimits(t *testing.T) {
	g := newGate()
	// A tokens budget at zero holds too, for the furthest reset.
	g.Observe(provider.RateLimit{Scope: "requests", Limit: 20, Remaining: 0, Reset: t0.Add(3 * time.Second)})
	g.Observe(provider.RateLimit{Scope: "tokens", Limit: 1000, Remaining: 0, Reset: t0.Add(7 * time.Second)})
	if d, scope := g.Reserve(t0); d != 7*time.Second || scope != "tokens" {
		t.Fatalf("Reserve = %s %q, want 7s tokens", d, scope)
	}
	// A reset too far away is not waited for: a daily limit must not
	// hold a request in silence for hours.
	g2 := newGate()
	g2.Observe(provider.RateLimit{Scope: "requests", Limit: 1000, Remaining: 0, Reset: t0.Add(6 * time.Hour)})
	if d, _ := g2.Reserve(t0); d != 0 {
		t.Fatalf("held %s for a reset six hours away", d)
	}
	// Without a reset there is nothing to wait for; without a count,
	// nothing to pace by.
	g3 := newGate()
	g3.Observe(provider.RateLimit{Scope: "requests", Limit: 20, Remaining: 0})
	g3.Observe(provider.RateLimit{Scope: "tokens", Limit: -1, Remaining: -1, Reset: t0.Add(time.Second)})
	if d, _ := g3.Reserve(t0); d != 0 {
		t.Fatalf("held %s without a reset", d)
	}
}

func TestPacerSharesABudgetPerProviderAndModel(t *testing.T) {
	p := session.NewPacer(session.PacerOptions{})
	a := p.Gate(session.PaceKey{Provider: "gw", Model: "m"})
	if p.Gate(session.PaceKey{Provider: "gw", Model: "m"}) != a {
		t.Fatal("one budget, two gates")
	}
	if p.Gate(session.PaceKey{Provider: "gw", Model: "other"}) == a || p.Gate(session.PaceKey{Provider: "gw2", Model: "m"}) == a {
		t.Fatal("different budgets share a gate")
	}
	l1, l2 := p.Limits(session.PaceKey{Provider: "gw", Model: "m"}), p.Limits(session.PaceKey{Provider: "gw", Model: "m"})
	if l1 != l2 {
		t.Fatal("one budget, two rate-limit states")
	}
}

// TestPacedRequestGoesOutAfterTheReset: a loopback gateway says the first
// answer used the last request of a window that resets in 2 s; the next
// request is held, announced as a Paced wait, and reaches the gateway
// after the reset, not before.
func TestPacedRequestGoesOutAfterTheReset(t *testing.T) {
	var mu sync.Mutex
	var arrivals []time.Time
	var resetAt time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		mu.Lock()
		arrivals = append(arrivals, now)
		first := len(arrivals) == 1
		if first {
			resetAt = now.Add(2 * time.Second)
		}
		mu.Unlock()
		w.Header().Set("X-RateLimit-Limit-Requests", "15")
		if first {
			w.Header().Set("X-RateLimit-Remaining-Requests", "0")
			w.Header().Set("X-RateLimit-Reset-Requests", "2s")
		} else {
			w.Header().Set("X-RateLimit-Remaining-Requests", "14")
			w.Header().Set("X-RateLimit-Reset-Requests", "60s")
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
	}))
	defer srv.Close()
	prov, err := openai.New(provider.Options{Name: "gw", BaseURL: srv.URL + "/v1", APIKey: "sk-loopback-test"})
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan session.Stamped, 64)
	chat := session.NewChat(session.ChatOptions{Provider: prov, Settings: session.Settings{Model: "m"},
		Pacer: session.NewPacer(session.PacerOptions{}), Deliver: func(ev session.Stamped) { events <- ev }})
	answer := func() *session.Turn {
		t.Helper()
		turn, err := chat.Send(context.Background(), "hi")
		if err != nil {
			t.Fatal(err)
		}
		for {
			select {
			case ev := <-events:
				if up := chat.Handle(ev); up.Finished {
					return turn
				}
				if _, ok := ev.Event.(provider.Paced); ok && chat.State().Phase != session.PhaseWaiting {
					t.Fatalf("phase %s while paced", chat.State().Phase)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("no answer")
			}
		}
	}
	if turn := answer(); turn.Err != nil || turn.Text() != "ok" {
		t.Fatalf("first answer %q, %v", turn.Text(), turn.Err)
	}
	turn := answer()
	if turn.Err != nil || turn.Text() != "ok" {
		t.Fatalf("second answer %q, %v", turn.Text(), turn.Err)
	}
	paced := 0
	for _, te := range turn.Events() {
		if p, ok := te.Event.(provider.Paced); ok {
			paced++
			if p.Scope != "requests" || p.Wait <= 0 || p.Wait > 2*time.Second {
				t.Fatalf("paced %+v", p)
			}
		}
	}
	if paced == 0 {
		t.Fatalf("the second request was not paced: %+v", turn.Events())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(arrivals) != 2 {
		t.Fatalf("%d requests reached the gateway, want 2", len(arrivals))
	}
	if arrivals[1].Before(resetAt) {
		t.Fatalf("the second request arrived %s before the reset", resetAt.Sub(arrivals[1]))
	}
	if turn.Waited(time.Now()) <= 0 || turn.SentAt.Before(turn.Start) {
		t.Fatalf("turn waited %s, sent %s after start", turn.Waited(time.Now()), turn.SentAt.Sub(turn.Start))
	}
}

// TestPacedWaitIsCancellable: Cancel during the wait ends the turn at
// once, interrupted, and nothing reaches the gateway.
func TestPacedWaitIsCancellable(t *testing.T) {
	hits := 0
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		http.Error(w, "unexpected", http.StatusTeapot)
	}))
	defer srv.Close()
	prov, err := openai.New(provider.Options{Name: "gw", BaseURL: srv.URL + "/v1", APIKey: "sk-loopback-test"})
	if err != nil {
		t.Fatal(err)
	}
	pacer := session.NewPacer(session.PacerOptions{})
	pacer.Gate(session.PaceKey{Provider: "gw", Model: "m"}).Observe(
		provider.RateLimit{Scope: "requests", Limit: 15, Remaining: 0, Reset: time.Now().Add(time.Minute)})
	events := make(chan session.Stamped, 64)
	chat := session.NewChat(session.ChatOptions{Provider: prov, Settings: session.Settings{Model: "m"},
		Pacer: pacer, Deliver: func(ev session.Stamped) { events <- ev }})
	turn, err := chat.Send(context.Background(), "hi")
	if err != nil {
		t.Fatal(err)
	}
	ev := <-events
	if _, ok := ev.Event.(provider.Paced); !ok {
		t.Fatalf("first event %#v, want paced", ev.Event)
	}
	chat.Handle(ev)
	if s := chat.State(); s.Phase != session.PhaseWaiting || s.RetryIn(time.Now()) <= 50*time.Second {
		t.Fatalf("state %+v", s)
	}
	chat.Cancel()
	if !turn.Interrupted || chat.Streaming() {
		t.Fatalf("cancel during the wait: interrupted %v, streaming %v", turn.Interrupted, chat.Streaming())
	}
	for ev := range events {
		if session.Terminal(ev.Event) {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if hits != 0 {
		t.Fatalf("%d requests reached the gateway", hits)
	}
}

package session

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/provider"
)

var t0 = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func TestTurnFoldsEvents(t *testing.T) {
	tr := NewTurn(t0)
	evs := []struct {
		ms int
		ev provider.Event
	}{
		{5, provider.RateLimit{Scope: "requests", Limit: 20, Remaining: 7}},
		{10, provider.Started{Status: 200, Model: "m-1"}},
		{100, provider.ReasoningDelta{Text: "let me "}},
		{200, provider.ReasoningDelta{Text: "think"}},
		{3300, provider.TextDelta{Text: "Hello"}},
		{3400, provider.TextDelta{Text: ", wörld"}},
		{3500, provider.ToolCallEvent{ToolCall: provider.ToolCall{ID: "c1", Name: "f", Arguments: `{"a":1}`}}},
		{3600, provider.Usage{InputTokens: 3, OutputTokens: 9, ReasoningTokens: 412}},
	}
	for _, e := range evs {
		if tr.Apply(e.ev, at(e.ms)) {
			t.Fatalf("%T reported as terminal", e.ev)
		}
	}
	if !tr.Apply(provider.Done{FinishReason: "tool_calls"}, at(3700)) {
		t.Fatal("Done not terminal")
	}
	if tr.Text() != "Hello, wörld" || tr.Reasoning() != "let me think" {
		t.Fatalf("text %q reasoning %q", tr.Text(), tr.Reasoning())
	}
	if got := tr.ReasoningDuration(at(9999)); got != 3200*time.Millisecond {
		t.Fatalf("reasoning duration %v", got)
	}
	if tr.ReasoningTokens() != 412 || tr.OutputTokens() != 9 {
		t.Fatalf("tokens %d %d", tr.ReasoningTokens(), tr.OutputTokens())
	}
	if tr.Model != "m-1" || tr.FinishReason != "tool_calls" || len(tr.ToolCalls) != 1 {
		t.Fatalf("model %q finish %q calls %v", tr.Model, tr.FinishReason, tr.ToolCalls)
	}
	if len(tr.Events()) != len(evs)+1 || tr.Events()[4].Offset != 3300*time.Millisecond {
		t.Fatalf("timeline %d events, [4] at %v", len(tr.Events()), tr.Events()[4].Offset)
	}
	m := tr.Message()
	if m.Role != provider.RoleAssistant || m.Content != "Hello, wörld" || m.Reasoning != "let me think" || len(m.ToolCalls) != 1 {
		t.Fatalf("message %+v", m)
	}
	// Events after the end are recorded and change nothing.
	tr.Apply(provider.TextDelta{Text: "late"}, at(4000))
	if tr.Text() != "Hello, wörld" || len(tr.Events()) != len(evs)+2 {
		t.Fatal("late event changed the turn")
	}
}

func TestTurnErrorKeepsPartial(t *testing.T) {
	tr := NewTurn(t0)
	tr.Apply(provider.TextDelta{Text: "part"}, at(1))
	tr.Apply(provider.Error{Err: &provider.APIError{Kind: provider.KindNetwork, Message: "reset"}}, at(2))
	if tr.Err == nil || tr.Interrupted || tr.Text() != "part" || !tr.Finished() {
		t.Fatalf("err %v interrupted %v text %q", tr.Err, tr.Interrupted, tr.Text())
	}
	tr2 := NewTurn(t0)
	tr2.Apply(provider.TextDelta{Text: "part"}, at(1))
	tr2.Apply(provider.Error{Err: &provider.APIError{Kind: provider.KindCanceled}}, at(2))
	if tr2.Err != nil || !tr2.Interrupted {
		t.Fatalf("cancel: err %v interrupted %v", tr2.Err, tr2.Interrupted)
	}
	tr3 := NewTurn(t0)
	tr3.Apply(provider.ReasoningDelta{Text: "hmm"}, at(1))
	tr3.Interrupt(at(50))
	if !tr3.Interrupted || !tr3.Finished() || tr3.ReasoningDuration(at(999)) != 49*time.Millisecond {
		t.Fatalf("interrupt: %+v", tr3)
	}
}

func TestTurnEstimatesWithoutUsage(t *testing.T) {
	tr := NewTurn(t0)
	tr.Apply(provider.TextDelta{Text: "abcdefgh"}, at(0))
	tr.Apply(provider.TextDelta{Text: "abcdefgh"}, at(1000))
	if tr.OutputTokens() != 4 {
		t.Fatalf("estimate %d", tr.OutputTokens())
	}
	if got := tr.TokensPerSecond(at(1000)); got != 4 {
		t.Fatalf("tok/s %v", got)
	}
}

func TestStreamState(t *testing.T) {
	var s StreamState
	s.Begin()
	if s.Phase != PhaseConnecting || !s.Phase.Active() {
		t.Fatal(s.Phase)
	}
	s.Apply(provider.Retry{Attempt: 1, Max: 2, Status: 429, Wait: 4 * time.Second, Queued: true}, at(0))
	if s.Phase != PhaseQueued || s.RetryIn(at(1500)) != 2500*time.Millisecond || s.RetryIn(at(5000)) != 0 {
		t.Fatalf("%v %v", s.Phase, s.RetryIn(at(1500)))
	}
	s.Apply(provider.Retry{Attempt: 2, Max: 2, Status: 503, Wait: time.Second}, at(5000))
	if s.Phase != PhaseRetrying || s.Attempt != 2 {
		t.Fatal(s.Phase)
	}
	s.Apply(provider.TextDelta{Text: "x"}, at(6000))
	if s.Phase != PhaseStreaming || s.RetryIn(at(6000)) != 0 {
		t.Fatal(s.Phase)
	}
	s.Interrupt()
	if s.Phase != PhaseInterrupted {
		t.Fatal(s.Phase)
	}
	s.Begin()
	s.Apply(provider.Error{Err: &provider.APIError{Status: 401, Message: "bad key"}}, at(0))
	if s.Phase != PhaseError || s.Message != "bad key" || s.Phase.Active() {
		t.Fatal(s.Phase)
	}
}

func TestRateLimitsConcurrent(t *testing.T) {
	var r RateLimits
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				r.Update(provider.RateLimit{Scope: []string{"requests", "tokens"}[i%2], Limit: 20, Remaining: j})
				_ = r.Snapshot()
			}
		}(i)
	}
	wg.Wait()
	r.Update(provider.RateLimit{Scope: "requests", Limit: 20, Remaining: 7})
	snap := r.Snapshot()
	if len(snap) != 2 {
		t.Fatalf("%+v", snap)
	}
	for _, rl := range snap {
		if rl.Scope == "requests" && rl.Remaining != 7 {
			t.Fatalf("%+v", snap)
		}
	}
	var fresh RateLimits
	fresh.Update(provider.RateLimit{Scope: "tokens"})
	fresh.Update(provider.RateLimit{Scope: "requests"})
	fresh.Update(provider.RateLimit{Scope: "tokens", Remaining: 3})
	if s := fresh.Snapshot(); s[0].Scope != "tokens" || s[0].Remaining != 3 || s[1].Scope != "requests" {
		t.Fatalf("order %+v", s)
	}
}

func TestConversation(t *testing.T) {
	c := NewConversation(Settings{Model: "m", System: "be brief"})
	c.AddUser("one")
	c.AddAssistant(provider.Message{Content: "1"})
	c.AddUser("two")
	c.AddAssistant(provider.Message{Content: "2"})
	if p, _ := c.LastUserPrompt(); p != "two" {
		t.Fatal(p)
	}
	if !c.DropLastAnswer() || len(c.Messages) != 3 {
		t.Fatalf("%+v", c.Messages)
	}
	req := c.Request()
	if len(req.Messages) != 4 || req.Messages[0].Role != provider.RoleSystem || req.Model != "m" {
		t.Fatalf("%+v", req)
	}
	id := c.ID
	c.Reset()
	if len(c.Messages) != 0 || c.ID == id || c.Settings.Model != "m" {
		t.Fatal("reset")
	}
}

// fakeProvider streams a scripted list of events, optionally blocking until
// cancelled, optionally omitting the terminal event or panicking.
type fakeProvider struct {
	events   []provider.Event
	block    bool
	panicMsg string
	ret      error
}

func (f *fakeProvider) Name() string              { return "fake" }
func (f *fakeProvider) Dialect() provider.Dialect { return "fake" }
func (f *fakeProvider) Models(context.Context) ([]provider.Model, error) {
	return nil, nil
}
func (f *fakeProvider) Stream(ctx context.Context, req *provider.Request, emit func(provider.Event)) error {
	for _, ev := range f.events {
		emit(ev)
	}
	if f.panicMsg != "" {
		panic(f.panicMsg)
	}
	if f.block {
		<-ctx.Done()
		return ctx.Err() // misbehaves: no terminal event
	}
	return f.ret
}

func collect(t *testing.T, p provider.Provider, cancel bool) []provider.Event {
	t.Helper()
	var mu sync.Mutex
	var got []provider.Event
	started := make(chan struct{}, 1)
	var run *Run
	var ids []uint64
	run = NewRunner(p).Start(context.Background(), &provider.Request{}, func(ev Stamped) {
		mu.Lock()
		got = append(got, ev.Event)
		ids = append(ids, ev.Run)
		mu.Unlock()
		select {
		case started <- struct{}{}:
		default:
		}
	})
	if cancel {
		<-started
		run.Cancel()
	}
	select {
	case <-run.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("run did not end")
	}
	mu.Lock()
	defer mu.Unlock()
	for _, id := range ids {
		if id != run.ID {
			t.Fatalf("event stamped with run %d, want %d", id, run.ID)
		}
	}
	return got
}

func TestRunnerGuaranteesOneTerminalEvent(t *testing.T) {
	text := provider.TextDelta{Text: "hi"}
	cases := []struct {
		name   string
		p      *fakeProvider
		cancel bool
		want   func(provider.Event) bool
	}{
		{"done passes through", &fakeProvider{events: []provider.Event{text, provider.Done{FinishReason: "stop"}, text}},
			false, func(ev provider.Event) bool { d, ok := ev.(provider.Done); return ok && d.FinishReason == "stop" }},
		{"missing done synthesized", &fakeProvider{events: []provider.Event{text}},
			false, func(ev provider.Event) bool { _, ok := ev.(provider.Done); return ok }},
		{"plain error wrapped", &fakeProvider{events: []provider.Event{text}, ret: errors.New("boom")},
			false, func(ev provider.Event) bool { e, ok := ev.(provider.Error); return ok && e.Err.Message == "boom" }},
		{"cancel without terminal", &fakeProvider{events: []provider.Event{text}, block: true},
			true, func(ev provider.Event) bool {
				e, ok := ev.(provider.Error)
				return ok && e.Err.Kind == provider.KindCanceled
			}},
		{"panic becomes error", &fakeProvider{events: []provider.Event{text}, panicMsg: "oops"},
			false, func(ev provider.Event) bool {
				e, ok := ev.(provider.Error)
				return ok && strings.Contains(e.Err.Error(), "oops")
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := collect(t, tc.p, tc.cancel)
			if len(got) != 2 {
				t.Fatalf("got %d events: %#v", len(got), got)
			}
			if got[0] != text || !tc.want(got[1]) {
				t.Fatalf("events %#v", got)
			}
		})
	}
}

func TestRunnerIDsDistinct(t *testing.T) {
	r := NewRunner(&fakeProvider{})
	a := r.Start(context.Background(), &provider.Request{}, func(Stamped) {})
	b := r.Start(context.Background(), &provider.Request{}, func(Stamped) {})
	<-a.Done()
	<-b.Done()
	if a.ID == b.ID {
		t.Fatal("same run ID")
	}
}

func TestConversationContinuation(t *testing.T) {
	c := NewConversation(Settings{Model: "m", System: "be brief"})
	c.AddUser("one")
	if r := c.Request(); r.ChatID != "" || r.KnownMessages != 0 {
		t.Fatalf("first request continues: %+v", r)
	}
	c.AddAssistant(provider.Message{Content: "1"})
	c.Continue("chat_xyz")
	c.AddUser("two")
	r := c.Request()
	// system + one + 1 are known to the gateway; only "two" is new.
	if r.ChatID != "chat_xyz" || r.KnownMessages != 3 || len(r.Messages) != 4 || r.Messages[3].Content != "two" {
		t.Fatalf("continuation request: chat %q known %d msgs %d", r.ChatID, r.KnownMessages, len(r.Messages))
	}
	// A new system prompt (/system) reaches the gateway only with a new
	// chat: the whole history goes again.
	c.Settings.System = "be verbose"
	if r := c.Request(); r.ChatID != "" || len(r.Messages) != 4 || r.Messages[0].Content != "be verbose" {
		t.Fatalf("changed system prompt still continues: %+v", r)
	}
	c.Settings.System = "be brief"
	if !c.DropLastAnswer() {
		t.Fatal("no user message")
	}
	if r := c.Request(); r.ChatID != "" {
		t.Fatalf("retry must not continue a chat whose copy differs: %+v", r)
	}
	c.Continue("chat_2")
	c.Reset()
	if c.ChatID != "" || c.KnownMessages != 0 {
		t.Fatalf("reset kept the chat id")
	}
}

func TestUnansweredToolCallsGetAResult(t *testing.T) {
	c := NewConversation(Settings{Model: "m"})
	c.AddUser("weather in Paris?")
	c.AddAssistant(provider.Message{ToolCalls: []provider.ToolCall{
		{ID: "call_a", Name: "get_weather", Arguments: `{"location":"Paris"}`},
		{ID: "call_b", Name: "get_time", Arguments: `{}`},
	}})
	c.Messages = append(c.Messages, provider.Message{Role: provider.RoleTool, ToolCallID: "call_a", Name: "get_weather", Content: `{"temp":18}`})
	if p := c.PendingToolCalls(); len(p) != 1 || p[0].ID != "call_b" {
		t.Fatalf("pending = %+v", p)
	}
	c.AddUser("never mind")
	msgs := c.Request().Messages
	// user, assistant(2 calls), tool a, tool b (not run), user
	if len(msgs) != 5 || msgs[3].Role != provider.RoleTool || msgs[3].ToolCallID != "call_b" ||
		msgs[3].Name != "get_time" || msgs[3].Content != NotRunResult || msgs[4].Content != "never mind" {
		t.Fatalf("history %+v", msgs)
	}
	if p := c.PendingToolCalls(); len(p) != 0 {
		t.Fatalf("still pending: %+v", p)
	}
	c.AddUser("again")
	if n := len(c.Messages); n != 6 {
		t.Fatalf("a second prompt added tool results again: %d messages", n)
	}
}

package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/provider"
)

// scriptedProvider runs script for each Stream call; n counts the calls
// from 1. The embedded interface is never called: a Chat needs Stream only.
type scriptedProvider struct {
	provider.Provider
	script func(n int, ctx context.Context, emit func(provider.Event)) error
	mu     sync.Mutex
	reqs   []*provider.Request
}

func (p *scriptedProvider) Stream(ctx context.Context, req *provider.Request, emit func(provider.Event)) error {
	p.mu.Lock()
	p.reqs = append(p.reqs, req)
	n := len(p.reqs)
	p.mu.Unlock()
	return p.script(n, ctx, emit)
}

func (p *scriptedProvider) requests() []*provider.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*provider.Request(nil), p.reqs...)
}

// emitAll is a script that emits evs on every call.
func emitAll(evs ...provider.Event) func(int, context.Context, func(provider.Event)) error {
	return func(_ int, _ context.Context, emit func(provider.Event)) error {
		for _, ev := range evs {
			emit(ev)
		}
		return nil
	}
}

// recorder is an Observer that writes down what it sees, one line each.
type recorder struct{ log []string }

func (r *recorder) TurnStarted(c *Chat, t *Turn) {
	r.log = append(r.log, fmt.Sprintf("started %d", t.ID))
}
func (r *recorder) TurnEvent(c *Chat, t *Turn, ev Stamped) {
	r.log = append(r.log, fmt.Sprintf("event %d %s", t.ID, ev.Event.Type()))
}
func (r *recorder) TurnFinished(c *Chat, t *Turn) {
	r.log = append(r.log, fmt.Sprintf("finished %d", t.ID))
}
func (r *recorder) ConversationChanged(c *Chat, what Change) {
	r.log = append(r.log, "changed "+what.String())
}

// chatRig is a chat whose owner is the test: events arrive on a channel
// and the test hands them to Handle.
type chatRig struct {
	t    *testing.T
	chat *Chat
	evs  chan Stamped
	rec  *recorder
}

func newChatRig(t *testing.T, p provider.Provider, s Settings) *chatRig {
	t.Helper()
	r := &chatRig{t: t, evs: make(chan Stamped, 256), rec: &recorder{}}
	r.chat = NewChat(ChatOptions{Provider: p, Settings: s, Deliver: func(ev Stamped) { r.evs <- ev }})
	r.chat.Observe(r.rec)
	t.Cleanup(func() { r.chat.Cancel() })
	return r
}

// next hands the next delivered event to Handle.
func (r *chatRig) next() Update {
	r.t.Helper()
	select {
	case ev := <-r.evs:
		return r.chat.Handle(ev)
	case <-time.After(5 * time.Second):
		r.t.Fatal("no event delivered")
		return Update{}
	}
}

// finish handles events until the current turn finishes.
func (r *chatRig) finish() []Update {
	r.t.Helper()
	var ups []Update
	for {
		up := r.next()
		ups = append(ups, up)
		if up.Finished {
			return ups
		}
	}
}

func TestChatSendFoldsTheAnswer(t *testing.T) {
	p := &scriptedProvider{script: emitAll(
		provider.RateLimit{Scope: "requests", Limit: 20, Remaining: 7},
		provider.Started{Status: 200, Model: "m-1", ChatID: "chat_1"},
		provider.TextDelta{Text: "Hello"},
		provider.Usage{InputTokens: 12, OutputTokens: 2, TotalTokens: 14},
		provider.Done{FinishReason: "stop"},
	)}
	r := newChatRig(t, p, Settings{Model: "m"})
	turn, err := r.chat.Send(t.Context(), "hi")
	if err != nil {
		t.Fatal(err)
	}
	if !r.chat.Streaming() || r.chat.State().Phase != PhaseConnecting {
		t.Fatalf("after Send: streaming %v phase %v", r.chat.Streaming(), r.chat.State().Phase)
	}
	if _, err := r.chat.Send(t.Context(), "again"); !errors.Is(err, ErrBusy) {
		t.Fatalf("second Send while streaming: %v", err)
	}
	ups := r.finish()
	if len(ups) != 5 || ups[4].Turn != turn {
		t.Fatalf("updates %+v", ups)
	}
	for _, up := range ups {
		if up.Stale {
			t.Fatalf("live event marked stale: %+v", up)
		}
	}
	if r.chat.Streaming() || r.chat.State().Phase != PhaseDone || turn.Text() != "Hello" {
		t.Fatalf("phase %v text %q", r.chat.State().Phase, turn.Text())
	}
	msgs := r.chat.Conversation().Messages
	if len(msgs) != 2 || msgs[1].Role != provider.RoleAssistant || msgs[1].Content != "Hello" {
		t.Fatalf("conversation %+v", msgs)
	}
	if s := r.chat.Limits().Snapshot(); len(s) != 1 || s[0].Remaining != 7 {
		t.Fatalf("limits %+v", s)
	}
	if tot := r.chat.Totals(time.Now()); tot.LastTokens != 2 || tot.ConversationTokens != 14 || tot.TokensPerSecond != 0 {
		t.Fatalf("totals %+v", tot)
	}
	// The gateway's chat id carries over to the next request.
	if _, err := r.chat.Send(t.Context(), "more"); err != nil {
		t.Fatal(err)
	}
	r.finish()
	if req := p.requests()[1]; req.ChatID != "chat_1" || req.KnownMessages != 2 {
		t.Fatalf("continuation: chat %q known %d", req.ChatID, req.KnownMessages)
	}
	want := []string{"changed prompt", "started 1", "event 1 ratelimit", "event 1 started", "event 1 text",
		"event 1 usage", "event 1 done", "finished 1", "changed prompt", "started 2"}
	if got := r.rec.log[:len(want)]; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("observer saw\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// holdThenLate streams "partial", waits until cancelled, then (like a
// provider that ignores cancellation for a while) streams "late" and
// ends with Done.
func holdThenLate(release chan struct{}) func(int, context.Context, func(provider.Event)) error {
	return func(n int, ctx context.Context, emit func(provider.Event)) error {
		if n > 1 {
			emit(provider.TextDelta{Text: fmt.Sprintf("answer %d", n)})
			emit(provider.Done{FinishReason: "stop"})
			return nil
		}
		emit(provider.TextDelta{Text: "partial"})
		<-release
		emit(provider.TextDelta{Text: " late"})
		emit(provider.Done{FinishReason: "stop"})
		return nil
	}
}

func TestChatCancelKeepsPartialAndRecordsLateEvents(t *testing.T) {
	release := make(chan struct{})
	r := newChatRig(t, &scriptedProvider{script: holdThenLate(release)}, Settings{Model: "m"})
	turn, _ := r.chat.Send(t.Context(), "hi")
	r.next()
	if !r.chat.Cancel() || r.chat.Cancel() {
		t.Fatal("Cancel: want true once, then false")
	}
	if !turn.Interrupted || !turn.Finished() || r.chat.State().Phase != PhaseInterrupted {
		t.Fatalf("turn interrupted %v finished %v phase %v", turn.Interrupted, turn.Finished(), r.chat.State().Phase)
	}
	if msgs := r.chat.Conversation().Messages; len(msgs) != 2 || msgs[1].Content != "partial" {
		t.Fatalf("partial answer not kept: %+v", msgs)
	}
	close(release)
	late := r.next()
	done := r.next()
	if !late.Stale || !done.Stale || late.Turn != turn || done.Finished {
		t.Fatalf("late events: %+v %+v", late, done)
	}
	if turn.Text() != "partial" || len(turn.Events()) != 3 || r.chat.State().Phase != PhaseInterrupted {
		t.Fatalf("late events changed the turn: text %q, %d events, phase %v", turn.Text(), len(turn.Events()), r.chat.State().Phase)
	}
	want := "changed prompt|started 1|event 1 text|finished 1|event 1 text|event 1 done"
	if got := strings.Join(r.rec.log, "|"); got != want {
		t.Fatalf("observer saw %s\nwant %s", got, want)
	}
	// An event of a run the chat never started is dropped.
	if up := r.chat.Handle(Stamped{Run: 99, Event: provider.TextDelta{Text: "x"}}); !up.Stale || up.Turn != nil {
		t.Fatalf("unknown run: %+v", up)
	}
}

func TestChatRetrySupersedesTheAnswer(t *testing.T) {
	release := make(chan struct{})
	p := &scriptedProvider{script: holdThenLate(release)}
	r := newChatRig(t, p, Settings{Model: "m"})
	first, _ := r.chat.Send(t.Context(), "hi")
	r.next()
	// Retry mid-stream: the first run is cancelled and superseded.
	second, err := r.chat.Retry(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !first.Superseded || !first.Interrupted || second.Superseded || second == first || second.ID == first.ID {
		t.Fatalf("first %+v second %+v", first, second)
	}
	close(release)
	// The two runs' events interleave in any order; only the second's
	// count.
	var finished bool
	for !finished || len(first.Events()) < 3 {
		up := r.next()
		if up.Turn == first && !up.Stale {
			t.Fatalf("event of the retried run not stale: %+v", up)
		}
		finished = finished || up.Finished
	}
	msgs := r.chat.Conversation().Messages
	if len(msgs) != 2 || msgs[1].Content != "answer 2" {
		t.Fatalf("conversation after retry: %+v", msgs)
	}
	if first.Text() != "partial" || second.Text() != "answer 2" {
		t.Fatalf("texts %q %q", first.Text(), second.Text())
	}
	if reqs := p.requests(); len(reqs[1].Messages) != 1 || reqs[1].Messages[0].Content != "hi" {
		t.Fatalf("retry request %+v", reqs[1].Messages)
	}
	// Retrying a finished answer supersedes it too; every answer stays
	// reachable.
	third, _ := r.chat.Retry(t.Context())
	r.finish()
	if turns := r.chat.Turns(); len(turns) != 3 || !turns[0].Superseded || !turns[1].Superseded || turns[2] != third || third.Superseded {
		t.Fatalf("turns %+v", turns)
	}
	r.chat.Reset()
	if _, err := r.chat.Retry(t.Context()); !errors.Is(err, ErrNothingToRetry) {
		t.Fatalf("retry after reset: %v", err)
	}
}

func TestChatTotals(t *testing.T) {
	step := make(chan provider.Event)
	p := &scriptedProvider{script: func(_ int, ctx context.Context, emit func(provider.Event)) error {
		for ev := range step {
			emit(ev)
			if Terminal(ev) {
				return nil
			}
		}
		return nil
	}}
	clock := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	r := &chatRig{t: t, evs: make(chan Stamped, 16), rec: &recorder{}}
	r.chat = NewChat(ChatOptions{Provider: p, Settings: Settings{Model: "m", System: "be brief"}, Now: now,
		Deliver: func(ev Stamped) { r.evs <- ev }})
	t.Cleanup(func() { r.chat.Cancel() })
	feed := func(ev provider.Event) Update {
		step <- ev
		return r.next()
	}

	// Without usage: estimates throughout, growing with every delta and
	// ending where the stream left off.
	r.chat.Send(t.Context(), "twelve bytes")
	start := r.chat.Totals(now()).ConversationTokens
	if start != EstimateTokens(len("be brief"))+EstimateTokens(len("twelve bytes")) {
		t.Fatalf("conversation before the answer: %d", start)
	}
	prev := start
	for i := 0; i < 5; i++ {
		advance(100 * time.Millisecond)
		feed(provider.TextDelta{Text: "four"})
		cur := r.chat.Totals(now()).ConversationTokens
		if cur != prev+1 {
			t.Fatalf("delta %d: conversation %d → %d", i, prev, cur)
		}
		prev = cur
	}
	feed(provider.Done{})
	tot := r.chat.Totals(now())
	if tot.ConversationTokens != prev || tot.LastTokens != 5 || tot.LastDuration != 500*time.Millisecond {
		t.Fatalf("after the answer: %+v (last streaming figure %d)", tot, prev)
	}

	// The next request starts from there plus the new prompt.
	r.chat.Send(t.Context(), "more")
	if got := r.chat.Totals(now()).ConversationTokens; got != prev+EstimateTokens(len("more")) {
		t.Fatalf("second request starts at %d, want %d", got, prev+1)
	}
	advance(time.Second)
	feed(provider.TextDelta{Text: "abcdefgh"})
	// The gateway's usage replaces the estimates when it comes.
	feed(provider.Usage{InputTokens: 40, OutputTokens: 3, TotalTokens: 43})
	// (TokensPerSecond is zero: no time has passed since the first token.)
	if tot := r.chat.Totals(now()); tot.ConversationTokens != 43 || tot.LastTokens != 3 || tot.TokensPerSecond != 0 {
		t.Fatalf("with usage: %+v", tot)
	}
	feed(provider.Done{})

	// A tool-call-only answer reports its own duration and tokens.
	r.chat.Send(t.Context(), "weather?")
	advance(250 * time.Millisecond)
	feed(provider.ToolCallEvent{ToolCall: provider.ToolCall{ID: "c1", Name: "get_weather", Arguments: `{"city":"Rome"}`}})
	feed(provider.Done{FinishReason: "tool_calls"})
	tot = r.chat.Totals(now())
	if tot.LastDuration != 250*time.Millisecond || tot.LastTokens == 0 {
		t.Fatalf("tool-call-only answer: %+v", tot)
	}
	// The next request's estimate starts from the gateway's count for the
	// earlier turns: 40 in + 3 out, then the prompt, the call, its answer.
	r.chat.Send(t.Context(), "x")
	msgs := r.chat.Conversation().Messages
	want := 43 + estimateMessage(msgs[4]) + estimateMessage(msgs[5]) + estimateMessage(msgs[6]) + estimateMessage(msgs[7])
	if got := r.chat.Totals(now()).ConversationTokens; got != want {
		t.Fatalf("estimate from the known prefix: %d, want %d (%+v)", got, want, msgs)
	}
	feed(provider.Done{})
	r.chat.Reset()
	if tot := r.chat.Totals(now()); tot != (Totals{}) {
		t.Fatalf("after reset: %+v", tot)
	}
}

func TestChatToolLoopSeam(t *testing.T) {
	call := func(id string) provider.Event {
		return provider.ToolCallEvent{ToolCall: provider.ToolCall{ID: id, Name: "get_time", Arguments: `{"zone":"UTC"}`}}
	}
	p := &scriptedProvider{script: func(n int, ctx context.Context, emit func(provider.Event)) error {
		switch n {
		case 1:
			emit(call("a"))
			emit(call("b"))
			emit(provider.Done{FinishReason: "tool_calls"})
		case 2:
			emit(provider.TextDelta{Text: "It is noon."})
			emit(provider.Done{FinishReason: "stop"})
		case 3:
			emit(call("c"))
			emit(provider.Done{FinishReason: "tool_calls"})
		default:
			emit(provider.Done{})
		}
		return nil
	}}
	r := newChatRig(t, p, Settings{Model: "m"})
	r.chat.Send(t.Context(), "time?")
	if pending := r.chat.PendingToolCalls(); len(pending) != 0 {
		t.Fatalf("pending while streaming: %+v", pending)
	}
	r.finish()
	if pending := r.chat.PendingToolCalls(); len(pending) != 2 || pending[0].ID != "a" || pending[1].ID != "b" {
		t.Fatalf("pending %+v", pending)
	}
	if _, err := r.chat.Continue(t.Context()); !errors.Is(err, ErrToolCallsPending) {
		t.Fatalf("continue with calls pending: %v", err)
	}
	if err := r.chat.AddToolResult("zz", "x"); !errors.Is(err, ErrNoToolCall) {
		t.Fatalf("result for an unknown call: %v", err)
	}
	for _, id := range []string{"a", "b"} {
		if err := r.chat.AddToolResult(id, "12:00 "+id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.chat.Continue(t.Context()); err != nil {
		t.Fatal(err)
	}
	r.finish()
	msgs := p.requests()[1].Messages
	if len(msgs) != 4 || msgs[2].Role != provider.RoleTool || msgs[2].ToolCallID != "a" || msgs[3].Content != "12:00 b" {
		t.Fatalf("continued request %+v", msgs)
	}
	if _, err := r.chat.Continue(t.Context()); !errors.Is(err, ErrNothingToContinue) {
		t.Fatalf("continue after a text answer: %v", err)
	}
	// A prompt sent over an unanswered call answers it as not run.
	r.chat.Send(t.Context(), "and in Rome?")
	r.finish()
	r.chat.Send(t.Context(), "never mind")
	r.finish()
	msgs = p.requests()[3].Messages
	if n := len(msgs); msgs[n-2].Role != provider.RoleTool || msgs[n-2].ToolCallID != "c" || msgs[n-2].Content != NotRunResult {
		t.Fatalf("unanswered call: %+v", msgs)
	}
	if !strings.Contains(strings.Join(r.rec.log, "|"), "changed tool result") {
		t.Fatalf("observer missed the tool results: %v", r.rec.log)
	}
}

func TestChatSettingsAndReset(t *testing.T) {
	p := &scriptedProvider{script: emitAll(provider.RateLimit{Scope: "requests", Limit: 5, Remaining: 4},
		provider.TextDelta{Text: "ok"}, provider.Done{})}
	r := newChatRig(t, p, Settings{Model: "m", System: "old"})
	r.chat.SetModel("m2")
	r.chat.SetSystem("new")
	r.chat.Send(t.Context(), "hi")
	r.finish()
	if req := p.requests()[0]; req.Model != "m2" || req.Messages[0].Content != "new" {
		t.Fatalf("request %+v", req)
	}
	id := r.chat.Conversation().ID
	r.chat.Reset()
	c := r.chat
	if c.Conversation().ID == id || len(c.Conversation().Messages) != 0 || c.Turn() != nil || len(c.Turns()) != 0 ||
		len(c.Limits().Snapshot()) != 0 || c.State().Phase != PhaseIdle || c.Settings().Model != "m2" {
		t.Fatalf("after reset: %+v", c.Conversation())
	}
	if got := strings.Join(r.rec.log, "|"); !strings.HasPrefix(got, "changed settings|changed settings|changed prompt") ||
		!strings.HasSuffix(got, "changed reset") {
		t.Fatalf("observer saw %s", got)
	}
}

func TestChatPanickingProviderEndsWithOneError(t *testing.T) {
	p := &scriptedProvider{script: func(int, context.Context, func(provider.Event)) error { panic("boom") }}
	r := newChatRig(t, p, Settings{Model: "m"})
	turn, _ := r.chat.Send(t.Context(), "hi")
	ups := r.finish()
	if len(ups) != 1 || turn.Err == nil || !strings.Contains(turn.Err.Error(), "boom") || r.chat.State().Phase != PhaseError {
		t.Fatalf("updates %+v, err %v", ups, turn.Err)
	}
}

package session_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
	"github.com/parley-chat/parley/tools"
)

// turnsProvider answers request n (1-based) with the events answer(n)
// returns, and records the requests.
type turnsProvider struct {
	answer func(n int, req *provider.Request) []provider.Event
	mu     sync.Mutex
	reqs   []*provider.Request
}

func (p *turnsProvider) Name() string              { return "turns" }
func (p *turnsProvider) Dialect() provider.Dialect { return provider.DialectOpenAI }
func (p *turnsProvider) Stream(ctx context.Context, req *provider.Request, emit func(provider.Event)) error {
	p.mu.Lock()
	p.reqs = append(p.reqs, req)
	n := len(p.reqs)
	p.mu.Unlock()
	for _, ev := range p.answer(n, req) {
		emit(ev)
	}
	return nil
}

func (p *turnsProvider) requests() []*provider.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*provider.Request(nil), p.reqs...)
}

func call(id, name, args string) provider.Event {
	return provider.ToolCallEvent{ToolCall: provider.ToolCall{ID: id, Name: name, Arguments: args}}
}

func text(s string) []provider.Event {
	return []provider.Event{provider.TextDelta{Text: s}, provider.Done{FinishReason: "stop"}}
}

func calls(evs ...provider.Event) []provider.Event {
	return append(evs, provider.Done{FinishReason: "tool_calls"})
}

// recordingApprover keeps the questions; the test answers them.
type recordingApprover struct {
	asks   []session.ApprovalRequest
	inputs []session.ToolCallInfo
}

func (a *recordingApprover) Ask(req session.ApprovalRequest) { a.asks = append(a.asks, req) }
func (a *recordingApprover) Input(c session.ToolCallInfo)    { a.inputs = append(a.inputs, c) }

// loopRig is one chat with a tool loop, driven by the test as its owner.
type loopRig struct {
	t      *testing.T
	chat   *session.Chat
	loop   *session.ToolLoop
	prov   *turnsProvider
	events chan session.Stamped
	done   chan session.ToolDone
	ran    atomic.Int64 // runs of the echo tool
	runs   []*session.ToolRun
	turns  int
	stop   string
}

// newLoopRig builds a chat offering the tools of a real registry: echo
// (a built-in that returns its arguments), slow (waits for its context),
// typed (manual) and get_time (a command).
func newLoopRig(t *testing.T, answer func(int, *provider.Request) []provider.Event, o session.ToolLoopOptions) *loopRig {
	t.Helper()
	tp := &turnsProvider{answer: answer}
	r := newLoopRigOn(t, tp, o)
	r.prov = tp
	return r
}

// newLoopRigOn is newLoopRig on any provider.
func newLoopRigOn(t *testing.T, prov provider.Provider, o session.ToolLoopOptions) *loopRig {
	t.Helper()
	r := &loopRig{t: t, events: make(chan session.Stamped, 256), done: make(chan session.ToolDone, 8)}
	params := json.RawMessage(`{"type":"object","properties":{"zone":{"type":"string"}},"additionalProperties":false}`)
	reg, err := tools.New(tools.Options{Tools: []tools.Spec{
		{Name: "echo", Kind: tools.KindBuiltin, Parameters: params, Func: func(ctx context.Context, args string) (string, error) {
			r.ran.Add(1)
			return "echo " + args, nil
		}},
		{Name: "slow", Kind: tools.KindBuiltin, Timeout: time.Minute, Func: func(ctx context.Context, args string) (string, error) {
			<-ctx.Done()
			return "", ctx.Err()
		}},
		{Name: "typed", Kind: tools.KindManual},
		{Name: "get_time", Kind: tools.KindCommand, Command: []string{"sh", "-c", "echo RESULT"}, Parameters: params},
	}})
	if err != nil {
		t.Fatal(err)
	}
	r.chat = session.NewChat(session.ChatOptions{Provider: prov,
		Settings: session.Settings{Model: "m", ToolsMode: provider.ToolsAsk, Tools: reg.Definitions()},
		Deliver:  func(ev session.Stamped) { r.events <- ev }})
	o.Tools = reg
	o.Deliver = func(d session.ToolDone) { r.done <- d }
	r.loop = session.NewToolLoop(t.Context(), r.chat, o)
	t.Cleanup(func() { r.loop.Cancel(); r.chat.Cancel() })
	return r
}

// apply records what a loop step changed.
func (r *loopRig) apply(up session.LoopUpdate) {
	for _, run := range up.Runs {
		if run.State == session.RunDone {
			r.runs = append(r.runs, run)
		}
	}
	if up.Stopped != "" {
		r.stop = up.Stopped
	}
	if up.Err != nil {
		r.t.Fatalf("loop: %v", up.Err)
	}
}

// settle handles events and finished runs until no answer streams and no
// tool runs: the loop is idle or waits for the user (approval, input).
func (r *loopRig) settle() {
	r.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if !r.chat.Streaming() && r.loop.Running() == nil {
			return // idle, or waiting for the user
		}
		select {
		case ev := <-r.events:
			if up := r.chat.Handle(ev); up.Finished {
				r.turns++
				r.apply(r.loop.AfterTurn(up.Turn))
			}
		case d := <-r.done:
			r.apply(r.loop.Handle(d))
		case <-deadline:
			r.t.Fatalf("the loop did not settle: streaming %v, busy %v", r.chat.Streaming(), r.loop.Busy())
		}
	}
}

// toolMessages are the tool results of a request, in order.
func toolMessages(req *provider.Request) []provider.Message {
	var out []provider.Message
	for _, m := range req.Messages {
		if m.Role == provider.RoleTool {
			out = append(out, m)
		}
	}
	return out
}

func TestLoopRunsAllowedToolsAndContinues(t *testing.T) {
	answer := func(n int, req *provider.Request) []provider.Event {
		switch n {
		case 1:
			return calls(call("c1", "echo", `{"zone":"UTC"}`), call("c2", "get_time", `{"zone":"UTC"}`))
		case 2:
			return calls(call("c3", "echo", `{}`))
		}
		return text("done")
	}
	r := newLoopRig(t, answer, session.ToolLoopOptions{Policy: session.NewToolPolicy([]string{"echo", "get_*"})})
	var changes []session.Change
	r.chat.Observe(session.ObserverFuncs{Changed: func(_ *session.Chat, c session.Change) { changes = append(changes, c) }})
	if _, err := r.chat.Send(t.Context(), "what time is it?"); err != nil {
		t.Fatal(err)
	}
	r.settle()
	reqs := r.prov.requests()
	if len(reqs) != 3 || r.chat.Turn().Text() != "done" {
		t.Fatalf("%d requests, last answer %q", len(reqs), r.chat.Turn().Text())
	}
	got := toolMessages(reqs[1])
	if len(got) != 2 || got[0].ToolCallID != "c1" || got[0].Content != `echo {"zone":"UTC"}` ||
		got[1].ToolCallID != "c2" || got[1].Content != "RESULT\n" {
		t.Fatalf("second request's tool results %+v", got)
	}
	if got := toolMessages(reqs[2]); len(got) != 3 || got[2].ToolCallID != "c3" {
		t.Fatalf("third request's tool results %+v", got)
	}
	toolResults := 0
	for _, c := range changes {
		if c == session.ChangeToolResult {
			toolResults++
		}
	}
	if toolResults != 3 {
		t.Fatalf("observers saw %d tool results, want 3 (changes %v)", toolResults, changes)
	}
	if len(r.runs) != 3 || r.runs[0].Why != "allow list" || r.runs[0].Tool.Source != "config" {
		t.Fatalf("runs %+v", r.runs)
	}
}

func TestLoopAsksDeniesWithReasonAndAllowsForTheSession(t *testing.T) {
	answer := func(n int, req *provider.Request) []provider.Event {
		switch n {
		case 1:
			return calls(call("c1", "echo", `{"zone":"UTC"}`))
		case 2, 4:
			return text(fmt.Sprintf("answer %d", n))
		case 3:
			return calls(call("c2", "echo", `{"zone":"CET"}`))
		case 5:
			return calls(call("c3", "echo", `{"zone":"PST"}`))
		}
		return text("end")
	}
	a := &recordingApprover{}
	r := newLoopRig(t, answer, session.ToolLoopOptions{Approver: a, Policy: session.NewToolPolicy(nil)})
	r.chat.Send(t.Context(), "one")
	r.settle()
	if len(a.asks) != 1 || a.asks[0].Calls[0].Call.ID != "c1" || a.asks[0].Calls[0].Tool.Name != "echo" {
		t.Fatalf("asks %+v", a.asks)
	}
	r.apply(r.loop.Decide([]session.Decision{{Allow: false, Reason: "not now, thanks"}}))
	r.settle()
	got := toolMessages(r.prov.requests()[1])
	if len(got) != 1 || !strings.Contains(got[0].Content, "not now, thanks") || !strings.Contains(got[0].Content, "denied") {
		t.Fatalf("denial sent as %+v", got)
	}
	if r.ran.Load() != 0 {
		t.Fatal("a denied tool ran")
	}

	r.chat.Send(t.Context(), "two")
	r.settle()
	if len(a.asks) != 2 {
		t.Fatalf("asks %d", len(a.asks))
	}
	r.apply(r.loop.Decide([]session.Decision{{Allow: true, Scope: session.AllowSession}}))
	r.settle()
	if r.ran.Load() != 1 {
		t.Fatalf("runs %d", r.ran.Load())
	}
	r.chat.Send(t.Context(), "three")
	r.settle()
	if len(a.asks) != 2 || r.ran.Load() != 2 || r.chat.Turn().Text() != "end" {
		t.Fatalf("after allowing for the session: asks %d runs %d answer %q", len(a.asks), r.ran.Load(), r.chat.Turn().Text())
	}
	if last := r.runs[len(r.runs)-1]; last.Why != "this session" {
		t.Fatalf("the third call ran because %q", last.Why)
	}
}

func TestLoopWithoutApproverDeniesWhatIsNotAllowed(t *testing.T) {
	answer := func(n int, req *provider.Request) []provider.Event {
		if n == 1 {
			return calls(call("c1", "echo", `{}`), call("c2", "get_time", `{"zone":"UTC"}`))
		}
		return text("ok")
	}
	r := newLoopRig(t, answer, session.ToolLoopOptions{Policy: session.NewToolPolicy([]string{"get_time"})})
	r.chat.Send(t.Context(), "go")
	r.settle()
	got := toolMessages(r.prov.requests()[1])
	if len(got) != 2 || !strings.Contains(got[0].Content, "not in the allow list") || got[1].Content != "RESULT\n" {
		t.Fatalf("results %+v", got)
	}
	if !r.runs[0].Denied || !r.runs[0].Unasked || r.ran.Load() != 0 {
		t.Fatalf("echo run %+v, ran %d", r.runs[0], r.ran.Load())
	}
}

func TestLoopRoundLimit(t *testing.T) {
	answer := func(n int, req *provider.Request) []provider.Event {
		return calls(call(fmt.Sprintf("c%d", n), "echo", `{}`))
	}
	r := newLoopRig(t, answer, session.ToolLoopOptions{Policy: session.NewToolPolicy([]string{"echo"}), MaxRounds: 3})
	r.chat.Send(t.Context(), "loop forever")
	r.settle()
	if n := len(r.prov.requests()); n != 4 || !strings.Contains(r.stop, "stopped after 3 rounds") {
		t.Fatalf("%d requests, stop %q", n, r.stop)
	}
	if p := r.chat.PendingToolCalls(); len(p) != 1 || p[0].ID != "c4" {
		t.Fatalf("pending %+v", p)
	}
	// A new prompt starts a new count, and answers the call as not run.
	r.stop = ""
	r.chat.Send(t.Context(), "again")
	r.settle()
	reqs := r.prov.requests()
	if len(reqs) != 8 || r.stop == "" {
		t.Fatalf("%d requests after the second prompt, stop %q", len(reqs), r.stop)
	}
	if got := toolMessages(reqs[4]); got[len(got)-1].Content != session.NotRunResult {
		t.Fatalf("the stopped call was answered %q", got[len(got)-1].Content)
	}
}

func TestLoopUnknownToolAndBadArgumentsAreAnsweredWithoutAsking(t *testing.T) {
	answer := func(n int, req *provider.Request) []provider.Event {
		if n == 1 {
			return calls(call("c1", "rm_rf", `{}`), call("c2", "echo", `{"zone":42}`), call("c3", "echo", `not json`))
		}
		return text("ok")
	}
	a := &recordingApprover{}
	r := newLoopRig(t, answer, session.ToolLoopOptions{Approver: a})
	r.chat.Send(t.Context(), "go")
	r.settle()
	if len(a.asks) != 0 || r.ran.Load() != 0 {
		t.Fatalf("asked %d times, ran %d", len(a.asks), r.ran.Load())
	}
	got := toolMessages(r.prov.requests()[1])
	if len(got) != 3 || !strings.Contains(got[0].Content, `no tool named \"rm_rf\"`) ||
		!strings.Contains(got[1].Content, "do not match") || !strings.Contains(got[2].Content, "not JSON") {
		t.Fatalf("results %+v", got)
	}
}

func TestLoopCancelStopsTheRunningTool(t *testing.T) {
	answer := func(n int, req *provider.Request) []provider.Event {
		if n == 1 {
			return calls(call("c1", "slow", `{}`), call("c2", "echo", `{}`))
		}
		return text("never")
	}
	r := newLoopRig(t, answer, session.ToolLoopOptions{Policy: session.NewToolPolicy([]string{"slow", "echo"})})
	r.chat.Send(t.Context(), "go")
	deadline := time.After(10 * time.Second)
	for r.loop.Running() == nil {
		select {
		case ev := <-r.events:
			if up := r.chat.Handle(ev); up.Finished {
				r.apply(r.loop.AfterTurn(up.Turn))
			}
		case <-deadline:
			t.Fatal("the slow tool never started")
		}
	}
	if got := r.loop.Running(); got.Call.ID != "c1" {
		t.Fatalf("running %+v", got)
	}
	up := r.loop.Cancel()
	if up.Turn != nil || up.Stopped == "" || len(up.Runs) != 2 || r.loop.Busy() {
		t.Fatalf("cancel update %+v", up)
	}
	// The killed run's own result, when it comes, changes nothing.
	select {
	case d := <-r.done:
		if up := r.loop.Handle(d); len(up.Runs) != 0 || up.Turn != nil {
			t.Fatalf("a late result changed the loop: %+v", up)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the cancelled run never returned")
	}
	msgs := r.chat.Conversation().Messages
	if n := len(msgs); msgs[n-1].Role != provider.RoleTool || !strings.Contains(msgs[n-1].Content, "cancelled") ||
		!strings.Contains(msgs[n-2].Content, "cancelled") {
		t.Fatalf("conversation ends %+v", msgs[n-2:])
	}
	if len(r.prov.requests()) != 1 || r.ran.Load() != 0 {
		t.Fatal("the loop went on after a cancel")
	}
}

func TestLoopEditedArgumentsAndManualTool(t *testing.T) {
	answer := func(n int, req *provider.Request) []provider.Event {
		if n == 1 {
			return calls(call("c1", "echo", `{"zone":"UTC"}`), call("c2", "typed", `{"q":"?"}`))
		}
		return text("ok")
	}
	a := &recordingApprover{}
	r := newLoopRig(t, answer, session.ToolLoopOptions{Approver: a})
	r.chat.Send(t.Context(), "go")
	r.settle()
	if len(a.asks) != 1 || len(a.asks[0].Calls) != 1 {
		t.Fatalf("asks %+v (the manual tool is not asked about)", a.asks)
	}
	r.apply(r.loop.Decide([]session.Decision{{Allow: true, Arguments: `{"zone":"CET"}`}}))
	r.settle()
	if len(a.inputs) != 1 || a.inputs[0].Call.ID != "c2" {
		t.Fatalf("inputs %+v", a.inputs)
	}
	r.apply(r.loop.Provide("c2", "forty-two", true))
	r.settle()
	got := toolMessages(r.prov.requests()[1])
	if len(got) != 2 || !strings.Contains(got[0].Content, `echo {"zone":"CET"}`) || !strings.Contains(got[0].Content, "edited by the user") ||
		got[1].Content != "forty-two" {
		t.Fatalf("results %+v", got)
	}
	if !r.runs[0].Edited || r.runs[0].Arguments != `{"zone":"CET"}` {
		t.Fatalf("run %+v", r.runs[0])
	}
}

func TestLoopLeavesUnofferedCallsAlone(t *testing.T) {
	answer := func(n int, req *provider.Request) []provider.Event {
		return calls(call("c1", "echo", `{}`))
	}
	r := newLoopRig(t, answer, session.ToolLoopOptions{Policy: session.NewToolPolicy([]string{"echo"})})
	r.chat.SetTools(nil) // the request offered no tools (a gateway calling tools of its own)
	r.chat.Send(t.Context(), "go")
	r.settle()
	if len(r.prov.requests()) != 1 || r.ran.Load() != 0 || len(r.chat.PendingToolCalls()) != 1 {
		t.Fatal("the loop ran a call of a tool it never offered")
	}
}

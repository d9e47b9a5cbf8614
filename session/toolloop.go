package session

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"sync"
	"time"

	"github.com/parley-chat/parley/provider"
)

// DefaultMaxToolRounds is how many answers in a row may end in tool calls
// before the loop stops asking for more.
const DefaultMaxToolRounds = 10

// ToolInfo is what the loop, an approval prompt and /tools know about a
// tool.
type ToolInfo struct {
	// Name is the tool's name in Parley: what /tools lists and what allow
	// patterns match ("get_time", "fs.read_file"). The model may know it
	// by a name its gateway accepts ("fs__read_file").
	Name string
	// Source says where the tool comes from: "config", "MCP server fs",
	// "built-in demo".
	Source string
	// Manual is set for a tool the user answers by typing its result.
	Manual bool
}

// ToolOutput is what running a tool produced. Content goes back to the
// model as the call's result; IsError marks a failure (the content says
// what failed).
type ToolOutput struct {
	Content string
	IsError bool
}

// Toolbox is where a tool loop finds the tools it offers and runs them.
// Definitions, Lookup and Validate are called on the chat owner's
// goroutine and must not block; Run is called on a goroutine of its own,
// must return when ctx is cancelled, and reports failures in its output.
type Toolbox interface {
	// Definitions are the tools offered to the model.
	Definitions() []provider.Tool
	// Lookup finds a tool by the name the model called it.
	Lookup(name string) (ToolInfo, bool)
	// Validate checks a call's arguments against the tool's schema.
	Validate(name, args string) error
	// Run runs one call of a tool that is not manual.
	Run(ctx context.Context, name, args string) ToolOutput
}

// ToolPolicy says which tools run without asking: those matching the
// allow list (names or path.Match patterns such as "fs.*") and those the
// user allowed for this session. Several chats may share one; it is safe
// for concurrent use.
type ToolPolicy struct {
	mu      sync.Mutex
	always  []string
	session map[string]bool
}

// NewToolPolicy returns a policy with the given allow list.
func NewToolPolicy(allow []string) *ToolPolicy {
	return &ToolPolicy{always: slices.Clone(allow), session: map[string]bool{}}
}

// Allowed reports whether the tool called name runs without asking, and
// why: "allow list" or "this session".
func (p *ToolPolicy) Allowed(name string) (bool, string) {
	if p == nil {
		return false, ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pat := range p.always {
		if ok, _ := path.Match(pat, name); ok || pat == name {
			return true, "allow list"
		}
	}
	if p.session[name] {
		return true, "this session"
	}
	return false, ""
}

// AllowSession lets the tool run without asking until Parley exits.
func (p *ToolPolicy) AllowSession(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.session[name] = true
}

// AllowAlways adds the tool to the allow list in memory; saving it to a
// file is the caller's business.
func (p *ToolPolicy) AllowAlways(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !slices.Contains(p.always, name) {
		p.always = append(p.always, name)
	}
}

// ToolCallInfo is one call as an approval prompt shows it.
type ToolCallInfo struct {
	Call provider.ToolCall
	Tool ToolInfo
}

// ApprovalRequest asks the user about the calls of one answer that no
// rule allows yet. Answer it with ToolLoop.Decide.
type ApprovalRequest struct {
	Calls []ToolCallInfo
}

// Scope is how far an approval reaches.
type Scope int

// The scopes of an approval.
const (
	AllowOnce    Scope = iota // this call only
	AllowSession              // the tool, until Parley exits
	AllowAlways               // the tool, from now on (the caller saves it)
)

// Decision is the user's answer about one call.
type Decision struct {
	Allow bool
	Scope Scope
	// Reason is sent to the model with a denial, when given.
	Reason string
	// Arguments, when not empty, replace the model's arguments (the
	// user edited them; the caller has validated them).
	Arguments string
}

// Approver puts the loop's questions to the user: the chat screen with an
// overlay, print mode on the terminal. Its methods are called on the chat
// owner's goroutine and must not block; the answers come back later,
// also on that goroutine, through ToolLoop.Decide and ToolLoop.Provide.
type Approver interface {
	// Ask shows an approval request.
	Ask(req ApprovalRequest)
	// Input asks for the result of a manual tool's call.
	Input(call ToolCallInfo)
}

// RunState is where one tool call stands.
type RunState int

// The states of a tool call.
const (
	RunWaiting RunState = iota // not started: waiting for approval, its turn or input
	RunRunning                 // running now
	RunDone                    // has its result
)

// ToolRun is one tool call of an answer and what became of it. The loop
// changes it on the owner's goroutine only; screens read it there.
type ToolRun struct {
	Call provider.ToolCall
	Tool ToolInfo
	// Known is false for a call of a tool the toolbox does not have.
	Known bool
	// Arguments are the arguments it runs with: the model's, or the
	// user's edit (Edited).
	Arguments string
	Edited    bool
	State     RunState
	Output    ToolOutput
	// Denied is set when the user refused the call, or when no one could
	// be asked (Unasked); Reason is the user's reason, if any.
	Denied  bool
	Unasked bool
	Reason  string
	// Why says why it ran without asking: "allow list", "this session";
	// empty when the user approved it.
	Why        string
	Start, End time.Time

	approved       bool
	manual         bool
	inConversation bool // the result was added to the conversation
}

// ToolDone is a finished run, delivered from its goroutine; the owner
// hands it back to ToolLoop.Handle.
type ToolDone struct {
	gen    uint64
	id     string
	output ToolOutput
	at     time.Time
}

// LoopUpdate is what one step of the loop changed.
type LoopUpdate struct {
	// Runs are the calls whose state changed, in order.
	Runs []*ToolRun
	// Asked is set when an approval request went to the Approver.
	Asked bool
	// Turn is the answer the loop asked for once every call had its
	// result; nil when it did not continue.
	Turn *Turn
	// Stopped says why the loop stopped before the model answered in
	// text: the round limit, or the user cancelled the tools.
	Stopped string
	// Err is a failure to ask for the next answer.
	Err error
}

// ToolLoopOptions configures a ToolLoop.
type ToolLoopOptions struct {
	// Tools is where tools are found and run; nil means tool calls are
	// only shown.
	Tools Toolbox
	// Policy says which tools run without asking; nil allows none.
	Policy *ToolPolicy
	// Approver asks the user; nil means no one can be asked (print mode
	// without a terminal): calls no rule allows are denied with a reason
	// the model sees, and manual tools cannot be answered.
	Approver Approver
	// MaxRounds bounds answers in a row that end in tool calls; 0 means
	// DefaultMaxToolRounds.
	MaxRounds int
	// Deliver receives finished runs from their goroutines, like
	// ChatOptions.Deliver; the owner hands each to Handle.
	Deliver func(ToolDone)
}

// loopState is what the loop waits for.
type loopState int

const (
	loopIdle     loopState = iota
	loopAsking             // an approval request is out
	loopRunning            // a tool runs
	loopInputing           // a manual tool's result is being typed
)

// ToolLoop runs the tool calls a chat's answers end in, with consent, and
// asks for the next answer until the model answers in text. Calls run one
// at a time, in the order the model made them; each result joins the
// conversation through Chat.AddToolResult (so observers record it), and
// the next answer is asked for with Chat.Continue. Every method must be
// called from the chat's owner goroutine.
type ToolLoop struct {
	chat  *Chat
	o     ToolLoopOptions
	ctx   context.Context
	state loopState

	batch []*ToolRun // the calls of the answer being worked through
	gen   uint64     // numbers batches, so results of a cancelled run are ignored
	stop  context.CancelFunc

	rounds    int   // answers in a row that ended in tool calls and were continued
	continued *Turn // the last turn the loop asked for
}

// NewToolLoop returns an idle loop for chat; ctx bounds its runs and the
// answers it asks for.
func NewToolLoop(ctx context.Context, chat *Chat, o ToolLoopOptions) *ToolLoop {
	if o.MaxRounds <= 0 {
		o.MaxRounds = DefaultMaxToolRounds
	}
	if o.Deliver == nil {
		o.Deliver = func(ToolDone) {}
	}
	return &ToolLoop{chat: chat, o: o, ctx: ctx}
}

// Busy reports whether the loop is waiting for an approval, a run or a
// typed result.
func (l *ToolLoop) Busy() bool { return l.state != loopIdle }

// Asking reports whether an approval request is waiting for Decide.
func (l *ToolLoop) Asking() bool { return l.state == loopAsking }

// Running is the call running now, or nil.
func (l *ToolLoop) Running() *ToolRun {
	if l.state != loopRunning {
		return nil
	}
	for _, r := range l.batch {
		if r.State == RunRunning {
			return r
		}
	}
	return nil
}

// Policy is the loop's policy (possibly nil).
func (l *ToolLoop) Policy() *ToolPolicy { return l.o.Policy }

// AfterTurn is called when a turn of the chat finished. When the answer
// ends in tool calls the loop works through them: calls a rule allows
// run, the others go to the Approver (or are denied when there is none),
// and once every call has a result the next answer is asked for. A failed
// or interrupted answer, or one whose request offered no tools, starts
// nothing.
func (l *ToolLoop) AfterTurn(t *Turn) LoopUpdate {
	var up LoopUpdate
	if t == nil || !t.Finished() || t.Err != nil || t.Interrupted || l.state != loopIdle {
		return up
	}
	if t != l.continued {
		l.rounds = 0 // a new prompt: a new run of rounds
	}
	calls := l.chat.PendingToolCalls()
	if len(calls) == 0 || l.o.Tools == nil || !l.chat.Settings().ToolsMode.OffersTools() || len(l.chat.Settings().Tools) == 0 {
		return up
	}
	if l.rounds >= l.o.MaxRounds {
		up.Stopped = fmt.Sprintf("stopped after %d rounds of tool calls: the model kept calling tools. "+
			"Send a prompt to go on (the calls above are answered as not run).", l.o.MaxRounds)
		return up
	}
	l.gen++
	l.batch = l.batch[:0]
	served := map[string]provider.ToolResult{}
	for _, r := range t.ToolResults {
		served[r.ID] = r
	}
	var ask []ToolCallInfo
	for _, c := range calls {
		run := &ToolRun{Call: c, Arguments: c.Arguments}
		l.batch = append(l.batch, run)
		if r, ok := served[c.ID]; ok { // the gateway ran it itself
			run.Tool = ToolInfo{Name: c.Name, Source: "the gateway"}
			run.Known = true
			run.finish(ToolOutput{Content: r.Output, IsError: r.IsError})
			continue
		}
		info, ok := l.o.Tools.Lookup(c.Name)
		run.Tool, run.Known = info, ok
		switch {
		case !ok:
			run.Tool = ToolInfo{Name: c.Name}
			run.finish(errorOutput(fmt.Sprintf("no tool named %q is offered", c.Name)))
		case info.Manual:
			run.manual = true
		default:
			if err := l.o.Tools.Validate(c.Name, argsOrEmpty(c.Arguments)); err != nil {
				run.finish(errorOutput(fmt.Sprintf("the arguments do not match the tool's parameters: %v", err)))
				continue
			}
			if allowed, why := l.o.Policy.Allowed(info.Name); allowed {
				run.approved, run.Why = true, why
				continue
			}
			ask = append(ask, ToolCallInfo{Call: c, Tool: info})
		}
	}
	if len(ask) > 0 && l.o.Approver != nil {
		l.state = loopAsking
		up.Asked = true
		l.o.Approver.Ask(ApprovalRequest{Calls: ask})
		return up
	}
	for _, run := range l.batch {
		if run.State != RunDone && !run.manual && !run.approved {
			run.Denied, run.Unasked = true, true
			run.finish(errorOutput(fmt.Sprintf("not run: %s is not in the allow list, and no one was there to approve it", run.Tool.Name)))
		}
	}
	l.advance(&up)
	return up
}

// Decide answers the approval request: one decision per call asked
// about, in order. Allowed calls run (a session or always scope also
// lets the tool run from now on without asking); denied ones get a
// result saying so, with the user's reason.
func (l *ToolLoop) Decide(ds []Decision) LoopUpdate {
	var up LoopUpdate
	if l.state != loopAsking {
		return up
	}
	i := 0
	for _, run := range l.batch {
		if run.State == RunDone || run.manual || run.approved {
			continue
		}
		d := Decision{}
		if i < len(ds) {
			d = ds[i]
		}
		i++
		if !d.Allow {
			run.Denied, run.Reason = true, d.Reason
			body := map[string]string{"error": "denied by the user"}
			if d.Reason != "" {
				body["reason"] = d.Reason
			}
			b, _ := json.Marshal(body)
			run.finish(ToolOutput{Content: string(b), IsError: true})
			continue
		}
		run.approved = true
		if d.Arguments != "" && d.Arguments != run.Arguments {
			run.Arguments, run.Edited = d.Arguments, true
		}
		switch d.Scope {
		case AllowSession:
			l.o.Policy.AllowSession(run.Tool.Name)
		case AllowAlways:
			l.o.Policy.AllowAlways(run.Tool.Name)
		}
	}
	l.state = loopIdle
	l.advance(&up)
	return up
}

// Provide answers a manual tool's call with the text the user typed; ok
// false means the user gave no result.
func (l *ToolLoop) Provide(id, content string, ok bool) LoopUpdate {
	var up LoopUpdate
	if l.state != loopInputing {
		return up
	}
	for _, run := range l.batch {
		if run.Call.ID == id && run.State != RunDone {
			if ok {
				run.finish(ToolOutput{Content: content})
			} else {
				run.finish(errorOutput("the user gave no result for this call"))
			}
		}
	}
	l.state = loopIdle
	l.advance(&up)
	return up
}

// Handle records a finished run and goes on with the next call, or asks
// for the next answer. A run of a batch the loop gave up on is ignored.
func (l *ToolLoop) Handle(d ToolDone) LoopUpdate {
	var up LoopUpdate
	if d.gen != l.gen || l.state != loopRunning {
		return up
	}
	for _, run := range l.batch {
		if run.Call.ID == d.id && run.State == RunRunning {
			run.finishAt(d.output, d.at)
		}
	}
	l.state = loopIdle
	l.advance(&up)
	return up
}

// Cancel stops the loop: the running tool is killed, and it and every
// call still waiting get a result saying the user cancelled them. The
// loop does not ask for another answer; the user's next prompt goes on
// from there. It reports in the update whether anything was stopped.
func (l *ToolLoop) Cancel() LoopUpdate {
	var up LoopUpdate
	if l.state == loopIdle {
		return up
	}
	l.gen++
	if l.stop != nil {
		l.stop()
		l.stop = nil
	}
	for _, run := range l.batch {
		if run.State != RunDone {
			run.finish(errorOutput("cancelled by the user"))
			l.record(run, &up)
		}
	}
	l.state = loopIdle
	up.Stopped = "tools cancelled — the model was not asked to go on; send a prompt to continue"
	return up
}

// advance works through the batch from the first call without a recorded
// result: finished calls are recorded, a manual call goes to the
// Approver, an approved call starts (and the loop waits for it). When
// every call has its result, the next answer is asked for.
func (l *ToolLoop) advance(up *LoopUpdate) {
	for _, run := range l.batch {
		if run.State == RunDone {
			l.record(run, up)
			continue
		}
		if run.manual {
			if l.o.Approver == nil {
				run.finish(errorOutput("not answered: a manual tool needs someone at a terminal to type its result"))
				l.record(run, up)
				continue
			}
			l.state = loopInputing
			up.Runs = append(up.Runs, run)
			l.o.Approver.Input(ToolCallInfo{Call: run.Call, Tool: run.Tool})
			return
		}
		l.start(run)
		up.Runs = append(up.Runs, run)
		return
	}
	// Every call has its result.
	l.batch = nil
	if defs := l.o.Tools.Definitions(); !sameTools(defs, l.chat.Settings().Tools) {
		l.chat.SetTools(defs) // an MCP server stopped, or started
	}
	t, err := l.chat.Continue(l.ctx)
	if err != nil {
		up.Err = err
		return
	}
	l.rounds++
	l.continued = t
	up.Turn = t
}

// record adds a finished call's result to the conversation, once.
func (l *ToolLoop) record(run *ToolRun, up *LoopUpdate) {
	if run.recorded() {
		return
	}
	content := run.Output.Content
	if run.Edited {
		content = "[run with arguments edited by the user: " + run.Arguments + "]\n" + content
	}
	_ = l.chat.AddToolResult(run.Call.ID, content) // the call is pending: the loop took it from PendingToolCalls
	run.Start = orNow(run.Start, l.chat.now)
	run.End = orNow(run.End, l.chat.now)
	run.State = RunDone
	run.approved = false
	run.manual = false
	up.Runs = append(up.Runs, run)
	run.markRecorded()
}

// start runs an approved call on a goroutine of its own.
func (l *ToolLoop) start(run *ToolRun) {
	ctx, cancel := context.WithCancel(l.ctx)
	l.stop = cancel
	l.state = loopRunning
	run.State = RunRunning
	run.Start = l.chat.now()
	gen, id, name, args := l.gen, run.Call.ID, run.Call.Name, argsOrEmpty(run.Arguments)
	box, deliver, now := l.o.Tools, l.o.Deliver, l.chat.now
	go func() {
		defer cancel()
		out := safeRun(ctx, box, name, args)
		deliver(ToolDone{gen: gen, id: id, output: out, at: now()})
	}()
}

// safeRun runs a tool, turning a panic into an error result.
func safeRun(ctx context.Context, box Toolbox, name, args string) (out ToolOutput) {
	defer func() {
		if v := recover(); v != nil {
			out = errorOutput(fmt.Sprintf("the tool failed unexpectedly (%v)", v))
		}
	}()
	return box.Run(ctx, name, args)
}

// finish gives a call its result now.
func (r *ToolRun) finish(out ToolOutput) { r.finishAt(out, time.Time{}) }

func (r *ToolRun) finishAt(out ToolOutput, at time.Time) {
	r.Output = out
	r.State = RunDone
	if !at.IsZero() {
		r.End = at
	}
}

// recorded reports whether the call's result joined the conversation.
func (r *ToolRun) recorded() bool { return r.inConversation }

func (r *ToolRun) markRecorded() { r.inConversation = true }

func errorOutput(msg string) ToolOutput {
	b, _ := json.Marshal(map[string]string{"error": msg})
	return ToolOutput{Content: string(b), IsError: true}
}

func argsOrEmpty(s string) string {
	if s == "" {
		return "{}"
	}
	return s
}

func orNow(t time.Time, now func() time.Time) time.Time {
	if t.IsZero() {
		return now()
	}
	return t
}

// sameTools reports whether two tool lists offer the same tools.
func sameTools(a, b []provider.Tool) bool {
	return slices.EqualFunc(a, b, func(x, y provider.Tool) bool { return x.Name == y.Name })
}

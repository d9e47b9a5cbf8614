package session

import (
	"context"
	"errors"
	"time"

	"github.com/parley-chat/parley/provider"
)

// Errors the Chat's methods return when an action does not apply.
var (
	// ErrBusy: an answer is still streaming.
	ErrBusy = errors.New("an answer is still streaming")
	// ErrNothingToRetry: the conversation has no prompt to answer again.
	ErrNothingToRetry = errors.New("nothing to retry")
	// ErrToolCallsPending: a tool call of the last answer has no result.
	ErrToolCallsPending = errors.New("a tool call has no result yet")
	// ErrNoToolCall: no pending tool call has the given id.
	ErrNoToolCall = errors.New("no pending tool call with that id")
	// ErrNothingToContinue: the last message is not a tool result.
	ErrNothingToContinue = errors.New("nothing to continue from: the last message is not a tool result")
)

// ChatOptions configures a Chat.
type ChatOptions struct {
	Provider provider.Provider
	Settings Settings
	// Deliver receives every event of every run the chat starts, stamped
	// (see Stamped), from the run's own goroutine and in order. The owner
	// hands each one back to Chat.Handle on its own goroutine: the UI
	// wraps it in a message for its program, print mode sends it on a
	// channel. Deliver may block; the stream then waits.
	Deliver func(Stamped)
	// Limits holds the rate-limit state the chat keeps up to date; nil
	// gives the chat its own, or the Pacer's for its provider and model.
	// Chats on one gateway and model may share one.
	Limits *RateLimits
	// Pacer, when set, holds each request back while the gateway's rate
	// limit for its provider and model has nothing left until its reset
	// (see Pacer). Chats share one Pacer, and so each budget.
	Pacer *Pacer
	// History is the conversation the chat starts from, copied; nil
	// starts empty.
	History []provider.Message
	// Now is the clock for the stamps and the turns' times; nil means
	// time.Now. It is called from stream goroutines too, so it must be
	// safe for concurrent use.
	Now func() time.Time
}

// Chat is one conversation in motion: the conversation, the runner that
// streams its answers, the current turn and its stream state, the
// rate limits, the token totals, the gateway's chat-id continuation and
// the tool calls waiting for results. It knows nothing of any screen:
// the chat screen, print mode and compare columns drive it the same way.
//
// A Chat is owned by one goroutine. Every method, Handle included, must be
// called from it; the only thing that happens elsewhere is the runs'
// delivery of stamped events through ChatOptions.Deliver. Observers are
// called synchronously from the owner's goroutine.
type Chat struct {
	provider  provider.Provider
	conv      *Conversation
	runner    *Runner
	deliver   func(Stamped)
	limits    *RateLimits
	now       func() time.Time
	observers []Observer

	run   *Run  // the run in flight; nil when idle
	turn  *Turn // the current or last turn; nil before the first and after Reset
	state StreamState
	// turns are the conversation's turns in order, superseded ones
	// included; answering is the index of the first turn that answers the
	// last prompt.
	turns     []*Turn
	answering int
	// open maps the runs that have not yet delivered their terminal event
	// to their turns, so a late event lands on the right timeline.
	open map[uint64]*Turn

	// marks record how many tokens a prefix of the conversation is known
	// (or estimated) to take; the input of the next request is estimated
	// from the longest one that still holds. reqIn is the input estimate
	// of the current or last request.
	marks   []tokenMark
	reqIn   int
	lastDur time.Duration
}

// tokenMark says that the first upto messages (with the system prompt)
// take tokens tokens.
type tokenMark struct {
	upto, tokens int
}

// NewChat returns an idle chat whose conversation holds ChatOptions.History
// (usually nothing).
func NewChat(o ChatOptions) *Chat {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	limits := o.Limits
	if limits == nil && o.Pacer != nil && o.Provider != nil {
		limits = o.Pacer.Limits(PaceKey{Provider: o.Provider.Name(), Model: o.Settings.Model})
	}
	if limits == nil {
		limits = &RateLimits{}
	}
	stream := o.Provider
	if o.Pacer != nil {
		stream = o.Pacer.Wrap(o.Provider)
	}
	deliver := o.Deliver
	if deliver == nil {
		deliver = func(Stamped) {}
	}
	conv := NewConversation(o.Settings)
	conv.Messages = append([]provider.Message(nil), o.History...)
	return &Chat{
		provider: o.Provider,
		conv:     conv,
		runner:   &Runner{Provider: stream, Now: now},
		deliver:  deliver,
		limits:   limits,
		now:      now,
		open:     map[uint64]*Turn{},
	}
}

// Observe adds an observer; it sees everything that happens from now on.
func (c *Chat) Observe(o Observer) { c.observers = append(c.observers, o) }

// Conversation is the conversation as it stands. Change it only through
// the Chat's methods.
func (c *Chat) Conversation() *Conversation { return c.conv }

// Settings are the conversation's request settings.
func (c *Chat) Settings() Settings { return c.conv.Settings }

// Provider is the gateway the chat streams from.
func (c *Chat) Provider() provider.Provider { return c.provider }

// Turn is the current turn while an answer streams, else the last one;
// nil before the first answer and after Reset.
func (c *Chat) Turn() *Turn { return c.turn }

// Turns are the conversation's turns in order, including those whose
// answer /retry replaced (Turn.Superseded).
func (c *Chat) Turns() []*Turn { return c.turns }

// State is the queue and retry state of the current or last request.
func (c *Chat) State() StreamState { return c.state }

// Limits is the rate-limit state the chat keeps up to date.
func (c *Chat) Limits() *RateLimits { return c.limits }

// Streaming reports whether an answer is streaming.
func (c *Chat) Streaming() bool { return c.run != nil }

// Send adds prompt to the conversation and starts streaming the answer.
// Tool calls still without a result are first answered as not run (see
// Conversation.AddUser). It fails with ErrBusy while an answer streams.
func (c *Chat) Send(ctx context.Context, prompt string) (*Turn, error) {
	if c.run != nil {
		return nil, ErrBusy
	}
	c.conv.AddUser(prompt)
	c.answering = len(c.turns)
	c.changed(ChangePrompt)
	return c.start(ctx), nil
}

// Cancel stops the answer in flight at once: the turn ends interrupted,
// its partial answer joins the conversation, and the run's own terminal
// event, when it comes, lands on the turn's timeline only. It reports
// whether anything was streaming.
func (c *Chat) Cancel() bool {
	if c.run == nil {
		return false
	}
	c.run.Cancel()
	c.turn.Interrupt(c.now())
	c.state.Interrupt()
	c.finish()
	return true
}

// Retry answers the last prompt again: it cancels the answer in flight,
// marks every turn that answered the prompt as superseded, drops their
// messages and starts a new stream. It fails with ErrNothingToRetry when
// there is no prompt.
func (c *Chat) Retry(ctx context.Context) (*Turn, error) {
	c.Cancel()
	if !c.conv.DropLastAnswer() {
		return nil, ErrNothingToRetry
	}
	for _, t := range c.turns[c.answering:] {
		t.Superseded = true
	}
	c.answering = len(c.turns)
	c.pruneMarks()
	c.changed(ChangeRetry)
	return c.start(ctx), nil
}

// Reset starts a new conversation with the same settings: the answer in
// flight is cancelled, the messages, turns, totals and rate limits are
// forgotten and the conversation gets a new ID. Events of the cancelled
// run still reach observers, on their old turn.
func (c *Chat) Reset() {
	c.Cancel()
	c.conv.Reset()
	c.turn, c.turns, c.answering = nil, nil, 0
	c.state = StreamState{}
	c.marks, c.reqIn, c.lastDur = nil, 0, 0
	c.limits.Reset()
	c.changed(ChangeReset)
}

// SetModel sets the model for the next requests.
func (c *Chat) SetModel(model string) {
	c.conv.Settings.Model = model
	c.changed(ChangeSettings)
}

// SetSystem sets the system prompt for the next requests; empty clears it.
func (c *Chat) SetSystem(system string) {
	c.conv.Settings.System = system
	c.marks = nil // every prefix's count included the old prompt
	c.changed(ChangeSettings)
}

// PendingToolCalls are the tool calls of the last answer that have no
// result yet, in order; none while an answer streams.
func (c *Chat) PendingToolCalls() []provider.ToolCall {
	if c.run != nil {
		return nil
	}
	return c.conv.PendingToolCalls()
}

// AddToolResult records content as the result of the pending tool call
// with the given id. Once every call has its result, Continue sends them.
func (c *Chat) AddToolResult(id, content string) error {
	if c.run != nil {
		return ErrBusy
	}
	if !c.conv.AddToolResult(id, content) {
		return ErrNoToolCall
	}
	c.changed(ChangeToolResult)
	return nil
}

// Continue asks for the next answer after tool results: the model carries
// on from them. It fails while an answer streams, while a call still has
// no result, and when the last message is not a tool result.
func (c *Chat) Continue(ctx context.Context) (*Turn, error) {
	switch msgs := c.conv.Messages; {
	case c.run != nil:
		return nil, ErrBusy
	case len(c.conv.PendingToolCalls()) > 0:
		return nil, ErrToolCallsPending
	case len(msgs) == 0 || msgs[len(msgs)-1].Role != provider.RoleTool:
		return nil, ErrNothingToContinue
	}
	return c.start(ctx), nil
}

// Update is what handling one event changed.
type Update struct {
	// Turn is the turn the event belongs to; nil for an event of a run
	// the chat never started.
	Turn  *Turn
	Event provider.Event
	// Stale is set for an event of a run the chat has given up on
	// (cancelled, retried, reset): it was recorded on its turn's timeline
	// and changed nothing else. Nothing about it should be shown.
	Stale bool
	// Finished is set when the event ended the current turn: the answer
	// has joined the conversation and the totals are final.
	Finished bool
}

// Handle folds one delivered event into the chat, tells the observers and
// returns what changed. Events of the current run update the turn, the
// stream state and the rate limits; events of earlier runs are recorded
// on their own turn's timeline only.
func (c *Chat) Handle(ev Stamped) Update {
	t := c.open[ev.Run]
	if t == nil {
		return Update{Event: ev.Event, Stale: true}
	}
	terminal := Terminal(ev.Event)
	if terminal {
		delete(c.open, ev.Run)
	}
	t.Apply(ev.Event, ev.At)
	up := Update{Turn: t, Event: ev.Event}
	if c.run == nil || c.run.ID != ev.Run {
		up.Stale = true
		c.notifyEvent(t, ev)
		return up
	}
	c.state.Apply(ev.Event, ev.At)
	if rl, ok := ev.Event.(provider.RateLimit); ok {
		c.limits.Update(rl)
	}
	c.notifyEvent(t, ev)
	if terminal {
		c.finish()
		up.Finished = true
	}
	return up
}

// start streams an answer to the conversation as it stands.
func (c *Chat) start(ctx context.Context) *Turn {
	c.reqIn = c.estimateInput()
	t := NewTurn(c.now())
	t.schema = c.conv.Settings.Schema
	t.RequestModel = c.conv.Settings.Model
	t.Sent = len(c.conv.Messages)
	c.turn = t
	c.turns = append(c.turns, t)
	c.state.Begin()
	c.state.Since = t.Start // on the chat's clock, as every other time it keeps
	// The run may deliver before Start returns, but Handle runs on this
	// goroutine, so it sees t registered under the run's ID.
	c.run = c.runner.Start(ctx, c.conv.Request(), c.deliver)
	t.ID = c.run.ID
	c.open[t.ID] = t
	for _, o := range c.observers {
		o.TurnStarted(c, t)
	}
	return t
}

// finish ends the current turn: the answer, even a partial one, joins the
// conversation; the continuation and the totals are updated.
func (c *Chat) finish() {
	t := c.turn
	c.run = nil
	reqLen := len(c.conv.Messages)
	if t.Answered() {
		c.conv.AddAssistant(t.Message())
	}
	t.checkSchema()
	if t.Err == nil && !t.Interrupted {
		c.conv.Continue(t.ChatID)
	} else {
		c.conv.Continue("")
	}
	c.lastDur = t.End.Sub(t.Start)
	in := c.inputTokens()
	c.marks = append(c.marks, tokenMark{upto: reqLen, tokens: in})
	if t.Answered() {
		c.marks = append(c.marks, tokenMark{upto: len(c.conv.Messages), tokens: in + answerTokens(t)})
	}
	for _, o := range c.observers {
		o.TurnFinished(c, t)
	}
}

func (c *Chat) changed(what Change) {
	for _, o := range c.observers {
		o.ConversationChanged(c, what)
	}
}

func (c *Chat) notifyEvent(t *Turn, ev Stamped) {
	for _, o := range c.observers {
		o.TurnEvent(c, t, ev)
	}
}

// Totals are a chat's running figures, as a status line shows them.
type Totals struct {
	// LastTokens are the output tokens of the answer streaming now, else
	// of the last one: the gateway's count when it reported one, else an
	// estimate.
	LastTokens int
	// ConversationTokens are the tokens of the whole conversation: what
	// the current or last request sent plus its answer. The gateway's
	// counts are used when known, estimates otherwise, so the figure grows
	// smoothly while an answer streams and never counts a part twice.
	ConversationTokens int
	// LastDuration is how long the last finished answer took, from the
	// request to its end (tool-call-only answers included).
	LastDuration time.Duration
	// TokensPerSecond is the output rate of the answer streaming now;
	// zero when idle.
	TokensPerSecond float64
}

// Totals returns the chat's figures at now.
func (c *Chat) Totals(now time.Time) Totals {
	tot := Totals{LastDuration: c.lastDur}
	t := c.turn
	if t == nil {
		return tot
	}
	tot.LastTokens = t.OutputTokens()
	tot.ConversationTokens = c.inputTokens() + t.OutputTokens()
	if t.HasUsage && t.Usage.TotalTokens > 0 {
		tot.ConversationTokens = t.Usage.TotalTokens
	}
	if c.run != nil {
		tot.TokensPerSecond = t.TokensPerSecond(now)
	}
	return tot
}

// inputTokens is what the current or last request sent: the gateway's
// count when it reported one, else the estimate made when it started.
func (c *Chat) inputTokens() int {
	if t := c.turn; t.HasUsage && t.Usage.InputTokens > 0 {
		return t.Usage.InputTokens
	}
	return c.reqIn
}

// answerTokens estimates what t's answer adds to the next request: its
// text and tool calls, not its reasoning (which is not sent back).
func answerTokens(t *Turn) int {
	if t.HasUsage && t.Usage.OutputTokens > 0 {
		return max(t.Usage.OutputTokens-t.Usage.ReasoningTokens, 0)
	}
	return estimateMessage(t.Message())
}

// estimateInput estimates the tokens of the request for the conversation
// as it stands: the longest known prefix plus an estimate of the rest.
func (c *Chat) estimateInput() int {
	msgs := c.conv.Messages
	total, from := EstimateTokens(len(c.conv.Settings.System)), 0
	for i := len(c.marks) - 1; i >= 0; i-- {
		if c.marks[i].upto <= len(msgs) {
			total, from = c.marks[i].tokens, c.marks[i].upto
			break
		}
	}
	for _, m := range msgs[from:] {
		total += estimateMessage(m)
	}
	return total
}

// pruneMarks forgets the marks of messages that are gone.
func (c *Chat) pruneMarks() {
	n := len(c.marks)
	for n > 0 && c.marks[n-1].upto > len(c.conv.Messages) {
		n--
	}
	c.marks = c.marks[:n]
}

// estimateMessage estimates what a message takes in a request: its text
// and tool calls (reasoning is not sent back).
func estimateMessage(m provider.Message) int {
	n := len(m.Content)
	for _, tc := range m.ToolCalls {
		n += len(tc.Name) + len(tc.Arguments)
	}
	return EstimateTokens(n)
}

// SetTools sets the tools offered with the next requests (the tools of
// MCP servers arrive once the servers have started).
func (c *Chat) SetTools(tools []provider.Tool) {
	c.conv.Settings.Tools = tools
	c.changed(ChangeSettings)
}

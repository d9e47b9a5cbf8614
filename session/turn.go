package session

import (
	"strings"
	"time"

	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/schema"
)

// TimedEvent is one provider event with its offset from the start of the
// turn. A turn's timeline is what the store saves and replay plays back.
type TimedEvent struct {
	Offset time.Duration
	Event  provider.Event
}

// Turn folds one stream's events into an assistant message and records the
// timeline. It is not safe for concurrent use: apply events from one
// goroutine (they arrive in order from the provider).
type Turn struct {
	// ID is the ID of the run that streams the turn (see Run.ID); zero
	// for a turn made outside a Chat.
	ID uint64
	// Superseded is set when /retry replaced the answer this turn gave:
	// the turn stays on record but its answer left the conversation.
	Superseded bool
	// RequestModel is the model the request asked for ("" for the
	// gateway's default): what wrote the answer when the gateway does not
	// say (Model).
	RequestModel string
	// Sent is how many conversation messages the request carried (the
	// system prompt not counted). The answer, when the turn gave one and
	// is not superseded, is the conversation's message at index Sent.
	Sent int

	Start time.Time
	// SentAt is when the request that answered went out: Start, or the end
	// of the last wait before it (a retry's, or the client's pacing).
	SentAt     time.Time
	FirstToken time.Time // first text or reasoning delta
	FirstText  time.Time // first answer text delta
	End        time.Time

	// ReasoningStart and ReasoningEnd bound the reasoning phase; the end is
	// set by the first answer text, a tool call or the end of the stream.
	ReasoningStart time.Time
	ReasoningEnd   time.Time

	ToolCalls    []provider.ToolCall
	ToolResults  []provider.ToolResult
	Sources      []provider.Source
	Usage        provider.Usage
	HasUsage     bool
	Model        string // the model the gateway reported, if any
	ChatID       string // the gateway's conversation id, if it reported one
	FinishReason string

	// Err is the error the stream ended with; nil on success and when the
	// user cancelled (then Interrupted is true).
	Err         *provider.APIError
	Interrupted bool

	// SchemaCheck is the answer checked against the schema its request
	// asked for (see Settings.Schema); nil without a schema, and for a
	// turn that ended in tool calls, an error or an interruption. It is
	// set before observers learn the turn finished.
	SchemaCheck *schema.Result
	schema      *schema.Schema // the schema the request asked for

	// timeline holds the events applied, compactly; loaded, when set,
	// the events before them (see SetEvents).
	timeline timeline
	loaded   []TimedEvent

	text      strings.Builder
	reasoning strings.Builder
	toolBytes int // bytes of the tool calls' names and arguments
	finished  bool
}

// NewTurn starts a turn at the given time.
func NewTurn(start time.Time) *Turn {
	return &Turn{Start: start, SentAt: start}
}

// Apply folds ev into the turn at time now and reports whether ev ended the
// stream. Events after the end are recorded but change nothing.
func (t *Turn) Apply(ev provider.Event, now time.Time) bool {
	if t.finished {
		t.record(now, entryOther, ev)
		return false
	}
	kind := entryOther
	switch ev.(type) {
	case provider.TextDelta:
		kind = entryText
	case provider.ReasoningDelta:
		kind = entryReasoning
	}
	t.record(now, kind, ev)
	switch e := ev.(type) {
	case provider.TextDelta:
		if e.Text == "" {
			return false
		}
		t.firstToken(now)
		if t.FirstText.IsZero() {
			t.FirstText = now
		}
		t.endReasoning(now)
		t.text.WriteString(e.Text)
	case provider.ReasoningDelta:
		if e.Text == "" {
			return false
		}
		t.firstToken(now)
		if t.ReasoningStart.IsZero() {
			t.ReasoningStart = now
		}
		t.reasoning.WriteString(e.Text)
	case provider.ToolCallEvent:
		t.endReasoning(now)
		t.ToolCalls = append(t.ToolCalls, e.ToolCall)
		t.toolBytes += len(e.Name) + len(e.Arguments)
	case provider.ToolResult:
		t.ToolResults = append(t.ToolResults, e)
	case provider.Source:
		t.Sources = append(t.Sources, e)
	case provider.Usage:
		t.Usage = e
		t.HasUsage = true
	case provider.Retry:
		t.SentAt = now.Add(e.Wait)
	case provider.Paced:
		t.SentAt = now.Add(e.Wait)
	case provider.Started:
		if e.Model != "" {
			t.Model = e.Model
		}
		if e.ChatID != "" {
			t.ChatID = e.ChatID
		}
	case provider.Done:
		t.FinishReason = e.FinishReason
		t.finish(now)
		return true
	case provider.Error:
		err := e.Err
		if err == nil {
			err = &provider.APIError{Kind: provider.KindStream, Message: "unknown error"}
		}
		if err.Kind == provider.KindCanceled {
			t.Interrupted = true
		} else {
			t.Err = err
		}
		t.finish(now)
		return true
	}
	return false
}

// record adds ev, applied at now, to the timeline: kind is entryText or
// entryReasoning for a delta whose text the turn appends to its answer or
// reasoning (or, empty, to nothing), else entryOther.
func (t *Turn) record(now time.Time, kind int, ev provider.Event) {
	if t.loaded != nil {
		t.loaded = append(t.loaded, TimedEvent{Offset: now.Sub(t.Start), Event: ev})
		return
	}
	t.timeline.add(now.Sub(t.Start), kind, ev)
}

// Events returns the turn's timeline: every event applied to it (or set
// with SetEvents), in order, with its offset from the turn's start. A
// turn's timeline is what the store saves and replay plays back. The
// slice is made on each call (the turn keeps the timeline in a compact
// form, its deltas' text being the turn's own); the caller may keep it.
func (t *Turn) Events() []TimedEvent {
	if t.loaded != nil {
		return t.loaded
	}
	return t.timeline.events(t.text.String(), t.reasoning.String())
}

// EventCount is len(Events()), without making the slice.
func (t *Turn) EventCount() int {
	if t.loaded != nil {
		return len(t.loaded)
	}
	return t.timeline.n
}

// SetEvents replaces the turn's timeline with evs, for a turn filled in
// from storage: events applied afterwards follow them.
func (t *Turn) SetEvents(evs []TimedEvent) {
	t.timeline = timeline{}
	t.loaded = evs
	if t.loaded == nil {
		t.loaded = []TimedEvent{}
	}
}

// Interrupt ends the turn at once as cancelled by the user, keeping what
// has streamed. It is a no-op on a finished turn.
func (t *Turn) Interrupt(now time.Time) {
	if t.finished {
		return
	}
	t.Interrupted = true
	t.finish(now)
}

func (t *Turn) firstToken(now time.Time) {
	if t.FirstToken.IsZero() {
		t.FirstToken = now
	}
}

func (t *Turn) endReasoning(now time.Time) {
	if !t.ReasoningStart.IsZero() && t.ReasoningEnd.IsZero() {
		t.ReasoningEnd = now
	}
}

func (t *Turn) finish(now time.Time) {
	t.endReasoning(now)
	t.End = now
	t.finished = true
}

// Finished reports whether the stream has ended (done, error or interrupt).
func (t *Turn) Finished() bool { return t.finished }

// Text is the answer text so far.
func (t *Turn) Text() string { return t.text.String() }

// Reasoning is the reasoning text so far.
func (t *Turn) Reasoning() string { return t.reasoning.String() }

// Thinking reports whether the model is still in its reasoning phase:
// reasoning has streamed and no answer text, tool call or end yet.
func (t *Turn) Thinking() bool {
	return !t.ReasoningStart.IsZero() && t.ReasoningEnd.IsZero()
}

// ReasoningDuration is how long the reasoning phase lasted (so far, at now,
// while it is still open).
func (t *Turn) ReasoningDuration(now time.Time) time.Duration {
	if t.ReasoningStart.IsZero() {
		return 0
	}
	end := t.ReasoningEnd
	if end.IsZero() {
		end = now
	}
	return end.Sub(t.ReasoningStart)
}

// ReasoningTokens is the gateway's reasoning token count when it reported
// one, else an estimate from the reasoning text (about four bytes a token).
func (t *Turn) ReasoningTokens() int {
	if t.HasUsage && t.Usage.ReasoningTokens > 0 {
		return t.Usage.ReasoningTokens
	}
	return EstimateTokens(t.reasoning.Len())
}

// OutputTokens is the gateway's output token count when it reported one,
// else an estimate from the streamed text, reasoning and tool calls.
func (t *Turn) OutputTokens() int {
	if t.HasUsage && t.Usage.OutputTokens > 0 {
		return t.Usage.OutputTokens
	}
	return EstimateTokens(t.text.Len() + t.reasoning.Len() + t.toolBytes)
}

// TokensPerSecond is the output rate since the first token, at now (or at
// the end of a finished turn). It is zero before two tokens' worth of time.
func (t *Turn) TokensPerSecond(now time.Time) float64 {
	if t.FirstToken.IsZero() {
		return 0
	}
	end := now
	if t.finished {
		end = t.End
	}
	d := end.Sub(t.FirstToken).Seconds()
	if d < 0.05 {
		return 0
	}
	return float64(t.OutputTokens()) / d
}

// TTFT is the time to first token: from when the request that answered
// went out (see SentAt) to the first text or reasoning; zero before it.
func (t *Turn) TTFT() time.Duration {
	if t.FirstToken.IsZero() {
		return 0
	}
	return max(t.FirstToken.Sub(t.SentAt), 0)
}

// Waited is how long the turn waited before its answering request went
// out: queue waits, retries and pacing, at now while it still waits.
func (t *Turn) Waited(now time.Time) time.Duration {
	end := t.SentAt
	if t.finished && t.End.Before(end) {
		end = t.End
	} else if !t.finished && now.Before(end) {
		end = now
	}
	return max(end.Sub(t.Start), 0)
}

// EstimateTokens estimates a token count from a byte count.
func EstimateTokens(bytes int) int {
	return (bytes + 3) / 4
}

// Message is the assistant message this turn produced so far: text,
// reasoning and tool calls.
func (t *Turn) Message() provider.Message {
	m := provider.Message{Role: provider.RoleAssistant, Content: t.text.String(), Reasoning: t.reasoning.String()}
	if len(t.ToolCalls) > 0 {
		m.ToolCalls = append([]provider.ToolCall(nil), t.ToolCalls...)
	}
	return m
}

// Empty reports whether nothing of an answer arrived: no text, reasoning or
// tool calls.
func (t *Turn) Empty() bool {
	return t.text.Len() == 0 && t.reasoning.Len() == 0 && len(t.ToolCalls) == 0
}

// Answered reports whether the turn produced something the conversation
// keeps: answer text or tool calls. Reasoning alone is shown, not sent
// back.
func (t *Turn) Answered() bool { return t.text.Len() > 0 || len(t.ToolCalls) > 0 }

// TextLen is the length in bytes of the answer text so far.
func (t *Turn) TextLen() int { return t.text.Len() }

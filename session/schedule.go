package session

import (
	"time"

	"github.com/parley-chat/parley/provider"
)

// StepKind says what a replay step does.
type StepKind int

// The kinds of replay steps. The first three start an answer: they are
// what the user did (send a prompt, /retry, hand back tool results); an
// event step is one event of the answer's stream.
const (
	StepSend     StepKind = iota // send Prompt
	StepRetry                    // answer the last prompt again
	StepContinue                 // add Results, then let the model carry on
	StepEvent                    // Event, emitted by the answer's stream
)

// Step is one thing a replay does, at the moment it is due.
type Step struct {
	// At is when the step is due, from the start of the replay at speed
	// 1, with long pauses capped (see ScheduleOptions).
	At time.Duration
	// Rec is the recorded time the step stands for: the answer's start
	// for the step that starts it, the event's emission time for an
	// event.
	Rec  time.Time
	Kind StepKind
	// Turn is the index in Saved.Turns of the answer the step belongs to.
	Turn int
	// Event is the event of a StepEvent.
	Event provider.Event
	// Prompt is the prompt of a StepSend; Results the tool results of a
	// StepContinue; Model the model the answer's request asked for ("" for
	// the gateway's default).
	Prompt  string
	Results []provider.Message
	Model   string
}

// Starts reports whether the step starts an answer (it is the user's).
func (s Step) Starts() bool { return s.Kind != StepEvent }

// ScheduleOptions shape a replay's timing.
type ScheduleOptions struct {
	// Instant puts every step at 0: the replay shows the end at once.
	Instant bool
	// MaxIdle caps every pause (between two events of an answer, before
	// its first event, between answers); 0 keeps them as recorded.
	MaxIdle time.Duration
}

// BetweenAnswers is the longest pause between the end of one answer and
// the next prompt: the time the user took to write it is not worth
// watching. MaxIdle shortens it further.
const BetweenAnswers = time.Second

// Schedule is a saved conversation laid out as a replay: every answer,
// superseded ones included, in the order they were given, each preceded
// by the step that asked for it.
type Schedule struct {
	Steps []Step
	// Total is when the last step is due.
	Total time.Duration
	// Starts are the indexes in Steps of the steps that start an answer.
	Starts []int
}

// NewSchedule lays out s for a replay. Answers saved without a timeline
// (an imported history) are replayed from what they hold: reasoning,
// text, tool calls and how they ended, at their recorded times. An answer
// whose timeline stops without an end (its process died) ends
// interrupted where it stopped.
func NewSchedule(s Saved, o ScheduleOptions) *Schedule {
	sc := &Schedule{}
	var v time.Duration   // the cursor
	var prevEnd time.Time // the recorded end of the last answer
	held := 0             // messages the replayed chat holds
	for k, t := range s.Turns {
		prompt := promptOf(s.Messages, t.Sent)
		if prompt < 0 {
			continue // nothing asked for it
		}
		start := Step{Kind: StepSend, Turn: k, Rec: t.Start, Model: t.RequestModel}
		switch {
		case len(sc.Starts) > 0 && t.Sent == prompt+1 && held > prompt:
			// The prompt was sent already: this answer replaced another.
			start.Kind = StepRetry
		case t.Sent == prompt+1 || held <= prompt:
			start.Prompt = s.Messages[prompt].Content
		default:
			start.Kind = StepContinue
			for _, m := range s.Messages[min(held, t.Sent):t.Sent] {
				if m.Role == provider.RoleTool {
					start.Results = append(start.Results, m)
				}
			}
		}
		if len(sc.Starts) > 0 {
			v += capped(t.Start.Sub(prevEnd), min(BetweenAnswers, orMax(o.MaxIdle)))
		}
		start.At = v
		sc.Starts = append(sc.Starts, len(sc.Steps))
		sc.Steps = append(sc.Steps, start)
		prev := time.Duration(0)
		end := t.Start
		for _, te := range timelineOf(t) {
			off := max(te.Offset, prev)
			v += capped(off-prev, orMax(o.MaxIdle))
			prev = off
			end = t.Start.Add(off)
			sc.Steps = append(sc.Steps, Step{At: v, Rec: end, Kind: StepEvent, Turn: k, Event: te.Event})
		}
		prevEnd = end
		held = t.Sent
		if t.Answered() || len(t.ToolCalls) > 0 {
			held++
		}
	}
	if o.Instant {
		for i := range sc.Steps {
			sc.Steps[i].At = 0
		}
		v = 0
	}
	sc.Total = v
	return sc
}

// orMax is d, or the longest duration for 0 (no cap).
func orMax(d time.Duration) time.Duration {
	if d <= 0 {
		return 1<<63 - 1
	}
	return d
}

// capped is d within [0, limit].
func capped(d, limit time.Duration) time.Duration {
	return min(max(d, 0), limit)
}

// timelineOf is the turn's timeline as a replay plays it: up to and with
// its terminal event, which is made up when the timeline has none
// (interrupted when the turn was, done otherwise). A turn saved without a
// timeline gets one from what it holds.
func timelineOf(t *Turn) []TimedEvent {
	evs := t.Events()
	if len(evs) == 0 {
		evs = synthTimeline(t)
	}
	out := make([]TimedEvent, 0, len(evs)+1)
	for _, te := range evs {
		out = append(out, te)
		if Terminal(te.Event) {
			return out
		}
	}
	last := time.Duration(0)
	if n := len(out); n > 0 {
		last = out[n-1].Offset
	}
	var end provider.Event = provider.Done{FinishReason: t.FinishReason}
	switch {
	case t.Err != nil:
		end = provider.Error{Err: t.Err}
	case t.Interrupted || t.EventCount() > 0:
		// A recorded timeline that stops without an end was cut short.
		end = provider.Error{Err: &provider.APIError{Kind: provider.KindCanceled, Title: "cancelled"}}
	}
	return append(out, TimedEvent{Offset: last, Event: end})
}

// synthTimeline makes a timeline of a turn saved without one: its
// reasoning, text, tool calls and usage, each at the recorded time it
// began (the end when that is unknown).
func synthTimeline(t *Turn) []TimedEvent {
	at := func(ts time.Time) time.Duration {
		if ts.IsZero() || t.Start.IsZero() {
			return max(t.End.Sub(t.Start), 0)
		}
		return max(ts.Sub(t.Start), 0)
	}
	var out []TimedEvent
	if t.Model != "" || t.ChatID != "" {
		out = append(out, TimedEvent{Event: provider.Started{Model: t.Model, ChatID: t.ChatID}})
	}
	if r := t.Reasoning(); r != "" {
		out = append(out, TimedEvent{Offset: at(t.ReasoningStart), Event: provider.ReasoningDelta{Text: r}})
	}
	if s := t.Text(); s != "" {
		out = append(out, TimedEvent{Offset: at(t.FirstText), Event: provider.TextDelta{Text: s}})
	}
	end := at(t.End)
	for _, tc := range t.ToolCalls {
		out = append(out, TimedEvent{Offset: end, Event: provider.ToolCallEvent{ToolCall: tc}})
	}
	if t.HasUsage {
		out = append(out, TimedEvent{Offset: end, Event: t.Usage})
	}
	if t.Err == nil && !t.Interrupted {
		out = append(out, TimedEvent{Offset: end, Event: provider.Done{FinishReason: t.FinishReason}})
	}
	return out
}

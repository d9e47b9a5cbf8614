package session

import (
	"reflect"
	"testing"
	"time"

	"github.com/parley-chat/parley/provider"
)

// TestTimelineKeepsEveryEvent applies a stream of every kind of event, at
// offsets that also go backwards, and checks that the timeline gives back
// each one as applied, in order; then restores the turn and applies more.
func TestTimelineKeepsEveryEvent(t *testing.T) {
	start := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	evs := []TimedEvent{
		{0, provider.Started{Model: "m"}},
		{time.Millisecond, provider.ReasoningDelta{Text: "thinking "}},
		{2 * time.Millisecond, provider.ReasoningDelta{Text: ""}},
		{3 * time.Millisecond, provider.ReasoningDelta{Text: "more"}},
		{3 * time.Millisecond, provider.TextDelta{Text: "Héllo"}},
		{time.Millisecond, provider.TextDelta{Text: ""}}, // the clock went back
		{time.Hour, provider.TextDelta{Text: ", wörld"}},
		{time.Hour + 1, provider.ToolCallEvent{ToolCall: provider.ToolCall{ID: "c", Name: "f", Arguments: "{}"}}},
		{time.Hour + 2, provider.Usage{OutputTokens: 7}},
		{time.Hour + 3, provider.Done{FinishReason: "stop"}},
		{time.Hour + 4, provider.TextDelta{Text: "after the end"}},
		{time.Hour + 5, provider.ReasoningDelta{Text: "late"}},
	}
	tr := NewTurn(start)
	for _, te := range evs {
		tr.Apply(te.Event, start.Add(te.Offset))
	}
	if tr.Text() != "Héllo, wörld" || tr.Reasoning() != "thinking more" {
		t.Fatalf("text %q, reasoning %q", tr.Text(), tr.Reasoning())
	}
	if got := tr.Events(); !reflect.DeepEqual(got, evs) || tr.EventCount() != len(evs) {
		t.Fatalf("timeline (%d events):\n%+v\nwant\n%+v", tr.EventCount(), got, evs)
	}
	// Restoring replaces the text the deltas were cut from: the timeline
	// stays as it was, and later events follow it.
	tr.Restore("other text", "")
	more := TimedEvent{time.Hour + 6, provider.TextDelta{Text: "x"}}
	tr.Apply(more.Event, start.Add(more.Offset))
	if got := tr.Events(); !reflect.DeepEqual(got, append(evs, more)) {
		t.Fatalf("timeline after restore:\n%+v", got)
	}
	// A timeline set from storage is the turn's, and later events follow.
	tr.SetEvents(evs[:2])
	tr.Apply(more.Event, start.Add(more.Offset))
	if got := tr.Events(); !reflect.DeepEqual(got, append(evs[:2:2], more)) || tr.EventCount() != 3 {
		t.Fatalf("timeline after SetEvents:\n%+v", got)
	}
}

// TestTimelineIsCompact checks that a stream of small text deltas costs
// the timeline a few bytes each, not a TimedEvent and a boxed event.
func TestTimelineIsCompact(t *testing.T) {
	const deltas = 16 << 10
	start := time.Now()
	tr := NewTurn(start)
	for i := range deltas {
		tr.Apply(provider.TextDelta{Text: "sixteen bytes.. "}, start.Add(time.Duration(i)*2500*time.Microsecond))
	}
	if n := cap(tr.timeline.log) + cap(tr.timeline.others)*16; n > 8*deltas {
		t.Fatalf("the timeline of %d deltas holds %d bytes, want at most %d", deltas, n, 8*deltas)
	}
	if evs := tr.Events(); len(evs) != deltas || evs[deltas-1].Offset != (deltas-1)*2500*time.Microsecond ||
		evs[deltas-1].Event != (provider.TextDelta{Text: "sixteen bytes.. "}) {
		t.Fatalf("last of %d events: %+v", len(evs), evs[len(evs)-1])
	}
}

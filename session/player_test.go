package session

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/provider"
)

// ev is an event at an offset in milliseconds.
type ev struct {
	ms int
	e  provider.Event
}

// recorded folds events into a finished turn starting at start, as a
// live chat records it.
func recorded(start time.Time, sent int, evs ...ev) *Turn {
	t := NewTurn(start)
	t.Sent = sent
	for _, e := range evs {
		t.Apply(e.e, start.Add(time.Duration(e.ms)*time.Millisecond))
	}
	return t
}

var replayT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// savedChat is a conversation with two prompts: the first answered with
// reasoning, then retried after a long pause; the second cut short.
func savedChat() Saved {
	t1 := recorded(replayT0, 1,
		ev{0, provider.RateLimit{Scope: "requests", Limit: 20, Remaining: 7}},
		ev{300, provider.ReasoningDelta{Text: "thinking"}},
		ev{800, provider.TextDelta{Text: "first "}},
		ev{1000, provider.TextDelta{Text: "answer"}},
		ev{1200, provider.Done{FinishReason: "stop"}})
	t1.Superseded = true
	// The retry, a minute later, with a 30 s stall inside.
	t2 := recorded(replayT0.Add(time.Minute), 1,
		ev{100, provider.TextDelta{Text: "better "}},
		ev{30100, provider.TextDelta{Text: "answer"}},
		ev{30200, provider.Done{}})
	// The second prompt: its process died mid-answer (no end).
	t3 := recorded(replayT0.Add(2*time.Minute), 3,
		ev{500, provider.TextDelta{Text: "cut"}})
	return Saved{
		ID: "c1",
		Messages: []provider.Message{
			{Role: provider.RoleUser, Content: "question one"},
			{Role: provider.RoleAssistant, Content: "better answer"},
			{Role: provider.RoleUser, Content: "question two"},
			{Role: provider.RoleAssistant, Content: "cut"},
		},
		Turns: []*Turn{t1, t2, t3},
	}
}

func TestScheduleLaysOutTheConversation(t *testing.T) {
	sc := NewSchedule(savedChat(), ScheduleOptions{})
	var starts []string
	for _, i := range sc.Starts {
		s := sc.Steps[i]
		switch s.Kind {
		case StepSend:
			starts = append(starts, "send "+s.Prompt)
		case StepRetry:
			starts = append(starts, "retry")
		case StepContinue:
			starts = append(starts, "continue")
		}
	}
	if got := strings.Join(starts, ", "); got != "send question one, retry, send question two" {
		t.Fatalf("starts: %s", got)
	}
	// Answer 1 lasts 1.2 s; a 1 s pause (the minute capped); answer 2
	// lasts 30.2 s; a 1 s pause; answer 3 stops at 0.5 s and ends
	// interrupted there.
	want := 1200*time.Millisecond + time.Second + 30200*time.Millisecond + time.Second + 500*time.Millisecond
	if sc.Total != want {
		t.Fatalf("total %v, want %v", sc.Total, want)
	}
	last := sc.Steps[len(sc.Steps)-1]
	if e, ok := last.Event.(provider.Error); !ok || e.Err.Kind != provider.KindCanceled {
		t.Fatalf("an answer cut short ends with %#v", last.Event)
	}
	for i := 1; i < len(sc.Steps); i++ {
		if sc.Steps[i].At < sc.Steps[i-1].At {
			t.Fatalf("step %d goes back in time", i)
		}
	}
	if r := sc.Steps[sc.Starts[1]+2].Rec; !r.Equal(replayT0.Add(time.Minute + 30100*time.Millisecond)) {
		t.Fatalf("recorded time of an event: %v", r)
	}
}

func TestScheduleMaxIdleAndInstant(t *testing.T) {
	sc := NewSchedule(savedChat(), ScheduleOptions{MaxIdle: 2 * time.Second})
	// The 30 s stall becomes 2 s; everything else is shorter than 2 s
	// except the pauses between answers, which are 1 s anyway.
	want := 1200*time.Millisecond + time.Second + 2200*time.Millisecond + time.Second + 500*time.Millisecond
	if sc.Total != want {
		t.Fatalf("total %v, want %v", sc.Total, want)
	}
	sc = NewSchedule(savedChat(), ScheduleOptions{MaxIdle: 100 * time.Millisecond})
	for i := 1; i < len(sc.Steps); i++ {
		if d := sc.Steps[i].At - sc.Steps[i-1].At; d > 100*time.Millisecond {
			t.Fatalf("a pause of %v past --max-idle", d)
		}
	}
	sc = NewSchedule(savedChat(), ScheduleOptions{Instant: true})
	if sc.Total != 0 {
		t.Fatalf("instant total %v", sc.Total)
	}
}

// replayRig plays a schedule into a Chat the way the screen does: the
// test goroutine is the chat's owner and acts out the starting steps.
type replayRig struct {
	t   *testing.T
	clk *ManualClock
	p   *Player
	c   *Chat
	evs chan Stamped
}

func newReplayRig(t *testing.T, s Saved, o ScheduleOptions) *replayRig {
	clk := NewManualClock(time.Unix(1_000_000, 0))
	r := &replayRig{t: t, clk: clk, evs: make(chan Stamped, 16)}
	r.p = NewPlayer(NewSchedule(s, o), PlayerOptions{Clock: clk})
	r.c = NewChat(ChatOptions{Provider: r.p.Provider("rec", "openai"), Now: r.p.Now,
		Deliver: func(st Stamped) { r.evs <- st }})
	return r
}

// start dispatches starting step i (due now) and acts it out.
func (r *replayRig) start(i int) {
	r.t.Helper()
	step := r.p.Schedule().Steps[i]
	if err := r.p.Wait(context.Background(), r.p.Generation(), i); err != nil {
		r.t.Fatal(err)
	}
	var err error
	switch step.Kind {
	case StepSend:
		_, err = r.c.Send(context.Background(), step.Prompt)
	case StepRetry:
		_, err = r.c.Retry(context.Background())
	}
	if err != nil {
		r.t.Fatal(err)
	}
}

// next hands the next delivered event to the chat.
func (r *replayRig) next() Update {
	r.t.Helper()
	select {
	case st := <-r.evs:
		return r.c.Handle(st)
	case <-time.After(10 * time.Second):
		r.t.Fatal("no event delivered")
		return Update{}
	}
}

// none checks that nothing was delivered: the stream is waiting on the
// clock (it registered its timer before the caller's check).
func (r *replayRig) none() {
	r.t.Helper()
	select {
	case st := <-r.evs:
		r.t.Fatalf("%s delivered before it was due", st.Event.Type())
	default:
	}
}

// waiting returns once a stream is blocked on a timer.
func (r *replayRig) waiting(added <-chan struct{}) {
	r.t.Helper()
	select {
	case <-added:
	case <-time.After(10 * time.Second):
		r.t.Fatal("the stream never waited")
	}
}

func TestPlayerPlaysAtTheRecordedOffsets(t *testing.T) {
	r := newReplayRig(t, savedChat(), ScheduleOptions{})
	added := r.clk.TimerAdded()
	r.start(0)
	// The rate limit is at offset 0: it comes at once.
	if up := r.next(); up.Event.Type() != "ratelimit" {
		t.Fatalf("first event %s", up.Event.Type())
	}
	r.waiting(added)
	added = r.clk.TimerAdded()
	r.clk.Advance(299 * time.Millisecond)
	r.none()
	r.clk.Advance(time.Millisecond)
	up := r.next()
	if up.Event.Type() != "reasoning" {
		t.Fatalf("at 300 ms: %s", up.Event.Type())
	}
	// The event is stamped with its recorded time, and the turn's
	// figures are the recorded ones.
	if got := up.Turn.ReasoningStart.Sub(up.Turn.Start); got != 300*time.Millisecond {
		t.Fatalf("reasoning began %v after the start", got)
	}
	r.waiting(added)
	r.clk.Advance(1200 * time.Millisecond)
	for !r.next().Finished {
	}
	turn := r.c.Turn()
	if turn.Text() != "first answer" || turn.End.Sub(turn.Start) != 1200*time.Millisecond {
		t.Fatalf("answer %q in %v", turn.Text(), turn.End.Sub(turn.Start))
	}
	if got := r.c.Limits().Snapshot(); len(got) != 1 || got[0].Remaining != 7 {
		t.Fatalf("rate limits %+v", got)
	}
}

func TestPlayerPauseSpeedAndSeek(t *testing.T) {
	r := newReplayRig(t, savedChat(), ScheduleOptions{})
	// Skip to the retry (answer 2) at 2.2 s: answer 1 falls due at once.
	r.p.Seek(r.p.Schedule().Steps[r.p.Schedule().Starts[1]].At)
	r.start(0)
	for !r.next().Finished {
	}
	added := r.clk.TimerAdded()
	r.start(r.p.Schedule().Starts[1])
	r.waiting(added)
	// Paused, time passes and nothing comes.
	added = r.clk.TimerAdded()
	if !r.p.TogglePause() {
		t.Fatal("not paused")
	}
	r.clk.Advance(time.Hour)
	r.none()
	if r.p.TogglePause() {
		t.Fatal("still paused")
	}
	r.waiting(added)
	// At 4× the first delta (100 ms in) needs 25 ms.
	added = r.clk.TimerAdded()
	r.p.SetSpeed(4)
	r.waiting(added)
	r.clk.Advance(24 * time.Millisecond)
	r.none()
	r.clk.Advance(time.Millisecond)
	if up := r.next(); up.Event.Type() != "text" {
		t.Fatalf("got %s", up.Event.Type())
	}
	// Seeking back ends the waits of the generation before.
	gen := r.p.Generation()
	done := make(chan error, 1)
	go func() { done <- r.p.Wait(context.Background(), gen, len(r.p.Schedule().Steps)-1) }()
	r.p.Rewind(0)
	if err := <-done; !errors.Is(err, ErrRewound) {
		t.Fatalf("wait after a rewind: %v", err)
	}
}

func TestPlayerSkipsForwardWithRecordedStamps(t *testing.T) {
	r := newReplayRig(t, savedChat(), ScheduleOptions{})
	r.p.Seek(r.p.Schedule().Total) // End: everything is due
	r.start(0)
	for !r.next().Finished {
	}
	// Played at once, the answer still took its recorded 1.2 s, with
	// the reasoning its 0.5 s.
	turn := r.c.Turn()
	if d := turn.End.Sub(turn.Start); d != 1200*time.Millisecond {
		t.Fatalf("answer took %v", d)
	}
	if d := turn.ReasoningDuration(turn.End); d != 500*time.Millisecond {
		t.Fatalf("reasoning took %v", d)
	}
	r.start(r.p.Schedule().Starts[1])
	for !r.next().Finished {
	}
	r.start(r.p.Schedule().Starts[2])
	for !r.next().Finished {
	}
	if !r.c.Turn().Interrupted || r.c.Turn().Text() != "cut" {
		t.Fatalf("last answer: %q interrupted=%v", r.c.Turn().Text(), r.c.Turn().Interrupted)
	}
	msgs := r.c.Conversation().Messages
	if len(msgs) != 4 || msgs[1].Content != "better answer" || !r.c.Turns()[0].Superseded {
		t.Fatalf("replayed conversation %+v", msgs)
	}
	if !r.p.Finished() {
		t.Fatal("not finished")
	}
}

func TestPlayerSpeedSteps(t *testing.T) {
	p := NewPlayer(&Schedule{}, PlayerOptions{Clock: NewManualClock(replayT0)})
	for _, want := range []float64{2, 4, 8, 16, 16} {
		if got := p.Faster(true); got != want {
			t.Fatalf("faster: %v, want %v", got, want)
		}
	}
	p.SetSpeed(1.5)
	if got := p.Faster(false); got != 1 {
		t.Fatalf("slower from 1.5: %v", got)
	}
}

// BenchmarkPlayer plays a 100-answer conversation of 200 events each,
// skipped to its end, through a Chat: the cost of a replay beyond what
// the screen draws.
func BenchmarkPlayer(b *testing.B) {
	s := Saved{}
	for k := range 100 {
		s.Messages = append(s.Messages, provider.Message{Role: provider.RoleUser, Content: "q"},
			provider.Message{Role: provider.RoleAssistant, Content: strings.Repeat("word ", 200)})
		evs := make([]ev, 0, 201)
		for i := range 200 {
			evs = append(evs, ev{i * 20, provider.TextDelta{Text: "word "}})
		}
		evs = append(evs, ev{4000, provider.Done{}})
		s.Turns = append(s.Turns, recorded(replayT0.Add(time.Duration(k)*time.Minute), 2*k+1, evs...))
	}
	sc := NewSchedule(s, ScheduleOptions{})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clk := NewManualClock(replayT0)
		p := NewPlayer(sc, PlayerOptions{Clock: clk})
		p.Seek(sc.Total)
		evs := make(chan Stamped, 64)
		c := NewChat(ChatOptions{Provider: p.Provider("rec", "openai"), Now: p.Now, Deliver: func(st Stamped) { evs <- st }})
		for _, i := range sc.Starts {
			if err := p.Wait(context.Background(), 0, i); err != nil {
				b.Fatal(err)
			}
			if _, err := c.Send(context.Background(), sc.Steps[i].Prompt); err != nil {
				b.Fatal(err)
			}
			for !c.Handle(<-evs).Finished {
			}
		}
	}
}

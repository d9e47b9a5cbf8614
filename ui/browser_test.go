package ui

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
)

// memLibrary is an in-memory Library for the browser's unit tests (the
// store behind the real one is tested end to end).
type memLibrary struct {
	mu      sync.Mutex
	convs   map[string]session.Saved
	order   []SessionInfo
	deleted []string
	opened  []string
}

func (l *memLibrary) Rename(string, string) error           { return nil }
func (l *memLibrary) Export(string, string) (string, error) { return "", nil }

func (l *memLibrary) List(context.Context) ([]SessionInfo, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]SessionInfo(nil), l.order...), nil
}

func (l *memLibrary) Search(_ context.Context, q string) ([]SessionHit, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	word := strings.TrimSuffix(strings.ToLower(q), "*")
	var out []SessionHit
	for _, info := range l.order {
		for _, m := range l.convs[info.ID].Messages {
			if i := strings.Index(strings.ToLower(m.Content), word); i >= 0 {
				out = append(out, SessionHit{SessionInfo: info, Snippet: m.Content, Marks: [][2]int{{i, i + len(word)}}})
				break
			}
		}
	}
	return out, nil
}

func (l *memLibrary) Load(_ context.Context, id string) (session.Saved, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.convs[id]
	if !ok {
		return s, errors.New("no such conversation")
	}
	return s, nil
}

func (l *memLibrary) Delete(_ context.Context, id string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.deleted = append(l.deleted, id)
	return nil
}

func (l *memLibrary) Open(ctx context.Context, id string) (Opened, error) {
	s, err := l.Load(ctx, id)
	l.mu.Lock()
	l.opened = append(l.opened, id)
	l.mu.Unlock()
	return Opened{Saved: s, Settings: session.Settings{Model: "m-1"}, Title: id}, err
}

func savedPair(id, prompt, answer string) session.Saved {
	t := session.NewTurn(testStart)
	t.Sent = 1
	t.Restore(answer, "")
	return session.Saved{ID: id, Messages: []provider.Message{
		{Role: provider.RoleUser, Content: prompt}, {Role: provider.RoleAssistant, Content: answer}},
		Turns: []*session.Turn{t}}
}

func newMemLibrary() *memLibrary {
	l := &memLibrary{convs: map[string]session.Saved{
		"a1": savedPair("a1", "Caching in Go", "Use a sync.Map or an LRU."),
		"b2": savedPair("b2", "Zebra facts", "A zebra has stripes; a naïve question."),
		"c3": savedPair("c3", "Gardening tips", "Water in the morning."),
	}}
	for _, id := range []string{"a1", "b2", "c3"} {
		l.order = append(l.order, SessionInfo{ID: id, Title: l.convs[id].Messages[0].Content, Model: "m-1",
			Updated: testStart, Messages: 2, Status: "done"})
	}
	return l
}

// runAll runs a command's message (and the messages of batches) through
// Update, and the commands those return in turn; the clocks' ticks are
// left out (the test renders frames itself).
func (h *harness) runAll(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	switch msg := cmd().(type) {
	case nil, frameMsg, secondMsg:
	case tea.BatchMsg:
		for _, c := range msg {
			h.runAll(c)
		}
	default:
		h.runAll(h.update(msg))
	}
}

func TestBrowserFiltersSearchesAndOpens(t *testing.T) {
	lib := newMemLibrary()
	p := &scriptProvider{events: []provider.Event{provider.TextDelta{Text: "more"}, provider.Done{}}}
	h := newHarness(t, p, func(o *Options) { o.Sessions = lib })
	h.runAll(h.press('r', tea.ModCtrl))
	contains(t, h.plain(), "Saved conversations", "Caching in Go", "Zebra facts", "Gardening tips", "3 of 3")
	// The preview of the first is shown.
	contains(t, h.plain(), "Use a sync.Map")
	// A fuzzy filter on titles: "zbr" finds "Zebra facts".
	for _, r := range "zbr" {
		h.runAll(h.update(tea.KeyPressMsg{Code: r, Text: string(r)}))
	}
	screen := h.plain()
	contains(t, screen, "Zebra facts", "1 of 3")
	if strings.Contains(screen, "Gardening tips") {
		t.Fatalf("the filter kept a title that does not match:\n%s", screen)
	}
	// A word of an answer: the full-text search finds the conversation
	// with its snippet.
	h.runAll(h.press(tea.KeyBackspace, 0))
	h.runAll(h.press(tea.KeyBackspace, 0))
	h.runAll(h.press(tea.KeyBackspace, 0))
	for _, r := range "morning" {
		h.runAll(h.update(tea.KeyPressMsg{Code: r, Text: string(r)}))
	}
	contains(t, h.plain(), "Gardening tips", "Water in the morning")
	// Enter opens it in the chat, which carries on with it.
	h.runAll(h.press(tea.KeyEnter, 0))
	if h.m.topOverlay() != nil {
		t.Fatal("the browser stayed open")
	}
	contains(t, h.plain(), "Gardening tips", "Water in the morning", "opened: c3")
	h.typeText("and in winter?")
	h.runAll(h.press(tea.KeyEnter, 0))
	h.pump(10)
	reqs := p.requests()
	if len(reqs) != 1 || len(reqs[0].Messages) != 3 || reqs[0].Messages[0].Content != "Gardening tips" {
		t.Fatalf("the prompt after opening sent %+v", reqs)
	}
}

func TestBrowserDeletesAfterConfirmation(t *testing.T) {
	lib := newMemLibrary()
	h := newHarness(t, &scriptProvider{}, func(o *Options) { o.Sessions = lib })
	h.runAll(h.press('r', tea.ModCtrl))
	h.runAll(h.press(tea.KeyDown, 0))
	h.runAll(h.press(tea.KeyDelete, 0))
	contains(t, h.plain(), `delete "Zebra facts"? y deletes`)
	h.runAll(h.update(tea.KeyPressMsg{Code: 'n', Text: "n"}))
	if len(lib.deleted) != 0 {
		t.Fatal("deleted without a yes")
	}
	contains(t, h.plain(), "Zebra facts", "3 of 3")
	h.runAll(h.press(tea.KeyDelete, 0))
	h.runAll(h.update(tea.KeyPressMsg{Code: 'y', Text: "y"}))
	if len(lib.deleted) != 1 || lib.deleted[0] != "b2" {
		t.Fatalf("deleted %v", lib.deleted)
	}
	screen := h.plain()
	contains(t, screen, "2 of 2")
	if strings.Contains(screen, "Zebra facts") {
		t.Fatalf("still listed:\n%s", screen)
	}
	h.runAll(h.press(tea.KeyEscape, 0))
	if h.m.topOverlay() != nil {
		t.Fatal("esc did not close the browser")
	}
}

func TestBrowserWithoutSaving(t *testing.T) {
	h := newHarness(t, &scriptProvider{}, nil)
	h.runAll(h.press('r', tea.ModCtrl))
	if h.m.topOverlay() != nil {
		t.Fatal("a browser opened with nothing saved")
	}
	contains(t, h.plain(), "conversations are not saved")
}

func TestRetriedAnswersPageWithBrackets(t *testing.T) {
	p := &scriptProvider{events: []provider.Event{provider.TextDelta{Text: "an answer"}, provider.Done{}}}
	h := newHarness(t, p, nil)
	h.typeText("question")
	h.runAll(h.press(tea.KeyEnter, 0))
	h.pump(10)
	p.events = []provider.Event{provider.TextDelta{Text: "a better answer"}, provider.Done{}}
	h.typeText("/retry")
	h.runAll(h.press(tea.KeyEnter, 0))
	h.pump(10)
	contains(t, h.plain(), "a better answer")
	h.runAll(h.update(tea.KeyPressMsg{Code: '[', Text: "["}))
	screen := h.plain()
	contains(t, screen, "an answer", "answer 1 of 2 · replaced by /retry")
	if strings.Contains(screen, "a better answer") {
		t.Fatalf("both answers shown:\n%s", screen)
	}
	h.runAll(h.update(tea.KeyPressMsg{Code: ']', Text: "]"}))
	contains(t, h.plain(), "a better answer", "answer 2 of 2")
	// The conversation carries on from the current answer whatever is
	// shown.
	h.runAll(h.update(tea.KeyPressMsg{Code: '[', Text: "["}))
	h.typeText("next")
	h.runAll(h.press(tea.KeyEnter, 0))
	h.pump(10)
	reqs := p.requests()
	if last := reqs[len(reqs)-1]; last.Messages[1].Content != "a better answer" {
		t.Fatalf("the next prompt carried %+v", last.Messages)
	}
}

// TestReplayKeys drives a replay through the screen with a manual clock:
// it plays, pauses, skips to the next answer and back, and quits on q.
func TestReplayKeys(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	sched := session.NewSchedule(castConversation(3, 0), session.ScheduleOptions{})
	clk := session.NewManualClock(time.Unix(0, 0))
	pl := session.NewPlayer(sched, session.PlayerOptions{Clock: clk})
	h := newHarness(t, nil, func(o *Options) {
		o.Panes[0].Provider = pl.Provider("gw", provider.DialectOpenAI)
		o.Replay = &Replay{Player: pl, Title: "a replay"}
	})
	h.m.now = pl.Now
	// The harness sized the screen, which began the replay; its first
	// prompt is due at once, and so is the answer's first event (a rate
	// limit); the stream then waits for the clock.
	added := clk.TimerAdded()
	h.runAll(h.m.replayWait())
	select {
	case <-added:
	case <-time.After(10 * time.Second):
		t.Fatal("the stream never waited")
	}
	msg := (<-h.msgs).(paneEventMsg)
	if msg.Ev.Event.Type() != "ratelimit" {
		t.Fatalf("first event %s", msg.Ev.Event.Type())
	}
	h.update(msg)
	contains(t, h.plain(), "question number 1", "▶ replay 1× · answer 1/3", "req 20/20")
	// Paused, the clock moves and nothing plays.
	h.runAll(h.update(tea.KeyPressMsg{Code: ' ', Text: " "}))
	contains(t, h.plain(), "❚❚ paused")
	clk.Advance(time.Hour)
	select {
	case msg := <-h.msgs:
		t.Fatalf("%T while paused", msg)
	default:
	}
	h.runAll(h.update(tea.KeyPressMsg{Code: ' ', Text: " "}))
	// n skips to the start of answer 2: answer 1 arrives whole.
	h.runAll(h.update(tea.KeyPressMsg{Code: 'n', Text: "n"}))
	cmd := h.pumpUntilEnd()
	h.runAll(cmd)
	h.frame()
	contains(t, h.plain(), "as always.", "question number 2", "answer 2/3")
	// p goes back to answer 1: the screen starts afresh.
	h.runAll(h.update(tea.KeyPressMsg{Code: 'p', Text: "p"}))
	screen := h.plain()
	contains(t, screen, "question number 1", "answer 1/3")
	if strings.Contains(screen, "question number 2") {
		t.Fatalf("rewound, and answer 2 is still there:\n%s", screen)
	}
	if cmd := h.update(tea.KeyPressMsg{Code: 'q', Text: "q"}); cmd == nil {
		t.Fatal("q did not quit")
	} else if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal("q did not quit")
	}
}

// pumpUntilEnd feeds stream events to Update until an answer ends and
// returns the command that followed (the wait for the next answer).
func (h *harness) pumpUntilEnd() tea.Cmd {
	h.t.Helper()
	for {
		msg := h.next()
		pe, ok := msg.(paneEventMsg)
		if !ok {
			h.runAll(h.update(msg))
			continue
		}
		pe.Ev.At = h.m.now() // the replay's clock, not the harness's
		cmd := h.update(pe)
		if session.Terminal(pe.Ev.Event) {
			return cmd
		}
	}
}

package ui

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/provider/cuadra"
	"github.com/parley-chat/parley/session"
)

// turnsProvider runs script for each Stream call (n counts from 1),
// recording the requests as scriptProvider does.
type turnsProvider struct {
	*scriptProvider
	script func(n int, ctx context.Context, emit func(provider.Event)) error
}

func newTurnsProvider(script func(n int, ctx context.Context, emit func(provider.Event)) error) *turnsProvider {
	return &turnsProvider{scriptProvider: &scriptProvider{}, script: script}
}

func (p *turnsProvider) Stream(ctx context.Context, req *provider.Request, emit func(provider.Event)) error {
	p.mu.Lock()
	p.reqs = append(p.reqs, req)
	n := len(p.reqs)
	p.mu.Unlock()
	return p.script(n, ctx, emit)
}

// feedUntil hands stream messages to Update until done reports true for
// one of them.
func (h *harness) feedUntil(done func(paneEventMsg) bool) {
	h.t.Helper()
	for {
		msg := h.next()
		h.update(msg)
		if pe, ok := msg.(paneEventMsg); ok && done(pe) {
			return
		}
	}
}

func terminalOf(run uint64) func(paneEventMsg) bool {
	return func(pe paneEventMsg) bool { return pe.Ev.Run == run && session.Terminal(pe.Ev.Event) }
}

// TestStaleEventAfterRetryIsDropped: /retry in the middle of an answer
// gives up on its run. A provider that keeps streaming after the
// cancellation (as a slow network may) delivers more of the old answer
// while the new one streams: it lands on the old turn's timeline and
// never on screen.
func TestStaleEventAfterRetryIsDropped(t *testing.T) {
	release1, release2 := make(chan struct{}), make(chan struct{})
	p := newTurnsProvider(func(n int, ctx context.Context, emit func(provider.Event)) error {
		if n == 1 {
			emit(provider.TextDelta{Text: "first draft"})
			<-release1 // ignores the cancellation for a while
			emit(provider.TextDelta{Text: " STALE TEXT"})
			emit(provider.Done{FinishReason: "stop"})
			return nil
		}
		emit(provider.TextDelta{Text: "second "})
		<-release2
		emit(provider.TextDelta{Text: "answer"})
		emit(provider.Done{FinishReason: "stop"})
		return nil
	})
	h := newHarness(t, p, nil)
	h.send("question")
	h.pump(1)
	h.frame()
	contains(t, h.plain(), "first draft")
	pane := h.m.focused()
	old := pane.chat.Turn()

	h.send("/retry")
	if pane.chat.Turn() == old || !old.Superseded || !old.Interrupted {
		t.Fatalf("retry did not replace the streaming answer: %+v", old)
	}
	h.pump(1) // "second " of the new run
	close(release1)
	h.feedUntil(terminalOf(old.ID))
	h.frame()
	screen := h.plain()
	if strings.Contains(screen, "STALE") || strings.Contains(screen, "first draft") || strings.Contains(screen, "interrupted") {
		t.Fatalf("the retried answer shows:\n%s", screen)
	}
	contains(t, screen, "second", "streaming")
	if !pane.Streaming() || pane.chat.State().Phase != session.PhaseStreaming {
		t.Fatalf("stale terminal event ended the new answer: phase %v", pane.chat.State().Phase)
	}
	// The old turn recorded everything its run sent, and kept its text.
	var texts []string
	for _, te := range old.Events() {
		if d, ok := te.Event.(provider.TextDelta); ok {
			texts = append(texts, d.Text)
		}
	}
	if strings.Join(texts, "") != "first draft STALE TEXT" || old.Text() != "first draft" {
		t.Fatalf("old timeline %q, text %q", texts, old.Text())
	}

	close(release2)
	h.feedUntil(terminalOf(pane.chat.Turn().ID))
	contains(t, h.plain(), "second answer", "done")
	msgs := pane.chat.Conversation().Messages
	if len(msgs) != 2 || msgs[1].Content != "second answer" {
		t.Fatalf("conversation %+v", msgs)
	}
	if turns := pane.chat.Turns(); len(turns) != 2 || turns[0] != old {
		t.Fatalf("the retried answer is not on record: %d turns", len(turns))
	}
}

// TestToolCallFlow: with no tools configured, an answer that ends in a
// tool call shows the call, the conversation keeps it, and the next
// prompt answers it as not run.
// The status bar reports the tool-call answer's own duration.
func TestToolCallFlow(t *testing.T) {
	p := newTurnsProvider(func(n int, ctx context.Context, emit func(provider.Event)) error {
		if n == 2 {
			emit(provider.ToolCallEvent{ToolCall: provider.ToolCall{ID: "call_1", Name: "get_weather", Arguments: `{"location":"Rome"}`}})
			emit(provider.Done{FinishReason: "tool_calls"})
			return nil
		}
		emit(provider.TextDelta{Text: fmt.Sprintf("answer %d", n)})
		emit(provider.Done{FinishReason: "stop"})
		return nil
	})
	h := newHarness(t, p, func(o *Options) { o.Panes[0].Settings.ToolsMode = "ask" })
	h.send("hello")
	h.advance(2 * time.Second)
	h.pump(10)
	contains(t, h.statusBar(), "done · 2.0 s")

	h.send("weather in Rome?")
	h.advance(500 * time.Millisecond)
	h.pump(10)
	screen := h.plain()
	contains(t, screen, "tool call get_weather", "call_1", `"location": "Rome"`)
	contains(t, h.statusBar(), "done · 0.5 s")
	chat := h.m.focused().chat
	if pending := chat.PendingToolCalls(); len(pending) != 1 || pending[0].ID != "call_1" {
		t.Fatalf("pending calls %+v", pending)
	}
	msgs := chat.Conversation().Messages
	if last := msgs[len(msgs)-1]; last.Role != provider.RoleAssistant || len(last.ToolCalls) != 1 {
		t.Fatalf("the conversation lacks the call: %+v", last)
	}

	h.send("never mind")
	h.pump(10)
	sent := p.requests()[2].Messages
	if len(sent) != 6 || sent[4].Role != provider.RoleTool || sent[4].ToolCallID != "call_1" ||
		sent[4].Content != session.NotRunResult || sent[5].Content != "never mind" {
		t.Fatalf("third request %+v", sent)
	}
	contains(t, h.plain(), "answer 3")
}

// TestTwoPanesSideBySide: the root model lays several panes out side by
// side, each with its own width, chat and answer; a prompt goes to every
// pane.
func TestTwoPanesSideBySide(t *testing.T) {
	answer := func(text string) *scriptProvider {
		return &scriptProvider{events: []provider.Event{provider.TextDelta{Text: text}, provider.Done{}}}
	}
	left, right := answer("LEFT-ANSWER"), answer("RIGHT-ANSWER")
	h := newHarness(t, left, func(o *Options) {
		o.Panes = append(o.Panes, PaneSpec{Provider: right, ProviderName: "gw2", Settings: session.Settings{Model: "m-2"}})
	})
	h.update(tea.WindowSizeMsg{Width: 100, Height: 24})
	if w := []int{h.m.panes[0].width, h.m.panes[1].width}; w[0] != 50 || w[1] != 49 {
		t.Fatalf("pane widths %v for 100 columns", w)
	}
	h.send("hi")
	for ended := 0; ended < 2; {
		msg := h.next()
		h.update(msg)
		if pe, ok := msg.(paneEventMsg); ok && session.Terminal(pe.Ev.Event) {
			ended++
		}
	}
	both := false
	for _, line := range strings.Split(h.plain(), "\n") {
		if ansi.StringWidth(line) > 100 {
			t.Fatalf("line wider than the screen: %q", line)
		}
		if strings.Contains(line, "LEFT-ANSWER") && strings.Contains(line, "│") && strings.Contains(line, "RIGHT-ANSWER") {
			both = true
		}
	}
	if !both {
		t.Fatalf("no line holds both answers:\n%s", h.plain())
	}
	for i, want := range []string{"LEFT-ANSWER", "RIGHT-ANSWER"} {
		msgs := h.m.panes[i].chat.Conversation().Messages
		if len(msgs) != 2 || msgs[1].Content != want {
			t.Fatalf("pane %d conversation %+v", i, msgs)
		}
	}
	contains(t, h.statusBar(), "gw·m-1", "done")
}

// TestBackgroundTasksRunAtOnce: background commands are kept by ID, so a
// usage request and a model listing run together, both show, and ctrl+c
// stops both.
func TestBackgroundTasksRunAtOnce(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // answers nothing until the client gives up
	}))
	t.Cleanup(srv.Close)
	prov, err := cuadra.New(provider.Options{Name: "native", BaseURL: srv.URL + "/v1", APIKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, prov, nil)
	h.typeText("/usage")
	usage := h.press(tea.KeyEnter, 0)
	h.typeText("/model")
	models := h.press(tea.KeyEnter, 0)
	if usage == nil || models == nil {
		t.Fatal("a command did not start")
	}
	contains(t, h.statusBar(), "fetching usage…", "listing models…")
	results := make(chan tea.Msg, 2)
	for _, cmd := range []tea.Cmd{usage, models} {
		go func() { results <- cmd() }()
	}
	if c := h.press('c', tea.ModCtrl); c != nil {
		t.Fatal("ctrl+c with commands in flight quit")
	}
	contains(t, h.m.flash, "stopping: fetching usage, listing models")
	for range 2 {
		select {
		case msg := <-results:
			h.update(msg)
		case <-time.After(10 * time.Second):
			t.Fatal("cancelling did not end the commands")
		}
	}
	contains(t, h.plain(), "usage request stopped", "models · gw")
	if busy := h.m.busyText(h.now()); busy != "" {
		t.Fatalf("status still busy: %s", busy)
	}
	if len(h.m.tasks) != 0 {
		t.Fatalf("%d tasks left", len(h.m.tasks))
	}
}

// TestOverlayPassesCtrlC: ctrl+c with the help open closes it and still
// stops the answer streaming beneath; other keys stay with the overlay.
func TestOverlayPassesCtrlC(t *testing.T) {
	p := &scriptProvider{events: []provider.Event{provider.TextDelta{Text: "partial"}, provider.Done{}},
		holdBefore: 1, release: make(chan struct{})}
	h := newHarness(t, p, nil)
	h.send("hi")
	h.pump(1)
	h.press(tea.KeyF1, 0)
	h.typeText("x")
	if !h.topOverlayIsHelp() || h.m.in.Value() != "" {
		t.Fatalf("help not open, or a key leaked to the input (%q)", h.m.in.Value())
	}
	h.press('c', tea.ModCtrl)
	if h.topOverlayIsHelp() || h.m.focused().Streaming() {
		t.Fatalf("ctrl+c: help open %v, streaming %v", h.topOverlayIsHelp(), h.m.focused().Streaming())
	}
	contains(t, h.plain(), "partial", "interrupted")
}

func (h *harness) topOverlayIsHelp() bool {
	_, ok := h.m.topOverlay().(*helpOverlay)
	return ok
}

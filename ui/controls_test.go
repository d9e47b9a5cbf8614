package ui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
)

// held streams "partial" and then holds the answer until released.
func held() *scriptProvider {
	return &scriptProvider{events: []provider.Event{provider.TextDelta{Text: "partial"}, provider.TextDelta{Text: " and the rest"}, provider.Done{}},
		holdBefore: 1, release: make(chan struct{})}
}

// TestCtrlDDeletesInADraft: ctrl+d quits only on an empty input; in a
// draft it deletes the character under the cursor, as in readline.
func TestCtrlDDeletesInADraft(t *testing.T) {
	h := newHarness(t, done(), nil)
	h.typeText("draft")
	h.press('a', tea.ModCtrl) // to the start of the line
	if cmd := h.press('d', tea.ModCtrl); isQuit(cmd) {
		t.Fatal("ctrl+d quit with a draft in the input")
	}
	if v := h.m.in.Value(); v != "raft" {
		t.Fatalf("ctrl+d left %q, want the d deleted", v)
	}
	h.press('c', tea.ModCtrl) // clears the draft
	if cmd := h.press('d', tea.ModCtrl); !isQuit(cmd) {
		t.Fatal("ctrl+d on an empty input did not quit")
	}
}

// TestCtrlCThatStopsNeverQuits: a ctrl+c that stops a stream does not
// count toward quitting; the next one asks, and says how to quit.
func TestCtrlCThatStopsNeverQuits(t *testing.T) {
	p := held()
	h := newHarness(t, p, nil)
	h.send("question")
	h.pump(1)
	if cmd := h.press('c', tea.ModCtrl); isQuit(cmd) {
		t.Fatal("ctrl+c quit while streaming")
	}
	if cmd := h.press('c', tea.ModCtrl); isQuit(cmd) {
		t.Fatal("the ctrl+c right after stopping the stream quit")
	}
	contains(t, h.plain(), "press ctrl+c again to quit", "interrupted")
	if cmd := h.press('c', tea.ModCtrl); !isQuit(cmd) {
		t.Fatal("the ctrl+c after the question did not quit")
	}
}

// TestEscStopsTheStream: esc stops the focused pane's answer (keeping it)
// and does nothing on an idle chat.
func TestEscStopsTheStream(t *testing.T) {
	p := held()
	h := newHarness(t, p, nil)
	h.send("question")
	h.pump(1)
	h.press(tea.KeyEscape, 0)
	if h.m.streaming() {
		t.Fatal("esc did not stop the answer")
	}
	contains(t, h.plain(), "partial", "interrupted")
	if cmd := h.press(tea.KeyEscape, 0); isQuit(cmd) {
		t.Fatal("esc quit")
	}
}

// TestPromptQueuedWhileStreaming: a prompt sent while an answer streams
// waits, shown above the editor, and goes out when the answer ends; esc
// takes it back into the editor instead.
func TestPromptQueuedWhileStreaming(t *testing.T) {
	p := held()
	h := newHarness(t, p, nil)
	h.send("first")
	h.pump(1)
	h.send("second question")
	if strings.Contains(h.plain(), "still streaming") || !h.m.in.Empty() {
		t.Fatalf("the prompt was refused:\n%s", h.plain())
	}
	contains(t, h.plain(), "next ▸ second question", "sent when the answer ends")
	close(p.release)
	h.pump(10) // the first answer ends: the queued prompt goes out
	h.pump(1)  // its first event: the request was made
	if len(p.requests()) != 2 || sentPrompt(t, p) != "second question" {
		t.Fatalf("requests: %d", len(p.requests()))
	}
	if strings.Contains(h.plain(), "next ▸") {
		t.Fatal("the queue line stayed")
	}
	h.pump(10)
	contains(t, h.plain(), "▌ you\nsecond question")

	// Esc takes a waiting prompt back; a second esc stops the answer.
	p2 := held()
	h = newHarness(t, p2, nil)
	h.send("first")
	h.pump(1)
	h.send("second")
	h.press(tea.KeyEscape, 0)
	if h.m.in.Value() != "second" || h.m.queued != nil || !h.m.streaming() {
		t.Fatalf("esc: input %q, queued %v, streaming %v", h.m.in.Value(), h.m.queued != nil, h.m.streaming())
	}
	h.send("") // enter queues it again
	h.press(tea.KeyEscape, 0)
	h.press(tea.KeyEscape, 0)
	if h.m.streaming() || h.m.in.Value() != "second" {
		t.Fatalf("second esc: streaming %v, input %q", h.m.streaming(), h.m.in.Value())
	}
}

// TestQueuedPromptAfterAFailedAnswer goes back to the editor.
func TestQueuedPromptAfterAFailedAnswer(t *testing.T) {
	p := &scriptProvider{events: []provider.Event{provider.TextDelta{Text: "x"},
		provider.Error{Err: &provider.APIError{Kind: provider.KindHTTP, Status: 500, Title: "boom"}}},
		holdBefore: 1, release: make(chan struct{})}
	h := newHarness(t, p, nil)
	h.send("first")
	h.pump(1)
	h.send("second")
	close(p.release)
	h.pump(10)
	if len(p.requests()) != 1 || h.m.in.Value() != "second" {
		t.Fatalf("%d requests, input %q", len(p.requests()), h.m.in.Value())
	}
	contains(t, h.plain(), "your next prompt is back in the input")
}

// TestCommandsReportInTheTranscript: command results and errors are
// notices in the transcript, readable in full; /quit and /exit quit;
// /clear is /new.
func TestCommandsReportInTheTranscript(t *testing.T) {
	h := newHarness(t, done(), nil)
	h.send("/frobnicate now")
	contains(t, h.plain(), "! unknown command /frobnicate — /help lists the commands")
	h.send("/copy x")
	contains(t, h.plain(), "usage: /copy [N] — N is a code block number")
	h.send("/retry")
	contains(t, h.plain(), "/retry: nothing to retry")
	h.send("/clear")
	if it := h.m.focused().items; len(it) != 1 || it[0].text != "new conversation" {
		t.Fatalf("/clear left %d items", len(it))
	}
	for _, c := range []string{"/quit", "/exit", "/QUIT"} {
		h.typeText(c)
		if cmd := h.press(tea.KeyEnter, 0); !isQuit(cmd) {
			t.Fatalf("%s did not quit", c)
		}
	}
}

// TestSystemCommand: /system shows the prompt, /system TEXT sets it,
// /system clear clears it.
func TestSystemCommand(t *testing.T) {
	h := newHarness(t, done(), func(o *Options) { o.Panes[0].Settings.System = "be brief" })
	h.send("/system")
	contains(t, h.plain(), "system prompt: be brief")
	if s := h.m.focused().chat.Settings().System; s != "be brief" {
		t.Fatalf("/system alone changed it to %q", s)
	}
	h.send("/system be kind")
	h.send("/system")
	contains(t, h.plain(), "system prompt: be kind")
	h.send("/system clear")
	if s := h.m.focused().chat.Settings().System; s != "" {
		t.Fatalf("/system clear left %q", s)
	}
	h.send("/system")
	contains(t, h.plain(), "no system prompt")
}

// TestAnswersNameTheirModel: each answer is labelled with the model that
// wrote it, also when the gateway does not say; /model then /retry keeps
// the note of the switch and labels the new answer.
func TestAnswersNameTheirModel(t *testing.T) {
	p := done()
	h := newHarness(t, p, nil)
	h.send("hello")
	h.pump(10)
	contains(t, h.plain(), "◆ assistant m-1")
	h.send("/model m-2")
	h.send("/retry")
	h.pump(10)
	screen := h.plain()
	contains(t, screen, "model set to m-2", "◆ assistant m-2")
	if strings.Contains(screen, "assistant m-1") {
		t.Fatalf("the replaced answer is still there:\n%s", screen)
	}
	if strings.Index(screen, "model set to m-2") > strings.Index(screen, "◆ assistant m-2") {
		t.Fatalf("the note is not above the answer it explains:\n%s", screen)
	}
}

// reasoningThenLong thinks, then answers with many lines.
func reasoningThenLong() *scriptProvider {
	var body strings.Builder
	for i := 0; i < 60; i++ {
		body.WriteString("answer line\n\n")
	}
	return &scriptProvider{events: []provider.Event{
		provider.ReasoningDelta{Text: "first I consider the question carefully"},
		provider.TextDelta{Text: body.String()},
		provider.Done{},
	}}
}

// TestCtrlTScrollsToTheReasoning: with the reasoning scrolled off the top,
// ctrl+t unfolds it and brings it into view, and the unfolded reasoning
// keeps its summary line.
func TestCtrlTScrollsToTheReasoning(t *testing.T) {
	h := newHarness(t, reasoningThenLong(), nil)
	h.send("q")
	h.pump(10)
	if strings.Contains(h.plain(), "Thought for") {
		t.Fatal("the test needs the reasoning off screen")
	}
	h.press('t', tea.ModCtrl)
	screen := h.plain()
	contains(t, screen, "▾ Thought for", "first I consider the question carefully")
	h.press('t', tea.ModCtrl)
	contains(t, h.plain(), "▸ Thought for")
}

// TestStatusBarKeepsModelAndState: at 80 columns after a tool call the
// bar still names the model and the state.
func TestStatusBarKeepsModelAndState(t *testing.T) {
	p := &scriptProvider{events: []provider.Event{
		provider.RateLimit{Scope: "requests", Limit: 20, Remaining: 19, Reset: testStart.Add(58 * time.Second)},
		provider.RateLimit{Scope: "tokens", Limit: 100000, Remaining: 99000, Reset: testStart.Add(58 * time.Second)},
		provider.ToolCallEvent{ToolCall: provider.ToolCall{ID: "call_1", Name: "get_weather", Arguments: `{"location":"Paris"}`}},
		provider.Usage{InputTokens: 737, OutputTokens: 12, TotalTokens: 749},
		provider.Done{FinishReason: "tool_calls"},
	}}
	h := newHarness(t, p, func(o *Options) {
		o.Panes[0].ProviderName = "demo"
		o.Panes[0].Settings.Model = "demo-fast"
		o.Panes[0].Settings.ToolsMode = provider.ToolsAsk
	})
	h.send("weather?")
	h.advance(9500 * time.Millisecond)
	h.pump(10)
	bar := h.statusBar()
	contains(t, bar, "demo·demo-fast", "done · 9.5 s")
	if strings.Contains(bar, "…") {
		t.Fatalf("the bar cut something: %q", bar)
	}
}

// TestRateLimitAfterReset: past its reset time a scope's count is stale
// and says so; a 60-second window reads 1:00, not 1:01.
func TestRateLimitAfterReset(t *testing.T) {
	now := testStart
	rl := provider.RateLimit{Scope: "requests", Limit: 20, Remaining: 19, Reset: now.Add(60*time.Second + 700*time.Millisecond)}
	if s, _ := rateLimitText(rl, now); s != "req 19/20 · resets 1:00" {
		t.Fatalf("fresh window: %q", s)
	}
	if s, _ := rateLimitText(rl, now.Add(61*time.Second)); s != "req ?/20 · reset" {
		t.Fatalf("after the reset: %q", s)
	}
}

// TestWaitingForTheGateway: a request without response headers yet shows
// how long it has waited.
func TestWaitingForTheGateway(t *testing.T) {
	h := newHarness(t, blockingProvider{}, nil) // accepts the request, never answers
	h.send("q")
	contains(t, h.statusBar(), "connecting…")
	h.advance(42 * time.Second)
	h.update(secondMsg{})
	contains(t, h.statusBar(), "waiting for the gateway · 0:42")
	in := statusInfo{State: session.StreamState{Phase: session.PhaseRetrying, Attempt: 1, MaxRetries: 2, Since: testStart}}
	if s, _ := stateText(in, testStart.Add(5*time.Second), h.m.th); s != "waiting for the gateway · 0:05 · retry 1/2" {
		t.Fatalf("retry waiting: %q", s)
	}
}

// TestWelcome: an empty transcript opens with a welcome that names three
// things to try and the keys that matter, and, without a configuration
// file, how to write one.
func TestWelcome(t *testing.T) {
	h := newHarness(t, done(), func(o *Options) { o.noWelcome = false; o.Unconfigured = true })
	contains(t, h.plain(), "Welcome to Parley · m-1 on gw", "in a table", "Python code", "weather",
		"? help", "ctrl+t reasoning", "/model", "parley config init")
	h = newHarness(t, done(), func(o *Options) { o.noWelcome = false })
	if strings.Contains(h.plain(), "config init") {
		t.Fatal("the welcome offers setup with a configuration file")
	}
	h = newHarness(t, done(), func(o *Options) { o.noWelcome = false; o.InitialPrompt = "hi" })
	if strings.Contains(h.plain(), "Welcome") {
		t.Fatal("a prompt from the command line still got the welcome")
	}
}

// TestPromptWhileTheGatewayQueues: with every request used up the gateway
// holds the request; a prompt sent then waits its turn, and nothing
// claims an answer is streaming.
func TestPromptWhileTheGatewayQueues(t *testing.T) {
	p := &scriptProvider{events: []provider.Event{
		provider.RateLimit{Scope: "requests", Limit: 20, Remaining: 0, Reset: testStart.Add(42 * time.Second)},
		provider.Retry{Attempt: 1, Max: 2, Status: 429, Wait: 42 * time.Second, Queued: true},
		provider.TextDelta{Text: "ok"}, provider.Done{},
	}, holdBefore: 2, release: make(chan struct{})}
	h := newHarness(t, p, nil)
	h.send("first")
	h.pump(2)
	h.send("second")
	screen := h.plain()
	contains(t, screen, "queued · retry in 42s", "next ▸ second")
	if strings.Contains(screen, "streaming") {
		t.Fatalf("the screen says an answer streams:\n%s", screen)
	}
}

// TestContextTokensDuringTheStream: the conversation's token figure
// counts the request while the answer streams, so it does not jump when
// the gateway's usage arrives at the end.
func TestContextTokensDuringTheStream(t *testing.T) {
	p := &scriptProvider{events: []provider.Event{
		provider.TextDelta{Text: "short answer"},
		provider.Usage{InputTokens: 1010, OutputTokens: 3, TotalTokens: 1013},
		provider.Done{},
	}, holdBefore: 1, release: make(chan struct{})}
	h := newHarness(t, p, nil)
	h.update(tea.PasteMsg{Content: strings.Repeat("word ", 800)}) // about 1,000 tokens
	h.press(tea.KeyEnter, 0)
	h.pump(1)
	during := h.m.focused().chat.Totals(h.now()).ConversationTokens
	close(p.release)
	h.pump(10)
	after := h.m.focused().chat.Totals(h.now()).ConversationTokens
	if during < after/2 || during > after*2 {
		t.Fatalf("context %d while streaming, %d after", during, after)
	}
	contains(t, h.statusBar(), "context 1013")
}

// TestSendingFollowsTheEnd: a prompt sent while the transcript is
// scrolled up (by ctrl+t to a long reasoning, say) shows at the bottom,
// and the view follows its answer.
func TestSendingFollowsTheEnd(t *testing.T) {
	h := newHarness(t, reasoningThenLong(), nil)
	h.send("q")
	h.pump(10)
	h.press('t', tea.ModCtrl) // scrolls up to the reasoning
	if h.m.focused().fromBottom == 0 {
		t.Fatal("the test needs the view scrolled up")
	}
	h.send("the next question")
	contains(t, h.plain(), "the next question")
	if h.m.focused().fromBottom != 0 || strings.Contains(h.plain(), "new output") {
		t.Fatalf("the view stayed up:\n%s", h.plain())
	}
	h.pump(10)
}

package ui

import (
	"fmt"
	"image/color"
	"os"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
	"github.com/parley-chat/parley/themes"
)

// deltas splits s into n-byte text deltas.
func deltas(s string, n int) []provider.Event {
	var out []provider.Event
	for len(s) > 0 {
		k := min(n, len(s))
		out = append(out, provider.TextDelta{Text: s[:k]})
		s = s[k:]
	}
	return out
}

func TestDeltasCoalescedIntoOneRenderPerFrame(t *testing.T) {
	md := strings.Repeat("Some *text* here.\n\n", 50)
	evs := append(deltas(md, 4), provider.Done{FinishReason: "stop"})
	p := &scriptProvider{events: evs, holdBefore: len(evs) - 1, release: make(chan struct{})}
	h := newHarness(t, p, nil)
	h.send("go")
	pane := h.m.focused()
	before := pane.renders
	var cmds int
	for i := 0; i < len(evs)-1; i++ {
		if cmd := h.update(h.next()); cmd != nil {
			cmds++
		}
	}
	if pane.renders != before {
		t.Fatalf("%d renders while deltas arrived; want 0 until the frame", pane.renders-before)
	}
	if cmds > 1 {
		t.Fatalf("%d frame ticks scheduled for one frame", cmds)
	}
	h.frame()
	if pane.renders != before+1 {
		t.Fatalf("frame made %d renders, want 1", pane.renders-before)
	}
	h.frame() // nothing new: no render
	if pane.renders != before+1 {
		t.Fatal("a frame with nothing new rendered")
	}
	// The terminal event is applied at once, without waiting for a frame,
	// and the final screen is one full render of the whole answer.
	close(p.release)
	h.update(h.next())
	if pane.Streaming() || pane.chat.State().Phase != session.PhaseDone {
		t.Fatalf("done not applied: phase %v", pane.chat.State().Phase)
	}
	it := pane.items[len(pane.items)-1]
	want, _ := h.m.renderer(pane.width).Render(md, 1)
	if it.md != md || it.mdOut != want {
		t.Fatal("final rendering differs from a full render of the final markdown")
	}
	if !strings.Contains(strings.Join(it.render(h.m.rc(pane)), "\n"), want) {
		t.Fatal("transcript lines do not hold the full render")
	}
}

func TestTerminalEventsNeverDropped(t *testing.T) {
	for _, last := range []provider.Event{
		provider.Done{},
		provider.Error{Err: &provider.APIError{Kind: provider.KindNetwork, Message: "connection reset"}},
	} {
		p := &scriptProvider{events: append(deltas("abc def ghi", 2), last)}
		h := newHarness(t, p, nil)
		h.send("x")
		// No frame at all: the terminal event alone must finish the answer.
		h.pump(100)
		pane := h.m.focused()
		if pane.Streaming() || pane.live != nil {
			t.Fatalf("%T: still streaming", last)
		}
		contains(t, h.plain(), "abc def ghi")
		if _, ok := last.(provider.Error); ok {
			contains(t, h.plain(), "connection reset")
		}
	}
}

func TestCtrlCInterruptsThenQuits(t *testing.T) {
	p := &scriptProvider{events: []provider.Event{provider.TextDelta{Text: "partial answer"}, provider.Done{}},
		holdBefore: 1, release: make(chan struct{})}
	h := newHarness(t, p, nil)
	h.send("x")
	h.pump(1)
	if cmd := h.press('c', tea.ModCtrl); cmd != nil {
		if _, quit := cmd().(tea.QuitMsg); quit {
			t.Fatal("ctrl+c quit while streaming")
		}
	}
	pane := h.m.focused()
	if pane.Streaming() || pane.chat.State().Phase != session.PhaseInterrupted {
		t.Fatalf("phase %v", pane.chat.State().Phase)
	}
	contains(t, h.plain(), "partial answer", "interrupted")
	msgs := pane.chat.Conversation().Messages
	if len(msgs) != 2 || msgs[1].Content != "partial answer" {
		t.Fatalf("partial answer not kept in history: %+v", msgs)
	}
	// The provider's own cancellation event arrives later and changes nothing.
	h.pump(10)
	contains(t, h.plain(), "partial answer", "interrupted")
	if len(pane.chat.Turn().Events()) < 2 {
		t.Fatal("late event not recorded on the timeline")
	}
	// On the idle chat a first ctrl+c asks; a second within the window
	// quits; one after the window asks again.
	if cmd := h.press('c', tea.ModCtrl); isQuit(cmd) {
		t.Fatal("the first ctrl+c on an idle chat quit")
	}
	contains(t, h.plain(), "press ctrl+c again to quit")
	h.advance(quitWindow + time.Millisecond)
	if cmd := h.press('c', tea.ModCtrl); isQuit(cmd) {
		t.Fatal("a ctrl+c after the window quit")
	}
	h.advance(quitWindow / 2)
	if cmd := h.press('c', tea.ModCtrl); !isQuit(cmd) {
		t.Fatal("a second ctrl+c within the window did not quit")
	}
}

// isQuit reports whether cmd is (or batches) tea.Quit.
func isQuit(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	switch msg := cmd().(type) {
	case tea.QuitMsg:
		return true
	case tea.BatchMsg:
		for _, c := range msg {
			if isQuit(c) {
				return true
			}
		}
	case tea.Msg:
		_ = msg
	}
	return false
}

func TestHistoryRecall(t *testing.T) {
	h := newHarness(t, &scriptProvider{events: []provider.Event{provider.Done{}}}, nil)
	for _, p := range []string{"first", "second"} {
		h.send(p)
		h.pump(10)
	}
	up := func() { h.press('p', tea.ModCtrl) }
	down := func() { h.press('n', tea.ModCtrl) }
	up()
	if v := h.m.in.Value(); v != "second" {
		t.Fatalf("up: %q", v)
	}
	up()
	if v := h.m.in.Value(); v != "first" {
		t.Fatalf("up up: %q", v)
	}
	up() // at the oldest: stays
	if v := h.m.in.Value(); v != "first" {
		t.Fatalf("up at oldest: %q", v)
	}
	down()
	if v := h.m.in.Value(); v != "second" {
		t.Fatalf("down: %q", v)
	}
	down()
	if v := h.m.in.Value(); v != "" {
		t.Fatalf("down to draft: %q", v)
	}
	// Up in a non-empty input moves the cursor, it does not recall.
	h.typeText("draft")
	h.press(tea.KeyUp, 0)
	if v := h.m.in.Value(); v != "draft" {
		t.Fatalf("up in draft: %q", v)
	}
	// Without mouse reporting ↑ on an empty input scrolls (the wheel
	// arrives as ↑); with it, ↑ recalls as ctrl+p does.
	h.press('c', tea.ModCtrl)
	h.press(tea.KeyUp, 0)
	if v := h.m.in.Value(); v != "" {
		t.Fatalf("↑ on an empty input without mouse reporting recalled %q", v)
	}
	h.m.opts.Mouse = true
	h.press(tea.KeyUp, 0)
	if v := h.m.in.Value(); v != "second" {
		t.Fatalf("↑ with mouse reporting: %q", v)
	}
}

func TestNewlineKeys(t *testing.T) {
	h := newHarness(t, &scriptProvider{events: []provider.Event{provider.Done{}}}, nil)
	h.typeText("a")
	h.press(tea.KeyEnter, tea.ModAlt)
	h.typeText("b")
	h.press('j', tea.ModCtrl)
	h.typeText("c")
	if v := h.m.in.Value(); v != "a\nb\nc" {
		t.Fatalf("input %q", v)
	}
	h.press(tea.KeyEnter, 0)
	h.pump(10)
	if got := h.m.focused().chat.Conversation().Messages[0].Content; got != "a\nb\nc" {
		t.Fatalf("sent %q", got)
	}
}

func TestSlashCommands(t *testing.T) {
	p := &scriptProvider{events: []provider.Event{provider.TextDelta{Text: "```sh\necho one\n```\n\n```py\nprint(2)\n```"}, provider.Done{}}}
	h := newHarness(t, p, func(o *Options) { o.Panes[0].Models = []string{"gpt-4o", "gpt-4o-mini", "llama-3"} })
	// Completion: command names, then model names.
	h.typeText("/mo")
	h.press(tea.KeyTab, 0)
	if v := h.m.in.Value(); v != "/model " {
		t.Fatalf("tab: %q", v)
	}
	h.typeText("gp")
	list := h.press(tea.KeyTab, 0) // also asks the gateway for its models, once
	if v := h.m.in.Value(); v != "/model gpt-4o" {
		t.Fatalf("tab model: %q", v)
	}
	if list == nil {
		t.Fatal("tab after /model did not list the gateway's models")
	}
	h.update(list())
	contains(t, h.plain(), "gpt-4o-mini")
	h.typeText("-mini")
	h.press(tea.KeyEnter, 0)
	h.send("/system be terse")
	h.send("hello")
	h.pump(10)
	req := p.requests()[0]
	if req.Model != "gpt-4o-mini" || req.Messages[0].Role != provider.RoleSystem || req.Messages[0].Content != "be terse" {
		t.Fatalf("request %+v", req)
	}
	contains(t, h.plain(), "model set to gpt-4o-mini", "─ [1] sh", "─ [2] py")

	// /copy N copies block N through OSC 52 and reports it honestly.
	h.send("/copy 2")
	cmd := h.m.copyBlock(2)
	texts, reports := runCopy(t, cmd)
	if len(texts) != 1 || texts[0] != "print(2)" {
		t.Fatalf("copied %q", texts)
	}
	for _, r := range reports {
		h.update(r)
	}
	contains(t, h.plain(), "copied block 2 via OSC 52")
	h.send("/copy 9")
	contains(t, h.plain(), "no code block 9")

	// /retry sends the same conversation again, without the old answer.
	h.send("/retry")
	h.pump(10)
	reqs := p.requests()
	if len(reqs) != 2 || len(reqs[1].Messages) != 2 || reqs[1].Messages[1].Content != "hello" {
		t.Fatalf("retry request %+v", reqs[len(reqs)-1].Messages)
	}
	// Numbering restarts where the dropped answer began.
	contains(t, h.plain(), "─ [1] sh", "─ [2] py")
	if strings.Contains(h.plain(), "[3]") {
		t.Fatal("retry did not reuse block numbers")
	}

	// /new forgets everything but the settings, and says so.
	h.send("/new")
	pane := h.m.focused()
	if len(pane.chat.Conversation().Messages) != 0 || len(pane.items) != 1 || pane.items[0].kind != kindNotice ||
		pane.chat.Settings().Model != "gpt-4o-mini" {
		t.Fatalf("after /new: %d messages, %d items", len(pane.chat.Conversation().Messages), len(pane.items))
	}
	h.send("/frobnicate")
	contains(t, h.plain(), "unknown command /frobnicate")
	h.send("/help")
	contains(t, h.plain(), "open this help · esc closes it")
}

// runCopy runs a copy command and returns what went to the clipboard via
// OSC 52 and the report messages.
func runCopy(t *testing.T, cmd tea.Cmd) (osc52 []string, reports []tea.Msg) {
	t.Helper()
	if cmd == nil {
		t.Fatal("no copy command")
	}
	msg := cmd()
	batch, ok := msg.(tea.BatchMsg)
	if !ok {
		batch = tea.BatchMsg{func() tea.Msg { return msg }}
	}
	for _, c := range batch {
		if c == nil {
			continue
		}
		m := c()
		if _, ok := m.(copiedMsg); ok {
			reports = append(reports, m)
			continue
		}
		osc52 = append(osc52, fmt.Sprint(m))
	}
	return osc52, reports
}

func TestParseAndComplete(t *testing.T) {
	cases := []struct {
		in   string
		ok   bool
		name string
		arg  string
	}{
		{"/model gpt-4o", true, "/model", "gpt-4o"},
		{"  /NEW ", true, "/new", ""},
		{"/system be\nterse", true, "/system", "be\nterse"},
		{"//not a command", false, "", ""},
		{"/ spaced", false, "", ""},
		{"plain", false, "", ""},
	}
	for _, c := range cases {
		got, ok := parseCommand(c.in)
		if ok != c.ok || got.name != c.name || got.arg != c.arg {
			t.Errorf("parseCommand(%q) = %+v, %v", c.in, got, ok)
		}
	}
	if n, ok := parseCopyArg("3"); !ok || n != 3 {
		t.Error("copy 3")
	}
	if _, ok := parseCopyArg("x"); ok {
		t.Error("copy x accepted")
	}
	if out, ok := complete("/", nil); ok || out != "/" {
		t.Errorf("complete / = %q", out)
	}
	if out, _ := complete("/r", nil); out != "/retry" {
		t.Errorf("complete /r = %q", out)
	}
	if got := completions("/model l", []string{"Llama", "gpt"}); len(got) != 1 || got[0] != "Llama" {
		t.Errorf("completions %v", got)
	}
}

func TestStatusBarFormatting(t *testing.T) {
	th, _ := themes.Lookup("dark", true)
	now := testStart
	cases := []struct {
		name string
		in   statusInfo
		want []string
	}{
		{"connecting", statusInfo{Provider: "gw", Model: "m", State: session.StreamState{Phase: session.PhaseConnecting}},
			[]string{"gw·m", "connecting…"}},
		{"queued countdown rounds up", statusInfo{State: session.StreamState{Phase: session.PhaseQueued, Attempt: 1, MaxRetries: 3,
			RetryAt: now.Add(3100 * time.Millisecond)}}, []string{"queued · retry in 4s"}},
		{"retrying", statusInfo{State: session.StreamState{Phase: session.PhaseRetrying, Attempt: 2, MaxRetries: 3, Status: 503,
			RetryAt: now.Add(90 * time.Second)}}, []string{"retrying 2/3 after 503 · in 1:30"}},
		{"streaming", statusInfo{State: session.StreamState{Phase: session.PhaseStreaming}, TokPerSec: 41.6}, []string{"streaming · 42 tok/s"}},
		{"rate limit", statusInfo{Limits: []provider.RateLimit{{Scope: "requests", Limit: 20, Remaining: 7, Reset: now.Add(42 * time.Second)},
			{Scope: "tokens", Limit: 100000, Remaining: 64000}}}, []string{"req 7/20 · resets 0:42", "tok 64.0k/100.0k"}},
		{"unknown limit", statusInfo{Limits: []provider.RateLimit{{Scope: "requests", Limit: -1, Remaining: 3}}}, []string{"req 3/?"}},
		{"tokens", statusInfo{LastTok: 412, ConvTok: 12345}, []string{"answer 412 · context 12.3k"}},
		{"error", statusInfo{State: session.StreamState{Phase: session.PhaseError, Status: 401}}, []string{"error 401"}},
	}
	for _, c := range cases {
		line := statusLine(c.in, now, 120, th)
		plain := ansi.Strip(line)
		if w := ansi.StringWidth(line); w != 120 {
			t.Errorf("%s: width %d", c.name, w)
		}
		for _, w := range c.want {
			if !strings.Contains(plain, w) {
				t.Errorf("%s: %q lacks %q", c.name, plain, w)
			}
		}
	}
	// Under 10% remaining the segment turns to the warning style.
	low := statusLine(statusInfo{Limits: []provider.RateLimit{{Scope: "requests", Limit: 20, Remaining: 1}}}, now, 120, th)
	ok := statusLine(statusInfo{Limits: []provider.RateLimit{{Scope: "requests", Limit: 20, Remaining: 2}}}, now, 120, th)
	if !strings.Contains(low, th.StatusWarn.Render("req 1/20")) {
		t.Errorf("1/20 not in warning style: %q", low)
	}
	if strings.Contains(ok, th.StatusWarn.Render("req 2/20")) {
		t.Errorf("2/20 (10%%) in warning style")
	}
	// Narrow terminals truncate, never overflow.
	long := statusLine(statusInfo{Provider: strings.Repeat("p", 50), Model: strings.Repeat("m", 50), LastTok: 5}, now, 40, th)
	if w := ansi.StringWidth(long); w != 40 {
		t.Errorf("narrow width %d: %q", w, ansi.Strip(long))
	}
	// At 40 columns the state and the model stay; the rate limit, even a
	// low one, gives way before them. At 50 it fits beside them.
	queuedInfo := statusInfo{Provider: "cutad", Model: "cutad-agent-pro",
		State:  session.StreamState{Phase: session.PhaseQueued, Attempt: 1, MaxRetries: 2, RetryAt: now.Add(4 * time.Second)},
		Limits: []provider.RateLimit{{Scope: "requests", Limit: 20, Remaining: 0}}}
	queued := ansi.Strip(statusLine(queuedInfo, now, 40, th))
	if !strings.Contains(queued, "queued · retry in 4s") || !strings.Contains(queued, "cutad-agent-pro") {
		t.Errorf("narrow queued status lost the state or the model: %q", queued)
	}
	if queued = ansi.Strip(statusLine(queuedInfo, now, 50, th)); !strings.Contains(queued, "req 0/20") {
		t.Errorf("the low rate limit did not fit at 50 columns: %q", queued)
	}
}

// hostile holds the escape sequences a malicious or broken gateway might
// send: OSC 52 clipboard write, OSC 0 title, screen clear, DCS, APC, 8-bit
// CSI, bidi override, BEL.
const hostile = "A\x1b]52;c;ZXZpbA==\x07B\x1b]0;pwned\x1b\\C\x1b[2JD\x1bPqevil\x1b\\E\x1b_apc\x1b\\F\u009b2JG\u202eH\x07I"

func TestHostileStringsNeverReachTheScreen(t *testing.T) {
	p := &scriptProvider{events: []provider.Event{
		provider.Started{Model: "model" + hostile},
		provider.RateLimit{Scope: "req" + hostile, Limit: 5, Remaining: 4},
		provider.ReasoningDelta{Text: "think " + hostile},
		provider.TextDelta{Text: "answer " + hostile + "\n\n```\ncode " + hostile + "\n```\n"},
		provider.ToolCallEvent{ToolCall: provider.ToolCall{ID: "c" + hostile, Name: "tool" + hostile,
			Arguments: `{"q":"` + hostile + `"}`}},
		provider.ToolCallEvent{ToolCall: provider.ToolCall{ID: "d", Name: "escaped",
			Arguments: `{"q":"x\u001b]0;title\u0007y"}`}},
		provider.Error{Err: &provider.APIError{Kind: provider.KindHTTP, Status: 500, Title: "T" + hostile,
			Message: "body " + hostile, Code: "c" + hostile}},
	}}
	h := newHarness(t, p, func(o *Options) { o.Panes[0].ProviderName = "prov" + hostile })
	h.send("hi")
	h.pump(3)
	h.frame()
	check := func(stage string) {
		screen := h.m.View().Content
		for _, bad := range []string{"\x1b]", "\x1bP", "\x1b_", "\x1b[2J", "\x07", "\u009b", "\u202e", "pwned", "evil", "ZXZpbA"} {
			if strings.Contains(screen, bad) {
				t.Fatalf("%s: screen contains %q", stage, bad)
			}
		}
		// Every escape left is one of our own SGR sequences.
		for i := strings.Index(screen, "\x1b"); i >= 0; i = next(screen, i) {
			if !strings.HasPrefix(screen[i:], "\x1b[") || !isSGR(screen[i+2:]) {
				t.Fatalf("%s: foreign escape at %d: %q", stage, i, screen[i:min(i+12, len(screen))])
			}
		}
	}
	check("reasoning")
	h.pump(10)
	h.update(tea.KeyPressMsg{Code: 't', Mod: tea.ModCtrl}) // expanded reasoning too
	check("final")
	// JSON-escaped control characters stay escaped: inert text.
	contains(t, h.plain(), `"q": "x\u001b]0;title\u0007y"`)
	contains(t, h.plain(), "answer ABCDEFGHI", "code ABCDEFGHI", "modelABCDEFGHI", "toolABCDEFGHI", "body ABCDEFGHI")
}

func next(s string, i int) int {
	j := strings.Index(s[i+1:], "\x1b")
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

// isSGR reports whether s starts with SGR parameters and 'm'.
func isSGR(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == 'm':
			return true
		case c >= '0' && c <= '9', c == ';', c == ':':
		default:
			return false
		}
	}
	return false
}

func TestScrollKeepsPlaceAndMarksNewOutput(t *testing.T) {
	long := strings.Repeat("line of text\n\n", 40)
	p := &scriptProvider{events: append(deltas(long, 64), provider.TextDelta{Text: "THE END\n"}, provider.Done{}),
		holdBefore: len(deltas(long, 64)), release: make(chan struct{})}
	h := newHarness(t, p, nil)
	h.send("go")
	h.pump(len(deltas(long, 64)))
	h.frame()
	h.press(tea.KeyPgUp, 0)
	before := h.m.focused().visible[0]
	close(p.release)
	h.pump(10)
	pane := h.m.focused()
	if pane.visible[0] != before {
		t.Fatalf("view moved while scrolled up: %q → %q", before, pane.visible[0])
	}
	contains(t, h.plain(), "↓ new output")
	if strings.Contains(h.plain(), "THE END") {
		t.Fatal("followed output while scrolled up")
	}
	h.press(tea.KeyEnd, 0)
	contains(t, h.plain(), "THE END")
	if strings.Contains(h.plain(), "new output") {
		t.Fatal("marker stayed after End")
	}
	h.update(tea.MouseWheelMsg{Button: tea.MouseWheelUp})
	if h.m.focused().fromBottom != 3 {
		t.Fatalf("wheel scrolled %d", h.m.focused().fromBottom)
	}
	h.press(tea.KeyHome, 0)
	contains(t, h.plain(), "▌ you")
}

func TestOnlyVisibleItemsAreLaidOut(t *testing.T) {
	h := newHarness(t, &scriptProvider{events: []provider.Event{provider.TextDelta{Text: "short answer"}, provider.Done{}}}, nil)
	for i := 0; i < 30; i++ {
		h.send(fmt.Sprintf("prompt %d", i))
		h.pump(10)
	}
	pane := h.m.focused()
	// Resize: the cache keys change; only what is in view gets re-rendered.
	h.update(tea.WindowSizeMsg{Width: 60, Height: 20})
	rendered := 0
	for _, it := range pane.items {
		if it.lines != nil && it.key.width == 60 {
			rendered++
		}
	}
	if rendered == 0 || rendered > 12 {
		t.Fatalf("%d of %d items laid out after resize", rendered, len(pane.items))
	}
}

func TestLineSplitterMatchesSplit(t *testing.T) {
	var ls lineSplitter
	texts := []string{"", "a", "a\nb", "a\nbc\n", "a\nbX\nnew", "a\nbX\nnew\nmore\n\n", "z", "z\n\nq", strings.Repeat("line\n", 3000) + "tail",
		strings.Repeat("line\n", 3000) + "tail changed\nand more"}
	for _, s := range texts {
		got := ls.split(s)
		want := strings.Split(s, "\n")
		if strings.Join(got, "\n") != s || len(got) != len(want) {
			t.Fatalf("split(%.20q): %d lines, want %d", s, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("split(%.20q) line %d = %q, want %q", s, i, got[i], want[i])
			}
		}
	}
}

func TestEditorRoundTrip(t *testing.T) {
	h := newHarness(t, &scriptProvider{}, nil)
	h.typeText("draft text")
	cmd := h.press('o', tea.ModCtrl)
	if cmd == nil {
		t.Fatal("ctrl+o did nothing")
	}
	ready, ok := cmd().(editorReadyMsg)
	if !ok || ready.err != nil {
		t.Fatalf("editor ready: %+v", ready)
	}
	b, err := os.ReadFile(ready.path)
	if err != nil || string(b) != "draft text" {
		t.Fatalf("temp file holds %q, %v", b, err)
	}
	t.Setenv("EDITOR", "true")
	if h.update(ready) == nil {
		t.Fatal("no exec command for the editor")
	}
	// The editor changed the file; closing it brings the text back.
	if err := os.WriteFile(ready.path, []byte("edited\nprompt\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	done := h.update(editorClosedMsg{path: ready.path})()
	h.update(done)
	if v := h.m.in.Value(); v != "edited\nprompt" {
		t.Fatalf("input after editor %q", v)
	}
	if _, err := os.Stat(ready.path); !os.IsNotExist(err) {
		t.Fatal("temp file left behind")
	}
}

func TestThemeSelection(t *testing.T) {
	h := newHarness(t, &scriptProvider{}, func(o *Options) { o.Theme = "auto" })
	if h.m.th.Name != "dark" {
		t.Fatalf("auto before the terminal answered: %s", h.m.th.Name)
	}
	if cmd := h.m.Init(); cmd == nil {
		t.Fatal("no init command")
	}
	h.update(tea.BackgroundColorMsg{Color: color.White})
	if h.m.th.Name != "light" {
		t.Fatalf("auto on a light background: %s", h.m.th.Name)
	}
	if _, err := newModel(t.Context(), Options{Panes: []PaneSpec{{}}, Theme: "neon"}, func(tea.Msg) {}); err == nil {
		t.Fatal("unknown theme accepted")
	}
	t.Setenv("NO_COLOR", "1")
	m, err := newModel(t.Context(), Options{Panes: []PaneSpec{{}}, Theme: "dark"}, func(tea.Msg) {})
	if err != nil || m.th.Name != "ascii" {
		t.Fatalf("NO_COLOR: %v %v", m.th.Name, err)
	}
}

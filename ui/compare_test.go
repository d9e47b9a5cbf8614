package ui

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
)

// columnScript is what one column's model answers: a short markdown
// answer naming the model, with usage and rate-limit figures.
func columnScript(model string, n int) []provider.Event {
	md := fmt.Sprintf("## %s\n\nThe answer of **%s**: server-sent events keep one HTTP response open and push `data:` lines.\n\n- column %d\n- done\n", model, model, n)
	return []provider.Event{
		provider.RateLimit{Scope: "requests", Limit: 20, Remaining: 20 - n, Reset: testStart.Add(42 * time.Second)},
		provider.Started{Status: 200, Model: model},
		provider.TextDelta{Text: md[:20]},
		provider.TextDelta{Text: md[20:]},
		provider.Usage{InputTokens: 10, OutputTokens: 40 + n, TotalTokens: 50 + n},
		provider.Done{FinishReason: "stop"},
	}
}

// compareHarness is a harness with n columns, model-1 … model-n, each
// answering columnScript.
func compareHarness(t *testing.T, n int, mutate func(i int, p *scriptProvider)) (*harness, []*scriptProvider) {
	t.Helper()
	provs := make([]*scriptProvider, n)
	for i := range provs {
		provs[i] = &scriptProvider{events: columnScript(fmt.Sprintf("model-%d", i+1), i+1)}
		if mutate != nil {
			mutate(i, provs[i])
		}
	}
	h := newHarness(t, provs[0], func(o *Options) {
		o.Panes = nil
		for i, p := range provs {
			o.Panes = append(o.Panes, PaneSpec{Provider: p, ProviderName: "gw", Settings: session.Settings{Model: fmt.Sprintf("model-%d", i+1)}})
		}
	})
	return h, provs
}

// finishAll feeds stream messages until every column has ended. The
// columns' goroutines deliver in no fixed order, so each event is
// stamped by its pane and its place in that pane's stream: pane k's
// event i at k×100 ms + i×step after the clock's reading now. The clock
// then stands 10 s later.
func (h *harness) finishAll(step time.Duration) {
	h.t.Helper()
	base := h.now()
	seen := map[PaneID]int{}
	for h.m.cmp == nil || !h.m.cmp.cmp.Done() {
		select {
		case msg := <-h.msgs:
			if pe, ok := msg.(paneEventMsg); ok {
				seen[pe.Pane]++
				pe.Ev.At = base.Add(time.Duration(pe.Pane)*100*time.Millisecond + time.Duration(seen[pe.Pane])*step)
				msg = pe
			}
			h.update(msg)
		case <-time.After(5 * time.Second):
			h.t.Fatal("the columns never finished")
		}
	}
	h.clock.Store(base.Add(10 * time.Second).UnixNano())
	h.frame()
}

// checkWidth fails when a screen line is wider than width.
func checkWidth(t *testing.T, screen string, width int) {
	t.Helper()
	for _, line := range strings.Split(screen, "\n") {
		if w := ansi.StringWidth(line); w > width {
			t.Fatalf("line wider than %d (%d): %q\n%s", width, w, line, screen)
		}
	}
}

// TestGoldenCompareLayout: the layout at 80, 120 and 200 columns with 2,
// 3 and 6 comparison columns, every column done and the summary below.
// Columns narrower than 40 cells page; no line is wider than the screen.
func TestGoldenCompareLayout(t *testing.T) {
	for _, width := range []int{80, 120, 200} {
		for _, n := range []int{2, 3, 6} {
			t.Run(fmt.Sprintf("%dx%d", width, n), func(t *testing.T) {
				h, _ := compareHarness(t, n, nil)
				h.update(tea.WindowSizeMsg{Width: width, Height: 30})
				h.send("explain SSE")
				h.finishAll(150 * time.Millisecond)
				golden.RequireEqual(t, h.content())
				screen := h.plain()
				checkWidth(t, screen, width)
				per := panesPerPage(width, n)
				for i := 0; i < n; i++ {
					want := fmt.Sprintf("%d model-%d", i+1, i+1)
					if shown := i < per; shown != strings.Contains(screen, want) {
						t.Errorf("column %d header shown %v, want %v", i+1, !shown, shown)
					}
				}
				contains(t, screen, "summary", "TTFT", "tok/s", "model-1", "stop")
				switch {
				case per == 1:
					contains(t, screen, fmt.Sprintf("column 1 of %d · ←→", n))
				case per < n:
					contains(t, screen, fmt.Sprintf("columns 1–%d of %d · ←→", per, n))
				}
				if per >= 2 {
					sideBySide := false
					for _, line := range strings.Split(screen, "\n") {
						if strings.Contains(line, "The answer of model-1") && strings.Contains(line, "The answer of model-2") {
							sideBySide = true
						}
					}
					if !sideBySide {
						t.Errorf("no line holds both answers:\n%s", screen)
					}
				}
			})
		}
	}
}

// columnLine returns the screen line that starts column n's status (the
// line below its header), for the columns shown side by side.
func statusOf(t *testing.T, h *harness, pane int) string {
	t.Helper()
	heads := h.m.cmp.heads
	if pane >= len(heads) {
		t.Fatalf("no column %d", pane+1)
	}
	return ansi.Strip(heads[pane][1])
}

// TestCompareQueuedColumnDoesNotHoldTheOther: column 1's request is
// queued by the gateway (429, retry in 2 s); column 2 streams and
// finishes meanwhile, its figures shown, while column 1 shows the queue
// countdown; then column 1 finishes too and the summary appears.
func TestCompareQueuedColumnDoesNotHoldTheOther(t *testing.T) {
	release := make(chan struct{})
	h, _ := compareHarness(t, 2, func(i int, p *scriptProvider) {
		if i == 0 {
			p.events = append([]provider.Event{provider.Retry{Attempt: 1, Max: 2, Status: 429, Wait: 2 * time.Second,
				Queued: true, Message: "Request queued"}}, p.events...)
			p.holdBefore, p.release = 1, release
		}
	})
	h.update(tea.WindowSizeMsg{Width: 160, Height: 40})
	h.send("question")
	for !h.m.panes[1].chat.Turn().Finished() || h.m.panes[0].chat.State().Phase != session.PhaseQueued {
		h.advance(100 * time.Millisecond)
		h.update(h.next())
	}
	h.frame()
	if s := statusOf(t, h, 0); !strings.Contains(s, "queued · retry in 2s") {
		t.Fatalf("column 1 status %q", s)
	}
	if s := statusOf(t, h, 1); !strings.HasPrefix(s, "done · ttft") || !strings.Contains(s, "tok/s") {
		t.Fatalf("column 2 status %q", s)
	}
	screen := h.plain()
	contains(t, screen, "The answer of model-2")
	if strings.Contains(screen, "summary") || strings.Contains(screen, "The answer of model-1") {
		t.Fatalf("summary or column 1's answer before column 1 answered:\n%s", screen)
	}
	h.advance(2 * time.Second)
	close(release)
	h.finishAll(100 * time.Millisecond)
	screen = h.plain()
	contains(t, screen, "The answer of model-1", "summary")
	if rs := h.m.cmp.cmp.Results(h.now()); rs[0].Waited < 2*time.Second || rs[1].Waited != 0 {
		t.Fatalf("waited %s and %s", rs[0].Waited, rs[1].Waited)
	}
}

// timedProvider answers request n with script(n) and records when each
// request arrived, on the real clock.
type timedProvider struct {
	name   string
	script func(n int) []provider.Event
	mu     sync.Mutex
	at     []time.Time
}

func (p *timedProvider) Name() string              { return p.name }
func (p *timedProvider) Dialect() provider.Dialect { return provider.DialectOpenAI }
func (p *timedProvider) Stream(ctx context.Context, req *provider.Request, emit func(provider.Event)) error {
	p.mu.Lock()
	p.at = append(p.at, time.Now())
	n := len(p.at)
	p.mu.Unlock()
	for _, ev := range p.script(n) {
		emit(ev)
	}
	return nil
}

// TestCompareColumnWaitsForTheRateLimit: column 1's first answer says its
// model has no request left until a reset 2 s away. Its next request is
// held until the reset, the column showing "waiting for the rate limit"
// with the countdown, while column 2, another model, answers at once.
func TestCompareColumnWaitsForTheRateLimit(t *testing.T) {
	reset := time.Now().Add(2 * time.Second)
	limited := &timedProvider{name: "gw", script: func(n int) []provider.Event {
		return []provider.Event{provider.RateLimit{Scope: "requests", Limit: 15, Remaining: 0, Reset: reset},
			provider.TextDelta{Text: fmt.Sprintf("answer %d", n)}, provider.Done{FinishReason: "stop"}}
	}}
	h := newHarness(t, limited, func(o *Options) {
		o.Panes = []PaneSpec{{Provider: limited, Settings: session.Settings{Model: "slow"}},
			{Provider: &scriptProvider{events: columnScript("free", 2)}, Settings: session.Settings{Model: "free"}}}
	})
	h.update(tea.WindowSizeMsg{Width: 120, Height: 30})
	h.send("one")
	h.finishAll(50 * time.Millisecond)
	h.send("two")
	waited := false
	for !h.m.cmp.cmp.Done() {
		msg := h.next()
		h.update(msg)
		if pe := msg.(paneEventMsg); pe.Pane == 1 {
			if _, ok := pe.Ev.Event.(provider.Paced); ok {
				h.frame()
				if s := statusOf(t, h, 0); !strings.HasPrefix(s, "waiting for the rate limit · 0:02 · ") {
					t.Fatalf("column 1 status %q while paced", s)
				}
				waited = true
			}
		}
		if pe := msg.(paneEventMsg); pe.Pane == 2 && session.Terminal(pe.Ev.Event) {
			limited.mu.Lock()
			n := len(limited.at)
			limited.mu.Unlock()
			if n != 1 {
				t.Fatal("column 2 finished only after column 1's wait")
			}
		}
	}
	if !waited {
		t.Fatal("column 1's second request was not paced")
	}
	limited.mu.Lock()
	defer limited.mu.Unlock()
	if len(limited.at) != 2 || limited.at[1].Before(reset) {
		t.Fatalf("requests at %v, the second before the reset %v", limited.at, reset)
	}
	contains(t, h.plain(), "answer 2")
}

// TestCompareKeys: tab and shift+tab (←/→ in an empty input) move the
// focus and the page with it; tab still completes a /command; alt+m
// maximizes the focused column and back; alt+s scrolls every column
// together; esc stops the focused column only, ctrl+c every one.
func TestCompareKeys(t *testing.T) {
	h, provs := compareHarness(t, 3, func(i int, p *scriptProvider) {
		p.holdBefore, p.release = 3, make(chan struct{})
	})
	h.update(tea.WindowSizeMsg{Width: 80, Height: 24})
	h.send("question")
	for i := 0; i < 9; i++ { // three events each, up to the hold
		h.update(h.next())
	}
	h.frame()
	contains(t, h.plain(), "▌1 model-1", "column 1 of 3")
	h.press(tea.KeyTab, 0)
	contains(t, h.plain(), "▌2 model-2", "column 2 of 3")
	h.press(tea.KeyTab, tea.ModShift)
	h.press(tea.KeyTab, tea.ModShift)
	contains(t, h.plain(), "▌3 model-3", "column 3 of 3")
	h.press(tea.KeyRight, 0)
	if h.m.focus != 0 {
		t.Fatalf("→ from the last column: focus %d", h.m.focus)
	}
	h.press(tea.KeyLeft, 0)
	if h.m.focus != 2 {
		t.Fatalf("← from the first column: focus %d", h.m.focus)
	}
	h.typeText("/mo")
	h.press(tea.KeyTab, 0)
	if h.m.focus != 2 || h.m.in.Value() != "/model " {
		t.Fatalf("tab on a command: focus %d, input %q", h.m.focus, h.m.in.Value())
	}
	h.m.in.Reset()

	h.update(tea.WindowSizeMsg{Width: 200, Height: 24})
	if w := h.m.panes[2].width; w >= 100 {
		t.Fatalf("column width %d before maximizing", w)
	}
	h.press('m', tea.ModAlt)
	if w := h.m.panes[2].width; w != 200 || !strings.Contains(h.plain(), "column 3 of 3, maximized") {
		t.Fatalf("maximized width %d:\n%s", w, h.plain())
	}
	h.press('m', tea.ModAlt)
	if w := h.m.panes[2].width; w >= 100 {
		t.Fatalf("column width %d after restoring", w)
	}

	for _, p := range h.m.panes { // enough lines to scroll
		for i := 0; i < 3; i++ {
			p.notice(strings.Repeat("filler line ", 40), h.m.rc(p))
		}
	}
	h.press(tea.KeyPgUp, 0)
	if h.m.panes[2].fromBottom == 0 || h.m.panes[0].fromBottom != 0 {
		t.Fatalf("pgup scrolled %d/%d", h.m.panes[2].fromBottom, h.m.panes[0].fromBottom)
	}
	h.press('s', tea.ModAlt)
	h.press(tea.KeyPgUp, 0)
	if h.m.panes[0].fromBottom == 0 || h.m.panes[1].fromBottom == 0 {
		t.Fatal("with sync on, pgup did not scroll every column")
	}
	h.typeText("x") // End acts on the transcript only with an empty input
	h.press(tea.KeyEnd, tea.ModCtrl)
	for i, p := range h.m.panes {
		if p.fromBottom != 0 {
			t.Fatalf("column %d still scrolled after ctrl+end", i+1)
		}
	}
	h.m.in.Reset()

	h.press(tea.KeyEscape, 0)
	if h.m.panes[2].Streaming() || !h.m.panes[0].Streaming() || !h.m.panes[1].Streaming() {
		t.Fatal("esc should stop the focused column only")
	}
	close(provs[0].release)
	for !h.m.panes[0].chat.Turn().Finished() {
		h.update(h.next())
	}
	if !h.m.panes[1].Streaming() {
		t.Fatal("column 1 finishing stopped column 2")
	}
	h.press('c', tea.ModCtrl)
	if h.m.streaming() {
		t.Fatal("ctrl+c left a column streaming")
	}
	h.frame()
	screen := h.plain()
	contains(t, screen, "summary", "interrupted")
	if rs := h.m.cmp.cmp.Results(h.now()); rs[0].Outcome() != "stop" || rs[1].Outcome() != "interrupted" || rs[2].Outcome() != "interrupted" {
		t.Fatalf("outcomes %q %q %q", rs[0].Outcome(), rs[1].Outcome(), rs[2].Outcome())
	}
}

// TestCompareCommandAndPick: /compare puts the conversation beside other
// models, which answer its last prompt from the same history; follow-ups
// go to every column, each keeping its own history; /copy copies the
// focused column's answer; /pick N goes on with that column alone.
func TestCompareCommandAndPick(t *testing.T) {
	first := &scriptProvider{events: []provider.Event{provider.TextDelta{Text: "first answer"}, provider.Done{}}}
	provs := map[string]*scriptProvider{}
	var refs []ColumnRef
	h := newHarness(t, first, func(o *Options) {
		o.ColumnObservers = func(r ColumnRef) []session.Observer {
			refs = append(refs, r)
			return nil
		}
		o.Columns = func(_ context.Context, spec string) (PaneSpec, error) {
			if spec == "broken" {
				return PaneSpec{}, fmt.Errorf("no such model")
			}
			p := &scriptProvider{events: []provider.Event{provider.TextDelta{Text: spec + " answer"}, provider.Done{}}}
			provs[spec] = p
			return PaneSpec{Provider: p, ProviderName: "gw", Settings: session.Settings{Model: spec}}, nil
		}
	})
	h.update(tea.WindowSizeMsg{Width: 160, Height: 30})
	h.send("hello")
	h.pump(10)

	run := func(cmd tea.Cmd) {
		t.Helper()
		if cmd == nil {
			t.Fatal("no command")
		}
		h.update(cmd())
	}
	h.typeText("/compare m-2 broken")
	run(h.press(tea.KeyEnter, 0))
	contains(t, h.plain(), "/compare: broken: no such model")
	if h.m.cmp != nil {
		t.Fatal("a failed /compare opened a comparison")
	}
	h.typeText("/compare m-2 m-3{temperature=0}")
	run(h.press(tea.KeyEnter, 0))
	if h.m.cmp == nil || len(h.m.panes) != 3 {
		t.Fatalf("no comparison of three: %d panes", len(h.m.panes))
	}
	// The conversation on screen is the comparison's first column.
	if len(refs) != 3 || !refs[0].Adopted || refs[0].Position != 0 || refs[1].Adopted || refs[2].Position != 2 ||
		refs[2].Comparison != h.m.cmp.cmp.ID {
		t.Fatalf("columns handed to ColumnObservers: %+v", refs)
	}
	h.finishAll(50 * time.Millisecond)
	screen := h.plain()
	contains(t, screen, "▌1 m-1", "2 m-2", "3 m-3{temperature=0}", "first answer", "m-2 answer", "m-3{temperature=0} answer", "continues the conversation of m-1")
	for _, spec := range []string{"m-2", "m-3{temperature=0}"} {
		reqs := provs[spec].requests()
		if len(reqs) != 1 || len(reqs[0].Messages) != 1 || reqs[0].Messages[0].Content != "hello" {
			t.Fatalf("%s was asked %+v", spec, reqs)
		}
	}

	h.send("more")
	h.finishAll(50 * time.Millisecond)
	for i, want := range []string{"first answer", "m-2 answer", "m-3{temperature=0} answer"} {
		msgs := h.m.panes[i].chat.Conversation().Messages
		if len(msgs) != 4 || msgs[1].Content != want || msgs[2].Content != "more" || msgs[3].Content != want {
			t.Fatalf("column %d history %+v", i+1, msgs)
		}
	}

	h.press(tea.KeyTab, 0)
	if got := clipboardText(h.m.copyAnswer()); got != "m-2 answer" {
		t.Fatalf("/copy in column 2 copied %q", got)
	}
	h.typeText("/pick 2")
	h.press(tea.KeyEnter, 0)
	if h.m.cmp != nil || len(h.m.panes) != 1 || h.m.panes[0].label() != "m-2" {
		t.Fatalf("after /pick 2: %d panes", len(h.m.panes))
	}
	contains(t, h.statusBar(), "gw·m-2")
	h.send("last")
	h.pump(10)
	if n := len(provs["m-2"].requests()); n != 3 {
		t.Fatalf("m-2 got %d requests", n)
	}
	if n := len(provs["m-3{temperature=0}"].requests()); n != 2 {
		t.Fatalf("m-3 got %d requests after the pick", n)
	}
	if msgs := h.m.panes[0].chat.Conversation().Messages; len(msgs) != 6 {
		t.Fatalf("picked history %+v", msgs)
	}
}

// clipboardText runs a copy command and returns the text it puts on the
// clipboard through OSC 52.
func clipboardText(cmd tea.Cmd) string {
	var walk func(tea.Msg) string
	walk = func(msg tea.Msg) string {
		if b, ok := msg.(tea.BatchMsg); ok {
			for _, c := range b {
				if c != nil {
					if s := walk(c()); s != "" {
						return s
					}
				}
			}
			return ""
		}
		if s := fmt.Sprint(msg); strings.HasPrefix(fmt.Sprintf("%T", msg), "tea.setClipboardMsg") {
			return s
		}
		return ""
	}
	if cmd == nil {
		return ""
	}
	return walk(cmd())
}

func TestSplitColumnSpecs(t *testing.T) {
	got := splitColumnSpecs(`  gpt-4o{temperature=0, system="be } brief"}   gw:claude  cold{max_tokens=5}`)
	want := []string{`gpt-4o{temperature=0, system="be } brief"}`, "gw:claude", "cold{max_tokens=5}"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("%q", got)
	}
}

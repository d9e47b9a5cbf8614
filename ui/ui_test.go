package ui

import (
	"os"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/parley-chat/parley/provider"
)

const answerMD = "# Greeting\n\nSome **bold** text and a list:\n\n- one\n- two\n\n```go\nfmt.Println(\"hi\")\n```\n\nThat is all.\n"

func reasoningScript() []provider.Event {
	return []provider.Event{
		provider.Started{Status: 200, Model: "m-1"},
		provider.RateLimit{Scope: "requests", Limit: 20, Remaining: 7, Reset: testStart.Add(42 * time.Second)},
		provider.ReasoningDelta{Text: "The user greets me. "},
		provider.ReasoningDelta{Text: "A short heading, a list and a code block will do."},
		provider.TextDelta{Text: answerMD[:30]},
		provider.TextDelta{Text: answerMD[30:]},
		provider.Usage{InputTokens: 12, OutputTokens: 48, TotalTokens: 60, ReasoningTokens: 21},
		provider.Done{FinishReason: "stop"},
	}
}

func (h *harness) send(prompt string) {
	h.typeText(prompt)
	h.press(tea.KeyEnter, 0)
}

func TestGoldenReasoningOpen(t *testing.T) {
	p := &scriptProvider{events: reasoningScript(), holdBefore: 4, release: make(chan struct{})}
	h := newHarness(t, p, nil)
	h.send("hello there")
	h.pump(4)
	h.advance(1500 * time.Millisecond)
	h.frame()
	golden.RequireEqual(t, h.content())
	contains(t, h.plain(), "thinking…", "A short heading", "streaming", "req 7/20 · resets 0:40")
}

func TestGoldenStreaming(t *testing.T) {
	p := &scriptProvider{events: reasoningScript(), holdBefore: 5, release: make(chan struct{})}
	h := newHarness(t, p, nil)
	h.send("hello there")
	h.pump(4)
	h.advance(3200 * time.Millisecond)
	h.pump(1)
	h.frame()
	golden.RequireEqual(t, h.content())
	screen := h.plain()
	contains(t, screen, "Thought for 3.2 s", "Greeting", "Some bold")
	if strings.Contains(screen, "# Greeting") || strings.Contains(screen, "**") {
		t.Fatalf("markdown not rendered:\n%s", screen)
	}
}

func TestGoldenReasoningCollapsedDone(t *testing.T) {
	p := &scriptProvider{events: reasoningScript()}
	h := newHarness(t, p, nil)
	h.send("hello there")
	h.pump(4)
	h.advance(3200 * time.Millisecond)
	h.pump(100)
	golden.RequireEqual(t, h.content())
	screen := h.plain()
	contains(t, screen, "Thought for 3.2 s · 21 tokens", "─ [1] go", `fmt.Println("hi")`, "done", "answer 48 · context 60")
	if strings.Contains(screen, "```") {
		t.Fatalf("fences on screen:\n%s", screen)
	}
	// ctrl+t expands the reasoning again, and collapses it.
	h.update(tea.KeyPressMsg{Code: 't', Mod: tea.ModCtrl})
	contains(t, h.plain(), "A short heading, a list")
	h.update(tea.KeyPressMsg{Code: 't', Mod: tea.ModCtrl})
	if strings.Contains(h.plain(), "A short heading, a list") {
		t.Fatal("reasoning did not collapse")
	}
	// alt+t hides reasoning entirely.
	h.update(tea.KeyPressMsg{Code: 't', Mod: tea.ModAlt})
	if strings.Contains(h.plain(), "Thought for") {
		t.Fatal("reasoning not hidden")
	}
}

func TestGoldenQueued(t *testing.T) {
	p := &scriptProvider{events: []provider.Event{
		provider.Retry{Attempt: 1, Max: 2, Status: 429, Wait: 4 * time.Second, Queued: true, Message: "queued"},
		provider.TextDelta{Text: "ok"},
		provider.Done{},
	}, holdBefore: 1, release: make(chan struct{})}
	h := newHarness(t, p, nil)
	h.send("hi")
	h.pump(1)
	contains(t, h.plain(), "queued · retry in 4s")
	h.advance(1200 * time.Millisecond)
	h.update(secondMsg{})
	golden.RequireEqual(t, h.content())
	contains(t, h.plain(), "queued · retry in 3s")
	h.advance(3 * time.Second)
	h.update(secondMsg{})
	contains(t, h.plain(), "retry 1/2")
	close(p.release)
	h.pump(10)
	contains(t, h.plain(), "done", "ok")
}

func TestGoldenError(t *testing.T) {
	p := &scriptProvider{events: []provider.Event{
		provider.TextDelta{Text: "Partial answ"},
		provider.Error{Err: &provider.APIError{Kind: provider.KindHTTP, Status: 503, Title: "Service Unavailable",
			Message: "upstream overloaded, try later", Partial: true}},
	}}
	h := newHarness(t, p, nil)
	h.send("hi")
	h.pump(10)
	golden.RequireEqual(t, h.content())
	contains(t, h.plain(), "503 Service Unavailable", "upstream overloaded", "Partial answ", "error 503")
	// The conversation stays usable: the partial answer is history and a
	// new prompt goes out.
	h.send("again")
	h.pump(10)
	reqs := p.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	msgs := reqs[1].Messages
	if len(msgs) != 3 || msgs[1].Content != "Partial answ" || msgs[2].Content != "again" {
		t.Fatalf("second request %+v", msgs)
	}
}

func TestGoldenHelp(t *testing.T) {
	t.Setenv("HOME", "/home/u")
	h := newHarness(t, &scriptProvider{}, func(o *Options) { o.ImageDir = "/home/u/Pictures/parley" })
	h.typeText("?")
	golden.RequireEqual(t, h.content())
	screen := h.plain()
	contains(t, screen, "Keys")
	for _, r := range h.m.keys.helpRows() {
		contains(t, screen, r[1])
	}
	for _, b := range h.m.keys.all() {
		for _, k := range b.Keys() {
			// Arrow keys are drawn as arrows.
			k = strings.NewReplacer("left", "←", "right", "→").Replace(k)
			if !strings.Contains(screen, k) && k != "ctrl+home" && k != "ctrl+end" && k != "pgdown" && k != "up" && k != "down" {
				t.Errorf("help does not mention %q", k)
			}
		}
	}
	for _, c := range slashCommands {
		contains(t, screen, c.name)
	}
	for _, r := range commandHelpRows(h.m.imageDirText()) {
		contains(t, screen, r[0], r[1])
	}
	// The overlay fits a 24-line terminal: its bottom border is on screen.
	contains(t, screen, "╰")
	h.press(tea.KeyEscape, 0)
	if strings.Contains(h.plain(), "open this help · esc closes it") {
		t.Fatal("help did not close")
	}
	// In a non-empty input ? is just a character.
	h.typeText("why?")
	if strings.Contains(h.plain(), "open this help · esc closes it") || h.m.in.Value() != "why?" {
		t.Fatalf("? in text opened help; input %q", h.m.in.Value())
	}
}

// TestHelpScrollsWhenSmall: in a terminal too small for the help box, the
// help becomes a plain list that fits the width and scrolls with ↑/↓, so
// every key and command can still be read.
func TestHelpScrollsWhenSmall(t *testing.T) {
	h := newHarness(t, &scriptProvider{}, nil)
	h.update(tea.WindowSizeMsg{Width: 40, Height: 12})
	h.typeText("?")
	seen := map[string]bool{}
	for range 60 {
		screen := h.plain()
		for _, line := range strings.Split(screen, "\n") {
			if w := ansi.StringWidth(line); w > 40 {
				t.Fatalf("line wider than the terminal (%d): %q", w, line)
			}
		}
		for _, r := range append(h.m.keys.helpRows(), commandHelpRows(h.m.imageDirText())...) {
			if strings.Contains(screen, r[0]) {
				seen[r[0]] = true
			}
		}
		h.press(tea.KeyDown, 0)
	}
	for _, r := range append(h.m.keys.helpRows(), commandHelpRows(h.m.imageDirText())...) {
		if !seen[r[0]] {
			t.Errorf("%q never came into view", r[0])
		}
	}
	if !strings.Contains(h.plain(), "↑↓ scroll") {
		t.Errorf("no scroll hint:\n%s", h.plain())
	}
}

// TestHelpSaysWhereImagesGo: the help names the folder /image saves into
// on this machine, not a fixed one.
func TestHelpSaysWhereImagesGo(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, &scriptProvider{}, func(o *Options) { o.ImageDir = wd })
	h.typeText("?")
	contains(t, h.plain(), "generate an image into the current directory")
	if strings.Contains(h.plain(), "~/Pictures/parley") {
		t.Fatalf("the help names a folder /image does not use:\n%s", h.plain())
	}
}

package ui

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
	"github.com/parley-chat/parley/themes"
)

// answerScript answers md, with no model name in the text.
func answerScript(model, md string) []provider.Event {
	return []provider.Event{
		provider.Started{Status: 200, Model: model},
		provider.TextDelta{Text: md},
		provider.Usage{InputTokens: 10, OutputTokens: 30, TotalTokens: 40},
		provider.Done{FinishReason: "stop"},
	}
}

// resultsHarness is a comparison of the given models, each answering its
// answer, named by the model; picks are collected.
func resultsHarness(t *testing.T, blind bool, models, answers []string) (*harness, *[]session.Pick) {
	t.Helper()
	var mu sync.Mutex
	var picks []session.Pick
	h := newHarness(t, nil, func(o *Options) {
		o.Panes = nil
		for i, m := range models {
			o.Panes = append(o.Panes, PaneSpec{Provider: &scriptProvider{events: answerScript(m, answers[i])},
				ProviderName: "gw-" + m, Settings: session.Settings{Model: m}})
		}
		o.Blind = blind
		o.Picks = func(p session.Pick) error {
			mu.Lock()
			defer mu.Unlock()
			picks = append(picks, p)
			return nil
		}
	})
	h.update(tea.WindowSizeMsg{Width: 120, Height: 30})
	return h, &picks
}

func TestBlindHidesNamesUntilThePick(t *testing.T) {
	models := []string{"alpha-7b", "beta-70b"}
	h, picks := resultsHarness(t, true, models, []string{"Server-sent events stream text.", "SSE keeps a response open."})
	h.typeText("explain SSE")
	h.press(tea.KeyEnter, 0)
	// Names are hidden while the columns stream too.
	h.pump(1)
	h.frame()
	for _, s := range []string{h.plain()} {
		for _, name := range append(models, "gw-alpha", "gw-beta") {
			if strings.Contains(s, name) {
				t.Fatalf("a blind comparison shows %q while streaming:\n%s", name, s)
			}
		}
	}
	h.finishAll(10 * time.Millisecond)
	screen := h.plain()
	contains(t, screen, "1 model A", "2 model B", "blind: pick the best with 1–2", "summary")
	for _, name := range append(models, "gw-alpha", "gw-beta") {
		if strings.Contains(screen, name) {
			t.Fatalf("a blind comparison shows %q before the pick:\n%s", name, screen)
		}
	}
	// Commands that would name a model wait for the pick.
	h.typeText("/model")
	h.press(tea.KeyEnter, 0)
	contains(t, h.plain(), "pick a winner first")
	h.typeText("/fuse 1")
	h.press(tea.KeyEnter, 0)
	contains(t, h.plain(), "pick a winner first")

	// 2 picks column B.
	h.runCmd(h.update(tea.KeyPressMsg{Code: '2', Text: "2"}))
	if h.m.in.Value() != "" {
		t.Fatalf("the pick key was typed: %q", h.m.in.Value())
	}
	if len(*picks) != 1 {
		t.Fatalf("picks saved: %+v", *picks)
	}
	p := (*picks)[0]
	// The columns were shuffled: the pick names them in screen order.
	want := []string{h.m.panes[0].label(), h.m.panes[1].label()}
	if !p.Blind || p.Winner != 1 || p.Models[0] != want[0] || p.Models[1] != want[1] || p.Comparison != h.m.cmp.cmp.ID {
		t.Fatalf("pick %+v, columns %q", p, want)
	}
	screen = h.plain()
	contains(t, screen, "1 "+want[0], "2 "+want[1], want[1]+" wins", want[1]+" ★")
	if strings.Contains(screen, "blind: pick") {
		t.Fatalf("still asking for a pick:\n%s", screen)
	}
	// Once picked, digits type again.
	h.typeText("1")
	if h.m.in.Value() != "1" {
		t.Fatalf("after the pick, 1 types: %q", h.m.in.Value())
	}
}

func TestBlindPickWaitsAndTies(t *testing.T) {
	h, picks := resultsHarness(t, true, []string{"m-one", "m-two", "m-three"}, []string{"a", "b", "c"})
	h.typeText("q")
	h.press(tea.KeyEnter, 0)
	h.runCmd(h.update(tea.KeyPressMsg{Code: '=', Text: "="}))
	if len(*picks) != 0 || !h.m.hidden() {
		t.Fatalf("picked before the columns were done: %+v", *picks)
	}
	contains(t, h.plain(), "wait until every column is done")
	h.finishAll(10 * time.Millisecond)
	// 4 is no column of three: it types.
	h.typeText("4")
	if h.m.in.Value() != "4" || len(*picks) != 0 {
		t.Fatalf("4 in a 3-column comparison: input %q, picks %+v", h.m.in.Value(), *picks)
	}
	h.m.in.Reset()
	h.runCmd(h.update(tea.KeyPressMsg{Code: '=', Text: "="}))
	if len(*picks) != 1 || (*picks)[0].Winner != session.Tie || len((*picks)[0].Models) != 3 {
		t.Fatalf("tie: %+v", *picks)
	}
	contains(t, h.plain(), "a tie", "(tie)")
}

func TestPickKeysTypeWithoutBlind(t *testing.T) {
	h, picks := resultsHarness(t, false, []string{"m-one", "m-two"}, []string{"a", "b"})
	h.typeText("q")
	h.press(tea.KeyEnter, 0)
	h.finishAll(10 * time.Millisecond)
	contains(t, h.plain(), "1 m-one", "2 m-two")
	h.typeText("1")
	if h.m.in.Value() != "1" || len(*picks) != 0 {
		t.Fatalf("without blind, 1 types: %q, picks %+v", h.m.in.Value(), *picks)
	}
}

func TestDiffOverlay(t *testing.T) {
	h, _ := resultsHarness(t, false, []string{"m-one", "m-two", "m-three"}, []string{
		"SSE streams events from the server over HTTP.",
		"SSE streams text events from a server over HTTP/2.",
		"Something else entirely.",
	})
	ascii, _ := themes.Lookup("ascii", true) // as NO_COLOR picks it
	h.m.setTheme(ascii)
	h.runCmd(h.update(tea.KeyPressMsg{Code: 'd', Text: "d"}))
	contains(t, h.plain(), "needs two columns with a finished answer")
	h.typeText("q")
	h.press(tea.KeyEnter, 0)
	h.finishAll(10 * time.Millisecond)

	h.runCmd(h.update(tea.KeyPressMsg{Code: 'd', Text: "d"}))
	if _, ok := h.m.topOverlay().(*diffOverlay); !ok {
		t.Fatal("d did not open the diff")
	}
	screen := h.plain()
	contains(t, screen, "diff · column 1 (m-one) → column 2 (m-two)", "2 words removed, 3 added",
		"SSE streams {+text+} events from [-the-] {+a+} server over [-HTTP.-] {+HTTP/2.+}", "esc closes")
	// → compares with the next column.
	h.runCmd(h.update(tea.KeyPressMsg{Code: tea.KeyRight}))
	contains(t, h.plain(), "column 1 (m-one) → column 3 (m-three)", "[-SSE streams events from the server over HTTP.-]")
	// Typing closes the diff and keeps the d.
	h.typeText("escribe")
	if h.m.topOverlay() != nil || h.m.in.Value() != "describe" {
		t.Fatalf("typing over the diff: overlay %v, input %q", h.m.topOverlay(), h.m.in.Value())
	}
}

func TestDiffOverlayColours(t *testing.T) {
	h, _ := resultsHarness(t, false, []string{"m-one", "m-two"}, []string{"keep old words", "keep new words"})
	h.typeText("q")
	h.press(tea.KeyEnter, 0)
	h.finishAll(10 * time.Millisecond)
	h.runCmd(h.update(tea.KeyPressMsg{Code: 'd', Text: "d"}))
	raw := h.m.View().Content
	if strings.Contains(raw, "[-old-]") || !strings.Contains(raw, "\x1b[") {
		t.Fatalf("a coloured theme styles the diff without markers:\n%q", raw)
	}
	contains(t, h.plain(), "keep old new words")
	h.press(tea.KeyEscape, 0)
	if h.m.topOverlay() != nil {
		t.Fatal("esc did not close the diff")
	}
}

func TestFuseAddsAColumn(t *testing.T) {
	h, _ := resultsHarness(t, false, []string{"m-one", "m-two"}, []string{"First answer.", "Second answer."})
	h.typeText("/fuse 1")
	h.press(tea.KeyEnter, 0)
	contains(t, h.plain(), "needs at least two answers")
	h.typeText("explain SSE")
	h.press(tea.KeyEnter, 0)
	h.finishAll(10 * time.Millisecond)
	h.typeText("/fuse 2")
	h.press(tea.KeyEnter, 0)
	if len(h.m.panes) != 3 || h.m.focus != 2 {
		t.Fatalf("%d columns, focus %d", len(h.m.panes), h.m.focus)
	}
	h.finishAll(10 * time.Millisecond)
	prov := h.m.panes[1].spec.Provider.(*scriptProvider)
	reqs := prov.requests()
	if len(reqs) != 2 {
		t.Fatalf("column 2's model got %d requests", len(reqs))
	}
	last := reqs[1].Messages[len(reqs[1].Messages)-1].Content
	for _, w := range []string{"<question>\nexplain SSE\n</question>", "<answer 1>\nFirst answer.", "<answer 2>\nSecond answer."} {
		if !strings.Contains(last, w) {
			t.Fatalf("the fuse prompt lacks %q:\n%s", w, last)
		}
	}
	contains(t, h.plain(), "3 fusion by m-two", "merge the answers of columns 1, 2")
	if got := h.m.cmp.cmp.Results(h.now()); len(got) != 3 || !got[2].Asked {
		t.Fatalf("results: %+v", got)
	}
}

func TestFuseRespectsTheColumnLimit(t *testing.T) {
	var models, answers []string
	for i := range session.MaxColumns {
		models = append(models, fmt.Sprintf("m-%d", i+1))
		answers = append(answers, fmt.Sprintf("answer %d", i+1))
	}
	h, _ := resultsHarness(t, false, models, answers)
	h.typeText("q")
	h.press(tea.KeyEnter, 0)
	h.finishAll(10 * time.Millisecond)
	h.typeText("/fuse 1")
	h.press(tea.KeyEnter, 0)
	if len(h.m.panes) != session.MaxColumns {
		t.Fatalf("%d columns", len(h.m.panes))
	}
	contains(t, h.plain(), "at most 6 columns: /fuse needs a free one")
}

func TestCopyNamesTheColumn(t *testing.T) {
	h, _ := resultsHarness(t, true, []string{"m-one", "m-two"}, []string{"one", "two"})
	h.typeText("q")
	h.press(tea.KeyEnter, 0)
	h.finishAll(10 * time.Millisecond)
	h.press(tea.KeyTab, 0)
	h.update(copiedMsg{what: inColumn("the last answer", h.m.columnWhat())})
	contains(t, h.plain(), "copied the last answer of column 2 (model B)")
}

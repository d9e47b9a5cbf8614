package ui

import (
	"reflect"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/parley-chat/parley/provider"
)

// TestCutLinesAreMarked: a code line wider than the pane ends with a "→"
// in the last column; alt+→ (on an empty input) scrolls the cut lines
// sideways, marked "←" at the left, and alt+← back; lines that fit do not
// move.
func TestCutLinesAreMarked(t *testing.T) {
	long := `{"content":"` + strings.Repeat("h", 100) + `END"}`
	p := &scriptProvider{events: []provider.Event{provider.TextDelta{Text: "Short text.\n\n```json\n" + long + "\n```\n"}, provider.Done{}}}
	h := newHarness(t, p, nil) // 80 columns
	h.send("json please")
	h.pump(10)
	row := func(prefix string) string {
		for _, l := range strings.Split(h.plain(), "\n") {
			if strings.HasPrefix(strings.TrimPrefix(l, "←"), prefix) {
				return l
			}
		}
		t.Fatalf("no row starts with %q:\n%s", prefix, h.plain())
		return ""
	}
	cut := row(`{"content":"hhh`)
	if ansi.StringWidth(cut) != 80 || !strings.HasSuffix(cut, "→") {
		t.Fatalf("cut line %q (width %d) not marked", cut, ansi.StringWidth(cut))
	}
	h.press(tea.KeyRight, tea.ModAlt)
	h.press(tea.KeyRight, tea.ModAlt)
	moved := row("hhh")
	if !strings.HasPrefix(moved, "←") || !strings.HasSuffix(moved, `END"}`) || ansi.StringWidth(moved) > 80 {
		t.Fatalf("scrolled line %q", moved)
	}
	row("Short text.") // lines that fit stay where they were
	h.press(tea.KeyLeft, tea.ModAlt)
	h.press(tea.KeyLeft, tea.ModAlt)
	if got := row(`{"content"`); got != cut {
		t.Fatalf("back: %q", got)
	}
	// In a draft alt+→ moves by words, as in the editor.
	h.typeText("two words")
	h.press(tea.KeyRight, tea.ModAlt)
	if strings.Contains(h.plain(), "←") {
		t.Fatal("alt+→ in a draft scrolled the transcript")
	}
}

// TestNoMouseReportingByDefault: the chat reports the mouse only with
// mouse = true; without, it turns on the terminal's alternate scroll
// mode (asking first how it was) and turns it off again on the way out
// only if it was off.
func TestNoMouseReportingByDefault(t *testing.T) {
	h := newHarness(t, done(), nil)
	if v := h.m.View(); v.MouseMode != tea.MouseModeNone {
		t.Fatalf("mouse mode %v by default", v.MouseMode)
	}
	var raw []string
	collectRaw(h.m.Init(), &raw)
	if strings.Join(raw, "") != "\x1b[?1007$p\x1b[?1007h" {
		t.Fatalf("init wrote %q", raw)
	}
	if seq := h.m.term.restoreSeq(); seq != "" {
		t.Fatalf("restores %q without knowing the mode was off", seq)
	}
	h.update(tea.ModeReportMsg{Mode: modeAltScroll, Value: ansi.ModeReset})
	if seq := h.m.term.restoreSeq(); seq != "\x1b[?1007l" {
		t.Fatalf("restore %q", seq)
	}

	h = newHarness(t, done(), func(o *Options) { o.Mouse = true })
	if v := h.m.View(); v.MouseMode != tea.MouseModeCellMotion {
		t.Fatalf("mouse = true: mode %v", v.MouseMode)
	}
	raw = nil
	collectRaw(h.m.Init(), &raw)
	if len(raw) != 0 {
		t.Fatalf("mouse = true wrote %q", raw)
	}
}

// collectRaw runs cmd and gathers the raw sequences it writes, through
// batches and sequences (a timer in them takes its time).
func collectRaw(cmd tea.Cmd, out *[]string) {
	if cmd == nil {
		return
	}
	msg := cmd()
	if raw, ok := msg.(tea.RawMsg); ok {
		*out = append(*out, raw.Msg.(string))
		return
	}
	// tea.BatchMsg, and Sequence's unexported message: both are lists of
	// commands.
	if v := reflect.ValueOf(msg); v.IsValid() && v.Kind() == reflect.Slice && v.Type().Elem() == reflect.TypeOf(tea.Cmd(nil)) {
		for i := range v.Len() {
			collectRaw(v.Index(i).Interface().(tea.Cmd), out)
		}
	}
}

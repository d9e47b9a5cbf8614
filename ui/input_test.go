package ui

import (
	"fmt"
	"os"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/parley-chat/parley/provider"
)

// inputRows are the editor's rows on screen: the lines between the rule
// above the editor and the status bar, without the "> " prompt.
func (h *harness) inputRows() []string {
	lines := strings.Split(h.plain(), "\n")
	rule := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "───") {
			rule = i
		}
	}
	var rows []string
	for _, l := range lines[rule+1 : len(lines)-1] {
		rows = append(rows, strings.TrimRight(strings.TrimPrefix(l, "> "), " "))
	}
	return rows
}

// sentPrompt is the last user message the gateway received.
func sentPrompt(t *testing.T, p *scriptProvider) string {
	t.Helper()
	reqs := p.requests()
	if len(reqs) == 0 {
		t.Fatal("nothing was sent")
	}
	msgs := reqs[len(reqs)-1].Messages
	return msgs[len(msgs)-1].Content
}

func done() *scriptProvider {
	return &scriptProvider{events: []provider.Event{provider.TextDelta{Text: "ok"}, provider.Done{}}}
}

// TestPastedLinesAreAllVisible: a bracketed paste of five lines shows
// every line in the editor, a key typed after it lands at the end of the
// last line, and what is sent is what was shown.
func TestPastedLinesAreAllVisible(t *testing.T) {
	p := done()
	h := newHarness(t, p, nil)
	h.update(tea.WindowSizeMsg{Width: 100, Height: 30})
	lines := []string{"alpha line", "beta line", "gamma line", "delta line", "epsilon line"}
	h.update(tea.PasteMsg{Content: strings.Join(lines, "\n")})
	if got := h.inputRows(); strings.Join(got, "\n") != strings.Join(lines, "\n") {
		t.Fatalf("editor rows after the paste:\n%s", strings.Join(got, "\n"))
	}
	h.typeText("Z")
	lines[4] += "Z"
	shown := h.inputRows()
	if strings.Join(shown, "\n") != strings.Join(lines, "\n") {
		t.Fatalf("editor rows after typing:\n%s", strings.Join(shown, "\n"))
	}
	if c := h.m.View().Cursor; c == nil || c.Position.X != len("> epsilon lineZ") {
		t.Fatalf("cursor %+v, want after the Z", c)
	}
	h.press(tea.KeyEnter, 0)
	h.pump(10)
	if got := sentPrompt(t, p); got != strings.Join(shown, "\n") {
		t.Fatalf("sent %q, shown %q", got, shown)
	}
	// After sending, the editor is one row again.
	if rows := h.inputRows(); len(rows) != 1 {
		t.Fatalf("editor kept %d rows", len(rows))
	}
}

// TestLongLineShowsItsEnd: a 200-word line, typed or pasted, wraps over
// more rows than the editor shows; the editor shows its end, with the
// cursor after the last word.
func TestLongLineShowsItsEnd(t *testing.T) {
	t.Run("typed", func(t *testing.T) { testLongLine(t, func(h *harness, s string) { h.typeText(s) }) })
	t.Run("pasted", func(t *testing.T) { testLongLine(t, func(h *harness, s string) { h.update(tea.PasteMsg{Content: s}) }) })
}

func testLongLine(t *testing.T, enter func(*harness, string)) {
	p := done()
	h := newHarness(t, p, nil)
	h.update(tea.WindowSizeMsg{Width: 100, Height: 30})
	var words []string
	for i := 1; i <= 200; i++ {
		words = append(words, fmt.Sprintf("w%04d", i))
	}
	line := strings.Join(words, " ")
	enter(h, line)
	rows := h.inputRows()
	if len(rows) != maxInputLines || !strings.HasSuffix(rows[len(rows)-1], "w0199 w0200") {
		t.Fatalf("editor rows:\n%s", strings.Join(rows, "\n"))
	}
	c := h.m.View().Cursor
	screen := strings.Split(h.plain(), "\n")
	if c == nil || c.Position.Y != len(screen)-2 || c.Position.X != ansi.StringWidth(strings.TrimRight(screen[len(screen)-2], " ")) {
		t.Fatalf("cursor %+v, not after w0200 (row %d: %q)", c, len(screen)-2, screen[len(screen)-2])
	}
	h.press(tea.KeyEnter, 0)
	h.pump(10)
	if got := sentPrompt(t, p); got != line {
		t.Fatalf("sent %q", got)
	}
}

// TestEditorHeightCountsDisplayRows: wide characters take two cells, so
// a CJK prompt wraps onto more rows than its rune count says; the editor
// grows to all of them.
func TestEditorHeightCountsDisplayRows(t *testing.T) {
	h := newHarness(t, done(), nil)
	h.update(tea.WindowSizeMsg{Width: 42, Height: 24}) // 40 cells of text
	text := strings.Repeat("漢字", 25)                   // 50 runes, 100 cells: 3 rows
	h.update(tea.PasteMsg{Content: text})
	rows := h.inputRows()
	if len(rows) != 3 || strings.Join(rows, "") != text {
		t.Fatalf("%d rows:\n%s", len(rows), strings.Join(rows, "\n"))
	}
}

// TestEditorTextIsAllVisible: the text back from $EDITOR shows from its
// first line.
func TestEditorTextIsAllVisible(t *testing.T) {
	h := newHarness(t, done(), nil)
	h.update(editorDoneMsg{text: "first line\nsecond line\nthird line"})
	if got := strings.Join(h.inputRows(), "\n"); got != "first line\nsecond line\nthird line" {
		t.Fatalf("editor rows:\n%s", got)
	}
}

// TestLongPasteIsFolded: a paste of more than foldLines lines goes in as
// a token; the gateway gets the whole text, the transcript shows the
// token, and alt+p unfolds it there. Deleting the token drops the paste.
func TestLongPasteIsFolded(t *testing.T) {
	p := done()
	h := newHarness(t, p, nil)
	var b strings.Builder
	for i := 1; i <= 2000; i++ {
		fmt.Fprintf(&b, "log line %04d: something happened\n", i)
	}
	paste := b.String()
	h.typeText("why? ")
	h.update(tea.PasteMsg{Content: strings.ReplaceAll(paste, "\n", "\r\n")})
	token := "[pasted #1 · 2,000 lines · 66 KB]"
	if v := h.m.in.Value(); v != "why? "+token {
		t.Fatalf("editor holds %q", v)
	}
	contains(t, h.plain(), "> why? "+token)
	h.press(tea.KeyEnter, 0)
	h.pump(10)
	if got := sentPrompt(t, p); got != "why? "+paste {
		t.Fatalf("sent %d bytes, want the prompt and the paste (%d)", len(got), len(paste)+5)
	}
	screen := h.plain()
	if !strings.Contains(screen, "why? "+token) || strings.Contains(screen, "log line 0001") {
		t.Fatalf("transcript not folded:\n%s", screen)
	}
	h.press('p', tea.ModAlt)
	contains(t, h.plain(), "why? log line 0001: something happened")
	h.press('p', tea.ModAlt)
	if strings.Contains(h.plain(), "log line 0001") {
		t.Fatal("alt+p did not fold it again")
	}
	// The folded prompt comes back from the history with its paste.
	h.press('p', tea.ModCtrl)
	if h.m.in.Value() != "why? "+token || h.m.in.Text() != "why? "+paste {
		t.Fatalf("recalled %q", h.m.in.Value())
	}
	// A token deleted in the editor takes its paste with it.
	h.press('c', tea.ModCtrl)
	h.update(tea.PasteMsg{Content: paste})
	h.press(tea.KeyBackspace, tea.ModCtrl) // ctrl+backspace: word by word
	for !h.m.in.Empty() {
		h.press(tea.KeyBackspace, 0)
	}
	h.typeText("short")
	if h.m.in.Text() != "short" {
		t.Fatalf("a deleted paste is still sent: %.40q", h.m.in.Text())
	}
}

// TestShortPastesStayInline: a paste within the bounds is text in the
// editor; one that would take the editor past them is folded.
func TestShortPastesStayInline(t *testing.T) {
	h := newHarness(t, done(), nil)
	chunk := strings.Repeat("0123456789012345678901234567890123456789\n", 10) // 410 bytes, 10 lines
	for i := 0; i < 9; i++ {
		h.update(tea.PasteMsg{Content: chunk})
	}
	if strings.Contains(h.m.in.Value(), "[pasted") {
		t.Fatal("a short paste was folded")
	}
	for i := 0; i < 20; i++ {
		h.update(tea.PasteMsg{Content: chunk})
	}
	if v := h.m.in.Value(); len(v) > maxInlineBytes || strings.Count(v, "\n") > maxInlineLines {
		t.Fatalf("the editor holds %d bytes, %d lines inline", len(v), strings.Count(v, "\n"))
	}
	if h.m.in.Text() != strings.Repeat(chunk, 29) {
		t.Fatal("the pastes are not all in the text sent")
	}
}

// TestEditorFoldsLongText: a text back from $EDITOR longer than the
// editor holds is one token; ctrl+o opens the whole text again.
func TestEditorFoldsLongText(t *testing.T) {
	h := newHarness(t, done(), nil)
	long := strings.Repeat("a line written in the editor\n", 150)
	h.update(editorDoneMsg{text: long})
	if v := h.m.in.Value(); v != "[edited #1 · 150 lines · 4 KB]" {
		t.Fatalf("editor holds %q", v)
	}
	ready, ok := h.press('o', tea.ModCtrl)().(editorReadyMsg)
	if !ok || ready.err != nil {
		t.Fatalf("editor: %+v", ready)
	}
	t.Cleanup(func() { _ = removeFile(ready.path) })
	if b, err := readFile(ready.path); err != nil || b != long {
		t.Fatalf("the editor got %d bytes (%v), want the whole text", len(b), err)
	}
}

func readFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	return string(b), err
}

func removeFile(path string) error { return os.Remove(path) }

package ui

import (
	"encoding/json"
	"errors"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
	"github.com/parley-chat/parley/themes"
	"github.com/parley-chat/parley/ui/markdown"
)

// testCtx returns a render context of the given width in the dark theme.
func testCtx(t *testing.T, width int) renderCtx {
	t.Helper()
	th, err := themes.Lookup("dark", true)
	if err != nil {
		t.Fatal(err)
	}
	renderers := map[int]*markdown.Renderer{}
	return renderCtx{width: width, th: th, now: testStart, renderer: func(w int) *markdown.Renderer {
		if r, ok := renderers[w]; ok {
			return r
		}
		r, err := markdown.New(w, th)
		if err != nil {
			t.Fatal(err)
		}
		renderers[w] = r
		return r
	}}
}

// spaced matches "Name", "Age" and "City" apart on one line, with spaces
// between them.
var spaced = regexp.MustCompile(`Name +Age +City`)

// TestTabsShownAsSpaces checks every text path of the transcript: the
// screen drops tab characters, so text with tabs (an answer, reasoning, a
// notice, an error, tool arguments, a prompt, a report row) reaches the
// view with its tabs expanded to spaces, never glued together.
func TestTabsShownAsSpaces(t *testing.T) {
	const tsv = "Name\tAge\tCity"
	c := testCtx(t, 80)
	answer := func() *item {
		turn := session.NewTurn(testStart)
		turn.Apply(provider.TextDelta{Text: tsv}, testStart)
		turn.Apply(provider.Done{FinishReason: "stop"}, testStart)
		return &item{kind: kindAssistant, turn: turn, md: tsv, firstBlock: 1}
	}
	withTurn := func(f func(*session.Turn)) *item {
		it := answer()
		f(it.turn)
		return it
	}
	cases := map[string]*item{
		"answer":        answer(),
		"answer list":   {kind: kindAssistant, turn: session.NewTurn(testStart), md: "- " + tsv + "\n- x\tyz\n\n> " + tsv + "\n", firstBlock: 1},
		"prompt":        {kind: kindUser, text: tsv},
		"notice":        {kind: kindNotice, text: tsv},
		"report row":    {kind: kindInfo, info: &info{title: "t", rows: [][2]string{{"k", tsv}}}},
		"report error":  {kind: kindInfo, info: &info{title: "t", err: errors.New(tsv)}},
		"error message": withTurn(func(tr *session.Turn) { tr.Err = &provider.APIError{Status: 400, Title: "Bad", Message: tsv} }),
		"tool call":     withTurn(func(tr *session.Turn) { tr.ToolCalls = []provider.ToolCall{{Name: "f", Arguments: tsv}} }),
		"reasoning": withTurn(func(tr *session.Turn) {
			tr.Apply(provider.ReasoningDelta{Text: tsv}, testStart)
		}),
	}
	cases["reasoning"].expanded = true
	for name, it := range cases {
		view := strings.Join(it.render(c), "\n")
		if strings.Contains(view, "\t") {
			t.Errorf("%s: a tab reaches the view: %q", name, view)
		}
		if v := ansi.Strip(view); !spaced.MatchString(v) {
			t.Errorf("%s: fields not spaced apart:\n%s", name, v)
		}
	}
	// The live reasoning box (while the model thinks) takes the same path.
	if v := ansi.Strip(reasoningBox(tsv, c, true)); strings.Contains(v, "\t") || !spaced.MatchString(v) {
		t.Errorf("live reasoning box: %q", v)
	}
}

// nestedArgs returns about 20 KB of arguments holding depth nested arrays.
func nestedArgs(depth int) string {
	return `{"a":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`
}

// TestToolCallViewBounded checks that showing a tool call costs little
// whatever its arguments hold: deeply nested JSON is shown raw, long
// arguments are cut with a mark, and ordinary JSON is still pretty printed
// in its own key order.
func TestToolCallViewBounded(t *testing.T) {
	c := testCtx(t, 80)
	for name, args := range map[string]string{
		"9,999 nested arrays": nestedArgs(9999),
		"deep but short":      nestedArgs(200),
		"4 MB of JSON":        `{"a":"` + strings.Repeat("x", 4<<20) + `"}`,
		"4 MB of text":        strings.Repeat("word ", 800<<10),
		"20k short lines":     strings.Repeat("[1,\n", 20000),
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		view := toolCallView(provider.ToolCall{Name: "f", Arguments: args}, c)
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
			t.Errorf("%s: showing %d bytes of arguments allocated %d MB", name, len(args), alloc>>20)
		}
		lines := strings.Split(view, "\n")
		if len(lines) > maxShownArgsLines+2 || len(view) > 4*maxShownArgs+64*len(lines) {
			t.Errorf("%s: view of %d lines, %d bytes", name, len(lines), len(view))
		}
		if len(args) > maxShownArgs && !strings.Contains(ansi.Strip(view), "cut here") {
			t.Errorf("%s: long arguments cut without a mark", name)
		}
		for i, l := range lines {
			if w := ansi.StringWidth(l); w > c.width {
				t.Fatalf("%s: line %d is %d wide", name, i, w)
			}
		}
	}

	args := `{"zeta":1,"alpha":{"list":[1,2]},"tab":"a\tb"}`
	if !json.Valid([]byte(args)) {
		t.Fatal("test arguments are not JSON")
	}
	v := ansi.Strip(toolCallView(provider.ToolCall{Name: "search", ID: "call_1", Arguments: args}, c))
	want := "⚙ tool call search call_1\n│ {\n│   \"zeta\": 1,\n│   \"alpha\": {\n│     \"list\": [\n│       1,\n│       2\n│     ]\n│   },\n│   \"tab\": \"a\\tb\"\n│ }"
	if v != want {
		t.Fatalf("pretty printed arguments:\n%s\nwant:\n%s", v, want)
	}
}

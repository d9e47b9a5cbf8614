package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/parley-chat/parley/provider"
)

const uiProductSchema = `{"type":"object","properties":{"name":{"type":"string"},"price":{"type":"number"}},"required":["name","price"],"additionalProperties":false}`

// command types a slash command, presses enter and feeds what its
// command reports back to Update (reading a file happens there).
func (h *harness) command(text string) {
	h.t.Helper()
	h.typeText(text)
	h.run(h.press(tea.KeyEnter, 0))
}

// run executes cmd and hands its messages to Update, batches included.
func (h *harness) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	switch msg := cmd().(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			h.run(c)
		}
	case schemaLoadedMsg:
		h.update(msg)
	}
}

func writeSchemaFile(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "product.json")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSchemaCommandAndMarkedAnswer: /schema FILE asks for JSON matching
// FILE; the answer shows pretty-printed as a JSON block, each offending
// line marked with the number of its violation, and the violations
// listed below it; /schema shows the schema; /schema off stops it.
func TestSchemaCommandAndMarkedAnswer(t *testing.T) {
	p := &scriptProvider{events: []provider.Event{
		provider.TextDelta{Text: `{"name":"iPhone","price":"999",`},
		provider.TextDelta{Text: `"extra":true}`},
		provider.Done{FinishReason: "stop"},
	}}
	h := newHarness(t, p, nil)
	h.command("/schema " + writeSchemaFile(t, uiProductSchema))
	contains(t, h.plain(), "schema set: product")

	h.typeText("extract")
	h.press(tea.KeyEnter, 0)
	h.pump(10)
	screen := h.plain()
	contains(t, screen,
		"─ [1] json",
		`  "name": "iPhone",`,
		`  "price": "999",  ◀ 1`,
		`  "extra": true  ◀ 2`,
		"✗ 2 violations of the schema product",
		"◀ 1 /price: type: string, want number",
		"◀ 2 /extra: additionalProperties: not allowed, the schema names no such property",
	)
	if rf := p.requests()[0].ResponseFormat; rf == nil || rf.Name != "product" || !rf.Strict {
		t.Fatalf("request response format %+v", rf)
	}
	// The marks are in the theme's warning style, the heading in its
	// error style.
	raw := h.m.View().Content
	if !strings.Contains(raw, h.m.th.StatusWarn.Render("◀ 1")) || !strings.Contains(raw, h.m.th.StatusError.Render(" ✗ 2 violations of the schema product ")) {
		t.Errorf("marks or heading not in the theme's styles:\n%q", raw)
	}

	h.command("/schema")
	contains(t, h.plain(), "schema product", "sent as", "json_schema, strict", `"additionalProperties": false`)

	h.command("/schema off")
	contains(t, h.plain(), "schema off: answers are free text again")
	h.typeText("again")
	h.press(tea.KeyEnter, 0)
	h.pump(10)
	if rf := p.requests()[1].ResponseFormat; rf != nil {
		t.Errorf("after /schema off the request asked for %+v", rf)
	}
	if strings.Count(h.plain(), "◀ 1") > 1 {
		t.Errorf("the free-text answer was checked:\n%s", h.plain())
	}
}

func TestSchemaMatchingAnswer(t *testing.T) {
	p := &scriptProvider{events: []provider.Event{provider.TextDelta{Text: `{"name":"x","price":1}`}, provider.Done{}}}
	h := newHarness(t, p, nil)
	h.command("/schema " + writeSchemaFile(t, uiProductSchema))
	h.typeText("extract")
	h.press(tea.KeyEnter, 0)
	h.pump(10)
	contains(t, h.plain(), `  "price": 1`, "✓ matches the schema product")
	if strings.Contains(h.plain(), "◀") {
		t.Errorf("a matching answer is marked:\n%s", h.plain())
	}
}

// TestSchemaNotJSON: an answer that is not JSON stays as it came, with
// the one violation saying so.
func TestSchemaNotJSON(t *testing.T) {
	p := &scriptProvider{events: []provider.Event{provider.TextDelta{Text: "Sure! The price is 999."}, provider.Done{}}}
	h := newHarness(t, p, nil)
	h.command("/schema " + writeSchemaFile(t, uiProductSchema))
	h.typeText("extract")
	h.press(tea.KeyEnter, 0)
	h.pump(10)
	contains(t, h.plain(), "Sure! The price is 999.", "1 violation of the schema product", "◀ 1 (root): not valid JSON: line 1, column 1")
}

func TestSchemaCommandErrors(t *testing.T) {
	h := newHarness(t, &scriptProvider{}, nil)
	h.command("/schema")
	contains(t, h.plain(), "no schema: answers are free text")
	h.command("/schema off")
	contains(t, h.plain(), "no schema is set")
	h.command("/schema " + writeSchemaFile(t, `{"type":"objet"}`))
	contains(t, h.plain(), "schema ", "failed", `unknown type "objet"`)
	h.command("/schema /nonexistent/schema.json")
	contains(t, h.plain(), "no such file or directory")
	if h.m.focused().chat.Settings().Schema != nil {
		t.Errorf("a schema was set from a bad file")
	}
}

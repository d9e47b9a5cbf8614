package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/parley-chat/parley/sanitize"
	"github.com/parley-chat/parley/schema"
	"github.com/parley-chat/parley/session"
)

// This file holds structured outputs on the chat screen: the /schema
// command, and how an answer checked against a schema is shown — its JSON
// laid out as a code block, each offending line marked "◀ N", and below
// it one line per violation naming the JSON Pointer and the problem.

// maxSchemaLines bounds the schema /schema shows.
const maxSchemaLines = 40

// schemaLoadedMsg reports a schema file read for /schema FILE.
type schemaLoadedMsg struct {
	arg string // the file as typed
	s   *schema.Schema
	err error
}

// runSchema is /schema: alone it shows the schema in use, "off" stops
// asking for structured answers, anything else is a file to read (off
// the Update goroutine). The schema applies to every pane, since every
// pane gets the same prompts.
func (m *Model) runSchema(arg string) tea.Cmd {
	p := m.focused()
	rc := m.rc(p)
	switch arg {
	case "":
		m.showSchema(p, rc)
		return nil
	case "off":
		if p.chat.Settings().Schema == nil {
			p.notice("no schema is set", rc)
			return nil
		}
		for _, q := range m.panes {
			q.chat.SetSchema(nil)
			q.notice("schema off: answers are free text again", m.rc(q))
		}
		m.refresh()
		return nil
	}
	path := arg
	if rest, ok := strings.CutPrefix(path, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			path = filepath.Join(home, rest)
		}
	}
	return func() tea.Msg {
		s, err := schema.Load(path)
		return schemaLoadedMsg{arg: arg, s: s, err: err}
	}
}

// onSchemaLoaded sets a schema read for /schema FILE on every pane, or
// reports why it cannot be used.
func (m *Model) onSchemaLoaded(msg schemaLoadedMsg) tea.Cmd {
	if msg.err != nil {
		p := m.focused()
		p.addInfo(&info{title: "schema " + msg.arg, err: msg.err}, m.rc(p))
		m.setFlash("schema not set", true)
		return nil
	}
	for _, p := range m.panes {
		p.chat.SetSchema(msg.s)
		p.notice(fmt.Sprintf("schema set: %s — answers are asked for as JSON matching it, and checked", msg.s.Name), m.rc(p))
	}
	m.refresh()
	return nil
}

// showSchema reports the schema in use: its file, how it is sent and the
// schema itself.
func (m *Model) showSchema(p *Pane, rc renderCtx) {
	s := p.chat.Settings().Schema
	if s == nil {
		p.notice("no schema: answers are free text — /schema FILE asks for JSON matching the JSON Schema in FILE", rc)
		return
	}
	sent := "json_schema, strict (every object closed, all properties required)"
	if !s.Strict {
		sent = "json_schema, not strict (an object is open or has optional properties)"
	}
	text, _, _ := schema.Pretty(string(s.JSON()))
	if lines := strings.Split(text, "\n"); len(lines) > maxSchemaLines {
		text = strings.Join(lines[:maxSchemaLines], "\n") + fmt.Sprintf("\n… %d more lines", len(lines)-maxSchemaLines)
	}
	rows := [][2]string{{"name", s.Name}}
	if s.Path != "" {
		rows = append(rows, [2]string{"file", s.Path})
	}
	rows = append(rows, [2]string{"sent as", sent}, [2]string{"schema", text})
	p.addInfo(&info{title: "schema " + s.Name, rows: rows}, rc)
}

// structured is how a finished answer checked against a schema is laid
// out: its JSON pretty-printed, and the line of each value in it.
type structured struct {
	lines map[string]int // line of each value, by JSON Pointer
	count int            // lines of the pretty JSON
}

// showStructured turns a finished answer that was checked against a
// schema and is JSON into a JSON code block, pretty-printed, whose lines
// markViolations can mark. Other answers are left as they are.
func (it *item) showStructured() {
	if it.turn == nil || it.turn.SchemaCheck == nil {
		return
	}
	text, lines, ok := schema.Pretty(schema.Document(it.turn.Text()))
	if !ok {
		return
	}
	it.md = "```json\n" + text + "\n```"
	it.sv = &structured{lines: lines, count: strings.Count(text, "\n") + 1}
	it.mdKey = renderKey{} // render the new source
}

// markViolations adds "◀ N" beside the rendered line of each value that
// violates the schema (N numbers the violation in the list below the
// answer). out must be the code block as the renderer lays it out — a
// label line, then one line per line of JSON; anything else is returned
// unmarked.
func (it *item) markViolations(out string, c renderCtx) string {
	if it.sv == nil || it.turn.SchemaCheck.OK() {
		return out
	}
	rendered := strings.Split(out, "\n")
	if len(rendered) != it.sv.count+1 {
		return out
	}
	marks := map[int][]string{}
	for i, v := range it.turn.SchemaCheck.Violations {
		if line, ok := it.sv.lines[v.Pointer]; ok {
			marks[line+1] = append(marks[line+1], strconv.Itoa(i+1))
		}
	}
	for n, nums := range marks {
		mark := "◀ " + strings.Join(nums, ",")
		room := c.width - ansi.StringWidth(mark) - 2
		line := rendered[n]
		if ansi.StringWidth(line) > room {
			line = ansi.Truncate(line, max(room, 1), "…")
		}
		rendered[n] = line + "  " + c.th.StatusWarn.Render(mark)
	}
	return strings.Join(rendered, "\n")
}

// writeSchemaCheck adds the verdict on an answer checked against a
// schema: a line saying it matches, or a heading and one line per
// violation, numbered as the marks beside the answer.
func writeSchemaCheck(b *strings.Builder, t *session.Turn, c renderCtx) {
	r := t.SchemaCheck
	if r == nil {
		return
	}
	b.WriteByte('\n')
	name := sanitize.Line(r.Schema)
	if r.OK() {
		b.WriteString(c.th.Dim.Render(ansi.Truncate("✓ matches the schema "+name, c.width, "…")))
		return
	}
	n := len(r.Violations)
	head := fmt.Sprintf("%d violations of the schema %s", n, name)
	if n == 1 {
		head = "1 violation of the schema " + name
	}
	if r.More {
		head = fmt.Sprintf("%d+ violations of the schema %s", n, name)
	}
	b.WriteString(c.th.StatusError.Render(" ✗ " + ansi.Truncate(head, max(c.width-4, 1), "…") + " "))
	for i, v := range r.Violations {
		mark := "◀ " + strconv.Itoa(i+1) + " "
		text := sanitize.Line(v.Where()) + ": " + sanitize.Line(v.Message)
		indent := strings.Repeat(" ", ansi.StringWidth(mark))
		for j, l := range strings.Split(ansi.Wrap(text, max(c.width-len(indent), 1), ""), "\n") {
			b.WriteByte('\n')
			if j == 0 {
				b.WriteString(c.th.StatusWarn.Render(mark))
			} else {
				b.WriteString(indent)
			}
			b.WriteString(l)
		}
	}
	if r.More {
		b.WriteByte('\n')
		b.WriteString(c.th.Dim.Render("… and more, not listed"))
	}
}

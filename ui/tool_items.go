package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/parley-chat/parley/sanitize"
	"github.com/parley-chat/parley/session"
)

// kindTool is a transcript entry for one tool call the loop worked on:
// waiting, running (spinner and elapsed time) or done, its result folded
// to one line until alt+r unfolds it.
const kindTool itemKind = 64

// maxResultLines bounds an unfolded result; the model got all of it.
const maxResultLines = 200

// renderRun draws a tool call's entry.
func (it *item) renderRun(b *strings.Builder, c renderCtx) {
	r := it.run
	name := sanitize.Line(r.Tool.Name)
	if name == "" {
		name = sanitize.Line(r.Call.Name)
	}
	var head string
	switch {
	case r.State == session.RunRunning:
		d := max(c.now.Sub(r.Start), 0)
		head = c.th.Accent.Render(spinner(d, c.th.Color)+" "+name) +
			c.th.Dim.Render(fmt.Sprintf(" · running %s · esc stops it", elapsedText(d)))
	case r.State == session.RunWaiting && r.Tool.Manual:
		head = c.th.Accent.Render("✎ "+name) + c.th.Dim.Render(" · waiting for you to type its result")
	case r.State == session.RunWaiting:
		head = c.th.Accent.Render("⚙ "+name) + c.th.Dim.Render(" · waiting")
	case r.Denied:
		head = c.th.StatusWarn.Render("⊘ "+name+" denied") + c.th.Dim.Render(reasonText(r.Reason))
	default:
		first, lines := oneLine(r.Output.Content)
		mark, style := "✓ ", c.th.AssistantLabel
		if r.Output.IsError {
			mark, style = "✗ ", c.th.StatusWarn
		}
		head = style.Render(mark+name) + " → " + first
		hint := ""
		switch {
		case it.expanded:
			hint = " (alt+r folds)"
		case lines > 1:
			hint = fmt.Sprintf(" (%d lines · alt+r)", lines)
		}
		if r.End.After(r.Start) && !r.Start.IsZero() {
			hint = fmt.Sprintf(" · %s%s", elapsedText(r.End.Sub(r.Start)), hint)
		}
		head += c.th.Dim.Render(hint)
	}
	b.WriteString(ansi.Truncate(head, c.width, "…"))
	if r.Edited && r.State != session.RunWaiting {
		b.WriteString("\n" + c.th.Dim.Render(ansi.Truncate("  run with edited arguments: "+sanitize.Line(r.Arguments), c.width, "…")))
	}
	if !it.expanded || r.State != session.RunDone {
		return
	}
	body := ansi.Wrap(sanitize.Text(strings.TrimRight(r.Output.Content, "\n")), max(c.width-2, 1), "")
	lines := strings.Split(body, "\n")
	more := 0
	if len(lines) > maxResultLines {
		more = len(lines) - maxResultLines
		lines = lines[:maxResultLines]
	}
	for _, l := range lines {
		b.WriteString("\n" + c.th.Dim.Render("│ ") + l)
	}
	if more > 0 {
		b.WriteString("\n" + c.th.Dim.Render(fmt.Sprintf("│ … %d more lines", more)))
	}
}

func reasonText(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + sanitize.Line(reason)
}

// elapsedText writes a duration as "0.4 s", "12 s" or "2:05".
func elapsedText(d time.Duration) string {
	switch {
	case d < 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	}
	return fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

// runItem finds the transcript entry of a run.
func (p *Pane) runItem(run *session.ToolRun) *item {
	for i := len(p.items) - 1; i >= 0; i-- {
		if p.items[i].run == run {
			return p.items[i]
		}
	}
	return nil
}

// showRun adds a run to the transcript, or redraws its entry.
func (p *Pane) showRun(run *session.ToolRun, rc renderCtx) {
	it := p.runItem(run)
	if it == nil {
		p.addItem(&item{kind: kindTool, run: run}, rc)
		p.layout(rc)
		return
	}
	p.redrawItem(it, rc)
}

// tickRun redraws a running tool's spinner and elapsed time.
func (p *Pane) tickRun(run *session.ToolRun, rc renderCtx) {
	if it := p.runItem(run); it != nil {
		p.redrawItem(it, rc)
	}
}

// redrawItem renders an entry again and lays the pane out.
func (p *Pane) redrawItem(it *item, rc renderCtx) {
	before := len(it.lines)
	it.invalidate()
	p.grew(len(it.render(rc)) - before)
	p.layout(rc)
}

// toggleRuns unfolds the finished tool results after the last answer or
// prompt, or folds them when all are unfolded. It reports whether there
// were any.
func (p *Pane) toggleRuns(rc renderCtx) bool {
	var group []*item
	for i := len(p.items) - 1; i >= 0; i-- {
		it := p.items[i]
		if it.kind == kindTool {
			if it.run.State == session.RunDone {
				group = append(group, it)
			}
			continue
		}
		if len(group) > 0 && it.kind != kindNotice {
			break
		}
	}
	if len(group) == 0 {
		return false
	}
	expand := false
	for _, it := range group {
		if !it.expanded {
			expand = true
		}
	}
	for _, it := range group {
		it.expanded = expand
		before := len(it.lines)
		it.invalidate()
		p.grew(len(it.render(rc)) - before)
	}
	p.layout(rc)
	return true
}

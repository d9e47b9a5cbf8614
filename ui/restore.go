package ui

import (
	"strings"

	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/sanitize"
	"github.com/parley-chat/parley/session"
	"github.com/parley-chat/parley/ui/markdown"
)

// restore fills the transcript with a saved conversation: its prompts and
// answers (with their reasoning, tool calls, errors and interruptions),
// in order. Nothing is rendered here: layout renders only the entries
// that come into view, so a long conversation opens as fast as a short
// one. Tool results are not shown, as in a live chat.
func (p *Pane) restore(s session.Saved) {
	add := func(it *item) {
		p.nextItem++
		it.id = p.nextItem
		p.items = append(p.items, it)
	}
	answer := func(t *session.Turn, md string) {
		it := &item{kind: kindAssistant, turn: t, md: md, firstBlock: p.nextBlock, blocks: countCodeBlocks(md)}
		p.nextBlock += it.blocks
		add(it)
	}
	for _, e := range s.Transcript() {
		m := e.Message
		switch {
		case e.Index < 0:
			answer(e.Turn, e.Turn.Text())
		case m.Role == provider.RoleUser:
			add(&item{kind: kindUser, text: m.Content})
		case m.Role == provider.RoleAssistant:
			t := e.Turn
			if t == nil { // a message without its turn: an imported history
				t = &session.Turn{ToolCalls: m.ToolCalls}
				t.Restore(m.Content, m.Reasoning)
			}
			answer(t, m.Content)
		}
	}
}

// countCodeBlocks is len(markdown.CodeBlocks(md)), the number of fenced
// code blocks, found by a line scan where that is certain to agree: when
// every fence line starts at the left margin and no line could open an
// HTML block. Other documents (fences in lists or quotes) are parsed.
// Restoring a long conversation numbers every answer's code blocks, and
// the scan is a hundred times cheaper than a parse.
func countCodeBlocks(md string) int {
	if !strings.Contains(md, "```") && !strings.Contains(md, "~~~") {
		return 0
	}
	md = sanitize.Text(md)
	n := 0
	var open string // the marker run of the open fence
	for line := range strings.SplitSeq(md, "\n") {
		trimmed := strings.TrimLeft(line, " \t>")
		isFence := strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~")
		if open != "" {
			if isFence && line == trimmed {
				run := line[:markerRun(line)]
				if run[0] == open[0] && len(run) >= len(open) && strings.TrimSpace(line[len(run):]) == "" {
					open = ""
				}
			}
			continue
		}
		switch {
		case strings.HasPrefix(line, "<"):
			return len(markdown.CodeBlocks(md)) // perhaps an HTML block
		case !isFence:
			continue
		case line != trimmed:
			return len(markdown.CodeBlocks(md)) // a fence in a list, a quote or indented
		}
		run := line[:markerRun(line)]
		if run[0] == '`' && strings.Contains(line[len(run):], "`") {
			continue // not a fence: backticks in the info string
		}
		open = run
		n++
	}
	return n
}

// markerRun is the length of the run of the line's first byte.
func markerRun(line string) int {
	i := 1
	for i < len(line) && line[i] == line[0] {
		i++
	}
	return i
}

package ui

import (
	"github.com/parley-chat/parley/provider"
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
		it := &item{kind: kindAssistant, turn: t, md: md, firstBlock: p.nextBlock}
		if md != "" {
			it.blocks = len(markdown.CodeBlocks(md))
		}
		p.nextBlock += it.blocks
		add(it)
	}
	for _, e := range s.Transcript() {
		m := e.Message
		switch {
		case e.Index < 0:
			answer(e.Turn, "")
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

package ui

import (
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/parley-chat/parley/sanitize"
)

// Sessions is what the chat asks of the saved conversations: /title and
// /export. (The store implements it through the command line, so the chat
// knows nothing of how conversations are kept.)
type Sessions interface {
	// Rename gives conversation id a title; one not saved yet takes it
	// when it is. It runs on the chat's goroutine and must be cheap.
	Rename(id, title string) error
	// Export writes conversation id to path as markdown (as JSON when
	// path ends in .json; under a name of its own in the current
	// directory when path is empty) and returns the path written. It
	// does I/O, so the chat calls it from a command.
	Export(id, path string) (string, error)
}

// exportedMsg reports a finished /export.
type exportedMsg struct {
	path string
	err  error
	what string // the column exported, in a comparison
}

// exportConversation is /export [FILE]: the focused pane's conversation
// written to a file, off the chat's goroutine.
func (m *Model) exportConversation(p *Pane, path string) tea.Cmd {
	s := m.opts.Sessions
	if s == nil {
		m.setFlash("conversations are not saved (--no-save or save = false): nothing to export", true)
		return nil
	}
	if len(p.chat.Conversation().Messages) == 0 {
		m.setFlash("nothing to export yet", true)
		return nil
	}
	id := p.chat.Conversation().ID
	what := m.columnWhat()
	m.setFlash("exporting…", false)
	return func() tea.Msg {
		written, err := s.Export(id, path)
		return exportedMsg{path: written, err: err, what: what}
	}
}

func (m *Model) onExported(msg exportedMsg) {
	if msg.err != nil {
		m.setFlash("export failed: "+sanitize.Line(msg.err.Error()), true)
		return
	}
	m.setFlash(inColumn("exported", msg.what)+" to "+sanitize.Line(msg.path), false)
}

// setTitle is /title TEXT: the focused pane's conversation renamed.
func (m *Model) setTitle(p *Pane, title string) {
	s := m.opts.Sessions
	switch {
	case s == nil:
		m.setFlash("conversations are not saved (--no-save or save = false): no title to set", true)
		return
	case strings.TrimSpace(title) == "":
		m.setFlash("usage: /title TEXT", true)
		return
	}
	if err := s.Rename(p.chat.Conversation().ID, title); err != nil {
		m.setFlash(err.Error(), true)
		return
	}
	m.setFlash("title set: "+sanitize.Line(title), false)
}

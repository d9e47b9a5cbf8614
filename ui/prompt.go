package ui

import (
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/parley-chat/parley/sanitize"
)

// Sending what the editor holds: a slash command runs at once; a prompt
// is sent, or, while an answer streams, queued and sent when no answer
// streams any more. One prompt waits at a time: sending another while one
// waits adds it to the waiting one.

// queuedPrompt is a prompt waiting for the answers to end: as the editor
// held it (to give it back), as the transcript shows it and as it is sent.
type queuedPrompt struct {
	e     entry
	shown string
	text  string
}

// submitInput is enter: it runs the command, sends the prompt or queues
// it while an answer streams.
func (m *Model) submitInput() tea.Cmd {
	shown, text := m.in.Value(), m.in.Text()
	if strings.TrimSpace(text) == "" {
		return nil
	}
	if c, ok := parseCommand(text); ok {
		m.in.Remember()
		m.in.Reset()
		cmd := m.runCommand(c)
		if m.queued != nil && !m.answering() {
			// The command ended the answer (/new): the waiting prompt
			// goes back to the editor rather than into a new context.
			m.unqueue("the answer ended early: your next prompt is back in the input")
		}
		m.layout()
		return cmd
	}
	e := m.in.entry()
	m.in.Remember()
	m.in.Reset()
	if m.answering() {
		m.queue(queuedPrompt{e: e, shown: shown, text: text})
		m.layout()
		return nil
	}
	return m.sendPrompt(shown, text)
}

// queue makes q wait for the answers to end, after the prompt already
// waiting if there is one.
func (m *Model) queue(q queuedPrompt) {
	if w := m.queued; w != nil {
		q = queuedPrompt{
			e:     entry{value: w.e.value + "\n\n" + q.e.value, pastes: append(w.e.pastes[:len(w.e.pastes):len(w.e.pastes)], q.e.pastes...)},
			shown: w.shown + "\n\n" + q.shown,
			text:  w.text + "\n\n" + q.text,
		}
	}
	m.queued = &q
	m.dirty = true
}

// sendQueued sends the waiting prompt once no answer streams.
func (m *Model) sendQueued() tea.Cmd {
	q := m.queued
	if q == nil || m.answering() {
		return nil
	}
	m.queued = nil
	return m.sendPrompt(q.shown, q.text)
}

// unqueue gives the waiting prompt back to the editor, before whatever
// the editor holds, and says why in the transcript.
func (m *Model) unqueue(why string) {
	q := m.queued
	if q == nil {
		return
	}
	m.queued = nil
	e := q.e
	if cur := m.in.entry(); cur.value != "" {
		e = entry{value: e.value + "\n\n" + cur.value, pastes: append(e.pastes[:len(e.pastes):len(e.pastes)], cur.pastes...)}
	}
	m.in.setEntry(e)
	if why != "" {
		p := m.focused()
		p.notice(why, m.rc(p))
	}
	m.layout()
}

// sendPrompt sends a prompt to every pane, shown in the transcripts as
// shown (folded pastes as tokens) and sent as text.
func (m *Model) sendPrompt(shown, text string) tea.Cmd {
	if !m.sized {
		m.pending = text
		return nil
	}
	if cmd, waiting := m.startToolsFirst(shown, text); waiting {
		return cmd
	}
	for _, p := range m.panes {
		if err := p.submitShown(m.ctx, shown, text, m.rc(p)); err != nil {
			p.warning(err.Error(), m.rc(p))
		}
	}
	m.layout()
	return m.ensureTicking()
}

// queueHeight is the height of the waiting-prompt line above the editor.
func (m *Model) queueHeight() int {
	if m.queued != nil {
		return 1
	}
	return 0
}

// queueLine is the line above the editor that shows the waiting prompt.
func (m *Model) queueLine() string {
	q := m.queued
	first, _, more := strings.Cut(strings.TrimSpace(q.shown), "\n")
	first = sanitize.Line(first)
	if more {
		first += " …"
	}
	head := "next ▸ "
	// The prompt comes first: the hint shortens, then goes, to leave it
	// room.
	hint := ""
	for _, h := range []string{" · sent when the answer ends · esc takes it back", " · esc takes it back"} {
		if room := m.width - ansi.StringWidth(head) - ansi.StringWidth(h); room >= min(ansi.StringWidth(first), 30) {
			hint = h
			break
		}
	}
	room := max(m.width-ansi.StringWidth(head)-ansi.StringWidth(hint), 8)
	line := m.th.Accent.Render(head) + ansi.Truncate(first, room, "…") + m.th.Dim.Render(hint)
	return ansi.Truncate(line, m.width, "")
}

// answering reports whether an answer streams or a tool loop goes on in
// some pane: a prompt sent meanwhile waits.
func (m *Model) answering() bool { return m.streaming() || m.toolsBusy() }

// afterAnswer runs when a pane's answer has ended and no tool loop goes
// on from it: the waiting prompt is sent once no answer streams, or given
// back to the editor when this answer failed (sending it would most
// likely fail the same way; it is one enter away).
func (m *Model) afterAnswer(p *Pane) tea.Cmd {
	if m.queued == nil {
		return nil
	}
	if t := p.chat.Turn(); t != nil && t.Err != nil {
		m.unqueue("the answer failed: your next prompt is back in the input")
		return nil
	}
	return m.sendQueued()
}

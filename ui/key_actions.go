package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// onKey routes a key press: first to the overlay on top, if one is open;
// then, unless the overlay used it, to the chat (onChatKey).
func (m *Model) onKey(msg tea.KeyPressMsg) tea.Cmd {
	if o := m.topOverlay(); o != nil {
		cmd, used := m.onOverlayKey(o, msg)
		if used {
			return cmd
		}
		return tea.Batch(cmd, m.onChatKey(msg))
	}
	return m.onChatKey(msg)
}

// onChatKey handles a key no overlay used: ctrl+c, which depends on what
// is running; then the keys that act on the transcript; then the prompt
// editor.
func (m *Model) onChatKey(msg tea.KeyPressMsg) tea.Cmd {
	if key.Matches(msg, m.keys.Cancel) {
		if m.streaming() {
			return m.stopStreams()
		}
		return m.onIdleCancel()
	}
	if m.cmp != nil && m.onCompareKey(msg) {
		return nil
	}
	if cmd, ok := m.onViewKey(msg); ok {
		return cmd
	}
	return m.onInputKey(msg)
}

// stopStreams is ctrl+c while answers stream: every one stops, keeping
// what arrived.
func (m *Model) stopStreams() tea.Cmd {
	for _, p := range m.panes {
		p.cancel(m.rc(p))
	}
	m.setFlash("stopped — the partial answer is kept", true)
	return nil
}

// onIdleCancel is ctrl+c with nothing streaming: it stops the background
// commands, else clears the input, else quits.
func (m *Model) onIdleCancel() tea.Cmd {
	if stopped := m.cancelTasks(); len(stopped) > 0 {
		m.setFlash("stopping: "+strings.Join(stopped, ", "), true)
		return nil
	}
	if m.in.Value() != "" {
		m.in.Reset()
		m.layout()
		return nil
	}
	return m.quit()
}

// onViewKey handles the keys that act on the transcript and the screen
// rather than the prompt, and reports whether msg was one. Home, End and
// ? act on the transcript only while the input is empty.
func (m *Model) onViewKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k, p := m.keys, m.focused()
	empty := m.in.Value() == ""
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit(), true
	case key.Matches(msg, k.PageUp):
		m.scroll(max(p.height-2, 1))
	case key.Matches(msg, k.PageDown):
		m.scroll(-max(p.height-2, 1))
	case key.Matches(msg, k.Top) && (empty || msg.String() == "ctrl+home"):
		m.scroll(1 << 30)
	case key.Matches(msg, k.Bottom) && (empty || msg.String() == "ctrl+end"):
		for _, q := range m.scrolled() {
			q.scrollToBottom(m.rc(q))
		}
		m.dirty = true
	case key.Matches(msg, k.ToggleThought):
		if !p.toggleReasoning(m.rc(p)) {
			m.setFlash("no reasoning to show", false)
		}
		m.dirty = true
	case key.Matches(msg, k.HideThoughts):
		m.toggleHideReasoning()
	case key.Matches(msg, k.CopyBlock):
		return m.copyBlock(0), true
	case key.Matches(msg, k.CopyAnswer):
		return m.copyAnswer(), true
	case key.Matches(msg, k.Help) && (empty || msg.String() == "f1"):
		m.openOverlay(&helpOverlay{})
	case key.Matches(msg, k.Close):
		m.cancelFocused()
	default:
		return nil, false
	}
	return nil, true
}

// onInputKey handles the keys of the prompt editor: send, new line,
// completion, history, the external editor, and plain editing.
func (m *Model) onInputKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	switch {
	case key.Matches(msg, k.Send):
		return m.submitInput()
	case key.Matches(msg, k.Newline):
		m.in.InsertNewline()
	case key.Matches(msg, k.Complete):
		return m.complete()
	case key.Matches(msg, k.HistoryPrev) && m.in.Prev():
	case key.Matches(msg, k.HistoryNext) && m.in.Next():
	case key.Matches(msg, k.Editor):
		return m.openEditor()
	default:
		cmd := m.in.Update(msg)
		m.layout()
		return cmd
	}
	m.layout()
	return nil
}

// complete is tab: it completes a command or a model name; after /model it
// also asks the gateway for its models, once.
func (m *Model) complete() tea.Cmd {
	var cmd tea.Cmd
	if name, _, ok := strings.Cut(m.in.Value(), " "); ok && strings.ToLower(name) == "/model" &&
		!m.modelsFetched && !m.modelsFailed {
		cmd = m.fetchModels() // the completion line gains the gateway's models when they arrive
	}
	if out, ok := complete(m.in.Value(), m.models); ok {
		m.in.SetValue(out)
		m.layout()
	}
	return cmd
}

// toggleHideReasoning is alt+t: reasoning hidden or shown in every pane.
func (m *Model) toggleHideReasoning() {
	m.hide = !m.hide
	for _, p := range m.panes {
		p.rerender(m.rc(p))
	}
	if m.hide {
		m.setFlash("reasoning hidden (alt+t shows it)", false)
	} else {
		m.setFlash("reasoning shown", false)
	}
}

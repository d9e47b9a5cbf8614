package ui

import (
	"strings"
	"time"

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
	if m.replay != nil {
		return m.onReplayKey(msg)
	}
	return m.onChatKey(msg)
}

// onChatKey handles a key no overlay used: ctrl+c and esc, which depend
// on what is running; then the keys that act on the transcript; then the
// prompt editor.
func (m *Model) onChatKey(msg tea.KeyPressMsg) tea.Cmd {
	if key.Matches(msg, m.keys.Cancel) {
		if m.streaming() || m.toolsBusy() {
			return m.stopStreams()
		}
		return m.onIdleCancel()
	}
	if key.Matches(msg, m.keys.Close) {
		m.onEsc()
		return nil
	}
	if m.cmp != nil {
		if cmd, ok := m.onCompareKey(msg); ok {
			return cmd
		}
	}
	if cmd, ok := m.onViewKey(msg); ok {
		return cmd
	}
	return m.onInputKey(msg)
}

// stopStreams is ctrl+c while answers stream: every one stops, keeping
// what arrived, and a prompt waiting for them goes back to the editor.
// It never counts toward quitting.
func (m *Model) stopStreams() tea.Cmd {
	for _, p := range m.panes {
		p.cancel(m.rc(p))
	}
	m.quitArmed = time.Time{}
	m.unqueue("stopped: your next prompt is back in the input")
	if m.stopTools() {
		m.setFlash("stopped — the tools were cancelled", true)
		return nil
	}
	m.setFlash("stopped — the partial answer is kept", true)
	return nil
}

// onEsc is esc with no overlay open: it takes a waiting prompt back into
// the editor; else it stops the focused pane's answer or its tool.
func (m *Model) onEsc() {
	if m.queued != nil {
		m.unqueue("")
		m.setFlash("your next prompt is back in the input", false)
		return
	}
	if p := m.focused(); m.cancelFocused() {
		return
	} else if m.stopPaneTools(p) {
		m.setFlash("tool stopped", true)
	}
}

// quitWindow is how long a first ctrl+c on an idle chat waits for the
// second that quits.
const quitWindow = 2 * time.Second

// onIdleCancel is ctrl+c with nothing streaming: it stops the background
// commands, else clears the input, else asks for a second ctrl+c within
// quitWindow, and quits on that one.
func (m *Model) onIdleCancel() tea.Cmd {
	if stopped := m.cancelTasks(); len(stopped) > 0 {
		m.setFlash("stopping: "+strings.Join(stopped, ", "), true)
		return nil
	}
	if !m.in.Empty() {
		m.in.Reset()
		m.layout()
		return nil
	}
	now := m.now()
	if !m.quitArmed.IsZero() && now.Before(m.quitArmed) {
		return m.quit()
	}
	m.quitArmed = now.Add(quitWindow)
	m.setFlashFor("press ctrl+c again to quit (or ctrl+d, /quit)", true, quitWindow)
	return nil
}

// onViewKey handles the keys that act on the transcript and the screen
// rather than the prompt, and reports whether msg was one. Home, End, ?,
// ctrl+d, alt+←/→ and (without mouse reporting) ↑/↓ act on the transcript
// only while the input is empty.
func (m *Model) onViewKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k, p := m.keys, m.focused()
	empty := m.in.Empty()
	switch {
	case key.Matches(msg, k.Quit) && empty:
		return m.quit(), true
	case key.Matches(msg, k.PageUp):
		m.scroll(max(p.height-2, 1))
	case key.Matches(msg, k.PageDown):
		m.scroll(-max(p.height-2, 1))
	case key.Matches(msg, k.LineUp) && empty && !m.opts.Mouse:
		m.scroll(1) // the mouse wheel, through the terminal's alternate scroll mode
	case key.Matches(msg, k.LineDown) && empty && !m.opts.Mouse:
		m.scroll(-1)
	case key.Matches(msg, k.Top) && (empty || msg.String() == "ctrl+home"):
		m.scroll(1 << 30)
	case key.Matches(msg, k.Bottom) && (empty || msg.String() == "ctrl+end"):
		for _, q := range m.scrolled() {
			q.scrollToBottom(m.rc(q))
		}
		m.dirty = true
	case key.Matches(msg, k.ScrollRight) && empty:
		p.scrollSideways(max(p.width/2, 1), m.rc(p))
		m.dirty = true
	case key.Matches(msg, k.ScrollLeft) && empty:
		p.scrollSideways(-max(p.width/2, 1), m.rc(p))
		m.dirty = true
	case key.Matches(msg, k.ToggleThought):
		if !p.toggleReasoning(m.rc(p)) {
			m.setFlash("no reasoning to show", false)
		}
		m.dirty = true
	case key.Matches(msg, k.TogglePaste):
		if !p.togglePaste(m.rc(p)) {
			m.setFlash("no folded paste to show", false)
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
	case key.Matches(msg, toolKeys.Expand):
		m.toggleToolResults()
	case key.Matches(msg, k.Sessions):
		return m.openBrowser(), true
	case key.Matches(msg, k.PrevAnswer, k.NextAnswer) && empty:
		m.pageAnswers(key.Matches(msg, k.NextAnswer))
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

package ui

import tea "charm.land/bubbletea/v2"

// overlay is a view that opens over the transcripts and takes the keys
// while it is on top: the help today; a tool-approval prompt, a session
// browser or replay controls are overlays too. Adding one is a file with
// a type that implements overlay, and one line that opens it with
// Model.openOverlay (a key or a slash command). Overlays stack: the last
// opened is drawn and gets the keys. An overlay is used from the Bubble
// Tea goroutine only.
type overlay interface {
	// key reacts to a key pressed while the overlay is on top.
	key(m *Model, msg tea.KeyPressMsg) overlayKey
	// view draws the overlay in width×height cells (the transcript
	// area); lines longer than width are cut.
	view(m *Model, width, height int) string
}

// overlayKey is what an overlay did with a key.
type overlayKey struct {
	cmd   tea.Cmd
	close bool // the overlay closes
	pass  bool // the key was not the overlay's: the chat below handles it too (cmd still runs)
}

// openOverlay puts o on top of the screen.
func (m *Model) openOverlay(o overlay) {
	m.overlays = append(m.overlays, o)
	m.dirty = true
}

// topOverlay is the overlay on top, or nil.
func (m *Model) topOverlay() overlay {
	if len(m.overlays) == 0 {
		return nil
	}
	return m.overlays[len(m.overlays)-1]
}

// onOverlayKey gives a key to the overlay on top and reports whether the
// key was used up.
func (m *Model) onOverlayKey(o overlay, msg tea.KeyPressMsg) (tea.Cmd, bool) {
	r := o.key(m, msg)
	if r.close {
		m.overlays = m.overlays[:len(m.overlays)-1]
		m.dirty = true
	}
	return r.cmd, !r.pass
}

package ui

import (
	"io"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// modeAltScroll is the terminal's alternate scroll mode (DECSET 1007):
// while the alternate screen shows and the mouse is not reported, the
// terminal turns the mouse wheel into ↑ and ↓ keys.
const modeAltScroll = ansi.DECMode(1007)

// termModes are the terminal modes the chat sets beyond Bubble Tea's own.
// Without mouse reporting (the default, so that a plain drag selects text
// as in any terminal program) the chat turns the terminal's alternate
// scroll mode on, so the wheel still scrolls; it asks the terminal first
// whether the mode was on, and turns it off again on the way out only if
// it was off. Bubble Tea v2.0.10 has no option for the mode: the chat
// writes the sequences itself (tea.Raw).
type termModes struct {
	altScroll bool // the chat turned alternate scroll on
	wasOff    bool // the terminal reported the mode off before
}

// init returns the command that sets the modes up at start.
func (t *termModes) init(mouse bool) tea.Cmd {
	if mouse {
		return nil
	}
	t.altScroll = true
	// The terminal answers the request before it applies the change
	// written after it.
	return tea.Sequence(tea.Raw(ansi.RequestMode(modeAltScroll)), tea.Raw(ansi.SetMode(modeAltScroll)))
}

// onReport records the terminal's answer about the mode's prior state.
func (t *termModes) onReport(msg tea.ModeReportMsg) {
	if msg.Mode == modeAltScroll && msg.Value.IsReset() {
		t.wasOff = true
	}
}

// restoreSeq is what puts the terminal's modes back as they were, or "".
func (t *termModes) restoreSeq() string {
	if t.altScroll && t.wasOff {
		return ansi.ResetMode(modeAltScroll)
	}
	return ""
}

// restore writes restoreSeq to w once the program has ended.
func (t *termModes) restore(w io.Writer) {
	if seq := t.restoreSeq(); seq != "" {
		_, _ = io.WriteString(w, seq)
	}
}

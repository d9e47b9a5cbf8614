package ui

import (
	"os"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/parley-chat/parley/imagefile"
	"github.com/parley-chat/parley/sanitize"
)

// helpOverlay shows every key and slash command (see helpView), scrolled
// with ↑/↓ when the terminal is too small for the box.
type helpOverlay struct {
	offset int // first line shown when the help must scroll
	max    int // the largest useful offset at the last drawn size
}

// key closes the help on esc, ?, f1 or q and scrolls it; ctrl+c and
// ctrl+d close it and then act on the chat as usual. Every other key is
// swallowed.
func (h *helpOverlay) key(m *Model, msg tea.KeyPressMsg) overlayKey {
	k := m.keys
	switch {
	case key.Matches(msg, k.Close, k.Help), msg.String() == "q":
		return overlayKey{close: true}
	case key.Matches(msg, k.Cancel, k.Quit):
		return overlayKey{close: true, pass: true}
	}
	switch msg.String() {
	case "up", "k":
		h.offset--
	case "down", "j":
		h.offset++
	case "pgup":
		h.offset -= 10
	case "pgdown":
		h.offset += 10
	default:
		return overlayKey{}
	}
	h.offset = min(max(h.offset, 0), h.max)
	m.dirty = true
	return overlayKey{}
}

func (h *helpOverlay) view(m *Model, width, height int) string {
	v, maxOffset := helpView(m.keys, m.th, m.imageDirText(), width, height, h.offset)
	h.max = maxOffset
	return v
}

// imageDirText says where /image saves on this machine, short enough for
// the help overlay: a long folder keeps its end ("…/images/parley").
func (m *Model) imageDirText() string {
	d := imagefile.DescribeDir(m.opts.ImageDir, os.Getenv)
	if strings.HasPrefix(d, "the current directory") {
		return "the current directory"
	}
	if ansi.StringWidth(d) > 24 {
		d = ansi.TruncateLeft(d, ansi.StringWidth(d)-23, "…")
	}
	return sanitize.Line(d)
}

package ui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/parley-chat/parley/sanitize"
	"github.com/parley-chat/parley/textdiff"
)

// The diff overlay: d on an empty input in a comparison shows, word by
// word, how the focused column's last answer and another column's differ.
// Removed words are struck through in the theme's colour, added ones
// underlined; without colours (NO_COLOR, the ascii theme) they are marked
// [-so-] and {+so+}. The diff runs off the Update goroutine, within
// textdiff's budget: past it the answers are compared line by line, and
// past that the overlay says they are too large.

// diffReadyMsg brings a finished diff to the overlay that asked for it.
type diffReadyMsg struct {
	o   *diffOverlay
	gen int
	res textdiff.Result
	err error
}

// diffOverlay shows the diff of column a's answer (the old side) and
// column b's (the new side).
type diffOverlay struct {
	a, b  int // columns, from 0
	gen   int // the diff asked for last; older results are dropped
	ready bool
	res   textdiff.Result
	err   error

	deleted, inserted int

	// The body laid out for width (cached), and the scroll position.
	width  int
	lines  []string
	offset int
	max    int
}

// answered are the columns whose last answer has ended with some text.
func (m *Model) answered() []int {
	var out []int
	for i, p := range m.panes {
		if t := p.chat.Turn(); t != nil && t.Finished() && t.Text() != "" {
			out = append(out, i)
		}
	}
	return out
}

// openDiff is d: the diff of the focused column's answer and the next
// column's that has one.
func (m *Model) openDiff() tea.Cmd {
	done := m.answered()
	if len(done) < 2 {
		m.setFlash("the diff (d) needs two columns with a finished answer", true)
		return nil
	}
	a := done[0]
	for _, i := range done {
		if i == m.focus {
			a = i
		}
	}
	o := &diffOverlay{a: a, b: -1}
	o.b = o.other(done, 1)
	m.openOverlay(o)
	return o.start(m)
}

// other is the next answered column after b (or a, when b is unset) in
// direction d, never a.
func (o *diffOverlay) other(done []int, d int) int {
	cur := o.b
	if cur < 0 {
		cur = o.a
	}
	n := len(done)
	at := 0
	for i, c := range done {
		if c == cur {
			at = i
		}
	}
	for step := 1; step <= n; step++ {
		if c := done[((at+d*step)%n+n)%n]; c != o.a {
			return c
		}
	}
	return cur
}

// start computes the diff of the two columns' answers in the background.
func (o *diffOverlay) start(m *Model) tea.Cmd {
	o.gen++
	o.ready, o.err, o.lines, o.offset = false, nil, nil, 0
	gen := o.gen
	ta := sanitize.Text(m.panes[o.a].chat.Turn().Text())
	tb := sanitize.Text(m.panes[o.b].chat.Turn().Text())
	m.dirty = true
	return func() tea.Msg {
		res, err := textdiff.Diff(ta, tb, textdiff.DefaultBudget)
		return diffReadyMsg{o: o, gen: gen, res: res, err: err}
	}
}

// onResultMsg handles the messages of a comparison's results.
func (m *Model) onResultMsg(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case pickSavedMsg:
		m.onPickSaved(msg)
	case diffReadyMsg:
		o := msg.o
		if msg.gen != o.gen {
			return nil
		}
		o.ready, o.res, o.err, o.width = true, msg.res, msg.err, 0
		o.deleted, o.inserted = textdiff.Stats(msg.res.Ops)
		m.dirty = true
	}
	return nil
}

// key scrolls the diff, switches the other column (←/→, tab) and closes
// on esc or d. A key that types text closes the diff and goes to the
// prompt after the d that opened it, so typing a prompt that starts with
// d loses nothing.
func (o *diffOverlay) key(m *Model, msg tea.KeyPressMsg) overlayKey {
	page := max(m.focused().height-3, 1)
	if m.cmp != nil {
		page = max(m.cmp.area-3, 1)
	}
	switch s := msg.String(); s {
	case "esc", "d":
		return overlayKey{close: true}
	case "ctrl+c", "ctrl+d":
		return overlayKey{close: true, pass: true}
	case "up":
		o.offset--
	case "down":
		o.offset++
	case "pgup":
		o.offset -= page
	case "pgdown", "space":
		o.offset += page
	case "home":
		o.offset = 0
	case "end":
		o.offset = o.max
	case "right", "tab", "left", "shift+tab":
		d := 1
		if s == "left" || s == "shift+tab" {
			d = -1
		}
		if b := o.other(m.answered(), d); b != o.b {
			o.b = b
			return overlayKey{cmd: o.start(m)}
		}
		return overlayKey{}
	default:
		if msg.Text != "" {
			m.in.SetValue("d")
			return overlayKey{close: true, pass: true}
		}
		return overlayKey{}
	}
	o.offset = min(max(o.offset, 0), o.max)
	m.dirty = true
	return overlayKey{}
}

func (o *diffOverlay) view(m *Model, width, height int) string {
	th := m.th
	head := fmt.Sprintf("diff · column %d (%s) → column %d (%s)", o.a+1, sanitize.Line(m.columnName(o.a)),
		o.b+1, sanitize.Line(m.columnName(o.b)))
	var lines []string
	switch {
	case !o.ready:
		lines = []string{th.Dim.Render("comparing…")}
	case o.err != nil:
		lines = []string{th.StatusWarn.Render(fmt.Sprintf("the answers are too large or too different to compare (over %d words, or too much work)",
			textdiff.DefaultBudget.MaxTokens))}
	default:
		if len(o.res.Ops) <= 1 && (len(o.res.Ops) == 0 || o.res.Ops[0].Kind == textdiff.Equal) {
			head += " · the same words"
		} else {
			head += fmt.Sprintf(" · %d words removed, %d added", o.deleted, o.inserted)
		}
		if o.res.Unit == textdiff.Lines {
			head += " · compared line by line (too long for words)"
		}
		if o.width != width {
			o.width, o.lines = width, diffLines(o.res.Ops, width, th.Color, th.DiffDelete, th.DiffInsert)
		}
		lines = o.lines
	}
	view := max(height-2, 1)
	o.max = max(len(lines)-view, 0)
	o.offset = min(o.offset, o.max)
	shown := lines[o.offset:min(o.offset+view, len(lines))]
	hint := "←→ other column · ↑↓ pgup pgdn scroll · esc closes"
	if len(lines) > view {
		hint = fmt.Sprintf("%s (%d–%d of %d)", hint, o.offset+1, o.offset+len(shown), len(lines))
	}
	var b strings.Builder
	b.WriteString(th.Accent.Render(ansi.Truncate(head, width, "…")))
	b.WriteByte('\n')
	for _, l := range shown {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	for i := len(shown); i < view; i++ {
		b.WriteByte('\n')
	}
	b.WriteString(th.Dim.Render(ansi.Truncate(hint, width, "…")))
	return b.String()
}

// diffLines lays the diff out in lines of width cells: the new side's
// text with removed words struck through (del) and added ones underlined
// (ins), each also marked [-…-] / {+…+} when there are no colours. A
// replaced word is followed by its replacement after a space.
func diffLines(ops []textdiff.Op, width int, color bool, del, ins lipgloss.Style) []string {
	var b strings.Builder
	mark := func(text, open, close string, st lipgloss.Style) {
		for i, piece := range strings.Split(text, "\n") {
			if i > 0 {
				b.WriteByte('\n')
			}
			core := strings.TrimRight(piece, " \t")
			if core == "" {
				b.WriteString(piece)
				continue
			}
			if !color {
				core = open + core + close
			}
			b.WriteString(st.Render(core))
			b.WriteString(piece[len(strings.TrimRight(piece, " \t")):])
		}
	}
	for i, op := range ops {
		switch op.Kind {
		case textdiff.Equal:
			b.WriteString(op.B)
		case textdiff.Delete:
			mark(op.A, "[-", "-]", del)
			if i+1 < len(ops) && ops[i+1].Kind == textdiff.Insert && strings.TrimRight(op.A, " \t\n") == op.A {
				b.WriteByte(' ') // "old new", not "oldnew"
			}
		case textdiff.Insert:
			mark(op.B, "{+", "+}", ins)
		}
	}
	text := strings.ReplaceAll(b.String(), "\t", "    ")
	var out []string
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		out = append(out, strings.Split(ansi.Wrap(l, max(width, 1), " "), "\n")...)
	}
	return out
}

package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/parley-chat/parley/themes"
)

// keyMap holds every key the chat reacts to beyond plain text editing.
type keyMap struct {
	Send          key.Binding
	Newline       key.Binding
	HistoryPrev   key.Binding
	HistoryNext   key.Binding
	Complete      key.Binding
	Editor        key.Binding
	Cancel        key.Binding
	Quit          key.Binding
	PageUp        key.Binding
	PageDown      key.Binding
	LineUp        key.Binding
	LineDown      key.Binding
	Top           key.Binding
	Bottom        key.Binding
	ScrollLeft    key.Binding
	ScrollRight   key.Binding
	ToggleThought key.Binding
	HideThoughts  key.Binding
	TogglePaste   key.Binding
	CopyBlock     key.Binding
	CopyAnswer    key.Binding
	Help          key.Binding
	Close         key.Binding
	Sessions      key.Binding
	PrevAnswer    key.Binding
	NextAnswer    key.Binding

	// mouse is set when the chat reports the mouse (mouse = true): the
	// wheel then arrives as wheel events and ↑/↓ recall prompts; without
	// it the terminal turns the wheel into ↑/↓, which scroll.
	mouse bool
}

func defaultKeys(mouse bool) keyMap {
	return keyMap{
		Send:          key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "send the prompt")),
		Newline:       key.NewBinding(key.WithKeys("alt+enter", "ctrl+j"), key.WithHelp("alt+enter / ctrl+j", "new line")),
		HistoryPrev:   key.NewBinding(key.WithKeys("ctrl+p", "up"), key.WithHelp("ctrl+p", "earlier prompts")),
		HistoryNext:   key.NewBinding(key.WithKeys("ctrl+n", "down"), key.WithHelp("ctrl+n", "later prompts while recalling")),
		Complete:      key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "complete a /command or model")),
		Editor:        key.NewBinding(key.WithKeys("ctrl+o"), key.WithHelp("ctrl+o", "edit the prompt in $EDITOR")),
		Cancel:        key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "stop every answer; twice on an idle chat quits")),
		Quit:          key.NewBinding(key.WithKeys("ctrl+d"), key.WithHelp("ctrl+d (empty input)", "quit")),
		PageUp:        key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup / wheel", "scroll up")),
		PageDown:      key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn / wheel", "scroll down")),
		LineUp:        key.NewBinding(key.WithKeys("up"), key.WithHelp("↑ (empty input)", "scroll up a line")),
		LineDown:      key.NewBinding(key.WithKeys("down"), key.WithHelp("↓ (empty input)", "scroll down a line")),
		Top:           key.NewBinding(key.WithKeys("home", "ctrl+home"), key.WithHelp("home (empty input)", "top of the transcript")),
		Bottom:        key.NewBinding(key.WithKeys("end", "ctrl+end"), key.WithHelp("end (empty input)", "bottom; follow new output")),
		ScrollLeft:    key.NewBinding(key.WithKeys("alt+left"), key.WithHelp("alt+← (empty input)", "scroll cut lines back")),
		ScrollRight:   key.NewBinding(key.WithKeys("alt+right"), key.WithHelp("alt+→ (empty input)", "scroll cut lines (marked →) sideways")),
		ToggleThought: key.NewBinding(key.WithKeys("ctrl+t"), key.WithHelp("ctrl+t", "expand / collapse the last reasoning")),
		HideThoughts:  key.NewBinding(key.WithKeys("alt+t"), key.WithHelp("alt+t", "hide / show reasoning entirely")),
		TogglePaste:   key.NewBinding(key.WithKeys("alt+p"), key.WithHelp("alt+p", "unfold / fold the last pasted text")),
		CopyBlock:     key.NewBinding(key.WithKeys("ctrl+y"), key.WithHelp("ctrl+y", "copy the last code block")),
		CopyAnswer:    key.NewBinding(key.WithKeys("alt+y"), key.WithHelp("alt+y", "copy the last answer")),
		Help:          key.NewBinding(key.WithKeys("f1", "?"), key.WithHelp("? (empty input) / f1", "this help")),
		Close:         key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "stop the answer; take back a queued prompt; close help")),
		Sessions:      key.NewBinding(key.WithKeys("ctrl+r"), key.WithHelp("ctrl+r", "browse the saved conversations")),
		PrevAnswer:    key.NewBinding(key.WithKeys("["), key.WithHelp("[ (empty input)", "the last answer's earlier alternative")),
		NextAnswer:    key.NewBinding(key.WithKeys("]"), key.WithHelp("] (empty input)", "the last answer's later alternative")),
		mouse:         mouse,
	}
}

// all lists the bindings in the order the help overlay shows them.
func (k keyMap) all() []key.Binding {
	return []key.Binding{k.Send, k.Newline, k.HistoryPrev, k.HistoryNext, k.Complete, k.Editor,
		k.Cancel, k.Quit, k.PageUp, k.PageDown, k.LineUp, k.LineDown, k.Top, k.Bottom, k.ScrollLeft,
		k.ScrollRight, k.ToggleThought, k.HideThoughts, k.TogglePaste, k.CopyBlock, k.CopyAnswer, k.Help, k.Close, k.Sessions, k.PrevAnswer, k.NextAnswer}
}

// helpRows is the key column of the help overlay: related bindings share
// a row so the overlay fits a 24-line terminal.
func (k keyMap) helpRows() [][2]string {
	history := [2]string{"ctrl+p ctrl+n", "earlier / later prompts"}
	scroll := [2]string{"pgup pgdn ↑ ↓ wheel", "scroll (↑ ↓ on an empty input)"}
	if k.mouse {
		history = [2]string{"↑ ↓ (empty input)", "earlier / later prompts"}
		scroll = [2]string{"pgup pgdn · wheel", "scroll"}
	}
	return [][2]string{
		{"enter · alt+enter ctrl+j", "send (queued while streaming) · new line"},
		history,
		{"tab · shift+tab · ctrl+o", "complete · compare: focus · $EDITOR"},
		{"esc", "stop the answer · take back a queued prompt"},
		{"ctrl+c · ctrl+d · ctrl+r", "stop all (twice: quit) · quit · saved chats"},
		scroll,
		{"home end · [ ] (empty)", "top · bottom (follows output) · retried answers"},
		{"alt+← alt+→ (empty)", "scroll lines cut at the edge (→) sideways"},
		{"ctrl+t · alt+t · alt+r", "fold reasoning · hide it · fold tool results"},
		{"alt+p · ctrl+y · alt+y", "unfold the paste · copy the code · the answer"},
	}
}

// helpView renders the help overlay: every key, then the slash commands,
// side by side when the terminal is wide enough, in a box centred in
// width×height. When the box cannot fit, the same text is laid out for
// the width without the box and shown from line offset, with a scroll
// hint on the last line. It also returns the largest useful offset.
func helpView(k keyMap, th *themes.Theme, imageDir string, width, height, offset int) (string, int) {
	keys := table(th, "Keys · ? f1 /help open this help · esc closes it", k.helpRows())
	cmdTable := table(th, "Commands", commandHelpRows(imageDir))
	var body string
	if lipgloss.Width(keys)+lipgloss.Width(cmdTable)+8 <= width {
		body = lipgloss.JoinHorizontal(lipgloss.Top, keys, "    ", cmdTable)
	} else {
		body = keys + "\n" + cmdTable
	}
	border := lipgloss.RoundedBorder()
	if !th.Color {
		border = lipgloss.ASCIIBorder()
	}
	box := lipgloss.NewStyle().Border(border).BorderForeground(th.HelpBorder.GetForeground()).
		Padding(0, 1).Render(body)
	if lipgloss.Width(box) <= width && lipgloss.Height(box) <= height {
		return lipgloss.Place(width, height, lipgloss.Center, lipgloss.Center, box), 0
	}
	// Too small for the box: a plain list, each description under its key
	// when side by side does not fit, scrolled with ↑/↓.
	var lines []string
	add := func(title string, rows [][2]string) {
		lines = append(lines, th.Accent.Render(title))
		for _, r := range rows {
			if line := r[0] + "  " + r[1]; ansi.StringWidth(line) <= width {
				lines = append(lines, th.Accent.Render(r[0])+"  "+r[1])
				continue
			}
			lines = append(lines, th.Accent.Render(r[0]))
			for _, l := range strings.Split(ansi.Wrap(r[1], max(width-2, 1), " "), "\n") {
				lines = append(lines, "  "+l)
			}
		}
	}
	add("Keys", k.helpRows())
	add("Commands", commandHelpRows(imageDir))
	view := max(height-1, 1)
	maxOffset := max(len(lines)-view, 0)
	offset = min(max(offset, 0), maxOffset)
	shown := lines[offset:min(offset+view, len(lines))]
	hint := fmt.Sprintf("↑↓ scroll · esc closes (%d–%d of %d)", offset+1, offset+len(shown), len(lines))
	return strings.Join(shown, "\n") + "\n" + th.Dim.Render(ansi.Truncate(hint, width, "…")), maxOffset
}

// table renders rows of (key, description) under a title.
func table(th *themes.Theme, title string, rows [][2]string) string {
	kw := 0
	for _, r := range rows {
		kw = max(kw, ansi.StringWidth(r[0]))
	}
	var b strings.Builder
	b.WriteString(th.Accent.Render(title))
	for _, r := range rows {
		b.WriteByte('\n')
		b.WriteString(th.Accent.Render(r[0] + strings.Repeat(" ", kw-ansi.StringWidth(r[0]))))
		b.WriteString("  " + r[1])
	}
	return b.String()
}

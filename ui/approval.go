package ui

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/parley-chat/parley/sanitize"
	"github.com/parley-chat/parley/session"
)

// maxArgLines bounds the arguments shown per call; e shows them all.
const maxArgLines = 14

// approvalOverlay is the one prompt for the calls of an answer that no
// rule allows yet: every call with its tool, its source and its
// arguments, pretty-printed and sanitized. The keys decide the selected
// call: y allow once, s allow for this session, a always allow (saved),
// n deny (then an optional reason), e edit the arguments in $EDITOR;
// ↑/↓ select another call. When every call is decided the decisions go
// to the pane's tool loop. Esc cancels: no call runs, and the model is
// not asked to go on.
type approvalOverlay struct {
	pane      PaneID
	req       session.ApprovalRequest
	decisions []*session.Decision // nil: not decided yet
	args      []string            // the arguments each call will run with
	sel       int
	reason    *lineEdit // typing a denial's reason
	note      string    // a message for the user (an edit that did not validate)
	editing   bool      // $EDITOR is open
}

func newApprovalOverlay(pane PaneID, req session.ApprovalRequest) *approvalOverlay {
	o := &approvalOverlay{pane: pane, req: req, decisions: make([]*session.Decision, len(req.Calls))}
	for _, c := range req.Calls {
		o.args = append(o.args, c.Call.Arguments)
	}
	return o
}

func (o *approvalOverlay) key(m *Model, msg tea.KeyPressMsg) overlayKey {
	if o.editing {
		return overlayKey{}
	}
	if o.reason != nil {
		switch msg.String() {
		case "enter":
			o.decide(session.Decision{Allow: false, Reason: strings.TrimSpace(o.reason.text)})
			o.reason = nil
			return o.next(m)
		case "esc":
			o.reason = nil
		default:
			o.reason.key(msg)
		}
		m.dirty = true
		return overlayKey{}
	}
	o.note = ""
	switch msg.String() {
	case "y", "Y":
		o.decide(session.Decision{Allow: true, Scope: session.AllowOnce})
	case "s", "S":
		o.decide(session.Decision{Allow: true, Scope: session.AllowSession})
	case "a", "A":
		o.decide(session.Decision{Allow: true, Scope: session.AllowAlways})
	case "n", "N":
		o.reason = &lineEdit{}
		m.dirty = true
		return overlayKey{}
	case "e", "E":
		o.editing = true
		m.dirty = true
		return overlayKey{cmd: o.edit()}
	case "up", "k", "shift+tab":
		o.sel = (o.sel + len(o.decisions) - 1) % len(o.decisions)
		m.dirty = true
		return overlayKey{}
	case "down", "j", "tab":
		o.sel = (o.sel + 1) % len(o.decisions)
		m.dirty = true
		return overlayKey{}
	case "esc":
		m.closeToolOverlays(o.pane)
		if p := m.pane(o.pane); p != nil {
			return overlayKey{cmd: m.applyLoop(p, p.loop.Cancel())}
		}
		return overlayKey{}
	case "ctrl+c", "ctrl+d":
		return overlayKey{pass: true} // stop everything (this prompt included), or quit
	default:
		return overlayKey{}
	}
	return o.next(m)
}

// decide records d for the selected call, with its (possibly edited)
// arguments.
func (o *approvalOverlay) decide(d session.Decision) {
	if d.Allow && o.args[o.sel] != o.req.Calls[o.sel].Call.Arguments {
		d.Arguments = o.args[o.sel]
	}
	o.decisions[o.sel] = &d
}

// next selects the next undecided call, or, when every call is decided,
// closes the prompt and hands the decisions to the loop.
func (o *approvalOverlay) next(m *Model) overlayKey {
	m.dirty = true
	for i := 1; i <= len(o.decisions); i++ {
		j := (o.sel + i) % len(o.decisions)
		if o.decisions[j] == nil {
			o.sel = j
			return overlayKey{}
		}
	}
	ds := make([]session.Decision, len(o.decisions))
	for i, d := range o.decisions {
		ds[i] = *d
	}
	return overlayKey{close: true, cmd: m.decide(o.pane, o.req, ds)}
}

// edit opens the selected call's arguments, pretty-printed, in $EDITOR:
// a command writes them to a temporary file (no I/O in Update), the
// editor runs with the terminal, another command reads the file back.
func (o *approvalOverlay) edit() tea.Cmd {
	id, text, pane := o.req.Calls[o.sel].Call.ID, prettyArgs(o.args[o.sel]), o.pane
	return func() tea.Msg {
		f, err := os.CreateTemp("", "parley-args-*.json")
		if err != nil {
			return argsEditedMsg{pane: pane, id: id, err: err}
		}
		_, err = f.WriteString(text + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			_ = os.Remove(f.Name())
			return argsEditedMsg{pane: pane, id: id, err: err}
		}
		return argsFileMsg{pane: pane, id: id, path: f.Name()}
	}
}

// onArgsFile runs the editor on the arguments' file, then reads it back.
func (m *Model) onArgsFile(msg argsFileMsg) tea.Cmd {
	args := strings.Fields(editorCommand())
	c := exec.Command(args[0], append(args[1:], msg.path)...)
	return tea.ExecProcess(c, func(err error) tea.Msg {
		return argsFileMsg{pane: msg.pane, id: msg.id, path: msg.path, closed: true, err: err}
	})
}

// readArgsFile reads the edited arguments back and removes the file.
func readArgsFile(msg argsFileMsg) tea.Cmd {
	return func() tea.Msg {
		b, err := os.ReadFile(msg.path)
		_ = os.Remove(msg.path)
		if msg.err != nil {
			err = msg.err
		}
		return argsEditedMsg{pane: msg.pane, id: msg.id, text: string(b), err: err}
	}
}

// edited takes arguments back from $EDITOR: they must be a JSON object
// that matches the tool's parameters, or the call keeps its arguments and
// the prompt says why.
func (o *approvalOverlay) edited(m *Model, msg argsEditedMsg) {
	o.editing = false
	i := -1
	for j, c := range o.req.Calls {
		if c.Call.ID == msg.id {
			i = j
		}
	}
	if i < 0 {
		return
	}
	if msg.err != nil {
		o.note = "editor: " + msg.err.Error() + " — arguments unchanged"
		return
	}
	var v any
	if err := json.Unmarshal([]byte(msg.text), &v); err != nil {
		o.note = "not JSON: " + err.Error() + " — arguments unchanged"
		return
	}
	compact, _ := json.Marshal(v)
	if reg := m.registry(); reg != nil {
		if err := reg.Validate(o.req.Calls[i].Call.Name, string(compact)); err != nil {
			o.note = "the edit does not match the tool's parameters: " + err.Error() + " — arguments unchanged"
			return
		}
	}
	o.args[i] = string(compact)
	o.note = "arguments edited — y, s or a runs the call with them"
}

func (o *approvalOverlay) view(m *Model, width, height int) string {
	th := m.th
	inner := max(width-4, 10)
	var b strings.Builder
	n := len(o.req.Calls)
	title := "The model wants to run a tool"
	if n > 1 {
		title = fmt.Sprintf("The model wants to run %d tools", n)
	}
	b.WriteString(th.Accent.Render(title))
	for i, c := range o.req.Calls {
		b.WriteString("\n\n")
		marker := "  "
		if i == o.sel && n > 1 {
			marker = "▸ "
		}
		head := marker + th.AssistantLabel.Render(sanitize.Line(c.Tool.Name))
		if src := sanitize.Line(c.Tool.Source); src != "" {
			head += th.Dim.Render(" · " + src)
		}
		if d := o.decisions[i]; d != nil {
			head += "  " + decisionText(*d, th.Dim)
		}
		b.WriteString(ansi.Truncate(head, inner, "…"))
		lines := strings.Split(ansi.Wrap(sanitize.Text(prettyArgs(o.args[i])), max(inner-4, 1), ""), "\n")
		more := 0
		if len(lines) > maxArgLines {
			more = len(lines) - maxArgLines
			lines = lines[:maxArgLines]
		}
		for _, l := range lines {
			b.WriteString("\n    " + l)
		}
		if more > 0 {
			b.WriteString("\n    " + th.Dim.Render(fmt.Sprintf("… %d more lines (e shows them all)", more)))
		}
		if o.args[i] != c.Call.Arguments {
			b.WriteString("\n    " + th.Dim.Render("(edited)"))
		}
	}
	b.WriteString("\n\n")
	switch {
	case o.editing:
		b.WriteString(th.Dim.Render("editing the arguments in $EDITOR…"))
	case o.reason != nil:
		b.WriteString("Reason for the model (optional): " + o.reason.view() + "\n")
		b.WriteString(th.Dim.Render("enter denies · esc goes back"))
	default:
		if o.note != "" {
			b.WriteString(th.StatusWarn.Render(ansi.Wrap(sanitize.Text(o.note), inner, "")) + "\n")
		}
		keys := []string{"y allow once", "s allow this session", "a always allow", "n deny", "e edit", "esc cancel"}
		if n > 1 {
			keys = append(keys, "↑↓ choose a call")
		}
		b.WriteString(th.Dim.Render(joinWrapped(keys, " · ", inner)))
	}
	return toolBox(m, o.pane, b.String(), width, height)
}

// toolBox draws a tool overlay's text in a bordered box at the bottom of
// the transcript area.
func toolBox(m *Model, pane PaneID, body string, width, height int) string {
	border := lipgloss.RoundedBorder()
	if !m.th.Color {
		border = lipgloss.ASCIIBorder()
	}
	box := lipgloss.NewStyle().Border(border).BorderForeground(m.th.HelpBorder.GetForeground()).
		Padding(0, 1).Width(min(width, max(width-4, 10)+4)).Render(body)
	return belowTranscript(m, pane, box, height)
}

// belowTranscript draws an overlay's box at the bottom of the transcript
// area, with the end of the pane's transcript above it (the answer that
// made the calls stays in sight). A box taller than the area loses lines
// from its middle, never its last lines (the keys).
func belowTranscript(m *Model, id PaneID, box string, height int) string {
	lines := strings.Split(box, "\n")
	if height <= 0 {
		return box
	}
	if len(lines) > height {
		keep := min(3, height)
		return strings.Join(append(lines[:height-keep:height-keep], lines[len(lines)-keep:]...), "\n")
	}
	var above []string
	if p := m.pane(id); p != nil {
		vis := p.visible
		for len(vis) > 0 && strings.TrimSpace(ansi.Strip(vis[len(vis)-1])) == "" {
			vis = vis[:len(vis)-1]
		}
		n := height - len(lines)
		above = vis[max(len(vis)-n, 0):]
		for len(above) < n {
			above = append([]string{""}, above...)
		}
	}
	return strings.Join(append(slices.Clone(above), lines...), "\n")
}

// decisionText shows a decision next to its call.
func decisionText(d session.Decision, dim lipgloss.Style) string {
	switch {
	case !d.Allow && d.Reason != "":
		return dim.Render("✗ deny: " + sanitize.Line(d.Reason))
	case !d.Allow:
		return dim.Render("✗ deny")
	case d.Scope == session.AllowSession:
		return dim.Render("✓ this session")
	case d.Scope == session.AllowAlways:
		return dim.Render("✓ always")
	}
	return dim.Render("✓ once")
}

// prettyArgs indents JSON arguments; other text is shown as it is.
func prettyArgs(args string) string {
	if strings.TrimSpace(args) == "" {
		return "{}"
	}
	var v any
	if json.Unmarshal([]byte(args), &v) != nil {
		return args
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return args
	}
	return string(b)
}

// resultOverlay is where the user types a manual tool's result: enter
// sends it, alt+enter or ctrl+j starts a new line, esc sends no result.
type resultOverlay struct {
	pane PaneID
	call session.ToolCallInfo
	text lineEdit
}

func (o *resultOverlay) key(m *Model, msg tea.KeyPressMsg) overlayKey {
	switch msg.String() {
	case "enter":
		return overlayKey{close: true, cmd: m.provide(o.pane, o.call.Call.ID, o.text.text, true)}
	case "alt+enter", "ctrl+j":
		o.text.text += "\n"
	case "esc":
		return overlayKey{close: true, cmd: m.provide(o.pane, o.call.Call.ID, "", false)}
	case "ctrl+c", "ctrl+d":
		return overlayKey{pass: true}
	default:
		o.text.key(msg)
	}
	m.dirty = true
	return overlayKey{}
}

func (o *resultOverlay) view(m *Model, width, height int) string {
	th := m.th
	inner := max(width-4, 10)
	var b strings.Builder
	b.WriteString(th.Accent.Render("Type the result of " + sanitize.Line(o.call.Tool.Name)))
	b.WriteString(th.Dim.Render(" · manual tool"))
	b.WriteString("\n\n")
	for _, l := range strings.Split(ansi.Wrap(sanitize.Text(prettyArgs(o.call.Call.Arguments)), max(inner-4, 1), ""), "\n") {
		b.WriteString("    " + l + "\n")
	}
	b.WriteString("\n" + o.text.view() + "\n\n")
	b.WriteString(th.Dim.Render(ansi.Wrap("enter sends · alt+enter new line · esc: no result", inner, "")))
	return toolBox(m, o.pane, b.String(), width, height)
}

// lineEdit is a minimal text field for the overlays: typed text,
// backspace, ctrl+u to clear.
type lineEdit struct{ text string }

func (e *lineEdit) key(msg tea.KeyPressMsg) {
	switch msg.String() {
	case "backspace":
		if r := []rune(e.text); len(r) > 0 {
			e.text = string(r[:len(r)-1])
		}
	case "ctrl+u":
		e.text = ""
	case "space":
		e.text += " "
	default:
		if msg.Text != "" && len(e.text) < 4096 {
			e.text += sanitize.Line(msg.Text)
		}
	}
}

func (e *lineEdit) view() string { return sanitize.Text(e.text) + "█" }

// joinWrapped joins parts with sep, breaking lines between parts (never
// inside one, unless a part alone is wider than width) so that no line is
// wider than width cells.
func joinWrapped(parts []string, sep string, width int) string {
	var b strings.Builder
	line := 0
	for i, p := range parts {
		w := ansi.StringWidth(p)
		switch {
		case i == 0:
		case line+ansi.StringWidth(sep)+w <= width:
			b.WriteString(sep)
			line += ansi.StringWidth(sep)
		default:
			b.WriteByte('\n')
			line = 0
		}
		b.WriteString(ansi.Wrap(p, max(width, 1), ""))
		line += w
	}
	return b.String()
}

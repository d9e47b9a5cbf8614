package ui

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/sanitize"
	"github.com/parley-chat/parley/session"
	"github.com/parley-chat/parley/themes"
	"github.com/parley-chat/parley/ui/markdown"
)

// itemKind says what a transcript entry is.
type itemKind int

const (
	kindUser      itemKind = iota // a prompt the user sent
	kindAssistant                 // an answer (finished or streaming)
	kindNotice                    // local feedback such as "/model set to …"; not sent to the model
	kindInfo                      // a local report (images, usage, models): a title, then rows, a list or an error; not sent to the model
)

// maxLiveReasoningLines bounds the live reasoning block so it informs
// without pushing the answer off screen.
const maxLiveReasoningLines = 8

// renderKey identifies what a cached rendering was made for.
type renderKey struct {
	width    int
	theme    string
	expanded bool
	hide     bool
	anon     string
}

// item is one transcript entry with its render cache. The cache holds the
// item's lines for one (width, theme, reasoning state); finished markdown
// is cached separately by (width, theme) so toggling reasoning never
// re-renders the answer.
type item struct {
	id         int
	kind       itemKind
	text       string           // user prompt or notice (raw)
	turn       *session.Turn    // assistant: reasoning, tool calls, error, timings
	md         string           // assistant: the final answer source
	firstBlock int              // number of the first code block in this answer
	blocks     int              // how many code blocks the answer has
	expanded   bool             // reasoning shown in full
	live       bool             // still streaming; lines come from the pane
	info       *info            // kindInfo: what the report shows
	sv         *structured      // assistant: the answer as JSON checked against a schema
	warn       bool             // kindNotice: reports a problem
	fold       *foldedPrompt    // kindUser: the prompt as sent, when text shows it folded
	run        *session.ToolRun // kindTool: the call and its result
	alt        string           // assistant: which of the request's answers is shown ([ and ])

	key   renderKey
	lines []string // the item's lines; an answer's up to its markdown
	mdRun lineRun  // an answer's markdown: the lines of mdOut
	post  []string // an answer's lines after its markdown
	mdKey renderKey
	mdOut string
}

// renderCtx is what rendering needs from the surroundings.
type renderCtx struct {
	width    int
	th       *themes.Theme
	hide     bool   // hide reasoning entirely
	anon     string // shown instead of the model while a blind comparison hides it
	now      time.Time
	renderer func(width int) *markdown.Renderer
}

func (c renderCtx) key(expanded bool) renderKey {
	return renderKey{width: c.width, theme: c.th.Name, expanded: expanded, hide: c.hide, anon: c.anon}
}

// render returns the item's lines, from the cache when the key matches
// (an answer's are made for the call: runs gives them without copying).
func (it *item) render(c renderCtx) []string {
	runs := it.runs(c)
	if len(runs) == 1 {
		return runs[0].lines
	}
	out := make([]string, 0, runsLen(runs))
	for _, r := range runs {
		for i := range r.len() {
			out = append(out, r.at(i))
		}
	}
	return out
}

// height is the number of the item's lines.
func (it *item) height(c renderCtx) int { return runsLen(it.runs(c)) }

// runs returns the item's lines as runs, from the cache when the key
// matches: one run, or for an answer with markdown three, the lines of its
// rendered markdown indexed rather than cut into strings.
func (it *item) runs(c renderCtx) []lineRun {
	k := c.key(it.expanded)
	if it.lines == nil || it.key != k {
		it.layOut(c)
		it.key = k
	}
	if it.mdRun.len() == 0 {
		return []lineRun{strRun(it.lines)}
	}
	return []lineRun{strRun(it.lines), it.mdRun, strRun(it.post)}
}

// layOut renders the item's lines into the cache.
func (it *item) layOut(c renderCtx) {
	var b strings.Builder
	var lines []string
	it.mdRun, it.post = lineRun{}, nil
	switch it.kind {
	case kindUser:
		b.WriteString(c.th.UserLabel.Render("▌ you"))
		b.WriteByte('\n')
		b.WriteString(ansi.Wrap(screenText(it.text), c.width, ""))
	case kindNotice:
		if it.warn {
			b.WriteString(ansi.Wrap(c.th.Accent.Render("! ")+screenText(it.text), c.width, ""))
		} else {
			b.WriteString(c.th.Dim.Render(ansi.Wrap("· "+screenText(it.text), c.width, "")))
		}
	case kindAssistant:
		lines = it.renderAssistant(&b, c)
	case kindInfo:
		it.info.render(&b, c)
	case kindTool:
		it.renderRun(&b, c)
	}
	b.WriteByte('\n')
	if lines != nil {
		it.lines = lines
		it.mdRun = textRun(it.mdOut)
		it.post = strings.Split(strings.TrimPrefix(b.String(), "\n"), "\n")
	} else {
		it.lines = strings.Split(b.String(), "\n")
	}
}

// invalidate drops the line cache (not the markdown cache).
func (it *item) invalidate() { it.lines = nil }

// renderAssistant writes an answer into b; when it has markdown, it
// returns the lines before it (its lines are it.mdOut's, see layOut), and
// b holds what follows them.
func (it *item) renderAssistant(b *strings.Builder, c renderCtx) []string {
	b.WriteString(assistantLabel(it.turn, c))
	if it.alt != "" {
		b.WriteString(c.th.Dim.Render(" · " + it.alt))
	}
	if !c.hide && it.turn.Reasoning() != "" {
		b.WriteByte('\n')
		b.WriteString(reasoningSummary(it.turn, c, it.expanded))
		if it.expanded {
			b.WriteByte('\n')
			b.WriteString(reasoningBox(it.turn.Reasoning(), c, false))
		}
	}
	mk := renderKey{width: c.width, theme: c.th.Name}
	if it.mdKey != mk {
		it.mdOut, _ = c.renderer(c.width).Render(it.md, it.firstBlock)
		it.mdOut = it.markViolations(it.mdOut, c)
		it.mdKey = mk
	}
	var lines []string
	if it.mdOut != "" {
		lines = strings.Split(b.String(), "\n")
		b.Reset()
	}
	writeTail(b, it.turn, c)
	writeSchemaCheck(b, it.turn, c)
	return lines
}

// writeTail adds tool calls, the error and the interrupted marker.
func writeTail(b *strings.Builder, t *session.Turn, c renderCtx) {
	for _, tc := range t.ToolCalls {
		b.WriteByte('\n')
		b.WriteString(toolCallView(tc, c))
	}
	if t.Err != nil {
		b.WriteByte('\n')
		b.WriteString(errorView(t.Err, c))
	}
	if t.Interrupted {
		b.WriteByte('\n')
		b.WriteString(c.th.StatusWarn.Render("■ interrupted"))
		b.WriteString(c.th.Dim.Render(" — the partial answer above is kept"))
	}
	if t.Err == nil && !t.Interrupted && provider.TokenLimited(t.FinishReason) {
		b.WriteByte('\n')
		b.WriteString(c.th.StatusWarn.Render("■ cut off"))
		b.WriteString(c.th.Dim.Render(" — the answer reached the token limit (max_tokens)"))
	}
}

// assistantLabel is the line above an answer: who wrote it, with the
// model the gateway reported, else the model the request asked for.
func assistantLabel(t *session.Turn, c renderCtx) string {
	s := c.th.AssistantLabel.Render("◆ assistant")
	if t == nil {
		return s
	}
	if model := cmp.Or(c.anon, t.Model, t.RequestModel); model != "" {
		s += c.th.Dim.Render(" " + ansi.Truncate(sanitize.Line(model), max(c.width-14, 1), "…"))
	}
	return s
}

// reasoningSummary is the reasoning's one-line summary: "▸ Thought for
// 3.2 s · 412 tokens" folded, "▾ …" above the unfolded reasoning.
func reasoningSummary(t *session.Turn, c renderCtx, open bool) string {
	d := t.ReasoningDuration(c.now)
	mark := "▸"
	if open {
		mark = "▾"
	}
	s := fmt.Sprintf("%s Thought for %.1f s · %d tokens", mark, d.Seconds(), t.ReasoningTokens())
	return c.th.Dim.Render(ansi.Truncate(s, c.width, "…")) + c.th.Dim.Render(hintIfRoom(s, " (ctrl+t)", c.width))
}

func hintIfRoom(s, hint string, width int) string {
	if ansi.StringWidth(s)+ansi.StringWidth(hint) <= width {
		return hint
	}
	return ""
}

// reasoningBox renders reasoning dimmed inside a border. With tail set it
// shows only the last lines (the live view while the model thinks) under a
// "thinking…" title, working on the end of the text only so its cost does
// not grow with the length; without, the whole reasoning, untitled (the
// summary line above it says what it is).
func reasoningBox(text string, c renderCtx, tail bool) string {
	inner := max(c.width-4, 1)
	if tail {
		// Enough bytes for the last lines even if every rune were wide.
		keep := maxLiveReasoningLines * inner * 4
		if len(text) > keep {
			cut := len(text) - keep
			if i := strings.IndexByte(text[cut:], '\n'); i >= 0 && i < keep/2 {
				cut += i + 1
			}
			for cut < len(text) && !isRuneStart(text[cut]) {
				cut++
			}
			text = text[cut:]
		}
	}
	body := ansi.Wrap(strings.TrimSpace(screenText(text)), inner, "")
	lines := strings.Split(body, "\n")
	if tail && len(lines) > maxLiveReasoningLines {
		lines = lines[len(lines)-maxLiveReasoningLines:]
	}
	for i, l := range lines {
		lines[i] = c.th.ReasoningText.Render(l)
	}
	border := lipgloss.RoundedBorder()
	if !c.th.Color {
		border = lipgloss.ASCIIBorder()
	}
	box := lipgloss.NewStyle().Border(border, true).BorderForeground(c.th.ReasoningBorder.GetForeground()).
		Padding(0, 1).Width(c.width).Render(strings.Join(lines, "\n"))
	if !tail {
		return box
	}
	return c.th.Dim.Render("thinking…") + "\n" + box
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// screenText prepares text from the network for the screen: sanitized,
// and tabs expanded (the screen would drop them).
func screenText(s string) string {
	return markdown.ExpandTabs(sanitize.Text(s))
}

// Bounds on a tool call's arguments as shown: pretty printing is for
// arguments that are small and shallow enough to lay out in a frame, and
// what is shown is cut with a mark past a size either way (the arguments
// themselves are kept whole).
const (
	maxPrettyArgs      = 16 << 10 // largest arguments pretty printed
	maxPrettyArgsDepth = 32       // deepest arguments pretty printed
	maxShownArgs       = 8 << 10  // bytes of arguments shown
	maxShownArgsLines  = 200      // lines of arguments shown
)

// toolCallView shows one tool call: its name and its arguments, pretty
// printed when they are small, shallow JSON, sanitized either way, and cut
// with a mark past maxShownArgs bytes or maxShownArgsLines lines. Its cost
// is bounded whatever the arguments hold.
func toolCallView(tc provider.ToolCall, c renderCtx) string {
	head := c.th.Accent.Render("⚙ tool call ") + sanitize.Line(tc.Name)
	if tc.ID != "" {
		head += c.th.Dim.Render(" " + sanitize.Line(tc.ID))
	}
	args, cut := shownArgs(tc.Arguments)
	lines := strings.Split(ansi.Wrap(screenText(args), max(c.width-2, 1), ""), "\n")
	if len(lines) > maxShownArgsLines {
		lines, cut = lines[:maxShownArgsLines], true
	}
	var out strings.Builder
	out.WriteString(ansi.Truncate(head, c.width, "…"))
	for _, l := range lines {
		out.WriteString("\n" + c.th.Dim.Render("│ ") + l)
	}
	if cut {
		mark := fmt.Sprintf("… %d bytes in all, cut here", len(tc.Arguments))
		out.WriteString("\n" + c.th.Dim.Render("│ "+ansi.Truncate(mark, max(c.width-2, 1), "…")))
	}
	return out.String()
}

// shownArgs returns the part of a tool call's arguments to show, pretty
// printed when they are JSON within maxPrettyArgs bytes and
// maxPrettyArgsDepth levels, and whether it cut them.
func shownArgs(args string) (string, bool) {
	if len(args) <= maxPrettyArgs && jsonDepth(args) <= maxPrettyArgsDepth && json.Valid([]byte(args)) {
		var b bytes.Buffer
		if json.Indent(&b, []byte(args), "", "  ") == nil {
			args = b.String()
		}
	}
	if len(args) <= maxShownArgs {
		return args, false
	}
	cut := maxShownArgs
	for cut > 0 && !utf8.RuneStart(args[cut]) {
		cut--
	}
	return args[:cut], true
}

// jsonDepth returns the deepest nesting of arrays and objects in s, read
// as JSON (strings skipped), in one pass.
func jsonDepth(s string) int {
	depth, deepest := 0, 0
	inString := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inString:
			if c == '\\' {
				i++
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
			deepest = max(deepest, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return deepest
}

// errorView shows a failed answer's title and message where the answer
// would have been.
func errorView(e *provider.APIError, c renderCtx) string {
	title := e.Title
	if e.Status > 0 {
		title = strings.TrimSpace(fmt.Sprintf("%d %s", e.Status, e.Title))
	}
	if title == "" {
		title = string(e.Kind) + " error"
	}
	head := c.th.StatusError.Render(" ✗ " + ansi.Truncate(sanitize.Line(title), max(c.width-4, 1), "…") + " ") // the title, short
	msg := e.Message
	if e.Code != "" && !strings.Contains(msg, e.Code) {
		msg = strings.TrimSpace(msg + " (" + e.Code + ")")
	}
	if e.Partial {
		msg = strings.TrimSpace(msg + "\nThe answer above is incomplete.")
	}
	if msg == "" {
		return head
	}
	return head + "\n" + ansi.Wrap(screenText(msg), c.width, "")
}

// info is a local report in the transcript: a title, then aligned
// (label, value) rows, a list laid out in columns with one entry marked,
// and an error. Every string in it may come from the network; rendering
// sanitizes them.
type info struct {
	title  string
	rows   [][2]string
	list   []string
	marked string // the list entry shown with a marker (the current model)
	err    error
}

// render writes the report, wrapped to the width: values continue under
// themselves, list entries fill as many columns as fit.
func (in *info) render(b *strings.Builder, c renderCtx) {
	b.WriteString(c.th.Accent.Render("▌ " + ansi.Truncate(sanitize.Line(in.title), max(c.width-2, 1), "…")))
	kw := 0
	for _, r := range in.rows {
		kw = max(kw, ansi.StringWidth(sanitize.Line(r[0])))
	}
	kw = min(kw, max(c.width/3, 1))
	vw := max(c.width-kw-4, 1)
	for _, r := range in.rows {
		k := ansi.Truncate(sanitize.Line(r[0]), kw, "…")
		v := screenText(r[1])
		if ansi.StringWidth(v) > vw && !strings.ContainsAny(v, " \n") {
			b.WriteString("\n  " + c.th.Dim.Render(k))
			// One long word (a path, an id) goes whole on its own line
			// below the label, cut only where the width forces it.
			for _, l := range strings.Split(ansi.Hardwrap(v, max(c.width-4, 1), false), "\n") {
				b.WriteString("\n    " + l)
			}
			continue
		}
		b.WriteString("\n  " + c.th.Dim.Render(k+strings.Repeat(" ", kw-ansi.StringWidth(k))))
		for i, l := range strings.Split(ansi.Wrap(v, vw, ""), "\n") {
			if i > 0 {
				b.WriteString("\n  " + strings.Repeat(" ", kw))
			}
			b.WriteString("  " + l)
		}
	}
	if len(in.list) > 0 {
		writeColumns(b, in.list, in.marked, c)
	}
	if in.err != nil {
		b.WriteByte('\n')
		var ae *provider.APIError
		if errors.As(in.err, &ae) {
			b.WriteString(errorView(ae, c))
		} else {
			b.WriteString(c.th.StatusError.Render(" ✗ failed "))
			b.WriteString("\n" + ansi.Wrap(screenText(in.err.Error()), c.width, ""))
		}
	}
}

// writeColumns lays names out row by row in as many equal columns as the
// width allows, each indented by two cells; the marked name gets "●".
func writeColumns(b *strings.Builder, names []string, marked string, c renderCtx) {
	cells := make([]string, len(names))
	cw := 0
	for i, n := range names {
		mark := "  "
		if n == marked {
			mark = "● "
		}
		cells[i] = mark + ansi.Truncate(sanitize.Line(n), max(c.width-4, 1), "…")
		cw = max(cw, ansi.StringWidth(cells[i]))
	}
	cols := max(c.width/(cw+2), 1) // "  " + cols cells with "  " between
	for i, cell := range cells {
		if i%cols == 0 {
			b.WriteString("\n  ")
		} else {
			b.WriteString("  ")
		}
		pad := ""
		if i%cols != cols-1 && i != len(cells)-1 {
			pad = strings.Repeat(" ", cw-ansi.StringWidth(cell))
		}
		if names[i] == marked {
			b.WriteString(c.th.Accent.Render(cell) + pad)
		} else {
			b.WriteString(cell + pad)
		}
	}
}

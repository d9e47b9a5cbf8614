package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/sanitize"
	"github.com/parley-chat/parley/session"
	"github.com/parley-chat/parley/themes"
)

// This file is compare mode: several panes side by side, one per model,
// each pane's chat a column of a session.Compare. The root model's
// layout gives each column a header (its number and label) and a status
// line (state, time to first token, speed, tokens, duration, rate limit)
// above its transcript, pages the columns when they would be narrower
// than minPaneWidth, and shows a summary table below them once every
// column has answered.

// columnHeadRows are the lines above each column's transcript: its name
// and its status line.
const columnHeadRows = 2

// compareState is the comparison on screen.
type compareState struct {
	cmp       *session.Compare
	sync      bool // scrolling moves every column
	maximized bool // only the focused column, at the full width

	// Computed by layout: the transcript area's height and the summary
	// rows that fit below the columns (0 until every column is done).
	area        int
	summaryRows int

	// Computed by refresh: each pane's head lines, the summary table and
	// the rule above the input.
	heads   [][]string
	summary []string
	rule    string

	base  PaneID     // column i is pane base+i
	blind blindState // a blind comparison's pick
}

type (
	// compareReadyMsg brings the columns /compare asked for, resolved
	// off the Update goroutine (resolving may run a key command).
	compareReadyMsg struct {
		specs []PaneSpec
		err   error
	}
)

// paneChat makes the chat of a single pane: its events come back as
// paneEventMsg for id, and its requests are paced with every other
// pane's.
func (m *Model) paneChat(id PaneID, spec PaneSpec) *session.Chat {
	send := m.send
	o := session.ChatOptions{
		Provider: spec.Provider,
		Settings: spec.Settings,
		Pacer:    m.pacer,
		Now:      m.clock,
		Deliver:  func(ev session.Stamped) { send(paneEventMsg{Pane: id, Ev: ev}) },
	}
	if spec.Resume != nil {
		return session.RestoreChat(o, *spec.Resume)
	}
	return session.NewChat(o)
}

// chatPane makes the pane that draws chat for spec: the spec's observers
// watch the chat, a saved conversation it resumes is laid out, and the
// pane gets its tool loop.
func (m *Model) chatPane(id PaneID, spec PaneSpec, chat *session.Chat) *Pane {
	for _, obs := range spec.Observers {
		chat.Observe(obs)
	}
	p := newPane(id, spec, chat)
	if spec.Resume != nil {
		p.restore(*spec.Resume)
	}
	m.setUpTools(p)
	return p
}

// openCompare turns the screen into a comparison: adopt, when set, is
// the pane already on screen and becomes the first column, the specs the
// columns after it. New columns beside an adopted conversation start
// from its history and answer its last prompt at once.
func (m *Model) openCompare(adopt *Pane, specs []PaneSpec) error {
	total := len(specs)
	if adopt != nil {
		total++
	}
	if total > session.MaxColumns {
		return fmt.Errorf("a comparison has at most %d columns, not %d", session.MaxColumns, total)
	}
	// Column col's events go to pane base+col: the adopted pane keeps
	// its own ID (and its chat its own delivery), new panes follow the
	// last ID given out.
	base := m.lastPane + 1
	if adopt != nil {
		base = m.lastPane
	}
	send := m.send
	cmp := session.NewCompare(session.CompareOptions{Pacer: m.pacer, Now: m.clock,
		Deliver: func(col int, ev session.Stamped) { send(paneEventMsg{Pane: base + PaneID(col), Ev: ev}) }})
	var history []provider.Message
	last := ""
	if adopt != nil {
		if _, err := cmp.Adopt(adopt.label(), adopt.chat); err != nil {
			return err
		}
		if m.opts.ColumnObservers != nil {
			m.opts.ColumnObservers(ColumnRef{Comparison: cmp.ID, Spec: adopt.spec, Adopted: true})
		}
		msgs := adopt.chat.Conversation().Messages
		for i := len(msgs) - 1; i >= 0; i-- {
			if msgs[i].Role == provider.RoleUser {
				history, last = msgs[:i+1], msgs[i].Content
				break
			}
		}
	}
	var fresh []*Pane
	for _, spec := range specs {
		if spec.Label == "" {
			spec.Label = spec.Settings.Model
		}
		col, err := cmp.Add(session.ColumnSpec{Label: spec.Label, Provider: spec.Provider, Settings: spec.Settings, History: history})
		if err != nil {
			return err
		}
		if m.opts.ColumnObservers != nil {
			spec.Observers = append(spec.Observers, m.opts.ColumnObservers(ColumnRef{Comparison: cmp.ID, Position: len(cmp.Columns()) - 1, Spec: spec})...)
		}
		fresh = append(fresh, m.chatPane(base+PaneID(len(cmp.Columns())-1), spec, col.Chat))
	}
	m.lastPane = base + PaneID(len(cmp.Columns())-1)
	m.panes = append(m.panes, fresh...)
	m.cmp = &compareState{cmp: cmp, base: base}
	m.layout()
	if len(history) > 0 {
		for _, p := range fresh {
			rc := m.rc(p)
			p.notice(fmt.Sprintf("continues the conversation of %s (%d earlier messages)", adopt.label(), len(history)-1), rc)
			p.addItem(&item{kind: kindUser, text: last}, rc)
			if err := p.answerLast(m.ctx, rc); err != nil {
				m.setFlash(err.Error(), true)
			}
		}
	}
	return nil
}

// label is what the pane's column is called: the name it was given, else
// its model.
func (p *Pane) label() string {
	if p.spec.Label != "" {
		return p.spec.Label
	}
	return p.chat.Settings().Model
}

// answerLast streams an answer to the conversation's last prompt, which
// the transcript already shows.
func (p *Pane) answerLast(ctx context.Context, rc renderCtx) error {
	turn, err := p.chat.Retry(ctx)
	if err != nil {
		return err
	}
	p.beginLive(turn, rc)
	return nil
}

// runCompare is /compare A B …: the conversation on screen becomes the
// first column and the models named the next ones. Resolving them (a
// provider:model may need its key) runs as a background task.
func (m *Model) runCompare(arg string) tea.Cmd {
	specs := splitColumnSpecs(arg)
	switch {
	case m.cmp != nil:
		m.setFlash("already comparing — /pick N keeps one column, then /compare again", true)
		return nil
	case len(specs) == 0:
		m.setFlash("usage: /compare MODEL [MODEL…] — puts the conversation beside other models", true)
		return nil
	case len(specs)+1 > session.MaxColumns:
		m.setFlash(fmt.Sprintf("a comparison has at most %d columns: this one and %d more", session.MaxColumns, session.MaxColumns-1), true)
		return nil
	case m.opts.Columns == nil:
		m.setFlash("/compare is not available here", true)
		return nil
	}
	resolve := m.opts.Columns
	ctx, id := m.startTask(taskCompare, "adding "+strings.Join(specs, ", "))
	return m.track(id, func() tea.Msg {
		out := make([]PaneSpec, 0, len(specs))
		for _, s := range specs {
			spec, err := resolve(ctx, s)
			if err != nil {
				return compareReadyMsg{err: fmt.Errorf("%s: %w", s, err)}
			}
			if spec.Label == "" {
				spec.Label = s
			}
			out = append(out, spec)
		}
		return compareReadyMsg{specs: out}
	})
}

// onCompareReady opens the comparison /compare asked for.
func (m *Model) onCompareReady(msg compareReadyMsg) tea.Cmd {
	switch {
	case msg.err != nil:
		if isCanceled(msg.err) {
			m.setFlash("/compare stopped", true)
		} else {
			m.setFlash("/compare: "+errorSummary(msg.err), true)
		}
		return nil
	case m.cmp != nil || len(m.panes) != 1:
		return nil
	}
	if err := m.openCompare(m.panes[0], msg.specs); err != nil {
		m.setFlash(err.Error(), true)
		return nil
	}
	m.setFlash(fmt.Sprintf("comparing %d models — tab moves between them, /pick N keeps one", len(m.panes)), false)
	return m.ensureTicking()
}

// runPick is /pick N: the comparison becomes a normal chat with column
// N's model and history; the other columns' answers in flight stop.
func (m *Model) runPick(arg string) tea.Cmd {
	if m.cmp == nil {
		m.setFlash("/pick N keeps one column of a comparison; there is none", true)
		return nil
	}
	var n int
	if _, err := fmt.Sscanf(arg, "%d", &n); err != nil || n < 1 || n > len(m.panes) {
		m.setFlash(fmt.Sprintf("usage: /pick N — N from 1 to %d", len(m.panes)), true)
		return nil
	}
	keep := m.panes[n-1]
	for _, p := range m.panes {
		if p != keep {
			p.cancel(m.rc(p))
		}
	}
	if _, err := m.cmp.cmp.Pick(n - 1); err != nil {
		m.setFlash(err.Error(), true)
		return nil
	}
	m.panes, m.focus, m.cmp = []*Pane{keep}, 0, nil
	m.layout()
	m.setFlash("continuing with "+sanitize.Line(keep.label()), false)
	return nil
}

// splitColumnSpecs splits /compare's argument into columns at spaces
// outside braces and quotes, so "gpt-4o{system=\"be brief\"} claude" is
// two columns.
func splitColumnSpecs(arg string) []string {
	var out []string
	var cur strings.Builder
	depth, quoted := 0, false
	for i := 0; i < len(arg); i++ {
		ch := arg[i]
		switch {
		case quoted && ch == '\\' && i+1 < len(arg):
			cur.WriteByte(ch)
			i++
			ch = arg[i]
		case ch == '"' && depth > 0:
			quoted = !quoted
		case ch == '{' && !quoted:
			depth++
		case ch == '}' && !quoted && depth > 0:
			depth--
		case (ch == ' ' || ch == '\t' || ch == '\n') && depth == 0:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
			continue
		}
		cur.WriteByte(ch)
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// layoutCompare sizes the columns in an area of the given height: the
// column heads, the transcripts and, once every column is done, the
// summary table. Columns narrower than minPaneWidth page; a maximized
// column takes the full width. Every column keeps its page-slot width
// while it is not shown, so paging never re-renders.
func (m *Model) layoutCompare(area int) {
	c := m.cmp
	c.area = area
	n := len(m.panes)
	c.summaryRows = 0
	if c.cmp.Done() {
		c.summaryRows = summaryHeight(n)
	}
	ph := area - columnHeadRows - c.summaryRows
	if ph < 3 && c.summaryRows > 0 { // the transcripts keep three lines before the table
		c.summaryRows = max(area-columnHeadRows-3, 0)
		ph = area - columnHeadRows - c.summaryRows
	}
	ph = max(ph, 0)
	slots := paneWidths(m.width, panesPerPage(m.width, n))
	for i, p := range m.panes {
		w := slots[i%len(slots)]
		if c.maximized && i == m.focus {
			w = m.width
		}
		if p.width != w || p.height != ph {
			p.setSize(w, ph)
			p.rerender(m.rc(p))
		}
	}
}

// summaryHeight is the height of the summary table of n columns: a
// rule, the header and a row per column.
func summaryHeight(n int) int { return 2 + n }

// shownColumns are the panes on screen, as [first, end).
func (m *Model) shownColumns() (int, int) {
	if m.cmp.maximized {
		return m.focus, m.focus + 1
	}
	return pageOf(m.focus, panesPerPage(m.width, len(m.panes)), len(m.panes))
}

// refreshCompare recomputes what changes with time and events: the
// column heads, the summary table and the rule. When the summary appears
// or goes, the columns are laid out again.
func (m *Model) refreshCompare(now time.Time) {
	c := m.cmp
	if want := c.cmp.Done(); want != (c.summaryRows > 0) && (!want || summaryHeight(len(m.panes)) > 0) {
		m.layoutCompare(c.area)
	}
	results := c.cmp.Results(now)
	c.heads = make([][]string, len(m.panes))
	for i, p := range m.panes {
		c.heads[i] = []string{
			columnHeader(i+1, m.columnName(i), i == m.focus, p.width, m.th),
			columnStatus(results[i], p.chat.State(), p.chat.Limits().Snapshot(), now, p.width, m.th),
		}
	}
	c.summary = nil
	if c.summaryRows > 0 {
		for i := range results {
			results[i].Label = m.columnName(i) + m.winnerMark(i)
		}
		c.summary = summaryLines(results, m.width, m.th)
		if len(c.summary) > c.summaryRows {
			c.summary = c.summary[:c.summaryRows]
		}
	}
	c.rule = m.compareRule()
}

// columnHeader is a column's first line: its number and label, marked
// when the column has the focus.
func columnHeader(n int, label string, focused bool, width int, th *themes.Theme) string {
	text := fmt.Sprintf("%d %s", n, sanitize.Line(label))
	if focused {
		return th.Accent.Bold(true).Render(ansi.Truncate("▌"+text, width, "…"))
	}
	return th.Dim.Render(ansi.Truncate(" "+text, width, "…"))
}

// columnStatus is a column's compact status line: the state (with the
// queue or rate-limit countdown), then time to first token, speed, output
// tokens, duration and each rate-limit scope's remaining/limit, as many
// as fit the width.
func columnStatus(r session.Result, st session.StreamState, limits []provider.RateLimit, now time.Time, width int, th *themes.Theme) string {
	if width <= 0 {
		return ""
	}
	state, style := stateText(statusInfo{State: st}, now, th)
	segs := []segment{{text: state, style: style}}
	if r.TTFT > 0 {
		segs = append(segs, segment{text: "ttft " + session.Seconds(r.TTFT), style: th.Dim})
	}
	if r.TokensPerSecond > 0 {
		segs = append(segs, segment{text: fmt.Sprintf("%.0f tok/s", r.TokensPerSecond), style: th.Dim})
	}
	if r.Asked && r.OutputTokens > 0 {
		segs = append(segs, segment{text: humanCount(r.OutputTokens) + " tok", style: th.Dim})
	}
	if r.Asked && r.Duration > 0 {
		segs = append(segs, segment{text: session.Seconds(r.Duration), style: th.Dim})
	}
	for _, rl := range limits {
		if text, warn := rateLimitCount(rl, now); text != "" {
			st := th.Dim
			if warn {
				st = th.StatusWarn
			}
			segs = append(segs, segment{text: text, style: st})
		}
	}
	var b strings.Builder
	used := 0
	for i, s := range segs {
		w := ansi.StringWidth(s.text)
		sep := 0
		if i > 0 {
			sep = 3
		}
		if used+sep+w > width {
			if i == 0 {
				b.WriteString(s.style.Render(ansi.Truncate(s.text, width, "…")))
			}
			break
		}
		if i > 0 {
			b.WriteString(th.Dim.Render(" · "))
		}
		b.WriteString(s.style.Render(s.text))
		used += sep + w
	}
	return b.String()
}

// summaryLines is the summary table below the columns: a rule, then the
// header and a row per column (model, TTFT, tok/s, output tokens,
// duration, time waited, how it finished), cut to the width.
func summaryLines(results []session.Result, width int, th *themes.Theme) []string {
	rows := [][]string{session.SummaryHeader()}
	for _, r := range results {
		r.Label = sanitize.Line(r.Label)
		rows = append(rows, r.Cells())
	}
	table := strings.Split(strings.TrimSuffix(session.FormatTable(rows, ansi.StringWidth), "\n"), "\n")
	out := []string{th.Dim.Render(ruleWith("summary", width))}
	for i, l := range table {
		l = ansi.Truncate(l, width, "…")
		if i == 0 {
			l = th.Accent.Render(l)
		} else if results[i-1].Err != nil {
			l = th.StatusError.Render(l)
		}
		out = append(out, l)
	}
	return out
}

// ruleWith is a horizontal rule of width cells with text near its start.
func ruleWith(text string, width int) string {
	s := "── " + text + " "
	if w := ansi.StringWidth(s); w < width {
		s += strings.Repeat("─", width-w)
	}
	return ansi.Truncate(s, width, "")
}

// compareRule is the rule above the input in compare mode: which columns
// are shown, the toggles that are on, and the keys that move around.
func (m *Model) compareRule() string {
	c := m.cmp
	var parts []string
	n := len(m.panes)
	first, end := m.shownColumns()
	switch {
	case c.maximized:
		parts = append(parts, fmt.Sprintf("column %d of %d, maximized (alt+m)", m.focus+1, n))
	case end-first == 1 && n > 1:
		parts = append(parts, fmt.Sprintf("column %d of %d · ←→", first+1, n))
	case end-first < n:
		parts = append(parts, fmt.Sprintf("columns %d–%d of %d · ←→", first+1, end, n))
	}
	if c.sync {
		parts = append(parts, "scrolling together (alt+s)")
	}
	if m.hidden() {
		parts = append(parts, fmt.Sprintf("blind: pick the best with 1–%d, = for a tie", c.blind.columns))
	}
	if m.replay != nil {
		parts = append(parts, "tab focus · d diff · alt+m maximize · alt+s sync scroll")
	} else {
		parts = append(parts, "tab focus · esc stops a column · d diff · alt+m maximize · alt+s sync scroll · /pick N · /fuse K")
	}
	return m.th.Dim.Render(ruleWith(strings.Join(parts, " · "), m.width))
}

// writeCompare writes the comparison's area: the shown columns side by
// side, each under its head, then the summary table.
func (m *Model) writeCompare(b *strings.Builder) {
	c := m.cmp
	first, end := m.shownColumns()
	var cols [][]string
	var widths []int
	for i := first; i < end; i++ {
		p := m.panes[i]
		lines := make([]string, 0, columnHeadRows+len(p.visible))
		if i < len(c.heads) {
			lines = append(lines, c.heads[i]...)
		}
		cols = append(cols, append(lines, p.visible...))
		widths = append(widths, p.width)
	}
	writeSideBySide(b, cols, widths, max(c.area-len(c.summary), 0), m.th.Dim.Render("│"))
	for _, l := range c.summary {
		b.WriteString(l)
		b.WriteByte('\n')
	}
}

// onCompareKey handles the keys of compare mode and reports whether msg
// was one: tab and shift+tab (and ←/→ in an empty input) move the focus,
// alt+m maximizes the focused column, alt+s scrolls the columns together;
// on an empty input, the keys of the results (onResultKey). Tab still
// completes when the input starts with "/".
func (m *Model) onCompareKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	if cmd, ok := m.onResultKey(msg); ok {
		return cmd, true
	}
	switch s := msg.String(); {
	case s == "tab" && !strings.HasPrefix(m.in.Value(), "/"):
		m.moveFocus(1)
	case s == "shift+tab":
		m.moveFocus(-1)
	case (s == "left" || s == "right") && m.in.Value() == "":
		m.moveFocus(map[string]int{"left": -1, "right": 1}[s])
	case s == "alt+m":
		m.cmp.maximized = !m.cmp.maximized
		m.layout()
	case s == "alt+s":
		m.cmp.sync = !m.cmp.sync
		if m.cmp.sync {
			m.setFlash("the columns scroll together", false)
		} else {
			m.setFlash("each column scrolls on its own", false)
		}
	default:
		return nil, false
	}
	return nil, true
}

// moveFocus moves the focus by d columns, wrapping around.
func (m *Model) moveFocus(d int) {
	n := len(m.panes)
	m.focus = ((m.focus+d)%n + n) % n
	if m.cmp.maximized {
		m.layout()
		return
	}
	m.refresh()
}

// scrolled are the panes a scroll moves: every column while they scroll
// together, else the focused pane.
func (m *Model) scrolled() []*Pane {
	if m.cmp != nil && m.cmp.sync {
		return m.panes
	}
	return []*Pane{m.focused()}
}

// cancelFocused is esc: it stops the focused pane's answer (in compare
// mode, that column's only) and reports whether one was streaming.
func (m *Model) cancelFocused() bool {
	p := m.focused()
	if !p.cancel(m.rc(p)) {
		return false
	}
	if m.cmp != nil {
		m.setFlash(fmt.Sprintf("stopped column %d (%s) — its partial answer is kept", m.focus+1, sanitize.Line(m.columnName(m.focus))), true)
		m.layout()
	} else {
		m.setFlash("stopped — the partial answer is kept", true)
	}
	return true
}

// errNoColumns is returned when compare mode is asked for without enough
// columns.
var errNoColumns = errors.New("ui: a comparison needs at least two columns")

// checkColumns checks the panes of a comparison given at start.
func checkColumns(specs []PaneSpec) error {
	switch {
	case len(specs) < session.MinColumns:
		return errNoColumns
	case len(specs) > session.MaxColumns:
		return fmt.Errorf("ui: a comparison has at most %d columns, not %d", session.MaxColumns, len(specs))
	}
	return nil
}

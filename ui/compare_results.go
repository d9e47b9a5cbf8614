package ui

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"github.com/parley-chat/parley/sanitize"
	"github.com/parley-chat/parley/session"
)

// This file is what a comparison ends in: a blind comparison's pick of a
// winner (the columns are "model A", "model B"… in a random order until
// the user picks with 1…6, or = for a tie, on an empty input once every
// column is done; then the names show), the diff of two columns' answers
// (d, ui/diff.go), and /fuse k, which asks column k's model to merge every
// column's answer into one, streamed as a new column.
//
// Picking is for blind comparisons only: with the names shown, 1…6 type
// as usual and /pick N goes on with a column. Only blind picks reach the
// leaderboard.

// blindState is a blind comparison's verdict so far.
type blindState struct {
	on       bool // the comparison started blind
	revealed bool // the user has picked: names show
	columns  int  // the columns that were compared blind (a fused column comes later)
	winner   int  // the column picked (from 0), or session.Tie; valid once revealed
}

type (
	// pickSavedMsg reports a pick saved for the leaderboard.
	pickSavedMsg struct{ err error }
)

// shuffleColumns puts the columns of a blind comparison in a random
// order, so the order given on the command line tells nothing.
func shuffleColumns(specs []PaneSpec) []PaneSpec {
	out := append([]PaneSpec(nil), specs...)
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// hidden reports whether the model names are hidden: a blind comparison
// before the pick.
func (m *Model) hidden() bool {
	return m.cmp != nil && m.cmp.blind.on && !m.cmp.blind.revealed
}

// blindName is what column i (from 0) is called while names are hidden.
func blindName(i int) string { return "model " + string(rune('A'+i)) }

// columnName is what column i (from 0) is called on screen: its label,
// or its letter while names are hidden.
func (m *Model) columnName(i int) string {
	if m.hidden() {
		return blindName(i)
	}
	return m.panes[i].label()
}

// anonFor is the name the transcript of p shows in place of the model
// while names are hidden ("" when they show).
func (m *Model) anonFor(p *Pane) string {
	if !m.hidden() {
		return ""
	}
	for i, q := range m.panes {
		if q == p {
			return blindName(i)
		}
	}
	return "model ?"
}

// hideStatus keeps the status bar from naming the gateway or the model
// while names are hidden.
func (m *Model) hideStatus(in *statusInfo) {
	if m.hidden() {
		in.Provider, in.Model = "", m.columnName(m.focus)
	}
}

// blindRefusal is why a command cannot run while names are hidden, or "".
func (m *Model) blindRefusal(name string) string {
	if !m.hidden() {
		return ""
	}
	n := m.cmp.blind.columns
	switch name {
	case "/model", "/pick", "/export", "/fuse", "/system", "/title":
		return fmt.Sprintf("%s would show a model's name: pick a winner first (1–%d, or = for a tie, on an empty input)", name, n)
	}
	return ""
}

// onResultKey handles the keys of a finished comparison on an empty
// input, and reports whether msg was one: 1…6 and = pick a winner of a
// blind comparison, d opens the diff.
func (m *Model) onResultKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	if !m.in.Empty() {
		return nil, false
	}
	s := msg.String()
	if m.hidden() {
		n := m.cmp.blind.columns
		switch {
		case s == "=":
			return m.pickWinner(session.Tie), true
		case len(s) == 1 && s[0] >= '1' && s[0] <= '0'+byte(n):
			return m.pickWinner(int(s[0] - '1')), true
		}
	}
	if s == "d" {
		return m.openDiff(), true
	}
	return nil, false
}

// pickWinner records the user's verdict on a blind comparison (w from 0,
// or session.Tie), reveals the names and saves the pick.
func (m *Model) pickWinner(w int) tea.Cmd {
	c := m.cmp
	if !c.cmp.Done() || m.streaming() {
		m.setFlash("wait until every column is done, then pick", true)
		return nil
	}
	models := make([]string, c.blind.columns)
	var reveal []string
	for i := range models {
		models[i] = m.panes[i].label()
		reveal = append(reveal, fmt.Sprintf("%s was %s", string(rune('A'+i)), sanitize.Line(models[i])))
	}
	c.blind.revealed, c.blind.winner = true, w
	for _, p := range m.panes {
		p.rerender(m.rc(p))
	}
	verdict := "a tie"
	if w != session.Tie {
		verdict = fmt.Sprintf("%s wins", sanitize.Line(models[w]))
	}
	m.setFlash(verdict+" — "+strings.Join(reveal, ", "), false)
	record := m.opts.Picks
	if record == nil {
		m.setFlash(verdict+" — "+strings.Join(reveal, ", ")+" (not counted: conversations are not saved)", false)
		return nil
	}
	pick := session.Pick{At: m.now(), Comparison: c.cmp.ID, Blind: true, Models: models, Winner: w}
	return func() tea.Msg { return pickSavedMsg{err: record(pick)} }
}

// onPickSaved reports a pick the leaderboard could not count.
func (m *Model) onPickSaved(msg pickSavedMsg) {
	if msg.err != nil {
		m.setFlash("the pick was not saved: "+sanitize.Line(msg.err.Error()), true)
	}
}

// winnerMark is the mark the summary gives column i (from 0) once picked.
func (m *Model) winnerMark(i int) string {
	b := m.cmp.blind
	switch {
	case !b.on || !b.revealed || i >= b.columns:
		return ""
	case b.winner == session.Tie:
		return " (tie)"
	case b.winner == i:
		return " ★"
	}
	return ""
}

// maxFuseAnswer is the most of each answer /fuse sends, in bytes.
const maxFuseAnswer = 32 << 10

// runFuse is /fuse K: every column's last answer goes to column K's model
// with a request for one merged answer, which streams as a new column.
func (m *Model) runFuse(arg string) tea.Cmd {
	c := m.cmp
	if c == nil {
		m.setFlash("/fuse K merges the columns of a comparison; there is none", true)
		return nil
	}
	n := len(m.panes)
	var k int
	if _, err := fmt.Sscanf(arg, "%d", &k); err != nil || k < 1 || k > n {
		m.setFlash(fmt.Sprintf("usage: /fuse K — column K's model merges every answer (K from 1 to %d)", n), true)
		return nil
	}
	switch {
	case n >= session.MaxColumns:
		m.setFlash(fmt.Sprintf("a comparison has at most %d columns: /fuse needs a free one (/pick N keeps one column)", session.MaxColumns), true)
		return nil
	case m.streaming():
		m.setFlash("wait until every column is done, then /fuse", true)
		return nil
	}
	question := ""
	msgs := m.panes[k-1].chat.Conversation().Messages
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "user" {
			question = msgs[i].Content
			break
		}
	}
	var answers []string
	var from []string
	for i, p := range m.panes {
		if t := p.chat.Turn(); t != nil && t.Finished() && strings.TrimSpace(t.Text()) != "" {
			answers = append(answers, t.Text())
			from = append(from, fmt.Sprint(i+1))
		}
	}
	if len(answers) < 2 || question == "" {
		m.setFlash("/fuse needs at least two answers to the same question", true)
		return nil
	}
	src := m.panes[k-1]
	spec := src.spec
	spec.Label = "fusion by " + src.label()
	spec.Resume = nil
	spec.Observers = nil
	col, err := c.cmp.Add(session.ColumnSpec{Label: spec.Label, Provider: spec.Provider, Settings: src.chat.Settings()})
	if err != nil {
		m.setFlash(err.Error(), true)
		return nil
	}
	if m.opts.ColumnObservers != nil {
		spec.Observers = m.opts.ColumnObservers(ColumnRef{Comparison: c.cmp.ID, Position: len(c.cmp.Columns()) - 1, Spec: spec})
	}
	id := c.base + PaneID(len(c.cmp.Columns())-1)
	p := m.chatPane(id, spec, col.Chat)
	m.lastPane = id
	m.panes = append(m.panes, p)
	m.focus = len(m.panes) - 1
	m.layout()
	shown := fmt.Sprintf("/fuse %d — merge the answers of columns %s into one", k, strings.Join(from, ", "))
	if err := p.submitShown(m.ctx, shown, fusePrompt(question, answers), m.rc(p)); err != nil {
		p.warning(err.Error(), m.rc(p))
	}
	m.setFlash(fmt.Sprintf("column %d: %s merges the answers", len(m.panes), sanitize.Line(m.columnName(k-1))), false)
	m.layout()
	return m.ensureTicking()
}

// fusePrompt asks for one answer made of the best of several, each cut
// to maxFuseAnswer.
func fusePrompt(question string, answers []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Several assistants answered the same question. Write one answer to it that keeps the best of theirs: "+
		"correct what is wrong, keep what is right and useful, drop repetition, and do not mention the assistants or that "+
		"there were several answers.\n\n<question>\n%s\n</question>\n", question)
	for i, a := range answers {
		if len(a) > maxFuseAnswer {
			cut := maxFuseAnswer
			for cut > 0 && !utf8.RuneStart(a[cut]) {
				cut--
			}
			a = a[:cut] + "\n[… the rest of this answer is left out]"
		}
		fmt.Fprintf(&b, "\n<answer %d>\n%s\n</answer %d>\n", i+1, a, i+1)
	}
	return b.String()
}

// columnWhat names the focused column for a message: "column 2 (gpt-4o)",
// or "" outside a comparison.
func (m *Model) columnWhat() string {
	if m.cmp == nil {
		return ""
	}
	return fmt.Sprintf("column %d (%s)", m.focus+1, sanitize.Line(m.columnName(m.focus)))
}

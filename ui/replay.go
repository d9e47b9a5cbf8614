package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/sanitize"
	"github.com/parley-chat/parley/session"
)

// Replay is a saved conversation played back in the chat screen: the
// pane's provider is the Player's (Player.Provider), so the answers
// stream through the same chat, transcript, reasoning block and status
// bar as they did when they were recorded. The screen's clock is the
// Player's, so times, rates and countdowns read as recorded.
type Replay struct {
	Player *session.Player
	// Title names the conversation in the replay line.
	Title string
	// Columns, when set, replay a comparison side by side: Columns[i]
	// plays the column of Options.Panes[i] (whose provider is its
	// Provider), each with its own recorded timing, all under the same
	// keys. Player is Columns[0], whose clock the screen reads.
	Columns []*session.Player
}

// replayState drives a replay: it acts out the steps that start answers
// (the prompts, retries and tool results) on each column's chat when they
// fall due, one after the other answer has ended. A replay of one
// conversation is one column, the pane on screen.
type replayState struct {
	Replay
	cols  []*replayColumn
	seq   int // replayStepMsg of an earlier seq are stale
	begun bool
}

// replayColumn is the driver of one replayed pane: column i is m.panes[i].
type replayColumn struct {
	player *session.Player
	next   int                // index in Schedule.Starts of the next answer to start
	cancel context.CancelFunc // ends the pending wait
}

// newReplayState is the driver of r: a column per player.
func newReplayState(r Replay) *replayState {
	st := &replayState{Replay: r}
	players := r.Columns
	if len(players) == 0 {
		players = []*session.Player{r.Player}
	}
	for _, pl := range players {
		st.cols = append(st.cols, &replayColumn{player: pl})
	}
	return st
}

// replayStepMsg says a step of column col that starts an answer is due
// (err nil) or its wait ended.
type replayStepMsg struct {
	seq, col, step int
	err            error
}

// beginReplay starts the driver, once, when the screen has its size.
func (m *Model) beginReplay() tea.Cmd {
	r := m.replay
	if r == nil || r.begun {
		return nil
	}
	r.begun = true
	return m.replayWait()
}

// replayWait waits, off the chat's goroutine, for every column's next
// answer to fall due.
func (m *Model) replayWait() tea.Cmd {
	cmds := make([]tea.Cmd, len(m.replay.cols))
	for i := range m.replay.cols {
		cmds[i] = m.replayWaitColumn(i)
	}
	return tea.Batch(cmds...)
}

// replayWaitFor waits for the next answer of pane p's column.
func (m *Model) replayWaitFor(p *Pane) tea.Cmd {
	for i, q := range m.panes {
		if q == p && i < len(m.replay.cols) {
			return m.replayWaitColumn(i)
		}
	}
	return nil
}

// replayWaitColumn waits, off the chat's goroutine, for column i's next
// answer's start to fall due.
func (m *Model) replayWaitColumn(i int) tea.Cmd {
	r := m.replay
	c := r.cols[i]
	sched := c.player.Schedule()
	if c.next >= len(sched.Starts) {
		m.refresh()
		return nil
	}
	if c.cancel != nil {
		c.cancel()
	}
	ctx, cancel := context.WithCancel(m.ctx)
	c.cancel = cancel
	p, seq, step, gen := c.player, r.seq, sched.Starts[c.next], c.player.Generation()
	return func() tea.Msg { return replayStepMsg{seq: seq, col: i, step: step, err: p.Wait(ctx, gen, step)} }
}

// replayPane is the pane column i plays in.
func (m *Model) replayPane(i int) *Pane {
	if len(m.replay.cols) == 1 {
		return m.focused()
	}
	return m.panes[i]
}

// onReplayStep acts out a step that fell due: the prompt is sent, the
// answer retried or the tool results handed back, and the recorded answer
// streams in.
func (m *Model) onReplayStep(msg replayStepMsg) tea.Cmd {
	r := m.replay
	if r == nil || msg.seq != r.seq || msg.err != nil || msg.col >= len(r.cols) {
		return nil
	}
	c := r.cols[msg.col]
	step := c.player.Schedule().Steps[msg.step]
	c.next++
	p := m.replayPane(msg.col)
	rc := m.rc(p)
	if step.Model != "" && step.Model != p.chat.Settings().Model {
		p.chat.SetModel(step.Model)
	}
	var err error
	switch step.Kind {
	case session.StepSend:
		err = p.submitShown(m.ctx, step.Prompt, step.Prompt, rc)
	case session.StepRetry:
		err = p.retry(m.ctx, rc)
	case session.StepContinue:
		err = p.continueWith(m.ctx, step.Results, rc)
	}
	if err != nil {
		p.warning("replay: answer "+fmt.Sprint(c.next)+" could not be replayed: "+err.Error(), rc)
		return m.replayWaitColumn(msg.col)
	}
	m.refresh()
	return m.ensureTicking()
}

// continueWith hands the tool results back and streams the answer that
// carries on from them.
func (p *Pane) continueWith(ctx context.Context, results []provider.Message, rc renderCtx) error {
	for _, res := range results {
		if err := p.chat.AddToolResult(res.ToolCallID, res.Content); err != nil {
			return err
		}
	}
	turn, err := p.chat.Continue(ctx)
	if err != nil {
		return err
	}
	p.beginLive(turn, rc)
	return nil
}

// onReplayKey handles the replay's keys: space pauses, + and - change the
// speed, n and p move to the next and previous answer, End to the end,
// q quits. Scrolling and the view keys work as in the chat, and in a
// comparison its keys that move around and compare (tab, alt+m, alt+s, d);
// the prompt editor is not there.
func (m *Model) onReplayKey(msg tea.KeyPressMsg) tea.Cmd {
	r := m.replay
	pl := r.Player
	first := r.cols[0]
	sched := pl.Schedule()
	switch msg.String() {
	case "q", "ctrl+c", "ctrl+d":
		return m.quit()
	case "space", " ":
		paused := pl.TogglePause()
		for _, c := range r.cols[1:] {
			c.player.SetPaused(paused)
		}
		if paused {
			m.setFlash("paused — space plays on", false)
		} else {
			m.setFlash("playing", false)
		}
	case "+", "=", "-", "_":
		s := pl.Faster(msg.String() == "+" || msg.String() == "=")
		for _, c := range r.cols[1:] {
			c.player.SetSpeed(s)
		}
		m.setFlash(fmt.Sprintf("speed %s", speedText(s)), false)
	case "n":
		// Every column moves to the earliest next answer of any.
		target := time.Duration(-1)
		for _, c := range r.cols {
			cs := c.player.Schedule()
			if c.next < len(cs.Starts) && (target < 0 || cs.Steps[cs.Starts[c.next]].At < target) {
				target = cs.Steps[cs.Starts[c.next]].At
			}
		}
		for _, c := range r.cols {
			if target < 0 {
				c.player.Seek(c.player.Schedule().Total)
			} else {
				c.player.Seek(target)
			}
		}
		m.followEnd()
	case "p":
		cur := max(first.next-1, 0)
		target := time.Duration(0)
		if len(sched.Starts) > 0 {
			target = sched.Steps[sched.Starts[min(cur, len(sched.Starts)-1)]].At
			if pl.Position()-target < 2*time.Second && cur > 0 {
				target = sched.Steps[sched.Starts[cur-1]].At
			}
		}
		return m.rewindReplay(target)
	case "end":
		for _, c := range r.cols {
			c.player.Seek(c.player.Schedule().Total)
		}
		m.followEnd()
	default:
		if m.cmp != nil {
			if cmd, ok := m.onCompareKey(msg); ok {
				return cmd
			}
		}
		cmd, _ := m.onViewKey(msg)
		return cmd
	}
	m.refresh()
	return nil
}

// followEnd scrolls the replayed panes to their end, following new
// output.
func (m *Model) followEnd() {
	for i := range m.replay.cols {
		p := m.replayPane(i)
		p.scrollToBottom(m.rc(p))
	}
}

// rewindReplay plays the replay again from its start up to target: the
// pane starts afresh and the answers before target stream in at once.
func (m *Model) rewindReplay(target time.Duration) tea.Cmd {
	r := m.replay
	r.seq++
	for i, c := range r.cols {
		if c.cancel != nil {
			c.cancel()
			c.cancel = nil
		}
		c.player.Rewind(target)
		p := m.replayPane(i)
		p.reset(m.rc(p))
		c.next = 0
	}
	m.setFlash("answer "+fmt.Sprint(answerAt(r.Player.Schedule(), target)), false)
	return m.replayWait()
}

// answerAt is the number (from 1) of the answer playing at position v.
func answerAt(sched *session.Schedule, v time.Duration) int {
	n := 0
	for _, i := range sched.Starts {
		if sched.Steps[i].At > v {
			break
		}
		n++
	}
	return max(n, 1)
}

// speedText writes a speed as "2×" or "0.5×".
func speedText(s float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", s), "0"), ".") + "×"
}

// replayLine is the line that takes the prompt editor's place in a
// replay: the state, the speed, which answer is playing and the time, and
// the keys.
func (m *Model) replayLine() string {
	r := m.replay
	pl := r.Player
	sched := pl.Schedule()
	total, finished := sched.Total, true
	for _, c := range r.cols {
		total = max(total, c.player.Schedule().Total)
		finished = finished && c.player.Finished()
	}
	pos := min(pl.Position(), total)
	state := "▶ replay"
	switch {
	case finished && !m.streaming():
		state = "■ replayed"
	case pl.Paused():
		state = "❚❚ paused"
	}
	info := fmt.Sprintf(" %s · answer %d/%d · %s / %s", speedText(pl.Speed()), min(max(r.cols[0].next, 1), len(sched.Starts)),
		len(sched.Starts), clockSeconds(int(pos/time.Second)), clockSeconds(int(total/time.Second)))
	if n := len(r.cols); n > 1 {
		info += fmt.Sprintf(" · %d columns", n)
	}
	if r.Title != "" {
		info += " · " + sanitize.Line(r.Title)
	}
	keys := "   space pause · +/- speed · n/p answer · end · q quit"
	line := m.th.Accent.Render(state) + info + m.th.Dim.Render(keys)
	return ansi.Truncate(line, m.width, "…")
}

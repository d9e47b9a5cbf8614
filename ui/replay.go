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
}

// replayState drives a replay: it acts out the steps that start answers
// (the prompts, retries and tool results) on the pane's chat when they
// fall due, one after the other answer has ended.
type replayState struct {
	Replay
	next   int                // index in Schedule.Starts of the next answer to start
	seq    int                // replayStepMsg of an earlier seq are stale
	cancel context.CancelFunc // ends the pending wait
	begun  bool
}

// replayStepMsg says a step that starts an answer is due (err nil) or
// its wait ended.
type replayStepMsg struct {
	seq, step int
	err       error
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

// replayWait waits, off the chat's goroutine, for the next answer's start
// to fall due.
func (m *Model) replayWait() tea.Cmd {
	r := m.replay
	sched := r.Player.Schedule()
	if r.next >= len(sched.Starts) {
		m.refresh()
		return nil
	}
	if r.cancel != nil {
		r.cancel()
	}
	ctx, cancel := context.WithCancel(m.ctx)
	r.cancel = cancel
	p, seq, step, gen := r.Player, r.seq, sched.Starts[r.next], r.Player.Generation()
	return func() tea.Msg { return replayStepMsg{seq: seq, step: step, err: p.Wait(ctx, gen, step)} }
}

// onReplayStep acts out a step that fell due: the prompt is sent, the
// answer retried or the tool results handed back, and the recorded answer
// streams in.
func (m *Model) onReplayStep(msg replayStepMsg) tea.Cmd {
	r := m.replay
	if r == nil || msg.seq != r.seq || msg.err != nil {
		return nil
	}
	step := r.Player.Schedule().Steps[msg.step]
	r.next++
	p := m.focused()
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
		p.warning("replay: answer "+fmt.Sprint(r.next)+" could not be replayed: "+err.Error(), rc)
		return m.replayWait()
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
// q quits. Scrolling and the view keys work as in the chat; the prompt
// editor is not there.
func (m *Model) onReplayKey(msg tea.KeyPressMsg) tea.Cmd {
	r := m.replay
	pl := r.Player
	sched := pl.Schedule()
	switch msg.String() {
	case "q", "ctrl+c", "ctrl+d":
		return m.quit()
	case "space", " ":
		if pl.TogglePause() {
			m.setFlash("paused — space plays on", false)
		} else {
			m.setFlash("playing", false)
		}
	case "+", "=":
		m.setFlash(fmt.Sprintf("speed %s", speedText(pl.Faster(true))), false)
	case "-", "_":
		m.setFlash(fmt.Sprintf("speed %s", speedText(pl.Faster(false))), false)
	case "n":
		if r.next < len(sched.Starts) {
			pl.Seek(sched.Steps[sched.Starts[r.next]].At)
		} else {
			pl.Seek(sched.Total)
		}
		m.followEnd()
	case "p":
		cur := max(r.next-1, 0)
		target := sched.Steps[sched.Starts[min(cur, len(sched.Starts)-1)]].At
		if len(sched.Starts) == 0 {
			target = 0
		} else if pl.Position()-target < 2*time.Second && cur > 0 {
			target = sched.Steps[sched.Starts[cur-1]].At
		}
		return m.rewindReplay(target)
	case "end":
		pl.Seek(sched.Total)
		m.followEnd()
	default:
		cmd, _ := m.onViewKey(msg)
		return cmd
	}
	m.refresh()
	return nil
}

// followEnd scrolls the focused pane to its end, following new output.
func (m *Model) followEnd() {
	p := m.focused()
	p.scrollToBottom(m.rc(p))
}

// rewindReplay plays the replay again from its start up to target: the
// pane starts afresh and the answers before target stream in at once.
func (m *Model) rewindReplay(target time.Duration) tea.Cmd {
	r := m.replay
	r.seq++
	if r.cancel != nil {
		r.cancel()
		r.cancel = nil
	}
	r.Player.Rewind(target)
	p := m.focused()
	p.reset(m.rc(p))
	r.next = 0
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
	pos := min(pl.Position(), sched.Total)
	state := "▶ replay"
	switch {
	case pl.Finished() && !m.streaming():
		state = "■ replayed"
	case pl.Paused():
		state = "❚❚ paused"
	}
	info := fmt.Sprintf(" %s · answer %d/%d · %s / %s", speedText(pl.Speed()), min(max(r.next, 1), len(sched.Starts)),
		len(sched.Starts), clockSeconds(int(pos/time.Second)), clockSeconds(int(sched.Total/time.Second)))
	if r.Title != "" {
		info += " · " + sanitize.Line(r.Title)
	}
	keys := "   space pause · +/- speed · n/p answer · end · q quit"
	line := m.th.Accent.Render(state) + info + m.th.Dim.Render(keys)
	return ansi.Truncate(line, m.width, "…")
}

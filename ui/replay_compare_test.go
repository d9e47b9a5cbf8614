package ui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
)

// finishedTurns counts a pane's finished answers.
func finishedTurns(p *Pane) int {
	n := 0
	for _, t := range p.chat.Turns() {
		if t.Finished() {
			n++
		}
	}
	return n
}

// TestReplayComparisonSideBySide: a comparison replays in the compare
// screen, each column played by its own player (here one answer in the
// first, two in the second), and the replay's keys act on every column.
func TestReplayComparisonSideBySide(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	clk := session.NewManualClock(time.Unix(0, 0))
	var players []*session.Player
	var panes []PaneSpec
	for i, n := range []int{1, 2} {
		pl := session.NewPlayer(session.NewSchedule(castConversation(n, 0), session.ScheduleOptions{Instant: true}),
			session.PlayerOptions{Clock: clk})
		players = append(players, pl)
		panes = append(panes, PaneSpec{Label: []string{"left-model", "right-model"}[i], ProviderName: "gw",
			Settings: session.Settings{Model: "m-1"}, Provider: pl.Provider("gw", provider.DialectOpenAI)})
	}
	h := newHarness(t, nil, func(o *Options) {
		o.Panes = panes
		o.Replay = &Replay{Player: players[0], Columns: players, Title: "two columns"}
	})
	h.update(tea.WindowSizeMsg{Width: 160, Height: 40})
	h.m.now = players[0].Now
	if h.m.cmp == nil || len(h.m.panes) != 2 {
		t.Fatalf("not the compare screen: %d panes", len(h.m.panes))
	}
	h.runAll(h.m.replayWait())
	deadline := time.Now().Add(10 * time.Second)
	for finishedTurns(h.m.panes[0]) < 1 || finishedTurns(h.m.panes[1]) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the columns did not replay: %d and %d answers\n%s", finishedTurns(h.m.panes[0]), finishedTurns(h.m.panes[1]), h.plain())
		}
		h.runAll(h.update(h.next()))
	}
	h.frame()
	screen := h.plain()
	contains(t, screen, "1 left-model", "2 right-model", "2 columns", "two columns")
	if !lineWithBoth(screen, "question number 1", "question number 2") && !lineWithBoth(screen, "forty-two", "forty-two") {
		t.Fatalf("the columns are not side by side:\n%s", screen)
	}
	if got := h.m.panes[0].chat.Conversation().Messages; len(got) != 2 || got[0].Content != "question number 1" {
		t.Fatalf("the first column replayed %+v", got)
	}
	if got := h.m.panes[1].chat.Conversation().Messages; len(got) != 4 || got[2].Content != "question number 2" {
		t.Fatalf("the second column replayed %+v", got)
	}
	// The compare screen's keys move around; its commands are not offered.
	h.runAll(h.update(tea.KeyPressMsg{Code: tea.KeyTab}))
	if h.m.focus != 1 {
		t.Fatalf("tab left the focus on column %d", h.m.focus+1)
	}
	if strings.Contains(h.plain(), "/pick N") {
		t.Fatalf("the replay offers /pick:\n%s", h.plain())
	}
	// Space pauses every column, + speeds every one up.
	h.runAll(h.update(tea.KeyPressMsg{Code: ' ', Text: " "}))
	if !players[0].Paused() || !players[1].Paused() {
		t.Fatal("space did not pause both columns")
	}
	h.runAll(h.update(tea.KeyPressMsg{Code: '+', Text: "+"}))
	if players[0].Speed() != 2 || players[1].Speed() != 2 {
		t.Fatalf("speeds %g and %g after +", players[0].Speed(), players[1].Speed())
	}
}

// lineWithBoth reports whether one line of screen holds both texts, one
// after the other.
func lineWithBoth(screen, a, b string) bool {
	for _, line := range strings.Split(screen, "\n") {
		if i := strings.Index(line, a); i >= 0 && strings.Contains(line[i+len(a):], b) {
			return true
		}
	}
	return false
}

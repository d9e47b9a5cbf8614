package cli

import (
	"context"
	"fmt"

	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
	"github.com/parley-chat/parley/store"
	"github.com/parley-chat/parley/ui"
)

// replayComparison plays a saved comparison in the compare screen: its
// columns side by side, each played by a player of its own with its
// recorded timing, all under the replay's keys. A comparison of more
// columns than the screen takes (or of one left) plays what it can: the
// first columns, or asks for a column's ID.
func (a *app) replayComparison(ctx context.Context, cmp *store.Comparison, o replayOptions) error {
	if o.cast != "" {
		return usageErrorf("--cast writes one conversation: give the ID of one of the comparison's columns (parley sessions show %s names them)", cmp.ID)
	}
	cols := cmp.Columns
	if len(cols) > session.MaxColumns {
		a.warn(fmt.Sprintf("the comparison has more columns than the screen shows: playing the first %d", session.MaxColumns))
		cols = cols[:session.MaxColumns]
	}
	if len(cols) < session.MinColumns {
		return usageErrorf("comparison %s has one column left: replay it with parley replay %s", cmp.ID, cols[0].ID)
	}
	var players []*session.Player
	var panes []ui.PaneSpec
	answers := 0
	for _, c := range cols {
		sched := session.NewSchedule(c.Saved(), session.ScheduleOptions{Instant: o.instant, MaxIdle: o.maxIdle})
		answers += len(sched.Starts)
		pl := session.NewPlayer(sched, session.PlayerOptions{Speed: o.speed, Guard: a.replayGuard(c)})
		players = append(players, pl)
		panes = append(panes, ui.PaneSpec{Label: c.ColumnName(), ProviderName: c.Provider, Settings: c.Settings,
			Provider: pl.Provider(c.Provider, provider.Dialect(c.Dialect))})
	}
	if answers == 0 {
		return usageErrorf("comparison %s has no answer to replay", cmp.ID)
	}
	opts := ui.Options{Panes: panes, Theme: a.replayTheme(), HideReasoning: a.f.hideReasoning,
		Replay: &ui.Replay{Player: players[0], Columns: players, Title: cmp.Title}}
	return a.runReplay(ctx, opts)
}

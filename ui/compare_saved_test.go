package ui

import (
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/parley-chat/parley/session"
)

// TestColumnObserversSeeEveryColumn: the columns a comparison opens with
// and the one /fuse adds are each handed to ColumnObservers with the
// comparison's ID and their position, and what it returns watches the
// column's chat.
func TestColumnObserversSeeEveryColumn(t *testing.T) {
	var refs []ColumnRef
	h := newHarness(t, nil, func(o *Options) {
		o.Panes = nil
		for _, m := range []string{"m-one", "m-two"} {
			o.Panes = append(o.Panes, PaneSpec{Provider: &scriptProvider{events: answerScript(m, m+" says hi.")},
				ProviderName: "gw", Settings: session.Settings{Model: m}})
		}
		o.ColumnObservers = func(r ColumnRef) []session.Observer {
			refs = append(refs, r)
			return nil
		}
	})
	h.update(tea.WindowSizeMsg{Width: 120, Height: 30})
	if len(refs) != 2 || refs[0].Comparison != h.m.cmp.cmp.ID || refs[0].Comparison == "" ||
		refs[0].Position != 0 || refs[1].Position != 1 || refs[1].Spec.Settings.Model != "m-two" || refs[0].Adopted {
		t.Fatalf("the columns opened with: %+v", refs)
	}
	h.typeText("explain SSE")
	h.press(tea.KeyEnter, 0)
	h.finishAll(10 * time.Millisecond)
	h.typeText("/fuse 2")
	h.press(tea.KeyEnter, 0)
	if len(refs) != 3 || refs[2].Position != 2 || refs[2].Comparison != refs[0].Comparison || refs[2].Spec.Label != "fusion by m-two" {
		t.Fatalf("the column /fuse added: %+v", refs)
	}
}

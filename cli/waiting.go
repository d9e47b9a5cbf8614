package cli

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/parley-chat/parley/provider"
)

// How print mode shows a wait for the gateway.
const (
	// waitNoticeAfter is how long the answer may take to begin before
	// print mode says it is waiting.
	waitNoticeAfter = 3 * time.Second
	// waitNoticeTick is how often the shown wait counts up.
	waitNoticeTick = time.Second
)

// withWaitNotice makes p's streams tell a person at a terminal (w a
// terminal: on) that the gateway has not begun to answer yet: once a wait
// lasts waitNoticeAfter, a line "parley: waiting for the gateway · 0:42"
// counts up in place on w until anything arrives, and is then erased. A
// gateway may hold a request legitimately (an auto-queue holds it for up
// to two minutes); only silence is the problem. The wait restarts after
// each retry's own pause. With on false, p is returned as it is.
func withWaitNotice(p provider.Provider, w io.Writer, on bool) provider.Provider {
	if !on {
		return p
	}
	return &waitNotice{Provider: p, w: w, after: waitNoticeAfter, tick: waitNoticeTick, now: time.Now}
}

// waitNotice is a Provider whose Stream shows the wait; see withWaitNotice.
type waitNotice struct {
	provider.Provider
	w           io.Writer
	after, tick time.Duration
	now         func() time.Time
}

func (n *waitNotice) Stream(ctx context.Context, req *provider.Request, emit func(provider.Event)) error {
	var mu sync.Mutex // orders the notice's writes with the events' output
	since := n.now()
	waiting, shown := true, false
	clear := func() {
		if shown {
			io.WriteString(n.w, "\r\x1b[K")
			shown = false
		}
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTicker(n.tick)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			mu.Lock()
			if d := n.now().Sub(since); waiting && d >= n.after {
				s := int(d / time.Second)
				fmt.Fprintf(n.w, "\r\x1b[Kparley: waiting for the gateway to answer · %d:%02d", s/60, s%60)
				shown = true
			}
			mu.Unlock()
		}
	}()
	err := n.Provider.Stream(ctx, req, func(ev provider.Event) {
		mu.Lock()
		defer mu.Unlock()
		clear()
		switch e := ev.(type) {
		case provider.Retry:
			since = n.now().Add(e.Wait)
		case provider.RateLimit:
		default:
			waiting = false
		}
		emit(ev)
	})
	mu.Lock()
	waiting = false
	clear()
	mu.Unlock()
	return err
}

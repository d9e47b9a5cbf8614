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

// withWaitNotice makes p's streams tell a person at a terminal (w is a
// terminal: on) that the gateway has not begun to answer yet: once a wait
// lasts waitNoticeAfter, a line "parley: waiting for the gateway to
// answer · 0:42" counts up in place on w until the answer begins. A
// gateway may hold a request legitimately (an auto-queue holds it for up
// to two minutes); only silence is the problem. The wait restarts after
// each retry's own pause. Everything else written to w must go through the
// returned writer, which erases the notice first, so that the two never
// mix. With on false, p and w are returned as they are.
func withWaitNotice(p provider.Provider, w io.Writer, on bool) (provider.Provider, io.Writer) {
	if !on {
		return p, w
	}
	n := &waitNotice{Provider: p, w: w, after: waitNoticeAfter, tick: waitNoticeTick, now: time.Now}
	return n, (*noticeWriter)(n)
}

// waitNotice is a Provider whose Stream shows the wait; see withWaitNotice.
type waitNotice struct {
	provider.Provider
	w           io.Writer
	after, tick time.Duration
	now         func() time.Time

	mu      sync.Mutex // guards the fields below and every write to w
	since   time.Time  // when the current wait began
	waiting bool
	shown   bool // the notice is on the terminal's current line
}

// noticeWriter writes to the notice's terminal, erasing the notice first.
type noticeWriter waitNotice

func (nw *noticeWriter) Write(p []byte) (int, error) {
	n := (*waitNotice)(nw)
	n.mu.Lock()
	defer n.mu.Unlock()
	n.erase()
	return n.w.Write(p)
}

// erase removes the notice from the terminal; n.mu is held.
func (n *waitNotice) erase() {
	if n.shown {
		io.WriteString(n.w, "\r\x1b[K")
		n.shown = false
	}
}

func (n *waitNotice) Stream(ctx context.Context, req *provider.Request, emit func(provider.Event)) error {
	n.mu.Lock()
	n.since, n.waiting = n.now(), true
	n.mu.Unlock()
	done := make(chan struct{})
	defer close(done)
	go n.count(done)
	err := n.Provider.Stream(ctx, req, func(ev provider.Event) {
		n.mu.Lock()
		switch e := ev.(type) {
		case provider.Retry:
			n.since = n.now().Add(e.Wait)
		case provider.RateLimit:
		default:
			n.waiting = false
		}
		// Erased before the event goes on: the printer may write it to
		// stdout, which does not pass through the notice's writer.
		n.erase()
		n.mu.Unlock()
		emit(ev)
	})
	n.mu.Lock()
	n.waiting = false
	n.erase()
	n.mu.Unlock()
	return err
}

// count shows the wait, updated every tick, until done.
func (n *waitNotice) count(done <-chan struct{}) {
	t := time.NewTicker(n.tick)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		n.mu.Lock()
		if d := n.now().Sub(n.since); n.waiting && d >= n.after {
			s := int(d / time.Second)
			fmt.Fprintf(n.w, "\r\x1b[Kparley: waiting for the gateway to answer · %d:%02d", s/60, s%60)
			n.shown = true
		} else if !n.waiting {
			n.erase()
		}
		n.mu.Unlock()
	}
}

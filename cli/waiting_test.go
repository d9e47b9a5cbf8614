package cli

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/provider"
)

// slowProvider takes a while before its answer begins.
type slowProvider struct {
	provider.Provider
	begin chan struct{}
}

func (p *slowProvider) Stream(ctx context.Context, req *provider.Request, emit func(provider.Event)) error {
	emit(provider.RateLimit{Scope: "requests", Limit: 5, Remaining: 4})
	<-p.begin
	emit(provider.Started{Status: 200})
	emit(provider.TextDelta{Text: "answer"})
	emit(provider.Done{FinishReason: "stop"})
	return nil
}

// lockedBuffer is a bytes.Buffer safe for the notice's goroutine and the
// test's reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestWaitNotice(t *testing.T) {
	var out lockedBuffer
	sp := &slowProvider{begin: make(chan struct{})}
	prov, stderr := withWaitNotice(sp, &out, true)
	p := prov.(*waitNotice)
	p.after, p.tick = 20*time.Millisecond, 5*time.Millisecond
	var events []string
	done := make(chan error, 1)
	go func() {
		done <- p.Stream(context.Background(), &provider.Request{}, func(ev provider.Event) {
			events = append(events, ev.Type())
			// The printer writes through the notice's writer, from anywhere.
			go stderr.Write([]byte("<" + ev.Type() + ">"))
		})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "parley: waiting for the gateway to answer · 0:00") {
		if time.Now().After(deadline) {
			t.Fatalf("no notice while waiting: %q", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(sp.begin)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(out.String(), "<done>") {
		if time.Now().After(deadline) {
			t.Fatalf("the events never came out: %q", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	got := out.String()
	// The notice is erased before anything else is written, and never
	// comes back once the answer has begun.
	i, j := strings.LastIndex(got, "waiting"), strings.Index(got, "<started>")
	if i > j || !strings.Contains(got[i:j], "\r\x1b[K") {
		t.Errorf("the notice was not erased before the answer: %q", got)
	}
	if strings.Join(events, " ") != "ratelimit started text done" {
		t.Errorf("events %v", events)
	}
	if q, w := withWaitNotice(sp, &out, false); q != provider.Provider(sp) || w != io.Writer(&out) {
		t.Error("off a terminal the provider or the writer is wrapped")
	}
}

package store

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
)

// scripted is a provider whose answers the test writes: script runs for
// the n-th request (from 1).
type scripted struct {
	provider.Provider
	script func(n int, ctx context.Context, emit func(provider.Event)) error
	mu     sync.Mutex
	reqs   []*provider.Request
}

func (p *scripted) Stream(ctx context.Context, req *provider.Request, emit func(provider.Event)) error {
	p.mu.Lock()
	p.reqs = append(p.reqs, req)
	n := len(p.reqs)
	p.mu.Unlock()
	return p.script(n, ctx, emit)
}

// answering is a script that answers each prompt with text, reasoning and
// usage.
func answering(text func(n int) string) func(int, context.Context, func(provider.Event)) error {
	return func(n int, _ context.Context, emit func(provider.Event)) error {
		emit(provider.Started{Status: 200, Model: "gw-model", ChatID: ""})
		emit(provider.ReasoningDelta{Text: "thinking "})
		emit(provider.ReasoningDelta{Text: "hard"})
		t := text(n)
		for len(t) > 0 {
			k := min(len(t), 5)
			emit(provider.TextDelta{Text: t[:k]})
			t = t[k:]
		}
		emit(provider.Usage{InputTokens: 10, OutputTokens: 5, TotalTokens: 15})
		emit(provider.Done{FinishReason: "stop"})
		return nil
	}
}

// rig is a chat owned by the test, recorded into a store.
type rig struct {
	t    *testing.T
	st   *Store
	chat *session.Chat
	rec  *Recorder
	evs  chan session.Stamped
}

func openTemp(t *testing.T, o Options) (*Store, string) {
	t.Helper()
	dir := t.TempDir() + "/data"
	st, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, dir
}

func newRig(t *testing.T, st *Store, p provider.Provider, resumed *Conversation) *rig {
	t.Helper()
	return newRigWith(t, st, p, RecorderOptions{Origin: OriginChat, Resumed: resumed})
}

// newRigWith is newRig with the recorder's options (its provider, dialect
// and error report are the rig's).
func newRigWith(t *testing.T, st *Store, p provider.Provider, ro RecorderOptions) *rig {
	t.Helper()
	resumed := ro.Resumed
	r := &rig{t: t, st: st, evs: make(chan session.Stamped, 1024)}
	o := session.ChatOptions{Provider: p, Settings: session.Settings{Model: "m-1", System: "be brief"},
		Deliver: func(ev session.Stamped) { r.evs <- ev }}
	if resumed != nil {
		r.chat = session.RestoreChat(o, resumed.Saved())
	} else {
		r.chat = session.NewChat(o)
	}
	ro.Provider, ro.Dialect, ro.OnError = "gw", provider.DialectOpenAI, func(err error) { t.Errorf("saving: %v", err) }
	r.rec = st.Recorder(ro)
	r.chat.Observe(r.rec)
	t.Cleanup(func() { r.chat.Cancel() })
	return r
}

// next hands the next event to the chat.
func (r *rig) next() session.Update {
	r.t.Helper()
	select {
	case ev := <-r.evs:
		return r.chat.Handle(ev)
	case <-time.After(10 * time.Second):
		r.t.Fatal("no event delivered")
		return session.Update{}
	}
}

// finish handles events until the current answer ends.
func (r *rig) finish() {
	r.t.Helper()
	for !r.next().Finished {
	}
}

// ask sends a prompt and waits for the whole answer.
func (r *rig) ask(prompt string) *session.Turn {
	r.t.Helper()
	turn, err := r.chat.Send(context.Background(), prompt)
	if err != nil {
		r.t.Fatal(err)
	}
	r.finish()
	return turn
}

func (r *rig) flush() {
	r.t.Helper()
	if err := r.rec.Flush(); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) load() *Conversation {
	r.t.Helper()
	r.flush()
	c, err := r.st.Load(context.Background(), r.chat.Conversation().ID, LoadOptions{Timelines: true})
	if err != nil {
		r.t.Fatal(err)
	}
	return c
}

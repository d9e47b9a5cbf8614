package ui

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
)

// scriptProvider streams a fixed list of events. With holdBefore > 0 it
// waits for release (or cancellation) before emitting events[holdBefore].
type scriptProvider struct {
	events     []provider.Event
	holdBefore int
	release    chan struct{}
	mu         sync.Mutex
	reqs       []*provider.Request
}

func (s *scriptProvider) Name() string              { return "script" }
func (s *scriptProvider) Dialect() provider.Dialect { return provider.DialectOpenAI }
func (s *scriptProvider) Models(context.Context) ([]provider.Model, error) {
	return nil, nil
}

func (s *scriptProvider) Stream(ctx context.Context, req *provider.Request, emit func(provider.Event)) error {
	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	s.mu.Unlock()
	for i, ev := range s.events {
		if s.holdBefore > 0 && i == s.holdBefore {
			select {
			case <-s.release:
			case <-ctx.Done():
				ae := &provider.APIError{Kind: provider.KindCanceled}
				emit(provider.Error{Err: ae})
				return ae
			}
		}
		emit(ev)
	}
	return nil
}

func (s *scriptProvider) requests() []*provider.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*provider.Request(nil), s.reqs...)
}

// harness drives a Model without a terminal: stream goroutines deliver
// into msgs, and the test feeds them to Update itself, with a fake clock.
// The stream goroutines read the clock too, so it is atomic; and since
// the test decides when an event happens by when it takes it (next), an
// event is stamped again with the fake clock as it is taken.
type harness struct {
	t     *testing.T
	m     *Model
	msgs  chan tea.Msg
	clock atomic.Int64 // unix nanoseconds
}

var testStart = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func newHarness(t *testing.T, p provider.Provider, mutate func(*Options)) *harness {
	t.Helper()
	t.Setenv("NO_COLOR", "")
	h := &harness{t: t, msgs: make(chan tea.Msg, 1<<16)}
	h.clock.Store(testStart.UnixNano())
	opts := Options{Panes: []PaneSpec{{Provider: p, ProviderName: "gw", Settings: session.Settings{Model: "m-1"}}}, Theme: "dark",
		noWelcome: true}
	if mutate != nil {
		mutate(&opts)
	}
	m, err := newModel(context.Background(), opts, func(msg tea.Msg) { h.msgs <- msg })
	if err != nil {
		t.Fatal(err)
	}
	m.now = h.now
	h.m = m
	t.Cleanup(m.shutdown)
	h.update(tea.WindowSizeMsg{Width: 80, Height: 24})
	return h
}

func (h *harness) update(msg tea.Msg) tea.Cmd {
	_, cmd := h.m.Update(msg)
	return cmd
}

func (h *harness) now() time.Time { return time.Unix(0, h.clock.Load()).UTC() }

func (h *harness) advance(d time.Duration) { h.clock.Add(int64(d)) }

// typeText types s into the input.
func (h *harness) typeText(s string) {
	for _, r := range s {
		h.update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func (h *harness) press(code rune, mod tea.KeyMod) tea.Cmd {
	return h.update(tea.KeyPressMsg{Code: code, Mod: mod})
}

// next waits for the next message from a stream goroutine.
func (h *harness) next() tea.Msg {
	h.t.Helper()
	select {
	case msg := <-h.msgs:
		if pe, ok := msg.(paneEventMsg); ok {
			pe.Ev.At = h.now()
			return pe
		}
		return msg
	case <-time.After(5 * time.Second):
		h.t.Fatal("no message from the stream")
		return nil
	}
}

// pump feeds stream messages to Update until n pane events were applied
// or a terminal event arrives, and returns how many were applied.
func (h *harness) pump(n int) int {
	h.t.Helper()
	for i := 0; i < n; i++ {
		msg := h.next()
		h.update(msg)
		if pe, ok := msg.(paneEventMsg); ok {
			switch pe.Ev.Event.(type) {
			case provider.Done, provider.Error:
				return i + 1
			}
		}
	}
	return n
}

// content is the screen as the view assembles it, downsampled to the
// ASCII colour profile (attributes kept, colours dropped).
func (h *harness) content() string {
	v := h.m.View()
	var buf bytes.Buffer
	w := &colorprofile.Writer{Forward: &buf, Profile: colorprofile.Ascii}
	_, _ = w.WriteString(v.Content)
	return buf.String()
}

// plain is the screen without any escape sequences.
func (h *harness) plain() string {
	return ansi.Strip(h.m.View().Content)
}

func (h *harness) frame() { h.update(frameMsg{}) }

func contains(t *testing.T, screen string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(screen, w) {
			t.Fatalf("screen lacks %q:\n%s", w, screen)
		}
	}
}

package session

import (
	"context"
	"testing"
	"time"

	"github.com/parley-chat/parley/provider"
)

// TestTurnRecordsItsRequestOnTheChatsClock: a turn names the model its
// request asked for, and the wait for the gateway counts from the turn's
// start on the chat's own clock (the one its owner reads).
func TestTurnRecordsItsRequestOnTheChatsClock(t *testing.T) {
	clock := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	p := &scriptedProvider{script: func(_ int, ctx context.Context, _ func(provider.Event)) error {
		<-ctx.Done()
		return ctx.Err()
	}}
	c := NewChat(ChatOptions{Provider: p, Settings: Settings{Model: "m-1"}, Now: func() time.Time { return clock }})
	t.Cleanup(func() { c.Cancel() })
	turn, err := c.Send(t.Context(), "hi")
	if err != nil {
		t.Fatal(err)
	}
	if turn.RequestModel != "m-1" {
		t.Fatalf("RequestModel %q", turn.RequestModel)
	}
	if s := c.State(); s.Phase != PhaseConnecting || !s.Since.Equal(clock) {
		t.Fatalf("state %+v, want connecting since %v", s, clock)
	}
}

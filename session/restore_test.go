package session

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parley-chat/parley/provider"
)

// savedTurn copies a finished turn the way a store brings it back: the
// exported fields, then Restore with the text and reasoning.
func savedTurn(t *Turn) *Turn {
	c := &Turn{Superseded: t.Superseded, Sent: t.Sent, Start: t.Start, End: t.End, ToolCalls: t.ToolCalls,
		Usage: t.Usage, HasUsage: t.HasUsage, Model: t.Model, ChatID: t.ChatID, FinishReason: t.FinishReason,
		Err: t.Err, Interrupted: t.Interrupted}
	c.Restore(t.Text(), t.Reasoning())
	return c
}

func TestRestoreChatCarriesOn(t *testing.T) {
	answers := func(n int, _ context.Context, emit func(provider.Event)) error {
		emit(provider.Started{Status: 200, Model: "m-1"})
		emit(provider.ReasoningDelta{Text: "hmm"})
		emit(provider.TextDelta{Text: fmt.Sprintf("answer %d", n)})
		emit(provider.Usage{InputTokens: 10 * n, OutputTokens: 3, TotalTokens: 10*n + 3})
		emit(provider.Done{FinishReason: "stop"})
		return nil
	}
	p := &scriptedProvider{script: answers}
	r := newChatRig(t, p, Settings{Model: "m"})
	r.chat.Send(t.Context(), "one")
	r.finish()
	r.chat.Send(t.Context(), "two")
	r.finish()
	r.chat.Retry(t.Context()) // answer 2 is superseded by answer 3
	r.finish()
	turns := r.chat.Turns()
	if len(turns) != 3 || turns[0].Sent != 1 || turns[1].Sent != 3 || turns[2].Sent != 3 {
		t.Fatalf("Sent: %d %d %d", turns[0].Sent, turns[1].Sent, turns[2].Sent)
	}

	saved := Saved{ID: "abc", Created: time.Unix(100, 0), Messages: r.chat.Conversation().Messages}
	for _, tt := range turns {
		saved.Turns = append(saved.Turns, savedTurn(tt))
	}
	p2 := &scriptedProvider{script: answers}
	r2 := &chatRig{t: t, evs: make(chan Stamped, 64), rec: &recorder{}}
	r2.chat = RestoreChat(ChatOptions{Provider: p2, Settings: Settings{Model: "m"},
		Deliver: func(ev Stamped) { r2.evs <- ev }}, saved)
	t.Cleanup(func() { r2.chat.Cancel() })
	c := r2.chat
	if c.Conversation().ID != "abc" || c.Streaming() || len(c.Turns()) != 3 || c.Turn() != saved.Turns[2] {
		t.Fatalf("restored chat: id %q turns %d", c.Conversation().ID, len(c.Turns()))
	}
	if got := c.Turn().Text(); got != "answer 3" || c.Turn().Reasoning() != "hmm" || !c.Turn().Finished() {
		t.Fatalf("restored turn text %q", got)
	}
	if tot := c.Totals(time.Now()); tot.LastTokens != 3 || tot.ConversationTokens != 33 {
		t.Fatalf("totals %+v", tot)
	}
	// Retry supersedes only the answer to the last prompt.
	c.Retry(t.Context())
	r2.finish()
	ts := c.Turns()
	if len(ts) != 4 || ts[0].Superseded || !ts[1].Superseded || !ts[2].Superseded || ts[3].Superseded {
		t.Fatalf("superseded after retry: %v %v %v %v", ts[0].Superseded, ts[1].Superseded, ts[2].Superseded, ts[3].Superseded)
	}
	// The next prompt carries the saved messages.
	c.Send(t.Context(), "three")
	r2.finish()
	reqs := p2.requests()
	msgs := reqs[len(reqs)-1].Messages
	want := []string{"one", "answer 1", "two", "answer 1", "three"}
	if len(msgs) != len(want) {
		t.Fatalf("request carries %d messages: %+v", len(msgs), msgs)
	}
	for i, w := range want {
		if msgs[i].Content != w {
			t.Fatalf("message %d = %q, want %q", i, msgs[i].Content, w)
		}
	}
}

func TestRestoreChatContinuation(t *testing.T) {
	saved := Saved{ID: "x", Messages: []provider.Message{
		{Role: provider.RoleUser, Content: "hi"}, {Role: provider.RoleAssistant, Content: "hello"},
	}, ChatID: "chat_9", KnownMessages: 2, ChatSystem: "be brief"}
	p := &scriptedProvider{script: emitAll(provider.Done{})}
	c := RestoreChat(ChatOptions{Provider: p, Settings: Settings{Model: "m", System: "be brief"}}, saved)
	if req := c.Conversation().Request(); req.ChatID != "chat_9" || req.KnownMessages != 3 {
		t.Fatalf("continuation: %q %d", req.ChatID, req.KnownMessages)
	}
	if c.Conversation().ChatSystem() != "be brief" {
		t.Fatalf("chat system %q", c.Conversation().ChatSystem())
	}
	// A changed system prompt starts a new gateway chat.
	c = RestoreChat(ChatOptions{Provider: p, Settings: Settings{Model: "m", System: "other"}}, saved)
	if req := c.Conversation().Request(); req.ChatID != "" {
		t.Fatalf("continuation kept across a system change: %q", req.ChatID)
	}
	// A continuation claiming more messages than there are is dropped.
	saved.KnownMessages = 5
	c = RestoreChat(ChatOptions{Provider: p, Settings: Settings{Model: "m", System: "be brief"}}, saved)
	if req := c.Conversation().Request(); req.ChatID != "" {
		t.Fatalf("impossible continuation kept: %q", req.ChatID)
	}
}

func TestTurnRestore(t *testing.T) {
	tt := &Turn{ToolCalls: []provider.ToolCall{{ID: "c1", Name: "f", Arguments: `{"a":1}`}}}
	tt.Restore("text", "why")
	if !tt.Finished() || tt.Text() != "text" || tt.Reasoning() != "why" || !tt.Answered() {
		t.Fatalf("restored turn: %+v", tt)
	}
	if tt.Apply(provider.TextDelta{Text: "more"}, time.Now()); tt.Text() != "text" || len(tt.Events()) != 1 {
		t.Fatalf("an event changed a restored turn: %q", tt.Text())
	}
	if m := tt.Message(); m.Content != "text" || len(m.ToolCalls) != 1 {
		t.Fatalf("message %+v", m)
	}
}

func TestSavedTranscript(t *testing.T) {
	user := func(s string) provider.Message { return provider.Message{Role: provider.RoleUser, Content: s} }
	bot := func(s string) provider.Message { return provider.Message{Role: provider.RoleAssistant, Content: s} }
	replaced := &Turn{Sent: 1, Superseded: true}
	first := &Turn{Sent: 1}
	failed := &Turn{Sent: 3, Err: &provider.APIError{Kind: provider.KindHTTP}}
	s := Saved{Messages: []provider.Message{user("a"), bot("A"), user("b")}, Turns: []*Turn{replaced, first, failed}}
	got := s.Transcript()
	if len(got) != 4 {
		t.Fatalf("%d entries: %+v", len(got), got)
	}
	if got[0].Index != 0 || len(got[0].Replaced) != 1 || got[0].Replaced[0] != replaced {
		t.Fatalf("prompt entry %+v", got[0])
	}
	if got[1].Index != 1 || got[1].Turn != first {
		t.Fatalf("answer entry %+v", got[1])
	}
	// The answer that failed before any text follows its prompt.
	if got[2].Index != 2 || got[3].Index != -1 || got[3].Turn != failed {
		t.Fatalf("failed answer entries %+v %+v", got[2], got[3])
	}
}

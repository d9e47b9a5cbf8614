package session

import (
	"slices"
	"time"

	"github.com/parley-chat/parley/provider"
)

// Restore makes t, filled in from storage rather than from a stream, a
// finished turn whose answer text is text and whose reasoning is
// reasoning. Its exported fields (times, tool calls, usage, error, model)
// are taken as they are, and so is its timeline (see SetEvents). Events
// applied afterwards are recorded on its timeline and change nothing else,
// as on any finished turn.
func (t *Turn) Restore(text, reasoning string) {
	if t.loaded == nil && t.timeline.n > 0 {
		// The timeline's deltas are cut from the text being replaced.
		t.SetEvents(t.Events())
	}
	t.text.Reset()
	t.text.WriteString(text)
	t.reasoning.Reset()
	t.reasoning.WriteString(reasoning)
	t.toolBytes = 0
	for _, tc := range t.ToolCalls {
		t.toolBytes += len(tc.Name) + len(tc.Arguments)
	}
	t.finished = true
}

// Saved is a conversation as a store keeps it: enough to rebuild a Chat
// that carries on where the conversation stopped.
type Saved struct {
	ID       string
	Created  time.Time
	Messages []provider.Message
	// Turns are the conversation's answers in order, superseded ones
	// included, each finished (see Turn.Restore) and with Sent set.
	Turns []*Turn
	// ChatID and KnownMessages are the gateway's continuation (see
	// Conversation.ChatID); ChatSystem is the system prompt the gateway's
	// copy was made with (Conversation.ChatSystem).
	ChatID        string
	KnownMessages int
	ChatSystem    string
}

// RestoreChat returns an idle chat holding a saved conversation under its
// saved ID: the next Send carries the saved messages (or continues the
// gateway's copy of them), Turns lists the saved answers, Retry answers
// the last prompt again and Totals starts from the last answer. The
// request settings are ChatOptions.Settings: the caller chooses between
// the saved ones and new ones. Observers added afterwards see only what
// happens from then on.
func RestoreChat(o ChatOptions, s Saved) *Chat {
	c := NewChat(o)
	conv := c.conv
	conv.ID, conv.Created = s.ID, s.Created
	conv.Messages = slices.Clone(s.Messages)
	conv.Continue("")
	if s.ChatID != "" && s.KnownMessages <= len(conv.Messages) {
		conv.ChatID, conv.KnownMessages, conv.chatSystem = s.ChatID, s.KnownMessages, s.ChatSystem
	}
	c.turns = slices.Clone(s.Turns)
	c.answering = len(c.turns)
	last := lastUser(conv.Messages)
	for i, t := range c.turns {
		if !t.Superseded && t.Sent > last {
			c.answering = i
			break
		}
	}
	if n := len(c.turns); n > 0 {
		t := c.turns[n-1]
		c.turn = t
		c.lastDur = t.End.Sub(t.Start)
		sent := min(max(t.Sent, 0), len(conv.Messages))
		c.reqIn = EstimateTokens(len(conv.Settings.System))
		for _, m := range conv.Messages[:sent] {
			c.reqIn += estimateMessage(m)
		}
	}
	return c
}

// ChatSystem is the system prompt the gateway's copy of the conversation
// was made with, when ChatID is set: a store saves it with the
// continuation.
func (c *Conversation) ChatSystem() string { return c.chatSystem }

// lastUser is the index of the last user message; -1 when there is none.
func lastUser(msgs []provider.Message) int {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == provider.RoleUser {
			return i
		}
	}
	return -1
}

// Entry is one entry of a saved conversation's transcript.
type Entry struct {
	// Index is the message's position in Saved.Messages; -1 for an
	// answer that is not in the conversation (an error before any text,
	// or one still streaming elsewhere), which has Turn only.
	Index   int
	Message provider.Message
	// Turn is the turn whose answer the entry is: set for assistant
	// messages that came from a saved turn, and for answers without a
	// message.
	Turn *Turn
	// Replaced are, after a user message, the answers to it that /retry
	// replaced, in order.
	Replaced []*Turn
}

// Transcript lays the conversation out in reading order: each message
// with the turn that gave it, the answers /retry replaced after the
// prompt they answered, and answers that gave nothing (errors) after the
// message their request ended with.
func (s Saved) Transcript() []Entry {
	var out []Entry
	placed := make(map[*Turn]bool, len(s.Turns))
	for i, m := range s.Messages {
		e := Entry{Index: i, Message: m}
		switch m.Role {
		case provider.RoleUser:
			for _, t := range s.Turns {
				if t.Superseded && promptOf(s.Messages, t.Sent) == i {
					e.Replaced = append(e.Replaced, t)
					placed[t] = true
				}
			}
		case provider.RoleAssistant:
			for _, t := range s.Turns {
				if !t.Superseded && t.Sent == i && !placed[t] {
					e.Turn = t
					placed[t] = true
					break
				}
			}
		}
		out = append(out, e)
		for _, t := range s.Turns {
			if !placed[t] && !t.Superseded && t.Sent == i+1 && !answeredAt(s.Messages, t.Sent) {
				out = append(out, Entry{Index: -1, Turn: t})
				placed[t] = true
			}
		}
	}
	return out
}

// promptOf is the index of the last user message among the first sent;
// -1 when there is none.
func promptOf(msgs []provider.Message, sent int) int {
	return lastUser(msgs[:min(max(sent, 0), len(msgs))])
}

// answeredAt reports whether message i exists and is an answer.
func answeredAt(msgs []provider.Message, i int) bool {
	return i < len(msgs) && msgs[i].Role == provider.RoleAssistant
}

package session

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/parley-chat/parley/provider"
)

// Conversation is one chat: its settings and its messages in order. It is
// not safe for concurrent use; one owner (the UI's pane, or print mode)
// mutates it.
type Conversation struct {
	ID       string
	Created  time.Time
	Settings Settings
	Messages []provider.Message
	// ChatID is the gateway's own id for this conversation, where the
	// dialect keeps one (the native REST dialect), and KnownMessages how
	// many of Messages the gateway holds under it. Requests then send only
	// the rest. Both are cleared whenever the history and the gateway's
	// copy may differ.
	ChatID        string
	KnownMessages int
	// chatSystem is the system prompt the gateway's copy was made with:
	// the gateway takes it only when a chat starts, so a changed prompt
	// starts a new chat.
	chatSystem string
}

// NewConversation returns an empty conversation with a fresh random ID.
func NewConversation(s Settings) *Conversation {
	return &Conversation{ID: NewID(), Created: time.Now(), Settings: s}
}

// NewID returns a random 16-hex-digit identifier.
func NewID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Request builds the request for the conversation as it stands.
func (c *Conversation) Request() *provider.Request {
	req := c.Settings.Request(c.Messages)
	if c.ChatID != "" && c.KnownMessages <= len(c.Messages) && c.chatSystem == c.Settings.System {
		req.ChatID = c.ChatID
		// The system prompt the request adds in front is not part of
		// the gateway's copy of the messages.
		req.KnownMessages = c.KnownMessages + len(req.Messages) - len(c.Messages)
	}
	return req
}

// Continue records the gateway's chat id after a turn that completed: the
// gateway now holds every message so far. An empty id (a dialect without
// gateway-side chats, or a turn that failed or was interrupted) forgets
// the continuation, so the next request sends the whole history.
func (c *Conversation) Continue(chatID string) {
	c.ChatID = chatID
	c.KnownMessages = 0
	c.chatSystem = c.Settings.System
	if chatID != "" {
		c.KnownMessages = len(c.Messages)
	}
}

// AddUser appends a user message.
//
// Gateways reject a history in which an assistant's tool calls have no
// results, so calls still unanswered when the user moves on are first
// answered with a result saying they were not run.
func (c *Conversation) AddUser(text string) {
	c.AnswerPendingToolCalls(NotRunResult)
	c.Messages = append(c.Messages, provider.Message{Role: provider.RoleUser, Content: text})
}

// NotRunResult is the tool result recorded for a call that was never run.
const NotRunResult = `{"error":"not run: the user did not run this tool and moved on"}`

// PendingToolCalls returns the tool calls of the last assistant message
// that have no tool result yet, in order.
func (c *Conversation) PendingToolCalls() []provider.ToolCall {
	for i := len(c.Messages) - 1; i >= 0; i-- {
		m := c.Messages[i]
		if m.Role != provider.RoleAssistant {
			if m.Role == provider.RoleTool {
				continue
			}
			return nil
		}
		answered := map[string]bool{}
		for _, r := range c.Messages[i+1:] {
			answered[r.ToolCallID] = true
		}
		var out []provider.ToolCall
		for _, tc := range m.ToolCalls {
			if !answered[tc.ID] {
				out = append(out, tc)
			}
		}
		return out
	}
	return nil
}

// AnswerPendingToolCalls records result as the output of every pending
// tool call.
func (c *Conversation) AnswerPendingToolCalls(result string) {
	for _, tc := range c.PendingToolCalls() {
		c.Messages = append(c.Messages, provider.Message{Role: provider.RoleTool, ToolCallID: tc.ID, Name: tc.Name, Content: result})
	}
}

// AddToolResult records content as the result of the pending tool call
// with the given id. It reports whether such a call was pending.
func (c *Conversation) AddToolResult(id, content string) bool {
	for _, tc := range c.PendingToolCalls() {
		if tc.ID == id {
			c.Messages = append(c.Messages, provider.Message{Role: provider.RoleTool, ToolCallID: tc.ID, Name: tc.Name, Content: content})
			return true
		}
	}
	return false
}

// AddAssistant appends an assistant message (possibly partial).
func (c *Conversation) AddAssistant(m provider.Message) {
	m.Role = provider.RoleAssistant
	c.Messages = append(c.Messages, m)
}

// LastUserPrompt returns the text of the last user message.
func (c *Conversation) LastUserPrompt() (string, bool) {
	for i := len(c.Messages) - 1; i >= 0; i-- {
		if c.Messages[i].Role == provider.RoleUser {
			return c.Messages[i].Content, true
		}
	}
	return "", false
}

// DropLastAnswer removes every message after the last user message (the
// answer to it, tool calls and tool results), so the prompt can be sent
// again. It reports whether there was a user message to answer.
func (c *Conversation) DropLastAnswer() bool {
	for i := len(c.Messages) - 1; i >= 0; i-- {
		if c.Messages[i].Role == provider.RoleUser {
			c.Messages = c.Messages[:i+1]
			c.Continue("")
			return true
		}
	}
	return false
}

// Reset forgets every message and gives the conversation a new ID; the
// settings stay.
func (c *Conversation) Reset() {
	c.Messages = nil
	c.Continue("")
	c.ID = NewID()
	c.Created = time.Now()
}

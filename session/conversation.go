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
	return c.Settings.Request(c.Messages)
}

// AddUser appends a user message.
func (c *Conversation) AddUser(text string) {
	c.Messages = append(c.Messages, provider.Message{Role: provider.RoleUser, Content: text})
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
			return true
		}
	}
	return false
}

// Reset forgets every message and gives the conversation a new ID; the
// settings stay.
func (c *Conversation) Reset() {
	c.Messages = nil
	c.ID = NewID()
	c.Created = time.Now()
}

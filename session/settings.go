// Package session holds conversations and the orchestration around them:
// building requests from a conversation, starting and cancelling streams,
// and folding a provider's events into messages. It imports no UI code.
package session

import (
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/schema"
)

// Settings are the per-conversation request parameters: the model and the
// sampling and reasoning options chosen by config and flags. The zero value
// leaves every choice to the gateway.
type Settings struct {
	Model          string
	System         string
	Temperature    *float64
	TopP           *float64
	MaxTokens      int
	Stop           []string
	Reasoning      provider.ReasoningOptions
	ResponseFormat *provider.ResponseFormat
	// Schema, when set, asks for answers that are JSON matching it (it
	// takes the place of ResponseFormat), and each finished answer is
	// checked against it (Turn.SchemaCheck).
	Schema *schema.Schema
	Tools  []provider.Tool
	// ToolsMode says whether tool calls are only reported (ToolsNone),
	// run after the user approves (ToolsAsk, also the zero value), or run
	// at once.
	ToolsMode provider.ToolsMode
}

// Request builds the request for the given conversation history: the
// system prompt (when set) first, then history as it stands. The returned
// request shares no slices with s or history.
func (s Settings) Request(history []provider.Message) *provider.Request {
	msgs := make([]provider.Message, 0, len(history)+1)
	if s.System != "" {
		msgs = append(msgs, provider.Message{Role: provider.RoleSystem, Content: s.System})
	}
	msgs = append(msgs, history...)
	req := &provider.Request{
		Model:          s.Model,
		Messages:       msgs,
		Temperature:    s.Temperature,
		TopP:           s.TopP,
		MaxTokens:      s.MaxTokens,
		Stop:           append([]string(nil), s.Stop...),
		ResponseFormat: s.ResponseFormat,
		Reasoning:      s.Reasoning,
	}
	if s.Schema != nil {
		req.ResponseFormat = s.Schema.ResponseFormat()
	}
	if s.ToolsMode.OffersTools() {
		req.Tools = append([]provider.Tool(nil), s.Tools...)
	}
	return req
}

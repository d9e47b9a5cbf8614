// Package provider defines Parley's dialect-neutral chat request, the typed
// event stream every gateway dialect produces, and the shared HTTP machinery
// (SSE decoding, rate-limit headers, retries, typed API errors) the dialects
// are built on. It imports no other Parley package.
package provider

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// Role is the author of a message.
type Role string

// The roles a conversation message may have.
const (
	RoleSystem    Role = "system"
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleTool      Role = "tool"
)

// Message is one turn of a conversation in dialect-neutral form.
type Message struct {
	Role    Role   `json:"role"`
	Content string `json:"content,omitempty"`
	// Reasoning is the assistant's reasoning text, kept for display and
	// storage; dialects do not send it back to the gateway.
	Reasoning string `json:"reasoning,omitempty"`
	// ToolCalls are the calls an assistant message asked for.
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
	// ToolCallID and Name identify the call a tool-result message answers.
	ToolCallID string `json:"tool_call_id,omitempty"`
	Name       string `json:"name,omitempty"`
}

// ToolCall is one complete tool invocation requested by the model.
// Arguments is the exact concatenated argument string the model sent.
type ToolCall struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
	// Opaque is data the dialect that produced the call needs back when
	// the conversation continues: Gemini's thought signature, without
	// which Gemini 3 refuses the next request. It travels with the call
	// (and so is stored with the conversation); Parley never shows or
	// interprets it, and other dialects ignore it.
	Opaque string `json:"opaque,omitempty"`
}

// Tool is a function the model may call.
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

// ResponseFormat asks for structured output. Type is "json_object" or
// "json_schema"; Name, Schema and Strict apply to json_schema.
type ResponseFormat struct {
	Type   string          `json:"type"`
	Name   string          `json:"name,omitempty"`
	Schema json.RawMessage `json:"schema,omitempty"`
	Strict bool            `json:"strict,omitempty"`
}

// ReasoningOptions asks the model to think, where the dialect supports it.
type ReasoningOptions struct {
	Enabled bool   `json:"enabled,omitempty"`
	Budget  int    `json:"budget,omitempty"` // tokens; 0 = gateway default
	Effort  string `json:"effort,omitempty"` // low|medium|high, for dialects that take it
}

// Request is one chat completion request in dialect-neutral form.
// Pointer fields are nil when unset, so the gateway's default applies.
type Request struct {
	Model          string           `json:"model"`
	Messages       []Message        `json:"messages"`
	Tools          []Tool           `json:"tools,omitempty"`
	Temperature    *float64         `json:"temperature,omitempty"`
	TopP           *float64         `json:"top_p,omitempty"`
	MaxTokens      int              `json:"max_tokens,omitempty"`
	Stop           []string         `json:"stop,omitempty"`
	ResponseFormat *ResponseFormat  `json:"response_format,omitempty"`
	Reasoning      ReasoningOptions `json:"reasoning,omitempty"`
	// ChatID continues a conversation the gateway keeps (the native REST
	// dialect): the gateway already holds the first KnownMessages entries
	// of Messages under this id (as reported by a Started event), so only
	// the rest need sending. Dialects without gateway-side conversations
	// ignore both and send Messages whole.
	ChatID        string `json:"chat_id,omitempty"`
	KnownMessages int    `json:"known_messages,omitempty"`
}

// Model describes one model a gateway offers.
type Model struct {
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	OwnedBy string `json:"owned_by,omitempty"`
	Created int64  `json:"created,omitempty"`
}

// Provider is one configured gateway speaking one dialect. What only some
// dialects can do (listing models, generating images, reporting usage) is
// an optional capability, discovered by asserting the Provider to
// ModelLister, ImageGenerator or UsageReporter.
//
// Stream sends req and reports what happens through emit, in order, from a
// single goroutine (the caller's). Every call ends with exactly one terminal
// event: Done on success, or Error; everything streamed before an error has
// already been emitted, so a partial answer is never lost. The returned
// error is nil after Done and the same *APIError carried by the Error event
// otherwise. Cancelling ctx ends the stream with an Error whose Kind is
// KindCanceled.
type Provider interface {
	// Name is the profile name, for display.
	Name() string
	// Dialect is the protocol the gateway speaks.
	Dialect() Dialect
	Stream(ctx context.Context, req *Request, emit func(Event)) error
}

// Options configures a dialect's Provider. APIKey is a secret: it is sent
// only in the dialect's auth header and is redacted from every error.
type Options struct {
	Name        string            // profile name, for display
	BaseURL     string            // includes the version segment, e.g. https://host/v1
	APIKey      string            // never logged or printed
	Headers     map[string]string // extra headers on every request
	HTTPClient  *http.Client      // nil: a client with sane transport timeouts
	MaxRetries  int               // retries after the first attempt; <0 means 0
	IdleTimeout time.Duration     // longest silence tolerated mid-stream; 0 = 60s
	// HeaderTimeout bounds the wait for the gateway's answer to begin (its
	// response headers), per attempt; 0 means DefaultHeaderTimeout.
	HeaderTimeout time.Duration
	// UIStream asks a gateway that can (the native REST dialect) for the
	// Vercel AI SDK UI message stream instead of its plain stream.
	UIStream bool
	// Now and Sleep are hooks for tests; nil means time.Now and a
	// context-aware sleep.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

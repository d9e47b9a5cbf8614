package provider

import (
	"encoding/json"
	"fmt"
	"time"
)

// Event is one item of a provider's typed event stream. The concrete types
// are TextDelta, ReasoningDelta, ToolCallEvent, ToolResult, Source, Usage,
// RateLimit, Retry, Started, Error and Done. The same events feed the TUI,
// print mode, the store and replay.
type Event interface {
	// Type is the event's wire name in JSONL output: "text", "reasoning",
	// "tool_call", "tool_result", "source", "usage", "ratelimit", "retry",
	// "started", "error" or "done".
	Type() string
}

// TextDelta is a piece of the answer text.
type TextDelta struct {
	Text string `json:"text"`
}

// ReasoningDelta is a piece of the model's reasoning.
type ReasoningDelta struct {
	Text string `json:"text"`
}

// ToolCallEvent is one complete tool call, assembled from all its fragments.
type ToolCallEvent struct {
	ToolCall
}

// ToolResult is a tool's output that the gateway itself produced (for
// example server-side tools in a UI message stream).
type ToolResult struct {
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	Output  string `json:"output"`
	IsError bool   `json:"is_error,omitempty"`
}

// Source is a citation the answer refers to.
type Source struct {
	URL   string `json:"url,omitempty"`
	Title string `json:"title,omitempty"`
}

// Usage reports token counts. Later Usage events in a stream supersede
// earlier ones.
type Usage struct {
	InputTokens     int `json:"input_tokens"`
	OutputTokens    int `json:"output_tokens"`
	TotalTokens     int `json:"total_tokens"`
	ReasoningTokens int `json:"reasoning_tokens,omitempty"`
	CachedTokens    int `json:"cached_tokens,omitempty"`
}

// RateLimit is the gateway's rate-limit state for one scope ("requests",
// "tokens", …), read from response headers. Limit or Remaining is -1 when
// the header was absent; Reset is zero when unknown.
type RateLimit struct {
	Scope     string    `json:"scope"`
	Limit     int       `json:"limit"`
	Remaining int       `json:"remaining"`
	Reset     time.Time `json:"reset,omitzero"`
}

// Retry announces that the request failed and will be sent again after Wait.
// Queued is true when the gateway said it is holding the request in its
// queue (a 429 from an auto-queueing gateway) rather than refusing it.
type Retry struct {
	Attempt int           `json:"attempt"` // 1 for the first retry
	Max     int           `json:"max"`
	Status  int           `json:"status,omitempty"` // 0 for a connection error
	Wait    time.Duration `json:"-"`
	Queued  bool          `json:"queued,omitempty"`
	Message string        `json:"message"`
}

// Started reports that the gateway accepted the request and the answer
// begins. ChatID is the gateway's conversation id where it has one.
type Started struct {
	Status int    `json:"status"`
	Model  string `json:"model,omitempty"`
	ID     string `json:"id,omitempty"`
	ChatID string `json:"chat_id,omitempty"`
}

// Error ends a stream that failed. Everything streamed before it stands.
type Error struct {
	Err *APIError `json:"-"`
}

// Done ends a stream that succeeded.
type Done struct {
	FinishReason string `json:"finish_reason"`
}

// TokenLimited reports whether a finish reason says the answer stopped at
// the token limit rather than where the model meant to end it: "length"
// (OpenAI-compatible, and Gemini's MAX_TOKENS as Parley reports it) or
// "max_tokens".
func TokenLimited(finishReason string) bool {
	return finishReason == "length" || finishReason == "max_tokens"
}

func (TextDelta) Type() string      { return "text" }
func (ReasoningDelta) Type() string { return "reasoning" }
func (ToolCallEvent) Type() string  { return "tool_call" }
func (ToolResult) Type() string     { return "tool_result" }
func (Source) Type() string         { return "source" }
func (Usage) Type() string          { return "usage" }
func (RateLimit) Type() string      { return "ratelimit" }
func (Retry) Type() string          { return "retry" }
func (Started) Type() string        { return "started" }
func (Error) Type() string          { return "error" }
func (Done) Type() string           { return "done" }

// MarshalEvent encodes ev as one JSON object with a "type" field, in the
// shape print mode's --output jsonl promises:
//
//	{"type":"text","text":"…"}
//	{"type":"retry","attempt":1,"status":429,"wait_ms":1000,"message":"…"}
//	{"type":"error","status":401,"code":"invalid_api_key","message":"…"}
func MarshalEvent(ev Event) ([]byte, error) {
	switch e := ev.(type) {
	case Retry:
		return json.Marshal(struct {
			Type string `json:"type"`
			Retry
			WaitMS int64 `json:"wait_ms"`
		}{"retry", e, e.Wait.Milliseconds()})
	case Error:
		ae := e.Err
		if ae == nil {
			ae = &APIError{Kind: KindStream, Message: "unknown error"}
		}
		return json.Marshal(struct {
			Type       string `json:"type"`
			Kind       string `json:"kind"`
			Status     int    `json:"status,omitempty"`
			Code       string `json:"code,omitempty"`
			Title      string `json:"title,omitempty"`
			Message    string `json:"message"`
			RetryAfter int64  `json:"retry_after_ms,omitempty"`
		}{"error", string(ae.Kind), ae.Status, ae.Code, ae.Title, ae.Message, ae.RetryAfter.Milliseconds()})
	case ToolCallEvent:
		return json.Marshal(struct {
			Type string `json:"type"`
			ToolCall
		}{"tool_call", e.ToolCall})
	case RateLimit:
		out := struct {
			Type      string `json:"type"`
			Scope     string `json:"scope"`
			Limit     int    `json:"limit"`
			Remaining int    `json:"remaining"`
			Reset     string `json:"reset,omitempty"`
		}{Type: "ratelimit", Scope: e.Scope, Limit: e.Limit, Remaining: e.Remaining}
		if !e.Reset.IsZero() {
			out.Reset = e.Reset.UTC().Format(time.RFC3339)
		}
		return json.Marshal(out)
	case nil:
		return nil, fmt.Errorf("provider: nil event")
	}
	// Every other event is its own fields plus the type tag.
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	tag := `{"type":"` + ev.Type() + `"`
	if len(body) <= 2 {
		return []byte(tag + "}"), nil
	}
	return append([]byte(tag+","), body[1:]...), nil
}

// UnmarshalEvent decodes what MarshalEvent wrote.
func UnmarshalEvent(data []byte) (Event, error) {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("provider: decode event: %w", err)
	}
	var err error
	switch head.Type {
	case "text":
		var e TextDelta
		err = json.Unmarshal(data, &e)
		return e, err
	case "reasoning":
		var e ReasoningDelta
		err = json.Unmarshal(data, &e)
		return e, err
	case "tool_call":
		var e ToolCallEvent
		err = json.Unmarshal(data, &e.ToolCall)
		return e, err
	case "tool_result":
		var e ToolResult
		err = json.Unmarshal(data, &e)
		return e, err
	case "source":
		var e Source
		err = json.Unmarshal(data, &e)
		return e, err
	case "usage":
		var e Usage
		err = json.Unmarshal(data, &e)
		return e, err
	case "ratelimit":
		var e RateLimit
		err = json.Unmarshal(data, &e)
		return e, err
	case "retry":
		var e struct {
			Retry
			WaitMS int64 `json:"wait_ms"`
		}
		err = json.Unmarshal(data, &e)
		e.Retry.Wait = time.Duration(e.WaitMS) * time.Millisecond
		return e.Retry, err
	case "started":
		var e Started
		err = json.Unmarshal(data, &e)
		return e, err
	case "error":
		var e struct {
			Kind       string `json:"kind"`
			Status     int    `json:"status"`
			Code       string `json:"code"`
			Title      string `json:"title"`
			Message    string `json:"message"`
			RetryAfter int64  `json:"retry_after_ms"`
		}
		err = json.Unmarshal(data, &e)
		return Error{Err: &APIError{Kind: ErrorKind(e.Kind), Status: e.Status, Code: e.Code, Title: e.Title,
			Message: e.Message, RetryAfter: time.Duration(e.RetryAfter) * time.Millisecond}}, err
	case "done":
		var e Done
		err = json.Unmarshal(data, &e)
		return e, err
	}
	return nil, fmt.Errorf("provider: unknown event type %q", head.Type)
}

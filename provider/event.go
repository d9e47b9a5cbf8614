package provider

import (
	"encoding/json"
	"fmt"
	"time"
)

// Event is one item of a provider's typed event stream. The concrete types
// are TextDelta, ReasoningDelta, ToolCallEvent, ToolResult, Source, Usage,
// RateLimit, Retry, Paced, Started, Error and Done. The same events feed
// the TUI, print mode, the store and replay.
type Event interface {
	// Type is the event's wire name in JSONL output: "text", "reasoning",
	// "tool_call", "tool_result", "source", "usage", "ratelimit", "retry",
	// "paced", "started", "error" or "done".
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

// ToolResult is a tool's output: one the gateway itself produced (for
// example server-side tools in a UI message stream), or, in print mode's
// JSONL, one Parley ran. On the wire it is
// {"type":"tool_result","id":…,"name":…,"content":…,"error":bool}.
type ToolResult struct {
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	Output  string `json:"content"`
	IsError bool   `json:"error"`
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

// Paced announces that the request is held back before it is sent, for
// Wait, because the gateway's rate limit for the model (the scope named)
// has nothing left until its reset. Nothing has failed: the client paces
// itself instead of being refused. More than one may come before a
// request goes out, when the limit is still exhausted after a wait.
type Paced struct {
	Scope string        `json:"scope"`
	Wait  time.Duration `json:"-"`
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
func (Paced) Type() string          { return "paced" }
func (Started) Type() string        { return "started" }
func (Error) Type() string          { return "error" }
func (Done) Type() string           { return "done" }

// MarshalEvent encodes ev as one JSON object with a "type" field, in the
// shape print mode's --output jsonl promises:
//
//	{"type":"text","text":"…"}
//	{"type":"retry","attempt":1,"status":429,"wait_ms":1000,"message":"…"}
//	{"type":"error","kind":"http","status":401,"code":"invalid_api_key","message":"…"}
//
// The encoding is also the storage format: UnmarshalEvent gives back an
// equal event (reflect.DeepEqual) for every event type, with three
// normalisations. A RateLimit's Reset comes back in UTC without a
// monotonic clock reading (the same instant); an Error's Cause, the
// in-process Go error, is not encoded (its text is in Message, already
// redacted); and an Error without an APIError comes back as a stream
// error saying "unknown error". Durations keep nanoseconds: wait_ms and
// retry_after_ms stay whole milliseconds for scripts, and wait_ns and
// retry_after_ns carry the exact value when it has a fraction of a
// millisecond.
func MarshalEvent(ev Event) ([]byte, error) {
	switch e := ev.(type) {
	case Retry:
		return json.Marshal(wireRetry{"retry", e, e.Wait.Milliseconds(), subMillisecond(e.Wait)})
	case Paced:
		return json.Marshal(wirePaced{"paced", e, e.Wait.Milliseconds(), subMillisecond(e.Wait)})
	case Error:
		ae := e.Err
		if ae == nil {
			ae = &APIError{Kind: KindStream, Message: "unknown error"}
		}
		return json.Marshal(wireError{
			Type: "error", Kind: string(ae.Kind), Status: ae.Status, Code: ae.Code, ErrorType: ae.Type,
			Title: ae.Title, Message: ae.Message, RetryAfterMS: ae.RetryAfter.Milliseconds(),
			RetryAfterNS: subMillisecond(ae.RetryAfter), Partial: ae.Partial,
		})
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
			out.Reset = e.Reset.UTC().Format(time.RFC3339Nano)
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

// wireRetry is a Retry event on the wire: Wait as whole milliseconds,
// and as nanoseconds when it has a fraction of a millisecond.
type wireRetry struct {
	Type string `json:"type"`
	Retry
	WaitMS int64 `json:"wait_ms"`
	WaitNS int64 `json:"wait_ns,omitempty"`
}

// wirePaced is a Paced event on the wire, its Wait as wireRetry's.
type wirePaced struct {
	Type string `json:"type"`
	Paced
	WaitMS int64 `json:"wait_ms"`
	WaitNS int64 `json:"wait_ns,omitempty"`
}

// wireError is an Error event on the wire. The APIError's Type is
// "error_type" because "type" names the event.
type wireError struct {
	Type         string `json:"type"`
	Kind         string `json:"kind"`
	Status       int    `json:"status,omitempty"`
	Code         string `json:"code,omitempty"`
	ErrorType    string `json:"error_type,omitempty"`
	Title        string `json:"title,omitempty"`
	Message      string `json:"message"`
	RetryAfterMS int64  `json:"retry_after_ms,omitempty"`
	RetryAfterNS int64  `json:"retry_after_ns,omitempty"`
	Partial      bool   `json:"partial,omitempty"`
}

// wireToolResult reads a tool_result line, also in the field names of
// earlier versions ("output", "is_error").
type wireToolResult struct {
	ToolResult
	LegacyOutput  *string `json:"output"`
	LegacyIsError *bool   `json:"is_error"`
}

// subMillisecond returns d in nanoseconds when it is not a whole number
// of milliseconds, and 0 (omitted) when it is.
func subMillisecond(d time.Duration) int64 {
	if d%time.Millisecond == 0 {
		return 0
	}
	return int64(d)
}

// duration reads a duration written as whole milliseconds plus, when it
// had a fraction of a millisecond, exact nanoseconds.
func duration(ms, ns int64) time.Duration {
	if ns != 0 {
		return time.Duration(ns)
	}
	return time.Duration(ms) * time.Millisecond
}

// UnmarshalEvent decodes one event MarshalEvent wrote (see there for what
// comes back unchanged). Fields it does not know are ignored, so lines
// written by a later version still decode; an unknown type is an error.
func UnmarshalEvent(data []byte) (Event, error) {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("provider: decode event: %w", err)
	}
	var ev Event
	var err error
	switch head.Type {
	case "text":
		ev, err = decodeAs[TextDelta](data)
	case "reasoning":
		ev, err = decodeAs[ReasoningDelta](data)
	case "tool_call":
		var tc ToolCall
		tc, err = decodeAs[ToolCall](data)
		ev = ToolCallEvent{ToolCall: tc}
	case "tool_result":
		var w wireToolResult
		w, err = decodeAs[wireToolResult](data)
		if w.LegacyOutput != nil && w.Output == "" {
			w.Output = *w.LegacyOutput
		}
		if w.LegacyIsError != nil && !w.IsError {
			w.IsError = *w.LegacyIsError
		}
		ev = w.ToolResult
	case "source":
		ev, err = decodeAs[Source](data)
	case "usage":
		ev, err = decodeAs[Usage](data)
	case "ratelimit":
		var rl RateLimit
		rl, err = decodeAs[RateLimit](data)
		if !rl.Reset.IsZero() {
			rl.Reset = rl.Reset.UTC()
			if y := rl.Reset.Year(); err == nil && (y < 1 || y > 9999) {
				err = fmt.Errorf("reset %s is out of range", rl.Reset)
			}
		}
		ev = rl
	case "retry":
		var w wireRetry
		w, err = decodeAs[wireRetry](data)
		w.Retry.Wait = duration(w.WaitMS, w.WaitNS)
		ev = w.Retry
	case "paced":
		var w wirePaced
		w, err = decodeAs[wirePaced](data)
		w.Paced.Wait = duration(w.WaitMS, w.WaitNS)
		ev = w.Paced
	case "started":
		ev, err = decodeAs[Started](data)
	case "error":
		var w wireError
		w, err = decodeAs[wireError](data)
		ev = Error{Err: &APIError{Kind: ErrorKind(w.Kind), Status: w.Status, Code: w.Code, Type: w.ErrorType,
			Title: w.Title, Message: w.Message, RetryAfter: duration(w.RetryAfterMS, w.RetryAfterNS), Partial: w.Partial}}
	case "done":
		ev, err = decodeAs[Done](data)
	default:
		return nil, fmt.Errorf("provider: unknown event type %q", head.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("provider: decode %s event: %w", head.Type, err)
	}
	return ev, nil
}

// decodeAs decodes data into a new T.
func decodeAs[T any](data []byte) (T, error) {
	var v T
	err := json.Unmarshal(data, &v)
	return v, err
}

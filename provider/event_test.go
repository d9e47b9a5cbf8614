package provider

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// roundTripEvents holds one or more events of every type, with every
// field set somewhere, including the ones the encoding used to lose.
func roundTripEvents() []Event {
	reset := time.Date(2026, 11, 21, 21, 0, 0, 123456789, time.UTC)
	return []Event{
		TextDelta{Text: "Hello, wörld <b>&</b> \u2028 \x1b[31m ✓"},
		TextDelta{},
		ReasoningDelta{Text: "Let me think…\n"},
		ToolCallEvent{ToolCall: ToolCall{ID: "call_a", Name: "get_weather", Arguments: `{"location":"Paris"}`}},
		// A Gemini 3 call with its thought signature.
		ToolCallEvent{ToolCall: ToolCall{ID: "call_1", Name: "get_country", Arguments: "{}",
			Opaque: "EpwICpkIAXLI2nxlU6gsWZaZHRYkX1orzuM8vSUFwaAt1JRxEC2hJzPAcAu3PWaKz7X+PIyTTqF+ZIQPF+fQzkaRCbrxB0Qrem/xwR4S46oF=="}},
		ToolResult{ID: "call_a", Name: "get_weather", Output: `{"temp":18}`, IsError: true},
		Source{URL: "https://example.com/a?b=c&d", Title: "A page"},
		Usage{InputTokens: 11, OutputTokens: 13, TotalTokens: 24, ReasoningTokens: 5, CachedTokens: 3},
		RateLimit{Scope: "requests", Limit: 15, Remaining: 3, Reset: reset},
		RateLimit{Scope: "tokens", Limit: -1, Remaining: -1},
		Retry{Attempt: 1, Max: 2, Status: 429, Wait: time.Second, Queued: true, Message: "queued"},
		Retry{Attempt: 2, Max: 3, Wait: 1500*time.Microsecond + 7, Message: "connection refused"},
		Paced{Scope: "requests", Wait: 2*time.Second + 3},
		Started{Status: 200, Model: "gpt-4o", ID: "chatcmpl-1", ChatID: "chat_9"},
		Error{Err: &APIError{Kind: KindHTTP, Status: 401, Code: "invalid_api_key", Type: "invalid_request_error",
			Title: "Unauthorized", Message: "Invalid API key", RetryAfter: 2500 * time.Microsecond}},
		// An error after part of the answer streamed.
		Error{Err: &APIError{Kind: KindStream, Status: 499, Code: "CANCELLED", Message: "The operation was cancelled.",
			Partial: true, RetryAfter: 3 * time.Second}},
		Error{Err: &APIError{Kind: KindCanceled, Title: "canceled", Message: "request canceled", Partial: true}},
		Done{FinishReason: "tool_calls"},
		Done{},
	}
}

func TestEventRoundTrip(t *testing.T) {
	types := map[string]bool{}
	for _, ev := range roundTripEvents() {
		types[ev.Type()] = true
		b, err := MarshalEvent(ev)
		if err != nil {
			t.Fatalf("%#v: %v", ev, err)
		}
		got, err := UnmarshalEvent(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if !reflect.DeepEqual(got, ev) {
			t.Errorf("round trip of %s\n got %#v\nwant %#v", b, got, ev)
			if ge, ok := got.(Error); ok {
				t.Errorf("  error: %#v", ge.Err)
			}
		}
	}
	for _, name := range []string{"text", "reasoning", "tool_call", "tool_result", "source", "usage", "ratelimit",
		"retry", "paced", "started", "error", "done"} {
		if !types[name] {
			t.Errorf("no %q event in the round-trip table", name)
		}
	}
}

// TestEventRoundTripNormalises: what does not survive is the in-process
// part: a Reset's zone and monotonic reading (the instant survives) and an
// error's Go cause (its text is the message).
func TestEventRoundTripNormalises(t *testing.T) {
	local := time.Now().In(time.FixedZone("CEST", 2*3600)).Add(time.Minute)
	b, _ := MarshalEvent(RateLimit{Scope: "requests", Limit: 1, Remaining: 0, Reset: local})
	got, err := UnmarshalEvent(b)
	if err != nil {
		t.Fatal(err)
	}
	if rl := got.(RateLimit); !rl.Reset.Equal(local) || rl.Reset.Location() != time.UTC {
		t.Errorf("reset %v, want the instant %v in UTC", rl.Reset, local)
	}

	ae := &APIError{Kind: KindNetwork, Title: "connection failed", Message: "dial tcp: refused", Cause: errors.New("dial tcp: refused")}
	b, _ = MarshalEvent(Error{Err: ae})
	got, err = UnmarshalEvent(b)
	if err != nil {
		t.Fatal(err)
	}
	want := *ae
	want.Cause = nil
	if ge := got.(Error); !reflect.DeepEqual(*ge.Err, want) {
		t.Errorf("error %#v, want %#v", ge.Err, want)
	}
}

// TestEventWireShape: the JSONL lines scripts read keep their shape; new
// fields appear only when they carry something.
func TestEventWireShape(t *testing.T) {
	tests := []struct {
		ev   Event
		want string
	}{
		{Retry{Attempt: 1, Max: 2, Status: 429, Wait: time.Second, Queued: true, Message: "q"},
			`{"type":"retry","attempt":1,"max":2,"status":429,"queued":true,"message":"q","wait_ms":1000}`},
		{Retry{Attempt: 1, Max: 2, Wait: 1500 * time.Microsecond, Message: "m"},
			`{"type":"retry","attempt":1,"max":2,"message":"m","wait_ms":1,"wait_ns":1500000}`},
		{Paced{Scope: "requests", Wait: 12 * time.Second},
			`{"type":"paced","scope":"requests","wait_ms":12000}`},
		{Error{Err: &APIError{Kind: KindHTTP, Status: 401, Code: "invalid_api_key", Message: "Invalid API key"}},
			`{"type":"error","kind":"http","status":401,"code":"invalid_api_key","message":"Invalid API key"}`},
		{Error{Err: &APIError{Kind: KindStream, Type: "server_error", Message: "m", RetryAfter: 2 * time.Second, Partial: true}},
			`{"type":"error","kind":"stream","error_type":"server_error","message":"m","retry_after_ms":2000,"partial":true}`},
		{RateLimit{Scope: "requests", Limit: 15, Remaining: 3, Reset: time.Date(2026, 11, 21, 21, 0, 0, 0, time.UTC)},
			`{"type":"ratelimit","scope":"requests","limit":15,"remaining":3,"reset":"2026-11-21T21:00:00Z"}`},
		{ToolCallEvent{ToolCall: ToolCall{ID: "call_a", Name: "get_weather", Arguments: `{"location":"Paris"}`}},
			`{"type":"tool_call","id":"call_a","name":"get_weather","arguments":"{\"location\":\"Paris\"}"}`},
		{ToolCallEvent{ToolCall: ToolCall{ID: "c", Name: "n", Arguments: "{}", Opaque: "SIG"}},
			`{"type":"tool_call","id":"c","name":"n","arguments":"{}","opaque":"SIG"}`},
		{Usage{InputTokens: 11, OutputTokens: 13, TotalTokens: 24},
			`{"type":"usage","input_tokens":11,"output_tokens":13,"total_tokens":24}`},
		{Done{FinishReason: "stop"}, `{"type":"done","finish_reason":"stop"}`},
	}
	for _, tt := range tests {
		b, err := MarshalEvent(tt.ev)
		if err != nil || string(b) != tt.want {
			t.Errorf("MarshalEvent(%#v)\n got %s, %v\nwant %s", tt.ev, b, err, tt.want)
		}
	}
}

func TestUnmarshalEventErrors(t *testing.T) {
	for _, bad := range []string{``, `[]`, `null`, `{"type":"nope"}`, `{"type":"usage","input_tokens":"many"}`,
		`{"type":"ratelimit","reset":"yesterday"}`, `{"type":"ratelimit","reset":"9999-12-31T23:59:59-23:00"}`} {
		if ev, err := UnmarshalEvent([]byte(bad)); err == nil {
			t.Errorf("UnmarshalEvent(%s) = %#v, want an error", bad, ev)
		}
	}
	// Lines from a later version with fields this one does not know
	// still decode.
	ev, err := UnmarshalEvent([]byte(`{"type":"done","finish_reason":"stop","elapsed_ms":12}`))
	if err != nil || ev != (Done{FinishReason: "stop"}) {
		t.Errorf("unknown field: %#v, %v", ev, err)
	}
}

// FuzzEventRoundTrip: whatever UnmarshalEvent accepts comes back equal
// through MarshalEvent and UnmarshalEvent, and encodes to the same bytes
// a second time.
func FuzzEventRoundTrip(f *testing.F) {
	for _, ev := range roundTripEvents() {
		b, err := MarshalEvent(ev)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{"type":"retry","wait_ms":9223372036854775807}`,
		`{"type":"error","retry_after_ms":-1,"retry_after_ns":5}`,
		`{"type":"ratelimit","reset":"2026-01-02T03:04:05.123456789123+05:30"}`,
		`{"type":"text","text":"\ud800 \xff"}`,
		`{"TYPE":"text","TEXT":"x","text":"y"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := UnmarshalEvent(data)
		if err != nil {
			return
		}
		b, err := MarshalEvent(ev)
		if err != nil {
			t.Fatalf("MarshalEvent(%#v): %v", ev, err)
		}
		got, err := UnmarshalEvent(b)
		if err != nil {
			t.Fatalf("UnmarshalEvent(%s): %v", b, err)
		}
		if !reflect.DeepEqual(got, ev) {
			t.Fatalf("round trip of %s\n got %#v\nwant %#v", b, got, ev)
		}
		b2, err := MarshalEvent(got)
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("encoding is not stable:\n%s\n%s", b, b2)
		}
		if !strings.HasPrefix(string(b), `{"type":"`+ev.Type()+`"`) {
			t.Fatalf("encoding does not start with its type: %s", b)
		}
	})
}

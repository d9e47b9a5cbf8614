package openai

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/provider"
)

func chunkJSON(content string) string {
	b, _ := json.Marshal(map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": content}}}})
	return string(b)
}

func newProvider(t testing.TB, h http.HandlerFunc, opts provider.Options) *Provider {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	opts.BaseURL = srv.URL + "/v1"
	if opts.APIKey == "" {
		opts.APIKey = "test-key"
	}
	p, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRequestBody(t *testing.T) {
	var got map[string]any
	var path, auth string
	p := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		path, auth = r.URL.Path, r.Header.Get("Authorization")
		json.NewDecoder(r.Body).Decode(&got)
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: "+chunkJSON("ok")+"\n\ndata: [DONE]\n\n")
	}, provider.Options{APIKey: "sk-abc"})
	zero, topP := 0.0, 0.9
	r := collect(t, p, &provider.Request{
		Model: "cutad-agent", Temperature: &zero, TopP: &topP, MaxTokens: 100, Stop: []string{"END"},
		Messages: []provider.Message{
			{Role: provider.RoleSystem, Content: "be brief"},
			{Role: provider.RoleUser, Content: "weather?"},
			{Role: provider.RoleAssistant, ToolCalls: []provider.ToolCall{{ID: "call_1", Name: "get_weather", Arguments: `{"location":"Paris"}`}}},
			{Role: provider.RoleTool, ToolCallID: "call_1", Name: "get_weather", Content: `{"temp":18}`},
		},
		Tools: []provider.Tool{{Name: "get_weather", Description: "weather", Parameters: json.RawMessage(`{"type":"object"}`)}},
	})
	if r.Text != "ok" {
		t.Fatalf("text %q", r.Text)
	}
	if path != "/v1/chat/completions" || auth != "Bearer sk-abc" {
		t.Errorf("path %q auth %q", path, auth)
	}
	if got["model"] != "cutad-agent" || got["stream"] != true || got["temperature"] != 0.0 || got["top_p"] != 0.9 ||
		got["max_tokens"] != 100.0 {
		t.Errorf("body %v", got)
	}
	if so, _ := got["stream_options"].(map[string]any); so["include_usage"] != true {
		t.Errorf("stream_options %v", got["stream_options"])
	}
	msgs := got["messages"].([]any)
	if len(msgs) != 4 {
		t.Fatalf("messages %v", msgs)
	}
	asst := msgs[2].(map[string]any)
	tc := asst["tool_calls"].([]any)[0].(map[string]any)
	if tc["id"] != "call_1" || tc["function"].(map[string]any)["arguments"] != `{"location":"Paris"}` {
		t.Errorf("assistant tool call %v", tc)
	}
	if tool := msgs[3].(map[string]any); tool["tool_call_id"] != "call_1" || tool["role"] != "tool" {
		t.Errorf("tool message %v", tool)
	}
	tools := got["tools"].([]any)
	if fn := tools[0].(map[string]any)["function"].(map[string]any); fn["name"] != "get_weather" {
		t.Errorf("tools %v", tools)
	}
}

func TestSplitRunesAcrossWrites(t *testing.T) {
	text := "héllo wörld — 日本語テキスト 🎉🚀 done"
	stream := "data: " + chunkJSON(text) + "\r\n\r\ndata: [DONE]\r\n\r\n"
	p := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		f := w.(http.Flusher)
		// One byte per write, flushed: every multi-byte rune is split
		// across TCP segments, and so is every CRLF.
		for i := 0; i < len(stream); i++ {
			w.Write([]byte{stream[i]})
			f.Flush()
		}
	}, provider.Options{})
	r := collect(t, p, &provider.Request{Model: "m"})
	if r.Text != text || r.Err != nil {
		t.Fatalf("got %q err %v", r.Text, r.Err)
	}
}

func TestHugeDataLine(t *testing.T) {
	args := `{"blob":"` + strings.Repeat("abcdefghij", 150_000) + `"}` // 1.5 MB
	c := map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]any{
		"tool_calls": []any{map[string]any{"index": 0, "id": "call_big", "function": map[string]any{"name": "store", "arguments": args}}}},
		"finish_reason": "tool_calls"}}}
	line, _ := json.Marshal(c)
	p := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "data: %s\n\ndata: [DONE]\n\n", line)
	}, provider.Options{})
	r := collect(t, p, &provider.Request{Model: "m"})
	if len(r.Calls) != 1 || r.Calls[0].Arguments != args {
		t.Fatalf("1.5 MB arguments not intact (%d calls)", len(r.Calls))
	}
}

func TestStallKeepsPartial(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	p := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: "+chunkJSON("partial answer")+"\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}, provider.Options{IdleTimeout: 300 * time.Millisecond})
	r := collect(t, p, &provider.Request{Model: "m"})
	if r.Text != "partial answer" {
		t.Errorf("partial text lost: %q", r.Text)
	}
	if r.Err == nil || r.Err.Kind != provider.KindTimeout || !r.Err.Partial {
		t.Errorf("err = %+v", r.Err)
	}
}

func TestCutOffWithoutDone(t *testing.T) {
	p := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: "+chunkJSON("half an ans")+"\n\n")
	}, provider.Options{})
	r := collect(t, p, &provider.Request{Model: "m"})
	if r.Text != "half an ans" || r.Err == nil || r.Err.Kind != provider.KindStream || !r.Err.Partial {
		t.Fatalf("text %q err %+v", r.Text, r.Err)
	}
}

func TestConnectionResetMidStream(t *testing.T) {
	p := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: "+chunkJSON("before the reset")+"\n\ndata: {\"choi")
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	}, provider.Options{})
	r := collect(t, p, &provider.Request{Model: "m"})
	if r.Text != "before the reset" || r.Err == nil || !r.Err.Partial {
		t.Fatalf("text %q err %+v", r.Text, r.Err)
	}
}

func TestMalformedChunk(t *testing.T) {
	p := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: "+chunkJSON("good")+"\n\ndata: {not json\n\n")
	}, provider.Options{})
	r := collect(t, p, &provider.Request{Model: "m"})
	if r.Text != "good" || r.Err == nil || !strings.Contains(r.Err.Message, "not valid JSON") {
		t.Fatalf("text %q err %+v", r.Text, r.Err)
	}
}

func TestJSONAnswerToStreamRequest(t *testing.T) {
	p := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Quantum computing uses qubits."},"finish_reason":"stop"}],"usage":{"prompt_tokens":25,"completion_tokens":64,"total_tokens":89}}`)
	}, provider.Options{})
	r := collect(t, p, &provider.Request{Model: "m"})
	if r.Text != "Quantum computing uses qubits." || r.Usage == nil || r.Usage.TotalTokens != 89 || r.Done.FinishReason != "stop" {
		t.Fatalf("%+v", r)
	}
}

func TestHTTP200WithErrorEvent(t *testing.T) {
	// mock-llm and others answer a streaming request with 200 and a single
	// error event, without [DONE].
	p := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, `data: {"error":{"message":"Invalid API key","type":"authentication_error","code":"invalid_api_key"}}`+"\n\n")
	}, provider.Options{})
	r := collect(t, p, &provider.Request{Model: "m"})
	if r.Err == nil || r.Err.Code != "invalid_api_key" || r.Err.Message != "Invalid API key" {
		t.Fatalf("err %+v", r.Err)
	}
}

func TestCancel(t *testing.T) {
	p := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: "+chunkJSON("some")+"\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}, provider.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	var text string
	var final *provider.APIError
	p.Stream(ctx, &provider.Request{Model: "m"}, func(ev provider.Event) {
		switch e := ev.(type) {
		case provider.TextDelta:
			text += e.Text
			cancel() // the user presses Ctrl+C mid-answer
		case provider.Error:
			final = e.Err
		}
	})
	if text != "some" || final == nil || final.Kind != provider.KindCanceled {
		t.Fatalf("text %q err %+v", text, final)
	}
}

func TestModels(t *testing.T) {
	p := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/models" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, `{"object":"list","data":[{"id":"cutad-agent","object":"model","owned_by":"cutad"},{"id":"cutad-agent-pro","object":"model","owned_by":"cutad"}]}`)
	}, provider.Options{})
	ms, err := p.Models(context.Background())
	if err != nil || len(ms) != 2 || ms[1].ID != "cutad-agent-pro" || ms[0].OwnedBy != "cutad" {
		t.Fatalf("%+v %v", ms, err)
	}
}

// TestEchoedKeyNeverEmitted: a gateway that echoes the bearer key in the
// answer (split across chunks) and then in an in-stream error must not get
// it to any consumer — the chat screen shows events as they come.
func TestEchoedKeyNeverEmitted(t *testing.T) {
	const key = "sk-test-SECRET-123456"
	p := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "data: %s\n\ndata: %s\n\n", chunkJSON("your key is "+tok[:10]), chunkJSON(tok[10:]+" ok"))
		fmt.Fprintf(w, "event: error\ndata: {\"error\":{\"message\":\"key %s was revoked\"}}\n\n", tok)
	}, provider.Options{APIKey: key})
	r := collect(t, p, &provider.Request{Model: "m"})
	for _, ev := range r.Events {
		b, _ := provider.MarshalEvent(ev)
		if strings.Contains(string(b), "SECRET") {
			t.Fatalf("key in event %s", b)
		}
	}
	if r.Text != "your key is [redacted] ok" || r.Err == nil || !strings.Contains(r.Err.Error(), "[redacted]") {
		t.Fatalf("text %q err %v", r.Text, r.Err)
	}
}

// TestFinishedThenSilent: a gateway that sends finish_reason and then keeps
// the connection open without [DONE] delivered a complete answer.
func TestFinishedThenSilent(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	p := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: "+chunkJSON("complete answer")+"\n\n")
		io.WriteString(w, `data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`+"\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}, provider.Options{IdleTimeout: 200 * time.Millisecond})
	r := collect(t, p, &provider.Request{Model: "m"})
	if r.Text != "complete answer" || r.Err != nil || r.Done == nil || r.Done.FinishReason != "stop" {
		t.Fatalf("text %q err %v done %+v", r.Text, r.Err, r.Done)
	}
}

func TestReasoningOnlyTurnAndEffort(t *testing.T) {
	var got map[string]any
	p := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		json.NewDecoder(r.Body).Decode(&got)
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: "+chunkJSON("ok")+"\n\ndata: [DONE]\n\n")
	}, provider.Options{})
	collect(t, p, &provider.Request{Model: "m", Reasoning: provider.ReasoningOptions{Enabled: true, Budget: 500},
		Messages: []provider.Message{
			{Role: provider.RoleUser, Content: "first"},
			{Role: provider.RoleAssistant, Reasoning: "only thought, then stopped"},
			{Role: provider.RoleUser, Content: "second"},
		}})
	msgs := got["messages"].([]any)
	if len(msgs) != 2 {
		t.Fatalf("an assistant message with neither content nor tool calls was sent: %v", msgs)
	}
	if got["reasoning_effort"] != "low" {
		t.Errorf("--reasoning-budget 500 → reasoning_effort %v, want low", got["reasoning_effort"])
	}
	for _, c := range []struct {
		r    provider.ReasoningOptions
		want string
	}{{provider.ReasoningOptions{Enabled: true}, "medium"}, {provider.ReasoningOptions{Enabled: true, Budget: 10000}, "high"},
		{provider.ReasoningOptions{Enabled: true, Effort: "minimal"}, "minimal"}} {
		if e := reasoningEffort(c.r); e != c.want {
			t.Errorf("%+v → %q, want %q", c.r, e, c.want)
		}
	}
}

func TestFinishReasons(t *testing.T) {
	for _, c := range []struct {
		reason  string
		blocked bool
	}{{"content_filter", true}, {"length", false}, {"stop", false}} {
		p := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: "+chunkJSON("partial")+"\n\n")
			io.WriteString(w, `data: {"choices":[{"index":0,"delta":{},"finish_reason":"`+c.reason+`"}]}`+"\n\ndata: [DONE]\n\n")
		}, provider.Options{})
		r := collect(t, p, &provider.Request{Model: "m"})
		if r.Text != "partial" {
			t.Errorf("%s: text %q lost", c.reason, r.Text)
		}
		if c.blocked != (r.Err != nil && r.Err.Kind == provider.KindBlocked && r.Err.Partial) {
			t.Errorf("%s: err %+v", c.reason, r.Err)
		}
		if !c.blocked && (r.Done == nil || r.Done.FinishReason != c.reason) {
			t.Errorf("%s: done %+v", c.reason, r.Done)
		}
	}
}

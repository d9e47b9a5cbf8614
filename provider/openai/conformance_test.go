package openai

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/fixtures"
	"github.com/parley-chat/parley/provider"
)

// result is what a stream amounts to for a reader.
type result struct {
	Text, Reasoning string
	Calls           []provider.ToolCall
	Err             *provider.APIError
	Done            *provider.Done
	Usage           *provider.Usage
	Events          []provider.Event
}

func collect(t testing.TB, p *Provider, req *provider.Request) result {
	t.Helper()
	var r result
	err := p.Stream(context.Background(), req, func(ev provider.Event) {
		r.Events = append(r.Events, ev)
		switch e := ev.(type) {
		case provider.TextDelta:
			r.Text += e.Text
		case provider.ReasoningDelta:
			r.Reasoning += e.Text
		case provider.ToolCallEvent:
			r.Calls = append(r.Calls, e.ToolCall)
		case provider.Error:
			r.Err = e.Err
		case provider.Done:
			d := e
			r.Done = &d
		case provider.Usage:
			u := e
			r.Usage = &u
		}
	})
	if (err == nil) != (r.Err == nil) {
		t.Fatalf("returned error %v disagrees with Error event %v", err, r.Err)
	}
	if (r.Done == nil) == (r.Err == nil) {
		t.Fatalf("want exactly one of Done/Error, got done=%v err=%v", r.Done, r.Err)
	}
	last := r.Events[len(r.Events)-1]
	if last.Type() != "done" && last.Type() != "error" {
		t.Fatalf("last event is %s", last.Type())
	}
	return r
}

// fixtureBody returns the recorded body of an .sse file as-is, or frames a
// .chunks.jsonl file as an SSE stream ending in [DONE].
func fixtureBody(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, ".sse") {
		return data
	}
	var b bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			fmt.Fprintf(&b, "data: %s\n\n", line)
		}
	}
	b.WriteString("data: [DONE]\n\n")
	return b.Bytes()
}

func serve(t testing.TB, body []byte) *Provider {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	p, err := New(provider.Options{BaseURL: srv.URL + "/v1", APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// expect reads a recorded stream the simple way, with maps, to compute
// what a careful reader of the file sees: the content, the reasoning (one
// spelling per chunk), the tool calls by index (or by id where there is no
// index) and whether it ends in an error.
func expect(t testing.TB, body []byte) (text, reasoning string, calls []provider.ToolCall, isErr bool) {
	t.Helper()
	type acc struct {
		id, name string
		args     strings.Builder
		order    int
	}
	byKey := map[string]*acc{}
	lastKey := ""
	event := ""
	for _, line := range strings.Split(strings.ReplaceAll(string(body), "\r\n", "\n"), "\n") {
		if strings.HasPrefix(line, "event:") {
			event = strings.TrimSpace(line[6:])
			continue
		}
		if !strings.HasPrefix(line, "data:") {
			continue
		}
		data := strings.TrimSpace(line[5:])
		if data == "[DONE]" {
			break
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			t.Fatalf("fixture line is not JSON: %v", err)
		}
		if event == "error" || m["error"] != nil {
			isErr = true
			break
		}
		choices, _ := m["choices"].([]any)
		for _, c := range choices {
			cm := c.(map[string]any)
			d, _ := cm["delta"].(map[string]any)
			if s, ok := d["content"].(string); ok {
				text += s
			}
			if s, ok := d["reasoning_content"].(string); ok && s != "" {
				reasoning += s
			} else if s, ok := d["reasoning"].(string); ok && s != "" {
				reasoning += s
			} else if rds, ok := d["reasoning_details"].([]any); ok {
				for _, rd := range rds {
					if s, ok := rd.(map[string]any)["text"].(string); ok {
						reasoning += s
					}
				}
			}
			tcs, _ := d["tool_calls"].([]any)
			for _, tc := range tcs {
				tm := tc.(map[string]any)
				id, _ := tm["id"].(string)
				key := ""
				if idx, ok := tm["index"].(float64); ok {
					key = fmt.Sprint("i", idx)
				} else if id != "" {
					key = "id" + id
				} else {
					key = lastKey
				}
				a := byKey[key]
				if a == nil {
					a = &acc{order: len(byKey)}
					byKey[key] = a
				}
				lastKey = key
				if a.id == "" {
					a.id = id
				}
				fn, _ := tm["function"].(map[string]any)
				if n, _ := fn["name"].(string); n != "" && a.name == "" {
					a.name = n
				}
				s, _ := fn["arguments"].(string)
				a.args.WriteString(s)
			}
		}
	}
	accs := make([]*acc, 0, len(byKey))
	for _, a := range byKey {
		accs = append(accs, a)
	}
	sort.Slice(accs, func(i, j int) bool { return accs[i].order < accs[j].order })
	if !isErr {
		for _, a := range accs {
			calls = append(calls, provider.ToolCall{ID: a.id, Name: a.name, Arguments: a.args.String()})
		}
	}
	return
}

func TestRecordedStreams(t *testing.T) {
	dir := fixtures.Dir(t, "openai-sse")
	files, _ := filepath.Glob(filepath.Join(dir, "*.sse"))
	more, _ := filepath.Glob(filepath.Join(dir, "*.chunks.jsonl"))
	files = append(files, more...)
	if len(files) < 20 {
		t.Fatalf("only %d recordings found in %s", len(files), dir)
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			body := fixtureBody(t, path)
			wantText, wantReasoning, wantCalls, wantErr := expect(t, body)
			got := collect(t, serve(t, body), &provider.Request{Model: "m", Messages: []provider.Message{{Role: "user", Content: "hi"}}})
			if got.Text != wantText {
				t.Errorf("text differs:\n got %q\nwant %q", trunc(got.Text), trunc(wantText))
			}
			if got.Reasoning != wantReasoning {
				t.Errorf("reasoning differs:\n got %q\nwant %q", trunc(got.Reasoning), trunc(wantReasoning))
			}
			if fmt.Sprint(got.Calls) != fmt.Sprint(wantCalls) {
				t.Errorf("tool calls:\n got %+v\nwant %+v", got.Calls, wantCalls)
			}
			if wantErr != (got.Err != nil) {
				t.Errorf("error = %v, want error: %v", got.Err, wantErr)
			}
			if got.Err != nil && got.Err.Message == "" {
				t.Errorf("error without the gateway's message: %+v", got.Err)
			}
		})
	}
}

func trunc(s string) string {
	if len(s) > 300 {
		return s[:150] + " … " + s[len(s)-150:]
	}
	return s
}

// TestRecordedStreamsByHand pins values read off the recordings by eye, so
// the conformance test is not only self-consistent.
func TestRecordedStreamsByHand(t *testing.T) {
	dir := fixtures.Dir(t, "openai-sse")
	run := func(name string) result {
		return collect(t, serve(t, fixtureBody(t, filepath.Join(dir, name))), &provider.Request{Model: "m"})
	}

	r := run("openai-gpt-4o-parallel-tool-calls-usage.sse")
	if len(r.Calls) != 2 || r.Done == nil || r.Done.FinishReason != "tool_calls" {
		t.Fatalf("parallel tool calls: %+v done=%+v", r.Calls, r.Done)
	}
	for _, c := range r.Calls {
		if !strings.HasPrefix(c.ID, "call_") || c.Name == "" || !json.Valid([]byte(c.Arguments)) {
			t.Errorf("call %+v", c)
		}
	}
	if r.Usage == nil || r.Usage.TotalTokens == 0 {
		t.Errorf("usage from the empty-choices chunk missing: %+v", r.Usage)
	}

	r = run("groq-gpt-oss-reasoning-then-event-error.sse")
	if r.Err == nil || r.Err.Code != "tool_use_failed" || !strings.Contains(r.Err.Message, "Tool call validation failed") {
		t.Errorf("groq event: error: %+v", r.Err)
	}
	if !strings.HasPrefix(r.Reasoning, "We") || r.Text != "" {
		t.Errorf("groq reasoning before the error lost: %q", trunc(r.Reasoning))
	}

	r = run("openrouter-minimax-reasoning-then-error-mid-stream.sse")
	if r.Err == nil || r.Err.Message != "Token limit reached" || r.Err.Status != 400 {
		t.Errorf("openrouter in-chunk error: %+v", r.Err)
	}

	r = run("vercel-mistral-tool-call-no-index.chunks.jsonl")
	if len(r.Calls) != 1 || r.Calls[0].ID != "gSIMJiOkT" || r.Calls[0].Name != "weather" ||
		r.Calls[0].Arguments != `{"location": "San Francisco"}` {
		t.Errorf("mistral: %+v", r.Calls)
	}

	r = run("vercel-alibaba-qwen3-max-tool-call.chunks.jsonl")
	if len(r.Calls) != 1 || r.Calls[0].ID != "call_eee11723464a4b9eb8cee71d" || r.Calls[0].Arguments != `{"location": "San Francisco"}` {
		t.Errorf("dashscope: %+v", r.Calls)
	}

	r = run("openrouter-kimi-k2-tool-call-single-chunk-args.sse")
	if len(r.Calls) != 1 || r.Calls[0].Name != "llm_version" || r.Calls[0].Arguments != "{}" || r.Calls[0].ID != "0" {
		t.Errorf("kimi: %+v", r.Calls)
	}

	r = run("openrouter-o3-reasoning-details-encrypted.sse")
	if r.Reasoning != "" || len(r.Text) < 100 {
		t.Errorf("encrypted reasoning must not show: reasoning=%q text=%d bytes", r.Reasoning, len(r.Text))
	}

	r = run("deepseek-reasoner-reasoning-content.sse")
	if len(r.Reasoning) < 500 || r.Text == "" || r.Done == nil {
		t.Errorf("deepseek: reasoning %d bytes, text %q", len(r.Reasoning), trunc(r.Text))
	}
	// Reasoning streams before the answer.
	firstText, lastReasoning := -1, -1
	for i, ev := range r.Events {
		switch ev.(type) {
		case provider.TextDelta:
			if firstText < 0 {
				firstText = i
			}
		case provider.ReasoningDelta:
			lastReasoning = i
		}
	}
	if lastReasoning > firstText {
		t.Errorf("reasoning after text")
	}

	r = run("openrouter-deepseek-annotations-url-citations.sse")
	sources := 0
	for _, ev := range r.Events {
		if s, ok := ev.(provider.Source); ok && strings.HasPrefix(s.URL, "https://") {
			sources++
		}
	}
	if sources == 0 {
		t.Errorf("url_citation annotations not reported as sources")
	}
}

package demogw

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is an injectable time source for tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Unix(1_800_000_000, 0)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// testServer starts the demo handler on an httptest loopback server.
func testServer(t *testing.T, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	s := newServer(opts)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

// instant is the deterministic configuration most tests use.
func instant() Options { return Options{Instant: true, QueueEvery: -1, Limit: 1000} }

// post sends body as JSON to path with a bearer key.
func post(t *testing.T, ts *httptest.Server, path string, body any) *http.Response {
	t.Helper()
	return postCtx(t, context.Background(), ts, path, "demo-key", body)
}

func postCtx(t *testing.T, ctx context.Context, ts *httptest.Server, path, key string, body any) *http.Response {
	t.Helper()
	var data []byte
	switch b := body.(type) {
	case string:
		data = []byte(b)
	default:
		var err error
		if data, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+path, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// chat builds a chat request body.
func chat(model, prompt string, stream bool) map[string]any {
	return map[string]any{
		"model":    model,
		"stream":   stream,
		"messages": []map[string]any{{"role": "user", "content": prompt}},
	}
}

// sseChunk is the decoded shape of a streamed chunk.
type sseChunk struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Model   string `json:"model"`
	Choices []struct {
		Index int `json:"index"`
		Delta struct {
			Role             string  `json:"role"`
			Content          *string `json:"content"`
			ReasoningContent *string `json:"reasoning_content"`
			ToolCalls        []struct {
				Index    *int   `json:"index"`
				ID       string `json:"id"`
				Type     string `json:"type"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens            int `json:"prompt_tokens"`
		CompletionTokens        int `json:"completion_tokens"`
		TotalTokens             int `json:"total_tokens"`
		CompletionTokensDetails struct {
			ReasoningTokens int `json:"reasoning_tokens"`
		} `json:"completion_tokens_details"`
	} `json:"usage"`
}

// readStream reads an SSE body, checking the framing: every event is one
// "data: " line followed by a blank line, every payload but the last is
// valid JSON, and the last is [DONE].
func readStream(t *testing.T, body io.Reader) []sseChunk {
	t.Helper()
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var chunks []sseChunk
	done := false
	for sc.Scan() {
		line := sc.Text()
		payload, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("line %q is not a data line", line)
		}
		if !sc.Scan() || sc.Text() != "" {
			t.Fatalf("event %q not followed by a blank line", line)
		}
		if done {
			t.Fatalf("event after [DONE]: %q", line)
		}
		if payload == "[DONE]" {
			done = true
			continue
		}
		var c sseChunk
		if err := json.Unmarshal([]byte(payload), &c); err != nil {
			t.Fatalf("chunk is not valid JSON: %v: %s", err, payload)
		}
		if c.Object != "chat.completion.chunk" {
			t.Fatalf("object = %q", c.Object)
		}
		chunks = append(chunks, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if !done {
		t.Fatal("stream did not end with [DONE]")
	}
	return chunks
}

// collected is what a stream said, reassembled.
type collected struct {
	reasoning, content string
	// order records "r" for reasoning chunks and "c" for content chunks.
	order        string
	finish       []string
	toolID       string
	toolName     string
	toolArgs     []string
	usageChunks  int
	contentWords []int
}

func collect(t *testing.T, chunks []sseChunk) collected {
	t.Helper()
	var c collected
	for i, ch := range chunks {
		if ch.Usage != nil {
			if len(ch.Choices) != 0 {
				t.Fatalf("usage chunk has choices: %+v", ch)
			}
			if i != len(chunks)-1 {
				t.Fatal("usage chunk is not the last chunk")
			}
			c.usageChunks++
			continue
		}
		if len(ch.Choices) != 1 {
			t.Fatalf("chunk %d has %d choices", i, len(ch.Choices))
		}
		d := ch.Choices[0].Delta
		if (i == 0) != (d.Role == "assistant") {
			t.Fatalf("chunk %d role = %q; want the role on the first chunk only", i, d.Role)
		}
		if d.ReasoningContent != nil {
			c.reasoning += *d.ReasoningContent
			c.order += "r"
		}
		if d.Content != nil {
			c.content += *d.Content
			c.order += "c"
			c.contentWords = append(c.contentWords, len(strings.Fields(*d.Content)))
		}
		for _, tc := range d.ToolCalls {
			if tc.Index == nil || *tc.Index != 0 {
				t.Fatalf("tool call delta without index 0: %+v", tc)
			}
			if tc.ID != "" {
				c.toolID = tc.ID
				c.toolName = tc.Function.Name
				if tc.Type != "function" || tc.Function.Arguments != "" {
					t.Fatalf("first tool call delta = %+v", tc)
				}
				continue
			}
			if c.toolID == "" {
				t.Fatal("argument fragment before the tool call's id and name")
			}
			c.toolArgs = append(c.toolArgs, tc.Function.Arguments)
		}
		if f := ch.Choices[0].FinishReason; f != nil {
			c.finish = append(c.finish, *f)
			if i != len(chunks)-1 && chunks[i+1].Usage == nil {
				t.Fatalf("finish_reason on chunk %d of %d, not on the last content chunk", i, len(chunks))
			}
		}
	}
	return c
}

func streamChat(t *testing.T, ts *httptest.Server, body map[string]any) (collected, *http.Response) {
	t.Helper()
	resp := post(t, ts, "/v1/chat/completions", body)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("Content-Type = %q", ct)
	}
	return collect(t, readStream(t, resp.Body)), resp
}

func TestStreamConcatenatesToAnswer(t *testing.T) {
	_, ts := testServer(t, instant())
	tests := []struct {
		prompt string
		want   string
		kind   string
	}{
		{"hello there", defaultAnswer, kindDefault},
		{"write some python for me", codeAnswer, kindCode},
		{"can you show code?", codeAnswer, kindCode},
		{"make a table of status codes", tableAnswer, kindTable},
		{"give me a long answer", longAnswer, kindLong},
		{"show hostile escapes", hostileAnswer(), kindHostile},
		{"walk along the river", defaultAnswer, kindDefault}, // "along" is not "long"
	}
	for _, tt := range tests {
		t.Run(tt.prompt, func(t *testing.T) {
			got, _ := streamChat(t, ts, chat("demo-fast", tt.prompt, true))
			if got.content != tt.want {
				t.Fatalf("streamed content differs from the %s answer (%d vs %d bytes)", tt.kind, len(got.content), len(tt.want))
			}
			if got.reasoning != "" {
				t.Fatal("demo-fast streamed reasoning for a prompt without think")
			}
			if len(got.finish) != 1 || got.finish[0] != "stop" {
				t.Fatalf("finish reasons = %v", got.finish)
			}
			if got.usageChunks != 0 {
				t.Fatal("usage chunk sent although include_usage was not asked")
			}
			for i, n := range got.contentWords {
				if n > 4 {
					t.Fatalf("chunk %d carries %d words; want 1 to 4", i, n)
				}
			}
			if len(got.contentWords) < len(strings.Fields(tt.want))/4 {
				t.Fatalf("only %d chunks for %d words", len(got.contentWords), len(strings.Fields(tt.want)))
			}
		})
	}
}

// TestAnswersUnchanged pins the bytes of every canned answer: the
// end-to-end tests and the README's screen depend on them. Change a file
// in answers/ on purpose, then its digest here.
func TestAnswersUnchanged(t *testing.T) {
	want := map[string]string{
		"default":               "737bf7074ba9babcc2bfcc131873e2a6479d0329a1f61a6356c3d04c2e5de2f1",
		"code":                  "d15e829f125a7c4c88e2480c63165a7f7e4d1ad22188a9e3ff8500399e41c8c2",
		"table":                 "e70be903ae407a12b5de72f004f1a14f5b19a02a630011bcaeed53e5ae785384",
		"long":                  "600b3f91941f9f45a15688248534f26c25388bab79d25eea6daf3390fd5b7803",
		"hostile":               "83614e33cc4dd5a974e1e0d158fd2143f725254ac20378dfeefeb4251e3d8402",
		"reasoning/default":     "4c3b270661122078d670e37044e75d34b4a5b5507420bdade8f15674de498d85",
		"reasoning/code":        "3e42e8161f771ab8ddd696ecfb323263b63649b9591992111ec11635e823db20",
		"reasoning/table":       "77e880a4198f904e4975d620e4c24c43c018c35cfcacc314b138efb2840cafa9",
		"reasoning/long":        "7b71600a10393fda662d875e6f91f1eb38c9fed30021c13d0abb4f0d51480242",
		"reasoning/hostile":     "a5f2a37cd86e6af0c643acd4d8668b7bba54c71028ede7338f225ad360079349",
		"reasoning/tool_call":   "f68099c344f6310d8f32bc5a168b2959191a023c09bbc1ad86857588b56e2441",
		"reasoning/tool_result": "4fc0ef7340293f37d5b7caba24cb1ab7d26c9aeb085f25efd3f682e3fdff0b89",
	}
	got := map[string]string{
		"default": defaultAnswer, "code": codeAnswer, "table": tableAnswer, "long": longAnswer, "hostile": hostileAnswer(),
	}
	for _, k := range []string{kindDefault, kindCode, kindTable, kindLong, kindHostile, kindToolCall, kindToolResult} {
		got["reasoning/"+k] = reasoningFor(k)
	}
	for name, text := range got {
		if sum := fmt.Sprintf("%x", sha256.Sum256([]byte(text))); sum != want[name] {
			t.Errorf("answer %s changed: sha256 %s, want %s", name, sum, want[name])
		}
	}
	// Every file in answers/ is an answer someone sends.
	n := 0
	_ = fs.WalkDir(answers, "answers", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
			if _, ok := want[strings.TrimSuffix(strings.TrimPrefix(path, "answers/"), ".md")]; !ok {
				t.Errorf("%s is not used", path)
			}
		}
		return err
	})
	if n != len(want) {
		t.Errorf("%d files in answers/, want %d", n, len(want))
	}
}

func TestAnswersHaveTheirMarkdown(t *testing.T) {
	has := func(t *testing.T, name, s string, parts ...string) {
		t.Helper()
		for _, p := range parts {
			if !strings.Contains(s, p) {
				t.Errorf("%s answer lacks %q", name, p)
			}
		}
	}
	has(t, "default", defaultAnswer, "## Welcome", "**", "\n- ", "```go\n", "\n|---", "| `demo-think` |")
	has(t, "code", codeAnswer, "```python\n", "```go\n", "```bash\n", "`json:\"content\"`")
	has(t, "table", tableAnswer, "|:------:|", "------------------:|", "`Retry-After`")
	// Every fence is closed.
	for name, s := range map[string]string{"default": defaultAnswer, "code": codeAnswer, "long": longAnswer} {
		if n := strings.Count(s, "```"); n%2 != 0 || n == 0 {
			t.Errorf("%s answer has %d fence markers", name, n)
		}
	}

	long := longAnswer
	if len(long) < 20_000 || len(long) > 30_000 {
		t.Errorf("long answer is %d bytes; want 20–30 KB", len(long))
	}
	has(t, "long", long, "# A Field Guide", "\n## ", "\n### ", "\n- ", "\n1. ", "\n> ", "\n|--", "  - ", "```")
	langs := 0
	for _, l := range []string{"go", "python", "bash", "json", "yaml", "sql"} {
		if strings.Contains(long, "```"+l+"\n") {
			langs++
		}
	}
	if langs < 3 {
		t.Errorf("long answer has code in only %d languages", langs)
	}
}

func TestHostileAnswerContainsSequences(t *testing.T) {
	_, ts := testServer(t, instant())
	got, _ := streamChat(t, ts, chat("demo-fast", "what about escape sequences?", true))
	for name, seq := range map[string]string{
		"OSC 52 clipboard write": "\x1b]52;c;",
		"OSC 0 title":            "\x1b]0;",
		"CSI 2J clear":           "\x1b[2J",
		"DCS string":             "\x1bP",
		"string terminator":      "\x1b\\",
		"BEL terminator":         "\x07",
		"RLO override":           "\u202e",
	} {
		if !strings.Contains(got.content, seq) {
			t.Errorf("hostile answer lacks the %s (%q)", name, seq)
		}
	}
	// The clipboard write carries a well-formed base64 payload.
	_, rest, _ := strings.Cut(got.content, "\x1b]52;c;")
	payload, _, ok := strings.Cut(rest, "\x07")
	if dec, err := base64.StdEncoding.DecodeString(payload); !ok || err != nil || string(dec) != clipboardPayload {
		t.Errorf("OSC 52 payload %q does not decode to the clipboard text: %v", payload, err)
	}
}

func TestReasoningPrecedesContent(t *testing.T) {
	_, ts := testServer(t, instant())
	for _, tt := range []struct{ model, prompt string }{
		{"demo-think", "hello"},
		{"demo-fast", "think about a table"},
		{"demo-think", "show me code"},
	} {
		got, _ := streamChat(t, ts, chat(tt.model, tt.prompt, true))
		if got.reasoning == "" || got.content == "" {
			t.Fatalf("%s %q: reasoning %d bytes, content %d bytes", tt.model, tt.prompt, len(got.reasoning), len(got.content))
		}
		if strings.Contains(got.order, "cr") || !strings.HasPrefix(got.order, "r") {
			t.Fatalf("%s %q: chunk order %s; want all reasoning before content", tt.model, tt.prompt, got.order)
		}
		if strings.Count(got.reasoning, ". ") < 2 {
			t.Fatalf("reasoning is not a few sentences: %q", got.reasoning)
		}
	}
	// reasoning_effort asks for reasoning too.
	body := chat("demo-fast", "hi", true)
	body["reasoning_effort"] = "high"
	if got, _ := streamChat(t, ts, body); got.reasoning == "" {
		t.Fatal("reasoning_effort=high gave no reasoning")
	}
}

func weatherRequest(stream bool) map[string]any {
	body := chat("demo-fast", "What's the weather like today?", stream)
	body["tools"] = []map[string]any{{
		"type": "function",
		"function": map[string]any{
			"name":       "get_weather",
			"parameters": map[string]any{"type": "object", "properties": map[string]any{"location": map[string]any{"type": "string"}}},
		},
	}}
	return body
}

func TestToolCallStreamsArgumentFragments(t *testing.T) {
	_, ts := testServer(t, instant())
	got, _ := streamChat(t, ts, weatherRequest(true))
	if got.toolName != "get_weather" || !strings.HasPrefix(got.toolID, "call_") {
		t.Fatalf("tool call id %q name %q", got.toolID, got.toolName)
	}
	if len(got.toolArgs) < 3 {
		t.Fatalf("arguments arrived in %d fragments; want several", len(got.toolArgs))
	}
	var args map[string]any
	if err := json.Unmarshal([]byte(strings.Join(got.toolArgs, "")), &args); err != nil {
		t.Fatalf("reassembled arguments are not JSON: %v", err)
	}
	if len(args) != 1 || args["location"] != "Paris" {
		t.Fatalf("arguments = %v", args)
	}
	for _, frag := range got.toolArgs {
		if json.Valid([]byte(frag)) {
			t.Fatalf("fragment %q is complete JSON on its own; want real fragments", frag)
		}
	}
	if got.content != "" {
		t.Fatalf("tool call answer also has content %q", got.content)
	}
	if len(got.finish) != 1 || got.finish[0] != "tool_calls" {
		t.Fatalf("finish = %v", got.finish)
	}

	// Without tools in the request the same prompt gets a text answer.
	body := weatherRequest(true)
	delete(body, "tools")
	if got, _ := streamChat(t, ts, body); got.toolID != "" || got.content != defaultAnswer {
		t.Fatal("weather prompt without tools did not get the default text answer")
	}
}

func TestToolResultAnswerUsesResult(t *testing.T) {
	_, ts := testServer(t, instant())
	body := weatherRequest(true)
	msgs := body["messages"].([]map[string]any)
	body["messages"] = append(msgs,
		map[string]any{"role": "assistant", "content": nil, "tool_calls": []map[string]any{{
			"id": "call_1", "type": "function",
			"function": map[string]any{"name": "get_weather", "arguments": `{"location":"Paris"}`},
		}}},
		map[string]any{"role": "tool", "tool_call_id": "call_1", "content": `{"temperature_c":19,"conditions":"light rain"}`},
	)
	got, _ := streamChat(t, ts, body)
	if got.toolID != "" {
		t.Fatal("answered a tool result with another tool call")
	}
	for _, want := range []string{"Paris", "get_weather", "light rain", "19", "`temperature_c`"} {
		if !strings.Contains(got.content, want) {
			t.Errorf("tool result answer lacks %q:\n%s", want, got.content)
		}
	}
}

func TestUsageChunkOnlyWhenAsked(t *testing.T) {
	_, ts := testServer(t, instant())
	body := chat("demo-think", "hello", true)
	body["stream_options"] = map[string]any{"include_usage": true}
	resp := post(t, ts, "/v1/chat/completions", body)
	chunks := readStream(t, resp.Body)
	resp.Body.Close()
	got := collect(t, chunks)
	if got.usageChunks != 1 {
		t.Fatalf("%d usage chunks; want 1", got.usageChunks)
	}
	u := chunks[len(chunks)-1].Usage
	wantCompletion := tokens(defaultAnswer) + tokens(got.reasoning)
	if u.CompletionTokens != wantCompletion || u.CompletionTokensDetails.ReasoningTokens != tokens(got.reasoning) {
		t.Fatalf("usage %+v; want completion %d", u, wantCompletion)
	}
	if u.PromptTokens < 4 || u.TotalTokens != u.PromptTokens+u.CompletionTokens {
		t.Fatalf("usage %+v", u)
	}
	// ≈ chars/4.
	if r := float64(len(defaultAnswer)) / float64(u.CompletionTokens-tokens(got.reasoning)); r < 3.5 || r > 4.5 {
		t.Fatalf("%.2f chars per token", r)
	}

	body["stream_options"] = map[string]any{"include_usage": false}
	if got, _ := streamChat(t, ts, body); got.usageChunks != 0 {
		t.Fatal("usage chunk sent with include_usage false")
	}
}

func TestNonStreaming(t *testing.T) {
	_, ts := testServer(t, instant())
	type result struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Model   string `json:"model"`
		Choices []struct {
			Message struct {
				Role             string  `json:"role"`
				Content          *string `json:"content"`
				ReasoningContent string  `json:"reasoning_content"`
				ToolCalls        []struct {
					ID       string `json:"id"`
					Type     string `json:"type"`
					Function struct {
						Name      string `json:"name"`
						Arguments string `json:"arguments"`
					} `json:"function"`
				} `json:"tool_calls"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
			TotalTokens      int `json:"total_tokens"`
		} `json:"usage"`
	}
	get := func(body map[string]any) result {
		resp := post(t, ts, "/v1/chat/completions", body)
		defer resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		var r result
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := get(chat("demo-think", "a table please", false))
	if r.Object != "chat.completion" || r.Model != "demo-think" || len(r.Choices) != 1 {
		t.Fatalf("%+v", r)
	}
	m := r.Choices[0].Message
	if m.Role != "assistant" || m.Content == nil || *m.Content != tableAnswer || m.ReasoningContent == "" || r.Choices[0].FinishReason != "stop" {
		t.Fatalf("message %+v", m)
	}
	if r.Usage.TotalTokens != r.Usage.PromptTokens+r.Usage.CompletionTokens || r.Usage.CompletionTokens < tokens(tableAnswer) {
		t.Fatalf("usage %+v", r.Usage)
	}

	r = get(weatherRequest(false))
	tc := r.Choices[0].Message.ToolCalls
	if len(tc) != 1 || tc[0].Function.Name != "get_weather" || tc[0].Function.Arguments != `{"location":"Paris"}` ||
		r.Choices[0].FinishReason != "tool_calls" || r.Choices[0].Message.Content != nil {
		t.Fatalf("tool call completion %+v", r.Choices[0])
	}

	// max_tokens cuts the answer and says so.
	body := chat("demo-fast", "hello", false)
	body["max_tokens"] = 10
	r = get(body)
	if c := *r.Choices[0].Message.Content; r.Choices[0].FinishReason != "length" || len(c) > 40 || !strings.HasPrefix(defaultAnswer, c) {
		t.Fatalf("max_tokens 10: finish %q content %q", r.Choices[0].FinishReason, c)
	}
}

func TestErrorsInOpenAIShape(t *testing.T) {
	_, ts := testServer(t, instant())
	tests := []struct {
		name       string
		key        string
		body       any
		status     int
		typ, code  string
		msgContain string
	}{
		{"no auth header", "", chat("demo-fast", "hi", false), 401, "authentication_error", "invalid_api_key", "Authorization"},
		{"malformed json", "k", `{"model":`, 400, "invalid_request_error", "invalid_json", "JSON"},
		{"missing model", "k", map[string]any{"messages": []map[string]any{{"role": "user", "content": "hi"}}}, 400, "invalid_request_error", "missing_model", "model"},
		{"unknown model", "k", chat("gpt-17", "hi", true), 404, "invalid_request_error", "invalid_model", "gpt-17"},
		{"image model for chat", "k", chat("demo-image", "hi", false), 404, "invalid_request_error", "invalid_model", "images"},
		{"no messages", "k", map[string]any{"model": "demo-fast", "messages": []any{}}, 400, "invalid_request_error", "missing_messages", "message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := postCtx(t, context.Background(), ts, "/v1/chat/completions", tt.key, tt.body)
			defer resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d; want %d", resp.StatusCode, tt.status)
			}
			var e apiError
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
				t.Fatal(err)
			}
			if e.Error.Type != tt.typ || e.Error.Code != tt.code || !strings.Contains(e.Error.Message, tt.msgContain) {
				t.Fatalf("error %+v", e.Error)
			}
			for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
				if resp.Header.Get(h) == "" {
					t.Errorf("error response lacks %s", h)
				}
			}
		})
	}
	// An empty bearer value is still a header: the demo accepts any key.
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/v1/models", nil)
	req.Header.Set("Authorization", "Bearer")
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("models with an empty key: %d", resp.StatusCode)
	}
	// Unknown paths and wrong methods answer in the same shape.
	for _, c := range []struct {
		method, path string
		status       int
	}{{"GET", "/v1/nope", 404}, {"GET", "/v1/chat/completions", 405}} {
		req, _ := http.NewRequest(c.method, ts.URL+c.path, nil)
		req.Header.Set("Authorization", "Bearer k")
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e apiError
		err = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != c.status || err != nil || e.Error.Message == "" {
			t.Fatalf("%s %s: %d %v %+v", c.method, c.path, resp.StatusCode, err, e)
		}
	}
}

func TestModels(t *testing.T) {
	_, ts := testServer(t, instant())
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/v1/models", nil)
	req.Header.Set("Authorization", "Bearer k")
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Object string `json:"object"`
		Data   []struct {
			ID, Object string
			OwnedBy    string `json:"owned_by"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	if list.Object != "list" || len(list.Data) != len(Models()) {
		t.Fatalf("%+v", list)
	}
	for i, m := range list.Data {
		if m.ID != Models()[i] || m.Object != "model" || m.OwnedBy != "parley-demo" {
			t.Fatalf("model %d = %+v", i, m)
		}
	}
	if resp.Header.Get("X-RateLimit-Limit") == "" {
		t.Fatal("models response lacks rate-limit headers")
	}
}

// status sends a non-streaming chat request and returns the response,
// body drained.
func status(t *testing.T, ts *httptest.Server, key, model string) (*http.Response, apiError) {
	t.Helper()
	resp := postCtx(t, context.Background(), ts, "/v1/chat/completions", key, chat(model, "hi", false))
	defer resp.Body.Close()
	var e apiError
	if resp.StatusCode != 200 {
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
			t.Fatal(err)
		}
	} else {
		_, _ = io.Copy(io.Discard, resp.Body)
	}
	return resp, e
}

func TestRateLimitWindow(t *testing.T) {
	clk := newClock()
	start := clk.Now()
	_, ts := testServer(t, Options{Instant: true, QueueEvery: -1, Limit: 3, Now: clk.Now})
	for i := 2; i >= 0; i-- {
		resp, _ := status(t, ts, "alice", "demo-fast")
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: status %d", 3-i, resp.StatusCode)
		}
		if got := resp.Header.Get("X-RateLimit-Remaining"); got != strconv.Itoa(i) {
			t.Fatalf("remaining = %s; want %d", got, i)
		}
		if got := resp.Header.Get("X-RateLimit-Limit"); got != "3" {
			t.Fatalf("limit = %s", got)
		}
		if got := resp.Header.Get("X-RateLimit-Reset"); got != strconv.FormatInt(start.Unix()+60, 10) {
			t.Fatalf("reset = %s; want %d", got, start.Unix()+60)
		}
		clk.Advance(5 * time.Second)
	}
	clk.Advance(500 * time.Millisecond) // 15.5 s into the window
	resp, e := status(t, ts, "alice", "demo-fast")
	if resp.StatusCode != 429 {
		t.Fatalf("exhausted window: status %d", resp.StatusCode)
	}
	if got := resp.Header.Get("Retry-After"); got != "45" {
		t.Fatalf("Retry-After = %q; want 45 (44.5 s rounded up)", got)
	}
	if e.Error.Type != "rate_limit_error" || e.Error.Code != "rate_limited" ||
		e.Error.Message != "Request queued — waiting for available slot" {
		t.Fatalf("429 body %+v", e.Error)
	}
	if resp.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Fatal("429 does not report 0 remaining")
	}
	// The limit is per key and per model.
	if resp, _ := status(t, ts, "bob", "demo-fast"); resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Remaining") != "2" {
		t.Fatalf("another key: %d remaining %s", resp.StatusCode, resp.Header.Get("X-RateLimit-Remaining"))
	}
	if resp, _ := status(t, ts, "alice", "demo-think"); resp.StatusCode != 200 {
		t.Fatalf("another model: %d", resp.StatusCode)
	}
	// Refused requests spend nothing, and the window resets on time.
	clk.Advance(44*time.Second + 499*time.Millisecond)
	if resp, _ := status(t, ts, "alice", "demo-fast"); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("just before reset: %d Retry-After %s", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	clk.Advance(time.Millisecond)
	resp, _ = status(t, ts, "alice", "demo-fast")
	if resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Remaining") != "2" {
		t.Fatalf("after reset: %d remaining %s", resp.StatusCode, resp.Header.Get("X-RateLimit-Remaining"))
	}
}

func TestRateLimitHeadersOnStreams(t *testing.T) {
	_, ts := testServer(t, Options{Instant: true, QueueEvery: -1, Limit: 5})
	for want := 4; want >= 2; want-- {
		_, resp := streamChat(t, ts, chat("demo-fast", "hi", true))
		if got := resp.Header.Get("X-RateLimit-Remaining"); got != strconv.Itoa(want) {
			t.Fatalf("stream remaining = %s; want %d", got, want)
		}
	}
}

func TestQueueEvery(t *testing.T) {
	clk := newClock()
	_, ts := testServer(t, Options{Instant: true, QueueEvery: 3, QueueWait: 2 * time.Second, Limit: 100, Now: clk.Now})
	var codes []int
	for range 9 {
		resp, e := status(t, ts, "k", "demo-fast")
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == 429 {
			if resp.Header.Get("Retry-After") != "2" || e.Error.Code != "rate_limited" || e.Error.Type != "rate_limit_error" {
				t.Fatalf("queued answer: Retry-After %q, %+v", resp.Header.Get("Retry-After"), e.Error)
			}
			// The queued request spent nothing.
			if resp.Header.Get("X-RateLimit-Remaining") != strconv.Itoa(100-countOK(codes)) {
				t.Fatalf("queued remaining = %s after %d successes", resp.Header.Get("X-RateLimit-Remaining"), countOK(codes))
			}
		}
	}
	// Requests 3 and 6 (counting only first attempts) are queued once; each
	// retry succeeds at once.
	want := []int{200, 200, 429, 200, 200, 200, 429, 200, 200}
	if !equalInts(codes, want) {
		t.Fatalf("status sequence %v; want %v", codes, want)
	}

	// The default is every fourth request; negative disables.
	_, ts = testServer(t, Options{Instant: true, Limit: 100})
	codes = nil
	for range 5 {
		resp, _ := status(t, ts, "k", "demo-fast")
		codes = append(codes, resp.StatusCode)
	}
	if want := []int{200, 200, 200, 429, 200}; !equalInts(codes, want) {
		t.Fatalf("default queueing %v; want %v", codes, want)
	}
	_, ts = testServer(t, Options{Instant: true, QueueEvery: -1, Limit: 100})
	for range 10 {
		if resp, _ := status(t, ts, "k", "demo-fast"); resp.StatusCode != 200 {
			t.Fatalf("QueueEvery -1 still queued")
		}
	}
}

func countOK(codes []int) int {
	n := 0
	for _, c := range codes {
		if c == 200 {
			n++
		}
	}
	return n
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestConcurrentRequestsShareTheWindow(t *testing.T) {
	s, ts := testServer(t, Options{Instant: true, QueueEvery: -1, Limit: 30})
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, limited := 0, 0
	for range 40 {
		wg.Go(func() {
			resp := postCtx(t, context.Background(), ts, "/v1/chat/completions", "k", chat("demo-fast", "table", true))
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			mu.Lock()
			defer mu.Unlock()
			switch resp.StatusCode {
			case 200:
				ok++
			case 429:
				limited++
			}
		})
	}
	wg.Wait()
	if ok != 30 || limited != 10 {
		t.Fatalf("%d succeeded, %d limited; want 30 and 10", ok, limited)
	}
	waitIdle(t, s)
}

// waitIdle polls until no handler is running, failing after a deadline.
func waitIdle(t *testing.T, s *Server) {
	t.Helper()
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for s.active.Load() != 0 {
		select {
		case <-deadline.C:
			t.Fatalf("%d handlers still running after 5 s", s.active.Load())
		case <-tick.C:
		}
	}
}

func TestClientDisconnectStopsHandler(t *testing.T) {
	// At natural pace the long answer takes most of a minute: the client
	// leaves long before it could finish.
	s, ts := testServer(t, Options{QueueEvery: -1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp := postCtx(t, ctx, ts, "/v1/chat/completions", "k", chat("demo-fast", "long", true))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	// Read until the first content chunk, proving the stream is under way.
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "data: {") {
		t.Fatalf("first line %q, %v", line, err)
	}
	if s.active.Load() != 1 {
		t.Fatalf("%d active handlers; want 1", s.active.Load())
	}
	cancel()
	resp.Body.Close()
	waitIdle(t, s)
}

func TestPacing(t *testing.T) {
	natural := newServer(Options{})
	rep := compose(&chatRequest{Model: "demo-fast", Messages: []chatMessage{{Role: "user", Content: json.RawMessage(`"hi"`)}}}, 1)
	plan := natural.plan(rep, 42)
	var text time.Duration
	toks := 0
	for i, st := range plan {
		if i == 0 {
			if st.delay < 300*time.Millisecond || st.delay > 600*time.Millisecond {
				t.Fatalf("first-token latency %v", st.delay)
			}
			continue
		}
		text += st.delay
		toks += max(1, tokens(st.text))
	}
	rate := float64(toks) / text.Seconds()
	if rate < 40 || rate > 60 {
		t.Fatalf("natural text rate %.1f tokens/s; want 40–60", rate)
	}

	think := compose(&chatRequest{Model: "demo-think", Messages: []chatMessage{{Role: "user", Content: json.RawMessage(`"hi"`)}}}, 1)
	var rd time.Duration
	rt := 0
	for i, st := range natural.plan(think, 42) {
		if i > 0 && st.what == stepReasoning {
			rd += st.delay
			rt += max(1, tokens(st.text))
		}
	}
	if r := float64(rt) / rd.Seconds(); r < 2*rate {
		t.Fatalf("reasoning rate %.1f tokens/s is not clearly faster than text (%.1f)", r, rate)
	}

	fast := newServer(Options{Speed: 4}).plan(rep, 42)
	slow := newServer(Options{Speed: 0.5}).plan(rep, 42)
	for i := range plan {
		if fast[i].text != plan[i].text || fast[i].delay != plan[i].delay/4 || slow[i].delay != plan[i].delay*2 {
			t.Fatalf("step %d: natural %v, speed 4 %v, speed 0.5 %v", i, plan[i].delay, fast[i].delay, slow[i].delay)
		}
	}
}

func TestSplitWordsKeepsText(t *testing.T) {
	r := &rng{state: 7}
	for _, s := range []string{"", "one", "  leading", "trailing  \n\n", defaultAnswer, hostileAnswer(), "a\tb\r\nc  d"} {
		parts := splitWords(s, r)
		if strings.Join(parts, "") != s {
			t.Fatalf("pieces of %q do not concatenate back", s)
		}
		for _, p := range parts {
			if p == "" || len(strings.Fields(p)) > 4 {
				t.Fatalf("piece %q", p)
			}
		}
	}
}

func TestOptionsFromEnv(t *testing.T) {
	t.Setenv("PARLEY_DEMO_SPEED", "instant")
	t.Setenv("PARLEY_DEMO_QUEUE_EVERY", "-1")
	if o := OptionsFromEnv(); !o.Instant || o.QueueEvery != -1 {
		t.Fatalf("%+v", o)
	}
	t.Setenv("PARLEY_DEMO_SPEED", "2.5")
	t.Setenv("PARLEY_DEMO_QUEUE_EVERY", "3")
	if o := OptionsFromEnv(); o.Instant || o.Speed != 2.5 || o.QueueEvery != 3 {
		t.Fatalf("%+v", o)
	}
	t.Setenv("PARLEY_DEMO_SPEED", "fast")
	t.Setenv("PARLEY_DEMO_QUEUE_EVERY", "x")
	if o := OptionsFromEnv(); o.Instant || o.Speed != 0 || o.QueueEvery != 0 {
		t.Fatalf("unparsable values not ignored: %+v", o)
	}
}

func TestStartServesOnLoopback(t *testing.T) {
	s, err := Start(Options{Instant: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") || !strings.HasSuffix(s.URL, "/v1") {
		t.Fatalf("URL %q", s.URL)
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/models", nil)
	req.Header.Set("Authorization", "Bearer k")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("server still answers after Close")
	}
}

// BenchmarkStreamLongInstant measures the cost of serving the ~25 KB long
// answer as a stream with pacing disabled (chunking, JSON, flushing).
func BenchmarkStreamLongInstant(b *testing.B) {
	s := newServer(Options{Instant: true, QueueEvery: -1, Limit: 1 << 30})
	body, _ := json.Marshal(chat("demo-fast", "long", true))
	b.SetBytes(int64(len(longAnswer)))
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer k")
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

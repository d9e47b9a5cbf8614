package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/fixtures"
)

// testKey is the API key every run gets through the environment. It is
// distinctive so that any leak into output is found.
const testKey = "sk-e2e-9c41f7d2b8a6e3015c77"

// result is what one run of the binary produced.
type result struct {
	stdout, stderr string
	code           int
	elapsed        time.Duration
}

// runOpts controls one run: extra environment (KEY=VALUE), stdin, and
// whether the key variable is set at all.
type runOpts struct {
	env   []string
	stdin string
	noKey bool
}

// parley runs the binary with a controlled environment: an empty config
// directory, no inherited keys, and the key in PARLEY_API_KEY. It fails
// the test if the key shows up in either output stream.
func parley(t *testing.T, o runOpts, args ...string) result {
	t.Helper()
	cmd, stdout, stderr := parleyCmd(t, o, args...)
	start := time.Now()
	err := cmd.Run()
	return finishRun(t, cmd, err, start, stdout, stderr)
}

func parleyCmd(t *testing.T, o runOpts, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	home := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, parleyBin, args...)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"LANG=C.UTF-8",
	}
	if !o.noKey {
		cmd.Env = append(cmd.Env, "PARLEY_API_KEY="+testKey)
	}
	cmd.Env = append(cmd.Env, o.env...)
	if o.stdin != "" {
		cmd.Stdin = strings.NewReader(o.stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	return cmd, &stdout, &stderr
}

func finishRun(t *testing.T, cmd *exec.Cmd, err error, start time.Time, stdout, stderr *bytes.Buffer) result {
	t.Helper()
	r := result{stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			t.Fatalf("parley killed by %v; stderr:\n%s", ws.Signal(), r.stderr)
		}
	default:
		t.Fatalf("running parley: %v", err)
	}
	if strings.Contains(r.stdout, testKey) || strings.Contains(r.stderr, testKey) {
		t.Errorf("the API key appears in the output:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
	}
	return r
}

// gateway is a loopback test server that counts chat POSTs and records
// their bodies and auth headers.
type gateway struct {
	*httptest.Server
	mu     sync.Mutex
	posts  int
	bodies [][]byte
	auth   []string
}

// newGateway serves handle for POST {base}/chat/completions; n is the
// 1-based number of the POST.
func newGateway(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, n int)) *gateway {
	t.Helper()
	g := &gateway{}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
			http.Error(w, `{"error":{"message":"not found"}}`, http.StatusNotFound)
			return
		}
		body, _ := io.ReadAll(r.Body)
		g.mu.Lock()
		g.posts++
		n := g.posts
		g.bodies = append(g.bodies, body)
		g.auth = append(g.auth, r.Header.Get("Authorization"))
		g.mu.Unlock()
		handle(w, r, n)
	}))
	t.Cleanup(g.Close)
	return g
}

func (g *gateway) postCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.posts
}

// args returns the flags that point parley at the gateway.
func (g *gateway) args(extra ...string) []string {
	return append([]string{"--dialect", "openai", "--base-url", g.URL + "/v1", "-m", "M"}, extra...)
}

// writeSSE writes a 200 event stream made of the given data payloads and
// [DONE], flushing after each event.
func writeSSE(w http.ResponseWriter, payloads ...string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	for _, p := range payloads {
		fmt.Fprintf(w, "data: %s\n\n", p)
		w.(http.Flusher).Flush()
	}
	io.WriteString(w, "data: [DONE]\n\n")
}

func textChunk(s string) string {
	b, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion.chunk",
		"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": s}, "finish_reason": nil}},
	})
	return string(b)
}

const stopChunk = `{"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`

// ---------------------------------------------------------------------
// Reading parley's JSONL output, independently of Parley's own decoder.

type toolCall struct {
	ID, Name, Arguments string
}

type jsonlOutput struct {
	types     []string
	text      string
	reasoning string
	tools     []toolCall
	events    []map[string]any
}

func (o *jsonlOutput) last() map[string]any {
	if len(o.events) == 0 {
		return nil
	}
	return o.events[len(o.events)-1]
}

func (o *jsonlOutput) count(typ string) int {
	n := 0
	for _, t := range o.types {
		if t == typ {
			n++
		}
	}
	return n
}

func (o *jsonlOutput) first(typ string) map[string]any {
	for _, e := range o.events {
		if e["type"] == typ {
			return e
		}
	}
	return nil
}

func parseJSONL(t *testing.T, out string) *jsonlOutput {
	t.Helper()
	o := &jsonlOutput{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("stdout line is not a JSON object: %q: %v", truncate(line, 200), err)
		}
		typ, _ := ev["type"].(string)
		if typ == "" {
			t.Fatalf("event without type: %q", truncate(line, 200))
		}
		o.types = append(o.types, typ)
		o.events = append(o.events, ev)
		switch typ {
		case "text":
			o.text += ev["text"].(string)
		case "reasoning":
			o.reasoning += ev["text"].(string)
		case "tool_call":
			id, _ := ev["id"].(string)
			name, _ := ev["name"].(string)
			args, ok := ev["arguments"].(string)
			if !ok {
				t.Errorf("tool_call arguments is not a string: %v", ev)
			}
			o.tools = append(o.tools, toolCall{id, name, args})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return o
}

// ---------------------------------------------------------------------
// An independent, simple reader of the recorded streams: what a careful
// human reading the file expects Parley to report.

type expectation struct {
	text, reasoning string
	tools           []toolCall
	err             bool // the stream ends in an error
}

// sseEvent is one event of a recorded stream.
type sseEvent struct {
	name, data string
}

// readRecording returns the data events of a recording: .sse files are
// split on blank lines (LF or CRLF); .chunks.jsonl lines are the payloads.
func readRecording(t *testing.T, path string) []sseEvent {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var evs []sseEvent
	if strings.HasSuffix(path, ".chunks.jsonl") {
		for _, line := range strings.Split(string(raw), "\n") {
			if strings.TrimSpace(line) != "" {
				evs = append(evs, sseEvent{data: line})
			}
		}
		return evs
	}
	text := strings.ReplaceAll(string(raw), "\r\n", "\n")
	for _, block := range strings.Split(text, "\n\n") {
		var ev sseEvent
		var data []string
		for _, line := range strings.Split(block, "\n") {
			switch {
			case strings.HasPrefix(line, "event:"):
				ev.name = strings.TrimSpace(line[len("event:"):])
			case strings.HasPrefix(line, "data:"):
				data = append(data, strings.TrimPrefix(line[len("data:"):], " "))
			}
		}
		if len(data) > 0 {
			ev.data = strings.Join(data, "\n")
			evs = append(evs, ev)
		}
	}
	return evs
}

func expect(t *testing.T, path string) expectation {
	t.Helper()
	var exp expectation
	type acc struct {
		call  toolCall
		order int
	}
	calls := map[string]*acc{}
	for _, ev := range readRecording(t, path) {
		if ev.data == "[DONE]" {
			continue
		}
		if ev.name == "error" {
			exp.err = true
			continue
		}
		var chunk map[string]any
		if err := json.Unmarshal([]byte(ev.data), &chunk); err != nil {
			t.Fatalf("%s: recorded chunk is not JSON: %v", filepath.Base(path), err)
		}
		if e, ok := chunk["error"]; ok && e != nil {
			exp.err = true
		}
		choices, _ := chunk["choices"].([]any)
		for _, c := range choices {
			delta, _ := c.(map[string]any)["delta"].(map[string]any)
			if delta == nil {
				continue
			}
			if s, ok := delta["content"].(string); ok {
				exp.text += s
			}
			// Reasoning arrives as reasoning_content, reasoning, or
			// reasoning_details[].text; a delta carrying the same text in
			// two of them says it once.
			var pieces []string
			for _, k := range []string{"reasoning_content", "reasoning"} {
				if s, ok := delta[k].(string); ok && s != "" {
					pieces = append(pieces, s)
				}
			}
			details := ""
			if ds, ok := delta["reasoning_details"].([]any); ok {
				for _, d := range ds {
					if m, ok := d.(map[string]any); ok {
						if s, ok := m["text"].(string); ok {
							details += s
						}
					}
				}
			}
			if details != "" {
				pieces = append(pieces, details)
			}
			var seen []string
			for _, p := range pieces {
				dup := false
				for _, s := range seen {
					dup = dup || s == p
				}
				if !dup {
					seen = append(seen, p)
					exp.reasoning += p
				}
			}
			tcs, _ := delta["tool_calls"].([]any)
			for _, tc := range tcs {
				m := tc.(map[string]any)
				id, _ := m["id"].(string)
				key := "id:" + id
				if idx, ok := m["index"].(float64); ok {
					key = fmt.Sprintf("index:%d", int(idx))
				}
				a := calls[key]
				if a == nil {
					a = &acc{order: len(calls)}
					calls[key] = a
				}
				if a.call.ID == "" {
					a.call.ID = id
				}
				if fn, ok := m["function"].(map[string]any); ok {
					if n, ok := fn["name"].(string); ok && a.call.Name == "" {
						a.call.Name = n
					}
					if s, ok := fn["arguments"].(string); ok {
						a.call.Arguments += s
					}
				}
			}
		}
	}
	list := make([]*acc, 0, len(calls))
	for _, a := range calls {
		list = append(list, a)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].order < list[j].order })
	for _, a := range list {
		exp.tools = append(exp.tools, a.call)
	}
	return exp
}

// contentType returns the recorded content type of a cassette-derived
// .sse file from its .meta.json, or text/event-stream.
func contentType(t *testing.T, path string) string {
	t.Helper()
	meta := strings.TrimSuffix(path, ".sse") + ".meta.json"
	raw, err := os.ReadFile(meta)
	if err != nil {
		return "text/event-stream"
	}
	var m struct {
		Response struct {
			Headers map[string][]string `json:"headers"`
		} `json:"response"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", meta, err)
	}
	for k, v := range m.Response.Headers {
		if strings.EqualFold(k, "content-type") && len(v) > 0 {
			return v[0]
		}
	}
	return "text/event-stream"
}

// recordingBody returns the bytes to serve for a recording.
func recordingBody(t *testing.T, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(path, ".chunks.jsonl") {
		return raw
	}
	var b bytes.Buffer
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.TrimSpace(line) != "" {
			fmt.Fprintf(&b, "data: %s\n\n", line)
		}
	}
	b.WriteString("data: [DONE]\n\n")
	return b.Bytes()
}

// TestRecordedStreams replays every recorded OpenAI-compatible stream
// through the real binary and compares its JSONL with what an independent
// reading of the file expects.
func TestRecordedStreams(t *testing.T) {
	dir := fixtures.Dir(t, "openai-sse")
	var files []string
	for _, pat := range []string{"*.sse", "*.chunks.jsonl"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	if len(files) < 20 {
		t.Fatalf("only %d recordings found in %s", len(files), dir)
	}
	// Values checked by hand against the files, so the test is not only
	// self-consistent.
	handChecked := map[string]func(t *testing.T, o *jsonlOutput){
		"openai-gpt-4o-parallel-tool-calls-usage.sse": func(t *testing.T, o *jsonlOutput) {
			want := []toolCall{
				{"call_q2UyBRP7eXNTzAoR8lEhjc9Z", "get_country", "{}"},
				{"call_b51ijcpFkDiTQG1bQzsrmtW5", "get_product_name", "{}"},
			}
			if fmt.Sprint(o.tools) != fmt.Sprint(want) {
				t.Errorf("parallel tool calls = %v, want %v", o.tools, want)
			}
			if u := o.first("usage"); u == nil || u["total_tokens"] == nil {
				t.Errorf("no usage event")
			}
		},
		"openai-gpt-4o-mini-tool-call-ratelimit-headers.sse": func(t *testing.T, o *jsonlOutput) {
			want := []toolCall{{"call_1EYWDzueHEp8OsB8jJSEp7WB", "multiply", `{"a":1231,"b":2331}`}}
			if fmt.Sprint(o.tools) != fmt.Sprint(want) {
				t.Errorf("tool calls = %v, want %v", o.tools, want)
			}
		},
		"vercel-mistral-tool-call-no-index.chunks.jsonl": func(t *testing.T, o *jsonlOutput) {
			want := []toolCall{{"gSIMJiOkT", "weather", `{"location": "San Francisco"}`}}
			if fmt.Sprint(o.tools) != fmt.Sprint(want) {
				t.Errorf("tool calls = %v, want %v", o.tools, want)
			}
		},
		"openrouter-kimi-k2-tool-call-single-chunk-args.sse": func(t *testing.T, o *jsonlOutput) {
			want := []toolCall{{"0", "llm_version", "{}"}}
			if fmt.Sprint(o.tools) != fmt.Sprint(want) {
				t.Errorf("tool calls = %v, want %v", o.tools, want)
			}
		},
		"openai-gpt-4o-mini-text-usage-empty-choices.sse": func(t *testing.T, o *jsonlOutput) {
			if o.text != "The capital of the UK is London." {
				t.Errorf("text = %q", o.text)
			}
		},
		"deepseek-reasoner-reasoning-content.sse": func(t *testing.T, o *jsonlOutput) {
			if o.text != "Hello there! 😊 How can I help you today?" {
				t.Errorf("text = %q", o.text)
			}
			if !strings.HasPrefix(o.reasoning, `Hmm, the user just said "Hello".`) {
				t.Errorf("reasoning starts %q", truncate(o.reasoning, 60))
			}
		},
		"openrouter-claude-reasoning-and-reasoning-details.sse": func(t *testing.T, o *jsonlOutput) {
			if o.text != "2 + 2 = 4" {
				t.Errorf("text = %q", o.text)
			}
			if strings.Count(o.reasoning, "This is a simple arithmetic question.") != 1 {
				t.Errorf("reasoning said more or less than once: %q", o.reasoning)
			}
		},
		"openrouter-minimax-reasoning-then-error-mid-stream.sse": func(t *testing.T, o *jsonlOutput) {
			if e := o.last(); e["type"] != "error" || !strings.Contains(fmt.Sprint(e["message"]), "Token limit reached") {
				t.Errorf("last event = %v", e)
			}
		},
		"groq-gpt-oss-reasoning-then-event-error.sse": func(t *testing.T, o *jsonlOutput) {
			e := o.last()
			if e["type"] != "error" || !strings.Contains(fmt.Sprint(e["message"]), "Tool call validation failed") {
				t.Errorf("last event = %v", e)
			}
			if !strings.HasPrefix(o.reasoning, "We need to call the tool with invalid pa") {
				t.Errorf("reasoning before the error lost: %q", truncate(o.reasoning, 60))
			}
		},
	}
	checked := 0
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			exp := expect(t, path)
			body := recordingBody(t, path)
			ct := contentType(t, path)
			g := newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("Content-Type", ct)
				w.WriteHeader(http.StatusOK)
				w.Write(body)
			})
			r := parley(t, runOpts{}, append([]string{"-p", "hello", "--output", "jsonl"}, g.args()...)...)
			o := parseJSONL(t, r.stdout)

			if o.text != exp.text {
				t.Errorf("text:\n got %q\nwant %q", truncate(o.text, 300), truncate(exp.text, 300))
			}
			if o.reasoning != exp.reasoning {
				t.Errorf("reasoning:\n got %q\nwant %q", truncate(o.reasoning, 300), truncate(exp.reasoning, 300))
			}
			if fmt.Sprint(o.tools) != fmt.Sprint(exp.tools) {
				t.Errorf("tool calls:\n got %v\nwant %v", o.tools, exp.tools)
			}
			last := o.last()
			if exp.err {
				if r.code != 1 || last == nil || last["type"] != "error" {
					t.Errorf("want exit 1 ending in an error event; got exit %d, last %v; stderr %s", r.code, last, r.stderr)
				}
				if msg, _ := last["message"].(string); msg == "" {
					t.Errorf("error event without a message: %v", last)
				}
				if !strings.HasPrefix(r.stderr, "parley: ") {
					t.Errorf("stderr = %q", r.stderr)
				}
			} else {
				if r.code != 0 || last == nil || last["type"] != "done" {
					t.Errorf("want exit 0 ending in done; got exit %d, last %v; stderr %s", r.code, last, r.stderr)
				}
			}
			if o.count("done")+o.count("error") != 1 {
				t.Errorf("want exactly one terminal event, got types %v", o.types)
			}
			if g.postCount() != 1 {
				t.Errorf("POSTs = %d, want 1", g.postCount())
			}
			if f := handChecked[name]; f != nil {
				f(t, o)
			}
		})
		if handChecked[name] != nil {
			checked++
		}
	}
	if checked != len(handChecked) {
		t.Errorf("only %d of %d hand-checked recordings were found", checked, len(handChecked))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// TestTextOutput checks text mode: the answer streamed to stdout with a
// final newline, stdin appended below the prompt, tool calls reported on
// stderr and reasoning on stderr only when asked.
func TestTextOutput(t *testing.T) {
	reasoning := `{"choices":[{"index":0,"delta":{"reasoning_content":"thinking hard"}}]}`
	tool := `{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\"}"}}]}}]}`
	g := newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeSSE(w, reasoning, textChunk("Hello, "), textChunk("world"), tool, stopChunk)
	})

	r := parley(t, runOpts{stdin: "line one\nline two\n"}, append([]string{"-p", "Summarise this:"}, g.args()...)...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if r.stdout != "Hello, world\n" {
		t.Errorf("stdout = %q", r.stdout)
	}
	if strings.Contains(r.stderr, "thinking hard") {
		t.Errorf("reasoning printed without --show-reasoning: %q", r.stderr)
	}
	if !strings.Contains(r.stderr, "parley: tool call (not executed): get_weather {\"location\":\"Paris\"} [id call_a]") {
		t.Errorf("tool call not reported: %q", r.stderr)
	}
	var req struct {
		Model    string `json:"model"`
		Stream   bool   `json:"stream"`
		Messages []struct {
			Role, Content string
		} `json:"messages"`
	}
	if err := json.Unmarshal(g.bodies[0], &req); err != nil {
		t.Fatal(err)
	}
	if req.Model != "M" || !req.Stream || len(req.Messages) != 1 || req.Messages[0].Role != "user" ||
		req.Messages[0].Content != "Summarise this:\n\nline one\nline two" {
		t.Errorf("request = %+v", req)
	}
	if g.auth[0] != "Bearer "+testKey {
		t.Errorf("Authorization header not sent from PARLEY_API_KEY")
	}

	// Reasoning on stderr when asked; prompt from stdin alone.
	r = parley(t, runOpts{stdin: "only stdin"}, append([]string{"-p", "--show-reasoning"}, g.args()...)...)
	if r.code != 0 || r.stdout != "Hello, world\n" || !strings.HasPrefix(r.stderr, "thinking hard\n") {
		t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(string(g.bodies[1]), `"content":"only stdin"`) {
		t.Errorf("stdin prompt not sent: %s", g.bodies[1])
	}

	// No prompt at all is a usage error, and nothing is sent.
	r = parley(t, runOpts{}, append([]string{"-p"}, g.args()...)...)
	if r.code != 2 || !strings.HasPrefix(r.stderr, "parley: no prompt") {
		t.Errorf("no prompt: exit %d, stderr %q", r.code, r.stderr)
	}
	if g.postCount() != 2 {
		t.Errorf("POSTs = %d, want 2", g.postCount())
	}
}

// Test429ThenSuccess: a queued request (429, Retry-After: 1) is retried
// once after at least a second and succeeds.
func Test429ThenSuccess(t *testing.T) {
	g := newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error":{"message":"Request queued - waiting for available slot","type":"rate_limit_error","code":"rate_limited"}}`)
			return
		}
		writeSSE(w, textChunk("after the queue"), stopChunk)
	})
	r := parley(t, runOpts{}, append([]string{"-p", "hello", "--output", "jsonl"}, g.args()...)...)
	o := parseJSONL(t, r.stdout)
	if r.code != 0 || o.text != "after the queue" || o.last()["type"] != "done" {
		t.Fatalf("exit %d, text %q, types %v, stderr %s", r.code, o.text, o.types, r.stderr)
	}
	if g.postCount() != 2 {
		t.Errorf("POSTs = %d, want 2", g.postCount())
	}
	retry := o.first("retry")
	if o.count("retry") != 1 || retry == nil {
		t.Fatalf("want one retry event, got types %v", o.types)
	}
	if retry["attempt"] != 1.0 || retry["status"] != 429.0 || retry["wait_ms"].(float64) < 1000 {
		t.Errorf("retry event = %v", retry)
	}
	if r.elapsed < time.Second {
		t.Errorf("finished after %v, before Retry-After elapsed", r.elapsed)
	}
}

// Test503Exhausted: a 503 with Retry-After is retried --max-retries times,
// then reported with the server's own message.
func Test503Exhausted(t *testing.T) {
	const msg = "Queue full for over 2 minutes: upstream timeout"
	g := newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Retry-After", "1")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, `{"error":{"message":%q,"type":"service_unavailable_error","code":"timeout"}}`, msg)
	})
	r := parley(t, runOpts{}, append([]string{"-p", "hello", "--max-retries", "2"}, g.args()...)...)
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	if g.postCount() != 3 {
		t.Errorf("POSTs = %d, want 3", g.postCount())
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "parley: ") || !strings.Contains(last, msg) || !strings.Contains(last, "503") {
		t.Errorf("last stderr line = %q", last)
	}
	if r.stdout != "" {
		t.Errorf("stdout = %q", r.stdout)
	}

	// The same in jsonl: two retry events and an error event with the message.
	r = parley(t, runOpts{}, append([]string{"-p", "hello", "--max-retries", "2", "--output", "jsonl"}, g.args()...)...)
	o := parseJSONL(t, r.stdout)
	e := o.last()
	if r.code != 1 || o.count("retry") != 2 || e["type"] != "error" || e["status"] != 503.0 || e["message"] != msg {
		t.Errorf("exit %d, types %v, last %v", r.code, o.types, e)
	}
}

// Test401: never retried; the server's message; the key never echoed even
// when the server puts it in its message.
func Test401(t *testing.T) {
	g := newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		fmt.Fprintf(w, `{"error":{"message":"Invalid API key %s","type":"authentication_error","code":"invalid_api_key"}}`, key)
	})
	r := parley(t, runOpts{}, append([]string{"-p", "hello"}, g.args()...)...)
	if r.code != 1 || g.postCount() != 1 {
		t.Errorf("exit %d, POSTs %d; want 1, 1", r.code, g.postCount())
	}
	if !strings.HasPrefix(r.stderr, "parley: ") || !strings.Contains(r.stderr, "Invalid API key") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr = %q", r.stderr)
	}

	r = parley(t, runOpts{}, append([]string{"-p", "hello", "--output", "jsonl"}, g.args()...)...)
	o := parseJSONL(t, r.stdout)
	e := o.last()
	if r.code != 1 || g.postCount() != 2 || e["type"] != "error" || e["status"] != 401.0 || e["code"] != "invalid_api_key" ||
		!strings.HasPrefix(fmt.Sprint(e["message"]), "Invalid API key") {
		t.Errorf("exit %d, POSTs %d, last %v", r.code, g.postCount(), e)
	}
}

// TestKeyEchoedInAnswer: a gateway that streams the key back inside the
// answer, split across deltas, still never gets it printed.
func TestKeyEchoedInAnswer(t *testing.T) {
	half := len(testKey) / 2
	g := newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeSSE(w, textChunk("your key is "+testKey[:half]), textChunk(testKey[half:]+" and that is all"), stopChunk)
	})
	for _, mode := range []string{"text", "jsonl"} {
		r := parley(t, runOpts{}, append([]string{"-p", "hello", "--output", mode}, g.args()...)...)
		if r.code != 0 || !strings.Contains(r.stdout, "and that is all") {
			t.Errorf("%s: exit %d, stdout %q", mode, r.code, r.stdout)
		}
		// Neither half may show: in JSONL each delta is its own line, so
		// the halves never meet in the output stream.
		if strings.Contains(r.stdout, testKey[:half]) || strings.Contains(r.stdout, testKey[half:]) || !strings.Contains(r.stdout, "[redacted]") {
			t.Errorf("%s: key fragments in stdout %q", mode, r.stdout)
		}
	}
}

// TestIdleTimeout: a stream that stalls after its first delta ends with
// exit 1 soon after --idle-timeout, keeping the partial text.
func TestIdleTimeout(t *testing.T) {
	g := newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		fmt.Fprintf(w, "data: %s\n\n", textChunk("partial answer"))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
	})
	r := parley(t, runOpts{}, append([]string{"-p", "hello", "--idle-timeout", "2s"}, g.args()...)...)
	if r.code != 1 {
		t.Errorf("exit %d, want 1; stderr %q", r.code, r.stderr)
	}
	if r.stdout != "partial answer\n" {
		t.Errorf("stdout = %q", r.stdout)
	}
	if !strings.HasPrefix(r.stderr, "parley: ") {
		t.Errorf("stderr = %q", r.stderr)
	}
	if r.elapsed < 2*time.Second || r.elapsed > 5*time.Second {
		t.Errorf("took %v, want about 2-3 s", r.elapsed)
	}
	if g.postCount() != 1 {
		t.Errorf("POSTs = %d: a stream that delivered bytes must not be retried", g.postCount())
	}
}

// TestFraming: multi-byte characters split across TCP writes, CRLF
// framing, and a 1.5 MB data line all arrive intact.
func TestFraming(t *testing.T) {
	t.Run("split runes", func(t *testing.T) {
		const text = "héllo wörld — 日本語テキスト 🎉🚀 ✓"
		stream := "data: " + textChunk(text[:13]) + "\n\ndata: " + textChunk(text[13:]) + "\n\ndata: " + stopChunk + "\n\ndata: [DONE]\n\n"
		g := newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(http.StatusOK)
			// One byte per write, flushed, so runes and lines are cut
			// everywhere; pause inside the multi-byte runes.
			for i := 0; i < len(stream); i++ {
				w.Write([]byte{stream[i]})
				w.(http.Flusher).Flush()
				if stream[i] >= 0xC0 {
					time.Sleep(5 * time.Millisecond)
				}
			}
		})
		r := parley(t, runOpts{}, append([]string{"-p", "hello"}, g.args()...)...)
		if r.code != 0 || r.stdout != text+"\n" {
			t.Errorf("exit %d, stdout %q, want %q; stderr %q", r.code, r.stdout, text, r.stderr)
		}
	})
	t.Run("CRLF", func(t *testing.T) {
		g := newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, ": keep-alive\r\n\r\n")
			for _, p := range []string{textChunk("line one\n"), textChunk("line two"), stopChunk, "[DONE]"} {
				io.WriteString(w, "data: "+p+"\r\n\r\n")
				w.(http.Flusher).Flush()
			}
		})
		r := parley(t, runOpts{}, append([]string{"-p", "hello", "--output", "jsonl"}, g.args()...)...)
		o := parseJSONL(t, r.stdout)
		if r.code != 0 || o.text != "line one\nline two" || o.last()["type"] != "done" {
			t.Errorf("exit %d, text %q, types %v", r.code, o.text, o.types)
		}
	})
	t.Run("1.5 MB line", func(t *testing.T) {
		var b strings.Builder
		for i := 0; b.Len() < 1536*1024; i++ {
			fmt.Fprintf(&b, "%06d ünïcödé ", i)
		}
		big := b.String()
		g := newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
			writeSSE(w, textChunk("start "), textChunk(big), textChunk(" end"), stopChunk)
		})
		r := parley(t, runOpts{}, append([]string{"-p", "hello"}, g.args()...)...)
		if r.code != 0 {
			t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
		}
		if want := "start " + big + " end\n"; r.stdout != want {
			t.Errorf("stdout is %d bytes, want %d; stderr %q", len(r.stdout), len(want), r.stderr)
		}
	})
}

// TestInterrupt: SIGINT mid-stream keeps the partial answer and exits 130.
func TestInterrupt(t *testing.T) {
	g := newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		fmt.Fprintf(w, "data: %s\n\n", textChunk("partial"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	cmd, _, stderr := parleyCmd(t, runOpts{}, append([]string{"-p", "hello"}, g.args()...)...)
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, 7)
		_, err := io.ReadFull(pr, buf)
		if err != nil {
			got <- ""
			return
		}
		got <- string(buf)
		rest, _ := io.ReadAll(pr)
		got <- string(rest)
	}()
	select {
	case s := <-got:
		if s != "partial" {
			t.Fatalf("first output %q", s)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no output within 30 s")
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	pw.Close()
	rest := <-got
	var stdout bytes.Buffer
	stdout.WriteString("partial" + rest)
	r := finishRun(t, cmd, err, start, &stdout, stderr)
	if r.code != 130 {
		t.Errorf("exit %d, want 130; stderr %q", r.code, r.stderr)
	}
	if r.stdout != "partial\n" || r.stderr != "parley: interrupted\n" {
		t.Errorf("stdout %q, stderr %q", r.stdout, r.stderr)
	}
}

// TestDemo: --demo -p answers with no key and no network.
func TestDemo(t *testing.T) {
	opts := runOpts{noKey: true, env: []string{"PARLEY_DEMO_SPEED=instant"}}
	r := parley(t, opts, "--demo", "-p", "hello")
	if r.code != 0 || len(strings.TrimSpace(r.stdout)) < 20 || !strings.HasSuffix(r.stdout, "\n") {
		t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = parley(t, opts, "--demo", "-p", "hello", "--output", "jsonl")
	o := parseJSONL(t, r.stdout)
	if r.code != 0 || o.text == "" || o.last()["type"] != "done" || o.count("ratelimit") == 0 {
		t.Errorf("exit %d, types %v, stderr %q", r.code, o.types, r.stderr)
	}
	r = parley(t, opts, "--demo", "models", "--output", "json")
	var models []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &models); r.code != 0 || err != nil || len(models) == 0 {
		t.Errorf("models: exit %d, %v, stdout %q", r.code, err, r.stdout)
	}
	r = parley(t, opts, "--demo", "--base-url", "https://example.com/v1", "-p", "hi")
	if r.code != 2 {
		t.Errorf("--demo with --base-url: exit %d", r.code)
	}
}

// TestModels lists a gateway's models as a table and as JSON.
func TestModels(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/models" || r.Header.Get("Authorization") != "Bearer "+testKey {
			http.Error(w, `{"error":{"message":"nope"}}`, http.StatusNotFound)
			return
		}
		io.WriteString(w, `{"object":"list","data":[{"id":"cutad-agent-pro","object":"model","owned_by":"cutad"},{"id":"cutad-agent","object":"model","owned_by":"cutad"}]}`)
	}))
	defer srv.Close()
	base := []string{"models", "--dialect", "openai", "--base-url", srv.URL + "/v1", "-m", "cutad-agent"}
	r := parley(t, runOpts{}, base...)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "MODEL") ||
		!strings.HasPrefix(lines[1], "cutad-agent ") || !strings.Contains(lines[1], "(default)") ||
		!strings.HasPrefix(lines[2], "cutad-agent-pro") {
		t.Errorf("exit %d, stdout:\n%s\nstderr %q", r.code, r.stdout, r.stderr)
	}
	r = parley(t, runOpts{}, append(base, "--output", "json")...)
	var models []struct {
		ID      string `json:"id"`
		OwnedBy string `json:"owned_by"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &models); err != nil || len(models) != 2 || models[0].ID != "cutad-agent" || models[1].OwnedBy != "cutad" {
		t.Errorf("json: %v %+v", err, models)
	}
	r = parley(t, runOpts{}, "models", "--dialect", "openai", "--base-url", srv.URL+"/wrong")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "parley: ") {
		t.Errorf("failed listing: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestConfigErrors: bad configuration is exit 2 with a clear message, and
// nothing is sent.
func TestConfigErrors(t *testing.T) {
	g := newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeSSE(w, textChunk("should not happen"), stopChunk)
	})
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := write("bad.toml", "theme = \"dark\"\n\n[providers.gw]\ndialect = \"openai\"\nbase_url = \"http://x/v1\"\nmodels = [\"a\",\n")
	unknownKey := write("unknown.toml", "[providers.gw]\ndialect = \"openai\"\nbase_url = \"https://x/v1\"\napi_key = \"sk-nope\"\n")
	badDialect := write("dialect.toml", "[providers.gw]\ndialect = \"klingon\"\nbase_url = \"https://x/v1\"\n")
	badHeader := write("header.toml", "[providers.gw]\ndialect = \"openai\"\nbase_url = \"https://x/v1\"\n[providers.gw.headers]\nX-A = \"a\\nb\"\n")
	badTheme := write("theme.toml", fmt.Sprintf("theme = \"neon\"\n[providers.gw]\ndialect = \"openai\"\nbase_url = %q\ndefault_model = \"M\"\n", g.URL+"/v1"))
	good := write("good.toml", fmt.Sprintf("default_provider = \"gw\"\n[providers.gw]\ndialect = \"openai\"\nbase_url = %q\napi_key_env = \"GW_KEY\"\ndefault_model = \"M\"\n", g.URL+"/v1"))

	tests := []struct {
		name string
		opts runOpts
		args []string
		want []string
	}{
		{"syntax error", runOpts{}, []string{"--config", bad, "-p", "hi"}, []string{bad + ":6:"}},
		{"unknown key", runOpts{}, []string{"--config", unknownKey, "-p", "hi"}, []string{unknownKey + ":4:", "api_key"}},
		{"unknown dialect in file", runOpts{}, []string{"--config", badDialect, "-p", "hi"}, []string{badDialect + ":2:", `"klingon"`}},
		{"missing config file", runOpts{}, []string{"--config", filepath.Join(dir, "nope.toml"), "-p", "hi"}, []string{"nope.toml", "not found"}},
		{"unknown provider", runOpts{}, []string{"--config", good, "--provider", "other", "-p", "hi"}, []string{`unknown provider "other"`, "gw"}},
		{"unknown dialect flag", runOpts{}, append([]string{"-p", "hi"}, append(g.args(), "--dialect", "klingon")...), []string{`unknown dialect "klingon"`}},
		{"missing key names the variables", runOpts{noKey: true}, append([]string{"-p", "hi"}, g.args()...), []string{"PARLEY_API_KEY", "OPENAI_API_KEY"}},
		{"missing profile key names api_key_env", runOpts{noKey: true, env: []string{"OPENAI_API_KEY=" + testKey}}, []string{"--config", good, "-p", "hi"}, []string{"GW_KEY", "PARLEY_API_KEY"}},
		{"no provider at all", runOpts{}, []string{"-p", "hi"}, []string{"no provider configured", "--demo"}},
		{"bad flag value", runOpts{}, append([]string{"-p", "hi", "--temperature", "7"}, g.args()...), []string{"--temperature"}},
		{"bad output", runOpts{}, append([]string{"-p", "hi", "--output", "xml"}, g.args()...), []string{"--output"}},
		{"bad tools mode", runOpts{}, append([]string{"-p", "hi", "--tools", "sometimes"}, g.args()...), []string{"--tools"}},
		{"unknown flag", runOpts{}, []string{"-p", "hi", "--api-key", "x"}, []string{"unknown flag"}},
		{"header value with a newline", runOpts{}, []string{"--config", badHeader, "-p", "hi"}, []string{badHeader + ":5:", "control characters"}},
		{"unknown theme in file", runOpts{}, []string{"--config", badTheme, "-p", "hi"}, []string{badTheme, "neon"}},
		{"unknown theme flag", runOpts{}, append([]string{"-p", "hi", "--theme", "neon"}, g.args()...), []string{"--theme", "neon"}},
		{"key with control characters", runOpts{noKey: true, env: []string{"PARLEY_API_KEY=sk-\x1b[31mred"}}, append([]string{"-p", "hi"}, g.args()...), []string{"control characters", "PARLEY_API_KEY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := parley(t, tt.opts, tt.args...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2; stderr %q", r.code, r.stderr)
			}
			if !strings.HasPrefix(r.stderr, "parley: ") || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("stderr is not one parley: line: %q", r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not contain %q", r.stderr, w)
				}
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q", r.stdout)
			}
		})
	}
	if g.postCount() != 0 {
		t.Errorf("a configuration error still sent %d requests", g.postCount())
	}

	// The good file works, with the key from its api_key_env.
	r := parley(t, runOpts{noKey: true, env: []string{"GW_KEY=" + testKey}}, "--config", good, "-p", "hi")
	if r.code != 0 || r.stdout != "should not happen\n" {
		t.Errorf("good config: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestPlainHTTPWarning: a plain-http base URL to a non-loopback host is
// warned about on stderr; loopback is not. No request leaves the machine:
// the non-loopback run stops at the missing key.
func TestPlainHTTPWarning(t *testing.T) {
	r := parley(t, runOpts{noKey: true}, "-p", "hi", "--dialect", "openai", "--base-url", "http://gateway.example/v1", "-m", "M")
	if r.code != 2 || !strings.Contains(r.stderr, "parley: warning: ") || !strings.Contains(r.stderr, "plain http") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	// Nothing listens on 127.0.0.1:9 (discard); the connection is refused.
	r = parley(t, runOpts{}, "-p", "hi", "--dialect", "openai", "--base-url", "http://127.0.0.1:9/v1", "-m", "M", "--max-retries", "0")
	if strings.Contains(r.stderr, "warning") {
		t.Errorf("loopback http warned: %q", r.stderr)
	}
	if r.code != 1 || !strings.HasPrefix(r.stderr, "parley: ") {
		t.Errorf("refused connection: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestTokenLimitNotice: an answer cut at the token limit succeeds (exit
// 0) but says so on stderr; a filtered one fails with the partial kept.
func TestTokenLimitNotice(t *testing.T) {
	for _, c := range []struct {
		reason, stderr string
		code           int
	}{{"length", "token limit", 0}, {"content_filter", "content filter", 1}} {
		g := newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
			writeSSE(w, textChunk("partial"), `{"choices":[{"index":0,"delta":{},"finish_reason":"`+c.reason+`"}]}`)
		})
		r := parley(t, runOpts{}, append([]string{"-p", "hello"}, g.args()...)...)
		if r.code != c.code || r.stdout != "partial\n" || !strings.Contains(r.stderr, c.stderr) {
			t.Errorf("%s: exit %d stdout %q stderr %q", c.reason, r.code, r.stdout, r.stderr)
		}
	}
}

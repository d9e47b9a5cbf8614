package e2e

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/fixtures"
)

// dlRequest is what a loopback dialect gateway saw of one request.
type dlRequest struct {
	method, path, uri string
	header            http.Header
	body              []byte
}

// dlGateway is a loopback server for the non-OpenAI dialects: it records
// every request and answers with handle (n is the 1-based request number).
type dlGateway struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []dlRequest
}

func newDLGateway(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, n int)) *dlGateway {
	t.Helper()
	g := &dlGateway{}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		g.mu.Lock()
		g.reqs = append(g.reqs, dlRequest{r.Method, r.URL.Path, r.RequestURI, r.Header.Clone(), body})
		n := len(g.reqs)
		g.mu.Unlock()
		handle(w, r, n)
	}))
	t.Cleanup(g.Close)
	return g
}

func (g *dlGateway) requests() []dlRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]dlRequest(nil), g.reqs...)
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestCuadraPlainStreamAfter429 is the native REST dialect's acceptance
// check: exact text and usage, POST /chats with modelId and an
// Idempotency-Key, and after an RFC 7807 429 with Retry-After: 1 one
// retry with the same key.
func TestCuadraPlainStreamAfter429(t *testing.T) {
	g := newDLGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/chats" {
			http.Error(w, "not found", 404)
			return
		}
		if n == 1 {
			w.Header().Set("Content-Type", "application/problem+json")
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(429)
			io.WriteString(w, `{"type":"about:blank","title":"Too Many Requests","status":429,"detail":"Rate limit exceeded: 60 requests/minute per user."}`)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for _, d := range []string{
			`{"id":"chat_xyz","delta":"Once","finished":false}`,
			`{"id":"chat_xyz","delta":" upon a time, ünïcödé","finished":false}`,
			`{"id":"chat_xyz","delta":"","finished":true,"usage":{"inputTokens":15,"outputTokens":8,"totalTokens":23}}`,
			`[DONE]`,
		} {
			fmt.Fprintf(w, "data: %s\n\n", d)
			w.(http.Flusher).Flush()
		}
	})
	r := parley(t, runOpts{}, "-p", "hi", "--dialect", "cuadra", "--base-url", g.URL+"/v1", "-m", "M", "--output", "jsonl")
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	o := parseJSONL(t, r.stdout)
	if o.text != "Once upon a time, ünïcödé" {
		t.Errorf("text %q", o.text)
	}
	u := o.first("usage")
	if u == nil || u["input_tokens"] != 15.0 || u["output_tokens"] != 8.0 || u["total_tokens"] != 23.0 {
		t.Errorf("usage %v", u)
	}
	if rt := o.first("retry"); rt == nil || rt["status"] != 429.0 || o.count("retry") != 1 {
		t.Errorf("retry events: %v", o.events)
	}
	if o.last()["type"] != "done" {
		t.Errorf("last event %v", o.last())
	}
	if r.elapsed < time.Second {
		t.Errorf("finished in %v: Retry-After: 1 was not honoured", r.elapsed)
	}
	reqs := g.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d POSTs, want 2", len(reqs))
	}
	key := reqs[0].header.Get("Idempotency-Key")
	if !uuidV4.MatchString(key) || reqs[1].header.Get("Idempotency-Key") != key {
		t.Errorf("Idempotency-Key %q then %q: want the same UUID on the retry", key, reqs[1].header.Get("Idempotency-Key"))
	}
	var body map[string]any
	if err := json.Unmarshal(reqs[1].body, &body); err != nil {
		t.Fatal(err)
	}
	if body["modelId"] != "M" || body["stream"] != true {
		t.Errorf("body %s", reqs[1].body)
	}
	if reqs[0].header.Get("Authorization") != "Bearer "+testKey {
		t.Errorf("Authorization header not sent with the key")
	}
}

// TestCuadraUIStreamOption checks that the ui_stream profile option asks
// for the UI message stream and that its parts come through.
func TestCuadraUIStreamOption(t *testing.T) {
	dir := fixtures.Dir(t, "ui-message-stream")
	body, err := os.ReadFile(filepath.Join(dir, "ai-sdk-streamtext-reasoning-tools-sources.sse"))
	if err != nil {
		t.Fatal(err)
	}
	g := newDLGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("X-Vercel-Ai-Ui-Message-Stream", "v1")
		w.Write(body)
	})
	cfg := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("[providers.cu]\ndialect = \"cuadra\"\nbase_url = %q\ndefault_model = \"model_abc\"\nui_stream = true\n", g.URL+"/v1")), 0o600)
	r := parley(t, runOpts{}, "--config", cfg, "-p", "hi", "--output", "jsonl")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if got := g.requests()[0].header.Get("X-Stream-Format"); got != "ai-sdk" {
		t.Errorf("X-Stream-Format = %q", got)
	}
	o := parseJSONL(t, r.stdout)
	if o.text != "Let me look that up.It is 18 °C and cloudy in Berlin, where the local time is 14:05." || len(o.tools) != 2 ||
		o.tools[0] != (toolCall{"call-weather-1", "getWeather", `{"city":"Berlin"}`}) || o.count("tool_result") != 2 || o.count("source") != 2 {
		t.Errorf("output %+v", o)
	}

	// The --ui-stream flag asks for it without a profile option.
	r = parley(t, runOpts{}, "-p", "hi", "--output", "jsonl", "--dialect", "cuadra", "--base-url", g.URL+"/v1", "-m", "model_abc", "--ui-stream")
	if r.code != 0 {
		t.Fatalf("--ui-stream: exit %d: %s", r.code, r.stderr)
	}
	reqs := g.requests()
	if got := reqs[len(reqs)-1].header.Get("X-Stream-Format"); got != "ai-sdk" {
		t.Errorf("--ui-stream: X-Stream-Format = %q", got)
	}
}

// TestGeminiThoughtsAndKeyHeader is the Gemini dialect's acceptance check.
func TestGeminiThoughtsAndKeyHeader(t *testing.T) {
	g := newDLGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"**Weighing** options\",\"thought\":true}],\"role\":\"model\"}}]}\r\n\r\n")
		io.WriteString(w, "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Look both \"}],\"role\":\"model\"}}]}\r\n\r\n")
		io.WriteString(w, "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"ways.\"}],\"role\":\"model\"},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":5,\"candidatesTokenCount\":3,\"thoughtsTokenCount\":7,\"totalTokenCount\":15}}\r\n\r\n")
	})
	r := parley(t, runOpts{}, "-p", "hi", "--dialect", "gemini", "--base-url", g.URL+"/v1beta", "-m", "M", "--output", "jsonl")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	o := parseJSONL(t, r.stdout)
	if o.reasoning != "**Weighing** options" || o.text != "Look both ways." {
		t.Errorf("reasoning %q text %q", o.reasoning, o.text)
	}
	if u := o.first("usage"); u == nil || u["total_tokens"] != 15.0 || u["output_tokens"] != 10.0 {
		t.Errorf("usage %v", u)
	}
	req := g.requests()[0]
	if req.method != http.MethodPost || !strings.HasSuffix(req.uri, "/v1beta/models/M:streamGenerateContent?alt=sse") {
		t.Errorf("%s %s", req.method, req.uri)
	}
	if req.header.Get("x-goog-api-key") != testKey || strings.Contains(req.uri, testKey) || req.header.Get("Authorization") != "" {
		t.Errorf("key placement: x-goog-api-key %v, uri %q", req.header.Get("x-goog-api-key") == testKey, req.uri)
	}
}

// dlExpect is what an independent reader finds in a recording.
type dlExpect struct {
	text, reasoning string
	calls           []struct {
		name string
		args any // decoded JSON
	}
	err bool
}

// readUIRecording folds a UI message stream recording.
func readUIRecording(body []byte) dlExpect {
	var e dlExpect
	inputs := map[string]string{}
	streamed := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok || line == "[DONE]" {
			continue
		}
		var m map[string]any
		json.Unmarshal([]byte(line), &m)
		s := func(k string) string { v, _ := m[k].(string); return v }
		switch s("type") {
		case "text-delta":
			e.text += s("delta")
		case "reasoning-delta":
			e.reasoning += s("delta")
		case "tool-input-delta":
			inputs[s("toolCallId")] += s("inputTextDelta")
			streamed[s("toolCallId")] = true
		case "tool-input-available":
			var args any = m["input"]
			if streamed[s("toolCallId")] {
				json.Unmarshal([]byte(inputs[s("toolCallId")]), &args)
			}
			e.calls = append(e.calls, struct {
				name string
				args any
			}{s("toolName"), args})
		case "error", "abort":
			e.err = true
		}
	}
	return e
}

// readGeminiRecording folds a Gemini recording: data lines are responses;
// streamed arguments are set at their JSONPath; a bare error object, a
// blocked prompt, a SAFETY/RECITATION finish or a non-response event is
// an error.
func readGeminiRecording(body []byte) dlExpect {
	var e dlExpect
	var cur map[string]any
	curName := ""
	add := func(name string, args any) {
		e.calls = append(e.calls, struct {
			name string
			args any
		}{name, args})
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			if strings.Contains(line, `"error"`) {
				e.err = true
			}
			continue
		}
		var r struct {
			Candidates []struct {
				Content struct {
					Parts []struct {
						Text         string
						Thought      bool
						FunctionCall *struct {
							Name         string
							Args         any
							WillContinue bool
							PartialArgs  []struct {
								JSONPath    string
								StringValue string
							}
						}
					}
				}
				FinishReason string
			}
			PromptFeedback *struct{ BlockReason string }
			UsageMetadata  any
		}
		if json.Unmarshal([]byte(data), &r) != nil || (r.Candidates == nil && r.PromptFeedback == nil && r.UsageMetadata == nil) {
			e.err = true
			continue
		}
		if r.PromptFeedback != nil && r.PromptFeedback.BlockReason != "" {
			e.err = true
		}
		for _, c := range r.Candidates {
			if c.FinishReason == "SAFETY" || c.FinishReason == "RECITATION" {
				e.err = true
			}
			for _, p := range c.Content.Parts {
				fc := p.FunctionCall
				switch {
				case fc != nil && fc.Name != "" && !fc.WillContinue:
					args := fc.Args
					if args == nil {
						args = map[string]any{}
					}
					add(fc.Name, args)
				case fc != nil && fc.Name != "":
					curName, cur = fc.Name, map[string]any{}
				case fc != nil:
					for _, pa := range fc.PartialArgs {
						setJSONPath(cur, pa.JSONPath, pa.StringValue)
					}
					if !fc.WillContinue && curName != "" {
						add(curName, cur)
						curName = ""
					}
				case p.Thought:
					e.reasoning += p.Text
				default:
					e.text += p.Text
				}
			}
		}
	}
	return e
}

// setJSONPath appends s at a $.a.b[0].c path in m.
func setJSONPath(m map[string]any, path, s string) {
	var steps []string
	for _, tok := range regexp.MustCompile(`\.([^.\[]+)|\[(\d+)\]`).FindAllStringSubmatch(strings.TrimPrefix(path, "$"), -1) {
		if tok[1] != "" {
			steps = append(steps, tok[1])
		} else {
			steps = append(steps, "#"+tok[2])
		}
	}
	var set func(cur any, steps []string) any
	set = func(cur any, steps []string) any {
		if len(steps) == 0 {
			old, _ := cur.(string)
			return old + s
		}
		if idx, ok := strings.CutPrefix(steps[0], "#"); ok {
			n, _ := strconv.Atoi(idx)
			arr, _ := cur.([]any)
			for len(arr) <= n {
				arr = append(arr, nil)
			}
			arr[n] = set(arr[n], steps[1:])
			return arr
		}
		obj, _ := cur.(map[string]any)
		if obj == nil {
			obj = map[string]any{}
		}
		obj[steps[0]] = set(obj[steps[0]], steps[1:])
		return obj
	}
	set(m, steps)
}

// checkAgainst compares parley's JSONL output with a reader's expectation.
func checkAgainst(t *testing.T, r result, want dlExpect) {
	t.Helper()
	o := parseJSONL(t, r.stdout)
	if o.text != want.text {
		t.Errorf("text\n got %q\nwant %q", o.text, want.text)
	}
	if o.reasoning != want.reasoning {
		t.Errorf("reasoning\n got %q\nwant %q", o.reasoning, want.reasoning)
	}
	if len(o.tools) != len(want.calls) {
		t.Fatalf("tool calls %+v, want %+v", o.tools, want.calls)
	}
	for i, c := range o.tools {
		var got any
		if err := json.Unmarshal([]byte(c.Arguments), &got); err != nil {
			t.Errorf("tool call %d arguments %q are not JSON", i, c.Arguments)
		}
		if c.Name != want.calls[i].name || !reflect.DeepEqual(got, want.calls[i].args) {
			t.Errorf("tool call %d = %+v, want %s %v", i, c, want.calls[i].name, want.calls[i].args)
		}
	}
	last := o.last()
	switch {
	case want.err && (r.code != 1 || last["type"] != "error"):
		t.Errorf("exit %d, last event %v: want exit 1 with an error event", r.code, last)
	case !want.err && (r.code != 0 || last["type"] != "done"):
		t.Errorf("exit %d, last event %v: want exit 0 with done\nstderr: %s", r.code, last, r.stderr)
	}
}

// TestDialectRecordings replays every recorded Gemini and UI message
// stream through print mode with the real binary.
func TestDialectRecordings(t *testing.T) {
	type rec struct {
		dialect, base, file string
		body                []byte
		header              http.Header
		want                dlExpect
	}
	var recs []rec
	gdir := fixtures.Dir(t, "gemini-sse")
	udir := fixtures.Dir(t, "ui-message-stream")
	gfiles, _ := filepath.Glob(filepath.Join(gdir, "*.sse"))
	chunks, _ := filepath.Glob(filepath.Join(gdir, "*.chunks.jsonl"))
	for _, f := range append(gfiles, chunks...) {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, ".chunks.jsonl") {
			var b bytes.Buffer
			for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
				b.WriteString("data: " + strings.TrimSpace(l) + "\r\n\r\n")
			}
			raw = b.Bytes()
		}
		recs = append(recs, rec{"gemini", "/v1beta", f, raw, http.Header{"Content-Type": {"text/event-stream"}}, readGeminiRecording(raw)})
	}
	ufiles, _ := filepath.Glob(filepath.Join(udir, "*.sse"))
	for _, f := range ufiles {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		hdr := http.Header{}
		hraw, _ := os.ReadFile(strings.TrimSuffix(f, ".sse") + ".headers.txt")
		for _, l := range strings.Split(strings.ReplaceAll(string(hraw), "\r\n", "\n"), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && !strings.HasPrefix(l, "HTTP/") {
				switch strings.ToLower(k) {
				case "date", "transfer-encoding", "connection", "content-length":
				default:
					hdr.Add(k, strings.TrimSpace(v))
				}
			}
		}
		recs = append(recs, rec{"cuadra", "/v1", f, raw, hdr, readUIRecording(raw)})
	}
	if len(recs) != 24+11 {
		t.Fatalf("found %d recordings, want 35", len(recs))
	}
	for _, rc := range recs {
		t.Run(filepath.Base(rc.file), func(t *testing.T) {
			t.Parallel()
			g := newDLGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
				for k, v := range rc.header {
					w.Header()[k] = v
				}
				w.Write(rc.body)
			})
			r := parley(t, runOpts{}, "-p", "hi", "--dialect", rc.dialect, "--base-url", g.URL+rc.base, "-m", "M", "--output", "jsonl")
			checkAgainst(t, r, rc.want)
		})
	}
}

func TestImageWritesPNG(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(2, 2, color.RGBA{G: 255, A: 255})
	var pngBuf bytes.Buffer
	png.Encode(&pngBuf, img)
	g := newDLGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Path != "/v1/images/generations" {
			http.Error(w, "not found", 404)
			return
		}
		w.Header().Set("X-RateLimit-Limit-Requests", "5")
		w.Header().Set("X-RateLimit-Remaining-Requests", "4")
		fmt.Fprintf(w, `{"created":1,"data":[{"b64_json":%q,"revised_prompt":"A small green dot"}]}`, base64.StdEncoding.EncodeToString(pngBuf.Bytes()))
	})
	out := t.TempDir()
	r := parley(t, runOpts{}, "image", "a green dot", "--dialect", "openai", "--base-url", g.URL+"/v1", "--size", "256x256", "-n", "1", "--out", out)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	files, _ := filepath.Glob(filepath.Join(out, "*.png"))
	if len(files) != 1 {
		t.Fatalf("files %v", files)
	}
	f, _ := os.Open(files[0])
	defer f.Close()
	decoded, err := png.Decode(f)
	if err != nil || decoded.Bounds().Dx() != 4 {
		t.Fatalf("saved file is not the PNG: %v", err)
	}
	if !strings.Contains(r.stdout, "revised prompt: A small green dot") || !strings.Contains(r.stdout, files[0]) {
		t.Errorf("stdout %q", r.stdout)
	}
	var body map[string]any
	json.Unmarshal(g.requests()[0].body, &body)
	if body["prompt"] != "a green dot" || body["size"] != "256x256" || body["n"] != 1.0 || body["response_format"] != "b64_json" || body["model"] != "dall-e-3" {
		t.Errorf("request body %v", body)
	}
	// A second run never overwrites the first file.
	r = parley(t, runOpts{}, "image", "a green dot", "--dialect", "openai", "--base-url", g.URL+"/v1", "--out", out)
	if files2, _ := filepath.Glob(filepath.Join(out, "*.png")); r.code != 0 || len(files2) != 2 {
		t.Errorf("second run: exit %d, files %v", r.code, files2)
	}
	// Other dialects have no image endpoint: a clear usage error.
	r = parley(t, runOpts{}, "image", "x", "--dialect", "gemini", "--base-url", g.URL+"/v1beta")
	if r.code != 2 || !strings.Contains(r.stderr, "no image endpoint") {
		t.Errorf("gemini image: exit %d stderr %q", r.code, r.stderr)
	}
}

func TestUsageAndModelsCuadra(t *testing.T) {
	g := newDLGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch {
		case r.URL.Path == "/v1/usage":
			io.WriteString(w, `{"period":"2026-11","totalTokens":1234567,"requests":42}`)
		case r.URL.Path == "/v1/models":
			switch r.URL.Query().Get("cursor") {
			case "":
				io.WriteString(w, `{"data":[{"id":"model_a"}],"nextCursor":"c1","hasMore":true}`)
			case "c1":
				io.WriteString(w, `{"data":[{"id":"model_b"}],"nextCursor":"c2","hasMore":true}`)
			default:
				io.WriteString(w, `{"data":[{"id":"model_c"}],"hasMore":false}`)
			}
		default:
			http.Error(w, "not found", 404)
		}
	})
	r := parley(t, runOpts{}, "usage", "--dialect", "cuadra", "--base-url", g.URL+"/v1")
	if r.code != 0 || !regexp.MustCompile(`totalTokens\s+1,234,567`).MatchString(r.stdout) || !strings.Contains(r.stdout, "period") {
		t.Errorf("usage: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	r = parley(t, runOpts{}, "models", "--dialect", "cuadra", "--base-url", g.URL+"/v1", "--output", "json")
	var models []struct{ ID string }
	if err := json.Unmarshal([]byte(r.stdout), &models); err != nil || len(models) != 3 || models[2].ID != "model_c" {
		t.Errorf("models: %q %v", r.stdout, err)
	}
	r = parley(t, runOpts{}, "usage", "--dialect", "openai", "--base-url", g.URL+"/v1")
	if r.code != 2 || !strings.Contains(r.stderr, "no usage endpoint") {
		t.Errorf("usage on openai: exit %d stderr %q", r.code, r.stderr)
	}
}

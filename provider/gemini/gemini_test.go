package gemini

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/fixtures"
	"github.com/parley-chat/parley/provider"
)

const testKey = "AIza-test-secret-key-0123"

type recorded struct {
	Method, Path, RawQuery, RequestURI string
	Header                             http.Header
	Body                               []byte
}

type gateway struct {
	mu   sync.Mutex
	reqs []recorded
	srv  *httptest.Server
}

func newGateway(t *testing.T, h http.HandlerFunc) *gateway {
	g := &gateway{}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		g.mu.Lock()
		g.reqs = append(g.reqs, recorded{r.Method, r.URL.Path, r.URL.RawQuery, r.RequestURI, r.Header.Clone(), body})
		g.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gateway) requests() []recorded {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]recorded(nil), g.reqs...)
}

func newProvider(t *testing.T, base string) *Provider {
	t.Helper()
	p, err := New(provider.Options{BaseURL: base, APIKey: testKey, MaxRetries: 0,
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type summary struct {
	Text, Reasoning string
	Calls           []provider.ToolCall
	Sources         []provider.Source
	Usage           *provider.Usage
	Err             *provider.APIError
	Finish          string
	Started         int
}

func stream(t *testing.T, p *Provider, req *provider.Request) summary {
	t.Helper()
	var s summary
	terminals := 0
	var last provider.Event
	err := p.Stream(context.Background(), req, func(ev provider.Event) {
		last = ev
		switch e := ev.(type) {
		case provider.TextDelta:
			s.Text += e.Text
		case provider.ReasoningDelta:
			s.Reasoning += e.Text
		case provider.ToolCallEvent:
			s.Calls = append(s.Calls, e.ToolCall)
		case provider.Source:
			s.Sources = append(s.Sources, e)
		case provider.Usage:
			u := e
			s.Usage = &u
		case provider.Started:
			s.Started++
		case provider.Error:
			terminals++
			s.Err = e.Err
		case provider.Done:
			terminals++
			s.Finish = e.FinishReason
		}
	})
	if terminals != 1 {
		t.Fatalf("%d terminal events, want 1", terminals)
	}
	switch last.(type) {
	case provider.Done:
		if err != nil {
			t.Fatalf("Done but returned %v", err)
		}
	case provider.Error:
		if err == nil {
			t.Fatalf("Error event but nil returned")
		}
	default:
		t.Fatalf("last event %T", last)
	}
	return s
}

func hi() *provider.Request {
	return &provider.Request{Model: "gemini-2.5-flash", Messages: []provider.Message{{Role: provider.RoleUser, Content: "hi"}}}
}

// fixtureBody returns a recording as an SSE body: .sse files as they are,
// .chunks.jsonl lines framed as data events with Gemini's CRLF framing.
func fixtureBody(t *testing.T, path string) []byte {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(path, ".chunks.jsonl") {
		return raw
	}
	var b bytes.Buffer
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			b.WriteString("data: " + line + "\r\n\r\n")
		}
	}
	return b.Bytes()
}

// recordedHeaders returns the response headers of a cassette's meta file.
func recordedHeaders(path string) http.Header {
	h := http.Header{"Content-Type": {"text/event-stream"}}
	meta := strings.TrimSuffix(path, ".sse") + ".meta.json"
	raw, err := os.ReadFile(meta)
	if err != nil {
		return h
	}
	var m struct {
		Response struct {
			Headers map[string][]string `json:"headers"`
		} `json:"response"`
	}
	if json.Unmarshal(raw, &m) == nil {
		for k, v := range m.Response.Headers {
			switch strings.ToLower(k) {
			case "transfer-encoding", "content-length", "content-encoding":
				continue
			}
			h[http.CanonicalHeaderKey(k)] = v
		}
	}
	return h
}

// expected is what an independent, simple reader finds in a recording.
type expected struct {
	Text, Reasoning string
	Calls           []wantCall
	Error           bool
}

// wantCall is a function call as the simple reader finds it, with the
// thought signature its part carried.
type wantCall struct {
	Name string
	Args any
	Sig  string
}

// readRecording folds a recording with none of the provider's code: each
// "data:" line is a GenerateContentResponse; streamed arguments are set
// into a map by their JSONPath; a bare JSON error, a blocked prompt, a
// SAFETY/RECITATION finish or a non-response event means an error.
func readRecording(t *testing.T, body []byte) expected {
	var e expected
	var cur map[string]any
	curName, curSig := "", ""
	closeCur := func() {
		if curName != "" {
			e.Calls = append(e.Calls, wantCall{curName, cur, curSig})
		}
		curName, cur, curSig = "", nil, ""
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			if strings.Contains(line, `"error"`) {
				e.Error = true
			}
			continue
		}
		var r map[string]any
		if json.Unmarshal([]byte(data), &r) != nil {
			e.Error = true
			continue
		}
		if r["candidates"] == nil && r["promptFeedback"] == nil && r["usageMetadata"] == nil {
			e.Error = true
		}
		if pf, _ := r["promptFeedback"].(map[string]any); pf != nil && pf["blockReason"] != nil {
			e.Error = true
		}
		cands, _ := r["candidates"].([]any)
		for _, c := range cands {
			cm := c.(map[string]any)
			if fr, _ := cm["finishReason"].(string); fr == "SAFETY" || fr == "RECITATION" {
				e.Error = true
			}
			content, _ := cm["content"].(map[string]any)
			parts, _ := content["parts"].([]any)
			for _, p := range parts {
				pm := p.(map[string]any)
				if fc, ok := pm["functionCall"].(map[string]any); ok {
					name, _ := fc["name"].(string)
					cont, _ := fc["willContinue"].(bool)
					sig, _ := pm["thoughtSignature"].(string)
					switch {
					case name != "" && !cont:
						closeCur()
						args := fc["args"]
						if args == nil {
							args = map[string]any{}
						}
						e.Calls = append(e.Calls, wantCall{name, args, sig})
					case name != "":
						closeCur()
						curName, cur, curSig = name, map[string]any{}, sig
					default:
						if curSig == "" {
							curSig = sig
						}
						for _, pa := range asSlice(fc["partialArgs"]) {
							pam := pa.(map[string]any)
							setPath(cur, pam["jsonPath"].(string), pam["stringValue"])
						}
						if !cont {
							closeCur()
						}
					}
					continue
				}
				text, _ := pm["text"].(string)
				if thought, _ := pm["thought"].(bool); thought {
					e.Reasoning += text
				} else {
					e.Text += text
				}
			}
		}
	}
	return e
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

// setPath appends a string value at a simple JSONPath in m.
func setPath(m map[string]any, path string, v any) {
	s, _ := v.(string)
	var cur any = m
	var steps []string
	for _, dot := range strings.Split(strings.TrimPrefix(path, "$."), ".") {
		for {
			i := strings.IndexByte(dot, '[')
			if i < 0 {
				steps = append(steps, dot)
				break
			}
			if i > 0 {
				steps = append(steps, dot[:i])
			}
			j := strings.IndexByte(dot, ']')
			steps = append(steps, "#"+dot[i+1:j])
			dot = dot[j+1:]
			if dot == "" {
				break
			}
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
	set(cur, steps)
}

func TestRecordedStreams(t *testing.T) {
	dir := fixtures.Dir(t, "gemini-sse")
	var files []string
	for _, pat := range []string{"*.sse", "*.chunks.jsonl"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		files = append(files, m...)
	}
	if len(files) < 24 {
		t.Fatalf("found %d recordings, want 24", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			body := fixtureBody(t, f)
			want := readRecording(t, body)
			hdr := recordedHeaders(f)
			g := newGateway(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range hdr {
					w.Header()[k] = v
				}
				w.Write(body)
			})
			s := stream(t, newProvider(t, g.srv.URL+"/v1beta"), hi())
			if s.Text != want.Text {
				t.Errorf("text\n got %q\nwant %q", s.Text, want.Text)
			}
			if s.Reasoning != want.Reasoning {
				t.Errorf("reasoning\n got %q\nwant %q", s.Reasoning, want.Reasoning)
			}
			if len(s.Calls) != len(want.Calls) {
				t.Fatalf("calls %+v, want %+v", s.Calls, want.Calls)
			}
			for i, c := range s.Calls {
				var got any
				if err := json.Unmarshal([]byte(c.Arguments), &got); err != nil {
					t.Fatalf("call %d arguments %q are not JSON: %v", i, c.Arguments, err)
				}
				if c.Name != want.Calls[i].Name || !reflect.DeepEqual(got, want.Calls[i].Args) || c.ID == "" {
					t.Errorf("call %d = %+v, want %s %v", i, c, want.Calls[i].Name, want.Calls[i].Args)
				}
				// The thought signature travels on the call, exactly.
				if c.Opaque != want.Calls[i].Sig {
					t.Errorf("call %d signature %q, want %q", i, c.Opaque, want.Calls[i].Sig)
				}
			}
			if want.Error != (s.Err != nil) {
				t.Errorf("error = %v, want error: %v", s.Err, want.Error)
			}
			if s.Started != 1 {
				t.Errorf("%d Started events", s.Started)
			}
		})
	}
}

func TestRecordedStreamsHandChecked(t *testing.T) {
	dir := fixtures.Dir(t, "gemini-sse")
	run := func(name string) summary {
		body := fixtureBody(t, filepath.Join(dir, name))
		g := newGateway(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			w.Write(body)
		})
		return stream(t, newProvider(t, g.srv.URL+"/v1beta"), hi())
	}

	s := run("vercel-gemini-3.1-pro-streamed-function-call-partial-args.chunks.jsonl")
	if len(s.Calls) != 2 || s.Calls[0].Name != "getWeather" || s.Calls[0].Arguments != `{"location":"Boston"}` ||
		s.Calls[1].Arguments != `{"location":"San Francisco"}` || s.Calls[0].ID == s.Calls[1].ID {
		t.Errorf("partial args: %+v", s.Calls)
	}
	if s.Usage == nil || *s.Usage != (provider.Usage{InputTokens: 26, OutputTokens: 155, TotalTokens: 181, ReasoningTokens: 132}) {
		t.Errorf("usage %+v", s.Usage)
	}
	if s.Finish != "tool_calls" {
		t.Errorf("finish %q", s.Finish)
	}

	s = run("vercel-vertex-gemini-streamed-function-call-nested-args.chunks.jsonl")
	if len(s.Calls) != 1 || !strings.HasPrefix(s.Calls[0].Arguments,
		`{"recipe":{"ingredients":[{"amount":"16 oz","name":"Lasagna noodles"},{"amount":"1 lb","name":"Ground beef"},`) ||
		!strings.Contains(s.Calls[0].Arguments, `"In a 9x13 baking dish, spread a thin layer of meat sauce."`) ||
		!strings.HasSuffix(s.Calls[0].Arguments, `"Let stand for 15 minutes before serving."]}}`) {
		t.Errorf("nested args: %+v", s.Calls)
	}

	s = run("vercel-gemini-3-flash-thought-then-function-calls.chunks.jsonl")
	var got []string
	for _, c := range s.Calls {
		got = append(got, c.Name+c.Arguments)
	}
	if strings.Join(got, " ") != `read_theme{} read_screen{"id":"A"} read_screen{"id":"B"} read_screen{"id":"C"}` ||
		!strings.HasPrefix(s.Reasoning, "**Processing User Requests**") {
		t.Errorf("thought then calls: %v reasoning %q", got, s.Reasoning)
	}

	s = run("firebase-vertexai-streaming-failure-error-mid-stream.sse")
	if s.Text != "First Second " || s.Err == nil || s.Err.Status != 499 || s.Err.Code != "CANCELLED" ||
		s.Err.Message != "The operation was cancelled." || !s.Err.Partial {
		t.Errorf("error mid-stream: text %q err %#v", s.Text, s.Err)
	}

	s = run("firebase-googleai-streaming-failure-prompt-blocked-safety.sse")
	if s.Err == nil || s.Err.Kind != provider.KindBlocked || s.Err.Code != "SAFETY" || !strings.Contains(s.Err.Message, "prompt was blocked") {
		t.Errorf("prompt blocked: %#v", s.Err)
	}

	s = run("firebase-googleai-streaming-failure-recitation-no-content.sse")
	if s.Text != "text1text2text3text4text5text6text7text8" || s.Err == nil || s.Err.Kind != provider.KindBlocked ||
		s.Err.Code != "RECITATION" || !strings.Contains(s.Err.Message, "recited") || !s.Err.Partial {
		t.Errorf("recitation: text %q err %#v", s.Text, s.Err)
	}
	if len(s.Sources) == 0 || s.Sources[0].URL != "https://www.google.com/" {
		t.Errorf("recitation sources %+v", s.Sources)
	}

	s = run("firebase-vertexai-streaming-failure-finish-reason-safety.sse")
	if s.Text != "<redacted>" || s.Err == nil || s.Err.Kind != provider.KindBlocked || !strings.Contains(s.Err.Message, "safety") {
		t.Errorf("safety: text %q err %#v", s.Text, s.Err)
	}

	s = run("firebase-vertexai-streaming-failure-invalid-json.sse")
	if s.Err == nil || s.Err.Kind != provider.KindStream || !strings.Contains(s.Err.Message, "not a Gemini GenerateContentResponse") {
		t.Errorf("invalid json: %#v", s.Err)
	}

	s = run("gemini-2.5-pro-thought-parts.sse")
	if s.Reasoning == "" || s.Text == "" || s.Usage == nil || s.Usage.ReasoningTokens == 0 || s.Finish != "stop" {
		t.Errorf("thought parts: %+v", s)
	}
}

func TestRequestShape(t *testing.T) {
	g := newGateway(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Let me think.\",\"thought\":true}],\"role\":\"model\"}}]}\r\n\r\n"+
			"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hello\"}],\"role\":\"model\"},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":3,\"candidatesTokenCount\":1,\"thoughtsTokenCount\":4,\"totalTokenCount\":8}}\r\n\r\n")
	})
	p := newProvider(t, g.srv.URL+"/api/v1beta")
	temp, topP := 0.2, 0.8
	req := &provider.Request{
		Model: "models/gemini-2.5-pro",
		Messages: []provider.Message{
			{Role: provider.RoleSystem, Content: "Be brief."},
			{Role: provider.RoleUser, Content: "Weather in Paris and Rome?"},
			{Role: provider.RoleAssistant, ToolCalls: []provider.ToolCall{
				{ID: "c1", Name: "get_weather", Arguments: `{"city":"Paris"}`},
				{ID: "c2", Name: "get_weather", Arguments: `{"city":"Rome"}`}}},
			{Role: provider.RoleTool, ToolCallID: "c1", Content: `{"temp":18}`},
			{Role: provider.RoleTool, ToolCallID: "c2", Name: "get_weather", Content: "sunny"},
			{Role: provider.RoleAssistant, Content: "Paris 18, Rome sunny."},
			{Role: provider.RoleUser, Content: "Thanks"},
		},
		Temperature: &temp, TopP: &topP, MaxTokens: 100, Stop: []string{"END"},
		Reasoning:      provider.ReasoningOptions{Enabled: true, Budget: 1024},
		ResponseFormat: &provider.ResponseFormat{Type: "json_schema", Schema: json.RawMessage(`{"type":"object"}`)},
		Tools:          []provider.Tool{{Name: "get_weather", Description: "Weather", Parameters: json.RawMessage(`{"type":"object"}`)}},
	}
	s := stream(t, p, req)
	if s.Text != "Hello" || s.Reasoning != "Let me think." || s.Usage == nil ||
		*s.Usage != (provider.Usage{InputTokens: 3, OutputTokens: 5, TotalTokens: 8, ReasoningTokens: 4}) {
		t.Errorf("summary %+v", s)
	}
	r := g.requests()[0]
	if r.Method != http.MethodPost || r.Path != "/api/v1beta/models/gemini-2.5-pro:streamGenerateContent" || r.RawQuery != "alt=sse" {
		t.Errorf("%s %s ? %s", r.Method, r.Path, r.RawQuery)
	}
	if !strings.HasSuffix(r.RequestURI, ":streamGenerateContent?alt=sse") || strings.Contains(r.RequestURI, testKey) {
		t.Errorf("request URI %q", r.RequestURI)
	}
	if r.Header.Get("x-goog-api-key") != testKey || r.Header.Get("Authorization") != "" {
		t.Errorf("auth headers: x-goog-api-key %q Authorization %q", r.Header.Get("x-goog-api-key"), r.Header.Get("Authorization"))
	}
	want := `{"contents":[{"role":"user","parts":[{"text":"Weather in Paris and Rome?"}]},` +
		`{"role":"model","parts":[{"functionCall":{"id":"c1","name":"get_weather","args":{"city":"Paris"}}},{"functionCall":{"id":"c2","name":"get_weather","args":{"city":"Rome"}}}]},` +
		`{"role":"user","parts":[{"functionResponse":{"id":"c1","name":"get_weather","response":{"temp":18}}},{"functionResponse":{"id":"c2","name":"get_weather","response":{"result":"sunny"}}}]},` +
		`{"role":"model","parts":[{"text":"Paris 18, Rome sunny."}]},{"role":"user","parts":[{"text":"Thanks"}]}],` +
		`"systemInstruction":{"parts":[{"text":"Be brief."}]},` +
		`"generationConfig":{"temperature":0.2,"topP":0.8,"maxOutputTokens":100,"stopSequences":["END"],"responseMimeType":"application/json","responseJsonSchema":{"type":"object"},"thinkingConfig":{"includeThoughts":true,"thinkingBudget":1024}},` +
		`"tools":[{"functionDeclarations":[{"name":"get_weather","description":"Weather","parameters":{"type":"object"}}]}]}`
	if string(r.Body) != want {
		t.Errorf("body\n got %s\nwant %s", r.Body, want)
	}
}

func TestThoughtSignatureSentBack(t *testing.T) {
	n := 0
	g := newGateway(t, func(w http.ResponseWriter, r *http.Request) {
		n++
		w.Header().Set("Content-Type", "text/event-stream")
		if n == 1 {
			io.WriteString(w, `data: {"candidates":[{"content":{"parts":[{"functionCall":{"name":"now","args":{}},"thoughtSignature":"SIG123"}],"role":"model"},"finishReason":"STOP"}]}`+"\n\n")
			return
		}
		io.WriteString(w, `data: {"candidates":[{"content":{"parts":[{"text":"ok"}],"role":"model"},"finishReason":"STOP"}]}`+"\n\n")
	})
	p := newProvider(t, g.srv.URL+"/v1beta")
	s := stream(t, p, hi())
	if len(s.Calls) != 1 {
		t.Fatalf("calls %+v", s.Calls)
	}
	req := hi()
	req.Messages = append(req.Messages,
		provider.Message{Role: provider.RoleAssistant, ToolCalls: s.Calls},
		provider.Message{Role: provider.RoleTool, ToolCallID: s.Calls[0].ID, Content: "12:00"})
	stream(t, p, req)
	if body := string(g.requests()[1].Body); !strings.Contains(body, `{"thoughtSignature":"SIG123","functionCall":{"name":"now","args":{}}}`) {
		t.Errorf("second request lost the thought signature: %s", body)
	}
}

// TestThoughtSignatureSurvivesStorage replays the recorded Gemini 3
// exchange: the function call's thought signature travels on the tool
// call through the event encoding (as a store keeps it), and a fresh
// provider, with nothing in memory, sends it back as the recorded
// follow-up request did, then reads the recorded answer.
func TestThoughtSignatureSurvivesStorage(t *testing.T) {
	dir := fixtures.Dir(t, "gemini-sse")
	first := fixtureBody(t, filepath.Join(dir, "gemini-3-pro-function-call-thought-signature.sse"))
	second := fixtureBody(t, filepath.Join(dir, "gemini-3-pro-text-after-function-response.sse"))
	var meta struct {
		Request struct {
			Body struct {
				Contents []struct {
					Role  string `json:"role"`
					Parts []struct {
						FunctionCall *struct {
							Name string `json:"name"`
						} `json:"functionCall"`
						ThoughtSignature string `json:"thoughtSignature"`
					} `json:"parts"`
				} `json:"contents"`
			} `json:"body"`
		} `json:"request"`
	}
	raw, err := os.ReadFile(filepath.Join(dir, "gemini-3-pro-text-after-function-response.meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		t.Fatal(err)
	}
	var wantName, wantSig string
	for _, c := range meta.Request.Body.Contents {
		for _, p := range c.Parts {
			if p.FunctionCall != nil {
				wantName, wantSig = p.FunctionCall.Name, p.ThoughtSignature
			}
		}
	}
	if wantSig == "" {
		t.Fatal("the recorded follow-up request has no thought signature")
	}

	n := 0
	g := newGateway(t, func(w http.ResponseWriter, r *http.Request) {
		n++
		w.Header().Set("Content-Type", "text/event-stream")
		if n == 1 {
			w.Write(first)
		} else {
			w.Write(second)
		}
	})
	req := &provider.Request{Model: "gemini-3-pro-preview", Messages: []provider.Message{
		{Role: provider.RoleUser, Content: "What is the capital of the user country? Call the tool"}}}
	var stored [][]byte
	err = newProvider(t, g.srv.URL+"/v1beta").Stream(context.Background(), req, func(ev provider.Event) {
		b, err := provider.MarshalEvent(ev)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, b)
	})
	if err != nil {
		t.Fatal(err)
	}

	// Restore the turn from its stored events.
	var calls []provider.ToolCall
	for _, b := range stored {
		ev, err := provider.UnmarshalEvent(b)
		if err != nil {
			t.Fatal(err)
		}
		if tc, ok := ev.(provider.ToolCallEvent); ok {
			calls = append(calls, tc.ToolCall)
		}
	}
	if len(calls) != 1 || calls[0].Name != wantName || calls[0].Opaque == "" {
		t.Fatalf("restored calls %+v", calls)
	}
	req.Messages = append(req.Messages,
		provider.Message{Role: provider.RoleAssistant, ToolCalls: calls},
		provider.Message{Role: provider.RoleTool, ToolCallID: calls[0].ID, Name: calls[0].Name, Content: `{"return_value":"Mexico"}`})
	s := stream(t, newProvider(t, g.srv.URL+"/v1beta"), req)
	if s.Err != nil || s.Text != "The capital of Mexico is Mexico City." {
		t.Errorf("follow-up: text %q err %v", s.Text, s.Err)
	}

	var body generateRequest
	if err := json.Unmarshal(g.requests()[1].Body, &body); err != nil {
		t.Fatal(err)
	}
	var gotSig string
	for _, c := range body.Contents {
		for _, p := range c.Parts {
			if p.FunctionCall != nil && p.FunctionCall.Name == wantName {
				gotSig = p.ThoughtSignature
			}
		}
	}
	// The recording's client re-encoded the signature as URL-safe base64;
	// the bytes are what Gemini checks.
	if decodeSig(t, gotSig) == nil || !bytes.Equal(decodeSig(t, gotSig), decodeSig(t, wantSig)) {
		t.Errorf("signature sent back\n got %q\nwant the bytes of %q", gotSig, wantSig)
	}
}

// decodeSig decodes a thought signature written in standard or URL-safe
// base64.
func decodeSig(t *testing.T, s string) []byte {
	t.Helper()
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b
		}
	}
	t.Errorf("signature %q is not base64", s)
	return nil
}

func TestHTTPErrorBody(t *testing.T) {
	g := newGateway(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		io.WriteString(w, `{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT"}}`)
	})
	s := stream(t, newProvider(t, g.srv.URL+"/v1beta"), hi())
	if s.Err == nil || s.Err.Status != 400 || s.Err.Code != "INVALID_ARGUMENT" || !strings.Contains(s.Err.Message, "API key not valid") {
		t.Errorf("err %#v", s.Err)
	}
}

func TestModelsPages(t *testing.T) {
	pages := map[string]string{
		"":   `{"models":[{"name":"models/gemini-2.5-pro","displayName":"Gemini 2.5 Pro"}],"nextPageToken":"p2"}`,
		"p2": `{"models":[{"name":"models/gemini-2.5-flash"}],"nextPageToken":"p3"}`,
		"p3": `{"models":[{"name":"models/text-embedding-004"}]}`,
	}
	g := newGateway(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, pages[r.URL.Query().Get("pageToken")])
	})
	models, err := newProvider(t, g.srv.URL+"/v1beta").Models(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range models {
		ids = append(ids, m.ID)
	}
	if strings.Join(ids, ",") != "gemini-2.5-pro,gemini-2.5-flash,text-embedding-004" || models[0].Name != "Gemini 2.5 Pro" {
		t.Errorf("models %+v", models)
	}
	reqs := g.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests", len(reqs))
	}
	for _, r := range reqs {
		if r.Path != "/v1beta/models" || r.Header.Get("x-goog-api-key") != testKey || strings.Contains(r.RawQuery, testKey) {
			t.Errorf("%s ? %s", r.Path, r.RawQuery)
		}
	}
}

func TestArgTreeValues(t *testing.T) {
	tr := newArgTree()
	s := func(v string) *string { return &v }
	b := true
	for _, pa := range []partialArg{
		{JSONPath: "$.q", StringValue: s("a<b")},
		{JSONPath: "$.q", StringValue: s("&c")},
		{JSONPath: "$.n", NumberValue: json.RawMessage(`3.5`)},
		{JSONPath: "$.opts['x y'][1].on", BoolValue: &b},
		{JSONPath: "$.z", NullValue: json.RawMessage(`"NULL_VALUE"`)},
	} {
		tr.apply(&pa)
	}
	if got := tr.String(); got != `{"q":"a<b&c","n":3.5,"opts":{"x y":[null,{"on":true}]},"z":null}` {
		t.Errorf("got %s", got)
	}
}

package cuadra

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/provider"
)

// recorded is what a loopback gateway saw of one request.
type recorded struct {
	Method, Path, Query string
	Header              http.Header
	Body                map[string]any
}

// gateway is a loopback test server that records requests and answers
// with the handler of the n-th request (the last one repeats).
type gateway struct {
	t        *testing.T
	mu       sync.Mutex
	reqs     []recorded
	handlers []http.HandlerFunc
	srv      *httptest.Server
}

func newGateway(t *testing.T, handlers ...http.HandlerFunc) *gateway {
	g := &gateway{t: t, handlers: handlers}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		rec := recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone()}
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &rec.Body); err != nil {
				t.Errorf("request body is not JSON: %v: %s", err, raw)
			}
		}
		g.mu.Lock()
		n := len(g.reqs)
		g.reqs = append(g.reqs, rec)
		g.mu.Unlock()
		g.handlers[min(n, len(g.handlers)-1)](w, r)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gateway) requests() []recorded {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]recorded(nil), g.reqs...)
}

func sse(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, body)
	}
}

func problem(status int, title, detail string, hdr ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"type":"about:blank","title":%q,"status":%d,"detail":%q}`, title, status, detail)
	}
}

// sleeps records the transport's waits instead of sleeping.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func newProvider(t *testing.T, base string, mod ...func(*provider.Options)) (*Provider, *sleeps) {
	t.Helper()
	sl := &sleeps{}
	o := provider.Options{BaseURL: base, APIKey: "sk-cuadra-secret-123", MaxRetries: 2, Sleep: sl.sleep}
	for _, m := range mod {
		m(&o)
	}
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return p, sl
}

func collect(t *testing.T, p provider.Provider, req *provider.Request) ([]provider.Event, error) {
	t.Helper()
	var evs []provider.Event
	err := p.Stream(context.Background(), req, func(ev provider.Event) { evs = append(evs, ev) })
	checkTerminal(t, evs, err)
	return evs, err
}

// checkTerminal asserts the stream contract: exactly one terminal event,
// last, matching the returned error.
func checkTerminal(t *testing.T, evs []provider.Event, err error) {
	t.Helper()
	n := 0
	for _, ev := range evs {
		switch ev.(type) {
		case provider.Done, provider.Error:
			n++
		}
	}
	if n != 1 || len(evs) == 0 {
		t.Fatalf("want exactly one terminal event, got %d in %v", n, evs)
	}
	switch last := evs[len(evs)-1].(type) {
	case provider.Done:
		if err != nil {
			t.Fatalf("Done but Stream returned %v", err)
		}
	case provider.Error:
		if err == nil || last.Err == nil || err.Error() != last.Err.Error() {
			t.Fatalf("Error event %v does not match returned %v", last.Err, err)
		}
	default:
		t.Fatalf("last event is %T, not Done or Error", last)
	}
}

// summary folds events into what a reader sees.
type summary struct {
	Text, Reasoning string
	Calls           []provider.ToolCall
	Results         []provider.ToolResult
	Sources         []provider.Source
	Usage           *provider.Usage
	Started         []provider.Started
	Err             *provider.APIError
	Finish          string
}

func summarize(evs []provider.Event) summary {
	var s summary
	for _, ev := range evs {
		switch e := ev.(type) {
		case provider.TextDelta:
			s.Text += e.Text
		case provider.ReasoningDelta:
			s.Reasoning += e.Text
		case provider.ToolCallEvent:
			s.Calls = append(s.Calls, e.ToolCall)
		case provider.ToolResult:
			s.Results = append(s.Results, e)
		case provider.Source:
			s.Sources = append(s.Sources, e)
		case provider.Usage:
			u := e
			s.Usage = &u
		case provider.Started:
			s.Started = append(s.Started, e)
		case provider.Error:
			s.Err = e.Err
		case provider.Done:
			s.Finish = e.FinishReason
		}
	}
	return s
}

const plainStream = `data: {"id":"chat_xyz","delta":"Once","finished":false}

data: {"id":"chat_xyz","delta":" upon","finished":false}

data: {"id":"chat_xyz","delta":" a time","finished":false}

data: {"id":"chat_xyz","delta":"","finished":true,"usage":{"inputTokens":15,"outputTokens":8,"totalTokens":23}}

data: [DONE]

`

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestPlainStreamAndRequestBody(t *testing.T) {
	g := newGateway(t, sse(plainStream))
	p, _ := newProvider(t, g.srv.URL+"/v1")
	temp, topP := 0.0, 0.9
	req := &provider.Request{
		Model: "model_abc",
		Messages: []provider.Message{
			{Role: provider.RoleSystem, Content: "Be brief."},
			{Role: provider.RoleUser, Content: "Weather in Paris?"},
			{Role: provider.RoleAssistant, ToolCalls: []provider.ToolCall{{ID: "call_1", Name: "get_weather", Arguments: `{"location":"Paris"}`}}},
			{Role: provider.RoleTool, ToolCallID: "call_1", Name: "get_weather", Content: `{"temp":18}`},
		},
		Temperature: &temp, TopP: &topP, MaxTokens: 256, Stop: []string{"END"},
		Reasoning:      provider.ReasoningOptions{Enabled: true, Budget: 10000},
		ResponseFormat: &provider.ResponseFormat{Type: "json_schema", Name: "product", Strict: true, Schema: json.RawMessage(`{"type":"object"}`)},
		Tools:          []provider.Tool{{Name: "get_weather", Description: "Get current weather", Parameters: json.RawMessage(`{"type":"object","properties":{"location":{"type":"string"}}}`)}},
	}
	evs, err := collect(t, p, req)
	if err != nil {
		t.Fatal(err)
	}
	s := summarize(evs)
	if s.Text != "Once upon a time" {
		t.Errorf("text = %q", s.Text)
	}
	if s.Usage == nil || *s.Usage != (provider.Usage{InputTokens: 15, OutputTokens: 8, TotalTokens: 23}) {
		t.Errorf("usage = %+v", s.Usage)
	}
	if len(s.Started) != 1 || s.Started[0].ChatID != "chat_xyz" {
		t.Errorf("started = %+v, want one with chat id chat_xyz", s.Started)
	}
	if s.Finish != "stop" {
		t.Errorf("finish = %q", s.Finish)
	}

	reqs := g.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/v1/chats" {
		t.Errorf("%s %s, want POST /v1/chats", r.Method, r.Path)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer sk-cuadra-secret-123" {
		t.Errorf("Authorization = %q", got)
	}
	if !uuidV4.MatchString(r.Header.Get("Idempotency-Key")) {
		t.Errorf("Idempotency-Key %q is not a UUID v4", r.Header.Get("Idempotency-Key"))
	}
	if r.Header.Get("X-Stream-Format") != "" {
		t.Errorf("X-Stream-Format sent without the UI stream option")
	}
	b, _ := json.Marshal(r.Body)
	want := `{"enableReasoning":true,"maxTokens":256,"messages":[{"content":"Weather in Paris?","role":"user"},` +
		`{"role":"assistant","toolCalls":[{"function":{"arguments":"{\"location\":\"Paris\"}","name":"get_weather"},"id":"call_1","type":"function"}]},` +
		`{"content":"{\"temp\":18}","role":"tool","toolCallId":"call_1"}],"modelId":"model_abc","reasoningBudget":10000,` +
		`"responseFormat":{"json_schema":{"name":"product","schema":{"type":"object"},"strict":true},"type":"json_schema"},` +
		`"stop":["END"],"stream":true,"system_prompt":"Be brief.","temperature":0,` +
		`"tools":[{"function":{"description":"Get current weather","name":"get_weather","parameters":{"properties":{"location":{"type":"string"}},"type":"object"}},"type":"function"}],"topP":0.9}`
	if string(b) != want {
		t.Errorf("body\n got %s\nwant %s", b, want)
	}
}

func TestIdempotencyKeyReusedAcrossRetries(t *testing.T) {
	g := newGateway(t,
		problem(429, "Too Many Requests", "Rate limit exceeded, retry later.", "Retry-After", "1"),
		problem(503, "Service Unavailable", "upstream busy"),
		sse(plainStream))
	p, sl := newProvider(t, g.srv.URL+"/v1")
	evs, err := collect(t, p, &provider.Request{Model: "m", Messages: []provider.Message{{Role: provider.RoleUser, Content: "hi"}}})
	if err != nil {
		t.Fatal(err)
	}
	reqs := g.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d POSTs, want 3", len(reqs))
	}
	key := reqs[0].Header.Get("Idempotency-Key")
	for i, r := range reqs {
		if got := r.Header.Get("Idempotency-Key"); got != key || key == "" {
			t.Errorf("POST %d Idempotency-Key %q, want %q on every attempt", i, got, key)
		}
	}
	if len(sl.d) != 2 || sl.d[0] != time.Second {
		t.Errorf("waits %v, want 1s (Retry-After) then a backoff", sl.d)
	}
	var retries []provider.Retry
	for _, ev := range evs {
		if r, ok := ev.(provider.Retry); ok {
			retries = append(retries, r)
		}
	}
	if len(retries) != 2 || retries[0].Status != 429 || !retries[0].Queued || retries[0].Message != "Rate limit exceeded, retry later." {
		t.Errorf("retries = %+v", retries)
	}
	// A second logical request gets a fresh key.
	if _, err := collect(t, p, &provider.Request{Model: "m", Messages: []provider.Message{{Role: provider.RoleUser, Content: "again"}}}); err != nil {
		t.Fatal(err)
	}
	if k := g.requests()[3].Header.Get("Idempotency-Key"); k == key {
		t.Errorf("a new request reused the key %q", k)
	}
}

func TestProblemErrorNotRetried(t *testing.T) {
	g := newGateway(t, problem(401, "Unauthorized", "Invalid or expired token."))
	p, _ := newProvider(t, g.srv.URL+"/v1")
	evs, err := collect(t, p, &provider.Request{Model: "m", Messages: []provider.Message{{Role: provider.RoleUser, Content: "hi"}}})
	s := summarize(evs)
	if err == nil || s.Err.Status != 401 || s.Err.Title != "Unauthorized" || s.Err.Message != "Invalid or expired token." {
		t.Fatalf("err = %#v", s.Err)
	}
	if n := len(g.requests()); n != 1 {
		t.Errorf("%d POSTs, want 1", n)
	}
}

func TestContinuationSendsOnlyNewMessages(t *testing.T) {
	g := newGateway(t, sse(plainStream))
	p, _ := newProvider(t, g.srv.URL+"/v1")
	req := &provider.Request{Model: "m", ChatID: "chat_xyz", KnownMessages: 3, Messages: []provider.Message{
		{Role: provider.RoleSystem, Content: "sys"},
		{Role: provider.RoleUser, Content: "first"},
		{Role: provider.RoleAssistant, Content: "answer"},
		{Role: provider.RoleUser, Content: "Tell me more"},
	}}
	if _, err := collect(t, p, req); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(g.requests()[0].Body["messages"])
	if g.requests()[0].Body["chatId"] != "chat_xyz" || string(b) != `[{"content":"Tell me more","role":"user"}]` {
		t.Errorf("continuation body = %v", g.requests()[0].Body)
	}
	if _, ok := g.requests()[0].Body["system_prompt"]; ok {
		t.Errorf("a continued chat re-sent the system prompt")
	}
}

func TestContinuationFallsBackToFullHistory(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		falls   bool
	}{
		{"404", problem(404, "Not Found", "Chat chat_old not found"), true},
		{"422 about the chat", problem(422, "Unprocessable Entity", "chatId does not belong to this user"), true},
		{"400 unrelated", problem(400, "Bad Request", "temperature must be at most 2"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGateway(t, tc.handler, sse(plainStream))
			p, _ := newProvider(t, g.srv.URL+"/v1")
			req := &provider.Request{Model: "m", ChatID: "chat_old", KnownMessages: 2, Messages: []provider.Message{
				{Role: provider.RoleUser, Content: "first"},
				{Role: provider.RoleAssistant, Content: "answer"},
				{Role: provider.RoleUser, Content: "more"},
			}}
			evs, err := collect(t, p, req)
			reqs := g.requests()
			if !tc.falls {
				if err == nil || len(reqs) != 1 {
					t.Fatalf("err %v after %d POSTs, want the 400 after one", err, len(reqs))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(reqs) != 2 {
				t.Fatalf("%d POSTs, want 2", len(reqs))
			}
			if reqs[0].Body["chatId"] != "chat_old" {
				t.Errorf("first POST did not continue the chat: %v", reqs[0].Body)
			}
			if _, ok := reqs[1].Body["chatId"]; ok {
				t.Errorf("fallback still sent chatId: %v", reqs[1].Body)
			}
			if msgs := reqs[1].Body["messages"].([]any); len(msgs) != 3 {
				t.Errorf("fallback sent %d messages, want the full history of 3", len(msgs))
			}
			if reqs[0].Header.Get("Idempotency-Key") == reqs[1].Header.Get("Idempotency-Key") {
				t.Errorf("the fallback is a new request but reused the Idempotency-Key")
			}
			if s := summarize(evs); s.Text != "Once upon a time" || s.Started[0].ChatID != "chat_xyz" {
				t.Errorf("after fallback: %+v", s)
			}
		})
	}
}

func TestUIStreamRequestedAndDetected(t *testing.T) {
	body := `data: {"type":"start","messageId":"msg-1"}

data: {"type":"text-start","id":"t"}

data: {"type":"text-delta","id":"t","delta":"Hi"}

data: {"type":"text-end","id":"t"}

data: {"type":"finish","finishReason":"stop"}

data: [DONE]

`
	for _, withHeader := range []bool{true, false} {
		t.Run(fmt.Sprint("header=", withHeader), func(t *testing.T) {
			g := newGateway(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				if withHeader {
					w.Header().Set("x-vercel-ai-ui-message-stream", "v1")
				}
				w.Header().Set("X-Chat-Id", "chat_ui")
				io.WriteString(w, body)
			})
			p, _ := newProvider(t, g.srv.URL+"/v1", func(o *provider.Options) { o.UIStream = true })
			evs, err := collect(t, p, &provider.Request{Model: "m", Messages: []provider.Message{{Role: provider.RoleUser, Content: "hi"}}})
			if err != nil {
				t.Fatal(err)
			}
			if got := g.requests()[0].Header.Get("X-Stream-Format"); got != "ai-sdk" {
				t.Errorf("X-Stream-Format = %q, want ai-sdk", got)
			}
			s := summarize(evs)
			if s.Text != "Hi" || len(s.Started) != 1 || s.Started[0].ID != "msg-1" || s.Started[0].ChatID != "chat_ui" || s.Finish != "stop" {
				t.Errorf("summary %+v", s)
			}
		})
	}
}

func TestPlainStreamToolCallsReasoningSources(t *testing.T) {
	body := `data: {"id":"chat_1","delta":"","reasoning":"Think. ","finished":false}

data: {"id":"chat_1","delta":"","reasoning":"Done.","finished":false}

data: {"id":"chat_1","delta":"Calling.","sources":[{"sourceId":"s1","filename":"a.pdf","sourceUrl":"https://example.com/a.pdf"}],"finished":false}

data: {"id":"chat_1","toolCalls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"loc"}}],"finished":false}

data: {"id":"chat_1","toolCalls":[{"index":0,"function":{"arguments":"ation\":\"Paris\"}"}}],"finished":false}

data: {"id":"chat_1","delta":"","finished":true,"finishReason":"tool_calls","usage":{"inputTokens":5,"outputTokens":7,"totalTokens":12}}

data: [DONE]

`
	g := newGateway(t, sse(body))
	p, _ := newProvider(t, g.srv.URL+"/v1")
	evs, err := collect(t, p, &provider.Request{Model: "m", Messages: []provider.Message{{Role: provider.RoleUser, Content: "hi"}}})
	if err != nil {
		t.Fatal(err)
	}
	s := summarize(evs)
	if s.Reasoning != "Think. Done." || s.Text != "Calling." || s.Finish != "tool_calls" {
		t.Errorf("summary %+v", s)
	}
	if len(s.Calls) != 1 || s.Calls[0] != (provider.ToolCall{ID: "call_a", Name: "get_weather", Arguments: `{"location":"Paris"}`}) {
		t.Errorf("calls %+v", s.Calls)
	}
	if len(s.Sources) != 1 || s.Sources[0].URL != "https://example.com/a.pdf" || s.Sources[0].Title != "a.pdf" {
		t.Errorf("sources %+v", s.Sources)
	}
}

func TestNonStreamedAnswer(t *testing.T) {
	g := newGateway(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"chat_xyz789","message":{"role":"assistant","content":"Hello! How can I help?"},"usage":{"inputTokens":15,"outputTokens":8,"totalTokens":23}}`)
	})
	p, _ := newProvider(t, g.srv.URL+"/v1")
	evs, err := collect(t, p, &provider.Request{Model: "m", Messages: []provider.Message{{Role: provider.RoleUser, Content: "hi"}}})
	if err != nil {
		t.Fatal(err)
	}
	s := summarize(evs)
	if s.Text != "Hello! How can I help?" || s.Started[0].ChatID != "chat_xyz789" || s.Usage.TotalTokens != 23 {
		t.Errorf("summary %+v", s)
	}
}

func TestStreamErrorsKeepPartial(t *testing.T) {
	for _, tc := range []struct {
		name, body, wantMsg string
	}{
		{"cut off", "data: {\"id\":\"c\",\"delta\":\"Half\",\"finished\":false}\n\n", "closed the stream"},
		{"in-band problem", "data: {\"id\":\"c\",\"delta\":\"Half\",\"finished\":false}\n\ndata: {\"type\":\"about:blank\",\"title\":\"Upstream Error\",\"status\":502,\"detail\":\"model crashed\"}\n\n", "model crashed"},
		{"in-band error", "data: {\"id\":\"c\",\"delta\":\"Half\",\"finished\":false}\n\ndata: {\"error\":{\"message\":\"overloaded\"}}\n\ndata: [DONE]\n\n", "overloaded"},
		{"ui error part", "data: {\"type\":\"start\"}\n\ndata: {\"type\":\"text-delta\",\"id\":\"1\",\"delta\":\"Half\"}\n\ndata: {\"type\":\"error\",\"errorText\":\"boom\"}\n\ndata: {\"type\":\"finish\",\"finishReason\":\"error\"}\n\ndata: [DONE]\n\n", "boom"},
		{"ui abort", "data: {\"type\":\"start\"}\n\ndata: {\"type\":\"text-delta\",\"id\":\"1\",\"delta\":\"Half\"}\n\ndata: {\"type\":\"abort\",\"reason\":\"user cancelled\"}\n\n", "user cancelled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGateway(t, sse(tc.body))
			p, _ := newProvider(t, g.srv.URL+"/v1")
			evs, err := collect(t, p, &provider.Request{Model: "m", Messages: []provider.Message{{Role: provider.RoleUser, Content: "hi"}}})
			s := summarize(evs)
			if err == nil || s.Text != "Half" || !strings.Contains(s.Err.Message, tc.wantMsg) || !s.Err.Partial {
				t.Errorf("err %v text %q partial %v", err, s.Text, s.Err != nil && s.Err.Partial)
			}
		})
	}
}

func TestModelsFollowsCursorPages(t *testing.T) {
	pages := map[string]string{
		"":   `{"data":[{"id":"model_a","name":"A","createdAt":"2026-01-02T03:04:05Z"}],"nextCursor":"c1","hasMore":true}`,
		"c1": `{"data":[{"id":"model_b"},{"id":"model_c"}],"nextCursor":"c2","hasMore":true}`,
		"c2": `{"data":[{"id":"model_d"}],"nextCursor":null,"hasMore":false}`,
	}
	g := newGateway(t, func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Query().Get("cursor")]
		if !ok {
			http.Error(w, "bad cursor", 400)
			return
		}
		io.WriteString(w, body)
	})
	p, _ := newProvider(t, g.srv.URL+"/v1")
	models, err := p.Models(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range models {
		ids = append(ids, m.ID)
	}
	if strings.Join(ids, ",") != "model_a,model_b,model_c,model_d" {
		t.Errorf("ids %v", ids)
	}
	if models[0].Name != "A" || models[0].Created != time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Unix() {
		t.Errorf("first model %+v", models[0])
	}
	reqs := g.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d GETs, want 3", len(reqs))
	}
	for _, r := range reqs {
		if r.Method != http.MethodGet || r.Path != "/v1/models" || !strings.Contains(r.Query, "limit=") {
			t.Errorf("%s %s?%s", r.Method, r.Path, r.Query)
		}
	}
}

func TestModelsCursorLoopStops(t *testing.T) {
	g := newGateway(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"data":[{"id":"x"}],"nextCursor":"same","hasMore":true}`)
	})
	p, _ := newProvider(t, g.srv.URL+"/v1")
	_, err := p.Models(context.Background())
	if err == nil || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("err = %v", err)
	}
	if n := len(g.requests()); n != 2 {
		t.Errorf("%d GETs before noticing the loop, want 2", n)
	}
}

func TestUsage(t *testing.T) {
	g := newGateway(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"period":"2026-11","usage":{"inputTokens":1234567,"outputTokens":89,"cost":0.25},"requests":42,"note":null}`)
	})
	p, _ := newProvider(t, g.srv.URL+"/v1")
	rep, err := p.Usage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, f := range rep.Fields {
		rows = append(rows, f.Key+"="+f.Value)
	}
	want := "requests=42,usage.cost=0.25,usage.inputTokens=1,234,567,usage.outputTokens=89,period=2026-11"
	if strings.Join(rows, ",") != want {
		t.Errorf("fields %v\nwant %s", rows, want)
	}
	if r := g.requests()[0]; r.Method != http.MethodGet || r.Path != "/v1/usage" {
		t.Errorf("%s %s", r.Method, r.Path)
	}
}

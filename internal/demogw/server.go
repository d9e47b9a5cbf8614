// Package demogw is the demo gateway built into Parley: an OpenAI-compatible
// chat, models and images API served on loopback, so `parley --demo` shows
// every feature with no key and no network, and end-to-end tests have a
// deterministic gateway to talk to.
//
// It behaves like an auto-queueing gateway: rate limits per API key and
// model in a fixed 60-second window, reported in X-RateLimit-Limit,
// X-RateLimit-Remaining and X-RateLimit-Reset (Unix seconds) on every
// response; 429 with Retry-After when a window is exhausted or when a request
// is held in the simulated queue. Answers are chosen by keywords in the last
// user message and streamed at a natural pace unless Options say otherwise.
package demogw

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/provider"
)

// The models the demo gateway offers.
const (
	modelFast  = "demo-fast"
	modelThink = "demo-think"
	modelImage = "demo-image"
)

// Models lists the demo gateway's model ids: two chat models and one image
// model.
func Models() []string { return []string{modelFast, modelThink, modelImage} }

// isChatModel reports whether id is one of the chat models.
func isChatModel(id string) bool { return id == modelFast || id == modelThink }

// Options configure the demo gateway. The zero value is the natural demo:
// natural pace, every fourth chat request queued for 2 s, 20 requests per
// minute per key and model.
type Options struct {
	// Speed scales the natural pacing: 1 (or 0) = natural pace (~40–60
	// tokens/s for text, faster for reasoning, a short first-token latency);
	// 0 < Speed < 1 slower; large values faster; Instant disables all delays
	// (tests).
	Speed   float64
	Instant bool
	// QueueEvery makes every Nth chat request first answer 429 (queued) with
	// Retry-After (seconds, QueueWait); 0 means the default (every 4th
	// request), negative disables.
	QueueEvery int
	QueueWait  time.Duration    // default 2s
	Limit      int              // requests per 60 s window, default 20
	Now        func() time.Time // nil = time.Now
}

// withDefaults fills in the zero values.
func (o Options) withDefaults() Options {
	if o.Speed <= 0 {
		o.Speed = 1
	}
	if o.QueueEvery == 0 {
		o.QueueEvery = 4
	}
	if o.QueueWait <= 0 {
		o.QueueWait = 2 * time.Second
	}
	if o.Limit <= 0 {
		o.Limit = 20
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// OptionsFromEnv reads the demo gateway's options from the environment:
// PARLEY_DEMO_SPEED is a positive number or "instant", and
// PARLEY_DEMO_QUEUE_EVERY an integer (negative disables queueing). Values
// that do not parse are ignored, leaving the defaults.
func OptionsFromEnv() Options {
	var o Options
	if v := strings.TrimSpace(os.Getenv("PARLEY_DEMO_SPEED")); v != "" {
		if strings.EqualFold(v, "instant") {
			o.Instant = true
		} else if f, err := strconv.ParseFloat(v, 64); err == nil && f > 0 {
			o.Speed = f
		}
	}
	if v := strings.TrimSpace(os.Getenv("PARLEY_DEMO_QUEUE_EVERY")); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			o.QueueEvery = n
		}
	}
	return o
}

// Server is a running demo gateway. Its methods are safe for concurrent
// use; requests may arrive concurrently (compare mode).
type Server struct {
	// URL is the base URL including /v1, e.g. http://127.0.0.1:PORT/v1.
	URL string

	opts    Options
	limiter *limiter
	images  *imageStore
	handler http.Handler
	srv     *http.Server
	// requests numbers chat and image requests, for ids.
	requests atomic.Uint64
	// active counts handlers in progress; tests use it to see that a
	// disconnected client's handler returned.
	active atomic.Int64
}

// Start serves a demo gateway on 127.0.0.1 at a free port until Close.
func Start(opts Options) (*Server, error) {
	s := newServer(opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo: listen: %w", err)
	}
	s.URL = "http://" + ln.Addr().String() + "/v1"
	s.srv = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// newServer builds a Server without listening; Handler serves it.
func newServer(opts Options) *Server {
	s := &Server{opts: opts.withDefaults()}
	s.limiter = newLimiter(s.opts.Limit, s.opts.QueueEvery, s.opts.QueueWait)
	s.images = newImageStore(64)
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/chat/completions", s.handleChat)
	mux.HandleFunc("/v1/models", s.handleModels)
	mux.HandleFunc("/v1/images/generations", s.handleImages)
	mux.HandleFunc("/v1/files/", s.handleFile)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "invalid_request_error", "unknown_url",
			fmt.Sprintf("Unknown request URL: %s %s", r.Method, r.URL.Path))
	})
	s.handler = mux
	return s
}

// Handler is the gateway's HTTP handler, for mounting on an httptest
// server. Its paths start with /v1.
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops the listener and ends every open stream.
func (s *Server) Close() error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Close()
}

// apiError is the OpenAI error body.
type apiError struct {
	Error struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Code    string `json:"code"`
	} `json:"error"`
}

// writeError writes an OpenAI-shaped error. Headers already set on w (rate
// limits, Retry-After) are kept.
func writeError(w http.ResponseWriter, status int, typ, code, msg string) {
	var e apiError
	e.Error.Message, e.Error.Type, e.Error.Code = msg, typ, code
	writeJSON(w, status, e)
}

// writeJSON writes v as a JSON response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// marshal encodes v without HTML escaping, as gateways do.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// apiKey returns the bearer key and whether an Authorization header was
// sent at all. The demo accepts any key.
func apiKey(r *http.Request) (string, bool) {
	h, ok := r.Header["Authorization"]
	if !ok || len(h) == 0 {
		return "", false
	}
	v := strings.TrimSpace(h[0])
	if len(v) >= 7 && strings.EqualFold(v[:7], "bearer ") {
		v = strings.TrimSpace(v[7:])
	}
	return v, true
}

// authorize answers 401 when the Authorization header is missing and
// reports whether the request may go on.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) (string, bool) {
	key, ok := apiKey(r)
	if !ok {
		s.limiter.peek("", "", s.opts.Now()).setHeaders(w.Header())
		writeError(w, http.StatusUnauthorized, "authentication_error", "invalid_api_key",
			"Missing API key: send an Authorization: Bearer header (the demo gateway accepts any key)")
	}
	return key, ok
}

// methodAllowed answers 405 unless r uses method.
func methodAllowed(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method {
		return true
	}
	w.Header().Set("Allow", method)
	writeError(w, http.StatusMethodNotAllowed, "invalid_request_error", "method_not_allowed",
		fmt.Sprintf("Method %s is not allowed on %s; use %s", r.Method, r.URL.Path, method))
	return false
}

// readJSON decodes the request body into v, answering 400 on failure.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 32<<20))
	if err == nil {
		err = json.Unmarshal(body, v)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_json",
			"We could not parse the JSON body of your request: "+err.Error())
		return false
	}
	return true
}

func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) {
	if !methodAllowed(w, r, http.MethodGet) {
		return
	}
	key, ok := s.authorize(w, r)
	if !ok {
		return
	}
	s.limiter.peek(key, "", s.opts.Now()).setHeaders(w.Header())
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	list := struct {
		Object string  `json:"object"`
		Data   []model `json:"data"`
	}{Object: "list"}
	for _, id := range Models() {
		list.Data = append(list.Data, model{ID: id, Object: "model", Created: 1763683200, OwnedBy: "parley-demo"})
	}
	writeJSON(w, http.StatusOK, list)
}

// chatRequest is the part of a chat completion request the demo reads.
type chatRequest struct {
	Model         string        `json:"model"`
	Messages      []chatMessage `json:"messages"`
	Stream        bool          `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Tools []struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	} `json:"tools"`
	MaxTokens           int    `json:"max_tokens"`
	MaxCompletionTokens int    `json:"max_completion_tokens"`
	ReasoningEffort     string `json:"reasoning_effort"`
}

type chatMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	ToolCalls  []toolCall      `json:"tool_calls"`
	ToolCallID string          `json:"tool_call_id"`
	Name       string          `json:"name"`
}

type toolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// text is the message's text: a plain string, or the text parts of an
// array of content parts.
func (m chatMessage) text() string {
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(m.Content, &parts) != nil {
		return ""
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type == "text" || p.Type == "input_text" {
			if b.Len() > 0 {
				b.WriteString("\n")
			}
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// lastUser is the text of the last user message, or "".
func (req *chatRequest) lastUser() string {
	for i := len(req.Messages) - 1; i >= 0; i-- {
		if req.Messages[i].Role == "user" {
			return req.Messages[i].text()
		}
	}
	return ""
}

// seed is a stable hash of the request's conversation, used for ids and
// for the pacing plan.
func (req *chatRequest) seed() uint64 {
	h := fnv.New64a()
	h.Write([]byte(req.Model))
	for _, m := range req.Messages {
		h.Write([]byte{0})
		h.Write([]byte(m.Role))
		h.Write([]byte{0})
		h.Write(m.Content)
	}
	return h.Sum64()
}

// promptTokens estimates the request's prompt tokens: about four
// characters per token plus a few per message.
func (req *chatRequest) promptTokens() int {
	n := 3
	for _, m := range req.Messages {
		n += 4 + tokens(m.text())
		for _, tc := range m.ToolCalls {
			n += 4 + tokens(tc.Function.Name) + tokens(tc.Function.Arguments)
		}
	}
	return n
}

// tokens estimates the token count of s (about four characters a token).
func tokens(s string) int { return (len(s) + 3) / 4 }

// readPost reads a POST request's JSON body of type T for a handler. It checks
// the method and the key and reads the body, answering any error itself
// (with the rate-limit headers of the key); ok is false when it did.
func readPost[T any](s *Server, w http.ResponseWriter, r *http.Request) (key string, now time.Time, req T, ok bool) {
	if !methodAllowed(w, r, http.MethodPost) {
		return "", now, req, false
	}
	if key, ok = s.authorize(w, r); !ok {
		return "", now, req, false
	}
	now = s.opts.Now()
	ok = readJSON(withHeaders(w, s.limiter.peek(key, "", now)), r, &req)
	return key, now, req, ok
}

func (s *Server) handleChat(w http.ResponseWriter, r *http.Request) {
	s.active.Add(1)
	defer s.active.Add(-1)
	key, now, req, ok := readPost[chatRequest](s, w, r)
	if !ok {
		return
	}
	switch {
	case req.Model == "":
		s.limiter.peek(key, "", now).setHeaders(w.Header())
		writeError(w, http.StatusBadRequest, "invalid_request_error", "missing_model",
			"You must provide a model parameter.")
		return
	case !isChatModel(req.Model):
		s.limiter.peek(key, req.Model, now).setHeaders(w.Header())
		msg := fmt.Sprintf("The model %q does not exist. Available chat models: %s, %s.", req.Model, modelFast, modelThink)
		if req.Model == modelImage {
			msg = fmt.Sprintf("The model %q is an image model; use /v1/images/generations.", req.Model)
		}
		writeError(w, http.StatusNotFound, "invalid_request_error", "invalid_model", msg)
		return
	case len(req.Messages) == 0:
		s.limiter.peek(key, req.Model, now).setHeaders(w.Header())
		writeError(w, http.StatusBadRequest, "invalid_request_error", "missing_messages",
			"You must provide at least one message.")
		return
	}
	v := s.limiter.admit(key, req.Model, now, true)
	v.setHeaders(w.Header())
	if !v.allowed {
		writeError(w, http.StatusTooManyRequests, "rate_limit_error", "rate_limited",
			"Request queued — waiting for available slot")
		return
	}

	n := s.requests.Add(1)
	seed := req.seed() ^ n*0x9e3779b97f4a7c15
	rep := compose(&req, req.seed())
	if limit := req.MaxTokens; limit > 0 || req.MaxCompletionTokens > 0 {
		if limit <= 0 || (req.MaxCompletionTokens > 0 && req.MaxCompletionTokens < limit) {
			limit = req.MaxCompletionTokens
		}
		rep = truncate(rep, limit)
	}
	id := fmt.Sprintf("chatcmpl-demo%016x", seed)
	w.Header().Set("X-Request-Id", fmt.Sprintf("req_demo%016x", seed))
	c := completion{id: id, model: req.Model, created: now.Unix(), rep: rep, promptTokens: req.promptTokens()}
	if req.Stream {
		includeUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage
		s.stream(w, r.Context(), c, s.plan(rep, req.seed()), includeUsage)
		return
	}
	s.complete(w, r.Context(), c, s.plan(rep, req.seed()))
}

// withHeaders sets v's rate-limit headers on w and returns w.
func withHeaders(w http.ResponseWriter, v verdict) http.ResponseWriter {
	v.setHeaders(w.Header())
	return w
}

// truncate cuts the reply's content to about maxTokens tokens at a word
// boundary and marks it finished for length. Tool calls are left whole.
func truncate(rep reply, maxTokens int) reply {
	if rep.kind == kindToolCall || tokens(rep.content) <= maxTokens {
		return rep
	}
	cut := maxTokens * 4
	for cut > 0 && !isCut(rep.content, cut) {
		cut--
	}
	if cut == 0 {
		cut = min(maxTokens*4, len(rep.content))
		for cut > 0 && cut < len(rep.content) && rep.content[cut]&0xC0 == 0x80 {
			cut--
		}
	}
	rep.content = rep.content[:cut]
	rep.finish = "length"
	return rep
}

// isCut reports whether s may be cut before index i: just before a space
// or newline.
func isCut(s string, i int) bool { return s[i] == ' ' || s[i] == '\n' }

// completion is one answer being delivered.
type completion struct {
	id           string
	model        string
	created      int64
	rep          reply
	promptTokens int
}

// usage is the OpenAI usage object.
type usage struct {
	PromptTokens            int `json:"prompt_tokens"`
	CompletionTokens        int `json:"completion_tokens"`
	TotalTokens             int `json:"total_tokens"`
	CompletionTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
}

func (c completion) usage() *usage {
	u := &usage{PromptTokens: c.promptTokens}
	u.CompletionTokensDetails.ReasoningTokens = tokens(c.rep.reasoning)
	u.CompletionTokens = tokens(c.rep.content) + u.CompletionTokensDetails.ReasoningTokens
	if c.rep.kind == kindToolCall {
		u.CompletionTokens += 4 + tokens(c.rep.toolName) + tokens(c.rep.args())
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return u
}

// The streaming chunk shapes.
type (
	chunk struct {
		ID                string        `json:"id"`
		Object            string        `json:"object"`
		Created           int64         `json:"created"`
		Model             string        `json:"model"`
		SystemFingerprint string        `json:"system_fingerprint"`
		Choices           []chunkChoice `json:"choices"`
		Usage             *usage        `json:"usage,omitempty"`
	}
	chunkChoice struct {
		Index        int     `json:"index"`
		Delta        delta   `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	}
	delta struct {
		Role             string          `json:"role,omitempty"`
		Content          *string         `json:"content,omitempty"`
		ReasoningContent *string         `json:"reasoning_content,omitempty"`
		ToolCalls        []toolCallDelta `json:"tool_calls,omitempty"`
	}
	toolCallDelta struct {
		Index    int    `json:"index"`
		ID       string `json:"id,omitempty"`
		Type     string `json:"type,omitempty"`
		Function struct {
			Name      string `json:"name,omitempty"`
			Arguments string `json:"arguments"`
		} `json:"function"`
	}
)

const fingerprint = "fp_parley_demo"

// stream writes c as server-sent events following plan, flushing after
// each event, and returns as soon as the client goes away.
func (s *Server) stream(w http.ResponseWriter, ctx context.Context, c completion, plan []step, includeUsage bool) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	if rc.Flush() != nil {
		return
	}
	send := func(ch chunk) bool {
		body, err := marshal(ch)
		if err != nil {
			return false
		}
		if _, err := w.Write(append(append([]byte("data: "), body...), '\n', '\n')); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	for i, st := range plan {
		if s.wait(ctx, st.delay) != nil {
			return
		}
		d := delta{}
		if i == 0 {
			d.Role = "assistant"
		}
		switch st.what {
		case stepReasoning:
			d.ReasoningContent = &st.text
		case stepContent:
			d.Content = &st.text
		case stepToolStart:
			tc := toolCallDelta{ID: c.rep.toolID, Type: "function"}
			tc.Function.Name = c.rep.toolName
			d.ToolCalls = []toolCallDelta{tc}
		case stepToolArgs:
			var tc toolCallDelta
			tc.Function.Arguments = st.text
			d.ToolCalls = []toolCallDelta{tc}
		}
		choice := chunkChoice{Delta: d}
		if i == len(plan)-1 {
			choice.FinishReason = &c.rep.finish
		}
		if !send(chunk{ID: c.id, Object: "chat.completion.chunk", Created: c.created, Model: c.model,
			SystemFingerprint: fingerprint, Choices: []chunkChoice{choice}}) {
			return
		}
	}
	if ctx.Err() != nil {
		return
	}
	if includeUsage && !send(chunk{ID: c.id, Object: "chat.completion.chunk", Created: c.created, Model: c.model,
		SystemFingerprint: fingerprint, Choices: []chunkChoice{}, Usage: c.usage()}) {
		return
	}
	if _, err := io.WriteString(w, "data: [DONE]\n\n"); err == nil {
		_ = rc.Flush()
	}
}

// maxCompleteWait caps how long a non-streaming answer is held back, so a
// long answer does not keep print mode waiting for minutes.
const maxCompleteWait = 5 * time.Second

// complete writes c as one chat.completion object, after waiting as long
// as streaming it would have taken (capped at maxCompleteWait).
func (s *Server) complete(w http.ResponseWriter, ctx context.Context, c completion, plan []step) {
	var total time.Duration
	for _, st := range plan {
		total += st.delay
	}
	if s.wait(ctx, min(total, maxCompleteWait)) != nil {
		return
	}
	type message struct {
		Role             string     `json:"role"`
		Content          *string    `json:"content"`
		ReasoningContent string     `json:"reasoning_content,omitempty"`
		ToolCalls        []toolCall `json:"tool_calls,omitempty"`
	}
	msg := message{Role: "assistant", ReasoningContent: c.rep.reasoning}
	if c.rep.kind == kindToolCall {
		tc := toolCall{ID: c.rep.toolID, Type: "function"}
		tc.Function.Name, tc.Function.Arguments = c.rep.toolName, c.rep.args()
		msg.ToolCalls = []toolCall{tc}
	} else {
		msg.Content = &c.rep.content
	}
	type choice struct {
		Index        int     `json:"index"`
		Message      message `json:"message"`
		FinishReason string  `json:"finish_reason"`
	}
	writeJSON(w, http.StatusOK, struct {
		ID                string   `json:"id"`
		Object            string   `json:"object"`
		Created           int64    `json:"created"`
		Model             string   `json:"model"`
		SystemFingerprint string   `json:"system_fingerprint"`
		Choices           []choice `json:"choices"`
		Usage             *usage   `json:"usage"`
	}{c.id, "chat.completion", c.created, c.model, fingerprint,
		[]choice{{Message: msg, FinishReason: c.rep.finish}}, c.usage()})
}

// wait sleeps for d unless the gateway is instant, returning early with
// ctx's error when the client goes away.
func (s *Server) wait(ctx context.Context, d time.Duration) error {
	if s.opts.Instant {
		return ctx.Err()
	}
	return provider.Sleep(ctx, d)
}

// The kinds of streaming step.
const (
	stepReasoning = iota
	stepContent
	stepToolStart
	stepToolArgs
)

// step is one streamed event: what it carries and how long to wait before
// sending it.
type step struct {
	what  int
	text  string
	delay time.Duration
}

// Natural pacing, before Speed scales it.
const (
	textRateMin      = 40.0  // tokens per second
	textRateMax      = 60.0  // tokens per second
	reasoningRateMin = 120.0 // tokens per second
	reasoningRateMax = 160.0 // tokens per second
	// longRateFactor speeds up the "long" answer so its ~6,000 tokens
	// arrive in well under a minute at natural pace.
	longRateFactor = 3.0
	firstTokenFast = 350 * time.Millisecond
	firstTokenSlow = 600 * time.Millisecond
	toolArgsDelay  = 40 * time.Millisecond
)

// plan splits rep into streaming steps of one to four words each and
// assigns each step its delay: a first-token latency, then the time the
// step's tokens take at a rate drawn from the natural range, all divided by
// Speed. The plan depends only on rep, seed and Speed.
func (s *Server) plan(rep reply, seed uint64) []step {
	r := &rng{state: seed}
	var steps []step
	rate := func(lo, hi float64) float64 { return lo + (hi-lo)*r.float() }
	add := func(what int, text string, lo, hi float64) {
		for _, piece := range splitWords(text, r) {
			d := time.Duration(float64(max(1, tokens(piece))) / rate(lo, hi) * float64(time.Second))
			steps = append(steps, step{what: what, text: piece, delay: d})
		}
	}
	add(stepReasoning, rep.reasoning, reasoningRateMin, reasoningRateMax)
	switch rep.kind {
	case kindToolCall:
		steps = append(steps, step{what: stepToolStart, delay: 2 * toolArgsDelay})
		for _, a := range rep.toolArgs {
			steps = append(steps, step{what: stepToolArgs, text: a, delay: toolArgsDelay})
		}
	case kindLong:
		add(stepContent, rep.content, textRateMin*longRateFactor, textRateMax*longRateFactor)
	default:
		add(stepContent, rep.content, textRateMin, textRateMax)
	}
	if len(steps) == 0 {
		// An empty answer (max_tokens cut everything) still needs a chunk
		// to carry the role and finish reason.
		steps = append(steps, step{what: stepContent})
	}
	first := firstTokenFast
	if rep.reasoning != "" {
		first = firstTokenSlow
	}
	steps[0].delay = first + time.Duration(r.intn(150))*time.Millisecond
	for i := range steps {
		steps[i].delay = time.Duration(float64(steps[i].delay) / s.opts.Speed)
	}
	return steps
}

// splitWords cuts s into pieces of one to four words, each word keeping
// the whitespace that follows it, so the pieces concatenate to s exactly.
func splitWords(s string, r *rng) []string {
	var out []string
	for len(s) > 0 {
		want := 1 + r.intn(4)
		i := 0
		for n := 0; n < want && i < len(s); n++ {
			for i < len(s) && isSpace(s[i]) { // leading whitespace
				i++
			}
			for i < len(s) && !isSpace(s[i]) {
				i++
			}
			for i < len(s) && isSpace(s[i]) {
				i++
			}
		}
		out = append(out, s[:i])
		s = s[i:]
	}
	return out
}

func isSpace(b byte) bool { return b == ' ' || b == '\n' || b == '\t' || b == '\r' }

// Tools returns the tool definitions the demo answers with a call to:
// get_weather, which the demo gateway calls when a prompt mentions the
// weather and tools are offered. Parley offers them in demo mode (unless
// --tools none) so a newcomer sees a tool call without configuring one.
func Tools() []provider.Tool {
	return []provider.Tool{{
		Name:        "get_weather",
		Description: "Current weather for a city",
		Parameters:  json.RawMessage(`{"type":"object","properties":{"location":{"type":"string","description":"City name"}},"required":["location"]}`),
	}}
}

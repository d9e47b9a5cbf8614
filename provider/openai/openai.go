// Package openai speaks the OpenAI-compatible chat completions dialect
// (/chat/completions over SSE with a bearer key), as served by OpenAI,
// OpenRouter, Groq, DeepSeek and the seed gateways. Request and response
// types come from github.com/sashabaranov/go-openai; the chat stream is
// decoded by Parley's own SSE decoder because go-openai's reader fails on
// real traffic (keep-alive comment runs, event: error, reasoning fields).
package openai

import (
	"context"
	"encoding/json"
	"io"
	"net/http"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/parley-chat/parley/provider"
)

// Provider is an OpenAI-compatible gateway. It is safe for concurrent use.
type Provider struct {
	name string
	ep   *provider.Endpoint
	tr   *provider.Transport
}

// New validates opts and returns the dialect's Provider.
func New(opts provider.Options) (*Provider, error) {
	ep, err := provider.NewEndpoint(provider.DialectOpenAI, opts.BaseURL, opts.APIKey, "Authorization", "Bearer ")
	if err != nil {
		return nil, err
	}
	name := opts.Name
	if name == "" {
		name = string(provider.DialectOpenAI)
	}
	return &Provider{name: name, ep: ep, tr: provider.NewTransport(opts)}, nil
}

// Name returns the profile name.
func (p *Provider) Name() string { return p.name }

// Dialect returns provider.DialectOpenAI.
func (p *Provider) Dialect() provider.Dialect { return provider.DialectOpenAI }

// Transport returns the shared HTTP machinery, for endpoints built on top
// of this dialect (images).
func (p *Provider) Transport() *provider.Transport { return p.tr }

// BaseURL returns the base URL, without a trailing slash.
func (p *Provider) BaseURL() string { return p.ep.Base() }

// NewRequest builds an authenticated request to {base}/{path}.
func (p *Provider) NewRequest(ctx context.Context, method, path string, body []byte) (*http.Request, error) {
	return p.ep.Request(ctx, method, path, body)
}

// chatRequest is go-openai's request with sampling fields that can carry
// an explicit zero (go-openai's float32 fields drop temperature 0).
type chatRequest struct {
	goopenai.ChatCompletionRequest
	Temperature *float64 `json:"temperature,omitempty"`
	TopP        *float64 `json:"top_p,omitempty"`
}

// buildBody maps a dialect-neutral request to the wire body.
func buildBody(req *provider.Request, stream bool) ([]byte, error) {
	cr := chatRequest{Temperature: req.Temperature, TopP: req.TopP}
	cr.Model = req.Model
	cr.Stream = stream
	// The seed gateways document max_tokens, not max_completion_tokens
	// (which go-openai prefers and some OpenAI-compatible gateways reject).
	//lint:ignore SA1019 max_tokens is the field the seed gateways accept
	cr.MaxTokens = req.MaxTokens
	cr.Stop = req.Stop
	if stream {
		cr.StreamOptions = &goopenai.StreamOptions{IncludeUsage: true}
	}
	if req.Reasoning.Enabled {
		cr.ReasoningEffort = reasoningEffort(req.Reasoning)
	}
	for _, m := range req.Messages {
		if m.Role == provider.RoleAssistant && m.Content == "" && len(m.ToolCalls) == 0 {
			// A turn that produced only reasoning (or was stopped while
			// thinking): OpenAI-compatible gateways refuse an assistant
			// message with neither content nor tool calls.
			continue
		}
		msg := goopenai.ChatCompletionMessage{Role: string(m.Role), Content: m.Content, ToolCallID: m.ToolCallID}
		if m.Role == provider.RoleTool {
			msg.Name = m.Name
		}
		for _, tc := range m.ToolCalls {
			msg.ToolCalls = append(msg.ToolCalls, goopenai.ToolCall{
				ID: tc.ID, Type: goopenai.ToolTypeFunction,
				Function: goopenai.FunctionCall{Name: tc.Name, Arguments: tc.Arguments},
			})
		}
		cr.Messages = append(cr.Messages, msg)
	}
	for _, t := range req.Tools {
		var params any = t.Parameters
		if len(t.Parameters) == 0 {
			params = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		cr.Tools = append(cr.Tools, goopenai.Tool{Type: goopenai.ToolTypeFunction, Function: &goopenai.FunctionDefinition{
			Name: t.Name, Description: t.Description, Parameters: params,
		}})
	}
	if rf := req.ResponseFormat; rf != nil {
		f := &goopenai.ChatCompletionResponseFormat{Type: goopenai.ChatCompletionResponseFormatType(rf.Type)}
		if rf.Type == "json_schema" {
			name := rf.Name
			if name == "" {
				name = "response" // the gateway requires one
			}
			f.JSONSchema = &goopenai.ChatCompletionResponseFormatJSONSchema{Name: name, Schema: rf.Schema, Strict: rf.Strict}
		}
		cr.ResponseFormat = f
	}
	return json.Marshal(cr)
}

// reasoningEffort maps the reasoning options to the OpenAI-compatible
// reasoning_effort: the effort asked for, else one derived from the token
// budget (up to 2k low, up to 8k medium, more high), else medium.
func reasoningEffort(r provider.ReasoningOptions) string {
	switch {
	case r.Effort != "":
		return r.Effort
	case r.Budget > 8192:
		return "high"
	case r.Budget > 0 && r.Budget <= 2048:
		return "low"
	}
	return "medium"
}

// Stream implements provider.Provider.
func (p *Provider) Stream(ctx context.Context, req *provider.Request, emit func(provider.Event)) error {
	emit = p.tr.Guard(emit) // the key never reaches a consumer, however the gateway echoes it
	body, err := buildBody(req, true)
	if err != nil {
		return provider.Finish(emit, &provider.APIError{Kind: provider.KindStream, Title: "bad request", Message: err.Error()})
	}
	resp, err := p.tr.Do(ctx, func(ctx context.Context) (*http.Request, error) {
		r, err := p.NewRequest(ctx, http.MethodPost, "chat/completions", body)
		if err == nil {
			r.Header.Set("Accept", "text/event-stream")
		}
		return r, err
	}, emit)
	if err != nil {
		return provider.Finish(emit, err.(*provider.APIError))
	}
	defer resp.Body.Close()
	emit(provider.Started{Status: resp.StatusCode})
	d := newDecoder(emit)
	return p.tr.ReadAnswer(ctx, emit, resp,
		func(body io.Reader) *provider.APIError { return d.run(ctx, p.tr, body) }, d.whole, d.fail)
}

// Models lists the gateway's models (one page: the OpenAI API does not
// paginate them), within the budget of provider.ModelList.
func (p *Provider) Models(ctx context.Context) ([]provider.Model, error) {
	var budget provider.ModelList
	ctx, cancel := budget.Start(ctx)
	defer cancel()
	resp, err := p.tr.Do(ctx, func(ctx context.Context) (*http.Request, error) {
		return p.NewRequest(ctx, http.MethodGet, "models", nil)
	}, func(provider.Event) {})
	if err != nil {
		return nil, budget.Err(err, 0)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, budget.Err(p.tr.StreamError(ctx, err, false), 0)
	}
	var out []provider.Model
	if err := provider.EachModel(data, "data", func(m *goopenai.Model) bool {
		out = append(out, provider.Model{ID: m.ID, OwnedBy: m.OwnedBy, Created: m.CreatedAt})
		return len(out) <= provider.MaxModels
	}); err != nil {
		return nil, provider.NotJSON("the model list", resp.StatusCode, data, err)
	}
	if ae := budget.Page(len(data), len(out)); ae != nil {
		return out, ae
	}
	if out == nil {
		out = []provider.Model{}
	}
	return out, nil
}

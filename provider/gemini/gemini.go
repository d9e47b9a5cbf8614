// Package gemini speaks the Gemini generateContent dialect
// ({base}/models/{model}:streamGenerateContent?alt=sse with the key in
// x-goog-api-key), as served by Google and by gateways that offer a
// Gemini-compatible endpoint. It is a small hand-written client on the
// shared SSE decoder; the wire types it needs are in types.go.
package gemini

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/parley-chat/parley/provider"
)

// maxModelPages bounds pagination of the model list.
const maxModelPages = 1000

// Provider is a Gemini-compatible gateway. It is safe for concurrent use.
type Provider struct {
	name string
	ep   *provider.Endpoint
	tr   *provider.Transport
}

// New validates opts and returns the dialect's Provider.
func New(opts provider.Options) (*Provider, error) {
	ep, err := provider.NewEndpoint(provider.DialectGemini, opts.BaseURL, opts.APIKey, "x-goog-api-key", "")
	if err != nil {
		return nil, err
	}
	name := opts.Name
	if name == "" {
		name = string(provider.DialectGemini)
	}
	return &Provider{name: name, ep: ep, tr: provider.NewTransport(opts)}, nil
}

// Name returns the profile name.
func (p *Provider) Name() string { return p.name }

// Dialect returns provider.DialectGemini.
func (p *Provider) Dialect() provider.Dialect { return provider.DialectGemini }

// newRequest builds a request to {base}/{path} with the key in the
// x-goog-api-key header (never in the URL).
func (p *Provider) newRequest(ctx context.Context, method, path string, body []byte) (*http.Request, error) {
	return p.ep.Request(ctx, method, path, body)
}

// modelPath returns "models/{model}" for a model id given with or without
// its "models/" prefix.
func modelPath(model string) string {
	return "models/" + url.PathEscape(strings.TrimPrefix(model, "models/"))
}

// Stream implements provider.Provider.
func (p *Provider) Stream(ctx context.Context, req *provider.Request, emit func(provider.Event)) error {
	emit = p.tr.Guard(emit) // the key never reaches a consumer, however the gateway echoes it
	if strings.TrimPrefix(req.Model, "models/") == "" {
		return provider.Finish(emit, &provider.APIError{Kind: provider.KindStream, Title: "bad request", Message: "no model given"})
	}
	body, err := buildBody(req)
	if err != nil {
		return provider.Finish(emit, &provider.APIError{Kind: provider.KindStream, Title: "bad request", Message: err.Error()})
	}
	resp, err := p.tr.Do(ctx, func(ctx context.Context) (*http.Request, error) {
		r, err := p.newRequest(ctx, http.MethodPost, modelPath(req.Model)+":streamGenerateContent?alt=sse", body)
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

// buildBody maps a dialect-neutral request to generateContent's body. A
// function call goes back with the thought signature it came with (kept
// in ToolCall.Opaque), because Gemini 3 refuses a conversation whose
// earlier function calls come back without theirs.
func buildBody(req *provider.Request) ([]byte, error) {
	var g generateRequest
	var sys []part
	callNames := map[string]string{}
	for _, m := range req.Messages {
		switch m.Role {
		case provider.RoleSystem:
			if m.Content != "" {
				sys = append(sys, part{Text: m.Content})
			}
		case provider.RoleUser:
			g.Contents = append(g.Contents, content{Role: "user", Parts: []part{{Text: m.Content}}})
		case provider.RoleAssistant:
			c := content{Role: "model"}
			if m.Content != "" {
				c.Parts = append(c.Parts, part{Text: m.Content})
			}
			for _, tc := range m.ToolCalls {
				callNames[tc.ID] = tc.Name
				c.Parts = append(c.Parts, part{
					FunctionCall:     &functionCall{ID: geminiID(tc.ID), Name: tc.Name, Args: argsObject(tc.Arguments)},
					ThoughtSignature: tc.Opaque,
				})
			}
			if len(c.Parts) == 0 {
				continue // Gemini refuses a content without parts
			}
			g.Contents = append(g.Contents, c)
		case provider.RoleTool:
			name := m.Name
			if name == "" {
				name = callNames[m.ToolCallID]
			}
			fr := part{FunctionResponse: &functionResponse{ID: geminiID(m.ToolCallID), Name: name, Response: responseObject(m.Content)}}
			// The answers to one turn's calls go together in one content.
			if n := len(g.Contents); n > 0 && g.Contents[n-1].Role == "user" && len(g.Contents[n-1].Parts) > 0 &&
				g.Contents[n-1].Parts[0].FunctionResponse != nil {
				g.Contents[n-1].Parts = append(g.Contents[n-1].Parts, fr)
			} else {
				g.Contents = append(g.Contents, content{Role: "user", Parts: []part{fr}})
			}
		default:
			return nil, fmt.Errorf("unknown message role %q", m.Role)
		}
	}
	if g.Contents == nil {
		g.Contents = []content{}
	}
	if len(sys) > 0 {
		g.SystemInstruction = &content{Parts: sys}
	}
	gc := generationConfig{
		Temperature:     req.Temperature,
		TopP:            req.TopP,
		MaxOutputTokens: req.MaxTokens,
		StopSequences:   req.Stop,
	}
	if rf := req.ResponseFormat; rf != nil && (rf.Type == "json_schema" || rf.Type == "json_object") {
		gc.ResponseMimeType = "application/json"
		if rf.Type == "json_schema" && len(rf.Schema) > 0 {
			gc.ResponseJSONSchema = rf.Schema
		}
	}
	if req.Reasoning.Enabled {
		tc := &thinkingConfig{IncludeThoughts: true}
		if req.Reasoning.Budget > 0 {
			b := req.Reasoning.Budget
			tc.ThinkingBudget = &b
		}
		gc.ThinkingConfig = tc
	}
	if gc.Temperature != nil || gc.TopP != nil || gc.MaxOutputTokens > 0 || len(gc.StopSequences) > 0 ||
		gc.ResponseMimeType != "" || gc.ThinkingConfig != nil {
		g.GenerationConfig = &gc
	}
	if len(req.Tools) > 0 {
		var decls []functionDeclaration
		for _, t := range req.Tools {
			decls = append(decls, functionDeclaration{Name: t.Name, Description: t.Description, Parameters: t.Parameters})
		}
		g.Tools = []tool{{FunctionDeclarations: decls}}
	}
	return json.Marshal(g)
}

// geminiID is the id to send back with a function call and its response:
// the id Gemini gave the call, or "" for an id Parley made up for a call
// that came without one (see decoder.emitCall), which Gemini never saw.
func geminiID(id string) string {
	if madeUpID.MatchString(id) {
		return ""
	}
	return id
}

// madeUpID matches the ids the decoder gives calls that have none.
var madeUpID = regexp.MustCompile(`^call_[0-9a-f]{8}_[0-9]+$`)

// argsObject turns a tool call's argument string into the object Gemini
// expects; text that is not a JSON object is kept under "arguments".
func argsObject(s string) json.RawMessage {
	s = strings.TrimSpace(s)
	if s == "" {
		return json.RawMessage(`{}`)
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal([]byte(s), &obj) == nil {
		return json.RawMessage(s)
	}
	b, _ := json.Marshal(map[string]string{"arguments": s})
	return b
}

// responseObject turns a tool's output into functionResponse.response,
// which must be an object: JSON objects pass as they are, anything else
// is wrapped as {"result": …}.
func responseObject(s string) json.RawMessage {
	t := strings.TrimSpace(s)
	var obj map[string]json.RawMessage
	if json.Unmarshal([]byte(t), &obj) == nil {
		return json.RawMessage(t)
	}
	var v any = s
	if json.Valid([]byte(t)) && t != "" {
		v = json.RawMessage(t)
	}
	b, _ := json.Marshal(map[string]any{"result": v})
	return b
}

// Models lists the gateway's models, following nextPageToken across all
// pages within the budget of provider.ModelList; ids lose their "models/"
// prefix.
func (p *Provider) Models(ctx context.Context) ([]provider.Model, error) {
	var out []provider.Model
	var budget provider.ModelList
	ctx, cancel := budget.Start(ctx)
	defer cancel()
	seen := map[string]bool{}
	token := ""
	for page := 0; page < maxModelPages; page++ {
		q := url.Values{"pageSize": {"1000"}}
		if token != "" {
			q.Set("pageToken", token)
		}
		resp, err := p.tr.Do(ctx, func(ctx context.Context) (*http.Request, error) {
			return p.newRequest(ctx, http.MethodGet, "models?"+q.Encode(), nil)
		}, func(provider.Event) {})
		if err != nil {
			return out, budget.Err(err, len(out))
		}
		data, rerr := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
		resp.Body.Close()
		if rerr != nil {
			return out, budget.Err(p.tr.StreamError(ctx, rerr, false), len(out))
		}
		var list modelList
		err = json.Unmarshal(data, &list)
		if err == nil {
			err = provider.EachModel(data, "models", func(m *wireModel) bool {
				if id := strings.TrimPrefix(m.Name, "models/"); id != "" {
					out = append(out, provider.Model{ID: id, Name: m.DisplayName})
				}
				return len(out) <= provider.MaxModels
			})
		}
		if err != nil {
			return out, provider.NotJSON("the model list", resp.StatusCode, data, err)
		}
		if ae := budget.Page(len(data), len(out)); ae != nil {
			return out, ae
		}
		if list.NextPageToken == "" {
			return out, nil
		}
		if seen[list.NextPageToken] {
			return out, &provider.APIError{Kind: provider.KindStream, Title: "malformed model list",
				Message: fmt.Sprintf("the gateway returned page token %q twice", list.NextPageToken)}
		}
		seen[list.NextPageToken] = true
		token = list.NextPageToken
	}
	return out, &provider.APIError{Kind: provider.KindStream, Title: "malformed model list",
		Message: fmt.Sprintf("the gateway kept paginating after %d pages", maxModelPages)}
}

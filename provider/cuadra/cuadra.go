// Package cuadra speaks the native REST dialect of the Cuadra AI gateway:
// POST {base}/chats with a camelCase body, an Idempotency-Key on every
// POST, RFC 7807 errors, cursor-paginated model lists and a usage
// endpoint. A chat answers either with the gateway's plain stream
// ({"id","delta","finished","usage"} events) or, when asked with the
// X-Stream-Format: ai-sdk header, with the Vercel AI SDK UI message
// stream; the format is detected from the response itself.
package cuadra

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/parley-chat/parley/provider"
)

// Header names of the dialect.
const (
	// headerIdempotency carries a random key per logical POST; every retry
	// of that POST repeats it so the gateway never runs it twice.
	headerIdempotency = "Idempotency-Key"
	// headerStreamFormat asks for the UI message stream ("ai-sdk").
	headerStreamFormat = "X-Stream-Format"
	// headerUIStream marks a UI message stream response ("v1").
	headerUIStream = "X-Vercel-Ai-Ui-Message-Stream"
	// headerChatID may carry the conversation id of a UI message stream.
	headerChatID = "X-Chat-Id"
)

// modelsPageSize is the page size asked for when listing models.
const modelsPageSize = 100

// maxModelPages bounds pagination, so a gateway that keeps answering
// hasMore cannot keep Parley busy forever.
const maxModelPages = 1000

// Provider is a Cuadra gateway. It is safe for concurrent use.
type Provider struct {
	name     string
	ep       *provider.Endpoint
	uiStream bool
	tr       *provider.Transport
}

// New validates opts and returns the dialect's Provider.
func New(opts provider.Options) (*Provider, error) {
	ep, err := provider.NewEndpoint(provider.DialectCuadra, opts.BaseURL, opts.APIKey, "Authorization", "Bearer ")
	if err != nil {
		return nil, err
	}
	name := opts.Name
	if name == "" {
		name = string(provider.DialectCuadra)
	}
	return &Provider{name: name, ep: ep, uiStream: opts.UIStream, tr: provider.NewTransport(opts)}, nil
}

// Name returns the profile name.
func (p *Provider) Name() string { return p.name }

// Dialect returns provider.DialectCuadra.
func (p *Provider) Dialect() provider.Dialect { return provider.DialectCuadra }

// newRequest builds an authenticated JSON request to {base}/{path}.
func (p *Provider) newRequest(ctx context.Context, method, path string, body []byte) (*http.Request, error) {
	req, err := p.ep.Request(ctx, method, path, body)
	if err == nil {
		req.Header.Set("Accept", "application/json")
	}
	return req, err
}

// newIdempotencyKey returns a random UUID (version 4) from crypto/rand.
func newIdempotencyKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Stream implements provider.Provider. When req.ChatID is set it continues
// that gateway-side chat, sending only the messages the gateway does not
// hold yet; if the gateway no longer knows the chat, it sends the whole
// history once more as a new chat.
func (p *Provider) Stream(ctx context.Context, req *provider.Request, emit func(provider.Event)) error {
	emit = p.tr.Guard(emit) // the key never reaches a consumer, however the gateway echoes it
	continuing := req.ChatID != "" && req.KnownMessages >= 0 && newMessages(req) > 0
	body, err := buildBody(req, continuing)
	if err != nil {
		return provider.Finish(emit, &provider.APIError{Kind: provider.KindStream, Title: "bad request", Message: err.Error()})
	}
	resp, ae := p.post(ctx, body, emit)
	if ae != nil && continuing && rejectsChat(ae) {
		body, err = buildBody(req, false)
		if err != nil {
			return provider.Finish(emit, &provider.APIError{Kind: provider.KindStream, Title: "bad request", Message: err.Error()})
		}
		resp, ae = p.post(ctx, body, emit)
	}
	if ae != nil {
		return provider.Finish(emit, ae)
	}
	defer resp.Body.Close()
	d := newDecoder(emit, resp)
	return p.tr.ReadAnswer(ctx, emit, resp,
		func(body io.Reader) *provider.APIError { return d.run(ctx, p.tr, body) }, d.whole, d.fail)
}

// post sends one logical chat request: one Idempotency-Key, kept the same
// on every retry the transport makes.
func (p *Provider) post(ctx context.Context, body []byte, emit func(provider.Event)) (*http.Response, *provider.APIError) {
	key := newIdempotencyKey()
	resp, err := p.tr.Do(ctx, func(ctx context.Context) (*http.Request, error) {
		r, err := p.newRequest(ctx, http.MethodPost, "chats", body)
		if err != nil {
			return nil, err
		}
		r.Header.Set(headerIdempotency, key)
		r.Header.Set("Accept", "text/event-stream, application/json")
		if p.uiStream {
			r.Header.Set(headerStreamFormat, "ai-sdk")
		}
		return r, nil
	}, emit)
	if err != nil {
		return nil, err.(*provider.APIError)
	}
	return resp, nil
}

// rejectsChat reports whether an error says the gateway does not accept
// the chat id sent: a 404, or a 400/409/422 problem that names the chat.
func rejectsChat(ae *provider.APIError) bool {
	if ae.Kind != provider.KindHTTP {
		return false
	}
	switch ae.Status {
	case http.StatusNotFound:
		return true
	case http.StatusBadRequest, http.StatusConflict, http.StatusUnprocessableEntity:
		text := strings.ToLower(ae.Title + " " + ae.Message + " " + ae.Code + " " + ae.Type)
		return strings.Contains(text, "chat")
	}
	return false
}

// Models lists every model the gateway offers, following nextCursor
// across all pages, within the budget of provider.ModelList.
func (p *Provider) Models(ctx context.Context) ([]provider.Model, error) {
	var out []provider.Model
	var list provider.ModelList
	ctx, cancel := list.Start(ctx)
	defer cancel()
	seen := map[string]bool{}
	cursor := ""
	for page := 0; ; page++ {
		if page >= maxModelPages {
			return out, &provider.APIError{Kind: provider.KindStream, Title: "malformed model list",
				Message: fmt.Sprintf("the gateway kept paginating after %d pages", maxModelPages)}
		}
		q := url.Values{"limit": {fmt.Sprint(modelsPageSize)}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var body struct {
			NextCursor *string `json:"nextCursor"`
			HasMore    *bool   `json:"hasMore"`
		}
		data, status, err := p.get(ctx, "models?"+q.Encode())
		if err == nil {
			if err = json.Unmarshal(data, &body); err == nil {
				err = provider.EachModel(data, "data", func(m *wireModel) bool {
					if pm, ok := m.model(); ok {
						out = append(out, pm)
					}
					return len(out) <= provider.MaxModels
				})
			}
			if err != nil {
				err = provider.NotJSON("the model list", status, data, err)
			}
		}
		if err != nil {
			return out, list.Err(err, len(out))
		}
		if ae := list.Page(len(data), len(out)); ae != nil {
			return out, ae
		}
		next := ""
		if body.NextCursor != nil {
			next = *body.NextCursor
		}
		more := next != ""
		if body.HasMore != nil {
			more = *body.HasMore && next != ""
		}
		if !more {
			return out, nil
		}
		if seen[next] {
			return out, &provider.APIError{Kind: provider.KindStream, Title: "malformed model list",
				Message: fmt.Sprintf("the gateway returned cursor %q twice", next)}
		}
		seen[next] = true
		cursor = next
	}
}

// wireModel is one model object, whose exact shape the gateway does not
// document beyond its id: the spellings seen of each field.
type wireModel struct {
	ID                looseString     `json:"id"`
	ModelID           looseString     `json:"modelId"`
	Name              looseString     `json:"name"`
	DisplayName       looseString     `json:"displayName"`
	Provider          looseString     `json:"provider"`
	OwnedBy           looseString     `json:"ownedBy"`
	OwnedBySnake      looseString     `json:"owned_by"`
	BaseModelProvider looseString     `json:"baseModelProvider"`
	CreatedAt         json.RawMessage `json:"createdAt"`
	Created           json.RawMessage `json:"created"`
	CreatedAtSnake    json.RawMessage `json:"created_at"`
}

// looseString is a JSON string, or empty when the value is anything else.
type looseString string

// UnmarshalJSON implements json.Unmarshaler; it never fails.
func (s *looseString) UnmarshalJSON(b []byte) error {
	var v string
	if json.Unmarshal(b, &v) != nil {
		v = ""
	}
	*s = looseString(v)
	return nil
}

func (m *wireModel) model() (provider.Model, bool) {
	first := func(vs ...looseString) string {
		for _, v := range vs {
			if v != "" {
				return string(v)
			}
		}
		return ""
	}
	pm := provider.Model{
		ID:      first(m.ID, m.ModelID),
		Name:    first(m.Name, m.DisplayName),
		OwnedBy: first(m.Provider, m.OwnedBy, m.OwnedBySnake, m.BaseModelProvider),
	}
	for _, raw := range []json.RawMessage{m.CreatedAt, m.Created, m.CreatedAtSnake} {
		if len(raw) > 0 {
			if pm.Created = parseTime(raw); pm.Created != 0 {
				break
			}
		}
	}
	return pm, pm.ID != ""
}

// getJSON sends GET {base}/{path} and decodes the JSON answer into v.
func (p *Provider) getJSON(ctx context.Context, path string, v any) error {
	data, status, err := p.get(ctx, path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return provider.NotJSON("GET /"+strings.SplitN(path, "?", 2)[0]+": the answer", status, data, err)
	}
	return nil
}

// get sends GET {base}/{path} and returns the answer (at most 16 MB) and
// its status.
func (p *Provider) get(ctx context.Context, path string) ([]byte, int, error) {
	resp, err := p.tr.Do(ctx, func(ctx context.Context) (*http.Request, error) {
		return p.newRequest(ctx, http.MethodGet, path, nil)
	}, func(provider.Event) {})
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, resp.StatusCode, p.tr.StreamError(ctx, err, false)
	}
	return data, resp.StatusCode, nil
}

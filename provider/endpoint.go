package provider

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// Endpoint is a gateway's base URL and the way its key is sent. Every
// dialect builds its requests with one.
type Endpoint struct {
	base       string
	key        string
	authHeader string // "Authorization" or e.g. "x-goog-api-key"
	authPrefix string // "Bearer " or ""
}

// NewEndpoint validates the base URL (an http or https URL, trailing
// slashes dropped). The key is sent as authHeader: authPrefix+key; it is
// never put in a URL.
func NewEndpoint(dialect Dialect, baseURL, key, authHeader, authPrefix string) (*Endpoint, error) {
	base := strings.TrimRight(baseURL, "/")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s: base URL %q is not an http(s) URL", dialect, baseURL)
	}
	return &Endpoint{base: base, key: key, authHeader: authHeader, authPrefix: authPrefix}, nil
}

// Base returns the base URL without a trailing slash.
func (e *Endpoint) Base() string { return e.base }

// Request builds an authenticated request to {base}/{path}. A non-nil
// body is sent as JSON.
func (e *Endpoint) Request(ctx context.Context, method, path string, body []byte) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.base+"/"+strings.TrimLeft(path, "/"), rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if e.key != "" {
		req.Header.Set(e.authHeader, e.authPrefix+e.key)
	}
	return req, nil
}

// Finish emits the terminal Error event for ae and returns ae as the
// Provider.Stream error. A nil ae means Done was already emitted.
func Finish(emit func(Event), ae *APIError) error {
	if ae == nil {
		return nil
	}
	emit(Error{Err: ae})
	return ae
}

// IsJSON reports a JSON content type (application/json or any +json).
func IsJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// InbandError reads an error a gateway wrote inside a stream (or a 2xx
// body): {"error":…} in the OpenAI, OpenRouter, Groq or Gemini shape, or an
// RFC 7807 problem object. It returns nil when data is neither.
func InbandError(data []byte) *APIError {
	var probe struct {
		Error      json.RawMessage `json:"error"`
		Title      string          `json:"title"`
		Detail     string          `json:"detail"`
		Status     json.RawMessage `json:"status"`
		StatusCode int             `json:"status_code"`
	}
	data = bytes.TrimSpace(data)
	if json.Unmarshal(data, &probe) != nil {
		return nil
	}
	hasError := len(probe.Error) > 0 && string(probe.Error) != "null" && string(probe.Error) != "false"
	isProblem := probe.Title != "" && (probe.Detail != "" || len(probe.Status) > 0)
	if !hasError && !isProblem {
		return nil
	}
	ae := ParseErrorBody(0, data)
	ae.Kind = KindStream
	if ae.Status == 0 && hasError {
		// Groq puts the HTTP status beside the message as status_code.
		var inner struct {
			StatusCode int `json:"status_code"`
		}
		if json.Unmarshal(probe.Error, &inner) == nil && inner.StatusCode > 0 {
			ae.Status = inner.StatusCode
			ae.Title = http.StatusText(inner.StatusCode)
		}
	}
	if ae.Title == "" {
		ae.Title = "error from the gateway"
	}
	return ae
}

// Malformed reports stream data that is not what the dialect expects;
// what says what it should have been.
func Malformed(what string, data []byte) *APIError {
	return &APIError{Kind: KindStream, Title: "malformed stream", Message: what + ": " + Excerpt(data)}
}

// Excerpt shortens raw gateway data for an error message: at most 120
// bytes, cut on a rune boundary.
func Excerpt(b []byte) string {
	const max = 120
	if len(b) <= max {
		return string(b)
	}
	cut := max
	for cut > 0 && b[cut]&0xC0 == 0x80 {
		cut--
	}
	return string(b[:cut]) + "…"
}

// ReadAnswer reads a successful answer with a dialect's decoder and reports
// the outcome through Finish: a JSON body (a gateway that answered whole,
// or ignored stream:true) goes to whole, an HTML page (a proxy's login or
// error page served with 200) becomes an error that says so with an
// excerpt, anything else is read as SSE by run. fail marks a read error as
// the decoder's own errors are marked.
func (t *Transport) ReadAnswer(ctx context.Context, emit func(Event), resp *http.Response,
	run func(io.Reader) *APIError, whole func([]byte) *APIError, fail func(*APIError) *APIError) error {
	ct := resp.Header.Get("Content-Type")
	if IsJSON(ct) {
		data, err := io.ReadAll(io.LimitReader(resp.Body, DefaultMaxEventSize))
		if err != nil {
			return Finish(emit, fail(t.StreamError(ctx, err, false)))
		}
		return Finish(emit, whole(data))
	}
	body := bufio.NewReader(resp.Body)
	if isHTML(ct, body) {
		data, err := io.ReadAll(io.LimitReader(body, 64<<10))
		if err != nil && len(data) == 0 {
			return Finish(emit, fail(t.StreamError(ctx, err, false)))
		}
		return Finish(emit, fail(t.redactErr(HTMLPage(resp.StatusCode, data))))
	}
	return Finish(emit, run(body))
}

// isHTML reports an HTML answer: its content type says so, or its first
// bytes (an SSE stream or JSON never starts with '<') look like a page.
func isHTML(contentType string, body *bufio.Reader) bool {
	if mt, _, err := mime.ParseMediaType(contentType); err == nil && (mt == "text/html" || mt == "application/xhtml+xml") {
		return true
	}
	if _, err := body.Peek(1); err != nil {
		return false
	}
	head, _ := body.Peek(body.Buffered())
	head = bytes.TrimLeft(head, " \t\r\n\ufeff")
	return len(head) > 0 && head[0] == '<'
}

// HTMLPage is the error for an HTML page where a gateway's answer should
// be: what the page says, shortened.
func HTMLPage(status int, page []byte) *APIError {
	msg := "the gateway answered with an HTML page, not an API answer"
	if text := excerpt(string(page), 200); text != "" {
		msg += ": " + text
	}
	return &APIError{Kind: KindStream, Status: status, Title: "unexpected HTML", Message: msg}
}

// NotJSON is the error for a body that should have been JSON (a model
// list, an image answer): an HTML page says so, anything else is quoted.
func NotJSON(what string, status int, data []byte, err error) *APIError {
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(trimmed) > 0 && trimmed[0] == '<' {
		ae := HTMLPage(status, data)
		ae.Message = strings.Replace(ae.Message, "an API answer", what, 1)
		return ae
	}
	msg := what + " is not the expected JSON"
	if err != nil {
		msg += " (" + err.Error() + ")"
	}
	return &APIError{Kind: KindStream, Title: "malformed response", Message: msg + ": " + Excerpt(data)}
}

// redactErr removes the key from ae.
func (t *Transport) redactErr(ae *APIError) *APIError {
	ae.redactWith(t.redactor)
	return ae
}

// Sources reports each cited source once per stream, however often a
// gateway repeats it. The zero value is ready to use.
type Sources struct{ seen map[string]bool }

// Emit emits a Source for url unless url is empty or was emitted before.
func (s *Sources) Emit(emit func(Event), url, title string) {
	if url == "" || s.seen[url] {
		return
	}
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	s.seen[url] = true
	emit(Source{URL: url, Title: title})
}

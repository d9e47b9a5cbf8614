package provider

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrorKind says where a failure came from.
type ErrorKind string

// The kinds of failure a stream can end with.
const (
	KindHTTP     ErrorKind = "http"     // the gateway answered with a non-2xx status
	KindNetwork  ErrorKind = "network"  // the connection failed or broke
	KindTimeout  ErrorKind = "timeout"  // the stream went silent for longer than the idle timeout
	KindStream   ErrorKind = "stream"   // the gateway reported an error inside the stream, or sent garbage
	KindCanceled ErrorKind = "canceled" // the user cancelled
	KindBlocked  ErrorKind = "blocked"  // the answer was withheld (safety, recitation, prompt blocked)
)

// APIError is every failure a Provider reports: typed, with the gateway's
// own words where it gave any. Its Error string never contains the API key.
type APIError struct {
	Kind       ErrorKind
	Status     int    // HTTP status, or the status the gateway put in a stream error
	Code       string // machine code: "invalid_api_key", "RESOURCE_EXHAUSTED", …
	Type       string // OpenAI error type or RFC 7807 type
	Title      string // short human title: RFC 7807 title or the HTTP status text
	Message    string // the gateway's message
	RetryAfter time.Duration
	// Partial is true when some of the answer had already streamed.
	Partial bool
	// Cause is the underlying Go error, if any.
	Cause error
}

func (e *APIError) Error() string {
	var b strings.Builder
	if e.Status > 0 {
		fmt.Fprintf(&b, "%d", e.Status)
		if e.Title != "" {
			b.WriteString(" " + e.Title)
		}
	} else if e.Title != "" {
		b.WriteString(e.Title)
	}
	if e.Message != "" && e.Message != e.Title {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(e.Message)
	}
	if e.Code != "" && !strings.Contains(b.String(), e.Code) {
		fmt.Fprintf(&b, " (%s)", e.Code)
	}
	if b.Len() == 0 {
		return string(e.Kind) + " error"
	}
	return b.String()
}

func (e *APIError) Unwrap() error { return e.Cause }

// Redact removes every occurrence of secret from the error's text fields,
// however it is written (see Redactor).
func (e *APIError) Redact(secret string) { e.redactWith(NewRedactor(secret)) }

func (e *APIError) redactWith(r *Redactor) {
	if r == nil {
		return
	}
	for _, s := range []*string{&e.Code, &e.Type, &e.Title, &e.Message} {
		*s = r.Clean(*s)
	}
	if e.Cause != nil {
		if msg := e.Cause.Error(); r.Clean(msg) != msg {
			e.Cause = errors.New(r.Clean(msg))
		}
	}
}

// ParseErrorBody turns an error response into an APIError. It understands
// OpenAI {"error":{message,type,code}}, RFC 7807 problem+json
// {type,title,status,detail}, Gemini {"error":{code,message,status}},
// bare {"message":…} / {"detail":…} bodies, and non-JSON bodies (an HTML
// error page becomes its status text plus a short excerpt).
func ParseErrorBody(status int, body []byte) *APIError {
	e := &APIError{Kind: KindHTTP, Status: status, Title: http.StatusText(status)}
	if status == 0 {
		e.Kind = KindStream
		e.Title = ""
	}
	trimmed := strings.TrimSpace(string(body))
	if trimmed == "" {
		if e.Title == "" {
			e.Title = "empty error response"
		}
		return e
	}
	if fillFromJSON(e, []byte(trimmed)) {
		return e
	}
	e.Message = excerpt(trimmed, 200)
	return e
}

// fillFromJSON reads the known JSON error shapes into e and reports
// whether the body was one of them.
func fillFromJSON(e *APIError, body []byte) bool {
	var raw map[string]json.RawMessage
	if json.Unmarshal(body, &raw) != nil {
		// Some gateways wrap the error in a one-element array.
		var arr []map[string]json.RawMessage
		if json.Unmarshal(body, &arr) != nil || len(arr) == 0 {
			return false
		}
		raw = arr[0]
	}
	if inner, ok := raw["error"]; ok {
		var s string
		if json.Unmarshal(inner, &s) == nil {
			e.Message = s
			return true
		}
		var obj struct {
			Message  string          `json:"message"`
			Type     string          `json:"type"`
			Code     json.RawMessage `json:"code"`
			Status   json.RawMessage `json:"status"`
			Metadata struct {
				Raw string `json:"raw"`
			} `json:"metadata"`
		}
		if json.Unmarshal(inner, &obj) != nil {
			return false
		}
		e.Message = obj.Message
		e.Type = obj.Type
		code := rawScalar(obj.Code)
		statusWord := rawScalar(obj.Status)
		if n, err := parseInt(code); err == nil && n >= 100 && n < 600 {
			// Gemini and OpenRouter put the HTTP status in code and the
			// word (RESOURCE_EXHAUSTED) in status.
			if e.Status == 0 {
				e.Status = n
			}
			e.Code = statusWord
		} else {
			e.Code = code
			if e.Code == "" {
				e.Code = statusWord
			}
		}
		if e.Message == "" {
			e.Message = obj.Metadata.Raw
		}
		if e.Title == "" && e.Status > 0 {
			e.Title = http.StatusText(e.Status)
		}
		return true
	}
	var p struct {
		Type    string          `json:"type"`
		Title   string          `json:"title"`
		Status  json.RawMessage `json:"status"`
		Detail  string          `json:"detail"`
		Message string          `json:"message"`
		Code    json.RawMessage `json:"code"`
	}
	if json.Unmarshal(body, &p) != nil {
		return false
	}
	if p.Title == "" && p.Detail == "" && p.Message == "" {
		return false
	}
	if p.Title != "" {
		e.Title = p.Title
	}
	e.Type = p.Type
	e.Message = p.Detail
	if e.Message == "" {
		e.Message = p.Message
	}
	e.Code = rawScalar(p.Code)
	if n, err := parseInt(rawScalar(p.Status)); err == nil && e.Status == 0 {
		e.Status = n
	}
	return true
}

func rawScalar(r json.RawMessage) string {
	if len(r) == 0 || string(r) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(r, &s) == nil {
		return s
	}
	return strings.TrimSpace(string(r))
}

func parseInt(s string) (int, error) {
	var n int
	_, err := fmt.Sscanf(s, "%d", &n)
	if err == nil && fmt.Sprint(n) != s {
		return 0, fmt.Errorf("not an integer: %q", s)
	}
	return n, err
}

// excerpt shortens a non-JSON body to a readable line: tags stripped,
// whitespace folded, at most max runes.
func excerpt(s string, max int) string {
	var b strings.Builder
	inTag := false
	for _, r := range s {
		switch {
		case r == '<':
			inTag = true
			b.WriteByte(' ')
		case r == '>' && inTag:
			inTag = false
		case !inTag:
			b.WriteRune(r)
		}
	}
	out := strings.Join(strings.Fields(b.String()), " ")
	if utf8.RuneCountInString(out) > max {
		r := []rune(out)
		out = string(r[:max]) + "…"
	}
	return out
}

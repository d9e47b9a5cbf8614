package provider

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/fixtures"
)

func TestParseErrorBody(t *testing.T) {
	tests := []struct {
		name                         string
		status                       int
		body                         string
		wantStatus                   int
		wantCode, wantTitle, wantMsg string
	}{
		{"openai", 401, `{"error":{"message":"Invalid API key","type":"authentication_error","code":"invalid_api_key"}}`,
			401, "invalid_api_key", "Unauthorized", "Invalid API key"},
		{"rfc 7807", 429, `{"type":"about:blank","title":"Too Many Requests","status":429,"detail":"Slow down."}`,
			429, "", "Too Many Requests", "Slow down."},
		{"gemini", 429, `{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}`,
			429, "RESOURCE_EXHAUSTED", "Too Many Requests", "Quota exceeded"},
		{"html 502", 502, "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
			502, "", "Bad Gateway", "502 Bad Gateway 502 Bad Gateway nginx"},
		{"plain text", 500, "upstream exploded\n", 500, "", "Internal Server Error", "upstream exploded"},
		{"empty", 503, "", 503, "", "Service Unavailable", ""},
		{"bare message", 400, `{"message":"model is required"}`, 400, "", "Bad Request", "model is required"},
		{"string error", 400, `{"error":"bad things"}`, 400, "", "Bad Request", "bad things"},
		{"array-wrapped gemini", 400, `[{"error":{"code":400,"message":"API key not valid","status":"INVALID_ARGUMENT"}}]`,
			400, "INVALID_ARGUMENT", "Bad Request", "API key not valid"},
		{"in-stream openrouter", 0, `{"error":{"code":400,"message":"Token limit reached"}}`,
			400, "", "Bad Request", "Token limit reached"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ParseErrorBody(tt.status, []byte(tt.body))
			if e.Status != tt.wantStatus || e.Code != tt.wantCode || e.Title != tt.wantTitle || e.Message != tt.wantMsg {
				t.Errorf("got status=%d code=%q title=%q msg=%q", e.Status, e.Code, e.Title, e.Message)
			}
			if s := e.Error(); s == "" || strings.Contains(s, "\n") {
				t.Errorf("Error() = %q: want one non-empty line", s)
			}
		})
	}
}

func TestErrorLongHTMLExcerpt(t *testing.T) {
	body := "<html><body>" + strings.Repeat("<p>filler text </p>", 500) + "</body></html>"
	e := ParseErrorBody(502, []byte(body))
	if n := len([]rune(e.Message)); n > 201 {
		t.Errorf("excerpt has %d runes", n)
	}
	if strings.Contains(e.Message, "<") {
		t.Errorf("tags left in %q", e.Message)
	}
}

func TestRedact(t *testing.T) {
	e := ParseErrorBody(401, []byte(`{"error":{"message":"Incorrect API key provided: sk-secret-123456. Check it.","code":"invalid_api_key"}}`))
	e.Redact("sk-secret-123456")
	if strings.Contains(e.Error(), "sk-secret") {
		t.Fatalf("key left in %q", e.Error())
	}
	if !strings.Contains(e.Error(), "[redacted]") {
		t.Fatalf("no redaction marker in %q", e.Error())
	}
}

func TestRecordedErrorBodies(t *testing.T) {
	dir := fixtures.Dir(t, "headers")
	body, err := os.ReadFile(filepath.Join(dir, "gemini-429-resource-exhausted.body.json"))
	if err != nil {
		t.Fatal(err)
	}
	e := ParseErrorBody(429, body)
	if e.Code != "RESOURCE_EXHAUSTED" || e.Message == "" {
		t.Errorf("gemini 429: %+v", e)
	}
	body, err = os.ReadFile(filepath.Join(dir, "openrouter-429-free-models-per-min.body.json"))
	if err != nil {
		t.Fatal(err)
	}
	e = ParseErrorBody(429, body)
	if e.Status != 429 || !strings.Contains(strings.ToLower(e.Message), "rate limit") {
		t.Errorf("openrouter 429: %+v", e)
	}
}

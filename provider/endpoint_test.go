package provider

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestInbandError(t *testing.T) {
	tests := []struct {
		in        string
		status    int
		code, msg string
		none      bool
	}{
		{in: `{"error":{"message":"Tool call validation failed","type":"invalid_request_error","code":"tool_use_failed","status_code":400}}`,
			status: 400, code: "tool_use_failed", msg: "Tool call validation failed"},
		{in: `{"id":"x","choices":[],"error":{"code":400,"message":"Token limit reached"}}`, status: 400, msg: "Token limit reached"},
		{in: "{\n  \"error\": {\n    \"code\": 499,\n    \"message\": \"The operation was cancelled.\",\n    \"status\": \"CANCELLED\"\n  }\n}",
			status: 499, code: "CANCELLED", msg: "The operation was cancelled."},
		{in: `{"type":"about:blank","title":"Too Many Requests","status":429,"detail":"Slow down"}`, status: 429, msg: "Slow down"},
		{in: `{"choices":[{"delta":{"content":"hi"}}]}`, none: true},
		{in: `{"error":null}`, none: true},
		{in: `not json`, none: true},
	}
	for _, tt := range tests {
		ae := InbandError([]byte(tt.in))
		if tt.none {
			if ae != nil {
				t.Errorf("%s: got %+v, want nil", tt.in, ae)
			}
			continue
		}
		if ae == nil || ae.Kind != KindStream || ae.Status != tt.status || ae.Code != tt.code || ae.Message != tt.msg || ae.Title == "" {
			t.Errorf("%s: got %+v", tt.in, ae)
		}
	}
}

func TestExcerptKeepsRunes(t *testing.T) {
	s := Excerpt([]byte(strings.Repeat("é", 100)))
	if !utf8.ValidString(s) || !strings.HasSuffix(s, "…") || len(s) > 124 {
		t.Fatalf("excerpt %q", s)
	}
}

func TestEndpoint(t *testing.T) {
	if _, err := NewEndpoint("x", "ftp://host/v1", "", "Authorization", "Bearer "); err == nil {
		t.Error("ftp base URL accepted")
	}
	ep, err := NewEndpoint("gemini", "http://127.0.0.1:9/v1beta/", "k123", "x-goog-api-key", "")
	if err != nil {
		t.Fatal(err)
	}
	req, err := ep.Request(context.Background(), http.MethodPost, "/models/m:streamGenerateContent?alt=sse", []byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	if req.URL.String() != "http://127.0.0.1:9/v1beta/models/m:streamGenerateContent?alt=sse" ||
		req.Header.Get("x-goog-api-key") != "k123" || req.Header.Get("Authorization") != "" ||
		strings.Contains(req.URL.String(), "k123") || req.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request %s %v", req.URL, req.Header)
	}
}

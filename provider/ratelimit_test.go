package provider

import (
	"bufio"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/fixtures"
)

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func TestParseRateLimits(t *testing.T) {
	now := time.Date(2026, 11, 21, 21, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		h    http.Header
		want []RateLimit
	}{
		{"seed auto-queue gateway (unix seconds)",
			header("X-RateLimit-Limit", "20", "X-RateLimit-Remaining", "7", "X-RateLimit-Reset", "1795294800"),
			[]RateLimit{{Scope: "requests", Limit: 20, Remaining: 7, Reset: time.Unix(1795294800, 0)}}},
		{"seed image gateway (-Requests, epoch)",
			header("X-RateLimit-Limit-Requests", "60", "X-RateLimit-Remaining-Requests", "59", "X-RateLimit-Reset-Requests", "1795294830"),
			[]RateLimit{{Scope: "requests", Limit: 60, Remaining: 59, Reset: time.Unix(1795294830, 0)}}},
		{"openai durations",
			header("x-ratelimit-limit-requests", "30000", "x-ratelimit-remaining-requests", "29999",
				"x-ratelimit-reset-requests", "2ms", "x-ratelimit-limit-tokens", "150000000",
				"x-ratelimit-remaining-tokens", "149999", "x-ratelimit-reset-tokens", "6m0s"),
			[]RateLimit{
				{Scope: "requests", Limit: 30000, Remaining: 29999, Reset: now.Add(2 * time.Millisecond)},
				{Scope: "tokens", Limit: 150000000, Remaining: 149999, Reset: now.Add(6 * time.Minute)},
			}},
		{"groq fractional duration",
			header("x-ratelimit-limit-requests", "14400", "x-ratelimit-remaining-requests", "14370", "x-ratelimit-reset-requests", "2m59.56s"),
			[]RateLimit{{Scope: "requests", Limit: 14400, Remaining: 14370, Reset: now.Add(2*time.Minute + 59560*time.Millisecond)}}},
		{"epoch milliseconds",
			header("X-RateLimit-Limit", "20", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "1765661160000"),
			[]RateLimit{{Scope: "requests", Limit: 20, Remaining: 0, Reset: time.UnixMilli(1765661160000)}}},
		{"anthropic rfc3339",
			header("anthropic-ratelimit-requests-limit", "50", "anthropic-ratelimit-requests-remaining", "49",
				"anthropic-ratelimit-requests-reset", "2026-11-21T21:00:05Z"),
			[]RateLimit{{Scope: "requests", Limit: 50, Remaining: 49, Reset: now.Add(5 * time.Second)}}},
		{"remaining only", header("X-RateLimit-Remaining", "3"),
			[]RateLimit{{Scope: "requests", Limit: -1, Remaining: 3}}},
		{"garbage ignored", header("X-RateLimit-Limit", "lots", "X-RateLimit-Remaining", "some"), nil},
		{"none", header("Content-Type", "text/event-stream"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseRateLimits(tt.h, now)
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i].Scope != tt.want[i].Scope || got[i].Limit != tt.want[i].Limit ||
					got[i].Remaining != tt.want[i].Remaining || !got[i].Reset.Equal(tt.want[i].Reset) {
					t.Errorf("scope %d: got %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 21, 21, 0, 0, 0, time.UTC)
	tests := []struct {
		h    http.Header
		want time.Duration
		ok   bool
	}{
		{header("Retry-After", "1"), time.Second, true},
		{header("Retry-After", "2.5"), 2500 * time.Millisecond, true},
		{header("Retry-After", now.Add(30*time.Second).Format(http.TimeFormat)), 30 * time.Second, true},
		{header("Retry-After", now.Add(-time.Hour).Format(http.TimeFormat)), 0, true},
		{header("retry-after-ms", "250", "Retry-After", "9"), 250 * time.Millisecond, true},
		{header("Retry-After", "soon"), 0, false},
		{header(), 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseRetryAfter(tt.h, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%v: got %v %v, want %v %v", tt.h, got, ok, tt.want, tt.ok)
		}
	}
}

// TestRecordedRateLimitHeaders reads the real header captures.
func TestRecordedRateLimitHeaders(t *testing.T) {
	dir := fixtures.Dir(t, "headers")
	now := time.Now()
	want := map[string][]string{
		"openai-chat-completions-stream-200.headers.txt":             {"requests", "tokens"},
		"openai-rate-limit-headers.docs-sample.headers.txt":          {"requests", "tokens"},
		"groq-rate-limit-headers.docs-sample.headers.txt":            {"requests", "tokens"},
		"anthropic-messages-stream-200.headers.txt":                  {"input-tokens", "output-tokens", "requests", "tokens"},
		"openai-responses-stream-200.headers.txt":                    {"requests", "tokens"},
		"anthropic-messages-stream-200-with-retry-after.headers.txt": {"input-tokens", "output-tokens", "requests", "tokens"},
	}
	for name, scopes := range want {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(f)
		first, _ := r.Peek(5)
		if string(first) == "HTTP/" {
			_, _ = r.ReadString('\n')
		}
		mh, err := textproto.NewReader(r).ReadMIMEHeader()
		f.Close()
		if err != nil && len(mh) == 0 {
			t.Fatalf("%s: %v", name, err)
		}
		got := ParseRateLimits(http.Header(mh), now)
		var gotScopes []string
		for _, rl := range got {
			gotScopes = append(gotScopes, rl.Scope)
			if rl.Limit <= 0 || rl.Remaining < 0 || rl.Reset.IsZero() {
				t.Errorf("%s: incomplete %+v", name, rl)
			}
		}
		if strings.Join(gotScopes, ",") != strings.Join(scopes, ",") {
			t.Errorf("%s: scopes %v, want %v", name, gotScopes, scopes)
		}
	}
}

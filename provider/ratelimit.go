package provider

import (
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// rateLimitFamily is one naming scheme for rate-limit headers: the header
// names for limit, remaining and reset of a scope.
type rateLimitFamily struct {
	scope                   string
	limit, remaining, reset string
}

// rateLimitFamilies lists every header scheme Parley reads, most specific
// first. Header names are case-insensitive, so the seed gateway's
// X-RateLimit-Reset-Requests and OpenAI's x-ratelimit-reset-requests are the
// same header: the value's form (epoch number, duration, timestamp)
// decides how it is read.
var rateLimitFamilies = []rateLimitFamily{
	{"requests", "X-Ratelimit-Limit-Requests", "X-Ratelimit-Remaining-Requests", "X-Ratelimit-Reset-Requests"},
	{"tokens", "X-Ratelimit-Limit-Tokens", "X-Ratelimit-Remaining-Tokens", "X-Ratelimit-Reset-Tokens"},
	{"requests", "X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset"},
	{"requests", "Ratelimit-Limit", "Ratelimit-Remaining", "Ratelimit-Reset"},
	{"requests", "Anthropic-Ratelimit-Requests-Limit", "Anthropic-Ratelimit-Requests-Remaining", "Anthropic-Ratelimit-Requests-Reset"},
	{"tokens", "Anthropic-Ratelimit-Tokens-Limit", "Anthropic-Ratelimit-Tokens-Remaining", "Anthropic-Ratelimit-Tokens-Reset"},
	{"input-tokens", "Anthropic-Ratelimit-Input-Tokens-Limit", "Anthropic-Ratelimit-Input-Tokens-Remaining", "Anthropic-Ratelimit-Input-Tokens-Reset"},
	{"output-tokens", "Anthropic-Ratelimit-Output-Tokens-Limit", "Anthropic-Ratelimit-Output-Tokens-Remaining", "Anthropic-Ratelimit-Output-Tokens-Reset"},
}

// ParseRateLimits reads every rate-limit scope present in h. now anchors
// resets given as durations ("6m0s", "2ms") or as seconds from now. A
// scope appears once; when two schemes name the same scope, the first in
// rateLimitFamilies wins. The result is sorted by scope.
func ParseRateLimits(h http.Header, now time.Time) []RateLimit {
	var out []RateLimit
	seen := map[string]bool{}
	for _, f := range rateLimitFamilies {
		if seen[f.scope] {
			continue
		}
		ls, rs, ts := h.Get(f.limit), h.Get(f.remaining), h.Get(f.reset)
		if ls == "" && rs == "" {
			continue
		}
		rl := RateLimit{Scope: f.scope, Limit: parseCount(ls), Remaining: parseCount(rs)}
		if ts != "" {
			rl.Reset = parseReset(ts, now)
		}
		if rl.Limit < 0 && rl.Remaining < 0 {
			continue
		}
		seen[f.scope] = true
		out = append(out, rl)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Scope < out[j].Scope })
	return out
}

func parseCount(s string) int {
	s = strings.TrimSpace(s)
	if s == "" {
		return -1
	}
	// IETF drafts allow "100;w=60": the first item is the count.
	if i := strings.IndexAny(s, ";,"); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f < 0 {
			return -1
		}
		return int(f)
	}
	if n < 0 {
		return -1
	}
	return int(n)
}

// parseReset reads a reset header value in any of the forms gateways use:
// Unix seconds (seed gateways), Unix milliseconds (OpenRouter), a Go-style
// duration ("6m0s", "2ms", "7.66s": OpenAI, Groq), plain seconds from now
// (IETF RateLimit-Reset), or an RFC 3339 timestamp (Anthropic).
func parseReset(s string, now time.Time) time.Time {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) && f >= 0 {
		switch {
		case f >= 1e12: // epoch milliseconds
			return time.UnixMilli(int64(f))
		case f >= 1e9: // epoch seconds
			sec, frac := math.Modf(f)
			return time.Unix(int64(sec), int64(frac*1e9))
		default: // seconds from now
			return now.Add(time.Duration(f * float64(time.Second)))
		}
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(d)
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t
	}
	if t, err := http.ParseTime(s); err == nil {
		return t
	}
	return time.Time{}
}

// ParseRetryAfter reads retry-after-ms (milliseconds) or Retry-After
// (seconds, possibly fractional, or an HTTP date). It reports false when
// neither is present or readable. A date in the past means zero.
func ParseRetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f < 1e10 {
			return time.Duration(f * float64(time.Millisecond)), true
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f < 1e7 {
		return time.Duration(f * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d, true
		}
		return 0, true
	}
	return 0, false
}

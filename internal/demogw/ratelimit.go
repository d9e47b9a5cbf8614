package demogw

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// window is the 60-second budget of one (API key, model) bucket.
type window struct {
	end  time.Time
	used int
}

// verdict is the limiter's answer for one request.
type verdict struct {
	// allowed is true when the request may proceed; otherwise retryAfter
	// says how long the client should wait before sending it again.
	allowed bool
	// queued is true when the refusal is the simulated queue wait rather
	// than an exhausted window.
	queued     bool
	limit      int
	remaining  int
	reset      time.Time
	retryAfter time.Duration
}

// limiter implements the gateway's per-key-per-model fixed-window limit and
// the simulated auto-queue. It is safe for concurrent use.
type limiter struct {
	limit      int
	period     time.Duration
	queueEvery int // <= 0: no simulated queueing
	queueWait  time.Duration

	mu      sync.Mutex
	windows map[string]*window
	// counted is the number of chat requests counted towards queueEvery.
	counted int
	// tickets lets the retry of a queued request through, per bucket.
	tickets map[string]int
}

func newLimiter(limit, queueEvery int, queueWait time.Duration) *limiter {
	return &limiter{
		limit:      limit,
		period:     time.Minute,
		queueEvery: queueEvery,
		queueWait:  queueWait,
		windows:    make(map[string]*window),
		tickets:    make(map[string]int),
	}
}

// bucketKey identifies a (key, model) bucket. The API key is hashed so the
// gateway never keeps the secret itself.
func bucketKey(apiKey, model string) string {
	sum := sha256.Sum256([]byte(apiKey))
	return hex.EncodeToString(sum[:8]) + "\x00" + model
}

// admit decides whether a request of bucket (apiKey, model) at now may
// proceed and, if so, spends one request of its window. When queueable is
// true the request also takes part in the simulated queue: every
// queueEvery-th such request is refused once with the queue wait, and the
// next request of the same bucket (the client's retry) is let through
// without being counted again. Refused requests spend nothing.
func (l *limiter) admit(apiKey, model string, now time.Time, queueable bool) verdict {
	b := bucketKey(apiKey, model)
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.windows[b]
	if w == nil || !now.Before(w.end) {
		l.prune(now)
		w = &window{end: now.Add(l.period)}
		l.windows[b] = w
	}
	v := verdict{limit: l.limit, reset: w.end}
	if w.used >= l.limit {
		v.retryAfter = w.end.Sub(now)
		return v
	}
	if queueable && l.queueEvery > 0 {
		if l.tickets[b] > 0 {
			l.tickets[b]--
			if l.tickets[b] == 0 {
				delete(l.tickets, b)
			}
		} else {
			l.counted++
			if l.counted%l.queueEvery == 0 {
				l.tickets[b]++
				v.queued = true
				v.remaining = l.limit - w.used
				v.retryAfter = l.queueWait
				return v
			}
		}
	}
	w.used++
	v.allowed = true
	v.remaining = l.limit - w.used
	return v
}

// peek reports the bucket's state without spending anything; it is what
// error responses carry in their headers.
func (l *limiter) peek(apiKey, model string, now time.Time) verdict {
	b := bucketKey(apiKey, model)
	l.mu.Lock()
	defer l.mu.Unlock()
	v := verdict{limit: l.limit, remaining: l.limit, reset: now.Add(l.period)}
	if w := l.windows[b]; w != nil && now.Before(w.end) {
		v.remaining = l.limit - w.used
		v.reset = w.end
	}
	return v
}

// prune drops expired windows once the map has grown, so a long-running
// demo that sees many keys does not grow without bound. l.mu is held.
func (l *limiter) prune(now time.Time) {
	if len(l.windows) < 1024 {
		return
	}
	for k, w := range l.windows {
		if !now.Before(w.end) {
			delete(l.windows, k)
		}
	}
}

// setHeaders writes the X-RateLimit-* headers (and Retry-After when the
// request was refused) for v.
func (v verdict) setHeaders(h http.Header) {
	h.Set("X-RateLimit-Limit", strconv.Itoa(v.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(v.remaining, 0)))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(ceilUnix(v.reset), 10))
	if !v.allowed && v.retryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(ceilSeconds(v.retryAfter), 10))
	}
}

// ceilUnix is t in Unix seconds, rounded up so a client never retries
// before the window has really ended.
func ceilUnix(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

// ceilSeconds is d in whole seconds, rounded up, and at least 1.
func ceilSeconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

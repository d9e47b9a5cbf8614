package provider

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recorder collects emitted events; safe for the single emitting goroutine
// plus a reader after Do returns.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) emit(ev Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}

func (r *recorder) retries() []Retry {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Retry
	for _, ev := range r.events {
		if rt, ok := ev.(Retry); ok {
			out = append(out, rt)
		}
	}
	return out
}

// fakeSleep records waits instead of sleeping.
type fakeSleep struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (f *fakeSleep) sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	f.waits = append(f.waits, d)
	f.mu.Unlock()
	return ctx.Err()
}

func get(url string) func(ctx context.Context) (*http.Request, error) {
	return func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader("{}"))
	}
}

func TestTransportRetryPolicy(t *testing.T) {
	tests := []struct {
		name        string
		statuses    []int
		retryAfter  string
		maxRetries  int
		wantPosts   int
		wantErr     bool
		wantStatus  int
		wantQueued  bool
		wantFirstMS int64 // expected first wait when Retry-After is set
	}{
		{"429 then ok", []int{429, 200}, "1", 2, 2, false, 0, true, 1000},
		{"503 exhausts retries", []int{503, 503, 503, 503}, "2", 2, 3, true, 503, false, 2000},
		{"401 never retried", []int{401, 200}, "", 2, 1, true, 401, false, 0},
		{"400 never retried", []int{400, 200}, "", 2, 1, true, 400, false, 0},
		{"403 never retried", []int{403, 200}, "", 2, 1, true, 403, false, 0},
		{"404 never retried", []int{404, 200}, "", 2, 1, true, 404, false, 0},
		{"408 retried", []int{408, 200}, "", 2, 2, false, 0, false, 0},
		{"409 retried", []int{409, 200}, "", 2, 2, false, 0, false, 0},
		{"500 retried", []int{500, 502, 200}, "", 2, 3, false, 0, false, 0},
		{"retries off", []int{500, 200}, "", 0, 1, true, 500, false, 0},
		{"max-retries bounds queue waits too", []int{429, 429, 429, 429, 200}, "3", 1, 2, true, 429, true, 3000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var posts atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := int(posts.Add(1)) - 1
				st := tt.statuses[min(n, len(tt.statuses)-1)]
				w.Header().Set("X-RateLimit-Limit", "20")
				w.Header().Set("X-RateLimit-Remaining", "3")
				if st != 200 && tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(st)
				if st != 200 {
					io.WriteString(w, `{"error":{"message":"server says `+http.StatusText(st)+`","type":"x","code":"c"}}`)
				}
			}))
			defer srv.Close()
			fs := &fakeSleep{}
			tr := NewTransport(Options{MaxRetries: tt.maxRetries, Sleep: fs.sleep})
			rec := &recorder{}
			resp, err := tr.Do(context.Background(), get(srv.URL), rec.emit)
			if got := int(posts.Load()); got != tt.wantPosts {
				t.Errorf("POSTs = %d, want %d", got, tt.wantPosts)
			}
			if tt.wantErr {
				var ae *APIError
				if !errors.As(err, &ae) {
					t.Fatalf("err = %v, want *APIError", err)
				}
				if ae.Status != tt.wantStatus || !strings.Contains(ae.Message, "server says") {
					t.Errorf("error = %+v", ae)
				}
			} else {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				resp.Body.Close()
			}
			retries := rec.retries()
			if len(retries) != tt.wantPosts-1 {
				t.Fatalf("retry events = %d, want %d", len(retries), tt.wantPosts-1)
			}
			for i, rt := range retries {
				if rt.Attempt != i+1 || rt.Message == "" {
					t.Errorf("retry %d = %+v", i, rt)
				}
				if rt.Queued != (rt.Status == 429) {
					t.Errorf("retry %d queued = %v for status %d", i, rt.Queued, rt.Status)
				}
			}
			if len(retries) > 0 && tt.wantQueued && !retries[0].Queued {
				t.Errorf("first retry not marked queued")
			}
			if tt.wantFirstMS > 0 && fs.waits[0] != time.Duration(tt.wantFirstMS)*time.Millisecond {
				t.Errorf("first wait = %v, want %dms (Retry-After)", fs.waits[0], tt.wantFirstMS)
			}
			// Every response carried rate-limit headers: one event each.
			nRL := 0
			for _, ev := range rec.events {
				if _, ok := ev.(RateLimit); ok {
					nRL++
				}
			}
			if nRL != tt.wantPosts {
				t.Errorf("rate-limit events = %d, want %d (one per response)", nRL, tt.wantPosts)
			}
		})
	}
}

func TestBackoffPolicy(t *testing.T) {
	for attempt, base := range []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second} {
		for range 50 {
			d := backoff(attempt)
			if d > base || d < base*3/4 {
				t.Fatalf("attempt %d: %v outside [%v, %v]", attempt, d, base*3/4, base)
			}
		}
	}
}

func TestTransportConnectionErrorRetried(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: connection refused
	fs := &fakeSleep{}
	tr := NewTransport(Options{MaxRetries: 2, Sleep: fs.sleep})
	rec := &recorder{}
	_, err = tr.Do(context.Background(), get("http://"+addr+"/v1/chat/completions"), rec.emit)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Kind != KindNetwork {
		t.Fatalf("err = %v", err)
	}
	if n := len(rec.retries()); n != 2 {
		t.Errorf("retries = %d, want 2", n)
	}
}

func TestTransportRedactsKey(t *testing.T) {
	const key = "sk-test-DO-NOT-LEAK-4242"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(401)
		io.WriteString(w, `{"error":{"message":"Incorrect API key provided: `+r.Header.Get("Authorization")+`","code":"invalid_api_key"}}`)
	}))
	defer srv.Close()
	tr := NewTransport(Options{APIKey: key})
	_, err := tr.Do(context.Background(), func(ctx context.Context) (*http.Request, error) {
		r, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, nil)
		r.Header.Set("Authorization", "Bearer "+key)
		return r, nil
	}, func(Event) {})
	if err == nil || strings.Contains(err.Error(), key) {
		t.Fatalf("err = %v", err)
	}
}

func TestOpenRouterLimitsInBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(429)
		io.WriteString(w, `{"error":{"message":"Rate limit exceeded: free-models-per-min. ","code":429,"metadata":{"headers":{"X-RateLimit-Limit":"20","X-RateLimit-Remaining":"0","X-RateLimit-Reset":"1765680000000"}}}}`)
	}))
	defer srv.Close()
	rec := &recorder{}
	_, err := NewTransport(Options{MaxRetries: 0}).Do(context.Background(), get(srv.URL), rec.emit)
	if err == nil {
		t.Fatal("want error")
	}
	var rl *RateLimit
	for _, ev := range rec.events {
		if r, ok := ev.(RateLimit); ok {
			rl = &r
		}
	}
	if rl == nil || rl.Limit != 20 || rl.Remaining != 0 || !rl.Reset.Equal(time.UnixMilli(1765680000000)) {
		t.Fatalf("rate limit from body = %+v", rl)
	}
}

func TestIdleTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	tr := NewTransport(Options{IdleTimeout: 200 * time.Millisecond})
	resp, err := tr.Do(context.Background(), get(srv.URL), func(Event) {})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	d := NewSSEDecoder(resp.Body, 0)
	ev, err := d.Next()
	if err != nil || ev.Data != "first" {
		t.Fatalf("first event: %+v %v", ev, err)
	}
	start := time.Now()
	_, err = d.Next()
	if !errors.Is(err, ErrIdleTimeout) {
		t.Fatalf("err = %v, want ErrIdleTimeout", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("idle timeout took %v", el)
	}
	ae := tr.StreamError(context.Background(), err, true)
	if ae.Kind != KindTimeout || !ae.Partial {
		t.Errorf("stream error = %+v", ae)
	}
}

func TestCancelDuringRetryWait(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(429)
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	tr := NewTransport(Options{MaxRetries: 2})
	done := make(chan error, 1)
	go func() {
		_, err := tr.Do(ctx, get(srv.URL), func(ev Event) {
			if _, ok := ev.(Retry); ok {
				cancel()
			}
		})
		done <- err
	}()
	select {
	case err := <-done:
		var ae *APIError
		if !errors.As(err, &ae) || ae.Kind != KindCanceled {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancel did not interrupt the retry wait")
	}
}

// TestIdleClockOnlyWhileWaiting: a consumer that comes back late for more
// (a pager, an editor opened mid-answer) must not be taken for a silent
// gateway when the data was there all along.
func TestIdleClockOnlyWhileWaiting(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 3 {
			io.WriteString(w, "data: part"+string(rune('0'+i))+"\n\n")
		}
	}))
	defer srv.Close()
	tr := NewTransport(Options{IdleTimeout: 100 * time.Millisecond})
	resp, err := tr.Do(context.Background(), get(srv.URL), func(Event) {})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 8) // small reads: the rest stays in the socket
	if _, err := resp.Body.Read(buf); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond) // the consumer is busy elsewhere
	rest, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("a slow consumer was reported as a stall: %v", err)
	}
	if !strings.Contains(string(rest), "part2") {
		t.Fatalf("data lost: %q", rest)
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	var hits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
	}))
	defer target.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/v1/chat/completions", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	tr := NewTransport(Options{APIKey: "sk-redirect-secret", MaxRetries: 2})
	_, err := tr.Do(context.Background(), func(ctx context.Context) (*http.Request, error) {
		r, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader("{}"))
		r.Header.Set("x-goog-api-key", "sk-redirect-secret")
		return r, nil
	}, func(Event) {})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusTemporaryRedirect || !strings.Contains(ae.Message, target.URL) {
		t.Fatalf("err = %v", err)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the redirect was followed %d times, taking the key along", n)
	}
}

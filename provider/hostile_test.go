package provider

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestHeaderTimeout: a gateway that takes the request and never answers
// ends each attempt after the header timeout, with an error that says so,
// and the attempts are retried; an answer that begins in time is not cut
// by it however long its body takes.
func TestHeaderTimeout(t *testing.T) {
	var hits atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) <= 2 {
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		time.Sleep(300 * time.Millisecond) // longer than the header timeout
		io.WriteString(w, "data: ok\n\n")
	}))
	defer srv.Close()
	defer close(release)
	fs := &fakeSleep{}
	tr := NewTransport(Options{MaxRetries: 1, HeaderTimeout: 100 * time.Millisecond, Sleep: fs.sleep})
	if tr.HeaderTimeout() != 100*time.Millisecond || NewTransport(Options{}).HeaderTimeout() != DefaultHeaderTimeout {
		t.Fatal("HeaderTimeout is not the option, or its default")
	}
	rec := &recorder{}
	_, err := tr.Do(context.Background(), get(srv.URL), rec.emit)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Kind != KindTimeout || !strings.Contains(ae.Message, "did not begin to answer within 100ms") {
		t.Fatalf("err = %v", err)
	}
	if hits.Load() != 2 || len(rec.retries()) != 1 {
		t.Fatalf("%d attempts, %d retries", hits.Load(), len(rec.retries()))
	}
	resp, err := tr.Do(context.Background(), get(srv.URL), rec.emit)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(body) != "data: ok\n\n" {
		t.Fatalf("body %q, %v: the header timeout cut an answer that had begun", body, err)
	}
}

// TestPermanentConnectionErrors: an unknown host and an untrusted or
// mismatched certificate are not retried, and say what is wrong.
func TestPermanentConnectionErrors(t *testing.T) {
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer tlsSrv.Close()
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer plain.Close()
	noHost := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nil, &net.DNSError{Err: "no such host", Name: "gateway.example", IsNotFound: true}
	}}}
	tests := []struct {
		name, url string
		client    *http.Client
		want      string
	}{
		{"self-signed certificate", tlsSrv.URL, nil, "not signed by an authority"},
		{"unknown host", "http://gateway.example/v1", noHost, "no such host: gateway.example"},
		{"https to a plain http server", strings.Replace(plain.URL, "http:", "https:", 1), nil, "does not speak TLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := &fakeSleep{}
			tr := NewTransport(Options{MaxRetries: 2, Sleep: fs.sleep, HTTPClient: tt.client})
			rec := &recorder{}
			_, err := tr.Do(context.Background(), get(tt.url), rec.emit)
			var ae *APIError
			if !errors.As(err, &ae) || ae.Kind != KindNetwork || !strings.Contains(ae.Message, tt.want) {
				t.Fatalf("err = %v", err)
			}
			if n := len(rec.retries()); n != 0 {
				t.Errorf("retried %d times", n)
			}
		})
	}
}

// TestRedirectWithoutLocation: a 304 or a 3xx without Location says what
// happened instead of "redirects to ;".
func TestRedirectWithoutLocation(t *testing.T) {
	for status, want := range map[int]string{
		http.StatusNotModified: "304 Not Modified, which is no answer",
		http.StatusFound:       "302 without saying where to go",
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) }))
		_, err := NewTransport(Options{}).Do(context.Background(), get(srv.URL), func(Event) {})
		srv.Close()
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "redirects to ;") {
			t.Errorf("%d: %v", status, err)
		}
	}
}

// TestCallersClientDoesNotFollowRedirects: a caller's own HTTP client is
// stopped at redirects as the shared one is: following one would take the
// key along.
func TestCallersClientDoesNotFollowRedirects(t *testing.T) {
	var hits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer target.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	tr := NewTransport(Options{HTTPClient: &http.Client{}})
	if _, err := tr.Do(context.Background(), get(srv.URL), func(Event) {}); err == nil || hits.Load() != 0 {
		t.Fatalf("err %v, %d requests reached the redirect target", err, hits.Load())
	}
}

// TestReadAnswerHTML: a 200 HTML page where the stream should be says it
// is HTML and quotes it, whatever its content type says.
func TestReadAnswerHTML(t *testing.T) {
	page := "<!DOCTYPE html><html><head><title>Sign in</title></head><body><h1>Please sign in to the proxy</h1></body></html>"
	for _, ct := range []string{"text/html; charset=utf-8", "text/event-stream", ""} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ct)
			io.WriteString(w, "\n"+page)
		}))
		tr := NewTransport(Options{})
		resp, err := tr.Do(context.Background(), get(srv.URL), func(Event) {})
		if err != nil {
			t.Fatal(err)
		}
		var got *APIError
		ran := false
		tr.ReadAnswer(context.Background(), func(ev Event) {
			if e, ok := ev.(Error); ok {
				got = e.Err
			}
		}, resp, func(io.Reader) *APIError { ran = true; return nil },
			func([]byte) *APIError { ran = true; return nil }, func(ae *APIError) *APIError { return ae })
		resp.Body.Close()
		srv.Close()
		if ran || got == nil || !strings.Contains(got.Error(), "HTML page") || !strings.Contains(got.Error(), "Please sign in to the proxy") {
			t.Errorf("content type %q: decoder ran %v, error %v", ct, ran, got)
		}
	}
}

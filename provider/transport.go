package provider

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Retry policy, as in the official OpenAI SDKs: exponential backoff from
// 0.5 s, capped at 8 s, with up to 25% jitter subtracted.
const (
	initialBackoff = 500 * time.Millisecond
	maxBackoff     = 8 * time.Second
	// queueTimeout is how long an auto-queueing gateway may hold a request
	// before it answers (the seed gateway's documented maximum).
	queueTimeout = 2 * time.Minute
	// maxRetryAfter caps a Retry-After a gateway asks for.
	maxRetryAfter = 5 * time.Minute
	// DefaultIdleTimeout is the longest silence tolerated mid-stream.
	DefaultIdleTimeout = 60 * time.Second
	// DefaultHeaderTimeout bounds the wait for response headers. An
	// auto-queueing gateway may hold a request for up to two minutes
	// before it answers.
	DefaultHeaderTimeout = queueTimeout + 30*time.Second
)

// errHeaderTimeout ends an attempt whose response headers did not come in
// time.
var errHeaderTimeout = errors.New("no response headers in time")

// ErrIdleTimeout is returned by a response body that stayed silent for
// longer than the idle timeout.
var ErrIdleTimeout = errors.New("stream idle timeout")

// Transport is the one place where Parley talks HTTP to a gateway: it
// sends a request, reads rate-limit headers from every response, retries
// what is worth retrying, turns error responses into *APIError, and guards
// streaming bodies with an idle timeout. Every dialect uses it.
// A Transport is safe for concurrent use.
type Transport struct {
	client        *http.Client
	maxRetries    int
	idleTimeout   time.Duration
	headerTimeout time.Duration
	secret        string
	redactor      *Redactor // nil for a key too short to redact
	headers       map[string]string
	now           func() time.Time
	sleep         func(ctx context.Context, d time.Duration) error
}

var (
	defaultClientOnce sync.Once
	defaultClient     *http.Client
)

// sharedClient is an HTTP client with connection-level timeouts only: the
// overall duration of a streamed answer is unbounded, silence is bounded
// by the idle timeout instead, and the wait for headers by each
// Transport's header timeout.
func sharedClient() *http.Client {
	defaultClientOnce.Do(func() {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DialContext = (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext
		tr.TLSHandshakeTimeout = 15 * time.Second
		defaultClient = &http.Client{Transport: tr, CheckRedirect: noRedirects}
	})
	return defaultClient
}

// noRedirects stops the client at a redirect: following one would send
// the key to wherever the gateway points (Go drops Authorization across
// hosts but not x-goog-api-key, nor across an https→http downgrade). Do
// reports the redirect with its target instead.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// NewTransport builds a Transport from a dialect's options.
func NewTransport(o Options) *Transport {
	t := &Transport{
		client:        o.HTTPClient,
		maxRetries:    o.MaxRetries,
		idleTimeout:   o.IdleTimeout,
		headerTimeout: o.HeaderTimeout,
		secret:        o.APIKey,
		redactor:      NewRedactor(o.APIKey),
		headers:       o.Headers,
		now:           o.Now,
		sleep:         o.Sleep,
	}
	if t.client == nil {
		t.client = sharedClient()
	} else if t.client.CheckRedirect == nil {
		// A client of the caller's own must not follow redirects either.
		c := *t.client
		c.CheckRedirect = noRedirects
		t.client = &c
	}
	if t.headerTimeout <= 0 {
		t.headerTimeout = DefaultHeaderTimeout
	}
	if t.maxRetries < 0 {
		t.maxRetries = 0
	}
	if t.idleTimeout <= 0 {
		t.idleTimeout = DefaultIdleTimeout
	}
	if t.now == nil {
		t.now = time.Now
	}
	if t.sleep == nil {
		t.sleep = Sleep
	}
	return t
}

// Sleep waits for d, or until ctx is done (then it returns ctx's error).
// A d of zero or less returns at once.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// Secret returns the API key the transport redacts from errors.
func (t *Transport) Secret() string { return t.secret }

// Now returns the transport's clock reading.
func (t *Transport) Now() time.Time { return t.now() }

// Do sends the request that build makes, once per attempt (so a body can
// be sent again and a header such as Idempotency-Key can be kept the same
// across retries). For every response, success or error, it emits the
// rate-limit scopes found in the headers. It retries connection errors
// before the first byte (not those that another attempt cannot mend: an
// unknown host, an untrusted certificate), an attempt whose response
// headers did not come within the header timeout, and 408, 409, 429 and
// 5xx answers, waiting as Retry-After / retry-after-ms say or with
// jittered exponential backoff, and emits a Retry event before each wait.
// It never retries 400, 401, 403 or 404.
//
// On success it returns the 2xx response; its body is guarded by the idle
// timeout and the caller must close it. Otherwise it returns an *APIError
// (redacted of the key).
func (t *Transport) Do(ctx context.Context, build func(ctx context.Context) (*http.Request, error), emit func(Event)) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, t.canceled(err)
		}
		// The attempt's own context ends it when no headers come in time;
		// once they have come, it lives until the body is closed.
		actx, cancel := context.WithCancelCause(ctx)
		req, err := build(actx)
		if err != nil {
			cancel(nil)
			return nil, &APIError{Kind: KindNetwork, Title: "bad request", Message: t.redact(err.Error()), Cause: err}
		}
		for k, v := range t.headers {
			if req.Header.Get(k) == "" {
				req.Header.Set(k, v)
			}
		}
		if req.Header.Get("User-Agent") == "" {
			req.Header.Set("User-Agent", "parley")
		}
		timer := time.AfterFunc(t.headerTimeout, func() { cancel(errHeaderTimeout) })
		resp, err := t.client.Do(req)
		timer.Stop()
		if err != nil {
			cancel(nil)
			if ctx.Err() != nil {
				return nil, t.canceled(ctx.Err())
			}
			ae := t.connectError(err, context.Cause(actx) == errHeaderTimeout)
			if attempt >= t.maxRetries || permanent(err) {
				return nil, ae
			}
			wait := backoff(attempt)
			emit(Retry{Attempt: attempt + 1, Max: t.maxRetries, Wait: wait, Message: ae.Message})
			if err := t.sleep(ctx, wait); err != nil {
				return nil, t.canceled(err)
			}
			continue
		}
		resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
		now := t.now()
		for _, rl := range ParseRateLimits(resp.Header, now) {
			emit(rl)
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			resp.Body = newIdleBody(resp.Body, t.idleTimeout)
			return resp, nil
		}
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			resp.Body.Close()
			return nil, &APIError{Kind: KindHTTP, Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode),
				Message: t.redact(redirectMessage(resp))}
		}
		ae, body := t.readError(resp, now)
		// OpenRouter reports its limits inside the 429 body instead.
		if resp.StatusCode == http.StatusTooManyRequests && len(ParseRateLimits(resp.Header, now)) == 0 {
			for _, rl := range ParseRateLimits(embeddedHeaders(body), now) {
				emit(rl)
			}
		}
		if !retryable(resp.StatusCode) {
			return nil, ae
		}
		if attempt >= t.maxRetries {
			return nil, ae
		}
		wait := backoff(attempt)
		if ae.RetryAfter > 0 {
			wait = min(ae.RetryAfter, maxRetryAfter)
		}
		emit(Retry{Attempt: attempt + 1, Max: t.maxRetries, Status: resp.StatusCode, Wait: wait,
			Queued: resp.StatusCode == http.StatusTooManyRequests, Message: ae.Message})
		if err := t.sleep(ctx, wait); err != nil {
			return nil, t.canceled(err)
		}
	}
}

// HeaderTimeout returns how long an attempt waits for the gateway's answer
// to begin.
func (t *Transport) HeaderTimeout() time.Duration { return t.headerTimeout }

// cancelBody ends an attempt's context when its body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelCauseFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel(nil)
	return err
}

// connectError describes an attempt that got no response.
func (t *Transport) connectError(err error, headerTimeout bool) *APIError {
	if headerTimeout {
		return &APIError{Kind: KindTimeout, Title: "no answer",
			Message: fmt.Sprintf("the gateway took the request but did not begin to answer within %s (header timeout)",
				roundDuration(t.headerTimeout)), Cause: err}
	}
	return &APIError{Kind: KindNetwork, Title: "connection failed", Message: t.redact(netMessage(err)), Cause: err}
}

// roundDuration shortens d for messages: whole seconds from a second up.
func roundDuration(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}

// permanent reports a connection error that another attempt cannot mend:
// a host name that does not resolve, a certificate that is not trusted, a
// server that does not speak TLS, a URL Go cannot send.
func permanent(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns.IsNotFound
	}
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	return errors.As(err, &unknownCA) || errors.As(err, &hostname) || errors.As(err, &invalid) ||
		errors.As(err, &verify) || notTLS(err) || strings.Contains(err.Error(), "unsupported protocol scheme")
}

// notTLS reports an https request answered in plain HTTP.
func notTLS(err error) bool {
	var record tls.RecordHeaderError
	return errors.As(err, &record) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client")
}

// redirectMessage explains a 3xx answer, which Parley never follows.
func redirectMessage(resp *http.Response) string {
	loc := resp.Header.Get("Location")
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return "the gateway answered 304 Not Modified, which is no answer to this request (a caching proxy in between?)"
	case loc == "":
		return fmt.Sprintf("the gateway answered %d without saying where to go (no Location header)", resp.StatusCode)
	}
	return fmt.Sprintf("the gateway redirects to %s; Parley does not follow redirects with your key: set the base URL to the new address if you trust it", loc)
}

// retryable reports whether a status is worth another attempt.
func retryable(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusConflict, http.StatusTooManyRequests:
		return true
	}
	return status >= 500
}

// backoff is the wait before retry number attempt+1.
func backoff(attempt int) time.Duration {
	d := initialBackoff << min(attempt, 10)
	if d > maxBackoff {
		d = maxBackoff
	}
	jitter := 1 - 0.25*rand.Float64()
	return time.Duration(float64(d) * jitter)
}

// readError reads an error response (at most 64 KB) into an APIError
// and returns the body too.
func (t *Transport) readError(resp *http.Response, now time.Time) (*APIError, []byte) {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	ae := ParseErrorBody(resp.StatusCode, body)
	if d, ok := ParseRetryAfter(resp.Header, now); ok {
		ae.RetryAfter = d
	}
	ae.redactWith(t.redactor)
	return ae, body
}

// embeddedHeaders reads the response headers some gateways copy into an
// error body at error.metadata.headers.
func embeddedHeaders(body []byte) http.Header {
	var wrap struct {
		Error struct {
			Metadata struct {
				Headers map[string]json.RawMessage `json:"headers"`
			} `json:"metadata"`
		} `json:"error"`
	}
	h := http.Header{}
	if json.Unmarshal(body, &wrap) != nil {
		return h
	}
	for k, v := range wrap.Error.Metadata.Headers {
		h.Set(k, rawScalar(v))
	}
	return h
}

func (t *Transport) canceled(err error) *APIError {
	return &APIError{Kind: KindCanceled, Title: "canceled", Message: "request canceled", Cause: err}
}

// ReadFailure classifies an error from reading a stream: nil when the
// stream simply ended (io.EOF), or when the answer had already finished
// and the gateway only failed to close the stream (a stall or reset after
// the finish reason is not worth an error); otherwise the APIError to
// report, as StreamError makes it.
func (t *Transport) ReadFailure(ctx context.Context, err error, finished, partial bool) *APIError {
	if errors.Is(err, io.EOF) || (finished && ctx.Err() == nil) {
		return nil
	}
	return t.StreamError(ctx, err, partial)
}

// StreamError turns an error met while reading a response body into an
// APIError: an idle timeout, a cancelled context, or a broken connection.
// partial says whether some of the answer had streamed already.
func (t *Transport) StreamError(ctx context.Context, err error, partial bool) *APIError {
	var ae *APIError
	switch {
	case errors.As(err, &ae):
	case ctx.Err() != nil:
		ae = t.canceled(ctx.Err())
	case errors.Is(err, ErrIdleTimeout):
		ae = &APIError{Kind: KindTimeout, Title: "stream stalled",
			Message: fmt.Sprintf("no data from the gateway for %s (--idle-timeout)", t.idleTimeout), Cause: err}
	case errors.Is(err, ErrEventTooLarge):
		ae = &APIError{Kind: KindStream, Title: "malformed stream", Message: err.Error(), Cause: err}
	default:
		ae = &APIError{Kind: KindNetwork, Title: "connection lost", Message: t.redact(netMessage(err)), Cause: err}
	}
	ae.Partial = ae.Partial || partial
	ae.redactWith(t.redactor)
	return ae
}

// redact removes the key from a message.
func (t *Transport) redact(s string) string { return t.redactor.Clean(s) }

// Redactor returns the transport's key matcher (nil when the key is too
// short to redact).
func (t *Transport) Redactor() *Redactor { return t.redactor }

// netMessage shortens Go's network errors to what a person needs.
func netMessage(err error) string {
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		return fmt.Sprintf("no such host: %s (check the base URL)", dns.Name)
	}
	var unknownCA x509.UnknownAuthorityError
	if errors.As(err, &unknownCA) {
		return "the gateway's TLS certificate is not signed by an authority this system trusts (self-signed?): " + unknownCA.Error()
	}
	var hostname x509.HostnameError
	if errors.As(err, &hostname) {
		return "the gateway's TLS certificate is for another host: " + hostname.Error()
	}
	if notTLS(err) {
		return "the gateway does not speak TLS at this address (is the base URL http rather than https?)"
	}
	var ue interface{ Unwrap() error }
	msg := err.Error()
	if errors.As(err, &ue) {
		// *url.Error repeats the method and URL; keep the cause.
		if inner := ue.Unwrap(); inner != nil && strings.Contains(msg, "\"") {
			msg = inner.Error()
		}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "the connection closed unexpectedly"
	}
	return msg
}

// idleBody closes the underlying body when a Read has waited longer than
// the timeout, so a Read blocked on a stalled stream returns
// ErrIdleTimeout. The clock runs only while a Read waits on the network:
// a consumer that is slow to come back for more (a pager, an editor
// opened mid-answer) is not mistaken for a silent gateway.
type idleBody struct {
	rc      io.ReadCloser
	timeout time.Duration
	timer   *time.Timer
	fired   atomic.Bool
}

func newIdleBody(rc io.ReadCloser, timeout time.Duration) *idleBody {
	b := &idleBody{rc: rc, timeout: timeout}
	b.timer = time.AfterFunc(timeout, func() {
		b.fired.Store(true)
		rc.Close()
	})
	b.timer.Stop()
	return b
}

func (b *idleBody) Read(p []byte) (int, error) {
	if b.fired.Load() {
		return 0, ErrIdleTimeout
	}
	b.timer.Reset(b.timeout)
	n, err := b.rc.Read(p)
	b.timer.Stop()
	if err != nil && b.fired.Load() {
		return n, ErrIdleTimeout
	}
	return n, err
}

func (b *idleBody) Close() error {
	b.timer.Stop()
	return b.rc.Close()
}

package openai

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/parley-chat/parley/provider"
)

// MaxImageBytes caps one generated image, whether it arrives inline or is
// downloaded from the URL the gateway returns.
const MaxImageBytes = 32 << 20

// GenerateImage implements provider.ImageGenerator with
// POST {base}/images/generations.
func (p *Provider) GenerateImage(ctx context.Context, req provider.ImageRequest) ([]provider.Image, error) {
	emit := req.Emit
	if emit == nil {
		emit = func(provider.Event) {}
	}
	if strings.TrimSpace(req.Prompt) == "" {
		return nil, &provider.APIError{Kind: provider.KindStream, Title: "bad request", Message: "the image prompt is empty"}
	}
	body, err := json.Marshal(goopenai.ImageRequest{
		Model: req.Model, Prompt: req.Prompt, Size: req.Size, Quality: req.Quality, N: req.N,
		ResponseFormat: req.ResponseFormat,
	})
	if err != nil {
		return nil, err
	}
	resp, err := p.tr.Do(ctx, func(ctx context.Context) (*http.Request, error) {
		return p.NewRequest(ctx, http.MethodPost, "images/generations", body)
	}, emit)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, rerr := io.ReadAll(io.LimitReader(resp.Body, 4*MaxImageBytes))
	if rerr != nil {
		return nil, p.tr.StreamError(ctx, rerr, false)
	}
	var ir goopenai.ImageResponse
	if err := json.Unmarshal(data, &ir); err != nil {
		if ae := provider.InbandError(data); ae != nil {
			return nil, ae
		}
		return nil, &provider.APIError{Kind: provider.KindStream, Title: "malformed response",
			Message: "the image answer is not the expected JSON: " + provider.Excerpt(data)}
	}
	if len(ir.Data) == 0 {
		if ae := provider.InbandError(data); ae != nil {
			return nil, ae
		}
		return nil, &provider.APIError{Kind: provider.KindStream, Title: "no image", Message: "the gateway returned no image"}
	}
	out := make([]provider.Image, 0, len(ir.Data))
	for i, d := range ir.Data {
		img := provider.Image{URL: d.URL, RevisedPrompt: d.RevisedPrompt}
		switch {
		case d.B64JSON != "":
			raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(d.B64JSON))
			if err != nil {
				return out, &provider.APIError{Kind: provider.KindStream, Title: "malformed response",
					Message: fmt.Sprintf("image %d: b64_json is not valid base64", i+1)}
			}
			img.Data = raw
		case d.URL != "":
			raw, err := p.download(ctx, d.URL)
			if err != nil {
				return out, err
			}
			img.Data = raw
		default:
			return out, &provider.APIError{Kind: provider.KindStream, Title: "malformed response",
				Message: fmt.Sprintf("image %d has neither url nor b64_json", i+1)}
		}
		out = append(out, img)
	}
	return out, nil
}

// maxDownloadRedirects bounds the redirects an image download follows.
const maxDownloadRedirects = 5

// downloadTransport carries image downloads. It is separate from the
// gateway's transport on purpose: a CDN must not receive the API key or
// the profile's extra headers.
var downloadTransport http.RoundTripper = http.DefaultTransport

// refusedURLError is a download address that breaks the rules of
// downloadAllowed, on the first request or on a redirect.
type refusedURLError struct{ u *url.URL }

func (e *refusedURLError) Error() string {
	return fmt.Sprintf("refusing to download the image over plain http from %s", e.u.Host)
}

// downloadClient is the client for one download: every redirect hop must
// pass the same checks as the first address, and Go's client never
// forwards credentials it was not given (none are).
func (p *Provider) downloadClient() *http.Client {
	return &http.Client{Timeout: 2 * time.Minute, Transport: downloadTransport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > maxDownloadRedirects {
				return fmt.Errorf("more than %d redirects", maxDownloadRedirects)
			}
			if !p.downloadAllowed(req.URL) {
				return &refusedURLError{u: req.URL}
			}
			return nil
		}}
}

// download fetches an image the gateway returned by address. It accepts
// https anywhere, the gateway's own origin, and plain http on loopback,
// for the address and for every redirect from it; it never sends
// credentials and stops at MaxImageBytes.
func (p *Provider) download(ctx context.Context, raw string) ([]byte, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, &provider.APIError{Kind: provider.KindStream, Title: "bad image URL", Message: fmt.Sprintf("cannot read image URL %q", raw)}
	}
	if !p.downloadAllowed(u) {
		return nil, &provider.APIError{Kind: provider.KindStream, Title: "bad image URL", Message: (&refusedURLError{u: u}).Error()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "parley")
	resp, err := p.downloadClient().Do(req)
	if err != nil {
		var refused *refusedURLError
		switch {
		case ctx.Err() != nil:
			return nil, &provider.APIError{Kind: provider.KindCanceled, Title: "canceled", Message: "request canceled", Cause: ctx.Err()}
		case errors.As(err, &refused):
			return nil, &provider.APIError{Kind: provider.KindStream, Title: "bad image URL",
				Message: fmt.Sprintf("%s redirects to %s: %v", u.Host, refused.u.Redacted(), refused), Cause: err}
		}
		return nil, &provider.APIError{Kind: provider.KindNetwork, Title: "image download failed", Message: err.Error(), Cause: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, &provider.APIError{Kind: provider.KindHTTP, Status: resp.StatusCode, Title: "image download failed",
			Message: fmt.Sprintf("GET %s answered %s", u.Host, resp.Status)}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxImageBytes+1))
	if err != nil {
		return nil, &provider.APIError{Kind: provider.KindNetwork, Title: "image download failed", Message: err.Error(), Cause: err}
	}
	if len(data) > MaxImageBytes {
		return nil, &provider.APIError{Kind: provider.KindStream, Title: "image too large",
			Message: fmt.Sprintf("the image at %s is larger than %d MB", u.Host, MaxImageBytes>>20)}
	}
	return data, nil
}

func (p *Provider) downloadAllowed(u *url.URL) bool {
	switch u.Scheme {
	case "https":
		return true
	case "http":
		if base, err := url.Parse(p.ep.Base()); err == nil && base.Scheme == "http" && strings.EqualFold(base.Host, u.Host) {
			return true
		}
		host := u.Hostname()
		if strings.EqualFold(host, "localhost") {
			return true
		}
		ip := net.ParseIP(host)
		return ip != nil && ip.IsLoopback()
	}
	return false
}

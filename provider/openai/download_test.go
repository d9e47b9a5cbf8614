package openai

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parley-chat/parley/provider"
)

// TestDownloadRedirectChecks: an https image address that redirects to
// plain http on another host is refused at the redirect, before anything
// is fetched from there; a redirect within the rules is followed; no hop
// ever carries the key or the profile's headers.
func TestDownloadRedirectChecks(t *testing.T) {
	pngBytes := testPNG(t)
	var plainHits int
	var seen []string
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plainHits++
		seen = append(seen, r.Header.Get("Authorization")+r.Header.Get("X-Team"))
		w.Write(pngBytes)
	}))
	defer plain.Close()
	var cdn *httptest.Server
	cdn = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Get("Authorization")+r.Header.Get("X-Team"))
		switch r.URL.Path {
		case "/to-plain.png":
			// Plain http on a host that is neither loopback nor the gateway.
			http.Redirect(w, r, "http://images.example.com/cat.png", http.StatusFound)
		case "/hop.png":
			http.Redirect(w, r, cdn.URL+"/to-plain.png", http.StatusMovedPermanently)
		case "/to-loopback.png":
			http.Redirect(w, r, plain.URL+"/cat.png", http.StatusFound)
		case "/loop.png":
			http.Redirect(w, r, cdn.URL+"/loop.png", http.StatusFound)
		default:
			w.Write(pngBytes)
		}
	}))
	defer cdn.Close()
	// The test's https server has its own certificate, and images.example.com
	// is routed to the plain loopback server, as a real host would answer.
	tr := cdn.Client().Transport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if strings.HasPrefix(addr, "images.example.com:") {
			addr = plain.Listener.Addr().String()
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	old := downloadTransport
	downloadTransport = tr
	defer func() { downloadTransport = old }()

	var image string
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"data":[{"url":%q}]}`, image)
	}))
	defer gw.Close()
	p, _ := New(provider.Options{BaseURL: gw.URL + "/v1", APIKey: "sk-image-secret", Headers: map[string]string{"X-Team": "t1"}})

	for _, path := range []string{"/to-plain.png", "/hop.png"} {
		image = cdn.URL + path
		plainHits = 0
		imgs, err := p.GenerateImage(context.Background(), provider.ImageRequest{Prompt: "a cat"})
		if err == nil || len(imgs) != 0 {
			t.Fatalf("%s: downloaded over plain http after a redirect: %d images", path, len(imgs))
		}
		if !strings.Contains(err.Error(), "plain http") || !strings.Contains(err.Error(), "images.example.com") {
			t.Errorf("%s: error %q does not say which redirect was refused", path, err)
		}
		if plainHits != 0 {
			t.Errorf("%s: the plain http host was contacted", path)
		}
	}

	image = cdn.URL + "/to-loopback.png"
	imgs, err := p.GenerateImage(context.Background(), provider.ImageRequest{Prompt: "a cat"})
	if err != nil || len(imgs) != 1 || !bytes.Equal(imgs[0].Data, pngBytes) {
		t.Fatalf("redirect to loopback http: %v", err)
	}

	image = cdn.URL + "/loop.png"
	if _, err := p.GenerateImage(context.Background(), provider.ImageRequest{Prompt: "a cat"}); err == nil || !strings.Contains(err.Error(), "redirects") {
		t.Errorf("endless redirects: %v", err)
	}
	for _, h := range seen {
		if h != "" {
			t.Fatalf("an image host received credentials or profile headers: %q", h)
		}
	}
}

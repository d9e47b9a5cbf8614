package openai

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/provider"
)

func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestGenerateImageB64(t *testing.T) {
	pngBytes := testPNG(t)
	var mu sync.Mutex
	var bodies []map[string]any
	var auth []string
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var m map[string]any
		json.Unmarshal(raw, &m)
		mu.Lock()
		calls++
		n := calls
		bodies = append(bodies, m)
		auth = append(auth, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("X-RateLimit-Limit-Requests", "20")
		w.Header().Set("X-RateLimit-Remaining-Requests", "19")
		w.Header().Set("X-RateLimit-Reset-Requests", "1795294800")
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(429)
			io.WriteString(w, `{"error":{"message":"Rate limit reached for images","type":"rate_limit_error","code":"rate_limit_exceeded"}}`)
			return
		}
		fmt.Fprintf(w, `{"created":1709150000,"data":[{"b64_json":%q,"revised_prompt":"A cat, revised"}]}`, base64.StdEncoding.EncodeToString(pngBytes))
	}))
	defer srv.Close()
	var waits []time.Duration
	p, err := New(provider.Options{BaseURL: srv.URL + "/api/v1", APIKey: "sk-image-secret", MaxRetries: 2,
		Sleep: func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	var evs []provider.Event
	imgs, err := p.GenerateImage(context.Background(), provider.ImageRequest{Model: "dall-e-3", Prompt: "a cat", Size: "1024x1024",
		Quality: "hd", N: 1, ResponseFormat: "b64_json", Emit: func(ev provider.Event) { evs = append(evs, ev) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 1 || !bytes.Equal(imgs[0].Data, pngBytes) || imgs[0].RevisedPrompt != "A cat, revised" {
		t.Fatalf("images %+v", imgs)
	}
	if len(bodies) != 2 || auth[1] != "POST /api/v1/images/generations Bearer sk-image-secret" {
		t.Fatalf("requests %v", auth)
	}
	b, _ := json.Marshal(bodies[1])
	if string(b) != `{"model":"dall-e-3","n":1,"prompt":"a cat","quality":"hd","response_format":"b64_json","size":"1024x1024"}` {
		t.Errorf("body %s", b)
	}
	var rl *provider.RateLimit
	var retry *provider.Retry
	for _, ev := range evs {
		switch e := ev.(type) {
		case provider.RateLimit:
			rl = &e
		case provider.Retry:
			retry = &e
		}
	}
	if rl == nil || rl.Limit != 20 || rl.Remaining != 19 || rl.Reset.Unix() != 1795294800 {
		t.Errorf("rate limit %+v", rl)
	}
	if retry == nil || retry.Status != 429 || len(waits) != 1 || waits[0] != time.Second {
		t.Errorf("retry %+v waits %v", retry, waits)
	}
}

func TestGenerateImageURLDownload(t *testing.T) {
	pngBytes := testPNG(t)
	var cdnAuth string
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cdnAuth = r.Header.Get("Authorization") + r.Header.Get("X-Team")
		if r.URL.Path == "/big.png" {
			w.Write(make([]byte, MaxImageBytes+10))
			return
		}
		w.Write(pngBytes)
	}))
	defer cdn.Close()
	path := "/img/generated-abc123.png"
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"data":[{"url":%q,"revised_prompt":"r"}]}`, cdn.URL+path)
	}))
	defer gw.Close()
	p, _ := New(provider.Options{BaseURL: gw.URL + "/v1", APIKey: "sk-image-secret", Headers: map[string]string{"X-Team": "t1"}})
	imgs, err := p.GenerateImage(context.Background(), provider.ImageRequest{Prompt: "a cat"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(imgs[0].Data, pngBytes) || imgs[0].URL != cdn.URL+path {
		t.Errorf("image %+v", imgs[0].URL)
	}
	if cdnAuth != "" {
		t.Errorf("the image host received credentials or profile headers: %q", cdnAuth)
	}
	path = "/big.png"
	if _, err := p.GenerateImage(context.Background(), provider.ImageRequest{Prompt: "a cat"}); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized download: %v", err)
	}
}

func TestDownloadAllowed(t *testing.T) {
	p, _ := New(provider.Options{BaseURL: "http://gateway.internal:8080/api/v1"})
	for raw, want := range map[string]bool{
		"https://cdn.example.com/a.png":       true,
		"http://127.0.0.1:9999/a.png":         true,
		"http://localhost/a.png":              true,
		"http://gateway.internal:8080/i.png":  true,
		"http://cdn.example.com/a.png":        false,
		"file:///etc/passwd":                  false,
		"ftp://cdn.example.com/a.png":         false,
		"http://gateway.internal:9090/x.png":  false,
		"http://[::1]:8080/loopback-six.png":  true,
		"http://169.254.169.254/metadata.png": false,
	} {
		u, _ := url.Parse(raw)
		if got := p.downloadAllowed(u); got != want {
			t.Errorf("%s: allowed %v, want %v", raw, got, want)
		}
	}
}

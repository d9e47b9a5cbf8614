package demogw

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"
)

type imagesResult struct {
	Created int64 `json:"created"`
	Data    []struct {
		URL           string `json:"url"`
		B64JSON       string `json:"b64_json"`
		RevisedPrompt string `json:"revised_prompt"`
	} `json:"data"`
}

func generate(t *testing.T, ts interface{ Client() *http.Client }, url string, body map[string]any) (*http.Response, imagesResult) {
	t.Helper()
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url+"/v1/images/generations", bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer k")
	req.Header.Set("Content-Type", "application/json")
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out imagesResult
	if resp.StatusCode == 200 {
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
	}
	return resp, out
}

func decodePNG(t *testing.T, data []byte) image.Image {
	t.Helper()
	if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatal("not a PNG signature")
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("PNG does not decode: %v", err)
	}
	return img
}

func TestImageB64OfAskedSize(t *testing.T) {
	_, ts := testServer(t, instant())
	for _, tt := range []struct {
		size string
		w, h int
	}{
		{"256x128", 256, 128},
		{"512x512", 512, 512},
		{"64x300", 64, 300},
		{"1024x1024", 512, 512}, // capped
		{"1792x1024", 512, 293}, // capped, aspect kept
		{"", 512, 512},          // the default 1024x1024, capped
	} {
		body := map[string]any{"model": "demo-image", "prompt": "a sunset over the sea", "response_format": "b64_json"}
		if tt.size != "" {
			body["size"] = tt.size
		}
		resp, out := generate(t, ts, ts.URL, body)
		if resp.StatusCode != 200 || len(out.Data) != 1 {
			t.Fatalf("%s: status %d, %d images", tt.size, resp.StatusCode, len(out.Data))
		}
		if resp.Header.Get("X-RateLimit-Remaining") == "" {
			t.Fatal("image response lacks rate-limit headers")
		}
		data, err := base64.StdEncoding.DecodeString(out.Data[0].B64JSON)
		if err != nil {
			t.Fatal(err)
		}
		b := decodePNG(t, data).Bounds()
		if b.Dx() != tt.w || b.Dy() != tt.h {
			t.Fatalf("%s: image is %dx%d; want %dx%d", tt.size, b.Dx(), b.Dy(), tt.w, tt.h)
		}
		if !strings.Contains(out.Data[0].RevisedPrompt, "a sunset over the sea") || out.Data[0].URL != "" {
			t.Fatalf("datum %+v", out.Data[0].RevisedPrompt)
		}
	}
}

func TestImageIsDeterministicAndVaried(t *testing.T) {
	a, _ := renderPNG(96, 64, "a quiet forest", imageSeed("a quiet forest", 0))
	b, _ := renderPNG(96, 64, "a quiet forest", imageSeed("a quiet forest", 0))
	c, _ := renderPNG(96, 64, "a neon city", imageSeed("a neon city", 0))
	if !bytes.Equal(a, b) {
		t.Fatal("same prompt gave different images")
	}
	if bytes.Equal(a, c) {
		t.Fatal("different prompts gave the same image")
	}
	// Not a flat fill: many distinct colours.
	img := drawPattern(96, 64, "a quiet forest", 1)
	colours := map[[3]uint8]bool{}
	for i := 0; i < len(img.Pix); i += 4 {
		colours[[3]uint8{img.Pix[i], img.Pix[i+1], img.Pix[i+2]}] = true
	}
	if len(colours) < 500 {
		t.Fatalf("only %d distinct colours", len(colours))
	}
	// "forest" picks a green hue: green dominates on average.
	var r, g, bl int
	for i := 0; i < len(img.Pix); i += 4 {
		r, g, bl = r+int(img.Pix[i]), g+int(img.Pix[i+1]), bl+int(img.Pix[i+2])
	}
	if g <= r || g <= bl {
		t.Fatalf("forest image average r=%d g=%d b=%d; want green to dominate", r, g, bl)
	}
}

func TestImageURLServedBySameServer(t *testing.T) {
	_, ts := testServer(t, instant())
	resp, out := generate(t, ts, ts.URL, map[string]any{"model": "demo-image", "prompt": "night sky", "size": "128x96", "n": 2})
	if resp.StatusCode != 200 || len(out.Data) != 2 {
		t.Fatalf("status %d, %d images", resp.StatusCode, len(out.Data))
	}
	if out.Data[0].URL == out.Data[1].URL {
		t.Fatal("two variations share a URL")
	}
	for _, d := range out.Data {
		if !strings.HasPrefix(d.URL, ts.URL+"/v1/files/") || !strings.HasSuffix(d.URL, ".png") || d.B64JSON != "" {
			t.Fatalf("url %q", d.URL)
		}
		r, err := ts.Client().Get(d.URL)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != 200 || r.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("GET %s: %d %s", d.URL, r.StatusCode, r.Header.Get("Content-Type"))
		}
		if b := decodePNG(t, data).Bounds(); b.Dx() != 128 || b.Dy() != 96 {
			t.Fatalf("served image is %v", b)
		}
	}
	r, err := ts.Client().Get(ts.URL + "/v1/files/img-nothing.png")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 404 {
		t.Fatalf("unknown file: %d", r.StatusCode)
	}
}

func TestImageErrors(t *testing.T) {
	_, ts := testServer(t, instant())
	for _, tt := range []struct {
		body   map[string]any
		status int
		code   string
	}{
		{map[string]any{"prompt": "x", "size": "big"}, 400, "invalid_size"},
		{map[string]any{"prompt": "x", "size": "0x10"}, 400, "invalid_size"},
		{map[string]any{"prompt": "  "}, 400, "missing_prompt"},
		{map[string]any{"prompt": "x", "n": 9}, 400, "invalid_n"},
		{map[string]any{"prompt": "x", "response_format": "gif"}, 400, "invalid_response_format"},
		{map[string]any{"prompt": "x", "model": "demo-fast"}, 404, "invalid_model"},
	} {
		data, _ := json.Marshal(tt.body)
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/v1/images/generations", bytes.NewReader(data))
		req.Header.Set("Authorization", "Bearer k")
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e apiError
		_ = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != tt.status || e.Error.Code != tt.code {
			t.Errorf("%v: %d %+v; want %d %s", tt.body, resp.StatusCode, e.Error, tt.status, tt.code)
		}
	}
}

func BenchmarkRenderPNG512(b *testing.B) {
	for i := 0; b.Loop(); i++ {
		if _, err := renderPNG(512, 512, "a sunset over the sea", uint64(i)); err != nil {
			b.Fatal(err)
		}
	}
}

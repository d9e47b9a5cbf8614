package ui

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/parley-chat/parley/imagefile"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/provider/cuadra"
	"github.com/parley-chat/parley/provider/openai"
)

const testKey = "sk-test-secret-123"

// loopbackOpenAI starts a loopback gateway and an OpenAI-dialect provider
// for it; every request is counted.
func loopbackOpenAI(t *testing.T, h http.HandlerFunc, mutate func(*provider.Options)) (*openai.Provider, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.Header.Get("Authorization") != "Bearer "+testKey {
			t.Errorf("%s %s: Authorization %q", r.Method, r.URL.Path, r.Header.Get("Authorization"))
		}
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	opts := provider.Options{Name: "gw", BaseURL: srv.URL + "/v1", APIKey: testKey}
	if mutate != nil {
		mutate(&opts)
	}
	p, err := openai.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return p, &n
}

// testPNG is a real 4×3 PNG.
func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// runCmd runs a command the model returned, as Bubble Tea would on its own
// goroutine, and returns its message.
func runCmd(t *testing.T, cmd tea.Cmd) tea.Msg {
	t.Helper()
	if cmd == nil {
		t.Fatal("no command returned")
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	select {
	case msg := <-done:
		return msg
	case <-time.After(10 * time.Second):
		t.Fatal("the command did not finish")
		return nil
	}
}

// statusBar is the screen's last line.
func (h *harness) statusBar() string {
	s := h.plain()
	return s[strings.LastIndexByte(s, '\n')+1:]
}

func TestImageCommandSavesPNG(t *testing.T) {
	pngData := testPNG(t)
	var body map[string]any
	prov, calls := loopbackOpenAI(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/images/generations" {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
			http.NotFound(w, r)
			return
		}
		body = nil
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("body: %v", err)
		}
		json.NewEncoder(w).Encode(map[string]any{"created": 1, "data": []map[string]any{{
			"b64_json":       base64.StdEncoding.EncodeToString(pngData),
			"revised_prompt": "A \x1b[31mred\x1b[0m fox\x1b]0;pwned\a in snow",
		}}})
	}, nil)
	dir := filepath.Join(t.TempDir(), "not", "yet")
	h := newHarness(t, prov, func(o *Options) { o.ImageDir = dir })

	h.typeText("/image a red fox")
	cmd := h.press(tea.KeyEnter, 0)
	if calls.Load() != 0 {
		t.Fatal("the gateway was called from Update")
	}
	contains(t, h.statusBar(), "generating image (dall-e-3)…")
	h.advance(3 * time.Second)
	h.update(secondMsg{})
	contains(t, h.statusBar(), "generating image (dall-e-3)… 3s")

	h.update(runCmd(t, cmd))
	if calls.Load() != 1 {
		t.Fatalf("%d gateway calls", calls.Load())
	}
	if body["model"] != "dall-e-3" || body["prompt"] != "a red fox" || body["response_format"] != "b64_json" || body["n"] != 1.0 {
		t.Errorf("request body %v", body)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "parley-*.png"))
	if len(files) != 1 {
		t.Fatalf("files in %s: %v", dir, files)
	}
	got, err := os.ReadFile(files[0])
	if err != nil || !bytes.Equal(got, pngData) {
		t.Fatalf("saved file differs (%v)", err)
	}
	if cfg, err := png.DecodeConfig(bytes.NewReader(got)); err != nil || cfg.Width != 4 || cfg.Height != 3 {
		t.Fatalf("saved file is not the 4×3 PNG: %+v %v", cfg, err)
	}
	if want := "parley-" + testStart.Format("20060102-150405") + "-1.png"; filepath.Base(files[0]) != want {
		t.Errorf("file name %s, want %s", filepath.Base(files[0]), want)
	}
	screen := h.plain()
	contains(t, screen, "image · dall-e-3", "prompt", "a red fox", "revised", "A red fox in snow", "saved")
	if strings.Contains(screen, "pwned") || strings.Contains(h.m.View().Content, "\x1b]0;") {
		t.Fatalf("the revised prompt drove the terminal:\n%s", screen)
	}
	// The path is on screen whole (wrapping may break it across lines).
	flat := strings.Join(strings.Fields(screen), "")
	if !strings.Contains(flat, files[0]) {
		t.Fatalf("path %s not on screen:\n%s", files[0], screen)
	}
	if strings.Contains(h.statusBar(), "generating") {
		t.Fatalf("status still busy: %s", h.statusBar())
	}
	contains(t, h.statusBar(), "image saved")

	// The conversation is untouched: /image is not a chat turn.
	if n := len(h.m.focused().chat.Conversation().Messages); n != 0 {
		t.Fatalf("conversation has %d messages", n)
	}

	// An image model in use is asked for; --model overrides it.
	h.send("/model gpt-image-1")
	h.typeText("/image a second fox")
	h.update(runCmd(t, h.press(tea.KeyEnter, 0)))
	if body["model"] != "gpt-image-1" {
		t.Errorf("current image model not used: %v", body["model"])
	}
	h.typeText("/image --model dall-e-2 a third fox")
	h.update(runCmd(t, h.press(tea.KeyEnter, 0)))
	if body["model"] != "dall-e-2" || body["prompt"] != "a third fox" {
		t.Errorf("--model: %v", body)
	}
	files, _ = filepath.Glob(filepath.Join(dir, "parley-*.png"))
	if len(files) != 3 {
		t.Fatalf("three generations in one second must give three files: %v", files)
	}
}

func TestImageCommandErrors(t *testing.T) {
	var fail atomic.Bool
	prov, calls := loopbackOpenAI(t, func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":{"message":"Your request was rejected by the safety system.","type":"invalid_request_error","code":"content_policy_violation"}}`))
			return
		}
		// Not an image at all.
		json.NewEncoder(w).Encode(map[string]any{"data": []map[string]any{{"b64_json": base64.StdEncoding.EncodeToString([]byte("<html>nope</html>"))}}})
	}, nil)
	dir := t.TempDir()
	h := newHarness(t, prov, func(o *Options) { o.ImageDir = dir })

	// Usage errors never reach the gateway.
	for _, in := range []string{"/image", "/image --model", "/image -m only-a-model"} {
		h.typeText(in)
		if cmd := h.press(tea.KeyEnter, 0); cmd != nil {
			t.Fatalf("%q returned a command", in)
		}
		contains(t, h.plain(), "! /image: ")
	}
	if calls.Load() != 0 {
		t.Fatalf("%d gateway calls for usage errors", calls.Load())
	}

	// The gateway refuses: the error is in the transcript, nothing is saved.
	fail.Store(true)
	h.typeText("/image something forbidden")
	h.update(runCmd(t, h.press(tea.KeyEnter, 0)))
	contains(t, h.plain(), "image · dall-e-3", "400", "rejected by the safety system")
	contains(t, h.statusBar(), "image generation failed")
	// Data that is not an image is refused, not saved.
	fail.Store(false)
	h.typeText("/image html please")
	h.update(runCmd(t, h.press(tea.KeyEnter, 0)))
	contains(t, h.plain(), "not a PNG image")
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("files saved after errors: %v", entries)
	}
	if strings.Contains(h.plain(), testKey) {
		t.Fatal("the API key is on screen")
	}

	// The chat goes on: a prompt still streams.
	h.send("/model m-1")
	contains(t, h.plain(), "model set to m-1")

	// A dialect without an image endpoint gets a clear message.
	cu, err := cuadra.New(provider.Options{Name: "native", BaseURL: "http://127.0.0.1:1/v1"})
	if err != nil {
		t.Fatal(err)
	}
	h2 := newHarness(t, cu, func(o *Options) { o.Panes[0].ProviderName = "native" })
	h2.typeText("/image a fox")
	if cmd := h2.press(tea.KeyEnter, 0); cmd != nil {
		t.Fatal("/image on cuadra returned a command")
	}
	contains(t, strings.Join(strings.Fields(h2.plain()), " "), "! /image needs an OpenAI-compatible gateway", "native speaks the cuadra dialect")
}

func TestImageCommandRetryAndCancel(t *testing.T) {
	var n atomic.Int64
	arrived := make(chan struct{}, 1)
	prov, _ := loopbackOpenAI(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte(`{"error":{"message":"slow down"}}`))
			return
		}
		io.Copy(io.Discard, r.Body) // so the server notices the client hanging up
		arrived <- struct{}{}
		<-r.Context().Done() // hangs until the client gives up
	}, func(o *provider.Options) {
		o.MaxRetries = 2
		o.Sleep = func(ctx context.Context, d time.Duration) error { return ctx.Err() }
	})
	h := newHarness(t, prov, func(o *Options) { o.ImageDir = t.TempDir() })
	h.typeText("/image a patient fox")
	cmd := h.press(tea.KeyEnter, 0)
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()

	// The retry reaches the status bar through the harness's send.
	var retry taskEventMsg
	for retry.ev == nil {
		if m, ok := h.next().(taskEventMsg); ok {
			retry = m
		}
	}
	h.update(retry)
	contains(t, h.statusBar(), "retry 1/2 in 7s")

	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the retry never reached the gateway")
	}
	// ctrl+c stops the generation (not the program).
	if c := h.press('c', tea.ModCtrl); c != nil {
		t.Fatal("ctrl+c with an image in flight quit")
	}
	contains(t, h.statusBar(), "stopping")
	select {
	case msg := <-done:
		h.update(msg)
	case <-time.After(10 * time.Second):
		t.Fatal("cancelling did not end the generation")
	}
	contains(t, h.plain(), "image generation stopped")
	if strings.Contains(h.statusBar(), "stopping") || strings.Contains(h.statusBar(), "…") {
		t.Fatalf("status still busy: %s", h.statusBar())
	}
	// Now idle, ctrl+c asks, and a second one quits.
	if c := h.press('c', tea.ModCtrl); isQuit(c) {
		t.Fatal("the first ctrl+c when idle quit")
	}
	if c := h.press('c', tea.ModCtrl); !isQuit(c) {
		t.Fatal("the second ctrl+c when idle did not quit")
	}
}

func TestUsageCommand(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Method != http.MethodGet || r.URL.Path != "/v1/usage" {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"plan":"pro\u001b]0;evil\u0007","usage":{"inputTokens":1234567,"outputTokens":89},"period":{"start":"2026-11-01"}}`))
	}))
	t.Cleanup(srv.Close)
	prov, err := cuadra.New(provider.Options{Name: "native", BaseURL: srv.URL + "/v1", APIKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, prov, func(o *Options) { o.Panes[0].ProviderName = "native" })
	h.typeText("/usage")
	cmd := h.press(tea.KeyEnter, 0)
	if calls.Load() != 0 {
		t.Fatal("the gateway was called from Update")
	}
	contains(t, h.statusBar(), "fetching usage…")
	h.update(runCmd(t, cmd))
	screen := h.plain()
	contains(t, screen, "usage · native")
	lines := strings.Split(screen, "\n")
	row := func(key, value string) {
		t.Helper()
		for _, l := range lines {
			if f := strings.Fields(l); len(f) == 2 && f[0] == key && f[1] == value {
				return
			}
		}
		t.Fatalf("no row %q %q:\n%s", key, value, screen)
	}
	row("usage.inputTokens", "1,234,567")
	row("usage.outputTokens", "89")
	row("period.start", "2026-11-01")
	row("plan", "pro")
	if strings.Contains(screen, "evil") {
		t.Fatalf("an escape sequence from the gateway reached the screen:\n%s", screen)
	}

	// The OpenAI dialect has no usage endpoint: a clear message in the
	// transcript.
	op, _ := loopbackOpenAI(t, func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s", r.URL.Path)
	}, nil)
	h2 := newHarness(t, op, nil)
	h2.typeText("/usage")
	if cmd := h2.press(tea.KeyEnter, 0); cmd != nil {
		t.Fatal("/usage on openai returned a command")
	}
	contains(t, h2.plain(), "! /usage needs a native REST gateway")
}

func TestUsageCommandGatewayError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"title":"Forbidden","detail":"this key cannot read usage","status":403}`))
	}))
	t.Cleanup(srv.Close)
	prov, _ := cuadra.New(provider.Options{BaseURL: srv.URL + "/v1", APIKey: testKey})
	h := newHarness(t, prov, nil)
	h.typeText("/usage")
	h.update(runCmd(t, h.press(tea.KeyEnter, 0)))
	contains(t, h.plain(), "403 Forbidden", "this key cannot read usage")
	contains(t, h.statusBar(), "usage: 403")
}

func TestModelListMerge(t *testing.T) {
	var fail atomic.Bool
	prov, calls := loopbackOpenAI(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/models" {
			t.Errorf("request %s", r.URL.Path)
		}
		if fail.Load() {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":{"message":"bad key"}}`))
			return
		}
		w.Write([]byte(`{"object":"list","data":[{"id":"gpt-4o","object":"model"},{"id":"zeta-2","object":"model"},` +
			`{"id":"evil\u001b[2Jmodel","object":"model"},{"id":"alpha-1","object":"model"}]}`))
	}, nil)
	h := newHarness(t, prov, func(o *Options) {
		o.Panes[0].Models = []string{"gpt-4o", "local-llm"}
		o.Panes[0].Settings.Model = "gpt-4o"
	})

	h.typeText("/model")
	cmd := h.press(tea.KeyEnter, 0)
	if calls.Load() != 0 {
		t.Fatal("the gateway was called from Update")
	}
	contains(t, h.statusBar(), "listing models…")
	h.update(runCmd(t, cmd))
	screen := h.plain()
	contains(t, screen, "models · gw · 4", "current", "● gpt-4o")
	// Sorted, merged, each once; the unsafe id is dropped.
	list := screen[strings.Index(screen, "alpha-1"):]
	order := []string{"alpha-1", "gpt-4o", "local-llm", "zeta-2"}
	last := -1
	for _, name := range order {
		i := strings.Index(list, name)
		if i < 0 || i < last {
			t.Fatalf("%s missing or out of order:\n%s", name, screen)
		}
		last = i
	}
	if strings.Contains(screen, "evil") || strings.Count(screen, "local-llm") != 1 {
		t.Fatalf("list wrong:\n%s", screen)
	}
	if strings.Contains(h.statusBar(), "listing") {
		t.Fatalf("status still busy: %s", h.statusBar())
	}

	// The list is fetched once: /model again and Tab use the cache.
	h.typeText("/model")
	if cmd := h.press(tea.KeyEnter, 0); cmd != nil {
		t.Fatal("second /model fetched again")
	}
	h.typeText("/model ze")
	if cmd := h.press(tea.KeyTab, 0); cmd != nil {
		t.Fatal("tab fetched again")
	}
	if v := h.m.in.Value(); v != "/model zeta-2" {
		t.Fatalf("tab completed %q", v)
	}
	if calls.Load() != 1 {
		t.Fatalf("%d model list requests", calls.Load())
	}

	// A failed listing still shows the configured models, with the error.
	h2 := newHarness(t, prov, func(o *Options) { o.Panes[0].Models = []string{"local-llm"} })
	fail.Store(true)
	h2.typeText("/model")
	h2.update(runCmd(t, h2.press(tea.KeyEnter, 0)))
	contains(t, h2.plain(), "models · gw · 1", "local-llm", "401")
	contains(t, h2.statusBar(), "could not list the models")
	// Tab does not keep asking after a failure; /model does.
	h2.typeText("/model l")
	if cmd := h2.press(tea.KeyTab, 0); cmd != nil {
		t.Fatal("tab asked again after a failure")
	}
	if v := h2.m.in.Value(); v != "/model local-llm" {
		t.Fatalf("tab completed %q", v)
	}
	h2.m.in.Reset()
	fail.Store(false)
	h2.typeText("/model")
	h2.update(runCmd(t, h2.press(tea.KeyEnter, 0)))
	contains(t, h2.plain(), "models · gw · 4")
}

func TestModelListTabFetchesCompletions(t *testing.T) {
	prov, calls := loopbackOpenAI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"object":"list","data":[{"id":"gamma-9"},{"id":"gamma-10"}]}`))
	}, nil)
	h := newHarness(t, prov, nil)
	h.typeText("/model gam")
	cmd := h.press(tea.KeyTab, 0)
	if v := h.m.in.Value(); v != "/model gam" {
		t.Fatalf("tab before the list arrived changed the input to %q", v)
	}
	h.update(runCmd(t, cmd))
	if calls.Load() != 1 {
		t.Fatalf("%d requests", calls.Load())
	}
	// The completion line offers the gateway's models; no transcript note.
	contains(t, h.plain(), "tab ▸ gamma-10  gamma-9")
	if strings.Contains(h.plain(), "models · ") {
		t.Fatal("a tab listing put a note in the transcript")
	}
	h.press(tea.KeyTab, 0)
	if v := h.m.in.Value(); v != "/model gamma-" {
		t.Fatalf("tab completed %q", v)
	}
}

func TestImageModelChoice(t *testing.T) {
	cases := []struct {
		current    string
		configured []string
		want       string
	}{
		{"gpt-4o", nil, "dall-e-3"},
		{"gpt-image-1", []string{"demo-image"}, "gpt-image-1"},
		{"demo-fast", []string{"demo-fast", "demo-think", "demo-image"}, "demo-image"},
		{"", []string{"llama-3"}, "dall-e-3"},
		{"black-forest-labs/FLUX.1-schnell", nil, "black-forest-labs/FLUX.1-schnell"},
	}
	for _, c := range cases {
		if got := imagefile.ModelFor(c.current, c.configured); got != c.want {
			t.Errorf("ModelFor(%q, %q) = %q, want %q", c.current, c.configured, got, c.want)
		}
	}
	for _, c := range []struct{ arg, model, prompt string }{
		{"a fox", "", "a fox"},
		{"--model m1 a fox", "m1", "a fox"},
		{"-m m1   a  fox ", "m1", "a  fox"},
		{"--model=m1 a fox", "m1", "a fox"},
		{"--modelling clay", "", "--modelling clay"},
	} {
		model, prompt, err := parseImageArg(c.arg)
		if err != nil || model != c.model || prompt != c.prompt {
			t.Errorf("parseImageArg(%q) = %q, %q, %v", c.arg, model, prompt, err)
		}
	}
}

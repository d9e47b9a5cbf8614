package e2e

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/fixtures"
)

// startPeer starts the Vercel AI SDK peer (a real `ai` library server on
// loopback) and returns its base URL. It is stopped when the test ends.
// The test is skipped, saying why, only when Node or the peer's installed
// packages are missing.
func startPeer(t *testing.T) string {
	t.Helper()
	const install = "run .ci/run once (it installs the peer's locked packages into .peers/) and export PARLEY_PEERS=$PWD/.peers"
	dir := fixtures.Peer("ui-message-stream")
	if dir == "" {
		if peers := os.Getenv("PARLEY_PEERS"); peers != "" {
			fixtures.Missing(t, "the ui-message-stream peer is not in PARLEY_PEERS=%s: %s", peers, install)
		}
		fixtures.Missing(t, "the ui-message-stream peer is not available: put shared/ beside the checkout, or %s", install)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		fixtures.Missing(t, "node is not installed: the UI message stream peer test needs Node.js (.ci/run installs it)")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ai")); err != nil {
		fixtures.Missing(t, "the peer's packages are not installed in %s: %s", dir, install)
	}
	ctx, cancel := context.WithCancel(context.Background())
	args := []string{"server.mjs", "--port", "0"}
	if root := fixtures.Root(); root != "" {
		// The peer may be an installed copy away from shared/: point its
		// replays at the recordings explicitly.
		args = append(args, "--replay-dir", filepath.Join(root, "openai-sse"))
	}
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = dir
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the peer: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
	})
	ready := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				ready <- m[1]
				break
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case u := <-ready:
		return u
	case <-time.After(30 * time.Second):
		t.Fatal("the peer did not report its address within 30s")
	}
	return ""
}

// peerProxy is a loopback reverse proxy that serves the cuadra dialect's
// POST /v1/chats from one peer route, so the real binary can be pointed at
// it with --base-url. It records the request headers Parley sent.
func peerProxy(t *testing.T, peer, route string) (string, func() http.Header) {
	t.Helper()
	target, _ := url.Parse(peer)
	var mu sync.Mutex
	var seen http.Header
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.URL.Path = route
			pr.Out.URL.RawPath = ""
		},
		FlushInterval: -1,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/chats" {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		mu.Lock()
		seen = r.Header.Clone()
		mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1", func() http.Header {
		mu.Lock()
		defer mu.Unlock()
		return seen
	}
}

// fetchPeer reads a route's stream straight from the peer, as a client of
// the protocol would, for the independent expectation.
func fetchPeer(t *testing.T, peer, route string) []byte {
	t.Helper()
	body := `{"id":"chat-1","messages":[{"id":"u1","role":"user","parts":[{"type":"text","text":"hi"}]}]}`
	resp, err := http.Post(peer+route, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Vercel-Ai-Ui-Message-Stream") != "v1" {
		t.Fatalf("peer %s: %s, ui stream header %q", route, resp.Status, resp.Header.Get("X-Vercel-Ai-Ui-Message-Stream"))
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestUIMessageStreamPeer checks Parley's print-mode output against the
// real Vercel AI SDK for every route of the peer.
func TestUIMessageStreamPeer(t *testing.T) {
	peer := startPeer(t)
	for _, tc := range []struct {
		route string
		check func(t *testing.T, o *jsonlOutput)
	}{
		{"/api/chat", func(t *testing.T, o *jsonlOutput) {
			if len(o.tools) != 2 || o.tools[0] != (toolCall{"call-weather-1", "getWeather", `{"city":"Berlin"}`}) ||
				o.count("tool_result") != 2 || o.count("source") != 2 || o.first("done")["finish_reason"] != "stop" {
				t.Errorf("chat: %+v", o.events)
			}
		}},
		{"/api/text", func(t *testing.T, o *jsonlOutput) {
			if !strings.Contains(o.text, "\n") || !hasNonASCII(o.text) {
				t.Errorf("text route lost its newline or non-ASCII text: %q", o.text)
			}
		}},
		{"/api/error", func(t *testing.T, o *jsonlOutput) {
			if e := o.last(); e["type"] != "error" || !strings.Contains(e["message"].(string), "overloaded") || o.text == "" {
				t.Errorf("error route: %v, text %q", e, o.text)
			}
		}},
		{"/api/custom", func(t *testing.T, o *jsonlOutput) {
			if o.text != "The notes say hello." || o.reasoning != "Summarise the notes." || o.count("source") != 2 {
				t.Errorf("custom: %+v", o.events)
			}
		}},
		{"/api/tool-error", func(t *testing.T, o *jsonlOutput) {
			tr := o.first("tool_result")
			if tr == nil || tr["error"] != true || !strings.Contains(tr["content"].(string), "quote service unavailable") {
				t.Errorf("tool-error: %+v", o.events)
			}
		}},
		{"/api/replay/openai-gpt-4o-parallel-tool-calls-usage", func(t *testing.T, o *jsonlOutput) {
			if len(o.tools) != 2 || o.first("done")["finish_reason"] != "tool_calls" {
				t.Errorf("replay: %+v", o.events)
			}
		}},
		{"/api/replay/deepseek-reasoner-reasoning-content", func(t *testing.T, o *jsonlOutput) {
			if o.reasoning == "" || o.text == "" {
				t.Errorf("replay reasoning: %+v", o.events)
			}
		}},
	} {
		t.Run(strings.TrimPrefix(tc.route, "/api/"), func(t *testing.T) {
			want := readUIRecording(fetchPeer(t, peer, tc.route))
			base, seen := peerProxy(t, peer, tc.route)
			cfg := filepath.Join(t.TempDir(), "config.toml")
			os.WriteFile(cfg, []byte("[providers.peer]\ndialect = \"cuadra\"\nbase_url = \""+base+"\"\ndefault_model = \"mock\"\nui_stream = true\n"), 0o600)
			r := parley(t, runOpts{}, "--config", cfg, "-p", "hi", "--output", "jsonl")
			checkAgainst(t, r, want)
			tc.check(t, parseJSONL(t, r.stdout))
			if h := seen(); h.Get("X-Stream-Format") != "ai-sdk" || h.Get("Idempotency-Key") == "" {
				t.Errorf("request headers: X-Stream-Format %q, Idempotency-Key %q", h.Get("X-Stream-Format"), h.Get("Idempotency-Key"))
			}
		})
	}
}

func hasNonASCII(s string) bool {
	for _, r := range s {
		if r > 127 {
			return true
		}
	}
	return false
}

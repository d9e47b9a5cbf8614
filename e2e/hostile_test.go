package e2e

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/sanitize"
)

// rawGateway is a loopback server that speaks HTTP/1.1 by hand, so that it
// can break the protocol in ways net/http refuses to: bytes after a
// response sized by Content-Length, a Content-Length shorter than the
// body. respond writes the whole answer to the n-th request (1-based).
type rawGateway struct {
	ln    net.Listener
	mu    sync.Mutex
	count int
	wg    sync.WaitGroup
}

func newRawGateway(t *testing.T, respond func(w io.Writer, req *http.Request, n int)) *rawGateway {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &rawGateway{ln: ln}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			g.wg.Add(1)
			go func() {
				defer g.wg.Done()
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					g.mu.Lock()
					g.count++
					n := g.count
					g.mu.Unlock()
					respond(c, req, n)
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		g.wg.Wait()
	})
	return g
}

func (g *rawGateway) url() string { return "http://" + g.ln.Addr().String() + "/v1" }

func (g *rawGateway) requests() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.count
}

// rawSSE writes a complete 200 event stream answering "ok".
func rawSSE(w io.Writer) {
	body := "data: " + textChunk("ok") + "\n\ndata: " + stopChunk + "\n\ndata: [DONE]\n\n"
	fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
}

// TestHTTPLoggerSilenced: a gateway that sends more bytes than its
// response announced makes Go's HTTP client log them ("Unsolicited
// response received on idle HTTP channel starting with …") through the
// standard logger, straight to stderr and over the chat screen. Here the
// extra bytes echo the key; nothing of them may reach either stream, in
// any output mode.
func TestHTTPLoggerSilenced(t *testing.T) {
	echo := "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 40\r\n\r\nAuthorization: Bearer " + testKey + "\r\n"
	tests := []struct {
		name  string
		first func(w io.Writer)
	}{
		{"second response after a sized body", func(w io.Writer) {
			body := `{"error":{"message":"try again"}}`
			fmt.Fprintf(w, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s%s", len(body), body, echo)
		}},
		{"content-length shorter than the body", func(w io.Writer) {
			body := `{"error":{"message":"try again; your header was Authorization: Bearer ` + testKey + `"}}`
			fmt.Fprintf(w, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n%s", body)
		}},
	}
	for _, tt := range tests {
		for _, mode := range []string{"text", "jsonl"} {
			t.Run(tt.name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				g := newRawGateway(t, func(w io.Writer, _ *http.Request, n int) {
					if n == 1 {
						tt.first(w)
						return
					}
					rawSSE(w)
				})
				r := parley(t, runOpts{}, "-p", "hi", "--output", mode, "--dialect", "openai", "--base-url", g.url(), "-m", "M")
				if g.requests() < 2 {
					t.Fatalf("the gateway saw %d requests, want a retry", g.requests())
				}
				if r.code != 0 || !strings.Contains(r.stdout, "ok") {
					t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
				}
				for _, bad := range []string{"Unsolicited", "Bearer", "HTTP/1.1", "idle HTTP channel"} {
					if strings.Contains(r.stdout, bad) || strings.Contains(r.stderr, bad) {
						t.Errorf("output shows %q:\nstdout %q\nstderr %q", bad, r.stdout, r.stderr)
					}
				}
				for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
					if line != "" && !strings.HasPrefix(line, "parley: ") {
						t.Errorf("stderr line without the parley prefix: %q", line)
					}
				}
			})
		}
	}
}

// splitKeyAnswer echoes the key of keyEnv cut by sequences the sanitizer
// removes (gluing it back together on the screen), in capitals, and
// base64-encoded.
func splitKeyAnswer(key string) string {
	return "one " + key[:9] + "\x1b[0m" + key[9:] + " two " + key[:5] + "\x00" + key[5:12] + "\u202e" + key[12:] +
		" three " + strings.ToUpper(key) + " four " + base64.StdEncoding.EncodeToString([]byte("Bearer "+key)) + " END-MARK\n"
}

// TestTUIKeySplitByControlCharacters: the chat neither shows nor copies
// (Alt+Y, through OSC 52 into tmux's paste buffers) a key that reaches
// it cut by characters the sanitizer removes, in another letter case or
// base64-encoded; nor does a key cut between reasoning and answer.
func TestTUIKeySplitByControlCharacters(t *testing.T) {
	key := strings.TrimPrefix(keyEnv, "OPENAI_API_KEY=")
	srv := chatServer(t, "thinking "+key[:10], key[10:]+" "+splitKeyAnswer(key), 4)
	p := startTUI(t, []string{keyEnv}, openaiArgs(srv, "echo my key")...)
	screen := p.waitFor(15*time.Second, "END-MARK", "done")
	p.keys("M-y")
	p.waitFor(5*time.Second, "copied")
	bufs := p.run("-L", p.sock, "list-buffers", "-F", "#{buffer_name}")
	var copied strings.Builder
	for _, name := range strings.Fields(bufs) {
		copied.WriteString(p.run("-L", p.sock, "show-buffer", "-b", name))
	}
	if copied.Len() == 0 {
		t.Fatal("Alt+Y copied nothing into tmux's buffers")
	}
	for what, s := range map[string]string{"screen": screen, "clipboard": copied.String()} {
		flat := strings.ToLower(strings.Join(strings.Fields(s), ""))
		for _, bad := range []string{strings.ToLower(key), strings.ToLower(key[10:]), base64.StdEncoding.EncodeToString([]byte(key))[:20]} {
			if strings.Contains(flat, strings.ToLower(bad)) {
				t.Errorf("the %s shows the key (%q):\n%s", what, bad, s)
			}
		}
		if !strings.Contains(s, "[redacted]") {
			t.Errorf("the %s does not say it redacted anything:\n%s", what, s)
		}
	}
}

// TestPrintKeySplitByControlCharacters: print mode's outputs, on a pipe
// (raw) and as JSONL, never carry the key in a form that the terminal or
// a later sanitizer would glue back together.
func TestPrintKeySplitByControlCharacters(t *testing.T) {
	g := newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeSSE(w, textChunk(splitKeyAnswer(testKey)), stopChunk)
	})
	for _, mode := range []string{"text", "jsonl"} {
		r := parley(t, runOpts{}, g.args("-p", "hi", "--output", mode)...)
		out := r.stdout
		if mode == "jsonl" {
			out = parseJSONL(t, r.stdout).text
		}
		flat := strings.ToLower(sanitize.Text(out))
		if r.code != 0 || !strings.Contains(out, "END-MARK") {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q", mode, r.code, r.stdout, r.stderr)
		}
		if strings.Contains(flat, strings.ToLower(testKey)) || strings.Contains(out, base64.StdEncoding.EncodeToString([]byte(testKey))[:20]) {
			t.Errorf("%s: the key survives: %q", mode, out)
		}
		if strings.Count(out, "[redacted]") != 4 {
			t.Errorf("%s: %q", mode, out)
		}
	}
}

// TestPrintSaysItWaits: print mode on a terminal says that it waits for a
// gateway that has taken the request but not begun to answer, counting
// up, and erases the line when the answer comes.
func TestPrintSaysItWaits(t *testing.T) {
	release := make(chan struct{})
	g := newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		writeSSE(w, textChunk("ANSWER-MARK"), stopChunk)
	})
	// The shell keeps the pane as parley left it (tmux would scroll it for
	// its "Pane is dead" line) and shows the exit status.
	argv := append([]string{"sh", "-c", `"$@"; echo "EXIT:$?"; exec sleep 60`, "sh", parleyBin, "-p", "hi"}, g.args()...)
	p := startPane(t, []string{"PARLEY_API_KEY=" + testKey}, argv...)
	p.waitFor(20*time.Second, "parley: waiting for the gateway to answer · 0:04")
	close(release)
	screen := p.waitFor(20*time.Second, "ANSWER-MARK", "EXIT:0")
	if strings.Contains(screen, "waiting for the gateway") {
		t.Errorf("the notice stayed on the screen:\n%s", screen)
	}
}

// TestTUIHTTPLoggerSilenced: the same stray bytes do not write Go's log
// line over the chat screen.
func TestTUIHTTPLoggerSilenced(t *testing.T) {
	echo := "HTTP/1.1 400 Bad Request\r\nContent-Length: 40\r\n\r\nAuthorization: Bearer " + strings.TrimPrefix(keyEnv, "OPENAI_API_KEY=") + "\r\n"
	g := newRawGateway(t, func(w io.Writer, req *http.Request, n int) {
		if strings.HasSuffix(req.URL.Path, "/models") {
			body := `{"object":"list","data":[{"id":"M","object":"model"}]}`
			fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
			return
		}
		if n <= 2 {
			body := `{"error":{"message":"try again"}}`
			fmt.Fprintf(w, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s%s", len(body), body, echo)
			return
		}
		rawSSE(w)
	})
	p := startTUI(t, []string{keyEnv}, "--dialect", "openai", "--base-url", g.url(), "-m", "M", "--theme", "dark", "--max-retries", "3", "question")
	screen := p.waitFor(20*time.Second, "done")
	for _, bad := range []string{"Unsolicited", "Bearer", "HTTP/1.1"} {
		if strings.Contains(screen, bad) {
			t.Errorf("the screen shows %q:\n%s", bad, screen)
		}
	}
}

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestTUIRetryNewAndInterrupt drives the chat screen through what a person
// does mid-answer: /retry while the first answer streams (the retried
// answer disappears and the gateway gets the prompt again, without it),
// ctrl+c while the next one streams (the partial answer stays, marked),
// and /new (everything goes; the next prompt starts afresh).
func TestTUIRetryNewAndInterrupt(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		n := len(bodies)
		mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		chunk := func(s string) {
			delta, _ := json.Marshal(map[string]string{"content": s})
			fmt.Fprintf(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":%s}]}\n\n", delta)
			w.(http.Flusher).Flush()
		}
		switch n {
		case 2, 4:
			chunk(fmt.Sprintf("ANSWER-%d complete.", n))
			fmt.Fprint(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
		default: // stream a little, then hold until the client hangs up
			chunk(fmt.Sprintf("PARTIAL-%d so far", n))
			<-r.Context().Done()
		}
	}))
	t.Cleanup(srv.Close)
	sent := func(i int) string {
		mu.Lock()
		defer mu.Unlock()
		if i >= len(bodies) {
			t.Fatalf("request %d never came; %d requests", i+1, len(bodies))
		}
		return bodies[i]
	}

	p := startTUI(t, []string{keyEnv}, openaiArgs(srv, "question one")...)
	p.waitFor(15*time.Second, "PARTIAL-1 so far", "streaming")
	p.keys("-l", "/retry")
	p.keys("Enter")
	screen := p.waitFor(15*time.Second, "ANSWER-2 complete.", "done")
	if strings.Contains(screen, "PARTIAL-1") || strings.Contains(screen, "interrupted") {
		t.Fatalf("the retried answer is still on screen:\n%s", screen)
	}
	if b := sent(1); !strings.Contains(b, "question one") || strings.Contains(b, "PARTIAL-1") {
		t.Fatalf("the retry sent %s", b)
	}

	p.keys("-l", "question two")
	p.keys("Enter")
	p.waitFor(15*time.Second, "PARTIAL-3 so far")
	p.keys("C-c")
	screen = p.waitFor(15*time.Second, "interrupted", "the partial answer above is kept")
	for _, want := range []string{"question one", "ANSWER-2 complete.", "question two", "PARTIAL-3 so far"} {
		if !strings.Contains(screen, want) {
			t.Fatalf("screen lacks %q after ctrl+c:\n%s", want, screen)
		}
	}

	p.keys("-l", "/new")
	p.keys("Enter")
	p.waitFor(15*time.Second, "new conversation")
	p.keys("-l", "question three")
	p.keys("Enter")
	screen = p.waitFor(15*time.Second, "ANSWER-4 complete.", "done")
	if strings.Contains(screen, "question one") || strings.Contains(screen, "PARTIAL-3") {
		t.Fatalf("/new kept the old conversation:\n%s", screen)
	}
	var req struct {
		Messages []struct{ Role, Content string } `json:"messages"`
	}
	if err := json.Unmarshal([]byte(sent(3)), &req); err != nil || len(req.Messages) != 1 || req.Messages[0].Content != "question three" {
		t.Fatalf("after /new the gateway got %s (%v)", sent(3), err)
	}
	p.keys("C-d")
}

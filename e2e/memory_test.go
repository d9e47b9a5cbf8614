package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pacedServer serves answer as an OpenAI-compatible stream in chunks of
// about chunk bytes, one every interval (all at once when interval is 0).
func pacedServer(tb testing.TB, answer string, chunk int, interval time.Duration) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		var tick <-chan time.Time
		if interval > 0 {
			t := time.NewTicker(interval)
			defer t.Stop()
			tick = t.C
		}
		for text := answer; len(text) > 0; {
			n := min(chunk, len(text))
			for n < len(text) && !isRuneStart(text[n]) {
				n++
			}
			delta, _ := json.Marshal(map[string]string{"content": text[:n]})
			fmt.Fprintf(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"M\",\"choices\":[{\"index\":0,\"delta\":%s}]}\n\n", delta)
			text = text[n:]
			if tick != nil {
				w.(http.Flusher).Flush()
				select {
				case <-tick:
				case <-r.Context().Done():
					return
				}
			}
		}
		fmt.Fprint(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"M\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// procStatus reads a kB figure (such as VmHWM) of a process from
// /proc/PID/status, in MiB.
func procStatus(tb testing.TB, pid, field string) float64 {
	tb.Helper()
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		tb.Skipf("cannot read the status of pid %s: %v", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				tb.Fatalf("%s: %q: %v", field, line, err)
			}
			return kb / 1024
		}
	}
	tb.Fatalf("no %s in /proc/%s/status", field, pid)
	return 0
}

// BenchmarkTUIMemory streams a 63 KB markdown answer (about 240
// sections) to the real binary in tmux at 200×50, paced at about 400
// chunks of 16 bytes a second and all at once, and reports the process's
// peak and final resident memory (VmHWM, VmRSS) once the answer is done:
//
//	go test -run '^$' -bench TUIMemory -benchtime 1x ./e2e
func BenchmarkTUIMemory(b *testing.B) {
	answer := longMarkdown(63<<10) + "\nFINAL-LINE\n"
	for _, tc := range []struct {
		name     string
		interval time.Duration
	}{{"paced", 2500 * time.Microsecond}, {"at-once", 0}} {
		b.Run(tc.name, func(b *testing.B) {
			var hwm, rss float64
			for b.Loop() {
				srv := pacedServer(b, answer, 16, tc.interval)
				p := startTUISized(b, 200, 50, []string{keyEnv}, openaiArgs(srv, "long")...)
				p.waitFor(120*time.Second, "FINAL-LINE", "done")
				pid := p.display("#{pane_pid}")
				hwm = max(hwm, procStatus(b, pid, "VmHWM"))
				rss = max(rss, procStatus(b, pid, "VmRSS"))
				p.keys("C-d")
			}
			b.ReportMetric(hwm, "MiB-VmHWM")
			b.ReportMetric(rss, "MiB-VmRSS")
		})
	}
}

package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
)

// The tests in this file run the test binary again as separate processes
// (helperEnv names what the child does): real processes writing to one
// database at once, and a process killed with SIGKILL mid-answer.
const helperEnv = "PARLEY_STORE_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helper(mode, os.Args))
	}
	os.Exit(m.Run())
}

// helper is the child process: mode "write DIR TAG N" records N
// conversations of several long answers as fast as it can; mode "stall
// DIR" records one answer that streams a while and then hangs, printing
// its conversation ID once the first deltas are saved.
func helper(mode string, _ []string) int {
	args := strings.Fields(mode)
	st, err := Open(args[1], Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	failed := false
	onError := func(err error) {
		fmt.Fprintln(os.Stderr, "saving:", err)
		failed = true
	}
	switch args[0] {
	case "write":
		n, _ := strconv.Atoi(args[3])
		for i := 0; i < n; i++ {
			evs := make(chan session.Stamped, 4096)
			p := &scripted{script: answering(func(k int) string {
				return strings.Repeat(fmt.Sprintf("%s conversation %d answer %d. ", args[2], i, k), 40)
			})}
			chat := session.NewChat(session.ChatOptions{Provider: p, Settings: session.Settings{Model: "m"},
				Deliver: func(ev session.Stamped) { evs <- ev }})
			rec := st.Recorder(RecorderOptions{Provider: args[2], Origin: OriginPrint, OnError: onError})
			chat.Observe(rec)
			for k := 0; k < 3; k++ {
				if _, err := chat.Send(context.Background(), fmt.Sprintf("%s question %d.%d", args[2], i, k)); err != nil {
					fmt.Fprintln(os.Stderr, err)
					return 1
				}
				for !chat.Handle(<-evs).Finished {
				}
			}
			rec.Remember(fmt.Sprintf("%s prompt %d", args[2], i))
		}
	case "stall":
		evs := make(chan session.Stamped, 64)
		p := &scripted{script: func(_ int, ctx context.Context, emit func(provider.Event)) error {
			emit(provider.Started{Status: 200, Model: "m"})
			for i := 0; i < 20; i++ {
				emit(provider.TextDelta{Text: fmt.Sprintf("partial-%d ", i)})
			}
			<-ctx.Done() // the gateway stalls
			return ctx.Err()
		}}
		chat := session.NewChat(session.ChatOptions{Provider: p, Settings: session.Settings{Model: "m"},
			Deliver: func(ev session.Stamped) { evs <- ev }})
		rec := st.Recorder(RecorderOptions{Provider: "gw", Origin: OriginPrint, OnError: onError})
		chat.Observe(rec)
		if _, err := chat.Send(context.Background(), "a question that stalls"); err != nil {
			return 1
		}
		for i := 0; i < 21; i++ {
			chat.Handle(<-evs)
		}
		fmt.Println(chat.Conversation().ID)
		for {
			chat.Handle(<-evs) // until killed
		}
	}
	if err := st.Close(); err != nil || failed {
		fmt.Fprintln(os.Stderr, "close:", err)
		return 1
	}
	return 0
}

func helperCmd(t *testing.T, mode string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	return cmd
}

func TestTwoProcessesWriteAtOnce(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	var wg sync.WaitGroup
	outs := make([][]byte, 2)
	errs := make([]error, 2)
	for i, tag := range []string{"alpha", "beta"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = helperCmd(t, fmt.Sprintf("write %s %s %d", dir, tag, n)).CombinedOutput()
		}()
	}
	wg.Wait()
	for i := range errs {
		if errs[i] != nil {
			t.Fatalf("writer %d: %v\n%s", i, errs[i], outs[i])
		}
	}
	st, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var check string
	if err := st.db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity check: %q, %v", check, err)
	}
	if _, err := st.db.Exec("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')"); err != nil {
		t.Fatalf("search index: %v", err)
	}
	ctx := context.Background()
	list, err := st.List(ctx, 0)
	if err != nil || len(list) != 2*n {
		t.Fatalf("%d conversations saved, want %d (%v)", len(list), 2*n, err)
	}
	for _, s := range list {
		c, err := st.Load(ctx, s.ID, LoadOptions{Timelines: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Messages) != 6 || len(c.Turns) != 3 {
			t.Fatalf("%s: %d messages, %d answers", s.Title, len(c.Messages), len(c.Turns))
		}
		for i, tt := range c.Turns {
			if tt.Status != StatusDone || c.Messages[2*i+1].Content != tt.Text() || len(tt.Events()) < 10 {
				t.Fatalf("%s answer %d: status %q, %d events", s.Title, i, tt.Status, len(tt.Events()))
			}
		}
	}
	for _, tag := range []string{"alpha", "beta"} {
		if hits, _ := st.Search(ctx, tag+" answer", 100); len(hits) != 3*n {
			t.Errorf("%d hits for %s, want %d", len(hits), tag, 3*n)
		}
		if h, _ := st.History(ctx, tag, 100); len(h) != n {
			t.Errorf("history of %s: %d prompts", tag, len(h))
		}
	}
}

func TestKilledMidAnswer(t *testing.T) {
	dir := t.TempDir()
	cmd := helperCmd(t, "stall "+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var id string
	select {
	case id = <-lines:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("the helper never started streaming: %s", stderr.String())
	}
	// Wait until the deltas are on disk (at most a flush interval), as
	// another process sees them: the answer is streaming.
	st, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := st.Load(ctx, id, LoadOptions{})
		if err == nil && len(c.Turns) == 1 && strings.Contains(c.Turns[0].Text(), "partial-19") {
			if c.Turns[0].Status != StatusStreaming {
				t.Fatalf("a live answer has status %q", c.Turns[0].Status)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the partial answer never reached the database (%v)", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// It is open in a live process.
	var inUse *InUseError
	if _, err := st.Resume(ctx, id); !errors.As(err, &inUse) || inUse.PID != cmd.Process.Pid {
		t.Fatalf("resuming a conversation a live process records: %v", err)
	}
	st.Close()

	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	cmd.Wait()

	st, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	list, err := st.List(ctx, 0)
	if err != nil || len(list) != 1 || list[0].ID != id || list[0].Status != StatusInterrupted || list[0].Messages != 2 {
		t.Fatalf("listing after the kill: %+v, %v", list, err)
	}
	c, err := st.Resume(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := ""
	for i := 0; i < 20; i++ {
		want += fmt.Sprintf("partial-%d ", i)
	}
	if c.Messages[1].Content != want || c.Turns[0].Text() != want || !c.Turns[0].Interrupted {
		t.Fatalf("partial answer %q, turn %q", c.Messages[1].Content, c.Turns[0].Text())
	}
	if hits, _ := st.Search(ctx, "partial", 5); len(hits) != 1 {
		t.Fatalf("the partial answer is not searchable: %+v", hits)
	}
}

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// signalCaught reports whether the process has a handler installed for
// sig, read from /proc/PID/status (SigCgt). Tests wait for it before they
// signal, so a signal never lands before Parley listens for it.
func signalCaught(pid int, sig syscall.Signal) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "SigCgt:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && mask&(1<<(uint(sig)-1)) != 0
		}
	}
	return false
}

// waitCaught polls until pid handles sig.
func waitCaught(t testing.TB, pid int, sig syscall.Signal) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !signalCaught(pid, sig) {
		if time.Now().After(deadline) {
			t.Fatalf("pid %d never installed a handler for %v", pid, sig)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// recordedTUI is the chat running in tmux with every byte it writes to the
// terminal recorded (tmux pipe-pane), so the terminal modes it leaves
// behind can be read after it exits: tmux itself hides the cursor of a
// dead pane.
type recordedTUI struct {
	*tmuxPane
	log string
}

// startRecordedTUI starts parley in tmux behind a shell that waits for a
// key, attaches the recorder, then lets the shell exec parley (same pid,
// so the pane's exit status is parley's).
func startRecordedTUI(t *testing.T, args ...string) *recordedTUI {
	t.Helper()
	log := filepath.Join(t.TempDir(), "pane.log")
	argv := append([]string{"sh", "-c", `read _ && exec "$0" "$@"`, parleyBin}, args...)
	p := &recordedTUI{tmuxPane: startPane(t, nil, argv...), log: log}
	p.run("-L", p.sock, "pipe-pane", "-t", "t", "-o", "cat >> '"+log+"'")
	p.keys("Enter")
	return p
}

// paneState is how parley left the pane: its exit status (or the signal
// that killed it) and the terminal modes its last output set.
type paneState struct {
	status    int
	signal    int
	altScreen bool
	mouse     bool
	cursor    bool
}

// exited reports whether process pid has ended and how. tmux sometimes
// leaves its child a zombie for seconds, and marks a pane dead before it
// knows the status, so the status is read from the zombie's
// /proc/PID/stat (exit_code, field 52) while it lasts, else from tmux.
func (p *recordedTUI) exited(pid int) (paneState, bool) {
	st := paneState{status: -1}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err == nil {
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(f) < 50 || f[0] != "Z" {
			return st, false
		}
		ws, _ := strconv.Atoi(f[49]) // field 52 counted from 1, after pid and comm
		if ws&0x7f != 0 {
			st.signal = ws & 0x7f
		} else {
			st.status = ws >> 8
		}
		return st, true
	}
	f := strings.Split(p.display("#{pane_dead}|#{pane_dead_status}|#{pane_dead_signal}"), "|")
	if len(f) != 3 || f[0] != "1" {
		return st, false
	}
	if n, err := strconv.Atoi(f[1]); err == nil {
		st.status = n
	}
	st.signal, _ = strconv.Atoi(f[2])
	return st, true
}

// modes reads the recorded output once it stops growing and replays its
// DEC private mode sets and resets.
func (p *recordedTUI) modes(st *paneState) {
	var data []byte
	for stable, last := 0, -1; stable < 3; {
		b, _ := os.ReadFile(p.log)
		if len(b) == last {
			stable++
		} else {
			stable, last = 0, len(b)
		}
		data = b
		time.Sleep(20 * time.Millisecond)
	}
	on := map[string]bool{"25": true}
	for _, m := range decMode.FindAllSubmatch(data, -1) {
		for _, n := range strings.Split(string(m[1]), ";") {
			on[n] = string(m[2]) == "h"
		}
	}
	st.altScreen = on["1049"] || on["47"] || on["1047"]
	st.mouse = on["1000"] || on["1002"] || on["1003"] || on["1006"]
	st.cursor = on["25"]
}

var decMode = regexp.MustCompile("\x1b\\[\\?([0-9;]+)([hl])")

// pid is the process id of parley (the pane's shell execs it).
func (p *recordedTUI) pid() int {
	pid, err := strconv.Atoi(p.display("#{pane_pid}"))
	if err != nil {
		p.t.Fatalf("pane pid: %v", err)
	}
	return pid
}

// signalAndWait sends sig to parley and returns how long it took to exit
// and the state it left the pane in.
func (p *recordedTUI) signalAndWait(sig syscall.Signal, limit time.Duration) (time.Duration, paneState) {
	p.t.Helper()
	pid := p.pid()
	waitCaught(p.t, pid, sig)
	start := time.Now()
	if err := syscall.Kill(pid, sig); err != nil {
		p.t.Fatal(err)
	}
	deadline := start.Add(limit)
	for {
		if st, ok := p.exited(pid); ok {
			took := time.Since(start)
			p.modes(&st)
			return took, st
		}
		if time.Now().After(deadline) {
			screen := p.capture()
			_ = syscall.Kill(pid, syscall.SIGKILL)
			p.t.Fatalf("parley still running %v after %v:\n%s", limit, sig, screen)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestTUISignals: every signal from outside ends the chat within a second,
// idle or while an answer streams, with the terminal restored (alternate
// screen off, mouse reporting off, cursor shown) and exit status 128 + the
// signal's number. Ten SIGTERMs, every other one while an answer streams,
// then SIGINT and SIGQUIT streaming and SIGHUP idle.
func TestTUISignals(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the chat 13 times")
	}
	type tc struct {
		sig       syscall.Signal
		streaming bool
	}
	var cases []tc
	for i := 0; i < 10; i++ {
		cases = append(cases, tc{syscall.SIGTERM, i%2 == 1})
	}
	cases = append(cases, tc{syscall.SIGINT, true}, tc{syscall.SIGHUP, false}, tc{syscall.SIGQUIT, true})
	var worst time.Duration
	for i, c := range cases {
		name := fmt.Sprintf("%02d-%v-idle", i, c.sig)
		if c.streaming {
			name = fmt.Sprintf("%02d-%v-streaming", i, c.sig)
		}
		t.Run(name, func(t *testing.T) {
			// The demo at its natural pace: the long answer streams for
			// many seconds.
			p := startRecordedTUI(t, "--demo", "--theme", "dark")
			p.waitFor(15*time.Second, "Ask anything")
			if c.streaming {
				p.keys("-l", "something long please")
				p.keys("Enter")
				p.waitFor(15*time.Second, "streaming")
			}
			elapsed, st := p.signalAndWait(c.sig, 5*time.Second)
			worst = max(worst, elapsed)
			if want := 128 + int(c.sig); st.status != want {
				t.Errorf("exit status %d (killed by signal %d), want %d", st.status, st.signal, want)
			}
			if elapsed > time.Second {
				t.Errorf("exit took %v, want under a second", elapsed)
			}
			if st.altScreen || st.mouse || !st.cursor {
				t.Errorf("terminal not restored: alternate screen %v, mouse reporting %v, cursor shown %v",
					st.altScreen, st.mouse, st.cursor)
			}
		})
	}
	t.Logf("slowest exit after a signal: %v", worst)
}

// TestSignalWhileReadingInput: a signal that arrives while print mode
// still reads its prompt from a pipe, waits for api_key_cmd or opens a
// config file nobody writes to ends Parley at once with 128 + the signal.
func TestSignalWhileReadingInput(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "config.toml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	keyConf := filepath.Join(dir, "key.toml")
	conf := "[providers.p]\ndialect = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\napi_key_cmd = \"sleep 25\"\ndefault_model = \"m\"\n"
	if err := os.WriteFile(keyConf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		noKey bool
		pipe  bool
	}{
		{"piped stdin", []string{"-p", "--dialect", "openai", "--base-url", "http://127.0.0.1:9/v1", "-m", "m"}, false, true},
		{"api_key_cmd", []string{"-p", "hi", "--config", keyConf}, true, false},
		{"config from a fifo", []string{"-p", "hi", "--config", fifo}, false, false},
	}
	for _, tt := range tests {
		for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
			t.Run(tt.name+"/"+sig.String(), func(t *testing.T) {
				cmd, stdout, stderr := parleyCmd(t, runOpts{noKey: tt.noKey}, tt.args...)
				if tt.pipe {
					// A writer that never writes: like (sleep 25; echo x) | parley.
					r, w, err := os.Pipe()
					if err != nil {
						t.Fatal(err)
					}
					defer w.Close()
					defer r.Close()
					cmd.Stdin = r
				}
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				waitCaught(t, cmd.Process.Pid, sig)
				// Let it reach the blocking read.
				waitBlocked(t, cmd.Process.Pid)
				sent := time.Now()
				if err := cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				done := make(chan error, 1)
				go func() { done <- cmd.Wait() }()
				var err error
				select {
				case err = <-done:
				case <-time.After(10 * time.Second):
					_ = cmd.Process.Kill()
					<-done
					t.Fatalf("still running 10 s after %v; stderr %q", sig, stderr.String())
				}
				took := time.Since(sent)
				r := finishRun(t, cmd, err, start, stdout, stderr)
				if want := 128 + int(sig); r.code != want {
					t.Errorf("exit %d, want %d; stderr %q", r.code, want, r.stderr)
				}
				if took > 1500*time.Millisecond {
					t.Errorf("exit took %v after the signal", took)
				}
				if !strings.Contains(r.stderr, "interrupted") {
					t.Errorf("stderr %q does not say it was interrupted", r.stderr)
				}
			})
		}
	}
}

// waitBlocked waits until the process has been asleep (state S) for a
// moment: it is blocked on its read, not still starting up.
func waitBlocked(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	asleep := 0
	for asleep < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("pid %d never blocked", pid)
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err == nil {
			s := string(b)
			if f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]); len(f) > 0 && f[0] == "S" {
				asleep++
			} else {
				asleep = 0
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

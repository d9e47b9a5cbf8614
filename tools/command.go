package tools

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley/session"
)

// stderrTail is how much of a failing command's stderr is kept for its
// result: the end, where the error usually is.
const stderrTail = 4 << 10

// waitDelay is how long a finished or killed command's pipes may stay
// open (held by a grandchild) before Parley stops waiting for them.
const waitDelay = 2 * time.Second

// runCommand runs a command tool: argv directly (no shell), the call's
// JSON arguments on stdin, env as its whole environment. Its stdout is
// the result, cut at maxOut bytes with the cut marked. A non-zero exit, a
// timeout or a failure to start is an error result that says so, with
// the end of stderr. Cancelling ctx kills the command and every process
// it started.
func runCommand(ctx context.Context, argv []string, args string, env []string, timeout time.Duration, maxOut int) session.ToolOutput {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(args)
	out := &cappedBuffer{max: maxOut}
	errOut := &tailBuffer{max: stderrTail}
	cmd.Stdout, cmd.Stderr = out, errOut
	cmd.WaitDelay = waitDelay
	killGroup(cmd)
	err := cmd.Run()
	text := out.String()
	switch {
	case err == nil:
		return session.ToolOutput{Content: text}
	case ctx.Err() == context.DeadlineExceeded:
		return session.ToolOutput{Content: withNote(text, fmt.Sprintf("error: %s timed out after %s and was stopped", argv[0], timeout)), IsError: true}
	case ctx.Err() != nil:
		return session.ToolOutput{Content: withNote(text, "error: cancelled by the user"), IsError: true}
	}
	var ee *exec.ExitError
	note := ""
	if errors.As(err, &ee) {
		note = fmt.Sprintf("error: %s exited with status %d", argv[0], ee.ExitCode())
		if ee.ExitCode() < 0 {
			note = fmt.Sprintf("error: %s was killed (%s)", argv[0], ee.ProcessState)
		}
	} else {
		note = fmt.Sprintf("error: cannot run %s: %v", argv[0], err)
	}
	if tail := strings.TrimSpace(errOut.String()); tail != "" {
		note += "\nstderr:\n" + tail
	}
	return session.ToolOutput{Content: withNote(text, note), IsError: true}
}

// withNote appends note to output on a line of its own.
func withNote(output, note string) string {
	if output == "" {
		return note
	}
	if !strings.HasSuffix(output, "\n") {
		output += "\n"
	}
	return output + note
}

// cappedBuffer keeps the first max bytes written to it and counts the
// rest; its String marks the cut. It is safe for concurrent use.
type cappedBuffer struct {
	mu      sync.Mutex
	max     int
	buf     bytes.Buffer
	dropped int64
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	room := b.max - b.buf.Len()
	if room >= len(p) {
		b.buf.Write(p)
		return len(p), nil
	}
	if room > 0 {
		b.buf.Write(p[:room])
	}
	b.dropped += int64(len(p) - max(room, 0))
	return len(p), nil // keep the writer going: the command must not block on a full pipe
}

// String is what was kept, with a marker line when something was cut.
func (b *cappedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := strings.ToValidUTF8(b.buf.String(), "\uFFFD")
	if b.dropped == 0 {
		return s
	}
	// Do not end on half a character.
	s = strings.TrimRight(s, "\uFFFD")
	return withNote(s, fmt.Sprintf("[output cut at %s: %d more bytes not shown]", sizeText(b.max), b.dropped))
}

// sizeText writes a byte count the way the configuration does.
func sizeText(n int) string {
	if n%1024 == 0 && n >= 1024 {
		return fmt.Sprintf("%d KB", n/1024)
	}
	return fmt.Sprintf("%d bytes", n)
}

// tailBuffer keeps the last max bytes written to it. It is safe for
// concurrent use.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.ToValidUTF8(string(b.buf), "")
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/sanitize"
	"github.com/parley-chat/parley/schema"
	"github.com/parley-chat/parley/session"
	"github.com/parley-chat/parley/store"
	"github.com/parley-chat/parley/ui/markdown"
)

// maxStdinPrompt bounds how much piped input print mode reads.
const maxStdinPrompt = 32 << 20

// runPrint is print mode: one request, the answer on stdout, exit.
func (a *app) runPrint(cmd *cobra.Command, args []string) error {
	if a.f.output != "text" && a.f.output != "jsonl" {
		return usageErrorf("--output must be text or jsonl, not %q", a.f.output)
	}
	if err := a.checkPrintTools(cmd); err != nil {
		return err
	}
	prompt, err := a.readPrompt(cmd.Context(), args)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	rs, err := a.loadResumed(ctx)
	if err != nil {
		return err
	}
	defer rs.close(a)
	t, err := a.resolve(ctx, cmd, true)
	if err != nil {
		return err
	}
	defer t.close()
	t.provider, a.env.Stderr = withWaitNotice(t.provider, a.env.Stderr, a.env.StderrIsTerminal)
	rs.start(a, t, store.OriginPrint)
	a.saving = rs
	ts, err := a.setUpTools(t)
	if err != nil {
		return err
	}
	defer ts.close()
	a.tools = ts
	a.maxWidth = t.maxWidth
	return a.printAnswer(ctx, t.provider, t.settings, prompt)
}

// printAnswer asks for one answer to prompt on a session.Chat and prints
// its events as they arrive. When the answer ends in tool calls the tool
// loop (a.tools, see tools.go) runs them and asks for the next answer,
// until the model answers in text. The chat's runner guarantees exactly
// one terminal event per answer, even from a provider that panics or
// returns without one; the last turn is then the one account of how the
// request ended, and decides the exit code.
func (a *app) printAnswer(ctx context.Context, prov provider.Provider, settings session.Settings, prompt string) error {
	stdout := newRedactWriter(a.env.Stdout, a.secret)
	stderr := newRedactWriter(a.env.Stderr, a.secret)
	p := a.newPrinter(stdout, stderr)
	if reg := a.tools.startTools(ctx, settings, p); reg != nil {
		settings.Tools = reg.Definitions()
	}
	events := make(chan session.Stamped, 64)
	done := make(chan session.ToolDone, 4)
	chat := a.saving.newChat(session.ChatOptions{Provider: prov, Settings: settings,
		Deliver: func(ev session.Stamped) { events <- ev }})
	tl := a.newPrintLoop(ctx, chat, done)
	p.toolsRun(tl.engaged)
	if _, err := chat.Send(ctx, prompt); err != nil {
		return failure(err)
	}
	stop := ctx.Done() // nil once handled, so a cancelled context is not polled again
	for over := false; !over; {
		select {
		case ev := <-events:
			if e, ok := ev.Event.(provider.Error); ok && e.Err != nil {
				e.Err.Redact(a.secret)
			}
			up := chat.Handle(ev)
			if up.Finished {
				p.schema(up.Turn.SchemaCheck)
			}
			p.event(ev.Event)
			if up.Finished {
				over = tl.step(tl.loop.AfterTurn(up.Turn), p)
			}
		case d := <-done:
			over = tl.step(tl.loop.Handle(d), p)
		case <-stop:
			stop = nil
			if tl.loop.Busy() { // a tool runs or waits: stop it
				over = tl.step(tl.loop.Cancel(), p)
			}
		}
	}
	turn := chat.Turn()
	p.finish()
	werr := errors.Join(stdout.Flush(), stderr.Flush(), p.writeErr())
	if turn.Err == nil && !turn.Interrupted && ctx.Err() == nil {
		if werr != nil {
			return failure(fmt.Errorf("writing output: %w", werr))
		}
		if tl.stopped != "" {
			return &exitError{code: ExitFailure, err: errors.New("the tool loop stopped before the model answered"), silent: a.f.output == "text"}
		}
		return schemaFailure(turn)
	}
	// The text printer has already reported the error on stderr, in order
	// with the retry lines; in jsonl mode it is an event on stdout and is
	// also reported on stderr by the caller.
	silent := a.f.output == "text"
	if turn.Interrupted || ctx.Err() != nil {
		return &exitError{code: ExitInterrupted, err: errors.New("interrupted"), silent: silent}
	}
	return &exitError{code: ExitFailure, err: errors.New(describeError(turn.Err)), silent: silent}
}

// newPrinter is the printer for the --output format.
func (a *app) newPrinter(stdout, stderr io.Writer) printer {
	if a.f.output == "jsonl" {
		return &jsonlPrinter{out: stdout, errOut: stderr, secret: a.secret}
	}
	return &textPrinter{
		out:           stdout,
		errOut:        stderr,
		sanitizeOut:   a.env.StdoutIsTerminal,
		sanitizeErr:   a.env.StderrIsTerminal,
		showReasoning: a.f.showReasoning,
		secret:        a.secret,
		md:            a.answerPrinter(),
	}
}

// readPrompt assembles the prompt: the arguments joined by spaces, the
// piped stdin, or both. With both, stdin is context placed below the
// prompt after a blank line:
//
//	PROMPT
//
//	STDIN
//
// Reading stdin ends as soon as ctx does (a signal), even while the
// writer on the other end of the pipe has not written anything yet.
func (a *app) readPrompt(ctx context.Context, args []string) (string, error) {
	prompt := strings.TrimSpace(strings.Join(args, " "))
	var piped string
	if !a.env.StdinIsTerminal && a.env.Stdin != nil {
		type read struct {
			b   []byte
			err error
		}
		ch := make(chan read, 1)
		go func() {
			// A read blocked on the pipe cannot be interrupted: when ctx
			// ends first this goroutine is left to the process's exit.
			b, err := io.ReadAll(io.LimitReader(a.env.Stdin, maxStdinPrompt+1))
			ch <- read{b, err}
		}()
		var r read
		select {
		case r = <-ch:
		case <-ctx.Done():
			return "", &exitError{code: ExitInterrupted, err: errors.New("interrupted while reading stdin")}
		}
		if r.err != nil {
			return "", usageErrorf("reading stdin: %v", r.err)
		}
		if len(r.b) > maxStdinPrompt {
			return "", usageErrorf("stdin is larger than %d MB", maxStdinPrompt>>20)
		}
		piped = strings.TrimRight(string(r.b), " \t\r\n")
		piped = strings.TrimLeft(piped, "\r\n")
	}
	switch {
	case prompt != "" && piped != "":
		return prompt + "\n\n" + piped, nil
	case prompt != "":
		return prompt, nil
	case piped != "":
		return piped, nil
	}
	return "", usageErrorf("no prompt: give it as an argument (parley -p \"question\") or pipe it on stdin")
}

// printer renders the event stream of print mode.
type printer interface {
	event(provider.Event)
	// schema receives the check of a finished answer against the
	// --json-schema schema (nil without one) before its terminal event.
	schema(*schema.Result)
	finish()
	writeErr() error
	// toolsRun says whether tool calls can run (else they are reported
	// as not executed).
	toolsRun(bool)
	// toolRun reports a tool call's progress and result.
	toolRun(*session.ToolRun)
	// note reports a message of the tool loop.
	note(string)
	// nextTurn separates the answers of a tool loop.
	nextTurn()
}

// jsonlPrinter writes one JSON object per event per line, in the shape of
// provider.MarshalEvent. The bytes are written as they are (JSON escapes
// control characters).
type jsonlPrinter struct {
	out    io.Writer
	errOut io.Writer
	secret string
	err    error
}

func (p *jsonlPrinter) event(ev provider.Event) {
	if p.err != nil {
		return
	}
	b, err := provider.MarshalEvent(ev)
	if err != nil {
		p.err = err
		return
	}
	b = append(b, '\n')
	_, p.err = p.out.Write(b)
}

func (p *jsonlPrinter) finish()         {}
func (p *jsonlPrinter) toolsRun(bool)   {}
func (p *jsonlPrinter) writeErr() error { return p.err }

// textPrinter streams the answer text to stdout as it arrives and reports
// everything else on stderr: retries and queue waits, tool calls (never
// executed), reasoning with --show-reasoning, and finally the error. Text
// going to a terminal is sanitized; piped output is the model's bytes.
type textPrinter struct {
	out, errOut    io.Writer
	sanitizeOut    bool
	sanitizeErr    bool
	showReasoning  bool
	secret         string
	writeFailedErr error

	md            *markdown.Printer // renders the answer; nil writes it raw
	lastOut       byte              // last byte written to stdout
	lastReasoning byte              // last byte of reasoning written to stderr
	err           *provider.APIError
	truncated     bool           // the answer ended at the token limit
	check         *schema.Result // the answer checked against --json-schema
	runsTools     bool           // tool calls run (the tool loop has tools)
}

func (p *textPrinter) write(w io.Writer, s string) {
	if p.writeFailedErr != nil || s == "" {
		return
	}
	_, p.writeFailedErr = io.WriteString(w, s)
}

// endReasoning closes an open reasoning block on stderr with a newline.
func (p *textPrinter) endReasoning() {
	if p.lastReasoning != 0 && p.lastReasoning != '\n' {
		p.write(p.errOut, "\n")
	}
	p.lastReasoning = 0
}

func (p *textPrinter) line(format string, args ...any) {
	p.endReasoning()
	msg := redact(fmt.Sprintf(format, args...), p.secret)
	p.write(p.errOut, "parley: "+sanitize.Line(msg)+"\n")
}

func (p *textPrinter) event(ev provider.Event) {
	switch e := ev.(type) {
	case provider.TextDelta:
		s := e.Text
		if p.md != nil {
			s = p.md.Append(s)
		} else if p.sanitizeOut {
			s = sanitize.Text(s)
		}
		if s == "" {
			return
		}
		p.endReasoning()
		p.write(p.out, s)
		p.lastOut = s[len(s)-1]
	case provider.ReasoningDelta:
		if !p.showReasoning {
			return
		}
		s := e.Text
		if p.sanitizeErr {
			s = sanitize.Text(s)
		}
		if s == "" {
			return
		}
		p.write(p.errOut, s)
		p.lastReasoning = s[len(s)-1]
	case provider.ToolCallEvent:
		args := e.Arguments
		if args == "" {
			args = "{}"
		}
		if p.runsTools {
			p.line("tool call: %s %s [id %s]", e.Name, args, e.ID)
		} else {
			p.line("tool call (not executed): %s %s [id %s]", e.Name, args, e.ID)
		}
	case provider.Retry:
		p.line("%s", describeRetry(e))
	case provider.Paced:
		p.line("waiting for the rate limit (%s: none left), sending in %s", e.Scope, e.Wait.Round(100*time.Millisecond))
	case provider.Error:
		p.err = e.Err
	case provider.Done:
		p.truncated = provider.TokenLimited(e.FinishReason)
	}
}

// finish ends the output: a newline after an answer that did not end with
// one, then the error line, if any.
func (p *textPrinter) finish() {
	p.endReasoning()
	if p.md != nil {
		if s := p.md.Finish(); s != "" {
			p.write(p.out, s)
			p.lastOut = s[len(s)-1]
		}
	}
	if p.lastOut != 0 && p.lastOut != '\n' {
		p.write(p.out, "\n")
	}
	if p.truncated {
		p.line("the answer stopped at the token limit (raise --max-tokens for more)")
	}
	if p.err != nil {
		if p.err.Kind == provider.KindCanceled {
			p.line("interrupted")
		} else {
			p.line("%s", describeError(p.err))
		}
	}
	p.reportSchema()
}

func (p *textPrinter) writeErr() error { return p.writeFailedErr }

func (p *textPrinter) toolsRun(on bool) { p.runsTools = on }

// describeRetry is the stderr line for a retry: a 429 from an
// auto-queueing gateway reads as a queue wait, not a failure.
func describeRetry(r provider.Retry) string {
	wait := r.Wait.Round(100 * time.Millisecond)
	attempt := fmt.Sprintf("attempt %d of %d", r.Attempt, r.Max)
	if r.Max <= 0 {
		attempt = fmt.Sprintf("attempt %d", r.Attempt)
	}
	if r.Queued || r.Status == 429 {
		return fmt.Sprintf("queued by the gateway (429), retrying in %s (%s)", wait, attempt)
	}
	what := "connection failed"
	if r.Status > 0 {
		what = fmt.Sprintf("HTTP %d", r.Status)
	}
	if r.Message != "" {
		what += ": " + r.Message
	}
	return fmt.Sprintf("%s; retrying in %s (%s)", what, wait, attempt)
}

// describeError is the one-line message for a failed stream.
func describeError(e *provider.APIError) string {
	msg := e.Error()
	switch e.Kind {
	case provider.KindTimeout:
		if !strings.Contains(strings.ToLower(msg), "timeout") && !strings.Contains(strings.ToLower(msg), "timed out") {
			msg = "stream timed out: " + msg
		}
	case provider.KindNetwork:
		if !strings.Contains(strings.ToLower(msg), "network") && !strings.Contains(strings.ToLower(msg), "connect") {
			msg = "network error: " + msg
		}
	}
	if e.Partial {
		msg += " (the answer above is incomplete)"
	}
	return msg
}

// answerPrinter renders the answer of print mode in text output to a
// terminal, as the chat shows it, at the terminal's width (no wider than
// max_width) in the configured theme; nil, which writes the model's text
// as it comes, with --raw or when stdout is not a terminal. Each finished
// block is written as soon as the next one starts, never redrawn, so the
// terminal's scrollback holds the answer once, rendered, and piped output
// stays the model's bytes.
func (a *app) answerPrinter() *markdown.Printer {
	if a.f.raw || a.f.output != "text" || !a.env.StdoutIsTerminal {
		return nil
	}
	width := a.terminalWidth()
	if a.maxWidth > 0 {
		width = min(width, a.maxWidth)
	}
	r, err := markdown.New(width, a.showTheme())
	if err != nil {
		return nil
	}
	return markdown.NewPrinter(r, func(s string) string { return redact(sanitize.Text(s), a.secret) })
}

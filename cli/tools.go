package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/internal/demogw"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/sanitize"
	"github.com/parley-chat/parley/session"
	"github.com/parley-chat/parley/tools"
	"github.com/parley-chat/parley/ui"
)

// toolSetup is what the chat screen and print mode need to run tools.
type toolSetup struct {
	// registry is nil when no tools are offered (--tools none, or none
	// declared and no demo).
	registry  *tools.Registry
	policy    *session.ToolPolicy
	maxRounds int
	cfg       *config.Config
	saveMu    sync.Mutex
}

// close stops the MCP servers.
func (ts *toolSetup) close() {
	if ts != nil && ts.registry != nil {
		_ = ts.registry.Close()
	}
}

// setUpTools builds the tool registry from the configuration's [[tools]]
// and [[mcp]] (and the demo's get_weather with --demo) and offers its
// tools in t's settings. MCP servers are not started here: they start
// when the first prompt needs their tools.
func (a *app) setUpTools(t *target) (*toolSetup, error) {
	ts := &toolSetup{cfg: t.cfg, maxRounds: config.DefaultMaxToolRounds}
	if t.cfg != nil {
		ts.maxRounds = t.cfg.MaxRounds()
		ts.policy = session.NewToolPolicy(t.cfg.AllowList())
	} else {
		ts.policy = session.NewToolPolicy(nil)
	}
	if !t.settings.ToolsMode.OffersTools() {
		t.settings.Tools = nil
		return ts, nil
	}
	var specs []tools.Spec
	var servers []tools.ServerSpec
	hidden := []string{config.KeyEnv}
	for _, d := range provider.Dialects() {
		hidden = append(hidden, config.DialectKeyEnv(d))
	}
	if c := t.cfg; c != nil {
		for _, p := range c.Providers {
			if p.APIKeyEnv != "" {
				hidden = append(hidden, p.APIKeyEnv)
			}
		}
		for _, d := range c.ToolDefs {
			kind := tools.KindCommand
			if d.Kind == config.ToolKindManual {
				kind = tools.KindManual
			}
			specs = append(specs, tools.Spec{Name: d.Name, Description: d.Description, Parameters: d.Parameters,
				Kind: kind, Command: d.Command, Timeout: d.Timeout.Duration, MaxOutput: d.MaxOutput, Env: d.Env, Source: "config"})
		}
		for _, s := range c.MCP {
			servers = append(servers, tools.ServerSpec{Name: s.Name, Command: s.Command, URL: s.URL,
				Headers: s.Headers, Env: s.Env, Timeout: s.Timeout.Duration})
		}
	}
	if a.f.demo {
		for _, def := range demogw.Tools() {
			specs = append(specs, tools.Spec{Name: def.Name, Description: def.Description, Parameters: def.Parameters,
				Kind: tools.KindBuiltin, Func: demogw.Weather, Source: "built-in demo"})
		}
	}
	if len(specs) == 0 && len(servers) == 0 {
		t.settings.Tools = nil
		return ts, nil
	}
	reg, err := tools.New(tools.Options{Tools: specs, Servers: servers, Environ: os.Environ(), Hidden: hidden, Secret: a.secret})
	if err != nil {
		return nil, usageErrorf("%s: %v", configName(t.cfg), err)
	}
	ts.registry = reg
	t.settings.Tools = reg.Definitions()
	return ts, nil
}

// configName names the configuration file in messages.
func configName(c *config.Config) string {
	if c != nil && c.Path != "" {
		return c.Path
	}
	return "config"
}

// uiOptions are the chat screen's tool options.
func (ts *toolSetup) uiOptions() *ui.ToolOptions {
	return &ui.ToolOptions{Registry: ts.registry, Policy: ts.policy, MaxRounds: ts.maxRounds, SaveAllow: ts.saveAllow}
}

// saveAllow records a tool as always allowed and says where.
func (ts *toolSetup) saveAllow(name string) (string, error) {
	ts.saveMu.Lock()
	defer ts.saveMu.Unlock()
	if ts.cfg == nil {
		return "", errors.New("no configuration to save it in")
	}
	saved, err := config.SaveAllow(ts.cfg, name)
	if err != nil {
		return "", err
	}
	if saved.InConfig {
		return fmt.Sprintf("%s is always allowed — saved in %s", name, saved.Path), nil
	}
	return fmt.Sprintf("%s is always allowed — saved in %s (%s)", name, saved.Path, saved.Why), nil
}

// checkPrintTools refuses --tools ask in print mode when there is no
// terminal to ask on.
func (a *app) checkPrintTools(cmd *cobra.Command) error {
	if cmd.Flags().Changed("tools") && a.f.tools == string(provider.ToolsAsk) && !a.env.StdinIsTerminal {
		return usageErrorf("--tools ask needs a terminal to ask on, and stdin is not one: " +
			"use --tools auto with an allow list (allow = [\"get_time\"] in the config file) to run those tools without asking, or --tools none")
	}
	return nil
}

// printLoop runs the tool loop of print mode: the loop itself and, when
// stdin is a terminal, the approver that asks on it.
type printLoop struct {
	loop *session.ToolLoop
	ask  *ttyApprover    // nil without a terminal
	reg  *tools.Registry // nil without tools
	// engaged is set when the request offered tools that can run.
	engaged bool
	stopped string // why the loop stopped before a text answer
}

// newPrintLoop builds the tool loop for print mode over chat.
func (a *app) newPrintLoop(ctx context.Context, chat *session.Chat, done chan<- session.ToolDone) *printLoop {
	ts := a.tools
	pl := &printLoop{}
	o := session.ToolLoopOptions{Deliver: func(d session.ToolDone) { done <- d }}
	if ts != nil {
		o.Policy, o.MaxRounds = ts.policy, ts.maxRounds
		if ts.registry != nil {
			o.Tools, pl.reg = ts.registry, ts.registry
			pl.engaged = len(chat.Settings().Tools) > 0 && chat.Settings().ToolsMode.OffersTools()
		}
	}
	if a.env.StdinIsTerminal && a.env.Stdin != nil {
		pl.ask = &ttyApprover{in: bufio.NewReader(a.env.Stdin), out: a.env.Stderr, ts: ts}
		o.Approver = pl.ask
	}
	pl.loop = session.NewToolLoop(ctx, chat, o)
	return pl
}

// step shows what a step of the loop changed and answers the questions it
// asked, until the loop waits for a run or the next answer streams. It
// reports whether the exchange is over.
func (pl *printLoop) step(up session.LoopUpdate, p printer) (over bool) {
	for {
		for _, r := range up.Runs {
			p.toolRun(r)
		}
		if pl.reg != nil {
			for _, msg := range pl.reg.TakeProblems() { // an MCP server that died
				p.note("warning: " + msg)
			}
		}
		if up.Stopped != "" {
			pl.stopped = up.Stopped
			p.note(up.Stopped)
		}
		if up.Err != nil {
			p.note("could not go on after the tools: " + up.Err.Error())
			return true
		}
		if up.Turn != nil {
			p.nextTurn()
			return false
		}
		switch {
		case pl.ask != nil && len(pl.ask.asks) > 0:
			req := pl.ask.asks[0]
			pl.ask.asks = pl.ask.asks[1:]
			up = pl.loop.Decide(pl.ask.decide(req))
		case pl.ask != nil && len(pl.ask.inputs) > 0:
			call := pl.ask.inputs[0]
			pl.ask.inputs = pl.ask.inputs[1:]
			text, ok := pl.ask.input(call)
			up = pl.loop.Provide(call.Call.ID, text, ok)
		default:
			return !pl.loop.Busy()
		}
	}
}

// ttyApprover asks on the terminal, in print mode: each call with its
// arguments, and a one-letter answer read from stdin.
type ttyApprover struct {
	in     *bufio.Reader
	out    io.Writer
	ts     *toolSetup
	asks   []session.ApprovalRequest
	inputs []session.ToolCallInfo
}

func (t *ttyApprover) Ask(req session.ApprovalRequest) { t.asks = append(t.asks, req) }
func (t *ttyApprover) Input(c session.ToolCallInfo)    { t.inputs = append(t.inputs, c) }

// decide asks about each call of req in turn.
func (t *ttyApprover) decide(req session.ApprovalRequest) []session.Decision {
	out := make([]session.Decision, len(req.Calls))
	for i, c := range req.Calls {
		args := c.Call.Arguments
		for {
			fmt.Fprintf(t.out, "parley: the model wants to run %s (%s) with:\n%s\n",
				sanitize.Line(c.Tool.Name), sanitize.Line(c.Tool.Source), indent(sanitize.Text(prettyJSON(args))))
			fmt.Fprint(t.out, "parley: [y] allow once  [s] this session  [a] always  [n] deny  [e] edit: ")
			line, err := t.readLine()
			if err != nil {
				out[i] = session.Decision{Reason: "no answer from the terminal"}
				break
			}
			d, again := t.answer(line, c, &args)
			if !again {
				out[i] = d
				break
			}
		}
	}
	return out
}

// answer turns one typed answer into a decision; again is set when the
// question must be asked again.
func (t *ttyApprover) answer(line string, c session.ToolCallInfo, args *string) (d session.Decision, again bool) {
	edited := ""
	if *args != c.Call.Arguments {
		edited = *args
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return session.Decision{Allow: true, Arguments: edited}, false
	case "s":
		return session.Decision{Allow: true, Scope: session.AllowSession, Arguments: edited}, false
	case "a":
		if t.ts != nil {
			if msg, err := t.ts.saveAllow(c.Tool.Name); err != nil {
				fmt.Fprintf(t.out, "parley: could not save: %s — allowed for now only\n", sanitize.Line(err.Error()))
			} else {
				fmt.Fprintf(t.out, "parley: %s\n", sanitize.Line(msg))
			}
		}
		return session.Decision{Allow: true, Scope: session.AllowAlways, Arguments: edited}, false
	case "n", "no":
		fmt.Fprint(t.out, "parley: reason for the model (optional): ")
		reason, _ := t.readLine()
		return session.Decision{Reason: strings.TrimSpace(reason)}, false
	case "e":
		text, err := editText(prettyJSON(*args))
		if err == nil && t.ts != nil && t.ts.registry != nil {
			err = t.ts.registry.Validate(c.Call.Name, compactJSON(text))
		}
		if err != nil {
			fmt.Fprintf(t.out, "parley: %s — arguments unchanged\n", sanitize.Line(err.Error()))
		} else {
			*args = compactJSON(text)
		}
	}
	return session.Decision{}, true
}

// input reads a manual tool's result: lines up to an empty one.
func (t *ttyApprover) input(c session.ToolCallInfo) (string, bool) {
	fmt.Fprintf(t.out, "parley: type the result of %s for\n%s\nparley: (end with an empty line)\n",
		sanitize.Line(c.Tool.Name), indent(sanitize.Text(prettyJSON(c.Call.Arguments))))
	var lines []string
	for {
		line, err := t.readLine()
		if err != nil || line == "" {
			return strings.Join(lines, "\n"), err == nil || len(lines) > 0
		}
		lines = append(lines, line)
	}
}

func (t *ttyApprover) readLine() (string, error) {
	line, err := t.in.ReadString('\n')
	if err != nil && line == "" {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// editText lets the user edit text in $VISUAL or $EDITOR.
func editText(text string) (string, error) {
	f, err := os.CreateTemp("", "parley-args-*.json")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(text + "\n"); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	editor := "vi"
	for _, v := range []string{"VISUAL", "EDITOR"} {
		if e := strings.TrimSpace(os.Getenv(v)); e != "" {
			editor = e
			break
		}
	}
	args := strings.Fields(editor)
	c := exec.Command(args[0], append(args[1:], f.Name())...)
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stderr, os.Stderr
	if err := c.Run(); err != nil {
		return "", fmt.Errorf("editor: %w", err)
	}
	b, err := os.ReadFile(f.Name())
	if err != nil {
		return "", err
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return "", fmt.Errorf("not JSON: %w", err)
	}
	return string(b), nil
}

// prettyJSON indents JSON text; anything else is returned as it is.
func prettyJSON(s string) string {
	var v any
	if strings.TrimSpace(s) == "" {
		return "{}"
	}
	if json.Unmarshal([]byte(s), &v) != nil {
		return s
	}
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

// compactJSON writes JSON text on one line.
func compactJSON(s string) string {
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// toolRun reports a tool call's progress on stderr: when it starts, and
// its result (the result itself goes to the model, not to stdout).
func (p *textPrinter) toolRun(r *session.ToolRun) {
	name := r.Tool.Name
	switch {
	case r.State == session.RunRunning:
		why := ""
		if r.Why != "" {
			why = " (" + r.Why + ")"
		}
		p.line("running %s%s", name, why)
	case r.State != session.RunDone:
	case r.Unasked:
		p.line("%s not run: it is not in the allow list, and print mode has no terminal to ask on (allow it in the config file's allow list)", name)
	case r.Denied:
		p.line("%s denied%s", name, reasonSuffix(r.Reason))
	case r.Output.IsError:
		first, _, _ := strings.Cut(strings.TrimSpace(r.Output.Content), "\n")
		p.line("%s: %s", name, first)
	default:
		p.line("%s returned %d bytes", name, len(r.Output.Content))
	}
}

func reasonSuffix(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + reason
}

// note reports the loop's own messages on stderr.
func (p *textPrinter) note(msg string) { p.line("%s", msg) }

// nextTurn starts the next answer on a line of its own.
func (p *textPrinter) nextTurn() {
	p.endReasoning()
	if p.lastOut != 0 && p.lastOut != '\n' {
		p.write(p.out, "\n")
		p.lastOut = '\n'
	}
}

// toolRun writes a finished call as a tool_result event; a denial is
// also reported on stderr.
func (p *jsonlPrinter) toolRun(r *session.ToolRun) {
	if r.State != session.RunDone {
		return
	}
	p.event(provider.ToolResult{ID: r.Call.ID, Name: r.Call.Name, Output: r.Output.Content, IsError: r.Output.IsError})
	if r.Unasked {
		p.note(fmt.Sprintf("%s not run: it is not in the allow list, and print mode has no terminal to ask on (allow it in the config file's allow list)", r.Tool.Name))
	}
}

// note reports the loop's own messages on stderr.
func (p *jsonlPrinter) note(msg string) {
	if p.errOut != nil {
		fmt.Fprintf(p.errOut, "parley: %s\n", sanitize.Line(redact(msg, p.secret)))
	}
}

func (p *jsonlPrinter) nextTurn() {}

// startTools starts the MCP servers before the first request in print
// mode (the request must list their tools) and reports the ones that
// failed. It returns the registry when the request offers tools.
func (ts *toolSetup) startTools(ctx context.Context, settings session.Settings, p printer) *tools.Registry {
	if ts == nil || ts.registry == nil || !settings.ToolsMode.OffersTools() {
		return nil
	}
	ts.registry.Start(ctx)
	for _, msg := range ts.registry.TakeProblems() {
		p.note("warning: " + msg)
	}
	return ts.registry
}

// Package cli is Parley's command line: the cobra commands, the merge of
// configuration file and flags into a provider and request settings, print
// mode (parley -p) and the subcommands. main.go only calls Main.
package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/sanitize"
)

// Env is the process environment a command runs in. Tests substitute
// their own; Main fills it from the real process.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads environment variables.
	Getenv func(string) string
	// StdinIsTerminal, StdoutIsTerminal and StderrIsTerminal say whether
	// the streams are terminals: stdin is read as a prompt only when it
	// is not, and text printed to a terminal is sanitized.
	StdinIsTerminal  bool
	StdoutIsTerminal bool
	StderrIsTerminal bool
}

// OSEnv returns the Env of the running process.
func OSEnv() *Env {
	return &Env{
		Stdin:            os.Stdin,
		Stdout:           os.Stdout,
		Stderr:           os.Stderr,
		Getenv:           os.Getenv,
		StdinIsTerminal:  term.IsTerminal(os.Stdin.Fd()),
		StdoutIsTerminal: term.IsTerminal(os.Stdout.Fd()),
		StderrIsTerminal: term.IsTerminal(os.Stderr.Fd()),
	}
}

// Main runs the parley command with args (without the program name) and
// returns the exit code. SIGINT and SIGTERM cancel the running request; a
// second signal kills the process as usual.
func Main(args []string, env *Env) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // restore the default behaviour for a second Ctrl+C
	}()
	return Run(ctx, args, env)
}

// Run executes the command line under ctx and returns the exit code. Errors
// are reported on env.Stderr as one line starting "parley: ".
func Run(ctx context.Context, args []string, env *Env) int {
	a := &app{env: env}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	if ee, ok := err.(*exitError); !ok || !ee.silent {
		a.printError(err)
	}
	return exitCode(err)
}

// app holds the state of one invocation: its environment, the flag values
// and the secret to keep out of every output.
type app struct {
	env    *Env
	f      flags
	secret string
}

// flags are the command-line options. The provider flags are persistent
// (shared by every subcommand); print and TUI flags belong to the root.
type flags struct {
	configPath      string
	provider        string
	dialect         string
	baseURL         string
	model           string
	system          string
	temperature     float64
	topP            float64
	maxTokens       int
	stop            []string
	idleTimeout     time.Duration
	headerTimeout   time.Duration
	maxRetries      int
	tools           string
	demo            bool
	reasoning       bool
	reasoningBudget int
	uiStream        bool

	theme         string
	hideReasoning bool
	print         bool
	output        string
	showReasoning bool
}

// subcommands lists the constructors of parley's subcommands; adding a
// subcommand is one line here.
var subcommands = []func(*app) *cobra.Command{
	(*app).modelsCommand,
	(*app).imageCommand,
	(*app).usageCommand,
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "parley [flags] [PROMPT]",
		Short: "A terminal chat client for LLM API gateways",
		Long: `Parley is a terminal chat client for LLM API gateways (OpenAI-compatible, native
REST and Gemini dialects). It streams answers with their reasoning and shows the
gateway's rate limits and queue state as they change.

  parley [PROMPT]            open the chat; PROMPT is sent at once
  parley -p [PROMPT]         print mode: answer on stdout, then exit
  parley --demo              try it against the built-in demo gateway

API keys are read from the environment or an api_key_cmd, never from flags.`,
		Args:          cobra.ArbitraryArgs,
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if a.f.print {
				return a.runPrint(cmd, args)
			}
			return a.runTUI(cmd, args)
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return usageErrorf("%v (see parley --help)", err)
	})

	pf := root.PersistentFlags()
	pf.StringVar(&a.f.configPath, "config", "", "read configuration from `FILE` instead of $XDG_CONFIG_HOME/parley/config.toml")
	pf.StringVar(&a.f.provider, "provider", "", "use the provider profile `NAME` from the config file")
	pf.StringVar(&a.f.dialect, "dialect", "", "gateway dialect: openai, cuadra or gemini")
	pf.StringVar(&a.f.baseURL, "base-url", "", "gateway base `URL` including the version segment, e.g. https://host/v1")
	pf.StringVarP(&a.f.model, "model", "m", "", "model `ID`")
	pf.StringVar(&a.f.system, "system", "", "system `PROMPT`")
	pf.Float64Var(&a.f.temperature, "temperature", 0, "sampling temperature (0-2)")
	pf.Float64Var(&a.f.topP, "top-p", 0, "nucleus sampling (0-1)")
	pf.IntVar(&a.f.maxTokens, "max-tokens", 0, "maximum tokens in the answer")
	pf.StringArrayVar(&a.f.stop, "stop", nil, "stop `SEQUENCE` (repeatable)")
	pf.DurationVar(&a.f.idleTimeout, "idle-timeout", config.DefaultIdleTimeout, "longest silence tolerated mid-stream")
	pf.DurationVar(&a.f.headerTimeout, "header-timeout", 0, "longest wait for the gateway's response headers, per attempt (default 2m30s: a queueing gateway may hold a request)")
	pf.IntVar(&a.f.maxRetries, "max-retries", config.DefaultMaxRetries, "retries after the first attempt (429, 5xx, connection errors)")
	pf.StringVar(&a.f.tools, "tools", "", "tool calls: none, ask or auto (print mode reports them and never runs them)")
	pf.BoolVar(&a.f.demo, "demo", false, "use the built-in demo gateway (no key, no network)")
	pf.BoolVar(&a.f.reasoning, "reasoning", false, "ask the model to think (where the dialect supports it)")
	pf.IntVar(&a.f.reasoningBudget, "reasoning-budget", 0, "reasoning budget in tokens (implies --reasoning)")
	pf.BoolVar(&a.f.uiStream, "ui-stream", false, "native REST dialect: ask for the Vercel AI SDK UI message stream (ui_stream in the config)")

	lf := root.Flags()
	lf.BoolVarP(&a.f.print, "print", "p", false, "print mode: send PROMPT (and/or stdin), print the answer, exit")
	lf.StringVar(&a.f.output, "output", "text", "print mode output: text or jsonl")
	lf.BoolVar(&a.f.showReasoning, "show-reasoning", false, "print mode: write the model's reasoning to stderr")
	lf.StringVar(&a.f.theme, "theme", "", "chat theme: auto, dark, light or ascii (no colours)")
	lf.BoolVar(&a.f.hideReasoning, "hide-reasoning", false, "chat: do not show the model's reasoning")

	for _, sub := range subcommands {
		c := sub(a)
		c.SilenceErrors, c.SilenceUsage = true, true
		root.AddCommand(c)
	}
	return root
}

// printError reports err on stderr as one sanitized line without the key.
func (a *app) printError(err error) {
	msg := strings.TrimSpace(redact(err.Error(), a.secret))
	fmt.Fprintf(a.env.Stderr, "parley: %s\n", sanitize.Line(msg))
}

// warn prints a warning line on stderr.
func (a *app) warn(msg string) {
	fmt.Fprintf(a.env.Stderr, "parley: warning: %s\n", sanitize.Line(redact(msg, a.secret)))
}

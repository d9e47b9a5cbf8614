// Package cli is Parley's command line: the cobra commands, the merge of
// configuration file and flags into a provider and request settings, print
// mode (parley -p) and the subcommands. main.go only calls Main.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/sanitize"
	"github.com/parley-chat/parley/store"
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
// returns the exit code. SIGINT, SIGTERM, SIGHUP and SIGQUIT cancel what is
// running (the request, the chat, a prompt still being read) and Parley
// exits with 128 + the signal's number, within a second even when a read
// cannot be cancelled. Nothing but Parley's own output reaches the
// terminal: the standard logger is silenced.
func Main(args []string, env *Env) int {
	silenceStdLogger()
	ctx, stop := onSignals(context.Background(), func(status int) {
		fmt.Fprintln(env.Stderr, "parley: interrupted")
		os.Exit(status)
	})
	defer stop()
	return signalStatus(ctx, Run(ctx, args, env))
}

// Run executes the command line under ctx and returns the exit code. Errors
// are reported on env.Stderr as one line starting "parley: ".
func Run(ctx context.Context, args []string, env *Env) int {
	a := &app{env: env, completing: completionRequest(args)}
	root := a.rootCommand()
	root.SetArgs(args)
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
	// completing is true when the shell asks for completions (parley
	// __complete …): only then are the value completions registered.
	completing bool
	// resumed is the saved conversation -c or -C continues; nil for a
	// new one. saving is how the run is saved; nil saves nothing.
	resumed *store.Conversation
	saving  *recording
	// tools are the tools of print mode (cli/tools.go); nil offers none.
	tools *toolSetup
	// maxWidth caps the width print mode renders answers at (0: none).
	maxWidth int
}

// flags are the command-line options. Each command registers only the
// flag groups it reads (flags.go); a flag a command does not have keeps
// its zero value and counts as not given.
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
	jsonSchema      string
	demo            bool
	reasoning       bool
	reasoningBudget int
	uiStream        bool

	theme         string
	hideReasoning bool
	print         bool
	output        string
	showReasoning bool
	raw           bool
	continueID    string
	continueLast  bool
	noSave        bool
}

// subcommand is one of parley's subcommands: its constructor, which
// registers the flags only it has, and the flag groups it shares with
// others.
type subcommand struct {
	build  func(*app) *cobra.Command
	groups []flagGroup
}

// subcommands lists parley's subcommands. Adding one is one line: its
// constructor and the flag groups it reads, for example
//
//	{(*app).replayCommand, []flagGroup{providerFlags, modelFlag}},
//
// A command that talks to a gateway takes providerFlags, and modelFlag
// when it uses a model; one that sends chat requests also takes
// requestFlags; chatFlags belong to the root alone. A command without
// groups takes only its own flags.
var subcommands = []subcommand{
	{(*app).modelsCommand, []flagGroup{providerFlags, modelFlag}},
	{(*app).imageCommand, []flagGroup{providerFlags, modelFlag}},
	{(*app).usageCommand, []flagGroup{providerFlags}},
	{(*app).compareCommand, []flagGroup{providerFlags, requestFlags}},
	{(*app).configCommand, nil},
	{(*app).versionCommand, nil},
	{(*app).sessionsCommand, nil},
	{(*app).replayCommand, nil},
}

// rootGroups are the flag groups of parley itself: the chat and print
// mode read every one.
var rootGroups = []flagGroup{chatFlags, providerFlags, modelFlag, requestFlags}

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
  parley config init         set up a gateway: writes the config file
  parley -C [PROMPT]         continue the latest conversation (-c ID: a given one)
  parley sessions            list, search, show and export saved conversations

API keys are read from the environment or an api_key_cmd, never from flags.`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		Version:           versionLine(),
		RunE: func(cmd *cobra.Command, args []string) error {
			if a.f.print {
				return a.runPrint(cmd, args)
			}
			return a.runTUI(cmd, args)
		},
	}
	root.SetIn(a.env.Stdin)
	root.SetOut(a.env.Stdout)
	root.SetErr(a.env.Stderr)
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetUsageFunc(usage)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return flagError(c, err)
	})
	root.Flags().Bool("version", false, "print Parley's version and exit")
	a.setUp(root, rootGroups)
	for _, sub := range subcommands {
		c := sub.build(a)
		a.setUp(c, sub.groups)
		root.AddCommand(c)
	}
	a.fixCompletionCommand(root)
	return root
}

// setUp registers groups on cmd and its subcommands' shared settings:
// errors reported once by Run, flags listed in the order they were
// registered.
func (a *app) setUp(cmd *cobra.Command, groups []flagGroup) {
	cmd.Flags().SortFlags = false
	a.addGroups(cmd, groups)
	for _, c := range append([]*cobra.Command{cmd}, cmd.Commands()...) {
		c.SilenceErrors, c.SilenceUsage = true, true
	}
}

// fixCompletionCommand adds cobra's "completion" command now, rather than
// when it runs, so that its arguments are checked in words like every
// other command's.
func (a *app) fixCompletionCommand(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		c.Args = cobra.ArbitraryArgs
		c.RunE = needsSubcommand("SHELL")
		for _, sh := range c.Commands() {
			sh.Args = noArgs
			sh.Flags().SortFlags = false
		}
		a.setUp(c, nil)
	}
}

// completionRequest reports whether args ask for shell completions (the
// hidden command the completion scripts run).
func completionRequest(args []string) bool {
	return len(args) > 0 && strings.HasPrefix(args[0], cobra.ShellCompRequestCmd)
}

// printError reports err on stderr as one sanitized line without the key.
// In a terminal where nothing configures a gateway (no file, no provider
// flags, no key in the environment) it says how to start instead.
func (a *app) printError(err error) {
	var none *config.NoProviderError
	if errors.As(err, &none) && !none.Exists && a.blankSlate() {
		fmt.Fprint(a.env.Stderr, firstRunHint(none.File, a.env.Getenv))
		return
	}
	msg := strings.TrimSpace(redact(err.Error(), a.secret))
	fmt.Fprintf(a.env.Stderr, "parley: %s\n", sanitize.Line(msg))
}

// blankSlate reports whether Parley runs in a terminal with no API key in
// the environment, as on its first run.
func (a *app) blankSlate() bool {
	if !a.env.StdinIsTerminal || !a.env.StderrIsTerminal {
		return false
	}
	vars := []string{config.KeyEnv}
	for _, d := range provider.Dialects() {
		vars = append(vars, config.DialectKeyEnv(d))
	}
	for _, v := range vars {
		if a.env.Getenv(v) != "" {
			return false
		}
	}
	return true
}

// warn prints a warning line on stderr.
func (a *app) warn(msg string) {
	fmt.Fprintf(a.env.Stderr, "parley: warning: %s\n", sanitize.Line(redact(msg, a.secret)))
}

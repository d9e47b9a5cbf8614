package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"github.com/spf13/cobra"

	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/provider/dialects"
	"github.com/parley-chat/parley/sanitize"
)

// configCommand is "parley config": the configuration file's commands.
func (a *app) configCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Set up the configuration file",
		Long: `Commands for Parley's configuration file ($XDG_CONFIG_HOME/parley/config.toml,
or ~/.config/parley/config.toml).`,
		Args: cobra.ArbitraryArgs,
		RunE: needsSubcommand("COMMAND"),
	}
	cmd.AddCommand(a.configInitCommand(), a.configPathCommand())
	return cmd
}

// configPathCommand is "parley config path": where the configuration file
// is read from.
func (a *app) configPathCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "path",
		Short: "Print where the configuration file is read from",
		Long: `Print the path of the configuration file Parley reads (whether or not it exists
yet): --config FILE, else $XDG_CONFIG_HOME/parley/config.toml, else
~/.config/parley/config.toml.`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			path, err := a.configFile()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(a.env.Stdout, path)
			return err
		},
	}
	a.addConfigFlag(cmd.Flags(), "print `FILE` (the path --config would read)")
	return cmd
}

// configFile is the path of the configuration file: --config, else the
// default path.
func (a *app) configFile() (string, error) {
	if a.f.configPath != "" {
		return a.f.configPath, nil
	}
	path, err := config.DefaultPath(a.env.Getenv)
	if err != nil {
		return "", usageErrorf("%v", err)
	}
	return path, nil
}

// configInitCommand is "parley config init": a short interactive setup.
func (a *app) configInitCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Set up a gateway: a few questions, a live check, a commented config.toml",
		Long: `Set up a gateway in a few questions: its dialect, its base URL and where the API
key comes from (an environment variable, or a command such as a password
manager's that prints it). Parley then checks them live by listing the
gateway's models, lets you pick the default model and writes a commented
config.toml, readable by you alone (mode 0600).

The key itself is never asked for and never written: the file names its
source. An existing file is replaced only after you confirm.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runConfigInit(cmd.Context()) },
	}
	a.addConfigFlag(cmd.Flags(), "write the configuration to `FILE` instead of $XDG_CONFIG_HOME/parley/config.toml")
	return cmd
}

// Key sources offered by parley config init.
const (
	keyFromEnv = "env"
	keyFromCmd = "cmd"
)

// modelCheckTimeout bounds the live check: one request for the model list.
const modelCheckTimeout = 30 * time.Second

// setupAnswers are the answers of one round of the setup form.
type setupAnswers struct {
	dialect   string
	baseURL   string
	keySource string
	keyEnv    string
	keyCmd    string
}

// setup returns the profile the answers describe.
func (s *setupAnswers) setup() config.Setup {
	c := config.Setup{
		Name:    config.SuggestProfileName(s.baseURL),
		Dialect: provider.Dialect(s.dialect),
		BaseURL: strings.TrimSpace(s.baseURL),
	}
	if s.keySource == keyFromCmd {
		c.APIKeyCmd = strings.TrimSpace(s.keyCmd)
	} else {
		c.APIKeyEnv = strings.TrimSpace(s.keyEnv)
	}
	return c
}

// runConfigInit asks the questions, checks the answers against the
// gateway, and writes the file.
func (a *app) runConfigInit(ctx context.Context) error {
	if !a.env.StdinIsTerminal || !a.env.StdoutIsTerminal {
		return usageErrorf("config init asks questions and needs a terminal; to write the file by hand, see the Configuration section of Parley's README")
	}
	path, err := a.configFile()
	if err != nil {
		return err
	}
	replace := false
	if _, err := os.Lstat(path); err == nil {
		err := a.runForm(ctx, huh.NewForm(huh.NewGroup(huh.NewConfirm().
			Title(fmt.Sprintf("%s already exists. Replace it?", path)).
			Description("Its profiles and settings will be lost; the new file has one profile.").
			Affirmative("Replace").Negative("Keep it").
			Value(&replace))))
		if err != nil {
			return err
		}
		if !replace {
			fmt.Fprintf(a.env.Stderr, "parley: kept %s; nothing written\n", path)
			return nil
		}
	}
	out := a.env.Stdout
	fmt.Fprintf(out, "Parley setup: answers go into %s (no key is ever written).\n\n", path)

	ans := &setupAnswers{dialect: string(provider.DialectOpenAI), keySource: keyFromEnv}
	var models []provider.Model
	for ask := true; ; {
		if ask {
			if err := a.askGateway(ctx, ans); err != nil {
				return err
			}
		}
		s := ans.setup()
		source := "$" + s.APIKeyEnv
		if s.APIKeyCmd != "" {
			source = "the command " + s.APIKeyCmd
		}
		fmt.Fprintf(out, "  dialect   %s\n  base URL  %s\n  API key   from %s\n", s.Dialect, s.BaseURL, source)
		var checkErr error
		models, checkErr = a.checkGateway(ctx, out, s)
		if checkErr == nil {
			break
		}
		if ctx.Err() != nil {
			return &exitError{code: ExitInterrupted, err: errors.New("interrupted: nothing written")}
		}
		next := "edit"
		err := a.runForm(ctx, huh.NewForm(huh.NewGroup(huh.NewSelect[string]().
			Title("The check failed. What now?").
			Description(checkErr.Error()).
			Options(
				huh.NewOption("Change the answers", "edit"),
				huh.NewOption("Check again", "again"),
				huh.NewOption("Write the file anyway (pick the model later with -m)", "write"),
			).Value(&next))))
		if err != nil {
			return err
		}
		if next == "write" {
			models = nil
			break
		}
		ask = next == "edit"
	}

	s := ans.setup()
	if len(models) > 0 {
		if s.DefaultModel, err = a.askModel(ctx, models); err != nil {
			return err
		}
		fmt.Fprintf(out, "  model     %s\n\n", sanitize.Line(s.DefaultModel))
	}
	data, err := s.Render()
	if err != nil {
		return usageErrorf("%v", err)
	}
	if err := config.WriteFile(path, data, replace); err != nil {
		return failure(err)
	}
	// The file must read back as what was meant.
	cfg, err := config.Load(path, a.env.Getenv)
	if err == nil {
		_, err = config.Resolve(cfg, &config.Flags{}, nil)
	}
	if err != nil {
		return failure(fmt.Errorf("the written file does not load (please report this): %w", err))
	}
	a.printNextSteps(out, path, s)
	return nil
}

// askGateway asks for the dialect, then the base URL and the key's
// source, keeping earlier answers as defaults.
func (a *app) askGateway(ctx context.Context, ans *setupAnswers) error {
	var opts []huh.Option[string]
	for _, d := range provider.Dialects() {
		opts = append(opts, huh.NewOption(cmp.Or(setupDialects[d].label, string(d)), string(d)))
	}
	before := ans.dialect
	err := a.runForm(ctx, huh.NewForm(huh.NewGroup(huh.NewSelect[string]().
		Title("Which API does the gateway speak?").
		Options(opts...).
		Value(&ans.dialect))))
	if err != nil {
		return err
	}
	d := provider.Dialect(ans.dialect)
	if ans.baseURL == "" || (ans.dialect != before && ans.baseURL == setupDialects[provider.Dialect(before)].baseURL) {
		ans.baseURL = setupDialects[d].baseURL
	}
	if ans.keyEnv == "" || (ans.dialect != before && ans.keyEnv == config.DialectKeyEnv(provider.Dialect(before))) {
		ans.keyEnv = config.DialectKeyEnv(d)
	}
	return a.runForm(ctx, huh.NewForm(
		huh.NewGroup(
			huh.NewInput().
				Title("Base URL").
				Description("Including the version segment; the dialect appends its own paths.").
				Value(&ans.baseURL).
				Validate(func(s string) error { return config.CheckBaseURL(strings.TrimSpace(s)) }),
			huh.NewSelect[string]().
				Title("Where does the API key come from?").
				Description("Parley never stores the key itself.").
				Options(
					huh.NewOption("An environment variable", keyFromEnv),
					huh.NewOption("A command that prints it (a password manager)", keyFromCmd),
				).
				Value(&ans.keySource),
		),
		huh.NewGroup(huh.NewInput().
			Title("The environment variable's name").
			Description("Its name, not the key: export it in your shell's profile.").
			Value(&ans.keyEnv).
			Validate(func(s string) error { return config.CheckKeyEnv(strings.TrimSpace(s)) }),
		).WithHideFunc(func() bool { return ans.keySource != keyFromEnv }),
		huh.NewGroup(huh.NewInput().
			Title("The command that prints the key").
			Description("Run with sh -c when Parley starts, e.g. pass show openai").
			Placeholder("pass show openai").
			Value(&ans.keyCmd).
			Validate(func(s string) error { return config.CheckKeyCmd(s) }),
		).WithHideFunc(func() bool { return ans.keySource != keyFromCmd }),
	))
}

// checkGateway resolves the key from the source the answers name and
// lists the gateway's models with it, reporting on out as it goes.
// PARLEY_API_KEY is left out: the check is of the profile's own source.
func (a *app) checkGateway(ctx context.Context, out io.Writer, s config.Setup) ([]provider.Model, error) {
	prof := s.Profile()
	getenv := func(k string) string {
		if k == config.KeyEnv {
			return ""
		}
		return a.env.Getenv(k)
	}
	// report shows a failure and returns it without the key, ready to
	// show again.
	report := func(err error, secret string) error {
		msg := sanitize.Line(redact(err.Error(), secret))
		fmt.Fprintf(out, "✗ %s\n\n", msg)
		return errors.New(msg)
	}
	fmt.Fprintf(out, "Checking %s/models …\n", strings.TrimRight(s.BaseURL, "/"))
	key, err := config.ResolveKey(ctx, &prof, getenv, 0)
	if err != nil {
		if s.APIKeyEnv != "" {
			err = fmt.Errorf("%s is not set in this shell: export it (or run the check again after setting it)", s.APIKeyEnv)
		}
		return nil, report(err, "")
	}
	secret := key.Secret.Reveal()
	p, err := dialects.New(s.Dialect, provider.Options{
		Name:          s.Name,
		BaseURL:       s.BaseURL,
		APIKey:        secret,
		MaxRetries:    0,
		HeaderTimeout: modelCheckTimeout,
		IdleTimeout:   modelCheckTimeout,
	})
	if err != nil {
		return nil, report(err, secret)
	}
	lister, ok := p.(provider.ModelLister)
	if !ok {
		return nil, report(fmt.Errorf("the %s dialect cannot list models", s.Dialect), secret)
	}
	cctx, cancel := context.WithTimeout(ctx, modelCheckTimeout)
	defer cancel()
	models, err := lister.Models(cctx)
	if err != nil {
		var ae *provider.APIError
		if errors.As(err, &ae) {
			ae.Redact(secret)
		}
		return nil, report(err, secret)
	}
	slices.SortStableFunc(models, func(x, y provider.Model) int { return strings.Compare(x.ID, y.ID) })
	fmt.Fprintf(out, "✓ the key from %s works: the gateway offers %d model(s)\n\n", key.Source, len(models))
	return models, nil
}

// askModel lets the user pick the default model from the gateway's list.
func (a *app) askModel(ctx context.Context, models []provider.Model) (string, error) {
	opts := make([]huh.Option[string], 0, len(models))
	for _, m := range models {
		label := sanitize.Line(m.ID)
		if m.Name != "" && m.Name != m.ID {
			label += " — " + sanitize.Line(m.Name)
		}
		opts = append(opts, huh.NewOption(label, m.ID))
	}
	choice := models[0].ID
	err := a.runForm(ctx, huh.NewForm(huh.NewGroup(huh.NewSelect[string]().
		Title("Default model").
		Description("Used when no -m is given; / filters the list.").
		Options(opts...).
		Height(min(len(opts)+2, 12)).
		Value(&choice))))
	return choice, err
}

// printNextSteps says what was written and how to go on.
func (a *app) printNextSteps(out io.Writer, path string, s config.Setup) {
	fmt.Fprintf(out, "Wrote %s (profile %q, readable by you alone).\n", path, s.Name)
	if s.APIKeyEnv != "" && a.env.Getenv(s.APIKeyEnv) == "" {
		fmt.Fprintf(out, "Remember to export %s in your shell before running parley.\n", s.APIKeyEnv)
	}
	if s.DefaultModel == "" {
		fmt.Fprintln(out, "No default model is set: pass -m MODEL, or set default_model in the file (parley models lists them).")
	}
	fmt.Fprintln(out, "\nNext: parley  (the chat)  ·  parley -p \"hello\"  (one answer)  ·  parley models")
}

// runForm runs a huh form on the command's terminal. Leaving it with
// Ctrl+C or Esc is an interruption that writes nothing.
func (a *app) runForm(ctx context.Context, f *huh.Form) error {
	if a.env.Stdin != os.Stdin {
		f = f.WithInput(a.env.Stdin)
	}
	if a.env.Stdout != os.Stdout {
		f = f.WithOutput(a.env.Stdout)
	}
	// Each question has the whole screen and leaves nothing behind: the
	// answers are summed up on the normal screen between questions.
	f = f.WithShowHelp(true).WithViewHook(func(v tea.View) tea.View {
		v.AltScreen = true
		return v
	})
	err := f.RunWithContext(ctx)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, huh.ErrUserAborted), ctx.Err() != nil:
		return &exitError{code: ExitInterrupted, err: errors.New("config init cancelled: nothing written")}
	}
	return failure(fmt.Errorf("config init: %w", err))
}

// setupDialects describes each dialect in the setup's first question and
// offers its vendor's own base URL.
var setupDialects = map[provider.Dialect]struct{ label, baseURL string }{
	provider.DialectOpenAI: {"OpenAI-compatible (OpenAI, OpenRouter, Groq, most gateways)", "https://api.openai.com/v1"},
	provider.DialectCuadra: {"Native REST (cuadra)", "https://api.cuadra.ai/v1"},
	provider.DialectGemini: {"Gemini", "https://generativelanguage.googleapis.com/v1beta"},
}

// firstRunHint is what parley says in a terminal when nothing configures
// a gateway: how to start, instead of only an error.
func firstRunHint(path string, getenv func(string) string) string {
	if home := getenv("HOME"); home != "" {
		if rel, err := filepath.Rel(home, path); err == nil && !strings.HasPrefix(rel, "..") {
			path = filepath.Join("~", rel)
		}
	}
	return fmt.Sprintf(`parley: no gateway is set up yet. To start:
  parley config init               answer a few questions; writes %s
  parley --demo                    try Parley on its built-in demo gateway (no key, no network)
  parley --base-url URL -m MODEL   use a gateway once, with the key in PARLEY_API_KEY
`, path)
}

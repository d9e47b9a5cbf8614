package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
	"github.com/parley-chat/parley/store"
	"github.com/parley-chat/parley/themes"
	"github.com/parley-chat/parley/ui"
)

// replayOptions are the flags of parley replay.
type replayOptions struct {
	speed      float64
	instant    bool
	maxIdle    time.Duration
	cast       string
	cols, rows int
}

// Budgets of the replay's flags.
const (
	maxReplaySpeed = 100
	minCastCols    = 20
	maxCastCols    = 1000
	minCastRows    = 5
	maxCastRows    = 500
)

func (a *app) replayCommand() *cobra.Command {
	var o replayOptions
	cmd := &cobra.Command{
		Use:               "replay ID",
		ValidArgsFunction: a.completeFirstID,
		Short:             "Play a saved conversation in the chat screen as it streamed",
		Long: `Play a saved conversation in the chat screen as it streamed: the prompts appear,
reasoning streams in its block, the answers stream with their recorded timing, and
the status bar shows the rate limits, queue waits and retries as they happened.
Between answers, the time taken to write the next prompt is cut to 1 s. The ID of a
comparison plays its columns side by side in the compare screen, each with its own
recorded timing; the keys act on every column.

Keys: space pause/resume · + / - speed · n / p next / previous answer · End the end ·
q quit (scrolling and ctrl+t work as in the chat).

--cast FILE writes the replay as an asciicast v2 file instead (for asciinema's player),
at --cols × --rows (default 100×30), without a terminal and without waiting.`,
		Args: oneID("parley replay 5f0c"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.check(cmd); err != nil {
				return err
			}
			return a.replay(cmd, args[0], o)
		},
	}
	f := cmd.Flags()
	f.Float64Var(&o.speed, "speed", 1, "play at `X` times the recorded speed (above 0, at most 100)")
	f.BoolVar(&o.instant, "instant", false, "show the whole conversation at once, without its timing")
	f.DurationVar(&o.maxIdle, "max-idle", 0, "cap every pause at `DUR` (e.g. 2s; 0: pauses as recorded)")
	f.StringVar(&o.cast, "cast", "", "write an asciicast v2 `FILE` instead of playing in the terminal")
	f.IntVar(&o.cols, "cols", ui.DefaultCastCols, "--cast: terminal width in `N` columns")
	f.IntVar(&o.rows, "rows", ui.DefaultCastRows, "--cast: terminal height in `N` rows")
	f.StringVar(&a.f.theme, "theme", "", "theme: "+themeList()+" (ascii: no colours)")
	f.BoolVar(&a.f.hideReasoning, "hide-reasoning", false, "do not show the model's reasoning")
	a.addConfigFlag(f, "read the theme from `FILE` instead of $XDG_CONFIG_HOME/parley/config.toml")
	_ = cobra.MarkFlagFilename(f, "cast", "cast")
	a.completeValues(cmd, "theme", fixed(themes.Names()...))
	return cmd
}

func (o *replayOptions) check(cmd *cobra.Command) error {
	switch {
	case o.speed <= 0 || o.speed > maxReplaySpeed:
		return usageErrorf("--speed must be above 0 and at most %d, not %g", maxReplaySpeed, o.speed)
	case o.maxIdle < 0:
		return usageErrorf("--max-idle must not be negative")
	case o.cast == "" && (cmd.Flags().Changed("cols") || cmd.Flags().Changed("rows")):
		return usageErrorf("--cols and --rows size a --cast FILE")
	case o.cols < minCastCols || o.cols > maxCastCols:
		return usageErrorf("--cols must be from %d to %d, not %d", minCastCols, maxCastCols, o.cols)
	case o.rows < minCastRows || o.rows > maxCastRows:
		return usageErrorf("--rows must be from %d to %d, not %d", minCastRows, maxCastRows, o.rows)
	}
	return nil
}

// replay plays conversation prefix in the chat screen, or writes it as a
// cast.
func (a *app) replay(cmd *cobra.Command, prefix string, o replayOptions) error {
	ctx := cmd.Context()
	if o.cast == "" && a.env.Stdout == os.Stdout && !a.env.StdoutIsTerminal {
		return usageErrorf("replay needs a terminal on stdout; --cast FILE writes a recording instead")
	}
	var c *store.Conversation
	var cmp *store.Comparison
	err := a.withConversation(ctx, prefix, func(st *store.Store, id string) error {
		ok, err := st.IsComparison(ctx, id)
		switch {
		case err != nil:
			return err
		case ok:
			cmp, err = st.LoadComparison(ctx, id, store.LoadOptions{Timelines: true})
		default:
			c, err = st.Load(ctx, id, store.LoadOptions{Timelines: true})
		}
		return err
	})
	if err != nil {
		return err
	}
	if cmp != nil {
		return a.replayComparison(ctx, cmp, o)
	}
	saved := c.Saved()
	sched := session.NewSchedule(saved, session.ScheduleOptions{Instant: o.instant, MaxIdle: o.maxIdle})
	if len(sched.Starts) == 0 {
		return usageErrorf("conversation %s has no answer to replay", c.ID)
	}
	guard := a.replayGuard(c)
	spec := ui.PaneSpec{ProviderName: c.Provider, Settings: c.Settings}
	if o.cast != "" {
		return a.writeCast(ctx, c, sched, spec, o, guard)
	}
	pl := session.NewPlayer(sched, session.PlayerOptions{Speed: o.speed, Guard: guard})
	spec.Provider = pl.Provider(c.Provider, provider.Dialect(c.Dialect))
	opts := ui.Options{Panes: []ui.PaneSpec{spec}, Theme: a.replayTheme(), HideReasoning: a.f.hideReasoning,
		Replay: &ui.Replay{Player: pl, Title: c.Title}}
	return a.runReplay(ctx, opts)
}

// runReplay plays a replay in the chat screen on the terminal.
func (a *app) runReplay(ctx context.Context, opts ui.Options) error {
	if a.env.Stdin != os.Stdin {
		opts.Input = a.env.Stdin
	}
	if a.env.Stdout != os.Stdout {
		opts.Output = a.env.Stdout
	}
	if err := ui.Run(ctx, opts); err != nil {
		return failure(err)
	}
	if ctx.Err() != nil {
		return &exitError{code: ExitInterrupted, err: errors.New("interrupted")}
	}
	return nil
}

// writeCast writes the replay to o.cast, readable by its owner alone.
func (a *app) writeCast(ctx context.Context, c *store.Conversation, sched *session.Schedule, spec ui.PaneSpec,
	o replayOptions, guard func(func(provider.Event)) func(provider.Event)) error {
	co := ui.CastOptions{Cols: o.cols, Rows: o.rows, Speed: o.speed, Theme: a.replayTheme(),
		HideReasoning: a.f.hideReasoning, Title: c.Title, Timestamp: c.Created, MaxIdle: o.maxIdle,
		Dialect: provider.Dialect(c.Dialect), Guard: guard}
	err := writeFilePrivate(o.cast, func(w io.Writer) error { return ui.WriteCast(ctx, w, sched, spec, co) })
	if err != nil {
		return failure(fmt.Errorf("writing the cast: %w", err))
	}
	fmt.Fprintf(a.env.Stdout, "wrote %s: %d answers, %s at %g× (%d×%d)\n", a.clean(o.cast), len(sched.Starts),
		(time.Duration(float64(sched.Total) / o.speed)).Round(time.Second/10), o.speed, o.cols, o.rows)
	return nil
}

// replayTheme is the theme flag, else the config file's, else auto.
func (a *app) replayTheme() string {
	if a.f.theme != "" {
		return a.f.theme
	}
	if cfg, err := config.Load(a.f.configPath, a.env.Getenv); err == nil && cfg.Theme != "" {
		return cfg.Theme
	}
	return config.DefaultTheme
}

// replayGuard keeps out of the replay every API key the environment holds
// for the conversation's gateway (the store never saved one; this catches
// one a gateway echoed in a form the store did not know): PARLEY_API_KEY,
// the dialect's usual variable and the profile's api_key_env. No
// api_key_cmd is run for a replay.
func (a *app) replayGuard(c *store.Conversation) func(func(provider.Event)) func(provider.Event) {
	vars := []string{config.KeyEnv, config.DialectKeyEnv(provider.Dialect(c.Dialect))}
	if cfg, err := config.Load(a.f.configPath, a.env.Getenv); err == nil {
		if p, err := cfg.Provider(c.Provider); err == nil && p.APIKeyEnv != "" {
			vars = append(vars, p.APIKeyEnv)
		}
	}
	var guards []*provider.Transport
	for _, v := range vars {
		if key := a.env.Getenv(v); key != "" {
			guards = append(guards, provider.NewTransport(provider.Options{APIKey: key}))
		}
	}
	if len(guards) == 0 {
		return nil
	}
	return func(emit func(provider.Event)) func(provider.Event) {
		for _, g := range guards {
			emit = g.Guard(emit)
		}
		return emit
	}
}

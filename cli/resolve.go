package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/parley-chat/parley/provider/demo"
	"github.com/parley-chat/parley/themes"

	"github.com/spf13/cobra"

	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
)

// demoKey is the placeholder key sent to the built-in demo gateway.
const demoKey = "parley-demo-key"

// target is everything a command needs to talk to one gateway: the
// provider, the request settings and what the UI shows.
type target struct {
	provider provider.Provider
	// name is the profile name, or the host of a provider given by flags.
	name     string
	dialect  string
	settings session.Settings
	models   []string
	theme    string
	close    func()
}

// resolve merges the configuration file and the flags into a target.
// Flags override the file. needModel makes a missing model an error.
// Every error it returns is a usage or configuration error (exit 2).
func (a *app) resolve(ctx context.Context, cmd *cobra.Command, needModel bool) (*target, error) {
	changed := func(name string) bool { return cmd.Flags().Changed(name) }
	cfg, err := config.Load(a.f.configPath, a.env.Getenv)
	if err != nil {
		return nil, &exitError{code: ExitUsage, err: err}
	}
	t := &target{close: func() {}}

	var prof config.Provider
	var key string
	switch {
	case a.f.demo:
		for _, fl := range []string{"provider", "base-url", "dialect"} {
			if changed(fl) {
				return nil, usageErrorf("--demo cannot be combined with --%s", fl)
			}
		}
		url, models, stop, err := startDemo()
		if err != nil {
			return nil, failure(fmt.Errorf("cannot start the demo gateway: %w", err))
		}
		t.close = stop
		prof = config.Provider{Name: "demo", Dialect: "openai", BaseURL: url, Models: models}
		key = demoKey
	default:
		p, err := a.pickProfile(cfg, changed)
		if err != nil {
			return nil, err
		}
		prof = *p
	}

	if err := checkDialect(prof.Dialect); err != nil {
		return nil, err
	}
	if err := config.CheckBaseURL(prof.BaseURL); err != nil {
		return nil, usageErrorf("%v", err)
	}
	if w := config.InsecureURLWarning(prof.BaseURL); w != "" {
		a.warn(w)
	}
	if key == "" {
		k, err := config.ResolveKey(ctx, &prof, a.env.Getenv, 0)
		if err != nil {
			t.close()
			if ctx.Err() != nil {
				return nil, &exitError{code: ExitInterrupted, err: errors.New("interrupted")}
			}
			return nil, &exitError{code: ExitUsage, err: err}
		}
		key = k.Secret.Reveal()
		a.secret = key
	}

	opts := provider.Options{
		Name:        prof.Name,
		BaseURL:     prof.BaseURL,
		APIKey:      key,
		Headers:     prof.Headers,
		MaxRetries:  defaultMaxRetries,
		IdleTimeout: defaultIdleTimeout,
		UIStream:    prof.UIStream,
	}
	if changed("ui-stream") {
		opts.UIStream = a.f.uiStream
	}
	if opts.Name == "" {
		opts.Name = hostOf(prof.BaseURL)
	}
	switch {
	case changed("max-retries"):
		opts.MaxRetries = a.f.maxRetries
	case cfg.MaxRetries != nil:
		opts.MaxRetries = *cfg.MaxRetries
	}
	if opts.MaxRetries < 0 {
		return nil, usageErrorf("--max-retries must not be negative")
	}
	switch {
	case changed("idle-timeout"):
		opts.IdleTimeout = a.f.idleTimeout
	case cfg.IdleTimeout.Duration > 0:
		opts.IdleTimeout = cfg.IdleTimeout.Duration
	}
	if opts.IdleTimeout <= 0 {
		return nil, usageErrorf("--idle-timeout must be positive, e.g. 60s")
	}

	s, err := a.settings(cfg, &prof, changed)
	if err != nil {
		return nil, err
	}
	if a.f.demo && s.ToolsMode != "none" {
		s.Tools = demo.Tools()
	}
	if needModel && s.Model == "" {
		where := "or set default_model in the config file"
		if prof.Name != "" && cfg.Path != "" {
			where = fmt.Sprintf("or set default_model for provider %q in %s", prof.Name, cfg.Path)
		}
		return nil, usageErrorf("no model chosen: pass -m MODEL %s (parley models lists them)", where)
	}

	p, err := newProvider(prof.Dialect, opts)
	if err != nil {
		t.close()
		return nil, err
	}
	t.provider = p
	t.name = opts.Name
	t.dialect = prof.Dialect
	t.settings = s
	t.models = prof.Models
	t.theme = "auto"
	if cfg.Theme != "" {
		if _, err := themes.Lookup(cfg.Theme, true); err != nil {
			t.close()
			return nil, usageErrorf("%s: theme: %v", cfg.Path, err)
		}
		t.theme = cfg.Theme
	}
	if a.f.theme != "" {
		if _, err := themes.Lookup(a.f.theme, true); err != nil {
			t.close()
			return nil, usageErrorf("--theme: %v", err)
		}
		t.theme = a.f.theme
	}
	return t, nil
}

// pickProfile chooses the provider profile: --provider NAME; else a
// one-off profile when --base-url is given; else default_provider; else the
// only profile in the file. --dialect and --base-url override the chosen
// profile's fields.
func (a *app) pickProfile(cfg *config.Config, changed func(string) bool) (*config.Provider, error) {
	var p config.Provider
	switch {
	case a.f.provider != "":
		named, err := cfg.Provider(a.f.provider)
		if err != nil {
			return nil, &exitError{code: ExitUsage, err: err}
		}
		p = *named
	case a.f.baseURL != "":
		p = config.Provider{Dialect: "openai"}
	case cfg.DefaultProvider != "":
		named, err := cfg.Provider(cfg.DefaultProvider)
		if err != nil {
			return nil, &exitError{code: ExitUsage, err: err}
		}
		p = *named
	case len(cfg.Providers) == 1:
		p = *cfg.Providers[cfg.ProviderNames()[0]]
	case len(cfg.Providers) > 1:
		return nil, usageErrorf("several providers are configured (%s): choose one with --provider NAME or set default_provider in %s",
			strings.Join(cfg.ProviderNames(), ", "), cfg.Path)
	default:
		return nil, usageErrorf("no provider configured: pass --base-url URL -m MODEL (key in PARLEY_API_KEY), add a profile to %s, or try --demo",
			a.configPathForMessages())
	}
	if changed("dialect") {
		if !slices.Contains(config.Dialects, a.f.dialect) {
			return nil, usageErrorf("unknown dialect %q (one of %s)", a.f.dialect, strings.Join(config.Dialects, ", "))
		}
		p.Dialect = a.f.dialect
	}
	if a.f.baseURL != "" {
		p.BaseURL = a.f.baseURL
	}
	return &p, nil
}

func (a *app) configPathForMessages() string {
	if a.f.configPath != "" {
		return a.f.configPath
	}
	if p, err := config.DefaultPath(a.env.Getenv); err == nil {
		return p
	}
	return "the config file"
}

// settings merges request defaults from the file with the flags.
func (a *app) settings(cfg *config.Config, prof *config.Provider, changed func(string) bool) (session.Settings, error) {
	d := cfg.Defaults
	s := session.Settings{
		Model:       prof.Model(),
		System:      d.System,
		Temperature: d.Temperature,
		TopP:        d.TopP,
		MaxTokens:   d.MaxTokens,
		Stop:        append([]string(nil), d.Stop...),
		ToolsMode:   "ask",
	}
	if a.f.model != "" {
		s.Model = a.f.model
	}
	if changed("system") {
		s.System = a.f.system
	}
	if changed("temperature") {
		if a.f.temperature < 0 || a.f.temperature > 2 {
			return s, usageErrorf("--temperature must be between 0 and 2")
		}
		v := a.f.temperature
		s.Temperature = &v
	}
	if changed("top-p") {
		if a.f.topP < 0 || a.f.topP > 1 {
			return s, usageErrorf("--top-p must be between 0 and 1")
		}
		v := a.f.topP
		s.TopP = &v
	}
	if changed("max-tokens") {
		if a.f.maxTokens < 0 {
			return s, usageErrorf("--max-tokens must not be negative")
		}
		s.MaxTokens = a.f.maxTokens
	}
	if changed("stop") {
		s.Stop = append([]string(nil), a.f.stop...)
	}
	if cfg.Tools != "" {
		s.ToolsMode = cfg.Tools
	}
	if changed("tools") {
		if !slices.Contains(config.ToolsModes, a.f.tools) {
			return s, usageErrorf("--tools must be one of %s", strings.Join(config.ToolsModes, ", "))
		}
		s.ToolsMode = a.f.tools
	}
	if a.f.reasoningBudget < 0 {
		return s, usageErrorf("--reasoning-budget must not be negative")
	}
	if a.f.reasoning || a.f.reasoningBudget > 0 {
		s.Reasoning = provider.ReasoningOptions{Enabled: true, Budget: a.f.reasoningBudget}
	}
	return s, nil
}

// hostOf returns the host of a base URL, for display.
func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Host
	}
	return raw
}

// isCanceled reports whether err is a user cancellation.
func isCanceled(err error) bool {
	var ae *provider.APIError
	if errors.As(err, &ae) {
		return ae.Kind == provider.KindCanceled
	}
	return errors.Is(err, context.Canceled)
}

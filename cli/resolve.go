package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
	"github.com/parley-chat/parley/themes"
)

// demoKey is the placeholder key sent to the built-in demo gateway.
const demoKey = "parley-demo-key"

// target is everything a command needs to talk to one gateway: the
// provider, the request settings and what the UI shows.
type target struct {
	provider provider.Provider
	// name is the profile name, or the host of a provider given by flags.
	name     string
	dialect  provider.Dialect
	settings session.Settings
	models   []string
	theme    string
	// mouse and configured are for the chat: mouse reporting on, and
	// whether a configuration file was read.
	mouse, configured bool
	// maxWidth caps the width of rendered answers (0: none).
	maxWidth int
	// save says whether the conversation is saved (the config's save
	// and --no-save).
	save bool
	// cfg is the configuration file as read (tools, MCP servers, allow).
	cfg *config.Config
	// demo is the demo gateway's profile when --demo started one.
	demo  *config.Provider
	close func()
}

// resolve reads the configuration file, hands it and the flags that were
// given to config.Resolve (which merges and validates them), finds the key
// and builds the provider. needModel makes a missing model an error.
// Every error it returns is a usage or configuration error (exit 2), or
// an interruption.
func (a *app) resolve(ctx context.Context, cmd *cobra.Command, needModel bool) (*target, error) {
	cfg, err := config.Load(a.f.configPath, a.env.Getenv)
	if err != nil {
		return nil, &exitError{code: ExitUsage, err: err}
	}
	flags := a.givenFlags(cmd)
	a.resumeDefaults(cfg, flags)
	t := &target{close: func() {}}
	if a.f.demo {
		url, models, stop, err := startDemo()
		if err != nil {
			return nil, failure(fmt.Errorf("cannot start the demo gateway: %w", err))
		}
		t.close = stop
		flags.Demo = &config.Provider{Name: "demo", Dialect: provider.DialectOpenAI, BaseURL: url, Models: models}
		t.demo = flags.Demo
	}
	r, err := config.Resolve(cfg, flags, checkTheme)
	if err == nil && needModel {
		err = r.RequireModel()
	}
	if err != nil {
		t.close()
		return nil, &exitError{code: ExitUsage, err: err}
	}
	for _, w := range r.Warnings {
		a.warn(w)
	}
	sch, err := a.loadSchema()
	if err != nil {
		t.close()
		return nil, err
	}

	key := demoKey
	if !a.f.demo {
		k, err := config.ResolveKey(ctx, &r.Profile, a.env.Getenv, 0)
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
	p, err := newProvider(r.Profile.Dialect, r.Options(key))
	if err != nil {
		t.close()
		return nil, err
	}
	t.provider = p
	t.name = r.Name
	t.dialect = r.Profile.Dialect
	t.settings = settingsFrom(r)
	t.settings.Schema = sch
	if a.resumed != nil {
		t.settings = resumedSettings(a.resumed.Settings, t.settings, flags)
	}
	t.save = r.Save
	t.cfg = cfg
	t.models = r.Profile.Models
	t.theme = r.Theme
	t.mouse, t.configured, t.maxWidth = r.Mouse, r.Configured, r.MaxWidth
	return t, nil
}

// givenFlags collects the provider and request flags the user gave; a
// flag left out stays nil, so the file's value or the default applies.
func (a *app) givenFlags(cmd *cobra.Command) *config.Flags {
	f := &config.Flags{
		Provider:        a.f.provider,
		Dialect:         ifGiven(cmd, "dialect", &a.f.dialect),
		BaseURL:         ifGiven(cmd, "base-url", &a.f.baseURL),
		Model:           ifGiven(cmd, "model", &a.f.model),
		System:          ifGiven(cmd, "system", &a.f.system),
		Temperature:     ifGiven(cmd, "temperature", &a.f.temperature),
		TopP:            ifGiven(cmd, "top-p", &a.f.topP),
		MaxTokens:       ifGiven(cmd, "max-tokens", &a.f.maxTokens),
		IdleTimeout:     ifGiven(cmd, "idle-timeout", &a.f.idleTimeout),
		HeaderTimeout:   ifGiven(cmd, "header-timeout", &a.f.headerTimeout),
		MaxRetries:      ifGiven(cmd, "max-retries", &a.f.maxRetries),
		Tools:           ifGiven(cmd, "tools", &a.f.tools),
		Reasoning:       a.f.reasoning,
		ReasoningBudget: ifGiven(cmd, "reasoning-budget", &a.f.reasoningBudget),
		UIStream:        ifGiven(cmd, "ui-stream", &a.f.uiStream),
		Theme:           ifGiven(cmd, "theme", &a.f.theme),
		NoSave:          a.f.noSave,
	}
	if cmd.Flags().Changed("stop") {
		f.Stop = append([]string{}, a.f.stop...)
	}
	return f
}

// ifGiven returns v when the flag called name was given, else nil.
func ifGiven[T any](cmd *cobra.Command, name string, v *T) *T {
	if cmd.Flags().Changed(name) {
		return v
	}
	return nil
}

// checkTheme accepts the names of the built-in themes.
func checkTheme(name string) error {
	_, err := themes.Lookup(name, true)
	return err
}

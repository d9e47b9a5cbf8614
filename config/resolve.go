package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/parley-chat/parley/provider"
)

// Defaults of the settings that have one when neither the file nor a flag
// sets them.
const (
	DefaultMaxRetries  = 2
	DefaultIdleTimeout = provider.DefaultIdleTimeout
	DefaultTheme       = "auto"
	// MaxRetriesLimit is the most retries the file or a flag may ask for.
	MaxRetriesLimit = 100
	// DefaultMaxWidth is the widest an answer is rendered, in columns,
	// unless max_width says otherwise: prose wider than this is hard to
	// read on a wide terminal.
	DefaultMaxWidth = 100
	// MinMaxWidth and MaxMaxWidth bound a max_width other than 0.
	MinMaxWidth, MaxMaxWidth = 20, 1000
)

// Flags are the command-line values that override the file. A nil pointer
// (nil Stop, empty Provider, false Reasoning) is a flag that was not given,
// so the file's value or the default applies; a given value is validated
// by the same rule as the file's.
type Flags struct {
	Provider      string  // --provider NAME
	Dialect       *string // --dialect
	BaseURL       *string // --base-url
	Model         *string // -m; an empty model counts as not given
	System        *string // --system ("" clears the file's)
	Temperature   *float64
	TopP          *float64
	MaxTokens     *int
	Stop          []string // --stop, repeated
	IdleTimeout   *time.Duration
	HeaderTimeout *time.Duration
	MaxRetries    *int
	Tools         *string
	Reasoning     bool
	// ReasoningBudget is --reasoning-budget; a positive budget implies
	// Reasoning.
	ReasoningBudget *int
	UIStream        *bool
	Theme           *string
	// NoSave is --no-save: the conversation is not saved, whatever the
	// file says.
	NoSave bool
	// Demo is the profile of the built-in demo gateway (--demo): it
	// replaces the choice of profile and cannot be combined with
	// Provider, Dialect or BaseURL.
	Demo *Provider
}

// Resolved is the file and the flags merged and validated: everything a
// command needs to build a provider and its requests, except the key
// (see ResolveKey).
type Resolved struct {
	// Profile is the chosen profile with --dialect and --base-url
	// applied; its Name is "" for a provider given by flags alone.
	Profile Provider
	// Name is the profile's name, or the base URL's host when it has
	// none, for display.
	Name string

	Model       string
	System      string
	Temperature *float64
	TopP        *float64
	MaxTokens   int
	Stop        []string
	Reasoning   provider.ReasoningOptions
	ToolsMode   provider.ToolsMode

	MaxRetries    int
	IdleTimeout   time.Duration
	HeaderTimeout time.Duration // 0 = the transport's default
	UIStream      bool

	// Theme is a theme name, DefaultTheme unless set.
	Theme string
	// Mouse turns mouse reporting on in the chat.
	Mouse bool
	// MaxWidth caps the width of rendered answers in columns; 0 means no
	// cap.
	MaxWidth int
	// Configured reports whether a configuration file was read.
	Configured bool
	// Save says whether conversations are saved: true unless the file
	// says save = false or --no-save is given.
	Save bool
	// Warnings are things worth telling the user that do not stop Parley
	// (a key that would travel over plain http).
	Warnings []string

	// configFile is where the configuration was (or would have been)
	// read, for the missing-model message.
	configFile string
}

// Options returns the provider options of the resolved settings, with key
// as the API key.
func (r *Resolved) Options(key string) provider.Options {
	return provider.Options{
		Name:          r.Name,
		BaseURL:       r.Profile.BaseURL,
		APIKey:        key,
		Headers:       r.Profile.Headers,
		MaxRetries:    r.MaxRetries,
		IdleTimeout:   r.IdleTimeout,
		HeaderTimeout: r.HeaderTimeout,
		UIStream:      r.UIStream,
	}
}

// RequireModel reports an error saying how to choose a model when none
// was chosen.
func (r *Resolved) RequireModel() error {
	if r.Model != "" {
		return nil
	}
	where := "or set default_model in the config file"
	if r.Profile.Name != "" && r.configFile != "" {
		where = fmt.Sprintf("or set default_model for provider %q in %s", r.Profile.Name, r.configFile)
	}
	return fmt.Errorf("no model chosen: pass -m MODEL %s (parley models lists them)", where)
}

// Resolve merges the flags over the configuration and validates the
// result: flags win over the file, the file over the defaults. checkTheme
// validates a theme name (nil accepts any). An error from a value in the
// file names the file and line (an *Error); one from a flag names the
// flag; an unknown profile is an *UnknownProviderError.
func Resolve(c *Config, f *Flags, checkTheme func(string) error) (*Resolved, error) {
	if c == nil {
		c = &Config{}
	}
	if f == nil {
		f = &Flags{}
	}
	prof, err := c.pickProfile(f)
	if err != nil {
		return nil, err
	}
	r := &Resolved{
		Profile:     prof,
		Name:        prof.Name,
		Model:       prof.Model(),
		System:      c.Defaults.System,
		Temperature: c.Defaults.Temperature,
		TopP:        c.Defaults.TopP,
		MaxTokens:   c.Defaults.MaxTokens,
		Stop:        append([]string(nil), c.Defaults.Stop...),
		ToolsMode:   provider.ToolsAsk,
		MaxRetries:  DefaultMaxRetries,
		IdleTimeout: DefaultIdleTimeout,
		UIStream:    prof.UIStream,
		Theme:       DefaultTheme,
		Mouse:       c.Mouse,
		MaxWidth:    DefaultMaxWidth,
		Configured:  c.Path != "",
		Save:        (c.Save == nil || *c.Save) && !f.NoSave,
		configFile:  c.where(),
	}
	if r.Name == "" {
		r.Name = hostOf(prof.BaseURL)
	}
	if w := InsecureURLWarning(prof.BaseURL); w != "" {
		r.Warnings = append(r.Warnings, w)
	}
	// The file's values were validated when it was parsed.
	if c.MaxWidth != nil {
		r.MaxWidth = *c.MaxWidth
	}
	if c.MaxRetries != nil {
		r.MaxRetries = *c.MaxRetries
	}
	if c.IdleTimeout.Duration > 0 {
		r.IdleTimeout = c.IdleTimeout.Duration
	}
	if c.HeaderTimeout.Duration > 0 {
		r.HeaderTimeout = c.HeaderTimeout.Duration
	}
	if c.Tools != "" {
		r.ToolsMode = c.Tools
	}
	if c.Theme != "" && checkTheme != nil {
		if err := checkTheme(c.Theme); err != nil {
			return nil, c.errorAt(toml.Key{"theme"}, "theme: %v", err)
		}
	}
	if c.Theme != "" {
		r.Theme = c.Theme
	}
	if err := r.applyFlags(f, checkTheme); err != nil {
		return nil, err
	}
	if r.UIStream && r.Profile.Dialect != provider.DialectCuadra {
		what := fmt.Sprintf("ui_stream (provider %q)", r.Profile.Name)
		if f.UIStream != nil {
			what = "--ui-stream"
		}
		r.Warnings = append(r.Warnings, fmt.Sprintf("%s applies only to the %s dialect; %s speaks %s, so it is ignored",
			what, provider.DialectCuadra, r.Name, r.Profile.Dialect))
		r.UIStream = false
	}
	return r, nil
}

// applyFlags puts the flags that were given over r, each checked by the
// rule the file's value is checked by.
func (r *Resolved) applyFlags(f *Flags, checkTheme func(string) error) error {
	flagErr := func(flag string, err error) error { return fmt.Errorf("--%s %w", flag, err) }
	if f.Model != nil && *f.Model != "" {
		r.Model = *f.Model
	}
	if f.System != nil {
		r.System = *f.System
	}
	if v := f.Temperature; v != nil {
		if err := checkTemperature(*v); err != nil {
			return flagErr("temperature", err)
		}
		r.Temperature = ptr(*v)
	}
	if v := f.TopP; v != nil {
		if err := checkTopP(*v); err != nil {
			return flagErr("top-p", err)
		}
		r.TopP = ptr(*v)
	}
	if v := f.MaxTokens; v != nil {
		if err := checkMaxTokens(*v); err != nil {
			return flagErr("max-tokens", err)
		}
		r.MaxTokens = *v
	}
	if f.Stop != nil {
		r.Stop = append([]string(nil), f.Stop...)
	}
	if v := f.MaxRetries; v != nil {
		if err := checkMaxRetries(*v); err != nil {
			return flagErr("max-retries", err)
		}
		r.MaxRetries = *v
	}
	if v := f.IdleTimeout; v != nil {
		if err := checkTimeout(*v); err != nil {
			return flagErr("idle-timeout", err)
		}
		r.IdleTimeout = *v
	}
	if v := f.HeaderTimeout; v != nil {
		if err := checkTimeout(*v); err != nil {
			return flagErr("header-timeout", err)
		}
		r.HeaderTimeout = *v
	}
	if v := f.Tools; v != nil {
		m, err := provider.ParseToolsMode(*v)
		if err != nil {
			return fmt.Errorf("--tools must be one of %s, not %q", names(provider.ToolsModes()), *v)
		}
		r.ToolsMode = m
	}
	if v := f.ReasoningBudget; v != nil {
		if *v < 0 {
			return flagErr("reasoning-budget", errors.New("must not be negative"))
		}
		r.Reasoning.Budget = *v
	}
	if f.Reasoning || r.Reasoning.Budget > 0 {
		r.Reasoning.Enabled = true
	}
	if f.UIStream != nil {
		r.UIStream = *f.UIStream
	}
	if v := f.Theme; v != nil {
		if checkTheme != nil {
			if err := checkTheme(*v); err != nil {
				return fmt.Errorf("--theme: %w", err)
			}
		}
		r.Theme = *v
	}
	return nil
}

// pickProfile chooses the profile: the demo's; --provider NAME; else a
// one-off profile when --base-url is given; else default_provider; else
// the only profile in the file. --dialect and --base-url override the
// chosen profile's fields.
func (c *Config) pickProfile(f *Flags) (Provider, error) {
	if f.Demo != nil {
		for _, c := range []struct {
			flag  string
			given bool
		}{{"provider", f.Provider != ""}, {"base-url", f.BaseURL != nil}, {"dialect", f.Dialect != nil}} {
			if c.given {
				return Provider{}, fmt.Errorf("--demo cannot be combined with --%s", c.flag)
			}
		}
		return *f.Demo, nil
	}
	var p Provider
	switch {
	case f.Provider != "":
		named, err := c.Provider(f.Provider)
		if err != nil {
			return p, err
		}
		p = *named
	case f.BaseURL != nil && *f.BaseURL != "":
		p = Provider{Dialect: provider.DialectOpenAI}
	case c.DefaultProvider != "":
		named, err := c.Provider(c.DefaultProvider)
		if err != nil {
			return p, err
		}
		p = *named
	case len(c.Providers) == 1:
		p = *c.Providers[c.ProviderNames()[0]]
	case len(c.Providers) > 1:
		return p, fmt.Errorf("several providers are configured (%s): choose one with --provider NAME or set default_provider in %s",
			strings.Join(c.ProviderNames(), ", "), c.where())
	default:
		return p, &NoProviderError{File: c.where(), Exists: c.Path != ""}
	}
	if f.Dialect != nil {
		d, err := provider.ParseDialect(*f.Dialect)
		if err != nil {
			return p, err
		}
		p.Dialect = d
	}
	if f.BaseURL != nil && *f.BaseURL != "" {
		if err := CheckBaseURL(*f.BaseURL); err != nil {
			return p, fmt.Errorf("--base-url: %w", err)
		}
		p.BaseURL = *f.BaseURL
	}
	return p, nil
}

// NoProviderError says that nothing chooses a provider: no --provider,
// no --base-url, and no profile in the configuration file (or no file).
type NoProviderError struct {
	// File is the configuration file read, or where it was looked for.
	File string
	// Exists is true when the file exists (and defines no profile).
	Exists bool
}

func (e *NoProviderError) Error() string {
	return fmt.Sprintf("no provider configured: pass --base-url URL -m MODEL (key in PARLEY_API_KEY), add a profile to %s (parley config init writes one), or try --demo", e.File)
}

// where names the configuration file for messages: the file read, or
// where it was looked for.
func (c *Config) where() string {
	switch {
	case c.Path != "":
		return c.Path
	case c.lookedAt != "":
		return c.lookedAt
	}
	return "the config file"
}

// errorAt is an *Error about the value at key in the file.
func (c *Config) errorAt(key toml.Key, format string, args ...any) error {
	return &Error{File: c.where(), Line: locateKey(c.data, key), Msg: fmt.Sprintf(format, args...)}
}

// The rules below check one setting each; the file's value and the
// flag's are checked by the same rule, and the caller names the source.

func checkTemperature(v float64) error {
	if !(v >= 0 && v <= 2) {
		return errors.New("must be between 0 and 2")
	}
	return nil
}

func checkTopP(v float64) error {
	if !(v >= 0 && v <= 1) {
		return errors.New("must be between 0 and 1")
	}
	return nil
}

func checkMaxTokens(n int) error {
	if n < 0 {
		return errors.New("must not be negative")
	}
	return nil
}

func checkMaxWidth(n int) error {
	if n != 0 && (n < MinMaxWidth || n > MaxMaxWidth) {
		return fmt.Errorf("must be 0 (no limit) or between %d and %d columns", MinMaxWidth, MaxMaxWidth)
	}
	return nil
}

func checkMaxRetries(n int) error {
	if n < 0 || n > MaxRetriesLimit {
		return fmt.Errorf("must be between 0 and %d", MaxRetriesLimit)
	}
	return nil
}

func checkTimeout(d time.Duration) error {
	if d <= 0 {
		return errors.New("must be positive, e.g. 60s")
	}
	return nil
}

func checkToolsMode(s string) error {
	if _, err := provider.ParseToolsMode(s); err != nil {
		return fmt.Errorf("must be one of %s, not %q", names(provider.ToolsModes()), s)
	}
	return nil
}

// names writes a list of names as "a, b, c".
func names[S ~string](list []S) string {
	parts := make([]string, len(list))
	for i, n := range list {
		parts[i] = string(n)
	}
	return strings.Join(parts, ", ")
}

func ptr[T any](v T) *T { return &v }

// hostOf returns the host of a base URL, for display.
func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Host
	}
	return raw
}

package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/provider"
)

func ptrTo[T any](v T) *T { return &v }

func mustParse(t *testing.T, data string) *Config {
	t.Helper()
	c, err := Parse("c.toml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestResolveDefaults(t *testing.T) {
	r, err := Resolve(nil, &Flags{BaseURL: ptrTo("https://gw.example/v1")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Profile.Dialect != provider.DialectOpenAI || r.Name != "gw.example" || r.MaxRetries != DefaultMaxRetries ||
		r.IdleTimeout != DefaultIdleTimeout || r.HeaderTimeout != 0 || r.ToolsMode != provider.ToolsAsk ||
		r.Theme != DefaultTheme || r.Reasoning.Enabled || len(r.Warnings) != 0 {
		t.Errorf("defaults: %+v", r)
	}
	o := r.Options("k")
	if o.BaseURL != "https://gw.example/v1" || o.APIKey != "k" || o.Name != "gw.example" || o.MaxRetries != 2 || o.IdleTimeout != time.Minute {
		t.Errorf("options: %+v", o)
	}
	if err := r.RequireModel(); err == nil || !strings.Contains(err.Error(), "no model chosen") {
		t.Errorf("RequireModel: %v", err)
	}
}

func TestResolveFileThenFlags(t *testing.T) {
	c := mustParse(t, `
default_provider = "gw"
theme = "dark"
idle_timeout = "45s"
header_timeout = "3m"
max_retries = 4
tools = "none"
[defaults]
temperature = 0.7
top_p = 0.9
max_tokens = 100
stop = "END"
system = "file"
[providers.gw]
dialect = "cuadra"
base_url = "http://gw.example/v1"
models = ["a", "b"]
ui_stream = true
[providers.other]
dialect = "gemini"
base_url = "https://other.example/v1beta"
default_model = "g"
`)
	r, err := Resolve(c, &Flags{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Profile.Name != "gw" || r.Name != "gw" || r.Model != "a" || r.System != "file" || *r.Temperature != 0.7 ||
		*r.TopP != 0.9 || r.MaxTokens != 100 || strings.Join(r.Stop, "|") != "END" || r.ToolsMode != provider.ToolsNone ||
		r.MaxRetries != 4 || r.IdleTimeout != 45*time.Second || r.HeaderTimeout != 3*time.Minute || !r.UIStream || r.Theme != "dark" {
		t.Errorf("file: %+v", r)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "plain http") {
		t.Errorf("warnings: %q", r.Warnings)
	}
	if o := r.Options("k"); o.HeaderTimeout != 3*time.Minute {
		t.Errorf("header timeout not in the options: %+v", o)
	}

	r, err = Resolve(c, &Flags{
		Provider: "gw", Dialect: ptrTo("openai"), BaseURL: ptrTo("https://flag.example/v2"), Model: ptrTo("m"),
		System: ptrTo(""), Temperature: ptrTo(0.0), TopP: ptrTo(1.0), MaxTokens: ptrTo(0), Stop: []string{"x", "y"},
		IdleTimeout: ptrTo(time.Second), HeaderTimeout: ptrTo(5 * time.Second), MaxRetries: ptrTo(0),
		Tools: ptrTo("auto"), ReasoningBudget: ptrTo(512), UIStream: ptrTo(false), Theme: ptrTo("light"),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Profile.Dialect != provider.DialectOpenAI || r.Profile.BaseURL != "https://flag.example/v2" || r.Name != "gw" ||
		r.Model != "m" || r.System != "" || *r.Temperature != 0 || *r.TopP != 1 || r.MaxTokens != 0 ||
		strings.Join(r.Stop, "|") != "x|y" || r.IdleTimeout != time.Second || r.HeaderTimeout != 5*time.Second ||
		r.MaxRetries != 0 || r.ToolsMode != provider.ToolsAuto || !r.Reasoning.Enabled || r.Reasoning.Budget != 512 ||
		r.UIStream || r.Theme != "light" || len(r.Warnings) != 0 {
		t.Errorf("flags: %+v", r)
	}
	// The flags' pointers are not shared with the result.
	if c.Defaults.Temperature == r.Temperature {
		t.Error("temperature pointer shared")
	}
	// An empty -m keeps the profile's model.
	if r, err := Resolve(c, &Flags{Provider: "other", Model: ptrTo("")}, nil); err != nil || r.Model != "g" {
		t.Errorf("empty model: %+v, %v", r, err)
	}
}

// TestResolveFlagRules: every flag is held to the rule its file key is
// held to, including the caps the file had alone before.
func TestResolveFlagRules(t *testing.T) {
	base := func() *Flags { return &Flags{BaseURL: ptrTo("https://gw.example/v1")} }
	tests := []struct {
		name string
		set  func(*Flags)
		want string
	}{
		{"max-retries over the cap", func(f *Flags) { f.MaxRetries = ptrTo(1000000000) }, "--max-retries must be between 0 and 100"},
		{"negative max-retries", func(f *Flags) { f.MaxRetries = ptrTo(-1) }, "--max-retries must be between 0 and 100"},
		{"temperature", func(f *Flags) { f.Temperature = ptrTo(7.0) }, "--temperature must be between 0 and 2"},
		{"temperature NaN", func(f *Flags) { nan := 0.0; nan /= nan; f.Temperature = &nan }, "--temperature must be between 0 and 2"},
		{"top-p", func(f *Flags) { f.TopP = ptrTo(-0.5) }, "--top-p must be between 0 and 1"},
		{"max-tokens", func(f *Flags) { f.MaxTokens = ptrTo(-1) }, "--max-tokens must not be negative"},
		{"idle-timeout", func(f *Flags) { f.IdleTimeout = ptrTo(time.Duration(0)) }, "--idle-timeout must be positive"},
		{"header-timeout", func(f *Flags) { f.HeaderTimeout = ptrTo(-time.Second) }, "--header-timeout must be positive"},
		{"tools", func(f *Flags) { f.Tools = ptrTo("sometimes") }, "--tools must be one of none, ask, auto"},
		{"reasoning-budget", func(f *Flags) { f.ReasoningBudget = ptrTo(-1) }, "--reasoning-budget must not be negative"},
		{"dialect", func(f *Flags) { f.Dialect = ptrTo("klingon") }, `unknown dialect "klingon" (one of openai, cuadra, gemini)`},
		{"base-url port", func(f *Flags) { f.BaseURL = ptrTo("http://127.0.0.1:99999/v1") }, "port 99999 is out of range"},
		{"base-url scheme", func(f *Flags) { f.BaseURL = ptrTo("ftp://h/v1") }, "--base-url"},
		{"theme", func(f *Flags) { f.Theme = ptrTo("neon") }, `--theme: no theme "neon"`},
		{"demo with provider", func(f *Flags) { f.Demo = &Provider{Name: "demo"}; f.BaseURL = nil; f.Provider = "x" }, "--demo cannot be combined with --provider"},
		{"demo with base-url", func(f *Flags) { f.Demo = &Provider{Name: "demo"} }, "--demo cannot be combined with --base-url"},
	}
	themes := func(name string) error {
		if name == "dark" || name == "light" {
			return nil
		}
		return errors.New(`no theme "` + name + `"`)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := base()
			tt.set(f)
			r, err := Resolve(nil, f, themes)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Resolve = %+v, %v; want an error containing %q", r, err, tt.want)
			}
		})
	}
}

func TestResolveProfileChoice(t *testing.T) {
	two := mustParse(t, "[providers.a]\ndialect = \"openai\"\nbase_url = \"https://a/v1\"\n[providers.b]\ndialect = \"gemini\"\nbase_url = \"https://b/v1\"\n")
	if _, err := Resolve(two, &Flags{}, nil); err == nil || !strings.Contains(err.Error(), "several providers are configured (a, b)") {
		t.Errorf("two profiles, none chosen: %v", err)
	}
	var upe *UnknownProviderError
	if _, err := Resolve(two, &Flags{Provider: "c"}, nil); !errors.As(err, &upe) {
		t.Errorf("unknown profile: %v", err)
	}
	if r, err := Resolve(two, &Flags{Provider: "b"}, nil); err != nil || r.Profile.Dialect != provider.DialectGemini {
		t.Errorf("--provider b: %+v, %v", r, err)
	}
	none := &Config{lookedAt: "/home/u/.config/parley/config.toml"}
	if _, err := Resolve(none, &Flags{}, nil); err == nil || !strings.Contains(err.Error(), "no provider configured") ||
		!strings.Contains(err.Error(), "/home/u/.config/parley/config.toml") {
		t.Errorf("no profile: %v", err)
	}
	demo := &Provider{Name: "demo", Dialect: provider.DialectOpenAI, BaseURL: "http://127.0.0.1:1/v1", Models: []string{"demo-fast"}}
	if r, err := Resolve(two, &Flags{Demo: demo}, nil); err != nil || r.Name != "demo" || r.Model != "demo-fast" || len(r.Warnings) != 0 {
		t.Errorf("demo: %+v, %v", r, err)
	}
}

// TestResolveThemeInFileNamesTheLine: a theme the caller does not know is
// reported at its line in the file.
func TestResolveThemeInFileNamesTheLine(t *testing.T) {
	c := mustParse(t, "# a comment\ntheme = \"neon\"\n[providers.a]\ndialect = \"openai\"\nbase_url = \"https://a/v1\"\n")
	_, err := Resolve(c, &Flags{}, func(string) error { return errors.New("unknown theme") })
	var ce *Error
	if !errors.As(err, &ce) || ce.Line != 2 || !strings.HasPrefix(err.Error(), "c.toml:2: theme: unknown theme") {
		t.Errorf("err = %v", err)
	}
}

// TestLoadRefusesHugeFiles: a file past MaxFileBytes is refused after
// reading at most one byte more than the limit, so a device such as
// /dev/zero cannot fill the memory.
func TestLoadRefusesHugeFiles(t *testing.T) {
	env := mapEnv(map[string]string{"XDG_CONFIG_HOME": t.TempDir()})
	big := filepath.Join(t.TempDir(), "big.toml")
	// A valid TOML file: comments only.
	line := "# " + strings.Repeat("x", 77) + "\n"
	if err := os.WriteFile(big, []byte(strings.Repeat(line, MaxFileBytes/len(line)+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(big, env)
	var ce *Error
	if !errors.As(err, &ce) || ce.File != big || !strings.Contains(err.Error(), "larger than 1 MB") {
		t.Errorf("big file: %v", err)
	}
	// Exactly the limit is fine.
	if err := os.WriteFile(big, []byte(strings.Repeat(line, MaxFileBytes/len(line))), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big, env); err != nil {
		t.Errorf("file under the limit: %v", err)
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		if _, err := Load("/dev/zero", env); err == nil || !strings.Contains(err.Error(), "larger than") {
			t.Errorf("/dev/zero: %v", err)
		}
	}
}

func TestResolveSave(t *testing.T) {
	base := &Flags{BaseURL: ptrTo("https://gw.example/v1")}
	for _, tt := range []struct {
		file   string
		noSave bool
		want   bool
	}{
		{"", false, true},
		{"save = true", false, true},
		{"save = false", false, false},
		{"", true, false},
		{"save = true", true, false},
	} {
		f := *base
		f.NoSave = tt.noSave
		r, err := Resolve(mustParse(t, tt.file), &f, nil)
		if err != nil || r.Save != tt.want {
			t.Errorf("file %q, --no-save %v: Save = %v, %v; want %v", tt.file, tt.noSave, r.Save, err, tt.want)
		}
	}
	if _, err := Parse("c.toml", []byte(`save = "no"`)); err == nil {
		t.Error(`save = "no" accepted`)
	}
}

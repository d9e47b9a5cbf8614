package config

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// maxColumnSpec bounds a comparison column as written on the command line
// or after /compare.
const maxColumnSpec = 4096

// ColumnSettings are the request settings one comparison column sets for
// itself, over the file's defaults and the flags. A nil field (or an empty
// Stop) leaves the value as the rest of the configuration says.
type ColumnSettings struct {
	System          *string    `toml:"system"`
	Temperature     *float64   `toml:"temperature"`
	TopP            *float64   `toml:"top_p"`
	MaxTokens       *int       `toml:"max_tokens"`
	Stop            StringList `toml:"stop"`
	Reasoning       *bool      `toml:"reasoning"`
	ReasoningBudget *int       `toml:"reasoning_budget"`
}

// ComparePreset is a named comparison column from the file:
//
//	[compare.cold]
//	provider = "gw"        # optional: a profile; else the usual choice
//	model = "gpt-4o"       # optional: else the profile's default model
//	temperature = 0
//	system = "Answer in one sentence."
//
// `parley compare -m cold -m hot` then compares two presets.
type ComparePreset struct {
	// Name is the preset's key in the compare table.
	Name     string `toml:"-"`
	Provider string `toml:"provider"`
	Model    string `toml:"model"`
	ColumnSettings
}

// Column is one comparison column as the user wrote it: a model, a
// provider:model, or a preset's name, optionally followed by settings in
// braces, for example
//
//	gpt-4o
//	gw-gemini:gemini-2.5-pro
//	gpt-4o{temperature=0, system="Be brief."}
//	cold{max_tokens=200}
type Column struct {
	// Label is the column as written, for display.
	Label string
	// Provider is the profile the column names; "" chooses as usual.
	Provider string
	// Model is the model; "" means the profile's default.
	Model string
	// Preset is the name of the preset the column names, if any.
	Preset string
	// Settings are the preset's settings with the braces' over them.
	Settings ColumnSettings
}

// columnKeys are the settings a column may set in braces, in the order
// messages list them.
var columnKeys = []string{"temperature", "top_p", "max_tokens", "system", "stop", "reasoning", "reasoning_budget"}

// ParseColumn reads one comparison column. The part before the first
// colon is a provider when it names a profile (or "demo" when demo is
// set), so model ids with colons ("llama3:8b") still work; a name that is
// a preset in the file ([compare.NAME]) means the preset, whose provider
// and model the column takes. Settings in braces are checked by the same
// rules as the file's.
func (c *Config) ParseColumn(spec string, demo bool) (Column, error) {
	spec = strings.TrimSpace(spec)
	col := Column{Label: spec}
	switch {
	case spec == "":
		return col, errors.New("an empty model: give a model, provider:model or a [compare.NAME] preset")
	case len(spec) > maxColumnSpec:
		return col, fmt.Errorf("a model of %d bytes is too long (at most %d)", len(spec), maxColumnSpec)
	}
	name, braces := spec, ""
	if i := strings.IndexByte(spec, '{'); i >= 0 {
		if !strings.HasSuffix(spec, "}") {
			return col, fmt.Errorf("%q: settings in braces must end with }", spec)
		}
		name, braces = strings.TrimSpace(spec[:i]), spec[i+1:len(spec)-1]
	}
	if c != nil {
		if p := c.Compare[name]; p != nil {
			col.Preset, col.Provider, col.Model, col.Settings = name, p.Provider, p.Model, p.ColumnSettings
			col.Settings.Stop = append(StringList(nil), p.Stop...)
		}
	}
	if col.Preset == "" {
		col.Model = name
		if prov, model, ok := strings.Cut(name, ":"); ok && (c.hasProfile(prov) || (demo && prov == "demo")) {
			col.Provider, col.Model = prov, model
		}
		if col.Model == "" {
			return col, fmt.Errorf("%q names no model", spec)
		}
	}
	if braces != "" {
		if err := parseColumnSettings(braces, &col.Settings); err != nil {
			return col, fmt.Errorf("%q: %w", spec, err)
		}
	}
	return col, nil
}

// hasProfile reports whether name is a profile in the file.
func (c *Config) hasProfile(name string) bool {
	if c == nil {
		return false
	}
	_, ok := c.Providers[name]
	return ok
}

// parseColumnSettings reads "key=value, key=\"quoted, value\"" into s.
func parseColumnSettings(text string, s *ColumnSettings) error {
	for rest := strings.TrimSpace(text); rest != ""; {
		key, after, ok := strings.Cut(rest, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			return fmt.Errorf("%q is not key=value", rest)
		}
		val, tail, err := cutValue(strings.TrimLeft(after, " "))
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		if err := setColumnValue(s, key, val); err != nil {
			return err
		}
		rest = strings.TrimSpace(tail)
		if rest != "" {
			if rest[0] != ',' {
				return fmt.Errorf("%s: expected , after the value, found %q", key, rest)
			}
			rest = strings.TrimSpace(rest[1:])
		}
	}
	return nil
}

// cutValue reads one value: a double-quoted string (with \" and \\
// escapes) or everything up to the next comma. It returns the text after
// the value.
func cutValue(s string) (string, string, error) {
	if !strings.HasPrefix(s, `"`) {
		v, tail, _ := strings.Cut(s, ",")
		if tail != "" || strings.HasSuffix(s, ",") {
			tail = "," + tail
		}
		return strings.TrimSpace(v), tail, nil
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\'):
			b.WriteByte(s[i+1])
			i++
		case ch == '"':
			return b.String(), s[i+1:], nil
		default:
			b.WriteByte(ch)
		}
	}
	return "", "", errors.New("a quoted value has no closing quote")
}

// setColumnValue sets one setting from its text, by the rule the file's
// value of the same name is checked by.
func setColumnValue(s *ColumnSettings, key, val string) error {
	bad := func(err error) error { return fmt.Errorf("%s %w", key, err) }
	switch key {
	case "temperature", "top_p":
		f, err := strconv.ParseFloat(val, 64)
		if err != nil {
			return fmt.Errorf("%s must be a number, not %q", key, val)
		}
		check, field := checkTemperature, &s.Temperature
		if key == "top_p" {
			check, field = checkTopP, &s.TopP
		}
		if err := check(f); err != nil {
			return bad(err)
		}
		*field = &f
	case "max_tokens", "reasoning_budget":
		n, err := strconv.Atoi(val)
		if err != nil {
			return fmt.Errorf("%s must be a whole number, not %q", key, val)
		}
		if err := checkMaxTokens(n); err != nil {
			return bad(err)
		}
		if key == "max_tokens" {
			s.MaxTokens = &n
		} else {
			s.ReasoningBudget = &n
		}
	case "system":
		s.System = &val
	case "stop":
		s.Stop = append(s.Stop, val)
	case "reasoning":
		b, err := strconv.ParseBool(val)
		if err != nil {
			return fmt.Errorf("reasoning must be true or false, not %q", val)
		}
		s.Reasoning = &b
	default:
		return fmt.Errorf("unknown setting %q (one of %s)", key, strings.Join(columnKeys, ", "))
	}
	return nil
}

// ResolveColumn resolves one comparison column: the flags with the
// column's provider and model, merged over the file by Resolve, then the
// column's own settings over the result. A column that names a provider
// cannot be combined with --base-url or --dialect (they would rewrite that
// profile); with the demo gateway only "demo" may be named.
func ResolveColumn(c *Config, f *Flags, col Column, checkTheme func(string) error) (*Resolved, error) {
	fc := Flags{}
	if f != nil {
		fc = *f
	}
	if col.Provider != "" {
		switch {
		case fc.Demo != nil && col.Provider != "demo":
			return nil, fmt.Errorf("%s: --demo compares the demo gateway's models only", col.Label)
		case fc.Demo == nil && (fc.BaseURL != nil || fc.Dialect != nil):
			return nil, fmt.Errorf("%s names provider %q: --base-url and --dialect cannot be combined with it", col.Label, col.Provider)
		case fc.Demo == nil:
			fc.Provider = col.Provider
		}
	}
	if col.Model != "" {
		fc.Model = &col.Model
	}
	r, err := Resolve(c, &fc, checkTheme)
	if err != nil {
		return nil, err
	}
	s := col.Settings
	if s.System != nil {
		r.System = *s.System
	}
	if s.Temperature != nil {
		r.Temperature = ptr(*s.Temperature)
	}
	if s.TopP != nil {
		r.TopP = ptr(*s.TopP)
	}
	if s.MaxTokens != nil {
		r.MaxTokens = *s.MaxTokens
	}
	if len(s.Stop) > 0 {
		r.Stop = append([]string(nil), s.Stop...)
	}
	if s.Reasoning != nil {
		r.Reasoning.Enabled = *s.Reasoning
	}
	if s.ReasoningBudget != nil {
		r.Reasoning.Budget = *s.ReasoningBudget
		r.Reasoning.Enabled = r.Reasoning.Enabled || *s.ReasoningBudget > 0
	}
	return r, nil
}

// PresetNames are the names of the [compare.NAME] presets, sorted.
func (c *Config) PresetNames() []string {
	if c == nil {
		return nil
	}
	out := make([]string, 0, len(c.Compare))
	for n := range c.Compare {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// validateCompare checks the [compare.NAME] presets: names that a column
// can refer to, a provider that exists, settings by the rules of the
// defaults.
func (c *Config) validateCompare(data []byte) error {
	for _, name := range c.PresetNames() {
		p := c.Compare[name]
		if p == nil {
			p = &ComparePreset{}
			c.Compare[name] = p
		}
		p.Name = name
		fail := func(k string, format string, args ...any) error {
			key := toml.Key{"compare", name}
			if k != "" {
				key = append(key, k)
			}
			return &Error{File: c.Path, Line: locateKey(data, key), Msg: fmt.Sprintf("compare preset %q: ", name) + fmt.Sprintf(format, args...)}
		}
		if name == "" || strings.ContainsAny(name, ":{}, \t") {
			return fail("", "a preset name may not contain spaces or any of : { } ,")
		}
		if p.Provider != "" && !c.hasProfile(p.Provider) {
			return fail("provider", "provider %q is not defined (configured: %s)", p.Provider, strings.Join(c.ProviderNames(), ", "))
		}
		checks := []struct {
			key string
			err error
		}{
			{"temperature", checkPtr(p.Temperature, checkTemperature)},
			{"top_p", checkPtr(p.TopP, checkTopP)},
			{"max_tokens", checkPtr(p.MaxTokens, checkMaxTokens)},
			{"reasoning_budget", checkPtr(p.ReasoningBudget, checkMaxTokens)},
		}
		for _, ch := range checks {
			if ch.err != nil {
				return fail(ch.key, "%s %v", ch.key, ch.err)
			}
		}
	}
	return nil
}

// checkPtr checks a value that is set.
func checkPtr[T any](v *T, check func(T) error) error {
	if v == nil {
		return nil
	}
	return check(*v)
}

package config

import (
	"strings"
	"testing"
)

const compareConfig = `
default_provider = "gw"
[defaults]
temperature = 0.7
system = "file"
[providers.gw]
dialect = "openai"
base_url = "https://gw.example/v1"
default_model = "gpt-4o"
[providers.gem]
dialect = "gemini"
base_url = "https://gw.example/v1beta"
default_model = "gemini-2.5-flash"
[compare.cold]
model = "gpt-4o"
temperature = 0
system = "Be brief."
stop = ["END"]
[compare.deep]
provider = "gem"
reasoning_budget = 2048
`

func TestParseColumn(t *testing.T) {
	c := mustParse(t, compareConfig)
	tests := []struct {
		spec                   string
		provider, model, label string
		preset                 string
	}{
		{"gpt-4o", "", "gpt-4o", "gpt-4o", ""},
		{" gem:gemini-2.5-pro ", "gem", "gemini-2.5-pro", "gem:gemini-2.5-pro", ""},
		// A colon that does not follow a profile's name is part of the model.
		{"llama3:8b", "", "llama3:8b", "llama3:8b", ""},
		{"cold", "", "gpt-4o", "cold", "cold"},
		{"deep{max_tokens=100}", "gem", "", "deep{max_tokens=100}", "deep"},
	}
	for _, tt := range tests {
		col, err := c.ParseColumn(tt.spec, false)
		if err != nil {
			t.Fatalf("%q: %v", tt.spec, err)
		}
		if col.Provider != tt.provider || col.Model != tt.model || col.Label != tt.label || col.Preset != tt.preset {
			t.Errorf("%q: %+v", tt.spec, col)
		}
	}
	col, err := c.ParseColumn(`gpt-4o{temperature=1.2, system="Say \"hi\", then stop.", top_p = 0.5,max_tokens=50,reasoning=true,stop=x,stop=y}`, false)
	if err != nil {
		t.Fatal(err)
	}
	s := col.Settings
	if *s.Temperature != 1.2 || *s.System != `Say "hi", then stop.` || *s.TopP != 0.5 || *s.MaxTokens != 50 ||
		!*s.Reasoning || strings.Join(s.Stop, "|") != "x|y" {
		t.Errorf("settings %+v", s)
	}
	if col, err := c.ParseColumn("demo:demo-fast", true); err != nil || col.Provider != "demo" || col.Model != "demo-fast" {
		t.Errorf("demo column: %+v %v", col, err)
	}
	if col, err := c.ParseColumn("demo:demo-fast", false); err != nil || col.Provider != "" || col.Model != "demo:demo-fast" {
		t.Errorf("demo: without --demo is a model: %+v %v", col, err)
	}
}

func TestParseColumnErrors(t *testing.T) {
	c := mustParse(t, compareConfig)
	for spec, want := range map[string]string{
		"":                            "empty model",
		"gpt-4o{temperature=0":        "must end with }",
		"gpt-4o{temperature=3}":       "temperature must be between 0 and 2",
		"gpt-4o{temperature=hot}":     "temperature must be a number",
		"gpt-4o{colour=red}":          `unknown setting "colour" (one of temperature, top_p`,
		"gpt-4o{max_tokens=-1}":       "max_tokens must not be negative",
		`gpt-4o{system="open}`:        "no closing quote",
		"gpt-4o{temperature}":         "is not key=value",
		`gpt-4o{system="a" b}`:        "expected , after the value",
		"gem:":                        "names no model",
		"gpt-4o{reasoning=sometimes}": "reasoning must be true or false",
		strings.Repeat("m", 5000):     "too long",
	} {
		_, err := c.ParseColumn(spec, false)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.40q: error %v, want %q", spec, err, want)
		}
	}
}

func TestResolveColumn(t *testing.T) {
	c := mustParse(t, compareConfig)
	resolve := func(spec string, f *Flags) *Resolved {
		t.Helper()
		col, err := c.ParseColumn(spec, f != nil && f.Demo != nil)
		if err != nil {
			t.Fatal(err)
		}
		r, err := ResolveColumn(c, f, col, nil)
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		return r
	}
	// The column's own settings win over the flags, which win over the file.
	r := resolve("cold", &Flags{Temperature: ptrTo(1.5), MaxTokens: ptrTo(77)})
	if r.Name != "gw" || r.Model != "gpt-4o" || *r.Temperature != 0 || r.System != "Be brief." || r.MaxTokens != 77 ||
		strings.Join(r.Stop, "|") != "END" {
		t.Errorf("cold: %+v", r)
	}
	r = resolve("deep", nil)
	if r.Name != "gem" || r.Model != "gemini-2.5-flash" || !r.Reasoning.Enabled || r.Reasoning.Budget != 2048 || *r.Temperature != 0.7 {
		t.Errorf("deep: %+v", r)
	}
	r = resolve("gem:gemini-2.5-pro{system=\"\"}", nil)
	if r.Name != "gem" || r.Model != "gemini-2.5-pro" || r.System != "" {
		t.Errorf("gem: %+v", r)
	}
	demo := &Provider{Name: "demo", Dialect: "openai", BaseURL: "http://127.0.0.1:1/v1", Models: []string{"demo-fast"}}
	r = resolve("demo:demo-think", &Flags{Demo: demo})
	if r.Name != "demo" || r.Model != "demo-think" {
		t.Errorf("demo: %+v", r)
	}
	for _, tt := range []struct {
		spec string
		f    *Flags
		want string
	}{
		{"gem:g", &Flags{BaseURL: ptrTo("https://x.example/v1")}, "cannot be combined"},
		{"gem:g", &Flags{Demo: demo}, "--demo compares the demo gateway's models only"},
		{"deep", &Flags{Demo: demo}, "--demo compares the demo gateway's models only"},
	} {
		col, err := c.ParseColumn(tt.spec, false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ResolveColumn(c, tt.f, col, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.spec, err, tt.want)
		}
	}
}

func TestComparePresetErrors(t *testing.T) {
	for data, want := range map[string]string{
		"[compare.x]\nprovider = \"nope\"\n":   `c.toml:2: compare preset "x": provider "nope" is not defined`,
		"[compare.x]\ntemperature = 9\n":       `c.toml:2: compare preset "x": temperature must be between 0 and 2`,
		"[compare.\"a b\"]\nmodel = \"m\"\n":   "may not contain spaces",
		"[compare.x]\ncolour = \"red\"\n":      `unknown key "compare.x.colour"`,
		"[compare.x]\nmax_tokens = -5\n":       "max_tokens must not be negative",
		"[compare.x]\nreasoning_budget = -1\n": "reasoning_budget must not be negative",
	} {
		_, err := Parse("c.toml", []byte(data))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", data, err, want)
		}
	}
}

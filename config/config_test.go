package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const fullConfig = `
default_provider = "cutad"
theme = "dark"
idle_timeout = "45s"
max_retries = 4
tools = "ask"

[defaults]
temperature = 0.7
top_p = 0.9
max_tokens = 2048
stop = ["END", "STOP"]
system = "Be brief."

[providers.cutad]
dialect = "openai"
base_url = "https://mimo.lokerin.net/v1"
api_key_env = "CUTAD_API_KEY"
models = ["cutad-agent", "cutad-agent-pro"]
default_model = "cutad-agent-pro"

[providers.cuadra]
dialect = "cuadra"
base_url = "https://api.cuadra.ai/v1"
api_key_cmd = "pass show cuadra"
ui_stream = true

[providers.cuadra.headers]
X-Team = "research"

[providers."local gw"]
dialect = "gemini"
base_url = "http://127.0.0.1:8080/api/v1beta"
`

func TestParseFull(t *testing.T) {
	c, err := Parse("/cfg/config.toml", []byte(fullConfig))
	if err != nil {
		t.Fatal(err)
	}
	if c.Path != "/cfg/config.toml" || c.DefaultProvider != "cutad" || c.Theme != "dark" || c.Tools != "ask" {
		t.Errorf("top level: %+v", c)
	}
	if c.IdleTimeout.Duration != 45*time.Second {
		t.Errorf("idle_timeout = %v", c.IdleTimeout)
	}
	if c.MaxRetries == nil || *c.MaxRetries != 4 {
		t.Errorf("max_retries = %v", c.MaxRetries)
	}
	d := c.Defaults
	if d.Temperature == nil || *d.Temperature != 0.7 || d.TopP == nil || *d.TopP != 0.9 || d.MaxTokens != 2048 ||
		strings.Join(d.Stop, "|") != "END|STOP" || d.System != "Be brief." {
		t.Errorf("defaults: %+v", d)
	}
	if got := strings.Join(c.ProviderNames(), ","); got != "cuadra,cutad,local gw" {
		t.Errorf("names = %q", got)
	}
	cu, err := c.Provider("cutad")
	if err != nil {
		t.Fatal(err)
	}
	if cu.Name != "cutad" || cu.Dialect != "openai" || cu.BaseURL != "https://mimo.lokerin.net/v1" ||
		cu.APIKeyEnv != "CUTAD_API_KEY" || cu.Model() != "cutad-agent-pro" || len(cu.Models) != 2 {
		t.Errorf("cutad: %+v", cu)
	}
	cd, _ := c.Provider("cuadra")
	if !cd.UIStream || cd.APIKeyCmd != "pass show cuadra" || cd.Headers["X-Team"] != "research" || cd.Model() != "" {
		t.Errorf("cuadra: %+v", cd)
	}
	if g, _ := c.Provider("local gw"); g == nil || g.Dialect != "gemini" {
		t.Errorf("quoted provider name not found")
	}
	_, err = c.Provider("nope")
	var upe *UnknownProviderError
	if !errors.As(err, &upe) || !strings.Contains(err.Error(), `unknown provider "nope"`) || !strings.Contains(err.Error(), "cutad") {
		t.Errorf("unknown provider error = %v", err)
	}
}

func TestParseStopAsString(t *testing.T) {
	c, err := Parse("c.toml", []byte("[defaults]\nstop = \"END\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Defaults.Stop) != 1 || c.Defaults.Stop[0] != "END" {
		t.Errorf("stop = %q", c.Defaults.Stop)
	}
}

func TestParseEmpty(t *testing.T) {
	c, err := Parse("c.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Providers) != 0 || c.MaxRetries != nil || c.IdleTimeout.Duration != 0 {
		t.Errorf("empty config not zero: %+v", c)
	}
}

func TestParseErrors(t *testing.T) {
	const okProvider = "[providers.a]\ndialect = \"openai\"\nbase_url = \"https://h/v1\"\n"
	tests := []struct {
		name string
		data string
		line int
		want []string // substrings of the message
	}{
		{"syntax error", "theme = \"dark\"\n\nmax_retries = = 3\n", 3, []string{"c.toml:3:"}},
		{"unterminated string", "theme = \"dark\n", 1, []string{"c.toml:1:"}},
		{"unknown top-level key", "theme = \"dark\"\ncolour = \"red\"\n", 2, []string{`unknown key "colour"`}},
		{"default at top level", "temperature = 0.5\n", 1, []string{`unknown key "temperature"`, "[defaults]"}},
		{"unknown provider key", okProvider + "api_key = \"sk-secret\"\n", 4, []string{`unknown key "providers.a.api_key"`, "api_key_env"}},
		{"unknown defaults key", "[defaults]\nsystem = \"x\"\ntemp = 1\n", 3, []string{`unknown key "defaults.temp"`}},
		{"wrong type", "[defaults]\ntemperature = \"hot\"\n", 2, []string{"temperature"}},
		{"bad duration", "idle_timeout = \"soon\"\n", 1, []string{"idle_timeout", "invalid duration"}},
		{"negative duration", "idle_timeout = \"-1s\"\n", 1, []string{"must be positive"}},
		{"zero duration", "\nidle_timeout = \"0s\"\n", 2, []string{"must be positive"}},
		{"unknown dialect", "[providers.a]\nbase_url = \"https://h/v1\"\ndialect = \"anthropic\"\n", 3, []string{`unknown dialect "anthropic"`, "openai, cuadra, gemini"}},
		{"missing dialect", "[providers.a]\nbase_url = \"https://h/v1\"\n", 1, []string{"dialect is required"}},
		{"missing base_url", "[providers.a]\ndialect = \"openai\"\n", 1, []string{"base_url is required"}},
		{"bad base_url scheme", "[providers.a]\ndialect = \"openai\"\nbase_url = \"ftp://h/v1\"\n", 3, []string{"https://"}},
		{"credentials in base_url", "[providers.a]\ndialect = \"openai\"\nbase_url = \"https://u:p@h/v1\"\n", 3, []string{"credentials"}},
		{"key in api_key_env", okProvider + "api_key_env = \"sk-abc-123\"\n", 4, []string{"must name an environment variable"}},
		{"authorization header", okProvider + "[providers.a.headers]\nAuthorization = \"Bearer x\"\n", 5, []string{"Authorization"}},
		{"undefined default provider", "default_provider = \"b\"\n" + okProvider, 1, []string{`default_provider "b"`}},
		{"bad tools mode", "tools = \"always\"\n", 1, []string{"tools must be one of none, ask, auto"}},
		{"bad max_retries", "max_retries = -1\n", 1, []string{"max_retries"}},
		{"bad temperature", "[defaults]\ntemperature = 3.5\n", 2, []string{"between 0 and 2"}},
		{"provider not a table", "providers.a = 3\n", 1, []string{"c.toml:1:"}},
		{"max_retries over the cap", "max_retries = 101\n", 1, []string{"max_retries must be between 0 and 100"}},
		{"bad top_p", "[defaults]\ntop_p = 1.5\n", 2, []string{"top_p must be between 0 and 1"}},
		{"temperature not a number", "[defaults]\ntemperature = nan\n", 2, []string{"temperature must be between 0 and 2"}},
		{"bad header_timeout", "header_timeout = \"0s\"\n", 1, []string{"header_timeout", "must be positive"}},
		{"invalid UTF-8 in a comment", "theme = \"dark\"\n# caf\xe9 au lait\n", 2, []string{"c.toml:2:", "not valid UTF-8", "0xe9", "column 6"}},
		{"invalid UTF-8 in a key", "th\xffeme = \"dark\"\n", 1, []string{"c.toml:1:", "not valid UTF-8"}},
		{"port out of range", "[providers.a]\ndialect = \"openai\"\nbase_url = \"https://h:99999/v1\"\n", 3, []string{"port 99999"}},
		{"invalid host", "[providers.a]\ndialect = \"openai\"\nbase_url = \"https://h..example/v1\"\n", 3, []string{"not a valid host"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.toml", []byte(tt.data))
			if err == nil {
				t.Fatal("no error")
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			if ce.File != "c.toml" {
				t.Errorf("file = %q", ce.File)
			}
			// Line 0 in the table means "not checked" for errors whose key
			// the locator may place on either definition.
			if tt.line > 0 && ce.Line != tt.line {
				t.Errorf("line = %d, want %d (%v)", ce.Line, tt.line, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "sk-secret") {
				t.Errorf("error echoes a value: %v", err)
			}
		})
	}
}

func TestDefaultPath(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"XDG_CONFIG_HOME": "/x/cfg", "HOME": "/home/u"}, "/x/cfg/parley/config.toml"},
		{map[string]string{"HOME": "/home/u"}, "/home/u/.config/parley/config.toml"},
		{map[string]string{"XDG_CONFIG_HOME": "relative", "HOME": "/home/u"}, "/home/u/.config/parley/config.toml"},
	}
	for _, tt := range tests {
		got, err := DefaultPath(mapEnv(tt.env))
		if err != nil || got != tt.want {
			t.Errorf("DefaultPath(%v) = %q, %v; want %q", tt.env, got, err, tt.want)
		}
	}
}

func TestDataDir(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"XDG_DATA_HOME": "/x/data", "HOME": "/home/u"}, "/x/data/parley"},
		{map[string]string{"HOME": "/home/u"}, "/home/u/.local/share/parley"},
		{map[string]string{"XDG_DATA_HOME": "relative", "HOME": "/home/u"}, "/home/u/.local/share/parley"},
	}
	for _, tt := range tests {
		got, err := DataDir(mapEnv(tt.env))
		if err != nil || got != tt.want {
			t.Errorf("DataDir(%v) = %q, %v; want %q", tt.env, got, err, tt.want)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	env := mapEnv(map[string]string{"XDG_CONFIG_HOME": dir})

	// A missing default file is an empty configuration.
	c, err := Load("", env)
	if err != nil || c.Path != "" || len(c.Providers) != 0 {
		t.Fatalf("missing default: %+v, %v", c, err)
	}

	// The default file is found under XDG_CONFIG_HOME.
	path := filepath.Join(dir, "parley", "config.toml")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(fullConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Load("", env)
	if err != nil || c.Path != path || c.DefaultProvider != "cutad" {
		t.Fatalf("default file: %+v, %v", c, err)
	}

	// An explicit file must exist.
	missing := filepath.Join(dir, "nope.toml")
	_, err = Load(missing, env)
	var ce *Error
	if !errors.As(err, &ce) || ce.File != missing || !strings.Contains(err.Error(), "not found") {
		t.Errorf("explicit missing file: %v", err)
	}

	// An explicit file wins over the default one.
	other := filepath.Join(dir, "other.toml")
	if err := os.WriteFile(other, []byte("theme = \"light\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Load(other, env)
	if err != nil || c.Theme != "light" || c.Path != other {
		t.Errorf("explicit file: %+v, %v", c, err)
	}

	// A bad explicit file names itself and the line.
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("theme = \"light\"\nnope\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(bad, env)
	if err == nil || !strings.HasPrefix(err.Error(), bad+":2:") {
		t.Errorf("bad file error = %v", err)
	}
}

func TestInsecureURLWarning(t *testing.T) {
	tests := []struct {
		url  string
		warn bool
	}{
		{"https://api.example.com/v1", false},
		{"http://127.0.0.1:8080/v1", false},
		{"http://127.5.5.5/v1", false},
		{"http://[::1]:9000/v1", false},
		{"http://localhost:11434/v1", false},
		{"http://api.example.com/v1", true},
		{"http://10.0.0.5/v1", true},
		{"http://localhost.evil.com/v1", true},
	}
	for _, tt := range tests {
		got := InsecureURLWarning(tt.url)
		if (got != "") != tt.warn {
			t.Errorf("InsecureURLWarning(%q) = %q, want warning %v", tt.url, got, tt.warn)
		}
	}
}

func TestCheckBaseURL(t *testing.T) {
	for _, ok := range []string{"https://h/v1", "http://127.0.0.1:1/v1", "https://h:8443/api/v1beta"} {
		if err := CheckBaseURL(ok); err != nil {
			t.Errorf("CheckBaseURL(%q) = %v", ok, err)
		}
	}
	for _, ok := range []string{"https://[::1]:8080/v1", "http://my_host.internal:65535/v1", "https://café.example/v1", "https://h.example./v1"} {
		if err := CheckBaseURL(ok); err != nil {
			t.Errorf("CheckBaseURL(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "h/v1", "ftp://h", "https://", "https://h/v1?x=1", "https://k@h/v1", "://",
		"https://h:99999/v1", "https://h:0/v1", "http://127.0.0.1:65536/v1", "https://:8080/v1",
		"https://h..x/v1", "https://-h/v1", "https://h$x/v1", "https://" + strings.Repeat("a", 64) + ".example/v1"} {
		if err := CheckBaseURL(bad); err == nil {
			t.Errorf("CheckBaseURL(%q) accepted", bad)
		}
	}
}

func mapEnv(m map[string]string) Getenv {
	return func(k string) string { return m[k] }
}

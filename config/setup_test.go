package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-chat/parley/provider"
)

// TestSetupRendersAFileThatLoads: what config init writes parses back
// into the profile it was given, is the default provider, resolves, and
// explains itself in comments.
func TestSetupRendersAFileThatLoads(t *testing.T) {
	for _, s := range []Setup{
		{Name: "cutad", Dialect: provider.DialectOpenAI, BaseURL: "https://mimo.lokerin.net/v1", APIKeyEnv: "CUTAD_API_KEY", DefaultModel: "cutad-agent"},
		{Name: "cuadra", Dialect: provider.DialectCuadra, BaseURL: "https://api.cuadra.ai/v1", APIKeyCmd: `printf '%s' "cuadra\api" # 'quoted'`},
		{Name: "gem_2", Dialect: provider.DialectGemini, BaseURL: "http://127.0.0.1:8080/v1beta", APIKeyEnv: "GEMINI_API_KEY", DefaultModel: `models/"odd" \ name ✓`},
	} {
		t.Run(s.Name, func(t *testing.T) {
			data, err := s.Render()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "config.toml")
			if err := WriteFile(path, data, false); err != nil {
				t.Fatal(err)
			}
			c, err := Load(path, func(string) string { return "" })
			if err != nil {
				t.Fatalf("the rendered file does not load: %v\n%s", err, data)
			}
			if c.DefaultProvider != s.Name || len(c.Providers) != 1 {
				t.Errorf("default_provider %q, %d profiles", c.DefaultProvider, len(c.Providers))
			}
			got, want := *c.Providers[s.Name], s.Profile()
			got.Headers = nil
			if got.Name != want.Name || got.Dialect != want.Dialect || got.BaseURL != want.BaseURL ||
				got.APIKeyEnv != want.APIKeyEnv || got.APIKeyCmd != want.APIKeyCmd || got.DefaultModel != want.DefaultModel ||
				len(got.Models) != 0 || got.UIStream {
				t.Errorf("profile read back = %+v, want %+v", got, want)
			}
			r, err := Resolve(c, &Flags{}, nil)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if r.Name != s.Name || r.Model != s.DefaultModel || r.Theme != DefaultTheme || r.MaxRetries != DefaultMaxRetries {
				t.Errorf("resolved %+v", r)
			}
			text := string(data)
			for _, w := range []string{
				"# API keys are never stored here",
				"# the profile used when no --provider is given",
				"# openai, cuadra, gemini",
				"# theme = \"auto\"",
				"# [defaults]",
				"# models = [",
			} {
				if !strings.Contains(text, w) {
					t.Errorf("the file lacks %q:\n%s", w, text)
				}
			}
			if strings.Contains(text, "api_key =") {
				t.Errorf("the file has an api_key entry:\n%s", text)
			}
			if (s.APIKeyEnv != "") != strings.Contains(text, "# the variable that holds the key") {
				t.Errorf("key source comment missing:\n%s", text)
			}
		})
	}
}

// TestSetupCheck: every answer is validated before a file is written,
// and the key fields' values never appear in a message (they may be a
// key pasted in the wrong place).
func TestSetupCheck(t *testing.T) {
	good := Setup{Name: "gw", Dialect: provider.DialectOpenAI, BaseURL: "https://gw.example/v1", APIKeyEnv: "GW_KEY"}
	const pasted = "sk-proj-Abc123def456ghi789"
	tests := []struct {
		name   string
		change func(*Setup)
		want   string
	}{
		{"no name", func(s *Setup) { s.Name = "" }, "needs a name"},
		{"name with a dot", func(s *Setup) { s.Name = "my.gw" }, "only letters, digits"},
		{"unknown dialect", func(s *Setup) { s.Dialect = "klingon" }, "unknown dialect"},
		{"bad URL", func(s *Setup) { s.BaseURL = "ftp://gw.example" }, "https://"},
		{"URL with credentials", func(s *Setup) { s.BaseURL = "https://u:" + pasted + "@gw.example/v1" }, "credentials"},
		{"no key source", func(s *Setup) { s.APIKeyEnv = "" }, "where the API key comes from"},
		{"both key sources", func(s *Setup) { s.APIKeyCmd = "printf x" }, "not both"},
		{"key pasted as the variable", func(s *Setup) { s.APIKeyEnv = pasted }, "never the key"},
		{"lower-case variable", func(s *Setup) { s.APIKeyEnv = "abcDEF123456" }, "never the key"},
		{"variable starting with a digit", func(s *Setup) { s.APIKeyEnv = "1KEY" }, "never the key"},
		{"key pasted as the command", func(s *Setup) { s.APIKeyEnv, s.APIKeyCmd = "", pasted }, "not a program on PATH"},
		{"command over two lines", func(s *Setup) { s.APIKeyEnv, s.APIKeyCmd = "", "pass show a\nrm -rf x" }, "one line"},
		{"model with a newline", func(s *Setup) { s.DefaultModel = "a\nb" }, "control characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := good
			tt.change(&s)
			err := s.Check()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Check = %v, want an error containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), pasted) || strings.Contains(err.Error(), "abcDEF123456") {
				t.Errorf("the message repeats a key field's value: %v", err)
			}
			if _, rerr := s.Render(); rerr == nil {
				t.Errorf("Render accepted what Check refuses")
			}
		})
	}
	if err := good.Check(); err != nil {
		t.Errorf("good setup: %v", err)
	}
	for _, cmd := range []string{"printf 'k'", "/usr/bin/pass show x", "$HOME/bin/key", "~/bin/key", "OP_ACCOUNT=x op read op://a/b"} {
		if err := CheckKeyCmd(cmd); err != nil {
			t.Errorf("CheckKeyCmd(%q) = %v", cmd, err)
		}
	}
}

func TestWriteFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "parley")
	path := filepath.Join(dir, "config.toml")
	if err := WriteFile(path, []byte("first\n"), false); err != nil {
		t.Fatal(err)
	}
	mode := func(p string) os.FileMode {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return st.Mode().Perm()
	}
	if m := mode(path); m != 0o600 {
		t.Errorf("file mode %o, want 600", m)
	}
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if m := mode(d); m != 0o700 {
			t.Errorf("directory %s mode %o, want 700", d, m)
		}
	}

	// An existing file is refused without replace, and left as it was.
	err := WriteFile(path, []byte("second\n"), false)
	if !errors.Is(err, ErrExists) {
		t.Fatalf("overwrite without replace: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "first\n" {
		t.Errorf("file changed to %q", b)
	}

	// With replace it is replaced, still 0600, and no temporary file stays.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("second\n"), true); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "second\n" {
		t.Errorf("replaced file = %q", b)
	}
	if m := mode(path); m != 0o600 {
		t.Errorf("replaced file mode %o, want 600", m)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory holds %d entries, want 1", len(entries))
	}

	// A symbolic link (a dotfiles checkout) is followed, not replaced.
	target := filepath.Join(t.TempDir(), "dotfiles.toml")
	if err := os.WriteFile(target, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "config.toml")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(link, []byte("new\n"), false); !errors.Is(err, ErrExists) {
		t.Errorf("symlink without replace: %v", err)
	}
	if err := WriteFile(link, []byte("new\n"), true); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v %v", st, err)
	}
	if b, _ := os.ReadFile(target); string(b) != "new\n" {
		t.Errorf("link target = %q", b)
	}
}

func TestSuggestProfileName(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.cuadra.ai/v1":                         "cuadra",
		"https://mimo.lokerin.net/v1":                      "lokerin",
		"https://openrouter.ai/api/v1":                     "openrouter",
		"https://generativelanguage.googleapis.com/v1beta": "googleapis",
		"http://127.0.0.1:8080/v1":                         "local",
		"http://localhost:11434/v1":                        "local",
		"http://[::1]:9/v1":                                "local",
		"https://8.8.8.8/v1":                               "gateway",
		"not a url":                                        "gateway",
	} {
		if got := SuggestProfileName(in); got != want {
			t.Errorf("SuggestProfileName(%q) = %q, want %q", in, got, want)
		}
		if err := CheckProfileName(SuggestProfileName(in)); err != nil {
			t.Errorf("suggestion for %q is not a valid name: %v", in, err)
		}
	}
}

func TestResolveWarnsAboutUIStreamOutsideCuadra(t *testing.T) {
	c := mustParse(t, `
[providers.gw]
dialect = "openai"
base_url = "https://gw.example/v1"
ui_stream = true
[providers.cu]
dialect = "cuadra"
base_url = "https://cu.example/v1"
ui_stream = true
`)
	on := true
	for _, tt := range []struct {
		name  string
		flags Flags
		want  string
	}{
		{"file, openai", Flags{Provider: "gw"}, `ui_stream (provider "gw") applies only to the cuadra dialect; gw speaks openai, so it is ignored`},
		{"flag, gemini", Flags{BaseURL: ptrTo("https://g.example/v1beta"), Dialect: ptrTo("gemini"), UIStream: &on}, "--ui-stream applies only to the cuadra dialect; g.example speaks gemini"},
		{"file, cuadra", Flags{Provider: "cu"}, ""},
		{"flag, cuadra", Flags{Provider: "cu", UIStream: &on}, ""},
	} {
		r, err := Resolve(c, &tt.flags, nil)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		switch {
		case tt.want == "" && (len(r.Warnings) != 0 || !r.UIStream):
			t.Errorf("%s: warnings %q, UIStream %v", tt.name, r.Warnings, r.UIStream)
		case tt.want != "" && (len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], tt.want) || r.UIStream):
			t.Errorf("%s: warnings %q, want one containing %q; UIStream %v", tt.name, r.Warnings, tt.want, r.UIStream)
		}
	}
}

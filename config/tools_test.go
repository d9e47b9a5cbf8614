package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/provider"
)

const toolsFile = `# tools for the tests
tools_mode = "auto"
allow = ["get_time", "fs.*"]   # keep this comment
max_tool_rounds = 4

[[tools]]
name = "get_time"
description = "Current time in a zone"
command = ["sh", "-c", "echo RESULT"]
timeout = "5s"
[tools.parameters]
type = "object"
required = ["zone"]
[tools.parameters.properties.zone]
type = "string"

[[tools]]
name = "ask_me"
kind = "manual"
parameters = '{"type":"object","properties":{"q":{"type":"string"}}}'

[[mcp]]
name = "fs"
command = ["mcp-fs", "/tmp"]
env = ["FS_TOKEN"]

[[mcp]]
name = "web"
url = "https://mcp.example.com/mcp"
headers = { Authorization = "Bearer ${WEB_TOKEN}" }
`

func TestParseTools(t *testing.T) {
	c, err := Parse("config.toml", []byte(toolsFile))
	if err != nil {
		t.Fatal(err)
	}
	if c.Tools != provider.ToolsAuto || !slices.Equal(c.AllowList(), []string{"get_time", "fs.*"}) || c.MaxRounds() != 4 {
		t.Fatalf("mode %q allow %v rounds %d", c.Tools, c.AllowList(), c.MaxRounds())
	}
	if len(c.ToolDefs) != 2 {
		t.Fatalf("tools %+v", c.ToolDefs)
	}
	gt := c.ToolDefs[0]
	if gt.Kind != ToolKindCommand || gt.Timeout.Duration != 5*time.Second || gt.MaxOutput != DefaultToolOutput ||
		string(gt.Parameters) != `{"properties":{"zone":{"type":"string"}},"required":["zone"],"type":"object"}` {
		t.Fatalf("get_time %+v (%s)", gt, gt.Parameters)
	}
	if am := c.ToolDefs[1]; am.Kind != ToolKindManual || am.Timeout.Duration != DefaultToolTimeout ||
		string(am.Parameters) != `{"properties":{"q":{"type":"string"}},"type":"object"}` {
		t.Fatalf("ask_me %+v (%s)", am, am.Parameters)
	}
	if len(c.MCP) != 2 || c.MCP[0].Name != "fs" || c.MCP[1].Headers["Authorization"] != "Bearer ${WEB_TOKEN}" {
		t.Fatalf("mcp %+v", c.MCP)
	}
	// The old spelling of the mode still works.
	c, err = Parse("config.toml", []byte(`tools = "none"`))
	if err != nil || c.Tools != provider.ToolsNone || len(c.ToolDefs) != 0 {
		t.Fatalf("tools = \"none\": %+v, %v", c, err)
	}
	// With no tool keys, nothing changes.
	c, err = Parse("config.toml", []byte(`theme = "dark"`))
	if err != nil || c.Tools != "" || c.MaxRounds() != DefaultMaxToolRounds {
		t.Fatalf("empty: %+v, %v", c, err)
	}
}

func TestToolErrorsNameTheLine(t *testing.T) {
	for _, tc := range []struct{ name, file, want string }{
		{"mode twice", "tools = \"ask\"\ntools_mode = \"auto\"\n", `config.toml:2: the tools mode is set twice`},
		{"bad mode", "tools_mode = \"often\"\n", `config.toml:1: tools_mode must be one of none, ask, auto`},
		{"no name", "[[tools]]\ncommand = [\"x\"]\n", `config.toml:1: a [[tools]] entry needs a name`},
		{"dotted name", "[[tools]]\nname = \"a.b\"\ncommand = [\"x\"]\n", `config.toml:2: tool name "a.b" must be`},
		{"twice", "[[tools]]\nname = \"a\"\ncommand = [\"x\"]\n[[tools]]\nname = \"a\"\ncommand = [\"y\"]\n", `config.toml:5: tool "a" is declared twice`},
		{"no command", "[[tools]]\nname = \"a\"\n", `config.toml:1: tool "a": command is required`},
		{"manual with command", "[[tools]]\nname = \"a\"\nkind = \"manual\"\ncommand = [\"x\"]\n", `config.toml:4: tool "a": a manual tool has no command`},
		{"bad kind", "[[tools]]\nname = \"a\"\nkind = \"script\"\n", `config.toml:3: tool "a": kind must be`},
		{"unknown key", "[[tools]]\nname = \"a\"\ncommand = [\"x\"]\ncomand = [\"y\"]\n", `config.toml:4: unknown key "tools.comand"`},
		{"array schema", "[[tools]]\nname = \"a\"\ncommand = [\"x\"]\n[tools.parameters]\ntype = \"array\"\n", `tool "a": parameters must describe an object`},
		{"big output", "[[tools]]\nname = \"a\"\ncommand = [\"x\"]\nmax_output = 99999999\n", `config.toml:4: tool "a": max_output must be between`},
		{"env value", "[[tools]]\nname = \"a\"\ncommand = [\"x\"]\nenv = [\"A=b\"]\n", `config.toml:4: tool "a": env must list variable names`},
		{"mcp both", "[[mcp]]\nname = \"m\"\ncommand = [\"x\"]\nurl = \"https://h/mcp\"\n", `config.toml:4: MCP server "m": give either command`},
		{"mcp neither", "[[mcp]]\nname = \"m\"\n", `config.toml:2: MCP server "m" needs a command`},
		{"mcp literal auth", "[[mcp]]\nname = \"m\"\nurl = \"https://h/mcp\"\nheaders = { Authorization = \"Bearer abc\" }\n", `config.toml:4: MCP server "m": the Authorization header must take its secret from the environment`},
		{"mcp ftp", "[[mcp]]\nname = \"m\"\nurl = \"ftp://h/mcp\"\n", `config.toml:3: MCP server "m": url "ftp://h/mcp" must be`},
		{"allow pattern", "allow = [\"fs.[\"]\n", `config.toml:1: allow: "fs.[" is not a valid pattern`},
		{"rounds", "max_tool_rounds = 1000\n", `config.toml:1: max_tool_rounds must be between 1 and 100`},
		{"tools list of strings", "tools = [\"a\"]\n", `config.toml:1: tools must be the tools mode`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("config.toml", []byte(tc.file))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// writeConfig writes a config file in a fresh directory and loads it.
func writeConfig(t *testing.T, text string) *Config {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(p, []byte(text), 0o640); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSaveAllowEditsTheFileKeepingComments(t *testing.T) {
	c := writeConfig(t, toolsFile)
	saved, err := SaveAllow(c, "ask_me")
	if err != nil || !saved.InConfig || saved.Path != c.Path {
		t.Fatalf("saved %+v, %v", saved, err)
	}
	want := strings.Replace(toolsFile, `allow = ["get_time", "fs.*"]   # keep this comment`, `allow = ["get_time", "fs.*", "ask_me"] # keep this comment`, 1)
	if got := read(t, c.Path); got != want {
		t.Fatalf("file after saving:\n%s", got)
	}
	if st, _ := os.Stat(c.Path); st.Mode().Perm() != 0o640 {
		t.Fatalf("permissions %v", st.Mode().Perm())
	}
	again, err := Load(c.Path, func(string) string { return "" })
	if err != nil || !slices.Equal(again.AllowList(), []string{"get_time", "fs.*", "ask_me"}) {
		t.Fatalf("reloaded allow %v, %v", again.AllowList(), err)
	}
}

func TestSaveAllowAddsTheKeyAboveTheFirstTable(t *testing.T) {
	text := "theme = \"dark\"\n\n# The gateway.\n[providers.gw]\ndialect = \"openai\"\nbase_url = \"https://gw.example.com/v1\"\n"
	c := writeConfig(t, text)
	if _, err := SaveAllow(c, "get_time"); err != nil {
		t.Fatal(err)
	}
	got := read(t, c.Path)
	if !strings.HasPrefix(got, "theme = \"dark\"\n\nallow = [\"get_time\"]") || !strings.Contains(got, "\n\n# The gateway.\n[providers.gw]\n") {
		t.Fatalf("file after saving:\n%s", got)
	}
	again, err := Load(c.Path, func(string) string { return "" })
	if err != nil || !slices.Equal(again.AllowList(), []string{"get_time"}) || again.Providers["gw"] == nil {
		t.Fatalf("reloaded %+v, %v", again, err)
	}
}

func TestSaveAllowFallsBackToAllowFile(t *testing.T) {
	text := "allow = [\n  \"get_time\",\n]\n"
	c := writeConfig(t, text)
	saved, err := SaveAllow(c, "fs.read")
	if err != nil || saved.InConfig || filepath.Base(saved.Path) != AllowFileName || !strings.Contains(saved.Why, "one line") {
		t.Fatalf("saved %+v, %v", saved, err)
	}
	if got := read(t, c.Path); got != text {
		t.Fatalf("the config file changed:\n%s", got)
	}
	if _, err := SaveAllow(c, "other"); err != nil {
		t.Fatal(err)
	}
	again, err := Load(c.Path, func(string) string { return "" })
	if err != nil || !slices.Equal(again.AllowList(), []string{"get_time", "fs.read", "other"}) {
		t.Fatalf("reloaded allow %v, %v", again.AllowList(), err)
	}
	if st, _ := os.Stat(saved.Path); st.Mode().Perm() != 0o600 {
		t.Fatalf("allow.toml permissions %v", st.Mode().Perm())
	}
	// allow.toml holds only the allow list.
	if err := os.WriteFile(saved.Path, []byte("allow = []\ntheme = \"x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(c.Path, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), `allow.toml:2: unknown key "theme"`) {
		t.Fatalf("a bad allow.toml: %v", err)
	}
}

func TestSaveAllowWithoutConfigFile(t *testing.T) {
	dir := t.TempDir()
	getenv := func(k string) string {
		if k == "XDG_CONFIG_HOME" {
			return dir
		}
		return ""
	}
	c, err := Load("", getenv)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := SaveAllow(c, "get_weather")
	if err != nil || saved.InConfig || saved.Path != filepath.Join(dir, "parley", AllowFileName) {
		t.Fatalf("saved %+v, %v", saved, err)
	}
	again, err := Load("", getenv)
	if err != nil || !slices.Equal(again.AllowList(), []string{"get_weather"}) {
		t.Fatalf("reloaded %v, %v", again.AllowList(), err)
	}
	if _, err := os.Stat(filepath.Join(dir, "parley", "config.toml")); !os.IsNotExist(err) {
		t.Fatalf("a config file was created: %v", err)
	}
}

func TestSaveAllowThroughSymlink(t *testing.T) {
	c := writeConfig(t, "allow = []\n")
	link := filepath.Join(t.TempDir(), "config.toml")
	if err := os.Symlink(c.Path, link); err != nil {
		t.Skip("no symlinks here:", err)
	}
	lc, err := Load(link, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SaveAllow(lc, "x"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v", err)
	}
	if got := read(t, c.Path); got != "allow = [\"x\"]\n" {
		t.Fatalf("target after saving: %q", got)
	}
}

func TestEditAllowRefusesWhatItCannotFollow(t *testing.T) {
	for _, text := range []string{
		"system = \"\"\"\nmulti\n\"\"\"\n",
		"allow = [\"a\", # comment\n\"b\"]\n",
		"allow = \"a\"\n",
		"allow = [\"a\"] trailing\n",
	} {
		if _, ok := editAllow([]byte(text), []string{"x"}); ok {
			t.Errorf("editAllow accepted %q", text)
		}
	}
	out, ok := editAllow([]byte("allow = [\"fs.[ab]*\"] # [x]\n"), []string{"fs.[ab]*", "y"})
	if !ok || string(out) != "allow = [\"fs.[ab]*\", \"y\"] # [x]\n" {
		t.Errorf("brackets inside strings: %q %v", out, ok)
	}
}

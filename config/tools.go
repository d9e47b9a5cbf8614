package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"golang.org/x/net/http/httpguts"

	"github.com/parley-chat/parley/provider"
)

// Tool defaults and limits.
const (
	// DefaultToolTimeout bounds one run of a command tool, or one call of
	// an MCP server's tool.
	DefaultToolTimeout = 30 * time.Second
	// DefaultToolOutput is the most output of a command tool sent back to
	// the model; more is cut, and the cut marked.
	DefaultToolOutput = 64 << 10
	// MaxToolOutput is the largest max_output a tool may ask for.
	MaxToolOutput = 16 << 20
	// DefaultMaxToolRounds is how many times in a row the model may answer
	// in tool calls before the loop stops.
	DefaultMaxToolRounds = 10
	// MaxToolRoundsLimit is the largest max_tool_rounds allowed.
	MaxToolRoundsLimit = 100
	// AllowFileName is the file beside the configuration file that holds
	// "always allowed" tools when the configuration file itself cannot be
	// edited safely.
	AllowFileName = "allow.toml"
)

// The kinds of tool a [[tools]] entry declares.
const (
	ToolKindCommand = "command" // a program run with the arguments on stdin
	ToolKindManual  = "manual"  // the user types the result
)

// ToolSettings are the configuration's tool keys: the tools mode, the
// [[tools]] declarations, the [[mcp]] servers and the allow list. They
// are embedded in Config.
type ToolSettings struct {
	// RawTools is the file's "tools" key before it is told apart: a
	// string is the tools mode (tools = "ask"), an array of tables the
	// [[tools]] declarations. Parse sorts it into Config.Tools and
	// ToolDefs; read those.
	RawTools toml.Primitive `toml:"tools"`
	// ToolsMode is the tools mode for a file that declares [[tools]] (and
	// so cannot also say tools = "ask").
	ToolsMode provider.ToolsMode `toml:"tools_mode"`
	// Allow lists the tools that run without asking: names or patterns
	// such as "fs.*" (path.Match syntax), from the file's allow key.
	Allow []string `toml:"allow"`
	// MCP are the MCP servers whose tools are offered.
	MCP []MCPServer `toml:"mcp"`
	// MaxToolRounds bounds consecutive tool-call answers; 0 = unset.
	MaxToolRounds int `toml:"max_tool_rounds"`

	// ToolDefs are the [[tools]] declarations, validated.
	ToolDefs []ToolDef `toml:"-"`
	// AllowFile lists the tools always allowed in allow.toml beside the
	// configuration file, when it exists.
	AllowFile []string `toml:"-"`
}

// ToolDef is one [[tools]] entry.
type ToolDef struct {
	Name        string `toml:"name"`
	Description string `toml:"description"`
	// Kind is ToolKindCommand (the default) or ToolKindManual.
	Kind string `toml:"kind"`
	// Command is the argv of a command tool, run directly (no shell).
	Command []string `toml:"command"`
	// Timeout bounds one run; 0 means DefaultToolTimeout.
	Timeout Duration `toml:"timeout"`
	// MaxOutput is the most bytes of output kept; 0 means
	// DefaultToolOutput.
	MaxOutput int `toml:"max_output"`
	// Env names environment variables the command may see although
	// their names look like secrets.
	Env []string `toml:"env"`
	// RawParameters is the parameters key as the file wrote it: a table,
	// or a string holding JSON. Read Parameters.
	RawParameters RawValue `toml:"parameters"`
	// Parameters is the tool's JSON schema; nil when it declares none.
	Parameters json.RawMessage `toml:"-"`
}

// MCPServer is one [[mcp]] entry: a server started as a command (stdio)
// or reached at a URL (streamable HTTP).
type MCPServer struct {
	Name    string   `toml:"name"`
	Command []string `toml:"command"`
	URL     string   `toml:"url"`
	// Headers are sent on every HTTP request; a value may name
	// environment variables as ${NAME}, which is how credentials get in
	// (an Authorization header must use one).
	Headers map[string]string `toml:"headers"`
	// Env names environment variables a command server may see although
	// their names look like secrets.
	Env []string `toml:"env"`
	// Timeout bounds one tool call; 0 means DefaultToolTimeout.
	Timeout Duration `toml:"timeout"`
}

var (
	toolNameRE   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	serverNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)
	allowRE      = regexp.MustCompile(`^[A-Za-z0-9_.*?\[\]-]{1,130}$`)
	envRefRE     = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
)

// decodeTools sorts the "tools" key into the mode or the declarations and
// validates every tool key. It runs before unknown keys are checked, so
// that a misspelt key inside [[tools]] is reported like any other.
func (c *Config) decodeTools(md *toml.MetaData, data []byte) error {
	fail := func(key toml.Key, format string, args ...any) error {
		return &Error{File: c.Path, Line: locateKey(data, key), Msg: fmt.Sprintf(format, args...)}
	}
	if md.IsDefined("tools") {
		var mode string
		if err := md.PrimitiveDecode(c.RawTools, &mode); err == nil {
			c.Tools = provider.ToolsMode(mode)
		} else if err := md.PrimitiveDecode(c.RawTools, &c.ToolDefs); err != nil {
			return fail(toml.Key{"tools"}, `tools must be the tools mode (tools = "ask") or [[tools]] tables: %v`, err)
		}
	}
	if c.ToolsMode != "" {
		if c.Tools != "" {
			return fail(toml.Key{"tools_mode"}, "the tools mode is set twice: keep tools_mode and remove tools = %q", c.Tools)
		}
		c.Tools = c.ToolsMode
		if err := checkToolsMode(string(c.ToolsMode)); err != nil {
			return fail(toml.Key{"tools_mode"}, "tools_mode %v", err)
		}
	}
	if c.MaxToolRounds < 0 || c.MaxToolRounds > MaxToolRoundsLimit {
		return fail(toml.Key{"max_tool_rounds"}, "max_tool_rounds must be between 1 and %d, not %d", MaxToolRoundsLimit, c.MaxToolRounds)
	}
	for _, a := range c.Allow {
		if err := CheckAllowPattern(a); err != nil {
			return fail(toml.Key{"allow"}, "allow: %v", err)
		}
	}
	names := map[string]bool{}
	for i := range c.ToolDefs {
		d := &c.ToolDefs[i]
		key := func(k string) toml.Key { return toml.Key{"tools", k} }
		if err := d.check(names); err != nil {
			k := toml.Key{"tools"}
			var fe fieldError
			if errors.As(err, &fe) {
				k = key(fe.field)
			}
			return &Error{File: c.Path, Line: toolLine(data, "tools", i, k), Msg: err.Error()}
		}
	}
	servers := map[string]bool{}
	for i := range c.MCP {
		s := &c.MCP[i]
		if err := s.check(servers); err != nil {
			k := toml.Key{"mcp"}
			var fe fieldError
			if errors.As(err, &fe) {
				k = toml.Key{"mcp", fe.field}
			}
			return &Error{File: c.Path, Line: toolLine(data, "mcp", i, k), Msg: err.Error()}
		}
	}
	return nil
}

// fieldError is a problem with one key of a [[tools]] or [[mcp]] entry.
type fieldError struct {
	field string
	msg   string
}

func (e fieldError) Error() string { return e.msg }

func fieldErrorf(field, format string, args ...any) error {
	return fieldError{field: field, msg: fmt.Sprintf(format, args...)}
}

// check validates one [[tools]] entry and fills in its defaults.
func (d *ToolDef) check(seen map[string]bool) error {
	if err := checkName(d.Name, "a [[tools]] entry", "tool", toolNameRE, 64, seen); err != nil {
		return err
	}
	if d.Kind == "" {
		d.Kind = ToolKindCommand
	}
	switch d.Kind {
	case ToolKindCommand:
		if len(d.Command) == 0 || d.Command[0] == "" {
			return fieldErrorf("command", `tool %q: command is required (an argv list such as ["date", "-u"], run without a shell)`, d.Name)
		}
	case ToolKindManual:
		if len(d.Command) > 0 {
			return fieldErrorf("command", "tool %q: a manual tool has no command (you type its result)", d.Name)
		}
	default:
		return fieldErrorf("kind", "tool %q: kind must be %q or %q, not %q", d.Name, ToolKindCommand, ToolKindManual, d.Kind)
	}
	if d.Timeout.Duration == 0 {
		d.Timeout.Duration = DefaultToolTimeout
	}
	if d.MaxOutput == 0 {
		d.MaxOutput = DefaultToolOutput
	}
	if d.MaxOutput < 1 || d.MaxOutput > MaxToolOutput {
		return fieldErrorf("max_output", "tool %q: max_output must be between 1 and %d bytes, not %d", d.Name, MaxToolOutput, d.MaxOutput)
	}
	for _, e := range d.Env {
		if !validEnvName(e) {
			return fieldErrorf("env", "tool %q: env must list variable names, not %q", d.Name, e)
		}
	}
	params, err := schemaJSON(d.RawParameters.Value)
	if err != nil {
		return fieldErrorf("parameters", "tool %q: parameters %v", d.Name, err)
	}
	d.Parameters = params
	return nil
}

// checkName checks the name of an entry: present, well formed (re, at
// most n characters) and not seen before.
func checkName(name, entry, what string, re *regexp.Regexp, n int, seen map[string]bool) error {
	switch {
	case name == "":
		return fieldErrorf("name", "%s needs a name", entry)
	case !re.MatchString(name):
		return fieldErrorf("name", "%s name %q must be 1 to %d letters, digits, _ or - (what gateways accept)", what, name, n)
	case seen[name]:
		return fieldErrorf("name", "%s %q is declared twice", what, name)
	}
	seen[name] = true
	return nil
}

// schemaJSON turns the parameters key into a JSON schema: a table is
// encoded as it stands, a string must hold a JSON object. Either way the
// schema must describe an object, as gateways require.
func schemaJSON(raw any) (json.RawMessage, error) {
	if raw == nil {
		return nil, nil
	}
	var obj map[string]any
	switch v := raw.(type) {
	case map[string]any:
		obj = v
	case string:
		if err := json.Unmarshal([]byte(v), &obj); err != nil {
			return nil, fmt.Errorf("must be a table or a string holding a JSON object: %v", err)
		}
	default:
		return nil, fmt.Errorf("must be a table (a JSON schema such as [tools.parameters] type = \"object\"), not %T", raw)
	}
	if t, ok := obj["type"]; ok && t != "object" {
		return nil, fmt.Errorf(`must describe an object (type = "object"), not type = %v`, t)
	}
	if _, ok := obj["type"]; !ok {
		obj["type"] = "object"
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// RawValue keeps a TOML value as the decoder read it (tables as
// map[string]any), counting every key inside as known.
type RawValue struct{ Value any }

// UnmarshalTOML keeps v.
func (r *RawValue) UnmarshalTOML(v any) error {
	r.Value = v
	return nil
}

// check validates one [[mcp]] entry and fills in its defaults.
func (s *MCPServer) check(seen map[string]bool) error {
	if err := checkName(s.Name, "an [[mcp]] entry", "MCP server", serverNameRE, 32, seen); err != nil {
		return err
	}
	switch {
	case len(s.Command) > 0 && s.URL != "":
		return fieldErrorf("url", "MCP server %q: give either command (stdio) or url (streamable HTTP), not both", s.Name)
	case len(s.Command) == 0 && s.URL == "":
		return fieldErrorf("name", "MCP server %q needs a command (stdio) or a url (streamable HTTP)", s.Name)
	case len(s.Command) > 0 && s.Command[0] == "":
		return fieldErrorf("command", "MCP server %q: the command's first word is empty", s.Name)
	}
	if s.URL != "" {
		u, err := url.Parse(s.URL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			return fieldErrorf("url", "MCP server %q: url %q must be an http:// or https:// URL", s.Name, s.URL)
		case u.User != nil:
			return fieldErrorf("url", "MCP server %q: url must not contain credentials; use a header with ${VARIABLE}", s.Name)
		}
	}
	if len(s.Headers) > 0 && s.URL == "" {
		return fieldErrorf("headers", "MCP server %q: headers apply to url servers only", s.Name)
	}
	for h, v := range s.Headers {
		switch {
		case !httpguts.ValidHeaderFieldName(h):
			return fieldErrorf("headers", "MCP server %q: invalid header name %q", s.Name, h)
		case !httpguts.ValidHeaderFieldValue(v):
			return fieldErrorf("headers", "MCP server %q: header %s has a value with control characters", s.Name, h)
		case strings.EqualFold(h, "Authorization") && !envRefRE.MatchString(v):
			return fieldErrorf("headers", "MCP server %q: the Authorization header must take its secret from the environment, as in \"Bearer ${MY_TOKEN}\"; do not put secrets in the config file", s.Name)
		}
	}
	for _, e := range s.Env {
		if !validEnvName(e) {
			return fieldErrorf("env", "MCP server %q: env must list variable names, not %q", s.Name, e)
		}
	}
	if s.Timeout.Duration == 0 {
		s.Timeout.Duration = DefaultToolTimeout
	}
	return nil
}

// CheckAllowPattern reports whether p is a usable allow-list entry: a
// tool name or a path.Match pattern over names ("fs.*").
func CheckAllowPattern(p string) error {
	if !allowRE.MatchString(p) {
		return fmt.Errorf("%q is not a tool name or pattern (letters, digits, _ - . and the wildcards * ? [ ])", p)
	}
	if _, err := path.Match(p, ""); err != nil {
		return fmt.Errorf("%q is not a valid pattern: %v", p, err)
	}
	return nil
}

// toolLine finds the line of key in the n-th [[table]] entry of the file,
// or the entry's header, or 0.
func toolLine(data []byte, table string, n int, key toml.Key) int {
	seen := -1
	header := 0
	for i, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimSpace(raw)
		if strings.HasPrefix(line, "[[") {
			name := strings.TrimSpace(strings.TrimPrefix(strings.SplitN(line, "]]", 2)[0], "[["))
			if name == table {
				seen++
				if seen == n {
					header = i + 1
				} else if seen > n {
					break
				}
			} else if seen == n {
				break
			}
			continue
		}
		if seen != n || header == 0 || len(key) < 2 {
			continue
		}
		if eq := strings.Index(line, "="); eq > 0 && strings.TrimSpace(line[:eq]) == key[1] {
			return i + 1
		}
		if strings.HasPrefix(line, "[") && strings.Contains(line, table+"."+key[1]) {
			return i + 1
		}
	}
	return header
}

// AllowList is every tool always allowed: the file's allow key and the
// entries of allow.toml beside it.
func (c *Config) AllowList() []string {
	out := slices.Clone(c.Allow)
	for _, a := range c.AllowFile {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// MaxRounds is max_tool_rounds, or DefaultMaxToolRounds when unset.
func (c *Config) MaxRounds() int {
	if c.MaxToolRounds > 0 {
		return c.MaxToolRounds
	}
	return DefaultMaxToolRounds
}

// allowPath is where allow.toml is for this configuration: beside the
// file that was (or would have been) read.
func (c *Config) allowPath() string {
	p := c.Path
	if p == "" {
		p = c.lookedAt
	}
	if p == "" {
		return ""
	}
	return filepath.Join(filepath.Dir(p), AllowFileName)
}

// loadAllowFile reads allow.toml beside the configuration file, when it
// exists, into AllowFile.
func (c *Config) loadAllowFile() error {
	p := c.allowPath()
	if p == "" {
		return nil
	}
	list, err := readAllowFile(p)
	if err != nil {
		return err
	}
	c.AllowFile = list
	return nil
}

// readAllowFile reads an allow.toml: only an allow list. A missing file
// is an empty list.
func readAllowFile(p string) ([]string, error) {
	data, err := readBounded(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &Error{File: p, Msg: "cannot read: " + describeIOError(err)}
	}
	if err := checkUTF8(p, data); err != nil {
		return nil, err
	}
	var f struct {
		Allow []string `toml:"allow"`
	}
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&f)
	if err != nil {
		return nil, decodeError(p, data, err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		return nil, &Error{File: p, Line: locateKey(data, u[0]), Msg: fmt.Sprintf("unknown key %q (this file holds only allow = [...])", u[0].String())}
	}
	for _, a := range f.Allow {
		if err := CheckAllowPattern(a); err != nil {
			return nil, &Error{File: p, Line: locateKey(data, toml.Key{"allow"}), Msg: "allow: " + err.Error()}
		}
	}
	return f.Allow, nil
}

// SavedAllow says where SaveAllow recorded a tool.
type SavedAllow struct {
	// Path is the file written.
	Path string
	// InConfig is true when the configuration file itself was edited,
	// false when the tool went to allow.toml beside it.
	InConfig bool
	// Why says why the configuration file was not edited, when it was not.
	Why string
}

// SaveAllow records name as always allowed. It edits the allow key of
// the configuration file in place, keeping every comment and every other
// line as it was, and checks the result by parsing it again: the edited
// file must hold exactly the same configuration plus name. When that
// cannot be done safely (no configuration file, an allow list written
// over several lines, a file changed since it was read, a result that does
// not check out) name goes to allow.toml beside it instead, which Parley
// reads too. Writes replace the file atomically and keep its permissions;
// a symlinked file is written where the link points.
func SaveAllow(c *Config, name string) (SavedAllow, error) {
	if err := CheckAllowPattern(name); err != nil {
		return SavedAllow{}, err
	}
	if c.Path != "" {
		saved, why := saveInConfig(c.Path, name)
		if why == "" {
			c.Allow = append(c.Allow, name)
			return saved, nil
		}
		saved, err := saveInAllowFile(c, name)
		saved.Why = why
		return saved, err
	}
	saved, err := saveInAllowFile(c, name)
	saved.Why = "there is no configuration file"
	return saved, err
}

// saveInConfig edits the allow key of the file at p; it returns why it
// did not, or "" when it did.
func saveInConfig(p, name string) (SavedAllow, string) {
	target, err := filepath.EvalSymlinks(p)
	if err != nil {
		return SavedAllow{}, "the configuration file cannot be read: " + describeIOError(err)
	}
	data, err := readBounded(target)
	if err != nil {
		return SavedAllow{}, "the configuration file cannot be read: " + describeIOError(err)
	}
	before, err := Parse(target, data)
	if err != nil {
		return SavedAllow{}, "the configuration file no longer parses"
	}
	if slices.Contains(before.Allow, name) {
		return SavedAllow{Path: target, InConfig: true}, ""
	}
	want := append(slices.Clone(before.Allow), name)
	edited, ok := editAllow(data, want)
	if !ok {
		return SavedAllow{}, "its allow list is not written on one line"
	}
	after, err := Parse(target, edited)
	if err != nil || !slices.Equal(after.Allow, want) || !sameExceptAllow(before, after) {
		return SavedAllow{}, "the edited file did not check out"
	}
	if err := writeAtomic(target, edited); err != nil {
		return SavedAllow{}, "the configuration file cannot be written: " + describeIOError(err)
	}
	return SavedAllow{Path: target, InConfig: true}, ""
}

// sameExceptAllow reports whether two parses of a file agree on
// everything but the allow list.
func sameExceptAllow(a, b *Config) bool {
	x, y := *a, *b
	x.Allow, y.Allow = nil, nil
	x.data, y.data = nil, nil
	x.RawTools, y.RawTools = toml.Primitive{}, toml.Primitive{}
	ja, err1 := json.Marshal(x)
	jb, err2 := json.Marshal(y)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// editAllow rewrites the top-level allow key of a TOML text to hold list,
// or adds it before the first table. It refuses (ok false) when the key
// spans several lines or the text has multi-line strings, which a line
// scan cannot follow.
func editAllow(data []byte, list []string) ([]byte, bool) {
	text := string(data)
	if strings.Contains(text, `"""`) || strings.Contains(text, `'''`) {
		return nil, false
	}
	quoted := make([]string, len(list))
	for i, s := range list {
		quoted[i] = `"` + s + `"` // allow entries hold no quotes or escapes (CheckAllowPattern)
	}
	value := "[" + strings.Join(quoted, ", ") + "]"
	lines := strings.Split(text, "\n")
	firstTable := len(lines)
	for i, raw := range lines {
		line := strings.TrimSpace(raw)
		if strings.HasPrefix(line, "[") {
			firstTable = i
			break
		}
		key, rest, ok := strings.Cut(line, "=")
		if !ok || strings.Trim(strings.TrimSpace(key), `"'`) != "allow" {
			continue
		}
		rest = strings.TrimSpace(rest)
		end := arrayEnd(rest)
		if end < 0 {
			return nil, false
		}
		tail := strings.TrimSpace(rest[end+1:])
		if tail != "" && !strings.HasPrefix(tail, "#") {
			return nil, false
		}
		indent := raw[:len(raw)-len(strings.TrimLeft(raw, " \t"))]
		lines[i] = indent + "allow = " + value
		if tail != "" {
			lines[i] += " " + tail
		}
		return []byte(strings.Join(lines, "\n")), true
	}
	// No allow key: add one among the top-level keys, above the comments
	// that introduce the first table.
	at := firstTable
	for at > 0 {
		l := strings.TrimSpace(lines[at-1])
		if l != "" && !strings.HasPrefix(l, "#") {
			break
		}
		at--
	}
	add := []string{"allow = " + value + "                # tools that run without asking (the a key of the approval prompt)"}
	if at == firstTable && firstTable < len(lines) {
		add = append(add, "")
	}
	if at > 0 && at < firstTable && strings.TrimSpace(lines[at-1]) != "" {
		add = append([]string{""}, add...)
	}
	out := slices.Concat(lines[:at], add, lines[at:])
	return []byte(strings.Join(out, "\n")), true
}

// arrayEnd returns the index of the bracket that closes the array s
// starts with, skipping brackets inside quoted strings, or -1 when s does
// not start with one that closes on this line.
func arrayEnd(s string) int {
	if !strings.HasPrefix(s, "[") {
		return -1
	}
	depth := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#':
			return -1
		case c == '[':
			depth++
		case c == ']':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// saveInAllowFile adds name to allow.toml beside the configuration file.
func saveInAllowFile(c *Config, name string) (SavedAllow, error) {
	p := c.allowPath()
	if p == "" {
		return SavedAllow{}, errors.New("no configuration directory to save the allow list in")
	}
	list, err := readAllowFile(p)
	if err != nil {
		return SavedAllow{}, err
	}
	if !slices.Contains(list, name) {
		list = append(list, name)
	}
	var b strings.Builder
	b.WriteString("# Tools Parley runs without asking, added with the a key of the approval prompt.\n")
	b.WriteString("# Parley reads this file beside config.toml; edit or delete it freely.\n")
	b.WriteString("allow = [")
	for i, s := range list {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(`"` + s + `"`)
	}
	b.WriteString("]\n")
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return SavedAllow{}, fmt.Errorf("saving the allow list: %w", err)
	}
	target := p
	if t, err := filepath.EvalSymlinks(p); err == nil {
		target = t
	}
	if err := writeAtomic(target, []byte(b.String())); err != nil {
		return SavedAllow{}, fmt.Errorf("saving the allow list: %w", err)
	}
	if !slices.Contains(c.AllowFile, name) {
		c.AllowFile = append(c.AllowFile, name)
	}
	return SavedAllow{Path: target}, nil
}

// writeAtomic replaces the file at p with data: a temporary file in the
// same directory, synced, given p's permissions (0600 for a new file),
// then renamed over p.
func writeAtomic(p string, data []byte) error {
	mode := fs.FileMode(0o600)
	if st, err := os.Stat(p); err == nil {
		mode = st.Mode().Perm()
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".parley-*.toml")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

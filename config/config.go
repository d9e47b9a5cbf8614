// Package config reads Parley's configuration file: named gateway profiles
// (dialect, base URL, where the API key comes from, models, extra headers),
// request defaults, the theme, timeouts and the tools mode. It also resolves
// a profile's API key from the environment or a key command, and merges
// the command-line flags over the file (Resolve), validating every value
// once, whichever of the two it came from. It imports only package
// provider, for the Dialect and ToolsMode types.
//
// The file is TOML, read from $XDG_CONFIG_HOME/parley/config.toml (or
// ~/.config/parley/config.toml when XDG_CONFIG_HOME is unset); a missing
// default file is not an error. Unknown keys, syntax errors and invalid
// values are errors that name the file, the line where it is known, and
// what is wrong. A file larger than MaxFileBytes or not valid UTF-8 is
// refused before it is parsed.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
	"golang.org/x/net/http/httpguts"

	"github.com/parley-chat/parley/provider"
)

// MaxFileBytes bounds the configuration file: a real one is a few
// kilobytes, and a path such as /dev/zero must not fill the memory.
const MaxFileBytes = 1 << 20

// Config is the parsed configuration file. The zero value is a valid empty
// configuration (what Parley uses when no file exists).
type Config struct {
	// Path is the file the configuration was read from; "" when none.
	Path string `toml:"-"`

	// DefaultProvider names the profile used when no --provider is given.
	DefaultProvider string `toml:"default_provider"`
	// Theme is a theme name ("dark", "light", "auto", …); "" leaves the
	// choice to the UI.
	Theme string `toml:"theme"`
	// Mouse turns mouse reporting on in the chat (wheel events; selecting
	// text then needs Shift in most terminals). Off, the wheel scrolls
	// through the terminal's alternate scroll mode and a plain drag
	// selects.
	Mouse bool `toml:"mouse"`
	// IdleTimeout is the longest silence tolerated mid-stream; 0 = unset.
	IdleTimeout Duration `toml:"idle_timeout"`
	// HeaderTimeout is how long to wait for a gateway's response headers,
	// per attempt; 0 = unset.
	HeaderTimeout Duration `toml:"header_timeout"`
	// MaxRetries bounds retries after the first attempt; nil = unset.
	MaxRetries *int `toml:"max_retries"`
	// MaxWidth caps the width of rendered answers in columns, 0 for no
	// cap; nil = unset (DefaultMaxWidth).
	MaxWidth *int `toml:"max_width"`
	// Tools is the tools mode; "" = unset. The file sets it with
	// tools = "ask", or tools_mode when "tools" holds [[tools]] tables
	// (see ToolSettings).
	Tools provider.ToolsMode `toml:"-"`
	// ToolSettings are the tools, MCP servers and allow list (tools.go).
	ToolSettings
	// Save says whether conversations are saved; nil = unset (they are).
	Save *bool `toml:"save"`
	// Defaults are request parameters applied to every provider.
	Defaults Defaults `toml:"defaults"`
	// Providers are the named gateway profiles, keyed by name.
	Providers map[string]*Provider `toml:"providers"`
	// Compare are the named comparison columns ([compare.NAME]).
	Compare map[string]*ComparePreset `toml:"compare"`

	// data is the file's text, to find the line of a value that Resolve
	// refuses; lookedAt is where the file was looked for, for messages.
	data     []byte
	lookedAt string
}

// Defaults are request parameters used unless a flag overrides them.
// Pointer fields are nil when unset.
type Defaults struct {
	Temperature *float64   `toml:"temperature"`
	TopP        *float64   `toml:"top_p"`
	MaxTokens   int        `toml:"max_tokens"`
	Stop        StringList `toml:"stop"`
	System      string     `toml:"system"`
}

// Provider is one named gateway profile.
type Provider struct {
	// Name is the profile's key in the providers table.
	Name string `toml:"-"`
	// Dialect is the protocol the gateway speaks.
	Dialect provider.Dialect `toml:"dialect"`
	// BaseURL includes the version segment, e.g. https://host/v1.
	BaseURL string `toml:"base_url"`
	// APIKeyEnv names the environment variable holding the key.
	APIKeyEnv string `toml:"api_key_env"`
	// APIKeyCmd is a shell command that prints the key (a password
	// manager, for example); used when APIKeyEnv is unset or empty.
	APIKeyCmd string `toml:"api_key_cmd"`
	// Models lists the models offered for this profile.
	Models []string `toml:"models"`
	// DefaultModel is the model used when no -m is given; when empty, the
	// first entry of Models.
	DefaultModel string `toml:"default_model"`
	// Headers are extra HTTP headers sent with every request.
	Headers map[string]string `toml:"headers"`
	// UIStream asks the native REST dialect for the UI message stream.
	UIStream bool `toml:"ui_stream"`
}

// Model returns the profile's default model: DefaultModel, else the first
// of Models, else "".
func (p *Provider) Model() string {
	if p.DefaultModel != "" {
		return p.DefaultModel
	}
	if len(p.Models) > 0 {
		return p.Models[0]
	}
	return ""
}

// Duration is a time.Duration written in TOML as a string such as "60s"
// or "2m30s".
type Duration struct {
	time.Duration
}

// UnmarshalText parses a Go duration string; zero and negative values are
// refused (an idle timeout of zero would fail every stream at once).
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("invalid duration %q (use a value such as \"60s\" or \"2m\")", string(b))
	}
	if v <= 0 {
		return fmt.Errorf("invalid duration %q: must be positive", string(b))
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration in Go syntax.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(d.Duration.String()), nil
}

// StringList is a list of strings that may also be written as a single
// string in TOML (stop = "END" is the same as stop = ["END"]).
type StringList []string

// UnmarshalTOML accepts a string or an array of strings.
func (l *StringList) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case string:
		*l = StringList{x}
		return nil
	case []any:
		out := make(StringList, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return fmt.Errorf("expected a string or a list of strings, found a list containing %T", e)
			}
			out = append(out, s)
		}
		*l = out
		return nil
	}
	return fmt.Errorf("expected a string or a list of strings, found %T", v)
}

// Error is a problem with a configuration file. Line is 0 when the line is
// not known.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// UnknownProviderError reports a --provider or default_provider that names
// no profile.
type UnknownProviderError struct {
	Name  string
	Known []string
	File  string
}

func (e *UnknownProviderError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "unknown provider %q", e.Name)
	if len(e.Known) > 0 {
		fmt.Fprintf(&b, " (configured: %s)", strings.Join(e.Known, ", "))
	} else if e.File != "" {
		fmt.Fprintf(&b, " (%s defines no providers)", e.File)
	} else {
		b.WriteString(" (no config file; define providers in config.toml or use --base-url)")
	}
	return b.String()
}

// Getenv looks up an environment variable; os.Getenv is the usual choice.
type Getenv func(string) string

// DefaultPath returns where the configuration file is looked for:
// $XDG_CONFIG_HOME/parley/config.toml when XDG_CONFIG_HOME is an absolute
// path, else ~/.config/parley/config.toml (HOME from getenv, then the
// operating system's idea of the home directory).
func DefaultPath(getenv Getenv) (string, error) {
	dir, err := xdgDir(getenv, "XDG_CONFIG_HOME", ".config")
	if err != nil {
		return "", fmt.Errorf("cannot find the config directory: %w", err)
	}
	return filepath.Join(dir, "config.toml"), nil
}

// Load reads the configuration. When explicit is not empty (the --config
// flag) that file must exist; otherwise the default path is used and a
// missing file yields an empty configuration.
func Load(explicit string, getenv Getenv) (*Config, error) {
	path := explicit
	if path == "" {
		p, err := DefaultPath(getenv)
		if err != nil {
			return nil, err
		}
		path = p
	}
	data, err := readBounded(path)
	if err != nil {
		if explicit == "" && errors.Is(err, fs.ErrNotExist) {
			c := &Config{lookedAt: path}
			return c, c.loadAllowFile()
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &Error{File: path, Msg: "config file not found"}
		}
		if errors.Is(err, errTooLarge) {
			return nil, &Error{File: path, Msg: fmt.Sprintf("the config file is larger than %d MB; is this the right file?", MaxFileBytes>>20)}
		}
		return nil, &Error{File: path, Msg: "cannot read config file: " + describeIOError(err)}
	}
	c, err := Parse(path, data)
	if c != nil {
		c.lookedAt = path
		if err == nil {
			err = c.loadAllowFile()
		}
	}
	return c, err
}

var errTooLarge = errors.New("file too large")

// readBounded reads at most MaxFileBytes of the file at path, failing
// with errTooLarge when it holds more, so a device or a huge file is never
// read whole.
func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileBytes {
		return nil, errTooLarge
	}
	return data, nil
}

func describeIOError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// Parse decodes and validates configuration data; path is used in error
// messages and recorded in the result.
func Parse(path string, data []byte) (*Config, error) {
	if err := checkUTF8(path, data); err != nil {
		return nil, err
	}
	var c Config
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&c)
	if err != nil {
		return nil, decodeError(path, data, err)
	}
	c.Path = path
	if err := c.decodeTools(&md, data); err != nil {
		return nil, err
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		k := undecoded[0]
		msg := fmt.Sprintf("unknown key %q", k.String())
		if hint := keyHint(k); hint != "" {
			msg += " (" + hint + ")"
		}
		return nil, &Error{File: path, Line: locateKey(data, k), Msg: msg}
	}
	c.Path = path
	c.data = data
	for name, p := range c.Providers {
		if p == nil {
			p = &Provider{}
			c.Providers[name] = p
		}
		p.Name = name
	}
	if err := c.validate(data); err != nil {
		return nil, err
	}
	return &c, nil
}

// checkUTF8 refuses text that is not UTF-8 (TOML must be), naming the
// line and column of the first bad byte, with the same message wherever
// the byte is (the TOML parser words it by where it stood, and may blame
// the key before it).
func checkUTF8(path string, data []byte) error {
	if utf8.Valid(data) {
		return nil
	}
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return &Error{File: path, Line: line, Msg: fmt.Sprintf(
				"the file is not valid UTF-8 text (byte 0x%02x at column %d); save it as UTF-8", data[i], col)}
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		i += n
	}
	return nil
}

// decodeError turns a TOML library error into an *Error with a line.
func decodeError(path string, data []byte, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		msg := pe.Message
		if pe.LastKey != "" && !strings.Contains(msg, pe.LastKey) {
			msg = fmt.Sprintf("%s: %s", pe.LastKey, msg)
		}
		return &Error{File: path, Line: pe.Position.Line, Msg: msg}
	}
	// Type mismatches come as "toml: line N (last key "k"): message".
	msg := strings.TrimPrefix(err.Error(), "toml: ")
	line := 0
	if n, rest, ok := cutLinePrefix(msg); ok {
		line, msg = n, rest
	}
	return &Error{File: path, Line: line, Msg: msg}
}

// cutLinePrefix splits "line 12 (last key "x"): msg" into 12 and
// "x: msg".
func cutLinePrefix(s string) (int, string, bool) {
	var n int
	if _, err := fmt.Sscanf(s, "line %d", &n); err != nil {
		return 0, s, false
	}
	rest := s[len(fmt.Sprintf("line %d", n)):]
	if strings.HasPrefix(rest, " (last key ") {
		if end := strings.Index(rest, "): "); end >= 0 {
			key := strings.Trim(rest[len(" (last key "):end], `"`)
			return n, key + ": " + rest[end+3:], true
		}
	}
	return n, strings.TrimPrefix(rest, ": "), true
}

// keyHint suggests the right spelling for common mistakes.
func keyHint(k toml.Key) string {
	last := k[len(k)-1]
	switch {
	case len(k) == 1 && slices.Contains([]string{"temperature", "top_p", "max_tokens", "stop", "system"}, last):
		return fmt.Sprintf("put %s under [defaults]", last)
	case last == "api_key" || last == "key" || last == "apikey":
		return "keys are never stored in the config: use api_key_env or api_key_cmd"
	case len(k) == 2 && k[0] == "providers":
		return fmt.Sprintf("providers must be tables: [providers.%s]", last)
	}
	return ""
}

func (c *Config) validate(data []byte) error {
	fail := func(key toml.Key, format string, args ...any) error {
		return &Error{File: c.Path, Line: locateKey(data, key), Msg: fmt.Sprintf(format, args...)}
	}
	for _, name := range c.ProviderNames() {
		p := c.Providers[name]
		key := func(k string) toml.Key { return toml.Key{"providers", name, k} }
		if p.Dialect == "" {
			return fail(toml.Key{"providers", name}, "provider %q: dialect is required (one of %s)", name, names(provider.Dialects()))
		}
		if _, err := provider.ParseDialect(string(p.Dialect)); err != nil {
			return fail(key("dialect"), "provider %q: %v", name, err)
		}
		if p.BaseURL == "" {
			return fail(toml.Key{"providers", name}, "provider %q: base_url is required", name)
		}
		if err := CheckBaseURL(p.BaseURL); err != nil {
			return fail(key("base_url"), "provider %q: %v", name, err)
		}
		if p.APIKeyEnv != "" && !validEnvName(p.APIKeyEnv) {
			return fail(key("api_key_env"), "provider %q: api_key_env must name an environment variable, not hold a key", name)
		}
		for h := range p.Headers {
			if !httpguts.ValidHeaderFieldName(h) {
				return fail(toml.Key{"providers", name, "headers", h}, "provider %q: invalid header name %q", name, h)
			}
			if !httpguts.ValidHeaderFieldValue(p.Headers[h]) {
				return fail(toml.Key{"providers", name, "headers", h}, "provider %q: header %s has a value with control characters", name, h)
			}
			if strings.EqualFold(h, "Authorization") || strings.EqualFold(h, "x-goog-api-key") {
				return fail(toml.Key{"providers", name, "headers", h}, "provider %q: the %s header is set from the API key; do not put keys in the config file", name, h)
			}
		}
	}
	if c.DefaultProvider != "" {
		if _, ok := c.Providers[c.DefaultProvider]; !ok {
			return fail(toml.Key{"default_provider"}, "default_provider %q is not defined (configured: %s)",
				c.DefaultProvider, strings.Join(c.ProviderNames(), ", "))
		}
	}
	if c.Tools != "" {
		if err := checkToolsMode(string(c.Tools)); err != nil {
			return fail(toml.Key{"tools"}, "tools %v", err)
		}
	}
	if c.MaxRetries != nil {
		if err := checkMaxRetries(*c.MaxRetries); err != nil {
			return fail(toml.Key{"max_retries"}, "max_retries %v", err)
		}
	}
	if c.MaxWidth != nil {
		if err := checkMaxWidth(*c.MaxWidth); err != nil {
			return fail(toml.Key{"max_width"}, "max_width %v", err)
		}
	}
	if t := c.Defaults.Temperature; t != nil {
		if err := checkTemperature(*t); err != nil {
			return fail(toml.Key{"defaults", "temperature"}, "temperature %v", err)
		}
	}
	if t := c.Defaults.TopP; t != nil {
		if err := checkTopP(*t); err != nil {
			return fail(toml.Key{"defaults", "top_p"}, "top_p %v", err)
		}
	}
	if err := checkMaxTokens(c.Defaults.MaxTokens); err != nil {
		return fail(toml.Key{"defaults", "max_tokens"}, "max_tokens %v", err)
	}
	return c.validateCompare(data)
}

// ProviderNames returns the configured profile names, sorted.
func (c *Config) ProviderNames() []string {
	names := make([]string, 0, len(c.Providers))
	for n := range c.Providers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Provider returns the named profile, or an *UnknownProviderError.
func (c *Config) Provider(name string) (*Provider, error) {
	if p, ok := c.Providers[name]; ok {
		return p, nil
	}
	return nil, &UnknownProviderError{Name: name, Known: c.ProviderNames(), File: c.Path}
}

// CheckBaseURL reports whether raw is a usable base URL: http or https,
// with a valid host name or IP address and, when given, a port from 1 to
// 65535; without credentials, query or fragment.
func CheckBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid base URL %q", raw)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("base URL %q must start with https:// (or http:// for a local gateway)", raw)
	}
	if u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("base URL %q has no host", raw)
	}
	if !validHost(u.Hostname()) {
		return fmt.Errorf("base URL %q: %q is not a valid host name or IP address", raw, u.Hostname())
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("base URL %q: port %s is out of range (1-65535)", raw, port)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return fmt.Errorf("base URL %q has an empty port", raw)
	}
	if u.User != nil {
		return fmt.Errorf("base URL must not contain credentials; use api_key_env or api_key_cmd")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("base URL %q must not have a query or fragment", raw)
	}
	return nil
}

// validHost reports whether h (a URL's host without port or brackets) is
// an IP address or a DNS name: dot-separated labels of letters (any
// script: the HTTP client converts them to punycode), digits,
// hyphens and underscores, none empty, starting or ending with a hyphen,
// or longer than 63 bytes; at most 253 bytes in all, a final dot allowed.
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if i := strings.IndexByte(h, '%'); i > 0 && net.ParseIP(h[:i]) != nil {
		return true // an IPv6 address with a zone
	}
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' {
				return false
			}
		}
	}
	return true
}

// InsecureURLWarning returns a warning when raw is plain http to a host
// that is not loopback (the key would cross the network unencrypted), and
// "" otherwise.
func InsecureURLWarning(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" {
		return ""
	}
	host := u.Hostname()
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return ""
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return ""
	}
	return fmt.Sprintf("base URL %s uses plain http to a non-loopback host: the API key and your messages travel unencrypted", u.Scheme+"://"+u.Host)
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z'):
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// locateKey finds the line (1-based) where key is defined in TOML data, or
// 0. It understands table headers, array-of-table headers, dotted and
// quoted keys; when key itself is not found it tries its parents.
func locateKey(data []byte, key toml.Key) int {
	for n := len(key); n > 0; n-- {
		if line := findKey(data, key[:n]); line > 0 {
			return line
		}
	}
	return 0
}

func findKey(data []byte, want toml.Key) int {
	var table []string
	for i, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == '#' {
			continue
		}
		if strings.HasPrefix(line, "[") {
			h := strings.TrimLeft(line, "[")
			end := strings.Index(h, "]")
			if end < 0 {
				continue
			}
			table = splitKey(h[:end])
			if slices.Equal(table, want) {
				return i + 1
			}
			continue
		}
		eq := strings.Index(line, "=")
		if eq < 0 {
			continue
		}
		full := append(slices.Clone(table), splitKey(line[:eq])...)
		if len(full) >= len(want) && slices.Equal(full[:len(want)], want) {
			return i + 1
		}
	}
	return 0
}

// splitKey splits a dotted TOML key, removing quotes and spaces.
func splitKey(s string) []string {
	var parts []string
	var cur strings.Builder
	quote := rune(0)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote = r
		case r == '.':
			parts = append(parts, strings.TrimSpace(cur.String()))
			cur.Reset()
		case r == ' ' || r == '\t':
		default:
			cur.WriteRune(r)
		}
	}
	return append(parts, strings.TrimSpace(cur.String()))
}

// DataDir returns where Parley keeps its data (saved conversations, prompt
// history): $XDG_DATA_HOME/parley when XDG_DATA_HOME is an absolute path,
// else ~/.local/share/parley (HOME from getenv, then the operating
// system's idea of the home directory). It does not create the directory.
func DataDir(getenv Getenv) (string, error) {
	dir, err := xdgDir(getenv, "XDG_DATA_HOME", ".local/share")
	if err != nil {
		return "", fmt.Errorf("cannot find the data directory: %w", err)
	}
	return dir, nil
}

// xdgDir is Parley's folder in an XDG base directory: $variable/parley
// when the variable holds an absolute path, else ~/fallback/parley.
func xdgDir(getenv Getenv, variable, fallback string) (string, error) {
	if dir := getenv(variable); dir != "" && filepath.IsAbs(dir) {
		return filepath.Join(dir, "parley"), nil
	}
	home := getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("set %s or HOME", variable)
		}
		home = h
	}
	return filepath.Join(home, filepath.FromSlash(fallback), "parley"), nil
}

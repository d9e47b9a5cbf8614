package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/parley-chat/parley/provider"
)

// Setup is one gateway profile as parley config init asks for it. Render
// turns it into a commented configuration file; it never holds a key, only
// where the key comes from.
type Setup struct {
	// Name is the profile's name: letters, digits, "-" and "_".
	Name    string
	Dialect provider.Dialect
	BaseURL string
	// APIKeyEnv names the environment variable that holds the key, or
	// APIKeyCmd is a command that prints it: exactly one is set.
	APIKeyEnv string
	APIKeyCmd string
	// DefaultModel is the model used when no -m is given; "" leaves the
	// choice to -m.
	DefaultModel string
}

// maxSetupValue bounds every value of a Setup, so a pasted file or a
// runaway paste is refused rather than written.
const maxSetupValue = 2048

// Profile returns the profile s describes, as Parse would read it from
// the rendered file.
func (s *Setup) Profile() Provider {
	return Provider{
		Name:         s.Name,
		Dialect:      s.Dialect,
		BaseURL:      s.BaseURL,
		APIKeyEnv:    s.APIKeyEnv,
		APIKeyCmd:    s.APIKeyCmd,
		DefaultModel: s.DefaultModel,
	}
}

// Check validates s: every rule Parse applies to a profile, and three
// more that guard against a key typed where its source belongs: the
// variable name must be written in capitals, digits and underscores, and
// a command must be one (its first word a program on PATH, or a path).
// Messages never repeat the key fields' values.
func (s *Setup) Check() error {
	if err := CheckProfileName(s.Name); err != nil {
		return err
	}
	if _, err := provider.ParseDialect(string(s.Dialect)); err != nil {
		return err
	}
	if err := CheckBaseURL(s.BaseURL); err != nil {
		return err
	}
	if err := CheckKeyEnv(s.APIKeyEnv); s.APIKeyEnv != "" && err != nil {
		return err
	}
	if err := CheckKeyCmd(s.APIKeyCmd); s.APIKeyCmd != "" && err != nil {
		return err
	}
	switch {
	case s.APIKeyEnv == "" && s.APIKeyCmd == "":
		return errors.New("say where the API key comes from: an environment variable or a command")
	case s.APIKeyEnv != "" && s.APIKeyCmd != "":
		return errors.New("the key comes from an environment variable or a command, not both")
	}
	if err := checkSetupText("the default model", s.DefaultModel); err != nil {
		return err
	}
	return nil
}

// CheckProfileName reports whether name can name a profile: 1 to 64
// letters, digits, "-" and "_" (a bare TOML key).
func CheckProfileName(name string) error {
	if name == "" {
		return errors.New("the profile needs a name, e.g. work or openrouter")
	}
	if len(name) > 64 {
		return errors.New("the profile name is longer than 64 characters")
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("the profile name may hold only letters, digits, - and _, not %q", r)
		}
	}
	return nil
}

// CheckKeyEnv reports whether name is a plausible name of an environment
// variable holding a key: capitals, digits and underscores, not starting
// with a digit, at most 64 characters. The rule is stricter than the
// file's so that a key pasted by mistake is refused; the message does not
// repeat the value.
func CheckKeyEnv(name string) error {
	if name == "" {
		return errors.New("type the name of the environment variable that holds the key, e.g. OPENAI_API_KEY")
	}
	ok := len(name) <= 64 && !(name[0] >= '0' && name[0] <= '9')
	for _, r := range name {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			ok = false
		}
	}
	if !ok {
		return errors.New("that is not an environment variable's name (capitals, digits and _, e.g. OPENAI_API_KEY): type the variable's name, never the key")
	}
	return nil
}

// CheckKeyCmd reports whether cmd looks like a command that prints a key:
// one line of printable text whose first word is a program on PATH or a
// path. The message does not repeat the value.
func CheckKeyCmd(cmd string) error {
	cmd = strings.TrimSpace(cmd)
	if cmd == "" {
		return errors.New("type the command that prints the key, e.g. pass show openai")
	}
	if len(cmd) > maxSetupValue {
		return fmt.Errorf("the command is longer than %d bytes", maxSetupValue)
	}
	for _, r := range cmd {
		if unicode.IsControl(r) {
			return errors.New("the command must be one line of text without control characters")
		}
	}
	first := strings.Fields(cmd)[0]
	if strings.ContainsAny(first, "/$~=") {
		return nil // a path, a variable or an assignment: sh will tell
	}
	if _, err := exec.LookPath(first); err != nil {
		return errors.New("the command's first word is not a program on PATH: api_key_cmd is a command that prints the key, e.g. pass show openai")
	}
	return nil
}

// checkSetupText refuses a value with control characters or longer than
// maxSetupValue.
func checkSetupText(what, v string) error {
	if len(v) > maxSetupValue {
		return fmt.Errorf("%s is longer than %d bytes", what, maxSetupValue)
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return fmt.Errorf("%s must not contain control characters", what)
		}
	}
	return nil
}

// SuggestProfileName proposes a profile name for a base URL: "local" for
// a loopback or private address, else the host's most telling label
// ("cuadra" for api.cuadra.ai, "openrouter" for openrouter.ai).
func SuggestProfileName(baseURL string) string {
	u, err := url.Parse(baseURL)
	if err != nil || u.Hostname() == "" {
		return "gateway"
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return "local"
	}
	if ip := net.ParseIP(host); ip != nil {
		if ip.IsLoopback() || ip.IsPrivate() {
			return "local"
		}
		return "gateway"
	}
	labels := strings.Split(host, ".")
	if len(labels) > 1 {
		labels = labels[:len(labels)-1] // the top-level domain
	}
	for i := len(labels) - 1; i >= 0; i-- {
		if l := labels[i]; l != "api" && l != "www" && l != "" && CheckProfileName(l) == nil {
			return l
		}
	}
	return "gateway"
}

// Render returns the text of a configuration file with s as its only
// profile and default provider, each setting explained by a comment, and
// the other top-level settings present as commented-out defaults. The
// text parses with Parse into a configuration whose profile equals
// s.Profile().
func (s *Setup) Render() ([]byte, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	var b strings.Builder
	line := func(setting, comment string) {
		if comment == "" {
			b.WriteString(setting + "\n")
			return
		}
		fmt.Fprintf(&b, "%-34s # %s\n", setting, comment)
	}
	b.WriteString(`# Parley's configuration, written by "parley config init".
# Every setting is described in Parley's README, under Configuration.
# API keys are never stored here: each profile says where its key comes
# from (api_key_env or api_key_cmd). PARLEY_API_KEY, when set, wins.

`)
	line("default_provider = "+tomlString(s.Name), "the profile used when no --provider is given")
	line(fmt.Sprintf("# theme = %q", DefaultTheme), "auto, dark, light or ascii")
	line(fmt.Sprintf("# max_retries = %d", DefaultMaxRetries), fmt.Sprintf("retries after the first attempt (at most %d)", MaxRetriesLimit))
	line(fmt.Sprintf("# idle_timeout = %q", durationText(DefaultIdleTimeout)), "longest silence tolerated mid-stream")
	line(`# header_timeout = "150s"`, "longest wait for response headers, per attempt")
	line(fmt.Sprintf("# tools = %q", provider.ToolsAsk), names(provider.ToolsModes()))
	b.WriteString("\n")
	line("# [defaults]", "request defaults for every provider")
	line("# temperature = 0.7", "")
	line("# max_tokens = 4096", "")
	line("# system = \"You are a concise assistant.\"", "")
	b.WriteString("\n")
	fmt.Fprintf(&b, "[providers.%s]\n", s.Name)
	line("dialect = "+tomlString(string(s.Dialect)), names(provider.Dialects()))
	line("base_url = "+tomlString(s.BaseURL), "includes the version segment")
	if s.APIKeyEnv != "" {
		line("api_key_env = "+tomlString(s.APIKeyEnv), "the variable that holds the key")
	} else {
		line("api_key_cmd = "+tomlString(s.APIKeyCmd), "prints the key (run with sh -c)")
	}
	if s.DefaultModel != "" {
		line("default_model = "+tomlString(s.DefaultModel), "parley models lists the others")
	} else {
		line("# default_model = \"…\"", "parley models lists the gateway's models")
	}
	line("# models = [\"…\", \"…\"]", "models offered by /model and -m completion")
	return []byte(b.String()), nil
}

// durationText writes d in seconds, as the README's examples do ("150s").
func durationText(d time.Duration) string { return fmt.Sprintf("%ds", int(d.Seconds())) }

// tomlString writes s as a TOML basic string: quotes and backslashes
// escaped, control characters as \uXXXX.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\u%04X", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// ErrExists is returned by WriteFile when the file exists and replacing
// it was not asked for.
var ErrExists = errors.New("the file exists")

// WriteFile writes a configuration file readable by its owner alone
// (0600), creating missing directories readable by the owner alone (0700).
// An existing file is replaced only when replace is true (through a
// temporary file renamed over it, so a failed write leaves the old file
// whole; a symbolic link is followed, not replaced); otherwise the
// error wraps ErrExists.
func WriteFile(path string, data []byte, replace bool) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("creating the config directory: %w", err)
	}
	if target, err := filepath.EvalSymlinks(path); err == nil {
		if !replace {
			return fmt.Errorf("%s: %w", path, ErrExists)
		}
		path = target
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", path, err)
	}
	if !replace {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s: %w", path, ErrExists)
		}
		if err != nil {
			return err
		}
		_, werr := f.Write(data)
		if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
			os.Remove(path)
			return fmt.Errorf("writing %s: %w", path, err)
		}
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*.toml")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	if err := errors.Join(werr, tmp.Chmod(0o600), tmp.Sync(), tmp.Close()); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

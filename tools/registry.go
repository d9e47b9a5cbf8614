// Package tools is where the tools Parley offers a model come from and how
// they run: command tools (a program run without a shell, the call's JSON
// arguments on stdin, its stdout the result), manual tools (the user types
// the result), built-in tools (the demo's weather) and the tools of MCP
// servers, reached through the official Go SDK over stdio or streamable
// HTTP. A Registry implements session.Toolbox; the tool loop that asks
// for consent and sends results back lives in package session.
package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/sanitize"
	"github.com/parley-chat/parley/session"
)

// Kind says how a tool runs.
type Kind string

// The kinds of tool.
const (
	KindCommand Kind = "command"  // a program, arguments on stdin
	KindManual  Kind = "manual"   // the user types the result
	KindBuiltin Kind = "built-in" // a Go function (the demo's tools)
	KindMCP     Kind = "mcp"      // a tool of an MCP server
)

// Defaults for what a Spec leaves unset.
const (
	DefaultTimeout   = 30 * time.Second
	DefaultMaxOutput = 64 << 10
	// DefaultStartTimeout bounds starting one MCP server and listing its
	// tools.
	DefaultStartTimeout = 20 * time.Second
)

// Spec declares a tool that is not an MCP server's.
type Spec struct {
	Name        string
	Description string
	// Parameters is the tool's JSON schema; nil for none.
	Parameters json.RawMessage
	Kind       Kind
	// Command is a command tool's argv.
	Command []string
	// Timeout bounds one run; 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxOutput is the most bytes of output kept; 0 means
	// DefaultMaxOutput.
	MaxOutput int
	// Env names variables the command sees although they look secret.
	Env []string
	// Func runs a built-in tool.
	Func func(ctx context.Context, args string) (string, error)
	// Source is shown where the tool is listed: "config", "built-in demo".
	Source string
}

// ServerSpec declares an MCP server: Command (stdio) or URL (streamable
// HTTP).
type ServerSpec struct {
	Name    string
	Command []string
	URL     string
	// Headers go with every HTTP request; ${NAME} in a value is replaced
	// with the variable from Options.Environ.
	Headers map[string]string
	// Env names variables a command server sees although they look
	// secret.
	Env []string
	// Timeout bounds one tool call; 0 means DefaultTimeout.
	Timeout time.Duration
}

// Options configures a Registry.
type Options struct {
	Tools   []Spec
	Servers []ServerSpec
	// Environ is the environment children start from (os.Environ()).
	Environ []string
	// Hidden names the API-key variables Parley knows of: no child sees
	// them, whatever its env says.
	Hidden []string
	// Secret is the API key in use: it is removed from every result and
	// from the children's environment.
	Secret string
	// StartTimeout bounds starting one MCP server; 0 means
	// DefaultStartTimeout.
	StartTimeout time.Duration
}

// tool is one tool of the registry.
type tool struct {
	spec   Spec
	wire   string // the name the model calls it by
	schema *jsonschema.Resolved
	server *server // for an MCP tool
	remote string  // the MCP server's own name for it
}

// Registry holds the tools Parley offers and runs them. It is safe for
// concurrent use: the chat owner looks tools up while runs and MCP
// servers work on goroutines of their own.
type Registry struct {
	o Options

	mu       sync.Mutex
	tools    []*tool
	byWire   map[string]*tool
	servers  []*server
	started  bool
	problems []string // not yet taken by TakeProblems
}

// wireNameRE is what every gateway accepts as a function name.
var wireNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// New checks the tools' declarations (names, schemas) and returns a
// registry. MCP servers are not started: Start does that, when their
// tools are first needed.
func New(o Options) (*Registry, error) {
	r := &Registry{o: o, byWire: map[string]*tool{}}
	for _, s := range o.Tools {
		if !wireNameRE.MatchString(s.Name) {
			return nil, fmt.Errorf("tool %q: a name must be 1 to 64 letters, digits, _ or -", s.Name)
		}
		if r.byWire[s.Name] != nil {
			return nil, fmt.Errorf("tool %q is declared twice", s.Name)
		}
		switch s.Kind {
		case KindCommand:
			if len(s.Command) == 0 || s.Command[0] == "" {
				return nil, fmt.Errorf("tool %q: a command tool needs a command", s.Name)
			}
		case KindBuiltin:
			if s.Func == nil {
				return nil, fmt.Errorf("tool %q: a built-in tool needs a function", s.Name)
			}
		case KindManual:
		default:
			return nil, fmt.Errorf("tool %q: unknown kind %q", s.Name, s.Kind)
		}
		rs, err := compileSchema(s.Parameters)
		if err != nil {
			return nil, fmt.Errorf("tool %q: %w", s.Name, err)
		}
		if s.Timeout <= 0 {
			s.Timeout = DefaultTimeout
		}
		if s.MaxOutput <= 0 {
			s.MaxOutput = DefaultMaxOutput
		}
		if s.Source == "" {
			s.Source = "config"
		}
		t := &tool{spec: s, wire: s.Name, schema: rs}
		r.tools = append(r.tools, t)
		r.byWire[t.wire] = t
	}
	seen := map[string]bool{}
	for _, s := range o.Servers {
		if seen[s.Name] {
			return nil, fmt.Errorf("MCP server %q is declared twice", s.Name)
		}
		seen[s.Name] = true
		if s.Timeout <= 0 {
			s.Timeout = DefaultTimeout
		}
		r.servers = append(r.servers, &server{spec: s, reg: r})
	}
	return r, nil
}

// NeedsStart reports whether MCP servers are configured and not started
// yet.
func (r *Registry) NeedsStart() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.servers) > 0 && !r.started
}

// Start starts every MCP server at once and lists its tools, each within
// the start timeout. A server that fails is reported (TakeProblems) and
// left out; the others' tools join the registry. Start is done once;
// later calls return at once.
func (r *Registry) Start(ctx context.Context) {
	r.mu.Lock()
	if r.started {
		r.mu.Unlock()
		return
	}
	r.started = true
	servers := slices.Clone(r.servers)
	r.mu.Unlock()
	timeout := r.o.StartTimeout
	if timeout <= 0 {
		timeout = DefaultStartTimeout
	}
	lists := make([][]remoteTool, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			list, err := s.start(sctx, r.o)
			if err != nil {
				if sctx.Err() == context.DeadlineExceeded {
					err = fmt.Errorf("it did not answer within %s", timeout)
				}
				s.fail(err)
				return
			}
			lists[i] = list
		}()
	}
	wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, s := range servers {
		for _, rt := range lists[i] {
			r.addRemote(s, rt)
		}
	}
}

// addRemote adds one tool of an MCP server as "server.tool", offered to
// the model as "server__tool" (gateways refuse dots in function names).
func (r *Registry) addRemote(s *server, rt remoteTool) {
	display := s.spec.Name + "." + rt.name
	wire := s.spec.Name + "__" + rt.name
	switch {
	case !wireNameRE.MatchString(wire):
		r.problemLocked(fmt.Sprintf("MCP server %s: tool %q left out: gateways accept only names of up to 64 letters, digits, _ or - (it would be %q)",
			s.spec.Name, sanitize.Line(rt.name), sanitize.Line(wire)))
		return
	case r.byWire[wire] != nil:
		r.problemLocked(fmt.Sprintf("MCP server %s: tool %q left out: its name %q is taken", s.spec.Name, rt.name, wire))
		return
	}
	rs, err := compileSchema(rt.schema)
	if err != nil {
		rs = nil // the server checks its own arguments
	}
	t := &tool{spec: Spec{Name: display, Description: rt.description, Parameters: rt.schema, Kind: KindMCP,
		Timeout: s.spec.Timeout, MaxOutput: DefaultMaxOutput, Source: "MCP server " + s.spec.Name},
		wire: wire, schema: rs, server: s, remote: rt.name}
	r.tools = append(r.tools, t)
	r.byWire[wire] = t
}

// Close stops every MCP server. It waits for them, a few seconds at most
// each, all at once.
func (r *Registry) Close() error {
	r.mu.Lock()
	servers := slices.Clone(r.servers)
	r.mu.Unlock()
	var wg sync.WaitGroup
	errs := make([]error, len(servers))
	for i, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.close()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Definitions are the tools offered to the model: every declared tool and
// the tools of the MCP servers that are running.
func (r *Registry) Definitions() []provider.Tool {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]provider.Tool, 0, len(r.tools))
	for _, t := range r.tools {
		if t.server != nil && !t.server.running() {
			continue
		}
		out = append(out, provider.Tool{Name: t.wire, Description: t.spec.Description, Parameters: t.spec.Parameters})
	}
	return out
}

// Lookup finds a tool by the name the model called it.
func (r *Registry) Lookup(name string) (session.ToolInfo, bool) {
	t := r.find(name)
	if t == nil {
		return session.ToolInfo{}, false
	}
	return session.ToolInfo{Name: t.spec.Name, Source: t.spec.Source, Manual: t.spec.Kind == KindManual}, true
}

func (r *Registry) find(name string) *tool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byWire[name]
}

// Validate checks a call's arguments: a JSON object that matches the
// tool's parameters schema.
func (r *Registry) Validate(name, args string) error {
	t := r.find(name)
	if t == nil {
		return fmt.Errorf("no tool named %q", name)
	}
	return validate(t.schema, args)
}

// Run runs one call and returns its result, sanitized of escape sequences
// and control characters, without the API key, and cut at the tool's
// output limit. Every failure is an error result saying what went wrong;
// cancelling ctx stops the run.
func (r *Registry) Run(ctx context.Context, name, args string) session.ToolOutput {
	t := r.find(name)
	if t == nil {
		return errorResult(fmt.Sprintf("no tool named %q", name))
	}
	var out session.ToolOutput
	switch t.spec.Kind {
	case KindCommand:
		env := ChildEnv(r.o.Environ, r.o.Hidden, t.spec.Env, r.o.Secret)
		out = runCommand(ctx, t.spec.Command, args, env, t.spec.Timeout, t.spec.MaxOutput)
	case KindBuiltin:
		cctx, cancel := context.WithTimeout(ctx, t.spec.Timeout)
		text, err := t.spec.Func(cctx, args)
		cancel()
		out.Content = text
		if err != nil {
			out = session.ToolOutput{Content: withNote(text, "error: "+err.Error()), IsError: true}
		}
	case KindMCP:
		out = t.server.call(ctx, t.remote, args, t.spec.Timeout)
	default:
		return errorResult(fmt.Sprintf("%s is a manual tool: its result is typed, not run", t.spec.Name))
	}
	out.Content = r.clean(out.Content, t.spec.MaxOutput)
	return out
}

// clean makes a result safe to show and send: valid UTF-8, no escape
// sequences or control characters but newlines and tabs, no API key, at
// most maxOut bytes (plus the marker of the cut).
func (r *Registry) clean(s string, maxOut int) string {
	s = sanitize.Text(strings.ToValidUTF8(s, "\uFFFD"))
	if len(r.o.Secret) >= 6 {
		s = strings.ReplaceAll(s, r.o.Secret, "[redacted]")
	}
	if len(s) > maxOut+512 { // command output is cut already, with its marker
		b := &cappedBuffer{max: maxOut}
		_, _ = b.Write([]byte(s))
		s = b.String()
	}
	return s
}

// Entry is one tool as /tools lists it.
type Entry struct {
	Name        string // "get_time", "fs.read_file"
	Source      string // "config", "MCP server fs", "built-in demo"
	Kind        Kind
	Description string
}

// ServerStatus is where an MCP server stands, for /tools.
type ServerStatus struct {
	Name  string
	State string // "not started", "running", "failed", "stopped"
	Err   string // why it failed or stopped
	Tools int
}

// Entries lists the tools in the order they are offered; MCP tools only
// once their server has started.
func (r *Registry) Entries() []Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Entry, 0, len(r.tools))
	for _, t := range r.tools {
		out = append(out, Entry{Name: t.spec.Name, Source: t.spec.Source, Kind: t.spec.Kind, Description: t.spec.Description})
	}
	return out
}

// Servers reports every MCP server's state.
func (r *Registry) Servers() []ServerStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]ServerStatus, 0, len(r.servers))
	for _, s := range r.servers {
		st := s.status()
		for _, t := range r.tools {
			if t.server == s {
				st.Tools++
			}
		}
		out = append(out, st)
	}
	return out
}

// TakeProblems returns what went wrong with MCP servers since the last
// call: each failure is reported once.
func (r *Registry) TakeProblems() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.problems
	r.problems = nil
	return p
}

func (r *Registry) problem(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.problemLocked(msg)
}

func (r *Registry) problemLocked(msg string) {
	r.problems = append(r.problems, sanitize.Line(msg))
}

func errorResult(msg string) session.ToolOutput {
	b, _ := json.Marshal(map[string]string{"error": msg})
	return session.ToolOutput{Content: string(b), IsError: true}
}

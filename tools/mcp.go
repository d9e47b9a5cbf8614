package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/parley-chat/parley/session"
)

// Budgets for what an MCP server sends.
const (
	maxServerTools  = 512       // tools listed per server
	maxSchemaBytes  = 256 << 10 // one tool's input schema
	maxDescription  = 4 << 10   // one tool's description
	terminateWithin = 2 * time.Second
)

// clientInfo is how Parley introduces itself to MCP servers.
var clientInfo = &mcp.Implementation{Name: "parley", Version: "1"}

// serverState is where an MCP server stands.
type serverState int

const (
	serverIdle    serverState = iota // not started
	serverRunning                    // connected
	serverFailed                     // did not start
	serverStopped                    // was running, then died or closed
)

// server is one MCP server: its connection and its state. Its mutex is
// never held while the registry's is taken.
type server struct {
	spec ServerSpec
	reg  *Registry

	mu       sync.Mutex
	state    serverState
	err      string
	session  *mcp.ClientSession
	closing  bool
	reported bool
	stderr   *tailBuffer
}

// remoteTool is one tool a server listed.
type remoteTool struct {
	name, description string
	schema            json.RawMessage
}

// start connects to the server and lists its tools.
func (s *server) start(ctx context.Context, o Options) ([]remoteTool, error) {
	transport, err := s.transport(o)
	if err != nil {
		return nil, err
	}
	client := mcp.NewClient(clientInfo, nil)
	cs, err := client.Connect(ctx, transport, nil)
	if err != nil {
		return nil, s.explain(err)
	}
	var list []remoteTool
	for t, err := range cs.Tools(ctx, nil) {
		if err != nil {
			_ = cs.Close()
			return nil, fmt.Errorf("listing its tools: %w", s.explain(err))
		}
		if len(list) == maxServerTools {
			s.reg.problem(fmt.Sprintf("MCP server %s lists more than %d tools; the rest are left out", s.spec.Name, maxServerTools))
			break
		}
		schema, err := json.Marshal(t.InputSchema)
		if err != nil || len(schema) > maxSchemaBytes || string(schema) == "null" {
			s.reg.problem(fmt.Sprintf("MCP server %s: tool %q left out: its input schema is missing or larger than %d KB", s.spec.Name, t.Name, maxSchemaBytes>>10))
			continue
		}
		desc := t.Description
		if len(desc) > maxDescription {
			desc = strings.ToValidUTF8(desc[:maxDescription], "") + "…"
		}
		list = append(list, remoteTool{name: t.Name, description: desc, schema: schema})
	}
	s.mu.Lock()
	s.session, s.state = cs, serverRunning
	closing := s.closing
	s.mu.Unlock()
	if closing { // Parley is exiting
		_ = cs.Close()
		return nil, errors.New("parley is exiting")
	}
	go s.watch(cs)
	return list, nil
}

// transport builds the stdio or streamable HTTP transport.
func (s *server) transport(o Options) (mcp.Transport, error) {
	if len(s.spec.Command) > 0 {
		cmd := exec.Command(s.spec.Command[0], s.spec.Command[1:]...)
		cmd.Env = ChildEnv(o.Environ, o.Hidden, s.spec.Env, o.Secret)
		s.stderr = &tailBuffer{max: stderrTail}
		cmd.Stderr = s.stderr // never the terminal: the chat screen owns it
		return &mcp.CommandTransport{Command: cmd, TerminateDuration: terminateWithin}, nil
	}
	headers := http.Header{}
	for k, v := range s.spec.Headers {
		val, err := expandEnv(v, o.Environ)
		if err != nil {
			return nil, fmt.Errorf("header %s: %w", k, err)
		}
		headers.Set(k, val)
	}
	client := &http.Client{Transport: &headerTransport{base: http.DefaultTransport, headers: headers}}
	return &mcp.StreamableClientTransport{Endpoint: s.spec.URL, HTTPClient: client, MaxRetries: 1, DisableStandaloneSSE: true}, nil
}

// explain adds what the server said on stderr to an error.
func (s *server) explain(err error) error {
	if s.stderr == nil {
		return err
	}
	if tail := lastLines(s.stderr.String(), 3); tail != "" {
		return fmt.Errorf("%w (stderr: %s)", err, tail)
	}
	return err
}

// watch waits for the connection to end; if Parley did not close it, the
// server died, which is reported once.
func (s *server) watch(cs *mcp.ClientSession) {
	err := cs.Wait()
	s.mu.Lock()
	if s.closing || s.state != serverRunning {
		s.mu.Unlock()
		return
	}
	s.state = serverStopped
	msg := "the connection ended"
	if err != nil {
		msg = err.Error()
	}
	s.err = s.explain(errors.New(msg)).Error()
	s.mu.Unlock()
	s.report(fmt.Sprintf("MCP server %s stopped: %s; its tools are no longer offered", s.spec.Name, s.err))
}

// fail records that the server did not start, and reports it once.
func (s *server) fail(err error) {
	s.mu.Lock()
	s.state, s.err = serverFailed, err.Error()
	s.mu.Unlock()
	s.report(fmt.Sprintf("MCP server %s did not start: %s; the chat goes on without its tools", s.spec.Name, err))
}

// report tells the registry about the server's failure, once.
func (s *server) report(msg string) {
	s.mu.Lock()
	done := s.reported
	s.reported = true
	s.mu.Unlock()
	if !done {
		s.reg.problem(msg)
	}
}

func (s *server) running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == serverRunning
}

func (s *server) status() ServerStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := ServerStatus{Name: s.spec.Name, Err: s.err}
	switch s.state {
	case serverIdle:
		st.State = "not started"
	case serverRunning:
		st.State = "running"
	case serverFailed:
		st.State = "failed"
	case serverStopped:
		st.State = "stopped"
	}
	return st
}

// call calls one of the server's tools.
func (s *server) call(ctx context.Context, name, args string, timeout time.Duration) session.ToolOutput {
	s.mu.Lock()
	cs, state, why := s.session, s.state, s.err
	s.mu.Unlock()
	if state != serverRunning || cs == nil {
		return errorResult(fmt.Sprintf("MCP server %s is not running (%s)", s.spec.Name, why))
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var arguments any = json.RawMessage(argsOrEmptyObject(args))
	res, err := cs.CallTool(cctx, &mcp.CallToolParams{Name: name, Arguments: arguments})
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return errorResult("cancelled by the user")
	case cctx.Err() == context.DeadlineExceeded:
		return errorResult(fmt.Sprintf("MCP server %s did not answer within %s", s.spec.Name, timeout))
	case errors.Is(err, mcp.ErrConnectionClosed):
		s.mu.Lock()
		if s.state == serverRunning && !s.closing {
			s.state, s.err = serverStopped, s.explain(err).Error()
		}
		s.mu.Unlock()
		s.report(fmt.Sprintf("MCP server %s stopped: %s; its tools are no longer offered", s.spec.Name, s.explain(err)))
		return errorResult(fmt.Sprintf("MCP server %s stopped", s.spec.Name))
	default:
		return errorResult(fmt.Sprintf("MCP server %s: %v", s.spec.Name, err))
	}
	return session.ToolOutput{Content: resultText(res), IsError: res.IsError}
}

// close ends the connection (a stdio server gets its stdin closed, then
// SIGTERM, then is killed).
func (s *server) close() error {
	s.mu.Lock()
	s.closing = true
	cs := s.session
	if s.state == serverRunning {
		s.state = serverStopped
	}
	s.mu.Unlock()
	if cs == nil {
		return nil
	}
	return cs.Close()
}

// resultText turns a tool's result into text for the model: the text
// parts, a note for each image, audio or binary part, and the structured
// content when there is nothing else.
func resultText(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		switch c := c.(type) {
		case *mcp.TextContent:
			parts = append(parts, c.Text)
		case *mcp.ImageContent:
			parts = append(parts, fmt.Sprintf("[image %s, %d bytes]", c.MIMEType, len(c.Data)))
		case *mcp.AudioContent:
			parts = append(parts, fmt.Sprintf("[audio %s, %d bytes]", c.MIMEType, len(c.Data)))
		case *mcp.ResourceLink:
			parts = append(parts, fmt.Sprintf("[resource %s %s]", c.Name, c.URI))
		case *mcp.EmbeddedResource:
			if c.Resource != nil && c.Resource.Text != "" {
				parts = append(parts, c.Resource.Text)
			} else if c.Resource != nil {
				parts = append(parts, fmt.Sprintf("[resource %s, %d bytes]", c.Resource.URI, len(c.Resource.Blob)))
			}
		}
	}
	if len(parts) == 0 && res.StructuredContent != nil {
		if b, err := json.Marshal(res.StructuredContent); err == nil {
			parts = append(parts, string(b))
		}
	}
	return strings.Join(parts, "\n")
}

func argsOrEmptyObject(s string) string {
	if strings.TrimSpace(s) == "" {
		return "{}"
	}
	return s
}

// headerTransport adds headers to every request.
type headerTransport struct {
	base    http.RoundTripper
	headers http.Header
}

func (t *headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	for k, v := range t.headers {
		req.Header[k] = v
	}
	return t.base.RoundTrip(req)
}

var envRefRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces each ${NAME} in v with the variable from environ; an
// unset variable is an error, so a server never gets an empty credential.
func expandEnv(v string, environ []string) (string, error) {
	var missing []string
	out := envRefRE.ReplaceAllStringFunc(v, func(ref string) string {
		name := ref[2 : len(ref)-1]
		val := lookupEnv(environ, name)
		if val == "" {
			missing = append(missing, name)
		}
		return val
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("environment variable %s is not set", strings.Join(missing, ", "))
	}
	return out, nil
}

// lastLines is the last n non-empty lines of s, joined by " / ".
func lastLines(s string, n int) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}

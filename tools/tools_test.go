package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/parley-chat/parley/session"
)

// helperEnv makes this test binary an MCP server over stdio (see
// TestMain), so the stdio transport is tested against the real SDK.
const helperEnv = "PARLEY_TOOLS_TEST_MCP"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "stdio" {
		fmt.Fprintln(os.Stderr, "test server starting") // stderr must not reach Parley's screen
		if err := testServer().Run(context.Background(), &mcp.StdioTransport{}); err != nil {
			fmt.Fprintln(os.Stderr, "server:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if os.Getenv(helperEnv) == "broken" {
		fmt.Fprintln(os.Stderr, "cannot open the database: permission denied")
		os.Exit(3)
	}
	os.Exit(m.Run())
}

// testServer is an MCP server built with the SDK: greet answers, fail
// reports an error result, crash kills the server, secrets shows whether
// the server sees OPENAI_API_KEY.
func testServer() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "testsrv", Version: "1"}, nil)
	type greetIn struct {
		Name string `json:"name" jsonschema:"who to greet"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "greet", Description: "Greets someone"},
		func(ctx context.Context, req *mcp.CallToolRequest, in greetIn) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "hello " + in.Name + "\x1b]0;pwned\x07"}}}, nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "fail", Description: "Always fails"},
		func(ctx context.Context, req *mcp.CallToolRequest, in struct{}) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: "it broke"}}}, nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "crash", Description: "Kills the server"},
		func(ctx context.Context, req *mcp.CallToolRequest, in struct{}) (*mcp.CallToolResult, any, error) {
			os.Exit(7)
			return nil, nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "secrets", Description: "Reports the environment"},
		func(ctx context.Context, req *mcp.CallToolRequest, in struct{}) (*mcp.CallToolResult, any, error) {
			text := fmt.Sprintf("openai=%q parley=%q visible=%q", os.Getenv("OPENAI_API_KEY"), os.Getenv("PARLEY_API_KEY"), os.Getenv("VISIBLE"))
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}, nil, nil
		})
	return s
}

// environ is a test environment with keys a child must not see.
func environ(extra ...string) []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), "OPENAI_API_KEY=sk-openai-secret", "PARLEY_API_KEY=sk-parley-secret",
		"GITHUB_TOKEN=ghp_secret", "MY_SECRET=hush", "aws_secret=lower", "PROFILE_KEY=sk-profile-secret", "VISIBLE=yes", "HOME=" + os.TempDir()}, extra...)
}

func newRegistry(t *testing.T, o Options) *Registry {
	t.Helper()
	r, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// TestCommandToolCannotSeeKeys: a command tool's environment lacks the
// API keys Parley knows of and anything named like a secret, unless the
// tool lists it; the arguments arrive on stdin.
func TestCommandToolCannotSeeKeys(t *testing.T) {
	r := newRegistry(t, Options{
		Tools: []Spec{
			{Name: "env", Kind: KindCommand, Command: []string{"sh", "-c", "cat; echo; env | sort"}},
			{Name: "env_gh", Kind: KindCommand, Command: []string{"sh", "-c", "env | sort"}, Env: []string{"GITHUB_TOKEN"}},
		},
		Environ: environ(), Hidden: []string{"PARLEY_API_KEY", "OPENAI_API_KEY", "PROFILE_KEY"}, Secret: "sk-parley-secret",
	})
	out := r.Run(t.Context(), "env", `{"zone":"UTC"}`)
	if out.IsError || !strings.HasPrefix(out.Content, `{"zone":"UTC"}`) {
		t.Fatalf("output %+v", out)
	}
	for _, leak := range []string{"OPENAI_API_KEY", "PARLEY_API_KEY", "sk-openai-secret", "sk-parley-secret", "GITHUB_TOKEN", "MY_SECRET", "aws_secret", "PROFILE_KEY"} {
		if strings.Contains(out.Content, leak) {
			t.Errorf("the tool saw %s:\n%s", leak, out.Content)
		}
	}
	if !strings.Contains(out.Content, "VISIBLE=yes") {
		t.Errorf("an ordinary variable is missing:\n%s", out.Content)
	}
	out = r.Run(t.Context(), "env_gh", "")
	if !strings.Contains(out.Content, "GITHUB_TOKEN=ghp_secret") || strings.Contains(out.Content, "OPENAI_API_KEY") {
		t.Errorf("env = [GITHUB_TOKEN] did not pass just that:\n%s", out.Content)
	}
}

func TestCommandToolFailures(t *testing.T) {
	r := newRegistry(t, Options{Tools: []Spec{
		{Name: "fails", Kind: KindCommand, Command: []string{"sh", "-c", "echo partial; echo boom >&2; exit 3"}},
		{Name: "sleeps", Kind: KindCommand, Command: []string{"sh", "-c", "sleep 30 & wait"}, Timeout: 200 * time.Millisecond},
		{Name: "loud", Kind: KindCommand, Command: []string{"sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x"}, MaxOutput: 1024},
		{Name: "missing", Kind: KindCommand, Command: []string{"/nonexistent/tool"}},
		{Name: "escapes", Kind: KindCommand, Command: []string{"printf", `ok\033]52;c;aGk=\007 \033[2Jdone`}},
	}, Environ: environ()})
	out := r.Run(t.Context(), "fails", "{}")
	if !out.IsError || !strings.Contains(out.Content, "partial") || !strings.Contains(out.Content, "exited with status 3") || !strings.Contains(out.Content, "boom") {
		t.Errorf("failing command: %+v", out)
	}
	start := time.Now()
	out = r.Run(t.Context(), "sleeps", "{}")
	if !out.IsError || !strings.Contains(out.Content, "timed out after 200ms") {
		t.Errorf("slow command: %+v", out)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the timed-out command (and its child) held the run for %v", d)
	}
	out = r.Run(t.Context(), "loud", "{}")
	if out.IsError || !strings.HasPrefix(out.Content, strings.Repeat("x", 1024)+"\n[output cut at 1 KB: 98976 more bytes not shown]") {
		t.Errorf("loud command: %q…", out.Content[:min(len(out.Content), 1200)])
	}
	out = r.Run(t.Context(), "missing", "{}")
	if !out.IsError || !strings.Contains(out.Content, "cannot run /nonexistent/tool") {
		t.Errorf("missing command: %+v", out)
	}
	out = r.Run(t.Context(), "escapes", "{}")
	if strings.ContainsAny(out.Content, "\x1b\x07") || !strings.Contains(out.Content, "done") {
		t.Errorf("escape sequences survived: %q", out.Content)
	}
}

func TestCommandToolCancel(t *testing.T) {
	r := newRegistry(t, Options{Tools: []Spec{{Name: "sleeps", Kind: KindCommand, Command: []string{"sleep", "30"}}}, Environ: environ()})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan session.ToolOutput)
	go func() { done <- r.Run(ctx, "sleeps", "{}") }()
	time.AfterFunc(100*time.Millisecond, cancel)
	select {
	case out := <-done:
		if !out.IsError || !strings.Contains(out.Content, "cancelled") {
			t.Fatalf("cancelled run: %+v", out)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancelling did not stop the command")
	}
}

func TestValidateAgainstSchema(t *testing.T) {
	r := newRegistry(t, Options{Tools: []Spec{{Name: "t", Kind: KindManual,
		Parameters: json.RawMessage(`{"type":"object","properties":{"zone":{"type":"string"}},"required":["zone"]}`)}}})
	for args, ok := range map[string]bool{`{"zone":"UTC"}`: true, `{"zone":1}`: false, `{}`: false, `[1]`: false, `nope`: false} {
		if err := r.Validate("t", args); (err == nil) != ok {
			t.Errorf("Validate(%s) = %v", args, err)
		}
	}
	if _, err := New(Options{Tools: []Spec{{Name: "bad", Kind: KindManual, Parameters: json.RawMessage(`{"type":12}`)}}}); err == nil {
		t.Error("a broken schema was accepted")
	}
	if _, err := New(Options{Tools: []Spec{{Name: "a.b", Kind: KindManual}}}); err == nil {
		t.Error("a dotted name was accepted")
	}
}

// checkMCP drives one MCP server end to end: its tools listed as
// server.tool (server__tool on the wire), a call, an error result, the
// arguments validated against its schema, escape sequences removed.
func checkMCP(t *testing.T, r *Registry) {
	t.Helper()
	if !r.NeedsStart() {
		t.Fatal("servers start before they are needed")
	}
	r.Start(t.Context())
	if p := r.TakeProblems(); len(p) > 0 {
		t.Fatalf("problems: %v", p)
	}
	var names []string
	for _, d := range r.Definitions() {
		names = append(names, d.Name)
	}
	if strings.Join(names, " ") != "srv__crash srv__fail srv__greet srv__secrets" && strings.Join(names, " ") != "srv__greet srv__fail srv__crash srv__secrets" {
		t.Fatalf("definitions %v", names)
	}
	info, ok := r.Lookup("srv__greet")
	if !ok || info.Name != "srv.greet" || info.Source != "MCP server srv" {
		t.Fatalf("lookup %+v %v", info, ok)
	}
	if err := r.Validate("srv__greet", `{"name":7}`); err == nil {
		t.Error("arguments that break the server's schema were accepted")
	}
	out := r.Run(t.Context(), "srv__greet", `{"name":"Ada"}`)
	if out.IsError || out.Content != "hello Ada" {
		t.Fatalf("greet: %+v", out)
	}
	out = r.Run(t.Context(), "srv__fail", `{}`)
	if !out.IsError || out.Content != "it broke" {
		t.Fatalf("fail: %+v", out)
	}
	st := r.Servers()
	if len(st) != 1 || st[0].State != "running" || st[0].Tools != 4 {
		t.Fatalf("servers %+v", st)
	}
}

func TestMCPStdio(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r := newRegistry(t, Options{Servers: []ServerSpec{{Name: "srv", Command: []string{exe}}},
		Environ: environ(helperEnv + "=stdio"), Hidden: []string{"OPENAI_API_KEY"}})
	checkMCP(t, r)
	out := r.Run(t.Context(), "srv__secrets", `{}`)
	if out.Content != `openai="" parley="" visible="yes"` {
		t.Fatalf("the server's environment: %s", out.Content)
	}
	// The server dies: the call fails, the death is reported once, and
	// its tools are no longer offered.
	out = r.Run(t.Context(), "srv__crash", `{}`)
	if !out.IsError {
		t.Fatalf("crash: %+v", out)
	}
	deadline := time.Now().Add(10 * time.Second)
	var problems []string
	for len(problems) == 0 && time.Now().Before(deadline) {
		problems = append(problems, r.TakeProblems()...)
		time.Sleep(20 * time.Millisecond)
	}
	if len(problems) != 1 || !strings.Contains(problems[0], "MCP server srv stopped") {
		t.Fatalf("problems %v", problems)
	}
	if defs := r.Definitions(); len(defs) != 0 {
		t.Fatalf("a dead server's tools are still offered: %v", defs)
	}
	out = r.Run(t.Context(), "srv__greet", `{"name":"x"}`)
	if !out.IsError || !strings.Contains(out.Content, "not running") {
		t.Fatalf("a call to the dead server: %+v", out)
	}
	if p := r.TakeProblems(); len(p) != 0 {
		t.Fatalf("the death was reported again: %v", p)
	}
}

func TestMCPServerThatFailsToStart(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r := newRegistry(t, Options{
		Tools:   []Spec{{Name: "local", Kind: KindManual}},
		Servers: []ServerSpec{{Name: "broken", Command: []string{exe}}, {Name: "gone", Command: []string{"/nonexistent/mcp"}}},
		Environ: environ(helperEnv + "=broken"), StartTimeout: 10 * time.Second,
	})
	r.Start(t.Context())
	p := r.TakeProblems()
	if len(p) != 2 || !strings.Contains(strings.Join(p, "\n"), "MCP server broken did not start") ||
		!strings.Contains(strings.Join(p, "\n"), "permission denied") || !strings.Contains(strings.Join(p, "\n"), "MCP server gone did not start") {
		t.Fatalf("problems %v", p)
	}
	if defs := r.Definitions(); len(defs) != 1 || defs[0].Name != "local" {
		t.Fatalf("definitions %v", defs)
	}
	r.Start(t.Context())
	if p := r.TakeProblems(); len(p) != 0 {
		t.Fatalf("reported twice: %v", p)
	}
}

func TestMCPStreamableHTTP(t *testing.T) {
	srv := testServer()
	var mu sync.Mutex
	var auth []string
	handler := mcp.NewStreamableHTTPHandler(func(r *http.Request) *mcp.Server { return srv }, nil)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	r := newRegistry(t, Options{Servers: []ServerSpec{{Name: "srv", URL: ts.URL, Headers: map[string]string{"Authorization": "Bearer ${SRV_TOKEN}"}}},
		Environ: environ("SRV_TOKEN=tok-123")})
	checkMCP(t, r)
	mu.Lock()
	if len(auth) == 0 || auth[0] != "Bearer tok-123" {
		t.Fatalf("Authorization headers %q", auth)
	}
	mu.Unlock()
	// A header naming an unset variable is a start failure, not an
	// empty credential.
	r2 := newRegistry(t, Options{Servers: []ServerSpec{{Name: "srv", URL: ts.URL, Headers: map[string]string{"Authorization": "Bearer ${NOPE}"}}},
		Environ: environ()})
	r2.Start(t.Context())
	if p := r2.TakeProblems(); len(p) != 1 || !strings.Contains(p[0], "NOPE is not set") {
		t.Fatalf("problems %v", p)
	}
}

func TestChildEnv(t *testing.T) {
	got := ChildEnv([]string{"A=1", "X_API_KEY=k", "B_TOKEN=t", "C_SECRET=s", "D=has sk-secret-value inside", "E_TOKEN=e", "F"},
		[]string{"A"}, []string{"E_TOKEN"}, "sk-secret-value")
	if strings.Join(got, " ") != "E_TOKEN=e" {
		t.Fatalf("ChildEnv = %v", got)
	}
}

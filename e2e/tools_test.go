package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/parley-chat/parley/internal/demogw"
)

// getTimeConfig declares get_time, the tool of the acceptance checks: a
// command printing RESULT, with a string parameter zone.
const getTimeConfig = `# tools for the end-to-end tests
[[tools]]
name = "get_time"
description = "The current time in a zone"
command = ["sh", "-c", "echo RESULT"]
[tools.parameters]
type = "object"
[tools.parameters.properties.zone]
type = "string"
`

// writeFile writes text to name in a fresh directory and returns its path.
func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// toolCallChunk is a streamed chunk holding one whole tool call.
func toolCallChunk(index int, id, name, args string) string {
	b, _ := json.Marshal(map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": []any{map[string]any{
		"index": 0, "finish_reason": nil, "delta": map[string]any{"tool_calls": []any{map[string]any{
			"index": index, "id": id, "type": "function", "function": map[string]any{"name": name, "arguments": args}}}}}}})
	return string(b)
}

const toolCallsChunk = `{"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`

// toolResultsOf returns the tool messages of the i-th request the gateway
// got.
func (g *gateway) toolResultsOf(t *testing.T, i int) []map[string]any {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if i >= len(g.bodies) {
		t.Fatalf("request %d never came (%d requests)", i+1, len(g.bodies))
	}
	var body struct {
		Messages []map[string]any `json:"messages"`
	}
	if err := json.Unmarshal(g.bodies[i], &body); err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, m := range body.Messages {
		if m["role"] == "tool" {
			out = append(out, m)
		}
	}
	return out
}

// timeGateway asks for get_time {"zone":"UTC"} on odd requests and, on
// even ones, answers with the last tool result it got.
func timeGateway(t *testing.T) *gateway {
	var g *gateway
	g = newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n%2 == 1 {
			writeSSE(w, toolCallChunk(0, fmt.Sprintf("call_time_%d", n), "get_time", `{"zone":"UTC"}`), toolCallsChunk)
			return
		}
		res := g.toolResultsOf(t, n-1)
		content := ""
		if len(res) > 0 {
			content, _ = res[len(res)-1]["content"].(string)
		}
		writeSSE(w, textChunk("The tool said: "+strings.TrimSpace(content)+" (answer "+fmt.Sprint(n/2)+")"), stopChunk)
	})
	return g
}

// TestTUIToolApproval is the first acceptance check: the prompt names
// get_time and shows UTC; y runs the command, the next request carries
// its output as the result of the call's id, and the final answer
// appears. A second question asks again; s then allows the tool for
// the session, so a third question runs it without asking.
func TestTUIToolApproval(t *testing.T) {
	t.Parallel()
	g := timeGateway(t)
	conf := writeFile(t, "config.toml", getTimeConfig)
	p := startTUI(t, []string{keyEnv}, append([]string{"--config", conf}, openaiArgs(g.Server, "what time is it in UTC?")...)...)
	screen := p.waitFor(20*time.Second, "The model wants to run a tool", "get_time", `"zone": "UTC"`, "y allow once")
	if g.postCount() != 1 {
		t.Fatalf("%d requests before approval:\n%s", g.postCount(), screen)
	}
	p.keys("y")
	p.waitFor(20*time.Second, "The tool said: RESULT (answer 1)")
	res := g.toolResultsOf(t, 1)
	if len(res) != 1 || res[0]["tool_call_id"] != "call_time_1" || res[0]["content"] != "RESULT\n" {
		t.Fatalf("the second request's tool results: %v", res)
	}

	p.keys("-l", "and now?")
	p.keys("Enter")
	p.waitFor(20*time.Second, "The model wants to run a tool", "y allow once")
	p.keys("s")
	p.waitFor(20*time.Second, "The tool said: RESULT (answer 2)")

	p.keys("-l", "once more")
	p.keys("Enter")
	screen = p.waitFor(20*time.Second, "The tool said: RESULT (answer 3)")
	if strings.Contains(screen, "y allow once") {
		t.Fatalf("asked again after s:\n%s", screen)
	}
	if res := g.toolResultsOf(t, 5); res[len(res)-1]["tool_call_id"] != "call_time_5" || res[len(res)-1]["content"] != "RESULT\n" {
		t.Fatalf("the third question's result: %v", res)
	}
}

// TestTUIToolDenyWithReason: n, a reason and enter send the reason to
// the model as the call's result; nothing runs.
func TestTUIToolDenyWithReason(t *testing.T) {
	t.Parallel()
	g := timeGateway(t)
	marker := filepath.Join(t.TempDir(), "ran")
	conf := writeFile(t, "config.toml", strings.Replace(getTimeConfig, `"echo RESULT"`, `"echo RESULT; touch `+marker+`"`, 1))
	p := startTUI(t, []string{keyEnv}, append([]string{"--config", conf}, openaiArgs(g.Server, "what time is it?")...)...)
	p.waitFor(20*time.Second, "y allow once")
	p.keys("n")
	p.waitFor(10*time.Second, "Reason for the model")
	p.keys("-l", "it is bedtime")
	p.keys("Enter")
	p.waitFor(20*time.Second, "(answer 1)", "get_time denied: it is bedtime")
	res := g.toolResultsOf(t, 1)
	if len(res) != 1 || res[0]["tool_call_id"] != "call_time_1" || !strings.Contains(fmt.Sprint(res[0]["content"]), "it is bedtime") {
		t.Fatalf("the denial sent: %v", res)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the denied command ran")
	}
}

// TestPrintToolsAuto is the second acceptance check: with get_time
// allow-listed, --tools auto runs the loop without a prompt; --tools ask
// without a terminal is a usage error.
func TestPrintToolsAuto(t *testing.T) {
	t.Parallel()
	g := timeGateway(t)
	conf := writeFile(t, "config.toml", "allow = [\"get_time\"]\n"+getTimeConfig)
	r := parley(t, runOpts{}, g.args("--config", conf, "-p", "what time is it?", "--tools", "auto")...)
	if r.code != 0 || r.stdout != "The tool said: RESULT (answer 1)\n" {
		t.Fatalf("exit %d\nstdout %q\nstderr %s", r.code, r.stdout, r.stderr)
	}
	if res := g.toolResultsOf(t, 1); len(res) != 1 || res[0]["tool_call_id"] != "call_time_1" || res[0]["content"] != "RESULT\n" {
		t.Fatalf("tool results %v", res)
	}
	if !strings.Contains(r.stderr, "parley: running get_time (allow list)") {
		t.Errorf("stderr %q", r.stderr)
	}

	// JSONL adds the tool_result event.
	r = parley(t, runOpts{}, g.args("--config", conf, "-p", "what time is it?", "--tools", "auto", "--output", "jsonl")...)
	if r.code != 0 || !strings.Contains(r.stdout, `{"type":"tool_result","id":"call_time_3","name":"get_time","content":"RESULT\n","error":false}`) {
		t.Fatalf("exit %d, jsonl:\n%s", r.code, r.stdout)
	}

	// ask needs someone to ask.
	before := g.postCount()
	r = parley(t, runOpts{}, g.args("--config", conf, "-p", "what time is it?", "--tools", "ask")...)
	if r.code != 2 || !strings.Contains(r.stderr, "--tools ask needs a terminal") || !strings.Contains(r.stderr, "--tools auto with an allow list") ||
		!strings.Contains(r.stderr, "--tools none") || g.postCount() != before {
		t.Fatalf("--tools ask without a terminal: exit %d, stderr %q", r.code, r.stderr)
	}

	// Without the allow list, auto denies and says so; the model sees why.
	conf = writeFile(t, "config.toml", getTimeConfig)
	r = parley(t, runOpts{}, g.args("--config", conf, "-p", "what time is it?", "--tools", "auto")...)
	if r.code != 0 || !strings.Contains(r.stderr, "get_time not run: it is not in the allow list") ||
		!strings.Contains(r.stdout, "not in the allow list") {
		t.Fatalf("exit %d\nstdout %q\nstderr %s", r.code, r.stdout, r.stderr)
	}
}

// TestCommandToolCannotSeeKeys: the command's environment lacks
// PARLEY_API_KEY, OPENAI_API_KEY and the profile's own key variable.
func TestCommandToolCannotSeeKeys(t *testing.T) {
	t.Parallel()
	g := newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			writeSSE(w, toolCallChunk(0, "call_env", "dump_env", `{}`), toolCallsChunk)
			return
		}
		writeSSE(w, textChunk("done"), stopChunk)
	})
	conf := writeFile(t, "config.toml", fmt.Sprintf(`allow = ["dump_env"]
[providers.gw]
dialect = "openai"
base_url = "%s/v1"
api_key_env = "GW_KEY"
default_model = "M"

[[tools]]
name = "dump_env"
command = ["sh", "-c", "env"]
`, g.URL))
	r := parley(t, runOpts{env: []string{"OPENAI_API_KEY=sk-openai-e2e-0000", "GW_KEY=sk-gw-e2e-1111", "SHOWN=yes"}},
		"--config", conf, "-p", "dump", "--tools", "auto")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	res := g.toolResultsOf(t, 1)
	env := fmt.Sprint(res[0]["content"])
	for _, leak := range []string{"PARLEY_API_KEY", "OPENAI_API_KEY", "GW_KEY", testKey, "sk-openai-e2e-0000", "sk-gw-e2e-1111"} {
		if strings.Contains(env, leak) {
			t.Errorf("the command saw %s:\n%s", leak, env)
		}
	}
	if !strings.Contains(env, "SHOWN=yes") {
		t.Errorf("an ordinary variable is missing:\n%s", env)
	}
}

// TestTUIDemoWeather is the third acceptance check: parley --demo, asked
// about the weather in Rome, shows the approval prompt, then answers from
// the demo tool's result for Rome.
func TestTUIDemoWeather(t *testing.T) {
	t.Parallel()
	want, err := demogw.Weather(context.Background(), `{"location":"Rome"}`)
	if err != nil {
		t.Fatal(err)
	}
	var w struct {
		Conditions   string `json:"conditions"`
		TemperatureC int    `json:"temperature_c"`
	}
	_ = json.Unmarshal([]byte(want), &w)
	p := startTUI(t, []string{"PARLEY_DEMO_SPEED=instant"}, "--demo", "--theme", "dark")
	p.waitFor(15*time.Second, "Ask anything")
	p.keys("-l", "What's the weather in Rome?")
	p.keys("Enter")
	p.waitFor(20*time.Second, "The model wants to run a tool", "get_weather", "built-in demo", `"location": "Rome"`)
	p.keys("y")
	screen := p.waitFor(20*time.Second, "Weather in Rome", "In short:")
	for _, s := range []string{"temperature_c", w.Conditions, fmt.Sprint(w.TemperatureC), "✓ get_weather"} {
		if !strings.Contains(screen, s) {
			t.Fatalf("the answer lacks %q:\n%s", s, screen)
		}
	}
}

// mcpHelperEnv makes the e2e test binary an MCP server on stdio (see
// TestMain), which the parley binary starts from a config's [[mcp]].
const mcpHelperEnv = "PARLEY_E2E_MCP_SERVER"

// runMCPHelper serves greet over stdio until stdin closes.
func runMCPHelper() int {
	if err := greetServer().Run(context.Background(), &mcp.StdioTransport{}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// greetServer is an MCP server built with the SDK, with one tool.
func greetServer() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "e2e", Version: "1"}, nil)
	type in struct {
		Name string `json:"name"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "greet", Description: "Greets someone"},
		func(ctx context.Context, req *mcp.CallToolRequest, in in) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "hello " + in.Name}}}, nil, nil
		})
	return s
}

// TestPrintMCP: print mode calls an MCP server's tool, over stdio (the
// test binary as the server) and over streamable HTTP on loopback; a
// server that cannot start is reported once and the answer still comes.
func TestPrintMCP(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	httpSrv := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return greetServer() }, nil))
	t.Cleanup(httpSrv.Close)
	for _, tc := range []struct{ name, server string }{
		{"stdio", fmt.Sprintf("command = [%q]", exe)},
		{"http", fmt.Sprintf("url = %q", httpSrv.URL)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n == 1 {
					writeSSE(w, toolCallChunk(0, "call_greet", "hi__greet", `{"name":"Ada"}`), toolCallsChunk)
					return
				}
				writeSSE(w, textChunk("greeted"), stopChunk)
			})
			conf := writeFile(t, "config.toml", fmt.Sprintf("allow = [\"hi.*\"]\n\n[[mcp]]\nname = \"hi\"\n%s\n\n[[mcp]]\nname = \"gone\"\ncommand = [\"/nonexistent/mcp-server\"]\n", tc.server))
			r := parley(t, runOpts{env: []string{mcpHelperEnv + "=1"}}, g.args("--config", conf, "-p", "greet Ada", "--tools", "auto")...)
			if r.code != 0 || r.stdout != "greeted\n" {
				t.Fatalf("exit %d\nstdout %q\nstderr %s", r.code, r.stdout, r.stderr)
			}
			if res := g.toolResultsOf(t, 1); len(res) != 1 || res[0]["tool_call_id"] != "call_greet" || res[0]["content"] != "hello Ada" {
				t.Fatalf("tool results %v", res)
			}
			if strings.Count(r.stderr, "MCP server gone did not start") != 1 || !strings.Contains(r.stderr, "running hi.greet (allow list)") {
				t.Fatalf("stderr %s", r.stderr)
			}
			var body struct {
				Tools []struct {
					Function struct {
						Name string `json:"name"`
					} `json:"function"`
				} `json:"tools"`
			}
			g.mu.Lock()
			_ = json.Unmarshal(g.bodies[0], &body)
			g.mu.Unlock()
			if len(body.Tools) != 1 || body.Tools[0].Function.Name != "hi__greet" {
				t.Fatalf("tools offered %+v", body.Tools)
			}
		})
	}
}

// TestTUIMCPStartsWithTheFirstPrompt: the chat starts the MCP servers
// when the first prompt needs their tools, reports the one that cannot
// start once in the transcript, and calls the other's tool after the
// approval prompt; /tools lists it with its source.
func TestTUIMCPStartsWithTheFirstPrompt(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var g *gateway
	g = newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			writeSSE(w, toolCallChunk(0, "call_greet", "hi__greet", `{"name":"Ada"}`), toolCallsChunk)
			return
		}
		res := g.toolResultsOf(t, n-1)
		writeSSE(w, textChunk(fmt.Sprintf("The server said %v.", res[len(res)-1]["content"])), stopChunk)
	})
	conf := writeFile(t, "config.toml", fmt.Sprintf("[[mcp]]\nname = \"hi\"\ncommand = [%q]\n\n[[mcp]]\nname = \"gone\"\ncommand = [\"/nonexistent/mcp-server\"]\n", exe))
	p := startTUI(t, []string{keyEnv, mcpHelperEnv + "=1"}, append([]string{"--config", conf}, openaiArgs(g.Server, "greet Ada")...)...)
	p.waitFor(30*time.Second, "The model wants to run a tool", "hi.greet", "MCP server hi", `"name": "Ada"`)
	p.keys("y")
	screen := p.waitFor(20*time.Second, "The server said hello Ada.")
	if strings.Count(screen, "MCP server gone did not start") != 1 {
		t.Fatalf("the failed server is not reported once:\n%s", screen)
	}
	p.keys("-l", "/tools")
	p.keys("Enter")
	p.waitFor(10*time.Second, "Tools · mode ask", "hi.greet", "MCP server hi · mcp · asks first", "gone.*", "MCP server · failed")
}

// TestTUIToolEditArguments: e opens the arguments in $EDITOR; an edit
// that breaks the tool's schema is refused, a good one is what the call
// runs with, and the model is told the arguments were edited.
func TestTUIToolEditArguments(t *testing.T) {
	t.Parallel()
	g := timeGateway(t)
	dir := t.TempDir()
	editor := filepath.Join(dir, "editor.sh")
	// The first edit gives zone a number (refused), the second a string.
	script := "#!/bin/sh\nif [ -e " + dir + "/once ]; then echo '{\"zone\":\"CET\"}' > \"$1\"; else touch " + dir + "/once; echo '{\"zone\":5}' > \"$1\"; fi\n"
	if err := os.WriteFile(editor, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	conf := writeFile(t, "config.toml", getTimeConfig)
	p := startTUI(t, []string{keyEnv, "EDITOR=" + editor, "VISUAL="}, append([]string{"--config", conf}, openaiArgs(g.Server, "what time is it?")...)...)
	p.waitFor(20*time.Second, "y allow once")
	p.keys("e")
	p.waitFor(20*time.Second, "does not match the tool's parameters")
	p.keys("e")
	p.waitFor(20*time.Second, `"zone": "CET"`, "(edited)")
	p.keys("y")
	p.waitFor(20*time.Second, "(answer 1)", "run with edited arguments")
	res := g.toolResultsOf(t, 1)
	if len(res) != 1 || !strings.Contains(fmt.Sprint(res[0]["content"]), `edited by the user: {"zone":"CET"}`) {
		t.Fatalf("the edited call's result: %v", res)
	}
}

// TestPrintAsksOnTheTerminal: print mode with stdin a terminal asks about
// each call there: y runs it, n with a reason denies it.
func TestPrintAsksOnTheTerminal(t *testing.T) {
	t.Parallel()
	g := timeGateway(t)
	conf := writeFile(t, "config.toml", getTimeConfig)
	p := startTUI(t, []string{keyEnv}, g.args("--config", conf, "-p", "what time is it?", "--tools", "ask")...)
	p.waitFor(20*time.Second, "wants to run get_time (config) with:", `"zone": "UTC"`, "[y] allow once")
	p.keys("y", "Enter")
	p.waitFor(20*time.Second, "The tool said: RESULT (answer 1)")
	if res := g.toolResultsOf(t, 1); len(res) != 1 || res[0]["content"] != "RESULT\n" {
		t.Fatalf("tool results %v", res)
	}

	p = startTUI(t, []string{keyEnv}, g.args("--config", conf, "-p", "what time is it?", "--tools", "ask")...)
	p.waitFor(20*time.Second, "[y] allow once")
	p.keys("n", "Enter")
	p.waitFor(10*time.Second, "reason for the model")
	p.keys("-l", "no clocks today")
	p.keys("Enter")
	p.waitFor(20*time.Second, "get_time denied: no clocks today", "(answer 2)")
	if res := g.toolResultsOf(t, 3); !strings.Contains(fmt.Sprint(res[len(res)-1]["content"]), "no clocks today") {
		t.Fatalf("the denial sent: %v", res)
	}
}

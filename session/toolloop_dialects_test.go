package session_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/provider/cuadra"
	"github.com/parley-chat/parley/provider/gemini"
	"github.com/parley-chat/parley/provider/openai"
	"github.com/parley-chat/parley/session"
)

// wireGateway is a loopback gateway of one dialect: answer writes the
// body of POST number n (1-based) and bodies keeps what each POST sent.
type wireGateway struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies []map[string]any
}

func newWireGateway(t *testing.T, answer func(w http.ResponseWriter, n int)) *wireGateway {
	g := &wireGateway{}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body map[string]any
		if err := json.Unmarshal(b, &body); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		g.mu.Lock()
		g.bodies = append(g.bodies, body)
		n := len(g.bodies)
		g.mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		answer(w, n)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *wireGateway) body(t *testing.T, i int) map[string]any {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if i >= len(g.bodies) {
		t.Fatalf("request %d never came (%d requests)", i+1, len(g.bodies))
	}
	return g.bodies[i]
}

func sseData(w http.ResponseWriter, payloads ...string) {
	for _, p := range payloads {
		fmt.Fprintf(w, "data: %s\n\n", p)
	}
}

// list reads a JSON array field as objects.
func list(v any) []map[string]any {
	arr, _ := v.([]any)
	out := make([]map[string]any, 0, len(arr))
	for _, e := range arr {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// runToolLoop sends a prompt on prov with the rig's tools all allowed and
// drives the loop to its end; it returns the final answer.
func runToolLoop(t *testing.T, prov provider.Provider) string {
	t.Helper()
	r := newLoopRigOn(t, prov, session.ToolLoopOptions{Policy: session.NewToolPolicy([]string{"*"})})
	if _, err := r.chat.Send(t.Context(), "what time is it in UTC?"); err != nil {
		t.Fatal(err)
	}
	r.settle()
	if tt := r.chat.Turn(); tt.Err != nil {
		t.Fatalf("the last answer failed: %v", tt.Err)
	}
	return r.chat.Turn().Text()
}

// TestTwoRoundToolLoopOpenAI: two parallel calls, then one more, then
// text; every result goes back as role "tool" with its tool_call_id,
// after the assistant message that made the calls.
func TestTwoRoundToolLoopOpenAI(t *testing.T) {
	chunk := func(delta string, finish string) string {
		f := "null"
		if finish != "" {
			f = `"` + finish + `"`
		}
		return `{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":` + delta + `,"finish_reason":` + f + `}]}`
	}
	g := newWireGateway(t, func(w http.ResponseWriter, n int) {
		switch n {
		case 1:
			sseData(w,
				chunk(`{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"echo","arguments":"{\"zone\":"}}]}`, ""),
				chunk(`{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{\"zone\":\"UTC\"}"}}]}`, ""),
				chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"\"UTC\"}"}}]}`, ""),
				chunk(`{}`, "tool_calls"))
		case 2:
			sseData(w, chunk(`{"tool_calls":[{"index":0,"id":"call_c","type":"function","function":{"name":"echo","arguments":"{}"}}]}`, ""),
				chunk(`{}`, "tool_calls"))
		default:
			sseData(w, chunk(`{"content":"It is RESULT."}`, ""), chunk(`{}`, "stop"))
		}
		io.WriteString(w, "data: [DONE]\n\n")
	})
	p, err := openai.New(provider.Options{BaseURL: g.srv.URL + "/v1", APIKey: "sk-loopback"})
	if err != nil {
		t.Fatal(err)
	}
	if got := runToolLoop(t, p); got != "It is RESULT." {
		t.Fatalf("final answer %q", got)
	}
	msgs := list(g.body(t, 1)["messages"])
	if len(msgs) != 4 {
		t.Fatalf("second request messages %v", msgs)
	}
	if calls := list(msgs[1]["tool_calls"]); msgs[1]["role"] != "assistant" || len(calls) != 2 || calls[0]["id"] != "call_a" || calls[1]["id"] != "call_b" {
		t.Fatalf("assistant message %v", msgs[1])
	}
	if msgs[2]["role"] != "tool" || msgs[2]["tool_call_id"] != "call_a" || msgs[2]["content"] != `echo {"zone":"UTC"}` ||
		msgs[3]["role"] != "tool" || msgs[3]["tool_call_id"] != "call_b" || msgs[3]["content"] != "RESULT\n" {
		t.Fatalf("tool results %v %v", msgs[2], msgs[3])
	}
	msgs = list(g.body(t, 2)["messages"])
	if last := msgs[len(msgs)-1]; len(msgs) != 6 || last["role"] != "tool" || last["tool_call_id"] != "call_c" || last["content"] != "echo {}" {
		t.Fatalf("third request messages %v", msgs)
	}
	if tools := list(g.body(t, 0)["tools"]); len(tools) != 4 {
		t.Fatalf("tools offered %v", tools)
	}
}

// TestTwoRoundToolLoopCuadra: the native dialect's toolCalls, results as
// role "tool" with toolCallId, on the gateway's chat.
func TestTwoRoundToolLoopCuadra(t *testing.T) {
	g := newWireGateway(t, func(w http.ResponseWriter, n int) {
		switch n {
		case 1:
			sseData(w, `{"id":"chat_1","chatId":"chat_1","toolCalls":[{"index":0,"id":"call_a","type":"function","function":{"name":"echo","arguments":"{\"zone\":\"UTC\"}"}}],"finished":false}`,
				`{"id":"chat_1","chatId":"chat_1","delta":"","finished":true,"finishReason":"tool_calls"}`)
		case 2:
			sseData(w, `{"id":"chat_1","chatId":"chat_1","toolCalls":[{"index":0,"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{}"}}],"finished":false}`,
				`{"id":"chat_1","chatId":"chat_1","delta":"","finished":true,"finishReason":"tool_calls"}`)
		default:
			sseData(w, `{"id":"chat_1","chatId":"chat_1","delta":"It is RESULT.","finished":false}`,
				`{"id":"chat_1","chatId":"chat_1","delta":"","finished":true,"finishReason":"stop"}`)
		}
		io.WriteString(w, "data: [DONE]\n\n")
	})
	p, err := cuadra.New(provider.Options{BaseURL: g.srv.URL + "/v1", APIKey: "sk-loopback"})
	if err != nil {
		t.Fatal(err)
	}
	if got := runToolLoop(t, p); got != "It is RESULT." {
		t.Fatalf("final answer %q", got)
	}
	for i, want := range []struct{ id, content string }{{"call_a", `echo {"zone":"UTC"}`}, {"call_b", "RESULT\n"}} {
		b := g.body(t, i+1)
		msgs := list(b["messages"])
		last := msgs[len(msgs)-1]
		if b["chatId"] != "chat_1" || last["role"] != "tool" || last["toolCallId"] != want.id || last["content"] != want.content {
			t.Fatalf("request %d: %v", i+2, b)
		}
		if _, ok := last["tool_call_id"]; ok {
			t.Fatalf("request %d uses the OpenAI field name: %v", i+2, last)
		}
	}
	if tools := list(g.body(t, 0)["tools"]); len(tools) != 4 {
		t.Fatalf("tools offered %v", g.body(t, 0)["tools"])
	}
}

// TestTwoRoundToolLoopGemini: functionCall parts come back with their
// thought signatures, results go as functionResponse parts of a user
// content, carrying the call's id when Gemini gave one.
func TestTwoRoundToolLoopGemini(t *testing.T) {
	g := newWireGateway(t, func(w http.ResponseWriter, n int) {
		switch n {
		case 1: // a call without an id
			sseData(w, `{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"echo","args":{"zone":"UTC"}},"thoughtSignature":"SIG1"}]},"finishReason":"STOP"}]}`)
		case 2: // a call with one
			sseData(w, `{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"id":"fc-2","name":"get_time","args":{}},"thoughtSignature":"SIG2"}]},"finishReason":"STOP"}]}`)
		default:
			sseData(w, `{"candidates":[{"content":{"role":"model","parts":[{"text":"It is RESULT."}]},"finishReason":"STOP"}]}`)
		}
	})
	p, err := gemini.New(provider.Options{BaseURL: g.srv.URL + "/v1beta", APIKey: "gk-loopback"})
	if err != nil {
		t.Fatal(err)
	}
	if got := runToolLoop(t, p); got != "It is RESULT." {
		t.Fatalf("final answer %q", got)
	}
	contents := list(g.body(t, 2)["contents"])
	if len(contents) != 5 {
		t.Fatalf("third request contents %v", contents)
	}
	first, second := list(contents[1]["parts"])[0], list(contents[3]["parts"])[0]
	fc1, _ := first["functionCall"].(map[string]any)
	fc2, _ := second["functionCall"].(map[string]any)
	if contents[1]["role"] != "model" || first["thoughtSignature"] != "SIG1" || fc1["name"] != "echo" || fc1["id"] != nil ||
		second["thoughtSignature"] != "SIG2" || fc2["id"] != "fc-2" {
		t.Fatalf("model turns %v %v", contents[1], contents[3])
	}
	r1 := list(contents[2]["parts"])[0]["functionResponse"].(map[string]any)
	r2 := list(contents[4]["parts"])[0]["functionResponse"].(map[string]any)
	resp1, _ := r1["response"].(map[string]any)
	resp2, _ := r2["response"].(map[string]any)
	if contents[2]["role"] != "user" || r1["name"] != "echo" || r1["id"] != nil || !strings.Contains(fmt.Sprint(resp1["result"]), `echo {"zone":"UTC"}`) ||
		r2["name"] != "get_time" || r2["id"] != "fc-2" || resp2["result"] != "RESULT\n" {
		t.Fatalf("function responses %v %v", r1, r2)
	}
	decls := list(list(g.body(t, 0)["tools"])[0]["functionDeclarations"])
	if len(decls) != 4 {
		t.Fatalf("tools offered %v", g.body(t, 0)["tools"])
	}
}

package openai

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/parley-chat/parley/provider"
)

// small are budget limits small enough to reach quickly.
var small = provider.BudgetLimits{Text: 64 << 10, Call: 16 << 10, Args: 64 << 10, Calls: 100}

// feed runs chunks through a decoder and returns what it emitted and the
// error that ended it (nil after Done).
func feed(chunks ...string) ([]provider.Event, *provider.APIError) {
	var evs []provider.Event
	d := newDecoder(func(ev provider.Event) { evs = append(evs, ev) })
	d.budget.Limits = small
	for _, c := range chunks {
		if ae := d.chunk([]byte(c)); ae != nil {
			return evs, d.fail(ae)
		}
	}
	return evs, d.end(true)
}

func argsChunk(index int, args string) string {
	b, _ := json.Marshal(map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]any{
		"tool_calls": []any{map[string]any{"index": index, "id": fmt.Sprintf("call_%d", index),
			"function": map[string]any{"name": "write", "arguments": args}}}}}}})
	return string(b)
}

// TestToolArgumentBudget: arguments streamed across many events stop at
// the per-call and per-answer budgets with a clear error; the text before
// is kept and the cut-off call is never emitted.
func TestToolArgumentBudget(t *testing.T) {
	kb := strings.Repeat("a", 1<<10)
	one := []string{`{"choices":[{"index":0,"delta":{"content":"before"}}]}`}
	for i := 0; i <= small.Call>>10; i++ {
		one = append(one, argsChunk(0, kb))
	}
	evs, ae := feed(one...)
	if ae == nil || !strings.Contains(ae.Message, `arguments of tool call "write" passed 16 KB`) || !ae.Partial {
		t.Fatalf("one call: %v", ae)
	}
	for _, ev := range evs {
		if _, ok := ev.(provider.ToolCallEvent); ok {
			t.Fatal("a cut-off tool call was emitted")
		}
	}
	if d, ok := evs[0].(provider.TextDelta); !ok || d.Text != "before" {
		t.Fatalf("the text before was lost: %v", evs)
	}
	var many []string
	for i := 0; i <= small.Args>>10; i++ {
		many = append(many, argsChunk(i%8, kb))
	}
	if _, ae := feed(many...); ae == nil || !strings.Contains(ae.Message, "tool-call arguments passed 64 KB") {
		t.Fatalf("many calls: %v", ae)
	}
}

// TestAnswerTextBudget: an answer's text and reasoning together stop at
// the text budget; what came before is kept.
func TestAnswerTextBudget(t *testing.T) {
	kb := strings.Repeat("x", 1<<10)
	var chunks []string
	for i := 0; i <= small.Text>>10; i++ {
		field := "content"
		if i%2 == 1 {
			field = "reasoning_content"
		}
		chunks = append(chunks, fmt.Sprintf(`{"choices":[{"index":0,"delta":{%q:%q}}]}`, field, kb))
	}
	evs, ae := feed(chunks...)
	if ae == nil || ae.Title != "answer too large" || !ae.Partial || len(evs) != small.Text>>10 {
		t.Fatalf("%d events, err %v", len(evs), ae)
	}
}

// TestToolCallCount: more tool calls than the budget allows in one answer is an
// error, not an endless list.
func TestToolCallCount(t *testing.T) {
	if _, ae := feed(manyCallsChunk(small.Calls)); ae != nil {
		t.Fatalf("%d calls: %v", small.Calls, ae)
	}
	if _, ae := feed(manyCallsChunk(small.Calls + 1)); ae == nil || !strings.Contains(ae.Message, "more than 100 tool calls") {
		t.Fatalf("too many calls: %v", ae)
	}
}

// manyCallsChunk is one event that starts n tool calls.
func manyCallsChunk(n int) string {
	var b strings.Builder
	b.WriteString(`{"choices":[{"index":0,"delta":{"tool_calls":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"index":%d,"id":"c%d","function":{"name":"f","arguments":"{}"}}`, i, i)
	}
	b.WriteString(`]},"finish_reason":"tool_calls"}]}`)
	return b.String()
}

// BenchmarkToolCallAssembly: one event with as many tool calls as an
// answer may have; assembling them is linear in their number.
func BenchmarkToolCallAssembly(b *testing.B) {
	chunk := []byte(manyCallsChunk(provider.MaxToolCalls))
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		d := newDecoder(func(provider.Event) {})
		if ae := d.chunk(chunk); ae != nil {
			b.Fatal(ae)
		}
	}
}

// TestUnexpectedShapes: valid JSON of an unexpected shape fails the
// answer only where the answer needs the value, and says "unexpected".
func TestUnexpectedShapes(t *testing.T) {
	text := `{"choices":[{"index":0,"delta":{"content":"hi"}}]}`
	stop := `{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`
	tests := []struct {
		name   string
		chunks []string
		want   string // "" = no error
		usage  int
	}{
		{"float token counts", []string{text, `{"choices":[],"usage":{"prompt_tokens":5.0,"completion_tokens":7.9,"total_tokens":"13"}}`, stop}, "", 13},
		{"an empty list as an event", []string{text, `[]`, stop}, "", 0},
		{"a number as an event", []string{`42`, text, stop}, "", 0},
		{"citations of another shape", []string{text, `{"citations":"x","choices":[]}`, stop}, "", 0},
		{"a float index", []string{`{"choices":[{"index":0.0,"delta":{"content":"hi"}}]}`, stop}, "", 0},
		{"content as a number", []string{`{"choices":[{"index":0,"delta":{"content":42}}]}`}, "unexpected number where choices.delta.content should be a string", 0},
		{"choices as an object", []string{`{"choices":{"index":0}}`}, "unexpected object where choices should be a list", 0},
		{"not JSON", []string{`{"choices":`}, "not valid JSON", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, ae := feed(tt.chunks...)
			if tt.want == "" {
				if ae != nil {
					t.Fatalf("err %v", ae)
				}
				var text string
				for _, ev := range evs {
					switch e := ev.(type) {
					case provider.TextDelta:
						text += e.Text
					case provider.Usage:
						if e.TotalTokens != tt.usage {
							t.Errorf("usage %+v", e)
						}
					}
				}
				if text != "hi" {
					t.Errorf("text %q", text)
				}
				return
			}
			if ae == nil || !strings.Contains(ae.Error(), tt.want) {
				t.Fatalf("err %v, want %q", ae, tt.want)
			}
		})
	}
	// An answer that never finishes says what it ignored.
	d := newDecoder(func(provider.Event) {})
	d.chunk([]byte(`[1,2,3]`))
	if ae := d.end(false); ae == nil || !strings.Contains(ae.Message, "unexpected shape was ignored: [1,2,3]") {
		t.Fatalf("ended early: %v", ae)
	}
}

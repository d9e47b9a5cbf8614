package gemini

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-chat/parley/provider"
)

// small are budget limits small enough to reach quickly.
var small = provider.BudgetLimits{Text: 64 << 10, Call: 16 << 10, Args: 64 << 10, Calls: 100}

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

func partsChunk(parts ...any) string {
	b, _ := json.Marshal(map[string]any{"candidates": []any{map[string]any{"content": map[string]any{"role": "model", "parts": parts}}}})
	return string(b)
}

func partialArgs(pa ...map[string]any) map[string]any {
	return map[string]any{"functionCall": map[string]any{"partialArgs": pa, "willContinue": true}}
}

// TestStreamedArgumentBudget: streamed function-call arguments stop at
// the per-call budget, however they grow: long strings, or array indexes
// far apart that pad the array; and a path nested past maxPathDepth is an
// error rather than a recursion as deep as the gateway likes.
func TestStreamedArgumentBudget(t *testing.T) {
	open := partsChunk(map[string]any{"text": "before"}, map[string]any{"functionCall": map[string]any{"name": "write", "willContinue": true}})
	kb := strings.Repeat("a", 1<<10)
	chunks := []string{open}
	for i := 0; i <= small.Call>>10; i++ {
		chunks = append(chunks, partsChunk(partialArgs(map[string]any{"jsonPath": "$.content", "stringValue": kb, "willContinue": true})))
	}
	evs, ae := feed(chunks...)
	if ae == nil || !strings.Contains(ae.Message, `arguments of tool call "write" passed 16 KB`) || !ae.Partial {
		t.Fatalf("long string: %v", ae)
	}
	if d, ok := evs[0].(provider.TextDelta); !ok || d.Text != "before" {
		t.Fatalf("the text before was lost: %v", evs)
	}
	chunks = []string{open}
	for i := 0; i < 3; i++ {
		chunks = append(chunks, partsChunk(partialArgs(map[string]any{"jsonPath": fmt.Sprintf("$.k%d[2000]", i), "boolValue": true})))
	}
	if _, ae := feed(chunks...); ae == nil || ae.Title != "answer too large" {
		t.Fatalf("padded arrays: %v", ae)
	}
	deep := "$" + strings.Repeat(".a", maxPathDepth+1)
	if _, ae := feed(open, partsChunk(partialArgs(map[string]any{"jsonPath": deep, "stringValue": "x"}))); ae == nil || !strings.Contains(ae.Message, "nest deeper than") {
		t.Fatalf("deep path: %v", ae)
	}
}

// TestGeminiTextBudget: text and thoughts together stop at the text budget.
func TestGeminiTextBudget(t *testing.T) {
	kb := strings.Repeat("x", 1<<10)
	var chunks []string
	for i := 0; i <= small.Text>>10; i++ {
		chunks = append(chunks, partsChunk(map[string]any{"text": kb, "thought": i%2 == 1}))
	}
	if evs, ae := feed(chunks...); ae == nil || ae.Title != "answer too large" || len(evs) != small.Text>>10 {
		t.Fatalf("%d events, %v", len(evs), ae)
	}
}

// TestGeminiUnexpectedShapes: JSON of an unexpected shape is ignored where
// the answer does not need it and named where it does.
func TestGeminiUnexpectedShapes(t *testing.T) {
	text := partsChunk(map[string]any{"text": "hi"})
	stop := `{"candidates":[{"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":3.0,"candidatesTokenCount":"4","totalTokenCount":7.2}}`
	evs, ae := feed(text, `[]`, `{"candidates":[],"modelVersion":7}`, stop)
	if ae != nil {
		t.Fatal(ae)
	}
	var usage *provider.Usage
	for _, ev := range evs {
		if u, ok := ev.(provider.Usage); ok {
			usage = &u
		}
	}
	if usage == nil || usage.InputTokens != 3 || usage.OutputTokens != 4 || usage.TotalTokens != 7 {
		t.Errorf("usage %+v", usage)
	}
	if _, ae := feed(`{"candidates":[{"content":{"parts":[{"text":5}]}}]}`); ae == nil || !strings.Contains(ae.Message, "unexpected number where candidates.content.parts.text should be a string") {
		t.Errorf("text as a number: %v", ae)
	}
}

// TestGeminiModelsPaginationBudget: a model list whose pagination never
// ends stops at MaxModels with a clear error.
func TestGeminiModelsPaginationBudget(t *testing.T) {
	page := 0
	g := newGateway(t, func(w http.ResponseWriter, r *http.Request) {
		page++
		var b strings.Builder
		b.WriteString(`{"models":[`)
		for i := 0; i < 5000; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"name":"models/m%d-%d"}`, page, i)
		}
		fmt.Fprintf(&b, `],"nextPageToken":"t%d"}`, page)
		io.WriteString(w, b.String())
	})
	_, err := newProvider(t, g.srv.URL+"/v1beta").Models(context.Background())
	if err == nil || !strings.Contains(err.Error(), "more than 50000 models") || page != provider.MaxModels/5000+1 {
		t.Fatalf("after %d pages: %v", page, err)
	}
}

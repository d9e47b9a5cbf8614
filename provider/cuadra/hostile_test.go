package cuadra

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-chat/parley/provider"
)

func feedEvents(events ...string) ([]provider.Event, *provider.APIError) {
	var evs []provider.Event
	d := newDecoder(func(ev provider.Event) { evs = append(evs, ev) }, &http.Response{StatusCode: 200, Header: http.Header{}})
	d.budget.Limits = provider.BudgetLimits{Text: 64 << 10, Call: 16 << 10, Args: 64 << 10, Calls: 100}
	for _, e := range events {
		if ae := d.event([]byte(e)); ae != nil {
			return evs, d.fail(ae)
		}
	}
	return evs, d.end(true)
}

// TestCuadraArgumentBudget: tool-call arguments streamed across many
// events, in the plain stream and the UI message stream, stop at the
// per-call budget; the text before is kept.
func TestCuadraArgumentBudget(t *testing.T) {
	kb := strings.Repeat("a", 1<<10)
	plain := []string{`{"id":"c","delta":"before"}`}
	ui := []string{`{"type":"start"}`, `{"type":"text-delta","id":"t","delta":"before"}`, `{"type":"tool-input-start","toolCallId":"x","toolName":"write"}`}
	for i := 0; i <= 16; i++ {
		plain = append(plain, fmt.Sprintf(`{"toolCalls":[{"index":0,"id":"x","function":{"name":"write","arguments":%q}}]}`, kb))
		ui = append(ui, fmt.Sprintf(`{"type":"tool-input-delta","toolCallId":"x","inputTextDelta":%q}`, kb))
	}
	for name, events := range map[string][]string{"plain": plain, "ui": ui} {
		evs, ae := feedEvents(events...)
		if ae == nil || !strings.Contains(ae.Message, `arguments of tool call "write" passed 16 KB`) || !ae.Partial {
			t.Fatalf("%s: %v", name, ae)
		}
		text := ""
		for _, ev := range evs {
			switch e := ev.(type) {
			case provider.TextDelta:
				text += e.Text
			case provider.ToolCallEvent:
				t.Fatalf("%s: a cut-off call was emitted", name)
			}
		}
		if text != "before" {
			t.Fatalf("%s: text %q", name, text)
		}
	}
}

// TestCuadraUnexpectedShapes: float counts and events that are not
// objects are ignored; a delta of the wrong type is named.
func TestCuadraUnexpectedShapes(t *testing.T) {
	evs, ae := feedEvents(`{"id":"c","delta":"hi"}`, `[]`, `{"id":"c","finished":true,"usage":{"inputTokens":2.0,"outputTokens":"3"}}`)
	if ae != nil {
		t.Fatal(ae)
	}
	var got provider.Usage
	for _, ev := range evs {
		if u, ok := ev.(provider.Usage); ok {
			got = u
		}
	}
	if got.InputTokens != 2 || got.OutputTokens != 3 || got.TotalTokens != 5 {
		t.Errorf("usage %+v", got)
	}
	if _, ae := feedEvents(`{"id":"c","delta":{"text":"hi"}}`); ae == nil || !strings.Contains(ae.Message, "unexpected object where delta should be a string") {
		t.Errorf("delta as an object: %v", ae)
	}
	if _, ae := feedEvents(`{"type":"text-delta","delta":7}`); ae == nil || !strings.Contains(ae.Message, "unexpected number where delta") {
		t.Errorf("ui delta as a number: %v", ae)
	}
}

// BenchmarkPlainToolCallAssembly: one plain-stream event with as many
// tool calls as an answer may have.
func BenchmarkPlainToolCallAssembly(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"id":"c","toolCalls":[`)
	for i := 0; i < provider.MaxToolCalls; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"index":%d,"id":"c%d","function":{"name":"f","arguments":"{}"}}`, i, i)
	}
	sb.WriteString(`],"finished":true}`)
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		d := newDecoder(func(provider.Event) {}, &http.Response{StatusCode: 200, Header: http.Header{}})
		if ae := d.event(data); ae != nil {
			b.Fatal(ae)
		}
	}
}

// endlessModels serves model pages of n models each with a fresh cursor
// every time, for ever.
func endlessModels(n int) http.HandlerFunc {
	page := 0
	return func(w http.ResponseWriter, r *http.Request) {
		page++
		var b strings.Builder
		b.WriteString(`{"data":[`)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"id":"m%d-%d","name":{"odd":"shape"}}`, page, i)
		}
		fmt.Fprintf(&b, `],"nextCursor":"c%d","hasMore":true}`, page)
		w.Write([]byte(b.String()))
	}
}

// TestModelsPaginationBudget: a model list whose pagination never ends
// stops at MaxModels with a clear error, keeping what it got.
func TestModelsPaginationBudget(t *testing.T) {
	g := newGateway(t, endlessModels(2000))
	p, _ := newProvider(t, g.srv.URL+"/v1")
	models, err := p.Models(context.Background())
	if err == nil || !strings.Contains(err.Error(), "more than 50000 models") {
		t.Fatalf("err = %v", err)
	}
	if n := len(g.requests()); n != provider.MaxModels/2000+1 {
		t.Errorf("%d pages asked for", n)
	}
	if len(models) <= provider.MaxModels || models[0].ID != "m1-0" {
		t.Errorf("%d models kept", len(models))
	}
}

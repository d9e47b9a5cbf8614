package session

import (
	"context"
	"strings"
	"testing"

	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/schema"
)

func testSchema(t *testing.T) *schema.Schema {
	t.Helper()
	s, err := schema.Parse("product", []byte(`{"type":"object","properties":{"name":{"type":"string"},"price":{"type":"number"}},"required":["name","price"],"additionalProperties":false}`))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestChatChecksAnswersAgainstTheSchema: the request carries the schema as
// its response format; each finished answer is checked, before observers
// hear it finished; tool-call steps, failures and interruptions are not;
// /schema off takes it away from the next request while an answer in
// flight keeps the schema it was asked with.
func TestChatChecksAnswersAgainstTheSchema(t *testing.T) {
	release := make(chan struct{})
	p := &scriptedProvider{script: func(n int, ctx context.Context, emit func(provider.Event)) error {
		switch n {
		case 1:
			emit(provider.TextDelta{Text: `{"name":"iPhone",`})
			emit(provider.TextDelta{Text: `"price":999}`})
		case 2:
			emit(provider.TextDelta{Text: `{"name":"iPhone","price":"999"}`})
		case 3:
			emit(provider.ToolCallEvent{ToolCall: provider.ToolCall{ID: "a", Name: "lookup", Arguments: "{}"}})
			emit(provider.Done{FinishReason: "tool_calls"})
			return nil
		case 4:
			emit(provider.TextDelta{Text: `{"name":`})
			emit(provider.Error{Err: &provider.APIError{Kind: provider.KindNetwork, Message: "reset", Partial: true}})
			return nil
		case 5:
			emit(provider.TextDelta{Text: `{"na`})
			<-release
			emit(provider.TextDelta{Text: `me":"x"}`})
		}
		emit(provider.Done{FinishReason: "stop"})
		return nil
	}}
	s := testSchema(t)
	r := newChatRig(t, p, Settings{Model: "m", Schema: s})
	var seen []*schema.Result
	r.chat.Observe(ObserverFuncs{Finished: func(_ *Chat, t *Turn) { seen = append(seen, t.SchemaCheck) }})

	turn, _ := r.chat.Send(t.Context(), "extract")
	r.finish()
	rf := p.requests()[0].ResponseFormat
	if rf == nil || rf.Type != "json_schema" || rf.Name != "product" || !rf.Strict || !strings.Contains(string(rf.Schema), `"required":["name","price"]`) {
		t.Fatalf("response format %+v", rf)
	}
	if turn.SchemaCheck == nil || !turn.SchemaCheck.OK() || len(seen) != 1 || seen[0] != turn.SchemaCheck {
		t.Fatalf("valid answer: check %+v, observers saw %v", turn.SchemaCheck, seen)
	}

	turn, _ = r.chat.Send(t.Context(), "again")
	r.finish()
	if c := turn.SchemaCheck; c == nil || len(c.Violations) != 1 || c.Violations[0].Pointer != "/price" || c.Schema != "product" {
		t.Fatalf("invalid answer: %+v", c)
	}

	turn, _ = r.chat.Send(t.Context(), "look it up")
	r.finish()
	if turn.SchemaCheck != nil {
		t.Errorf("a tool-call step was checked: %+v", turn.SchemaCheck)
	}
	turn, _ = r.chat.Send(t.Context(), "fail")
	r.finish()
	if turn.SchemaCheck != nil || turn.Err == nil {
		t.Errorf("a failed answer was checked: %+v", turn.SchemaCheck)
	}

	turn, _ = r.chat.Send(t.Context(), "slow")
	r.next() // the first delta
	r.chat.SetSchema(nil)
	close(release)
	r.finish()
	if c := turn.SchemaCheck; c == nil || c.OK() {
		t.Errorf("the answer in flight lost its schema: %+v", c)
	}
	if !strings.Contains(strings.Join(r.rec.log, "|"), "changed settings") || r.chat.Settings().Schema != nil {
		t.Errorf("SetSchema(nil): log %v", r.rec.log)
	}
	turn, _ = r.chat.Send(t.Context(), "free text")
	r.finish()
	if p.requests()[5].ResponseFormat != nil || turn.SchemaCheck != nil {
		t.Errorf("after SetSchema(nil): format %+v, check %+v", p.requests()[5].ResponseFormat, turn.SchemaCheck)
	}

	// An interrupted answer is not checked.
	hold := make(chan struct{})
	p.script = func(n int, ctx context.Context, emit func(provider.Event)) error {
		emit(provider.TextDelta{Text: "{"})
		<-hold
		return nil
	}
	r.chat.SetSchema(s)
	turn, _ = r.chat.Send(t.Context(), "stop me")
	r.next()
	r.chat.Cancel()
	close(hold)
	if !turn.Interrupted || turn.SchemaCheck != nil {
		t.Errorf("interrupted answer: %+v", turn.SchemaCheck)
	}
}

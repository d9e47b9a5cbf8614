package provider

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestBudgetDefaults: a zero Budget has the package's limits.
func TestBudgetDefaults(t *testing.T) {
	var b Budget
	if b.Text(MaxAnswerBytes) != nil || b.Text(1) == nil {
		t.Error("text budget is not MaxAnswerBytes")
	}
	b = Budget{}
	if b.Args("f", 0, MaxToolCallBytes) != nil {
		t.Error("one call's arguments cannot reach MaxToolCallBytes")
	}
	if ae := b.Args("f", MaxToolCallBytes, 1); ae == nil || !strings.Contains(ae.Message, `tool call "f" passed 16 MB`) {
		t.Errorf("past MaxToolCallBytes: %v", ae)
	}
	b = Budget{}
	for i := 0; i < 4; i++ {
		if ae := b.Args("f", 0, MaxToolArgsBytes/4); ae != nil {
			t.Fatal(ae)
		}
	}
	if ae := b.Args("g", 0, 1); ae == nil || !strings.Contains(ae.Message, "arguments passed 64 MB") {
		t.Errorf("past MaxToolArgsBytes: %v", ae)
	}
	b = Budget{}
	for i := 0; i < MaxToolCalls; i++ {
		if b.Call() != nil {
			t.Fatalf("call %d refused", i+1)
		}
	}
	if b.Call() == nil {
		t.Error("no limit on the number of calls")
	}
}

func TestCount(t *testing.T) {
	for in, want := range map[string]Count{`5`: 5, `5.0`: 5, `7.6`: 8, `"13"`: 13, `1e3`: 1000, `null`: 0, `"x"`: 0, `-3`: 0, `{}`: 0, `[1]`: 0} {
		var c Count
		if err := c.UnmarshalJSON([]byte(in)); err != nil || c != want {
			t.Errorf("%s: %d, %v; want %d", in, c, err, want)
		}
	}
}

// TestModelListBudget: the byte budget and the time budget end a list
// with the list's own error.
func TestModelListBudget(t *testing.T) {
	var l ModelList
	if l.Page(MaxModelListBytes, 10) != nil {
		t.Fatal("a list within budget refused")
	}
	if ae := l.Page(1, 10); ae == nil || !strings.Contains(ae.Message, "more than 64 MB (2 pages, 10 models so far)") {
		t.Errorf("bytes: %v", ae)
	}
	ctx, cancel := context.WithTimeoutCause(context.Background(), 0, errModelListTime)
	defer cancel()
	<-ctx.Done()
	l = ModelList{ctx: ctx}
	other := errors.New("request canceled")
	if err := l.Err(other, 3); err == other || !strings.Contains(err.Error(), "longer than 2m0s") {
		t.Errorf("time: %v", err)
	}
	if err := (&ModelList{ctx: context.Background()}).Err(other, 3); err != other {
		t.Errorf("an unrelated error became %v", err)
	}
}

func TestEachModel(t *testing.T) {
	type m struct {
		ID string `json:"id"`
	}
	var ids []string
	data := []byte(`{"object":"list","extra":{"a":[1,2]},"data":[{"id":"a"},{"id":7},{"id":"b"},{"id":"c"},{"id":"d"}],"next":"x"}`)
	err := EachModel(data, "data", func(e *m) bool {
		ids = append(ids, e.ID)
		return len(ids) < 3
	})
	if err != nil || strings.Join(ids, ",") != "a,b,c" {
		t.Errorf("ids %v, err %v", ids, err)
	}
	for _, bad := range []string{`[]`, `{"data":{}}`, `{"data":[`, `<html>`} {
		if err := EachModel([]byte(bad), "data", func(*m) bool { return true }); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

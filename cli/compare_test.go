package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/schema"
	"github.com/parley-chat/parley/session"
)

// orderedProvider answers each model with "<model> answer" in two
// deltas. A model in waitFor waits until that other model's stream has
// ended, so the columns finish in a known order.
type orderedProvider struct {
	provider.Provider
	ended   map[string]chan struct{}
	waitFor map[string]string
	fail    map[string]bool
	json    map[string]string // a model's whole answer, instead of "<model> answer"
}

func (p *orderedProvider) Name() string { return "gw" }

func (p *orderedProvider) Stream(ctx context.Context, req *provider.Request, emit func(provider.Event)) error {
	defer close(p.ended[req.Model])
	if other := p.waitFor[req.Model]; other != "" {
		<-p.ended[other]
	}
	if a, ok := p.json[req.Model]; ok {
		emit(provider.TextDelta{Text: a})
		emit(provider.Done{FinishReason: "stop"})
		return nil
	}
	emit(provider.TextDelta{Text: req.Model + " "})
	if p.fail[req.Model] {
		ae := &provider.APIError{Kind: provider.KindHTTP, Status: 500, Title: "Internal Server Error", Message: "sk-compare-secret-123 leaked", Partial: true}
		ae.Redact("sk-compare-secret-123")
		emit(provider.Error{Err: ae})
		return ae
	}
	emit(provider.TextDelta{Text: "answer"})
	emit(provider.Done{FinishReason: "stop"})
	return nil
}

func orderedColumns(p *orderedProvider, labels ...string) []*column {
	p.ended = map[string]chan struct{}{}
	var cols []*column
	for _, l := range labels {
		model, _, _ := strings.Cut(l, "{")
		p.ended[model] = make(chan struct{})
		cols = append(cols, &column{label: l, prov: p, settings: session.Settings{Model: model}})
	}
	return cols
}

// TestPrintCompareText: the answers print one after another in column
// order, each under its header, however the columns finish; then the
// summary. Stderr lines name their column.
func TestPrintCompareText(t *testing.T) {
	p := &orderedProvider{waitFor: map[string]string{"alpha": "beta"}}
	cols := orderedColumns(p, "alpha", "beta")
	var out, errb bytes.Buffer
	a := &app{env: &Env{Stdout: &out, Stderr: &errb}, f: flags{output: "text"}}
	if err := a.printCompare(t.Context(), cols, "question", nil); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	want := "── 1 · alpha ──\nalpha answer\n\n── 2 · beta ──\nbeta answer\n\n#  model  TTFT"
	if !strings.HasPrefix(got, want) {
		t.Fatalf("stdout\n%s\nwant it to start\n%s", got, want)
	}
	if !strings.Contains(got, "\n1  alpha  ") || !strings.Contains(got, "\n2  beta   ") || strings.Count(got, "stop") != 2 {
		t.Fatalf("summary:\n%s", got)
	}
	if errb.Len() != 0 {
		t.Fatalf("stderr %q", errb.String())
	}
}

// TestPrintCompareFailure: a failed column exits 1 and is reported on
// stderr under its name; the other column's answer is printed whole; no
// key in any output.
func TestPrintCompareFailure(t *testing.T) {
	p := &orderedProvider{waitFor: map[string]string{}, fail: map[string]bool{"beta": true}}
	cols := orderedColumns(p, "alpha", "beta")
	var out, errb bytes.Buffer
	a := &app{env: &Env{Stdout: &out, Stderr: &errb}, f: flags{output: "text"}}
	err := a.printCompare(t.Context(), cols, "question", []string{"sk-compare-secret-123"})
	if exitCode(err) != ExitFailure || !strings.Contains(err.Error(), "1 of 2 columns failed: 2 (beta): 500") {
		t.Fatalf("exit %d: %v", exitCode(err), err)
	}
	if !strings.Contains(out.String(), "alpha answer\n") || !strings.Contains(out.String(), "error 500") {
		t.Fatalf("stdout %q", out.String())
	}
	if !strings.Contains(errb.String(), "parley: [2 beta] 500 Internal Server Error: [redacted] leaked") {
		t.Fatalf("stderr %q", errb.String())
	}
	for _, s := range []string{out.String(), errb.String(), err.Error()} {
		if strings.Contains(s, "sk-compare-secret") {
			t.Fatalf("the key leaked: %q", s)
		}
	}
}

// TestPrintCompareJSONL: every line is an event with its column and
// model (and label, when the column is named otherwise), then a result
// per column.
func TestPrintCompareJSONL(t *testing.T) {
	p := &orderedProvider{waitFor: map[string]string{}}
	cols := orderedColumns(p, "alpha", "beta{temperature=0}")
	var out bytes.Buffer
	a := &app{env: &Env{Stdout: &out, Stderr: &bytes.Buffer{}}, f: flags{output: "jsonl"}}
	if err := a.printCompare(t.Context(), cols, "question", nil); err != nil {
		t.Fatal(err)
	}
	texts := map[int]string{}
	results := 0
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var ev struct {
			Type   string
			Column int
			Model  string
			Label  *string
			Text   string
			Finish string
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if !strings.HasPrefix(line, `{"type":"`+ev.Type+`","column":`) {
			t.Fatalf("fields out of place: %s", line)
		}
		want := []string{"", "alpha", "beta"}[ev.Column]
		if ev.Model != want || (ev.Column == 2) != (ev.Label != nil && *ev.Label == "beta{temperature=0}") {
			t.Fatalf("column fields: %s", line)
		}
		switch ev.Type {
		case "text":
			texts[ev.Column] += ev.Text
		case "result":
			results++
			if ev.Finish != "stop" {
				t.Fatalf("result %s", line)
			}
		}
		if ev.Type != "result" {
			if _, err := provider.UnmarshalEvent([]byte(line)); err != nil {
				t.Fatalf("%s does not decode as an event: %v", line, err)
			}
		}
	}
	if texts[1] != "alpha answer" || texts[2] != "beta answer" || results != 2 {
		t.Fatalf("texts %v, %d results", texts, results)
	}
}

func TestRedactAllAndPrefixWriter(t *testing.T) {
	var b bytes.Buffer
	w := redactAll(&b, []string{"secret-one", "secret-two"})
	for _, part := range []string{"a secret-", "one and secret", "-two end secret-t"} {
		if _, err := w.Write([]byte(part)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if b.String() != "a [redacted] and [redacted] end secret-t" {
		t.Fatalf("%q", b.String())
	}
	b.Reset()
	pw := &prefixWriter{w: &b, prefix: "parley: [2 beta] ", start: true}
	for _, s := range []string{"parley: one\n", "reasoning parley: not a line start", "\n", "parley: two\n"} {
		if _, err := pw.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if want := "parley: [2 beta] one\nreasoning parley: not a line start\nparley: [2 beta] two\n"; b.String() != want {
		t.Fatalf("%q", b.String())
	}
}

func TestCompareUsageErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"compare", "-p", "-m", "a", "q"}, "compare needs 2 to 6 models (-m A -m B …), not 1"},
		{[]string{"compare", "-p", "-m", "a", "-m", "b", "-m", "c", "-m", "d", "-m", "e", "-m", "f", "-m", "g", "q"}, "not 7"},
		{[]string{"compare", "-p", "--output", "yaml", "-m", "a", "-m", "b", "q"}, "--output must be text or jsonl"},
		{[]string{"compare", "-p", "--base-url", "http://127.0.0.1:1/v1", "-m", "a", "-m", "b{colour=red}", "q"}, `-m b{colour=red}: "b{colour=red}": unknown setting "colour"`},
		{[]string{"compare", "--demo", "-p", "-m", "demo-fast", "-m", "demo-fast{top_p=2}", "q"}, "top_p must be between 0 and 1"},
	} {
		var out, errb bytes.Buffer
		code := Run(t.Context(), tt.args, &Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
			if k == "PARLEY_API_KEY" {
				return "sk-compare-test-key"
			}
			return ""
		}, StdinIsTerminal: true})
		if code != ExitUsage || !strings.Contains(errb.String(), tt.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tt.args, code, errb.String(), tt.want)
		}
	}
}

// TestPrintCompareSchema: with --json-schema, a column whose answer does
// not match the schema fails the comparison (exit 1) and its violations
// are reported under its name; the matching column passes.
func TestPrintCompareSchema(t *testing.T) {
	sch, err := schema.Parse("answer.json", []byte(`{"type":"object","required":["ok"]}`))
	if err != nil {
		t.Fatal(err)
	}
	p := &orderedProvider{waitFor: map[string]string{}}
	cols := orderedColumns(p, "alpha", "beta")
	p.json = map[string]string{"alpha": `{"ok":true}`, "beta": `{"no":1}`}
	for _, c := range cols {
		c.settings.Schema = sch
	}
	var out, errb bytes.Buffer
	a := &app{env: &Env{Stdout: &out, Stderr: &errb}, f: flags{output: "text"}}
	err = a.printCompare(t.Context(), cols, "question", nil)
	if exitCode(err) != ExitFailure || !strings.Contains(err.Error(), "1 of 2 columns failed: 2 (beta): the answer does not match the schema") {
		t.Fatalf("exit %d: %v", exitCode(err), err)
	}
	if !strings.Contains(errb.String(), "parley: [2 beta] schema violation") || strings.Contains(errb.String(), "[1 alpha]") {
		t.Fatalf("stderr %q", errb.String())
	}
}

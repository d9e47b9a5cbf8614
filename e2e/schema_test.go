package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// productSchema is the native REST gateway reference's structured-output
// example, closed so that it qualifies for strict mode.
const productSchema = `{
  "type": "object",
  "properties": {
    "name": {"type": "string"},
    "price": {"type": "number"}
  },
  "required": ["name", "price"],
  "additionalProperties": false
}`

func schemaFile(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "product.json")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func decodeJSON(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %s: %v", b, err)
	}
	return v
}

// TestSchemaRequestInEveryDialect runs the binary with --json-schema
// against a loopback gateway of each dialect and checks the request body
// carries the schema the way that dialect takes it.
func TestSchemaRequestInEveryDialect(t *testing.T) {
	schema := decodeJSON(t, []byte(productSchema))
	answer := `{"name":"iPhone 15 Pro","price":999}`
	for _, tc := range []struct {
		dialect, base string
		stream        func(w http.ResponseWriter)
		field         func(body map[string]any) any
		want          any
	}{
		{
			dialect: "openai", base: "/v1",
			stream: func(w http.ResponseWriter) { writeSSE(w, textChunk(answer), stopChunk) },
			field:  func(b map[string]any) any { return b["response_format"] },
			want: map[string]any{"type": "json_schema", "json_schema": map[string]any{
				"name": "product", "strict": true, "schema": schema}},
		},
		{
			dialect: "cuadra", base: "/v1",
			stream: func(w http.ResponseWriter) {
				d, _ := json.Marshal(map[string]any{"id": "chat_1", "delta": answer, "finished": false})
				w.Header().Set("Content-Type", "text/event-stream")
				fmt.Fprintf(w, "data: %s\n\ndata: {\"id\":\"chat_1\",\"delta\":\"\",\"finished\":true}\n\ndata: [DONE]\n\n", d)
			},
			field: func(b map[string]any) any { return b["responseFormat"] },
			want: map[string]any{"type": "json_schema", "json_schema": map[string]any{
				"name": "product", "strict": true, "schema": schema}},
		},
		{
			dialect: "gemini", base: "/v1beta",
			stream: func(w http.ResponseWriter) {
				d, _ := json.Marshal(answer)
				w.Header().Set("Content-Type", "text/event-stream")
				fmt.Fprintf(w, "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":%s}],\"role\":\"model\"},\"finishReason\":\"STOP\"}]}\n\n", d)
			},
			field: func(b map[string]any) any {
				gc, _ := b["generationConfig"].(map[string]any)
				return gc
			},
			want: map[string]any{"responseMimeType": "application/json", "responseJsonSchema": schema},
		},
	} {
		t.Run(tc.dialect, func(t *testing.T) {
			g := newDLGateway(t, func(w http.ResponseWriter, r *http.Request, n int) { tc.stream(w) })
			r := parley(t, runOpts{}, "-p", "Extract: iPhone 15 Pro costs $999", "--dialect", tc.dialect,
				"--base-url", g.URL+tc.base, "-m", "M", "--json-schema", schemaFile(t, productSchema))
			if r.code != 0 || r.stdout != answer+"\n" || r.stderr != "" {
				t.Fatalf("exit %d\nstdout %q\nstderr %q", r.code, r.stdout, r.stderr)
			}
			reqs := g.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests", len(reqs))
			}
			body, _ := decodeJSON(t, reqs[0].body).(map[string]any)
			if got := tc.field(body); !reflect.DeepEqual(got, tc.want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(tc.want)
				t.Errorf("structured-output field\n got %s\nwant %s\nbody %s", g, w, reqs[0].body)
			}
		})
	}
}

// TestSchemaViolationInPrintMode: an answer that does not match exits 1,
// the answer on stdout byte for byte, one "parley: " line per violation
// on stderr; with --output jsonl the violations are also events, before
// done.
func TestSchemaViolationInPrintMode(t *testing.T) {
	// An escaped control character, non-ASCII text and a newline between
	// members: the bytes go to a pipe as they came.
	answer := "{\"name\":\"\\u001b[31mrød\",\"price\":\"999\",\n\"colour\":\"red\"}"
	g := newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeSSE(w, textChunk(answer[:10]), textChunk(answer[10:]), stopChunk)
	})
	file := schemaFile(t, productSchema)

	r := parley(t, runOpts{}, g.args("-p", "extract", "--json-schema", file)...)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\nstderr %s", r.code, r.stderr)
	}
	if r.stdout != answer+"\n" {
		t.Errorf("stdout %q, want the answer's bytes %q", r.stdout, answer+"\n")
	}
	wantErr := "parley: schema violation at /price: type: string, want number\n" +
		"parley: schema violation at /colour: additionalProperties: not allowed, the schema names no such property\n"
	if r.stderr != wantErr {
		t.Errorf("stderr\n%s\nwant\n%s", r.stderr, wantErr)
	}

	r = parley(t, runOpts{}, g.args("-p", "extract", "--json-schema", file, "--output", "jsonl")...)
	if r.code != 1 || r.stderr != wantErr {
		t.Fatalf("jsonl: exit %d, stderr %q", r.code, r.stderr)
	}
	o := parseJSONL(t, r.stdout)
	if o.text != answer {
		t.Errorf("jsonl text %q", o.text)
	}
	n := len(o.types)
	if n < 3 || strings.Join(o.types[n-3:], ",") != "schema_violation,schema_violation,done" {
		t.Fatalf("jsonl events %v", o.types)
	}
	v := o.events[n-3]
	if v["schema"] != "product" || v["pointer"] != "/price" || v["message"] != "type: string, want number" {
		t.Errorf("violation event %v", v)
	}

	// The same request with a matching answer exits 0 with nothing on stderr.
	ok := newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeSSE(w, textChunk(`{"name":"x","price":1}`), stopChunk)
	})
	r = parley(t, runOpts{}, ok.args("-p", "extract", "--json-schema", file)...)
	if r.code != 0 || r.stderr != "" || r.stdout != "{\"name\":\"x\",\"price\":1}\n" {
		t.Errorf("matching answer: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestSchemaFileErrors: an unusable schema file stops Parley with exit 2
// and a clear message before any request is sent.
func TestSchemaFileErrors(t *testing.T) {
	g := newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) { writeSSE(w, stopChunk) })
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o600)
		return p
	}
	for _, tc := range []struct{ file, want string }{
		{write("typo.json", `{"type":"object","properties":{"a":{"type":"strnig"}}}`), `at /properties/a: unknown type "strnig"`},
		{write("broken.json", "{\n  \"type\": \"object\",\n}"), "not valid JSON: line 3, column 1"},
		{write("loop.json", `{"$defs":{"a":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}`), "validation would never end"},
		{write("big.json", `{"description":"`+strings.Repeat("x", 300<<10)+`"}`), "larger than 256 KB"},
		{filepath.Join(dir, "absent.json"), "no such file or directory"},
	} {
		r := parley(t, runOpts{}, g.args("-p", "hi", "--json-schema", tc.file)...)
		if r.code != 2 || !strings.HasPrefix(r.stderr, "parley: --json-schema: schema") || !strings.Contains(r.stderr, tc.want) ||
			strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q, want exit 2 and %q", filepath.Base(tc.file), r.code, r.stderr, tc.want)
		}
	}
	if g.postCount() != 0 {
		t.Errorf("%d requests sent with an unusable schema", g.postCount())
	}
}

// TestTUISchema drives the chat in tmux: /schema FILE, then a prompt whose
// answer breaks the schema shows as pretty JSON with the offending lines
// marked and the violations listed; --json-schema does the same from the
// start.
func TestTUISchema(t *testing.T) {
	answer := `{"name":"iPhone 15 Pro","price":"999","colour":"black"}`
	g := newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeSSE(w, textChunk(answer), stopChunk)
	})
	file := schemaFile(t, productSchema)
	p := startTUI(t, []string{keyEnv}, "--dialect", "openai", "--base-url", g.URL+"/v1", "-m", "M", "--theme", "dark")
	p.waitFor(15*time.Second, "Ask anything")
	p.keys("-l", "/schema "+file)
	p.keys("Enter")
	p.waitFor(15*time.Second, "schema set: product")
	p.keys("-l", "Extract: iPhone 15 Pro costs $999")
	p.keys("Enter")
	screen := p.waitFor(15*time.Second,
		"─ [1] json",
		`  "name": "iPhone 15 Pro",`,
		`  "price": "999",  ◀ 1`,
		`  "colour": "black"  ◀ 2`,
		"✗ 2 violations of the schema product",
		"◀ 1 /price: type: string, want number",
		"◀ 2 /colour: additionalProperties: not allowed",
	)
	if strings.Contains(screen, answer) {
		t.Errorf("the answer is shown raw, not pretty-printed:\n%s", screen)
	}
	g.mu.Lock()
	body := string(g.bodies[0])
	g.mu.Unlock()
	if !strings.Contains(body, `"response_format":{"type":"json_schema","json_schema":{"name":"product"`) {
		t.Errorf("request %s", body)
	}
	p.keys("C-d")

	q := startTUI(t, []string{keyEnv}, "--dialect", "openai", "--base-url", g.URL+"/v1", "-m", "M", "--theme", "dark",
		"--json-schema", file, "Extract again")
	q.waitFor(15*time.Second, `  "price": "999",  ◀ 1`, "◀ 2 /colour")
	q.keys("C-d")
}

// TestTUISchemaFileRefused: a bad file for /schema is reported in the
// transcript and nothing is set.
func TestTUISchemaFileRefused(t *testing.T) {
	g := newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) { io.WriteString(w, "") })
	p := startTUI(t, []string{keyEnv}, "--dialect", "openai", "--base-url", g.URL+"/v1", "-m", "M", "--theme", "dark")
	p.waitFor(15*time.Second, "Ask anything")
	p.keys("-l", "/schema "+schemaFile(t, `{"type":"objet"}`))
	p.keys("Enter")
	p.waitFor(15*time.Second, "failed", `unknown type "objet"`)
	p.keys("-l", "/schema")
	p.keys("Enter")
	p.waitFor(15*time.Second, "no schema: answers are free text")
	p.keys("C-d")
}

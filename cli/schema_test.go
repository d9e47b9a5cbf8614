package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/schema"
	"github.com/parley-chat/parley/session"
)

const testProductSchema = `{"type":"object","properties":{"name":{"type":"string"},"price":{"type":"number"}},"required":["name","price"],"additionalProperties":false}`

// TestPrintSchemaViolations: print mode reports each violation on stderr
// after the answer (JSONL: also as schema_violation lines before done) and
// exits 1; a matching answer exits 0 and reports nothing.
func TestPrintSchemaViolations(t *testing.T) {
	s, err := schema.Parse("product", []byte(testProductSchema))
	if err != nil {
		t.Fatal(err)
	}
	bad := `{"price":"999","extra":1}`
	for _, mode := range []string{"text", "jsonl"} {
		t.Run(mode, func(t *testing.T) {
			var out, errb bytes.Buffer
			a := &app{env: &Env{Stdout: &out, Stderr: &errb}, f: flags{output: mode}}
			p := scripted{evs: []provider.Event{provider.TextDelta{Text: bad}, provider.Done{FinishReason: "stop"}}}
			err := a.printAnswer(t.Context(), p, session.Settings{Model: "m", Schema: s}, "extract")
			if exitCode(err) != ExitFailure {
				t.Fatalf("exit %d (%v)", exitCode(err), err)
			}
			wantErr := "parley: schema violation at (root): required: missing \"name\"\n" +
				"parley: schema violation at /price: type: string, want number\n" +
				"parley: schema violation at /extra: additionalProperties: not allowed, the schema names no such property\n"
			if errb.String() != wantErr {
				t.Errorf("stderr\n%s\nwant\n%s", errb.String(), wantErr)
			}
			if mode == "text" {
				if out.String() != bad+"\n" {
					t.Errorf("stdout %q", out.String())
				}
				return
			}
			var types, pointers []string
			for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
				var ev struct{ Type, Schema, Pointer, Message string }
				if err := json.Unmarshal([]byte(line), &ev); err != nil {
					t.Fatalf("line %q: %v", line, err)
				}
				types = append(types, ev.Type)
				if ev.Type == "schema_violation" {
					pointers = append(pointers, ev.Pointer)
					if ev.Schema != "product" || ev.Message == "" {
						t.Errorf("violation line %s", line)
					}
				}
			}
			if strings.Join(types, ",") != "text,schema_violation,schema_violation,schema_violation,done" ||
				strings.Join(pointers, ",") != ",/price,/extra" {
				t.Errorf("events %v, pointers %q", types, pointers)
			}
		})
	}

	var out, errb bytes.Buffer
	a := &app{env: &Env{Stdout: &out, Stderr: &errb}, f: flags{output: "text"}}
	good := `{"name":"x","price":1}`
	p := scripted{evs: []provider.Event{provider.TextDelta{Text: good}, provider.Done{FinishReason: "stop"}}}
	if err := a.printAnswer(t.Context(), p, session.Settings{Model: "m", Schema: s}, "extract"); err != nil || out.String() != good+"\n" || errb.Len() != 0 {
		t.Errorf("matching answer: %v, stdout %q, stderr %q", err, out.String(), errb.String())
	}
}

// TestJSONSchemaFlagErrors: a schema file that cannot be used stops Parley
// with exit 2 and a message naming the flag, the file and the problem,
// before any request.
func TestJSONSchemaFlagErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"type":"object","properties":{"a":{"type":"strnig"}}}`), 0o600)
	for file, want := range map[string]string{
		bad:                                `--json-schema: schema ` + bad + `: at /properties/a: unknown type "strnig"`,
		filepath.Join(dir, "missing.json"): "--json-schema: schema: open " + filepath.Join(dir, "missing.json"),
	} {
		var out, errb bytes.Buffer
		env := &Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
			switch k {
			case "OPENAI_API_KEY":
				return "sk-test-0123456789"
			case "XDG_CONFIG_HOME", "HOME":
				return dir
			}
			return ""
		}}
		code := Run(t.Context(), []string{"-p", "hi", "--base-url", "http://127.0.0.1:9/v1", "-m", "m", "--json-schema", file}, env)
		if code != ExitUsage || !strings.HasPrefix(errb.String(), "parley: "+want) {
			t.Errorf("exit %d, stderr %q, want %q", code, errb.String(), want)
		}
	}
}

package schema

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const productSchema = `{
  "type": "object",
  "properties": {
    "name": {"type": "string"},
    "price": {"type": "number", "minimum": 0},
    "tags": {"type": "array", "items": {"$ref": "#/$defs/tag"}}
  },
  "required": ["name", "price", "tags"],
  "additionalProperties": false,
  "$defs": {"tag": {"type": "string", "maxLength": 5}}
}`

func mustParse(t *testing.T, src string) *Schema {
	t.Helper()
	s, err := Parse("test", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return s
}

func TestParseRefusesBadSchemas(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"not JSON", "{\n  \"type\": \"object\",\n  \"properties\": {\n}", "not valid JSON: line 4, column 1"},
		{"trailing comma", `{"type":"object",}`, "not valid JSON: line 1, column 18"},
		{"array", `[{"type":"object"}]`, "must be a JSON object, not an array"},
		{"boolean", `true`, "must be a JSON object, not a boolean"},
		{"misspelt type", `{"type":"object","properties":{"a":{"type":"strnig"}}}`, `at /properties/a: unknown type "strnig"`},
		{"type of wrong kind", `{"type":5}`, `invalid value for "type"`},
		{"required not a list", `{"required":"a"}`, "not a JSON Schema"},
		{"old draft", `{"$schema":"http://json-schema.org/draft-04/schema#"}`, "drafts 2020-12 and 07"},
		{"remote reference", `{"$ref":"https://example.com/other.json"}`, `cannot follow the reference "https://example.com/other.json"`},
		{"dangling pointer", `{"$ref":"#/$defs/missing"}`, "leads to no schema"},
		{"unknown anchor", `{"$ref":"#nowhere"}`, "names no $anchor"},
		{"bad pattern", `{"pattern":"(?<=a)"}`, "pattern"},
		{"self reference", `{"$ref":"#"}`, "refers back to itself"},
		{"cycle through allOf", `{"allOf":[{"$ref":"#"}]}`, "refers back to itself"},
		{"cycle through $defs", `{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"anyOf":[{"$ref":"#/$defs/a"}]}},"properties":{"x":{"$ref":"#/$defs/a"}}}`, "at /$defs/a: the schema refers back to itself"},
		{"cycle through an anchor", `{"$defs":{"a":{"$anchor":"loop","not":{"$ref":"#loop"}}}}`, "refers back to itself"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x", []byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestParseAcceptsRecursionThatGoesDeeper(t *testing.T) {
	s := mustParse(t, `{"$defs":{"node":{"type":"object","properties":{"kids":{"type":"array","items":{"$ref":"#/$defs/node"}},"n":{"type":"integer"}}}},"$ref":"#/$defs/node"}`)
	r := s.Check(`{"n":1,"kids":[{"n":2,"kids":[{"n":"three"}]}]}`)
	if len(r.Violations) != 1 || r.Violations[0].Pointer != "/kids/0/kids/0/n" {
		t.Fatalf("violations %+v", r.Violations)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "my product.schema.json")
	if err := os.WriteFile(path, []byte(productSchema), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "my_product_schema" || s.Path != path || !s.Strict {
		t.Errorf("name %q path %q strict %v", s.Name, s.Path, s.Strict)
	}
	rf := s.ResponseFormat()
	if rf.Type != "json_schema" || rf.Name != s.Name || !rf.Strict || !json.Valid(rf.Schema) || strings.ContainsAny(string(rf.Schema), "\n ") {
		t.Errorf("response format %+v %s", rf, rf.Schema)
	}

	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, []byte(`{"description":"`+strings.Repeat("x", MaxFileSize)+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than 256 KB") || !strings.Contains(err.Error(), big) {
		t.Errorf("oversized file: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "absent.json")); err == nil || !strings.Contains(err.Error(), "absent.json") {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"type":"object"`), 0o600)
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), "bad.json") || !strings.Contains(err.Error(), "not valid JSON") {
		t.Errorf("bad file: %v", err)
	}
}

func TestNames(t *testing.T) {
	for in, want := range map[string]string{
		"product":                "product",
		"my product.schema":      "my_product_schema",
		"":                       "response",
		"...":                    "response",
		"ü ï":                    "response",
		"ünï":                    "_n_",
		"a b":                    "a_b",
		strings.Repeat("a", 100): strings.Repeat("a", 64),
		"weather-report_v2":      "weather-report_v2",
	} {
		if got := sanitizeName(in); got != want {
			t.Errorf("sanitizeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStrict(t *testing.T) {
	for src, want := range map[string]bool{
		productSchema: true,
		`{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}`:                                                    false, // open object
		`{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}`:                                        false, // a optional
		`{"type":"array","items":{"type":"string"}}`:                                                                                 false, // root not an object
		`{"type":"object","properties":{"o":{"type":"object","properties":{"b":{}}}},"required":["o"],"additionalProperties":false}`: false, // nested open
		`{"type":"object","properties":{},"additionalProperties":false}`:                                                             true,
	} {
		if got := mustParse(t, src).Strict; got != want {
			t.Errorf("Strict = %v, want %v for %s", got, want, src)
		}
	}
}

func TestCheckValidAnswer(t *testing.T) {
	s := mustParse(t, productSchema)
	for _, answer := range []string{
		`{"name":"iPhone 15 Pro","price":999,"tags":["phone"]}`,
		"  \n{\"name\":\"x\",\"price\":0.5,\"tags\":[]}\n",
		"```json\n{\"name\":\"x\",\"price\":1,\"tags\":[]}\n```",
	} {
		if r := s.Check(answer); !r.OK() || r.Schema != "test" {
			t.Errorf("Check(%q) = %+v", answer, r)
		}
	}
}

func TestCheckLocatesEveryViolation(t *testing.T) {
	s := mustParse(t, productSchema)
	r := s.Check(`{"tags":["ok","far too long",4],"price":-1,"extra":true,"name":3}`)
	got := map[string]string{}
	var order []string
	for _, v := range r.Violations {
		got[v.Pointer] = v.Message
		order = append(order, v.Pointer)
	}
	// In the order the values appear in the answer.
	if strings.Join(order, " ") != "/tags/1 /tags/2 /price /extra /name" {
		t.Errorf("order %q, violations %+v", order, r.Violations)
	}
	for ptr, msg := range map[string]string{
		"/tags/1": "maxLength",
		"/tags/2": "type: integer, want string",
		"/price":  "minimum: -1 is less than 0",
		"/extra":  "additionalProperties: not allowed",
		"/name":   "type: integer, want string",
	} {
		if !strings.Contains(got[ptr], msg) {
			t.Errorf("%s: %q, want %q", ptr, got[ptr], msg)
		}
	}
	if r.OK() || r.More {
		t.Errorf("OK %v More %v", r.OK(), r.More)
	}

	r = s.Check(`{"price":1}`)
	if len(r.Violations) != 1 || r.Violations[0].Pointer != "" || r.Violations[0].Message != `required: missing "name", "tags"` ||
		r.Violations[0].Where() != "(root)" {
		t.Errorf("missing properties: %+v", r.Violations)
	}
}

func TestCheckNotJSON(t *testing.T) {
	s := mustParse(t, productSchema)
	for answer, want := range map[string]string{
		"Sure! Here is the JSON: {}":   "not valid JSON: line 1, column 1",
		"":                             "the answer is empty",
		"{\"name\":\"x\",\n\"price\":": "not valid JSON: line 2",
		`{"name":"x"} {"name":"y"}`:    "not valid JSON",
	} {
		r := s.Check(answer)
		if len(r.Violations) != 1 || r.Violations[0].Pointer != "" || !strings.Contains(r.Violations[0].Message, want) {
			t.Errorf("Check(%q) = %+v, want %q", answer, r.Violations, want)
		}
	}
	huge := `{"name":"` + strings.Repeat("x", MaxAnswer) + `"}`
	if r := s.Check(huge); len(r.Violations) != 1 || !strings.Contains(r.Violations[0].Message, "1024 KB, more than Parley validates") {
		t.Errorf("huge answer: %+v", r.Violations)
	}
	deep := `{"tags":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`
	if r := s.Check(deep); len(r.Violations) != 1 || !strings.Contains(r.Violations[0].Message, "65 levels deep") {
		t.Errorf("deep answer: %+v", r.Violations)
	}
	if _, _, ok := Pretty(deep); ok {
		t.Errorf("Pretty laid out an answer deeper than MaxDepth")
	}
	// Brackets inside strings are text, not nesting.
	brackets := `{"name":"` + strings.Repeat("[{", 100) + `\"]","price":1,"tags":[]}`
	if r := s.Check(brackets); !r.OK() {
		t.Errorf("brackets in a string: %+v", r.Violations)
	}
}

func TestCheckKeywords(t *testing.T) {
	s := mustParse(t, `{
	  "type": "object",
	  "properties": {
	    "v": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
	    "w": {"oneOf": [{"type": "string"}, {"minLength": 1}]},
	    "e": {"enum": ["a", "b"]},
	    "c": {"const": {"k": 1}},
	    "n": {"not": {"type": "null"}},
	    "all": {"allOf": [{"type": "object", "required": ["a"]}, {"properties": {"b": {"type": "boolean"}}}]},
	    "p": {"patternProperties": {"^x-": {"type": "integer"}}, "additionalProperties": {"type": "string"}}
	  }
	}`)
	r := s.Check(`{"v":1.5,"w":"s","e":"z","c":{"k":2},"n":null,"all":{"b":"yes"},"p":{"x-a":"1","y":2}}`)
	got := map[string]string{}
	for _, v := range r.Violations {
		got[v.Pointer] = v.Message
	}
	for ptr, msg := range map[string]string{
		"/v":     "anyOf: matches none of its 2 alternatives",
		"/w":     "oneOf: matches more than one of its 2 alternatives",
		"/e":     `enum: "z" is not one of ["a","b"]`,
		"/c":     `const: {"k":2} is not {"k":1}`,
		"/n":     "not: matches the schema it must not match",
		"/all":   `required: missing "a"`,
		"/all/b": "type: string, want boolean",
		"/p/x-a": "type: string, want integer",
		"/p/y":   "type: integer, want string",
	} {
		if got[ptr] != msg {
			t.Errorf("%s: %q, want %q", ptr, got[ptr], msg)
		}
	}
	if len(r.Violations) != 9 {
		t.Errorf("%d violations: %+v", len(r.Violations), r.Violations)
	}
}

func TestCheckDraft07(t *testing.T) {
	s := mustParse(t, `{"$schema":"http://json-schema.org/draft-07/schema#","type":"array","items":[{"type":"string"}],"additionalItems":{"type":"integer"},
	  "definitions":{"s":{"type":"string"}}}`)
	r := s.Check(`[1,2,"three"]`)
	if len(r.Violations) != 2 || r.Violations[0].Pointer != "/0" || r.Violations[1].Pointer != "/2" {
		t.Errorf("violations %+v", r.Violations)
	}
}

// TestCheckFallsBackToTheRoot: what the walk cannot place (here a keyword
// that sees the other keywords' work) is still reported, at the root.
func TestCheckUnevaluated(t *testing.T) {
	s := mustParse(t, `{"allOf":[{"properties":{"a":{}}}],"unevaluatedProperties":false}`)
	if r := s.Check(`{"a":1}`); !r.OK() {
		t.Errorf("valid answer: %+v", r.Violations)
	}
	r := s.Check(`{"a":1,"b":2}`)
	if len(r.Violations) != 1 || r.Violations[0].Pointer != "" || !strings.Contains(r.Violations[0].Message, "unevaluatedProperties") {
		t.Errorf("violations %+v", r.Violations)
	}
}

func TestCheckListsAtMostMaxViolations(t *testing.T) {
	s := mustParse(t, `{"type":"array","items":{"type":"string"}}`)
	r := s.Check("[" + strings.TrimSuffix(strings.Repeat("1,", 100), ",") + "]")
	if len(r.Violations) != MaxViolations || !r.More || r.Violations[0].Pointer != "/0" || r.Violations[MaxViolations-1].Pointer != "/19" {
		t.Errorf("%d violations, more %v, first %+v", len(r.Violations), r.More, r.Violations[0])
	}
}

func TestPretty(t *testing.T) {
	text, lines, ok := Pretty(`{"a":[1,2.50,{}],"b":{"c":"\u00e9<\u001b","d/e~":null},"f":[],"g":"\u2028"}`)
	want := "{\n" +
		"  \"a\": [\n" +
		"    1,\n" +
		"    2.50,\n" +
		"    {}\n" +
		"  ],\n" +
		"  \"b\": {\n" +
		"    \"c\": \"é<\\u001b\",\n" +
		"    \"d/e~\": null\n" +
		"  },\n" +
		"  \"f\": [],\n" +
		"  \"g\": \"\\u2028\"\n" +
		"}"
	if !ok || text != want {
		t.Fatalf("Pretty:\n%s\nwant:\n%s", text, want)
	}
	for ptr, line := range map[string]int{"": 0, "/a": 1, "/a/0": 2, "/a/2": 4, "/b": 6, "/b/c": 7, "/b/d~1e~0": 8, "/f": 10, "/g": 11} {
		if lines[ptr] != line {
			t.Errorf("line of %q = %d, want %d", ptr, lines[ptr], line)
		}
	}
	for _, bad := range []string{"", "{", `{"a":1}x`, `{"a":1} {}`, "nul"} {
		if _, _, ok := Pretty(bad); ok {
			t.Errorf("Pretty(%q) ok", bad)
		}
	}
	if text, _, ok := Pretty(` "plain" `); !ok || text != `"plain"` {
		t.Errorf("scalar: %q %v", text, ok)
	}
}

func TestDocument(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":1}`:                 `{"a":1}`,
		"\n  {\"a\":1}  \n":       `{"a":1}`,
		"```json\n{\"a\":1}\n```": `{"a":1}`,
		"```\n[1]\n```\n":         `[1]`,
		"```json {\"a\":1}```":    "```json {\"a\":1}```",
		"Here:\n```json\n{}\n```": "Here:\n```json\n{}\n```",
	} {
		if got := Document(in); got != want {
			t.Errorf("Document(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzCheck holds Check to its promises on any answer: no panic, and a
// failing verdict exactly when the validator fails the whole answer.
func FuzzCheck(f *testing.F) {
	s, err := Parse("p", []byte(productSchema))
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{`{"name":"a","price":1,"tags":[]}`, `{"tags":[1,"x"]}`, `[]`, `"s"`, `{"extra":{}}`, "```json\n{}\n```"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, answer string) {
		r := s.Check(answer)
		var v any
		doc := Document(answer)
		if json.Unmarshal([]byte(doc), &v) != nil {
			if r.OK() {
				t.Fatalf("not JSON yet OK: %q", answer)
			}
			return
		}
		if (s.resolved.Validate(v) == nil) != r.OK() {
			t.Fatalf("verdict differs for %q: %+v", answer, r.Violations)
		}
		if _, _, ok := Pretty(doc); !ok {
			t.Fatalf("Pretty refused valid JSON %q", doc)
		}
	})
}

// FuzzPretty holds Pretty to its promises: it lays out exactly the JSON
// values, the same value comes back, and every line it names exists.
func FuzzPretty(f *testing.F) {
	for _, seed := range []string{`{"a":[1,{}],"b":"\u2028"}`, `[]`, `1e5`, `{"a":1}x`, `"\u0000"`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		text, lines, ok := Pretty(doc)
		valid := json.Valid([]byte(doc)) && depth(doc) <= MaxDepth
		if ok != valid {
			t.Fatalf("Pretty ok %v, valid %v for %q", ok, valid, doc)
		}
		if !ok {
			return
		}
		decode := func(s string) (any, error) {
			dec := json.NewDecoder(strings.NewReader(s))
			dec.UseNumber()
			var v any
			return v, dec.Decode(&v)
		}
		want, _ := decode(doc)
		got, err := decode(text)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("Pretty changed the value: %q → %q (%v)", doc, text, err)
		}
		n := strings.Count(text, "\n") + 1
		for ptr, line := range lines {
			if line < 0 || line >= n {
				t.Fatalf("line %d of %q is outside the %d lines", line, ptr, n)
			}
		}
	})
}

// Package schema is Parley's structured-output support: it reads a JSON
// Schema from a file, checks it up front, says how to ask a gateway for
// answers that follow it, and checks an answer against it, naming every
// violation by the JSON Pointer of the value at fault. Validation is done
// by github.com/google/jsonschema-go (drafts 2020-12 and 07); this package
// adds the budgets, the checks the library leaves out (type names, $ref
// cycles) and the location of each violation. It imports no UI code.
package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/parley-chat/parley/provider"
)

// MaxFileSize bounds a schema file. A response schema counts against the
// request's input tokens, so real ones are a few kilobytes.
const MaxFileSize = 256 << 10

// maxNameLen is the longest schema name OpenAI-compatible gateways accept.
const maxNameLen = 64

// Schema is a JSON Schema that was read, checked and resolved. It is
// immutable once made and safe for concurrent use: Check may run for
// several chats at once.
type Schema struct {
	// Name identifies the schema to the gateway (json_schema.name): the
	// file's base name without its extension, in the characters
	// OpenAI-compatible gateways accept (letters, digits, _ and -), at
	// most 64 of them.
	Name string
	// Path is the file the schema was read from, as given; empty for a
	// schema parsed from bytes.
	Path string
	// Strict reports whether the schema meets the rules of OpenAI's strict
	// structured outputs (the root is an object; every object schema lists
	// all of its properties as required and sets additionalProperties to
	// false). Only then is strict mode asked for: a gateway in strict mode
	// refuses any other schema.
	Strict bool

	compact  []byte                // the schema, compacted: what is sent
	doc      map[string]any        // the schema decoded, for locating violations
	draft7   bool                  // $schema names draft-07
	resolved *jsonschema.Resolved  // for validating whole answers
	nodes    map[string]*schemaRef // every subschema by JSON Pointer
	anchors  map[string][]string   // $anchor and $dynamicAnchor names → pointers
	refs     map[string][]string   // every $ref and $dynamicRef → the pointers it may lead to
}

// schemaRef is one subschema of the document and where it sits.
type schemaRef struct {
	node any // map[string]any or bool
	// inPlace are the pointers of the subschemas that apply to the same
	// instance as this one (allOf, anyOf, oneOf, not, if/then/else,
	// dependentSchemas).
	inPlace []string
}

// Load reads the schema in the file at path (at most MaxFileSize bytes)
// and checks it as Parse does. Every error names the file.
func Load(path string) (*Schema, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("schema %s: the file is larger than %d KB", path, MaxFileSize>>10)
	}
	s, err := Parse(nameFor(path), data)
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", path, err)
	}
	s.Path = path
	return s, nil
}

// Parse checks data as a JSON Schema for answers and resolves it. It
// accepts a JSON object that jsonschema-go reads and resolves (drafts
// 2020-12 and 07, no remote references), whose "type" names are JSON
// types, and whose references never lead back to the same value without
// going deeper into it (such a schema would make validation run
// forever). name is used as the schema's Name after sanitizing.
func Parse(name string, data []byte) (*Schema, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("the schema is larger than %d KB", MaxFileSize>>10)
	}
	var raw any
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("not valid JSON: %s", describeJSONError(data, err))
	}
	doc, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("a schema for answers must be a JSON object, not %s", jsonKind(raw))
	}
	var js jsonschema.Schema
	if err := json.Unmarshal(data, &js); err != nil {
		return nil, fmt.Errorf("not a JSON Schema: %w", err)
	}
	switch js.Schema {
	case "", "https://json-schema.org/draft/2020-12/schema", "http://json-schema.org/draft-07/schema#", "http://json-schema.org/draft-07/schema":
	default:
		return nil, fmt.Errorf("$schema %q is not supported: Parley validates drafts 2020-12 and 07", js.Schema)
	}
	s := &Schema{
		Name:    sanitizeName(name),
		doc:     doc,
		draft7:  strings.Contains(js.Schema, "draft-07"),
		nodes:   map[string]*schemaRef{},
		anchors: map[string][]string{},
		refs:    map[string][]string{},
	}
	if err := s.index("", doc); err != nil {
		return nil, err
	}
	if err := s.checkCycles(); err != nil {
		return nil, err
	}
	resolved, err := js.Resolve(nil)
	if err != nil {
		return nil, fmt.Errorf("not a usable JSON Schema: %w", err)
	}
	s.resolved = resolved
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	s.compact = buf.Bytes()
	s.Strict = strictCompatible(s)
	return s, nil
}

// ResponseFormat is the request's structured-output setting for this
// schema; each dialect sends it its own way.
func (s *Schema) ResponseFormat() *provider.ResponseFormat {
	return &provider.ResponseFormat{Type: "json_schema", Name: s.Name, Schema: json.RawMessage(s.compact), Strict: s.Strict}
}

// JSON returns the schema as sent to the gateway: compact JSON.
func (s *Schema) JSON() []byte { return s.compact }

// nameFor derives a schema name from a file path: its base name without
// the extension.
func nameFor(path string) string {
	base := filepath.Base(path)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// sanitizeName keeps letters, digits, '_' and '-', turns anything else
// into '_', and keeps at most maxNameLen characters; an empty result is
// "response".
func sanitizeName(name string) string {
	var b strings.Builder
	for _, r := range name {
		if b.Len() >= maxNameLen {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if strings.Trim(b.String(), "_") == "" {
		return "response"
	}
	return b.String()
}

// jsonTypes are the names the "type" keyword may use.
var jsonTypes = []string{"array", "boolean", "integer", "null", "number", "object", "string"}

// index records every subschema of node (at pointer ptr) and checks the
// keywords jsonschema-go leaves unchecked.
func (s *Schema) index(ptr string, node any) error {
	ref := &schemaRef{node: node}
	s.nodes[ptr] = ref
	m, ok := node.(map[string]any)
	if !ok {
		return nil
	}
	if err := checkType(ptr, m["type"]); err != nil {
		return err
	}
	for _, kw := range []string{"$anchor", "$dynamicAnchor"} {
		if name, ok := m[kw].(string); ok {
			s.anchors[name] = append(s.anchors[name], ptr)
		}
	}
	var err error
	eachSubschema(m, func(kw, sub string, child any, inPlace bool) {
		if err != nil {
			return
		}
		p := ptr + "/" + escape(kw)
		if sub != "" || kw == "properties" || kw == "patternProperties" || kw == "$defs" || kw == "definitions" || kw == "dependentSchemas" || kw == "dependencies" {
			p += "/" + escape(sub)
		}
		if inPlace {
			ref.inPlace = append(ref.inPlace, p)
		}
		err = s.index(p, child)
	})
	return err
}

func checkType(ptr string, t any) error {
	var names []any
	switch v := t.(type) {
	case nil:
		return nil
	case string:
		names = []any{v}
	case []any:
		names = v
	default:
		return fmt.Errorf("%s: \"type\" must be a type name or a list of them", where(ptr))
	}
	for _, n := range names {
		name, _ := n.(string)
		if !slices.Contains(jsonTypes, name) {
			return fmt.Errorf("%s: unknown type %s (the types are %s)", where(ptr), quoteJSON(n), strings.Join(jsonTypes, ", "))
		}
	}
	return nil
}

// eachSubschema calls fn for every subschema directly inside m, in a fixed
// order: the keyword, the member name or item index within it (empty for
// a keyword that holds one schema), the subschema, and whether it applies
// to the same instance as m (rather than to a part of it, or not at all,
// as $defs).
func eachSubschema(m map[string]any, fn func(kw, sub string, child any, inPlace bool)) {
	one := func(kw string, inPlace bool) {
		if c, ok := m[kw]; ok && isSchema(c) {
			fn(kw, "", c, inPlace)
		}
	}
	list := func(kw string, inPlace bool) {
		if a, ok := m[kw].([]any); ok {
			for i, c := range a {
				if isSchema(c) {
					fn(kw, fmt.Sprint(i), c, inPlace)
				}
			}
		}
	}
	members := func(kw string, inPlace bool) {
		if o, ok := m[kw].(map[string]any); ok {
			for _, k := range slices.Sorted(maps.Keys(o)) {
				if isSchema(o[k]) {
					fn(kw, k, o[k], inPlace)
				}
			}
		}
	}
	members("$defs", false)
	members("definitions", false)
	members("properties", false)
	members("patternProperties", false)
	one("additionalProperties", false)
	one("propertyNames", false)
	one("unevaluatedProperties", false)
	if _, isList := m["items"].([]any); isList {
		list("items", false)
	} else {
		one("items", false)
	}
	list("prefixItems", false)
	one("additionalItems", false)
	one("contains", false)
	one("unevaluatedItems", false)
	list("allOf", true)
	list("anyOf", true)
	list("oneOf", true)
	one("not", true)
	one("if", true)
	one("then", true)
	one("else", true)
	members("dependentSchemas", true)
	members("dependencies", true) // draft-07: schema values apply in place; lists of names are skipped
}

func isSchema(v any) bool {
	switch v.(type) {
	case map[string]any, bool:
		return true
	}
	return false
}

// checkCycles refuses a schema in which following in-place subschemas and
// references leads back to a subschema already being applied to the same
// value: validation would never end.
func (s *Schema) checkCycles() error {
	const (
		unseen = iota
		active
		done
	)
	state := map[string]int{}
	var visit func(ptr string) error
	visit = func(ptr string) error {
		switch state[ptr] {
		case active:
			return fmt.Errorf("%s: the schema refers back to itself without going deeper into the value, so validation would never end", where(ptr))
		case done:
			return nil
		}
		state[ptr] = active
		ref := s.nodes[ptr]
		next := append([]string(nil), ref.inPlace...)
		if m, ok := ref.node.(map[string]any); ok {
			for _, kw := range []string{"$ref", "$dynamicRef"} {
				r, ok := m[kw].(string)
				if !ok {
					continue
				}
				targets, err := s.refTargets(r)
				if err != nil {
					return fmt.Errorf("%s: %w", where(ptr), err)
				}
				s.refs[r] = targets
				next = append(next, targets...)
			}
		}
		for _, n := range next {
			if err := visit(n); err != nil {
				return err
			}
		}
		state[ptr] = done
		return nil
	}
	for _, ptr := range slices.Sorted(maps.Keys(s.nodes)) {
		if err := visit(ptr); err != nil {
			return err
		}
	}
	return nil
}

// refTargets returns the pointers of the subschemas a reference may lead
// to, as Parley follows references: "#" and "#/pointer" within the
// document, "#name" to every $anchor or $dynamicAnchor of that name, and
// "uri#…" relative to a subschema whose $id ends with uri. A name leads
// to every anchor so called, which covers $dynamicRef, whose target
// depends on the path taken. A reference Parley cannot follow is an
// error: it could not rule out a cycle through it.
func (s *Schema) refTargets(ref string) ([]string, error) {
	uri, frag, _ := strings.Cut(ref, "#")
	bases := []string{""}
	if uri != "" {
		bases = nil
		for _, ptr := range slices.Sorted(maps.Keys(s.nodes)) {
			m, _ := s.nodes[ptr].node.(map[string]any)
			id, _ := m["$id"].(string)
			id, _, _ = strings.Cut(id, "#")
			if id != "" && (id == uri || strings.HasSuffix(id, "/"+strings.TrimPrefix(uri, "./"))) {
				bases = append(bases, ptr)
			}
		}
		if len(bases) == 0 {
			return nil, fmt.Errorf("cannot follow the reference %q: Parley reads no other file or URL; refer within the file, such as \"#/$defs/NAME\"", ref)
		}
	}
	var out []string
	for _, base := range bases {
		switch {
		case frag == "":
			out = append(out, base)
		case strings.HasPrefix(frag, "/"):
			p, err := url.PathUnescape(frag)
			if err != nil {
				return nil, fmt.Errorf("reference %q: %w", ref, err)
			}
			target := base + p
			if _, ok := s.nodes[target]; !ok {
				return nil, fmt.Errorf("reference %q leads to no schema in the file", ref)
			}
			out = append(out, target)
		default:
			targets := s.anchors[frag]
			if len(targets) == 0 {
				return nil, fmt.Errorf("reference %q names no $anchor in the file", ref)
			}
			out = append(out, targets...)
		}
	}
	return out, nil
}

// strictCompatible reports whether every object schema in s is closed
// (additionalProperties false) and requires all of its properties, and
// the root is an object schema.
func strictCompatible(s *Schema) bool {
	if s.doc["type"] != "object" {
		return false
	}
	for _, ref := range s.nodes {
		m, ok := ref.node.(map[string]any)
		if !ok {
			continue
		}
		props, hasProps := m["properties"].(map[string]any)
		if !hasProps && !describesObject(m["type"]) {
			continue
		}
		if ap, ok := m["additionalProperties"].(bool); !ok || ap {
			return false
		}
		required := map[string]bool{}
		if list, ok := m["required"].([]any); ok {
			for _, r := range list {
				if name, ok := r.(string); ok {
					required[name] = true
				}
			}
		}
		for k := range props {
			if !required[k] {
				return false
			}
		}
	}
	return true
}

func describesObject(t any) bool {
	switch v := t.(type) {
	case string:
		return v == "object"
	case []any:
		return slices.Contains(v, any("object"))
	}
	return false
}

// escape encodes a JSON Pointer reference token (RFC 6901).
func escape(token string) string {
	if !strings.ContainsAny(token, "~/") {
		return token
	}
	return strings.ReplaceAll(strings.ReplaceAll(token, "~", "~0"), "/", "~1")
}

// where names a place in the schema file for an error message.
func where(ptr string) string {
	if ptr == "" {
		return "at the root"
	}
	return "at " + ptr
}

// describeJSONError turns a JSON decoding error into a message with the
// line and column where it happened.
func describeJSONError(data []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var off int64
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	default:
		return err.Error()
	}
	off = min(max(off, 1), int64(len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n') - 1
	return fmt.Sprintf("line %d, column %d: %v", line, col, err)
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	}
	return "an object"
}

func quoteJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

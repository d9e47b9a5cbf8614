package schema

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/google/jsonschema-go/jsonschema"
)

// Budgets of a check. An answer is model output, so its size and the work
// spent locating violations are bounded.
const (
	// MaxAnswer is the largest answer Check validates.
	MaxAnswer = 1 << 20
	// MaxDepth is the deepest nesting of arrays and objects Check
	// validates and Pretty lays out.
	MaxDepth = 64
	// MaxViolations is how many violations a Result lists at most.
	MaxViolations = 20
	// maxSteps bounds the values and subschemas visited while locating
	// violations; past it the violations found so far are reported.
	maxSteps = 200_000
	// maxRefHops bounds the references followed for one value.
	maxRefHops = 32
	// maxMessage bounds a violation's message, in runes.
	maxMessage = 200
)

// Violation is one way an answer fails its schema.
type Violation struct {
	// Pointer is the JSON Pointer (RFC 6901) of the value at fault within
	// the answer; "" is the whole answer. A missing property is reported
	// at the object that lacks it.
	Pointer string `json:"pointer"`
	// Message says what is wrong, in the validator's words, on one line.
	Message string `json:"message"`
}

// Where is the pointer for display: "(root)" for the whole answer.
func (v Violation) Where() string {
	if v.Pointer == "" {
		return "(root)"
	}
	return v.Pointer
}

// Result is the outcome of checking one answer against a schema.
type Result struct {
	// Schema is the name of the schema the answer was checked against.
	Schema string
	// Violations are in the order their values appear in the answer;
	// none when the answer matches. At most MaxViolations are listed.
	Violations []Violation
	// More is set when there were violations beyond those listed.
	More bool
}

// OK reports whether the answer matches the schema.
func (r *Result) OK() bool { return len(r.Violations) == 0 }

// Check validates answer against the schema. The answer is the JSON
// document Document finds in it. The verdict is jsonschema-go's; each
// violation is then located by checking the values of the answer one by
// one against the parts of the schema that apply to them, so that several
// violations are reported with the pointer of each. A violation the
// locating cannot place is reported at the root with the validator's
// message, so a failing answer always has at least one violation.
// Check never panics on any answer.
func (s *Schema) Check(answer string) (r *Result) {
	r = &Result{Schema: s.Name}
	doc := Document(answer)
	if len(doc) > MaxAnswer {
		r.Violations = []Violation{{Message: fmt.Sprintf("the answer is %d KB, more than Parley validates (%d KB)", len(doc)>>10, MaxAnswer>>10)}}
		return r
	}
	if doc == "" {
		r.Violations = []Violation{{Message: "the answer is empty, not JSON"}}
		return r
	}
	if d := depth(doc); d > MaxDepth {
		r.Violations = []Violation{{Message: fmt.Sprintf("the answer nests arrays and objects %d levels deep, more than Parley validates (%d)", d, MaxDepth)}}
		return r
	}
	var inst any
	if err := json.Unmarshal([]byte(doc), &inst); err != nil {
		r.Violations = []Violation{{Message: "not valid JSON: " + describeJSONError([]byte(doc), err)}}
		return r
	}
	defer func() {
		if p := recover(); p != nil {
			r.Violations = []Violation{{Message: fmt.Sprintf("the validator failed: %v", p)}}
			r.More = false
		}
	}()
	err := s.resolved.Validate(inst)
	if err == nil {
		return r
	}
	l := &locator{s: s, cache: map[string]*jsonschema.Resolved{}, res: map[string]*regexp.Regexp{}}
	l.walk(inst, "", "", s.doc, 0)
	if len(l.found) == 0 {
		l.found = []Violation{{Message: describe(err, nil, nil)}}
	}
	order := documentOrder(doc)
	slices.SortStableFunc(l.found, func(a, b Violation) int { return order(a.Pointer) - order(b.Pointer) })
	if len(l.found) > MaxViolations {
		l.found, l.more = l.found[:MaxViolations], true
	}
	r.Violations, r.More = l.found, l.more
	return r
}

// locator finds where an answer fails: it walks the answer and the schema
// together, checking each value against its subschema with the parts that
// apply deeper (properties, items) left out, since those are checked at
// the deeper values themselves.
type locator struct {
	s     *Schema
	res   map[string]*regexp.Regexp       // compiled patternProperties
	cache map[string]*jsonschema.Resolved // shallow schema by schema pointer; nil when it does not resolve
	found []Violation
	more  bool
	steps int
}

func (l *locator) add(ptr, msg string) {
	// Up to twice the listed number are collected, so that the ones
	// listed are likely the first in document order even though the walk
	// visits object members by name.
	if len(l.found) >= 2*MaxViolations {
		l.more = true
		return
	}
	for _, v := range l.found {
		if v.Pointer == ptr && v.Message == msg {
			return
		}
	}
	l.found = append(l.found, Violation{Pointer: ptr, Message: msg})
}

// walk checks the value inst (at iptr in the answer) against the
// subschema node (at sptr in the schema).
func (l *locator) walk(inst any, iptr, sptr string, node any, hops int) {
	l.steps++
	if l.steps > maxSteps || len(l.found) >= 2*MaxViolations {
		l.more = true
		return
	}
	m, ok := node.(map[string]any)
	if !ok {
		if node == false {
			l.add(iptr, "no value is allowed here (the schema is false)")
		}
		return
	}
	ref, hasRef := m["$ref"].(string)
	var refTarget string
	followRef := false
	if hasRef && hops < maxRefHops {
		if targets := l.s.refs[ref]; len(targets) == 1 {
			refTarget, followRef = targets[0], true
		}
	}
	if l.s.draft7 && hasRef {
		// Draft-07: everything beside $ref is ignored.
		if followRef {
			l.walk(inst, iptr, refTarget, l.s.nodes[refTarget].node, hops+1)
		} else {
			l.check(inst, iptr, sptr, m, false, false)
		}
		return
	}
	// Keywords that see what other keywords evaluated must be checked
	// with them in one piece; otherwise $ref, allOf and a false
	// additionalProperties are split off and checked where they apply.
	_, unevalP := m["unevaluatedProperties"]
	_, unevalI := m["unevaluatedItems"]
	split := !unevalP && !unevalI
	l.check(inst, iptr, sptr, m, split, followRef && split)
	if followRef && split {
		l.walk(inst, iptr, refTarget, l.s.nodes[refTarget].node, hops+1)
	}
	if all, ok := m["allOf"].([]any); ok && split && hops < maxRefHops {
		for i, sub := range all {
			l.walk(inst, iptr, fmt.Sprintf("%s/allOf/%d", sptr, i), sub, hops+1)
		}
	}
	switch v := inst.(type) {
	case map[string]any:
		props, _ := m["properties"].(map[string]any)
		patterns, _ := m["patternProperties"].(map[string]any)
		for _, k := range slices.Sorted(maps.Keys(v)) {
			child := iptr + "/" + escape(k)
			matched := false
			if sub, ok := props[k]; ok {
				matched = true
				l.walk(v[k], child, sptr+"/properties/"+escape(k), sub, 0)
			}
			for _, pat := range slices.Sorted(maps.Keys(patterns)) {
				if re := l.regexp(pat); re != nil && re.MatchString(k) {
					matched = true
					l.walk(v[k], child, sptr+"/patternProperties/"+escape(pat), patterns[pat], 0)
				}
			}
			switch ap := m["additionalProperties"].(type) {
			case map[string]any:
				if !matched {
					l.walk(v[k], child, sptr+"/additionalProperties", ap, 0)
				}
			case bool:
				if !ap && !matched && split {
					l.add(child, "additionalProperties: not allowed, the schema names no such property")
				}
			}
		}
	case []any:
		prefixKw := "prefixItems"
		restKw := "items"
		if l.s.draft7 {
			prefixKw, restKw = "items", "additionalItems"
		}
		prefix, _ := m[prefixKw].([]any)
		for i, item := range v {
			child := fmt.Sprintf("%s/%d", iptr, i)
			switch {
			case i < len(prefix):
				l.walk(item, child, fmt.Sprintf("%s/%s/%d", sptr, prefixKw, i), prefix[i], 0)
			case l.s.draft7 && prefix == nil:
				if sub, ok := m["items"].(map[string]any); ok {
					l.walk(item, child, sptr+"/items", sub, 0)
				}
			default:
				if sub, ok := m[restKw].(map[string]any); ok {
					l.walk(item, child, sptr+"/"+restKw, sub, 0)
				}
			}
		}
	}
}

// regexp compiles a patternProperties pattern once; nil when it does not
// compile (Resolve has refused such a schema already).
func (l *locator) regexp(pat string) *regexp.Regexp {
	if re, ok := l.res[pat]; ok {
		return re
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		re = nil
	}
	l.res[pat] = re
	return re
}

// check validates inst against the subschema m alone (see shallow) and
// records the first reason it fails, if it does.
func (l *locator) check(inst any, iptr, sptr string, m map[string]any, split, dropRef bool) {
	if rs := l.shallow(sptr, m, split, dropRef); rs != nil {
		if err := rs.Validate(inst); err != nil {
			l.add(iptr, describe(err, m, inst))
		}
	}
}

// shallow returns the subschema m (at sptr) resolved on its own, with the
// schemas of its properties and items replaced by true (they are checked
// at the values they apply to), with its $ref (dropRef), its allOf and a
// false additionalProperties (split) left out, as the walk checks those
// itself, and with the root's $defs and $schema added so that the
// references it keeps still resolve. It is nil when that does not
// resolve; the root's verdict then stands for it.
func (l *locator) shallow(sptr string, m map[string]any, split, dropRef bool) *jsonschema.Resolved {
	key := fmt.Sprintf("%s|%t|%t", sptr, split, dropRef)
	if rs, ok := l.cache[key]; ok {
		return rs
	}
	out := make(map[string]any, len(m)+2)
	for k, v := range m {
		out[k] = v
	}
	trueMembers := func(kw string) {
		if o, ok := m[kw].(map[string]any); ok {
			t := make(map[string]any, len(o))
			for k := range o {
				t[k] = true
			}
			out[kw] = t
		}
	}
	trueItems := func(kw string) {
		switch v := m[kw].(type) {
		case map[string]any:
			out[kw] = true
		case []any:
			out[kw] = slices.Repeat([]any{true}, len(v))
		}
	}
	trueMembers("properties")
	trueMembers("patternProperties")
	trueItems("additionalProperties")
	trueItems("items")
	trueItems("prefixItems")
	trueItems("additionalItems")
	if dropRef {
		delete(out, "$ref")
	}
	if split {
		delete(out, "allOf")
		if m["additionalProperties"] == false {
			delete(out, "additionalProperties")
		}
	}
	if sptr != "" {
		for _, kw := range []string{"$id", "$anchor", "$dynamicAnchor", "$defs", "definitions"} {
			delete(out, kw)
		}
		for _, kw := range []string{"$schema", "$defs", "definitions"} {
			if v, ok := l.s.doc[kw]; ok {
				out[kw] = v
			}
		}
	}
	var rs *jsonschema.Resolved
	if data, err := json.Marshal(out); err == nil {
		var js jsonschema.Schema
		if json.Unmarshal(data, &js) == nil {
			rs, _ = js.Resolve(nil)
		}
	}
	l.cache[key] = rs
	return rs
}

// describe turns a validation error into one line saying what is wrong,
// at most maxMessage runes. The validator's message is rephrased for the
// keywords where it would show Go values or say nothing useful, when the
// failing keyword is m's own (m and inst are the subschema and value that
// were checked); otherwise it is kept, without the "validating …:"
// prefixes that say where in the schema it arose.
func describe(err error, m map[string]any, inst any) string {
	msg, depth, at := innermost(err.Error())
	kw, _, _ := strings.Cut(msg, ":")
	if kw == "not" && depth > 1 && strings.Contains(msg, "validated against") {
		// A false subschema (read as {"not": {}}) at the place named.
		msg = at[strings.LastIndexByte(at, '/')+1:] + ": not allowed here"
	}
	if depth <= 1 && m != nil {
		switch kw {
		case "type":
			msg = fmt.Sprintf("type: %s, want %s", jsonTypeOf(inst), typeNames(m["type"]))
		case "enum":
			msg = fmt.Sprintf("enum: %s is not one of %s", short(inst), short(m["enum"]))
		case "const":
			msg = fmt.Sprintf("const: %s is not %s", short(inst), short(m["const"]))
		case "required":
			if missing := missingProperties(m, inst); len(missing) > 0 {
				msg = "required: missing " + strings.Join(missing, ", ")
			}
		case "anyOf", "oneOf":
			n := 0
			if alts, ok := m[kw].([]any); ok {
				n = len(alts)
			}
			if strings.Contains(msg, "validated against both") {
				msg = fmt.Sprintf("%s: matches more than one of its %d alternatives", kw, n)
			} else {
				msg = fmt.Sprintf("%s: matches none of its %d alternatives", kw, n)
			}
		case "not":
			msg = "not: matches the schema it must not match"
		}
	}
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = strings.TrimRight(msg[:i], ": ") + " …"
	}
	msg = tidyNumbers(msg)
	if utf8.RuneCountInString(msg) > maxMessage {
		r := []rune(msg)
		msg = string(r[:maxMessage-1]) + "…"
	}
	return msg
}

// innermost strips the "validating …:" prefixes from a validator message,
// counts them and returns the last place they name.
func innermost(msg string) (rest string, depth int, at string) {
	for strings.HasPrefix(msg, "validating ") {
		i := strings.Index(msg, ": ")
		if i < 0 {
			break
		}
		at = msg[len("validating "):i]
		msg = msg[i+2:]
		depth++
	}
	return msg, depth, at
}

var (
	wholeRatio    = regexp.MustCompile(`\b(-?\d+)/1\b`)
	trailingZeros = regexp.MustCompile(`\b(\d+)\.(\d*?)0+\b`)
)

// tidyNumbers writes the validator's numbers plainly: 5 for 5/1, 0 for
// 0.000000, 1.5 for 1.500000.
func tidyNumbers(msg string) string {
	msg = wholeRatio.ReplaceAllString(msg, "$1")
	return trailingZeros.ReplaceAllStringFunc(msg, func(s string) string {
		return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
	})
}

// jsonTypeOf names the JSON type of a decoded value as the type keyword
// does; a number without a fraction is an integer.
func jsonTypeOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		if x == float64(int64(x)) {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	}
	return "object"
}

func typeNames(t any) string {
	switch v := t.(type) {
	case string:
		return v
	case []any:
		names := make([]string, 0, len(v))
		for _, n := range v {
			names = append(names, fmt.Sprint(n))
		}
		return "one of " + strings.Join(names, ", ")
	}
	return fmt.Sprint(t)
}

// missingProperties lists, quoted, the required properties inst lacks.
func missingProperties(m map[string]any, inst any) []string {
	obj, _ := inst.(map[string]any)
	list, _ := m["required"].([]any)
	var out []string
	for _, r := range list {
		name, ok := r.(string)
		if _, has := obj[name]; ok && !has {
			out = append(out, quoteJSON(name))
		}
	}
	return out
}

// short is v as JSON, cut to 60 runes.
func short(v any) string {
	s := quoteJSON(v)
	if utf8.RuneCountInString(s) > 60 {
		s = string([]rune(s)[:59]) + "…"
	}
	return s
}

// documentOrder returns a function giving the position of a pointer's
// value in doc, for sorting violations in reading order; pointers not
// found sort last.
func documentOrder(doc string) func(ptr string) int {
	_, lines, ok := Pretty(doc)
	return func(ptr string) int {
		if n, found := lines[ptr]; ok && found {
			return n
		}
		return 1 << 30
	}
}

// depth is the deepest nesting of arrays and objects in the JSON text doc
// (brackets inside strings do not count); the text need not be valid.
func depth(doc string) int {
	d, deepest := 0, 0
	inString, escaped := false, false
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			d++
			deepest = max(deepest, d)
		case c == ']' || c == '}':
			d--
		}
	}
	return deepest
}

package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/parley-chat/parley/sanitize"
	"github.com/parley-chat/parley/schema"
	"github.com/parley-chat/parley/session"
)

// loadSchema reads the --json-schema file, if one was given. A schema that
// cannot be read or is not a usable JSON Schema is a usage error.
func (a *app) loadSchema() (*schema.Schema, error) {
	if a.f.jsonSchema == "" {
		return nil, nil
	}
	s, err := schema.Load(a.f.jsonSchema)
	if err != nil {
		return nil, usageErrorf("--json-schema: %w", err)
	}
	return s, nil
}

// errSchemaViolated ends print mode when the answer does not match the
// --json-schema schema; the violations have been reported by then.
var errSchemaViolated = errors.New("the answer does not match the schema")

// schemaFailure is print mode's verdict on a finished answer: nil when no
// schema was asked for or the answer matches it, else exit 1 without a
// further message.
func schemaFailure(t *session.Turn) error {
	if t.SchemaCheck == nil || t.SchemaCheck.OK() {
		return nil
	}
	return &exitError{code: ExitFailure, err: errSchemaViolated, silent: true}
}

// violationLines are the stderr lines of a failed check, without the
// "parley: " prefix.
func violationLines(r *schema.Result) []string {
	if r == nil || r.OK() {
		return nil
	}
	var lines []string
	for _, v := range r.Violations {
		lines = append(lines, fmt.Sprintf("schema violation at %s: %s", v.Where(), v.Message))
	}
	if r.More {
		lines = append(lines, fmt.Sprintf("more violations of the schema %s than the %d listed", r.Schema, len(r.Violations)))
	}
	return lines
}

// schema keeps the check of the answer for finish, which reports it on
// stderr after the answer's last line.
func (p *textPrinter) schema(r *schema.Result) { p.check = r }

// reportSchema writes a failed check's violations on stderr, one line each.
func (p *textPrinter) reportSchema() {
	for _, l := range violationLines(p.check) {
		p.line("%s", l)
	}
}

// schemaViolationEvent is the JSONL line for one violation. More is set on
// the last line when the check found more violations than it lists.
type schemaViolationEvent struct {
	Type    string `json:"type"` // "schema_violation"
	Schema  string `json:"schema"`
	Pointer string `json:"pointer"`
	Message string `json:"message"`
	More    bool   `json:"more,omitempty"`
}

// schema writes one schema_violation line per violation, before the done
// line that ends the stream, and reports them on stderr as well.
func (p *jsonlPrinter) schema(r *schema.Result) {
	if r == nil || r.OK() {
		return
	}
	for i, v := range r.Violations {
		ev := schemaViolationEvent{Type: "schema_violation", Schema: r.Schema, Pointer: v.Pointer, Message: v.Message,
			More: r.More && i == len(r.Violations)-1}
		b, err := json.Marshal(ev)
		if err == nil {
			_, err = p.out.Write(append(b, '\n'))
		}
		if err != nil && p.err == nil {
			p.err = err
		}
	}
	for _, l := range violationLines(r) {
		writeLine(p.errOut, l, p.secret)
	}
}

// writeLine writes one "parley: " line on stderr, sanitized and without
// the key.
func writeLine(w io.Writer, msg, secret string) {
	if w == nil {
		return
	}
	fmt.Fprintf(w, "parley: %s\n", sanitize.Line(redact(msg, secret)))
}

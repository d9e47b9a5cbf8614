package provider

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// The budgets of one answer. A gateway that goes past one gets a clear
// error and Parley stops reading; what streamed before stands.
const (
	// MaxAnswerBytes bounds an answer's text and reasoning together.
	MaxAnswerBytes = 64 << 20
	// MaxToolCallBytes bounds the arguments of one tool call.
	MaxToolCallBytes = 16 << 20
	// MaxToolArgsBytes bounds the arguments of all an answer's tool calls.
	MaxToolArgsBytes = 64 << 20
	// MaxToolCalls bounds the number of tool calls in one answer.
	MaxToolCalls = 10000
)

// Budget counts what one answer has used of its budgets. The zero value
// is ready to use, with the limits above; it is not safe for concurrent
// use.
type Budget struct {
	// Limits, when set, replace the limits above (tests use small ones).
	Limits BudgetLimits

	text, args, calls int
}

// BudgetLimits are the limits of a Budget; a zero field means the
// package's default.
type BudgetLimits struct {
	Text, Call, Args, Calls int
}

func orDefault(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// Text takes n bytes of answer or reasoning text.
func (b *Budget) Text(n int) *APIError {
	b.text += n
	if limit := orDefault(b.Limits.Text, MaxAnswerBytes); b.text > limit {
		return tooLarge(fmt.Sprintf("the answer passed %s of text", size(limit)))
	}
	return nil
}

// EmitText emits s, unless empty, as answer text or reasoning if it fits
// the text budget, and returns the budget's error if not.
func (b *Budget) EmitText(emit func(Event), s string, reasoning bool) *APIError {
	if s == "" {
		return nil
	}
	if ae := b.Text(len(s)); ae != nil {
		return ae
	}
	if reasoning {
		emit(ReasoningDelta{Text: s})
	} else {
		emit(TextDelta{Text: s})
	}
	return nil
}

// Call takes one more tool call.
func (b *Budget) Call() *APIError {
	b.calls++
	if limit := orDefault(b.Limits.Calls, MaxToolCalls); b.calls > limit {
		return tooLarge(fmt.Sprintf("the answer has more than %d tool calls", limit))
	}
	return nil
}

// Args takes n more bytes of arguments for a tool call named name that
// has had before bytes so far.
func (b *Budget) Args(name string, before, n int) *APIError {
	b.args += n
	if limit := orDefault(b.Limits.Call, MaxToolCallBytes); before+n > limit {
		if name == "" {
			name = "a tool call"
		} else {
			name = "tool call " + strconv.Quote(name)
		}
		return tooLarge(fmt.Sprintf("the arguments of %s passed %s", name, size(limit)))
	}
	if limit := orDefault(b.Limits.Args, MaxToolArgsBytes); b.args > limit {
		return tooLarge(fmt.Sprintf("the answer's tool-call arguments passed %s", size(limit)))
	}
	return nil
}

// size writes a byte count for messages.
func size(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func tooLarge(what string) *APIError {
	return &APIError{Kind: KindStream, Title: "answer too large",
		Message: what + "; Parley stopped reading it (what came before is kept, unfinished tool calls are dropped)"}
}

// Count is a token count as gateways write it: an integer, a number with
// a fraction or exponent, a numeric string, or null. Anything else reads
// as 0 rather than failing the event that carries it.
type Count int

// UnmarshalJSON implements json.Unmarshaler; it never fails.
func (c *Count) UnmarshalJSON(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"`)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > math.MaxInt32 {
		*c = 0
		return nil
	}
	*c = Count(math.Round(f))
	return nil
}

// Shapes decodes stream events that are valid JSON of an unexpected shape
// without failing the answer: what the answer does not need is ignored,
// and the events ignored are remembered so that an answer that then ends
// without finishing can say so. The zero value is ready to use.
type Shapes struct {
	ignored int
	first   string
}

// Decode unmarshals one event's data into v. Text that is not JSON is an
// error. JSON whose top level is not what v expects (an array, a number)
// carries nothing for the answer: ok is false and the event is to be
// skipped. A field of an unexpected type is left unset, unless critical
// says the answer needs it (its text, a tool call): that is an error that
// names the field. v holds what could be read.
func (s *Shapes) Decode(data []byte, v any, critical func(field string) bool) (ok bool, ae *APIError) {
	err := json.Unmarshal(data, v)
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return true, nil
	case !errors.As(err, &te):
		return false, Malformed("a stream event is not valid JSON", data)
	case te.Field == "":
		s.ignore(data)
		return false, nil
	case critical != nil && critical(te.Field):
		return false, Malformed(fmt.Sprintf("a stream event has an unexpected %s where %s should be a %s", te.Value, te.Field, jsonKind(te.Type.Kind())), data)
	}
	s.ignore(data)
	return true, nil
}

func (s *Shapes) ignore(data []byte) {
	if s.ignored == 0 {
		s.first = Excerpt(data)
	}
	s.ignored++
}

// Note is what to add to the message of an answer that ended without
// finishing: how many events were ignored, and the first of them.
func (s *Shapes) Note() string {
	switch s.ignored {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf(" (one stream event of an unexpected shape was ignored: %s)", s.first)
	}
	return fmt.Sprintf(" (%d stream events of an unexpected shape were ignored, the first: %s)", s.ignored, s.first)
}

func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "string"
	case reflect.Slice, reflect.Array:
		return "list"
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Bool:
		return "boolean"
	}
	return "number"
}

package demogw

import (
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode"
)

// The answer kinds the demo gateway chooses between.
const (
	kindDefault    = "default"
	kindCode       = "code"
	kindTable      = "table"
	kindLong       = "long"
	kindHostile    = "hostile"
	kindToolCall   = "tool_call"
	kindToolResult = "tool_result"
)

// reply is everything one chat completion answers with: optional reasoning,
// then either content or one tool call.
type reply struct {
	kind      string
	reasoning string
	content   string
	// toolID, toolName and toolArgs describe the tool call, when kind is
	// kindToolCall; toolArgs are the argument fragments in streaming order.
	toolID   string
	toolName string
	toolArgs []string
	finish   string
}

// args is the tool call's complete argument string.
func (r reply) args() string { return strings.Join(r.toolArgs, "") }

// fence is a markdown code fence marker.
const fence = "```"

// compose chooses the reply to req. The choice depends only on the request:
// the model, the last user message's keywords, whether tools were offered,
// and whether the conversation ends with a tool result.
func compose(req *chatRequest, seed uint64) reply {
	last := req.lastUser()
	w := words(last)
	think := req.Model == modelThink || hasWord(w, "think", "reason") ||
		req.ReasoningEffort == "low" || req.ReasoningEffort == "medium" || req.ReasoningEffort == "high"

	var r reply
	switch {
	case len(req.Messages) > 0 && req.Messages[len(req.Messages)-1].Role == "tool":
		r = toolResultReply(req)
	case len(req.Tools) > 0 && hasWord(w, "weather", "tool"):
		r = reply{
			kind:     kindToolCall,
			toolID:   fmt.Sprintf("call_demo%016x", seed),
			toolName: "get_weather",
			toolArgs: weatherArgs(cityIn(last)),
			finish:   "tool_calls",
		}
	case hasWord(w, "escape", "hostile"):
		r = reply{kind: kindHostile, content: hostileAnswer()}
	case hasWord(w, "long"):
		r = reply{kind: kindLong, content: longAnswer}
	case hasWord(w, "table"):
		r = reply{kind: kindTable, content: tableAnswer}
	case hasWord(w, "code", "python"):
		r = reply{kind: kindCode, content: codeAnswer}
	default:
		r = reply{kind: kindDefault, content: defaultAnswer}
	}
	if r.finish == "" {
		r.finish = "stop"
	}
	if think {
		r.reasoning = reasoningFor(r.kind)
	}
	return r
}

// words splits s into lower-case words of letters and digits.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// hasWord reports whether some word starts with one of the keywords, so
// "tables" and "thinking" match but "along" does not match "long".
func hasWord(ws []string, keywords ...string) bool {
	for _, w := range ws {
		for _, k := range keywords {
			if strings.HasPrefix(w, k) {
				return true
			}
		}
	}
	return false
}

// answers holds the canned answers as markdown files: default.md,
// code.md, table.md, long.md (the ~25 KB answer for "long"), hostile.md
// (a template: see hostileAnswer) and reasoning/KIND.md, the reasoning
// streamed before an answer of each kind. The files are the exact bytes
// sent; the end-to-end tests depend on them.
//
//go:embed answers
var answers embed.FS

// answer returns the canned text in answers/name.md.
func answer(name string) string {
	b, err := answers.ReadFile("answers/" + name + ".md")
	if err != nil {
		panic("demogw: missing canned answer " + name) // a build without its embedded files
	}
	return string(b)
}

var (
	defaultAnswer = answer("default")
	codeAnswer    = answer("code")
	tableAnswer   = answer("table")
	longAnswer    = answer("long")
)

// clipboardPayload is what the hostile answer's OSC 52 sequence would put
// on the clipboard of a terminal that obeyed it.
const clipboardPayload = "echo 'this text was planted by a hostile model'"

// hostileAnswer is an answer with terminal control sequences embedded in
// ordinary text: an OSC 52 clipboard write, an OSC 0 title change, a CSI 2J
// screen clear, a DCS request and a right-to-left override. A client that
// displays it unsanitised lets the model drive the terminal. The text is
// answers/hostile.md with the sequences put in place of its {{…}}
// markers, so the file itself holds no control characters.
func hostileAnswer() string {
	return strings.NewReplacer(
		"{{osc52}}", "\x1b]52;c;"+base64.StdEncoding.EncodeToString([]byte(clipboardPayload))+"\x07",
		"{{osc0}}", "\x1b]0;you-have-been-pwned\x07",
		"{{clear}}", "\x1b[2J\x1b[H",
		"{{dcs}}", "\x1bP$qm\x1b\\",
		"{{rlo}}", "invoice\u202efdp.exe",
	).Replace(answer("hostile"))
}

// toolResultReply answers a conversation whose last message is a tool
// result, using that result.
func toolResultReply(req *chatRequest) reply {
	res := req.Messages[len(req.Messages)-1]
	name, args := "the tool", ""
	for i := len(req.Messages) - 1; i >= 0; i-- {
		for _, tc := range req.Messages[i].ToolCalls {
			if tc.ID == res.ToolCallID || res.ToolCallID == "" {
				name, args = tc.Function.Name, tc.Function.Arguments
			}
		}
		if name != "the tool" {
			break
		}
	}
	out := res.text()
	var b strings.Builder
	place := ""
	var a map[string]any
	if json.Unmarshal([]byte(args), &a) == nil {
		if loc, ok := a["location"].(string); ok {
			place = loc
		}
	}
	if failed, ok := toolFailure(out); ok {
		return notRunReply(name, place, failed)
	}
	if place != "" {
		fmt.Fprintf(&b, "## Weather in %s\n\n", place)
	} else {
		b.WriteString("## Tool result\n\n")
	}
	if name == "the tool" {
		b.WriteString("The tool returned:\n\n")
	} else {
		fmt.Fprintf(&b, "I called `%s`", name)
		if args != "" {
			fmt.Fprintf(&b, " with `%s`", args)
		}
		b.WriteString(" and it returned:\n\n")
	}
	f := fence
	for strings.Contains(out, f) {
		f += "`"
	}
	var obj map[string]any
	isJSON := json.Unmarshal([]byte(out), &obj) == nil && len(obj) > 0
	if isJSON {
		fmt.Fprintf(&b, "%sjson\n%s\n%s\n\n", f, strings.TrimSpace(out), f)
		b.WriteString("Reading it field by field:\n\n| Field | Value |\n|-------|-------|\n")
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v, _ := json.Marshal(obj[k])
			cell := strings.ReplaceAll(strings.Trim(string(v), `"`), "|", `\|`)
			fmt.Fprintf(&b, "| `%s` | %s |\n", k, cell)
		}
		b.WriteString("\n")
	} else {
		fmt.Fprintf(&b, "%s\n%s\n%s\n\n", f, strings.TrimSpace(out), f)
	}
	if place != "" {
		fmt.Fprintf(&b, "**In short:** that is the current picture for %s, straight from the tool rather than from my memory. "+
			"Ask again later and the tool will fetch fresh data.\n", place)
	} else {
		b.WriteString("**In short:** the answer above comes straight from the tool's output rather than from my memory.\n")
	}
	return reply{kind: kindToolResult, content: b.String(), finish: "stop"}
}

// toolFailure reads a tool result that says the tool did not run or
// failed: {"error": …} with an optional "reason". It returns the words to
// quote.
func toolFailure(out string) (string, bool) {
	var obj map[string]any
	if json.Unmarshal([]byte(out), &obj) != nil {
		return "", false
	}
	e, ok := obj["error"].(string)
	if !ok {
		return "", false
	}
	if r, ok := obj["reason"].(string); ok && r != "" {
		e += " — the reason given: " + r
	}
	return e, true
}

// notRunReply answers a tool result that says the tool did not run.
func notRunReply(name, place, failed string) reply {
	var b strings.Builder
	if place != "" {
		fmt.Fprintf(&b, "## Weather in %s\n\n", place)
	} else {
		b.WriteString("## Tool result\n\n")
	}
	fmt.Fprintf(&b, "I asked to call `%s`, but it did not give me a result: *%s*.\n\n", name, strings.ReplaceAll(failed, "*", ""))
	b.WriteString("So I cannot tell you from the tool. Allow the call next time (or fix what stopped it) and ask again.\n")
	return reply{kind: kindToolResult, content: b.String(), finish: "stop"}
}

// reasoningFor is the reasoning text streamed before an answer of kind.
func reasoningFor(kind string) string {
	switch kind {
	case kindCode, kindTable, kindLong, kindHostile, kindToolCall, kindToolResult:
		return answer("reasoning/" + kind)
	}
	return answer("reasoning/" + kindDefault)
}

// rng is a small deterministic generator (splitmix64), so generated text
// and chunking are identical on every run and every Go version.
type rng struct{ state uint64 }

func (r *rng) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n).
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// float returns a number in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

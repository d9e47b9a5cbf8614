package demo

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
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

// md turns the acute accents used for backticks in the raw string
// literals below into real backticks (Go raw strings cannot hold them).
func md(s string) string { return strings.ReplaceAll(s, "´", "`") }

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
			toolArgs: []string{`{"`, `loca`, `tion":"`, `Par`, `is"}`},
			finish:   "tool_calls",
		}
	case hasWord(w, "escape", "hostile"):
		r = reply{kind: kindHostile, content: hostileAnswer()}
	case hasWord(w, "long"):
		r = reply{kind: kindLong, content: longAnswer()}
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

var defaultAnswer = md(`## Welcome to Parley

This answer comes from the **demo gateway** built into Parley. It runs on your own machine, needs no API key and never touches the network, yet it streams exactly the way a real OpenAI-compatible gateway does: server-sent events, rate-limit headers and all.

### Things to try

- Ask for **code** or **python** to see syntax highlighting.
- Ask for a **table** to see tables laid out in the terminal.
- Ask for something **long** and watch a 25 KB answer stream smoothly.
- Mention the **weather** to see the model ask for a tool call.
- Say **think**, or pick ´demo-think´, to watch reasoning stream before the answer.
- Ask about **escape** sequences to see hostile terminal output neutralised.

### A little Go

´´´go
package main

import "fmt"

func main() {
	steps := []string{"stream", "render", "repeat"}
	for i, step := range steps {
		fmt.Printf("%d. %s\n", i+1, step)
	}
}
´´´

### The demo models

| Model | What it shows | Pace |
|-------|---------------|------|
| ´demo-fast´ | plain answers and tool calls | about 50 tokens/s |
| ´demo-think´ | reasoning first, then the answer | reasoning runs faster |
| ´demo-image´ | image generation | about a second |

> Now and then the demo gateway holds a request in its queue for a moment, the way busy gateways do, so you can see how a queued request looks while it waits for a slot.
`)

var codeAnswer = md(`## Reading a stream line by line

Server-sent events are just lines of text, so a streaming client is mostly a careful line reader. Here is the same idea three ways.

### Python

´´´python
import json
import sys


def read_events(lines):
    """Yield the JSON payload of every data line until the [DONE] sentinel."""
    for raw in lines:
        line = raw.rstrip("\n")
        if not line.startswith("data: "):
            continue  # comments, blank separators, event names
        payload = line[len("data: "):]
        if payload == "[DONE]":
            return
        yield json.loads(payload)


def main():
    parts = []
    for chunk in read_events(sys.stdin):
        for choice in chunk.get("choices", []):
            parts.append(choice["delta"].get("content") or "")
    print("".join(parts))


if __name__ == "__main__":
    main()
´´´

### Go

´´´go
package sse

import (
	"bufio"
	"encoding/json"
	"io"
	"strings"
)

// Chunk is the part of a chat.completion.chunk this reader needs.
type Chunk struct {
	Choices []struct {
		Delta struct {
			Content string ´json:"content"´
		} ´json:"delta"´
	} ´json:"choices"´
}

// ReadAll concatenates the content deltas of an OpenAI-style stream.
func ReadAll(r io.Reader) (string, error) {
	var b strings.Builder
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if data == "[DONE]" {
			break
		}
		var c Chunk
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			return b.String(), err
		}
		for _, ch := range c.Choices {
			b.WriteString(ch.Delta.Content)
		}
	}
	return b.String(), sc.Err()
}
´´´

### From the shell

´´´bash
curl -sN "$BASE_URL/chat/completions" \
  -H "Authorization: Bearer $API_KEY" \
  -H "Content-Type: application/json" \
  -d '{"model":"demo-fast","stream":true,"messages":[{"role":"user","content":"hi"}]}' |
  sed -n 's/^data: //p' | grep -v '^\[DONE\]$' | jq -j '.choices[0].delta.content // empty'
´´´

A few things worth noticing:

1. **Blank lines separate events**, and one event may span several ´data:´ lines.
2. Lines that start with ´:´ are comments; gateways send them as keep-alives.
3. The ´[DONE]´ sentinel is not JSON, so check for it *before* decoding.
4. Raise the scanner's buffer: tool-call arguments and images easily exceed 64 KB.
`)

var tableAnswer = md(`## How gateways say "not now"

Every gateway has its own way of telling a client to slow down or go away. This table lists the usual answers and what a well-behaved client does with each.

| Status | Meaning | A good client… |
|:------:|---------|----------------|
| **200** | The answer streams | shows how many requests are left |
| **400** | Malformed request | shows the gateway's message and stops |
| **401** | Missing or invalid key | asks you to check the key, never prints it |
| **404** | Unknown model or path | lists the models that do exist |
| **429** | Queued or rate limited | waits as told, with a countdown, then retries |
| **500** | Gateway failure | retries with back-off and jitter |
| **503** | Queue timed out | waits as told, then retries |

The headers worth reading:

- ´X-RateLimit-Limit´ and ´X-RateLimit-Remaining´: the budget of the current window.
- ´X-RateLimit-Reset´: when the window starts over, in Unix seconds.
- ´Retry-After´: how many seconds to wait before sending the request again.

### The demo models at a glance

| Model | Tokens per second | First token | Reasoning |
|:------|------------------:|------------:|:---------:|
| ´demo-fast´ | 40–60 | ~0.35 s | no |
| ´demo-think´ | 40–60 | ~0.6 s | yes |
| ´demo-image´ | — | ~1.2 s | no |

Numbers sit right-aligned in the second table, as numbers should; **bold**, ´code´ and dashes survive inside cells.
`)

// clipboardPayload is what the hostile answer's OSC 52 sequence would put
// on the clipboard of a terminal that obeyed it.
const clipboardPayload = "echo 'this text was planted by a hostile model'"

// hostileAnswer is an answer with terminal control sequences embedded in
// ordinary text: an OSC 52 clipboard write, an OSC 0 title change, a CSI 2J
// screen clear, a DCS request and a right-to-left override. A client that
// displays it unsanitised lets the model drive the terminal.
func hostileAnswer() string {
	osc52 := "\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte(clipboardPayload)) + "\x07"
	osc0 := "\x1b]0;you-have-been-pwned\x07"
	clear := "\x1b[2J\x1b[H"
	dcs := "\x1bP$qm\x1b\\"
	rlo := "invoice\u202efdp.exe"
	return "## Terminal escape sequences: a safety demo\n\n" +
		"This answer deliberately hides **hostile terminal control sequences** inside ordinary text. " +
		"A careless client would hand them straight to your terminal; Parley removes them before anything is drawn, " +
		"so each pair of brackets below should look empty and nothing odd should happen.\n\n" +
		"1. A clipboard write (OSC 52): [" + osc52 + "]. Had it worked, your clipboard would now hold a shell command.\n" +
		"2. A window title change (OSC 0): [" + osc0 + "]. Your terminal's title should be unchanged.\n" +
		"3. A screen clear with the cursor sent home (CSI 2J): [" + clear + "]. The conversation above should still be there.\n" +
		"4. A device control string that asks the terminal to answer back (DCS): [" + dcs + "]. Nothing should appear in your prompt.\n\n" +
		"One more trick does not need an escape at all: a right-to-left override makes the file name " + rlo +
		" look like a PDF. Sanitised, it reads as the executable it really is.\n\n" +
		"> If anything above changed your clipboard, title or screen, a sequence got through: please report it.\n"
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

// reasoningFor is the reasoning text streamed before an answer of kind.
func reasoningFor(kind string) string {
	switch kind {
	case kindCode:
		return "The user wants code. A streaming reader is a good example because it is short, practical and shows the same idea in several languages. " +
			"I will write it in Python first, then Go, then a shell one-liner, and finish with the pitfalls people usually hit. " +
			"Each block needs a language tag so the client can highlight it."
	case kindTable:
		return "The user asked for a table. Something with real content works better than placeholder rows, so HTTP statuses a gateway returns are a good fit. " +
			"A second, numeric table will show right alignment. " +
			"I should keep the cells short so the columns fit a normal terminal width."
	case kindLong:
		return "The user wants a long answer. I will write a field guide with many sections, mixing paragraphs, lists, code, tables and quotes, " +
			"so the renderer has plenty of different blocks to lay out while the text streams. " +
			"Headings will keep it navigable."
	case kindHostile:
		return "The user wants to see escape sequences. I will embed a clipboard write, a title change, a screen clear and a device control string in plain sentences, " +
			"and say clearly what each one would have done. " +
			"If the client sanitises properly, the reader sees only empty brackets."
	case kindToolCall:
		return "The user is asking about the weather, and the request offers tools. " +
			"I cannot know today's weather from memory, so calling get_weather for Paris is the honest move. " +
			"I will answer once the result comes back."
	case kindToolResult:
		return "The tool has answered. I should report what it returned, show the raw result so nothing is hidden, " +
			"and summarise it in a sentence without inventing details that are not in the data."
	}
	return "The message has none of the demo keywords, so a friendly overview is the right answer. " +
		"I should introduce the demo gateway, list the keywords that unlock the other answers, " +
		"and include a heading, a list, a small Go program and a table so the renderer has something to show. " +
		"Short and well structured is better than exhaustive here."
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

// longAnswer is the ~25 KB answer for "long": generated once, always the
// same.
var longAnswer = sync.OnceValue(func() string { return generateLong(&rng{state: 20261121}) })

var longTopics = []struct{ title, lead string }{
	{"Why streaming matters", "A chat client that waits for the whole answer feels broken even when it is fast. Streaming turns waiting into reading: the first words arrive in a fraction of a second and the rest follows at reading speed."},
	{"Reading server-sent events", "The wire format is refreshingly plain: lines of text, a blank line between events, and a sentinel at the end. The difficulty is not the format but everything around it."},
	{"Rendering markdown incrementally", "Markdown is easy to render once and surprisingly hard to render a thousand times per answer. The trick is to notice which blocks can no longer change."},
	{"Keeping frames cheap", "A terminal interface has a frame budget like any other interface. Most of that budget should be spent doing nothing at all."},
	{"Rate limits and queues", "Gateways protect themselves with limits, and the good ones say so in headers. A client that reads those headers can pace itself instead of hammering the door."},
	{"Retrying without surprises", "A retry is a promise to the user that the program knows what it is doing. Unbounded or silent retries break that promise."},
	{"Tool calls", "A tool call is the model asking the client to act on its behalf. The arguments arrive in fragments and only make sense once the last fragment is in."},
	{"Reasoning streams", "Some models think out loud before they answer. Showing that reasoning, folded away by default, helps people trust and debug the answer."},
	{"Terminal safety", "A terminal is a programmable device, and escape sequences are its programming language. Text from a model must never be allowed to speak it."},
	{"Persistence and search", "Conversations are worth keeping. A local database with full-text search turns a chat history into a searchable notebook."},
	{"Comparing models side by side", "Running the same prompt against several models at once is the quickest way to learn how they differ. It is also a good stress test for the client."},
	{"Testing a streaming client", "Streams are full of timing, and timing makes tests flaky unless time itself is under the test's control."},
	{"Measuring performance", "Performance claims without numbers are opinions. Benchmarks make them facts and keep them true as the code changes."},
	{"Colour and accessibility", "Colour helps, but it should never be the only way information is shown. Light and dark terminals both deserve a readable theme."},
}

var longSentences = []string{
	"Measure first; intuition about where time goes is wrong more often than it is right.",
	"A small, boring design that is easy to test beats a clever one that only its author understands.",
	"Every buffer needs an upper bound, and every wait needs a deadline.",
	"The user should always be able to tell whether the program is working, waiting or stuck.",
	"Errors are part of the interface: say what happened, what it means and what to do next.",
	"Deterministic behaviour makes bugs reproducible, and reproducible bugs get fixed.",
	"Work that can be done once should be cached, and every cache needs a clear key.",
	"Cancellation must be quick; a stop button that takes five seconds is not a stop button.",
	"Text from the network is data, never instructions for the terminal.",
	"Long outputs are normal rather than an edge case, so design for them from the start.",
	"A frame budget of sixteen milliseconds leaves little room for surprises in the render path.",
	"Logs belong in a file while the interface owns the screen.",
	"Partial results are valuable: keep what already arrived when something fails halfway.",
	"Small functions with honest names make a streaming pipeline far easier to follow.",
	"Back-pressure is a feature, because a slow consumer should slow the producer rather than exhaust memory.",
	"Time in tests should be injected rather than waited for.",
	"Headers often carry the most useful information in an error response.",
	"Good defaults matter more than many options.",
	"The fastest code is the code that does not run on every keystroke.",
	"Concurrency is easier to reason about when each piece of state has exactly one owner.",
	"Retries need jitter, a limit and respect for what the server asked for.",
	"Unicode width is subtle: a single visible character can take two columns, or none.",
	"When two components disagree about a protocol, a recorded real exchange settles the argument.",
	"A clear status line prevents a surprising number of support questions.",
	"Keep the happy path fast and the unhappy path informative.",
	"Configuration should be explicit, validated early and reported with file and line.",
	"Nothing should block the event loop: input must stay responsive while work happens elsewhere.",
	"Benchmarks guard performance the way tests guard behaviour.",
	"Streams end in many ways, and each of them should be handled exactly once.",
	"It is easier to remove a feature from a design document than from a release.",
}

var longTips = []string{
	"**Bound everything**: buffers, retries, waits and queue lengths.",
	"**Prefer plain data** between components; it is easy to log, compare and replay.",
	"**Inject the clock** so time-dependent code can be tested instantly.",
	"**Render on a tick**, not on every delta.",
	"**Cache by key**: content, width and theme together decide the output.",
	"**Fail loudly in tests** and gracefully in production.",
	"**Keep secrets out of argv**, logs and error messages.",
	"**Sanitize at the boundary** where network text enters the display.",
	"**Make cancellation cheap** and pass it everywhere.",
	"**Record real traffic** and replay it in tests.",
	"**Name things for what they guarantee**, not for how they work.",
	"**Stream partial results** so progress is visible at once.",
	"**Treat 429 as information**: it says when to come back.",
	"**Watch tail latency**, not only the average.",
	"**Keep the UI goroutine idle** between frames.",
	"**Version your formats** before the first file is saved.",
	"**Document the defaults** next to the code that applies them.",
	"**Test the unhappy paths**: timeouts, malformed JSON, closed connections.",
}

var longSteps = []string{
	"Open the connection and send the request with a deadline.",
	"Check the status line before reading a single byte of the body.",
	"Record the rate-limit headers, even on success.",
	"Decode events one at a time and hand each to its consumer.",
	"Coalesce small deltas until the next frame is due.",
	"Render only the part of the message that can still change.",
	"On cancellation, stop reading, close the body and keep the partial answer.",
	"On a retryable failure, wait as long as the server asked, then try again.",
	"On success, store the message together with its usage figures.",
	"Update the status line last, so it always describes the final state.",
}

var longSnippets = []struct{ lang, code string }{
	{"go", "ticker := time.NewTicker(16 * time.Millisecond)\ndefer ticker.Stop()\nfor {\n\tselect {\n\tcase <-ctx.Done():\n\t\treturn ctx.Err()\n\tcase <-ticker.C:\n\t\tif pane.dirty {\n\t\t\tpane.render()\n\t\t}\n\t}\n}"},
	{"python", "def backoff(attempt, retry_after=None, base=0.5, cap=30.0):\n    if retry_after is not None:\n        return float(retry_after)\n    return min(cap, base * 2 ** attempt) * (0.5 + random.random() / 2)"},
	{"bash", "# Watch the rate-limit headers while sending a request\ncurl -s -D - -o /dev/null \"$BASE_URL/models\" \\\n  -H \"Authorization: Bearer $API_KEY\" | grep -i '^x-ratelimit'"},
	{"json", "{\n  \"id\": \"chatcmpl-123\",\n  \"object\": \"chat.completion.chunk\",\n  \"choices\": [\n    {\"index\": 0, \"delta\": {\"content\": \"Hello\"}, \"finish_reason\": null}\n  ]\n}"},
	{"yaml", "providers:\n  - name: local\n    dialect: openai\n    base_url: http://127.0.0.1:8080/v1\n    models: [demo-fast, demo-think]\ntheme: auto"},
	{"sql", "SELECT c.title, m.created_at\nFROM messages_fts f\nJOIN messages m ON m.id = f.rowid\nJOIN conversations c ON c.id = m.conversation_id\nWHERE messages_fts MATCH 'rate NEAR limit'\nORDER BY m.created_at DESC\nLIMIT 20;"},
}

// generateLong writes a long markdown document of varied blocks from the
// pools above, choosing with r. It stops after the section that passes
// about 24 KB and ends with a short summary.
func generateLong(r *rng) string {
	var b strings.Builder
	b.WriteString("# A Field Guide to Streaming Terminal Clients\n\n")
	b.WriteString("This is a deliberately long answer. It exists so you can watch a large reply stream in, scroll through it while it grows, " +
		"and see every kind of markdown block rendered along the way. The sections below cover the craft of building a chat client " +
		"for the terminal, one topic at a time.\n\n")
	for round := 0; b.Len() < 24000; round++ {
		for i, t := range longTopics {
			if b.Len() >= 24000 {
				break
			}
			// Each section draws from fresh shuffles, so nothing repeats
			// within a section.
			sent, tips := newDeck(longSentences, r), newDeck(longTips, r)
			sentences := func(n int) string {
				parts := make([]string, n)
				for k := range parts {
					parts[k] = sent.draw()
				}
				return strings.Join(parts, " ")
			}
			n := round*len(longTopics) + i + 1
			title := t.title
			if round > 0 {
				title += ", revisited"
			}
			fmt.Fprintf(&b, "## %d. %s\n\n%s %s\n\n", n, title, t.lead, sentences(2+r.intn(3)))
			for k := 0; k < 3+r.intn(3); k++ {
				fmt.Fprintf(&b, "- %s\n", tips.draw())
			}
			b.WriteString("\n")
			switch (n + r.intn(2)) % 5 {
			case 0:
				s := longSnippets[r.intn(len(longSnippets))]
				fmt.Fprintf(&b, "For example, in %s:\n\n%s%s\n%s\n%s\n\n", snippetName(s.lang), fence, s.lang, s.code, fence)
			case 1:
				fmt.Fprintf(&b, "### Measurements\n\n| Run | Chunks | Bytes | p50 (ms) | p99 (ms) |\n|----:|-------:|------:|---------:|---------:|\n")
				for row := 1; row <= 4; row++ {
					chunks := 50 + r.intn(950)
					p50 := 1 + r.float()*4
					fmt.Fprintf(&b, "| %d | %d | %d | %.1f | %.1f |\n", row, chunks, chunks*(18+r.intn(30)), p50, p50*(2+r.float()*3))
				}
				b.WriteString("\n")
			case 2:
				fmt.Fprintf(&b, "> %s\n>\n> — *from the field notes*\n\n", sent.draw())
			case 3:
				b.WriteString("### Step by step\n\n")
				start := r.intn(len(longSteps))
				for k := 0; k < 4; k++ {
					fmt.Fprintf(&b, "%d. %s\n", k+1, longSteps[(start+k)%len(longSteps)])
				}
				b.WriteString("\n")
			case 4:
				b.WriteString("### Checklist\n\n")
				for k := 0; k < 2; k++ {
					fmt.Fprintf(&b, "- %s\n  - %s\n  - %s\n", tips.draw(), sent.draw(), sent.draw())
				}
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "%s *%s*\n\n", sentences(2+r.intn(2)), sent.draw())
		}
	}
	b.WriteString("## Summary\n\nStream early, render only what changed, respect the gateway's limits, never let network text drive the terminal, " +
		"and prove every performance claim with a benchmark. **That is the whole guide.**\n")
	return b.String()
}

// deck deals the items of a pool in a shuffled order without repeats,
// starting over when it runs out.
type deck struct {
	pool  []string
	order []int
	r     *rng
}

func newDeck(pool []string, r *rng) *deck { return &deck{pool: pool, r: r} }

func (d *deck) draw() string {
	if len(d.order) == 0 {
		d.order = make([]int, len(d.pool))
		for i := range d.order {
			d.order[i] = i
		}
		for i := len(d.order) - 1; i > 0; i-- {
			j := d.r.intn(i + 1)
			d.order[i], d.order[j] = d.order[j], d.order[i]
		}
	}
	i := d.order[0]
	d.order = d.order[1:]
	return d.pool[i]
}

// snippetName is the display name of a code block language.
func snippetName(lang string) string {
	switch lang {
	case "go":
		return "Go"
	case "python":
		return "Python"
	case "bash":
		return "a shell"
	case "json":
		return "JSON"
	case "yaml":
		return "YAML"
	case "sql":
		return "SQL"
	}
	return lang
}

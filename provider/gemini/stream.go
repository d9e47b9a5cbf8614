package gemini

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/parley-chat/parley/provider"
)

// blockedReasons explains each finish reason that means the answer was
// withheld.
var blockedReasons = map[string]string{
	"SAFETY":                   "the answer was stopped by the model's safety filters",
	"RECITATION":               "the answer was stopped because it recited copyrighted or published material too closely",
	"BLOCKLIST":                "the answer was stopped because it contained a blocked term",
	"PROHIBITED_CONTENT":       "the answer was stopped because it may contain prohibited content",
	"SPII":                     "the answer was stopped because it may contain sensitive personal information",
	"IMAGE_SAFETY":             "the generated image was withheld by the safety filters",
	"IMAGE_PROHIBITED_CONTENT": "the generated image was withheld as prohibited content",
	"IMAGE_RECITATION":         "the generated image was withheld as a recitation",
	"LANGUAGE":                 "the answer was stopped because the language is not supported",
}

// promptBlockReasons explains promptFeedback.blockReason values.
var promptBlockReasons = map[string]string{
	"SAFETY":             "the prompt was blocked by the safety filters",
	"BLOCKLIST":          "the prompt was blocked because it contains a blocked term",
	"PROHIBITED_CONTENT": "the prompt was blocked as prohibited content",
	"IMAGE_SAFETY":       "the prompt was blocked because of unsafe image content",
	"OTHER":              "the prompt was blocked",
}

// toolFailures are finish reasons that mean the model's function call was
// unusable.
var toolFailures = map[string]string{
	"MALFORMED_FUNCTION_CALL": "the model produced a malformed function call",
	"UNEXPECTED_TOOL_CALL":    "the model called a tool that was not offered",
	"TOO_MANY_TOOL_CALLS":     "the model made too many tool calls in a row",
}

// streamCall is a function call whose arguments are still streaming.
type streamCall struct {
	id, name, sig string
	args          *argTree
	raw           json.RawMessage
	size          int // bytes the arguments take so far, for the budget
}

// maxPathDepth bounds the nesting a streamed argument's JSONPath may
// reach; the arguments tree is built and written recursively.
const maxPathDepth = 64

// decoder folds GenerateContentResponse events into provider events. It
// keeps the partial answer on failure and never emits a function call
// whose streamed arguments were cut off.
type decoder struct {
	emit   func(provider.Event)
	prefix string
	n      int // function calls emitted

	pending *streamCall
	usage   *provider.Usage
	finish  string
	blocked *provider.APIError
	sources provider.Sources
	budget  provider.Budget
	shapes  provider.Shapes
	partial bool
}

func newDecoder(emit func(provider.Event)) *decoder {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &decoder{emit: emit, prefix: hex.EncodeToString(b[:])}
}

// run reads an SSE body to its end and returns nil after emitting Done,
// or the error that ended the stream.
func (d *decoder) run(ctx context.Context, tr *provider.Transport, body io.Reader) *provider.APIError {
	sse := provider.NewSSEDecoder(body, 0)
	for {
		ev, err := sse.Next()
		if err != nil {
			if ae := tr.ReadFailure(ctx, err, d.finish != "", d.partial); ae != nil {
				return d.fail(ae)
			}
			return d.end(false)
		}
		data := bytes.TrimSpace([]byte(ev.Data))
		if ev.Raw {
			// Gemini appends a bare JSON error object after its last event.
			if ae := provider.InbandError(data); ae != nil {
				return d.fail(ae)
			}
			return d.fail(provider.Malformed("the gateway sent text that is not server-sent events", data))
		}
		if len(data) == 0 {
			continue
		}
		if string(data) == "[DONE]" {
			return d.end(true)
		}
		if ae := d.chunk(data); ae != nil {
			return d.fail(ae)
		}
	}
}

// whole handles a non-streamed answer: one GenerateContentResponse, or a
// JSON array of them.
func (d *decoder) whole(data []byte) *provider.APIError {
	data = bytes.TrimSpace(data)
	var arr []json.RawMessage
	if len(data) > 0 && data[0] == '[' && json.Unmarshal(data, &arr) == nil {
		for _, one := range arr {
			if ae := d.chunk(one); ae != nil {
				return d.fail(ae)
			}
		}
		return d.end(true)
	}
	if ae := d.chunk(data); ae != nil {
		return d.fail(ae)
	}
	return d.end(true)
}

// chunk processes one GenerateContentResponse.
func (d *decoder) chunk(data []byte) *provider.APIError {
	var probe map[string]json.RawMessage
	if ok, ae := d.shapes.Decode(data, &probe, nil); !ok {
		return ae
	}
	if _, ok := probe["error"]; ok {
		if ae := provider.InbandError(data); ae != nil {
			return ae
		}
	}
	known := false
	for _, k := range responseKeys {
		if _, ok := probe[k]; ok {
			known = true
			break
		}
	}
	var r generateResponse
	if !known {
		return provider.Malformed("a stream event is JSON but not a Gemini GenerateContentResponse", data)
	}
	if ok, ae := d.shapes.Decode(data, &r, needed); !ok {
		return ae
	}
	if pf := r.PromptFeedback; pf != nil && pf.BlockReason != "" && d.blocked == nil {
		msg := promptBlockReasons[pf.BlockReason]
		if msg == "" {
			msg = "the prompt was blocked"
		}
		if pf.BlockReasonMessage != "" {
			msg += ": " + pf.BlockReasonMessage
		}
		d.blocked = &provider.APIError{Kind: provider.KindBlocked, Code: pf.BlockReason, Title: "prompt blocked", Message: msg}
	}
	for i := range r.Candidates {
		c := &r.Candidates[i]
		if c.Index != 0 {
			continue // Parley asks for one candidate
		}
		if c.Content != nil {
			for j := range c.Content.Parts {
				if ae := d.part(&c.Content.Parts[j]); ae != nil {
					return ae
				}
			}
		}
		if c.CitationMetadata != nil {
			for _, s := range c.CitationMetadata.CitationSources {
				d.source(s.URI, s.Title)
			}
		}
		if c.GroundingMetadata != nil {
			for _, g := range c.GroundingMetadata.GroundingChunks {
				if g.Web != nil {
					d.source(g.Web.URI, g.Web.Title)
				}
			}
		}
		if c.FinishReason != "" {
			d.finish = c.FinishReason
		}
	}
	if u := r.UsageMetadata; u != nil && (u.PromptTokenCount > 0 || u.TotalTokenCount > 0 || u.CandidatesTokenCount > 0) {
		// Counts are cumulative: the last report is the one that stands.
		ev := provider.Usage{
			InputTokens:     int(u.PromptTokenCount),
			OutputTokens:    int(u.CandidatesTokenCount + u.ThoughtsTokenCount),
			TotalTokens:     int(u.TotalTokenCount),
			ReasoningTokens: int(u.ThoughtsTokenCount),
			CachedTokens:    int(u.CachedContentTokenCount),
		}
		if ev.TotalTokens == 0 {
			ev.TotalTokens = ev.InputTokens + ev.OutputTokens
		}
		d.usage = &ev
	}
	return nil
}

// needed reports whether a response field carries the answer (its text,
// function calls or finish reason): a value of an unexpected type there
// fails it; anywhere else it is ignored.
func needed(field string) bool {
	switch field {
	case "candidates", "candidates.content", "candidates.content.parts", "candidates.finishReason":
		return true
	}
	if rest, ok := strings.CutPrefix(field, "candidates.content.parts."); ok {
		head, _, _ := strings.Cut(rest, ".")
		return head == "text" || head == "thought" || head == "functionCall"
	}
	return false
}

func (d *decoder) part(p *part) *provider.APIError {
	if p.FunctionCall != nil {
		return d.functionCall(p.FunctionCall, p.ThoughtSignature)
	}
	if p.Text == "" {
		return nil
	}
	if d.pending != nil {
		d.closeCall()
	}
	ae := d.budget.EmitText(d.emit, p.Text, p.Thought)
	d.partial = d.partial || ae == nil && !p.Thought
	return ae
}

// functionCall handles a whole call, or one step of a streamed one: a
// named part with willContinue opens it, partialArgs parts extend it, and
// a part without willContinue closes it.
func (d *decoder) functionCall(fc *functionCall, sig string) *provider.APIError {
	if fc.Name != "" {
		if d.pending != nil {
			d.closeCall()
		}
		if ae := d.budget.Call(); ae != nil {
			return ae
		}
		if !fc.WillContinue {
			args := compact(fc.Args)
			if ae := d.budget.Args(fc.Name, 0, len(args)); ae != nil {
				return ae
			}
			d.emitCall(fc.ID, fc.Name, args, sig)
			return nil
		}
		d.pending = &streamCall{id: fc.ID, name: fc.Name, sig: sig, args: newArgTree()}
	}
	c := d.pending
	if c == nil {
		return nil // a fragment without a call to extend
	}
	if c.sig == "" {
		c.sig = sig
	}
	if len(fc.Args) > 0 {
		// A later args replaces an earlier one: only growth counts.
		if grew := len(fc.Args) - len(c.raw); grew > 0 {
			if ae := d.budget.Args(c.name, c.size, grew); ae != nil {
				return ae
			}
			c.size += grew
		}
		c.raw = fc.Args
	}
	for i := range fc.PartialArgs {
		grew, err := c.args.apply(&fc.PartialArgs[i])
		if err != "" {
			return provider.Malformed(fmt.Sprintf("the streamed arguments of %q %s", c.name, err), []byte(fc.PartialArgs[i].JSONPath))
		}
		if ae := d.budget.Args(c.name, c.size, grew); ae != nil {
			return ae
		}
		c.size += grew
	}
	if !fc.WillContinue && fc.Name == "" {
		d.closeCall()
	}
	return nil
}

func (d *decoder) closeCall() {
	c := d.pending
	d.pending = nil
	args := c.args.String()
	if len(c.raw) > 0 && c.args.empty() {
		args = compact(c.raw)
	}
	d.emitCall(c.id, c.name, args, c.sig)
}

func (d *decoder) emitCall(id, name, args, sig string) {
	d.n++
	if id == "" {
		id = fmt.Sprintf("call_%s_%d", d.prefix, d.n)
	}
	d.partial = true
	d.emit(provider.ToolCallEvent{ToolCall: provider.ToolCall{ID: id, Name: name, Arguments: args, Opaque: sig}})
}

func (d *decoder) source(url, title string) { d.sources.Emit(d.emit, url, title) }

// end closes the stream and turns the finish reason into Done or a clear
// error.
func (d *decoder) end(sawDone bool) *provider.APIError {
	if d.blocked != nil {
		return d.fail(d.blocked)
	}
	if msg, ok := blockedReasons[d.finish]; ok {
		return d.fail(&provider.APIError{Kind: provider.KindBlocked, Code: d.finish, Title: "answer blocked", Message: msg})
	}
	if msg, ok := toolFailures[d.finish]; ok {
		return d.fail(&provider.APIError{Kind: provider.KindStream, Code: d.finish, Title: "tool call failed", Message: msg})
	}
	if d.finish == "" && !sawDone {
		return d.fail(&provider.APIError{Kind: provider.KindStream, Title: "stream ended early",
			Message: "the gateway closed the stream before the answer finished" + d.shapes.Note()})
	}
	if d.pending != nil {
		d.closeCall()
	}
	if d.usage != nil {
		d.emit(*d.usage)
		d.usage = nil
	}
	reason := "stop"
	switch d.finish {
	case "MAX_TOKENS":
		reason = "length"
	case "", "STOP", "FINISH_REASON_UNSPECIFIED":
		if d.n > 0 {
			reason = "tool_calls"
		}
	default:
		reason = strings.ToLower(d.finish)
	}
	d.emit(provider.Done{FinishReason: reason})
	return nil
}

// fail reports usage and marks the error partial; a call whose streamed
// arguments did not close is dropped.
func (d *decoder) fail(ae *provider.APIError) *provider.APIError {
	d.pending = nil
	if d.usage != nil {
		d.emit(*d.usage)
		d.usage = nil
	}
	ae.Partial = ae.Partial || d.partial
	return ae
}

func compact(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return "{}"
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

// argTree assembles streamed function-call arguments: each partialArg
// sets the value at a JSONPath ($.a.b[2].c); string values at the same
// path are concatenated. Keys keep the order they first appeared in.
type argTree struct {
	root *jnode
}

type jnode struct {
	kind byte // 'o' object, 'a' array, 's' string, 'r' raw JSON scalar
	keys []string
	obj  map[string]*jnode
	arr  []*jnode
	str  strings.Builder
	raw  string
}

func newArgTree() *argTree { return &argTree{root: &jnode{kind: 'o', obj: map[string]*jnode{}}} }

func (t *argTree) empty() bool { return len(t.root.keys) == 0 }

// segment is one step of a JSONPath: a key, or an index when key is "".
type segment struct {
	key   string
	index int
}

// parsePath reads $.a.b[0]['c d'] into segments.
func parsePath(p string) []segment {
	p = strings.TrimPrefix(p, "$")
	var segs []segment
	for len(p) > 0 {
		switch p[0] {
		case '.':
			p = p[1:]
			end := strings.IndexAny(p, ".[")
			if end < 0 {
				end = len(p)
			}
			segs = append(segs, segment{key: p[:end]})
			p = p[end:]
		case '[':
			end := strings.IndexByte(p, ']')
			if end < 0 {
				return append(segs, segment{key: p})
			}
			inner := p[1:end]
			p = p[end+1:]
			if len(inner) >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[len(inner)-1] == inner[0] {
				segs = append(segs, segment{key: inner[1 : len(inner)-1]})
			} else if n, err := strconv.Atoi(inner); err == nil && n >= 0 && n < 1<<16 {
				segs = append(segs, segment{index: n})
			} else {
				segs = append(segs, segment{key: inner})
			}
		default:
			end := strings.IndexAny(p, ".[")
			if end < 0 {
				end = len(p)
			}
			segs = append(segs, segment{key: p[:end]})
			p = p[end:]
		}
	}
	return segs
}

// apply sets one fragment's value. It returns how many bytes the
// arguments grew by, about (new keys and array slots count as they will
// be written), or what is wrong with the fragment's path.
func (t *argTree) apply(pa *partialArg) (grew int, problem string) {
	segs := parsePath(pa.JSONPath)
	if len(segs) == 0 || segs[0].key == "" {
		return 0, "" // arguments are an object: a path must start with a key
	}
	if len(segs) > maxPathDepth {
		return 0, fmt.Sprintf("nest deeper than %d levels", maxPathDepth)
	}
	t.root = setAt(t.root, segs, pa, &grew)
	return grew, ""
}

// setAt sets the value at segs below n and returns the (possibly new)
// node; a node whose kind contradicts the path is replaced. It adds to
// grew the size of what it adds.
func setAt(n *jnode, segs []segment, pa *partialArg, grew *int) *jnode {
	if len(segs) == 0 {
		*grew += valueSize(pa)
		return value(n, pa)
	}
	s := segs[0]
	if s.key != "" {
		if n == nil || n.kind != 'o' {
			n = &jnode{kind: 'o', obj: map[string]*jnode{}}
		}
		if _, ok := n.obj[s.key]; !ok {
			n.keys = append(n.keys, s.key)
			*grew += len(s.key) + len(`"":,`)
		}
		n.obj[s.key] = setAt(n.obj[s.key], segs[1:], pa, grew)
		return n
	}
	if n == nil || n.kind != 'a' {
		n = &jnode{kind: 'a'}
	}
	if s.index >= len(n.arr) {
		*grew += (s.index + 1 - len(n.arr)) * len("null,")
		n.arr = append(n.arr, make([]*jnode, s.index+1-len(n.arr))...)
	}
	n.arr[s.index] = setAt(n.arr[s.index], segs[1:], pa, grew)
	return n
}

// valueSize is about the size a fragment's value adds when written.
func valueSize(pa *partialArg) int {
	switch {
	case pa.StringValue != nil:
		return len(*pa.StringValue)
	case len(pa.NumberValue) > 0:
		return len(pa.NumberValue)
	}
	return len("false")
}

// value applies a fragment's value to the node at its path: strings
// continue, other scalars replace.
func value(n *jnode, pa *partialArg) *jnode {
	switch {
	case pa.StringValue != nil:
		if n == nil || n.kind != 's' {
			n = &jnode{kind: 's'}
		}
		n.str.WriteString(*pa.StringValue)
	case len(pa.NumberValue) > 0:
		n = &jnode{kind: 'r', raw: string(pa.NumberValue)}
	case pa.BoolValue != nil:
		n = &jnode{kind: 'r', raw: strconv.FormatBool(*pa.BoolValue)}
	case len(pa.NullValue) > 0:
		n = &jnode{kind: 'r', raw: "null"}
	}
	return n
}

// String renders the arguments as compact JSON.
func (t *argTree) String() string {
	var b strings.Builder
	t.root.write(&b)
	return b.String()
}

func (n *jnode) write(b *strings.Builder) {
	if n == nil {
		b.WriteString("null")
		return
	}
	switch n.kind {
	case 'o':
		b.WriteByte('{')
		for i, k := range n.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, k)
			b.WriteByte(':')
			n.obj[k].write(b)
		}
		b.WriteByte('}')
	case 'a':
		b.WriteByte('[')
		for i, e := range n.arr {
			if i > 0 {
				b.WriteByte(',')
			}
			e.write(b)
		}
		b.WriteByte(']')
	case 's':
		writeString(b, n.str.String())
	default:
		if json.Valid([]byte(n.raw)) {
			b.WriteString(n.raw)
		} else {
			b.WriteString("null")
		}
	}
}

// writeString writes s as a JSON string without HTML escaping, as models
// write their arguments.
func writeString(b *strings.Builder, s string) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	b.Write(bytes.TrimRight(buf.Bytes(), "\n"))
}

package cuadra

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/parley-chat/parley/provider"
)

// format is the stream format a response turned out to have.
type format int

const (
	formatUnknown format = iota
	formatPlain          // {"id","delta","finished","usage"} events
	formatUI             // Vercel AI SDK UI message stream parts
)

// toolState assembles one tool call.
type toolState struct {
	index    int
	id       string
	name     string
	args     strings.Builder
	sawDelta bool
	done     bool // already emitted
}

// decoder folds either stream format into events. It emits exactly one
// Started before any content, keeps the partial answer on failure and
// never emits a tool call whose arguments were cut off.
type decoder struct {
	emit   func(provider.Event)
	status int
	format format

	started   bool
	chatID    string
	messageID string

	calls   []*toolState          // in order of first appearance
	byIndex map[int]*toolState    // plain stream calls with an index
	byID    map[string]*toolState // calls by id
	sources map[string]bool
	usage   *provider.Usage
	budget  provider.Budget
	shapes  provider.Shapes
	partial bool

	finished     bool // plain: finished:true; UI: a finish part
	finishReason string
	streamErr    *provider.APIError // a UI error part, reported at the end
	aborted      *provider.APIError
}

func newDecoder(emit func(provider.Event), resp *http.Response) *decoder {
	d := &decoder{emit: emit, status: resp.StatusCode, byIndex: map[int]*toolState{}, byID: map[string]*toolState{}}
	if strings.EqualFold(strings.TrimSpace(resp.Header.Get(headerUIStream)), "v1") {
		d.format = formatUI
	}
	d.chatID = resp.Header.Get(headerChatID)
	return d
}

// start emits the Started event once, with whatever ids are known.
func (d *decoder) start() {
	if d.started {
		return
	}
	d.started = true
	d.emit(provider.Started{Status: d.status, ID: d.messageID, ChatID: d.chatID})
}

// run reads an SSE body to its end and returns nil after emitting Done,
// or the error that ended the stream.
func (d *decoder) run(ctx context.Context, tr *provider.Transport, body io.Reader) *provider.APIError {
	sse := provider.NewSSEDecoder(body, 0)
	for {
		ev, err := sse.Next()
		if err != nil {
			if ae := tr.ReadFailure(ctx, err, d.finished, d.partial); ae != nil {
				return d.fail(ae)
			}
			return d.end(false)
		}
		data := strings.TrimSpace(ev.Data)
		if ev.Raw {
			if ae := provider.InbandError([]byte(data)); ae != nil {
				return d.fail(ae)
			}
			return d.fail(provider.Malformed("the gateway sent a line that is not server-sent events", []byte(data)))
		}
		if data == "" {
			continue
		}
		if data == "[DONE]" {
			return d.end(true)
		}
		if ev.Event == "error" {
			ae := provider.InbandError([]byte(data))
			if ae == nil {
				ae = &provider.APIError{Kind: provider.KindStream, Title: "stream error", Message: data}
			}
			return d.fail(ae)
		}
		if ae := d.event([]byte(data)); ae != nil {
			return d.fail(ae)
		}
	}
}

// event dispatches one data payload to the format's handler, detecting
// the format from the first payload when the headers did not say.
func (d *decoder) event(data []byte) *provider.APIError {
	if d.format == formatUnknown {
		var head struct {
			Type *string `json:"type"`
		}
		if ok, ae := d.shapes.Decode(data, &head, nil); !ok {
			return ae
		}
		if head.Type != nil && isUIType(*head.Type) && (*head.Type != "error" || isUIError(data)) {
			d.format = formatUI
		} else {
			d.format = formatPlain
		}
	}
	if d.format == formatUI {
		return d.uiPart(data)
	}
	return d.plain(data)
}

// uiTypes are the part types of the UI message stream protocol.
var uiTypes = map[string]bool{
	"start": true, "finish": true, "abort": true, "error": true, "message-metadata": true,
	"text-start": true, "text-delta": true, "text-end": true,
	"reasoning-start": true, "reasoning-delta": true, "reasoning-end": true, "reasoning-file": true,
	"tool-input-start": true, "tool-input-delta": true, "tool-input-available": true, "tool-input-error": true,
	"tool-output-available": true, "tool-output-error": true, "tool-output-denied": true,
	"tool-approval-request": true, "tool-approval-response": true,
	"source-url": true, "source-document": true, "file": true, "custom": true,
	"start-step": true, "finish-step": true, "reset-step": true,
}

// isUIType reports whether t names a UI message stream part.
func isUIType(t string) bool {
	return uiTypes[t] || strings.HasPrefix(t, "data-")
}

// isUIError reports a UI message stream error part ({"type":"error",
// "errorText":…}) as opposed to an RFC 7807 problem with type "error".
func isUIError(data []byte) bool {
	var p struct {
		Type      string  `json:"type"`
		ErrorText *string `json:"errorText"`
	}
	return json.Unmarshal(data, &p) == nil && p.Type == "error" && p.ErrorText != nil
}

// whole handles a non-streamed JSON answer.
func (d *decoder) whole(data []byte) *provider.APIError {
	data = bytes.TrimSpace(data)
	if ae := provider.InbandError(data); ae != nil {
		return d.fail(ae)
	}
	var c plainChunk
	if ok, ae := d.shapes.Decode(data, &c, plainNeeded); !ok {
		if ae == nil {
			ae = provider.Malformed("the answer is JSON but not a chat answer", data)
		}
		return d.fail(ae)
	}
	d.format = formatPlain
	if c.Message != nil {
		c.Delta = c.Message.Content
		c.Reasoning = c.Message.Reasoning
		c.ToolCalls = append(c.ToolCalls, c.Message.ToolCalls...)
		c.Message = nil
	}
	c.Finished = true
	if ae := d.plainChunk(&c); ae != nil {
		return d.fail(ae)
	}
	return d.end(true)
}

// plain handles one event of the plain stream.
func (d *decoder) plain(data []byte) *provider.APIError {
	if ae := provider.InbandError(data); ae != nil {
		return ae
	}
	var c plainChunk
	if ok, ae := d.shapes.Decode(data, &c, plainNeeded); !ok {
		return ae
	}
	return d.plainChunk(&c)
}

// plainNeeded reports whether a plain-stream field carries the answer: a
// value of an unexpected type there fails it; anywhere else it is ignored.
func plainNeeded(field string) bool {
	head, _, _ := strings.Cut(strings.TrimPrefix(field, "message."), ".")
	switch head {
	case "delta", "reasoning", "toolCalls", "finished", "finishReason", "message", "content":
		return true
	}
	return false
}

// uiNeeded is plainNeeded for UI message stream parts.
func uiNeeded(field string) bool {
	switch field {
	case "type", "delta", "inputTextDelta", "toolCallId", "toolName", "errorText", "finishReason":
		return true
	}
	return false
}

// text emits answer text or reasoning within the answer's budget.
func (d *decoder) text(s string, reasoning bool) *provider.APIError {
	ae := d.budget.EmitText(d.emit, s, reasoning)
	d.partial = d.partial || ae == nil && s != "" && !reasoning
	return ae
}

func (d *decoder) plainChunk(c *plainChunk) *provider.APIError {
	if d.chatID == "" {
		d.chatID = c.ChatID
		if d.chatID == "" {
			d.chatID = c.ID
		}
	}
	d.start()
	if ae := d.text(c.Reasoning, true); ae != nil {
		return ae
	}
	if ae := d.text(c.Delta, false); ae != nil {
		return ae
	}
	for _, s := range c.Sources {
		url := s.SourceURL
		if url == "" {
			url = s.URL
		}
		title := s.Title
		if title == "" {
			title = s.Filename
		}
		key := s.SourceID
		if key == "" {
			key = url + "\x00" + title
		}
		d.source(key, url, title)
	}
	for i := range c.ToolCalls {
		if ae := d.plainToolCall(&c.ToolCalls[i]); ae != nil {
			return ae
		}
	}
	if c.Usage != nil {
		u := c.Usage.event()
		d.usage = &u
	}
	if c.FinishReason != "" {
		d.finishReason = c.FinishReason
	}
	if c.Finished {
		d.finished = true
	}
	return nil
}

// plainToolCall merges one tool-call fragment of the plain stream, by
// index when given, else by id (a fragment without either continues the
// last call).
func (d *decoder) plainToolCall(f *wireToolCall) *provider.APIError {
	var st *toolState
	switch {
	case f.Index != nil:
		st = d.byIndex[int(*f.Index)]
	case f.ID != "":
		st = d.byID[f.ID]
	case len(d.calls) > 0:
		st = d.calls[len(d.calls)-1]
	}
	if st == nil {
		index := len(d.calls)
		if f.Index != nil {
			index = int(*f.Index)
		}
		var ae *provider.APIError
		if st, ae = d.newTool(index, ""); ae != nil {
			return ae
		}
		if f.Index != nil {
			d.byIndex[index] = st
		}
	}
	if st.id == "" && f.ID != "" {
		st.id = f.ID
		if d.byID[f.ID] == nil {
			d.byID[f.ID] = st
		}
	}
	if st.name == "" {
		st.name = f.Function.Name
	}
	return d.toolArgs(st, f.Function.Arguments)
}

// newTool starts a tool call, within the answer's budget.
func (d *decoder) newTool(index int, id string) (*toolState, *provider.APIError) {
	if ae := d.budget.Call(); ae != nil {
		return nil, ae
	}
	st := &toolState{index: index, id: id}
	d.calls = append(d.calls, st)
	if id != "" {
		d.byID[id] = st
	}
	return st, nil
}

// toolArgs adds an argument fragment to a call, within the budgets.
func (d *decoder) toolArgs(st *toolState, args string) *provider.APIError {
	if ae := d.budget.Args(st.name, st.args.Len(), len(args)); ae != nil {
		return ae
	}
	st.args.WriteString(args)
	d.partial = true
	return nil
}

// uiPart handles one part of a UI message stream.
func (d *decoder) uiPart(data []byte) *provider.APIError {
	var p uiPart
	if ok, ae := d.shapes.Decode(data, &p, uiNeeded); !ok {
		return ae
	}
	if !isUIType(p.Type) {
		if ae := provider.InbandError(data); ae != nil {
			return ae
		}
	}
	switch p.Type {
	case "start":
		if p.MessageID != "" {
			d.messageID = p.MessageID
		}
		d.metadata(p.MessageMetadata)
		d.start()
		return nil
	case "text-delta":
		d.start()
		return d.text(p.Delta, false)
	case "reasoning-delta":
		d.start()
		return d.text(p.Delta, true)
	case "tool-input-start":
		d.start()
		st, ae := d.tool(p.ToolCallID)
		if ae != nil {
			return ae
		}
		if p.ToolName != "" {
			st.name = p.ToolName
		}
	case "tool-input-delta":
		st, ae := d.tool(p.ToolCallID)
		if ae != nil {
			return ae
		}
		st.sawDelta = true
		return d.toolArgs(st, p.InputTextDelta)
	case "tool-input-available":
		d.start()
		st, ae := d.tool(p.ToolCallID)
		if ae != nil {
			return ae
		}
		if p.ToolName != "" {
			st.name = p.ToolName
		}
		args := st.args.String()
		if !st.sawDelta {
			args = compactJSON(p.Input, "{}")
			if ae := d.budget.Args(st.name, 0, len(args)); ae != nil {
				return ae
			}
		}
		st.done = true
		d.partial = true
		d.emit(provider.ToolCallEvent{ToolCall: provider.ToolCall{ID: st.id, Name: st.name, Arguments: args}})
	case "tool-input-error":
		d.start()
		st, ae := d.tool(p.ToolCallID)
		if ae != nil {
			return ae
		}
		if p.ToolName != "" {
			st.name = p.ToolName
		}
		st.done = true
		return d.result(st.id, p.ErrorText, true)
	case "tool-output-available":
		d.start()
		return d.result(p.ToolCallID, outputText(p.Output), false)
	case "tool-output-error":
		d.start()
		return d.result(p.ToolCallID, p.ErrorText, true)
	case "tool-output-denied":
		d.start()
		return d.result(p.ToolCallID, "the tool call was denied", true)
	case "source-url":
		d.start()
		d.source("id:"+p.SourceID, p.URL, p.Title)
	case "source-document":
		d.start()
		title := p.Title
		if title == "" {
			title = p.Filename
		}
		d.source("id:"+p.SourceID, "", title)
	case "file":
		// A file with a fetchable address is worth citing; inline data:
		// URLs (possibly megabytes) are not repeated.
		if p.URL != "" && !strings.HasPrefix(p.URL, "data:") {
			d.start()
			d.source("file:"+p.URL, p.URL, p.MediaType)
		}
	case "error":
		d.start()
		if d.streamErr == nil {
			d.streamErr = &provider.APIError{Kind: provider.KindStream, Title: "stream error", Message: p.ErrorText}
		}
	case "finish":
		d.finished = true
		if p.FinishReason != "" {
			d.finishReason = p.FinishReason
		}
		d.metadata(p.MessageMetadata)
	case "message-metadata":
		d.metadata(p.MessageMetadata)
	case "abort":
		msg := "the gateway aborted the answer"
		if p.Reason != "" {
			msg += ": " + p.Reason
		}
		d.aborted = &provider.APIError{Kind: provider.KindStream, Title: "stream aborted", Message: msg}
	default:
		// text-start/-end, reasoning-start/-end, start-step, finish-step,
		// reset-step, reasoning-file, custom, tool approval parts and
		// data-* parts (application data for a web UI, transient or not)
		// carry nothing a terminal transcript shows.
	}
	return nil
}

// tool returns the call with id, creating it.
func (d *decoder) tool(id string) (*toolState, *provider.APIError) {
	if st := d.byID[id]; st != nil {
		return st, nil
	}
	return d.newTool(len(d.calls), id)
}

// result emits a tool's output that the gateway produced, counted as
// answer text.
func (d *decoder) result(id, output string, isError bool) *provider.APIError {
	if ae := d.budget.Text(len(output)); ae != nil {
		return ae
	}
	name := ""
	if st := d.byID[id]; st != nil {
		name = st.name
	}
	d.emit(provider.ToolResult{ID: id, Name: name, Output: output, IsError: isError})
	return nil
}

// metadata reads token counts from UI message metadata, where gateways
// put them ({"usage":{…}} or the counts at the top level), and a chat id.
func (d *decoder) metadata(raw json.RawMessage) {
	if len(raw) == 0 || string(raw) == "null" {
		return
	}
	var m struct {
		wireUsage
		PromptTokens     provider.Count `json:"promptTokens"`
		CompletionTokens provider.Count `json:"completionTokens"`
		Usage            *wireUsage     `json:"usage"`
		ChatID           string         `json:"chatId"`
	}
	if json.Unmarshal(raw, &m) != nil {
		return
	}
	if m.ChatID != "" && d.chatID == "" && !d.started {
		d.chatID = m.ChatID
	}
	u := m.wireUsage
	if m.Usage != nil {
		u = *m.Usage
	}
	if u.InputTokens == 0 {
		u.InputTokens = m.PromptTokens
	}
	if u.OutputTokens == 0 {
		u.OutputTokens = m.CompletionTokens
	}
	if u.InputTokens != 0 || u.OutputTokens != 0 || u.TotalTokens != 0 {
		ev := u.event()
		d.usage = &ev
	}
}

func (d *decoder) source(key, url, title string) {
	if url == "" && title == "" {
		return
	}
	if d.sources == nil {
		d.sources = map[string]bool{}
	}
	if key == "id:" {
		key = url + "\x00" + title
	}
	if d.sources[key] {
		return
	}
	d.sources[key] = true
	d.emit(provider.Source{URL: url, Title: title})
}

// end closes the stream: sawDone says whether [DONE] arrived.
func (d *decoder) end(sawDone bool) *provider.APIError {
	d.start()
	switch {
	case d.streamErr != nil:
		return d.fail(d.streamErr)
	case d.aborted != nil:
		return d.fail(d.aborted)
	case d.finishReason == "content-filter" || d.finishReason == "content_filter":
		return d.fail(&provider.APIError{Kind: provider.KindBlocked, Code: d.finishReason, Title: "answer blocked",
			Message: "the gateway's content filter stopped the answer"})
	case d.finishReason == "error":
		return d.fail(&provider.APIError{Kind: provider.KindStream, Title: "stream error",
			Message: "the gateway ended the answer with an error"})
	case !sawDone && !d.finished:
		return d.fail(&provider.APIError{Kind: provider.KindStream, Title: "stream ended early",
			Message: "the gateway closed the stream before the answer finished" + d.shapes.Note()})
	}
	if d.format != formatUI {
		// The plain stream sends tool calls in fragments: emit them whole.
		sort.SliceStable(d.calls, func(i, j int) bool { return d.calls[i].index < d.calls[j].index })
		for _, c := range d.calls {
			if !c.done {
				c.done = true
				d.emit(provider.ToolCallEvent{ToolCall: provider.ToolCall{ID: c.id, Name: c.name, Arguments: c.args.String()}})
			}
		}
	}
	if d.usage != nil {
		d.emit(*d.usage)
		d.usage = nil
	}
	reason := strings.ReplaceAll(d.finishReason, "-", "_")
	if reason == "" {
		reason = "stop"
		for _, c := range d.calls {
			if c.done {
				reason = "tool_calls"
			}
		}
	}
	d.emit(provider.Done{FinishReason: reason})
	return nil
}

// fail reports usage (still worth knowing) and marks the error partial.
// Tool calls not yet complete are dropped: cut-off arguments must never
// be run.
func (d *decoder) fail(ae *provider.APIError) *provider.APIError {
	d.start()
	if d.usage != nil {
		d.emit(*d.usage)
		d.usage = nil
	}
	ae.Partial = ae.Partial || d.partial
	return ae
}

// compactJSON returns raw without insignificant whitespace, or def when
// raw is empty.
func compactJSON(raw json.RawMessage, def string) string {
	if len(raw) == 0 || string(raw) == "null" {
		return def
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

// outputText renders a tool's output: a JSON string as its text, anything
// else as compact JSON.
func outputText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return compactJSON(raw, "")
}

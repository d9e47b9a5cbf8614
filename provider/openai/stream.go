package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"

	"github.com/parley-chat/parley/provider"
)

// chunk is one chat.completion.chunk as real gateways send it: the OpenAI
// fields plus reasoning in every spelling seen (reasoning_content,
// reasoning, reasoning_details), an in-band error object, Groq's x_groq
// usage, and citations.
type chunk struct {
	ID      string                  `json:"id"`
	Model   string                  `json:"model"`
	Choices []choice                `json:"choices"`
	Usage   *usage                  `json:"usage"`
	XGroq   *struct{ Usage *usage } `json:"x_groq"`
	Error   json.RawMessage         `json:"error"`
	// Citations is Perplexity's list of source URLs.
	Citations []string `json:"citations"`
}

type choice struct {
	Index        provider.Count `json:"index"`
	Delta        delta          `json:"delta"`
	Message      *delta         `json:"message"` // non-streamed completions
	FinishReason *string        `json:"finish_reason"`
}

type delta struct {
	Role             string            `json:"role"`
	Content          *string           `json:"content"`
	ReasoningContent *string           `json:"reasoning_content"`
	Reasoning        *string           `json:"reasoning"`
	ReasoningDetails []reasoningDetail `json:"reasoning_details"`
	ToolCalls        []toolCallDelta   `json:"tool_calls"`
	Annotations      []annotation      `json:"annotations"`
	Refusal          *string           `json:"refusal"`
}

type reasoningDetail struct {
	Type    string `json:"type"`
	Text    string `json:"text"`
	Summary string `json:"summary"`
}

type toolCallDelta struct {
	Index    *provider.Count `json:"index"`
	ID       string          `json:"id"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type annotation struct {
	Type        string `json:"type"`
	URLCitation *struct {
		URL   string `json:"url"`
		Title string `json:"title"`
	} `json:"url_citation"`
}

type usage struct {
	PromptTokens            provider.Count `json:"prompt_tokens"`
	CompletionTokens        provider.Count `json:"completion_tokens"`
	TotalTokens             provider.Count `json:"total_tokens"`
	CompletionTokensDetails *struct {
		ReasoningTokens provider.Count `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
	PromptTokensDetails *struct {
		CachedTokens provider.Count `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
}

func (u *usage) event() provider.Usage {
	ev := provider.Usage{InputTokens: int(u.PromptTokens), OutputTokens: int(u.CompletionTokens), TotalTokens: int(u.TotalTokens)}
	if ev.TotalTokens == 0 {
		ev.TotalTokens = ev.InputTokens + ev.OutputTokens
	}
	if u.CompletionTokensDetails != nil {
		ev.ReasoningTokens = int(u.CompletionTokensDetails.ReasoningTokens)
	}
	if u.PromptTokensDetails != nil {
		ev.CachedTokens = int(u.PromptTokensDetails.CachedTokens)
	}
	return ev
}

// needed reports whether a chunk field carries the answer (its text,
// reasoning, tool calls or finish reason): a value of an unexpected type
// there fails the answer; anywhere else it is ignored.
func needed(field string) bool {
	switch field {
	case "choices", "choices.delta", "choices.message", "choices.finish_reason":
		return true
	}
	for _, p := range []string{"choices.delta.", "choices.message."} {
		if rest, ok := strings.CutPrefix(field, p); ok {
			switch head, _, _ := strings.Cut(rest, "."); head {
			case "content", "reasoning_content", "reasoning", "reasoning_details", "tool_calls", "refusal":
				return true
			}
		}
	}
	return false
}

// toolCallState assembles one tool call from its fragments.
type toolCallState struct {
	index int
	id    string
	name  string
	args  strings.Builder
}

// decoder folds chunks into events. It keeps the state a stream needs:
// tool calls under assembly (indexed by their index, so each fragment
// finds its call at once), the finish reason, the last usage, sources
// already reported, the answer's budget.
type decoder struct {
	emit     func(provider.Event)
	calls    []*toolCallState // in order of first appearance
	byIndex  map[int]*toolCallState
	finish   string
	usage    *provider.Usage
	sources  provider.Sources
	budget   provider.Budget
	shapes   provider.Shapes
	partial  bool // some answer content has been emitted
	noIndexN int  // calls seen without an index
}

func newDecoder(emit func(provider.Event)) *decoder {
	return &decoder{emit: emit, byIndex: map[int]*toolCallState{}}
}

// run reads an SSE body to its end and returns nil after emitting Done,
// or the error that ended the stream.
func (d *decoder) run(ctx context.Context, tr *provider.Transport, body io.Reader) *provider.APIError {
	sse := provider.NewSSEDecoder(body, 0)
	var buf []byte // reused: chunk decoding needs bytes, events carry strings
	for {
		ev, err := sse.Next()
		if err != nil {
			if ae := tr.ReadFailure(ctx, err, d.finish != "", d.partial); ae != nil {
				return d.fail(ae)
			}
			return d.end(false)
		}
		if ev.Raw {
			// Not SSE at all: an error object some gateways write bare.
			if ae := provider.InbandError([]byte(ev.Data)); ae != nil {
				return d.fail(ae)
			}
			continue
		}
		data := strings.TrimSpace(ev.Data)
		if data == "[DONE]" {
			return d.end(true)
		}
		if data == "" {
			continue
		}
		if ev.Event == "error" {
			ae := provider.InbandError([]byte(data))
			if ae == nil {
				ae = &provider.APIError{Kind: provider.KindStream, Title: "stream error", Message: data}
			}
			return d.fail(ae)
		}
		buf = append(buf[:0], data...)
		if ae := d.chunk(buf); ae != nil {
			return d.fail(ae)
		}
	}
}

// whole handles a non-streamed chat.completion (or an error object) that a
// gateway sent in reply to a streaming request.
func (d *decoder) whole(data []byte) *provider.APIError {
	if ae := d.chunk(bytes.TrimSpace(data)); ae != nil {
		return d.fail(ae)
	}
	return d.end(true)
}

// chunk processes one data payload.
func (d *decoder) chunk(data []byte) *provider.APIError {
	var c chunk
	if ok, ae := d.shapes.Decode(data, &c, needed); !ok {
		return ae
	}
	for i := range c.Choices {
		ch := &c.Choices[i]
		if ch.Index != 0 {
			continue // Parley asks for one choice; ignore any others
		}
		dl := &ch.Delta
		if ch.Message != nil {
			dl = ch.Message
		}
		if ae := d.delta(dl); ae != nil {
			return ae
		}
		if ch.FinishReason != nil && *ch.FinishReason != "" {
			d.finish = *ch.FinishReason
		}
	}
	for _, u := range c.Citations {
		d.source(u, "")
	}
	if c.Usage != nil {
		u := c.Usage.event()
		d.usage = &u
	} else if c.XGroq != nil && c.XGroq.Usage != nil {
		u := c.XGroq.Usage.event()
		d.usage = &u
	}
	if len(c.Error) > 0 && string(c.Error) != "null" {
		body, _ := json.Marshal(map[string]json.RawMessage{"error": c.Error})
		return provider.InbandError(body)
	}
	return nil
}

// text emits answer text (or reasoning), within the answer's budget.
func (d *decoder) text(s string, reasoning bool) *provider.APIError {
	ae := d.budget.EmitText(d.emit, s, reasoning)
	d.partial = d.partial || ae == nil && s != "" && !reasoning
	return ae
}

func (d *decoder) delta(dl *delta) *provider.APIError {
	// Reasoning: the first spelling present wins, so a gateway that sends
	// the same text as both reasoning and reasoning_details counts once.
	switch {
	case dl.ReasoningContent != nil && *dl.ReasoningContent != "":
		if ae := d.text(*dl.ReasoningContent, true); ae != nil {
			return ae
		}
	case dl.Reasoning != nil && *dl.Reasoning != "":
		if ae := d.text(*dl.Reasoning, true); ae != nil {
			return ae
		}
	default:
		for _, rd := range dl.ReasoningDetails {
			text := rd.Text
			if text == "" {
				text = rd.Summary
			}
			if rd.Type != "reasoning.encrypted" {
				if ae := d.text(text, true); ae != nil {
					return ae
				}
			}
		}
	}
	for _, s := range []*string{dl.Content, dl.Refusal} {
		if s != nil {
			if ae := d.text(*s, false); ae != nil {
				return ae
			}
		}
	}
	for _, a := range dl.Annotations {
		if a.URLCitation != nil {
			d.source(a.URLCitation.URL, a.URLCitation.Title)
		}
	}
	for i := range dl.ToolCalls {
		if ae := d.toolCall(&dl.ToolCalls[i]); ae != nil {
			return ae
		}
	}
	return nil
}

// toolCall merges one fragment. Fragments are matched by index; a gateway
// that sends no index (Mistral) sends each call whole, so a fragment with
// a new id starts a new call and one with neither continues the last.
func (d *decoder) toolCall(f *toolCallDelta) *provider.APIError {
	var st *toolCallState
	switch {
	case f.Index != nil:
		st = d.byIndex[int(*f.Index)]
	case len(d.calls) > 0 && (f.ID == "" || f.ID == d.calls[len(d.calls)-1].id):
		st = d.calls[len(d.calls)-1]
	}
	if st == nil {
		if ae := d.budget.Call(); ae != nil {
			return ae
		}
		st = &toolCallState{}
		if f.Index != nil {
			st.index = int(*f.Index)
			d.byIndex[st.index] = st
		} else {
			d.noIndexN++
			st.index = -d.noIndexN
		}
		d.calls = append(d.calls, st)
	}
	if st.id == "" && f.ID != "" {
		st.id = f.ID
	}
	if st.name == "" && f.Function.Name != "" {
		st.name = f.Function.Name
	}
	if ae := d.budget.Args(st.name, st.args.Len(), len(f.Function.Arguments)); ae != nil {
		return ae
	}
	st.args.WriteString(f.Function.Arguments)
	d.partial = true
	return nil
}

func (d *decoder) source(url, title string) { d.sources.Emit(d.emit, url, title) }

// flush emits the assembled tool calls and the usage.
func (d *decoder) flush() {
	for _, c := range d.calls {
		d.emit(provider.ToolCallEvent{ToolCall: provider.ToolCall{ID: c.id, Name: c.name, Arguments: c.args.String()}})
	}
	d.calls = nil
	if d.usage != nil {
		d.emit(*d.usage)
		d.usage = nil
	}
}

// end closes a stream that ran out. Without [DONE] and without a finish
// reason the answer was cut off: that is an error, with the partial
// answer kept.
func (d *decoder) end(sawDone bool) *provider.APIError {
	if !sawDone && d.finish == "" {
		return d.fail(&provider.APIError{Kind: provider.KindStream, Title: "stream ended early",
			Message: "the gateway closed the stream before the answer finished" + d.shapes.Note()})
	}
	reason := d.finish
	if reason == "" {
		reason = "stop"
		if len(d.calls) > 0 {
			reason = "tool_calls"
		}
	}
	if reason == "content_filter" {
		// Withheld by the gateway's filter: as with Gemini's SAFETY, an
		// error that keeps what streamed, not a quiet success.
		d.calls = nil
		return d.fail(&provider.APIError{Kind: provider.KindBlocked, Code: reason, Title: "answer blocked",
			Message: "the gateway's content filter stopped the answer"})
	}
	d.flush()
	d.emit(provider.Done{FinishReason: reason})
	return nil
}

// fail reports usage (still worth knowing) and marks the error partial.
// Tool calls under assembly are dropped: arguments cut off mid-way must
// never be run.
func (d *decoder) fail(ae *provider.APIError) *provider.APIError {
	if d.usage != nil {
		d.emit(*d.usage)
		d.usage = nil
	}
	ae.Partial = ae.Partial || d.partial
	return ae
}

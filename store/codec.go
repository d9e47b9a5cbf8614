package store

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
)

// Status says how an answer ended, or that it is still streaming.
type Status string

// The states of an answer.
const (
	StatusStreaming   Status = "streaming"   // being written by a live Parley
	StatusDone        Status = "done"        // complete
	StatusError       Status = "error"       // ended with an error (what came before it is kept)
	StatusInterrupted Status = "interrupted" // cancelled, or its process died: the partial answer is kept
)

// turnRow is a turn's summary as its row keeps it.
type turnRow struct {
	status                              Status
	reportedModel, chatID, finishReason string
	started, firstToken, firstText      int64
	reasoningStart, reasoningEnd, ended int64
	text, reasoning                     string
	toolCalls                           []provider.ToolCall
	toolResults                         []provider.ToolResult
	sources                             []provider.Source
	usage                               *provider.Usage
	err                                 *provider.APIError
}

// settingsJSON is the saved form of session.Settings.
type settingsJSON struct {
	Model          string                    `json:"model,omitempty"`
	System         string                    `json:"system,omitempty"`
	Temperature    *float64                  `json:"temperature,omitempty"`
	TopP           *float64                  `json:"top_p,omitempty"`
	MaxTokens      int                       `json:"max_tokens,omitempty"`
	Stop           []string                  `json:"stop,omitempty"`
	Reasoning      provider.ReasoningOptions `json:"reasoning,omitzero"`
	ResponseFormat *provider.ResponseFormat  `json:"response_format,omitempty"`
	ToolsMode      provider.ToolsMode        `json:"tools_mode,omitempty"`
	Tools          []provider.Tool           `json:"tools,omitempty"`
}

// toSettingsJSON is the saved form of s. A schema is saved as the
// response format it asks for (the schema itself is this run's file).
func toSettingsJSON(s session.Settings) settingsJSON {
	if s.Schema != nil {
		s.ResponseFormat = s.Schema.ResponseFormat()
	}
	return settingsJSON{Model: s.Model, System: s.System, Temperature: s.Temperature, TopP: s.TopP,
		MaxTokens: s.MaxTokens, Stop: s.Stop, Reasoning: s.Reasoning, ResponseFormat: s.ResponseFormat,
		ToolsMode: s.ToolsMode, Tools: s.Tools}
}

func (j settingsJSON) settings() session.Settings {
	return session.Settings{Model: j.Model, System: j.System, Temperature: j.Temperature, TopP: j.TopP,
		MaxTokens: j.MaxTokens, Stop: j.Stop, Reasoning: j.Reasoning, ResponseFormat: j.ResponseFormat,
		ToolsMode: j.ToolsMode, Tools: j.Tools}
}

func encodeSettings(s session.Settings) string {
	b, err := json.Marshal(toSettingsJSON(s))
	if err != nil {
		return ""
	}
	return string(b)
}

func decodeSettings(s string) (session.Settings, error) {
	var j settingsJSON
	if s == "" {
		return session.Settings{}, nil
	}
	if err := json.Unmarshal([]byte(s), &j); err != nil {
		return session.Settings{}, fmt.Errorf("settings: %w", err)
	}
	return j.settings(), nil
}

// decodeJSON decodes a JSON column into v; "" leaves v as it is.
func decodeJSON(s string, v any) error {
	if s == "" {
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}

// decodeError reads an error column.
func decodeError(s string) (*provider.APIError, error) {
	if s == "" {
		return nil, nil
	}
	ev, err := provider.UnmarshalEvent([]byte(s))
	if err != nil {
		return nil, err
	}
	e, ok := ev.(provider.Error)
	if !ok {
		return nil, fmt.Errorf("an error column holds a %s event", ev.Type())
	}
	return e.Err, nil
}

// decodeTimeline reads timeline lines ("OFFSET_MS<tab>EVENT_JSON\n") and
// appends their events to out.
func decodeTimeline(chunk string, out []session.TimedEvent) ([]session.TimedEvent, error) {
	for line := range strings.SplitSeq(strings.TrimSuffix(chunk, "\n"), "\n") {
		if line == "" {
			continue
		}
		off, js, ok := strings.Cut(line, "\t")
		if !ok {
			return out, fmt.Errorf("a timeline line has no offset")
		}
		n, err := strconv.ParseInt(off, 10, 64)
		if err != nil {
			return out, fmt.Errorf("a timeline offset: %w", err)
		}
		ev, err := provider.UnmarshalEvent([]byte(js))
		if err != nil {
			return out, err
		}
		out = append(out, session.TimedEvent{Offset: time.Duration(n) * time.Millisecond, Event: ev})
	}
	return out, nil
}

// restoreTurn builds the finished session.Turn a row describes.
func (r *turnRow) restoreTurn(sent int, superseded bool) *session.Turn {
	t := &session.Turn{
		Superseded: superseded, Sent: sent,
		Start: fromMS(r.started), FirstToken: fromMS(r.firstToken), FirstText: fromMS(r.firstText), End: fromMS(r.ended),
		ReasoningStart: fromMS(r.reasoningStart), ReasoningEnd: fromMS(r.reasoningEnd),
		ToolCalls: r.toolCalls, ToolResults: r.toolResults, Sources: r.sources,
		Model: r.reportedModel, ChatID: r.chatID, FinishReason: r.finishReason, Err: r.err,
		Interrupted: r.status == StatusInterrupted || r.status == StatusStreaming,
	}
	if r.usage != nil {
		t.Usage, t.HasUsage = *r.usage, true
	}
	t.Restore(r.text, r.reasoning)
	return t
}

// replayTurn builds a turn from its timeline alone, for an answer whose
// summary was never written (it was streaming when its process died, or
// still is): the events are applied at their offsets and the turn is cut
// off after the last one.
func replayTurn(start time.Time, sent int, superseded bool, events []session.TimedEvent) *session.Turn {
	t := session.NewTurn(start)
	t.Sent, t.Superseded = sent, superseded
	end := start
	for _, te := range events {
		at := start.Add(te.Offset)
		t.Apply(te.Event, at)
		end = at
	}
	t.Interrupt(end)
	return t
}

package cuadra

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/parley-chat/parley/provider"
)

// chatBody is the POST /chats request body.
type chatBody struct {
	ChatID  string `json:"chatId,omitempty"`
	ModelID string `json:"modelId,omitempty"`
	// SystemPrompt is spelled as the gateway's reference spells it.
	SystemPrompt    string              `json:"system_prompt,omitempty"`
	Messages        []wireMessage       `json:"messages"`
	Stream          bool                `json:"stream"`
	Temperature     *float64            `json:"temperature,omitempty"`
	MaxTokens       int                 `json:"maxTokens,omitempty"`
	TopP            *float64            `json:"topP,omitempty"`
	Stop            []string            `json:"stop,omitempty"`
	EnableReasoning bool                `json:"enableReasoning,omitempty"`
	ReasoningBudget int                 `json:"reasoningBudget,omitempty"`
	ResponseFormat  *wireResponseFormat `json:"responseFormat,omitempty"`
	Tools           []wireTool          `json:"tools,omitempty"`
}

type wireMessage struct {
	Role       string         `json:"role"`
	Content    string         `json:"content,omitempty"`
	ToolCalls  []wireToolCall `json:"toolCalls,omitempty"`
	ToolCallID string         `json:"toolCallId,omitempty"`
}

type wireToolCall struct {
	Index    *provider.Count `json:"index,omitempty"`
	ID       string          `json:"id,omitempty"`
	Type     string          `json:"type,omitempty"`
	Function wireFunction    `json:"function"`
}

type wireFunction struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

type wireResponseFormat struct {
	Type       string          `json:"type"`
	JSONSchema *wireJSONSchema `json:"json_schema,omitempty"`
}

type wireJSONSchema struct {
	Name   string          `json:"name"`
	Strict bool            `json:"strict,omitempty"`
	Schema json.RawMessage `json:"schema,omitempty"`
}

type wireTool struct {
	Type     string          `json:"type"`
	Function wireFunctionDef `json:"function"`
}

type wireFunctionDef struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters"`
}

// wireUsage is the gateway's token count.
type wireUsage struct {
	InputTokens     provider.Count `json:"inputTokens"`
	OutputTokens    provider.Count `json:"outputTokens"`
	TotalTokens     provider.Count `json:"totalTokens"`
	ReasoningTokens provider.Count `json:"reasoningTokens"`
	CachedTokens    provider.Count `json:"cachedTokens"`
}

func (u *wireUsage) event() provider.Usage {
	ev := provider.Usage{InputTokens: int(u.InputTokens), OutputTokens: int(u.OutputTokens), TotalTokens: int(u.TotalTokens),
		ReasoningTokens: int(u.ReasoningTokens), CachedTokens: int(u.CachedTokens)}
	if ev.TotalTokens == 0 {
		ev.TotalTokens = ev.InputTokens + ev.OutputTokens
	}
	return ev
}

// plainChunk is one event of the gateway's plain stream, and also the
// shape of a non-streamed answer (which carries message instead of delta).
type plainChunk struct {
	ID           string          `json:"id"`
	ChatID       string          `json:"chatId"`
	Delta        string          `json:"delta"`
	Reasoning    string          `json:"reasoning"`
	ToolCalls    []wireToolCall  `json:"toolCalls"`
	Sources      []wireSource    `json:"sources"`
	Finished     bool            `json:"finished"`
	FinishReason string          `json:"finishReason"`
	Usage        *wireUsage      `json:"usage"`
	Error        json.RawMessage `json:"error"`
	Message      *struct {
		Role      string         `json:"role"`
		Content   string         `json:"content"`
		Reasoning string         `json:"reasoning"`
		ToolCalls []wireToolCall `json:"toolCalls"`
	} `json:"message"`
}

// wireSource is a retrieval source the gateway cites.
type wireSource struct {
	SourceID  string `json:"sourceId"`
	Filename  string `json:"filename"`
	Title     string `json:"title"`
	SourceURL string `json:"sourceUrl"`
	URL       string `json:"url"`
}

// uiPart is one part of a Vercel AI SDK UI message stream. Only the
// fields Parley reads are declared.
type uiPart struct {
	Type            string          `json:"type"`
	ID              string          `json:"id"`
	MessageID       string          `json:"messageId"`
	Delta           string          `json:"delta"`
	ToolCallID      string          `json:"toolCallId"`
	ToolName        string          `json:"toolName"`
	InputTextDelta  string          `json:"inputTextDelta"`
	Input           json.RawMessage `json:"input"`
	Output          json.RawMessage `json:"output"`
	ErrorText       string          `json:"errorText"`
	SourceID        string          `json:"sourceId"`
	URL             string          `json:"url"`
	Title           string          `json:"title"`
	Filename        string          `json:"filename"`
	MediaType       string          `json:"mediaType"`
	FinishReason    string          `json:"finishReason"`
	MessageMetadata json.RawMessage `json:"messageMetadata"`
	Reason          string          `json:"reason"`
}

// buildBody maps a dialect-neutral request to the wire body. continuing
// sends the chat id and only the messages after req.KnownMessages;
// otherwise the whole history goes as a new chat.
func buildBody(req *provider.Request, continuing bool) ([]byte, error) {
	b := chatBody{
		ModelID:     req.Model,
		Stream:      true,
		Temperature: req.Temperature,
		MaxTokens:   req.MaxTokens,
		TopP:        req.TopP,
		Stop:        req.Stop,
	}
	if req.Reasoning.Enabled {
		b.EnableReasoning = true
		b.ReasoningBudget = req.Reasoning.Budget
	}
	msgs := req.Messages
	if continuing {
		b.ChatID = req.ChatID
		msgs = msgs[min(req.KnownMessages, len(msgs)):]
	} else {
		var sys []string
		for _, m := range req.Messages {
			if m.Role == provider.RoleSystem && m.Content != "" {
				sys = append(sys, m.Content)
			}
		}
		b.SystemPrompt = strings.Join(sys, "\n\n")
	}
	b.Messages = []wireMessage{}
	for _, m := range msgs {
		if m.Role == provider.RoleSystem {
			continue // sent as system_prompt; a continued chat keeps its own
		}
		if m.Role == provider.RoleAssistant && m.Content == "" && len(m.ToolCalls) == 0 {
			continue // a turn that produced only reasoning: gateways refuse an empty message
		}
		wm := wireMessage{Role: string(m.Role), Content: m.Content, ToolCallID: m.ToolCallID}
		for _, tc := range m.ToolCalls {
			wm.ToolCalls = append(wm.ToolCalls, wireToolCall{ID: tc.ID, Type: "function",
				Function: wireFunction{Name: tc.Name, Arguments: tc.Arguments}})
		}
		b.Messages = append(b.Messages, wm)
	}
	for _, t := range req.Tools {
		params := t.Parameters
		if len(params) == 0 {
			params = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		b.Tools = append(b.Tools, wireTool{Type: "function", Function: wireFunctionDef{
			Name: t.Name, Description: t.Description, Parameters: params}})
	}
	if rf := req.ResponseFormat; rf != nil {
		f := &wireResponseFormat{Type: rf.Type}
		if rf.Type == "json_schema" {
			name := rf.Name
			if name == "" {
				name = "response"
			}
			f.JSONSchema = &wireJSONSchema{Name: name, Strict: rf.Strict, Schema: rf.Schema}
		}
		b.ResponseFormat = f
	}
	return json.Marshal(b)
}

// newMessages counts the non-system messages after req.KnownMessages.
func newMessages(req *provider.Request) int {
	n := 0
	for _, m := range req.Messages[min(max(req.KnownMessages, 0), len(req.Messages)):] {
		if m.Role != provider.RoleSystem {
			n++
		}
	}
	return n
}

// parseTime reads a timestamp given as RFC 3339 text or Unix seconds (or
// milliseconds) and returns Unix seconds, 0 when unreadable.
func parseTime(raw json.RawMessage) int64 {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t.Unix()
		}
		return 0
	}
	var n float64
	if json.Unmarshal(raw, &n) == nil && n > 0 {
		if n > 1e12 {
			n /= 1000
		}
		return int64(n)
	}
	return 0
}

package openai

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/parley-chat/parley/provider"
)

// TestResponseFormatBody checks the structured-output request as an
// OpenAI-compatible gateway reads it: response_format with type
// json_schema and json_schema {name, schema, strict}, the schema as given.
func TestResponseFormatBody(t *testing.T) {
	var bodies []json.RawMessage
	p := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		var got struct {
			ResponseFormat json.RawMessage `json:"response_format"`
		}
		json.NewDecoder(r.Body).Decode(&got)
		bodies = append(bodies, got.ResponseFormat)
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: "+chunkJSON("{}")+"\n\ndata: [DONE]\n\n")
	}, provider.Options{})
	schema := json.RawMessage(`{"type":"object","properties":{"name":{"type":"string"}},"required":["name"],"additionalProperties":false}`)
	for _, rf := range []*provider.ResponseFormat{
		{Type: "json_schema", Name: "product", Schema: schema, Strict: true},
		{Type: "json_schema", Schema: json.RawMessage(`{"type":"object"}`)},
		nil,
	} {
		collect(t, p, &provider.Request{Model: "m", Messages: []provider.Message{{Role: provider.RoleUser, Content: "x"}}, ResponseFormat: rf})
	}
	want := []string{
		`{"type":"json_schema","json_schema":{"name":"product","schema":` + string(schema) + `,"strict":true}}`,
		`{"type":"json_schema","json_schema":{"name":"response","schema":{"type":"object"},"strict":false}}`,
		``,
	}
	for i, w := range want {
		if string(bodies[i]) != w {
			t.Errorf("request %d: response_format\n got %s\nwant %s", i+1, bodies[i], w)
		}
	}
}

package cuadra

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/parley-chat/parley/provider"
)

// FuzzDecoder feeds arbitrary bodies to both stream formats: the decoder
// must never panic and must end every stream with exactly one Done or
// Error, with nothing after it.
func FuzzDecoder(f *testing.F) {
	f.Add([]byte("data: {\"id\":\"chat_1\",\"delta\":\"Once\",\"finished\":false}\n\ndata: {\"id\":\"chat_1\",\"delta\":\"\",\"finished\":true,\"usage\":{\"inputTokens\":1}}\n\ndata: [DONE]\n\n"), false)
	f.Add([]byte("data: {\"type\":\"start\",\"messageId\":\"m\"}\n\ndata: {\"type\":\"tool-input-start\",\"toolCallId\":\"c\",\"toolName\":\"t\"}\n\ndata: {\"type\":\"tool-input-delta\",\"toolCallId\":\"c\",\"inputTextDelta\":\"{\"}\n\ndata: {\"type\":\"error\",\"errorText\":\"boom\"}\n\n"), true)
	f.Add([]byte("{\"type\":\"about:blank\",\"title\":\"Bad\",\"status\":400,\"detail\":\"x\"}"), false)
	tr := provider.NewTransport(provider.Options{})
	f.Fuzz(func(t *testing.T, body []byte, ui bool) {
		resp := &http.Response{Header: http.Header{}}
		if ui {
			resp.Header.Set("X-Vercel-Ai-Ui-Message-Stream", "v1")
		}
		terminal, after := 0, false
		emit := func(ev provider.Event) {
			if terminal > 0 {
				after = true
			}
			switch ev.(type) {
			case provider.Done, provider.Error:
				terminal++
			}
		}
		d := newDecoder(emit, resp)
		_ = provider.Finish(emit, d.run(context.Background(), tr, bytes.NewReader(body)))
		if terminal != 1 || after {
			t.Fatalf("terminal events = %d, events after the end = %v", terminal, after)
		}
	})
}

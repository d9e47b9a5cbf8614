package openai

import (
	"bytes"
	"context"
	"testing"

	"github.com/parley-chat/parley/provider"
)

// FuzzDecoder feeds arbitrary bodies to the stream decoder: it must never
// panic, must end every stream with exactly one Done or Error, and must
// report every text delta it saw before that end.
func FuzzDecoder(f *testing.F) {
	f.Add([]byte("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n"))
	f.Add([]byte("event: error\ndata: {\"error\":{\"message\":\"x\"}}\n\n"))
	f.Add([]byte("data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"id\":\"a\",\"function\":{\"name\":\"f\",\"arguments\":\"{\"}}]}}]}\n\n{\"error\":1}\n"))
	f.Add([]byte(": keep-alive\r\n\r\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":1}}\r\n\r\n"))
	tr := provider.NewTransport(provider.Options{})
	f.Fuzz(func(t *testing.T, body []byte) {
		var terminal int
		var after bool
		d := newDecoder(func(ev provider.Event) {
			if terminal > 0 {
				after = true
			}
			switch ev.(type) {
			case provider.Done, provider.Error:
				terminal++
			}
		})
		_ = provider.Finish(d.emit, d.run(context.Background(), tr, bytes.NewReader(body)))
		if terminal != 1 || after {
			t.Fatalf("terminal events = %d, events after the end = %v", terminal, after)
		}
	})
}

package gemini

import (
	"bytes"
	"context"
	"testing"

	"github.com/parley-chat/parley/provider"
)

// FuzzDecoder feeds arbitrary bodies to the stream decoder: it must never
// panic and must end every stream with exactly one Done or Error, with
// nothing after it.
func FuzzDecoder(f *testing.F) {
	f.Add([]byte("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"hi\",\"thought\":true},{\"text\":\"yo\"}]},\"finishReason\":\"STOP\"}]}\r\n\r\n"))
	f.Add([]byte("data: {\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"f\",\"willContinue\":true,\"partialArgs\":[{\"jsonPath\":\"$.a\",\"stringValue\":\"x\",\"willContinue\":true}]}}]}}]}\n\n"))
	f.Add([]byte("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]}}]}\n\n{\n \"error\": {\"code\": 499, \"status\": \"CANCELLED\"}\n}\n"))
	f.Add([]byte("data: {\"promptFeedback\":{\"blockReason\":\"SAFETY\"}}\n\n"))
	tr := provider.NewTransport(provider.Options{})
	f.Fuzz(func(t *testing.T, body []byte) {
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
		d := newDecoder(emit)
		_ = provider.Finish(emit, d.run(context.Background(), tr, bytes.NewReader(body)))
		if terminal != 1 || after {
			t.Fatalf("terminal events = %d, events after the end = %v", terminal, after)
		}
	})
}

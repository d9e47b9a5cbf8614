package cuadra

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/fixtures"
	"github.com/parley-chat/parley/provider"
)

// expectation is what a careful reader of a recorded UI message stream
// expects Parley to show.
type expectation struct {
	Text, Reasoning string
	Calls           []provider.ToolCall
	Results         int
	ErrorText       string
}

// readUIStream is an independent, deliberately simple reader of a UI
// message stream body: it splits on "data: " lines and folds the parts.
func readUIStream(t *testing.T, body []byte) expectation {
	t.Helper()
	var e expectation
	inputs := map[string]*strings.Builder{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok || line == "[DONE]" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("fixture line is not JSON: %s", line)
		}
		str := func(k string) string { s, _ := m[k].(string); return s }
		switch str("type") {
		case "text-delta":
			e.Text += str("delta")
		case "reasoning-delta":
			e.Reasoning += str("delta")
		case "tool-input-delta":
			if inputs[str("toolCallId")] == nil {
				inputs[str("toolCallId")] = &strings.Builder{}
			}
			inputs[str("toolCallId")].WriteString(str("inputTextDelta"))
		case "tool-input-available":
			args := ""
			if b := inputs[str("toolCallId")]; b != nil {
				args = b.String()
			} else {
				raw, _ := json.Marshal(m["input"])
				args = string(raw)
			}
			e.Calls = append(e.Calls, provider.ToolCall{ID: str("toolCallId"), Name: str("toolName"), Arguments: args})
		case "tool-output-available", "tool-output-error":
			e.Results++
		case "error":
			if e.ErrorText == "" {
				e.ErrorText = str("errorText")
			}
		}
	}
	return e
}

// serveRecorded serves a recorded body with the recorded response headers.
func serveRecorded(t *testing.T, headersFile string, body []byte) http.HandlerFunc {
	raw, err := os.ReadFile(headersFile)
	if err != nil {
		t.Fatal(err)
	}
	hdr := http.Header{}
	for _, line := range strings.Split(strings.ReplaceAll(string(raw), "\r\n", "\n"), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.HasPrefix(line, "HTTP/") {
			continue
		}
		switch strings.ToLower(k) {
		case "transfer-encoding", "content-length", "connection", "date":
			continue
		}
		hdr.Add(k, strings.TrimSpace(v))
	}
	return func(w http.ResponseWriter, _ *http.Request) {
		for k, vs := range hdr {
			w.Header()[k] = vs
		}
		w.Write(body)
	}
}

func TestUIMessageStreamFixtures(t *testing.T) {
	dir := fixtures.Dir(t, "ui-message-stream")
	files, _ := filepath.Glob(filepath.Join(dir, "*.sse"))
	if len(files) < 11 {
		t.Fatalf("found %d recorded streams, want at least 11", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".sse")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want := readUIStream(t, body)
			g := newGateway(t, serveRecorded(t, strings.TrimSuffix(f, ".sse")+".headers.txt", body))
			p, _ := newProvider(t, g.srv.URL+"/v1", func(o *provider.Options) { o.UIStream = true })
			evs, err := collect(t, p, &provider.Request{Model: "m", Messages: []provider.Message{{Role: provider.RoleUser, Content: "hi"}}})
			s := summarize(evs)
			if s.Text != want.Text {
				t.Errorf("text\n got %q\nwant %q", s.Text, want.Text)
			}
			if s.Reasoning != want.Reasoning {
				t.Errorf("reasoning\n got %q\nwant %q", s.Reasoning, want.Reasoning)
			}
			if len(s.Calls) != len(want.Calls) {
				t.Fatalf("tool calls %+v, want %+v", s.Calls, want.Calls)
			}
			for i := range s.Calls {
				if s.Calls[i] != want.Calls[i] {
					t.Errorf("tool call %d = %+v, want %+v", i, s.Calls[i], want.Calls[i])
				}
			}
			if len(s.Results) != want.Results {
				t.Errorf("%d tool results, want %d", len(s.Results), want.Results)
			}
			if want.ErrorText != "" {
				if err == nil || s.Err.Message != want.ErrorText || !s.Err.Partial == (want.Text != "") {
					t.Errorf("error %v, want %q", s.Err, want.ErrorText)
				}
			} else if err != nil {
				t.Errorf("unexpected error %v", err)
			}
			if len(s.Started) != 1 || s.Started[0].ID == "" {
				t.Errorf("started %+v, want one with the message id", s.Started)
			}
		})
	}
}

// TestUIMessageStreamHandChecked pins values read by hand from two
// recordings, so the independent reader above cannot hide a shared
// mistake.
func TestUIMessageStreamHandChecked(t *testing.T) {
	dir := fixtures.Dir(t, "ui-message-stream")
	run := func(name string) summary {
		f := filepath.Join(dir, name+".sse")
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		g := newGateway(t, serveRecorded(t, filepath.Join(dir, name+".headers.txt"), body))
		p, _ := newProvider(t, g.srv.URL+"/v1")
		evs, _ := collect(t, p, &provider.Request{Model: "m", Messages: []provider.Message{{Role: provider.RoleUser, Content: "hi"}}})
		return summarize(evs)
	}

	s := run("ai-sdk-streamtext-reasoning-tools-sources")
	if s.Text != "Let me look that up.It is 18 °C and cloudy in Berlin, where the local time is 14:05." {
		t.Errorf("text %q", s.Text)
	}
	if s.Reasoning != "The user asks about the weather and time in Berlin. I should call both tools." {
		t.Errorf("reasoning %q", s.Reasoning)
	}
	wantCalls := []provider.ToolCall{
		{ID: "call-weather-1", Name: "getWeather", Arguments: `{"city":"Berlin"}`},
		{ID: "call-time-2", Name: "getTime", Arguments: `{"city":"Berlin"}`},
	}
	if len(s.Calls) != 2 || s.Calls[0] != wantCalls[0] || s.Calls[1] != wantCalls[1] {
		t.Errorf("calls %+v", s.Calls)
	}
	if len(s.Results) != 2 || s.Results[0].Name != "getWeather" || s.Results[0].Output != `{"city":"Berlin","temperatureC":18,"condition":"cloudy"}` {
		t.Errorf("results %+v", s.Results)
	}
	if len(s.Sources) != 2 || s.Sources[0].URL != "https://example.com/berlin-weather" || s.Sources[1].Title != "City climate handbook" {
		t.Errorf("sources %+v", s.Sources)
	}
	if s.Usage == nil || s.Usage.TotalTokens != 243 || s.Finish != "stop" || s.Started[0].ID != "msg-fixture-chat" {
		t.Errorf("usage %+v finish %q started %+v", s.Usage, s.Finish, s.Started)
	}

	s = run("ai-sdk-streamtext-tool-output-error")
	if len(s.Results) != 1 || !s.Results[0].IsError || s.Results[0].Output != "Error: quote service unavailable for ACME" || s.Finish != "tool_calls" {
		t.Errorf("tool error: results %+v finish %q", s.Results, s.Finish)
	}

	s = run("ai-sdk-streamtext-error-mid-stream")
	if s.Text != "Partial answer before the upstream fails" || s.Err == nil || s.Err.Message != "Stream failed: upstream provider overloaded" || !s.Err.Partial {
		t.Errorf("error mid-stream: %+v", s)
	}

	s = run("ai-sdk-createuimessagestream-data-source-file")
	if s.Text != "The notes say hello." || s.Reasoning != "Summarise the notes." || len(s.Sources) != 2 || s.Err != nil {
		t.Errorf("custom: %+v", s)
	}
}

package provider

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func decodeAll(t *testing.T, r io.Reader, max int) ([]SSEEvent, error) {
	t.Helper()
	d := NewSSEDecoder(r, max)
	var out []SSEEvent
	for {
		ev, err := d.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, ev)
	}
}

func TestSSEFraming(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []SSEEvent
	}{
		{"lf", "data: a\n\ndata: b\n\n", []SSEEvent{{Data: "a"}, {Data: "b"}}},
		{"crlf", "data: a\r\n\r\ndata: b\r\n\r\n", []SSEEvent{{Data: "a"}, {Data: "b"}}},
		{"lone cr", "data: a\r\rdata: b\r\r", []SSEEvent{{Data: "a"}, {Data: "b"}}},
		{"multi-line data", "data: {\"a\":\ndata: 1}\n\n", []SSEEvent{{Data: "{\"a\":\n1}"}}},
		{"no space after colon", "data:x\n\n", []SSEEvent{{Data: "x"}}},
		{"only first space removed", "data:  x\n\n", []SSEEvent{{Data: " x"}}},
		{"comments skipped", ": keep-alive\n: OPENROUTER PROCESSING\ndata: a\n\n", []SSEEvent{{Data: "a"}}},
		{"named event", "event: error\ndata: {}\n\n", []SSEEvent{{Event: "error", Data: "{}"}}},
		{"event type resets", "event: error\ndata: 1\n\ndata: 2\n\n", []SSEEvent{{Event: "error", Data: "1"}, {Data: "2"}}},
		{"no trailing blank line", "data: a\n\ndata: b", []SSEEvent{{Data: "a"}, {Data: "b"}}},
		{"empty data line", "data\n\n", []SSEEvent{{Data: ""}}},
		{"id and retry", "id: 7\nretry: 100\ndata: a\n\n", []SSEEvent{{Data: "a", ID: "7"}}},
		{"event without data not dispatched", "event: ping\n\ndata: a\n\n", []SSEEvent{{Data: "a"}}},
		{"bare json after events", "data: a\n\n{\n  \"error\": {\"code\": 499}\n}\n",
			[]SSEEvent{{Data: "a"}, {Raw: true, Data: "{\n  \"error\": {\"code\": 499}\n}"}}},
		{"bare json then blank", "{\"error\":1}\n\ndata: b\n\n", []SSEEvent{{Raw: true, Data: "{\"error\":1}"}, {Data: "b"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, mode := range []string{"whole", "one-byte"} {
				var r io.Reader = strings.NewReader(tt.in)
				if mode == "one-byte" {
					r = iotest.OneByteReader(r)
				}
				got, err := decodeAll(t, r, 0)
				if err != nil {
					t.Fatalf("%s: %v", mode, err)
				}
				if len(got) != len(tt.want) {
					t.Fatalf("%s: got %d events %+v, want %+v", mode, len(got), got, tt.want)
				}
				for i := range got {
					if got[i] != tt.want[i] {
						t.Errorf("%s: event %d = %+v, want %+v", mode, i, got[i], tt.want[i])
					}
				}
			}
		})
	}
}

func TestSSEManyComments(t *testing.T) {
	// go-openai aborts after 300 consecutive comment lines; keep-alives
	// on a slow model run far longer.
	in := strings.Repeat(": OPENROUTER PROCESSING\n\n", 5000) + "data: ok\n\n"
	d := NewSSEDecoder(strings.NewReader(in), 0)
	ev, err := d.Next()
	if err != nil || ev.Data != "ok" {
		t.Fatalf("got %+v, %v", ev, err)
	}
	if d.Comments() != 5000 {
		t.Errorf("comments = %d", d.Comments())
	}
}

func TestSSEHugeLine(t *testing.T) {
	big := strings.Repeat("x", 3<<20)
	got, err := decodeAll(t, iotest.HalfReader(strings.NewReader("data: "+big+"\r\n\r\ndata: b\n\n")), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Data != big || got[1].Data != "b" {
		t.Fatalf("huge line not intact: %d events", len(got))
	}
}

func TestSSESizeLimit(t *testing.T) {
	_, err := decodeAll(t, strings.NewReader("data: "+strings.Repeat("x", 2000)+"\n\n"), 1000)
	if !errors.Is(err, ErrEventTooLarge) {
		t.Fatalf("err = %v, want ErrEventTooLarge", err)
	}
	_, err = decodeAll(t, strings.NewReader(strings.Repeat("data: xxxxxxxxxx\n", 200)+"\n"), 1000)
	if !errors.Is(err, ErrEventTooLarge) {
		t.Fatalf("multi-line: err = %v, want ErrEventTooLarge", err)
	}
}

func TestSSEReadErrorDropsCutLine(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader("data: a\n\ndata: {\"cut"), iotest.ErrReader(boom))
	got, err := decodeAll(t, r, 0)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if len(got) != 1 || got[0].Data != "a" {
		t.Fatalf("events before the failure: %+v", got)
	}
}

func FuzzSSE(f *testing.F) {
	f.Add("data: a\r\n\r\n: c\rdata: b\n\n{raw}\n")
	f.Add("event: error\ndata: x\n")
	f.Fuzz(func(t *testing.T, in string) {
		whole, err1 := decodeAll(t, strings.NewReader(in), 1<<20)
		bytewise, err2 := decodeAll(t, iotest.OneByteReader(strings.NewReader(in)), 1<<20)
		if (err1 == nil) != (err2 == nil) || len(whole) != len(bytewise) {
			t.Fatalf("chunking changed the result: %v/%v %d/%d", err1, err2, len(whole), len(bytewise))
		}
		for i := range whole {
			if whole[i] != bytewise[i] {
				t.Fatalf("event %d differs: %+v vs %+v", i, whole[i], bytewise[i])
			}
		}
	})
}

func TestSSEByteOrderMark(t *testing.T) {
	for _, in := range []string{"\ufeffdata: first\n\n", "\ufeff: comment\ndata: first\n\n"} {
		got, err := decodeAll(t, iotest.OneByteReader(strings.NewReader(in)), 0)
		if err != nil || len(got) != 1 || got[0] != (SSEEvent{Data: "first"}) {
			t.Fatalf("%q: %+v %v", in, got, err)
		}
	}
}

func TestSSEManyCROnlyEvents(t *testing.T) {
	var b strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&b, "data: {\"n\":%d}\r\r", i)
	}
	got, err := decodeAll(t, strings.NewReader(b.String()), 0)
	if err != nil || len(got) != 20000 || got[19999].Data != `{"n":19999}` {
		t.Fatalf("%d events, %v", len(got), err)
	}
}

// BenchmarkSSEFraming decodes the same 20,000 events framed with LF, CRLF
// and lone CR: all three must cost about the same.
func BenchmarkSSEFraming(b *testing.B) {
	for _, nl := range []struct{ name, sep string }{{"LF", "\n"}, {"CRLF", "\r\n"}, {"CR", "\r"}} {
		var sb strings.Builder
		for i := range 20000 {
			fmt.Fprintf(&sb, "data: {\"choices\":[{\"delta\":{\"content\":\"token %d\"}}]}%s%s", i, nl.sep, nl.sep)
		}
		in := sb.String()
		b.Run(nl.name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				d := NewSSEDecoder(strings.NewReader(in), 0)
				for {
					if _, err := d.Next(); err != nil {
						break
					}
				}
			}
		})
	}
}

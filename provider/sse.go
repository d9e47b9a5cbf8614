package provider

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxEventSize bounds one SSE event. Tool arguments and inline
// images arrive as single data lines of several megabytes, so the limit is
// generous; it exists only so a broken stream cannot exhaust memory.
const DefaultMaxEventSize = 64 << 20

// ErrEventTooLarge reports an SSE event over the decoder's size limit.
var ErrEventTooLarge = errors.New("sse: event exceeds the size limit")

// SSEEvent is one dispatched server-sent event.
type SSEEvent struct {
	Event string // the "event:" field; empty for unnamed events
	Data  string // the "data:" lines joined by "\n"
	ID    string
	// Raw is true for a block of lines that are not SSE fields at all, such
	// as the bare JSON error object Gemini appends after its last event. Data
	// then holds those lines joined by "\n".
	Raw bool
}

// SSEDecoder reads server-sent events as the WHATWG specification frames
// them: lines end in LF, CRLF or CR; "data:" lines accumulate; a blank line
// dispatches; ":" comment lines are counted and skipped; a single space
// after the colon is removed. Unlike a browser it does not drop lines that
// are not fields: it reports them as Raw events, because gateways put error
// objects there.
//
// It is not safe for concurrent use.
type SSEDecoder struct {
	r         *bufio.Reader
	max       int
	comments  int
	pendingCR bool // the previous line ended in a lone CR: skip a following LF

	data    []byte
	hasData bool
	event   string
	id      string
	raw     []byte
	long    []byte // accumulates a line longer than the bufio buffer
	own     []byte // holds bytes read past a lone CR
	pend    []byte // unread bytes in own, consumed before the reader
	started bool   // the first line has begun (a leading BOM is dropped)
}

// NewSSEDecoder decodes r. maxEventSize ≤ 0 means DefaultMaxEventSize.
func NewSSEDecoder(r io.Reader, maxEventSize int) *SSEDecoder {
	if maxEventSize <= 0 {
		maxEventSize = DefaultMaxEventSize
	}
	return &SSEDecoder{r: bufio.NewReaderSize(r, 64<<10), max: maxEventSize}
}

// Comments returns how many comment (keep-alive) lines have been skipped.
func (d *SSEDecoder) Comments() int { return d.comments }

// Next returns the next event. At the end of the input it dispatches any
// event left without a closing blank line and then returns io.EOF. Any
// other error is the reader's (a broken connection, an idle timeout) or
// ErrEventTooLarge.
func (d *SSEDecoder) Next() (SSEEvent, error) {
	for {
		line, err := d.readLine()
		if err != nil {
			if err == io.EOF {
				if ev, ok := d.flushRaw(); ok {
					return ev, nil
				}
				if ev, ok := d.dispatch(); ok {
					return ev, nil
				}
			}
			return SSEEvent{}, err
		}
		if len(line) == 0 {
			if ev, ok := d.flushRaw(); ok {
				// The blank line also ends any field event begun before
				// the raw block; keep that for the next call.
				return ev, nil
			}
			if ev, ok := d.dispatch(); ok {
				return ev, nil
			}
			continue
		}
		if line[0] == ':' {
			d.comments++
			continue
		}
		name, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			name, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(name) {
		case "data":
			if ev, ok := d.flushRaw(); ok {
				d.appendData(value)
				return ev, nil
			}
			if err := d.appendData(value); err != nil {
				return SSEEvent{}, err
			}
		case "event":
			d.event = string(value)
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				d.id = string(value)
			}
		case "retry":
			// Reconnection delays do not apply to one-shot chat streams.
		default:
			if len(d.raw)+len(line) > d.max {
				return SSEEvent{}, ErrEventTooLarge
			}
			if len(d.raw) > 0 {
				d.raw = append(d.raw, '\n')
			}
			d.raw = append(d.raw, line...)
		}
	}
}

func (d *SSEDecoder) appendData(value []byte) error {
	if len(d.data)+len(value)+1 > d.max {
		return ErrEventTooLarge
	}
	if d.hasData {
		d.data = append(d.data, '\n')
	}
	d.data = append(d.data, value...)
	d.hasData = true
	return nil
}

func (d *SSEDecoder) dispatch() (SSEEvent, bool) {
	if !d.hasData {
		// Per the specification an event with no data is not dispatched,
		// but its type is reset.
		d.event = ""
		return SSEEvent{}, false
	}
	ev := SSEEvent{Event: d.event, Data: string(d.data), ID: d.id}
	d.data = d.data[:0]
	d.hasData = false
	d.event = ""
	if cap(d.data) > 1<<20 {
		d.data = nil // do not pin a multi-megabyte buffer for the whole stream
	}
	return ev, true
}

func (d *SSEDecoder) flushRaw() (SSEEvent, bool) {
	if len(d.raw) == 0 {
		return SSEEvent{}, false
	}
	ev := SSEEvent{Raw: true, Data: string(d.raw)}
	d.raw = d.raw[:0]
	return ev, true
}

// readLine returns the next line without its terminator. The slice is
// valid until the next call. It costs time linear in the input for every
// framing, CR-only included: bytes after a lone CR are kept in d.pend (a
// window into d.own, copied once per buffer) rather than pushed back.
func (d *SSEDecoder) readLine() ([]byte, error) {
	d.long = d.long[:0]
	for {
		var chunk []byte
		var err error
		fromPend := len(d.pend) > 0
		if fromPend {
			chunk, d.pend = d.pend, nil
		} else {
			chunk, err = d.r.ReadSlice('\n')
		}
		if !d.started {
			// A byte order mark before the first line is not data.
			if len(chunk) == 0 && err == nil {
				continue
			}
			d.started = true
			chunk = bytes.TrimPrefix(chunk, []byte("\ufeff"))
		}
		if d.pendingCR && len(chunk) > 0 {
			d.pendingCR = false
			if chunk[0] == '\n' {
				chunk = chunk[1:]
			}
		}
		if i := bytes.IndexAny(chunk, "\r\n"); i >= 0 {
			rest := chunk[i+1:]
			if chunk[i] == '\r' {
				if len(rest) > 0 && rest[0] == '\n' {
					rest = rest[1:]
				} else if len(rest) == 0 {
					d.pendingCR = true // its LF may come with the next read
				}
			}
			if len(rest) > 0 {
				if fromPend {
					d.pend = rest // already a window into d.own
				} else {
					d.own = append(d.own[:0], rest...)
					d.pend = d.own
				}
			}
			if len(d.long) == 0 && !fromPend {
				return chunk[:i], nil
			}
			d.long = append(d.long, chunk[:i]...)
			return d.long, nil
		}
		if len(d.long)+len(chunk) > d.max {
			return nil, ErrEventTooLarge
		}
		switch err {
		case nil, bufio.ErrBufferFull:
			// No terminator yet: the line goes on.
			d.long = append(d.long, chunk...)
		case io.EOF:
			if len(d.long)+len(chunk) > 0 {
				d.long = append(d.long, chunk...)
				return d.long, nil
			}
			return nil, io.EOF
		default:
			// A line cut off by a failure is incomplete data: drop it.
			return nil, err
		}
	}
}

// String describes an event for error messages and debugging.
func (e SSEEvent) String() string {
	if e.Raw {
		return fmt.Sprintf("raw(%d bytes)", len(e.Data))
	}
	return fmt.Sprintf("event=%q data(%d bytes)", e.Event, len(e.Data))
}

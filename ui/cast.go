package ui

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
)

// CastOptions configure WriteCast.
type CastOptions struct {
	// Cols and Rows are the terminal's size; 0 means 100×30.
	Cols, Rows int
	// Speed divides every time in the cast; 0 means 1.
	Speed float64
	Theme string
	// HideReasoning leaves reasoning out, as --hide-reasoning does.
	HideReasoning bool
	// Title and Timestamp go in the cast's header (when set).
	Title     string
	Timestamp time.Time
	// Dialect is the recorded provider's dialect.
	Dialect provider.Dialect
	// MaxIdle caps the pauses of the cast itself: no two frames are
	// further apart (0: no cap). The schedule caps the pauses between
	// its steps; this also catches steps that changed nothing on screen.
	MaxIdle time.Duration
	// Guard, when set, wraps what each replayed stream emits (see
	// session.PlayerOptions.Guard).
	Guard func(emit func(provider.Event)) func(provider.Event)
}

// Default cast size.
const (
	DefaultCastCols = 100
	DefaultCastRows = 30
)

// castHeader is the first line of an asciicast v2 file.
type castHeader struct {
	Version   int               `json:"version"`
	Width     int               `json:"width"`
	Height    int               `json:"height"`
	Timestamp int64             `json:"timestamp,omitempty"`
	Title     string            `json:"title,omitempty"`
	Env       map[string]string `json:"env,omitempty"`
}

// WriteCast plays sched in the chat screen without a terminal and writes
// what the screen shows as an asciicast v2 file: a header line, then one
// [time, "o", data] line for each frame that changed the screen, the data
// redrawing only the rows that changed. The screen is the real one (the
// same model, panes, reasoning block and status bar); its clock is a
// manual one moved from step to step, so the cast takes the recorded
// times (divided by the speed) without waiting for them. spec is the pane:
// its provider is replaced by the replay's. It returns when the whole
// schedule is written or ctx ends.
func WriteCast(ctx context.Context, w io.Writer, sched *session.Schedule, spec PaneSpec, o CastOptions) error {
	if o.Cols <= 0 {
		o.Cols = DefaultCastCols
	}
	if o.Rows <= 0 {
		o.Rows = DefaultCastRows
	}
	if o.Speed <= 0 {
		o.Speed = 1
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Unix(0, 0)
	clk := session.NewManualClock(start)
	msgs := make(chan tea.Msg)
	emitted := make(chan int)
	pl := session.NewPlayer(sched, session.PlayerOptions{Clock: clk, Guard: o.Guard, Emitted: func(i int) {
		select {
		case emitted <- i:
		case <-ctx.Done():
		}
	}})
	spec.Provider = pl.Provider(spec.ProviderName, o.Dialect)
	theme := o.Theme
	if theme == "" || theme == "auto" {
		theme = "dark" // no terminal to ask for its background
	}
	m, err := newModel(ctx, Options{Panes: []PaneSpec{spec}, Theme: theme, HideReasoning: o.HideReasoning,
		Replay: &Replay{Player: pl, Title: o.Title}}, func(msg tea.Msg) {
		select {
		case msgs <- msg:
		case <-ctx.Done():
		}
	})
	if err != nil {
		return err
	}
	defer m.shutdown()
	cw := &castWriter{w: bufio.NewWriterSize(w, 64<<10), speed: o.Speed, rows: o.Rows, cols: o.Cols,
		idle: o.MaxIdle.Seconds() / o.Speed}
	hdr := castHeader{Version: 2, Width: o.Cols, Height: o.Rows, Title: o.Title,
		Env: map[string]string{"TERM": "xterm-256color"}}
	if !o.Timestamp.IsZero() {
		hdr.Timestamp = o.Timestamp.Unix()
	}
	if err := cw.header(hdr); err != nil {
		return err
	}
	d := &castDriver{m: m, clk: clk, start: start, cw: cw, msgs: msgs, emitted: emitted, ctx: ctx,
		nextSecond: time.Second}
	m.update(tea.WindowSizeMsg{Width: o.Cols, Height: o.Rows})
	if err := d.capture(0); err != nil {
		return err
	}
	gen := pl.Generation()
	skip := -1 // the turn whose answer could not start
	for i, step := range sched.Steps {
		if step.Turn == skip {
			continue
		}
		if err := d.until(step.At, false); err != nil {
			return err
		}
		if step.Starts() {
			if err := pl.Wait(ctx, gen, i); err != nil {
				return err
			}
			m.update(replayStepMsg{seq: m.replay.seq, step: i})
			d.ticked()
			if !m.streaming() {
				skip = step.Turn
			}
		} else if err := d.event(i); err != nil {
			return err
		}
		if err := d.capture(step.At); err != nil {
			return err
		}
	}
	// Let the frames still pending render, then show the end.
	for n := 0; d.nextFrame != 0 && n < 10; n++ {
		if err := d.until(d.nextFrame, true); err != nil {
			return err
		}
	}
	m.refresh()
	if err := d.capture(sched.Total); err != nil {
		return err
	}
	return cw.w.Flush()
}

// castDriver moves the screen's clock and feeds it the frames, the
// seconds and the streams' events in the order of their times.
type castDriver struct {
	ctx     context.Context
	m       *Model
	clk     *session.ManualClock
	start   time.Time
	cw      *castWriter
	msgs    <-chan tea.Msg
	emitted <-chan int

	nextFrame  time.Duration // 0: no frame pending
	nextSecond time.Duration
}

// ticked notes a frame the model asked for.
func (d *castDriver) ticked() {
	if d.m.ticking && d.nextFrame == 0 {
		d.nextFrame = d.clk.Now().Sub(d.start) + frameInterval
	}
}

// until runs the frames and seconds due before t (and at t, with
// inclusive), capturing the screen after each, and moves the clock to t.
// The clock never passes a step the loop has not reached, so a stream
// emits nothing while a frame is drawn.
func (d *castDriver) until(t time.Duration, inclusive bool) error {
	for {
		next, frame := d.nextSecond, false
		if d.nextFrame != 0 && d.nextFrame <= next {
			next, frame = d.nextFrame, true
		}
		if next > t || next == t && !inclusive {
			break
		}
		d.clk.Set(d.start.Add(next))
		if frame {
			d.nextFrame = 0
			d.m.update(frameMsg{})
			d.ticked()
		} else {
			d.nextSecond += time.Second
			d.m.update(secondMsg{})
		}
		if err := d.capture(next); err != nil {
			return err
		}
	}
	d.clk.Set(d.start.Add(t))
	return nil
}

// event hands the screen what the stream emits for step i.
func (d *castDriver) event(i int) error {
	for {
		select {
		case msg := <-d.msgs:
			d.m.update(msg)
			d.ticked()
		case j := <-d.emitted:
			if j == i {
				return nil
			}
		case <-d.ctx.Done():
			return d.ctx.Err()
		}
	}
}

// capture writes the screen at t when it changed.
func (d *castDriver) capture(t time.Duration) error {
	if d.m.dirty {
		d.m.compose()
	}
	return d.cw.frame(t, d.m.content)
}

// castWriter writes asciicast v2 events, redrawing only the rows that
// changed since the last frame.
type castWriter struct {
	w          *bufio.Writer
	speed      float64
	rows, cols int
	prev       []string
	started    bool
	last       float64 // the time of the last frame written
	idle       float64 // the longest pause between frames; 0: no limit
	cut        float64 // the time taken out of longer pauses so far
}

func (c *castWriter) header(h castHeader) error {
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = c.w.Write(b)
	return err
}

// frame writes the screen content at schedule time t, if it changed.
func (c *castWriter) frame(t time.Duration, content string) error {
	lines := strings.Split(content, "\n")
	if len(lines) > c.rows {
		lines = lines[:c.rows]
	}
	var b strings.Builder
	if !c.started {
		// Hide the cursor and clear the screen.
		b.WriteString("\x1b[?25l\x1b[H\x1b[2J")
		c.started = true
		c.prev = make([]string, c.rows)
	}
	for i := range c.rows {
		line := ""
		if i < len(lines) {
			line = ansi.Truncate(lines[i], c.cols, "")
		}
		if c.prev[i] == line {
			continue
		}
		c.prev[i] = line
		// Erase the row first: erasing after a full row would take its
		// last cell with it.
		b.WriteString("\x1b[" + strconv.Itoa(i+1) + ";1H\x1b[2K" + line + "\x1b[m")
	}
	if b.Len() == 0 {
		return nil
	}
	at := max(seconds(t, c.speed)-c.cut, c.last)
	if c.idle > 0 && at-c.last > c.idle {
		c.cut += at - c.last - c.idle
		at = c.last + c.idle
	}
	c.last = at
	ev, err := json.Marshal([]any{json.Number(strconv.FormatFloat(at, 'f', 6, 64)), "o", b.String()})
	if err != nil {
		return err
	}
	ev = append(ev, '\n')
	_, err = c.w.Write(ev)
	return err
}

// seconds is d at speed, in seconds.
func seconds(d time.Duration, speed float64) float64 {
	return d.Seconds() / speed
}

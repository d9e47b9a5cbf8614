package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parley-chat/parley/provider"
)

// The number of columns a comparison holds.
const (
	MinColumns = 2
	MaxColumns = 6
)

// ErrTooManyColumns: a comparison holds at most MaxColumns columns.
var ErrTooManyColumns = fmt.Errorf("a comparison has at most %d columns", MaxColumns)

// ColumnSpec is one column to add to a comparison: what it is called and
// the chat it runs.
type ColumnSpec struct {
	// Label is the column's name as the user gave it: a model, a
	// provider:model, a model with settings ("gpt-4o{temperature=0}") or
	// a preset's name.
	Label    string
	Provider provider.Provider
	Settings Settings
	// History is the conversation the column starts from; nil starts
	// empty.
	History []provider.Message
}

// Column is one column of a comparison: a label and its own chat, with
// its own history, stream, retries and rate-limit wait.
type Column struct {
	Label string
	Chat  *Chat
}

// CompareOptions configure a Compare.
type CompareOptions struct {
	// Deliver receives every event of every column's runs with the
	// column's index (from 0), from the runs' goroutines, in order per
	// run (see ChatOptions.Deliver). The owner hands each back to
	// Compare.Handle (or to that column's Chat.Handle).
	Deliver func(col int, ev Stamped)
	// Pacer paces the columns' requests; nil gives the comparison its
	// own. Columns on one provider and model share its budget.
	Pacer *Pacer
	// Now is the clock of the columns' chats; nil means time.Now.
	Now func() time.Time
}

// Compare is one prompt put to several models (or several settings of
// one) side by side: a column per model, each a Chat of its own. Every
// column streams in its own goroutine, so one column's queue wait, retry,
// error or cancellation never holds up another. Like a Chat, a Compare
// is owned by one goroutine, which calls every method.
type Compare struct {
	// ID names the comparison, so the store can keep its columns' chats
	// together as one saved comparison.
	ID   string
	opts CompareOptions
	cols []*Column
}

// NewCompare returns a comparison with no columns yet.
func NewCompare(o CompareOptions) *Compare {
	if o.Pacer == nil {
		o.Pacer = NewPacer(PacerOptions{})
	}
	if o.Deliver == nil {
		o.Deliver = func(int, Stamped) {}
	}
	return &Compare{ID: NewID(), opts: o}
}

// Pacer is the pacer the columns share.
func (c *Compare) Pacer() *Pacer { return c.opts.Pacer }

// Add adds a column with a new chat whose events are delivered with the
// column's index. It fails with ErrTooManyColumns past MaxColumns.
func (c *Compare) Add(spec ColumnSpec) (*Column, error) {
	if len(c.cols) >= MaxColumns {
		return nil, ErrTooManyColumns
	}
	i := len(c.cols)
	deliver := c.opts.Deliver
	chat := NewChat(ChatOptions{
		Provider: spec.Provider,
		Settings: spec.Settings,
		History:  spec.History,
		Pacer:    c.opts.Pacer,
		Now:      c.opts.Now,
		Deliver:  func(ev Stamped) { deliver(i, ev) },
	})
	col := &Column{Label: spec.Label, Chat: chat}
	c.cols = append(c.cols, col)
	return col, nil
}

// Adopt makes an existing chat the next column: the chat screen turns its
// conversation into a comparison this way. The chat keeps delivering its
// events where it did.
func (c *Compare) Adopt(label string, chat *Chat) (*Column, error) {
	if len(c.cols) >= MaxColumns {
		return nil, ErrTooManyColumns
	}
	col := &Column{Label: label, Chat: chat}
	c.cols = append(c.cols, col)
	return col, nil
}

// Columns are the columns in order.
func (c *Compare) Columns() []*Column { return c.cols }

// Send puts prompt to every column. A column that cannot take it (still
// streaming) is skipped and named in the error; the others start anyway.
func (c *Compare) Send(ctx context.Context, prompt string) error {
	var errs []error
	for i, col := range c.cols {
		if _, err := col.Chat.Send(ctx, prompt); err != nil {
			errs = append(errs, fmt.Errorf("column %d (%s): %w", i+1, col.Label, err))
		}
	}
	return errors.Join(errs...)
}

// Handle folds one delivered event into its column's chat (see
// Chat.Handle). An event for a column that does not exist changes nothing.
func (c *Compare) Handle(col int, ev Stamped) Update {
	if col < 0 || col >= len(c.cols) {
		return Update{Event: ev.Event, Stale: true}
	}
	return c.cols[col].Chat.Handle(ev)
}

// Cancel stops every column's answer in flight and returns how many were
// streaming.
func (c *Compare) Cancel() int {
	n := 0
	for _, col := range c.cols {
		if col.Chat.Cancel() {
			n++
		}
	}
	return n
}

// CancelColumn stops one column's answer in flight, leaving the others
// streaming, and reports whether it was streaming.
func (c *Compare) CancelColumn(i int) bool {
	if i < 0 || i >= len(c.cols) {
		return false
	}
	return c.cols[i].Chat.Cancel()
}

// Streaming reports whether any column is streaming.
func (c *Compare) Streaming() bool {
	for _, col := range c.cols {
		if col.Chat.Streaming() {
			return true
		}
	}
	return false
}

// Done reports whether every column has finished answering the last
// prompt (done, failed or interrupted) and at least one was asked.
func (c *Compare) Done() bool {
	asked := false
	for _, col := range c.cols {
		if col.Chat.Streaming() {
			return false
		}
		if col.Chat.Turn() != nil {
			asked = true
		}
	}
	return asked
}

// Failed reports whether some column's last answer ended in an error.
func (c *Compare) Failed() bool {
	for _, col := range c.cols {
		if t := col.Chat.Turn(); t != nil && t.Err != nil {
			return true
		}
	}
	return false
}

// Pick ends the comparison in favour of column i: every other column's
// answer in flight is cancelled, and column i, with its chat and
// history, is what remains (the comparison then holds only it).
func (c *Compare) Pick(i int) (*Column, error) {
	if i < 0 || i >= len(c.cols) {
		return nil, fmt.Errorf("no column %d (columns 1–%d)", i+1, len(c.cols))
	}
	keep := c.cols[i]
	for j, col := range c.cols {
		if j != i {
			col.Chat.Cancel()
		}
	}
	c.cols = []*Column{keep}
	return keep, nil
}

// Result is one column's figures for the last prompt, as the summary
// table below the columns and print mode show them.
type Result struct {
	Column int // from 1
	Label  string
	// Model is the model the gateway reported, else the one asked for.
	Model string
	Phase Phase
	// TTFT is the time to first token from when the answering request
	// went out; Waited is the time before that (queue, retries, pacing).
	TTFT            time.Duration
	Waited          time.Duration
	TokensPerSecond float64
	OutputTokens    int
	// Duration runs from the prompt to the end of the answer (to now
	// while it streams).
	Duration     time.Duration
	FinishReason string
	Err          *provider.APIError
	Interrupted  bool
	// Asked is false for a column that has not been sent a prompt.
	Asked bool
}

// Results are every column's figures at now.
func (c *Compare) Results(now time.Time) []Result {
	out := make([]Result, len(c.cols))
	for i, col := range c.cols {
		out[i] = ColumnResult(i+1, col.Label, col.Chat, now)
	}
	return out
}

// ColumnResult is the figures of chat's last answer at now, for column n
// (from 1) called label.
func ColumnResult(n int, label string, chat *Chat, now time.Time) Result {
	r := Result{Column: n, Label: label, Model: chat.Settings().Model, Phase: chat.State().Phase}
	t := chat.Turn()
	if t == nil {
		return r
	}
	r.Asked = true
	if t.Model != "" {
		r.Model = t.Model
	}
	end := now
	if t.Finished() {
		end = t.End
	}
	r.TTFT = t.TTFT()
	r.Waited = t.Waited(now)
	r.TokensPerSecond = t.TokensPerSecond(now)
	r.OutputTokens = t.OutputTokens()
	r.Duration = max(end.Sub(t.Start), 0)
	r.FinishReason = t.FinishReason
	r.Err = t.Err
	r.Interrupted = t.Interrupted
	return r
}

// Outcome says in a word or two how the answer ended: its finish reason
// ("stop", "length"), "error 429", "interrupted", or the phase while it
// has not ended.
func (r Result) Outcome() string {
	switch {
	case !r.Asked:
		return "—"
	case r.Interrupted:
		return "interrupted"
	case r.Err != nil && r.Err.Status > 0:
		return fmt.Sprintf("error %d", r.Err.Status)
	case r.Err != nil:
		return "error: " + string(r.Err.Kind)
	case r.Phase.Active():
		return r.Phase.String()
	case r.FinishReason == "":
		return "done"
	}
	return r.FinishReason
}

// SummaryHeader is the header row of the summary table; Cells gives a
// result's row.
func SummaryHeader() []string {
	return []string{"#", "model", "TTFT", "tok/s", "out tok", "duration", "waited", "finish"}
}

// Cells is the result's row of the summary table, in SummaryHeader's
// order. Figures not known are "—".
func (r Result) Cells() []string {
	dash := func(ok bool, s string) string {
		if !ok {
			return "—"
		}
		return s
	}
	return []string{
		fmt.Sprint(r.Column),
		r.Label,
		dash(r.TTFT > 0, Seconds(r.TTFT)),
		dash(r.TokensPerSecond > 0, fmt.Sprintf("%.0f", r.TokensPerSecond)),
		dash(r.Asked, fmt.Sprint(r.OutputTokens)),
		dash(r.Asked, Seconds(r.Duration)),
		dash(r.Waited > 0, Seconds(r.Waited)),
		r.Outcome(),
	}
}

// Seconds formats a duration as seconds with one decimal ("2.4s"), or
// two below a second ("0.35s").
func Seconds(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

// FormatTable lays rows out as plain text columns, the first row the
// header, each column as wide as its widest cell (by width, which
// measures a cell on screen), two spaces apart, trailing spaces trimmed.
func FormatTable(rows [][]string, width func(string) int) string {
	if len(rows) == 0 {
		return ""
	}
	ws := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			if i < len(ws) {
				ws[i] = max(ws[i], width(c))
			}
		}
	}
	var b strings.Builder
	for _, r := range rows {
		var line strings.Builder
		for i, c := range r {
			if i >= len(ws) {
				break
			}
			if i > 0 {
				line.WriteString("  ")
			}
			line.WriteString(c)
			line.WriteString(strings.Repeat(" ", ws[i]-width(c)))
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	return b.String()
}

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
)

// Timing of the writer goroutine.
const (
	// flushInterval is the longest an event waits in the queue: a crash
	// loses at most about this much of an answer.
	flushInterval = 250 * time.Millisecond
	// heartbeatEvery is how often a recording process says it is alive,
	// and aliveFor how long each heartbeat counts: another process takes
	// a writer whose heartbeat has run out for dead (on the same host, a
	// writer whose process is gone is dead at once).
	heartbeatEvery = 5 * time.Second
	aliveFor       = 20 * time.Second
	// retryEvery is the pause before writing again after a failure.
	retryEvery = time.Second
	// maxHistory is how many prompts the history keeps per provider.
	maxHistory = 1000
)

// op is one change queued for the database.
type op interface{ isOp() }

type (
	opRegister struct{}
	opClaim    struct{ conv string }
	opConv     struct {
		conv, origin, provider, dialect, model, title string
		created                                       time.Time
		settings                                      session.Settings
		column                                        *columnOf // nil outside a comparison
	}
	// opJoin makes a saved conversation a column of a comparison.
	opJoin struct {
		conv   string
		column columnOf
	}
	opConvUpdate struct {
		conv, model, chatID, chatSystem string
		known                           int
		settings                        session.Settings
		at                              time.Time
	}
	opMessages struct {
		conv string
		keep int // messages from this position on are replaced by add
		add  []provider.Message
		at   time.Time
	}
	opTurnStart struct {
		conv, model string
		seq, sent   int
		start       time.Time
	}
	opEvent struct {
		conv   string
		seq    int
		offset time.Duration
		ev     provider.Event
	}
	opTurnEnd struct {
		conv string
		seq  int
		row  turnRow
	}
	opSupersede struct {
		conv string
		seqs []int
	}
	opTitle   struct{ conv, title string }
	opHistory struct {
		provider, text string
		at             time.Time
	}
	opFlush struct{ done chan error }
)

func (opRegister) isOp()   {}
func (opClaim) isOp()      {}
func (opConv) isOp()       {}
func (opConvUpdate) isOp() {}
func (opJoin) isOp()       {}
func (opMessages) isOp()   {}
func (opTurnStart) isOp()  {}
func (opEvent) isOp()      {}
func (opTurnEnd) isOp()    {}
func (opSupersede) isOp()  {}
func (opTitle) isOp()      {}
func (opHistory) isOp()    {}
func (opFlush) isOp()      {}

// turnKey names a turn's row.
type turnKey struct {
	conv string
	seq  int
}

// writer is the store's one writing goroutine. Recorders queue ops
// (enqueue never blocks and does no I/O); the goroutine writes them in
// one transaction per batch: at once for an urgent op (a prompt, the end
// of an answer), else flushInterval after the first op of the batch.
// Ops that fail to apply are reported and dropped one by one; a batch
// that cannot be written at all (the database busy past its timeout, the
// disk full) is kept and tried again.
type writer struct {
	s  *Store
	id string

	mu       sync.Mutex
	queue    []op
	urgent   bool
	closing  bool
	onErrors []func(error)
	wake     chan struct{}
	done     chan struct{}

	// Owned by the goroutine.
	chunks map[turnKey]int // next chunk number of each streaming turn
}

// writer returns the store's writer, starting it on first use.
func (s *Store) writer(onError func(error)) *writer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w == nil {
		s.w = &writer{s: s, id: session.NewID(), wake: make(chan struct{}, 1), done: make(chan struct{}),
			chunks: map[turnKey]int{}}
		s.w.queue = append(s.w.queue, opRegister{})
		s.w.urgent = true
		go s.w.run()
	}
	if onError != nil {
		s.w.mu.Lock()
		s.w.onErrors = append(s.w.onErrors, onError)
		s.w.mu.Unlock()
	}
	return s.w
}

// enqueue adds an op; urgent ones are written at once.
func (w *writer) enqueue(urgent bool, o op) {
	w.mu.Lock()
	if w.closing {
		w.mu.Unlock()
		return
	}
	w.queue = append(w.queue, o)
	w.urgent = w.urgent || urgent
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// flush waits until everything queued before it is written.
func (w *writer) flush() error {
	done := make(chan error, 1)
	w.mu.Lock()
	closed := w.closing
	w.mu.Unlock()
	if closed {
		return errors.New("store: closed")
	}
	w.enqueue(true, opFlush{done: done})
	return <-done
}

// close writes what is queued, stops the goroutine and removes the
// writer's row, so nothing it recorded is taken for streaming.
func (w *writer) close() error {
	err := w.flush()
	w.mu.Lock()
	w.closing = true
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	<-w.done
	ctx, cancel := context.WithTimeout(context.Background(), busyTimeout)
	defer cancel()
	_, derr := w.s.db.ExecContext(ctx, "DELETE FROM writers WHERE id = ?", w.id)
	return errors.Join(err, derr)
}

func (w *writer) report(err error) {
	w.mu.Lock()
	fns := w.onErrors
	w.mu.Unlock()
	for _, fn := range fns {
		fn(err)
	}
}

func (w *writer) run() {
	defer close(w.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	armed := false
	heartbeat := time.NewTicker(heartbeatEvery)
	defer heartbeat.Stop()
	retryAt := time.Time{}
	for {
		beat, fired := false, false
		select {
		case <-w.wake:
		case <-timer.C:
			armed, fired = false, true
		case <-heartbeat.C:
			beat = true
		}
		w.mu.Lock()
		pending, urgent, closing := len(w.queue) > 0, w.urgent, w.closing
		w.mu.Unlock()
		if closing && !pending {
			return
		}
		now := time.Now()
		due := pending && (urgent || fired || closing) && !now.Before(retryAt)
		if !due && !beat {
			if pending && !armed {
				timer.Reset(max(flushInterval, retryAt.Sub(now)))
				armed = true
			}
			continue
		}
		var batch []op
		if due {
			w.mu.Lock()
			batch, w.queue, w.urgent = w.queue, nil, false
			w.mu.Unlock()
		}
		if err := w.write(batch); err != nil {
			w.report(err)
			w.requeue(batch, err)
			retryAt = time.Now().Add(retryEvery)
			if closing {
				return // give up: the process is leaving
			}
			if !armed {
				timer.Reset(retryEvery)
				armed = true
			}
			continue
		}
		retryAt = time.Time{}
		for _, o := range batch {
			if f, ok := o.(opFlush); ok {
				f.done <- nil
			}
		}
	}
}

// requeue puts a batch that could not be written back in front of the
// queue, to be tried again, and answers its flush requests with err.
func (w *writer) requeue(batch []op, err error) {
	kept := make([]op, 0, len(batch))
	for _, o := range batch {
		if f, ok := o.(opFlush); ok {
			f.done <- err
			continue
		}
		kept = append(kept, o)
	}
	w.mu.Lock()
	w.queue = append(kept, w.queue...)
	w.mu.Unlock()
}

// write applies a batch (possibly empty: then it is only a heartbeat) in
// one transaction. An op that fails is reported and skipped; the batch
// fails only when the transaction cannot begin or commit.
func (w *writer) write(batch []op) error {
	ctx := context.Background()
	now := w.s.now()
	return w.s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE writers SET alive_until = ? WHERE id = ?", ms(now.Add(aliveFor)), w.id); err != nil {
			return fmt.Errorf("store: heartbeat: %w", err)
		}
		events := newChunker()
		flushEvents := func() {
			for _, k := range events.order {
				w.applyOne(ctx, tx, func() error { return w.insertChunk(ctx, tx, k, events.buf[k].String()) })
			}
			events.reset()
		}
		for _, o := range batch {
			if e, ok := o.(opEvent); ok {
				events.add(e)
				continue
			}
			flushEvents()
			w.applyOne(ctx, tx, func() error { return w.apply(ctx, tx, o, now) })
		}
		flushEvents()
		return nil
	})
}

// applyOne runs fn under a savepoint: when it fails, its changes are
// undone, the error is reported and the batch goes on.
func (w *writer) applyOne(ctx context.Context, tx *sql.Tx, fn func() error) {
	if _, err := tx.ExecContext(ctx, "SAVEPOINT op"); err != nil {
		w.report(fmt.Errorf("store: %w", err))
		return
	}
	if err := fn(); err != nil {
		_, _ = tx.ExecContext(ctx, "ROLLBACK TO op")
		w.report(err)
	}
	_, _ = tx.ExecContext(ctx, "RELEASE op")
}

func (w *writer) insertChunk(ctx context.Context, tx *sql.Tx, k turnKey, events string) error {
	n, ok := w.chunks[k]
	if !ok {
		// The first chunk of a turn, or one after its end (a late event).
		if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(chunk) + 1, 0) FROM timeline_chunks WHERE conversation = ? AND turn = ?",
			k.conv, k.seq).Scan(&n); err != nil {
			return fmt.Errorf("store: saving the timeline of answer %d of %s: %w", k.seq+1, k.conv, err)
		}
	}
	if _, err := w.s.exec(ctx, tx, "INSERT INTO timeline_chunks (conversation, turn, chunk, events) VALUES (?, ?, ?, ?)",
		k.conv, k.seq, n, events); err != nil {
		return fmt.Errorf("store: saving the timeline of answer %d of %s: %w", k.seq+1, k.conv, err)
	}
	// The number is used up even if the transaction rolls back: chunks
	// are read in order, and a gap is harmless.
	w.chunks[k] = n + 1
	return nil
}

// apply writes one op other than an event.
func (w *writer) apply(ctx context.Context, tx *sql.Tx, o op, now time.Time) error {
	s := w.s
	var err error
	switch o := o.(type) {
	case opRegister:
		host, _ := os.Hostname()
		_, err = s.exec(ctx, tx, "INSERT OR REPLACE INTO writers (id, host, pid, started, alive_until) VALUES (?, ?, ?, ?, ?)",
			w.id, host, os.Getpid(), ms(now), ms(now.Add(aliveFor)))
	case opClaim:
		_, err = s.exec(ctx, tx, "UPDATE conversations SET writer = ? WHERE id = ?", w.id, o.conv)
	case opConv:
		_, err = s.exec(ctx, tx, `INSERT INTO conversations (id, title, created, updated, origin, provider, dialect, model, settings, writer)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			o.conv, o.title, ms(o.created), ms(now), o.origin, o.provider, o.dialect, o.model, encodeSettings(o.settings), w.id)
		if err == nil && o.column != nil {
			err = s.putColumn(ctx, tx, o.conv, *o.column, o.created)
		}
	case opJoin:
		err = s.putColumn(ctx, tx, o.conv, o.column, now)
	case opConvUpdate:
		_, err = s.exec(ctx, tx, `UPDATE conversations SET model = ?, settings = ?, chat_id = ?, known_messages = ?, chat_system = ?,
			updated = max(updated, ?) WHERE id = ?`,
			o.model, encodeSettings(o.settings), o.chatID, o.known, o.chatSystem, ms(o.at), o.conv)
	case opMessages:
		err = s.putMessages(ctx, tx, o.conv, o.keep, o.add, o.at)
	case opTurnStart:
		_, err = s.exec(ctx, tx, "INSERT INTO turns (conversation, seq, sent, status, model, started) VALUES (?, ?, ?, ?, ?, ?)",
			o.conv, o.seq, o.sent, string(StatusStreaming), o.model, ms(o.start))
	case opTurnEnd:
		err = s.putTurnEnd(ctx, tx, o.conv, o.seq, o.row)
		delete(w.chunks, turnKey{o.conv, o.seq})
	case opSupersede:
		for _, seq := range o.seqs {
			if _, err = s.exec(ctx, tx, "UPDATE turns SET superseded = 1 WHERE conversation = ? AND seq = ?", o.conv, seq); err != nil {
				break
			}
		}
	case opTitle:
		_, err = s.exec(ctx, tx, "UPDATE conversations SET title = ? WHERE id = ?", o.title, o.conv)
	case opHistory:
		err = s.putHistory(ctx, tx, o.provider, o.text, o.at)
	case opFlush:
	}
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// putColumn makes conversation conv a column of its comparison, saving
// the comparison when it is its first.
func (s *Store) putColumn(ctx context.Context, tx *sql.Tx, conv string, c columnOf, created time.Time) error {
	if _, err := s.exec(ctx, tx, "INSERT INTO comparisons (id, created) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
		c.comparison, ms(created)); err != nil {
		return err
	}
	_, err := s.exec(ctx, tx, "UPDATE conversations SET comparison = ?, position = ?, label = ? WHERE id = ?",
		c.comparison, c.position, c.label, conv)
	return err
}

// putMessages replaces the messages of conv from position keep on with
// add.
func (s *Store) putMessages(ctx context.Context, tx *sql.Tx, conv string, keep int, add []provider.Message, at time.Time) error {
	if _, err := s.exec(ctx, tx, "DELETE FROM messages WHERE conversation = ? AND seq >= ?", conv, keep); err != nil {
		return err
	}
	for i, m := range add {
		if err := s.putMessage(ctx, tx, conv, keep+i, m, at); err != nil {
			return err
		}
	}
	_, err := s.exec(ctx, tx, "UPDATE conversations SET updated = max(updated, ?) WHERE id = ?", ms(at), conv)
	return err
}

func (s *Store) putMessage(ctx context.Context, tx *sql.Tx, conv string, seq int, m provider.Message, at time.Time) error {
	_, err := s.exec(ctx, tx, `INSERT OR REPLACE INTO messages (conversation, seq, role, content, reasoning, tool_calls, tool_call_id, name, created)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		conv, seq, string(m.Role), m.Content, m.Reasoning, encodeJSON(m.ToolCalls), m.ToolCallID, m.Name, ms(at))
	return err
}

// putTurnEnd writes how a turn ended.
func (s *Store) putTurnEnd(ctx context.Context, tx *sql.Tx, conv string, seq int, r turnRow) error {
	_, err := s.exec(ctx, tx, `UPDATE turns SET status = ?, reported_model = ?, first_token = ?, first_text = ?,
		reasoning_start = ?, reasoning_end = ?, ended = ?, text = ?, reasoning = ?, tool_calls = ?, tool_results = ?,
		sources = ?, usage = ?, finish_reason = ?, error = ?, chat_id = ? WHERE conversation = ? AND seq = ?`,
		string(r.status), r.reportedModel, r.firstToken, r.firstText, r.reasoningStart, r.reasoningEnd, r.ended,
		r.text, r.reasoning, encodeJSON(r.toolCalls), encodeJSON(r.toolResults), encodeJSON(r.sources),
		encodeJSON(r.usage), r.finishReason, encodeError(r.err), r.chatID, conv, seq)
	return err
}

// putHistory appends a prompt to a provider's history and forgets the
// oldest past maxHistory.
func (s *Store) putHistory(ctx context.Context, tx *sql.Tx, prov, text string, at time.Time) error {
	if _, err := s.exec(ctx, tx, "INSERT INTO history (provider, text, created) VALUES (?, ?, ?)", prov, text, ms(at)); err != nil {
		return err
	}
	_, err := s.exec(ctx, tx, `DELETE FROM history WHERE provider = ? AND id <=
		(SELECT id FROM history WHERE provider = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`, prov, prov, maxHistory)
	return err
}

// chunker gathers a batch's events into one chunk per turn, in order.
type chunker struct {
	order []turnKey
	buf   map[turnKey]*strings.Builder
}

func newChunker() *chunker { return &chunker{buf: map[turnKey]*strings.Builder{}} }

func (c *chunker) add(e opEvent) {
	k := turnKey{e.conv, e.seq}
	b := c.buf[k]
	if b == nil {
		b = &strings.Builder{}
		c.buf[k] = b
		c.order = append(c.order, k)
	}
	b.WriteString(encodeTimed(e.offset, e.ev))
}

func (c *chunker) reset() {
	c.order = c.order[:0]
	clear(c.buf)
}

// encodeTimed is one timeline line: the offset in milliseconds, a tab,
// the event as provider.MarshalEvent writes it, a newline.
func encodeTimed(offset time.Duration, ev provider.Event) string {
	b, err := provider.MarshalEvent(ev)
	if err != nil {
		b, _ = provider.MarshalEvent(provider.Error{Err: &provider.APIError{Kind: provider.KindStream,
			Message: "an event could not be saved: " + err.Error()}})
	}
	return strconv.FormatInt(max(offset.Milliseconds(), 0), 10) + "\t" + string(b) + "\n"
}

// encodeJSON is v as JSON, or "" for an empty value.
func encodeJSON(v any) string {
	switch x := v.(type) {
	case []provider.ToolCall:
		if len(x) == 0 {
			return ""
		}
	case []provider.ToolResult:
		if len(x) == 0 {
			return ""
		}
	case []provider.Source:
		if len(x) == 0 {
			return ""
		}
	case *provider.Usage:
		if x == nil {
			return ""
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// encodeError is an answer's error as an error event, or "".
func encodeError(e *provider.APIError) string {
	if e == nil {
		return ""
	}
	b, err := provider.MarshalEvent(provider.Error{Err: e})
	if err != nil {
		return ""
	}
	return string(b)
}

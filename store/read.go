package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
)

// Summary is one saved conversation as a listing shows it.
type Summary struct {
	ID      string    `json:"id"`
	Title   string    `json:"title"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	// Origin is where it was started: OriginChat, OriginPrint,
	// OriginCompare or OriginImport.
	Origin   string `json:"origin"`
	Provider string `json:"provider"`
	Dialect  string `json:"dialect"`
	// Model is the model of the latest request.
	Model string `json:"model"`
	// Messages counts the conversation's messages (prompts, answers, tool
	// results); Answers counts every answer, those /retry replaced too.
	Messages int `json:"messages"`
	Answers  int `json:"answers"`
	// Status is how the latest answer ended; "" before the first. For a
	// comparison, the first column's that did not end normally, else
	// done.
	Status Status `json:"status,omitempty"`
	// Comparison is, for a column's conversation, the ID of the
	// comparison it is a column of, and Position its column from 0;
	// Label names the column when it is not its model.
	Comparison string `json:"comparison,omitempty"`
	Position   int    `json:"position,omitempty"`
	Label      string `json:"label,omitempty"`
	// Columns are, for a comparison, its columns' conversations in
	// column order; nil for a conversation.
	Columns []Summary `json:"columns,omitempty"`
}

// IsComparison reports whether the summary is a comparison's.
func (s *Summary) IsComparison() bool { return s.Columns != nil }

// Conversation is a saved conversation with its messages and every
// answer.
type Conversation struct {
	Summary
	Settings session.Settings
	Messages []Message
	// Turns are the answers in order, those /retry replaced included
	// (Superseded). The answer of a turn that is not superseded is
	// Messages[Sent] when it gave one.
	Turns []*Turn
	// ChatID, KnownMessages and ChatSystem are the gateway's continuation
	// (see session.Conversation).
	ChatID        string
	KnownMessages int
	ChatSystem    string
}

// Message is one saved message and when it was saved.
type Message struct {
	provider.Message
	Created time.Time
}

// Turn is one saved answer: a finished session.Turn (text, reasoning, tool
// calls, usage, times, error; its Events are the timeline when the
// conversation was loaded with timelines) and what the store knows of it.
type Turn struct {
	*session.Turn
	// Seq is the answer's position among the conversation's answers.
	Seq    int
	Status Status
	// Model is the model the request asked for (Turn.Model is the one
	// the gateway named).
	Model string
}

// Saved is the conversation in the form session.RestoreChat takes.
func (c *Conversation) Saved() session.Saved {
	s := session.Saved{ID: c.ID, Created: c.Created, ChatID: c.ChatID, KnownMessages: c.KnownMessages, ChatSystem: c.ChatSystem}
	s.Messages = make([]provider.Message, len(c.Messages))
	for i, m := range c.Messages {
		s.Messages[i] = m.Message
	}
	s.Turns = make([]*session.Turn, len(c.Turns))
	for i, t := range c.Turns {
		if t.Turn.RequestModel == "" {
			t.Turn.RequestModel = t.Model
		}
		s.Turns[i] = t.Turn
	}
	return s
}

// AnswersTo are the turns that answered the user message at index prompt,
// in order: the ones /retry replaced first, then the current ones
// (several when tool calls made the model carry on).
func (c *Conversation) AnswersTo(prompt int) []*Turn {
	var out []*Turn
	for _, t := range c.Turns {
		if promptOf(c.Messages, t.Sent) == prompt {
			out = append(out, t)
		}
	}
	return out
}

// promptOf is the index of the last user message among the first sent.
func promptOf(msgs []Message, sent int) int {
	for i := min(sent, len(msgs)) - 1; i >= 0; i-- {
		if msgs[i].Role == provider.RoleUser {
			return i
		}
	}
	return -1
}

// NotFoundError says no saved conversation has an ID starting with
// Prefix.
type NotFoundError struct{ Prefix string }

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("no saved conversation %q (parley sessions lists them)", e.Prefix)
}

// AmbiguousError says several conversations have IDs starting with
// Prefix.
type AmbiguousError struct {
	Prefix     string
	Candidates []Summary // newest first, at most maxCandidates
}

const maxCandidates = 10

func (e *AmbiguousError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%q is the start of several conversations (", e.Prefix)
	for i, c := range e.Candidates {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %q", c.ID, c.Title)
	}
	b.WriteString("): give more of the ID")
	return b.String()
}

// InUseError says another running Parley is recording the conversation.
type InUseError struct {
	ID  string
	PID int
}

func (e *InUseError) Error() string {
	return fmt.Sprintf("conversation %s is open in another Parley (process %d); quit it there first", e.ID, e.PID)
}

// maxIDLen bounds a conversation ID (Parley's are 16 hex digits; imported
// ones keep theirs).
const maxIDLen = 64

// validID reports whether s may be (the start of) a conversation ID:
// letters, digits, '-' and '_'.
func validID(s string) bool {
	if s == "" || len(s) > maxIDLen {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

const summaryColumns = `c.id, c.title, c.created, c.updated, c.origin, c.provider, c.dialect, c.model,
	(SELECT count(*) FROM messages m WHERE m.conversation = c.id),
	(SELECT count(*) FROM turns t WHERE t.conversation = c.id),
	COALESCE((SELECT t.status FROM turns t WHERE t.conversation = c.id AND t.superseded = 0 ORDER BY t.seq DESC LIMIT 1), ''),
	c.comparison, c.position, c.label`

// scanSummary reads summaryColumns into s, then the columns after them
// into more.
func scanSummary(sc interface{ Scan(...any) error }, s *Summary, more ...any) error {
	var created, updated int64
	var status string
	err := sc.Scan(append([]any{&s.ID, &s.Title, &created, &updated, &s.Origin, &s.Provider, &s.Dialect, &s.Model,
		&s.Messages, &s.Answers, &status, &s.Comparison, &s.Position, &s.Label}, more...)...)
	s.Created, s.Updated, s.Status = fromMS(created), fromMS(updated), Status(status)
	return err
}

// List returns the saved conversations, the most recently used first; at
// most limit of them (0: all). A comparison is one entry, its columns in
// its Columns; their conversations are not listed on their own.
func (s *Store) List(ctx context.Context, limit int) ([]Summary, error) {
	if limit <= 0 {
		limit = -1
	}
	convs, err := s.summaries(ctx, `SELECT `+summaryColumns+` FROM conversations c WHERE c.comparison = ''
		ORDER BY c.updated DESC, c.created DESC, c.rowid DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	cmps, err := s.comparisons(ctx, `SELECT id FROM comparisons p
		ORDER BY (SELECT max(updated) FROM conversations WHERE comparison = p.id) DESC, p.created DESC, p.rowid DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	return mergeNewest(convs, cmps, limit), nil
}

func (s *Store) summaries(ctx context.Context, query string, args ...any) ([]Summary, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: listing conversations: %w", err)
	}
	defer rows.Close()
	var out []Summary
	for rows.Next() {
		var sum Summary
		if err := scanSummary(rows, &sum); err != nil {
			return nil, fmt.Errorf("store: listing conversations: %w", err)
		}
		out = append(out, sum)
	}
	return out, rows.Err()
}

// Resolve returns the full ID of the conversation whose ID is, or starts
// with, prefix: an exact match wins; otherwise the prefix must be unique
// (an *AmbiguousError lists the candidates; a *NotFoundError says there
// is none).
func (s *Store) Resolve(ctx context.Context, prefix string) (string, error) {
	prefix = strings.TrimSpace(prefix)
	if !validID(prefix) {
		return "", &NotFoundError{Prefix: prefix}
	}
	found, err := s.summaries(ctx, `SELECT `+summaryColumns+` FROM conversations c
		WHERE substr(c.id, 1, ?) = ? ORDER BY c.id = ? DESC, c.updated DESC LIMIT ?`, len(prefix), prefix, prefix, maxCandidates+1)
	if err == nil {
		var cmps []Summary
		cmps, err = s.comparisons(ctx, `SELECT id FROM comparisons WHERE substr(id, 1, ?) = ? ORDER BY id = ? DESC LIMIT ?`,
			len(prefix), prefix, prefix, maxCandidates+1)
		found = append(cmps, found...)
		slices.SortStableFunc(found, func(a, b Summary) int {
			switch {
			case a.ID == prefix && b.ID != prefix:
				return -1
			case b.ID == prefix && a.ID != prefix:
				return 1
			}
			return b.Updated.Compare(a.Updated)
		})
	}
	switch {
	case err != nil:
		return "", err
	case len(found) == 0:
		return "", &NotFoundError{Prefix: prefix}
	case found[0].ID == prefix || len(found) == 1:
		return found[0].ID, nil
	}
	return "", &AmbiguousError{Prefix: prefix, Candidates: found[:min(len(found), maxCandidates)]}
}

// Latest returns the ID of the most recently used conversation, or
// comparison (the first entry List gives); a *NotFoundError when none is
// saved.
func (s *Store) Latest(ctx context.Context) (string, error) {
	list, err := s.List(ctx, 1)
	switch {
	case err != nil:
		return "", err
	case len(list) == 0:
		return "", &NotFoundError{}
	}
	return list[0].ID, nil
}

// LoadOptions say what Load brings besides the messages and answers.
type LoadOptions struct {
	// Timelines loads every answer's event timeline into its
	// Turn.Events() (what replay plays). Without it Events() is empty, which
	// keeps opening a long conversation fast.
	Timelines bool
}

// Load reads the conversation id (a full ID: see Resolve).
func (s *Store) Load(ctx context.Context, id string, o LoadOptions) (*Conversation, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("store: loading %s: %w", id, err)
	}
	defer tx.Rollback()
	c, err := loadConversation(ctx, tx, id, o)
	var ce *ComparisonError
	if errors.As(err, &ce) {
		return nil, ce
	}
	if err != nil {
		return nil, fmt.Errorf("store: loading %s: %w", id, err)
	}
	return c, nil
}

// querier is what loading needs of a database or transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func loadConversation(ctx context.Context, q querier, id string, o LoadOptions) (*Conversation, error) {
	c := &Conversation{}
	var settings string
	row := q.QueryRowContext(ctx, `SELECT `+summaryColumns+`, c.settings, c.chat_id, c.known_messages, c.chat_system
		FROM conversations c WHERE c.id = ?`, id)
	err := scanSummary(row, &c.Summary, &settings, &c.ChatID, &c.KnownMessages, &c.ChatSystem)
	if errors.Is(err, sql.ErrNoRows) {
		if cmp, cerr := comparisonSummary(ctx, q, id); cerr == nil {
			return nil, &ComparisonError{Comparison: cmp}
		}
		return nil, &NotFoundError{Prefix: id}
	}
	if err != nil {
		return nil, err
	}
	if c.Settings, err = decodeSettings(settings); err != nil {
		return nil, err
	}
	if c.Messages, err = loadMessages(ctx, q, id); err != nil {
		return nil, err
	}
	if c.Turns, err = loadTurns(ctx, q, id, o.Timelines); err != nil {
		return nil, err
	}
	return c, nil
}

func loadMessages(ctx context.Context, q querier, id string) ([]Message, error) {
	rows, err := q.QueryContext(ctx, `SELECT role, content, reasoning, tool_calls, tool_call_id, name, created
		FROM messages WHERE conversation = ? ORDER BY seq`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		var role, calls string
		var created int64
		if err := rows.Scan(&role, &m.Content, &m.Reasoning, &calls, &m.ToolCallID, &m.Name, &created); err != nil {
			return nil, err
		}
		m.Role, m.Created = provider.Role(role), fromMS(created)
		if err := decodeJSON(calls, &m.ToolCalls); err != nil {
			return nil, fmt.Errorf("message %d: tool calls: %w", len(out), err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

const turnColumns = `seq, sent, superseded, status, model, reported_model, started, first_token, first_text,
	reasoning_start, reasoning_end, ended, text, reasoning, tool_calls, tool_results, sources, usage,
	finish_reason, error, chat_id`

// scanTurn reads a turn row (turnColumns) into its parts.
func scanTurn(sc interface{ Scan(...any) error }) (seq, sent int, superseded bool, model string, r turnRow, err error) {
	var status, calls, results, sources, usage, errJSON string
	err = sc.Scan(&seq, &sent, &superseded, &status, &model, &r.reportedModel, &r.started, &r.firstToken, &r.firstText,
		&r.reasoningStart, &r.reasoningEnd, &r.ended, &r.text, &r.reasoning, &calls, &results, &sources, &usage,
		&r.finishReason, &errJSON, &r.chatID)
	if err != nil {
		return
	}
	r.status = Status(status)
	for _, d := range []struct {
		col string
		v   any
	}{{calls, &r.toolCalls}, {results, &r.toolResults}, {sources, &r.sources}, {usage, &r.usage}} {
		if err = decodeJSON(d.col, d.v); err != nil {
			err = fmt.Errorf("answer %d: %w", seq+1, err)
			return
		}
	}
	if r.err, err = decodeError(errJSON); err != nil {
		err = fmt.Errorf("answer %d: error: %w", seq+1, err)
	}
	return
}

func loadTurns(ctx context.Context, q querier, id string, timelines bool) ([]*Turn, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+turnColumns+` FROM turns WHERE conversation = ? ORDER BY seq`, id)
	if err != nil {
		return nil, err
	}
	type pending struct {
		t *Turn
		r turnRow
	}
	var all []pending
	for rows.Next() {
		seq, sent, superseded, model, r, err := scanTurn(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		all = append(all, pending{&Turn{Seq: seq, Status: r.status, Model: model,
			Turn: &session.Turn{Sent: sent, Superseded: superseded}}, r})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]*Turn, len(all))
	for i, p := range all {
		out[i] = p.t
		var events []session.TimedEvent
		if timelines || p.r.status == StatusStreaming {
			if events, err = loadTimeline(ctx, q, id, p.t.Seq); err != nil {
				return nil, fmt.Errorf("answer %d: timeline: %w", p.t.Seq+1, err)
			}
		}
		if p.r.status == StatusStreaming {
			// Still being written: what has streamed so far.
			p.t.Turn = replayTurn(fromMS(p.r.started), p.t.Sent, p.t.Superseded, events)
			continue
		}
		p.t.Turn = p.r.restoreTurn(p.t.Sent, p.t.Superseded)
		p.t.Turn.SetEvents(events)
	}
	return out, nil
}

// loadTimeline reads one answer's timeline.
func loadTimeline(ctx context.Context, q querier, conv string, seq int) ([]session.TimedEvent, error) {
	rows, err := q.QueryContext(ctx, "SELECT events FROM timeline_chunks WHERE conversation = ? AND turn = ? ORDER BY chunk", conv, seq)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []session.TimedEvent
	for rows.Next() {
		var chunk string
		if err := rows.Scan(&chunk); err != nil {
			return nil, err
		}
		if out, err = decodeTimeline(chunk, out); err != nil {
			return nil, err
		}
	}
	return out, rows.Err()
}

// Timeline returns the event timeline of answer seq of conversation id,
// in emission order with offsets from the answer's start.
func (s *Store) Timeline(ctx context.Context, id string, seq int) ([]session.TimedEvent, error) {
	evs, err := loadTimeline(ctx, s.db, id, seq)
	if err != nil {
		return nil, fmt.Errorf("store: timeline of answer %d of %s: %w", seq+1, id, err)
	}
	return evs, nil
}

// Resume loads conversation id to carry on with it, after checking that
// no other running Parley is recording it (an *InUseError says which
// process is). A Recorder made with RecorderOptions.Resumed then claims
// it.
func (s *Store) Resume(ctx context.Context, id string) (*Conversation, error) {
	if err := s.checkFree(ctx, id); err != nil {
		return nil, err
	}
	return s.Load(ctx, id, LoadOptions{})
}

// checkFree fails with an *InUseError when another live process records
// conversation id.
func (s *Store) checkFree(ctx context.Context, id string) error {
	var w string
	err := s.db.QueryRowContext(ctx, "SELECT writer FROM conversations WHERE id = ?", id).Scan(&w)
	if errors.Is(err, sql.ErrNoRows) {
		if cmp, cerr := comparisonSummary(ctx, s.db, id); cerr == nil {
			return &ComparisonError{Comparison: cmp}
		}
		return &NotFoundError{Prefix: id}
	}
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if w == "" || w == s.ownWriter() {
		return nil
	}
	alive, pid, err := s.writerAlive(ctx, s.db, w)
	if err != nil {
		return err
	}
	if alive {
		return &InUseError{ID: id, PID: pid}
	}
	return nil
}

// ownWriter is this process's writer ID, "" before the first Recorder.
func (s *Store) ownWriter() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w == nil {
		return ""
	}
	return s.w.id
}

// writerAlive reports whether writer id is alive: its heartbeat has not
// run out and, on this host, its process still runs.
func (s *Store) writerAlive(ctx context.Context, q querier, id string) (alive bool, pid int, err error) {
	var host string
	var until int64
	err = q.QueryRowContext(ctx, "SELECT host, pid, alive_until FROM writers WHERE id = ?", id).Scan(&host, &pid, &until)
	if errors.Is(err, sql.ErrNoRows) {
		return false, 0, nil
	}
	if err != nil {
		return false, 0, fmt.Errorf("store: %w", err)
	}
	if until <= ms(s.now()) {
		return false, pid, nil
	}
	if host == s.host && pid != s.pid && !processAlive(pid) {
		return false, pid, nil
	}
	return true, pid, nil
}

// processAlive reports whether a process with this ID runs on this host.
// Where that cannot be told (signals unsupported), it says yes and the
// heartbeat decides.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return !errors.Is(err, os.ErrProcessDone)
}

// Delete removes conversation id with its messages, answers and
// timelines; an *InUseError when another running Parley records it. The
// ID of a comparison removes it with every column.
func (s *Store) Delete(ctx context.Context, id string) error {
	if cmp, err := comparisonSummary(ctx, s.db, id); err == nil {
		return s.deleteComparison(ctx, cmp)
	}
	if err := s.checkFree(ctx, id); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM conversations WHERE id = ?", id)
		if err != nil {
			return fmt.Errorf("store: deleting %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &NotFoundError{Prefix: id}
		}
		return nil
	})
}

// Rename sets the title of conversation (or comparison) id.
func (s *Store) Rename(ctx context.Context, id, title string) error {
	title = cleanTitle(title)
	if title == "" {
		return errors.New("a title needs some text")
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, "UPDATE comparisons SET title = ? WHERE id = ?", title, id)
		if err != nil {
			return fmt.Errorf("store: renaming %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		res, err = s.exec(ctx, tx, "UPDATE conversations SET title = ? WHERE id = ?", title, id)
		if err != nil {
			return fmt.Errorf("store: renaming %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &NotFoundError{Prefix: id}
		}
		return nil
	})
}

// History returns the last n prompts sent to a provider, oldest first,
// without consecutive repeats.
func (s *Store) History(ctx context.Context, provider string, n int) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT text FROM history WHERE provider = ? ORDER BY id DESC LIMIT ?", provider, n)
	if err != nil {
		return nil, fmt.Errorf("store: reading the prompt history: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("store: reading the prompt history: %w", err)
		}
		out = append(out, t)
	}
	slices.Reverse(out)
	return slices.Compact(out), rows.Err()
}

package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/parley-chat/parley/provider"
)

// exportFormat names the JSON export format; exportVersion is its
// version. Import refuses other formats and newer versions.
const (
	exportFormat  = "parley.conversation"
	exportVersion = 1
)

// maxImportBytes bounds a file Import reads (a variable for the tests).
var maxImportBytes int64 = 256 << 20

// exportDoc is a conversation in the JSON export format: every column of
// its rows, timelines included, so that importing it gives back the same
// conversation and exporting that gives back the same bytes.
type exportDoc struct {
	Format        string          `json:"format"`
	Version       int             `json:"version"`
	ID            string          `json:"id"`
	Title         string          `json:"title"`
	Created       time.Time       `json:"created"`
	Updated       time.Time       `json:"updated"`
	Origin        string          `json:"origin,omitempty"`
	Provider      string          `json:"provider,omitempty"`
	Dialect       string          `json:"dialect,omitempty"`
	Model         string          `json:"model,omitempty"`
	Settings      json.RawMessage `json:"settings,omitempty"`
	ChatID        string          `json:"chat_id,omitempty"`
	KnownMessages int             `json:"known_messages,omitempty"`
	ChatSystem    string          `json:"chat_system,omitempty"`
	// Position and Label place a column in a comparison's export
	// (comparisonDoc); a conversation exported alone has neither.
	Position int             `json:"position,omitempty"`
	Label    string          `json:"label,omitempty"`
	Messages []exportMessage `json:"messages"`
	Turns    []exportTurn    `json:"turns"`
}

type exportMessage struct {
	provider.Message
	Created time.Time `json:"created"`
}

type exportTurn struct {
	Seq            int                   `json:"seq"`
	Sent           int                   `json:"sent"`
	Superseded     bool                  `json:"superseded,omitempty"`
	Status         Status                `json:"status"`
	Model          string                `json:"model,omitempty"`
	ReportedModel  string                `json:"reported_model,omitempty"`
	Started        time.Time             `json:"started"`
	FirstToken     time.Time             `json:"first_token,omitzero"`
	FirstText      time.Time             `json:"first_text,omitzero"`
	ReasoningStart time.Time             `json:"reasoning_start,omitzero"`
	ReasoningEnd   time.Time             `json:"reasoning_end,omitzero"`
	Ended          time.Time             `json:"ended,omitzero"`
	Text           string                `json:"text,omitempty"`
	Reasoning      string                `json:"reasoning,omitempty"`
	ToolCalls      []provider.ToolCall   `json:"tool_calls,omitempty"`
	ToolResults    []provider.ToolResult `json:"tool_results,omitempty"`
	Sources        []provider.Source     `json:"sources,omitempty"`
	Usage          *provider.Usage       `json:"usage,omitempty"`
	FinishReason   string                `json:"finish_reason,omitempty"`
	Error          json.RawMessage       `json:"error,omitempty"`
	ChatID         string                `json:"chat_id,omitempty"`
	Timeline       []exportEvent         `json:"timeline"`
}

// exportEvent is one timeline entry: the offset from the answer's start
// and the event as provider.MarshalEvent writes it.
type exportEvent struct {
	OffsetMS int64           `json:"offset_ms"`
	Event    json.RawMessage `json:"event"`
}

// ExportJSON writes conversation id as JSON: its settings, messages and
// every answer with its timeline. The ID of a comparison writes it with
// every column (format "parley.comparison"). Import reads both back.
func (s *Store) ExportJSON(ctx context.Context, id string, w io.Writer) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("store: exporting %s: %w", id, err)
	}
	defer tx.Rollback()
	var doc any
	if cmp, cerr := comparisonSummary(ctx, tx, id); cerr == nil {
		doc, err = exportComparison(ctx, tx, cmp)
	} else {
		doc, err = exportRows(ctx, tx, id)
	}
	if err != nil {
		return fmt.Errorf("store: exporting %s: %w", id, err)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

func exportRows(ctx context.Context, q querier, id string) (*exportDoc, error) {
	c, err := loadConversation(ctx, q, id, LoadOptions{})
	if err != nil {
		return nil, err
	}
	var settings string
	if err := q.QueryRowContext(ctx, "SELECT settings FROM conversations WHERE id = ?", id).Scan(&settings); err != nil {
		return nil, err
	}
	doc := &exportDoc{Format: exportFormat, Version: exportVersion, ID: c.ID, Title: c.Title, Created: c.Created,
		Updated: c.Updated, Origin: c.Origin, Provider: c.Provider, Dialect: c.Dialect, Model: c.Model,
		ChatID: c.ChatID, KnownMessages: c.KnownMessages, ChatSystem: c.ChatSystem, Messages: []exportMessage{}, Turns: []exportTurn{}}
	if settings != "" {
		doc.Settings = json.RawMessage(settings)
	}
	for _, m := range c.Messages {
		doc.Messages = append(doc.Messages, exportMessage(m))
	}
	rows, err := q.QueryContext(ctx, `SELECT `+turnColumns+` FROM turns WHERE conversation = ? ORDER BY seq`, id)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		seq, sent, superseded, model, r, err := scanTurn(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		doc.Turns = append(doc.Turns, exportTurn{Seq: seq, Sent: sent, Superseded: superseded, Status: r.status,
			Model: model, ReportedModel: r.reportedModel, Started: fromMS(r.started), FirstToken: fromMS(r.firstToken),
			FirstText: fromMS(r.firstText), ReasoningStart: fromMS(r.reasoningStart), ReasoningEnd: fromMS(r.reasoningEnd),
			Ended: fromMS(r.ended), Text: r.text, Reasoning: r.reasoning, ToolCalls: r.toolCalls, ToolResults: r.toolResults,
			Sources: r.sources, Usage: r.usage, FinishReason: r.finishReason, ChatID: r.chatID, Timeline: []exportEvent{}})
		if e := encodeError(r.err); e != "" {
			doc.Turns[len(doc.Turns)-1].Error = json.RawMessage(e)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range doc.Turns {
		t := &doc.Turns[i]
		chunks, err := q.QueryContext(ctx, "SELECT events FROM timeline_chunks WHERE conversation = ? AND turn = ? ORDER BY chunk", id, t.Seq)
		if err != nil {
			return nil, err
		}
		for chunks.Next() {
			var chunk string
			if err := chunks.Scan(&chunk); err != nil {
				chunks.Close()
				return nil, err
			}
			if t.Timeline, err = rawTimeline(chunk, t.Timeline); err != nil {
				chunks.Close()
				return nil, fmt.Errorf("answer %d: %w", t.Seq+1, err)
			}
		}
		chunks.Close()
		if err := chunks.Err(); err != nil {
			return nil, err
		}
	}
	return doc, nil
}

// rawTimeline splits a chunk into entries, keeping each event's JSON as
// it was saved.
func rawTimeline(chunk string, out []exportEvent) ([]exportEvent, error) {
	for line := range strings.SplitSeq(strings.TrimSuffix(chunk, "\n"), "\n") {
		if line == "" {
			continue
		}
		var off int64
		js, err := cutOffset(line, &off)
		if err != nil {
			return out, err
		}
		out = append(out, exportEvent{OffsetMS: off, Event: json.RawMessage(js)})
	}
	return out, nil
}

// cutOffset reads the offset of a timeline line and returns its event.
func cutOffset(line string, off *int64) (string, error) {
	o, js, ok := strings.Cut(line, "\t")
	if !ok {
		return "", errors.New("a timeline line has no offset")
	}
	if _, err := fmt.Sscan(o, off); err != nil {
		return "", fmt.Errorf("a timeline offset: %w", err)
	}
	return js, nil
}

// ImportExistsError says the conversation being imported is saved
// already.
type ImportExistsError struct{ ID string }

func (e *ImportExistsError) Error() string {
	return fmt.Sprintf("conversation %s is saved already (parley sessions rm %s first to replace it)", e.ID, e.ID)
}

// Import reads a conversation written by ExportJSON and saves it under
// its own ID, which it returns. The file is checked whole before anything
// is written: its format and version, every role, status and event, and
// the order of its messages and answers.
func (s *Store) Import(ctx context.Context, r io.Reader) (string, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxImportBytes+1))
	if err != nil {
		return "", fmt.Errorf("reading the file: %w", err)
	}
	if int64(len(data)) > maxImportBytes {
		return "", fmt.Errorf("the file is larger than %d MB", maxImportBytes>>20)
	}
	var head struct {
		Format string `json:"format"`
	}
	if json.Unmarshal(data, &head) == nil && head.Format == comparisonFormat {
		return s.importComparison(ctx, data)
	}
	var doc exportDoc
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return "", fmt.Errorf("not a Parley conversation export: %w", err)
	}
	if err := doc.check(); err != nil {
		return "", err
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM conversations WHERE id = ?", doc.ID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return &ImportExistsError{ID: doc.ID}
		}
		return s.importRows(ctx, tx, &doc)
	})
	return imported(doc.ID, err)
}

// imported is what Import returns once id was written: an
// *ImportExistsError as it is, another error wrapped.
func imported(id string, err error) (string, error) {
	var exists *ImportExistsError
	switch {
	case errors.As(err, &exists):
		return "", err
	case err != nil:
		return "", fmt.Errorf("store: importing %s: %w", id, err)
	}
	return id, nil
}

// check validates an export before it is imported.
func (d *exportDoc) check() error {
	switch {
	case d.Format != exportFormat:
		return fmt.Errorf("not a Parley conversation export (format %q)", d.Format)
	case d.Version < 1 || d.Version > exportVersion:
		return fmt.Errorf("export version %d is not one this Parley reads (1 to %d): upgrade Parley", d.Version, exportVersion)
	case !validID(d.ID):
		return fmt.Errorf("invalid conversation id %q", d.ID)
	}
	if len(d.Settings) > 0 {
		if _, err := decodeSettings(string(d.Settings)); err != nil {
			return err
		}
	}
	for i, m := range d.Messages {
		switch m.Role {
		case provider.RoleUser, provider.RoleAssistant, provider.RoleTool, provider.RoleSystem:
		default:
			return fmt.Errorf("message %d has an unknown role %q", i+1, m.Role)
		}
	}
	for i, t := range d.Turns {
		switch {
		case t.Seq != i:
			return fmt.Errorf("answer %d has position %d: answers must be in order", i+1, t.Seq+1)
		case t.Sent < 0 || t.Sent > len(d.Messages):
			return fmt.Errorf("answer %d follows message %d of %d", i+1, t.Sent, len(d.Messages))
		}
		switch t.Status {
		case StatusDone, StatusError, StatusInterrupted, StatusStreaming:
		default:
			return fmt.Errorf("answer %d has an unknown status %q", i+1, t.Status)
		}
		if len(t.Error) > 0 {
			if _, err := decodeError(string(t.Error)); err != nil {
				return fmt.Errorf("answer %d: error: %w", i+1, err)
			}
		}
		for j, e := range t.Timeline {
			if e.OffsetMS < 0 {
				return fmt.Errorf("answer %d, event %d: negative offset", i+1, j+1)
			}
			if _, err := provider.UnmarshalEvent(e.Event); err != nil {
				return fmt.Errorf("answer %d, event %d: %w", i+1, j+1, err)
			}
		}
	}
	return nil
}

// importChunk is how many events an imported timeline puts in a chunk.
const importChunk = 512

func (s *Store) importRows(ctx context.Context, tx *sql.Tx, d *exportDoc) error {
	if _, err := s.exec(ctx, tx, `INSERT INTO conversations (id, title, created, updated, origin, provider, dialect, model,
		settings, chat_id, known_messages, chat_system) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.Title, ms(d.Created), ms(d.Updated), d.Origin, d.Provider, d.Dialect, d.Model, compactJSON(d.Settings),
		d.ChatID, d.KnownMessages, d.ChatSystem); err != nil {
		return err
	}
	for i, m := range d.Messages {
		if err := s.putMessage(ctx, tx, d.ID, i, m.Message, m.Created); err != nil {
			return err
		}
	}
	for _, t := range d.Turns {
		if _, err := s.exec(ctx, tx, "INSERT INTO turns (conversation, seq, sent, superseded, status, model, started) VALUES (?, ?, ?, ?, ?, ?, ?)",
			d.ID, t.Seq, t.Sent, t.Superseded, string(StatusStreaming), t.Model, ms(t.Started)); err != nil {
			return err
		}
		var apiErr *provider.APIError
		if len(t.Error) > 0 {
			apiErr, _ = decodeError(string(t.Error))
		}
		row := turnRow{status: t.Status, reportedModel: t.ReportedModel, chatID: t.ChatID, finishReason: t.FinishReason,
			started: ms(t.Started), firstToken: ms(t.FirstToken), firstText: ms(t.FirstText), reasoningStart: ms(t.ReasoningStart),
			reasoningEnd: ms(t.ReasoningEnd), ended: ms(t.Ended), text: t.Text, reasoning: t.Reasoning,
			toolCalls: t.ToolCalls, toolResults: t.ToolResults, sources: t.Sources, usage: t.Usage, err: apiErr}
		if err := s.putTurnEnd(ctx, tx, d.ID, t.Seq, row); err != nil {
			return err
		}
		for start, chunk := 0, 0; start < len(t.Timeline); start, chunk = start+importChunk, chunk+1 {
			var b strings.Builder
			for _, e := range t.Timeline[start:min(start+importChunk, len(t.Timeline))] {
				fmt.Fprintf(&b, "%d\t%s\n", e.OffsetMS, compactJSON(e.Event))
			}
			if _, err := s.exec(ctx, tx, "INSERT INTO timeline_chunks (conversation, turn, chunk, events) VALUES (?, ?, ?, ?)",
				d.ID, t.Seq, chunk, b.String()); err != nil {
				return err
			}
		}
	}
	return nil
}

// compactJSON is raw JSON without the indentation an export adds.
func compactJSON(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}

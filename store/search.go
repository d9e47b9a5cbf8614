package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/parley-chat/parley/provider"
)

// Hit is one message that matches a search.
type Hit struct {
	// Conversation is the conversation the message belongs to.
	Conversation Summary
	// Message is the message's index in the conversation, Role its role.
	Message int
	Role    provider.Role
	// Snippet is the text around the matches (raw: sanitize before
	// showing it); Marks are the byte ranges [start, end) of the matched
	// words in it, in order.
	Snippet string
	Marks   [][2]int
}

// maxQuery bounds a search query; maxHits the hits one search returns.
const (
	maxQuery = 1000
	maxHits  = 200
)

// Markers snippet() puts around matches: private-use characters, which
// text from a model or a user has no business holding.
const (
	markOpen  = "\uE000"
	markClose = "\uE001"
)

// Search finds the messages holding every word of query (case and
// accents ignored: "naive" finds "naïve"), best matches first, at most
// limit of them. A "quoted phrase" must appear as it is, and a word
// ending in * matches any word it begins. Operators of SQLite's query
// syntax are taken as plain words.
func (s *Store) Search(ctx context.Context, query string, limit int) ([]Hit, error) {
	if len(query) > maxQuery {
		return nil, fmt.Errorf("the search is longer than %d bytes", maxQuery)
	}
	q := ftsQuery(query)
	if q == "" {
		return nil, errors.New("nothing to search for: give a word")
	}
	if limit <= 0 || limit > maxHits {
		limit = maxHits
	}
	// Three short steps rather than one join, so that snippets and
	// summaries are made for the hits shown, not for every match: the
	// best matches, their snippets, then their messages and
	// conversations.
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("store: searching: %w", err)
	}
	defer tx.Rollback()
	ids, err := queryInts(ctx, tx, `SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rank LIMIT ?`, q, limit)
	if err != nil || len(ids) == 0 {
		return nil, searchErr(err)
	}
	// Snippets one message at a time: FTS5 finds a rowid in each term's
	// list directly, where an IN list would run the whole query again.
	snippet, err := tx.PrepareContext(ctx, `SELECT snippet(messages_fts, 0, ?, ?, '…', 16) FROM messages_fts
		WHERE messages_fts MATCH ? AND rowid = ?`)
	if err != nil {
		return nil, searchErr(err)
	}
	defer snippet.Close()
	snippets := map[int64]string{}
	args := make([]any, len(ids))
	for i, id := range ids {
		var snip string
		if err := snippet.QueryRowContext(ctx, markOpen, markClose, q, id).Scan(&snip); err != nil {
			return nil, searchErr(err)
		}
		snippets[id], args[i] = snip, id
	}
	hits := map[int64]*Hit{}
	rows, err := tx.QueryContext(ctx, `SELECT `+summaryColumns+`, m.id, m.seq, m.role FROM messages m
		JOIN conversations c ON c.id = m.conversation WHERE m.id IN (`+placeholders(len(ids))+`)`, args...)
	if err != nil {
		return nil, searchErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		h := &Hit{}
		var id int64
		var role string
		if err := scanSummary(rows, &h.Conversation, &id, &h.Message, &role); err != nil {
			return nil, searchErr(err)
		}
		h.Role = provider.Role(role)
		h.Snippet, h.Marks = parseMarks(snippets[id])
		hits[id] = h
	}
	if err := rows.Err(); err != nil {
		return nil, searchErr(err)
	}
	out := make([]Hit, 0, len(ids))
	for _, id := range ids {
		if h := hits[id]; h != nil {
			out = append(out, *h)
		}
	}
	return out, nil
}

func searchErr(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("store: searching: %w", err)
}

// queryInts runs a query of one integer column.
func queryInts(ctx context.Context, q querier, query string, args ...any) ([]int64, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// placeholders is "?, ?, …" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// parseMarks takes the markers out of a snippet and returns where they
// were.
func parseMarks(s string) (string, [][2]int) {
	var b strings.Builder
	var marks [][2]int
	start := -1
	for len(s) > 0 {
		switch {
		case strings.HasPrefix(s, markOpen):
			start = b.Len()
			s = s[len(markOpen):]
		case strings.HasPrefix(s, markClose):
			if start >= 0 {
				marks = append(marks, [2]int{start, b.Len()})
			}
			start = -1
			s = s[len(markClose):]
		default:
			i := strings.IndexAny(s, markOpen+markClose)
			if i < 0 {
				i = len(s)
			}
			b.WriteString(s[:i])
			s = s[i:]
		}
	}
	return b.String(), marks
}

// ftsQuery turns what a user typed into an FTS5 query in which every term
// must match: words and "quoted phrases" become quoted strings (so
// nothing in them is an operator), and a trailing * on a word keeps its
// meaning of "any word starting so". Empty when there is no term.
func ftsQuery(q string) string {
	var terms []string
	add := func(t string, prefix bool) {
		if strings.IndexFunc(t, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) < 0 {
			return
		}
		term := `"` + strings.ReplaceAll(t, `"`, `""`) + `"`
		if prefix {
			term += "*"
		}
		terms = append(terms, term)
	}
	for q = strings.TrimSpace(q); q != ""; q = strings.TrimSpace(q) {
		if q[0] == '"' {
			end := strings.IndexByte(q[1:], '"')
			if end < 0 {
				add(q[1:], false)
				break
			}
			add(q[1:end+1], false)
			q = q[end+2:]
			continue
		}
		end := strings.IndexFunc(q, unicode.IsSpace)
		if end < 0 {
			end = len(q)
		}
		w := q[:end]
		q = q[end:]
		prefix := strings.HasSuffix(w, "*")
		add(strings.TrimRight(w, "*"), prefix)
	}
	return strings.Join(terms, " ")
}

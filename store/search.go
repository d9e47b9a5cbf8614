package store

import (
	"context"
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

// maxQuery bounds a search query.
const maxQuery = 1000

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
	if limit <= 0 {
		limit = 50
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+summaryColumns+`, m.seq, m.role,
			snippet(messages_fts, 0, ?, ?, '…', 16)
		FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid JOIN conversations c ON c.id = m.conversation
		WHERE messages_fts MATCH ? ORDER BY rank, c.updated DESC LIMIT ?`, markOpen, markClose, q, limit)
	if err != nil {
		return nil, fmt.Errorf("store: searching: %w", err)
	}
	defer rows.Close()
	var out []Hit
	for rows.Next() {
		var h Hit
		var role, snip string
		if err := scanSummary(rows, &h.Conversation, &h.Message, &role, &snip); err != nil {
			return nil, fmt.Errorf("store: searching: %w", err)
		}
		h.Role = provider.Role(role)
		h.Snippet, h.Marks = parseMarks(snip)
		out = append(out, h)
	}
	return out, rows.Err()
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

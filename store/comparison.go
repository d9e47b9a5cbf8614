package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// A comparison is saved as one entry with its columns: each column is a
// conversation of its own (it can be continued, searched and exported
// alone) that names its comparison and its place in it. Listings show
// the comparison once; its ID shows, exports, replays, renames and
// removes every column together.

// Comparison is a saved comparison with its columns' conversations.
type Comparison struct {
	Summary
	// Columns are the columns' conversations in column order.
	Columns []*Conversation
}

// ComparisonError says an ID names a comparison where one conversation
// was wanted (to continue it, say): its Summary lists the columns, each
// of which is a conversation.
type ComparisonError struct {
	Comparison Summary
}

func (e *ComparisonError) Error() string {
	c := e.Comparison
	var b strings.Builder
	fmt.Fprintf(&b, "%s is a comparison of %d columns, not one conversation: continue a column with parley -c COLUMN (", c.ID, len(c.Columns))
	for i, col := range c.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d %s: %s", col.Position+1, col.ColumnName(), col.ID)
	}
	b.WriteString("), or ask the models again with parley compare")
	return b.String()
}

// ColumnName is what a column is called: its label, else its model.
func (s *Summary) ColumnName() string {
	if s.Label != "" {
		return s.Label
	}
	return s.Model
}

// comparisonSummary reads comparison id with its columns' summaries; a
// *NotFoundError when there is no such comparison, or it has no column
// left.
func comparisonSummary(ctx context.Context, q querier, id string) (Summary, error) {
	sum := Summary{ID: id, Origin: OriginCompare}
	var created int64
	err := q.QueryRowContext(ctx, "SELECT title, created FROM comparisons WHERE id = ?", id).Scan(&sum.Title, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return sum, &NotFoundError{Prefix: id}
	}
	if err != nil {
		return sum, fmt.Errorf("store: reading comparison %s: %w", id, err)
	}
	sum.Created = fromMS(created)
	rows, err := q.QueryContext(ctx, `SELECT `+summaryColumns+` FROM conversations c WHERE c.comparison = ?
		ORDER BY c.position, c.created, c.rowid`, id)
	if err != nil {
		return sum, fmt.Errorf("store: reading comparison %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var col Summary
		if err := scanSummary(rows, &col); err != nil {
			return sum, fmt.Errorf("store: reading comparison %s: %w", id, err)
		}
		sum.Columns = append(sum.Columns, col)
	}
	if err := rows.Err(); err != nil {
		return sum, fmt.Errorf("store: reading comparison %s: %w", id, err)
	}
	if len(sum.Columns) == 0 {
		return sum, &NotFoundError{Prefix: id}
	}
	sum.summarize()
	return sum, nil
}

// summarize fills in what a comparison's summary takes from its columns:
// the title of the first when it has none of its own, the latest use, the
// providers, "compare: A vs B …" as the model, the counts and the status.
func (s *Summary) summarize() {
	var names, provs, dialects []string
	s.Updated = s.Created
	s.Status = ""
	for _, c := range s.Columns {
		if s.Title == "" {
			s.Title = c.Title
		}
		if c.Updated.After(s.Updated) {
			s.Updated = c.Updated
		}
		names = append(names, c.ColumnName())
		if !slices.Contains(provs, c.Provider) {
			provs = append(provs, c.Provider)
		}
		if !slices.Contains(dialects, c.Dialect) {
			dialects = append(dialects, c.Dialect)
		}
		s.Messages += c.Messages
		s.Answers += c.Answers
		switch {
		case c.Status != "" && c.Status != StatusDone && (s.Status == "" || s.Status == StatusDone):
			s.Status = c.Status
		case c.Status == StatusDone && s.Status == "":
			s.Status = StatusDone
		}
	}
	s.Provider = strings.Join(provs, ", ")
	s.Dialect = strings.Join(dialects, ", ")
	s.Model = "compare: " + strings.Join(names, " vs ")
}

// comparisons reads the comparisons whose IDs query selects, in its
// order, skipping any with no column left. Their columns are read in
// batches, one query for many comparisons.
func (s *Store) comparisons(ctx context.Context, query string, args ...any) ([]Summary, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: listing comparisons: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: listing comparisons: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: listing comparisons: %w", err)
	}
	byID := make(map[string]*Summary, len(ids))
	for start := 0; start < len(ids); start += comparisonBatch {
		batch := make([]any, 0, comparisonBatch)
		for _, id := range ids[start:min(start+comparisonBatch, len(ids))] {
			batch = append(batch, id)
		}
		if err := s.readComparisons(ctx, batch, byID); err != nil {
			return nil, fmt.Errorf("store: listing comparisons: %w", err)
		}
	}
	out := make([]Summary, 0, len(ids))
	for _, id := range ids {
		if sum := byID[id]; sum != nil && len(sum.Columns) > 0 {
			sum.summarize()
			out = append(out, *sum)
		}
	}
	return out, nil
}

// comparisonBatch is how many comparisons one query reads the columns of.
const comparisonBatch = 200

// readComparisons reads the comparisons ids with their columns into byID.
func (s *Store) readComparisons(ctx context.Context, ids []any, byID map[string]*Summary) error {
	in := placeholders(len(ids))
	rows, err := s.db.QueryContext(ctx, "SELECT id, title, created FROM comparisons WHERE id IN ("+in+")", ids...)
	if err != nil {
		return err
	}
	for rows.Next() {
		sum := &Summary{Origin: OriginCompare}
		var created int64
		if err := rows.Scan(&sum.ID, &sum.Title, &created); err != nil {
			rows.Close()
			return err
		}
		sum.Created = fromMS(created)
		byID[sum.ID] = sum
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = s.db.QueryContext(ctx, `SELECT `+summaryColumns+` FROM conversations c WHERE c.comparison IN (`+in+`)
		ORDER BY c.comparison, c.position, c.created, c.rowid`, ids...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var col Summary
		if err := scanSummary(rows, &col); err != nil {
			return err
		}
		if sum := byID[col.Comparison]; sum != nil {
			sum.Columns = append(sum.Columns, col)
		}
	}
	return rows.Err()
}

// mergeNewest merges two listings, each newest first, into one, cut at
// limit entries (negative: all).
func mergeNewest(a, b []Summary, limit int) []Summary {
	out := make([]Summary, 0, len(a)+len(b))
	for len(a) > 0 || len(b) > 0 {
		if len(b) == 0 || len(a) > 0 && !newer(b[0], a[0]) {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// newer reports whether x was used after y (created later on a tie).
func newer(x, y Summary) bool {
	if !x.Updated.Equal(y.Updated) {
		return x.Updated.After(y.Updated)
	}
	return x.Created.After(y.Created)
}

// LoadComparison reads comparison id (a full ID: see Resolve) with every
// column's conversation; a *NotFoundError when id names no comparison.
func (s *Store) LoadComparison(ctx context.Context, id string, o LoadOptions) (*Comparison, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("store: loading %s: %w", id, err)
	}
	defer tx.Rollback()
	sum, err := comparisonSummary(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	cmp := &Comparison{Summary: sum}
	for _, col := range sum.Columns {
		c, err := loadConversation(ctx, tx, col.ID, o)
		if err != nil {
			return nil, fmt.Errorf("store: loading %s: column %d: %w", id, col.Position+1, err)
		}
		cmp.Columns = append(cmp.Columns, c)
	}
	return cmp, nil
}

// IsComparison reports whether id (a full ID) names a saved comparison.
func (s *Store) IsComparison(ctx context.Context, id string) (bool, error) {
	_, err := comparisonSummary(ctx, s.db, id)
	var nf *NotFoundError
	switch {
	case errors.As(err, &nf):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// deleteComparison removes a comparison and every column, unless another
// running Parley records one of them.
func (s *Store) deleteComparison(ctx context.Context, cmp Summary) error {
	for _, col := range cmp.Columns {
		if err := s.checkFree(ctx, col.ID); err != nil {
			return err
		}
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM conversations WHERE comparison = ?", cmp.ID); err != nil {
			return fmt.Errorf("store: deleting %s: %w", cmp.ID, err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM comparisons WHERE id = ?", cmp.ID); err != nil {
			return fmt.Errorf("store: deleting %s: %w", cmp.ID, err)
		}
		return nil
	})
}

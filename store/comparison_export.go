package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// comparisonFormat names the JSON export format of a comparison: its
// columns are conversation exports (exportDoc) with their position and
// label.
const comparisonFormat = "parley.comparison"

// comparisonDoc is a comparison in the JSON export format.
type comparisonDoc struct {
	Format  string      `json:"format"`
	Version int         `json:"version"`
	ID      string      `json:"id"`
	Title   string      `json:"title"`
	Created time.Time   `json:"created"`
	Columns []exportDoc `json:"columns"`
}

// exportComparison is comparison cmp with every column, as ExportJSON
// writes it.
func exportComparison(ctx context.Context, q querier, cmp Summary) (*comparisonDoc, error) {
	var title string
	if err := q.QueryRowContext(ctx, "SELECT title FROM comparisons WHERE id = ?", cmp.ID).Scan(&title); err != nil {
		return nil, err
	}
	doc := &comparisonDoc{Format: comparisonFormat, Version: exportVersion, ID: cmp.ID, Title: title, Created: cmp.Created}
	for _, col := range cmp.Columns {
		d, err := exportRows(ctx, q, col.ID)
		if err != nil {
			return nil, fmt.Errorf("column %d: %w", col.Position+1, err)
		}
		d.Position, d.Label = col.Position, col.Label
		doc.Columns = append(doc.Columns, *d)
	}
	return doc, nil
}

// importComparison saves a comparison export with its columns, all or
// nothing, and returns its ID.
func (s *Store) importComparison(ctx context.Context, data []byte) (string, error) {
	var doc comparisonDoc
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return "", fmt.Errorf("not a Parley comparison export: %w", err)
	}
	switch {
	case doc.Version < 1 || doc.Version > exportVersion:
		return "", fmt.Errorf("export version %d is not one this Parley reads (1 to %d): upgrade Parley", doc.Version, exportVersion)
	case !validID(doc.ID):
		return "", fmt.Errorf("invalid comparison id %q", doc.ID)
	case len(doc.Columns) == 0:
		return "", errors.New("the comparison has no columns")
	}
	for i := range doc.Columns {
		if err := doc.Columns[i].check(); err != nil {
			return "", fmt.Errorf("column %d: %w", i+1, err)
		}
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		ids := []any{doc.ID}
		for _, c := range doc.Columns {
			ids = append(ids, c.ID)
		}
		var taken string
		err := tx.QueryRowContext(ctx, `SELECT id FROM comparisons WHERE id = ? UNION ALL
			SELECT id FROM conversations WHERE id IN (`+placeholders(len(doc.Columns))+`) LIMIT 1`, ids...).Scan(&taken)
		switch {
		case err == nil:
			return &ImportExistsError{ID: taken}
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if _, err := s.exec(ctx, tx, "INSERT INTO comparisons (id, title, created) VALUES (?, ?, ?)", doc.ID, doc.Title, ms(doc.Created)); err != nil {
			return err
		}
		for i := range doc.Columns {
			c := &doc.Columns[i]
			if err := s.importRows(ctx, tx, c); err != nil {
				return err
			}
			if err := s.putColumn(ctx, tx, c.ID, columnOf{comparison: doc.ID, position: c.Position, label: c.Label}, doc.Created); err != nil {
				return err
			}
		}
		return nil
	})
	return imported(doc.ID, err)
}

// ComparisonMarkdown renders a loaded comparison as ExportMarkdown writes
// it: front matter over every column, then each column under a heading
// naming it, its prompts and answers one level below.
func ComparisonMarkdown(cmp *Comparison) string {
	var b strings.Builder
	all := &Conversation{Summary: cmp.Summary}
	for _, c := range cmp.Columns {
		all.Turns = append(all.Turns, c.Turns...)
	}
	writeFrontMatter(&b, all)
	title := cmp.Title
	if title == "" {
		title = "Comparison " + cmp.ID
	}
	fmt.Fprintf(&b, "# %s\n\n", escapeInline(title))
	fmt.Fprintf(&b, "%d columns: %s\n", len(cmp.Columns), escapeInline(strings.TrimPrefix(cmp.Model, "compare: ")))
	for i, c := range cmp.Columns {
		fmt.Fprintf(&b, "\n## Column %d · %s\n\n", i+1, escapeInline(c.ColumnName()))
		fmt.Fprintf(&b, "Conversation `%s`\n", c.ID)
		writeTranscript(&b, c, "###")
	}
	return b.String()
}

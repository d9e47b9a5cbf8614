package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/parley-chat/parley/session"
)

// maxPicks is how many picks the leaderboard reads: the latest ones.
const maxPicks = 100_000

// AddPick saves a verdict on a comparison of two to six columns.
func (s *Store) AddPick(ctx context.Context, p session.Pick) error {
	n := len(p.Models)
	switch {
	case n < session.MinColumns || n > session.MaxColumns:
		return fmt.Errorf("store: a pick is between %d and %d columns, not %d", session.MinColumns, session.MaxColumns, n)
	case p.Winner < session.Tie || p.Winner >= n:
		return fmt.Errorf("store: a pick's winner is a column from 0 to %d or a tie, not %d", n-1, p.Winner)
	}
	at := p.At
	if at.IsZero() {
		at = s.now()
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, `INSERT INTO picks (created, comparison, blind, winner) VALUES (?, ?, ?, ?)`,
			ms(at), p.Comparison, p.Blind, p.Winner)
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		for i, m := range p.Models {
			if _, err := s.exec(ctx, tx, `INSERT INTO pick_columns (pick, position, model) VALUES (?, ?, ?)`, id, i, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: saving the pick: %w", err)
	}
	return nil
}

// Picks are the saved picks, oldest first (the latest maxPicks of them).
func (s *Store) Picks(ctx context.Context) ([]session.Pick, error) {
	rows, err := s.db.QueryContext(ctx, `
SELECT p.id, p.created, p.comparison, p.blind, p.winner, c.model
FROM (SELECT * FROM picks ORDER BY id DESC LIMIT ?) p JOIN pick_columns c ON c.pick = p.id
ORDER BY p.id, c.position`, maxPicks)
	if err != nil {
		return nil, fmt.Errorf("store: reading the picks: %w", err)
	}
	defer rows.Close()
	var out []session.Pick
	last := int64(-1)
	for rows.Next() {
		var id, created int64
		var comparison, model string
		var blind bool
		var winner int
		if err := rows.Scan(&id, &created, &comparison, &blind, &winner, &model); err != nil {
			return nil, fmt.Errorf("store: reading the picks: %w", err)
		}
		if id != last {
			out = append(out, session.Pick{At: fromMS(created), Comparison: comparison, Blind: blind, Winner: winner})
			last = id
		}
		p := &out[len(out)-1]
		p.Models = append(p.Models, strings.Clone(model))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: reading the picks: %w", err)
	}
	return out, nil
}

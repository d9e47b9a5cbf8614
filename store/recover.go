package store

import (
	"context"
	"database/sql"
	"fmt"
)

// recoverCrashed finishes the answers that were streaming when their
// process died (kill -9, a crash, a power cut): each is marked
// interrupted with what its timeline holds, and when it was the
// conversation's latest answer, that partial answer joins the
// conversation, just as cancelling it would have done. Answers of live
// processes are left alone. It also forgets dead writers.
func (s *Store) recoverCrashed(ctx context.Context) error {
	type streaming struct {
		conv, writer string
		seq          int
	}
	rows, err := s.db.QueryContext(ctx, `SELECT t.conversation, t.seq, c.writer FROM turns t
		JOIN conversations c ON c.id = t.conversation WHERE t.status = ?`, string(StatusStreaming))
	if err != nil {
		return fmt.Errorf("store: looking for interrupted answers: %w", err)
	}
	var found []streaming
	for rows.Next() {
		var st streaming
		if err := rows.Scan(&st.conv, &st.seq, &st.writer); err != nil {
			rows.Close()
			return fmt.Errorf("store: looking for interrupted answers: %w", err)
		}
		found = append(found, st)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: looking for interrupted answers: %w", err)
	}
	dead := map[string]bool{}
	for _, st := range found {
		if _, known := dead[st.writer]; !known {
			alive, _, err := s.writerAlive(ctx, s.db, st.writer)
			if err != nil {
				return err
			}
			dead[st.writer] = !alive
		}
		if !dead[st.writer] {
			continue
		}
		if err := s.write(ctx, func(tx *sql.Tx) error { return s.finishCrashed(ctx, tx, st.conv, st.seq) }); err != nil {
			return fmt.Errorf("store: repairing an interrupted answer of %s: %w", st.conv, err)
		}
	}
	_, err = s.db.ExecContext(ctx, "DELETE FROM writers WHERE alive_until <= ?", ms(s.now()))
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// finishCrashed marks one streaming answer interrupted, its summary
// rebuilt from its timeline, and adds its partial answer to the
// conversation when it is the latest.
func (s *Store) finishCrashed(ctx context.Context, tx *sql.Tx, conv string, seq int) error {
	var sent, superseded int
	var status string
	var started int64
	err := tx.QueryRowContext(ctx, "SELECT sent, superseded, status, started FROM turns WHERE conversation = ? AND seq = ?",
		conv, seq).Scan(&sent, &superseded, &status, &started)
	if err != nil {
		return err
	}
	if Status(status) != StatusStreaming { // finished meanwhile
		return nil
	}
	events, err := loadTimeline(ctx, tx, conv, seq)
	if err != nil {
		return err
	}
	t := replayTurn(fromMS(started), sent, superseded != 0, events)
	if err := s.putTurnEnd(ctx, tx, conv, seq, turnRowOf(t)); err != nil {
		return err
	}
	if superseded != 0 || !t.Answered() {
		return nil
	}
	var n, later int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM messages WHERE conversation = ?", conv).Scan(&n); err != nil {
		return err
	}
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM turns WHERE conversation = ? AND seq > ?", conv, seq).Scan(&later); err != nil {
		return err
	}
	if n != sent || later > 0 {
		return nil
	}
	return s.putMessage(ctx, tx, conv, sent, t.Message(), t.End)
}

// Package store saves conversations in SQLite as they happen and finds them
// again: every message, every answer (those /retry replaced too) with its
// event timeline, the settings and the gateway's continuation, and the
// prompt history. It records through session.Observer (Recorder), so the
// screen never knows; deltas reach the database in small batches from a
// goroutine of its own, so a crash loses at most about a second of an
// answer, and an answer cut short by a crash is shown as interrupted.
//
// Several Parley processes may use one database at once: SQLite's
// write-ahead log lets readers run beside the one writer, every write is
// a short immediate transaction, and a writer waits for another's lock
// rather than failing. The directory is private to the user (0700) and
// the files too (0600); a known secret (the API key) is replaced before
// any value is written.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"
)

// FileName is the database's name in the data directory.
const FileName = "parley.db"

// busyTimeout is how long a write waits for another process's lock.
const busyTimeout = 5 * time.Second

// redacted replaces a secret in every value written.
const redacted = "[redacted]"

// minSecret is the shortest secret replaced; shorter strings would match
// ordinary text.
const minSecret = 6

// Options configures a Store.
type Options struct {
	// Secrets are strings that must never be saved, such as the API key:
	// every occurrence in a value about to be written is replaced by
	// "[redacted]". (The transport already keeps the key out of the
	// events; this is a second guard.)
	Secrets []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Store is an open database of saved conversations. Its methods are safe
// for concurrent use.
type Store struct {
	db   *sql.DB
	path string
	now  func() time.Time
	host string
	pid  int

	mu      sync.Mutex
	w       *writer // started by the first Recorder
	secrets []string
}

// Open opens (creating it when needed) the database in dir, brings its
// schema up to date and repairs what crashed processes left behind: an
// answer that was streaming when its process died is marked interrupted
// and, as far as it had come, joins its conversation.
func Open(dir string, o Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: creating %s: %w", dir, err)
	}
	// MkdirAll leaves an existing directory as it is; ours is private.
	if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return nil, fmt.Errorf("store: making %s private: %w", dir, err)
		}
	}
	path := filepath.Join(dir, FileName)
	// SQLite creates the -wal and -shm files with the database's mode, so
	// creating the database 0600 first keeps all three private.
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := privateFile(p, p == path); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	s := &Store{db: db, path: path, now: o.Now, pid: os.Getpid()}
	if s.now == nil {
		s.now = time.Now
	}
	s.host, _ = os.Hostname()
	for _, sec := range o.Secrets {
		s.AddSecret(sec)
	}
	ctx := context.Background()
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.recoverCrashed(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// dsn is the connection string: write-ahead logging, a busy timeout so a
// writer waits for another process's lock, immediate transactions (the
// write lock is taken at BEGIN, so a transaction never fails half-way for
// want of it), foreign keys on, and synchronous=NORMAL, which in WAL mode
// keeps every committed transaction across a crash of the process.
func dsn(path string) string {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// privateFile makes sure the file at path, when it exists (or, with
// create, always), is readable by its owner only.
func privateFile(path string, create bool) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist) && create:
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("creating %s: %w", path, err)
		}
		if f != nil {
			return f.Close()
		}
		return nil
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.Mode().Perm()&0o077 != 0:
		if err := os.Chmod(path, 0o600); err != nil {
			return fmt.Errorf("making %s private: %w", path, err)
		}
	}
	return nil
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Close writes what the recorders still hold and closes the database.
func (s *Store) Close() error {
	s.mu.Lock()
	w := s.w
	s.mu.Unlock()
	var err error
	if w != nil {
		err = w.close()
	}
	return errors.Join(err, s.db.Close())
}

// AddSecret adds a string that must never be saved (see
// Options.Secrets): the key, once it is known.
func (s *Store) AddSecret(secret string) {
	if len(secret) < minSecret {
		return
	}
	s.mu.Lock()
	s.secrets = append(s.secrets, secret)
	s.mu.Unlock()
}

// scrub replaces the secrets in v.
func (s *Store) scrub(v string) string {
	s.mu.Lock()
	secrets := s.secrets
	s.mu.Unlock()
	for _, sec := range secrets {
		if strings.Contains(v, sec) {
			v = strings.ReplaceAll(v, sec, redacted)
		}
	}
	return v
}

// exec runs a write statement in tx with every string argument scrubbed of
// the secrets: no value reaches a row with a secret in it.
func (s *Store) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	for i, a := range args {
		switch v := a.(type) {
		case string:
			args[i] = s.scrub(v)
		case []byte:
			args[i] = s.scrub(string(v))
		}
	}
	return tx.ExecContext(ctx, query, args...)
}

// write runs fn in one immediate transaction, committed when fn returns
// nil and rolled back otherwise.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// ms is t in Unix milliseconds; 0 for the zero time.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS is the time of Unix milliseconds v, in UTC; the zero time for 0.
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

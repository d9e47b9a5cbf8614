package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sync"

	"github.com/charmbracelet/x/ansi"

	"github.com/parley-chat/parley/sanitize"
	"github.com/parley-chat/parley/session"
	"github.com/parley-chat/parley/store"
	"github.com/parley-chat/parley/ui"
)

// compareRecording saves a comparison on screen: one saved comparison
// whose columns (those /fuse adds too) are each a conversation of its own
// (origin "compare"), so /export and /title work per column, and a blind
// comparison's pick goes to the leaderboard.
type compareRecording struct {
	st      *store.Store
	history *store.Recorder // records no chat: keeps the prompt history
	recs    []*store.Recorder
	id      string // the comparison's ID, once its columns are known

	mu   sync.Mutex
	errs []error
}

// startCompareRecording opens the store for the columns, unless saving is
// off (the config's save = false or --no-save for any column). A store
// that cannot be opened costs only the saving, with a warning.
func (a *app) startCompareRecording(cols []*column, secrets []string) *compareRecording {
	r := &compareRecording{}
	for _, c := range cols {
		if !c.save {
			return r
		}
	}
	st, err := a.openStore()
	if err != nil {
		if _, derr := a.dataDir(); derr == nil {
			a.warn("this comparison is not saved: " + err.Error())
		}
		return r
	}
	for _, s := range secrets {
		st.AddSecret(s)
	}
	r.st = st
	return r
}

// recorder is a new recorder for one column's conversation.
func (r *compareRecording) recorder(ref ui.ColumnRef) *store.Recorder {
	rec := columnRecorder(r.st, ref, r.failed)
	r.mu.Lock()
	r.recs = append(r.recs, rec)
	r.id = ref.Comparison
	r.mu.Unlock()
	return rec
}

// saved is the comparison's ID when a column of it was saved, else "".
func (r *compareRecording) saved() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range r.recs {
		if rec.LastID() != "" {
			return r.id
		}
	}
	return ""
}

func (r *compareRecording) failed(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errs) < 5 {
		r.errs = append(r.errs, err)
	}
}

// options gives the chat screen what saving offers: a recorder per
// column (and per column /fuse adds), /export and /title, the prompt
// history and the picks.
func (r *compareRecording) options(o *ui.Options) {
	if r.st == nil {
		return
	}
	o.ColumnObservers = func(ref ui.ColumnRef) []session.Observer { return []session.Observer{r.recorder(ref)} }
	r.history = r.st.Recorder(store.RecorderOptions{Provider: o.Panes[0].ProviderName, OnError: r.failed})
	o.Remember = r.history.Remember
	o.Sessions = compareSessions{r}
	st := r.st
	o.Picks = func(p session.Pick) error { return st.AddPick(context.Background(), p) }
}

// close writes what is still queued, closes the store and reports what
// could not be saved.
func (r *compareRecording) close(a *app) {
	if r.st == nil {
		return
	}
	if err := r.st.Close(); err != nil {
		r.failed(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, err := range r.errs {
		a.warn("saving the comparison: " + err.Error())
	}
}

// compareSessions are a comparison's saved columns as the chat sees them.
type compareSessions struct{ r *compareRecording }

// owner is the recorder that saved conversation id, else the first.
func (c compareSessions) owner(id string) chatSessions {
	c.r.mu.Lock()
	defer c.r.mu.Unlock()
	for _, rec := range c.r.recs {
		if rec.LastID() == id {
			return chatSessions{st: c.r.st, rec: rec}
		}
	}
	return chatSessions{st: c.r.st, rec: c.r.history}
}

func (c compareSessions) Rename(id, title string) error { return c.owner(id).Rename(id, title) }

func (c compareSessions) Export(id, path string) (string, error) { return c.owner(id).Export(id, path) }

// leaderboardRow is one model's line of --leaderboard --output json.
type leaderboardRow struct {
	Rank   int     `json:"rank"`
	Model  string  `json:"model"`
	Rating float64 `json:"rating"`
	Wins   int     `json:"wins"`
	Losses int     `json:"losses"`
	Ties   int     `json:"ties"`
	Games  int     `json:"games"`
}

// printLeaderboard is parley compare --leaderboard: every model's wins,
// losses, ties and Elo rating from the blind picks saved so far, as a
// text table or (--output json) one JSON document.
func (a *app) printLeaderboard(ctx context.Context) error {
	st, err := a.openStore()
	if err != nil {
		return failure(fmt.Errorf("cannot open the saved conversations: %w", err))
	}
	defer st.Close()
	picks, err := st.Picks(ctx)
	if err != nil {
		return failure(err)
	}
	board := session.Leaderboard(picks, false)
	counted := 0
	for _, p := range picks {
		if p.Blind {
			counted++
		}
	}
	rows := make([]leaderboardRow, len(board))
	for i, s := range board {
		rows[i] = leaderboardRow{Rank: i + 1, Model: s.Model, Rating: math.Round(s.Rating*10) / 10,
			Wins: s.Wins, Losses: s.Losses, Ties: s.Ties, Games: s.Games()}
	}
	out := a.env.Stdout
	if a.f.output == "json" {
		doc := struct {
			Picks  int              `json:"picks"`
			Models []leaderboardRow `json:"models"`
		}{counted, rows}
		if doc.Models == nil {
			doc.Models = []leaderboardRow{}
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			return failure(fmt.Errorf("writing output: %w", err))
		}
		return nil
	}
	if len(rows) == 0 {
		_, err := fmt.Fprintln(out, "No blind picks yet: run parley compare --blind -m A -m B PROMPT, and pick the best answer with 1…6 (= for a tie).")
		return writeFailure(err)
	}
	table := [][]string{{"#", "model", "rating", "wins", "losses", "ties"}}
	for _, r := range rows {
		table = append(table, []string{fmt.Sprint(r.Rank), sanitize.Line(r.Model), fmt.Sprintf("%.0f", r.Rating),
			fmt.Sprint(r.Wins), fmt.Sprint(r.Losses), fmt.Sprint(r.Ties)})
	}
	noun := "blind picks"
	if counted == 1 {
		noun = "blind pick"
	}
	_, err = fmt.Fprintf(out, "%s\n%d %s · Elo from %.0f, K %.0f\n",
		session.FormatTable(table, ansi.StringWidth), counted, noun, session.InitialRating, session.EloK)
	return writeFailure(err)
}

// writeFailure is the error of a failed write to the output, or nil.
func writeFailure(err error) error {
	if err != nil {
		return failure(fmt.Errorf("writing output: %w", err))
	}
	return nil
}

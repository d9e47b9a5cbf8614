package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/spf13/pflag"

	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/session"
	"github.com/parley-chat/parley/store"
	"github.com/parley-chat/parley/ui"
)

// historySize is how many prompts of the provider's history the chat
// offers on ↑.
const historySize = 500

// recording is how one chat or print-mode run is saved: the store (nil
// when nothing is saved or resumed), the recorder (nil when saving is
// off) and the conversation it resumes (nil for a new one).
type recording struct {
	st      *store.Store
	rec     *store.Recorder // the recorder of the conversation open now (guarded by mu once the chat runs)
	recOpts store.RecorderOptions
	resumed *store.Conversation
	closed  bool

	mu   sync.Mutex
	errs []error
}

// dataDir is where conversations are saved. Without XDG_DATA_HOME or HOME
// in the environment there is no such place, and nothing is saved.
func (a *app) dataDir() (string, error) {
	if a.env.Getenv("XDG_DATA_HOME") == "" && a.env.Getenv("HOME") == "" {
		return "", errors.New("neither XDG_DATA_HOME nor HOME is set")
	}
	return config.DataDir(a.env.Getenv)
}

// openStore opens the saved conversations.
func (a *app) openStore() (*store.Store, error) {
	dir, err := a.dataDir()
	if err != nil {
		return nil, err
	}
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		return nil, err
	}
	if a.secret != "" {
		st.AddSecret(a.secret)
	}
	return st, nil
}

// loadResumed opens the store and loads the conversation -c ID or -C
// names, when one of them is given; it sets a.resumed, which resolve
// uses for the provider, the model and the settings.
func (a *app) loadResumed(ctx context.Context) (*recording, error) {
	r := &recording{}
	if a.f.continueID == "" && !a.f.continueLast {
		return r, nil
	}
	if a.f.continueID != "" && a.f.continueLast {
		return nil, usageErrorf("-c ID and -C cannot be combined: -c resumes a given conversation, -C the latest")
	}
	st, err := a.openStore()
	if err != nil {
		return nil, failure(fmt.Errorf("cannot open the saved conversations: %w", err))
	}
	r.st = st
	id, err := a.findID(ctx, st, a.f.continueID)
	if err == nil {
		r.resumed, err = st.Resume(ctx, id)
	}
	if err != nil {
		st.Close()
		return nil, storeError(err)
	}
	a.resumed = r.resumed
	return r, nil
}

// findID resolves an ID or ID prefix; "" means the latest conversation.
func (a *app) findID(ctx context.Context, st *store.Store, prefix string) (string, error) {
	if prefix == "" {
		id, err := st.Latest(ctx)
		var nf *store.NotFoundError
		if errors.As(err, &nf) {
			return "", usageErrorf("no saved conversation to continue yet")
		}
		return id, err
	}
	return st.Resolve(ctx, prefix)
}

// storeError gives a store error its exit code: an ID that names no
// conversation, or several, or one open elsewhere, or a comparison where
// one conversation is wanted, is a usage error.
func storeError(err error) error {
	var nf *store.NotFoundError
	var amb *store.AmbiguousError
	var inUse *store.InUseError
	var cmp *store.ComparisonError
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		return err
	case errors.As(err, &nf), errors.As(err, &amb), errors.As(err, &inUse), errors.As(err, &cmp):
		return &exitError{code: ExitUsage, err: err}
	}
	return failure(err)
}

// start begins recording the run's chat when saving is on (the config's
// save and --no-save): it opens the store if resuming has not, and makes
// the recorder. A store that cannot be opened only costs the saving: a
// warning says so and the run goes on.
func (r *recording) start(a *app, t *target, origin string) {
	if !t.save {
		return
	}
	if r.st == nil {
		st, err := a.openStore()
		if err != nil {
			if _, derr := a.dataDir(); derr == nil {
				a.warn("this conversation is not saved: " + err.Error())
			}
			return
		}
		r.st = st
	}
	if a.secret != "" {
		r.st.AddSecret(a.secret)
	}
	r.recOpts = store.RecorderOptions{Provider: t.name, Dialect: t.dialect, Origin: origin, OnError: r.failed}
	o := r.recOpts
	o.Resumed = r.resumed
	r.rec = r.st.Recorder(o)
}

func (r *recording) failed(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errs) < 5 {
		r.errs = append(r.errs, err)
	}
}

// errors are the saving errors so far.
func (r *recording) errors() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

// newChat makes the run's chat: the resumed conversation restored, or a
// new one; the recorder observes it. A nil recording makes a new chat.
func (r *recording) newChat(o session.ChatOptions) *session.Chat {
	if r == nil {
		return session.NewChat(o)
	}
	var c *session.Chat
	if r.resumed != nil {
		c = session.RestoreChat(o, r.resumed.Saved())
	} else {
		c = session.NewChat(o)
	}
	if r.rec != nil {
		c.Observe(r.rec)
	}
	return c
}

// history is the provider's prompt history, oldest first.
func (r *recording) history(ctx context.Context, provider string) []string {
	if r.st == nil {
		return nil
	}
	h, err := r.st.History(ctx, provider, historySize)
	if err != nil {
		r.failed(err)
	}
	return h
}

// close writes what is still queued and closes the store, then reports
// on stderr what could not be saved.
func (r *recording) close(a *app) {
	if r.st == nil || r.closed {
		return
	}
	r.closed = true
	if err := r.st.Close(); err != nil {
		r.failed(err)
	}
	for _, err := range r.errors() {
		a.warn("saving the conversation: " + err.Error())
	}
}

// resumeDefaults makes the resumed conversation's gateway and model the
// defaults of this run: its provider profile (or the demo gateway), unless
// a provider flag says otherwise, and its model, unless -m does.
func (a *app) resumeDefaults(cfg *config.Config, f *config.Flags) {
	c := a.resumed
	if c == nil {
		return
	}
	if f.Provider == "" && f.BaseURL == nil && f.Dialect == nil && !a.f.demo {
		if _, err := cfg.Provider(c.Provider); err == nil {
			f.Provider = c.Provider
		} else if c.Provider == "demo" {
			a.f.demo = true
		}
	}
	if (f.Model == nil || *f.Model == "") && c.Settings.Model != "" {
		m := c.Settings.Model
		f.Model = &m
	}
}

// resumedSettings are the settings a resumed conversation carries on
// with: its own, except where a flag was given; the tools and the
// structured-output schema are this run's.
func resumedSettings(saved, resolved session.Settings, f *config.Flags) session.Settings {
	s := saved
	s.Model = resolved.Model
	if f.System != nil {
		s.System = resolved.System
	}
	if f.Temperature != nil {
		s.Temperature = resolved.Temperature
	}
	if f.TopP != nil {
		s.TopP = resolved.TopP
	}
	if f.MaxTokens != nil {
		s.MaxTokens = resolved.MaxTokens
	}
	if f.Stop != nil {
		s.Stop = resolved.Stop
	}
	if f.Reasoning || f.ReasoningBudget != nil {
		s.Reasoning = resolved.Reasoning
	}
	// Structured output and tools belong to this run (its --json-schema,
	// its tools), not to the conversation.
	s.ResponseFormat, s.Schema = resolved.ResponseFormat, resolved.Schema
	s.Tools, s.ToolsMode = resolved.Tools, resolved.ToolsMode
	return s
}

// addSaveFlags registers the flags of saving and resuming conversations
// (the chat and print mode).
func (a *app) addSaveFlags(f *pflag.FlagSet) {
	f.StringVarP(&a.f.continueID, "continue", "c", "", "continue the saved conversation `ID` (a unique prefix is enough)")
	f.BoolVarP(&a.f.continueLast, "continue-last", "C", false, "continue the latest saved conversation")
	f.BoolVar(&a.f.noSave, "no-save", false, "do not save this conversation (save = false in the config does so always)")
}

// lastID is the conversation the run saved last; "" when it saved none.
func (r *recording) lastID() string {
	r.mu.Lock()
	rec := r.rec
	r.mu.Unlock()
	if rec == nil {
		return ""
	}
	return rec.LastID()
}

// chatOptions hands the chat what saving gives it: the resumed
// conversation, the recorder, the provider's prompt history and /export
// and /title.
func (r *recording) chatOptions(ctx context.Context, o *ui.Options, provider string) {
	if r.resumed != nil {
		saved := r.resumed.Saved()
		o.Panes[0].Resume = &saved
	}
	o.History = r.history(ctx, provider)
	if r.rec == nil {
		return
	}
	o.Panes[0].Observers = append(o.Panes[0].Observers, r.rec)
	o.Remember = r.rec.Remember
	o.Sessions = chatSessions{st: r.st, r: r, provider: provider, settings: o.Panes[0].Settings}
	// /compare saves the comparison: the conversation on screen is its
	// first column, each model named a column after it.
	o.ColumnObservers = func(ref ui.ColumnRef) []session.Observer {
		if ref.Adopted {
			chatSessions{r: r}.recorder().JoinComparison(ref.Comparison, ref.Position, columnLabel(ref.Spec))
			return nil
		}
		return []session.Observer{columnRecorder(r.st, ref, r.failed)}
	}
}

// columnRecorder is a recorder that saves a column of a comparison.
func columnRecorder(st *store.Store, ref ui.ColumnRef, onError func(error)) *store.Recorder {
	return st.Recorder(store.RecorderOptions{Provider: ref.Spec.ProviderName, Dialect: ref.Spec.Provider.Dialect(),
		Origin: store.OriginCompare, Comparison: ref.Comparison, Position: ref.Position, Label: columnLabel(ref.Spec),
		OnError: onError})
}

// columnLabel is the name a column is saved with: its label when that is
// not its model ("" otherwise).
func columnLabel(spec ui.PaneSpec) string {
	if spec.Label == spec.Settings.Model {
		return ""
	}
	return spec.Label
}

// chatSessions are the saved conversations as the chat sees them: /title,
// /export and the session browser (library.go).
type chatSessions struct {
	st  *store.Store
	rec *store.Recorder // the recorder, when r is nil (a comparison's column)
	// r, when set, is the chat's recording, whose recorder changes when
	// the browser opens another conversation.
	r        *recording
	provider string           // the chat's provider profile
	settings session.Settings // the settings the chat started with
}

// recorder is the recorder of the conversation open now.
func (c chatSessions) recorder() *store.Recorder {
	if c.r == nil {
		return c.rec
	}
	c.r.mu.Lock()
	defer c.r.mu.Unlock()
	return c.r.rec
}

// Rename titles a conversation through the recorder, so a title given
// before the first prompt is not lost.
func (c chatSessions) Rename(id, title string) error { return c.recorder().Rename(id, title) }

// Export writes everything recorded so far, then the conversation: to
// path, or to parley-TITLE-ID.md in the current directory.
func (c chatSessions) Export(id, path string) (string, error) {
	if err := c.recorder().Flush(); err != nil {
		return "", err
	}
	ctx := context.Background()
	if path == "" {
		title := ""
		if conv, err := c.st.Load(ctx, id, store.LoadOptions{}); err == nil {
			title = conv.Title
		}
		path = exportName(title, id)
	}
	if strings.HasPrefix(path, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			path = filepath.Join(home, path[2:])
		}
	}
	format := "md"
	if strings.EqualFold(filepath.Ext(path), ".json") {
		format = "json"
	}
	if err := writeFilePrivate(path, func(w io.Writer) error { return exportTo(ctx, c.st, id, format, w) }); err != nil {
		return "", err
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return path, nil
}

// exportName is the default file name of an export: parley-, a slug of
// the title, and the start of the ID.
func exportName(title, id string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	slug := strings.Trim(b.String(), "-")
	name := "parley-" + id[:min(8, len(id))]
	if slug != "" {
		name = "parley-" + slug + "-" + id[:min(8, len(id))]
	}
	return name + ".md"
}

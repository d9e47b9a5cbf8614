package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/spf13/cobra"

	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/sanitize"
	"github.com/parley-chat/parley/schema"
	"github.com/parley-chat/parley/session"
	"github.com/parley-chat/parley/ui"
)

// compareCommand is "parley compare": one prompt to several models side by
// side, in the chat screen or, with -p, printed.
func (a *app) compareCommand() *cobra.Command {
	var models []string
	var blind, leaderboard bool
	cmd := &cobra.Command{
		Use:   "compare -m MODEL -m MODEL [-m MODEL…] [PROMPT]",
		Short: "Ask two to six models the same question, side by side",
		Long: `Ask two to six models the same question and watch them answer side by side,
each column with its reasoning and its figures: time to first token, speed,
tokens, duration and the rate limit left. A summary table follows when all
are done; follow-up prompts go to every column, and /pick N goes on with one.

A column (-m) is a model, a PROVIDER:MODEL from another profile (mixing
gateways and dialects), a model with settings of its own, or a preset from
the config file:

  parley compare -m gpt-4o -m gw-gemini:gemini-2.5-pro "explain SSE"
  parley compare -m 'gpt-4o{temperature=0}' -m 'gpt-4o{temperature=1.2}' "a haiku"
  parley compare -m cold -m hot          # [compare.cold] and [compare.hot] presets
  parley compare --demo -m demo-fast -m demo-think "explain SSE"

Settings in braces: temperature, top_p, max_tokens, system, stop, reasoning,
reasoning_budget. With -p the answers print one after another under headers,
then the summary; --output jsonl writes every event with "column" and "model".

--blind shows the columns as model A, B, … in a random order. Once every
column is done, pick the best answer with 1…6 (= for a tie) on an empty
input; the names then show, and the pick counts in a local leaderboard:

  parley compare --demo -m demo-fast -m demo-think --blind "explain SSE"
  parley compare --leaderboard           # wins, losses, ties, Elo rating
  parley compare --leaderboard --output json`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if leaderboard {
				return a.runLeaderboard(cmd, args, models, blind)
			}
			if blind && a.f.print {
				return usageErrorf("--blind is for the comparison on screen; print mode shows the names")
			}
			return a.runCompare(cmd, args, models, blind)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&models, "model", "m", nil, "a column: `MODEL`, PROVIDER:MODEL, MODEL{temperature=0,…} or a [compare.NAME] preset (2 to 6)")
	f.BoolVarP(&a.f.print, "print", "p", false, "print mode: the answers one after another, then the summary table")
	f.StringVar(&a.f.output, "output", "text", "print mode output: text or jsonl; --leaderboard: text or json")
	f.BoolVar(&blind, "blind", false, "hide the models' names (columns A, B, … in random order) until you pick the best with 1…6 or =")
	f.BoolVar(&leaderboard, "leaderboard", false, "print the models' wins, losses, ties and Elo ratings from blind picks")
	f.StringVar(&a.f.theme, "theme", "", "chat theme: auto, dark, light or ascii (no colours)")
	f.BoolVar(&a.f.hideReasoning, "hide-reasoning", false, "chat: do not show the models' reasoning")
	f.BoolVar(&a.f.noSave, "no-save", false, "do not save the columns' conversations or the pick (save = false in the config does so always)")
	for _, values := range []map[string]cobra.CompletionFunc{a.compareValues(), a.modelValues()} {
		for name, fn := range values {
			a.completeValues(cmd, name, fn)
		}
	}
	return cmd
}

// runCompare resolves the columns and opens the comparison on screen
// (blind: names hidden until a pick), or prints it with -p.
func (a *app) runCompare(cmd *cobra.Command, args, specs []string, blind bool) error {
	if n := len(specs); n < session.MinColumns || n > session.MaxColumns {
		return usageErrorf("compare needs %d to %d models (-m A -m B …), not %d", session.MinColumns, session.MaxColumns, n)
	}
	if a.f.output != "text" && a.f.output != "jsonl" {
		return usageErrorf("--output must be text or jsonl, not %q", a.f.output)
	}
	var prompt string
	if a.f.print {
		p, err := a.readPrompt(cmd.Context(), args)
		if err != nil {
			return err
		}
		prompt = p
	} else {
		if cmd.Flags().Changed("output") {
			return usageErrorf("--output applies to print mode only: add -p")
		}
		if a.env.Stdout == os.Stdout && !a.env.StdoutIsTerminal {
			return usageErrorf("the comparison needs a terminal on stdout; for scripts use print mode: parley compare -p …")
		}
		prompt = strings.TrimSpace(strings.Join(args, " "))
	}
	ctx := cmd.Context()
	cols, err := a.newColumns(cmd, nil)
	if err != nil {
		return err
	}
	defer cols.close()
	resolved := make([]*column, len(specs))
	for i, spec := range specs {
		c, err := cols.resolve(ctx, spec)
		if err != nil {
			return cols.fail(ctx, spec, err)
		}
		resolved[i] = c
	}
	a.secret = cols.firstSecret()
	if a.f.print {
		return a.printCompare(ctx, resolved, prompt, cols.allSecrets())
	}
	panes := make([]ui.PaneSpec, len(resolved))
	for i, c := range resolved {
		panes[i] = c.pane()
	}
	rec := a.startCompareRecording(resolved, cols.allSecrets())
	opts := ui.Options{
		Panes:         panes,
		Theme:         resolved[0].theme,
		InitialPrompt: prompt,
		HideReasoning: a.f.hideReasoning,
		Blind:         blind,
	}
	rec.options(&opts)
	return a.runScreen(cmd, opts, func() {
		rec.close(a)
		if id := rec.saved(); id != "" {
			fmt.Fprintln(a.env.Stdout, compareHint(id))
		}
	})
}

// runLeaderboard checks that --leaderboard stands alone, then prints it.
func (a *app) runLeaderboard(cmd *cobra.Command, args, models []string, blind bool) error {
	switch {
	case len(args) > 0 || len(models) > 0 || blind || a.f.print:
		return usageErrorf("--leaderboard takes no models, prompt, --blind or -p: parley compare --leaderboard [--output json]")
	case a.f.output != "text" && a.f.output != "json":
		return usageErrorf("--leaderboard --output must be text or json, not %q", a.f.output)
	}
	return a.printLeaderboard(cmd.Context())
}

// column is one resolved comparison column: the provider it streams from
// and its request settings.
type column struct {
	label    string
	name     string // the profile's name, for the status bar
	prov     provider.Provider
	settings session.Settings
	models   []string
	theme    string
	save     bool // the config's save and --no-save
}

// pane is the column as the chat screen shows it.
func (c *column) pane() ui.PaneSpec {
	return ui.PaneSpec{Label: c.label, Provider: c.prov, ProviderName: c.name, Settings: c.settings, Models: c.models}
}

// columns resolves comparison columns against the configuration file and
// the flags: each column's profile, key and provider, made once per
// profile and shared by its columns. It is safe for concurrent use (the
// chat screen resolves /compare's columns off its Update goroutine).
type columns struct {
	a     *app
	cfg   *config.Config
	flags *config.Flags
	stop  func()

	schema *schema.Schema // --json-schema, for every column

	mu      sync.Mutex
	provs   map[string]provider.Provider // by profile name
	secrets []string                     // every key resolved, in order
	warned  map[string]bool
}

// newColumns reads the configuration for resolving columns. With --demo it
// starts the demo gateway, unless demo already says where it runs (the
// chat screen's).
func (a *app) newColumns(cmd *cobra.Command, demo *config.Provider) (*columns, error) {
	cfg, err := config.Load(a.f.configPath, a.env.Getenv)
	if err != nil {
		return nil, &exitError{code: ExitUsage, err: err}
	}
	sch, err := a.loadSchema()
	if err != nil {
		return nil, err
	}
	c := &columns{a: a, cfg: cfg, flags: a.givenFlags(cmd), stop: func() {}, schema: sch,
		provs: map[string]provider.Provider{}, warned: map[string]bool{}}
	c.flags.Model = nil // each column names its own
	switch {
	case demo != nil:
		c.flags.Demo = demo
	case a.f.demo:
		url, models, stop, err := startDemo()
		if err != nil {
			return nil, failure(fmt.Errorf("cannot start the demo gateway: %w", err))
		}
		c.stop = stop
		c.flags.Demo = &config.Provider{Name: "demo", Dialect: provider.DialectOpenAI, BaseURL: url, Models: models}
	}
	return c, nil
}

// close stops the demo gateway the columns started, if any.
func (c *columns) close() { c.stop() }

// resolve turns one column as the user wrote it into a provider and
// settings. Errors are configuration errors.
func (c *columns) resolve(ctx context.Context, spec string) (*column, error) {
	col, err := c.cfg.ParseColumn(spec, c.flags.Demo != nil)
	if err != nil {
		return nil, err
	}
	r, err := config.ResolveColumn(c.cfg, c.flags, col, checkTheme)
	if err == nil {
		err = r.RequireModel()
	}
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, w := range r.Warnings {
		if !c.warned[w] {
			c.warned[w] = true
			c.a.warn(w)
		}
	}
	prov := c.provs[r.Name]
	if prov == nil {
		key := demoKey
		if c.flags.Demo == nil {
			k, err := config.ResolveKey(ctx, &r.Profile, c.a.env.Getenv, 0)
			if err != nil {
				return nil, err
			}
			key = k.Secret.Reveal()
			c.secrets = append(c.secrets, key)
		}
		p, err := newProvider(r.Profile.Dialect, r.Options(key))
		if err != nil {
			return nil, err
		}
		prov = p
		c.provs[r.Name] = p
	}
	settings := settingsFrom(r)
	settings.Schema = c.schema
	return &column{label: col.Label, name: r.Name, prov: prov, settings: settings, models: r.Profile.Models, theme: r.Theme, save: r.Save}, nil
}

// fail is the error of a column that did not resolve: an interruption,
// or a usage error naming the column.
func (c *columns) fail(ctx context.Context, spec string, err error) error {
	if ctx.Err() != nil {
		return &exitError{code: ExitInterrupted, err: errors.New("interrupted")}
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	return usageErrorf("-m %s: %v", spec, err)
}

// firstSecret is the first key resolved ("" for none).
func (c *columns) firstSecret() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.secrets) == 0 {
		return ""
	}
	return c.secrets[0]
}

// allSecrets are the keys resolved so far.
func (c *columns) allSecrets() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.secrets...)
}

// adopt makes the chat's own provider and key the ones its profile's
// columns use.
func (c *columns) adopt(t *target) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.provs[t.name] = t.provider
	if c.a.secret != "" {
		c.secrets = append(c.secrets, c.a.secret)
	}
}

// paneResolver is what the chat screen calls for /compare's columns.
func (c *columns) paneResolver() func(ctx context.Context, spec string) (ui.PaneSpec, error) {
	return func(ctx context.Context, spec string) (ui.PaneSpec, error) {
		col, err := c.resolve(ctx, spec)
		if err != nil {
			return ui.PaneSpec{}, err
		}
		return col.pane(), nil
	}
}

// settingsFrom are the request settings of a resolved configuration.
func settingsFrom(r *config.Resolved) session.Settings {
	return session.Settings{
		Model:       r.Model,
		System:      r.System,
		Temperature: r.Temperature,
		TopP:        r.TopP,
		MaxTokens:   r.MaxTokens,
		Stop:        r.Stop,
		Reasoning:   r.Reasoning,
		ToolsMode:   r.ToolsMode,
	}
}

// colEvent is one event of one column, as print mode receives them.
type colEvent struct {
	col int
	ev  session.Stamped
}

// printCompare puts prompt to every column at once and prints what they
// answer: with --output text each answer under a header, one after
// another (the first streams live, the others as soon as it is their
// turn), then the summary table; with --output jsonl every event as a
// JSON line with its column and model, then a result line per column.
// Exit code 1 when any column failed, 130 when interrupted. The
// comparison is saved as the chat screen saves it.
func (a *app) printCompare(ctx context.Context, cols []*column, prompt string, secrets []string) error {
	stdout, stderr := redactAll(a.env.Stdout, secrets), redactAll(a.env.Stderr, secrets)
	events := make(chan colEvent, 256)
	cmp := session.NewCompare(session.CompareOptions{Deliver: func(col int, ev session.Stamped) { events <- colEvent{col, ev} }})
	rec := a.startCompareRecording(cols, secrets)
	defer rec.close(a)
	for i, c := range cols {
		col, err := cmp.Add(session.ColumnSpec{Label: c.label, Provider: c.prov, Settings: c.settings})
		if err != nil {
			return failure(err)
		}
		if rec.st != nil {
			col.Chat.Observe(rec.recorder(ui.ColumnRef{Comparison: cmp.ID, Position: i, Spec: c.pane()}))
		}
	}
	var p comparePrinter
	if a.f.output == "jsonl" {
		p = newJSONLCompare(stdout, stderr, cols)
	} else {
		p = a.newTextCompare(stdout, stderr, cols)
	}
	if err := cmp.Send(ctx, prompt); err != nil {
		return failure(err)
	}
	for !cmp.Done() {
		e := <-events
		if ev, ok := e.ev.Event.(provider.Error); ok && ev.Err != nil {
			for _, s := range secrets {
				ev.Err.Redact(s)
			}
		}
		p.event(e.col, cmp.Handle(e.col, e.ev))
	}
	results := cmp.Results(time.Now())
	p.finish(results)
	werr := p.writeErr()
	for _, w := range []*redactChain{stdout, stderr} {
		werr = errors.Join(werr, w.Flush())
	}
	switch {
	case ctx.Err() != nil:
		return &exitError{code: ExitInterrupted, err: errors.New("interrupted")}
	case cmp.Failed() || schemaFailed(cmp):
		var failed []string
		for i, r := range results {
			switch t := cmp.Columns()[i].Chat.Turn(); {
			case r.Err != nil:
				failed = append(failed, fmt.Sprintf("%d (%s): %s", r.Column, r.Label, describeError(r.Err)))
			case t != nil && schemaFailure(t) != nil:
				failed = append(failed, fmt.Sprintf("%d (%s): %s", r.Column, r.Label, errSchemaViolated))
			}
		}
		return failure(fmt.Errorf("%d of %d columns failed: %s", len(failed), len(results), strings.Join(failed, "; ")))
	case werr != nil:
		return failure(fmt.Errorf("writing output: %w", werr))
	}
	return nil
}

// schemaFailed reports whether some column's answer does not match the
// --json-schema schema.
func schemaFailed(cmp *session.Compare) bool {
	for _, col := range cmp.Columns() {
		if t := col.Chat.Turn(); t != nil && schemaFailure(t) != nil {
			return true
		}
	}
	return false
}

// comparePrinter prints a comparison's events as they arrive.
type comparePrinter interface {
	// event prints what one column's chat made of an event (the
	// finished answer's schema check included).
	event(col int, up session.Update)
	// finish prints what follows the answers.
	finish(results []session.Result)
	writeErr() error
}

// jsonlCompare writes every event as one JSON line, as print mode's jsonl
// printer does, with the column (from 1) and its model after the type, and
// "label" when the column was given a name other than its model; then one
// "result" line per column with its figures.
type jsonlCompare struct {
	out  io.Writer
	cols []*column
	ps   []*jsonlPrinter
	err  error
}

func newJSONLCompare(stdout, stderr io.Writer, cols []*column) *jsonlCompare {
	p := &jsonlCompare{out: stdout, cols: cols}
	for i, c := range cols {
		p.ps = append(p.ps, &jsonlPrinter{
			out:    &fieldsWriter{w: stdout, fields: p.fields(i)},
			errOut: &prefixWriter{w: stderr, prefix: fmt.Sprintf("parley: [%d %s] ", i+1, sanitize.Line(c.label)), start: true},
		})
	}
	return p
}

func (p *jsonlCompare) event(col int, up session.Update) {
	if up.Finished {
		p.ps[col].schema(up.Turn.SchemaCheck)
	}
	p.ps[col].event(up.Event)
}

// fields are the column fields of a line, each with a leading comma.
func (p *jsonlCompare) fields(col int) []byte {
	c := p.cols[col]
	model, _ := json.Marshal(c.settings.Model)
	s := fmt.Sprintf(`,"column":%d,"model":%s`, col+1, model)
	if c.label != c.settings.Model {
		label, _ := json.Marshal(c.label)
		s += `,"label":` + string(label)
	}
	return []byte(s)
}

// compareResult is a column's "result" line.
type compareResult struct {
	TTFTMS          int64   `json:"ttft_ms"`
	TokensPerSecond float64 `json:"tokens_per_second"`
	OutputTokens    int     `json:"output_tokens"`
	DurationMS      int64   `json:"duration_ms"`
	WaitedMS        int64   `json:"waited_ms"`
	Finish          string  `json:"finish"`
}

func (p *jsonlCompare) finish(results []session.Result) {
	for i, r := range results {
		body, err := json.Marshal(compareResult{TTFTMS: r.TTFT.Milliseconds(), TokensPerSecond: float64(int(r.TokensPerSecond*10)) / 10,
			OutputTokens: r.OutputTokens, DurationMS: r.Duration.Milliseconds(), WaitedMS: r.Waited.Milliseconds(), Finish: r.Outcome()})
		if err == nil {
			line := append(append([]byte(`{"type":"result"`), p.fields(i)...), append([]byte(","), body[1:]...)...)
			_, err = p.out.Write(append(line, '\n'))
		}
		if err != nil && p.err == nil {
			p.err = err
		}
	}
}

func (p *jsonlCompare) writeErr() error {
	errs := []error{p.err}
	for _, jp := range p.ps {
		errs = append(errs, jp.writeErr())
	}
	return errors.Join(errs...)
}

// fieldsWriter adds fields to every JSON line written through it, right
// after its "type" (each Write is one line, as the jsonl printer writes).
type fieldsWriter struct {
	w      io.Writer
	fields []byte
}

func (f *fieldsWriter) Write(b []byte) (int, error) {
	const open = `{"type":"`
	out := b
	if bytes.HasPrefix(b, []byte(open)) {
		if end := bytes.IndexByte(b[len(open):], '"'); end >= 0 {
			at := len(open) + end + 1
			out = append(append(append([]byte(nil), b[:at]...), f.fields...), b[at:]...)
		}
	}
	if _, err := f.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// textCompare prints the answers one after another, each under a header:
// the column being printed streams live, the others are held until their
// turn. Retries, waits, tool calls and errors go to stderr at once, named
// by column.
type textCompare struct {
	out  io.Writer
	cols []*textColumn
	cur  int
	err  error
}

// textColumn is one column's printer and where its answer goes.
type textColumn struct {
	label    string
	p        *textPrinter
	out      *heldWriter
	finished bool
}

func (a *app) newTextCompare(stdout, stderr io.Writer, cols []*column) *textCompare {
	t := &textCompare{out: stdout}
	for i, c := range cols {
		held := &heldWriter{w: stdout}
		t.cols = append(t.cols, &textColumn{label: c.label, out: held, p: &textPrinter{
			out:         held,
			errOut:      &prefixWriter{w: stderr, prefix: fmt.Sprintf("parley: [%d %s] ", i+1, sanitize.Line(c.label)), start: true},
			sanitizeOut: a.env.StdoutIsTerminal,
			sanitizeErr: a.env.StderrIsTerminal,
		}})
	}
	t.begin(0)
	return t
}

// begin prints column i's header and lets its answer through.
func (t *textCompare) begin(i int) {
	sep := ""
	if i > 0 {
		sep = "\n"
	}
	t.write(fmt.Sprintf("%s── %d · %s ──\n", sep, i+1, sanitize.Line(t.cols[i].label)))
	if err := t.cols[i].out.release(); err != nil && t.err == nil {
		t.err = err
	}
}

func (t *textCompare) write(s string) {
	if t.err == nil {
		_, t.err = io.WriteString(t.out, s)
	}
}

func (t *textCompare) event(col int, up session.Update) {
	c := t.cols[col]
	if up.Finished {
		c.p.schema(up.Turn.SchemaCheck)
	}
	c.p.event(up.Event)
	if !up.Finished {
		return
	}
	c.p.finish()
	c.finished = true
	for t.cur < len(t.cols) && t.cols[t.cur].finished {
		t.cur++
		if t.cur < len(t.cols) {
			t.begin(t.cur)
		}
	}
}

func (t *textCompare) finish(results []session.Result) {
	rows := [][]string{session.SummaryHeader()}
	for _, r := range results {
		r.Label = sanitize.Line(r.Label)
		rows = append(rows, r.Cells())
	}
	t.write("\n" + session.FormatTable(rows, ansi.StringWidth))
}

func (t *textCompare) writeErr() error {
	errs := []error{t.err}
	for _, c := range t.cols {
		errs = append(errs, c.p.writeErr(), c.out.err)
	}
	return errors.Join(errs...)
}

// heldWriter holds what is written until release, then passes it through.
type heldWriter struct {
	w        io.Writer
	released bool
	buf      bytes.Buffer
	err      error
}

func (h *heldWriter) Write(p []byte) (int, error) {
	if !h.released {
		return h.buf.Write(p)
	}
	if _, err := h.w.Write(p); err != nil {
		h.err = err
		return 0, err
	}
	return len(p), nil
}

// release writes what was held and lets later writes through.
func (h *heldWriter) release() error {
	h.released = true
	_, err := h.w.Write(h.buf.Bytes())
	h.buf = bytes.Buffer{}
	return err
}

// prefixWriter names the column on each line print mode writes to
// stderr: a line starting "parley: " continues after prefix instead.
type prefixWriter struct {
	w      io.Writer
	prefix string
	start  bool // the next byte starts a line
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	out := b
	if p.start && bytes.HasPrefix(b, []byte("parley: ")) {
		out = append([]byte(p.prefix), b[len("parley: "):]...)
	}
	if len(b) > 0 {
		p.start = b[len(b)-1] == '\n'
	}
	if _, err := p.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// redactChain redacts several secrets from what passes through it.
type redactChain struct {
	writers []*redactWriter // outermost first
}

// redactAll wraps w so that none of secrets is written.
func redactAll(w io.Writer, secrets []string) *redactChain {
	c := &redactChain{}
	for i := len(secrets) - 1; i >= 0; i-- {
		rw := newRedactWriter(w, secrets[i])
		c.writers = append([]*redactWriter{rw}, c.writers...)
		w = rw
	}
	if len(c.writers) == 0 {
		c.writers = []*redactWriter{newRedactWriter(w, "")}
	}
	return c
}

func (c *redactChain) Write(p []byte) (int, error) { return c.writers[0].Write(p) }

// Flush writes everything held back, outermost first.
func (c *redactChain) Flush() error {
	var err error
	for _, w := range c.writers {
		err = errors.Join(err, w.Flush())
	}
	return err
}

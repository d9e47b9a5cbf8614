// Package ui is Parley's interactive chat: a Bubble Tea program whose root
// model routes messages to panes (one conversation each: transcript,
// stream, reasoning and status), the prompt editor, the status bar and the
// help overlay. Markdown is rendered on a frame clock, never in View.
package ui

import (
	"context"
	"errors"
	"io"
	"os"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/term"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
)

// Options configures the chat.
type Options struct {
	// Panes are the conversations on screen, the first focused; at least
	// one. Two to six panes are a comparison: the same prompts go to
	// every pane, shown side by side as columns (see compare.go).
	Panes         []PaneSpec
	Theme         string // "auto" | "dark" | "light" | "ascii"; NO_COLOR forces ascii
	InitialPrompt string // sent at once when non-empty
	HideReasoning bool
	// Mouse turns mouse reporting on: the wheel scrolls through mouse
	// events and ↑/↓ recall prompts, but selecting text needs Shift in
	// most terminals. Off (the default), a plain drag selects and the
	// wheel scrolls through the terminal's alternate scroll mode, as ↑/↓.
	Mouse bool
	// MaxWidth caps the width answers are rendered at, in columns; 0
	// means the pane's width.
	MaxWidth int
	// Unconfigured says no configuration file was found: the welcome
	// then says how to write one (parley config init).
	Unconfigured bool

	noWelcome bool // tests: no welcome in the empty transcript
	// ImageDir is the folder /image saves into; empty means
	// $XDG_PICTURES_DIR/parley, else ~/Pictures/parley when ~/Pictures
	// exists, else the current directory (see imagefile.DefaultDir).
	ImageDir string
	// Tools are the tools the chat offers and the rules for running
	// them; nil offers none (tool calls are only shown).
	Tools *ToolOptions
	// Columns resolves a column that /compare names (a model,
	// provider:model, model{settings} or a preset) into a pane. It is
	// called off the Update goroutine and may block; nil disables
	// /compare.
	Columns func(ctx context.Context, spec string) (PaneSpec, error)
	// Input and Output default to the terminal; tests may set them.
	Input  io.Reader
	Output io.Writer
	// History are earlier prompts, oldest first, for ↑ to recall;
	// Remember, when set, is told of each prompt added to the history (it
	// must be cheap: it runs on the chat's goroutine).
	History  []string
	Remember func(prompt string)
	// Sessions are the saved conversations (/export, /title); nil when
	// conversations are not saved.
	Sessions Sessions
	// Blind shows a comparison's columns as model A, B, … in a random
	// order until the user picks a winner (see compare_results.go).
	Blind bool
	// Picks saves a blind comparison's pick for the leaderboard; it is
	// called off the Update goroutine. Nil: picks are not saved.
	Picks func(session.Pick) error
	// ColumnObservers gives each column of a comparison (those it opens
	// with, those /compare and /fuse add) the observers of its chat (a
	// recorder), besides the spec's own; it is called on the Update
	// goroutine. For the conversation /compare puts in the first column
	// (Adopted) its observers are already watching: what it returns is
	// not added. Nil adds none.
	ColumnObservers func(ColumnRef) []session.Observer
	// Replay, when set, plays a saved conversation instead of chatting:
	// the first pane's provider must be its Player's.
	Replay *Replay
}

// ColumnRef names a column of a comparison on screen.
type ColumnRef struct {
	Comparison string // the comparison's ID (session.Compare.ID)
	Position   int    // the column, from 0, in the order it was added
	Spec       PaneSpec
	// Adopted says the column is the conversation that was on screen
	// when /compare opened the comparison beside it.
	Adopted bool
}

// PaneSpec is one conversation on screen: the gateway it talks to and the
// request settings it starts with.
type PaneSpec struct {
	// Label names the pane's column in a comparison; empty means its
	// model.
	Label        string
	Provider     provider.Provider
	ProviderName string           // profile name for the status bar
	Settings     session.Settings // model, system, sampling, reasoning, tools
	Models       []string         // known models for /model completion (may be empty)
	// Resume is a saved conversation the pane carries on with: its chat
	// is restored from it and its transcript shows it. Nil starts empty.
	Resume *session.Saved
	// Observers watch the pane's chat from the start (a store records
	// it).
	Observers []session.Observer
}

// Run runs the chat until the user quits or ctx is cancelled. Streams still
// in flight are cancelled on the way out. Bubble Tea's own signal handler
// is off: the caller owns signals and cancels ctx, which ends the chat with
// the terminal restored (alternate screen off, mouse reporting off, cursor
// shown). If the program has not wound down killGrace after ctx ended (an
// update stuck in a long computation), Run restores the terminal itself and
// returns, leaving the program's goroutine behind for the process to end.
func Run(ctx context.Context, opts Options) error {
	var prog *tea.Program
	m, err := newModel(ctx, opts, func(msg tea.Msg) { prog.Send(msg) })
	if err != nil {
		return err
	}
	// With its own handler Bubble Tea takes SIGINT and SIGTERM as well,
	// and its shutdown waits for that handler's goroutine, which can be
	// blocked for good sending a message nobody reads any more.
	popts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithoutSignalHandler()}
	if opts.Input != nil {
		popts = append(popts, tea.WithInput(opts.Input))
	}
	if opts.Output != nil {
		popts = append(popts, tea.WithOutput(opts.Output))
	}
	prog = tea.NewProgram(m, popts...)
	saved := saveTerminal(opts)
	done := make(chan error, 1)
	go func() {
		_, err := prog.Run()
		done <- err
	}()
	select {
	case err = <-done:
	case <-ctx.Done():
		select {
		case err = <-done:
		case <-time.After(killGrace):
			// Kill skips the final render but still restores the terminal,
			// unless what blocks the program blocks its shutdown too.
			go prog.Kill()
			select {
			case err = <-done:
			case <-time.After(killGrace / 2):
				saved.restore()
				return nil
			}
		}
	}
	// The program has ended (its goroutine returned): its model is safe
	// to read here.
	m.term.restore(saved.out)
	m.shutdown()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil
	}
	return err
}

// killGrace is how long a cancelled chat may take to close by itself.
const killGrace = 400 * time.Millisecond

// savedTerminal is what Run needs to restore the terminal without Bubble
// Tea's help: the tty's mode from before the chat and the output stream.
type savedTerminal struct {
	fd    uintptr
	state *term.State
	out   io.Writer
}

func saveTerminal(opts Options) savedTerminal {
	s := savedTerminal{out: opts.Output}
	if s.out == nil {
		s.out = os.Stdout
	}
	if opts.Input == nil && term.IsTerminal(os.Stdin.Fd()) {
		if st, err := term.GetState(os.Stdin.Fd()); err == nil {
			s.fd, s.state = os.Stdin.Fd(), st
		}
	}
	return s
}

// restore leaves the alternate screen and undoes the modes the chat sets
// (mouse reporting, focus events, bracketed paste, keyboard enhancements,
// hidden cursor), then puts the tty back in the mode it had.
func (s savedTerminal) restore() {
	_, _ = io.WriteString(s.out, ansi.ResetModeMouseButtonEvent+ansi.ResetModeMouseAnyEvent+ansi.ResetModeMouseNormal+
		ansi.ResetModeMouseExtSgr+ansi.ResetModeFocusEvent+ansi.ResetModeBracketedPaste+ansi.ResetModifyOtherKeys+
		ansi.PopKittyKeyboard(1)+ansi.ResetModeAltScreenSaveCursor+ansi.ShowCursor)
	if s.state != nil {
		_ = term.Restore(s.fd, s.state)
	}
}

// Package ui is Parley's interactive chat: a Bubble Tea program whose root
// model routes messages to panes (one conversation each: transcript,
// stream, reasoning and status), the prompt editor, the status bar and the
// help overlay. Markdown is rendered on a frame clock, never in View.
package ui

import (
	"context"
	"errors"
	"io"

	tea "charm.land/bubbletea/v2"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
)

// Options configures the chat.
type Options struct {
	// Panes are the conversations on screen, side by side, the first
	// focused; at least one.
	Panes         []PaneSpec
	Theme         string // "auto" | "dark" | "light" | "ascii"; NO_COLOR forces ascii
	InitialPrompt string // sent at once when non-empty
	HideReasoning bool
	// ImageDir is the folder /image saves into; empty means
	// $XDG_PICTURES_DIR/parley, else ~/Pictures/parley when ~/Pictures
	// exists, else the current directory (see imagefile.DefaultDir).
	ImageDir string
	// Input and Output default to the terminal; tests may set them.
	Input  io.Reader
	Output io.Writer
}

// PaneSpec is one conversation on screen: the gateway it talks to and the
// request settings it starts with.
type PaneSpec struct {
	Provider     provider.Provider
	ProviderName string           // profile name for the status bar
	Settings     session.Settings // model, system, sampling, reasoning, tools
	Models       []string         // known models for /model completion (may be empty)
}

// Run runs the chat until the user quits or ctx is cancelled. Streams still
// in flight are cancelled on the way out.
func Run(ctx context.Context, opts Options) error {
	var prog *tea.Program
	m, err := newModel(ctx, opts, func(msg tea.Msg) { prog.Send(msg) })
	if err != nil {
		return err
	}
	popts := []tea.ProgramOption{tea.WithContext(ctx)}
	if opts.Input != nil {
		popts = append(popts, tea.WithInput(opts.Input))
	}
	if opts.Output != nil {
		popts = append(popts, tea.WithOutput(opts.Output))
	}
	prog = tea.NewProgram(m, popts...)
	_, err = prog.Run()
	m.shutdown()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil
	}
	return err
}

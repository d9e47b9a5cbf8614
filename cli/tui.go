package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/parley-chat/parley/store"
	"github.com/parley-chat/parley/ui"
)

// runTUI opens the chat screen; a PROMPT given as arguments is sent at once.
func (a *app) runTUI(cmd *cobra.Command, args []string) error {
	for _, fl := range []string{"output", "show-reasoning"} {
		if cmd.Flags().Changed(fl) {
			return usageErrorf("--%s applies to print mode only: add -p", fl)
		}
	}
	if a.env.Stdout == os.Stdout && !a.env.StdoutIsTerminal {
		return usageErrorf("the chat needs a terminal on stdout; for scripts use print mode: parley -p PROMPT")
	}
	rs, err := a.loadResumed(cmd.Context())
	if err != nil {
		return err
	}
	defer rs.close(a)
	t, err := a.resolve(cmd.Context(), cmd, true)
	if err != nil {
		return err
	}
	defer t.close()
	rs.start(a, t, store.OriginChat)
	ts, err := a.setUpTools(t)
	if err != nil {
		return err
	}
	defer ts.close()
	opts := ui.Options{
		Tools:         ts.uiOptions(),
		Panes:         []ui.PaneSpec{{Provider: t.provider, ProviderName: t.name, Settings: t.settings, Models: t.models}},
		Theme:         t.theme,
		InitialPrompt: strings.TrimSpace(strings.Join(args, " ")),
		HideReasoning: a.f.hideReasoning,
		Mouse:         t.mouse,
		MaxWidth:      t.maxWidth,
		Unconfigured:  !t.configured,
	}
	rs.chatOptions(cmd.Context(), &opts, t.name)
	if cols, err := a.newColumns(cmd, t.demo); err == nil {
		cols.adopt(t)
		opts.Columns = cols.paneResolver()
	}
	// Once the terminal is restored: write what is left to save, then say
	// how to come back to the conversation.
	return a.runScreen(cmd, opts, func() {
		rs.close(a)
		if id := rs.lastID(); id != "" {
			fmt.Fprintln(a.env.Stdout, resumeHint(id))
		}
	})
}

// runScreen runs the chat screen until the user quits, then calls
// restored (when not nil) with the terminal restored.
func (a *app) runScreen(cmd *cobra.Command, opts ui.Options, restored func()) error {
	// The real terminal is the UI's default; only substitutes are passed.
	if a.env.Stdin != os.Stdin {
		opts.Input = a.env.Stdin
	}
	if a.env.Stdout != os.Stdout {
		opts.Output = a.env.Stdout
	}
	err := ui.Run(cmd.Context(), opts)
	if restored != nil {
		restored()
	}
	if cmd.Context().Err() != nil {
		// Stopped by SIGINT/SIGTERM from outside (inside the chat, Ctrl+C
		// is a key, not a signal).
		return &exitError{code: ExitInterrupted, err: errors.New("interrupted")}
	}
	if err != nil {
		return failure(err)
	}
	return nil
}

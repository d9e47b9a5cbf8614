package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/parley-chat/parley/sanitize"
	"github.com/parley-chat/parley/store"
)

// sessionsCommand is "parley sessions": the saved conversations, listed
// by default, with subcommands to search, show, export, import, remove
// and rename them.
func (a *app) sessionsCommand() *cobra.Command {
	var lo listOptions
	cmd := &cobra.Command{
		Use:     "sessions",
		Aliases: []string{"session"},
		Short:   "List, search, show, export and import saved conversations",
		Long: `Parley saves every conversation (chat and print mode) as it happens, in
$XDG_DATA_HOME/parley (~/.local/share/parley). "parley sessions" lists them, the
most recently used first; the subcommands search, show, export, import, remove
and rename them. Wherever an ID is asked for, a unique start of it is enough.
A comparison (parley compare, /compare) is one entry with its columns: its ID
shows, exports, renames and removes them all; each column is a conversation of
its own, which -c continues.

  parley -c ID               continue a conversation (in the chat, or with -p)
  parley -C                  continue the latest one

Add --no-save (or put save = false in the config) to keep a conversation out.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 { // not one of the subcommands
				return needsSubcommand("COMMAND")(cmd, args)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return a.listSessions(cmd.Context(), lo) },
	}
	lo.register(cmd)
	list := &cobra.Command{
		Use:   "list",
		Short: "List the saved conversations, the most recently used first",
		Long: `List the saved conversations, the most recently used first: ID, last use, number of
messages, model and title. --output json writes an array of objects with the fields
id, title, model, created, updated, provider, dialect, origin, messages, answers and
status. A comparison is one entry whose model reads "compare: A vs B" and whose
columns field lists its columns' conversations (with their position and label).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.listSessions(cmd.Context(), lo) },
	}
	lo.register(list)
	cmd.AddCommand(list, a.searchCommand(), a.showCommand(), a.exportCommand(), a.importCommand(),
		a.removeCommand(), a.renameCommand())
	for _, c := range cmd.Commands() {
		c.SilenceErrors, c.SilenceUsage = true, true
		c.Flags().SortFlags = false
	}
	return cmd
}

// completeConversation offers the saved conversations' IDs, the most
// recently used first, each described by its title.
func (a *app) completeConversation(_ *cobra.Command, _ []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	dir, err := a.dataDir()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	if _, err := os.Stat(filepath.Join(dir, store.FileName)); err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp // nothing saved: create nothing
	}
	st, err := a.openStore()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer st.Close()
	list, err := st.List(context.Background(), 200)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, c := range list {
		if strings.HasPrefix(c.ID, prefix) {
			out = append(out, cobra.CompletionWithDesc(c.ID, sanitize.Line(c.Title)))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeFirstID completes a command's first argument, an ID.
func (a *app) completeFirstID(cmd *cobra.Command, args []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return a.completeConversation(cmd, args, prefix)
}

// oneID is the argument check of a command that takes one conversation
// ID.
func oneID(example string) cobra.PositionalArgs { return oneArg("ID", example) }

// oneArg requires exactly one argument, called name in the messages.
func oneArg(name, example string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > 1 {
			return usageErrorf("%s takes one %s, but was given %q — e.g. %s", subName(cmd), name, strings.Join(args, " "), example)
		}
		return needsArg(name, example)(cmd, args)
	}
}

// listOptions are the flags of the listing commands.
type listOptions struct {
	output string
	limit  int
}

func (o *listOptions) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.output, "output", "text", "output format: text or json")
	cmd.Flags().IntVar(&o.limit, "limit", 0, "show at most `N` (0: all)")
}

func (o *listOptions) check() error {
	if o.output != "text" && o.output != "json" {
		return usageErrorf("--output must be text or json, not %q", o.output)
	}
	if o.limit < 0 {
		return usageErrorf("--limit must not be negative")
	}
	return nil
}

// withStore runs fn with the saved conversations open.
func (a *app) withStore(ctx context.Context, fn func(st *store.Store) error) error {
	st, err := a.openStore()
	if err != nil {
		return failure(fmt.Errorf("cannot open the saved conversations: %w", err))
	}
	defer st.Close()
	if err := fn(st); err != nil {
		return storeError(err)
	}
	return nil
}

// withConversation runs fn with the saved conversations open and the
// full ID of the conversation prefix names.
func (a *app) withConversation(ctx context.Context, prefix string, fn func(st *store.Store, id string) error) error {
	return a.withStore(ctx, func(st *store.Store) error {
		id, err := st.Resolve(ctx, prefix)
		if err != nil {
			return err
		}
		return fn(st, id)
	})
}

// clean makes text from a saved conversation safe for the output: on a
// terminal, one line without escapes or controls.
func (a *app) clean(s string) string {
	if a.env.StdoutIsTerminal {
		return sanitize.Line(s)
	}
	return strings.Join(strings.Fields(s), " ")
}

func (a *app) listSessions(ctx context.Context, o listOptions) error {
	if err := o.check(); err != nil {
		return err
	}
	return a.withStore(ctx, func(st *store.Store) error {
		list, err := st.List(ctx, o.limit)
		if err != nil {
			return err
		}
		if o.output == "json" {
			if list == nil {
				list = []store.Summary{}
			}
			return writeJSON(a.env.Stdout, list)
		}
		if len(list) == 0 {
			fmt.Fprintln(a.env.Stdout, "No saved conversations yet.")
			return nil
		}
		ids := make([]string, len(list))
		for i, s := range list {
			ids[i] = s.ID
		}
		short := shortIDs(ids)
		tw := tabwriter.NewWriter(a.env.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUPDATED\tMSGS\tMODEL\tTITLE")
		for i, s := range list {
			title := a.clean(s.Title)
			if s.IsComparison() {
				title += fmt.Sprintf("  (%d columns)", len(s.Columns))
			}
			if s.Status != "" && s.Status != store.StatusDone {
				title += "  (" + string(s.Status) + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", short[i], s.Updated.Local().Format("2006-01-02 15:04"), s.Messages,
				a.clean(s.Model), title)
		}
		return tw.Flush()
	})
}

// shortIDs shortens IDs to their first 8 characters, or more where that
// is needed to tell them apart.
func shortIDs(ids []string) []string {
	n := 8
	for {
		seen := map[string]bool{}
		unique := true
		for _, id := range ids {
			p := id[:min(n, len(id))]
			if seen[p] {
				unique = false
				break
			}
			seen[p] = true
		}
		if unique {
			break
		}
		n++
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id[:min(n, len(id))]
	}
	return out
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// searchHit is one search result in JSON.
type searchHit struct {
	ID      string    `json:"id"`
	Title   string    `json:"title"`
	Model   string    `json:"model"`
	Updated time.Time `json:"updated"`
	Message int       `json:"message"`
	Role    string    `json:"role"`
	Snippet string    `json:"snippet"`
	// Highlighted is the snippet with each match between ** and **.
	Highlighted string `json:"highlighted"`
	// Comparison is the comparison the conversation is a column of.
	Comparison string `json:"comparison,omitempty"`
}

func (a *app) searchCommand() *cobra.Command {
	var lo listOptions
	cmd := &cobra.Command{
		Use:   "search QUERY",
		Short: "Search every saved message",
		Long: `Search every saved message for all the words of QUERY (case and accents do not
matter: naive finds naïve). "A quoted phrase" must appear as written; a word ending
in * matches the words it begins. Each hit names its conversation's ID and shows the
text around the match, the matched words highlighted. --output json writes an array
of objects with the fields id, title, model, updated, message (its position in the
conversation), role, snippet and highlighted (the snippet with **matches**), and
comparison: the ID of the comparison a column's conversation belongs to.`,
		Args: needsArg("QUERY", "parley sessions search goroutine leak"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := lo.check(); err != nil {
				return err
			}
			ctx := cmd.Context()
			return a.withStore(ctx, func(st *store.Store) error {
				hits, err := st.Search(ctx, strings.Join(args, " "), lo.limit)
				if err != nil {
					return usageErrorf("%v", err)
				}
				if lo.output == "json" {
					out := make([]searchHit, 0, len(hits))
					for _, h := range hits {
						out = append(out, searchHit{ID: h.Conversation.ID, Title: h.Conversation.Title, Model: h.Conversation.Model,
							Updated: h.Conversation.Updated, Message: h.Message, Role: string(h.Role), Snippet: h.Snippet,
							Highlighted: highlight(h, "**", "**"), Comparison: h.Conversation.Comparison})
					}
					return writeJSON(a.env.Stdout, out)
				}
				if len(hits) == 0 {
					fmt.Fprintln(a.env.Stdout, "No match.")
					return nil
				}
				open, closing := "**", "**"
				if a.env.StdoutIsTerminal && a.env.Getenv("NO_COLOR") == "" {
					open, closing = "\x1b[1;7m", "\x1b[22;27m"
				}
				for _, h := range hits {
					c := h.Conversation
					fmt.Fprintf(a.env.Stdout, "%s  %s  (%s, message %d)\n", c.ID, a.clean(c.Title), h.Role, h.Message+1)
					fmt.Fprintf(a.env.Stdout, "    %s\n", a.highlightClean(h, open, closing))
				}
				return nil
			})
		},
	}
	lo.register(cmd)
	return cmd
}

// highlight is a hit's snippet with its matches between open and closing.
func highlight(h store.Hit, open, closing string) string {
	var b strings.Builder
	pos := 0
	for _, m := range h.Marks {
		b.WriteString(h.Snippet[pos:m[0]])
		b.WriteString(open + h.Snippet[m[0]:m[1]] + closing)
		pos = m[1]
	}
	b.WriteString(h.Snippet[pos:])
	return b.String()
}

// highlightClean is highlight with every piece of text cleaned for the
// output first, so the markers are the only escapes.
func (a *app) highlightClean(h store.Hit, open, closing string) string {
	var b strings.Builder
	pos := 0
	for _, m := range h.Marks {
		b.WriteString(a.clean(" " + h.Snippet[pos:m[0]] + " ")[1:])
		b.WriteString(open + a.clean(h.Snippet[m[0]:m[1]]) + closing)
		pos = m[1]
	}
	b.WriteString(a.clean(" " + h.Snippet[pos:]))
	return strings.TrimSpace(b.String())
}

func (a *app) showCommand() *cobra.Command {
	return &cobra.Command{
		Use:               "show ID",
		ValidArgsFunction: a.completeFirstID,
		Short:             "Show a saved conversation",
		Long: `Show a saved conversation: its prompts and answers, rendered as markdown on a
terminal and as plain text otherwise. The ID of a comparison shows every column,
one after another, each under a header naming it.`,
		Args: oneID("parley sessions show 5f0c"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return a.withConversation(ctx, args[0], func(st *store.Store, id string) error {
				if ok, err := st.IsComparison(ctx, id); err != nil || ok {
					if err != nil {
						return err
					}
					cmp, err := st.LoadComparison(ctx, id, store.LoadOptions{})
					if err != nil {
						return err
					}
					return a.showComparison(cmp)
				}
				c, err := st.Load(ctx, id, store.LoadOptions{})
				if err != nil {
					return err
				}
				return a.showConversation(c)
			})
		},
	}
}

func (a *app) exportCommand() *cobra.Command {
	var format, out string
	cmd := &cobra.Command{
		Use:               "export ID",
		ValidArgsFunction: a.completeFirstID,
		Short:             "Export a saved conversation as markdown or JSON",
		Long: `Export a saved conversation. --format md (the default) writes markdown that reads
well on GitHub and in an editor: front matter with the title, ID, date, models and
tokens, a heading per prompt and answer, reasoning and tool calls folded. --format json
writes everything Parley saved, each answer's event timeline included: parley sessions
import reads it back. -o FILE writes to a file (readable by you alone) instead of
stdout; a FILE ending in .json implies --format json.`,
		Args: oneID("parley sessions export 5f0c -o notes.md"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("format") && strings.EqualFold(filepath.Ext(out), ".json") {
				format = "json"
			}
			if format != "md" && format != "markdown" && format != "json" {
				return usageErrorf("--format must be md or json, not %q", format)
			}
			ctx := cmd.Context()
			return a.withConversation(ctx, args[0], func(st *store.Store, id string) error {
				if out == "" || out == "-" {
					if !a.env.StdoutIsTerminal {
						return exportTo(ctx, st, id, format, a.env.Stdout)
					}
					// On a terminal, text from the network must not drive it.
					var b strings.Builder
					if err := exportTo(ctx, st, id, format, &b); err != nil {
						return err
					}
					_, err := io.WriteString(a.env.Stdout, sanitize.Text(b.String()))
					return err
				}
				return writeFilePrivate(out, func(w io.Writer) error { return exportTo(ctx, st, id, format, w) })
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "md", "md or json")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to `FILE` instead of stdout")
	return cmd
}

// exportTo writes conversation id in format to w.
func exportTo(ctx context.Context, st *store.Store, id, format string, w io.Writer) error {
	if format == "json" {
		return st.ExportJSON(ctx, id, w)
	}
	return st.ExportMarkdown(ctx, id, w)
}

// writeFilePrivate writes a file readable by its owner alone: into a
// temporary file beside it, renamed over it once complete.
func writeFilePrivate(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func (a *app) importCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE",
		Short: "Import a conversation exported as JSON",
		Long: `Import a conversation written by parley sessions export --format json (FILE, or -
for stdin). It keeps its ID; a conversation with that ID must not be saved already.`,
		Args: oneArg("FILE", "parley sessions import conversation.json"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var r io.Reader = a.env.Stdin
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return usageErrorf("%v", err)
				}
				defer f.Close()
				r = f
			}
			ctx := cmd.Context()
			return a.withStore(ctx, func(st *store.Store) error {
				id, err := st.Import(ctx, r)
				if err != nil {
					return usageErrorf("%s: %v", args[0], err)
				}
				fmt.Fprintf(a.env.Stdout, "imported %s\n", id)
				return nil
			})
		},
	}
}

func (a *app) removeCommand() *cobra.Command {
	return &cobra.Command{
		Use:               "rm ID...",
		ValidArgsFunction: a.completeConversation,
		Aliases:           []string{"remove", "delete"},
		Short:             "Delete saved conversations",
		Args:              needsArg("ID", "parley sessions rm 5f0c"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return a.withStore(ctx, func(st *store.Store) error {
				// Resolve every ID first, so a typo deletes nothing.
				ids := make([]string, len(args))
				for i, arg := range args {
					id, err := st.Resolve(ctx, arg)
					if err != nil {
						return err
					}
					ids[i] = id
				}
				for _, id := range ids {
					if err := st.Delete(ctx, id); err != nil {
						return err
					}
					fmt.Fprintf(a.env.Stdout, "deleted %s\n", id)
				}
				return nil
			})
		},
	}
}

func (a *app) renameCommand() *cobra.Command {
	return &cobra.Command{
		Use:               "rename ID TITLE",
		ValidArgsFunction: a.completeFirstID,
		Short:             "Give a saved conversation a new title",
		Args: func(cmd *cobra.Command, args []string) error {
			if err := needsArg("ID", `parley sessions rename 5f0c "Caching notes"`)(cmd, args); err != nil {
				return err
			}
			return needsArg("TITLE", `parley sessions rename 5f0c "Caching notes"`)(cmd, args[1:])
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return a.withConversation(ctx, args[0], func(st *store.Store, id string) error {
				if err := st.Rename(ctx, id, strings.Join(args[1:], " ")); err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "renamed %s\n", id)
				return nil
			})
		},
	}
}

// compareHint is the line parley compare prints on exit: where the
// comparison was saved.
func compareHint(id string) string {
	return "parley: comparison saved — see it with: parley sessions show " + id
}

// resumeHint is the line the chat prints on exit: how to come back.
func resumeHint(id string) string {
	return "parley: conversation saved — continue it with: parley -c " + id
}

package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/sanitize"
)

// modelsCommand is "parley models": the provider's models as a table or
// as JSON.
func (a *app) modelsCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "models",
		Short: "List the models the provider offers",
		Long: `List the models the provider offers (GET {base}/models on every dialect), sorted
by ID, the configured default marked. The table has a NAME column when the
gateway gives models display names (native REST gateways do).

With --output json it prints a JSON array of objects: "id", and "name",
"owned_by" and "created" (Unix seconds) when the gateway reports them.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "text" && output != "json" {
				return usageErrorf("--output must be table or json, not %q", output)
			}
			t, err := a.resolve(cmd.Context(), cmd, false)
			if err != nil {
				return err
			}
			defer t.close()
			lister, ok := t.provider.(provider.ModelLister)
			if !ok {
				return usageErrorf("provider %s speaks the %s dialect, which cannot list models", t.name, t.dialect)
			}
			models, err := lister.Models(cmd.Context())
			if err != nil {
				var ae *provider.APIError
				if errors.As(err, &ae) {
					ae.Redact(a.secret)
				}
				if cmd.Context().Err() != nil {
					return &exitError{code: ExitInterrupted, err: fmt.Errorf("interrupted")}
				}
				return failure(fmt.Errorf("listing models: %w", err))
			}
			sort.SliceStable(models, func(i, j int) bool { return models[i].ID < models[j].ID })
			out := newRedactWriter(a.env.Stdout, a.secret)
			defer out.Flush()
			if output == "json" {
				if models == nil {
					models = []provider.Model{}
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(models)
			}
			clean := func(s string) string {
				if a.env.StdoutIsTerminal {
					return sanitize.Line(s)
				}
				return s
			}
			named := slices.ContainsFunc(models, func(m provider.Model) bool { return m.Name != "" && m.Name != m.ID })
			tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
			if named {
				fmt.Fprintln(tw, "MODEL\tNAME\tOWNED BY\tCREATED")
			} else {
				fmt.Fprintln(tw, "MODEL\tOWNED BY\tCREATED")
			}
			for _, m := range models {
				mark := ""
				if m.ID == t.settings.Model {
					mark = "  (default)"
				}
				created := ""
				if m.Created > 0 {
					created = time.Unix(m.Created, 0).UTC().Format("2006-01-02")
				}
				if named {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s%s\n", clean(m.ID), clean(m.Name), clean(m.OwnedBy), created, mark)
				} else {
					fmt.Fprintf(tw, "%s\t%s\t%s%s\n", clean(m.ID), clean(m.OwnedBy), created, mark)
				}
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&output, "output", "table", "output format: table or json")
	a.completeValues(cmd, "output", fixed("table", "json"))
	return cmd
}

package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/sanitize"
)

// usageCommand is "parley usage": the account usage a native REST
// (cuadra) gateway reports at GET {base}/usage.
func (a *app) usageCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "usage",
		Short: "Show the account's usage (native REST gateways)",
		Long: `Show the usage metrics a native REST gateway (dialect ` + string(provider.DialectCuadra) + `) reports at
GET {base}/usage, as a table of values or, with --output json, as the gateway
sent them.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "text" && output != "json" {
				return usageErrorf("--output must be table or json, not %q", output)
			}
			ctx := cmd.Context()
			t, err := a.resolve(ctx, cmd, false)
			if err != nil {
				return err
			}
			defer t.close()
			p, ok := t.provider.(provider.UsageReporter)
			if !ok {
				return usageErrorf("provider %s speaks the %s dialect, which has no usage endpoint: parley usage needs a native REST gateway (dialect %s)",
					t.name, t.dialect, provider.DialectCuadra)
			}
			rep, err := p.Usage(ctx)
			if err != nil {
				var ae *provider.APIError
				if errors.As(err, &ae) {
					ae.Redact(a.secret)
					if ae.Kind == provider.KindCanceled {
						return &exitError{code: ExitInterrupted, err: fmt.Errorf("interrupted")}
					}
				}
				return failure(fmt.Errorf("reading usage: %w", err))
			}
			out := newRedactWriter(a.env.Stdout, a.secret)
			defer out.Flush()
			if output == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(rep.Raw)
			}
			clean := func(s string) string {
				if a.env.StdoutIsTerminal {
					return sanitize.Line(s)
				}
				return s
			}
			if len(rep.Fields) == 0 {
				fmt.Fprintln(out, "the gateway reported no usage values")
				return nil
			}
			tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "METRIC\tVALUE")
			for _, f := range rep.Fields {
				fmt.Fprintf(tw, "%s\t%s\n", clean(f.Key), clean(f.Value))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&output, "output", "table", "output format: table or json")
	a.completeValues(cmd, "output", fixed("table", "json"))
	return cmd
}

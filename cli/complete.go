package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/internal/demogw"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/themes"
)

// This file completes flag values in the shell (parley completion
// bash|zsh|fish|powershell installs the script; the script runs the
// hidden command "parley __complete ARGS…"). Completion reads only the
// configuration file and never touches the network or runs api_key_cmd.

// printOutputs names print mode's --output formats for the help text.
const printOutputs = "text or jsonl"

func (a *app) providerValues() map[string]cobra.CompletionFunc {
	dialects := make([]string, 0, len(provider.Dialects()))
	for _, d := range provider.Dialects() {
		dialects = append(dialects, string(d))
	}
	return map[string]cobra.CompletionFunc{
		"provider": a.completeProvider,
		"dialect":  fixed(dialects...),
	}
}

func (a *app) modelValues() map[string]cobra.CompletionFunc {
	return map[string]cobra.CompletionFunc{"model": a.completeModel}
}

func (a *app) requestValues() map[string]cobra.CompletionFunc {
	modes := make([]string, 0, len(provider.ToolsModes()))
	for _, m := range provider.ToolsModes() {
		modes = append(modes, string(m))
	}
	return map[string]cobra.CompletionFunc{"tools": fixed(modes...)}
}

func (a *app) chatValues() map[string]cobra.CompletionFunc {
	return map[string]cobra.CompletionFunc{
		"theme":    fixed(themes.Names()...),
		"output":   fixed("text", "jsonl"),
		"continue": a.completeConversation,
	}
}

// compareValues complete the values of parley compare's own flags.
func (a *app) compareValues() map[string]cobra.CompletionFunc {
	return map[string]cobra.CompletionFunc{
		"theme":  fixed(themes.Names()...),
		"output": fixed("text", "jsonl", "json"),
	}
}

// completeValues registers fn as the completion of the values of cmd's
// flag name, when the shell is asking for completions.
func (a *app) completeValues(cmd *cobra.Command, name string, fn cobra.CompletionFunc) {
	if a.completing {
		_ = cmd.RegisterFlagCompletionFunc(name, fn)
	}
}

// fixed completes a flag from a fixed list of values, never with file
// names.
func fixed(values ...string) cobra.CompletionFunc {
	return cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
}

// completeProvider offers the profile names of the configuration file,
// each described by its dialect and base URL.
func (a *app) completeProvider(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	cfg, err := config.Load(a.f.configPath, a.env.Getenv)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, name := range cfg.ProviderNames() {
		p := cfg.Providers[name]
		desc := fmt.Sprintf("%s · %s", p.Dialect, p.BaseURL)
		if name == cfg.DefaultProvider {
			desc += " (default)"
		}
		out = append(out, cobra.CompletionWithDesc(name, desc))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeModel offers the configured models of the provider the other
// flags choose (--demo's models with --demo), the default marked. When
// no provider is chosen and the file has several, it offers the models
// of every profile, each described by its profile's name. It never asks
// the gateway.
func (a *app) completeModel(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	const dir = cobra.ShellCompDirectiveNoFileComp
	if a.f.demo {
		models := demogw.Models()
		return describeModels(models, models[0], "demo"), dir
	}
	cfg, err := config.Load(a.f.configPath, a.env.Getenv)
	if err != nil {
		return nil, dir
	}
	flags := a.givenFlags(cmd)
	flags.Model = nil
	if r, err := config.Resolve(cfg, flags, nil); err == nil {
		return describeModels(r.Profile.Models, r.Model, r.Name), dir
	}
	var out []cobra.Completion
	seen := map[string]bool{}
	for _, name := range cfg.ProviderNames() {
		p := cfg.Providers[name]
		for _, c := range describeModels(p.Models, p.Model(), name) {
			id, _, _ := strings.Cut(c, "\t")
			if !seen[id] {
				seen[id] = true
				out = append(out, c)
			}
		}
	}
	return out, dir
}

// describeModels lists models (and def, when it is not among them) as
// completions described by the profile's name, def marked as the default.
func describeModels(models []string, def, profile string) []cobra.Completion {
	all := slices.Clone(models)
	if def != "" && !slices.Contains(all, def) {
		all = append([]string{def}, all...)
	}
	out := make([]cobra.Completion, 0, len(all))
	for _, m := range all {
		desc := profile
		if m == def {
			desc += " (default)"
		}
		out = append(out, cobra.CompletionWithDesc(m, desc))
	}
	return out
}

// dialectList names the dialects for help texts: "openai, cuadra or
// gemini".
func dialectList() string { return orList(provider.Dialects()) }

// toolsList names the tools modes for help texts.
func toolsList() string { return orList(provider.ToolsModes()) }

// themeList names the themes for help texts.
func themeList() string { return orList(themes.Names()) }

// orList writes names as "a, b or c".
func orList[S ~string](names []S) string { return joinList(names, "or") }

// joinList writes names as "a, b " + last + " c".
func joinList[S ~string](names []S, last string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return string(names[0])
	}
	parts := make([]string, len(names)-1)
	for i, n := range names[:len(names)-1] {
		parts[i] = string(n)
	}
	return strings.Join(parts, ", ") + " " + last + " " + string(names[len(names)-1])
}

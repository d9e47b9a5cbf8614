package cli

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/parley-chat/parley/config"
)

// flagGroup is a named set of flags that several commands share. Each
// command registers only the groups whose flags it reads (see
// subcommands in cli.go), so its --help lists nothing that does not apply
// to it, each group under its title.
//
// add registers the group's flags, bound to the fields of a.f; values
// completes their values in the shell, by flag name (flags that take a
// free value are left out). Flags only one command has are registered by
// that command's constructor and listed first in its help, under "Flags".
//
// To give a new flag to every command of a group: a field in flags, one
// line in the group's add function and, when its values can be listed,
// one entry in its values function.
type flagGroup struct {
	title  string
	add    func(a *app, f *pflag.FlagSet)
	values func(a *app) map[string]cobra.CompletionFunc
}

// The flag groups. Their order in a command's list is the order of the
// sections in its --help.
var (
	// chatFlags are the flags of the chat screen and of print mode: only
	// the root command reads them.
	chatFlags = flagGroup{"Chat and print mode", (*app).addChatFlags, (*app).chatValues}
	// providerFlags choose the gateway and how patiently it is talked to:
	// every command that talks to a gateway takes them.
	providerFlags = flagGroup{"Provider", (*app).addProviderFlags, (*app).providerValues}
	// modelFlag is -m, for the commands that use a model; its help
	// section is the provider's.
	modelFlag = flagGroup{"Provider", (*app).addModelFlag, (*app).modelValues}
	// requestFlags shape a chat request (system prompt, sampling,
	// reasoning, tools): only commands that send chat requests take them.
	requestFlags = flagGroup{"Request", (*app).addRequestFlags, (*app).requestValues}
)

// groupAnnotation is the pflag annotation that holds the title of a
// flag's group, for the help text.
const groupAnnotation = "parley_group"

// addGroups registers the flags of groups on cmd, each marked with its
// group's title, and, when the shell is asking for completions, the
// completion of their values.
func (a *app) addGroups(cmd *cobra.Command, groups []flagGroup) {
	for _, g := range groups {
		fs := pflag.NewFlagSet(g.title, pflag.ContinueOnError)
		fs.SortFlags = false
		g.add(a, fs)
		fs.VisitAll(func(f *pflag.Flag) {
			_ = fs.SetAnnotation(f.Name, groupAnnotation, []string{g.title})
		})
		cmd.Flags().AddFlagSet(fs)
		if a.completing && g.values != nil {
			for name, fn := range g.values(a) {
				a.completeValues(cmd, name, fn)
			}
		}
	}
}

// addConfigFlag registers --config on f; usage says what the command does
// with the file. The shell completes it with .toml files.
func (a *app) addConfigFlag(f *pflag.FlagSet, usage string) {
	f.StringVar(&a.f.configPath, "config", "", usage)
	_ = cobra.MarkFlagFilename(f, "config", "toml")
}

func (a *app) addProviderFlags(f *pflag.FlagSet) {
	a.addConfigFlag(f, "read configuration from `FILE` instead of $XDG_CONFIG_HOME/parley/config.toml")
	f.StringVar(&a.f.provider, "provider", "", "use the provider profile `NAME` from the config file")
	f.StringVar(&a.f.dialect, "dialect", "", "gateway dialect: "+dialectList())
	f.StringVar(&a.f.baseURL, "base-url", "", "gateway base `URL` including the version segment, e.g. https://host/v1")
	f.BoolVar(&a.f.demo, "demo", false, "use the built-in demo gateway (no key, no network)")
	f.IntVar(&a.f.maxRetries, "max-retries", config.DefaultMaxRetries, "retries after the first attempt (429, 5xx, connection errors)")
	f.DurationVar(&a.f.idleTimeout, "idle-timeout", config.DefaultIdleTimeout, "longest silence tolerated mid-stream")
	f.DurationVar(&a.f.headerTimeout, "header-timeout", 0, "longest wait for the gateway's response headers, per attempt (default 2m30s: a queueing gateway may hold a request)")
}

func (a *app) addModelFlag(f *pflag.FlagSet) {
	f.StringVarP(&a.f.model, "model", "m", "", "model `ID`")
}

func (a *app) addRequestFlags(f *pflag.FlagSet) {
	f.StringVar(&a.f.system, "system", "", "system `PROMPT` (--system \"\" clears the configured one)")
	f.Float64Var(&a.f.temperature, "temperature", 0, "sampling temperature (0-2)")
	f.Float64Var(&a.f.topP, "top-p", 0, "nucleus sampling (0-1)")
	f.IntVar(&a.f.maxTokens, "max-tokens", 0, "maximum tokens in the answer")
	f.StringArrayVar(&a.f.stop, "stop", nil, "stop `SEQUENCE` (repeatable)")
	f.BoolVar(&a.f.reasoning, "reasoning", false, "ask the model to think (where the dialect supports it)")
	f.IntVar(&a.f.reasoningBudget, "reasoning-budget", 0, "reasoning budget in tokens (implies --reasoning)")
	f.StringVar(&a.f.tools, "tools", "", "tool calls: "+toolsList()+" (ask: approve each call; auto: run allow-listed tools, ask about the rest)")
	f.StringVar(&a.f.jsonSchema, "json-schema", "", "ask for answers that are JSON matching the JSON Schema in `FILE`, and check them")
	_ = cobra.MarkFlagFilename(f, "json-schema", "json")
	f.BoolVar(&a.f.uiStream, "ui-stream", false, "cuadra dialect: ask for the Vercel AI SDK UI message stream (ui_stream in the config)")
}

func (a *app) addChatFlags(f *pflag.FlagSet) {
	f.BoolVarP(&a.f.print, "print", "p", false, "print mode: send PROMPT (and/or stdin), print the answer, exit")
	f.StringVar(&a.f.output, "output", "text", "print mode output: "+printOutputs)
	f.BoolVar(&a.f.showReasoning, "show-reasoning", false, "print mode: write the model's reasoning to stderr")
	f.BoolVar(&a.f.raw, "raw", false, "print mode: write the answer's markdown as it comes, not rendered (always so when stdout is not a terminal)")
	f.StringVar(&a.f.theme, "theme", "", "chat theme: "+themeList()+" (ascii: no colours)")
	f.BoolVar(&a.f.hideReasoning, "hide-reasoning", false, "chat: do not show the model's reasoning")
	a.addSaveFlags(f)
}

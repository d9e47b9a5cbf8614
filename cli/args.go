package cli

import (
	"strings"

	"github.com/spf13/cobra"
)

// Argument checks whose errors say in words what is missing or too much,
// with an example, instead of cobra's "accepts 0 arg(s), received 1". The
// error line reads "parley: image: missing PROMPT — e.g. …": the command's
// name after the usual "parley: ".

// noArgs refuses arguments to a command that takes none.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	return usageErrorf("%s takes no arguments, but was given %q (see %s --help)",
		subName(cmd), strings.Join(args, " "), cmd.CommandPath())
}

// needsArg requires at least one argument that is not blank, called name
// in the message, which shows example (a whole command line) when it is
// missing.
func needsArg(name, example string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if strings.TrimSpace(strings.Join(args, "")) != "" {
			return nil
		}
		what := "missing"
		if len(args) > 0 {
			what = "empty"
		}
		return usageErrorf("%s: %s %s — e.g. %s", subName(cmd), what, name, example)
	}
}

// needsSubcommand returns the RunE of a command that only groups
// subcommands: run alone, or with a word that is none of them, it names
// them. noun says what they are ("COMMAND", "SHELL").
func needsSubcommand(noun string) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		var names []string
		for _, sub := range cmd.Commands() {
			if sub.IsAvailableCommand() {
				names = append(names, sub.Name())
			}
		}
		if len(args) == 0 {
			return usageErrorf("%s: missing %s — %s, e.g. %s %s", subName(cmd), noun, orList(names), cmd.CommandPath(), names[0])
		}
		return usageErrorf("%s: unknown %s %q — %s (see %s --help)", subName(cmd), noun, args[0], orList(names), cmd.CommandPath())
	}
}

// subName is a command's path without the program's name: "image",
// "config init".
func subName(cmd *cobra.Command) string {
	return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}

// flagError words a flag parsing error; a flag that other commands take
// (--temperature given to parley models) is named with them.
func flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "unknown flag: --"); ok {
		if takers := commandsTaking(cmd.Root(), name); len(takers) > 0 {
			return usageErrorf("%s does not take --%s (a flag of %s; see %s --help)",
				subName(cmd), name, joinList(takers, "and"), cmd.CommandPath())
		}
	}
	return usageErrorf("%s (see %s --help)", msg, cmd.CommandPath())
}

// commandsTaking lists the paths of the commands under (and including)
// c that have the flag called name.
func commandsTaking(c *cobra.Command, name string) []string {
	var out []string
	if c.Flags().Lookup(name) != nil {
		out = append(out, c.CommandPath())
	}
	for _, sub := range c.Commands() {
		out = append(out, commandsTaking(sub, name)...)
	}
	return out
}

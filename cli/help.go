package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// usage writes the usage part of a command's help: the usage lines, the
// subcommands, then its flags: first the command's own ("Flags"), then one
// section per flag group in the order the command registered them.
func usage(c *cobra.Command) error {
	w := c.OutOrStderr()
	fmt.Fprint(w, "Usage:")
	if c.Runnable() {
		fmt.Fprintf(w, "\n  %s", c.UseLine())
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(w, "\n  %s [command]", c.CommandPath())
	}
	if len(c.Aliases) > 0 {
		fmt.Fprintf(w, "\n\nAliases:\n  %s", c.NameAndAliases())
	}
	if c.HasExample() {
		fmt.Fprintf(w, "\n\nExamples:\n%s", c.Example)
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprint(w, "\n\nCommands:")
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() || sub.Name() == "help" {
				fmt.Fprintf(w, "\n  %-*s %s", sub.NamePadding(), sub.Name(), sub.Short)
			}
		}
	}
	for _, s := range flagSections(c) {
		fmt.Fprintf(w, "\n\n%s:\n%s", s.title, strings.TrimRight(s.flags.FlagUsages(), " \n"))
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(w, "\n\nUse \"%s [command] --help\" for more information about a command.", c.CommandPath())
	}
	fmt.Fprintln(w)
	return nil
}

// flagSection is one titled block of flags in a help text.
type flagSection struct {
	title string
	flags *pflag.FlagSet
}

// flagSections sorts the visible flags of c into sections: its own flags
// ("Flags"), then each flag group's, then flags inherited from a parent.
func flagSections(c *cobra.Command) []flagSection {
	var out []flagSection
	index := map[string]int{}
	section := func(title string) *pflag.FlagSet {
		i, ok := index[title]
		if !ok {
			i = len(out)
			index[title] = i
			fs := pflag.NewFlagSet(title, pflag.ContinueOnError)
			fs.SortFlags = false
			out = append(out, flagSection{title: title, flags: fs})
		}
		return out[i].flags
	}
	add := func(title string, f *pflag.Flag) { section(title).AddFlag(f) }
	section("Flags") // the command's own flags first, whatever order they were registered in
	local := c.LocalFlags()
	local.SortFlags = false
	local.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		title := "Flags"
		if g := f.Annotations[groupAnnotation]; len(g) == 1 {
			title = g[0]
		}
		add(title, f)
	})
	c.InheritedFlags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			add("Global flags", f)
		}
	})
	kept := out[:0]
	for _, s := range out {
		if s.flags.HasFlags() {
			kept = append(kept, s)
		}
	}
	return kept
}

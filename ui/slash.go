package ui

import (
	"sort"
	"strconv"
	"strings"
)

// slashCommand describes one command the input accepts.
type slashCommand struct {
	name string // "/model"
	arg  bool   // takes an argument (completion adds a space)
}

// slashCommands are the commands, in completion order. The help overlay
// describes them in commandHelpRows.
var slashCommands = []slashCommand{
	{"/model", true},
	{"/system", true},
	{"/new", false},
	{"/clear", false},
	{"/retry", false},
	{"/copy", true},
	{"/image", true},
	{"/usage", false},
	{"/schema", true},
	{"/export", true},
	{"/title", true},
	{"/tools", false},
	{"/compare", true},
	{"/pick", true},
	{"/fuse", true},
	{"/sessions", false},
	{"/help", false},
	{"/quit", false},
	{"/exit", false},
}

// commandHelpRows is the command column of the help overlay. Related
// commands share a row so the overlay fits a 24-line terminal; every
// command in slashCommands is named here or in the key rows (/help).
func commandHelpRows(imageDir string) [][2]string {
	return [][2]string{
		{"/model [NAME] · /title T", "list the models · switch to NAME · rename"},
		{"/system [TEXT|clear]", "show · set · clear the system prompt"},
		{"/new /retry /sessions /quit", "new (/clear) · again · saved chats · /exit"},
		{"/copy [N] · /export [F]", "copy code block N or the answer · save as .md"},
		{"/image [-m M] PROMPT", "generate an image into " + imageDir},
		{"/tools · /usage · /schema F", "tools · usage (cuadra) · JSON matching F (off)"},
		{"/compare M… · /pick · /fuse", "compare models · keep column N · merge into K"},
	}
}

// command is a parsed slash command.
type command struct {
	name string // "/model"; empty when the input is not a command
	arg  string
}

// parseCommand recognizes a slash command at the start of the input. A
// line that starts with "//" or "/ " is a normal prompt.
func parseCommand(input string) (command, bool) {
	s := strings.TrimSpace(input)
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || len(s) < 2 || s[1] == ' ' {
		return command{}, false
	}
	name, arg, _ := strings.Cut(s, " ")
	if i := strings.IndexAny(name, "\n\t"); i >= 0 {
		arg = strings.TrimSpace(name[i:] + " " + arg)
		name = name[:i]
	}
	return command{name: strings.ToLower(name), arg: strings.TrimSpace(arg)}, true
}

// parseCopyArg reads /copy's optional block number.
func parseCopyArg(arg string) (int, bool) {
	if arg == "" {
		return 0, true
	}
	n, err := strconv.Atoi(strings.TrimPrefix(arg, "#"))
	if err != nil || n < 1 {
		return 0, false
	}
	return n, true
}

// completions returns the candidates for the input as typed: command names
// while the first word is being typed, model names after "/model ".
func completions(input string, models []string) []string {
	if strings.Contains(input, "\n") || !strings.HasPrefix(input, "/") {
		return nil
	}
	name, arg, hasArg := strings.Cut(input, " ")
	if !hasArg {
		var out []string
		for _, c := range slashCommands {
			if strings.HasPrefix(c.name, strings.ToLower(name)) {
				out = append(out, c.name)
			}
		}
		return out
	}
	if strings.ToLower(name) != "/model" {
		return nil
	}
	var out []string
	for _, m := range models {
		if strings.HasPrefix(strings.ToLower(m), strings.ToLower(arg)) {
			out = append(out, m)
		}
	}
	sort.Strings(out)
	return out
}

// complete returns the input after Tab: the single candidate (plus a space
// for commands that take an argument), or the longest common prefix of
// several. ok is false when nothing changes.
func complete(input string, models []string) (string, bool) {
	cands := completions(input, models)
	if len(cands) == 0 {
		return input, false
	}
	name, _, hasArg := strings.Cut(input, " ")
	prefix := ""
	if hasArg {
		prefix = name + " "
	}
	if len(cands) == 1 {
		out := prefix + cands[0]
		if !hasArg {
			for _, c := range slashCommands {
				if c.name == cands[0] && c.arg {
					out += " "
				}
			}
		}
		return out, out != input
	}
	lcp := cands[0]
	for _, c := range cands[1:] {
		for !strings.HasPrefix(c, lcp) {
			lcp = lcp[:len(lcp)-1]
		}
	}
	out := prefix + lcp
	if len(out) <= len(input) {
		return input, false
	}
	return out, true
}

// systemCommand is /system: without an argument it shows the system
// prompt, "/system clear" clears it, anything else sets it.
func (m *Model) systemCommand(p *Pane, arg string) {
	rc := m.rc(p)
	switch {
	case arg == "":
		if cur := p.chat.Settings().System; cur != "" {
			p.notice("system prompt: "+cur+"  (/system clear clears it)", rc)
		} else {
			p.notice("no system prompt (/system TEXT sets one)", rc)
		}
	case strings.EqualFold(arg, "clear"):
		p.chat.SetSystem("")
		p.notice("system prompt cleared", rc)
	default:
		p.chat.SetSystem(arg)
		p.notice("system prompt set: "+arg, rc)
	}
}

package ui

// welcomeFor is the report an empty transcript opens with: what is on
// the other end, three prompts worth trying (each shows a different side
// of the screen, on the demo gateway as on a real one), the keys that
// matter, and, when no configuration file exists, how to write one.
func welcomeFor(opts Options, p *Pane) *info {
	title := "Welcome to Parley"
	if model := p.chat.Settings().Model; model != "" {
		title += " · " + model
		if name := p.spec.ProviderName; name != "" {
			title += " on " + name
		}
	}
	in := &info{title: title, rows: [][2]string{
		{"try", "Show the HTTP statuses a gateway returns, in a table\n" +
			"Think it through, then show some Python code\n" +
			"What is the weather in Paris?"},
		{"keys", "? help · ctrl+t reasoning · /model switch models · esc stop"},
	}}
	if opts.Unconfigured {
		in.rows = append(in.rows, [2]string{"setup", "no config file yet: parley config init sets up a gateway"})
	}
	return in
}

// addWelcome puts the welcome report at the top of an empty transcript.
// It is laid out once the pane has a size.
func (p *Pane) addWelcome(in *info) {
	p.nextItem++
	p.items = append(p.items, &item{id: p.nextItem, kind: kindInfo, info: in})
}

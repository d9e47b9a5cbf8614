package session

import "github.com/parley-chat/parley/schema"

// SetSchema asks for answers that are JSON matching s from the next
// request on, and checks each finished answer against it; nil asks for
// free text again. An answer already streaming keeps the schema it was
// asked with.
func (c *Chat) SetSchema(s *schema.Schema) {
	c.conv.Settings.Schema = s
	c.changed(ChangeSettings)
}

// checkSchema checks a finished turn's answer against the schema its
// request asked for. Answers that ended in tool calls are steps of the
// tool loop, not the structured answer; answers that failed or were
// interrupted are incomplete. Neither is checked.
func (t *Turn) checkSchema() {
	if t.schema == nil || t.Err != nil || t.Interrupted || len(t.ToolCalls) > 0 {
		return
	}
	t.SchemaCheck = t.schema.Check(t.Text())
}

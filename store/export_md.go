package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
)

// ExportMarkdown writes conversation id as a markdown document that reads
// well on GitHub and in an editor: YAML front matter (title, id, created,
// models, tokens), a heading per prompt and per answer (naming the model
// that answered), reasoning, tool calls and tool results folded in
// <details> blocks, answers replaced by /retry folded too, and every code
// fence intact. The ID of a comparison writes every column under a
// heading of its own (ComparisonMarkdown).
func (s *Store) ExportMarkdown(ctx context.Context, id string, w io.Writer) error {
	if ok, err := s.IsComparison(ctx, id); err != nil || ok {
		if err != nil {
			return err
		}
		cmp, err := s.LoadComparison(ctx, id, LoadOptions{})
		if err != nil {
			return err
		}
		_, err = io.WriteString(w, ComparisonMarkdown(cmp))
		return err
	}
	c, err := s.Load(ctx, id, LoadOptions{})
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, Markdown(c))
	return err
}

// Markdown renders a loaded conversation as ExportMarkdown writes it.
func Markdown(c *Conversation) string {
	var b strings.Builder
	writeFrontMatter(&b, c)
	title := c.Title
	if title == "" {
		title = "Conversation " + c.ID
	}
	fmt.Fprintf(&b, "# %s\n", escapeInline(title))
	writeTranscript(&b, c, "##")
	return b.String()
}

// writeTranscript writes a conversation's system prompt, prompts and
// answers, each prompt and answer under a heading of level h.
func writeTranscript(b *strings.Builder, c *Conversation, h string) {
	if sys := c.Settings.System; sys != "" {
		b.WriteString("\n<details>\n<summary>System prompt</summary>\n\n")
		b.WriteString(foldable(sys))
		b.WriteString("\n</details>\n")
	}
	saved := c.Saved()
	turns := make(map[*session.Turn]*Turn, len(c.Turns))
	for _, t := range c.Turns {
		turns[t.Turn] = t
	}
	for _, e := range saved.Transcript() {
		m := e.Message
		switch {
		case e.Index < 0: // an answer not in the conversation: an error, or one still streaming
			t := turns[e.Turn]
			fmt.Fprintf(b, "\n%s %s\n\n", h, escapeInline(turnModel(t)))
			writeAnswer(b, t.Text(), t)
		case m.Role == provider.RoleUser:
			b.WriteString("\n" + h + " You\n\n")
			writePrompt(b, m.Content)
			for _, r := range e.Replaced {
				t := turns[r]
				fmt.Fprintf(b, "\n<details>\n<summary>Earlier answer, replaced by /retry · %s</summary>\n\n", escapeHTML(turnModel(t)))
				writeAnswer(b, t.Text(), t)
				b.WriteString("\n</details>\n")
			}
		case m.Role == provider.RoleAssistant:
			t := turns[e.Turn]
			fmt.Fprintf(b, "\n%s %s\n\n", h, escapeInline(turnModel(t)))
			writeAnswer(b, m.Content, t)
		case m.Role == provider.RoleTool:
			fmt.Fprintf(b, "\n<details>\n<summary>Tool result: %s</summary>\n\n", escapeHTML(orText(m.Name, m.ToolCallID)))
			b.WriteString(fenced(m.Content, jsonLang(m.Content)))
			b.WriteString("\n</details>\n")
		case m.Role == provider.RoleSystem:
			b.WriteString("\n<details>\n<summary>System</summary>\n\n")
			b.WriteString(foldable(m.Content))
			b.WriteString("\n</details>\n")
		}
	}
}

// turnModel names the model that gave an answer: as the gateway named it,
// else as asked.
func turnModel(t *Turn) string {
	switch {
	case t == nil:
		return "Assistant"
	case t.Turn.Model != "":
		return t.Turn.Model
	case t.Model != "":
		return t.Model
	}
	return "Assistant"
}

func writeFrontMatter(b *strings.Builder, c *Conversation) {
	var models []string
	seen := map[string]bool{}
	var in, out int
	for _, t := range c.Turns {
		if m := turnModel(t); !seen[m] && (t.Turn.Model != "" || t.Model != "") {
			seen[m] = true
			models = append(models, m)
		}
		if t.HasUsage {
			in += t.Usage.InputTokens
			out += t.Usage.OutputTokens
		}
	}
	b.WriteString("---\n")
	fmt.Fprintf(b, "title: %s\n", yamlString(c.Title))
	fmt.Fprintf(b, "id: %s\n", yamlString(c.ID))
	fmt.Fprintf(b, "created: %s\n", c.Created.UTC().Format(time.RFC3339))
	if c.Provider != "" {
		fmt.Fprintf(b, "provider: %s\n", yamlString(c.Provider))
	}
	b.WriteString("models: [")
	for i, m := range models {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(yamlString(m))
	}
	b.WriteString("]\n")
	fmt.Fprintf(b, "tokens:\n  input: %d\n  output: %d\n", in, out)
	b.WriteString("---\n\n")
}

// writeAnswer writes an answer: reasoning folded, the text, tool calls
// folded, then how it ended when that was not normally.
func writeAnswer(b *strings.Builder, text string, t *Turn) {
	if t != nil && t.Reasoning() != "" {
		summary := "Reasoning"
		if d := t.ReasoningDuration(t.End); d >= 100*time.Millisecond {
			summary += fmt.Sprintf(" · %.1f s", d.Seconds())
		}
		fmt.Fprintf(b, "<details>\n<summary>%s</summary>\n\n%s\n</details>\n\n", summary, foldable(t.Reasoning()))
	}
	if text != "" {
		text = closeFences(text)
		b.WriteString(text)
		if !strings.HasSuffix(text, "\n") {
			b.WriteByte('\n')
		}
	}
	if t == nil {
		return
	}
	for _, tc := range t.ToolCalls {
		fmt.Fprintf(b, "\n<details>\n<summary>Tool call: %s</summary>\n\n", escapeHTML(orText(tc.Name, tc.ID)))
		b.WriteString(fenced(prettyJSON(tc.Arguments), jsonLang(tc.Arguments)))
		b.WriteString("\n</details>\n")
	}
	switch {
	case t.Err != nil:
		fmt.Fprintf(b, "\n> **Error:** %s\n", escapeInline(describeError(t.Err)))
	case t.Interrupted:
		b.WriteString("\n> *Interrupted: the answer above is incomplete.*\n")
	case provider.TokenLimited(t.FinishReason):
		b.WriteString("\n> *Cut off at the token limit.*\n")
	}
}

// writePrompt writes a prompt as it was typed when markdown shows it
// faithfully, else in a text fence (a prompt whose lines would turn into
// headings, rules, HTML or code).
func writePrompt(b *strings.Builder, s string) {
	if verbatimSafe(s) {
		b.WriteString(strings.TrimRight(s, "\n"))
		b.WriteByte('\n')
		return
	}
	b.WriteString(fenced(s, "text"))
}

func verbatimSafe(s string) bool {
	for _, line := range strings.Split(s, "\n") {
		trimmed := strings.TrimLeft(line, " ")
		if strings.HasPrefix(line, "\t") || len(line)-len(trimmed) >= 4 {
			return false
		}
		for _, p := range []string{"#", "```", "~~~", "<", "---", "===", "***", "___", "|"} {
			if strings.HasPrefix(trimmed, p) {
				return false
			}
		}
	}
	return true
}

// fenced puts s in a code fence longer than any run of backticks in it,
// so the fence cannot end early.
func fenced(s, lang string) string {
	n := max(longestRun(s, '`')+1, 3)
	fence := strings.Repeat("`", n)
	s = strings.TrimRight(s, "\n")
	return fence + lang + "\n" + s + "\n" + fence + "\n"
}

func longestRun(s string, c byte) int {
	best, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	return best
}

// closeFences closes a code fence left open at the end of an answer (one
// cut short), so the rest of the document is not swallowed by it.
func closeFences(md string) string {
	var open string // the opening fence's marker run, "" when none is open
	for _, line := range strings.Split(md, "\n") {
		trimmed := strings.TrimLeft(line, " ")
		if len(line)-len(trimmed) > 3 || len(trimmed) < 3 || (trimmed[0] != '`' && trimmed[0] != '~') {
			continue
		}
		run := trimmed[:longestPrefix(trimmed, trimmed[0])]
		if len(run) < 3 {
			continue
		}
		switch {
		case open == "":
			if trimmed[0] == '`' && strings.Contains(trimmed[len(run):], "`") {
				continue // not a fence: an inline code span
			}
			open = run
		case run[0] == open[0] && len(run) >= len(open) && strings.TrimSpace(trimmed[len(run):]) == "":
			open = ""
		}
	}
	if open == "" {
		return md
	}
	if !strings.HasSuffix(md, "\n") {
		md += "\n"
	}
	return md + open + "\n"
}

func longestPrefix(s string, c byte) int {
	n := 0
	for n < len(s) && s[n] == c {
		n++
	}
	return n
}

// foldable is markdown that goes inside a <details> block: a literal
// closing tag in it would end the block early, so it is escaped.
func foldable(s string) string {
	s = strings.ReplaceAll(s, "</details", "&lt;/details")
	return closeFences(strings.TrimRight(s, "\n")) + "\n"
}

// prettyJSON indents JSON arguments; anything else is kept as it is.
func prettyJSON(s string) string {
	var out bytes.Buffer
	if json.Indent(&out, []byte(s), "", "  ") != nil {
		return s
	}
	return out.String()
}

func jsonLang(s string) string {
	if json.Valid([]byte(s)) {
		return "json"
	}
	return ""
}

func orText(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// escapeHTML escapes text for an HTML element such as <summary>.
func escapeHTML(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\n", " ").Replace(s)
}

// escapeInline keeps one line of text from being read as markdown or
// HTML in a heading or a quote.
func escapeInline(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.NewReplacer("\\", "\\\\", "<", "&lt;", "*", "\\*", "_", "\\_", "`", "\\`", "[", "\\[", "#", "\\#").Replace(s)
}

// yamlString is s as a double-quoted YAML scalar (JSON's string syntax is
// valid YAML).
func yamlString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// describeError is an answer's error in one line: status, title, message.
func describeError(e *provider.APIError) string {
	var parts []string
	head := e.Title
	if e.Status > 0 {
		head = strings.TrimSpace(fmt.Sprintf("%d %s", e.Status, e.Title))
	}
	for _, p := range []string{head, e.Message} {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return string(e.Kind) + " error"
	}
	return strings.Join(parts, " — ")
}

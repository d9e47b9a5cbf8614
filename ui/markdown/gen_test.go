package markdown

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// genDoc returns a realistic assistant answer of at least size bytes:
// headings (ATX and setext), paragraphs with inline markup, tight, loose and
// nested lists, fenced code in several languages (with blank lines inside),
// tables, blockquotes and rules. The same seed gives the same document.
func genDoc(size int, seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	var b strings.Builder
	words := strings.Fields(`the a request stream token model gateway latency buffer renderer
		terminal width cache retry header context window budget answer provider prompt system
		function value error timeout frame delta block paragraph session message user tool
		result schema config profile reasoning usage limit rate backoff handler writer reader`)
	word := func() string { return words[rng.IntN(len(words))] }
	sentence := func() string {
		n := 6 + rng.IntN(14)
		var s strings.Builder
		for i := range n {
			if i > 0 {
				s.WriteByte(' ')
			}
			w := word()
			switch rng.IntN(14) {
			case 0:
				w = "**" + w + " " + word() + "**"
			case 1:
				w = "*" + w + "*"
			case 2:
				w = "`" + w + "()`"
			case 3:
				w = "[" + w + "](https://example.com/" + word() + ")"
			}
			if i == 0 {
				w = strings.ToUpper(w[:1]) + w[1:]
			}
			s.WriteString(w)
		}
		return s.String() + "."
	}
	para := func() string {
		n := 2 + rng.IntN(4)
		s := make([]string, n)
		for i := range s {
			s[i] = sentence()
		}
		return strings.Join(s, " ")
	}
	codes := []struct{ lang, body string }{
		{"go", "package main\n\nimport (\n\t\"fmt\"\n\t\"strings\"\n)\n\n// Render joins the parts.\nfunc Render(parts []string) string {\n\tvar b strings.Builder\n\tfor i, p := range parts {\n\t\tif i > 0 {\n\t\t\tb.WriteString(\", \")\n\t\t}\n\t\tb.WriteString(p)\n\t}\n\n\treturn b.String()\n}\n\nfunc main() {\n\tfmt.Println(Render([]string{\"a\", \"b\"})) // a very long trailing comment that goes well past any reasonable terminal width to check clipping\n}"},
		{"python", "import asyncio\n\n\nasync def fetch(session, url: str) -> dict:\n    \"\"\"Fetch one URL and decode JSON.\"\"\"\n    async with session.get(url) as resp:\n        resp.raise_for_status()\n        return await resp.json()\n\n\nclass Cache:\n    def __init__(self, size=128):\n        self.size = size\n        self.items = {}\n\n    def get(self, key):\n        return self.items.get(key)"},
		{"javascript", "const retry = async (fn, attempts = 3) => {\n  for (let i = 0; i < attempts; i++) {\n    try {\n      return await fn();\n    } catch (err) {\n      if (i === attempts - 1) throw err;\n      await new Promise((r) => setTimeout(r, 2 ** i * 100));\n    }\n  }\n};\n\nexport default retry;"},
		{"bash", "#!/usr/bin/env bash\nset -euo pipefail\n\nfor f in *.md; do\n  echo \"converting $f\"\n  pandoc \"$f\" -o \"${f%.md}.html\"\ndone"},
		{"json", "{\n  \"model\": \"gpt-4o-mini\",\n  \"stream\": true,\n  \"messages\": [\n    {\"role\": \"user\", \"content\": \"hi\"}\n  ],\n  \"temperature\": 0.2\n}"},
		{"rust", "use std::collections::HashMap;\n\nfn count(words: &[&str]) -> HashMap<&str, usize> {\n    let mut m = HashMap::new();\n    for w in words {\n        *m.entry(*w).or_insert(0) += 1;\n    }\n    m\n}"},
		{"sql", "SELECT m.id, m.role, substr(m.content, 1, 80)\nFROM messages m\nJOIN conversations c ON c.id = m.conversation_id\nWHERE c.title LIKE '%stream%'\nORDER BY m.created_at DESC\nLIMIT 20;"},
		{"", "plain text block\n  with indentation\n\nand a blank line"},
	}
	h := 0
	for b.Len() < size {
		switch k := rng.IntN(20); {
		case k < 2:
			h++
			fmt.Fprintf(&b, "%s %s %s\n\n", strings.Repeat("#", 1+rng.IntN(3)), strings.ToUpper(word()[:1])+word()[1:], word())
		case k == 2:
			t := "Section " + fmt.Sprint(h) + " " + word()
			u := "="
			if rng.IntN(2) == 0 {
				u = "-"
			}
			fmt.Fprintf(&b, "%s\n%s\n\n", t, strings.Repeat(u, len(t)))
		case k < 9:
			b.WriteString(para() + "\n\n")
		case k < 11:
			n := 2 + rng.IntN(5)
			ordered := rng.IntN(2) == 0
			loose := rng.IntN(4) == 0
			for i := range n {
				m := "- "
				if ordered {
					m = fmt.Sprintf("%d. ", i+1)
				}
				b.WriteString(m + sentence() + "\n")
				if rng.IntN(3) == 0 {
					ind := strings.Repeat(" ", len(m))
					for range 1 + rng.IntN(3) {
						b.WriteString(ind + "- " + sentence() + "\n")
					}
				}
				if loose {
					b.WriteString("\n")
				}
			}
			b.WriteString("\n")
		case k < 14:
			c := codes[rng.IntN(len(codes))]
			fmt.Fprintf(&b, "```%s\n%s\n```\n\n", c.lang, c.body)
		case k < 16:
			cols := 2 + rng.IntN(3)
			row := func(f func(int) string) {
				b.WriteString("|")
				for c := range cols {
					b.WriteString(" " + f(c) + " |")
				}
				b.WriteString("\n")
			}
			row(func(c int) string { return strings.ToUpper(word()) })
			row(func(int) string { return "---" })
			for range 2 + rng.IntN(5) {
				row(func(c int) string {
					if c == 0 {
						return "`" + word() + "`"
					}
					return word() + " " + word()
				})
			}
			b.WriteString("\n")
		case k < 18:
			b.WriteString("> " + sentence() + "\n> " + sentence() + "\n\n")
		case k == 18:
			b.WriteString("---\n\n")
		default:
			b.WriteString(sentence() + "\n" + sentence() + "\n\n")
		}
	}
	return b.String()
}

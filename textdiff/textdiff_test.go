package textdiff

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// randomText is n words from a small vocabulary, with varied spacing, so
// that texts share many words in different orders.
func randomText(r *rand.Rand, n int) string {
	vocab := []string{"the", "a", "stream", "event", "server", "sends", "data:", "line", "é", "SSE", "42", "**bold**"}
	spaces := []string{" ", " ", " ", "\n", "  ", "\n\n", "\t"}
	var b strings.Builder
	if r.IntN(4) == 0 {
		b.WriteString(spaces[r.IntN(len(spaces))])
	}
	for i := 0; i < n; i++ {
		b.WriteString(vocab[r.IntN(len(vocab))])
		if i < n-1 || r.IntN(2) == 0 {
			b.WriteString(spaces[r.IntN(len(spaces))])
		}
	}
	return b.String()
}

// mutate changes some words of s: deleted, inserted or replaced.
func mutate(r *rand.Rand, s string, edits int) string {
	ws := strings.Fields(s)
	for i := 0; i < edits && len(ws) > 0; i++ {
		j := r.IntN(len(ws))
		switch r.IntN(3) {
		case 0:
			ws = append(ws[:j], ws[j+1:]...)
		case 1:
			ws = append(ws[:j], append([]string{"inserted"}, ws[j:]...)...)
		default:
			ws[j] = "replaced"
		}
	}
	return strings.Join(ws, " ")
}

// lcs is the length of the longest common subsequence of the tokens'
// keys, by dynamic programming: the reference the search must meet.
func lcs(a, b []token) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			switch {
			case a[i-1].key == b[j-1].key:
				cur[j] = prev[j-1] + 1
			case prev[j] >= cur[j-1]:
				cur[j] = prev[j]
			default:
				cur[j] = cur[j-1]
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func TestDiffReproducesBothTexts(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 500; i++ {
		a := randomText(r, r.IntN(60))
		b := randomText(r, r.IntN(60))
		if i%2 == 0 {
			b = mutate(r, a, r.IntN(8))
		}
		for _, unit := range []Unit{Words, Lines} {
			ops, err := Compare(a, b, unit, DefaultBudget)
			if err != nil {
				t.Fatalf("%q vs %q: %v", a, b, err)
			}
			if Old(ops) != a || New(ops) != b {
				t.Fatalf("%s diff does not reproduce the texts:\n a=%q\n b=%q\n ops=%+v", unit, a, b, ops)
			}
			for j, op := range ops {
				switch {
				case op.Kind == Delete && op.B != "", op.Kind == Insert && op.A != "":
					t.Fatalf("op %d has the wrong side: %+v", j, op)
				case op.Kind == Equal && strings.Join(strings.Fields(op.A), " ") != strings.Join(strings.Fields(op.B), " "):
					t.Fatalf("equal op %d differs in more than spacing: %+v", j, op)
				case j > 0 && ops[j-1].Kind == op.Kind:
					t.Fatalf("ops %d and %d are of one kind: %+v", j-1, j, ops)
				}
			}
		}
	}
}

func TestSearchIsShortest(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 300; i++ {
		a, b := randomText(r, r.IntN(40)), randomText(r, r.IntN(40))
		if i%3 == 0 {
			b = mutate(r, a, r.IntN(6))
		}
		ta, tb := splitWords(a), splitWords(b)
		ops, err := Compare(a, b, Words, Budget{})
		if err != nil {
			t.Fatal(err)
		}
		_ = ops
		d := &differ{budget: 0}
		ids := map[string]int32{}
		for _, ts := range [][]token{ta, tb} {
			for _, tk := range ts {
				if _, ok := ids[tk.key]; !ok {
					ids[tk.key] = int32(len(ids))
				}
			}
		}
		for _, tk := range ta {
			d.a = append(d.a, ids[tk.key])
		}
		for _, tk := range tb {
			d.b = append(d.b, ids[tk.key])
		}
		d.delA, d.insB = make([]bool, len(ta)), make([]bool, len(tb))
		n := len(ta) + len(tb) + 2
		d.vf, d.vb, d.off = make([]int, 2*n+1), make([]int, 2*n+1), n
		if !d.compare(0, len(ta), 0, len(tb)) {
			t.Fatal("no budget, yet over it")
		}
		kept := 0
		for _, del := range d.delA {
			if !del {
				kept++
			}
		}
		if want := lcs(ta, tb); kept != want {
			t.Fatalf("%q vs %q: %d words kept, the longest common subsequence has %d", a, b, kept, want)
		}
	}
}

func TestDiffMarksTheChangedWords(t *testing.T) {
	ops, err := Compare("SSE streams events from the server over HTTP.", "SSE streams text events from a server over HTTP/2.", Words, DefaultBudget)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, op := range ops {
		switch op.Kind {
		case Delete:
			got = append(got, "[-"+strings.TrimSpace(op.A)+"-]")
		case Insert:
			got = append(got, "{+"+strings.TrimSpace(op.B)+"+}")
		default:
			got = append(got, strings.TrimSpace(op.B))
		}
	}
	want := "SSE streams {+text+} events from [-the-] {+a+} server over [-HTTP.-] {+HTTP/2.+}"
	if s := strings.Join(got, " "); s != want {
		t.Fatalf("got  %s\nwant %s", s, want)
	}
	if del, ins := Stats(ops); del != 2 || ins != 3 {
		t.Fatalf("stats: %d deleted, %d inserted", del, ins)
	}
}

func TestSpacingAloneIsNoChange(t *testing.T) {
	ops, err := Compare("one two\nthree", "one  two three\n", Words, DefaultBudget)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 1 || ops[0].Kind != Equal {
		t.Fatalf("ops: %+v", ops)
	}
}

func TestBudget(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	a, b := randomText(r, 3000), randomText(r, 3000)
	if _, err := Compare(a, b, Words, Budget{MaxTokens: 1000}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("3,000 words with a 1,000-word budget: %v", err)
	}
	if _, err := Compare(a, b, Words, Budget{MaxCost: 10_000}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("two different texts with little work allowed: %v", err)
	}
	// Over the word budget, Diff falls back to lines; within it, words.
	lines := strings.Repeat("same line\n", 50) + "one changed line\n"
	res, err := Diff(lines+strings.Repeat("x ", 30), lines+strings.Repeat("y ", 30), Budget{MaxTokens: 100})
	if err != nil || res.Unit != Lines {
		t.Fatalf("fallback: %v, unit %s", err, res.Unit)
	}
	if Old(res.Ops) != lines+strings.Repeat("x ", 30) {
		t.Fatal("the line diff does not reproduce the first text")
	}
	res, err = Diff("a b c", "a c", DefaultBudget)
	if err != nil || res.Unit != Words {
		t.Fatalf("small diff: %v, unit %s", err, res.Unit)
	}
	if _, err := Diff(a, b, Budget{MaxTokens: 10}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("too many words and lines: %v", err)
	}
}

func TestEmptyTexts(t *testing.T) {
	for _, c := range [][2]string{{"", ""}, {"", "new text"}, {"old text", ""}, {"  ", " "}} {
		ops, err := Compare(c[0], c[1], Words, DefaultBudget)
		if err != nil || Old(ops) != c[0] || New(ops) != c[1] {
			t.Fatalf("%q vs %q: %+v, %v", c[0], c[1], ops, err)
		}
	}
}

// BenchmarkTwoAnswers diffs two 2,000-word answers: one a light edit of
// the other (the usual case: one model at two temperatures), and two
// unrelated ones (the worst case within the budget).
func BenchmarkTwoAnswers(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	base := randomText(r, 2000)
	cases := []struct{ name, a, b string }{
		{"similar", base, mutate(r, base, 100)},
		{"different", base, randomText(r, 2000)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Diff(c.a, c.b, DefaultBudget); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

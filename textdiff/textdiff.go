// Package textdiff compares two texts word by word (or line by line) with
// Myers' O(ND) algorithm in its linear-space form, within a budget that
// bounds both the input and the work. Its result always reproduces both
// texts exactly: the A sides of its operations joined give the first text,
// the B sides the second.
package textdiff

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind says whether a piece of text is in both texts, only the first or
// only the second.
type Kind int

// The kinds of operations.
const (
	Equal Kind = iota
	Delete
	Insert
)

// Op is one piece of the comparison. An Equal op holds the same words in
// both texts, each with the spacing it had there (A and B differ only in
// whitespace); a Delete op has only A, an Insert op only B.
type Op struct {
	Kind Kind
	A, B string
}

// Unit is what a diff compares: words or lines.
type Unit int

// The units of a diff.
const (
	Words Unit = iota
	Lines
)

func (u Unit) String() string {
	if u == Lines {
		return "lines"
	}
	return "words"
}

// Result is a diff: its operations in text order and the unit it
// compared.
type Result struct {
	Ops  []Op
	Unit Unit
}

// Budget bounds a diff. MaxTokens caps the words (or lines) of each text;
// MaxCost caps the work, counted in diagonal steps of the search, which
// grows with the texts' length times the number of differences.
type Budget struct {
	MaxTokens int
	MaxCost   int
}

// DefaultBudget suits answers on a screen: texts of up to 20,000 words,
// and about 40 million steps of work (a few hundred milliseconds at
// worst; two entirely different 2,000-word answers take about 8 million).
var DefaultBudget = Budget{MaxTokens: 20000, MaxCost: 40_000_000}

// ErrTooLarge is returned when a diff would go past its budget.
var ErrTooLarge = errors.New("textdiff: the texts are too large or too different to compare within the budget")

// Diff compares a and b word by word; when that goes past the budget it
// compares them line by line, and when that does too it returns
// ErrTooLarge.
func Diff(a, b string, bud Budget) (Result, error) {
	if ops, err := Compare(a, b, Words, bud); err == nil {
		return Result{Ops: ops, Unit: Words}, nil
	}
	ops, err := Compare(a, b, Lines, bud)
	if err != nil {
		return Result{}, err
	}
	return Result{Ops: ops, Unit: Lines}, nil
}

// Compare compares a and b by unit within the budget. Words are runs of
// non-space characters, each carrying the spaces after it, and compare
// by their letters alone; lines carry their newline.
func Compare(a, b string, unit Unit, bud Budget) ([]Op, error) {
	split := splitWords
	if unit == Lines {
		split = splitLines
	}
	ta, tb := split(a), split(b)
	if bud.MaxTokens > 0 && (len(ta) > bud.MaxTokens || len(tb) > bud.MaxTokens) {
		return nil, ErrTooLarge
	}
	ids := map[string]int32{}
	intern := func(ts []token) []int32 {
		out := make([]int32, len(ts))
		for i, t := range ts {
			id, ok := ids[t.key]
			if !ok {
				id = int32(len(ids))
				ids[t.key] = id
			}
			out[i] = id
		}
		return out
	}
	d := &differ{a: intern(ta), b: intern(tb), budget: bud.MaxCost}
	d.delA = make([]bool, len(ta))
	d.insB = make([]bool, len(tb))
	n := len(ta) + len(tb) + 2
	d.vf = make([]int, 2*n+1)
	d.vb = make([]int, 2*n+1)
	d.off = n
	if !d.compare(0, len(ta), 0, len(tb)) {
		return nil, ErrTooLarge
	}
	return cleanup(build(ta, tb, d.delA, d.insB)), nil
}

// token is a word (or line) as it stands in the text, and the key it
// compares by.
type token struct {
	text string
	key  string
}

// splitWords cuts s into words, each with the whitespace after it; the
// whitespace before the first word is a token of its own, keyed so that
// it matches leading whitespace only.
func splitWords(s string) []token {
	var out []token
	i := 0
	if j := skipSpace(s, 0); j > 0 {
		out = append(out, token{text: s[:j], key: "\x00lead"})
		i = j
	}
	for i < len(s) {
		j := i
		for j < len(s) {
			r, n := utf8.DecodeRuneInString(s[j:])
			if unicode.IsSpace(r) {
				break
			}
			j += n
		}
		k := skipSpace(s, j)
		out = append(out, token{text: s[i:k], key: s[i:j]})
		i = k
	}
	return out
}

func skipSpace(s string, i int) int {
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsSpace(r) {
			break
		}
		i += n
	}
	return i
}

// splitLines cuts s into lines, each with its newline; lines compare
// without trailing spaces.
func splitLines(s string) []token {
	var out []token
	for len(s) > 0 {
		i := strings.IndexByte(s, '\n')
		line := s
		if i >= 0 {
			line = s[:i+1]
		}
		out = append(out, token{text: line, key: strings.TrimRightFunc(line, unicode.IsSpace)})
		s = s[len(line):]
	}
	return out
}

// differ finds which tokens of a are deleted and which of b inserted.
type differ struct {
	a, b       []int32
	delA, insB []bool
	vf, vb     []int // furthest x per diagonal, forward and backward, indexed k+off
	off        int
	cost       int
	budget     int
}

// compare marks the differences between a[aLo:aHi] and b[bLo:bHi] and
// reports whether it stayed within the budget.
func (d *differ) compare(aLo, aHi, bLo, bHi int) bool {
	for aLo < aHi && bLo < bHi && d.a[aLo] == d.b[bLo] {
		aLo++
		bLo++
	}
	for aLo < aHi && bLo < bHi && d.a[aHi-1] == d.b[bHi-1] {
		aHi--
		bHi--
	}
	switch {
	case aLo == aHi:
		for j := bLo; j < bHi; j++ {
			d.insB[j] = true
		}
		return true
	case bLo == bHi:
		for i := aLo; i < aHi; i++ {
			d.delA[i] = true
		}
		return true
	}
	x, y, ok := d.middle(aLo, aHi, bLo, bHi)
	if !ok {
		return false
	}
	if (x == aLo && y == bLo) || (x == aHi && y == bHi) {
		// No split that makes progress (it cannot happen on trimmed
		// ranges, but a diff must end): call it all changed.
		for i := aLo; i < aHi; i++ {
			d.delA[i] = true
		}
		for j := bLo; j < bHi; j++ {
			d.insB[j] = true
		}
		return true
	}
	return d.compare(aLo, x, bLo, y) && d.compare(x, aHi, y, bHi)
}

// middle finds a point (x, y) on a shortest edit path from (aLo, bLo) to
// (aHi, bHi), searching from both ends at once until the paths meet.
func (d *differ) middle(aLo, aHi, bLo, bHi int) (int, int, bool) {
	n, m := aHi-aLo, bHi-bLo
	delta := n - m
	odd := delta&1 != 0
	off := d.off
	vf, vb := d.vf, d.vb
	vf[off+1], vb[off+1] = 0, 0
	a, b := d.a[aLo:aHi], d.b[bLo:bHi]
	for D := 0; D <= (n+m+1)/2; D++ {
		d.cost += 2*D + 1
		if d.budget > 0 && d.cost > d.budget {
			return 0, 0, false
		}
		for k := -D; k <= D; k += 2 {
			var x int
			if k == -D || (k != D && vf[off+k-1] < vf[off+k+1]) {
				x = vf[off+k+1]
			} else {
				x = vf[off+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			vf[off+k] = x
			if kb := delta - k; odd && kb >= -(D-1) && kb <= D-1 && x+vb[off+kb] >= n {
				return aLo + x, bLo + y, true
			}
		}
		for k := -D; k <= D; k += 2 {
			var x int
			if k == -D || (k != D && vb[off+k-1] < vb[off+k+1]) {
				x = vb[off+k+1]
			} else {
				x = vb[off+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[n-1-x] == b[m-1-y] {
				x++
				y++
			}
			vb[off+k] = x
			if kf := delta - k; !odd && kf >= -D && kf <= D && x+vf[off+kf] >= n {
				return aLo + n - x, bLo + m - y, true
			}
		}
	}
	return 0, 0, false
}

// build turns the marks into operations: unmarked tokens pair up in
// order as equal; between them, a's marked tokens are deleted and b's
// inserted.
func build(ta, tb []token, delA, insB []bool) []Op {
	var ops []Op
	add := func(k Kind, a, b string) {
		if n := len(ops); n > 0 && ops[n-1].Kind == k {
			ops[n-1].A += a
			ops[n-1].B += b
			return
		}
		ops = append(ops, Op{Kind: k, A: a, B: b})
	}
	i, j := 0, 0
	for i < len(ta) || j < len(tb) {
		switch {
		case i < len(ta) && delA[i]:
			add(Delete, ta[i].text, "")
			i++
		case j < len(tb) && insB[j]:
			add(Insert, "", tb[j].text)
			j++
		case i < len(ta) && j < len(tb):
			add(Equal, ta[i].text, tb[j].text)
			i++
			j++
		case i < len(ta): // unreachable when the marks are consistent
			add(Delete, ta[i].text, "")
			i++
		default:
			add(Insert, "", tb[j].text)
			j++
		}
	}
	return ops
}

// cleanup merges runs of changes split by a single short equal word (an
// article, a comma), so a rewritten sentence reads as one deletion and
// one insertion rather than confetti. The texts are unchanged.
func cleanup(ops []Op) []Op {
	out := make([]Op, 0, len(ops))
	for i := 0; i < len(ops); i++ {
		op := ops[i]
		if op.Kind == Equal && i > 0 && i+1 < len(ops) && ops[i-1].Kind != Equal && ops[i+1].Kind != Equal &&
			len(strings.Fields(op.A)) == 1 && utf8.RuneCountInString(strings.TrimSpace(op.A)) <= 3 {
			out = appendOp(out, Op{Kind: Delete, A: op.A})
			out = appendOp(out, Op{Kind: Insert, B: op.B})
			continue
		}
		out = appendOp(out, op)
	}
	// Put each change's deletion before its insertion.
	for i := 0; i+1 < len(out); i++ {
		if out[i].Kind == Insert && out[i+1].Kind == Delete {
			out[i], out[i+1] = out[i+1], out[i]
		}
	}
	return mergeAdjacent(out)
}

// appendOp appends op, joining it to an op of the same kind before it,
// or to the op of the same kind just before an op of the other changing
// kind (Delete, Insert, Delete → Delete, Insert).
func appendOp(ops []Op, op Op) []Op {
	n := len(ops)
	switch {
	case n > 0 && ops[n-1].Kind == op.Kind:
		ops[n-1].A += op.A
		ops[n-1].B += op.B
		return ops
	case op.Kind != Equal && n > 1 && ops[n-1].Kind != Equal && ops[n-2].Kind == op.Kind:
		ops[n-2].A += op.A
		ops[n-2].B += op.B
		return ops
	}
	return append(ops, op)
}

func mergeAdjacent(ops []Op) []Op {
	out := ops[:0]
	for _, op := range ops {
		if n := len(out); n > 0 && out[n-1].Kind == op.Kind {
			out[n-1].A += op.A
			out[n-1].B += op.B
			continue
		}
		out = append(out, op)
	}
	return out
}

// Old is the first text, rebuilt from ops.
func Old(ops []Op) string {
	var b strings.Builder
	for _, op := range ops {
		b.WriteString(op.A)
	}
	return b.String()
}

// New is the second text, rebuilt from ops.
func New(ops []Op) string {
	var b strings.Builder
	for _, op := range ops {
		b.WriteString(op.B)
	}
	return b.String()
}

// Stats counts the words deleted and inserted (for a line diff too).
func Stats(ops []Op) (deleted, inserted int) {
	for _, op := range ops {
		switch op.Kind {
		case Delete:
			deleted += len(strings.Fields(op.A))
		case Insert:
			inserted += len(strings.Fields(op.B))
		}
	}
	return deleted, inserted
}

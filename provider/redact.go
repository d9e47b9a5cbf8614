package provider

import (
	"bytes"
	"encoding/base64"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parley-chat/parley/sanitize"
)

// minSecret is the shortest key Parley redacts; shorter strings would
// match ordinary text.
const minSecret = 4

// redacted replaces a key wherever it appears.
const redacted = "[redacted]"

// Limits of the key matcher.
const (
	// maxMarkup bounds the markup (emphasis, escapes, tags, zero-width
	// characters) one match may step over between the key's characters.
	maxMarkup = 4096
	// maxTag bounds one HTML tag or comment stepped over as markup.
	maxTag = 256
	// maxHeld bounds the text a stream holds back while it could still be
	// the start of a key. Past it, what the sanitizer removes from the held
	// text (an escape sequence of megabytes) is dropped, so that only the
	// few visible characters stay held.
	maxHeld = 64 << 10
	// minBase64 is the shortest base64 fragment of the key worth looking
	// for: shorter ones would turn up in unrelated base64 data.
	minBase64 = 8
)

// Redactor finds an API key in text however a gateway may echo it, in
// the text as the screen shows it: after the sanitizer has removed escape
// sequences, control characters and bidi overrides (which may split a key
// that the terminal then shows whole), with markdown that the renderer
// consumes between its characters (emphasis, backslash escapes, HTML tags
// and comments, zero-width characters), in any letter case, with any
// character percent-encoded (%73), written as an HTML entity (&#115;) or
// a JSON escape (\u0073), or base64-encoded (standard or URL alphabet, at
// any of the three byte offsets in a longer encoded text, padded or not).
// A Redactor is immutable and safe for concurrent use; a nil *Redactor
// (a key too short to redact) finds nothing.
type Redactor struct {
	fold   string         // the key, ASCII letters lower-cased
	first  [256]bool      // bytes that can begin a match of fold
	base64 [][]byte       // fragments that only the key's bytes encode to
	ends   [256][]fragEnd // where each byte occurs in the fragments
	marker [256]uint8     // single-byte markup the renderer may consume
}

// fragEnd is a prefix of a base64 fragment, named by the fragment and the
// prefix length.
type fragEnd struct{ frag, n int }

// NewRedactor returns a Redactor for secret, or nil when secret is too
// short to be told apart from ordinary text.
func NewRedactor(secret string) *Redactor {
	if len(secret) < minSecret {
		return nil
	}
	r := &Redactor{fold: foldASCII(secret)}
	r.first[r.fold[0]] = true
	r.first[upper(r.fold[0])] = true
	for _, c := range []byte{'%', '&', '\\'} {
		r.first[c] = true
	}
	for _, c := range []byte{'*', '_', '~', '\\'} {
		r.marker[c] = 1
	}
	seen := map[string]bool{}
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		for off := 0; off < 3; off++ {
			buf := make([]byte, off+len(secret))
			copy(buf[off:], secret)
			s := enc.EncodeToString(buf)
			// Character j holds bits [6j, 6j+6): keep those made only of
			// the key's bits [8·off, 8·(off+n)).
			from, to := (8*off+5)/6, 8*(off+len(secret))/6
			if frag := s[from:to]; len(frag) >= minBase64 && !seen[frag] {
				seen[frag] = true
				fb := []byte(frag)
				for k := 1; k < len(frag); k++ {
					r.ends[frag[k-1]] = append(r.ends[frag[k-1]], fragEnd{len(r.base64), k})
				}
				r.base64 = append(r.base64, fb)
			}
		}
	}
	return r
}

// Clean returns s with every occurrence of the key replaced by
// "[redacted]", together with whatever the sanitizer would remove from
// inside it.
func (r *Redactor) Clean(s string) string {
	if r == nil || s == "" {
		return s
	}
	show, _ := r.Filter(s, true)
	return show
}

// Filter is Clean for text that arrives in pieces: it returns what of s
// can be shown now, redacted, and the tail to hold back and put in front
// of the next piece because it could be the start of the key (or of an
// escape sequence). final releases everything. Showing each piece's show
// gives the same text as cleaning the whole at once, except that a held
// tail longer than maxHeld loses what the sanitizer would remove from it.
func (r *Redactor) Filter(s string, final bool) (show, held string) {
	if r == nil {
		return s, ""
	}
	edits, hold := r.scan(s, final, new(scratch))
	startsIn := func(base int) func(int) bool {
		return func(i int) bool { return edits[i].from >= base }
	}
	return applyEdits(s[:hold], edits, 0, startsIn(0)), applyEdits(s[hold:], edits, hold, startsIn(hold))
}

// edit replaces raw bytes [from, to) of a scanned text: with the marker
// (a match of the key), or with what the sanitizer keeps of them (a held
// tail grown past maxHeld).
type edit struct {
	from, to int
	redact   bool
}

// applyEdits applies the edits that fall in s, which starts at offset
// base of the scanned text. mark says whether the marker of redaction
// edit i goes in this piece (a match split over pieces shows it once).
func applyEdits(s string, edits []edit, base int, mark func(i int) bool) string {
	var b strings.Builder
	at := 0
	for i, e := range edits {
		from, to := max(e.from-base, 0), min(e.to-base, len(s))
		if from >= to {
			continue
		}
		b.WriteString(s[at:from])
		if !e.redact {
			b.WriteString(sanitize.Text(s[from:to]))
		} else if mark(i) {
			b.WriteString(redacted)
		}
		at = to
	}
	if at == 0 {
		return s
	}
	b.WriteString(s[at:])
	return b.String()
}

// scratch holds a scan's working memory, kept between the scans of one
// stream so that scanning a delta costs no allocation.
type scratch struct {
	vis      []byte // the text as the screen shows it (see project)
	gaps     []gap
	found    []span
	partials []int // where a match may begin that the text so far cannot decide
	edits    []edit
}

// gap says that vis from offset vis on continues the raw text at raw.
type gap struct{ vis, raw int }

// span is a match in vis.
type span struct{ a, b int }

// project fills sc.vis with what the sanitizer keeps of s (an invalid
// byte as NUL, which no key contains) and sc.gaps with the removed units
// that map vis offsets back to s. It returns the offset of s from which
// the text is incomplete: an escape sequence or UTF-8 character that the
// next piece may finish (len(s) when none).
func (sc *scratch) project(s string) int {
	sc.vis, sc.gaps = sc.vis[:0], sc.gaps[:0]
	copied := 0 // bytes of s before this offset are in vis
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f || c == '\n' || c == '\t' {
			i++
			continue
		}
		n, complete := sanitize.Removed(s, i)
		if n > 0 && !complete {
			sc.vis = append(sc.vis, s[copied:i]...)
			return i
		}
		if n > 0 {
			sc.vis = append(sc.vis, s[copied:i]...)
			i += n
			copied = i
			sc.gaps = append(sc.gaps, gap{len(sc.vis), i})
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			if !utf8.FullRuneInString(s[i:]) {
				sc.vis = append(sc.vis, s[copied:i]...)
				return i
			}
			sc.vis = append(append(sc.vis, s[copied:i]...), 0)
			copied = i + 1
		}
		i += size
	}
	sc.vis = append(sc.vis, s[copied:]...)
	return len(s)
}

// raw is the offset in s of vis byte k.
func (sc *scratch) raw(k int) int {
	i := sort.Search(len(sc.gaps), func(i int) bool { return sc.gaps[i].vis > k })
	if i == 0 {
		return k
	}
	g := sc.gaps[i-1]
	return g.raw + k - g.vis
}

// scan finds the key in s. It returns the edits that redact it and the
// offset of s from which s must be held back (len(s) when final). The
// edits live in sc until its next scan.
func (r *Redactor) scan(s string, final bool, sc *scratch) ([]edit, int) {
	tail := sc.project(s)
	vis := sc.vis
	sc.found, sc.partials, sc.edits = sc.found[:0], sc.partials[:0], sc.edits[:0]
	for i := 0; i < len(vis); i++ {
		if !r.first[vis[i]] {
			continue
		}
		end, partial := r.matchAt(vis, i)
		if end >= 0 {
			sc.found = append(sc.found, span{i, end})
			i = end - 1
			continue
		}
		if partial && !final {
			sc.partials = append(sc.partials, i)
			break
		}
	}
	for _, frag := range r.base64 {
		for at := 0; ; {
			k := bytes.Index(vis[at:], frag)
			if k < 0 {
				break
			}
			sc.found = append(sc.found, span{at + k, at + k + len(frag)})
			at += k + len(frag)
		}
	}
	if !final && len(vis) > 0 {
		for _, e := range r.ends[vis[len(vis)-1]] {
			if e.n <= len(vis) && bytes.HasSuffix(vis, r.base64[e.frag][:e.n]) {
				sc.partials = append(sc.partials, len(vis)-e.n)
			}
		}
	}
	// A match found whole stands; only what may begin after it is held.
	matched := 0
	for _, f := range sc.found {
		matched = max(matched, f.b)
	}
	hold := len(s)
	if !final {
		hold = tail
		holdVis := len(vis)
		for _, p := range sc.partials {
			if p >= matched {
				holdVis = min(holdVis, p)
			}
		}
		if holdVis < len(vis) {
			hold = sc.raw(holdVis)
		}
	}
	if len(sc.found) > 1 {
		slices.SortFunc(sc.found, func(x, y span) int { return x.a - y.a })
	}
	for _, f := range sc.found {
		from, to := sc.raw(f.a), sc.raw(f.b-1)+1
		if n := len(sc.edits); n > 0 && from < sc.edits[n-1].to {
			sc.edits[n-1].to = max(sc.edits[n-1].to, to)
			continue
		}
		sc.edits = append(sc.edits, edit{from: from, to: to, redact: true})
	}
	if len(s)-hold > maxHeld {
		sc.edits = append(sc.edits, edit{from: hold, to: len(s)})
	}
	return sc.edits, hold
}

// state is the outcome of reading one encoded character or markup.
type state int

const (
	none       state = iota // not there
	ok                      // read
	incomplete              // the text ends before it can be told
)

// matchAt matches the key at vis[i:]: the end of the match, or -1 with
// partial set when vis ended before the match could be decided.
func (r *Redactor) matchAt(vis []byte, i int) (end int, partial bool) {
	j, markup := i, 0
	for k := 0; k < len(r.fold); {
		if j >= len(vis) {
			return -1, true
		}
		want := r.fold[k]
		if lower(vis[j]) == want {
			j, k = j+1, k+1
			continue
		}
		b, w, st := decodeChar(vis[j:])
		if st == ok && lower(b) == want {
			j, k = j+w, k+1
			continue
		}
		if st == incomplete {
			return -1, true
		}
		if k > 0 {
			w, st := r.markupAt(vis[j:])
			if st == incomplete {
				return -1, true
			}
			if st == ok && markup+w <= maxMarkup {
				j, markup = j+w, markup+w
				continue
			}
		}
		return -1, false
	}
	return j, false
}

// decodeChar reads one ASCII character written as %XX, &#DDD;, &#xHH; or
// \uXXXX at the start of s.
func decodeChar(s []byte) (byte, int, state) {
	switch s[0] {
	case '%':
		return hexChar(s, 1, 2)
	case '\\':
		if len(s) > 1 && s[1] != 'u' {
			return 0, 0, none
		}
		return hexChar(s, 2, 4)
	case '&':
		if len(s) > 1 && s[1] != '#' {
			return 0, 0, none
		}
		if len(s) > 2 && (s[2] == 'x' || s[2] == 'X') {
			return entity(s, 3, 16)
		}
		return entity(s, 2, 10)
	}
	return 0, 0, none
}

// hexChar reads exactly digits hex digits at s[at:].
func hexChar(s []byte, at, digits int) (byte, int, state) {
	v := 0
	for k := 0; k < digits; k++ {
		if at+k >= len(s) {
			return 0, 0, incomplete
		}
		d := digit(s[at+k], 16)
		if d < 0 {
			return 0, 0, none
		}
		v = v*16 + d
	}
	if v >= utf8.RuneSelf {
		return 0, 0, none
	}
	return byte(v), at + digits, ok
}

// entity reads the digits and ';' of a numeric character reference.
func entity(s []byte, at, base int) (byte, int, state) {
	v, n := 0, 0
	for j := at; j < len(s) && j < at+8; j++ {
		if s[j] == ';' {
			if n == 0 || v >= utf8.RuneSelf {
				return 0, 0, none
			}
			return byte(v), j + 1, ok
		}
		d := digit(s[j], base)
		if d < 0 {
			return 0, 0, none
		}
		v, n = v*base+d, n+1
		if v >= 1<<16 {
			return 0, 0, none
		}
	}
	if len(s) < at+8 {
		return 0, 0, incomplete
	}
	return 0, 0, none
}

func digit(c byte, base int) int {
	d := -1
	switch {
	case c >= '0' && c <= '9':
		d = int(c - '0')
	case c >= 'a' && c <= 'f':
		d = int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		d = int(c-'A') + 10
	}
	if d >= base {
		return -1
	}
	return d
}

var commentOpen, commentClose = []byte("<!--"), []byte("-->")

// markupAt reads markup at the start of s that the markdown renderer may
// consume without showing it: an emphasis or escape character, an HTML
// tag or comment, or a zero-width (format) character.
func (r *Redactor) markupAt(s []byte) (int, state) {
	if r.marker[s[0]] != 0 {
		return 1, ok
	}
	if s[0] == '<' {
		closer := []byte(">")
		if bytes.HasPrefix(s, commentOpen) {
			closer = commentClose
		} else if len(s) < len(commentOpen) && bytes.HasPrefix(commentOpen, s) {
			return 0, incomplete
		}
		if k := bytes.Index(s[1:min(len(s), maxTag)], closer); k >= 0 {
			return 1 + k + len(closer), ok
		}
		if len(s) < maxTag {
			return 0, incomplete
		}
		return 0, none
	}
	if s[0] >= utf8.RuneSelf {
		c, size := utf8.DecodeRune(s)
		if unicode.Is(unicode.Cf, c) {
			return size, ok
		}
	}
	return 0, none
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

func foldASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = lower(c)
	}
	return string(b)
}

// Guard wraps emit so that the API key never reaches a consumer, however
// a gateway echoes it (see Redactor): in an answer, in reasoning, in tool
// arguments, sources, retry messages or errors. Every dialect passes its
// events through it. Answer and reasoning deltas are watched as one
// stream, so a key split across deltas, or between reasoning and answer,
// is caught too: a tail that could begin the key is held back, and the
// events after it wait behind it, until the next delta decides or the
// stream ends (Done or Error release everything first). Order is kept.
// The returned function is not safe for concurrent use, like the emit it
// wraps.
func (t *Transport) Guard(emit func(Event)) func(Event) {
	if t.redactor == nil {
		return emit
	}
	g := &guard{r: t.redactor, emit: emit}
	return g.event
}

// guard holds back the events of a stream while its text could still
// continue into the key.
type guard struct {
	r      *Redactor
	emit   func(Event)
	queue  []queued
	keep   []queued // the other queue buffer
	sc     scratch
	marked []byte
}

// queued is a held event: answer or reasoning text, or any other event
// (ev set).
type queued struct {
	ev   Event
	kind byte // kindText or kindReasoning
	text string
}

// The kinds of held text, as bits.
const (
	kindText      byte = 1
	kindReasoning byte = 2
)

func (g *guard) event(ev Event) {
	switch e := ev.(type) {
	case TextDelta:
		g.push(kindText, e.Text)
		return
	case ReasoningDelta:
		g.push(kindReasoning, e.Text)
		return
	case ToolCallEvent:
		e.ID, e.Name, e.Arguments, e.Opaque = g.r.Clean(e.ID), g.r.Clean(e.Name), g.r.Clean(e.Arguments), g.r.Clean(e.Opaque)
		ev = e
	case ToolResult:
		e.ID, e.Name, e.Output = g.r.Clean(e.ID), g.r.Clean(e.Name), g.r.Clean(e.Output)
		ev = e
	case Source:
		e.URL, e.Title = g.r.Clean(e.URL), g.r.Clean(e.Title)
		ev = e
	case Retry:
		e.Message = g.r.Clean(e.Message)
		ev = e
	case Started:
		e.Model, e.ID, e.ChatID = g.r.Clean(e.Model), g.r.Clean(e.ID), g.r.Clean(e.ChatID)
		ev = e
	case Error:
		if e.Err != nil {
			e.Err.redactWith(g.r)
		}
	}
	switch ev.(type) {
	case Done, Error:
		g.release(true)
		g.emit(ev)
	default:
		if len(g.queue) == 0 {
			g.emit(ev)
		} else {
			g.queue = append(g.queue, queued{ev: ev})
		}
	}
}

// push adds a delta and releases what can be shown.
func (g *guard) push(kind byte, s string) {
	if n := len(g.queue); n > 0 && g.queue[n-1].ev == nil && g.queue[n-1].kind == kind {
		g.queue[n-1].text += s
	} else {
		g.queue = append(g.queue, queued{kind: kind, text: s})
	}
	g.release(false)
}

// release scans the held text and emits every event before the point
// from which it must still be held (nothing is held when final).
func (g *guard) release(final bool) {
	if len(g.queue) == 0 {
		return
	}
	all := g.queue[0].text
	if len(g.queue) > 1 {
		var buf strings.Builder
		for _, q := range g.queue {
			buf.WriteString(q.text)
		}
		all = buf.String()
	}
	edits, hold := g.r.scan(all, final, &g.sc)
	// A match that spans answer and reasoning shows its marker in both.
	g.marked = append(g.marked[:0], make([]byte, len(edits))...)
	keep := g.keep[:0]
	holding := false
	at := 0
	for _, q := range g.queue {
		end := at + len(q.text)
		switch {
		case holding:
			if q.ev == nil {
				q.text = g.piece(all, edits, q.kind, at, end)
			}
			keep = append(keep, q)
		case q.ev != nil:
			g.emit(q.ev)
		default:
			if show := g.piece(all, edits, q.kind, at, min(end, hold)); show != "" {
				g.emitText(q.kind, show)
			}
			if end > hold {
				holding = true
				keep = append(keep, queued{kind: q.kind, text: g.piece(all, edits, q.kind, max(at, hold), end)})
			}
		}
		at = end
	}
	g.keep, g.queue = g.queue[:0], keep
}

// piece returns bytes [from, to) of the scanned text with the edits
// applied, the marker of a match once per kind of text it touches.
func (g *guard) piece(all string, edits []edit, kind byte, from, to int) string {
	if len(edits) == 0 {
		return all[from:to]
	}
	return applyEdits(all[from:to], edits, from, func(i int) bool {
		if g.marked[i]&kind != 0 {
			return false
		}
		g.marked[i] |= kind
		return true
	})
}

func (g *guard) emitText(kind byte, s string) {
	if kind == kindText {
		g.emit(TextDelta{Text: s})
	} else {
		g.emit(ReasoningDelta{Text: s})
	}
}

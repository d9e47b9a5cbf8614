package markdown

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/parley-chat/parley/themes"
)

// testDocs are documents that exercise the block structures the splitter
// must respect.
var testDocs = map[string]string{
	"fences with blank lines":        "Intro paragraph.\n\n```go\nfunc a() {\n\n\treturn\n}\n\n\n// after blanks\n```\n\nAfter the code.\n\n~~~python\ndef f():\n\n    pass\n~~~\n\nEnd.\n",
	"fence with longer fence inside": "````md\n```go\n\nx := 1\n```\n\nstill code\n````\n\nDone.\n",
	"unclosed fence":                 "Text.\n\n```bash\necho hi\n\necho there\n",
	"nested lists":                   "Steps:\n\n1. First step\n   - sub a\n   - sub b\n\n     continued para in sub b\n\n2. Second step\n\n   ```sh\n   make\n\n   make test\n   ```\n\n3. Third\n\nAfter list.\n\n- x\n- y\n\n  - deep\n\n- z\n",
	"tables":                         "| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n\nText between.\n\n| longer header | x |\n|:--|--:|\n| `code` | **b** |\n",
	"setext headings":                "Title\n=====\n\nSome text\nmore text\n\nSub title\n---------\n\nParagraph.\n\n---\n\nAfter rule.\n",
	"html blocks":                    "<div>\n<b>bold</b>\n</div>\n\nText.\n\n<!-- a comment\n\nspanning blank lines\n-->\n\nAfter comment.\n\n<pre>\npre text\n\nmore pre\n</pre>\n\nEnd.\n",
	"blockquotes":                    "> quote one\n> still one\n\n> quote two\n\n> ```go\n> x := 1\n> ```\n\nPlain.\n",
	"hostile":                        "Hello \x1b[31mred\x1b[0m world\x1b]0;pwned\x07.\n\n\x1b]52;c;cm0gLXJmIH4=\x07Clipboard?\n\n```sh\necho \x1b[2J\x1b[H cleared\u009b31m\n```\n\nBidi \u202eevil\u202c text\r\nwith CR.\n\n\x1bP+q\x1b\\DCS\n",
	"refdefs":                        "See [the docs][d] and [more][m].\n\n```go\nx\n```\n\n[d]: https://example.com/docs\n[m]: https://example.com/more\n",
	"definition list":                "Term\n\n: Definition one\n\nOther term\n: Definition two\n\nParagraph.\n",
	"headings and emphasis":          "# Title\n\n## Section **bold**\n\nSome *emphasis*, `code`, ~~strike~~ and a [link](https://example.com).\n\n### Sub\n\n- [ ] task\n- [x] done\n",
	"code in blockquote and list":    "- item\n\n  ```python\n  print(1)\n  ```\n\n> ```\n> quoted code\n> ```\n",
	"no trailing newline":            "Para one.\n\nPara two without newline",
	"empty":                          "",
	"only blank":                     "\n\n  \n",
	"indented code":                  "Text.\n\n    indented code\n\n    more indented\n\nText again.\n",
}

// quick reports whether property tests take smaller inputs: under the race
// detector (which slows rendering about tenfold) and in -short mode. The
// normal run keeps the full inputs.
func quick() bool { return raceEnabled || testing.Short() }

func testRenderer(t testing.TB, width int, theme string) *Renderer {
	t.Helper()
	th, err := themes.Lookup(theme, true)
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(width, th)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// allDocs returns testDocs and generated answers: three of 5 KB, or one
// of 2 KB in quick mode.
func allDocs() map[string]string {
	docs := map[string]string{}
	for k, v := range testDocs {
		docs[k] = v
	}
	n, size := 3, 5<<10
	if quick() {
		n, size = 1, 2<<10
	}
	for i := range n {
		docs["generated "+string(rune('a'+i))] = genDoc(size, uint64(i+10))
	}
	return docs
}

// checkPrefix reports whether done is a finished-piece prefix of full.
func checkPrefix(done, full string) bool {
	return done == "" || done == full || strings.HasPrefix(full, done+"\n\n")
}

func TestStreamMatchesRender(t *testing.T) {
	keep := keepCleanBytes
	defer func() { keepCleanBytes = keep }()
	widths := []int{80, 33}
	if quick() {
		widths = []int{33}
	}
	for _, width := range widths {
		r := testRenderer(t, width, "dark")
		for name, doc := range allDocs() {
			want, wantN := r.Render(doc, 3)
			deltas := []int{1, 3, 7, 20, 64, 300}
			if quick() {
				deltas = []int{1, 7, 64}
			}
			for trial, maxDelta := range deltas {
				rng := rand.New(rand.NewPCG(uint64(trial), uint64(len(doc))))
				// Odd trials also drop the clean text as soon as it is
				// rendered.
				if trial%2 == 1 {
					keepCleanBytes = 0
				}
				s := NewStream(r, 3)
				// About 120 views per run (40 in quick mode), at random
				// points.
				views := 120
				if quick() {
					views = 40
				}
				appends := max(1, 2*len(doc)/(1+maxDelta))
				var lastDone []string
				lastEpoch := 0
				for i := 0; i < len(doc); {
					n := 1 + rng.IntN(maxDelta)
					// Odd trials hand the stream the whole text so far.
					if trial%2 == 1 {
						s.SetSource(doc[:min(i+n, len(doc))])
					} else {
						s.Append(doc[i:min(i+n, len(doc))])
					}
					i += n
					if rng.IntN(appends) < views {
						done, tail, epoch := s.Parts()
						v := s.View()
						if s.Dirty() {
							t.Fatalf("%s: dirty after View", name)
						}
						if joinParts(done, tail) != v {
							t.Fatalf("%s: Parts joined differ from View", name)
						}
						// Within an epoch the finished pieces only grow.
						if epoch == lastEpoch {
							if len(done) < len(lastDone) {
								t.Fatalf("%s: %d finished pieces after %d in the same epoch", name, len(done), len(lastDone))
							}
							for k := range lastDone {
								if done[k] != lastDone[k] {
									t.Fatalf("%s: finished piece %d changed", name, k)
								}
							}
						}
						lastDone, lastEpoch = done, epoch
						// A link reference definition can change earlier
						// blocks, so no prefix is final before it arrives.
						if name != "refdefs" && !checkPrefix(joinParts(s.done.list, ""), want) {
							t.Fatalf("%s (width %d, trial %d): finished prefix after %d bytes is not a prefix of the full render\nprefix:\n%q\nfull:\n%q",
								name, width, trial, i, joinParts(s.done.list, ""), want)
						}
						if !strings.HasPrefix(v, joinParts(s.done.list, "")) {
							t.Fatalf("%s: view does not start with the finished prefix", name)
						}
					}
				}
				if s.Source() != doc {
					t.Fatalf("%s: Source() differs from the appended text", name)
				}
				got := s.Finish()
				if got != want {
					t.Fatalf("%s (width %d, trial %d): Finish differs from Render\ngot:\n%q\nwant:\n%q", name, width, trial, got, want)
				}
				if s.View() != want || s.Blocks() != wantN {
					t.Fatalf("%s: View after Finish differs from Render (blocks %d, want %d)", name, s.Blocks(), wantN)
				}
				keepCleanBytes = keep
			}
		}
	}
}

func TestStreamAppendAfterFinish(t *testing.T) {
	r := testRenderer(t, 60, "dark")
	s := NewStream(r, 1)
	s.Append("Para one.\n\nPara")
	s.View()
	s.Finish()
	s.Append(" two.\n\n# Heading\n\ntext")
	if !s.Dirty() {
		t.Fatal("not dirty after Append")
	}
	want, _ := r.Render(s.Source(), 1)
	if got := s.View(); got != want {
		t.Fatalf("View after more text:\n%q\nwant\n%q", got, want)
	}
	if got := s.Finish(); got != want {
		t.Fatalf("second Finish:\n%q\nwant\n%q", got, want)
	}
}

func TestStreamSetRenderer(t *testing.T) {
	keep := keepCleanBytes
	keepCleanBytes = 0 // the renderer change must make the dropped text again
	defer func() { keepCleanBytes = keep }()
	doc := testDocs["nested lists"] + testDocs["fences with blank lines"]
	r1 := testRenderer(t, 80, "dark")
	r2 := testRenderer(t, 40, "light")
	s := NewStream(r1, 1)
	s.Append(doc[:len(doc)/2])
	s.View()
	s.SetRenderer(r2)
	if !s.Dirty() {
		t.Fatal("SetRenderer did not mark the stream dirty")
	}
	s.Append(doc[len(doc)/2:])
	s.View()
	want, _ := r2.Render(doc, 1)
	if !checkPrefix(joinParts(s.done.list, ""), want) {
		t.Fatal("finished prefix after SetRenderer is not a prefix of the new render")
	}
	if got := s.Finish(); got != want {
		t.Fatalf("Finish after SetRenderer differs from Render with the new renderer")
	}
}

func TestStreamViewCachesWhenClean(t *testing.T) {
	r := testRenderer(t, 60, "dark")
	s := NewStream(r, 1)
	s.Append("# Title\n\nSome text.\n")
	v1 := s.View()
	if n := testing.AllocsPerRun(10, func() { _ = s.View() }); n != 0 {
		t.Errorf("View without new text allocated %v times", n)
	}
	if s.View() != v1 {
		t.Fatal("cached view changed")
	}
}

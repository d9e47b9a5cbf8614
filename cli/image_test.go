package cli

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInlineImageProtocols(t *testing.T) {
	data := bytes.Repeat([]byte{0x89, 'P', 'N', 'G'}, 2000) // 8000 bytes → 10668 base64 chars
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	kitty := inlineImage(env("TERM", "xterm-kitty"), data)
	if !strings.HasPrefix(kitty, "\x1b_Gf=100,a=T,m=1;") || strings.Count(kitty, "\x1b_G") != 3 ||
		!strings.HasSuffix(kitty, "\x1b\\") || !strings.Contains(kitty, "\x1b_Gm=0;") {
		t.Errorf("kitty sequence framing wrong: %q…", kitty[:40])
	}
	if inlineImage(env("KITTY_WINDOW_ID", "3"), data) != kitty {
		t.Errorf("KITTY_WINDOW_ID not recognised")
	}
	iterm := inlineImage(env("TERM_PROGRAM", "WezTerm"), data)
	if !strings.HasPrefix(iterm, "\x1b]1337;File=inline=1;size=8000;") || !strings.HasSuffix(iterm, "\a") {
		t.Errorf("iTerm2 sequence wrong: %q…", iterm[:40])
	}
	if inlineImage(env("TERM", "xterm-256color"), data) != "" {
		t.Errorf("an unknown terminal got an image sequence")
	}
}

func TestImageExtAndUniqueNames(t *testing.T) {
	var b bytes.Buffer
	png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1)))
	if ext, err := imageExt(b.Bytes()); err != nil || ext != ".png" {
		t.Errorf("png: %q %v", ext, err)
	}
	if _, err := imageExt(append([]byte("\x89PNG\r\n\x1a\n"), "garbage"...)); err == nil {
		t.Errorf("a corrupt PNG was accepted")
	}
	if _, err := imageExt([]byte("<html>not an image</html>")); err == nil {
		t.Errorf("HTML was accepted as an image")
	}
	dir := t.TempDir()
	p1, err1 := writeUnique(dir, "img", ".png", []byte("one"))
	p2, err2 := writeUnique(dir, "img", ".png", []byte("two"))
	if err1 != nil || err2 != nil || p1 == p2 || filepath.Base(p2) != "img-2.png" {
		t.Fatalf("%s %s %v %v", p1, p2, err1, err2)
	}
	if got, _ := os.ReadFile(p1); string(got) != "one" {
		t.Errorf("first file overwritten: %q", got)
	}
}

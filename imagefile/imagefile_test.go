package imagefile

import (
	"bytes"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/provider"
)

func env(kv ...string) func(string) string {
	return func(k string) string {
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i] == k {
				return kv[i+1]
			}
		}
		return ""
	}
}

func TestInlineProtocols(t *testing.T) {
	data := bytes.Repeat([]byte{0x89, 'P', 'N', 'G'}, 2000) // 8000 bytes → 10668 base64 chars
	kitty := Inline(env("TERM", "xterm-kitty"), data)
	if !strings.HasPrefix(kitty, "\x1b_Gf=100,a=T,m=1;") || strings.Count(kitty, "\x1b_G") != 3 ||
		!strings.HasSuffix(kitty, "\x1b\\") || !strings.Contains(kitty, "\x1b_Gm=0;") {
		t.Errorf("kitty sequence framing wrong: %q…", kitty[:40])
	}
	if Inline(env("KITTY_WINDOW_ID", "3"), data) != kitty {
		t.Errorf("KITTY_WINDOW_ID not recognised")
	}
	iterm := Inline(env("TERM_PROGRAM", "WezTerm"), data)
	if !strings.HasPrefix(iterm, "\x1b]1337;File=inline=1;size=8000;") || !strings.HasSuffix(iterm, "\a") {
		t.Errorf("iTerm2 sequence wrong: %q…", iterm[:40])
	}
	if Inline(env("TERM", "xterm-256color"), data) != "" {
		t.Errorf("an unknown terminal got an image sequence")
	}
}

func TestExtAndUniqueNames(t *testing.T) {
	var b bytes.Buffer
	png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1)))
	if ext, err := Ext(b.Bytes()); err != nil || ext != ".png" {
		t.Errorf("png: %q %v", ext, err)
	}
	var j bytes.Buffer
	jpeg.Encode(&j, image.NewGray(image.Rect(0, 0, 2, 2)), nil)
	if ext, err := Ext(j.Bytes()); err != nil || ext != ".jpg" {
		t.Errorf("jpeg: %q %v", ext, err)
	}
	if _, err := Ext(append([]byte("\x89PNG\r\n\x1a\n"), "garbage"...)); err == nil {
		t.Errorf("a corrupt PNG was accepted")
	}
	if _, err := Ext([]byte("<html>not an image</html>")); err == nil {
		t.Errorf("HTML was accepted as an image")
	}
	if _, err := Ext(nil); err == nil {
		t.Errorf("an empty image was accepted")
	}
	dir := t.TempDir()
	p1, err1 := WriteUnique(dir, "img", ".png", []byte("one"))
	p2, err2 := WriteUnique(dir, "img", ".png", []byte("two"))
	if err1 != nil || err2 != nil || p1 == p2 || filepath.Base(p2) != "img-2.png" {
		t.Fatalf("%s %s %v %v", p1, p2, err1, err2)
	}
	if got, _ := os.ReadFile(p1); string(got) != "one" {
		t.Errorf("first file overwritten: %q", got)
	}
	if _, err := WriteUnique(filepath.Join(dir, "missing"), "img", ".png", []byte("x")); err == nil {
		t.Errorf("writing into a missing folder succeeded")
	}
}

func TestBaseName(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	if got := BaseName(at, 2); got != "parley-20260304-050607-2" {
		t.Errorf("BaseName = %q", got)
	}
}

func TestDefaultDir(t *testing.T) {
	home := t.TempDir()
	pics := filepath.Join(t.TempDir(), "pics")
	cases := []struct {
		name string
		env  func(string) string
		want string
	}{
		{"xdg wins", env("XDG_PICTURES_DIR", pics, "HOME", home), filepath.Join(pics, "parley")},
		{"relative xdg ignored, no ~/Pictures", env("XDG_PICTURES_DIR", "pics", "HOME", home), "."},
		{"no home", env(), "."},
	}
	for _, c := range cases {
		if got := DefaultDir(c.env); got != c.want {
			t.Errorf("%s: DefaultDir = %q, want %q", c.name, got, c.want)
		}
	}
	// Once ~/Pictures exists it is used.
	if err := os.Mkdir(filepath.Join(home, "Pictures"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, want := DefaultDir(env("HOME", home)), filepath.Join(home, "Pictures", "parley"); got != want {
		t.Errorf("with ~/Pictures: %q, want %q", got, want)
	}
	// A file named Pictures is not a folder.
	home2 := t.TempDir()
	os.WriteFile(filepath.Join(home2, "Pictures"), nil, 0o644)
	if got := DefaultDir(env("HOME", home2)); got != "." {
		t.Errorf("a Pictures file was taken for a folder: %q", got)
	}
}

// TestSave: the one function /image and parley image save with writes
// each image under a fresh name with its own extension, stops at the
// first one that is not an image, and keeps what it saved before it.
func TestSave(t *testing.T) {
	var p, j bytes.Buffer
	png.Encode(&p, image.NewGray(image.Rect(0, 0, 1, 1)))
	jpeg.Encode(&j, image.NewGray(image.Rect(0, 0, 1, 1)), nil)
	dir := filepath.Join(t.TempDir(), "new", "folder")
	if err := MakeDir(dir); err != nil {
		t.Fatal(err)
	}
	stamp := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	// A file with the first image's name already exists: it is kept.
	if err := os.WriteFile(filepath.Join(dir, BaseName(stamp, 1)+".png"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	imgs := []provider.Image{
		{Data: p.Bytes(), RevisedPrompt: "a grey dot"},
		{Data: j.Bytes()},
		{Data: []byte("<html>not an image</html>")},
		{Data: p.Bytes()},
	}
	saved, err := Save(dir, stamp, imgs)
	if err == nil || !strings.HasPrefix(err.Error(), "image 3: ") {
		t.Errorf("err = %v, want one naming image 3", err)
	}
	if len(saved) != 2 {
		t.Fatalf("saved %+v", saved)
	}
	if saved[0].Path != filepath.Join(dir, BaseName(stamp, 1)+"-2.png") || saved[0].Ext != ".png" ||
		saved[0].Image.RevisedPrompt != "a grey dot" {
		t.Errorf("first %+v", saved[0])
	}
	if saved[1].Path != filepath.Join(dir, BaseName(stamp, 2)+".jpg") || saved[1].Ext != ".jpg" {
		t.Errorf("second %+v", saved[1])
	}
	for _, s := range saved {
		if got, err := os.ReadFile(s.Path); err != nil || !bytes.Equal(got, s.Image.Data) {
			t.Errorf("%s: %v", s.Path, err)
		}
	}
	if mine, _ := os.ReadFile(filepath.Join(dir, BaseName(stamp, 1)+".png")); string(mine) != "mine" {
		t.Error("an existing file was overwritten")
	}
	if err := MakeDir(filepath.Join(dir, BaseName(stamp, 2)+".jpg", "sub")); err == nil || !strings.Contains(err.Error(), "cannot create the image folder") {
		t.Errorf("MakeDir under a file: %v", err)
	}
}

func TestDescribeDir(t *testing.T) {
	home := t.TempDir()
	elsewhere := t.TempDir()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	// No ~/Pictures: the chat saves in the working directory, and says so.
	noPics := env("HOME", home)
	if got, want := DescribeDir("", noPics), "the current directory ("+wd+")"; got != want {
		t.Errorf("no Pictures: %q, want %q", got, want)
	}
	if err := os.Mkdir(filepath.Join(home, "Pictures"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := DescribeDir("", noPics); got != "~/Pictures/parley" {
		t.Errorf("with ~/Pictures: %q", got)
	}
	xdg := env("HOME", home, "XDG_PICTURES_DIR", elsewhere)
	if got, want := DescribeDir("", xdg), filepath.Join(elsewhere, "parley"); got != want {
		t.Errorf("XDG_PICTURES_DIR: %q, want %q", got, want)
	}
	// A configured folder is described as given, made absolute.
	if got := DescribeDir(filepath.Join(home, "art"), xdg); got != "~/art" {
		t.Errorf("configured: %q", got)
	}
	if got := DescribeDir(".", env("HOME", wd)); got != "the current directory (~)" {
		t.Errorf("home as working directory: %q", got)
	}
	// A sibling of the home directory whose name starts like it is not
	// under it.
	if got := DescribeDir(home+"x", noPics); got != home+"x" {
		t.Errorf("sibling: %q", got)
	}
}
